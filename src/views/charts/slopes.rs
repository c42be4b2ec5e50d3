//! Year-over-year slopes: per unit a line from the earlier value to the current one.

use maud::{Markup, html};

use super::{
    BLUE, ChartText, FS, Key, MUTED, N, PAD, Scale, Shape, VERMILLION, clip, data_table,
    fit_domain, frame, legend, marker, no_data, num_td, text_at, text_width,
};

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

/// `fmt(v)` with a leading `+` for increases.
fn signed(v: f64, fmt: &dyn Fn(f64) -> String) -> String {
    if v > 0.0 {
        format!("+{}", fmt(v))
    } else {
        fmt(v)
    }
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
pub(super) fn spread(ys: &[f64], gap: f64, lo: f64, hi: f64) -> Vec<f64> {
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
