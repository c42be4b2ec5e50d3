//! The respondent's pages: the first page (with the anonymity statement), one page per
//! section with progress and Back/Next, the review page, the receipt, and friendly pages for
//! codes that do not open a questionnaire. Everything works without JavaScript.

use maud::{Markup, html};

use super::layout::{PageContext, page};
use super::questionnaire::{FormState, Mode, error_summary, section_fields};
use crate::db::rounds::RoundRow;
use crate::domain::answers::{AnswerValue, Answers, FieldError};
use crate::domain::instrument::{Instrument, QuestionKind};
use crate::i18n::{Lang, tf};

fn round_name(lang: Lang, round: &RoundRow) -> &str {
    if lang == Lang::Vi {
        &round.name_vi
    } else {
        &round.name_en
    }
}

/// The entry form on the landing page.
pub fn code_entry(ctx: &PageContext, error_key: Option<&str>, typed: &str) -> Markup {
    html! {
        form method="post" action="/s" novalidate {
            (ctx.csrf_field())
            div.field.has-error[error_key.is_some()] {
                label for="code" { (ctx.t("respond.code_label")) }
                p.hint #code-hint { (ctx.t("respond.code_hint")) }
                @if let Some(key) = error_key { p.error-message #code-error { (ctx.t(key)) } }
                input.narrow #code name="code" type="text" value=(typed) autocomplete="off" autocapitalize="characters"
                    spellcheck="false" aria-describedby={ "code-hint" @if error_key.is_some() { " code-error" } };
            }
            button.btn type="submit" { (ctx.t("respond.continue")) }
        }
    }
}

/// The first page of a questionnaire: what it is, the anonymity statement, and Start/Continue.
pub fn intro(
    ctx: &PageContext,
    code: &str,
    round: &RoundRow,
    instrument: &Instrument,
    resume: bool,
) -> Markup {
    let lang = ctx.lang;
    page(
        ctx,
        instrument.title().get(lang),
        html! {
            p.hint { (round_name(lang, round)) }
            h1 { (instrument.title().get(lang)) }
            div.notice {
                h2 { (ctx.t("respond.anonymous_title")) }
                p { (ctx.t("respond.anonymous_body")) }
            }
            @if let Some(instructions) = instrument.instructions() { p { (instructions.get(lang)) } }
            p { (tf(lang, "respond.sections", &[("n", &instrument.sections().len().to_string())])) }
            form method="post" action={ "/s/" (code) "/start" } {
                (ctx.csrf_field())
                button.btn type="submit" { (ctx.t(if resume { "respond.resume" } else { "respond.start" })) }
            }
            @if resume { p { (ctx.t("respond.resume_hint")) } }
        },
    )
}

/// One section of the questionnaire.
#[expect(
    clippy::too_many_arguments,
    reason = "the page's inputs, each used once"
)]
pub fn section_page(
    ctx: &PageContext,
    code: &str,
    instrument: &Instrument,
    index: usize,
    position: usize,
    total: usize,
    answers: &Answers,
    errors: &[FieldError],
    posted: Option<&[(String, String)]>,
) -> Markup {
    let lang = ctx.lang;
    let section = &instrument.sections()[index.min(instrument.sections().len().saturating_sub(1))];
    let state = FormState {
        lang,
        answers,
        errors,
        posted,
        mode: Mode::Respond,
    };
    let progress = tf(
        lang,
        "form.progress",
        &[("n", &position.to_string()), ("total", &total.to_string())],
    );
    let title = if errors.is_empty() {
        section.title.get(lang).to_owned()
    } else {
        format!(
            "{}: {}",
            ctx.t("form.error_prefix"),
            section.title.get(lang)
        )
    };
    page(
        ctx,
        &title,
        html! {
            p.progress-label { (progress) }
            progress max=(total) value=(position) aria-hidden="true" {}
            (error_summary(&state))
            h1 { (section.title.get(lang)) }
            @if let Some(intro) = &section.intro { p { (intro.get(lang)) } }
            form method="post" action={ "/s/" (code) "/p/" (index + 1) } novalidate {
                (ctx.csrf_field())
                (section_fields(section, &state))
                div.actions {
                    @if position > 1 {
                        button.btn.secondary type="submit" name="nav" value="back" { (ctx.t("respond.back")) }
                    }
                    button.btn type="submit" name="nav" value="next" { (ctx.t(if position == total { "respond.to_review" } else { "respond.next" })) }
                }
                p.hint { (ctx.t("respond.saved_hint")) }
            }
        },
    )
}

