//! One unit's component scores against the national mean, as a dot plot.

use maud::{Markup, html};

use super::{
    BLUE, ChartText, Key, MUTED, N, RowLayout, RowSpec, Rows, Shape, VERMILLION, WHITE, data_table,
    finite, fit_domain, marker, no_data, num_td, opt_fmt, row_figure, text_at,
};

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

const PROFILE_LAYOUT: RowLayout = RowLayout {
    row_h: 24.0,
    label_w: 180.0,
    right_w: 52.0,
    extra_top: 0.0,
};

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
    let names: Vec<&str> = rows.iter().map(|r| r.label).collect();
    let spec = RowSpec::new(&keys, &names, PROFILE_LAYOUT, domain, fmt);
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
