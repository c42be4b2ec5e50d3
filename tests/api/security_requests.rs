//! Requests an attacker shapes: guessing access codes on every respondent route, spoofing
//! `X-Forwarded-For`, inventing HTTP methods to blow up `/metrics`, reading `/metrics` from
//! outside, open redirects through the language switch, and caches keeping private pages.

use khaosat::domain::access_code::AccessCode;
use khaosat::domain::account::Role;
use khaosat::domain::throttle::CODE_PER_IP;
use reqwest::Method;

use crate::helpers::{TestApp, csrf_from, spawn_app, spawn_app_with};
use crate::respond::{answer_everything, open_round_with_codes};
use crate::results::{api_get, demo_round, make_token};

/// How many wrong codes one address may try before it is refused.
fn code_limit() -> usize {
    usize::try_from(CODE_PER_IP.max_failures).unwrap()
}

/// A well-formed code with a wrong check character: `code` with its last symbol changed.
fn mistyped(code: &AccessCode) -> String {
    let mut typo = code.as_canonical().to_owned();
    let last = typo.pop().unwrap();
    typo.push(if last == 'A' { 'B' } else { 'A' });
    assert!(AccessCode::parse(&typo).is_err());
    typo
}

/// POSTs a submission for `code` with a valid CSRF token (from `token`) and a made-up key.
async fn post_submit(app: &TestApp, code: &str, token: &str) -> reqwest::Response {
    app.post_form(
        &format!("/s/{code}/submit"),
        &[("submission_key", "made-up-key"), ("csrf_token", token)],
    )
    .await
}

/// Status and body, with `code` replaced (the page links back to its own path for the
/// language switch, which is the only place the code shows).
async fn answer(response: reqwest::Response, code: &str) -> (u16, String) {
    let status = response.status().as_u16();
    let body = response.text().await.unwrap().replace(code, "CODE");
    (status, body)
}

#[tokio::test]
async fn wrong_codes_posted_to_submit_are_throttled_for_posts_and_gets_alike() {
    let app = spawn_app().await;
    let (_, codes) = open_round_with_codes(&app, 1);
    let token = csrf_from(&app.get_html("/").await);
    for _ in 0..code_limit() {
        let code = AccessCode::generate();
        let response = post_submit(&app, code.as_canonical(), &token).await;
        assert_eq!(response.status(), 404);
    }
    let guess = AccessCode::generate();
    let posted = post_submit(&app, guess.as_canonical(), &token).await;
    assert_eq!(posted.status(), 429, "POST submit is throttled");
    assert!(posted.headers().contains_key("retry-after"));
    let real = app.get(&format!("/s/{}", codes[0].as_canonical())).await;
    assert_eq!(real.status(), 429, "and so is GET, even for a real code");
}

#[tokio::test]
async fn a_mistyped_and_an_unknown_code_get_the_same_answer_on_get_and_on_submit() {
    let app = spawn_app().await;
    let (_, codes) = open_round_with_codes(&app, 1);
    let token = csrf_from(&app.get_html("/").await);
    let typo = mistyped(&codes[0]);
    let unknown = AccessCode::generate().as_canonical().to_owned();

    let get_typo = answer(app.get(&format!("/s/{typo}")).await, &typo).await;
    let get_unknown = answer(app.get(&format!("/s/{unknown}")).await, &unknown).await;
    assert_eq!(get_typo, get_unknown);
    assert_eq!(get_typo.0, 404);

    let post_typo = answer(post_submit(&app, &typo, &token).await, &typo).await;
    let post_unknown = answer(post_submit(&app, &unknown, &token).await, &unknown).await;
    assert_eq!(post_typo, post_unknown);
    assert_eq!(post_typo.0, get_typo.0, "POST submit answers like GET");

    for path in ["", "/review", "/p/1"] {
        let typo_page = answer(app.get(&format!("/s/{typo}{path}")).await, &typo).await;
        let unknown_page = answer(app.get(&format!("/s/{unknown}{path}")).await, &unknown).await;
        assert_eq!(typo_page, unknown_page, "GET /s/{{code}}{path}");
    }
}

#[tokio::test]
async fn a_used_code_still_gets_its_receipt_when_the_submission_is_replayed() {
    let app = spawn_app().await;
    let (_, codes) = open_round_with_codes(&app, 1);
    let code = codes[0].as_canonical().to_owned();
    let review = answer_everything(&app, &code).await;
    let form = [
        ("submission_key", crate::respond::submission_key(&review)),
        ("csrf_token", csrf_from(&review)),
    ];
    let path = format!("/s/{code}/submit");
    let first = app.client.post(app.url(&path)).form(&form).send().await;
    let first = first.unwrap();
    assert_eq!(first.status(), 303);
    let replay = app.client.post(app.url(&path)).form(&form).send().await;
    let replay = replay.unwrap();
    assert_eq!(replay.headers()["location"], first.headers()["location"]);
    // Another key for the used code is told the code was used, not that it is unknown.
    let token = csrf_from(&review);
    assert_eq!(post_submit(&app, &code, &token).await.status(), 410);
}

