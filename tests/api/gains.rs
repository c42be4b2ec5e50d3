//! Where a unit can gain: the gains page and its API on a demo round of the 63 provinces of
//! 2023 (Sơn La is unit 14), opened by the same rules as the unit page: sorted by points
//! recoverable, login for unpublished rounds, and a coordinator sees only their own units.

use khaosat::app::demo::{self, DemoSpec};
use khaosat::domain::account::Role;

use crate::helpers::{TestApp, spawn_app};
use crate::results::{api_get, make_token, publish};

/// Sơn La's code in the 2023 province list.
pub(crate) const SON_LA: &str = "14";

/// A demo round of the 63 provinces of 2023, with appraised points.
pub(crate) fn demo_2024(app: &TestApp) -> i64 {
    let mut conn = app.pool.get().unwrap();
    demo::create(
        &mut conn,
        DemoSpec {
            year: 2024,
            responses: 1900,
            seed: 11,
        },
    )
    .unwrap()
}

/// The `data-code` attributes of the rows of the table with `id`, in page order.
pub(crate) fn row_codes(html: &str, id: &str) -> Vec<String> {
    let start = html
        .find(&format!("<table id=\"{id}\""))
        .unwrap_or_else(|| panic!("table {id}"));
    let table = &html[start..start + html[start..].find("</table>").unwrap()];
    table
        .split("<tr data-code=\"")
        .skip(1)
        .map(|rest| rest[..rest.find('"').unwrap()].to_owned())
        .collect()
}

/// The API's gains of a unit, as JSON.
pub(crate) async fn api_gains(
    app: &TestApp,
    token: &str,
    round: i64,
    unit: &str,
) -> reqwest::Response {
    api_get(
        app,
        token,
        &format!("/api/v1/rounds/{round}/units/{unit}/gains"),
    )
    .await
}

pub(crate) fn number(v: &serde_json::Value) -> Option<f64> {
    v.as_f64()
        .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
}

