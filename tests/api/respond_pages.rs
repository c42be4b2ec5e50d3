//! What a respondent reads on each page: follow-up questions that appear without an error, an
//! error summary that names each question, a progress count that keeps its total and agrees
//! with the first page, titles without a doubled colon, and no provenance notes.

use diesel::prelude::*;
use khaosat::app::rounds::{self, Actor};
use khaosat::domain::instrument::Instrument;
use khaosat::domain::lifecycle::RoundAction;

use crate::helpers::{TestApp, spawn_app};
use crate::respond::{fill, leader, open_round_with_codes, post_page, submit_review};

const ADMIN: Actor<'static> = Actor {
    user_id: None,
    label: "test",
    role: khaosat::domain::account::Role::Admin,
};

/// The bundled citizen questionnaire (SIPAS): six sections, two of which apply only to a
/// citizen who carried out a procedure ("Có" to `s_used`, section 3).
fn sipas() -> Instrument {
    Instrument::from_toml(
        include_bytes!("../../assets/instruments/sipas-2023.toml"),
        "sipas",
    )
    .unwrap()
}

/// An open 2024 round whose citizens answer the bundled SIPAS questionnaire; returns one code.
fn open_citizen_round(app: &TestApp) -> String {
    let mut conn = app.pool.get().unwrap();
    let input = rounds::NewRoundInput {
        year: 2024,
        name_vi: "Khảo sát SIPAS năm 2024".into(),
        name_en: "SIPAS survey 2024".into(),
        unit_set_code: rounds::UNITS_2025.into(),
        opens_at: None,
        closes_at: None,
    };
    let round = rounds::create_round(&mut conn, &input, ADMIN).unwrap();
    use khaosat::db::schema::{instruments, methodologies};
    let i: i64 = instruments::table
        .filter(instruments::code.eq("sipas"))
        .select(instruments::id)
        .first(&mut conn)
        .unwrap();
    let m: i64 = methodologies::table
        .filter(methodologies::code.eq("sipas-2023"))
        .select(methodologies::id)
        .first(&mut conn)
        .unwrap();
    rounds::set_group(&mut conn, round, "citizen", i, m, ADMIN).unwrap();
    let unit = khaosat::db::rounds::units(&mut conn, round).unwrap()[0]
        .code
        .clone();
    let csv = format!(
        "name,email,phone,unit,group,position,level\nNgười dân,dan@example.vn,,{unit},citizen,,\n"
    );
    rounds::import_respondents(&mut conn, round, "c.csv", csv.as_bytes(), ADMIN).unwrap();
    rounds::apply_action(&mut conn, round, RoundAction::Open, ADMIN).unwrap();
    let settings = khaosat::app::config::Settings::for_database(app._db.database_url());
    let secret = khaosat::server::startup::load_secret(&mut conn, &settings).unwrap();
    rounds::issue_codes(&mut conn, &secret, round, false, None, ADMIN).unwrap()[0]
        .code
        .as_canonical()
        .to_owned()
}

/// Posts a section's `fields` with the Next button.
async fn next(
    app: &TestApp,
    code: &str,
    n: usize,
    fields: &[(String, String)],
) -> reqwest::Response {
    let page = format!("/s/{code}/p/{n}");
    let mut fields = fields.to_vec();
    fields.push(("nav".into(), "next".into()));
    post_page(app, &page, &page, &fields).await
}

/// The "Phần n / total" line of a section page.
fn progress(html: &str) -> String {
    let marker = "class=\"progress-label\">";
    let start = html.find(marker).expect("a progress line") + marker.len();
    html[start..start + html[start..].find('<').unwrap()].to_owned()
}

/// The `<title>` of a page.
fn title(html: &str) -> String {
    let start = html.find("<title>").unwrap() + "<title>".len();
    html[start..start + html[start..].find("</title>").unwrap()].to_owned()
}

