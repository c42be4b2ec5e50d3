//! The accounts page and `khaosat admin role|units|deactivate|activate`: roles, a
//! coordinator's units, deactivation that ends sessions and tokens at once, the last
//! administrator who cannot lock everybody out, and accounts added through the page whose
//! owners choose their own password through a one-time link.

use std::io::Write;
use std::process::{Command, Stdio};
use std::sync::Arc;

use khaosat::domain::account::Role;

use crate::helpers::{PASSWORD, TestApp, TestDb, csrf_from, spawn_app, spawn_app_on};
use crate::paper::desk;
use crate::respond::open_round_with_codes;

fn user_id(app: &TestApp, email: &str) -> i64 {
    let mut conn = app.pool.get().unwrap();
    khaosat::db::users::by_email(&mut conn, email)
        .unwrap()
        .unwrap()
        .id
}

fn audit_count(app: &TestApp, action: &str) -> i64 {
    let mut conn = app.pool.get().unwrap();
    khaosat::db::audit::count_action(&mut conn, action).unwrap()
}

/// POSTs `form` to `action` as the signed-in administrator, with the token of the account page.
async fn post_on_account(
    app: &TestApp,
    account: i64,
    action: &str,
    form: &[(&str, &str)],
) -> reqwest::Response {
    app.submit(
        &format!("/admin/accounts/{account}"),
        &format!("/admin/accounts/{account}/{action}"),
        form,
    )
    .await
}

