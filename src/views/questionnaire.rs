//! The questionnaire as respondents see it: one section (page) of questions rendered as an
//! accessible form. Every scale and every battery item is a `fieldset` with a `legend`, every
//! input has a real `label`, and errors follow the GOV.UK pattern. The admin preview renders
//! the very same markup.

use std::borrow::Cow;

use maud::{Markup, html};

use crate::domain::answers::{AnswerValue, Answers, FieldError};
use crate::domain::instrument::{
    Appearance, ChoiceOption, Instrument, Question, QuestionKind, Section,
};
use crate::i18n::{Lang, t, tf};

/// Whether the form is live or a preview.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// A respondent fills it in: questions whose condition is false are not shown.
    Respond,
    /// An administrator previews it: every question is shown, conditions are annotated.
    Preview,
}

/// What the form shows: answers so far, errors, and the raw values posted with an error.
#[derive(Debug, Clone, Copy)]
pub struct FormState<'a> {
    /// The questionnaire (for option labels inside `${code}` placeholders).
    pub instrument: &'a Instrument,
    /// Display language.
    pub lang: Lang,
    /// All answers known (earlier sections and this one).
    pub answers: &'a Answers,
    /// Errors of the last submission of this page.
    pub errors: &'a [FieldError],
    /// The fields exactly as posted, to show back what was typed when it was invalid.
    pub posted: Option<&'a [(String, String)]>,
    /// Live or preview.
    pub mode: Mode,
}

impl FormState<'_> {
    fn error_for(&self, code: &str) -> Option<&FieldError> {
        self.errors.iter().find(|e| e.code == code)
    }

    fn posted_values(&self, code: &str) -> Option<Vec<&str>> {
        self.posted.map(|fields| {
            fields
                .iter()
                .filter(|(k, _)| k == code)
                .map(|(_, v)| v.as_str())
                .collect()
        })
    }

    /// The text shown in a text-like input: what was posted, else the stored answer, else the
    /// question's `default`.
    fn text_value(&self, code: &str, default: Option<&str>) -> String {
        if let Some(values) = self.posted_values(code) {
            return values.first().map(|v| (*v).to_owned()).unwrap_or_default();
        }
        match self.answers.get(code) {
            Some(AnswerValue::Integer(i)) => i.to_string(),
            Some(AnswerValue::Decimal(d) | AnswerValue::Text(d) | AnswerValue::Choice(d)) => {
                d.clone()
            }
            Some(AnswerValue::Date(d)) => d.format("%Y-%m-%d").to_string(),
            Some(AnswerValue::Choices(vs)) => vs.join(", "),
            None => default.unwrap_or_default().to_owned(),
        }
    }

    /// A label or hint with its `${code}` placeholders filled (left as written in a preview,
    /// where there are no answers to fill them with).
    fn fill<'t>(&self, text: &'t str) -> Cow<'t, str> {
        match self.mode {
            // Most labels have no placeholder: they are shown as they are, without a copy.
            Mode::Respond if text.contains("${") => {
                Cow::Owned(self.instrument.fill(text, self.answers, self.lang))
            }
            _ => Cow::Borrowed(text),
        }
    }

    /// The options a choice question offers now: those its filter allows, or all of them
    /// while an answer the filter needs is still missing (it may be on this very page, and
    /// without scripts the page cannot narrow the list as it is filled; the server checks
    /// the choice against the filter when the page is sent).
    fn offered<'q>(&self, question: &'q Question) -> Vec<&'q ChoiceOption> {
        let all = || {
            question
                .kind
                .choices()
                .map(|c| c.options.iter().collect())
                .unwrap_or_default()
        };
        match (&question.choice_filter, self.mode) {
            (Some(filter), Mode::Respond)
                if filter
                    .references()
                    .iter()
                    .all(|c| self.answers.get(c).is_some()) =>
            {
                question.offered_options(self.answers)
            }
            _ => all(),
        }
    }

    /// Whether `value` is chosen: as posted, else as answered, else by the `default`.
    fn is_checked(&self, code: &str, value: &str, default: Option<&str>) -> bool {
        if let Some(values) = self.posted_values(code) {
            return values.contains(&value);
        }
        match self.answers.get(code) {
            Some(AnswerValue::Choice(v)) => v == value,
            Some(AnswerValue::Choices(vs)) => vs.iter().any(|v| v == value),
            Some(_) => false,
            None => default.is_some_and(|d| d.split_whitespace().any(|v| v == value)),
        }
    }
}

/// The message shown for a field error, in `lang`.
pub fn error_text(lang: Lang, error: &FieldError) -> String {
    if let Some(own) = &error.message {
        return own.get(lang).to_owned();
    }
    let args: Vec<(&str, &str)> = error.params.iter().map(|(k, v)| (*k, v.as_str())).collect();
    tf(lang, error.message_key, &args)
}

