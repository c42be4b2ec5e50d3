//! The question features that came with XLSForm support: `calculate` and `note` questions,
//! `default`, `appearance`, `choice_filter`, `required_message`, and `${code}` placeholders
//! in labels and hints. Their checks live here so that `validate` stays about the core model,
//! and the placeholder filling here serves the form page and the review alike.

use std::collections::BTreeSet;

use super::{Instrument, Lang, Question, QuestionKind};
use crate::domain::answer_value::{AnswerValue, normalize_decimal};
use crate::domain::expr::{AnswerLookup, is_valid_code};
use crate::i18n::Localized;

/// The codes named by `${code}` placeholders in a label, hint or note.
pub fn placeholders(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else { break };
        let code = after[..end].trim();
        if is_valid_code(code) {
            out.insert(code.to_owned());
        }
        rest = &after[end + 1..];
    }
    out
}

/// `text` with each `${code}` replaced by `value(code)` (empty when there is none).
pub fn fill_placeholders(text: &str, value: impl Fn(&str) -> Option<String>) -> String {
    if !text.contains("${") {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        match after.find('}') {
            Some(end) if is_valid_code(after[..end].trim()) => {
                out.push_str(&value(after[..end].trim()).unwrap_or_default());
                rest = &after[end + 1..];
            }
            _ => {
                out.push_str("${");
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

impl Instrument {
    /// How an answer reads inside a sentence: an option's label, the labels of a multiple
    /// choice joined by commas, or the value itself.
    pub fn answer_text(&self, code: &str, answer: &AnswerValue, lang: Lang) -> String {
        let label = |value: &str| {
            self.locate(code)
                .and_then(|(q, _)| q.options())
                .and_then(|options| options.into_iter().find(|o| o.value == value))
                .map(|o| o.label.get(lang).to_owned())
                .unwrap_or_else(|| value.to_owned())
        };
        match answer {
            AnswerValue::Choice(c) => label(c),
            AnswerValue::Choices(cs) => cs.iter().map(|c| label(c)).collect::<Vec<_>>().join(", "),
            AnswerValue::Integer(i) => i.to_string(),
            AnswerValue::Decimal(d) => d.clone(),
            AnswerValue::Text(t) => t.clone(),
            AnswerValue::Date(d) => d.format("%d/%m/%Y").to_string(),
        }
    }

    /// `text` with its `${code}` placeholders filled from `answers` in `lang`.
    pub fn fill(&self, text: &str, answers: &impl AnswerLookup, lang: Lang) -> String {
        fill_placeholders(text, |code| {
            answers
                .answer(code)
                .map(|a| self.answer_text(code, a, lang))
        })
    }
}

/// Checks a `default` against the question's kind; the message says what would be accepted.
pub(super) fn check_default(question: &Question, default: &str) -> Result<(), Localized> {
    let bad = |expected: &str| {
        Err(Localized::new(
            "instrument.bad_default",
            &[("value", default), ("expected", expected)],
        ))
    };
    match &question.kind {
        QuestionKind::Single { .. }
        | QuestionKind::YesNo { .. }
        | QuestionKind::Multiple { .. } => {
            let options: Vec<String> = question
                .options()
                .unwrap_or_default()
                .into_iter()
                .map(|o| o.value)
                .collect();
            let values: Vec<&str> = if matches!(question.kind, QuestionKind::Multiple { .. }) {
                default.split_whitespace().collect()
            } else {
                vec![default]
            };
            if values.iter().all(|v| options.iter().any(|o| o == v)) && !values.is_empty() {
                Ok(())
            } else {
                bad(&options.join(", "))
            }
        }
        QuestionKind::Integer { .. } if default.parse::<i64>().is_ok() => Ok(()),
        QuestionKind::Integer { .. } => bad("123"),
        QuestionKind::Decimal { .. } if normalize_decimal(default).is_some() => Ok(()),
        QuestionKind::Decimal { .. } => bad("1.5"),
        QuestionKind::Date if chrono::NaiveDate::parse_from_str(default, "%Y-%m-%d").is_ok() => {
            Ok(())
        }
        QuestionKind::Date => bad("YYYY-MM-DD"),
        QuestionKind::Text { max_length } | QuestionKind::LongText { max_length }
            if default.chars().count() <= *max_length as usize =>
        {
            Ok(())
        }
        QuestionKind::Text { .. } | QuestionKind::LongText { .. } => bad("max_length"),
        QuestionKind::Battery { .. } | QuestionKind::Calculate { .. } | QuestionKind::Note => {
            Err(Localized::new(
                "instrument.field_not_allowed",
                &[("field", "default"), ("kind", question.kind.type_name())],
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::answers::{Answers, decode_section, missing_required, prune_irrelevant};
    use crate::domain::instrument::test_support::FEATURES;
    use crate::domain::instrument::{Appearance, InstrumentError};

    fn features() -> Instrument {
        Instrument::from_toml(FEATURES.as_bytes(), "features.toml").unwrap()
    }

    fn post(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn errors_of(source: &str) -> Vec<String> {
        Instrument::from_toml(source.as_bytes(), "f.toml")
            .unwrap_err()
            .iter()
            .map(InstrumentError::to_string)
            .collect()
    }

    #[test]
    fn every_feature_survives_writing_and_reading_back_with_the_same_hash() {
        let i = features();
        let again = Instrument::from_toml(i.to_toml().as_bytes(), "again.toml").unwrap();
        assert_eq!(again, i);
        assert_eq!(again.content_hash(), i.content_hash());
        let province = i.question("province").unwrap();
        assert_eq!(province.appearance, Some(Appearance::Minimal));
        assert_eq!(province.default.as_deref(), Some("14"));
        assert!(matches!(
            i.question("greeting").unwrap().kind,
            QuestionKind::Note
        ));
        let codes: Vec<&str> = i.answer_codes().collect();
        assert!(codes.contains(&"household") && !codes.contains(&"greeting"));
    }

    #[test]
    fn calculations_are_computed_on_the_server_and_a_posted_value_is_ignored() {
        let i = features();
        let fields = post(&[
            ("name", "Lan"),
            ("province", "14"),
            ("district", "116"),
            ("adults", "2"),
            ("children", "3"),
            ("household", "999"),
            ("rating", "01"),
        ]);
        let decoded = decode_section(&i.sections()[0], &fields, &Answers::new());
        assert!(decoded.errors.is_empty(), "{:?}", decoded.errors);
        let a = &decoded.answers;
        assert_eq!(a.get("household"), Some(&AnswerValue::Integer(5)));
        assert_eq!(
            a.get("size_class"),
            Some(&AnswerValue::Text("large".into()))
        );
        // The condition on a calculated value was evaluated too.
        assert_eq!(a.get("rating"), Some(&AnswerValue::Choice("01".into())));
        let note = i.question("greeting").unwrap();
        assert_eq!(
            i.fill(note.label.get(Lang::Vi), a, Lang::Vi),
            "Cảm ơn Lan: hộ 5 người ở Sơn La"
        );
    }

    #[test]
    fn changing_an_earlier_answer_recomputes_the_calculation() {
        let i = features();
        let fields = post(&[("name", "Lan"), ("adults", "1"), ("children", "1")]);
        let mut answers = decode_section(&i.sections()[0], &fields, &Answers::new()).answers;
        answers.insert("adults".into(), AnswerValue::Integer(7));
        prune_irrelevant(&i, &mut answers);
        assert_eq!(answers.get("household"), Some(&AnswerValue::Integer(8)));
        answers.remove("adults");
        prune_irrelevant(&i, &mut answers);
        assert_eq!(answers.get("household"), None);
    }

    #[test]
    fn a_choice_outside_the_filter_is_refused_and_the_filter_narrows_the_options() {
        let i = features();
        let fields = post(&[("name", "Lan"), ("province", "14"), ("district", "001")]);
        let decoded = decode_section(&i.sections()[0], &fields, &Answers::new());
        assert!(
            decoded
                .errors
                .iter()
                .any(|e| e.code == "district" && e.message_key == "error.unknown_option"),
            "{:?}",
            decoded.errors
        );
        let district = i.question("district").unwrap();
        let mut answers = Answers::new();
        answers.insert("province".into(), AnswerValue::Choice("01".into()));
        let offered: Vec<&str> = district
            .offered_options(&answers)
            .iter()
            .map(|o| o.value.as_str())
            .collect();
        assert_eq!(offered, ["001"]);
    }

    #[test]
    fn a_missing_required_answer_shows_the_questionnaires_own_message() {
        let i = features();
        let decoded = decode_section(&i.sections()[0], &post(&[]), &Answers::new());
        let e = decoded.errors.iter().find(|e| e.code == "name").unwrap();
        assert_eq!(
            e.message.as_ref().unwrap().get(Lang::En),
            "Please give a name"
        );
        let missing = missing_required(&i, &Answers::new());
        assert_eq!(
            missing[0].message.as_ref().unwrap().get(Lang::Vi),
            "Xin cho biết tên"
        );
    }

    #[test]
    fn misused_features_are_reported_with_their_place() {
        let broken = FEATURES
            .replace("default = \"14\"", "default = \"99\"")
            .replace("appearance = \"likert\"", "appearance = \"spinner\"")
            .replace("${adults} + ${children}", "${adults} + ${later}")
            .replace("province = ${province}", "region = ${province}")
            .replace("Thanks ${name}", "Thanks ${rating}");
        let errors = errors_of(&broken);
        let has = |needle: &str| errors.iter().any(|e| e.contains(needle));
        assert!(has("the default '99' does not fit"), "{errors:#?}");
        assert!(has("unknown appearance 'spinner'"), "{errors:#?}");
        assert!(has("'later'"), "{errors:#?}");
        assert!(has("column 'region'"), "{errors:#?}");
        assert!(has("'rating'"), "{errors:#?}");
        assert!(
            errors.iter().all(|e| e.starts_with("f.toml:")),
            "{errors:#?}"
        );
    }

    #[test]
    fn placeholders_are_found_and_filled_and_stray_dollars_are_kept() {
        let text = "Chào ${name}, bạn ${ age } tuổi; giá $5 và ${bad code}";
        let found: Vec<String> = placeholders(text).into_iter().collect();
        assert_eq!(found, ["age", "name"]);
        let filled = fill_placeholders(text, |c| (c == "name").then(|| "Lan".to_owned()));
        assert_eq!(filled, "Chào Lan, bạn  tuổi; giá $5 và ${bad code}");
    }
}
