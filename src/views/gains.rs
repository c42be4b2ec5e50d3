//! "Where a unit can gain": its points at stake per component, linked index, criterion and
//! item, each table sorted by points recoverable, with a bar chart of the gaps to the
//! national best. Printable, script-free.

use maud::{Markup, html};

use super::format::{name, num, number_format, percent, points, position, signed};
use super::layout::{PageContext, page};
use super::results::{component_name, group_name, source_note};
use crate::app::export::jobs::ItemLabels;
use crate::app::results::{RoundResults, UnitGains, UnitWhatIf};
use crate::domain::gains::form::{APPRAISED_ROWS, FieldError, SHIFT_ROWS};
use crate::domain::gains::{DragRanking, Level, Part, ShiftTarget, Stake, TargetPlan};

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
    what_if: WhatIfSection<'_>,
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
            p { a #plan-link href={ "/results/" (r.round.id) "/units/" (gains.unit) "/plan" } { (ctx.t("plan.link")) } }
            (chart)
            h2 { (ctx.t("results.components")) }
            (table("stakes-components", ctx.t("gains.components_caption"), &[Level::Component, Level::LinkedIndex], false))
            h2 { (ctx.t("gains.criteria")) }
            (table("stakes-criteria", ctx.t("gains.criteria_caption"), &[Level::Criterion], true))
            h2 { (ctx.t("gains.items")) }
            (table("stakes-items", ctx.t("gains.items_caption"), &[Level::Item], true))
            @if let Some(d) = &gains.drag { (drag_section(ctx, r, &gains.unit, d)) }
            (what_if_section(ctx, r, &gains.unit, labels, what_if))
        },
    )
}

/// The units of the view ranked by how much each drags the round-wide score down, the page's
/// own unit marked.
fn drag_section(ctx: &PageContext, r: &RoundResults, unit: &str, d: &DragRanking) -> Markup {
    let lang = ctx.lang;
    html! {
        section #drag {
            h2 { (ctx.t("drag.title")) }
            p #drag-overall {
                (crate::i18n::tf(lang, "drag.intro", &[
                    ("overall", &points(lang, d.overall)),
                    ("best", &points(lang, d.best)),
                ]))
            }
            table #drag-units {
                caption { (ctx.t("drag.caption")) }
                thead { tr {
                    th.num scope="col" { (ctx.t("plan.col_no")) }
                    th scope="col" { (ctx.t("plan.unit")) }
                    th.num scope="col" { (ctx.t("drag.respondents")) }
                    th.num scope="col" { (ctx.t("drag.share")) }
                    th.num scope="col" { (ctx.t("drag.score")) }
                    th.num scope="col" { (ctx.t("drag.gap")) }
                    th.num scope="col" { (ctx.t("drag.drag")) }
                } }
                tbody { @for (i, u) in d.units.iter().enumerate() {
                    @let shown = r.scores.units.iter().find(|s| s.unit == u.unit)
                        .map_or(u.unit.as_str(), |s| name(lang, &s.name_vi, &s.name_en));
                    @let current = u.unit == unit;
                    tr data-code=(u.unit) class=[current.then_some("current")] {
                        td.num { (i + 1) }
                        td { a href={ "/results/" (r.round.id) "/units/" (u.unit) "/gains" }
                            aria-current=[current.then_some("page")] { (shown) } }
                        td.num { (u.respondents) }
                        td.num { (percent(lang, u.share * 100.0)) }
                        td.num { (points(lang, u.score)) }
                        td.num { (points(lang, u.gap_to_best)) }
                        td.num { (points(lang, u.drag)) }
                    }
                } }
            }
            p { a #compare-link href={ "/results/" (r.round.id) "/compare" } { (ctx.t("compare.link")) } }
        }
    }
}

/// What the what-if section of the gains page shows: the form as sent, and its answer or the
/// refused field's message.
#[derive(Debug, Clone, Copy)]
pub struct WhatIfSection<'a> {
    /// The query pairs the form was sent with (to fill it in again).
    pub pairs: &'a [(String, String)],
    /// The simulation and plan, when the form asked for any.
    pub result: Option<&'a UnitWhatIf>,
    /// The refused field and the catalogue key of why.
    pub error: Option<&'a FieldError>,
}

impl WhatIfSection<'_> {
    fn value(&self, name: &str) -> &str {
        self.pairs
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.as_str())
    }
}

/// A `<select>` with an empty first option, the option `value` selected.
pub(crate) fn select(id: &str, label: &str, value: &str, options: &[(String, String)]) -> Markup {
    html! {
        label for=(id) { (label) }
        select id=(id) name=(id) {
            option value="" selected[value.is_empty()] { "—" }
            @for (v, text) in options {
                option value=(v) selected[v == value] { (text) }
            }
        }
    }
}

