//! The file as written, with spans: the TOML shapes serde reads before validation.

use super::*;

// ---------------------------------------------------------------------------------------------
// Raw file shape (with spans)
// ---------------------------------------------------------------------------------------------

/// Only the `format` key, read before anything else so an unknown format is reported as such
/// rather than as a cascade of "unknown field" errors.
#[derive(Deserialize)]
pub(super) struct RawHeader {
    pub(super) format: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawFile {
    #[serde(rename = "format")]
    pub(super) _format: Spanned<String>,
    pub(super) code: Spanned<String>,
    pub(super) version: Spanned<u32>,
    pub(super) total_points: Option<Spanned<f64>>,
    pub(super) name: Spanned<Text>,
    pub(super) provenance: RawProvenance,
    pub(super) display: Option<RawDisplay>,
    pub(super) scoring: Option<RawScoring>,
    pub(super) ranking: Option<RawRanking>,
    pub(super) aggregate: Option<RawAggregate>,
    pub(super) tiers: Option<Spanned<RawTiers>>,
    pub(super) quality: Option<RawQuality>,
    #[serde(default, rename = "component")]
    pub(super) components: Vec<Spanned<RawComponent>>,
    #[serde(default, rename = "criterion")]
    pub(super) criteria: Vec<Spanned<RawCriterion>>,
    #[serde(default, rename = "coefficient_table")]
    pub(super) coefficient_tables: BTreeMap<String, Spanned<RawTable>>,
    #[serde(default, rename = "group")]
    pub(super) groups: Vec<Spanned<RawGroup>>,
    #[serde(default, rename = "linked_index")]
    pub(super) linked_indices: Vec<Spanned<RawLinked>>,
    pub(super) sipas: Option<Spanned<RawSipas>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawProvenance {
    pub(super) status: ProvenanceStatus,
    pub(super) note: Spanned<Text>,
    #[serde(default)]
    pub(super) sources: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawDisplay {
    pub(super) decimals: Option<Spanned<u32>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawScoring {
    pub(super) unanswered_item: Option<UnansweredItem>,
    pub(super) min_coverage: Option<Spanned<f64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawAggregate {
    pub(super) national: Option<NationalAggregate>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRanking {
    pub(super) ties: Option<TieRule>,
    pub(super) compare: Option<CompareOn>,
    pub(super) min_respondents: Option<Spanned<u64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawTiers {
    pub(super) compare: Option<CompareOn>,
    pub(super) bands: Vec<Spanned<RawBand>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawBand {
    pub(super) code: Spanned<String>,
    pub(super) min: Spanned<f64>,
    pub(super) below: Option<Spanned<f64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawQuality {
    pub(super) disclosure_min_n: Option<Spanned<u64>>,
    pub(super) speeder_seconds: Option<Spanned<u64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawComponent {
    pub(super) code: Spanned<String>,
    pub(super) name: Text,
    pub(super) max_points: Spanned<f64>,
    pub(super) survey_points: Option<Spanned<f64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawCriterion {
    pub(super) code: Spanned<String>,
    pub(super) component: Spanned<String>,
    pub(super) name: Text,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawTable {
    pub(super) name: Option<Text>,
    #[serde(default)]
    pub(super) values: BTreeMap<String, Spanned<f64>>,
    #[serde(default)]
    pub(super) invalid: Vec<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawGroup {
    pub(super) code: Spanned<String>,
    pub(super) name: Text,
    pub(super) instrument: Option<String>,
    pub(super) counts_toward_index: bool,
    pub(super) max_points: Spanned<f64>,
    pub(super) aggregation: Option<Aggregation>,
    #[serde(default, rename = "item")]
    pub(super) items: Vec<Spanned<RawItem>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawItem {
    pub(super) item: Spanned<String>,
    pub(super) criterion: Spanned<String>,
    pub(super) points: Spanned<f64>,
    pub(super) table: Option<Spanned<String>>,
    pub(super) coefficients: Option<Spanned<RawTable>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawLinked {
    pub(super) code: Spanned<String>,
    pub(super) name: Text,
    pub(super) component: Spanned<String>,
    pub(super) points: Spanned<f64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSipas {
    pub(super) group: Spanned<String>,
    pub(super) name: Text,
    pub(super) instrument: Option<String>,
    pub(super) rule: SipasRule,
    pub(super) scale: Spanned<BTreeMap<String, Spanned<f64>>>,
    #[serde(default)]
    pub(super) satisfied: Vec<Spanned<String>>,
    #[serde(default)]
    pub(super) invalid: Vec<Spanned<String>>,
    pub(super) index_points: Option<Spanned<f64>>,
    pub(super) linked_index: Option<Spanned<String>>,
    pub(super) headline: Option<SipasHeadline>,
    pub(super) overall_item: Option<Spanned<String>>,
    #[serde(default, rename = "part")]
    pub(super) parts: Vec<Spanned<RawPart>>,
    #[serde(default, rename = "element")]
    pub(super) elements: Vec<Spanned<RawElement>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawPart {
    pub(super) code: Spanned<String>,
    pub(super) name: Text,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawElement {
    pub(super) code: Spanned<String>,
    pub(super) part: Spanned<String>,
    pub(super) name: Text,
    pub(super) items: Vec<Spanned<String>>,
}
