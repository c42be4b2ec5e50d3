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
