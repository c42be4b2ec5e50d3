//! The client address that throttles and access rules key on, from the TCP peer and the
//! `X-Forwarded-For` chain.
//!
//! A proxy *appends* the address it received the request from, so only the rightmost entries
//! were written by proxies the operator runs; everything to their left was sent by the client
//! and may be made up. With `n` trusted proxies in front of the application, the client is the
//! `n`-th entry from the right: the one the outermost trusted proxy appended.

use std::net::{IpAddr, SocketAddr};

/// The address a request is counted against.
///
/// * `peer` — the TCP peer (the nearest proxy when there is one);
/// * `forwarded_for` — every `X-Forwarded-For` value, joined with commas in header order;
/// * `trusted_proxies` — how many proxies of the operator's own append to the header; `0`
///   ignores the header altogether.
///
/// Falls back to the peer when the chain is shorter than the trusted proxies (the request did
/// not come through all of them) or the chosen entry is not an IP address. The answer is
/// always a normalised IP address (or `unknown` without a peer), never text from the client.
pub fn client_addr(
    peer: Option<IpAddr>,
    forwarded_for: Option<&str>,
    trusted_proxies: usize,
) -> String {
    let forwarded = forwarded_for
        .filter(|_| trusted_proxies > 0)
        .and_then(|chain| chain.rsplit(',').nth(trusted_proxies - 1))
        .and_then(parse_hop);
    forwarded
        .or(peer)
        .map_or_else(|| "unknown".to_owned(), |ip| ip.to_string())
}

/// One hop of the chain: an IPv4 or IPv6 address, optionally with a port as some proxies
/// write it (`192.0.2.7:5123`, `[2001:db8::1]:5123`).
fn parse_hop(hop: &str) -> Option<IpAddr> {
    let hop = hop.trim();
    hop.parse::<IpAddr>()
        .ok()
        .or_else(|| hop.parse::<SocketAddr>().ok().map(|s| s.ip()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn peer() -> Option<IpAddr> {
        Some("10.0.0.2".parse().unwrap())
    }

    #[test]
    fn with_one_trusted_proxy_the_hop_it_appended_is_the_client() {
        assert_eq!(
            client_addr(peer(), Some("198.51.100.66, 203.0.113.5"), 1),
            "203.0.113.5"
        );
        assert_eq!(client_addr(peer(), Some("203.0.113.5"), 1), "203.0.113.5");
    }

    #[test]
    fn a_spoofed_leftmost_hop_never_decides_the_address() {
        for spoofed in ["1.1.1.1", "2.2.2.2", "garbage", "::1"] {
            let chain = format!("{spoofed}, 203.0.113.5");
            assert_eq!(client_addr(peer(), Some(&chain), 1), "203.0.113.5");
        }
    }

    #[test]
    fn with_two_trusted_proxies_the_second_hop_from_the_right_is_the_client() {
        assert_eq!(
            client_addr(peer(), Some("1.1.1.1, 203.0.113.5, 10.0.0.9"), 2),
            "203.0.113.5"
        );
    }

    #[test]
    fn too_few_hops_mean_the_peer() {
        assert_eq!(client_addr(peer(), Some("203.0.113.5"), 2), "10.0.0.2");
        assert_eq!(client_addr(peer(), None, 1), "10.0.0.2");
        assert_eq!(client_addr(peer(), Some(""), 1), "10.0.0.2");
    }

    #[test]
    fn a_hop_that_is_not_an_address_means_the_peer() {
        assert_eq!(client_addr(peer(), Some("1.1.1.1, garbage"), 1), "10.0.0.2");
        assert_eq!(client_addr(peer(), Some("1.1.1.1,"), 1), "10.0.0.2");
        let long = "x".repeat(10_000);
        assert_eq!(client_addr(peer(), Some(&long), 1), "10.0.0.2");
    }

    #[test]
    fn without_trusted_proxies_the_header_is_ignored() {
        assert_eq!(client_addr(peer(), Some("203.0.113.5"), 0), "10.0.0.2");
    }

    #[test]
    fn ports_and_ipv6_hops_are_read_and_normalised() {
        assert_eq!(
            client_addr(peer(), Some("203.0.113.5:4431"), 1),
            "203.0.113.5"
        );
        assert_eq!(
            client_addr(peer(), Some("[2001:DB8::1]:4431"), 1),
            "2001:db8::1"
        );
        assert_eq!(client_addr(peer(), Some(" 2001:db8::1 "), 1), "2001:db8::1");
    }

    #[test]
    fn no_peer_and_no_usable_header_is_unknown() {
        assert_eq!(client_addr(None, Some("nonsense"), 1), "unknown");
    }
}
