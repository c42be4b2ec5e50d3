//! The respondent's journey over HTTP: entry, sections, validation, resume, conditions,
//! review, idempotent and concurrent submission, anonymity and code guessing.

use std::sync::Arc;

use diesel::prelude::*;
use khaosat::app::rounds::{self, Actor};
use khaosat::db::schema::{access_codes, drafts, responses, tallies};
use khaosat::domain::access_code::AccessCode;
use khaosat::domain::instrument::{Instrument, QuestionKind, Section};
use khaosat::domain::lifecycle::RoundAction;

use crate::helpers::{TestApp, csrf_from, spawn_app};

const ADMIN: Actor<'static> = Actor {
    user_id: None,
    label: "test",
    role: khaosat::domain::account::Role::Admin,
};

/// An open round on the 2025 units with the bundled leader questionnaire; returns `n` codes.
pub fn open_round_with_codes(app: &TestApp, n: usize) -> (i64, Vec<AccessCode>) {
    open_round_with_instrument(app, n, None)
}

/// An open round on the 2025 units whose leaders answer the stored questionnaire
/// `instrument_id` (the bundled one when `None`); returns `n` codes.
pub fn open_round_with_instrument(
    app: &TestApp,
    n: usize,
    instrument_id: Option<i64>,
) -> (i64, Vec<AccessCode>) {
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
    use khaosat::db::schema::{instruments, methodologies};
    let i: i64 = instrument_id.unwrap_or_else(|| {
        instruments::table
            .filter(instruments::code.eq("par-leader"))
            .select(instruments::id)
            .first(&mut conn)
            .unwrap()
    });
    let m: i64 = methodologies::table
        .filter(methodologies::code.eq("par-2022"))
        .select(methodologies::id)
        .first(&mut conn)
        .unwrap();
    rounds::set_group(&mut conn, round, "leader", i, m, ADMIN).unwrap();
    let unit = khaosat::db::rounds::units(&mut conn, round).unwrap()[0]
        .code
        .clone();
    let mut csv = String::from("name,email,phone,unit,group,position,level\n");
    for k in 0..n {
        csv.push_str(&format!("Người {k},p{k}@sonoivu.gov.vn,,{unit},leader,,\n"));
    }
    if n > 0 {
        rounds::import_respondents(&mut conn, round, "l.csv", csv.as_bytes(), ADMIN).unwrap();
    }
    rounds::apply_action(&mut conn, round, RoundAction::Open, ADMIN).unwrap();
    let settings = khaosat::app::config::Settings::for_database(app._db.database_url());
    let secret = khaosat::server::startup::load_secret(&mut conn, &settings).unwrap();
    let codes = rounds::issue_codes(&mut conn, &secret, round, false, None, ADMIN)
        .unwrap()
        .into_iter()
        .map(|c| c.code)
        .collect();
    (round, codes)
}

/// The bundled leader questionnaire.
pub fn leader() -> Instrument {
    Instrument::from_toml(
        include_bytes!("../../assets/instruments/par-leader-2022.toml"),
        "leader",
    )
    .unwrap()
}

/// A complete, valid answer for every question of a section (choosing "no" for yes/no, so
/// follow-ups stay hidden unless `reveal` is set).
pub fn fill(section: &Section, reveal: bool) -> Vec<(String, String)> {
    let mut fields = Vec::new();
    for q in &section.questions {
        match &q.kind {
            QuestionKind::Battery { items, .. } => {
                for item in items {
                    fields.push((item.code.clone(), "1".into()));
                }
            }
            QuestionKind::Single { choices, .. } => {
                fields.push((q.code.clone(), choices.options[0].value.clone()))
            }
            QuestionKind::Multiple { choices } => {
                fields.push((q.code.clone(), choices.options[0].value.clone()))
            }
            QuestionKind::YesNo { .. } => {
                fields.push((q.code.clone(), if reveal { "yes" } else { "no" }.into()))
            }
            QuestionKind::Integer { min, .. } => {
                fields.push((q.code.clone(), min.unwrap_or(1).max(1).to_string()))
            }
            _ => {}
        }
    }
    // A relevant follow-up (revealed by "yes") is answered too.
    fields.retain(|(code, _)| {
        reveal
            || !section
                .questions
                .iter()
                .any(|q| q.relevant.is_some() && &q.code == code)
    });
    fields
}