/// The id of the element an error-summary link should focus for `code`.
pub fn anchor_id(code: &str) -> String {
    format!("q-{code}")
}

/// True when the question is shown to a respondent with these answers.
pub fn is_shown(question: &Question, state: &FormState<'_>) -> bool {
    state.mode == Mode::Preview
        || question
            .relevant
            .as_ref()
            .is_none_or(|c| c.eval(state.answers))
}

/// The error summary for a page: one link per error, to its field.
pub fn error_summary(state: &FormState<'_>) -> Markup {
    summary_of(state, None)
}

/// The error summary, each line naming its question when `sections` are given.
fn summary_of(state: &FormState<'_>, sections: Option<&[Section]>) -> Markup {
    let lang = state.lang;
    let label = |code: &str| sections.and_then(|s| field_label(s, code, lang));
    html! {
        @if !state.errors.is_empty() {
            div.error-summary role="alert" tabindex="-1" aria-labelledby="error-summary-title" {
                h2 #error-summary-title { (t(lang, "form.errors.title")) }
                ul {
                    @for e in state.errors {
                        li { a href={ "#" (anchor_id(&e.code)) } {
                            @if let Some(label) = label(&e.code) {
                                (shorten(&state.fill(label), SUMMARY_LABEL_CHARS)) " — "
                            }
                            (error_text(lang, e))
                        } }
                    }
                }
            }
        }
    }
}

/// The longest question label, in characters, that an error summary repeats in full.
pub const SUMMARY_LABEL_CHARS: usize = 90;

/// `text` cut at a word boundary to about `max` characters, with an ellipsis when cut.
pub fn shorten(text: &str, max: usize) -> String {
    let text = text.trim();
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let cut: String = text.chars().take(max).collect();
    // Cut before the last whole word so no word is broken, unless that loses most of it.
    let kept = match cut.rfind(char::is_whitespace) {
        Some(at) if at > cut.len() / 2 => &cut[..at],
        _ => cut.as_str(),
    };
    format!(
        "{}…",
        kept.trim_end_matches(|c: char| c.is_whitespace() || c == ',')
    )
}

/// The label the respondent sees for the form field `code` (a question, or a battery item)
/// among `sections`, in `lang`.
pub fn field_label<'a>(sections: &'a [Section], code: &str, lang: Lang) -> Option<&'a str> {
    sections
        .iter()
        .flat_map(|s| &s.questions)
        .find_map(|q| match &q.kind {
            QuestionKind::Battery { items, .. } => items
                .iter()
                .find(|i| i.code == code)
                .map(|i| i.label.get(lang)),
            _ => (q.code == code).then(|| q.label.get(lang)),
        })
}

/// The error summary of a page showing `sections`: one link per error, naming its question
/// (shortened when long) and saying what is wrong, so that seven unanswered questions read as
/// seven different lines.
pub fn named_error_summary(sections: &[Section], state: &FormState<'_>) -> Markup {
    summary_of(state, Some(sections))
}

/// All questions of a section.
pub fn section_fields(section: &Section, state: &FormState<'_>) -> Markup {
    html! {
        @for question in &section.questions {
            @if is_shown(question, state) {
                (question_block(question, state))
            }
        }
    }
}

fn required_mark(lang: Lang, required: bool) -> Markup {
    html! { @if required { " " span.req { "(" (t(lang, "form.required")) ")" } } }
}

fn condition_note(question: &Question, state: &FormState<'_>) -> Markup {
    html! {
        @if let (Mode::Preview, Some(condition)) = (state.mode, &question.relevant) {
            p.hint.condition { (t(state.lang, "form.shown_when")) " " code { (condition.to_string()) } }
        }
    }
}

fn error_line(state: &FormState<'_>, code: &str) -> Markup {
    html! {
        @if let Some(e) = state.error_for(code) {
            p.error-message id={ (code) "-error" } {
                span.visually-hidden { (t(state.lang, "form.error_prefix")) " " }
                (error_text(state.lang, e))
            }
        }
    }
}

fn described_by(hint: bool, error: bool, code: &str) -> Option<String> {
    let ids: Vec<String> = [
        hint.then(|| format!("{code}-hint")),
        error.then(|| format!("{code}-error")),
    ]
    .into_iter()
    .flatten()
    .collect();
    (!ids.is_empty()).then(|| ids.join(" "))
}

/// How a group of choices is laid out.
#[derive(Debug, Clone, Copy)]
struct ChoiceLayout<'q> {
    multiple: bool,
    appearance: Option<Appearance>,
    /// The question's `default` (battery items have none).
    default: Option<&'q str>,
}