#[tokio::test]
async fn revealing_a_follow_up_shows_it_without_an_error() {
    let app = spawn_app().await;
    let code = open_citizen_round(&app);
    let instrument = sipas();
    app.submit(&format!("/s/{code}"), &format!("/s/{code}/start"), &[])
        .await;
    for (i, section) in instrument.sections().iter().enumerate().take(2) {
        assert_eq!(
            next(&app, &code, i + 1, &fill(section, false))
                .await
                .status(),
            303
        );
    }
    // "Có" to the procedure question, in the same section as its follow-up.
    let shown = next(&app, &code, 3, &[("s_used".into(), "yes".into())]).await;
    assert_eq!(
        shown.status(),
        200,
        "the page comes back to show the follow-up"
    );
    let html = shown.text().await.unwrap();
    assert!(html.contains("name=\"s_mode\""), "the follow-up is shown");
    assert!(
        !html.contains("s_mode-error"),
        "and it is not an error: {html}"
    );
    assert!(!html.contains("error-summary"), "nothing is wrong yet");
    assert!(!title(&html).starts_with("Lỗi"), "{}", title(&html));

    // Once seen, leaving it unanswered is an error like any other.
    let again = next(&app, &code, 3, &[("s_used".into(), "yes".into())]).await;
    assert_eq!(again.status(), 422);
    let html = again.text().await.unwrap();
    assert!(html.contains("id=\"s_mode-error\""));
    assert!(html.contains("href=\"#q-s_mode\""));
}

#[tokio::test]
async fn a_follow_up_revealed_next_to_a_missing_answer_is_not_an_error() {
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
    for (i, s) in instrument.sections().iter().enumerate().take(index) {
        assert_eq!(
            next(&app, &code, i + 1, &fill(s, false)).await.status(),
            303
        );
    }
    // Reveal the follow-up and leave one other required question unanswered.
    let missing = section
        .questions
        .iter()
        .find(|q| q.required && q.relevant.is_none())
        .unwrap()
        .answer_codes()[0]
        .to_owned();
    let mut fields = fill(section, true);
    fields.retain(|(c, _)| c != &follow_up.code && c != &missing);
    let response = next(&app, &code, index + 1, &fields).await;
    assert_eq!(response.status(), 422);
    let html = response.text().await.unwrap();
    assert!(html.contains(&format!("id=\"{missing}-error\"")));
    assert!(html.contains(&format!("name=\"{}\"", follow_up.code)));
    assert!(
        !html.contains(&format!("{}-error", follow_up.code)),
        "the newly shown follow-up is not an error"
    );
}

#[tokio::test]
async fn the_error_summary_names_and_links_each_unanswered_question() {
    let app = spawn_app().await;
    let (_, codes) = open_round_with_codes(&app, 1);
    let code = codes[0].as_canonical().to_owned();
    let instrument = leader();
    app.submit(&format!("/s/{code}"), &format!("/s/{code}/start"), &[])
        .await;
    let response = next(&app, &code, 1, &[]).await;
    assert_eq!(response.status(), 422);
    let html = response.text().await.unwrap();
    let start = html.find("class=\"error-summary\"").unwrap();
    let summary = &html[start..start + html[start..].find("</ul>").unwrap()];
    let mut named = 0;
    for question in instrument.sections()[0]
        .questions
        .iter()
        .filter(|q| q.required)
    {
        for field in question.answer_codes() {
            let label = match &question.kind {
                khaosat::domain::instrument::QuestionKind::Battery { items, .. } => items
                    .iter()
                    .find(|i| i.code == field)
                    .unwrap()
                    .label
                    .vi
                    .clone(),
                _ => question.label.vi.clone(),
            };
            let link = format!("href=\"#q-{field}\">");
            let at = summary
                .find(&link)
                .unwrap_or_else(|| panic!("{link} in {summary}"));
            let opening: String = label.chars().take(30).collect();
            let text = &summary[at + link.len()..];
            let text = &text[..text.find("</a>").unwrap()];
            assert!(
                maud_unescape(text).starts_with(&opening),
                "the link names '{label}': {text}"
            );
            assert!(
                text.chars().count() < 140,
                "long labels are shortened: {text}"
            );
            named += 1;
        }
    }
    assert!(named >= 2, "several questions are named");
    let page_title = title(&html);
    assert!(page_title.starts_with("Lỗi: "), "{page_title}");
    assert!(!page_title.contains("::"), "{page_title}");
}

