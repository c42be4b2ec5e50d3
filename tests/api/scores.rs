//! Scores: live tallies equal a recomputation from the raw answers, the demo round, the
//! ranking printed by `khaosat compute`, the Compute action's check of the live tallies, and
//! immutable published snapshots written together with the round's status.

use diesel::prelude::*;
use khaosat::app::demo::{self, DemoSpec};
use khaosat::app::rounds;
use khaosat::app::scores;
use khaosat::db::schema::{response_counts, responses};
use khaosat::domain::account::Role;
use khaosat::domain::lifecycle::{RoundAction, RoundStatus};

use crate::helpers::{TestDb, spawn_app};
use crate::rounds::ADMIN;

#[tokio::test]
async fn live_tallies_equal_a_recomputation_after_a_randomized_workload() {
    let app = spawn_app().await;
    // Web journeys through the real HTTP flow, on a round of their own.
    let (web_round, codes) = crate::respond::open_round_with_codes(&app, 3);
    for code in &codes {
        let review = crate::respond::answer_everything(&app, code.as_canonical()).await;
        let token = crate::helpers::csrf_from(&review);
        let marker = "name=\"submission_key\" value=\"";
        let start = review.find(marker).unwrap() + marker.len();
        let key = &review[start..start + review[start..].find('"').unwrap()];
        let response = app
            .post_form(
                &format!("/s/{}/submit", code.as_canonical()),
                &[("submission_key", key), ("csrf_token", token.as_str())],
            )
            .await;
        assert_eq!(response.status(), 303);
    }
    let mut conn = app.pool.get().unwrap();
    // Bulk synthetic responses with random seeds, on three groups.
    for seed in [11_u64, 29, 4242] {
        let round = demo::create(
            &mut conn,
            DemoSpec {
                year: 2025,
                responses: 3 * 34 * 2 + seed % 17,
                seed,
            },
        )
        .unwrap();
        let live = scores::live_tallies(&mut conn, round).unwrap();
        let recomputed = scores::recompute_tallies(&mut conn, round).unwrap();
        assert_eq!(
            scores::tally_differences(&live, &recomputed),
            Vec::<String>::new(),
            "seed {seed}"
        );
        assert_eq!(live, recomputed);
    }
    let live = scores::live_tallies(&mut conn, web_round).unwrap();
    let recomputed = scores::recompute_tallies(&mut conn, web_round).unwrap();
    assert_eq!(live, recomputed);
    assert_eq!(recomputed.values().map(|t| t.responses).sum::<u64>(), 3);
}

#[tokio::test]
async fn the_same_seed_gives_the_same_demo_data() {
    let app = spawn_app().await;
    let mut conn = app.pool.get().unwrap();
    let a = demo::create(
        &mut conn,
        DemoSpec {
            year: 2023,
            responses: 400,
            seed: 5,
        },
    )
    .unwrap();
    let b = demo::create(
        &mut conn,
        DemoSpec {
            year: 2023,
            responses: 400,
            seed: 5,
        },
    )
    .unwrap();
    let c = demo::create(
        &mut conn,
        DemoSpec {
            year: 2023,
            responses: 400,
            seed: 6,
        },
    )
    .unwrap();
    let ta = scores::recompute_tallies(&mut conn, a).unwrap();
    let tb = scores::recompute_tallies(&mut conn, b).unwrap();
    let tc = scores::recompute_tallies(&mut conn, c).unwrap();
    assert_eq!(
        ta.values().collect::<Vec<_>>(),
        tb.values().collect::<Vec<_>>()
    );
    assert_ne!(
        ta.values().collect::<Vec<_>>(),
        tc.values().collect::<Vec<_>>()
    );
}