/// Posts `fields` to `action` with the CSRF token of `page`.
pub async fn post_page(
    app: &TestApp,
    page: &str,
    action: &str,
    fields: &[(String, String)],
) -> reqwest::Response {
    let token = csrf_from(&app.get_html(page).await);
    let mut form: Vec<(String, String)> = fields.to_vec();
    form.push(("csrf_token".into(), token));
    app.client
        .post(app.url(action))
        .form(&form)
        .send()
        .await
        .unwrap()
}

/// The bundled questionnaire of a group (`leader`, `civil_servant` or `citizen`).
pub fn bundled(group: &str) -> Instrument {
    let source: &[u8] = match group {
        "leader" => include_bytes!("../../assets/instruments/par-leader-2022.toml"),
        "civil_servant" => include_bytes!("../../assets/instruments/par-civil-servant-2022.toml"),
        "citizen" => include_bytes!("../../assets/instruments/sipas-2023.toml"),
        other => panic!("no bundled questionnaire for {other}"),
    };
    Instrument::from_toml(source, group).unwrap()
}

/// Answers every section of the leader questionnaire and returns the review page's HTML.
pub async fn answer_everything(app: &TestApp, code: &str) -> String {
    answer_everything_of(app, code, &leader()).await
}

/// Answers every section of `instrument` and returns the review page's HTML.
pub async fn answer_everything_of(app: &TestApp, code: &str, instrument: &Instrument) -> String {
    let start = app
        .submit(&format!("/s/{code}"), &format!("/s/{code}/start"), &[])
        .await;
    assert_eq!(start.status(), 303);
    // Each Next leads to the next section shown; sections whose condition does not hold are
    // skipped, so the address says which one it is.
    let mut next = location(&start);
    while let Some(n) = next
        .rsplit_once("/p/")
        .and_then(|(_, n)| n.parse::<usize>().ok())
    {
        let section = &instrument.sections()[n - 1];
        let mut fields = fill(section, false);
        fields.push(("nav".into(), "next".into()));
        let response = post_page(app, &next, &next, &fields).await;
        assert_eq!(response.status(), 303, "section {n} accepted");
        next = location(&response);
    }
    assert!(next.ends_with("/review"), "ends at the review, not {next}");
    app.get_html(&format!("/s/{code}/review")).await
}

/// The path a redirect leads to.
pub fn location(response: &reqwest::Response) -> String {
    response.headers()["location"].to_str().unwrap().to_owned()
}

/// Submits the response shown on `review` (the review page's HTML).
pub async fn submit_review(app: &TestApp, code: &str, review: &str) -> reqwest::Response {
    let token = csrf_from(review);
    let key = submission_key(review);
    app.post_form(
        &format!("/s/{code}/submit"),
        &[
            ("submission_key", key.as_str()),
            ("csrf_token", token.as_str()),
        ],
    )
    .await
}

/// A whole journey: every section answered, then submitted.
pub async fn complete_journey(app: &TestApp, code: &str) -> reqwest::Response {
    let review = answer_everything(app, code).await;
    submit_review(app, code, &review).await
}

pub fn submission_key(review: &str) -> String {
    let marker = "name=\"submission_key\" value=\"";
    let start = review.find(marker).unwrap() + marker.len();
    review[start..start + review[start..].find('"').unwrap()].to_owned()
}

#[tokio::test]
async fn a_respondent_answers_every_section_and_gets_a_receipt() {
    let app = spawn_app().await;
    let (round, codes) = open_round_with_codes(&app, 1);
    let code = codes[0].as_canonical().to_owned();
    let intro = app.get_html(&format!("/s/{code}")).await;
    assert!(
        intro.contains("Câu trả lời của Ông/Bà là ẩn danh"),
        "the first page says it plainly"
    );
    let review = answer_everything(&app, &code).await;
    assert!(review.contains("Rất tốt"));
    let token = csrf_from(&review);
    let key = submission_key(&review);
    let submitted = app
        .post_form(
            &format!("/s/{code}/submit"),
            &[
                ("submission_key", key.as_str()),
                ("csrf_token", token.as_str()),
            ],
        )
        .await;
    assert_eq!(submitted.status(), 303);
    let receipt_path = submitted.headers()["location"].to_str().unwrap().to_owned();
    let receipt = app.get_html(&receipt_path).await;
    assert!(receipt.contains("Số biên nhận"));

    let mut conn = app.pool.get().unwrap();
    assert_eq!(
        khaosat::db::responses::count_in_round(&mut conn, round).unwrap(),
        1
    );
    let tallied: i64 = tallies::table
        .filter(tallies::item_code.eq("c1_01"))
        .select(tallies::count)
        .first(&mut conn)
        .unwrap();
    assert_eq!(tallied, 1);
    assert_eq!(
        drafts::table.count().get_result::<i64>(&mut conn).unwrap(),
        0,
        "the draft is gone"
    );
    let state: String = access_codes::table
        .select(access_codes::state)
        .first(&mut conn)
        .unwrap();
    assert_eq!(state, "used");
    // The code now says so, kindly.
    let again = app.get(&format!("/s/{code}")).await;
    assert_eq!(again.status(), 410);
    assert!(again.text().await.unwrap().contains("đã được gửi"));
}

