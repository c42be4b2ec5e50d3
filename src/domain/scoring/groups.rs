//! Points groups: item, criterion, component and group scores of one unit from its tally.

use std::collections::{BTreeMap, BTreeSet};

use crate::domain::methodology::{Methodology, UnansweredItem};
use crate::domain::number::{NOISE_DECIMALS, decimal_key, percent_of};

use super::*;

// ---------------------------------------------------------------------------------------------
// Points groups
// ---------------------------------------------------------------------------------------------

pub(super) fn sum_counts(d: &BTreeMap<String, u64>) -> u64 {
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
