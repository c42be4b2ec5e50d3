//! The scoring engine: from answer tallies to item, criterion, component, group, SIPAS and
//! full-index scores, rankings, tiers, and the one number formatter every page and export uses.
//!
//! Pure functions over a parsed [`Methodology`]; no I/O. All outputs are ordered (methodology
//! order or sorted) so that serialising the same inputs gives byte-identical JSON, which is
//! hashed when results are published.
//!
//! # Numbers
//!
//! Scores are `f64` at full precision and are only rounded for display. Decimal rounding is
//! half away from zero on the *decimal* value: the binary value is first written out with nine
//! decimals (which removes float noise such as 2.675 being stored as 2.67499999999999982…),
//! then rounded on that decimal string. Differences below 5·10⁻¹⁰ are therefore treated as
//! noise; no published figure has that precision. The same nine-decimal key decides ties and
//! tier thresholds at "full precision", so comparisons are exact and transitive rather than
//! float comparisons with a tolerance.
//!
//! # Decisions
//!
//! - **No data, no score.** A unit × group with no responses, or whose valid answers cover
//!   less than the methodology's `scoring.min_coverage` of its points (none at all included),
//!   has no score: `None`, never 0.
//! - An item of a points group with zero valid answers has no points of its own and is flagged
//!   ([`Note::NoValidAnswers`]). How it counts in its group is the methodology's
//!   `scoring.unanswered_item`: `rescale` (the group's percentage over the items with data,
//!   points = percentage × maximum, so every unit stays on the same scale) or `zero`.
//! - A SIPAS item with zero valid answers is **left out** of its element's mean and flagged:
//!   SIPAS averages percentages, so the mean over the items that have data is well defined and
//!   a service nobody used must not count as 0 % satisfaction. An element (part) without data
//!   is likewise left out of its part's (the overall) mean.
//! - A unit's survey part, total and tier exist only when every counted group and linked index
//!   has a score (and, for the full index, its appraised points are imported); only such
//!   complete units are ranked, 1..n.
//! - Ranks and tiers follow the methodology's `ranking` and `tiers` settings (default: full
//!   precision, competition ranking 1, 2, 2, 4).

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::domain::methodology::{
    CompareOn, Methodology, NationalAggregate, RankingSettings, Sipas, SipasHeadline, SipasRule,
    TieRule, TierBand, UnansweredItem,
};

/// Decimals at which binary floating-point noise is cut off before any decimal rounding.
pub const NOISE_DECIMALS: u32 = 9;

// ---------------------------------------------------------------------------------------------
// Decimal rounding and display
// ---------------------------------------------------------------------------------------------

/// Rounds `|x|` half away from zero to `decimals` (≤ 9) decimals and returns the sign and the
/// scaled magnitude (e.g. 2.675, 2 → (false, 268)). `None` for non-finite or huge values.
fn rounded_parts(x: f64, decimals: u32) -> Option<(bool, u128)> {
    if !x.is_finite() {
        return None;
    }
    let d = usize::try_from(decimals.min(NOISE_DECIMALS)).ok()?;
    // `{:.9}` is computed from the exact binary value, so it is the decimal the value stands
    // for, to nine places.
    let s = format!("{:.9}", x.abs());
    let (int_part, frac) = s.split_once('.')?;
    let mut digits = String::with_capacity(int_part.len() + d);
    digits.push_str(int_part);
    digits.push_str(frac.get(..d)?);
    let mut scaled: u128 = digits.parse().ok()?;
    if frac.as_bytes().get(d).is_some_and(|&b| b >= b'5') {
        scaled = scaled.checked_add(1)?;
    }
    Some((x.is_sign_negative() && scaled != 0, scaled))
}

/// `x` rounded half away from zero to `decimals` decimals, as an exact scaled integer
/// (20.234, 2 → 2023). Used for exact comparisons; `None` for non-finite values.
pub fn decimal_key(x: f64, decimals: u32) -> Option<i128> {
    let (negative, scaled) = rounded_parts(x, decimals)?;
    let v = i128::try_from(scaled).ok()?;
    Some(if negative { -v } else { v })
}

/// The comparison key of a value under a [`CompareOn`] setting.
pub fn compare_key(compare: CompareOn, display_decimals: u32, x: f64) -> Option<i128> {
    match compare {
        CompareOn::FullPrecision => decimal_key(x, NOISE_DECIMALS),
        CompareOn::DisplayRounded => decimal_key(x, display_decimals),
    }
}

/// Decimal separator: "." (English, exports) or "," (Vietnamese pages).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum DecimalSeparator {
    /// "20.23"
    #[default]
    Dot,
    /// "20,23"
    Comma,
}

/// Formats points and percentages for display. No thousands grouping: scores are ≤ 100.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct NumberFormat {
    /// Decimals shown (capped at 9).
    pub decimals: u32,
    /// Decimal separator.
    pub separator: DecimalSeparator,
}

impl Default for NumberFormat {
    fn default() -> Self {
        NumberFormat {
            decimals: 2,
            separator: DecimalSeparator::Dot,
        }
    }
}

/// What non-finite values display as (they are never produced by the engine itself).
pub const MISSING_VALUE: &str = "—";

impl NumberFormat {
    /// The methodology's display decimals with the given separator.
    pub fn for_methodology(m: &Methodology, separator: DecimalSeparator) -> Self {
        NumberFormat {
            decimals: m.display.decimals,
            separator,
        }
    }

    /// Formats a value: 20.234 → "20.23", 2.675 → "2.68", −0.001 → "0.00".
    pub fn format(&self, x: f64) -> String {
        let d = self.decimals.min(NOISE_DECIMALS);
        let sep = match self.separator {
            DecimalSeparator::Dot => '.',
            DecimalSeparator::Comma => ',',
        };
        let Some((negative, scaled)) = rounded_parts(x, d) else {
            if x.is_finite() {
                // Beyond u128 range: no reader needs decimals on such a number.
                let width = usize::try_from(d).unwrap_or(2);
                return format!("{x:.width$}").replace('.', &sep.to_string());
            }
            return MISSING_VALUE.to_owned();
        };
        let pow = 10u128.pow(d);
        let mut out = String::new();
        if negative {
            out.push('-');
        }
        out.push_str(&(scaled / pow).to_string());
        if d > 0 {
            out.push(sep);
            let width = usize::try_from(d).unwrap_or(0);
            out.push_str(&format!("{:0width$}", scaled % pow));
        }
        out
    }

    /// Formats an optional value, [`MISSING_VALUE`] when absent.
    pub fn format_opt(&self, x: Option<f64>) -> String {
        x.map_or_else(|| MISSING_VALUE.to_owned(), |v| self.format(v))
    }
}

/// Points with the default format (2 decimals, "."): `fmt_points(20.234) == "20.23"`.
pub fn fmt_points(x: f64) -> String {
    NumberFormat::default().format(x)
}

/// A percentage with the default format: `fmt_percent(91.9727…) == "91.97"` (no "%" sign, so
/// pages and exports can place it as their language requires).
pub fn fmt_percent(x: f64) -> String {
    NumberFormat::default().format(x)
}

/// `points / max × 100`; `None` when `max` is not positive.
pub fn percent_of(points: f64, max: f64) -> Option<f64> {
    (max > 0.0 && max.is_finite()).then(|| points * 100.0 / max)
}

// ---------------------------------------------------------------------------------------------
// Input: tallies
// ---------------------------------------------------------------------------------------------

/// Answer counts for one unit × group: item code → answer value → count, plus the number of
/// responses. This is what the app's live tally table holds.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tally {
    /// Number of (complete, accepted) responses.
    pub responses: u64,
    /// Item code → answer value → count.
    pub items: BTreeMap<String, BTreeMap<String, u64>>,
}

impl Tally {
    /// Adds one respondent's answers (item code → answer value).
    pub fn add_response(&mut self, answers: &BTreeMap<String, String>) {
        self.responses = self.responses.saturating_add(1);
        for (item, value) in answers {
            let count = self
                .items
                .entry(item.clone())
                .or_default()
                .entry(value.clone())
                .or_insert(0);
            *count = count.saturating_add(1);
        }
    }

    /// Adds another tally's counts to this one (a national tally from units' tallies).
    pub fn merge(&mut self, other: &Tally) {
        self.responses = self.responses.saturating_add(other.responses);
        for (item, values) in &other.items {
            let mine = self.items.entry(item.clone()).or_default();
            for (value, n) in values {
                let count = mine.entry(value.clone()).or_insert(0);
                *count = count.saturating_add(*n);
            }
        }
    }

    /// Tallies raw per-respondent answers. Scoring from raw answers goes through this, so a
    /// bootstrap can resample respondents and re-score.
    pub fn from_responses<'a, I>(responses: I) -> Tally
    where
        I: IntoIterator<Item = &'a BTreeMap<String, String>>,
    {
        let mut t = Tally::default();
        for r in responses {
            t.add_response(r);
        }
        t
    }
}

// ---------------------------------------------------------------------------------------------
// Output types
// ---------------------------------------------------------------------------------------------

/// A flag raised while scoring; results are still produced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "note", rename_all = "snake_case")]
pub enum Note {
    /// The item had no valid answer (points group: counted as `scoring.unanswered_item` says;
    /// SIPAS: left out of the mean).
    NoValidAnswers {
        /// Item code.
        item: String,
    },
    /// Answer values neither scored nor declared invalid; excluded from the mean.
    UnknownAnswerValues {
        /// Item code.
        item: String,
        /// Value → count.
        values: BTreeMap<String, u64>,
    },
    /// The tally holds an item the methodology does not score for this group.
    UnmappedItem {
        /// Item code.
        item: String,
    },
    /// More answers to an item than responses: the tally is inconsistent.
    MoreAnswersThanResponses {
        /// Item code.
        item: String,
        /// Answers counted.
        answers: u64,
        /// Responses counted.
        responses: u64,
    },
    /// A SIPAS element none of whose items had valid answers; left out of its part.
    ElementWithoutData {
        /// Element code.
        element: String,
    },
    /// A SIPAS part none of whose elements had data; left out of the overall mean.
    PartWithoutData {
        /// Part code.
        part: String,
    },
    /// A counted group had no score in the composition; the survey part has no value.
    MissingGroup {
        /// Group code.
        group: String,
    },
    /// A linked index (e.g. SIPAS) had no value in the composition; the survey part has no
    /// value.
    MissingLinkedIndex {
        /// Linked index code.
        code: String,
    },
    /// A component had no appraised points in the composition; it and the total have no value.
    MissingAppraised {
        /// Component code.
        component: String,
    },
    /// A counted group had fewer responses than `ranking.min_respondents`: the unit keeps its
    /// scores but is neither tiered nor ranked.
    InsufficientRespondents {
        /// Group code.
        group: String,
        /// Responses counted.
        responses: u64,
        /// The methodology's minimum.
        min: u64,
    },
}

