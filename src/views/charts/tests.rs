//! Tests of every chart: accessibility, escaping, CSP safety, geometry and the data tables.

use super::slopes::spread;
use super::stacked::{STACK_LAYOUT, palette};
use super::tier_bars::tier_colour;
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
const GAP_LABELS: GapBarLabels<'static> = GapBarLabels {
    row: "Component",
    part: "Source of points",
    gap: "Gap to national best",
    survey: "Survey",
    appraised: "Appraised",
};
/// Shared with the waterfall's own tests.
pub(super) const WATERFALL_LABELS: WaterfallLabels<'static> = WaterfallLabels {
    row: "Component",
    maximum: "Maximum",
    points: "Unit's points",
    survey: "Survey",
    appraised: "Appraised",
    lost: "Points lost",
    remaining: "Points left",
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

pub(super) fn text(id: &str) -> ChartText<'_> {
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

/// Every chart, each with `name` as one of its unit, region, component or question names.
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
        regional_distribution(&t, &REGION_LABELS, &regions, &points, (0.0, 100.0)).into_string(),
        component_profile(&t, &PROFILE_LABELS, &components).into_string(),
        slope_chart(&t, &SLOPE_LABELS, &slopes, &[]).into_string(),
        stacked_distribution(&t, &STACK_LABELS, &questions, Scheme::Sequential).into_string(),
        gap_bar_chart(
            &t,
            &GAP_LABELS,
            &[
                GapBar {
                    name,
                    appraised: true,
                    gap: 4.5,
                },
                GapBar {
                    name: "Institutions",
                    appraised: false,
                    gap: 1.25,
                },
            ],
        )
        .into_string(),
        waterfall_chart(
            &t,
            &WATERFALL_LABELS,
            100.0,
            &[
                WaterfallStep {
                    name,
                    survey: 2.5,
                    appraised: 1.0,
                },
                WaterfallStep {
                    name: "Institutions",
                    survey: 0.5,
                    appraised: 0.0,
                },
            ],
        )
        .into_string(),
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
        gap_bar_chart(&t, &GAP_LABELS, &[]).into_string(),
        waterfall_chart(&t, &WATERFALL_LABELS, 100.0, &[]).into_string(),
    ]
}

