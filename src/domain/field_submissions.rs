//! Field submissions: the CSV or XLSX submission export of ODK Central or KoboToolbox for a
//! questionnaire exported from khaosat to XLSForm, read into responses checked like a web
//! response, in full before anything is stored.
//!
//! # Columns
//!
//! The XLSForm export names each section's group by the section code, each question by its
//! code and each battery item by the item's code, so a column is matched to an answer code by
//! its **last path segment**: `s1-q1` (ODK Central), `s1/q1` (KoboToolbox with groups in the
//! headers), `s1.q1` or plain `q1` all answer `q1`. Codes are unique in a questionnaire, so the
//! group prefixes are never needed. Then:
//!
//! * **Instance ID** — `meta-instanceID`, `meta/instanceID` or `instanceID`; KoboToolbox's
//!   `_uuid` (the same ID without `uuid:`) or Central's `KEY` when that column is missing or
//!   blank. It is what makes an import idempotent (see [`submission_key`]).
//! * **Unit and group** — columns whose last segment is `unit` or `group` (a code or a name, as
//!   in respondent lists), else the values given with the import (`--unit`, `--group`). A row
//!   with neither is an error naming the row and the column.
//! * **Dates** — `SubmissionDate` (Central), `_submission_time` (Kobo) or else `end` becomes
//!   the submission date (UTC, as for web responses); `start` and `end` together give the
//!   duration.
//! * **Metadata** — the other columns the two servers add (`KEY`, `SubmitterID`,
//!   `SubmitterName`, `DeviceID`, `ReviewState`, `FormVersion`, every Kobo column starting with
//!   `_`, everything under `meta`, the `start`/`end`/`today`/`deviceid` … metadata questions)
//!   are ignored: nothing about the submitter or the device is kept.
//! * **Split multiple choices** — Kobo may add one 0/1 column per option (`s1/q3/opt1`). They
//!   are ignored when the question's own column (space-separated option values) is present,
//!   and read in its place when it is not.
//! * Any other column is reported once as a warning and ignored (a column of another form
//!   version, a note).
//!
//! # Values
//!
//! An empty cell is no answer (ODK writes nothing for unanswered and non-relevant questions).
//! Choices are option values (`yes`/`no` for yes/no questions); a multiple choice is its
//! option values separated by spaces. Integers may be written `3.0` (XLSX); dates as
//! `YYYY-MM-DD` or as Excel dates. Each row is then decoded by [`decode_form`] exactly as a web
//! response is: required answers, relevance (answers to questions that are not relevant are
//! dropped, as the web form drops them), constraints, option values and ranges.
//!
//! # Rules
//!
//! * Every problem is reported with its row (as the spreadsheet shows it) and column header;
//!   any problem means nothing is stored.
//! * A repeated instance ID with the same unit, group and answers is kept once (an export
//!   joined twice); with different ones it is an error naming both rows.

use std::collections::{BTreeMap, HashMap};

use chrono::{NaiveDate, NaiveDateTime};
use sha2::{Digest, Sha256};

use crate::domain::answers::{Answers, FieldError, decode_form, keys};
use crate::domain::instrument::{Instrument, QuestionKind};
use crate::domain::respondent_list::{GroupLookup, UnitLookup};
use crate::domain::tabular::{Row, RowError, msg, read_csv, read_first_sheet, shown};
use crate::domain::unit_match::Match;
use crate::domain::xlsx::Limits;
use crate::i18n::Localized;

crate::stored_code! {
    /// Where a response came from; stored in `responses.source`.
    pub enum ResponseSource ("response source") {
        /// Answered on the web form with an access code.
        Web = "web",
        /// A paper questionnaire keyed in by staff.
        Paper = "paper",
        /// Collected offline (ODK Collect, KoboCollect) and imported from the server's export.
        Field = "field",
    }
}

/// Most submissions in one file.
pub const MAX_SUBMISSIONS: usize = 20_000;

