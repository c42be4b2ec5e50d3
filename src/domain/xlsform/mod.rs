//! XLSForm import (the KoboToolbox / ODK spreadsheet standard) into a validated [`Instrument`].
//!
//! Sheets `survey`, `choices` and `settings` are read (names matched case-insensitively). Only
//! the subset that maps onto the khaosat model is accepted; everything else is an error naming
//! the sheet, the row as Excel shows it, and the column letter with its header, e.g.
//! `survey!C7 (relevant): unsupported function 'count-selected'`. All errors are reported, the
//! first real cause first: one problem found in many cells is one line naming the other cells,
//! and errors that only follow from an earlier one come last, counted.
//! The mapping is documented in `docs/instrument-format.md`.
//!
//! - Headers are read in every spelling pyxform accepts ([`headers`]): any case, stray
//!   spaces, `label:english`, `label::Tiếng Việt`, `list name`, `bind::…`, `media::image`.
//! - `begin group` / `end group` become sections (a group inside one is folded into it, its
//!   condition joined to its questions'); questions outside any group go
//!   into a default section per run of ungrouped rows (`main`, `main_2`, ...). A `note` that is
//!   the first row of a group becomes the section's introduction.
//! - `select_one L` (and `select one from L`, ...) → `single`, `select_multiple L` →
//!   `multiple`, `integer`, `decimal`, `text`, `date` map directly; `string`, `int`,
//!   `phone number` → text, `percentage` → integer 0–100, `range` → integer between its start
//!   and end, `acknowledge` → a single choice "OK". Metadata rows (`start`, `end`, `today`,
//!   `deviceid`, `username`, ...) are skipped. Repeats, geo types, media, times,
//!   `select_one_from_file`, external data (`pulldata`, `instance(…)`, `search()`) are refused,
//!   each saying what to do instead.
//! - Labels/hints: `label`, `label::Vietnamese (vi)`, `label::English (en)`, `label::Tiếng
//!   Việt`, `label:english`, ... A missing language falls back to the plain `label`, then to
//!   the other language, then to any other language (which is reported once, as not shown).
//! - `relevant` / `constraint` are translated from the XPath subset described in the docs;
//!   a numeric constraint made only of bounds (`. >= 1 and . <= 10`) becomes `min` / `max`.
//! - Settings default as in XLSForm: the code is `form_id`, else the file name; the version is
//!   `version` (free text read by [`headers::version_from_text`]), else 1. The respondent
//!   group is khaosat's own: from [`XlsFormOptions`], else a `group` column in `settings`;
//!   without one, [`read_xlsform`] still checks the form ([`XlsFormImport::group_missing`]).
//! - khaosat extensions: a `valid` column in `choices` (`no` marks "don't know"), a `group`
//!   column in `settings`, and the `khaosat_*` columns and nested battery groups that the
//!   export ([`export_xlsform`]) writes so that a questionnaire reads back unchanged (read in
//!   `extensions`).
//! - Workbooks are read through [`crate::domain::xlsx`] within [`XLSX_LIMITS`]: a value beyond
//!   column IV, or a workbook that unpacks too large, is refused as a whole. An old binary
//!   `.xls` workbook is refused with the advice to save it as `.xlsx`.
//!
//! One concept per file: this file holds the entry points and walks the survey sheet into a
//! draft (groups, rows); `sections` places the questions on pages; `question` reads one row
//! into a question; `choices` reads the `choices` sheet and `settings` the `settings` sheet;
//! `sheet_checks` makes the checks that span a whole sheet (languages, media, external data);
//! `sheet` reads a workbook's sheets and names cells; `headers` holds the spellings;
//! `features` the question features shared with khaosat (calculate, or_other, choice_filter,
//! defaults, appearances, hyphenated names, folded groups); `xpath` translates conditions in,
//! `to_xpath` out; `export` writes a questionnaire as XLSForm and `extensions` reads back the
//! `khaosat_*` columns it adds.

