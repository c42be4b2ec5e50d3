//! A unit's improvement plan, rendered twice from the one domain value
//! ([`ImprovementPlan`](crate::domain::gains::ImprovementPlan), inside [`UnitPlan`]): as a
//! printable page and as an XLSX workbook. Both are written from the same two tables
//! ([`plan_tables`]): the criteria, one row each, and a summary of the unit, so the page and
//! the file list the same rows with the same column names in the reader's language.

use maud::{Markup, html};

use super::format::{name, points, position, round_title};
use super::layout::{PageContext, page};
use super::results::{component_name, group_name, source_note};
use crate::app::export::aggregates::{self, Cell, Table};
use crate::app::results::{RoundResults, UnitPlan};
use crate::i18n::{Lang, t};

/// The criteria table's column of criterion codes (the page marks each row with it).
const CODE_COLUMN: usize = 1;

/// The criteria table's columns: catalogue key and whether it holds numbers. The previous
/// round's columns are there only when the unit has a previous round.
fn columns(with_previous: bool) -> Vec<(&'static str, bool)> {
    let mut out = vec![
        ("plan.col_no", true),
        ("plan.col_code", false),
        ("plan.col_criterion", false),
        ("results.group", false),
        ("results.component", false),
        ("results.points", true),
        ("plan.col_max", true),
        ("gains.lost", true),
        ("gains.gap_national", true),
    ];
    if with_previous {
        out.extend([("plan.col_previous", true), ("gains.change_previous", true)]);
    }
    out.extend([
        ("plan.col_pp", true),
        ("plan.col_total_after", true),
        ("plan.col_gain", true),
        ("plan.col_tier_after", false),
        ("plan.col_rank_after", false),
        ("plan.col_responsible", false),
        ("plan.col_deadline", false),
    ]);
    out
}

fn text(s: &str) -> Cell {
    Cell::Text(s.to_owned())
}

fn number(x: Option<f64>) -> Cell {
    x.filter(|v| v.is_finite()).map_or(Cell::Empty, Cell::Num)
}

/// The plan as two tables in `lang`: the criteria (sheet and page table) and the summary of
/// the unit (a second sheet, and the figures above the page's table).
pub fn plan_tables(r: &RoundResults, p: &UnitPlan, lang: Lang) -> [Table; 2] {
    let m = &r.methodology;
    let with_previous = p.gains.previous_round.is_some();
    let cols = columns(with_previous);
    let rows = p
        .plan
        .rows
        .iter()
        .enumerate()
        .map(|(i, row)| {
            let s = &row.stake;
            let code = s.key.code.as_str();
            let criterion = m
                .criterion(code)
                .map_or(code, |c| name(lang, &c.name.vi, &c.name.en));
            let group = s.key.group.as_deref().unwrap_or("");
            let best = row.to_best.as_ref();
            let mut cells = vec![
                Cell::Int(i64::try_from(i + 1).unwrap_or(i64::MAX)),
                text(code),
                text(criterion),
                text(group_name(r, group, lang)),
                text(&format!(
                    "{} — {}",
                    s.component,
                    component_name(m, &s.component, lang)
                )),
                number(s.points),
                Cell::Num(s.max_points),
                number(s.lost),
                number(s.gap_to_national_best),
            ];
            if with_previous {
                cells.extend([number(s.previous), number(s.change_since_previous)]);
            }
            cells.extend([
                best.map_or(Cell::Empty, |b| Cell::Int(i64::from(b.percentage_points))),
                number(best.and_then(|b| b.after.total_points)),
                number(best.and_then(|b| b.total_gain)),
                best.and_then(|b| b.after.tier.as_deref())
                    .map_or(Cell::Empty, text),
                best.and_then(|b| b.after.national)
                    .map_or(Cell::Empty, |n| text(&position(Some(n)))),
                Cell::Empty,
                Cell::Empty,
            ]);
            cells
        })
        .collect();
    let criteria = Table {
        name: t(lang, "plan.sheet_criteria"),
        columns: cols.iter().map(|(k, _)| t(lang, k).to_owned()).collect(),
        rows,
    };
    let now = &p.plan.now;
    let index_max = r
        .scores
        .units
        .iter()
        .find(|u| u.unit == p.gains.unit)
        .map(|u| u.index.max_points);
    let summary_rows: Vec<(&str, Cell)> = vec![
        (
            "plan.round",
            text(&round_title(
                lang,
                &r.round.name_vi,
                &r.round.name_en,
                r.round.year,
            )),
        ),
        (
            "plan.unit",
            text(&format!(
                "{} — {}",
                p.gains.unit,
                name(lang, &p.gains.name_vi, &p.gains.name_en)
            )),
        ),
        ("plan.total_now", number(now.total_points)),
        ("plan.col_max", number(index_max)),
        (
            "plan.tier_now",
            now.tier.as_deref().map_or(Cell::Empty, text),
        ),
        (
            "plan.rank_now",
            now.national
                .map_or(Cell::Empty, |n| text(&position(Some(n)))),
        ),
        (
            "whatif.regional",
            now.regional
                .map_or(Cell::Empty, |n| text(&position(Some(n)))),
        ),
        (
            "plan.compared_units",
            Cell::Int(i64::try_from(p.gains.compared_units).unwrap_or(i64::MAX)),
        ),
        (
            "plan.previous_round",
            p.gains.previous_round.map_or(Cell::Empty, Cell::Int),
        ),
    ];
    let summary = Table {
        name: t(lang, "plan.sheet_summary"),
        columns: vec![
            t(lang, "plan.col_item").to_owned(),
            t(lang, "plan.col_value").to_owned(),
        ],
        rows: summary_rows
            .into_iter()
            .map(|(k, v)| vec![text(t(lang, k)), v])
            .collect(),
    };
    [criteria, summary]
}

