//! Respondent lists imported from CSV or XLSX: one row per person to invite, validated in full
//! before anything is stored.
//!
//! # Format
//!
//! A header row is required; column order is free and header names are case- and
//! accent-insensitive. Columns (English name, then the accepted Vietnamese aliases):
//!
//! | column     | aliases                               | required |
//! |------------|---------------------------------------|----------|
//! | `name`     | `họ tên`, `họ và tên`                 | yes      |
//! | `email`    | `e-mail`, `thư điện tử`               | no       |
//! | `phone`    | `điện thoại`, `số điện thoại`         | no       |
//! | `unit`     | `đơn vị`                              | yes      |
//! | `group`    | `nhóm`                                | yes      |
//! | `position` | `chức vụ`                             | no       |
//! | `level`    | `cấp`                                 | no       |
//!
//! Aliases match with or without accents and with spaces or underscores (`ho_ten`). A `stt`
//! (*số thứ tự*, row number) column, ubiquitous in Vietnamese spreadsheets, is ignored; any
//! other unknown column is refused, because a misspelt `emial` header would otherwise silently
//! drop every address.
//!
//! # Rules
//!
//! * Every row is checked and every problem reported (row as the spreadsheet shows it, column
//!   header as written, message); when any row is bad nothing is imported.
//! * `name` is required. `email` is optional, checked simply (one `@`, dotted domain, no
//!   spaces) and lower-cased; the same address twice in a file is an error naming the first row.
//! * **Neither e-mail nor phone is allowed**: such a respondent gets a printed access code
//!   handed out by the coordinator, which is how many citizen surveys are run.
//! * `phone`: digits with spaces, `.`, `-`, `(`, `)` and an optional leading `+`; 8–15 digits.
//!   Stored as `+` and digits only. Letters are refused.
//! * `unit` and `group` are checked against the round through the caller's [`UnitLookup`] and
//!   [`GroupLookup`], normally a [`Matcher`]: a unit by its code or its name (with or without
//!   diacritics, `Tỉnh`/`Thành phố`/`TP.`), a group by its code or its label in either language
//!   (`Lãnh đạo, quản lý`, `Công chức`, `Người dân, tổ chức`, `Civil servants`) or the short
//!   forms `lãnh đạo`, `người dân`, `civil servant`. An unknown value names up to three close
//!   matches; a value naming several units names them all.
//! * `name`, `position` and `level` are stored in Unicode NFC.
//! * Every cell: at most [`MAX_CELL_CHARS`] characters, no line breaks or control characters,
//!   and nothing a spreadsheet would run as a formula (`=`, `@`, a leading tab or carriage
//!   return, `+`/`-` unless alone — a common "none" placeholder — or followed by a
//!   phone-number shape such as `+84 912 345 678`).
//! * Files: at most [`MAX_ROWS`] respondents; fully empty rows are skipped; CSV must be UTF-8
//!   (BOM optional, `,` or `;` separated); XLSX is read from its first worksheet, within
//!   [`XLSX_LIMITS`] (a value beyond column IV is refused, naming its cell).
//! * XLSX quirks: numbers read back as text without `.0`. A phone typed as a number loses its
//!   leading zero in Excel, so a numeric phone cell of 9 digits (a mobile number) or of 10
//!   digits starting with `2` (a landline) gets the `0` back.

use std::collections::HashMap;

use crate::domain::tabular::{
    Row, RowCells, RowError, check_cell, map_header_with, msg, read_csv, read_first_sheet, shown,
};
use crate::domain::unit_list::UnitSet;
use crate::domain::unit_match::{Match, Matcher, nfc};
use crate::domain::xlsx::Limits;
use crate::i18n::Localized;

/// Most respondents in one file.
pub const MAX_ROWS: usize = 100_000;

/// Longest cell accepted, in characters.
pub const MAX_CELL_CHARS: usize = 200;

/// Largest CSV file accepted, in bytes (100,000 rows of generous width).
pub const MAX_CSV_BYTES: usize = 32 * 1024 * 1024;

/// What reading an XLSX respondent list may cost: 20 MiB of file unpacking to at most 400 MiB,
/// and room for [`MAX_ROWS`] rows of every column with generous text.
pub const XLSX_LIMITS: Limits = Limits {
    max_file_bytes: 20 * 1024 * 1024,
    max_unpacked_bytes: 400 * 1024 * 1024,
    max_shared_strings: 2_000_000,
    max_cells: 2_000_000,
    max_text_bytes: 64 * 1024 * 1024,
    max_columns: 256,
};

/// One valid row of a respondent list.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RespondentRow {
    /// The row in the file, as the spreadsheet shows it.
    pub row: u32,
    /// Full name.
    pub name: String,
    /// Lower-cased e-mail address.
    pub email: Option<String>,
    /// Phone number as `+` and digits only (e.g. `+84912345678`, `0912345678`).
    pub phone: Option<String>,
    /// Unit code as the [`UnitLookup`] returned it.
    pub unit: String,
    /// Group code as the [`GroupLookup`] returned it.
    pub group: String,
    /// Job title.
    pub position: Option<String>,
    /// Administrative level (free text, e.g. `tỉnh`, `huyện`, `xã`).
    pub level: Option<String>,
}

