//! Disclosure control of published results: a unit × group with fewer than k respondents
//! shows its scores but not its answer distributions to the public, and no hidden cell of a
//! breakdown can be worked out from what the scores already publish of each unit (its
//! respondents and score in the group).

use khaosat::app::demo::{self, DemoSpec};
use khaosat::app::results::{self, Viewer};
use khaosat::domain::account::Role;
use serde_json::Value;

use crate::helpers::{TestApp, spawn_app};
use crate::results::publish;
use crate::security_results::anonymous;

/// Respondents per unit and group before the exclusions.
const PER_CELL: u64 = 12;

/// The unit left with one leader and the unit left with three citizens.
struct SmallCells {
    round: i64,
    one_leader: String,
    three_citizens: String,
    /// A unit with all its respondents.
    full: String,
}

/// Excludes all but `keep` of the unit's responses in the group.
fn keep_only(app: &TestApp, round: i64, unit_id: i64, group: &str, keep: usize) {
    let mut conn = app.pool.get().unwrap();
    let group_id = khaosat::db::rounds::group_id(&mut conn, group)
        .unwrap()
        .unwrap();
    let page = khaosat::db::responses::page_for_export(
        &mut conn,
        round,
        group_id,
        Some(&[unit_id]),
        0,
        1_000,
    )
    .unwrap();
    assert!(page.len() > keep);
    for r in &page[keep..] {
        assert!(
            khaosat::app::review::exclude(&mut conn, round, r.id, "test", None, "test").unwrap()
        );
    }
}

/// A published round of the 34 units of 2025 with 12 respondents per unit and group, except
/// one unit with a single leader (the "n = 1, 99 %" case) and one with three citizens.
fn round_with_small_cells(app: &TestApp) -> SmallCells {
    let round = {
        let mut conn = app.pool.get().unwrap();
        demo::create(
            &mut conn,
            DemoSpec {
                year: 2025,
                responses: 34 * 3 * PER_CELL,
                seed: 11,
            },
        )
        .unwrap()
    };
    let units = {
        let mut conn = app.pool.get().unwrap();
        khaosat::db::rounds::units(&mut conn, round).unwrap()
    };
    keep_only(app, round, units[0].id, "leader", 1);
    keep_only(app, round, units[1].id, "citizen", 3);
    publish(app, round);
    SmallCells {
        round,
        one_leader: units[0].code.clone(),
        three_citizens: units[1].code.clone(),
        full: units[2].code.clone(),
    }
}

/// GET as the public, asserting 200.
async fn public_get(app: &TestApp, path: &str) -> reqwest::Response {
    let response = anonymous().get(app.url(path)).send().await.unwrap();
    assert_eq!(response.status(), 200, "GET {path}");
    response
}

/// The public scores API: unit code → (group code → (respondents, percent)).
async fn published_groups(
    app: &TestApp,
    round: i64,
) -> std::collections::BTreeMap<String, std::collections::BTreeMap<String, (u64, Option<f64>)>> {
    let page: Value = public_get(app, &format!("/api/v1/rounds/{round}/scores?per_page=500"))
        .await
        .json()
        .await
        .unwrap();
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| {
            let groups = u["groups"]
                .as_array()
                .unwrap()
                .iter()
                .map(|g| {
                    (
                        g["group"].as_str().unwrap().to_owned(),
                        (g["responses"].as_u64().unwrap(), g["percent"].as_f64()),
                    )
                })
                .collect();
            (u["unit"].as_str().unwrap().to_owned(), groups)
        })
        .collect()
}

