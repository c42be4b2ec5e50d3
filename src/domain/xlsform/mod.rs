//! XLSForm import (the KoboToolbox / ODK spreadsheet standard) into a validated [`Instrument`].
//!
//! Sheets `survey`, `choices` and `settings` are read (names matched case-insensitively). Only
//! the subset that maps onto the khaosat model is accepted; everything else is an error naming
//! the sheet, the row as Excel shows it, and the column letter with its header, e.g.
//! `survey!C7 (relevant): unsupported function 'count-selected'`. All errors are reported.
//! The mapping is documented in `docs/instrument-format.md`.
//!
//! - `begin group` / `end group` become sections (not nested); questions outside any group go
//!   into a default section per run of ungrouped rows (`main`, `main_2`, ...). A `note` that is
//!   the first row of a group becomes the section's introduction.
//! - `select_one L` → `single`, `select_multiple L` → `multiple`, `integer`, `decimal`, `text`,
//!   `date` map directly. Metadata rows (`start`, `end`, `today`, `deviceid`, `username`, ...)
//!   are skipped. Anything else (`geopoint`, `calculate`, `begin repeat`, ...) is rejected.
//! - Labels/hints: `label`, `label::Vietnamese (vi)`, `label::English (en)` (the language is
//!   taken from the code in parentheses, or a bare `vi` / `en`). A missing language falls back
//!   to the plain `label`, then to the other language.
//! - `relevant` / `constraint` are translated from the XPath subset described in the docs;
//!   a numeric constraint made only of bounds (`. >= 1 and . <= 10`) becomes `min` / `max`.
//! - khaosat extensions: a `valid` column in `choices` (`no` marks "don't know"), a `group`
//!   column in `settings`, and the `khaosat_*` columns and nested battery groups that the
//!   export ([`export_xlsform`]) writes so that a questionnaire reads back unchanged (read in
//!   `extensions`).
//! - Workbooks are read through [`crate::domain::xlsx`] within [`XLSX_LIMITS`]: a value beyond
//!   column IV, or a workbook that unpacks too large, is refused as a whole.

mod export;
mod extensions;
mod to_xpath;
mod xpath;

use calamine::Data;

use crate::domain::expr::{CmpOp, Expr, Literal, SELF_REF};
use crate::domain::instrument::{
    At, DraftChoices, DraftInstrument, DraftList, DraftOption, DraftQuestion, DraftSection,
    Instrument, InstrumentError, Lang, Location, Number, RespondentGroup, Text, limit_errors,
    place, sort_errors, validate,
};
use crate::domain::xlsx::{Limits, Workbook, WorkbookError, column_letters};
use crate::i18n::Localized;

use export::ext;
use extensions::OpenBattery;
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

/// Values chosen at import time; each one, when given, wins over the `settings` sheet.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct XlsFormOptions {
    /// The instrument code (otherwise `settings.form_id`).
    pub code: Option<String>,
    /// The version (otherwise `settings.version`, which must then be a whole number).
    pub version: Option<u32>,
    /// The respondent group (otherwise the `settings.group` column).
    pub group: Option<RespondentGroup>,
}

/// Imports an XLSForm workbook. `file_name` is only used in messages and the provenance note.
pub fn import_xlsform(
    bytes: &[u8],
    file_name: &str,
    options: &XlsFormOptions,
) -> Result<Instrument, Vec<InstrumentError>> {
    let sheets = read_sheets(bytes).map_err(|message| {
        vec![InstrumentError {
            file: file_name.to_owned(),
            location: Location::File,
            message,
        }]
    })?;
    let mut importer = Importer {
        file: file_name,
        errors: Vec::new(),
        ext: extensions::Found::default(),
    };
    let draft = importer.build(sheets, options);
    match draft {
        Some(d) => validate(d, file_name, importer.errors).map_err(|e| limit_errors(e, file_name)),
        None => {
            sort_errors(&mut importer.errors);
            Err(limit_errors(importer.errors, file_name))
        }
    }
}