/// The units of the round a list is imported into.
pub trait UnitLookup {
    /// What the unit written `input` (trimmed) is: the round's code for it, or the closest
    /// units when it names none or several (see [`crate::domain::unit_match`]).
    fn resolve_unit(&self, input: &str) -> Match;
}

/// The respondent groups of the round a list is imported into.
pub trait GroupLookup {
    /// What the group written `input` (trimmed; a code or a label in either language) is.
    fn resolve_group(&self, input: &str) -> Match;
}

/// A closure answering with a code or nothing (exact lookups, tests).
impl<F: Fn(&str) -> Option<String>> UnitLookup for F {
    fn resolve_unit(&self, input: &str) -> Match {
        self(input).map_or(Match::Unknown(Vec::new()), Match::Found)
    }
}

impl<F: Fn(&str) -> Option<String>> GroupLookup for F {
    fn resolve_group(&self, input: &str) -> Match {
        self(input).map_or(Match::Unknown(Vec::new()), Match::Found)
    }
}

/// A [`Matcher`] built over the round's units or groups: the importer's lookup.
impl UnitLookup for Matcher {
    fn resolve_unit(&self, input: &str) -> Match {
        self.find(input)
    }
}

impl GroupLookup for Matcher {
    fn resolve_group(&self, input: &str) -> Match {
        self.find(input)
    }
}

impl UnitLookup for UnitSet {
    /// Codes and names as [`Matcher`] reads them.
    fn resolve_unit(&self, input: &str) -> Match {
        Matcher::units(
            self.units
                .iter()
                .map(|u| (u.code.as_str(), u.name_vi.as_str(), u.name_en.as_str())),
        )
        .find(input)
    }
}

/// The three PAR Index groups, for rounds that use all of them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StandardGroups;

/// The standard group codes.
pub const STANDARD_GROUPS: [&str; 3] = ["leader", "civil_servant", "citizen"];

/// The standard groups: code, Vietnamese and English label as the pages show them, and the
/// shorter names people write (`lãnh đạo`, `civil servant`).
pub const STANDARD_GROUP_NAMES: [(&str, &str, &str, &[&str]); 3] = [
    (
        "leader",
        "Lãnh đạo, quản lý",
        "Leaders and managers",
        &["lãnh đạo", "quản lý", "leaders", "managers"],
    ),
    (
        "civil_servant",
        "Công chức",
        "Civil servants",
        &["civil servant", "công chức, viên chức"],
    ),
    (
        "citizen",
        "Người dân, tổ chức",
        "Citizens and organisations",
        &["người dân", "citizens", "citizens and organizations"],
    ),
];

impl StandardGroups {
    /// A matcher over the standard groups, plus any `extra` labels per code (e.g. the names a
    /// database or catalogue gives them): `(code, label)`.
    pub fn matcher(extra: &[(&str, &str)]) -> Matcher {
        let mut m = Matcher::new();
        for (code, vi, en, short) in STANDARD_GROUP_NAMES {
            let mut names: Vec<&str> = vec![en];
            names.extend_from_slice(short);
            names.extend(extra.iter().filter(|e| e.0 == code).map(|e| e.1));
            m.add(code, vi, &names);
        }
        m
    }
}

impl GroupLookup for StandardGroups {
    fn resolve_group(&self, input: &str) -> Match {
        static MATCHER: std::sync::LazyLock<Matcher> =
            std::sync::LazyLock::new(|| StandardGroups::matcher(&[]));
        MATCHER.find(input)
    }
}

/// Columns: (canonical name, required).
const COLUMNS: [(&str, bool); 7] = [
    ("name", true),
    ("email", false),
    ("phone", false),
    ("unit", true),
    ("group", true),
    ("position", false),
    ("level", false),
];

/// Header aliases after [`header_key`] normalisation → canonical column.
const ALIASES: [(&str, &str); 10] = [
    ("ho_ten", "name"),
    ("ho_va_ten", "name"),
    ("e_mail", "email"),
    ("thu_dien_tu", "email"),
    ("dien_thoai", "phone"),
    ("so_dien_thoai", "phone"),
    ("don_vi", "unit"),
    ("nhom", "group"),
    ("chuc_vu", "position"),
    ("cap", "level"),
];

/// Header keys accepted and ignored.
const IGNORED: [&str; 1] = ["stt"];

/// Parses a CSV respondent list (UTF-8, optional BOM). Returns every row, or every problem.
pub fn parse_respondent_csv(
    bytes: &[u8],
    file_name: &str,
    units: &impl UnitLookup,
    groups: &impl GroupLookup,
) -> Result<Vec<RespondentRow>, Vec<RowError>> {
    let rows = read_csv(bytes, file_name, MAX_CSV_BYTES, MAX_ROWS)?;
    validate(rows, file_name, units, groups)
}

/// Parses an XLSX respondent list from its first worksheet. Same output as
/// [`parse_respondent_csv`].
pub fn parse_respondent_xlsx(
    bytes: &[u8],
    file_name: &str,
    units: &impl UnitLookup,
    groups: &impl GroupLookup,
) -> Result<Vec<RespondentRow>, Vec<RowError>> {
    let rows = read_first_sheet(
        bytes,
        file_name,
        XLSX_LIMITS,
        MAX_ROWS,
        "list.too_many_respondents",
    )
    .map_err(|e| vec![e])?;
    validate(rows, file_name, units, groups)
}

