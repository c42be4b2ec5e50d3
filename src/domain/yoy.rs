//! Year-over-year comparison: unit results of one round against an earlier round (across the
//! 2025 merger of 63 provinces into 34 units), and item results across instrument versions.
//!
//! # Units
//!
//! Each current unit is compared with the earlier units it continues, given as a *lineage*:
//! current unit code → the earlier unit codes it absorbed. A unit missing from the lineage
//! continues the earlier unit with the same code; an empty list means a new unit with no
//! predecessor. [`lineage_of`] builds the lineage from a reference unit set (`absorbed`).
//!
//! - **Earlier value of a merged unit.** With [`MergeRule::RespondentWeighted`] (the default)
//!   it is the mean of the predecessors' values weighted by their respondent counts n, i.e. the
//!   value the merged territory would have had if its respondents had been pooled, which is
//!   how the current round pools them. [`MergeRule::SimpleMean`] weighs every predecessor the
//!   same (how a national mean over provinces is published). Points and percent are merged
//!   the same way; the earlier n is the sum of the predecessors' n.
//! - **Missing data is never filled in.** If any predecessor has no (finite) earlier value,
//!   the unit gets no earlier value: a mean over part of the territory would compare unlike
//!   areas. Under the weighted rule, predecessors with n = 0 in total also give no value.
//! - **Changes** are current − earlier, in points and in percentage points.
//! - **Ranks.** A rank change is earlier rank − current rank, so positive means the unit moved
//!   up ("up 46 places" = +46). When no current unit merged several earlier units, the
//!   published national ranks are compared as given. When any did, the earlier ranking (of 63)
//!   no longer describes the current set (of 34), so the earlier rank of *every* unit is
//!   recomputed by ranking the reconstructed earlier percentages among themselves with the
//!   methodology's ranking settings (34 vs 34), never taken from the 63-unit ranking: a 1:1
//!   successor ranked 3rd of 63 may well be 2nd of 34 before anything changed. Either way a
//!   rank change is only reported when both ranks are "of" the same number of units.
//!
//! # Items
//!
//! [`compare_items`] compares per-item values only for the pairs that
//! [`Instrument::comparability_with`] accepts (declared continuation, same answer type and
//! options). Every other item is listed with `comparable = false` and no change.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::domain::instrument::Instrument;
use crate::domain::methodology::RankingSettings;
use crate::domain::scoring::{Position, RankInput, rank};
use crate::domain::unit_list::UnitSet;

/// Current unit code → the earlier unit codes it continues (absorbed).
pub type Lineage = BTreeMap<String, Vec<String>>;

/// One unit's result in one round.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct UnitValue {
    /// Points (e.g. leader-survey points out of 22, or SIPAS index points out of 10).
    pub points: f64,
    /// The same result as a percentage of its maximum.
    pub percent: f64,
    /// National rank as published for that round; `None` when unranked.
    pub national: Option<Position>,
    /// Number of respondents the value rests on.
    pub respondents: u64,
}

/// How the earlier values of several merged units are combined into one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MergeRule {
    /// Mean weighted by each predecessor's respondent count (pooling the respondents).
    #[default]
    RespondentWeighted,
    /// Unweighted mean: every predecessor counts the same.
    SimpleMean,
}

/// Where an earlier rank comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RankSource {
    /// The earlier round's national rank, as given.
    Published,
    /// Recomputed among the reconstructed earlier values of the current units.
    Recomputed,
}

/// A current unit's value in the earlier round, reconstructed from its predecessors.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EarlierValue {
    /// Points (merged by the rule).
    pub points: f64,
    /// Percent (merged by the rule).
    pub percent: f64,
    /// Sum of the predecessors' respondents.
    pub respondents: u64,
    /// Earlier national rank; see [`RankSource`].
    pub national: Option<Position>,
    /// How `national` was obtained.
    pub rank_source: RankSource,
}

/// Why a unit has no earlier value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "gap", rename_all = "snake_case")]
pub enum EarlierGap {
    /// The lineage lists no predecessor: a new unit.
    NoPredecessor,
    /// These predecessors have no finite value in the earlier round.
    MissingPredecessors {
        /// Earlier unit codes.
        units: Vec<String>,
    },
    /// Respondent weighting with zero respondents over all predecessors.
    NoRespondents,
}

