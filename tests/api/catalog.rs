//! Questionnaires and methodologies as versioned data: bundled defaults, previews in both
//! languages, imports (TOML and XLSForm), versioning, diffs, exports and permissions.

use diesel::prelude::*;
use khaosat::db::schema::{instruments, methodologies};
use khaosat::domain::account::Role;

use crate::helpers::{TestApp, spawn_app};

const LEADER: &str = include_str!("../../assets/instruments/par-leader-2022.toml");

fn count_instruments(app: &TestApp) -> i64 {
    let mut conn = app.pool.get().unwrap();
    instruments::table.count().get_result(&mut conn).unwrap()
}

fn instrument_id(app: &TestApp, code: &str, version: i32) -> i64 {
    let mut conn = app.pool.get().unwrap();
    instruments::table
        .filter(instruments::code.eq(code))
        .filter(instruments::version.eq(version))
        .select(instruments::id)
        .first(&mut conn)
        .unwrap()
}

async fn admin_app() -> TestApp {
    let app = spawn_app().await;
    app.login_as("admin@sonoivu.gov.vn", Role::Admin).await;
    app
}

#[tokio::test]
async fn the_bundled_files_load_on_first_start_and_only_once() {
    let app = admin_app().await;
    assert_eq!(count_instruments(&app), 3);
    let list = app.get_html("/admin/instruments").await;
    for code in [
        "par-leader",
        "par-civil-servant",
        "sipas",
        "par-2022",
        "sipas-2023",
    ] {
        assert!(list.contains(&format!(">{code}</a>")), "{code} listed");
    }
    assert!(list.contains("tái dựng từ nguồn công khai"));
    let mut conn = app.pool.get().unwrap();
    assert_eq!(
        khaosat::app::catalog::load_bundled(&mut conn).unwrap(),
        0,
        "idempotent at every start"
    );
    let methods: i64 = methodologies::table.count().get_result(&mut conn).unwrap();
    assert_eq!(methods, 2);
}

#[tokio::test]
async fn previews_render_every_section_in_both_languages() {
    let app = admin_app().await;
    let id = instrument_id(&app, "par-leader", 1);
    let vi = app
        .get_html(&format!("/admin/instruments/{id}?lang=vi"))
        .await;
    let en = app
        .get_html(&format!("/admin/instruments/{id}?lang=en"))
        .await;
    assert!(
        vi.contains("Phần 1 / 5") && vi.contains("Phần 5 / 5"),
        "{vi}"
    );
    assert!(en.contains("Section 1 of 5") && en.contains("Section 5 of 5"));
    assert!(vi.contains("Rất tốt") && en.contains("Very good"));
    // The respondent markup: every battery item is a fieldset with a legend.
    assert!(vi.matches("<fieldset").count() >= 40);
    assert!(
        vi.contains("Chỉ hiện khi:"),
        "conditional questions are annotated"
    );
}

fn leader_v2() -> String {
    LEADER
        .replacen("version = 1", "version = 2", 1)
        .replacen("Rất tốt", "Rất tốt (xuất sắc)", 1)
}

#[tokio::test]
async fn an_edited_file_becomes_a_new_version_with_a_diff_and_reimporting_changes_nothing() {
    let app = admin_app().await;
    let response = app
        .upload(
            "/admin/instruments",
            "/admin/instruments/import",
            "leader-v2.toml",
            leader_v2().into_bytes(),
        )
        .await;
    assert_eq!(response.status(), 303);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    assert!(location.ends_with("?imported=new"), "{location}");
    assert_eq!(count_instruments(&app), 4);
    let (v1, v2) = (
        instrument_id(&app, "par-leader", 1),
        instrument_id(&app, "par-leader", 2),
    );
    assert!(
        app.get_html(&location)
            .await
            .contains("Đã nhập phiên bản mới.")
    );

    let diff = app
        .get_html(&format!("/admin/instruments/{v2}/diff?against={v1}"))
        .await;
    assert!(diff.contains("Rất tốt (xuất sắc)"), "{diff}");

    let again = app
        .upload(
            "/admin/instruments",
            "/admin/instruments/import",
            "leader-v2.toml",
            leader_v2().into_bytes(),
        )
        .await;
    assert_eq!(again.status(), 303);
    assert!(
        again.headers()["location"]
            .to_str()
            .unwrap()
            .ends_with("?imported=existing")
    );
    assert_eq!(count_instruments(&app), 4);
}

