//! Hostile text through every input path (questionnaire labels, XLSForm cells, unit names,
//! round names, respondent names, free-text answers, file names) stays text: every page the
//! route table has is fetched as an administrator and none carries live markup, and the
//! downloads neutralise formulas and escape HTML.

use khaosat::app::rounds::{self, Actor};
use khaosat::domain::account::Role;

use crate::helpers::{TestApp, csrf_from, spawn_app};
use crate::respond::{answer_everything, fill, leader};

const ADMIN: Actor<'static> = Actor {
    user_id: None,
    label: "test",
    role: khaosat::domain::account::Role::Admin,
};

/// Script, attribute break-out, a `javascript:` URL and a right-to-left override in one.
const HOSTILE: &str = "<script>alert('xss1')</script>\"><img src=x onerror=alert('xss2')>javascript:alert('xss3')\u{202e}lmth.exe";

/// What a page must never contain: the hostile markup alive.
fn assert_inert(what: &str, html: &str) {
    for live in [
        "<script>alert(",
        "<img src=x",
        "href=\"javascript:",
        "src=\"javascript:",
    ] {
        assert!(!html.contains(live), "{what} carries live markup: {live}");
    }
}

/// A TOML string literal of `s` (escapes quotes and backslashes).
fn toml_str(s: &str) -> String {
    toml::Value::String(s.to_owned()).to_string()
}

fn hostile_instrument() -> String {
    include_str!("../../assets/instruments/par-leader-2022.toml")
        .replacen("version = 1", "version = 7", 1)
        .replacen("\"Rất tốt\"", &toml_str(HOSTILE), 1)
        .replacen(
            "\"Ông/Bà có ý kiến, đề xuất gì thêm để nâng cao hiệu quả CCHC của tỉnh?\"",
            &toml_str(HOSTILE),
            1,
        )
}

/// Sets up hostile data everywhere and returns (round, an unused code).
async fn hostile_round(app: &TestApp) -> (i64, String) {
    let uploaded = app
        .upload(
            "/admin/instruments",
            "/admin/instruments/import",
            "leader-xss.toml",
            hostile_instrument().into_bytes(),
        )
        .await;
    assert_eq!(uploaded.status(), 303, "the hostile labels are valid text");
    let xlsform = crate::catalog::xlsform_workbook_with(|v| {
        if v.starts_with("Cấp") || v == "Khảo sát thử nghiệm" || v == "Kênh thông tin" {
            HOSTILE.to_owned()
        } else {
            v.to_owned()
        }
    });
    let imported = app
        .upload(
            "/admin/instruments",
            "/admin/instruments/import",
            "form.xlsx",
            xlsform,
        )
        .await;
    assert_eq!(
        imported.status(),
        303,
        "the hostile XLSForm imports as text"
    );
    // A file refused for its content echoes its (hostile) name in the error.
    let refused = app
        .upload(
            "/admin/instruments",
            "/admin/instruments/import",
            &format!("{HOSTILE}.toml"),
            b"not = [toml".to_vec(),
        )
        .await;
    assert_inert("the upload error page", &refused.text().await.unwrap());
    let mut conn = app.pool.get().unwrap();
    let units = format!(
        "code,name_vi,name_en,region_code,region_vi,region_en,kind\nx1,{q},{q},r1,{q},{q},province\nx2,Tỉnh Hai,Province Two,r1,{q},{q},province\n",
        q = csv_quote(HOSTILE)
    );
    rounds::import_unit_set(
        &mut conn,
        "xss",
        HOSTILE,
        "units.csv",
        units.as_bytes(),
        ADMIN,
    )
    .unwrap();
    let round = rounds::create_round(
        &mut conn,
        &rounds::NewRoundInput {
            year: 2025,
            name_vi: HOSTILE.into(),
            name_en: HOSTILE.into(),
            unit_set_code: "xss".into(),
            opens_at: None,
            closes_at: None,
        },
        ADMIN,
    )
    .unwrap();
    use diesel::prelude::*;
    use khaosat::db::schema::{instruments, methodologies};
    let instrument: i64 = instruments::table
        .filter(instruments::code.eq("par-leader"))
        .filter(instruments::version.eq(7))
        .select(instruments::id)
        .first(&mut conn)
        .unwrap();
    let methodology: i64 = methodologies::table
        .filter(methodologies::code.eq("par-2022"))
        .select(methodologies::id)
        .first(&mut conn)
        .unwrap();
    rounds::set_group(&mut conn, round, "leader", instrument, methodology, ADMIN).unwrap();
    let respondents = format!(
        "name,email,phone,unit,group,position,level\n{q},a@sonoivu.gov.vn,,x1,leader,{q},\n{q},b@sonoivu.gov.vn,,x1,leader,,\n",
        q = csv_quote(HOSTILE)
    );
    rounds::import_respondents(&mut conn, round, "r.csv", respondents.as_bytes(), ADMIN).unwrap();
    rounds::apply_action(
        &mut conn,
        round,
        khaosat::domain::lifecycle::RoundAction::Open,
        ADMIN,
    )
    .unwrap();
    let settings = khaosat::app::config::Settings::for_database(app._db.database_url());
    let secret = khaosat::server::startup::load_secret(&mut conn, &settings).unwrap();
    let codes: Vec<String> = rounds::issue_codes(&mut conn, &secret, round, false, None, ADMIN)
        .unwrap()
        .into_iter()
        .map(|c| c.code.as_canonical().to_owned())
        .collect();
    drop(conn);
    // A respondent writes the hostile text (and a formula) as their comment.
    let code = &codes[0];
    answer_everything(app, code).await;
    let instrument = leader();
    let (n, section) = instrument
        .sections()
        .iter()
        .enumerate()
        .find(|(_, s)| s.questions.iter().any(|q| q.code == "comment"))
        .unwrap();
    let page = format!("/s/{code}/p/{}", n + 1);
    let token = csrf_from(&app.get_html(&page).await);
    let mut fields = fill(section, false);
    let comment = format!("=HYPERLINK(\"http://evil\",\"x\"){HOSTILE}");
    fields.push(("comment".into(), comment));
    fields.push(("nav".into(), "next".into()));
    fields.push(("csrf_token".into(), token));
    let saved = app
        .client
        .post(app.url(&page))
        .form(&fields)
        .send()
        .await
        .unwrap();
    assert_eq!(saved.status(), 303);
    let review = app.get_html(&format!("/s/{code}/review")).await;
    assert!(
        review.contains("&lt;script&gt;alert("),
        "the answer is shown, escaped"
    );
    assert_inert("the review page", &review);
    let submitted = crate::respond::submit_review(app, code, &review).await;
    assert_eq!(submitted.status(), 303);
    (round, codes[1].clone())
}

