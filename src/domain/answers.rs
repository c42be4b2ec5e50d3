//! Answer values, the per-response answer map, and the decoder that turns a posted HTML form
//! into validated answers.
//!
//! Stored encoding (one JSON object per response, keyed by question or battery-item code) is
//! chosen so that every value is unambiguous without looking at the instrument:
//!
//! | value                      | JSON                      |
//! |----------------------------|---------------------------|
//! | single choice / yes-no     | `"2"`, `"yes"` (the option code as a string) |
//! | multiple choice            | `["1","3"]` (codes in the list's order)      |
//! | integer                    | `42`                       |
//! | decimal                    | `{"dec":"2.5"}` (canonical text: exact, no float rounding) |
//! | text / long text           | `{"text":"…"}`             |
//! | date                       | `{"date":"2023-05-01"}`    |
//!
//! e.g. `{"q1":"2","q5":["1","3"],"age":42,"note":{"text":"…"}}`.
//!
//! Form decoding rules: a question is only decoded when its section and its `relevant`
//! condition are true (evaluated against the earlier answers plus the answers decoded so far on
//! the page); values posted for hidden questions are dropped and never stored; `required` is
//! enforced only for relevant questions. Posted fields that name no question of the section
//! (CSRF tokens, buttons) are ignored.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

pub use crate::domain::answer_scan::for_each_choice;
pub use crate::domain::answer_value::{AnswerValue, normalize_decimal};

use crate::domain::answer_value::decimal_to_f64;
use crate::domain::expr::{AnswerLookup, Expr, SELF_REF};
use crate::domain::instrument::{
    ChoiceOption, Instrument, Question, QuestionKind, Section, Text, yes_no_options,
};

/// All answers of one response, keyed by question / battery-item code.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Answers(BTreeMap<String, AnswerValue>);

impl Answers {
    /// An empty answer set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Parses the stored JSON form.
    pub fn from_json(json: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(json)
    }

    /// The stored JSON form.
    pub fn to_json(&self) -> String {
        // Serialising string keys and these values cannot fail; fall back to an empty object
        // rather than panicking should that ever change.
        serde_json::to_string(&self.0).unwrap_or_else(|_| "{}".to_owned())
    }

    /// The answer for `code`.
    pub fn get(&self, code: &str) -> Option<&AnswerValue> {
        self.0.get(code)
    }

    /// Sets the answer for `code`, returning the previous one.
    pub fn insert(&mut self, code: String, value: AnswerValue) -> Option<AnswerValue> {
        self.0.insert(code, value)
    }

    /// Removes the answer for `code`.
    pub fn remove(&mut self, code: &str) -> Option<AnswerValue> {
        self.0.remove(code)
    }

    /// Iterates answers in code order.
    pub fn iter(&self) -> impl Iterator<Item = (&String, &AnswerValue)> {
        self.0.iter()
    }

    /// Copies every answer of `other` into `self`, replacing answers with the same code.
    pub fn merge(&mut self, other: &Answers) {
        for (k, v) in other.iter() {
            self.0.insert(k.clone(), v.clone());
        }
    }
}

impl From<BTreeMap<String, AnswerValue>> for Answers {
    fn from(map: BTreeMap<String, AnswerValue>) -> Self {
        Self(map)
    }
}

impl AnswerLookup for Answers {
    fn answer(&self, code: &str) -> Option<&AnswerValue> {
        self.0.get(code)
    }
}