#[tokio::test]
async fn submitting_twice_keeps_one_response_and_shows_the_same_receipt() {
    let app = spawn_app().await;
    let (round, codes) = open_round_with_codes(&app, 1);
    let code = codes[0].as_canonical().to_owned();
    let review = answer_everything(&app, &code).await;
    let (token, key) = (csrf_from(&review), submission_key(&review));
    let form = [
        ("submission_key", key.as_str()),
        ("csrf_token", token.as_str()),
    ];
    let first = app.post_form(&format!("/s/{code}/submit"), &form).await;
    let second = app.post_form(&format!("/s/{code}/submit"), &form).await;
    assert_eq!(first.status(), 303);
    assert_eq!(second.status(), 303);
    assert_eq!(first.headers()["location"], second.headers()["location"]);
    let mut conn = app.pool.get().unwrap();
    assert_eq!(
        khaosat::db::responses::count_in_round(&mut conn, round).unwrap(),
        1
    );
}

#[tokio::test]
async fn twenty_parallel_submits_of_one_code_give_one_response() {
    let app = spawn_app().await;
    let (round, codes) = open_round_with_codes(&app, 1);
    let code = codes[0].as_canonical().to_owned();
    let review = answer_everything(&app, &code).await;
    let (token, key) = (csrf_from(&review), submission_key(&review));
    let app = Arc::new(app);
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let (app, code, token, key) = (app.clone(), code.clone(), token.clone(), key.clone());
        tasks.push(tokio::spawn(async move {
            let response = app
                .post_form(
                    &format!("/s/{code}/submit"),
                    &[
                        ("submission_key", key.as_str()),
                        ("csrf_token", token.as_str()),
                    ],
                )
                .await;
            (
                response.status().as_u16(),
                response
                    .headers()
                    .get("location")
                    .map(|l| l.to_str().unwrap().to_owned()),
            )
        }));
    }
    let mut receipts = Vec::new();
    for task in tasks {
        let (status, location) = task.await.unwrap();
        assert_eq!(status, 303, "every duplicate is answered with the receipt");
        receipts.push(location.unwrap());
    }
    receipts.sort();
    receipts.dedup();
    assert_eq!(receipts.len(), 1, "one receipt for all");
    let mut conn = app.pool.get().unwrap();
    assert_eq!(
        khaosat::db::responses::count_in_round(&mut conn, round).unwrap(),
        1
    );
    let counted: i64 = khaosat::db::schema::response_counts::table
        .select(khaosat::db::schema::response_counts::responses)
        .first(&mut conn)
        .unwrap();
    assert_eq!(counted, 1, "the live count saw one response");
}

#[tokio::test]
async fn a_missing_required_answer_shows_a_summary_and_an_inline_message() {
    let app = spawn_app().await;
    let (_, codes) = open_round_with_codes(&app, 1);
    let code = codes[0].as_canonical().to_owned();
    app.submit(&format!("/s/{code}"), &format!("/s/{code}/start"), &[])
        .await;
    let page = format!("/s/{code}/p/1");
    let response = post_page(&app, &page, &page, &[("nav".into(), "next".into())]).await;
    assert_eq!(response.status(), 422);
    let html = response.text().await.unwrap();
    assert!(html.contains("class=\"error-summary\""));
    assert!(
        html.contains("href=\"#q-bg_level\""),
        "the summary links to the field"
    );
    assert!(
        html.contains("id=\"bg_level-error\""),
        "the message sits beside the field"
    );
    assert!(html.contains("Hãy trả lời câu hỏi này."));
    assert!(
        html.contains("<title>Lỗi:"),
        "the title says there is an error"
    );
}

