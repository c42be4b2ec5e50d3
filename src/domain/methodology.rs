//! Methodology files: how survey answers become index points, kept as versioned data.
//!
//! The official annexes (QĐ 876/QĐ-BNV for the PAR Index, QĐ 1001/QĐ-BNV for SIPAS) are not
//! public, so nothing about points, coefficients, tiers or ranks is a constant in code. Each
//! methodology version is one TOML file (`format = "khaosat-methodology/1"`), parsed and
//! validated here; the scoring engine (`crate::domain::scoring`) only reads the parsed value.
//!
//! # The format in brief
//!
//! Sections marked "optional" take the defaults shown. Every table rejects unknown keys.
//!
//! ```toml
//! format = "khaosat-methodology/1"
//! code = "par-2022"                       # methodology code; results record code + version
//! version = 1                             # ≥ 1
//! total_points = 100                      # optional (100); component maxima must sum to it
//! name = { vi = "…", en = "…" }
//!
//! [provenance]
//! status = "reconstructed"                # or "official"
//! note = { vi = "…", en = "…" }
//! sources = ["https://…"]
//!
//! [display]                               # optional
//! decimals = 2                            # 0..=6; values are rounded only when displayed
//!
//! [scoring]                               # optional
//! unanswered_item = "rescale"             # or "zero"; see "Missing data" below
//! min_coverage = 0.5                      # 0..=1; share of a group's points that had data
//!
//! [aggregate]                             # optional
//! national = "mean_of_units"              # or "pooled"; see "Aggregates" below
//!
//! [ranking]                               # optional
//! ties = "competition"                    # 1,2,2,4 — or "dense": 1,2,2,3
//! compare = "full_precision"              # or "display_rounded"
//! min_respondents = 1                     # per unit × counted group, to be ranked and tiered
//!
//! [tiers]                                 # optional; these are the defaults
//! compare = "full_precision"              # or "display_rounded"
//! bands = [                               # highest first; min ≤ percent < below
//!   { code = "A", min = 90 },
//!   { code = "B", min = 80, below = 90 },
//!   { code = "C", min = 70, below = 80 },
//!   { code = "D", min = 0, below = 70 },
//! ]
//!
//! [quality]                               # optional
//! disclosure_min_n = 10                   # k: see "Disclosure control" below
//! speeder_seconds = 120                   # optional
//!
//! [[component]]
//! code = "C1"
//! name = { vi = "…", en = "…" }
//! max_points = 10                         # in the full index
//! survey_points = 3                       # optional; checked against the mapped items
//!
//! [[criterion]]
//! code = "C1-LD"
//! component = "C1"
//! name = { vi = "…", en = "…" }
//!
//! [coefficient_table.agree4]              # shared, referenced by name
//! values = { "1" = 1.0, "2" = 0.6, "3" = 0.2, "4" = 0.0 }   # coefficients in [0, 1]
//! invalid = ["dk"]                        # excluded from the mean (so is any unlisted value)
//!
//! [[group]]
//! code = "leader"
//! name = { vi = "…", en = "…" }
//! instrument = "par-leader-2022"          # optional, informational
//! counts_toward_index = true
//! max_points = 22                         # must equal the sum of the items' points
//! aggregation = "mean_coefficient"        # optional; the only rule so far
//!
//! [[group.item]]
//! item = "LD_C1_1"                        # instrument item code
//! criterion = "C1-LD"
//! points = 1.5
//! table = "agree4"                        # or inline: coefficients = { values = {…}, invalid = […] }
//!
//! [[linked_index]]                        # points computed by another methodology
//! code = "sipas"
//! name = { vi = "…", en = "…" }
//! component = "C8"
//! points = 10
//!
//! [sipas]                                 # SIPAS rules for the citizen group
//! group = "citizen"
//! name = { vi = "…", en = "…" }
//! rule = "share"                          # or "mean"
//! scale = { "1" = 1, "2" = 2, "3" = 3, "4" = 4, "5" = 5 }   # valid answers → scale value
//! satisfied = ["4", "5"]                  # for "share"
//! invalid = ["0"]                         # no answer
//! index_points = 10                       # optional (10)
//! linked_index = "sipas"                  # optional ("sipas"): the [[linked_index]] it feeds
//! headline = "mean_of_parts"              # optional; or "overall_item" (see "Aggregates")
//! overall_item = "SP_OVERALL"             # required with headline = "overall_item"
//!
//! [[sipas.part]]
//! code = "I"
//! name = { vi = "…", en = "…" }
//!
//! [[sipas.element]]
//! code = "I.A"
//! part = "I"
//! name = { vi = "…", en = "…" }
//! items = ["SP_IA_1", "SP_IA_2"]
//! ```
//!
//! Respondent sub-groups (e.g. provincial council deputies vs. department leaders) are pooled:
//! every respondent of a group weighs the same. Averaging sub-groups first is a documented
//! future extension (a `pooling` setting on `[[group]]`), left out until the annex says which
//! rule the Ministry uses.
//!
//! Points are decimal numbers with at most six decimals. Validation sums them as exact integer
//! micro-points, so "the leader items add up to exactly 22" is a true statement, not a float
//! comparison with a tolerance.
//!
//! # Survey part, index total and appraised points
//!
//! - The **survey part** is what the surveys score: the counted groups (leaders and managers,
//!   22 points) plus the linked indices (SIPAS, 10 points), 32 of 100 under the bundled
//!   methodology. The **index total** adds the appraised (non-survey) points per component and
//!   is out of `total_points` (100).
//! - Appraised points are imported per unit and component
//!   (`khaosat round import-appraised ROUND FILE`). A unit whose points are imported is
//!   composed into the full index; a unit without them keeps its survey part only. Once any unit has appraised points, the round ranks and tiers on the index
//!   total, and units without appraised points are listed unranked as "survey part only", so a
//!   survey part of 32 is never ranked against totals of 100. Without any appraised points, the
//!   round ranks on the survey part and no unit has an index total.
//! - Importing onto a published round is refused: run Compute (the published version stays
//!   public), import the corrected points, then publish a new version.
//! - SIPAS points go to the `[[linked_index]]` whose code the SIPAS methodology names in
//!   `[sipas] linked_index` (default `"sipas"`), never simply to the first linked index.
//!
//! # Aggregates
//!
//! - `[aggregate] national` (default `"mean_of_units"`): the national figure of each points group
//!   and of SIPAS, set in the methodology that scores the group. `"mean_of_units"` is the mean of
//!   the units that have a score (every province weighs the same); `"pooled"` scores every
//!   respondent of the round as one tally (large units weigh more). The national mean of the
//!   survey part and of the index total is always the mean of the units that have one.
//! - `[sipas] headline` (default `"mean_of_parts"`): a unit's SIPAS percentage is the mean of its
//!   parts (each the mean of its elements), or, with `"overall_item"`, the percentage of the
//!   directly asked "in general" item named by `overall_item` (left out of the elements, and
//!   without valid answers no SIPAS score). The bundled files explain their choice.
//!
//! # Missing data
//!
//! Real rounds never cover every unit and group, so what a missing answer means is part of the
//! methodology. These rules are fixed:
//!
//! - **No data, no score.** A unit × group with no responses, or with no valid answer on any
//!   scored item, has no score (null in JSON, empty in CSV, "—" on pages), never 0. The same
//!   holds for SIPAS, its elements and parts: an element or part without data is left out of
//!   the mean above it, and SIPAS without any has no score.
//! - **Complete units only are ranked.** A unit's survey part, total, tier and ranks exist
//!   only when every group that counts toward the index and every linked index (SIPAS) has a
//!   score and, for the full index, its appraised points are imported. Other units are listed
//!   after the ranked ones, marked incomplete, with what they have; ranks run 1..n over the
//!   complete units.
//! - **Honest aggregates.** National and regional means, tier counts and charts cover only the
//!   units that have the value, and say "n of N units".
//!
//! `[scoring]` sets the rest:
//!
//! - `unanswered_item` (default `"rescale"`): an item of a points group without any valid
//!   answer (e.g. only "don't know"). With `"rescale"` the group's percentage is computed over
//!   the points of the items that have valid answers, and its points are that percentage of
//!   the group's maximum; with `"zero"` the item scores 0 points, like the worst answer.
//!   Criterion and component subtotals follow the same rule, so they still add up to the group.
//! - `min_coverage` (default 0.5): each unit × group reports `coverage`, the share of the
//!   group's points whose items had valid answers; below `min_coverage` the group has no score.
//!
//! `[ranking] min_respondents` (default 1): a unit with fewer responses than this in a counted
//! group keeps its scores and total, flagged "insufficient data", but is neither tiered nor
//! ranked.

//!
//! # Disclosure control
//!
//! `[quality] disclosure_min_n` (k, default 10) protects small groups of respondents in what the
//! public sees of a published round:
//!
//! - **Answer distributions.** A unit × group with fewer than k respondents keeps its scores
//!   (points, percent, respondents, criteria and components), but its item rows are not
//!   published: neither answer distributions nor item percentages (with one respondent, an
//!   item percentage is the answer). Not on pages, in downloads or through the API; national
//!   distributions leave it out. Staff see everything.
//! - **Breakdowns** (a group's score per unit split by a categorical question) hide cells with
//!   fewer than k respondents and enough others that no hidden cell can be worked out by
//!   subtraction, and that the hidden cells of any row or column add up to 0 or at least k. A
//!   unit's row total is its published respondents and score, treated as known; a unit with
//!   fewer than k respondents in the group is not split at all (its cells and total are hidden,
//!   and the column totals leave it out).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::ops::Range;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use toml::Spanned;

use crate::domain::items::ScorableItem;
use crate::domain::number::decimal_key;

/// The only format string this parser accepts.
pub const FORMAT: &str = "khaosat-methodology/1";

/// Files larger than this are refused before parsing, so a hostile upload cannot exhaust memory.
pub const MAX_FILE_BYTES: usize = 1024 * 1024;

/// Points are kept to at most this many decimals (validation works in integer micro-points).
pub const POINT_DECIMALS: u32 = 6;

/// The largest display precision a methodology may ask for. Display rounding first strips binary
/// noise at 9 decimals (see `crate::domain::number::decimal_key`), so 6 leaves a safe margin.
pub const MAX_DISPLAY_DECIMALS: u32 = 6;

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

/// What kind of problem a [`MethodologyError`] reports; lets callers and tests match on the class.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// The file exceeds [`MAX_FILE_BYTES`].
    TooLarge,
    /// The file is not valid UTF-8.
    NotUtf8,
    /// TOML syntax error.
    Syntax,
    /// `format` is missing or names a format this code does not understand.
    UnknownFormat,
    /// Valid TOML of the wrong shape: unknown field, missing field, wrong type or enum value.
    Structure,
    /// A value is out of its allowed range (negative points, bad code, too many decimals…).
    InvalidValue,
    /// A coefficient outside [0, 1].
    CoefficientOutOfRange,
    /// Points that must add up do not (group max vs. items, component survey points, total).
    PointsMismatch,
    /// A code defined twice, or an item mapped twice.
    DuplicateCode,
    /// A reference to a component, criterion, table, part or group that is not defined.
    UnknownReference,
    /// A coefficient table without any scored answer value.
    EmptyCoefficientTable,
    /// Tier bands that are unsorted, overlapping or leave gaps.
    BadTierBands,
    /// `check_against`: the group is not defined in this methodology.
    UnknownGroup,
    /// `check_against`: a mapped item does not exist in the instrument.
    ItemNotInInstrument,
    /// `check_against`: a coefficient/scale key is not an option value of the item.
    OptionNotInInstrument,
    /// `check_against`: an option the instrument marks invalid for scoring has a coefficient.
    InvalidOptionScored,
    /// `check_against`: an option valid for scoring has no coefficient, so its answers would be
    /// silently dropped from the mean.
    ValidOptionUnscored,
}

/// One problem in a methodology file, located by file, 1-based line/column and field path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MethodologyError {
    /// The file name given to the parser.
    pub file: String,
    /// 1-based line, when the problem has a location in the file.
    pub line: Option<usize>,
    /// 1-based column (in characters), when known.
    pub column: Option<usize>,
    /// Field path, e.g. `group[leader].item[LD_1].points`.
    pub path: String,
    /// The class of problem.
    pub kind: ErrorKind,
    /// Human-readable explanation.
    pub message: String,
}