#[tokio::test]
async fn changing_a_stored_version_is_refused_and_changes_nothing() {
    let app = admin_app().await;
    let edited = LEADER.replacen("Rất tốt", "Tốt lắm", 1);
    let response = app
        .upload(
            "/admin/instruments",
            "/admin/instruments/import",
            "leader.toml",
            edited.into_bytes(),
        )
        .await;
    assert_eq!(response.status(), 422);
    let html = response.text().await.unwrap();
    assert!(
        // The page speaks the reader's language (Vietnamese by default).
        html.contains("leader.toml: par-leader phiên bản 1 đã có với nội dung khác"),
        "{html}"
    );
    assert_eq!(count_instruments(&app), 3);
}

const BROKEN_INSTRUMENT: &str = r#"format = "khaosat-instrument/1"
code = "bad"
version = 1
group = "leader"
provenance = "test"
title = { vi = "a", en = "b" }
[[sections]]
code = "s1"
title = { vi = "a", en = "b" }
[[sections.questions]]
code = "q1"
type = "yes_no"
label = { vi = "a", en = "b" }
relevant = "q9 == 1"
[[sections.questions]]
code = "q1"
type = "text"
label = { vi = "a", en = "b" }
"#;

#[tokio::test]
async fn an_invalid_file_lists_every_error_with_its_line_and_stores_nothing() {
    let app = admin_app().await;
    // The errors are shown in the reader's language; this test reads the English ones.
    app.get("/lang/en").await;
    let response = app
        .upload(
            "/admin/instruments",
            "/admin/instruments/import",
            "bad.toml",
            BROKEN_INSTRUMENT.as_bytes().to_vec(),
        )
        .await;
    assert_eq!(response.status(), 422);
    let html = response.text().await.unwrap();
    assert!(html.contains("bad.toml:14:"), "{html}");
    assert!(
        html.contains("unknown question code &#39;q9&#39;")
            || html.contains("unknown question code 'q9'"),
        "{html}"
    );
    assert!(html.contains("bad.toml:16:"), "{html}");
    assert!(html.contains("duplicate question code"));
    assert_eq!(count_instruments(&app), 3);
}

#[tokio::test]
async fn an_invalid_file_is_explained_in_vietnamese_by_default() {
    let app = admin_app().await;
    let response = app
        .upload(
            "/admin/instruments",
            "/admin/instruments/import",
            "bad.toml",
            BROKEN_INSTRUMENT.as_bytes().to_vec(),
        )
        .await;
    assert_eq!(response.status(), 422);
    let html = response.text().await.unwrap();
    // Same places as in English, Vietnamese words.
    assert!(html.contains("bad.toml:14:"), "{html}");
    assert!(
        html.contains("điều kiện nhắc đến mã câu hỏi &#39;q9&#39; không tồn tại")
            || html.contains("điều kiện nhắc đến mã câu hỏi 'q9' không tồn tại"),
        "{html}"
    );
    assert!(html.contains("bad.toml:16:"), "{html}");
    assert!(html.contains("bị trùng (đã dùng ở dòng 11)"), "{html}");
    assert!(!html.contains("unknown question code"), "{html}");
    assert!(!html.contains("duplicate question code"), "{html}");
    assert_eq!(count_instruments(&app), 3);
}

#[tokio::test]
async fn a_non_utf8_file_is_refused_with_the_place_of_the_bad_byte() {
    let app = admin_app().await;
    let mut bytes = b"format = \"khaosat-instrument/1\"\ncode = \"x\xff\"\n".to_vec();
    bytes.push(b'\n');
    let response = app
        .upload(
            "/admin/instruments",
            "/admin/instruments/import",
            "latin1.toml",
            bytes,
        )
        .await;
    assert_eq!(response.status(), 422);
    let html = response.text().await.unwrap();
    assert!(html.contains("latin1.toml:2: byte"), "{html}");
}

#[tokio::test]
async fn labels_that_look_like_html_stay_text() {
    let app = admin_app().await;
    let hostile = LEADER.replacen("version = 1", "version = 3", 1).replacen(
        "Rất tốt",
        "<script>alert('x')</script>",
        1,
    );
    let response = app
        .upload(
            "/admin/instruments",
            "/admin/instruments/import",
            "\"><img src=x onerror=alert(1)>.toml",
            hostile.into_bytes(),
        )
        .await;
    assert_eq!(response.status(), 303);
    let id = instrument_id(&app, "par-leader", 3);
    let html = app.get_html(&format!("/admin/instruments/{id}")).await;
    assert!(!html.contains("<script>alert"), "labels are escaped");
    assert!(html.contains("&lt;script&gt;alert"));
}

