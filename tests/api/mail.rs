//! E-mail invitations and reminders as a respondent and an operator meet them: codes that keep
//! working after a reminder, interrupted sends, the sender address and the wording.

use std::time::Duration;

use khaosat::app::rounds;
use khaosat::domain::lifecycle::RoundAction;

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
        rounds::queue_invitations(&mut conn, &secret, &app.address, round, ADMIN).unwrap();
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
