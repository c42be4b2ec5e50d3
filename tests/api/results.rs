//! Results for analysts: dashboards, downloads read back with real readers (csv, calamine,
//! serde_json), background export jobs, API tokens, disclosure control of breakdowns, and
//! unit scoping of coordinators through pages, API and exports alike.

use std::io::Cursor;

use calamine::{Data, Reader, Xlsx};
use khaosat::app::demo::{self, DemoSpec};
use khaosat::domain::account::Role;

use crate::helpers::{TestApp, csrf_from, spawn_app};

/// A demo round of the 34 units of 2025 with `responses` responses.
pub fn demo_round(app: &TestApp, responses: u64) -> i64 {
    let mut conn = app.pool.get().unwrap();
    demo::create(
        &mut conn,
        DemoSpec {
            year: 2025,
            responses,
            seed: 7,
        },
    )
    .unwrap()
}

/// Publishes the round's scores as a snapshot.
pub fn publish(app: &TestApp, round: i64) {
    let mut conn = app.pool.get().unwrap();
    khaosat::app::scores::publish(&mut conn, round, None, "test").unwrap();
}

/// Makes an API token through the tokens page and returns it.
pub async fn make_token(app: &TestApp, scope: &str) -> String {
    let page = app
        .submit(
            "/admin/tokens",
            "/admin/tokens",
            &[("name", "analysis script"), ("scope", scope)],
        )
        .await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    let marker = "<code class=\"token\">";
    let start = html.find(marker).expect("the new token is shown") + marker.len();
    html[start..start + html[start..].find('<').unwrap()].to_owned()
}