/// Errors of the scoring functions: inputs that do not fit the methodology.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ScoringError {
    /// The group is not a points group of the methodology.
    #[error("group \"{group}\" is not a points group of methodology {methodology}")]
    UnknownGroup {
        /// Methodology code.
        methodology: String,
        /// Group code.
        group: String,
    },
    /// The methodology has no `[sipas]` section.
    #[error("methodology {methodology} has no SIPAS rules")]
    NoSipas {
        /// Methodology code.
        methodology: String,
    },
    /// A group score computed with another methodology (code or version).
    #[error("group score \"{group}\" was computed with {found}, not {expected}")]
    ForeignGroupScore {
        /// Group code.
        group: String,
        /// Methodology of the score.
        found: String,
        /// Methodology expected.
        expected: String,
    },
    /// The same group was passed twice.
    #[error("group \"{group}\" was passed twice")]
    DuplicateGroupScore {
        /// Group code.
        group: String,
    },
    /// A linked index code the methodology does not define.
    #[error("unknown linked index \"{code}\"")]
    UnknownLinkedIndex {
        /// Code.
        code: String,
    },
    /// Linked index points outside [0, max].
    #[error("linked index \"{code}\" has {points} points, outside [0, {max}]")]
    LinkedOutOfRange {
        /// Code.
        code: String,
        /// Given points.
        points: f64,
        /// Maximum.
        max: f64,
    },
    /// An appraised component code the methodology does not define.
    #[error("unknown component \"{component}\" in appraised points")]
    UnknownComponent {
        /// Component code.
        component: String,
    },
    /// Appraised points outside [0, component max − survey max].
    #[error("appraised points {points} of component \"{component}\" are outside [0, {max}]")]
    AppraisedOutOfRange {
        /// Component code.
        component: String,
        /// Given points.
        points: f64,
        /// Appraised maximum.
        max: f64,
    },
}

/// Score of one item of a points group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ItemScore {
    /// Item code.
    pub item: String,
    /// Criterion code.
    pub criterion: String,
    /// Component code.
    pub component: String,
    /// Maximum points.
    pub max_points: f64,
    /// All answers, including invalid ones.
    pub answered: u64,
    /// Answers with a coefficient.
    pub valid_n: u64,
    /// Mean coefficient over valid answers; `None` when `valid_n == 0`.
    pub mean_coefficient: Option<f64>,
    /// max_points × mean coefficient; `None` when there is no valid answer.
    pub points: Option<f64>,
    /// points / max × 100; `None` when there is no valid answer.
    pub percent: Option<f64>,
    /// Answer value → count, as tallied.
    pub distribution: BTreeMap<String, u64>,
}

/// Points, maximum and percent of a criterion, component or group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Subtotal {
    /// Criterion or component code.
    pub code: String,
    /// Points; `None` when the group has no score.
    pub points: Option<f64>,
    /// Maximum points.
    pub max_points: f64,
    /// points / max × 100; `None` when the group has no score.
    pub percent: Option<f64>,
}

/// Score of one points group for one unit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupScore {
    /// Methodology code.
    pub methodology: String,
    /// Methodology version.
    pub methodology_version: u32,
    /// Group code.
    pub group: String,
    /// Whether it counts toward the index.
    pub counts_toward_index: bool,
    /// Number of responses.
    pub responses: u64,
    /// Group points (items, with those without data counted as `scoring.unanswered_item`
    /// says); `None` when the group has no score (no data, or coverage below the minimum).
    pub points: Option<f64>,
    /// Group maximum.
    pub max_points: f64,
    /// points / max × 100; `None` when the group has no score.
    pub percent: Option<f64>,
    /// Share (0..=1) of the group's points whose items had valid answers; `None` in snapshots
    /// published before it was reported.
    #[serde(default)]
    pub coverage: Option<f64>,
    /// Items in methodology order.
    pub items: Vec<ItemScore>,
    /// Criteria in methodology order (only those the group scores into).
    pub criteria: Vec<Subtotal>,
    /// Components in methodology order (only those the group scores into).
    pub components: Vec<Subtotal>,
    /// Flags raised while scoring.
    pub notes: Vec<Note>,
}

impl GroupScore {
    /// Looks up a component subtotal.
    pub fn component(&self, code: &str) -> Option<&Subtotal> {
        self.components.iter().find(|c| c.code == code)
    }
    /// Looks up a criterion subtotal.
    pub fn criterion(&self, code: &str) -> Option<&Subtotal> {
        self.criteria.iter().find(|c| c.code == code)
    }
    /// Looks up an item score.
    pub fn item(&self, code: &str) -> Option<&ItemScore> {
        self.items.iter().find(|c| c.item == code)
    }
}

/// One SIPAS item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SipasItemScore {
    /// Item code.
    pub item: String,
    /// Element code.
    pub element: String,
    /// All answers, including invalid ones.
    pub answered: u64,
    /// Answers on the scale.
    pub valid_n: u64,
    /// Valid answers in the satisfied set.
    pub satisfied_n: u64,
    /// Mean scale value over valid answers.
    pub mean: Option<f64>,
    /// Item percent under the rule used; `None` without valid answers.
    pub percent: Option<f64>,
    /// Answer value → count.
    pub distribution: BTreeMap<String, u64>,
}

/// A SIPAS element or part percentage.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SipasSubtotal {
    /// Element or part code.
    pub code: String,
    /// Mean of the members' percentages that have data; `None` if none has.
    pub percent: Option<f64>,
    /// Members (items of an element, elements of a part) with data.
    pub with_data: usize,
    /// Members defined.
    pub members: usize,
}

/// SIPAS result for one unit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SipasScore {
    /// Methodology code.
    pub methodology: String,
    /// Methodology version.
    pub methodology_version: u32,
    /// Group code.
    pub group: String,
    /// Rule used.
    pub rule: SipasRule,
    /// Number of responses.
    pub responses: u64,
    /// Items in methodology order.
    pub items: Vec<SipasItemScore>,
    /// Elements in methodology order.
    pub elements: Vec<SipasSubtotal>,
    /// Parts in methodology order.
    pub parts: Vec<SipasSubtotal>,
    /// The directly asked overall item, when the methodology's headline is that item
    /// (`headline = "overall_item"`); its `element` is empty.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub overall_item: Option<SipasItemScore>,
    /// The headline: the mean of the parts' percentages, or the overall item's percentage.
    pub overall_percent: Option<f64>,
    /// overall % × index_points / 100.
    pub index_points: Option<f64>,
    /// The methodology's index points.
    pub index_max_points: f64,
    /// Flags.
    pub notes: Vec<Note>,
}

impl SipasScore {
    /// Looks up an element.
    pub fn element(&self, code: &str) -> Option<&SipasSubtotal> {
        self.elements.iter().find(|e| e.code == code)
    }
    /// Looks up a part.
    pub fn part(&self, code: &str) -> Option<&SipasSubtotal> {
        self.parts.iter().find(|e| e.code == code)
    }
}

/// One component of the composed index.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ComponentIndex {
    /// Component code.
    pub code: String,
    /// Survey points (counted groups + linked indices); `None` when one of them has no score.
    pub survey_points: Option<f64>,
    /// Survey maximum.
    pub survey_max_points: f64,
    /// Appraised points, when composing the full index.
    pub appraised_points: Option<f64>,
    /// Points: survey + appraised (survey only without appraised input); `None` when an input
    /// is missing.
    pub points: Option<f64>,
    /// Maximum: the component max (survey max without appraised input).
    pub max_points: f64,
    /// points / max × 100; `None` without points or with a zero maximum.
    pub percent: Option<f64>,
}

/// The composed index of one unit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IndexScore {
    /// Methodology code.
    pub methodology: String,
    /// Methodology version.
    pub methodology_version: u32,
    /// Whether appraised points were included (full index) or only survey points.
    pub full_index: bool,
    /// Survey points over counted groups and linked indices; `None` unless all have a score.
    pub survey_points: Option<f64>,
    /// Survey maximum.
    pub survey_max_points: f64,
    /// Components in methodology order.
    pub components: Vec<ComponentIndex>,
    /// Total points; `None` for an incomplete unit (see [`IndexScore::is_complete`]).
    pub total_points: Option<f64>,
    /// Total maximum (`total_points` of the methodology for the full index).
    pub max_points: f64,
    /// total / max × 100; `None` for an incomplete unit.
    pub percent: Option<f64>,
    /// Tier of the full index; `None` for survey-only compositions, below the lowest band,
    /// incomplete units and units with insufficient data.
    pub tier: Option<String>,
    /// A counted group has fewer responses than `ranking.min_respondents`: the scores are
    /// shown but neither tiered nor ranked. `false` in snapshots published before the rule.
    #[serde(default)]
    pub insufficient_data: bool,
    /// Flags.
    pub notes: Vec<Note>,
}

impl IndexScore {
    /// Whether every input of the composition had a value, so the unit has a total and may be
    /// tiered and ranked.
    pub fn is_complete(&self) -> bool {
        self.total_points.is_some()
    }

    /// Whether the unit is ranked (and, for the full index, tiered): complete, with enough
    /// respondents in every counted group.
    pub fn is_ranked(&self) -> bool {
        self.is_complete() && !self.insufficient_data
    }
}

// ---------------------------------------------------------------------------------------------
// Points groups
// ---------------------------------------------------------------------------------------------

fn sum_counts(d: &BTreeMap<String, u64>) -> u64 {
    d.values().fold(0u64, |a, &b| a.saturating_add(b))
}

