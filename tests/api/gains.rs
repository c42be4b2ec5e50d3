//! Where a unit can gain: the gains page and its API on a demo round of the 63 provinces of
//! 2023 (Sơn La is unit 14), opened by the same rules as the unit page: sorted by points
//! recoverable, login for unpublished rounds, and a coordinator sees only their own units.

use khaosat::app::demo::{self, DemoSpec};
use khaosat::domain::account::Role;

use crate::helpers::{TestApp, spawn_app};
use crate::results::{api_get, make_token, publish};

/// Sơn La's code in the 2023 province list.
const SON_LA: &str = "14";

/// A demo round of the 63 provinces of 2023, with appraised points.
fn demo_2024(app: &TestApp) -> i64 {
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
fn row_codes(html: &str, id: &str) -> Vec<String> {
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
async fn api_gains(app: &TestApp, token: &str, round: i64, unit: &str) -> reqwest::Response {
    api_get(
        app,
        token,
        &format!("/api/v1/rounds/{round}/units/{unit}/gains"),
    )
    .await
}

fn number(v: &serde_json::Value) -> Option<f64> {
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

#[tokio::test]
async fn a_coordinator_of_one_unit_cannot_see_another_unit_s_gains() {
    let app = spawn_app().await;
    let round = demo_2024(&app);
    app.login_as("coord@sonoivu.gov.vn", Role::Coordinator)
        .await;
    let other = {
        let mut conn = app.pool.get().unwrap();
        let units = khaosat::db::rounds::units(&mut conn, round).unwrap();
        let user = khaosat::db::users::by_email(&mut conn, "coord@sonoivu.gov.vn")
            .unwrap()
            .unwrap();
        let son_la = units.iter().find(|u| u.code == SON_LA).unwrap();
        khaosat::db::users::add_unit(&mut conn, user.id, son_la.id).unwrap();
        units.iter().find(|u| u.code != SON_LA).unwrap().clone()
    };
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
