//! The respondents page: search without diacritics, corrections checked like an import and
//! audited, removal revoking an unused code, and coordinators limited to their own units.

use diesel::prelude::*;
use khaosat::db::schema::audit_log;
use khaosat::domain::account::Role;

use crate::helpers::{TestApp, spawn_app};
use crate::rounds::{ADMIN, draft_round};

const LIST: &str = "Họ và tên,Thư điện tử,Đơn vị,Nhóm\n\
    Nguyễn Văn An,an@sonoivu.gov.vn,Hà Nội,\"Lãnh đạo, quản lý\"\n\
    Trần Thị Bình,,Thành phố Hồ Chí Minh,\"Người dân, tổ chức\"\n\
    Lê Văn Cường,cuong@sonoivu.gov.vn,ha noi,Công chức\n";

/// A draft round with [`LIST`] imported.
fn round_with_list(app: &TestApp) -> i64 {
    let round = draft_round(app, 0);
    let mut conn = app.pool.get().unwrap();
    khaosat::app::rounds::import_respondents(&mut conn, round, "l.csv", LIST.as_bytes(), ADMIN)
        .unwrap();
    round
}

fn respondent_id(app: &TestApp, round: i64, name: &str) -> i64 {
    let mut conn = app.pool.get().unwrap();
    khaosat::db::respondents::roster(&mut conn, round)
        .unwrap()
        .into_iter()
        .find(|r| r.contact.name == name)
        .unwrap_or_else(|| panic!("{name} is listed"))
        .contact
        .respondent_id
}

#[tokio::test]
async fn searching_without_diacritics_finds_a_vietnamese_name() {
    let app = spawn_app().await;
    app.login_as("admin@sonoivu.gov.vn", Role::Admin).await;
    let round = round_with_list(&app);
    let round_page = app.get_html(&format!("/admin/rounds/{round}")).await;
    assert!(round_page.contains(&format!("/admin/rounds/{round}/respondents\"")));
    let all = app
        .get_html(&format!("/admin/rounds/{round}/respondents"))
        .await;
    assert!(all.contains("3 người trong danh sách."), "{all}");
    assert!(all.contains("Chưa cấp mã"));
    let found = app
        .get_html(&format!("/admin/rounds/{round}/respondents?q=nguyen+van+a"))
        .await;
    assert!(found.contains("Nguyễn Văn An"), "{found}");
    assert!(!found.contains("Trần Thị Bình") && !found.contains("Lê Văn Cường"));
    assert!(
        found.contains("1 trong số 3 người khớp với từ khóa."),
        "{found}"
    );
    let by_email = app
        .get_html(&format!("/admin/rounds/{round}/respondents?q=CUONG%40"))
        .await;
    assert!(by_email.contains("Lê Văn Cường") && !by_email.contains("Nguyễn Văn An"));
}

#[tokio::test]
async fn an_edit_is_checked_like_an_import_and_audited() {
    let app = spawn_app().await;
    app.login_as("admin@sonoivu.gov.vn", Role::Admin).await;
    let round = round_with_list(&app);
    let id = respondent_id(&app, round, "Trần Thị Bình");
    let form = format!("/admin/rounds/{round}/respondents/{id}/edit");
    let html = app.get_html(&form).await;
    assert!(html.contains("value=\"Trần Thị Bình\""), "{html}");

    let refused = app
        .submit(
            &form,
            &form,
            &[
                ("name", "Trần Thị Bình"),
                ("email", "an@sonoivu.gov.vn"),
                ("phone", "09x"),
            ],
        )
        .await;
    assert_eq!(refused.status(), 422);
    let html = refused.text().await.unwrap();
    assert!(html.contains("có chứa chữ cái"), "{html}");
    assert!(
        html.contains("value=\"09x\""),
        "typed values come back: {html}"
    );
    let taken = app
        .submit(
            &form,
            &form,
            &[
                ("name", "Trần Thị Bình"),
                ("email", "AN@sonoivu.gov.vn"),
                ("phone", ""),
            ],
        )
        .await;
    assert_eq!(taken.status(), 422);
    assert!(
        taken.text().await.unwrap().contains("đã được mời tham gia"),
        "another respondent's address is refused"
    );

    let saved = app
        .submit(
            &form,
            &form,
            &[
                ("name", "Trần Thị Bình Minh"),
                ("email", "Binh@SoNoiVu.gov.vn"),
                ("phone", "0912 345 678"),
            ],
        )
        .await;
    assert_eq!(saved.status(), 303);
    let mut conn = app.pool.get().unwrap();
    let row = khaosat::db::respondents::roster_entry(&mut conn, round, id)
        .unwrap()
        .unwrap();
    assert_eq!(row.contact.name, "Trần Thị Bình Minh");
    assert_eq!(row.contact.email.as_deref(), Some("binh@sonoivu.gov.vn"));
    assert_eq!(row.contact.phone.as_deref(), Some("0912345678"));
    let audited: Vec<(Option<String>, Option<String>)> = audit_log::table
        .filter(audit_log::action.eq("round:edit_respondent"))
        .select((audit_log::entity_id, audit_log::new_value))
        .load(&mut conn)
        .unwrap();
    assert_eq!(audited.len(), 1, "one audited edit: {audited:?}");
    assert_eq!(audited[0].0.as_deref(), Some(round.to_string().as_str()));
    let new = audited[0].1.as_deref().unwrap();
    assert!(
        new.contains(&format!("\"respondent\":{id}")) && new.contains("email"),
        "{new}"
    );
    assert!(
        !new.contains("binh@"),
        "no personal data in the audit log: {new}"
    );
}

