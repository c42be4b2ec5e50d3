//! Pages for keying paper questionnaires: choosing the form, keying it, and the list of keyed
//! forms with mismatches to resolve.

use maud::{Markup, html};

use super::layout::{PageContext, page};
use super::questionnaire::{FormState, Mode, error_summary, section_fields};
use crate::db::paper::PaperEntry;
use crate::db::rounds::RoundRow;
use crate::db::units::UnitRow;
use crate::domain::answers::{Answers, FieldError};
use crate::domain::instrument::Instrument;
use crate::i18n::Lang;

/// The paper page: choose unit, group, form number and keying; the keyed forms.
pub fn overview(
    ctx: &PageContext,
    round: &RoundRow,
    units: &[UnitRow],
    groups: &[String],
    entries: &[(PaperEntry, Vec<String>)],
    notice: Option<&str>,
) -> Markup {
    let lang = ctx.lang;
    let base = format!("/admin/rounds/{}/paper", round.id);
    page(
        ctx,
        ctx.t("paper.title"),
        html! {
            p { a href={ "/admin/rounds/" (round.id) } { "← " (if lang == Lang::Vi { &round.name_vi } else { &round.name_en }) } }
            @if let Some(key) = notice { div.notice role="status" { (ctx.t(key)) } }
            h1 { (ctx.t("paper.title")) }
            p { (ctx.t("paper.intro")) }
            form method="get" action=(base) {
                div.field { label for="unit" { (ctx.t("round.unit")) }
                    select #unit name="unit" { @for u in units { option value=(u.id) { (if lang == Lang::Vi { &u.name_vi } else { &u.name_en }) } } } }
                div.field { label for="group" { (ctx.t("catalog.group")) }
                    select #group name="group" { @for g in groups { option value=(g) { (ctx.t(&format!("group.{g}"))) } } } }
                div.field { label for="ref" { (ctx.t("paper.ref")) } p.hint { (ctx.t("paper.ref_hint")) } input.narrow #ref name="ref" type="text" required; }
                fieldset { legend { (ctx.t("paper.mode")) }
                    div.choice { input #m-single type="radio" name="entry" value="single" checked; label for="m-single" { (ctx.t("paper.single")) } }
                    div.choice { input #m-1 type="radio" name="entry" value="1"; label for="m-1" { (ctx.t("paper.first")) } }
                    div.choice { input #m-2 type="radio" name="entry" value="2"; label for="m-2" { (ctx.t("paper.second")) } }
                }
                button.btn type="submit" { (ctx.t("paper.key")) }
            }
            @if !entries.is_empty() {
                h2 { (ctx.t("paper.keyed")) }
                table {
                    thead { tr { th { (ctx.t("paper.ref")) } th.num { (ctx.t("paper.entry")) } th { (ctx.t("round.status")) } th { (ctx.t("paper.by")) } th { (ctx.t("paper.differences")) } } }
                    tbody { @for (e, diff) in entries { tr {
                        td { (e.batch_ref) } td.num { (e.entry_no) } td { (ctx.t(&format!("paper.status.{}", e.status))) } td { (e.entered_by) }
                        td { @for code in diff { code { (code) } " " } }
                    } } }
                }
            }
        },
    )
}

/// The keying form: the whole questionnaire on one page, every question shown.
#[expect(
    clippy::too_many_arguments,
    reason = "the form's hidden context, each used once"
)]
pub fn keying_form(
    ctx: &PageContext,
    round_id: i64,
    instrument: &Instrument,
    unit: i64,
    group: &str,
    form_ref: &str,
    entry: &str,
    answers: &Answers,
    errors: &[FieldError],
    posted: Option<&[(String, String)]>,
) -> Markup {
    let state = FormState {
        lang: ctx.lang,
        answers,
        errors,
        posted,
        mode: Mode::Preview,
    };
    page(
        ctx,
        ctx.t("paper.title"),
        html! {
            (error_summary(&state))
            h1 { (ctx.t("paper.title")) ": " (form_ref) }
            p { (instrument.title().get(ctx.lang)) }
            form method="post" action={ "/admin/rounds/" (round_id) "/paper" } novalidate {
                (ctx.csrf_field())
                input type="hidden" name="_unit" value=(unit);
                input type="hidden" name="_group" value=(group);
                input type="hidden" name="_ref" value=(form_ref);
                input type="hidden" name="_entry" value=(entry);
                @for section in instrument.sections() {
                    h2 { (section.title.get(ctx.lang)) }
                    (section_fields(section, &state))
                }
                button.btn type="submit" { (ctx.t("paper.save")) }
            }
        },
    )
}
