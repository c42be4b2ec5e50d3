//! Analyst dashboards: the round overview with its ranking table and charts, the unit
//! scorecard, the per-question distributions, and export jobs. Printable, script-free.

use maud::{Markup, html};

use super::format::{name, num, points, position, rank_move, round_title, signed};
use super::layout::{PageContext, page, titled_page};
use crate::app::results::{
    ItemDistribution, Overview, RankingRow, RoundResults, Scorecard, SortKey, Source,
};
use crate::db::export_jobs::ExportJobRow;
use crate::db::rounds::RoundRow;
use crate::domain::export_job::ExportJobStatus;
use crate::domain::methodology::Methodology;
use crate::domain::scoring::{Standing, percent_of};
use crate::i18n::Lang;

/// The catalogue key naming the total a round ranks on: the index total (of 100) once
/// appraised points are imported, else the survey part (leaders + SIPAS, of 32).
pub(crate) fn total_label(full_index: bool) -> &'static str {
    if full_index {
        "scores.index_total"
    } else {
        "scores.survey_part"
    }
}

/// "n of N units" after an aggregate, so a mean never hides how many units it covers.
pub(crate) fn n_of(ctx: &PageContext, n: usize, total: usize) -> String {
    crate::i18n::tf(
        ctx.lang,
        "results.n_of_units",
        &[("n", &n.to_string()), ("total", &total.to_string())],
    )
}

/// A component's display name from the methodology (its code when unknown).
pub fn component_name<'a>(m: &'a Methodology, code: &'a str, lang: Lang) -> &'a str {
    m.components
        .iter()
        .find(|c| c.code == code)
        .map_or(code, |c| name(lang, &c.name.vi, &c.name.en))
}

/// A respondent group's display name.
pub fn group_name<'a>(r: &'a RoundResults, code: &'a str, lang: Lang) -> &'a str {
    r.group_names
        .get(code)
        .map_or(code, |(vi, en)| name(lang, vi, en))
}

/// A region's display name.
pub fn region_name<'a>(results: &'a RoundResults, code: &'a str, lang: Lang) -> &'a str {
    results
        .regions
        .get(code)
        .map_or(code, |(vi, en)| name(lang, vi, en))
}

pub(crate) fn source_note(ctx: &PageContext, source: Source) -> Markup {
    html! {
        p.source {
            @match source {
                Source::Live => { strong { (ctx.t("results.live")) } " " (ctx.t("results.live_note")) }
                Source::Published { version } => { strong { (ctx.t("results.published")) } " v" (version) }
            }
        }
    }
}

/// The list of rounds the visitor may open.
pub fn round_list(ctx: &PageContext, rounds: &[(RoundRow, Option<i32>)]) -> Markup {
    titled_page(
        ctx,
        "results.title",
        html! {
            @if rounds.is_empty() {
                p { (ctx.t("results.none")) }
            } @else {
                ul { @for (r, published) in rounds {
                    li {
                        a href={ "/results/" (r.id) } { (round_title(ctx.lang, &r.name_vi, &r.name_en, r.year)) }
                        " — "
                        @match published {
                            Some(v) => { (ctx.t("results.published")) " v" (v) }
                            None => { (ctx.t("results.live")) }
                        }
                    }
                } }
            }
        },
    )
}

/// Everything the round dashboard shows.
pub struct Dashboard<'a> {
    /// The visible results.
    pub results: &'a RoundResults,
    /// National figures.
    pub overview: &'a Overview,
    /// The ranking table, sorted.
    pub rows: &'a [RankingRow],
    /// The current sort.
    pub sort: &'a SortKey,
    /// Ascending order.
    pub ascending: bool,
    /// The round's groups with an instrument: (group code, group id), for codebooks and
    /// microdata.
    pub groups: &'a [String],
    /// Whether the visitor may start microdata exports.
    pub may_export_microdata: bool,
    /// Coverage and data quality (staff only).
    pub fieldwork: Option<&'a crate::app::results::Fieldwork>,
    /// The random sample, when the round drew one.
    pub sample: Option<&'a crate::app::rounds::PublicSample>,
}

