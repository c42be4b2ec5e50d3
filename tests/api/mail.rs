//! E-mail invitations and reminders as a respondent and an operator meet them: codes that keep
//! working after a reminder, interrupted sends, the sender address and the wording.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use khaosat::app::rounds;
use khaosat::domain::lifecycle::RoundAction;
use khaosat::domain::local_time::TimeZone;

use crate::helpers::{TestApp, spawn_app};
use crate::respond::complete_journey;
use crate::rounds::{ADMIN, code_in, draft_round, secret};
use crate::smtp::{Received, SmtpSink};

/// A mailer for `sink` with the test database's default settings.
fn mailer(app: &TestApp, sink: &SmtpSink) -> khaosat::app::mail::Mailer {
    let mut settings = khaosat::app::config::Settings::for_database(app._db.database_url());
    settings.smtp_url = Some(sink.url());
    khaosat::app::mail::Mailer::from_settings(&settings)
        .unwrap()
        .unwrap()
}

/// Delivers everything due.
fn deliver(app: &TestApp, mailer: &khaosat::app::mail::Mailer) {
    while khaosat::app::mail::sender::send_batch(
        &app.pool,
        mailer,
        50,
        chrono::Duration::minutes(2),
    )
    .unwrap()
    .handled()
        > 0
    {}
}

/// The canonical code of the message's link.
fn link_code(message: &Received) -> String {
    code_in(&message.text()).as_canonical().to_owned()
}

#[tokio::test]
async fn the_invitation_link_still_opens_after_a_reminder_and_one_submission_uses_both_codes() {
    let app = spawn_app().await;
    let round = draft_round(&app, 1);
    let secret = secret(&app);
    let sink = SmtpSink::start();
    let mailer = mailer(&app, &sink);
    {
        let mut conn = app.pool.get().unwrap();
        rounds::apply_action(&mut conn, round, RoundAction::Open, ADMIN).unwrap();
        rounds::queue_invitations(
            &mut conn,
            &secret,
            &app.address,
            TimeZone::default(),
            round,
            ADMIN,
        )
        .unwrap();
    }
    deliver(&app, &mailer);
    {
        let mut conn = app.pool.get().unwrap();
        let policy = khaosat::domain::reminders::ReminderPolicy {
            max_reminders: 2,
            min_days_between: 7,
        };
        let later = khaosat::db::now() + chrono::Duration::days(8);
        assert_eq!(
            rounds::queue_reminders(
                &mut conn,
                &secret,
                &app.address,
                TimeZone::default(),
                round,
                &policy,
                later,
                ADMIN
            )
            .unwrap(),
            1
        );
    }
    deliver(&app, &mailer);
    let messages = sink.wait_for(2, Duration::from_secs(10));
    assert_eq!(messages.len(), 2);
    let invited = link_code(&messages[0]);
    let reminded = link_code(&messages[1]);
    assert_ne!(invited, reminded, "the reminder carries a code of its own");

    for code in [&invited, &reminded] {
        let page = app.get(&format!("/s/{code}")).await;
        assert_eq!(page.status(), 200, "the link with {code} still opens");
    }
    let done = complete_journey(&app, &reminded).await;
    assert!(done.status().is_success() || done.status().is_redirection());
    let used = app.get(&format!("/s/{invited}")).await;
    assert_eq!(
        used.status(),
        410,
        "the invitation's code is used with the reminder's"
    );
    assert!(
        used.text()
            .await
            .unwrap()
            .contains("Phiếu khảo sát với mã này đã được gửi")
    );
}

/// Starts `khaosat round send-invitations ROUND` against `sink`, in Vietnamese.
fn send_invitations(app: &TestApp, sink: &SmtpSink, round: i64, lease: u32) -> Child {
    send_invitations_with(app, sink, round, lease, &[])
}