impl fmt::Display for MethodologyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
            if let Some(column) = self.column {
                write!(f, ":{column}")?;
            }
        }
        if !self.path.is_empty() {
            write!(f, ": {}", self.path)?;
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for MethodologyError {}

// ---------------------------------------------------------------------------------------------
// The parsed, validated methodology (public domain types)
// ---------------------------------------------------------------------------------------------

/// A bilingual label: Vietnamese (with diacritics) and English.
pub use crate::domain::text::Text;

/// Whether a methodology file copies an official text or was reconstructed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProvenanceStatus {
    /// Reconstructed from public sources; to be replaced by the official annex.
    Reconstructed,
    /// Transcribed from the official annex.
    Official,
}

/// Where the methodology comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Provenance {
    /// Reconstructed or official.
    pub status: ProvenanceStatus,
    /// Bilingual explanation shown with every published result.
    pub note: Text,
    /// Source documents or URLs.
    pub sources: Vec<String>,
}

/// Display settings: values are kept at full precision and only rounded when shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DisplaySettings {
    /// Decimals shown for points and percentages (default 2).
    pub decimals: u32,
}

/// Which value rank ties and tier thresholds are judged on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CompareOn {
    /// The computed value, ignoring only binary floating-point noise below 1e-9.
    FullPrecision,
    /// The value as displayed (rounded to `display.decimals`, half away from zero).
    DisplayRounded,
}

/// How tied values are ranked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TieRule {
    /// Standard competition ranking: 1, 2, 2, 4 ("x" means x−1 units are strictly ahead).
    Competition,
    /// Dense ranking: 1, 2, 2, 3.
    Dense,
}

/// Ranking settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RankingSettings {
    /// Tie rule; default `competition`.
    pub ties: TieRule,
    /// Whether ties are judged at full precision or on the displayed value; default full
    /// precision: a rank must not change when a page shows more or fewer decimals, and the
    /// published figures are computed before rounding (Sơn La 20.234/22 → 91.97 %).
    pub compare: CompareOn,
    /// Responses a unit needs in every counted group to be ranked and tiered; default 1.
    /// Left out of the canonical form at the default, so stored methodologies keep their hash.
    #[serde(skip_serializing_if = "is_one")]
    pub min_respondents: u64,
}

fn is_one(n: &u64) -> bool {
    *n == 1
}

/// How an item of a points group without any valid answer counts in its group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnansweredItem {
    /// The group's percentage is computed over the points of the items that have valid
    /// answers, and the group's points are that percentage of its maximum: a lone "don't
    /// know" neither costs nor earns points.
    Rescale,
    /// The item scores 0 points, exactly like the worst answer.
    Zero,
}

/// How missing answers are scored.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScoringSettings {
    /// Items without any valid answer; default `rescale`.
    pub unanswered_item: UnansweredItem,
    /// Below this share (0..=1) of a group's points having valid answers, the unit × group
    /// has no score; default 0.5.
    pub min_coverage: f64,
}

impl ScoringSettings {
    /// Whether these are the defaults.
    pub fn is_default(&self) -> bool {
        *self == ScoringSettings::default()
    }
}

impl Default for ScoringSettings {
    fn default() -> Self {
        ScoringSettings {
            unanswered_item: UnansweredItem::Rescale,
            min_coverage: 0.5,
        }
    }
}

/// How a national (or regional) figure of a group is formed from the units' answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum NationalAggregate {
    /// The mean of the units' percentages, over the units that have one: every province
    /// weighs the same, whatever its number of respondents.
    #[default]
    MeanOfUnits,
    /// Every respondent of the round pooled into one tally and scored once: large units
    /// weigh more.
    Pooled,
}

/// How national figures are aggregated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct AggregateSettings {
    /// The national figure of each points group and of SIPAS; default `mean_of_units`.
    pub national: NationalAggregate,
}

impl AggregateSettings {
    /// Whether these are the defaults.
    pub fn is_default(&self) -> bool {
        *self == AggregateSettings::default()
    }
}

/// Where a unit's SIPAS headline percentage comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum SipasHeadline {
    /// The mean of the parts' percentages (each part the mean of its elements).
    #[default]
    MeanOfParts,
    /// The percentage of one directly asked "in general" item (`overall_item`).
    OverallItem,
}

impl SipasHeadline {
    /// Whether this is the default.
    pub fn is_default(&self) -> bool {
        *self == SipasHeadline::default()
    }
}

/// The linked-index code SIPAS points go to when the `[sipas]` section names none.
pub const DEFAULT_SIPAS_LINK: &str = "sipas";

fn is_default_sipas_link(code: &str) -> bool {
    code == DEFAULT_SIPAS_LINK
}

/// One tier band: `min ≤ percent < below` (the top band has no `below`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TierBand {
    /// Tier code, e.g. "A".
    pub code: String,
    /// Inclusive lower bound in percent.
    pub min: f64,
    /// Exclusive upper bound in percent; absent for the top band.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub below: Option<f64>,
}

/// Tier settings.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TierSettings {
    /// Which value is compared with the thresholds. Default `full_precision`, for the same
    /// reason as ranks: 89.995 % is below 90 even though it displays as "90.00". Bodies that
    /// want "what you see is what is tiered" can set `display_rounded`.
    pub compare: CompareOn,
    /// Bands from highest to lowest; a percent below the lowest band gets no tier.
    pub bands: Vec<TierBand>,
}

/// Data-quality and disclosure settings used by later features.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct QualitySettings {
    /// Minimum number of responses before a sub-unit breakdown may be shown (default 10).
    pub disclosure_min_n: u64,
    /// Responses completed faster than this many seconds are flagged as speeders.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub speeder_seconds: Option<u64>,
}

/// A component index (lĩnh vực) of the full PAR Index.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Component {
    /// Code, e.g. "C1".
    pub code: String,
    /// Name.
    pub name: Text,
    /// Maximum points of the component in the full index.
    pub max_points: f64,
    /// Of which points come from surveys (checked against the mapped items and linked indices).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub survey_points: Option<f64>,
}

/// A criterion (tiêu chí) within a component; survey items score into criteria.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Criterion {
    /// Code, unique in the methodology.
    pub code: String,
    /// The component it belongs to.
    pub component: String,
    /// Name.
    pub name: Text,
}

/// An answer → coefficient table. Answers not in `values` (including the `invalid` ones) are
/// left out of the mean.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CoefficientTable {
    /// Optional label, e.g. "4-level assessment".
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<Text>,
    /// Answer value → coefficient in [0, 1].
    pub values: BTreeMap<String, f64>,
    /// Answer values that are explicitly not scored (don't know, no answer).
    pub invalid: Vec<String>,
}

/// How a points group turns item scores into the group score.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Aggregation {
    /// Item = points × mean coefficient over valid answers; criterion, component and group are
    /// sums of their items.
    MeanCoefficient,
}

/// One instrument item scored into a criterion.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ItemRule {
    /// The instrument item code.
    pub item: String,
    /// The criterion it scores into.
    pub criterion: String,
    /// Maximum points of the item.
    pub points: f64,
    /// Name of a shared coefficient table (exactly one of `table` / `coefficients`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub table: Option<String>,
    /// Inline coefficient table.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub coefficients: Option<CoefficientTable>,
}

/// A respondent group scored in points (e.g. leaders and managers, worth 22 points).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Group {
    /// Code, e.g. "leader".
    pub code: String,
    /// Name.
    pub name: Text,
    /// The instrument code this group answers (informational; the app binds it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instrument: Option<String>,
    /// Whether the group's points count toward the index (otherwise reported only).
    pub counts_toward_index: bool,
    /// Maximum points; equals the sum of the items' points.
    pub max_points: f64,
    /// Aggregation rule.
    pub aggregation: Aggregation,
    /// Scored items in file order.
    #[serde(rename = "item")]
    pub items: Vec<ItemRule>,
}

/// Points produced by another methodology (e.g. SIPAS → 10 points of component C8).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LinkedIndex {
    /// Code used as key when composing, e.g. "sipas".
    pub code: String,
    /// Name.
    pub name: Text,
    /// Component the points belong to.
    pub component: String,
    /// Maximum points.
    pub points: f64,
}

/// How a SIPAS item percentage is computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SipasRule {
    /// Share of valid answers in the `satisfied` set, in percent.
    Share,
    /// (mean − scale min) / (scale max − scale min), in percent.
    Mean,
}

/// A SIPAS part (I = policy, II = public services).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SipasPart {
    /// Code, e.g. "I".
    pub code: String,
    /// Name.
    pub name: Text,
}

/// A SIPAS element: a set of items within a part.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SipasElement {
    /// Code, e.g. "II.A".
    pub code: String,
    /// Part code.
    pub part: String,
    /// Name.
    pub name: Text,
    /// Instrument item codes.
    pub items: Vec<String>,
}

/// SIPAS rules for the citizen group.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Sipas {
    /// Respondent group code, e.g. "citizen".
    pub group: String,
    /// Name.
    pub name: Text,
    /// The instrument code (informational).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instrument: Option<String>,
    /// Item rule.
    pub rule: SipasRule,
    /// Valid answer value → numeric scale value; anything else is excluded.
    pub scale: BTreeMap<String, f64>,
    /// Values counted as satisfied under `share`.
    pub satisfied: Vec<String>,
    /// Values explicitly excluded (no answer).
    pub invalid: Vec<String>,
    /// Index points: overall % × index_points / 100 (default 10).
    pub index_points: f64,
    /// The code of the linked index (`[[linked_index]]` of the composing methodology) the
    /// SIPAS points go to; default "sipas". Left out of the canonical form at the default.
    #[serde(skip_serializing_if = "is_default_sipas_link")]
    pub linked_index: String,
    /// Where the headline percentage comes from; default the mean of the parts.
    #[serde(skip_serializing_if = "SipasHeadline::is_default")]
    pub headline: SipasHeadline,
    /// The directly asked overall item, required with `headline = "overall_item"`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub overall_item: Option<String>,
    /// Parts in order.
    #[serde(rename = "part")]
    pub parts: Vec<SipasPart>,
    /// Elements in order.
    #[serde(rename = "element")]
    pub elements: Vec<SipasElement>,
}

impl Sipas {
    /// Lowest numeric value of the scale.
    pub fn scale_min(&self) -> f64 {
        self.scale.values().copied().fold(f64::INFINITY, f64::min)
    }
    /// Highest numeric value of the scale.
    pub fn scale_max(&self) -> f64 {
        self.scale
            .values()
            .copied()
            .fold(f64::NEG_INFINITY, f64::max)
    }
}

/// Where parsed entities sit in their file, so `check_against` can point at lines. Not content:
/// excluded from serialisation and from the content hash.
#[derive(Debug, Clone, Default)]
struct SourceLines {
    file: String,
    lines: BTreeMap<String, usize>,
}

/// A parsed and validated methodology version. Construct it with [`Methodology::parse`].
#[derive(Debug, Clone, Serialize)]
pub struct Methodology {
    /// Always [`FORMAT`].
    pub format: String,
    /// Code, e.g. "par-2022".
    pub code: String,
    /// Version number of this code (≥ 1).
    pub version: u32,
    /// Full index maximum (component maxima sum to it); default 100.
    pub total_points: f64,
    /// Name.
    pub name: Text,
    /// Provenance.
    pub provenance: Provenance,
    /// Display settings.
    pub display: DisplaySettings,
    /// How missing answers are scored. Left out of the canonical form when it holds the
    /// defaults, so methodologies stored before the section existed keep their content hash
    /// (a bundled file that spells the defaults out is the same content).
    #[serde(skip_serializing_if = "ScoringSettings::is_default")]
    pub scoring: ScoringSettings,
    /// How national figures are aggregated. Left out of the canonical form at the default.
    #[serde(skip_serializing_if = "AggregateSettings::is_default")]
    pub aggregate: AggregateSettings,
    /// Ranking settings.
    pub ranking: RankingSettings,
    /// Tier settings.
    pub tiers: TierSettings,
    /// Data-quality settings.
    pub quality: QualitySettings,
    /// Components in file order.
    #[serde(rename = "component")]
    pub components: Vec<Component>,
    /// Criteria in file order.
    #[serde(rename = "criterion")]
    pub criteria: Vec<Criterion>,
    /// Shared coefficient tables by name.
    #[serde(rename = "coefficient_table")]
    pub coefficient_tables: BTreeMap<String, CoefficientTable>,
    /// Points groups in file order.
    #[serde(rename = "group")]
    pub groups: Vec<Group>,
    /// Points produced by other methodologies.
    #[serde(rename = "linked_index")]
    pub linked_indices: Vec<LinkedIndex>,
    /// SIPAS rules, when this methodology scores a citizen group.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sipas: Option<Sipas>,
    #[serde(skip)]
    source: SourceLines,
}

