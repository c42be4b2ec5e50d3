//! Property tests of the parsers that read untrusted input — questionnaire and methodology TOML,
//! XLSForm workbooks, conditions, posted answer forms, respondent and unit lists: none may panic
//! on junk or near-valid input, and every error must say where the problem is.

use std::collections::BTreeSet;
use std::sync::LazyLock;

use chrono::NaiveDate;
use khaosat::domain::answers::{AnswerValue, Answers, decode_section, keys, normalize_decimal};
use khaosat::domain::expr::{Expr, MAX_EXPR_CHARS};
use khaosat::domain::instrument::{
    Instrument, InstrumentError, Location, MAX_REPORTED_ERRORS, QuestionKind, RespondentGroup,
    Section,
};
use khaosat::domain::methodology::{ErrorKind, Methodology, MethodologyError};
use khaosat::domain::respondent_list::{
    RespondentRow, StandardGroups, parse_respondent_csv, parse_respondent_xlsx,
};
use khaosat::domain::tabular::RowError;
use khaosat::domain::unit_list::parse_unit_csv;
use khaosat::domain::xlsform::{XlsFormOptions, import_xlsform};
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::{Index, select};
use rust_xlsxwriter::Workbook;

// ---------------------------------------------------------------------------------------------
// Shared helpers
// ---------------------------------------------------------------------------------------------

const INSTRUMENTS: [(&str, &[u8]); 3] = [
    (
        "par-civil-servant-2022.toml",
        include_bytes!("../../assets/instruments/par-civil-servant-2022.toml"),
    ),
    (
        "par-leader-2022.toml",
        include_bytes!("../../assets/instruments/par-leader-2022.toml"),
    ),
    (
        "sipas-2023.toml",
        include_bytes!("../../assets/instruments/sipas-2023.toml"),
    ),
];

const METHODOLOGIES: [(&str, &[u8]); 2] = [
    (
        "par-2022.toml",
        include_bytes!("../../assets/methodologies/par-2022.toml"),
    ),
    (
        "sipas-2023.toml",
        include_bytes!("../../assets/methodologies/sipas-2023.toml"),
    ),
];

/// Proptest settings: few cases (the whole file must run in seconds in a debug build) unless
/// `PROPTEST_CASES` asks for a longer hunt, and no regression files written next to the sources.
fn config(cases: u32) -> ProptestConfig {
    let default = ProptestConfig::default();
    let cases = if std::env::var_os("PROPTEST_CASES").is_some() {
        default.cases
    } else {
        cases
    };
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..default
    }
}

/// Short arbitrary text: mostly printable characters (Vietnamese and astral ones included),
/// sometimes any characters at all (controls, format characters, noncharacters).
fn junk_text(max: usize) -> BoxedStrategy<String> {
    prop_oneof![
        3 => proptest::string::string_regex(&format!("\\PC{{0,{max}}}")).unwrap(),
        1 => vec(any::<char>(), 0..=max).prop_map(String::from_iter),
    ]
    .boxed()
}

/// The 1-based line `line` of `text` (split on `\n`, as the parsers count lines).
fn nth_line(text: &str, line: usize) -> Option<&str> {
    line.checked_sub(1).and_then(|i| text.split('\n').nth(i))
}

/// `A` → 0, `Z` → 25, `AA` → 26.
fn column_number(letters: &str) -> usize {
    letters
        .bytes()
        .fold(0, |n, b| n * 26 + usize::from(b - b'A') + 1)
        - 1
}

// ---------------------------------------------------------------------------------------------
// Mutating a valid file
// ---------------------------------------------------------------------------------------------

/// One edit of a file: line edits keep most of it valid, byte edits break the encoding.
#[derive(Debug, Clone)]
enum Mutation {
    DeleteLine(Index),
    DuplicateLine(Index),
    SwapLines(Index, Index),
    ReplaceLine(Index, String),
    InsertLine(Index, String),
    /// Replaces the value after one of the file's `=` (also inside inline tables).
    ReplaceValue(Index, String),
    /// Inserts text inside a line, at a character boundary.
    InsertText(Index, Index, String),
    FlipByte(Index, u8),
    InsertBytes(Index, Vec<u8>),
    Truncate(Index),
    /// Windows line endings, as a Windows editor saves the file.
    Crlf,
    /// A UTF-8 byte-order mark, as Windows editors like to add.
    Bom,
}

fn mutate(original: &[u8], mutations: &[Mutation]) -> Vec<u8> {
    let mut bytes = original.to_vec();
    for m in mutations {
        // Never empty: splitting an empty slice yields one empty line.
        let mut lines: Vec<Vec<u8>> = bytes.split(|b| *b == b'\n').map(<[u8]>::to_vec).collect();
        let n = lines.len();
        match m {
            Mutation::DeleteLine(i) => {
                lines.remove(i.index(n));
            }
            Mutation::DuplicateLine(i) => {
                let at = i.index(n);
                let line = lines[at].clone();
                lines.insert(at, line);
            }
            Mutation::SwapLines(a, b) => lines.swap(a.index(n), b.index(n)),
            Mutation::ReplaceLine(i, s) => lines[i.index(n)] = s.clone().into_bytes(),
            Mutation::InsertLine(i, s) => lines.insert(i.index(n + 1), s.clone().into_bytes()),
            Mutation::ReplaceValue(i, s) => {
                let equals: Vec<usize> = (0..bytes.len()).filter(|k| bytes[*k] == b'=').collect();
                if let Some(&eq) = equals.get(i.index(equals.len().max(1))) {
                    let range = value_after(&bytes, eq);
                    bytes.splice(range, format!(" {s}").into_bytes());
                }
                continue;
            }
            Mutation::InsertText(i, j, s) => {
                let line = &mut lines[i.index(n)];
                let mut at = j.index(line.len() + 1);
                if let Ok(text) = std::str::from_utf8(line) {
                    while !text.is_char_boundary(at) {
                        at -= 1;
                    }
                }
                line.splice(at..at, s.bytes());
            }
            Mutation::FlipByte(i, mask) => {
                if !bytes.is_empty() {
                    let at = i.index(bytes.len());
                    bytes[at] ^= *mask;
                }
                continue;
            }
            Mutation::InsertBytes(i, extra) => {
                let at = i.index(bytes.len() + 1);
                bytes.splice(at..at, extra.iter().copied());
                continue;
            }
            Mutation::Truncate(i) => {
                bytes.truncate(i.index(bytes.len() + 1));
                continue;
            }
            Mutation::Crlf => {
                // Every line that a `\n` ends.
                for line in lines.iter_mut().take(n - 1) {
                    if line.last() != Some(&b'\r') {
                        line.push(b'\r');
                    }
                }
            }
            Mutation::Bom => {
                bytes.splice(0..0, *b"\xEF\xBB\xBF");
                continue;
            }
        }
        bytes = lines.join(&b'\n');
    }
    bytes
}

/// The bytes of the TOML value that follows the `=` at `eq`: a string, a bracketed array or
/// inline table, or a bare value up to the next `,`, `}`, `]` or line end.
fn value_after(bytes: &[u8], eq: usize) -> std::ops::Range<usize> {
    let start = eq + 1;
    let rest = bytes.get(start..).unwrap_or_default();
    let skip = rest.iter().take_while(|b| **b == b' ').count();
    let value = rest.get(skip..).unwrap_or_default();
    let len = match value.first() {
        Some(b'"') => value
            .iter()
            .skip(1)
            .position(|b| *b == b'"')
            .map_or(value.len(), |p| p + 2),
        Some(b'{' | b'[') => {
            let mut depth = 0usize;
            value
                .iter()
                .position(|b| {
                    match b {
                        b'{' | b'[' => depth += 1,
                        b'}' | b']' => depth = depth.saturating_sub(1),
                        _ => {}
                    }
                    depth == 0
                })
                .map_or(value.len(), |p| p + 1)
        }
        _ => value
            .iter()
            .position(|b| matches!(b, b',' | b'}' | b']' | b'\n'))
            .unwrap_or(value.len()),
    };
    start..start + skip + len
}

fn mutation(line: BoxedStrategy<String>, value: BoxedStrategy<String>) -> BoxedStrategy<Mutation> {
    prop_oneof![
        4 => any::<Index>().prop_map(Mutation::DeleteLine),
        2 => any::<Index>().prop_map(Mutation::DuplicateLine),
        2 => (any::<Index>(), any::<Index>()).prop_map(|(a, b)| Mutation::SwapLines(a, b)),
        2 => (any::<Index>(), line.clone()).prop_map(|(i, s)| Mutation::ReplaceLine(i, s)),
        2 => (any::<Index>(), line).prop_map(|(i, s)| Mutation::InsertLine(i, s)),
        12 => (any::<Index>(), value.clone()).prop_map(|(i, s)| Mutation::ReplaceValue(i, s)),
        1 => (any::<Index>(), any::<Index>(), value)
            .prop_map(|(i, j, s)| Mutation::InsertText(i, j, s)),
        1 => (any::<Index>(), 1u8..=255).prop_map(|(i, m)| Mutation::FlipByte(i, m)),
        1 => (any::<Index>(), vec(any::<u8>(), 1..8))
            .prop_map(|(i, b)| Mutation::InsertBytes(i, b)),
        1 => Just(Mutation::Crlf),
        1 => Just(Mutation::Bom),
        1 => any::<Index>().prop_map(Mutation::Truncate),
    ]
    .boxed()
}

