//! Liveness, readiness and metrics.

use crate::helpers::spawn_app;

#[tokio::test]
async fn healthz_answers_ok() {
    let app = spawn_app().await;
    let response = app.get("/healthz").await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.text().await.unwrap(), "ok");
}

#[tokio::test]
async fn readyz_answers_ok_when_the_database_answers() {
    let app = spawn_app().await;
    let response = app.get("/readyz").await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.text().await.unwrap(), "ready");
}

#[tokio::test]
async fn metrics_count_requests_by_route_pattern_not_raw_path() {
    let app = spawn_app().await;
    app.get("/healthz").await;
    app.get("/admin/setup/some-secret-token").await;
    let text = app.get("/metrics").await.text().await.unwrap();
    assert!(
        text.contains(
            r#"khaosat_http_requests_total{method="GET",route="/healthz",status="200"} 1"#
        ),
        "{text}"
    );
    assert!(text.contains(r#"route="/admin/setup/{token}""#), "{text}");
    assert!(!text.contains("some-secret-token"));
    assert!(text.contains("khaosat_http_request_duration_seconds_bucket"));
    assert!(text.contains("khaosat_db_pool_max"));
}

#[tokio::test]
async fn assets_are_served_with_a_long_cache_lifetime_under_a_hashed_url() {
    let app = spawn_app().await;
    let url = khaosat::views::assets::url("app.css");
    let response = app.get(&url).await;
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["cache-control"]
            .to_str()
            .unwrap()
            .contains("immutable")
    );
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/css")
    );
    assert_eq!(app.get("/assets/000000000000/app.css").await.status(), 404);
}

#[tokio::test]
async fn the_language_switch_sets_a_cookie_and_returns_to_the_page() {
    let app = spawn_app().await;
    let response = app.get("/lang/en?next=%2Fadmin%2Flogin").await;
    assert_eq!(response.status(), 303);
    assert_eq!(response.headers()["location"], "/admin/login");
    let page = app.get_html("/admin/login").await;
    assert!(page.contains("<html lang=\"en\">"));
    assert!(page.contains("Administrator log in"));
    assert_eq!(
        app.get("/lang/en?next=https://evil.example")
            .await
            .headers()["location"],
        "/"
    );
}

#[tokio::test]
async fn every_page_carries_a_strict_content_security_policy_and_no_referrer() {
    let app = spawn_app().await;
    for path in ["/", "/admin/login", "/nothing-here"] {
        let response = app.get(path).await;
        let csp = response.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(
            csp.contains("frame-ancestors 'none'") && !csp.contains("unsafe-inline"),
            "{path}: {csp}"
        );
        assert_eq!(response.headers()["x-content-type-options"], "nosniff");
        assert_eq!(response.headers()["referrer-policy"], "no-referrer");
        assert!(
            !response.headers().contains_key("strict-transport-security"),
            "no HSTS over http"
        );
    }
}

#[tokio::test]
async fn hsts_is_sent_when_the_base_url_is_https() {
    let app = crate::helpers::spawn_app_with(|s| {
        s.base_url = url::Url::parse("https://khaosat.example.vn").unwrap()
    })
    .await;
    let response = app.get("/healthz").await;
    assert!(
        response.headers()["strict-transport-security"]
            .to_str()
            .unwrap()
            .starts_with("max-age=")
    );
}
