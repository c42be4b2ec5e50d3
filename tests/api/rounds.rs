//! Survey rounds: creation and configuration, lifecycle, respondent lists, access codes,
//! e-mail invitations through a real SMTP server on loopback, reminders, open links and
//! coverage.

use khaosat::domain::access_code::CodeState;
use std::collections::HashMap;
use std::time::Duration;

use diesel::prelude::*;
use khaosat::app::rounds::{self, Actor};
use khaosat::db::schema::{access_codes, instruments, mail_outbox, methodologies, response_counts};
use khaosat::domain::access_code::AccessCode;
use khaosat::domain::account::Role;
use khaosat::domain::local_time::TimeZone;

use crate::helpers::{TestApp, spawn_app, spawn_app_with};
use crate::smtp::SmtpSink;

pub const ADMIN: Actor<'static> = Actor {
    user_id: None,
    label: "test",
    role: khaosat::domain::account::Role::Admin,
};

fn id_of(app: &TestApp, instrument: &str, methodology: &str) -> (i64, i64) {
    let mut conn = app.pool.get().unwrap();
    let i = instruments::table
        .filter(instruments::code.eq(instrument))
        .select(instruments::id)
        .first(&mut conn)
        .unwrap();
    let m = methodologies::table
        .filter(methodologies::code.eq(methodology))
        .select(methodologies::id)
        .first(&mut conn)
        .unwrap();
    (i, m)
}

fn unit_codes(app: &TestApp, set: &str) -> Vec<String> {
    let mut conn = app.pool.get().unwrap();
    let set = khaosat::db::units::set_by_code(&mut conn, set)
        .unwrap()
        .unwrap();
    khaosat::db::units::units_of_set(&mut conn, set.id)
        .unwrap()
        .into_iter()
        .map(|u| u.code)
        .collect()
}

fn respondents_csv(n: usize, units: &[String]) -> String {
    let mut csv = String::from("name,email,phone,unit,group,position,level\n");
    for i in 0..n {
        let unit = &units[i % units.len()];
        csv.push_str(&format!(
            "Người trả lời {i},r{i}@sonoivu.gov.vn,09123{i:05},{unit},leader,Giám đốc sở,tỉnh\n"
        ));
    }
    csv
}

pub fn secret(app: &TestApp) -> khaosat::app::auth::tokens::SecretKey {
    let mut conn = app.pool.get().unwrap();
    let settings = khaosat::app::config::Settings::for_database(app._db.database_url());
    khaosat::server::startup::load_secret(&mut conn, &settings).unwrap()
}

/// A draft round on the 2025 units with the leader group configured and `n` respondents.
pub fn draft_round(app: &TestApp, n: usize) -> i64 {
    let mut conn = app.pool.get().unwrap();
    let input = rounds::NewRoundInput {
        year: 2025,
        name_vi: "Khảo sát CCHC 2025".into(),
        name_en: "PAR survey 2025".into(),
        unit_set_code: rounds::UNITS_2025.into(),
        opens_at: None,
        closes_at: None,
    };
    let round = rounds::create_round(&mut conn, &input, ADMIN).unwrap();
    let (instrument, methodology) = id_of(app, "par-leader", "par-2022");
    rounds::set_group(&mut conn, round, "leader", instrument, methodology, ADMIN).unwrap();
    if n > 0 {
        let csv = respondents_csv(n, &unit_codes(app, rounds::UNITS_2025));
        assert_eq!(
            rounds::import_respondents(&mut conn, round, "list.csv", csv.as_bytes(), ADMIN)
                .unwrap(),
            n
        );
    }
    round
}

/// The code in a message's link `…/s/{code}`.
pub fn code_in(text: &str) -> AccessCode {
    let start = text.find("/s/").expect("a link") + 3;
    let code: String = text[start..]
        .chars()
        .take_while(char::is_ascii_alphanumeric)
        .collect();
    AccessCode::parse(&code).expect("a valid code in the link")
}

