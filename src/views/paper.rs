//! Pages for keying paper questionnaires: choosing the form, keying it, and the list of keyed
//! forms with mismatches to resolve.

use maud::{Markup, html};

use super::components::round_part_page;
use super::layout::{PageContext, page};
use super::questionnaire::{FormState, Mode, error_summary, section_fields};
use crate::app::paper::EntryMode;
use crate::db::paper::PaperEntry;
use crate::db::rounds::RoundRow;
use crate::db::units::UnitRow;
use crate::domain::answers::{Answers, FieldError};
use crate::domain::instrument::Instrument;
use crate::i18n::Lang;

/// What the paper page shows.
pub struct Overview<'a> {
    /// The round.
    pub round: &'a RoundRow,
    /// The units the user may key for.
    pub units: &'a [UnitRow],
    /// The round's group codes.
    pub groups: &'a [String],
    /// The keying modes the user may choose.
    pub modes: &'a [EntryMode],
    /// The keyed forms, each with its differing answer codes.
    pub entries: &'a [(PaperEntry, Vec<String>)],
    /// A notice after a keying.
    pub notice: Option<&'a str>,
}

/// The label key of a keying mode.
fn mode_label(mode: EntryMode) -> &'static str {
    match mode {
        EntryMode::Single => "paper.single",
        EntryMode::First => "paper.first",
        EntryMode::Second => "paper.second",
    }
}

/// The paper page: choose unit, group, form number and keying; the keyed forms.
pub fn overview(ctx: &PageContext, o: &Overview<'_>) -> Markup {
    let lang = ctx.lang;
    let round = o.round;
    let base = format!("/admin/rounds/{}/paper", round.id);
    round_part_page(
        ctx,
        round,
        "paper.title",
        html! {
            @if let Some(key) = o.notice { div.notice role="status" { (ctx.t(key)) } }
            p { (ctx.t("paper.intro")) }
            form method="get" action=(base) {
                div.field { label for="unit" { (ctx.t("round.unit")) }
                    select #unit name="unit" { @for u in o.units { option value=(u.id) { (if lang == Lang::Vi { &u.name_vi } else { &u.name_en }) } } } }
                div.field { label for="group" { (ctx.t("catalog.group")) }
                    select #group name="group" { @for g in o.groups { option value=(g) { (ctx.t(&format!("group.{g}"))) } } } }
                div.field { label for="ref" { (ctx.t("paper.ref")) } p.hint { (ctx.t("paper.ref_hint")) } input.narrow #ref name="ref" type="text" required; }
                fieldset { legend { (ctx.t("paper.mode")) }
                    @if !o.modes.contains(&EntryMode::Single) { p.hint { (ctx.t("paper.double_required")) } }
                    @for (i, mode) in o.modes.iter().enumerate() {
                        @let id = format!("m-{}", mode.code());
                        div.choice { input id=(id) type="radio" name="entry" value=(mode.code()) checked[i == 0]; label for=(id) { (ctx.t(mode_label(*mode))) } }
                    }
                }
                button.btn type="submit" { (ctx.t("paper.key")) }
            }
            @if !o.entries.is_empty() {
                h2 { (ctx.t("paper.keyed")) }
                table {
                    thead { tr { th { (ctx.t("paper.ref")) } th.num { (ctx.t("paper.entry")) } th { (ctx.t("round.status")) } th { (ctx.t("paper.by")) } th { (ctx.t("paper.differences")) } } }
                    tbody { @for (e, diff) in o.entries { tr {
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
        instrument,
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
