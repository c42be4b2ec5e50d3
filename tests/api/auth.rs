//! Accounts: the setup link, login, logout, sessions, CSRF and throttling.

use crate::helpers::{PASSWORD, set_cookies, spawn_app, spawn_app_with};

#[tokio::test]
async fn the_setup_link_creates_the_first_admin_and_logs_them_in() {
    let app = spawn_app().await;
    let response = app.create_first_admin("admin@sonoivu.gov.vn").await;
    assert_eq!(response.status(), 303);
    assert_eq!(response.headers()["location"], "/admin");
    let dashboard = app.get_html("/admin").await;
    assert!(dashboard.contains("Nguyễn Văn An"), "{dashboard}");
    assert!(dashboard.contains("Quản trị viên"));
}

#[tokio::test]
async fn the_setup_link_works_only_once() {
    let app = spawn_app().await;
    let link = app.setup_url.clone().unwrap();
    let path = link.trim_start_matches(&app.address).to_owned();
    assert_eq!(
        app.create_first_admin("admin@sonoivu.gov.vn")
            .await
            .status(),
        303
    );

    let again = app.get(&path).await;
    assert_eq!(again.status(), 404);
    assert!(
        again
            .text()
            .await
            .unwrap()
            .contains("Liên kết thiết lập không dùng được")
    );
    // Posting to it again (with a fresh CSRF token from the login page) creates nothing.
    let second = app
        .submit(
            "/admin/login",
            &path,
            &[
                ("name", "Kẻ gian"),
                ("email", "x@evil.vn"),
                ("password", PASSWORD),
                ("password_confirm", PASSWORD),
            ],
        )
        .await;
    assert_eq!(second.status(), 404);
    assert_eq!(app.login("x@evil.vn", PASSWORD).await.status(), 401);
}

#[tokio::test]
async fn an_unknown_setup_token_is_refused() {
    let app = spawn_app().await;
    assert_eq!(app.get("/admin/setup/not-a-real-token").await.status(), 404);
}

#[tokio::test]
async fn setup_rejects_a_short_password_and_mismatched_confirmation_with_field_errors() {
    let app = spawn_app().await;
    let link = app.setup_url.clone().unwrap();
    let path = link.trim_start_matches(&app.address).to_owned();
    let response = app
        .submit(
            &path,
            &path,
            &[
                ("name", ""),
                ("email", "not-an-email"),
                ("password", "short"),
                ("password_confirm", "x"),
            ],
        )
        .await;
    assert_eq!(response.status(), 400);
    let html = response.text().await.unwrap();
    assert!(html.contains("error-summary"));
    assert!(html.contains("href=\"#email\""));
    assert!(html.contains("Mật khẩu phải có ít nhất 12 ký tự."));
    assert!(html.contains("Nhập họ và tên."));
    // The link is still usable after a failed attempt.
    assert_eq!(
        app.create_first_admin("admin@sonoivu.gov.vn")
            .await
            .status(),
        303
    );
}

#[tokio::test]
async fn login_and_logout_work() {
    let app = spawn_app().await;
    app.create_first_admin("admin@sonoivu.gov.vn").await;
    let logout = app.submit("/admin", "/admin/logout", &[]).await;
    assert_eq!(logout.status(), 303);
    assert_eq!(logout.headers()["location"], "/admin/login?logged_out=1");
    // Logged out: the dashboard sends us to the login page.
    let response = app.get("/admin").await;
    assert_eq!(response.status(), 303);
    assert_eq!(response.headers()["location"], "/admin/login?next=%2Fadmin");

    let login = app.login("Admin@SoNoiVu.gov.vn", PASSWORD).await;
    assert_eq!(login.status(), 303);
    assert_eq!(login.headers()["location"], "/admin");
    assert_eq!(app.get("/admin").await.status(), 200);
}