#[tokio::test]
async fn the_bundled_unit_lists_load_with_the_2025_lineage() {
    let app = spawn_app().await;
    assert_eq!(unit_codes(&app, rounds::PROVINCES_2023).len(), 63);
    assert_eq!(unit_codes(&app, rounds::UNITS_2025).len(), 34);
    let mut conn = app.pool.get().unwrap();
    let set = khaosat::db::units::set_by_code(&mut conn, rounds::UNITS_2025)
        .unwrap()
        .unwrap();
    let lineage = khaosat::db::units::lineage_of_set(&mut conn, set.id).unwrap();
    assert_eq!(
        lineage.len(),
        63,
        "every 2023 province is absorbed by one 2025 unit"
    );
    assert_eq!(
        rounds::load_reference_units(&mut conn).unwrap(),
        0,
        "loaded once"
    );
}

#[tokio::test]
async fn an_admin_creates_a_round_imports_100_respondents_and_every_invitation_arrives_once_with_a_working_link()
 {
    let sink = SmtpSink::start();
    let app = spawn_app_with(|s| {
        s.smtp_url = Some(sink.url());
        s.smtp_from = Some("khaosat <khaosat@sonoivu.gov.vn>".into());
    })
    .await;
    app.login_as("admin@sonoivu.gov.vn", Role::Admin).await;

    // Create the round through the form.
    let created = app
        .submit(
            "/admin/rounds",
            "/admin/rounds",
            &[
                ("year", "2025"),
                ("name_vi", "Khảo sát CCHC 2025"),
                ("name_en", "PAR survey 2025"),
                ("unit_set", rounds::UNITS_2025),
                ("opens_at", ""),
                ("closes_at", ""),
            ],
        )
        .await;
    assert_eq!(created.status(), 303);
    let location = created.headers()["location"].to_str().unwrap().to_owned();
    let round: i64 = location
        .trim_start_matches("/admin/rounds/")
        .split('?')
        .next()
        .unwrap()
        .parse()
        .unwrap();

    let (instrument, methodology) = id_of(&app, "par-leader", "par-2022");
    let page = format!("/admin/rounds/{round}");
    let configured = app
        .submit(
            &page,
            &format!("{page}/groups"),
            &[
                ("group", "leader"),
                ("instrument_id", &instrument.to_string()),
                ("methodology_id", &methodology.to_string()),
            ],
        )
        .await;
    assert_eq!(configured.status(), 303);

    let csv = respondents_csv(100, &unit_codes(&app, rounds::UNITS_2025));
    // Checked and previewed first, then imported as previewed.
    let imported =
        crate::respondent_import::import_list(&app, &page, "danh-sach.csv", csv.into_bytes()).await;
    assert_eq!(imported.status(), 303);
    assert!(
        app.get_html(&page)
            .await
            .contains("100 người trong danh sách.")
    );

    let sent = app.submit(&page, &format!("{page}/invitations"), &[]).await;
    assert_eq!(sent.status(), 303);

    let messages = sink.wait_for(100, Duration::from_secs(60));
    std::thread::sleep(Duration::from_millis(500)); // anything extra would arrive now
    let messages_after = sink.messages();
    assert_eq!(
        messages_after.len(),
        100,
        "exactly one message per respondent"
    );
    let mut per_recipient: HashMap<String, usize> = HashMap::new();
    let secret = secret(&app);
    let mut conn = app.pool.get().unwrap();
    for m in &messages {
        for to in &m.to {
            *per_recipient.entry(to.clone()).or_default() += 1;
        }
        let text = m.text();
        assert!(text.contains(&format!("{}/s/", app.address)), "{text}");
        let code = code_in(&text);
        let stored =
            khaosat::db::access_codes::by_hash(&mut conn, &rounds::code_hash(&secret, &code))
                .unwrap();
        assert!(
            stored.is_some_and(|c| c.state == khaosat::domain::access_code::CodeState::Issued),
            "the link's code opens this round"
        );
        assert!(text.contains("Kính gửi") && text.contains("Dear"));
    }
    assert_eq!(per_recipient.len(), 100);
    assert!(per_recipient.values().all(|&n| n == 1));
    // Once delivered, the stored bodies (which held the codes) are erased.
    let bodies: Vec<String> = mail_outbox::table
        .select(mail_outbox::body_text)
        .load(&mut conn)
        .unwrap();
    assert!(bodies.iter().all(String::is_empty));
}

