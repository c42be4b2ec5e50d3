//! One round with every kind of missing data, answered through the respondent pages (#14):
//! a unit with zero responses, one whose leaders answered "don't know" to everything, one
//! with leaders but no citizens, one with citizens but no leaders, two units of one
//! respondent per group that tie exactly, and a partial import of appraised points. Pages,
//! CSV, XLSX, JSON, the API and `khaosat compute` must all say the same.

use std::collections::BTreeMap;
use std::io::Cursor;

use calamine::{Data, Reader, Xlsx};
use diesel::prelude::*;
use khaosat::app::export::file_number;
use khaosat::app::rounds::{self, Actor};
use khaosat::domain::instrument::{Instrument, QuestionKind};
use khaosat::domain::lifecycle::RoundAction;
use khaosat::domain::scoring::{Standing, fmt_points};

use crate::helpers::{TestApp, spawn_app};
use crate::results::{api_get, download, make_token};

const ADMIN: Actor<'static> = Actor {
    user_id: None,
    label: "test",
    role: khaosat::domain::account::Role::Admin,
};

/// Who answers: (unit index, group, the value given to every rating item).
const PLAN: [(usize, &str, &str); 10] = [
    (1, "leader", "dk"),
    (1, "citizen", "5"),
    (2, "leader", "1"),
    (3, "citizen", "5"),
    (4, "leader", "2"),
    (4, "citizen", "4"),
    (5, "leader", "2"),
    (5, "citizen", "4"),
    (6, "leader", "1"),
    (6, "citizen", "3"),
];

fn instrument(group: &str) -> Instrument {
    match group {
        "leader" => Instrument::from_toml(
            include_bytes!("../../assets/instruments/par-leader-2022.toml"),
            "leader",
        )
        .unwrap(),
        _ => Instrument::from_toml(
            include_bytes!("../../assets/instruments/sipas-2023.toml"),
            "sipas",
        )
        .unwrap(),
    }
}

/// Answers every page of the questionnaire through the respondent pages, giving `rating` to
/// every item of a scored rating battery, then submits.
async fn answer(app: &TestApp, code: &str, group: &str, rating: &str) {
    let form = instrument(group);
    let start = app
        .submit(&format!("/s/{code}"), &format!("/s/{code}/start"), &[])
        .await;
    assert_eq!(start.status(), 303);
    for (i, section) in form.sections().iter().enumerate() {
        let batteries: Vec<&str> = section
            .questions
            .iter()
            .filter_map(|q| match &q.kind {
                QuestionKind::Battery {
                    items,
                    scored: true,
                    ..
                } => Some(items.iter().map(|i| i.code.as_str()).collect::<Vec<_>>()),
                _ => None,
            })
            .flatten()
            .collect();
        let mut fields: Vec<(String, String)> = crate::respond::fill(section, true)
            .into_iter()
            .map(|(k, v)| {
                let v = if batteries.contains(&k.as_str()) {
                    rating.to_owned()
                } else {
                    v
                };
                (k, v)
            })
            .collect();
        fields.push(("nav".into(), "next".into()));
        let page = format!("/s/{code}/p/{}", i + 1);
        let response = crate::respond::post_page(app, &page, &page, &fields).await;
        assert_eq!(response.status(), 303, "{group} page {} accepted", i + 1);
    }
    let review = app.get_html(&format!("/s/{code}/review")).await;
    let submitted = crate::respond::submit_review(app, code, &review).await;
    assert_eq!(submitted.status(), 303, "{group} submitted");
}

/// Runs the CLI against the app's database.
fn cli(app: &TestApp, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_khaosat"))
        .args(args)
        .env("KHAOSAT_LANG", "en")
        .env("DATABASE_URL", app._db.url())
        .env("RUST_LOG", "warn")
        .output()
        .unwrap()
}

/// A number as the files write it, or `None` for an empty cell or `null`.
fn json_number(v: &serde_json::Value) -> Option<f64> {
    if v.is_null() {
        None
    } else {
        Some(v.as_f64().unwrap_or_else(|| panic!("{v} is a number")))
    }
}

