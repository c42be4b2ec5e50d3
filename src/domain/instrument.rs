//! Survey instruments (questionnaires): the TOML file format, the validated model, export,
//! content hashing, year-over-year comparability and structured diffs.
//!
//! The format is documented in `docs/instrument-format.md`. In short: one TOML file per
//! instrument version with `format = "khaosat-instrument/1"`, a header (code, version, group,
//! provenance, bilingual title and instructions), shared `[choices.NAME]` lists and
//! `[[sections]]` each holding `[[sections.questions]]`.
//!
//! Parsing is "parse, don't validate": [`Instrument::from_toml`] either returns an [`Instrument`]
//! whose invariants hold (unique codes, resolved choice lists, conditions that only refer to
//! earlier answers, ...) or every [`InstrumentError`] found, each with the file, the 1-based line
//! and column, and the field path (`sections[2].questions[4].relevant`, indexes from 0).
//! The same validator is used for XLSForm imports, whose errors name spreadsheet cells instead.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::ops::Range;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use toml::Spanned;
use toml::de::{DeTable, DeValue};

use crate::domain::answers::yes_no_options;
use crate::domain::expr::{Expr, SELF_REF, is_valid_code};
use crate::domain::items::{ScorableItem, ScorableOption};

/// The only `format` value this version reads.
pub const FORMAT: &str = "khaosat-instrument/1";
/// Largest instrument file accepted (1 MiB); the bundled instruments are far below it.
pub const MAX_FILE_BYTES: usize = 1024 * 1024;
/// Default `max_length` of a `text` question, in characters.
pub const DEFAULT_TEXT_MAX: u32 = 500;
/// Default `max_length` of a `long_text` question, in characters.
pub const DEFAULT_LONG_TEXT_MAX: u32 = 5_000;
/// Largest allowed `max_length`.
pub const MAX_TEXT_MAX: u32 = 20_000;
/// Longest code (instrument, section, question, item, list, option value).
pub const MAX_CODE_CHARS: usize = 64;

/// The display languages; the same type the web layer uses.
pub use crate::i18n::Lang;

/// A text in Vietnamese and English (one type for every file format).
pub use crate::domain::text::Text;

/// The respondent group an instrument is meant for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RespondentGroup {
    /// Leaders and managers.
    Leader,
    /// Civil servants.
    CivilServant,
    /// Citizens (SIPAS).
    Citizen,
}

impl RespondentGroup {
    /// Every group, in display order.
    pub const ALL: [RespondentGroup; 3] = [
        RespondentGroup::Leader,
        RespondentGroup::CivilServant,
        RespondentGroup::Citizen,
    ];

    /// The stable code used in files and the database.
    pub fn code(self) -> &'static str {
        match self {
            RespondentGroup::Leader => "leader",
            RespondentGroup::CivilServant => "civil_servant",
            RespondentGroup::Citizen => "citizen",
        }
    }

    /// Parses a group code.
    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|g| g.code() == code)
    }
}

/// Which earlier instrument version this one continues (for year-over-year comparison).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Continues {
    /// The earlier instrument's code.
    pub instrument: String,
    /// The earlier instrument's version.
    pub version: u32,
}

/// One option of a choice list.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct ChoiceOption {
    /// The stored code, e.g. `"1"` or `"dk"`.
    pub value: String,
    /// What respondents see.
    pub label: Text,
    /// False for "don't know" / "no answer": accepted, but left out of scoring.
    pub valid: bool,
}

/// The options of a choice question, with the shared list they came from (if any).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Choices {
    /// The shared list's name, or `None` for options written inline.
    pub list: Option<String>,
    /// The options in scale order.
    pub options: Vec<ChoiceOption>,
}

/// Which earlier question an item continues.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub enum Continuation {
    /// The earlier question with the same code (the default).
    Same,
    /// The earlier question with this code.
    From(String),
    /// A new item, not comparable with the earlier version.
    New,
}

/// One item of a battery.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct BatteryItem {
    /// The item's own code (its answer is stored under it).
    pub code: String,
    /// The item's statement.
    pub label: Text,
    /// Comparability with the earlier version.
    pub continues: Continuation,
}

/// A check on a question's own answer (written with `.`), with an optional message.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Constraint {
    /// The condition that must hold; `.` is the answer being checked.
    pub expr: Expr,
    /// Shown when the condition fails.
    pub message: Option<Text>,
}

/// The type-specific part of a question.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum QuestionKind {
    /// One option of an (ordinal) scale.
    Single {
        /// The options.
        choices: Choices,
        /// Whether scoring may use it (default true).
        scored: bool,
    },
    /// Any number of options.
    Multiple {
        /// The options.
        choices: Choices,
    },
    /// Several items answered on one shared scale.
    Battery {
        /// The shared scale.
        choices: Choices,
        /// The items, in display order.
        items: Vec<BatteryItem>,
        /// Whether scoring may use the items (default true).
        scored: bool,
    },
    /// Yes or no (stored as `"yes"` / `"no"`).
    YesNo {
        /// Whether scoring may use it (default true).
        scored: bool,
    },
    /// A whole number.
    Integer {
        /// Smallest accepted value.
        min: Option<i64>,
        /// Largest accepted value.
        max: Option<i64>,
    },
    /// A decimal number.
    Decimal {
        /// Smallest accepted value.
        min: Option<f64>,
        /// Largest accepted value.
        max: Option<f64>,
    },
    /// A single line of text.
    Text {
        /// Longest accepted answer, in characters.
        max_length: u32,
    },
    /// A multi-line text.
    LongText {
        /// Longest accepted answer, in characters.
        max_length: u32,
    },
    /// A calendar date.
    Date,
}

/// The accepted `type` values.
pub const QUESTION_TYPES: [&str; 9] = [
    "single",
    "multiple",
    "battery",
    "yes_no",
    "integer",
    "decimal",
    "text",
    "long_text",
    "date",
];

impl QuestionKind {
    /// The `type` name used in files.
    pub fn type_name(&self) -> &'static str {
        match self {
            QuestionKind::Single { .. } => "single",
            QuestionKind::Multiple { .. } => "multiple",
            QuestionKind::Battery { .. } => "battery",
            QuestionKind::YesNo { .. } => "yes_no",
            QuestionKind::Integer { .. } => "integer",
            QuestionKind::Decimal { .. } => "decimal",
            QuestionKind::Text { .. } => "text",
            QuestionKind::LongText { .. } => "long_text",
            QuestionKind::Date => "date",
        }
    }

    /// The choices of a single, multiple or battery question.
    pub fn choices(&self) -> Option<&Choices> {
        match self {
            QuestionKind::Single { choices, .. }
            | QuestionKind::Multiple { choices }
            | QuestionKind::Battery { choices, .. } => Some(choices),
            _ => None,
        }
    }
}

/// One question.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Question {
    /// Stable code; the answer is stored under it (battery: under each item's code).
    pub code: String,
    /// The question text.
    pub label: Text,
    /// Extra guidance shown under the question.
    pub hint: Option<Text>,
    /// Must be answered when relevant.
    pub required: bool,
    /// Shown only when this holds (refers to earlier answers only).
    pub relevant: Option<Expr>,
    /// A check on the answer.
    pub constraint: Option<Constraint>,
    /// Comparability with the earlier version (batteries carry it per item).
    pub continues: Continuation,
    /// Type-specific settings.
    pub kind: QuestionKind,
}

impl Question {
    /// The codes answers of this question are stored under.
    pub fn answer_codes(&self) -> Vec<&str> {
        match &self.kind {
            QuestionKind::Battery { items, .. } => items.iter().map(|i| i.code.as_str()).collect(),
            _ => vec![self.code.as_str()],
        }
    }

    /// The options a stored value must be one of (choice, battery and yes/no questions).
    pub fn options(&self) -> Option<Vec<ChoiceOption>> {
        match &self.kind {
            QuestionKind::YesNo { .. } => Some(yes_no_options()),
            kind => kind.choices().map(|c| c.options.clone()),
        }
    }
}

/// One page of the survey.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Section {
    /// Stable code.
    pub code: String,
    /// Page title.
    pub title: Text,
    /// Introduction shown at the top of the page.
    pub intro: Option<Text>,
    /// The page is shown only when this holds (refers to earlier sections' answers only).
    pub relevant: Option<Expr>,
    /// The questions, in order.
    pub questions: Vec<Question>,
}

/// A validated instrument. Only obtainable from [`Instrument::from_toml`] or the XLSForm import,
/// so its invariants always hold.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Instrument {
    code: String,
    version: u32,
    group: RespondentGroup,
    provenance: String,
    title: Text,
    instructions: Option<Text>,
    continues: Option<Continues>,
    choice_lists: BTreeMap<String, Vec<ChoiceOption>>,
    sections: Vec<Section>,
}

/// Where an instrument error is.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Location {
    /// The file as a whole (e.g. it is too large).
    File,
    /// A byte in a file that is not text.
    Byte {
        /// 0-based byte offset.
        offset: usize,
        /// 1-based line.
        line: usize,
    },
    /// A place in a TOML file.
    Toml {
        /// 1-based line.
        line: usize,
        /// 1-based column (in characters).
        column: usize,
        /// Field path such as `sections[2].questions[4].relevant` (indexes from 0).
        path: String,
    },
    /// A spreadsheet cell (XLSForm).
    Cell {
        /// Sheet name.
        sheet: String,
        /// 1-based row as Excel shows it.
        row: u32,
        /// Column letters (`A`, `AB`).
        column: String,
        /// The column's header (`relevant`).
        header: String,
    },
}

impl Location {
    /// A short human form: `line 12`, `survey!C7`, `byte 10`, or `the file`.
    pub fn short(&self) -> String {
        match self {
            Location::File => "the file".to_owned(),
            Location::Byte { offset, .. } => format!("byte {offset}"),
            Location::Toml { line, .. } => format!("line {line}"),
            Location::Cell {
                sheet, row, column, ..
            } => format!("{sheet}!{column}{row}"),
        }
    }

    /// The 1-based line (TOML and byte locations).
    pub fn line(&self) -> Option<usize> {
        match self {
            Location::Byte { line, .. } | Location::Toml { line, .. } => Some(*line),
            _ => None,
        }
    }

    fn sort_key(&self) -> (u8, &str, usize, usize) {
        match self {
            Location::File => (0, "", 0, 0),
            Location::Byte { offset, .. } => (1, "", *offset, 0),
            Location::Toml { line, column, .. } => (2, "", *line, *column),
            Location::Cell {
                sheet, row, column, ..
            } => (3, sheet, *row as usize, column_index(column)),
        }
    }
}

fn column_index(letters: &str) -> usize {
    letters.chars().fold(0usize, |acc, c| {
        acc.saturating_mul(26)
            .saturating_add((c as usize).saturating_sub('A' as usize) + 1)
    })
}

/// A problem found while reading an instrument.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct InstrumentError {
    /// The file name given by the caller.
    pub file: String,
    /// Where in the file.
    pub location: Location,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for InstrumentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.location {
            Location::File => write!(f, "{}: {}", self.file, self.message),
            Location::Byte { offset, line } => {
                write!(f, "{}:{line}: byte {offset}: {}", self.file, self.message)
            }
            Location::Toml { line, column, path } if path.is_empty() => {
                write!(f, "{}:{line}:{column}: {}", self.file, self.message)
            }
            Location::Toml { line, column, path } => {
                write!(f, "{}:{line}:{column}: {path}: {}", self.file, self.message)
            }
            Location::Cell {
                sheet,
                row,
                column,
                header,
            } => write!(
                f,
                "{}: {sheet}!{column}{row} ({header}): {}",
                self.file, self.message
            ),
        }
    }
}

pub(crate) fn sort_errors(errors: &mut [InstrumentError]) {
    errors.sort_by(|a, b| a.location.sort_key().cmp(&b.location.sort_key()));
}

/// Most errors listed for one file; a garbage file could otherwise yield hundreds of thousands.
pub const MAX_REPORTED_ERRORS: usize = 100;

