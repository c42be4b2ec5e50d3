//! Server-rendered, accessible, printable inline-SVG charts for PAR Index analyst dashboards.
//!
//! Every chart is a `<figure class="chart">` with a `<figcaption>`, an `<svg role="img">` whose
//! first children are `<title>` and `<desc>`, and straight after the SVG a `<details>` data table
//! with the same numbers. The markup is CSP-safe: no `style` attributes, no `<style>`, no
//! scripts and no event handlers; only SVG presentation attributes and `class`. All text goes
//! through maud, so unit names and labels are always escaped. Every UI string comes from the
//! caller (vi/en), and every number is formatted by the caller's formatter.
//!
//! One file per chart; this module holds what they share: the [`ChartText`], the value
//! scales and axes, and the SVG primitives (text, blocks, markers, legend, figure and table).

use std::borrow::Cow;
use std::fmt;

use maud::{Markup, Render, html};

mod gap_bars;
mod pages;
mod profile;
mod regions;
mod slopes;
mod stacked;
#[cfg(test)]
mod tests;
mod tier_bars;
mod waterfall;

pub use gap_bars::{GapBar, GapBarLabels, gap_bar_chart};
pub use pages::{dashboard, gains, items, unit};
pub use profile::{ComponentScore, ProfileLabels, component_profile};
pub use regions::{RegionLabels, RegionPoint, regional_distribution};
pub use slopes::{SlopeLabels, SlopeRow, slope_chart};
pub use stacked::{Scheme, StackedLabels, StackedRow, stacked_distribution};
pub use tier_bars::{ReferenceLine, TierBar, TierBarLabels, tier_bar_chart};
pub use waterfall::{WaterfallLabels, WaterfallStep, waterfall_chart};

/// Text and number formatting shared by every chart; all strings come from the caller's i18n.
#[derive(Clone, Copy)]
pub struct ChartText<'a> {
    /// Id prefix for the figure, its `<title>` (`ID-title`) and `<desc>` (`ID-desc`);
    /// sanitised to `[a-z0-9-]`.
    pub id: &'a str,
    /// Short accessible name: the SVG `<title>` and the data table's `<caption>`.
    pub title: &'a str,
    /// Longer description of what the chart shows: the SVG `<desc>`.
    pub desc: &'a str,
    /// Visible caption: the `<figcaption>`.
    pub caption: &'a str,
    /// Text of the `<summary>` that discloses the data table.
    pub table_summary: &'a str,
    /// Message shown when there is nothing to plot (also used for empty rows and regions).
    pub no_data: &'a str,
    /// Formats every number shown: axis ticks, value labels and table cells.
    pub fmt: &'a dyn Fn(f64) -> String,
}

const W: f64 = 640.0;
const PAD: f64 = 8.0;
const FS: f64 = 10.0;
const CHAR_EM: f64 = 0.56;
const AXIS_H: f64 = 26.0;
const TICKS: usize = 5;
const LINE_H: f64 = 16.0;
/// Most lines a row label wraps onto; only a label longer than this is shortened.
const LABEL_LINES: usize = 3;
/// Widest the label column grows to fit its longest label, so the plot keeps most of the width.
const LABEL_MAX_W: f64 = 256.0;
/// Baseline distance between the lines of a wrapped row label.
const LABEL_LINE_H: f64 = 11.0;
/// Room between the row label and the plot, and at the left edge.
const LABEL_GAP: f64 = PAD + 6.0;
const INK: &str = "#1b1b1b";
const MUTED: &str = "#4a4a4a";
const GRID: &str = "#d0d3d6";
const NEUTRAL: &str = "#999999";
const BLUE: &str = "#0072b2";
const VERMILLION: &str = "#d55e00";
const WHITE: &str = "#ffffff";
const MISSING: &str = "—";

/// Round "nice" tick values (steps of 1, 2, 2.5 or 5 times a power of ten) covering
/// `lo..=hi`, at most about `max_ticks + 1` of them. Empty when the range is not finite or
/// `lo > hi`; a single tick when `lo == hi`.
pub fn nice_ticks(lo: f64, hi: f64, max_ticks: usize) -> Vec<f64> {
    if !lo.is_finite() || !hi.is_finite() || lo > hi {
        return Vec::new();
    }
    if hi - lo <= f64::EPSILON * hi.abs().max(1.0) {
        return vec![lo + 0.0];
    }
    let step = nice_step(hi - lo, max_ticks);
    let first = (lo / step - 1e-9).ceil();
    let last = (hi / step + 1e-9).floor();
    let limit = max_ticks.max(1) * 3;
    std::iter::successors(Some(first), |k| Some(k + 1.0))
        .take_while(|k| *k <= last)
        .take(limit)
        .map(|k| round_to_step(k * step, step))
        .collect()
}

