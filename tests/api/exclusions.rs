//! Exclusions are reproducible: a microdata export is "as scored" by default (excluded
//! responses left out, no status columns), and on request holds every response with
//! `excluded`, `exclusion_reason` and `quality_flags`, described by its codebook and syntax.
//! Keeping its rows with `excluded` = 0 gives back the file as scored.

use std::io::Cursor;
use std::time::Duration;

use calamine::{Data, Reader, Xlsx};
use khaosat::domain::account::Role;
use khaosat::domain::quality::{Flag, Flags};
use serde_json::Value;

use crate::helpers::{TestApp, csrf_from, spawn_app};
use crate::results::{demo_round, download, make_token};

/// The reason the reviewer enters for the excluded response (with a line break, a `;` and a
/// leading `=` a spreadsheet would run).
pub const REASON: &str = "=47 giây cho 40 câu;\nđã kiểm tra lại";
/// The reason as the CSV holds it: line breaks flattened, the formula guarded.
const REASON_IN_CSV: &str = "'=47 giây cho 40 câu; đã kiểm tra lại";
/// The flags of the flagged response, as the file lists them.
pub const FLAGS: &str = "speeder;straightline:c2";
/// The status columns, in file order.
const STATUS: [&str; 3] = ["excluded", "exclusion_reason", "quality_flags"];

/// A leader response excluded through the review page (as an analyst, with [`REASON`]) and
/// another flagged as a speeder and straight-liner; returns their database ids.
pub async fn exclude_one_and_flag_one(app: &TestApp, round: i64) -> (i64, i64) {
    let (excluded, flagged) = {
        let mut conn = app.pool.get().unwrap();
        let group = khaosat::db::rounds::group_id(&mut conn, "leader")
            .unwrap()
            .unwrap();
        let rows =
            khaosat::db::responses::page_for_export(&mut conn, round, group, None, 0, 20).unwrap();
        let flags: Flags = [Flag::Straightline("c2".to_owned()), Flag::Speeder]
            .into_iter()
            .collect();
        khaosat::db::responses::set_flags(&mut conn, rows[7].id, Some(&flags.to_json())).unwrap();
        (rows[5].id, rows[7].id)
    };
    let page = format!("/admin/rounds/{round}/quality");
    let done = app
        .submit(
            &page,
            &format!("{page}/exclude"),
            &[("response_id", &excluded.to_string()), ("reason", REASON)],
        )
        .await;
    assert_eq!(done.status(), 303, "the analyst excludes the response");
    (excluded, flagged)
}

/// Starts a leader microdata export from the dashboard form with `extra` fields and waits for
/// it: the finished job's page, its file and the file's download name.
pub async fn export_job_with(
    app: &TestApp,
    round: i64,
    format: &str,
    extra: &[(&str, &str)],
) -> (String, Vec<u8>, String) {
    let dashboard = app.get_html(&format!("/results/{round}")).await;
    let token = csrf_from(&dashboard);
    let mut form = vec![
        ("csrf_token", token.as_str()),
        ("group", "leader"),
        ("format", format),
        ("decimal", "point"),
        ("bom", "1"),
    ];
    form.extend_from_slice(extra);
    let started = app
        .post_form(&format!("/results/{round}/exports"), &form)
        .await;
    assert_eq!(started.status(), 303, "the export starts");
    let job = started.headers()["location"].to_str().unwrap().to_owned();
    for _ in 0..400 {
        let page = app.get_html(&job).await;
        if page.contains("/file\"") {
            let file = app.get(&format!("{job}/file")).await;
            assert_eq!(file.status(), 200);
            let name = file.headers()["content-disposition"]
                .to_str()
                .unwrap()
                .to_owned();
            return (page, file.bytes().await.unwrap().to_vec(), name);
        }
        assert!(!page.contains("failed"), "export failed: {page}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("export did not finish");
}

/// Every row of a CSV file after its BOM, the header included.
fn rows(bytes: &[u8]) -> Vec<Vec<String>> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes))
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect()
}

