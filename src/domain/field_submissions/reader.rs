//! Reading the rows of an export one by one: each cell checked, the unit, group, instance ID
//! and times found, and the answers decoded as a web response's are.

use std::collections::HashMap;

use chrono::NaiveDateTime;

use super::columns::{FormColumns, MetaColumns, form_columns};
use super::values::{answer_message, as_posted, matched, parse_time};
use super::{FieldSubmission, ImportFrame, submission_key};
use crate::domain::answers::decode_form;
use crate::domain::instrument::{Instrument, QuestionKind};
use crate::domain::tabular::{Row, RowError, msg, shown};
use crate::i18n::Localized;

/// Per-file state while rows are read.
pub(super) struct Reader<'a> {
    pub(super) file: &'a str,
    pub(super) headers: Vec<String>,
    pub(super) header_row: u32,
    pub(super) meta: MetaColumns,
    pub(super) frame: &'a ImportFrame<'a>,
    /// The flags, resolved once: `Err` holds the message for rows that need them.
    pub(super) unit_flag: Option<Result<String, Localized>>,
    pub(super) group_flag: Option<Result<String, Localized>>,
    /// Group code → its questionnaire's columns (built when a row first needs them).
    pub(super) columns: HashMap<String, FormColumns>,
    pub(super) errors: Vec<RowError>,
}

impl Reader<'_> {
    pub(super) fn header(&self, index: Option<usize>, fallback: &str) -> Option<String> {
        Some(
            index
                .and_then(|i| self.headers.get(i))
                .map_or_else(|| fallback.to_owned(), |h| shown(h)),
        )
    }

    pub(super) fn error(&mut self, row: u32, column: Option<String>, message: Localized) {
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
    pub(super) fn row(&mut self, row: &Row) -> Option<FieldSubmission> {
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
