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

mod export;
mod extensions;
#[cfg(test)]
mod feature_tests;
mod features;
mod headers;
#[cfg(test)]
mod lenient_tests;
#[cfg(test)]
mod test_support;
mod to_xpath;
mod xpath;

use std::collections::BTreeSet;

use calamine::Data;

use crate::domain::expr::{Calc, ChoiceFilter, CmpOp, Expr, Literal, SELF_REF, is_valid_code};
use crate::domain::instrument::{
    At, DraftChoices, DraftInstrument, DraftList, DraftOption, DraftQuestion, DraftSection,
    Instrument, InstrumentError, Lang, Location, Number, RespondentGroup, Text, group_errors,
    limit_errors, validate,
};
use crate::domain::xlsx::{Limits, Workbook, WorkbookError, column_letters};
use crate::i18n::Localized;

use export::ext;
use extensions::OpenBattery;
use headers::{ColumnLang, MEDIA_KEYS, RowType, parse_header, row_type};
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

/// One column of a sheet.
#[derive(Debug, Clone)]
struct Column {
    letter: String,
    header: String,
    /// The canonical key (`label`, `list_name`, `constraint_message`, ...), see [`headers`].
    key: String,
    /// The language after `::` (or `:`), if any.
    lang: ColumnLang,
}

#[derive(Debug, Clone)]
struct SheetRow {
    /// 1-based row as Excel shows it.
    row: u32,
    cells: Vec<String>,
}

#[derive(Debug, Clone)]
struct Sheet {
    name: String,
    /// The row of the headers, as Excel shows it.
    header_row: u32,
    columns: Vec<Column>,
    rows: Vec<SheetRow>,
}

fn cell_text(data: &Data) -> String {
    match data {
        Data::Empty => String::new(),
        Data::String(s) => s.trim().to_owned(),
        // Excel stores typed numbers as floats; a whole number must read back as "3", not "3.0".
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        other => other.to_string().trim().to_owned(),
    }
}

/// A workbook the shared reader refused, its own words kept as the detail.
fn unreadable(error: WorkbookError) -> Localized {
    Localized::new("xlsform.unreadable", &[("detail", &error.to_string())])
}

/// Reads the `survey`, `choices` and `settings` sheets (the first of each name, ignoring case
/// and stray spaces) through the shared bounded reader.
fn read_sheets(bytes: &[u8]) -> Result<Vec<Sheet>, Localized> {
    let mut workbook = Workbook::open(bytes, XLSX_LIMITS).map_err(unreadable)?;
    let mut out: Vec<Sheet> = Vec::new();
    for name in workbook.sheet_names() {
        let lower = name.trim().to_lowercase();
        if !matches!(lower.as_str(), "survey" | "choices" | "settings")
            || out.iter().any(|s| s.name == lower)
        {
            continue;
        }
        let mut rows = workbook.read_sheet(&name).map_err(unreadable)?.into_iter();
        // The header is the first row holding anything; cells count from column A.
        let Some(header) = rows.next() else {
            out.push(Sheet {
                name: lower,
                header_row: 1,
                columns: Vec::new(),
                rows: Vec::new(),
            });
            continue;
        };
        let texts: Vec<String> = header.cells.iter().map(cell_text).collect();
        // pyxform: when any header uses `::`, a single `:` never separates a language.
        let double_colon = texts.iter().any(|h| h.contains("::"));
        let columns: Vec<Column> = texts
            .into_iter()
            .enumerate()
            .map(|(i, header)| {
                let parsed = parse_header(&header, double_colon);
                Column {
                    letter: column_letters(i),
                    header,
                    key: parsed.key,
                    lang: parsed.lang,
                }
            })
            .collect();
        let mut sheet_rows = Vec::new();
        for row in rows {
            let cells: Vec<String> = row.cells.iter().map(cell_text).collect();
            if cells.iter().all(String::is_empty) {
                continue;
            }
            if sheet_rows.len() >= MAX_ROWS {
                return Err(Localized::new(
                    "xlsform.too_many_rows",
                    &[("sheet", &name), ("max", &MAX_ROWS.to_string())],
                ));
            }
            sheet_rows.push(SheetRow {
                row: row.number,
                cells,
            });
        }
        out.push(Sheet {
            name: lower,
            header_row: header.number,
            columns,
            rows: sheet_rows,
        });
    }
    Ok(out)
}

