//! Admission control: with every turn taken, a request is refused at once with `503`, a
//! `Retry-After` and a page in the visitor's language, health checks keep answering, and the
//! server serves again as soon as a turn frees up.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use crate::helpers::{TestApp, spawn_app_with};

/// The login form that holds the only turn, sent in two parts.
const HEAD: &str = "POST /admin/login HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\
    Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 35\r\n\r\n";
const FIRST_PART: &str = "email=a%40b.vn";
const REST: &str = "&password=wrong-words";

/// Waits (up to 5 s) until `path` answers `status`, and returns that answer.
async fn until_status(app: &TestApp, path: &str, status: u16) -> reqwest::Response {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let response = app.get(path).await;
        if response.status() == status {
            return response;
        }
        assert!(Instant::now() < deadline, "{path} never answered {status}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_server_at_capacity_refuses_at_once_with_retry_after_and_serves_again_after() {
    let app = spawn_app_with(|s| {
        s.max_in_flight = 1;
        s.queue_wait = Duration::from_millis(50);
    })
    .await;
    assert_eq!(FIRST_PART.len() + REST.len(), 35, "Content-Length of HEAD");

    // A login whose body is still on its way holds the only turn.
    let mut holder = TcpStream::connect(app.address.trim_start_matches("http://")).unwrap();
    holder
        .write_all(format!("{HEAD}{FIRST_PART}").as_bytes())
        .unwrap();

    let refused = until_status(&app, "/admin/login", 503).await;
    assert_eq!(
        refused
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok()),
        Some("1")
    );
    let page = refused.text().await.unwrap();
    assert!(
        page.contains("quá nhiều người đang dùng hệ thống"),
        "the refusal explains itself in Vietnamese: {page}"
    );

    // Each refusal is quick: a short wait in the queue, no more.
    let started = Instant::now();
    let again = app.get("/").await;
    assert_eq!(again.status(), 503);
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "took {:?}",
        started.elapsed()
    );

    // The API answers in JSON, and health checks and assets need no turn.
    let api = app.get("/api/v1/rounds").await;
    assert_eq!(api.status(), 503);
    let body: serde_json::Value = api.json().await.unwrap();
    assert_eq!(body["error"]["status"], 503);
    assert_eq!(app.get("/healthz").await.status(), 200);

    // The held request completes, and the next one is served.
    holder.write_all(REST.as_bytes()).unwrap();
    let mut answer = String::new();
    holder
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    holder.read_to_string(&mut answer).unwrap();
    assert!(
        !answer.starts_with("HTTP/1.1 503"),
        "the admitted request was served: {answer}"
    );
    until_status(&app, "/admin/login", 200).await;
}

#[tokio::test]
async fn with_the_limit_off_nothing_is_refused() {
    let app = spawn_app_with(|s| s.max_in_flight = 0).await;
    let mut holder = TcpStream::connect(app.address.trim_start_matches("http://")).unwrap();
    holder
        .write_all(format!("{HEAD}{FIRST_PART}").as_bytes())
        .unwrap();
    for _ in 0..5 {
        assert_eq!(app.get("/admin/login").await.status(), 200);
    }
}
