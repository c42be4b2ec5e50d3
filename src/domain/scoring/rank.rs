//! Tiers and ranks: comparison keys, tier bands, competition or dense ranking per region.

use std::collections::{BTreeMap, BTreeSet};

use crate::domain::methodology::{CompareOn, Methodology, RankingSettings, TieRule, TierBand};
use crate::domain::number::{NOISE_DECIMALS, decimal_key};

use super::*;

// ---------------------------------------------------------------------------------------------
// Tiers and ranks
// ---------------------------------------------------------------------------------------------

/// The tier band a percentage falls in, judged as the methodology's `tiers.compare` says.
/// With the default `full_precision`, 89.995 is tier B although it displays as "90.00"; with
/// `display_rounded` it is tier A. `None` below the lowest band or for non-finite values.
pub(super) fn tier_for(m: &Methodology, percent: f64) -> Option<&TierBand> {
    let key = |x: f64| compare_key(m.tiers.compare, m.display.decimals, x);
    let p = key(percent)?;
    m.tiers.bands.iter().find(|b| {
        let above_min = key(b.min).is_some_and(|min| p >= min);
        let below_max = b
            .below
            .is_none_or(|below| key(below).is_some_and(|bk| p < bk));
        above_min && below_max
    })
}

/// The comparison key of a value under a [`CompareOn`] setting.
fn compare_key(compare: CompareOn, display_decimals: u32, x: f64) -> Option<i128> {
    match compare {
        CompareOn::FullPrecision => decimal_key(x, NOISE_DECIMALS),
        CompareOn::DisplayRounded => decimal_key(x, display_decimals),
    }
}

/// A value to rank: one unit (e.g. a province) in a region.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RankInput {
    /// Unit code.
    pub unit: String,
    /// Region code (e.g. one of the six socio-economic regions).
    pub region: String,
    /// The value, higher is better.
    pub value: f64,
}

/// A rank "x of N".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Position {
    /// Rank, 1 = best.
    pub rank: u32,
    /// Number of ranked units in scope.
    pub of: u32,
}

/// A ranked unit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ranked {
    /// Unit code.
    pub unit: String,
    /// Region code.
    pub region: String,
    /// The ranked value.
    pub value: f64,
    /// National rank; `None` for non-finite values.
    pub national: Option<Position>,
    /// Rank within the region; `None` for non-finite values.
    pub regional: Option<Position>,
    /// Tier, when ranking full-index totals.
    pub tier: Option<String>,
}

fn count_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// Ranks `keys` (descending, `None` unranked) under a tie rule; returns one position per key.
fn positions(keys: &[Option<i128>], ties: TieRule) -> Vec<Option<Position>> {
    let mut ranked: Vec<i128> = keys.iter().flatten().copied().collect();
    ranked.sort_unstable();
    let of = count_u32(ranked.len());
    let mut distinct = ranked.clone();
    distinct.dedup();
    keys.iter()
        .map(|k| {
            let k = (*k)?;
            // Units strictly ahead (competition) or distinct better values (dense); both
            // by binary search in the sorted keys, so ranking many units stays O(n log n).
            let ahead = match ties {
                TieRule::Competition => ranked.len() - ranked.partition_point(|&o| o <= k),
                TieRule::Dense => distinct.len() - distinct.partition_point(|&o| o <= k),
            };
            Some(Position {
                rank: count_u32(ahead).saturating_add(1),
                of,
            })
        })
        .collect()
}

/// Ranks units nationally and within their region (higher value = better). Output is sorted
/// by national rank, then unit code; unrankable (non-finite) values come last.
pub fn rank(
    settings: &RankingSettings,
    display_decimals: u32,
    inputs: &[RankInput],
) -> Vec<Ranked> {
    let keys: Vec<Option<i128>> = inputs
        .iter()
        .map(|i| compare_key(settings.compare, display_decimals, i.value))
        .collect();
    let national = positions(&keys, settings.ties);
    let mut regional = vec![None; inputs.len()];
    let regions: BTreeSet<&str> = inputs.iter().map(|i| i.region.as_str()).collect();
    for region in regions {
        let idx: Vec<usize> = (0..inputs.len())
            .filter(|&i| inputs.get(i).is_some_and(|x| x.region == region))
            .collect();
        let region_keys: Vec<Option<i128>> = idx
            .iter()
            .map(|&i| keys.get(i).copied().flatten())
            .collect();
        for (slot, pos) in idx.iter().zip(positions(&region_keys, settings.ties)) {
            if let Some(r) = regional.get_mut(*slot) {
                *r = pos;
            }
        }
    }
    let mut out: Vec<Ranked> = inputs
        .iter()
        .zip(national)
        .zip(regional)
        .map(|((i, n), r)| Ranked {
            unit: i.unit.clone(),
            region: i.region.clone(),
            value: i.value,
            national: n,
            regional: r,
            tier: None,
        })
        .collect();
    out.sort_by(|a, b| {
        let ra = a.national.map_or(u32::MAX, |p| p.rank);
        let rb = b.national.map_or(u32::MAX, |p| p.rank);
        ra.cmp(&rb).then_with(|| a.unit.cmp(&b.unit))
    });
    out
}