pub(super) fn count(haystack: &str, needle: &str) -> usize {
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
pub(super) fn cells(html: &str, class: &str) -> Vec<String> {
    let open = format!("<td class=\"{class}\">");
    html.split(&open)
        .skip(1)
        .filter_map(|s| s.split("</td>").next())
        .map(str::to_owned)
        .collect()
}

pub(super) fn svg_part(html: &str) -> &str {
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
    assert!(html.contains("aria-labelledby=\"ch--s---onload--x-title ch--s---onload--x-desc\""));
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
        "x", "y", "x1", "x2", "y1", "y2", "cx", "cy", "r", "width", "height", "points", "viewBox",
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
            html.contains("<title id=\"empty-title\">Chart title</title><desc id=\"empty-desc\">")
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

/// The lines of every wrapped label (`<tspan>` texts), one list per `<text>`.
fn wrapped_labels(html: &str) -> Vec<Vec<String>> {
    svg_part(html)
        .split("<text ")
        .filter(|t| t.contains("<tspan "))
        .map(|t| {
            t.split("</text>")
                .next()
                .unwrap_or_default()
                .split("<tspan ")
                .skip(1)
                .filter_map(|l| l.split_once('>')?.1.split("</tspan>").next())
                .map(str::to_owned)
                .collect()
        })
        .collect()
}

/// The `x` of the `<text>` element whose whole content is `content`.
fn text_x(html: &str, content: &str) -> Option<f64> {
    let end = html.find(&format!(">{content}</text>"))?;
    let open = html[..end].rfind("<text ")?;
    html[open..end]
        .split("x=\"")
        .nth(1)?
        .split('"')
        .next()?
        .parse()
        .ok()
}

#[test]
fn long_region_names_are_wrapped_not_cut() {
    let long = "Bắc Trung Bộ và Duyên hải miền Trung";
    let longer =
        "Vùng Bắc Trung Bộ và Duyên hải miền Trung cùng các tỉnh Tây Nguyên giáp biên giới";
    let regions = [("N", "Đồng bằng sông Hồng"), ("C", long), ("X", longer)];
    let points = [
        point("01", "Hà Nội", "N", 70.0),
        point("46", "Huế", "C", 80.0),
        point("66", "Đắk Lắk", "X", 60.0),
    ];
    let html = regional_distribution(&text("r"), &REGION_LABELS, &regions, &points, (0.0, 100.0))
        .into_string();
    assert!(!svg_part(&html).contains('…'), "{html}");
    // The label column grows to fit the long name on one line, from the chart's left edge.
    let x = text_x(&html, long).expect("the whole region name on one line");
    assert!(x - text_width(long, FS) >= PAD - 0.5, "{x}");
    // A name too long even for the widest column wraps at spaces, every word kept.
    let wrapped = wrapped_labels(&html);
    assert_eq!(wrapped.len(), 1, "{html}");
    assert!((2..=3).contains(&wrapped[0].len()), "{wrapped:?}");
    assert_eq!(wrapped[0].join(" "), longer);
    assert!(
        wrapped[0]
            .iter()
            .all(|l| text_width(l, FS) <= LABEL_MAX_W - LABEL_GAP)
    );
    assert!(
        !html.contains(&format!("<title>{longer}</title>")),
        "not cut, so no extra title"
    );
    assert!(html.contains(&format!("<td>{longer}</td>")));
}

#[test]
fn rows_grow_to_fit_a_wrapped_label() {
    let long = "Ủy ban nhân dân tỉnh Bà Rịa – Vũng Tàu, một tên rất dài để thử";
    let height = |html: &str| -> f64 {
        let view = html.split("viewBox=\"0 0 640 ").nth(1).unwrap_or_default();
        view.split('"')
            .next()
            .unwrap_or_default()
            .parse()
            .unwrap_or(0.0)
    };
    let rows = |name| [bar("1", name, 70.0, None), bar("2", "Huế", 60.0, None)];
    let short = bars("b", &rows("Hà Nội"));
    let wrapped = bars("b", &rows(long));
    let lines = wrapped_labels(&wrapped);
    assert_eq!(lines.len(), 1, "{wrapped}");
    assert_eq!(lines[0].len(), 2, "{lines:?}");
    assert_eq!(lines[0].join(" "), long);
    let grown = 2.0 * (2.0 * LABEL_LINE_H + 4.0 - 14.0);
    assert!(
        (height(&wrapped) - height(&short) - grown).abs() < 0.01,
        "{wrapped}"
    );
    assert!(!svg_part(&wrapped).contains('…'));
    assert!(wrapped.contains(&format!("<title>{long}: 70.0 (No tier)</title>")));
}

#[test]
fn labels_longer_than_three_lines_are_shortened_with_the_full_text_in_a_title() {
    let long = format!("{HOSTILE} {}", "Câu hỏi về thủ tục hành chính ".repeat(8));
    let html = stacked(&[question("Q1", &long, &[1, 2, 3])]);
    let wrapped = wrapped_labels(&html);
    assert_eq!(wrapped.len(), 1, "{html}");
    assert_eq!(wrapped[0].len(), LABEL_LINES);
    assert!(
        wrapped[0].last().is_some_and(|l| l.ends_with('…')),
        "{wrapped:?}"
    );
    let full = format!("Q1 {}", long.trim())
        .replace('<', "&lt;")
        .replace('>', "&gt;");
    let full = full.replace('"', "&quot;");
    assert!(svg_part(&html).contains(&format!(
        "text-anchor=\"end\" fill=\"#1b1b1b\"><title>{full}</title><tspan "
    )));
    assert!(!html.contains("<script") && !html.contains("<img"));
}

#[test]
fn wrapping_breaks_at_spaces_and_splits_only_words_wider_than_a_line() {
    let per_line = 10.0 * FS * CHAR_EM;
    assert_eq!(
        wrap("Hà Nội", per_line, FS, 3),
        (vec!["Hà Nội".to_owned()], false)
    );
    assert_eq!(
        wrap("Quảng Ninh  và Hải Phòng", per_line, FS, 3),
        (
            vec![
                "Quảng Ninh".to_owned(),
                "và Hải".to_owned(),
                "Phòng".to_owned()
            ],
            false
        )
    );
    assert_eq!(
        wrap("abcdefghijklmnopqrstuvwxyz", per_line, FS, 3),
        (
            vec![
                "abcdefghij".to_owned(),
                "klmnopqrst".to_owned(),
                "uvwxyz".to_owned()
            ],
            false
        )
    );
    let (lines, cut) = wrap(
        "a b c d e f g h i j k l m n o p q r s t u v w x y z",
        per_line,
        FS,
        2,
    );
    assert!(cut);
    assert_eq!(lines, ["a b c d e", "f g h i j…"]);
    assert_eq!(wrap("", per_line, FS, 3), (vec![String::new()], false));
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
    let html = regional_distribution(&text("r"), &REGION_LABELS, &REGIONS, &points, (0.0, 100.0))
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
    let html = regional_distribution(&text("r"), &REGION_LABELS, &REGIONS, &points, (50.0, 60.0))
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
    assert!(
        html.contains(
            "<td>Public services</td><td class=\"num\">55.0</td><td class=\"num\">—</td>"
        )
    );
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
    assert!(
        html.contains(
            "<tr><th scope=\"rowgroup\">Q1 Empty</th><td colspan=\"3\">No data</td></tr>"
        )
    );
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
    let html = stacked_distribution(&text("s"), &labels, &rows, Scheme::Diverging).into_string();
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

#[test]
fn gap_bars_colour_survey_and_appraised_points_apart_and_list_each_gap_in_the_table() {
    let rows = [
        GapBar {
            name: "C3",
            appraised: true,
            gap: 4.5,
        },
        GapBar {
            name: "C3",
            appraised: false,
            gap: 1.5,
        },
        GapBar {
            name: "C5",
            appraised: false,
            gap: f64::NAN,
        },
    ];
    let html = gap_bar_chart(&text("gaps"), &GAP_LABELS, &rows).into_string();
    // Two bars (the gap without a value is skipped), one per part colour, plus the legend.
    assert_eq!(count(svg_part(&html), "<g class=\"bar\">"), 2);
    assert_eq!(count(svg_part(&html), &format!("fill=\"{VERMILLION}\"")), 2);
    assert_eq!(count(svg_part(&html), &format!("fill=\"{BLUE}\"")), 2);
    assert_eq!(cells(&html, "num"), vec!["4.5", "1.5"]);
    assert!(html.contains("<td>Appraised</td>") && html.contains("<td>Survey</td>"));
}
