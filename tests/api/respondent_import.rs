//! Respondent lists as administrators write them: province names and group labels exactly as
//! the pages show them, typed with or without diacritics; checked and previewed before
//! anything is stored, then imported exactly as previewed.

use khaosat::domain::account::Role;
use khaosat::domain::lifecycle::RoundAction;

use crate::helpers::{PASSWORD, TestApp, spawn_app};
use crate::rounds::{ADMIN, draft_round};

/// The confirm token on a preview page.
pub fn preview_token(html: &str) -> String {
    let marker = "name=\"token\" value=\"";
    let start = html.find(marker).expect("the preview has a confirm form") + marker.len();
    let end = html[start..].find('"').unwrap() + start;
    html[start..end].to_owned()
}

/// Uploads a list on the round page `page` and returns the preview page, asserting it has no
/// problems.
pub async fn preview_list(app: &TestApp, page: &str, file_name: &str, bytes: Vec<u8>) -> String {
    let response = app
        .upload(page, &format!("{page}/respondents"), file_name, bytes)
        .await;
    let status = response.status();
    let html = response.text().await.unwrap();
    assert_eq!(status, 200, "{html}");
    html
}

/// Uploads a list, checks its preview and confirms it, as an administrator does on the pages;
/// returns the confirm's response.
pub async fn import_list(
    app: &TestApp,
    page: &str,
    file_name: &str,
    bytes: Vec<u8>,
) -> reqwest::Response {
    let html = preview_list(app, page, file_name, bytes).await;
    confirm(app, page, &preview_token(&html)).await
}

/// Posts the confirm form of a preview with `token`.
async fn confirm(app: &TestApp, page: &str, token: &str) -> reqwest::Response {
    app.submit(
        page,
        &format!("{page}/respondents/confirm"),
        &[("token", token)],
    )
    .await
}

fn listed(app: &TestApp, round: i64) -> Vec<String> {
    let mut conn = app.pool.get().unwrap();
    khaosat::db::respondents::roster(&mut conn, round)
        .unwrap()
        .into_iter()
        .map(|r| r.contact.name)
        .collect()
}

/// A list written with the names the round page shows.
const LIST: &str = "Họ và tên,Thư điện tử,Đơn vị,Nhóm\n\
    Nguyễn Văn An,an@sonoivu.gov.vn,Hà Nội,\"Lãnh đạo, quản lý\"\n\
    Trần Thị Bình,,Thành phố Hồ Chí Minh,\"Người dân, tổ chức\"\n\
    Lê Văn Cường,,ha noi,Công chức\n\
    Phạm Thị Dung,,TP. Hồ Chí Minh,nguoi dan\n";

#[tokio::test]
async fn importing_names_with_diacritics_matches_units_and_group_labels() {
    let app = spawn_app().await;
    app.login_as("admin@sonoivu.gov.vn", Role::Admin).await;
    let round = draft_round(&app, 0);
    let page = format!("/admin/rounds/{round}");
    let response = import_list(&app, &page, "danh-sach.csv", LIST.as_bytes().to_vec()).await;
    assert_eq!(response.status(), 303, "{}", response.text().await.unwrap());
    let mut conn = app.pool.get().unwrap();
    assert_eq!(
        khaosat::db::respondents::count_in_round(&mut conn, round).unwrap(),
        4
    );
}

#[tokio::test]
async fn a_downloaded_template_filled_in_imports_cleanly() {
    let app = spawn_app().await;
    app.login_as("admin@sonoivu.gov.vn", Role::Admin).await;
    let round = draft_round(&app, 0);
    let page = format!("/admin/rounds/{round}");
    let html = app.get_html(&page).await;
    assert!(html.contains(&format!("{page}/respondents/template.csv")));
    assert!(html.contains(&format!("{page}/respondents/template.xlsx")));

    let csv = app
        .get(&format!("{page}/respondents/template.csv"))
        .await
        .text()
        .await
        .unwrap();
    assert!(csv.starts_with("\u{FEFF}Họ và tên,Thư điện tử,Số điện thoại,Đơn vị,Nhóm"));
    assert!(csv.contains("\"Lãnh đạo, quản lý\""), "{csv}");
    // Filled in: one more row written the way the pages show names.
    let filled = format!("{csv}Đỗ Thị Hoa,hoa@sonoivu.gov.vn,,Thành phố Hồ Chí Minh,Công chức,,\n");
    let response = import_list(&app, &page, "mau.csv", filled.into_bytes()).await;
    assert_eq!(response.status(), 303, "{}", response.text().await.unwrap());
    let mut conn = app.pool.get().unwrap();
    assert_eq!(
        khaosat::db::respondents::count_in_round(&mut conn, round).unwrap(),
        4,
        "three example rows (one per group) and the added one"
    );

    let xlsx = app
        .get(&format!("{page}/respondents/template.xlsx"))
        .await
        .bytes()
        .await
        .unwrap()
        .to_vec();
    let other = draft_round(&app, 0);
    let other_page = format!("/admin/rounds/{other}");
    let response = import_list(&app, &other_page, "mau.xlsx", xlsx).await;
    assert_eq!(response.status(), 303, "{}", response.text().await.unwrap());
    assert_eq!(
        khaosat::db::respondents::count_in_round(&mut conn, other).unwrap(),
        3
    );
}