#[tokio::test]
async fn a_unit_group_below_k_shows_its_scores_but_no_answer_distribution_to_the_public() {
    let app = spawn_app().await;
    let cells = round_with_small_cells(&app);
    let round = cells.round;

    // The one place that decides: the public view has no distribution of the small groups,
    // the other units keep theirs, and staff still see everything.
    let (public, staff) = {
        let mut conn = app.pool.get().unwrap();
        let admin = Viewer::Staff {
            user_id: 0,
            role: Role::Admin,
        };
        (
            results::round_results(&mut conn, round, Viewer::Public).unwrap(),
            results::round_results(&mut conn, round, admin).unwrap(),
        )
    };
    let k = public.methodology.quality.disclosure_min_n;
    assert_eq!((k, public.distributions_hidden_below), (10, Some(10)));
    assert_eq!(staff.distributions_hidden_below, None);
    let unit = |r: &results::RoundResults, code: &str| {
        r.scores
            .units
            .iter()
            .find(|u| u.unit == code)
            .unwrap()
            .clone()
    };
    let leader = |u: &khaosat::app::scores::UnitScores| {
        u.groups
            .iter()
            .find(|g| g.group == "leader")
            .unwrap()
            .clone()
    };
    let small = leader(&unit(&public, &cells.one_leader));
    assert_eq!(small.responses, 1);
    assert!(small.percent.is_some(), "the score itself stays published");
    assert!(small.items.iter().all(|i| i.distribution.is_empty()));
    let small_staff = leader(&unit(&staff, &cells.one_leader));
    assert!(small_staff.items.iter().any(|i| !i.distribution.is_empty()));
    assert_eq!(small_staff.percent, small.percent);
    let citizens = unit(&public, &cells.three_citizens).sipas.unwrap();
    assert_eq!(citizens.responses, 3);
    assert!(citizens.items.iter().all(|i| i.distribution.is_empty()));
    assert!(citizens.overall_percent.is_some());
    let full = leader(&unit(&public, &cells.full));
    assert!(full.items.iter().any(|i| !i.distribution.is_empty()));
    // National distributions leave the small group out, so it is not their difference either.
    let national = |r: &results::RoundResults| {
        results::item_distributions(&r.scores)
            .into_iter()
            .find(|d| d.group == "leader")
            .map(|d| d.counts.values().sum::<u64>())
            .unwrap()
    };
    let first_item = &small_staff.items[0];
    assert_eq!(
        national(&public),
        national(&staff) - first_item.distribution.values().sum::<u64>()
    );

    // What the public sees on the wire: the score, never a distribution.
    let published = published_groups(&app, round).await;
    let (n, percent) = published[&cells.one_leader]["leader"];
    assert_eq!(n, 1);
    // The API rounds computed numbers to 6 decimals.
    assert!((percent.unwrap() - small.percent.unwrap()).abs() < 1e-6);
    let json: Value = public_get(&app, &format!("/results/{round}/download/scores.json"))
        .await
        .json()
        .await
        .unwrap();
    let row = json["scores"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["unit"] == cells.one_leader.as_str())
        .unwrap();
    assert_eq!(row["leader_responses"].as_u64(), Some(1));
    assert!(row["leader_percent"].as_f64().is_some());
    assert!(!json.to_string().contains("distribution"));

    let card = public_get(
        &app,
        &format!("/results/{round}/units/{}", cells.one_leader),
    )
    .await
    .text()
    .await
    .unwrap();
    assert!(card.contains("id=\"distributions-hidden\""));
    let other = public_get(&app, &format!("/results/{round}/units/{}", cells.full))
        .await
        .text()
        .await
        .unwrap();
    assert!(!other.contains("id=\"distributions-hidden\""));
    let items = public_get(&app, &format!("/results/{round}/items"))
        .await
        .text()
        .await
        .unwrap();
    assert!(items.contains("id=\"distributions-hidden\""));
    app.login_as("analyst@example.vn", Role::Analyst).await;
    let staff_items = app.get_html(&format!("/results/{round}/items")).await;
    assert!(!staff_items.contains("id=\"distributions-hidden\""));
}

/// A breakdown cell of the public API: (hidden, n, percent).
fn cell(c: &Value) -> (bool, Option<u64>, Option<f64>) {
    (
        c["suppressed"].as_bool().unwrap(),
        c["n"].as_u64(),
        c["percent"].as_f64(),
    )
}

/// Checks one line of a breakdown against its known total `n`: no single hidden cell, and the
/// hidden cells together either empty or at least k strong (so that the mean a reader can
/// work out for them from the known total's mean is never a small group's).
fn assert_line_protected(what: &str, total: u64, cells: &[Value], k: u64) {
    let hidden = cells.iter().filter(|c| cell(c).0).count();
    let shown: u64 = cells.iter().filter_map(|c| cell(c).1).sum();
    for c in cells.iter().filter(|c| !cell(c).0) {
        let n = cell(c).1.unwrap();
        assert!(n == 0 || n >= k, "{what}: a published cell of {n} < k");
    }
    assert!(shown <= total, "{what}: the cells exceed the total");
    let hidden_sum = total - shown;
    assert_ne!(
        hidden, 1,
        "{what}: a single hidden cell is its total minus the others"
    );
    assert!(
        hidden_sum == 0 || hidden_sum >= k,
        "{what}: the hidden cells add up to {hidden_sum} respondents, fewer than k"
    );
}

