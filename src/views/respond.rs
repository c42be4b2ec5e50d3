//! The respondent's pages: the first page (with the anonymity statement), one page per
//! section with progress and Back/Next, the review page, the receipt, and friendly pages for
//! codes that do not open a questionnaire. Everything works without JavaScript.

use maud::{Markup, html};

use super::layout::{PageContext, page};
use super::questionnaire::{
    FormState, Mode, SUMMARY_LABEL_CHARS, field_label, named_error_summary, section_fields, shorten,
};
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

/// Words that mark a note about where a questionnaire comes from (a reconstruction, an annex
/// to replace it with). Such notes are for staff pages and the codebook, never for respondents.
const PROVENANCE_MARKERS: [&str; 6] = [
    "tái dựng",
    "nguồn công khai",
    "phụ lục chính thức",
    "reconstructed",
    "public sources",
    "official annex",
];

fn mentions_provenance(text: &str) -> bool {
    let lower = text.to_lowercase();
    PROVENANCE_MARKERS.iter().any(|m| lower.contains(m))
}

/// The questionnaire's title as respondents see it: without a bracketed provenance note such
/// as "(bản tái dựng)", and without the edition year when it is not the round's year (a 2022
/// questionnaire used in a 2024 round is, for the respondent, the 2024 survey).
fn respondent_title(title: &str, round_year: i32) -> String {
    let mut out = title.trim().to_owned();
    while out.ends_with(')') {
        match out.rfind('(') {
            Some(open) if mentions_provenance(&out[open..]) => {
                out.truncate(open);
                out.truncate(out.trim_end().len());
            }
            _ => break,
        }
    }
    let year_start = out.len().saturating_sub(4);
    let ends_with_year = out.len() > 4
        && out.is_char_boundary(year_start)
        && out[year_start..].bytes().all(|b| b.is_ascii_digit())
        && !out[..year_start].ends_with(|c: char| c.is_ascii_digit());
    if ends_with_year && out[year_start..] != round_year.to_string() {
        let rest = out[..year_start].trim_end();
        let rest = rest
            .strip_suffix(" năm")
            .or_else(|| rest.strip_suffix(" in"))
            .unwrap_or(rest);
        let rest = rest.trim_end_matches(|c: char| c.is_whitespace() || c == ',');
        if !rest.is_empty() {
            out = rest.to_owned();
        }
    }
    out
}