/// Message keys of [`FieldError`]; the web layer translates them.
pub mod keys {
    /// A relevant required question was not answered.
    pub const REQUIRED: &str = "error.required";
    /// A posted option code is not one of the question's options. Param: `value`.
    pub const UNKNOWN_OPTION: &str = "error.unknown_option";
    /// Several different values were posted for a single-valued question.
    pub const MULTIPLE_VALUES: &str = "error.multiple_values";
    /// Not a whole number.
    pub const NOT_AN_INTEGER: &str = "error.not_an_integer";
    /// Not a decimal number.
    pub const NOT_A_NUMBER: &str = "error.not_a_number";
    /// Outside `min`..=`max`. Params: `min`, `max`.
    pub const OUT_OF_RANGE: &str = "error.out_of_range";
    /// Below `min` (no maximum). Param: `min`.
    pub const TOO_SMALL: &str = "error.too_small";
    /// Above `max` (no minimum). Param: `max`.
    pub const TOO_LARGE: &str = "error.too_large";
    /// Text longer than allowed. Params: `max`, `length`.
    pub const TOO_LONG: &str = "error.too_long";
    /// Not a valid `YYYY-MM-DD` date.
    pub const INVALID_DATE: &str = "error.invalid_date";
    /// The question's constraint is not met; see [`super::FieldError::message`].
    pub const CONSTRAINT: &str = "error.constraint";
}

/// A problem with one posted field, for the web layer to show next to it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    /// The form field: the question code, or a battery item's code.
    pub code: String,
    /// A translation key from [`keys`].
    pub message_key: &'static str,
    /// Parameters for the translated message (e.g. `min`, `max`, `value`).
    pub params: BTreeMap<&'static str, String>,
    /// The instrument's own bilingual message (a `constraint_message`), when it has one.
    pub message: Option<Text>,
}

impl FieldError {
    fn new(code: &str, message_key: &'static str) -> Self {
        Self {
            code: code.to_owned(),
            message_key,
            params: BTreeMap::new(),
            message: None,
        }
    }

    fn with(mut self, name: &'static str, value: impl ToString) -> Self {
        self.params.insert(name, value.to_string());
        self
    }
}

/// What decoding one page (section) produced.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DecodedSection {
    /// Valid answers of the section's relevant questions (invalid ones are left out).
    pub answers: Answers,
    /// Problems to show; the page must be shown again when this is not empty.
    pub errors: Vec<FieldError>,
}

/// Answers visible to a condition while a page is decoded: earlier answers, except that this
/// page's codes come only from what is being decoded now (old values were overwritten).
struct PageView<'a> {
    earlier: &'a Answers,
    page_codes: &'a BTreeSet<&'a str>,
    current: &'a Answers,
    own: Option<&'a AnswerValue>,
}

impl AnswerLookup for PageView<'_> {
    fn answer(&self, code: &str) -> Option<&AnswerValue> {
        if code == SELF_REF {
            self.own
        } else if self.page_codes.contains(code) {
            self.current.get(code)
        } else {
            self.earlier.get(code)
        }
    }
}

fn is_relevant(condition: Option<&Expr>, view: &impl AnswerLookup) -> bool {
    condition.is_none_or(|c| c.eval(view))
}