/// Checks every row against the header and the round; all-or-nothing.
fn validate(
    rows: Vec<Row>,
    file: &str,
    units: &impl UnitLookup,
    groups: &impl GroupLookup,
) -> Result<Vec<RespondentRow>, Vec<RowError>> {
    let mut rows = rows.into_iter().filter(|r| !r.is_blank());
    let Some(header) = rows.next() else {
        return Err(vec![RowError::file(file, msg("list.file_empty", &[]))]);
    };
    let columns = map_header_with(&header, file, &COLUMNS, &ALIASES, &IGNORED)?;
    let mut errors = Vec::new();
    let mut out = Vec::new();
    // Lower-cased e-mail → first row it appeared on.
    let mut emails: HashMap<String, u32> = HashMap::new();
    let mut count = 0usize;
    for row in rows {
        count += 1;
        if count > MAX_ROWS {
            return Err(vec![RowError::file(
                file,
                msg(
                    "list.too_many_respondents",
                    &[("max", &MAX_ROWS.to_string())],
                ),
            )]);
        }
        let mut check = RowCells::new(&row, &columns, file, &mut errors, true);
        // Names are stored in NFC so the same name typed on two systems is one text.
        let name = check.value("name", MAX_CELL_CHARS).map(|v| nfc(&v));
        if name.as_deref() == Some("") {
            check.error("name", msg("list.name_required", &[]));
        }
        let email = check
            .value("email", MAX_CELL_CHARS)
            .filter(|v| !v.is_empty());
        let email = email.and_then(|raw| match normalise_email(&raw) {
            Some(email) => Some(email),
            None => {
                check.error(
                    "email",
                    msg("list.email_invalid", &[("value", &shown(&raw))]),
                );
                None
            }
        });
        if let Some(email) = &email {
            match emails.get(email) {
                Some(&first) => check.error(
                    "email",
                    msg(
                        "list.email_repeated",
                        &[("email", email), ("row", &first.to_string())],
                    ),
                ),
                None => {
                    emails.insert(email.clone(), row.row);
                }
            }
        }
        let phone = phone(&mut check);
        let unit_numeric = check.cell("unit").is_some_and(|c| c.numeric);
        let unit = check.value("unit", MAX_CELL_CHARS).and_then(|v| {
            if v.is_empty() {
                check.error("unit", msg("list.unit_required", &[]));
                return None;
            }
            let mut found = units.resolve_unit(&v);
            if unit_numeric && v.len() == 1 && matches!(found, Match::Unknown(_)) {
                // Excel turns a code like 01 typed into a cell into the number 1.
                if let Match::Found(code) = units.resolve_unit(&format!("0{v}")) {
                    found = Match::Found(code);
                }
            }
            matched(&mut check, "unit", &v, found)
        });
        let group = check.value("group", MAX_CELL_CHARS).and_then(|v| {
            if v.is_empty() {
                check.error("group", msg("list.group_required", &[]));
                return None;
            }
            let found = groups.resolve_group(&v);
            matched(&mut check, "group", &v, found)
        });
        let position = check
            .value("position", MAX_CELL_CHARS)
            .filter(|v| !v.is_empty())
            .map(|v| nfc(&v));
        let level = check
            .value("level", MAX_CELL_CHARS)
            .filter(|v| !v.is_empty())
            .map(|v| nfc(&v));
        check.unheaded_values();
        if let (Some(name), Some(unit), Some(group)) = (name.filter(|n| !n.is_empty()), unit, group)
        {
            out.push(RespondentRow {
                row: row.row,
                name,
                email,
                phone,
                unit,
                group,
                position,
                level,
            });
        }
    }
    if errors.is_empty() && out.is_empty() {
        errors.push(RowError::file(
            file,
            msg("list.header_only_respondents", &[]),
        ));
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

/// The code a lookup found, or `None` after recording why not: unknown (with the closest
/// choices, when any are close) or ambiguous (naming every candidate). `column` is `unit` or
/// `group`.
fn matched(
    check: &mut RowCells<'_>,
    column: &'static str,
    written: &str,
    found: Match,
) -> Option<String> {
    let value = shown(written);
    // Labels may hold commas ("Lãnh đạo, quản lý"), so choices are separated by semicolons.
    let (key, choices) = match found {
        Match::Found(code) => return Some(code),
        Match::Unknown(close) if close.is_empty() => (
            if column == "unit" {
                "list.unit_unknown"
            } else {
                "list.group_unknown"
            },
            String::new(),
        ),
        Match::Unknown(close) => (
            if column == "unit" {
                "list.unit_unknown_close"
            } else {
                "list.group_unknown_close"
            },
            close.join("; "),
        ),
        Match::Ambiguous(all) => ("list.ambiguous", all.join("; ")),
    };
    check.error(
        column,
        msg(key, &[("value", &value), ("choices", &choices)]),
    );
    None
}

/// The phone number of a row, normalised, or `None` when blank or bad (bad ones recorded).
fn phone(check: &mut RowCells<'_>) -> Option<String> {
    let numeric = check.cell("phone").is_some_and(|c| c.numeric);
    let raw = check
        .value("phone", MAX_CELL_CHARS)
        .filter(|v| !v.is_empty())?;
    match normalise_phone(&raw, numeric) {
        Ok(phone) => Some(phone),
        Err(why) => {
            check.error("phone", msg(why.key(), &[("value", &shown(&raw))]));
            None
        }
    }
}

/// Why a value is not a phone number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PhoneProblem {
    /// A numeric cell with decimals.
    Decimals,
    /// Letters (an extension, a name).
    Letters,
    /// Symbols other than spaces, `.`, `-`, `(`, `)` and a leading `+`.
    Symbols,
    /// Fewer than 8 digits.
    TooFew,
    /// More than 15 digits.
    TooMany,
}

impl PhoneProblem {
    /// The catalogue message, with a `{value}` parameter.
    pub fn key(self) -> &'static str {
        match self {
            PhoneProblem::Decimals => "list.phone_decimals",
            PhoneProblem::Letters => "list.phone_letters",
            PhoneProblem::Symbols => "list.phone_symbols",
            PhoneProblem::TooFew => "list.phone_too_few",
            PhoneProblem::TooMany => "list.phone_too_many",
        }
    }
}

