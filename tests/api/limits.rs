//! Limits that stop abuse: request bodies beyond their size get 413 with a clear message, and
//! API tokens are rate-limited with 429 and Retry-After.

use khaosat::domain::account::Role;

use crate::helpers::spawn_app_with;
use crate::results::{api_get, demo_round, make_token};

#[tokio::test]
async fn an_api_token_is_rate_limited_with_429_and_retry_after() {
    let app = spawn_app_with(|s| s.api_rate_per_minute = 3).await;
    demo_round(&app, 100);
    app.login_as("analyst@sonoivu.gov.vn", Role::Analyst).await;
    let token = make_token(&app, "read").await;
    for _ in 0..3 {
        assert_eq!(api_get(&app, &token, "/api/v1/rounds").await.status(), 200);
    }
    let limited = api_get(&app, &token, "/api/v1/rounds").await;
    assert_eq!(limited.status(), 429);
    let retry: i64 = limited.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry));
    let body: serde_json::Value = limited.json().await.unwrap();
    assert_eq!(body["error"]["status"], 429);
    // Another token has its own allowance.
    let other = make_token(&app, "read").await;
    assert_eq!(api_get(&app, &other, "/api/v1/rounds").await.status(), 200);
}

#[tokio::test]
async fn oversized_forms_and_json_bodies_get_413_with_a_clear_message() {
    let app = spawn_app_with(|_| {}).await;
    let big = "x".repeat(2 * 1024 * 1024);
    let form = app
        .client
        .post(app.url("/admin/login"))
        .form(&[("email", big.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(form.status(), 413);
    let page = form.text().await.unwrap();
    assert!(page.contains("<h1"), "an error page, not a bare status");
    app.login_as("analyst@sonoivu.gov.vn", Role::Analyst).await;
    let token = make_token(&app, "write").await;
    let json = app
        .client
        .post(app.url("/api/v1/rounds/1/exports"))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body(format!("{{\"kind\":\"{big}\"}}"))
        .send()
        .await
        .unwrap();
    assert_eq!(json.status(), 413);
    let body: serde_json::Value = json.json().await.unwrap();
    assert_eq!(body["error"]["status"], 413);
}