/// A text input for a number or code.
fn input(id: &str, label: &str, value: &str, decimal: bool) -> Markup {
    html! {
        label for=(id) { (label) }
        input id=(id) name=(id) type="text" value=(value) inputmode=[decimal.then_some("decimal")];
    }
}

/// The what-if form (a GET form: it reads, never writes) and its answer.
pub fn what_if_section(
    ctx: &PageContext,
    r: &RoundResults,
    unit: &str,
    labels: &ItemLabels,
    w: WhatIfSection<'_>,
) -> Markup {
    let lang = ctx.lang;
    let m = &r.methodology;
    let groups: Vec<(String, String)> = m
        .groups
        .iter()
        .filter(|g| g.counts_toward_index && !g.items.is_empty())
        .map(|g| (g.code.clone(), group_name(r, &g.code, lang).to_owned()))
        .collect();
    let mut targets: Vec<(String, String)> = Vec::new();
    for g in m.groups.iter().filter(|g| g.counts_toward_index) {
        for rule in &g.items {
            let key = format!("criterion:{}", rule.criterion);
            if !targets.iter().any(|(k, _)| *k == key) {
                let c = m.criterion(&rule.criterion);
                let text = c.map_or(rule.criterion.as_str(), |c| {
                    name(lang, &c.name.vi, &c.name.en)
                });
                targets.push((
                    key,
                    format!(
                        "{} {} — {}",
                        ctx.t("whatif.criterion"),
                        rule.criterion,
                        text
                    ),
                ));
            }
        }
    }
    for g in m.groups.iter().filter(|g| g.counts_toward_index) {
        for rule in &g.items {
            let key = format!("item:{}", rule.item);
            if !targets.iter().any(|(k, _)| *k == key) {
                let text = labels
                    .get(&(g.code.clone(), rule.item.clone()))
                    .map_or(rule.item.as_str(), |(t, _)| t.get(lang));
                targets.push((
                    key,
                    format!("{} {} — {}", ctx.t("whatif.item"), rule.item, text),
                ));
            }
        }
    }
    let components: Vec<(String, String)> = m
        .components
        .iter()
        .map(|c| {
            (
                c.code.clone(),
                format!("{} — {}", c.code, component_name(m, &c.code, lang)),
            )
        })
        .collect();
    let goals: Vec<(String, String)> = [
        ("tier", "whatif.goal_tier"),
        ("rank", "whatif.goal_rank"),
        ("total", "whatif.goal_total"),
    ]
    .iter()
    .map(|(k, key)| ((*k).to_owned(), ctx.t(key).to_owned()))
    .collect();
    let values: Vec<&str> = {
        let mut v: Vec<&str> = m
            .coefficient_tables
            .values()
            .flat_map(|t| t.values.keys().map(String::as_str))
            .collect();
        v.sort_unstable();
        v.dedup();
        v
    };
    let action = format!("/results/{}/units/{}/gains#what-if", r.round.id, unit);
    html! {
        section #what-if {
            h2 { (ctx.t("whatif.title")) }
            p { (ctx.t("whatif.intro")) }
            @if let Some(e) = w.error {
                div.error-summary role="alert" tabindex="-1" aria-labelledby="whatif-error-title" {
                    h3 #whatif-error-title { (ctx.t("form.errors.title")) }
                    ul { li { a href={ "#" (e.field) } {
                        (crate::i18n::tf(lang, "whatif.field_error", &[("field", &e.field), ("reason", ctx.t(e.reason))]))
                    } } }
                }
            }
            form method="get" action=(action) {
                @for n in 1..=SHIFT_ROWS {
                    fieldset {
                        legend { (crate::i18n::tf(lang, "whatif.shift_legend", &[("n", &n.to_string())])) }
                        (select(&format!("shift{n}_group"), ctx.t("results.group"), w.value(&format!("shift{n}_group")), &groups))
                        (select(&format!("shift{n}_target"), ctx.t("whatif.target"), w.value(&format!("shift{n}_target")), &targets))
                        (input(&format!("shift{n}_to"), ctx.t("whatif.to"), w.value(&format!("shift{n}_to")), false))
                        (input(&format!("shift{n}_pp"), ctx.t("whatif.pp"), w.value(&format!("shift{n}_pp")), true))
                    }
                }
                p.hint { (crate::i18n::tf(lang, "whatif.values_hint", &[("values", &values.join(", "))])) }
                @for n in 1..=APPRAISED_ROWS {
                    fieldset {
                        legend { (crate::i18n::tf(lang, "whatif.appraised_legend", &[("n", &n.to_string())])) }
                        (select(&format!("appraised{n}_component"), ctx.t("whatif.component"), w.value(&format!("appraised{n}_component")), &components))
                        (input(&format!("appraised{n}_points"), ctx.t("whatif.appraised_points"), w.value(&format!("appraised{n}_points")), true))
                    }
                }
                fieldset {
                    legend { (ctx.t("whatif.goal_legend")) }
                    (select("goal", ctx.t("whatif.goal"), w.value("goal"), &goals))
                    (input("goal_value", ctx.t("whatif.goal_value"), w.value("goal_value"), true))
                }
                button type="submit" { (ctx.t("whatif.submit")) }
            }
            @if let Some(res) = w.result {
                (outcome_table(ctx, r, res))
                @if let Some(p) = &res.plan { (plan_table(ctx, r, labels, p)) }
            }
        }
    }
}

