//! Server-rendered, accessible, printable inline-SVG charts for PAR Index analyst dashboards.
//!
//! Every chart is a `<figure class="chart">` with a `<figcaption>`, an `<svg role="img">` whose
//! first children are `<title>` and `<desc>`, and straight after the SVG a `<details>` data table
//! with the same numbers. The markup is CSP-safe: no `style` attributes, no `<style>`, no
//! scripts and no event handlers; only SVG presentation attributes and `class`. All text goes
//! through maud, so unit names and labels are always escaped. Every UI string comes from the
//! caller (vi/en), and every number is formatted by the caller's formatter.

use std::borrow::Cow;
use std::fmt;

use maud::{Markup, Render, html};

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

/// One unit (province) in [`tier_bar_chart`].
#[derive(Clone, Copy, Debug)]
pub struct TierBar<'a> {
    /// Unit code, written to the bar's `data-unit` attribute.
    pub unit_code: &'a str,
    /// Display name; truncated in the SVG, shown in full in the tooltip and the table.
    pub name: &'a str,
    /// Score in percent (0..100); non-finite values are skipped.
    pub value: f64,
    /// Tier code, matched against the caller's tier list; `None` is drawn in neutral grey.
    pub tier: Option<&'a str>,
    /// The rank is statistically uncertain: drawn as an asterisk after the value.
    pub rank_uncertain: bool,
}

/// Column headers and legend labels for [`tier_bar_chart`].
#[derive(Clone, Copy, Debug)]
pub struct TierBarLabels<'a> {
    /// Header of the unit-name column.
    pub unit: &'a str,
    /// Header of the value column.
    pub value: &'a str,
    /// Header of the tier column.
    pub tier: &'a str,
    /// Legend and table text for units without a (known) tier.
    pub no_tier: &'a str,
    /// Legend text for the asterisk, and header of the uncertainty column.
    pub rank_uncertain: &'a str,
}

/// A vertical reference line, e.g. the national mean.
#[derive(Clone, Copy, Debug)]
pub struct ReferenceLine<'a> {
    /// Position on the value axis; ignored when not finite.
    pub value: f64,
    /// Label drawn next to the line and used as the table's footer row header.
    pub label: &'a str,
}

/// One unit's value in [`regional_distribution`].
#[derive(Clone, Copy, Debug)]
pub struct RegionPoint<'a> {
    /// Unit code, written to the dot's `data-unit` attribute.
    pub unit_code: &'a str,
    /// Display name (tooltip and table).
    pub name: &'a str,
    /// Region code; points whose region is not in the caller's region list are skipped.
    pub region: &'a str,
    /// Value; non-finite values are skipped.
    pub value: f64,
}

/// Column headers and legend labels for [`regional_distribution`].
#[derive(Clone, Copy, Debug)]
pub struct RegionLabels<'a> {
    /// Header of the region column.
    pub region: &'a str,
    /// Header of the unit column, and legend text for a unit's dot.
    pub unit: &'a str,
    /// Header of the value column.
    pub value: &'a str,
    /// Legend text for the region-mean tick, and label of the table's summary rows.
    pub mean: &'a str,
    /// Legend text for the min–max line.
    pub range: &'a str,
}

/// One component row in [`component_profile`].
#[derive(Clone, Copy, Debug)]
pub struct ComponentScore<'a> {
    /// Component name.
    pub label: &'a str,
    /// The unit's percent; may be non-finite (then only the national marker is drawn).
    pub unit: f64,
    /// The national mean percent; may be non-finite (then only the unit marker is drawn).
    pub national: f64,
}

/// Column headers and series names for [`component_profile`].
#[derive(Clone, Copy, Debug)]
pub struct ProfileLabels<'a> {
    /// Header of the component column.
    pub component: &'a str,
    /// Name of the unit's series (legend and column header).
    pub unit_series: &'a str,
    /// Name of the national-mean series (legend and column header).
    pub national_series: &'a str,
}

/// One unit in [`slope_chart`].
#[derive(Clone, Copy, Debug)]
pub struct SlopeRow<'a> {
    /// Unit code, matched against the highlight list and written to `data-unit`.
    pub unit_code: &'a str,
    /// Display name, drawn at both ends (truncated) and in full in the tooltip and table.
    pub name: &'a str,
    /// Earlier value (left axis); the row is skipped unless both values are finite.
    pub before: f64,
    /// Current value (right axis).
    pub after: f64,
}

/// Column headers and legend labels for [`slope_chart`].
#[derive(Clone, Copy, Debug)]
pub struct SlopeLabels<'a> {
    /// Header of the unit column.
    pub unit: &'a str,
    /// Name of the earlier period (left axis heading and column header), e.g. "2023".
    pub before: &'a str,
    /// Name of the current period (right axis heading and column header), e.g. "2024".
    pub after: &'a str,
    /// Header of the change column.
    pub change: &'a str,
    /// Header of the direction column.
    pub direction: &'a str,
    /// Legend and table text for an increase.
    pub up: &'a str,
    /// Legend and table text for a decrease.
    pub down: &'a str,
    /// Legend and table text for no visible change.
    pub flat: &'a str,
}

/// One question in [`stacked_distribution`].
#[derive(Clone, Debug)]
pub struct StackedRow<'a> {
    /// Question code, drawn before the label and written to `data-question`.
    pub code: &'a str,
    /// Question text; truncated in the SVG, in full in the tooltip and table.
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

const W: f64 = 640.0;
const PAD: f64 = 8.0;
const FS: f64 = 10.0;
const CHAR_EM: f64 = 0.56;
const AXIS_H: f64 = 26.0;
const TICKS: usize = 5;
const LINE_H: f64 = 16.0;
const INK: &str = "#1b1b1b";
const MUTED: &str = "#4a4a4a";
const GRID: &str = "#d0d3d6";
const NEUTRAL: &str = "#999999";
const BLUE: &str = "#0072b2";
const VERMILLION: &str = "#d55e00";
const WHITE: &str = "#ffffff";
const MISSING: &str = "—";
/// Okabe–Ito colours, darkest-contrast first; yellow and black last.
const TIER_PALETTE: [&str; 8] = [
    BLUE, "#009e73", "#e69f00", VERMILLION, "#cc79a7", "#56b4e9", "#f0e442", "#000000",
];
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

/// `fmt(v)` with a leading `+` for increases.
fn signed(v: f64, fmt: &dyn Fn(f64) -> String) -> String {
    if v > 0.0 {
        format!("+{}", fmt(v))
    } else {
        fmt(v)
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

    /// A row's name, right-aligned in the label column.
    fn name(&self, i: usize, name: &str) -> Markup {
        text_at(
            self.x.r0 - 6.0,
            self.mid(i),
            "end",
            clip(name, self.x.r0 - PAD - 6.0, FS),
        )
    }
}

/// Fixed geometry of one kind of row chart.
#[derive(Clone, Copy)]
struct RowLayout {
    row_h: f64,
    /// Width of the label column left of the plot.
    label_w: f64,
    /// Margin right of the plot, for value labels.
    right_w: f64,
    /// Room above the first row, e.g. for a reference-line label.
    extra_top: f64,
}

const BAR_LAYOUT: RowLayout = RowLayout {
    row_h: 14.0,
    label_w: 160.0,
    right_w: 56.0,
    extra_top: 0.0,
};
const STRIP_LAYOUT: RowLayout = RowLayout {
    row_h: 30.0,
    label_w: 130.0,
    right_w: 24.0,
    extra_top: 0.0,
};
const PROFILE_LAYOUT: RowLayout = RowLayout {
    row_h: 24.0,
    label_w: 180.0,
    right_w: 52.0,
    extra_top: 0.0,
};
const STACK_LAYOUT: RowLayout = RowLayout {
    row_h: 24.0,
    label_w: 200.0,
    right_w: 28.0,
    extra_top: 0.0,
};

/// What a row chart needs besides its rows: legend, row count, geometry and value axis.
struct RowSpec<'a> {
    keys: &'a [(Key<'a>, &'a str)],
    n: usize,
    layout: RowLayout,
    domain: (f64, f64),
    tick_fmt: &'a dyn Fn(f64) -> String,
}