/// Keys of both TOML formats (instrument and methodology).
const TOML_KEYS: [&str; 52] = [
    "format",
    "code",
    "version",
    "group",
    "provenance",
    "title",
    "instructions",
    "continues",
    "options",
    "value",
    "label",
    "valid",
    "type",
    "choices",
    "required",
    "relevant",
    "constraint",
    "constraint_message",
    "hint",
    "intro",
    "items",
    "min",
    "max",
    "max_length",
    "scored",
    "name",
    "total_points",
    "status",
    "note",
    "sources",
    "decimals",
    "ties",
    "compare",
    "bands",
    "below",
    "component",
    "criterion",
    "max_points",
    "survey_points",
    "instrument",
    "counts_toward_index",
    "item",
    "points",
    "table",
    "values",
    "invalid",
    "disclosure_min_n",
    "aggregation",
    "national",
    "headline",
    "linked_index",
    "overall_item",
];

/// A TOML value that is often of the right shape for some key, sometimes not TOML at all.
fn toml_value() -> BoxedStrategy<String> {
    prop_oneof![
        6 => select(vec![
            "\"\"",
            "\"x\"",
            "\"q1\"",
            "\"s1\"",
            "\"agree4\"",
            "\"single\"",
            "\"multiple\"",
            "\"battery\"",
            "\"yes_no\"",
            "\"integer\"",
            "\"decimal\"",
            "\"text\"",
            "\"date\"",
            "\"leader\"",
            "\"citizen\"",
            "\"khaosat-instrument/1\"",
            "\"khaosat-methodology/1\"",
            "\"reconstructed\"",
            "\"competition\"",
            "\"full_precision\"",
            "\"mean\"",
            "\"q1 == 1\"",
            "\". >= 1 and . <= 10\"",
            "\"not (\"",
            "\"answered(q1)\"",
            "0",
            "1",
            "-1",
            "2",
            "100",
            "4294967296",
            "9223372036854775807",
            "99999999999999999999",
            "0.5",
            "-0.0",
            "0.1234567",
            "1e400",
            "nan",
            "inf",
            "-inf",
            "true",
            "false",
            "[]",
            "{}",
            "[1, 2]",
            "[\"1\", \"1\"]",
            "{ vi = \"a\", en = \"b\" }",
            "{ vi = \"\", en = \"\" }",
            "{ vi = \"a\" }",
            "{ instrument = \"x\", version = 1 }",
            "[{ code = \"x\", label = { vi = \"a\", en = \"b\" } }]",
            "[{ value = \"1\", label = { vi = \"a\", en = \"b\" }, valid = false }]",
            "{ values = { \"1\" = 1.0, \"2\" = 2.0 }, invalid = [\"dk\"] }",
            "[{ code = \"A\", min = 90 }, { code = \"B\", min = 95, below = 90 }]",
            "1979-05-27",
            "'''multi'''",
            "\"\\u0000\"",
            "\"\\uD800\"",
            "\"unterminated",
            "[1,",
            "{ a = 1,",
        ])
        .prop_map(str::to_owned),
        1 => proptest::string::string_regex("[a-z_ .=()'0-9]{0,12}")
            .unwrap()
            .prop_map(|s| format!("\"{s}\"")),
        1 => any::<i64>().prop_map(|n| n.to_string()),
        1 => any::<f64>().prop_map(|x| format!("{x:?}")),
        1 => junk_text(8),
    ]
    .boxed()
}

fn toml_line() -> BoxedStrategy<String> {
    prop_oneof![
        4 => (select(TOML_KEYS.to_vec()), toml_value()).prop_map(|(k, v)| format!("{k} = {v}")),
        2 => select(vec![
            "[[sections]]",
            "[[sections.questions]]",
            "[choices.agree4]",
            "[choices]",
            "[continues]",
            "[provenance]",
            "[display]",
            "[ranking]",
            "[tiers]",
            "[quality]",
            "[[component]]",
            "[[criterion]]",
            "[[group]]",
            "[[group.item]]",
            "[coefficient_table.quality4]",
            "[sipas]",
            "[[sipas.part]]",
            "[[sipas.element]]",
            "[[linked_index]]",
            "[",
            "]]",
            "=",
            "\"",
            "# comment",
            "",
        ])
        .prop_map(str::to_owned),
        1 => junk_text(20),
    ]
    .boxed()
}

// ---------------------------------------------------------------------------------------------
// Instruments (TOML)
// ---------------------------------------------------------------------------------------------

/// Every instrument error names the file and a place that exists in it.
fn check_instrument_errors(
    bytes: &[u8],
    file: &str,
    errors: &[InstrumentError],
) -> Result<(), TestCaseError> {
    prop_assert!(!errors.is_empty(), "an Err without errors");
    prop_assert!(
        errors.len() <= MAX_REPORTED_ERRORS + 1,
        "{} errors",
        errors.len()
    );
    let text = std::str::from_utf8(bytes)
        .ok()
        .map(|t| t.strip_prefix('\u{feff}').unwrap_or(t));
    for e in errors {
        prop_assert_eq!(&e.file, file);
        prop_assert!(
            !e.message.to_string().trim().is_empty(),
            "empty message: {:?}",
            e
        );
        prop_assert!(e.to_string().starts_with(file));
        match &e.location {
            Location::File => prop_assert!(
                e.message.to_string().starts_with("file is too large")
                    || e.message.to_string().starts_with("... and "),
                "a TOML error without a line: {}",
                e
            ),
            Location::Byte { offset, line } => {
                prop_assert!(text.is_none(), "byte location in a UTF-8 file: {}", e);
                let before = bytes.get(..*offset);
                prop_assert!(before.is_some() && *offset < bytes.len(), "{}", e);
                let newlines = before.unwrap_or_default().iter().filter(|b| **b == b'\n');
                prop_assert_eq!(*line, newlines.count() + 1, "{}", e);
            }
            Location::Toml { line, column, .. } => {
                let Some(text) = text else {
                    return Err(TestCaseError::fail(format!(
                        "TOML location in non-UTF-8: {e}"
                    )));
                };
                let Some(l) = nth_line(text, *line) else {
                    return Err(TestCaseError::fail(format!("no line {line}: {e}")));
                };
                prop_assert!(
                    *column >= 1 && *column <= l.chars().count() + 1,
                    "column {} outside line {:?}: {}",
                    column,
                    l,
                    e
                );
            }
            Location::Cell { .. } => {
                return Err(TestCaseError::fail(format!("cell location in TOML: {e}")));
            }
        }
    }
    Ok(())
}

/// A parsed instrument exports to TOML that parses back to the same content.
fn check_instrument_round_trip(instrument: &Instrument) -> Result<(), TestCaseError> {
    let exported = instrument.to_toml();
    match Instrument::from_toml(exported.as_bytes(), "export.toml") {
        Ok(again) => prop_assert_eq!(again.content_hash(), instrument.content_hash()),
        Err(es) => {
            let shown: Vec<String> = es.iter().map(ToString::to_string).collect();
            return Err(TestCaseError::fail(format!(
                "the export of a valid instrument does not parse: {shown:?}\n{exported}"
            )));
        }
    }
    Ok(())
}

#[test]
fn bundled_instruments_and_methodologies_parse_before_mutation() {
    for (name, bytes) in INSTRUMENTS {
        let instrument = Instrument::from_toml(bytes, name).unwrap();
        check_instrument_round_trip(&instrument).unwrap();
    }
    for (name, bytes) in METHODOLOGIES {
        Methodology::parse(name, bytes).unwrap();
    }
}