/// A group of radios or checkboxes in a fieldset (a scale, a yes/no, one battery item), or a
/// drop-down list for the `minimal` appearance of a single choice.
fn choice_fieldset(
    code: &str,
    legend: &str,
    hint: Option<&str>,
    required: bool,
    options: &[&ChoiceOption],
    layout: ChoiceLayout<'_>,
    state: &FormState<'_>,
) -> Markup {
    let lang = state.lang;
    let error = state.error_for(code).is_some();
    let input_type = if layout.multiple { "checkbox" } else { "radio" };
    if layout.appearance == Some(Appearance::Minimal) && !layout.multiple {
        let describedby = described_by(hint.is_some(), error, code);
        return html! {
            div.field.has-error[error] {
                label for=(anchor_id(code)) { (legend) (required_mark(lang, required)) }
                @if let Some(hint) = hint { p.hint id={ (code) "-hint" } { (hint) } }
                (error_line(state, code))
                select id=(anchor_id(code)) name=(code) aria-describedby=[describedby]
                    aria-invalid=[error.then_some("true")] {
                    option value="" { (t(lang, "form.choose")) }
                    @for option in options {
                        option value=(option.value) selected[state.is_checked(code, &option.value, layout.default)] {
                            (option.label.get(lang))
                        }
                    }
                }
            }
        };
    }
    let likert = layout.appearance == Some(Appearance::Likert);
    let horizontal = layout.appearance == Some(Appearance::Horizontal);
    html! {
        fieldset.field.has-error[error].likert[likert].horizontal[horizontal]
            id=(anchor_id(code)) tabindex="-1"
            aria-describedby=[described_by(hint.is_some(), error, code)] {
            legend { (legend) (required_mark(lang, required)) }
            @if let Some(hint) = hint { p.hint id={ (code) "-hint" } { (hint) } }
            (error_line(state, code))
            @for (i, option) in options.iter().enumerate() {
                div.choice {
                    input type=(input_type) id={ (code) "-" (i) } name=(code) value=(option.value)
                        checked[state.is_checked(code, &option.value, layout.default)];
                    label for={ (code) "-" (i) } { (option.label.get(lang)) }
                }
            }
        }
    }
}

/// One question, whatever its type.
pub fn question_block(question: &Question, state: &FormState<'_>) -> Markup {
    let lang = state.lang;
    let code = question.code.as_str();
    let label = state.fill(question.label.get(lang));
    let label = label.as_ref();
    let hint = question.hint.as_ref().map(|h| state.fill(h.get(lang)));
    let hint = hint.as_deref();
    let error = state.error_for(code).is_some();
    let layout = |multiple| ChoiceLayout {
        multiple,
        appearance: question.appearance,
        default: question.default.as_deref(),
    };
    html! {
        @match &question.kind {
            QuestionKind::Single { .. } => {
                (condition_note(question, state))
                (choice_fieldset(code, label, hint, question.required, &state.offered(question), layout(false), state))
            }
            QuestionKind::Multiple { .. } => {
                (condition_note(question, state))
                (choice_fieldset(code, label, hint, question.required, &state.offered(question), layout(true), state))
            }
            QuestionKind::YesNo { .. } => {
                (condition_note(question, state))
                (choice_fieldset(code, label, hint, question.required, &question.options().unwrap_or_default().iter().collect::<Vec<_>>(), layout(false), state))
            }
            QuestionKind::Battery { choices, items, .. } => {
                div.battery id=(anchor_id(code)) {
                    (condition_note(question, state))
                    h2.battery-title { (label) (required_mark(lang, question.required)) }
                    @if let Some(hint) = hint { p.hint { (hint) } }
                    @for item in items {
                        (choice_fieldset(&item.code, item.label.get(lang), None, question.required, &choices.options.iter().collect::<Vec<_>>(), ChoiceLayout { default: None, ..layout(false) }, state))
                    }
                }
            }
            QuestionKind::Note => {
                div.field.note id=(anchor_id(code)) {
                    (condition_note(question, state))
                    p { (label) }
                    @if let Some(hint) = hint { p.hint { (hint) } }
                }
            }
            QuestionKind::Calculate { calculation } => {
                // Computed on the server and never shown to respondents; the preview says how.
                @if state.mode == Mode::Preview {
                    p.hint.condition {
                        (t(lang, "form.calculated")) " " code { (code) " = " (calculation.to_string()) }
                    }
                }
            }
            _ => {
                div.field.has-error[error] {
                    (condition_note(question, state))
                    label for=(anchor_id(code)) { (label) (required_mark(lang, question.required)) }
                    @if let Some(hint) = hint { p.hint id={ (code) "-hint" } { (hint) } }
                    (error_line(state, code))
                    (text_like_input(question, state, hint.is_some(), error))
                }
            }
        }
    }
}

