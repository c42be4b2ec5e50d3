//! Rounds with missing data (#14 rules 1, 4 and 6): a unit × group without data has no score,
//! only complete units are ranked (1..n over them), and every mean covers the units that have
//! the value. The dashboard, the admin score page, `scores.json`, the API, the published
//! snapshot and `khaosat compute` must all say the same.

use std::collections::BTreeSet;

use diesel::prelude::*;
use khaosat::app::scores;
use khaosat::db::responses::NewResponse;
use khaosat::db::schema::responses;
use khaosat::db::{self, AnyConnection};
use khaosat::domain::account::Role;

use crate::helpers::{TestApp, spawn_app};
use crate::results::{api_get, demo_round, make_token};

/// Copies one response of `from` in `group` to unit `to`, through the same insert and tally
/// updates as a submission, so the live tallies still equal a recomputation.
fn copy_response(conn: &mut AnyConnection, round: i64, from: i64, to: i64, group: i64) {
    let (instrument_id, submitted_on, answers): (i64, chrono::NaiveDate, String) = responses::table
        .filter(responses::round_id.eq(round))
        .filter(responses::unit_id.eq(from))
        .filter(responses::group_id.eq(group))
        .select((
            responses::instrument_id,
            responses::submitted_on,
            responses::answers,
        ))
        .first(conn)
        .unwrap();
    let receipt = format!("COPY-{round}-{to}-{group}");
    db::responses::insert(
        conn,
        &NewResponse {
            receipt: &receipt,
            submission_key: &receipt,
            round_id: round,
            unit_id: to,
            group_id: group,
            instrument_id,
            submitted_on,
            source: "web",
            duration_seconds: Some(600),
            answers: &answers,
        },
    )
    .unwrap();
    let parsed = khaosat::domain::answers::Answers::from_json(&answers).unwrap();
    khaosat::app::scores::add_to_tallies(conn, round, to, group, &parsed).unwrap();
}

/// The round: 34 units; units 0 and 1 have one leader, one civil servant and one citizen each
/// (complete, one respondent per group); unit 2 has a leader but no citizen; unit 3 a citizen
/// but no leader; units 4 to 33 nothing at all.
struct Incomplete {
    round: i64,
    /// (code, Vietnamese name) of units 0 to 4.
    units: Vec<(String, String)>,
}

async fn incomplete_round(app: &TestApp) -> Incomplete {
    // The demo fills unit × group cells in order (leader, civil servant, citizen): 7
    // responses cover units 0 and 1 completely and give unit 2 its leader only.
    let round = demo_round(app, 7);
    let mut conn = app.pool.get().unwrap();
    let units = db::rounds::units(&mut conn, round).unwrap();
    let citizen = db::rounds::group_id(&mut conn, "citizen").unwrap().unwrap();
    copy_response(&mut conn, round, units[0].id, units[3].id, citizen);
    Incomplete {
        round,
        units: units
            .iter()
            .take(5)
            .map(|u| (u.code.clone(), u.name_vi.clone()))
            .collect(),
    }
}

/// The ranking row (`<tr>…</tr>`) of the page whose unit cell names `unit` (a link on the
/// dashboard, a plain cell on the admin page).
fn row_of<'a>(html: &'a str, unit: &str) -> &'a str {
    let (link, cell) = (format!(">{unit}</a>"), format!("<td>{unit}</td>"));
    let rows = || html.split("<tr>");
    rows()
        .find(|row| row.contains(&link))
        .or_else(|| rows().find(|row| row.contains(&cell)))
        .unwrap_or_else(|| panic!("no row for {unit}"))
        .split("</tr>")
        .next()
        .unwrap()
}