proptest! {
    #![proptest_config(config(128))]

    #[test]
    fn instrument_parser_never_panics_on_arbitrary_bytes(bytes in vec(any::<u8>(), 0..512)) {
        if let Err(es) = Instrument::from_toml(&bytes, "junk.toml") {
            check_instrument_errors(&bytes, "junk.toml", &es)?;
        }
    }

    #[test]
    fn instrument_parser_never_panics_on_toml_like_junk(lines in vec(toml_line(), 0..24)) {
        let text = lines.join("\n");
        if let Err(es) = Instrument::from_toml(text.as_bytes(), "junk.toml") {
            check_instrument_errors(text.as_bytes(), "junk.toml", &es)?;
        }
    }

    #[test]
    fn instrument_parser_never_panics_on_mutated_files(
        (name, original) in select(INSTRUMENTS.to_vec()),
        mutations in vec(mutation(toml_line(), toml_value()), 1..4),
    ) {
        let bytes = mutate(original, &mutations);
        match Instrument::from_toml(&bytes, name) {
            Ok(instrument) => check_instrument_round_trip(&instrument)?,
            Err(es) => check_instrument_errors(&bytes, name, &es)?,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Methodologies (TOML)
// ---------------------------------------------------------------------------------------------

/// Every methodology error names the file and (except "too large") a line that exists in it,
/// with a column unless the file is not UTF-8.
fn check_methodology_errors(
    bytes: &[u8],
    file: &str,
    errors: &[MethodologyError],
) -> Result<(), TestCaseError> {
    prop_assert!(!errors.is_empty(), "an Err without errors");
    let text = std::str::from_utf8(bytes).ok();
    let newlines = bytes.iter().filter(|b| **b == b'\n').count();
    for e in errors {
        prop_assert_eq!(&e.file, file);
        prop_assert!(
            !e.message.to_string().trim().is_empty(),
            "empty message: {:?}",
            e
        );
        prop_assert!(e.to_string().starts_with(file));
        if e.kind == ErrorKind::TooLarge {
            continue;
        }
        let Some(line) = e.line else {
            return Err(TestCaseError::fail(format!("error without a line: {e}")));
        };
        prop_assert!(
            line >= 1 && line <= newlines + 1,
            "line out of the file: {}",
            e
        );
        if e.kind == ErrorKind::NotUtf8 {
            prop_assert!(text.is_none(), "NotUtf8 for UTF-8 input: {}", e);
            continue;
        }
        let Some(text) = text else {
            return Err(TestCaseError::fail(format!(
                "a {:?} error for non-UTF-8: {e}",
                e.kind
            )));
        };
        let Some(column) = e.column else {
            return Err(TestCaseError::fail(format!("error without a column: {e}")));
        };
        let l = nth_line(text, line).unwrap_or_default();
        prop_assert!(
            column >= 1 && column <= l.chars().count() + 1,
            "column {} outside line {:?}: {}",
            column,
            l,
            e
        );
    }
    Ok(())
}

fn check_methodology_round_trip(methodology: &Methodology) -> Result<(), TestCaseError> {
    let exported = methodology.to_toml().map_err(TestCaseError::fail)?;
    match Methodology::parse("export.toml", exported.as_bytes()) {
        Ok(again) => prop_assert_eq!(again.content_hash(), methodology.content_hash()),
        Err(es) => {
            let shown: Vec<String> = es.iter().map(ToString::to_string).collect();
            return Err(TestCaseError::fail(format!(
                "the export of a valid methodology does not parse: {shown:?}\n{exported}"
            )));
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(config(128))]

    #[test]
    fn methodology_parser_never_panics_on_arbitrary_bytes(bytes in vec(any::<u8>(), 0..512)) {
        if let Err(es) = Methodology::parse("junk.toml", &bytes) {
            check_methodology_errors(&bytes, "junk.toml", &es)?;
        }
    }

    #[test]
    fn methodology_parser_never_panics_on_toml_like_junk(lines in vec(toml_line(), 0..24)) {
        let text = lines.join("\n");
        if let Err(es) = Methodology::parse("junk.toml", text.as_bytes()) {
            check_methodology_errors(text.as_bytes(), "junk.toml", &es)?;
        }
    }

    #[test]
    fn methodology_parser_never_panics_on_mutated_files(
        (name, original) in select(METHODOLOGIES.to_vec()),
        mutations in vec(mutation(toml_line(), toml_value()), 1..4),
    ) {
        let bytes = mutate(original, &mutations);
        match Methodology::parse(name, &bytes) {
            Ok(methodology) => check_methodology_round_trip(&methodology)?,
            Err(es) => check_methodology_errors(&bytes, name, &es)?,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Workbooks (XLSForm, respondent lists)
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone)]
enum CellSpec {
    Blank,
    Text(String),
    Number(f64),
    Bool(bool),
}

#[derive(Debug, Clone)]
struct SheetSpec {
    name: String,
    rows: Vec<Vec<CellSpec>>,
}

impl SheetSpec {
    fn width(&self) -> usize {
        self.rows.iter().map(Vec::len).max().unwrap_or(0)
    }
}

fn workbook(sheets: &[SheetSpec]) -> Vec<u8> {
    let mut wb = Workbook::new();
    for sheet in sheets {
        let ws = wb.add_worksheet();
        ws.set_name(&sheet.name).unwrap();
        for (r, row) in sheet.rows.iter().enumerate() {
            let r = u32::try_from(r).unwrap();
            for (c, cell) in row.iter().enumerate() {
                let c = u16::try_from(c).unwrap();
                match cell {
                    CellSpec::Blank => {}
                    CellSpec::Text(s) => {
                        ws.write_string(r, c, s).unwrap();
                    }
                    CellSpec::Number(x) => {
                        ws.write_number(r, c, *x).unwrap();
                    }
                    CellSpec::Bool(b) => {
                        ws.write_boolean(r, c, *b).unwrap();
                    }
                }
            }
        }
    }
    wb.save_to_buffer().unwrap()
}

fn text_cells(rows: &[&[&str]]) -> Vec<Vec<CellSpec>> {
    rows.iter()
        .map(|row| {
            row.iter()
                .map(|s| {
                    if s.is_empty() {
                        CellSpec::Blank
                    } else {
                        CellSpec::Text((*s).to_owned())
                    }
                })
                .collect()
        })
        .collect()
}

/// A small valid XLSForm using most of what the importer supports.
fn good_xlsform() -> Vec<SheetSpec> {
    vec![
        SheetSpec {
            name: "survey".to_owned(),
            rows: text_cells(&[
                &[
                    "type",
                    "name",
                    "label::Vietnamese (vi)",
                    "label::English (en)",
                    "hint",
                    "required",
                    "relevant",
                    "constraint",
                    "constraint_message",
                ],
                &["start", "start", "", "", "", "", "", "", ""],
                &[
                    "begin group",
                    "g1",
                    "Phần một",
                    "Part one",
                    "",
                    "",
                    "",
                    "",
                    "",
                ],
                &[
                    "note",
                    "intro",
                    "Giới thiệu",
                    "Introduction",
                    "",
                    "",
                    "",
                    "",
                    "",
                ],
                &[
                    "select_one agree",
                    "q1",
                    "Câu một",
                    "One",
                    "Gợi ý",
                    "yes",
                    "",
                    "",
                    "",
                ],
                &[
                    "select_multiple agree",
                    "q2",
                    "Câu hai",
                    "Two",
                    "",
                    "",
                    "",
                    "",
                    "",
                ],
                &[
                    "integer",
                    "age",
                    "Tuổi",
                    "Age",
                    "",
                    "TRUE",
                    "${q1} = 1",
                    ". >= 18 and . <= 99",
                    "",
                ],
                &["end group", "", "", "", "", "", "", "", ""],
                &[
                    "begin_group",
                    "g2",
                    "Phần hai",
                    "Part two",
                    "",
                    "",
                    "${q1} != ''",
                    "",
                    "",
                ],
                &[
                    "decimal",
                    "score",
                    "Điểm",
                    "Score",
                    "",
                    "",
                    "selected(${q2}, '2')",
                    ". != 5",
                    "Not five",
                ],
                &[
                    "date",
                    "day",
                    "Ngày",
                    "Day",
                    "",
                    "",
                    "not(${age} > 30)",
                    "",
                    "",
                ],
                &[
                    "text",
                    "why",
                    "Vì sao",
                    "Why",
                    "",
                    "no",
                    "${q1} = 'dk' or ${age} < 20",
                    "",
                    "",
                ],
                &["end_group", "", "", "", "", "", "", "", ""],
            ]),
        },
        SheetSpec {
            name: "choices".to_owned(),
            rows: text_cells(&[
                &[
                    "list_name",
                    "name",
                    "label::Vietnamese (vi)",
                    "label::English (en)",
                    "valid",
                ],
                &["agree", "1", "Đồng ý", "Agree", ""],
                &["agree", "2", "Không đồng ý", "Disagree", ""],
                &["agree", "dk", "Không biết", "Don't know", "no"],
            ]),
        },
        SheetSpec {
            name: "settings".to_owned(),
            rows: text_cells(&[
                &["form_id", "version", "form_title", "group"],
                &["par-test", "3", "Khảo sát", "citizen"],
            ]),
        },
    ]
}

/// One edit of a workbook given as sheets of cells.
#[derive(Debug, Clone)]
enum SheetEdit {
    SetCell(Index, Index, Index, CellSpec),
    DeleteRow(Index, Index),
    DuplicateRow(Index, Index),
    SwapRows(Index, Index, Index),
    DeleteSheet(Index),
}

fn sheet_edit() -> BoxedStrategy<SheetEdit> {
    let cell = prop_oneof![
        xlsform_type_cell(),
        xlsform_name_cell(),
        xpath_source().prop_map(CellSpec::Text),
        xlsform_header_name().prop_map(CellSpec::Text),
        text_cell(vec![
            "yes", "no", "agree", "1", "dk", "par-test", "3", "citizen", ""
        ]),
    ];
    prop_oneof![
        8 => (any::<Index>(), any::<Index>(), any::<Index>(), cell)
            .prop_map(|(s, r, c, v)| SheetEdit::SetCell(s, r, c, v)),
        2 => (any::<Index>(), any::<Index>()).prop_map(|(s, r)| SheetEdit::DeleteRow(s, r)),
        2 => (any::<Index>(), any::<Index>()).prop_map(|(s, r)| SheetEdit::DuplicateRow(s, r)),
        1 => (any::<Index>(), any::<Index>(), any::<Index>())
            .prop_map(|(s, a, b)| SheetEdit::SwapRows(s, a, b)),
        1 => any::<Index>().prop_map(SheetEdit::DeleteSheet),
    ]
    .boxed()
}

fn edit_sheets(mut sheets: Vec<SheetSpec>, edits: &[SheetEdit]) -> Vec<SheetSpec> {
    for edit in edits {
        if sheets.is_empty() {
            break;
        }
        let n = sheets.len();
        match edit {
            SheetEdit::DeleteSheet(s) => {
                sheets.remove(s.index(n));
            }
            SheetEdit::SetCell(s, r, c, value) => {
                let sheet = &mut sheets[s.index(n)];
                let width = sheet.width();
                let at = r.index(sheet.rows.len().max(1));
                if let Some(row) = sheet.rows.get_mut(at) {
                    let c = c.index(width + 1);
                    if row.len() <= c {
                        row.resize(c + 1, CellSpec::Blank);
                    }
                    row[c] = value.clone();
                }
            }
            SheetEdit::DeleteRow(s, r) => {
                let rows = &mut sheets[s.index(n)].rows;
                if !rows.is_empty() {
                    rows.remove(r.index(rows.len()));
                }
            }
            SheetEdit::DuplicateRow(s, r) => {
                let rows = &mut sheets[s.index(n)].rows;
                if !rows.is_empty() {
                    let at = r.index(rows.len());
                    let row = rows[at].clone();
                    rows.insert(at, row);
                }
            }
            SheetEdit::SwapRows(s, a, b) => {
                let rows = &mut sheets[s.index(n)].rows;
                if !rows.is_empty() {
                    let len = rows.len();
                    rows.swap(a.index(len), b.index(len));
                }
            }
        }
    }
    sheets
}

static GOOD_XLSFORM: LazyLock<Vec<u8>> = LazyLock::new(|| workbook(&good_xlsform()));

/// Edits of a header row: the standard columns with some deleted, replaced or added.
#[derive(Debug, Clone)]
enum HeaderEdit {
    Delete(Index),
    Replace(Index, String),
    Push(String),
}

fn header_edit(names: BoxedStrategy<String>) -> BoxedStrategy<HeaderEdit> {
    prop_oneof![
        any::<Index>().prop_map(HeaderEdit::Delete),
        (any::<Index>(), names.clone()).prop_map(|(i, s)| HeaderEdit::Replace(i, s)),
        names.prop_map(HeaderEdit::Push),
    ]
    .boxed()
}

fn edit_header(mut header: Vec<String>, edits: &[HeaderEdit]) -> Vec<String> {
    for edit in edits {
        match edit {
            HeaderEdit::Delete(i) if !header.is_empty() => {
                // Blank the cell rather than shift the columns: the data stays where it was.
                let at = i.index(header.len());
                header[at] = String::new();
            }
            HeaderEdit::Replace(i, s) if !header.is_empty() => {
                let at = i.index(header.len());
                header[at] = s.clone();
            }
            HeaderEdit::Push(s) => header.push(s.clone()),
            HeaderEdit::Delete(_) | HeaderEdit::Replace(..) => {}
        }
    }
    header
}

fn xlsform_header_name() -> BoxedStrategy<String> {
    prop_oneof![
        4 => select(vec![
            "type",
            "name",
            "label",
            "label::English (en)",
            "label::Vietnamese (vi)",
            "label::fr",
            "label::",
            "::",
            "hint",
            "hint::English (en)",
            "required",
            "relevant",
            "constraint",
            "constraint_message",
            "constraint_message::English (en)",
            "choice_filter",
            "calculation",
            "default",
            "read_only",
            "list_name",
            "list name",
            "valid",
            "form_id",
            "version",
            "form_title",
            "group",
            "Type",
            " name ",
            "",
        ])
        .prop_map(str::to_owned),
        1 => junk_text(8),
    ]
    .boxed()
}

/// A condition in the XPath subset XLSForm uses, or something close to it.
fn xpath_source() -> BoxedStrategy<String> {
    let token = prop_oneof![
        6 => select(vec![
            "${q1}", "${age}", "${g1}", "${why}", "${ q1 }", "${}", "${", "${q1", ".", "..",
            "=", "!=", "<", "<=", ">", ">=", "and", "or", "not(", "not", "selected(",
            "count-selected(", "true()", "false()", "true", "(", ")", ",", "'1'", "'2'", "'dk'",
            "\"yes\"", "''", "'", "\"", "1", "-1", "18", "1.5", "1.", ".5", "-0", "1,5",
            "9223372036854775807", "9223372036854775808", "-9223372036854775809",
            "00000000000000000000000000000000000000000001.5", "div", "mod", "+", "-", "*", "/",
            "|", "é", "𝔘", "\u{0}", "\u{200b}",
        ])
        .prop_map(str::to_owned),
        1 => junk_text(3),
    ];
    let soup = vec((token, select(vec!["", " "])), 0..10).prop_map(|ts| {
        ts.into_iter()
            .map(|(t, sep)| format!("{t}{sep}"))
            .collect::<String>()
    });
    prop_oneof![
        2 => select(vec![
            "${q1} = 1",
            "${q1} = '1' or ${q1} = 'dk'",
            ". >= 18 and . <= 99",
            ". > 9223372036854775807",
            ". < -9223372036854775808",
            ". >= 1.5 and . <= 2",
            ". != 5",
            "selected(${q1}, '2')",
            "not(${why} != '')",
            "${q1} != ''",
            "${age} > 30 and (${q1} = 1 or ${q1} = 2)",
        ])
        .prop_map(str::to_owned),
        // Nesting around the depth limit.
        1 => (28usize..36, select(vec!["(", "not("])).prop_map(|(depth, open)| {
            let (open, close) = (open.repeat(depth), ")".repeat(depth));
            format!("{open}${{q1}} = 1{close}")
        }),
        3 => soup,
    ]
    .boxed()
}

fn text_cell(pool: Vec<&'static str>) -> BoxedStrategy<CellSpec> {
    prop_oneof![
        6 => select(pool).prop_map(|s| CellSpec::Text(s.to_owned())),
        1 => junk_text(12).prop_map(CellSpec::Text),
        1 => Just(CellSpec::Blank),
        1 => any::<f64>()
            .prop_filter("finite", |x| x.is_finite())
            .prop_map(CellSpec::Number),
        1 => any::<bool>().prop_map(CellSpec::Bool),
    ]
    .boxed()
}

fn xlsform_type_cell() -> BoxedStrategy<CellSpec> {
    text_cell(vec![
        "select_one agree",
        "select_one Agree",
        "select_multiple agree",
        "select_one missing",
        "select_one",
        "select_one agree extra",
        "select_one begin_group",
        "integer",
        "decimal",
        "text",
        "date",
        "begin group",
        "begin_group",
        "BEGIN GROUP",
        "end group",
        "end_group",
        "begin repeat",
        "end repeat",
        "note",
        "start",
        "deviceid",
        "calculate",
        "geopoint",
        "İnteger",
    ])
}

fn xlsform_name_cell() -> BoxedStrategy<CellSpec> {
    text_cell(vec![
        "q1", "q2", "age", "why", "g1", "g2", "agree", "main", "1x", "a b", "and", "Q1", "q1.x",
        ".", "",
    ])
}

fn survey_sheet() -> BoxedStrategy<SheetSpec> {
    let row = vec![
        xlsform_type_cell(),
        xlsform_name_cell(),
        text_cell(vec!["Câu hỏi", "Label", "Nhãn", ""]),
        text_cell(vec!["yes", "no", "TRUE", "true()", "có", "maybe", ""]),
        xpath_source().prop_map(CellSpec::Text).boxed(),
        xpath_source().prop_map(CellSpec::Text).boxed(),
        text_cell(vec!["Sai", "Wrong", ""]),
        text_cell(vec!["Gợi ý", ""]),
    ];
    let standard: Vec<String> = [
        "type",
        "name",
        "label",
        "required",
        "relevant",
        "constraint",
        "constraint_message",
        "hint",
    ]
    .map(str::to_owned)
    .to_vec();
    (
        select(vec!["survey", "Survey", "SURVEY"]),
        vec(header_edit(xlsform_header_name()), 0..3),
        vec(row, 0..10),
    )
        .prop_map(move |(name, edits, rows)| SheetSpec {
            name: name.to_owned(),
            rows: std::iter::once(
                edit_header(standard.clone(), &edits)
                    .into_iter()
                    .map(CellSpec::Text)
                    .collect(),
            )
            .chain(rows)
            .collect(),
        })
        .boxed()
}

fn choices_sheet() -> BoxedStrategy<SheetSpec> {
    let row = vec![
        text_cell(vec!["agree", "Agree", "yn", "missing", ""]),
        text_cell(vec!["1", "2", "dk", "yes", "no", "1", ""]),
        text_cell(vec!["Đồng ý", "Không", "Không biết", ""]),
        text_cell(vec!["", "yes", "no", "false()", "x"]),
    ];
    let standard: Vec<String> = ["list_name", "name", "label", "valid"]
        .map(str::to_owned)
        .to_vec();
    (
        vec(header_edit(xlsform_header_name()), 0..2),
        vec(row, 0..8),
    )
        .prop_map(move |(edits, rows)| SheetSpec {
            name: "choices".to_owned(),
            rows: std::iter::once(
                edit_header(standard.clone(), &edits)
                    .into_iter()
                    .map(CellSpec::Text)
                    .collect(),
            )
            .chain(rows)
            .collect(),
        })
        .boxed()
}

fn settings_sheet() -> BoxedStrategy<SheetSpec> {
    let row = vec![
        text_cell(vec![
            "par-test",
            "x",
            "Bad Code",
            "a-very-long-code-that-is-far-too-long-for-a-code",
            "",
        ]),
        prop_oneof![
            text_cell(vec!["3", "1", "0", "-1", "4294967296", "1.5", "v3", ""]),
            Just(CellSpec::Number(3.0)),
        ]
        .boxed(),
        text_cell(vec!["Khảo sát", ""]),
        text_cell(vec![
            "citizen",
            "leader",
            "civil_servant",
            "Citizen",
            "x",
            "",
        ]),
    ];
    let standard: Vec<String> = ["form_id", "version", "form_title", "group"]
        .map(str::to_owned)
        .to_vec();
    (
        vec(header_edit(xlsform_header_name()), 0..2),
        vec(row, 0..3),
    )
        .prop_map(move |(edits, rows)| SheetSpec {
            name: "settings".to_owned(),
            rows: std::iter::once(
                edit_header(standard.clone(), &edits)
                    .into_iter()
                    .map(CellSpec::Text)
                    .collect(),
            )
            .chain(rows)
            .collect(),
        })
        .boxed()
}

fn xlsform_sheets() -> BoxedStrategy<Vec<SheetSpec>> {
    (
        proptest::option::weighted(0.9, survey_sheet()),
        proptest::option::weighted(0.8, choices_sheet()),
        proptest::option::weighted(0.8, settings_sheet()),
    )
        .prop_map(|(survey, choices, settings)| {
            [survey, choices, settings].into_iter().flatten().collect()
        })
        .boxed()
}

fn xlsform_options() -> BoxedStrategy<XlsFormOptions> {
    (
        proptest::option::weighted(0.2, select(vec!["par-x", "Bad Code", ""])),
        proptest::option::weighted(0.2, 0u32..4),
        proptest::option::weighted(0.2, select(RespondentGroup::ALL.to_vec())),
    )
        .prop_map(|(code, version, group)| XlsFormOptions {
            code: code.map(str::to_owned),
            version,
            group,
        })
        .boxed()
}

/// Every XLSForm error names the file and either the whole file or a cell of a sheet that was
/// written, below its header row and within its columns. With `sheets == None` (a corrupted
/// file) only the shape of a cell location is checked.
fn check_xlsform_errors(
    sheets: Option<&[SheetSpec]>,
    file: &str,
    errors: &[InstrumentError],
) -> Result<(), TestCaseError> {
    prop_assert!(!errors.is_empty(), "an Err without errors");
    prop_assert!(
        errors.len() <= MAX_REPORTED_ERRORS + 1,
        "{} errors",
        errors.len()
    );
    for e in errors {
        prop_assert_eq!(&e.file, file);
        prop_assert!(
            !e.message.to_string().trim().is_empty(),
            "empty message: {:?}",
            e
        );
        // A well-formed workbook must not make calamine panic (import_xlsform would catch it
        // and blame the file). A corrupted one may: calamine 0.38 overflows on a cell reference
        // with seven or more column letters in debug builds, which the importer turns into a
        // file-level error as designed.
        prop_assert!(
            sheets.is_none() || !e.message.to_string().contains("could not be read"),
            "calamine panicked (caught by import_xlsform): {}",
            e
        );
        match &e.location {
            Location::File => {}
            Location::Cell {
                sheet, row, column, ..
            } => {
                prop_assert!(
                    ["survey", "choices", "settings"].contains(&sheet.as_str()),
                    "{}",
                    e
                );
                prop_assert!(*row >= 2, "an error on or above the header row: {}", e);
                prop_assert!(
                    !column.is_empty() && column.bytes().all(|b| b.is_ascii_uppercase()),
                    "{}",
                    e
                );
                if let Some(sheets) = sheets {
                    let spec = sheets.iter().find(|s| s.name.to_lowercase() == *sheet);
                    let Some(spec) = spec else {
                        return Err(TestCaseError::fail(format!("no such sheet: {e}")));
                    };
                    prop_assert!(
                        *row as usize <= spec.rows.len(),
                        "row out of the sheet: {}",
                        e
                    );
                    prop_assert!(
                        column_number(column) < spec.width().max(1),
                        "column out of the sheet: {}",
                        e
                    );
                }
            }
            other => {
                return Err(TestCaseError::fail(format!(
                    "an XLSForm error located as {other:?}: {e}"
                )));
            }
        }
    }
    Ok(())
}

/// A byte-level corruption of a zip file.
fn byte_mutation() -> BoxedStrategy<Mutation> {
    prop_oneof![
        3 => (any::<Index>(), 1u8..=255).prop_map(|(i, m)| Mutation::FlipByte(i, m)),
        1 => (any::<Index>(), vec(any::<u8>(), 1..16))
            .prop_map(|(i, b)| Mutation::InsertBytes(i, b)),
        1 => any::<Index>().prop_map(Mutation::Truncate),
    ]
    .boxed()
}

proptest! {
    #![proptest_config(config(64))]

    #[test]
    fn xlsform_import_never_panics_on_arbitrary_bytes(bytes in vec(any::<u8>(), 0..512)) {
        let result = import_xlsform(&bytes, "junk.xlsx", &XlsFormOptions::default());
        // Not a workbook, so no sheet: every error must be about the file as a whole.
        let no_sheets: &[SheetSpec] = &[];
        check_xlsform_errors(Some(no_sheets), "junk.xlsx", &result.err().unwrap_or_default())?;
    }

    #[test]
    fn xlsform_import_never_panics_on_corrupted_zips(
        mutations in vec(byte_mutation(), 1..4),
    ) {
        let bytes = mutate(&GOOD_XLSFORM, &mutations);
        if let Err(es) = import_xlsform(&bytes, "form.xlsx", &XlsFormOptions::default()) {
            check_xlsform_errors(None, "form.xlsx", &es)?;
        }
    }

    #[test]
    fn xlsform_import_never_panics_on_mutated_forms(
        edits in vec(sheet_edit(), 1..5),
        options in xlsform_options(),
    ) {
        let sheets = edit_sheets(good_xlsform(), &edits);
        let bytes = workbook(&sheets);
        match import_xlsform(&bytes, "form.xlsx", &options) {
            Ok(instrument) => check_instrument_round_trip(&instrument)?,
            Err(es) => check_xlsform_errors(Some(&sheets), "form.xlsx", &es)?,
        }
    }

    #[test]
    fn xlsform_import_never_panics_on_workbooks_with_junk_cells(
        sheets in xlsform_sheets(),
        options in xlsform_options(),
    ) {
        let bytes = workbook(&sheets);
        match import_xlsform(&bytes, "form.xlsx", &options) {
            Ok(instrument) => check_instrument_round_trip(&instrument)?,
            Err(es) => check_xlsform_errors(Some(&sheets), "form.xlsx", &es)?,
        }
    }
}

#[test]
fn the_valid_xlsform_that_the_mutations_start_from_imports() {
    import_xlsform(&GOOD_XLSFORM, "form.xlsx", &XlsFormOptions::default()).unwrap();
}

// ---------------------------------------------------------------------------------------------
// Conditions
// ---------------------------------------------------------------------------------------------

fn expr_token() -> BoxedStrategy<String> {
    prop_oneof![
        6 => select(vec![
            "q1", "q2", "age", "a.b", "_x", "Q", "x1.2", "q1.", "and", "or", "not", "in",
            "answered", "true", "false", "True", "AND", ".", "..", "${q1}", "${", "}", "(", ")",
            "[", "]", ",", "==", "!=", "=", "<", "<=", "<>", ">", ">=", "!", "&", "|", "0", "-1",
            "-", "1.5", "-0.0", "007", "1.", "1..2", ".5", "9223372036854775807",
            "9223372036854775808", "-9223372036854775808", "1e5", "1x",
            "00000000000000000000000000000000000000000001.5", "'yes'", "\"no\"", "''", "\"\"",
            "'it\\'s'", "\"a\\\"b\"", "'\\x'", "'\\", "\"unterminated", "'", "é", "€", "𝔘",
            "\u{0}", "\u{200b}", "\u{3000}", " \t",
        ])
        .prop_map(str::to_owned),
        1 => proptest::string::string_regex("[a-z_][a-z0-9_.]{0,6}").unwrap(),
        1 => proptest::string::string_regex("-?[0-9]{1,25}(\\.[0-9]{0,5})?").unwrap(),
        1 => proptest::string::string_regex("'[^'\\\\]{0,6}'").unwrap(),
        1 => junk_text(3),
    ]
    .boxed()
}

fn expr_soup() -> BoxedStrategy<String> {
    vec((expr_token(), select(vec!["", " "])), 0..24)
        .prop_map(|ts| ts.into_iter().map(|(t, sep)| format!("{t}{sep}")).collect())
        .boxed()
}

/// Conditions that follow the grammar (so that they parse), with random codes and literals.
fn well_formed_condition() -> BoxedStrategy<String> {
    let code = prop_oneof![
        select(vec!["q1", "q2", "age", "a.b", "_x", "."]).prop_map(str::to_owned),
        proptest::string::string_regex("[a-z_][a-z0-9_.]{0,5}")
            .unwrap()
            .prop_filter("not a keyword", |c| {
                !["and", "or", "not", "in", "true", "false"].contains(&c.as_str())
            }),
    ];
    let literal = prop_oneof![
        any::<i64>().prop_map(|n| n.to_string()),
        proptest::string::string_regex("-?[0-9]{1,6}\\.[0-9]{1,6}").unwrap(),
        junk_text(6).prop_map(|s| {
            let escaped = s.replace('\\', "\\\\").replace('"', "\\\"");
            format!("\"{escaped}\"")
        }),
        select(vec!["true", "false", "'x'", "'a\"b'"]).prop_map(str::to_owned),
    ];
    let op = select(vec!["==", "!=", "<", "<=", ">", ">="]);
    let leaf = prop_oneof![
        3 => (code.clone(), op, literal.clone()).prop_map(|(c, o, l)| format!("{c} {o} {l}")),
        1 => (code.clone(), any::<bool>(), vec(literal, 1..4)).prop_map(|(c, neg, ls)| {
            let not = if neg { "not " } else { "" };
            format!("{c} {not}in [{}]", ls.join(", "))
        }),
        1 => code.prop_map(|c| format!("answered({c})")),
    ];
    leaf.prop_recursive(4, 16, 3, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("{a} and {b}")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("{a} or {b}")),
            inner.clone().prop_map(|a| format!("not ({a})")),
            inner.prop_map(|a| format!("({a})")),
        ]
    })
    .boxed()
}

fn answer_value() -> BoxedStrategy<AnswerValue> {
    prop_oneof![
        select(vec!["1", "2", "dk", "yes", "no", "", "1.5", "abc"])
            .prop_map(|s| AnswerValue::Choice(s.to_owned())),
        vec(
            select(vec!["1", "2", "dk", "x"]).prop_map(str::to_owned),
            0..3
        )
        .prop_map(AnswerValue::Choices),
        any::<i64>().prop_map(AnswerValue::Integer),
        select(vec!["0", "1.5", "-2.25", "12345678901234567890.5", "junk"])
            .prop_map(|s| AnswerValue::Decimal(s.to_owned())),
        junk_text(6).prop_map(AnswerValue::Text),
        (-100_000i32..100_000, 1u32..=12, 1u32..=28).prop_map(|(y, m, d)| {
            AnswerValue::Date(NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default())
        }),
    ]
    .boxed()
}

fn some_answers(codes: Vec<&'static str>) -> BoxedStrategy<Answers> {
    vec((select(codes), answer_value()), 0..6)
        .prop_map(|pairs| {
            let mut answers = Answers::new();
            for (code, value) in pairs {
                answers.insert(code.to_owned(), value);
            }
            answers
        })
        .boxed()
}

/// A condition either parses, prints back to the same tree and evaluates without panicking,
/// or fails with a column inside the text (or just past its end).
fn check_condition(src: &str, answers: &Answers) -> Result<Option<Expr>, TestCaseError> {
    match Expr::parse(src) {
        Ok(e) => {
            let printed = e.to_string();
            let again = Expr::parse(&printed);
            prop_assert_eq!(again.as_ref(), Ok(&e), "printed as {:?}", printed);
            prop_assert!(!e.references().is_empty());
            let _ = e.eval(answers);
            Ok(Some(e))
        }
        Err(err) => {
            let chars = src.chars().count();
            prop_assert!(
                err.column >= 1 && err.column <= chars + 1,
                "column {} outside 1..={} for {:?}: {}",
                err.column,
                chars + 1,
                src,
                err
            );
            prop_assert!(!err.message.to_string().trim().is_empty());
            let suffix = format!("at column {}", err.column);
            prop_assert!(err.to_string().ends_with(&suffix), "{}", err);
            Ok(None)
        }
    }
}

const CONDITION_CODES: [&str; 6] = ["q1", "q2", "age", "a.b", "_x", "."];

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn condition_parser_never_panics_on_arbitrary_text(
        src in junk_text(40),
        answers in some_answers(CONDITION_CODES.to_vec()),
    ) {
        check_condition(&src, &answers)?;
    }

    #[test]
    fn condition_parser_never_panics_on_token_soup(
        src in expr_soup(),
        answers in some_answers(CONDITION_CODES.to_vec()),
    ) {
        check_condition(&src, &answers)?;
    }

    #[test]
    fn well_formed_conditions_parse_and_print_back_to_the_same_tree(
        src in well_formed_condition(),
        answers in some_answers(CONDITION_CODES.to_vec()),
    ) {
        let parsed = check_condition(&src, &answers)?;
        prop_assert!(parsed.is_some(), "{:?} does not parse: {:?}", src, Expr::parse(&src));
    }
}

#[test]
fn overlong_conditions_report_the_column_after_the_limit() {
    let src = "a == 1 or ".repeat(MAX_EXPR_CHARS / 10 + 1);
    let err = Expr::parse(&src).unwrap_err();
    assert_eq!(err.column, MAX_EXPR_CHARS + 1, "{err}");
}

// ---------------------------------------------------------------------------------------------
// Posted answer forms
// ---------------------------------------------------------------------------------------------

const FORM: &str = r#"
format = "khaosat-instrument/1"
code = "props"
version = 1
group = "citizen"
provenance = "property tests"
title = { vi = "Thử", en = "Test" }

[choices.agree]
options = [
  { value = "1", label = { vi = "Một", en = "One" } },
  { value = "2", label = { vi = "Hai", en = "Two" } },
  { value = "dk", label = { vi = "Không biết", en = "Don't know" }, valid = false },
]

[[sections]]
code = "s1"
title = { vi = "Một", en = "One" }

[[sections.questions]]
code = "used"
type = "yes_no"
label = { vi = "Đã dùng?", en = "Used?" }
required = true

[[sections.questions]]
code = "rating"
type = "single"
choices = "agree"
label = { vi = "Đánh giá", en = "Rating" }
required = true
relevant = "used == 'yes'"

[[sections.questions]]
code = "channels"
type = "multiple"
choices = "agree"
label = { vi = "Kênh", en = "Channels" }

[[sections.questions]]
code = "grid"
type = "battery"
choices = "agree"
label = { vi = "Lưới", en = "Grid" }
required = true
items = [
  { code = "grid_1", label = { vi = "Mục 1", en = "Item 1" } },
  { code = "grid_2", label = { vi = "Mục 2", en = "Item 2" } },
]

[[sections.questions]]
code = "age"
type = "integer"
min = 18
max = 99
label = { vi = "Tuổi", en = "Age" }
constraint = ". != 50"

[[sections.questions]]
code = "count"
type = "integer"
label = { vi = "Số", en = "Count" }

[[sections.questions]]
code = "weight"
type = "decimal"
min = 0.5
max = 1000.5
label = { vi = "Cân nặng", en = "Weight" }
constraint = ". != 13"
constraint_message = { vi = "Không phải 13", en = "Not 13" }

[[sections.questions]]
code = "note"
type = "text"
max_length = 5
label = { vi = "Ghi chú", en = "Note" }
relevant = "not answered(age) or age > 20"

[[sections.questions]]
code = "story"
type = "long_text"
label = { vi = "Chuyện", en = "Story" }

[[sections.questions]]
code = "day"
type = "date"
label = { vi = "Ngày", en = "Day" }
relevant = "rating in [1, 2] or channels == 'dk'"

[[sections]]
code = "s2"
title = { vi = "Hai", en = "Two" }
relevant = "used == 'no'"

[[sections.questions]]
code = "why"
type = "long_text"
label = { vi = "Vì sao", en = "Why" }
required = true
"#;

/// The test instrument and the bundled ones: every section of these is decoded.
static FORMS: LazyLock<Vec<Instrument>> = LazyLock::new(|| {
    let mut out = vec![Instrument::from_toml(FORM.as_bytes(), "form.toml").unwrap()];
    out.extend(
        INSTRUMENTS
            .iter()
            .map(|(name, bytes)| Instrument::from_toml(bytes, name).unwrap()),
    );
    out
});

fn section(which: Index) -> &'static Section {
    let sections: Vec<&Section> = FORMS.iter().flat_map(|i| i.sections()).collect();
    sections[which.index(sections.len())]
}