/// The unit before and after, row by row.
fn outcome_table(ctx: &PageContext, r: &RoundResults, res: &UnitWhatIf) -> Markup {
    let lang = ctx.lang;
    let (b, a) = (&res.outcome.before, &res.outcome.after);
    let row = |label: &str, id: &str, before: String, after: String| {
        html! { tr data-row=(id) { th scope="row" { (label) } td.num { (before) } td.num { (after) } } }
    };
    html! {
        table #what-if-outcome {
            caption { (ctx.t("whatif.outcome_caption")) }
            thead { tr {
                th scope="col" { (ctx.t("gains.row")) }
                th.num scope="col" { (ctx.t("whatif.before")) }
                th.num scope="col" { (ctx.t("whatif.after")) }
            } }
            tbody {
                @for (g, before) in &b.groups {
                    (row(group_name(r, g, lang), &format!("group-{g}"), num(lang, *before), num(lang, a.groups.get(g).copied().flatten())))
                }
                (row(ctx.t("whatif.survey_part"), "survey", num(lang, b.survey_points), num(lang, a.survey_points)))
                (row(ctx.t("whatif.total"), "total", num(lang, b.total_points), num(lang, a.total_points)))
                (row(ctx.t("whatif.tier"), "tier", b.tier.clone().unwrap_or_else(|| "—".to_owned()), a.tier.clone().unwrap_or_else(|| "—".to_owned())))
                (row(ctx.t("whatif.national"), "national", position(b.national), position(a.national)))
                (row(ctx.t("whatif.regional"), "regional", position(b.regional), position(a.regional)))
            }
        }
    }
}

/// The extra points a goal needs and the cheapest items and criteria to get them.
fn plan_table(ctx: &PageContext, r: &RoundResults, labels: &ItemLabels, p: &TargetPlan) -> Markup {
    let lang = ctx.lang;
    let m = &r.methodology;
    html! {
        h3 { (ctx.t("whatif.plan_title")) }
        p #plan-extra data-extra=(p.extra_points) {
            (crate::i18n::tf(lang, "whatif.plan_extra", &[
                ("extra", &num(lang, Some(p.extra_points))),
                ("goal", &num(lang, Some(p.goal_points))),
                ("total", &num(lang, Some(p.total_points))),
            ]))
        }
        table #what-if-levers {
            caption { (ctx.t("whatif.levers_caption")) }
            thead { tr {
                th scope="col" { (ctx.t("gains.row")) }
                th scope="col" { (ctx.t("results.group")) }
                th.num scope="col" { (ctx.t("whatif.points_per_pp")) }
                th.num scope="col" { (ctx.t("whatif.headroom")) }
                th.num scope="col" { (ctx.t("whatif.pp_needed")) }
            } }
            tbody { @for l in &p.levers {
                @let (code, text) = match &l.target {
                    ShiftTarget::Criterion(c) => (c, m.criterion(c).map_or(c.as_str(), |x| name(lang, &x.name.vi, &x.name.en))),
                    ShiftTarget::Item(c) => (c, labels.get(&(l.group.clone(), c.clone())).map_or(c.as_str(), |(t, _)| t.get(lang))),
                };
                tr data-code=(code) {
                    td { (code) " — " (text) }
                    td { (group_name(r, &l.group, lang)) }
                    td.num { (number_format(lang, 4).format(l.points_per_pp)) }
                    td.num { (num(lang, Some(l.headroom_pp))) }
                    td.num { @if let Some(pp) = l.pp_needed { (num(lang, Some(pp))) } @else { (ctx.t("whatif.not_alone")) } }
                }
            } }
        }
    }
}
