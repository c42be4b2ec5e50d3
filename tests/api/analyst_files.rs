//! Analyst files opened in real statistics software: a microdata CSV export and the SPSS and R
//! syntax its job page links to are run in PSPP and R, which must read every response once and
//! find the same frequencies and valid percentages as the CSV itself (skipped answers and
//! "don't know" codes missing, the spreadsheet guard undone, line breaks kept out of the data).

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use diesel::prelude::*;
use khaosat::domain::account::Role;
use khaosat::domain::answers::{AnswerValue, Answers};

use crate::helpers::{TestApp, skip, spawn_app};
use crate::results::demo_round;

/// Free-text answers that broke the files: line breaks (one case became two in PSPP), text a
/// spreadsheet would run as a formula, and a real leading apostrophe.
const COMMENTS: [&str; 4] = [
    "Dòng một\nDòng \"hai\", ba",
    "=1+2",
    "'đã trích dẫn",
    "-5 điểm\r\nhết",
];

/// The comments as every reader must see them: the original text, line breaks as spaces.
const READ_BACK: [&str; 4] = [
    "Dòng một Dòng \"hai\", ba",
    "=1+2",
    "'đã trích dẫn",
    "-5 điểm hết",
];

/// Whether `program` runs here.
fn installed(program: &str) -> bool {
    Command::new(program)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Puts [`COMMENTS`] into the first leader responses of the round.
fn seed_comments(app: &TestApp, round: i64) {
    use khaosat::db::schema::responses;
    let mut conn = app.pool.get().unwrap();
    let group = khaosat::db::rounds::group_id(&mut conn, "leader")
        .unwrap()
        .unwrap();
    let rows =
        khaosat::db::responses::page_for_export(&mut conn, round, group, None, 0, 4).unwrap();
    assert_eq!(rows.len(), COMMENTS.len());
    for (row, text) in rows.iter().zip(COMMENTS) {
        let mut answers = Answers::from_json(&row.answers).unwrap();
        answers.insert("comment".to_owned(), AnswerValue::Text(text.to_owned()));
        diesel::update(responses::table.find(row.id))
            .set(responses::answers.eq(answers.to_json()))
            .execute(&mut *conn)
            .unwrap();
    }
}

/// The `href` of the first link on `page` whose address contains `needle`.
fn link(page: &str, needle: &str) -> String {
    let at = page
        .find(needle)
        .unwrap_or_else(|| panic!("no link to {needle} in {page}"));
    let start = page[..at].rfind("href=\"").unwrap() + "href=\"".len();
    let end = start + page[start..].find('"').unwrap();
    page[start..end].replace("&amp;", "&")
}

/// Every row of a CSV file after its BOM, the header included.
fn rows(bytes: &[u8], delimiter: u8) -> Vec<csv::StringRecord> {
    csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .from_reader(bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes))
        .records()
        .map(Result::unwrap)
        .collect()
}

/// A variable's coded answers from the codebook: code → (Vietnamese label, missing?).
type Codes = BTreeMap<String, (String, bool)>;

/// The categorical variables of the codebook CSV with their codes.
fn categorical(codebook: &[u8]) -> BTreeMap<String, Codes> {
    let mut out: BTreeMap<String, Codes> = BTreeMap::new();
    for row in rows(codebook, b',').iter().skip(1) {
        if &row[5] == "categorical" && !row[6].is_empty() {
            out.entry(row[0].to_owned())
                .or_default()
                .insert(row[6].to_owned(), (row[7].to_owned(), &row[9] == "yes"));
        }
    }
    out
}

/// Per variable, the count of each valid code in the CSV (blanks and missing codes left out).
fn valid_counts(
    data: &[csv::StringRecord],
    vars: &BTreeMap<String, Codes>,
) -> BTreeMap<String, BTreeMap<String, u64>> {
    let header = &data[0];
    let mut out = BTreeMap::new();
    for (name, codes) in vars {
        let column = header.iter().position(|h| h == name).unwrap();
        let mut counts = BTreeMap::new();
        for row in &data[1..] {
            if codes.get(&row[column]).is_some_and(|(_, missing)| !missing) {
                *counts.entry(row[column].to_owned()).or_insert(0) += 1;
            }
        }
        out.insert(name.clone(), counts);
    }
    out
}