#[tokio::test]
async fn leaving_and_resuming_with_the_code_continues_where_the_respondent_stopped() {
    let app = spawn_app().await;
    let (_, codes) = open_round_with_codes(&app, 1);
    let code = codes[0].as_canonical().to_owned();
    let instrument = leader();
    app.submit(&format!("/s/{code}"), &format!("/s/{code}/start"), &[])
        .await;
    let page = format!("/s/{code}/p/1");
    let mut fields = fill(&instrument.sections()[0], false);
    fields.push(("nav".into(), "next".into()));
    assert_eq!(post_page(&app, &page, &page, &fields).await.status(), 303);

    // Another device: a fresh client with no cookies.
    let other = crate::helpers::TestApp {
        client: reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
        ..clone_app(&app)
    };
    let intro = other.get_html(&format!("/s/{code}")).await;
    assert!(intro.contains("Tiếp tục phần đang làm"));
    let resumed = other
        .submit(&format!("/s/{code}"), &format!("/s/{code}/start"), &[])
        .await;
    assert_eq!(
        resumed.headers()["location"].to_str().unwrap(),
        format!("/s/{code}/p/2")
    );
    // The first page keeps its answers.
    let first = other.get_html(&page).await;
    assert!(first.contains("checked"), "saved answers are shown again");
}

fn clone_app(app: &TestApp) -> TestApp {
    TestApp {
        address: app.address.clone(),
        client: app.client.clone(),
        jar: app.jar.clone(),
        setup_url: None,
        pool: app.pool.clone(),
        _db: crate::helpers::TestDb::sqlite(),
    }
}

#[tokio::test]
async fn a_follow_up_question_appears_when_its_condition_holds() {
    let app = spawn_app().await;
    let (_, codes) = open_round_with_codes(&app, 1);
    let code = codes[0].as_canonical().to_owned();
    let instrument = leader();
    app.submit(&format!("/s/{code}"), &format!("/s/{code}/start"), &[])
        .await;
    let (index, section) = instrument
        .sections()
        .iter()
        .enumerate()
        .find(|(_, s)| s.questions.iter().any(|q| q.relevant.is_some()))
        .unwrap();
    let follow_up = section
        .questions
        .iter()
        .find(|q| q.relevant.is_some())
        .unwrap();
    // Earlier sections first.
    for (i, s) in instrument.sections().iter().enumerate().take(index) {
        let page = format!("/s/{code}/p/{}", i + 1);
        let mut fields = fill(s, false);
        fields.push(("nav".into(), "next".into()));
        post_page(&app, &page, &page, &fields).await;
    }
    let page = format!("/s/{code}/p/{}", index + 1);
    assert!(
        !app.get_html(&page)
            .await
            .contains(&format!("name=\"{}\"", follow_up.code)),
        "hidden at first"
    );
    // Answer "yes" without the follow-up: the page comes back with the follow-up shown.
    let mut fields = fill(section, true);
    fields.retain(|(c, _)| c != &follow_up.code);
    fields.push(("nav".into(), "next".into()));
    let response = post_page(&app, &page, &page, &fields).await;
    assert_eq!(response.status(), 200);
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains(&format!("name=\"{}\"", follow_up.code))
    );
}

#[tokio::test]
async fn unknown_used_and_mistyped_codes_get_friendly_pages_and_guessing_is_throttled() {
    let app = spawn_app().await;
    let (_, codes) = open_round_with_codes(&app, 1);
    let mut typo = codes[0].as_canonical().to_owned();
    let last = typo.pop().unwrap();
    typo.push(if last == 'A' { 'B' } else { 'A' });
    let home = app.submit("/", "/s", &[("code", &typo)]).await;
    assert_eq!(home.status(), 422);
    assert!(home.text().await.unwrap().contains("có vẻ bị gõ nhầm"));
    let unknown = AccessCode::generate();
    let page = app.get(&format!("/s/{}", unknown.as_canonical())).await;
    assert_eq!(page.status(), 404);
    assert!(
        page.text()
            .await
            .unwrap()
            .contains("Không tìm thấy mã khảo sát")
    );
    for _ in 0..30 {
        app.get(&format!("/s/{}", AccessCode::generate().as_canonical()))
            .await;
    }
    let throttled = app.get(&format!("/s/{}", codes[0].as_canonical())).await;
    assert_eq!(throttled.status(), 429);
    assert!(throttled.headers().contains_key("retry-after"));
}