#[tokio::test]
async fn a_published_snapshot_is_byte_identical_when_reread_and_its_hash_verifies() {
    let app = spawn_app().await;
    let mut conn = app.pool.get().unwrap();
    let round = demo::create(
        &mut conn,
        DemoSpec {
            year: 2023,
            responses: 600,
            seed: 9,
        },
    )
    .unwrap();
    let first = scores::publish(&mut conn, round, None, "test").unwrap();
    assert_eq!(first.version, 1);
    let (reread, verified) = scores::read_snapshot(&mut conn, round, 1).unwrap().unwrap();
    assert!(verified);
    assert_eq!(reread.payload, first.payload, "byte-identical");
    assert_eq!(reread.inputs_hash, first.inputs_hash);
    // Publishing again makes a new version; the first stays as it was.
    let second = scores::publish(&mut conn, round, None, "test").unwrap();
    assert_eq!(second.version, 2);
    assert_eq!(second.payload, first.payload, "same inputs, same scores");
    let (again, _) = scores::read_snapshot(&mut conn, round, 1).unwrap().unwrap();
    assert_eq!(again.payload_hash, first.payload_hash);
    let json: serde_json::Value = serde_json::from_str(&first.payload).unwrap();
    assert_eq!(json["units"].as_array().unwrap().len(), 63);
    // Every unit has a 95 % interval around its leader points, and a rank-support flag.
    let uncertainty = json["uncertainty"].as_object().unwrap();
    assert_eq!(uncertainty.len(), 63);
    let (low, high) = (
        uncertainty["01"]["leader_points"]["low"].as_f64().unwrap(),
        uncertainty["01"]["leader_points"]["high"].as_f64().unwrap(),
    );
    assert!(low <= high && high <= 22.0, "{low} {high}");
    assert!(
        uncertainty
            .values()
            .all(|u| u["leader_rank_supported"].is_boolean())
    );
    assert_eq!(
        khaosat::db::audit::count_action(&mut conn, "round:publish").unwrap(),
        2
    );
}

#[test]
fn demo_then_compute_prints_a_ranking_of_63_provinces() {
    let db = TestDb::new();
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_khaosat"))
            .args(args)
            .env("KHAOSAT_LANG", "en")
            .env("DATABASE_URL", db.url())
            .env("RUST_LOG", "warn")
            .output()
            .unwrap()
    };
    let created = run(&[
        "demo",
        "--round-year",
        "2023",
        "--responses",
        "1890",
        "--seed",
        "3",
    ]);
    assert!(
        created.status.success(),
        "{}",
        String::from_utf8_lossy(&created.stderr)
    );
    let stdout = String::from_utf8_lossy(&created.stdout).to_string();
    let round = stdout.split_whitespace().nth(2).unwrap().to_owned();
    let computed = run(&["compute", &round]);
    assert!(
        computed.status.success(),
        "{}",
        String::from_utf8_lossy(&computed.stderr)
    );
    let table = String::from_utf8_lossy(&computed.stdout);
    let ranked: Vec<&str> = table.lines().filter(|l| l.contains("/63")).collect();
    assert_eq!(ranked.len(), 63, "{table}");
    assert!(ranked[0].trim_start().starts_with("1/63"));
    assert!(table.contains("live tallies equal the recomputation"));
}

#[tokio::test]
async fn an_admin_closes_computes_and_publishes_and_the_live_ranking_shows_every_province() {
    let app = spawn_app().await;
    app.login_as(
        "admin@sonoivu.gov.vn",
        khaosat::domain::account::Role::Admin,
    )
    .await;
    let round = {
        let mut conn = app.pool.get().unwrap();
        demo::create(
            &mut conn,
            DemoSpec {
                year: 2023,
                responses: 630,
                seed: 2,
            },
        )
        .unwrap()
    };
    let page = format!("/admin/rounds/{round}");
    let ranking = app.get_html(&format!("{page}/scores")).await;
    assert_eq!(ranking.matches("/63</td>").count(), 63);
    for action in ["close", "compute", "publish"] {
        let response = app
            .submit(&page, &format!("{page}/actions/{action}"), &[])
            .await;
        assert_eq!(response.status(), 303, "{action}");
    }
    assert!(app.get_html(&page).await.contains("Đã công bố"));
    let mut conn = app.pool.get().unwrap();
    let (snapshot, verified) = scores::read_snapshot(&mut conn, round, 1).unwrap().unwrap();
    assert!(verified);
    assert_eq!(snapshot.version, 1);
}