impl Methodology {
    /// Parses and validates a methodology file, reporting every problem found.
    ///
    /// TOML syntax and shape errors (unknown field, wrong type) stop parsing at the first one,
    /// because the TOML deserializer cannot continue past them; all semantic problems (sums,
    /// ranges, duplicates, references, tiers) are reported together.
    ///
    /// # Errors
    ///
    /// Every problem found, each with file, 1-based line/column, field path and reason.
    pub fn parse(file_name: &str, bytes: &[u8]) -> Result<Methodology, Vec<MethodologyError>> {
        parse_methodology(file_name, bytes)
    }

    /// The file name the methodology was parsed from.
    pub fn file_name(&self) -> &str {
        &self.source.file
    }

    /// Looks up a points group.
    pub fn group(&self, code: &str) -> Option<&Group> {
        self.groups.iter().find(|g| g.code == code)
    }

    /// Looks up a component.
    pub fn component(&self, code: &str) -> Option<&Component> {
        self.components.iter().find(|c| c.code == code)
    }

    /// Looks up a criterion.
    pub fn criterion(&self, code: &str) -> Option<&Criterion> {
        self.criteria.iter().find(|c| c.code == code)
    }

    /// The coefficient table an item rule uses (inline or shared). Always `Some` for a
    /// methodology built by `parse`, which rejects dangling table names.
    pub fn coefficients_for<'a>(&'a self, rule: &'a ItemRule) -> Option<&'a CoefficientTable> {
        match (&rule.coefficients, &rule.table) {
            (Some(inline), _) => Some(inline),
            (None, Some(name)) => self.coefficient_tables.get(name),
            (None, None) => None,
        }
    }