/// The valid percentage of `count` out of the valid answers in `counts`.
fn valid_percent(counts: &BTreeMap<String, u64>, count: u64) -> f64 {
    100.0 * count as f64 / counts.values().sum::<u64>() as f64
}

/// Runs `program` in `dir` and returns its output, failing the test when it fails.
fn run(dir: &Path, program: &str, args: &[&str]) -> String {
    let out = Command::new(program)
        .current_dir(dir)
        .env("LC_ALL", "C.UTF-8")
        .args(args)
        .output()
        .unwrap();
    let log = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{program} failed:\n{log}");
    log
}

/// Runs the SPSS syntax in PSPP and checks cases, comments, frequencies and valid percentages.
fn check_pspp(
    dir: &Path,
    syntax: &str,
    vars: &BTreeMap<String, Codes>,
    expected: &BTreeMap<String, BTreeMap<String, u64>>,
    (cases, delimiter): (usize, u8),
) {
    let names: Vec<&str> = vars.keys().map(String::as_str).collect();
    let mut sps = syntax.to_owned();
    sps.push_str("SET TNUMBERS=VALUES TVARS=NAMES.\nFREQUENCIES /VARIABLES=\n");
    for name in &names {
        sps.push_str(&format!("    {name}\n"));
    }
    sps.push_str("    .\nSAVE TRANSLATE /OUTFILE='back.csv' /TYPE=CSV /FIELDNAMES /REPLACE.\n");
    std::fs::write(dir.join("check.sps"), sps).unwrap();
    let log = run(dir, "pspp", &["-o", "frequencies.csv", "check.sps"]);
    let problems: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("error:") || l.contains("warning:"))
        .collect();
    assert!(problems.is_empty(), "PSPP complained:\n{log}");

    // PSPP writes `;` between values when the decimal mark is a comma, as the export does.
    let back = rows(&std::fs::read(dir.join("back.csv")).unwrap(), delimiter);
    assert_eq!(back.len() - 1, cases, "PSPP reads one case per response");
    let comment = back[0]
        .iter()
        .position(|h| h == "comment_")
        .unwrap_or_else(|| panic!("no comment_ column in {:?}", &back[0]));
    let comments: Vec<&str> = back[1..=READ_BACK.len()]
        .iter()
        .map(|r| r[comment].trim_end())
        .collect();
    assert_eq!(comments, READ_BACK, "PSPP sees the answers as written");

    // FREQUENCIES tables: "Table: NAME", a header, then `Valid,CODE,N,%,VALID %,CUM %` rows.
    let tables = std::fs::read_to_string(dir.join("frequencies.csv")).unwrap();
    let mut seen: BTreeMap<String, BTreeMap<String, (u64, f64)>> = BTreeMap::new();
    let mut current: Option<String> = None;
    let mut section = String::new();
    for line in tables.lines() {
        if let Some(name) = line.strip_prefix("Table: ") {
            current = vars
                .contains_key(name)
                .then(|| name.to_owned())
                .filter(|n| !seen.contains_key(n));
            if let Some(n) = &current {
                seen.insert(n.clone(), BTreeMap::new());
            }
            continue;
        }
        let Some(name) = &current else { continue };
        let cells = rows(line.as_bytes(), b',');
        let Some(cells) = cells.first() else {
            current = None;
            continue;
        };
        if !cells[0].is_empty() {
            section = cells[0].to_owned();
        }
        if section == "Valid" && cells.len() >= 5 {
            let percent: f64 = cells[4]
                .trim_end_matches('%')
                .replace(',', ".")
                .parse()
                .unwrap();
            let count: u64 = cells[2].parse().unwrap();
            seen.get_mut(name)
                .unwrap()
                .insert(cells[1].to_owned(), (count, percent));
        }
    }
    for (name, counts) in expected {
        let got = seen.get(name).unwrap_or_else(|| {
            let head: String = tables.chars().take(3000).collect();
            panic!("no PSPP frequencies of {name} in\n{head}")
        });
        let want: BTreeMap<String, u64> = counts.clone();
        let got_counts: BTreeMap<String, u64> =
            got.iter().map(|(k, (n, _))| (k.clone(), *n)).collect();
        assert_eq!(got_counts, want, "PSPP frequencies of {name}");
        for (code, (count, percent)) in got {
            let exact = valid_percent(counts, *count);
            assert!(
                (percent - exact).abs() < 0.051,
                "PSPP valid % of {name} = {code}: {percent} for {exact}"
            );
        }
    }
}

