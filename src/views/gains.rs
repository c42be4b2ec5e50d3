//! "Where a unit can gain": its points at stake per component, linked index, criterion and
//! item, each table sorted by points recoverable, with a bar chart of the gaps to the
//! national best. Printable, script-free.

use maud::{Markup, html};

use super::format::{name, num, points, signed};
use super::layout::{PageContext, page};
use super::results::{component_name, group_name, source_note};
use crate::app::export::jobs::ItemLabels;
use crate::app::results::{RoundResults, UnitGains};
use crate::domain::gains::{Level, Part, Stake};

/// The display name of a row at stake: component, linked index or criterion name from the
/// methodology, the question text of an item (its code when the questionnaire has none).
pub fn stake_name<'a>(
    r: &'a RoundResults,
    labels: &'a ItemLabels,
    s: &'a Stake,
    ctx: &PageContext,
) -> &'a str {
    let lang = ctx.lang;
    let m = &r.methodology;
    let code = s.key.code.as_str();
    match s.key.level {
        Level::Component => component_name(m, code, lang),
        Level::LinkedIndex => m
            .linked_indices
            .iter()
            .find(|l| l.code == code)
            .map_or(code, |l| name(lang, &l.name.vi, &l.name.en)),
        Level::Criterion => m
            .criterion(code)
            .map_or(code, |c| name(lang, &c.name.vi, &c.name.en)),
        Level::Item => s
            .key
            .group
            .as_ref()
            .and_then(|g| labels.get(&(g.clone(), s.key.code.clone())))
            .map_or(code, |(text, _)| text.get(lang)),
    }
}

/// The label of a part: survey or appraised points.
pub fn part_label(ctx: &PageContext, part: Part) -> &'static str {
    ctx.t(match part {
        Part::Survey => "gains.part_survey",
        Part::Appraised => "gains.part_appraised",
    })
}

/// The gains page of one unit.
pub fn gains_page(
    ctx: &PageContext,
    r: &RoundResults,
    gains: &UnitGains,
    labels: &ItemLabels,
    chart: Markup,
) -> Markup {
    let lang = ctx.lang;
    let unit_name = name(lang, &gains.name_vi, &gains.name_en);
    let title = crate::i18n::tf(lang, "gains.title", &[("unit", unit_name)]);
    let table = |id: &str, caption: &str, levels: &[Level], with_group: bool| {
        let rows: Vec<&Stake> = gains
            .stakes
            .iter()
            .filter(|s| levels.contains(&s.key.level))
            .collect();
        html! {
            table id=(id) {
                caption { (caption) }
                thead { tr {
                    th scope="col" { (ctx.t("gains.row")) }
                    @if with_group { th scope="col" { (ctx.t("results.group")) } }
                    th scope="col" { (ctx.t("gains.part")) }
                    th.num scope="col" { (ctx.t("results.points")) }
                    th.num scope="col" { (ctx.t("gains.lost")) }
                    th.num scope="col" { (ctx.t("gains.gap_national")) }
                    th.num scope="col" { (ctx.t("gains.gap_regional")) }
                    @if gains.previous_round.is_some() { th.num scope="col" { (ctx.t("gains.change_previous")) } }
                } }
                tbody { @for s in rows {
                    tr data-code=(s.key.code) data-part=(s.key.part.code()) {
                        td { (stake_name(r, labels, s, ctx)) }
                        @if with_group { td { (s.key.group.as_deref().map_or("", |g| group_name(r, g, lang))) } }
                        td { (part_label(ctx, s.key.part)) }
                        td.num { (num(lang, s.points)) " / " (points(lang, s.max_points)) }
                        td.num { (num(lang, s.lost)) }
                        td.num { (num(lang, s.gap_to_national_best)) }
                        td.num { (num(lang, s.gap_to_regional_best)) }
                        @if gains.previous_round.is_some() { td.num { (signed(lang, s.change_since_previous)) } }
                    }
                } }
            }
        }
    };
    page(
        ctx,
        &title,
        html! {
            p { a href={ "/results/" (r.round.id) "/units/" (gains.unit) } { "← " (unit_name) } }
            h1 { (title) }
            (source_note(ctx, r.source))
            p { (crate::i18n::tf(lang, "gains.intro", &[("n", &gains.compared_units.to_string())])) }
            @if gains.previous_round.is_none() { p.hint #no-previous { (ctx.t("gains.no_previous")) } }
            (chart)
            h2 { (ctx.t("results.components")) }
            (table("stakes-components", ctx.t("gains.components_caption"), &[Level::Component, Level::LinkedIndex], false))
            h2 { (ctx.t("gains.criteria")) }
            (table("stakes-criteria", ctx.t("gains.criteria_caption"), &[Level::Criterion], true))
            h2 { (ctx.t("gains.items")) }
            (table("stakes-items", ctx.t("gains.items_caption"), &[Level::Item], true))
        },
    )
}