#[tokio::test]
async fn son_la_s_page_and_api_list_its_questions_by_points_recoverable() {
    let app = spawn_app().await;
    let round = demo_2024(&app);
    app.login_as("analyst@sonoivu.gov.vn", Role::Analyst).await;

    let unit_page = app
        .get_html(&format!("/results/{round}/units/{SON_LA}"))
        .await;
    assert!(
        unit_page.contains(&format!("href=\"/results/{round}/units/{SON_LA}/gains\"")),
        "the unit page links to its gains"
    );
    let page = app
        .get_html(&format!("/results/{round}/units/{SON_LA}/gains"))
        .await;
    assert!(page.contains("Sơn La"));
    assert!(page.contains("<svg"), "the chart of gaps is drawn");
    assert!(page.contains("id=\"gaps-title\""), "the chart has a title");
    assert!(page.contains("chart-table"), "the chart has a data table");
    assert!(page.contains("Điều tra xã hội học") && page.contains("Thẩm định"));

    let token = make_token(&app, "read").await;
    let response = api_gains(&app, &token, round, SON_LA).await;
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["unit"], SON_LA);
    assert_eq!(body["compared_units"], 63);
    let stakes = body["stakes"].as_array().unwrap();
    let items: Vec<&serde_json::Value> = stakes.iter().filter(|s| s["level"] == "item").collect();
    // The 40 leader questions: the civil servants' group is reported only, so nothing of it
    // is at stake in the index.
    assert_eq!(items.len(), 40);
    assert!(items.iter().all(|s| s["group"] == "leader"));
    // Most points lost first, and each figure consistent with the others.
    let lost: Vec<f64> = items
        .iter()
        .filter_map(|s| number(&s["points_lost"]))
        .collect();
    assert!(lost.windows(2).all(|w| w[0] >= w[1]), "{lost:?}");
    assert!(
        lost.first() > lost.last(),
        "the demo's items differ: {lost:?}"
    );
    for s in &items {
        let (Some(points), Some(max), Some(lost), Some(best)) = (
            number(&s["points"]),
            number(&s["max_points"]),
            number(&s["points_lost"]),
            number(&s["national_best"]),
        ) else {
            continue;
        };
        assert!((max - points - lost).abs() < 1e-6, "{s}");
        assert!(best >= points - 1e-9, "{s}");
        let gap = number(&s["gap_to_national_best"]).unwrap();
        assert!((best - points - gap).abs() < 1e-6, "{s}");
    }
    // Survey and appraised points of a component are separate, labelled rows.
    for part in ["survey", "appraised"] {
        assert!(
            stakes
                .iter()
                .any(|s| s["level"] == "component" && s["part"] == part && s["code"] == "C3"),
            "C3 {part}"
        );
    }
    // The waterfall runs from the maximum down to the sum of the components' points.
    assert!(
        page.contains("id=\"waterfall-title\""),
        "the waterfall is drawn"
    );
    let components: Vec<&serde_json::Value> = stakes
        .iter()
        .filter(|s| s["level"] == "component")
        .collect();
    let points: f64 = components.iter().filter_map(|s| number(&s["points"])).sum();
    let maximum: f64 = components
        .iter()
        .filter_map(|s| number(&s["max_points"]))
        .sum();
    let last_row = |label: &str| {
        let start = page.find(&format!("<td>{label}</td>")).unwrap();
        let row = &page[start..start + page[start..].find("</tr>").unwrap()];
        let cells: Vec<&str> = row
            .split("<td class=\"num\">")
            .skip(1)
            .map(|c| &c[..c.find("</td>").unwrap()])
            .collect();
        cells.last().unwrap().to_string()
    };
    assert_eq!(last_row("Điểm tối đa"), vi_points(maximum));
    assert_eq!(last_row("Điểm của đơn vị"), vi_points(points));
    // The page's question table is in the API's order.
    let api_order: Vec<String> = items
        .iter()
        .map(|s| s["code"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(row_codes(&page, "stakes-items"), api_order);
}

#[tokio::test]
async fn an_unpublished_round_s_gains_need_a_login_as_its_unit_page_does() {
    let app = spawn_app().await;
    let round = demo_2024(&app);
    let anonymous = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let status_of = |path: String| {
        let c = anonymous.clone();
        let url = app.url(&path);
        async move { c.get(url).send().await.unwrap().status().as_u16() }
    };
    let unit = status_of(format!("/results/{round}/units/{SON_LA}")).await;
    let gains = status_of(format!("/results/{round}/units/{SON_LA}/gains")).await;
    assert_ne!(unit, 200);
    assert_eq!(gains, unit, "the gains page answers as the unit page");
    let api = status_of(format!("/api/v1/rounds/{round}/units/{SON_LA}/gains")).await;
    assert_eq!(api, 401);

    publish(&app, round);
    let gains = status_of(format!("/results/{round}/units/{SON_LA}/gains")).await;
    assert_eq!(gains, 200, "published gains are public");
    let api = anonymous
        .get(app.url(&format!("/api/v1/rounds/{round}/units/{SON_LA}/gains")))
        .send()
        .await
        .unwrap();
    assert_eq!(api.status(), 200);
    let body: serde_json::Value = api.json().await.unwrap();
    assert_eq!(body["source"], "published");
    let unknown = status_of(format!("/results/{round}/units/no-such-unit/gains")).await;
    assert_eq!(unknown, 404);
}

/// Signs in as a coordinator of Sơn La only, and returns another unit of `round`.
pub(crate) async fn sign_in_as_son_la_s_coordinator(
    app: &TestApp,
    round: i64,
) -> khaosat::db::units::UnitRow {
    app.login_as("coord@sonoivu.gov.vn", Role::Coordinator)
        .await;
    let mut conn = app.pool.get().unwrap();
    let units = khaosat::db::rounds::units(&mut conn, round).unwrap();
    let user = khaosat::db::users::by_email(&mut conn, "coord@sonoivu.gov.vn")
        .unwrap()
        .unwrap();
    let son_la = units.iter().find(|u| u.code == SON_LA).unwrap();
    khaosat::db::users::add_unit(&mut conn, user.id, son_la.id).unwrap();
    units.iter().find(|u| u.code != SON_LA).unwrap().clone()
}

#[tokio::test]
async fn a_coordinator_of_one_unit_cannot_see_another_unit_s_gains() {
    let app = spawn_app().await;
    let round = demo_2024(&app);
    let other = sign_in_as_son_la_s_coordinator(&app, round).await;
    let mine = app
        .get(&format!("/results/{round}/units/{SON_LA}/gains"))
        .await;
    assert_eq!(mine.status(), 200);
    let theirs = app
        .get(&format!("/results/{round}/units/{}/gains", other.code))
        .await;
    assert_eq!(theirs.status(), 404);

    let token = make_token(&app, "read").await;
    let theirs = api_gains(&app, &token, round, &other.code).await;
    assert_eq!(theirs.status(), 404);
    let mine = api_gains(&app, &token, round, SON_LA).await;
    assert_eq!(mine.status(), 200);
    let body = mine.text().await.unwrap();
    // The best values come from the units the coordinator may see: their own only.
    let json: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(json["compared_units"], 1);
    assert!(!body.contains(&other.name_vi));
}

/// "+30 points of 'Rất tốt' on the leaders' criterion C3-LD, and aim at the national top 10."
const LIFT_C3: &str = "shift1_group=leader&shift1_target=criterion:C3-LD&shift1_to=1&shift1_pp=30\
    &shift2_group=&shift2_target=&shift2_to=&shift2_pp=&goal=rank&goal_value=10";

/// The before and after cells of the what-if outcome row `row` of a page.
fn outcome_cells(html: &str, row: &str) -> (String, String) {
    let start = html
        .find(&format!("<tr data-row=\"{row}\">"))
        .unwrap_or_else(|| panic!("row {row}"));
    let tr = &html[start..start + html[start..].find("</tr>").unwrap()];
    let cells: Vec<String> = tr
        .split("<td class=\"num\">")
        .skip(1)
        .map(|c| c[..c.find("</td>").unwrap()].to_owned())
        .collect();
    (cells[0].clone(), cells[1].clone())
}

/// A number as Vietnamese pages write points: two decimals, a decimal comma.
fn vi_points(x: f64) -> String {
    format!("{x:.2}").replace('.', ",")
}

#[tokio::test]
async fn the_what_if_form_on_son_la_changes_its_total_and_never_its_stored_results() {
    let app = spawn_app().await;
    let round = demo_2024(&app);
    app.login_as("analyst@sonoivu.gov.vn", Role::Analyst).await;
    let unit_url = format!("/results/{round}/units/{SON_LA}");
    let unit_before = app.get_html(&unit_url).await;

    let empty = app.get_html(&format!("{unit_url}/gains")).await;
    assert!(
        empty.contains("<form method=\"get\""),
        "the form is a GET form"
    );
    assert!(!empty.contains("<script"), "the form needs no script");
    assert!(
        !empty.contains("what-if-outcome"),
        "nothing is simulated unasked"
    );

    let page = app.get_html(&format!("{unit_url}/gains?{LIFT_C3}")).await;
    let (total_before, total_after) = outcome_cells(&page, "total");
    assert_ne!(total_before, total_after, "lifting C3-LD changes the total");
    let (survey_before, survey_after) = outcome_cells(&page, "survey");
    assert_ne!(survey_before, survey_after);
    let (group_before, group_after) = outcome_cells(&page, "group-leader");
    assert_ne!(group_before, group_after);
    assert!(
        page.contains("id=\"what-if-levers\""),
        "the rank goal has a plan"
    );
    // The form is filled in again with what was sent.
    assert!(page.contains("value=\"criterion:C3-LD\" selected"));

    // Nothing was stored: the unit page is as it was.
    let unit_after = app.get_html(&unit_url).await;
    assert_eq!(unit_before, unit_after);

    // The API answers the same numbers.
    let token = make_token(&app, "read").await;
    let response = api_get(
        &app,
        &token,
        &format!("/api/v1/rounds/{round}/units/{SON_LA}/whatif?{LIFT_C3}"),
    )
    .await;
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    let before = body["before"]["total_points"].as_f64().unwrap();
    let after = body["after"]["total_points"].as_f64().unwrap();
    assert!(after > before, "{before} → {after}");
    assert_eq!(total_before, vi_points(before));
    assert_eq!(total_after, vi_points(after));
    assert!(body["moved_answers"][0].as_u64().unwrap() > 0);
    let plan = &body["plan"];
    assert_eq!(plan["goal"], "rank");
    assert!(plan["extra_points"].as_f64().unwrap() >= 0.0);
    let rates: Vec<f64> = plan["levers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["points_per_pp"].as_f64().unwrap())
        .collect();
    assert!(!rates.is_empty());
    assert!(rates.windows(2).all(|w| w[0] >= w[1]), "{rates:?}");
    assert!(rates.iter().all(|r| *r > 0.0));

    // Asked nothing, the API answers the unit as it is.
    let response = api_get(
        &app,
        &token,
        &format!("/api/v1/rounds/{round}/units/{SON_LA}/whatif"),
    )
    .await;
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["before"], body["after"]);
    assert!(body["plan"].is_null());
}

#[tokio::test]
async fn a_refused_what_if_field_is_named_on_the_page_and_in_the_api() {
    let app = spawn_app().await;
    let round = demo_2024(&app);
    app.login_as("analyst@sonoivu.gov.vn", Role::Analyst).await;
    let gains = format!("/results/{round}/units/{SON_LA}/gains");

    // Malformed: refused while parsing.
    let bad_pp = "shift1_group=leader&shift1_target=criterion:C3-LD&shift1_to=1&shift1_pp=150";
    let response = app.get(&format!("{gains}?{bad_pp}")).await;
    assert_eq!(response.status(), 400);
    let page = response.text().await.unwrap();
    assert!(page.contains("Trường shift1_pp"), "the field is named");
    assert!(page.contains("phải từ 0 đến 100 điểm phần trăm"));
    assert!(
        page.contains("href=\"#shift1_pp\""),
        "the message links to the field"
    );
    assert!(
        page.contains("id=\"stakes-items\""),
        "the rest of the page is there"
    );

    // Well-formed but unknown to the methodology: refused by the simulation.
    let unknown = "shift1_group=leader&shift1_target=criterion:NO-SUCH&shift1_to=1&shift1_pp=10";
    let response = app.get(&format!("{gains}?{unknown}")).await;
    assert_eq!(response.status(), 400);
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("Trường shift1_target")
    );
    let response = app.get(&format!("{gains}?goal=tier&goal_value=Z")).await;
    assert_eq!(response.status(), 400);
    assert!(response.text().await.unwrap().contains("Trường goal_value"));
    // Appraised points above the component's maximum: refused by the scoring engine.
    let response = app
        .get(&format!(
            "{gains}?appraised1_component=C3&appraised1_points=999"
        ))
        .await;
    assert_eq!(response.status(), 400);
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("Trường appraised1_points")
    );

    let token = make_token(&app, "read").await;
    for (query, field) in [(bad_pp, "shift1_pp"), (unknown, "shift1_target")] {
        let response = api_get(
            &app,
            &token,
            &format!("/api/v1/rounds/{round}/units/{SON_LA}/whatif?{query}"),
        )
        .await;
        assert_eq!(response.status(), 400);
        let body: serde_json::Value = response.json().await.unwrap();
        let detail = body["error"]["detail"].as_str().unwrap();
        assert!(detail.contains(&format!("Field {field}")), "{detail}");
    }
}