fn page_codes(section: &Section) -> BTreeSet<&str> {
    section
        .questions
        .iter()
        .flat_map(|q| q.answer_codes())
        .collect()
}

fn field_value() -> BoxedStrategy<String> {
    prop_oneof![
        6 => select(vec![
            "", " ", "yes", "no", "YES", "1", "2", "dk", "3", " 1 ", "18", "99", "100", "17",
            "50", "-0", "0.5", "0,5", "13", "13.0", "1e3", "1000.5", "1000.50000001",
            "9223372036854775807", "9223372036854775808", "-9223372036854775809",
            "2023-05-01", "2023-02-30", "0000-01-01", "+002023-01-01", "262143-12-31",
            "abc", "ab\r\ncd", "a\r\nb\r\nc", "\u{0}", "ＡＢ", "é\u{301}",
        ])
        .prop_map(str::to_owned),
        2 => junk_text(12),
        1 => proptest::string::string_regex("-?[0-9]{1,45}([.,][0-9]{0,45})?").unwrap(),
        1 => (0usize..3000, any::<char>()).prop_map(|(n, c)| c.to_string().repeat(n)),
    ]
    .boxed()
}

/// Posted fields for a page: mostly its own field names with its own option codes or values of
/// roughly the right shape, sometimes anything.
fn posted_fields(section: &Section) -> BoxedStrategy<Vec<(String, String)>> {
    let codes: Vec<String> = page_codes(section).into_iter().map(str::to_owned).collect();
    let options: Vec<String> = section
        .questions
        .iter()
        .flat_map(|q| q.options().unwrap_or_default())
        .map(|o| o.value)
        .chain(["yes", "no", "20", "0.75", "2024-02-29", "ok"].map(str::to_owned))
        .collect();
    let name = prop_oneof![
        12 => select(codes),
        1 => select(vec!["csrf", "nav", "", "Used", "used "]).prop_map(str::to_owned),
        1 => junk_text(8),
    ];
    let value = prop_oneof![
        2 => select(options),
        1 => field_value(),
    ];
    vec((name, value), 0..12).boxed()
}

