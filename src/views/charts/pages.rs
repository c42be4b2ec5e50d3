//! The charts of each results page, built from the results with labels in the page's
//! language; the drawing itself is in the sibling chart modules.

use maud::{Markup, html};

use super::{
    ChartText, ComponentScore, GapBar, GapBarLabels, ProfileLabels, ReferenceLine, RegionLabels,
    RegionPoint, Scheme, SlopeLabels, SlopeRow, StackedLabels, StackedRow, TierBar, TierBarLabels,
    WaterfallLabels, WaterfallStep, component_profile, gap_bar_chart, regional_distribution,
    slope_chart, stacked_distribution, tier_bar_chart, waterfall_chart,
};
use crate::app::export::jobs::ItemLabels;
use crate::app::results::{ItemDistribution, Overview, RoundResults, Scorecard, UnitGains};
use crate::domain::gains::{Level, Part, Stake};
use crate::views::format::name;
use crate::views::format::points_fn;
use crate::views::gains::part_label;
use crate::views::layout::PageContext;
use crate::views::results::{component_name, group_name, n_of, region_name};

fn text<'a>(ctx: &'a PageContext, id: &'a str, key: &'a str) -> ChartText<'a> {
    ChartText {
        id,
        title: ctx.t(key),
        desc: ctx.t(match key {
            "results.chart_bars" => "results.chart_bars_desc",
            "results.chart_regions" => "results.chart_regions_desc",
            "results.chart_slope" => "results.chart_slope_desc",
            "results.chart_profile" => "results.chart_profile_desc",
            _ => "results.chart_items_desc",
        }),
        caption: ctx.t(key),
        table_summary: ctx.t("results.chart_table"),
        no_data: ctx.t("results.no_data"),
        fmt: points_fn(ctx.lang),
    }
}

/// The round dashboard's charts: units by tier, regional distribution, year-over-year.
pub fn dashboard(ctx: &PageContext, r: &RoundResults, overview: &Overview) -> Markup {
    let lang = ctx.lang;
    let ranked = r.scores.by_rank();
    // Charts show only units with a value; the caption below says how many of all.
    let bars: Vec<TierBar<'_>> = ranked
        .iter()
        .filter_map(|(u, rank)| {
            Some(TierBar {
                unit_code: &u.unit,
                name: name(lang, &u.name_vi, &u.name_en),
                value: r.scores.round_total(u).1?,
                tier: u
                    .index
                    .tier
                    .as_deref()
                    .or(rank.and_then(|x| x.tier.as_deref())),
                rank_uncertain: r.scores.rank_supported(&u.unit) == Some(false),
            })
        })
        .collect();
    let tiers: Vec<(&str, &str)> = r
        .methodology
        .tiers
        .bands
        .iter()
        .map(|b| (b.code.as_str(), b.code.as_str()))
        .collect();
    let mean_label = ctx.t("results.national_mean");
    let reference = overview.mean_percent.map(|value| ReferenceLine {
        value,
        label: mean_label,
    });
    let regions: Vec<(&str, &str)> = overview
        .regions
        .iter()
        .map(|g| (g.region.as_str(), region_name(r, &g.region, lang)))
        .collect();
    let points: Vec<RegionPoint<'_>> = r
        .scores
        .units
        .iter()
        .filter_map(|u| {
            Some(RegionPoint {
                unit_code: &u.unit,
                name: name(lang, &u.name_vi, &u.name_en),
                region: &u.region,
                value: r.scores.round_total(u).1?,
            })
        })
        .collect();
    let slopes: Vec<SlopeRow<'_>> = r
        .yoy
        .iter()
        .flatten()
        .filter_map(|c| {
            let u = r.scores.units.iter().find(|u| u.unit == c.unit)?;
            Some(SlopeRow {
                unit_code: &c.unit,
                name: name(lang, &u.name_vi, &u.name_en),
                before: c.earlier.as_ref()?.percent,
                after: c.current.percent,
            })
        })
        .collect();
    let this_year = r.round.year.to_string();
    let covered = n_of(ctx, overview.complete, overview.units);
    html! {
        p.hint #charts-units { (ctx.t("results.chart_bars")) ", " (ctx.t("results.chart_regions")) ": " (covered) }
        div.charts {
            (tier_bar_chart(&text(ctx, "bars", "results.chart_bars"), &TierBarLabels {
                unit: ctx.t("round.unit"), value: "%", tier: ctx.t("results.tier"),
                no_tier: ctx.t("results.no_tier"), rank_uncertain: ctx.t("results.rank_uncertain"),
            }, &tiers, &bars, reference.as_ref()))
            (regional_distribution(&text(ctx, "regions", "results.chart_regions"), &RegionLabels {
                region: ctx.t("scores.region"), unit: ctx.t("round.unit"), value: "%",
                mean: ctx.t("results.mean_percent"), range: ctx.t("results.range"),
            }, &regions, &points, (0.0, 100.0)))
            @if r.yoy.is_some() {
                (slope_chart(&text(ctx, "slope", "results.chart_slope"), &SlopeLabels {
                    unit: ctx.t("round.unit"), before: ctx.t("results.earlier"), after: &this_year,
                    change: ctx.t("results.change_pp"), direction: ctx.t("results.direction"),
                    up: ctx.t("results.up"), down: ctx.t("results.down"), flat: ctx.t("results.flat"),
                }, &slopes, &[]))
            }
        }
    }
}

