//! Hostile XLSX uploads: a sheet that declares 17 billion cells, a shared-string table that
//! declares trillions of strings, and zip bombs are refused with a located error by every
//! spreadsheet reader (XLSForm questionnaires, respondent lists), by the CLI and by the server,
//! which keeps answering. Memory stays small: the workbooks are a few kilobytes and the bombs
//! inflate past the limits by only a little.

use std::io::{Cursor, Read, Write};
use std::process::Command;

use khaosat::domain::account::Role;
use khaosat::domain::respondent_list::{StandardGroups, parse_respondent_xlsx};
use khaosat::domain::xlsform::{self, XlsFormOptions, import_xlsform};
use rust_xlsxwriter::Workbook;
use zip::write::SimpleFileOptions;

use crate::helpers::{TestDb, spawn_app};

/// Excel's last row and column, 0-based: the cell `XFD1048576`.
const LAST_ROW: u32 = 1_048_575;
const LAST_COLUMN: u16 = 16_383;

/// A workbook whose first sheet, `sheet`, has `header` in row 1 and one value in the last cell
/// a spreadsheet can have. Reading it as a rectangle needs 549,755,813,888 bytes.
fn last_cell_workbook(sheet: &str, header: &[&str]) -> Vec<u8> {
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name(sheet).unwrap();
    for (c, v) in header.iter().enumerate() {
        ws.write_string(0, c as u16, *v).unwrap();
    }
    ws.write_string(LAST_ROW, LAST_COLUMN, "x").unwrap();
    wb.save_to_buffer().unwrap()
}

fn last_cell_survey() -> Vec<u8> {
    last_cell_workbook("survey", &["type", "name", "label"])
}

fn last_cell_list() -> Vec<u8> {
    last_cell_workbook("Sheet1", &["name", "email", "unit", "group"])
}

/// A copy of the zip `bytes` whose parts `edit` writes (from their name and data), with the
/// archive comment `comment`.
fn rezip(bytes: &[u8], edit: impl Fn(&str, &[u8], &mut dyn Write), comment: &[u8]) -> Vec<u8> {
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
    let mut out = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for i in 0..archive.len() {
        let mut part = archive.by_index(i).unwrap();
        let name = part.name().unwrap().into_owned();
        let mut data = Vec::new();
        part.read_to_end(&mut data).unwrap();
        out.start_file(name.as_str(), SimpleFileOptions::default())
            .unwrap();
        edit(&name, &data, &mut out);
    }
    out.set_raw_comment(comment.into()).unwrap();
    out.finish().unwrap().into_inner()
}

const STRINGS: &str = "xl/sharedStrings.xml";

/// A survey sheet with its header, as a spreadsheet program writes it (with a shared-string
/// table).
fn plain_survey() -> Vec<u8> {
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name("survey").unwrap();
    for (c, v) in ["type", "name", "label"].iter().enumerate() {
        ws.write_string(0, c as u16, *v).unwrap();
    }
    wb.save_to_buffer().unwrap()
}

/// The offset just past the shared-string table's opening tag.
fn after_table_tag(data: &[u8]) -> usize {
    let at = data.windows(4).position(|w| w == b"<sst").unwrap();
    at + data[at..].iter().position(|&b| b == b'>').unwrap() + 1
}

/// A valid workbook whose shared-string table declares 10^14 strings: calamine reserved room
/// for all of them (2.4 PB) before reading one, and the process aborted.
fn huge_string_table() -> Vec<u8> {
    let edited = std::cell::Cell::new(false);
    let bytes = rezip(
        &plain_survey(),
        |name, data, out| {
            if name != STRINGS {
                out.write_all(data).unwrap();
                return;
            }
            edited.set(true);
            let text = std::str::from_utf8(data).unwrap();
            let at = text.find("uniqueCount=\"").unwrap() + "uniqueCount=\"".len();
            let end = at + text[at..].find('"').unwrap();
            write!(out, "{}99999999999999{}", &text[..at], &text[end..]).unwrap();
        },
        b"",
    );
    assert!(edited.get(), "the workbook has a shared-string table");
    bytes
}