mod choices;
mod export;
mod extensions;
#[cfg(test)]
mod feature_tests;
mod features;
mod headers;
#[cfg(test)]
mod lenient_tests;
mod question;
mod sections;
mod settings;
mod sheet;
mod sheet_checks;
#[cfg(test)]
mod test_support;
mod to_xpath;
mod xpath;

use std::collections::BTreeSet;

use crate::domain::expr::Expr;
use crate::domain::instrument::{
    At, DraftInstrument, DraftQuestion, DraftSection, Instrument, InstrumentError, Location,
    RespondentGroup, Text, group_errors, limit_errors, validate,
};
use crate::domain::xlsx::Limits;
use crate::i18n::Localized;

use export::ext;
use extensions::OpenBattery;
use headers::{RowType, row_type};
use sections::{Loose, OpenGroup};
use sheet::{Sheet, read_sheets};
use to_xpath::RefKind;

pub use export::export_xlsform;

/// What reading an XLSForm workbook may cost: 10 MiB of file unpacking to at most 100 MiB, and
/// room for far more than a questionnaire needs (a form with 10,000 rows and many translated
/// columns fits).
pub const XLSX_LIMITS: Limits = Limits {
    max_file_bytes: 10 * 1024 * 1024,
    max_unpacked_bytes: 100 * 1024 * 1024,
    max_shared_strings: 1_000_000,
    max_cells: 1_000_000,
    max_text_bytes: 32 * 1024 * 1024,
    max_columns: 256,
};

/// Most rows read from one sheet.
pub const MAX_ROWS: usize = 10_000;

/// Values chosen at import time; each one, when given, wins over the `settings` sheet.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct XlsFormOptions {
    /// The instrument code (otherwise `settings.form_id`, otherwise the file name).
    pub code: Option<String>,
    /// The version (otherwise `settings.version`, otherwise 1).
    pub version: Option<u32>,
    /// The respondent group (otherwise the `settings.group` column).
    pub group: Option<RespondentGroup>,
}

/// A workbook read into an instrument, with what the reader noticed without refusing it.
#[derive(Debug, Clone)]
pub struct XlsFormImport {
    /// The validated instrument (with a placeholder group when [`Self::group_missing`]).
    pub instrument: Instrument,
    /// Located remarks that do not stop the import: a language that is not shown, choice
    /// images, a code or version derived from free text.
    pub warnings: Vec<InstrumentError>,
    /// True when neither the options nor the `settings` sheet gave a respondent group: the
    /// form is valid, but it cannot be stored until a group is chosen.
    pub group_missing: bool,
}

/// The error saying that a group must be chosen, and how.
pub fn no_group_error(file_name: &str) -> InstrumentError {
    InstrumentError {
        file: file_name.to_owned(),
        location: Location::File,
        message: Localized::new("xlsform.no_group", &[]),
    }
}

/// True for an old binary Excel workbook (`.xls`, an OLE compound file), which is not read.
pub fn is_legacy_xls(file_name: &str, bytes: &[u8]) -> bool {
    bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1])
        || (file_name.to_ascii_lowercase().ends_with(".xls") && !bytes.starts_with(b"PK"))
}

/// Imports an XLSForm workbook that must be complete, group included. `file_name` is only used
/// in messages, the provenance note and as the default code.
pub fn import_xlsform(
    bytes: &[u8],
    file_name: &str,
    options: &XlsFormOptions,
) -> Result<Instrument, Vec<InstrumentError>> {
    let read = read_xlsform(bytes, file_name, options)?;
    if read.group_missing {
        return Err(vec![no_group_error(file_name)]);
    }
    Ok(read.instrument)
}