/// A unit's component profile against the national means.
pub fn unit(ctx: &PageContext, r: &RoundResults, card: &Scorecard<'_>) -> Markup {
    let rows: Vec<ComponentScore<'_>> = card
        .components
        .iter()
        .map(|(code, pct, national, _)| ComponentScore {
            label: component_name(&r.methodology, code, ctx.lang),
            unit: pct.unwrap_or(f64::NAN),
            national: national.unwrap_or(f64::NAN),
        })
        .collect();
    component_profile(
        &text(ctx, "profile", "results.chart_profile"),
        &ProfileLabels {
            component: ctx.t("results.component"),
            unit_series: name(ctx.lang, &card.unit.name_vi, &card.unit.name_en),
            national_series: ctx.t("results.national_mean"),
        },
        &rows,
    )
}

/// One stacked distribution chart per respondent group, answers in option order.
pub fn items(
    ctx: &PageContext,
    r: &RoundResults,
    distributions: &[ItemDistribution],
    labels: &ItemLabels,
) -> Markup {
    let mut groups: Vec<&str> = Vec::new();
    for d in distributions {
        if !groups.contains(&d.group.as_str()) {
            groups.push(&d.group);
        }
    }
    html! {
        @for group in groups {
            (group_items(ctx, r, group, distributions, labels))
        }
    }
}

fn group_items(
    ctx: &PageContext,
    r: &RoundResults,
    group: &str,
    distributions: &[ItemDistribution],
    labels: &ItemLabels,
) -> Markup {
    let lang = ctx.lang;
    let rows: Vec<StackedRow<'_>> = distributions
        .iter()
        .filter(|d| d.group == group)
        .map(|d| {
            let found = labels.get(&(d.group.clone(), d.item.clone()));
            let label = found.map_or(d.item.as_str(), |(t, _)| t.get(lang));
            // Options in the questionnaire's order; answers it does not list go last.
            let mut answers: Vec<(&str, u64)> = found
                .map(|(_, options)| {
                    options
                        .iter()
                        .map(|o| {
                            (
                                o.label.get(lang),
                                d.counts.get(&o.value).copied().unwrap_or(0),
                            )
                        })
                        .collect()
                })
                .unwrap_or_default();
            for (value, n) in &d.counts {
                if !found.is_some_and(|(_, options)| options.iter().any(|o| &o.value == value)) {
                    answers.push((value.as_str(), *n));
                }
            }
            StackedRow {
                code: &d.item,
                label,
                answers,
            }
        })
        .collect();
    let id = format!("items-{group}");
    let caption = format!(
        "{} — {}",
        ctx.t("results.chart_items"),
        group_name(r, group, lang)
    );
    let mut chart = text(ctx, &id, "results.chart_items");
    chart.caption = &caption;
    stacked_distribution(
        &chart,
        &StackedLabels {
            question: ctx.t("results.item"),
            answer: ctx.t("results.answer"),
            count: "n",
            percent: "%",
            total: ctx.t("results.total"),
            legend: None,
        },
        &rows,
        Scheme::Sequential,
    )
}

/// The gains page's charts: the waterfall from the maximum down to the unit's points, and each
/// component's gap to the national best, survey and appraised points as separate bars,
/// largest gap first.
pub fn gains(ctx: &PageContext, r: &RoundResults, gains: &UnitGains) -> Markup {
    html! { (waterfall(ctx, r, gains)) (gap_bars(ctx, r, gains)) }
}