#[tokio::test]
async fn killing_the_sender_halfway_and_restarting_delivers_the_rest_without_duplicates() {
    let app = spawn_app().await;
    let round = draft_round(&app, 60);
    let sink = SmtpSink::start();
    sink.hold_after(25);
    let run = || {
        std::process::Command::new(env!("CARGO_BIN_EXE_khaosat"))
            .args(["round", "send-invitations", &round.to_string()])
            .env("DATABASE_URL", app._db.url())
            .env("SMTP_URL", sink.url())
            .env("SMTP_FROM", "khaosat@sonoivu.gov.vn")
            .env("KHAOSAT_MAIL_LEASE_SECONDS", "2")
            .env("RUST_LOG", "warn")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    let mut first = run();
    // Wait until 25 messages are in and the sender is held before the 26th (nothing half-sent).
    let start = std::time::Instant::now();
    while !sink.is_holding() && start.elapsed() < Duration::from_secs(60) {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(sink.is_holding(), "the sender reached the hold point");
    first.kill().unwrap();
    first.wait().unwrap();
    assert_eq!(sink.messages().len(), 25);
    sink.release();
    // The killed sender's claimed messages are taken over once its lease (2 s) runs out.
    std::thread::sleep(Duration::from_millis(2100));
    let second = run().wait_with_output().unwrap();
    assert!(
        second.status.success(),
        "{}",
        String::from_utf8_lossy(&second.stderr)
    );
    let messages = sink.wait_for(60, Duration::from_secs(30));
    let mut recipients: Vec<String> = messages.iter().flat_map(|m| m.to.clone()).collect();
    assert_eq!(
        recipients.len(),
        60,
        "{}",
        String::from_utf8_lossy(&second.stdout)
    );
    recipients.sort();
    recipients.dedup();
    assert_eq!(recipients.len(), 60, "no duplicates");
}

#[tokio::test]
async fn a_reminder_goes_only_to_those_who_have_not_responded() {
    let app = spawn_app().await;
    let round = draft_round(&app, 10);
    let secret = secret(&app);
    let mut conn = app.pool.get().unwrap();
    rounds::apply_action(
        &mut conn,
        round,
        khaosat::domain::lifecycle::RoundAction::Open,
        ADMIN,
    )
    .unwrap();
    assert_eq!(
        rounds::queue_invitations(
            &mut conn,
            &secret,
            "http://x",
            TimeZone::default(),
            round,
            ADMIN
        )
        .unwrap(),
        10
    );
    // Four respond.
    let ids: Vec<i64> = access_codes::table
        .order(access_codes::id)
        .select(access_codes::id)
        .load(&mut conn)
        .unwrap();
    for id in &ids[..4] {
        khaosat::db::access_codes::set_state(&mut conn, *id, CodeState::Issued, CodeState::Used)
            .unwrap();
    }
    let policy = khaosat::domain::reminders::ReminderPolicy {
        max_reminders: 2,
        min_days_between: 7,
    };
    let now = khaosat::db::now();
    assert_eq!(
        rounds::queue_reminders(
            &mut conn,
            &secret,
            "http://x",
            TimeZone::default(),
            round,
            &policy,
            now,
            ADMIN
        )
        .unwrap(),
        0,
        "too soon"
    );
    let later = now + chrono::Duration::days(8);
    assert_eq!(
        rounds::queue_reminders(
            &mut conn,
            &secret,
            "http://x",
            TimeZone::default(),
            round,
            &policy,
            later,
            ADMIN
        )
        .unwrap(),
        6
    );
    assert_eq!(
        rounds::queue_reminders(
            &mut conn,
            &secret,
            "http://x",
            TimeZone::default(),
            round,
            &policy,
            later,
            ADMIN
        )
        .unwrap(),
        0,
        "not twice"
    );

    let sink = SmtpSink::start();
    let mut settings = khaosat::app::config::Settings::for_database(app._db.database_url());
    settings.smtp_url = Some(sink.url());
    let mailer = khaosat::app::mail::Mailer::from_settings(&settings)
        .unwrap()
        .unwrap();
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
    let reminded: Vec<String> = sink
        .messages()
        .into_iter()
        .filter(|m| m.text().contains("Chúng tôi chưa nhận được"))
        .flat_map(|m| m.to)
        .collect();
    assert_eq!(reminded.len(), 6);
    for responded in [
        "r0@sonoivu.gov.vn",
        "r1@sonoivu.gov.vn",
        "r2@sonoivu.gov.vn",
        "r3@sonoivu.gov.vn",
    ] {
        assert!(
            !reminded.contains(&responded.to_owned()),
            "{responded} responded and is not reminded"
        );
    }
}

#[tokio::test]
async fn the_coverage_page_shows_the_right_counts_after_some_responses() {
    let app = spawn_app().await;
    app.login_as("admin@sonoivu.gov.vn", Role::Admin).await;
    let round = draft_round(&app, 68); // two per unit
    let secret = secret(&app);
    let mut conn = app.pool.get().unwrap();
    rounds::set_group_target(&mut conn, round, "leader", 3, ADMIN).unwrap();
    let codes = rounds::issue_codes(&mut conn, &secret, round, false, None, ADMIN).unwrap();
    assert_eq!(codes.len(), 68);
    // Ha Noi (first unit in code order): one started, two completed.
    let units = khaosat::db::rounds::units(&mut conn, round).unwrap();
    let first = &units[0];
    let group = khaosat::db::rounds::group_id(&mut conn, "leader")
        .unwrap()
        .unwrap();
    let first_codes: Vec<i64> = access_codes::table
        .filter(access_codes::unit_id.eq(first.id))
        .select(access_codes::id)
        .load(&mut conn)
        .unwrap();
    khaosat::db::access_codes::set_state(
        &mut conn,
        first_codes[0],
        CodeState::Issued,
        CodeState::Started,
    )
    .unwrap();
    khaosat::db::access_codes::set_state(
        &mut conn,
        first_codes[1],
        CodeState::Issued,
        CodeState::Used,
    )
    .unwrap();
    diesel::insert_into(response_counts::table)
        .values((
            response_counts::round_id.eq(round),
            response_counts::unit_id.eq(first.id),
            response_counts::group_id.eq(group),
            response_counts::responses.eq(2_i64),
        ))
        .execute(&mut conn)
        .unwrap();

    let rows = rounds::coverage(&mut conn, round).unwrap();
    assert_eq!(rows.len(), 34);
    let row = rows.iter().find(|r| r.unit_code == first.code).unwrap();
    assert_eq!(
        (
            row.target,
            row.listed,
            row.invited,
            row.started,
            row.completed
        ),
        (3, 2, 2, 2, 2)
    );
    assert!(row.behind_target());

    let html = app
        .get_html(&format!("/admin/rounds/{round}/coverage?sort=completed"))
        .await;
    assert!(html.contains(&first.name_vi));
    assert!(
        html.contains("66,7 %"),
        "2 of a target of 3, with a decimal comma"
    );
    let csv = app
        .get(&format!("/admin/rounds/{round}/coverage?format=csv"))
        .await
        .bytes()
        .await
        .unwrap();
    let mut reader = csv::Reader::from_reader(&csv[3..]);
    let records: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(records.len(), 34);
    let line = records
        .iter()
        .find(|r| &r[0] == first.code.as_str())
        .unwrap();
    assert_eq!((&line[3], &line[7], &line[8]), ("3", "2", "66.7"));
}

#[tokio::test]
async fn a_respondent_file_with_bad_rows_reports_every_row_and_imports_nothing() {
    let app = spawn_app().await;
    app.login_as("admin@sonoivu.gov.vn", Role::Admin).await;
    let round = draft_round(&app, 1);
    let units = unit_codes(&app, rounds::UNITS_2025);
    let csv = format!(
        "name,email,phone,unit,group,position,level\n\
         An,an@sonoivu.gov.vn,0912345678,{u},leader,,\n\
         Bình,an@sonoivu.gov.vn,0912345679,{u},leader,,\n\
         Chi,chi@@sonoivu,0912345670,{u},leader,,\n\
         Dũng,dung@sonoivu.gov.vn,0912345671,atlantis,leader,,\n\
         Giang,giang@sonoivu.gov.vn,0912345672,{u},aliens,,\n\
         =HYPERLINK(\"http://evil\"),h@sonoivu.gov.vn,,{u},leader,,\n\
         Lan,r0@sonoivu.gov.vn,,{u},leader,,\n",
        u = units[0]
    );
    let page = format!("/admin/rounds/{round}");
    let response = app
        .upload(
            &page,
            &format!("{page}/respondents"),
            "xau.csv",
            csv.into_bytes(),
        )
        .await;
    assert_eq!(response.status(), 422);
    let html = response.text().await.unwrap();
    // Reported in the admin's language, Vietnamese by default.
    for row in ["dòng 3", "dòng 4", "dòng 5", "dòng 6", "dòng 7"] {
        assert!(
            html.contains(&format!("xau.csv {row}")),
            "{row} reported: {html}"
        );
    }
    let mut conn = app.pool.get().unwrap();
    assert_eq!(
        khaosat::db::respondents::count_in_round(&mut conn, round).unwrap(),
        1,
        "nothing imported"
    );
    // An address already in the round is reported too (the in-file rows being fine).
    let dup = format!(
        "name,email,phone,unit,group,position,level\nLan,r0@sonoivu.gov.vn,,{},leader,,\n",
        units[0]
    );
    let response = app
        .upload(
            &page,
            &format!("{page}/respondents"),
            "dup.csv",
            dup.into_bytes(),
        )
        .await;
    assert_eq!(response.status(), 422);
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("đã được mời tham gia đợt khảo sát này")
    );
}

#[tokio::test]
async fn a_non_utf8_respondent_file_is_refused_with_advice() {
    let app = spawn_app().await;
    app.login_as("admin@sonoivu.gov.vn", Role::Admin).await;
    let round = draft_round(&app, 0);
    let mut bytes = b"name,email,phone,unit,group,position,level\nNguy".to_vec();
    bytes.extend_from_slice(&[0xE1, 0xBB]); // a cut-off UTF-8 sequence, as Windows-1258 files produce
    bytes.extend_from_slice(b"n,a@b.vn,,x,leader,,\n");
    let page = format!("/admin/rounds/{round}");
    let response = app
        .upload(&page, &format!("{page}/respondents"), "cp1258.csv", bytes)
        .await;
    assert_eq!(response.status(), 422);
    assert!(response.text().await.unwrap().contains("UTF-8"));
}

#[tokio::test]
async fn a_round_without_a_questionnaire_cannot_open_and_closing_before_opening_is_refused() {
    let app = spawn_app().await;
    let mut conn = app.pool.get().unwrap();
    let mut input = rounds::NewRoundInput {
        year: 2025,
        name_vi: "Đợt thử".into(),
        name_en: String::new(),
        unit_set_code: rounds::UNITS_2025.into(),
        opens_at: None,
        closes_at: None,
    };
    let round = rounds::create_round(&mut conn, &input, ADMIN).unwrap();
    let err = rounds::apply_action(
        &mut conn,
        round,
        khaosat::domain::lifecycle::RoundAction::Open,
        ADMIN,
    )
    .unwrap_err();
    assert!(
        err.to_string()
            .contains("no respondent group has a questionnaire"),
        "{err}"
    );
    let now = khaosat::db::now();
    input.opens_at = Some(now);
    input.closes_at = Some(now - chrono::Duration::days(1));
    let err = rounds::create_round(&mut conn, &input, ADMIN).unwrap_err();
    assert!(
        err.to_string()
            .contains("closing time is before the opening time"),
        "{err}"
    );
}

#[tokio::test]
async fn an_action_the_round_s_state_refuses_is_explained_in_the_readers_language() {
    let app = spawn_app().await;
    let round = draft_round(&app, 0);
    app.login_as("admin@sonoivu.gov.vn", Role::Admin).await;
    let response = app
        .get(&format!("/admin/rounds/{round}/actions/close"))
        .await;
    assert_eq!(response.status(), 422, "a draft round cannot be closed");
    let page = response.text().await.unwrap();
    assert!(
        page.contains(
            "Không thể thực hiện “Đóng đợt khảo sát” khi đợt khảo sát đang ở trạng thái “Bản nháp”."
        ),
        "{page}"
    );
    assert!(
        !page.contains("cannot be closed"),
        "no English on a Vietnamese page"
    );

    let mut conn = app.pool.get().unwrap();
    let err = rounds::apply_action(
        &mut conn,
        round,
        khaosat::domain::lifecycle::RoundAction::Publish,
        ADMIN,
    )
    .unwrap_err();
    assert_eq!(
        err.messages(khaosat::i18n::Lang::En).unwrap(),
        ["“Publish the results” is not possible while the round is “Draft”."]
    );
}

#[tokio::test]
async fn a_methodology_that_does_not_fit_the_questionnaire_is_refused() {
    let app = spawn_app().await;
    let round = draft_round(&app, 0);
    let (sipas_instrument, par) = id_of(&app, "sipas", "par-2022");
    let mut conn = app.pool.get().unwrap();
    let err =
        rounds::set_group(&mut conn, round, "leader", sipas_instrument, par, ADMIN).unwrap_err();
    assert!(
        err.to_string().contains("is for the group 'citizen'"),
        "{err}"
    );
}

#[tokio::test]
async fn a_methodology_scoring_an_item_the_questionnaire_lacks_is_refused_in_the_readers_language()
{
    let app = spawn_app().await;
    let round = draft_round(&app, 0);
    let (leader_instrument, _) = id_of(&app, "par-leader", "par-2022");
    let text = include_str!("../../assets/methodologies/par-2022.toml")
        .replacen("version = 1", "version = 2", 1)
        .replacen("{ item = \"c1_01\"", "{ item = \"c1_99\"", 1);
    let line = text
        .lines()
        .position(|l| l.contains("\"c1_99\""))
        .expect("the renamed item")
        + 1;
    let mut conn = app.pool.get().unwrap();
    let checked = khaosat::app::catalog::check_methodology("upload.toml", text.as_bytes()).unwrap();
    let v2 =
        khaosat::app::catalog::import_methodology(&mut conn, "upload.toml", &checked, false, ADMIN)
            .unwrap()
            .id();
    let err =
        rounds::set_group(&mut conn, round, "leader", leader_instrument, v2, ADMIN).unwrap_err();
    let rounds::RoundError::MethodologyMisfit(misfit) = &err else {
        panic!("expected a misfit, got {err}");
    };
    let location = format!("par-2022-v2.toml:{line}: group[leader].item[c1_99]: ");
    let vi = misfit.text(khaosat::i18n::Lang::Vi);
    assert!(
        vi.starts_with("phương pháp par-2022 v2 không khớp với bảng hỏi par-leader v1:\n")
            && vi.contains(&format!(
                "{location}câu hỏi \"c1_99\" không phải là câu hỏi được chấm điểm của bảng hỏi"
            )),
        "{vi}"
    );
    assert!(
        err.to_string().contains(&format!(
            "{location}item \"c1_99\" is not a scorable item of the instrument"
        )),
        "{err}"
    );
}

#[tokio::test]
async fn opening_freezes_the_configuration_and_is_audited_and_coordinators_cannot_open() {
    let app = spawn_app().await;
    app.login_as("coord@sonoivu.gov.vn", Role::Coordinator)
        .await;
    let round = draft_round(&app, 0);
    let page = format!("/admin/rounds/{round}");
    assert_eq!(
        app.submit(&page, &format!("{page}/actions/open"), &[])
            .await
            .status(),
        403
    );
    let mut conn = app.pool.get().unwrap();
    rounds::apply_action(
        &mut conn,
        round,
        khaosat::domain::lifecycle::RoundAction::Open,
        ADMIN,
    )
    .unwrap();
    assert_eq!(
        khaosat::db::audit::count_action(&mut conn, "round:open").unwrap(),
        1
    );
    let (i, m) = id_of(&app, "par-leader", "par-2022");
    let err = rounds::set_group(&mut conn, round, "leader", i, m, ADMIN).unwrap_err();
    assert!(err.to_string().contains("can no longer change"), "{err}");
}

#[tokio::test]
async fn printed_code_sheets_show_each_code_once_and_the_csv_reads_back() {
    let app = spawn_app().await;
    app.login_as("admin@sonoivu.gov.vn", Role::Admin).await;
    let round = draft_round(&app, 5);
    let page = format!("/admin/rounds/{round}");
    let sheet = app
        .submit(
            &page,
            &format!("{page}/codes"),
            &[("unit_id", ""), ("format", "sheet")],
        )
        .await;
    assert_eq!(sheet.status(), 200);
    assert_eq!(sheet.headers()["cache-control"], "no-store");
    let html = sheet.text().await.unwrap();
    assert_eq!(html.matches("class=\"slip\"").count(), 5);
    assert_eq!(html.matches("<svg").count(), 5, "a QR code per slip");
    let codes: Vec<AccessCode> = html
        .split("class=\"slip-code\">")
        .skip(1)
        .map(|s| AccessCode::parse(&s[..s.find('<').unwrap()]).unwrap())
        .collect();
    assert_eq!(codes.len(), 5);
    // Everyone has a code now: a second issue gives none, and says so instead of handing
    // out an empty file (changed on purpose: an empty CSV left administrators guessing).
    let again = app
        .submit(
            &page,
            &format!("{page}/codes"),
            &[("unit_id", ""), ("format", "csv")],
        )
        .await;
    assert_eq!(again.status(), 422);
    assert!(
        again
            .text()
            .await
            .unwrap()
            .contains("Mọi người trong danh sách đã có mã")
    );
}

#[tokio::test]
async fn an_open_link_hands_each_visitor_a_code_only_while_the_round_is_open() {
    // The quota now counts completed responses, not codes handed out (see tests/api/codes.rs):
    // pressing start shows the visitor their code instead of using up a place.
    let app = spawn_app().await;
    let round = draft_round(&app, 0);
    let secret = secret(&app);
    let mut conn = app.pool.get().unwrap();
    let (sipas, sipas_m) = id_of(&app, "sipas", "sipas-2023");
    rounds::set_group(&mut conn, round, "citizen", sipas, sipas_m, ADMIN).unwrap();
    let unit = khaosat::db::rounds::units(&mut conn, round).unwrap()[0].id;
    let token =
        rounds::set_open_link(&mut conn, &secret, round, unit, "citizen", 2, ADMIN).unwrap();
    let path = format!("/o/{token}");
    // Not open yet.
    assert_eq!(app.get(&path).await.status(), 410);
    rounds::apply_action(
        &mut conn,
        round,
        khaosat::domain::lifecycle::RoundAction::Open,
        ADMIN,
    )
    .unwrap();
    for _ in 0..3 {
        let response = app.submit(&path, &path, &[]).await;
        assert_eq!(response.status(), 200);
        let html = response.text().await.unwrap();
        let start = html.find("href=\"/s/").unwrap() + "href=\"/s/".len();
        AccessCode::parse(&html[start..start + 10]).unwrap();
    }
    let issued: i64 = access_codes::table
        .filter(access_codes::kind.eq("open_link"))
        .filter(access_codes::expires_at.is_not_null())
        .count()
        .get_result(&mut conn)
        .unwrap();
    assert_eq!(issued, 3, "every code handed out expires");
}

#[tokio::test]
async fn a_custom_unit_list_imports_and_bad_rows_are_named() {
    let app = spawn_app().await;
    app.login_as("admin@sonoivu.gov.vn", Role::Admin).await;
    let good = "code,name_vi,name_en,region_code,region_vi,region_en,kind\nBTP,Bộ Tư pháp,Ministry of Justice,,,,ministry\nBNV,Bộ Nội vụ,Ministry of Home Affairs,,,,ministry\n";
    let form = |code: &str, bytes: Vec<u8>, file: &str| {
        reqwest::multipart::Form::new()
            .text("code", code.to_owned())
            .text("name", "Các bộ".to_owned())
            .part(
                "file",
                reqwest::multipart::Part::bytes(bytes).file_name(file.to_owned()),
            )
    };
    let token = crate::helpers::csrf_from(&app.get_html("/admin/units").await);
    let ok = app
        .client
        .post(app.url("/admin/units"))
        .multipart(
            form("bo-nganh", good.as_bytes().to_vec(), "bo.csv").text("csrf_token", token.clone()),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 303);
    assert!(app.get_html("/admin/units").await.contains("bo-nganh"));
    let bad = "code,name_vi,name_en,region_code,region_vi,region_en,kind\nBTP,Bộ Tư pháp,Ministry of Justice,,,,ministry\nBTP,@cmd,x,,,,ministry\n";
    let refused = app
        .client
        .post(app.url("/admin/units"))
        .multipart(form("bo-2", bad.as_bytes().to_vec(), "bo2.csv").text("csrf_token", token))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 422);
    let html = refused.text().await.unwrap();
    assert!(html.contains("bo2.csv dòng 3"), "{html}");
    assert!(!app.get_html("/admin/units").await.contains("bo-2"));
}