/// The address lower-cased if it is one; the same rule as account e-mails.
fn normalise_email(raw: &str) -> Option<String> {
    crate::domain::account::Email::parse(raw)
        .ok()
        .map(|e| e.as_str().to_owned())
}

/// `+` and digits only, or why the text is not a phone number. `numeric` cells get back the
/// leading zero Excel dropped (see the module notes).
fn normalise_phone(raw: &str, numeric: bool) -> Result<String, PhoneProblem> {
    if numeric && raw.contains('.') {
        return Err(PhoneProblem::Decimals);
    }
    let (plus, body) = match raw.strip_prefix('+') {
        Some(rest) => (true, rest),
        None => (false, raw),
    };
    if body.chars().any(char::is_alphabetic) {
        return Err(PhoneProblem::Letters);
    }
    if !body
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, ' ' | '.' | '-' | '(' | ')'))
    {
        return Err(PhoneProblem::Symbols);
    }
    let mut digits: String = body.chars().filter(char::is_ascii_digit).collect();
    if numeric && !plus && (digits.len() == 9 || (digits.len() == 10 && digits.starts_with('2'))) {
        digits.insert(0, '0');
    }
    match digits.len() {
        0..=7 => Err(PhoneProblem::TooFew),
        8..=15 => Ok(if plus { format!("+{digits}") } else { digits }),
        _ => Err(PhoneProblem::TooMany),
    }
}

/// A respondent's contact details as corrected on the respondents page, normalised the way an
/// import stores them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contact {
    /// Full name, in NFC.
    pub name: String,
    /// Lower-cased e-mail address.
    pub email: Option<String>,
    /// Phone number as `+` and digits only.
    pub phone: Option<String>,
}

