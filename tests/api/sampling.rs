//! Verifiable random samples (docs/sampling.md) end to end: the draw is reproducible and
//! agrees with the independent Python reimplementation, `verify-sample` detects a changed
//! frame or seed, replacements come from the reserve in order, and only sampled respondents
//! get codes. Run on SQLite, and on PostgreSQL with `KHAOSAT_TEST_DATABASE_URL`.
//!
//! The reference test skips with its reason when `python3` is missing, unless
//! `KHAOSAT_TEST_REQUIRE_ALL=1` (as `.ci/run` sets) makes that a failure.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use khaosat::app::rounds::{self, Actor, SampleSizes};
use khaosat::db::AnyConnection;
use khaosat::domain::account::Role;
use khaosat::domain::sampling::{Rate, ReplacementReason};

use crate::helpers::{TestApp, skip, spawn_app};
use crate::rounds::secret;

const ADMIN: Actor<'static> = Actor {
    user_id: None,
    label: "test",
    role: Role::Admin,
};

const SEED: &str = "XSMB 20/12/2026: giải đặc biệt 12345";

/// Names with Vietnamese diacritics, one pair written identically.
const NAMES: [&str; 7] = [
    "Nguyễn Văn An",
    "Trần Thị Bình",
    "Lê Hoàng Cường",
    "Phạm Thị Dung",
    "Phạm Thị Dung",
    "Đỗ Quang Huy",
    "Vũ Thị Ngọc Ánh",
];

/// A draft round on the 2025 units; returns it with its first two unit codes.
fn new_round(conn: &mut AnyConnection) -> (i64, Vec<String>) {
    let input = rounds::NewRoundInput {
        year: 2025,
        name_vi: "Khảo sát CCHC 2025".into(),
        name_en: "PAR survey 2025".into(),
        unit_set_code: rounds::UNITS_2025.into(),
        opens_at: None,
        closes_at: None,
    };
    let round = rounds::create_round(conn, &input, ADMIN).unwrap();
    // The leaders are configured (coverage lists configured groups); citizens are listed only.
    use diesel::prelude::*;
    use khaosat::db::schema::{instruments, methodologies};
    let instrument: i64 = instruments::table
        .filter(instruments::code.eq("par-leader"))
        .select(instruments::id)
        .first(conn)
        .unwrap();
    let methodology: i64 = methodologies::table
        .filter(methodologies::code.eq("par-2022"))
        .select(methodologies::id)
        .first(conn)
        .unwrap();
    rounds::set_group(conn, round, "leader", instrument, methodology, ADMIN).unwrap();
    let units = khaosat::db::rounds::units(conn, round)
        .unwrap()
        .into_iter()
        .take(2)
        .map(|u| u.code)
        .collect();
    (round, units)
}

/// The frame: every name in each of two units × two groups, some with e-mail or phone.
fn frame_csv(units: &[String]) -> String {
    let mut csv = String::from("name,email,phone,unit,group\n");
    for (u, unit) in units.iter().enumerate() {
        for group in ["leader", "citizen"] {
            for (i, name) in NAMES.iter().enumerate() {
                let email = if i % 3 == 0 {
                    format!("p{u}{i}.{group}@sonoivu.gov.vn")
                } else {
                    String::new()
                };
                let phone = if i % 3 == 1 {
                    format!("0912 345 {u}{i}0")
                } else {
                    String::new()
                };
                csv.push_str(&format!("{name},{email},{phone},{unit},{group}\n"));
            }
        }
    }
    csv
}

fn sizes_csv(units: &[String]) -> String {
    let mut csv = String::from("unit,group,size\n");
    for unit in units {
        csv.push_str(&format!("{unit},leader,3\n{unit},citizen,2\n"));
    }
    csv
}

/// A round with the frame imported, committed and drawn with [`SEED`].
fn drawn_round(app: &TestApp) -> (i64, Vec<String>, String) {
    let mut conn = app.pool.get().unwrap();
    let (round, units) = new_round(&mut conn);
    let frame = frame_csv(&units);
    rounds::import_respondents(&mut conn, round, "frame.csv", frame.as_bytes(), ADMIN).unwrap();
    let sizes = sizes_csv(&units);
    let file = SampleSizes::File {
        name: "sizes.csv",
        bytes: sizes.as_bytes(),
    };
    rounds::commit_sample(&mut conn, round, file, "XSMB 20/12/2026", ADMIN).unwrap();
    rounds::draw_sample(&mut conn, round, SEED, ADMIN).unwrap();
    (round, units, frame)
}

