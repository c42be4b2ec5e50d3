//! Authentication under attack: throttles that hold under concurrency, setup links that are
//! checked before any hashing, `next` after login, CSRF tokens bound to the session, API
//! tokens ended by a password reset, the purge of sessions and throttle counters, and slow
//! clients cut off. (Password hashing at full capacity has its own process: `tests/hash_capacity.rs`.)

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use diesel::prelude::*;
use khaosat::app::auth::housekeeping::{self, Purged};
use khaosat::db::schema::auth_throttle;
use khaosat::db::throttle::ThrottleRow;
use khaosat::domain::account::{Email, Role};
use khaosat::routes::middleware::REQUEST_BODY_GRACE;
use khaosat::server::startup::CLIENT_REQUEST_TIMEOUT;

use crate::helpers::{PASSWORD, TestApp, csrf_from, spawn_app, spawn_app_on};
use crate::results::{api_get, make_token};

/// The value of the hidden field `name` in a page, if it has one.
fn hidden(html: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker)? + marker.len();
    let end = html[start..].find('"')? + start;
    Some(html[start..end].to_owned())
}

/// A form for the setup link that passes every field check.
fn valid_setup_form(csrf: &str) -> Vec<(&'static str, String)> {
    vec![
        ("name", "Kẻ đoán".to_owned()),
        ("email", "guess@evil.example".to_owned()),
        ("password", PASSWORD.to_owned()),
        ("password_confirm", PASSWORD.to_owned()),
        ("csrf_token", csrf.to_owned()),
    ]
}

#[tokio::test]
async fn guessing_setup_links_from_one_address_is_throttled() {
    let app = spawn_app().await;
    let csrf = csrf_from(&app.get_html("/admin/login").await);
    let form = valid_setup_form(&csrf);
    for i in 0..10 {
        let path = format!("/admin/setup/guess-{i}");
        let response = app
            .client
            .post(app.url(&path))
            .form(&form)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 404, "guess {i}");
    }
    let throttled = app
        .client
        .post(app.url("/admin/setup/guess-10"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(throttled.status(), 429);
    let retry_after: i64 = throttled.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=900).contains(&retry_after), "{retry_after}");
    // The real link from the same address is refused too until the lock ends.
    assert_eq!(
        app.create_first_admin("admin@sonoivu.gov.vn")
            .await
            .status(),
        429
    );
}

#[tokio::test]
async fn concurrent_wrong_passwords_for_one_account_are_checked_at_most_five_times() {
    let app = spawn_app().await;
    app.create_first_admin("admin@sonoivu.gov.vn").await;
    let csrf = csrf_from(&app.get_html("/admin/login").await);
    let mut attempts = tokio::task::JoinSet::new();
    for _ in 0..25 {
        let client = app.client.clone();
        let url = app.url("/admin/login");
        let csrf = csrf.clone();
        attempts.spawn(async move {
            client
                .post(url)
                .form(&[
                    ("email", "admin@sonoivu.gov.vn"),
                    ("password", "wrong password!!"),
                    ("csrf_token", csrf.as_str()),
                ])
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        });
    }
    let statuses: Vec<u16> = attempts.join_all().await;
    // A 401 is a password that was checked; 429 is the lock, and 503 is admission control
    // turning a request away before any handler ran (it checked nothing).
    let checked = statuses.iter().filter(|&&s| s == 401).count();
    assert!(checked <= 5, "{checked} of 25 were checked: {statuses:?}");
    assert!(
        statuses.iter().all(|s| [401, 429, 503].contains(s)),
        "{statuses:?}"
    );
    assert!(statuses.contains(&401), "{statuses:?}");
    // And the account stays locked for the right password.
    assert_eq!(
        app.login("admin@sonoivu.gov.vn", PASSWORD).await.status(),
        429
    );
}

#[tokio::test]
async fn successful_logins_do_not_use_up_the_attempts_of_their_address() {
    let app = spawn_app().await;
    app.create_first_admin("admin@sonoivu.gov.vn").await;
    // One more than the per-address limit of failures.
    for i in 0..31 {
        let status = app.login("admin@sonoivu.gov.vn", PASSWORD).await.status();
        assert_eq!(status, 303, "login {i}");
    }
}