/// Largest CSV export accepted, in bytes.
pub const MAX_CSV_BYTES: usize = 64 * 1024 * 1024;

/// What reading an XLSX export may cost: room for [`MAX_SUBMISSIONS`] rows of a long
/// questionnaire with Kobo's split columns, and no more.
pub const XLSX_LIMITS: Limits = Limits {
    max_file_bytes: 32 * 1024 * 1024,
    max_unpacked_bytes: 512 * 1024 * 1024,
    max_shared_strings: 4_000_000,
    max_cells: 8_000_000,
    max_text_bytes: 128 * 1024 * 1024,
    max_columns: 2048,
};

/// The prefix of a field response's submission key.
pub const KEY_PREFIX: &str = "field:";

/// The stored submission key of the submission with this instance ID: `field:` and the
/// SHA-256 of the ID without its `uuid:` prefix (Central writes it, Kobo's `_uuid` does not).
/// Only the digest is kept, so a stored response cannot be matched back to the device export
/// by anyone who does not hold that export.
pub fn submission_key(instance_id: &str) -> String {
    let id = instance_id.trim();
    let id = id.strip_prefix("uuid:").unwrap_or(id);
    format!("{KEY_PREFIX}{}", hex::encode(Sha256::digest(id.as_bytes())))
}

/// One checked submission, ready to store as a response.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FieldSubmission {
    /// The row in the file, as the spreadsheet shows it.
    pub row: u32,
    /// The stored submission key ([`submission_key`]).
    pub key: String,
    /// Unit code.
    pub unit: String,
    /// Group code.
    pub group: String,
    /// The submission date (UTC), when the file has one.
    pub submitted_on: Option<NaiveDate>,
    /// Seconds from `start` to `end`, when both are known.
    pub duration_seconds: Option<i32>,
    /// The decoded answers.
    pub answers: Answers,
}

/// What a clean file holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedFile {
    /// One per instance ID, in file order.
    pub submissions: Vec<FieldSubmission>,
    /// Rows that repeated an earlier row's instance ID with the same content (kept once).
    pub repeated: usize,
    /// Columns ignored because they answer no question, one warning each.
    pub warnings: Vec<RowError>,
}

/// What a file is checked against: the round's units and groups, the questionnaire of each
/// configured group, and the unit and group given with the import (used for rows without
/// unit or group columns).
pub struct ImportFrame<'a> {
    /// The units the importer may import into.
    pub units: &'a dyn UnitLookup,
    /// The respondent groups, by code or name.
    pub groups: &'a dyn GroupLookup,
    /// Group code → the questionnaire the round uses for it.
    pub forms: &'a BTreeMap<String, Instrument>,
    /// The unit for rows without one (`--unit`), as typed.
    pub unit: Option<&'a str>,
    /// The group for rows without one (`--group`), as typed.
    pub group: Option<&'a str>,
}

/// True when the upload is a workbook (by name or by its ZIP signature).
pub fn is_xlsx(file_name: &str, bytes: &[u8]) -> bool {
    file_name.to_ascii_lowercase().ends_with(".xlsx") || bytes.starts_with(b"PK\x03\x04")
}

/// Reads and checks a CSV (`,` or `;` separated, UTF-8) or XLSX (first sheet) export.
pub fn check_submissions(
    bytes: &[u8],
    file_name: &str,
    frame: &ImportFrame<'_>,
) -> Result<CheckedFile, Vec<RowError>> {
    let rows = if is_xlsx(file_name, bytes) {
        read_first_sheet(
            bytes,
            file_name,
            XLSX_LIMITS,
            MAX_SUBMISSIONS,
            "field.too_many",
        )
        .map_err(|e| vec![e])?
    } else {
        read_csv(bytes, file_name, MAX_CSV_BYTES, MAX_SUBMISSIONS)?
    };
    check_rows(rows, file_name, frame)
}

