//! One strip per region: a dot per unit, the min–max line and the region mean.

use maud::{Markup, html};

use super::{
    BLUE, ChartText, Key, MUTED, N, RowLayout, RowSpec, Rows, Shape, VERMILLION, WHITE, data_table,
    fit_domain, marker, no_data, num_td, row_figure, text_at,
};

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

const STRIP_LAYOUT: RowLayout = RowLayout {
    row_h: 30.0,
    label_w: 130.0,
    right_w: 24.0,
    extra_top: 0.0,
};

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
    let names: Vec<&str> = groups.iter().map(|g| g.label).collect();
    let spec = RowSpec::new(&keys, &names, STRIP_LAYOUT, fit_domain(axis, values), fmt);
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
