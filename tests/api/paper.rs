//! Paper questionnaires keyed in by staff: same validation, flagged as paper, double entry.

use diesel::prelude::*;
use khaosat::db::schema::responses;
use khaosat::domain::account::Role;

use crate::helpers::{TestApp, csrf_from, spawn_app};
use crate::respond::{fill, leader, open_round_with_codes};

fn assign(app: &TestApp, email: &str, unit_id: i64) {
    let mut conn = app.pool.get().unwrap();
    let user = khaosat::db::users::by_email(&mut conn, email)
        .unwrap()
        .unwrap();
    khaosat::db::users::add_unit(&mut conn, user.id, unit_id).unwrap();
}

fn units(app: &TestApp, round: i64) -> Vec<i64> {
    let mut conn = app.pool.get().unwrap();
    khaosat::db::rounds::units(&mut conn, round)
        .unwrap()
        .into_iter()
        .map(|u| u.id)
        .collect()
}

async fn key(
    app: &TestApp,
    round: i64,
    unit: i64,
    form_ref: &str,
    entry: &str,
    change: Option<(&str, &str)>,
) -> reqwest::Response {
    let page = format!(
        "/admin/rounds/{round}/paper?unit={unit}&group=leader&ref={form_ref}&entry={entry}"
    );
    let token = csrf_from(&app.get_html(&page).await);
    let mut fields: Vec<(String, String)> = leader()
        .sections()
        .iter()
        .flat_map(|s| fill(s, false))
        .collect();
    if let Some((code, value)) = change {
        fields.retain(|(c, _)| c != code);
        fields.push((code.into(), value.into()));
    }
    for (k, v) in [
        ("_unit", unit.to_string()),
        ("_group", "leader".into()),
        ("_ref", form_ref.into()),
        ("_entry", entry.into()),
        ("csrf_token", token),
    ] {
        fields.push((k.into(), v));
    }
    app.client
        .post(app.url(&format!("/admin/rounds/{round}/paper")))
        .form(&fields)
        .send()
        .await
        .unwrap()
}

fn paper_responses(app: &TestApp) -> i64 {
    let mut conn = app.pool.get().unwrap();
    responses::table
        .filter(responses::source.eq("paper"))
        .count()
        .get_result(&mut conn)
        .unwrap()
}

#[tokio::test]
async fn a_coordinator_keys_a_paper_form_and_it_counts_flagged_as_paper() {
    let app = spawn_app().await;
    let (round, _) = open_round_with_codes(&app, 0);
    app.login_as("coord@sonoivu.gov.vn", Role::Coordinator)
        .await;
    let unit = units(&app, round)[0];
    assign(&app, "coord@sonoivu.gov.vn", unit);
    let response = key(&app, round, unit, "A-001", "single", None).await;
    assert_eq!(response.status(), 303);
    assert!(
        response.headers()["location"]
            .to_str()
            .unwrap()
            .ends_with("done=accepted")
    );
    assert_eq!(paper_responses(&app), 1);
    let mut conn = app.pool.get().unwrap();
    let counted: i64 = khaosat::db::schema::response_counts::table
        .select(khaosat::db::schema::response_counts::responses)
        .first(&mut conn)
        .unwrap();
    assert_eq!(counted, 1, "paper responses update the live tallies too");
}

#[tokio::test]
async fn a_keyed_form_is_validated_like_the_web_form() {
    let app = spawn_app().await;
    let (round, _) = open_round_with_codes(&app, 0);
    app.login_as("admin@sonoivu.gov.vn", Role::Admin).await;
    let unit = units(&app, round)[0];
    let response = key(
        &app,
        round,
        unit,
        "A-002",
        "single",
        Some(("bg_years", "99")),
    )
    .await;
    assert_eq!(response.status(), 422);
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("Nhập một số từ 0 đến 50.")
    );
    assert_eq!(paper_responses(&app), 0);
}

#[tokio::test]
async fn double_entry_counts_only_when_both_keyings_agree() {
    let app = spawn_app().await;
    let (round, _) = open_round_with_codes(&app, 0);
    app.login_as("admin@sonoivu.gov.vn", Role::Admin).await;
    let unit = units(&app, round)[0];
    assert!(
        key(&app, round, unit, "B-7", "1", None).await.headers()["location"]
            .to_str()
            .unwrap()
            .ends_with("done=waiting")
    );
    let second = key(&app, round, unit, "B-7", "2", Some(("c1_01", "2"))).await;
    assert!(
        second.headers()["location"]
            .to_str()
            .unwrap()
            .ends_with("done=mismatch")
    );
    assert_eq!(paper_responses(&app), 0, "a mismatch does not count");
    let list = app.get_html(&format!("/admin/rounds/{round}/paper")).await;
    assert!(
        list.contains("<code>c1_01</code>"),
        "the differing answer is listed"
    );
    let rekeyed = key(&app, round, unit, "B-7", "2", None).await;
    assert!(
        rekeyed.headers()["location"]
            .to_str()
            .unwrap()
            .ends_with("done=accepted")
    );
    assert_eq!(paper_responses(&app), 1);
    let again = key(&app, round, unit, "B-7", "1", None).await;
    assert!(
        again.headers()["location"]
            .to_str()
            .unwrap()
            .ends_with("done=already")
    );
    assert_eq!(paper_responses(&app), 1);
}

#[tokio::test]
async fn a_coordinator_cannot_key_for_another_unit() {
    let app = spawn_app().await;
    let (round, _) = open_round_with_codes(&app, 0);
    app.login_as("coord@sonoivu.gov.vn", Role::Coordinator)
        .await;
    let all = units(&app, round);
    assign(&app, "coord@sonoivu.gov.vn", all[0]);
    let page = format!(
        "/admin/rounds/{round}/paper?unit={}&group=leader&ref=X&entry=single",
        all[1]
    );
    assert_eq!(app.get(&page).await.status(), 403);
    let overview = app.get_html(&format!("/admin/rounds/{round}/paper")).await;
    assert_eq!(
        overview.matches("<option value=").count() - 1,
        1,
        "one unit offered (plus one group)"
    );
}