/// Runs the R syntax in R and checks rows, comments, frequencies and valid percentages.
fn check_r(
    dir: &Path,
    vars: &BTreeMap<String, Codes>,
    expected: &BTreeMap<String, BTreeMap<String, u64>>,
    cases: usize,
) {
    let names: Vec<String> = vars.keys().map(|n| format!("'{n}'")).collect();
    let script = format!(
        "source('syntax.R', encoding = 'UTF-8')\n\
         stopifnot(nrow(microdata) == {cases})\n\
         out <- file('r-out.tsv', open = 'w', encoding = 'UTF-8')\n\
         for (v in c({})) {{\n\
           t <- table(microdata[[v]])\n\
           p <- 100 * prop.table(t)\n\
           for (l in names(t)) writeLines(paste(v, l, t[[l]], p[[l]], sep = '\\t'), out)\n\
         }}\n\
         for (c in microdata[['comment_']][1:{}]) writeLines(paste('comment_', c, sep = '\\t'), out)\n\
         close(out)\n",
        names.join(", "),
        READ_BACK.len()
    );
    std::fs::write(dir.join("check.R"), script).unwrap();
    run(dir, "Rscript", &["check.R"]);
    let out = std::fs::read_to_string(dir.join("r-out.tsv")).unwrap();
    let mut seen: BTreeMap<String, BTreeMap<String, (u64, f64)>> = BTreeMap::new();
    let mut comments = Vec::new();
    for line in out.lines() {
        let cells: Vec<&str> = line.split('\t').collect();
        if cells[0] == "comment_" {
            comments.push(cells[1].to_owned());
            continue;
        }
        seen.entry(cells[0].to_owned()).or_default().insert(
            cells[1].to_owned(),
            (cells[2].parse().unwrap(), cells[3].parse().unwrap()),
        );
    }
    assert_eq!(comments, READ_BACK, "R sees the answers as written");
    for (name, counts) in expected {
        let labels = &vars[name];
        let want: BTreeMap<String, u64> = counts
            .iter()
            .map(|(code, n)| (labels[code].0.clone(), *n))
            .collect();
        let got = seen.get(name).cloned().unwrap_or_default();
        let got_counts: BTreeMap<String, u64> = got
            .iter()
            .filter(|(_, (n, _))| *n > 0)
            .map(|(k, (n, _))| (k.clone(), *n))
            .collect();
        assert_eq!(got_counts, want, "R frequencies of {name}");
        for (label, (count, percent)) in &got {
            let exact = valid_percent(counts, *count);
            assert!(
                (percent - exact).abs() < 1e-6,
                "R valid % of {name} = {label}: {percent} for {exact}"
            );
        }
    }
}