/// Columns every export may carry that are no answer (compared case-insensitively).
const METADATA: [&str; 27] = [
    "submissiondate",
    "key",
    "submitterid",
    "submittername",
    "attachmentspresent",
    "attachmentsexpected",
    "status",
    "reviewstate",
    "deviceid",
    "edits",
    "formversion",
    "start",
    "end",
    "today",
    "username",
    "phonenumber",
    "simserial",
    "subscriberid",
    "email",
    "audit",
    "instanceid",
    "instancename",
    "deprecatedid",
    "uuid",
    "rootuuid",
    "formhub/uuid",
    "parent_key",
];

/// The header's path segments (`s1-q1`, `s1/q1`, `s1.q1`).
fn segments(header: &str) -> Vec<&str> {
    header
        .split(['/', '-', '.'])
        .filter(|s| !s.is_empty())
        .collect()
}

fn last_segment(header: &str) -> &str {
    segments(header).last().copied().unwrap_or(header)
}

/// The metadata columns a file has.
#[derive(Debug, Default)]
struct MetaColumns {
    instance: Option<usize>,
    uuid: Option<usize>,
    key: Option<usize>,
    submitted: Option<usize>,
    start: Option<usize>,
    end: Option<usize>,
    unit: Option<usize>,
    group: Option<usize>,
    /// Every column that is metadata (ignored as an answer).
    all: Vec<usize>,
}

/// Where each answer code of one questionnaire is in the file.
#[derive(Debug, Default)]
struct FormColumns {
    /// Answer code → column.
    answers: HashMap<String, usize>,
    /// Multiple-choice code → (option value, column) of Kobo's split columns.
    split: HashMap<String, Vec<(String, usize)>>,
    /// Columns that answer nothing in this questionnaire.
    unknown: Vec<usize>,
}

/// The answer code `header` names in `form`: the whole header or its last segment, exactly
/// or ignoring case.
fn answer_code_of<'f>(form: &'f Instrument, header: &str) -> Option<&'f str> {
    let last = last_segment(header);
    form.answer_codes()
        .find(|c| *c == header || *c == last)
        .or_else(|| form.answer_codes().find(|c| c.eq_ignore_ascii_case(last)))
}

/// A Kobo split column (`…/q3/opt1`): the multiple-choice code and the option value.
fn split_column_of(form: &Instrument, header: &str) -> Option<(String, String)> {
    let parts = segments(header);
    let [.., code, option] = parts.as_slice() else {
        return None;
    };
    let (question, _) = form.locate(code)?;
    match &question.kind {
        QuestionKind::Multiple { choices } => choices
            .options
            .iter()
            .find(|o| o.value == *option)
            .map(|o| (question.code.clone(), o.value.clone())),
        _ => None,
    }
}

fn is_metadata(header: &str) -> bool {
    let lower = header.to_lowercase();
    lower.starts_with('_')
        || lower.starts_with("meta/")
        || lower.starts_with("meta-")
        || lower.starts_with("meta.")
        || METADATA.contains(&lower.as_str())
        || METADATA.contains(&last_segment(&lower))
}

/// Finds the metadata, unit and group columns. A header that names an answer code of any of
/// the round's questionnaires is an answer, even when it looks like metadata.
fn meta_columns(headers: &[String], forms: &BTreeMap<String, Instrument>) -> MetaColumns {
    let mut meta = MetaColumns::default();
    for (i, header) in headers.iter().enumerate() {
        if header.is_empty() || forms.values().any(|f| answer_code_of(f, header).is_some()) {
            continue;
        }
        let last = last_segment(header).to_lowercase();
        let lower = header.to_lowercase();
        let slot = match (lower.as_str(), last.as_str()) {
            (_, "instanceid") => Some(&mut meta.instance),
            ("_uuid", _) => Some(&mut meta.uuid),
            ("key", _) => Some(&mut meta.key),
            ("submissiondate" | "_submission_time", _) => Some(&mut meta.submitted),
            (_, "start") => Some(&mut meta.start),
            (_, "end") => Some(&mut meta.end),
            (_, "unit") => Some(&mut meta.unit),
            (_, "group") => Some(&mut meta.group),
            _ => None,
        };
        match slot {
            Some(slot) => {
                if slot.is_none() {
                    *slot = Some(i);
                }
                meta.all.push(i);
            }
            None if is_metadata(header) => meta.all.push(i),
            None => {}
        }
    }
    meta
}