/// The comparison of one current unit with the earlier round.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UnitChange {
    /// Current unit code.
    pub unit: String,
    /// The current value.
    pub current: UnitValue,
    /// Earlier unit codes it continues, in lineage order.
    pub predecessors: Vec<String>,
    /// True when it continues more than one earlier unit.
    pub merged: bool,
    /// The earlier value; `None` when `gap` says why.
    pub earlier: Option<EarlierValue>,
    /// Why there is no earlier value.
    pub gap: Option<EarlierGap>,
    /// current points − earlier points.
    pub change_points: Option<f64>,
    /// current percent − earlier percent (percentage points).
    pub change_percent_points: Option<f64>,
    /// earlier rank − current rank: positive = moved up. Only when both ranks exist and are
    /// out of the same number of units.
    pub rank_change: Option<i64>,
}

/// The lineage of a reference unit set: each unit → the codes it `absorbed`, or itself when
/// it lists none (the 2023 set, custom lists).
pub fn lineage_of(units: &UnitSet) -> Lineage {
    units
        .units
        .iter()
        .map(|u| {
            let preds = if u.absorbed.is_empty() {
                vec![u.code.clone()]
            } else {
                u.absorbed.clone()
            };
            (u.code.clone(), preds)
        })
        .collect()
}

/// The predecessors of `unit`: from the lineage, else the same code; duplicates dropped so a
/// code listed twice is not weighted twice.
fn predecessors_of(unit: &str, lineage: &Lineage) -> Vec<String> {
    let listed = lineage
        .get(unit)
        .cloned()
        .unwrap_or_else(|| vec![unit.to_owned()]);
    let mut seen = BTreeSet::new();
    listed
        .into_iter()
        .filter(|c| seen.insert(c.clone()))
        .collect()
}

/// Merges the predecessors' values (all present and finite) into (points, percent, n).
fn merge_values(values: &[&UnitValue], rule: MergeRule) -> Result<(f64, f64, u64), EarlierGap> {
    let n = values
        .iter()
        .fold(0u64, |acc, v| acc.saturating_add(v.respondents));
    if let [only] = values {
        // One predecessor is its own mean under either rule, even with n = 0.
        return Ok((only.points, only.percent, n));
    }
    if values.is_empty() {
        return Err(EarlierGap::NoPredecessor);
    }
    let weight = |v: &UnitValue| match rule {
        MergeRule::RespondentWeighted => v.respondents as f64,
        MergeRule::SimpleMean => 1.0,
    };
    let total: f64 = values.iter().map(|v| weight(v)).sum();
    if total <= 0.0 {
        return Err(EarlierGap::NoRespondents);
    }
    let points = values.iter().map(|v| weight(v) * v.points).sum::<f64>() / total;
    let percent = values.iter().map(|v| weight(v) * v.percent).sum::<f64>() / total;
    Ok((points, percent, n))
}

/// The rank change when both positions exist and are out of the same number of units.
fn rank_change(earlier: Option<Position>, current: Option<Position>) -> Option<i64> {
    match (earlier, current) {
        (Some(e), Some(c)) if e.of == c.of => Some(i64::from(e.rank) - i64::from(c.rank)),
        _ => None,
    }
}