#[tokio::test]
async fn a_huge_typed_email_is_not_stored_as_a_throttle_key() {
    let app = spawn_app().await;
    let email = format!("{}@sonoivu.gov.vn", "a".repeat(250_000));
    assert_eq!(app.login(&email, "wrong password!!").await.status(), 401);
    let mut conn = app.pool.get().unwrap();
    let keys: Vec<String> = auth_throttle::table
        .select(auth_throttle::key)
        .load(&mut conn)
        .unwrap();
    assert!(!keys.is_empty(), "the failure was counted");
    for key in keys {
        assert_eq!(key.len(), 64, "a fixed-length digest, not the typed text");
        assert!(!key.contains('@') && !key.contains("login"), "{key}");
    }
}

#[tokio::test]
async fn login_returns_to_the_page_that_asked_for_it() {
    let app = spawn_app().await;
    app.create_first_admin("admin@sonoivu.gov.vn").await;
    app.submit("/admin", "/admin/logout", &[]).await;
    let bounced = app.get("/admin/rounds").await;
    assert_eq!(bounced.status(), 303);
    let login_page = bounced.headers()["location"].to_str().unwrap().to_owned();
    assert_eq!(login_page, "/admin/login?next=%2Fadmin%2Frounds");

    let html = app.get_html(&login_page).await;
    let next = hidden(&html, "next").expect("the login form carries next");
    let response = app
        .post_form(
            "/admin/login",
            &[
                ("email", "admin@sonoivu.gov.vn"),
                ("password", PASSWORD),
                ("next", &next),
                ("csrf_token", &csrf_from(&html)),
            ],
        )
        .await;
    assert_eq!(response.status(), 303);
    assert_eq!(response.headers()["location"], "/admin/rounds");
}

#[tokio::test]
async fn login_never_follows_a_next_that_leaves_the_site() {
    let app = spawn_app().await;
    app.create_first_admin("admin@sonoivu.gov.vn").await;
    // `%09` arrives as a tab, which browsers drop: `/\t/evil.example` is `//evil.example`.
    for (query, decoded) in [
        ("/%09/evil.example", "/\t/evil.example"),
        ("//evil.example", "//evil.example"),
        ("/%5Cevil.example", "/\\evil.example"),
    ] {
        let html = app.get_html(&format!("/admin/login?next={query}")).await;
        assert_eq!(hidden(&html, "next"), None, "{query} is not carried");
        let response = app
            .post_form(
                &format!("/admin/login?next={query}"),
                &[
                    ("email", "admin@sonoivu.gov.vn"),
                    ("password", PASSWORD),
                    ("next", decoded),
                    ("csrf_token", &csrf_from(&html)),
                ],
            )
            .await;
        assert_eq!(response.status(), 303, "{query}");
        assert_eq!(response.headers()["location"], "/admin", "{query}");
    }
}

#[tokio::test]
async fn a_form_token_from_one_session_is_refused_in_the_next() {
    let app = spawn_app().await;
    app.login_as("first@sonoivu.gov.vn", Role::Analyst).await;
    let first_token = csrf_from(&app.get_html("/admin").await);
    // Another account logs in in the same browser: same CSRF cookie, new session.
    app.login_as("second@sonoivu.gov.vn", Role::Analyst).await;
    let replayed = app
        .post_form("/admin/logout", &[("csrf_token", &first_token)])
        .await;
    assert_eq!(replayed.status(), 403);
    assert_eq!(app.get("/admin").await.status(), 200, "still logged in");
    // The page of the current session gives a token that works.
    let own_token = csrf_from(&app.get_html("/admin").await);
    assert_ne!(own_token, first_token);
    let logout = app
        .post_form("/admin/logout", &[("csrf_token", &own_token)])
        .await;
    assert_eq!(logout.status(), 303);
}

