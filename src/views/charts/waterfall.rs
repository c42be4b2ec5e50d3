//! A waterfall from the index maximum down to a unit's points: one step per component, each
//! the points lost there, split into survey and appraised points, then the unit's points.
//!
//! The value axis starts at a round value at or below the unit's points rather than at zero:
//! the steps are a few points each out of a hundred and would otherwise be slivers. The two
//! total bars start at the axis's left edge, the ticks say where that is, and the data table
//! holds every figure.

use maud::{Markup, html};

use super::{
    BLUE, ChartText, FS, GRID, INK, Key, N, NEUTRAL, RowLayout, RowSpec, Rows, VERMILLION, W,
    WHITE, block, data_table, fit_domain, no_data, num_td, row_figure,
};

/// One component's step of [`waterfall_chart`]: the points it lost.
#[derive(Clone, Copy, Debug)]
pub struct WaterfallStep<'a> {
    /// Component name, wrapped in the SVG and in full in the table.
    pub name: &'a str,
    /// Survey points lost (maximum − points); negative or non-finite values count as 0.
    pub survey: f64,
    /// Appraised points lost; 0 when the round has no appraised points.
    pub appraised: f64,
}

/// Row names, column headers and legend labels of [`waterfall_chart`].
#[derive(Clone, Copy, Debug)]
pub struct WaterfallLabels<'a> {
    /// Header of the row-name column.
    pub row: &'a str,
    /// Name of the first row: the index maximum.
    pub maximum: &'a str,
    /// Name of the last row: the unit's points.
    pub points: &'a str,
    /// Legend and column text of survey points lost.
    pub survey: &'a str,
    /// Legend and column text of appraised points lost.
    pub appraised: &'a str,
    /// Header of the points-lost column.
    pub lost: &'a str,
    /// Header of the column of points left after each row.
    pub remaining: &'a str,
}

/// Where one step runs on the value axis: from `start` down to `after_survey` (survey points
/// lost), then to `end` (appraised points lost).
#[derive(Clone, Copy, Debug, PartialEq)]
struct Span {
    start: f64,
    after_survey: f64,
    end: f64,
}

/// A lost amount as the chart counts it: never negative, 0 when not finite.
fn lost(v: f64) -> f64 {
    if v.is_finite() { v.max(0.0) } else { 0.0 }
}

