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

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::domain::methodology::SipasRule;

mod compose;
mod groups;
mod rank;
mod sipas;

pub use self::compose::compose_index;
pub use self::groups::score_group;
pub use self::rank::{
    ComponentRanking, Position, RankInput, Ranked, Rankings, Standing, UnitIndex, rank, rank_units,
    standing,
};
pub use self::sipas::{national_figure, score_sipas};
pub use crate::domain::number::{
    DecimalSeparator, MISSING_VALUE, NOISE_DECIMALS, NumberFormat, decimal_key, fmt_points,
    percent_of,
};

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

#[cfg(test)]
mod tests;
