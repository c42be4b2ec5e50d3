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
//! One concept per file: this file walks the sheets into a draft (groups, rows, questions);
//! `sheet` reads a workbook's sheets and names cells; `headers` holds the spellings;
//! `features` the question features shared with khaosat (calculate, or_other, choice_filter,
//! defaults, appearances, hyphenated names, folded groups); `xpath` translates conditions in,
//! `to_xpath` out; `export` writes a questionnaire as XLSForm and `extensions` reads back the
//! `khaosat_*` columns it adds.

mod export;
mod extensions;
#[cfg(test)]
mod feature_tests;
mod features;
mod headers;
#[cfg(test)]
mod lenient_tests;
mod sheet;
#[cfg(test)]
mod test_support;
mod to_xpath;
mod xpath;

use std::collections::BTreeSet;

use crate::domain::expr::{CmpOp, Expr, Literal, SELF_REF};
use crate::domain::instrument::{
    At, DraftChoices, DraftInstrument, DraftList, DraftOption, DraftQuestion, DraftSection,
    Instrument, InstrumentError, Location, Number, RespondentGroup, Text, group_errors,
    limit_errors, validate,
};
use crate::domain::xlsx::Limits;
use crate::i18n::Localized;

use export::ext;
use extensions::OpenBattery;
use headers::{ColumnLang, MEDIA_KEYS, RowType, row_type};
use sheet::{Sheet, SheetRow, read_sheets};
use to_xpath::RefKind;
use xpath::translate_xpath;

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

/// The group an instrument carries while no group was given, so that a form can be checked
/// before anyone has said who answers it. [`XlsFormImport::group_missing`] says so; such an
/// instrument is never stored.
const PLACEHOLDER_GROUP: RespondentGroup = RespondentGroup::Citizen;

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

/// Survey columns whose cells are XPath expressions, searched for external data.
const EXPRESSION_COLUMNS: [&str; 9] = [
    "relevant",
    "constraint",
    "calculation",
    "choice_filter",
    "default",
    "repeat_count",
    "required",
    "read_only",
    "trigger",
];

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

struct OpenGroup {
    section: DraftSection,
    at: Location,
    name: String,
}

/// The default section of a run of questions outside any group (`main`, `main_2`, ...).
#[derive(Default)]
struct Loose {
    section: Option<DraftSection>,
    count: usize,
}

impl Loose {
    fn is_empty(&self) -> bool {
        self.section.is_none() && self.count == 0
    }

    /// Ends the current run of ungrouped questions.
    fn close(&mut self, sections: &mut Vec<DraftSection>) {
        if let Some(l) = self.section.take() {
            sections.push(l);
        }
    }

    /// Adds a question to the open group, or else to the current default section.
    fn place(&mut self, question: DraftQuestion, group: &mut Option<OpenGroup>) {
        if let Some(open) = group {
            open.section.questions.push(question);
            return;
        }
        let count = &mut self.count;
        let section = self.section.get_or_insert_with(|| {
            *count += 1;
            let code = if *count == 1 {
                "main".to_owned()
            } else {
                format!("main_{count}")
            };
            DraftSection {
                at: question.at.clone(),
                code: Some(At::new(code, question.at.clone())),
                title: Some(Text::new("Câu hỏi chung", "General questions")),
                intro: None,
                relevant: None,
                questions: Vec::new(),
            }
        });
        section.questions.push(question);
    }
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

    /// Warns once per language that khaosat does not show, at the first header using it, when
    /// any cell of such a column holds text.
    fn other_languages(&mut self, sheets: &[Sheet], warned: &mut BTreeSet<String>) {
        for sheet in sheets {
            for (i, c) in sheet.columns.iter().enumerate() {
                let ColumnLang::Other(name) = &c.lang else {
                    continue;
                };
                let used = sheet
                    .rows
                    .iter()
                    .any(|r| r.cells.get(i).is_some_and(|v| !v.is_empty()));
                if used && warned.insert(name.to_lowercase()) {
                    self.warn(
                        sheet.header_loc(i),
                        "xlsform.warn.language",
                        &[("language", name)],
                    );
                }
            }
        }
    }