/// Reads and checks an XLSForm workbook; a missing respondent group is not an error here (see
/// [`XlsFormImport::group_missing`]).
pub fn read_xlsform(
    bytes: &[u8],
    file_name: &str,
    options: &XlsFormOptions,
) -> Result<XlsFormImport, Vec<InstrumentError>> {
    let file_error = |message| {
        vec![InstrumentError {
            file: file_name.to_owned(),
            location: Location::File,
            message,
        }]
    };
    if is_legacy_xls(file_name, bytes) {
        return Err(file_error(Localized::new("xlsform.old_xls", &[])));
    }
    let sheets = read_sheets(bytes).map_err(file_error)?;
    let mut importer = Importer {
        file: file_name,
        errors: Vec::new(),
        warnings: Vec::new(),
        follow_ons: Vec::new(),
        group_missing: false,
        or_other: BTreeSet::new(),
        metadata: BTreeSet::new(),
        ext: extensions::Found::default(),
    };
    let draft = importer.build(sheets, options);
    let mut errors = importer.errors;
    errors.extend(importer.follow_ons);
    let result = match draft {
        Some(d) => validate(d, file_name, errors),
        None => Err(errors),
    };
    match result {
        Ok(instrument) => Ok(XlsFormImport {
            instrument,
            warnings: importer.warnings,
            group_missing: importer.group_missing,
        }),
        Err(errors) => Err(limit_errors(group_errors(errors), file_name)),
    }
}

/// Survey columns that change a form's meaning but that we cannot represent.
const UNSUPPORTED_COLUMNS: [&str; 3] = ["repeat_count", "trigger", "read_only"];

struct Importer<'f> {
    file: &'f str,
    errors: Vec<InstrumentError>,
    /// Remarks that do not stop the import.
    warnings: Vec<InstrumentError>,
    /// Errors that only follow from an earlier one, listed last.
    follow_ons: Vec<InstrumentError>,
    /// No respondent group was given.
    group_missing: bool,
    /// Codes of the `select_one LIST or_other` questions, whose list gains "other" once the
    /// lists are read.
    or_other: BTreeSet<String>,
    /// Names of the metadata rows (`start`, `deviceid`, ...), which khaosat does not collect.
    metadata: BTreeSet<String>,
    /// What the khaosat extension columns told (see `extensions`).
    ext: extensions::Found,
}

