//! A whole survey round run as a new administrator runs it: in headless Chromium with
//! JavaScript off, through links and forms alone, in Vietnamese. From the setup link to a
//! published round, with the mistakes and the second thoughts of a real person (a wrong form,
//! an edited draft, a lost slip), a citizen who resumes on another device, and a coordinator
//! added and given units on the pages. Every administrator page on the way is checked for
//! English words.
//!
//! Like the other browser tests it needs Debian's `chromium` and `chromium-driver`, and skips
//! without them unless `KHAOSAT_TEST_REQUIRE_ALL=1`. Set `KHAOSAT_SCREENSHOTS` to a folder to
//! keep a picture of each key step (the README's "Running a survey round" uses them).

use std::collections::BTreeSet;
use std::sync::LazyLock;

use khaosat::domain::access_code::AccessCode;
use scraper::{Html, Node};

use crate::browser::{Browser, browser_sized, keep_picture};
use crate::helpers::spawn_app;
use crate::respond::{answer_everything_of, bundled, fill, submit_review};

const ADMIN_EMAIL: &str = "chanh.vanphong@sonoivu.gov.vn";
const COORDINATOR_EMAIL: &str = "dieu.phoi@sonoivu.gov.vn";
const PASSWORD: &str = "mật-khẩu-đủ-dài-2024";

/// Words that only the English catalogue uses: seeing one of them on a Vietnamese page means
/// a string escaped the catalogues. Words the Vietnamese catalogue uses too ("CSV", "SIPAS",
/// "email") are names or codes and allowed.
static ENGLISH_ONLY: LazyLock<BTreeSet<String>> = LazyLock::new(|| {
    let words = |text: &str| -> BTreeSet<String> {
        let catalogue: toml::Table = toml::from_str(text).unwrap();
        let mut found = BTreeSet::new();
        let mut stack: Vec<&toml::Value> = catalogue.values().collect();
        while let Some(value) = stack.pop() {
            match value {
                toml::Value::String(s) => {
                    found.extend(plain_words(&strip_placeholders(s)));
                }
                toml::Value::Table(t) => stack.extend(t.values()),
                toml::Value::Array(a) => stack.extend(a.iter()),
                _ => {}
            }
        }
        found
    };
    let english = words(include_str!("../../assets/i18n/en.toml"));
    let vietnamese = words(include_str!("../../assets/i18n/vi.toml"));
    english
        .difference(&vietnamese)
        .filter(|w| w.len() >= 3)
        .cloned()
        .collect()
});