/// The readable form of an answer.
fn answer_text(
    lang: Lang,
    options: Option<&[crate::domain::instrument::ChoiceOption]>,
    value: &AnswerValue,
) -> String {
    let label = |v: &str| {
        options
            .and_then(|opts| opts.iter().find(|o| o.value == v))
            .map_or_else(|| v.to_owned(), |o| o.label.get(lang).to_owned())
    };
    match value {
        AnswerValue::Choice(v) => label(v),
        AnswerValue::Choices(vs) => vs.iter().map(|v| label(v)).collect::<Vec<_>>().join("; "),
        AnswerValue::Integer(i) => i.to_string(),
        AnswerValue::Decimal(d) | AnswerValue::Text(d) => d.clone(),
        AnswerValue::Date(d) => d.format("%Y-%m-%d").to_string(),
    }
}

/// All answers, section by section, with links to change them, and the submit button.
pub fn review(
    ctx: &PageContext,
    code: &str,
    instrument: &Instrument,
    visible: &[usize],
    answers: &Answers,
    submission_key: &str,
    errors: &[FieldError],
) -> Markup {
    let lang = ctx.lang;
    let not_answered = ctx.t("respond.not_answered");
    page(
        ctx,
        ctx.t("respond.review_title"),
        html! {
            @if !errors.is_empty() {
                div.error-summary role="alert" tabindex="-1" aria-labelledby="missing-title" {
                    h2 #missing-title { (ctx.t("respond.missing")) }
                    ul { @for e in errors {
                        @if let Some((section, _)) = instrument.sections().iter().enumerate().find(|(_, s)| s.questions.iter().any(|q| q.answer_codes().contains(&e.code.as_str()))) {
                            li { a href={ "/s/" (code) "/p/" (section + 1) "#q-" (e.code) } { (instrument.sections()[section].title.get(lang)) } }
                        }
                    } }
                }
            }
            h1 { (ctx.t("respond.review_title")) }
            p { (ctx.t("respond.review_intro")) }
            @for &index in visible {
                @let section = &instrument.sections()[index];
                h2 { (section.title.get(lang)) }
                dl.review {
                    @for question in &section.questions {
                        @if question.relevant.as_ref().is_none_or(|c| c.eval(answers)) {
                            @match &question.kind {
                                QuestionKind::Battery { choices, items, .. } => {
                                    @for item in items {
                                        dt { (item.label.get(lang)) }
                                        dd { (answers.get(&item.code).map(|v| answer_text(lang, Some(&choices.options), v)).unwrap_or_else(|| not_answered.to_owned())) }
                                    }
                                }
                                _ => {
                                    dt { (question.label.get(lang)) }
                                    dd { (answers.get(&question.code).map(|v| answer_text(lang, question.options().as_deref(), v)).unwrap_or_else(|| not_answered.to_owned())) }
                                }
                            }
                        }
                    }
                }
                p { a href={ "/s/" (code) "/p/" (index + 1) } { (ctx.t("respond.change")) span.visually-hidden { ": " (section.title.get(lang)) } } }
            }
            form method="post" action={ "/s/" (code) "/submit" } {
                (ctx.csrf_field())
                input type="hidden" name="submission_key" value=(submission_key);
                p { (ctx.t("respond.submit_hint")) }
                button.btn type="submit" { (ctx.t("respond.submit")) }
            }
        },
    )
}

/// The receipt.
pub fn receipt(ctx: &PageContext, receipt: &str) -> Markup {
    page(
        ctx,
        ctx.t("respond.thanks_title"),
        html! {
            div.panel role="status" {
                h1 { (ctx.t("respond.thanks_title")) }
                p { (ctx.t("respond.receipt_label")) }
                p.receipt { strong { (receipt) } }
            }
            p { (ctx.t("respond.receipt_body")) }
        },
    )
}