#[tokio::test]
async fn units_without_data_are_never_scored_zero_nor_ranked_on_any_surface() {
    let app = spawn_app().await;
    app.login_as("admin@sonoivu.gov.vn", Role::Admin).await;
    let r = incomplete_round(&app).await;
    let round = r.round;
    let code = |i: usize| r.units[i].0.as_str();
    let name = |i: usize| r.units[i].1.as_str();

    // The service: no data, no score; only units 0 and 1 are complete and ranked 1..2.
    let s = {
        let mut conn = app.pool.get().unwrap();
        let tallies = scores::live_tallies(&mut conn, round).unwrap();
        scores::compute(&mut conn, round, &tallies).unwrap()
    };
    let unit = |i: usize| s.units.iter().find(|u| u.unit == code(i)).unwrap();
    let points = |i: usize, group: &str| {
        unit(i)
            .groups
            .iter()
            .find(|g| g.group == group)
            .unwrap()
            .points
    };
    let sipas = |i: usize| unit(i).sipas.as_ref().unwrap().overall_percent;
    // One respondent is enough for a score.
    assert_eq!(unit(0).groups[0].responses, 1);
    assert!(points(0, "leader").is_some() && sipas(0).is_some());
    // Leaders but no citizens: leader points, no SIPAS, no total.
    assert!(points(2, "leader").is_some());
    assert_eq!(sipas(2), None);
    assert_eq!(unit(2).index.total_points, None);
    // Citizens but no leaders: SIPAS, no leader points (never 0), no total.
    assert_eq!(points(3, "leader"), None);
    assert!(sipas(3).is_some());
    assert_eq!(unit(3).index.total_points, None);
    // Nothing at all.
    assert_eq!(points(4, "leader"), None);
    assert_eq!(points(4, "civil_servant"), None);
    assert_eq!(sipas(4), None);
    assert_eq!(unit(4).index.percent, None);
    let ranked: BTreeSet<&str> = s.rankings.total.iter().map(|x| x.unit.as_str()).collect();
    assert_eq!(ranked, BTreeSet::from([code(0), code(1)]));
    let mut places: Vec<u32> = s
        .rankings
        .total
        .iter()
        .map(|x| {
            let p = x.national.unwrap();
            assert_eq!(p.of, 2);
            p.rank
        })
        .collect();
    places.sort_unstable();
    assert_eq!(places[0], 1);
    assert!(places.iter().all(|p| (1..=2).contains(p)));
    for c in &s.rankings.components {
        assert!(c.ranked.iter().all(|x| ranked.contains(x.unit.as_str())));
    }

    // Means cover only the units with a value: 2 of 34 totals, 3 of 34 leader scores.
    let m = {
        let mut conn = app.pool.get().unwrap();
        scores::main_methodology(&mut conn, round).unwrap()
    };
    let o = khaosat::app::results::overview(&s, &m);
    assert_eq!((o.complete, o.units), (2, 34));
    let totals = [0, 1].map(|i| unit(i).index.total_points.unwrap());
    assert!((o.mean_points.unwrap() - (totals[0] + totals[1]) / 2.0).abs() < 1e-9);
    let leader = o.groups.iter().find(|g| g.group == "leader").unwrap();
    assert_eq!(leader.units, 3);
    let leaders = [0, 1, 2].map(|i| points(i, "leader").unwrap());
    assert!((leader.mean_points.unwrap() - leaders.iter().sum::<f64>() / 3.0).abs() < 1e-9);
    assert_eq!(o.sipas_units, 3);
    assert_eq!(o.tiers.iter().map(|t| t.1).sum::<usize>(), 2);

    // The live dashboard: "2/34" complete, means with their n, "—" and "incomplete" rows.
    let dashboard = app.get_html(&format!("/results/{round}")).await;
    assert!(
        dashboard.contains("2/34 đơn vị đủ dữ liệu và được xếp hạng"),
        "{dashboard}"
    );
    assert!(dashboard.contains("(2/34 đơn vị)"));
    assert!(dashboard.contains("(3/34 đơn vị; "));
    for i in 2..5 {
        let row = row_of(&dashboard, name(i));
        assert!(row.contains("chưa đủ dữ liệu"), "{row}");
        assert!(
            !row.contains("/2<") && !row.contains(">0,00") && !row.contains(">0.00"),
            "{row}"
        );
    }
    let row = row_of(&dashboard, name(4));
    assert!(row.matches('—').count() >= 5, "{row}");
    // The admin score page says the same.
    let admin = app.get_html(&format!("/admin/rounds/{round}/scores")).await;
    assert!(admin.contains("2/34 đơn vị đủ dữ liệu và được xếp hạng"));
    assert_eq!(admin.matches("chưa đủ dữ liệu").count(), 32);
    let admin_row = row_of(&admin, name(4));
    assert!(!admin_row.contains(">0,00") && !admin_row.contains(">0.00"));

    // scores.json: nulls, not zeros; ranks only for the complete units.
    let json: serde_json::Value = app
        .get(&format!("/results/{round}/download/scores.json"))
        .await
        .json()
        .await
        .unwrap();
    let rows = json["scores"].as_array().unwrap();
    assert_eq!(rows.len(), 34);
    let row = |i: usize| rows.iter().find(|x| x["unit"] == code(i)).unwrap();
    for i in 2..5 {
        assert!(row(i)["survey_points"].is_null() && row(i)["national_rank"].is_null());
        assert_eq!(row(i)["complete"], 0);
    }
    assert!(row(3)["leader_points"].is_null());
    assert!(row(4)["sipas_percent"].is_null());
    assert!(row(2)["leader_points"].is_number());
    // Each unit × group reports its coverage; no item shows a percent next to a null mean.
    assert_eq!(row(4)["leader_coverage"], 0.0);
    let coverage = row(0)["leader_coverage"].as_f64().unwrap();
    assert!(coverage > 0.5 && coverage <= 1.0, "{coverage}");
    let items = json["items"].as_array().unwrap();
    assert!(
        items
            .iter()
            .any(|i| i["unit"] == code(4) && i["mean"].is_null())
    );
    for i in items {
        if i["mean"].is_null() {
            assert!(i["percent"].is_null() && i["points"].is_null(), "{i}");
        }
    }
    let json_ranks: BTreeSet<&str> = rows
        .iter()
        .filter(|x| !x["national_rank"].is_null())
        .map(|x| x["unit"].as_str().unwrap())
        .collect();
    assert_eq!(json_ranks, ranked);

    // The API.
    let token = make_token(&app, "read").await;
    let api: serde_json::Value = api_get(&app, &token, &format!("/api/v1/rounds/{round}/scores"))
        .await
        .json()
        .await
        .unwrap();
    let items = api["items"].as_array().unwrap();
    let item = |i: usize| items.iter().find(|x| x["unit"] == code(i)).unwrap();
    assert_eq!(item(0)["complete"], true);
    assert!(item(4)["survey_points"].is_null() && item(4)["national_rank"].is_null());
    assert_eq!(item(4)["complete"], false);
    let leader_of = |i: usize| {
        item(i)["groups"]
            .as_array()
            .unwrap()
            .iter()
            .find(|g| g["group"] == "leader")
            .unwrap()
            .clone()
    };
    assert!(leader_of(3)["points"].is_null() && leader_of(3)["percent"].is_null());
    let api_ranks: BTreeSet<&str> = items
        .iter()
        .filter(|x| !x["national_rank"].is_null())
        .map(|x| x["unit"].as_str().unwrap())
        .collect();
    assert_eq!(api_ranks, ranked);
    // The complete units come first.
    assert!(ranked.contains(items[0]["unit"].as_str().unwrap()));
    assert!(ranked.contains(items[1]["unit"].as_str().unwrap()));

    // `khaosat compute` prints the same: two "x/2" ranks, "-" and "incomplete" for the rest.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_khaosat"))
        .args(["compute", &round.to_string()])
        .env("KHAOSAT_LANG", "en")
        .env("DATABASE_URL", app._db.url())
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{table}");
    assert_eq!(
        table.lines().filter(|l| l.contains("/2 ")).count(),
        2,
        "{table}"
    );
    assert_eq!(
        table.lines().filter(|l| l.ends_with("incomplete")).count(),
        32
    );
    for i in 2..5 {
        let short: String = name(i).chars().take(28).collect();
        let line = table.lines().find(|l| l.contains(&short)).unwrap();
        assert!(
            line.ends_with("incomplete") && !line.contains(" 0.00"),
            "{line}"
        );
    }
    assert!(table.contains("ranked: 2 of 34 units complete"));

    // The published snapshot flags rank support only for ranked units.
    let payload = {
        let mut conn = app.pool.get().unwrap();
        scores::publish(&mut conn, round, None, "test")
            .unwrap()
            .payload
    };
    let snapshot: serde_json::Value = serde_json::from_str(&payload).unwrap();
    let uncertainty = snapshot["uncertainty"].as_object().unwrap();
    for (unit, u) in uncertainty {
        assert_eq!(
            u.get("leader_rank_supported").is_some(),
            ranked.contains(unit.as_str()),
            "{unit}: {u}"
        );
    }
}

