//! Aggregate downloads of a round's results: scores, rankings, components, year-over-year and
//! item results, as typed tables written to CSV, formatted XLSX sheets or JSON. The tables
//! are built from [`RoundResults`], so they hold exactly what the viewer may see.

use rust_xlsxwriter::{Format, Workbook};
use serde_json::{Map, Value};

use super::{CsvOptions, safe_cell};
use crate::app::results::RoundResults;
use crate::domain::scoring::percent_of;

/// One cell of an aggregate table.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// Text.
    Text(String),
    /// A whole number.
    Int(i64),
    /// A decimal number.
    Num(f64),
    /// No value.
    Empty,
}

impl Cell {
    fn opt(x: Option<f64>) -> Self {
        x.filter(|v| v.is_finite()).map_or(Cell::Empty, Cell::Num)
    }

    fn count(n: u64) -> Self {
        Cell::Int(i64::try_from(n).unwrap_or(i64::MAX))
    }

    fn rank(p: Option<crate::domain::scoring::Position>) -> Self {
        p.map_or(Cell::Empty, |p| Cell::Int(i64::from(p.rank)))
    }
}

/// A named table: one CSV file, one XLSX sheet, one JSON array.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    /// Sheet and file name.
    pub name: &'static str,
    /// Column names.
    pub columns: Vec<String>,
    /// Rows, each as long as `columns`.
    pub rows: Vec<Vec<Cell>>,
}

/// Every aggregate table of the results.
pub fn tables(r: &RoundResults) -> Vec<Table> {
    vec![
        scores_table(r),
        rankings_table(r),
        components_table(r),
        yoy_table(r),
        items_table(r),
    ]
}

fn text(s: &str) -> Cell {
    Cell::Text(s.to_owned())
}

fn columns(names: &[&str]) -> Vec<String> {
    names.iter().map(|c| (*c).to_owned()).collect()
}

fn scores_table(r: &RoundResults) -> Table {
    let group_codes: Vec<String> = r
        .scores
        .units
        .first()
        .map(|u| u.groups.iter().map(|g| g.group.clone()).collect())
        .unwrap_or_default();
    let mut cols = columns(&[
        "unit",
        "name_vi",
        "name_en",
        "region",
        "survey_points",
        "survey_max_points",
        "survey_percent",
        "index_points",
        "index_max_points",
        "index_percent",
        "tier",
        "national_rank",
        "regional_rank",
        "paper_responses",
        "complete",
        "insufficient_data",
        "standing",
    ]);
    for g in &group_codes {
        cols.push(format!("{g}_responses"));
        cols.push(format!("{g}_points"));
        cols.push(format!("{g}_percent"));
        cols.push(format!("{g}_coverage"));
    }
    cols.extend(columns(&[
        "sipas_responses",
        "sipas_percent",
        "sipas_points",
        // Appended last, so files read by column position keep their layout.
        "field_responses",
    ]));
    let rows = r
        .scores
        .by_rank()
        .into_iter()
        .map(|(u, rank)| {
            let mut row = vec![
                text(&u.unit),
                text(&u.name_vi),
                text(&u.name_en),
                text(&u.region),
                Cell::opt(u.index.survey_points),
                Cell::Num(u.index.survey_max_points),
                Cell::opt(
                    u.index
                        .survey_points
                        .and_then(|p| percent_of(p, u.index.survey_max_points)),
                ),
                Cell::opt(u.index_total()),
                Cell::Num(r.methodology.total_points),
                Cell::opt(u.index_total().and(u.index.percent)),
                u.index.tier.as_deref().map_or(Cell::Empty, text),
                Cell::rank(rank.and_then(|x| x.national)),
                Cell::rank(rank.and_then(|x| x.regional)),
                u.paper_responses.map_or(Cell::Empty, Cell::count),
                Cell::Int(i64::from(u.index.is_complete())),
                Cell::Int(i64::from(u.index.insufficient_data)),
                text(r.scores.standing(u).code()),
            ];
            for code in &group_codes {
                match u.groups.iter().find(|g| &g.group == code) {
                    Some(g) => row.extend([
                        Cell::count(g.responses),
                        Cell::opt(g.points),
                        Cell::opt(g.percent),
                        Cell::opt(g.coverage),
                    ]),
                    None => row.extend([Cell::Empty, Cell::Empty, Cell::Empty, Cell::Empty]),
                }
            }
            match &u.sipas {
                Some(s) => row.extend([
                    Cell::count(s.responses),
                    Cell::opt(s.overall_percent),
                    Cell::opt(s.index_points),
                ]),
                None => row.extend([Cell::Empty, Cell::Empty, Cell::Empty]),
            }
            row.push(u.field_responses.map_or(Cell::Empty, Cell::count));
            row
        })
        .collect();
    Table {
        name: "scores",
        columns: cols,
        rows,
    }
}