#[tokio::test]
async fn behind_a_trusted_proxy_a_spoofed_leftmost_address_does_not_escape_the_throttle() {
    let app = spawn_app_with(|s| s.trust_proxy = true).await;
    let guess = |spoofed: String, real: &'static str| {
        let code = AccessCode::generate();
        app.client
            .get(app.url(&format!("/s/{}", code.as_canonical())))
            .header("x-forwarded-for", format!("{spoofed}, {real}"))
            .send()
    };
    for i in 0..code_limit() {
        let response = guess(format!("10.{}.0.1", i + 1), "203.0.113.7").await;
        assert_eq!(response.unwrap().status(), 404);
    }
    let response = guess("192.0.2.99".into(), "203.0.113.7").await.unwrap();
    assert_eq!(
        response.status(),
        429,
        "the address our proxy appended counts"
    );
    let other = guess("10.0.0.1".into(), "203.0.113.8").await.unwrap();
    assert_eq!(other.status(), 404, "another client has its own allowance");
}

#[tokio::test]
async fn invented_http_methods_do_not_add_metric_labels() {
    let app = spawn_app().await;
    for i in 0..20 {
        let method =
            Method::from_bytes(format!("PROBE{i}{}", "X".repeat(2000)).as_bytes()).unwrap();
        for path in ["/healthz", "/no-such-page"] {
            let response = app
                .client
                .request(method.clone(), app.url(path))
                .send()
                .await
                .unwrap();
            assert!(response.status().is_client_error(), "{}", response.status());
        }
    }
    let text = app.get("/metrics").await.text().await.unwrap();
    assert!(!text.contains("PROBE"), "no invented method became a label");
    assert!(text.contains(r#"method="OTHER""#), "{text}");
    assert!(text.contains(r#"route="unmatched""#), "{text}");
    assert!(
        text.len() < 64 * 1024,
        "metrics stay small: {} bytes",
        text.len()
    );
}

#[tokio::test]
async fn with_a_metrics_token_only_its_bearer_reads_the_metrics() {
    let token = "operator-scrape-token-0123456789";
    let app = spawn_app_with(|s| s.metrics_token = Some(token.to_owned())).await;
    assert_eq!(app.get("/metrics").await.status(), 401);
    let wrong = app
        .client
        .get(app.url("/metrics"))
        .bearer_auth("operator-scrape-token-012345678")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
    let right = app
        .client
        .get(app.url("/metrics"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(right.status(), 200);
    assert!(
        right
            .text()
            .await
            .unwrap()
            .contains("khaosat_http_requests")
    );
}

#[tokio::test]
async fn without_a_metrics_token_only_clients_on_this_machine_read_the_metrics() {
    let app = spawn_app_with(|s| s.trust_proxy = true).await;
    let relayed = app
        .client
        .get(app.url("/metrics"))
        .header("x-forwarded-for", "203.0.113.9")
        .send()
        .await
        .unwrap();
    assert_eq!(
        relayed.status(),
        404,
        "a remote client relayed by the proxy"
    );
    assert!(!relayed.text().await.unwrap().contains("khaosat_http"));
    assert_eq!(app.get("/metrics").await.status(), 200, "a local scraper");
}

#[tokio::test]
async fn the_language_switch_never_redirects_to_another_site() {
    let app = spawn_app().await;
    for next in [
        "/%09/evil.example",
        "//evil.example",
        "/%5Cevil.example",
        "/%5C/evil.example",
    ] {
        let response = app.get(&format!("/lang/en?next={next}")).await;
        assert_eq!(response.status(), 303);
        assert_eq!(response.headers()["location"], "/", "next={next}");
    }
    let local = app.get("/lang/en?next=/results/1").await;
    assert_eq!(local.headers()["location"], "/results/1");
}

/// The `Cache-Control` header of a GET, asserting `status`.
async fn cache_control(response: reqwest::Response, status: u16, what: &str) -> String {
    assert_eq!(response.status(), status, "{what}");
    response
        .headers()
        .get("cache-control")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default()
}

#[tokio::test]
async fn private_pages_downloads_and_api_answers_are_never_cached_but_assets_are() {
    let app = spawn_app().await;
    let round = demo_round(&app, 100);
    app.login_as("analyst@sonoivu.gov.vn", Role::Analyst).await;
    let token = make_token(&app, "read").await;
    let (_, codes) = open_round_with_codes(&app, 1);
    let code = codes[0].as_canonical();
    let private = [
        ("/admin", app.get("/admin").await),
        ("/admin/tokens", app.get("/admin/tokens").await),
        ("staff results", app.get(&format!("/results/{round}")).await),
        (
            "download",
            app.get(&format!("/results/{round}/download/scores.csv"))
                .await,
        ),
        ("api", api_get(&app, &token, "/api/v1/rounds").await),
        ("respondent", app.get(&format!("/s/{code}")).await),
    ];
    for (what, response) in private {
        assert_eq!(
            cache_control(response, 200, what).await,
            "no-store",
            "{what}"
        );
    }
    let unknown = app.get("/s/2222222222").await;
    assert_eq!(
        cache_control(unknown, 404, "unknown code").await,
        "no-store"
    );
    let asset = app.get(&khaosat::views::assets::url("app.css")).await;
    let cached = cache_control(asset, 200, "asset").await;
    assert!(cached.contains("max-age=31536000"), "{cached}");
}