/// Scores one points group for one unit from its tally.
///
/// # Errors
///
/// [`ScoringError::UnknownGroup`] when `group` is not a points group of `m`.
pub fn score_group(
    m: &Methodology,
    group: &str,
    tally: &Tally,
) -> Result<GroupScore, ScoringError> {
    let g = m.group(group).ok_or_else(|| ScoringError::UnknownGroup {
        methodology: m.code.clone(),
        group: group.to_owned(),
    })?;
    let empty = BTreeMap::new();
    let mut notes = Vec::new();
    let mut items = Vec::with_capacity(g.items.len());
    for rule in &g.items {
        let distribution = tally.items.get(&rule.item).unwrap_or(&empty).clone();
        let answered = sum_counts(&distribution);
        if answered > tally.responses {
            notes.push(Note::MoreAnswersThanResponses {
                item: rule.item.clone(),
                answers: answered,
                responses: tally.responses,
            });
        }
        let (mut valid_n, mut weighted) = (0u64, 0.0f64);
        let mut unknown = BTreeMap::new();
        if let Some(table) = m.coefficients_for(rule) {
            for (value, &count) in &distribution {
                if let Some(&coef) = table.values.get(value) {
                    valid_n = valid_n.saturating_add(count);
                    weighted += coef * count as f64;
                } else if !table.invalid.contains(value) && count > 0 {
                    unknown.insert(value.clone(), count);
                }
            }
        }
        if !unknown.is_empty() {
            notes.push(Note::UnknownAnswerValues {
                item: rule.item.clone(),
                values: unknown,
            });
        }
        let mean_coefficient = (valid_n > 0).then(|| weighted / valid_n as f64);
        if mean_coefficient.is_none() {
            notes.push(Note::NoValidAnswers {
                item: rule.item.clone(),
            });
        }
        let points = mean_coefficient.map(|c| rule.points * c);
        let component = m
            .criterion(&rule.criterion)
            .map(|c| c.component.clone())
            .unwrap_or_default();
        items.push(ItemScore {
            item: rule.item.clone(),
            criterion: rule.criterion.clone(),
            component,
            max_points: rule.points,
            answered,
            valid_n,
            mean_coefficient,
            points,
            percent: points.and_then(|p| percent_of(p, rule.points)),
            distribution,
        });
    }
    let mapped: BTreeSet<&str> = g.items.iter().map(|r| r.item.as_str()).collect();
    for item in tally.items.keys().filter(|k| !mapped.contains(k.as_str())) {
        notes.push(Note::UnmappedItem { item: item.clone() });
    }

    // Coverage: the share of the group's points whose items had valid answers.
    let answered_max = items
        .iter()
        .filter(|i| i.points.is_some())
        .map(|i| i.max_points)
        .sum::<f64>();
    let answered_points = items.iter().filter_map(|i| i.points).sum::<f64>();
    // Clamped: summing item points in binary can overshoot 1 by float noise.
    let coverage = percent_of(answered_max, g.max_points).map(|p| (p / 100.0).clamp(0.0, 1.0));
    let key = |x: f64| decimal_key(x, NOISE_DECIMALS);
    let scored =
        answered_max > 0.0 && coverage.is_some_and(|c| key(c) >= key(m.scoring.min_coverage));
    // What an item without data contributes: under `rescale`, its maximum times the share
    // earned on the items with data, so the group (and every subtotal) reads that share.
    let fill = match m.scoring.unanswered_item {
        UnansweredItem::Rescale if answered_max > 0.0 => answered_points / answered_max,
        _ => 0.0,
    };
    let contribution = |i: &ItemScore| i.points.unwrap_or(i.max_points * fill);
    let criteria = subtotals(
        m.criteria.iter().map(|c| c.code.as_str()),
        &items,
        |i| &i.criterion,
        scored.then_some(&contribution),
    );
    let components = subtotals(
        m.components.iter().map(|c| c.code.as_str()),
        &items,
        |i| &i.component,
        scored.then_some(&contribution),
    );
    let points = scored.then(|| items.iter().map(contribution).sum::<f64>());
    Ok(GroupScore {
        methodology: m.code.clone(),
        methodology_version: m.version,
        group: g.code.clone(),
        counts_toward_index: g.counts_toward_index,
        responses: tally.responses,
        points,
        max_points: g.max_points,
        percent: points.and_then(|p| percent_of(p, g.max_points)),
        coverage,
        items,
        criteria,
        components,
        notes,
    })
}

/// Scores a points group from raw per-respondent answers (tallies them first).
///
/// # Errors
///
/// As [`score_group`].
pub fn score_group_responses(
    m: &Methodology,
    group: &str,
    responses: &[BTreeMap<String, String>],
) -> Result<GroupScore, ScoringError> {
    score_group(m, group, &Tally::from_responses(responses))
}