/// Keeps the first [`MAX_REPORTED_ERRORS`] errors and says how many were left out.
pub(crate) fn limit_errors(mut errors: Vec<InstrumentError>, file: &str) -> Vec<InstrumentError> {
    if errors.len() > MAX_REPORTED_ERRORS {
        let left_out = errors.len() - MAX_REPORTED_ERRORS;
        errors.truncate(MAX_REPORTED_ERRORS);
        errors.push(InstrumentError {
            file: file.to_owned(),
            location: Location::File,
            message: format!(
                "... and {left_out} more errors (only the first {MAX_REPORTED_ERRORS} are listed)"
            ),
        });
    }
    errors
}

// ---------------------------------------------------------------------------------------------
// Draft: what a reader (TOML or XLSForm) extracted, with locations, before validation.
// ---------------------------------------------------------------------------------------------

/// A value with the place it was read from.
#[derive(Debug, Clone)]
pub(crate) struct At<T> {
    pub value: T,
    pub at: Location,
}

impl<T> At<T> {
    pub(crate) fn new(value: T, at: Location) -> Self {
        Self { value, at }
    }
}

/// A number as written (integer or float).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Number {
    Int(i64),
    Float(f64),
}

#[derive(Debug, Clone)]
pub(crate) enum DraftChoices {
    List(String),
    Inline(Vec<DraftOption>),
}

#[derive(Debug, Clone)]
pub(crate) struct DraftOption {
    pub value: Option<At<String>>,
    pub label: Option<Text>,
    pub valid: bool,
}

#[derive(Debug, Clone)]
pub(crate) enum DraftContinuation {
    Code(String),
    New,
}

#[derive(Debug, Clone)]
pub(crate) struct DraftItem {
    pub code: Option<At<String>>,
    pub label: Option<Text>,
    pub continues: Option<At<DraftContinuation>>,
}

#[derive(Debug, Clone)]
pub(crate) struct DraftQuestion {
    pub at: Location,
    pub code: Option<At<String>>,
    pub kind: Option<At<String>>,
    pub label: Option<Text>,
    pub hint: Option<Text>,
    pub required: bool,
    pub relevant: Option<At<Expr>>,
    pub constraint: Option<At<Expr>>,
    pub constraint_message: Option<At<Text>>,
    pub choices: Option<At<DraftChoices>>,
    pub items: Option<At<Vec<DraftItem>>>,
    pub min: Option<At<Number>>,
    pub max: Option<At<Number>>,
    pub max_length: Option<At<i64>>,
    pub scored: Option<At<bool>>,
    pub continues: Option<At<DraftContinuation>>,
}

impl DraftQuestion {
    pub(crate) fn new(at: Location) -> Self {
        Self {
            at,
            code: None,
            kind: None,
            label: None,
            hint: None,
            required: false,
            relevant: None,
            constraint: None,
            constraint_message: None,
            choices: None,
            items: None,
            min: None,
            max: None,
            max_length: None,
            scored: None,
            continues: None,
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct DraftSection {
    pub at: Location,
    pub code: Option<At<String>>,
    pub title: Option<Text>,
    pub intro: Option<Text>,
    pub relevant: Option<At<Expr>>,
    pub questions: Vec<DraftQuestion>,
}

#[derive(Debug, Clone)]
pub(crate) struct DraftList {
    pub name: At<String>,
    pub options: Vec<DraftOption>,
}

#[derive(Debug, Clone)]
pub(crate) struct DraftInstrument {
    pub at: Location,
    pub code: Option<At<String>>,
    pub version: Option<At<i64>>,
    pub group: Option<At<String>>,
    pub provenance: Option<String>,
    pub title: Option<Text>,
    pub instructions: Option<Text>,
    pub continues: Option<At<(String, i64)>>,
    pub choice_lists: Vec<DraftList>,
    pub sections: Vec<DraftSection>,
}

// ---------------------------------------------------------------------------------------------
// Validation (shared by the TOML and XLSForm readers).
// ---------------------------------------------------------------------------------------------

struct CodeInfo {
    ordinal: usize,
    at: Location,
    options: Option<Vec<String>>,
    battery_items: Option<Vec<String>>,
}

struct PendingCondition {
    owner: String,
    expr: Expr,
    at: Location,
    /// References must have an ordinal below this.
    limit: usize,
    own_codes: Vec<String>,
    is_constraint: bool,
    is_section: bool,
}

struct Validator<'f> {
    file: &'f str,
    errors: Vec<InstrumentError>,
}

impl Validator<'_> {
    fn err(&mut self, at: &Location, message: impl Into<String>) {
        self.errors.push(InstrumentError {
            file: self.file.to_owned(),
            location: at.clone(),
            message: message.into(),
        });
    }

    fn question_code(&mut self, code: &At<String>, what: &str) -> bool {
        let ok = is_valid_code(&code.value) && code.value.chars().count() <= MAX_CODE_CHARS;
        if !ok {
            self.err(
                &code.at,
                format!(
                    "{what} '{}' is not valid (use letters, digits, '_' and '.', starting with a letter or '_', at most {MAX_CODE_CHARS} characters, not a keyword such as 'and')",
                    code.value
                ),
            );
        }
        ok
    }

    fn options(
        &mut self,
        options: Vec<DraftOption>,
        at: &Location,
        what: &str,
    ) -> Vec<ChoiceOption> {
        let mut out: Vec<ChoiceOption> = Vec::new();
        let mut seen: BTreeMap<String, Location> = BTreeMap::new();
        for opt in options {
            let (Some(value), Some(label)) = (opt.value, opt.label) else {
                continue;
            };
            let v = &value.value;
            if v.is_empty()
                || v.chars().count() > MAX_CODE_CHARS
                || v.chars().any(|c| c.is_whitespace() || c.is_control())
            {
                self.err(
                    &value.at,
                    format!(
                        "option value '{v}' is not valid (1 to {MAX_CODE_CHARS} characters, no spaces)"
                    ),
                );
                continue;
            }
            if let Some(first) = seen.get(v) {
                let message = format!(
                    "duplicate option value '{v}' in {what} (already used at {})",
                    first.short()
                );
                self.err(&value.at, message);
                continue;
            }
            seen.insert(v.clone(), value.at.clone());
            out.push(ChoiceOption {
                value: value.value,
                label,
                valid: opt.valid,
            });
        }
        if seen.is_empty() {
            self.err(at, format!("{what} has no options"));
        } else if !out.iter().any(|o| o.valid) && out.len() == seen.len() {
            self.err(
                at,
                format!("{what} has no valid option (every option has valid = false)"),
            );
        }
        out
    }

    fn continuation(
        &mut self,
        c: Option<At<DraftContinuation>>,
        own: &str,
        has_header: bool,
    ) -> Continuation {
        let Some(c) = c else {
            return Continuation::Same;
        };
        if !has_header {
            self.err(
                &c.at,
                "`continues` on a question needs the instrument-level `continues = { instrument = \"...\", version = N }`",
            );
        }
        match c.value {
            DraftContinuation::New => Continuation::New,
            DraftContinuation::Code(old) if old == own => Continuation::Same,
            DraftContinuation::Code(old) => {
                self.question_code(&At::new(old.clone(), c.at), "earlier question code");
                Continuation::From(old)
            }
        }
    }

    fn not_allowed<T>(&mut self, field: &Option<At<T>>, name: &str, kind: &str) {
        if let Some(f) = field {
            self.err(
                &f.at,
                format!("`{name}` is not allowed for a question of type '{kind}'"),
            );
        }
    }
}

fn is_list_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        && name.len() <= MAX_CODE_CHARS
}

fn is_instrument_code(code: &str) -> bool {
    let mut chars = code.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
        && code.len() <= MAX_CODE_CHARS
}

/// Validates a draft into an instrument, adding to `errors` (problems the reader already found).
pub(crate) fn validate(
    draft: DraftInstrument,
    file: &str,
    errors: Vec<InstrumentError>,
) -> Result<Instrument, Vec<InstrumentError>> {
    let mut v = Validator { file, errors };

    let code = draft.code.and_then(|c| {
        if is_instrument_code(&c.value) {
            Some(c.value)
        } else {
            v.err(
                &c.at,
                format!(
                    "instrument code '{}' is not valid (lowercase letters, digits, '-' and '_', at most {MAX_CODE_CHARS} characters)",
                    c.value
                ),
            );
            None
        }
    });
    let version = draft
        .version
        .and_then(|ver| match u32::try_from(ver.value) {
            Ok(n) if n >= 1 => Some(n),
            _ => {
                v.err(
                    &ver.at,
                    format!(
                        "version must be a whole number from 1 to {}, not {}",
                        u32::MAX,
                        ver.value
                    ),
                );
                None
            }
        });
    let group = draft.group.and_then(|g| {
        let found = RespondentGroup::from_code(&g.value);
        if found.is_none() {
            v.err(
                &g.at,
                format!(
                    "unknown respondent group '{}' (expected one of: leader, civil_servant, citizen)",
                    g.value
                ),
            );
        }
        found
    });
    let continues = draft.continues.and_then(|c| {
        let (instrument, ver) = c.value;
        let ok_code = is_instrument_code(&instrument);
        let ok_version = u32::try_from(ver).ok().filter(|n| *n >= 1);
        if !ok_code {
            v.err(&c.at, format!("continued instrument code '{instrument}' is not valid"));
        }
        match ok_version {
            None => {
                v.err(&c.at, format!("continued version must be at least 1, not {ver}"));
                None
            }
            Some(n) if ok_code => {
                if code.as_deref() == Some(instrument.as_str()) && version.is_some_and(|own| n >= own)
                {
                    v.err(
                        &c.at,
                        format!("an instrument can only continue an earlier version (this is version {}, it continues version {n})", version.unwrap_or(0)),
                    );
                }
                Some(Continues {
                    instrument,
                    version: n,
                })
            }
            Some(_) => None,
        }
    });
    let has_header = continues.is_some();

    let mut lists: BTreeMap<String, Vec<ChoiceOption>> = BTreeMap::new();
    for list in draft.choice_lists {
        if !is_list_name(&list.name.value) {
            v.err(
                &list.name.at,
                format!(
                    "choice list name '{}' is not valid (letters, digits, '_' and '-', starting with a letter)",
                    list.name.value
                ),
            );
        }
        let what = format!("choice list '{}'", list.name.value);
        let options = v.options(list.options, &list.name.at, &what);
        lists.insert(list.name.value, options);
    }

    let mut codes: BTreeMap<String, CodeInfo> = BTreeMap::new();
    let mut section_codes: BTreeMap<String, Location> = BTreeMap::new();
    let mut pending: Vec<PendingCondition> = Vec::new();
    let mut sections = Vec::new();
    let mut ordinal = 0usize;

    if draft.sections.is_empty() {
        v.err(&draft.at, "an instrument needs at least one section");
    }
    for ds in draft.sections {
        let section_code = ds.code.and_then(|c| {
            if !v.question_code(&c, "section code") {
                return None;
            }
            if let Some(first) = section_codes.get(&c.value) {
                let message = format!(
                    "duplicate section code '{}' (already used at {})",
                    c.value,
                    first.short()
                );
                v.err(&c.at, message);
                return None;
            }
            section_codes.insert(c.value.clone(), c.at.clone());
            Some(c.value)
        });
        let section_name = section_code.clone().unwrap_or_default();
        if let Some(rel) = &ds.relevant {
            pending.push(PendingCondition {
                owner: format!("section '{section_name}'"),
                expr: rel.value.clone(),
                at: rel.at.clone(),
                limit: ordinal,
                own_codes: Vec::new(),
                is_constraint: false,
                is_section: true,
            });
        }
        if ds.questions.is_empty() {
            v.err(&ds.at, format!("section '{section_name}' has no questions"));
        }
        let mut questions = Vec::new();
        for dq in ds.questions {
            if let Some(q) = build_question(
                dq,
                &mut v,
                &lists,
                &mut codes,
                &mut pending,
                ordinal,
                has_header,
            ) {
                questions.push(q);
            }
            ordinal += 1;
        }
        sections.push(Section {
            code: section_name,
            title: ds.title.unwrap_or_else(|| Text::new("", "")),
            intro: ds.intro,
            relevant: ds.relevant.map(|r| r.value),
            questions,
        });
    }

    for p in &pending {
        check_condition(p, &codes, &section_codes, &mut v);
    }

    let mut errors = v.errors;
    if !errors.is_empty() {
        sort_errors(&mut errors);
        return Err(errors);
    }
    match (code, version, group) {
        (Some(code), Some(version), Some(group)) => Ok(Instrument {
            code,
            version,
            group,
            provenance: draft.provenance.unwrap_or_default(),
            title: draft.title.unwrap_or_else(|| Text::new("", "")),
            instructions: draft.instructions,
            continues,
            choice_lists: lists,
            sections,
        }),
        // The readers report missing header fields; this only guards against a reader that
        // forgot to, so that we never hand out a half-filled instrument.
        _ => Err(vec![InstrumentError {
            file: file.to_owned(),
            location: draft.at,
            message: "the instrument header (code, version, group) is incomplete".to_owned(),
        }]),
    }
}

