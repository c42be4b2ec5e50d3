//! The round form as an administrator meets it: a refused form comes back as typed with each
//! message beside its field, drafts are edited and deleted, an open round's closing time is
//! extended, and times are typed and shown in the deployment's zone while stored in UTC.

use chrono::NaiveDateTime;
use khaosat::app::rounds;
use khaosat::domain::account::Role;
use khaosat::domain::lifecycle::RoundAction;

use crate::helpers::{TestApp, spawn_app};
use crate::rounds::{ADMIN, draft_round};

fn stored_round(app: &TestApp, id: i64) -> Option<khaosat::db::rounds::RoundRow> {
    let mut conn = app.pool.get().unwrap();
    khaosat::db::rounds::by_id(&mut conn, id).unwrap()
}

fn audited(app: &TestApp, action: &str) -> i64 {
    let mut conn = app.pool.get().unwrap();
    khaosat::db::audit::count_action(&mut conn, action).unwrap()
}

fn round_count(app: &TestApp) -> usize {
    let mut conn = app.pool.get().unwrap();
    khaosat::db::rounds::list(&mut conn).unwrap().len()
}

fn utc(text: &str) -> NaiveDateTime {
    NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M").unwrap()
}

#[tokio::test]
async fn a_refused_round_form_comes_back_with_every_typed_value_and_vietnamese_errors_beside_their_fields()
 {
    let app = spawn_app().await;
    app.login_as("admin@sonoivu.gov.vn", Role::Admin).await;
    let before = round_count(&app);
    let response = app
        .submit(
            "/admin/rounds",
            "/admin/rounds",
            &[
                ("year", "2024"),
                ("name_vi", "Khảo sát CCHC năm 2024"),
                ("name_en", "PAR survey 2024"),
                ("unit_set", rounds::UNITS_2025),
                ("opens_at", "2024-09-01T08:00"),
                ("closes_at", "2024-08-01T17:30"),
            ],
        )
        .await;
    assert_eq!(response.status(), 422);
    let html = response.text().await.unwrap();
    for typed in [
        r#"value="2024""#,
        r#"value="Khảo sát CCHC năm 2024""#,
        r#"value="PAR survey 2024""#,
        r#"value="2024-09-01T08:00""#,
        r#"value="2024-08-01T17:30""#,
    ] {
        assert!(html.contains(typed), "{typed} kept");
    }
    assert!(
        html.contains(&format!(
            r#"<option value="{}" selected>"#,
            rounds::UNITS_2025
        )),
        "the chosen unit list stays chosen"
    );
    let message = "Thời gian đóng đang sớm hơn thời gian mở";
    assert_eq!(
        html.matches(message).count(),
        2,
        "beside the field and in the summary"
    );
    assert!(html.contains(r##"<a href="#closes_at">"##));
    assert!(html.contains(r#"id="closes_at-error""#));
    assert!(
        html.contains(r#"aria-describedby="closes_at-hint closes_at-error" aria-invalid="true""#)
    );
    assert!(html.contains("Có lỗi cần sửa"));
    assert_eq!(round_count(&app), before, "nothing was created");

    // Several fields at once, each named.
    let response = app
        .submit(
            "/admin/rounds",
            "/admin/rounds",
            &[
                ("year", "hai nghìn"),
                ("name_vi", ""),
                ("name_en", ""),
                ("unit_set", rounds::PROVINCES_2023),
                ("opens_at", ""),
                ("closes_at", ""),
            ],
        )
        .await;
    assert_eq!(response.status(), 422);
    let html = response.text().await.unwrap();
    assert!(html.contains(r#"value="hai nghìn""#));
    assert!(html.contains("'hai nghìn' không phải là một năm"));
    assert!(html.contains(r##"<a href="#year">"##) && html.contains(r##"<a href="#name_vi">"##));
    assert!(html.contains(&format!(
        r#"<option value="{}" selected>"#,
        rounds::PROVINCES_2023
    )));
}

#[tokio::test]
async fn a_target_typed_in_words_comes_back_with_the_group_and_a_vietnamese_error() {
    let app = spawn_app().await;
    app.login_as("admin@sonoivu.gov.vn", Role::Admin).await;
    let round = draft_round(&app, 0);
    let page = format!("/admin/rounds/{round}");
    let response = app
        .submit(
            &page,
            &format!("{page}/targets"),
            &[("group", "civil_servant"), ("target", "mười")],
        )
        .await;
    assert_eq!(response.status(), 422);
    let html = response.text().await.unwrap();
    assert!(html.contains(r#"value="mười""#));
    assert!(html.contains(r#"<option value="civil_servant" selected>"#));
    assert!(html.contains("'mười' không phải là số nguyên"));
    assert!(html.contains(r##"<a href="#target">"##));
    assert!(html.contains(r#"aria-describedby="target-error" aria-invalid="true""#));
}

#[tokio::test]
async fn editing_a_draft_changes_it_and_is_audited() {
    let app = spawn_app().await;
    app.login_as("admin@sonoivu.gov.vn", Role::Admin).await;
    let round = draft_round(&app, 0);
    let edit = format!("/admin/rounds/{round}/edit");
    let form = app.get_html(&edit).await;
    assert!(form.contains(r#"value="Khảo sát CCHC 2025""#), "pre-filled");
    let response = app
        .submit(
            &edit,
            &edit,
            &[
                ("year", "2024"),
                ("name_vi", "Khảo sát CCHC 2024"),
                ("name_en", "PAR survey 2024"),
                ("unit_set", rounds::PROVINCES_2023),
                ("opens_at", ""),
                ("closes_at", ""),
            ],
        )
        .await;
    assert_eq!(response.status(), 303);
    let stored = stored_round(&app, round).unwrap();
    assert_eq!(
        (stored.year, stored.name_vi.as_str()),
        (2024, "Khảo sát CCHC 2024")
    );
    let mut conn = app.pool.get().unwrap();
    assert_eq!(
        khaosat::db::rounds::units(&mut conn, round).unwrap().len(),
        63
    );
    assert_eq!(audited(&app, "round:edit"), 1);
    assert!(
        app.get_html(&format!("/admin/rounds/{round}?done=edited"))
            .await
            .contains("Đã lưu thay đổi của đợt khảo sát.")
    );
}

#[tokio::test]
async fn deleting_a_draft_asks_first_then_removes_it_and_is_audited() {
    let app = spawn_app().await;
    app.login_as("admin@sonoivu.gov.vn", Role::Admin).await;
    let round = draft_round(&app, 3);
    let delete = format!("/admin/rounds/{round}/delete");
    let confirm = app.get_html(&delete).await;
    assert!(
        confirm.contains("cùng với 3 người trong danh sách"),
        "{confirm}"
    );
    assert!(
        stored_round(&app, round).is_some(),
        "asking deletes nothing"
    );
    let response = app.submit(&delete, &delete, &[]).await;
    assert_eq!(response.status(), 303);
    assert_eq!(
        response.headers()["location"].to_str().unwrap(),
        "/admin/rounds?done=deleted"
    );
    assert!(stored_round(&app, round).is_none());
    assert_eq!(audited(&app, "round:delete"), 1);
    assert!(
        app.get_html("/admin/rounds?done=deleted")
            .await
            .contains("Đã xóa đợt khảo sát.")
    );
}

#[tokio::test]
async fn an_open_round_can_extend_its_closing_time_and_change_targets_but_not_a_draft_only_field() {
    let app = spawn_app().await;
    app.login_as("admin@sonoivu.gov.vn", Role::Admin).await;
    let round = draft_round(&app, 0);
    let zone = khaosat::domain::local_time::TimeZone::default();
    let now = khaosat::db::now();
    let closes = now + chrono::Duration::days(10);
    {
        let mut conn = app.pool.get().unwrap();
        let form = rounds::RoundForm {
            closes_at: Some(zone.input_value(closes)),
            ..rounds::RoundForm::of_round(
                &stored_round(&app, round).unwrap(),
                rounds::UNITS_2025,
                zone,
            )
        };
        rounds::edit_round(&mut conn, round, &form, zone, ADMIN).unwrap();
        rounds::apply_action(&mut conn, round, RoundAction::Open, ADMIN).unwrap();
    }
    let edit = format!("/admin/rounds/{round}/edit");
    let page = app.get_html(&edit).await;
    assert!(
        !page.contains(r#"name="year""#),
        "only the closing time is offered"
    );

    let later = zone.input_value(now + chrono::Duration::days(20));
    let response = app
        .submit(&edit, &edit, &[("year", "2030"), ("closes_at", &later)])
        .await;
    assert_eq!(response.status(), 422);
    let html = response.text().await.unwrap();
    assert!(html.contains("Mục này chỉ sửa được khi đợt khảo sát còn là bản nháp."));
    assert!(html.contains(r##"<a href="#year">"##));
    assert_eq!(stored_round(&app, round).unwrap().year, 2025);

    let earlier = zone.input_value(now + chrono::Duration::days(5));
    let response = app.submit(&edit, &edit, &[("closes_at", &earlier)]).await;
    assert_eq!(response.status(), 422);
    assert!(response.text().await.unwrap().contains("Chỉ được gia hạn"));

    let response = app.submit(&edit, &edit, &[("closes_at", &later)]).await;
    assert_eq!(response.status(), 303);
    let stored = stored_round(&app, round).unwrap();
    assert_eq!(
        stored.closes_at.map(|t| zone.input_value(t)),
        Some(later.clone())
    );
    assert_eq!(audited(&app, "round:extend"), 1);

    let page = format!("/admin/rounds/{round}");
    let response = app
        .submit(
            &page,
            &format!("{page}/targets"),
            &[("group", "leader"), ("target", "12")],
        )
        .await;
    assert_eq!(response.status(), 303);
    assert_eq!(audited(&app, "round:set_targets"), 1);
    let delete = format!("{page}/delete");
    assert_eq!(
        app.get(&delete).await.status(),
        422,
        "an open round is not deleted"
    );

    let mut conn = app.pool.get().unwrap();
    rounds::apply_action(&mut conn, round, RoundAction::Close, ADMIN).unwrap();
    let closed = app.get(&edit).await;
    assert_eq!(closed.status(), 422, "a closed round is not edited");
    assert!(
        closed
            .text()
            .await
            .unwrap()
            .contains("Đợt khảo sát đã đóng: không sửa được nữa.")
    );
}

#[tokio::test]
async fn a_time_typed_as_eight_in_vietnam_is_stored_as_one_utc_and_shown_back_as_eight() {
    let app = spawn_app().await;
    app.login_as("admin@sonoivu.gov.vn", Role::Admin).await;
    let form = app.get_html("/admin/rounds").await;
    assert!(
        form.contains("Giờ Việt Nam (Asia/Ho_Chi_Minh)"),
        "the form names the zone"
    );
    let response = app
        .submit(
            "/admin/rounds",
            "/admin/rounds",
            &[
                ("year", "2030"),
                ("name_vi", "Khảo sát CCHC 2030"),
                ("name_en", ""),
                ("unit_set", rounds::UNITS_2025),
                ("opens_at", "2030-09-01T08:00"),
                ("closes_at", "2030-10-01T17:00"),
            ],
        )
        .await;
    assert_eq!(response.status(), 303);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let round: i64 = location
        .trim_start_matches("/admin/rounds/")
        .split('?')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let stored = stored_round(&app, round).unwrap();
    assert_eq!(stored.opens_at, Some(utc("2030-09-01T01:00")));
    assert_eq!(stored.closes_at, Some(utc("2030-10-01T10:00")));
    let page = app.get_html(&location).await;
    assert!(page.contains("01/09/2030 08:00") && page.contains("01/10/2030 17:00"));
    let edit = app.get_html(&format!("/admin/rounds/{round}/edit")).await;
    assert!(edit.contains(r#"value="2030-09-01T08:00""#));
    let list = app.get_html("/admin/rounds").await;
    assert!(list.contains("01/09/2030 08:00"));
}

#[tokio::test]
async fn each_group_is_offered_its_own_questionnaire_and_a_methodology_that_scores_it() {
    let app = spawn_app().await;
    app.login_as("admin@sonoivu.gov.vn", Role::Admin).await;
    let round = {
        let mut conn = app.pool.get().unwrap();
        let input = rounds::NewRoundInput {
            year: 2025,
            name_vi: "Khảo sát CCHC 2025".into(),
            name_en: "PAR survey 2025".into(),
            unit_set_code: rounds::UNITS_2025.into(),
            opens_at: None,
            closes_at: None,
        };
        rounds::create_round(&mut conn, &input, ADMIN).unwrap()
    };
    let html = app.get_html(&format!("/admin/rounds/{round}")).await;
    let selected_in = |select_id: &str| -> String {
        let start = html
            .find(&format!("id=\"{select_id}\""))
            .unwrap_or_else(|| panic!("{select_id} in {html}"));
        let select = &html[start..start + html[start..].find("</select>").unwrap()];
        let option = &select[..select
            .find(" selected")
            .unwrap_or_else(|| panic!("a choice in {select}"))];
        let text_start = select[option.len()..].find('>').unwrap() + option.len() + 1;
        let text = &select[text_start..];
        text[..text.find('<').unwrap()].to_owned()
    };
    for (group, instrument, methodology) in [
        ("leader", "par-leader", "par-2022"),
        ("civil_servant", "par-civil-servant", "par-2022"),
        ("citizen", "sipas", "sipas-2023"),
    ] {
        assert!(
            selected_in(&format!("instrument_id-{group}")).starts_with(instrument),
            "{group}"
        );
        assert!(
            selected_in(&format!("methodology_id-{group}")).starts_with(methodology),
            "{group}"
        );
    }
}

#[tokio::test]
async fn opening_a_round_says_what_will_happen_asks_for_confirmation_then_says_what_happened() {
    let app = spawn_app().await;
    app.login_as("admin@sonoivu.gov.vn", Role::Admin).await;
    let round = draft_round(&app, 3);
    let page = format!("/admin/rounds/{round}");
    // The round page links to a confirmation page instead of acting at once.
    let round_page = app.get_html(&page).await;
    assert!(round_page.contains(&format!("href=\"{page}/actions/open\"")));
    let confirm = app.get_html(&format!("{page}/actions/open")).await;
    assert!(confirm.contains("Xác nhận"), "{confirm}");
    assert!(confirm.contains("Người trong danh sách"));
    assert_eq!(stored_round(&app, round).unwrap().status.code(), "draft");

    let response = app
        .submit(
            &format!("{page}/actions/open"),
            &format!("{page}/actions/open"),
            &[],
        )
        .await;
    assert_eq!(response.status(), 303);
    let done_at = response.headers()["location"].to_str().unwrap().to_owned();
    assert_eq!(done_at, format!("{page}/actions/open/done"));
    let done = app.get_html(&done_at).await;
    assert!(done.contains("Đã thực hiện"), "{done}");
    assert_eq!(stored_round(&app, round).unwrap().status.code(), "open");

    // An action the round's state does not allow is refused with the reason, not confirmed.
    let refused = app.get(&format!("{page}/actions/publish")).await;
    assert_eq!(refused.status(), 422);

    // A round that could not open is not offered a confirmation either.
    let empty = {
        let mut conn = app.pool.get().unwrap();
        let input = rounds::NewRoundInput {
            year: 2025,
            name_vi: "Khảo sát trống".into(),
            name_en: "Empty survey".into(),
            unit_set_code: rounds::UNITS_2025.into(),
            opens_at: None,
            closes_at: None,
        };
        rounds::create_round(&mut conn, &input, ADMIN).unwrap()
    };
    let not_ready = app
        .get(&format!("/admin/rounds/{empty}/actions/open"))
        .await;
    assert_eq!(not_ready.status(), 422);
}