    /// Refuses pictures, sound and film in the survey (each filled cell; the identical
    /// messages are shown as one).
    fn survey_media(&mut self, sheet: &Sheet) {
        for row in &sheet.rows {
            for (i, c) in sheet.columns.iter().enumerate() {
                if MEDIA_KEYS.contains(&c.key.as_str())
                    && row.cells.get(i).is_some_and(|v| !v.is_empty())
                {
                    self.err(
                        sheet.loc(row, i),
                        "xlsform.refused.media_column",
                        &[("column", &c.key)],
                    );
                }
            }
        }
    }

    /// Refuses external data (`pulldata()`, `instance('…')`) in any expression cell and
    /// `search()` appearances, each filled cell once.
    fn external_data(&mut self, sheet: &Sheet) {
        for row in &sheet.rows {
            for (i, c) in sheet.columns.iter().enumerate() {
                let Some(value) = row.cells.get(i).filter(|v| !v.is_empty()) else {
                    continue;
                };
                let compact: String = value.chars().filter(|c| !c.is_whitespace()).collect();
                let key = if c.key == "appearance" {
                    compact
                        .contains("search(")
                        .then_some("xlsform.refused.search")
                } else if EXPRESSION_COLUMNS.contains(&c.key.as_str()) {
                    if compact.contains("pulldata(") {
                        Some("xlsform.refused.pulldata")
                    } else if compact.contains("instance(") {
                        Some("xlsform.refused.instance")
                    } else {
                        None
                    }
                } else {
                    None
                };
                if let Some(key) = key {
                    self.err(sheet.loc(row, i), key, &[]);
                }
            }
        }
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
        let setting = |key: &str| -> Option<(String, Location)> {
            let s = settings?;
            let row = s.rows.first()?;
            s.get(row, key).map(|(v, i)| (v.to_owned(), s.loc(row, i)))
        };
        let code = match &options.code {
            Some(c) => At::new(c.clone(), Location::File),
            None => {
                let (text, at) = setting("form_id").unwrap_or_else(|| {
                    let stem = std::path::Path::new(self.file)
                        .file_stem()
                        .map_or_else(String::new, |s| s.to_string_lossy().into_owned());
                    (stem, Location::File)
                });
                let code = headers::code_from_text(&text);
                if at == Location::File {
                    self.warn(
                        at.clone(),
                        "xlsform.warn.code_from_file",
                        &[("code", &code)],
                    );
                } else if code != text {
                    self.warn(
                        at.clone(),
                        "xlsform.warn.code_changed",
                        &[("form_id", &text), ("code", &code)],
                    );
                }
                At::new(code, at)
            }
        };
        let version = match options.version {
            Some(v) => At::new(i64::from(v), Location::File),
            None => match setting("version") {
                Some((v, at)) => {
                    let (n, exact) = headers::version_from_text(&v);
                    if !exact {
                        self.warn(
                            at.clone(),
                            "xlsform.warn.version",
                            &[("version", &v), ("number", &n.to_string())],
                        );
                    }
                    At::new(i64::from(n), at)
                }
                None => At::new(1, Location::File),
            },
        };
        let group = match options.group {
            Some(g) => At::new(g.code().to_owned(), Location::File),
            None => match setting("group") {
                // `Civil servant` and `civil_servant` both name the group.
                Some((v, at)) => At::new(
                    v.split_whitespace()
                        .collect::<Vec<_>>()
                        .join("_")
                        .to_lowercase(),
                    at,
                ),
                None => {
                    self.group_missing = true;
                    At::new(PLACEHOLDER_GROUP.code().to_owned(), Location::File)
                }
            },
        };
        let title = settings
            .and_then(|s| s.rows.first().and_then(|row| s.text(row, "form_title")))
            .unwrap_or_else(|| Text::new(code.value.clone(), code.value.clone()));
        let title = match setting(ext::TITLE_EN) {
            Some((en, _)) => Text::new(title.vi, en),
            None => title,
        };
        // An exported questionnaire keeps its own provenance.
        let provenance = setting(ext::PROVENANCE)
            .map(|(p, _)| p)
            .unwrap_or_else(|| format!("Imported from XLSForm '{}'", self.file));
        let continues = self.settings_continues(
            setting(ext::CONTINUES_INSTRUMENT),
            setting(ext::CONTINUES_VERSION),
        );
        Some(DraftInstrument {
            at: Location::File,
            code: Some(code),
            version: Some(version),
            group: Some(group),
            provenance: Some(provenance),
            title: Some(title),
            instructions: self.ext.instructions.take(),
            continues,
            choice_lists,
            sections,
        })
    }

