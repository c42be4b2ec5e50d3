//! Access codes after they are handed out: reissuing lost codes (the old code stops working,
//! started answers stay), the code sheet's own download, and public links that count completed
//! responses, show the visitor their code and tell when a scheduled round opens.

use base64::Engine as _;
use diesel::prelude::*;
use khaosat::app::rounds::{self, Actor};
use khaosat::db::schema::respondents;
use khaosat::domain::access_code::AccessCode;
use khaosat::domain::account::Role;
use khaosat::domain::lifecycle::RoundAction;

use crate::helpers::{TestApp, csrf_from, spawn_app};
use crate::respond::{complete_journey, fill, leader, open_round_with_codes, post_page};
use crate::rounds::secret;

const ADMIN: Actor<'static> = Actor {
    user_id: None,
    label: "test",
    role: Role::Admin,
};

/// The codes printed on a code sheet, in order.
fn sheet_codes(html: &str) -> Vec<AccessCode> {
    html.split("class=\"slip-code\">")
        .skip(1)
        .map(|s| AccessCode::parse(&s[..s.find('<').unwrap()]).unwrap())
        .collect()
}

/// The respondents of a round, in list order.
fn respondent_ids(app: &TestApp, round: i64) -> Vec<i64> {
    let mut conn = app.pool.get().unwrap();
    respondents::table
        .filter(respondents::round_id.eq(round))
        .order(respondents::id)
        .select(respondents::id)
        .load(&mut conn)
        .unwrap()
}

/// Starts answering with `code` and saves the first section; the draft resumes at section 2.
async fn answer_first_section(app: &TestApp, code: &str) {
    let start = app
        .submit(&format!("/s/{code}"), &format!("/s/{code}/start"), &[])
        .await;
    assert_eq!(start.status(), 303);
    let page = format!("/s/{code}/p/1");
    let mut fields = fill(&leader().sections()[0], false);
    fields.push(("nav".into(), "next".into()));
    assert_eq!(post_page(app, &page, &page, &fields).await.status(), 303);
}

