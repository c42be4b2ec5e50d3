//! Prometheus metrics: request counts and latencies by route, and database pool usage; and
//! who may read them (they show submission and login activity).

use std::net::IpAddr;

use actix_web::http::Method;
use hmac::digest::CtOutput;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use sha2::{Digest, Sha256};

use crate::db::DbPool;

/// The `method` label of every method that is not a standard one: a client may send any
/// string as its method, and each distinct one would otherwise be a new series.
pub const OTHER_METHOD: &str = "OTHER";

/// The `route` label of requests that matched no route: the raw path would leak codes and
/// grow without bound.
pub const UNMATCHED_ROUTE: &str = "unmatched";

/// The label of a request method: the standard methods by name, anything else [`OTHER_METHOD`].
pub fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        Method::OPTIONS => "OPTIONS",
        Method::CONNECT => "CONNECT",
        Method::TRACE => "TRACE",
        _ => OTHER_METHOD,
    }
}

/// Whether a request may read `/metrics`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Show the metrics.
    Allowed,
    /// A token is configured and the request did not present it.
    TokenRequired,
    /// No token is configured and the client is not on this machine: as if there were no
    /// such page.
    Hidden,
}

/// Who may read the metrics: with `expected` (the configured token) set, whoever presents it
/// as a bearer token; without one, only loopback clients (a Prometheus on the same host or
/// reaching it through an SSH tunnel). `client` is the address from
/// [`crate::routes::client_ip`], so a request relayed by a local reverse proxy counts as the
/// remote client it came from.
pub fn access(client: &str, presented: Option<&str>, expected: Option<&str>) -> Access {
    match expected {
        Some(expected) if presented.is_some_and(|p| same_token(p, expected)) => Access::Allowed,
        Some(_) => Access::TokenRequired,
        None if client.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback()) => Access::Allowed,
        None => Access::Hidden,
    }
}

/// Compares two tokens in constant time: their SHA-256 digests are compared with `subtle`'s
/// constant-time equality (through `digest::CtOutput`), so neither the length nor a matching
/// prefix shows in the time taken.
fn same_token(presented: &str, expected: &str) -> bool {
    CtOutput::<Sha256>::new(Sha256::digest(presented.as_bytes()))
        == CtOutput::<Sha256>::new(Sha256::digest(expected.as_bytes()))
}

/// Labels of a request: the route *pattern* (e.g. `/s/{code}`), never the raw path, so codes
/// and tokens stay out of metrics and the label set stays small.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    /// HTTP method.
    pub method: String,
    /// Matched route pattern, or `unmatched`.
    pub route: String,
    /// Status code.
    pub status: u16,
}

/// Labels for latency: method and route only (statuses would multiply the buckets).
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabels {
    /// HTTP method.
    pub method: String,
    /// Matched route pattern, or `unmatched`.
    pub route: String,
}

/// The registry and the metrics the middleware updates.
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Family<RouteLabels, Histogram>,
    pool_connections: Gauge,
    pool_idle: Gauge,
    pool_max: Gauge,
}

fn latency_histogram() -> Histogram {
    // 0.25 ms to about 8 s.
    Histogram::new(exponential_buckets(0.000_25, 2.0, 16))
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("khaosat");
        let requests = Family::<RequestLabels, Counter>::default();
        let latency = Family::<RouteLabels, Histogram>::new_with_constructor(
            latency_histogram as fn() -> Histogram,
        );
        let pool_connections = Gauge::default();
        let pool_idle = Gauge::default();
        let pool_max = Gauge::default();
        registry.register(
            "http_requests",
            "HTTP requests by route and status",
            requests.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "HTTP request latency by route",
            latency.clone(),
        );
        registry.register(
            "db_pool_connections",
            "Open database connections",
            pool_connections.clone(),
        );
        registry.register(
            "db_pool_idle",
            "Idle database connections",
            pool_idle.clone(),
        );
        registry.register(
            "db_pool_max",
            "Maximum database connections",
            pool_max.clone(),
        );
        Self {
            registry,
            requests,
            latency,
            pool_connections,
            pool_idle,
            pool_max,
        }
    }
}

impl Metrics {
    /// Records one finished request. `route` is the matched route pattern (`None`: no route
    /// matched); neither it nor the method can add labels beyond the route table and the
    /// standard methods.
    pub fn observe(&self, method: &Method, route: Option<&str>, status: u16, seconds: f64) {
        let method = method_label(method);
        let route = route.unwrap_or(UNMATCHED_ROUTE);
        self.requests
            .get_or_create(&RequestLabels {
                method: method.to_owned(),
                route: route.to_owned(),
                status,
            })
            .inc();
        self.latency
            .get_or_create(&RouteLabels {
                method: method.to_owned(),
                route: route.to_owned(),
            })
            .observe(seconds);
    }

    /// The Prometheus text exposition, with pool gauges read now.
    pub fn render(&self, pool: &DbPool) -> Result<String, std::fmt::Error> {
        let state = pool.state();
        self.pool_connections.set(i64::from(state.connections));
        self.pool_idle.set(i64::from(state.idle_connections));
        self.pool_max.set(i64::from(pool.max_size()));
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &self.registry)?;
        Ok(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invented_methods_share_one_label() {
        let long = Method::from_bytes("PROBE".repeat(1000).as_bytes()).unwrap();
        assert_eq!(method_label(&long), OTHER_METHOD);
        assert_eq!(
            method_label(&Method::from_bytes(b"get").unwrap()),
            OTHER_METHOD
        );
        assert_eq!(method_label(&Method::GET), "GET");
        assert_eq!(method_label(&Method::PATCH), "PATCH");
    }

    #[test]
    fn without_a_token_only_loopback_clients_read_the_metrics() {
        assert_eq!(access("127.0.0.1", None, None), Access::Allowed);
        assert_eq!(access("::1", None, None), Access::Allowed);
        assert_eq!(access("203.0.113.5", None, None), Access::Hidden);
        assert_eq!(access("unknown", None, None), Access::Hidden);
    }

    #[test]
    fn with_a_token_only_its_bearer_reads_the_metrics_from_anywhere() {
        let token = Some("scrape-token-of-the-operator");
        assert_eq!(
            access("203.0.113.5", Some("scrape-token-of-the-operator"), token),
            Access::Allowed
        );
        assert_eq!(access("127.0.0.1", None, token), Access::TokenRequired);
        assert_eq!(
            access("127.0.0.1", Some("scrape-token-of-the-operato"), token),
            Access::TokenRequired
        );
        assert_eq!(access("127.0.0.1", Some(""), token), Access::TokenRequired);
    }
}