impl Sheet {
    fn col(&self, key: &str) -> Option<usize> {
        self.columns
            .iter()
            .position(|c| c.lang == ColumnLang::Plain && c.key == key)
    }

    fn get<'r>(&self, row: &'r SheetRow, key: &str) -> Option<(&'r str, usize)> {
        let i = self.col(key)?;
        row.cells
            .get(i)
            .map(String::as_str)
            .filter(|s| !s.is_empty())
            .map(|s| (s, i))
    }

    fn loc(&self, row: &SheetRow, col: usize) -> Location {
        let (letter, header) = self
            .columns
            .get(col)
            .map(|c| (c.letter.clone(), c.header.clone()))
            .unwrap_or_else(|| (column_letters(col), String::new()));
        Location::Cell {
            sheet: self.name.clone(),
            row: row.row,
            column: letter,
            header,
        }
    }

    /// The location of a column's header cell.
    fn header_loc(&self, col: usize) -> Location {
        self.loc(
            &SheetRow {
                row: self.header_row,
                cells: Vec::new(),
            },
            col,
        )
    }

    /// The location of `key` in `row`, or of the row's first cell when the column is absent.
    fn loc_of(&self, row: &SheetRow, key: &str) -> Location {
        self.loc(row, self.col(key).unwrap_or(0))
    }

    /// The first filled cell of `row` in any column with one of `keys`, any language.
    fn first_of(&self, row: &SheetRow, keys: &[&str]) -> Option<usize> {
        self.columns.iter().enumerate().find_map(|(i, c)| {
            (keys.contains(&c.key.as_str()) && row.cells.get(i).is_some_and(|v| !v.is_empty()))
                .then_some(i)
        })
    }

    /// A bilingual text from `key` in any of its languages: each of Vietnamese and English
    /// from its own column, else the plain column, else the other one of the two, else the
    /// first other language.
    fn text(&self, row: &SheetRow, key: &str) -> Option<Text> {
        let mut plain = None;
        let mut vi = None;
        let mut en = None;
        let mut other = None;
        for (i, c) in self.columns.iter().enumerate() {
            if c.key != key {
                continue;
            }
            let Some(value) = row.cells.get(i).filter(|s| !s.is_empty()) else {
                continue;
            };
            let slot = match c.lang {
                ColumnLang::Plain => &mut plain,
                ColumnLang::Ours(Lang::Vi) => &mut vi,
                ColumnLang::Ours(Lang::En) => &mut en,
                ColumnLang::Other(_) => &mut other,
            };
            slot.get_or_insert_with(|| value.clone());
        }
        let vi_text = vi
            .clone()
            .or_else(|| plain.clone())
            .or_else(|| en.clone())
            .or_else(|| other.clone())?;
        let en_text = en.or(plain).or(vi).or(other).unwrap_or_default();
        Some(Text::new(vi_text, en_text))
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
        let filter_columns = choice_filter_columns(survey);
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

    /// XLSForm names may contain `-`, which khaosat codes cannot (a code is also a name in
    /// conditions): `q-1` becomes `q_1` in its name cell and in every `${q-1}` of the sheet,
    /// unless that name is taken. Warns once.
    fn hyphenated_names(&mut self, survey: &mut Sheet) {
        let Some(name_col) = survey.col("name") else {
            return;
        };
        let names: BTreeSet<String> = survey
            .rows
            .iter()
            .filter_map(|r| r.cells.get(name_col).cloned())
            .collect();
        let renamed: Vec<(String, String)> = names
            .iter()
            .filter(|n| n.contains('-'))
            .map(|n| (n.clone(), n.replace('-', "_")))
            .filter(|(_, new)| !names.contains(new) && is_valid_code(new))
            .collect();
        let Some((first_old, first_new)) = renamed.first().cloned() else {
            return;
        };
        for row in &mut survey.rows {
            for (i, cell) in row.cells.iter_mut().enumerate() {
                for (old, new) in &renamed {
                    if i == name_col && cell == old {
                        cell.clone_from(new);
                    } else if cell.contains("${") {
                        *cell = cell.replace(&format!("${{{old}}}"), &format!("${{{new}}}"));
                    }
                }
            }
        }
        self.warn(
            Location::File,
            "xlsform.warn.hyphens",
            &[
                ("old", &first_old),
                ("new", &first_new),
                ("count", &renamed.len().to_string()),
            ],
        );
    }

    /// `${start}`, `${deviceid}` and other metadata in labels and hints would always show
    /// empty, since khaosat does not collect them: they are left out, with one warning each.
    fn metadata_placeholders(&mut self, sections: &mut [DraftSection]) {
        let mut warned = BTreeSet::new();
        for q in sections.iter_mut().flat_map(|s| s.questions.iter_mut()) {
            for text in [&mut q.label, &mut q.hint].into_iter().flatten() {
                for name in &self.metadata {
                    let placeholder = format!("${{{name}}}");
                    if text.vi.contains(&placeholder) || text.en.contains(&placeholder) {
                        text.vi = text.vi.replace(&placeholder, "");
                        text.en = text.en.replace(&placeholder, "");
                        if warned.insert(name.clone()) {
                            self.warnings.push(InstrumentError {
                                file: self.file.to_owned(),
                                location: q.at.clone(),
                                message: Localized::new(
                                    "xlsform.warn.metadata_placeholder",
                                    &[("name", name)],
                                ),
                            });
                        }
                    }
                }
            }
        }
    }

    /// The questions written `select_one LIST or_other` get the list with "other" appended,
    /// as their own inline options (other questions sharing the list keep it unchanged).
    fn expand_or_other(&self, sections: &mut [DraftSection], lists: &mut [DraftList]) {
        for q in sections.iter_mut().flat_map(|s| s.questions.iter_mut()) {
            let Some(code) = &q.code else { continue };
            if !self.or_other.contains(&code.value) {
                continue;
            }
            if let Some(At {
                value: DraftChoices::List(name),
                at,
            }) = &q.choices
                && let Some(list) = lists.iter().find(|l| &l.name.value == name)
            {
                let at = at.clone();
                q.choices = Some(At::new(features::with_other(list.options.clone(), &at), at));
            }
        }
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
                    question.relevant = all_of(inner.iter().flatten().cloned(), question.relevant);
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
        if is_external(src) {
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

impl Importer<'_> {
    /// The columns of the features khaosat shares with XLSForm: `calculation`,
    /// `required_message`, `default`, `appearance` and `choice_filter`.
    fn features(&mut self, sheet: &Sheet, row: &SheetRow, q: &mut DraftQuestion, kind: &str) {
        if let Some((src, i)) = sheet.get(row, "calculation") {
            let at = sheet.loc(row, i);
            let parsed = if is_external(src) {
                // Refused as external data already (see `external_data`).
                None
            } else {
                match Calc::parse(src, &|c| translate_xpath(c, false)) {
                    Ok(c) => Some(c),
                    Err(e) => {
                        self.report(
                            at.clone(),
                            Localized::new("instrument.invalid_field", &[("field", "calculation")])
                                .with("detail", e.localized()),
                        );
                        None
                    }
                }
            };
            match parsed {
                Some(c) => q.calculation = Some(At::new(c, at)),
                // Without its formula the row is kept by name only, so that nothing else is
                // reported about it.
                None => q.kind = None,
            }
        }
        // Often written only per language (`required_message::English (en)`).
        if let Some(m) = sheet.text(row, "required_message") {
            q.required_message = Some(At::new(m, sheet.loc_of(row, "required_message")));
        }
        if let Some((value, i)) = sheet.get(row, "default") {
            let at = sheet.loc(row, i);
            if features::default_is_dynamic(value) {
                self.err(at, "xlsform.dynamic_default", &[("value", value)]);
            } else {
                q.default = Some(At::new(value.to_owned(), at));
            }
        }
        if let Some((value, i)) = sheet.get(row, "appearance") {
            match features::appearance(value) {
                features::AppearanceMeaning::Layout(a) if matches!(kind, "single" | "multiple") => {
                    q.appearance = Some(At::new(a.code().to_owned(), sheet.loc(row, i)));
                }
                features::AppearanceMeaning::LongText if kind == "text" => {
                    q.kind = Some(At::new("long_text".to_owned(), sheet.loc(row, i)));
                }
                // Layout words on other types change nothing in a web form, and `search()`
                // is refused once as external data.
                _ => {}
            }
        }
        if let Some((src, i)) = sheet
            .get(row, "choice_filter")
            .filter(|(src, _)| !is_always_true(src) && !is_external(src))
        {
            let at = sheet.loc(row, i);
            match ChoiceFilter::parse(src) {
                Ok(f) => q.choice_filter = Some(At::new(f, at)),
                Err(e) => self.report(
                    at,
                    Localized::new("instrument.invalid_field", &[("field", "choice_filter")])
                        .with("detail", e.localized()),
                ),
            }
        }
    }
}

/// The conditions of the enclosing groups and a question's own, all of which must hold.
fn all_of(enclosing: impl Iterator<Item = At<Expr>>, own: Option<At<Expr>>) -> Option<At<Expr>> {
    let all: Vec<At<Expr>> = enclosing.chain(own).collect();
    let at = all.last()?.at.clone();
    let mut exprs: Vec<Expr> = Vec::new();
    for c in all {
        match c.value {
            Expr::And(parts) => exprs.extend(parts),
            other => exprs.push(other),
        }
    }
    match exprs.len() {
        1 => exprs.pop().map(|e| At::new(e, at)),
        _ => Some(At::new(Expr::And(exprs), at)),
    }
}

/// Whether an expression reads external data (`pulldata()`, `instance()`), which is refused
/// once where it is found.
fn is_external(src: &str) -> bool {
    let compact: String = src.chars().filter(|c| !c.is_whitespace()).collect();
    compact.contains("pulldata(") || compact.contains("instance(")
}

/// `true()` as a choice filter keeps every option: no filter at all.
fn is_always_true(src: &str) -> bool {
    matches!(src.trim(), "true()" | "1" | "true")
}

/// The extra `choices` columns that the survey's choice filters compare.
fn choice_filter_columns(survey: &Sheet) -> BTreeSet<String> {
    let filters: Vec<ChoiceFilter> = survey
        .rows
        .iter()
        .filter_map(|row| survey.get(row, "choice_filter"))
        .filter_map(|(src, _)| ChoiceFilter::parse(src).ok())
        .collect();
    features::filter_columns(filters.iter())
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
mod tests {
    use super::*;
    use crate::domain::instrument::QuestionKind;

    use super::test_support::xlsx;

    const SURVEY_HEADER: &[&str] = &[
        "type",
        "name",
        "label::Vietnamese (vi)",
        "label::English (en)",
        "hint::Vietnamese (vi)",
        "hint::English (en)",
        "required",
        "relevant",
        "constraint",
        "constraint_message::English (en)",
    ];

    fn good_survey() -> Vec<&'static [&'static str]> {
        vec![
            SURVEY_HEADER,
            &["start", "start", "", "", "", "", "", "", "", ""],
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
                "",
            ],
            &[
                "note",
                "intro1",
                "Giới thiệu",
                "Introduction",
                "",
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
                "Question one",
                "Gợi ý",
                "Hint",
                "yes",
                "",
                "",
                "",
            ],
            &[
                "select_multiple channels",
                "q2",
                "Kênh",
                "Channels",
                "",
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
                "",
                "TRUE",
                "",
                ". >= 18 and . <= 99",
                "",
            ],
            &["end group", "", "", "", "", "", "", "", "", ""],
            &[
                "begin_group",
                "g2",
                "Phần hai",
                "Part two",
                "",
                "",
                "",
                "${q1} = 1",
                "",
                "",
            ],
            &[
                "text",
                "why",
                "Vì sao",
                "Why",
                "",
                "",
                "no",
                "selected(${q2}, 'tv') and ${age} > 30",
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
                "",
                "not(${why} != '')",
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
                "",
                "${q1} != '2' or ${q1} < 3",
                "",
                "",
            ],
            &["end_group", "", "", "", "", "", "", "", "", ""],
        ]
    }

    fn good_choices() -> Vec<&'static [&'static str]> {
        vec![
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
            &["channels", "tv", "Truyền hình", "Television", ""],
            &["channels", "web", "Mạng", "Internet", ""],
        ]
    }

    fn settings() -> Vec<&'static [&'static str]> {
        vec![
            &["form_id", "version", "form_title", "group"],
            &["par-test", "3", "Khảo sát thử", "citizen"],
        ]
    }

    fn import(survey: &[&[&str]], choices: &[&[&str]]) -> Result<Instrument, Vec<String>> {
        let bytes = xlsx(&[
            ("survey", survey),
            ("choices", choices),
            ("settings", &settings()),
        ]);
        import_xlsform(&bytes, "form.xlsx", &XlsFormOptions::default())
            .map_err(|es| es.iter().map(ToString::to_string).collect())
    }

    fn import_errors(survey: &[&[&str]]) -> Vec<String> {
        import(survey, &good_choices()).unwrap_err()
    }

    #[test]
    fn a_hand_written_xlsform_becomes_an_instrument() {
        let inst = import(&good_survey(), &good_choices()).unwrap();
        assert_eq!(inst.code(), "par-test");
        assert_eq!(inst.version(), 3);
        assert_eq!(inst.group(), RespondentGroup::Citizen);
        assert_eq!(inst.title().vi, "Khảo sát thử");
        assert_eq!(inst.provenance(), "Imported from XLSForm 'form.xlsx'");
        let sections: Vec<_> = inst.sections().iter().map(|s| s.code.as_str()).collect();
        assert_eq!(sections, ["g1", "g2"]);
        let g1 = &inst.sections()[0];
        assert_eq!(g1.title.en, "Part one");
        assert_eq!(g1.intro.as_ref().unwrap().vi, "Giới thiệu");
        let q1 = inst.question("q1").unwrap();
        assert!(q1.required);
        assert_eq!(q1.label.vi, "Câu một");
        assert_eq!(q1.hint.as_ref().unwrap().en, "Hint");
        let QuestionKind::Single { choices, .. } = &q1.kind else {
            panic!("q1 should be single");
        };
        assert_eq!(choices.list.as_deref(), Some("agree"));
        let valid: Vec<_> = choices
            .options
            .iter()
            .map(|o| (o.value.as_str(), o.valid))
            .collect();
        assert_eq!(valid, [("1", true), ("2", true), ("dk", false)]);
        assert!(matches!(
            inst.question("q2").unwrap().kind,
            QuestionKind::Multiple { .. }
        ));
        assert_eq!(
            inst.question("age").unwrap().kind,
            QuestionKind::Integer {
                min: Some(18),
                max: Some(99)
            }
        );
        assert!(inst.question("age").unwrap().constraint.is_none());
        let g2 = &inst.sections()[1];
        assert_eq!(g2.relevant.as_ref().unwrap().to_string(), "q1 == 1");
        let why = inst.question("why").unwrap();
        assert_eq!(
            why.relevant.as_ref().unwrap().to_string(),
            "q2 == \"tv\" and age > 30"
        );
        let score = inst.question("score").unwrap();
        assert_eq!(
            score.relevant.as_ref().unwrap().to_string(),
            "not answered(why)"
        );
        let c = score.constraint.as_ref().unwrap();
        assert_eq!(c.expr.to_string(), ". != 5");
        assert_eq!(c.message.as_ref().unwrap().en, "Not five");
        assert_eq!(
            inst.question("day")
                .unwrap()
                .relevant
                .as_ref()
                .unwrap()
                .to_string(),
            "q1 != \"2\" or q1 < 3"
        );
        // The import exports to TOML and back without changing the content.
        let again = Instrument::from_toml(inst.to_toml().as_bytes(), "x.toml").unwrap();
        assert_eq!(again.content_hash(), inst.content_hash());
    }

    #[test]
    fn questions_outside_groups_go_into_a_default_section_and_options_override_settings() {
        let survey: Vec<&[&str]> = vec![
            &["type", "name", "label"],
            &["integer", "n", "Số"],
            &["begin group", "g", "Nhóm"],
            &["text", "t", "Chữ"],
            &["end group", "", ""],
            &["date", "d", "Ngày"],
        ];
        let bytes = xlsx(&[("survey", &survey), ("settings", &settings())]);
        let options = XlsFormOptions {
            code: Some("other".into()),
            version: Some(9),
            group: Some(RespondentGroup::Leader),
        };
        let inst = import_xlsform(&bytes, "f.xlsx", &options).unwrap();
        let sections: Vec<_> = inst.sections().iter().map(|s| s.code.as_str()).collect();
        assert_eq!(sections, ["main", "g", "main_2"]);
        assert_eq!((inst.code(), inst.version()), ("other", 9));
        assert_eq!(inst.question("n").unwrap().label.en, "Số");
    }

    #[test]
    fn an_unsupported_function_names_its_cell() {
        let mut survey = good_survey();
        survey[9] = &[
            "text",
            "why",
            "Vì sao",
            "Why",
            "",
            "",
            "",
            "count-selected(${q2}) > 1",
            "",
            "",
        ];
        assert_eq!(
            import_errors(&survey),
            ["form.xlsx: survey!H10 (relevant): unsupported function 'count-selected'"]
        );
    }

    #[test]
    fn an_unsupported_type_names_its_cell() {
        let mut survey = good_survey();
        survey[6] = &["geopoint", "age", "Ở đâu", "Where", "", "", "", "", "", ""];
        assert_eq!(
            import_errors(&survey),
            [
                "form.xlsx: survey!A7 (type): location type 'geopoint' is not supported: khaosat does not record GPS positions; ask for the place (province, commune, village) as a choice or text question"
            ]
        );
    }

    #[test]
    fn cell_errors_read_in_vietnamese_name_the_same_cells() {
        let mut survey = good_survey();
        survey[6] = &["geopoint", "age", "Ở đâu", "Where", "", "", "", "", "", ""];
        let bytes = xlsx(&[
            ("survey", &survey),
            ("choices", &good_choices()),
            ("settings", &settings()),
        ]);
        let errors = import_xlsform(&bytes, "form.xlsx", &XlsFormOptions::default()).unwrap_err();
        let vi: Vec<String> = errors.iter().map(|e| e.text(Lang::Vi)).collect();
        assert_eq!(
            vi,
            [
                "form.xlsx: survey!A7 (type): không hỗ trợ loại vị trí 'geopoint': khaosat không ghi tọa độ GPS; hãy hỏi địa điểm (tỉnh, xã, thôn) bằng câu hỏi lựa chọn hoặc nhập chữ"
            ]
        );
        // English stays exactly what `Display` writes.
        assert_eq!(errors[0].text(Lang::En), errors[0].to_string());
    }

    #[test]
    fn a_condition_error_in_vietnamese_names_its_cell_and_keeps_no_english() {
        let mut survey = good_survey();
        survey[6] = &[
            "integer",
            "age",
            "Tuổi",
            "Age",
            "",
            "",
            "",
            "count-selected(${q2}) > 1",
            "",
            "",
        ];
        let bytes = xlsx(&[
            ("survey", &survey),
            ("choices", &good_choices()),
            ("settings", &settings()),
        ]);
        let errors = import_xlsform(&bytes, "form.xlsx", &XlsFormOptions::default()).unwrap_err();
        let vi = errors[0].text(Lang::Vi);
        assert_eq!(
            vi,
            "form.xlsx: survey!H7 (relevant): không hỗ trợ hàm 'count-selected'"
        );
        for english in ["unsupported", "function", "question"] {
            assert!(!vi.contains(english), "{vi}");
        }
    }

    #[test]
    fn a_missing_choice_list_names_the_type_cell() {
        let mut survey = good_survey();
        survey[5] = &[
            "select_multiple media",
            "q2",
            "Kênh",
            "Channels",
            "",
            "",
            "",
            "",
            "",
            "",
        ];
        assert_eq!(
            import_errors(&survey),
            [
                "form.xlsx: survey!A6 (type): unknown choice list 'media' (defined lists: agree, channels)"
            ]
        );
    }

    #[test]
    fn a_duplicate_name_names_both_cells() {
        let mut survey = good_survey();
        survey[11] = &["date", "q2", "Ngày", "Day", "", "", "", "", "", ""];
        assert_eq!(
            import_errors(&survey),
            [
                "form.xlsx: survey!B12 (name): duplicate question code 'q2' (already used at survey!B6)"
            ]
        );
    }

    #[test]
    fn a_duplicate_choice_names_its_cell() {
        let mut choices = good_choices();
        choices[3] = &["agree", "2", "Không biết", "Don't know", "no"];
        assert_eq!(
            import(&good_survey(), &choices).unwrap_err(),
            [
                "form.xlsx: choices!B4 (name): duplicate option value '2' in choice list 'agree' (already used at choices!B3)"
            ]
        );
    }

    #[test]
    fn an_unclosed_group_names_its_begin_row() {
        let mut survey = good_survey();
        survey.pop();
        assert_eq!(
            import_errors(&survey),
            ["form.xlsx: survey!A9 (type): group 'g2' is not closed (add an 'end group' row)"]
        );
    }

    #[test]
    fn a_group_inside_a_page_is_folded_into_it_and_a_stray_end_group_is_rejected() {
        let mut survey = good_survey();
        survey[7] = &[
            "begin group",
            "inner",
            "Trong",
            "Inner",
            "",
            "",
            "",
            "${age} > 18",
            "",
            "",
        ];
        let end: &[&str] = &["end group", "", "", "", "", "", "", "", "", ""];
        survey.push(end);
        survey.push(end);
        let folded = import(&survey, &good_choices()).unwrap();
        assert_eq!(folded.sections().len(), 1, "one page, as the outer group");
        let why = folded.question("why").unwrap().relevant.as_ref().unwrap();
        assert!(
            why.to_string().starts_with("age > 18 and "),
            "the inner group's condition joins the question's: {why}"
        );
        survey.push(end);
        let errors = import_errors(&survey);
        assert_eq!(errors.len(), 1, "{errors:#?}");
        assert!(
            errors[0].contains("'end group' without a matching 'begin group'"),
            "{errors:#?}"
        );
    }

    #[test]
    fn conditions_referring_to_later_or_unknown_questions_name_their_cell() {
        let mut survey = good_survey();
        survey[4] = &[
            "select_one agree",
            "q1",
            "Câu một",
            "Question one",
            "",
            "",
            "",
            "${age} > 1",
            "",
            "",
        ];
        survey[5] = &[
            "select_multiple channels",
            "q2",
            "Kênh",
            "Channels",
            "",
            "",
            "maybe",
            "${nope} = 1",
            "",
            "",
        ];
        assert_eq!(
            import_errors(&survey),
            [
                "form.xlsx: survey!H5 (relevant): condition of 'q1' refers to 'age', which comes later in the instrument (conditions may only refer to earlier answers, which also rules out circular conditions)",
                "form.xlsx: survey!G6 (required): required must be yes or no, not 'maybe'",
                "form.xlsx: survey!H6 (relevant): unknown question code 'nope' in condition",
            ]
        );
    }

    #[test]
    fn missing_settings_and_sheets_are_reported() {
        let bytes = xlsx(&[("survey", &good_survey()), ("choices", &good_choices())]);
        let errors: Vec<String> = import_xlsform(&bytes, "f.xlsx", &XlsFormOptions::default())
            .unwrap_err()
            .iter()
            .map(ToString::to_string)
            .collect();
        // Code and version have XLSForm's defaults; only the group must be chosen.
        assert_eq!(
            errors,
            [
                "f.xlsx: no respondent group: give one with --group (leader, civil_servant or citizen) on the command line, choose it on the import page, or add a 'group' column to the settings sheet",
            ]
        );
        let bytes = xlsx(&[("choices", &good_choices())]);
        let errors = import_xlsform(&bytes, "f.xlsx", &XlsFormOptions::default()).unwrap_err();
        assert_eq!(
            errors[0].to_string(),
            "f.xlsx: the workbook has no 'survey' sheet"
        );
        let errors =
            import_xlsform(b"not a zip", "f.xlsx", &XlsFormOptions::default()).unwrap_err();
        assert!(
            errors[0]
                .to_string()
                .starts_with("f.xlsx: not a readable .xlsx workbook: ")
        );
    }

    #[test]
    fn numeric_constraints_become_bounds_only_when_exact() {
        let bounds =
            |src: &str, kind: &str| numeric_bounds(&translate_xpath(src, true).unwrap(), kind);
        assert_eq!(
            bounds(". > 0 and . < 11", "integer"),
            Some((Some(Number::Int(1)), Some(Number::Int(10))))
        );
        assert_eq!(
            bounds(". >= 0.5", "decimal"),
            Some((Some(Number::Float(0.5)), None))
        );
        assert_eq!(bounds(". > 0.5", "decimal"), None);
        assert_eq!(bounds(". >= 1 and . >= 2", "integer"), None);
        assert_eq!(bounds(". != 3", "integer"), None);
    }

    #[test]
    fn arbitrary_and_corrupted_workbooks_never_panic() {
        let good = xlsx(&[
            ("survey", &good_survey()),
            ("choices", &good_choices()),
            ("settings", &settings()),
        ]);
        let mut seed: u64 = 0xD1B5_4A32_D192_ED03;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for round in 0..150 {
            let mut bytes = if round % 3 == 0 {
                (0..(next() % 2_000))
                    .map(|_| (next() % 256) as u8)
                    .collect()
            } else {
                good.clone()
            };
            for _ in 0..(1 + next() % 4) {
                if bytes.is_empty() {
                    break;
                }
                let at = (next() as usize) % bytes.len();
                bytes[at] = (next() % 256) as u8;
            }
            let _ = import_xlsform(&bytes, "fuzz.xlsx", &XlsFormOptions::default());
        }
        for text in [
            "${",
            "selected(",
            "not(not(",
            ")(",
            "'",
            "${a} = = 1",
            "-",
            "1.2.3 = ${a}",
        ] {
            let _ = translate_xpath(text, true);
        }
    }
}
