//! Liveness, readiness and metrics endpoints for load balancers and monitoring.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use diesel::connection::SimpleConnection;

use crate::app::metrics::{self, Access};
use crate::app::state::AppState;
use crate::error::{AppError, AppResult};

/// `GET /healthz`: the process is up. Touches nothing else, so it stays cheap under load.
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; charset=utf-8")
        .body("ok")
}

/// `GET /readyz`: the database answers. 503 otherwise, so a load balancer stops sending traffic.
pub async fn readyz(state: web::Data<AppState>) -> AppResult<HttpResponse> {
    state
        .db(|conn| {
            conn.batch_execute("SELECT 1")
                .map_err(|e| AppError::Unavailable(e.into()))
        })
        .await?;
    Ok(HttpResponse::Ok()
        .content_type("text/plain; charset=utf-8")
        .body("ready"))
}

/// `GET /metrics`: Prometheus text format, for the holder of `KHAOSAT_METRICS_TOKEN` (as a
/// bearer token) or, when none is set, for clients on this machine only (see
/// [`metrics::access`]).
pub async fn metrics(req: HttpRequest, state: web::Data<AppState>) -> AppResult<HttpResponse> {
    let presented = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim());
    let client = crate::routes::client_ip(&req, &state.settings);
    match metrics::access(&client, presented, state.settings.metrics_token.as_deref()) {
        Access::Allowed => {}
        Access::TokenRequired => {
            return Ok(HttpResponse::Unauthorized()
                .insert_header((header::WWW_AUTHENTICATE, "Bearer"))
                .finish());
        }
        Access::Hidden => return Err(AppError::NotFound),
    }
    let text = state
        .metrics
        .render(&state.pool)
        .map_err(AppError::internal)?;
    Ok(HttpResponse::Ok()
        .content_type("application/openmetrics-text; version=1.0.0; charset=utf-8")
        .body(text))
}