    fn choices(&mut self, sheet: &Sheet, filter_columns: &BTreeSet<String>) -> Vec<DraftList> {
        if sheet.col("list_name").is_none() || sheet.col("name").is_none() {
            self.err(Location::File, "xlsform.choices_columns", &[]);
            return Vec::new();
        }
        let mut lists: Vec<DraftList> = Vec::new();
        let mut media_warned = false;
        for row in &sheet.rows {
            let Some((list, list_i)) = sheet.get(row, "list_name") else {
                continue;
            };
            let name = sheet.get(row, "name");
            let value = match name {
                Some((v, i)) => Some(At::new(v.to_owned(), sheet.loc(row, i))),
                None => {
                    self.err(
                        sheet.loc_of(row, "name"),
                        "xlsform.missing_choice_name",
                        &[],
                    );
                    None
                }
            };
            let media = sheet.first_of(row, &MEDIA_KEYS);
            if let Some(i) = media
                && !media_warned
            {
                media_warned = true;
                let column = sheet.columns.get(i).map_or("", |c| c.key.as_str());
                self.warn(
                    sheet.loc(row, i),
                    "xlsform.warn.choice_media",
                    &[("column", column)],
                );
            }
            let label = match (sheet.text(row, "label"), media, name) {
                (Some(label), _, _) => Some(label),
                // A picture choice: its name is the only text there is to show.
                (None, Some(_), Some((n, _))) => Some(Text::new(n, n)),
                (None, _, _) => {
                    self.err(
                        sheet.loc_of(row, "label"),
                        "xlsform.missing_choice_label",
                        &[],
                    );
                    None
                }
            };
            let valid = match sheet.get(row, "valid") {
                None => true,
                Some((v, i)) => match yes_no(v) {
                    Some(b) => b,
                    None => {
                        self.err(sheet.loc(row, i), "xlsform.valid_yes_no", &[("value", v)]);
                        true
                    }
                },
            };
            // Only the columns a choice filter reads are kept with the option.
            let attributes = filter_columns
                .iter()
                .filter_map(|c| sheet.get(row, c).map(|(v, _)| (c.clone(), v.to_owned())))
                .collect();
            let option = DraftOption {
                value,
                label,
                valid,
                attributes,
            };
            match lists.iter_mut().find(|l| l.name.value == list) {
                Some(l) => l.options.push(option),
                None => lists.push(DraftList {
                    name: At::new(list.to_owned(), sheet.loc(row, list_i)),
                    options: vec![option],
                }),
            }
        }
        lists
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

    fn condition(
        &mut self,
        sheet: &Sheet,
        row: &SheetRow,
        key: &str,
        is_constraint: bool,
    ) -> Option<At<Expr>> {
        let (src, i) = sheet.get(row, key)?;
        let at = sheet.loc(row, i);
        if features::is_external(src) {
            // Refused as external data already (see `external_data`).
            return None;
        }
        match translate_xpath(src, is_constraint) {
            Ok(e) => Some(At::new(e, at)),
            Err(message) => {
                self.report(at, message);
                None
            }
        }
    }

    /// The `start`, `end` and `step` of a `range` row's `parameters` (`start=1 end=10`), as
    /// whole-number bounds when the step is 1; otherwise the range is refused.
    fn range_bounds(
        &mut self,
        sheet: &Sheet,
        row: &SheetRow,
        type_at: &Location,
    ) -> Option<(i64, i64)> {
        let (mut start, mut end, mut step) = (1i64, 10i64, 1i64);
        let (text, at) = match sheet.get(row, "parameters") {
            Some((t, i)) => (t, sheet.loc(row, i)),
            None => ("", type_at.clone()),
        };
        let mut ok = true;
        for pair in text.split([' ', ';', ',']).filter(|p| !p.is_empty()) {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            let slot = match name.trim().to_lowercase().as_str() {
                "start" => &mut start,
                "end" => &mut end,
                "step" => &mut step,
                _ => continue,
            };
            match value.trim().parse::<i64>() {
                Ok(n) => *slot = n,
                Err(_) => ok = false,
            }
        }
        if !ok || step != 1 {
            self.err(at, "xlsform.refused.range", &[("parameters", text)]);
            return None;
        }
        Some((start.min(end), start.max(end)))
    }

    fn question(
        &mut self,
        sheet: &Sheet,
        row: &SheetRow,
        parsed: &RowType,
        type_at: Location,
    ) -> Option<DraftQuestion> {
        let mut q = DraftQuestion::new(type_at.clone());
        q.code = match sheet.get(row, "name") {
            Some((n, i)) => Some(At::new(n.to_owned(), sheet.loc(row, i))),
            None => {
                self.err(sheet.loc_of(row, "name"), "xlsform.missing_name", &[]);
                None
            }
        };
        let raw_type = sheet.get(row, "type").map_or("", |(t, _)| t);
        let kind_text = || {
            raw_type
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
                .to_lowercase()
        };
        let mut bounds: Option<(i64, i64)> = None;
        let mut inline = false;
        let (our_kind, list) = match parsed {
            RowType::Select {
                kind,
                list: Some(l),
                extra,
            } if extra.is_empty() => (*kind, Some(l.clone())),
            RowType::Select {
                kind,
                list: Some(l),
                extra,
            } if extra.len() == 1 && extra[0].eq_ignore_ascii_case("or_other") => {
                if let Some(code) = &q.code {
                    self.or_other.insert(code.value.clone());
                }
                (*kind, Some(l.clone()))
            }
            RowType::Note => ("note", None),
            RowType::Other(k) if k == "calculate" => ("calculate", None),
            RowType::Select { list: None, .. } => {
                let first = raw_type.split_whitespace().next().unwrap_or_default();
                self.err(type_at, "xlsform.select_needs_list", &[("type", first)]);
                return Some(q);
            }
            RowType::Plain(kind) => (*kind, None),
            RowType::Percentage => {
                bounds = Some((0, 100));
                ("integer", None)
            }
            RowType::Range => match self.range_bounds(sheet, row, &type_at) {
                Some(b) => {
                    bounds = Some(b);
                    ("integer", None)
                }
                None => return Some(q),
            },
            RowType::Acknowledge => {
                inline = true;
                ("single", None)
            }
            RowType::Refused(key) => {
                self.err(type_at, key, &[("type", &kind_text())]);
                // Keep the row's name (without a type) so that conditions referring to it are
                // not reported as unknown on top of this error.
                return Some(q);
            }
            _ => {
                self.err(
                    type_at,
                    "xlsform.unsupported_type",
                    &[("type", &kind_text())],
                );
                return Some(q);
            }
        };
        let our_kind = self.refined_kind(sheet, row, our_kind);
        q.kind = Some(At::new(our_kind.to_owned(), type_at.clone()));
        if let Some((min, max)) = bounds {
            q.min = Some(At::new(Number::Int(min), type_at.clone()));
            q.max = Some(At::new(Number::Int(max), type_at.clone()));
        }
        if inline {
            let ok = DraftOption {
                value: Some(At::new("OK".to_owned(), type_at.clone())),
                label: Some(Text::new("OK", "OK")),
                valid: true,
                attributes: Default::default(),
            };
            q.choices = Some(At::new(DraftChoices::Inline(vec![ok]), type_at.clone()));
        }
        q.label = sheet.text(row, "label");
        // A calculation is never shown, so it needs no label.
        if q.label.is_none() && our_kind != "calculate" {
            self.err(sheet.loc_of(row, "label"), "xlsform.missing_label", &[]);
        }
        q.hint = sheet.text(row, "hint");
        self.features(sheet, row, &mut q, our_kind);
        if let Some((v, i)) = sheet.get(row, "required") {
            match yes_no(v) {
                Some(b) => q.required = b,
                None => self.err(
                    sheet.loc(row, i),
                    "xlsform.required_yes_no",
                    &[("value", v)],
                ),
            }
        }
        let own = RefKind::of_type(our_kind);
        q.relevant = self.relevant(sheet, row, own);
        q.scored = self.scored(sheet, row);
        q.max_length = self.max_length(sheet, row);
        q.continues = self.continues(sheet, row);
        let inline = self.inline_choices(sheet, row);
        match list {
            // A yes/no question's list is the export's fixed yes/no options.
            Some(l) if our_kind == "yes_no" => {
                self.ext.yes_no_lists.insert(l);
            }
            Some(l) => {
                if inline {
                    self.ext.inline_lists.insert(l.clone());
                }
                q.choices = Some(At::new(DraftChoices::List(l), type_at));
            }
            None => {}
        }
        if let Some(code) = &q.code {
            self.ext.kinds.insert(code.value.clone(), own);
        }
        if self.exported_constraint(sheet, row, &mut q, our_kind) {
            return Some(q);
        }
        if let Some(constraint) = self.condition(sheet, row, "constraint", true) {
            let message = sheet.text(row, "constraint_message");
            // Bounds have the standard message; a form's own message keeps the constraint.
            match numeric_bounds(&constraint.value, our_kind) {
                Some((min, max)) if bounds.is_none() && message.is_none() => {
                    q.min = min.map(|n| At::new(n, constraint.at.clone()));
                    q.max = max.map(|n| At::new(n, constraint.at.clone()));
                }
                _ => {
                    q.constraint_message = message.map(|m| At::new(m, constraint.at.clone()));
                    q.constraint = Some(constraint);
                }
            }
        }
        Some(q)
    }
}

fn yes_no(v: &str) -> Option<bool> {
    match v.trim().to_lowercase().as_str() {
        "yes" | "true" | "1" | "true()" | "có" => Some(true),
        "no" | "false" | "0" | "false()" | "không" => Some(false),
        _ => None,
    }
}

/// When a constraint is only bounds on the answer itself, the min and max it implies.
fn numeric_bounds(e: &Expr, kind: &str) -> Option<(Option<Number>, Option<Number>)> {
    let parts: Vec<&Expr> = match e {
        Expr::And(xs) => xs.iter().collect(),
        other => vec![other],
    };
    let mut min = None;
    let mut max = None;
    for part in parts {
        let Expr::Compare { code, op, value } = part else {
            return None;
        };
        if code != SELF_REF {
            return None;
        }
        let bound = match (kind, value) {
            ("integer", Literal::Integer(n)) => match op {
                CmpOp::Ge => (true, Number::Int(*n)),
                CmpOp::Gt => (true, Number::Int(n.checked_add(1)?)),
                CmpOp::Le => (false, Number::Int(*n)),
                CmpOp::Lt => (false, Number::Int(n.checked_sub(1)?)),
                _ => return None,
            },
            ("decimal", Literal::Integer(_) | Literal::Decimal(_)) => {
                let n = match value {
                    Literal::Integer(i) => *i as f64,
                    Literal::Decimal(d) => d.parse::<f64>().ok()?,
                    _ => return None,
                };
                match op {
                    CmpOp::Ge => (true, Number::Float(n)),
                    CmpOp::Le => (false, Number::Float(n)),
                    _ => return None,
                }
            }
            _ => return None,
        };
        let slot = if bound.0 { &mut min } else { &mut max };
        if slot.is_some() {
            return None;
        }
        *slot = Some(bound.1);
    }
    Some((min, max))
}

#[cfg(test)]
mod tests;