/// The plan as an XLSX workbook in `lang`: the criteria sheet, then the summary sheet, written
/// as every other download of results is ([`aggregates::to_xlsx`]).
///
/// # Errors
///
/// When the workbook cannot be written.
pub fn plan_xlsx(r: &RoundResults, p: &UnitPlan, lang: Lang) -> anyhow::Result<Vec<u8>> {
    aggregates::to_xlsx(&plan_tables(r, p, lang))
}

/// A cell as the page shows it: points with the language's decimal mark, a dash for nothing.
fn shown(lang: Lang, c: &Cell) -> String {
    match c {
        Cell::Text(s) => s.clone(),
        Cell::Int(n) => n.to_string(),
        Cell::Num(x) => points(lang, *x),
        Cell::Empty => String::new(),
    }
}

/// The printable improvement plan of a unit: no navigation in print, the table's header
/// repeated on every printed page and rows kept whole.
pub fn plan_page(ctx: &PageContext, r: &RoundResults, p: &UnitPlan) -> Markup {
    let lang = ctx.lang;
    let unit_name = name(lang, &p.gains.name_vi, &p.gains.name_en);
    let title = crate::i18n::tf(lang, "plan.title", &[("unit", unit_name)]);
    let [criteria, summary] = plan_tables(r, p, lang);
    let numeric: Vec<bool> = columns(p.gains.previous_round.is_some())
        .into_iter()
        .map(|(_, n)| n)
        .collect();
    let base = format!("/results/{}/units/{}", r.round.id, p.gains.unit);
    page(
        ctx,
        &title,
        html! {
            div.plan {
                p.noprint { a href={ (base) "/gains" } { "← " (crate::i18n::tf(lang, "gains.title", &[("unit", unit_name)])) } }
                h1 { (title) }
                (source_note(ctx, r.source))
                dl.figures #plan-summary {
                    @for row in &summary.rows {
                        dt { (shown(lang, &row[0])) }
                        dd { @match &row[1] { Cell::Empty => "—", c => (shown(lang, c)) } }
                    }
                }
                p { (ctx.t("plan.intro")) }
                p.noprint { a #plan-xlsx href={ (base) "/plan.xlsx" } download { (ctx.t("plan.download_xlsx")) } }
                @if criteria.rows.is_empty() {
                    p #plan-empty { (ctx.t("plan.empty")) }
                } @else {
                    div.plan-table {
                        table #plan-criteria {
                            caption { (ctx.t("plan.caption")) }
                            thead { tr {
                                @for (c, n) in criteria.columns.iter().zip(&numeric) {
                                    th scope="col" class=[n.then_some("num")] { (c) }
                                }
                            } }
                            tbody { @for row in &criteria.rows {
                                tr data-code=(shown(lang, &row[CODE_COLUMN])) {
                                    @for (c, n) in row.iter().zip(&numeric) {
                                        @let blank = matches!(c, Cell::Empty);
                                        td class=[n.then_some("num")] { @if blank && *n { "—" } @else { (shown(lang, c)) } }
                                    }
                                }
                            } }
                        }
                    }
                }
                p.hint { (ctx.t("plan.note")) }
            }
        },
    )
}
