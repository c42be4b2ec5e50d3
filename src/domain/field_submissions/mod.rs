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
//! `YYYY-MM-DD` or as Excel dates. Each row is then decoded by [`decode_form`](crate::domain::answers::decode_form) exactly as a web
//! response is: required answers, relevance (answers to questions that are not relevant are
//! dropped, as the web form drops them), constraints, option values and ranges.
//!
//! # Rules
//!
//! * Every problem is reported with its row (as the spreadsheet shows it) and column header;
//!   any problem means nothing is stored.
//! * A repeated instance ID with the same unit, group and answers is kept once (an export
//!   joined twice); with different ones it is an error naming both rows.
//!
//! # Files
//!
//! This file holds the types, the entry point and the file-wide rules; `columns` finds what
//! each column is, `reader` reads the rows, and `values` turns cells into posted values and
//! problems into messages.

mod columns;
mod reader;
#[cfg(test)]
mod tests;
mod values;

use std::collections::{BTreeMap, HashMap};

use sha2::{Digest, Sha256};

use crate::domain::answers::Answers;
use crate::domain::instrument::Instrument;
use crate::domain::respondent_list::{GroupLookup, UnitLookup};
use crate::domain::tabular::{Row, RowError, msg, read_csv, read_first_sheet, shown};
use crate::domain::xlsx::Limits;

use chrono::NaiveDate;
use columns::meta_columns;
use reader::Reader;
use values::matched;

pub use values::parse_time;

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
