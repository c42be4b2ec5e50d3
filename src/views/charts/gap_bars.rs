//! Horizontal bars of a unit's gaps to the best unit, one per row at stake, coloured by where
//! the points come from (survey or appraised).

use maud::{Markup, html};

use super::{
    BLUE, ChartText, FS, INK, Key, N, RowLayout, RowSpec, Rows, VERMILLION, W, WHITE, block,
    data_table, fit_domain, no_data, num_td, row_figure,
};

/// One bar of [`gap_bar_chart`].
#[derive(Clone, Copy, Debug)]
pub struct GapBar<'a> {
    /// Row name (e.g. a component), wrapped in the SVG and in full in the table.
    pub name: &'a str,
    /// Whether the points are appraised (else survey points).
    pub appraised: bool,
    /// The gap in points; non-finite values are skipped.
    pub gap: f64,
}

/// Column headers and legend labels of [`gap_bar_chart`].
#[derive(Clone, Copy, Debug)]
pub struct GapBarLabels<'a> {
    /// Header of the row-name column.
    pub row: &'a str,
    /// Header of the part column.
    pub part: &'a str,
    /// Header of the gap column.
    pub gap: &'a str,
    /// Legend and table text of survey points.
    pub survey: &'a str,
    /// Legend and table text of appraised points.
    pub appraised: &'a str,
}

const LAYOUT: RowLayout = RowLayout {
    row_h: 16.0,
    label_w: 180.0,
    right_w: 56.0,
    extra_top: 0.0,
};

/// Bar chart of gaps in the given order; the axis starts at 0 and fits the largest gap.
pub fn gap_bar_chart(
    text: &ChartText<'_>,
    labels: &GapBarLabels<'_>,
    rows: &[GapBar<'_>],
) -> Markup {
    let rows: Vec<&GapBar<'_>> = rows.iter().filter(|r| r.gap.is_finite()).collect();
    if rows.is_empty() {
        return no_data(text);
    }
    let fmt = text.fmt;
    let keys = [
        (Key::Block(BLUE), labels.survey),
        (Key::Block(VERMILLION), labels.appraised),
    ];
    let largest = rows.iter().map(|r| r.gap).fold(0.0, f64::max);
    // A unit that is the best everywhere still gets a readable axis of one point.
    let domain = fit_domain((0.0, largest.max(1.0)), rows.iter().map(|r| r.gap));
    let names: Vec<&str> = rows.iter().map(|r| r.name).collect();
    let spec = RowSpec::new(&keys, &names, LAYOUT, domain, fmt);
    let part = |r: &GapBar<'_>| {
        if r.appraised {
            labels.appraised
        } else {
            labels.survey
        }
    };
    let draw = |lay: &Rows| {
        let x0 = lay.x.at(0.0);
        html! {
            @for (i, r) in rows.iter().enumerate() {
                @let xv = lay.x.at(r.gap);
                g.bar {
                    title { (r.name) " (" (part(r)) "): " (fmt(r.gap)) }
                    (lay.name(i, r.name))
                    (block(x0.min(xv), lay.mid(i) - 5.0, (xv - x0).abs(), 10.0,
                        if r.appraised { VERMILLION } else { BLUE }))
                }
            }
            g.values {
                @for (i, r) in rows.iter().enumerate() {
                    text x=(N((lay.x.at(r.gap) + 4.0).min(W - 4.0))) y=(N(lay.mid(i))) dy="0.35em"
                        font-size=(N(FS)) fill=(INK) stroke=(WHITE) stroke-width="3"
                        stroke-linejoin="round" paint-order="stroke" { (fmt(r.gap)) }
                }
            }
        }
    };
    let cols = [
        (labels.row, false),
        (labels.part, false),
        (labels.gap, true),
    ];
    let body = html! {
        tbody {
            @for r in &rows {
                tr { td { (r.name) } td { (part(r)) } (num_td(r.gap, fmt)) }
            }
        }
    };
    row_figure(text, &spec, draw, data_table(text.title, &cols, body))
}