#[tokio::test]
async fn a_round_with_every_kind_of_missing_data_reads_the_same_on_every_surface() {
    let app = spawn_app().await;
    app.login_as(
        "admin@sonoivu.gov.vn",
        khaosat::domain::account::Role::Admin,
    )
    .await;

    // The round: leaders (PAR) and citizens (SIPAS) on the 34 units of 2025; the planned
    // respondents are listed and get codes.
    let (round, units) = {
        let mut conn = app.pool.get().unwrap();
        let input = rounds::NewRoundInput {
            year: 2025,
            name_vi: "Khảo sát thiếu dữ liệu 2025".into(),
            name_en: "Missing-data survey 2025".into(),
            unit_set_code: rounds::UNITS_2025.into(),
            opens_at: None,
            closes_at: None,
        };
        let round = rounds::create_round(&mut conn, &input, ADMIN).unwrap();
        use khaosat::db::schema::{instruments, methodologies};
        let id_of_instrument = |conn: &mut khaosat::db::AnyConnection, code: &str| -> i64 {
            instruments::table
                .filter(instruments::code.eq(code))
                .select(instruments::id)
                .first(conn)
                .unwrap()
        };
        let id_of_methodology = |conn: &mut khaosat::db::AnyConnection, code: &str| -> i64 {
            methodologies::table
                .filter(methodologies::code.eq(code))
                .select(methodologies::id)
                .first(conn)
                .unwrap()
        };
        let (li, lm) = (
            id_of_instrument(&mut conn, "par-leader"),
            id_of_methodology(&mut conn, "par-2022"),
        );
        let (ci, cm) = (
            id_of_instrument(&mut conn, "sipas"),
            id_of_methodology(&mut conn, "sipas-2023"),
        );
        rounds::set_group(&mut conn, round, "leader", li, lm, ADMIN).unwrap();
        rounds::set_group(&mut conn, round, "citizen", ci, cm, ADMIN).unwrap();
        let units = khaosat::db::rounds::units(&mut conn, round).unwrap();
        let mut csv = String::from("name,email,phone,unit,group,position,level\n");
        for (k, (unit, group, _)) in PLAN.iter().enumerate() {
            csv.push_str(&format!(
                "Người trả lời {k},r{k}@sonoivu.gov.vn,,{},{group},,\n",
                units[*unit].code
            ));
        }
        rounds::import_respondents(&mut conn, round, "danh-sach.csv", csv.as_bytes(), ADMIN)
            .unwrap();
        rounds::apply_action(&mut conn, round, RoundAction::Open, ADMIN).unwrap();
        (round, units)
    };
    let codes = {
        let mut conn = app.pool.get().unwrap();
        let settings = khaosat::app::config::Settings::for_database(app._db.database_url());
        let secret = khaosat::server::startup::load_secret(&mut conn, &settings).unwrap();
        rounds::issue_codes(&mut conn, &secret, round, false, None, ADMIN).unwrap()
    };
    assert_eq!(codes.len(), PLAN.len());
    for issued in &codes {
        let k: usize = issued.name.rsplit(' ').next().unwrap().parse().unwrap();
        let (_, group, rating) = PLAN[k];
        answer(&app, issued.code.as_canonical(), group, rating).await;
    }
    let code = |i: usize| units[i].code.as_str();

    // Close and compute through the round page; then appraised points for units 4 and 5
    // only (a partial import) through the CLI, and publish.
    let page = format!("/admin/rounds/{round}");
    for action in ["close", "compute"] {
        let response = app
            .submit(&page, &format!("{page}/actions/{action}"), &[])
            .await;
        assert_eq!(response.status(), 303, "{action}");
    }
    let m = {
        let mut conn = app.pool.get().unwrap();
        khaosat::app::scores::main_methodology(&mut conn, round).unwrap()
    };
    let mut appraised = String::from("unit,component,points\n");
    for unit in [4, 5] {
        for c in &m.components {
            let limit = c.max_points - c.survey_points.unwrap_or(0.0);
            appraised.push_str(&format!("{},{},{:.2}\n", code(unit), c.code, limit * 0.9));
        }
    }
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), &appraised).unwrap();
    let path = file.path().to_str().unwrap().to_owned();
    let imported = cli(
        &app,
        &["round", "import-appraised", &round.to_string(), &path],
    );
    assert!(imported.status.success(), "{imported:?}");
    let response = app
        .submit(&page, &format!("{page}/actions/publish"), &[])
        .await;
    assert_eq!(response.status(), 303, "publish");

    // The published scores, as the service reads them.
    let s = {
        let mut conn = app.pool.get().unwrap();
        let (snapshot, verified) = khaosat::app::scores::read_snapshot(&mut conn, round, 1)
            .unwrap()
            .unwrap();
        assert!(verified);
        serde_json::from_str::<khaosat::app::scores::RoundScores>(&snapshot.payload).unwrap()
    };
    let unit = |i: usize| s.units.iter().find(|u| u.unit == code(i)).unwrap();
    let leader = |i: usize| unit(i).groups.iter().find(|g| g.group == "leader").unwrap();
    let sipas = |i: usize| unit(i).sipas.as_ref().and_then(|x| x.overall_percent);
    // Zero responses: nothing, never 0.
    assert_eq!(
        (leader(0).responses, leader(0).points, sipas(0)),
        (0, None, None)
    );
    // All "don't know": answers, but no valid one, so no leader score (coverage 0).
    assert_eq!(leader(1).responses, 1);
    assert_eq!((leader(1).points, leader(1).coverage), (None, Some(0.0)));
    assert!(sipas(1).is_some());
    // Leaders but no citizens, citizens but no leaders.
    assert!(leader(2).points.is_some() && sipas(2).is_none());
    assert!(leader(3).points.is_none() && sipas(3).is_some());
    for i in 0..4 {
        assert_eq!(s.standing(unit(i)), Standing::Incomplete, "unit {i}");
        assert_eq!(unit(i).index.survey_points, None);
    }
    // One respondent per group is enough; units 4 and 5 answered alike and tie exactly.
    assert_eq!(leader(4).responses, 1);
    assert_eq!(unit(4).index.total_points, unit(5).index.total_points);
    assert!(unit(4).index.full_index && unit(5).index.full_index);
    let ranks: BTreeMap<&str, (u32, u32)> = s
        .rankings
        .total
        .iter()
        .map(|r| {
            let p = r.national.unwrap();
            (r.unit.as_str(), (p.rank, p.of))
        })
        .collect();
    assert_eq!(
        ranks,
        BTreeMap::from([(code(4), (1, 2)), (code(5), (1, 2))]),
        "a competition tie: both first of the two full-index units"
    );
    // Complete, but without appraised points: its survey part only, unranked.
    assert_eq!(s.standing(unit(6)), Standing::SurveyPartOnly);
    assert!(!unit(6).index.full_index);
    assert!(unit(6).index.survey_points.is_some() && unit(6).index_total().is_none());
    assert!(s.full_index());

    // What every surface must agree on, per unit: survey part, index total, national rank.
    type Row = (Option<f64>, Option<f64>, Option<u32>);
    let expected: Vec<Row> = (0..7)
        .map(|i| {
            (
                unit(i).index.survey_points.map(file_number),
                unit(i).index_total().map(file_number),
                ranks.get(code(i)).map(|r| r.0),
            )
        })
        .collect();

    // The API.
    let token = make_token(&app, "read").await;
    let api: serde_json::Value = api_get(&app, &token, &format!("/api/v1/rounds/{round}/scores"))
        .await
        .json()
        .await
        .unwrap();
    let items = api["items"].as_array().unwrap();
    for (i, want) in expected.iter().enumerate() {
        let item = items.iter().find(|x| x["unit"] == code(i)).unwrap();
        let got: Row = (
            json_number(&item["survey_points"]),
            json_number(&item["index_points"]),
            item["national_rank"].as_u64().map(|r| r as u32),
        );
        assert_eq!(&got, want, "API, unit {i}");
    }
    let item6 = items.iter().find(|x| x["unit"] == code(6)).unwrap();
    assert_eq!(item6["standing"], "survey_part_only");
    assert_eq!(item6["survey_max_points"], 32.0);

    // JSON, CSV and XLSX downloads.
    let json: serde_json::Value = app
        .get(&format!("/results/{round}/download/scores.json"))
        .await
        .json()
        .await
        .unwrap();
    let rows = json["scores"].as_array().unwrap();
    for (i, want) in expected.iter().enumerate() {
        let row = rows.iter().find(|x| x["unit"] == code(i)).unwrap();
        let got: Row = (
            json_number(&row["survey_points"]),
            json_number(&row["index_points"]),
            row["national_rank"].as_u64().map(|r| r as u32),
        );
        assert_eq!(&got, want, "scores.json, unit {i}");
    }
    let csv = download(&app, &format!("/results/{round}/download/scores.csv?bom=0")).await;
    let mut reader = csv::Reader::from_reader(&csv[..]);
    let header = reader.headers().unwrap().clone();
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    let records: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    let cell = |s: &str| (!s.is_empty()).then(|| s.parse::<f64>().unwrap());
    for (i, want) in expected.iter().enumerate() {
        let r = records.iter().find(|r| &r[col("unit")] == code(i)).unwrap();
        let got: Row = (
            cell(&r[col("survey_points")]),
            cell(&r[col("index_points")]),
            cell(&r[col("national_rank")]).map(|x| x as u32),
        );
        assert_eq!(&got, want, "scores.csv, unit {i}");
        assert_eq!(&r[col("standing")], s.standing(unit(i)).code());
    }
    let xlsx = download(&app, &format!("/results/{round}/download/scores.xlsx")).await;
    let mut book: Xlsx<_> = calamine::open_workbook_from_rs(Cursor::new(xlsx)).unwrap();
    let sheet = book.worksheet_range("scores").unwrap();
    let heads: Vec<String> = (0..sheet.width())
        .map(|c| sheet.get((0, c)).map(|d| d.to_string()).unwrap_or_default())
        .collect();
    let xcol = |name: &str| heads.iter().position(|h| h == name).unwrap();
    let number = |d: Option<&Data>| match d {
        Some(Data::Float(x)) => Some(file_number(*x)),
        Some(Data::Int(x)) => Some(*x as f64),
        Some(Data::Empty) | None => None,
        Some(other) => panic!("{other:?} is not a number"),
    };
    for (i, want) in expected.iter().enumerate() {
        let r = (1..sheet.height())
            .find(|&r| sheet.get((r, xcol("unit"))) == Some(&Data::String(code(i).to_owned())))
            .unwrap();
        let got: Row = (
            number(sheet.get((r, xcol("survey_points")))),
            number(sheet.get((r, xcol("index_points")))),
            number(sheet.get((r, xcol("national_rank")))).map(|x| x as u32),
        );
        assert_eq!(&got, want, "scores.xlsx, unit {i}");
    }

    // The public pages, in Vietnamese: points with a decimal comma.
    let vi_points = |x: f64| fmt_points(x).replace('.', ",");
    let public = reqwest::Client::new();
    let public_html = |path: String| {
        let request = public.get(app.url(&path));
        async move { request.send().await.unwrap().text().await.unwrap() }
    };
    let dashboard = public_html(format!("/results/{round}")).await;
    assert!(
        dashboard.contains("Xếp hạng theo tổng điểm Chỉ số"),
        "{dashboard}"
    );
    assert!(dashboard.contains("2/34 đơn vị đủ dữ liệu và được xếp hạng"));
    let row_of = |i: usize| {
        let link = format!("/results/{round}/units/{}\"", code(i));
        let at = dashboard
            .find(&link)
            .unwrap_or_else(|| panic!("row of unit {i}"));
        let start = dashboard[..at].rfind("<tr>").unwrap();
        let end = at + dashboard[at..].find("</tr>").unwrap();
        dashboard[start..end].to_owned()
    };
    for i in [4, 5] {
        let row = row_of(i);
        assert!(row.contains("1/2"), "{row}");
        assert!(
            row.contains(&vi_points(unit(i).index_total().unwrap())),
            "{row}"
        );
    }
    assert!(row_of(6).contains("chỉ có phần điều tra"), "{}", row_of(6));
    for i in 0..4 {
        let row = row_of(i);
        assert!(
            row.contains("chưa đủ dữ liệu") && !row.contains(">0,00") && !row.contains(">0.00"),
            "{row}"
        );
    }
    let card = public_html(format!("/results/{round}/units/{}", code(6))).await;
    assert!(card.contains("Phần điều tra XHH") && card.contains("Tổng điểm Chỉ số"));
    assert!(card.contains(&vi_points(unit(6).index.survey_points.unwrap())));

    // `khaosat compute` prints the same: the tie, the survey-only unit, the incomplete ones.
    let out = cli(&app, &["compute", &round.to_string()]);
    let table = String::from_utf8(out.stdout).unwrap();
    assert!(out.status.success(), "{table}");
    let line = |i: usize| {
        let name: String = units[i].name_vi.chars().take(28).collect();
        table
            .lines()
            .find(|l| l.contains(&name))
            .unwrap_or_else(|| panic!("{name} in {table}"))
            .to_owned()
    };
    for i in [4, 5] {
        assert!(line(i).trim_start().starts_with("1/2"), "{}", line(i));
        assert!(line(i).contains(&fmt_points(unit(i).index_total().unwrap())));
    }
    assert!(line(6).contains("survey part only"), "{}", line(6));
    assert!(line(6).contains(&fmt_points(unit(6).index.survey_points.unwrap())));
    for i in 0..4 {
        assert!(line(i).contains("incomplete"), "{}", line(i));
    }
    assert!(table.contains("ranked: 2 of 34 units complete, on the index total"));

    // The round is published: a new import is refused, and nothing stored changes.
    let refused = cli(
        &app,
        &["round", "import-appraised", &round.to_string(), &path],
    );
    assert!(!refused.status.success());
    let message = String::from_utf8_lossy(&refused.stderr).into_owned()
        + &String::from_utf8_lossy(&refused.stdout);
    assert!(message.contains("is published"), "{message}");
    let mut conn = app.pool.get().unwrap();
    assert_eq!(
        khaosat::db::appraised::of_round(&mut conn, round)
            .unwrap()
            .len(),
        2 * m.components.len()
    );
}
