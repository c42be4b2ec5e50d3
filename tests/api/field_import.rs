//! Field submissions collected offline with ODK Collect or KoboCollect and imported from the
//! server's export (ODK Central CSV, KoboToolbox CSV and XLSX): idempotent by instance ID,
//! checked like web responses, all-or-nothing, counted as `field` in coverage and results.
//! The exports are built from the bundled leader questionnaire's structure, with the headers
//! each server writes for a questionnaire exported from khaosat to XLSForm.

use std::collections::BTreeMap;
use std::process::Command;

use diesel::prelude::*;
use khaosat::app::field_import::{SubmissionFile, import_submissions};
use khaosat::app::rounds::{Actor, RoundError};
use khaosat::db::schema::responses;
use khaosat::domain::account::Role;
use khaosat::domain::instrument::{Instrument, QuestionKind};

use crate::helpers::{TestApp, csrf_from, spawn_app};
use crate::respond::{fill, leader, open_round_with_codes};
use crate::respondent_import::{preview_list, preview_token};

const ADMIN: Actor<'static> = Actor {
    user_id: None,
    label: "test",
    role: Role::Admin,
};

/// (header, answer code) of every answer column, as the server names them: the section's
/// group, then the battery's group for battery items, joined by `sep`.
fn answer_columns(form: &Instrument, sep: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for s in form.sections() {
        for q in &s.questions {
            match &q.kind {
                QuestionKind::Battery { items, .. } => {
                    for item in items {
                        out.push((
                            format!("{}{sep}{}{sep}{}", s.code, q.code, item.code),
                            item.code.clone(),
                        ));
                    }
                }
                _ => out.push((format!("{}{sep}{}", s.code, q.code), q.code.clone())),
            }
        }
    }
    out
}

/// A complete, valid leader response (answer code → value).
fn complete() -> BTreeMap<String, String> {
    leader()
        .sections()
        .iter()
        .flat_map(|s| fill(s, false))
        .collect()
}

/// An ODK Central CSV export of `rows` (instance ID, answers).
fn central_csv(rows: &[(&str, BTreeMap<String, String>)]) -> String {
    let columns = answer_columns(&leader(), "-");
    let mut out = String::from("SubmissionDate,start,end,");
    out.push_str(
        &columns
            .iter()
            .map(|(h, _)| h.as_str())
            .collect::<Vec<_>>()
            .join(","),
    );
    out.push_str(",meta-instanceID,KEY,SubmitterID,SubmitterName,AttachmentsPresent,AttachmentsExpected,Status,ReviewState,DeviceID,Edits,FormVersion\n");
    for (id, answers) in rows {
        out.push_str(
            "2025-05-02T03:00:00.000Z,2025-05-02T09:00:00.000+07:00,2025-05-02T09:20:00.000+07:00,",
        );
        let values: Vec<&str> = columns
            .iter()
            .map(|(_, code)| answers.get(code).map_or("", String::as_str))
            .collect();
        out.push_str(&values.join(","));
        out.push_str(&format!(
            ",uuid:{id},uuid:{id},5,Trần Văn Ba,0,0,,,collect:DEV-7731,0,2025050201\n"
        ));
    }
    out
}

/// A KoboToolbox export's header and rows: `;`-separated, every value quoted, groups in the
/// headers, a unit column and Kobo's own columns.
fn kobo_rows(
    unit: &str,
    rows: &[(&str, BTreeMap<String, String>)],
) -> (Vec<String>, Vec<Vec<String>>) {
    let columns = answer_columns(&leader(), "/");
    let mut header = vec!["start".to_owned(), "end".to_owned()];
    header.extend(columns.iter().map(|(h, _)| h.clone()));
    header.extend(
        [
            "unit",
            "meta/instanceID",
            "_id",
            "_uuid",
            "_submission_time",
            "_validation_status",
            "_status",
            "_submitted_by",
            "__version__",
            "_index",
        ]
        .map(str::to_owned),
    );
    let body = rows
        .iter()
        .enumerate()
        .map(|(i, (id, answers))| {
            let mut row = vec![
                "2025-05-03T08:00:00.000+07:00".to_owned(),
                "2025-05-03T08:10:00.000+07:00".to_owned(),
            ];
            row.extend(
                columns
                    .iter()
                    .map(|(_, code)| answers.get(code).cloned().unwrap_or_default()),
            );
            row.extend([
                unit.to_owned(),
                format!("uuid:{id}"),
                (100 + i).to_string(),
                (*id).to_owned(),
                "2025-05-03T01:10:00".to_owned(),
                String::new(),
                "submitted_via_web".to_owned(),
                "enumerator7".to_owned(),
                "vAbC".to_owned(),
                (i + 1).to_string(),
            ]);
            row
        })
        .collect();
    (header, body)
}