/// Decoding keeps only valid answers of the page's own questions, reports problems only on the
/// page's own fields, never both for one field, and the answers survive storage.
fn check_decoded(
    section: &Section,
    fields: &[(String, String)],
    earlier: &Answers,
) -> Result<(), TestCaseError> {
    let decoded = decode_section(section, fields, earlier);
    let codes = page_codes(section);
    let known_keys = [
        keys::REQUIRED,
        keys::UNKNOWN_OPTION,
        keys::MULTIPLE_VALUES,
        keys::NOT_AN_INTEGER,
        keys::NOT_A_NUMBER,
        keys::OUT_OF_RANGE,
        keys::TOO_SMALL,
        keys::TOO_LARGE,
        keys::TOO_LONG,
        keys::INVALID_DATE,
        keys::CONSTRAINT,
    ];
    let mut failed = BTreeSet::new();
    for e in &decoded.errors {
        prop_assert!(
            codes.contains(e.code.as_str()),
            "error on a foreign field: {:?}",
            e
        );
        prop_assert!(known_keys.contains(&e.message_key), "{:?}", e);
        failed.insert(e.code.as_str());
    }
    for question in &section.questions {
        for code in question.answer_codes() {
            let Some(value) = decoded.answers.get(code) else {
                continue;
            };
            prop_assert!(
                !failed.contains(code),
                "{} both answered and in error",
                code
            );
            let options = question.options().unwrap_or_default();
            let is_option = |v: &str| options.iter().any(|o| o.value == v);
            match (&question.kind, value) {
                (
                    QuestionKind::Single { .. }
                    | QuestionKind::YesNo { .. }
                    | QuestionKind::Battery { .. },
                    AnswerValue::Choice(v),
                ) => prop_assert!(is_option(v), "{} = {:?}", code, v),
                (QuestionKind::Multiple { .. }, AnswerValue::Choices(vs)) => {
                    prop_assert!(!vs.is_empty());
                    let positions: Vec<Option<usize>> = vs
                        .iter()
                        .map(|v| options.iter().position(|o| o.value == *v))
                        .collect();
                    prop_assert!(positions.iter().all(Option::is_some), "{:?}", vs);
                    prop_assert!(positions.windows(2).all(|w| w[0] < w[1]), "{:?}", vs);
                }
                (QuestionKind::Integer { min, max }, AnswerValue::Integer(n)) => {
                    prop_assert!(min.is_none_or(|m| *n >= m) && max.is_none_or(|m| *n <= m));
                }
                (QuestionKind::Decimal { min, max }, AnswerValue::Decimal(d)) => {
                    let canonical = normalize_decimal(d);
                    prop_assert_eq!(canonical.as_deref(), Some(d.as_str()));
                    let x: f64 = d.parse().unwrap_or(f64::NAN);
                    prop_assert!(x.is_finite(), "{}", d);
                    prop_assert!(min.is_none_or(|m| x >= m) && max.is_none_or(|m| x <= m));
                }
                (
                    QuestionKind::Text { max_length } | QuestionKind::LongText { max_length },
                    AnswerValue::Text(t),
                ) => {
                    prop_assert!(t.chars().count() <= *max_length as usize);
                    prop_assert!(!t.contains("\r\n"));
                }
                (QuestionKind::Date, AnswerValue::Date(_)) => {}
                (kind, value) => {
                    return Err(TestCaseError::fail(format!(
                        "{code}: a {} question got {value:?}",
                        kind.type_name()
                    )));
                }
            }
        }
    }
    for (code, _) in decoded.answers.iter() {
        prop_assert!(
            codes.contains(code.as_str()),
            "answer for a foreign code {}",
            code
        );
    }
    let stored = Answers::from_json(&decoded.answers.to_json());
    prop_assert_eq!(stored.ok(), Some(decoded.answers));
    Ok(())
}

