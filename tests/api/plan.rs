//! A unit's improvement plan, as a printable page and as an XLSX workbook, on demo rounds of
//! the 63 provinces (Sơn La is unit 14): the same criteria and numbers as the gains API, the
//! previous round's values through the comparison, and the gains page's rules of who sees it.

use std::io::Cursor;

use calamine::{Data, Range, Reader, Xlsx};
use khaosat::app::demo::{self, DemoSpec};
use khaosat::app::export::file_number;
use khaosat::domain::account::Role;
use khaosat::i18n::{Lang, t};

use crate::gains::{
    SON_LA, api_gains, demo_2024, number, row_codes, sign_in_as_son_la_s_coordinator,
};
use crate::helpers::{TestApp, spawn_app};
use crate::results::{api_get, make_token, publish};

/// A 2024 demo round compared with a 2023 one (same 63 provinces, other answers).
fn demo_2024_after_2023(app: &TestApp) -> i64 {
    let current = demo_2024(app);
    let mut conn = app.pool.get().unwrap();
    let earlier = demo::create(
        &mut conn,
        DemoSpec {
            year: 2023,
            responses: 1900,
            seed: 7,
        },
    )
    .unwrap();
    khaosat::db::rounds::set_compare_round(&mut conn, current, Some(earlier)).unwrap();
    current
}

/// The workbook's sheets by name.
fn sheets(bytes: Vec<u8>) -> Vec<(String, Range<Data>)> {
    let mut book: Xlsx<_> = calamine::open_workbook_from_rs(Cursor::new(bytes)).unwrap();
    book.sheet_names()
        .into_iter()
        .map(|name| {
            let range = book.worksheet_range(&name).unwrap();
            (name, range)
        })
        .collect()
}

/// The column of the criteria sheet headed by the catalogue text of `key`.
fn column(sheet: &Range<Data>, lang: Lang, key: &str) -> usize {
    let header = t(lang, key);
    sheet
        .rows()
        .next()
        .unwrap()
        .iter()
        .position(|c| is_text(c, header))
        .unwrap_or_else(|| panic!("no column {header}"))
}

fn is_text(c: &Data, text: &str) -> bool {
    matches!(c, Data::String(s) if s == text)
}

fn float(c: &Data) -> Option<f64> {
    match c {
        Data::Float(x) => Some(*x),
        Data::Int(n) => Some(*n as f64),
        _ => None,
    }
}

async fn xlsx(app: &TestApp, path: &str) -> Vec<u8> {
    let response = app.get(path).await;
    assert_eq!(response.status(), 200, "GET {path}");
    assert_eq!(
        response.headers()["content-type"],
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    );
    response.bytes().await.unwrap().to_vec()
}

