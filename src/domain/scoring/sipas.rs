//! SIPAS: item shares or means into elements, parts and the headline, and national figures.

use std::collections::{BTreeMap, BTreeSet};

use crate::domain::methodology::{Methodology, NationalAggregate, Sipas, SipasHeadline, SipasRule};

use super::groups::sum_counts;

use super::*;

// ---------------------------------------------------------------------------------------------
// SIPAS
// ---------------------------------------------------------------------------------------------

/// Scores SIPAS for one unit with the methodology's rule.
///
/// # Errors
///
/// [`ScoringError::NoSipas`] when `m` has no `[sipas]` section.
pub fn score_sipas(m: &Methodology, tally: &Tally) -> Result<SipasScore, ScoringError> {
    let rule = m
        .sipas
        .as_ref()
        .map(|s| s.rule)
        .ok_or_else(|| ScoringError::NoSipas {
            methodology: m.code.clone(),
        })?;
    score_sipas_with_rule(m, tally, rule)
}

/// Scores SIPAS with an explicit rule (for comparing `share` and `mean` on the same data).
///
/// # Errors
///
/// As [`score_sipas`].
pub(super) fn score_sipas_with_rule(
    m: &Methodology,
    tally: &Tally,
    rule: SipasRule,
) -> Result<SipasScore, ScoringError> {
    let s = m.sipas.as_ref().ok_or_else(|| ScoringError::NoSipas {
        methodology: m.code.clone(),
    })?;
    let mut notes = Vec::new();
    let mut items = Vec::new();
    let mut elements = Vec::new();
    for element in &s.elements {
        let mut element_percents = Vec::new();
        for item in &element.items {
            let scored = score_sipas_item(s, rule, tally, item, &element.code, &mut notes);
            if let Some(p) = scored.percent {
                element_percents.push(p);
            }
            items.push(scored);
        }
        let subtotal = SipasSubtotal::of(&element.code, &element_percents, element.items.len());
        if subtotal.percent.is_none() {
            notes.push(Note::ElementWithoutData {
                element: element.code.clone(),
            });
        }
        elements.push(subtotal);
    }
    let mut parts = Vec::new();
    for part in &s.parts {
        let members: Vec<&SipasSubtotal> = s
            .elements
            .iter()
            .zip(&elements)
            .filter(|(def, _)| def.part == part.code)
            .map(|(_, sub)| sub)
            .collect();
        let with: Vec<f64> = members.iter().filter_map(|e| e.percent).collect();
        let subtotal = SipasSubtotal::of(&part.code, &with, members.len());
        if subtotal.percent.is_none() {
            notes.push(Note::PartWithoutData {
                part: part.code.clone(),
            });
        }
        parts.push(subtotal);
    }
    let part_percents: Vec<f64> = parts.iter().filter_map(|p| p.percent).collect();
    // The headline is a methodology choice: the mean of the parts, or one directly asked
    // "in general" item (the parser guarantees the item is named).
    let overall_item = match (s.headline, &s.overall_item) {
        (SipasHeadline::OverallItem, Some(item)) => {
            Some(score_sipas_item(s, rule, tally, item, "", &mut notes))
        }
        _ => None,
    };
    let overall_percent = match &overall_item {
        Some(item) => item.percent,
        None => mean_of(&part_percents),
    };
    let mapped: BTreeSet<&str> = s
        .elements
        .iter()
        .flat_map(|e| e.items.iter().map(String::as_str))
        .chain(s.overall_item.as_deref())
        .collect();
    for item in tally.items.keys().filter(|k| !mapped.contains(k.as_str())) {
        notes.push(Note::UnmappedItem { item: item.clone() });
    }
    Ok(SipasScore {
        methodology: m.code.clone(),
        methodology_version: m.version,
        group: s.group.clone(),
        rule,
        responses: tally.responses,
        items,
        elements,
        parts,
        overall_item,
        overall_percent,
        index_points: overall_percent.map(|p| p * s.index_points / 100.0),
        index_max_points: s.index_points,
        notes,
    })
}

