//! A unit's scorecard (its strongest and weakest items) and the answer distributions per item.

use super::RoundResults;
use super::fieldwork::mean;
use crate::app::scores::{RoundScores, UnitScores};
use crate::domain::scoring::Position;
use crate::domain::yoy::UnitChange;
use serde::Serialize;
use std::collections::BTreeMap;

/// One item on a unit's scorecard.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ItemResult {
    /// Group code.
    pub group: String,
    /// Item code.
    pub item: String,
    /// Percent of the item's maximum (points groups) or satisfied share / scale (SIPAS).
    pub percent: f64,
    /// National mean of the same item.
    pub national_percent: Option<f64>,
    /// Valid answers.
    pub valid_n: u64,
}

/// A component on a scorecard: code, the unit's percent, the national mean percent over the
/// units with a value, and the unit's national rank in the component.
pub type ComponentResult = (String, Option<f64>, Option<f64>, Option<Position>);

/// A unit's scorecard: the unit page.
#[derive(Debug, Clone, Serialize)]
pub struct Scorecard<'a> {
    /// The unit's scores.
    #[serde(skip)]
    pub unit: &'a UnitScores,
    /// Its entry in the total ranking.
    pub national: Option<Position>,
    /// Its rank in the region.
    pub regional: Option<Position>,
    /// Component code → (unit percent, national mean percent over the units with a value,
    /// national rank).
    pub components: Vec<ComponentResult>,
    /// Its best items, best first.
    pub strongest: Vec<ItemResult>,
    /// Its weakest items, weakest first.
    pub weakest: Vec<ItemResult>,
    /// Its change since the earlier round.
    pub change: Option<UnitChange>,
}

/// How many strongest and weakest items a scorecard lists.
pub const SCORECARD_ITEMS: usize = 5;

/// Every scored item of a unit with the national mean of the same item.
fn item_results(scores: &RoundScores, unit: &UnitScores) -> Vec<ItemResult> {
    let national = |group: &str, item: &str| {
        mean(scores.units.iter().filter_map(|u| {
            let g = u.groups.iter().find(|g| g.group == group)?;
            g.item(item)?.percent
        }))
    };
    let mut out: Vec<ItemResult> = unit
        .groups
        .iter()
        .flat_map(|g| {
            g.items.iter().filter_map(|i| {
                Some(ItemResult {
                    group: g.group.clone(),
                    item: i.item.clone(),
                    percent: i.percent?,
                    national_percent: national(&g.group, &i.item),
                    valid_n: i.valid_n,
                })
            })
        })
        .collect();
    if let Some(s) = &unit.sipas {
        out.extend(s.items.iter().filter_map(|i| {
            Some(ItemResult {
                group: s.group.clone(),
                item: i.item.clone(),
                percent: i.percent?,
                national_percent: mean(scores.units.iter().filter_map(|u| {
                    u.sipas
                        .as_ref()?
                        .items
                        .iter()
                        .find(|x| x.item == i.item)?
                        .percent
                })),
                valid_n: i.valid_n,
            })
        }));
    }
    out
}

/// The scorecard of `unit`, or `None` when it is not among the (scoped) results.
pub fn scorecard<'a>(results: &'a RoundResults, unit: &str) -> Option<Scorecard<'a>> {
    let scores = &results.scores;
    let u = scores.units.iter().find(|u| u.unit == unit)?;
    let total = scores.rankings.total.iter().find(|r| r.unit == unit);
    let components = u
        .index
        .components
        .iter()
        .map(|c| {
            let national = mean(scores.units.iter().filter_map(|o| {
                o.index
                    .components
                    .iter()
                    .find(|x| x.code == c.code)?
                    .percent
            }));
            let rank = scores
                .rankings
                .components
                .iter()
                .find(|r| r.component == c.code)
                .and_then(|r| r.ranked.iter().find(|x| x.unit == unit))
                .and_then(|x| x.national);
            (c.code.clone(), c.percent, national, rank)
        })
        .collect();
    let mut items = item_results(scores, u);
    items.sort_by(|a, b| {
        b.percent
            .total_cmp(&a.percent)
            .then_with(|| a.item.cmp(&b.item))
    });
    let strongest = items.iter().take(SCORECARD_ITEMS).cloned().collect();
    let weakest = items.iter().rev().take(SCORECARD_ITEMS).cloned().collect();
    Some(Scorecard {
        unit: u,
        national: total.and_then(|r| r.national),
        regional: total.and_then(|r| r.regional),
        components,
        strongest,
        weakest,
        change: results
            .yoy
            .iter()
            .flatten()
            .find(|c| c.unit == unit)
            .cloned(),
    })
}

/// One question's national answer distribution (the stacked bars).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ItemDistribution {
    /// Group code.
    pub group: String,
    /// Item code.
    pub item: String,
    /// Answer value → count over all units in scope, in value order.
    pub counts: BTreeMap<String, u64>,
}

/// The national answer distribution of every scored item (summed over units in scope).
pub fn item_distributions(scores: &RoundScores) -> Vec<ItemDistribution> {
    let mut out: Vec<ItemDistribution> = Vec::new();
    let mut add = |group: &str, item: &str, dist: &BTreeMap<String, u64>| {
        let pos = out
            .iter()
            .position(|d| d.group == group && d.item == item)
            .unwrap_or_else(|| {
                out.push(ItemDistribution {
                    group: group.to_owned(),
                    item: item.to_owned(),
                    counts: BTreeMap::new(),
                });
                out.len() - 1
            });
        if let Some(d) = out.get_mut(pos) {
            for (value, n) in dist {
                *d.counts.entry(value.clone()).or_default() += n;
            }
        }
    };
    for u in &scores.units {
        for g in &u.groups {
            for i in &g.items {
                add(&g.group, &i.item, &i.distribution);
            }
        }
        if let Some(s) = &u.sipas {
            for i in &s.items {
                add(&s.group, &i.item, &i.distribution);
            }
        }
    }
    out
}