    /// Canonical JSON: struct fields in declaration order, maps sorted, lists in file order.
    pub fn canonical_json(&self) -> String {
        // Serialising plain structs, strings, finite floats and string-keyed maps cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }

    /// SHA-256 (hex) of the canonical JSON: identical content gives an identical hash
    /// regardless of comments, key order or formatting of the source file.
    pub fn content_hash(&self) -> String {
        hex::encode(Sha256::digest(self.canonical_json().as_bytes()))
    }

    /// Serialises back to the TOML format; `parse(to_toml())` gives the same content hash.
    ///
    /// # Errors
    ///
    /// The serializer's message; not expected for a parsed methodology (finite numbers only).
    pub fn to_toml(&self) -> Result<String, String> {
        toml::to_string_pretty(self).map_err(|e| e.to_string())
    }

    /// Checks one group's mapping against the instrument's scorable items: every mapped item
    /// exists, every coefficient (or SIPAS scale) key is an option of the item, options that are
    /// invalid for scoring have no coefficient and valid options have one.
    pub fn check_against(&self, group: &str, items: &[ScorableItem]) -> Vec<MethodologyError> {
        let by_code: BTreeMap<&str, &ScorableItem> =
            items.iter().map(|i| (i.code.as_str(), i)).collect();
        let mut out = Vec::new();
        if let Some(g) = self.group(group) {
            for rule in &g.items {
                let path = format!("group[{}].item[{}]", g.code, rule.item);
                let Some(table) = self.coefficients_for(rule) else {
                    continue;
                };
                self.check_item(&path, &rule.item, &by_code, &table.values, &mut out);
            }
        } else if let Some(s) = self.sipas.as_ref().filter(|s| s.group == group) {
            for element in &s.elements {
                for item in &element.items {
                    let path = format!("sipas.element[{}].items[{}]", element.code, item);
                    self.check_item(&path, item, &by_code, &s.scale, &mut out);
                }
            }
        } else {
            out.push(self.located_error(
                "group",
                String::new(),
                ErrorKind::UnknownGroup,
                format!(
                    "group \"{group}\" is not defined in methodology {}",
                    self.code
                ),
            ));
        }
        out
    }

    fn check_item(
        &self,
        path: &str,
        item: &str,
        instrument: &BTreeMap<&str, &ScorableItem>,
        scored: &BTreeMap<String, f64>,
        out: &mut Vec<MethodologyError>,
    ) {
        let Some(found) = instrument.get(item) else {
            out.push(self.located_error(
                path,
                path.to_owned(),
                ErrorKind::ItemNotInInstrument,
                format!("item \"{item}\" is not a scorable item of the instrument"),
            ));
            return;
        };
        for value in scored.keys() {
            match found.options.iter().find(|o| &o.value == value) {
                None => out.push(self.located_error(
                    path,
                    path.to_owned(),
                    ErrorKind::OptionNotInInstrument,
                    format!("answer value \"{value}\" is not an option of item \"{item}\""),
                )),
                Some(o) if !o.valid_for_scoring => out.push(self.located_error(
                    path,
                    path.to_owned(),
                    ErrorKind::InvalidOptionScored,
                    format!(
                        "option \"{value}\" of item \"{item}\" is marked invalid for scoring \
                         in the instrument but has a coefficient here"
                    ),
                )),
                Some(_) => {}
            }
        }
        for o in found.options.iter().filter(|o| o.valid_for_scoring) {
            if !scored.contains_key(&o.value) {
                out.push(self.located_error(
                    path,
                    path.to_owned(),
                    ErrorKind::ValidOptionUnscored,
                    format!(
                        "option \"{}\" of item \"{item}\" is valid for scoring but has no \
                         coefficient, so its answers would be dropped from the mean",
                        o.value
                    ),
                ));
            }
        }
    }

    fn located_error(
        &self,
        line_key: &str,
        path: String,
        kind: ErrorKind,
        message: String,
    ) -> MethodologyError {
        MethodologyError {
            file: self.source.file.clone(),
            line: self.source.lines.get(line_key).copied(),
            column: None,
            path,
            kind,
            message,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Raw file shape (with spans)
// ---------------------------------------------------------------------------------------------

/// Only the `format` key, read before anything else so an unknown format is reported as such
/// rather than as a cascade of "unknown field" errors.
#[derive(Deserialize)]
struct RawHeader {
    format: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(rename = "format")]
    _format: Spanned<String>,
    code: Spanned<String>,
    version: Spanned<u32>,
    total_points: Option<Spanned<f64>>,
    name: Spanned<Text>,
    provenance: RawProvenance,
    display: Option<RawDisplay>,
    scoring: Option<RawScoring>,
    ranking: Option<RawRanking>,
    aggregate: Option<RawAggregate>,
    tiers: Option<Spanned<RawTiers>>,
    quality: Option<RawQuality>,
    #[serde(default, rename = "component")]
    components: Vec<Spanned<RawComponent>>,
    #[serde(default, rename = "criterion")]
    criteria: Vec<Spanned<RawCriterion>>,
    #[serde(default, rename = "coefficient_table")]
    coefficient_tables: BTreeMap<String, Spanned<RawTable>>,
    #[serde(default, rename = "group")]
    groups: Vec<Spanned<RawGroup>>,
    #[serde(default, rename = "linked_index")]
    linked_indices: Vec<Spanned<RawLinked>>,
    sipas: Option<Spanned<RawSipas>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProvenance {
    status: ProvenanceStatus,
    note: Spanned<Text>,
    #[serde(default)]
    sources: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDisplay {
    decimals: Option<Spanned<u32>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScoring {
    unanswered_item: Option<UnansweredItem>,
    min_coverage: Option<Spanned<f64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAggregate {
    national: Option<NationalAggregate>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRanking {
    ties: Option<TieRule>,
    compare: Option<CompareOn>,
    min_respondents: Option<Spanned<u64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTiers {
    compare: Option<CompareOn>,
    bands: Vec<Spanned<RawBand>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBand {
    code: Spanned<String>,
    min: Spanned<f64>,
    below: Option<Spanned<f64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawQuality {
    disclosure_min_n: Option<Spanned<u64>>,
    speeder_seconds: Option<Spanned<u64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawComponent {
    code: Spanned<String>,
    name: Text,
    max_points: Spanned<f64>,
    survey_points: Option<Spanned<f64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCriterion {
    code: Spanned<String>,
    component: Spanned<String>,
    name: Text,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTable {
    name: Option<Text>,
    #[serde(default)]
    values: BTreeMap<String, Spanned<f64>>,
    #[serde(default)]
    invalid: Vec<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGroup {
    code: Spanned<String>,
    name: Text,
    instrument: Option<String>,
    counts_toward_index: bool,
    max_points: Spanned<f64>,
    aggregation: Option<Aggregation>,
    #[serde(default, rename = "item")]
    items: Vec<Spanned<RawItem>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawItem {
    item: Spanned<String>,
    criterion: Spanned<String>,
    points: Spanned<f64>,
    table: Option<Spanned<String>>,
    coefficients: Option<Spanned<RawTable>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLinked {
    code: Spanned<String>,
    name: Text,
    component: Spanned<String>,
    points: Spanned<f64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSipas {
    group: Spanned<String>,
    name: Text,
    instrument: Option<String>,
    rule: SipasRule,
    scale: Spanned<BTreeMap<String, Spanned<f64>>>,
    #[serde(default)]
    satisfied: Vec<Spanned<String>>,
    #[serde(default)]
    invalid: Vec<Spanned<String>>,
    index_points: Option<Spanned<f64>>,
    linked_index: Option<Spanned<String>>,
    headline: Option<SipasHeadline>,
    overall_item: Option<Spanned<String>>,
    #[serde(default, rename = "part")]
    parts: Vec<Spanned<RawPart>>,
    #[serde(default, rename = "element")]
    elements: Vec<Spanned<RawElement>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPart {
    code: Spanned<String>,
    name: Text,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawElement {
    code: Spanned<String>,
    part: Spanned<String>,
    name: Text,
    items: Vec<Spanned<String>>,
}

// ---------------------------------------------------------------------------------------------
// Parsing and validation
// ---------------------------------------------------------------------------------------------

/// Collects errors and turns byte spans into line/column positions.
struct Ctx<'a> {
    file: &'a str,
    src: &'a str,
    errors: Vec<MethodologyError>,
}

impl Ctx<'_> {
    fn position(&self, offset: usize) -> (usize, usize) {
        line_col(self.src, offset)
    }

    fn err(
        &mut self,
        span: Option<Range<usize>>,
        path: impl Into<String>,
        kind: ErrorKind,
        msg: impl Into<String>,
    ) {
        let (line, column) = match span {
            Some(s) => {
                let (l, c) = self.position(s.start);
                (Some(l), Some(c))
            }
            None => (None, None),
        };
        self.errors.push(MethodologyError {
            file: self.file.to_owned(),
            line,
            column,
            path: path.into(),
            kind,
            message: msg.into(),
        });
    }

    fn line_of(&self, span: &Range<usize>) -> usize {
        self.position(span.start).0
    }

    /// Checks a code: non-empty, no whitespace or control characters (codes end up in URLs,
    /// CSV headers and error messages).
    fn code(&mut self, code: &Spanned<String>, path: &str) -> bool {
        let c = code.get_ref();
        if c.is_empty() || c.chars().any(|ch| ch.is_whitespace() || ch.is_control()) {
            self.err(
                Some(code.span()),
                path,
                ErrorKind::InvalidValue,
                format!("code {c:?} must be non-empty and contain no whitespace"),
            );
            return false;
        }
        true
    }

    /// Checks a points value: finite, positive (or ≥ 0 when `allow_zero`), at most
    /// [`POINT_DECIMALS`] decimals. Returns the value in integer micro-points.
    fn points(&mut self, v: &Spanned<f64>, path: &str, allow_zero: bool) -> Option<i128> {
        let x = *v.get_ref();
        let ok_sign = if allow_zero { x >= 0.0 } else { x > 0.0 };
        if !x.is_finite() || !ok_sign {
            let want = if allow_zero { "≥ 0" } else { "> 0" };
            self.err(
                Some(v.span()),
                path,
                ErrorKind::InvalidValue,
                format!("points must be a finite number {want}, found {x}"),
            );
            return None;
        }
        micro_points(x).or_else(|| {
            self.err(
                Some(v.span()),
                path,
                ErrorKind::InvalidValue,
                format!("points {x} have more than {POINT_DECIMALS} decimals"),
            );
            None
        })
    }

    fn text(&mut self, t: &Text, span: Option<Range<usize>>, path: &str) {
        if t.vi.trim().is_empty() || t.en.trim().is_empty() {
            self.err(
                span,
                path,
                ErrorKind::InvalidValue,
                "both `vi` and `en` names are required",
            );
        }
    }
}

/// 1-based line and character column of a byte offset.
fn line_col(src: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(src.len());
    let before = src.get(..offset).unwrap_or(src);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before.get(line_start..).map_or(0, |s| s.chars().count()) + 1;
    (line, column)
}

/// Exact integer micro-points of a decimal value with at most six decimals.
fn micro_points(x: f64) -> Option<i128> {
    let exact = decimal_key(x, 9)?;
    // The nine-decimal key must end in three zeros, otherwise the value has more decimals.
    (exact % 1000 == 0).then_some(exact / 1000)
}

fn fmt_micro(m: i128) -> String {
    let sign = if m < 0 { "-" } else { "" };
    let a = m.unsigned_abs();
    let int = a / 1_000_000;
    let frac = a % 1_000_000;
    if frac == 0 {
        format!("{sign}{int}")
    } else {
        let f = format!("{frac:06}");
        format!("{sign}{int}.{}", f.trim_end_matches('0'))
    }
}

/// Nearest preceding `[table]` / `[[array]]` header, to name a path for serde errors, which
/// carry a span but no public key path.
fn header_before(src: &str, offset: usize) -> String {
    let before = src.get(..offset.min(src.len())).unwrap_or(src);
    before
        .lines()
        .rev()
        .map(str::trim)
        .find(|l| l.starts_with('['))
        .map(|l| l.trim_matches(|c| c == '[' || c == ']').trim().to_owned())
        .unwrap_or_default()
}

fn toml_error(ctx: &mut Ctx<'_>, e: &toml::de::Error, kind: ErrorKind) {
    let span = e.span();
    let path = span
        .as_ref()
        .map(|s| {
            let key = ctx.src.get(s.clone()).unwrap_or("").trim();
            let header = header_before(ctx.src, s.start);
            let short_key = key.len() <= 64 && !key.is_empty() && !key.contains('\n');
            match (header.is_empty(), short_key) {
                (true, true) => key.to_owned(),
                (true, false) => String::new(),
                (false, true) => format!("{header}.{key}"),
                (false, false) => header,
            }
        })
        .unwrap_or_default();
    ctx.err(span, path, kind, e.message().trim().to_owned());
}

fn parse_methodology(file: &str, bytes: &[u8]) -> Result<Methodology, Vec<MethodologyError>> {
    let whole_file = |kind, message: String, line: Option<usize>| {
        vec![MethodologyError {
            file: file.to_owned(),
            line,
            column: None,
            path: String::new(),
            kind,
            message,
        }]
    };
    if bytes.len() > MAX_FILE_BYTES {
        return Err(whole_file(
            ErrorKind::TooLarge,
            format!(
                "file is {} bytes; the limit is {MAX_FILE_BYTES} bytes (1 MiB)",
                bytes.len()
            ),
            None,
        ));
    }
    let src = match std::str::from_utf8(bytes) {
        Ok(s) => s,
        Err(e) => {
            let valid = bytes.get(..e.valid_up_to()).unwrap_or_default();
            let line = valid.iter().filter(|&&b| b == b'\n').count() + 1;
            return Err(whole_file(
                ErrorKind::NotUtf8,
                format!(
                    "file is not valid UTF-8 (first bad byte at offset {})",
                    e.valid_up_to()
                ),
                Some(line),
            ));
        }
    };
    let mut ctx = Ctx {
        file,
        src,
        errors: Vec::new(),
    };

    let header: RawHeader = match toml::from_str(src) {
        Ok(h) => h,
        Err(e) => {
            toml_error(&mut ctx, &e, ErrorKind::Syntax);
            return Err(ctx.errors);
        }
    };
    match header.format {
        None => {
            ctx.err(
                Some(0..0),
                "format",
                ErrorKind::UnknownFormat,
                format!("missing `format`; expected format = \"{FORMAT}\""),
            );
            return Err(ctx.errors);
        }
        Some(f) if f.get_ref() != FORMAT => {
            ctx.err(
                Some(f.span()),
                "format",
                ErrorKind::UnknownFormat,
                format!(
                    "unknown format {:?}; this version reads \"{FORMAT}\"",
                    f.get_ref()
                ),
            );
            return Err(ctx.errors);
        }
        Some(_) => {}
    }

    let raw: RawFile = match toml::from_str(src) {
        Ok(r) => r,
        Err(e) => {
            toml_error(&mut ctx, &e, ErrorKind::Structure);
            return Err(ctx.errors);
        }
    };
    let built = validate(&mut ctx, raw);
    if ctx.errors.is_empty() {
        built.ok_or(ctx.errors)
    } else {
        Err(ctx.errors)
    }
}

/// Validates a coefficient table; returns the plain table.
fn validate_table(ctx: &mut Ctx<'_>, t: &Spanned<RawTable>, path: &str) -> CoefficientTable {
    let raw = t.get_ref();
    let mut values = BTreeMap::new();
    for (key, v) in &raw.values {
        let x = *v.get_ref();
        if key.is_empty() {
            ctx.err(
                Some(v.span()),
                format!("{path}.values"),
                ErrorKind::InvalidValue,
                "empty answer value",
            );
        }
        if !(0.0..=1.0).contains(&x) {
            ctx.err(
                Some(v.span()),
                format!("{path}.values.\"{key}\""),
                ErrorKind::CoefficientOutOfRange,
                format!("coefficient {x} for answer \"{key}\" is outside [0, 1]"),
            );
        }
        values.insert(key.clone(), x);
    }
    let mut invalid = Vec::new();
    let mut seen = BTreeSet::new();
    for v in &raw.invalid {
        let value = v.get_ref();
        if raw.values.contains_key(value) {
            ctx.err(
                Some(v.span()),
                format!("{path}.invalid"),
                ErrorKind::InvalidValue,
                format!("answer \"{value}\" is listed as invalid but also has a coefficient"),
            );
        }
        if !seen.insert(value.clone()) {
            ctx.err(
                Some(v.span()),
                format!("{path}.invalid"),
                ErrorKind::DuplicateCode,
                format!("answer \"{value}\" is listed twice"),
            );
        }
        invalid.push(value.clone());
    }
    if raw.values.is_empty() {
        ctx.err(
            Some(t.span()),
            path,
            ErrorKind::EmptyCoefficientTable,
            "coefficient table has no scored answer value; every answer would be excluded",
        );
    }
    CoefficientTable {
        name: raw.name.clone(),
        values,
        invalid,
    }
}

fn default_bands() -> Vec<TierBand> {
    vec![
        TierBand {
            code: "A".into(),
            min: 90.0,
            below: None,
        },
        TierBand {
            code: "B".into(),
            min: 80.0,
            below: Some(90.0),
        },
        TierBand {
            code: "C".into(),
            min: 70.0,
            below: Some(80.0),
        },
        TierBand {
            code: "D".into(),
            min: 0.0,
            below: Some(70.0),
        },
    ]
}

fn validate_tiers(ctx: &mut Ctx<'_>, tiers: &Spanned<RawTiers>) -> TierSettings {
    let raw = tiers.get_ref();
    if raw.bands.is_empty() {
        ctx.err(
            Some(tiers.span()),
            "tiers.bands",
            ErrorKind::BadTierBands,
            "at least one tier band is required",
        );
    }
    let mut bands = Vec::new();
    let mut codes = BTreeSet::new();
    let mut prev: Option<&RawBand> = None;
    for (i, b) in raw.bands.iter().enumerate() {
        let band = b.get_ref();
        let path = format!("tiers.bands[{i}]");
        ctx.code(&band.code, &format!("{path}.code"));
        if !codes.insert(band.code.get_ref().clone()) {
            ctx.err(
                Some(band.code.span()),
                format!("{path}.code"),
                ErrorKind::DuplicateCode,
                format!("tier code \"{}\" is used twice", band.code.get_ref()),
            );
        }
        let min = *band.min.get_ref();
        if !(0.0..=100.0).contains(&min) {
            ctx.err(
                Some(band.min.span()),
                format!("{path}.min"),
                ErrorKind::BadTierBands,
                format!("min {min} must be a percent in [0, 100]"),
            );
        }
        match (prev, &band.below) {
            (None, Some(below)) => ctx.err(
                Some(below.span()),
                format!("{path}.below"),
                ErrorKind::BadTierBands,
                "the first (highest) band has no upper limit; remove `below`",
            ),
            (None, None) => {}
            (Some(p), None) => ctx.err(
                Some(b.span()),
                format!("{path}.below"),
                ErrorKind::BadTierBands,
                format!(
                    "band \"{}\" must state below = {} (the min of band \"{}\")",
                    band.code.get_ref(),
                    p.min.get_ref(),
                    p.code.get_ref()
                ),
            ),
            (Some(p), Some(below)) => {
                let pmin = *p.min.get_ref();
                let below_v = *below.get_ref();
                if min >= pmin {
                    ctx.err(
                        Some(band.min.span()),
                        format!("{path}.min"),
                        ErrorKind::BadTierBands,
                        format!(
                            "bands must be listed from highest to lowest: min {min} is not below \
                             the min {pmin} of band \"{}\"",
                            p.code.get_ref()
                        ),
                    );
                } else if decimal_key(below_v, 9) != decimal_key(pmin, 9) {
                    let what = if below_v > pmin {
                        "overlaps"
                    } else {
                        "leaves a gap below"
                    };
                    ctx.err(
                        Some(below.span()),
                        format!("{path}.below"),
                        ErrorKind::BadTierBands,
                        format!(
                            "band \"{}\" (below {below_v}) {what} band \"{}\" (min {pmin}); \
                             below must equal {pmin}",
                            band.code.get_ref(),
                            p.code.get_ref()
                        ),
                    );
                }
            }
        }
        bands.push(TierBand {
            code: band.code.get_ref().clone(),
            min,
            below: band.below.as_ref().map(|b| *b.get_ref()),
        });
        prev = Some(band);
    }
    TierSettings {
        compare: raw.compare.unwrap_or(CompareOn::FullPrecision),
        bands,
    }
}

/// Validates everything and builds the domain value. Returns `None` only when an error was
/// recorded (the caller then reports `ctx.errors`).
fn validate(ctx: &mut Ctx<'_>, raw: RawFile) -> Option<Methodology> {
    let mut lines = BTreeMap::new();

    ctx.code(&raw.code, "code");
    if *raw.version.get_ref() == 0 {
        ctx.err(
            Some(raw.version.span()),
            "version",
            ErrorKind::InvalidValue,
            "version must be ≥ 1",
        );
    }
    ctx.text(raw.name.get_ref(), Some(raw.name.span()), "name");

    let total_points = raw.total_points.as_ref().map_or(100.0, |t| *t.get_ref());
    let total_micro = match &raw.total_points {
        Some(t) => ctx.points(t, "total_points", false),
        None => Some(100_000_000),
    };

    let decimals = match raw.display.as_ref().and_then(|d| d.decimals.as_ref()) {
        Some(d) => {
            if *d.get_ref() > MAX_DISPLAY_DECIMALS {
                ctx.err(
                    Some(d.span()),
                    "display.decimals",
                    ErrorKind::InvalidValue,
                    format!("decimals must be at most {MAX_DISPLAY_DECIMALS}"),
                );
            }
            *d.get_ref()
        }
        None => 2,
    };
    let mut scoring = ScoringSettings::default();
    if let Some(sc) = &raw.scoring {
        if let Some(rule) = sc.unanswered_item {
            scoring.unanswered_item = rule;
        }
        if let Some(c) = &sc.min_coverage {
            let v = *c.get_ref();
            if !(0.0..=1.0).contains(&v) {
                ctx.err(
                    Some(c.span()),
                    "scoring.min_coverage",
                    ErrorKind::InvalidValue,
                    "must be from 0 to 1",
                );
            }
            scoring.min_coverage = v;
        }
    }
    let ranking = RankingSettings {
        ties: raw
            .ranking
            .as_ref()
            .and_then(|r| r.ties)
            .unwrap_or(TieRule::Competition),
        compare: raw
            .ranking
            .as_ref()
            .and_then(|r| r.compare)
            .unwrap_or(CompareOn::FullPrecision),
        min_respondents: match raw
            .ranking
            .as_ref()
            .and_then(|r| r.min_respondents.as_ref())
        {
            Some(n) => {
                if *n.get_ref() == 0 {
                    ctx.err(
                        Some(n.span()),
                        "ranking.min_respondents",
                        ErrorKind::InvalidValue,
                        "must be ≥ 1",
                    );
                }
                *n.get_ref()
            }
            None => 1,
        },
    };
    let tiers = match &raw.tiers {
        Some(t) => validate_tiers(ctx, t),
        None => TierSettings {
            compare: CompareOn::FullPrecision,
            bands: default_bands(),
        },
    };
    let mut quality = QualitySettings {
        disclosure_min_n: 10,
        speeder_seconds: None,
    };
    if let Some(q) = &raw.quality {
        if let Some(k) = &q.disclosure_min_n {
            if *k.get_ref() == 0 {
                ctx.err(
                    Some(k.span()),
                    "quality.disclosure_min_n",
                    ErrorKind::InvalidValue,
                    "must be ≥ 1",
                );
            }
            quality.disclosure_min_n = *k.get_ref();
        }
        if let Some(s) = &q.speeder_seconds {
            if *s.get_ref() == 0 {
                ctx.err(
                    Some(s.span()),
                    "quality.speeder_seconds",
                    ErrorKind::InvalidValue,
                    "must be ≥ 1",
                );
            }
            quality.speeder_seconds = Some(*s.get_ref());
        }
    }

    // Components.
    let mut components = Vec::new();
    let mut comp_first_line: BTreeMap<String, usize> = BTreeMap::new();
    let mut comp_max_micro: BTreeMap<String, i128> = BTreeMap::new();
    let mut sum_max: Option<i128> = Some(0);
    for c in &raw.components {
        let rc = c.get_ref();
        let code = rc.code.get_ref().clone();
        let path = format!("component[{code}]");
        ctx.code(&rc.code, &format!("{path}.code"));
        ctx.text(&rc.name, Some(c.span()), &format!("{path}.name"));
        if let Some(first) = comp_first_line.get(&code) {
            ctx.err(
                Some(rc.code.span()),
                format!("{path}.code"),
                ErrorKind::DuplicateCode,
                format!("component \"{code}\" is already defined on line {first}"),
            );
        } else {
            comp_first_line.insert(code.clone(), ctx.line_of(&rc.code.span()));
        }
        let max = ctx.points(&rc.max_points, &format!("{path}.max_points"), false);
        if let Some(m) = max {
            comp_max_micro.entry(code.clone()).or_insert(m);
        }
        sum_max = sum_max.zip(max).map(|(a, b)| a + b);
        if let Some(sp) = &rc.survey_points {
            let s = ctx.points(sp, &format!("{path}.survey_points"), true);
            if let (Some(s), Some(m)) = (s, max)
                && s > m
            {
                ctx.err(
                    Some(sp.span()),
                    format!("{path}.survey_points"),
                    ErrorKind::PointsMismatch,
                    format!(
                        "survey points {} exceed the component maximum {}",
                        fmt_micro(s),
                        fmt_micro(m)
                    ),
                );
            }
        }
        components.push(Component {
            code,
            name: rc.name.clone(),
            max_points: *rc.max_points.get_ref(),
            survey_points: rc.survey_points.as_ref().map(|s| *s.get_ref()),
        });
    }
    if !raw.components.is_empty()
        && let (Some(sum), Some(total)) = (sum_max, total_micro)
        && sum != total
    {
        let span = raw
            .total_points
            .as_ref()
            .map(|t| t.span())
            .or_else(|| raw.components.first().map(|c| c.span()));
        ctx.err(
            span,
            "total_points",
            ErrorKind::PointsMismatch,
            format!(
                "component max_points sum to {}, but total_points is {}",
                fmt_micro(sum),
                fmt_micro(total)
            ),
        );
    }

    // Criteria.
    let mut criteria = Vec::new();
    let mut crit_component: BTreeMap<String, String> = BTreeMap::new();
    let mut crit_line: BTreeMap<String, usize> = BTreeMap::new();
    for c in &raw.criteria {
        let rc = c.get_ref();
        let code = rc.code.get_ref().clone();
        let path = format!("criterion[{code}]");
        ctx.code(&rc.code, &format!("{path}.code"));
        ctx.text(&rc.name, Some(c.span()), &format!("{path}.name"));
        if let Some(first) = crit_line.get(&code) {
            ctx.err(
                Some(rc.code.span()),
                format!("{path}.code"),
                ErrorKind::DuplicateCode,
                format!("criterion \"{code}\" is already defined on line {first}"),
            );
        } else {
            crit_line.insert(code.clone(), ctx.line_of(&rc.code.span()));
            crit_component.insert(code.clone(), rc.component.get_ref().clone());
        }
        if !comp_first_line.contains_key(rc.component.get_ref()) {
            ctx.err(
                Some(rc.component.span()),
                format!("{path}.component"),
                ErrorKind::UnknownReference,
                format!("unknown component \"{}\"", rc.component.get_ref()),
            );
        }
        criteria.push(Criterion {
            code,
            component: rc.component.get_ref().clone(),
            name: rc.name.clone(),
        });
    }

    // Shared coefficient tables.
    let mut coefficient_tables = BTreeMap::new();
    for (name, t) in &raw.coefficient_tables {
        let path = format!("coefficient_table[{name}]");
        let table = validate_table(ctx, t, &path);
        coefficient_tables.insert(name.clone(), table);
    }

    // Groups. Survey micro-points per component, from groups that count.
    let mut survey_by_component: BTreeMap<String, i128> = BTreeMap::new();
    let mut groups = Vec::new();
    let mut group_line: BTreeMap<String, usize> = BTreeMap::new();
    for g in &raw.groups {
        let rg = g.get_ref();
        let code = rg.code.get_ref().clone();
        let gpath = format!("group[{code}]");
        ctx.code(&rg.code, &format!("{gpath}.code"));
        ctx.text(&rg.name, Some(g.span()), &format!("{gpath}.name"));
        if let Some(first) = group_line.get(&code) {
            ctx.err(
                Some(rg.code.span()),
                format!("{gpath}.code"),
                ErrorKind::DuplicateCode,
                format!("group \"{code}\" is already defined on line {first}"),
            );
        } else {
            let line = ctx.line_of(&rg.code.span());
            group_line.insert(code.clone(), line);
            lines.insert(gpath.clone(), line);
        }
        let max = ctx.points(&rg.max_points, &format!("{gpath}.max_points"), false);
        if rg.items.is_empty() {
            ctx.err(
                Some(g.span()),
                format!("{gpath}.item"),
                ErrorKind::InvalidValue,
                "group scores no item",
            );
        }
        let mut item_line: BTreeMap<String, usize> = BTreeMap::new();
        let mut sum: Option<i128> = Some(0);
        let mut items = Vec::new();
        for it in &rg.items {
            let ri = it.get_ref();
            let item = ri.item.get_ref().clone();
            let ipath = format!("{gpath}.item[{item}]");
            ctx.code(&ri.item, &format!("{ipath}.item"));
            if let Some(first) = item_line.get(&item) {
                ctx.err(
                    Some(ri.item.span()),
                    format!("{ipath}.item"),
                    ErrorKind::DuplicateCode,
                    format!("item \"{item}\" is already mapped on line {first}"),
                );
            } else {
                let line = ctx.line_of(&ri.item.span());
                item_line.insert(item.clone(), line);
                lines.insert(ipath.clone(), line);
            }
            let component = crit_component.get(ri.criterion.get_ref()).cloned();
            if component.is_none() {
                ctx.err(
                    Some(ri.criterion.span()),
                    format!("{ipath}.criterion"),
                    ErrorKind::UnknownReference,
                    format!("unknown criterion \"{}\"", ri.criterion.get_ref()),
                );
            }
            let p = ctx.points(&ri.points, &format!("{ipath}.points"), false);
            sum = sum.zip(p).map(|(a, b)| a + b);
            if let (true, Some(c), Some(p)) = (rg.counts_toward_index, &component, p) {
                *survey_by_component.entry(c.clone()).or_insert(0) += p;
            }
            let coefficients = match (&ri.table, &ri.coefficients) {
                (Some(_), Some(c)) => {
                    ctx.err(
                        Some(c.span()),
                        format!("{ipath}.coefficients"),
                        ErrorKind::InvalidValue,
                        "give either `table` or `coefficients`, not both",
                    );
                    None
                }
                (None, None) => {
                    ctx.err(
                        Some(it.span()),
                        format!("{ipath}.table"),
                        ErrorKind::InvalidValue,
                        "missing `table` (a shared coefficient table) or inline `coefficients`",
                    );
                    None
                }
                (Some(t), None) => {
                    if !raw.coefficient_tables.contains_key(t.get_ref()) {
                        ctx.err(
                            Some(t.span()),
                            format!("{ipath}.table"),
                            ErrorKind::UnknownReference,
                            format!("unknown coefficient table \"{}\"", t.get_ref()),
                        );
                    }
                    None
                }
                (None, Some(c)) => Some(validate_table(ctx, c, &format!("{ipath}.coefficients"))),
            };
            items.push(ItemRule {
                item,
                criterion: ri.criterion.get_ref().clone(),
                points: *ri.points.get_ref(),
                table: ri.table.as_ref().map(|t| t.get_ref().clone()),
                coefficients,
            });
        }
        if let (Some(sum), Some(max)) = (sum, max)
            && sum != max
            && !rg.items.is_empty()
        {
            ctx.err(
                Some(rg.max_points.span()),
                format!("{gpath}.max_points"),
                ErrorKind::PointsMismatch,
                format!(
                    "group max_points is {} but its items' points sum to {}",
                    fmt_micro(max),
                    fmt_micro(sum)
                ),
            );
        }
        groups.push(Group {
            code,
            name: rg.name.clone(),
            instrument: rg.instrument.clone(),
            counts_toward_index: rg.counts_toward_index,
            max_points: *rg.max_points.get_ref(),
            aggregation: rg.aggregation.unwrap_or(Aggregation::MeanCoefficient),
            items,
        });
    }

    // Linked indices.
    let mut linked_indices = Vec::new();
    let mut linked_line: BTreeMap<String, usize> = BTreeMap::new();
    for l in &raw.linked_indices {
        let rl = l.get_ref();
        let code = rl.code.get_ref().clone();
        let path = format!("linked_index[{code}]");
        ctx.code(&rl.code, &format!("{path}.code"));
        ctx.text(&rl.name, Some(l.span()), &format!("{path}.name"));
        if let Some(first) = linked_line.get(&code) {
            ctx.err(
                Some(rl.code.span()),
                format!("{path}.code"),
                ErrorKind::DuplicateCode,
                format!("linked index \"{code}\" is already defined on line {first}"),
            );
        } else {
            linked_line.insert(code.clone(), ctx.line_of(&rl.code.span()));
        }
        if !comp_first_line.contains_key(rl.component.get_ref()) {
            ctx.err(
                Some(rl.component.span()),
                format!("{path}.component"),
                ErrorKind::UnknownReference,
                format!("unknown component \"{}\"", rl.component.get_ref()),
            );
        }
        if let Some(p) = ctx.points(&rl.points, &format!("{path}.points"), false) {
            *survey_by_component
                .entry(rl.component.get_ref().clone())
                .or_insert(0) += p;
        }
        linked_indices.push(LinkedIndex {
            code,
            name: rl.name.clone(),
            component: rl.component.get_ref().clone(),
            points: *rl.points.get_ref(),
        });
    }

    // Component survey points: declared value must equal what the counted groups and linked
    // indices put into the component; undeclared, the survey points must still fit the max.
    for c in &raw.components {
        let rc = c.get_ref();
        let code = rc.code.get_ref();
        let path = format!("component[{code}]");
        let survey = survey_by_component.get(code).copied().unwrap_or(0);
        match &rc.survey_points {
            Some(sp) => {
                if let Some(declared) = micro_points(*sp.get_ref())
                    && declared != survey
                {
                    ctx.err(
                        Some(sp.span()),
                        format!("{path}.survey_points"),
                        ErrorKind::PointsMismatch,
                        format!(
                            "survey_points is {} but counted group items and linked \
                                 indices put {} points into component \"{code}\"",
                            fmt_micro(declared),
                            fmt_micro(survey)
                        ),
                    );
                }
            }
            None => {
                if let Some(&max) = comp_max_micro.get(code)
                    && survey > max
                {
                    ctx.err(
                        Some(rc.max_points.span()),
                        format!("{path}.max_points"),
                        ErrorKind::PointsMismatch,
                        format!(
                            "survey items put {} points into component \"{code}\", more \
                                 than its max_points {}",
                            fmt_micro(survey),
                            fmt_micro(max)
                        ),
                    );
                }
            }
        }
    }

    let sipas = raw
        .sipas
        .as_ref()
        .map(|s| validate_sipas(ctx, s, &group_line, &mut lines));

    if raw.groups.is_empty() && raw.sipas.is_none() && raw.linked_indices.is_empty() {
        ctx.err(
            Some(0..0),
            "group",
            ErrorKind::InvalidValue,
            "the methodology scores nothing: define a [[group]], a [sipas] section or a [[linked_index]]",
        );
    }

    let note = &raw.provenance.note;
    ctx.text(note.get_ref(), Some(note.span()), "provenance.note");
    let provenance = Provenance {
        status: raw.provenance.status,
        note: note.get_ref().clone(),
        sources: raw.provenance.sources.clone(),
    };

    if !ctx.errors.is_empty() {
        return None;
    }
    Some(Methodology {
        format: FORMAT.to_owned(),
        code: raw.code.get_ref().clone(),
        version: *raw.version.get_ref(),
        total_points,
        name: raw.name.get_ref().clone(),
        provenance,
        display: DisplaySettings { decimals },
        scoring,
        aggregate: AggregateSettings {
            national: raw
                .aggregate
                .as_ref()
                .and_then(|a| a.national)
                .unwrap_or_default(),
        },
        ranking,
        tiers,
        quality,
        components,
        criteria,
        coefficient_tables,
        groups,
        linked_indices,
        sipas,
        source: SourceLines {
            file: ctx.file.to_owned(),
            lines,
        },
    })
}

fn validate_sipas(
    ctx: &mut Ctx<'_>,
    s: &Spanned<RawSipas>,
    group_line: &BTreeMap<String, usize>,
    lines: &mut BTreeMap<String, usize>,
) -> Sipas {
    let rs = s.get_ref();
    ctx.code(&rs.group, "sipas.group");
    ctx.text(&rs.name, Some(s.span()), "sipas.name");
    if let Some(first) = group_line.get(rs.group.get_ref()) {
        ctx.err(
            Some(rs.group.span()),
            "sipas.group",
            ErrorKind::DuplicateCode,
            format!(
                "group \"{}\" is already a points group on line {first}",
                rs.group.get_ref()
            ),
        );
    }
    lines.insert("sipas".to_owned(), ctx.line_of(&rs.group.span()));

    let mut scale = BTreeMap::new();
    for (value, v) in rs.scale.get_ref() {
        let x = *v.get_ref();
        if !x.is_finite() {
            ctx.err(
                Some(v.span()),
                format!("sipas.scale.\"{value}\""),
                ErrorKind::InvalidValue,
                "scale value must be finite",
            );
        }
        scale.insert(value.clone(), x);
    }
    let distinct: BTreeSet<Option<i128>> = scale.values().map(|&x| decimal_key(x, 9)).collect();
    if distinct.len() < 2 {
        ctx.err(
            Some(rs.scale.span()),
            "sipas.scale",
            ErrorKind::InvalidValue,
            "the scale needs at least two distinct numeric values",
        );
    }
    let mut satisfied = Vec::new();
    for v in &rs.satisfied {
        if !scale.contains_key(v.get_ref()) {
            ctx.err(
                Some(v.span()),
                "sipas.satisfied",
                ErrorKind::UnknownReference,
                format!("satisfied value \"{}\" is not a scale value", v.get_ref()),
            );
        }
        satisfied.push(v.get_ref().clone());
    }
    if rs.rule == SipasRule::Share && rs.satisfied.is_empty() {
        ctx.err(
            Some(s.span()),
            "sipas.satisfied",
            ErrorKind::InvalidValue,
            "rule \"share\" needs a non-empty `satisfied` set",
        );
    }
    let mut invalid = Vec::new();
    for v in &rs.invalid {
        if scale.contains_key(v.get_ref()) {
            ctx.err(
                Some(v.span()),
                "sipas.invalid",
                ErrorKind::InvalidValue,
                format!(
                    "answer \"{}\" is listed as invalid but is a scale value",
                    v.get_ref()
                ),
            );
        }
        invalid.push(v.get_ref().clone());
    }
    let index_points = match &rs.index_points {
        Some(p) => {
            ctx.points(p, "sipas.index_points", false);
            *p.get_ref()
        }
        None => 10.0,
    };

    let linked_index = match &rs.linked_index {
        Some(code) => {
            ctx.code(code, "sipas.linked_index");
            code.get_ref().clone()
        }
        None => DEFAULT_SIPAS_LINK.to_owned(),
    };
    let headline = rs.headline.unwrap_or_default();
    let overall_item = match (&rs.overall_item, headline) {
        (Some(item), _) => {
            ctx.code(item, "sipas.overall_item");
            Some(item.get_ref().clone())
        }
        (None, SipasHeadline::OverallItem) => {
            ctx.err(
                Some(s.span()),
                "sipas.overall_item",
                ErrorKind::InvalidValue,
                "headline = \"overall_item\" needs `overall_item`, the code of the directly asked overall item",
            );
            None
        }
        (None, SipasHeadline::MeanOfParts) => None,
    };
    let mut parts = Vec::new();
    let mut part_line: BTreeMap<String, usize> = BTreeMap::new();
    for p in &rs.parts {
        let rp = p.get_ref();
        let code = rp.code.get_ref().clone();
        ctx.code(&rp.code, &format!("sipas.part[{code}].code"));
        ctx.text(
            &rp.name,
            Some(p.span()),
            &format!("sipas.part[{code}].name"),
        );
        if let Some(first) = part_line.get(&code) {
            ctx.err(
                Some(rp.code.span()),
                format!("sipas.part[{code}].code"),
                ErrorKind::DuplicateCode,
                format!("part \"{code}\" is already defined on line {first}"),
            );
        } else {
            part_line.insert(code.clone(), ctx.line_of(&rp.code.span()));
        }
        parts.push(SipasPart {
            code,
            name: rp.name.clone(),
        });
    }
    if rs.parts.is_empty() {
        ctx.err(
            Some(s.span()),
            "sipas.part",
            ErrorKind::InvalidValue,
            "at least one [[sipas.part]] is required",
        );
    }

    let mut elements = Vec::new();
    let mut element_line: BTreeMap<String, usize> = BTreeMap::new();
    let mut item_line: BTreeMap<String, usize> = BTreeMap::new();
    let mut parts_used = BTreeSet::new();
    for e in &rs.elements {
        let re = e.get_ref();
        let code = re.code.get_ref().clone();
        let path = format!("sipas.element[{code}]");
        ctx.code(&re.code, &format!("{path}.code"));
        ctx.text(&re.name, Some(e.span()), &format!("{path}.name"));
        if let Some(first) = element_line.get(&code) {
            ctx.err(
                Some(re.code.span()),
                format!("{path}.code"),
                ErrorKind::DuplicateCode,
                format!("element \"{code}\" is already defined on line {first}"),
            );
        } else {
            element_line.insert(code.clone(), ctx.line_of(&re.code.span()));
        }
        if part_line.contains_key(re.part.get_ref()) {
            parts_used.insert(re.part.get_ref().clone());
        } else {
            ctx.err(
                Some(re.part.span()),
                format!("{path}.part"),
                ErrorKind::UnknownReference,
                format!("unknown part \"{}\"", re.part.get_ref()),
            );
        }
        if re.items.is_empty() {
            ctx.err(
                Some(e.span()),
                format!("{path}.items"),
                ErrorKind::InvalidValue,
                "element has no items",
            );
        }
        let mut items = Vec::new();
        for it in &re.items {
            let item = it.get_ref().clone();
            let ipath = format!("{path}.items[{item}]");
            ctx.code(it, &ipath);
            if let Some(first) = item_line.get(&item) {
                ctx.err(
                    Some(it.span()),
                    ipath,
                    ErrorKind::DuplicateCode,
                    format!("item \"{item}\" is already mapped on line {first}"),
                );
            } else {
                let line = ctx.line_of(&it.span());
                item_line.insert(item.clone(), line);
                lines.insert(ipath, line);
            }
            items.push(item);
        }
        elements.push(SipasElement {
            code,
            part: re.part.get_ref().clone(),
            name: re.name.clone(),
            items,
        });
    }
    for p in &rs.parts {
        if !parts_used.contains(p.get_ref().code.get_ref()) {
            ctx.err(
                Some(p.span()),
                format!("sipas.part[{}]", p.get_ref().code.get_ref()),
                ErrorKind::InvalidValue,
                "part has no element",
            );
        }
    }

    Sipas {
        group: rs.group.get_ref().clone(),
        name: rs.name.clone(),
        instrument: rs.instrument.clone(),
        rule: rs.rule,
        scale,
        satisfied,
        invalid,
        index_points,
        linked_index,
        headline,
        overall_item,
        parts,
        elements,
    }
}

/// Small hand-checkable methodology files shared by the tests of this module and `scoring`.
#[cfg(test)]
pub(crate) mod fixtures {
    /// A PAR-style methodology: two components, a leader group worth 22 points (counted), a
    /// civil-servant group (reported only) and a linked SIPAS index of 10 points.
    pub(crate) const PAR: &str = r#"format = "khaosat-methodology/1"
code = "test-par"
version = 1
total_points = 100
name = { vi = "Phương pháp thử", en = "Test methodology" }

[provenance]
status = "reconstructed"
note = { vi = "Dữ liệu thử", en = "Test data" }
sources = ["unit test"]

[display]
decimals = 2

[ranking]
ties = "competition"
compare = "full_precision"

[tiers]
compare = "full_precision"
bands = [
  { code = "A", min = 90 },
  { code = "B", min = 80, below = 90 },
  { code = "C", min = 70, below = 80 },
  { code = "D", min = 0, below = 70 },
]

[quality]
disclosure_min_n = 10
speeder_seconds = 120

[[component]]
code = "C1"
name = { vi = "Lĩnh vực 1", en = "Component 1" }
max_points = 40
survey_points = 12

[[component]]
code = "C2"
name = { vi = "Lĩnh vực 2", en = "Component 2" }
max_points = 60
survey_points = 20

[[criterion]]
code = "K1"
component = "C1"
name = { vi = "Tiêu chí 1", en = "Criterion 1" }

[[criterion]]
code = "K2"
component = "C2"
name = { vi = "Tiêu chí 2", en = "Criterion 2" }

[coefficient_table.agree4]
name = { vi = "Đánh giá 4 mức", en = "4-level assessment" }
values = { "1" = 1.0, "2" = 0.6, "3" = 0.2, "4" = 0.0 }
invalid = ["dk"]

[[group]]
code = "leader"
name = { vi = "Lãnh đạo, quản lý", en = "Leaders and managers" }
instrument = "test-leader"
counts_toward_index = true
max_points = 22

[[group.item]]
item = "q1"
criterion = "K1"
points = 10
table = "agree4"

[[group.item]]
item = "q2"
criterion = "K2"
points = 10
table = "agree4"

[[group.item]]
item = "q3"
criterion = "K1"
points = 2
table = "agree4"

[[group]]
code = "civil"
name = { vi = "Công chức", en = "Civil servants" }
counts_toward_index = false
max_points = 4

[[group.item]]
item = "c1"
criterion = "K1"
points = 4
coefficients = { values = { "yes" = 1.0, "no" = 0.0 }, invalid = ["dk"] }

[[linked_index]]
code = "sipas"
name = { vi = "Chỉ số SIPAS", en = "SIPAS index" }
component = "C2"
points = 10
"#;

    /// A SIPAS methodology: part I (elements I.A with two items, I.B with one), part II
    /// (element II.A with one item); 5-point scale, "0" = no answer.
    pub(crate) const SIPAS: &str = r#"format = "khaosat-methodology/1"
code = "test-sipas"
version = 1
name = { vi = "SIPAS thử", en = "Test SIPAS" }

[provenance]
status = "reconstructed"
note = { vi = "Dữ liệu thử", en = "Test data" }

[sipas]
group = "citizen"
name = { vi = "Người dân, tổ chức", en = "Citizens and organisations" }
rule = "share"
scale = { "1" = 1, "2" = 2, "3" = 3, "4" = 4, "5" = 5 }
satisfied = ["4", "5"]
invalid = ["0"]
index_points = 10

[[sipas.part]]
code = "I"
name = { vi = "Chính sách", en = "Policy" }

[[sipas.part]]
code = "II"
name = { vi = "Dịch vụ hành chính công", en = "Public administrative services" }

[[sipas.element]]
code = "I.A"
part = "I"
name = { vi = "Tiếp cận chính sách", en = "Access to policy" }
items = ["p1", "p2"]

[[sipas.element]]
code = "I.B"
part = "I"
name = { vi = "Kết quả chính sách", en = "Policy results" }
items = ["p3"]

[[sipas.element]]
code = "II.A"
part = "II"
name = { vi = "Tiếp cận dịch vụ", en = "Access to the service" }
items = ["s1"]
"#;
}

#[cfg(test)]
mod tests {
    use super::fixtures::{PAR, SIPAS};
    use super::*;
    use crate::domain::items::ScorableOption;

    fn parse(src: &str) -> Result<Methodology, Vec<MethodologyError>> {
        Methodology::parse("test.toml", src.as_bytes())
    }

    fn errors(src: &str) -> Vec<MethodologyError> {
        match parse(src) {
            Ok(_) => panic!("expected errors"),
            Err(e) => e,
        }
    }

    /// 1-based line of the `n`-th (0-based) line containing `needle`.
    fn line_of(src: &str, needle: &str, n: usize) -> usize {
        src.lines()
            .enumerate()
            .filter(|(_, l)| l.contains(needle))
            .nth(n)
            .map(|(i, _)| i + 1)
            .expect("needle present")
    }

    /// Replaces exactly one occurrence (panics if the fixture drifted).
    fn edit(src: &str, from: &str, to: &str) -> String {
        assert_eq!(
            src.matches(from).count(),
            1,
            "fixture must contain {from:?} once"
        );
        src.replace(from, to)
    }

    fn only(errors: &[MethodologyError], kind: ErrorKind) -> &MethodologyError {
        let found: Vec<_> = errors.iter().filter(|e| e.kind == kind).collect();
        assert_eq!(found.len(), 1, "expected one {kind:?} error in {errors:#?}");
        found[0]
    }

    #[test]
    fn the_fixtures_parse_and_fill_in_defaults() {
        let m = parse(PAR).unwrap();
        assert_eq!(m.code, "test-par");
        assert_eq!(m.groups.len(), 2);
        assert_eq!(m.group("leader").unwrap().max_points, 22.0);
        assert!(!m.group("civil").unwrap().counts_toward_index);
        assert_eq!(
            m.group("leader").unwrap().aggregation,
            Aggregation::MeanCoefficient
        );
        assert_eq!(m.quality.speeder_seconds, Some(120));
        let s = parse(SIPAS).unwrap();
        assert_eq!(s.total_points, 100.0, "total_points defaults to 100");
        assert_eq!(s.display.decimals, 2, "display decimals default to 2");
        assert_eq!(s.ranking.ties, TieRule::Competition);
        assert_eq!(s.ranking.compare, CompareOn::FullPrecision);
        assert_eq!(s.tiers.bands.len(), 4, "default bands A/B/C/D");
        assert_eq!(s.quality.disclosure_min_n, 10);
        let sipas = s.sipas.as_ref().unwrap();
        assert_eq!((sipas.scale_min(), sipas.scale_max()), (1.0, 5.0));
    }

    #[test]
    fn a_group_whose_items_do_not_add_up_to_its_max_is_reported_at_max_points() {
        let src = edit(PAR, "max_points = 22", "max_points = 21.5");
        let errs = errors(&src);
        let e = only(&errs, ErrorKind::PointsMismatch);
        assert_eq!(e.line, Some(line_of(&src, "max_points = 21.5", 0)));
        assert_eq!(e.path, "group[leader].max_points");
        assert!(
            e.message.contains("21.5") && e.message.contains("22"),
            "{}",
            e.message
        );
        assert_eq!(e.file, "test.toml");
    }

    #[test]
    fn component_survey_points_that_do_not_match_the_mapped_items_are_reported() {
        // C2 receives q2 (10) + linked SIPAS (10) = 20.
        let src = edit(PAR, "survey_points = 20", "survey_points = 18");
        let errs = errors(&src);
        let e = only(&errs, ErrorKind::PointsMismatch);
        assert_eq!(e.line, Some(line_of(&src, "survey_points = 18", 0)));
        assert_eq!(e.path, "component[C2].survey_points");
        assert!(e.message.contains("20"), "{}", e.message);
    }

    #[test]
    fn component_maxima_that_do_not_sum_to_the_total_are_reported_at_total_points() {
        let src = edit(PAR, "max_points = 60", "max_points = 59");
        let errs = errors(&src);
        let e = only(&errs, ErrorKind::PointsMismatch);
        assert_eq!(e.line, Some(line_of(&src, "total_points = 100", 0)));
        assert_eq!(e.path, "total_points");
    }

    #[test]
    fn a_coefficient_outside_zero_to_one_is_reported_at_its_value() {
        let src = edit(PAR, r#""2" = 0.6"#, r#""2" = 1.6"#);
        let errs = errors(&src);
        let e = only(&errs, ErrorKind::CoefficientOutOfRange);
        let line = line_of(&src, r#""2" = 1.6"#, 0);
        assert_eq!(e.line, Some(line));
        let col = src.lines().nth(line - 1).unwrap().find("1.6").unwrap() + 1;
        assert_eq!(e.column, Some(col), "column points at the value");
        assert_eq!(e.path, r#"coefficient_table[agree4].values."2""#);
        let negative = errors(&edit(PAR, r#""no" = 0.0"#, r#""no" = -0.1"#));
        assert_eq!(
            only(&negative, ErrorKind::CoefficientOutOfRange).path,
            r#"group[civil].item[c1].coefficients.values."no""#
        );
    }

    #[test]
    fn duplicate_component_and_criterion_codes_are_reported_at_the_second_definition() {
        let src = edit(PAR, "code = \"C2\"", "code = \"C1\"");
        let errs = errors(&src);
        let dup = errs
            .iter()
            .find(|e| e.kind == ErrorKind::DuplicateCode)
            .unwrap();
        assert_eq!(dup.line, Some(line_of(&src, "code = \"C1\"", 1)));
        assert_eq!(dup.path, "component[C1].code");
        assert!(
            dup.message
                .contains(&format!("line {}", line_of(&src, "code = \"C1\"", 0)))
        );

        let src = edit(PAR, "code = \"K2\"", "code = \"K1\"");
        let errs = errors(&src);
        let dup = errs
            .iter()
            .find(|e| e.kind == ErrorKind::DuplicateCode)
            .unwrap();
        assert_eq!(dup.line, Some(line_of(&src, "code = \"K1\"", 1)));
        assert_eq!(dup.path, "criterion[K1].code");
    }

    #[test]
    fn an_item_mapped_twice_in_a_group_is_reported_at_the_second_mapping() {
        let src = edit(PAR, "item = \"q3\"", "item = \"q1\"");
        let errs = errors(&src);
        let dup = only(&errs, ErrorKind::DuplicateCode);
        assert_eq!(dup.line, Some(line_of(&src, "item = \"q1\"", 1)));
        assert_eq!(dup.path, "group[leader].item[q1].item");
    }

    #[test]
    fn unknown_component_criterion_and_table_references_are_reported() {
        let src = edit(
            PAR,
            "component = \"C2\"\nname = { vi = \"Tiêu chí 2\"",
            "component = \"C9\"\nname = { vi = \"Tiêu chí 2\"",
        );
        let e = only(&errors(&src), ErrorKind::UnknownReference).clone();
        assert_eq!(e.line, Some(line_of(&src, "component = \"C9\"", 0)));
        assert_eq!(e.path, "criterion[K2].component");

        let src = edit(PAR, "criterion = \"K2\"", "criterion = \"K7\"");
        let errs = errors(&src);
        let e = only(&errs, ErrorKind::UnknownReference);
        assert_eq!(e.line, Some(line_of(&src, "criterion = \"K7\"", 0)));
        assert_eq!(e.path, "group[leader].item[q2].criterion");

        let src = edit(
            PAR,
            "points = 2\ntable = \"agree4\"",
            "points = 2\ntable = \"agree5\"",
        );
        let errs = errors(&src);
        let e = only(&errs, ErrorKind::UnknownReference);
        assert_eq!(e.line, Some(line_of(&src, "table = \"agree5\"", 0)));
        assert_eq!(e.path, "group[leader].item[q3].table");
    }

    #[test]
    fn a_coefficient_table_without_any_scored_value_is_reported() {
        let src = edit(
            PAR,
            r#"{ values = { "yes" = 1.0, "no" = 0.0 }, invalid = ["dk"] }"#,
            r#"{ values = {}, invalid = ["dk"] }"#,
        );
        let errs = errors(&src);
        let e = only(&errs, ErrorKind::EmptyCoefficientTable);
        assert_eq!(e.line, Some(line_of(&src, "values = {}", 0)));
        assert_eq!(e.path, "group[civil].item[c1].coefficients");
    }

    #[test]
    fn unsorted_overlapping_and_gapped_tier_bands_are_reported() {
        let unsorted = edit(
            PAR,
            "{ code = \"B\", min = 80, below = 90 },\n  { code = \"C\", min = 70, below = 80 },",
            "{ code = \"C\", min = 70, below = 90 },\n  { code = \"B\", min = 80, below = 70 },",
        );
        let errs = errors(&unsorted);
        // Reported twice: B is out of order, and D (below 70) then leaves a gap under B (80).
        assert_eq!(errs.len(), 2, "{errs:#?}");
        let e = &errs[0];
        assert_eq!(e.kind, ErrorKind::BadTierBands);
        // C (70 ≤ x < 90) follows A correctly; B (min 80) after C (min 70) is out of order.
        let b_line = line_of(&unsorted, "code = \"B\", min = 80, below = 70", 0);
        assert_eq!(e.line, Some(b_line));
        assert_eq!(e.path, "tiers.bands[2].min");
        assert!(e.message.contains("highest to lowest"), "{}", e.message);

        let overlap = edit(PAR, "min = 70, below = 80", "min = 70, below = 85");
        let e = only(&errors(&overlap), ErrorKind::BadTierBands).clone();
        assert_eq!(e.line, Some(line_of(&overlap, "below = 85", 0)));
        assert!(e.message.contains("overlaps"), "{}", e.message);

        let gap = edit(PAR, "min = 70, below = 80", "min = 70, below = 75");
        let e = only(&errors(&gap), ErrorKind::BadTierBands).clone();
        assert!(e.message.contains("gap"), "{}", e.message);
        assert_eq!(e.path, "tiers.bands[2].below");
    }

    #[test]
    fn an_unknown_or_missing_format_is_reported_before_anything_else() {
        let src = edit(PAR, "khaosat-methodology/1", "khaosat-methodology/9");
        let errs = errors(&src);
        assert_eq!(errs.len(), 1);
        assert_eq!(errs[0].kind, ErrorKind::UnknownFormat);
        assert_eq!((errs[0].line, errs[0].column), (Some(1), Some(10)));
        assert_eq!(errs[0].path, "format");

        let src = edit(PAR, "format = \"khaosat-methodology/1\"\n", "");
        let errs = errors(&src);
        assert_eq!(errs[0].kind, ErrorKind::UnknownFormat);
        assert_eq!(errs[0].line, Some(1));
    }

    #[test]
    fn an_unknown_field_is_reported_with_its_line_and_table() {
        let src = edit(PAR, "points = 2\n", "points = 2\nweight = 3\n");
        let errs = errors(&src);
        assert_eq!(errs.len(), 1);
        let e = &errs[0];
        assert_eq!(e.kind, ErrorKind::Structure);
        assert_eq!(e.line, Some(line_of(&src, "weight = 3", 0)));
        assert_eq!(e.column, Some(1));
        assert_eq!(e.path, "group.item.weight");
        assert!(e.message.contains("weight"), "{}", e.message);
    }

    #[test]
    fn a_value_of_the_wrong_type_is_a_structure_error_with_its_line() {
        let src = edit(
            PAR,
            "counts_toward_index = false",
            "counts_toward_index = \"no\"",
        );
        let errs = errors(&src);
        assert_eq!(errs[0].kind, ErrorKind::Structure);
        assert_eq!(
            errs[0].line,
            Some(line_of(&src, "counts_toward_index = \"no\"", 0))
        );
        let src = edit(PAR, "ties = \"competition\"", "ties = \"olympic\"");
        let errs = errors(&src);
        assert_eq!(errs[0].kind, ErrorKind::Structure);
        assert_eq!(errs[0].line, Some(line_of(&src, "olympic", 0)));
    }

    #[test]
    fn a_toml_syntax_error_is_reported_with_line_and_column() {
        let src = edit(PAR, "max_points = 40", "max_points = = 40");
        let errs = errors(&src);
        assert_eq!(errs.len(), 1);
        assert_eq!(errs[0].kind, ErrorKind::Syntax);
        let line = line_of(&src, "max_points = = 40", 0);
        assert_eq!(errs[0].line, Some(line));
        assert_eq!(errs[0].column, Some(14), "the second '=' is at column 14");
        assert!(
            errs[0]
                .to_string()
                .starts_with(&format!("test.toml:{line}:14: ")),
            "{}",
            errs[0]
        );
    }

    #[test]
    fn an_oversized_file_is_refused_without_parsing() {
        let mut big = PAR.as_bytes().to_vec();
        big.resize(MAX_FILE_BYTES + 1, b' ');
        let errs = Methodology::parse("big.toml", &big).unwrap_err();
        assert_eq!(errs.len(), 1);
        assert_eq!(errs[0].kind, ErrorKind::TooLarge);
        assert_eq!(errs[0].line, None);
        assert_eq!(
            errs[0].to_string(),
            format!(
                "big.toml: file is {} bytes; the limit is 1048576 bytes (1 MiB)",
                MAX_FILE_BYTES + 1
            )
        );
    }

    #[test]
    fn a_non_utf8_file_is_refused_with_the_line_of_the_first_bad_byte() {
        let mut bytes = b"format = \"khaosat-methodology/1\"\ncode = \"x\"\nname = \"".to_vec();
        bytes.extend_from_slice(&[0xff, 0xfe]);
        let errs = Methodology::parse("bad.toml", &bytes).unwrap_err();
        assert_eq!(errs[0].kind, ErrorKind::NotUtf8);
        assert_eq!(errs[0].line, Some(3));
    }

    #[test]
    fn all_semantic_errors_of_a_file_are_reported_together() {
        let src = edit(PAR, r#""2" = 0.6"#, r#""2" = 1.6"#);
        let src = edit(&src, "criterion = \"K2\"", "criterion = \"K7\"");
        let src = edit(&src, "max_points = 4\n", "max_points = 5\n");
        let src = edit(&src, "code = \"K2\"", "code = \"K1\"");
        let kinds: Vec<ErrorKind> = errors(&src).iter().map(|e| e.kind).collect();
        for k in [
            ErrorKind::CoefficientOutOfRange,
            ErrorKind::UnknownReference,
            ErrorKind::PointsMismatch,
            ErrorKind::DuplicateCode,
        ] {
            assert!(kinds.contains(&k), "{k:?} missing from {kinds:?}");
        }
    }

    #[test]
    fn points_with_more_than_six_decimals_are_refused() {
        let src = edit(PAR, "points = 2\n", "points = 2.0000001\n");
        let errs = errors(&src);
        assert!(errs.iter().any(
            |e| e.kind == ErrorKind::InvalidValue && e.path == "group[leader].item[q3].points"
        ));
    }

    #[test]
    fn sipas_rules_are_validated() {
        let src = edit(
            SIPAS,
            "satisfied = [\"4\", \"5\"]",
            "satisfied = [\"4\", \"6\"]",
        );
        let e = only(&errors(&src), ErrorKind::UnknownReference).clone();
        assert_eq!(e.path, "sipas.satisfied");
        assert_eq!(e.line, Some(line_of(&src, "satisfied", 0)));

        let src = edit(SIPAS, "items = [\"s1\"]", "items = [\"p1\"]");
        let e = only(&errors(&src), ErrorKind::DuplicateCode).clone();
        assert_eq!(e.path, "sipas.element[II.A].items[p1]");

        let src = edit(SIPAS, "part = \"II\"", "part = \"III\"");
        let errs = errors(&src);
        assert!(
            errs.iter()
                .any(|e| e.kind == ErrorKind::UnknownReference
                    && e.path == "sipas.element[II.A].part")
        );
        assert!(
            errs.iter()
                .any(|e| e.path == "sipas.part[II]" && e.message.contains("no element"))
        );
    }

    #[test]
    fn to_toml_round_trips_and_keeps_the_content_hash() {
        for src in [PAR, SIPAS] {
            let m = parse(src).unwrap();
            let text = m.to_toml().unwrap();
            let again = Methodology::parse("round-trip.toml", text.as_bytes())
                .unwrap_or_else(|e| panic!("{text}\n{e:#?}"));
            assert_eq!(again.content_hash(), m.content_hash());
            assert_eq!(again.canonical_json(), m.canonical_json());
            assert_eq!(m.content_hash().len(), 64);
        }
    }

    #[test]
    fn the_hash_ignores_formatting_but_not_content() {
        let m = parse(PAR).unwrap();
        let reformatted = format!(
            "# a comment\n\n{}",
            PAR.replace("points = 10\n", "points = 10.0   # ten\n")
        );
        assert_eq!(
            parse(&reformatted).unwrap().content_hash(),
            m.content_hash()
        );
        let changed = edit(PAR, r#""3" = 0.2"#, r#""3" = 0.25"#);
        assert_ne!(parse(&changed).unwrap().content_hash(), m.content_hash());
    }

    fn item(code: &str, values: &[(&str, bool)]) -> ScorableItem {
        ScorableItem {
            code: code.into(),
            options: values
                .iter()
                .map(|(v, ok)| ScorableOption {
                    value: (*v).into(),
                    valid_for_scoring: *ok,
                })
                .collect(),
        }
    }

    fn four_levels(code: &str) -> ScorableItem {
        item(
            code,
            &[
                ("1", true),
                ("2", true),
                ("3", true),
                ("4", true),
                ("dk", false),
            ],
        )
    }

    #[test]
    fn check_against_accepts_a_matching_instrument() {
        let m = parse(PAR).unwrap();
        let items = vec![
            four_levels("q1"),
            four_levels("q2"),
            four_levels("q3"),
            four_levels("extra"),
        ];
        assert_eq!(m.check_against("leader", &items), vec![]);
        let civil = vec![item("c1", &[("yes", true), ("no", true), ("dk", false)])];
        assert_eq!(m.check_against("civil", &civil), vec![]);
    }

    #[test]
    fn check_against_reports_missing_items_unknown_options_and_scored_invalid_options() {
        let src = PAR;
        let m = parse(src).unwrap();
        let items = vec![
            // q1 missing entirely
            item(
                "q2",
                &[("1", true), ("2", true), ("3", true), ("dk", false)],
            ), // no "4"
            item(
                "q3",
                &[
                    ("1", true),
                    ("2", true),
                    ("3", true),
                    ("4", false),
                    ("5", true),
                ],
            ),
        ];
        let errs = m.check_against("leader", &items);
        let kinds: Vec<(ErrorKind, &str)> =
            errs.iter().map(|e| (e.kind, e.path.as_str())).collect();
        assert_eq!(
            kinds,
            vec![
                (ErrorKind::ItemNotInInstrument, "group[leader].item[q1]"),
                (ErrorKind::OptionNotInInstrument, "group[leader].item[q2]"),
                (ErrorKind::InvalidOptionScored, "group[leader].item[q3]"),
                (ErrorKind::ValidOptionUnscored, "group[leader].item[q3]"),
            ]
        );
        assert_eq!(errs[0].line, Some(line_of(src, "item = \"q1\"", 0)));
        assert_eq!(errs[0].file, "test.toml");
        assert!(errs[3].message.contains("\"5\""));
    }

    #[test]
    fn check_against_covers_sipas_and_unknown_groups() {
        let m = parse(SIPAS).unwrap();
        let five = |c: &str| {
            item(
                c,
                &[
                    ("1", true),
                    ("2", true),
                    ("3", true),
                    ("4", true),
                    ("5", true),
                    ("0", false),
                ],
            )
        };
        let items = vec![five("p1"), five("p2"), five("p3"), five("s1")];
        assert_eq!(m.check_against("citizen", &items), vec![]);
        let errs = m.check_against("citizen", &items[..3]);
        assert_eq!(errs.len(), 1);
        assert_eq!(errs[0].kind, ErrorKind::ItemNotInInstrument);
        assert_eq!(errs[0].line, Some(line_of(SIPAS, "items = [\"s1\"]", 0)));
        let errs = m.check_against("nobody", &items);
        assert_eq!(errs[0].kind, ErrorKind::UnknownGroup);
    }

    #[test]
    fn deeply_nested_input_is_an_error_not_a_stack_overflow() {
        let mut src = String::from("format = \"khaosat-methodology/1\"\nx = ");
        src.push_str(&"[".repeat(500_000));
        let errs = Methodology::parse("deep.toml", src.as_bytes()).unwrap_err();
        assert_eq!(errs[0].kind, ErrorKind::Syntax);
        assert_eq!(errs[0].line, Some(2));
    }

    #[test]
    fn mangled_input_never_panics() {
        // Deterministic pseudo-random byte edits of a valid file: the parser must return, not
        // panic, whatever it is given.
        let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for _ in 0..300 {
            let mut bytes = PAR.as_bytes().to_vec();
            for _ in 0..(next() % 4 + 1) {
                let len = bytes.len() as u64;
                let at = usize::try_from(next() % len).unwrap();
                match next() % 3 {
                    0 => bytes[at] = (next() % 256) as u8,
                    1 => {
                        bytes.remove(at);
                    }
                    _ => bytes.insert(at, b"=[]{}\"\n.0-"[usize::try_from(next() % 10).unwrap()]),
                }
            }
            let _ = Methodology::parse("fuzz.toml", &bytes);
        }
    }

    #[test]
    fn aggregate_and_sipas_headline_settings_parse_and_defaults_keep_the_hash() {
        let spelled = SIPAS.replace(
            "index_points = 10\n",
            "index_points = 10\nlinked_index = \"sipas\"\nheadline = \"mean_of_parts\"\n",
        ) + "";
        let spelled = spelled.replace(
            "[sipas]\n",
            "[aggregate]\nnational = \"mean_of_units\"\n\n[sipas]\n",
        );
        let (plain, spelled) = (parse(SIPAS).unwrap(), parse(&spelled).unwrap());
        assert_eq!(plain.content_hash(), spelled.content_hash());
        let s = plain.sipas.as_ref().unwrap();
        assert_eq!(
            (
                s.linked_index.as_str(),
                s.headline,
                s.overall_item.as_deref()
            ),
            ("sipas", SipasHeadline::MeanOfParts, None)
        );
        assert_eq!(plain.aggregate.national, NationalAggregate::MeanOfUnits);

        let chosen = SIPAS
            .replace(
                "index_points = 10\n",
                "index_points = 10\nlinked_index = \"hai_long\"\nheadline = \"overall_item\"\noverall_item = \"q_all\"\n",
            )
            .replace("[sipas]\n", "[aggregate]\nnational = \"pooled\"\n\n[sipas]\n");
        let m = parse(&chosen).unwrap();
        let s = m.sipas.as_ref().unwrap();
        assert_eq!(
            (
                s.linked_index.as_str(),
                s.headline,
                s.overall_item.as_deref()
            ),
            ("hai_long", SipasHeadline::OverallItem, Some("q_all"))
        );
        assert_eq!(m.aggregate.national, NationalAggregate::Pooled);
        assert_ne!(m.content_hash(), plain.content_hash());
    }

    #[test]
    fn an_overall_item_headline_without_its_item_is_refused_with_its_place() {
        let src = SIPAS.replace(
            "index_points = 10\n",
            "index_points = 10\nheadline = \"overall_item\"\n",
        );
        let e = errors(&src);
        assert!(
            e.iter()
                .any(|e| e.path == "sipas.overall_item" && e.kind == ErrorKind::InvalidValue),
            "{e:?}"
        );
        let bad = SIPAS.replace(
            "[sipas]\n",
            "[aggregate]\nnational = \"median\"\n\n[sipas]\n",
        );
        assert!(errors(&bad).iter().any(|e| e.kind == ErrorKind::Structure));
    }
}
