//! A province's internal round: Sơn La imports its own unit list (departments and districts)
//! and runs the same questionnaires. Its gains page and API rank the province's units by how
//! much each drags the round-wide score down, as a national round ranks provinces, and the
//! improvement plan works for its units too.

use khaosat::app::demo::{self, DemoSpec};
use khaosat::domain::account::Role;

use crate::gains::{SON_LA, api_gains, demo_2024, row_codes};
use crate::helpers::{TestApp, csrf_from, spawn_app};
use crate::results::make_token;

/// Sơn La's own units: four departments and three districts.
const SON_LA_UNITS: &str = "code,name_vi,name_en,region_code,region_vi,region_en,kind\n\
    SNV,Sở Nội vụ,Department of Home Affairs,so,Sở,Departments,department\n\
    STP,Sở Tư pháp,Department of Justice,so,Sở,Departments,department\n\
    SYT,Sở Y tế,Department of Health,so,Sở,Departments,department\n\
    SGD,Sở Giáo dục và Đào tạo,Department of Education and Training,so,Sở,Departments,department\n\
    MCH,Huyện Mộc Châu,Moc Chau District,huyen,Huyện,Districts,district\n\
    TCH,Huyện Thuận Châu,Thuan Chau District,huyen,Huyện,Districts,district\n\
    MLA,Huyện Mường La,Muong La District,huyen,Huyện,Districts,district\n";

/// Imports Sơn La's unit list as an administrator (through the page, as any province would)
/// and fills an internal round of it with demo answers. Returns the round.
pub(crate) async fn internal_round(app: &TestApp) -> i64 {
    app.login_as("admin@sonla.gov.vn", Role::Admin).await;
    let token = csrf_from(&app.get_html("/admin/units").await);
    let form = reqwest::multipart::Form::new()
        .text("csrf_token", token)
        .text("code", "son-la-2024")
        .text("name", "Sơn La: các sở và huyện")
        .part(
            "file",
            reqwest::multipart::Part::bytes(SON_LA_UNITS.as_bytes().to_vec())
                .file_name("son-la.csv"),
        );
    let imported = app
        .client
        .post(app.url("/admin/units"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(imported.status(), 303);
    let mut conn = app.pool.get().unwrap();
    demo::create_for_units(
        &mut conn,
        DemoSpec {
            year: 2024,
            responses: 700,
            seed: 3,
        },
        "son-la-2024",
    )
    .unwrap()
}

fn float(v: &serde_json::Value) -> f64 {
    v.as_f64().unwrap()
}

#[tokio::test]
async fn an_internal_round_ranks_the_province_s_own_units_by_their_drag_on_its_score() {
    let app = spawn_app().await;
    let round = internal_round(&app).await;
    let token = make_token(&app, "read").await;
    let response = api_gains(&app, &token, round, "SNV").await;
    assert_eq!(response.status(), 200);
    let gains: serde_json::Value = response.json().await.unwrap();
    assert_eq!(gains["compared_units"], 7, "the province's own units only");
    let drag = &gains["drag"];
    let units = drag["units"].as_array().unwrap();
    assert_eq!(units.len(), 7);
    // Each drag is share × (best − score), most first; shares add up to 1, and the drags to
    // the distance between the best unit and the respondent-weighted overall score.
    let (overall, best) = (float(&drag["overall"]), float(&drag["best"]));
    let total: f64 = units
        .iter()
        .map(|u| u["respondents"].as_f64().unwrap())
        .sum();
    let mut weighted = 0.0;
    for u in units {
        let share = u["respondents"].as_f64().unwrap() / total;
        assert!((float(&u["share"]) - share).abs() < 1e-12);
        let score = float(&u["score"]);
        assert!(score <= best);
        assert!(
            (float(&u["drag"]) - share * (best - score)).abs() < 1e-9,
            "{u}"
        );
        weighted += share * score;
    }
    assert!((weighted - overall).abs() < 1e-9);
    let drags: Vec<f64> = units.iter().map(|u| float(&u["drag"])).collect();
    assert!(drags.windows(2).all(|w| w[0] >= w[1]), "{drags:?}");
    assert!((drags.iter().sum::<f64>() - (best - overall)).abs() < 1e-9);
    assert_eq!(
        drags.last().copied(),
        Some(0.0),
        "the best unit drags nothing"
    );
    // Each unit's score is its index percent, as the round's scores say.
    let scores: serde_json::Value = crate::results::api_get(
        &app,
        &token,
        &format!("/api/v1/rounds/{round}/scores?per_page=100"),
    )
    .await
    .json()
    .await
    .unwrap();
    let items = scores["items"].as_array().unwrap();
    assert_eq!(items.len(), 7);
    for u in units {
        let item = items.iter().find(|i| i["unit"] == u["unit"]).unwrap();
        let percent = float(&item["index_percent"]);
        assert!((percent - float(&u["score"])).abs() < 1e-3, "{u} vs {item}");
    }

    // The page lists the same units in the same order, the page's own unit marked.
    let page = app
        .get_html(&format!("/results/{round}/units/SNV/gains"))
        .await;
    let api_order: Vec<String> = units
        .iter()
        .map(|u| u["unit"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(row_codes(&page, "drag-units"), api_order);
    assert!(page.contains("<tr data-code=\"SNV\" class=\"current\">"));
    assert!(page.contains("Huyện Mộc Châu") && page.contains("Sở Nội vụ"));
    assert!(page.contains("id=\"waterfall-title\""));
    // The improvement plan works for the province's own units.
    let plan = app.get(&format!("/results/{round}/units/MCH/plan")).await;
    assert_eq!(plan.status(), 200);
    let plan = app
        .get(&format!("/results/{round}/units/MCH/plan.xlsx"))
        .await;
    assert_eq!(plan.status(), 200);
}

#[tokio::test]
async fn a_national_round_ranks_the_provinces_and_a_coordinator_sees_only_their_own_units() {
    let app = spawn_app().await;
    let national = demo_2024(&app);
    let internal = internal_round(&app).await;
    let token = make_token(&app, "read").await;
    let gains: serde_json::Value = api_gains(&app, &token, national, SON_LA)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(gains["drag"]["units"].as_array().unwrap().len(), 63);

    // A coordinator of two of the province's units: the drag ranking holds those two only.
    app.login_as("coord@sonla.gov.vn", Role::Coordinator).await;
    {
        let mut conn = app.pool.get().unwrap();
        let user = khaosat::db::users::by_email(&mut conn, "coord@sonla.gov.vn")
            .unwrap()
            .unwrap();
        for u in khaosat::db::rounds::units(&mut conn, internal).unwrap() {
            if u.code == "SNV" || u.code == "MCH" {
                khaosat::db::users::add_unit(&mut conn, user.id, u.id).unwrap();
            }
        }
    }
    let token = make_token(&app, "read").await;
    let gains: serde_json::Value = api_gains(&app, &token, internal, "SNV")
        .await
        .json()
        .await
        .unwrap();
    let mut codes: Vec<&str> = gains["drag"]["units"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["unit"].as_str().unwrap())
        .collect();
    codes.sort_unstable();
    assert_eq!(codes, ["MCH", "SNV"]);
    assert_eq!(api_gains(&app, &token, internal, "STP").await.status(), 404);
    let page = app
        .get(&format!("/results/{internal}/units/STP/gains"))
        .await;
    assert_eq!(page.status(), 404);
    let page = app
        .get_html(&format!("/results/{internal}/units/MCH/gains"))
        .await;
    assert_eq!(row_codes(&page, "drag-units").len(), 2);
    assert!(!page.contains("Sở Tư pháp"));
}