/// [`send_invitations`] with more environment variables.
fn send_invitations_with(
    app: &TestApp,
    sink: &SmtpSink,
    round: i64,
    lease: u32,
    env: &[(&str, &str)],
) -> Child {
    Command::new(env!("CARGO_BIN_EXE_khaosat"))
        .envs(env.iter().copied())
        .args([
            "--lang",
            "vi",
            "round",
            "send-invitations",
            &round.to_string(),
        ])
        .env("DATABASE_URL", app._db.url())
        .env("SMTP_URL", sink.url())
        .env("SMTP_FROM", "khaosat@sonoivu.gov.vn")
        .env("KHAOSAT_MAIL_LEASE_SECONDS", lease.to_string())
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Waits until the sink holds the sender before its next message (nothing half-sent).
fn wait_until_held(sink: &SmtpSink) {
    let start = Instant::now();
    while !sink.is_holding() && start.elapsed() < Duration::from_secs(60) {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(sink.is_holding(), "the sender reached the hold point");
}

#[tokio::test]
async fn an_interrupted_send_gives_its_messages_back_and_an_immediate_rerun_sends_them() {
    let app = spawn_app().await;
    let round = draft_round(&app, 30);
    let sink = SmtpSink::start();
    sink.hold_after(12);
    let first = send_invitations(&app, &sink, round, 120);
    wait_until_held(&sink);
    let status = Command::new("kill")
        .args(["-TERM", &first.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let first = first.wait_with_output().unwrap();
    let said = String::from_utf8_lossy(&first.stderr);
    assert!(
        said.contains("đã được trả lại hàng đợi"),
        "the interrupted run says it gave its messages back: {said}"
    );
    assert_eq!(sink.messages().len(), 12);
    sink.release();
    // No waiting for the 120 s lease: the rerun sends the rest at once.
    let second = send_invitations(&app, &sink, round, 120)
        .wait_with_output()
        .unwrap();
    let out = String::from_utf8_lossy(&second.stdout);
    assert!(second.status.success(), "{out}");
    assert!(out.contains("đã gửi 18"), "{out}");
    assert!(!out.contains("giữ"), "nothing is held: {out}");
    let mut recipients: Vec<String> = sink
        .wait_for(30, Duration::from_secs(10))
        .iter()
        .flat_map(|m| m.to.clone())
        .collect();
    recipients.sort();
    recipients.dedup();
    assert_eq!(recipients.len(), 30, "each once");
}

#[tokio::test]
async fn a_rerun_after_a_killed_send_says_how_many_are_held_and_until_when() {
    let app = spawn_app().await;
    let round = draft_round(&app, 20);
    let sink = SmtpSink::start();
    sink.hold_after(5);
    let mut first = send_invitations(&app, &sink, round, 600);
    wait_until_held(&sink);
    // SIGKILL cannot be handled: the claims stay until the lease runs out.
    first.kill().unwrap();
    first.wait().unwrap();
    sink.release();
    let second = send_invitations(&app, &sink, round, 600)
        .wait_with_output()
        .unwrap();
    let out = String::from_utf8_lossy(&second.stdout);
    assert!(second.status.success(), "{out}");
    let held_line = out
        .lines()
        .find(|l| l.contains("đang do một lần gửi khác giữ"))
        .unwrap_or_else(|| panic!("the held messages are named: {out}"));
    assert!(
        !out.contains("gửi lại từ"),
        "none is said to wait for a retry: {out}"
    );
    // The whole batch of ten claimed by the killed run (the held message among them) stays
    // held; the date is dd/mm/yyyy HH:MM in Vietnam's time.
    let held: usize = held_line
        .split_whitespace()
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=10).contains(&held), "{held_line}");
    let until = khaosat::domain::local_time::TimeZone::default()
        .to_local(khaosat::db::now() + chrono::Duration::seconds(600));
    assert!(
        held_line.contains(&until.format("%d/%m/%Y").to_string())
            && held_line.contains("Giờ Việt Nam"),
        "{held_line}"
    );
}

#[tokio::test]
async fn a_sender_name_with_parentheses_is_quoted_and_reply_to_and_contact_reach_the_message() {
    let app = spawn_app().await;
    let round = draft_round(&app, 1);
    let secret = secret(&app);
    let sink = SmtpSink::start();
    let mut settings = khaosat::app::config::Settings::for_database(app._db.database_url());
    settings.smtp_url = Some(sink.url());
    settings.smtp_from = Some("Ban chỉ đạo CCHC (Sở Nội vụ) <cchc@example.gov.vn>".into());
    settings.smtp_reply_to = Some("Phòng CCHC, Sở Nội vụ <phongcchc@example.gov.vn>".into());
    settings.smtp_contact = Some("Phòng CCHC, 024 3825 0000".into());
    let mailer = khaosat::app::mail::Mailer::from_settings(&settings)
        .unwrap()
        .unwrap();
    {
        let mut conn = app.pool.get().unwrap();
        rounds::apply_action(&mut conn, round, RoundAction::Open, ADMIN).unwrap();
        rounds::queue_invitations(
            &mut conn,
            &secret,
            &app.address,
            TimeZone::default(),
            round,
            ADMIN,
        )
        .unwrap();
    }
    deliver(&app, &mailer);
    let messages = sink.wait_for(1, Duration::from_secs(10));
    let parsed = mail_parser::MessageParser::default()
        .parse(&messages[0].data)
        .unwrap();
    let from = parsed.from().and_then(|a| a.first()).unwrap();
    assert_eq!(from.name(), Some("Ban chỉ đạo CCHC (Sở Nội vụ)"));
    assert_eq!(from.address(), Some("cchc@example.gov.vn"));
    let reply_to = parsed.reply_to().and_then(|a| a.first()).unwrap();
    assert_eq!(reply_to.name(), Some("Phòng CCHC, Sở Nội vụ"));
    assert_eq!(reply_to.address(), Some("phongcchc@example.gov.vn"));
    let text = messages[0].text();
    assert!(
        text.contains("Mọi thắc mắc xin liên hệ: Phòng CCHC, 024 3825 0000"),
        "{text}"
    );
    assert!(text.contains("please contact: Phòng CCHC, 024 3825 0000"));
    let html = parsed.body_html(0).unwrap();
    assert!(html.contains("Mọi thắc mắc xin liên hệ"), "{html}");
}

#[tokio::test]
async fn the_closing_date_in_an_invitation_is_the_day_in_the_configured_time_zone() {
    let app = spawn_app().await;
    let round = draft_round(&app, 1);
    // 30 June 2027 20:00 UTC: still the 30th in UTC, already 1 July in Vietnam.
    let closes = chrono::NaiveDate::from_ymd_opt(2027, 6, 30)
        .unwrap()
        .and_hms_opt(20, 0, 0)
        .unwrap();
    {
        use diesel::prelude::*;
        use khaosat::db::schema::rounds as r;
        let mut conn = app.pool.get().unwrap();
        diesel::update(r::table.find(round))
            .set(r::closes_at.eq(Some(closes)))
            .execute(&mut conn)
            .unwrap();
    }
    let sink = SmtpSink::start();
    let run = send_invitations_with(&app, &sink, round, 120, &[("KHAOSAT_TIME_ZONE", "UTC")])
        .wait_with_output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let messages = sink.wait_for(1, Duration::from_secs(10));
    let text = messages[0].text();
    assert!(text.contains("Hạn trả lời: 30/06/2027."), "{text}");
    assert!(text.contains("Please answer by 30 June 2027."), "{text}");
    assert!(!text.contains("01/07/2027"), "not Vietnam's day: {text}");
}
