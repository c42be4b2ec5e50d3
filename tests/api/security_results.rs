//! What published results may reveal: a year-over-year comparison shows only published figures
//! of the earlier round to the public (and coordinators only their units' live ones), and a
//! coordinator's round page counts only their own units' respondents.

use khaosat::app::demo::{self, DemoSpec};
use khaosat::domain::account::Role;
use serde_json::Value;

use crate::helpers::{TestApp, spawn_app};
use crate::paper::desk;
use crate::results::publish;

const ADMIN: khaosat::app::rounds::Actor<'static> = khaosat::app::rounds::Actor {
    user_id: None,
    label: "test",
    role: khaosat::domain::account::Role::Admin,
};

/// A 2023 round (63 provinces) and a 2025 round (34 units) compared with it: (earlier, later).
fn compared_rounds(app: &TestApp) -> (i64, i64) {
    let mut conn = app.pool.get().unwrap();
    let earlier = demo::create(
        &mut conn,
        DemoSpec {
            year: 2023,
            responses: 63 * 3 * 2,
            seed: 31,
        },
    )
    .unwrap();
    let later = demo::create(
        &mut conn,
        DemoSpec {
            year: 2025,
            responses: 34 * 3 * 2,
            seed: 32,
        },
    )
    .unwrap();
    khaosat::app::rounds::set_compare_round(&mut conn, later, Some(earlier), ADMIN).unwrap();
    (earlier, later)
}

/// A client without a session; idle connections end before the server's keep-alive does, so a
/// request after a long computation never races the server closing its connection.
pub fn anonymous() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .pool_idle_timeout(std::time::Duration::from_secs(1))
        .build()
        .unwrap()
}

/// GET as `client`, asserting 200.
async fn text(app: &TestApp, client: &reqwest::Client, path: &str) -> String {
    let r = client.get(app.url(path)).send().await.unwrap();
    assert_eq!(r.status(), 200, "GET {path}");
    r.text().await.unwrap()
}

/// The `year_over_year` table of `scores.json` as `client` sees it.
async fn yoy_json(app: &TestApp, client: &reqwest::Client, round: i64) -> Vec<Value> {
    let body = text(
        app,
        client,
        &format!("/results/{round}/download/scores.json"),
    )
    .await;
    let json: Value = serde_json::from_str(&body).unwrap();
    json["year_over_year"].as_array().unwrap().clone()
}

/// The data rows of `scores.csv?table=year_over_year` as `client` sees it.
async fn yoy_csv(app: &TestApp, client: &reqwest::Client, round: i64) -> Vec<csv::StringRecord> {
    let body = text(
        app,
        client,
        &format!("/results/{round}/download/scores.csv?table=year_over_year&bom=0"),
    )
    .await;
    csv::Reader::from_reader(body.as_bytes())
        .records()
        .map(Result::unwrap)
        .collect()
}

fn shows_change_columns(html: &str) -> bool {
    html.contains("Thay đổi (điểm %)") || html.contains("Change (% points)")
}

#[tokio::test]
async fn the_public_compares_only_with_the_published_snapshot_of_the_earlier_round() {
    let app = spawn_app().await;
    let (earlier, later) = compared_rounds(&app);
    publish(&app, later);
    let public = anonymous();

    // The earlier round is unpublished: no comparison at all for the public.
    let page = text(&app, &public, &format!("/results/{later}")).await;
    assert!(!shows_change_columns(&page), "change columns on the page");
    let card = text(&app, &public, &format!("/results/{later}/units/ha-noi")).await;
    assert!(!shows_change_columns(&card), "a change on the scorecard");
    assert_eq!(yoy_json(&app, &public, later).await, Vec::<Value>::new());
    assert!(yoy_csv(&app, &public, later).await.is_empty());

    // Staff may still work with the live figures.
    let admin = desk(&app, "admin@sonoivu.gov.vn", Role::Admin).await;
    assert!(shows_change_columns(
        &text(&app, &admin, &format!("/results/{later}")).await
    ));
    assert_eq!(yoy_json(&app, &admin, later).await.len(), 34);

    // Once published, the public compares with that snapshot.
    publish(&app, earlier);
    let page = text(&app, &public, &format!("/results/{later}")).await;
    assert!(shows_change_columns(&page));
    let before = yoy_json(&app, &public, later).await;
    assert_eq!(before.len(), 34);
    assert!(before.iter().all(|c| c["earlier_points"].is_f64()));
    let csv_before = yoy_csv(&app, &public, later).await;

    // The earlier round's live data change (appraised points wiped, a recomputation would
    // now differ): the public comparison does not move.
    {
        let mut conn = app.pool.get().unwrap();
        let main = khaosat::app::scores::main_methodology(&mut conn, earlier).unwrap();
        let mut zeros = String::from("unit,component,points\n");
        for unit in khaosat::db::rounds::units(&mut conn, earlier).unwrap() {
            for c in &main.components {
                zeros.push_str(&format!("{},{},0\n", unit.code, c.code));
            }
        }
        khaosat::app::scores::import_appraised(
            &mut conn,
            earlier,
            "z.csv",
            zeros.as_bytes(),
            None,
            "t",
        )
        .unwrap()
        .unwrap();
        let live = khaosat::app::scores::year_over_year(&mut conn, later)
            .unwrap()
            .unwrap();
        let first = &before[0];
        let live_first = live.iter().find(|c| c.unit == first["unit"]).unwrap();
        assert_ne!(
            live_first.earlier.as_ref().unwrap().points,
            first["earlier_points"].as_f64().unwrap(),
            "the live earlier figures did change"
        );
    }
    assert_eq!(yoy_json(&app, &public, later).await, before);
    assert_eq!(yoy_csv(&app, &public, later).await, csv_before);
}