#[tokio::test]
async fn son_la_s_plan_page_and_workbook_list_its_weakest_criteria_with_the_api_s_numbers() {
    let app = spawn_app().await;
    let round = demo_2024_after_2023(&app);
    app.login_as("analyst@sonoivu.gov.vn", Role::Analyst).await;
    let base = format!("/results/{round}/units/{SON_LA}");
    let gains_page = app.get_html(&format!("{base}/gains")).await;
    assert!(
        gains_page.contains(&format!("href=\"{base}/plan\"")),
        "the gains page links to the plan"
    );
    assert!(
        gains_page.contains("id=\"waterfall-title\""),
        "the waterfall is drawn"
    );

    let token = make_token(&app, "read").await;
    let gains: serde_json::Value = api_gains(&app, &token, round, SON_LA)
        .await
        .json()
        .await
        .unwrap();
    assert!(
        gains["previous_round"].as_i64().is_some(),
        "{}",
        gains["previous_round"]
    );
    // The weakest criteria: those with points lost, in the API's order (most lost first).
    let weakest: Vec<&serde_json::Value> = gains["stakes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["level"] == "criterion" && number(&s["points_lost"]).is_some_and(|l| l > 0.0))
        .take(10)
        .collect();
    assert!(weakest.len() >= 3, "the demo has criteria with points lost");
    let codes: Vec<String> = weakest
        .iter()
        .map(|s| s["code"].as_str().unwrap().to_owned())
        .collect();

    let page = app.get_html(&format!("{base}/plan")).await;
    assert!(page.contains("Kế hoạch cải thiện: Sơn La"));
    assert!(page.contains("<div class=\"plan\">"));
    assert!(page.contains("Đơn vị chủ trì") && page.contains("Thời hạn"));
    assert!(page.contains(&format!("href=\"{base}/plan.xlsx\"")));
    assert_eq!(row_codes(&page, "plan-criteria"), codes);

    let book = sheets(xlsx(&app, &format!("{base}/plan.xlsx?lang=vi")).await);
    let names: Vec<&str> = book.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["Tiêu chí", "Tóm tắt"]);
    let sheet = &book[0].1;
    let vi = Lang::Vi;
    let col = |key| column(sheet, vi, key);
    let rows: Vec<&[Data]> = sheet.rows().skip(1).collect();
    assert_eq!(rows.len(), codes.len());
    for (row, stake) in rows.iter().zip(&weakest) {
        assert_eq!(
            row[col("plan.col_code")].to_string(),
            stake["code"].as_str().unwrap()
        );
        for (key, field) in [
            ("results.points", "points"),
            ("plan.col_max", "max_points"),
            ("gains.lost", "points_lost"),
            ("gains.gap_national", "gap_to_national_best"),
            ("plan.col_previous", "previous"),
            ("gains.change_previous", "change_since_previous"),
        ] {
            let cell = float(&row[col(key)]).map(file_number);
            assert_eq!(cell, number(&stake[field]), "{key} of {}", stake["code"]);
        }
        for blank in ["plan.col_responsible", "plan.col_deadline"] {
            assert_eq!(row[col(blank)], Data::Empty, "{blank} is left blank");
        }
    }

    // Each simulated row is the what-if the API answers for the same change.
    let before: serde_json::Value = api_get(
        &app,
        &token,
        &format!("/api/v1/rounds/{round}/units/{SON_LA}/whatif?goal=rank&goal_value=1"),
    )
    .await
    .json()
    .await
    .unwrap();
    let total_now = before["before"]["total_points"].as_f64().unwrap();
    let levers = before["plan"]["levers"].as_array().unwrap();
    let mut simulated = 0;
    for (row, stake) in rows.iter().zip(&weakest) {
        let (Some(pp), Some(total_after)) = (
            float(&row[col("plan.col_pp")]),
            float(&row[col("plan.col_total_after")]),
        ) else {
            continue;
        };
        let code = stake["code"].as_str().unwrap();
        let group = stake["group"].as_str().unwrap();
        let best = levers
            .iter()
            .find(|l| l["level"] == "criterion" && l["code"] == code && l["group"] == group)
            .map(|l| l["to_value"].as_str().unwrap().to_owned())
            .unwrap();
        let query = format!(
            "shift1_group={group}&shift1_target=criterion:{code}&shift1_to={best}&shift1_pp={pp}"
        );
        let answer: serde_json::Value = api_get(
            &app,
            &token,
            &format!("/api/v1/rounds/{round}/units/{SON_LA}/whatif?{query}"),
        )
        .await
        .json()
        .await
        .unwrap();
        let after = answer["after"]["total_points"].as_f64().unwrap();
        assert!(
            (after - total_after).abs() < 1e-9,
            "{code}: {after} vs {total_after}"
        );
        assert!(total_after > total_now, "{code} gains");
        let gain = float(&row[col("plan.col_gain")]).unwrap();
        assert!((gain - (total_after - total_now)).abs() < 1e-9);
        simulated += 1;
    }
    assert!(
        simulated > 0,
        "Sơn La is behind the best on some weak criterion"
    );

    let summary = &book[1].1;
    let value_of = |key: &str| {
        summary
            .rows()
            .find(|r| is_text(&r[0], t(vi, key)))
            .map(|r| r[1].clone())
            .unwrap()
    };
    assert!((float(&value_of("plan.total_now")).unwrap() - total_now).abs() < 1e-9);
    assert_eq!(float(&value_of("plan.compared_units")), Some(63.0));

    // The same workbook in English.
    let book = sheets(xlsx(&app, &format!("{base}/plan.xlsx?lang=en")).await);
    assert_eq!(book[0].0, "Criteria");
    let header: Vec<String> = book[0]
        .1
        .rows()
        .next()
        .unwrap()
        .iter()
        .map(ToString::to_string)
        .collect();
    assert!(
        header.contains(&"Responsible unit".to_owned()) && header.contains(&"Deadline".to_owned())
    );
}

#[tokio::test]
async fn an_unpublished_round_s_plan_needs_a_login_and_a_published_one_is_public() {
    let app = spawn_app().await;
    let round = demo_2024(&app);
    let anonymous = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let status_of = |path: String| {
        let c = anonymous.clone();
        let url = app.url(&path);
        async move { c.get(url).send().await.unwrap().status().as_u16() }
    };
    let base = format!("/results/{round}/units/{SON_LA}");
    let unit = status_of(base.clone()).await;
    assert_ne!(unit, 200);
    assert_eq!(status_of(format!("{base}/plan")).await, unit);
    assert_eq!(status_of(format!("{base}/plan.xlsx")).await, unit);

    publish(&app, round);
    assert_eq!(status_of(format!("{base}/plan")).await, 200);
    assert_eq!(status_of(format!("{base}/plan.xlsx")).await, 200);
    assert_eq!(
        status_of(format!("/results/{round}/units/no-such-unit/plan")).await,
        404
    );
}

#[tokio::test]
async fn a_coordinator_of_one_unit_gets_no_plan_of_another() {
    let app = spawn_app().await;
    let round = demo_2024(&app);
    let other = sign_in_as_son_la_s_coordinator(&app, round).await;
    let theirs = format!("/results/{round}/units/{}", other.code);
    assert_eq!(app.get(&format!("{theirs}/plan")).await.status(), 404);
    assert_eq!(app.get(&format!("{theirs}/plan.xlsx")).await.status(), 404);

    let mine = format!("/results/{round}/units/{SON_LA}");
    let page = app.get_html(&format!("{mine}/plan")).await;
    assert!(!page.contains(&other.name_vi));
    let book = sheets(xlsx(&app, &format!("{mine}/plan.xlsx?lang=vi")).await);
    let (criteria, summary) = (&book[0].1, &book[1].1);
    let compared = summary
        .rows()
        .find(|r| is_text(&r[0], t(Lang::Vi, "plan.compared_units")))
        .map(|r| float(&r[1]))
        .unwrap();
    // Compared with their own unit only: it is its own best, so nothing is simulated.
    assert_eq!(compared, Some(1.0));
    let pp = column(criteria, Lang::Vi, "plan.col_pp");
    assert!(criteria.height() > 1);
    assert!(criteria.rows().skip(1).all(|r| r[pp] == Data::Empty));
}