/// The stored draw: per (unit, group), the respondent keys in drawn order.
fn stored_draw(app: &TestApp, round: i64) -> BTreeMap<(String, String), Vec<String>> {
    let mut conn = app.pool.get().unwrap();
    khaosat::db::samples::strata(&mut conn, round)
        .unwrap()
        .into_iter()
        .map(|s| {
            let keys = khaosat::db::samples::members(&mut conn, s.id)
                .unwrap()
                .into_iter()
                .map(|m| m.respondent_key)
                .collect();
            ((s.unit_code, s.group_code), keys)
        })
        .collect()
}

/// Whether python3 runs; otherwise skips (or fails when everything is required).
fn python_available() -> bool {
    let found = Command::new("python3")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        skip("python3 is not installed: the reference implementation of the draw cannot run");
    }
    found
}

#[tokio::test]
async fn the_draw_is_reproducible_and_agrees_with_the_python_reference() {
    let app = spawn_app().await;
    let (first, units, frame) = drawn_round(&app);
    let (second, _, _) = drawn_round(&app);
    let drawn = stored_draw(&app, first);
    assert_eq!(drawn.len(), 4, "two units × two groups");
    assert_eq!(
        drawn,
        stored_draw(&app, second),
        "same frame and seed, same draw"
    );
    let mut conn = app.pool.get().unwrap();
    let state = rounds::sample_state(&mut conn, first).unwrap().unwrap();
    let again = rounds::sample_state(&mut conn, second).unwrap().unwrap();
    assert_eq!(state.commitment.frame_hash, again.commitment.frame_hash);
    assert!(state.strata.iter().all(|s| s.frame_size == 7));
    assert_eq!(
        state.strata.iter().map(|s| s.sampled).sum::<usize>(),
        10,
        "3 leaders and 2 citizens in each of two units"
    );
    drop(conn);

    if !python_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (frame_path, sizes_path) = (dir.path().join("frame.csv"), dir.path().join("sizes.csv"));
    std::fs::write(&frame_path, &frame).unwrap();
    std::fs::write(&sizes_path, sizes_csv(&units)).unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/sampling_reference.py");
    let out = Command::new("python3")
        .arg(&script)
        .arg(&frame_path)
        .args(["--seed", SEED, "--sizes"])
        .arg(&sizes_path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let reference: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        reference["frame_hash"],
        state.commitment.frame_hash.as_str()
    );
    let strata = reference["strata"].as_array().unwrap();
    assert_eq!(strata.len(), 4);
    for (s, committed) in strata.iter().zip(&state.strata) {
        let key = (
            s["unit"].as_str().unwrap().to_owned(),
            s["group"].as_str().unwrap().to_owned(),
        );
        assert_eq!(s["hash"], committed.frame_hash.as_str(), "{key:?}");
        let order: Vec<String> = ["sample", "reserve"]
            .iter()
            .flat_map(|part| s[*part].as_array().unwrap().iter())
            .map(|k| k.as_str().unwrap().to_owned())
            .collect();
        assert_eq!(order, drawn[&key], "{key:?}");
        let sample = s["sample"].as_array().unwrap().len() as i64;
        assert_eq!(sample, committed.sample_size, "{key:?}");
    }
}

/// Runs `khaosat` on the app's database.
fn khaosat(app: &TestApp, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_khaosat"))
        .args(args)
        .env("DATABASE_URL", app._db.url())
        .env("KHAOSAT_LANG", "en")
        .env("RUST_LOG", "warn")
        .output()
        .unwrap()
}