#[tokio::test]
async fn removing_a_respondent_revokes_their_unused_code_at_once() {
    let app = spawn_app().await;
    let (round, codes) = crate::respond::open_round_with_codes(&app, 2);
    app.login_as("admin@sonoivu.gov.vn", Role::Admin).await;
    let code = codes[0].as_canonical().to_owned();
    assert_ne!(app.get(&format!("/s/{code}")).await.status(), 404);
    let id = respondent_id(&app, round, "Người 0");
    let list = app
        .get_html(&format!("/admin/rounds/{round}/respondents"))
        .await;
    assert!(list.contains("Đã cấp mã, chưa dùng"), "{list}");
    let confirm = format!("/admin/rounds/{round}/respondents/{id}/remove");
    let page = app.get_html(&confirm).await;
    assert!(
        page.contains("mã bị thu hồi"),
        "the step says what happens: {page}"
    );
    let removed = app.submit(&confirm, &confirm, &[]).await;
    assert_eq!(removed.status(), 303);
    assert_eq!(
        removed.headers()["location"],
        format!("/admin/rounds/{round}/respondents?done=revoked").as_str()
    );
    assert_eq!(
        app.get(&format!("/s/{code}")).await.status(),
        404,
        "revoked"
    );
    let other = codes[1].as_canonical().to_owned();
    assert_ne!(app.get(&format!("/s/{other}")).await.status(), 404);
    let mut conn = app.pool.get().unwrap();
    assert_eq!(
        khaosat::db::respondents::count_in_round(&mut conn, round).unwrap(),
        1
    );
    let audited: i64 = audit_log::table
        .filter(audit_log::action.eq("round:remove_respondent"))
        .count()
        .get_result(&mut conn)
        .unwrap();
    assert_eq!(audited, 1);
}

#[tokio::test]
async fn a_coordinator_sees_only_the_respondents_of_their_units_and_cannot_change_them() {
    let app = spawn_app().await;
    let round = round_with_list(&app);
    app.login_as("coord@sonoivu.gov.vn", Role::Coordinator)
        .await;
    {
        let mut conn = app.pool.get().unwrap();
        let ha_noi = khaosat::db::rounds::units(&mut conn, round)
            .unwrap()
            .into_iter()
            .find(|u| u.name_vi == "Hà Nội")
            .unwrap();
        let user = khaosat::db::users::by_email(&mut conn, "coord@sonoivu.gov.vn")
            .unwrap()
            .unwrap();
        khaosat::db::users::add_unit(&mut conn, user.id, ha_noi.id).unwrap();
    }
    let html = app
        .get_html(&format!("/admin/rounds/{round}/respondents"))
        .await;
    assert!(
        html.contains("Nguyễn Văn An") && html.contains("Lê Văn Cường"),
        "{html}"
    );
    assert!(
        !html.contains("Trần Thị Bình"),
        "another unit's respondent: {html}"
    );
    assert!(html.contains("2 người trong danh sách."));
    assert!(!html.contains("/edit\""), "no edit links for a coordinator");
    let theirs = respondent_id(&app, round, "Trần Thị Bình");
    let edit = app
        .get(&format!("/admin/rounds/{round}/respondents/{theirs}/edit"))
        .await;
    assert_eq!(edit.status(), 403);
}
