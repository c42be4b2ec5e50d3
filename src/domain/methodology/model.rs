//! The parsed, validated methodology's parts: settings, components, criteria, groups, SIPAS.

use super::*;

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