fn sort_link(d: &Dashboard<'_>, key: SortKey, label: &str) -> Markup {
    let active = *d.sort == key;
    // Clicking the active column flips the direction; another column starts descending.
    let ascending = active && !d.ascending;
    let href = format!(
        "/results/{}?sort={}{}#ranking",
        d.results.round.id,
        crate::views::layout::urlencode(&key.as_query()),
        if ascending { "&dir=asc" } else { "" }
    );
    let aria = match (active, d.ascending) {
        (true, true) => "ascending",
        (true, false) => "descending",
        (false, _) => "none",
    };
    html! { th.num scope="col" aria-sort=(aria) { a href=(href) { (label) } @if active { (if d.ascending { " ↑" } else { " ↓" }) } } }
}

/// The round dashboard: overview, charts, ranking table and downloads.
pub fn dashboard(ctx: &PageContext, d: &Dashboard<'_>, charts: Markup) -> Markup {
    let lang = ctx.lang;
    let r = d.results;
    let m = &r.methodology;
    let o = d.overview;
    let round = &r.round;
    let group_codes: Vec<&str> = r
        .scores
        .units
        .first()
        .map(|u| u.groups.iter().map(|g| g.group.as_str()).collect())
        .unwrap_or_default();
    let has_sipas = r.scores.units.iter().any(|u| u.sipas.is_some());
    html! {
        (page(ctx, name(lang, &round.name_vi, &round.name_en), html! {
            p { a href="/results" { "← " (ctx.t("results.title")) } }
            h1 { (round_title(lang, &round.name_vi, &round.name_en, round.year)) }
            (source_note(ctx, r.source))
            nav.subnav aria-label=(ctx.t("results.sections")) {
                a href="#overview" { (ctx.t("results.overview")) }
                a href="#ranking" { (ctx.t("results.ranking")) }
                a href={ "/results/" (round.id) "/items" } { (ctx.t("results.items")) }
                a href={ "/results/" (round.id) "/breakdown" } { (ctx.t("results.breakdown")) }
                a href="#downloads" { (ctx.t("results.downloads")) }
            }
            section #overview {
                h2 { (ctx.t("results.overview")) }
                dl.figures {
                    dt { (ctx.t("results.units")) } dd #complete-units { (crate::i18n::tf(lang, "results.complete_units", &[("n", &o.complete.to_string()), ("total", &o.units.to_string())])) }
                    dt { (ctx.t("results.mean_points")) ": " (ctx.t(total_label(o.full_index))) } dd #mean-points { (num(ctx.lang, o.mean_points)) " / " (points(ctx.lang, o.max_points)) " (" (n_of(ctx, o.with_total, o.units)) ")" }
                    dt { (ctx.t("results.mean_percent")) } dd { (num(ctx.lang, o.mean_percent)) " %" }
                    @for g in &o.groups {
                        dt { (group_name(r, &g.group, lang)) }
                        dd { (num(ctx.lang, g.mean_points)) " / " (points(ctx.lang, g.max_points)) " (" (n_of(ctx, g.units, o.units)) "; " (g.responses) " " (ctx.t("results.responses")) ")" }
                    }
                    @if let Some(s) = o.mean_sipas_percent { dt { "SIPAS" } dd { (points(ctx.lang, s)) " % (" (n_of(ctx, o.sipas_units, o.units)) ")" } }
                }
                div.columns {
                    table {
                        caption { (ctx.t("results.tiers")) " (" (n_of(ctx, o.complete, o.units)) ")" }
                        thead { tr { th scope="col" { (ctx.t("results.tier")) } th.num scope="col" { (ctx.t("results.units")) } } }
                        tbody { @for (tier, n) in &o.tiers {
                            tr { td { (tier.as_deref().unwrap_or(ctx.t("results.no_tier"))) } td.num { (n) } }
                        } }
                    }
                    table {
                        caption { (ctx.t("results.regions")) }
                        thead { tr {
                            th scope="col" { (ctx.t("scores.region")) } th.num scope="col" { (ctx.t("results.units")) }
                            th.num scope="col" { (ctx.t("results.mean_percent")) } th.num scope="col" { (ctx.t("results.min")) } th.num scope="col" { (ctx.t("results.max")) }
                        } }
                        tbody { @for reg in &o.regions {
                            tr {
                                td { (region_name(r, &reg.region, lang)) } td.num { (reg.with_value) "/" (reg.units) }
                                td.num { (num(ctx.lang, reg.mean_percent)) } td.num { (num(ctx.lang, reg.min_percent)) } td.num { (num(ctx.lang, reg.max_percent)) }
                            }
                        } }
                    }
                }
                (charts)
            }
            @if let Some(f) = d.fieldwork { (fieldwork(ctx, d, f)) }
            @if let Some(s) = d.sample { (sample_section(ctx, d, s)) }
            section #ranking {
                h2 { (ctx.t("results.ranking")) }
                div.scroll { table.ranking {
                    caption.visually-hidden { (ctx.t("results.ranking")) }
                    thead { tr {
                        th.num scope="col" { (ctx.t("scores.rank")) }
                        (sort_link(d, SortKey::Unit, ctx.t("round.unit")))
                        th scope="col" { (ctx.t("scores.region")) }
                        th.num scope="col" { (ctx.t("scores.regional_rank")) }
                        @if d.results.scores.full_index() {
                            th.num scope="col" { (ctx.t("scores.survey_part")) }
                            (sort_link(d, SortKey::Total, ctx.t("scores.index_total")))
                        } @else {
                            (sort_link(d, SortKey::Total, ctx.t("scores.survey_part")))
                        }
                        th.num scope="col" { "%" }
                        th scope="col" { (ctx.t("results.tier")) }
                        @for g in &group_codes { (sort_link(d, SortKey::Group((*g).to_owned()), group_name(r, g, lang))) }
                        @if has_sipas { (sort_link(d, SortKey::Sipas, "SIPAS %")) }
                        @for c in &m.components { (sort_link(d, SortKey::Component(c.code.clone()), &c.code)) }
                        @if r.yoy.is_some() {
                            (sort_link(d, SortKey::Change, ctx.t("results.change_pp")))
                            th.num scope="col" { (ctx.t("scores.rank_change")) }
                        }
                    } }
                    tbody { @for row in d.rows {
                        tr {
                            td.num {
                                @match row.standing.label_key() {
                                    Some(key) => { span.incomplete { (ctx.t(key)) } }
                                    None => { (position(row.national)) }
                                }
                                @if row.rank_supported == Some(false) {
                                    " " abbr.flag title=(ctx.t("results.rank_uncertain")) { "≈" }
                                }
                            }
                            td { a href={ "/results/" (round.id) "/units/" (row.unit) } { (name(lang, &row.name_vi, &row.name_en)) } }
                            td { (region_name(r, &row.region, lang)) }
                            td.num { (position(row.regional)) }
                            td.num { (num(ctx.lang, row.survey_points)) " / " (points(ctx.lang, row.survey_max_points)) }
                            @if d.results.scores.full_index() { td.num { (num(ctx.lang, row.index_points)) " / " (points(ctx.lang, row.index_max_points)) } }
                            td.num { (num(ctx.lang, row.percent)) }
                            td { (row.tier.as_deref().unwrap_or("—")) }
                            @for g in &group_codes { td.num { (num(ctx.lang, row.groups.iter().find(|x| x.0 == *g).and_then(|x| x.1))) } }
                            @if has_sipas { td.num { (num(ctx.lang, row.sipas_percent)) } }
                            @for c in &m.components { td.num { (num(ctx.lang, row.components.iter().find(|x| x.0 == c.code).and_then(|x| x.1))) } }
                            @if r.yoy.is_some() {
                                td.num { (signed(ctx.lang, row.change_percent_points)) }
                                td.num { (rank_move(row.rank_change)) }
                            }
                        }
                    } }
                } }
                p.hint { (ctx.t("results.components_legend")) " "
                    @for (i, c) in m.components.iter().enumerate() {
                        @if i > 0 { "; " } strong { (c.code) } " " (name(lang, &c.name.vi, &c.name.en))
                    }
                }
                p.hint #ranked-on { (crate::i18n::tf(lang, if o.full_index { "scores.ranked_on_index" } else { "scores.ranked_on_survey" }, &[("max", &points(ctx.lang, o.max_points))])) }
                @if d.rows.iter().any(|x| x.standing == Standing::Incomplete) {
                    p.hint { (ctx.t("results.incomplete")) ": " (ctx.t("results.incomplete_note")) }
                }
                @if d.rows.iter().any(|x| x.standing == Standing::SurveyPartOnly) {
                    p.hint { (ctx.t("results.survey_part_only")) ": " (ctx.t("results.survey_part_only_note")) }
                }
                @if d.rows.iter().any(|x| x.standing == Standing::InsufficientData) {
                    p.hint { (ctx.t("results.insufficient")) ": " (crate::i18n::tf(lang, "results.insufficient_note", &[("n", &m.ranking.min_respondents.to_string())])) }
                }
                @if d.rows.iter().any(|x| x.rank_supported == Some(false)) {
                    p.hint { "≈ " (ctx.t("results.rank_uncertain")) }
                }
                @match r.yoy_source {
                    Some(Source::Live) => { p.hint { (ctx.t("results.compared_live")) } }
                    Some(Source::Published { version }) => { p.hint { (ctx.t("results.compared_published")) " (v" (version) ")." } }
                    None => {}
                }
            }
            (downloads(ctx, d))
        }))
    }
}