#[tokio::test]
async fn appraised_points_compose_the_full_index_with_tiers_and_bad_rows_change_nothing() {
    let app = spawn_app().await;
    let mut conn = app.pool.get().unwrap();
    let round = demo::create(
        &mut conn,
        DemoSpec {
            year: 2023,
            responses: 630,
            seed: 4,
        },
    )
    .unwrap();
    let units = khaosat::db::rounds::units(&mut conn, round).unwrap();
    let components = [
        ("C1", 10.0 - 3.3),
        ("C2", 10.0 - 2.75),
        ("C3", 13.0 - 2.75),
        ("C4", 10.5 - 2.75),
        ("C5", 15.0 - 2.75),
        ("C6", 12.0 - 2.2),
    ];
    let mut csv = String::from("unit,component,points\n");
    for u in &units {
        for (c, limit) in components {
            csv.push_str(&format!("{},{c},{:.2}\n", u.code, limit * 0.95));
        }
    }
    let imported = scores::import_appraised(
        &mut conn,
        round,
        "tham-dinh.csv",
        csv.as_bytes(),
        None,
        "test",
    )
    .unwrap();
    assert_eq!(imported, Ok(63 * 6));
    let tallies = scores::live_tallies(&mut conn, round).unwrap();
    let computed = scores::compute(&mut conn, round, &tallies).unwrap();
    assert!(
        computed
            .units
            .iter()
            .all(|u| u.index.full_index && u.index.max_points == 100.0)
    );
    assert!(
        computed.rankings.total.iter().all(|r| r.tier.is_some()),
        "every unit has a tier"
    );

    let bad = format!(
        "unit,component,points\n{u},C1,99\nnowhere,C1,1\n{u},C99,1\n{u},C2,1\n{u},C2,1\n",
        u = units[0].code
    );
    let refused =
        scores::import_appraised(&mut conn, round, "xau.csv", bad.as_bytes(), None, "test")
            .unwrap()
            .unwrap_err();
    assert_eq!(refused.len(), 4, "{refused:?}");
    assert!(refused[0].starts_with("xau.csv row 2, column points"));
    assert!(refused[1].starts_with("xau.csv row 3, column unit"));
    assert!(refused[2].starts_with("xau.csv row 4, column component"));
    assert!(refused[3].starts_with("xau.csv row 6:"));
    assert_eq!(
        khaosat::db::appraised::of_round(&mut conn, round)
            .unwrap()
            .len(),
        63 * 6,
        "nothing changed"
    );
}

#[tokio::test]
async fn flagged_responses_can_be_excluded_with_a_reason_and_the_live_tallies_follow() {
    let app = spawn_app().await;
    app.login_as(
        "analyst@sonoivu.gov.vn",
        khaosat::domain::account::Role::Analyst,
    )
    .await;
    let round = {
        let mut conn = app.pool.get().unwrap();
        demo::create(
            &mut conn,
            DemoSpec {
                year: 2025,
                responses: 34 * 3 * 40,
                seed: 8,
            },
        )
        .unwrap()
    };
    let page = format!("/admin/rounds/{round}/quality");
    assert_eq!(
        app.submit(&page, &format!("{page}/flag"), &[])
            .await
            .status(),
        303
    );
    let mut conn = app.pool.get().unwrap();
    let flagged = khaosat::db::responses::flagged(&mut conn, round).unwrap();
    assert!(!flagged.is_empty(), "fast responses are flagged");
    assert!(
        flagged
            .iter()
            .all(|r| r.flags.as_deref().unwrap().contains("speeder")
                || r.flags.as_deref().unwrap().contains("straightline"))
    );
    let target = flagged[0].id.to_string();
    let no_reason = app
        .submit(
            &page,
            &format!("{page}/exclude"),
            &[("response_id", &target), ("reason", " ")],
        )
        .await;
    assert_eq!(no_reason.status(), 400);
    let excluded = app
        .submit(
            &page,
            &format!("{page}/exclude"),
            &[("response_id", &target), ("reason", "47 giây cho 40 câu")],
        )
        .await;
    assert_eq!(excluded.status(), 303);
    assert!(app.get_html(&page).await.contains("Đã loại khỏi kết quả"));
    let live = scores::live_tallies(&mut conn, round).unwrap();
    assert_eq!(
        live,
        scores::recompute_tallies(&mut conn, round).unwrap(),
        "the live tallies left it out"
    );
    let with = scores::recompute_tallies_with_excluded(&mut conn, round).unwrap();
    let count = |t: &scores::Tallies| t.values().map(|x| x.responses).sum::<u64>();
    assert_eq!(
        count(&with),
        count(&live) + 1,
        "the scores with exclusions stay available"
    );
    assert_eq!(
        khaosat::db::audit::count_action(&mut conn, "response:exclude").unwrap(),
        1
    );
    let with_page = app
        .get_html(&format!("/admin/rounds/{round}/scores?with_excluded=1"))
        .await;
    assert!(with_page.contains("Đang tính cả các phiếu đã loại."));
}