fn build_question(
    dq: DraftQuestion,
    v: &mut Validator<'_>,
    lists: &BTreeMap<String, Vec<ChoiceOption>>,
    codes: &mut BTreeMap<String, CodeInfo>,
    pending: &mut Vec<PendingCondition>,
    ordinal: usize,
    has_header: bool,
) -> Option<Question> {
    let code = dq.code.as_ref()?;
    let valid_code = v.question_code(code, "question code");

    // Register the codes before anything else can fail, so that a broken question does not
    // cascade into "unknown question code" errors in the conditions that refer to it.
    let is_battery = dq.kind.as_ref().is_some_and(|k| k.value == "battery");
    let draft_items: Vec<At<String>> = if is_battery {
        dq.items
            .iter()
            .flat_map(|i| i.value.iter())
            .filter_map(|i| i.code.clone())
            .collect()
    } else {
        Vec::new()
    };
    let mut register = |v: &mut Validator<'_>, c: &At<String>, what: &str, info: CodeInfo| {
        if let Some(first) = codes.get(&c.value) {
            let message = format!(
                "duplicate {what} '{}' (already used at {})",
                c.value,
                first.at.short()
            );
            v.err(&c.at, message);
        } else {
            codes.insert(c.value.clone(), info);
        }
    };
    let mut own_codes = vec![code.value.clone()];
    for icode in &draft_items {
        if v.question_code(icode, "battery item code") {
            let info = CodeInfo {
                ordinal,
                at: icode.at.clone(),
                options: None,
                battery_items: None,
            };
            register(v, icode, "battery item code", info);
        }
        own_codes.push(icode.value.clone());
    }
    if valid_code {
        let info = CodeInfo {
            ordinal,
            at: code.at.clone(),
            options: None,
            battery_items: is_battery
                .then(|| draft_items.iter().map(|c| c.value.clone()).collect()),
        };
        register(v, code, "question code", info);
    }

    let kind_name = dq.kind.as_ref()?;
    let kind = kind_name.value.as_str();
    if !QUESTION_TYPES.contains(&kind) {
        v.err(
            &kind_name.at,
            format!(
                "unknown question type '{kind}' (expected one of: {})",
                QUESTION_TYPES.join(", ")
            ),
        );
        return None;
    }
    let is_choice = matches!(kind, "single" | "multiple" | "battery");
    if !is_choice {
        v.not_allowed(&dq.choices, "choices", kind);
    }
    if kind != "battery" {
        v.not_allowed(&dq.items, "items", kind);
    } else {
        v.not_allowed(&dq.constraint, "constraint", kind);
        v.not_allowed(&dq.continues, "continues", kind);
    }
    if !matches!(kind, "integer" | "decimal") {
        v.not_allowed(&dq.min, "min", kind);
        v.not_allowed(&dq.max, "max", kind);
    }
    if !matches!(kind, "text" | "long_text") {
        v.not_allowed(&dq.max_length, "max_length", kind);
    }
    if !matches!(kind, "single" | "battery" | "yes_no") {
        v.not_allowed(&dq.scored, "scored", kind);
    }
    if dq.constraint.is_none() {
        v.not_allowed(&dq.constraint_message, "constraint_message", kind);
    }

    let choices = if is_choice {
        match dq.choices {
            None => {
                v.err(
                    &dq.at,
                    format!("a question of type '{kind}' needs `choices`"),
                );
                None
            }
            Some(At {
                value: DraftChoices::List(name),
                at,
            }) => match lists.get(&name) {
                Some(options) => Some(Choices {
                    list: Some(name),
                    options: options.clone(),
                }),
                None => {
                    let known: Vec<&str> = lists.keys().map(String::as_str).collect();
                    v.err(
                        &at,
                        format!(
                            "unknown choice list '{name}' (defined lists: {})",
                            if known.is_empty() {
                                "none".to_owned()
                            } else {
                                known.join(", ")
                            }
                        ),
                    );
                    None
                }
            },
            Some(At {
                value: DraftChoices::Inline(options),
                at,
            }) => {
                let what = format!("the choices of '{}'", code.value);
                Some(Choices {
                    list: None,
                    options: v.options(options, &at, &what),
                })
            }
        }
    } else {
        None
    };
    let scored = dq.scored.as_ref().is_none_or(|s| s.value);
    let continues = if kind == "battery" {
        Continuation::Same
    } else {
        v.continuation(dq.continues.clone(), &code.value, has_header)
    };

    let option_values = choices.as_ref().map(|c| {
        c.options
            .iter()
            .map(|o| o.value.clone())
            .collect::<Vec<_>>()
    });
    // Now that the options are known, record them for the literal checks in conditions
    // (only on entries this question owns: a duplicate keeps the first owner's options).
    let answer_options = if kind == "yes_no" {
        Some(vec!["yes".to_owned(), "no".to_owned()])
    } else {
        option_values.clone()
    };
    let answer_codes: Vec<&str> = if is_battery {
        own_codes.iter().skip(1).map(String::as_str).collect()
    } else {
        vec![code.value.as_str()]
    };
    for c in answer_codes {
        if let Some(info) = codes.get_mut(c)
            && info.ordinal == ordinal
        {
            info.options = answer_options.clone();
        }
    }

    let kind_value = match kind {
        "battery" => {
            let mut items = Vec::new();
            match dq.items {
                None => v.err(&dq.at, "a question of type 'battery' needs `items`"),
                Some(At { value, at }) => {
                    if value.is_empty() {
                        v.err(&at, "a battery needs at least one item");
                    }
                    for item in value {
                        let (Some(icode), Some(label)) = (item.code, item.label) else {
                            continue;
                        };
                        if !is_valid_code(&icode.value) {
                            continue;
                        }
                        let continues = v.continuation(item.continues, &icode.value, has_header);
                        items.push(BatteryItem {
                            code: icode.value,
                            label,
                            continues,
                        });
                    }
                }
            }
            QuestionKind::Battery {
                choices: choices?,
                items,
                scored,
            }
        }
        _ => match kind {
            "single" => QuestionKind::Single {
                choices: choices?,
                scored,
            },
            "multiple" => QuestionKind::Multiple { choices: choices? },
            "yes_no" => QuestionKind::YesNo { scored },
            "integer" => {
                let int = |v: &mut Validator<'_>, n: &Option<At<Number>>, name: &str| match n {
                    Some(At {
                        value: Number::Int(i),
                        ..
                    }) => Some(*i),
                    Some(At { at, .. }) => {
                        v.err(
                            at,
                            format!("`{name}` of an integer question must be a whole number"),
                        );
                        None
                    }
                    None => None,
                };
                let min = int(v, &dq.min, "min");
                let max = int(v, &dq.max, "max");
                if let (Some(lo), Some(hi), Some(at)) = (min, max, dq.min.as_ref())
                    && lo > hi
                {
                    v.err(&at.at, format!("min ({lo}) is greater than max ({hi})"));
                }
                QuestionKind::Integer { min, max }
            }
            "decimal" => {
                let num = |v: &mut Validator<'_>, n: &Option<At<Number>>, name: &str| match n {
                    Some(At { value, at }) => {
                        let f = match value {
                            Number::Int(i) => *i as f64,
                            Number::Float(f) => *f,
                        };
                        if f.is_finite() {
                            Some(f)
                        } else {
                            v.err(at, format!("`{name}` must be a finite number"));
                            None
                        }
                    }
                    None => None,
                };
                let min = num(v, &dq.min, "min");
                let max = num(v, &dq.max, "max");
                if let (Some(lo), Some(hi), Some(at)) = (min, max, dq.min.as_ref())
                    && lo > hi
                {
                    v.err(&at.at, format!("min ({lo}) is greater than max ({hi})"));
                }
                QuestionKind::Decimal { min, max }
            }
            "text" | "long_text" => {
                let default = if kind == "text" {
                    DEFAULT_TEXT_MAX
                } else {
                    DEFAULT_LONG_TEXT_MAX
                };
                let max_length = match &dq.max_length {
                    None => default,
                    Some(At { value, at }) => match u32::try_from(*value) {
                        Ok(n) if (1..=MAX_TEXT_MAX).contains(&n) => n,
                        _ => {
                            v.err(
                                at,
                                format!("max_length must be from 1 to {MAX_TEXT_MAX}, not {value}"),
                            );
                            default
                        }
                    },
                };
                if kind == "text" {
                    QuestionKind::Text { max_length }
                } else {
                    QuestionKind::LongText { max_length }
                }
            }
            _ => QuestionKind::Date,
        },
    };

    if let Some(rel) = &dq.relevant {
        pending.push(PendingCondition {
            owner: format!("'{}'", code.value),
            expr: rel.value.clone(),
            at: rel.at.clone(),
            limit: ordinal,
            own_codes: own_codes.clone(),
            is_constraint: false,
            is_section: false,
        });
    }
    if let Some(c) = &dq.constraint {
        pending.push(PendingCondition {
            owner: format!("'{}'", code.value),
            expr: c.value.clone(),
            at: c.at.clone(),
            limit: ordinal,
            own_codes,
            is_constraint: true,
            is_section: false,
        });
    }
    Some(Question {
        code: code.value.clone(),
        label: dq.label.unwrap_or_else(|| Text::new("", "")),
        hint: dq.hint,
        required: dq.required,
        relevant: dq.relevant.map(|r| r.value),
        constraint: dq.constraint.map(|c| Constraint {
            expr: c.value,
            message: dq.constraint_message.map(|m| m.value),
        }),
        continues,
        kind: kind_value,
    })
}