/// Maps the columns onto one questionnaire; a code answered by two columns is an error.
fn form_columns(
    headers: &[String],
    meta: &MetaColumns,
    form: &Instrument,
    file: &str,
    header_row: u32,
) -> Result<FormColumns, Vec<RowError>> {
    let mut out = FormColumns::default();
    let mut errors = Vec::new();
    for (i, header) in headers.iter().enumerate() {
        if header.is_empty() || meta.all.contains(&i) {
            continue;
        }
        if let Some(code) = answer_code_of(form, header) {
            if out.answers.insert(code.to_owned(), i).is_some() {
                errors.push(RowError::at(
                    file,
                    header_row,
                    Some(shown(header)),
                    msg("list.column_twice", &[("name", code)]),
                ));
            }
        } else if let Some((code, option)) = split_column_of(form, header) {
            out.split.entry(code).or_default().push((option, i));
        } else {
            out.unknown.push(i);
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

/// A time as the exports write it: RFC 3339 with an offset (`…Z`, `…+07:00`, converted to
/// UTC), a time without one (Kobo's UTC `_submission_time`), or a bare date.
pub fn parse_time(text: &str) -> Option<NaiveDateTime> {
    let t = text.trim();
    if let Ok(dt) = chrono::DateTime::parse_from_rfc3339(t) {
        return Some(dt.naive_utc());
    }
    for format in ["%Y-%m-%dT%H:%M:%S%.f%z", "%Y-%m-%d %H:%M:%S%.f%z"] {
        if let Ok(dt) = chrono::DateTime::parse_from_str(t, format) {
            return Some(dt.naive_utc());
        }
    }
    for format in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M",
    ] {
        if let Ok(dt) = NaiveDateTime::parse_from_str(t, format) {
            return Some(dt);
        }
    }
    NaiveDate::parse_from_str(t, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
}

/// A cell's value as the web form would post it for `kind`: integers without XLSX's `.0`,
/// dates without a time of day.
fn as_posted(kind: &QuestionKind, value: &str) -> String {
    match kind {
        QuestionKind::Integer { .. } => match value.split_once('.') {
            Some((whole, zeros))
                if !zeros.is_empty()
                    && zeros.chars().all(|c| c == '0')
                    && whole
                        .trim_start_matches('-')
                        .chars()
                        .all(|c| c.is_ascii_digit()) =>
            {
                whole.to_owned()
            }
            _ => value.to_owned(),
        },
        QuestionKind::Date if value.len() > 10 => parse_time(value).map_or_else(
            || value.to_owned(),
            |t| t.date().format("%Y-%m-%d").to_string(),
        ),
        _ => value.to_owned(),
    }
}

/// The code a lookup found, or the message saying why not (unknown with close matches, or
/// ambiguous), worded as for respondent lists.
fn matched(column: &str, written: &str, found: Match) -> Result<String, Localized> {
    let value = shown(written);
    let unit = column == "unit";
    let (key, choices) = match found {
        Match::Found(code) => return Ok(code),
        Match::Unknown(close) if close.is_empty() => (
            if unit {
                "list.unit_unknown"
            } else {
                "list.group_unknown"
            },
            String::new(),
        ),
        Match::Unknown(close) => (
            if unit {
                "list.unit_unknown_close"
            } else {
                "list.group_unknown_close"
            },
            close.join("; "),
        ),
        Match::Ambiguous(all) => ("list.ambiguous", all.join("; ")),
    };
    Err(msg(key, &[("value", &value), ("choices", &choices)]))
}

/// A decoding problem as a file message; `value` is the cell as written.
fn answer_message(error: &FieldError, value: &str) -> Localized {
    let code = error.code.as_str();
    if error.message_key == keys::REQUIRED {
        return msg("field.answer_required", &[("code", code)]);
    }
    if let Some(own) = &error.message {
        // The questionnaire's own message, in each catalogue's language.
        return msg(
            "field.answer_constraint",
            &[("code", code), ("vi", &own.vi), ("en", &own.en)],
        );
    }
    let problem = Localized {
        key: error.message_key,
        args: error.params.iter().map(|(k, v)| (*k, v.clone())).collect(),
        parts: Vec::new(),
    };
    msg(
        "field.answer_invalid",
        &[("code", code), ("value", &shown(value))],
    )
    .with("problem", problem)
}

/// Per-file state while rows are read.
struct Reader<'a> {
    file: &'a str,
    headers: Vec<String>,
    header_row: u32,
    meta: MetaColumns,
    frame: &'a ImportFrame<'a>,
    /// The flags, resolved once: `Err` holds the message for rows that need them.
    unit_flag: Option<Result<String, Localized>>,
    group_flag: Option<Result<String, Localized>>,
    /// Group code → its questionnaire's columns (built when a row first needs them).
    columns: HashMap<String, FormColumns>,
    errors: Vec<RowError>,
}

impl Reader<'_> {
    fn header(&self, index: Option<usize>, fallback: &str) -> Option<String> {
        Some(
            index
                .and_then(|i| self.headers.get(i))
                .map_or_else(|| fallback.to_owned(), |h| shown(h)),
        )
    }

    fn error(&mut self, row: u32, column: Option<String>, message: Localized) {
        self.errors
            .push(RowError::at(self.file, row, column, message));
    }

    /// The trimmed cell, or `None` (recorded) when it is a spreadsheet error value.
    fn cell<'r>(&mut self, row: &'r Row, index: Option<usize>) -> Option<&'r str> {
        let cell = row.cells.get(index?)?;
        if cell.excel_error {
            let column = self.header(index, "");
            self.error(
                row.row,
                column,
                msg("list.excel_error", &[("value", &shown(&cell.text))]),
            );
            return None;
        }
        Some(cell.text.trim())
    }

    /// The unit or group of a row: its column, else the flag, else an error naming the row
    /// and the column.
    fn unit_or_group(&mut self, row: &Row, column: &'static str) -> Option<String> {
        let (index, lookup_unit) = if column == "unit" {
            (self.meta.unit, true)
        } else {
            (self.meta.group, false)
        };
        let written = self.cell(row, index).unwrap_or("").to_owned();
        let header = self.header(index, column);
        if written.is_empty() {
            let flag = if lookup_unit {
                self.unit_flag.clone()
            } else {
                self.group_flag.clone()
            };
            return match flag {
                Some(Ok(code)) => Some(code),
                Some(Err(_)) => None, // reported once for the file
                None => {
                    let key = if lookup_unit {
                        "field.unit_missing"
                    } else {
                        "field.group_missing"
                    };
                    self.error(row.row, header, msg(key, &[]));
                    None
                }
            };
        }
        let found = if lookup_unit {
            self.frame.units.resolve_unit(&written)
        } else {
            self.frame.groups.resolve_group(&written)
        };
        match matched(column, &written, found) {
            Ok(code) => Some(code),
            Err(message) => {
                self.error(row.row, header, message);
                None
            }
        }
    }

    /// The instance ID of a row: `instanceID`, else Kobo's `_uuid`, else Central's `KEY`.
    fn instance_id(&mut self, row: &Row) -> Option<String> {
        for index in [self.meta.instance, self.meta.uuid, self.meta.key] {
            if let Some(value) = self.cell(row, index).filter(|v| !v.is_empty()) {
                return Some(value.to_owned());
            }
        }
        let header = self.header(
            self.meta.instance.or(self.meta.uuid).or(self.meta.key),
            "instanceID",
        );
        self.error(row.row, header, msg("field.instance_missing", &[]));
        None
    }

    /// A time column of a row: `None` when blank, recorded when unreadable.
    fn time(&mut self, row: &Row, index: Option<usize>) -> Option<NaiveDateTime> {
        let value = self.cell(row, index).filter(|v| !v.is_empty())?.to_owned();
        let time = parse_time(&value);
        if time.is_none() {
            let header = self.header(index, "");
            self.error(
                row.row,
                header,
                msg("field.time_invalid", &[("value", &shown(&value))]),
            );
        }
        time
    }

    /// Checks one row; `None` when it has problems (all recorded).
    fn row(&mut self, row: &Row) -> Option<FieldSubmission> {
        let before = self.errors.len();
        let instance = self.instance_id(row);
        let unit = self.unit_or_group(row, "unit");
        let group = self.unit_or_group(row, "group");
        let submitted_index = self.meta.submitted.or(self.meta.end);
        let submitted = self.time(row, submitted_index);
        let start = self.time(row, self.meta.start);
        let end = if submitted_index == self.meta.end {
            submitted
        } else {
            self.time(row, self.meta.end)
        };
        let group = group?;
        let Some(form) = self.frame.forms.get(&group) else {
            let header = self.header(self.meta.group, "group");
            self.error(
                row.row,
                header,
                msg("field.group_not_configured", &[("group", &group)]),
            );
            return None;
        };
        if !self.columns.contains_key(&group) {
            match form_columns(&self.headers, &self.meta, form, self.file, self.header_row) {
                Ok(columns) => {
                    self.columns.insert(group.clone(), columns);
                }
                Err(errors) => {
                    // Reported once: later rows of the group find its (empty) columns.
                    self.errors.extend(errors);
                    self.columns.insert(group.clone(), FormColumns::default());
                    return None;
                }
            }
        }
        let (fields, written) = self.fields(row, form, &group);
        let (answers, problems) = decode_form(form, &fields);
        for problem in &problems {
            let index = self
                .columns
                .get(&group)
                .and_then(|c| c.answers.get(&problem.code))
                .copied();
            let column = self.header(index, &problem.code);
            let value = written.get(&problem.code).map_or("", String::as_str);
            self.error(row.row, column, answer_message(problem, value));
        }
        if self.errors.len() > before {
            return None;
        }
        let duration = match (start, end) {
            (Some(start), Some(end)) => i32::try_from((end - start).num_seconds())
                .ok()
                .filter(|s| *s >= 0),
            _ => None,
        };
        Some(FieldSubmission {
            row: row.row,
            key: submission_key(&instance?),
            unit: unit?,
            group,
            submitted_on: submitted.map(|t| t.date()),
            duration_seconds: duration,
            answers,
        })
    }

    /// The row as the web form would post it: (answer code, value) pairs, one per option of
    /// a multiple choice; and each code's cell as written (for messages).
    fn fields(
        &mut self,
        row: &Row,
        form: &Instrument,
        group: &str,
    ) -> (Vec<(String, String)>, HashMap<String, String>) {
        let mut fields = Vec::new();
        let mut written = HashMap::new();
        let Some(columns) = self.columns.get(group) else {
            return (fields, written);
        };
        let answers: Vec<(String, usize)> = columns
            .answers
            .iter()
            .map(|(c, i)| (c.clone(), *i))
            .collect();
        let split: Vec<(String, Vec<(String, usize)>)> = columns
            .split
            .iter()
            .filter(|(code, _)| !columns.answers.contains_key(*code))
            .map(|(c, v)| (c.clone(), v.clone()))
            .collect();
        for (code, index) in answers {
            let Some(value) = self.cell(row, Some(index)) else {
                continue;
            };
            if value.is_empty() {
                continue;
            }
            let Some((question, _)) = form.locate(&code) else {
                continue;
            };
            written.insert(code.clone(), value.to_owned());
            match &question.kind {
                QuestionKind::Multiple { .. } => fields.extend(
                    value
                        .split_whitespace()
                        .map(|v| (code.clone(), v.to_owned())),
                ),
                kind => fields.push((code.clone(), as_posted(kind, value))),
            }
        }
        for (code, options) in split {
            for (option, index) in options {
                let ticked = self
                    .cell(row, Some(index))
                    .is_some_and(|v| matches!(v.to_lowercase().as_str(), "1" | "true"));
                if ticked {
                    fields.push((code.clone(), option));
                }
            }
        }
        (fields, written)
    }
}