/// The commitment and draw of the round's sample, and each unit's response rate (AAPOR RR1)
/// beside its score, in ranking order.
fn sample_section(
    ctx: &PageContext,
    d: &Dashboard<'_>,
    s: &crate::app::rounds::PublicSample,
) -> Markup {
    let c = &s.commitment;
    let zone = crate::domain::local_time::TimeZone::default();
    let when = |t| crate::views::rounds::fmt_time(ctx.lang, zone, t);
    html! {
        section #sample {
            h2 { (ctx.t("results.sample.title")) }
            p { (ctx.t("results.sample.explained")) }
            dl {
                dt { (ctx.t("round.sample.frame_hash")) } dd { code { (c.frame_hash) } }
                dt { (ctx.t("round.sample.seed_source")) } dd { (c.seed_source) }
                dt { (ctx.t("round.sample.committed")) } dd { (when(Some(c.committed_at))) }
                dt { (ctx.t("round.sample.seed")) } dd { code { (c.seed.as_deref().unwrap_or_default()) } }
                dt { (ctx.t("round.sample.drawn")) } dd { (when(c.drawn_at)) }
            }
            table #unit-response-rates {
                caption { (ctx.t("results.sample.rates")) }
                thead { tr {
                    th scope="col" { (ctx.t("results.sample.unit")) } th.num scope="col" { (ctx.t("results.sample.score")) }
                    th.num scope="col" { abbr title=(ctx.t("round.sample.rr1_title")) { "RR1" } }
                } }
                tbody { @for row in d.rows { tr {
                    td { (name(ctx.lang, &row.name_vi, &row.name_en)) }
                    td.num { (num(ctx.lang, row.percent)) }
                    td.num { (s.unit_rr1.get(&row.unit).copied().flatten()
                        .map_or_else(|| "—".to_owned(), |r| crate::views::format::percent(ctx.lang, r * 100.0))) }
                } } }
            }
        }
    }
}