#[tokio::test]
async fn an_opted_out_respondent_is_never_mailed_again() {
    let app = spawn_app().await;
    let round = draft_round(&app, 3);
    let secret = secret(&app);
    let mut conn = app.pool.get().unwrap();
    rounds::apply_action(
        &mut conn,
        round,
        khaosat::domain::lifecycle::RoundAction::Open,
        ADMIN,
    )
    .unwrap();
    rounds::queue_invitations(
        &mut conn,
        &secret,
        "http://x",
        TimeZone::default(),
        round,
        ADMIN,
    )
    .unwrap();
    let first = khaosat::db::respondents::invitation_statuses(&mut conn, round).unwrap()[0].clone();
    let path = format!(
        "/optout/{}",
        rounds::opt_out_token(&secret, first.invitation_id)
    );
    assert!(
        app.get_html(&path).await.contains("Ngừng nhận thư"),
        "a GET only asks"
    );
    assert_eq!(app.submit(&path, &path, &[]).await.status(), 200);
    let forged = format!(
        "/optout/{}.000000000000000000000000",
        first.invitation_id + 1
    );
    assert_eq!(app.submit(&forged, &forged, &[]).await.status(), 404);
    let policy = khaosat::domain::reminders::ReminderPolicy {
        max_reminders: 2,
        min_days_between: 7,
    };
    let later = khaosat::db::now() + chrono::Duration::days(8);
    assert_eq!(
        rounds::queue_reminders(
            &mut conn,
            &secret,
            "http://x",
            TimeZone::default(),
            round,
            &policy,
            later,
            ADMIN
        )
        .unwrap(),
        2
    );
    let cancelled: i64 = mail_outbox::table
        .filter(mail_outbox::status.eq("cancelled"))
        .count()
        .get_result(&mut conn)
        .unwrap();
    assert_eq!(cancelled, 1, "the queued invitation was cancelled");
}

#[tokio::test]
async fn a_coordinator_sees_the_coverage_of_their_own_units_only() {
    let app = spawn_app().await;
    app.login_as("coord@sonoivu.gov.vn", Role::Coordinator)
        .await;
    let round = draft_round(&app, 34);
    let mut conn = app.pool.get().unwrap();
    let units = khaosat::db::rounds::units(&mut conn, round).unwrap();
    let user = khaosat::db::users::by_email(&mut conn, "coord@sonoivu.gov.vn")
        .unwrap()
        .unwrap();
    khaosat::db::users::add_unit(&mut conn, user.id, units[3].id).unwrap();
    let csv = app
        .get(&format!("/admin/rounds/{round}/coverage?format=csv"))
        .await
        .bytes()
        .await
        .unwrap();
    let mut reader = csv::Reader::from_reader(&csv[3..]);
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 1);
    assert_eq!(&rows[0][0], units[3].code.as_str());
}