/// Checks every row of an export against the frame; all-or-nothing.
fn check_rows(
    rows: Vec<Row>,
    file: &str,
    frame: &ImportFrame<'_>,
) -> Result<CheckedFile, Vec<RowError>> {
    let mut rows = rows.into_iter().filter(|r| !r.is_blank());
    let Some(header) = rows.next() else {
        return Err(vec![RowError::file(file, msg("list.file_empty", &[]))]);
    };
    let headers: Vec<String> = header
        .cells
        .iter()
        .map(|c| c.text.trim().to_owned())
        .collect();
    let meta = meta_columns(&headers, frame.forms);
    let mut file_errors = Vec::new();
    if meta.instance.is_none() && meta.uuid.is_none() && meta.key.is_none() {
        file_errors.push(RowError::file(file, msg("field.no_instance_column", &[])));
    }
    let resolve_flag = |value: Option<&str>, column: &'static str| {
        value.map(|v| {
            let found = if column == "unit" {
                frame.units.resolve_unit(v.trim())
            } else {
                frame.groups.resolve_group(v.trim())
            };
            matched(column, v.trim(), found)
        })
    };
    let unit_flag = resolve_flag(frame.unit, "unit");
    let group_flag = resolve_flag(frame.group, "group");
    for flag in [&unit_flag, &group_flag].into_iter().flatten() {
        if let Err(message) = flag {
            file_errors.push(RowError::file(file, message.clone()));
        }
    }
    if !file_errors.is_empty() {
        return Err(file_errors);
    }
    let mut reader = Reader {
        file,
        headers,
        header_row: header.row,
        meta,
        frame,
        unit_flag,
        group_flag,
        columns: HashMap::new(),
        errors: Vec::new(),
    };
    let mut out: Vec<FieldSubmission> = Vec::new();
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut repeated = 0;
    for row in rows {
        let Some(submission) = reader.row(&row) else {
            continue;
        };
        match seen.get(&submission.key) {
            Some(&first) => {
                let earlier = &out[first];
                if earlier.unit == submission.unit
                    && earlier.group == submission.group
                    && earlier.answers == submission.answers
                {
                    repeated += 1;
                } else {
                    let first_row = earlier.row.to_string();
                    let header = reader.header(
                        reader
                            .meta
                            .instance
                            .or(reader.meta.uuid)
                            .or(reader.meta.key),
                        "instanceID",
                    );
                    reader.error(
                        row.row,
                        header,
                        msg("field.instance_repeated", &[("row", &first_row)]),
                    );
                }
            }
            None => {
                seen.insert(submission.key.clone(), out.len());
                out.push(submission);
            }
        }
    }
    if reader.errors.is_empty() && out.is_empty() {
        reader
            .errors
            .push(RowError::file(file, msg("field.no_submissions", &[])));
    }
    if !reader.errors.is_empty() {
        return Err(reader.errors);
    }
    // A column is ignored when no questionnaire the file's rows used knows it.
    let mut warnings = Vec::new();
    for (i, header) in reader.headers.iter().enumerate() {
        let unknown_everywhere =
            !reader.columns.is_empty() && reader.columns.values().all(|c| c.unknown.contains(&i));
        if unknown_everywhere {
            warnings.push(RowError::at(
                file,
                reader.header_row,
                Some(shown(header)),
                msg("field.column_ignored", &[]),
            ));
        }
    }
    Ok(CheckedFile {
        submissions: out,
        repeated,
        warnings,
    })
}

#[cfg(test)]
mod tests;