fn fieldwork(ctx: &PageContext, d: &Dashboard<'_>, f: &crate::app::results::Fieldwork) -> Markup {
    let id = d.results.round.id;
    html! {
        section #fieldwork {
            h2 { (ctx.t("results.fieldwork")) }
            table {
                caption { (ctx.t("results.coverage")) " " a href={ "/admin/rounds/" (id) "/coverage" } { (ctx.t("results.details")) } }
                thead { tr {
                    th scope="col" { (ctx.t("results.group")) } th.num scope="col" { (ctx.t("results.completed")) }
                    th.num scope="col" { (ctx.t("results.target")) } th.num scope="col" { "%" }
                    th.num scope="col" { (ctx.t("results.units_behind")) }
                } }
                tbody { @for g in &f.groups {
                    tr {
                        td { (group_name(d.results, &g.group, ctx.lang)) } td.num { (g.completed) } td.num { (g.target) }
                        td.num { @if g.target > 0 { (points(ctx.lang, ratio(g.completed, g.target))) } @else { "—" } }
                        td.num { (g.units_behind) " / " (g.units) }
                    }
                } }
            }
            p { (ctx.t("results.quality")) ": " (f.flagged) " " (ctx.t("results.flagged")) ", " (f.excluded) " " (ctx.t("results.excluded")) ". "
                a href={ "/admin/rounds/" (id) "/quality" } { (ctx.t("results.details")) } }
        }
    }
}

