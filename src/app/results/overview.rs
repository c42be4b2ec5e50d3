//! The overview of a round: national figures, regions and group means.

use super::fieldwork::mean;
use crate::app::scores::{RoundScores, UnitScores};
use crate::domain::methodology::Methodology;
use crate::domain::scoring::Standing;
use serde::Serialize;
use std::collections::BTreeMap;

/// One region's summary.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RegionSummary {
    /// Region code.
    pub region: String,
    /// Units in it.
    pub units: usize,
    /// Units in it with a total (complete units): the n of "n of N".
    pub with_value: usize,
    /// Mean total percent over the units with a total.
    pub mean_percent: Option<f64>,
    /// Lowest total percent.
    pub min_percent: Option<f64>,
    /// Highest total percent.
    pub max_percent: Option<f64>,
    /// Total percent of each unit that has one, in unit-code order.
    pub values: Vec<(String, f64)>,
}

/// A group's national mean.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GroupMean {
    /// Group code.
    pub group: String,
    /// Units with a score in this group: the n of "n of N".
    pub units: usize,
    /// Mean points over the units with a score.
    pub mean_points: Option<f64>,
    /// The group's maximum.
    pub max_points: f64,
    /// Mean percent.
    pub mean_percent: Option<f64>,
    /// Responses in all units.
    pub responses: u64,
}

/// The national picture of a round.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Overview {
    /// Units in scope: the N of "n of N".
    pub units: usize,
    /// Ranked units: complete (with a total) and with enough respondents.
    pub complete: usize,
    /// Units with a total in the measure the round ranks on: the n of the means' "n of N".
    pub with_total: usize,
    /// Whether the round ranks on the index total (of 100, appraised points imported) rather
    /// than on the survey part (of 32).
    pub full_index: bool,
    /// Mean total points over the units with a total.
    pub mean_points: Option<f64>,
    /// The total's maximum.
    pub max_points: f64,
    /// Mean total percent over the units with a total.
    pub mean_percent: Option<f64>,
    /// Mean SIPAS percent over the units with a SIPAS score.
    pub mean_sipas_percent: Option<f64>,
    /// Units with a SIPAS score.
    pub sipas_units: usize,
    /// Per points group.
    pub groups: Vec<GroupMean>,
    /// Tier code (or `None` for untiered) → complete units, in the methodology's band order.
    pub tiers: Vec<(Option<String>, usize)>,
    /// Per region, in region-code order.
    pub regions: Vec<RegionSummary>,
    /// Component code → national mean percent, in methodology order.
    pub components: Vec<(String, Option<f64>)>,
}

/// National averages, tier counts, regional and component means. Every figure covers only
/// the units that have the value (a unit without a score is never averaged in as 0) and
/// carries how many those are.
pub fn overview(scores: &RoundScores, m: &Methodology) -> Overview {
    let units = &scores.units;
    let mut group_codes: Vec<String> = Vec::new();
    for g in units.iter().flat_map(|u| &u.groups) {
        if !group_codes.contains(&g.group) {
            group_codes.push(g.group.clone());
        }
    }
    let groups = group_codes
        .into_iter()
        .map(|code| {
            let of = || {
                units
                    .iter()
                    .flat_map(|u| &u.groups)
                    .filter(|g| g.group == code)
            };
            let (mean_points, mean_percent) = match scores.national(&code) {
                Some(p) => (p.points, p.percent),
                None => (
                    mean(of().filter_map(|g| g.points)),
                    mean(of().filter_map(|g| g.percent)),
                ),
            };
            GroupMean {
                units: of().filter(|g| g.points.is_some()).count(),
                mean_points,
                max_points: of().map(|g| g.max_points).next().unwrap_or(0.0),
                mean_percent,
                responses: of().map(|g| g.responses).sum(),
                group: code.clone(),
            }
        })
        .collect();
    let mut tiers: Vec<(Option<String>, usize)> = m
        .tiers
        .bands
        .iter()
        .map(|b| (Some(b.code.clone()), 0))
        .collect();
    tiers.push((None, 0));
    for u in units
        .iter()
        .filter(|u| scores.standing(u) == Standing::Ranked)
    {
        if let Some(slot) = tiers.iter_mut().find(|(t, _)| *t == u.index.tier) {
            slot.1 += 1;
        }
    }
    let mut by_region: BTreeMap<&str, Vec<&UnitScores>> = BTreeMap::new();
    for u in units {
        by_region.entry(u.region.as_str()).or_default().push(u);
    }
    let regions = by_region
        .into_iter()
        .map(|(region, members)| {
            let values: Vec<(String, f64)> = members
                .iter()
                .filter_map(|u| Some((u.unit.clone(), scores.round_total(u).1?)))
                .collect();
            let finite = || values.iter().map(|(_, v)| *v).filter(|v| v.is_finite());
            RegionSummary {
                region: region.to_owned(),
                units: members.len(),
                with_value: values.len(),
                mean_percent: mean(finite()),
                min_percent: finite().reduce(f64::min),
                max_percent: finite().reduce(f64::max),
                values,
            }
        })
        .collect();
    let components = m
        .components
        .iter()
        .map(|c| {
            (
                c.code.clone(),
                mean(units.iter().filter_map(|u| {
                    u.index
                        .components
                        .iter()
                        .find(|x| x.code == c.code)?
                        .percent
                })),
            )
        })
        .collect();
    let sipas = || units.iter().filter_map(|u| u.sipas_percent());
    Overview {
        units: units.len(),
        complete: units
            .iter()
            .filter(|u| scores.standing(u) == Standing::Ranked)
            .count(),
        with_total: units
            .iter()
            .filter(|u| scores.round_total(u).0.is_some())
            .count(),
        mean_points: mean(units.iter().filter_map(|u| scores.round_total(u).0)),
        max_points: if scores.full_index() {
            m.total_points
        } else {
            units.first().map_or(0.0, |u| u.index.survey_max_points)
        },
        full_index: scores.full_index(),
        mean_percent: mean(units.iter().filter_map(|u| scores.round_total(u).1)),
        mean_sipas_percent: match units
            .iter()
            .find_map(|u| u.sipas.as_ref())
            .and_then(|s| scores.national(&s.group))
        {
            Some(p) => p.percent,
            None => mean(sipas()),
        },
        sipas_units: sipas().count(),
        groups,
        tiers,
        regions,
        components,
    }
}