/// A round of 150 responses with one excluded and one flagged, and a client logged in as an
/// analyst (who may review data quality).
async fn round_with_exclusion() -> (TestApp, i64) {
    let app = spawn_app().await;
    let round = demo_round(&app, 150);
    app.login_as("analyst@sonoivu.gov.vn", Role::Analyst).await;
    exclude_one_and_flag_one(&app, round).await;
    (app, round)
}

#[tokio::test]
async fn the_default_export_is_as_scored_and_the_variant_marks_the_excluded_and_flagged_responses()
{
    let (app, round) = round_with_exclusion().await;

    let (plain_page, plain, plain_name) = export_job_with(&app, round, "csv", &[]).await;
    let plain = rows(&plain);
    let (page, marked, name) =
        export_job_with(&app, round, "csv", &[("include_excluded", "1")]).await;
    let marked = rows(&marked);

    // As scored: today's file, without the excluded response or any status column.
    assert!(
        plain_name.contains("round-") && plain_name.contains("-leader-microdata.csv"),
        "{plain_name}"
    );
    for column in STATUS {
        assert!(
            !plain[0].iter().any(|h| h == column),
            "no {column} column as scored"
        );
    }
    assert_eq!(&plain[0][6], "submitted_date");
    assert_ne!(&plain[0][7], "excluded");
    assert!(
        plain_page.contains("As scored (excluded responses left out)")
            || plain_page.contains("Như khi tính điểm")
    );
    assert!(!plain_page.contains("include_excluded=1"));

    // With exclusions: one more row, the status columns after the identification columns.
    assert!(
        name.contains("-leader-microdata-with-excluded.csv"),
        "{name}"
    );
    assert_eq!(marked.len(), plain.len() + 1, "the excluded response is in");
    assert_eq!(marked[0][7..10], STATUS);
    assert_eq!(marked[0][..7], plain[0][..7]);
    assert_eq!(marked[0][10..], plain[0][7..], "the same question columns");
    let excluded: Vec<&Vec<String>> = marked[1..].iter().filter(|r| r[7] == "1").collect();
    assert_eq!(excluded.len(), 1, "one response is marked excluded");
    assert_eq!(excluded[0][8], REASON_IN_CSV, "with the reviewer's reason");
    let flagged: Vec<&Vec<String>> = marked[1..].iter().filter(|r| !r[9].is_empty()).collect();
    assert_eq!(flagged.len(), 1, "one response is flagged");
    assert_eq!(flagged[0][9], FLAGS);
    assert_eq!(
        (&flagged[0][7][..], &flagged[0][8][..]),
        ("0", ""),
        "flagged but scored"
    );
    assert!(
        marked[1..]
            .iter()
            .all(|r| r[7] == "1" || (r[7] == "0" && r[8].is_empty())),
        "every other response is 0 with no reason"
    );
    assert!(
        !plain[1..].iter().any(|r| r[0] == excluded[0][0]),
        "the file as scored leaves the excluded response out"
    );

    // Reproducible: the rows marked 0, without the status columns, are the file as scored.
    let scored: Vec<Vec<String>> = marked[1..]
        .iter()
        .filter(|r| r[7] == "0")
        .map(|r| r[..7].iter().chain(&r[10..]).cloned().collect())
        .collect();
    assert_eq!(
        scored,
        plain[1..],
        "keeping excluded = 0 gives the file as scored"
    );

    // The job page says which variant it is and links the syntax and codebook of that file.
    assert!(
        page.contains("All responses, with exclusions marked")
            || page.contains("Mọi phiếu, có đánh dấu phiếu bị loại"),
        "{page}"
    );
    assert!(
        page.contains("syntax-leader.sps?include_excluded=1"),
        "{page}"
    );
    assert!(
        page.contains("codebook-leader.html?include_excluded=1"),
        "{page}"
    );
}