fn kobo_csv(header: &[String], body: &[Vec<String>]) -> String {
    let line = |cells: &[String]| {
        cells
            .iter()
            .map(|c| format!("\"{c}\""))
            .collect::<Vec<_>>()
            .join(";")
    };
    let mut out = line(header);
    out.push('\n');
    for row in body {
        out.push_str(&line(row));
        out.push('\n');
    }
    out
}

/// The Kobo export as a workbook: whole numbers written as numbers and the submission time as
/// an Excel date, as spreadsheet programs leave them.
fn kobo_xlsx(unit: &str, rows: &[(&str, BTreeMap<String, String>)]) -> Vec<u8> {
    let (header, body) = kobo_rows(unit, rows);
    let mut workbook = rust_xlsxwriter::Workbook::new();
    let sheet = workbook.add_worksheet();
    let date = rust_xlsxwriter::Format::new().set_num_format("yyyy-mm-dd");
    for (c, h) in (0u16..).zip(&header) {
        sheet.write_string(0, c, h).unwrap();
    }
    for (r, row) in (1u32..).zip(&body) {
        for (c, value) in (0u16..).zip(row) {
            if header[usize::from(c)] == "_submission_time" {
                let day = rust_xlsxwriter::ExcelDateTime::from_ymd(2025, 5, 3).unwrap();
                sheet.write_datetime_with_format(r, c, &day, &date).unwrap();
            } else if let Ok(n) = value.parse::<f64>() {
                sheet.write_number(r, c, n).unwrap();
            } else if !value.is_empty() {
                sheet.write_string(r, c, value).unwrap();
            }
        }
    }
    workbook.save_to_buffer().unwrap()
}

fn field_responses(app: &TestApp) -> i64 {
    let mut conn = app.pool.get().unwrap();
    responses::table
        .filter(responses::source.eq("field"))
        .count()
        .get_result(&mut conn)
        .unwrap()
}

fn units(app: &TestApp, round: i64) -> Vec<khaosat::db::units::UnitRow> {
    let mut conn = app.pool.get().unwrap();
    khaosat::db::rounds::units(&mut conn, round).unwrap()
}

/// The live tallies equal a recomputation from the raw answers, which is what `khaosat
/// compute` checks before it marks a round computed.
fn assert_tallies_equal_compute(app: &TestApp, round: i64) {
    let mut conn = app.pool.get().unwrap();
    let check = khaosat::app::scores::verify_tallies(&mut conn, round).unwrap();
    assert!(check.agrees(), "{:?}", check.differences);
}

fn import(
    app: &TestApp,
    round: i64,
    name: &str,
    bytes: &[u8],
    unit: Option<&str>,
    group: Option<&str>,
) -> Result<khaosat::app::field_import::ImportOutcome, RoundError> {
    let mut conn = app.pool.get().unwrap();
    import_submissions(
        &mut conn,
        SubmissionFile {
            round_id: round,
            file_name: name,
            bytes,
            unit,
            group,
        },
        ADMIN,
    )
}

/// Runs the command line against the app's database.
fn khaosat(app: &TestApp, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_khaosat"))
        .args(args)
        .env("DATABASE_URL", app._db.url())
        .env("KHAOSAT_LANG", "en")
        .env("RUST_LOG", "warn")
        .output()
        .unwrap()
}

