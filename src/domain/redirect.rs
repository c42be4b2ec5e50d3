//! Which `next` targets a redirect may follow: paths on this site only, so that a link such
//! as `/admin/login?next=…` or `/lang/vi?next=…` can never send a visitor elsewhere.

/// True for a path on this site: one `/` followed by a path character (or nothing), and
/// nothing but visible ASCII after it. Refuses `//evil.example` and `/\evil.example`
/// (browsers read both as another host), absolute URLs, and control characters or spaces,
/// which browsers strip before parsing, so that `/\t/evil.example` would become
/// `//evil.example`.
pub fn is_local_path(s: &str) -> bool {
    let bytes = s.as_bytes();
    bytes.first() == Some(&b'/')
        && bytes.get(1).is_none_or(|&b| is_path_char(b))
        && bytes.iter().all(|&b| b.is_ascii_graphic() && b != b'\\')
}

/// A character that may begin a path segment (RFC 3986 `pchar`: unreserved, percent
/// sign, sub-delimiters, `:` and `@`).
fn is_path_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-._~%!$&'()*+,;=:@".contains(&b)
}

#[cfg(test)]
mod tests {
    use super::is_local_path;

    #[test]
    fn paths_on_this_site_are_accepted() {
        assert!(is_local_path("/"));
        assert!(is_local_path("/admin"));
        assert!(is_local_path("/admin/rounds/1?x=y"));
        assert!(is_local_path("/admin?x=1"));
        assert!(is_local_path("/r/abc%20def#part"));
    }

    #[test]
    fn other_hosts_are_refused() {
        assert!(!is_local_path(""));
        assert!(!is_local_path("admin"));
        assert!(!is_local_path("//evil.example/"));
        assert!(!is_local_path("https://evil.example/"));
        assert!(!is_local_path("/\\evil.example"));
        assert!(!is_local_path("/admin\\..\\evil"));
    }

    #[test]
    fn control_characters_and_spaces_are_refused() {
        // `/%09/evil.example` in a query string arrives decoded as a tab.
        assert!(!is_local_path("/\t/evil.example"));
        assert!(!is_local_path("/\n/evil.example"));
        assert!(!is_local_path("/ /evil.example"));
        assert!(!is_local_path("/admin\r\nSet-Cookie: x=y"));
        assert!(!is_local_path("/admin\u{0}"));
        assert!(!is_local_path("/ádmin"));
    }
}
