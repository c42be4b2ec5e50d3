//! 100 % stacked bars of the answers to each question, coloured along a scheme.

use maud::{Markup, html};

use super::{
    ChartText, INK, Key, N, RowLayout, RowSpec, Rows, WHITE, block, data_table, no_data,
    row_figure, text_at, text_width,
};

/// One question in [`stacked_distribution`].
#[derive(Clone, Debug)]
pub struct StackedRow<'a> {
    /// Question code, drawn before the label and written to `data-question`.
    pub code: &'a str,
    /// Question text; wrapped in the SVG (shortened only past three lines), in full in the
    /// tooltip and table.
    pub label: &'a str,
    /// Answer options in order, with their counts.
    pub answers: Vec<(&'a str, u64)>,
}

/// Column headers and legend for [`stacked_distribution`].
#[derive(Clone, Copy, Debug)]
pub struct StackedLabels<'a> {
    /// Header of the question column.
    pub question: &'a str,
    /// Header of the answer column.
    pub answer: &'a str,
    /// Header of the count column.
    pub count: &'a str,
    /// Header of the percent column.
    pub percent: &'a str,
    /// Label of each question's total row.
    pub total: &'a str,
    /// Legend entries; `None` uses the first row's answer labels.
    pub legend: Option<&'a [&'a str]>,
}

/// Colour scheme for answer options, assigned by option position.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scheme {
    /// Light to dark blue, for ordered scales without a midpoint.
    Sequential,
    /// Orange through light grey to purple (colour-blind safe), for agree/disagree scales.
    Diverging,
}

const SEQUENTIAL: [[u8; 3]; 4] = [
    [0xc6, 0xdb, 0xef],
    [0x6b, 0xae, 0xd6],
    [0x21, 0x71, 0xb5],
    [0x08, 0x30, 0x6b],
];
const DIVERGING: [[u8; 3]; 7] = [
    [0xb3, 0x58, 0x06],
    [0xf1, 0xa3, 0x40],
    [0xfe, 0xe0, 0xb6],
    [0xf7, 0xf7, 0xf7],
    [0xd8, 0xda, 0xeb],
    [0x99, 0x8e, 0xc3],
    [0x54, 0x27, 0x88],
];

pub(super) const STACK_LAYOUT: RowLayout = RowLayout {
    row_h: 24.0,
    label_w: 200.0,
    right_w: 28.0,
    extra_top: 0.0,
};

/// An sRGB colour.
#[derive(Clone, Copy, Debug)]
pub(super) struct Rgb([u8; 3]);

impl Rgb {
    pub(super) fn hex(self) -> String {
        let [r, g, b] = self.0;
        format!("#{r:02x}{g:02x}{b:02x}")
    }

    /// Text colour readable on this colour.
    pub(super) fn ink(self) -> &'static str {
        let [r, g, b] = self.0.map(f64::from);
        if (0.299 * r + 0.587 * g + 0.114 * b) / 255.0 > 0.55 {
            INK
        } else {
            WHITE
        }
    }
}

/// Colour of option `i` of `k`, spread evenly along the scheme.
pub(super) fn palette(scheme: Scheme, i: usize, k: usize) -> Rgb {
    let anchors: &[[u8; 3]] = match scheme {
        Scheme::Sequential => &SEQUENTIAL,
        Scheme::Diverging => &DIVERGING,
    };
    let t = if k <= 1 {
        0.5
    } else {
        (i as f64 / (k - 1) as f64).clamp(0.0, 1.0)
    };
    let pos = t * (anchors.len() - 1) as f64;
    let at = |j: usize| anchors.get(j).copied().unwrap_or([0x99; 3]).map(f64::from);
    let lo = (pos.floor() as usize).min(anchors.len().saturating_sub(2));
    let (a, b, f) = (at(lo), at(lo + 1), pos - lo as f64);
    Rgb(std::array::from_fn(|c| {
        (a[c] + (b[c] - a[c]) * f).round() as u8
    }))
}

/// Each answer's `(start, end, share)` in percent of the row total; `None` when it is zero.
fn shares(answers: &[(&str, u64)]) -> Option<Vec<(f64, f64, f64)>> {
    let total: f64 = answers.iter().map(|a| a.1 as f64).sum();
    if !(total > 0.0 && total.is_finite()) {
        return None;
    }
    let mut cum = 0.0;
    let spans = answers.iter().map(|a| {
        let start = cum;
        cum += a.1 as f64;
        (
            start / total * 100.0,
            cum / total * 100.0,
            a.1 as f64 / total * 100.0,
        )
    });
    Some(spans.collect())
}