fn rankings_table(r: &RoundResults) -> Table {
    let mut rows = Vec::new();
    let mut push = |ranking: &str, ranked: &[crate::domain::scoring::Ranked]| {
        for x in ranked {
            rows.push(vec![
                text(ranking),
                text(&x.unit),
                text(&x.region),
                Cell::Num(x.value),
                Cell::rank(x.national),
                Cell::rank(x.regional),
                x.tier.as_deref().map_or(Cell::Empty, text),
            ]);
        }
    };
    push("total", &r.scores.rankings.total);
    for c in &r.scores.rankings.components {
        push(&c.component, &c.ranked);
    }
    Table {
        name: "rankings",
        columns: columns(&[
            "ranking",
            "unit",
            "region",
            "percent",
            "national_rank",
            "regional_rank",
            "tier",
        ]),
        rows,
    }
}

fn components_table(r: &RoundResults) -> Table {
    let rows = r
        .scores
        .units
        .iter()
        .flat_map(|u| {
            u.index.components.iter().map(move |c| {
                vec![
                    text(&u.unit),
                    text(&c.code),
                    Cell::opt(c.survey_points),
                    Cell::Num(c.survey_max_points),
                    Cell::opt(c.appraised_points),
                    Cell::opt(c.points),
                    Cell::Num(c.max_points),
                    Cell::opt(c.percent),
                ]
            })
        })
        .collect();
    Table {
        name: "components",
        columns: columns(&[
            "unit",
            "component",
            "survey_points",
            "survey_max_points",
            "appraised_points",
            "points",
            "max_points",
            "percent",
        ]),
        rows,
    }
}

fn yoy_table(r: &RoundResults) -> Table {
    let rows = r
        .yoy
        .iter()
        .flatten()
        .map(|c| {
            vec![
                text(&c.unit),
                text(&c.predecessors.join(" ")),
                Cell::opt(c.earlier.as_ref().map(|e| e.points)),
                Cell::opt(c.earlier.as_ref().map(|e| e.percent)),
                Cell::Num(c.current.points),
                Cell::Num(c.current.percent),
                Cell::opt(c.change_points),
                Cell::opt(c.change_percent_points),
                c.rank_change.map_or(Cell::Empty, Cell::Int),
            ]
        })
        .collect();
    Table {
        name: "year_over_year",
        columns: columns(&[
            "unit",
            "earlier_units",
            "earlier_points",
            "earlier_percent",
            "points",
            "percent",
            "change_points",
            "change_percent_points",
            "rank_change",
        ]),
        rows,
    }
}

fn items_table(r: &RoundResults) -> Table {
    let mut rows = Vec::new();
    for u in &r.scores.units {
        for g in &u.groups {
            for i in &g.items {
                rows.push(vec![
                    text(&u.unit),
                    text(&g.group),
                    text(&i.item),
                    text(&i.criterion),
                    Cell::count(i.valid_n),
                    Cell::opt(i.mean_coefficient),
                    Cell::opt(i.points),
                    Cell::Num(i.max_points),
                    Cell::opt(i.percent),
                ]);
            }
        }
        if let Some(s) = &u.sipas {
            for i in &s.items {
                rows.push(vec![
                    text(&u.unit),
                    text(&s.group),
                    text(&i.item),
                    text(&i.element),
                    Cell::count(i.valid_n),
                    Cell::opt(i.mean),
                    Cell::Empty,
                    Cell::Empty,
                    Cell::opt(i.percent),
                ]);
            }
        }
    }
    Table {
        name: "items",
        columns: columns(&[
            "unit",
            "group",
            "item",
            "criterion",
            "valid_n",
            "mean",
            "points",
            "max_points",
            "percent",
        ]),
        rows,
    }
}