#[tokio::test]
async fn the_xlsx_variant_holds_the_status_columns_and_every_response() {
    let (app, round) = round_with_exclusion().await;
    let (_, plain, _) = export_job_with(&app, round, "xlsx", &[]).await;
    let (_, marked, name) =
        export_job_with(&app, round, "xlsx", &[("include_excluded", "1")]).await;
    assert!(name.contains("microdata-with-excluded.xlsx"), "{name}");
    let sheet = |bytes: Vec<u8>| -> Vec<Vec<Data>> {
        let mut book: Xlsx<_> = calamine::open_workbook_from_rs(Cursor::new(bytes)).unwrap();
        let range = book.worksheet_range("data").unwrap();
        range.rows().map(<[Data]>::to_vec).collect()
    };
    let plain = sheet(plain);
    let marked = sheet(marked);
    assert_eq!(marked.len(), plain.len() + 1);
    assert!(!plain[0].contains(&Data::from("excluded")));
    assert_eq!(marked[0][7..10], STATUS.map(Data::from));
    let excluded: Vec<&Vec<Data>> = marked[1..]
        .iter()
        .filter(|r| r[7] == Data::Float(1.0))
        .collect();
    assert_eq!(excluded.len(), 1);
    assert_eq!(
        excluded[0][8],
        Data::from(REASON),
        "XLSX keeps the reason as entered, as a string"
    );
    assert!(
        marked[1..]
            .iter()
            .any(|r| r[9] == FLAGS && r[7] == Data::Float(0.0))
    );
}

#[tokio::test]
async fn the_codebook_and_syntax_describe_the_status_columns_of_the_variant_only() {
    let (app, round) = round_with_exclusion().await;
    let base = format!("/results/{round}/download");

    let plain = rows(&download(&app, &format!("{base}/codebook-leader.csv")).await);
    for column in STATUS {
        assert!(
            !plain.iter().any(|r| r[0] == column),
            "as scored, no {column} in the codebook"
        );
    }
    let marked = download(
        &app,
        &format!("{base}/codebook-leader.csv?include_excluded=1"),
    )
    .await;
    let marked = rows(&marked);
    let excluded: Vec<&Vec<String>> = marked.iter().filter(|r| r[0] == "excluded").collect();
    let codes: Vec<(&str, &str, &str)> = excluded
        .iter()
        .map(|r| (r[6].as_str(), r[7].as_str(), r[8].as_str()))
        .collect();
    assert_eq!(
        codes,
        [
            ("0", "Được tính điểm", "Scored"),
            ("1", "Bị loại", "Excluded")
        ],
        "excluded has labelled codes in both languages"
    );
    for column in STATUS {
        assert!(
            marked.iter().any(|r| r[0] == column),
            "{column} in the codebook"
        );
    }

    let html = String::from_utf8(
        download(
            &app,
            &format!("{base}/codebook-leader.html?include_excluded=1"),
        )
        .await,
    )
    .unwrap();
    assert!(html.contains("All responses, with exclusions marked"));
    assert!(html.contains("<article id=\"var-exclusion_reason\">"));
    let plain_html =
        String::from_utf8(download(&app, &format!("{base}/codebook-leader.html")).await).unwrap();
    assert!(plain_html.contains("As scored (excluded responses left out)"));
    assert!(!plain_html.contains("var-excluded"));

    let response = app
        .get(&format!("{base}/syntax-leader.sps?include_excluded=1"))
        .await;
    assert_eq!(response.status(), 200);
    let sps = response.text().await.unwrap();
    assert!(sps.contains("* File variant: all responses, with exclusions marked."));
    assert!(
        sps.contains("microdata-with-excluded.csv'"),
        "the syntax reads the variant's file"
    );
    assert!(sps.contains("    excluded F1.0"), "{sps}");
    assert!(sps.contains("    0 'Được tính điểm'") && sps.contains("    1 'Bị loại'"));
    let plain_sps =
        String::from_utf8(download(&app, &format!("{base}/syntax-leader.sps")).await).unwrap();
    assert!(plain_sps.contains("* File variant: as scored"));
    assert!(!plain_sps.contains("excluded F1.0"));

    let r = String::from_utf8(
        download(
            &app,
            &format!("{base}/syntax-leader.R?include_excluded=1&lang=en"),
        )
        .await,
    )
    .unwrap();
    assert!(r.contains("  labels = c(\"Scored\", \"Excluded\")"), "{r}");
    let stata = String::from_utf8(
        download(&app, &format!("{base}/syntax-leader.do?include_excluded=1")).await,
    )
    .unwrap();
    assert!(stata.contains("label values excluded excluded"), "{stata}");

    let aggregates = app
        .get(&format!("{base}/scores.csv?include_excluded=1"))
        .await;
    assert_eq!(
        aggregates.status(),
        400,
        "aggregates are always as scored and say so"
    );
}

