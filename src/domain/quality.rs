//! Data-quality flags on responses: speeders and straight-liners, and the [`Flags`] value
//! stored with a response (a JSON array of flag codes such as `["speeder","straightline:c1"]`).
//!
//! Flags only inform: they never drop a response by themselves. Excluding a flagged response
//! is a decision an administrator takes and records.
//!
//! # Speeders
//!
//! Within one unit × group, a response with a known duration d (seconds) is a speeder when
//!
//! 1. the methodology sets `quality.speeder_seconds` = t and d < t; or else
//! 2. the unit × group has at least [`MEDIAN_RULE_MIN_N`] known durations and d is below one
//!    third of their median (3·d < median). A fixed threshold cannot fit every questionnaire
//!    length; relative to the median, a response three times faster than the typical one
//!    cannot have read the questions. Below 30 durations the median is too unstable to judge
//!    by. For an even count the median is the mean of the two middle durations; the test is
//!    done in integers, so no rounding decides a flag.
//!
//! Unknown durations (paper forms) are never flagged and do not count toward the median.
//! Negative durations can only come from a clock error; they are treated as unknown.
//!
//! # Straight-lining
//!
//! For every battery with at least [`STRAIGHTLINE_MIN_ITEMS`] items, a response that gives the
//! *same valid* option to every item of the battery is flagged for that battery. Batteries
//! answered only in part, or with a "don't know"-type (invalid) option throughout, are not:
//! repeating "don't know" is a legitimate answer, not inattention. With fewer items identical
//! answers are too often sincere to mean anything.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::domain::answers::{AnswerValue, Answers};
use crate::domain::instrument::{Instrument, QuestionKind};
use crate::domain::methodology::QualitySettings;

/// Known durations a unit × group needs before the median rule applies.
pub const MEDIAN_RULE_MIN_N: usize = 30;

/// Fewest battery items for which identical answers count as straight-lining.
pub const STRAIGHTLINE_MIN_ITEMS: usize = 5;

/// Why a response is a speeder.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(tag = "rule", rename_all = "snake_case")]
pub enum SpeederReason {
    /// Faster than the methodology's `quality.speeder_seconds`.
    BelowThreshold {
        /// The response's duration in seconds.
        seconds: i64,
        /// The threshold in seconds.
        threshold: u64,
    },
    /// Faster than a third of the unit × group's median duration.
    BelowThirdOfMedian {
        /// The response's duration in seconds.
        seconds: i64,
        /// The median duration in seconds.
        median: f64,
    },
}

/// The median of the known durations as twice its value (exact for even counts); `None` when
/// there are fewer than [`MEDIAN_RULE_MIN_N`].
fn twice_median(durations: &[i64]) -> Option<i128> {
    if durations.len() < MEDIAN_RULE_MIN_N {
        return None;
    }
    let mut sorted = durations.to_vec();
    sorted.sort_unstable();
    let mid = sorted.len() / 2;
    let upper = i128::from(*sorted.get(mid)?);
    if sorted.len() % 2 == 1 {
        Some(2 * upper)
    } else {
        Some(i128::from(*sorted.get(mid.checked_sub(1)?)?) + upper)
    }
}

/// The speeders among one unit × group's responses (id, duration in seconds), in input order,
/// each with the first rule that flags it (the threshold before the median).
pub fn speeders<Id: Clone>(
    quality: &QualitySettings,
    responses: &[(Id, Option<i64>)],
) -> Vec<(Id, SpeederReason)> {
    let known: Vec<i64> = responses
        .iter()
        .filter_map(|(_, d)| *d)
        .filter(|d| *d >= 0)
        .collect();
    let twice_median = twice_median(&known);
    responses
        .iter()
        .filter_map(|(id, d)| {
            let seconds = (*d).filter(|d| *d >= 0)?;
            if let Some(threshold) = quality.speeder_seconds
                && i128::from(seconds) < i128::from(threshold)
            {
                return Some((
                    id.clone(),
                    SpeederReason::BelowThreshold { seconds, threshold },
                ));
            }
            // 3·d < m  ⇔  6·d < 2m, with 2m held exactly.
            let tm = twice_median?;
            (6 * i128::from(seconds) < tm).then(|| {
                (
                    id.clone(),
                    SpeederReason::BelowThirdOfMedian {
                        seconds,
                        median: tm as f64 / 2.0,
                    },
                )
            })
        })
        .collect()
}

