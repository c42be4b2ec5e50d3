//! Every route, for every kind of visitor: a table says who may use each route, and the test
//! walks the whole route table of `src/routes/mod.rs` as the public, a coordinator of one unit,
//! an analyst and an administrator. A route missing from the table fails the test, so a new
//! route cannot ship without a decision about who may use it.

use std::collections::BTreeSet;
use std::sync::Arc;

use khaosat::domain::account::Role;
use reqwest::cookie::Jar;

use crate::helpers::{PASSWORD, TestApp, csrf_from, spawn_app};

/// Who may use a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Access {
    /// Everybody, including the public (respondent pages, login, health, published results).
    Public,
    /// Any signed-in account.
    Staff,
    /// Administrators and analysts.
    AdminAnalyst,
    /// Administrators and coordinators.
    AdminCoordinator,
    /// Administrators only.
    Admin,
}

/// The visitors the table is checked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Visitor {
    Public,
    Coordinator,
    Analyst,
    Admin,
}

impl Access {
    fn allows(self, v: Visitor) -> bool {
        match (self, v) {
            (Access::Public, _) | (_, Visitor::Admin) => true,
            (_, Visitor::Public) => false,
            (Access::Staff, _) => true,
            (Access::AdminAnalyst, v) => v == Visitor::Analyst,
            (Access::AdminCoordinator, v) => v == Visitor::Coordinator,
            (Access::Admin, _) => false,
        }
    }
}