#[tokio::test]
async fn a_2025_round_compares_with_2023_through_the_provinces_each_unit_absorbed() {
    let app = spawn_app().await;
    app.login_as(
        "admin@sonoivu.gov.vn",
        khaosat::domain::account::Role::Admin,
    )
    .await;
    let mut conn = app.pool.get().unwrap();
    let earlier = demo::create(
        &mut conn,
        DemoSpec {
            year: 2023,
            responses: 63 * 3 * 6,
            seed: 21,
        },
    )
    .unwrap();
    let current = demo::create(
        &mut conn,
        DemoSpec {
            year: 2025,
            responses: 34 * 3 * 6,
            seed: 22,
        },
    )
    .unwrap();
    let actor = khaosat::app::rounds::Actor {
        user_id: None,
        label: "test",
        role: khaosat::domain::account::Role::Admin,
    };
    let err = khaosat::app::rounds::set_compare_round(&mut conn, earlier, Some(current), actor)
        .unwrap_err();
    assert!(err.to_string().contains("not earlier"), "{err}");
    let page = format!("/admin/rounds/{current}");
    let saved = app
        .submit(
            &page,
            &format!("{page}/compare"),
            &[("earlier", &earlier.to_string())],
        )
        .await;
    assert_eq!(saved.status(), 303);

    let changes = scores::year_over_year(&mut conn, current).unwrap().unwrap();
    assert_eq!(changes.len(), 34);
    assert!(
        changes.iter().all(|c| c.earlier.is_some()),
        "every 2025 unit has a 2023 value"
    );
    // Check one merged unit by hand: the respondent-weighted mean of its predecessors.
    let merged = changes
        .iter()
        .find(|c| c.merged)
        .expect("the 2025 set has merged units");
    let old_tallies = scores::live_tallies(&mut conn, earlier).unwrap();
    let old_scores = scores::compute(&mut conn, earlier, &old_tallies).unwrap();
    let old_units = khaosat::db::rounds::units(&mut conn, earlier).unwrap();
    let (mut weighted, mut n) = (0.0, 0.0);
    for code in &merged.predecessors {
        let unit = old_units.iter().find(|u| &u.code == code).unwrap();
        let respondents: u64 = old_tallies
            .iter()
            .filter(|((u, _), _)| *u == unit.id)
            .map(|(_, t)| t.responses)
            .sum();
        let points = old_scores
            .units
            .iter()
            .find(|u| &u.unit == code)
            .unwrap()
            .index
            .total_points
            .unwrap();
        weighted += points * respondents as f64;
        n += respondents as f64;
    }
    let expected = weighted / n;
    let got = merged.earlier.as_ref().unwrap().points;
    assert!((got - expected).abs() < 1e-9, "{got} vs {expected}");
    let html = app.get_html(&format!("{page}/scores")).await;
    assert!(html.contains("Thay đổi hạng"));
}

/// A demo round of the 34 units of 2025 with 120 responses, closed, and the administrator's
/// session: ready for the Compute button.
async fn closed_demo_round() -> (crate::helpers::TestApp, i64) {
    let app = spawn_app().await;
    app.login_as("admin@sonoivu.gov.vn", Role::Admin).await;
    let round = crate::results::demo_round(&app, 120);
    let mut conn = app.pool.get().unwrap();
    rounds::apply_action(&mut conn, round, RoundAction::Close, ADMIN).unwrap();
    (app, round)
}

fn status_of(app: &crate::helpers::TestApp, round: i64) -> RoundStatus {
    let mut conn = app.pool.get().unwrap();
    khaosat::db::rounds::by_id(&mut conn, round)
        .unwrap()
        .unwrap()
        .status
}