/// Checks contact details typed into a form with the rules of an import (see the module
/// notes): a name is required, every value is a safe cell, e-mail and phone are optional and
/// normalised. Each problem names its field (`name`, `email` or `phone`).
pub fn check_contact(
    name: &str,
    email: &str,
    phone: &str,
) -> Result<Contact, Vec<(&'static str, Localized)>> {
    let mut errors = Vec::new();
    let mut cell = |field: &'static str, raw: &str| match check_cell(raw, MAX_CELL_CHARS, true) {
        Ok(value) => Some(value),
        Err(message) => {
            errors.push((field, message));
            None
        }
    };
    let (name, email_raw, phone_raw) = (
        cell("name", name),
        cell("email", email),
        cell("phone", phone),
    );
    let name = name.map(|n| nfc(&n));
    if name.as_deref() == Some("") {
        errors.push(("name", msg("list.name_required", &[])));
    }
    let email = match email_raw.filter(|e| !e.is_empty()) {
        None => None,
        Some(raw) => match normalise_email(&raw) {
            Some(email) => Some(email),
            None => {
                errors.push((
                    "email",
                    msg("list.email_invalid", &[("value", &shown(&raw))]),
                ));
                None
            }
        },
    };
    let phone = match phone_raw.filter(|p| !p.is_empty()) {
        None => None,
        Some(raw) => match normalise_phone(&raw, false) {
            Ok(phone) => Some(phone),
            Err(why) => {
                errors.push(("phone", msg(why.key(), &[("value", &shown(&raw))])));
                None
            }
        },
    };
    match name {
        Some(name) if errors.is_empty() => Ok(Contact { name, email, phone }),
        _ => Err(errors),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::unit_list::provinces_2025;
    use rust_xlsxwriter::Workbook;

    fn units(input: &str) -> Option<String> {
        ["HN", "HP", "01"]
            .into_iter()
            .find(|u| u.eq_ignore_ascii_case(input))
            .map(str::to_owned)
    }

    fn csv(text: &str) -> Result<Vec<RespondentRow>, Vec<RowError>> {
        parse_respondent_csv(text.as_bytes(), "list.csv", &units, &StandardGroups)
    }

    fn errors(text: &str) -> Vec<String> {
        csv(text)
            .unwrap_err()
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    const HEADER: &str = "name,email,phone,unit,group,position,level\n";

    #[test]
    fn a_clean_csv_list_is_imported_with_normalised_values() {
        let rows = csv(&format!(
            "\u{FEFF}{HEADER}Nguyễn Văn An, An@SoNoiVu.gov.vn ,+84 912 345 678,hn,leader,Giám đốc,tỉnh\n\
             Trần Thị Bình,,0912.345.679,HP,civil_servant,,\n\
             Lê Văn Cường,,,HN,citizen,,\n"
        ))
        .unwrap();
        assert_eq!(rows.len(), 3);
        assert_eq!(
            rows[0],
            RespondentRow {
                row: 2,
                name: "Nguyễn Văn An".to_owned(),
                email: Some("an@sonoivu.gov.vn".to_owned()),
                phone: Some("+84912345678".to_owned()),
                unit: "HN".to_owned(),
                group: "leader".to_owned(),
                position: Some("Giám đốc".to_owned()),
                level: Some("tỉnh".to_owned()),
            }
        );
        assert_eq!(rows[1].phone.as_deref(), Some("0912345679"));
        assert_eq!(rows[2].email, None);
        assert_eq!(rows[2].phone, None);
    }

    #[test]
    fn vietnamese_headers_and_group_labels_are_accepted_in_any_order() {
        let rows = csv(
            "STT,Nhóm,Họ và tên,Đơn vị,Thư điện tử,Số điện thoại,Chức vụ,Cấp\n\
             1,Lãnh đạo,Phạm Văn Dũng,01,dung@x.vn,,Phó giám đốc,Tỉnh\n\
             2,cong chuc,Hoàng Thị E,01,e@x.vn,,,\n\
             3,NGƯỜI DÂN,Vũ Văn G,01,,,,\n\
             4,Civil Servant,Đỗ H,01,,,,\n",
        )
        .unwrap();
        let groups: Vec<&str> = rows.iter().map(|r| r.group.as_str()).collect();
        assert_eq!(
            groups,
            ["leader", "civil_servant", "citizen", "civil_servant"]
        );
        assert_eq!(rows[0].name, "Phạm Văn Dũng");
        assert_eq!(rows[0].position.as_deref(), Some("Phó giám đốc"));
        let rows = csv("ho_ten,don_vi,nhom,so_dien_thoai\nA,01,leader,0912345678\n").unwrap();
        assert_eq!(rows[0].phone.as_deref(), Some("0912345678"));
    }

    #[test]
    fn an_error_names_the_file_the_row_and_the_column() {
        let errs = errors(&format!(
            "{HEADER}A,a@x.vn,,HN,leader,,\n\
             B,b@x.vn,,HN,leader,,\n\
             C,c@x.vn,,HN,leader,,\n\
             D,d@x.vn,,HN,leader,,\n\
             E,e@x.vn,,HN,leader,,\n\
             F,an@@x,,HN,leader,,\n"
        ));
        assert_eq!(
            errs,
            ["list.csv row 7, column email: 'an@@x' is not a valid e-mail address"]
        );
    }

    #[test]
    fn every_bad_row_is_reported_and_nothing_is_imported() {
        let errs = errors(&format!(
            "{HEADER}Good,good@x.vn,,HN,leader,,\n\
             ,nobody@x.vn,,HN,leader,,\n\
             Dup,GOOD@x.vn,,HN,leader,,\n\
             Unit,,,ZZ,leader,,\n\
             Group,,,HN,boss,,\n\
             Phone,,0912abc345,HN,citizen,,\n\
             =1+1,,,HN,citizen,,\n\
             Space,a b@x.vn,,,citizen,,\n"
        ));
        assert_eq!(
            errs,
            [
                "list.csv row 3, column name: the name is required",
                "list.csv row 4, column email: the e-mail address good@x.vn is already on row 2",
                "list.csv row 5, column unit: 'ZZ' is not a unit of this round",
                "list.csv row 6, column group: 'boss' is not a respondent group of this round",
                "list.csv row 7, column phone: '0912abc345' is not a phone number: it contains \
                 letters",
                "list.csv row 8, column name: '=1+1' looks like a spreadsheet formula; values \
                 may not start with =, +, -, @, a tab or a carriage return",
                "list.csv row 9, column email: 'a b@x.vn' is not a valid e-mail address",
                "list.csv row 9, column unit: the unit is required",
            ]
        );
    }

    #[test]
    fn phone_numbers_with_a_plus_pass_the_formula_check_but_injections_do_not() {
        assert!(csv(&format!("{HEADER}A,,+84 (24) 3824-1234,HN,leader,,\n")).is_ok());
        for bad in ["-2+3+cmd|' /C calc'!A0", "+ 84 912", "@SUM(1)", "+cmd"] {
            let errs = errors(&format!("{HEADER}A,,\"{bad}\",HN,leader,,\n"));
            assert_eq!(errs.len(), 1, "{bad}");
            assert!(
                errs[0].contains("looks like a spreadsheet formula"),
                "{bad}"
            );
        }
        let errs = errors(&format!("{HEADER}-Nam,,,HN,leader,,\n"));
        assert!(errs[0].contains("column name"));
        let errs = errors(&format!("{HEADER}\"\tA\",,,HN,leader,,\n"));
        assert!(errs[0].contains("formula"));
    }

    #[test]
    fn a_lone_dash_is_a_harmless_placeholder_but_values_without_a_header_are_refused() {
        let rows = csv("name,unit,group,position\nA,HN,leader,-\n").unwrap();
        assert_eq!(rows[0].position.as_deref(), Some("-"));
        let errs = errors("name,unit,group\nA,HN,leader,stray\n");
        assert_eq!(
            errs,
            ["list.csv row 2, column D: a value in a column without a header"]
        );
    }

    #[test]
    fn a_respondent_with_neither_email_nor_phone_is_accepted_for_a_printed_code() {
        let rows = csv("name,unit,group\nA,HN,citizen\n").unwrap();
        assert_eq!(rows[0].email, None);
        assert_eq!(rows[0].phone, None);
    }

    #[test]
    fn a_non_utf8_csv_gets_advice_on_saving_it() {
        let mut bytes = b"name,unit,group\n".to_vec();
        bytes.extend_from_slice(b"Nguy\xean,HN,leader\n");
        let errs = parse_respondent_csv(&bytes, "list.csv", &units, &StandardGroups).unwrap_err();
        assert_eq!(
            errs[0].to_string(),
            "list.csv row 2: the file is not UTF-8 (first invalid byte at offset 20); save it as \
             'CSV UTF-8' in Excel"
        );
    }

    #[test]
    fn empty_and_header_only_files_are_refused() {
        assert_eq!(errors(""), ["list.csv: the file is empty"]);
        assert_eq!(errors("\n ,, \n"), ["list.csv: the file is empty"]);
        assert_eq!(
            errors(HEADER),
            ["list.csv: the file has a header row but no respondents"]
        );
    }

    #[test]
    fn header_problems_are_reported_before_any_row() {
        let errs = errors("name,emial,unit\nA,a@x.vn,HN\n");
        assert_eq!(
            errs,
            [
                "list.csv row 1, column emial: unknown column; the columns are name, email, \
                 phone, unit, group, position, level",
                "list.csv row 1: the header has no group column",
            ]
        );
        let errs = errors("name,Họ tên,unit,group\nA,B,HN,leader\n");
        assert_eq!(
            errs,
            ["list.csv row 1, column Họ tên: the column name appears twice"]
        );
    }

    #[test]
    fn overlong_cells_and_line_breaks_are_refused() {
        let long = "x".repeat(201);
        let errs = errors(&format!("{HEADER}{long},,,HN,leader,,\n"));
        assert_eq!(
            errs,
            [
                "list.csv row 2, column name: the value is 201 characters long; at most 200 are \
                 allowed"
            ]
        );
        let errs = errors(&format!(
            "{HEADER}\"Two\nlines\",,,HN,leader,,\nB,,,HN,leader,,\n"
        ));
        assert_eq!(errs.len(), 1);
        assert!(errs[0].starts_with("list.csv row 2, column name: 'Two\\nlines' contains a line"));
        let rows = csv(&format!("{HEADER}{},,,HN,leader,,\n", "x".repeat(200)));
        assert!(rows.is_ok());
    }

    #[test]
    fn too_many_rows_are_refused_without_listing_them() {
        let mut text = String::from("name,unit,group\n");
        for i in 0..=MAX_ROWS {
            text.push_str(&format!("P{i},HN,citizen\n"));
        }
        assert_eq!(
            errors(&text),
            [format!(
                "list.csv row {}: the file has more than {MAX_ROWS} rows after the header",
                MAX_ROWS + 2
            )]
        );
    }

    #[test]
    fn phone_checks_count_digits_and_refuse_symbols() {
        assert_eq!(
            normalise_phone("0912 345 678", false),
            Ok("0912345678".into())
        );
        assert_eq!(
            normalise_phone("(024) 3824.1234", false),
            Ok("02438241234".into())
        );
        assert_eq!(normalise_phone("12345", false), Err(PhoneProblem::TooFew));
        assert_eq!(
            normalise_phone("1234567890123456", false),
            Err(PhoneProblem::TooMany)
        );
        assert_eq!(
            normalise_phone("0912#345", false).unwrap_err(),
            PhoneProblem::Symbols
        );
        assert_eq!(
            normalise_phone("0912 345 678 ext", false),
            Err(PhoneProblem::Letters)
        );
        assert_eq!(
            normalise_phone("+84+912", false).unwrap_err(),
            PhoneProblem::Symbols
        );
    }

    #[test]
    fn respondents_can_be_checked_against_a_unit_set() {
        let set = provinces_2025().unwrap();
        let rows = parse_respondent_csv(
            b"name,unit,group\nA,HA-NOI,leader\n",
            "l.csv",
            &set,
            &StandardGroups,
        )
        .unwrap();
        assert_eq!(rows[0].unit, "ha-noi");
        let only_citizens = |code: &str| (code == "citizen").then(|| code.to_owned());
        let errs = parse_respondent_csv(
            b"name,unit,group\nA,ha-noi,leader\n",
            "l.csv",
            &set,
            &only_citizens,
        )
        .unwrap_err();
        assert_eq!(errs[0].column.as_deref(), Some("group"));
    }

    #[test]
    fn province_names_and_group_labels_as_the_pages_show_them_are_accepted() {
        let set = crate::domain::unit_list::provinces_2023().unwrap();
        let nfd_name: String = "Lê Thị Hồng".chars().collect::<String>();
        let nfd_name =
            unicode_normalization::UnicodeNormalization::nfd(nfd_name.as_str()).collect::<String>();
        let text = format!(
            "Họ và tên,Đơn vị,Nhóm\n\
             A,Hà Nội,\"Lãnh đạo, quản lý\"\n\
             B,Thành phố Hồ Chí Minh,\"Người dân, tổ chức\"\n\
             C,ha noi,Công chức\n\
             D,HÀ  NỘI,Civil servants\n\
             E,TP. Hồ Chí Minh,leader\n\
             F,Thanh pho Ho Chi Minh,citizen\n\
             G,Thừa Thiên Huế,lanh dao quan ly\n\
             H,Bà Rịa - Vũng Tàu,NGƯỜI DÂN\n\
             {nfd_name},1,civil_servant\n"
        );
        let rows = parse_respondent_csv(text.as_bytes(), "l.csv", &set, &StandardGroups).unwrap();
        let got: Vec<(&str, &str)> = rows
            .iter()
            .map(|r| (r.unit.as_str(), r.group.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                ("01", "leader"),
                ("79", "citizen"),
                ("01", "civil_servant"),
                ("01", "civil_servant"),
                ("79", "leader"),
                ("79", "citizen"),
                ("46", "leader"),
                ("77", "citizen"),
                ("01", "civil_servant"),
            ]
        );
        assert_eq!(rows[8].name, "Lê Thị Hồng", "stored in NFC");
    }

    #[test]
    fn an_unknown_unit_or_group_names_the_closest_matches() {
        let set = crate::domain::unit_list::provinces_2023().unwrap();
        let errs = parse_respondent_csv(
            "name,unit,group\nA,Ha Noii,Lanh dao quan lyy\n".as_bytes(),
            "l.csv",
            &set,
            &StandardGroups,
        )
        .unwrap_err();
        let errs: Vec<String> = errs.iter().map(ToString::to_string).collect();
        assert_eq!(
            errs,
            [
                "l.csv row 2, column unit: 'Ha Noii' is not a unit of this round; did you mean \
                 Hà Nội?",
                "l.csv row 2, column group: 'Lanh dao quan lyy' is not a respondent group of \
                 this round; did you mean Lãnh đạo, quản lý?",
            ]
        );
    }

    /// A cell to write: text, a number, or nothing.
    enum X<'a> {
        S(&'a str),
        Num(f64),
        Blank,
    }

    /// A one-sheet workbook with the given cells.
    fn xlsx(rows: &[Vec<X<'_>>]) -> Vec<u8> {
        let mut wb = Workbook::new();
        let ws = wb.add_worksheet();
        for (r, row) in rows.iter().enumerate() {
            for (c, value) in row.iter().enumerate() {
                match value {
                    X::S(s) => {
                        ws.write_string(r as u32, c as u16, *s).unwrap();
                    }
                    X::Num(n) => {
                        ws.write_number(r as u32, c as u16, *n).unwrap();
                    }
                    X::Blank => {}
                }
            }
        }
        wb.save_to_buffer().unwrap()
    }

    fn header() -> Vec<X<'static>> {
        ["Name", "Email", "Phone", "Unit", "Group"]
            .into_iter()
            .map(X::S)
            .collect()
    }

    #[test]
    fn numeric_phone_cells_in_xlsx_become_text_without_a_decimal_point() {
        let bytes = xlsx(&[
            header(),
            vec![
                X::S("A"),
                X::Blank,
                X::Num(84_912_345_678.0),
                X::S("HN"),
                X::S("leader"),
            ],
            vec![
                X::S("B"),
                X::Blank,
                X::Num(912_345_678.0),
                X::S("HN"),
                X::S("leader"),
            ],
            vec![
                X::S("C"),
                X::Blank,
                X::Num(2_438_241_234.0),
                X::S("HN"),
                X::S("leader"),
            ],
            vec![
                X::S("D"),
                X::Blank,
                X::S("0912 345 670"),
                X::Num(1.0),
                X::S("leader"),
            ],
        ]);
        let rows = parse_respondent_xlsx(&bytes, "list.xlsx", &units, &StandardGroups).unwrap();
        let phones: Vec<&str> = rows.iter().filter_map(|r| r.phone.as_deref()).collect();
        assert_eq!(
            phones,
            ["84912345678", "0912345678", "02438241234", "0912345670"]
        );
        // The unit code 01 typed as a number reads back as 1 and still resolves.
        assert_eq!(rows[3].unit, "01");
    }

    #[test]
    fn xlsx_cells_are_trimmed_empty_rows_skipped_and_rows_numbered_as_excel_shows_them() {
        let bytes = xlsx(&[
            header(),
            vec![
                X::S("  An  "),
                X::S(" AN@X.VN "),
                X::Blank,
                X::S(" HN "),
                X::S(" leader "),
            ],
            vec![X::Blank, X::S("   "), X::Blank, X::Blank, X::Blank],
            vec![
                X::S("Bình"),
                X::S("an@x.vn"),
                X::Blank,
                X::S("HN"),
                X::S("leader"),
            ],
        ]);
        let errs = parse_respondent_xlsx(&bytes, "list.xlsx", &units, &StandardGroups).unwrap_err();
        assert_eq!(
            errs.iter().map(ToString::to_string).collect::<Vec<_>>(),
            ["list.xlsx row 4, column Email: the e-mail address an@x.vn is already on row 2"]
        );
    }

    #[test]
    fn a_fractional_number_in_a_phone_cell_is_refused() {
        let bytes = xlsx(&[
            header(),
            vec![
                X::S("A"),
                X::Blank,
                X::Num(912.5),
                X::S("HN"),
                X::S("leader"),
            ],
        ]);
        let errs = parse_respondent_xlsx(&bytes, "list.xlsx", &units, &StandardGroups).unwrap_err();
        assert_eq!(
            errs[0].to_string(),
            "list.xlsx row 2, column Phone: '912.5' is not a phone number: it is a number with \
             decimals"
        );
    }

    #[test]
    fn formulas_in_xlsx_text_cells_are_refused_too() {
        let bytes = xlsx(&[
            header(),
            vec![
                X::S("=HYPERLINK(\"http://x\")"),
                X::Blank,
                X::Blank,
                X::S("HN"),
                X::S("leader"),
            ],
        ]);
        let errs = parse_respondent_xlsx(&bytes, "list.xlsx", &units, &StandardGroups).unwrap_err();
        assert!(
            errs[0]
                .to_string()
                .starts_with("list.xlsx row 2, column Name: '=HYPERLINK")
        );
    }

    #[test]
    fn a_file_that_is_not_a_workbook_is_refused_without_panicking() {
        for bytes in [&b""[..], b"PK\x03\x04garbage", b"name,unit\nA,B\n"] {
            let errs =
                parse_respondent_xlsx(bytes, "list.xlsx", &units, &StandardGroups).unwrap_err();
            assert_eq!(errs.len(), 1);
            assert_eq!(errs[0].row, None);
        }
    }

    #[test]
    fn random_and_corrupted_input_never_panics_any_parser() {
        use rand::Rng;
        let mut rng = rand::rng();
        let alphabet = b"ab,;\"\r\n\t=+-@ 0123456789\xc3\xa0\xff";
        for _ in 0..2_000 {
            let len = rng.random_range(0..80);
            let bytes: Vec<u8> = (0..len)
                .map(|_| alphabet[rng.random_range(0..alphabet.len())])
                .collect();
            let mut with_header = b"name,email,phone,unit,group\n".to_vec();
            with_header.extend_from_slice(&bytes);
            let _ = parse_respondent_csv(&bytes, "f.csv", &units, &StandardGroups);
            let _ = parse_respondent_csv(&with_header, "f.csv", &units, &StandardGroups);
            let _ = crate::domain::unit_list::parse_unit_csv(&bytes, "f.csv");
            let _ = crate::domain::access_code::AccessCode::parse(&String::from_utf8_lossy(&bytes));
        }
        let good = xlsx(&[
            header(),
            vec![
                X::S("A"),
                X::Blank,
                X::Num(912_345_678.0),
                X::S("HN"),
                X::S("leader"),
            ],
        ]);
        for _ in 0..100 {
            let mut broken = good.clone();
            for _ in 0..4 {
                let at = rng.random_range(0..broken.len());
                broken[at] = rng.random();
            }
            let _ = parse_respondent_xlsx(&broken, "f.xlsx", &units, &StandardGroups);
            let cut = rng.random_range(0..good.len());
            let _ = parse_respondent_xlsx(&good[..cut], "f.xlsx", &units, &StandardGroups);
        }
    }

    #[test]
    fn an_empty_workbook_is_an_empty_file() {
        let bytes = xlsx(&[]);
        let errs = parse_respondent_xlsx(&bytes, "list.xlsx", &units, &StandardGroups).unwrap_err();
        assert_eq!(errs[0].to_string(), "list.xlsx: the file is empty");
    }

    #[test]
    fn contact_details_are_checked_with_the_import_rules() {
        let ok = check_contact(
            " Nguye\u{302}\u{303}n Văn A ",
            "An@SoNoiVu.gov.vn",
            "0912 345 678",
        )
        .unwrap();
        assert_eq!(ok.name, "Nguyễn Văn A");
        assert_eq!(ok.email.as_deref(), Some("an@sonoivu.gov.vn"));
        assert_eq!(ok.phone.as_deref(), Some("0912345678"));
        let blank = check_contact("Lan", "", "").unwrap();
        assert_eq!((blank.email, blank.phone), (None, None));
        let bad = check_contact("", "an@@x", "=1+1").unwrap_err();
        let fields: Vec<&str> = bad.iter().map(|(f, _)| *f).collect();
        assert_eq!(fields, ["phone", "name", "email"]);
    }
}
