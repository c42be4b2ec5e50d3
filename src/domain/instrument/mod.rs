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
//!
//! One concept per file:
//! - this file: the validated model ([`Instrument`], [`Section`], [`Question`], ...), its
//!   accessors and content hash;
//! - `error`: [`InstrumentError`] and its [`Location`];
//! - `draft`: what a reader extracted, before validation;
//! - `validate`: the draft → instrument rules shared by the TOML and XLSForm readers;
//! - `toml_reader` / `toml_writer`: [`Instrument::from_toml`] and [`Instrument::to_toml`];
//! - `features`: calculate, note, default, appearance, choice filters and `${code}`
//!   placeholders (checks and filling);
//! - `compare`: year-over-year [`Comparability`];
//! - `diff`: structured differences between two versions ([`diff()`]).

mod compare;
mod diff;
mod draft;
mod error;
mod features;
#[cfg(test)]
pub(crate) mod test_support;
mod toml_reader;
mod toml_writer;
mod validate;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::domain::expr::{Calc, ChoiceFilter, Expr};
use crate::domain::items::{ScorableItem, ScorableOption};

pub use crate::domain::source::Location;
pub use compare::Comparability;
pub use diff::{DiffEntry, DiffKind, DiffTarget, diff};
pub(crate) use draft::{
    At, DraftChoices, DraftContinuation, DraftInstrument, DraftItem, DraftList, DraftOption,
    DraftQuestion, DraftSection, Number,
};
pub use error::{InstrumentError, MAX_REPORTED_ERRORS};
pub(crate) use error::{group_errors, limit_errors, more_errors, place, sort_errors};
pub use features::{fill_placeholders, placeholders};
pub(crate) use validate::validate;

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
    /// Extra columns a `choice_filter` can compare (e.g. the province of a district).
    /// Left out of the hash when empty, so instruments without filters keep their hash.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub attributes: BTreeMap<String, String>,
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
    /// A value computed on the server from earlier answers and stored like an answer; never
    /// shown as a field.
    Calculate {
        /// The formula.
        calculation: Calc,
    },
    /// Text shown to the respondent (its label, with `${code}` filled in); stores nothing.
    Note,
}

/// How a choice question is laid out (XLSForm's `appearance`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Appearance {
    /// The options side by side as a scale, labels under the buttons.
    Likert,
    /// A drop-down list.
    Minimal,
    /// The options in a row that wraps.
    Horizontal,
}

impl Appearance {
    /// Every appearance, in documentation order.
    pub const ALL: [Appearance; 3] = [
        Appearance::Likert,
        Appearance::Minimal,
        Appearance::Horizontal,
    ];

    /// The name used in files.
    pub fn code(self) -> &'static str {
        match self {
            Appearance::Likert => "likert",
            Appearance::Minimal => "minimal",
            Appearance::Horizontal => "horizontal",
        }
    }

    /// Reads a name used in files.
    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.code() == code)
    }
}

/// The accepted `type` values.
pub const QUESTION_TYPES: [&str; 11] = [
    "single",
    "multiple",
    "battery",
    "yes_no",
    "integer",
    "decimal",
    "text",
    "long_text",
    "date",
    "calculate",
    "note",
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
            QuestionKind::Calculate { .. } => "calculate",
            QuestionKind::Note => "note",
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
    /// Shown instead of the standard message when a required answer is missing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub required_message: Option<Text>,
    /// The value the field starts with (an option code, a number, a date or a text).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
    /// The layout of a choice question.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub appearance: Option<Appearance>,
    /// Which options are offered, depending on earlier answers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub choice_filter: Option<ChoiceFilter>,
}

impl Question {
    /// The codes answers of this question are stored under.
    pub fn answer_codes(&self) -> Vec<&str> {
        match &self.kind {
            QuestionKind::Battery { items, .. } => items.iter().map(|i| i.code.as_str()).collect(),
            QuestionKind::Note => Vec::new(),
            _ => vec![self.code.as_str()],
        }
    }

    /// The options offered under `answers`: all of them, or those its `choice_filter` allows.
    pub fn offered_options<'q>(
        &'q self,
        answers: &impl crate::domain::expr::AnswerLookup,
    ) -> Vec<&'q ChoiceOption> {
        let Some(choices) = self.kind.choices() else {
            return Vec::new();
        };
        match &self.choice_filter {
            None => choices.options.iter().collect(),
            Some(filter) => choices
                .options
                .iter()
                .filter(|o| filter.allows(&o.value, &o.attributes, answers))
                .collect(),
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

impl Instrument {
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
}

/// The fixed options of a yes/no question (stored as `"yes"` / `"no"`).
pub fn yes_no_options() -> Vec<ChoiceOption> {
    vec![
        ChoiceOption {
            value: "yes".to_owned(),
            label: Text::new("Có", "Yes"),
            valid: true,
            attributes: BTreeMap::new(),
        },
        ChoiceOption {
            value: "no".to_owned(),
            label: Text::new("Không", "No"),
            valid: true,
            attributes: BTreeMap::new(),
        },
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::instrument::test_support::*;

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
}