#[tokio::test]
async fn a_wrong_password_gets_a_clear_message() {
    let app = spawn_app().await;
    app.create_first_admin("admin@sonoivu.gov.vn").await;
    let response = app.login("admin@sonoivu.gov.vn", "wrong password!!").await;
    assert_eq!(response.status(), 401);
    let html = response.text().await.unwrap();
    assert!(html.contains("Thư điện tử hoặc mật khẩu không đúng."));
    assert!(
        !html.contains("wrong password"),
        "the password is never echoed"
    );
}

#[tokio::test]
async fn repeated_wrong_passwords_throttle_the_account_even_for_the_right_password() {
    let app = spawn_app().await;
    app.create_first_admin("admin@sonoivu.gov.vn").await;
    for _ in 0..5 {
        assert_eq!(
            app.login("admin@sonoivu.gov.vn", "wrong password!!")
                .await
                .status(),
            401
        );
    }
    let throttled = app.login("admin@sonoivu.gov.vn", PASSWORD).await;
    assert_eq!(throttled.status(), 429);
    let retry_after: i64 = throttled.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=900).contains(&retry_after), "{retry_after}");
    let html = throttled.text().await.unwrap();
    assert!(html.contains("Quá nhiều lần thử"));
    assert!(html.contains("Hãy thử lại sau 15 phút."));
}

#[tokio::test]
async fn unknown_accounts_are_throttled_like_real_ones() {
    let app = spawn_app().await;
    for _ in 0..5 {
        assert_eq!(
            app.login("nobody@sonoivu.gov.vn", "wrong password!!")
                .await
                .status(),
            401
        );
    }
    assert_eq!(
        app.login("nobody@sonoivu.gov.vn", "wrong password!!")
            .await
            .status(),
        429
    );
}

#[tokio::test]
async fn many_failures_from_one_address_throttle_every_account() {
    let app = spawn_app().await;
    for i in 0..30 {
        let email = format!("user{i}@sonoivu.gov.vn");
        assert_eq!(app.login(&email, "wrong password!!").await.status(), 401);
    }
    assert_eq!(
        app.login("fresh@sonoivu.gov.vn", "wrong password!!")
            .await
            .status(),
        429
    );
}