fn text(out: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[tokio::test]
async fn verify_sample_detects_a_changed_frame_or_seed() {
    let app = spawn_app().await;
    let mut conn = app.pool.get().unwrap();
    let (round, units) = new_round(&mut conn);
    let frame = frame_csv(&units);
    rounds::import_respondents(&mut conn, round, "frame.csv", frame.as_bytes(), ADMIN).unwrap();
    drop(conn);
    let dir = tempfile::tempdir().unwrap();
    let path = |name: &str| dir.path().join(name).to_str().unwrap().to_owned();
    std::fs::write(path("frame.csv"), &frame).unwrap();
    std::fs::write(path("sizes.csv"), sizes_csv(&units)).unwrap();
    let round_arg = round.to_string();

    // Verifying before the commitment is refused with its reason.
    let early = khaosat(
        &app,
        &[
            "round",
            "verify-sample",
            &round_arg,
            "--frame",
            &path("frame.csv"),
            "--seed",
            SEED,
        ],
    );
    assert!(!early.status.success());
    assert!(
        text(&early).contains("Commit the sample"),
        "{}",
        text(&early)
    );

    let commit = khaosat(
        &app,
        &[
            "round",
            "commit-sample",
            &round_arg,
            "--sizes",
            &path("sizes.csv"),
            "--seed-source",
            "XSMB 20/12/2026",
        ],
    );
    assert!(commit.status.success(), "{}", text(&commit));
    assert!(
        text(&commit).contains("sample committed"),
        "{}",
        text(&commit)
    );
    let draw = khaosat(&app, &["round", "draw-sample", &round_arg, "--seed", SEED]);
    assert!(draw.status.success(), "{}", text(&draw));
    assert!(
        text(&draw).contains("10 sampled, 18 in reserve"),
        "{}",
        text(&draw)
    );
    let again = khaosat(
        &app,
        &["round", "draw-sample", &round_arg, "--seed", "other"],
    );
    assert!(!again.status.success(), "a draw cannot be repeated");

    let verify = |file: &str, seed: &str| {
        khaosat(
            &app,
            &[
                "round",
                "verify-sample",
                &round_arg,
                "--frame",
                &path(file),
                "--seed",
                seed,
            ],
        )
    };
    // The list as imported, with its rows in another order, matches everywhere.
    let mut lines: Vec<&str> = frame.lines().collect();
    lines[1..].reverse();
    std::fs::write(path("reordered.csv"), lines.join("\n")).unwrap();
    let ok = verify("reordered.csv", SEED);
    assert!(ok.status.success(), "{}", text(&ok));
    assert_eq!(text(&ok).matches(": match").count(), 4, "{}", text(&ok));

    // One name changed in the first unit's leaders: that pair alone differs.
    let changed = frame.replacen("Lê Hoàng Cường", "Lê Hoàng Cương", 1);
    std::fs::write(path("changed.csv"), changed).unwrap();
    let out = verify("changed.csv", SEED);
    assert!(!out.status.success());
    let report = text(&out);
    assert!(
        report.contains(&format!("{} leader: MISMATCH, the frame differs", units[0])),
        "{report}"
    );
    assert_eq!(report.matches(": match").count(), 3, "{report}");
    assert!(
        report.contains("1 unit × group pair(s) do not match"),
        "{report}"
    );

    // The right frame with another seed: every draw differs.
    let out = verify("frame.csv", "XSMB 20/12/2026: giải đặc biệt 12346");
    assert!(!out.status.success());
    let report = text(&out);
    assert!(
        report.contains("The seed given is not the seed the draw used"),
        "{report}"
    );
    assert_eq!(
        report
            .matches("the draw recomputed from the file differs")
            .count(),
        4,
        "{report}"
    );
}

#[tokio::test]
async fn codes_go_only_to_sampled_respondents_and_replacements_follow_the_reserve_order() {
    use khaosat::db::audit::count_action;
    let app = spawn_app().await;
    let secret = secret(&app);
    let mut conn = app.pool.get().unwrap();
    let (round, units) = new_round(&mut conn);
    rounds::import_respondents(
        &mut conn,
        round,
        "f.csv",
        frame_csv(&units).as_bytes(),
        ADMIN,
    )
    .unwrap();
    rounds::commit_sample(
        &mut conn,
        round,
        SampleSizes::File {
            name: "sizes.csv",
            bytes: sizes_csv(&units).as_bytes(),
        },
        "witnessed draw of 18/12/2026",
        ADMIN,
    )
    .unwrap();
    // Committed, not drawn: no codes for anyone, and the commitment cannot be made again.
    let early = rounds::issue_codes(&mut conn, &secret, round, false, None, ADMIN).unwrap_err();
    assert!(
        early.to_string().contains("draw it before issuing codes"),
        "{early}"
    );
    let twice = rounds::commit_sample(
        &mut conn,
        round,
        SampleSizes::Rate(Rate::parse("0.5").unwrap()),
        "x",
        ADMIN,
    )
    .unwrap_err();
    assert!(twice.to_string().contains("already committed"), "{twice}");
    rounds::draw_sample(&mut conn, round, SEED, ADMIN).unwrap();

    let sampled = |conn: &mut AnyConnection| -> Vec<i64> {
        let mut ids: Vec<i64> = khaosat::db::samples::sampled_respondents(conn, round)
            .unwrap()
            .into_iter()
            .map(|(id, _, _)| id)
            .collect();
        ids.sort_unstable();
        ids
    };
    let holders = |conn: &mut AnyConnection| -> Vec<i64> {
        let mut ids: Vec<i64> =
            khaosat::db::respondents::code_holders(conn, round, &Default::default())
                .unwrap()
                .into_iter()
                .map(|h| h.contact.respondent_id)
                .collect();
        ids.sort_unstable();
        ids
    };
    let codes = rounds::issue_codes(&mut conn, &secret, round, false, None, ADMIN).unwrap();
    assert_eq!(codes.len(), 10, "28 listed, 10 sampled");
    assert_eq!(holders(&mut conn), sampled(&mut conn));

    // Replace two sampled leaders of the first unit: the first two of its reserve come, in
    // drawn order.
    let strata = khaosat::db::samples::strata(&mut conn, round).unwrap();
    let leaders = strata
        .iter()
        .find(|s| s.unit_code == units[0] && s.group_code == "leader")
        .unwrap();
    let members = khaosat::db::samples::members(&mut conn, leaders.id).unwrap();
    let at = |i: usize| members[i].respondent_id.unwrap();
    let first = rounds::replace_sampled(&mut conn, round, at(1), ReplacementReason::Refused, ADMIN)
        .unwrap();
    assert_eq!((first.respondent_id, first.position), (Some(at(3)), 3));
    let second = rounds::replace_sampled(
        &mut conn,
        round,
        at(0),
        ReplacementReason::Ineligible,
        ADMIN,
    )
    .unwrap();
    assert_eq!((second.respondent_id, second.position), (Some(at(4)), 4));
    // A replacement can be replaced in turn; a reserve member or a replaced one cannot.
    let third = rounds::replace_sampled(
        &mut conn,
        round,
        at(3),
        ReplacementReason::Unreachable,
        ADMIN,
    )
    .unwrap();
    assert_eq!(third.respondent_id, Some(at(5)));
    for not_sampled in [at(6), at(1)] {
        let e = rounds::replace_sampled(
            &mut conn,
            round,
            not_sampled,
            ReplacementReason::Refused,
            ADMIN,
        )
        .unwrap_err();
        assert!(e.to_string().contains("not in the sample"), "{e}");
    }
    // The replaced lost their unused codes; the replacements still in the sample get new
    // ones (position 3 was replaced before it got one).
    let more = rounds::issue_codes(&mut conn, &secret, round, false, None, ADMIN).unwrap();
    assert_eq!(more.len(), 2);
    let with_codes = holders(&mut conn);
    assert_eq!(with_codes, sampled(&mut conn));
    for i in [2, 4, 5] {
        assert!(with_codes.contains(&at(i)), "position {i} holds a code");
    }
    for i in [0, 1, 3, 6] {
        assert!(!with_codes.contains(&at(i)), "position {i} holds no code");
    }
    // Rates: of the first unit's leaders, position 2 submitted, 4 started, 5 never started;
    // 0 was ineligible, 1 refused, 3 unreachable. I = 1, P = 1, R = 1, UO = 1 + 1, and the
    // ineligible one in no denominator: RR1 = 1 / (2 + 1 + 2) = 0.2, COOP1 = 1 / (2 + 1).
    {
        use diesel::prelude::*;
        use khaosat::db::schema::{access_codes, invitations};
        for (i, state) in [(2, "used"), (4, "started")] {
            let code: i64 = invitations::table
                .filter(invitations::respondent_id.eq(at(i)))
                .select(invitations::access_code_id)
                .first(&mut conn)
                .unwrap();
            diesel::update(access_codes::table.find(code))
                .set(access_codes::state.eq(state))
                .execute(&mut conn)
                .unwrap();
        }
    }
    let coverage = rounds::coverage(&mut conn, round).unwrap();
    let row = coverage
        .iter()
        .find(|r| r.unit_code == units[0] && r.group_code == "leader")
        .unwrap();
    let sample = row
        .sample
        .as_ref()
        .expect("a sampled round shows its sample");
    assert_eq!(
        (
            sample.frame,
            sample.sampled,
            sample.replaced,
            sample.refused,
            sample.ineligible
        ),
        (7, 3, 3, 1, 1)
    );
    let d = sample.dispositions;
    assert_eq!(
        (
            d.complete,
            d.partial,
            d.refusal,
            d.unknown_other,
            d.not_eligible
        ),
        (1, 1, 1, 2, 1)
    );
    assert_eq!(sample.rr1, Some(0.2));
    assert_eq!(sample.coop1, Some(1.0 / 3.0));
    app.login_as("admin@sonoivu.gov.vn", Role::Admin).await;
    let page = app
        .get_html(&format!("/admin/rounds/{round}/coverage"))
        .await;
    assert!(page.contains("Mẫu ngẫu nhiên và tỷ lệ trả lời"), "{page}");
    assert!(page.contains("<td class=\"num rr1\">20,0 %</td>"), "{page}");
    assert!(
        page.contains("<td class=\"num coop1\">33,3 %</td>"),
        "{page}"
    );
    // Everything was audited.
    assert_eq!(count_action(&mut conn, "round:commit_sample").unwrap(), 1);
    assert_eq!(count_action(&mut conn, "round:draw_sample").unwrap(), 1);
    assert_eq!(count_action(&mut conn, "round:replace_sampled").unwrap(), 3);
}

#[tokio::test]
async fn a_sample_cannot_be_committed_once_codes_were_issued_and_rates_need_targets() {
    let app = spawn_app().await;
    let secret = secret(&app);
    let mut conn = app.pool.get().unwrap();
    let (round, units) = new_round(&mut conn);
    rounds::import_respondents(
        &mut conn,
        round,
        "f.csv",
        frame_csv(&units).as_bytes(),
        ADMIN,
    )
    .unwrap();
    let rate = SampleSizes::Rate(Rate::parse("60%").unwrap());
    let e = rounds::commit_sample(&mut conn, round, rate, "XSMB", ADMIN).unwrap_err();
    assert!(e.to_string().contains("has no target"), "{e}");
    rounds::issue_codes(&mut conn, &secret, round, false, None, ADMIN).unwrap();
    let e = rounds::commit_sample(&mut conn, round, rate, "XSMB", ADMIN).unwrap_err();
    assert!(
        e.to_string().contains("Codes have already been issued"),
        "{e}"
    );
}

#[tokio::test]
async fn the_sample_page_commits_and_draws_only_when_confirmed() {
    let app = spawn_app().await;
    let mut conn = app.pool.get().unwrap();
    let (round, units) = new_round(&mut conn);
    rounds::import_respondents(
        &mut conn,
        round,
        "f.csv",
        frame_csv(&units).as_bytes(),
        ADMIN,
    )
    .unwrap();
    drop(conn);
    app.login_as("admin@sonoivu.gov.vn", Role::Admin).await;
    let page = format!("/admin/rounds/{round}/sample");
    let round_page = app.get_html(&format!("/admin/rounds/{round}")).await;
    assert!(
        round_page.contains(&format!("href=\"{page}\"")),
        "{round_page}"
    );
    let sizes = sizes_csv(&units);
    let commit = [
        ("seed_source", "XSMB 20/12/2026"),
        ("rate", ""),
        ("sizes", sizes.as_str()),
    ];
    // Without the ticked box nothing is committed.
    let unconfirmed = app.submit(&page, &format!("{page}/commit"), &commit).await;
    assert_eq!(unconfirmed.status(), 422);
    assert!(
        unconfirmed
            .text()
            .await
            .unwrap()
            .contains("Hãy đánh dấu ô xác nhận")
    );
    let mut conn = app.pool.get().unwrap();
    assert!(rounds::sample_state(&mut conn, round).unwrap().is_none());
    drop(conn);
    let mut confirmed = commit.to_vec();
    confirmed.push(("confirm", "yes"));
    let done = app
        .submit(&page, &format!("{page}/commit"), &confirmed)
        .await;
    assert_eq!(done.status(), 303);
    let html = app.get_html(&page).await;
    let mut conn = app.pool.get().unwrap();
    let state = rounds::sample_state(&mut conn, round).unwrap().unwrap();
    drop(conn);
    assert!(html.contains(&state.commitment.frame_hash), "{html}");
    assert!(html.contains("XSMB 20/12/2026"));
    // A refused draw (empty seed) says why; a confirmed one is stored.
    let empty = app
        .submit(
            &page,
            &format!("{page}/draw"),
            &[("seed", " "), ("confirm", "yes")],
        )
        .await;
    assert_eq!(empty.status(), 422);
    assert!(
        empty
            .text()
            .await
            .unwrap()
            .contains("Hạt giống đang để trống")
    );
    let drawn = app
        .submit(
            &page,
            &format!("{page}/draw"),
            &[("seed", SEED), ("confirm", "yes")],
        )
        .await;
    assert_eq!(drawn.status(), 303);
    let html = app.get_html(&page).await;
    assert!(html.contains(SEED), "{html}");
    assert!(
        !html.contains("/sample/draw\""),
        "no second draw is offered"
    );

    // A unit × group's members in drawn order; the first sampled one is replaced by the
    // first of the reserve once confirmed.
    let stratum = &state.strata[0];
    let listing = format!("{page}?stratum={}", stratum.id);
    let html = app.get_html(&listing).await;
    assert!(html.contains("id=\"sample-members\""), "{html}");
    let mut conn = app.pool.get().unwrap();
    let members = khaosat::db::samples::members(&mut conn, stratum.id).unwrap();
    drop(conn);
    let first = members[0].respondent_id.unwrap().to_string();
    let size = usize::try_from(stratum.sample_size).unwrap();
    let replace = format!("{page}/replace");
    let form = [("respondent", first.as_str()), ("reason", "refused")];
    let unconfirmed = app.submit(&listing, &replace, &form).await;
    assert_eq!(unconfirmed.status(), 422);
    let mut confirmed = form.to_vec();
    confirmed.push(("confirm", "yes"));
    assert_eq!(
        app.submit(&listing, &replace, &confirmed).await.status(),
        303
    );
    let mut conn = app.pool.get().unwrap();
    let after = khaosat::db::samples::members(&mut conn, stratum.id).unwrap();
    assert_eq!(after[0].status, "replaced");
    assert_eq!(after[0].reason.as_deref(), Some("refused"));
    assert_eq!(
        after[size].status, "sampled",
        "the first of the reserve came in"
    );
    assert_eq!(after[size + 1].status, "reserve");
    drop(conn);
    let html = app.get_html(&listing).await;
    assert!(html.contains("đã thay thế (từ chối)"), "{html}");
}

#[tokio::test]
async fn published_results_show_the_commitment_and_each_units_response_rate() {
    let app = spawn_app().await;
    let round = crate::results::demo_round(&app, 300);
    let mut conn = app.pool.get().unwrap();
    let units: Vec<String> = khaosat::db::rounds::units(&mut conn, round)
        .unwrap()
        .into_iter()
        .take(2)
        .map(|u| u.code)
        .collect();
    rounds::import_respondents(
        &mut conn,
        round,
        "f.csv",
        frame_csv(&units).as_bytes(),
        ADMIN,
    )
    .unwrap();
    let sizes = sizes_csv(&units);
    let file = SampleSizes::File {
        name: "sizes.csv",
        bytes: sizes.as_bytes(),
    };
    let state = rounds::commit_sample(&mut conn, round, file, "XSMB 20/12/2026", ADMIN).unwrap();
    rounds::draw_sample(&mut conn, round, SEED, ADMIN).unwrap();
    drop(conn);
    crate::results::publish(&app, round);
    let page = app.get_html(&format!("/results/{round}")).await;
    assert!(page.contains("id=\"sample\""), "{page}");
    assert!(page.contains(&state.commitment.frame_hash));
    assert!(page.contains(SEED) && page.contains("XSMB 20/12/2026"));
    // The demo's responses came without codes, so the sampled units answered 0 % of their
    // sample; the other units drew none.
    let rates = &page[page.find("id=\"unit-response-rates\"").unwrap()..];
    assert_eq!(rates.matches(">0,0 %</td>").count(), 2, "{rates}");
    assert!(rates.contains(">—</td>"), "{rates}");
}