/// Compares every current unit with the earlier round (see the module notes for the rules).
/// `ranking` and `display_decimals` are used when earlier ranks must be recomputed; pass the
/// earlier round's methodology settings. Output is in current unit code order.
pub fn compare_units(
    current: &BTreeMap<String, UnitValue>,
    earlier: &BTreeMap<String, UnitValue>,
    lineage: &Lineage,
    rule: MergeRule,
    ranking: &RankingSettings,
    display_decimals: u32,
) -> Vec<UnitChange> {
    let finite = |v: &&UnitValue| v.points.is_finite() && v.percent.is_finite();
    let mut out: Vec<UnitChange> = current
        .iter()
        .map(|(unit, value)| {
            let predecessors = predecessors_of(unit, lineage);
            let missing: Vec<String> = predecessors
                .iter()
                .filter(|p| earlier.get(*p).filter(finite).is_none())
                .cloned()
                .collect();
            let merged_value = if predecessors.is_empty() {
                Err(EarlierGap::NoPredecessor)
            } else if !missing.is_empty() {
                Err(EarlierGap::MissingPredecessors { units: missing })
            } else {
                let values: Vec<&UnitValue> =
                    predecessors.iter().filter_map(|p| earlier.get(p)).collect();
                merge_values(&values, rule)
            };
            let (earlier_value, gap) = match merged_value {
                Ok((points, percent, respondents)) => {
                    // The published rank only means something for a single predecessor;
                    // it is replaced below when the set was reshaped.
                    let national = match predecessors.as_slice() {
                        [only] => earlier.get(only).and_then(|v| v.national),
                        _ => None,
                    };
                    let e = EarlierValue {
                        points,
                        percent,
                        respondents,
                        national,
                        rank_source: RankSource::Published,
                    };
                    (Some(e), None)
                }
                Err(gap) => (None, Some(gap)),
            };
            UnitChange {
                unit: unit.clone(),
                current: *value,
                merged: predecessors.len() > 1,
                predecessors,
                earlier: earlier_value,
                gap,
                change_points: None,
                change_percent_points: None,
                rank_change: None,
            }
        })
        .collect();

    if out.iter().any(|c| c.merged) {
        let inputs: Vec<RankInput> = out
            .iter()
            .filter_map(|c| {
                c.earlier.as_ref().map(|e| RankInput {
                    unit: c.unit.clone(),
                    region: String::new(),
                    value: e.percent,
                })
            })
            .collect();
        let ranked: BTreeMap<String, Option<Position>> = rank(ranking, display_decimals, &inputs)
            .into_iter()
            .map(|r| (r.unit, r.national))
            .collect();
        for c in &mut out {
            if let Some(e) = c.earlier.as_mut() {
                e.national = ranked.get(&c.unit).copied().flatten();
                e.rank_source = RankSource::Recomputed;
            }
        }
    }

    for c in &mut out {
        if let Some(e) = &c.earlier {
            c.change_points = Some(c.current.points - e.points);
            c.change_percent_points = Some(c.current.percent - e.percent);
            c.rank_change = rank_change(e.national, c.current.national);
        }
    }
    out
}

/// One item compared across instrument versions.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ItemChange {
    /// Current item (answer) code.
    pub item: String,
    /// The earlier item it is compared with, when comparable.
    pub earlier_item: Option<String>,
    /// Whether the item can be compared with the earlier version at all.
    pub comparable: bool,
    /// The current value.
    pub current: f64,
    /// The earlier item's value (comparable items only).
    pub earlier: Option<f64>,
    /// current − earlier (comparable items with both values only).
    pub change: Option<f64>,
}

/// Item comparisons for one unit (or the whole round).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ItemComparison {
    /// Items in current instrument order; values for codes the instrument does not have last.
    pub items: Vec<ItemChange>,
    /// Why declared continuations do not hold, and values for unknown items.
    pub problems: Vec<String>,
}