fn xlsform_workbook() -> Vec<u8> {
    xlsform_workbook_with(str::to_owned)
}

/// The hand-written XLSForm with every cell passed through `cell` (to plant hostile text).
pub fn xlsform_workbook_with(cell: impl Fn(&str) -> String) -> Vec<u8> {
    use rust_xlsxwriter::Workbook;
    let survey: &[&[&str]] = &[
        &[
            "type",
            "name",
            "label::Vietnamese (vi)",
            "label::English (en)",
            "required",
            "relevant",
        ],
        &[
            "begin group",
            "g_info",
            "Thông tin chung",
            "General information",
            "",
            "",
        ],
        &[
            "select_one level",
            "level",
            "Cấp công tác của ông/bà",
            "Your level",
            "yes",
            "",
        ],
        &[
            "select_one yn",
            "trained",
            "Ông/bà đã được tập huấn chưa?",
            "Have you been trained?",
            "yes",
            "",
        ],
        &[
            "select_one quality",
            "training_quality",
            "Chất lượng tập huấn",
            "Quality of the training",
            "",
            "${trained} = 'yes'",
        ],
        &["end group", "", "", "", "", ""],
        &["begin group", "g_eval", "Đánh giá", "Assessment", "", ""],
        &[
            "select_multiple channel",
            "channels",
            "Kênh thông tin",
            "Information channels",
            "",
            "",
        ],
        &[
            "integer",
            "years",
            "Số năm công tác",
            "Years in service",
            "",
            "",
        ],
        &["end group", "", "", "", "", ""],
    ];
    let choices: &[&[&str]] = &[
        &[
            "list_name",
            "name",
            "label::Vietnamese (vi)",
            "label::English (en)",
        ],
        &["level", "province", "Cấp tỉnh", "Province"],
        &["level", "commune", "Cấp xã", "Commune"],
        &["yn", "yes", "Có", "Yes"],
        &["yn", "no", "Không", "No"],
        &["quality", "1", "Tốt", "Good"],
        &["quality", "2", "Chưa tốt", "Not good"],
        &["channel", "web", "Cổng thông tin", "Web portal"],
        &["channel", "tv", "Truyền hình", "Television"],
    ];
    let settings: &[&[&str]] = &[
        &["form_id", "version", "form_title", "group"],
        &["kobo-pilot", "1", "Khảo sát thử nghiệm", "civil_servant"],
    ];
    let mut wb = Workbook::new();
    for (name, rows) in [
        ("survey", survey),
        ("choices", choices),
        ("settings", settings),
    ] {
        let ws = wb.add_worksheet();
        ws.set_name(name).unwrap();
        for (r, row) in rows.iter().enumerate() {
            for (c, value) in row.iter().enumerate() {
                if !value.is_empty() {
                    ws.write_string(r as u32, c as u16, cell(value)).unwrap();
                }
            }
        }
    }
    wb.save_to_buffer().unwrap()
}

#[tokio::test]
async fn a_hand_written_xlsform_imports_and_its_preview_matches() {
    let app = admin_app().await;
    let response = app
        .upload(
            "/admin/instruments",
            "/admin/instruments/import",
            "pilot.xlsx",
            xlsform_workbook(),
        )
        .await;
    let status = response.status();
    let body = response.text().await.unwrap();
    assert_eq!(status, 303, "{body}");
    let id = instrument_id(&app, "kobo-pilot", 1);
    let vi = app
        .get_html(&format!("/admin/instruments/{id}?lang=vi"))
        .await;
    let en = app
        .get_html(&format!("/admin/instruments/{id}?lang=en"))
        .await;
    for text in [
        "Thông tin chung",
        "Đánh giá",
        "Cấp công tác của ông/bà",
        "Cấp xã",
        "Chất lượng tập huấn",
        "Truyền hình",
    ] {
        assert!(vi.contains(text), "vi preview shows {text}");
    }
    for text in [
        "General information",
        "Assessment",
        "Your level",
        "Commune",
        "Quality of the training",
        "Television",
    ] {
        assert!(en.contains(text), "en preview shows {text}");
    }
    assert!(vi.contains("Phần 2 / 2"));
    assert!(
        en.contains("Shown only when:"),
        "the relevant condition carried over"
    );
    assert!(
        en.contains("type=\"checkbox\""),
        "select_multiple is a set of checkboxes"
    );
    // The exported TOML imports again as the same version.
    let toml = app.get(&format!("/admin/instruments/{id}/export")).await;
    assert!(
        toml.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains("kobo-pilot-v1.toml")
    );
    let again = app
        .upload(
            "/admin/instruments",
            "/admin/instruments/import",
            "kobo-pilot-v1.toml",
            toml.bytes().await.unwrap().to_vec(),
        )
        .await;
    assert!(
        again.headers()["location"]
            .to_str()
            .unwrap()
            .ends_with("?imported=existing")
    );
}