#[tokio::test]
async fn a_preview_stores_nothing_and_its_confirm_stores_exactly_the_previewed_rows_once() {
    let app = spawn_app().await;
    app.login_as("admin@sonoivu.gov.vn", Role::Admin).await;
    let round = draft_round(&app, 0);
    let page = format!("/admin/rounds/{round}");
    let html = preview_list(&app, &page, "danh-sach.csv", LIST.as_bytes().to_vec()).await;
    assert!(html.contains("Kiểm tra danh sách trước khi nhập"), "{html}");
    assert!(
        html.contains("Tệp danh-sach.csv: 4 người trả lời."),
        "{html}"
    );
    // Counts per unit and group, with the names the pages show.
    let counts = &html[html.find("id=\"preview-counts\"").unwrap()..];
    assert!(
        counts.contains("Hà Nội") && counts.contains("Hồ Chí Minh"),
        "{counts}"
    );
    assert!(counts.contains("Lãnh đạo"), "{counts}");
    assert!(html.contains("Nguyễn Văn An") && html.contains("Phạm Thị Dung"));
    assert!(listed(&app, round).is_empty(), "a preview stores nothing");

    let token = preview_token(&html);
    let confirmed = confirm(&app, &page, &token).await;
    assert_eq!(confirmed.status(), 303);
    assert_eq!(
        listed(&app, round),
        [
            "Nguyễn Văn An",
            "Trần Thị Bình",
            "Lê Văn Cường",
            "Phạm Thị Dung"
        ]
    );
    let again = confirm(&app, &page, &token).await;
    assert_eq!(again.status(), 422);
    assert!(
        again
            .text()
            .await
            .unwrap()
            .contains("bản xem trước này không còn")
    );
    assert_eq!(
        listed(&app, round).len(),
        4,
        "a second confirm adds nothing"
    );
}

#[tokio::test]
async fn a_list_with_problems_is_previewed_with_every_problem_and_cannot_be_confirmed() {
    let app = spawn_app().await;
    app.login_as("admin@sonoivu.gov.vn", Role::Admin).await;
    let round = draft_round(&app, 0);
    let page = format!("/admin/rounds/{round}");
    let bad = "Họ và tên,Thư điện tử,Đơn vị,Nhóm\n\
        Nguyễn Văn An,an@@x,Hà Nội,Công chức\n\
        Trần Thị Bình,,Atlantis,Công chức\n";
    let response = app
        .upload(
            &page,
            &format!("{page}/respondents"),
            "xau.csv",
            bad.as_bytes().to_vec(),
        )
        .await;
    assert_eq!(response.status(), 422);
    let html = response.text().await.unwrap();
    assert!(html.contains("Tệp có 2 lỗi"), "{html}");
    assert!(html.contains("xau.csv dòng 2, cột Thư điện tử"), "{html}");
    assert!(html.contains("xau.csv dòng 3, cột Đơn vị"), "{html}");
    assert!(
        !html.contains("name=\"token\""),
        "no confirm for a bad list"
    );
    assert!(listed(&app, round).is_empty());
}

#[tokio::test]
async fn another_user_cannot_confirm_my_previewed_list() {
    let app = spawn_app().await;
    app.login_as("admin@sonoivu.gov.vn", Role::Admin).await;
    let round = draft_round(&app, 0);
    let page = format!("/admin/rounds/{round}");
    let html = preview_list(&app, &page, "danh-sach.csv", LIST.as_bytes().to_vec()).await;
    let token = preview_token(&html);

    app.login_as("other@sonoivu.gov.vn", Role::Admin).await;
    let theirs = confirm(&app, &page, &token).await;
    assert_eq!(theirs.status(), 422);
    assert!(
        theirs
            .text()
            .await
            .unwrap()
            .contains("bản xem trước này không còn")
    );
    assert!(listed(&app, round).is_empty());

    assert_eq!(
        app.login("admin@sonoivu.gov.vn", PASSWORD).await.status(),
        303
    );
    assert_eq!(confirm(&app, &page, &token).await.status(), 303);
    assert_eq!(listed(&app, round).len(), 4);
}

#[tokio::test]
async fn a_confirm_is_refused_when_the_round_changed_or_the_list_was_imported_meanwhile() {
    let app = spawn_app().await;
    app.login_as("admin@sonoivu.gov.vn", Role::Admin).await;
    let round = draft_round(&app, 0);
    let page = format!("/admin/rounds/{round}");
    let first = preview_token(&preview_list(&app, &page, "a.csv", LIST.as_bytes().to_vec()).await);
    // The same list, previewed in another session and imported first.
    {
        let mut conn = app.pool.get().unwrap();
        khaosat::app::rounds::import_respondents(&mut conn, round, "b.csv", LIST.as_bytes(), ADMIN)
            .unwrap();
    }
    let late = confirm(&app, &page, &first).await;
    assert_eq!(late.status(), 422);
    assert!(
        late.text()
            .await
            .unwrap()
            .contains("đã thay đổi từ lúc xem trước")
    );
    assert_eq!(listed(&app, round).len(), 4, "not imported twice");

    let other = draft_round(&app, 0);
    let other_page = format!("/admin/rounds/{other}");
    let token =
        preview_token(&preview_list(&app, &other_page, "a.csv", LIST.as_bytes().to_vec()).await);
    {
        let mut conn = app.pool.get().unwrap();
        khaosat::app::rounds::apply_action(&mut conn, other, RoundAction::Open, ADMIN).unwrap();
    }
    let changed = confirm(&app, &other_page, &token).await;
    assert_eq!(changed.status(), 422);
    assert!(
        changed
            .text()
            .await
            .unwrap()
            .contains("trạng thái của đợt khảo sát đã thay đổi")
    );
    assert!(listed(&app, other).is_empty());
}