#[tokio::test]
async fn a_coordinator_cannot_export_exclusions_or_flags() {
    let app = spawn_app().await;
    let round = demo_round(&app, 60);
    app.login_as("coord@sonoivu.gov.vn", Role::Coordinator)
        .await;
    let dashboard = app.get_html(&format!("/results/{round}")).await;
    let token = csrf_from(&dashboard);
    let form = |include| {
        [
            ("csrf_token", token.as_str()),
            ("group", "leader"),
            ("format", "csv"),
            ("decimal", "point"),
            ("include_excluded", include),
        ]
    };
    let started = app
        .post_form(&format!("/results/{round}/exports"), &form("1"))
        .await;
    assert_eq!(started.status(), 403, "coordinators do not review quality");
    let codebook = app
        .get(&format!(
            "/results/{round}/download/codebook-leader.csv?include_excluded=1"
        ))
        .await;
    assert_eq!(codebook.status(), 403);
    let plain = app
        .post_form(&format!("/results/{round}/exports"), &form("0"))
        .await;
    assert_eq!(plain.status(), 303, "the file as scored stays available");
}

#[tokio::test]
async fn the_api_starts_the_variant_and_says_which_file_a_job_holds() {
    let (app, round) = round_with_exclusion().await;
    let token = make_token(&app, "write").await;
    let client = reqwest::Client::new();
    let start = |body: Value| {
        client
            .post(app.url(&format!("/api/v1/rounds/{round}/exports")))
            .bearer_auth(&token)
            .json(&body)
            .send()
    };
    let created = start(serde_json::json!({
        "kind": "microdata", "format": "csv", "group": "leader", "include_excluded": true
    }))
    .await
    .unwrap();
    assert_eq!(created.status(), 202);
    let job: Value = created.json().await.unwrap();
    assert_eq!(job["include_excluded"], true);
    let id = job["id"].as_str().unwrap().to_owned();
    let mut done = Value::Null;
    for _ in 0..400 {
        done = client
            .get(app.url(&format!("/api/v1/exports/{id}")))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if done["status"] == "done" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(done["status"], "done", "{done}");
    assert_eq!(done["include_excluded"], true);
    let file = client
        .get(app.url(done["download_url"].as_str().unwrap()))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(file.status(), 200);
    let data = rows(&file.bytes().await.unwrap());
    assert_eq!(data[0][7..10], STATUS);
    assert_eq!(data[1..].iter().filter(|r| r[7] == "1").count(), 1);

    let plain = start(serde_json::json!({
        "kind": "microdata", "format": "csv", "group": "leader"
    }))
    .await
    .unwrap();
    assert_eq!(plain.status(), 202);
    let plain: Value = plain.json().await.unwrap();
    assert_eq!(plain["include_excluded"], false, "as scored by default");

    let aggregates = start(serde_json::json!({
        "kind": "aggregates", "format": "json", "include_excluded": true
    }))
    .await
    .unwrap();
    assert_eq!(aggregates.status(), 400);
}
