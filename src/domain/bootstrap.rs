//! Sampling uncertainty of unit scores: bootstrap intervals over respondents, and whether a
//! unit's rank against its neighbours is supported by those intervals.
//!
//! # Method
//!
//! [`bootstrap_interval`] is the nonparametric *percentile* bootstrap: draw n respondents with
//! replacement from the unit's n, tally and score the resample, repeat, and report the 2.5th
//! and 97.5th percentiles of the replicate scores as a 95 % interval. Percentiles are taken
//! with linear interpolation between order statistics (Hyndman & Fan type 7, the default of R
//! and NumPy): for sorted scores x₀ ≤ … ≤ x_{m−1}, the p-quantile is at position h = (m − 1)·p,
//! x_⌊h⌋ + (h − ⌊h⌋)·(x_⌊h⌋+1 − x_⌊h⌋). Replicates the scorer cannot score (`None` or not
//! finite) are left out; [`Interval::replicates`] says how many were used.
//!
//! Draws come from `StdRng::seed_from_u64(seed)`, so the same respondents, seed and replicate
//! count give the same interval on every run of the same build. (The `rand` crate does not
//! promise that `StdRng` yields the same stream in a future release; store the interval, not
//! just the seed, when a figure is published.)
//!
//! Speed: answers are turned into integer slot numbers once; a replicate draws multiplicities
//! per respondent, adds them into a flat count vector and only then builds one [`Tally`] of the
//! answer values that occurred. 1,000 replicates of 600 respondents × 40 items take a few tens
//! of milliseconds in a release build, plus whatever the scorer costs.
//!
//! # Rank support
//!
//! [`rank_support`] orders units by value (highest first) and calls a unit's rank *not
//! supported* when the point value of each of its neighbours in that order (the one above and
//! the one below, or the only one for the first and last unit) lies inside the unit's own
//! interval (bounds included): the data are then as consistent with the unit swapping places
//! with either neighbour as with the order shown. A unit whose value is separated from at
//! least one neighbour by its interval is supported on that side and is not flagged.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

use crate::domain::scoring::Tally;

/// Lower tail probability of the 95 % interval.
const LOW_P: f64 = 0.025;
/// Upper tail probability of the 95 % interval.
const HIGH_P: f64 = 0.975;

/// A 95 % percentile-bootstrap interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Interval {
    /// 2.5th percentile of the replicate scores.
    pub low: f64,
    /// 97.5th percentile of the replicate scores.
    pub high: f64,
    /// Replicates that produced a score (those the percentiles are taken over).
    pub replicates: u32,
}

impl Interval {
    /// Whether `x` lies inside the interval, bounds included.
    pub fn contains(&self, x: f64) -> bool {
        self.low <= x && x <= self.high
    }

    fn is_usable(&self) -> bool {
        self.low.is_finite() && self.high.is_finite() && self.low <= self.high
    }
}

/// The respondents' answers as integer slots, so resampling never touches strings.
struct Indexed<'a> {
    /// Item code → (answer value → slot), in code order: the order of [`Tally::items`].
    items: Vec<(&'a str, Vec<(&'a str, usize)>)>,
    /// Number of distinct (item, value) slots.
    slot_count: usize,
    /// Each respondent's answer slots.
    respondents: Vec<Vec<usize>>,
}

impl<'a> Indexed<'a> {
    fn new(respondents: &'a [BTreeMap<String, String>]) -> Self {
        let mut by_item: BTreeMap<&'a str, BTreeMap<&'a str, usize>> = BTreeMap::new();
        for r in respondents {
            for (item, value) in r {
                by_item
                    .entry(item.as_str())
                    .or_default()
                    .insert(value.as_str(), 0);
            }
        }
        let mut slot_count = 0usize;
        for values in by_item.values_mut() {
            for slot in values.values_mut() {
                *slot = slot_count;
                slot_count += 1;
            }
        }
        let slots_of = respondents
            .iter()
            .map(|r| {
                r.iter()
                    .filter_map(|(item, value)| {
                        by_item
                            .get(item.as_str())
                            .and_then(|vs| vs.get(value.as_str()))
                            .copied()
                    })
                    .collect()
            })
            .collect();
        let items = by_item
            .into_iter()
            .map(|(item, values)| (item, values.into_iter().collect()))
            .collect();
        Indexed {
            items,
            slot_count,
            respondents: slots_of,
        }
    }