#[tokio::test]
async fn pspp_and_r_read_the_linked_syntax_with_the_csvs_frequencies_and_valid_percentages() {
    if !installed("pspp") || !installed("Rscript") {
        skip("pspp and Rscript (Debian's pspp and r-base-core) are needed");
        return;
    }
    let app = spawn_app().await;
    let round = demo_round(&app, 600);
    seed_comments(&app, round);
    app.login_as("analyst@sonoivu.gov.vn", Role::Analyst).await;
    let codebook = crate::results::download(
        &app,
        &format!("/results/{round}/download/codebook-leader.csv"),
    )
    .await;
    let vars = categorical(&codebook);
    assert!(
        vars.contains_key("c5_recruit_open"),
        "a question that a condition skips is checked"
    );

    for (decimal, delimiter) in [("point", b','), ("comma", b';')] {
        let (page, csv) = crate::results::export_job(&app, round, "csv", decimal).await;
        let data = rows(&csv, delimiter);
        let cases = data.len() - 1;
        let skipped = data[0].iter().position(|h| h == "c5_recruit_open").unwrap();
        assert!(
            data[1..].iter().any(|r| r[skipped].is_empty()),
            "some responses skipped c5_recruit_open"
        );
        let expected = valid_counts(&data, &vars);

        let dir = tempfile::tempdir().unwrap();
        let file = format!("round-{round}-leader-microdata.csv");
        std::fs::write(dir.path().join(&file), &csv).unwrap();
        for (ext, name) in [(".sps", "syntax.sps"), (".R", "syntax.R")] {
            let href = link(&page, &format!("syntax-leader{ext}"));
            if decimal == "comma" {
                assert!(href.contains("decimal=comma"), "{href}");
            }
            let syntax = crate::results::download(&app, &href).await;
            let text = String::from_utf8(syntax).unwrap();
            assert!(text.contains(&file), "the syntax reads {file}");
            std::fs::write(dir.path().join(name), text).unwrap();
        }
        let sps = std::fs::read_to_string(dir.path().join("syntax.sps")).unwrap();
        check_pspp(dir.path(), &sps, &vars, &expected, (cases, delimiter));
        check_r(dir.path(), &vars, &expected, cases);
    }
}

#[tokio::test]
async fn a_comma_export_job_links_the_syntax_that_reads_it_and_holds_one_line_per_response() {
    let app = spawn_app().await;
    let round = demo_round(&app, 150);
    seed_comments(&app, round);
    app.login_as("analyst@sonoivu.gov.vn", Role::Analyst).await;
    let (page, csv) = crate::results::export_job(&app, round, "csv", "comma").await;
    assert!(
        page.contains("<code>leader</code>"),
        "the page names the group"
    );
    assert!(
        page.contains("<code>;</code>"),
        "the page names the delimiter"
    );
    assert!(page.contains("1,5"), "the page names the decimal mark");

    let data = rows(&csv, b';');
    let text = String::from_utf8(csv.clone()).unwrap();
    assert_eq!(
        text.lines().count(),
        data.len(),
        "no answer spreads over two lines"
    );
    let comment = data[0].iter().position(|h| h == "comment_").unwrap();
    assert_eq!(
        &data[2][comment], "'=1+2",
        "the spreadsheet guard stays in the CSV"
    );

    let sps = crate::results::download(&app, &link(&page, "syntax-leader.sps")).await;
    let sps = String::from_utf8(sps).unwrap();
    assert!(sps.contains("SET DECIMAL=COMMA."), "{sps}");
    assert!(sps.contains("  /DELIMITERS=\";\""), "{sps}");
    assert!(!sps.contains("\nSET UNICODE"), "PSPP refuses SET UNICODE");
    assert!(
        sps.contains("MISSING VALUES c5_recruit_open (' ' 'dk')."),
        "{sps}"
    );
    let r = crate::results::download(&app, &link(&page, "syntax-leader.R")).await;
    let r = String::from_utf8(r).unwrap();
    assert!(
        r.contains("  sep = \";\",") && r.contains("  dec = \",\","),
        "{r}"
    );
    let stata = crate::results::download(&app, &link(&page, "syntax-leader.do")).await;
    assert!(
        String::from_utf8(stata)
            .unwrap()
            .contains("delimiters(\";\")")
    );
}