#[tokio::test]
async fn an_unsupported_xlsform_row_is_named_by_sheet_row_and_column() {
    let app = admin_app().await;
    use rust_xlsxwriter::Workbook;
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name("survey").unwrap();
    for (c, v) in ["type", "name", "label"].iter().enumerate() {
        ws.write_string(0, c as u16, *v).unwrap();
    }
    for (c, v) in ["geopoint", "where", "Where?"].iter().enumerate() {
        ws.write_string(1, c as u16, *v).unwrap();
    }
    let response = app
        .upload(
            "/admin/instruments",
            "/admin/instruments/import",
            "geo.xlsx",
            wb.save_to_buffer().unwrap(),
        )
        .await;
    assert_eq!(response.status(), 422);
    let html = response.text().await.unwrap();
    assert!(html.contains("geo.xlsx: survey!A2 (type)"), "{html}");
    assert_eq!(count_instruments(&app), 3);
}

#[tokio::test]
async fn methodologies_show_their_structure_and_export() {
    let app = admin_app().await;
    let mut conn = app.pool.get().unwrap();
    let id: i64 = methodologies::table
        .filter(methodologies::code.eq("par-2022"))
        .select(methodologies::id)
        .first(&mut conn)
        .unwrap();
    let html = app.get_html(&format!("/admin/methodologies/{id}")).await;
    assert!(html.contains("Cải cách thủ tục hành chính"));
    assert!(html.contains("22"), "the leader group's 22 points");
    let export = app.get(&format!("/admin/methodologies/{id}/export")).await;
    assert_eq!(export.status(), 200);
    assert!(
        export
            .text()
            .await
            .unwrap()
            .contains("khaosat-methodology/1")
    );
}

#[tokio::test]
async fn a_methodology_with_a_coefficient_above_one_is_refused_with_its_line() {
    let app = admin_app().await;
    let source = include_str!("../../assets/methodologies/par-2022.toml").replacen(
        "version = 1",
        "version = 2",
        1,
    );
    let line_of_table = source
        .lines()
        .position(|l| l.contains("\"2\" = 0.6"))
        .expect("the 0.6 coefficient")
        + 1;
    let bad = source.replacen("\"2\" = 0.6", "\"2\" = 1.6", 1);
    let response = app
        .upload(
            "/admin/instruments",
            "/admin/methodologies/import",
            "par-bad.toml",
            bad.into_bytes(),
        )
        .await;
    assert_eq!(response.status(), 422);
    let html = response.text().await.unwrap();
    assert!(
        html.contains(&format!("par-bad.toml:{line_of_table}:")),
        "{html}"
    );
}

#[tokio::test]
async fn a_methodology_whose_points_do_not_add_up_is_refused_in_vietnamese() {
    let app = admin_app().await;
    let source = include_str!("../../assets/methodologies/par-2022.toml").replacen(
        "version = 1",
        "version = 2",
        1,
    );
    let leader_max = "max_points = 22   # [B] 40 items";
    let line = source
        .lines()
        .position(|l| l.contains(leader_max))
        .expect("the leader group's maximum")
        + 1;
    let bad = source.replacen(leader_max, "max_points = 21   # [B] 40 items", 1);
    // No language cookie: the page, and so the error, is in Vietnamese.
    let response = app
        .upload(
            "/admin/instruments",
            "/admin/methodologies/import",
            "par-bad.toml",
            bad.into_bytes(),
        )
        .await;
    assert_eq!(response.status(), 422);
    let html = response.text().await.unwrap();
    assert!(
        html.contains(&format!(
            "par-bad.toml:{line}:14: group[leader].max_points: điểm tối đa của nhóm đối tượng \
             là 21 nhưng tổng điểm các câu hỏi là 22"
        )),
        "{html}"
    );
    assert!(
        !html.contains("points sum to"),
        "no English message: {html}"
    );
}