impl<'a> RowSpec<'a> {
    fn new(
        keys: &'a [(Key<'a>, &'a str)],
        n: usize,
        layout: RowLayout,
        domain: (f64, f64),
        tick_fmt: &'a dyn Fn(f64) -> String,
    ) -> Self {
        Self {
            keys,
            n,
            layout,
            domain,
            tick_fmt,
        }
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

/// Horizontal bar chart of every unit in the given order, each bar coloured by tier.
///
/// `tiers` is the ordered list of `(tier code, label)`; tiers take Okabe–Ito colours by
/// position and units without a known tier are grey. Rows with a non-finite value are skipped.
/// The value axis spans 0..100, widened to include negative or larger values and the reference.
pub fn tier_bar_chart(
    text: &ChartText<'_>,
    labels: &TierBarLabels<'_>,
    tiers: &[(&str, &str)],
    rows: &[TierBar<'_>],
    reference: Option<&ReferenceLine<'_>>,
) -> Markup {
    let rows: Vec<&TierBar<'_>> = rows.iter().filter(|r| r.value.is_finite()).collect();
    if rows.is_empty() {
        return no_data(text);
    }
    let fmt = text.fmt;
    let reference = reference.filter(|r| r.value.is_finite());
    let tier = |r: &TierBar<'_>| tier_of(r.tier, tiers);
    let any_uncertain = rows.iter().any(|r| r.rank_uncertain);
    let mut keys: Vec<(Key<'_>, &str)> = tiers
        .iter()
        .enumerate()
        .map(|(i, t)| (Key::Block(tier_colour(Some(i))), t.1))
        .collect();
    if rows.iter().any(|r| tier(r).is_none()) {
        keys.push((Key::Block(NEUTRAL), labels.no_tier));
    }
    if any_uncertain {
        keys.push((Key::Glyph("*"), labels.rank_uncertain));
    }
    let values = rows.iter().map(|r| r.value);
    let domain = fit_domain((0.0, 100.0), values.chain(reference.map(|r| r.value)));
    let layout = RowLayout {
        extra_top: if reference.is_some() { 16.0 } else { 0.0 },
        ..BAR_LAYOUT
    };
    let spec = RowSpec::new(&keys, rows.len(), layout, domain, fmt);
    let tier_text = |r: &TierBar<'_>| tier_name(r.tier, tiers, labels.no_tier).to_owned();
    let draw = |lay: &Rows| {
        let x0 = lay.x.at(0.0);
        html! {
            @if lay.x.d0 < 0.0 {
                line x1=(N(x0)) x2=(N(x0)) y1=(N(lay.top)) y2=(N(lay.bottom())) stroke=(MUTED)
                    stroke-width="1" {}
            }
            @for (i, r) in rows.iter().enumerate() {
                @let xv = lay.x.at(r.value);
                g.bar data-unit=(r.unit_code) {
                    title {
                        (r.name) ": " (fmt(r.value)) " (" (tier_text(r)) ")"
                        @if r.rank_uncertain { " * " (labels.rank_uncertain) }
                    }
                    (lay.name(i, r.name))
                    (block(x0.min(xv), lay.mid(i) - 5.0, (xv - x0).abs(), 10.0, tier_colour(tier(r))))
                }
            }
            @if let Some(r) = reference { (reference_line(lay, r, fmt)) }
            // Value labels go over the reference line, with a white halo to stay legible.
            g.values {
                @for (i, r) in rows.iter().enumerate() {
                    text x=(N(x0.max(lay.x.at(r.value)) + 4.0)) y=(N(lay.mid(i))) dy="0.35em"
                        font-size=(N(FS)) fill=(INK) stroke=(WHITE) stroke-width="3"
                        stroke-linejoin="round" paint-order="stroke" {
                        (fmt(r.value)) @if r.rank_uncertain { tspan font-weight="700" { "*" } }
                    }
                }
            }
        }
    };
    let mut cols = vec![
        (labels.unit, false),
        (labels.value, true),
        (labels.tier, false),
    ];
    if any_uncertain {
        cols.push((labels.rank_uncertain, false));
    }
    let body = html! {
        tbody {
            @for r in &rows {
                tr {
                    td { (r.name) } (num_td(r.value, fmt)) td { (tier_text(r)) }
                    @if any_uncertain { td { @if r.rank_uncertain { "*" } } }
                }
            }
        }
        @if let Some(r) = reference {
            tfoot { tr { th scope="row" { (r.label) } (num_td(r.value, fmt)) td colspan=(cols.len() - 2) {} } }
        }
    };
    row_figure(text, &spec, draw, data_table(text.title, &cols, body))
}

fn tier_of(code: Option<&str>, tiers: &[(&str, &str)]) -> Option<usize> {
    code.and_then(|c| tiers.iter().position(|t| t.0 == c))
}

/// The tier's label, else the unknown code itself, else the "no tier" text.
fn tier_name<'s>(code: Option<&'s str>, tiers: &[(&'s str, &'s str)], none: &'s str) -> &'s str {
    match tier_of(code, tiers).and_then(|p| tiers.get(p)) {
        Some(t) => t.1,
        None => code.unwrap_or(none),
    }
}

fn tier_colour(position: Option<usize>) -> &'static str {
    position.map_or(NEUTRAL, |p| {
        TIER_PALETTE
            .get(p % TIER_PALETTE.len())
            .copied()
            .unwrap_or(NEUTRAL)
    })
}

fn reference_line(lay: &Rows, r: &ReferenceLine<'_>, fmt: &dyn Fn(f64) -> String) -> Markup {
    let x = lay.x.at(r.value);
    let (anchor, dx) = if x < W / 2.0 {
        ("start", 3.0)
    } else {
        ("end", -3.0)
    };
    html! {
        g.ref {
            line x1=(N(x)) x2=(N(x)) y1=(N(lay.top - 14.0)) y2=(N(lay.bottom())) stroke=(INK)
                stroke-width="1.5" stroke-dasharray="4 3" {}
            (text_at(x + dx, lay.top - 9.0, anchor, format!("{}: {}", r.label, fmt(r.value))))
        }
    }
}

/// Minimum, maximum and mean of some values.
struct Stats {
    min: f64,
    max: f64,
    mean: f64,
}

fn stats(values: impl IntoIterator<Item = f64>) -> Option<Stats> {
    let (mut n, mut sum, mut min, mut max) = (0usize, 0.0, f64::INFINITY, f64::NEG_INFINITY);
    for v in values {
        n += 1;
        sum += v;
        min = min.min(v);
        max = max.max(v);
    }
    (n > 0).then(|| Stats {
        min,
        max,
        mean: sum / n as f64,
    })
}

/// One region's strip: label, the units in it and their summary.
struct Region<'a, 'p> {
    code: &'a str,
    label: &'a str,
    points: Vec<&'p RegionPoint<'p>>,
    stats: Option<Stats>,
}

/// One strip per region (in the given order): a dot per unit, the min–max line and the region
/// mean as a thick tick, on a shared x axis `axis = (lo, hi)` widened to include every value.
///
/// Points with a non-finite value or a region not in `regions` are skipped; a region with no
/// points shows the "no data" text.
pub fn regional_distribution(
    text: &ChartText<'_>,
    labels: &RegionLabels<'_>,
    regions: &[(&str, &str)],
    points: &[RegionPoint<'_>],
    axis: (f64, f64),
) -> Markup {
    let groups: Vec<Region<'_, '_>> = regions
        .iter()
        .map(|&(code, label)| {
            let points: Vec<_> = points
                .iter()
                .filter(|p| p.region == code && p.value.is_finite())
                .collect();
            let stats = stats(points.iter().map(|p| p.value));
            Region {
                code,
                label,
                points,
                stats,
            }
        })
        .collect();
    if groups.iter().all(|g| g.stats.is_none()) {
        return no_data(text);
    }
    let fmt = text.fmt;
    let keys = [
        (Key::Mark(Shape::Circle, BLUE, WHITE), labels.unit),
        (Key::Mark(Shape::Tick, VERMILLION, VERMILLION), labels.mean),
        (Key::Stroke(MUTED, None, None), labels.range),
    ];
    let values = groups.iter().flat_map(|g| g.points.iter().map(|p| p.value));
    let spec = RowSpec::new(
        &keys,
        groups.len(),
        STRIP_LAYOUT,
        fit_domain(axis, values),
        fmt,
    );
    let draw = |lay: &Rows| {
        html! {
            @for (i, g) in groups.iter().enumerate() {
                g.strip data-region=(g.code) { (region_strip(lay, i, g, labels, text)) }
            }
        }
    };
    let cols = [
        (labels.region, false),
        (labels.unit, false),
        (labels.value, true),
    ];
    let body = html! {
        @for g in &groups {
            tbody {
                @for p in &g.points { tr { td { (g.label) } td { (p.name) } (num_td(p.value, fmt)) } }
                @if let Some(s) = &g.stats {
                    tr.summary { td { (g.label) } td { (labels.mean) } (num_td(s.mean, fmt)) }
                } @else {
                    tr { td { (g.label) } td colspan="2" { (text.no_data) } }
                }
            }
        }
    };
    row_figure(text, &spec, draw, data_table(text.title, &cols, body))
}

fn region_strip(
    lay: &Rows,
    i: usize,
    g: &Region<'_, '_>,
    labels: &RegionLabels<'_>,
    text: &ChartText<'_>,
) -> Markup {
    let (fmt, y) = (text.fmt, lay.mid(i));
    let Some(s) = &g.stats else {
        return html! {
            title { (g.label) ": " (text.no_data) }
            (lay.name(i, g.label))
            (text_at(lay.x.r0 + 4.0, y, "start", text.no_data))
        };
    };
    html! {
        title {
            (g.label) ": " (labels.mean) " " (fmt(s.mean)) "; "
            (labels.range) " " (fmt(s.min)) "–" (fmt(s.max))
        }
        (lay.name(i, g.label))
        line x1=(N(lay.x.at(s.min))) x2=(N(lay.x.at(s.max))) y1=(N(y)) y2=(N(y)) stroke=(MUTED)
            stroke-width="2" {}
        @for (j, p) in g.points.iter().enumerate() {
            circle.dot data-unit=(p.unit_code) cx=(N(lay.x.at(p.value)))
                cy=(N(y + ((j % 3) as f64 - 1.0) * 5.0)) r="3.5" fill=(BLUE) fill-opacity="0.7"
                stroke=(WHITE) stroke-width="0.75" {
                title { (p.name) ": " (fmt(p.value)) }
            }
        }
        (marker(Shape::Tick, lay.x.at(s.mean), y, 10.0, VERMILLION, VERMILLION))
    }
}

/// Dot plot of one unit's component scores: per component the unit's percent (filled circle)
/// and the national mean (hollow diamond), joined by a line.
///
/// A row is drawn when at least one of its two values is finite; a missing value shows as a
/// dash in the table. The axis spans 0..100, widened to include every value.
pub fn component_profile(
    text: &ChartText<'_>,
    labels: &ProfileLabels<'_>,
    rows: &[ComponentScore<'_>],
) -> Markup {
    let rows: Vec<&ComponentScore<'_>> = rows
        .iter()
        .filter(|r| r.unit.is_finite() || r.national.is_finite())
        .collect();
    if rows.is_empty() {
        return no_data(text);
    }
    let fmt = text.fmt;
    let keys = [
        (Key::Mark(Shape::Circle, BLUE, BLUE), labels.unit_series),
        (
            Key::Mark(Shape::Diamond, WHITE, VERMILLION),
            labels.national_series,
        ),
    ];
    let domain = fit_domain((0.0, 100.0), rows.iter().flat_map(|r| [r.unit, r.national]));
    let spec = RowSpec::new(&keys, rows.len(), PROFILE_LAYOUT, domain, fmt);
    let draw = |lay: &Rows| {
        html! {
            @for (i, r) in rows.iter().enumerate() {
                @let y = lay.mid(i);
                g.profile {
                    title {
                        (r.label) ": " (labels.unit_series) " " (opt_fmt(r.unit, fmt)) "; "
                        (labels.national_series) " " (opt_fmt(r.national, fmt))
                    }
                    (lay.name(i, r.label))
                    @if let (Some(u), Some(n)) = (finite(r.unit), finite(r.national)) {
                        line x1=(N(lay.x.at(u))) x2=(N(lay.x.at(n))) y1=(N(y)) y2=(N(y)) stroke=(MUTED)
                            stroke-width="2" {}
                    }
                    @if let Some(n) = finite(r.national) {
                        (marker(Shape::Diamond, lay.x.at(n), y, 5.5, WHITE, VERMILLION))
                    }
                    @if let Some(u) = finite(r.unit) { (marker(Shape::Circle, lay.x.at(u), y, 4.5, BLUE, BLUE)) }
                    (text_at(lay.x.r1 + 8.0, y, "start", opt_fmt(r.unit, fmt)))
                }
            }
        }
    };
    let cols = [
        (labels.component, false),
        (labels.unit_series, true),
        (labels.national_series, true),
    ];
    let body = html! {
        tbody { @for r in &rows { tr { td { (r.label) } (num_td(r.unit, fmt)) (num_td(r.national, fmt)) } } }
    };
    row_figure(text, &spec, draw, data_table(text.title, &cols, body))
}

fn opt_fmt(v: f64, fmt: &dyn Fn(f64) -> String) -> String {
    finite(v).map_or_else(|| MISSING.to_owned(), fmt)
}

const SLOPE_LEFT: f64 = 220.0;
const SLOPE_RIGHT: f64 = 420.0;
const SLOPE_GAP: f64 = 12.0;

/// Direction of a change, shown by colour, dash pattern and end-marker shape together.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Trend {
    Up,
    Down,
    Flat,
}

impl Trend {
    /// Flat when the change is zero as formatted, so the chart agrees with the printed numbers.
    fn of(delta: f64, fmt: &dyn Fn(f64) -> String) -> Self {
        if fmt(delta.abs()) == fmt(0.0) {
            Self::Flat
        } else if delta > 0.0 {
            Self::Up
        } else {
            Self::Down
        }
    }

    fn style(self) -> (&'static str, Option<&'static str>, Shape) {
        match self {
            Self::Up => (BLUE, None, Shape::Up),
            Self::Down => (VERMILLION, Some("6 3"), Shape::Down),
            Self::Flat => (MUTED, Some("2 3"), Shape::Square),
        }
    }

    fn label<'a>(self, labels: &SlopeLabels<'a>) -> &'a str {
        match self {
            Self::Up => labels.up,
            Self::Down => labels.down,
            Self::Flat => labels.flat,
        }
    }

    /// The change as shown: signed, or exactly zero when flat.
    fn change(self, delta: f64, fmt: &dyn Fn(f64) -> String) -> String {
        if self == Self::Flat {
            fmt(0.0)
        } else {
            signed(delta, fmt)
        }
    }
}

/// Label positions near the wanted `ys`, at least `gap` apart and within `lo..=hi`.
fn spread(ys: &[f64], gap: f64, lo: f64, hi: f64) -> Vec<f64> {
    let mut order: Vec<(usize, f64)> = ys.iter().copied().enumerate().collect();
    order.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
    let mut prev = lo - gap;
    for item in &mut order {
        item.1 = item.1.max(prev + gap);
        prev = item.1;
    }
    let mut next = hi + gap;
    for item in order.iter_mut().rev() {
        item.1 = item.1.min(next - gap);
        next = item.1;
    }
    order.sort_by_key(|item| item.0);
    order.into_iter().map(|item| item.1).collect()
}

/// Year-over-year slope chart: per unit a line from the earlier value (left axis) to the
/// current one (right axis), with the unit's name and values at both ends.
///
/// Increases, decreases and flat rows differ in colour, dash pattern and end marker. When
/// `highlight` lists unit codes, the other units are drawn light underneath. Rows without two
/// finite values are skipped. Meant for up to about 63 units; the chart grows to fit labels.
pub fn slope_chart(
    text: &ChartText<'_>,
    labels: &SlopeLabels<'_>,
    rows: &[SlopeRow<'_>],
    highlight: &[&str],
) -> Markup {
    let rows: Vec<&SlopeRow<'_>> = rows
        .iter()
        .filter(|r| r.before.is_finite() && r.after.is_finite())
        .collect();
    if rows.is_empty() {
        return no_data(text);
    }
    let fmt = text.fmt;
    let keys: Vec<(Key<'_>, &str)> = [Trend::Up, Trend::Down, Trend::Flat]
        .into_iter()
        .map(|t| {
            let (colour, dash, shape) = t.style();
            (Key::Stroke(colour, dash, Some(shape)), t.label(labels))
        })
        .collect();
    let (legend, legend_h) = legend(&keys);
    let head = PAD + legend_h + 12.0;
    let top = head + 18.0;
    let bottom = top + (rows.len() as f64 * SLOPE_GAP).max(200.0);
    let (lo, hi) = fit_domain(
        (f64::NAN, f64::NAN),
        rows.iter().flat_map(|r| [r.before, r.after]),
    );
    let y = Scale {
        d0: lo,
        d1: hi,
        r0: bottom,
        r1: top,
    };
    let ends = |pick: fn(&SlopeRow<'_>) -> f64| -> Vec<f64> {
        rows.iter().map(|r| y.at(pick(r))).collect()
    };
    let (left, right) = (ends(|r| r.before), ends(|r| r.after));
    let (left_label, right_label) = (
        spread(&left, SLOPE_GAP, top, bottom),
        spread(&right, SLOPE_GAP, top, bottom),
    );
    let dim = |r: &SlopeRow<'_>| !highlight.is_empty() && !highlight.contains(&r.unit_code);
    let mut order: Vec<(usize, &&SlopeRow<'_>)> = rows.iter().enumerate().collect();
    order.sort_by_key(|(i, r)| (!dim(r), *i));
    let body = html! {
        (legend)
        g.axis {
            @for (x, label) in [(SLOPE_LEFT, labels.before), (SLOPE_RIGHT, labels.after)] {
                line x1=(N(x)) x2=(N(x)) y1=(N(top - 4.0)) y2=(N(bottom + 4.0)) stroke=(MUTED)
                    stroke-width="1" {}
                (text_at(x, head, "middle", label))
            }
        }
        @for (i, r) in order {
            @let at = |v: &[f64]| v.get(i).copied().unwrap_or(top);
            (slope_unit(r, dim(r), [at(&left), at(&right), at(&left_label), at(&right_label)], fmt))
        }
    };
    let cols = [
        (labels.unit, false),
        (labels.before, true),
        (labels.after, true),
        (labels.change, true),
        (labels.direction, false),
    ];
    let table_body = html! {
        tbody {
            @for r in &rows {
                @let delta = r.after - r.before;
                @let trend = Trend::of(delta, fmt);
                tr {
                    td { (r.name) } (num_td(r.before, fmt)) (num_td(r.after, fmt))
                    td.num { (trend.change(delta, fmt)) } td { (trend.label(labels)) }
                }
            }
        }
    };
    let table = data_table(text.title, &cols, table_body);
    frame(text, bottom + 2.0 * PAD, body, Some(table))
}

fn slope_unit(r: &SlopeRow<'_>, dim: bool, ys: [f64; 4], fmt: &dyn Fn(f64) -> String) -> Markup {
    let [y0, y1, label0, label1] = ys;
    let delta = r.after - r.before;
    let trend = Trend::of(delta, fmt);
    let (colour, dash, shape) = trend.style();
    let (before, after) = (fmt(r.before), fmt(r.after));
    let value_w = text_width(&before, FS).max(text_width(&after, FS));
    let name = clip(r.name, SLOPE_LEFT - 2.0 * PAD - value_w - 8.0, FS);
    html! {
        g class=(if dim { "slope dim" } else { "slope" }) data-unit=(r.unit_code)
            opacity=[dim.then_some("0.35")] {
            title { (r.name) ": " (before) " → " (after) " (" (trend.change(delta, fmt)) ")" }
            line x1=(N(SLOPE_LEFT)) y1=(N(y0)) x2=(N(SLOPE_RIGHT)) y2=(N(y1)) stroke=(colour)
                stroke-width=(if dim { "1" } else { "2" }) stroke-dasharray=[dash] {}
            (marker(Shape::Circle, SLOPE_LEFT, y0, 2.5, colour, colour))
            (marker(shape, SLOPE_RIGHT, y1, 4.0, colour, colour))
            (text_at(SLOPE_LEFT - 8.0, label0, "end", format!("{name} {before}")))
            (text_at(SLOPE_RIGHT + 8.0, label1, "start", format!("{after} {name}")))
        }
    }
}

/// An sRGB colour.
#[derive(Clone, Copy, Debug)]
struct Rgb([u8; 3]);

impl Rgb {
    fn hex(self) -> String {
        let [r, g, b] = self.0;
        format!("#{r:02x}{g:02x}{b:02x}")
    }

    /// Text colour readable on this colour.
    fn ink(self) -> &'static str {
        let [r, g, b] = self.0.map(f64::from);
        if (0.299 * r + 0.587 * g + 0.114 * b) / 255.0 > 0.55 {
            INK
        } else {
            WHITE
        }
    }
}

/// Colour of option `i` of `k`, spread evenly along the scheme.
fn palette(scheme: Scheme, i: usize, k: usize) -> Rgb {
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
    let spec = RowSpec::new(&keys, rows.len(), STACK_LAYOUT, (0.0, 100.0), &pct);
    let draw = |lay: &Rows| {
        html! {
            @for (i, row) in rows.iter().enumerate() {
                g.stack data-question=(row.code) {
                    title { (question_name(row)) }
                    (lay.name(i, &question_name(row)))
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

#[cfg(test)]
mod tests {
    use super::*;

    const HOSTILE: &str = "<script>alert(1)</script>\"><img src=x onerror=alert(2)>";
    const TIERS: [(&str, &str); 4] = [
        ("A", "Very good"),
        ("B", "Good"),
        ("C", "Average"),
        ("D", "Poor"),
    ];
    const BAR_LABELS: TierBarLabels<'static> = TierBarLabels {
        unit: "Unit",
        value: "Score",
        tier: "Tier",
        no_tier: "No tier",
        rank_uncertain: "Rank uncertain",
    };
    const REGION_LABELS: RegionLabels<'static> = RegionLabels {
        region: "Region",
        unit: "Province",
        value: "Score",
        mean: "Mean",
        range: "Min–max",
    };
    const REGIONS: [(&str, &str); 3] = [("N", "North"), ("C", "Central"), ("S", "South")];
    const PROFILE_LABELS: ProfileLabels<'static> = ProfileLabels {
        component: "Component",
        unit_series: "Province",
        national_series: "National mean",
    };
    const SLOPE_LABELS: SlopeLabels<'static> = SlopeLabels {
        unit: "Unit",
        before: "2023",
        after: "2024",
        change: "Change",
        direction: "Direction",
        up: "Up",
        down: "Down",
        flat: "No change",
    };
    const STACK_LABELS: StackedLabels<'static> = StackedLabels {
        question: "Question",
        answer: "Answer",
        count: "Count",
        percent: "Percent",
        total: "Total",
        legend: None,
    };

    fn one_dp(v: f64) -> String {
        format!("{v:.1}")
    }

    fn text(id: &str) -> ChartText<'_> {
        ChartText {
            id,
            title: "Chart title",
            desc: "Chart description",
            caption: "Chart caption",
            table_summary: "Show data",
            no_data: "No data",
            fmt: &one_dp,
        }
    }

    fn bar<'a>(code: &'a str, name: &'a str, value: f64, tier: Option<&'a str>) -> TierBar<'a> {
        TierBar {
            unit_code: code,
            name,
            value,
            tier,
            rank_uncertain: false,
        }
    }

    fn point<'a>(code: &'a str, name: &'a str, region: &'a str, value: f64) -> RegionPoint<'a> {
        RegionPoint {
            unit_code: code,
            name,
            region,
            value,
        }
    }

    fn slope<'a>(code: &'a str, name: &'a str, before: f64, after: f64) -> SlopeRow<'a> {
        SlopeRow {
            unit_code: code,
            name,
            before,
            after,
        }
    }

    fn question<'a>(code: &'a str, label: &'a str, counts: &[u64]) -> StackedRow<'a> {
        let options = ["Very bad", "Bad", "Neutral", "Good", "Very good"];
        StackedRow {
            code,
            label,
            answers: options.into_iter().zip(counts.iter().copied()).collect(),
        }
    }

    fn bars(id: &str, rows: &[TierBar<'_>]) -> String {
        tier_bar_chart(&text(id), &BAR_LABELS, &TIERS, rows, None).into_string()
    }

    fn stacked(rows: &[StackedRow<'_>]) -> String {
        stacked_distribution(&text("s"), &STACK_LABELS, rows, Scheme::Diverging).into_string()
    }

    /// All five charts, each with `name` as one of its unit, region, component or question names.
    fn all_charts(id: &str, name: &str) -> Vec<String> {
        let t = text(id);
        let reference = ReferenceLine {
            value: 71.5,
            label: name,
        };
        let tier_rows = [
            bar("01", name, 82.0, Some("A")),
            bar("02", "Hải Phòng", 74.25, Some("B")),
            bar("03", "Cao Bằng", 61.0, None),
        ];
        let regions = [("N", name), ("S", "South")];
        let points = [
            point("01", name, "N", 82.0),
            point("02", "Hải Phòng", "N", 74.0),
            point("79", "TP. Hồ Chí Minh", "S", 80.0),
        ];
        let components = [
            ComponentScore {
                label: name,
                unit: 70.0,
                national: 65.5,
            },
            ComponentScore {
                label: "Institutions",
                unit: 55.0,
                national: 60.0,
            },
        ];
        let slopes = [
            slope("01", name, 70.0, 75.0),
            slope("02", "Huế", 80.0, 72.0),
        ];
        let questions = [
            question("Q1", name, &[1, 2, 3, 4, 5]),
            question("Q2", "Other", &[5, 0, 0, 0, 5]),
        ];
        vec![
            tier_bar_chart(&t, &BAR_LABELS, &TIERS, &tier_rows, Some(&reference)).into_string(),
            regional_distribution(&t, &REGION_LABELS, &regions, &points, (0.0, 100.0))
                .into_string(),
            component_profile(&t, &PROFILE_LABELS, &components).into_string(),
            slope_chart(&t, &SLOPE_LABELS, &slopes, &[]).into_string(),
            stacked_distribution(&t, &STACK_LABELS, &questions, Scheme::Sequential).into_string(),
        ]
    }

    fn empty_charts() -> Vec<String> {
        let t = text("empty");
        vec![
            tier_bar_chart(&t, &BAR_LABELS, &TIERS, &[], None).into_string(),
            regional_distribution(&t, &REGION_LABELS, &REGIONS, &[], (0.0, 100.0)).into_string(),
            component_profile(&t, &PROFILE_LABELS, &[]).into_string(),
            slope_chart(&t, &SLOPE_LABELS, &[], &[]).into_string(),
            stacked_distribution(&t, &STACK_LABELS, &[], Scheme::Sequential).into_string(),
        ]
    }

    fn count(haystack: &str, needle: &str) -> usize {
        haystack.matches(needle).count()
    }

    /// Every `attr="…"` value in the markup, split into its numbers.
    fn numbers_of(html: &str, attr: &str) -> Vec<String> {
        let pattern = format!(" {attr}=\"");
        html.match_indices(&pattern)
            .filter_map(|(i, _)| html[i + pattern.len()..].split('"').next())
            .flat_map(|v| v.split([' ', ',']).map(str::to_owned).collect::<Vec<_>>())
            .collect()
    }

    /// The text of every `<td class="…">` cell with exactly this class.
    fn cells(html: &str, class: &str) -> Vec<String> {
        let open = format!("<td class=\"{class}\">");
        html.split(&open)
            .skip(1)
            .filter_map(|s| s.split("</td>").next())
            .map(str::to_owned)
            .collect()
    }

    fn svg_part(html: &str) -> &str {
        let end = html.find("</svg>").unwrap_or(html.len());
        &html[..end]
    }

    #[test]
    fn every_chart_has_title_desc_caption_and_a_data_table() {
        for html in all_charts("par-2024", "Hà Nội") {
            assert!(
                html.starts_with(
                    "<figure class=\"chart\" id=\"par-2024\"><figcaption>Chart caption</figcaption>"
                ),
                "{html}"
            );
            assert!(html.contains(
                "<svg class=\"chart-svg\" role=\"img\" aria-labelledby=\"par-2024-title par-2024-desc\" viewBox=\"0 0 640 "
            ));
            assert!(html.contains(
                "width=\"100%\"><title id=\"par-2024-title\">Chart title</title><desc id=\"par-2024-desc\">Chart description</desc>"
            ));
            assert!(html.contains(
                "</svg><details class=\"chart-data\"><summary>Show data</summary><table class=\"chart-table\"><caption>Chart title</caption><thead>"
            ));
            assert!(count(&html, "<th scope=\"col\"") >= 3);
            assert!(html.ends_with("</table></details></figure>"));
        }
    }

    #[test]
    fn hostile_names_are_escaped_everywhere() {
        for html in all_charts("x", HOSTILE) {
            assert!(
                html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
                "{html}"
            );
            assert!(!html.contains("<script"));
            assert!(!html.contains("<img"));
            assert!(
                !html.contains("\"><img"),
                "an attribute was broken out of: {html}"
            );
        }
    }

    #[test]
    fn chart_ids_are_sanitised_to_lowercase_letters_digits_and_hyphens() {
        let html = bars("Chỉ số\" onload=\"x", &[bar("01", "A", 50.0, None)]);
        assert!(html.contains("id=\"ch--s---onload--x\""), "{html}");
        assert!(
            html.contains("aria-labelledby=\"ch--s---onload--x-title ch--s---onload--x-desc\"")
        );
        assert!(bars("<>", &[bar("01", "A", 50.0, None)]).contains("id=\"chart-title\""));
    }

    #[test]
    fn markup_has_no_inline_styles_scripts_or_event_handlers() {
        for html in all_charts("x", "Hà Nội").into_iter().chain(empty_charts()) {
            assert!(!html.contains("style"), "{html}");
            assert!(!html.contains("<script"));
            assert!(!html.contains(" on"), "{html}");
            assert!(!html.contains("href"));
        }
    }

    #[test]
    fn every_svg_element_is_explicitly_closed() {
        let tags = [
            "rect", "circle", "line", "polygon", "text", "tspan", "g", "title", "desc",
        ];
        for html in all_charts("x", "Hà Nội").into_iter().chain(empty_charts()) {
            for tag in tags {
                let opened = count(&html, &format!("<{tag} ")) + count(&html, &format!("<{tag}>"));
                assert_eq!(
                    opened,
                    count(&html, &format!("</{tag}>")),
                    "<{tag}> in {html}"
                );
            }
        }
    }

    #[test]
    fn coordinates_are_rounded_to_at_most_two_decimals() {
        let attrs = [
            "x", "y", "x1", "x2", "y1", "y2", "cx", "cy", "r", "width", "height", "points",
            "viewBox",
        ];
        for html in all_charts("x", "Hà Nội") {
            for attr in attrs {
                for n in numbers_of(&html, attr).iter().filter(|n| !n.ends_with('%')) {
                    assert!(n.parse::<f64>().is_ok_and(f64::is_finite), "{attr}={n}");
                    let decimals = n.split('.').nth(1).map_or(0, str::len);
                    assert!(decimals <= 2, "{attr}={n}");
                }
            }
        }
    }

    #[test]
    fn output_is_deterministic() {
        assert_eq!(all_charts("x", "Hà Nội"), all_charts("x", "Hà Nội"));
    }

    #[test]
    fn empty_input_renders_a_figure_with_a_no_data_message() {
        for html in empty_charts() {
            assert!(html.starts_with("<figure class=\"chart\" id=\"empty\">"));
            assert!(
                html.contains(
                    "<title id=\"empty-title\">Chart title</title><desc id=\"empty-desc\">"
                )
            );
            assert!(html.contains("class=\"no-data\""), "{html}");
            assert!(html.contains(">No data</text>"));
            assert!(!html.contains("<rect"));
            assert!(!html.contains("<details"));
        }
    }

    #[test]
    fn bar_count_equals_the_number_of_finite_input_rows() {
        let rows: Vec<TierBar<'_>> = (0..63)
            .map(|i| bar("u", "Unit", f64::from(i) * 1.5, Some("B")))
            .chain([
                bar("nan", "NaN", f64::NAN, Some("A")),
                bar("inf", "Inf", f64::INFINITY, Some("A")),
                bar("ninf", "-Inf", f64::NEG_INFINITY, None),
            ])
            .collect();
        let html = bars("b", &rows);
        assert_eq!(count(&html, "<g class=\"bar\""), 63);
        assert_eq!(count(svg_part(&html), "<rect"), 63 + TIERS.len());
        assert_eq!(count(&html, "<tr>"), 63 + 1);
        assert!(!html.contains("NaN") && !html.contains("inf"), "{html}");
    }

    #[test]
    fn rows_with_only_non_finite_values_render_no_data() {
        let html = bars("b", &[bar("1", "A", f64::NAN, None)]);
        assert!(html.contains(">No data</text>"));
        let html = slope_chart(
            &text("s"),
            &SLOPE_LABELS,
            &[slope("1", "A", 1.0, f64::NAN)],
            &[],
        )
        .into_string();
        assert!(html.contains(">No data</text>"));
        let rows = [ComponentScore {
            label: "A",
            unit: f64::NAN,
            national: f64::INFINITY,
        }];
        let html = component_profile(&text("p"), &PROFILE_LABELS, &rows).into_string();
        assert!(html.contains(">No data</text>"));
    }

    #[test]
    fn bars_are_coloured_by_tier() {
        let html = bars(
            "b",
            &[
                bar("1", "First", 90.0, Some("A")),
                bar("2", "Second", 80.0, Some("B")),
                bar("3", "Fourth", 50.0, Some("D")),
                bar("4", "Untiered", 40.0, None),
                bar("5", "Unknown", 30.0, Some("Z")),
            ],
        );
        let fills: Vec<&str> = html
            .split("<g class=\"bar\"")
            .skip(1)
            .filter_map(|b| b.split("fill=\"").nth(2)?.split('"').next())
            .collect();
        assert_eq!(fills, ["#0072b2", "#009e73", "#d55e00", NEUTRAL, NEUTRAL]);
        assert!(html.contains("<td>Very good</td>"));
        assert!(html.contains("<td>No tier</td>"));
        assert!(
            html.contains("<td>Z</td>"),
            "an unknown tier code is shown as is"
        );
    }

    #[test]
    fn the_legend_lists_every_tier_then_untiered_and_uncertain_keys() {
        let mut uncertain = bar("1", "First", 90.0, None);
        uncertain.rank_uncertain = true;
        let html = bars("b", &[uncertain]);
        let legend = html
            .split("<g class=\"legend\">")
            .nth(1)
            .unwrap_or_default();
        let legend = legend
            .split("<g class=\"axis\">")
            .next()
            .unwrap_or_default();
        for label in [
            "Very good",
            "Good",
            "Average",
            "Poor",
            "No tier",
            "Rank uncertain",
        ] {
            assert!(legend.contains(&format!(">{label}</text>")), "{label}");
        }
        let html = bars("b", &[bar("1", "First", 90.0, Some("A"))]);
        assert!(!html.contains("No tier") && !html.contains("Rank uncertain"));
    }

    #[test]
    fn uncertain_ranks_get_an_asterisk_in_the_chart_and_the_table() {
        let mut row = bar("1", "First", 90.0, Some("A"));
        row.rank_uncertain = true;
        let html = bars("b", &[row, bar("2", "Second", 80.0, Some("A"))]);
        assert_eq!(count(&html, "<tspan font-weight=\"700\">*</tspan>"), 1);
        assert!(html.contains("<th scope=\"col\">Rank uncertain</th>"));
        assert_eq!(count(&html, "<td>*</td>"), 1);
        assert!(html.contains("<title>First: 90.0 (Very good) * Rank uncertain</title>"));
    }

    #[test]
    fn the_reference_line_is_drawn_labelled_and_listed_in_the_table_footer() {
        let rows = [bar("1", "First", 90.0, Some("A"))];
        let reference = ReferenceLine {
            value: 66.6,
            label: "National mean",
        };
        let html =
            tier_bar_chart(&text("b"), &BAR_LABELS, &TIERS, &rows, Some(&reference)).into_string();
        assert!(html.contains("<g class=\"ref\">"));
        assert!(html.contains(">National mean: 66.6</text>"));
        assert!(html.contains("<tfoot><tr><th scope=\"row\">National mean</th><td class=\"num\">66.6</td><td colspan=\"1\"></td></tr></tfoot>"), "{html}");
        let nan = ReferenceLine {
            value: f64::NAN,
            label: "National mean",
        };
        let html = tier_bar_chart(&text("b"), &BAR_LABELS, &TIERS, &rows, Some(&nan)).into_string();
        assert!(!html.contains("National mean"));
    }

    #[test]
    fn negative_values_extend_the_axis_and_bars_grow_left_from_zero() {
        let html = bars(
            "b",
            &[bar("1", "Minus", -20.0, None), bar("2", "Plus", 50.0, None)],
        );
        assert!(html.contains(">-20.0</text>"), "a tick at -20: {html}");
        let xs: Vec<f64> = html
            .split("<g class=\"bar\"")
            .skip(1)
            .filter_map(|b| {
                b.split("<rect x=\"")
                    .nth(1)?
                    .split('"')
                    .next()?
                    .parse()
                    .ok()
            })
            .collect();
        assert_eq!(xs.len(), 2);
        assert!(
            xs[0] < xs[1],
            "the negative bar starts left of zero: {xs:?}"
        );
    }

    #[test]
    fn long_names_are_truncated_in_the_svg_but_shown_in_full_in_tooltip_and_table() {
        let long = "Ủy ban nhân dân tỉnh Bà Rịa – Vũng Tàu, một tên rất dài để thử";
        let html = bars("b", &[bar("1", long, 70.0, None)]);
        let label = html
            .split("text-anchor=\"end\" fill=\"#1b1b1b\">")
            .nth(1)
            .unwrap_or_default();
        let label = label.split("</text>").next().unwrap_or_default();
        assert!(label.ends_with('…'), "{label}");
        assert!(label.chars().count() < long.chars().count());
        assert!(html.contains(&format!("<title>{long}: 70.0 (No tier)</title>")));
        assert!(html.contains(&format!("<td>{long}</td>")));
    }

    #[test]
    fn single_and_all_equal_values_render_without_nan_coordinates() {
        let single = bars("b", &[bar("1", "Only", 42.0, Some("A"))]);
        let equal = slope_chart(
            &text("s"),
            &SLOPE_LABELS,
            &[slope("1", "A", 5.0, 5.0), slope("2", "B", 5.0, 5.0)],
            &[],
        )
        .into_string();
        let strip = regional_distribution(
            &text("r"),
            &REGION_LABELS,
            &REGIONS,
            &[point("1", "A", "N", 60.0)],
            (60.0, 60.0),
        )
        .into_string();
        for html in [single, equal, strip] {
            assert!(!html.contains("NaN") && !html.contains("inf"), "{html}");
            assert!(html.contains("<details"));
        }
    }

    #[test]
    fn regions_get_one_dot_per_unit_a_mean_tick_and_a_range_line() {
        let points = [
            point("01", "Hà Nội", "N", 80.0),
            point("02", "Hải Phòng", "N", 70.0),
            point("03", "Lào Cai", "N", 60.0),
            point("79", "TP. HCM", "S", 75.0),
            point("99", "Elsewhere", "X", 75.0),
            point("98", "Broken", "S", f64::NAN),
        ];
        let html =
            regional_distribution(&text("r"), &REGION_LABELS, &REGIONS, &points, (0.0, 100.0))
                .into_string();
        assert_eq!(count(&html, "<g class=\"strip\""), 3);
        assert_eq!(count(&html, "<circle class=\"dot\""), 4);
        assert!(
            html.contains("<title>North: Mean 70.0; Min–max 60.0–80.0</title>"),
            "{html}"
        );
        assert!(html.contains(
            "<tr class=\"summary\"><td>North</td><td>Mean</td><td class=\"num\">70.0</td></tr>"
        ));
        assert!(html.contains("<title>Central: No data</title>"));
        assert!(html.contains("<td>Central</td><td colspan=\"2\">No data</td>"));
        assert!(!html.contains("Elsewhere") && !html.contains("Broken"));
    }

    #[test]
    fn the_region_axis_is_widened_to_include_values_outside_the_requested_range() {
        let points = [point("1", "A", "N", 95.0), point("2", "B", "S", 55.0)];
        let html =
            regional_distribution(&text("r"), &REGION_LABELS, &REGIONS, &points, (50.0, 60.0))
                .into_string();
        assert!(
            html.contains(">50.0</text>") && html.contains(">100.0</text>"),
            "{html}"
        );
        assert!(!html.contains(">0.0</text>"));
    }

    #[test]
    fn component_rows_have_a_unit_and_a_national_marker_joined_by_a_line() {
        let rows = [
            ComponentScore {
                label: "Institutions",
                unit: 70.0,
                national: 60.0,
            },
            ComponentScore {
                label: "Public services",
                unit: 55.0,
                national: f64::NAN,
            },
            ComponentScore {
                label: "Skipped",
                unit: f64::NAN,
                national: f64::NAN,
            },
        ];
        let html = component_profile(&text("p"), &PROFILE_LABELS, &rows).into_string();
        let svg = svg_part(&html);
        assert_eq!(count(svg, "<g class=\"profile\">"), 2);
        assert_eq!(
            count(svg, "<circle"),
            2 + 1,
            "two unit markers plus the legend"
        );
        assert_eq!(
            count(svg, "<polygon"),
            1 + 1,
            "one national marker plus the legend"
        );
        assert_eq!(
            count(svg, "stroke-width=\"2\"></line>"),
            1,
            "only complete rows are joined"
        );
        assert!(html.contains(
            "<td>Public services</td><td class=\"num\">55.0</td><td class=\"num\">—</td>"
        ));
        assert!(!html.contains("Skipped"));
        assert!(html.contains(">Province</text>") && html.contains(">National mean</text>"));
    }

    #[test]
    fn slope_directions_differ_by_dash_and_marker_shape_not_only_colour() {
        let rows = [
            slope("1", "Up", 60.0, 70.0),
            slope("2", "Down", 70.0, 60.0),
            slope("3", "Flat", 65.0, 65.02),
        ];
        let html = slope_chart(&text("s"), &SLOPE_LABELS, &rows, &[]).into_string();
        let unit = |code: &str| {
            let start = format!("data-unit=\"{code}\"");
            html.split(&start)
                .nth(1)
                .and_then(|s| s.split("</g>").next())
                .unwrap_or_default()
                .to_owned()
        };
        let (up, down, flat) = (unit("1"), unit("2"), unit("3"));
        assert!(!up.contains("stroke-dasharray"));
        assert!(down.contains("stroke-dasharray=\"6 3\""));
        assert!(flat.contains("stroke-dasharray=\"2 3\""));
        let shape = |g: &str| {
            g.split("<polygon points=\"")
                .nth(1)
                .unwrap_or_default()
                .to_owned()
        };
        assert_ne!(shape(&up), shape(&down));
        assert!(html.contains("<td>Up</td><td class=\"num\">60.0</td><td class=\"num\">70.0</td><td class=\"num\">+10.0</td><td>Up</td>"));
        assert!(html.contains("<td class=\"num\">-10.0</td><td>Down</td>"));
        assert!(
            html.contains("<td class=\"num\">0.0</td><td>No change</td>"),
            "{html}"
        );
        assert!(html.contains(">2023</text>") && html.contains(">2024</text>"));
    }

    #[test]
    fn highlighted_units_are_drawn_over_light_others() {
        let rows = [
            slope("1", "A", 60.0, 70.0),
            slope("2", "B", 70.0, 60.0),
            slope("3", "C", 50.0, 55.0),
        ];
        let html = slope_chart(&text("s"), &SLOPE_LABELS, &rows, &["2"]).into_string();
        assert_eq!(count(&html, "<g class=\"slope dim\""), 2);
        assert_eq!(count(&html, "<g class=\"slope\""), 1);
        let dim_at = html.rfind("class=\"slope dim\"").unwrap_or(usize::MAX);
        let bright_at = html.find("class=\"slope\"").unwrap_or(0);
        assert!(dim_at < bright_at, "dimmed units are painted first");
        let plain = slope_chart(&text("s"), &SLOPE_LABELS, &rows, &[]).into_string();
        assert_eq!(count(&plain, "slope dim"), 0);
    }

    #[test]
    fn slope_end_labels_are_spread_at_least_one_line_apart() {
        let ys = [100.0, 100.0, 101.0, 300.0, 99.0];
        let out = spread(&ys, 12.0, 50.0, 400.0);
        let mut sorted = out.clone();
        sorted.sort_by(f64::total_cmp);
        assert!(
            sorted.windows(2).all(|w| w[1] - w[0] >= 12.0 - 1e-9),
            "{out:?}"
        );
        assert!(out.iter().all(|y| (50.0..=400.0).contains(y)));
        assert_eq!(out[3], 300.0);
        let crowded = spread(&[400.0; 5], 12.0, 50.0, 400.0);
        assert_eq!(
            crowded.iter().copied().fold(f64::NEG_INFINITY, f64::max),
            400.0
        );
    }

    #[test]
    fn sixty_three_slopes_fit_without_overlapping_labels() {
        let names: Vec<String> = (0..63).map(|i| format!("Unit {i}")).collect();
        let rows: Vec<SlopeRow<'_>> = names.iter().map(|n| slope("u", n, 70.0, 71.0)).collect();
        let html = slope_chart(&text("s"), &SLOPE_LABELS, &rows, &[]).into_string();
        assert_eq!(count(&html, "<g class=\"slope\""), 63);
        let ys: Vec<f64> = numbers_of(svg_part(&html), "y")
            .iter()
            .filter_map(|y| y.parse().ok())
            .collect();
        assert!(ys.iter().all(|y| (0.0..2000.0).contains(y)));
    }

    #[test]
    fn stacked_percentages_sum_to_one_hundred() {
        let rows = [
            question("Q1", "First", &[1, 1, 1]),
            question("Q2", "Second", &[7, 13, 29, 3, 1]),
        ];
        let html = stacked(&rows);
        for tbody in html.split("<tbody>").skip(1) {
            let sum: f64 = cells(tbody, "num pct")
                .iter()
                .filter_map(|c| c.trim_end_matches('%').parse::<f64>().ok())
                .sum();
            assert!((sum - 100.0).abs() <= 0.3, "{sum}");
        }
        assert!(html.contains("<tr class=\"summary\"><td>Total</td><td class=\"num\">53</td><td class=\"num\">100.0%</td></tr>"));
    }

    #[test]
    fn stacked_segments_fill_the_whole_bar() {
        let html = stacked(&[
            question("Q1", "First", &[1, 1, 1]),
            question("Q2", "Second", &[7, 13, 0, 3, 1]),
        ]);
        for stack in svg_part(&html).split("<g class=\"stack\"").skip(1) {
            let widths: f64 = stack
                .split("<g class=\"seg\">")
                .skip(1)
                .filter_map(|seg| {
                    seg.split("width=\"")
                        .nth(1)?
                        .split('"')
                        .next()?
                        .parse::<f64>()
                        .ok()
                })
                .sum();
            let plot = W - STACK_LAYOUT.label_w - STACK_LAYOUT.right_w;
            assert!((widths - plot).abs() <= 0.3, "{widths}");
        }
        assert_eq!(
            count(&html, "<g class=\"seg\">"),
            3 + 4,
            "zero counts draw no segment"
        );
    }

    #[test]
    fn stacked_rows_with_zero_total_show_no_data() {
        let html = stacked(&[
            question("Q1", "Empty", &[0, 0, 0]),
            question("Q2", "Full", &[1, 2]),
        ]);
        assert_eq!(count(&html, "<g class=\"stack\""), 2);
        assert!(html.contains("<g class=\"no-data\">"));
        assert!(html.contains(
            "<tr><th scope=\"rowgroup\">Q1 Empty</th><td colspan=\"3\">No data</td></tr>"
        ));
        assert!(html.contains("<th scope=\"rowgroup\" rowspan=\"3\">Q2 Full</th>"));
    }

    #[test]
    fn the_stacked_legend_comes_from_the_first_row_or_the_caller() {
        let rows = [question("Q1", "First", &[1, 2, 3])];
        let html = stacked(&rows);
        assert!(html.contains(">Very bad</text>") && html.contains(">Neutral</text>"));
        let custom = ["Disagree", "Unsure", "Agree"];
        let labels = StackedLabels {
            legend: Some(&custom),
            ..STACK_LABELS
        };
        let html =
            stacked_distribution(&text("s"), &labels, &rows, Scheme::Diverging).into_string();
        assert!(html.contains(">Disagree</text>") && !html.contains(">Very bad</text>"));
    }

    #[test]
    fn palettes_run_from_end_to_end_and_pick_readable_text() {
        assert_eq!(palette(Scheme::Sequential, 0, 4).hex(), "#c6dbef");
        assert_eq!(palette(Scheme::Sequential, 3, 4).hex(), "#08306b");
        assert_eq!(palette(Scheme::Diverging, 2, 5).hex(), "#f7f7f7");
        assert_eq!(palette(Scheme::Diverging, 0, 1).hex(), "#f7f7f7");
        assert_eq!(palette(Scheme::Sequential, 0, 4).ink(), INK);
        assert_eq!(palette(Scheme::Sequential, 3, 4).ink(), WHITE);
        assert_eq!(
            tier_colour(Some(9)),
            "#009e73",
            "tiers beyond the palette wrap around"
        );
    }

    #[test]
    fn nice_ticks_fall_on_round_steps() {
        assert_eq!(
            nice_ticks(0.0, 100.0, 5),
            [0.0, 20.0, 40.0, 60.0, 80.0, 100.0]
        );
        assert_eq!(nice_ticks(0.0, 1.0, 5), [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]);
        assert_eq!(nice_ticks(-25.0, 25.0, 5), [-20.0, -10.0, 0.0, 10.0, 20.0]);
        assert_eq!(nice_ticks(3.0, 3.0, 5), [3.0]);
        assert!(nice_ticks(f64::NAN, 1.0, 5).is_empty());
        assert!(nice_ticks(2.0, 1.0, 5).is_empty());
        assert!(nice_ticks(0.0, f64::MAX, 5).len() <= 15);
        assert!(nice_ticks(0.0, 1.0, 0).len() <= 3);
    }

    #[test]
    fn domains_include_all_values_and_never_collapse() {
        assert_eq!(fit_domain((0.0, 100.0), [50.0]), (0.0, 100.0));
        assert_eq!(fit_domain((0.0, 100.0), [-13.0, f64::NAN]), (-25.0, 100.0));
        assert_eq!(fit_domain((f64::NAN, f64::NAN), [5.0, 5.0]), (4.0, 6.0));
        assert_eq!(fit_domain((f64::NAN, f64::NAN), []), (0.0, 100.0));
        assert_eq!(
            fit_domain((90.0, 10.0), [50.0]),
            fit_domain((10.0, 90.0), [50.0])
        );
        assert_eq!(fit_domain((60.0, 80.0), [65.0]), (60.0, 80.0));
    }

    #[test]
    fn coordinates_print_with_one_decimal_and_no_negative_zero() {
        assert_eq!(N(-0.0).to_string(), "0");
        assert_eq!(N(-0.01).to_string(), "0");
        assert_eq!(N(12.0).to_string(), "12");
        assert_eq!(N(12.345).to_string(), "12.3");
        assert_eq!(N(f64::NAN).to_string(), "0");
    }
}