/// Sums items' contributions into subtotals for each code in `order` that has items; without
/// `contribution` (the group has no score) the subtotals have no points either.
fn subtotals<'a>(
    order: impl Iterator<Item = &'a str>,
    items: &[ItemScore],
    key: impl Fn(&ItemScore) -> &String,
    contribution: Option<&dyn Fn(&ItemScore) -> f64>,
) -> Vec<Subtotal> {
    order
        .filter_map(|code| {
            let members: Vec<&ItemScore> = items.iter().filter(|i| key(i) == code).collect();
            if members.is_empty() {
                return None;
            }
            let points = contribution.map(|f| members.iter().map(|i| f(i)).sum::<f64>());
            let max_points = members.iter().map(|i| i.max_points).sum::<f64>();
            Some(Subtotal {
                code: code.to_owned(),
                points,
                max_points,
                percent: points.and_then(|p| percent_of(p, max_points)),
            })
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// SIPAS
// ---------------------------------------------------------------------------------------------

/// Scores SIPAS for one unit with the methodology's rule.
///
/// # Errors
///
/// [`ScoringError::NoSipas`] when `m` has no `[sipas]` section.
pub fn score_sipas(m: &Methodology, tally: &Tally) -> Result<SipasScore, ScoringError> {
    let rule = m
        .sipas
        .as_ref()
        .map(|s| s.rule)
        .ok_or_else(|| ScoringError::NoSipas {
            methodology: m.code.clone(),
        })?;
    score_sipas_with_rule(m, tally, rule)
}

/// Scores SIPAS from raw per-respondent answers with the methodology's rule.
///
/// # Errors
///
/// As [`score_sipas`].
pub fn score_sipas_responses(
    m: &Methodology,
    responses: &[BTreeMap<String, String>],
) -> Result<SipasScore, ScoringError> {
    score_sipas(m, &Tally::from_responses(responses))
}

/// Scores SIPAS with an explicit rule (for comparing `share` and `mean` on the same data).
///
/// # Errors
///
/// As [`score_sipas`].
pub fn score_sipas_with_rule(
    m: &Methodology,
    tally: &Tally,
    rule: SipasRule,
) -> Result<SipasScore, ScoringError> {
    let s = m.sipas.as_ref().ok_or_else(|| ScoringError::NoSipas {
        methodology: m.code.clone(),
    })?;
    let mut notes = Vec::new();
    let mut items = Vec::new();
    let mut elements = Vec::new();
    for element in &s.elements {
        let mut element_percents = Vec::new();
        for item in &element.items {
            let scored = score_sipas_item(s, rule, tally, item, &element.code, &mut notes);
            if let Some(p) = scored.percent {
                element_percents.push(p);
            }
            items.push(scored);
        }
        let percent = mean_of(&element_percents);
        if percent.is_none() {
            notes.push(Note::ElementWithoutData {
                element: element.code.clone(),
            });
        }
        elements.push(SipasSubtotal {
            code: element.code.clone(),
            percent,
            with_data: element_percents.len(),
            members: element.items.len(),
        });
    }
    let mut parts = Vec::new();
    for part in &s.parts {
        let members: Vec<&SipasSubtotal> = s
            .elements
            .iter()
            .zip(&elements)
            .filter(|(def, _)| def.part == part.code)
            .map(|(_, sub)| sub)
            .collect();
        let with: Vec<f64> = members.iter().filter_map(|e| e.percent).collect();
        let percent = mean_of(&with);
        if percent.is_none() {
            notes.push(Note::PartWithoutData {
                part: part.code.clone(),
            });
        }
        parts.push(SipasSubtotal {
            code: part.code.clone(),
            percent,
            with_data: with.len(),
            members: members.len(),
        });
    }
    let part_percents: Vec<f64> = parts.iter().filter_map(|p| p.percent).collect();
    // The headline is a methodology choice: the mean of the parts, or one directly asked
    // "in general" item (the parser guarantees the item is named).
    let overall_item = match (s.headline, &s.overall_item) {
        (SipasHeadline::OverallItem, Some(item)) => {
            Some(score_sipas_item(s, rule, tally, item, "", &mut notes))
        }
        _ => None,
    };
    let overall_percent = match &overall_item {
        Some(item) => item.percent,
        None => mean_of(&part_percents),
    };
    let mapped: BTreeSet<&str> = s
        .elements
        .iter()
        .flat_map(|e| e.items.iter().map(String::as_str))
        .chain(s.overall_item.as_deref())
        .collect();
    for item in tally.items.keys().filter(|k| !mapped.contains(k.as_str())) {
        notes.push(Note::UnmappedItem { item: item.clone() });
    }
    Ok(SipasScore {
        methodology: m.code.clone(),
        methodology_version: m.version,
        group: s.group.clone(),
        rule,
        responses: tally.responses,
        items,
        elements,
        parts,
        overall_item,
        overall_percent,
        index_points: overall_percent.map(|p| p * s.index_points / 100.0),
        index_max_points: s.index_points,
        notes,
    })
}

/// Scores one SIPAS item from its answers: valid answers are those on the scale, the
/// `invalid` ones and any unknown value (flagged in `notes`) are left out.
fn score_sipas_item(
    s: &Sipas,
    rule: SipasRule,
    tally: &Tally,
    item: &str,
    element: &str,
    notes: &mut Vec<Note>,
) -> SipasItemScore {
    let (min, max) = (s.scale_min(), s.scale_max());
    let distribution = tally.items.get(item).cloned().unwrap_or_default();
    let answered = sum_counts(&distribution);
    if answered > tally.responses {
        notes.push(Note::MoreAnswersThanResponses {
            item: item.to_owned(),
            answers: answered,
            responses: tally.responses,
        });
    }
    let (mut valid_n, mut satisfied_n, mut total) = (0u64, 0u64, 0.0f64);
    let mut unknown = BTreeMap::new();
    for (value, &count) in &distribution {
        if let Some(&x) = s.scale.get(value) {
            valid_n = valid_n.saturating_add(count);
            total += x * count as f64;
            if s.satisfied.contains(value) {
                satisfied_n = satisfied_n.saturating_add(count);
            }
        } else if !s.invalid.contains(value) && count > 0 {
            unknown.insert(value.clone(), count);
        }
    }
    if !unknown.is_empty() {
        notes.push(Note::UnknownAnswerValues {
            item: item.to_owned(),
            values: unknown,
        });
    }
    let mean = (valid_n > 0).then(|| total / valid_n as f64);
    let percent = match rule {
        SipasRule::Share => (valid_n > 0).then(|| satisfied_n as f64 * 100.0 / valid_n as f64),
        // The parser guarantees max > min.
        SipasRule::Mean => mean.map(|mu| (mu - min) * 100.0 / (max - min)),
    };
    if percent.is_none() {
        notes.push(Note::NoValidAnswers {
            item: item.to_owned(),
        });
    }
    SipasItemScore {
        item: item.to_owned(),
        element: element.to_owned(),
        answered,
        valid_n,
        satisfied_n,
        mean,
        percent,
        distribution,
    }
}

/// A group's national figure, as the methodology's `[aggregate] national` says: the mean of
/// the units' (points, percent) that have a value, or the group scored once over `pooled`,
/// the tallies of every unit merged. `group` is a points group or the SIPAS group of `m`
/// (SIPAS: index points and headline percent).
///
/// # Errors
///
/// [`ScoringError::UnknownGroup`] when `group` is neither a points group nor the SIPAS group.
pub fn national_figure(
    m: &Methodology,
    group: &str,
    units: &[(Option<f64>, Option<f64>)],
    pooled: &Tally,
) -> Result<(Option<f64>, Option<f64>), ScoringError> {
    match m.aggregate.national {
        NationalAggregate::MeanOfUnits => Ok((
            mean_of_present(units.iter().map(|u| u.0)),
            mean_of_present(units.iter().map(|u| u.1)),
        )),
        NationalAggregate::Pooled if m.group(group).is_some() => {
            let s = score_group(m, group, pooled)?;
            Ok((s.points, s.percent))
        }
        NationalAggregate::Pooled if m.sipas.as_ref().is_some_and(|s| s.group == group) => {
            let s = score_sipas(m, pooled)?;
            Ok((s.index_points, s.overall_percent))
        }
        NationalAggregate::Pooled => Err(ScoringError::UnknownGroup {
            methodology: m.code.clone(),
            group: group.to_owned(),
        }),
    }
}

/// The mean of the values present; `None` when none is. A missing value is never counted as
/// 0: the one rule behind every "n of N units" mean.
pub fn mean_of_present(values: impl IntoIterator<Item = Option<f64>>) -> Option<f64> {
    let present: Vec<f64> = values.into_iter().flatten().collect();
    mean_of(&present)
}

fn mean_of(xs: &[f64]) -> Option<f64> {
    (!xs.is_empty()).then(|| xs.iter().sum::<f64>() / xs.len() as f64)
}

// ---------------------------------------------------------------------------------------------
// Composition into the full index
// ---------------------------------------------------------------------------------------------

/// Composes one unit's index: survey points of the groups that count, points of linked indices
/// (e.g. `"sipas"` → SIPAS index points) and, optionally, appraised (non-survey) points per
/// component. Without `appraised`, the result is the survey part only (max = survey maximum).
///
/// # Errors
///
/// Group scores of another methodology or version, unknown or duplicate groups, unknown
/// linked indices or components, and points outside their allowed range. Missing inputs
/// (a counted group without a score, a linked index or appraised component without points)
/// are not errors: they are listed in [`IndexScore::notes`], and every sum they enter has no
/// value, so the unit is incomplete and is neither tiered nor ranked.
pub fn compose_index(
    m: &Methodology,
    groups: &[GroupScore],
    linked: &BTreeMap<String, f64>,
    appraised: Option<&BTreeMap<String, f64>>,
) -> Result<IndexScore, ScoringError> {
    let expected = format!("{} v{}", m.code, m.version);
    let mut by_code: BTreeMap<&str, &GroupScore> = BTreeMap::new();
    for g in groups {
        if g.methodology != m.code || g.methodology_version != m.version {
            return Err(ScoringError::ForeignGroupScore {
                group: g.group.clone(),
                found: format!("{} v{}", g.methodology, g.methodology_version),
                expected,
            });
        }
        if m.group(&g.group).is_none() {
            return Err(ScoringError::UnknownGroup {
                methodology: m.code.clone(),
                group: g.group.clone(),
            });
        }
        if by_code.insert(g.group.as_str(), g).is_some() {
            return Err(ScoringError::DuplicateGroupScore {
                group: g.group.clone(),
            });
        }
    }
    for (code, &points) in linked {
        let def = m
            .linked_indices
            .iter()
            .find(|l| &l.code == code)
            .ok_or_else(|| ScoringError::UnknownLinkedIndex { code: code.clone() })?;
        if !(0.0..=def.points).contains(&points) {
            return Err(ScoringError::LinkedOutOfRange {
                code: code.clone(),
                points,
                max: def.points,
            });
        }
    }
    let mut notes = Vec::new();
    for g in m.groups.iter().filter(|g| g.counts_toward_index) {
        if by_code
            .get(g.code.as_str())
            .and_then(|s| s.points)
            .is_none()
        {
            notes.push(Note::MissingGroup {
                group: g.code.clone(),
            });
        }
    }
    let mut insufficient_data = false;
    for g in m.groups.iter().filter(|g| g.counts_toward_index) {
        if let Some(s) = by_code.get(g.code.as_str())
            && s.responses < m.ranking.min_respondents
        {
            insufficient_data = true;
            notes.push(Note::InsufficientRespondents {
                group: g.code.clone(),
                responses: s.responses,
                min: m.ranking.min_respondents,
            });
        }
    }
    for l in &m.linked_indices {
        if !linked.contains_key(&l.code) {
            notes.push(Note::MissingLinkedIndex {
                code: l.code.clone(),
            });
        }
    }
    if let Some(a) = appraised {
        for code in a.keys() {
            if m.component(code).is_none() {
                return Err(ScoringError::UnknownComponent {
                    component: code.clone(),
                });
            }
        }
    }

    let mut components = Vec::new();
    for c in &m.components {
        // Survey maxima come from the methodology, not from the scores passed in; a counted
        // group or linked index without a value leaves the component's survey points empty.
        let mut survey_max = 0.0;
        let mut survey = Some(0.0);
        for g in m.groups.iter().filter(|g| g.counts_toward_index) {
            let mut covers = false;
            for rule in &g.items {
                if m.criterion(&rule.criterion)
                    .is_some_and(|k| k.component == c.code)
                {
                    survey_max += rule.points;
                    covers = true;
                }
            }
            if covers {
                let part = by_code
                    .get(g.code.as_str())
                    .and_then(|s| s.component(&c.code))
                    .and_then(|s| s.points);
                survey = survey.zip(part).map(|(a, b)| a + b);
            }
        }
        for l in m.linked_indices.iter().filter(|l| l.component == c.code) {
            survey_max += l.points;
            survey = survey.zip(linked.get(&l.code).copied()).map(|(a, b)| a + b);
        }
        let (appraised_points, points, max_points) = match appraised {
            Some(a) => {
                let appraised_max = c.max_points - survey_max;
                let value = a.get(&c.code).copied();
                match value {
                    Some(v) => {
                        let key = |x: f64| decimal_key(x, NOISE_DECIMALS);
                        let fits =
                            v.is_finite() && key(v) >= Some(0) && key(v) <= key(appraised_max);
                        if !fits {
                            return Err(ScoringError::AppraisedOutOfRange {
                                component: c.code.clone(),
                                points: v,
                                max: appraised_max,
                            });
                        }
                    }
                    None => notes.push(Note::MissingAppraised {
                        component: c.code.clone(),
                    }),
                }
                (value, survey.zip(value).map(|(a, b)| a + b), c.max_points)
            }
            None => (None, survey, survey_max),
        };
        components.push(ComponentIndex {
            code: c.code.clone(),
            survey_points: survey,
            survey_max_points: survey_max,
            appraised_points,
            points,
            max_points,
            percent: points.and_then(|p| percent_of(p, max_points)),
        });
    }
    // A sum of options is `None` as soon as one is.
    let survey_points = components
        .iter()
        .map(|c| c.survey_points)
        .sum::<Option<f64>>();
    let survey_max_points = components.iter().map(|c| c.survey_max_points).sum::<f64>();
    let total_points = components.iter().map(|c| c.points).sum::<Option<f64>>();
    let full_index = appraised.is_some();
    let max_points = if full_index {
        m.total_points
    } else {
        survey_max_points
    };
    let percent = total_points.and_then(|t| percent_of(t, max_points));
    Ok(IndexScore {
        methodology: m.code.clone(),
        methodology_version: m.version,
        full_index,
        survey_points,
        survey_max_points,
        components,
        total_points,
        max_points,
        percent,
        tier: if full_index && !insufficient_data {
            percent.and_then(|p| tier_for(m, p)).map(|t| t.code.clone())
        } else {
            None
        },
        insufficient_data,
        notes,
    })
}

// ---------------------------------------------------------------------------------------------
// Tiers and ranks
// ---------------------------------------------------------------------------------------------

/// The tier band a percentage falls in, judged as the methodology's `tiers.compare` says.
/// With the default `full_precision`, 89.995 is tier B although it displays as "90.00"; with
/// `display_rounded` it is tier A. `None` below the lowest band or for non-finite values.
pub fn tier_for(m: &Methodology, percent: f64) -> Option<&TierBand> {
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
    let inputs: Vec<RankInput> = units
        .iter()
        .filter_map(|u| {
            Some(RankInput {
                unit: u.unit.clone(),
                region: u.region.clone(),
                value: u.index.percent?,
            })
        })
        .collect();
    let tiers: BTreeMap<&str, Option<String>> = units
        .iter()
        .map(|u| (u.unit.as_str(), u.index.tier.clone()))
        .collect();
    let mut total = rank(&m.ranking, m.display.decimals, &inputs);
    for r in &mut total {
        r.tier = tiers.get(r.unit.as_str()).cloned().flatten();
    }
    let components = m
        .components
        .iter()
        .map(|c| {
            let inputs: Vec<RankInput> = units
                .iter()
                .filter_map(|u| {
                    Some(RankInput {
                        unit: u.unit.clone(),
                        region: u.region.clone(),
                        value: u
                            .index
                            .components
                            .iter()
                            .find(|x| x.code == c.code)?
                            .percent?,
                    })
                })
                .collect();
            ComponentRanking {
                component: c.code.clone(),
                ranked: rank(&m.ranking, m.display.decimals, &inputs),
            }
        })
        .collect();
    Rankings { total, components }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::methodology::fixtures::{PAR, SIPAS};

    fn par() -> Methodology {
        Methodology::parse("par.toml", PAR.as_bytes()).unwrap()
    }

    fn sipas() -> Methodology {
        Methodology::parse("sipas.toml", SIPAS.as_bytes()).unwrap()
    }

    /// Builds a tally from `(item, [(value, count)])`.
    fn tally(responses: u64, items: &[(&str, &[(&str, u64)])]) -> Tally {
        Tally {
            responses,
            items: items
                .iter()
                .map(|(item, counts)| {
                    let d = counts.iter().map(|(v, n)| ((*v).to_owned(), *n)).collect();
                    ((*item).to_owned(), d)
                })
                .collect(),
        }
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    #[test]
    fn item_criterion_component_and_group_points_follow_the_mean_coefficient_rule() {
        // q1 (10 points): 10 × "1", 5 × "2", 5 × "3" → (10·1.0 + 5·0.6 + 5·0.2) / 20 = 14 / 20
        //   = 0.7 → 7 points. q2 (10 points): all "1" → 10. q3 (2 points): all "4" → 0.
        // K1 = q1 + q3 = 7 of 12; K2 = q2 = 10 of 10; group = 17 of 22 = 77.27 %.
        let t = tally(
            20,
            &[
                ("q1", &[("1", 10), ("2", 5), ("3", 5)]),
                ("q2", &[("1", 20)]),
                ("q3", &[("4", 20)]),
            ],
        );
        let g = score_group(&par(), "leader", &t).unwrap();
        let q1 = g.item("q1").unwrap();
        assert_eq!((q1.valid_n, q1.answered), (20, 20));
        assert!(close(q1.mean_coefficient.unwrap(), 0.7));
        assert!(close(q1.points.unwrap(), 7.0));
        assert_eq!(q1.component, "C1");
        assert!(close(g.item("q2").unwrap().points.unwrap(), 10.0));
        assert!(close(g.item("q3").unwrap().points.unwrap(), 0.0));
        let k1 = g.criterion("K1").unwrap();
        assert!(close(k1.points.unwrap(), 7.0) && close(k1.max_points, 12.0));
        assert_eq!(fmt_percent(k1.percent.unwrap()), "58.33");
        assert!(close(g.criterion("K2").unwrap().percent.unwrap(), 100.0));
        assert!(close(g.component("C1").unwrap().points.unwrap(), 7.0));
        assert!(close(g.component("C2").unwrap().points.unwrap(), 10.0));
        assert!(close(g.points.unwrap(), 17.0) && close(g.max_points, 22.0));
        assert_eq!(fmt_percent(g.percent.unwrap()), "77.27");
        assert!(g.counts_toward_index);
        assert_eq!(g.notes, vec![]);
    }

    #[test]
    fn dont_know_answers_are_left_out_of_the_mean() {
        // q1: 3 × "1", 1 × "2", 1 × "3", 5 × "dk". Valid n = 5, not 10:
        //   mean = (3·1.0 + 0.6 + 0.2) / 5 = 3.8 / 5 = 0.76 → 10 × 0.76 = 7.6 points.
        // Counting "dk" as 0 would give 3.8 / 10 = 0.38 → 3.8 points.
        let t = tally(10, &[("q1", &[("1", 3), ("2", 1), ("3", 1), ("dk", 5)])]);
        let g = score_group(&par(), "leader", &t).unwrap();
        let q1 = g.item("q1").unwrap();
        assert_eq!((q1.answered, q1.valid_n), (10, 5));
        assert!(close(q1.mean_coefficient.unwrap(), 0.76));
        assert!(close(q1.points.unwrap(), 7.6));
        assert_eq!(
            q1.distribution.get("dk"),
            Some(&5),
            "the distribution keeps every answer"
        );
        assert!(
            !g.notes
                .iter()
                .any(|n| matches!(n, Note::UnknownAnswerValues { .. }))
        );
    }

    #[test]
    fn answers_outside_the_table_are_excluded_and_flagged() {
        // "7" is neither scored nor declared invalid: excluded like "dk", but flagged because it
        // points at an instrument/methodology mismatch.
        let t = tally(4, &[("q1", &[("1", 2), ("7", 2)])]);
        let g = score_group(&par(), "leader", &t).unwrap();
        assert!(close(g.item("q1").unwrap().points.unwrap(), 10.0));
        let expected = BTreeMap::from([("7".to_owned(), 2)]);
        assert!(g.notes.contains(&Note::UnknownAnswerValues {
            item: "q1".into(),
            values: expected
        }));
    }

    /// The test methodology with a `[scoring]` section.
    fn par_with(scoring: &str) -> Methodology {
        let text = PAR.replacen(
            "[display]",
            &format!("[scoring]\n{scoring}\n\n[display]"),
            1,
        );
        Methodology::parse("par.toml", text.as_bytes()).unwrap()
    }

    /// q1, q2 all "1" (20 of the 22 points have data); q3 only "dk".
    fn q3_dont_know() -> Tally {
        tally(
            4,
            &[
                ("q1", &[("1", 4)]),
                ("q2", &[("1", 4)]),
                ("q3", &[("dk", 4)]),
            ],
        )
    }

    #[test]
    fn an_item_without_valid_answers_has_no_points_and_the_group_is_rescaled_over_the_rest() {
        // Only "dk" for q3: no mean exists. Default rule `rescale`: q1 + q2 earn 20 of their
        // 20 points = 100 %, so the group is 100 % of 22 = 22 points; a lone "don't know" does
        // not cost what "Poor" would. Coverage is 20 / 22.
        let g = score_group(&par(), "leader", &q3_dont_know()).unwrap();
        let q3 = g.item("q3").unwrap();
        assert_eq!(q3.valid_n, 0);
        assert_eq!(
            (q3.mean_coefficient, q3.points, q3.percent),
            (None, None, None)
        );
        assert!(
            g.notes
                .contains(&Note::NoValidAnswers { item: "q3".into() })
        );
        assert!(close(g.points.unwrap(), 22.0) && close(g.max_points, 22.0));
        assert!(close(g.percent.unwrap(), 100.0));
        assert!(close(g.coverage.unwrap(), 20.0 / 22.0));
        // Subtotals follow the same rule, so they still add up to the group: K1 = q1 + q3.
        let k1 = g.criterion("K1").unwrap();
        assert!(close(k1.points.unwrap(), 12.0) && close(k1.percent.unwrap(), 100.0));
    }

    #[test]
    fn with_the_zero_rule_an_item_without_valid_answers_counts_zero_points() {
        let m = par_with("unanswered_item = \"zero\"");
        let g = score_group(&m, "leader", &q3_dont_know()).unwrap();
        assert_eq!(g.item("q3").unwrap().points, None);
        assert!(close(g.points.unwrap(), 20.0) && close(g.max_points, 22.0));
        assert!(close(g.criterion("K1").unwrap().points.unwrap(), 10.0));
    }

    #[test]
    fn a_group_without_data_or_below_the_minimum_coverage_has_no_score_never_zero() {
        // No responses at all.
        let empty = score_group(&par(), "leader", &Tally::default()).unwrap();
        assert_eq!((empty.points, empty.percent), (None, None));
        assert_eq!(empty.coverage, Some(0.0));
        assert!(empty.criteria.iter().all(|c| c.points.is_none()));
        assert!(empty.components.iter().all(|c| c.percent.is_none()));
        assert_eq!(empty.notes.len(), 3);
        // Responses, but only "dk" everywhere.
        let dk = tally(
            2,
            &[
                ("q1", &[("dk", 2)]),
                ("q2", &[("dk", 2)]),
                ("q3", &[("dk", 2)]),
            ],
        );
        assert_eq!(score_group(&par(), "leader", &dk).unwrap().points, None);
        // Only q3 (2 of 22 points, 9 %) has data: below the default minimum of 0.5.
        let thin = tally(2, &[("q3", &[("1", 2)])]);
        let g = score_group(&par(), "leader", &thin).unwrap();
        assert_eq!(g.points, None);
        assert!(close(g.coverage.unwrap(), 2.0 / 22.0));
        // With the minimum lowered to 0.05 the same data is scored.
        let lenient = par_with("min_coverage = 0.05");
        let g = score_group(&lenient, "leader", &thin).unwrap();
        assert!(close(g.points.unwrap(), 22.0));
    }

    #[test]
    fn scoring_settings_at_their_defaults_keep_the_content_hash_and_others_round_trip() {
        // Methodologies stored before `[scoring]` existed must keep their hash.
        let spelled = par_with("unanswered_item = \"rescale\"\nmin_coverage = 0.5");
        assert_eq!(spelled.content_hash(), par().content_hash());
        let zero = par_with("unanswered_item = \"zero\"");
        assert_ne!(zero.content_hash(), par().content_hash());
        let back = Methodology::parse("x.toml", zero.to_toml().unwrap().as_bytes()).unwrap();
        assert_eq!(back.scoring.unanswered_item, UnansweredItem::Zero);
        assert_eq!(back.content_hash(), zero.content_hash());
    }

    #[test]
    fn a_unit_below_the_minimum_respondents_keeps_its_scores_but_is_neither_tiered_nor_ranked() {
        let m = {
            let text = PAR.replacen(
                "compare = \"full_precision\"\n",
                "compare = \"full_precision\"\nmin_respondents = 3\n",
                1,
            );
            Methodology::parse("par.toml", text.as_bytes()).unwrap()
        };
        assert_eq!(m.ranking.min_respondents, 3);
        let linked = BTreeMap::from([("sipas".to_owned(), 8.0)]);
        let appraised = BTreeMap::from([("C1".to_owned(), 25.0), ("C2".to_owned(), 35.0)]);
        let compose = |responses: u64| {
            let t = tally(
                responses,
                &[
                    ("q1", &[("1", responses)]),
                    ("q2", &[("1", responses)]),
                    ("q3", &[("1", responses)]),
                ],
            );
            let g = score_group(&m, "leader", &t).unwrap();
            compose_index(&m, &[g], &linked, Some(&appraised)).unwrap()
        };
        let thin = compose(2);
        assert!(thin.is_complete() && !thin.is_ranked() && thin.insufficient_data);
        assert!(thin.total_points.is_some());
        assert_eq!(thin.tier, None);
        assert!(thin.notes.contains(&Note::InsufficientRespondents {
            group: "leader".into(),
            responses: 2,
            min: 3
        }));
        let enough = compose(3);
        assert!(enough.is_ranked() && enough.tier.is_some());
        let units = [("01", thin), ("02", enough)].map(|(unit, index)| UnitIndex {
            unit: unit.into(),
            region: "R".into(),
            index,
        });
        let r = rank_units(&m, &units);
        assert_eq!(ranks(&r.total), pairs(&[("02", 1)]));
        assert_eq!(r.total[0].national.unwrap().of, 1);
    }

    #[test]
    fn a_minimum_coverage_outside_0_to_1_is_refused() {
        let err = Methodology::parse(
            "par.toml",
            PAR.replacen("[display]", "[scoring]\nmin_coverage = 1.5\n\n[display]", 1)
                .as_bytes(),
        )
        .unwrap_err();
        assert!(
            format!("{err:?}").contains("scoring.min_coverage"),
            "{err:?}"
        );
    }

    /// q1 = 10, q2 = 9.234, q3 = 1 → 20.234 of 22.
    fn son_la_like_tally() -> Tally {
        // q2: (900·1.0 + 39·0.6 + 61·0) / 1000 = 923.4 / 1000 = 0.9234 → 9.234 (25 "dk" excluded).
        // q3: (1·1.0 + 1·0) / 2 = 0.5 → 1.0.
        tally(
            1025,
            &[
                ("q1", &[("1", 1025)]),
                ("q2", &[("1", 900), ("2", 39), ("4", 61), ("dk", 25)]),
                ("q3", &[("1", 1), ("4", 1), ("dk", 1023)]),
            ],
        )
    }

    #[test]
    fn a_group_score_of_20_234_of_22_displays_as_20_23_and_91_97_percent() {
        let g = score_group(&par(), "leader", &son_la_like_tally()).unwrap();
        assert!(close(g.points.unwrap(), 20.234), "{}", g.points.unwrap());
        assert_eq!(fmt_points(g.points.unwrap()), "20.23");
        // 20.234 / 22 = 0.919727… → 91.97 %, computed before rounding (20.23 / 22 would give
        // 91.95 %, which is not what was published).
        assert_eq!(fmt_percent(g.percent.unwrap()), "91.97");
        assert_eq!(fmt_percent(percent_of(20.23, 22.0).unwrap()), "91.95");
        let comma = NumberFormat {
            decimals: 2,
            separator: DecimalSeparator::Comma,
        };
        assert_eq!(comma.format(g.points.unwrap()), "20,23");
        assert_eq!(comma.format(g.percent.unwrap()), "91,97");
    }

    #[test]
    fn display_rounding_is_half_away_from_zero_on_the_decimal_value() {
        // 2.675 is stored as 2.67499999999999982…; it must still display as "2.68".
        assert_eq!(fmt_points(2.675), "2.68");
        assert_eq!(fmt_points(1.005), "1.01");
        assert_eq!(fmt_points(0.125), "0.13");
        assert_eq!(fmt_points(-2.675), "-2.68");
        assert_eq!(fmt_points(-0.001), "0.00", "no negative zero");
        assert_eq!(fmt_points(100.0), "100.00");
        assert_eq!(fmt_points(0.1 + 0.2), "0.30");
        let whole = NumberFormat {
            decimals: 0,
            separator: DecimalSeparator::Dot,
        };
        assert_eq!(whole.format(2.5), "3");
        assert_eq!(whole.format(0.5), "1");
        let three = NumberFormat {
            decimals: 3,
            separator: DecimalSeparator::Comma,
        };
        assert_eq!(three.format(20.234 * 100.0 / 22.0), "91,973");
        assert_eq!(decimal_key(2.675, 2), Some(268));
        assert_eq!(decimal_key(-2.675, 2), Some(-268));
        assert_eq!(fmt_points(f64::NAN), MISSING_VALUE);
        assert_eq!(fmt_points(f64::INFINITY), MISSING_VALUE);
        assert!(
            fmt_points(1e300).starts_with('1'),
            "huge values still format without panicking"
        );
        assert_eq!(
            NumberFormat::for_methodology(&par(), DecimalSeparator::Comma).format(1.5),
            "1,50"
        );
    }

    #[test]
    fn the_civil_servant_group_is_scored_but_marked_as_not_counting() {
        // c1 (4 points, yes = 1, no = 0): 3 yes, 1 no, 2 dk → 3 / 4 = 0.75 → 3 points = 75 %.
        let t = tally(6, &[("c1", &[("yes", 3), ("no", 1), ("dk", 2)])]);
        let g = score_group(&par(), "civil", &t).unwrap();
        assert!(!g.counts_toward_index);
        assert!(close(g.points.unwrap(), 3.0));
        assert_eq!(fmt_percent(g.percent.unwrap()), "75.00");
    }

    #[test]
    fn scoring_raw_answers_tallies_them_first() {
        let answers = |pairs: &[(&str, &str)]| -> BTreeMap<String, String> {
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect()
        };
        let respondents = vec![
            answers(&[("q1", "1"), ("q2", "2"), ("q3", "dk")]),
            answers(&[("q1", "3"), ("q2", "2"), ("q3", "1")]),
            answers(&[("q1", "1"), ("q2", "4")]),
        ];
        let t = Tally::from_responses(&respondents);
        assert_eq!(
            t,
            tally(
                3,
                &[
                    ("q1", &[("1", 2), ("3", 1)]),
                    ("q2", &[("2", 2), ("4", 1)]),
                    ("q3", &[("1", 1), ("dk", 1)]),
                ]
            )
        );
        let m = par();
        assert_eq!(
            score_group_responses(&m, "leader", &respondents).unwrap(),
            score_group(&m, "leader", &t).unwrap()
        );
    }

    #[test]
    fn unknown_groups_and_unmapped_or_inconsistent_tallies_are_reported() {
        let m = par();
        assert!(matches!(
            score_group(&m, "citizen", &Tally::default()),
            Err(ScoringError::UnknownGroup { .. })
        ));
        let t = tally(1, &[("q1", &[("1", 2)]), ("zz", &[("1", 1)])]);
        let g = score_group(&m, "leader", &t).unwrap();
        assert!(g.notes.contains(&Note::UnmappedItem { item: "zz".into() }));
        assert!(g.notes.contains(&Note::MoreAnswersThanResponses {
            item: "q1".into(),
            answers: 2,
            responses: 1
        }));
    }

    fn sipas_tally() -> Tally {
        tally(
            12,
            &[
                (
                    "p1",
                    &[("5", 3), ("4", 3), ("3", 2), ("2", 1), ("1", 1), ("0", 2)],
                ),
                ("p2", &[("5", 2), ("4", 2), ("3", 4), ("2", 2)]),
                ("p3", &[("5", 5), ("4", 5)]),
                ("s1", &[("4", 4), ("3", 4), ("1", 2)]),
            ],
        )
    }

    #[test]
    fn sipas_share_rule_averages_items_into_elements_parts_and_overall() {
        // share = satisfied ("4","5") / valid answers ("0" = no answer is excluded):
        //   p1 6/10 = 60 %, p2 4/10 = 40 % → I.A = 50 %;  p3 10/10 → I.B = 100 %;
        //   part I = (50 + 100) / 2 = 75 %;  s1 4/10 → II.A = 40 % → part II = 40 %;
        //   overall = (75 + 40) / 2 = 57.5 % → 57.5 × 10 / 100 = 5.75 index points.
        let s = score_sipas(&sipas(), &sipas_tally()).unwrap();
        assert_eq!(s.rule, SipasRule::Share);
        let p1 = &s.items[0];
        assert_eq!(
            (p1.item.as_str(), p1.answered, p1.valid_n, p1.satisfied_n),
            ("p1", 12, 10, 6)
        );
        assert!(close(p1.percent.unwrap(), 60.0));
        assert!(close(s.element("I.A").unwrap().percent.unwrap(), 50.0));
        assert!(close(s.element("I.B").unwrap().percent.unwrap(), 100.0));
        assert!(close(s.element("II.A").unwrap().percent.unwrap(), 40.0));
        assert!(close(s.part("I").unwrap().percent.unwrap(), 75.0));
        assert!(close(s.part("II").unwrap().percent.unwrap(), 40.0));
        assert!(close(s.overall_percent.unwrap(), 57.5));
        assert!(close(s.index_points.unwrap(), 5.75));
        assert_eq!(s.notes, vec![]);
    }

    /// The test SIPAS methodology with extra lines added to its `[sipas]` section.
    fn sipas_with(extra: &str) -> Methodology {
        let src = SIPAS.replace(
            "index_points = 10\n",
            &format!("index_points = 10\n{extra}\n"),
        );
        Methodology::parse("sipas.toml", src.as_bytes()).unwrap()
    }

    #[test]
    fn the_sipas_headline_can_be_the_directly_asked_overall_item() {
        // Same answers as above (mean of parts 57.5 %), plus "overall": 3 of 4 valid answers
        // satisfied ("0" is no answer) → 75 %, which becomes the headline and the points.
        let m = sipas_with("headline = \"overall_item\"\noverall_item = \"overall\"");
        let mut t = sipas_tally();
        t.items.insert(
            "overall".into(),
            [("5", 2), ("4", 1), ("2", 1), ("0", 8)]
                .map(|(v, n)| (v.to_owned(), n))
                .into(),
        );
        let s = score_sipas(&m, &t).unwrap();
        assert!(close(s.part("I").unwrap().percent.unwrap(), 75.0));
        assert!(close(s.part("II").unwrap().percent.unwrap(), 40.0));
        let item = s.overall_item.as_ref().unwrap();
        assert_eq!((item.valid_n, item.satisfied_n), (4, 3));
        assert!(close(s.overall_percent.unwrap(), 75.0));
        assert!(close(s.index_points.unwrap(), 7.5));
        assert_eq!(s.notes, vec![], "the overall item is mapped, not flagged");
        // Without valid answers on the overall item there is no headline, never 0.
        let s = score_sipas(&m, &sipas_tally()).unwrap();
        assert_eq!((s.overall_percent, s.index_points), (None, None));
        // The default headline ignores the item.
        let s = score_sipas(&sipas(), &t).unwrap();
        assert!(close(s.overall_percent.unwrap(), 57.5));
        assert!(s.overall_item.is_none());
    }

    #[test]
    fn a_national_figure_is_the_mean_of_units_or_the_pooled_respondents() {
        // Two units: one of 1 respondent at 100 %, one of 3 at 0 %.
        let one = tally(
            1,
            &[
                ("q1", &[("1", 1)]),
                ("q2", &[("1", 1)]),
                ("q3", &[("1", 1)]),
            ],
        );
        let three = tally(
            3,
            &[
                ("q1", &[("4", 3)]),
                ("q2", &[("4", 3)]),
                ("q3", &[("4", 3)]),
            ],
        );
        let m = par();
        let scored: Vec<(Option<f64>, Option<f64>)> = [&one, &three]
            .iter()
            .map(|t| {
                let g = score_group(&m, "leader", t).unwrap();
                (g.points, g.percent)
            })
            .chain([(None, None)])
            .collect();
        let mut pooled = one.clone();
        pooled.merge(&three);
        // Mean of units: (100 + 0) / 2 = 50 %; the unit without data is not a 0.
        let (_, percent) = national_figure(&m, "leader", &scored, &pooled).unwrap();
        assert!(close(percent.unwrap(), 50.0));
        // Pooled: every respondent weighs the same, 1 of 4 at the top → 25 %.
        let mut pooled_m = m.clone();
        pooled_m.aggregate.national = NationalAggregate::Pooled;
        let (_, percent) = national_figure(&pooled_m, "leader", &scored, &pooled).unwrap();
        assert!(close(percent.unwrap(), 25.0));
        assert!(national_figure(&pooled_m, "nobody", &scored, &pooled).is_err());
        // Nothing anywhere: no figure.
        let (points, percent) =
            national_figure(&m, "leader", &[(None, None)], &Tally::default()).unwrap();
        assert_eq!((points, percent), (None, None));
    }

    #[test]
    fn sipas_mean_rule_rescales_the_mean_answer_to_a_percentage() {
        // mean % = (mean − 1) / (5 − 1):
        //   p1 mean 36/10 = 3.6 → 65 %;  p2 34/10 = 3.4 → 60 %  → I.A = 62.5 %;
        //   p3 4.5 → 87.5 % → I.B = 87.5 %;  part I = 75 %;
        //   s1 (16 + 12 + 2) / 10 = 3.0 → 50 % → part II = 50 %;
        //   overall = (75 + 50) / 2 = 62.5 % → 6.25 index points.
        let s = score_sipas_with_rule(&sipas(), &sipas_tally(), SipasRule::Mean).unwrap();
        assert_eq!(s.rule, SipasRule::Mean);
        assert!(close(s.items[0].mean.unwrap(), 3.6));
        assert!(close(s.items[0].percent.unwrap(), 65.0));
        assert!(close(s.element("I.A").unwrap().percent.unwrap(), 62.5));
        assert!(close(s.part("I").unwrap().percent.unwrap(), 75.0));
        assert!(close(s.part("II").unwrap().percent.unwrap(), 50.0));
        assert!(close(s.overall_percent.unwrap(), 62.5));
        assert!(close(s.index_points.unwrap(), 6.25));
    }

    #[test]
    fn a_sipas_item_without_valid_answers_is_left_out_of_its_element() {
        // p2 only "0" (no answer) → I.A = p1 alone = 60 %, not (60 + 0) / 2.
        let mut t = sipas_tally();
        t.items
            .insert("p2".into(), BTreeMap::from([("0".to_owned(), 10)]));
        let s = score_sipas(&sipas(), &t).unwrap();
        let a = s.element("I.A").unwrap();
        assert!(close(a.percent.unwrap(), 60.0));
        assert_eq!((a.with_data, a.members), (1, 2));
        assert!(
            s.notes
                .contains(&Note::NoValidAnswers { item: "p2".into() })
        );
        // With no data at all there is no overall percentage and no index points.
        let empty = score_sipas(&sipas(), &Tally::default()).unwrap();
        assert_eq!((empty.overall_percent, empty.index_points), (None, None));
        assert!(
            empty
                .notes
                .contains(&Note::PartWithoutData { part: "II".into() })
        );
        assert!(matches!(
            score_sipas(&par(), &t),
            Err(ScoringError::NoSipas { .. })
        ));
    }

    fn leader_17() -> GroupScore {
        let t = tally(
            20,
            &[
                ("q1", &[("1", 10), ("2", 5), ("3", 5)]),
                ("q2", &[("1", 20)]),
                ("q3", &[("4", 20)]),
            ],
        );
        score_group(&par(), "leader", &t).unwrap()
    }

    #[test]
    fn after_a_partial_appraised_import_only_full_index_units_are_ranked() {
        let m = par();
        let linked = BTreeMap::from([("sipas".to_owned(), 5.75)]);
        let appraised = BTreeMap::from([("C1".to_owned(), 25.0), ("C2".to_owned(), 35.0)]);
        let full = compose_index(&m, &[leader_17()], &linked, Some(&appraised)).unwrap();
        let survey = compose_index(&m, &[leader_17()], &linked, None).unwrap();
        // One unit with appraised points (82.75 of 100), one without (its survey part,
        // 22.75 of 32): only the first is ranked, and the second stands "survey part only".
        let units = [
            UnitIndex {
                unit: "01".into(),
                region: "R".into(),
                index: full.clone(),
            },
            UnitIndex {
                unit: "02".into(),
                region: "R".into(),
                index: survey.clone(),
            },
        ];
        let r = rank_units(&m, &units);
        assert_eq!(r.total.len(), 1);
        assert_eq!(r.total[0].unit, "01");
        assert_eq!(r.total[0].national.map(|p| (p.rank, p.of)), Some((1, 1)));
        assert!(
            r.components
                .iter()
                .all(|c| c.ranked.iter().all(|x| x.unit == "01"))
        );
        assert_eq!(standing(&full, true), Standing::Ranked);
        assert_eq!(standing(&survey, true), Standing::SurveyPartOnly);
        // Without any appraised points, survey parts are what is ranked.
        assert_eq!(standing(&survey, false), Standing::Ranked);
        let only_survey = rank_units(&m, &units[1..]);
        assert_eq!(only_survey.total.len(), 1);
        // A unit missing one appraised component is incomplete, with its survey part kept.
        let partial = BTreeMap::from([("C1".to_owned(), 25.0)]);
        let idx = compose_index(&m, &[leader_17()], &linked, Some(&partial)).unwrap();
        assert_eq!(standing(&idx, true), Standing::Incomplete);
        assert!(idx.survey_points.is_some() && idx.total_points.is_none());
    }

    #[test]
    fn the_full_index_adds_survey_linked_and_appraised_points_per_component() {
        // Leader: C1 7, C2 10 (17 of 22). SIPAS 5.75 of 10 into C2. The civil-servant group
        // does not count. Appraised: C1 25 (of 40 − 12 = 28), C2 35 (of 60 − 20 = 40).
        //   C1 = 7 + 25 = 32 of 40 = 80 %;  C2 = 10 + 5.75 + 35 = 50.75 of 60 = 84.58 %;
        //   total = 82.75 of 100 → tier B. Survey part = 7 + 10 + 5.75 = 22.75 of 32.
        let m = par();
        let civil = score_group(&m, "civil", &tally(1, &[("c1", &[("yes", 1)])])).unwrap();
        let linked = BTreeMap::from([("sipas".to_owned(), 5.75)]);
        let appraised = BTreeMap::from([("C1".to_owned(), 25.0), ("C2".to_owned(), 35.0)]);
        let idx = compose_index(&m, &[leader_17(), civil], &linked, Some(&appraised)).unwrap();
        assert!(idx.full_index);
        assert!(close(idx.survey_points.unwrap(), 22.75) && close(idx.survey_max_points, 32.0));
        let c1 = &idx.components[0];
        assert_eq!(c1.code, "C1");
        assert!(
            close(c1.points.unwrap(), 32.0)
                && close(c1.max_points, 40.0)
                && close(c1.percent.unwrap(), 80.0)
        );
        let c2 = &idx.components[1];
        assert!(close(c2.survey_points.unwrap(), 15.75) && close(c2.survey_max_points, 20.0));
        assert_eq!(fmt_percent(c2.percent.unwrap()), "84.58");
        assert!(close(idx.total_points.unwrap(), 82.75) && close(idx.max_points, 100.0));
        assert!(close(idx.percent.unwrap(), 82.75));
        assert_eq!(idx.tier.as_deref(), Some("B"));
        assert_eq!(idx.notes, vec![]);

        // Without appraised points: the survey part alone, 22.75 of 32 = 71.09 %, no tier.
        let survey = compose_index(&m, &[leader_17()], &linked, None).unwrap();
        assert!(!survey.full_index);
        assert!(close(survey.total_points.unwrap(), 22.75) && close(survey.max_points, 32.0));
        assert_eq!(fmt_percent(survey.percent.unwrap()), "71.09");
        assert_eq!(survey.tier, None);
    }

    #[test]
    fn composition_rejects_inputs_that_do_not_fit_the_methodology() {
        let m = par();
        let none = BTreeMap::new();
        let too_much = BTreeMap::from([("C1".to_owned(), 28.5)]);
        assert!(matches!(
            compose_index(&m, &[leader_17()], &none, Some(&too_much)),
            Err(ScoringError::AppraisedOutOfRange { .. })
        ));
        let unknown = BTreeMap::from([("C9".to_owned(), 1.0)]);
        assert!(matches!(
            compose_index(&m, &[], &none, Some(&unknown)),
            Err(ScoringError::UnknownComponent { .. })
        ));
        let linked = BTreeMap::from([("sipas".to_owned(), 10.5)]);
        assert!(matches!(
            compose_index(&m, &[], &linked, None),
            Err(ScoringError::LinkedOutOfRange { .. })
        ));
        assert!(matches!(
            compose_index(&m, &[leader_17(), leader_17()], &none, None),
            Err(ScoringError::DuplicateGroupScore { .. })
        ));
        let mut foreign = leader_17();
        foreign.methodology_version = 2;
        assert!(matches!(
            compose_index(&m, &[foreign], &none, None),
            Err(ScoringError::ForeignGroupScore { .. })
        ));
        // Missing inputs are not errors: they are flagged and leave the unit incomplete, with
        // no total and no tier (never 0 points, tier D).
        let idx = compose_index(&m, &[], &none, Some(&none)).unwrap();
        assert!(idx.notes.contains(&Note::MissingGroup {
            group: "leader".into()
        }));
        assert!(idx.notes.contains(&Note::MissingLinkedIndex {
            code: "sipas".into()
        }));
        assert!(idx.notes.contains(&Note::MissingAppraised {
            component: "C1".into()
        }));
        assert_eq!(
            (idx.total_points, idx.percent, idx.survey_points),
            (None, None, None)
        );
        assert_eq!(idx.tier, None);
        assert!(!idx.is_complete());
        assert!(idx.components.iter().all(|c| c.points.is_none()));
    }

    fn inputs(values: &[(&str, &str, f64)]) -> Vec<RankInput> {
        values
            .iter()
            .map(|(u, r, v)| RankInput {
                unit: (*u).into(),
                region: (*r).into(),
                value: *v,
            })
            .collect()
    }

    fn ranks(r: &[Ranked]) -> Vec<(String, u32)> {
        r.iter()
            .map(|x| (x.unit.clone(), x.national.map_or(0, |p| p.rank)))
            .collect()
    }

    fn pairs(v: &[(&str, u32)]) -> Vec<(String, u32)> {
        v.iter().map(|(u, r)| ((*u).to_owned(), *r)).collect()
    }

    #[test]
    fn competition_ranking_skips_places_after_a_tie_and_dense_ranking_does_not() {
        let data = inputs(&[
            ("d", "S", 80.0),
            ("b", "N", 85.0),
            ("a", "N", 90.0),
            ("c", "S", 85.0),
        ]);
        let mut settings = par().ranking;
        let r = rank(&settings, 2, &data);
        assert_eq!(ranks(&r), pairs(&[("a", 1), ("b", 2), ("c", 2), ("d", 4)]));
        assert_eq!(r[3].national, Some(Position { rank: 4, of: 4 }));
        settings.ties = TieRule::Dense;
        assert_eq!(
            ranks(&rank(&settings, 2, &data)),
            pairs(&[("a", 1), ("b", 2), ("c", 2), ("d", 3)])
        );
    }

    #[test]
    fn regional_ranks_count_only_the_units_of_the_region() {
        let data = inputs(&[
            ("a", "N", 90.0),
            ("b", "N", 85.0),
            ("c", "S", 85.0),
            ("d", "S", 80.0),
            ("e", "S", 70.0),
        ]);
        let r = rank(&par().ranking, 2, &data);
        let by_unit: BTreeMap<&str, (Option<Position>, Option<Position>)> = r
            .iter()
            .map(|x| (x.unit.as_str(), (x.national, x.regional)))
            .collect();
        assert_eq!(
            by_unit["c"],
            (
                Some(Position { rank: 2, of: 5 }),
                Some(Position { rank: 1, of: 3 })
            )
        );
        assert_eq!(by_unit["b"].1, Some(Position { rank: 2, of: 2 }));
        assert_eq!(by_unit["e"].1, Some(Position { rank: 3, of: 3 }));
    }

    #[test]
    fn ties_are_judged_at_full_precision_or_on_the_displayed_value_as_configured() {
        // 88.724 and 88.718 both display as "88.72".
        let data = inputs(&[("x", "N", 88.724), ("y", "N", 88.718), ("z", "N", 88.0)]);
        let mut settings = par().ranking;
        assert_eq!(
            ranks(&rank(&settings, 2, &data)),
            pairs(&[("x", 1), ("y", 2), ("z", 3)])
        );
        settings.compare = CompareOn::DisplayRounded;
        assert_eq!(
            ranks(&rank(&settings, 2, &data)),
            pairs(&[("x", 1), ("y", 1), ("z", 3)])
        );
        // Full precision ignores binary noise: (0.1 + 0.2) × 100 ties with 30.
        settings.compare = CompareOn::FullPrecision;
        let noisy = inputs(&[("p", "N", (0.1 + 0.2) * 100.0), ("q", "N", 30.0)]);
        assert_eq!(
            ranks(&rank(&settings, 2, &noisy)),
            pairs(&[("p", 1), ("q", 1)])
        );
        // Non-finite values are not ranked and come last.
        let with_nan = inputs(&[("n", "N", f64::NAN), ("m", "N", 1.0)]);
        let r = rank(&settings, 2, &with_nan);
        assert_eq!(r[1].unit, "n");
        assert_eq!(
            (r[1].national, r[0].national),
            (None, Some(Position { rank: 1, of: 1 }))
        );
    }

    #[test]
    fn tier_thresholds_include_their_minimum_and_compare_at_full_precision_by_default() {
        let mut m = par();
        let tier = |m: &Methodology, p: f64| tier_for(m, p).map(|t| t.code.clone());
        assert_eq!(tier(&m, 90.0).as_deref(), Some("A"), "exactly 90.00 is A");
        assert_eq!(
            tier(&m, 19.8 * 100.0 / 22.0).as_deref(),
            Some("A"),
            "19.8 / 22 is 90 % despite float noise"
        );
        assert_eq!(tier(&m, 80.0).as_deref(), Some("B"), "exactly 80.00 is B");
        assert_eq!(tier(&m, 100.0).as_deref(), Some("A"));
        assert_eq!(tier(&m, 89.99).as_deref(), Some("B"));
        // 89.995 displays as "90.00" but is below 90: B at full precision (the default).
        assert_eq!(fmt_percent(89.995), "90.00");
        assert_eq!(tier(&m, 89.995).as_deref(), Some("B"));
        assert_eq!(tier(&m, 79.9999).as_deref(), Some("C"));
        assert_eq!(tier(&m, 69.99).as_deref(), Some("D"));
        assert_eq!(tier(&m, 0.0).as_deref(), Some("D"));
        assert_eq!(tier(&m, -1.0), None, "below the lowest band");
        assert_eq!(tier(&m, f64::NAN), None);
        // With display_rounded, the displayed value decides: 89.995 → "90.00" → A.
        m.tiers.compare = CompareOn::DisplayRounded;
        assert_eq!(tier(&m, 89.995).as_deref(), Some("A"));
        assert_eq!(tier(&m, 89.994).as_deref(), Some("B"));
        assert_eq!(tier(&m, 79.995).as_deref(), Some("B"));
    }

    #[test]
    fn rank_units_ranks_totals_with_tiers_and_each_component() {
        let m = par();
        let linked = BTreeMap::from([("sipas".to_owned(), 5.75)]);
        let unit = |code: &str, region: &str, c1: f64, c2: f64| {
            let appraised = BTreeMap::from([("C1".to_owned(), c1), ("C2".to_owned(), c2)]);
            UnitIndex {
                unit: code.into(),
                region: region.into(),
                index: compose_index(&m, &[leader_17()], &linked, Some(&appraised)).unwrap(),
            }
        };
        // Totals: u1 = 22.75 + 28 + 40 = 90.75 (A); u2 = 22.75 + 25 + 35 = 82.75 (B);
        // u3 = 22.75 + 28 + 30 = 80.75 (B). C1: u1 = u3 (35 of 40) ahead of u2.
        let units = vec![
            unit("u2", "N", 25.0, 35.0),
            unit("u1", "N", 28.0, 40.0),
            unit("u3", "S", 28.0, 30.0),
        ];
        let r = rank_units(&m, &units);
        assert_eq!(ranks(&r.total), pairs(&[("u1", 1), ("u2", 2), ("u3", 3)]));
        let tiers: Vec<Option<&str>> = r.total.iter().map(|x| x.tier.as_deref()).collect();
        assert_eq!(tiers, vec![Some("A"), Some("B"), Some("B")]);
        assert_eq!(r.components[0].component, "C1");
        assert_eq!(
            ranks(&r.components[0].ranked),
            pairs(&[("u1", 1), ("u3", 1), ("u2", 3)])
        );
        assert_eq!(r.total[2].regional, Some(Position { rank: 1, of: 1 }));
    }

    #[test]
    fn results_serialise_byte_identically_on_every_run() {
        let m = par();
        let a = serde_json::to_string(&score_group(&m, "leader", &son_la_like_tally()).unwrap())
            .unwrap();
        let b = serde_json::to_string(&score_group(&m, "leader", &son_la_like_tally()).unwrap())
            .unwrap();
        assert_eq!(a, b);
        let s1 = serde_json::to_string(&score_sipas(&sipas(), &sipas_tally()).unwrap()).unwrap();
        let s2 = serde_json::to_string(&score_sipas(&sipas(), &sipas_tally()).unwrap()).unwrap();
        assert_eq!(s1, s2);
        assert!(
            a.contains("\"distribution\":{\"1\":900,\"2\":39,\"4\":61,\"dk\":25}"),
            "{a}"
        );
    }
}
