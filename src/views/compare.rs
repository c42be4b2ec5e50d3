//! A province's internal round beside the national round of the same year: a GET form that
//! chooses the national round and the province, then one table per respondent group, each
//! criterion followed by its items, and what only one round has.

use maud::{Markup, html};

use super::format::{name, percent, signed};
use super::gains::select;
use super::layout::{PageContext, page};
use super::results::{group_name, source_note};
use crate::app::export::jobs::ItemLabels;
use crate::app::results::{ComparePage, RoundComparison};
use crate::domain::gains::{CompareLevel, CompareRow, Side};

/// The comparison page.
pub fn compare_page(ctx: &PageContext, p: &ComparePage, labels: &ItemLabels) -> Markup {
    let lang = ctx.lang;
    let r = &p.internal;
    let round_name = name(lang, &r.round.name_vi, &r.round.name_en);
    let title = crate::i18n::tf(lang, "compare.title", &[("round", round_name)]);
    let rounds: Vec<(String, String)> = p
        .candidates
        .iter()
        .map(|c| {
            (
                c.id.to_string(),
                name(lang, &c.name_vi, &c.name_en).to_owned(),
            )
        })
        .collect();
    let units: Vec<(String, String)> = p
        .units
        .iter()
        .map(|(code, vi, en)| (code.clone(), format!("{} ({code})", name(lang, vi, en))))
        .collect();
    let chosen = p.national.map(|n| n.to_string()).unwrap_or_default();
    page(
        ctx,
        &title,
        html! {
            p { a href={ "/results/" (r.round.id) } { "← " (round_name) } }
            h1 { (title) }
            (source_note(ctx, r.source))
            p { (ctx.t("compare.intro")) }
            form #compare-form method="get" action={ "/results/" (r.round.id) "/compare" } {
                (select("national", ctx.t("compare.national_round"), &chosen, &rounds))
                @if !units.is_empty() {
                    (select("unit", ctx.t("compare.unit"), p.unit.as_deref().unwrap_or(""), &units))
                }
                button type="submit" { (ctx.t("compare.submit")) }
            }
            @match &p.outcome {
                Err(key) => { p.error #compare-error role="alert" { (ctx.t(key)) } }
                Ok(None) => { p.hint { (ctx.t(if p.national.is_none() { "compare.choose_national" } else { "compare.choose_unit" })) } }
                Ok(Some(c)) => { (comparison(ctx, p, c, labels)) }
            }
        },
    )
}

fn comparison(
    ctx: &PageContext,
    p: &ComparePage,
    c: &RoundComparison,
    labels: &ItemLabels,
) -> Markup {
    let lang = ctx.lang;
    let r = &p.internal;
    let unit = name(lang, &c.name_vi, &c.name_en);
    let national = name(lang, &c.national_round.name_vi, &c.national_round.name_en);
    let row_name = |row: &CompareRow| -> String {
        match row.level {
            CompareLevel::Criterion => r
                .methodology
                .criterion(&row.code)
                .map_or(row.code.clone(), |k| {
                    name(lang, &k.name.vi, &k.name.en).to_owned()
                }),
            _ => labels
                .get(&(row.group.clone(), row.code.clone()))
                .map_or(row.code.clone(), |(text, _)| text.get(lang).to_owned()),
        }
    };
    let pct = |x: Option<f64>| {
        x.filter(|v| v.is_finite())
            .map_or_else(|| "—".to_owned(), |v| percent(lang, v))
    };
    html! {
        p #compare-summary {
            (crate::i18n::tf(lang, "compare.summary", &[
                ("units", &c.internal_units.to_string()),
                ("unit", unit),
                ("national", national),
            ]))
        }
        (source_note(ctx, c.national_source))
        @for g in &c.comparison.groups {
            h2 { (group_name(r, &g.group, lang)) }
            p { (crate::i18n::tf(lang, "compare.pooled", &[
                ("units", &g.internal_units.to_string()),
                ("responses", &g.internal_responses.to_string()),
            ])) }
            table id={ "compare-" (g.group) } {
                caption { (crate::i18n::tf(lang, "compare.caption", &[("unit", unit)])) }
                thead { tr {
                    th scope="col" { (ctx.t("compare.code")) }
                    th scope="col" { (ctx.t("gains.row")) }
                    th.num scope="col" { (ctx.t("compare.internal")) }
                    th.num scope="col" { (crate::i18n::tf(lang, "compare.national", &[("unit", unit)])) }
                    th.num scope="col" { (ctx.t("compare.difference")) }
                    th.num scope="col" { (ctx.t("compare.national_mean")) }
                    th.num scope="col" { (ctx.t("compare.national_best")) }
                } }
                tbody { @for row in &g.rows {
                    tr data-code=(row.code) data-level=(row.level.code())
                        data-internal=[row.internal] data-national=[row.national] {
                        @if row.level == CompareLevel::Criterion {
                            th scope="row" { (row.code) }
                            th scope="row" { (row_name(row)) }
                        } @else {
                            td { (row.code) }
                            td { (row_name(row)) }
                        }
                        td.num { (pct(row.internal)) }
                        td.num { (pct(row.national)) }
                        td.num { (signed(lang, row.difference)) }
                        td.num { (pct(row.national_mean)) }
                        td.num { (pct(row.national_best)) }
                    }
                } }
            }
        }
        @if !c.comparison.not_comparable.is_empty() {
            h2 { (ctx.t("compare.not_comparable")) }
            table #compare-not-comparable {
                thead { tr {
                    th scope="col" { (ctx.t("results.group")) }
                    th scope="col" { (ctx.t("compare.code")) }
                    th scope="col" { (ctx.t("compare.only_in")) }
                } }
                tbody { @for n in &c.comparison.not_comparable {
                    tr data-code=(n.code) data-level=(n.level.code()) {
                        td { (group_name(r, &n.group, lang)) }
                        td { (n.code) }
                        td { (ctx.t(match n.only_in {
                            Side::Internal => "compare.only_internal",
                            Side::National => "compare.only_national",
                        })) }
                    }
                } }
            }
        }
    }
}