/// Method, route pattern and who may use it. Keep in the order of `routes::configure`.
const TABLE: &[(&str, &str, Access)] = &[
    ("GET", "/", Access::Public),
    ("GET", "/lang/{code}", Access::Public),
    ("GET", "/assets/{hash}/{name}", Access::Public),
    ("GET", "/healthz", Access::Public),
    ("GET", "/readyz", Access::Public),
    ("GET", "/metrics", Access::Public),
    ("GET", "/admin", Access::Staff),
    ("GET", "/admin/login", Access::Public),
    ("POST", "/admin/login", Access::Public),
    ("POST", "/admin/logout", Access::Public),
    ("GET", "/admin/setup/{token}", Access::Public),
    ("POST", "/admin/setup/{token}", Access::Public),
    ("GET", "/admin/welcome/{token}", Access::Public),
    ("POST", "/admin/welcome/{token}", Access::Public),
    ("GET", "/admin/instruments", Access::Staff),
    ("POST", "/admin/instruments/import", Access::Admin),
    ("GET", "/admin/instruments/{id}", Access::Staff),
    ("GET", "/admin/instruments/{id}/export", Access::Staff),
    ("GET", "/admin/instruments/{id}/xlsform", Access::Staff),
    ("GET", "/admin/instruments/{id}/diff", Access::Staff),
    ("POST", "/admin/methodologies/import", Access::Admin),
    ("GET", "/admin/methodologies/{id}", Access::Staff),
    ("GET", "/admin/methodologies/{id}/export", Access::Staff),
    ("GET", "/admin/units", Access::Staff),
    ("POST", "/admin/units", Access::Admin),
    ("GET", "/admin/rounds", Access::Staff),
    ("POST", "/admin/rounds", Access::Admin),
    ("GET", "/admin/rounds/{id}", Access::Staff),
    ("GET", "/admin/rounds/{id}/edit", Access::Admin),
    ("POST", "/admin/rounds/{id}/edit", Access::Admin),
    ("GET", "/admin/rounds/{id}/delete", Access::Admin),
    ("POST", "/admin/rounds/{id}/delete", Access::Admin),
    ("POST", "/admin/rounds/{id}/groups", Access::Admin),
    ("POST", "/admin/rounds/{id}/targets", Access::Admin),
    ("GET", "/admin/rounds/{id}/actions/{action}", Access::Admin),
    ("POST", "/admin/rounds/{id}/actions/{action}", Access::Admin),
    (
        "GET",
        "/admin/rounds/{id}/actions/{action}/done",
        Access::Admin,
    ),
    ("POST", "/admin/rounds/{id}/respondents", Access::Admin),
    (
        "GET",
        "/admin/rounds/{id}/respondents/template.{ext}",
        Access::Admin,
    ),
    (
        "GET",
        "/admin/rounds/{id}/respondents",
        Access::AdminCoordinator,
    ),
    (
        "POST",
        "/admin/rounds/{id}/respondents/confirm",
        Access::Admin,
    ),
    (
        "GET",
        "/admin/rounds/{id}/respondents/{respondent}/edit",
        Access::Admin,
    ),
    (
        "POST",
        "/admin/rounds/{id}/respondents/{respondent}/edit",
        Access::Admin,
    ),
    (
        "GET",
        "/admin/rounds/{id}/respondents/{respondent}/remove",
        Access::Admin,
    ),
    (
        "POST",
        "/admin/rounds/{id}/respondents/{respondent}/remove",
        Access::Admin,
    ),
    ("POST", "/admin/rounds/{id}/codes", Access::Admin),
    ("GET", "/admin/rounds/{id}/sample", Access::Admin),
    ("POST", "/admin/rounds/{id}/sample/commit", Access::Admin),
    ("POST", "/admin/rounds/{id}/sample/draw", Access::Admin),
    ("POST", "/admin/rounds/{id}/sample/replace", Access::Admin),
    ("GET", "/admin/rounds/{id}/codes/reissue", Access::Admin),
    ("POST", "/admin/rounds/{id}/codes/reissue", Access::Admin),
    ("POST", "/admin/rounds/{id}/invitations", Access::Admin),
    ("POST", "/admin/rounds/{id}/reminders", Access::Admin),
    ("POST", "/admin/rounds/{id}/open-links", Access::Admin),
    ("GET", "/admin/rounds/{id}/coverage", Access::Staff),
    ("GET", "/admin/rounds/{id}/scores", Access::AdminAnalyst),
    ("POST", "/admin/rounds/{id}/compare", Access::Admin),
    ("GET", "/admin/rounds/{id}/quality", Access::AdminAnalyst),
    (
        "POST",
        "/admin/rounds/{id}/quality/flag",
        Access::AdminAnalyst,
    ),
    (
        "POST",
        "/admin/rounds/{id}/quality/exclude",
        Access::AdminAnalyst,
    ),
    ("GET", "/admin/rounds/{id}/paper", Access::AdminCoordinator),
    ("POST", "/admin/rounds/{id}/paper", Access::AdminCoordinator),
    // Field submissions count at once, like single-entry paper keying: administrators only.
    ("GET", "/admin/rounds/{id}/field", Access::Admin),
    ("POST", "/admin/rounds/{id}/field", Access::Admin),
    ("POST", "/admin/rounds/{id}/field/confirm", Access::Admin),
    ("GET", "/admin/tokens", Access::Staff),
    ("POST", "/admin/tokens", Access::Staff),
    ("POST", "/admin/tokens/{id}/revoke", Access::Staff),
    ("GET", "/admin/accounts", Access::Admin),
    ("POST", "/admin/accounts", Access::Admin),
    ("GET", "/admin/accounts/{id}", Access::Admin),
    ("GET", "/admin/accounts/{id}/link", Access::Admin),
    ("POST", "/admin/accounts/{id}/link", Access::Admin),
    ("POST", "/admin/accounts/{id}/role", Access::Admin),
    ("POST", "/admin/accounts/{id}/units", Access::Admin),
    ("POST", "/admin/accounts/{id}/deactivate", Access::Admin),
    ("POST", "/admin/accounts/{id}/activate", Access::Admin),
    ("GET", "/results", Access::Public),
    // The round in this test is unpublished: its results are for staff only.
    ("GET", "/results/{id}", Access::Staff),
    ("GET", "/results/{id}/items", Access::Staff),
    ("GET", "/results/{id}/breakdown", Access::Staff),
    ("GET", "/results/{id}/compare", Access::Staff),
    ("GET", "/results/{id}/units/{code}", Access::Staff),
    ("GET", "/results/{id}/units/{code}/gains", Access::Staff),
    ("GET", "/results/{id}/units/{code}/plan", Access::Staff),
    ("GET", "/results/{id}/units/{code}/plan.xlsx", Access::Staff),
    ("GET", "/results/{id}/download/{file}", Access::Staff),
    ("POST", "/results/{id}/exports", Access::Staff),
    ("GET", "/exports", Access::Staff),
    ("GET", "/exports/{job}", Access::Staff),
    ("GET", "/exports/{job}/file", Access::Staff),
    ("GET", "/api/openapi.json", Access::Public),
    ("GET", "/api/docs", Access::Public),
    ("GET", "/api/v1/rounds", Access::Public),
    ("GET", "/api/v1/rounds/{id}", Access::Staff),
    ("GET", "/api/v1/rounds/{id}/units", Access::Staff),
    (
        "GET",
        "/api/v1/rounds/{id}/units/{code}/gains",
        Access::Staff,
    ),
    (
        "GET",
        "/api/v1/rounds/{id}/units/{code}/whatif",
        Access::Staff,
    ),
    ("GET", "/api/v1/rounds/{id}/compare", Access::Staff),
    ("GET", "/api/v1/rounds/{id}/scores", Access::Staff),
    ("GET", "/api/v1/rounds/{id}/rankings", Access::Staff),
    ("GET", "/api/v1/rounds/{id}/coverage", Access::Staff),
    ("GET", "/api/v1/rounds/{id}/breakdown", Access::Staff),
    // Writing through the API needs a write token; a browser session never suffices.
    ("POST", "/api/v1/rounds/{id}/exports", Access::Public),
    ("GET", "/api/v1/exports/{job}", Access::Staff),
    ("GET", "/api/v1/exports/{job}/file", Access::Staff),
    ("GET", "/o/{token}", Access::Public),
    ("POST", "/o/{token}", Access::Public),
    ("GET", "/optout/{token}", Access::Public),
    ("POST", "/optout/{token}", Access::Public),
    ("POST", "/s", Access::Public),
    ("GET", "/s/{code}", Access::Public),
    ("POST", "/s/{code}/start", Access::Public),
    ("GET", "/s/{code}/p/{n}", Access::Public),
    ("POST", "/s/{code}/p/{n}", Access::Public),
    ("GET", "/s/{code}/review", Access::Public),
    ("POST", "/s/{code}/submit", Access::Public),
    ("GET", "/receipt/{receipt}", Access::Public),
];