/// Where pressing "start" for `code` leads: the section the draft resumes at.
async fn resume_location(client: &reqwest::Client, app: &TestApp, code: &str) -> String {
    let intro = client
        .get(app.url(&format!("/s/{code}")))
        .send()
        .await
        .unwrap();
    assert_eq!(intro.status(), 200);
    let token = csrf_from(&intro.text().await.unwrap());
    let start = client
        .post(app.url(&format!("/s/{code}/start")))
        .form(&[("csrf_token", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(start.status(), 303);
    start.headers()["location"].to_str().unwrap().to_owned()
}

/// A client of its own (another device): its own cookies, redirects not followed.
fn second_device() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

#[tokio::test]
async fn a_reissued_code_replaces_the_old_one_and_opens_the_same_draft() {
    let app = spawn_app().await;
    let (round, codes) = open_round_with_codes(&app, 2);
    let lost = codes[0].as_canonical().to_owned();
    answer_first_section(&app, &lost).await;
    app.login_as("admin@sonoivu.gov.vn", Role::Admin).await;
    let page = format!("/admin/rounds/{round}/codes/reissue");
    let list = app.get_html(&page).await;
    assert!(
        list.contains("Người 0") && list.contains("Đang trả lời"),
        "{list}"
    );
    let first = respondent_ids(&app, round)[0].to_string();
    // A link for one respondent lists them alone, ticked.
    let one = app.get_html(&format!("{page}?respondent={first}")).await;
    assert!(one.contains("Người 0") && !one.contains("Người 1"), "{one}");
    assert!(one.contains(&format!("value=\"{first}\" id=\"r{first}\" checked")));
    let sheet = app
        .submit(
            &page,
            &page,
            &[("mode", "chosen"), ("respondent", first.as_str())],
        )
        .await;
    assert_eq!(sheet.status(), 200);
    assert_eq!(sheet.headers()["cache-control"], "no-store");
    let html = sheet.text().await.unwrap();
    assert!(html.contains("Đã cấp lại 1 mã"), "{html}");
    let new = sheet_codes(&html);
    assert_eq!(new.len(), 1);
    assert_ne!(new[0].as_canonical(), lost);
    // The old code opens nothing; the new one resumes where the respondent left off.
    assert_eq!(app.get(&format!("/s/{lost}")).await.status(), 404);
    let resumed = resume_location(&app.client, &app, new[0].as_canonical()).await;
    assert_eq!(resumed, format!("/s/{}/p/2", new[0].as_canonical()));
    // The other respondent's code still works.
    assert_eq!(
        app.get(&format!("/s/{}", codes[1].as_canonical()))
            .await
            .status(),
        200
    );
}

#[tokio::test]
async fn reissuing_a_unit_and_group_skips_submitted_codes_and_is_audited_without_codes() {
    let app = spawn_app().await;
    let (round, codes) = open_round_with_codes(&app, 3);
    let submitted = codes[2].as_canonical().to_owned();
    assert_eq!(complete_journey(&app, &submitted).await.status(), 303);
    app.login_as("admin@sonoivu.gov.vn", Role::Admin).await;
    let unit = {
        let mut conn = app.pool.get().unwrap();
        khaosat::db::rounds::units(&mut conn, round).unwrap()[0].id
    };
    let page = format!("/admin/rounds/{round}/codes/reissue");
    let unit = unit.to_string();
    let sheet = app
        .submit(
            &page,
            &page,
            &[
                ("mode", "unit_group"),
                ("unit_id", &unit),
                ("group", "leader"),
            ],
        )
        .await;
    assert_eq!(sheet.status(), 200);
    let html = sheet.text().await.unwrap();
    assert!(html.contains("Đã cấp lại 2 mã"), "{html}");
    assert!(html.contains("1 người đã gửi phiếu"), "{html}");
    let new = sheet_codes(&html);
    assert_eq!(new.len(), 2);
    for old in &codes[..2] {
        assert_eq!(
            app.get(&format!("/s/{}", old.as_canonical()))
                .await
                .status(),
            404
        );
    }
    let mut conn = app.pool.get().unwrap();
    assert_eq!(
        khaosat::db::audit::count_action(&mut conn, "round:reissue_codes").unwrap(),
        1
    );
    let entry = khaosat::db::audit::latest_new_value(&mut conn, "round:reissue_codes")
        .unwrap()
        .unwrap();
    assert!(entry.contains("\"codes\":2"), "{entry}");
    assert!(entry.contains("\"already_submitted\":1"), "{entry}");
    assert!(entry.contains("\"leader\""), "{entry}");
    for code in new.iter().chain(&codes) {
        assert!(
            !entry.contains(code.as_canonical()),
            "no code in the audit log"
        );
        assert!(
            !entry.contains(&code.to_string()),
            "no code in the audit log"
        );
    }
    // Choosing nobody is refused with a message, not an empty sheet.
    let refused = app.submit(&page, &page, &[("mode", "chosen")]).await;
    assert_eq!(refused.status(), 422);
    assert!(
        refused
            .text()
            .await
            .unwrap()
            .contains("chưa chọn ai để cấp lại mã")
    );
}

#[tokio::test]
async fn the_code_sheet_downloads_itself_as_a_csv_with_unit_and_group_names() {
    let app = spawn_app().await;
    app.login_as("admin@sonoivu.gov.vn", Role::Admin).await;
    let round = crate::rounds::draft_round(&app, 3);
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
    let codes = sheet_codes(&html);
    assert_eq!(codes.len(), 3);
    let marker = "href=\"data:text/csv;charset=utf-8;base64,";
    let start = html.find(marker).expect("a data: download link") + marker.len();
    let encoded = &html[start..start + html[start..].find('"').unwrap()];
    let tail = &html[start..];
    assert!(
        tail[..tail.find('>').unwrap()].contains("download=\"ma-khao-sat-dot-"),
        "the link saves a file"
    );
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .unwrap();
    assert!(bytes.starts_with(b"\xEF\xBB\xBF"), "UTF-8 with BOM");
    let mut reader = csv::Reader::from_reader(&bytes[3..]);
    let headers = reader.headers().unwrap().clone();
    assert_eq!(
        headers.iter().collect::<Vec<_>>(),
        [
            "Họ và tên",
            "Số điện thoại",
            "Thư điện tử",
            "Mã đơn vị",
            "Đơn vị",
            "Mã nhóm",
            "Nhóm",
            "Mã khảo sát",
            "Đường liên kết"
        ]
    );
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 3);
    let units = {
        let mut conn = app.pool.get().unwrap();
        khaosat::db::rounds::units(&mut conn, round).unwrap()
    };
    for (row, code) in rows.iter().zip(&codes) {
        let unit = units
            .iter()
            .find(|u| u.code == row[3])
            .expect("a unit code");
        assert_eq!(&row[4], unit.name_vi, "the unit's name beside its code");
        assert_eq!(&row[5], "leader");
        assert_eq!(&row[6], "Lãnh đạo, quản lý");
        assert_eq!(&row[7], code.to_string());
    }
}

#[tokio::test]
async fn pressing_issue_codes_when_everyone_has_one_points_to_reissuing() {
    let app = spawn_app().await;
    app.login_as("admin@sonoivu.gov.vn", Role::Admin).await;
    let round = crate::rounds::draft_round(&app, 2);
    let page = format!("/admin/rounds/{round}");
    let form = [("unit_id", ""), ("format", "sheet")];
    let first = app.submit(&page, &format!("{page}/codes"), &form).await;
    assert_eq!(first.status(), 200);
    for format in ["sheet", "csv"] {
        let again = app
            .submit(
                &page,
                &format!("{page}/codes"),
                &[("unit_id", ""), ("format", format)],
            )
            .await;
        assert_eq!(again.status(), 422);
        let html = again.text().await.unwrap();
        assert!(
            html.contains("Mọi người trong danh sách đã có mã; dùng &quot;Cấp lại mã&quot;")
                || html.contains("Mọi người trong danh sách đã có mã; dùng \"Cấp lại mã\""),
            "{html}"
        );
        assert!(!html.contains("Đã cấp 0 mã"));
    }
}

/// An open round with the leader questionnaire, no listed respondents, and a public link for
/// the first unit's leaders with `quota`; returns the link's path.
fn round_with_public_link(app: &TestApp, quota: i32) -> (i64, String) {
    let (round, _) = open_round_with_codes(app, 0);
    let mut conn = app.pool.get().unwrap();
    let unit = khaosat::db::rounds::units(&mut conn, round).unwrap()[0].id;
    let token = rounds::set_open_link(&mut conn, &secret(app), round, unit, "leader", quota, ADMIN)
        .unwrap();
    (round, format!("/o/{token}"))
}

/// Presses start on a public link page and returns the code shown.
async fn start_public(app: &TestApp, path: &str) -> String {
    let response = app.submit(path, path, &[]).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let html = response.text().await.unwrap();
    assert!(
        html.contains("Hãy giữ mã này để tiếp tục sau, trên bất kỳ thiết bị nào"),
        "{html}"
    );
    let marker = "<output id=\"access-code\" aria-live=\"polite\"><code>";
    let start = html.find(marker).expect("the code in an output block") + marker.len();
    let shown = &html[start..start + html[start..].find('<').unwrap()];
    let code = AccessCode::parse(shown).unwrap();
    assert!(html.contains(&format!("href=\"/s/{}\"", code.as_canonical())));
    code.as_canonical().to_owned()
}

#[tokio::test]
async fn public_link_visits_without_answers_use_no_quota_and_completed_responses_do() {
    let app = spawn_app().await;
    let (round, path) = round_with_public_link(&app, 1);
    // Three visitors press start and leave: the quota of one is untouched.
    for _ in 0..3 {
        start_public(&app, &path).await;
    }
    let finisher = start_public(&app, &path).await;
    assert_eq!(complete_journey(&app, &finisher).await.status(), 303);
    // Now one response is complete: the link is full, before and after pressing start.
    let full = app.get(&path).await;
    assert_eq!(full.status(), 410);
    assert!(full.text().await.unwrap().contains("đã nhận đủ số phiếu"));
    app.login_as("admin@sonoivu.gov.vn", Role::Admin).await;
    let admin = app.get_html(&format!("/admin/rounds/{round}")).await;
    assert!(admin.contains("Đã hoàn thành") && admin.contains("Đang trả lời"));
}

#[tokio::test]
async fn a_public_link_respondent_sees_their_code_and_resumes_on_another_device() {
    let app = spawn_app().await;
    let (_, path) = round_with_public_link(&app, 5);
    let code = start_public(&app, &path).await;
    answer_first_section(&app, &code).await;
    let other = second_device();
    let resumed = resume_location(&other, &app, &code).await;
    assert_eq!(resumed, format!("/s/{code}/p/2"));
    // The code expires: a week after it was handed out it opens nothing and its draft goes.
    let mut conn = app.pool.get().unwrap();
    use khaosat::db::schema::{access_codes, drafts};
    let past = khaosat::db::now() - chrono::Duration::minutes(1);
    diesel::update(access_codes::table.filter(access_codes::kind.eq("open_link")))
        .set(access_codes::expires_at.eq(Some(past)))
        .execute(&mut conn)
        .unwrap();
    assert_ne!(app.get(&format!("/s/{code}/p/2")).await.status(), 200);
    start_public(&app, &path).await;
    let left: i64 = drafts::table.count().get_result(&mut conn).unwrap();
    assert_eq!(left, 0, "the expired draft was deleted");
}

#[tokio::test]
async fn an_expired_public_link_code_says_it_expired_and_to_start_again_from_the_link() {
    let app = spawn_app().await;
    let (_, path) = round_with_public_link(&app, 5);
    let code = start_public(&app, &path).await;
    answer_first_section(&app, &code).await;
    // A week and a minute pass without the response being submitted: the code's expiry
    // (set to seven days after it was handed out) is now behind us.
    use khaosat::db::schema::access_codes;
    let past = khaosat::db::now() - chrono::Duration::minutes(1);
    diesel::update(access_codes::table.filter(access_codes::kind.eq("open_link")))
        .set(access_codes::expires_at.eq(Some(past)))
        .execute(&mut app.pool.get().unwrap())
        .unwrap();
    // Typed at the entry form on the home page, the code leads to its page...
    let entered = app.submit("/", "/s", &[("code", &code)]).await;
    assert_eq!(entered.status(), 303);
    let location = entered.headers()["location"].to_str().unwrap().to_owned();
    assert_eq!(location, format!("/s/{code}"));
    // ...which, like resuming a section, says the code expired and what to do, not "not open".
    for page in [
        location,
        format!("/s/{code}/p/2"),
        format!("/s/{code}/review"),
    ] {
        let response = app.get(&page).await;
        assert_eq!(response.status(), 410, "{page}");
        let html = response.text().await.unwrap();
        assert!(html.contains("Mã này đã hết hạn"), "{html}");
        assert!(html.contains("chỉ được giữ 7 ngày nếu chưa gửi"), "{html}");
        assert!(html.contains("mở lại liên kết công khai"), "{html}");
        assert!(!html.contains("hiện không nhận câu trả lời"), "{html}");
    }
    app.get("/lang/en").await;
    let html = app.get(&format!("/s/{code}")).await.text().await.unwrap();
    assert!(
        html.contains("This code has expired")
            && html.contains("kept for 7 days unless it is submitted")
            && html.contains("open the public link you were given again"),
        "{html}"
    );
}

#[tokio::test]
async fn a_scheduled_round_shows_its_opening_date_and_no_start_button() {
    let app = spawn_app().await;
    let mut conn = app.pool.get().unwrap();
    let opens = chrono::NaiveDate::from_ymd_opt(2099, 3, 1)
        .unwrap()
        .and_hms_opt(1, 30, 0)
        .unwrap();
    let round = rounds::create_round(
        &mut conn,
        &rounds::NewRoundInput {
            year: 2025,
            name_vi: "Khảo sát CCHC 2025".into(),
            name_en: "PAR survey 2025".into(),
            unit_set_code: rounds::UNITS_2025.into(),
            opens_at: Some(opens),
            closes_at: None,
        },
        ADMIN,
    )
    .unwrap();
    use khaosat::db::schema::{instruments, methodologies};
    let i: i64 = instruments::table
        .filter(instruments::code.eq("par-leader"))
        .select(instruments::id)
        .first(&mut conn)
        .unwrap();
    let m: i64 = methodologies::table
        .filter(methodologies::code.eq("par-2022"))
        .select(methodologies::id)
        .first(&mut conn)
        .unwrap();
    rounds::set_group(&mut conn, round, "leader", i, m, ADMIN).unwrap();
    rounds::apply_action(&mut conn, round, RoundAction::Open, ADMIN).unwrap();
    let unit = khaosat::db::rounds::units(&mut conn, round).unwrap()[0].id;
    let token =
        rounds::set_open_link(&mut conn, &secret(&app), round, unit, "leader", 5, ADMIN).unwrap();
    // 01:30 UTC is 08:30 in Vietnam.
    let public = app.get(&format!("/o/{token}")).await;
    assert_eq!(public.status(), 200);
    let html = public.text().await.unwrap();
    assert!(html.contains("từ 01/03/2099 08:30"), "{html}");
    assert!(!html.contains("Bắt đầu trả lời"), "no invitation to begin");
    assert!(!html.contains("method=\"post\""), "no start form");
    app.login_as("admin@sonoivu.gov.vn", Role::Admin).await;
    for page in [format!("/admin/rounds/{round}"), "/admin/rounds".to_owned()] {
        let admin = app.get_html(&page).await;
        assert!(
            admin.contains("Đã lên lịch: mở từ 01/03/2099 08:30"),
            "{page}"
        );
        assert!(!admin.contains("Đang mở"), "{page}");
    }
}