#[tokio::test]
async fn a_coordinator_of_one_unit_cannot_simulate_another_unit() {
    let app = spawn_app().await;
    let round = demo_2024(&app);
    let other = sign_in_as_son_la_s_coordinator(&app, round).await;
    let page = |unit: String| format!("/results/{round}/units/{unit}/gains?{LIFT_C3}");
    assert_eq!(app.get(&page(SON_LA.to_owned())).await.status(), 200);
    assert_eq!(app.get(&page(other.code.clone())).await.status(), 404);
    let token = make_token(&app, "read").await;
    let api = |unit: String| format!("/api/v1/rounds/{round}/units/{unit}/whatif?{LIFT_C3}");
    let theirs = api_get(&app, &token, &api(other.code.clone())).await;
    assert_eq!(theirs.status(), 404);
    let mine = api_get(&app, &token, &api(SON_LA.to_owned())).await;
    assert_eq!(mine.status(), 200);
    let body: serde_json::Value = mine.json().await.unwrap();
    // Ranked among the units the coordinator may see: their own only.
    assert_eq!(body["after"]["national"]["of"], 1);
}

#[tokio::test]
async fn the_public_cannot_simulate_a_group_whose_answers_disclosure_control_hides() {
    let app = spawn_app().await;
    // About two respondents per unit and group: below every unit's disclosure threshold (k = 10).
    let round = {
        let mut conn = app.pool.get().unwrap();
        demo::create(
            &mut conn,
            DemoSpec {
                year: 2024,
                responses: 400,
                seed: 11,
            },
        )
        .unwrap()
    };
    publish(&app, round);
    let gains = format!("/results/{round}/units/{SON_LA}/gains");

    // The public sees the points at stake of the published round, but may not move answers
    // whose distribution it is not shown: the field is named, nothing is simulated.
    let public = app.get(&format!("{gains}?{LIFT_C3}")).await;
    assert_eq!(public.status(), 400);
    let page = public.text().await.unwrap();
    assert!(
        page.contains("không được hiển thị ở chế độ xem này"),
        "the refusal says why"
    );
    assert!(!page.contains("what-if-outcome"), "nothing was simulated");
    // Its plan lists the criteria without the effect of reaching the best, which would need
    // those distributions.
    let plan = app
        .get_html(&format!("/results/{round}/units/{SON_LA}/plan"))
        .await;
    assert!(plan.contains("id=\"plan-criteria\""));

    // Staff see every distribution, so the same question is answered for them.
    app.login_as("analyst@sonoivu.gov.vn", Role::Analyst).await;
    let staff = app.get(&format!("{gains}?{LIFT_C3}")).await;
    assert_eq!(staff.status(), 200);
    assert!(staff.text().await.unwrap().contains("what-if-outcome"));
}

#[tokio::test]
async fn gains_plan_and_what_if_answer_when_most_units_have_no_responses() {
    let app = spawn_app().await;
    // Thirty responses over 63 provinces and three groups: most units have none.
    let round = {
        let mut conn = app.pool.get().unwrap();
        demo::create(
            &mut conn,
            DemoSpec {
                year: 2024,
                responses: 30,
                seed: 11,
            },
        )
        .unwrap()
    };
    app.login_as("analyst@sonoivu.gov.vn", Role::Analyst).await;
    let token = make_token(&app, "read").await;
    for unit in ["01", SON_LA, "96"] {
        let base = format!("/results/{round}/units/{unit}");
        for path in [
            format!("{base}/gains"),
            format!("{base}/gains?{LIFT_C3}"),
            format!("{base}/plan"),
            format!("{base}/plan.xlsx"),
        ] {
            let status = app.get(&path).await.status().as_u16();
            assert!(
                status == 200 || status == 400,
                "{path}: a page or a named refusal, not {status}"
            );
        }
        let api = api_gains(&app, &token, round, unit).await;
        assert_eq!(api.status(), 200, "{unit}");
        let body = api.text().await.unwrap();
        assert!(!body.contains("NaN"), "{unit}: no number made of nothing");
    }
}