    /// The tally of a resample in which respondent i occurs `multiplicity[i]` times; equal to
    /// `Tally::from_responses` over the same resample.
    fn tally(&self, multiplicity: &[u64], counts: &mut Vec<u64>) -> Tally {
        counts.clear();
        counts.resize(self.slot_count, 0);
        let mut responses = 0u64;
        for (slots, &m) in self.respondents.iter().zip(multiplicity) {
            if m == 0 {
                continue;
            }
            responses = responses.saturating_add(m);
            for &s in slots {
                if let Some(c) = counts.get_mut(s) {
                    *c = c.saturating_add(m);
                }
            }
        }
        let mut items = BTreeMap::new();
        for (item, values) in &self.items {
            // Only values that occurred, exactly as adding the responses one by one would.
            let dist: BTreeMap<String, u64> = values
                .iter()
                .filter_map(|&(value, slot)| {
                    let c = counts.get(slot).copied().unwrap_or(0);
                    (c > 0).then(|| (value.to_owned(), c))
                })
                .collect();
            if !dist.is_empty() {
                items.insert((*item).to_owned(), dist);
            }
        }
        Tally { responses, items }
    }
}

/// The p-quantile of sorted values by linear interpolation (type 7); `None` when empty.
fn percentile(sorted: &[f64], p: f64) -> Option<f64> {
    let last = sorted.len().checked_sub(1)?;
    let h = last as f64 * p.clamp(0.0, 1.0);
    let lo = h.floor();
    // `h` lies in [0, last], so the conversion is exact and in range.
    let i = lo as usize;
    let x = *sorted.get(i)?;
    let next = sorted.get(i + 1).copied().unwrap_or(x);
    Some(x + (h - lo) * (next - x))
}

/// A 95 % percentile-bootstrap interval of `score` over `respondents` (item code → answer
/// value each), from `replicates` resamples drawn with a generator seeded by `seed`. `None`
/// when there are no respondents, no replicates, or no replicate could be scored.
pub fn bootstrap_interval(
    respondents: &[BTreeMap<String, String>],
    score: impl Fn(&Tally) -> Option<f64>,
    replicates: u32,
    seed: u64,
) -> Option<Interval> {
    let n = respondents.len();
    if n == 0 || replicates == 0 {
        return None;
    }
    let indexed = Indexed::new(respondents);
    let mut rng = StdRng::seed_from_u64(seed);
    let mut multiplicity = vec![0u64; n];
    let mut counts = Vec::new();
    let mut scores = Vec::with_capacity(usize::try_from(replicates).unwrap_or(0));
    for _ in 0..replicates {
        multiplicity.fill(0);
        for _ in 0..n {
            if let Some(m) = multiplicity.get_mut(rng.random_range(0..n)) {
                *m += 1;
            }
        }
        let tally = indexed.tally(&multiplicity, &mut counts);
        if let Some(s) = score(&tally).filter(|s| s.is_finite()) {
            scores.push(s);
        }
    }
    scores.sort_by(f64::total_cmp);
    Some(Interval {
        low: percentile(&scores, LOW_P)?,
        high: percentile(&scores, HIGH_P)?,
        replicates: u32::try_from(scores.len()).unwrap_or(u32::MAX),
    })
}