#[test]
fn a_snapshot_published_before_missing_data_was_handled_still_reads() {
    // Old snapshots hold plain numbers and a boolean rank-support flag, no coverage.
    let old = r#"{"round_id":1,"methodologies":[],"instruments":[],"units":[],
        "rankings":{"total":[],"components":[]},
        "uncertainty":{"01":{"leader_points":null,"sipas_percent":null,"leader_rank_supported":true}}}"#;
    let s: scores::RoundScores = serde_json::from_str(old).unwrap();
    let u = &s.uncertainty.unwrap()["01"];
    assert_eq!(u.leader_rank_supported, Some(true));
    let group = r#"{"methodology":"par-2022","methodology_version":1,"group":"leader",
        "counts_toward_index":true,"responses":3,"points":20.5,"max_points":22.0,"percent":93.18,
        "items":[],"criteria":[],"components":[],"notes":[]}"#;
    let g: khaosat::domain::scoring::GroupScore = serde_json::from_str(group).unwrap();
    assert_eq!((g.points, g.coverage), (Some(20.5), None));
}

#[tokio::test]
async fn a_unit_below_the_minimum_respondents_is_shown_flagged_but_neither_tiered_nor_ranked() {
    let app = spawn_app().await;
    app.login_as("admin@sonoivu.gov.vn", Role::Admin).await;
    let r = incomplete_round(&app).await;
    let round = r.round;
    let code = |i: usize| r.units[i].0.as_str();
    let name = |i: usize| r.units[i].1.as_str();
    {
        let mut conn = app.pool.get().unwrap();
        let units = db::rounds::units(&mut conn, round).unwrap();
        let leader = db::rounds::group_id(&mut conn, "leader").unwrap().unwrap();
        // Unit 1 gets a second leader; unit 0 keeps one.
        copy_response(&mut conn, round, units[1].id, units[1].id, leader);
        // An annex revision that asks for two respondents per counted group, bound to the
        // round's points groups (a test shortcut: an open round cannot be reconfigured).
        let text = include_str!("../../assets/methodologies/par-2022.toml")
            .replacen("version = 1", "version = 2", 1)
            .replacen("min_respondents = 1", "min_respondents = 2", 1);
        let checked =
            khaosat::app::catalog::check_methodology("par-2022-v2.toml", text.as_bytes()).unwrap();
        let actor = khaosat::app::actor::Actor::service("test");
        let id = khaosat::app::catalog::import_methodology(
            &mut conn,
            "par-2022-v2.toml",
            &checked,
            false,
            actor,
        )
        .unwrap()
        .id();
        use khaosat::db::schema::round_groups;
        let civil = db::rounds::group_id(&mut conn, "civil_servant")
            .unwrap()
            .unwrap();
        diesel::update(
            round_groups::table
                .filter(round_groups::round_id.eq(round))
                .filter(round_groups::group_id.eq_any([leader, civil])),
        )
        .set(round_groups::methodology_id.eq(id))
        .execute(&mut conn)
        .unwrap();
    }
    let s = {
        let mut conn = app.pool.get().unwrap();
        let tallies = scores::live_tallies(&mut conn, round).unwrap();
        scores::compute(&mut conn, round, &tallies).unwrap()
    };
    let unit = |i: usize| s.units.iter().find(|u| u.unit == code(i)).unwrap();
    // Unit 0 (one leader): complete and shown, but flagged, untiered and unranked.
    assert!(unit(0).index.total_points.is_some());
    assert!(unit(0).index.insufficient_data && unit(0).index.tier.is_none());
    assert!(!unit(1).index.insufficient_data && unit(1).index.tier.is_some());
    let ranked: Vec<(&str, u32, u32)> = s
        .rankings
        .total
        .iter()
        .map(|x| {
            (
                x.unit.as_str(),
                x.national.unwrap().rank,
                x.national.unwrap().of,
            )
        })
        .collect();
    assert_eq!(ranked, vec![(code(1), 1, 1)]);

    let dashboard = app.get_html(&format!("/results/{round}")).await;
    assert!(dashboard.contains("1/34 đơn vị đủ dữ liệu và được xếp hạng"));
    let row = row_of(&dashboard, name(0));
    assert!(row.contains("không đủ người trả lời"), "{row}");
    // Vietnamese pages write a decimal comma.
    let total =
        khaosat::domain::scoring::fmt_points(unit(0).index.total_points.unwrap()).replace('.', ",");
    assert!(row.contains(&format!("{total} / ")), "{row}");
    let token = make_token(&app, "read").await;
    let api: serde_json::Value = api_get(&app, &token, &format!("/api/v1/rounds/{round}/scores"))
        .await
        .json()
        .await
        .unwrap();
    let item = api["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["unit"] == code(0))
        .unwrap()
        .clone();
    assert_eq!(item["insufficient_data"], true);
    assert!(item["survey_points"].is_number() && item["national_rank"].is_null());
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_khaosat"))
        .args(["compute", &round.to_string()])
        .env("KHAOSAT_LANG", "en")
        .env("DATABASE_URL", app._db.url())
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    let table = String::from_utf8_lossy(&out.stdout);
    let short: String = name(0).chars().take(28).collect();
    let line = table.lines().find(|l| l.contains(&short)).unwrap();
    assert!(line.ends_with("insufficient data"), "{line}");
    assert!(table.contains("ranked: 1 of 34 units complete"), "{table}");
}