/// The running points of each step, starting from `maximum`.
fn spans(maximum: f64, steps: &[WaterfallStep<'_>]) -> Vec<Span> {
    let mut at = maximum;
    steps
        .iter()
        .map(|s| {
            let start = at;
            let after_survey = start - lost(s.survey);
            at = after_survey - lost(s.appraised);
            Span {
                start,
                after_survey,
                end: at,
            }
        })
        .collect()
}

const LAYOUT: RowLayout = RowLayout {
    row_h: 18.0,
    label_w: 180.0,
    right_w: 64.0,
    extra_top: 0.0,
};

/// Waterfall of `steps` (in the order given) from `maximum` down to what is left, the unit's
/// points. A figure with the no-data message when `maximum` is not finite or there is no step.
pub fn waterfall_chart(
    text: &ChartText<'_>,
    labels: &WaterfallLabels<'_>,
    maximum: f64,
    steps: &[WaterfallStep<'_>],
) -> Markup {
    if !maximum.is_finite() || steps.is_empty() {
        return no_data(text);
    }
    let fmt = text.fmt;
    let spans = spans(maximum, steps);
    let points = spans.last().map_or(maximum, |s| s.end);
    let any_appraised = steps.iter().any(|s| lost(s.appraised) > 0.0);
    let mut keys = vec![(Key::Block(NEUTRAL), labels.points)];
    keys.push((Key::Block(BLUE), labels.survey));
    if any_appraised {
        keys.push((Key::Block(VERMILLION), labels.appraised));
    }
    // Room below the unit's points, half what it lost, so its own bar is never a sliver.
    let floor = (points - (maximum - points).max(0.0) / 2.0).max(points.min(0.0));
    let domain = fit_domain((floor.min(maximum), maximum), []);
    let mut names: Vec<&str> = vec![labels.maximum];
    names.extend(steps.iter().map(|s| s.name));
    names.push(labels.points);
    let spec = RowSpec::new(&keys, &names, LAYOUT, domain, fmt);
    let value_at = |lay: &Rows, i: usize, x: f64, v: String| {
        html! {
            text x=(N((lay.x.at(x) + 4.0).min(W - 4.0))) y=(N(lay.mid(i))) dy="0.35em"
                font-size=(N(FS)) fill=(INK) stroke=(WHITE) stroke-width="3"
                stroke-linejoin="round" paint-order="stroke" { (v) }
        }
    };
    let total_bar = |lay: &Rows, i: usize, name: &str, v: f64| {
        let x0 = lay.x.at(domain.0);
        html! {
            g.total {
                title { (name) ": " (fmt(v)) }
                (lay.name(i, name))
                (block(x0, lay.mid(i) - 6.0, lay.x.at(v) - x0, 12.0, NEUTRAL))
            }
        }
    };
    let last = steps.len() + 1;
    let draw = |lay: &Rows| {
        html! {
            (total_bar(lay, 0, labels.maximum, maximum))
            @for (k, (s, span)) in steps.iter().zip(&spans).enumerate() {
                @let i = k + 1;
                g.step {
                    title { (s.name) ": −" (fmt(span.start - span.end)) }
                    (lay.name(i, s.name))
                    (block(lay.x.at(span.after_survey), lay.mid(i) - 6.0,
                        lay.x.at(span.start) - lay.x.at(span.after_survey), 12.0, BLUE))
                    @if span.end < span.after_survey {
                        (block(lay.x.at(span.end), lay.mid(i) - 6.0,
                            lay.x.at(span.after_survey) - lay.x.at(span.end), 12.0, VERMILLION))
                    }
                }
            }
            (total_bar(lay, last, labels.points, points))
            // Connectors carry each row's running points down to the next row.
            g.connectors {
                @for (i, at) in std::iter::once(maximum).chain(spans.iter().map(|s| s.end)).enumerate() {
                    line x1=(N(lay.x.at(at))) x2=(N(lay.x.at(at)))
                        y1=(N(lay.mid(i) + 6.0)) y2=(N(lay.mid(i + 1) - 6.0))
                        stroke=(GRID) stroke-width="1" stroke-dasharray="2 2" {}
                }
            }
            g.values {
                (value_at(lay, 0, maximum, fmt(maximum)))
                @for (k, span) in spans.iter().enumerate() {
                    (value_at(lay, k + 1, span.start, format!("−{}", fmt(span.start - span.end))))
                }
                (value_at(lay, last, points, fmt(points)))
            }
        }
    };
    let mut cols = vec![(labels.row, false), (labels.survey, true)];
    if any_appraised {
        cols.push((labels.appraised, true));
    }
    cols.extend([(labels.lost, true), (labels.remaining, true)]);
    let survey_lost: f64 = spans.iter().map(|s| s.start - s.after_survey).sum();
    let appraised_lost: f64 = spans.iter().map(|s| s.after_survey - s.end).sum();
    let blank = html! { td.num { "—" } };
    let body = html! {
        tbody {
            tr {
                td { (labels.maximum) } (blank) @if any_appraised { (blank) } (blank)
                (num_td(maximum, fmt))
            }
            @for (s, span) in steps.iter().zip(&spans) {
                tr {
                    td { (s.name) }
                    (num_td(span.start - span.after_survey, fmt))
                    @if any_appraised { (num_td(span.after_survey - span.end, fmt)) }
                    (num_td(span.start - span.end, fmt))
                    (num_td(span.end, fmt))
                }
            }
            tr {
                td { (labels.points) }
                (num_td(survey_lost, fmt))
                @if any_appraised { (num_td(appraised_lost, fmt)) }
                (num_td(maximum - points, fmt))
                (num_td(points, fmt))
            }
        }
    };
    row_figure(text, &spec, draw, data_table(text.title, &cols, body))
}

#[cfg(test)]
mod tests {
    use super::super::tests::{WATERFALL_LABELS as LABELS, cells, count, svg_part, text};
    use super::*;

    fn step(name: &str, survey: f64, appraised: f64) -> WaterfallStep<'_> {
        WaterfallStep {
            name,
            survey,
            appraised,
        }
    }

    #[test]
    fn each_step_starts_where_the_one_before_ended() {
        let steps = [
            step("C1", 3.0, 2.0),
            step("C2", 1.5, 0.0),
            step("C3", 0.0, 0.5),
        ];
        let spans = spans(100.0, &steps);
        let expected = [(100.0, 97.0, 95.0), (95.0, 93.5, 93.5), (93.5, 93.5, 93.0)];
        for (span, (start, after_survey, end)) in spans.iter().zip(expected) {
            assert_eq!(
                *span,
                Span {
                    start,
                    after_survey,
                    end
                }
            );
        }
    }

    #[test]
    fn negative_or_missing_losses_count_as_nothing() {
        let steps = [step("C1", -2.0, f64::NAN), step("C2", 1.0, f64::INFINITY)];
        let spans = spans(10.0, &steps);
        assert_eq!(spans[0].end, 10.0);
        assert_eq!(spans[1].end, 9.0);
    }

    #[test]
    fn the_table_lists_the_maximum_each_component_s_loss_and_the_points_left() {
        // 22 points, losing 1.2 + 0.6 in C1 and 0.2 in C2: 20 left.
        let steps = [step("C1", 1.2, 0.6), step("C2", 0.2, 0.0)];
        let html = waterfall_chart(&text("wf"), &LABELS, 22.0, &steps).into_string();
        let table = &html[html.find("<tbody>").unwrap()..];
        // Columns: survey, appraised, lost, left.
        assert_eq!(
            cells(table, "num"),
            vec![
                "—", "—", "—", "22.0", // maximum
                "1.2", "0.6", "1.8", "20.2", // C1
                "0.2", "0.0", "0.2", "20.0", // C2
                "1.4", "0.6", "2.0", "20.0", // the unit: all that was lost, and its points
            ]
        );
        assert!(html.contains("<td>Maximum</td>") && html.contains("<td>Unit's points</td>"));
        assert!(html.contains("−1.8") && html.contains("−0.2"));
    }

    #[test]
    fn bars_are_drawn_between_the_running_points_on_the_axis() {
        // 100 points, losing 4 + 2 in C1 and 2 in C2: 92 left.
        let steps = [step("C1", 4.0, 2.0), step("C2", 2.0, 0.0)];
        let html = waterfall_chart(&text("wf"), &LABELS, 100.0, &steps).into_string();
        let svg = svg_part(&html);
        assert_eq!(count(svg, "<g class=\"step\">"), 2);
        assert_eq!(count(svg, "<g class=\"total\">"), 2);
        // Survey and appraised parts of C1, then C2's survey part: one block each, plus the
        // legend's swatches.
        assert_eq!(count(svg, &format!("fill=\"{BLUE}\"")), 3);
        assert_eq!(count(svg, &format!("fill=\"{VERMILLION}\"")), 2);
        let rects: Vec<(f64, f64)> = svg
            .split("<rect ")
            .skip(1)
            .filter_map(|r| {
                // The rect's own attributes only: `x="…" y="…" width="…" …`.
                let tag = r.split('>').next()?;
                let attr = |name: &str| -> Option<f64> {
                    let at = format!("{name}=\"");
                    let rest = tag.split(' ').find_map(|a| a.strip_prefix(at.as_str()))?;
                    rest.split('"').next()?.parse().ok()
                };
                Some((attr("x")?, attr("width")?))
            })
            .collect();
        // Legend swatches (3), the maximum's bar, C1 survey, C1 appraised, C2 survey, the
        // unit's bar.
        assert_eq!(rects.len(), 3 + 5);
        let [maximum, c1_survey, c1_appraised, c2, unit] =
            [rects[3], rects[4], rects[5], rects[6], rects[7]];
        // Both totals start at the axis's left edge; 8 points separate their right ends.
        assert!((maximum.0 - unit.0).abs() < 0.01, "{rects:?}");
        let per_point = (maximum.1 - unit.1) / 8.0;
        assert!(per_point > 0.0);
        for (bar, points) in [(c1_survey, 4.0), (c1_appraised, 2.0), (c2, 2.0)] {
            assert!(
                (bar.1 - points * per_point).abs() < 0.2,
                "{bar:?} vs {points} points"
            );
        }
        // Each step ends at the right where the row above ended.
        let right = |r: (f64, f64)| r.0 + r.1;
        assert!((right(c1_survey) - right(maximum)).abs() < 0.2);
        assert!((right(c1_appraised) - c1_survey.0).abs() < 0.2);
        assert!((right(c2) - c1_appraised.0).abs() < 0.2);
        assert!((right(unit) - c2.0).abs() < 0.2);
        // Three connectors, one below each row but the last.
        assert_eq!(count(svg, "stroke-dasharray=\"2 2\""), 3);
    }

    #[test]
    fn a_round_without_appraised_points_has_no_appraised_column_or_legend() {
        let steps = [step("C1", 1.0, 0.0)];
        let html = waterfall_chart(&text("wf"), &LABELS, 10.0, &steps).into_string();
        assert!(!html.contains("Appraised"));
        assert_eq!(count(svg_part(&html), &format!("fill=\"{VERMILLION}\"")), 0);
    }

    #[test]
    fn no_step_or_no_maximum_shows_the_no_data_message() {
        let steps = [step("C1", 1.0, 0.0)];
        for html in [
            waterfall_chart(&text("wf"), &LABELS, 10.0, &[]),
            waterfall_chart(&text("wf"), &LABELS, f64::NAN, &steps),
        ] {
            assert!(html.into_string().contains("class=\"no-data\""));
        }
    }
}
