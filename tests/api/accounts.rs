//! The accounts page and `khaosat admin role|units|deactivate|activate`: roles, a
//! coordinator's units, deactivation that ends sessions and tokens at once, and the last
//! administrator who cannot lock everybody out.

use std::io::Write;
use std::process::{Command, Stdio};

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