/// One table as CSV: text neutralised against formula injection, numbers with the chosen
/// decimal mark.
pub fn to_csv(table: &Table, opts: &CsvOptions) -> anyhow::Result<Vec<u8>> {
    let mut out = Vec::new();
    {
        let mut w = super::microdata::csv_writer(&mut out, opts)?;
        w.write_record(&table.columns)?;
        for row in &table.rows {
            let cells: Vec<String> = row
                .iter()
                .map(|c| match c {
                    Cell::Text(s) => safe_cell(s).into_owned(),
                    Cell::Int(n) => n.to_string(),
                    Cell::Num(x) => opts.float(*x),
                    Cell::Empty => String::new(),
                })
                .collect();
            w.write_record(&cells)?;
        }
        w.flush()?;
    }
    Ok(out)
}

/// Every table as one sheet of a workbook: bold frozen header, filters, numbers as numbers
/// shown with two decimals.
pub fn to_xlsx(tables: &[Table]) -> anyhow::Result<Vec<u8>> {
    let mut workbook = Workbook::new();
    let header = Format::new().set_bold().set_background_color("#DDE4EE");
    let decimal = Format::new().set_num_format("0.00");
    for table in tables {
        let sheet = workbook.add_worksheet();
        sheet.set_name(table.name)?;
        for (c, name) in table.columns.iter().enumerate() {
            let col = u16::try_from(c)?;
            sheet.write_string_with_format(0, col, name, &header)?;
            sheet.set_column_width(col, 14)?;
        }
        for (r, row) in table.rows.iter().enumerate() {
            let at = u32::try_from(r + 1)?;
            for (c, cell) in row.iter().enumerate() {
                let col = u16::try_from(c)?;
                match cell {
                    Cell::Text(s) => {
                        sheet.write_string(at, col, s)?;
                    }
                    #[expect(clippy::cast_precision_loss, reason = "counts and ranks are small")]
                    Cell::Int(n) => {
                        sheet.write_number(at, col, *n as f64)?;
                    }
                    Cell::Num(x) => {
                        sheet.write_number_with_format(at, col, *x, &decimal)?;
                    }
                    Cell::Empty => {}
                }
            }
        }
        sheet.set_freeze_panes(1, 0)?;
        if let (Some(last_col), Ok(last_row)) = (
            table.columns.len().checked_sub(1),
            u32::try_from(table.rows.len()),
        ) {
            sheet.autofilter(0, 0, last_row, u16::try_from(last_col)?)?;
        }
    }
    Ok(workbook.save_to_buffer()?)
}

/// Every table as a JSON object `{ "scores": [ {column: value, …}, … ], … }`.
pub fn to_json(tables: &[Table]) -> Value {
    let mut out = Map::new();
    for table in tables {
        let rows = table
            .rows
            .iter()
            .map(|row| {
                let obj: Map<String, Value> = table
                    .columns
                    .iter()
                    .zip(row)
                    .map(|(k, c)| {
                        let v = match c {
                            Cell::Text(s) => Value::from(s.as_str()),
                            Cell::Int(n) => Value::from(*n),
                            Cell::Num(x) => Value::from(crate::app::export::file_number(*x)),
                            Cell::Empty => Value::Null,
                        };
                        (k.clone(), v)
                    })
                    .collect();
                Value::Object(obj)
            })
            .collect();
        out.insert(table.name.to_owned(), Value::Array(rows));
    }
    Value::Object(out)
}
