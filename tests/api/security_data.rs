//! Regression tests for the data-handling holes found by attacking the running server: export
//! jobs that failed and left files behind, e-mail addresses in SMTP replies reaching the log
//! and the outbox, secrets readable in the raw SQLite file, and a failed backup that created
//! files.

use std::time::Duration;

use diesel::prelude::*;
use khaosat::app::export::CsvOptions;
use khaosat::app::export::jobs::{self, ExportRequest};
use khaosat::app::results::Viewer;
use khaosat::app::rounds;
use khaosat::db::schema::mail_outbox;
use khaosat::domain::account::Role;

use crate::helpers::{TestApp, TestDb, spawn_app, spawn_app_on};
use crate::results::{demo_round, make_token};
use crate::rounds::{ADMIN, draft_round, secret};
use crate::smtp::SmtpSink;

/// A categorical question of the demo round's leader questionnaire.
fn a_breakdown_question(app: &TestApp, round: i64) -> String {
    let mut conn = app.pool.get().unwrap();
    khaosat::app::results::breakdown::breakdown_questions(&mut conn, round, "leader")
        .unwrap()
        .first()
        .expect("the leader questionnaire has a categorical question")
        .0
        .clone()
}

#[tokio::test]
async fn a_breakdown_export_job_through_the_api_finishes_and_one_without_a_question_is_refused() {
    let app = spawn_app().await;
    let round = demo_round(&app, 300);
    app.login_as("analyst@sonoivu.gov.vn", Role::Analyst).await;
    let token = make_token(&app, "write").await;
    let by = a_breakdown_question(&app, round);
    let client = reqwest::Client::new();
    let start = |body: serde_json::Value| {
        client
            .post(app.url(&format!("/api/v1/rounds/{round}/exports")))
            .bearer_auth(&token)
            .json(&body)
            .send()
    };

    let without =
        start(serde_json::json!({ "kind": "breakdown", "format": "csv", "group": "leader" }))
            .await
            .unwrap();
    assert_eq!(
        without.status(),
        400,
        "no question: refused before a job is queued"
    );
    let unknown = start(serde_json::json!({
        "kind": "breakdown", "format": "csv", "group": "leader", "by": "NO_SUCH_QUESTION"
    }))
    .await
    .unwrap();
    assert_eq!(
        unknown.status(),
        400,
        "an unknown question is refused at once"
    );

    let queued = start(serde_json::json!({
        "kind": "breakdown", "format": "csv", "group": "leader", "by": by
    }))
    .await
    .unwrap();
    assert_eq!(queued.status(), 202);
    let job: serde_json::Value = queued.json().await.unwrap();
    let id = job["id"].as_str().unwrap().to_owned();
    let mut status = String::new();
    for _ in 0..300 {
        let polled: serde_json::Value = client
            .get(app.url(&format!("/api/v1/exports/{id}")))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        status = polled["status"].as_str().unwrap().to_owned();
        if status == "done" || status == "failed" {
            assert_eq!(polled["error"], serde_json::Value::Null, "{polled}");
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(status, "done");
    let file = client
        .get(app.url(&format!("/api/v1/exports/{id}/file")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(file.status(), 200);
    let text = file.text().await.unwrap();
    assert!(text.contains("TOTAL"), "{text}");
}

#[tokio::test]
async fn a_failed_export_job_leaves_no_part_file_behind() {
    let app = spawn_app().await;
    let round = demo_round(&app, 50);
    let dir = tempfile::tempdir().unwrap();
    let request = ExportRequest::parse(
        "breakdown",
        "csv",
        "leader",
        CsvOptions::from_request(true, None),
    )
    .unwrap()
    .split_by(Some("NO_SUCH_QUESTION"))
    .unwrap();
    let mut conn = app.pool.get().unwrap();
    let outcome = jobs::run(
        &mut conn,
        dir.path(),
        &secret(&app),
        "job-that-fails",
        round,
        Viewer::Staff {
            user_id: 1,
            role: Role::Admin,
        },
        &request,
    );
    assert!(outcome.is_err());
    let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert!(left.is_empty(), "files left behind: {left:?}");
}

#[tokio::test]
async fn an_smtp_reply_naming_the_recipient_reaches_neither_the_outbox_nor_the_log() {
    let app = spawn_app().await;
    invitations_queued(&app, 3);
    let sink = SmtpSink::start();
    sink.greylist();
    let mailer = mailer_for(&app, &sink);
    let report = khaosat::app::mail::sender::send_batch(
        &app.pool,
        &mailer,
        50,
        chrono::Duration::minutes(2),
    )
    .unwrap();
    assert_eq!(report.retried, 3, "greylisting is a temporary failure");
    let mut conn = app.pool.get().unwrap();
    let errors: Vec<Option<String>> = mail_outbox::table
        .select(mail_outbox::last_error)
        .load(&mut conn)
        .unwrap();
    assert_eq!(errors.len(), 3);
    for error in errors {
        let error = error.expect("the failure is recorded");
        assert!(error.contains("Greylisted"), "{error}");
        assert!(
            !error.contains('@') && error.contains("[address]"),
            "the address is redacted: {error}"
        );
    }
}

/// An open round with `n` listed respondents whose invitations wait in the outbox.
fn invitations_queued(app: &TestApp, n: usize) {
    let round = draft_round(app, n);
    let mut conn = app.pool.get().unwrap();
    rounds::apply_action(
        &mut conn,
        round,
        khaosat::domain::lifecycle::RoundAction::Open,
        ADMIN,
    )
    .unwrap();
    let queued = rounds::queue_invitations(
        &mut conn,
        &secret(app),
        "http://x",
        khaosat::domain::local_time::TimeZone::default(),
        round,
        ADMIN,
    );
    assert_eq!(queued.unwrap(), n);
}

/// A mailer that delivers to `sink`.
fn mailer_for(app: &TestApp, sink: &SmtpSink) -> khaosat::app::mail::Mailer {
    let mut settings = khaosat::app::config::Settings::for_database(app._db.database_url());
    settings.smtp_url = Some(sink.url());
    settings.smtp_from = Some("khaosat@sonoivu.gov.vn".into());
    khaosat::app::mail::Mailer::from_settings(&settings)
        .unwrap()
        .unwrap()
}

/// Every access code mailed so far, in the forms a link or a slip shows.
fn mailed_codes(sink: &SmtpSink) -> Vec<String> {
    sink.messages()
        .iter()
        .flat_map(|m| {
            let text = m.text();
            let start = text.find("/s/").expect("a link") + 3;
            let code: String = text[start..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
                .collect();
            [code.clone(), code.replace('-', "")]
        })
        .collect()
}

#[tokio::test]
async fn codes_of_sent_invitations_cannot_be_read_from_the_sqlite_file() {
    // About the bytes of the SQLite file itself; PostgreSQL reclaims dead rows by vacuum.
    let app = spawn_app_on(TestDb::sqlite(), |_| {}).await;
    let TestDb::Sqlite { url, .. } = &app._db else {
        unreachable!("asked for SQLite")
    };
    let path = url.trim_start_matches("sqlite://").to_owned();
    invitations_queued(&app, 40);
    let sink = SmtpSink::start();
    let mailer = mailer_for(&app, &sink);
    while khaosat::app::mail::sender::send_batch(
        &app.pool,
        &mailer,
        50,
        chrono::Duration::minutes(2),
    )
    .unwrap()
    .handled()
        > 0
    {}
    let codes = mailed_codes(&sink);
    assert_eq!(codes.len(), 80, "40 messages arrived");
    let mut bytes = std::fs::read(&path).unwrap();
    bytes.extend(std::fs::read(format!("{path}-wal")).unwrap_or_default());
    let haystack = String::from_utf8_lossy(&bytes);
    let readable: Vec<&String> = codes.iter().filter(|c| haystack.contains(*c)).collect();
    assert!(
        readable.is_empty(),
        "{} of {} mailed codes are readable in the file: {readable:?}",
        readable.len(),
        codes.len()
    );
}

#[test]
fn a_backup_without_a_database_creates_no_file_and_names_the_database_it_looked_for() {
    let dir = tempfile::tempdir().unwrap();
    let run = || {
        std::process::Command::new(env!("CARGO_BIN_EXE_khaosat"))
            .args(["backup", "copy.db"])
            .env("KHAOSAT_LANG", "en")
            .current_dir(dir.path())
            .env_remove("DATABASE_URL")
            .env_remove("KHAOSAT_CONFIG")
            .env("RUST_LOG", "warn")
            .output()
            .unwrap()
    };
    for attempt in 1..=2 {
        let output = run();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "attempt {attempt}");
        assert!(
            stderr.contains("khaosat.db") && stderr.contains("nothing was written"),
            "attempt {attempt}: {stderr}"
        );
        let left: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert!(left.is_empty(), "attempt {attempt} left {left:?}");
    }
}