/// a / b × 100 for counts.
fn ratio(a: i64, b: i64) -> f64 {
    #[expect(
        clippy::cast_precision_loss,
        reason = "response counts are far below 2^52"
    )]
    let (a, b) = (a as f64, b as f64);
    a * 100.0 / b
}

fn downloads(ctx: &PageContext, d: &Dashboard<'_>) -> Markup {
    let id = d.results.round.id;
    html! {
        section #downloads {
            h2 { (ctx.t("results.downloads")) }
            h3 { (ctx.t("results.aggregates")) }
            ul.downloads {
                li { a href={ "/results/" (id) "/download/scores.xlsx" } { "Excel (.xlsx)" } }
                li { a href={ "/results/" (id) "/download/scores.csv" } { "CSV (UTF-8, BOM)" } " · "
                     a href={ "/results/" (id) "/download/scores.csv?bom=0" } { (ctx.t("results.csv_no_bom")) } " · "
                     a href={ "/results/" (id) "/download/scores.csv?decimal=comma" } { (ctx.t("results.csv_comma")) } }
                li { a href={ "/results/" (id) "/download/scores.json" } { "JSON" } }
            }
            @if d.may_export_microdata {
                h3 { (ctx.t("results.microdata")) }
                p.hint { (ctx.t("results.microdata_note")) }
                @for g in d.groups {
                    h4 { (group_name(d.results, g, ctx.lang)) }
                    ul.downloads {
                        li { (ctx.t("results.codebook")) ": "
                            a href={ "/results/" (id) "/download/codebook-" (g) ".html" } { "HTML" } " · "
                            a href={ "/results/" (id) "/download/codebook-" (g) ".csv" } { "CSV" } }
                        li { (ctx.t("results.syntax")) ": "
                            a href={ "/results/" (id) "/download/syntax-" (g) ".sps" } { "SPSS" } " · "
                            a href={ "/results/" (id) "/download/syntax-" (g) ".do" } { "Stata" } " · "
                            a href={ "/results/" (id) "/download/syntax-" (g) ".R" } { "R" } }
                    }
                    form.inline method="post" action={ "/results/" (id) "/exports" } {
                        (ctx.csrf_field())
                        input type="hidden" name="group" value=(g);
                        label { (ctx.t("results.format")) " "
                            select name="format" { option value="csv" { "CSV" } option value="xlsx" { "XLSX" } } }
                        label { (ctx.t("results.decimal")) " "
                            select name="decimal" { option value="point" { "1.5" } option value="comma" { "1,5" } } }
                        label { input type="checkbox" name="bom" value="1" checked; " " (ctx.t("results.bom")) }
                        label { input type="checkbox" name="include_excluded" value="1"; " " (ctx.t("results.include_excluded")) }
                        button type="submit" { (ctx.t("results.start_export")) }
                    }
                }
                p { a href="/exports" { (ctx.t("results.my_exports")) } }
            }
        }
    }
}