/// The batteries (codes, instrument order) each response straight-lined; responses with none
/// are left out. Input order is kept.
pub fn straightliners<Id: Clone>(
    instrument: &Instrument,
    responses: &[(Id, Answers)],
) -> Vec<(Id, Vec<String>)> {
    // (battery code, item codes, valid option values) of the batteries long enough to judge.
    let batteries: Vec<(&str, Vec<&str>, BTreeSet<&str>)> = instrument
        .questions()
        .filter_map(|q| match &q.kind {
            QuestionKind::Battery { choices, items, .. }
                if items.len() >= STRAIGHTLINE_MIN_ITEMS =>
            {
                let valid = choices
                    .options
                    .iter()
                    .filter(|o| o.valid)
                    .map(|o| o.value.as_str())
                    .collect();
                let codes = items.iter().map(|i| i.code.as_str()).collect();
                Some((q.code.as_str(), codes, valid))
            }
            _ => None,
        })
        .collect();
    responses
        .iter()
        .filter_map(|(id, answers)| {
            let flagged: Vec<String> = batteries
                .iter()
                .filter(|(_, items, valid)| same_valid_answer(answers, items, valid))
                .map(|(code, _, _)| (*code).to_owned())
                .collect();
            (!flagged.is_empty()).then(|| (id.clone(), flagged))
        })
        .collect()
}

/// True when every item is answered with one and the same valid option.
fn same_valid_answer(answers: &Answers, items: &[&str], valid: &BTreeSet<&str>) -> bool {
    let mut first: Option<&str> = None;
    for item in items {
        let Some(AnswerValue::Choice(v)) = answers.get(item) else {
            return false;
        };
        if !valid.contains(v.as_str()) {
            return false;
        }
        match first {
            None => first = Some(v.as_str()),
            Some(f) if f == v.as_str() => {}
            Some(_) => return false,
        }
    }
    first.is_some()
}

/// One data-quality flag. Stored as its code; codes this version does not know are kept as
/// [`Flag::Other`] so reading and rewriting a response never loses a flag.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(into = "String", from = "String")]
pub enum Flag {
    /// `speeder`: completed implausibly fast.
    Speeder,
    /// `straightline:CODE`: the same valid answer to every item of battery CODE.
    Straightline(String),
    /// Any other code, kept verbatim.
    Other(String),
}

/// Prefix of the straight-lining code.
const STRAIGHTLINE_PREFIX: &str = "straightline:";

impl Flag {
    /// The stored code: `speeder`, `straightline:c1`, …
    pub fn code(&self) -> String {
        match self {
            Flag::Speeder => "speeder".to_owned(),
            Flag::Straightline(battery) => format!("{STRAIGHTLINE_PREFIX}{battery}"),
            Flag::Other(code) => code.clone(),
        }
    }

    /// Reads a stored code; never fails (unknown codes become [`Flag::Other`]).
    pub fn parse(code: &str) -> Flag {
        if code == "speeder" {
            return Flag::Speeder;
        }
        match code.strip_prefix(STRAIGHTLINE_PREFIX) {
            Some(battery) if !battery.is_empty() => Flag::Straightline(battery.to_owned()),
            _ => Flag::Other(code.to_owned()),
        }
    }
}

impl fmt::Display for Flag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.code())
    }
}

impl From<Flag> for String {
    fn from(flag: Flag) -> String {
        flag.code()
    }
}

impl From<String> for Flag {
    fn from(code: String) -> Flag {
        Flag::parse(&code)
    }
}

/// The flags of one response: a set, serialised as a sorted JSON array of codes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Flags(BTreeSet<Flag>);

impl Flags {
    /// No flags.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a flag; false when it was already there.
    pub fn insert(&mut self, flag: Flag) -> bool {
        self.0.insert(flag)
    }

    /// Whether the flag is set.
    pub fn contains(&self, flag: &Flag) -> bool {
        self.0.contains(flag)
    }

    /// The flags in stored order.
    pub fn iter(&self) -> impl Iterator<Item = &Flag> {
        self.0.iter()
    }

    /// The codes in stored order.
    pub fn codes(&self) -> Vec<String> {
        self.0.iter().map(Flag::code).collect()
    }

    /// Number of flags.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True when there is no flag.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The stored JSON form, e.g. `["speeder","straightline:c1"]`.
    pub fn to_json(&self) -> String {
        // A set of strings always serialises; an empty array is the safe fallback.
        serde_json::to_string(self).unwrap_or_else(|_| "[]".to_owned())
    }

    /// Parses the stored JSON form.
    ///
    /// # Errors
    ///
    /// When the text is not a JSON array of strings.
    pub fn from_json(json: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(json)
    }
}