fn check_condition(
    p: &PendingCondition,
    codes: &BTreeMap<String, CodeInfo>,
    sections: &BTreeMap<String, Location>,
    v: &mut Validator<'_>,
) {
    let literals = p.expr.equality_literals();
    for r in p.expr.references() {
        if r == SELF_REF {
            if !p.is_constraint {
                v.err(
                    &p.at,
                    "'.' (the question's own answer) can only be used in a constraint",
                );
            }
            continue;
        }
        let Some(info) = codes.get(&r) else {
            if sections.contains_key(&r) {
                v.err(&p.at, format!("'{r}' is a section, not a question"));
            } else {
                v.err(&p.at, format!("unknown question code '{r}' in condition"));
            }
            continue;
        };
        if p.own_codes.contains(&r) {
            if p.is_constraint {
                v.err(
                    &p.at,
                    format!("a constraint refers to its own answer as '.', not as '{r}'"),
                );
            } else {
                v.err(
                    &p.at,
                    format!(
                        "condition of {} refers to '{r}' itself (a circular condition)",
                        p.owner
                    ),
                );
            }
            continue;
        }
        if let Some(items) = &info.battery_items {
            v.err(
                &p.at,
                format!(
                    "'{r}' is a battery; a condition must name one of its items ({})",
                    items.join(", ")
                ),
            );
            continue;
        }
        if info.ordinal >= p.limit {
            let message = if p.is_section {
                format!(
                    "condition of {} refers to '{r}', which is not in an earlier section (conditions may only refer to earlier answers, which also rules out circular conditions)",
                    p.owner
                )
            } else {
                format!(
                    "condition of {} refers to '{r}', which comes later in the instrument (conditions may only refer to earlier answers, which also rules out circular conditions)",
                    p.owner
                )
            };
            v.err(&p.at, message);
            continue;
        }
        if let Some(options) = &info.options {
            for (code, lit) in &literals {
                let value = lit.as_code();
                if *code == r && !options.contains(&value) {
                    v.err(
                        &p.at,
                        format!(
                            "'{r}' has no option '{value}' (its options are: {})",
                            options.join(", ")
                        ),
                    );
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// TOML reader.
// ---------------------------------------------------------------------------------------------

type Val<'i> = Spanned<DeValue<'i>>;

/// The known keys of one TOML table, with the table's place.
struct Fields<'t, 'i> {
    map: BTreeMap<&'t str, &'t Val<'i>>,
    span: Range<usize>,
    path: String,
}

fn join_path(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

/// Finds 1-based line and column (in characters) of byte offsets; the line starts are
/// computed once so that locating many fields in a large file stays linear.
struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    fn new(text: &str) -> Self {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        Self { starts }
    }

    fn line_col(&self, text: &str, offset: usize) -> (usize, usize) {
        let mut offset = offset.min(text.len());
        while !text.is_char_boundary(offset) {
            offset -= 1;
        }
        let line = self.starts.partition_point(|s| *s <= offset).max(1);
        let start = self.starts.get(line - 1).copied().unwrap_or(0);
        let column = text.get(start..offset).unwrap_or_default().chars().count() + 1;
        (line, column)
    }
}

struct TomlReader<'a> {
    file: &'a str,
    text: &'a str,
    lines: LineIndex,
    errors: Vec<InstrumentError>,
}

impl<'a> TomlReader<'a> {
    fn loc(&self, span: &Range<usize>, path: &str) -> Location {
        let (line, column) = self.lines.line_col(self.text, span.start);
        Location::Toml {
            line,
            column,
            path: path.to_owned(),
        }
    }

    fn error(&mut self, span: &Range<usize>, path: &str, message: impl Into<String>) {
        let location = self.loc(span, path);
        self.errors.push(InstrumentError {
            file: self.file.to_owned(),
            location,
            message: message.into(),
        });
    }

    fn fields<'t, 'i>(
        &mut self,
        value: &'t Val<'i>,
        path: &str,
        allowed: &[&str],
    ) -> Option<Fields<'t, 'i>> {
        let DeValue::Table(table) = value.get_ref() else {
            self.error(
                &value.span(),
                path,
                format!("expected a table, found {}", value.get_ref().type_str()),
            );
            return None;
        };
        Some(self.table_fields(table, value.span(), path, allowed))
    }

    fn table_fields<'t, 'i>(
        &mut self,
        table: &'t DeTable<'i>,
        span: Range<usize>,
        path: &str,
        allowed: &[&str],
    ) -> Fields<'t, 'i> {
        let mut map = BTreeMap::new();
        for (key, value) in table.iter() {
            let name: &str = key.get_ref().as_ref();
            if allowed.contains(&name) {
                map.insert(name, value);
            } else {
                self.error(
                    &key.span(),
                    &join_path(path, name),
                    format!(
                        "unknown field `{name}` (expected one of: {})",
                        allowed.join(", ")
                    ),
                );
            }
        }
        Fields {
            map,
            span,
            path: path.to_owned(),
        }
    }

    fn get<'t, 'i>(
        &mut self,
        f: &Fields<'t, 'i>,
        key: &str,
        required: bool,
    ) -> Option<(&'t Val<'i>, String)> {
        let path = join_path(&f.path, key);
        match f.map.get(key) {
            Some(v) => Some((*v, path)),
            None => {
                if required {
                    self.error(&f.span, &path, format!("missing field `{key}`"));
                }
                None
            }
        }
    }

    fn type_error(&mut self, v: &Val<'_>, path: &str, expected: &str) {
        self.error(
            &v.span(),
            path,
            format!("expected {expected}, found {}", v.get_ref().type_str()),
        );
    }

    fn string(&mut self, f: &Fields<'_, '_>, key: &str, required: bool) -> Option<At<String>> {
        let (v, path) = self.get(f, key, required)?;
        match v.get_ref() {
            DeValue::String(s) => Some(At::new(s.to_string(), self.loc(&v.span(), &path))),
            _ => {
                self.type_error(v, &path, "a string");
                None
            }
        }
    }

    fn integer(&mut self, f: &Fields<'_, '_>, key: &str, required: bool) -> Option<At<i64>> {
        let (v, path) = self.get(f, key, required)?;
        self.integer_value(v, &path)
    }

    fn integer_value(&mut self, v: &Val<'_>, path: &str) -> Option<At<i64>> {
        if !matches!(v.get_ref(), DeValue::Integer(_)) {
            self.type_error(v, path, "an integer");
            return None;
        }
        match i64::deserialize(toml::de::ValueDeserializer::from(v.clone())) {
            Ok(n) => Some(At::new(n, self.loc(&v.span(), path))),
            Err(e) => {
                self.error(&v.span(), path, e.message().to_owned());
                None
            }
        }
    }

    fn boolean(&mut self, f: &Fields<'_, '_>, key: &str) -> Option<At<bool>> {
        let (v, path) = self.get(f, key, false)?;
        match v.get_ref() {
            DeValue::Boolean(b) => Some(At::new(*b, self.loc(&v.span(), &path))),
            _ => {
                self.type_error(v, &path, "true or false");
                None
            }
        }
    }

    fn number(&mut self, f: &Fields<'_, '_>, key: &str) -> Option<At<Number>> {
        let (v, path) = self.get(f, key, false)?;
        match v.get_ref() {
            DeValue::Integer(_) => self
                .integer_value(v, &path)
                .map(|n| At::new(Number::Int(n.value), n.at)),
            DeValue::Float(_) => {
                match f64::deserialize(toml::de::ValueDeserializer::from(v.clone())) {
                    Ok(n) => Some(At::new(Number::Float(n), self.loc(&v.span(), &path))),
                    Err(e) => {
                        self.error(&v.span(), &path, e.message().to_owned());
                        None
                    }
                }
            }
            _ => {
                self.type_error(v, &path, "a number");
                None
            }
        }
    }

    fn text(&mut self, f: &Fields<'_, '_>, key: &str, required: bool) -> Option<At<Text>> {
        let (v, path) = self.get(f, key, required)?;
        let fields = self.fields(v, &path, &["vi", "en"])?;
        let vi = self.string(&fields, "vi", true);
        let en = self.string(&fields, "en", true);
        Some(At::new(
            Text::new(vi?.value, en?.value),
            self.loc(&v.span(), &path),
        ))
    }

    fn expr(&mut self, f: &Fields<'_, '_>, key: &str) -> Option<At<Expr>> {
        let s = self.string(f, key, false)?;
        match Expr::parse(&s.value) {
            Ok(e) => Some(At::new(e, s.at)),
            Err(e) => {
                self.errors.push(InstrumentError {
                    file: self.file.to_owned(),
                    location: s.at,
                    message: format!("invalid condition: {e}"),
                });
                None
            }
        }
    }

    fn array<'t, 'i>(
        &mut self,
        f: &Fields<'t, 'i>,
        key: &str,
        required: bool,
    ) -> Option<(&'t [Val<'i>], String, Location)> {
        let (v, path) = self.get(f, key, required)?;
        match v.get_ref() {
            DeValue::Array(items) => Some((items, path.clone(), self.loc(&v.span(), &path))),
            _ => {
                self.type_error(v, &path, "an array");
                None
            }
        }
    }

    fn continuation(&mut self, f: &Fields<'_, '_>) -> Option<At<DraftContinuation>> {
        let (v, path) = self.get(f, "continues", false)?;
        let at = self.loc(&v.span(), &path);
        match v.get_ref() {
            DeValue::String(s) => Some(At::new(DraftContinuation::Code(s.to_string()), at)),
            DeValue::Boolean(false) => Some(At::new(DraftContinuation::New, at)),
            _ => {
                self.type_error(v, &path, "an earlier question code or false");
                None
            }
        }
    }

    fn option(&mut self, v: &Val<'_>, path: &str) -> Option<DraftOption> {
        let f = self.fields(v, path, &["value", "label", "valid"])?;
        let value = match f.map.get("value") {
            Some(val) if matches!(val.get_ref(), DeValue::Integer(_)) => {
                // Numeric codes may be written without quotes; they are stored as text.
                self.integer_value(val, &join_path(path, "value"))
                    .map(|n| At::new(n.value.to_string(), n.at))
            }
            _ => self.string(&f, "value", true),
        };
        let label = self.text(&f, "label", true).map(|t| t.value);
        let valid = self.boolean(&f, "valid").is_none_or(|b| b.value);
        Some(DraftOption {
            value,
            label,
            valid,
        })
    }

    fn root(&mut self, root: &Spanned<DeTable<'_>>) -> Option<DraftInstrument> {
        let f = self.table_fields(
            root.get_ref(),
            root.span(),
            "",
            &[
                "format",
                "code",
                "version",
                "group",
                "provenance",
                "title",
                "instructions",
                "continues",
                "choices",
                "sections",
            ],
        );
        // An unknown format means the rest cannot be understood: report only that.
        let format = self.string(&f, "format", false);
        match format {
            None if !f.map.contains_key("format") => {
                self.errors.clear();
                self.error(
                    &(0..0),
                    "format",
                    format!("missing field `format` (expected \"{FORMAT}\")"),
                );
                return None;
            }
            Some(fmt) if fmt.value != FORMAT => {
                self.errors.clear();
                self.errors.push(InstrumentError {
                    file: self.file.to_owned(),
                    location: fmt.at,
                    message: format!(
                        "unknown format '{}' (this version reads \"{FORMAT}\")",
                        fmt.value
                    ),
                });
                return None;
            }
            _ => {}
        }
        let code = self.string(&f, "code", true);
        let version = self.integer(&f, "version", true);
        let group = self.string(&f, "group", true);
        let provenance = self.string(&f, "provenance", true).map(|s| s.value);
        let title = self.text(&f, "title", true).map(|t| t.value);
        let instructions = self.text(&f, "instructions", false).map(|t| t.value);
        let continues = self.get(&f, "continues", false).and_then(|(v, path)| {
            let cf = self.fields(v, &path, &["instrument", "version"])?;
            let instrument = self.string(&cf, "instrument", true);
            let ver = self.integer(&cf, "version", true);
            Some(At::new(
                (instrument?.value, ver?.value),
                self.loc(&v.span(), &path),
            ))
        });

        let mut choice_lists = Vec::new();
        if let Some((v, path)) = self.get(&f, "choices", false) {
            if let DeValue::Table(t) = v.get_ref() {
                for (name, list) in t.iter() {
                    let name_str: &str = name.get_ref().as_ref();
                    let list_path = join_path(&path, name_str);
                    let Some(lf) = self.fields(list, &list_path, &["options"]) else {
                        continue;
                    };
                    let mut options = Vec::new();
                    if let Some((items, opath, _)) = self.array(&lf, "options", true) {
                        for (i, item) in items.iter().enumerate() {
                            options.extend(self.option(item, &format!("{opath}[{i}]")));
                        }
                    }
                    choice_lists.push(DraftList {
                        name: At::new(name_str.to_owned(), self.loc(&name.span(), &list_path)),
                        options,
                    });
                }
            } else {
                self.type_error(v, &path, "a table of choice lists");
            }
        }

        let mut sections = Vec::new();
        if let Some((items, path, _)) = self.array(&f, "sections", true) {
            for (i, s) in items.iter().enumerate() {
                let spath = format!("{path}[{i}]");
                sections.extend(self.section(s, &spath));
            }
        }
        Some(DraftInstrument {
            at: self.loc(&(0..0), ""),
            code,
            version,
            group,
            provenance,
            title,
            instructions,
            continues,
            choice_lists,
            sections,
        })
    }

    fn section(&mut self, v: &Val<'_>, path: &str) -> Option<DraftSection> {
        let f = self.fields(
            v,
            path,
            &["code", "title", "intro", "relevant", "questions"],
        )?;
        let mut questions = Vec::new();
        if let Some((items, qpath, _)) = self.array(&f, "questions", true) {
            for (i, q) in items.iter().enumerate() {
                questions.extend(self.question(q, &format!("{qpath}[{i}]")));
            }
        }
        Some(DraftSection {
            at: self.loc(&v.span(), path),
            code: self.string(&f, "code", true),
            title: self.text(&f, "title", true).map(|t| t.value),
            intro: self.text(&f, "intro", false).map(|t| t.value),
            relevant: self.expr(&f, "relevant"),
            questions,
        })
    }

    fn question(&mut self, v: &Val<'_>, path: &str) -> Option<DraftQuestion> {
        let f = self.fields(
            v,
            path,
            &[
                "code",
                "type",
                "label",
                "hint",
                "required",
                "relevant",
                "constraint",
                "constraint_message",
                "choices",
                "items",
                "min",
                "max",
                "max_length",
                "scored",
                "continues",
            ],
        )?;
        let mut q = DraftQuestion::new(self.loc(&v.span(), path));
        q.code = self.string(&f, "code", true);
        q.kind = self.string(&f, "type", true);
        q.label = self.text(&f, "label", true).map(|t| t.value);
        q.hint = self.text(&f, "hint", false).map(|t| t.value);
        q.required = self.boolean(&f, "required").is_some_and(|b| b.value);
        q.relevant = self.expr(&f, "relevant");
        q.constraint = self.expr(&f, "constraint");
        q.constraint_message = self.text(&f, "constraint_message", false);
        q.min = self.number(&f, "min");
        q.max = self.number(&f, "max");
        q.max_length = self.integer(&f, "max_length", false);
        q.scored = self.boolean(&f, "scored");
        q.continues = self.continuation(&f);
        if let Some((c, cpath)) = self.get(&f, "choices", false) {
            let at = self.loc(&c.span(), &cpath);
            match c.get_ref() {
                DeValue::String(name) => {
                    q.choices = Some(At::new(DraftChoices::List(name.to_string()), at));
                }
                DeValue::Array(items) => {
                    let options = items
                        .iter()
                        .enumerate()
                        .filter_map(|(i, o)| self.option(o, &format!("{cpath}[{i}]")))
                        .collect();
                    q.choices = Some(At::new(DraftChoices::Inline(options), at));
                }
                _ => self.type_error(c, &cpath, "a choice list name or an array of options"),
            }
        }
        if let Some((items, ipath, at)) = self.array(&f, "items", false) {
            let mut out = Vec::new();
            for (i, item) in items.iter().enumerate() {
                let p = format!("{ipath}[{i}]");
                let Some(itf) = self.fields(item, &p, &["code", "label", "continues"]) else {
                    continue;
                };
                out.push(DraftItem {
                    code: self.string(&itf, "code", true),
                    label: self.text(&itf, "label", true).map(|t| t.value),
                    continues: self.continuation(&itf),
                });
            }
            q.items = Some(At::new(out, at));
        }
        Some(q)
    }
}

// ---------------------------------------------------------------------------------------------
// The instrument's API.
// ---------------------------------------------------------------------------------------------

/// How one new answer code relates to the earlier version it is compared with.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct Comparability {
    /// New code → earlier code, for items that can be compared.
    pub pairs: BTreeMap<String, String>,
    /// New codes that cannot be compared with the earlier version.
    pub not_comparable: Vec<String>,
    /// Why declared continuations do not hold (missing earlier code, different options, ...).
    pub problems: Vec<String>,
}

fn answer_shape(q: &Question) -> (String, Option<Vec<(String, bool)>>) {
    let options = q.options().map(|os| {
        os.into_iter()
            .map(|o| (o.value, o.valid))
            .collect::<Vec<_>>()
    });
    let kind = match &q.kind {
        // A battery item is answered exactly like a single-choice question.
        QuestionKind::Battery { .. } => "single".to_owned(),
        k => k.type_name().to_owned(),
    };
    (kind, options)
}

impl Instrument {
    /// Parses and validates an instrument file. `file_name` is only used in error messages.
    pub fn from_toml(bytes: &[u8], file_name: &str) -> Result<Instrument, Vec<InstrumentError>> {
        let fail = |location, message: String| {
            Err(vec![InstrumentError {
                file: file_name.to_owned(),
                location,
                message,
            }])
        };
        if bytes.len() > MAX_FILE_BYTES {
            return fail(
                Location::File,
                format!(
                    "file is too large ({} bytes; the limit is 1 MiB = {MAX_FILE_BYTES} bytes)",
                    bytes.len()
                ),
            );
        }
        let text = match std::str::from_utf8(bytes) {
            Ok(t) => t,
            Err(e) => {
                let offset = e.valid_up_to();
                let before = bytes.get(..offset).unwrap_or_default();
                let line = before.iter().filter(|b| **b == b'\n').count() + 1;
                let bad = bytes.get(offset).copied().unwrap_or(0);
                return fail(
                    Location::Byte { offset, line },
                    format!(
                        "file is not valid UTF-8: byte 0x{bad:02X} at offset {offset} (line {line}); save it as UTF-8"
                    ),
                );
            }
        };
        // Editors on Windows like to add a byte-order mark; TOML does not allow one.
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let (root, syntax) = DeTable::parse_recoverable(text);
        let mut reader = TomlReader {
            file: file_name,
            text,
            lines: LineIndex::new(text),
            errors: Vec::new(),
        };
        if !syntax.is_empty() {
            // Locating an error costs a scan of the text, so only the listed ones are located.
            let total = syntax.len();
            for e in syntax.into_iter().take(MAX_REPORTED_ERRORS) {
                let span = e.span().unwrap_or(0..0);
                let message = format!("TOML syntax error: {}", e.message().replace('\n', "; "));
                reader.error(&span, "", message);
            }
            if total > MAX_REPORTED_ERRORS {
                reader.errors.push(InstrumentError {
                    file: file_name.to_owned(),
                    location: Location::File,
                    message: format!(
                        "... and {} more errors (only the first {MAX_REPORTED_ERRORS} are listed)",
                        total - MAX_REPORTED_ERRORS
                    ),
                });
            }
            return Err(reader.errors);
        }
        match reader.root(&root) {
            Some(draft) => {
                validate(draft, file_name, reader.errors).map_err(|e| limit_errors(e, file_name))
            }
            None => Err(limit_errors(reader.errors, file_name)),
        }
    }

    /// The stable instrument code (e.g. `par-leader`).
    pub fn code(&self) -> &str {
        &self.code
    }

    /// The version number.
    pub fn version(&self) -> u32 {
        self.version
    }

    /// The respondent group.
    pub fn group(&self) -> RespondentGroup {
        self.group
    }

    /// Where the content comes from.
    pub fn provenance(&self) -> &str {
        &self.provenance
    }

    /// The survey title.
    pub fn title(&self) -> &Text {
        &self.title
    }

    /// Instructions shown before the first page.
    pub fn instructions(&self) -> Option<&Text> {
        self.instructions.as_ref()
    }

    /// The earlier version this one continues.
    pub fn continues(&self) -> Option<&Continues> {
        self.continues.as_ref()
    }

    /// The shared choice lists by name.
    pub fn choice_lists(&self) -> &BTreeMap<String, Vec<ChoiceOption>> {
        &self.choice_lists
    }

    /// The pages, in order.
    pub fn sections(&self) -> &[Section] {
        &self.sections
    }

    /// A page by code.
    pub fn section(&self, code: &str) -> Option<&Section> {
        self.sections.iter().find(|s| s.code == code)
    }

    /// All questions, in order.
    pub fn questions(&self) -> impl Iterator<Item = &Question> {
        self.sections.iter().flat_map(|s| s.questions.iter())
    }

    /// A question by its own code (not a battery item's code; see [`Self::locate`]).
    pub fn question(&self, code: &str) -> Option<&Question> {
        self.questions().find(|q| q.code == code)
    }

    /// The question (and battery item) an answer code belongs to.
    pub fn locate(&self, answer_code: &str) -> Option<(&Question, Option<&BatteryItem>)> {
        self.questions().find_map(|q| match &q.kind {
            QuestionKind::Battery { items, .. } => items
                .iter()
                .find(|i| i.code == answer_code)
                .map(|i| (q, Some(i))),
            _ => (q.code == answer_code).then_some((q, None)),
        })
    }

    /// Every code an answer can be stored under, in instrument order.
    pub fn answer_codes(&self) -> impl Iterator<Item = &str> {
        self.questions().flat_map(|q| q.answer_codes())
    }

    /// The items scoring may use: `single`, `yes_no` and battery items not marked
    /// `scored = false`, with their options in scale order.
    pub fn scorable_items(&self) -> Vec<ScorableItem> {
        let item = |code: &str, options: &[ChoiceOption]| ScorableItem {
            code: code.to_owned(),
            options: options
                .iter()
                .map(|o| ScorableOption {
                    value: o.value.clone(),
                    valid_for_scoring: o.valid,
                })
                .collect(),
        };
        let mut out = Vec::new();
        for q in self.questions() {
            match &q.kind {
                QuestionKind::Single {
                    choices,
                    scored: true,
                } => out.push(item(&q.code, &choices.options)),
                QuestionKind::YesNo { scored: true } => {
                    out.push(item(&q.code, &yes_no_options()));
                }
                QuestionKind::Battery {
                    choices,
                    items,
                    scored: true,
                } => out.extend(items.iter().map(|i| item(&i.code, &choices.options))),
                _ => {}
            }
        }
        out
    }

    /// SHA-256 (hex) of the canonical form of the validated definition: layout, comments and
    /// key order in the file do not matter, any change of content does.
    pub fn content_hash(&self) -> String {
        let mut hasher = Sha256::new();
        hasher.update(FORMAT.as_bytes());
        hasher.update(b"\n");
        // Serialising the validated model to JSON cannot fail (string keys, finite numbers);
        // hashing the Debug form instead would still be deterministic if it ever did.
        match serde_json::to_vec(self) {
            Ok(bytes) => hasher.update(&bytes),
            Err(_) => hasher.update(format!("{self:?}").as_bytes()),
        }
        hex::encode(hasher.finalize())
    }

    /// For every answer code: the earlier code it continues, or `None` when it is new (or the
    /// instrument declares no earlier version).
    pub fn continuation_map(&self) -> BTreeMap<String, Option<String>> {
        let resolve = |code: &str, c: &Continuation| match (&self.continues, c) {
            (None, _) | (_, Continuation::New) => None,
            (Some(_), Continuation::Same) => Some(code.to_owned()),
            (Some(_), Continuation::From(old)) => Some(old.clone()),
        };
        let mut out = BTreeMap::new();
        for q in self.questions() {
            match &q.kind {
                QuestionKind::Battery { items, .. } => {
                    for i in items {
                        out.insert(i.code.clone(), resolve(&i.code, &i.continues));
                    }
                }
                _ => {
                    out.insert(q.code.clone(), resolve(&q.code, &q.continues));
                }
            }
        }
        out
    }

    /// Answer codes that are not comparable with the earlier version, in instrument order.
    pub fn not_comparable(&self) -> Vec<String> {
        let map = self.continuation_map();
        self.answer_codes()
            .filter(|c| map.get(*c).is_some_and(Option::is_none))
            .map(str::to_owned)
            .collect()
    }

    /// Checks the declared continuations against the earlier instrument: an item is comparable
    /// when its earlier code exists there and is answered the same way (same type, same option
    /// codes and validity).
    pub fn comparability_with(&self, previous: &Instrument) -> Comparability {
        let mut out = Comparability::default();
        let declared = self
            .continues
            .as_ref()
            .is_some_and(|c| c.instrument == previous.code && c.version == previous.version);
        if !declared {
            out.problems.push(format!(
                "{} version {} does not declare that it continues {} version {}",
                self.code, self.version, previous.code, previous.version
            ));
            out.not_comparable = self.answer_codes().map(str::to_owned).collect();
            return out;
        }
        let map = self.continuation_map();
        for code in self.answer_codes() {
            let Some(Some(old)) = map.get(code) else {
                out.not_comparable.push(code.to_owned());
                continue;
            };
            let new_shape = self.locate(code).map(|(q, _)| answer_shape(q));
            let old_shape = previous.locate(old).map(|(q, _)| answer_shape(q));
            match (new_shape, old_shape) {
                (Some(a), Some(b)) if a == b => {
                    out.pairs.insert(code.to_owned(), old.clone());
                }
                (_, None) => {
                    out.problems.push(format!(
                        "'{code}' continues '{old}', which {} version {} does not have",
                        previous.code, previous.version
                    ));
                    out.not_comparable.push(code.to_owned());
                }
                _ => {
                    out.problems.push(format!(
                        "'{code}' continues '{old}' but is answered differently (type or options changed)"
                    ));
                    out.not_comparable.push(code.to_owned());
                }
            }
        }
        out
    }

    /// Writes the instrument in the TOML format; parsing the result gives the same
    /// [`Self::content_hash`].
    pub fn to_toml(&self) -> String {
        let mut w = String::new();
        let mut line = |s: String| {
            w.push_str(&s);
            w.push('\n');
        };
        line(format!("format = {}", tq(FORMAT)));
        line(format!("code = {}", tq(&self.code)));
        line(format!("version = {}", self.version));
        line(format!("group = {}", tq(self.group.code())));
        line(format!("provenance = {}", tq(&self.provenance)));
        line(format!("title = {}", tt(&self.title)));
        if let Some(i) = &self.instructions {
            line(format!("instructions = {}", tt(i)));
        }
        if let Some(c) = &self.continues {
            line(format!(
                "continues = {{ instrument = {}, version = {} }}",
                tq(&c.instrument),
                c.version
            ));
        }
        for (name, options) in &self.choice_lists {
            line(String::new());
            line(format!("[choices.{name}]"));
            line(format!("options = {}", toptions(options)));
        }
        for s in &self.sections {
            line(String::new());
            line("[[sections]]".to_owned());
            line(format!("code = {}", tq(&s.code)));
            line(format!("title = {}", tt(&s.title)));
            if let Some(i) = &s.intro {
                line(format!("intro = {}", tt(i)));
            }
            if let Some(r) = &s.relevant {
                line(format!("relevant = {}", tq(&r.to_string())));
            }
            for q in &s.questions {
                line(String::new());
                line("[[sections.questions]]".to_owned());
                line(format!("code = {}", tq(&q.code)));
                line(format!("type = {}", tq(q.kind.type_name())));
                line(format!("label = {}", tt(&q.label)));
                if let Some(h) = &q.hint {
                    line(format!("hint = {}", tt(h)));
                }
                if q.required {
                    line("required = true".to_owned());
                }
                if let Some(r) = &q.relevant {
                    line(format!("relevant = {}", tq(&r.to_string())));
                }
                if let Some(c) = &q.constraint {
                    line(format!("constraint = {}", tq(&c.expr.to_string())));
                    if let Some(m) = &c.message {
                        line(format!("constraint_message = {}", tt(m)));
                    }
                }
                if let Some(c) = q.kind.choices() {
                    match &c.list {
                        Some(name) => line(format!("choices = {}", tq(name))),
                        None => line(format!("choices = {}", toptions(&c.options))),
                    }
                }
                match &q.kind {
                    QuestionKind::Battery { items, .. } => {
                        line("items = [".to_owned());
                        for i in items {
                            line(format!(
                                "  {{ code = {}, label = {}{} }},",
                                tq(&i.code),
                                tt(&i.label),
                                tcont(&i.continues)
                                    .map(|c| format!(", continues = {c}"))
                                    .unwrap_or_default()
                            ));
                        }
                        line("]".to_owned());
                    }
                    QuestionKind::Integer { min, max } => {
                        if let Some(m) = min {
                            line(format!("min = {m}"));
                        }
                        if let Some(m) = max {
                            line(format!("max = {m}"));
                        }
                    }
                    QuestionKind::Decimal { min, max } => {
                        if let Some(m) = min {
                            line(format!("min = {}", tf(*m)));
                        }
                        if let Some(m) = max {
                            line(format!("max = {}", tf(*m)));
                        }
                    }
                    QuestionKind::Text { max_length } | QuestionKind::LongText { max_length } => {
                        line(format!("max_length = {max_length}"));
                    }
                    _ => {}
                }
                if matches!(
                    q.kind,
                    QuestionKind::Single { scored: false, .. }
                        | QuestionKind::Battery { scored: false, .. }
                        | QuestionKind::YesNo { scored: false }
                ) {
                    line("scored = false".to_owned());
                }
                if let Some(c) = tcont(&q.continues) {
                    line(format!("continues = {c}"));
                }
            }
        }
        w
    }
}

/// A TOML string literal (basic string, escaped).
fn tq(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn tt(t: &Text) -> String {
    format!("{{ vi = {}, en = {} }}", tq(&t.vi), tq(&t.en))
}

fn tf(f: f64) -> String {
    // `{:?}` always prints a decimal point or exponent and round-trips exactly.
    let s = format!("{f:?}");
    if s.contains(['.', 'e', 'E']) {
        s
    } else {
        format!("{s}.0")
    }
}

fn tcont(c: &Continuation) -> Option<String> {
    match c {
        Continuation::Same => None,
        Continuation::From(old) => Some(tq(old)),
        Continuation::New => Some("false".to_owned()),
    }
}

fn toptions(options: &[ChoiceOption]) -> String {
    let mut s = String::from("[\n");
    for o in options {
        s.push_str(&format!(
            "  {{ value = {}, label = {}{} }},\n",
            tq(&o.value),
            tt(&o.label),
            if o.valid { "" } else { ", valid = false" }
        ));
    }
    s.push(']');
    s
}

// ---------------------------------------------------------------------------------------------
// Diff.
// ---------------------------------------------------------------------------------------------

/// What happened to a diffed element.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DiffKind {
    /// Only in the newer instrument.
    Added,
    /// Only in the older instrument.
    Removed,
    /// In both, with a different field.
    Changed,
}

/// The element a diff entry is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum DiffTarget {
    /// The instrument header.
    Instrument,
    /// A section, by code.
    Section(String),
    /// A question, by code.
    Question(String),
    /// A battery item, by code.
    Item(String),
}

/// One difference between two instruments.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DiffEntry {
    /// Added, removed or changed.
    pub kind: DiffKind,
    /// What it is about.
    pub target: DiffTarget,
    /// The changed field (`label.vi`, `options`, `relevant`, ...) for [`DiffKind::Changed`].
    pub field: Option<String>,
    /// The older value.
    pub before: Option<String>,
    /// The newer value.
    pub after: Option<String>,
}