#[tokio::test]
async fn a_form_token_is_refused_with_another_browsers_session() {
    let app = spawn_app().await;
    app.login_as("first@sonoivu.gov.vn", Role::Analyst).await;
    let token = csrf_from(&app.get_html("/admin").await);
    let cookies = app.cookies();
    let csrf_cookie = cookies
        .split("; ")
        .find(|c| c.starts_with("ks_csrf="))
        .unwrap()
        .to_owned();
    // A second browser logs in; its session cookie is sent with the first browser's CSRF
    // cookie and token.
    let other = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let login_page = other.get(app.url("/admin/login")).send().await.unwrap();
    let other_csrf = csrf_from(&login_page.text().await.unwrap());
    let login = other
        .post(app.url("/admin/login"))
        .form(&[
            ("email", "first@sonoivu.gov.vn"),
            ("password", PASSWORD),
            ("csrf_token", other_csrf.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), 303);
    let other_session = crate::helpers::set_cookies(&login)
        .into_iter()
        .find(|c| c.starts_with("ks_session="))
        .unwrap();
    let other_session = other_session.split(';').next().unwrap();
    let replay = reqwest::Client::new()
        .post(app.url("/admin/logout"))
        .header("cookie", format!("{csrf_cookie}; {other_session}"))
        .form(&[("csrf_token", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(replay.status(), 403);
}

#[tokio::test]
async fn a_password_reset_revokes_the_accounts_api_tokens() {
    let app = spawn_app().await;
    app.login_as("analyst@sonoivu.gov.vn", Role::Analyst).await;
    let token = make_token(&app, "read").await;
    assert_eq!(api_get(&app, &token, "/api/v1/rounds").await.status(), 200);

    let hash = khaosat::app::auth::password::hash("a brand new passphrase").unwrap();
    let email = Email::parse("analyst@sonoivu.gov.vn").unwrap();
    let reset = {
        let mut conn = app.pool.get().unwrap();
        khaosat::app::accounts::reset_password(&mut conn, &email, &hash, "test").unwrap()
    };
    let reset = reset.expect("the account exists");
    assert_eq!(reset.tokens_revoked, 1);
    assert_eq!(reset.sessions_ended, 1);
    assert_eq!(api_get(&app, &token, "/api/v1/rounds").await.status(), 401);
}

/// Stores a session for `user_id` that expires at `expires_at`, under `token_hash`.
fn add_session(app: &TestApp, token_hash: &str, expires_at: chrono::NaiveDateTime) {
    let mut conn = app.pool.get().unwrap();
    let user = khaosat::db::users::by_email(&mut conn, "admin@sonoivu.gov.vn")
        .unwrap()
        .unwrap();
    khaosat::db::sessions::insert(
        &mut conn,
        token_hash,
        user.id,
        expires_at - chrono::Duration::hours(12),
        expires_at,
    )
    .unwrap();
}

/// Stores a throttle counter `key` whose window started `minutes_ago`, locked until
/// `locked_for` minutes from now (negative: in the past).
fn add_counter(app: &TestApp, key: &str, minutes_ago: i64, locked_for: Option<i64>) {
    let now = khaosat::db::now();
    let mut conn = app.pool.get().unwrap();
    khaosat::db::throttle::put(
        &mut conn,
        &ThrottleRow {
            key: key.to_owned(),
            failures: 3,
            window_started_at: now - chrono::Duration::minutes(minutes_ago),
            locked_until: locked_for.map(|m| now + chrono::Duration::minutes(m)),
        },
    )
    .unwrap();
}

fn counter_exists(app: &TestApp, key: &str) -> bool {
    let mut conn = app.pool.get().unwrap();
    khaosat::db::throttle::get(&mut conn, key)
        .unwrap()
        .is_some()
}

fn session_exists(app: &TestApp, token_hash: &str) -> bool {
    use khaosat::db::schema::sessions;
    let mut conn = app.pool.get().unwrap();
    diesel::select(diesel::dsl::exists(
        sessions::table.filter(sessions::token_hash.eq(token_hash)),
    ))
    .get_result(&mut conn)
    .unwrap()
}

#[tokio::test]
async fn the_purge_deletes_expired_sessions_and_stale_counters_only() {
    let app = spawn_app().await;
    app.create_first_admin("admin@sonoivu.gov.vn").await;
    let now = khaosat::db::now();
    add_session(&app, "expired", now - chrono::Duration::minutes(1));
    add_session(&app, "live", now + chrono::Duration::hours(1));
    add_counter(&app, "stale", 61, None);
    add_counter(&app, "stale-lock-over", 120, Some(-1));
    add_counter(&app, "recent", 5, None);
    add_counter(&app, "old-but-locked", 120, Some(10));

    let purged = {
        let mut conn = app.pool.get().unwrap();
        housekeeping::purge(&mut conn, khaosat::db::now()).unwrap()
    };
    assert_eq!(
        purged,
        Purged {
            sessions: 1,
            throttles: 2
        }
    );
    assert!(!session_exists(&app, "expired"));
    assert!(session_exists(&app, "live"));
    assert!(!counter_exists(&app, "stale"));
    assert!(!counter_exists(&app, "stale-lock-over"));
    assert!(counter_exists(&app, "recent"));
    assert!(counter_exists(&app, "old-but-locked"));
    assert_eq!(
        app.get("/admin").await.status(),
        200,
        "the login session lives"
    );
}

#[tokio::test]
async fn the_server_purges_when_it_starts() {
    let app = spawn_app().await;
    app.create_first_admin("admin@sonoivu.gov.vn").await;
    let now = khaosat::db::now();
    add_session(&app, "expired", now - chrono::Duration::minutes(1));
    add_counter(&app, "stale", 61, None);
    let TestApp { _db: db, .. } = app;
    let restarted = spawn_app_on(db, |_| {}).await;
    assert!(!session_exists(&restarted, "expired"));
    assert!(!counter_exists(&restarted, "stale"));
}

/// Connects, sends `head`, then sends `drip` every half second (if any), and returns how
/// long the server kept the connection open, giving up after `give_up`.
fn open_for(addr: &str, head: &[u8], drip: &[u8], give_up: Duration) -> Duration {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_millis(500)))
        .unwrap();
    let started = Instant::now();
    stream.write_all(head).unwrap();
    let mut buf = [0u8; 4096];
    while started.elapsed() < give_up {
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(_) => {}
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(_) => break,
        }
        if !drip.is_empty() && stream.write_all(drip).is_err() {
            break;
        }
    }
    started.elapsed()
}

#[tokio::test]
async fn a_request_body_sent_a_byte_at_a_time_is_cut_off() {
    let app = spawn_app().await;
    let addr = app.address.trim_start_matches("http://").to_owned();
    let bound = REQUEST_BODY_GRACE * 3;
    let sized = {
        let addr = addr.clone();
        tokio::task::spawn_blocking(move || {
            let head = b"POST /admin/login HTTP/1.1\r\nHost: x\r\n\
                Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100000\r\n\r\nemail=";
            open_for(&addr, head, b"a", bound + Duration::from_secs(5))
        })
    };
    let chunked = tokio::task::spawn_blocking(move || {
        let head = b"POST /admin/login HTTP/1.1\r\nHost: x\r\n\
            Content-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n\r\n";
        open_for(&addr, head, b"1\r\na\r\n", bound + Duration::from_secs(5))
    });
    let (sized, chunked) = (sized.await.unwrap(), chunked.await.unwrap());
    assert!(sized < bound, "a sized body held the connection {sized:?}");
    assert!(
        chunked < bound,
        "a chunked body held the connection {chunked:?}"
    );
}

#[tokio::test]
async fn a_second_request_cannot_trickle_its_head_on_a_kept_connection() {
    let app = spawn_app().await;
    let addr = app.address.trim_start_matches("http://").to_owned();
    let bound = CLIENT_REQUEST_TIMEOUT * 3;
    let held = tokio::task::spawn_blocking(move || {
        let head = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nGET /healthz HTTP/1.1\r\n";
        open_for(&addr, head, b"X", bound + Duration::from_secs(5))
    })
    .await
    .unwrap();
    assert!(held < bound, "the connection was held {held:?}");
}