impl Importer<'_> {
    fn err(&mut self, at: Location, key: &'static str, args: &[(&'static str, &str)]) {
        self.report(at, Localized::new(key, args));
    }

    fn report(&mut self, at: Location, message: Localized) {
        self.errors.push(InstrumentError {
            file: self.file.to_owned(),
            location: at,
            message,
        });
    }

    fn warn(&mut self, at: Location, key: &'static str, args: &[(&'static str, &str)]) {
        self.warnings.push(InstrumentError {
            file: self.file.to_owned(),
            location: at,
            message: Localized::new(key, args),
        });
    }

    fn build(&mut self, sheets: Vec<Sheet>, options: &XlsFormOptions) -> Option<DraftInstrument> {
        let mut sheets = sheets;
        if let Some(survey) = sheets.iter_mut().find(|s| s.name == "survey") {
            self.hyphenated_names(survey);
        }
        let find = |name: &str| sheets.iter().find(|s| s.name == name);
        let Some(survey) = find("survey") else {
            self.err(Location::File, "xlsform.no_survey_sheet", &[]);
            return None;
        };
        if survey.col("type").is_none() || survey.col("name").is_none() {
            self.err(Location::File, "xlsform.survey_columns", &[]);
            return None;
        }
        self.other_languages(&sheets, &mut BTreeSet::new());
        self.survey_media(survey);
        self.external_data(survey);
        let choices = find("choices");
        let filter_columns = features::choice_filter_columns(survey);
        let mut choice_lists = choices
            .map(|c| self.choices(c, &filter_columns))
            .unwrap_or_default();
        let choices_readable = choices.is_some_and(|c| c.col("list_name").is_some());
        let mut sections = self.survey(survey, choices.is_some(), choices_readable);
        self.expand_or_other(&mut sections, &mut choice_lists);
        self.metadata_placeholders(&mut sections);
        self.settle_generated_lists(&mut choice_lists, &mut sections);

        let settings = find("settings");
        Some(self.with_settings(settings, options, choice_lists, sections))
    }

    fn survey(
        &mut self,
        sheet: &Sheet,
        has_choices: bool,
        choices_readable: bool,
    ) -> Vec<DraftSection> {
        let mut sections: Vec<DraftSection> = Vec::new();
        let mut group: Option<OpenGroup> = None;
        let mut battery: Option<OpenBattery> = None;
        let mut loose = Loose::default();
        // The conditions of the groups open inside the current page, outermost first.
        let mut inner: Vec<Option<At<Expr>>> = Vec::new();
        // Select questions left unread because their choice lists are missing.
        let mut orphan_selects: Option<(Location, usize)> = None;
        for row in &sheet.rows {
            for key in UNSUPPORTED_COLUMNS {
                if let Some((_, i)) = sheet.get(row, key) {
                    self.err(
                        sheet.loc(row, i),
                        "xlsform.unsupported_column",
                        &[("column", key)],
                    );
                }
            }
            let Some((raw_type, type_i)) = sheet.get(row, "type") else {
                if sheet.get(row, "name").is_some() {
                    self.err(sheet.loc_of(row, "type"), "xlsform.missing_type", &[]);
                }
                continue;
            };
            let type_at = sheet.loc(row, type_i);
            let parsed = row_type(raw_type);
            // Inside a battery group every row is an item, until the group ends.
            if let Some(open) = &mut battery {
                match parsed {
                    RowType::EndGroup => {
                        if let Some(b) = battery.take() {
                            let question = self.finish_battery(b);
                            loose.place(question, &mut group);
                        }
                    }
                    RowType::Metadata => {}
                    _ => {
                        let kind = raw_type
                            .split_whitespace()
                            .collect::<Vec<_>>()
                            .join(" ")
                            .to_lowercase();
                        self.battery_row(sheet, row, &kind, type_at, open);
                    }
                }
                continue;
            }
            let mark = self.khaosat_type(sheet, row);
            // Marks on structural rows are checked here; question rows check their own.
            if let Some((m, at)) = &mark {
                let fits = match parsed {
                    RowType::BeginGroup => m == ext::BATTERY,
                    RowType::Note => m == ext::INSTRUCTIONS || m == ext::NOTE,
                    RowType::EndGroup => false,
                    _ => true,
                };
                if !fits {
                    self.mismatched_type(at.clone(), m);
                }
            }
            let mark = mark.map(|(m, _)| m);
            match parsed {
                RowType::BeginGroup if mark.as_deref() == Some(ext::BATTERY) => {
                    battery = Some(self.begin_battery(sheet, row, type_at));
                }
                // A group inside a page is folded into it: its condition joins those of
                // the questions it holds (a page is the unit khaosat shows).
                RowType::BeginGroup if group.is_some() => {
                    inner.push(self.relevant(sheet, row, RefKind::Text));
                }
                RowType::BeginGroup => {
                    loose.close(&mut sections);
                    let name = sheet.get(row, "name").map(|(n, i)| (n, sheet.loc(row, i)));
                    if name.is_none() {
                        self.err(sheet.loc_of(row, "name"), "xlsform.group_needs_name", &[]);
                    }
                    let relevant = self.relevant(sheet, row, RefKind::Text);
                    let title = sheet
                        .text(row, "label")
                        .or_else(|| name.as_ref().map(|(n, _)| Text::new(*n, *n)));
                    group = Some(OpenGroup {
                        name: name
                            .as_ref()
                            .map(|(n, _)| (*n).to_owned())
                            .unwrap_or_default(),
                        at: type_at.clone(),
                        section: DraftSection {
                            at: type_at,
                            code: name.map(|(n, at)| At::new(n.to_owned(), at)),
                            title,
                            intro: None,
                            relevant,
                            questions: Vec::new(),
                        },
                    });
                }
                RowType::EndGroup if !inner.is_empty() => {
                    inner.pop();
                }
                RowType::EndGroup => match group.take() {
                    Some(open) => sections.push(open.section),
                    None => self.err(type_at, "xlsform.end_without_begin", &[]),
                },
                RowType::Repeat => {
                    self.err(type_at, "xlsform.repeats", &[]);
                }
                // The instructions: a note before any page.
                RowType::Note if mark.as_deref() == Some(ext::INSTRUCTIONS) => {
                    if group.is_none() && sections.is_empty() && loose.is_empty() {
                        self.ext.instructions = sheet.text(row, "label");
                    } else {
                        self.err(type_at, "xlsform.instructions_position", &[]);
                    }
                }
                // A note opening a group introduces its page; any other note is shown where
                // it stands.
                RowType::Note
                    if mark.as_deref() != Some(ext::NOTE)
                        && group.as_ref().is_some_and(|open| {
                            open.section.questions.is_empty()
                                && open.section.intro.is_none()
                                && sheet.get(row, "relevant").is_none()
                        }) =>
                {
                    if let Some(open) = &mut group {
                        open.section.intro = sheet.text(row, "label");
                    }
                }
                RowType::Metadata => {
                    if let Some((name, _)) = sheet.get(row, "name") {
                        self.metadata.insert(name.to_owned());
                    }
                }
                RowType::Select { .. } if !choices_readable => {
                    // The choices sheet is missing or unreadable: that is the real cause,
                    // reported once; the questions that need it are counted after it and kept
                    // by name only, so that nothing else cascades from them.
                    if !has_choices && orphan_selects.is_none() {
                        self.err(type_at.clone(), "xlsform.no_choices_sheet", &[]);
                    }
                    orphan_selects.get_or_insert((type_at.clone(), 0)).1 += 1;
                    let mut q = DraftQuestion::new(type_at);
                    q.code = sheet
                        .get(row, "name")
                        .map(|(n, i)| At::new(n.to_owned(), sheet.loc(row, i)));
                    loose.place(q, &mut group);
                }
                parsed => {
                    let Some(mut question) = self.question(sheet, row, &parsed, type_at) else {
                        continue;
                    };
                    question.relevant =
                        features::all_of(inner.iter().flatten().cloned(), question.relevant);
                    let other = question
                        .code
                        .as_ref()
                        .filter(|c| self.or_other.contains(&c.value))
                        .and_then(|_| features::other_question(&question));
                    loose.place(question, &mut group);
                    if let Some(other) = other {
                        loose.place(other, &mut group);
                    }
                }
            }
        }
        if let Some(b) = battery {
            let at = b.at().clone();
            let name = b.name().to_owned();
            self.err(at, "xlsform.group_not_closed", &[("group", &name)]);
            let question = self.finish_battery(b);
            loose.place(question, &mut group);
        }
        if let Some(open) = group {
            self.err(
                open.at,
                "xlsform.group_not_closed",
                &[("group", &open.name)],
            );
            sections.push(open.section);
        }
        loose.close(&mut sections);
        if let Some((at, count)) = orphan_selects {
            self.follow_ons.push(InstrumentError {
                file: self.file.to_owned(),
                location: at,
                message: Localized::new(
                    "xlsform.selects_without_choices",
                    &[("count", &count.to_string())],
                ),
            });
        }
        sections
    }
}

/// A yes/no cell (`required`, `valid`, ...) in any of the spellings forms use.
fn yes_no(v: &str) -> Option<bool> {
    match v.trim().to_lowercase().as_str() {
        "yes" | "true" | "1" | "true()" | "có" => Some(true),
        "no" | "false" | "0" | "false()" | "không" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests;