fn nice_step(span: f64, max_ticks: usize) -> f64 {
    let raw = span / max_ticks.max(1) as f64;
    if !raw.is_finite() || raw <= 0.0 {
        return 1.0;
    }
    let magnitude = 10f64.powf(raw.log10().floor());
    [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * magnitude)
        .find(|s| *s >= raw * (1.0 - 1e-9))
        .unwrap_or(10.0 * magnitude)
}

fn round_to_step(v: f64, step: f64) -> f64 {
    if step >= 1.0 {
        return v + 0.0;
    }
    let places = (-step.log10().floor() + 1.0).clamp(0.0, 12.0);
    let p = 10f64.powf(places);
    (v * p).round() / p + 0.0
}

/// A base axis range widened to include every finite value, then extended to nice steps.
fn fit_domain(base: (f64, f64), values: impl IntoIterator<Item = f64>) -> (f64, f64) {
    let (mut lo, mut hi) = if base.0.is_finite() && base.1.is_finite() {
        (base.0.min(base.1), base.0.max(base.1))
    } else {
        (f64::INFINITY, f64::NEG_INFINITY)
    };
    for v in values.into_iter().filter(|v| v.is_finite()) {
        lo = lo.min(v);
        hi = hi.max(v);
    }
    if !lo.is_finite() || !hi.is_finite() {
        return (0.0, 100.0);
    }
    if hi - lo <= f64::EPSILON * hi.abs().max(1.0) {
        let pad = (lo.abs() * 0.1).max(1.0);
        (lo, hi) = (lo - pad, hi + pad);
    }
    let step = nice_step(hi - lo, TICKS);
    let (nlo, nhi) = ((lo / step).floor() * step, (hi / step).ceil() * step);
    if nlo.is_finite() && nhi.is_finite() {
        (nlo + 0.0, nhi + 0.0)
    } else {
        (lo, hi)
    }
}

/// A coordinate rounded to one decimal, printed without a trailing `.0`.
#[derive(Clone, Copy)]
struct N(f64);

impl fmt::Display for N {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let r = (self.0 * 10.0).round() / 10.0;
        let r = if r.is_finite() { r + 0.0 } else { 0.0 };
        if r.fract().abs() < 1e-9 {
            write!(f, "{r:.0}")
        } else {
            write!(f, "{r:.1}")
        }
    }
}

/// Linear map from a value domain `d0..d1` to a pixel range `r0..r1`, clamped to the domain.
#[derive(Clone, Copy)]
struct Scale {
    d0: f64,
    d1: f64,
    r0: f64,
    r1: f64,
}

impl Scale {
    fn at(&self, v: f64) -> f64 {
        let span = self.d1 - self.d0;
        let t = (v - self.d0) / span;
        if !t.is_finite() {
            return self.r0;
        }
        self.r0 + t.clamp(0.0, 1.0) * (self.r1 - self.r0)
    }
}