/// Scores one SIPAS item from its answers: valid answers are those on the scale, the
/// `invalid` ones and any unknown value (flagged in `notes`) are left out.
fn score_sipas_item(
    s: &Sipas,
    rule: SipasRule,
    tally: &Tally,
    item: &str,
    element: &str,
    notes: &mut Vec<Note>,
) -> SipasItemScore {
    let (min, max) = (s.scale_min(), s.scale_max());
    let distribution = tally.items.get(item).cloned().unwrap_or_default();
    let answered = sum_counts(&distribution);
    if answered > tally.responses {
        notes.push(Note::MoreAnswersThanResponses {
            item: item.to_owned(),
            answers: answered,
            responses: tally.responses,
        });
    }
    let (mut valid_n, mut satisfied_n, mut total) = (0u64, 0u64, 0.0f64);
    let mut unknown = BTreeMap::new();
    for (value, &count) in &distribution {
        if let Some(&x) = s.scale.get(value) {
            valid_n = valid_n.saturating_add(count);
            total += x * count as f64;
            if s.satisfied.contains(value) {
                satisfied_n = satisfied_n.saturating_add(count);
            }
        } else if !s.invalid.contains(value) && count > 0 {
            unknown.insert(value.clone(), count);
        }
    }
    if !unknown.is_empty() {
        notes.push(Note::UnknownAnswerValues {
            item: item.to_owned(),
            values: unknown,
        });
    }
    let mean = (valid_n > 0).then(|| total / valid_n as f64);
    let percent = match rule {
        SipasRule::Share => (valid_n > 0).then(|| satisfied_n as f64 * 100.0 / valid_n as f64),
        // The parser guarantees max > min.
        SipasRule::Mean => mean.map(|mu| (mu - min) * 100.0 / (max - min)),
    };
    if percent.is_none() {
        notes.push(Note::NoValidAnswers {
            item: item.to_owned(),
        });
    }
    SipasItemScore {
        item: item.to_owned(),
        element: element.to_owned(),
        answered,
        valid_n,
        satisfied_n,
        mean,
        percent,
        distribution,
    }
}

/// A group's national figure, as the methodology's `[aggregate] national` says: the mean of
/// the units' (points, percent) that have a value, or the group scored once over `pooled`,
/// the tallies of every unit merged. `group` is a points group or the SIPAS group of `m`
/// (SIPAS: index points and headline percent).
///
/// # Errors
///
/// [`ScoringError::UnknownGroup`] when `group` is neither a points group nor the SIPAS group.
pub fn national_figure(
    m: &Methodology,
    group: &str,
    units: &[(Option<f64>, Option<f64>)],
    pooled: &Tally,
) -> Result<(Option<f64>, Option<f64>), ScoringError> {
    match m.aggregate.national {
        NationalAggregate::MeanOfUnits => Ok((
            mean_of_present(units.iter().map(|u| u.0)),
            mean_of_present(units.iter().map(|u| u.1)),
        )),
        NationalAggregate::Pooled if m.group(group).is_some() => {
            let s = score_group(m, group, pooled)?;
            Ok((s.points, s.percent))
        }
        NationalAggregate::Pooled if m.sipas.as_ref().is_some_and(|s| s.group == group) => {
            let s = score_sipas(m, pooled)?;
            Ok((s.index_points, s.overall_percent))
        }
        NationalAggregate::Pooled => Err(ScoringError::UnknownGroup {
            methodology: m.code.clone(),
            group: group.to_owned(),
        }),
    }
}

impl SipasSubtotal {
    /// The subtotal of `code` over the percentages of its members that have data.
    fn of(code: &str, with_data: &[f64], members: usize) -> Self {
        Self {
            code: code.to_owned(),
            percent: mean_of(with_data),
            with_data: with_data.len(),
            members,
        }
    }
}

/// The mean of the values present; `None` when none is. A missing value is never counted as
/// 0: the one rule behind every "n of N units" mean.
pub(super) fn mean_of_present(values: impl IntoIterator<Item = Option<f64>>) -> Option<f64> {
    let present: Vec<f64> = values.into_iter().flatten().collect();
    mean_of(&present)
}

fn mean_of(xs: &[f64]) -> Option<f64> {
    (!xs.is_empty()).then(|| xs.iter().sum::<f64>() / xs.len() as f64)
}
