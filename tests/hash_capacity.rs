//! Password hashing at full capacity, in a test process of its own: the test holds every
//! permit of the process-wide hash gate, which would stall the password checks of any test
//! running beside it in the main suite.

#![expect(
    clippy::unwrap_used,
    reason = "test helpers fail the test loudly on any setup error; that is their job"
)]

#[path = "api/helpers.rs"]
#[expect(
    dead_code,
    reason = "this process needs only a few of the suite's helpers"
)]
mod helpers;

use helpers::{PASSWORD, csrf_from, spawn_app};

#[tokio::test]
async fn with_every_hash_permit_taken_links_are_checked_without_hashing_and_logins_get_503() {
    let app = spawn_app().await;
    let csrf = csrf_from(&app.get_html("/admin/login").await);
    let gate = khaosat::app::auth::password::gate();
    let held: Vec<_> = std::iter::from_fn(|| gate.try_acquire()).collect();
    assert_eq!(held.len(), gate.permits());

    // A guessed link with a form that passes every check is refused at once: had it hashed
    // the password first, it would have waited for a permit and answered 503.
    let guessed = app
        .post_form(
            "/admin/setup/a-guessed-token",
            &[
                ("name", "Kẻ đoán"),
                ("email", "guess@evil.example"),
                ("password", PASSWORD),
                ("password_confirm", PASSWORD),
                ("csrf_token", &csrf),
            ],
        )
        .await;
    assert_eq!(guessed.status(), 404);

    // A password check needs a permit: after a short wait, 503 with Retry-After.
    let login = [
        ("email", "nobody@sonoivu.gov.vn"),
        ("password", PASSWORD),
        ("csrf_token", csrf.as_str()),
    ];
    let busy = app.post_form("/admin/login", &login).await;
    assert_eq!(busy.status(), 503);
    let retry_after: u64 = busy.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry_after >= 1);
    assert!(busy.text().await.unwrap().contains("Máy chủ đang bận"));

    // With the permits back, the same attempt is checked (and fails as it should).
    drop(held);
    assert_eq!(app.post_form("/admin/login", &login).await.status(), 401);
}