/// The instructions as respondents see them: every sentence that is a provenance note left
/// out. `None` when nothing else remains.
fn respondent_instructions(instructions: &str) -> Option<String> {
    let kept: Vec<&str> = instructions
        .split_inclusive(". ")
        .map(str::trim)
        .filter(|sentence| !sentence.is_empty() && !mentions_provenance(sentence))
        .collect();
    (!kept.is_empty()).then(|| kept.join(" "))
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
    let title = respondent_title(instrument.title().get(lang), round.year);
    let instructions = instrument
        .instructions()
        .and_then(|i| respondent_instructions(i.get(lang)));
    let some_conditional = instrument.sections().iter().any(|s| s.relevant.is_some());
    page(
        ctx,
        &title,
        html! {
            p.hint { (round_name(lang, round)) }
            h1 { (title) }
            div.notice {
                h2 { (ctx.t("respond.anonymous_title")) }
                p { (ctx.t("respond.anonymous_body")) }
            }
            @if let Some(instructions) = instructions { p { (instructions) } }
            p {
                (tf(lang, "respond.sections", &[("n", &instrument.sections().len().to_string())]))
                @if some_conditional { " " (ctx.t("respond.sections_conditional")) }
            }
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
    visible: &[usize],
    answers: &Answers,
    errors: &[FieldError],
    posted: Option<&[(String, String)]>,
) -> Markup {
    let lang = ctx.lang;
    let sections = instrument.sections();
    let index = index.min(sections.len().saturating_sub(1));
    let section = &sections[index];
    // The count is over every section of the questionnaire, so it never changes while the
    // respondent answers and agrees with the first page; sections that do not apply are named.
    let (position, total) = (index + 1, sections.len());
    let skipped: Vec<String> = (0..total)
        .filter(|i| !visible.contains(i))
        .map(|i| (i + 1).to_string())
        .collect();
    let is_first = visible.first().is_none_or(|&first| first >= index);
    let is_last = visible.last().is_none_or(|&last| last <= index);
    let state = FormState {
        instrument,
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
    // The prefix carries its own colon ("Lỗi:", "Error:").
    let title = if errors.is_empty() {
        section.title.get(lang).to_owned()
    } else {
        format!("{} {}", ctx.t("form.error_prefix"), section.title.get(lang))
    };
    page(
        ctx,
        &title,
        html! {
            p.progress-label { (progress) }
            progress max=(total) value=(position) aria-hidden="true" {}
            @if !skipped.is_empty() {
                p.hint { (tf(lang, "respond.sections_skipped", &[("list", &skipped.join(", "))])) }
            }
            (named_error_summary(std::slice::from_ref(section), &state))
            h1 { (section.title.get(lang)) }
            @if let Some(intro) = &section.intro { p { (intro.get(lang)) } }
            form method="post" action={ "/s/" (code) "/p/" (index + 1) } novalidate {
                (ctx.csrf_field())
                (section_fields(section, &state))
                div.actions {
                    @if !is_first {
                        button.btn.secondary type="submit" name="nav" value="back" { (ctx.t("respond.back")) }
                    }
                    button.btn type="submit" name="nav" value="next" { (ctx.t(if is_last { "respond.to_review" } else { "respond.next" })) }
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
                            li {
                                a href={ "/s/" (code) "/p/" (section + 1) "#q-" (e.code) } {
                                    (field_label(instrument.sections(), &e.code, lang).map(|l| shorten(l, SUMMARY_LABEL_CHARS)).unwrap_or_else(|| e.code.clone()))
                                }
                                " (" (instrument.sections()[section].title.get(lang)) ")"
                            }
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
                                // Nothing the respondent answered: a note, or a value the
                                // server computes.
                                QuestionKind::Note | QuestionKind::Calculate { .. } => {}
                                _ => {
                                    dt { (instrument.fill(question.label.get(lang), answers, lang)) }
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

#[cfg(test)]
mod tests {
    use super::{respondent_instructions, respondent_title};
    use crate::views::questionnaire::shorten;

    #[test]
    fn a_reconstructed_title_loses_its_note_and_an_edition_year_of_another_round() {
        assert_eq!(
            respondent_title(
                "Phiếu khảo sát công chức về cải cách hành chính năm 2022 (bản tái dựng)",
                2024
            ),
            "Phiếu khảo sát công chức về cải cách hành chính"
        );
        assert_eq!(
            respondent_title(
                "Civil servant survey on public administration reform, 2022 (reconstructed)",
                2024
            ),
            "Civil servant survey on public administration reform"
        );
        assert_eq!(
            respondent_title("Phiếu khảo sát (SIPAS) năm 2024", 2024),
            "Phiếu khảo sát (SIPAS) năm 2024",
            "the round's own year and other brackets stay"
        );
    }

    #[test]
    fn instructions_keep_every_sentence_but_the_provenance_note() {
        assert_eq!(
            respondent_instructions(
                "Phiếu này được tái dựng từ nguồn công khai; thay bằng phụ lục chính thức khi có. Xin Ông/Bà cho biết đánh giá. Phiếu không ghi tên."
            )
            .as_deref(),
            Some("Xin Ông/Bà cho biết đánh giá. Phiếu không ghi tên.")
        );
        assert_eq!(
            respondent_instructions("This form is reconstructed from public sources."),
            None
        );
    }

    #[test]
    fn long_labels_are_shortened_at_a_word() {
        assert_eq!(shorten("Ngắn gọn", 20), "Ngắn gọn");
        assert_eq!(
            shorten("Ông/Bà đánh giá thế nào về công tác cải cách", 20),
            "Ông/Bà đánh giá thế…"
        );
    }
}