fn all_answer_codes() -> Vec<&'static str> {
    FORMS.iter().flat_map(Instrument::answer_codes).collect()
}

proptest! {
    #![proptest_config(config(128))]

    #[test]
    fn form_decoder_never_panics_on_random_fields(
        (which, fields) in any::<Index>()
            .prop_flat_map(|which| (Just(which), posted_fields(section(which)))),
        earlier in some_answers(all_answer_codes()),
    ) {
        check_decoded(section(which), &fields, &earlier)?;
    }

    #[test]
    fn form_decoder_never_panics_on_urlencoded_junk(
        which in any::<Index>(),
        body in vec(any::<u8>(), 0..256),
    ) {
        // What the web layer does with a posted body, invalid UTF-8 and all.
        if let Ok(fields) = serde_urlencoded::from_bytes::<Vec<(String, String)>>(&body) {
            check_decoded(section(which), &fields, &Answers::new())?;
        }
    }
}

// ---------------------------------------------------------------------------------------------
// CSV imports (respondent lists, unit lists)
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy)]
enum Quoting {
    Plain,
    Quoted,
    Unclosed,
}

#[derive(Debug, Clone, Copy)]
enum Encoding {
    Utf8,
    Utf16Le,
    Latin1,
}

#[derive(Debug, Clone)]
struct CsvSpec {
    bom: bool,
    delimiter: char,
    line_end: &'static str,
    final_line_end: bool,
    encoding: Encoding,
    rows: Vec<Vec<(String, Quoting)>>,
}