/// Uploads an export to the round's field page with the unit and group fields.
async fn upload(
    app: &TestApp,
    round: i64,
    name: &str,
    bytes: Vec<u8>,
    unit: &str,
    group: &str,
) -> reqwest::Response {
    let page = format!("/admin/rounds/{round}/field");
    let token = csrf_from(&app.get_html(&page).await);
    let form = reqwest::multipart::Form::new()
        .text("csrf_token", token)
        .text("unit", unit.to_owned())
        .text("group", group.to_owned())
        .part(
            "file",
            reqwest::multipart::Part::bytes(bytes).file_name(name.to_owned()),
        );
    app.client
        .post(app.url(&page))
        .multipart(form)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_central_export_imported_twice_from_the_command_line_stores_its_submissions_once() {
    let app = spawn_app().await;
    let (round, _) = open_round_with_codes(&app, 0);
    let unit = units(&app, round)[0].code.clone();
    let csv = central_csv(&[("a-1", complete()), ("a-2", complete())]);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("leader_2025_05_02.csv");
    std::fs::write(&path, csv).unwrap();
    let args = [
        "round",
        "import-submissions",
        &round.to_string(),
        path.to_str().unwrap(),
        "--unit",
        &unit,
        "--group",
        "leader",
    ];
    let first = khaosat(&app, &args);
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    assert!(
        String::from_utf8_lossy(&first.stdout).starts_with("2 responses stored; 0 submissions"),
        "{}",
        String::from_utf8_lossy(&first.stdout)
    );
    let second = khaosat(&app, &args);
    assert!(second.status.success());
    assert!(
        String::from_utf8_lossy(&second.stdout)
            .starts_with("0 responses stored; 2 submissions already imported"),
        "{}",
        String::from_utf8_lossy(&second.stdout)
    );
    assert_eq!(field_responses(&app), 2);
    assert_tallies_equal_compute(&app, round);
    // Stored with the export's date and duration, and nothing that leads back to the device
    // or the interviewer.
    let mut conn = app.pool.get().unwrap();
    let stored: Vec<(String, chrono::NaiveDate, Option<i32>, String)> = responses::table
        .filter(responses::source.eq("field"))
        .select((
            responses::submission_key,
            responses::submitted_on,
            responses::duration_seconds,
            responses::answers,
        ))
        .load(&mut conn)
        .unwrap();
    for (key, day, duration, answers) in &stored {
        assert!(key.starts_with("field:") && !key.contains("a-1") && !key.contains("a-2"));
        assert_eq!(day.to_string(), "2025-05-02");
        assert_eq!(*duration, Some(1200));
        assert!(!answers.contains("Trần") && !answers.contains("DEV-7731"));
    }
    // The import is audited with its file and counts, never an answer or an instance ID.
    let audit = khaosat::db::audit::latest_new_value(&mut conn, "round:import_submissions")
        .unwrap()
        .unwrap();
    let audit: serde_json::Value = serde_json::from_str(&audit).unwrap();
    assert_eq!(audit["file"], "leader_2025_05_02.csv");
    assert_eq!(audit["stored"], 0);
    assert_eq!(audit["already_stored"], 2);
    assert_eq!(
        khaosat::db::audit::count_action(&mut conn, "round:import_submissions").unwrap(),
        2
    );
    assert!(!audit.to_string().contains("a-1"));
}

#[tokio::test]
async fn a_kobo_semicolon_export_takes_its_unit_from_a_column_and_warns_of_unknown_columns() {
    let app = spawn_app().await;
    let (round, _) = open_round_with_codes(&app, 0);
    let target = units(&app, round)[1].clone();
    let (mut header, mut body) =
        kobo_rows(&target.name_vi, &[("k-1", complete()), ("k-2", complete())]);
    // A column of another form version: reported once, ignored.
    header.push("s9/enumerator_note".into());
    for row in &mut body {
        row.push("gặp tại nhà".into());
    }
    let csv = kobo_csv(&header, &body);
    let outcome = import(
        &app,
        round,
        "kobo.csv",
        csv.as_bytes(),
        None,
        Some("leader"),
    )
    .unwrap();
    assert_eq!((outcome.stored, outcome.already), (2, 0));
    let warnings: Vec<String> = outcome.warnings.iter().map(ToString::to_string).collect();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(
        warnings[0].contains("row 1, column s9/enumerator_note"),
        "{warnings:?}"
    );
    let mut conn = app.pool.get().unwrap();
    let stored_units: Vec<i64> = responses::table
        .filter(responses::source.eq("field"))
        .select(responses::unit_id)
        .load(&mut conn)
        .unwrap();
    assert_eq!(stored_units, [target.id, target.id]);
    drop(conn);
    assert_tallies_equal_compute(&app, round);
}

#[tokio::test]
async fn a_kobo_xlsx_export_is_previewed_then_confirmed_on_the_round_page_and_shown_as_field() {
    let app = spawn_app().await;
    let (round, _) = open_round_with_codes(&app, 0);
    app.login_as("admin@sonoivu.gov.vn", Role::Admin).await;
    app.get("/lang/en").await;
    let unit = units(&app, round)[0].clone();
    let round_page = app.get_html(&format!("/admin/rounds/{round}")).await;
    assert!(round_page.contains(&format!("/admin/rounds/{round}/field")));
    let xlsx = kobo_xlsx(
        &unit.code,
        &[
            ("x-1", complete()),
            ("x-2", complete()),
            ("x-1", complete()),
        ],
    );
    let preview = upload(&app, round, "kobo.xlsx", xlsx.clone(), "", "leader").await;
    assert_eq!(preview.status(), 200);
    let html = preview.text().await.unwrap();
    assert!(
        html.contains("2 new responses; 0 submissions already imported; 1 repeated rows"),
        "{html}"
    );
    assert_eq!(field_responses(&app), 0, "a preview stores nothing");
    let token = html
        .split("name=\"token\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap()
        .to_owned();
    let confirm = app
        .post_form(
            &format!("/admin/rounds/{round}/field/confirm"),
            &[("token", &token), ("csrf_token", &csrf_from(&html))],
        )
        .await;
    assert_eq!(confirm.status(), 303);
    let done = confirm.headers()["location"].to_str().unwrap().to_owned();
    assert_eq!(
        done,
        format!("/admin/rounds/{round}/field?stored=2&already=0")
    );
    assert_eq!(field_responses(&app), 2);
    let mut conn = app.pool.get().unwrap();
    let days: Vec<chrono::NaiveDate> = responses::table
        .filter(responses::source.eq("field"))
        .select(responses::submitted_on)
        .load(&mut conn)
        .unwrap();
    assert!(
        days.iter().all(|d| d.to_string() == "2025-05-03"),
        "{days:?}"
    );
    drop(conn);
    assert_tallies_equal_compute(&app, round);
    // The same confirm again finds nothing; the same file again has nothing new.
    let again = app
        .post_form(
            &format!("/admin/rounds/{round}/field/confirm"),
            &[("token", &token), ("csrf_token", &csrf_from(&html))],
        )
        .await;
    assert_eq!(again.status(), 422);
    let second = upload(&app, round, "kobo.xlsx", xlsx, "", "leader").await;
    let html = second.text().await.unwrap();
    assert!(html.contains("id=\"nothing-new\""), "{html}");
    assert!(!html.contains("name=\"token\""));
    assert_eq!(field_responses(&app), 2);
    // Coverage shows them as field responses beside the paper ones.
    let coverage = app
        .get_html(&format!("/admin/rounds/{round}/coverage"))
        .await;
    assert!(coverage.contains("id=\"field-total\">2<"), "{coverage}");
    assert!(coverage.contains("id=\"paper-total\">0<"), "{coverage}");
    let csv = app
        .get(&format!("/admin/rounds/{round}/coverage?format=csv"))
        .await
        .text()
        .await
        .unwrap();
    let mut reader = csv::Reader::from_reader(csv.trim_start_matches('\u{feff}').as_bytes());
    let field = reader
        .headers()
        .unwrap()
        .iter()
        .position(|h| h == "field")
        .expect("a field column");
    let total: i64 = reader
        .records()
        .map(|r| r.unwrap()[field].parse::<i64>().unwrap())
        .sum();
    assert_eq!(total, 2);
    // And the scores count them per unit, like paper forms.
    let mut conn = app.pool.get().unwrap();
    let scores = khaosat::app::scores::live_scores(&mut conn, round, false).unwrap();
    let card = scores
        .scores
        .units
        .iter()
        .find(|u| u.unit == unit.code)
        .unwrap();
    assert_eq!(card.field_responses, Some(2));
    assert_eq!(card.paper_responses, Some(0));
}

#[tokio::test]
async fn a_respondent_list_preview_and_a_field_export_preview_never_confirm_each_other() {
    let app = spawn_app().await;
    let (round, _) = open_round_with_codes(&app, 0);
    app.login_as("admin@sonoivu.gov.vn", Role::Admin).await;
    let unit = units(&app, round)[0].clone();
    let round_page = format!("/admin/rounds/{round}");
    let field_page = format!("{round_page}/field");
    let xlsx = kobo_xlsx(&unit.code, &[("x-1", complete()), ("x-2", complete())]);
    let html = upload(&app, round, "kobo.xlsx", xlsx, "", "leader")
        .await
        .text()
        .await
        .unwrap();
    let field_token = preview_token(&html);
    // Previewing a list afterwards replaces the user's earlier list previews only: the
    // export's preview for the same round and user stays.
    let list = format!(
        "Họ và tên,Thư điện tử,Đơn vị,Nhóm\nNguyễn Văn An,,{},leader\n",
        unit.code
    );
    let list_token =
        preview_token(&preview_list(&app, &round_page, "list.csv", list.into_bytes()).await);
    // Each token is unknown to the other kind's confirm, which stores nothing and uses up
    // nothing.
    let crossed = app
        .submit(
            &field_page,
            &format!("{field_page}/confirm"),
            &[("token", &list_token)],
        )
        .await;
    assert_ne!(crossed.status(), 303);
    let crossed = app
        .submit(
            &round_page,
            &format!("{round_page}/respondents/confirm"),
            &[("token", &field_token)],
        )
        .await;
    assert_ne!(crossed.status(), 303);
    assert_eq!(field_responses(&app), 0);
    let mut conn = app.pool.get().unwrap();
    assert!(
        khaosat::db::respondents::roster(&mut conn, round)
            .unwrap()
            .is_empty()
    );
    drop(conn);
    // Each still confirms its own import.
    let stored = app
        .submit(
            &field_page,
            &format!("{field_page}/confirm"),
            &[("token", &field_token)],
        )
        .await;
    assert_eq!(stored.status(), 303);
    assert_eq!(field_responses(&app), 2);
    let listed = app
        .submit(
            &round_page,
            &format!("{round_page}/respondents/confirm"),
            &[("token", &list_token)],
        )
        .await;
    assert_eq!(listed.status(), 303);
    let mut conn = app.pool.get().unwrap();
    let names: Vec<String> = khaosat::db::respondents::roster(&mut conn, round)
        .unwrap()
        .into_iter()
        .map(|r| r.contact.name)
        .collect();
    assert_eq!(names, ["Nguyễn Văn An"]);
}

#[tokio::test]
async fn a_file_with_one_bad_row_stores_nothing_and_names_the_row_and_the_column() {
    let app = spawn_app().await;
    let (round, _) = open_round_with_codes(&app, 0);
    app.login_as("admin@sonoivu.gov.vn", Role::Admin).await;
    app.get("/lang/en").await;
    let unit = units(&app, round)[0].code.clone();
    let form = leader();
    let (header, code) = answer_columns(&form, "-")
        .into_iter()
        .find(|(_, code)| {
            matches!(
                form.locate(code).map(|(q, _)| &q.kind),
                Some(QuestionKind::Integer { max: Some(_), .. })
            )
        })
        .expect("an integer question with a maximum");
    let mut bad = complete();
    bad.insert(code.clone(), "999".into());
    let csv = central_csv(&[("g-1", complete()), ("g-2", bad), ("g-3", complete())]);
    let response = upload(
        &app,
        round,
        "central.csv",
        csv.into_bytes(),
        &unit,
        "leader",
    )
    .await;
    assert_eq!(response.status(), 422);
    let html = response.text().await.unwrap();
    assert!(
        html.contains(&format!(
            "central.csv row 3, column {header}: {code} = &#39;999&#39;"
        )) || html.contains(&format!(
            "central.csv row 3, column {header}: {code} = '999'"
        )),
        "{html}"
    );
    assert!(!html.contains("name=\"token\""));
    assert_eq!(field_responses(&app), 0);
}

#[tokio::test]
async fn a_row_without_a_unit_is_refused_when_neither_a_column_nor_the_flag_gives_one() {
    let app = spawn_app().await;
    let (round, _) = open_round_with_codes(&app, 0);
    let csv = central_csv(&[("u-1", complete())]);
    let Err(RoundError::Rows(errors)) =
        import(&app, round, "c.csv", csv.as_bytes(), None, Some("leader"))
    else {
        panic!("a file without units must be refused");
    };
    assert_eq!(errors.len(), 1);
    assert!(
        errors[0]
            .to_string()
            .starts_with("c.csv row 2, column unit:"),
        "{}",
        errors[0]
    );
    assert_eq!(field_responses(&app), 0);
}

#[tokio::test]
async fn accounts_without_the_permission_cannot_import_field_submissions() {
    let app = spawn_app().await;
    let (round, _) = open_round_with_codes(&app, 0);
    app.login_as("coord@sonoivu.gov.vn", Role::Coordinator)
        .await;
    let page = app.get(&format!("/admin/rounds/{round}/field")).await;
    assert_eq!(page.status(), 403);
    let analyst = crate::paper::desk(&app, "analyst@sonoivu.gov.vn", Role::Analyst).await;
    let status = analyst
        .get(app.url(&format!("/admin/rounds/{round}/field")))
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, 403);
    let mut conn = app.pool.get().unwrap();
    let coordinator = Actor {
        user_id: None,
        label: "coord",
        role: Role::Coordinator,
    };
    let csv = central_csv(&[("p-1", complete())]);
    let refused = import_submissions(
        &mut conn,
        SubmissionFile {
            round_id: round,
            file_name: "c.csv",
            bytes: csv.as_bytes(),
            unit: None,
            group: Some("leader"),
        },
        coordinator,
    );
    assert!(matches!(
        refused,
        Err(RoundError::App(khaosat::error::AppError::Forbidden))
    ));
    drop(conn);
    assert_eq!(field_responses(&app), 0);
}