fn sanitize_id(raw: &str) -> String {
    let id: String = raw
        .chars()
        .map(|c| c.to_ascii_lowercase())
        .map(|c| {
            if c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect();
    if id.trim_matches('-').is_empty() {
        "chart".to_owned()
    } else {
        id
    }
}

fn finite(v: f64) -> Option<f64> {
    v.is_finite().then_some(v)
}

fn text_width(s: &str, size: f64) -> f64 {
    s.chars().count() as f64 * size * CHAR_EM
}

/// `s` cut to fit `max_w` pixels at font `size`, ending in an ellipsis when cut.
fn clip(s: &str, max_w: f64, size: f64) -> Cow<'_, str> {
    let max = ((max_w / (size * CHAR_EM)).floor().max(2.0)) as usize;
    if s.chars().count() <= max {
        return Cow::Borrowed(s);
    }
    let mut cut: String = s.chars().take(max - 1).collect();
    cut.truncate(cut.trim_end().len());
    cut.push('…');
    Cow::Owned(cut)
}

/// Whole characters of font `size` that fit `max_w` pixels (at least two).
fn chars_in(max_w: f64, size: f64) -> usize {
    // The small epsilon keeps a width computed from a label's own length from losing a char.
    ((max_w / (size * CHAR_EM) + 1e-6).floor().max(2.0)) as usize
}

/// `s` wrapped at word boundaries onto lines that fit `max_w` pixels at font `size` (a word
/// wider than a line is broken inside it), at most `max_lines` of them. Only when more would
/// be needed is the last line shortened with an ellipsis; the flag says so.
fn wrap(s: &str, max_w: f64, size: f64, max_lines: usize) -> (Vec<String>, bool) {
    let per = chars_in(max_w, size);
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    for word in s.split_whitespace() {
        let len = word.chars().count();
        if !line.is_empty() && line.chars().count() + 1 + len <= per {
            line.push(' ');
            line.push_str(word);
            continue;
        }
        if !line.is_empty() {
            lines.push(std::mem::take(&mut line));
        }
        let chars: Vec<char> = word.chars().collect();
        let mut pieces = chars.chunks(per).map(|c| c.iter().collect::<String>());
        line = pieces.next_back().unwrap_or_default();
        lines.extend(pieces);
    }
    if !line.is_empty() || lines.is_empty() {
        lines.push(line);
    }
    let max_lines = max_lines.max(1);
    if lines.len() <= max_lines {
        return (lines, false);
    }
    let rest = lines.split_off(max_lines - 1).join(" ");
    let last = clip(&rest, max_w, size).into_owned();
    lines.push(last);
    (lines, true)
}

/// A row label right-aligned at `x`, centred on `y`: one line as plain text, or wrapped onto
/// up to [`LABEL_LINES`] `<tspan>` lines; a label shortened even so carries its full text in
/// a `<title>`.
fn label_at(x: f64, y: f64, max_w: f64, name: &str) -> Markup {
    let (lines, cut) = wrap(name, max_w, FS, LABEL_LINES);
    if lines.len() <= 1 && !cut {
        return text_at(x, y, "end", name);
    }
    let first = y - (lines.len() - 1) as f64 * LABEL_LINE_H / 2.0;
    html! {
        text x=(N(x)) y=(N(y)) font-size=(N(FS)) text-anchor="end" fill=(INK) {
            @if cut { title { (name) } }
            @for (k, line) in lines.iter().enumerate() {
                tspan x=(N(x)) y=(N(first + k as f64 * LABEL_LINE_H)) dy="0.35em" { (line) }
            }
        }
    }
}

fn text_at(x: f64, y: f64, anchor: &str, content: impl Render) -> Markup {
    html! {
        text x=(N(x)) y=(N(y)) dy="0.35em" font-size=(N(FS)) text-anchor=(anchor) fill=(INK) {
            (content)
        }
    }
}

fn block(x: f64, y: f64, w: f64, h: f64, fill: &str) -> Markup {
    html! {
        rect x=(N(x)) y=(N(y)) width=(N(w.max(0.0))) height=(N(h)) fill=(fill) stroke=(INK)
            stroke-width="0.5" {}
    }
}

/// Marker shapes, so series differ by form as well as colour.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Shape {
    Circle,
    Square,
    Diamond,
    Up,
    Down,
    Tick,
}

fn marker(shape: Shape, x: f64, y: f64, r: f64, fill: &str, stroke: &str) -> Markup {
    let points: &[(f64, f64)] = match shape {
        Shape::Circle => {
            return html! {
                circle cx=(N(x)) cy=(N(y)) r=(N(r)) fill=(fill) stroke=(stroke) stroke-width="1" {}
            };
        }
        Shape::Tick => &[(-1.5, -1.0), (1.5, -1.0), (1.5, 1.0), (-1.5, 1.0)],
        Shape::Square => &[(-0.8, -0.8), (0.8, -0.8), (0.8, 0.8), (-0.8, 0.8)],
        Shape::Diamond => &[(0.0, -1.0), (1.0, 0.0), (0.0, 1.0), (-1.0, 0.0)],
        Shape::Up => &[(0.0, -1.1), (1.0, 0.7), (-1.0, 0.7)],
        Shape::Down => &[(0.0, 1.1), (1.0, -0.7), (-1.0, -0.7)],
    };
    let sx = if shape == Shape::Tick { 1.0 } else { r };
    let pts: Vec<String> = points
        .iter()
        .map(|(dx, dy)| format!("{},{}", N(x + dx * sx), N(y + dy * r)))
        .collect();
    html! {
        polygon points=(pts.join(" ")) fill=(fill) stroke=(stroke) stroke-width="1" {}
    }
}