/// The keying modes of `POST /admin/rounds/{id}/paper` (`_entry`) and who may use each: the
/// `key_paper` and `key_paper_single` rows of `lifecycle::PERMISSIONS`. A coordinator keys only
/// double entry (a second account must agree); a form that counts at once is for administrators.
const PAPER_MODES: &[(&str, Access)] = &[
    ("single", Access::Admin),
    ("1", Access::AdminCoordinator),
    ("2", Access::AdminCoordinator),
];

/// Every (method, pattern) registered in `routes::configure`, read from its source.
pub fn registered_routes() -> BTreeSet<(String, String)> {
    let source = include_str!("../../src/routes/mod.rs");
    let mut out = BTreeSet::new();
    let mut rest = source;
    while let Some(at) = rest.find(".route(") {
        rest = &rest[at + ".route(".len()..];
        let open = rest.find('"').unwrap();
        let close = open + 1 + rest[open + 1..].find('"').unwrap();
        let path = rest[open + 1..close].to_owned();
        let after = &rest[close..];
        let method = after[after.find("web::").unwrap() + 5..]
            .split('(')
            .next()
            .unwrap()
            .to_uppercase();
        out.insert((method, path));
    }
    out
}

#[test]
fn every_route_is_in_the_permission_table() {
    let registered = registered_routes();
    assert!(registered.len() > 50, "the route table was read");
    let table: BTreeSet<(String, String)> = TABLE
        .iter()
        .map(|(m, p, _)| ((*m).to_owned(), (*p).to_owned()))
        .collect();
    let missing: Vec<_> = registered.difference(&table).collect();
    assert!(
        missing.is_empty(),
        "routes without a permission decision: {missing:?}"
    );
    let stale: Vec<_> = table.difference(&registered).collect();
    assert!(
        stale.is_empty(),
        "table rows for routes that no longer exist: {stale:?}"
    );
}