/// The text of HTML with maud's escapes undone (labels may hold quotes or ampersands).
fn maud_unescape(text: &str) -> String {
    text.replace("&quot;", "\"")
        .replace("&amp;", "&")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
}

#[tokio::test]
async fn the_progress_count_keeps_its_total_and_agrees_with_the_first_page() {
    let app = spawn_app().await;
    let instrument = sipas();
    let total = instrument.sections().len();
    assert_eq!(total, 6);
    for reveal in [false, true] {
        let code = open_citizen_round(&app);
        let intro = app.get_html(&format!("/s/{code}")).await;
        assert!(intro.contains("Phiếu gồm 6 phần."), "{intro}");
        assert!(
            intro.contains("Phần nào không áp dụng"),
            "the first page says sections may be skipped"
        );
        app.submit(&format!("/s/{code}"), &format!("/s/{code}/start"), &[])
            .await;
        let mut n = 1;
        let mut seen = Vec::new();
        loop {
            let page = app.get_html(&format!("/s/{code}/p/{n}")).await;
            assert_eq!(progress(&page), format!("Phần {n} / 6"));
            if n == 3 {
                assert!(
                    page.contains("Phần 4, 5 không áp dụng"),
                    "the sections that do not apply (yet) are named"
                );
            }
            seen.push(n);
            let response = next(&app, &code, n, &fill(&instrument.sections()[n - 1], reveal)).await;
            assert_eq!(response.status(), 303, "section {n}");
            let to = response.headers()["location"].to_str().unwrap().to_owned();
            match to.rsplit_once("/p/") {
                Some((_, next_n)) => n = next_n.parse().unwrap(),
                None => {
                    assert!(to.ends_with("/review"));
                    break;
                }
            }
        }
        if reveal {
            assert_eq!(seen, [1, 2, 3, 4, 5, 6]);
        } else {
            assert_eq!(seen, [1, 2, 3, 6], "sections 4 and 5 are skipped");
        }
    }
}

#[tokio::test]
async fn respondent_pages_show_no_provenance_note() {
    let app = spawn_app().await;
    let code = open_citizen_round(&app);
    let instrument = sipas();
    let mut pages = vec![app.get_html(&format!("/s/{code}")).await];
    app.submit(&format!("/s/{code}"), &format!("/s/{code}/start"), &[])
        .await;
    for (i, section) in instrument.sections().iter().enumerate() {
        pages.push(app.get_html(&format!("/s/{code}/p/{}", i + 1)).await);
        assert_eq!(
            next(&app, &code, i + 1, &fill(section, true))
                .await
                .status(),
            303
        );
    }
    let review = app.get_html(&format!("/s/{code}/review")).await;
    pages.push(review.clone());
    let submitted = submit_review(&app, &code, &review).await;
    assert_eq!(submitted.status(), 303);
    let receipt = submitted.headers()["location"].to_str().unwrap().to_owned();
    pages.push(app.get_html(&receipt).await);

    let intro = &pages[0];
    assert!(intro.contains(
        "<h1>Phiếu khảo sát sự hài lòng của người dân đối với sự phục vụ của cơ quan hành chính nhà nước (SIPAS)</h1>"
    ), "{intro}");
    assert!(
        intro.contains("Khảo sát SIPAS năm 2024"),
        "the round is named"
    );
    assert!(
        intro.contains("Xin Ông/Bà cho biết"),
        "the real instructions stay"
    );
    for page in &pages {
        let lower = page.to_lowercase();
        for note in [
            "tái dựng",
            "nguồn công khai",
            "phụ lục chính thức",
            "năm 2023",
        ] {
            assert!(
                !lower.contains(note),
                "'{note}' on a respondent page: {page}"
            );
        }
        assert!(!title(page).contains("::"), "{}", title(page));
    }
}
