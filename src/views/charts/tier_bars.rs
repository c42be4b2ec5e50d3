//! Horizontal bars of every unit, coloured by tier, with an optional reference line.

use maud::{Markup, html};

use super::{
    BLUE, ChartText, FS, INK, Key, MUTED, N, NEUTRAL, RowLayout, RowSpec, Rows, VERMILLION, W,
    WHITE, block, data_table, fit_domain, no_data, num_td, row_figure, text_at,
};

/// One unit (province) in [`tier_bar_chart`].
#[derive(Clone, Copy, Debug)]
pub struct TierBar<'a> {
    /// Unit code, written to the bar's `data-unit` attribute.
    pub unit_code: &'a str,
    /// Display name; wrapped in the SVG (shortened only past three lines), in full in the
    /// tooltip and the table.
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

/// Okabe–Ito colours, darkest-contrast first; yellow and black last.
const TIER_PALETTE: [&str; 8] = [
    BLUE, "#009e73", "#e69f00", VERMILLION, "#cc79a7", "#56b4e9", "#f0e442", "#000000",
];

const BAR_LAYOUT: RowLayout = RowLayout {
    row_h: 14.0,
    label_w: 160.0,
    right_w: 56.0,
    extra_top: 0.0,
};

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
    let names: Vec<&str> = rows.iter().map(|r| r.name).collect();
    let spec = RowSpec::new(&keys, &names, layout, domain, fmt);
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

pub(super) fn tier_colour(position: Option<usize>) -> &'static str {
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