fn text_like_input(question: &Question, state: &FormState<'_>, hint: bool, error: bool) -> Markup {
    let code = question.code.as_str();
    let id = anchor_id(code);
    let value = state.text_value(code, question.default.as_deref());
    let describedby = described_by(hint, error, code);
    html! {
        @match &question.kind {
            QuestionKind::Integer { min, max } => {
                input.narrow type="text" inputmode="numeric" id=(id) name=(code) value=(value)
                    aria-describedby=[describedby] aria-invalid=[error.then_some("true")]
                    data-min=[min] data-max=[max];
            }
            QuestionKind::Decimal { .. } => {
                input.narrow type="text" inputmode="decimal" id=(id) name=(code) value=(value)
                    aria-describedby=[describedby] aria-invalid=[error.then_some("true")];
            }
            QuestionKind::LongText { max_length } => {
                textarea id=(id) name=(code) rows="5" maxlength=(max_length)
                    aria-describedby=[describedby] aria-invalid=[error.then_some("true")] { (value) }
            }
            QuestionKind::Text { max_length } => {
                input type="text" id=(id) name=(code) value=(value) maxlength=(max_length)
                    aria-describedby=[describedby] aria-invalid=[error.then_some("true")];
            }
            QuestionKind::Date => {
                input.narrow type="date" id=(id) name=(code) value=(value)
                    aria-describedby=[describedby] aria-invalid=[error.then_some("true")];
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::bundled::INSTRUMENTS;
    use crate::domain::instrument::Instrument;

    fn leader() -> Instrument {
        Instrument::from_toml(INSTRUMENTS[0].bytes, INSTRUMENTS[0].name).unwrap()
    }

    /// The state of a live form in `lang` with `answers`, before anything is posted.
    fn respond<'a>(instrument: &'a Instrument, answers: &'a Answers, lang: Lang) -> FormState<'a> {
        FormState {
            instrument,
            lang,
            answers,
            errors: &[],
            posted: None,
            mode: Mode::Respond,
        }
    }

    #[test]
    fn every_battery_item_is_a_fieldset_with_a_legend() {
        let instrument = leader();
        let answers = Answers::new();
        let state = respond(&instrument, &answers, Lang::Vi);
        let html = section_fields(&instrument.sections()[0], &state).into_string();
        let items = instrument.sections()[0]
            .questions
            .iter()
            .flat_map(|q| q.answer_codes())
            .count();
        assert!(html.matches("<fieldset").count() >= items - 1, "{html}");
        assert_eq!(
            html.matches("<fieldset").count(),
            html.matches("<legend>").count()
        );
        // Every radio has a label pointing at it.
        assert_eq!(
            html.matches("type=\"radio\"").count(),
            html.matches("<label for=").count() - html.matches("<label for=\"q-").count()
        );
    }

    #[test]
    fn a_conditional_question_is_hidden_until_its_condition_holds_but_shown_in_preview() {
        let instrument = leader();
        let section = instrument
            .sections()
            .iter()
            .find(|s| s.questions.iter().any(|q| q.relevant.is_some()))
            .unwrap();
        let conditional = section
            .questions
            .iter()
            .find(|q| q.relevant.is_some())
            .unwrap();
        let empty = Answers::new();
        let live = respond(&instrument, &empty, Lang::En);
        assert!(
            !section_fields(section, &live)
                .into_string()
                .contains(&format!("name=\"{}\"", conditional.code))
        );
        let preview = FormState {
            mode: Mode::Preview,
            ..live
        };
        let html = section_fields(section, &preview).into_string();
        assert!(html.contains(&format!("name=\"{}\"", conditional.code)));
        assert!(html.contains("Shown only when"));
    }

    #[test]
    fn labels_are_escaped_not_executed() {
        let source = r#"
format = "khaosat-instrument/1"
code = "xss"
version = 1
group = "citizen"
provenance = "test"
title = { vi = "<script>alert(1)</script>", en = "x" }
[[sections]]
code = "s1"
title = { vi = "a", en = "a" }
[[sections.questions]]
code = "q1"
type = "text"
label = { vi = "<img src=x onerror=alert(1)>", en = "x" }
"#;
        let instrument = crate::domain::test_fixtures::instrument(source, "xss.toml");
        let answers = Answers::new();
        let state = respond(&instrument, &answers, Lang::Vi);
        let html = section_fields(&instrument.sections()[0], &state).into_string();
        assert!(!html.contains("<img"), "{html}");
        assert!(html.contains("&lt;img src=x onerror=alert(1)&gt;"));
    }
}