fn csv_quote(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

#[tokio::test]
async fn hostile_text_from_every_input_stays_text_on_every_page_and_download() {
    let app = spawn_app().await;
    app.login_as("admin@sonoivu.gov.vn", Role::Admin).await;
    let (round, fresh_code) = hostile_round(&app).await;
    let instrument = {
        use diesel::prelude::*;
        let mut conn = app.pool.get().unwrap();
        khaosat::db::schema::instruments::table
            .filter(khaosat::db::schema::instruments::version.eq(7))
            .select(khaosat::db::schema::instruments::id)
            .first::<i64>(&mut conn)
            .unwrap()
    };
    let mut pages = 0;
    for (method, pattern) in crate::permissions::registered_routes() {
        if method != "GET" || pattern.contains("{token}") || pattern.contains("{receipt}") {
            continue;
        }
        let path = pattern
            .replace(
                "/admin/instruments/{id}",
                &format!("/admin/instruments/{instrument}"),
            )
            .replace("/admin/methodologies/{id}", "/admin/methodologies/1")
            .replace("{id}", &round.to_string())
            .replace("/units/{code}", "/units/x1")
            .replace("{code}", &fresh_code)
            .replace("{n}", "1")
            .replace("{file}", "codebook-leader.html")
            .replace("{job}", "none")
            .replace("{hash}/{name}", "x/app.css");
        let response = app.get(&path).await;
        let content_type = response
            .headers()
            .get("content-type")
            .map_or(String::new(), |v| v.to_str().unwrap().to_owned());
        if content_type.starts_with("text/html") {
            assert_inert(&path, &response.text().await.unwrap());
            pages += 1;
        } else {
            // Data files (TOML, CSV, JSON) carry the text as is; browsers must not sniff them
            // into HTML.
            assert_eq!(
                response.headers()["x-content-type-options"],
                "nosniff",
                "{path}"
            );
        }
    }
    assert!(pages > 25, "{pages} HTML pages checked");
    let xlsform_id = {
        use diesel::prelude::*;
        let mut conn = app.pool.get().unwrap();
        khaosat::db::schema::instruments::table
            .filter(khaosat::db::schema::instruments::code.eq("kobo-pilot"))
            .select(khaosat::db::schema::instruments::id)
            .first::<i64>(&mut conn)
            .unwrap()
    };
    let preview = app
        .get_html(&format!("/admin/instruments/{xlsform_id}"))
        .await;
    assert!(
        preview.contains("&lt;script&gt;"),
        "the XLSForm labels are shown, escaped"
    );
    assert_inert("the XLSForm preview", &preview);
    // Pages with more to show: the dashboard's ranking, a breakdown, the code sheet, the diff.
    for path in [
        format!("/results/{round}/breakdown?group=leader&by=bg_level"),
        format!("/admin/instruments/{instrument}/diff?against=1"),
        format!("/results/{round}/items"),
    ] {
        assert_inert(&path, &app.get(&path).await.text().await.unwrap());
    }
    let sheet = app
        .submit(
            &format!("/admin/rounds/{round}"),
            &format!("/admin/rounds/{round}/codes"),
            &[],
        )
        .await;
    assert_inert("the code sheet", &sheet.text().await.unwrap());
    // Downloads: the codebook HTML escapes, CSV cells that look like formulas are neutralised.
    let codebook = app
        .get_html(&format!("/results/{round}/download/codebook-leader.html"))
        .await;
    assert_inert("the codebook", &codebook);
    assert!(codebook.contains("&lt;script&gt;"));
    let token = csrf_from(&app.get_html(&format!("/results/{round}")).await);
    let started = app
        .post_form(
            &format!("/results/{round}/exports"),
            &[
                ("csrf_token", token.as_str()),
                ("group", "leader"),
                ("format", "csv"),
            ],
        )
        .await;
    let job = started.headers()["location"].to_str().unwrap().to_owned();
    let mut csv = Vec::new();
    for _ in 0..100 {
        let file = app.get(&format!("{job}/file")).await;
        if file.status() == 200 {
            csv = file.bytes().await.unwrap().to_vec();
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let mut reader = csv::Reader::from_reader(&csv[..]);
    let header = reader.headers().unwrap().clone();
    // `comment` is written as `comment_`: PSPP reads a line starting with `comment` as a command.
    let column = header.iter().position(|h| h == "comment_").unwrap();
    let row = reader.records().next().unwrap().unwrap();
    assert!(
        row[column].starts_with("'=HYPERLINK"),
        "formula neutralised: {}",
        &row[column]
    );
    assert!(row[column].contains(HOSTILE), "the text itself is kept");
}