/// Compares item values (e.g. item percents) of the current round with the earlier round's,
/// only where `current.comparability_with(earlier)` pairs the items. Only items with a current
/// value are listed; the rest of the instrument (text questions, unscored items) is not.
pub fn compare_items(
    current: &Instrument,
    earlier: &Instrument,
    current_values: &BTreeMap<String, f64>,
    earlier_values: &BTreeMap<String, f64>,
) -> ItemComparison {
    let comparability = current.comparability_with(earlier);
    // Item comparisons report in English (their own messages are not catalogued yet).
    let mut problems: Vec<String> = comparability
        .problems
        .iter()
        .map(ToString::to_string)
        .collect();
    let mut items = Vec::new();
    let mut listed = BTreeSet::new();
    for code in current.answer_codes() {
        let Some(&value) = current_values.get(code) else {
            continue;
        };
        listed.insert(code);
        let pair = comparability.pairs.get(code);
        let earlier_value = pair
            .and_then(|old| earlier_values.get(old))
            .copied()
            .filter(|v| v.is_finite());
        items.push(ItemChange {
            item: code.to_owned(),
            earlier_item: pair.cloned(),
            comparable: pair.is_some(),
            current: value,
            earlier: earlier_value,
            change: earlier_value
                .filter(|_| value.is_finite())
                .map(|e| value - e),
        });
    }
    for (code, &value) in current_values {
        if !listed.contains(code.as_str()) {
            problems.push(format!(
                "'{code}' is not an item of {} version {}",
                current.code(),
                current.version()
            ));
            items.push(ItemChange {
                item: code.clone(),
                earlier_item: None,
                comparable: false,
                current: value,
                earlier: None,
                change: None,
            });
        }
    }
    ItemComparison { items, problems }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::methodology::{CompareOn, TieRule};
    use crate::domain::test_fixtures;
    use crate::domain::unit_list::provinces_2025;

    fn settings() -> RankingSettings {
        RankingSettings {
            min_respondents: 1,
            ties: TieRule::Competition,
            compare: CompareOn::FullPrecision,
        }
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    /// A SIPAS-style value: percent, points = percent / 10 (out of 10), rank "rank of of".
    fn v(percent: f64, respondents: u64, rank: u32, of: u32) -> UnitValue {
        UnitValue {
            points: percent / 10.0,
            percent,
            national: Some(Position { rank, of }),
            respondents,
        }
    }

    fn map(entries: &[(&str, UnitValue)]) -> BTreeMap<String, UnitValue> {
        entries.iter().map(|(k, v)| ((*k).to_owned(), *v)).collect()
    }

    fn lineage(entries: &[(&str, &[&str])]) -> Lineage {
        entries
            .iter()
            .map(|(k, ps)| {
                (
                    (*k).to_owned(),
                    ps.iter().map(|p| (*p).to_owned()).collect(),
                )
            })
            .collect()
    }

    /// Seven 2023 provinces (ranked of 7) and their four 2025 successors (ranked of 4).
    fn merger_2023_2025() -> (
        BTreeMap<String, UnitValue>,
        BTreeMap<String, UnitValue>,
        Lineage,
    ) {
        let earlier = map(&[
            ("22", v(90.0, 600, 1, 7)), // Quảng Ninh
            ("30", v(89.0, 500, 2, 7)), // Hải Dương
            ("01", v(86.8, 900, 3, 7)), // Hà Nội
            ("31", v(85.0, 700, 4, 7)), // Hải Phòng
            ("37", v(84.0, 600, 5, 7)), // Ninh Bình
            ("36", v(80.0, 300, 6, 7)), // Nam Định
            ("35", v(78.0, 100, 7, 7)), // Hà Nam
        ]);
        let current = map(&[
            ("ninh-binh", v(88.0, 1000, 1, 4)),
            ("quang-ninh", v(87.5, 600, 2, 4)),
            ("ha-noi", v(87.0, 900, 3, 4)),
            ("hai-phong", v(86.0, 1200, 4, 4)),
        ]);
        let lin = lineage(&[
            ("ninh-binh", &["37", "35", "36"]),
            ("quang-ninh", &["22"]),
            ("ha-noi", &["01"]),
            ("hai-phong", &["31", "30"]),
        ]);
        (current, earlier, lin)
    }

    /// [`compare_units`] with the tests' ranking settings and two display decimals.
    fn compare(
        current: &BTreeMap<String, UnitValue>,
        earlier: &BTreeMap<String, UnitValue>,
        lineage: &Lineage,
        rule: MergeRule,
    ) -> Vec<UnitChange> {
        compare_units(current, earlier, lineage, rule, &settings(), 2)
    }

    fn find<'a>(changes: &'a [UnitChange], unit: &str) -> &'a UnitChange {
        changes.iter().find(|c| c.unit == unit).unwrap()
    }

    #[test]
    fn three_provinces_merged_in_2025_are_compared_with_their_respondent_weighted_2023_mean() {
        let (current, earlier, lin) = merger_2023_2025();
        let out = compare(&current, &earlier, &lin, MergeRule::RespondentWeighted);
        let nb = find(&out, "ninh-binh");
        assert!(nb.merged);
        assert_eq!(nb.predecessors, ["37", "35", "36"]);
        let e = nb.earlier.as_ref().unwrap();
        // (84 × 600 + 78 × 100 + 80 × 300) / 1000 = 82 200 / 1000 = 82.2 %
        assert!(close(e.percent, 82.2));
        // (8.4 × 600 + 7.8 × 100 + 8.0 × 300) / 1000 = 8.22 points
        assert!(close(e.points, 8.22));
        assert_eq!(e.respondents, 1000);
        // 88 − 82.2 = +5.8 percentage points; 8.8 − 8.22 = +0.58 points.
        assert!(close(nb.change_percent_points.unwrap(), 5.8));
        assert!(close(nb.change_points.unwrap(), 0.58));
        // Reconstructed 2023: Quảng Ninh 90, Hà Nội 86.8, Hải Phòng (85 × 700 + 89 × 500) /
        // 1200 = 86.667, Ninh Bình 82.2 → Ninh Bình was 4th of 4 and is now 1st: up 3.
        assert_eq!(e.national, Some(Position { rank: 4, of: 4 }));
        assert_eq!(e.rank_source, RankSource::Recomputed);
        assert_eq!(nb.rank_change, Some(3));
    }

    #[test]
    fn after_a_merger_even_unmerged_units_are_ranked_among_the_reconstructed_values() {
        let (current, earlier, lin) = merger_2023_2025();
        let out = compare(&current, &earlier, &lin, MergeRule::RespondentWeighted);
        let hn = find(&out, "ha-noi");
        assert!(!hn.merged);
        let e = hn.earlier.as_ref().unwrap();
        assert!(close(e.percent, 86.8));
        // Published 3rd of 7; among the four reconstructed values 86.8 is 2nd (above Hải
        // Phòng's 86.667). Now 3rd of 4: down 1.
        assert_eq!(e.national, Some(Position { rank: 2, of: 4 }));
        assert_eq!(hn.rank_change, Some(-1));
        let hp = find(&out, "hai-phong");
        let e = hp.earlier.as_ref().unwrap();
        assert!(close(e.percent, 104_000.0 / 1200.0));
        assert_eq!(e.national, Some(Position { rank: 3, of: 4 }));
        assert_eq!(hp.rank_change, Some(-1));
        let qn = find(&out, "quang-ninh");
        assert_eq!(qn.rank_change, Some(-1));
    }

    #[test]
    fn the_simple_mean_rule_weighs_every_predecessor_the_same() {
        let (current, earlier, lin) = merger_2023_2025();
        let out = compare(&current, &earlier, &lin, MergeRule::SimpleMean);
        let nb = find(&out, "ninh-binh").earlier.as_ref().unwrap();
        // (84 + 78 + 80) / 3 = 80.667
        assert!(close(nb.percent, 242.0 / 3.0));
        assert_eq!(nb.respondents, 1000);
        // Hải Phòng (85 + 89) / 2 = 87 now beats Hà Nội's 86.8: 2nd, Hà Nội 3rd.
        let hp = find(&out, "hai-phong");
        assert!(close(hp.earlier.as_ref().unwrap().percent, 87.0));
        assert_eq!(
            hp.earlier.as_ref().unwrap().national,
            Some(Position { rank: 2, of: 4 })
        );
        assert_eq!(hp.rank_change, Some(-2));
        assert_eq!(find(&out, "ha-noi").rank_change, Some(0));
    }

    #[test]
    fn without_a_merger_published_ranks_are_compared_as_given() {
        // A province that went from 50th to 4th of 63 moved up 46 places.
        let earlier = map(&[("25", v(84.0, 600, 50, 63))]);
        let current = map(&[("25", v(90.5, 610, 4, 63))]);
        let out = compare(
            &current,
            &earlier,
            &Lineage::new(),
            MergeRule::RespondentWeighted,
        );
        let c = &out[0];
        assert!(!c.merged);
        assert_eq!(c.predecessors, ["25"]);
        let e = c.earlier.as_ref().unwrap();
        assert_eq!(e.rank_source, RankSource::Published);
        assert_eq!(e.national, Some(Position { rank: 50, of: 63 }));
        assert_eq!(c.rank_change, Some(46));
        assert!(close(c.change_percent_points.unwrap(), 6.5));
    }

    #[test]
    fn ranks_out_of_different_numbers_of_units_are_not_compared() {
        let earlier = map(&[("25", v(84.0, 600, 50, 63))]);
        let current = map(&[("25", v(90.5, 610, 4, 62))]);
        let out = compare(
            &current,
            &earlier,
            &Lineage::new(),
            MergeRule::RespondentWeighted,
        );
        assert_eq!(out[0].rank_change, None);
        assert!(out[0].change_points.is_some(), "values are still compared");
    }

    #[test]
    fn a_merged_unit_with_a_missing_predecessor_gets_no_earlier_value() {
        let (current, mut earlier, lin) = merger_2023_2025();
        earlier.remove("35");
        let out = compare(&current, &earlier, &lin, MergeRule::RespondentWeighted);
        let nb = find(&out, "ninh-binh");
        assert_eq!(nb.earlier, None);
        assert_eq!(
            nb.gap,
            Some(EarlierGap::MissingPredecessors {
                units: vec!["35".to_owned()]
            })
        );
        assert_eq!(nb.change_points, None);
        assert_eq!(nb.rank_change, None);
        // The other three are ranked among three reconstructed values, but the current
        // ranking is of 4: no rank changes, value changes still.
        let hn = find(&out, "ha-noi");
        assert_eq!(
            hn.earlier.as_ref().unwrap().national,
            Some(Position { rank: 2, of: 3 })
        );
        assert_eq!(hn.rank_change, None);
        assert!(close(hn.change_percent_points.unwrap(), 0.2));
    }

    #[test]
    fn a_non_finite_earlier_value_counts_as_missing() {
        let earlier = map(&[("01", v(f64::NAN, 600, 1, 1))]);
        let current = map(&[("01", v(80.0, 600, 1, 1))]);
        let out = compare(
            &current,
            &earlier,
            &Lineage::new(),
            MergeRule::RespondentWeighted,
        );
        assert_eq!(
            out[0].gap,
            Some(EarlierGap::MissingPredecessors {
                units: vec!["01".to_owned()]
            })
        );
    }

    #[test]
    fn a_new_unit_with_an_empty_lineage_has_no_predecessor() {
        let current = map(&[("new", v(80.0, 100, 1, 1))]);
        let out = compare(
            &current,
            &BTreeMap::new(),
            &lineage(&[("new", &[])]),
            MergeRule::RespondentWeighted,
        );
        assert_eq!(out[0].gap, Some(EarlierGap::NoPredecessor));
        assert!(!out[0].merged);
    }

    #[test]
    fn respondent_weighting_over_zero_respondents_gives_no_value() {
        let earlier = map(&[("a", v(80.0, 0, 1, 2)), ("b", v(70.0, 0, 2, 2))]);
        let current = map(&[("ab", v(75.0, 10, 1, 1))]);
        let lin = lineage(&[("ab", &["a", "b"])]);
        let weighted = compare(&current, &earlier, &lin, MergeRule::RespondentWeighted);
        assert_eq!(weighted[0].gap, Some(EarlierGap::NoRespondents));
        let simple = compare(&current, &earlier, &lin, MergeRule::SimpleMean);
        // (80 + 70) / 2 = 75: no change, and 1st of 1 both times.
        assert!(close(simple[0].change_percent_points.unwrap(), 0.0));
        assert_eq!(simple[0].rank_change, Some(0));
    }

    #[test]
    fn a_predecessor_listed_twice_is_weighted_once() {
        let earlier = map(&[("a", v(80.0, 100, 1, 2)), ("b", v(70.0, 300, 2, 2))]);
        let current = map(&[("ab", v(75.0, 400, 1, 1))]);
        let lin = lineage(&[("ab", &["a", "b", "a"])]);
        let out = compare(&current, &earlier, &lin, MergeRule::RespondentWeighted);
        assert_eq!(out[0].predecessors, ["a", "b"]);
        // (80 × 100 + 70 × 300) / 400 = 72.5
        assert!(close(out[0].earlier.as_ref().unwrap().percent, 72.5));
    }

    #[test]
    fn the_2025_reference_set_gives_the_lineage_of_each_of_the_34_units() {
        let lin = lineage_of(&provinces_2025().unwrap());
        assert_eq!(lin.len(), 34);
        assert_eq!(lin["ninh-binh"], ["37", "35", "36"]);
        assert_eq!(lin["hai-phong"], ["31", "30"]);
        assert_eq!(lin["ha-noi"], ["01"]);
        let absorbed: usize = lin.values().map(Vec::len).sum();
        assert_eq!(absorbed, 63);
    }

    #[test]
    fn a_unit_without_absorbed_codes_continues_itself() {
        let set = UnitSet {
            units: vec![crate::domain::unit_list::UnitRecord {
                code: "x".to_owned(),
                name_vi: "X".to_owned(),
                name_en: "X".to_owned(),
                kind: "province".to_owned(),
                region_code: None,
                region_vi: None,
                region_en: None,
                absorbed: Vec::new(),
            }],
        };
        assert_eq!(lineage_of(&set)["x"], ["x"]);
    }

    fn instruments() -> (Instrument, Instrument) {
        let old = test_fixtures::instrument(test_fixtures::LEADER_V1, "old.toml");
        let new = test_fixtures::instrument(test_fixtures::LEADER_V2_CONTINUES, "new.toml");
        (new, old)
    }

    fn values(entries: &[(&str, f64)]) -> BTreeMap<String, f64> {
        entries.iter().map(|(k, v)| ((*k).to_owned(), *v)).collect()
    }

    #[test]
    fn only_items_the_instruments_declare_comparable_are_compared() {
        let (new, old) = instruments();
        let out = compare_items(
            &new,
            &old,
            &values(&[("q1n", 80.0), ("q2", 70.0), ("q3", 60.0), ("q4", 50.0)]),
            &values(&[("q1", 75.0), ("q2", 72.5), ("q3", 90.0)]),
        );
        let codes: Vec<&str> = out.items.iter().map(|i| i.item.as_str()).collect();
        assert_eq!(codes, ["q1n", "q2", "q3", "q4"]);
        let q1 = &out.items[0];
        assert!(q1.comparable);
        assert_eq!(q1.earlier_item.as_deref(), Some("q1"));
        assert_eq!(q1.change, Some(5.0));
        assert_eq!(out.items[1].change, Some(-2.5));
        // q3 keeps its code but changed from yes/no to a 4-level scale: never compared,
        // although the earlier round has a q3 value.
        let q3 = &out.items[2];
        assert!(!q3.comparable);
        assert_eq!((q3.earlier, q3.change), (None, None));
        assert!(!out.items[3].comparable, "q4 is new");
        assert_eq!(out.problems.len(), 1);
        assert!(out.problems[0].contains("'q3' continues 'q3'"));
    }

    #[test]
    fn a_comparable_item_without_an_earlier_value_has_no_change() {
        let (new, old) = instruments();
        let out = compare_items(&new, &old, &values(&[("q2", 70.0)]), &BTreeMap::new());
        assert!(out.items[0].comparable);
        assert_eq!(out.items[0].change, None);
    }

    #[test]
    fn against_an_undeclared_earlier_version_nothing_is_comparable() {
        let (new, old) = instruments();
        let out = compare_items(
            &old,
            &new,
            &values(&[("q1", 75.0), ("q2", 72.5)]),
            &values(&[("q1n", 80.0), ("q2", 70.0)]),
        );
        assert!(
            out.items
                .iter()
                .all(|i| !i.comparable && i.change.is_none())
        );
        assert_eq!(
            out.problems,
            ["leader version 1 does not declare that it continues leader version 2"]
        );
    }

    #[test]
    fn a_value_for_a_code_the_instrument_lacks_is_listed_last_and_not_compared() {
        let (new, old) = instruments();
        let out = compare_items(
            &new,
            &old,
            &values(&[("zz", 1.0), ("q2", 70.0)]),
            &values(&[("zz", 2.0), ("q2", 70.0)]),
        );
        assert_eq!(out.items.len(), 2);
        assert_eq!(out.items[1].item, "zz");
        assert!(!out.items[1].comparable);
        assert_eq!(
            out.problems.last().map(String::as_str),
            Some("'zz' is not an item of leader version 2")
        );
    }
}