/// Decodes one posted page.
///
/// `fields` are the (name, value) pairs exactly as posted (a multiple choice posts its name once
/// per ticked box; a battery item posts under the item's code). `earlier` are all answers stored
/// so far for the response (old answers of this section are ignored). If the section itself is
/// not relevant nothing is decoded.
pub fn decode_section(
    section: &Section,
    fields: &[(String, String)],
    earlier: &Answers,
) -> DecodedSection {
    let mut out = DecodedSection::default();
    let page_codes: BTreeSet<&str> = section
        .questions
        .iter()
        .flat_map(|q| q.answer_codes())
        .collect();
    let empty = Answers::new();
    let section_view = PageView {
        earlier,
        page_codes: &page_codes,
        current: &empty,
        own: None,
    };
    if !is_relevant(section.relevant.as_ref(), &section_view) {
        return out;
    }
    for question in &section.questions {
        let view = PageView {
            earlier,
            page_codes: &page_codes,
            current: &out.answers,
            own: None,
        };
        if !is_relevant(question.relevant.as_ref(), &view) {
            continue;
        }
        if let QuestionKind::Calculate { calculation } = &question.kind {
            // Computed here, never taken from the post, so a respondent cannot set it.
            if let Some(value) = calculation.eval(&view) {
                out.answers.insert(question.code.clone(), value);
            }
            continue;
        }
        let mut decoded = Vec::new();
        let errors_before = out.errors.len();
        decode_question(question, fields, &mut decoded, &mut out.errors);
        if let Some(message) = &question.required_message {
            for e in &mut out.errors[errors_before..] {
                if e.message_key == keys::REQUIRED {
                    e.message = Some(message.clone());
                }
            }
        }
        if question.choice_filter.is_some() {
            // An option the filter does not offer is as unknown as one the list lacks.
            let view = PageView {
                earlier,
                page_codes: &page_codes,
                current: &out.answers,
                own: None,
            };
            let offered = question.offered_options(&view);
            decoded.retain(|(code, value)| {
                let chosen: Vec<&str> = match value {
                    AnswerValue::Choice(c) => vec![c.as_str()],
                    AnswerValue::Choices(cs) => cs.iter().map(String::as_str).collect(),
                    _ => Vec::new(),
                };
                let refused = chosen
                    .iter()
                    .find(|c| !offered.iter().any(|o| o.value == **c));
                if let Some(c) = refused {
                    out.errors
                        .push(FieldError::new(code, keys::UNKNOWN_OPTION).with("value", c));
                }
                refused.is_none()
            });
        }
        for (code, value) in decoded {
            if let Some(constraint) = &question.constraint {
                let view = PageView {
                    earlier,
                    page_codes: &page_codes,
                    current: &out.answers,
                    own: Some(&value),
                };
                if !constraint.expr.eval(&view) {
                    let mut e = FieldError::new(&code, keys::CONSTRAINT);
                    e.message = constraint.message.clone();
                    out.errors.push(e);
                    continue;
                }
            }
            out.answers.insert(code, value);
        }
    }
    out
}

fn posted<'a>(fields: &'a [(String, String)], code: &str) -> Vec<&'a str> {
    fields
        .iter()
        .filter(|(name, _)| name == code)
        .map(|(_, v)| v.trim())
        .filter(|v| !v.is_empty())
        .collect()
}

