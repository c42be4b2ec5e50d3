//! Which column of an export is what: metadata, the unit and group, and the answer code (or
//! Kobo's split option) each other column names in a questionnaire.

use std::collections::{BTreeMap, HashMap};

use crate::domain::instrument::{Instrument, QuestionKind};
use crate::domain::tabular::{RowError, msg, shown};

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
pub(super) struct MetaColumns {
    pub(super) instance: Option<usize>,
    pub(super) uuid: Option<usize>,
    pub(super) key: Option<usize>,
    pub(super) submitted: Option<usize>,
    pub(super) start: Option<usize>,
    pub(super) end: Option<usize>,
    pub(super) unit: Option<usize>,
    pub(super) group: Option<usize>,
    /// Every column that is metadata (ignored as an answer).
    all: Vec<usize>,
}

/// Where each answer code of one questionnaire is in the file.
#[derive(Debug, Default)]
pub(super) struct FormColumns {
    /// Answer code → column.
    pub(super) answers: HashMap<String, usize>,
    /// Multiple-choice code → (option value, column) of Kobo's split columns.
    pub(super) split: HashMap<String, Vec<(String, usize)>>,
    /// Columns that answer nothing in this questionnaire.
    pub(super) unknown: Vec<usize>,
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
pub(super) fn meta_columns(
    headers: &[String],
    forms: &BTreeMap<String, Instrument>,
) -> MetaColumns {
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
pub(super) fn form_columns(
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