/// The waterfall from the index maximum down to the unit's points, one step per component
/// (its survey and appraised points lost), most points lost first. No chart (the no-data
/// message) when a component has no points: the steps would not add up to the unit's points.
fn waterfall(ctx: &PageContext, r: &RoundResults, gains: &UnitGains) -> Markup {
    let components: Vec<&Stake> = gains
        .stakes
        .iter()
        .filter(|s| s.key.level == Level::Component)
        .collect();
    let complete = components.iter().all(|s| s.lost.is_some());
    let maximum: f64 = components.iter().map(|s| s.max_points).sum();
    // (code, survey lost, appraised lost), in methodology order, then most lost first.
    let mut losses: Vec<(&str, f64, f64)> = Vec::new();
    for c in &r.methodology.components {
        let lost = |part: Part| {
            components
                .iter()
                .find(|s| s.key.code == c.code && s.key.part == part)
                .and_then(|s| s.lost)
        };
        if let Some(survey) = lost(Part::Survey) {
            losses.push((&c.code, survey, lost(Part::Appraised).unwrap_or(0.0)));
        }
    }
    losses.sort_by(|a, b| (b.1 + b.2).total_cmp(&(a.1 + a.2)));
    let steps: Vec<WaterfallStep<'_>> = if complete {
        losses
            .iter()
            .map(|(code, survey, appraised)| WaterfallStep {
                name: component_name(&r.methodology, code, ctx.lang),
                survey: *survey,
                appraised: *appraised,
            })
            .collect()
    } else {
        Vec::new()
    };
    waterfall_chart(
        &ChartText {
            id: "waterfall",
            title: ctx.t("gains.chart_waterfall"),
            desc: ctx.t("gains.chart_waterfall_desc"),
            caption: ctx.t("gains.chart_waterfall"),
            table_summary: ctx.t("results.chart_table"),
            no_data: ctx.t("results.no_data"),
            fmt: points_fn(ctx.lang),
        },
        &WaterfallLabels {
            row: ctx.t("results.component"),
            maximum: ctx.t("gains.waterfall_maximum"),
            points: ctx.t("gains.waterfall_points"),
            survey: ctx.t("gains.part_survey"),
            appraised: ctx.t("gains.part_appraised"),
            lost: ctx.t("gains.lost"),
            remaining: ctx.t("gains.waterfall_remaining"),
        },
        maximum,
        &steps,
    )
}

/// Bars of the gaps to the national best, one per component and part.
fn gap_bars(ctx: &PageContext, r: &RoundResults, gains: &UnitGains) -> Markup {
    let mut rows: Vec<(&Stake, &str)> = gains
        .stakes
        .iter()
        .filter(|s| s.key.level == Level::Component)
        .filter(|s| s.gap_to_national_best.is_some())
        .map(|s| (s, component_name(&r.methodology, &s.key.code, ctx.lang)))
        .collect();
    rows.sort_by(|a, b| {
        let gap = |s: &Stake| s.gap_to_national_best.unwrap_or(0.0);
        gap(b.0)
            .total_cmp(&gap(a.0))
            .then_with(|| a.0.key.cmp(&b.0.key))
    });
    let names: Vec<String> = rows
        .iter()
        .map(|(s, n)| format!("{} · {}", n, part_label(ctx, s.key.part)))
        .collect();
    let bars: Vec<GapBar<'_>> = rows
        .iter()
        .zip(&names)
        .map(|((s, _), n)| GapBar {
            name: n,
            appraised: s.key.part == Part::Appraised,
            gap: s.gap_to_national_best.unwrap_or(f64::NAN),
        })
        .collect();
    gap_bar_chart(
        &ChartText {
            id: "gaps",
            title: ctx.t("gains.chart_gaps"),
            desc: ctx.t("gains.chart_gaps_desc"),
            caption: ctx.t("gains.chart_gaps"),
            table_summary: ctx.t("results.chart_table"),
            no_data: ctx.t("results.no_data"),
            fmt: points_fn(ctx.lang),
        },
        &GapBarLabels {
            row: ctx.t("results.component"),
            part: ctx.t("gains.part"),
            gap: ctx.t("gains.gap_national"),
            survey: ctx.t("gains.part_survey"),
            appraised: ctx.t("gains.part_appraised"),
        },
        &bars,
    )
}