fn render_csv(spec: &CsvSpec) -> Vec<u8> {
    let mut text = String::new();
    if spec.bom {
        text.push('\u{feff}');
    }
    for (i, row) in spec.rows.iter().enumerate() {
        if i > 0 {
            text.push_str(spec.line_end);
        }
        for (j, (cell, quoting)) in row.iter().enumerate() {
            if j > 0 {
                text.push(spec.delimiter);
            }
            match quoting {
                Quoting::Plain => text.push_str(cell),
                Quoting::Quoted => {
                    text.push('"');
                    text.push_str(&cell.replace('"', "\"\""));
                    text.push('"');
                }
                Quoting::Unclosed => {
                    text.push('"');
                    text.push_str(cell);
                }
            }
        }
    }
    if spec.final_line_end && !spec.rows.is_empty() {
        text.push_str(spec.line_end);
    }
    match spec.encoding {
        Encoding::Utf8 => text.into_bytes(),
        Encoding::Utf16Le => text.encode_utf16().flat_map(u16::to_le_bytes).collect(),
        Encoding::Latin1 => text
            .chars()
            .map(|c| u8::try_from(u32::from(c)).unwrap_or(b'?'))
            .collect(),
    }
}

fn csv_header_name() -> BoxedStrategy<String> {
    prop_oneof![
        4 => select(vec![
            "name", "Họ tên", "ho_ten", "Họ và tên", "email", "E-mail", "Thư điện tử", "phone",
            "Số điện thoại", "unit", "Đơn vị", "group", "Nhóm", "position", "Chức vụ", "level",
            "Cấp", "stt", "STT", "code", "name_vi", "name_en", "kind", "region_code",
            "region_vi", "region_en", "emial", "Name ", "NAME", "=name", "",
        ])
        .prop_map(str::to_owned),
        1 => junk_text(10),
    ]
    .boxed()
}

/// Any cell: plausible values of every column, formulas, control characters, long text.
fn junk_cell() -> BoxedStrategy<String> {
    prop_oneof![
        4 => select(vec![
            "", " ", "Nguyễn Văn A", "a@b.vn", "x@@y", "0912345678", "+84 912 345 678", "01",
            "hn", "leader", "=1+1", "@SUM(A1)", "+", "-", "-2+3+cmd|' /C calc'!A0", "\tx",
            "\rx", "a\nb", "a\"b", "\"", "a,b", "a;b", "#N/A", "\u{feff}", "a\u{0}b", "a\u{7}b",
            "\u{85}", "\u{2028}",
        ])
        .prop_map(str::to_owned),
        2 => junk_text(16),
        1 => (0usize..400, any::<char>()).prop_map(|(n, c)| c.to_string().repeat(n)),
    ]
    .boxed()
}

/// A value for a known column: mostly a valid one, sometimes a wrong one, rarely any junk.
fn column_cell(column: &str) -> BoxedStrategy<String> {
    let regex = |r: &str| proptest::string::string_regex(r).unwrap().boxed();
    let (valid, wrong): (BoxedStrategy<String>, Vec<&'static str>) = match column {
        "name" | "name_vi" | "name_en" => (
            select(vec![
                "Nguyễn Văn A",
                "Trần Thị B",
                "Hà Nội",
                "Ha Noi",
                "Thừa Thiên Huế",
            ])
            .prop_map(str::to_owned)
            .boxed(),
            vec!["", "=HYPERLINK(\"x\")", "a\nb"],
        ),
        "email" => (
            prop_oneof![Just(String::new()), regex("[a-z]{1,8}@[a-z]{1,6}\\.vn")].boxed(),
            vec!["A@B.VN", "x@@y", "a b@c.vn", "@", "a@b", "a@b.vn "],
        ),
        "phone" => (
            prop_oneof![
                Just(String::new()),
                regex("0[0-9]{9}"),
                Just("+84 912 345 678".to_owned()),
                Just("(024) 3825 1234".to_owned()),
            ]
            .boxed(),
            vec![
                "912345678",
                "12",
                "abc",
                "+",
                "-",
                "091-234-5678",
                "1234567890123456",
            ],
        ),
        "unit" => (
            select(vec!["01", "79", "hn", "HN", " 01 "])
                .prop_map(str::to_owned)
                .boxed(),
            vec!["", "1", "zz"],
        ),
        "group" => (
            select(vec![
                "leader",
                "Lãnh đạo",
                "lanh dao",
                "civil servant",
                "civil_servant",
                "Công chức",
                "Người dân",
                "citizen",
            ])
            .prop_map(str::to_owned)
            .boxed(),
            vec!["", "boss"],
        ),
        "code" => (regex("[A-Za-z0-9._-]{1,6}"), vec!["", "a b", "é", "-1"]),
        "kind" => (
            select(vec!["province", "city"])
                .prop_map(str::to_owned)
                .boxed(),
            vec!["", "a b", "x.y-z_1"],
        ),
        "region_code" => (
            select(vec!["", "DBSH", "dbsh", "TN", "DBSCL"])
                .prop_map(str::to_owned)
                .boxed(),
            vec!["ZZ", "a b", "é"],
        ),
        "region_vi" | "region_en" => (Just(String::new()).boxed(), vec!["Miền Bắc", "North"]),
        _ => (
            select(vec!["", "Giám đốc", "tỉnh"])
                .prop_map(str::to_owned)
                .boxed(),
            vec!["=1", "@x"],
        ),
    };
    prop_oneof![
        40 => valid,
        2 => select(wrong).prop_map(str::to_owned),
        1 => junk_cell(),
    ]
    .boxed()
}

fn quoting() -> BoxedStrategy<Quoting> {
    prop_oneof![
        40 => Just(Quoting::Plain),
        20 => Just(Quoting::Quoted),
        1 => Just(Quoting::Unclosed),
    ]
    .boxed()
}