/// The scorecard of one unit.
pub fn unit_page(
    ctx: &PageContext,
    r: &RoundResults,
    card: &Scorecard<'_>,
    labels: &crate::app::export::jobs::ItemLabels,
    charts: Markup,
) -> Markup {
    let lang = ctx.lang;
    let m = &r.methodology;
    let u = card.unit;
    let round = &r.round;
    let item_table = |caption: &str, items: &[crate::app::results::ItemResult]| {
        html! {
            table {
                caption { (caption) }
                thead { tr {
                    th scope="col" { (ctx.t("results.group")) } th scope="col" { (ctx.t("results.item")) }
                    th.num scope="col" { "%" } th.num scope="col" { (ctx.t("results.national_mean")) } th.num scope="col" { "n" }
                } }
                tbody { @for i in items {
                    tr {
                        td { (group_name(r, &i.group, lang)) }
                        // The question's text; its code only when the questionnaire has none.
                        td { (labels.get(&(i.group.clone(), i.item.clone())).map_or(i.item.as_str(), |(text, _)| text.get(lang))) }
                        td.num { (points(ctx.lang, i.percent)) } td.num { (num(ctx.lang, i.national_percent)) } td.num { (i.valid_n) }
                    }
                } }
            }
        }
    };
    page(
        ctx,
        name(lang, &u.name_vi, &u.name_en),
        html! {
            p { a href={ "/results/" (round.id) } { "← " (name(lang, &round.name_vi, &round.name_en)) } }
            h1 { (name(lang, &u.name_vi, &u.name_en)) }
            (source_note(ctx, r.source))
            dl.figures {
                dt { (ctx.t("scores.survey_part")) } dd #survey-part { (num(ctx.lang, u.index.survey_points)) " / " (points(ctx.lang, u.index.survey_max_points)) " (" (num(ctx.lang, u.index.survey_points.and_then(|p| percent_of(p, u.index.survey_max_points)))) " %)" }
                @if r.scores.full_index() {
                    dt { (ctx.t("scores.index_total")) } dd #index-total { (num(ctx.lang, u.index_total())) " / " (points(ctx.lang, r.methodology.total_points)) " (" (num(ctx.lang, u.index_total().and(u.index.percent))) " %)" }
                }
                dt { (ctx.t("results.national_rank")) } dd {
                    @match r.scores.standing(u).label_key() {
                        Some(key) => { (ctx.t(key)) }
                        None => { (position(card.national)) }
                    }
                }
                dt { (ctx.t("scores.regional_rank")) } dd { (position(card.regional)) " — " (region_name(r, &u.region, lang)) }
                @if let Some(t) = &u.index.tier { dt { (ctx.t("results.tier")) } dd { (t) } }
                @if let Some(n) = u.paper_responses { dt { (ctx.t("results.paper_responses")) } dd #paper-responses { (n) } }
                @if let Some(n) = u.field_responses { dt { (ctx.t("results.field_responses")) } dd #field-responses { (n) } }
                @if let Some(c) = &card.change {
                    dt { (ctx.t("results.change_pp")) } dd { (signed(ctx.lang, c.change_percent_points)) " · " (ctx.t("scores.rank_change")) " " (rank_move(c.rank_change)) }
                }
            }
            p { a #gains-link href={ "/results/" (round.id) "/units/" (u.unit) "/gains" } { (ctx.t("gains.link")) } }
            h2 { (ctx.t("results.groups")) }
            table {
                caption.visually-hidden { (ctx.t("results.groups")) }
                thead { tr {
                    th scope="col" { (ctx.t("results.group")) } th.num scope="col" { (ctx.t("results.responses")) }
                    th.num scope="col" { (ctx.t("results.points")) } th.num scope="col" { "%" }
                } }
                tbody {
                    @for g in &u.groups {
                        tr { td { (group_name(r, &g.group, lang)) } td.num { (g.responses) }
                             td.num { (num(ctx.lang, g.points)) " / " (points(ctx.lang, g.max_points)) } td.num { (num(ctx.lang, g.percent)) } }
                    }
                    @if let Some(s) = &u.sipas {
                        tr { td { (group_name(r, &s.group, lang)) } td.num { (s.responses) }
                             td.num { (num(ctx.lang, s.index_points)) " / " (points(ctx.lang, s.index_max_points)) } td.num { (num(ctx.lang, s.overall_percent)) } }
                    }
                }
            }
            @if let (true, Some(k)) = (crate::app::results::unit_hides_distributions(r, u), r.distributions_hidden_below) {
                p.hint #distributions-hidden { (crate::i18n::tf(lang, "results.distributions_hidden", &[("k", &k.to_string())])) }
            }
            h2 { (ctx.t("results.components")) }
            table {
                caption.visually-hidden { (ctx.t("results.components")) }
                thead { tr {
                    th scope="col" { (ctx.t("results.component")) } th.num scope="col" { "%" }
                    th.num scope="col" { (ctx.t("results.national_mean")) } th.num scope="col" { (ctx.t("results.national_rank")) }
                } }
                tbody { @for (code, pct, national, rank) in &card.components {
                    tr { td { (component_name(m, code, lang)) } td.num { (num(ctx.lang, *pct)) } td.num { (num(ctx.lang, *national)) } td.num { (position(*rank)) } }
                } }
            }
            (charts)
            h2 { (ctx.t("results.strong_weak")) }
            div.columns {
                (item_table(ctx.t("results.strongest"), &card.strongest))
                (item_table(ctx.t("results.weakest"), &card.weakest))
            }
        },
    )
}

/// The per-question answer distributions.
pub fn items_page(
    ctx: &PageContext,
    r: &RoundResults,
    distributions: &[ItemDistribution],
    charts: Markup,
) -> Markup {
    let lang = ctx.lang;
    let round = &r.round;
    page(
        ctx,
        ctx.t("results.items"),
        html! {
            p { a href={ "/results/" (round.id) } { "← " (name(lang, &round.name_vi, &round.name_en)) } }
            h1 { (ctx.t("results.items")) }
            (source_note(ctx, r.source))
            p { (ctx.t("results.items_note")) " (" (distributions.len()) ")" }
            @if let Some(k) = r.distributions_hidden_below {
                p.hint #distributions-hidden { (crate::i18n::tf(lang, "results.distributions_hidden", &[("k", &k.to_string())])) }
            }
            (charts)
        },
    )
}

/// A user's export jobs; refreshes itself while one of them is still being made.
pub fn export_jobs(ctx: &PageContext, jobs: &[ExportJobRow]) -> Markup {
    let mut ctx = ctx.clone();
    if jobs.iter().any(is_running) {
        ctx.refresh_seconds = Some(2);
    }
    let ctx = &ctx;
    titled_page(
        ctx,
        "results.my_exports",
        html! {
            @if jobs.is_empty() { p { (ctx.t("results.no_exports")) } } @else {
                table {
                    thead { tr { th scope="col" { (ctx.t("results.export")) } th scope="col" { (ctx.t("results.status")) } th scope="col" { (ctx.t("results.created")) } } }
                    tbody { @for j in jobs {
                        tr {
                            td { a href={ "/exports/" (j.id) } { (export_kind(ctx, &j.kind)) " · " (j.format) } }
                            td { (job_status(ctx, j)) }
                            td { (j.created_at.format("%Y-%m-%d %H:%M UTC")) }
                        }
                    } }
                }
            }
        },
    )
}

fn job_status(ctx: &PageContext, j: &ExportJobRow) -> Markup {
    html! {
        @match j.status {
            ExportJobStatus::Done => { a href={ "/exports/" (j.id) "/file" } { (ctx.t("results.download")) } " (" (j.progress) ")" }
            ExportJobStatus::Failed => { (ctx.t("results.failed")) ": " (j.error.as_deref().unwrap_or("")) }
            _ => { (ctx.t("results.running")) " " (j.progress) " / " (j.total) }
        }
    }
}

/// The name of an export kind in the page's language (its code if it is not a known kind).
fn export_kind<'a>(ctx: &'a PageContext, code: &'a str) -> &'a str {
    crate::app::export::jobs::ExportKind::parse(code).map_or(code, |kind| ctx.t(kind.label_key()))
}

/// Whether a job is still being made, so its page refreshes itself.
fn is_running(job: &ExportJobRow) -> bool {
    matches!(
        job.status,
        ExportJobStatus::Queued | ExportJobStatus::Running
    )
}

/// One export job; refreshes itself every two seconds until it is finished (a meta refresh,
/// since pages carry no script).
pub fn export_job(ctx: &PageContext, job: &ExportJobRow) -> Markup {
    let running = is_running(job);
    let percent = if job.total > 0 {
        job.progress.saturating_mul(100) / job.total
    } else {
        0
    };
    let mut ctx = ctx.clone();
    if running {
        ctx.refresh_seconds = Some(2);
    }
    page(
        &ctx,
        ctx.t("results.export"),
        html! {
            p { a href="/exports" { "← " (ctx.t("results.my_exports")) } }
            h1 { (ctx.t("results.export")) ": " (export_kind(&ctx, &job.kind)) " · " (job.format) }
            @if running {
                p { label for="progress" { (ctx.t("results.running")) } " "
                    progress #progress max="100" value=(percent) { (percent) " %" } " " (job.progress) " / " (job.total) }
            } @else {
                p { (job_status(&ctx, job)) }
            }
            (export_job_file(&ctx, job))
        },
    )
}

/// The group and CSV layout of a job's file, and the syntax files that read it as it is (a
/// decimal-comma file needs the decimal-comma syntax).
fn export_job_file(ctx: &PageContext, job: &ExportJobRow) -> Markup {
    let Some(file) = crate::app::export::jobs::job_file(job) else {
        return html! {};
    };
    html! {
        dl.export-file {
            @if let Some(group) = &file.group {
                dt { (ctx.t("results.group")) } dd { code { (group) } }
            }
            @if let Some(variant) = file.variant {
                dt { (ctx.t("results.variant")) } dd.variant { @if variant.includes_excluded() { (ctx.t("results.variant_with_exclusions")) } @else { (ctx.t("results.variant_as_scored")) } }
            }
            @if let Some(csv) = &file.csv {
                dt { (ctx.t("results.delimiter")) } dd { code { (char::from(csv.delimiter).escape_default()) } }
                dt { (ctx.t("results.decimal")) } dd { @match csv.decimal {
                    crate::app::export::Decimal::Point => { "1.5" },
                    crate::app::export::Decimal::Comma => { "1,5" },
                } }
            }
        }
        @if !file.syntax.is_empty() {
            p { (ctx.t("results.syntax_for_file")) ": "
                @for (i, (label, href)) in file.syntax.iter().enumerate() {
                    @if i > 0 { " · " }
                    a href=(href) { (label) }
                }
                @if let Some(codebook) = &file.codebook {
                    " · " a href=(codebook) { (ctx.t("results.codebook")) }
                }
            }
        }
    }
}

fn public_cell(ctx: &PageContext, e: Option<crate::domain::disclosure::Entry>) -> Markup {
    let c = e.map(crate::app::results::breakdown::PublicCell::from);
    html! {
        @match c {
            Some(c) if c.suppressed => { abbr.suppressed title=(ctx.t("results.suppressed")) { "•" } }
            Some(c) => { (num(ctx.lang, c.percent)) " " small { "(n=" (c.n.unwrap_or(0)) ")" } }
            None => { "—" }
        }
    }
}

/// A breakdown of a group's score by a categorical question, after disclosure control.
pub fn breakdown_page(
    ctx: &PageContext,
    r: &RoundResults,
    groups: &[String],
    questions: &[(String, crate::domain::instrument::Text)],
    chosen: (&str, &str),
    bd: Option<&crate::app::results::breakdown::Breakdown>,
) -> Markup {
    let lang = ctx.lang;
    let round = &r.round;
    let (group, by) = chosen;
    page(
        ctx,
        ctx.t("results.breakdown"),
        html! {
            p { a href={ "/results/" (round.id) } { "← " (name(lang, &round.name_vi, &round.name_en)) } }
            h1 { (ctx.t("results.breakdown")) }
            (source_note(ctx, r.source))
            form method="get" action={ "/results/" (round.id) "/breakdown" } {
                label { (ctx.t("results.group")) " "
                    select name="group" { @for g in groups { option value=(g) selected[g == group] { (group_name(r, g, lang)) } } } }
                " "
                label { (ctx.t("results.by")) " "
                    select name="by" { @for (code, label) in questions { option value=(code) selected[code == by] { (code) " — " (label.get(lang)) } } } }
                " " button type="submit" { (ctx.t("results.show")) }
            }
            @if let Some(bd) = bd {
                p.hint { (crate::i18n::tf(lang, "results.suppression_note", &[("k", &bd.min_n.to_string())])) }
                @if !bd.table.withheld_rows().is_empty() {
                    p.hint #withheld { (crate::i18n::tf(lang, "results.withheld_note", &[("k", &bd.min_n.to_string())])) }
                }
                p { a href={ "/results/" (round.id) "/download/breakdown-" (bd.group) "." "csv?by=" (crate::views::layout::urlencode(&bd.by)) } { "CSV" } }
                div.scroll { table {
                    caption { (bd.by_label.get(lang)) }
                    thead { tr {
                        th scope="col" { (ctx.t("round.unit")) }
                        @for (_, label) in &bd.categories { th.num scope="col" { (label.get(lang)) } }
                        th.num scope="col" { (ctx.t("results.total")) }
                    } }
                    tbody {
                        @for (i, (_, vi, en)) in bd.units.iter().enumerate() {
                            tr {
                                th scope="row" { (name(lang, vi, en)) }
                                @for c in 0..bd.categories.len() { td.num { (public_cell(ctx, bd.table.cell(i, c))) } }
                                td.num { (public_cell(ctx, bd.table.row_total(i))) }
                            }
                        }
                        tr.total {
                            th scope="row" { (ctx.t("results.total")) }
                            @for c in 0..bd.categories.len() { td.num { (public_cell(ctx, bd.table.column_total(c))) } }
                            td.num { (public_cell(ctx, bd.table.grand_total())) }
                        }
                    }
                } }
            }
        },
    )
}