#[tokio::test]
async fn only_administrators_import_but_everyone_logged_in_reads() {
    let app = spawn_app().await;
    app.login_as("coord@sonoivu.gov.vn", Role::Coordinator)
        .await;
    let list = app.get_html("/admin/instruments").await;
    assert!(
        !list.contains("/admin/instruments/import"),
        "no upload form for coordinators"
    );
    let id = instrument_id(&app, "sipas", 1);
    assert_eq!(
        app.get(&format!("/admin/instruments/{id}")).await.status(),
        200
    );
    let response = app
        .upload(
            "/admin/instruments",
            "/admin/instruments/import",
            "x.toml",
            leader_v2().into_bytes(),
        )
        .await;
    assert_eq!(response.status(), 403);
    assert_eq!(count_instruments(&app), 3);
}

#[tokio::test]
async fn anonymous_visitors_are_sent_to_the_login_page() {
    let app = spawn_app().await;
    let response = app.get("/admin/instruments").await;
    assert_eq!(response.status(), 303);
}

#[tokio::test]
async fn an_upload_without_a_csrf_token_is_rejected() {
    let app = admin_app().await;
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(leader_v2().into_bytes()).file_name("x.toml"),
    );
    let response = app
        .client
        .post(app.url("/admin/instruments/import"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    assert_eq!(count_instruments(&app), 3);
}

#[tokio::test]
async fn an_oversized_upload_gets_413() {
    let app = admin_app().await;
    let big = vec![b'#'; 11 * 1024 * 1024];
    let response = app
        .upload(
            "/admin/instruments",
            "/admin/instruments/import",
            "big.toml",
            big,
        )
        .await;
    assert_eq!(response.status(), 413);
}

/// Uploads a real-world XLSForm of the corpus with the page's group, code and version fields.
async fn upload_corpus_form(app: &TestApp, fields: &[(&str, &str)]) -> reqwest::Response {
    let bytes = std::fs::read(format!(
        "{}/tests/fixtures/xlsform-corpus/yes_or_no_question.xlsx",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    let token = crate::helpers::csrf_from(&app.get_html("/admin/instruments").await);
    let mut form = reqwest::multipart::Form::new().text("csrf_token", token);
    for (name, value) in fields {
        form = form.text((*name).to_owned(), (*value).to_owned());
    }
    let form = form.part(
        "file",
        reqwest::multipart::Part::bytes(bytes).file_name("yes_or_no_question.xlsx"),
    );
    app.client
        .post(app.url("/admin/instruments/import"))
        .multipart(form)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_real_xlsform_imports_with_the_group_chosen_on_the_page_and_its_remarks_shown() {
    let app = admin_app().await;
    let page = app.get_html("/admin/instruments?lang=en").await;
    assert!(page.contains("name=\"group\""), "the page offers a group");
    // Without a group nothing is stored, and the page says how to give one.
    let refused = upload_corpus_form(&app, &[("group", "")]).await;
    assert_eq!(refused.status(), 422);
    let html = refused.text().await.unwrap();
    // In either language the message names the group codes to choose from.
    assert!(
        html.contains("civil_servant or citizen") || html.contains("civil_servant hoặc citizen"),
        "{html}"
    );
    assert_eq!(count_instruments(&app), 3);
    // With one, the form is stored and the remark about its code is shown.
    let stored = upload_corpus_form(&app, &[("group", "citizen"), ("version", "")]).await;
    assert_eq!(stored.status(), 200);
    let html = stored.text().await.unwrap();
    assert!(
        html.contains("form_id") && html.contains("yes_or_no_question"),
        "{html}"
    );
    let id = instrument_id(&app, "yes_or_no_question", 1);
    assert!(html.contains(&format!("/admin/instruments/{id}")), "{html}");
    // A chosen code and version win; a version that is not a number is refused.
    let chosen = upload_corpus_form(
        &app,
        &[("group", "leader"), ("code", "good-day"), ("version", "5")],
    )
    .await;
    assert_eq!(chosen.status(), 303);
    instrument_id(&app, "good-day", 5);
    let bad = upload_corpus_form(&app, &[("group", "leader"), ("version", "five")]).await;
    assert_eq!(bad.status(), 422);
    assert_eq!(count_instruments(&app), 5);
}