/// One column of a sheet.
#[derive(Debug, Clone)]
struct Column {
    letter: String,
    header: String,
    /// Lowercase header before any `::` (e.g. `label`).
    key: String,
    /// The language of a `key::language` header, when it is one we use.
    lang: Option<Lang>,
    /// True for `key::language` headers (also for languages we ignore).
    translated: bool,
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

fn language_of(part: &str) -> Option<Lang> {
    let lower = part.trim().to_lowercase();
    let code = match (lower.rfind('('), lower.rfind(')')) {
        (Some(a), Some(b)) if a < b => lower.get(a + 1..b).unwrap_or_default().trim().to_owned(),
        _ => lower,
    };
    match code.as_str() {
        "vi" | "vietnamese" | "tiếng việt" => Some(Lang::Vi),
        "en" | "english" => Some(Lang::En),
        _ => None,
    }
}

/// A workbook the shared reader refused, its own words kept as the detail.
fn unreadable(error: WorkbookError) -> Localized {
    Localized::new("xlsform.unreadable", &[("detail", &error.to_string())])
}

/// Reads the `survey`, `choices` and `settings` sheets (the first of each name, ignoring case)
/// through the shared bounded reader.
fn read_sheets(bytes: &[u8]) -> Result<Vec<Sheet>, Localized> {
    let mut workbook = Workbook::open(bytes, XLSX_LIMITS).map_err(unreadable)?;
    let mut out: Vec<Sheet> = Vec::new();
    for name in workbook.sheet_names() {
        let lower = name.to_lowercase();
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
                columns: Vec::new(),
                rows: Vec::new(),
            });
            continue;
        };
        let columns: Vec<Column> = header
            .cells
            .iter()
            .enumerate()
            .map(|(i, cell)| {
                let header = cell_text(cell);
                let (key, lang, translated) = match header.split_once("::") {
                    Some((k, l)) => (k.trim().to_lowercase(), language_of(l), true),
                    None => (header.trim().to_lowercase(), None, false),
                };
                Column {
                    letter: column_letters(i),
                    header,
                    key,
                    lang,
                    translated,
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
            .position(|c| !c.translated && c.key == key)
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

    /// The location of `key` in `row`, or of the row's first cell when the column is absent.
    fn loc_of(&self, row: &SheetRow, key: &str) -> Location {
        self.loc(row, self.col(key).unwrap_or(0))
    }

    /// A bilingual text from `key`, `key::… (vi)` and `key::… (en)`.
    fn text(&self, row: &SheetRow, key: &str) -> Option<Text> {
        let mut plain = None;
        let mut vi = None;
        let mut en = None;
        for (i, c) in self.columns.iter().enumerate() {
            if c.key != key {
                continue;
            }
            let Some(value) = row.cells.get(i).filter(|s| !s.is_empty()) else {
                continue;
            };
            match (c.translated, c.lang) {
                (false, _) => plain = Some(value.clone()),
                (true, Some(Lang::Vi)) => vi = Some(value.clone()),
                (true, Some(Lang::En)) => en = Some(value.clone()),
                (true, None) => {}
            }
        }
        let vi_text = vi
            .clone()
            .or_else(|| plain.clone())
            .or_else(|| en.clone())?;
        let en_text = en.or(plain).or(vi).unwrap_or_default();
        Some(Text::new(vi_text, en_text))
    }
}

const METADATA_TYPES: [&str; 14] = [
    "start",
    "end",
    "today",
    "deviceid",
    "subscriberid",
    "simserial",
    "phonenumber",
    "username",
    "email",
    "audit",
    "start-geopoint",
    "background-audio",
    "uri:deviceid",
    "uri:email",
];

/// Survey columns that change a form's meaning but that we cannot represent.
const UNSUPPORTED_COLUMNS: [&str; 6] = [
    "choice_filter",
    "repeat_count",
    "calculation",
    "default",
    "trigger",
    "read_only",
];

struct Importer<'f> {
    file: &'f str,
    errors: Vec<InstrumentError>,
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

    fn build(&mut self, sheets: Vec<Sheet>, options: &XlsFormOptions) -> Option<DraftInstrument> {
        let find = |name: &str| sheets.iter().find(|s| s.name == name);
        let Some(survey) = find("survey") else {
            self.err(Location::File, "xlsform.no_survey_sheet", &[]);
            return None;
        };
        if survey.col("type").is_none() || survey.col("name").is_none() {
            self.err(Location::File, "xlsform.survey_columns", &[]);
            return None;
        }
        let mut choice_lists = find("choices").map(|c| self.choices(c)).unwrap_or_default();
        let mut sections = self.survey(survey);
        self.settle_generated_lists(&mut choice_lists, &mut sections);

        let settings = find("settings");
        let setting = |key: &str| -> Option<(String, Location)> {
            let s = settings?;
            let row = s.rows.first()?;
            s.get(row, key).map(|(v, i)| (v.to_owned(), s.loc(row, i)))
        };
        let code = match &options.code {
            Some(c) => Some(At::new(c.clone(), Location::File)),
            None => match setting("form_id") {
                Some((v, at)) => Some(At::new(v, at)),
                None => {
                    self.err(Location::File, "xlsform.no_code", &[]);
                    None
                }
            },
        };
        let version = match options.version {
            Some(v) => Some(At::new(i64::from(v), Location::File)),
            None => match setting("version") {
                Some((v, at)) => match v.parse::<i64>() {
                    Ok(n) => Some(At::new(n, at)),
                    Err(_) => {
                        self.err(at, "xlsform.version_not_whole", &[("version", &v)]);
                        None
                    }
                },
                None => {
                    self.err(Location::File, "xlsform.no_version", &[]);
                    None
                }
            },
        };
        let group = match options.group {
            Some(g) => Some(At::new(g.code().to_owned(), Location::File)),
            None => match setting("group") {
                Some((v, at)) => Some(At::new(v, at)),
                None => {
                    self.err(Location::File, "xlsform.no_group", &[]);
                    None
                }
            },
        };
        let title = settings
            .and_then(|s| s.rows.first().and_then(|row| s.text(row, "form_title")))
            .or_else(|| {
                code.as_ref()
                    .map(|c| Text::new(c.value.clone(), c.value.clone()))
            })
            .map(|t| match setting(ext::TITLE_EN) {
                Some((en, _)) => Text::new(t.vi, en),
                None => t,
            });
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
            code,
            version,
            group,
            provenance: Some(provenance),
            title,
            instructions: self.ext.instructions.take(),
            continues,
            choice_lists,
            sections,
        })
    }

    fn choices(&mut self, sheet: &Sheet) -> Vec<DraftList> {
        let list_col = sheet.col("list_name").or_else(|| sheet.col("list name"));
        if list_col.is_none() || sheet.col("name").is_none() {
            self.err(Location::File, "xlsform.choices_columns", &[]);
            return Vec::new();
        }
        let list_key = if sheet.col("list_name").is_some() {
            "list_name"
        } else {
            "list name"
        };
        let mut lists: Vec<DraftList> = Vec::new();
        for row in &sheet.rows {
            let Some((list, list_i)) = sheet.get(row, list_key) else {
                continue;
            };
            let value = match sheet.get(row, "name") {
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
            let label = sheet.text(row, "label");
            if label.is_none() {
                self.err(
                    sheet.loc_of(row, "label"),
                    "xlsform.missing_choice_label",
                    &[],
                );
            }
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
            let option = DraftOption {
                value,
                label,
                valid,
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

    fn survey(&mut self, sheet: &Sheet) -> Vec<DraftSection> {
        let mut sections: Vec<DraftSection> = Vec::new();
        let mut group: Option<OpenGroup> = None;
        let mut battery: Option<OpenBattery> = None;
        let mut loose = Loose::default();
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
            let kind = raw_type
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
                .to_lowercase();
            let kind = kind.replace("begin_", "begin ").replace("end_", "end ");
            // Inside a battery group every row is an item, until the group ends.
            if let Some(open) = &mut battery {
                if kind == "end group" {
                    if let Some(b) = battery.take() {
                        let question = self.finish_battery(b);
                        loose.place(question, &mut group);
                    }
                } else if !METADATA_TYPES.contains(&kind.as_str()) {
                    self.battery_row(sheet, row, &kind, type_at, open);
                }
                continue;
            }
            let mark = self.khaosat_type(sheet, row);
            // Marks on structural rows are checked here; question rows check their own.
            if let Some((m, at)) = &mark {
                let fits = match kind.as_str() {
                    "begin group" => m == ext::BATTERY,
                    "note" => m == ext::INSTRUCTIONS,
                    "end group" => false,
                    _ => true,
                };
                if !fits {
                    self.mismatched_type(at.clone(), m);
                }
            }
            let mark = mark.map(|(m, _)| m);
            match kind.as_str() {
                "begin group" if mark.as_deref() == Some(ext::BATTERY) => {
                    battery = Some(self.begin_battery(sheet, row, type_at));
                }
                "begin group" => {
                    if let Some(open) = &group {
                        let message =
                            Localized::new("xlsform.nested_group", &[("group", &open.name)])
                                .with("first", place(&open.at));
                        self.report(type_at, message);
                        continue;
                    }
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
                "end group" => match group.take() {
                    Some(open) => sections.push(open.section),
                    None => self.err(type_at, "xlsform.end_without_begin", &[]),
                },
                "begin repeat" | "end repeat" => {
                    self.err(type_at, "xlsform.repeats", &[]);
                }
                // The instructions: a note before any page.
                "note" if mark.as_deref() == Some(ext::INSTRUCTIONS) => {
                    if group.is_none() && sections.is_empty() && loose.is_empty() {
                        self.ext.instructions = sheet.text(row, "label");
                    } else {
                        self.err(type_at, "xlsform.instructions_position", &[]);
                    }
                }
                "note" => match &mut group {
                    Some(open)
                        if open.section.questions.is_empty() && open.section.intro.is_none() =>
                    {
                        open.section.intro = sheet.text(row, "label");
                    }
                    _ => self.err(type_at, "xlsform.note_position", &[]),
                },
                k if METADATA_TYPES.contains(&k) => {}
                _ => {
                    if let Some(question) = self.question(sheet, row, &kind, type_at) {
                        loose.place(question, &mut group);
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
        match translate_xpath(src, is_constraint) {
            Ok(e) => Some(At::new(e, at)),
            Err(message) => {
                self.report(at, message);
                None
            }
        }
    }

    fn question(
        &mut self,
        sheet: &Sheet,
        row: &SheetRow,
        kind: &str,
        type_at: Location,
    ) -> Option<DraftQuestion> {
        let mut parts = kind.split(' ');
        let base = parts.next().unwrap_or_default();
        let arg = parts.next();
        let extra = parts.next();
        let mut q = DraftQuestion::new(type_at.clone());
        q.code = match sheet.get(row, "name") {
            Some((n, i)) => Some(At::new(n.to_owned(), sheet.loc(row, i))),
            None => {
                self.err(sheet.loc_of(row, "name"), "xlsform.missing_name", &[]);
                None
            }
        };
        let (our_kind, list) = match (base, arg, extra) {
            ("select_one", Some(l), None) => ("single", Some(l)),
            ("select_multiple", Some(l), None) => ("multiple", Some(l)),
            ("integer" | "decimal" | "text" | "date", None, _) => (base, None),
            _ => {
                if matches!(base, "select_one" | "select_multiple") && arg.is_none() {
                    self.err(type_at, "xlsform.select_needs_list", &[("type", base)]);
                } else {
                    self.err(type_at, "xlsform.unsupported_type", &[("type", kind)]);
                }
                // Keep the row's name (without a type) so that conditions referring to it are
                // not reported as unknown on top of this error.
                return Some(q);
            }
        };
        // The list name keeps its original case (the type cell was lowercased for matching).
        let list = list.map(|_| {
            sheet
                .get(row, "type")
                .and_then(|(t, _)| t.split_whitespace().nth(1))
                .unwrap_or_default()
                .to_owned()
        });
        let our_kind = self.refined_kind(sheet, row, our_kind);
        q.kind = Some(At::new(our_kind.to_owned(), type_at.clone()));
        q.label = sheet.text(row, "label");
        if q.label.is_none() {
            self.err(sheet.loc_of(row, "label"), "xlsform.missing_label", &[]);
        }
        q.hint = sheet.text(row, "hint");
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
            match numeric_bounds(&constraint.value, our_kind) {
                Some((min, max)) => {
                    q.min = min.map(|n| At::new(n, constraint.at.clone()));
                    q.max = max.map(|n| At::new(n, constraint.at.clone()));
                }
                None => {
                    let message = sheet.text(row, "constraint_message");
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
mod tests {
    use super::*;
    use crate::domain::instrument::QuestionKind;
    use rust_xlsxwriter::Workbook;

    type Rows<'a> = &'a [&'a [&'a str]];

    /// Writes a workbook with the given sheets; empty strings leave the cell blank.
    fn xlsx(sheets: &[(&str, Rows<'_>)]) -> Vec<u8> {
        let mut wb = Workbook::new();
        for (name, rows) in sheets {
            let ws = wb.add_worksheet();
            ws.set_name(*name).unwrap();
            for (r, row) in rows.iter().enumerate() {
                for (c, value) in row.iter().enumerate() {
                    if !value.is_empty() {
                        ws.write_string(r as u32, c as u16, *value).unwrap();
                    }
                }
            }
        }
        wb.save_to_buffer().unwrap()
    }

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
            ["form.xlsx: survey!A7 (type): unsupported question type 'geopoint'"]
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
            ["form.xlsx: survey!A7 (type): không hỗ trợ loại câu hỏi 'geopoint'"]
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
    fn nested_groups_and_stray_end_groups_are_rejected() {
        let mut survey = good_survey();
        survey[7] = &[
            "begin group",
            "inner",
            "Trong",
            "Inner",
            "",
            "",
            "",
            "",
            "",
            "",
        ];
        survey.push(&["end group", "", "", "", "", "", "", "", "", ""]);
        survey.push(&["end group", "", "", "", "", "", "", "", "", ""]);
        assert_eq!(
            import_errors(&survey),
            [
                "form.xlsx: survey!A8 (type): nested groups are not supported (group 'g1' opened at survey!A3 is still open)",
                "form.xlsx: survey!A9 (type): nested groups are not supported (group 'g1' opened at survey!A3 is still open)",
                "form.xlsx: survey!A14 (type): 'end group' without a matching 'begin group'",
                "form.xlsx: survey!A15 (type): 'end group' without a matching 'begin group'",
            ]
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
        assert_eq!(
            errors,
            [
                "f.xlsx: no instrument code: add 'form_id' to the settings sheet or choose a code at import",
                "f.xlsx: no version: add 'version' to the settings sheet or choose a version at import",
                "f.xlsx: no respondent group: add a 'group' column to the settings sheet or choose a group at import",
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