fn decode_question(
    q: &Question,
    fields: &[(String, String)],
    decoded: &mut Vec<(String, AnswerValue)>,
    errors: &mut Vec<FieldError>,
) {
    let code = q.code.as_str();
    let values = posted(fields, code);
    let before = errors.len();
    let value = match &q.kind {
        // Computed by the caller (calculate) or nothing to store (note).
        QuestionKind::Calculate { .. } | QuestionKind::Note => return,
        QuestionKind::Battery { choices, items, .. } => {
            for item in items {
                let values = posted(fields, &item.code);
                let before = errors.len();
                match decode_single(&item.code, &values, &choices.options, errors) {
                    Some(v) => decoded.push((item.code.clone(), v)),
                    None if q.required && errors.len() == before => {
                        errors.push(FieldError::new(&item.code, keys::REQUIRED));
                    }
                    None => {}
                }
            }
            return;
        }
        QuestionKind::Single { choices, .. } => {
            decode_single(code, &values, &choices.options, errors)
        }
        QuestionKind::YesNo { .. } => decode_single(code, &values, &yes_no_options(), errors),
        QuestionKind::Multiple { choices } => {
            let mut chosen = Vec::new();
            for v in &values {
                if !choices.options.iter().any(|o| o.value == *v) {
                    errors.push(FieldError::new(code, keys::UNKNOWN_OPTION).with("value", v));
                    return;
                }
            }
            // Keep the list's order so equal selections store equally.
            for option in &choices.options {
                if values.contains(&option.value.as_str()) {
                    chosen.push(option.value.clone());
                }
            }
            (!chosen.is_empty()).then_some(AnswerValue::Choices(chosen))
        }
        QuestionKind::Integer { min, max } => one_value(code, &values, errors).and_then(|v| {
            let Ok(n) = v.parse::<i64>() else {
                errors.push(FieldError::new(code, keys::NOT_AN_INTEGER));
                return None;
            };
            let (lo, hi) = (min.map(|m| m as f64), max.map(|m| m as f64));
            range_ok(code, n as f64, lo, hi, min, max, errors).then_some(AnswerValue::Integer(n))
        }),
        QuestionKind::Decimal { min, max } => one_value(code, &values, errors).and_then(|v| {
            let Some((text, n)) =
                normalize_decimal(v).and_then(|d| decimal_to_f64(&d).map(|n| (d, n)))
            else {
                errors.push(FieldError::new(code, keys::NOT_A_NUMBER));
                return None;
            };
            range_ok(code, n, *min, *max, min, max, errors).then_some(AnswerValue::Decimal(text))
        }),
        QuestionKind::Text { max_length } | QuestionKind::LongText { max_length } => {
            one_value(code, &values, errors).and_then(|v| {
                let text = v.replace("\r\n", "\n");
                let length = text.chars().count();
                if length > *max_length as usize {
                    errors.push(
                        FieldError::new(code, keys::TOO_LONG)
                            .with("max", max_length)
                            .with("length", length),
                    );
                    return None;
                }
                Some(AnswerValue::Text(text))
            })
        }
        QuestionKind::Date => one_value(code, &values, errors).and_then(|v| {
            match chrono::NaiveDate::parse_from_str(v, "%Y-%m-%d") {
                Ok(d) => Some(AnswerValue::Date(d)),
                Err(_) => {
                    errors.push(FieldError::new(code, keys::INVALID_DATE));
                    None
                }
            }
        }),
    };
    match value {
        Some(v) => decoded.push((code.to_owned(), v)),
        None if q.required && errors.len() == before => {
            errors.push(FieldError::new(code, keys::REQUIRED));
        }
        None => {}
    }
}

fn one_value<'a>(code: &str, values: &[&'a str], errors: &mut Vec<FieldError>) -> Option<&'a str> {
    match values {
        [] => None,
        [v] => Some(v),
        [first, rest @ ..] if rest.iter().all(|r| r == first) => Some(first),
        _ => {
            errors.push(FieldError::new(code, keys::MULTIPLE_VALUES));
            None
        }
    }
}

fn decode_single(
    code: &str,
    values: &[&str],
    options: &[ChoiceOption],
    errors: &mut Vec<FieldError>,
) -> Option<AnswerValue> {
    let v = one_value(code, values, errors)?;
    if options.iter().any(|o| o.value == v) {
        Some(AnswerValue::Choice(v.to_owned()))
    } else {
        errors.push(FieldError::new(code, keys::UNKNOWN_OPTION).with("value", v));
        None
    }
}

fn range_ok<T: ToString>(
    code: &str,
    n: f64,
    lo: Option<f64>,
    hi: Option<f64>,
    min: &Option<T>,
    max: &Option<T>,
    errors: &mut Vec<FieldError>,
) -> bool {
    let below = lo.is_some_and(|lo| n < lo);
    let above = hi.is_some_and(|hi| n > hi);
    if !below && !above {
        return true;
    }
    let e = match (min, max) {
        (Some(lo), Some(hi)) => FieldError::new(code, keys::OUT_OF_RANGE)
            .with("min", lo.to_string())
            .with("max", hi.to_string()),
        (Some(lo), None) => FieldError::new(code, keys::TOO_SMALL).with("min", lo.to_string()),
        (None, Some(hi)) => FieldError::new(code, keys::TOO_LARGE).with("max", hi.to_string()),
        (None, None) => return true,
    };
    errors.push(e);
    false
}