/// One 100 % stacked horizontal bar per question, segments coloured by answer position along
/// `scheme`; a row whose counts total zero shows the "no data" text.
///
/// The legend uses `labels.legend`, or else the first row's answer labels. The table lists
/// every count and percentage, with a total row per question.
pub fn stacked_distribution(
    text: &ChartText<'_>,
    labels: &StackedLabels<'_>,
    rows: &[StackedRow<'_>],
    scheme: Scheme,
) -> Markup {
    if rows.is_empty() {
        return no_data(text);
    }
    let fmt = text.fmt;
    let first: Vec<&str> = rows
        .first()
        .map(|r| r.answers.iter().map(|a| a.0).collect())
        .unwrap_or_default();
    let legend_labels = labels.legend.unwrap_or(&first);
    let k = rows
        .iter()
        .map(|r| r.answers.len())
        .chain([legend_labels.len()])
        .max()
        .unwrap_or(1);
    let colours: Vec<Rgb> = (0..k).map(|i| palette(scheme, i, k)).collect();
    let hexes: Vec<String> = colours.iter().map(|c| c.hex()).collect();
    let keys: Vec<(Key<'_>, &str)> = hexes
        .iter()
        .zip(legend_labels)
        .map(|(c, l)| (Key::Block(c), *l))
        .collect();
    let pct = |v: f64| format!("{}%", fmt(v));
    let names: Vec<String> = rows.iter().map(question_name).collect();
    let spec = RowSpec::new(&keys, &names, STACK_LAYOUT, (0.0, 100.0), &pct);
    let draw = |lay: &Rows| {
        html! {
            @for (i, row) in rows.iter().enumerate() {
                g.stack data-question=(row.code) {
                    @let name = names.get(i).map_or("", String::as_str);
                    title { (name) }
                    (lay.name(i, name))
                    (stack_segments(lay, i, row, &colours, text.no_data, &pct))
                }
            }
        }
    };
    let cols = [
        (labels.question, false),
        (labels.answer, false),
        (labels.count, true),
        (labels.percent, true),
    ];
    let body =
        html! { @for row in rows { tbody { (stack_rows(row, labels, text.no_data, &pct)) } } };
    row_figure(text, &spec, draw, data_table(text.title, &cols, body))
}

fn question_name(row: &StackedRow<'_>) -> String {
    format!("{} {}", row.code, row.label).trim().to_owned()
}

fn stack_segments(
    lay: &Rows,
    i: usize,
    row: &StackedRow<'_>,
    colours: &[Rgb],
    no_data: &str,
    pct: &dyn Fn(f64) -> String,
) -> Markup {
    let y = lay.mid(i);
    let Some(spans) = shares(&row.answers) else {
        return html! { g.no-data { (text_at(lay.x.r0 + 4.0, y, "start", no_data)) } };
    };
    html! {
        @for (j, ((answer, count), (start, end, share))) in row.answers.iter().zip(spans).enumerate() {
            @if *count > 0 {
                @let (x0, x1) = (lay.x.at(start), lay.x.at(end));
                @let colour = colours.get(j).copied().unwrap_or(Rgb([0x99; 3]));
                @let label = pct(share);
                g.seg {
                    title { (answer) ": " (count) " (" (label) ")" }
                    (block(x0, y - 8.0, x1 - x0, 16.0, &colour.hex()))
                    @if x1 - x0 >= text_width(&label, 9.0) + 4.0 {
                        text x=(N((x0 + x1) / 2.0)) y=(N(y)) dy="0.35em" font-size="9"
                            text-anchor="middle" fill=(colour.ink()) { (label) }
                    }
                }
            }
        }
    }
}

fn stack_rows(
    row: &StackedRow<'_>,
    labels: &StackedLabels<'_>,
    no_data: &str,
    pct: &dyn Fn(f64) -> String,
) -> Markup {
    let name = question_name(row);
    let Some(spans) = shares(&row.answers) else {
        return html! { tr { th scope="rowgroup" { (name) } td colspan="3" { (no_data) } } };
    };
    let total = row.answers.iter().fold(0u64, |a, x| a.saturating_add(x.1));
    html! {
        @for (j, ((answer, count), span)) in row.answers.iter().zip(spans).enumerate() {
            tr {
                @if j == 0 { th scope="rowgroup" rowspan=(row.answers.len() + 1) { (name) } }
                td { (answer) } td.num { (count) } td.num.pct { (pct(span.2)) }
            }
        }
        tr.summary { td { (labels.total) } td.num { (total) } td.num { (pct(100.0)) } }
    }
}
