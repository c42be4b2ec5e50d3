//! Browser tests in headless Chromium through WebDriver (chromedriver + fantoccini): the
//! bundled leader questionnaire filled end to end, with JavaScript on and off. They need
//! Debian's `chromium` and `chromium-driver`; without them they say so and skip (CI installs
//! them and sets KHAOSAT_TEST_REQUIRE_ALL=1, which turns the skip into a failure).

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use khaosat::domain::instrument::QuestionKind;

use crate::helpers::{TestApp, skip, spawn_app};
use crate::respond::{fill, leader, open_round_with_codes};

/// A chromedriver process and a WebDriver session in headless Chromium.
///
/// Dropping it (also while a failed assertion unwinds) closes the session, so chromedriver
/// quits Chromium itself, and then kills the driver's whole process group: Chromium's helpers
/// are re-parented to init when their parent dies, and only the group still reaches them.
pub struct Browser {
    driver: Child,
    port: u16,
    session: Option<String>,
    /// The WebDriver session.
    pub client: Client,
}

impl Drop for Browser {
    fn drop(&mut self) {
        if let Some(session) = self.session.take() {
            close_session(self.port, &session);
        }
        stop_driver(&mut self.driver);
    }
}

/// Sends `DELETE /session/{id}` to chromedriver and waits for its answer. Drop cannot await,
/// and fantoccini's own close on drop is a message to a task that the ending test runtime may
/// never run, so this is plain blocking HTTP/1.1 on a socket.
fn close_session(port: u16, session: &str) {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else {
        return;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(20)));
    let request = format!(
        "DELETE /session/{session} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    );
    if stream.write_all(request.as_bytes()).is_ok() {
        // The answer comes once Chromium has quit; its content does not matter.
        let _ = stream.read_to_end(&mut Vec::new());
    }
}

/// Kills chromedriver's process group (the driver was started as its leader) and reaps the
/// driver.
fn stop_driver(driver: &mut Child) {
    let _ = Command::new("kill")
        .args(["-KILL", "--", &format!("-{}", driver.id())])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    let _ = driver.kill();
    let _ = driver.wait();
}

/// A phone-sized browser (390 × 900), with or without JavaScript.
async fn browser(javascript: bool) -> Option<Browser> {
    browser_sized(javascript, (390, 900)).await
}