#[tokio::test]
async fn a_coordinator_sees_live_earlier_figures_only_for_their_own_units() {
    let app = spawn_app().await;
    let (_, later) = compared_rounds(&app);
    publish(&app, later);
    let mine = {
        let mut conn = app.pool.get().unwrap();
        khaosat::db::rounds::units(&mut conn, later).unwrap()[3].clone()
    };
    let coordinator = desk(&app, "coord@sonoivu.gov.vn", Role::Coordinator).await;
    {
        let mut conn = app.pool.get().unwrap();
        let user = khaosat::db::users::by_email(&mut conn, "coord@sonoivu.gov.vn")
            .unwrap()
            .unwrap();
        khaosat::db::users::add_unit(&mut conn, user.id, mine.id).unwrap();
    }
    let changes = yoy_json(&app, &coordinator, later).await;
    let units: Vec<&str> = changes
        .iter()
        .map(|c| c["unit"].as_str().unwrap())
        .collect();
    assert_eq!(units, [mine.code.as_str()]);
    let rows = yoy_csv(&app, &coordinator, later).await;
    assert_eq!(rows.len(), 1);
    assert_eq!(&rows[0][0], mine.code.as_str());
}

#[tokio::test]
async fn a_coordinator_sees_the_respondent_count_of_their_units_only() {
    let app = spawn_app().await;
    // Three respondents in the first unit, two in the second.
    let (round, _) = crate::respond::open_round_with_codes(&app, 3);
    let units = {
        let mut conn = app.pool.get().unwrap();
        khaosat::db::rounds::units(&mut conn, round).unwrap()
    };
    {
        let mut conn = app.pool.get().unwrap();
        let mut csv = String::from("name,email,phone,unit,group,position,level\n");
        for k in 0..2 {
            csv.push_str(&format!(
                "Người B{k},b{k}@sonoivu.gov.vn,,{},leader,,\n",
                units[1].code
            ));
        }
        khaosat::app::rounds::import_respondents(&mut conn, round, "b.csv", csv.as_bytes(), ADMIN)
            .unwrap();
    }
    let count = |html: &str| {
        let marker = "id=\"respondent-count\">";
        let start = html.find(marker).expect("the count is shown") + marker.len();
        html[start..start + html[start..].find('<').unwrap()].to_owned()
    };
    let admin = desk(&app, "admin@sonoivu.gov.vn", Role::Admin).await;
    let page = text(&app, &admin, &format!("/admin/rounds/{round}")).await;
    assert!(count(&page).starts_with("5 "), "{}", count(&page));
    app.login_as("coord@sonoivu.gov.vn", Role::Coordinator)
        .await;
    {
        let mut conn = app.pool.get().unwrap();
        let user = khaosat::db::users::by_email(&mut conn, "coord@sonoivu.gov.vn")
            .unwrap()
            .unwrap();
        khaosat::db::users::add_unit(&mut conn, user.id, units[1].id).unwrap();
    }
    let page = app.get_html(&format!("/admin/rounds/{round}")).await;
    let shown = count(&page);
    assert!(
        shown.starts_with("2 "),
        "only their units are counted: {shown}"
    );
}