/// Orders `units` (code, value, interval) by value, highest first (ties by code), and says for
/// each whether its place is supported (`true`) or not (see the module notes). A single unit
/// is supported. A unit with a non-finite value has no place: it comes last, unsupported, and
/// is nobody's neighbour; a unit whose interval is unusable (non-finite or low > high) keeps
/// its place but is unsupported.
pub fn rank_support(units: &[(String, f64, Interval)]) -> Vec<(String, bool)> {
    let (mut ranked, unranked): (Vec<&(String, f64, Interval)>, Vec<_>) =
        units.iter().partition(|u| u.1.is_finite());
    ranked.sort_by(|a, b| match b.1.total_cmp(&a.1) {
        Ordering::Equal => a.0.cmp(&b.0),
        other => other,
    });
    let mut out = Vec::with_capacity(units.len());
    for (i, (code, _, interval)) in ranked.iter().copied().enumerate() {
        let above = i.checked_sub(1).and_then(|j| ranked.get(j));
        let below = ranked.get(i + 1);
        let neighbours: Vec<f64> = [above, below].into_iter().flatten().map(|u| u.1).collect();
        let overlapped = !neighbours.is_empty() && neighbours.iter().all(|&v| interval.contains(v));
        out.push((code.clone(), interval.is_usable() && !overlapped));
    }
    out.extend(unranked.into_iter().map(|u| (u.0.clone(), false)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::methodology::Methodology;
    use crate::domain::methodology::fixtures::PAR;
    use crate::domain::scoring::score_group;

    fn respondent(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    /// Share of valid "q1" answers that are "1", in percent.
    fn share_of_ones(t: &Tally) -> Option<f64> {
        let d = t.items.get("q1")?;
        let total: u64 = d.values().sum();
        (total > 0).then(|| d.get("1").copied().unwrap_or(0) as f64 * 100.0 / total as f64)
    }

    fn mixed(n: usize) -> Vec<BTreeMap<String, String>> {
        (0..n)
            .map(|i| {
                let v = ["1", "2", "3", "4", "dk"][i % 5];
                respondent(&[("q1", v), ("q2", if i % 3 == 0 { "1" } else { "2" })])
            })
            .collect()
    }

    #[test]
    fn the_indexed_tally_of_a_resample_equals_tallying_the_resample_one_by_one() {
        let rs = vec![
            respondent(&[("q1", "1"), ("q2", "2")]),
            respondent(&[("q1", "2")]),
            respondent(&[("q1", "1"), ("q3", "dk")]),
        ];
        let indexed = Indexed::new(&rs);
        let mut counts = Vec::new();
        // Respondent 0 drawn twice, respondent 1 never, respondent 2 once.
        let got = indexed.tally(&[2, 0, 1], &mut counts);
        let expected = Tally::from_responses([&rs[0], &rs[0], &rs[2]]);
        assert_eq!(got, expected);
        assert_eq!(got.responses, 3);
        assert_eq!(got.items["q1"]["1"], 3);
        assert!(
            !got.items["q1"].contains_key("2"),
            "values not drawn are absent"
        );
    }

    #[test]
    fn percentiles_interpolate_linearly_between_order_statistics() {
        let xs = [1.0, 2.0, 3.0, 4.0, 5.0];
        // h = 4 × 0.025 = 0.1 → 1 + 0.1 × (2 − 1) = 1.1; h = 4 × 0.975 = 3.9 → 4.9.
        assert!((percentile(&xs, LOW_P).unwrap() - 1.1).abs() < 1e-12);
        assert!((percentile(&xs, HIGH_P).unwrap() - 4.9).abs() < 1e-12);
        assert_eq!(percentile(&[7.0], LOW_P), Some(7.0));
        assert_eq!(percentile(&[], LOW_P), None);
    }

    #[test]
    fn the_same_seed_gives_the_same_interval_and_another_seed_another() {
        let rs = mixed(200);
        let a = bootstrap_interval(&rs, share_of_ones, 500, 42).unwrap();
        let b = bootstrap_interval(&rs, share_of_ones, 500, 42).unwrap();
        assert_eq!(a, b);
        let c = bootstrap_interval(&rs, share_of_ones, 500, 43).unwrap();
        assert_ne!(a, c);
        assert_eq!(a.replicates, 500);
        // The point estimate, 20 % (40 of the 200 answers), lies inside; its standard error
        // is √(0.2 × 0.8 / 200) ≈ 2.8 points, so the interval spans roughly 14.5 to 25.5.
        assert!(a.contains(20.0), "{a:?}");
        assert!(a.low > 10.0 && a.high < 30.0, "{a:?}");
    }

    #[test]
    fn two_opposite_leaders_give_the_full_range_of_the_item_points() {
        // Leader q1 is worth 10 points, "1" → coefficient 1, "4" → 0. A resample of the two
        // respondents is {4,4}, {1,4} or {1,1} with probabilities ¼, ½, ¼ → 0, 5 or 10 points,
        // so the 2.5th percentile is 0 and the 97.5th is 10.
        let m = Methodology::parse("par.toml", PAR.as_bytes()).unwrap();
        let rs = vec![respondent(&[("q1", "1")]), respondent(&[("q1", "4")])];
        let score = |t: &Tally| {
            score_group(&m, "leader", t)
                .ok()
                .and_then(|g| g.item("q1").and_then(|i| i.points))
        };
        let i = bootstrap_interval(&rs, score, 1000, 7).unwrap();
        assert_eq!((i.low, i.high, i.replicates), (0.0, 10.0, 1000));
    }

    #[test]
    fn identical_respondents_give_a_zero_width_interval() {
        let rs = vec![respondent(&[("q1", "1")]); 30];
        let i = bootstrap_interval(&rs, share_of_ones, 100, 1).unwrap();
        assert_eq!((i.low, i.high), (100.0, 100.0));
    }

    #[test]
    fn no_respondents_no_replicates_or_no_score_give_no_interval() {
        assert_eq!(bootstrap_interval(&[], share_of_ones, 100, 1), None);
        assert_eq!(bootstrap_interval(&mixed(10), share_of_ones, 0, 1), None);
        assert_eq!(bootstrap_interval(&mixed(10), |_| None, 100, 1), None);
        assert_eq!(
            bootstrap_interval(&mixed(10), |_| Some(f64::NAN), 100, 1),
            None
        );
    }

    #[test]
    fn replicates_the_scorer_cannot_score_are_left_out_and_counted() {
        // Only "dk" answers can be drawn in some resamples of 2: {dk, dk} has no valid answer.
        let rs = vec![respondent(&[("q1", "1")]), respondent(&[("q1", "dk")])];
        let score = |t: &Tally| {
            let d = t.items.get("q1")?;
            let valid = d.get("1").copied().unwrap_or(0);
            (valid > 0).then_some(100.0)
        };
        let i = bootstrap_interval(&rs, score, 1000, 3).unwrap();
        assert!(i.replicates < 1000 && i.replicates > 600, "{i:?}");
        assert_eq!((i.low, i.high), (100.0, 100.0));
    }

    #[test]
    fn a_thousand_replicates_of_600_respondents_and_40_items_are_fast_in_release() {
        let items: Vec<String> = (0..40).map(|i| format!("item_{i:02}")).collect();
        let rs: Vec<BTreeMap<String, String>> = (0..600)
            .map(|r| {
                items
                    .iter()
                    .enumerate()
                    .map(|(i, code)| (code.clone(), ((r * 7 + i * 3) % 5 + 1).to_string()))
                    .collect()
            })
            .collect();
        let score = |t: &Tally| {
            let d = t.items.get("item_00")?;
            Some(d.get("1").copied().unwrap_or(0) as f64 / t.responses as f64)
        };
        // Debug builds are an order of magnitude slower; the timing claim is for release.
        let replicates = if cfg!(debug_assertions) { 50 } else { 1000 };
        let start = std::time::Instant::now();
        let i = bootstrap_interval(&rs, score, replicates, 9).unwrap();
        let took = start.elapsed();
        assert_eq!(i.replicates, replicates);
        if !cfg!(debug_assertions) {
            assert!(took.as_millis() < 500, "took {took:?}");
        }
    }

    fn unit(code: &str, value: f64, low: f64, high: f64) -> (String, f64, Interval) {
        (
            code.to_owned(),
            value,
            Interval {
                low,
                high,
                replicates: 1000,
            },
        )
    }

    #[test]
    fn a_unit_whose_interval_holds_both_neighbours_values_is_not_supported() {
        let units = vec![
            unit("D", 80.0, 78.0, 86.5), // only neighbour C = 86 is inside: unsupported
            unit("B", 87.0, 85.0, 91.0), // A = 90 and C = 86 both inside: unsupported
            unit("A", 90.0, 88.0, 92.0), // only neighbour B = 87 is outside: supported
            unit("C", 86.0, 84.5, 87.5), // B = 87 inside, D = 80 outside: supported
        ];
        let got = rank_support(&units);
        let expected = [("A", true), ("B", false), ("C", true), ("D", false)];
        assert_eq!(got.len(), expected.len());
        for ((code, ok), (e_code, e_ok)) in got.iter().zip(expected) {
            assert_eq!((code.as_str(), *ok), (e_code, e_ok));
        }
    }

    #[test]
    fn a_neighbour_value_on_the_interval_bound_counts_as_inside() {
        let got = rank_support(&[unit("A", 90.0, 85.0, 95.0), unit("B", 85.0, 84.0, 86.0)]);
        // A's interval [85, 95] holds B = 85; B's [84, 86] does not hold A = 90.
        assert_eq!(got, [("A".to_owned(), false), ("B".to_owned(), true)]);
    }

    #[test]
    fn tied_values_never_support_each_others_order() {
        let got = rank_support(&[unit("b", 80.0, 79.0, 81.0), unit("a", 80.0, 79.5, 80.5)]);
        assert_eq!(got, [("a".to_owned(), false), ("b".to_owned(), false)]);
    }

    #[test]
    fn a_lone_unit_is_supported_and_unusable_values_or_intervals_are_not() {
        assert_eq!(
            rank_support(&[unit("A", 50.0, 40.0, 60.0)]),
            [("A".to_owned(), true)]
        );
        let got = rank_support(&[
            unit("nan", f64::NAN, 0.0, 1.0),
            unit("A", 90.0, 89.0, 91.0),
            unit("bad", 50.0, 60.0, 40.0),
        ]);
        assert_eq!(
            got,
            [
                ("A".to_owned(), true),
                ("bad".to_owned(), false),
                ("nan".to_owned(), false)
            ]
        );
        assert!(rank_support(&[]).is_empty());
    }
}