#[tokio::test]
async fn a_login_without_a_csrf_token_is_rejected() {
    let app = spawn_app().await;
    app.create_first_admin("admin@sonoivu.gov.vn").await;
    app.get("/admin/login").await;
    let response = app
        .post_form(
            "/admin/login",
            &[("email", "admin@sonoivu.gov.vn"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(response.status(), 403);
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("Biểu mẫu đã hết hiệu lực")
    );
}

#[tokio::test]
async fn a_login_with_a_forged_csrf_token_is_rejected() {
    let app = spawn_app().await;
    app.create_first_admin("admin@sonoivu.gov.vn").await;
    app.get("/admin/login").await;
    let forged = "0".repeat(64);
    let response = app
        .post_form(
            "/admin/login",
            &[
                ("email", "admin@sonoivu.gov.vn"),
                ("password", PASSWORD),
                ("csrf_token", &forged),
            ],
        )
        .await;
    assert_eq!(response.status(), 403);
}

#[tokio::test]
async fn a_csrf_token_from_another_browser_is_rejected() {
    let app = spawn_app().await;
    let other = spawn_app().await;
    // A token minted for another browser's cookie (here: another app) is worthless.
    let foreign = crate::helpers::csrf_from(&other.get_html("/admin/login").await);
    app.get("/admin/login").await;
    let response = app
        .post_form(
            "/admin/login",
            &[
                ("email", "a@b.vn"),
                ("password", PASSWORD),
                ("csrf_token", &foreign),
            ],
        )
        .await;
    assert_eq!(response.status(), 403);
}

#[tokio::test]
async fn logout_needs_a_csrf_token() {
    let app = spawn_app().await;
    app.create_first_admin("admin@sonoivu.gov.vn").await;
    assert_eq!(app.post_form("/admin/logout", &[]).await.status(), 403);
    assert_eq!(app.get("/admin").await.status(), 200, "still logged in");
}

#[tokio::test]
async fn the_session_cookie_is_httponly_and_samesite_and_not_secure_over_http() {
    let app = spawn_app().await;
    let response = app.create_first_admin("admin@sonoivu.gov.vn").await;
    let cookies = set_cookies(&response);
    let session = cookies
        .iter()
        .find(|c| c.starts_with("ks_session="))
        .expect("session cookie");
    assert!(session.contains("HttpOnly"), "{session}");
    assert!(session.contains("SameSite=Lax"), "{session}");
    assert!(session.contains("Path=/"), "{session}");
    assert!(!session.contains("Secure"), "{session}");
}

#[tokio::test]
async fn the_session_cookie_is_secure_when_the_base_url_is_https() {
    let app =
        spawn_app_with(|s| s.base_url = url::Url::parse("https://khaosat.example.vn").unwrap())
            .await;
    // The browser (our client) does not send Secure cookies over http, so read the headers.
    let page = app.get("/admin/login").await;
    let csrf_cookie = set_cookies(&page)
        .into_iter()
        .find(|c| c.starts_with("ks_csrf="))
        .unwrap();
    assert!(
        csrf_cookie.contains("Secure")
            && csrf_cookie.contains("HttpOnly")
            && csrf_cookie.contains("SameSite=Strict")
    );
    let cookie_value = csrf_cookie.split(';').next().unwrap().to_owned();
    let token = crate::helpers::csrf_from(&page.text().await.unwrap());
    let link = app
        .setup_url
        .clone()
        .unwrap()
        .replace("https://khaosat.example.vn", "");
    let response = app
        .client
        .post(app.url(&link))
        .header("cookie", cookie_value)
        .form(&[
            ("name", "An"),
            ("email", "a@b.vn"),
            ("password", PASSWORD),
            ("password_confirm", PASSWORD),
            ("csrf_token", &token),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    let session = set_cookies(&response)
        .into_iter()
        .find(|c| c.starts_with("ks_session="))
        .unwrap();
    assert!(
        session.contains("Secure") && session.contains("HttpOnly"),
        "{session}"
    );
}

#[tokio::test]
async fn logging_in_issues_a_new_session_id_and_ends_the_old_one() {
    let app = spawn_app().await;
    app.create_first_admin("admin@sonoivu.gov.vn").await;
    let before = app.cookies();
    let old_session = before
        .split("; ")
        .find(|c| c.starts_with("ks_session="))
        .unwrap()
        .to_owned();
    assert_eq!(
        app.login("admin@sonoivu.gov.vn", PASSWORD).await.status(),
        303
    );
    let after = app.cookies();
    assert!(
        !after.contains(&old_session),
        "a new session id after login"
    );
    // The old session id no longer works.
    let replay = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(app.url("/admin"))
        .header("cookie", old_session)
        .send()
        .await
        .unwrap();
    assert_eq!(replay.status(), 303);
}

#[tokio::test]
async fn the_login_page_follows_next_only_to_local_paths() {
    let app = spawn_app().await;
    app.create_first_admin("admin@sonoivu.gov.vn").await;
    let token = crate::helpers::csrf_from(&app.get_html("/admin/login").await);
    let response = app
        .post_form(
            "/admin/login?next=//evil.example/",
            &[
                ("email", "admin@sonoivu.gov.vn"),
                ("password", PASSWORD),
                ("csrf_token", &token),
            ],
        )
        .await;
    assert_eq!(response.status(), 303);
    assert_eq!(response.headers()["location"], "/admin");
}

#[tokio::test]
async fn the_audit_log_records_the_first_admin() {
    let app = spawn_app().await;
    app.create_first_admin("admin@sonoivu.gov.vn").await;
    let mut conn = app.pool.get().unwrap();
    assert_eq!(
        khaosat::db::audit::count_action(&mut conn, "user:create").unwrap(),
        1
    );
}