#[tokio::test]
async fn the_compute_button_refuses_a_round_whose_live_tallies_were_tampered_with() {
    let (app, round) = closed_demo_round().await;
    {
        // One unit × group claims a response it never received.
        let mut conn = app.pool.get().unwrap();
        let (unit, group): (i64, i64) = response_counts::table
            .filter(response_counts::round_id.eq(round))
            .select((response_counts::unit_id, response_counts::group_id))
            .first(&mut conn)
            .unwrap();
        let changed = diesel::update(
            response_counts::table
                .filter(response_counts::round_id.eq(round))
                .filter(response_counts::unit_id.eq(unit))
                .filter(response_counts::group_id.eq(group)),
        )
        .set(response_counts::responses.eq(response_counts::responses + 1))
        .execute(&mut conn)
        .unwrap();
        assert_eq!(changed, 1);
    }
    let page = format!("/admin/rounds/{round}");
    let response = app
        .submit(&page, &format!("{page}/actions/compute"), &[])
        .await;
    assert_eq!(response.status(), 422);
    let body = response.text().await.unwrap();
    assert!(
        body.contains("Số liệu tổng hợp trực tiếp khác với câu trả lời gốc ở 1 chỗ"),
        "{body}"
    );
    assert_eq!(status_of(&app, round), RoundStatus::Closed);
    let mut conn = app.pool.get().unwrap();
    assert_eq!(
        khaosat::db::audit::count_action(&mut conn, "round:compute").unwrap(),
        0
    );
    let refused: serde_json::Value = serde_json::from_str(
        &khaosat::db::audit::latest_new_value(&mut conn, "round:compute_refused")
            .unwrap()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(refused["check"]["differences"], 1);
}

#[tokio::test]
async fn the_compute_button_marks_an_untampered_round_computed_and_audits_its_check() {
    let (app, round) = closed_demo_round().await;
    let page = format!("/admin/rounds/{round}");
    let response = app
        .submit(&page, &format!("{page}/actions/compute"), &[])
        .await;
    assert_eq!(response.status(), 303);
    assert_eq!(status_of(&app, round), RoundStatus::Computed);
    let mut conn = app.pool.get().unwrap();
    let counted: u64 = scores::recompute_tallies(&mut conn, round)
        .unwrap()
        .values()
        .map(|t| t.responses)
        .sum();
    assert!(counted > 0);
    let entry: serde_json::Value = serde_json::from_str(
        &khaosat::db::audit::latest_new_value(&mut conn, "round:compute")
            .unwrap()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(entry["status"], "computed");
    assert_eq!(entry["check"]["responses"], counted);
    assert_eq!(entry["check"]["differences"], 0);
    assert!(entry["check"]["elapsed_ms"].is_u64(), "{entry}");
}

#[tokio::test]
async fn a_publication_whose_snapshot_fails_leaves_the_round_unpublished() {
    let (app, round) = closed_demo_round().await;
    let mut conn = app.pool.get().unwrap();
    rounds::apply_action(&mut conn, round, RoundAction::Compute, ADMIN).unwrap();
    // An unreadable answer makes recomputing the snapshot's scores fail, deterministically.
    let first: i64 = responses::table
        .filter(responses::round_id.eq(round))
        .select(diesel::dsl::min(responses::id))
        .first::<Option<i64>>(&mut conn)
        .unwrap()
        .unwrap();
    let original: String = responses::table
        .find(first)
        .select(responses::answers)
        .first(&mut conn)
        .unwrap();
    diesel::update(responses::table.find(first))
        .set(responses::answers.eq("not json"))
        .execute(&mut conn)
        .unwrap();
    assert!(rounds::apply_action(&mut conn, round, RoundAction::Publish, ADMIN).is_err());
    assert_eq!(status_of(&app, round), RoundStatus::Computed);
    assert!(
        scores::read_snapshot(&mut conn, round, 1)
            .unwrap()
            .is_none()
    );
    assert_eq!(
        khaosat::db::audit::count_action(&mut conn, "round:publish").unwrap(),
        0
    );
    // Repaired, the same action publishes status and snapshot together.
    diesel::update(responses::table.find(first))
        .set(responses::answers.eq(original))
        .execute(&mut conn)
        .unwrap();
    rounds::apply_action(&mut conn, round, RoundAction::Publish, ADMIN).unwrap();
    assert_eq!(status_of(&app, round), RoundStatus::Published);
    let (snapshot, verified) = scores::read_snapshot(&mut conn, round, 1).unwrap().unwrap();
    assert!(verified);
    assert_eq!(snapshot.version, 1);
}