type Facets = Vec<(&'static str, String)>;

fn text_facets(out: &mut Facets, vi: &'static str, en: &'static str, t: Option<&Text>) {
    out.push((vi, t.map(|t| t.vi.clone()).unwrap_or_default()));
    out.push((en, t.map(|t| t.en.clone()).unwrap_or_default()));
}

fn options_facet(options: &[ChoiceOption]) -> String {
    options
        .iter()
        .map(|o| {
            format!(
                "{}: {} / {}{}",
                o.value,
                o.label.vi,
                o.label.en,
                if o.valid { "" } else { " (not valid)" }
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

fn cont_facet(c: &Continuation) -> String {
    match c {
        Continuation::Same => "same code".to_owned(),
        Continuation::From(old) => old.clone(),
        Continuation::New => "new".to_owned(),
    }
}

fn question_facets(section: &str, q: &Question) -> Facets {
    let mut f: Facets = vec![
        ("section", section.to_owned()),
        ("type", q.kind.type_name().to_owned()),
    ];
    text_facets(&mut f, "label.vi", "label.en", Some(&q.label));
    text_facets(&mut f, "hint.vi", "hint.en", q.hint.as_ref());
    f.push(("required", q.required.to_string()));
    f.push((
        "relevant",
        q.relevant
            .as_ref()
            .map(|r| r.to_string())
            .unwrap_or_default(),
    ));
    f.push((
        "constraint",
        q.constraint
            .as_ref()
            .map(|c| c.expr.to_string())
            .unwrap_or_default(),
    ));
    f.push((
        "options",
        q.kind
            .choices()
            .map(|c| options_facet(&c.options))
            .unwrap_or_default(),
    ));
    let (min, max, max_length, scored) = match &q.kind {
        QuestionKind::Integer { min, max } => (
            min.map(|m| m.to_string()),
            max.map(|m| m.to_string()),
            None,
            None,
        ),
        QuestionKind::Decimal { min, max } => (
            min.map(|m| m.to_string()),
            max.map(|m| m.to_string()),
            None,
            None,
        ),
        QuestionKind::Text { max_length } | QuestionKind::LongText { max_length } => {
            (None, None, Some(max_length.to_string()), None)
        }
        QuestionKind::Single { scored, .. }
        | QuestionKind::Battery { scored, .. }
        | QuestionKind::YesNo { scored } => (None, None, None, Some(scored.to_string())),
        _ => (None, None, None, None),
    };
    f.push(("min", min.unwrap_or_default()));
    f.push(("max", max.unwrap_or_default()));
    f.push(("max_length", max_length.unwrap_or_default()));
    f.push(("scored", scored.unwrap_or_default()));
    f.push(("continues", cont_facet(&q.continues)));
    f
}

fn compare_facets(out: &mut Vec<DiffEntry>, target: &DiffTarget, a: &Facets, b: &Facets) {
    for ((name, before), (_, after)) in a.iter().zip(b.iter()) {
        if before != after {
            out.push(DiffEntry {
                kind: DiffKind::Changed,
                target: target.clone(),
                field: Some((*name).to_owned()),
                before: Some(before.clone()),
                after: Some(after.clone()),
            });
        }
    }
}

fn keyed_diff(
    out: &mut Vec<DiffEntry>,
    old: &[(String, Facets)],
    new: &[(String, Facets)],
    target: fn(String) -> DiffTarget,
) {
    let old_map: BTreeMap<&str, &Facets> = old.iter().map(|(k, f)| (k.as_str(), f)).collect();
    let new_keys: BTreeSet<&str> = new.iter().map(|(k, _)| k.as_str()).collect();
    for (key, facets) in old {
        if !new_keys.contains(key.as_str()) {
            out.push(DiffEntry {
                kind: DiffKind::Removed,
                target: target(key.clone()),
                field: None,
                before: facets
                    .iter()
                    .find(|(n, _)| *n == "label.vi" || *n == "title.vi")
                    .map(|(_, v)| v.clone()),
                after: None,
            });
        }
    }
    for (key, facets) in new {
        match old_map.get(key.as_str()) {
            None => out.push(DiffEntry {
                kind: DiffKind::Added,
                target: target(key.clone()),
                field: None,
                before: None,
                after: facets
                    .iter()
                    .find(|(n, _)| *n == "label.vi" || *n == "title.vi")
                    .map(|(_, v)| v.clone()),
            }),
            Some(old_facets) => compare_facets(out, &target(key.clone()), old_facets, facets),
        }
    }
}

/// The differences from `a` (older) to `b` (newer): header fields, sections, questions and
/// battery items matched by code, each changed field listed with its before/after value.
pub fn diff(a: &Instrument, b: &Instrument) -> Vec<DiffEntry> {
    let mut out = Vec::new();
    let header = |i: &Instrument| -> Facets {
        let mut f: Facets = vec![
            ("code", i.code.clone()),
            ("version", i.version.to_string()),
            ("group", i.group.code().to_owned()),
            ("provenance", i.provenance.clone()),
        ];
        text_facets(&mut f, "title.vi", "title.en", Some(&i.title));
        text_facets(
            &mut f,
            "instructions.vi",
            "instructions.en",
            i.instructions.as_ref(),
        );
        f.push((
            "continues",
            i.continues
                .as_ref()
                .map(|c| format!("{} version {}", c.instrument, c.version))
                .unwrap_or_default(),
        ));
        f
    };
    compare_facets(&mut out, &DiffTarget::Instrument, &header(a), &header(b));

    let sections = |i: &Instrument| -> Vec<(String, Facets)> {
        i.sections
            .iter()
            .map(|s| {
                let mut f = Facets::new();
                text_facets(&mut f, "title.vi", "title.en", Some(&s.title));
                text_facets(&mut f, "intro.vi", "intro.en", s.intro.as_ref());
                f.push((
                    "relevant",
                    s.relevant
                        .as_ref()
                        .map(|r| r.to_string())
                        .unwrap_or_default(),
                ));
                (s.code.clone(), f)
            })
            .collect()
    };
    keyed_diff(&mut out, &sections(a), &sections(b), DiffTarget::Section);

    let questions = |i: &Instrument| -> Vec<(String, Facets)> {
        i.sections
            .iter()
            .flat_map(|s| {
                s.questions
                    .iter()
                    .map(|q| (q.code.clone(), question_facets(&s.code, q)))
            })
            .collect()
    };
    keyed_diff(&mut out, &questions(a), &questions(b), DiffTarget::Question);

    let items = |i: &Instrument| -> Vec<(String, Facets)> {
        i.questions()
            .filter_map(|q| match &q.kind {
                QuestionKind::Battery { items, .. } => Some(items.iter().map(|it| {
                    let mut f: Facets = vec![("battery", q.code.clone())];
                    text_facets(&mut f, "label.vi", "label.en", Some(&it.label));
                    f.push(("continues", cont_facet(&it.continues)));
                    (it.code.clone(), f)
                })),
                _ => None,
            })
            .flatten()
            .collect()
    };
    keyed_diff(&mut out, &items(a), &items(b), DiffTarget::Item);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = r#"format = "khaosat-instrument/1"
code = "demo"
version = 2
group = "leader"
provenance = "written for tests"
title = { vi = "Thử", en = "Test" }
"#;

    const BODY: &str = r#"
[choices.agree4]
options = [
  { value = "1", label = { vi = "Rất tốt", en = "Very good" } },
  { value = "2", label = { vi = "Tốt", en = "Good" } },
  { value = "3", label = { vi = "Kém", en = "Poor" } },
  { value = "4", label = { vi = "Rất kém", en = "Very poor" } },
  { value = "dk", label = { vi = "Không biết", en = "Don't know" }, valid = false },
]

[[sections]]
code = "s1"
title = { vi = "Phần 1", en = "Part 1" }

[[sections.questions]]
code = "q1"
type = "single"
choices = "agree4"
label = { vi = "Câu 1", en = "Question 1" }
required = true

[[sections.questions]]
code = "q2"
type = "yes_no"
label = { vi = "Câu 2", en = "Question 2" }

[[sections.questions]]
code = "q3"
type = "integer"
min = 0
max = 50
label = { vi = "Câu 3", en = "Question 3" }
relevant = "q2 == 'yes' and q1 in [1, 2]"

[[sections]]
code = "s2"
title = { vi = "Phần 2", en = "Part 2" }

[[sections.questions]]
code = "b"
type = "battery"
choices = "agree4"
label = { vi = "Nhóm", en = "Battery" }
items = [
  { code = "b_1", label = { vi = "Mục 1", en = "Item 1" } },
  { code = "b_2", label = { vi = "Mục 2", en = "Item 2" } },
]

[[sections.questions]]
code = "note"
type = "long_text"
label = { vi = "Ý kiến", en = "Comments" }
relevant = "b_1 != 'dk'"
"#;

    fn parse(src: &str) -> Result<Instrument, Vec<InstrumentError>> {
        Instrument::from_toml(src.as_bytes(), "demo.toml")
    }

    fn errors(src: &str) -> Vec<String> {
        match parse(src) {
            Ok(_) => panic!("expected errors"),
            Err(es) => es.iter().map(ToString::to_string).collect(),
        }
    }

    fn valid() -> Instrument {
        parse(&format!("{HEADER}{BODY}")).unwrap()
    }

    /// The 1-based line of the first occurrence of `needle` in the test document.
    fn line_of(doc: &str, needle: &str) -> usize {
        let at = doc.find(needle).unwrap();
        doc[..at].matches('\n').count() + 1
    }

    #[test]
    fn valid_instrument_parses_with_its_structure() {
        let i = valid();
        assert_eq!(i.code(), "demo");
        assert_eq!(i.version(), 2);
        assert_eq!(i.group(), RespondentGroup::Leader);
        assert_eq!(i.sections().len(), 2);
        let codes: Vec<_> = i.answer_codes().collect();
        assert_eq!(codes, ["q1", "q2", "q3", "b_1", "b_2", "note"]);
        assert_eq!(i.question("q1").unwrap().label.get(Lang::En), "Question 1");
        assert!(matches!(
            i.locate("b_2"),
            Some((q, Some(item))) if q.code == "b" && item.code == "b_2"
        ));
        assert!(matches!(
            i.question("note").unwrap().kind,
            QuestionKind::LongText { max_length: 5_000 }
        ));
    }

    #[test]
    fn scorable_items_are_singles_yes_nos_and_battery_items_with_validity() {
        let items = valid().scorable_items();
        let codes: Vec<_> = items.iter().map(|i| i.code.as_str()).collect();
        assert_eq!(codes, ["q1", "q2", "b_1", "b_2"]);
        let q1: Vec<_> = items[0]
            .options
            .iter()
            .map(|o| (o.value.as_str(), o.valid_for_scoring))
            .collect();
        assert_eq!(
            q1,
            [
                ("1", true),
                ("2", true),
                ("3", true),
                ("4", true),
                ("dk", false)
            ]
        );
        assert_eq!(items[1].options.len(), 2);
    }

    #[test]
    fn export_round_trips_with_the_same_hash() {
        let i = valid();
        let exported = i.to_toml();
        let again = Instrument::from_toml(exported.as_bytes(), "export.toml").unwrap();
        assert_eq!(again, i);
        assert_eq!(again.content_hash(), i.content_hash());
        assert_eq!(again.to_toml(), exported);
    }

    #[test]
    fn layout_does_not_change_the_hash_but_content_does() {
        let i = valid();
        let reformatted = format!("{HEADER}\n# a comment\n{}", BODY.replace(" = ", "   =   "));
        assert_eq!(
            parse(&reformatted).unwrap().content_hash(),
            i.content_hash()
        );
        let changed = format!("{HEADER}{}", BODY.replace("Câu 1", "Câu một"));
        assert_ne!(parse(&changed).unwrap().content_hash(), i.content_hash());
        assert_eq!(i.content_hash().len(), 64);
    }

    #[test]
    fn duplicate_question_code_is_reported_with_its_line() {
        let doc = format!(
            "{HEADER}{}",
            BODY.replace("code = \"note\"", "code = \"q1\"")
        );
        let first = line_of(&doc, "code = \"q1\"");
        let second = line_of(&doc, "code = \"q1\"\ntype = \"long_text\"");
        assert_eq!(
            errors(&doc),
            [format!(
                "demo.toml:{second}:8: sections[1].questions[1].code: duplicate question code 'q1' (already used at line {first})"
            )]
        );
    }

    #[test]
    fn duplicate_battery_item_code_is_reported_with_its_line() {
        let doc = format!(
            "{HEADER}{}",
            BODY.replace("code = \"b_2\"", "code = \"q2\"")
        );
        let line = line_of(&doc, "{ code = \"q2\"");
        let first = line_of(&doc, "code = \"q2\"");
        assert_eq!(
            errors(&doc),
            [format!(
                "demo.toml:{line}:12: sections[1].questions[0].items[1].code: duplicate battery item code 'q2' (already used at line {first})"
            )]
        );
    }

    #[test]
    fn duplicate_section_code_is_reported_with_its_line() {
        let doc = format!("{HEADER}{}", BODY.replace("code = \"s2\"", "code = \"s1\""));
        let line = line_of(&doc, "code = \"s1\"\ntitle = { vi = \"Phần 2\"");
        assert_eq!(
            errors(&doc),
            [format!(
                "demo.toml:{line}:8: sections[1].code: duplicate section code 's1' (already used at line {})",
                line_of(&doc, "code = \"s1\"")
            )]
        );
    }

    #[test]
    fn duplicate_option_value_is_reported_with_its_line() {
        let doc = format!("{HEADER}{}", BODY.replace("value = \"4\"", "value = \"3\""));
        let line = line_of(&doc, "{ value = \"3\", label = { vi = \"Rất kém\"");
        assert_eq!(
            errors(&doc),
            [format!(
                "demo.toml:{line}:13: choices.agree4.options[3].value: duplicate option value '3' in choice list 'agree4' (already used at line {})",
                line - 1
            )]
        );
    }

    #[test]
    fn unknown_question_in_a_condition_is_reported() {
        let doc = format!("{HEADER}{}", BODY.replace("q2 == 'yes'", "q9 == 'yes'"));
        let line = line_of(&doc, "relevant = \"q9");
        assert_eq!(
            errors(&doc),
            [format!(
                "demo.toml:{line}:12: sections[0].questions[2].relevant: unknown question code 'q9' in condition"
            )]
        );
    }

    #[test]
    fn condition_referring_to_itself_is_circular() {
        let doc = format!("{HEADER}{}", BODY.replace("q2 == 'yes'", "q3 > 1"));
        let line = line_of(&doc, "relevant = \"q3");
        assert_eq!(
            errors(&doc),
            [format!(
                "demo.toml:{line}:12: sections[0].questions[2].relevant: condition of 'q3' refers to 'q3' itself (a circular condition)"
            )]
        );
    }

    #[test]
    fn condition_referring_to_a_later_question_is_rejected() {
        let doc = format!("{HEADER}{}", BODY.replace("q2 == 'yes'", "b_1 == 1"));
        let line = line_of(&doc, "relevant = \"b_1 == 1");
        assert_eq!(
            errors(&doc),
            [format!(
                "demo.toml:{line}:12: sections[0].questions[2].relevant: condition of 'q3' refers to 'b_1', which comes later in the instrument (conditions may only refer to earlier answers, which also rules out circular conditions)"
            )]
        );
    }

    #[test]
    fn a_two_question_cycle_is_reported_on_the_forward_edge() {
        let doc = format!(
            "{HEADER}{}",
            BODY.replace(
                "label = { vi = \"Câu 2\", en = \"Question 2\" }",
                "label = { vi = \"Câu 2\", en = \"Question 2\" }\nrelevant = \"q3 > 1\""
            )
        );
        let es = errors(&doc);
        assert_eq!(es.len(), 1, "{es:?}");
        assert!(es[0].ends_with(
            "sections[0].questions[1].relevant: condition of 'q2' refers to 'q3', which comes later in the instrument (conditions may only refer to earlier answers, which also rules out circular conditions)"
        ));
    }

    #[test]
    fn conditions_must_use_existing_option_codes_and_items_not_batteries() {
        let doc = format!(
            "{HEADER}{}",
            BODY.replace("q1 in [1, 2]", "q1 in [1, 7]")
                .replace("b_1 != 'dk'", "b != 'dk'")
        );
        let es = errors(&doc);
        assert_eq!(es.len(), 2, "{es:?}");
        assert!(es[0].ends_with("'q1' has no option '7' (its options are: 1, 2, 3, 4, dk)"));
        assert!(
            es[1].ends_with("'b' is a battery; a condition must name one of its items (b_1, b_2)")
        );
    }

    #[test]
    fn a_syntax_error_in_a_condition_names_the_column_inside_it() {
        let doc = format!("{HEADER}{}", BODY.replace("q2 == 'yes'", "q2 == "));
        let line = line_of(&doc, "relevant = \"q2 == ");
        assert_eq!(
            errors(&doc),
            [format!(
                "demo.toml:{line}:12: sections[0].questions[2].relevant: invalid condition: expected a value after '==', found 'and' (comparisons are between a question and a literal; quote text values) at column 8"
            )]
        );
    }

    #[test]
    fn a_scale_with_no_valid_option_is_rejected() {
        let body = BODY.replace(
            "[choices.agree4]",
            "[choices.dk_only]\noptions = [ { value = \"dk\", label = { vi = \"Không biết\", en = \"Don't know\" }, valid = false } ]\n\n[choices.agree4]",
        );
        let doc = format!("{HEADER}{body}");
        let line = line_of(&doc, "[choices.dk_only]");
        assert_eq!(
            errors(&doc),
            [format!(
                "demo.toml:{line}:10: choices.dk_only: choice list 'dk_only' has no valid option (every option has valid = false)"
            )]
        );
    }

    #[test]
    fn unknown_choice_list_is_reported() {
        let doc = format!(
            "{HEADER}{}",
            BODY.replacen("choices = \"agree4\"", "choices = \"agree5\"", 1)
        );
        let line = line_of(&doc, "choices = \"agree5\"");
        assert_eq!(
            errors(&doc),
            [format!(
                "demo.toml:{line}:11: sections[0].questions[0].choices: unknown choice list 'agree5' (defined lists: agree4)"
            )]
        );
    }

    #[test]
    fn min_greater_than_max_is_reported() {
        let doc = format!("{HEADER}{}", BODY.replace("min = 0", "min = 60"));
        let line = line_of(&doc, "min = 60");
        assert_eq!(
            errors(&doc),
            [format!(
                "demo.toml:{line}:7: sections[0].questions[2].min: min (60) is greater than max (50)"
            )]
        );
    }

    #[test]
    fn oversized_file_is_rejected() {
        let doc = format!("{HEADER}{BODY}#{}\n", "x".repeat(MAX_FILE_BYTES));
        assert_eq!(
            errors(&doc),
            [format!(
                "demo.toml: file is too large ({} bytes; the limit is 1 MiB = 1048576 bytes)",
                doc.len()
            )]
        );
    }

    #[test]
    fn non_utf8_input_reports_the_first_bad_byte() {
        let mut bytes = HEADER.as_bytes().to_vec();
        let offset = bytes.len();
        bytes.extend_from_slice(b"provenance2 = \"\xFF\"\n");
        let es = Instrument::from_toml(&bytes, "demo.toml").unwrap_err();
        assert_eq!(es.len(), 1);
        assert_eq!(
            es[0].location,
            Location::Byte {
                offset: offset + 15,
                line: 7
            }
        );
        assert_eq!(
            es[0].to_string(),
            format!(
                "demo.toml:7: byte {}: file is not valid UTF-8: byte 0xFF at offset {} (line 7); save it as UTF-8",
                offset + 15,
                offset + 15
            )
        );
    }

    #[test]
    fn toml_syntax_errors_have_line_and_column() {
        let doc = format!(
            "{HEADER}{}",
            BODY.replace("type = \"yes_no\"", "type = yes_no\"")
        );
        let line = line_of(&doc, "type = yes_no");
        let es = errors(&doc);
        assert!(!es.is_empty());
        assert!(
            es[0].starts_with(&format!("demo.toml:{line}:8: TOML syntax error: ")),
            "{es:?}"
        );
    }

    #[test]
    fn unknown_fields_are_all_reported() {
        let doc = format!(
            "{HEADER}colour = \"red\"\n{}",
            BODY.replace("required = true", "requried = true")
                .replace("{ code = \"b_1\", label", "{ code = \"b_1\", lable")
        );
        let es = errors(&doc);
        assert_eq!(es.len(), 4, "{es:?}");
        assert_eq!(
            es[0],
            "demo.toml:7:1: colour: unknown field `colour` (expected one of: format, code, version, group, provenance, title, instructions, continues, choices, sections)"
        );
        let line = line_of(&doc, "requried");
        assert!(es[1].starts_with(&format!(
            "demo.toml:{line}:1: sections[0].questions[0].requried: unknown field `requried` (expected one of: code, type,"
        )));
        let line = line_of(&doc, "lable");
        assert_eq!(
            es[2],
            format!(
                "demo.toml:{line}:3: sections[1].questions[0].items[0].label: missing field `label`"
            )
        );
        assert_eq!(
            es[3],
            format!(
                "demo.toml:{line}:19: sections[1].questions[0].items[0].lable: unknown field `lable` (expected one of: code, label, continues)"
            )
        );
    }

    #[test]
    fn unknown_format_is_the_only_error_reported() {
        let doc = format!(
            "{}colour = 1\n{BODY}",
            HEADER.replace("khaosat-instrument/1", "khaosat-instrument/2")
        );
        assert_eq!(
            errors(&doc),
            [
                "demo.toml:1:10: format: unknown format 'khaosat-instrument/2' (this version reads \"khaosat-instrument/1\")"
            ]
        );
        assert_eq!(
            errors("code = \"x\"\n"),
            ["demo.toml:1:1: format: missing field `format` (expected \"khaosat-instrument/1\")"]
        );
    }

    #[test]
    fn unknown_question_type_is_reported() {
        let doc = format!(
            "{HEADER}{}",
            BODY.replace("type = \"yes_no\"", "type = \"yesno\"")
        );
        let line = line_of(&doc, "type = \"yesno\"");
        assert_eq!(
            errors(&doc),
            [format!(
                "demo.toml:{line}:8: sections[0].questions[1].type: unknown question type 'yesno' (expected one of: single, multiple, battery, yes_no, integer, decimal, text, long_text, date)"
            )]
        );
    }

    #[test]
    fn fields_that_do_not_fit_the_type_are_reported() {
        let doc = format!(
            "{HEADER}{}",
            BODY.replace("required = true", "required = true\nmax_length = 10")
                .replace("group = \"leader\"", "group = \"leaders\"")
        );
        let doc = doc.replace("group = \"leader\"", "group = \"leaders\"");
        let es = errors(&doc);
        assert_eq!(es.len(), 2, "{es:?}");
        assert_eq!(
            es[0],
            "demo.toml:4:9: group: unknown respondent group 'leaders' (expected one of: leader, civil_servant, citizen)"
        );
        assert!(es[1].ends_with(
            "sections[0].questions[0].max_length: `max_length` is not allowed for a question of type 'single'"
        ));
    }

    #[test]
    fn all_errors_are_reported_in_file_order() {
        let doc = format!(
            "{HEADER}{}",
            BODY.replace("min = 0", "min = 60")
                .replace("type = \"yes_no\"", "type = \"yesno\"")
                .replace("code = \"b_2\"", "code = \"b_1\"")
        );
        let es = parse(&doc).unwrap_err();
        let lines: Vec<_> = es.iter().map(|e| e.location.line().unwrap()).collect();
        assert_eq!(es.len(), 3, "{es:?}");
        assert!(lines.windows(2).all(|w| w[0] <= w[1]));
    }

    #[test]
    fn question_level_continues_needs_an_instrument_level_one() {
        let doc = format!(
            "{HEADER}{}",
            BODY.replace("required = true", "continues = \"old_q1\"")
        );
        let es = errors(&doc);
        assert_eq!(es.len(), 1);
        assert!(es[0].ends_with(
            "sections[0].questions[0].continues: `continues` on a question needs the instrument-level `continues = { instrument = \"...\", version = N }`"
        ));
    }

    #[test]
    fn continuation_map_and_comparability_follow_the_declarations() {
        let old = valid();
        let header = format!(
            "{}continues = {{ instrument = \"demo\", version = 2 }}\n",
            HEADER.replace("version = 2", "version = 3")
        );
        let body = BODY
            .replace("code = \"q1\"", "code = \"q1n\"\ncontinues = \"q1\"")
            .replace("code = \"q3\"", "code = \"q3\"\ncontinues = false")
            .replace("{ code = \"b_2\", label = { vi = \"Mục 2\", en = \"Item 2\" } }", "{ code = \"b_2\", label = { vi = \"Mục 2\", en = \"Item 2\" } },\n  { code = \"b_3\", label = { vi = \"Mục 3\", en = \"Item 3\" }, continues = false }")
            .replace("q1 in [1, 2]", "q1n in [1, 2]");
        let new = parse(&format!("{header}{body}")).unwrap();
        let map = new.continuation_map();
        assert_eq!(map["q1n"], Some("q1".to_owned()));
        assert_eq!(map["q3"], None);
        assert_eq!(map["b_1"], Some("b_1".to_owned()));
        assert_eq!(map["b_3"], None);
        assert_eq!(new.not_comparable(), ["q3", "b_3"]);
        let c = new.comparability_with(&old);
        assert_eq!(c.not_comparable, ["q3", "b_3"]);
        assert_eq!(c.pairs.len(), 5);
        assert!(c.problems.is_empty());
        assert!(
            old.not_comparable().len() == 6,
            "a first version compares with nothing"
        );
        let back = old.comparability_with(&new);
        assert_eq!(
            back.problems,
            ["demo version 2 does not declare that it continues demo version 3"]
        );
    }

    #[test]
    fn diff_lists_added_removed_and_changed_fields() {
        let a = valid();
        let body = BODY
            .replace("Câu 1", "Câu một")
            .replace("required = true", "")
            .replace(
                "{ code = \"b_2\", label = { vi = \"Mục 2\", en = \"Item 2\" } },",
                "{ code = \"b_3\", label = { vi = \"Mục 3\", en = \"Item 3\" } },",
            );
        let b = parse(&format!("{HEADER}{body}")).unwrap();
        let d = diff(&a, &b);
        let summary: Vec<String> = d
            .iter()
            .map(|e| format!("{:?} {:?} {:?}", e.kind, e.target, e.field))
            .collect();
        assert_eq!(
            summary,
            [
                "Changed Question(\"q1\") Some(\"label.vi\")",
                "Changed Question(\"q1\") Some(\"required\")",
                "Removed Item(\"b_2\") None",
                "Added Item(\"b_3\") None",
            ]
        );
        assert_eq!(d[0].before.as_deref(), Some("Câu 1"));
        assert_eq!(d[0].after.as_deref(), Some("Câu một"));
        assert!(diff(&a, &a).is_empty());
    }

    #[test]
    fn line_index_finds_lines_and_character_columns() {
        let text = "ab\nçd\n\nx";
        let idx = LineIndex::new(text);
        assert_eq!(idx.line_col(text, 0), (1, 1));
        assert_eq!(idx.line_col(text, 2), (1, 3));
        assert_eq!(idx.line_col(text, 3), (2, 1));
        assert_eq!(idx.line_col(text, 5), (2, 2));
        assert_eq!(idx.line_col(text, 4), (2, 1));
        assert_eq!(idx.line_col(text, 8), (4, 1));
        assert_eq!(idx.line_col(text, 99), (4, 2));
    }

    #[test]
    fn a_large_instrument_parses_quickly() {
        let mut doc = format!(
            "{HEADER}{BODY}\n[[sections]]\ncode = \"big\"\ntitle = {{ vi = \"a\", en = \"b\" }}\n"
        );
        let mut n = 0;
        while doc.len() < MAX_FILE_BYTES - 300 {
            doc.push_str(&format!(
                "\n[[sections.questions]]\ncode = \"x{n}\"\ntype = \"single\"\nchoices = \"agree4\"\nlabel = {{ vi = \"Câu\", en = \"Q\" }}\nrelevant = \"q1 == 1\"\n"
            ));
            n += 1;
        }
        let started = std::time::Instant::now();
        let i = parse(&doc).unwrap();
        assert!(i.answer_codes().count() > 5_000);
        assert!(
            started.elapsed().as_secs() < 20,
            "took {:?}",
            started.elapsed()
        );
    }

    #[test]
    fn a_flood_of_errors_is_cut_off_with_a_count() {
        let doc = "= = =\n".repeat(500);
        let es = errors(&doc);
        assert_eq!(es.len(), MAX_REPORTED_ERRORS + 1);
        assert!(
            es[MAX_REPORTED_ERRORS].starts_with("demo.toml: ... and "),
            "{es:?}"
        );
    }

    #[test]
    fn arbitrary_bytes_never_panic_the_parser() {
        let base = format!("{HEADER}{BODY}").into_bytes();
        let mut seed: u64 = 0x2545_F491_4F6C_DD1D;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for round in 0..1_500 {
            let mut bytes = base.clone();
            // Mutate a valid document: flips, deletions and insertions of TOML-ish bytes.
            for _ in 0..(1 + next() % 8) {
                let at = (next() as usize) % bytes.len().max(1);
                match next() % 3 {
                    0 => bytes[at] = b"[]{}=\"',.#\n\xFF0a"[(next() % 14) as usize],
                    1 => {
                        bytes.remove(at);
                    }
                    _ => bytes.insert(at, (next() % 256) as u8),
                }
            }
            if round % 10 == 0 {
                bytes = (0..(next() % 300)).map(|_| (next() % 256) as u8).collect();
            }
            if let Ok(i) = Instrument::from_toml(&bytes, "fuzz.toml") {
                let again = Instrument::from_toml(i.to_toml().as_bytes(), "again.toml").unwrap();
                assert_eq!(again.content_hash(), i.content_hash());
            }
        }
    }
}
