//! Error pages: 400, 403, 404, 413 and 503 each render a helpful page (or JSON under
//! `/api/`) without internals.

use crate::helpers::{spawn_app, spawn_app_with};

fn assert_no_internals(body: &str) {
    for leak in [
        "diesel",
        "sqlite",
        "SQLITE",
        "postgres",
        "panicked",
        "Connection refused",
        "r2d2",
        "src/",
    ] {
        assert!(!body.contains(leak), "error page leaks '{leak}': {body}");
    }
}

#[tokio::test]
async fn an_unknown_page_gets_a_404_page_in_vietnamese_by_default() {
    let app = spawn_app().await;
    let response = app.get("/khong-co-trang-nay").await;
    assert_eq!(response.status(), 404);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let body = response.text().await.unwrap();
    assert!(body.contains("Không tìm thấy trang"), "{body}");
    assert!(body.contains("<html lang=\"vi\">"));
}

#[tokio::test]
async fn the_404_page_follows_the_chosen_language() {
    let app = spawn_app().await;
    app.get("/lang/en").await;
    let body = app.get("/nothing-here").await.text().await.unwrap();
    assert!(body.contains("Page not found"), "{body}");
}

#[tokio::test]
async fn errors_under_the_api_are_json() {
    let app = spawn_app().await;
    let response = app.get("/api/v1/nothing").await;
    assert_eq!(response.status(), 404);
    let json: serde_json::Value = response.json().await.unwrap();
    assert_eq!(json["error"]["status"], 404);
    assert!(json["error"]["title"].is_string());
}

#[tokio::test]
async fn a_malformed_form_gets_a_400_page() {
    let app = spawn_app().await;
    let token = crate::helpers::csrf_from(&app.get_html("/admin/login").await);
    // The token is valid but the form lacks its fields.
    let response = app
        .post_form("/admin/login", &[("csrf_token", &token)])
        .await;
    assert_eq!(response.status(), 400);
    let body = response.text().await.unwrap();
    assert!(body.contains("Yêu cầu không hợp lệ"), "{body}");
    assert_no_internals(&body);
}

#[tokio::test]
async fn a_forbidden_form_gets_a_403_page() {
    let app = spawn_app().await;
    let response = app
        .post_form("/admin/login", &[("email", "a@b.vn"), ("password", "x")])
        .await;
    assert_eq!(response.status(), 403);
    let body = response.text().await.unwrap();
    assert!(body.contains("Biểu mẫu đã hết hiệu lực"));
    assert_no_internals(&body);
}

#[tokio::test]
async fn an_oversized_body_gets_a_413_page() {
    let app = spawn_app().await;
    app.get("/admin/login").await;
    let big = "x".repeat(300 * 1024);
    let response = app
        .post_form(
            "/admin/login",
            &[("email", big.as_str()), ("password", "x")],
        )
        .await;
    assert_eq!(response.status(), 413);
    let body = response.text().await.unwrap();
    assert!(body.contains("Dữ liệu gửi lên quá lớn"), "{body}");
}

#[tokio::test]
async fn an_unreachable_database_gets_503_pages_that_say_nothing_is_lost() {
    // Port 1 refuses connections on any machine; the server still starts (a secret key is
    // configured and migrations are off) and reports itself not ready.
    let app = spawn_app_with(|s| {
        s.database_url =
            khaosat::app::config::DatabaseUrl::parse("postgres://khaosat@127.0.0.1:1/none")
                .unwrap();
        s.secret_key = Some("x".repeat(40));
        s.migrate_on_start = false;
    })
    .await;
    assert_eq!(app.get("/healthz").await.status(), 200);
    let ready = app.get("/readyz").await;
    assert_eq!(ready.status(), 503);
    assert!(ready.headers().contains_key("retry-after"));
    let body = ready.text().await.unwrap();
    assert!(body.contains("Dịch vụ tạm thời gián đoạn"), "{body}");
    assert_no_internals(&body);

    let login = app.login("admin@sonoivu.gov.vn", "whatever password").await;
    assert_eq!(login.status(), 503);
    assert_no_internals(&login.text().await.unwrap());
}
