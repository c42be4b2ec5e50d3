//! The question features that came with XLSForm (calculate, note, default, appearance,
//! choice_filter, required_message, `${code}` placeholders) on the respondent's pages: what
//! the page shows, what the server computes and refuses, and what is stored.

use diesel::prelude::*;
use khaosat::app::catalog::{check_instrument, import_instrument};
use khaosat::app::rounds::Actor;
use khaosat::db::schema::responses;
use khaosat::domain::account::Role;

use crate::helpers::spawn_app;
use crate::respond::{fill, location, open_round_with_instrument, post_page, submit_review};

const ADMIN: Actor<'static> = Actor {
    user_id: None,
    label: "test",
    role: Role::Admin,
};

/// The bundled leader questionnaire as version 2, with one more section that uses every
/// feature. Its new questions are not scored, so the leader methodology still fits.
fn leader_with_features() -> String {
    let leader = include_str!("../../assets/instruments/par-leader-2022.toml");
    let leader = leader.replacen("version = 1", "version = 2", 1);
    format!(
        "{leader}{}",
        r#"
[choices.province]
options = [
  { value = "01", label = { vi = "Hà Nội", en = "Ha Noi" } },
  { value = "14", label = { vi = "Sơn La", en = "Son La" } },
]

[choices.district]
options = [
  { value = "001", label = { vi = "Ba Đình", en = "Ba Dinh" }, filter = { province = "01" } },
  { value = "116", label = { vi = "Mộc Châu", en = "Moc Chau" }, filter = { province = "14" } },
]

[[sections]]
code = "s9_features"
title = { vi = "Hộ gia đình", en = "Household" }

[[sections.questions]]
code = "hh_name"
type = "text"
label = { vi = "Tên chủ hộ", en = "Head of household" }
required = true
required_message = { vi = "Xin cho biết tên chủ hộ", en = "Please name the head of household" }

[[sections.questions]]
code = "hh_province"
type = "single"
choices = "province"
label = { vi = "Tỉnh", en = "Province" }
appearance = "minimal"
default = "14"
scored = false

[[sections.questions]]
code = "hh_district"
type = "single"
choices = "district"
label = { vi = "Huyện nơi ${hh_name} sống", en = "District where ${hh_name} lives" }
choice_filter = "province = ${hh_province}"
scored = false

[[sections.questions]]
code = "hh_adults"
type = "integer"
label = { vi = "Số người lớn", en = "Adults" }

[[sections.questions]]
code = "hh_children"
type = "integer"
label = { vi = "Số trẻ em", en = "Children" }
default = "0"

[[sections.questions]]
code = "hh_size"
type = "calculate"
calculation = "${hh_adults} + ${hh_children}"

[[sections.questions]]
code = "hh_thanks"
type = "note"
label = { vi = "Cảm ơn ${hh_name}: hộ có ${hh_size} người ở ${hh_province}.", en = "Thank you ${hh_name}: ${hh_size} people in ${hh_province}." }

[[sections.questions]]
code = "hh_rating"
type = "single"
choices = "province"
label = { vi = "Đánh giá", en = "Rating" }
appearance = "likert"
relevant = "hh_size > 4"
scored = false
"#
    )
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

#[tokio::test]
async fn a_respondent_sees_the_features_and_the_server_computes_and_checks_them() {
    let app = spawn_app().await;
    let source = leader_with_features();
    let checked = check_instrument("leader-features.toml", source.as_bytes()).unwrap();
    let sections = checked.instrument.sections().to_vec();
    let last = sections.len();
    let id = {
        let mut conn = app.pool.get().unwrap();
        import_instrument(&mut conn, "leader-features.toml", &checked, false, ADMIN)
            .unwrap()
            .id()
    };
    let (_, codes) = open_round_with_instrument(&app, 1, Some(id));
    let code = codes[0].as_canonical().to_owned();
    let code = code.as_str();
    let start = app
        .submit(&format!("/s/{code}"), &format!("/s/{code}/start"), &[])
        .await;
    let mut next = location(&start);
    while !next.ends_with(&format!("/p/{last}")) {
        let n: usize = next.rsplit_once("/p/").unwrap().1.parse().unwrap();
        let mut fields = fill(&sections[n - 1], false);
        fields.push(("nav".into(), "next".into()));
        next = location(&post_page(&app, &next, &next, &fields).await);
    }

    let page = app.get_html(&next).await;
    assert!(page.contains("<select"), "minimal is a drop-down: {page}");
    assert!(
        page.contains("<option value=\"14\" selected>"),
        "the default is chosen: {page}"
    );
    assert!(
        !page.contains("name=\"hh_rating\""),
        "a question shown only for large households waits for the calculation"
    );
    assert!(
        !page.contains("name=\"hh_size\""),
        "a calculation is no field"
    );

    // Missing name, and a district of another province: both refused, in the form's words.
    let wrong = pairs(&[
        ("hh_province", "14"),
        ("hh_district", "001"),
        ("hh_adults", "2"),
        ("hh_children", "3"),
        ("nav", "next"),
    ]);
    let refused = post_page(&app, &next, &next, &wrong).await;
    assert_eq!(refused.status(), 422);
    let html = refused.text().await.unwrap();
    assert!(html.contains("Xin cho biết tên chủ hộ"), "{html}");
    assert!(
        html.contains("href=\"#q-hh_district\""),
        "the district outside the province is refused: {html}"
    );
    assert!(!html.contains("${hh_name}"), "no placeholder is shown raw");

    let right = pairs(&[
        ("hh_name", "Lò Văn Páo"),
        ("hh_province", "14"),
        ("hh_district", "116"),
        ("hh_adults", "2"),
        ("hh_children", "3"),
        ("hh_size", "999"),
        ("hh_rating", "01"),
        ("nav", "next"),
    ]);
    let accepted = post_page(&app, &next, &next, &right).await;
    assert_eq!(accepted.status(), 303);
    let again = app.get_html(&next).await;
    assert!(
        again.contains("Cảm ơn Lò Văn Páo: hộ có 5 người ở Sơn La."),
        "the note is filled from the answers: {again}"
    );
    assert!(again.contains("Huyện nơi Lò Văn Páo sống"), "{again}");
    assert!(
        again.contains("likert"),
        "the question the calculation revealed is laid out as a scale"
    );
    // Only the districts of the chosen province are offered now.
    assert!(again.contains("value=\"116\"") && !again.contains("value=\"001\""));

    let review = app.get_html(&format!("/s/{code}/review")).await;
    assert!(review.contains("Lò Văn Páo") && !review.contains("999"));
    assert_eq!(submit_review(&app, code, &review).await.status(), 303);
    let stored: String = {
        let mut conn = app.pool.get().unwrap();
        responses::table
            .select(responses::answers)
            .first(&mut conn)
            .unwrap()
    };
    let answers: serde_json::Value = serde_json::from_str(&stored).unwrap();
    assert_eq!(answers["hh_size"], 5, "computed, not posted: {stored}");
    assert_eq!(
        answers["hh_rating"], "01",
        "a condition on a calculation held"
    );
    assert!(answers.get("hh_thanks").is_none(), "a note stores nothing");
}