#[tokio::test]
async fn pspp_and_r_read_the_file_with_exclusions_marked_with_its_own_syntax() {
    if !installed("pspp") || !installed("Rscript") {
        skip("pspp and Rscript (Debian's pspp and r-base-core) are needed");
        return;
    }
    let app = spawn_app().await;
    let round = demo_round(&app, 300);
    seed_comments(&app, round);
    app.login_as("analyst@sonoivu.gov.vn", Role::Analyst).await;
    crate::exclusions::exclude_one_and_flag_one(&app, round).await;
    let codebook = crate::results::download(
        &app,
        &format!("/results/{round}/download/codebook-leader.csv?include_excluded=1"),
    )
    .await;
    let vars = categorical(&codebook);
    assert!(
        vars.contains_key("excluded"),
        "excluded is a coded variable"
    );

    let (page, csv, _) =
        crate::exclusions::export_job_with(&app, round, "csv", &[("include_excluded", "1")]).await;
    let data = rows(&csv, b',');
    let cases = data.len() - 1;
    let expected = valid_counts(&data, &vars);
    assert_eq!(
        expected["excluded"].get("1"),
        Some(&1),
        "one response is marked excluded"
    );

    let dir = tempfile::tempdir().unwrap();
    let file = format!("round-{round}-leader-microdata-with-excluded.csv");
    std::fs::write(dir.path().join(&file), &csv).unwrap();
    for (ext, name) in [(".sps", "syntax.sps"), (".R", "syntax.R")] {
        let href = link(&page, &format!("syntax-leader{ext}"));
        assert!(href.contains("include_excluded=1"), "{href}");
        let text = String::from_utf8(crate::results::download(&app, &href).await).unwrap();
        assert!(text.contains(&file), "the syntax reads {file}");
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    let sps = std::fs::read_to_string(dir.path().join("syntax.sps")).unwrap();
    check_pspp(dir.path(), &sps, &vars, &expected, (cases, b','));
    check_r(dir.path(), &vars, &expected, cases);

    // Both read the reason as the reviewer wrote it (line break as a space, guard undone) and
    // the flags as listed.
    let reason = crate::exclusions::REASON.replace('\n', " ");
    let back = rows(&std::fs::read(dir.path().join("back.csv")).unwrap(), b',');
    let column = |name: &str| back[0].iter().position(|h| h == name).unwrap();
    let (why, flags) = (column("exclusion_reason"), column("quality_flags"));
    let reasons: Vec<&str> = back[1..]
        .iter()
        .map(|r| r[why].trim_end())
        .filter(|r| !r.is_empty())
        .collect();
    assert_eq!(reasons, [reason.as_str()], "PSPP reads the reason");
    let flagged: Vec<&str> = back[1..]
        .iter()
        .map(|r| r[flags].trim_end())
        .filter(|r| !r.is_empty())
        .collect();
    assert_eq!(flagged, [crate::exclusions::FLAGS], "PSPP reads the flags");
    std::fs::write(
        dir.path().join("status.R"),
        "source('syntax.R', encoding = 'UTF-8')\n\
         out <- file('status.tsv', open = 'w', encoding = 'UTF-8')\n\
         writeLines(microdata$exclusion_reason[!is.na(microdata$exclusion_reason)], out)\n\
         writeLines(microdata$quality_flags[!is.na(microdata$quality_flags)], out)\n\
         writeLines(as.character(microdata$excluded[!is.na(microdata$exclusion_reason)]), out)\n\
         close(out)\n",
    )
    .unwrap();
    run(dir.path(), "Rscript", &["status.R"]);
    let status = std::fs::read_to_string(dir.path().join("status.tsv")).unwrap();
    assert_eq!(
        status.lines().collect::<Vec<_>>(),
        [reason.as_str(), crate::exclusions::FLAGS, "Bị loại"],
        "R reads the reason, the flags and the label of excluded = 1"
    );
}
