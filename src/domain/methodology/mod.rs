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
use crate::i18n::{Lang, Localized};

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
    /// The explanation, as a catalogue message (`methodology.*`) so each reader sees it in
    /// their language; it serialises as its English text.
    pub message: Localized,
}

impl MethodologyError {
    /// The error as one line in `lang`: `file:line:column: path: message`. The location is
    /// the same in every language; only the message is translated.
    pub fn text(&self, lang: Lang) -> String {
        format!("{}: {}", self.location(), self.message.text(lang))
    }

    /// `file:line:column: path`, leaving out the parts that are not known.
    fn location(&self) -> String {
        let mut out = self.file.clone();
        if let Some(line) = self.line {
            out.push_str(&format!(":{line}"));
            if let Some(column) = self.column {
                out.push_str(&format!(":{column}"));
            }
        }
        if !self.path.is_empty() {
            out.push_str(": ");
            out.push_str(&self.path);
        }
        out
    }
}

/// English, for logs, tests and machine-readable reports.
impl fmt::Display for MethodologyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text(Lang::En))
    }
}

impl std::error::Error for MethodologyError {}

// ---------------------------------------------------------------------------------------------
// The parsed, validated methodology (public domain types)
// ---------------------------------------------------------------------------------------------

/// A bilingual label: Vietnamese (with diacritics) and English.
pub use crate::domain::text::Text;

mod model;
mod raw;
mod validate;

pub use self::model::{
    AggregateSettings, Aggregation, CoefficientTable, CompareOn, Component, Criterion,
    DEFAULT_SIPAS_LINK, DisplaySettings, Group, ItemRule, LinkedIndex, NationalAggregate,
    Provenance, ProvenanceStatus, QualitySettings, RankingSettings, ScoringSettings, Sipas,
    SipasElement, SipasHeadline, SipasPart, SipasRule, TieRule, TierBand, TierSettings,
    UnansweredItem,
};

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
        validate::parse_methodology(file_name, bytes)
    }

    /// The file name the methodology was parsed from.
    pub fn file_name(&self) -> &str {
        &self.source.file
    }

    /// Whether this methodology scores respondent group `code`, as a points group or as SIPAS.
    pub fn scores_group(&self, code: &str) -> bool {
        self.group(code).is_some() || self.sipas.as_ref().is_some_and(|s| s.group == code)
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
                Localized::new(
                    "methodology.unknown_group",
                    &[("group", group), ("code", &self.code)],
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
                Localized::new("methodology.item_not_in_instrument", &[("item", item)]),
            ));
            return;
        };
        for value in scored.keys() {
            match found.options.iter().find(|o| &o.value == value) {
                None => out.push(self.located_error(
                    path,
                    path.to_owned(),
                    ErrorKind::OptionNotInInstrument,
                    Localized::new(
                        "methodology.option_not_in_instrument",
                        &[("value", value), ("item", item)],
                    ),
                )),
                Some(o) if !o.valid_for_scoring => out.push(self.located_error(
                    path,
                    path.to_owned(),
                    ErrorKind::InvalidOptionScored,
                    Localized::new(
                        "methodology.invalid_option_scored",
                        &[("value", value), ("item", item)],
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
                    Localized::new(
                        "methodology.valid_option_unscored",
                        &[("value", &o.value), ("item", item)],
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
        message: Localized,
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

/// Small hand-checkable methodology files shared by the tests of this module and `scoring`.
#[cfg(test)]
pub(crate) mod fixtures;

#[cfg(test)]
mod tests;