impl FromIterator<Flag> for Flags {
    fn from_iter<I: IntoIterator<Item = Flag>>(iter: I) -> Self {
        Flags(iter.into_iter().collect())
    }
}

/// Combines the results of [`speeders`] and [`straightliners`] into each flagged response's
/// [`Flags`]; responses without a flag are absent.
pub fn flags_by_response<Id: Ord + Clone>(
    speeders: &[(Id, SpeederReason)],
    straightliners: &[(Id, Vec<String>)],
) -> BTreeMap<Id, Flags> {
    let mut out: BTreeMap<Id, Flags> = BTreeMap::new();
    for (id, _) in speeders {
        out.entry(id.clone()).or_default().insert(Flag::Speeder);
    }
    for (id, batteries) in straightliners {
        let flags = out.entry(id.clone()).or_default();
        for b in batteries {
            flags.insert(Flag::Straightline(b.clone()));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::test_fixtures;

    fn settings(speeder_seconds: Option<u64>) -> QualitySettings {
        QualitySettings {
            disclosure_min_n: 10,
            speeder_seconds,
        }
    }

    fn ids<T>(flagged: &[(i64, T)]) -> Vec<i64> {
        flagged.iter().map(|(id, _)| *id).collect()
    }

    #[test]
    fn a_response_faster_than_the_methodology_threshold_is_a_speeder() {
        let rs = [(1, Some(119)), (2, Some(120)), (3, None), (4, Some(0))];
        let got = speeders(&settings(Some(120)), &rs);
        assert_eq!(
            got,
            [
                (
                    1,
                    SpeederReason::BelowThreshold {
                        seconds: 119,
                        threshold: 120
                    }
                ),
                (
                    4,
                    SpeederReason::BelowThreshold {
                        seconds: 0,
                        threshold: 120
                    }
                ),
            ]
        );
    }

    #[test]
    fn without_a_threshold_and_under_30_durations_nobody_is_flagged() {
        let mut rs: Vec<(i64, Option<i64>)> = (0..29).map(|i| (i, Some(600))).collect();
        rs.push((99, Some(1)));
        assert!(
            speeders(&settings(None), &rs).len() == 1,
            "30 known: rule applies"
        );
        rs.pop();
        rs.push((99, None));
        rs.push((100, Some(1)));
        // 29 + 1 = 30 known durations again (the None does not count)…
        assert_eq!(ids(&speeders(&settings(None), &rs)), [100]);
        rs.pop();
        // …and with 29 known durations the median rule is off.
        assert!(speeders(&settings(None), &rs).is_empty());
    }

    #[test]
    fn once_30_durations_are_known_a_third_of_the_median_is_the_bar() {
        // 30 durations: 28 × 600 s, plus 199 s and 200 s. Sorted, the middle two (15th and
        // 16th) are both 600, so the median is 600 and the bar is 200: 199 is flagged, 200
        // is not.
        let mut rs: Vec<(i64, Option<i64>)> = (0..28).map(|i| (i, Some(600))).collect();
        rs.push((28, Some(199)));
        rs.push((29, Some(200)));
        let got = speeders(&settings(None), &rs);
        assert_eq!(
            got,
            [(
                28,
                SpeederReason::BelowThirdOfMedian {
                    seconds: 199,
                    median: 600.0
                }
            )]
        );
    }

    #[test]
    fn an_even_count_takes_the_mean_of_the_two_middle_durations_exactly() {
        // 30 durations: 100, 101, 13 × 300 and 15 × 301. Sorted, the middle pair (0-based
        // positions 14 and 15) is 300 and 301: median 300.5, bar 100.1666… 100 s is below it
        // (6 × 100 = 600 < 601 = 2 × median), 101 s is not (606 ≥ 601).
        let mut rs: Vec<(i64, Option<i64>)> = vec![(1, Some(100)), (2, Some(101))];
        rs.extend((10..23).map(|i| (i, Some(300))));
        rs.extend((30..45).map(|i| (i, Some(301))));
        assert_eq!(rs.len(), 30);
        let got = speeders(&settings(None), &rs);
        assert_eq!(
            got,
            [(
                1,
                SpeederReason::BelowThirdOfMedian {
                    seconds: 100,
                    median: 300.5
                }
            )]
        );
    }

    #[test]
    fn the_threshold_is_reported_before_the_median_rule() {
        let mut rs: Vec<(i64, Option<i64>)> = (0..30).map(|i| (i, Some(900))).collect();
        rs.push((100, Some(60)));
        rs.push((101, Some(200)));
        let got = speeders(&settings(Some(120)), &rs);
        assert_eq!(
            got,
            [
                (
                    100,
                    SpeederReason::BelowThreshold {
                        seconds: 60,
                        threshold: 120
                    }
                ),
                (
                    101,
                    SpeederReason::BelowThirdOfMedian {
                        seconds: 200,
                        median: 900.0
                    }
                ),
            ]
        );
    }

    #[test]
    fn negative_durations_are_treated_as_unknown() {
        let rs = [(1, Some(-5)), (2, Some(500))];
        assert!(speeders(&settings(Some(120)), &rs).is_empty());
    }

    fn instrument() -> Instrument {
        test_fixtures::instrument(test_fixtures::LEADER_BATTERIES, "leader.toml")
    }

    /// Answers: every item of battery `prefix` (n items) gets the values in turn.
    fn answer(answers: &mut Answers, prefix: &str, values: &[&str]) {
        for (i, v) in values.iter().enumerate() {
            answers.insert(
                format!("{prefix}_{}", i + 1),
                AnswerValue::Choice((*v).to_owned()),
            );
        }
    }

    #[test]
    fn the_same_valid_answer_to_every_item_of_a_battery_is_straight_lining() {
        let mut a = Answers::new();
        answer(&mut a, "c1", &["2"; 5]);
        answer(&mut a, "c2", &["1", "1", "1", "1", "1", "2"]);
        let mut b = Answers::new();
        answer(&mut b, "c1", &["3"; 5]);
        answer(&mut b, "c2", &["4"; 6]);
        let got = straightliners(&instrument(), &[(1, a), (2, b)]);
        assert_eq!(
            got,
            [
                (1, vec!["c1".to_owned()]),
                (2, vec!["c1".to_owned(), "c2".to_owned()])
            ]
        );
    }

    #[test]
    fn short_batteries_partial_answers_and_repeated_dont_knows_are_not_flagged() {
        let mut a = Answers::new();
        answer(&mut a, "s", &["1"; 4]); // 4 items: too short to judge
        answer(&mut a, "c1", &["2"; 4]); // item c1_5 unanswered
        answer(&mut a, "c2", &["dk"; 6]); // invalid option throughout
        assert!(straightliners(&instrument(), &[(1, a)]).is_empty());
    }

    #[test]
    fn a_non_choice_answer_in_a_battery_is_not_straight_lining() {
        let mut a = Answers::new();
        answer(&mut a, "c1", &["2"; 5]);
        a.insert("c1_3".to_owned(), AnswerValue::Integer(2));
        assert!(straightliners(&instrument(), &[(7, a)]).is_empty());
    }

    #[test]
    fn flags_are_stored_as_a_sorted_json_array_of_codes() {
        let flags: Flags = [
            Flag::Straightline("c2".to_owned()),
            Flag::Speeder,
            Flag::Straightline("c1".to_owned()),
            Flag::Speeder,
        ]
        .into_iter()
        .collect();
        assert_eq!(flags.len(), 3);
        let json = flags.to_json();
        assert_eq!(json, r#"["speeder","straightline:c1","straightline:c2"]"#);
        assert_eq!(Flags::from_json(&json).unwrap(), flags);
        assert_eq!(Flags::new().to_json(), "[]");
    }

    #[test]
    fn unknown_flag_codes_survive_a_round_trip() {
        let flags = Flags::from_json(r#"["duplicate_ip","speeder","straightline:"]"#).unwrap();
        assert!(flags.contains(&Flag::Speeder));
        assert!(flags.contains(&Flag::Other("duplicate_ip".to_owned())));
        assert!(flags.contains(&Flag::Other("straightline:".to_owned())));
        assert_eq!(
            flags.to_json(),
            r#"["speeder","duplicate_ip","straightline:"]"#
        );
        assert!(Flags::from_json("{}").is_err());
        assert_eq!(
            Flag::parse("straightline:c1").to_string(),
            "straightline:c1"
        );
    }

    #[test]
    fn speeders_and_straightliners_combine_into_each_responses_flags() {
        let sp = [(
            3,
            SpeederReason::BelowThreshold {
                seconds: 10,
                threshold: 120,
            },
        )];
        let sl = [(3, vec!["c1".to_owned()]), (5, vec!["c2".to_owned()])];
        let got = flags_by_response(&sp, &sl);
        assert_eq!(got.len(), 2);
        assert_eq!(got[&3].codes(), ["speeder", "straightline:c1"]);
        assert_eq!(got[&5].codes(), ["straightline:c2"]);
    }
}
