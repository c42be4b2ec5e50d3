//! Paper questionnaires keyed in by staff: same validation, flagged as paper, double entry.

use diesel::prelude::*;
use khaosat::db::schema::responses;
use khaosat::domain::account::Role;

use crate::helpers::{PASSWORD, TestApp, csrf_from, spawn_app};
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

/// A client with its own cookie jar, signed in as a new account with `role`: a second person
/// at another desk.
pub async fn desk(app: &TestApp, email: &str, role: Role) -> reqwest::Client {
    let hash = khaosat::app::auth::password::hash(PASSWORD).unwrap();
    {
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
        .unwrap();
    }
    crate::permissions::client(app, Some(email)).await
}

/// Keys a complete leader form as `client` (optionally with one answer changed).
pub async fn key_as(
    app: &TestApp,
    client: &reqwest::Client,
    round: i64,
    unit: i64,
    form_ref: &str,
    entry: &str,
    change: Option<(&str, &str)>,
) -> reqwest::Response {
    let overview = client
        .get(app.url(&format!("/admin/rounds/{round}/paper")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let token = csrf_from(&overview);
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
    client
        .post(app.url(&format!("/admin/rounds/{round}/paper")))
        .form(&fields)
        .send()
        .await
        .unwrap()
}

/// Keys a form as the app's own client.
async fn key(
    app: &TestApp,
    round: i64,
    unit: i64,
    form_ref: &str,
    entry: &str,
    change: Option<(&str, &str)>,
) -> reqwest::Response {
    key_as(app, &app.client, round, unit, form_ref, entry, change).await
}

fn done(response: &reqwest::Response) -> String {
    assert_eq!(response.status(), 303);
    response.headers()["location"]
        .to_str()
        .unwrap()
        .rsplit('=')
        .next()
        .unwrap()
        .to_owned()
}

/// Actor id, actor, old value and new value of an audit entry.
type AuditRow = (Option<i64>, String, Option<String>, Option<String>);

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
    let colleague = desk(&app, "coord2@sonoivu.gov.vn", Role::Coordinator).await;
    assign(&app, "coord2@sonoivu.gov.vn", unit);
    let first = key(&app, round, unit, "A-001", "1", None).await;
    assert_eq!(done(&first), "waiting");
    assert_eq!(paper_responses(&app), 0, "one keying does not count");
    let second = key_as(&app, &colleague, round, unit, "A-001", "2", None).await;
    assert_eq!(done(&second), "accepted");
    assert_eq!(paper_responses(&app), 1);
    let mut conn = app.pool.get().unwrap();
    let counted: i64 = khaosat::db::schema::response_counts::table
        .select(khaosat::db::schema::response_counts::responses)
        .first(&mut conn)
        .unwrap();
    assert_eq!(counted, 1, "paper responses update the live tallies too");
}

#[tokio::test]
async fn a_coordinator_cannot_key_a_single_entry_that_counts_at_once() {
    let app = spawn_app().await;
    let (round, _) = open_round_with_codes(&app, 0);
    app.login_as("coord@sonoivu.gov.vn", Role::Coordinator)
        .await;
    let unit = units(&app, round)[0];
    assign(&app, "coord@sonoivu.gov.vn", unit);
    let overview = app.get_html(&format!("/admin/rounds/{round}/paper")).await;
    assert!(
        !overview.contains("value=\"single\""),
        "single entry is not offered"
    );
    let form = app
        .get(&format!(
            "/admin/rounds/{round}/paper?unit={unit}&group=leader&ref=S-1&entry=single"
        ))
        .await;
    assert_eq!(form.status(), 403, "no single-entry form to fill in");
    let posted = key(&app, round, unit, "S-1", "single", None).await;
    assert_eq!(posted.status(), 403);
    assert_eq!(paper_responses(&app), 0);
    let mut conn = app.pool.get().unwrap();
    let keyed: i64 = khaosat::db::schema::paper_entries::table
        .count()
        .get_result(&mut conn)
        .unwrap();
    assert_eq!(keyed, 0, "nothing is stored");
}

#[tokio::test]
async fn the_two_keyings_of_a_form_must_come_from_two_accounts() {
    let app = spawn_app().await;
    let (round, _) = open_round_with_codes(&app, 0);
    app.login_as("coord@sonoivu.gov.vn", Role::Coordinator)
        .await;
    let unit = units(&app, round)[0];
    assign(&app, "coord@sonoivu.gov.vn", unit);
    assert_eq!(
        done(&key(&app, round, unit, "D-1", "1", None).await),
        "waiting"
    );
    let again = key(&app, round, unit, "D-1", "2", None).await;
    assert_eq!(
        again.status(),
        400,
        "the same account cannot confirm itself"
    );
    assert!(
        again
            .text()
            .await
            .unwrap()
            .contains("phải do tài khoản khác với lần nhập thứ nhất"),
        "the refusal says why"
    );
    assert_eq!(paper_responses(&app), 0);
    // Even an administrator cannot confirm a form they keyed first themselves.
    let admin = desk(&app, "admin@sonoivu.gov.vn", Role::Admin).await;
    assert_eq!(
        done(&key_as(&app, &admin, round, unit, "D-2", "2", None).await),
        "waiting"
    );
    assert_eq!(
        key_as(&app, &admin, round, unit, "D-2", "1", None)
            .await
            .status(),
        400
    );
    // Another account confirms.
    assert_eq!(
        done(&key_as(&app, &admin, round, unit, "D-1", "2", None).await),
        "accepted"
    );
    assert_eq!(
        done(&key(&app, round, unit, "D-2", "1", None).await),
        "accepted"
    );
    assert_eq!(paper_responses(&app), 2);
}

#[tokio::test]
async fn every_keying_is_audited_with_unit_and_form_number_but_never_the_answers() {
    let app = spawn_app().await;
    let (round, _) = open_round_with_codes(&app, 0);
    app.login_as("admin@sonoivu.gov.vn", Role::Admin).await;
    let unit = units(&app, round)[0];
    let coordinator = desk(&app, "coord@sonoivu.gov.vn", Role::Coordinator).await;
    assign(&app, "coord@sonoivu.gov.vn", unit);
    assert_eq!(
        done(&key(&app, round, unit, "E-1", "single", None).await),
        "accepted"
    );
    assert_eq!(
        done(&key_as(&app, &coordinator, round, unit, "E-2", "1", None).await),
        "waiting"
    );
    let (rows, unit_code, ids): (Vec<AuditRow>, String, (i64, i64)) = {
        use khaosat::db::schema::audit_log;
        let mut conn = app.pool.get().unwrap();
        let rows = audit_log::table
            .filter(audit_log::action.eq("paper:key"))
            .order(audit_log::id)
            .select((
                audit_log::actor_user_id,
                audit_log::actor,
                audit_log::old_value,
                audit_log::new_value,
            ))
            .load(&mut conn)
            .unwrap();
        let code = khaosat::db::units::codes_of(&mut conn, &[unit]).unwrap()[0].clone();
        let mut id = |email: &str| {
            khaosat::db::users::by_email(&mut conn, email)
                .unwrap()
                .unwrap()
                .id
        };
        let ids = (id("admin@sonoivu.gov.vn"), id("coord@sonoivu.gov.vn"));
        (rows, code, ids)
    };
    assert_eq!(rows.len(), 2, "one row per keying");
    let answer_codes: Vec<String> = leader()
        .sections()
        .iter()
        .flat_map(|s| fill(s, false))
        .map(|(code, _)| code)
        .collect();
    for ((actor_id, actor, old, new), (expected_id, expected_actor, form_ref, entry)) in
        rows.iter().zip([
            (ids.0, "admin@sonoivu.gov.vn", "E-1", "single"),
            (ids.1, "coord@sonoivu.gov.vn", "E-2", "1"),
        ])
    {
        assert_eq!(*actor_id, Some(expected_id), "who");
        assert_eq!(actor, expected_actor);
        assert!(old.is_none());
        let new = new.as_deref().unwrap();
        let value: serde_json::Value = serde_json::from_str(new).unwrap();
        assert_eq!(value["unit"], unit_code.as_str(), "which unit");
        assert_eq!(value["form_ref"], form_ref, "which paper form");
        assert_eq!(value["entry"], entry);
        let keys: Vec<&String> = value.as_object().unwrap().keys().collect();
        assert_eq!(
            keys,
            [
                "entry", "form_ref", "group_id", "outcome", "unit", "unit_id"
            ],
            "nothing else is written"
        );
        for code in &answer_codes {
            assert!(
                !new.contains(code.as_str()),
                "answer {code} in the audit log"
            );
        }
    }
}

#[tokio::test]
async fn published_results_show_how_many_paper_responses_each_unit_has() {
    let app = spawn_app().await;
    let (round, _) = open_round_with_codes(&app, 0);
    app.login_as("admin@sonoivu.gov.vn", Role::Admin).await;
    let all = units(&app, round);
    for form_ref in ["P-1", "P-2"] {
        assert_eq!(
            done(&key(&app, round, all[0], form_ref, "single", None).await),
            "accepted"
        );
    }
    crate::results::publish(&app, round);
    let (mine, other) = {
        let mut conn = app.pool.get().unwrap();
        let mut codes = |id| khaosat::db::units::codes_of(&mut conn, &[id]).unwrap()[0].clone();
        (codes(all[0]), codes(all[1]))
    };
    let public = crate::security_results::anonymous();
    let get = |path: String| {
        let public = public.clone();
        let url = app.url(&path);
        async move {
            let r = public.get(url).send().await.unwrap();
            assert_eq!(r.status(), 200, "{path}");
            r.text().await.unwrap()
        }
    };
    let card = get(format!("/results/{round}/units/{mine}")).await;
    assert!(
        card.contains("<dd id=\"paper-responses\">2</dd>"),
        "the scorecard shows the count"
    );
    let json: serde_json::Value =
        serde_json::from_str(&get(format!("/results/{round}/download/scores.json")).await).unwrap();
    let count = |code: &str| {
        json["scores"]
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["unit"] == code)
            .unwrap()["paper_responses"]
            .clone()
    };
    assert_eq!(count(&mine), 2);
    assert_eq!(count(&other), 0);
    let csv = get(format!("/results/{round}/download/scores.csv?bom=0")).await;
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    let column = reader
        .headers()
        .unwrap()
        .iter()
        .position(|h| h == "paper_responses")
        .expect("a paper_responses column");
    let row = reader
        .records()
        .map(Result::unwrap)
        .find(|r| r[0] == *mine)
        .unwrap();
    assert_eq!(&row[column], "2");
    let api: serde_json::Value =
        serde_json::from_str(&get(format!("/api/v1/rounds/{round}/scores?per_page=100")).await)
            .unwrap();
    let item = api["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["unit"] == mine.as_str())
        .unwrap();
    assert_eq!(item["paper_responses"], 2);
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
    let other = desk(&app, "admin2@sonoivu.gov.vn", Role::Admin).await;
    let unit = units(&app, round)[0];
    assert_eq!(
        done(&key(&app, round, unit, "B-7", "1", None).await),
        "waiting"
    );
    let second = key_as(&app, &other, round, unit, "B-7", "2", Some(("c1_01", "2"))).await;
    assert_eq!(done(&second), "mismatch");
    assert_eq!(paper_responses(&app), 0, "a mismatch does not count");
    let list = app.get_html(&format!("/admin/rounds/{round}/paper")).await;
    assert!(
        list.contains("<code>c1_01</code>"),
        "the differing answer is listed"
    );
    let rekeyed = key_as(&app, &other, round, unit, "B-7", "2", None).await;
    assert_eq!(done(&rekeyed), "accepted");
    assert_eq!(paper_responses(&app), 1);
    let again = key(&app, round, unit, "B-7", "1", None).await;
    assert_eq!(done(&again), "already");
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
        "/admin/rounds/{round}/paper?unit={}&group=leader&ref=X&entry=1",
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
