//! What computing a round yields: every unit's scores, the national figures and the ranks.

use crate::domain::methodology::NationalAggregate;
use crate::domain::scoring::{self, GroupScore, IndexScore, Rankings, SipasScore};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One unit's scores.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct UnitScores {
    /// Unit code.
    pub unit: String,
    /// Vietnamese name.
    pub name_vi: String,
    /// English name.
    pub name_en: String,
    /// Region code.
    pub region: String,
    /// Points groups (leaders, civil servants).
    pub groups: Vec<GroupScore>,
    /// SIPAS, when the round has a citizen group.
    pub sipas: Option<SipasScore>,
    /// The survey part of the index (or the full index); without a total when incomplete.
    pub index: IndexScore,
    /// Counted responses keyed in from paper forms (a count per unit, never per respondent);
    /// `None` in snapshots published before the count was kept.
    #[serde(default)]
    pub paper_responses: Option<u64>,
    /// Counted responses collected in the field (ODK, KoboToolbox) and imported, likewise a
    /// count per unit; `None` in snapshots published before the count was kept.
    #[serde(default)]
    pub field_responses: Option<u64>,
}

impl UnitScores {
    /// The index total (of 100, appraised points included): `None` unless the unit's
    /// appraised points are imported and every input has a value. The survey part alone is
    /// `index.survey_points`.
    pub fn index_total(&self) -> Option<f64> {
        self.index.total_points.filter(|_| self.index.full_index)
    }

    /// The SIPAS satisfaction percent: `None` without a citizen group or without answers.
    pub fn sipas_percent(&self) -> Option<f64> {
        self.sipas.as_ref().and_then(|s| s.overall_percent)
    }
}

/// Ranks units by the rules of `methodology` (the round's main one): what compute stores
/// and what tests build results from go through this one conversion.
pub fn rank_unit_scores(
    methodology: &crate::domain::methodology::Methodology,
    units: &[UnitScores],
) -> Rankings {
    let ranked: Vec<scoring::UnitIndex> = units
        .iter()
        .map(|u| scoring::UnitIndex {
            unit: u.unit.clone(),
            region: u.region.clone(),
            index: u.index.clone(),
        })
        .collect();
    scoring::rank_units(methodology, &ranked)
}

/// Everything computed for a round.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RoundScores {
    /// Round id.
    pub round_id: i64,
    /// The methodologies used: code and version.
    pub methodologies: Vec<(String, u32)>,
    /// The instruments answered: code and version.
    pub instruments: Vec<(String, u32)>,
    /// Units in code order.
    pub units: Vec<UnitScores>,
    /// Rankings of the index and its components.
    pub rankings: Rankings,
    /// Bootstrap intervals and rank support per unit (computed when publishing).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uncertainty: Option<BTreeMap<String, UnitUncertainty>>,
    /// The national figure of each points group and of SIPAS, formed as the group's
    /// methodology says (`[aggregate] national`). Empty in snapshots published before it was
    /// kept; readers then take the mean of the units.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub national: Vec<NationalFigure>,
}

/// A group's national figure.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NationalFigure {
    /// Group code (a points group or the SIPAS group).
    pub group: String,
    /// How it was formed: the mean of the units that have a score, or every respondent
    /// pooled into one tally.
    pub rule: NationalAggregate,
    /// Units with a score in this group: the n of "n of N".
    pub units_with_value: usize,
    /// Responses in all units.
    pub responses: u64,
    /// Points (SIPAS: index points); `None` without data.
    pub points: Option<f64>,
    /// Percent (SIPAS: the headline percent); `None` without data.
    pub percent: Option<f64>,
}

impl RoundScores {
    /// Whether the round composes the full index: some unit has appraised points.
    pub fn full_index(&self) -> bool {
        self.units.iter().any(|u| u.index.full_index)
    }

    /// Whether the bootstrap intervals support `unit`'s place among the leaders; `None`
    /// before they are computed (at publishing).
    pub fn rank_supported(&self, unit: &str) -> Option<bool> {
        self.uncertainty
            .as_ref()
            .and_then(|x| x.get(unit))
            .and_then(|x| x.leader_rank_supported)
    }

    /// Where a unit of this round stands: ranked, or why not (see [`scoring::standing`]).
    pub fn standing(&self, unit: &UnitScores) -> scoring::Standing {
        scoring::standing(&unit.index, self.full_index())
    }

    /// A unit's total in the measure this round ranks on (the index total of 100 when the
    /// round composes the full index, else the survey part): points and percent, `None` when
    /// the unit has no total in that measure. Means, regions and charts use this, so a survey
    /// part of 32 is never averaged with totals of 100.
    pub fn round_total(&self, unit: &UnitScores) -> (Option<f64>, Option<f64>) {
        if unit.index.full_index == self.full_index() {
            (unit.index.total_points, unit.index.percent)
        } else {
            (None, None)
        }
    }

    /// The national figure of a group, when it was computed.
    pub fn national(&self, group: &str) -> Option<&NationalFigure> {
        self.national.iter().find(|p| p.group == group)
    }

    /// Units in national rank order (unranked last), each with its ranking entry.
    pub fn by_rank(&self) -> Vec<(&UnitScores, Option<&scoring::Ranked>)> {
        let ranks: BTreeMap<&str, &scoring::Ranked> = self
            .rankings
            .total
            .iter()
            .map(|r| (r.unit.as_str(), r))
            .collect();
        let mut rows: Vec<(&UnitScores, Option<&scoring::Ranked>)> = self
            .units
            .iter()
            .map(|u| (u, ranks.get(u.unit.as_str()).copied()))
            .collect();
        rows.sort_by_key(|(_, r)| r.and_then(|r| r.national).map_or(u32::MAX, |p| p.rank));
        rows
    }
}

/// Uncertainty of one unit's group scores.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct UnitUncertainty {
    /// 95 % interval of the leaders' points.
    pub leader_points: Option<crate::domain::bootstrap::Interval>,
    /// 95 % interval of the SIPAS overall percentage.
    pub sipas_percent: Option<crate::domain::bootstrap::Interval>,
    /// False when the neighbours' leader points lie inside this unit's interval, i.e. the data
    /// do not support its place in the leader ranking; absent for units that are not ranked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub leader_rank_supported: Option<bool>,
}