/// A table whose header is `standard` with a few edits and whose rows mostly hold plausible
/// values for those columns, some rows shorter or longer than the header.
fn table(standard: &'static [&'static str]) -> BoxedStrategy<Vec<Vec<String>>> {
    let header: Vec<String> = standard.iter().map(|s| (*s).to_owned()).collect();
    let row: Vec<BoxedStrategy<String>> = standard.iter().map(|c| column_cell(c)).collect();
    let row = (
        row,
        proptest::option::weighted(0.03, any::<Index>()),
        proptest::option::weighted(0.03, junk_cell()),
    )
        .prop_map(|(mut cells, cut, extra)| {
            if let Some(cut) = cut {
                cells.truncate(cut.index(cells.len() + 1));
            }
            cells.extend(extra);
            cells
        });
    let edits = proptest::option::weighted(0.3, header_edit(csv_header_name()));
    (edits, vec(row, 0..8))
        .prop_map(move |(edit, rows)| {
            let edits: Vec<HeaderEdit> = edit.into_iter().collect();
            std::iter::once(edit_header(header.clone(), &edits))
                .chain(rows)
                .collect()
        })
        .boxed()
}

fn csv_spec(rows: BoxedStrategy<Vec<Vec<String>>>) -> BoxedStrategy<CsvSpec> {
    (
        rows,
        vec(quoting(), 1..40),
        any::<bool>(),
        select(vec![',', ';', '\t']),
        select(vec!["\n", "\r\n", "\r"]),
        any::<bool>(),
        prop_oneof![
            16 => Just(Encoding::Utf8),
            1 => Just(Encoding::Utf16Le),
            1 => Just(Encoding::Latin1),
        ],
    )
        .prop_map(
            |(rows, quotings, bom, delimiter, line_end, final_line_end, encoding)| {
                let mut q = quotings.iter().copied().cycle();
                let rows = rows
                    .into_iter()
                    .map(|row| {
                        row.into_iter()
                            .map(|cell| (cell, q.next().unwrap_or(Quoting::Plain)))
                            .collect()
                    })
                    .collect();
                CsvSpec {
                    bom,
                    delimiter,
                    line_end,
                    final_line_end,
                    encoding,
                    rows,
                }
            },
        )
        .boxed()
}

const RESPONDENT_COLUMNS: &[&str] = &[
    "name", "email", "phone", "unit", "group", "position", "level",
];
const UNIT_COLUMNS: &[&str] = &[
    "code",
    "name_vi",
    "name_en",
    "kind",
    "region_code",
    "region_vi",
    "region_en",
];

/// Messages of errors about the whole file (no row).
const FILE_LEVEL: [&str; 8] = [
    "the file is too large",
    "the file is empty",
    "the file has a header row but no",
    "the file has more than",
    "not a readable .xlsx workbook",
    "the workbook has no worksheet",
    "the workbook unpacks to",
    // calamine panicked on a corrupted workbook and the importer caught it.
    "the workbook could not be read",
];

/// Messages of errors about a row as a whole (no column).
const ROW_LEVEL: [&str; 4] = [
    "the file is not UTF-8",
    "a quoted value is never closed",
    "the header has no",
    "the file has more than",
];

/// Every row error names the file, a row that exists (`max_row` is the last one) or the whole
/// file, and a column unless the problem is the row as a whole.
fn check_row_errors(max_row: usize, file: &str, errors: &[RowError]) -> Result<(), TestCaseError> {
    prop_assert!(!errors.is_empty(), "an Err without errors");
    for e in errors {
        prop_assert_eq!(&e.file, file);
        prop_assert!(
            !e.message.to_string().trim().is_empty(),
            "empty message: {:?}",
            e
        );
        prop_assert!(e.to_string().starts_with(file));
        match e.row {
            None => prop_assert!(
                FILE_LEVEL
                    .iter()
                    .any(|p| e.message.to_string().starts_with(p))
                    && e.column.is_none(),
                "an error without a row: {}",
                e
            ),
            Some(row) => {
                prop_assert!(
                    row >= 1 && row as usize <= max_row,
                    "row out of the file: {}",
                    e
                );
                match &e.column {
                    Some(column) => prop_assert!(!column.trim().is_empty(), "{:?}", e),
                    None => prop_assert!(
                        ROW_LEVEL
                            .iter()
                            .any(|p| e.message.to_string().starts_with(p)),
                        "an error without a column: {}",
                        e
                    ),
                }
            }
        }
    }
    Ok(())
}

/// The last row a spreadsheet could show for these bytes: every line ending starts a row.
fn max_csv_row(bytes: &[u8]) -> usize {
    bytes.iter().filter(|b| matches!(b, b'\n' | b'\r')).count() + 1
}

fn known_unit(input: &str) -> Option<String> {
    ["01", "79", "hn"]
        .iter()
        .find(|c| c.eq_ignore_ascii_case(input))
        .map(|c| (*c).to_owned())
}

fn check_respondents(
    max_row: usize,
    file: &str,
    result: Result<Vec<RespondentRow>, Vec<RowError>>,
) -> Result<(), TestCaseError> {
    match result {
        Ok(rows) => {
            prop_assert!(!rows.is_empty());
            for r in &rows {
                prop_assert!(r.row >= 2 && r.row as usize <= max_row, "{:?}", r);
                prop_assert!(!r.name.is_empty() && !r.unit.is_empty() && !r.group.is_empty());
            }
            Ok(())
        }
        Err(es) => check_row_errors(max_row, file, &es),
    }
}

fn check_units(bytes: &[u8]) -> Result<(), TestCaseError> {
    match parse_unit_csv(bytes, "units.csv") {
        Ok(set) => {
            prop_assert!(!set.units.is_empty());
            let lower: BTreeSet<String> = set
                .units
                .iter()
                .map(|u| u.code.to_ascii_lowercase())
                .collect();
            prop_assert_eq!(
                lower.len(),
                set.units.len(),
                "codes not unique ignoring case"
            );
            Ok(())
        }
        Err(es) => check_row_errors(max_csv_row(bytes), "units.csv", &es),
    }
}

fn respondent_csv(bytes: &[u8]) -> Result<(), TestCaseError> {
    let result = parse_respondent_csv(bytes, "people.csv", &known_unit, &StandardGroups);
    check_respondents(max_csv_row(bytes), "people.csv", result)
}

proptest! {
    #![proptest_config(config(128))]

    #[test]
    fn respondent_csv_import_never_panics_on_arbitrary_bytes(bytes in vec(any::<u8>(), 0..512)) {
        respondent_csv(&bytes)?;
    }

    #[test]
    fn respondent_csv_import_never_panics_on_near_valid_lists(
        spec in csv_spec(table(RESPONDENT_COLUMNS)),
    ) {
        respondent_csv(&render_csv(&spec))?;
    }

    #[test]
    fn respondent_csv_import_never_panics_on_random_tables(
        spec in csv_spec(vec(vec(junk_cell(), 0..8), 0..8).boxed()),
    ) {
        respondent_csv(&render_csv(&spec))?;
    }

    #[test]
    fn unit_csv_import_never_panics_on_arbitrary_bytes(bytes in vec(any::<u8>(), 0..512)) {
        check_units(&bytes)?;
    }

    #[test]
    fn unit_csv_import_never_panics_on_near_valid_lists(spec in csv_spec(table(UNIT_COLUMNS))) {
        check_units(&render_csv(&spec))?;
    }

    #[test]
    fn unit_csv_import_never_panics_on_random_tables(
        spec in csv_spec(vec(vec(junk_cell(), 0..8), 0..8).boxed()),
    ) {
        check_units(&render_csv(&spec))?;
    }
}

proptest! {
    #![proptest_config(config(64))]

    #[test]
    fn respondent_xlsx_import_never_panics_on_arbitrary_bytes(bytes in vec(any::<u8>(), 0..512)) {
        let result = parse_respondent_xlsx(&bytes, "people.xlsx", &known_unit, &StandardGroups);
        check_respondents(0, "people.xlsx", result)?;
    }

    #[test]
    fn respondent_xlsx_import_never_panics_on_corrupted_zips(
        mutations in vec(byte_mutation(), 1..4),
    ) {
        let bytes = mutate(&GOOD_XLSFORM, &mutations);
        let result = parse_respondent_xlsx(&bytes, "people.xlsx", &known_unit, &StandardGroups);
        check_respondents(u32::MAX as usize, "people.xlsx", result)?;
    }

    #[test]
    fn respondent_xlsx_import_never_panics_on_workbooks_with_junk_cells(
        rows in table(RESPONDENT_COLUMNS),
        numbers in vec((any::<Index>(), any::<Index>(), any::<f64>()), 0..3),
    ) {
        let mut rows: Vec<Vec<CellSpec>> = rows
            .into_iter()
            .map(|row| row.into_iter().map(CellSpec::Text).collect())
            .collect();
        // Some cells typed as numbers, as Excel does with phone numbers and unit codes.
        for (r, c, x) in numbers {
            let r = r.index(rows.len());
            if let Some(cell) = rows[r].get_mut(c.index(RESPONDENT_COLUMNS.len())) {
                *cell = CellSpec::Number(if x.is_finite() { x } else { 0.0 });
            }
        }
        let sheet = SheetSpec { name: "Sheet1".to_owned(), rows };
        let max_row = sheet.rows.len();
        let bytes = workbook(std::slice::from_ref(&sheet));
        let result = parse_respondent_xlsx(&bytes, "people.xlsx", &known_unit, &StandardGroups);
        check_respondents(max_row, "people.xlsx", result)?;
    }
}