/// An end-of-directory record pointing past the end of the file. Planted in the archive
/// comment, it made the old guard give up and let the upload through, while the zip library
/// (and so calamine) passes over it to the real one.
fn fake_end_record() -> Vec<u8> {
    let mut record = b"PK\x05\x06".to_vec();
    record.extend_from_slice(&[0, 0, 0, 0, 1, 0, 1, 0]);
    record.extend_from_slice(&46u32.to_le_bytes());
    record.extend_from_slice(&0x7FFF_0000u32.to_le_bytes());
    record.extend_from_slice(&0u16.to_le_bytes());
    record
}

/// A valid workbook with `spaces` blanks inside its shared-string table, which calamine reads
/// in full: a zip bomb where it does harm. Spaces deflate about a thousand to one, and are
/// written a megabyte at a time so the test never holds them all.
fn padded_string_table(spaces: usize, comment: &[u8]) -> Vec<u8> {
    rezip(
        &plain_survey(),
        |name, data, out| {
            if name != STRINGS {
                out.write_all(data).unwrap();
                return;
            }
            let at = after_table_tag(data);
            out.write_all(&data[..at]).unwrap();
            let chunk = vec![b' '; 1024 * 1024];
            let mut left = spaces;
            while left > 0 {
                let n = left.min(chunk.len());
                out.write_all(&chunk[..n]).unwrap();
                left -= n;
            }
            out.write_all(&data[at..]).unwrap();
        },
        comment,
    )
}

/// Rewrites the uncompressed size that both the local and the central header of `part` declare.
fn declare_size(bytes: &mut [u8], part: &str, size: u32) {
    let mut patched = 0;
    // (signature, offset of the name length, of the name, of the uncompressed size)
    for (signature, name_len_at, name_at, size_at) in
        [(b"PK\x03\x04", 26, 30, 22), (b"PK\x01\x02", 28, 46, 24)]
    {
        for i in 0..bytes.len().saturating_sub(46) {
            if &bytes[i..i + 4] != signature {
                continue;
            }
            let len = usize::from(u16::from_le_bytes([
                bytes[i + name_len_at],
                bytes[i + name_len_at + 1],
            ]));
            if bytes.get(i + name_at..i + name_at + len) == Some(part.as_bytes()) {
                bytes[i + size_at..i + size_at + 4].copy_from_slice(&size.to_le_bytes());
                patched += 1;
            }
        }
    }
    assert_eq!(patched, 2, "one local and one central header for {part}");
}

#[test]
fn a_value_in_the_last_cell_of_a_sheet_is_refused_by_both_readers_with_its_location() {
    let errors =
        import_xlsform(&last_cell_survey(), "f.xlsx", &XlsFormOptions::default()).unwrap_err();
    let messages: Vec<String> = errors.iter().map(ToString::to_string).collect();
    assert_eq!(
        messages,
        [
            "f.xlsx: sheet 'survey', cell XFD1048576: a value beyond column IV (at most 256 columns are read)"
        ]
    );

    let units = |code: &str| Some(code.to_owned());
    let errors =
        parse_respondent_xlsx(&last_cell_list(), "list.xlsx", &units, &StandardGroups).unwrap_err();
    let messages: Vec<String> = errors.iter().map(ToString::to_string).collect();
    assert_eq!(
        messages,
        [
            "list.xlsx row 1048576, column XFD: sheet 'Sheet1': a value beyond column IV (at most 256 columns are read)"
        ]
    );
}

#[test]
fn a_shared_string_table_declaring_trillions_of_strings_is_refused_by_both_readers() {
    let bytes = huge_string_table();
    let errors = import_xlsform(&bytes, "f.xlsx", &XlsFormOptions::default()).unwrap_err();
    assert!(
        errors[0]
            .to_string()
            .starts_with("f.xlsx: the workbook unpacks to a string table (xl/sharedStrings.xml) declaring '99999999999999' strings"),
        "{errors:?}"
    );
    let units = |code: &str| Some(code.to_owned());
    let errors = parse_respondent_xlsx(&bytes, "list.xlsx", &units, &StandardGroups).unwrap_err();
    assert!(
        errors[0]
            .message
            .to_string()
            .starts_with("the workbook unpacks to a string table"),
        "{errors:?}"
    );
}