#[tokio::test]
async fn hidden_breakdown_cells_cannot_be_worked_out_from_the_published_unit_n_and_mean() {
    let app = spawn_app().await;
    let cells = round_with_small_cells(&app);
    let round = cells.round;
    let published = published_groups(&app, round).await;
    let table: Value = public_get(
        &app,
        &format!("/api/v1/rounds/{round}/breakdown?group=leader&by=bg_level"),
    )
    .await
    .json()
    .await
    .unwrap();
    let k = table["min_n"].as_u64().unwrap();
    assert_eq!(k, 10);
    let rows = table["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 34);
    let columns = table["categories"].as_array().unwrap().len();

    let mut kept_total = 0;
    let mut kept_rows: Vec<&Value> = Vec::new();
    let mut hidden_in_kept_rows = 0;
    for row in rows {
        let unit = row["unit"].as_str().unwrap();
        let (n, percent) = published[unit]["leader"];
        let row_cells = row["cells"].as_array().unwrap();
        assert_eq!(row_cells.len(), columns);
        if row["withheld"].as_bool().unwrap() {
            // Not split at all: with the unit's n public, any shown cell (a zero included)
            // would narrow where its respondents are.
            assert!(
                row_cells.iter().all(|c| cell(c) == (true, None, None)),
                "{unit}"
            );
            assert_eq!(cell(&row["total"]), (true, None, None));
            continue;
        }
        // The row's total is the published figure, so the protection counted on it.
        let (hidden, total_n, total_percent) = cell(&row["total"]);
        assert!(!hidden, "{unit}: a published total is never hidden here");
        assert_eq!(total_n, Some(n), "{unit}: the row total is the published n");
        match (total_percent, percent) {
            // The scores API rounds to 6 decimals.
            (Some(a), Some(b)) => assert!((a - b).abs() < 1e-6, "{unit}: {a} vs {b}"),
            (a, b) => assert_eq!(a, b, "{unit}"),
        }
        assert_line_protected(unit, n, row_cells, k);
        hidden_in_kept_rows += row_cells.iter().filter(|c| cell(c).0).count();
        kept_total += n;
        kept_rows.push(row);
    }
    // The unit with one leader is the one the scores API gives away as n = 1: not split.
    let small = rows
        .iter()
        .find(|r| r["unit"] == cells.one_leader.as_str())
        .unwrap();
    assert_eq!(small["withheld"], true);
    assert!(!kept_rows.is_empty(), "units of k or more are split");
    assert!(
        hidden_in_kept_rows > 0,
        "the test data has small cells to protect"
    );

    // Columns: the totals cover the split units only.
    let totals = table["totals"].as_array().unwrap();
    for c in 0..columns {
        let column: Vec<Value> = kept_rows.iter().map(|r| r["cells"][c].clone()).collect();
        if let (false, Some(total), _) = cell(&totals[c]) {
            assert_line_protected(&format!("column {c}"), total, &column, k);
        }
    }
    // The grand total is the published round figure less the withheld units' published n,
    // all of which the reader has: it is shown, and the column totals are protected against it.
    let everyone: u64 = published.values().map(|g| g["leader"].0).sum();
    let withheld: u64 = rows
        .iter()
        .filter(|r| r["withheld"] == true)
        .map(|r| published[r["unit"].as_str().unwrap()]["leader"].0)
        .sum();
    assert_eq!(cell(&table["grand_total"]).1, Some(kept_total));
    assert_eq!(kept_total, everyone - withheld);
    assert_line_protected("column totals", kept_total, totals, k);

    let page = public_get(
        &app,
        &format!("/results/{round}/breakdown?group=leader&by=bg_level"),
    )
    .await
    .text()
    .await
    .unwrap();
    assert!(page.contains("id=\"withheld\""));
    assert!(page.contains("class=\"suppressed\""));
}
