//! The API contract: the OpenAPI document is generated from the code, is a valid OpenAPI 3
//! document, and every documented endpoint answers with a documented status and a body that
//! validates against its documented schema.

use serde_json::Value;

use crate::helpers::spawn_app;
use crate::results::{demo_round, make_token};
use khaosat::domain::account::Role;

/// The schema of a response, with the document's components beside it so `$ref`s resolve.
fn validator(doc: &Value, schema: &Value) -> jsonschema::Validator {
    let mut root = schema.clone();
    root["components"] = doc["components"].clone();
    jsonschema::validator_for(&root).unwrap()
}

#[tokio::test]
async fn the_openapi_document_describes_every_api_route() {
    let app = spawn_app().await;
    let doc: Value = app.get("/api/openapi.json").await.json().await.unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let paths = doc["paths"].as_object().unwrap();
    for expected in [
        "/api/v1/rounds",
        "/api/v1/rounds/{id}",
        "/api/v1/rounds/{id}/units",
        "/api/v1/rounds/{id}/units/{code}/gains",
        "/api/v1/rounds/{id}/units/{code}/whatif",
        "/api/v1/rounds/{id}/compare",
        "/api/v1/rounds/{id}/scores",
        "/api/v1/rounds/{id}/rankings",
        "/api/v1/rounds/{id}/breakdown",
        "/api/v1/rounds/{id}/coverage",
        "/api/v1/rounds/{id}/exports",
        "/api/v1/exports/{job}",
        "/api/v1/exports/{job}/file",
    ] {
        assert!(paths.contains_key(expected), "{expected} is documented");
    }
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
    let page = app.get_html("/api/docs").await;
    assert!(page.contains("/api/v1/rounds/{id}/scores"));
}

#[tokio::test]
async fn every_documented_endpoint_answers_as_documented() {
    let app = spawn_app().await;
    let round = demo_round(&app, 300);
    app.login_as("analyst@sonoivu.gov.vn", Role::Analyst).await;
    let token = make_token(&app, "write").await;
    let client = reqwest::Client::new();
    let doc: Value = app.get("/api/openapi.json").await.json().await.unwrap();
    // A unit of the round, for the paths that name one.
    let unit = {
        let mut conn = app.pool.get().unwrap();
        khaosat::db::rounds::units(&mut conn, round).unwrap()[0]
            .code
            .clone()
    };

    // An export job to poll, made through the documented POST first.
    let created = client
        .post(app.url(&format!("/api/v1/rounds/{round}/exports")))
        .bearer_auth(&token)
        .json(&serde_json::json!({ "kind": "aggregates", "format": "json" }))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 202);
    let job: Value = created.json().await.unwrap();
    let job_id = job["id"].as_str().unwrap().to_owned();
    for _ in 0..100 {
        let polled: Value = client
            .get(app.url(&format!("/api/v1/exports/{job_id}")))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if polled["status"] == "done" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }

    let mut checked = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let url = path
                .replace("{id}", &round.to_string())
                .replace("{job}", &job_id)
                .replace("{code}", &unit);
            let query = if path.ends_with("/breakdown") {
                "?group=leader&by=bg_level"
            } else if path.ends_with("/whatif") {
                "?shift1_group=leader&shift1_target=criterion:C3-LD&shift1_to=1&shift1_pp=30&goal=tier&goal_value=A"
            } else {
                ""
            };
            let request = match method.as_str() {
                "get" => client.get(app.url(&format!("{url}{query}"))),
                "post" => client.post(app.url(&url)).json(
                    &serde_json::json!({ "kind": "codebook", "format": "csv", "group": "leader" }),
                ),
                other => panic!("undocumented method {other}"),
            };
            let response = request.bearer_auth(&token).send().await.unwrap();
            let status = response.status().as_u16().to_string();
            let documented = &op["responses"][&status];
            assert!(
                documented.is_object(),
                "{method} {path} answered {status}, which is not documented"
            );
            let json_schema = &documented["content"]["application/json"]["schema"];
            if json_schema.is_object() {
                let body: Value = response.json().await.unwrap();
                let v = validator(&doc, json_schema);
                let errors: Vec<String> = v
                    .iter_errors(&body)
                    .map(|e| format!("{e} at {}", e.instance_path()))
                    .collect();
                assert!(errors.is_empty(), "{method} {path}: {errors:?}");
            }
            checked += 1;
        }
    }
    assert_eq!(checked, 13, "every documented operation was called");
    // The schemas are real constraints: a malformed body does not validate.
    let scores = &doc["paths"]["/api/v1/rounds/{id}/scores"]["get"]["responses"]["200"]["content"]
        ["application/json"]["schema"];
    let v = validator(&doc, scores);
    assert!(!v.is_valid(
        &serde_json::json!({ "items": [{ "unit": 5 }], "page": 1, "per_page": 1, "total": 1 })
    ));
    // Documented errors answer as documented too.
    let anonymous = client
        .get(app.url(&format!("/api/v1/rounds/{round}/scores")))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
    let body: Value = anonymous.json().await.unwrap();
    let schema = &doc["paths"]["/api/v1/rounds/{id}/scores"]["get"]["responses"]["401"]["content"]
        ["application/json"]["schema"];
    assert!(validator(&doc, schema).is_valid(&body));
}