/// One unit's composed index, for ranking.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UnitIndex {
    /// Unit code.
    pub unit: String,
    /// Region code.
    pub region: String,
    /// The composed index.
    pub index: IndexScore,
}

/// Ranks of one component.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ComponentRanking {
    /// Component code.
    pub component: String,
    /// Ranked by component percent.
    pub ranked: Vec<Ranked>,
}

/// Rankings of many units: totals (with tiers) and each component.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rankings {
    /// Ranked by total percent; tiers for full-index compositions.
    pub total: Vec<Ranked>,
    /// Per component in methodology order, ranked by component percent.
    pub components: Vec<ComponentRanking>,
}

/// Where a unit stands in its round's ranking: ranked, or why not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Standing {
    /// Complete, with enough respondents: it has a rank (and, for the full index, a tier).
    Ranked,
    /// A counted group, SIPAS or (for the full index) an appraised component has no value.
    Incomplete,
    /// Complete, but a counted group has fewer responses than `ranking.min_respondents`.
    InsufficientData,
    /// The round composes the full index, but this unit's appraised points are not imported:
    /// it shows its survey part only and is not ranked against full-index totals.
    SurveyPartOnly,
}

impl Standing {
    /// The code files and the API write: `ranked`, `incomplete`, `insufficient_data` or
    /// `survey_part_only`.
    pub fn code(self) -> &'static str {
        match self {
            Standing::Ranked => "ranked",
            Standing::Incomplete => "incomplete",
            Standing::InsufficientData => "insufficient_data",
            Standing::SurveyPartOnly => "survey_part_only",
        }
    }

    /// The message-catalogue key of the label shown instead of a rank (`None` when ranked).
    pub fn label_key(self) -> Option<&'static str> {
        match self {
            Standing::Ranked => None,
            Standing::Incomplete => Some("results.incomplete"),
            Standing::InsufficientData => Some("results.insufficient"),
            Standing::SurveyPartOnly => Some("results.survey_part_only"),
        }
    }
}

/// Where one unit stands, given whether its round composes the full index (any unit has
/// appraised points): one rule for the rankings, pages, files, the API and the CLI.
pub fn standing(index: &IndexScore, round_full_index: bool) -> Standing {
    if !index.is_complete() {
        Standing::Incomplete
    } else if index.insufficient_data {
        Standing::InsufficientData
    } else if round_full_index && !index.full_index {
        Standing::SurveyPartOnly
    } else {
        Standing::Ranked
    }
}

/// Ranks the units that stand [`Standing::Ranked`] by total percent and by each component's
/// percent, with the methodology's tie rule; totals carry their tier. Other units are left
/// out, so ranks run 1..n over the ranked units. When some units have appraised points, only
/// full-index totals are ranked: a survey part (of 32) is never ranked against totals of 100.
pub fn rank_units(m: &Methodology, units: &[UnitIndex]) -> Rankings {
    let full = units.iter().any(|u| u.index.full_index);
    let units: Vec<&UnitIndex> = units
        .iter()
        .filter(|u| standing(&u.index, full) == Standing::Ranked)
        .collect();
    // The units that have a value, as the ranking reads them.
    let inputs = |value: &dyn Fn(&UnitIndex) -> Option<f64>| -> Vec<RankInput> {
        units
            .iter()
            .filter_map(|u| {
                Some(RankInput {
                    unit: u.unit.clone(),
                    region: u.region.clone(),
                    value: value(u)?,
                })
            })
            .collect()
    };
    let tiers: BTreeMap<&str, Option<String>> = units
        .iter()
        .map(|u| (u.unit.as_str(), u.index.tier.clone()))
        .collect();
    let mut total = rank(
        &m.ranking,
        m.display.decimals,
        &inputs(&|u| u.index.percent),
    );
    for r in &mut total {
        r.tier = tiers.get(r.unit.as_str()).cloned().flatten();
    }
    let components = m
        .components
        .iter()
        .map(|c| {
            let component = |u: &UnitIndex| {
                let score = u.index.components.iter().find(|x| x.code == c.code)?;
                score.percent
            };
            ComponentRanking {
                component: c.code.clone(),
                ranked: rank(&m.ranking, m.display.decimals, &inputs(&component)),
            }
        })
        .collect();
    Rankings { total, components }
}