/// A browser with a window of `(width, height)` pixels; `None` (after saying why) when
/// Chromium is not installed and the test may skip.
pub async fn browser_sized(javascript: bool, (width, height): (u32, u32)) -> Option<Browser> {
    let Some(chromedriver) = ["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists())
    else {
        skip("chromedriver not installed (apt-get install chromium chromium-driver)");
        return None;
    };
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut driver = Command::new(chromedriver)
        .arg(format!("--port={port}"))
        // Chromium takes its locale (the order of a date field's parts) from the environment.
        .env("LANG", "vi_VN.UTF-8")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        // Its own process group, with Chromium and every helper inside: see `stop_driver`.
        .process_group(0)
        .spawn()
        .unwrap();
    let mut caps = serde_json::Map::new();
    let mut options = serde_json::json!({
        "binary": "/usr/bin/chromium",
        "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
                 "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-crash-reporter", "--disable-breakpad", format!("--window-size={width},{height}"),
                 "--lang=vi-VN"],
    });
    if !javascript {
        options["prefs"] =
            serde_json::json!({ "profile.managed_default_content_settings.javascript": 2 });
    }
    caps.insert("goog:chromeOptions".into(), options);
    let url = format!("http://127.0.0.1:{port}");
    for _ in 0..100 {
        if let Ok(client) = ClientBuilder::native()
            .capabilities(caps.clone())
            .connect(&url)
            .await
        {
            let session = client.session_id().await.ok().flatten();
            return Some(Browser {
                driver,
                port,
                session,
                client,
            });
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    stop_driver(&mut driver);
    panic!("chromedriver did not start");
}

impl Browser {
    pub async fn go(&self, url: &str) {
        self.client.goto(url).await.unwrap();
    }

    /// Waits (up to 10 s) for an element: after a click that navigates, the old page may
    /// still be shown for a moment.
    pub async fn wait_for(&self, css: &str) -> fantoccini::elements::Element {
        match self
            .client
            .wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::Css(css))
            .await
        {
            Ok(element) => element,
            Err(e) => panic!("{css}: {e}\nat {}", self.path().await),
        }
    }

    pub async fn click(&self, css: &str) {
        self.wait_for(css).await.click().await.unwrap();
    }

    /// Clicks a link or button that loads a page, and waits until the new page replaced the
    /// old one (a redirect to the same address included).
    pub async fn click_through(&self, css: &str) {
        let old = self.wait_for("html").await;
        self.click(css).await;
        for _ in 0..100 {
            if old.tag_name().await.is_err() {
                self.wait_for("html").await;
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("clicking {css} loaded no page, at {}", self.path().await);
    }

    /// Waits until the browser is at `path`.
    pub async fn wait_path(&self, path: &str) {
        for _ in 0..100 {
            if self.path().await == path {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("expected {path}, at {}", self.path().await);
    }

    pub async fn source(&self) -> String {
        self.client.source().await.unwrap()
    }

    pub async fn path(&self) -> String {
        self.client.current_url().await.unwrap().path().to_owned()
    }

    /// Types `text` into the field at `css`, replacing what it held.
    pub async fn fill(&self, css: &str, text: &str) {
        let field = self.wait_for(css).await;
        field.clear().await.unwrap();
        field.send_keys(text).await.unwrap();
    }

    /// Types a `datetime-local` value (`2024-09-01T08:00`) the way a person does, segment by
    /// segment after clicking the field's label, in the order the browser's locale shows:
    /// day first in Vietnamese (24-hour clock), month first in American English (12-hour).
    pub async fn fill_datetime(&self, css: &str, value: &str) {
        let (date, time) = value.split_once('T').unwrap();
        let mut date = date.split('-');
        let (year, month, day) = (
            date.next().unwrap(),
            date.next().unwrap(),
            date.next().unwrap(),
        );
        let (hour, minute) = time.split_once(':').unwrap();
        let h: u32 = hour.parse().unwrap();
        let (h12, half) = match h {
            0 => (12, "A"),
            1..=11 => (h, "A"),
            12 => (12, "P"),
            _ => (h - 12, "P"),
        };
        let field = self.wait_for(css).await;
        let id = field.attr("id").await.unwrap().unwrap();
        // The year segment takes up to six digits, so Tab moves on from it.
        let tab = '\u{e004}';
        for keys in [
            format!("{day}{month}{year}{tab}{hour}{minute}"),
            format!("{month}{day}{year}{tab}{h12:02}{minute}{half}"),
        ] {
            field.clear().await.unwrap();
            self.click(&format!("label[for='{id}']")).await;
            field.send_keys(&keys).await.unwrap();
            if self.value(css).await == value {
                return;
            }
        }
        panic!(
            "could not type {value} into {css}: it shows {}",
            self.value(css).await
        );
    }

    /// Chooses the option with `value` in the `<select>` at `css`.
    pub async fn choose(&self, css: &str, value: &str) {
        self.wait_for(css)
            .await
            .select_by_value(value)
            .await
            .unwrap();
    }

    /// Picks the local file at `path` in the file field at `css`.
    pub async fn upload(&self, css: &str, path: &str) {
        self.wait_for(css).await.send_keys(path).await.unwrap();
    }

    /// The current value of a form field, as the browser would send it.
    pub async fn value(&self, css: &str) -> String {
        self.wait_for(css)
            .await
            .prop("value")
            .await
            .unwrap()
            .unwrap_or_default()
    }

    /// Answers the fields of a section as `fill` chooses them.
    pub async fn answer(
        &self,
        fields: &[(String, String)],
        section: &khaosat::domain::instrument::Section,
    ) {
        for (name, value) in fields {
            let is_text = section.questions.iter().any(|q| {
                &q.code == name
                    && matches!(
                        q.kind,
                        QuestionKind::Integer { .. }
                            | QuestionKind::Decimal { .. }
                            | QuestionKind::Text { .. }
                    )
            });
            if is_text {
                let input = self.wait_for(&format!("input[name='{name}']")).await;
                input.clear().await.unwrap();
                input.send_keys(value).await.unwrap();
            } else {
                self.click(&format!("input[name='{name}'][value='{value}']"))
                    .await;
            }
        }
    }
}

fn responses(app: &TestApp) -> i64 {
    use diesel::prelude::*;
    let mut conn = app.pool.get().unwrap();
    khaosat::db::schema::responses::table
        .count()
        .get_result(&mut conn)
        .unwrap()
}

async fn enter_and_start(browser: &Browser, app: &TestApp, code: &str) {
    browser.go(&app.url("/")).await;
    browser
        .wait_for("#code")
        .await
        .send_keys(code)
        .await
        .unwrap();
    browser.click("form[action='/s'] button").await;
    browser.wait_for("form[action$='/start'] button").await;
    assert!(
        browser
            .source()
            .await
            .contains("Câu trả lời của Ông/Bà là ẩn danh")
    );
    browser.click("form[action$='/start'] button").await;
}

#[tokio::test]
async fn a_respondent_fills_the_leader_questionnaire_in_chromium() {
    let Some(browser) = browser(true).await else {
        return;
    };
    let app = spawn_app().await;
    let (_, codes) = open_round_with_codes(&app, 1);
    let code = codes[0].to_string(); // typed with dashes, as printed
    let canonical = codes[0].as_canonical().to_owned();
    let instrument = leader();
    enter_and_start(&browser, &app, &code).await;
    browser.wait_path(&format!("/s/{canonical}/p/1")).await;

    // A validation error: Next with nothing answered.
    browser.click("button[value='next']").await;
    browser.wait_for(".error-summary").await;
    let page = browser.source().await;
    assert!(page.contains("error-summary") && page.contains("Hãy trả lời câu hỏi này."));

    // Section 1, then leave.
    let first = &instrument.sections()[0];
    browser.answer(&fill(first, false), first).await;
    browser.click("button[value='next']").await;
    browser.wait_path(&format!("/s/{canonical}/p/2")).await;

    // Come back later with the code: the journey resumes at section 2.
    browser.go(&app.url(&format!("/s/{canonical}"))).await;
    browser.wait_for("form[action$='/start'] button").await;
    assert!(browser.source().await.contains("Tiếp tục phần đang làm"));
    browser.click("form[action$='/start'] button").await;
    browser.wait_path(&format!("/s/{canonical}/p/2")).await;

    for (i, section) in instrument.sections().iter().enumerate().skip(1) {
        browser
            .wait_path(&format!("/s/{canonical}/p/{}", i + 1))
            .await;
        let has_follow_up = section.questions.iter().any(|q| q.relevant.is_some());
        if has_follow_up {
            let follow_up = section
                .questions
                .iter()
                .find(|q| q.relevant.is_some())
                .unwrap();
            assert!(
                !browser
                    .source()
                    .await
                    .contains(&format!("name=\"{}\"", follow_up.code))
            );
            let mut fields = fill(section, true);
            fields.retain(|(c, _)| c != &follow_up.code);
            browser.answer(&fields, section).await;
            browser.click("button[value='next']").await;
            // The follow-up question appears, on the same page.
            browser
                .wait_for(&format!("input[name='{}']", follow_up.code))
                .await;
            let rest: Vec<(String, String)> = fill(section, true)
                .into_iter()
                .filter(|(c, _)| c == &follow_up.code)
                .collect();
            browser.answer(&rest, section).await;
        } else {
            browser.answer(&fill(section, false), section).await;
        }
        browser.click("button[value='next']").await;
    }
    browser.wait_path(&format!("/s/{canonical}/review")).await;

    // Pressing submit twice: two POSTs leave one response and the receipt.
    browser
        .client
        .execute("const b = document.querySelector(\"form[action$='/submit'] button\"); b.click(); b.click();", vec![])
        .await
        .unwrap();
    for _ in 0..50 {
        if browser.path().await.starts_with("/receipt/") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(browser.path().await.starts_with("/receipt/"));
    assert!(browser.source().await.contains("Số biên nhận"));
    assert_eq!(responses(&app), 1);
}

#[tokio::test]
async fn a_respondent_without_javascript_completes_a_response() {
    let Some(browser) = browser(false).await else {
        return;
    };
    let app = spawn_app().await;
    let (_, codes) = open_round_with_codes(&app, 1);
    let instrument = leader();
    let canonical = codes[0].as_canonical().to_owned();
    enter_and_start(&browser, &app, &canonical).await;
    for (i, section) in instrument.sections().iter().enumerate() {
        browser
            .wait_path(&format!("/s/{canonical}/p/{}", i + 1))
            .await;
        browser.answer(&fill(section, false), section).await;
        browser.click("button[value='next']").await;
    }
    browser.wait_path(&format!("/s/{canonical}/review")).await;
    browser.click("form[action$='/submit'] button").await;
    browser.wait_for(".receipt").await;
    assert!(browser.path().await.starts_with("/receipt/"));
    assert_eq!(responses(&app), 1);
}

/// Keeps a picture of a key step when `KHAOSAT_SCREENSHOTS` names a folder.
pub async fn keep_picture(browser: &Browser, name: &str) {
    let Ok(folder) = std::env::var("KHAOSAT_SCREENSHOTS") else {
        return;
    };
    let png = browser.client.screenshot().await.unwrap();
    std::fs::create_dir_all(&folder).unwrap();
    std::fs::write(format!("{folder}/{name}.png"), png).unwrap();
}

/// Saves a screenshot under the target directory (CI keeps them as artefacts) and checks it is
/// a real, non-blank PNG of the requested width.
async fn screenshot(b: &Browser, name: &str) -> Vec<u8> {
    let png = b.client.screenshot().await.unwrap();
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "a PNG");
    let width = u32::from_be_bytes(png[16..20].try_into().unwrap());
    assert_eq!(width, 1280, "rendered at desktop width");
    assert!(
        png.len() > 20_000,
        "{name}: the page has content ({} bytes)",
        png.len()
    );
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(format!("{name}.png")), &png).unwrap();
    png
}

#[tokio::test]
async fn ranking_and_unit_pages_render_in_headless_chromium() {
    let app = spawn_app().await;
    let round = crate::results::demo_round(&app, 600);
    crate::results::publish(&app, round);
    let Some(b) = browser(false).await else {
        return;
    };
    b.client.set_window_size(1280, 1600).await.unwrap();
    b.go(&app.url(&format!("/results/{round}"))).await;
    let chart = b.wait_for("figure.chart svg").await;
    let (_, _, width, height) = chart.rectangle().await.unwrap();
    assert!(
        width > 500.0 && height > 300.0,
        "the bar chart is drawn ({width}×{height})"
    );
    let rows = b
        .client
        .find_all(Locator::Css("table.ranking tbody tr"))
        .await
        .unwrap();
    assert_eq!(rows.len(), 34, "every unit is ranked");
    screenshot(&b, "ranking").await;
    b.click("table.ranking tbody tr:first-child a").await;
    b.wait_for("figure.chart svg").await;
    assert!(
        b.path()
            .await
            .starts_with(&format!("/results/{round}/units/"))
    );
    screenshot(&b, "unit").await;
}