/// `"Sent {n} of {total}"` → `"Sent  of "`: placeholders are names, not words.
fn strip_placeholders(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut depth = 0;
    for c in text.chars() {
        match c {
            '{' => depth += 1,
            '}' => depth = usize::saturating_sub(depth, 1),
            _ if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out
}

/// The lower-cased words of `text` made of ASCII letters alone. A token with a digit, an
/// underscore, an `@`, a dot or a slash inside is a code, an address or a file name, not a
/// word of prose.
fn plain_words(text: &str) -> Vec<String> {
    text.split(|c: char| c.is_whitespace() || ",;:!?()[]\"'«»“”‘’—–·…|".contains(c))
        .map(|token| token.trim_matches(|c: char| c == '.' || c == '-'))
        .filter(|token| !token.is_empty() && token.chars().all(|c| c.is_ascii_alphabetic()))
        .map(str::to_lowercase)
        .collect()
}

/// What a reader sees of a page, and hears from a screen reader: its text outside code,
/// scripts and styles and outside anything marked `lang="en"` (the bilingual slips), plus the
/// labels and hints held in attributes.
fn visible_text(html: &str) -> String {
    let document = Html::parse_document(html);
    let mut text = String::new();
    for node in document.tree.nodes() {
        let hidden = std::iter::once(node)
            .chain(node.ancestors())
            .any(|a| match a.value() {
                Node::Element(e) => {
                    matches!(e.name(), "script" | "style" | "code" | "kbd" | "samp")
                        || e.attr("lang").is_some_and(|l| l.starts_with("en"))
                }
                _ => false,
            });
        match node.value() {
            Node::Text(t) if !hidden => {
                text.push_str(t);
                text.push(' ');
            }
            Node::Element(e) if !hidden => {
                for attribute in ["title", "aria-label", "placeholder", "alt"] {
                    if let Some(v) = e.attr(attribute) {
                        text.push_str(v);
                        text.push(' ');
                    }
                }
            }
            _ => {}
        }
    }
    text
}

/// The Vietnamese names of the bundled units and regions, longest first: proper names,
/// whatever words they share with English ("Long An", "Cửu Long").
static UNIT_NAMES: LazyLock<Vec<String>> = LazyLock::new(|| {
    let mut names = Vec::new();
    for list in [
        include_str!("../../assets/reference/provinces-2023.csv"),
        include_str!("../../assets/reference/provinces-2025.csv"),
    ] {
        let mut lines = list.lines();
        let header: Vec<&str> = lines.next().unwrap().split(',').collect();
        for column in ["name_vi", "region_vi"] {
            if let Some(at) = header.iter().position(|h| *h == column) {
                names.extend(
                    lines
                        .clone()
                        .filter_map(|l| l.split(',').nth(at).map(str::to_owned)),
                );
            }
        }
    }
    names.sort_by_key(|n| std::cmp::Reverse(n.len()));
    names
});

/// The English words on a page, each once.
fn english_words(html: &str) -> BTreeSet<String> {
    let mut text = visible_text(html);
    for name in UNIT_NAMES.iter() {
        text = text.replace(name.as_str(), " ");
    }
    plain_words(&text)
        .into_iter()
        .filter(|w| ENGLISH_ONLY.contains(w))
        .collect()
}

/// The administrator's browser, with a checked page at each step.
struct Desk {
    browser: Browser,
    /// Pages visited and checked, for the failure message.
    checked: Vec<String>,
}

impl Desk {
    /// Asserts that the page shown is in Vietnamese: no word that only the English catalogue
    /// uses.
    async fn assert_vietnamese(&mut self) {
        let path = self.browser.path().await;
        let source = self.browser.source().await;
        assert!(
            source.contains("<html lang=\"vi\""),
            "{path} is not marked Vietnamese"
        );
        let english = english_words(&source);
        assert!(
            english.is_empty(),
            "English on the Vietnamese page {path}: {english:?}\n{}",
            visible_text(&source)
        );
        self.checked.push(path);
    }

    /// Follows a link or presses a button, then checks the page it leads to.
    async fn press(&mut self, css: &str) {
        self.browser.click_through(css).await;
        self.assert_vietnamese().await;
    }

    /// Follows the link back to the round's page (every page of a round has one), unless
    /// already there.
    async fn back_to(&mut self, round_page: &str) {
        if self.browser.path().await != round_page {
            self.press(&format!("a[href='{round_page}']")).await;
        }
    }

    /// The HTML of the page shown.
    async fn source(&self) -> String {
        self.browser.source().await
    }
}

/// Thirty people of a 2024 list, as a provincial office would type it: units by their names
/// as the pages show them (with and without "Tỉnh"/"Thành phố"), groups by their labels.
fn respondent_list() -> String {
    let units = [
        "Thành phố Hà Nội",
        "Sơn La",
        "Tỉnh Đắk Lắk",
        "Thành phố Hồ Chí Minh",
        "Quảng Ninh",
        "Cần Thơ",
    ];
    let groups = ["Lãnh đạo, quản lý", "Công chức", "Người dân, tổ chức"];
    let family = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ"];
    let given = [
        "Thị Thu Hằng",
        "Văn Đức",
        "Minh Khuê",
        "Quốc Bảo",
        "Ngọc Ánh",
    ];
    let mut csv = String::from("STT,Họ và tên,Đơn vị,Nhóm,Thư điện tử,Chức vụ\n");
    for i in 0..30 {
        let name = format!("{} {}", family[i % 6], given[i % 5]);
        let group = groups[(i / 6) % 3];
        let position = if i % 3 == 0 { "Giám đốc sở" } else { "" };
        csv.push_str(&format!(
            "{},{name},{},\"{group}\",nguoi{i}@vidu.gov.vn,{position}\n",
            i + 1,
            units[i % 6]
        ));
    }
    csv
}

/// The codes on a printed sheet, with each slip's group label.
fn slips(html: &str) -> Vec<(String, AccessCode)> {
    let document = Html::parse_document(html);
    let slip = scraper::Selector::parse(".slip").unwrap();
    let person = scraper::Selector::parse("p strong").unwrap();
    let code = scraper::Selector::parse(".slip-code").unwrap();
    document
        .select(&slip)
        .map(|s| {
            let line = s
                .select(&person)
                .next()
                .and_then(|p| p.parent())
                .and_then(scraper::ElementRef::wrap)
                .unwrap()
                .text()
                .collect::<String>();
            let code: String = s.select(&code).next().unwrap().text().collect();
            (line, AccessCode::parse(code.trim()).unwrap())
        })
        .collect()
}

#[tokio::test]
async fn a_new_administrator_runs_a_whole_round_through_the_pages_in_vietnamese() {
    let Some(browser) = browser_sized(false, (1280, 1000)).await else {
        return;
    };
    let app = spawn_app().await;
    let mut desk = Desk {
        browser,
        checked: Vec::new(),
    };

    // 1. The setup link printed at the first start creates the first administrator.
    let setup = app
        .setup_url
        .clone()
        .expect("a setup link on a fresh database");
    desk.browser.go(&setup).await;
    desk.assert_vietnamese().await;
    desk.browser
        .fill("input[name='name']", "Trần Thị Bích Ngọc")
        .await;
    desk.browser.fill("input[name='email']", ADMIN_EMAIL).await;
    desk.browser.fill("input[name='password']", PASSWORD).await;
    desk.browser
        .fill("input[name='password_confirm']", PASSWORD)
        .await;
    desk.press("form button[type='submit']").await;
    assert_eq!(desk.browser.path().await, "/admin");
    keep_picture(&desk.browser, "01-bang-dieu-khien").await;

    // 2. A round for 2024, first with the closing time before the opening time. Times are
    // typed in Vietnam's time, around today so that the round takes answers.
    let today = chrono::Utc::now()
        .with_timezone(&chrono_tz::Asia::Ho_Chi_Minh)
        .date_naive();
    let at = |days: i64, time: &str| format!("{}T{time}", today + chrono::Duration::days(days));
    let (opens, too_early, closes) = (at(-1, "08:00"), at(-30, "17:30"), at(30, "17:30"));
    desk.press("header a[href='/admin/rounds']").await;
    desk.browser.fill("#year", "2024").await;
    desk.browser
        .fill("#name_vi", "Khảo sát Chỉ số CCHC năm 2024")
        .await;
    desk.browser.fill("#name_en", "PAR Index survey 2024").await;
    desk.browser
        .choose("#unit_set", khaosat::app::rounds::PROVINCES_2023)
        .await;
    desk.browser.fill_datetime("#opens_at", &opens).await;
    desk.browser.fill_datetime("#closes_at", &too_early).await;
    desk.press("form[action='/admin/rounds'] button[type='submit']")
        .await;
    let refused = desk.source().await;
    assert!(refused.contains("Có lỗi cần sửa"), "{refused}");
    for (field, typed) in [
        ("#year", "2024"),
        ("#name_vi", "Khảo sát Chỉ số CCHC năm 2024"),
        ("#opens_at", opens.as_str()),
        ("#closes_at", too_early.as_str()),
    ] {
        assert_eq!(desk.browser.value(field).await, typed, "{field} kept");
    }
    assert_eq!(
        desk.browser.value("#unit_set").await,
        khaosat::app::rounds::PROVINCES_2023,
        "the chosen unit list stays chosen"
    );
    keep_picture(&desk.browser, "02-loi-ben-truong").await;
    // The summary links to the field; the field is put right.
    assert!(refused.contains(r##"<a href="#closes_at">"##));
    desk.browser.fill_datetime("#closes_at", &closes).await;
    desk.press("form[action='/admin/rounds'] button[type='submit']")
        .await;
    let round_page = desk.browser.path().await;
    let round: i64 = round_page
        .trim_start_matches("/admin/rounds/")
        .parse()
        .unwrap_or_else(|_| panic!("at {round_page}"));

    // 3. The draft is edited: a clearer name.
    desk.press(&format!("a[href='{round_page}/edit']")).await;
    desk.browser
        .fill("#name_vi", "Khảo sát Chỉ số CCHC tỉnh năm 2024")
        .await;
    desk.press("form[action$='/edit'] button[type='submit']")
        .await;
    assert!(
        desk.source()
            .await
            .contains("Khảo sát Chỉ số CCHC tỉnh năm 2024")
    );

    // 4. Three groups, each with its own questionnaire as offered, and a target each.
    for group in ["leader", "civil_servant", "citizen"] {
        desk.press(&format!(
            "form.group-binding:has(input[value='{group}']) button[type='submit']"
        ))
        .await;
    }
    for (group, target) in [("leader", "3"), ("civil_servant", "3"), ("citizen", "4")] {
        desk.browser.choose("#tgroup", group).await;
        desk.browser.fill("#target", target).await;
        desk.press("form[action$='/targets'] button[type='submit']")
            .await;
    }
    keep_picture(&desk.browser, "03-dot-khao-sat").await;

    // 5. The list of thirty, checked in a preview before anything is stored.
    let folder = tempfile::tempdir().unwrap();
    let file = folder.path().join("danh-sach-2024.csv");
    std::fs::write(&file, respondent_list()).unwrap();
    desk.browser.upload("#rfile", file.to_str().unwrap()).await;
    desk.press("form[action$='/respondents'] button[type='submit']")
        .await;
    let preview = desk.source().await;
    assert!(preview.contains("30"), "{preview}");
    keep_picture(&desk.browser, "04-xem-truoc-danh-sach").await;
    desk.press("form[action$='/respondents/confirm'] button[type='submit']")
        .await;
    assert!(
        desk.source().await.contains("30"),
        "the round counts thirty people"
    );
    desk.press("#respondents-link a").await;
    assert!(desk.source().await.contains("Phạm Minh Khuê"));

    // 6. Opening: what will happen, then what happened.
    desk.back_to(&round_page).await;
    desk.press("a[href$='/actions/open']").await;
    keep_picture(&desk.browser, "05-xac-nhan-mo").await;
    desk.press("form[action$='/actions/open'] button[type='submit']")
        .await;
    assert!(desk.browser.path().await.ends_with("/actions/open/done"));
    desk.back_to(&round_page).await;

    // 7. Printed code slips for everyone, then a lost slip reissued.
    desk.press("form[action$='/codes'] button[type='submit']")
        .await;
    let sheet = desk.source().await;
    let codes = slips(&sheet);
    assert_eq!(codes.len(), 30, "a slip per person");
    keep_picture(&desk.browser, "06-phieu-ma").await;
    let (lost_line, lost_code) = codes
        .iter()
        .find(|(line, _)| line.contains("Lê Minh Khuê") || line.contains("Lãnh đạo"))
        .cloned()
        .unwrap();
    desk.back_to(&round_page).await;
    desk.press("a[href$='/codes/reissue']").await;
    let reissue = desk.source().await;
    let holder = Html::parse_document(&reissue);
    let tick = scraper::Selector::parse("tr").unwrap();
    let lost_name = lost_line.split(" — ").next().unwrap().trim().to_owned();
    let row_id = holder
        .select(&tick)
        .find(|tr| tr.text().collect::<String>().contains(&lost_name))
        .and_then(|tr| {
            tr.select(&scraper::Selector::parse("input[type='checkbox']").unwrap())
                .next()
                .and_then(|i| i.value().attr("id").map(str::to_owned))
        })
        .unwrap_or_else(|| panic!("{lost_name} on the reissue page"));
    desk.browser.click(&format!("#{row_id}")).await;
    desk.press("form:has(input[value='chosen']) button[type='submit']")
        .await;
    let reissued = slips(&desk.source().await);
    assert!(!reissued.is_empty(), "a new slip");
    let (_, new_code) = reissued
        .iter()
        .find(|(line, _)| line.contains(&lost_name))
        .cloned()
        .unwrap();
    assert_ne!(new_code, lost_code);
    let old = app.get(&format!("/s/{}", lost_code.as_canonical())).await;
    assert!(
        old.status().is_client_error(),
        "the lost slip's code stops working: {}",
        old.status()
    );
    let new = app.get(&format!("/s/{}", new_code.as_canonical())).await;
    assert_eq!(new.status(), 200, "the new code works");

    // 8. A public link for citizens of Sơn La; one citizen starts on a phone and finishes on
    // a computer with the code the page gave them.
    desk.back_to(&round_page).await;
    let son_la = option_value(&desk.source().await, "#ol_unit", "Sơn La");
    desk.browser.choose("#ol_unit", &son_la).await;
    desk.browser.choose("#ol_group", "citizen").await;
    desk.browser.fill("#quota", "5").await;
    desk.press("form[action$='/open-links'] button[type='submit']")
        .await;
    let link = public_link(&desk.source().await);
    let citizen_form = bundled("citizen");
    let code = {
        let Some(phone) = browser_sized(false, (390, 900)).await else {
            return;
        };
        phone.go(&app.url(&link)).await;
        phone
            .click("form[action$='/start'] button, form button[type='submit']")
            .await;
        phone.wait_for(".slip-code").await;
        let shown = phone.source().await;
        let code = code_shown(&shown);
        keep_picture(&phone, "07-ma-cua-nguoi-dan").await;
        phone
            .go(&app.url(&format!("/s/{}", code.as_canonical())))
            .await;
        phone.click("form[action$='/start'] button").await;
        let first = &citizen_form.sections()[0];
        phone.answer(&fill(first, false), first).await;
        phone.click("button[value='next']").await;
        phone
            .wait_path(&format!("/s/{}/p/2", code.as_canonical()))
            .await;
        code
    };
    {
        let Some(computer) = browser_sized(false, (1280, 900)).await else {
            return;
        };
        computer.go(&app.url("/")).await;
        computer.fill("#code", &code.to_string()).await;
        computer.click("form[action='/s'] button").await;
        computer.wait_for("form[action$='/start'] button").await;
        assert!(computer.source().await.contains("Tiếp tục phần đang làm"));
        computer.click("form[action$='/start'] button").await;
        computer
            .wait_path(&format!("/s/{}/p/2", code.as_canonical()))
            .await;
        // Sections whose condition does not hold are skipped, so the page number says
        // which section is shown.
        loop {
            let path = computer.path().await;
            if path.ends_with("/review") {
                break;
            }
            let n: usize = path.rsplit('/').next().unwrap().parse().unwrap();
            let section = &citizen_form.sections()[n - 1];
            computer.answer(&fill(section, false), section).await;
            computer.click_through("button[value='next']").await;
        }
        computer.click("form[action$='/submit'] button").await;
        computer.wait_for(".receipt").await;
    }

    // 9. The other respondents answer (over plain HTTP: their side has browser tests of its
    // own), except the one whose slip was lost and reissued, who uses the new code.
    let mut answered = 1;
    for (line, code) in codes.iter().chain(reissued.iter()) {
        if *code == lost_code || answered >= 28 {
            continue;
        }
        let group = if line.contains("Lãnh đạo") {
            "leader"
        } else if line.contains("Công chức") {
            "civil_servant"
        } else {
            "citizen"
        };
        let review = answer_everything_of(&app, code.as_canonical(), &bundled(group)).await;
        let receipt = submit_review(&app, code.as_canonical(), &review).await;
        assert_eq!(receipt.status(), 303, "{line}");
        answered += 1;
    }
    assert_eq!(answered, 28);

    // 10. Closing, computing and publishing, each confirmed.
    for action in ["close", "compute", "publish"] {
        desk.back_to(&round_page).await;
        desk.press(&format!("a[href$='/actions/{action}']")).await;
        desk.press(&format!(
            "form[action$='/actions/{action}'] button[type='submit']"
        ))
        .await;
        assert!(
            desk.browser
                .path()
                .await
                .ends_with(&format!("/actions/{action}/done")),
            "{action} done"
        );
        if action == "publish" {
            keep_picture(&desk.browser, "08-da-cong-bo").await;
        }
    }

    // 11. The published results and their downloads, as anyone sees them.
    desk.press(&format!("a[href='/results/{round}']")).await;
    keep_picture(&desk.browser, "09-ket-qua").await;
    let results = desk.source().await;
    assert!(results.contains("Sơn La"));
    let download = Html::parse_document(&results)
        .select(&scraper::Selector::parse("a[href*='/download/']").unwrap())
        .next()
        .and_then(|a| a.value().attr("href").map(str::to_owned))
        .expect("a download link on the results page");
    let file = reqwest::get(app.url(&download)).await.unwrap();
    assert_eq!(file.status(), 200, "{download}");
    assert!(!file.bytes().await.unwrap().is_empty());

    // 12. A coordinator for two provinces, added and given units on the pages, sets their
    // own password through the link and sees those two provinces alone.
    desk.press("header a[href='/admin']").await;
    desk.press("a[href='/admin/accounts']").await;
    desk.browser
        .fill(
            "form[action='/admin/accounts'] input[name='name']",
            "Đinh Công Tráng",
        )
        .await;
    desk.browser
        .fill(
            "form[action='/admin/accounts'] input[name='email']",
            COORDINATOR_EMAIL,
        )
        .await;
    desk.browser
        .choose(
            "form[action='/admin/accounts'] select[name='role']",
            "coordinator",
        )
        .await;
    desk.press("form[action='/admin/accounts'] button[type='submit']")
        .await;
    let account_link = desk
        .browser
        .wait_for("#account-link")
        .await
        .text()
        .await
        .unwrap();
    let account_page = desk
        .browser
        .path()
        .await
        .trim_end_matches("/link")
        .to_owned();
    desk.press(&format!("a[href='{account_page}']")).await;
    let account = desk.source().await;
    for province in ["Sơn La", "Quảng Ninh"] {
        let id = checkbox_beside(&account, province);
        // The units sit in a folded list per unit list, as a person finds them.
        let folded = format!("details:not([open]):has(input[value='{id}']) > summary");
        if desk
            .browser
            .client
            .find(fantoccini::Locator::Css(&folded))
            .await
            .is_ok()
        {
            desk.browser.click(&folded).await;
        }
        desk.browser
            .click(&format!("input[name='unit'][value='{id}']"))
            .await;
    }
    desk.press(&format!(
        "form[action='{account_page}/units'] button[type='submit']"
    ))
    .await;
    keep_picture(&desk.browser, "10-dieu-phoi-vien").await;
    {
        let Some(coordinator) = browser_sized(false, (1280, 900)).await else {
            return;
        };
        let path = url::Url::parse(&account_link).unwrap().path().to_owned();
        coordinator.go(&app.url(&path)).await;
        coordinator.fill("input[name='password']", PASSWORD).await;
        coordinator
            .fill("input[name='password_confirm']", PASSWORD)
            .await;
        coordinator.click("form button[type='submit']").await;
        coordinator.wait_path("/admin").await;
        coordinator
            .go(&app.url(&format!("{round_page}/coverage")))
            .await;
        let coverage = coordinator.source().await;
        assert!(coverage.contains("Sơn La") && coverage.contains("Quảng Ninh"));
        assert!(
            !coverage.contains("Cần Thơ"),
            "only the coordinator's units"
        );
    }

    assert!(desk.checked.len() >= 25, "{:?}", desk.checked);
}

/// The value of the `<option>` of `select` whose text contains `label`.
fn option_value(html: &str, select: &str, label: &str) -> String {
    let document = Html::parse_document(html);
    let option = scraper::Selector::parse(&format!("{select} option")).unwrap();
    document
        .select(&option)
        .find(|o| o.text().collect::<String>().contains(label))
        .and_then(|o| o.value().attr("value").map(str::to_owned))
        .unwrap_or_else(|| panic!("no {label} in {select}"))
}

/// The value of the tick box labelled with `label` (on an account's units form).
fn checkbox_beside(html: &str, label: &str) -> String {
    let document = Html::parse_document(html);
    let labels = scraper::Selector::parse("label").unwrap();
    let input = scraper::Selector::parse("input[type='checkbox']").unwrap();
    document
        .select(&labels)
        .find(|l| l.text().collect::<String>().contains(label))
        .and_then(|l| l.select(&input).next())
        .and_then(|i| i.value().attr("value").map(str::to_owned))
        .unwrap_or_else(|| panic!("no tick box for {label}"))
}

/// The path of the newest public link on the round page.
fn public_link(html: &str) -> String {
    let start = html.find("/o/").expect("a public link on the page");
    let end = start
        + html[start..]
            .find(|c: char| c == '<' || c == '"' || c.is_whitespace())
            .unwrap();
    html[start..end].to_owned()
}

/// The access code a page shows its respondent.
fn code_shown(html: &str) -> AccessCode {
    let document = Html::parse_document(html);
    let code = scraper::Selector::parse(".slip-code").unwrap();
    let text: String = document
        .select(&code)
        .next()
        .expect("the code is shown")
        .text()
        .collect();
    AccessCode::parse(text.trim()).unwrap()
}

#[test]
fn the_english_check_flags_english_prose_but_not_names_codes_or_marked_english() {
    let page = r#"<html lang="vi"><body>
        <h1>Đợt khảo sát</h1>
        <p>Long An — Đồng bằng sông Cửu Long — <code>civil_servant</code> — nguoi1@vidu.gov.vn</p>
        <p class="slip-round">Khảo sát 2024 / <span lang="en">PAR survey 2024</span></p>
        <button>Save changes</button>
        <input placeholder="Find respondents">
    </body></html>"#;
    let found = english_words(page);
    assert!(
        found.contains("save") && found.contains("changes"),
        "{found:?}"
    );
    assert!(found.contains("find"), "attributes are read: {found:?}");
    for allowed in ["long", "civil", "servant", "survey", "vidu"] {
        assert!(!found.contains(allowed), "{allowed} flagged: {found:?}");
    }
}