#[tokio::test]
async fn an_admin_assigns_units_through_the_page_and_the_coordinator_sees_only_those() {
    let app = spawn_app().await;
    let (round, _) = open_round_with_codes(&app, 0);
    app.login_as("admin@sonoivu.gov.vn", Role::Admin).await;
    let coordinator = desk(&app, "coord@sonoivu.gov.vn", Role::Coordinator).await;
    let units = {
        let mut conn = app.pool.get().unwrap();
        khaosat::db::rounds::units(&mut conn, round).unwrap()
    };
    let id = user_id(&app, "coord@sonoivu.gov.vn");

    let list = app.get_html("/admin/accounts").await;
    assert!(list.contains("coord@sonoivu.gov.vn") && list.contains("Điều phối viên"));
    assert!(list.contains("Chưa được giao đơn vị nào"), "{list}");

    let (first, third) = (units[0].id.to_string(), units[2].id.to_string());
    let saved = post_on_account(&app, id, "units", &[("unit", &first), ("unit", &third)]).await;
    assert_eq!(saved.status(), 303);
    assert_eq!(
        saved.headers()["location"],
        format!("/admin/accounts/{id}?done=units").as_str()
    );
    assert_eq!(audit_count(&app, "user:units"), 1);
    let page = app
        .get_html(&format!("/admin/accounts/{id}?done=units"))
        .await;
    assert!(page.contains("Đã lưu các đơn vị phụ trách."));
    let list = app.get_html("/admin/accounts").await;
    assert!(list.contains(&units[0].name_vi) && list.contains(&units[2].name_vi));

    let overview = coordinator
        .get(app.url(&format!("/admin/rounds/{round}/paper")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for (unit, shown) in [(&units[0], true), (&units[1], false), (&units[2], true)] {
        assert_eq!(
            overview.contains(&format!("<option value=\"{}\"", unit.id)),
            shown,
            "{} on the coordinator's paper page",
            unit.name_vi
        );
    }

    // An analyst has no units: the page refuses to assign them and says why.
    let analyst = {
        desk(&app, "analyst@sonoivu.gov.vn", Role::Analyst).await;
        user_id(&app, "analyst@sonoivu.gov.vn")
    };
    let refused = post_on_account(&app, analyst, "units", &[("unit", &first)]).await;
    assert_eq!(refused.status(), 422);
    assert!(
        refused
            .text()
            .await
            .unwrap()
            .contains("chỉ điều phối viên mới được giao đơn vị")
    );
}

#[tokio::test]
async fn changing_a_role_is_audited_and_only_admins_may() {
    let app = spawn_app().await;
    app.login_as("admin@sonoivu.gov.vn", Role::Admin).await;
    let analyst = desk(&app, "analyst@sonoivu.gov.vn", Role::Analyst).await;
    let id = user_id(&app, "analyst@sonoivu.gov.vn");

    // The analyst cannot reach the page nor change their own role.
    let page = analyst
        .get(app.url("/admin/accounts"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 403);
    let token = csrf_from(
        &analyst
            .get(app.url("/admin/tokens"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
    );
    let forbidden = analyst
        .post(app.url(&format!("/admin/accounts/{id}/role")))
        .form(&[("role", "admin"), ("csrf_token", &token)])
        .send()
        .await
        .unwrap();
    assert_eq!(forbidden.status(), 403);
    let no_token = app
        .post_form(
            &format!("/admin/accounts/{id}/role"),
            &[("role", "coordinator")],
        )
        .await;
    assert_eq!(no_token.status(), 403, "no CSRF token, no change");

    let changed = post_on_account(&app, id, "role", &[("role", "coordinator")]).await;
    assert_eq!(changed.status(), 303);
    assert_eq!(audit_count(&app, "user:role"), 1);
    {
        let mut conn = app.pool.get().unwrap();
        let user = khaosat::db::users::by_id(&mut conn, id).unwrap().unwrap();
        assert_eq!(user.role, Role::Coordinator);
        let old = khaosat::db::audit::latest_new_value(&mut conn, "user:role")
            .unwrap()
            .unwrap();
        assert!(old.contains("coordinator"), "{old}");
    }
    let page = app.get_html(&format!("/admin/accounts/{id}")).await;
    assert!(page.contains("<option value=\"coordinator\" selected"));
}

#[tokio::test]
async fn deactivating_ends_the_session_and_the_api_token_at_once() {
    let app = spawn_app().await;
    let (round, _) = open_round_with_codes(&app, 0);
    app.login_as("admin@sonoivu.gov.vn", Role::Admin).await;
    let analyst = desk(&app, "analyst@sonoivu.gov.vn", Role::Analyst).await;
    let id = user_id(&app, "analyst@sonoivu.gov.vn");
    let token = {
        let mut conn = app.pool.get().unwrap();
        khaosat::app::auth::api_token::create(
            &mut conn,
            id,
            "analyst@sonoivu.gov.vn",
            "script",
            khaosat::app::auth::api_token::TokenScope::Read,
        )
        .unwrap()
    };
    let api = |token: String| {
        let url = app.url(&format!("/api/v1/rounds/{round}"));
        async move {
            reqwest::Client::new()
                .get(url)
                .bearer_auth(token)
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    let admin_page = |c: reqwest::Client| {
        let url = app.url("/admin");
        async move { c.get(url).send().await.unwrap().status() }
    };
    assert_eq!(api(token.clone()).await, 200);
    assert_eq!(admin_page(analyst.clone()).await, 200);

    let done = post_on_account(&app, id, "deactivate", &[]).await;
    assert_eq!(done.status(), 303);
    assert_eq!(audit_count(&app, "user:deactivate"), 1);
    assert_eq!(
        admin_page(analyst.clone()).await,
        303,
        "the session cookie no longer works: back to the login page"
    );
    assert_eq!(api(token.clone()).await, 401);
    assert_eq!(
        app.login("analyst@sonoivu.gov.vn", PASSWORD).await.status(),
        401,
        "a deactivated account cannot log in"
    );
    let page = app.get_html(&format!("/admin/accounts/{id}")).await;
    assert!(page.contains("Đã ngừng kích hoạt"));

    // Reactivated, it logs in again, but the revoked token stays revoked.
    app.login("admin@sonoivu.gov.vn", PASSWORD).await;
    let back = post_on_account(&app, id, "activate", &[]).await;
    assert_eq!(back.status(), 303);
    assert_eq!(audit_count(&app, "user:activate"), 1);
    let fresh = crate::permissions::client(&app, Some("analyst@sonoivu.gov.vn")).await;
    assert_eq!(admin_page(fresh).await, 200);
    assert_eq!(api(token).await, 401);
}

#[tokio::test]
async fn the_last_admin_cannot_deactivate_or_demote_themselves() {
    let app = spawn_app().await;
    app.login_as("admin@sonoivu.gov.vn", Role::Admin).await;
    let me = user_id(&app, "admin@sonoivu.gov.vn");
    for (action, form) in [("deactivate", vec![]), ("role", vec![("role", "analyst")])] {
        let refused = post_on_account(&app, me, action, &form).await;
        assert_eq!(refused.status(), 422, "{action}");
        let body = refused.text().await.unwrap();
        assert!(
            body.contains("quản trị viên cuối cùng đang hoạt động"),
            "{action}: {body}"
        );
    }
    assert_eq!(app.get("/admin").await.status(), 200, "still signed in");
    assert_eq!(audit_count(&app, "user:deactivate"), 0);

    // With a second administrator, the first may step down.
    desk(&app, "second@sonoivu.gov.vn", Role::Admin).await;
    let stepped = post_on_account(&app, me, "role", &[("role", "analyst")]).await;
    assert_eq!(stepped.status(), 303);
}

fn khaosat(db: &TestDb, args: &[&str]) -> std::process::Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_khaosat"))
        .args(args)
        .env("DATABASE_URL", db.url())
        .env("KHAOSAT_LANG", "en")
        .env("RUST_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("{PASSWORD}\n").as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn ok(out: &std::process::Output) -> String {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

#[tokio::test]
async fn the_cli_changes_roles_units_and_activation_and_names_an_unknown_email() {
    let db = TestDb::new();
    for (email, role) in [
        ("admin@sonoivu.gov.vn", "admin"),
        ("coord@sonoivu.gov.vn", "analyst"),
    ] {
        ok(&khaosat(
            &db,
            &[
                "admin", "create", "--email", email, "--name", "A", "--role", role,
            ],
        ));
    }
    let unknown = khaosat(&db, &["admin", "deactivate", "nobody@sonoivu.gov.vn"]);
    assert!(!unknown.status.success());
    assert_eq!(
        String::from_utf8_lossy(&unknown.stderr).trim(),
        "khaosat: no account with the e-mail nobody@sonoivu.gov.vn"
    );
    let vi = khaosat(
        &db,
        &[
            "--lang",
            "vi",
            "admin",
            "role",
            "nobody@sonoivu.gov.vn",
            "admin",
        ],
    );
    assert!(
        String::from_utf8_lossy(&vi.stderr)
            .contains("không có tài khoản nào với địa chỉ nobody@sonoivu.gov.vn")
    );
    let bad_role = khaosat(&db, &["admin", "role", "coord@sonoivu.gov.vn", "root"]);
    assert!(String::from_utf8_lossy(&bad_role.stderr).contains("unknown role 'root'"));

    let not_yet = khaosat(&db, &["admin", "units", "coord@sonoivu.gov.vn", "01"]);
    let stderr = String::from_utf8_lossy(&not_yet.stderr);
    assert!(stderr.contains("only coordinators"), "{stderr}");
    assert_eq!(
        ok(&khaosat(
            &db,
            &["admin", "role", "Coord@Sonoivu.gov.vn", "coordinator"]
        )),
        "coord@sonoivu.gov.vn is now Coordinator"
    );
    let assigned = ok(&khaosat(
        &db,
        &[
            "admin",
            "units",
            "coord@sonoivu.gov.vn",
            "thanh pho ha noi, Đà Nẵng",
        ],
    ));
    assert!(
        assigned.starts_with("coord@sonoivu.gov.vn is responsible for"),
        "{assigned}"
    );
    assert!(
        assigned.contains("Ha Noi") || assigned.contains("Hanoi"),
        "{assigned}"
    );
    let nowhere = khaosat(&db, &["admin", "units", "coord@sonoivu.gov.vn", "Atlantis"]);
    assert!(String::from_utf8_lossy(&nowhere.stderr).contains("'Atlantis' is neither"));

    let last = khaosat(&db, &["admin", "deactivate", "admin@sonoivu.gov.vn"]);
    assert!(String::from_utf8_lossy(&last.stderr).contains("last active administrator"));
    assert!(
        ok(&khaosat(
            &db,
            &["admin", "deactivate", "coord@sonoivu.gov.vn"]
        ))
        .starts_with("deactivated the account coord@sonoivu.gov.vn")
    );

    let app = spawn_app_on(db, |_| {}).await;
    assert_eq!(
        app.login("coord@sonoivu.gov.vn", PASSWORD).await.status(),
        401,
        "deactivated: it cannot log in"
    );
    {
        let mut conn = app.pool.get().unwrap();
        let coord = khaosat::db::users::by_email(&mut conn, "coord@sonoivu.gov.vn")
            .unwrap()
            .unwrap();
        assert!(!coord.active);
        assert!(
            khaosat::db::users::unit_ids(&mut conn, coord.id)
                .unwrap()
                .len()
                >= 2
        );
        for action in ["user:role", "user:units", "user:deactivate"] {
            assert_eq!(
                khaosat::db::audit::count_action(&mut conn, action).unwrap(),
                1,
                "{action}"
            );
        }
    }
}

/// A client of its own (another person's browser), reading pages in `lang`.
fn browser(app: &TestApp, lang: &str) -> reqwest::Client {
    let jar = Arc::new(reqwest::cookie::Jar::default());
    jar.add_cookie_str(&format!("lang={lang}"), &app.address.parse().unwrap());
    reqwest::Client::builder()
        .cookie_provider(jar)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// The text of the element `<code id="account-link">` of a page, if it has one.
fn shown_link(page: &str) -> Option<String> {
    let marker = "<code id=\"account-link\">";
    let start = page.find(marker)? + marker.len();
    let end = page[start..].find("</code>")? + start;
    Some(page[start..end].to_owned())
}

/// Adds an account through the page as the signed-in administrator and follows the redirect
/// to the page that shows its link: the account's id and the link.
async fn add_through_page(app: &TestApp, name: &str, email: &str, role: &str) -> (i64, String) {
    let added = app
        .submit(
            "/admin/accounts",
            "/admin/accounts",
            &[("name", name), ("email", email), ("role", role)],
        )
        .await;
    assert_eq!(added.status(), 303, "{email} is added");
    let location = added.headers()["location"].to_str().unwrap().to_owned();
    let id = user_id(app, &email.trim().to_lowercase());
    assert_eq!(location, format!("/admin/accounts/{id}/link"));
    let page = app.get_html(&location).await;
    let link = shown_link(&page).expect("the fresh link is shown");
    (id, link)
}

/// Opens `link` in `visitor` and chooses `password` on its form.
async fn choose_password(
    visitor: &reqwest::Client,
    link: &str,
    password: &str,
    confirmation: &str,
) -> reqwest::Response {
    let form = visitor.get(link).send().await.unwrap();
    assert_eq!(form.status(), 200, "{link}");
    let token = csrf_from(&form.text().await.unwrap());
    visitor
        .post(link)
        .form(&[
            ("password", password),
            ("password_confirm", confirmation),
            ("csrf_token", &token),
        ])
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn an_admin_adds_a_coordinator_who_sets_their_own_password_through_the_link() {
    let app = spawn_app().await;
    app.login_as("admin@sonoivu.gov.vn", Role::Admin).await;
    let list = app.get_html("/admin/accounts").await;
    assert!(
        list.contains(r#"<form method="post" action="/admin/accounts""#),
        "{list}"
    );
    assert!(list.contains("Thêm tài khoản"));
    for (code, label) in [
        ("admin", "Quản trị viên"),
        ("coordinator", "Điều phối viên"),
        ("analyst", "Chuyên viên phân tích"),
    ] {
        assert!(list.contains(&format!(r#"value="{code}""#)), "{code}");
        assert!(list.contains(label), "{label}");
    }

    let (id, link) = add_through_page(
        &app,
        "Trần Thị Bình",
        " Binh@SoNoiVu.gov.vn ",
        "coordinator",
    )
    .await;
    assert!(
        link.starts_with(&format!("{}/admin/welcome/", app.address)),
        "{link}"
    );
    let token = link.rsplit('/').next().unwrap().to_owned();
    {
        let mut conn = app.pool.get().unwrap();
        let user = khaosat::db::users::by_id(&mut conn, id).unwrap().unwrap();
        assert_eq!(user.email, "binh@sonoivu.gov.vn");
        assert_eq!(user.role, Role::Coordinator);
        assert!(!user.has_password(), "nobody has chosen a password yet");
        let created = khaosat::db::audit::latest_new_value(&mut conn, "user:create")
            .unwrap()
            .unwrap();
        assert!(created.contains("binh@sonoivu.gov.vn"), "{created}");
        // Only the digest of the token is stored.
        let hash = khaosat::app::auth::tokens::hash_token(&token);
        let row = khaosat::db::account_links::by_hash(&mut conn, &hash)
            .unwrap()
            .expect("the link is stored by its digest");
        assert_eq!(row.user_id, id);
        assert_eq!((row.expires_at - row.created_at).num_hours(), 72);
        assert!(
            khaosat::db::account_links::by_hash(&mut conn, &token)
                .unwrap()
                .is_none()
        );
    }
    // The link is shown once; the page then offers a new one.
    let again = app.get_html(&format!("/admin/accounts/{id}/link")).await;
    assert!(shown_link(&again).is_none(), "{again}");
    assert!(again.contains("Tạo liên kết mới"));
    let account = app.get_html(&format!("/admin/accounts/{id}")).await;
    assert!(account.contains(&format!(r#"action="/admin/accounts/{id}/link""#)));
    assert!(account.contains("Tạo liên kết mới"));

    // Nothing typed at the login form opens the account before its owner chooses a password.
    let stranger = browser(&app, "vi");
    for guess in [khaosat::domain::account::NO_PASSWORD, "", PASSWORD] {
        let page = stranger.get(app.url("/admin/login")).send().await.unwrap();
        let csrf = csrf_from(&page.text().await.unwrap());
        let refused = stranger
            .post(app.url("/admin/login"))
            .form(&[
                ("email", "binh@sonoivu.gov.vn"),
                ("password", guess),
                ("csrf_token", &csrf),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(refused.status(), 401, "{guess:?}");
    }

    // The owner opens the link in their own browser, sees their address and chooses.
    let owner = browser(&app, "vi");
    let form = owner.get(&link).send().await.unwrap().text().await.unwrap();
    assert!(form.contains("binh@sonoivu.gov.vn"), "{form}");
    assert!(form.contains(r#"name="password_confirm""#));
    let mismatch = choose_password(&owner, &link, PASSWORD, "something else entirely").await;
    assert_eq!(mismatch.status(), 422);
    assert!(
        mismatch
            .text()
            .await
            .unwrap()
            .contains("Hai mật khẩu không khớp nhau.")
    );
    let short = choose_password(&owner, &link, "short", "short").await;
    assert_eq!(short.status(), 422);
    assert!(short.text().await.unwrap().contains("ít nhất 12 ký tự"));

    let chosen = choose_password(&owner, &link, PASSWORD, PASSWORD).await;
    assert_eq!(chosen.status(), 303);
    assert_eq!(chosen.headers()["location"], "/admin");
    let home = owner.get(app.url("/admin")).send().await.unwrap();
    assert_eq!(home.status(), 200, "signed in by the link");
    assert!(home.text().await.unwrap().contains("Trần Thị Bình"));
    assert_eq!(audit_count(&app, "user:password_chosen"), 1);

    // From now on the password works at the login form, and the link no more.
    let later = crate::permissions::client(&app, Some("binh@sonoivu.gov.vn")).await;
    assert_eq!(
        later.get(app.url("/admin")).send().await.unwrap().status(),
        200
    );
    assert_eq!(owner.get(&link).send().await.unwrap().status(), 410);
    let account = app.get_html(&format!("/admin/accounts/{id}")).await;
    assert!(!account.contains(&format!(r#"action="/admin/accounts/{id}/link""#)));
}

#[tokio::test]
async fn a_used_or_expired_account_link_is_refused() {
    let app = spawn_app().await;
    app.login_as("admin@sonoivu.gov.vn", Role::Admin).await;

    // Used.
    let (_, used) = add_through_page(&app, "Một", "mot@sonoivu.gov.vn", "analyst").await;
    let owner = browser(&app, "vi");
    assert_eq!(
        choose_password(&owner, &used, PASSWORD, PASSWORD)
            .await
            .status(),
        303
    );
    let reader = browser(&app, "en");
    let gone = reader.get(&used).send().await.unwrap();
    assert_eq!(gone.status(), 410);
    assert!(
        gone.text()
            .await
            .unwrap()
            .contains("This link no longer works")
    );
    let vi = browser(&app, "vi");
    let gone = vi.get(&used).send().await.unwrap();
    assert_eq!(gone.status(), 410);
    assert!(
        gone.text()
            .await
            .unwrap()
            .contains("Liên kết không còn dùng được")
    );

    // Expired.
    let (expiring, expired) = add_through_page(&app, "Hai", "hai@sonoivu.gov.vn", "analyst").await;
    {
        use diesel::prelude::*;
        use khaosat::db::schema::account_links;
        let mut conn = app.pool.get().unwrap();
        diesel::update(account_links::table.filter(account_links::user_id.eq(expiring)))
            .set(account_links::expires_at.eq(khaosat::db::now() - chrono::Duration::minutes(1)))
            .execute(&mut conn)
            .unwrap();
    }
    assert_eq!(reader.get(&expired).send().await.unwrap().status(), 410);
    let csrf = csrf_from(&app.get_html("/admin/login").await);
    let late = app
        .client
        .post(&expired)
        .form(&[
            ("password", PASSWORD),
            ("password_confirm", PASSWORD),
            ("csrf_token", &csrf),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(late.status(), 410);

    // Unknown, in the reader's language.
    let unknown = reader
        .get(app.url("/admin/welcome/not-a-link"))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 404);
    assert!(
        unknown
            .text()
            .await
            .unwrap()
            .contains("This link is not valid")
    );

    // A new link replaces the earlier one, which stops working.
    let renewed = post_on_account(&app, expiring, "link", &[]).await;
    assert_eq!(renewed.status(), 303);
    assert_eq!(
        renewed.headers()["location"],
        format!("/admin/accounts/{expiring}/link").as_str()
    );
    let page = app
        .get_html(&format!("/admin/accounts/{expiring}/link"))
        .await;
    let fresh = shown_link(&page).expect("the new link is shown");
    assert!(page.contains("72"), "{page}");
    assert_ne!(fresh, expired);
    assert_eq!(audit_count(&app, "user:link"), 1);
    let (_, replaced) = add_through_page(&app, "Ba", "ba@sonoivu.gov.vn", "analyst").await;
    let ba = user_id(&app, "ba@sonoivu.gov.vn");
    assert_eq!(post_on_account(&app, ba, "link", &[]).await.status(), 303);
    assert_eq!(reader.get(&replaced).send().await.unwrap().status(), 410);

    // A deactivated account's link does not work, and no new one is made for it.
    assert_eq!(reader.get(&fresh).send().await.unwrap().status(), 200);
    assert_eq!(
        post_on_account(&app, expiring, "deactivate", &[])
            .await
            .status(),
        303
    );
    assert_eq!(reader.get(&fresh).send().await.unwrap().status(), 410);
    let refused = post_on_account(&app, expiring, "link", &[]).await;
    assert_eq!(refused.status(), 422);
    // Reactivating does not revive it: the administrator makes a new one.
    assert_eq!(
        post_on_account(&app, expiring, "activate", &[])
            .await
            .status(),
        303
    );
    assert_eq!(reader.get(&fresh).send().await.unwrap().status(), 410);

    // An account whose owner has chosen a password gets no link.
    let mot = user_id(&app, "mot@sonoivu.gov.vn");
    assert_eq!(post_on_account(&app, mot, "link", &[]).await.status(), 422);
}

#[tokio::test]
async fn two_submissions_racing_on_one_link_set_one_password() {
    let app = spawn_app().await;
    app.login_as("admin@sonoivu.gov.vn", Role::Admin).await;
    let (_, link) = add_through_page(&app, "Bốn", "bon@sonoivu.gov.vn", "analyst").await;
    let (first, second) = (browser(&app, "vi"), browser(&app, "vi"));
    let mut forms = Vec::new();
    for visitor in [&first, &second] {
        let page = visitor
            .get(&link)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        forms.push(csrf_from(&page));
    }
    let post = |visitor: &reqwest::Client, csrf: String, password: &'static str| {
        visitor
            .post(&link)
            .form(&[
                ("password", password),
                ("password_confirm", password),
                ("csrf_token", &csrf),
            ])
            .send()
    };
    let (a, b) = tokio::join!(
        post(&first, forms[0].clone(), "first password, long enough"),
        post(&second, forms[1].clone(), "second password, long enough"),
    );
    let mut statuses = [a.unwrap().status().as_u16(), b.unwrap().status().as_u16()];
    statuses.sort_unstable();
    assert_eq!(statuses, [303, 410]);
    assert_eq!(audit_count(&app, "user:password_chosen"), 1);
}

#[tokio::test]
async fn guessing_account_links_from_one_address_is_throttled() {
    let app = spawn_app().await;
    let csrf = csrf_from(&app.get_html("/admin/login").await);
    let form = [
        ("password", PASSWORD),
        ("password_confirm", PASSWORD),
        ("csrf_token", csrf.as_str()),
    ];
    for i in 0..10 {
        let guess = app
            .client
            .post(app.url(&format!("/admin/welcome/guess-{i}")))
            .form(&form)
            .send()
            .await
            .unwrap();
        assert_eq!(guess.status(), 404, "guess {i}");
    }
    let throttled = app
        .client
        .post(app.url("/admin/welcome/guess-10"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(throttled.status(), 429);
}

#[tokio::test]
async fn a_coordinator_cannot_add_accounts() {
    let app = spawn_app().await;
    app.login_as("admin@sonoivu.gov.vn", Role::Admin).await;
    let coordinator = desk(&app, "coord@sonoivu.gov.vn", Role::Coordinator).await;
    let page = coordinator
        .get(app.url("/admin/accounts"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 403);
    let csrf = csrf_from(
        &coordinator
            .get(app.url("/admin/tokens"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
    );
    let refused = coordinator
        .post(app.url("/admin/accounts"))
        .form(&[
            ("name", "Kẻ Lạ"),
            ("email", "stranger@sonoivu.gov.vn"),
            ("role", "admin"),
            ("csrf_token", &csrf),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 403);
    let mut conn = app.pool.get().unwrap();
    assert!(
        khaosat::db::users::by_email(&mut conn, "stranger@sonoivu.gov.vn")
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn a_taken_email_comes_back_with_the_typed_values() {
    let app = spawn_app().await;
    app.login_as("admin@sonoivu.gov.vn", Role::Admin).await;
    desk(&app, "coord@sonoivu.gov.vn", Role::Coordinator).await;
    let taken = app
        .submit(
            "/admin/accounts",
            "/admin/accounts",
            &[
                ("name", "Lê Văn Cường"),
                ("email", "COORD@sonoivu.gov.vn"),
                ("role", "analyst"),
            ],
        )
        .await;
    assert_eq!(taken.status(), 422);
    let page = taken.text().await.unwrap();
    assert!(page.contains(r#"value="Lê Văn Cường""#), "{page}");
    assert!(page.contains(r#"value="COORD@sonoivu.gov.vn""#));
    assert!(page.contains(r#"<option value="analyst" selected"#));
    assert!(
        page.contains(r##"<a href="#email">Đã có tài khoản dùng địa chỉ thư điện tử này.</a>"##)
    );
    assert!(page.contains(r#"id="email-error""#));
    assert_eq!(
        audit_count(&app, "user:create"),
        2,
        "only the two test accounts"
    );

    // Every other mistake at once, each beside its field.
    let wrong = app
        .submit(
            "/admin/accounts",
            "/admin/accounts",
            &[
                ("name", "  "),
                ("email", "not an address"),
                ("role", "root"),
            ],
        )
        .await;
    assert_eq!(wrong.status(), 422);
    let page = wrong.text().await.unwrap();
    for id in ["name-error", "email-error", "role-error"] {
        assert!(page.contains(&format!(r#"id="{id}""#)), "{id}: {page}");
    }
    assert!(page.contains(r#"value="not an address""#));
}