/// Re-applies relevance over a whole response: removes answers of questions (and sections) whose
/// condition is now false, and answers whose code the instrument does not have. Run it after a
/// respondent goes back and changes an earlier answer. Because conditions only refer to earlier
/// answers, one pass in instrument order is enough. Returns the removed codes.
pub fn prune_irrelevant(instrument: &Instrument, answers: &mut Answers) -> Vec<String> {
    let mut removed = Vec::new();
    let known: BTreeSet<&str> = instrument.answer_codes().collect();
    let unknown: Vec<String> = answers
        .iter()
        .map(|(k, _)| k)
        .filter(|k| !known.contains(k.as_str()))
        .cloned()
        .collect();
    for code in unknown {
        answers.remove(&code);
        removed.push(code);
    }
    for section in instrument.sections() {
        let section_shown = is_relevant(section.relevant.as_ref(), answers);
        for question in &section.questions {
            if section_shown && is_relevant(question.relevant.as_ref(), answers) {
                if let QuestionKind::Calculate { calculation } = &question.kind {
                    // Earlier answers may have changed since it was computed.
                    match calculation.eval(answers) {
                        Some(value) => {
                            answers.insert(question.code.clone(), value);
                        }
                        None => {
                            answers.remove(&question.code);
                        }
                    }
                }
                continue;
            }
            for code in question.answer_codes() {
                if answers.remove(code).is_some() {
                    removed.push(code.to_owned());
                }
            }
        }
    }
    removed
}

/// Required questions that are relevant under `answers` but unanswered (for a final check
/// before a response is marked complete).
pub fn missing_required(instrument: &Instrument, answers: &Answers) -> Vec<FieldError> {
    let mut out = Vec::new();
    for section in instrument.sections() {
        if !is_relevant(section.relevant.as_ref(), answers) {
            continue;
        }
        for q in section.questions.iter().filter(|q| q.required) {
            if !is_relevant(q.relevant.as_ref(), answers) {
                continue;
            }
            for code in q.answer_codes() {
                if answers.get(code).is_none() {
                    let mut e = FieldError::new(code, keys::REQUIRED);
                    e.message = q.required_message.clone();
                    out.push(e);
                }
            }
        }
    }
    out
}

/// Decodes a whole response posted at once (a keyed paper form, a field submission): every
/// section in order, each seeing the answers before it, then relevance re-applied over the
/// whole (answers to questions that are not relevant are dropped, as the web form drops
/// them). Missing required answers are reported only when nothing else is wrong, so a wrong
/// answer that hides a question is not also reported as that question's missing answer.
pub fn decode_form(
    instrument: &Instrument,
    fields: &[(String, String)],
) -> (Answers, Vec<FieldError>) {
    let mut answers = Answers::new();
    let mut errors = Vec::new();
    for section in instrument.sections() {
        let decoded = decode_section(section, fields, &answers);
        answers.merge(&decoded.answers);
        errors.extend(decoded.errors);
    }
    prune_irrelevant(instrument, &mut answers);
    if errors.is_empty() {
        errors = missing_required(instrument, &answers);
    }
    (answers, errors)
}