/// A client with its own cookie jar, signed in as `email` when given.
pub async fn client(app: &TestApp, email: Option<&str>) -> reqwest::Client {
    let jar = Arc::new(Jar::default());
    let c = reqwest::Client::builder()
        .cookie_provider(jar)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    if let Some(email) = email {
        let page = c.get(app.url("/admin/login")).send().await.unwrap();
        let token = csrf_from(&page.text().await.unwrap());
        let r = c
            .post(app.url("/admin/login"))
            .form(&[
                ("email", email),
                ("password", PASSWORD),
                ("csrf_token", &token),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303, "{email} logs in");
    }
    c
}

/// One account of each role (the coordinator assigned to the round's first unit) and a
/// signed-in client for each visitor; returns that unit too.
async fn visitors_of(
    app: &TestApp,
    round: i64,
) -> (khaosat::db::units::UnitRow, [(Visitor, reqwest::Client); 4]) {
    let unit = {
        let mut conn = app.pool.get().unwrap();
        khaosat::db::rounds::units(&mut conn, round).unwrap()[0].clone()
    };
    create_account(app, "admin@sonoivu.gov.vn", Role::Admin);
    create_account(app, "analyst@sonoivu.gov.vn", Role::Analyst);
    let coordinator = create_account(app, "coord@sonoivu.gov.vn", Role::Coordinator);
    {
        let mut conn = app.pool.get().unwrap();
        khaosat::db::users::add_unit(&mut conn, coordinator, unit.id).unwrap();
    }
    let visitors = [
        (Visitor::Public, client(app, None).await),
        (
            Visitor::Coordinator,
            client(app, Some("coord@sonoivu.gov.vn")).await,
        ),
        (
            Visitor::Analyst,
            client(app, Some("analyst@sonoivu.gov.vn")).await,
        ),
        (
            Visitor::Admin,
            client(app, Some("admin@sonoivu.gov.vn")).await,
        ),
    ];
    (unit, visitors)
}

fn create_account(app: &TestApp, email: &str, role: Role) -> i64 {
    let hash = khaosat::app::auth::password::hash(PASSWORD).unwrap();
    let mut conn = app.pool.get().unwrap();
    khaosat::db::write_transaction(&mut conn, |conn| {
        khaosat::app::accounts::create_user(
            conn,
            &khaosat::domain::account::Email::parse(email).unwrap(),
            "Test",
            role,
            &hash,
            "test",
            None,
        )
    })
    .unwrap()
    .id
}

#[tokio::test]
async fn every_route_answers_each_visitor_as_the_permission_table_says() {
    let app = spawn_app().await;
    let (round, codes) = crate::respond::open_round_with_codes(&app, 1);
    let code = codes[0].as_canonical().to_owned();
    let (unit, visitors) = visitors_of(&app, round).await;
    let mut failures = Vec::new();
    for (method, pattern, access) in TABLE {
        // Logging out would end the visitor's session for the rest of the walk.
        if *pattern == "/admin/logout" {
            continue;
        }
        let path = pattern
            .replace("/admin/instruments/{id}", "/admin/instruments/1")
            .replace("/admin/methodologies/{id}", "/admin/methodologies/1")
            .replace("/admin/tokens/{id}", "/admin/tokens/999999")
            // No such account: the walk must not change the roles of the visitors it uses.
            .replace("/admin/accounts/{id}", "/admin/accounts/999999")
            .replace("{id}", &round.to_string())
            .replace("{respondent}", "999999")
            .replace("/units/{code}", &format!("/units/{}", unit.code))
            .replace("{code}", &code)
            .replace("{n}", "1")
            .replace("{action}", "no-such-action")
            .replace("{ext}", "csv")
            .replace("{file}", "scores.csv")
            .replace("{job}", "no-such-job")
            .replace("{hash}/{name}", "nohash/app.css")
            .replace("{token}", "not-a-token")
            .replace("{receipt}", "NO-SUCH-RECEIPT");
        let path = if pattern.ends_with("/breakdown") {
            format!("{path}?group=leader&by=bg_level")
        } else {
            path
        };
        for (visitor, c) in &visitors {
            let response = if *method == "GET" {
                c.get(app.url(&path)).send().await.unwrap()
            } else {
                // A valid CSRF token and an empty form: permissions must hold whatever
                // the form says.
                let page = c.get(app.url("/admin/login")).send().await.unwrap();
                let token = csrf_from(&page.text().await.unwrap());
                c.post(app.url(&path))
                    .form(&[("csrf_token", token.as_str())])
                    .send()
                    .await
                    .unwrap()
            };
            let status = response.status().as_u16();
            let location = response
                .headers()
                .get("location")
                .and_then(|l| l.to_str().ok())
                .unwrap_or_default()
                .to_owned();
            let to_login = status == 303 && location.starts_with("/admin/login");
            let denied = matches!(status, 401 | 403) || to_login;
            let ok = if status >= 500 {
                false
            } else if access.allows(*visitor) {
                !denied
            } else if *method == "GET" {
                // A refused GET says so (or hides that the thing exists).
                denied || status == 404
            } else {
                // A refused POST never succeeds; a malformed form may be rejected first.
                denied || matches!(status, 400 | 404 | 422)
            };
            if !ok {
                failures.push(format!(
                    "{method} {path} as {visitor:?}: {status} {location} (table: {access:?})"
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn the_paper_modes_table_is_the_permission_table_of_the_code() {
    use khaosat::app::paper::EntryMode;
    let roles = [
        (Visitor::Coordinator, Role::Coordinator),
        (Visitor::Analyst, Role::Analyst),
        (Visitor::Admin, Role::Admin),
    ];
    let listed: Vec<&str> = PAPER_MODES.iter().map(|(m, _)| *m).collect();
    let modes: Vec<&str> = EntryMode::ALL.iter().map(|m| m.code()).collect();
    assert_eq!(listed, modes, "every keying mode has a row");
    for (mode, access) in PAPER_MODES {
        let mode = EntryMode::parse(mode).unwrap();
        for (visitor, role) in roles {
            assert_eq!(
                mode.allowed_for(role),
                access.allows(visitor),
                "{mode:?} for {role:?}"
            );
        }
    }
}

#[tokio::test]
async fn every_paper_keying_mode_answers_each_visitor_as_the_table_says() {
    let app = spawn_app().await;
    let (round, _) = crate::respond::open_round_with_codes(&app, 0);
    let (unit, visitors) = visitors_of(&app, round).await;
    let answers: Vec<(String, String)> = crate::respond::leader()
        .sections()
        .iter()
        .flat_map(|s| crate::respond::fill(s, false))
        .collect();
    let mut failures = Vec::new();
    for (mode, access) in PAPER_MODES {
        for (visitor, c) in &visitors {
            let page = c.get(app.url("/admin/login")).send().await.unwrap();
            let token = csrf_from(&page.text().await.unwrap());
            // A form number of its own per mode and visitor: every keying is a first one.
            let mut form = answers.clone();
            for (k, v) in [
                ("_unit", unit.id.to_string()),
                ("_group", "leader".to_owned()),
                ("_ref", format!("{mode}-{visitor:?}")),
                ("_entry", (*mode).to_owned()),
                ("csrf_token", token),
            ] {
                form.push((k.to_owned(), v));
            }
            let response = c
                .post(app.url(&format!("/admin/rounds/{round}/paper")))
                .form(&form)
                .send()
                .await
                .unwrap();
            let status = response.status().as_u16();
            let location = response
                .headers()
                .get("location")
                .and_then(|l| l.to_str().ok())
                .unwrap_or_default()
                .to_owned();
            let stored = status == 303 && location.contains("/paper?done=");
            let denied = matches!(status, 401 | 403)
                || (status == 303 && location.starts_with("/admin/login"));
            let ok = if access.allows(*visitor) {
                stored
            } else {
                denied
            };
            if !ok {
                failures.push(format!(
                    "_entry={mode} as {visitor:?}: {status} {location} (table: {access:?})"
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[tokio::test]
async fn only_those_allowed_to_compute_see_the_compute_button_and_others_are_refused() {
    let app = spawn_app().await;
    let round = crate::results::demo_round(&app, 34);
    {
        let mut conn = app.pool.get().unwrap();
        khaosat::app::rounds::apply_action(
            &mut conn,
            round,
            khaosat::domain::lifecycle::RoundAction::Close,
            crate::rounds::ADMIN,
        )
        .unwrap();
    }
    let (_, visitors) = visitors_of(&app, round).await;
    let page = format!("/admin/rounds/{round}");
    let compute = format!("{page}/actions/compute");
    for (visitor, c) in &visitors {
        if *visitor == Visitor::Public {
            continue;
        }
        let html = c
            .get(app.url(&page))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        // The button leads to the confirmation page.
        let shown = html.contains(&format!("href=\"{compute}\""));
        assert_eq!(shown, *visitor == Visitor::Admin, "{visitor:?}");
        if *visitor != Visitor::Admin {
            let token = csrf_from(&html);
            let response = c
                .post(app.url(&compute))
                .form(&[("csrf_token", token.as_str())])
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 403, "{visitor:?}");
        }
    }
}