#[test]
fn a_workbook_inflating_past_the_limit_is_refused_even_with_a_fake_end_record() {
    let limit = usize::try_from(xlsform::XLSX_LIMITS.max_unpacked_bytes).unwrap();
    let bomb = padded_string_table(limit, &fake_end_record());
    assert!(bomb.len() < 1024 * 1024, "{} bytes", bomb.len());
    let errors = import_xlsform(&bomb, "bomb.xlsx", &XlsFormOptions::default()).unwrap_err();
    let messages: Vec<String> = errors.iter().map(ToString::to_string).collect();
    assert_eq!(
        messages,
        ["bomb.xlsx: the workbook unpacks to more than 100 MiB; it is not a plausible spreadsheet"]
    );
}

#[test]
fn a_workbook_that_understates_its_sizes_is_refused() {
    // Declares 200 bytes for a table that inflates to 2 MiB.
    let mut bomb = padded_string_table(2 * 1024 * 1024, b"");
    declare_size(&mut bomb, STRINGS, 200);
    let units = |code: &str| Some(code.to_owned());
    let errors = parse_respondent_xlsx(&bomb, "list.xlsx", &units, &StandardGroups).unwrap_err();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        errors[0].row.is_none()
            && (errors[0]
                .message
                .to_string()
                .starts_with("the workbook unpacks to more than")
                || errors[0]
                    .message
                    .to_string()
                    .starts_with("not a readable .xlsx workbook: xl/sharedStrings.xml")),
        "{errors:?}"
    );
}

/// Runs `khaosat instrument check FILE` in English (the messages checked below are English;
/// the instrument errors follow the command line's language).
fn instrument_check(db: &TestDb, file: &std::path::Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_khaosat"))
        .args(["instrument", "check"])
        .arg(file)
        .env("DATABASE_URL", db.url())
        .env("KHAOSAT_LANG", "en")
        .env("RUST_LOG", "warn")
        .output()
        .unwrap()
}

#[test]
fn instrument_check_refuses_hostile_workbooks_with_an_ordinary_error() {
    let db = TestDb::new();
    let dir = tempfile::tempdir().unwrap();
    for (name, bytes, expected) in [
        (
            "last-cell.xlsx",
            last_cell_survey(),
            "last-cell.xlsx: sheet 'survey', cell XFD1048576: a value beyond column IV",
        ),
        (
            "strings.xlsx",
            huge_string_table(),
            "strings.xlsx: the workbook unpacks to a string table",
        ),
    ] {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        let out = instrument_check(&db, &path);
        let stderr = String::from_utf8_lossy(&out.stderr);
        // An abort (allocation failure) exits with 134 and no message of ours.
        assert_eq!(out.status.code(), Some(1), "{name}: {stderr}");
        assert!(stderr.contains(expected), "{name}: {stderr}");
    }
}

#[tokio::test]
async fn hostile_uploads_get_an_error_page_and_the_server_keeps_answering() {
    let app = spawn_app().await;
    app.login_as("admin@sonoivu.gov.vn", Role::Admin).await;
    let round = crate::rounds::draft_round(&app, 0);
    let page = format!("/admin/rounds/{round}");
    let respondents = format!("{page}/respondents");
    let uploads = [
        (
            "/admin/instruments",
            "/admin/instruments/import",
            last_cell_survey(),
            "cell XFD1048576",
        ),
        (
            page.as_str(),
            respondents.as_str(),
            last_cell_list(),
            // The admin pages speak Vietnamese by default.
            "cột XFD",
        ),
        (
            "/admin/instruments",
            "/admin/instruments/import",
            huge_string_table(),
            "99999999999999",
        ),
        (
            page.as_str(),
            respondents.as_str(),
            huge_string_table(),
            "99999999999999",
        ),
    ];
    for (form, action, bytes, expected) in uploads {
        let response = app.upload(form, action, "hostile.xlsx", bytes).await;
        assert_eq!(response.status(), 422, "{action}");
        let html = response.text().await.unwrap();
        assert!(html.contains(expected), "{action}: {html}");
        assert_eq!(app.get("/healthz").await.status(), 200, "after {action}");
    }
}