/// The tally cells one response adds to: (item, value) for each choice answer, one per
/// selected option of a multiple choice. The live tallies and the recomputation from raw
/// answers both count through this, so they cannot disagree on what counts.
pub fn tally_cells(answers: &Answers) -> Vec<(&str, &str)> {
    let mut cells = Vec::new();
    for (item, value) in answers.iter() {
        match value {
            AnswerValue::Choice(v) => cells.push((item.as_str(), v.as_str())),
            AnswerValue::Choices(vs) => {
                cells.extend(vs.iter().map(|v| (item.as_str(), v.as_str())))
            }
            _ => {}
        }
    }
    cells
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::instrument::Instrument;
    use crate::domain::test_fixtures;

    fn instrument() -> Instrument {
        test_fixtures::instrument(test_fixtures::CITIZEN_ANSWERS, "t.toml")
    }

    fn form(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
            .collect()
    }

    fn keys_of(errors: &[FieldError]) -> Vec<(&str, &str)> {
        errors
            .iter()
            .map(|e| (e.code.as_str(), e.message_key))
            .collect()
    }

    #[test]
    fn required_is_enforced_only_when_the_question_is_relevant() {
        let inst = instrument();
        let s1 = &inst.sections()[0];
        let out = decode_section(s1, &form(&[("used", "no")]), &Answers::new());
        assert!(out.errors.is_empty(), "{:?}", out.errors);
        let out = decode_section(s1, &form(&[("used", "yes")]), &Answers::new());
        assert_eq!(keys_of(&out.errors), [("rating", "error.required")]);
        let out = decode_section(s1, &form(&[]), &Answers::new());
        assert_eq!(keys_of(&out.errors), [("used", "error.required")]);
    }

    #[test]
    fn answers_to_hidden_questions_are_dropped() {
        let inst = instrument();
        let out = decode_section(
            &inst.sections()[0],
            &form(&[("used", "no"), ("rating", "1"), ("csrf", "x")]),
            &Answers::new(),
        );
        assert!(out.errors.is_empty());
        assert_eq!(out.answers.to_json(), r#"{"used":"no"}"#);
    }

    #[test]
    fn multiple_choice_collects_repeated_fields_in_list_order() {
        let inst = instrument();
        let out = decode_section(
            &inst.sections()[0],
            &form(&[
                ("used", "no"),
                ("channels", "dk"),
                ("channels", "1"),
                ("channels", "1"),
            ]),
            &Answers::new(),
        );
        assert!(out.errors.is_empty());
        assert_eq!(
            out.answers.get("channels"),
            Some(&AnswerValue::Choices(vec!["1".into(), "dk".into()]))
        );
    }

    #[test]
    fn unknown_options_and_bad_numbers_are_field_errors() {
        let inst = instrument();
        let out = decode_section(
            &inst.sections()[0],
            &form(&[
                ("used", "maybe"),
                ("channels", "7"),
                ("age", "12"),
                ("weight", "abc"),
                ("note", "sáu chữ"),
                ("day", "2023-02-30"),
            ]),
            &Answers::new(),
        );
        assert_eq!(
            keys_of(&out.errors),
            [
                ("used", "error.unknown_option"),
                ("channels", "error.unknown_option"),
                ("age", "error.out_of_range"),
                ("weight", "error.not_a_number"),
                ("note", "error.too_long"),
                ("day", "error.invalid_date"),
            ]
        );
        assert_eq!(out.errors[0].params.get("value").unwrap(), "maybe");
        assert_eq!(out.errors[2].params.get("min").unwrap(), "18");
        assert_eq!(out.errors[2].params.get("max").unwrap(), "99");
        assert_eq!(out.errors[4].params.get("length").unwrap(), "7");
        assert_eq!(out.answers, Answers::new());
    }

    #[test]
    fn conflicting_values_for_a_single_valued_question_are_rejected() {
        let inst = instrument();
        let out = decode_section(
            &inst.sections()[0],
            &form(&[
                ("used", "yes"),
                ("used", "no"),
                ("age", "30"),
                ("age", "30"),
            ]),
            &Answers::new(),
        );
        assert_eq!(keys_of(&out.errors), [("used", "error.multiple_values")]);
        assert_eq!(out.answers.get("age"), Some(&AnswerValue::Integer(30)));
    }

    #[test]
    fn decimals_accept_a_comma_and_check_min_and_constraint() {
        let inst = instrument();
        let s1 = &inst.sections()[0];
        let out = decode_section(
            s1,
            &form(&[("used", "no"), ("weight", "2,50")]),
            &Answers::new(),
        );
        assert_eq!(
            out.answers.get("weight"),
            Some(&AnswerValue::Decimal("2.5".into()))
        );
        let out = decode_section(
            s1,
            &form(&[("used", "no"), ("weight", "0.1")]),
            &Answers::new(),
        );
        assert_eq!(keys_of(&out.errors), [("weight", "error.too_small")]);
        let out = decode_section(
            s1,
            &form(&[("used", "no"), ("weight", "13")]),
            &Answers::new(),
        );
        assert_eq!(keys_of(&out.errors), [("weight", "error.constraint")]);
        assert_eq!(out.errors[0].message.as_ref().unwrap().en, "Not 13");
    }

    #[test]
    fn section_relevance_uses_earlier_answers_and_battery_items_post_under_their_codes() {
        let inst = instrument();
        let s2 = &inst.sections()[1];
        let mut earlier = Answers::new();
        earlier.insert("used".into(), AnswerValue::Choice("no".into()));
        let out = decode_section(s2, &form(&[("bat_1", "1")]), &earlier);
        assert_eq!(out, DecodedSection::default());
        earlier.insert("used".into(), AnswerValue::Choice("yes".into()));
        let out = decode_section(s2, &form(&[("bat_1", "2"), ("why", "a\r\nb")]), &earlier);
        assert_eq!(keys_of(&out.errors), [("bat_2", "error.required")]);
        assert_eq!(
            out.answers.get("why"),
            Some(&AnswerValue::Text("a\nb".into()))
        );
    }

    #[test]
    fn pruning_removes_answers_that_became_irrelevant() {
        let inst = instrument();
        let mut a = Answers::from_json(
            r#"{"used":"no","rating":"1","bat_1":"2","why":{"text":"x"},"ghost":"1"}"#,
        )
        .unwrap();
        let removed = prune_irrelevant(&inst, &mut a);
        assert_eq!(removed, ["ghost", "rating", "bat_1", "why"]);
        assert_eq!(a.to_json(), r#"{"used":"no"}"#);
    }

    #[test]
    fn missing_required_lists_relevant_unanswered_items() {
        let inst = instrument();
        let a = Answers::from_json(r#"{"used":"yes","rating":"1","bat_1":"1"}"#).unwrap();
        assert_eq!(
            keys_of(&missing_required(&inst, &a)),
            [("bat_2", "error.required")]
        );
    }

    #[test]
    fn answers_round_trip_through_compact_json() {
        let json = r#"{"a":"2","b":["1","3"],"c":-4,"d":{"dec":"2.5"},"e":{"text":"xin chào"},"f":{"date":"2023-05-01"}}"#;
        let a = Answers::from_json(json).unwrap();
        assert_eq!(a.get("e"), Some(&AnswerValue::Text("xin chào".into())));
        assert_eq!(a.to_json(), json);
        assert!(Answers::from_json(r#"{"d":{"dec":"2.50"}}"#).is_err());
        assert!(Answers::from_json(r#"{"d":1.5}"#).is_err());
        assert!(Answers::from_json(r#"{"d":{"date":"2023-13-01"}}"#).is_err());
    }

    #[test]
    fn scanning_stored_answers_finds_the_same_cells_as_parsing_them() {
        let json = r#"{"a":"1","b":["x","y\"z"],"c":5,"d":{"dec":"1.5"},"e":{"text":"hi \"there\""},"f":{"date":"2025-01-02"},"g\u0041":"dk","h":[]}"#;
        let answers = Answers::from_json(json).unwrap();
        let parsed: Vec<(String, String)> = tally_cells(&answers)
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        let mut scanned = Vec::new();
        for_each_choice(json, |k, v| scanned.push((k.to_owned(), v.to_owned()))).unwrap();
        scanned.sort();
        let mut parsed = parsed;
        parsed.sort();
        assert_eq!(scanned, parsed);
        assert_eq!(scanned.len(), 4);
        assert!(for_each_choice("[1,2]", |_, _| {}).is_err());
        assert!(for_each_choice("{\"a\":\"1\"} trailing", |_, _| {}).is_err());
    }
}