/// A legend swatch.
#[derive(Clone, Copy, Debug)]
enum Key<'a> {
    Block(&'a str),
    Mark(Shape, &'a str, &'a str),
    Stroke(&'a str, Option<&'a str>, Option<Shape>),
    Glyph(&'a str),
}

fn swatch(key: Key<'_>, x: f64, y: f64) -> Markup {
    match key {
        Key::Block(fill) => block(x + 2.0, y - 5.0, 12.0, 10.0, fill),
        Key::Mark(shape, fill, stroke) => marker(shape, x + 8.0, y, 4.5, fill, stroke),
        Key::Stroke(colour, dash, shape) => html! {
            line x1=(N(x)) y1=(N(y)) x2=(N(x + 14.0)) y2=(N(y)) stroke=(colour) stroke-width="2"
                stroke-dasharray=[dash] {}
            @if let Some(shape) = shape { (marker(shape, x + 14.0, y, 3.5, colour, colour)) }
        },
        Key::Glyph(glyph) => html! {
            text x=(N(x + 8.0)) y=(N(y)) dy="0.35em" font-size="13" font-weight="700"
                text-anchor="middle" fill=(INK) { (glyph) }
        },
    }
}

/// The legend, wrapped onto as many lines as needed, and its height.
fn legend(keys: &[(Key<'_>, &str)]) -> (Markup, f64) {
    let (mut x, mut y) = (PAD, PAD + LINE_H / 2.0);
    let mut items = Vec::with_capacity(keys.len());
    for (key, label) in keys {
        let label = clip(label, W / 2.0, FS);
        let width = 22.0 + text_width(&label, FS) + 14.0;
        if x > PAD && x + width > W - PAD {
            (x, y) = (PAD, y + LINE_H);
        }
        items.push(html! { g.key { (swatch(*key, x, y)) (text_at(x + 22.0, y, "start", label)) } });
        x += width;
    }
    if items.is_empty() {
        return (html! {}, 0.0);
    }
    (
        html! { g.legend { @for item in &items { (item) } } },
        y + LINE_H / 2.0,
    )
}

fn x_axis(x: &Scale, top: f64, bottom: f64, fmt: &dyn Fn(f64) -> String) -> Markup {
    html! {
        g.axis {
            @for t in nice_ticks(x.d0, x.d1, TICKS) {
                @let px = N(x.at(t));
                line x1=(px) x2=(px) y1=(N(top)) y2=(N(bottom + 4.0)) stroke=(GRID) stroke-width="1" {}
                text x=(px) y=(N(bottom + 15.0)) font-size="9" text-anchor="middle" fill=(MUTED) {
                    (fmt(t))
                }
            }
            line x1=(N(x.r0)) x2=(N(x.r1)) y1=(N(bottom)) y2=(N(bottom)) stroke=(MUTED)
                stroke-width="1" {}
        }
    }
}

/// The figure shell shared by every chart, with an optional disclosed data table.
fn frame(text: &ChartText<'_>, height: f64, body: Markup, table: Option<Markup>) -> Markup {
    let id = sanitize_id(text.id);
    html! {
        figure.chart id=(id) {
            figcaption { (text.caption) }
            svg.chart-svg role="img" aria-labelledby=(format!("{id}-title {id}-desc"))
                viewBox=(format!("0 0 {} {}", N(W), N(height))) width="100%" {
                title id=(format!("{id}-title")) { (text.title) }
                desc id=(format!("{id}-desc")) { (text.desc) }
                (body)
            }
            @if let Some(table) = table {
                details.chart-data { summary { (text.table_summary) } (table) }
            }
        }
    }
}

fn no_data(text: &ChartText<'_>) -> Markup {
    let body = html! {
        text.no-data x=(N(W / 2.0)) y="24" dy="0.35em" font-size="12" text-anchor="middle"
            fill=(MUTED) { (text.no_data) }
    };
    frame(text, 48.0, body, None)
}

fn data_table(caption: &str, cols: &[(&str, bool)], body: Markup) -> Markup {
    html! {
        table.chart-table {
            caption { (caption) }
            thead { tr { @for (label, num) in cols { th scope="col" class=[num.then_some("num")] { (label) } } } }
            (body)
        }
    }
}

/// A numeric table cell; a dash when the value is not finite.
fn num_td(v: f64, fmt: &dyn Fn(f64) -> String) -> Markup {
    html! { td.num { (opt_fmt(v, fmt)) } }
}

/// Geometry of a chart made of horizontal rows over a shared x axis.
struct Rows {
    top: f64,
    row_h: f64,
    n: usize,
    x: Scale,
}

impl Rows {
    fn mid(&self, i: usize) -> f64 {
        self.top + (i as f64 + 0.5) * self.row_h
    }

    fn bottom(&self) -> f64 {
        self.top + self.n as f64 * self.row_h
    }

    /// A row's name, right-aligned in the label column and wrapped to fit it.
    fn name(&self, i: usize, name: &str) -> Markup {
        label_at(self.x.r0 - 6.0, self.mid(i), self.x.r0 - LABEL_GAP, name)
    }
}

/// Fixed geometry of one kind of row chart.
#[derive(Clone, Copy)]
struct RowLayout {
    /// Least row height; rows grow when their labels wrap onto more lines.
    row_h: f64,
    /// Least width of the label column left of the plot; it grows to fit the longest label.
    label_w: f64,
    /// Margin right of the plot, for value labels.
    right_w: f64,
    /// Room above the first row, e.g. for a reference-line label.
    extra_top: f64,
}

/// What a row chart needs besides its rows: legend, row names, geometry and value axis.
struct RowSpec<'a> {
    keys: &'a [(Key<'a>, &'a str)],
    n: usize,
    layout: RowLayout,
    domain: (f64, f64),
    tick_fmt: &'a dyn Fn(f64) -> String,
}

impl<'a> RowSpec<'a> {
    /// The spec of rows named `names` (in order): the layout's label column and rows grow so
    /// that the longest name fits on one line, or else wraps onto at most [`LABEL_LINES`].
    fn new<S: AsRef<str>>(
        keys: &'a [(Key<'a>, &'a str)],
        names: &[S],
        layout: RowLayout,
        domain: (f64, f64),
        tick_fmt: &'a dyn Fn(f64) -> String,
    ) -> Self {
        Self {
            keys,
            n: names.len(),
            layout: fit_labels(layout, names),
            domain,
            tick_fmt,
        }
    }
}

/// `layout` with a label column wide enough for the longest of `names` (up to
/// [`LABEL_MAX_W`]) and rows tall enough for the most lines any name wraps onto there.
fn fit_labels<S: AsRef<str>>(layout: RowLayout, names: &[S]) -> RowLayout {
    let longest = names
        .iter()
        .map(|n| text_width(n.as_ref().trim(), FS))
        .fold(0.0, f64::max);
    let label_w = (longest + LABEL_GAP)
        .ceil()
        .clamp(layout.label_w, LABEL_MAX_W.max(layout.label_w));
    let lines = names
        .iter()
        .map(|n| {
            wrap(n.as_ref(), label_w - LABEL_GAP, FS, LABEL_LINES)
                .0
                .len()
        })
        .max()
        .unwrap_or(1);
    // One line keeps the layout's own row height (tier bars are denser than a text line).
    let row_h = if lines > 1 {
        layout.row_h.max(lines as f64 * LABEL_LINE_H + 4.0)
    } else {
        layout.row_h
    };
    RowLayout {
        label_w,
        row_h,
        ..layout
    }
}

fn row_figure(
    text: &ChartText<'_>,
    spec: &RowSpec<'_>,
    draw: impl FnOnce(&Rows) -> Markup,
    table: Markup,
) -> Markup {
    let (legend, legend_h) = legend(spec.keys);
    let layout = spec.layout;
    let x = Scale {
        d0: spec.domain.0,
        d1: spec.domain.1,
        r0: layout.label_w,
        r1: W - layout.right_w,
    };
    let rows = Rows {
        top: PAD + legend_h + layout.extra_top + 4.0,
        row_h: layout.row_h,
        n: spec.n,
        x,
    };
    let body = html! {
        (legend)
        (x_axis(&rows.x, rows.top, rows.bottom(), spec.tick_fmt))
        (draw(&rows))
    };
    frame(text, rows.bottom() + AXIS_H, body, Some(table))
}

fn opt_fmt(v: f64, fmt: &dyn Fn(f64) -> String) -> String {
    finite(v).map_or_else(|| MISSING.to_owned(), fmt)
}