/// GET with a bearer token.
pub async fn api_get(app: &TestApp, token: &str, path: &str) -> reqwest::Response {
    reqwest::Client::new()
        .get(app.url(path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

/// The body of a download.
pub async fn download(app: &TestApp, path: &str) -> Vec<u8> {
    let response = app.get(path).await;
    assert_eq!(response.status(), 200, "GET {path}");
    response.bytes().await.unwrap().to_vec()
}

/// Starts a leader microdata export from the dashboard form and waits for it: the finished
/// job's page and its file.
pub async fn export_job(
    app: &TestApp,
    round: i64,
    format: &str,
    decimal: &str,
) -> (String, Vec<u8>) {
    let dashboard = app.get_html(&format!("/results/{round}")).await;
    let token = csrf_from(&dashboard);
    let started = app
        .post_form(
            &format!("/results/{round}/exports"),
            &[
                ("csrf_token", token.as_str()),
                ("group", "leader"),
                ("format", format),
                ("decimal", decimal),
                ("bom", "1"),
            ],
        )
        .await;
    assert_eq!(started.status(), 303);
    let job = started.headers()["location"].to_str().unwrap().to_owned();
    for _ in 0..400 {
        let page = app.get_html(&job).await;
        if page.contains("/file\"") {
            let file = app.get(&format!("{job}/file")).await;
            assert_eq!(file.status(), 200);
            return (page, file.bytes().await.unwrap().to_vec());
        }
        assert!(!page.contains("failed"), "export failed: {page}");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("export did not finish");
}

/// The file of a finished leader microdata export.
async fn export_microdata(app: &TestApp, round: i64, format: &str, decimal: &str) -> Vec<u8> {
    export_job(app, round, format, decimal).await.1
}

fn leader_responses(app: &TestApp, round: i64) -> i64 {
    let mut conn = app.pool.get().unwrap();
    let group = khaosat::db::rounds::group_id(&mut conn, "leader")
        .unwrap()
        .unwrap();
    khaosat::db::responses::count_for_export(&mut conn, round, group, None).unwrap()
}

#[tokio::test]
async fn unpublished_results_need_a_login_and_published_ones_are_public() {
    let app = spawn_app().await;
    let round = demo_round(&app, 300);
    let anonymous = app.get(&format!("/results/{round}")).await;
    assert_eq!(anonymous.status(), 303, "a login is asked for");
    let api = app.get(&format!("/api/v1/rounds/{round}/scores")).await;
    assert_eq!(api.status(), 401);
    let listed: serde_json::Value = app.get("/api/v1/rounds").await.json().await.unwrap();
    assert_eq!(listed["total"], 0, "the public sees no unpublished round");
    publish(&app, round);
    let page = app.get_html(&format!("/results/{round}")).await;
    assert!(page.contains("<svg"), "charts are drawn");
    assert!(page.contains("v1"), "the snapshot version is named");
    assert!(!page.contains("id=\"fieldwork\""), "fieldwork is for staff");
    let scores: serde_json::Value = app
        .get(&format!("/api/v1/rounds/{round}/scores?per_page=5"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(scores["source"], "published");
    assert_eq!(scores["total"], 34);
    assert_eq!(scores["items"].as_array().unwrap().len(), 5);
    assert_eq!(scores["items"][0]["national_rank"], 1);
}

#[tokio::test]
async fn the_dashboard_shows_overview_charts_ranking_and_unit_pages() {
    let app = spawn_app().await;
    let round = demo_round(&app, 600);
    app.login_as("analyst@sonoivu.gov.vn", Role::Analyst).await;
    let page = app.get_html(&format!("/results/{round}")).await;
    for part in [
        "id=\"overview\"",
        "id=\"fieldwork\"",
        "id=\"ranking\"",
        "role=\"img\"",
        "<details",
        "id=\"downloads\"",
    ] {
        assert!(page.contains(part), "{part}");
    }
    // Bars and regions; no earlier round is chosen, so no slope chart.
    assert_eq!(page.matches("<figure class=\"chart\"").count(), 2);
    let sorted = app
        .get_html(&format!("/results/{round}?sort=component%3AC1&dir=asc"))
        .await;
    assert!(sorted.contains("aria-sort=\"ascending\""));
    let unit = app
        .get_html(&format!("/results/{round}/units/ha-noi"))
        .await;
    assert!(unit.contains("Hà Nội"), "the unit is named");
    assert!(
        unit.contains("role=\"img\""),
        "the component profile is drawn"
    );
    let items = app.get_html(&format!("/results/{round}/items")).await;
    assert!(items.matches("<figure class=\"chart\"").count() >= 2);
    assert_eq!(
        app.get(&format!("/results/{round}/units/ZZ"))
            .await
            .status(),
        404
    );
}

#[tokio::test]
async fn aggregates_read_back_in_csv_xlsx_and_json_with_the_same_numbers() {
    let app = spawn_app().await;
    let round = demo_round(&app, 400);
    publish(&app, round);
    let csv = download(&app, &format!("/results/{round}/download/scores.csv")).await;
    assert!(csv.starts_with(b"\xEF\xBB\xBF"), "BOM for Excel");
    let mut reader = csv::Reader::from_reader(&csv[3..]);
    let header = reader.headers().unwrap().clone();
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 34);
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    let first_unit = rows[0][col("unit")].to_owned();
    let first_percent: f64 = rows[0][col("index_percent")].parse().unwrap();
    assert_eq!(&rows[0][col("national_rank")], "1");

    let json: serde_json::Value = app
        .get(&format!("/results/{round}/download/scores.json"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(json["scores"][0]["unit"], first_unit.as_str());
    assert_eq!(
        json["scores"][0]["index_percent"].as_f64().unwrap(),
        first_percent
    );
    assert!(json["rankings"].as_array().unwrap().len() >= 34);

    let comma = download(
        &app,
        &format!("/results/{round}/download/scores.csv?decimal=comma&bom=0"),
    )
    .await;
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(b';')
        .from_reader(&comma[..]);
    let row = reader.records().next().unwrap().unwrap();
    let as_comma: f64 = row[col("index_percent")].replace(',', ".").parse().unwrap();
    assert_eq!(as_comma, first_percent);

    let xlsx = download(&app, &format!("/results/{round}/download/scores.xlsx")).await;
    let mut book: Xlsx<_> = calamine::open_workbook_from_rs(Cursor::new(xlsx.to_vec())).unwrap();
    assert_eq!(
        book.sheet_names(),
        [
            "scores",
            "rankings",
            "components",
            "year_over_year",
            "items"
        ]
    );
    let sheet = book.worksheet_range("scores").unwrap();
    assert_eq!(sheet.get((1, 0)), Some(&Data::String(first_unit)));
    // XLSX keeps full precision; CSV and JSON write it rounded to the codebook's decimals.
    let Some(Data::Float(full)) = sheet.get((1, col("index_percent"))) else {
        panic!("numbers are numbers");
    };
    assert_eq!(khaosat::app::export::file_number(*full), first_percent);
}

#[tokio::test]
async fn a_microdata_export_job_writes_every_response_and_reads_back() {
    let app = spawn_app().await;
    // Enough leader responses (about 600) that a CSV page is formatted by several threads.
    let round = demo_round(&app, 1800);
    app.login_as("analyst@sonoivu.gov.vn", Role::Analyst).await;
    let expected = leader_responses(&app, round);
    assert!(expected >= 500, "{expected} leader responses");
    let csv = export_microdata(&app, round, "csv", "point").await;
    let mut reader = csv::Reader::from_reader(&csv[3..]);
    let header = reader.headers().unwrap().clone();
    assert_eq!(&header[0], "response_id");
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len() as i64, expected);
    let ids: std::collections::HashSet<&str> = rows.iter().map(|r| r.get(0).unwrap()).collect();
    assert_eq!(ids.len(), rows.len(), "response ids are unique");

    // The codebook lists every variable column of the data, and the syntax files use them.
    let codebook = download(
        &app,
        &format!("/results/{round}/download/codebook-leader.csv"),
    )
    .await;
    let mut cb = csv::Reader::from_reader(&codebook[3..]);
    let named: std::collections::BTreeSet<String> =
        cb.records().map(|r| r.unwrap()[0].to_owned()).collect();
    for column in header.iter().skip(7) {
        assert!(named.contains(column), "{column} is in the codebook");
    }
    let sps = app
        .get_html(&format!("/results/{round}/download/syntax-leader.sps"))
        .await;
    assert!(sps.contains("VALUE LABELS"));
    let r = app
        .get_html(&format!("/results/{round}/download/syntax-leader.R"))
        .await;
    assert!(r.contains("read.csv"));
    let html = app
        .get_html(&format!("/results/{round}/download/codebook-leader.html"))
        .await;
    assert!(html.contains("<table"));

    let xlsx = export_microdata(&app, round, "xlsx", "point").await;
    let mut book: Xlsx<_> = calamine::open_workbook_from_rs(Cursor::new(xlsx)).unwrap();
    let data = book.worksheet_range("data").unwrap();
    assert_eq!(data.height() as i64, expected + 1);
    assert_eq!(data.get((0, 0)), Some(&Data::String("response_id".into())));
    // The workbook is written by one thread; the CSV's rows, formatted in shares on several,
    // come in the same order.
    let xlsx_ids: Vec<String> = data.rows().skip(1).map(|r| r[0].to_string()).collect();
    let csv_ids: Vec<String> = rows.iter().map(|r| r[0].to_owned()).collect();
    assert_eq!(csv_ids, xlsx_ids);
}

#[tokio::test]
async fn api_tokens_are_stored_hashed_scoped_and_revocable() {
    let app = spawn_app().await;
    let round = demo_round(&app, 200);
    app.login_as("analyst@sonoivu.gov.vn", Role::Analyst).await;
    let read = make_token(&app, "read").await;
    assert!(read.starts_with("ks_"));
    {
        let mut conn = app.pool.get().unwrap();
        use diesel::prelude::*;
        let stored: Vec<String> = khaosat::db::schema::api_tokens::table
            .select(khaosat::db::schema::api_tokens::token_hash)
            .load(&mut conn)
            .unwrap();
        assert_eq!(stored.len(), 1);
        assert_ne!(stored[0], read, "only a hash is stored");
    }
    let fresh = reqwest::Client::new();
    let live = api_get(&app, &read, &format!("/api/v1/rounds/{round}/scores")).await;
    assert_eq!(live.status(), 200, "an analyst's token reads live scores");
    let json: serde_json::Value = live.json().await.unwrap();
    assert_eq!(json["source"], "live");
    let refused = fresh
        .post(app.url(&format!("/api/v1/rounds/{round}/exports")))
        .bearer_auth(&read)
        .json(&serde_json::json!({ "kind": "aggregates", "format": "json" }))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 403, "a read token cannot start exports");
    let wrong = api_get(&app, "ks_not-a-token", "/api/v1/rounds").await;
    assert_eq!(
        wrong.status(),
        401,
        "a wrong token is refused, not treated as public"
    );
    let page = app.get_html("/admin/tokens").await;
    assert!(page.contains("analysis script"));
    let id = {
        let mut conn = app.pool.get().unwrap();
        let user = khaosat::db::users::by_email(&mut conn, "analyst@sonoivu.gov.vn")
            .unwrap()
            .unwrap();
        khaosat::db::api_tokens::of_user(&mut conn, user.id).unwrap()[0].id
    };
    let revoked = app
        .submit("/admin/tokens", &format!("/admin/tokens/{id}/revoke"), &[])
        .await;
    assert_eq!(revoked.status(), 303);
    let after = api_get(&app, &read, "/api/v1/rounds").await;
    assert_eq!(after.status(), 401);
}

#[tokio::test]
async fn no_suppressed_breakdown_cell_can_be_derived_from_what_is_published() {
    let app = spawn_app().await;
    // About 9 leaders per unit: almost every cell of a split is small.
    let round = demo_round(&app, 900);
    publish(&app, round);
    let table: serde_json::Value = app
        .get(&format!(
            "/api/v1/rounds/{round}/breakdown?group=leader&by=bg_level"
        ))
        .await
        .json()
        .await
        .unwrap();
    let k = table["min_n"].as_u64().unwrap();
    assert_eq!(k, 10);
    let cell = |c: &serde_json::Value| (c["suppressed"].as_bool().unwrap(), c["n"].as_u64());
    let mut suppressed = 0;
    let mut lines: Vec<(Option<u64>, Vec<serde_json::Value>)> = Vec::new();
    let rows = table["rows"].as_array().unwrap();
    for row in rows {
        let cells = row["cells"].as_array().unwrap().clone();
        lines.push((cell(&row["total"]).1, cells));
    }
    let columns = table["categories"].as_array().unwrap().len();
    for c in 0..columns {
        let cells: Vec<serde_json::Value> = rows.iter().map(|r| r["cells"][c].clone()).collect();
        lines.push((cell(&table["totals"][c]).1, cells));
    }
    for (total, cells) in &lines {
        let hidden: Vec<&serde_json::Value> = cells.iter().filter(|c| cell(c).0).collect();
        suppressed += hidden.len();
        for c in cells.iter().filter(|c| !cell(c).0) {
            let n = cell(c).1.unwrap();
            assert!(n == 0 || n >= k, "a published cell of {n} < k");
        }
        if let Some(total) = total {
            let shown: u64 = cells.iter().filter_map(|c| cell(c).1).sum();
            let hidden_sum = total - shown;
            assert_ne!(
                hidden.len(),
                1,
                "one hidden cell in a line with a published total is derivable"
            );
            assert!(
                hidden_sum == 0 || hidden_sum >= k,
                "the hidden cells of a line sum to {hidden_sum}, a group smaller than k"
            );
        }
    }
    assert!(suppressed > 0, "the test data has small cells to protect");
    let page = app
        .get_html(&format!(
            "/results/{round}/breakdown?group=leader&by=bg_level"
        ))
        .await;
    assert!(page.contains("class=\"suppressed\""));
    let csv = download(
        &app,
        &format!("/results/{round}/download/breakdown-leader.csv?by=bg_level"),
    )
    .await;
    let mut reader = csv::Reader::from_reader(&csv[3..]);
    for r in reader.records() {
        let r = r.unwrap();
        if &r[7] == "1" {
            assert_eq!(
                (&r[5], &r[6]),
                ("", ""),
                "a hidden cell has no numbers in the CSV"
            );
        }
    }
}

#[tokio::test]
async fn coordinator_a_cannot_see_unit_b_through_pages_api_or_exports() {
    let app = spawn_app().await;
    let round = demo_round(&app, 900);
    app.login_as("coord@sonoivu.gov.vn", Role::Coordinator)
        .await;
    let (mine, other) = {
        let mut conn = app.pool.get().unwrap();
        let units = khaosat::db::rounds::units(&mut conn, round).unwrap();
        let user = khaosat::db::users::by_email(&mut conn, "coord@sonoivu.gov.vn")
            .unwrap()
            .unwrap();
        khaosat::db::users::add_unit(&mut conn, user.id, units[2].id).unwrap();
        (units[2].clone(), units[5].clone())
    };
    let page = app.get_html(&format!("/results/{round}")).await;
    assert!(page.contains(&mine.name_vi));
    assert!(
        !page.contains(&other.name_vi),
        "another unit on the dashboard"
    );
    let unit = app
        .get(&format!("/results/{round}/units/{}", other.code))
        .await;
    assert_eq!(unit.status(), 404);
    let breakdown = app
        .get_html(&format!(
            "/results/{round}/breakdown?group=leader&by=bg_level"
        ))
        .await;
    assert!(!breakdown.contains(&other.name_vi));
    let token = make_token(&app, "write").await;
    for path in ["scores", "rankings", "units", "coverage"] {
        let body = api_get(&app, &token, &format!("/api/v1/rounds/{round}/{path}"))
            .await
            .text()
            .await
            .unwrap();
        assert!(body.contains(&mine.code), "{path}");
        assert!(
            !body.contains(&format!("\"{}\"", other.code)),
            "{path} shows another unit"
        );
    }
    let csv = download(&app, &format!("/results/{round}/download/scores.csv")).await;
    let mut reader = csv::Reader::from_reader(&csv[3..]);
    let units: Vec<String> = reader.records().map(|r| r.unwrap()[0].to_owned()).collect();
    assert_eq!(units, vec![mine.code.clone()]);
    let microdata = export_microdata(&app, round, "csv", "comma").await;
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(b';')
        .from_reader(&microdata[3..]);
    let seen: std::collections::BTreeSet<String> =
        reader.records().map(|r| r.unwrap()[1].to_owned()).collect();
    assert_eq!(
        seen.into_iter().collect::<Vec<_>>(),
        vec![mine.code.clone()]
    );
    // Jobs belong to their owner: another account cannot read this one's export.
    let other_app_client = reqwest::Client::new();
    let jobs = app.get_html("/exports").await;
    let start = jobs.find("/exports/").unwrap();
    let job = &jobs[start..start + jobs[start..].find('"').unwrap()];
    let anonymous = other_app_client.get(app.url(job)).send().await.unwrap();
    assert_eq!(
        anonymous.url().path(),
        "/admin/login",
        "{job} asks for a login"
    );
}

#[tokio::test]
async fn vietnamese_result_pages_write_decimal_commas_region_names_and_question_texts() {
    let app = spawn_app().await;
    let round = demo_round(&app, 300);
    app.login_as("admin@sonoivu.gov.vn", Role::Admin).await;

    // Numbers in Vietnamese tables carry a decimal comma; none is written with a point.
    let dashboard = app.get_html(&format!("/results/{round}")).await;
    let numeric_cells: Vec<&str> = dashboard
        .split("<td class=\"num\">")
        .skip(1)
        .map(|rest| &rest[..rest.find('<').unwrap_or(rest.len())])
        .collect();
    assert!(
        numeric_cells.iter().any(|c| c.contains(',')),
        "{numeric_cells:?}"
    );
    assert!(
        !numeric_cells
            .iter()
            .any(|c| c.chars().any(|ch| ch.is_ascii_digit()) && c.contains('.')),
        "{numeric_cells:?}"
    );
    // The round's name already says its year: the title does not repeat it.
    assert!(!dashboard.contains("(2025)</h1>"), "{dashboard}");

    // A scorecard names its strongest and weakest items by their question text.
    let unit = app
        .get_html(&format!("/results/{round}/units/ha-noi"))
        .await;
    let strongest = &unit[unit.find("Cao nhất</caption>").unwrap()..];
    let strongest = &strongest[..strongest.find("</table>").unwrap()];
    let item_cells: Vec<&str> = strongest
        .split("<tr>")
        .skip(2)
        .filter_map(|row| row.split("<td>").nth(2))
        .map(|cell| &cell[..cell.find('<').unwrap_or(cell.len())])
        .collect();
    assert!(!item_cells.is_empty(), "{strongest}");
    for cell in &item_cells {
        assert!(
            cell.contains(' ') && !cell.contains('_'),
            "a question text, not a code: {cell}"
        );
    }

    // The live score page names regions instead of showing their codes.
    let units = {
        let mut conn = app.pool.get().unwrap();
        khaosat::db::rounds::units(&mut conn, round).unwrap()
    };
    let with_region = units
        .iter()
        .find(|u| u.region_code.is_some() && u.region_vi.is_some())
        .expect("a unit with a region");
    let scores = app.get_html(&format!("/admin/rounds/{round}/scores")).await;
    assert!(scores.contains(with_region.region_vi.as_deref().unwrap()));
    assert!(!scores.contains(&format!(
        "<td>{}</td>",
        with_region.region_code.as_deref().unwrap()
    )));
}
