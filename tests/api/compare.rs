//! A province's internal round beside the national round of the same year: a 2024 demo round
//! of the 63 provinces and a 2024 internal round of Sơn La's own units (four departments and
//! three districts). The page and the API agree row by row, and agree with each round's own
//! figures; a round of another year is refused with a message; both rounds are opened with the
//! visitor's own rules.

use khaosat::app::demo::{self, DemoSpec};
use khaosat::domain::account::Role;
use khaosat::i18n::{Lang, t};
use serde_json::Value;

use crate::gains::{SON_LA, api_gains, demo_2024, number};
use crate::helpers::{TestApp, spawn_app};
use crate::internal_rounds::internal_round;
use crate::results::{api_get, make_token};

async fn api_compare(app: &TestApp, token: &str, round: i64, query: &str) -> reqwest::Response {
    api_get(
        app,
        token,
        &format!("/api/v1/rounds/{round}/compare?{query}"),
    )
    .await
}

/// An item's (group, code), its percent and the national best percent.
type ItemPercent = ((String, String), Option<f64>, Option<f64>);

/// Each item's percent in a unit's gains (points / maximum), by group and item.
async fn item_percents(app: &TestApp, token: &str, round: i64, unit: &str) -> Vec<ItemPercent> {
    let gains: Value = api_gains(app, token, round, unit)
        .await
        .json()
        .await
        .unwrap();
    gains["stakes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["level"] == "item")
        .map(|s| {
            let max = number(&s["max_points"]).unwrap();
            let key = (
                s["group"].as_str().unwrap().to_owned(),
                s["code"].as_str().unwrap().to_owned(),
            );
            let pct = |v: &Value| number(v).map(|p| p / max * 100.0);
            (key, pct(&s["points"]), pct(&s["national_best"]))
        })
        .collect()
}

/// The item rows of the API's comparison: (group, code) → row.
fn item_rows(c: &Value) -> Vec<((String, String), Value)> {
    c["groups"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|g| {
            g["rows"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|r| r["level"] == "item")
                .map(|r| {
                    (
                        (
                            g["group"].as_str().unwrap().to_owned(),
                            r["code"].as_str().unwrap().to_owned(),
                        ),
                        r.clone(),
                    )
                })
        })
        .collect()
}

/// How many compared item rows are of the groups `listed` has items of.
fn same_groups(rows: &[((String, String), Value)], listed: &[ItemPercent]) -> usize {
    rows.iter()
        .filter(|((g, _), _)| listed.iter().any(|((lg, _), _, _)| lg == g))
        .count()
}

fn close(a: Option<f64>, b: Option<f64>) -> bool {
    match (a, b) {
        // The API writes numbers rounded as its files do.
        (Some(a), Some(b)) => (a - b).abs() < 1e-2,
        (None, None) => true,
        _ => false,
    }
}

/// The `data-internal` and `data-national` values of each row of the page, by code.
fn page_rows(html: &str) -> Vec<(String, Option<f64>, Option<f64>)> {
    let attr = |tag: &str, name: &str| -> Option<f64> {
        let marker = format!("{name}=\"");
        let start = tag.find(&marker)? + marker.len();
        tag[start..start + tag[start..].find('"')?].parse().ok()
    };
    html.split("<tr data-code=\"")
        .skip(1)
        .filter(|rest| {
            rest.contains("data-level=\"item\"") || rest.contains("data-level=\"criterion\"")
        })
        .map(|rest| {
            let tag = &rest[..rest.find('>').unwrap()];
            let code = tag[..tag.find('"').unwrap()].to_owned();
            (code, attr(tag, "data-internal"), attr(tag, "data-national"))
        })
        .collect()
}

#[tokio::test]
async fn the_internal_round_stands_beside_son_la_in_the_national_round_item_by_item() {
    let app = spawn_app().await;
    let national = demo_2024(&app);
    let internal = internal_round(&app).await;
    let token = make_token(&app, "read").await;

    // The only national round of 2024 is the default.
    let response = api_compare(&app, &token, internal, &format!("unit={SON_LA}")).await;
    assert_eq!(response.status(), 200);
    let c: Value = response.json().await.unwrap();
    assert_eq!(c["national_round"], national);
    assert_eq!(c["unit"], SON_LA);
    assert_eq!(c["internal_units"], 7);
    let groups: Vec<&str> = c["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["group"].as_str().unwrap())
        .collect();
    assert_eq!(groups, ["leader", "civil_servant"]);
    assert!(
        c["not_comparable"].as_array().unwrap().is_empty(),
        "same questionnaires"
    );
    let rows = item_rows(&c);
    assert!(rows.len() > 20, "every scored item: {}", rows.len());

    // The national side is Sơn La's own figures and the national best of the national round.
    // The gains API lists the items of the groups that count toward the index.
    let son_la = item_percents(&app, &token, national, SON_LA).await;
    assert_eq!(
        son_la.len(),
        same_groups(&rows, &son_la),
        "every item of those groups"
    );
    for (key, points, best) in &son_la {
        let (_, row) = rows.iter().find(|(k, _)| k == key).unwrap();
        assert!(close(row["national"].as_f64(), *points), "{key:?}: {row}");
        assert!(
            close(row["national_best"].as_f64(), *best),
            "{key:?}: {row}"
        );
        let mean = row["national_mean"].as_f64().unwrap();
        assert!(mean <= best.unwrap() + 1e-9, "{key:?}");
        assert!(close(
            row["difference"].as_f64(),
            row["internal"].as_f64().zip(*points).map(|(a, b)| a - b)
        ));
    }
    // The internal side pools the seven units: each item lies between their lowest and highest.
    let mut units = Vec::new();
    for code in ["SNV", "STP", "SYT", "SGD", "MCH", "TCH", "MLA"] {
        units.push(item_percents(&app, &token, internal, code).await);
    }
    for (key, row) in &rows {
        let values: Vec<f64> = units
            .iter()
            .filter_map(|u| u.iter().find(|(k, _, _)| k == key).and_then(|(_, p, _)| *p))
            .collect();
        if values.is_empty() {
            // A group that does not count toward the index: the gains API lists none of it.
            continue;
        }
        let pooled = row["internal"].as_f64().unwrap();
        let low = values.iter().copied().fold(f64::MAX, f64::min);
        let high = values.iter().copied().fold(f64::MIN, f64::max);
        assert!(
            low - 1e-9 <= pooled && pooled <= high + 1e-9,
            "{key:?}: {low} {pooled} {high}"
        );
    }

    // The page, reached from the internal round's gains page, shows the same rows.
    app.login_as("analyst@sonoivu.gov.vn", Role::Analyst).await;
    let gains = app
        .get_html(&format!("/results/{internal}/units/SNV/gains"))
        .await;
    assert!(gains.contains(&format!("href=\"/results/{internal}/compare\"")));
    let page = app.get_html(&format!("/results/{internal}/compare")).await;
    assert!(page.contains("id=\"compare-form\""), "the form first");
    let page = app
        .get_html(&format!(
            "/results/{internal}/compare?national={national}&unit={SON_LA}"
        ))
        .await;
    let shown = page_rows(&page);
    let api_rows: Vec<(String, Option<f64>, Option<f64>)> = c["groups"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|g| g["rows"].as_array().unwrap().iter())
        .map(|r| {
            (
                r["code"].as_str().unwrap().to_owned(),
                r["internal"].as_f64(),
                r["national"].as_f64(),
            )
        })
        .collect();
    assert_eq!(shown.len(), api_rows.len());
    for (page_row, api_row) in shown.iter().zip(&api_rows) {
        assert_eq!(page_row.0, api_row.0, "the same rows in the same order");
        assert!(
            close(page_row.1, api_row.1) && close(page_row.2, api_row.2),
            "{page_row:?} {api_row:?}"
        );
    }
    assert!(page.contains("Sơn La"));
}

#[tokio::test]
async fn a_national_round_of_another_year_or_a_unit_outside_it_is_refused_with_a_message() {
    let app = spawn_app().await;
    let earlier = {
        let mut conn = app.pool.get().unwrap();
        demo::create(
            &mut conn,
            DemoSpec {
                year: 2023,
                responses: 400,
                seed: 5,
            },
        )
        .unwrap()
    };
    let national = demo_2024(&app);
    let internal = internal_round(&app).await;
    let token = make_token(&app, "read").await;

    let refused = api_compare(
        &app,
        &token,
        internal,
        &format!("national={earlier}&unit={SON_LA}"),
    )
    .await;
    assert_eq!(refused.status(), 400);
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["error"]["detail"], t(Lang::Vi, "compare.other_year"));
    let page = app
        .get(&format!(
            "/results/{internal}/compare?national={earlier}&unit={SON_LA}"
        ))
        .await;
    assert_eq!(page.status(), 400);
    let html = page.text().await.unwrap();
    assert!(html.contains("id=\"compare-error\""));
    assert!(
        html.contains(t(Lang::Vi, "compare.other_year"))
            || html.contains(t(Lang::Vi, "compare.other_year")),
        "the page says why"
    );
    assert!(
        html.contains("id=\"compare-form\""),
        "with the form to choose again"
    );

    // A unit of the internal round is no unit of the national round.
    let refused = api_compare(
        &app,
        &token,
        internal,
        &format!("national={national}&unit=SNV"),
    )
    .await;
    assert_eq!(refused.status(), 400);
    let body: Value = refused.json().await.unwrap();
    assert_eq!(
        body["error"]["detail"],
        t(Lang::Vi, "compare.unit_not_in_national")
    );
    // Two national rounds of 2024: none is chosen for the caller.
    {
        let mut conn = app.pool.get().unwrap();
        demo::create(
            &mut conn,
            DemoSpec {
                year: 2024,
                responses: 400,
                seed: 6,
            },
        )
        .unwrap();
    }
    let unchosen = api_compare(&app, &token, internal, &format!("unit={SON_LA}")).await;
    assert_eq!(unchosen.status(), 400);
    let body: Value = unchosen.json().await.unwrap();
    assert_eq!(
        body["error"]["detail"],
        t(Lang::Vi, "compare.choose_national")
    );
}

#[tokio::test]
async fn each_round_is_opened_with_the_visitor_s_own_rules() {
    let app = spawn_app().await;
    let national = demo_2024(&app);
    let internal = internal_round(&app).await;
    let query = format!("national={national}&unit={SON_LA}");
    // Unpublished rounds: nothing for the public.
    let anonymous = reqwest::Client::new()
        .get(app.url(&format!("/api/v1/rounds/{internal}/compare?{query}")))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);

    // A coordinator of one of the province's units, but not of Sơn La in the live national
    // round, sees nothing of it.
    app.login_as("coord@sonla.gov.vn", Role::Coordinator).await;
    let grant = |round: i64, code: &str| {
        let mut conn = app.pool.get().unwrap();
        let user = khaosat::db::users::by_email(&mut conn, "coord@sonla.gov.vn")
            .unwrap()
            .unwrap();
        let unit = khaosat::db::rounds::units(&mut conn, round)
            .unwrap()
            .into_iter()
            .find(|u| u.code == code)
            .unwrap();
        khaosat::db::users::add_unit(&mut conn, user.id, unit.id).unwrap();
    };
    grant(internal, "SNV");
    let token = make_token(&app, "read").await;
    assert_eq!(
        api_compare(&app, &token, internal, &query).await.status(),
        404
    );
    let page = app
        .get(&format!("/results/{internal}/compare?{query}"))
        .await;
    assert_eq!(page.status(), 404);

    // Coordinator of Sơn La too: the internal round is pooled over their one unit only, so each
    // item is that unit's own figure.
    grant(national, SON_LA);
    let response = api_compare(&app, &token, internal, &query).await;
    assert_eq!(response.status(), 200);
    let c: Value = response.json().await.unwrap();
    assert_eq!(c["internal_units"], 1);
    let rows = item_rows(&c);
    let snv = item_percents(&app, &token, internal, "SNV").await;
    assert_eq!(snv.len(), same_groups(&rows, &snv));
    for (key, points, _) in &snv {
        let (_, row) = rows.iter().find(|(k, _)| k == key).unwrap();
        assert!(close(row["internal"].as_f64(), *points), "{key:?}: {row}");
        // Sơn La is the only national unit this coordinator sees: it is the mean and the best.
        assert!(close(
            row["national_mean"].as_f64(),
            row["national"].as_f64()
        ));
        assert!(close(
            row["national_best"].as_f64(),
            row["national"].as_f64()
        ));
    }
}