#[tokio::test]
async fn a_closed_round_says_so_in_the_respondents_language() {
    let app = spawn_app().await;
    let (round, codes) = open_round_with_codes(&app, 1);
    let mut conn = app.pool.get().unwrap();
    rounds::apply_action(&mut conn, round, RoundAction::Close, ADMIN).unwrap();
    app.get("/lang/en").await;
    let page = app.get(&format!("/s/{}", codes[0].as_canonical())).await;
    assert_eq!(page.status(), 403);
    assert!(page.text().await.unwrap().contains("not accepting answers"));
}

#[tokio::test]
async fn switching_language_keeps_the_answers() {
    let app = spawn_app().await;
    let (_, codes) = open_round_with_codes(&app, 1);
    let code = codes[0].as_canonical().to_owned();
    let instrument = leader();
    app.submit(&format!("/s/{code}"), &format!("/s/{code}/start"), &[])
        .await;
    let page = format!("/s/{code}/p/1");
    let mut fields = fill(&instrument.sections()[0], false);
    fields.push(("nav".into(), "next".into()));
    post_page(&app, &page, &page, &fields).await;
    app.get(&format!("/lang/en?next={page}")).await;
    let english = app.get_html(&page).await;
    assert!(english.contains("Section 1 of 5"));
    assert!(english.contains("checked"));
}

#[tokio::test]
async fn no_stored_response_column_holds_the_code_an_address_or_a_time_of_day() {
    let app = spawn_app().await;
    let (round, codes) = open_round_with_codes(&app, 1);
    let code = codes[0].as_canonical().to_owned();
    let review = answer_everything(&app, &code).await;
    let (token, key) = (csrf_from(&review), submission_key(&review));
    app.post_form(
        &format!("/s/{code}/submit"),
        &[
            ("submission_key", key.as_str()),
            ("csrf_token", token.as_str()),
        ],
    )
    .await;
    let mut conn = app.pool.get().unwrap();
    #[derive(Queryable, Debug)]
    struct Row {
        id: i64,
        receipt: String,
        submission_key: String,
        round_id: i64,
        unit_id: i64,
        group_id: i64,
        instrument_id: i64,
        submitted_on: chrono::NaiveDate,
        source: String,
        duration_seconds: Option<i32>,
        answers: String,
        flags: Option<String>,
        excluded: bool,
    }
    // This list is every column of the table: a new column fails to compile here.
    let row: Row = responses::table.first(&mut conn).unwrap();
    assert_eq!(row.round_id, round);
    let everything = format!("{row:?}");
    assert!(!everything.contains(&code), "the code is not stored");
    assert!(!everything.contains(&codes[0].to_string()));
    assert!(!everything.contains("127.0.0.1"), "no address");
    assert_ne!(row.submission_key, key, "only a hash of the submission key");
    let _ = (
        row.id,
        row.receipt,
        row.unit_id,
        row.group_id,
        row.instrument_id,
        row.source,
        row.duration_seconds,
        row.answers,
        row.flags,
        row.excluded,
    );
    // A date has no time of day by type; the table has no timestamp column at all.
    let _: chrono::NaiveDate = row.submitted_on;
}

#[tokio::test]
async fn every_form_page_weighs_under_30_kb_of_html_and_css() {
    let app = spawn_app().await;
    let (_, codes) = open_round_with_codes(&app, 1);
    let code = codes[0].as_canonical().to_owned();
    app.submit(&format!("/s/{code}"), &format!("/s/{code}/start"), &[])
        .await;
    let css = app
        .get(&khaosat::views::assets::url("app.css"))
        .await
        .bytes()
        .await
        .unwrap()
        .len();
    for n in 1..=leader().sections().len() {
        let html = app.get_html(&format!("/s/{code}/p/{n}")).await;
        assert!(
            html.len() + css < 30 * 1024,
            "section {n}: {} + {css} bytes",
            html.len()
        );
        assert!(!html.contains("<script"), "no script is needed");
        assert!(!html.contains("https://"), "no external fonts or CDN");
    }
}
