//! The ranking table: one row per unit, sorted by any column.

use super::RoundResults;
use crate::domain::scoring::{Position, Ranked, Standing};
use crate::domain::yoy::UnitChange;
use serde::Serialize;
use std::collections::BTreeMap;

/// What the ranking table is sorted by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SortKey {
    /// Total percent (the national rank).
    Total,
    /// One component's percent.
    Component(String),
    /// A points group's points.
    Group(String),
    /// The SIPAS percent.
    Sipas,
    /// Change since the earlier round.
    Change,
    /// Unit name.
    Unit,
}

impl SortKey {
    /// Parses the `sort` query value (`total`, `component:C1`, `group:leader`, `sipas`,
    /// `change`, `unit`); anything else sorts by total.
    pub fn parse(raw: &str) -> Self {
        match raw.split_once(':') {
            Some(("component", c)) if !c.is_empty() => SortKey::Component(c.to_owned()),
            Some(("group", g)) if !g.is_empty() => SortKey::Group(g.to_owned()),
            _ => match raw {
                "sipas" => SortKey::Sipas,
                "change" => SortKey::Change,
                "unit" => SortKey::Unit,
                _ => SortKey::Total,
            },
        }
    }

    /// The query value that parses back to this key.
    pub fn as_query(&self) -> String {
        match self {
            SortKey::Total => "total".to_owned(),
            SortKey::Component(c) => format!("component:{c}"),
            SortKey::Group(g) => format!("group:{g}"),
            SortKey::Sipas => "sipas".to_owned(),
            SortKey::Change => "change".to_owned(),
            SortKey::Unit => "unit".to_owned(),
        }
    }
}

/// One row of the ranking table.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RankingRow {
    /// Unit code.
    pub unit: String,
    /// Vietnamese name.
    pub name_vi: String,
    /// English name.
    pub name_en: String,
    /// Region code.
    pub region: String,
    /// National rank.
    pub national: Option<Position>,
    /// Rank in the region.
    pub regional: Option<Position>,
    /// The survey part (leaders + SIPAS) in points; `None` when one of them has no score.
    pub survey_points: Option<f64>,
    /// The survey part's maximum (32 under the bundled methodology).
    pub survey_max_points: f64,
    /// The index total (of 100, with appraised points); `None` unless the unit's appraised
    /// points are imported and every input has a value.
    pub index_points: Option<f64>,
    /// The index total's maximum.
    pub index_max_points: f64,
    /// The percent the round ranks on: of the index total when the round composes the full
    /// index, else of the survey part.
    pub percent: Option<f64>,
    /// Ranked, or why not; unranked units are listed after the ranked ones with what they
    /// have.
    pub standing: Standing,
    /// Tier code.
    pub tier: Option<String>,
    /// Points of each points group, in the round's group order (`None`: no score).
    pub groups: Vec<(String, Option<f64>)>,
    /// SIPAS percent.
    pub sipas_percent: Option<f64>,
    /// Component code → percent, in methodology order (`None`: no value).
    pub components: Vec<(String, Option<f64>)>,
    /// Change of the total percent since the earlier round (percentage points).
    pub change_percent_points: Option<f64>,
    /// Places moved up (negative: down).
    pub rank_change: Option<i64>,
    /// `Some(false)` when the data do not support the unit's place (bootstrap intervals
    /// overlap its neighbours'); `None` when not computed (live scores) or not ranked.
    pub rank_supported: Option<bool>,
}

/// The ranking table sorted by `key` (descending, or ascending with `ascending`). Ties and
/// missing values keep national-rank order, so the table is stable.
pub fn ranking_rows(results: &RoundResults, key: &SortKey, ascending: bool) -> Vec<RankingRow> {
    let scores = &results.scores;
    let ranks: BTreeMap<&str, &Ranked> = scores
        .rankings
        .total
        .iter()
        .map(|r| (r.unit.as_str(), r))
        .collect();
    let changes: BTreeMap<&str, &UnitChange> = results
        .yoy
        .iter()
        .flatten()
        .map(|c| (c.unit.as_str(), c))
        .collect();
    let mut rows: Vec<RankingRow> = scores
        .by_rank()
        .into_iter()
        .map(|(u, rank)| {
            let change = changes.get(u.unit.as_str());
            RankingRow {
                unit: u.unit.clone(),
                name_vi: u.name_vi.clone(),
                name_en: u.name_en.clone(),
                region: u.region.clone(),
                national: rank.and_then(|r| r.national),
                regional: rank.and_then(|r| r.regional),
                survey_points: u.index.survey_points,
                survey_max_points: u.index.survey_max_points,
                index_points: u.index_total(),
                index_max_points: results.methodology.total_points,
                percent: scores.round_total(u).1,
                standing: scores.standing(u),
                tier: u
                    .index
                    .tier
                    .clone()
                    .or_else(|| ranks.get(u.unit.as_str()).and_then(|r| r.tier.clone())),
                groups: u
                    .groups
                    .iter()
                    .map(|g| (g.group.clone(), g.points))
                    .collect(),
                sipas_percent: u.sipas_percent(),
                components: u
                    .index
                    .components
                    .iter()
                    .map(|c| (c.code.clone(), c.percent))
                    .collect(),
                change_percent_points: change.and_then(|c| c.change_percent_points),
                rank_change: change.and_then(|c| c.rank_change),
                rank_supported: scores.rank_supported(&u.unit),
            }
        })
        .collect();
    let value = |r: &RankingRow| -> Option<f64> {
        match key {
            SortKey::Total | SortKey::Unit => r.percent,
            SortKey::Component(c) => r.components.iter().find(|x| &x.0 == c).and_then(|x| x.1),
            SortKey::Group(g) => r.groups.iter().find(|x| &x.0 == g).and_then(|x| x.1),
            SortKey::Sipas => r.sipas_percent,
            SortKey::Change => r.change_percent_points,
        }
    };
    if *key == SortKey::Unit {
        rows.sort_by(|a, b| a.name_vi.cmp(&b.name_vi).then_with(|| a.unit.cmp(&b.unit)));
        if !ascending {
            rows.reverse();
        }
        return rows;
    }
    // Stable sort: rows without a value go last in either direction.
    rows.sort_by(|a, b| match (value(a), value(b)) {
        (Some(x), Some(y)) => {
            let order = y.total_cmp(&x);
            if ascending { order.reverse() } else { order }
        }
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => std::cmp::Ordering::Equal,
    });
    rows
}
