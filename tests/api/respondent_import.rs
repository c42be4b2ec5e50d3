//! Respondent lists as administrators write them: province names and group labels exactly as
//! the pages show them, typed with or without diacritics.

use khaosat::domain::account::Role;

use crate::helpers::spawn_app;
use crate::rounds::draft_round;

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
    let response = app
        .upload(
            &page,
            &format!("{page}/respondents"),
            "danh-sach.csv",
            LIST.as_bytes().to_vec(),
        )
        .await;
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
    let response = app
        .upload(
            &page,
            &format!("{page}/respondents"),
            "mau.csv",
            filled.into_bytes(),
        )
        .await;
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
    let response = app
        .upload(
            &other_page,
            &format!("{other_page}/respondents"),
            "mau.xlsx",
            xlsx,
        )
        .await;
    assert_eq!(response.status(), 303, "{}", response.text().await.unwrap());
    assert_eq!(
        khaosat::db::respondents::count_in_round(&mut conn, other).unwrap(),
        3
    );
}
