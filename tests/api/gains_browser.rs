//! The gains page as a provincial reform office uses it: in headless Chromium with JavaScript
//! off, Sơn La's points at stake on a published demo round, then a what-if asked through the
//! page's own GET form, then the improvement plan it links to. Needs chromium and chromium-driver; skips without them unless
//! `KHAOSAT_TEST_REQUIRE_ALL=1`. `KHAOSAT_SCREENSHOTS=docs/screens` keeps the README's picture.

use fantoccini::Locator;

use crate::browser::{browser_sized, keep_picture};
use crate::gains::{SON_LA, demo_2024};
use crate::helpers::spawn_app;
use crate::results::publish;

/// The number in the "after" or "before" cell of a row of the what-if outcome, read the way
/// the Vietnamese page writes it (decimal comma).
async fn outcome_cell(b: &crate::browser::Browser, row: &str, column: usize) -> f64 {
    let cell = b
        .wait_for(&format!(
            "#what-if-outcome tr[data-row='{row}'] td:nth-of-type({column})"
        ))
        .await;
    let text = cell.text().await.unwrap();
    text.trim()
        .replace('.', "")
        .replace(',', ".")
        .parse()
        .unwrap_or_else(|_| panic!("{row}: a number, not {text:?}"))
}

#[tokio::test]
async fn a_reform_office_asks_a_what_if_on_son_la_s_gains_page_without_javascript() {
    let app = spawn_app().await;
    let round = demo_2024(&app);
    publish(&app, round);
    let Some(b) = browser_sized(false, (1280, 1800)).await else {
        return;
    };
    let path = format!("/results/{round}/units/{SON_LA}/gains");
    b.go(&app.url(&path)).await;
    let chart = b.wait_for("figure.chart svg").await;
    let (_, _, width, height) = chart.rectangle().await.unwrap();
    assert!(width > 300.0 && height > 100.0, "the gap chart is drawn");
    let title = b.client.title().await.unwrap();
    assert!(title.contains("Sơn La"), "the page names the unit: {title}");
    keep_picture(&b, "11-diem-co-the-tang").await;

    // The first criterion the form offers, raised to the top answer by 30 percentage points
    // of the leaders, with the goal of group A.
    let criterion = b
        .client
        .find(Locator::Css("#shift1_target option[value^='criterion:']"))
        .await
        .unwrap()
        .attr("value")
        .await
        .unwrap()
        .unwrap();
    b.choose("#shift1_group", "leader").await;
    b.choose("#shift1_target", &criterion).await;
    b.fill("#shift1_to", "1").await;
    b.fill("#shift1_pp", "30").await;
    b.choose("#goal", "tier").await;
    b.fill("#goal_value", "A").await;
    b.click("#what-if button[type='submit']").await;

    let before = outcome_cell(&b, "total", 1).await;
    let after = outcome_cell(&b, "total", 2).await;
    assert!(
        after > before,
        "more leaders answering the top answer raises the total ({before} → {after})"
    );
    let url = b.client.current_url().await.unwrap();
    assert_eq!(
        url.path(),
        path,
        "the form reads: it stays on the same page"
    );
    assert!(
        url.query().unwrap_or("").contains("shift1_pp=30"),
        "the question is in the address, so it can be shared"
    );
    assert_eq!(b.value("#shift1_pp").await, "30", "the typed values stay");
    // The picture shows the answer: the outcome table at the top of the window.
    let mut outcome = url.clone();
    outcome.set_fragment(Some("what-if-outcome"));
    b.go(outcome.as_str()).await;
    keep_picture(&b, "12-gia-dinh").await;

    // The stored results did not move: the page without the question shows the same total.
    b.go(&app.url(&path)).await;
    b.wait_for("figure.chart svg").await;
    assert!(
        b.client
            .find_all(Locator::Css("#what-if-outcome"))
            .await
            .unwrap()
            .is_empty(),
        "no what-if without a question"
    );

    // The improvement plan, one link away: its criteria table with the blank columns an
    // office fills in.
    b.click("#plan-link").await;
    b.wait_path(&format!("/results/{round}/units/{SON_LA}/plan"))
        .await;
    let rows = b
        .client
        .find_all(Locator::Css("#plan-criteria tbody tr"))
        .await
        .unwrap();
    assert!(!rows.is_empty(), "the plan lists criteria");
    keep_picture(&b, "13-ke-hoach-cai-thien").await;
}
