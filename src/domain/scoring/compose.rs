//! Composition of a unit's full index from its groups, linked indices and appraised points.

use std::collections::BTreeMap;

use crate::domain::methodology::Methodology;
use crate::domain::number::{NOISE_DECIMALS, decimal_key, percent_of};

use super::rank::tier_for;

use super::*;

// ---------------------------------------------------------------------------------------------
// Composition into the full index
// ---------------------------------------------------------------------------------------------

/// Composes one unit's index: survey points of the groups that count, points of linked indices
/// (e.g. `"sipas"` → SIPAS index points) and, optionally, appraised (non-survey) points per
/// component. Without `appraised`, the result is the survey part only (max = survey maximum).
///
/// # Errors
///
/// Group scores of another methodology or version, unknown or duplicate groups, unknown
/// linked indices or components, and points outside their allowed range. Missing inputs
/// (a counted group without a score, a linked index or appraised component without points)
/// are not errors: they are listed in [`IndexScore::notes`], and every sum they enter has no
/// value, so the unit is incomplete and is neither tiered nor ranked.
pub fn compose_index(
    m: &Methodology,
    groups: &[GroupScore],
    linked: &BTreeMap<String, f64>,
    appraised: Option<&BTreeMap<String, f64>>,
) -> Result<IndexScore, ScoringError> {
    let expected = format!("{} v{}", m.code, m.version);
    let mut by_code: BTreeMap<&str, &GroupScore> = BTreeMap::new();
    for g in groups {
        if g.methodology != m.code || g.methodology_version != m.version {
            return Err(ScoringError::ForeignGroupScore {
                group: g.group.clone(),
                found: format!("{} v{}", g.methodology, g.methodology_version),
                expected,
            });
        }
        if m.group(&g.group).is_none() {
            return Err(ScoringError::UnknownGroup {
                methodology: m.code.clone(),
                group: g.group.clone(),
            });
        }
        if by_code.insert(g.group.as_str(), g).is_some() {
            return Err(ScoringError::DuplicateGroupScore {
                group: g.group.clone(),
            });
        }
    }
    for (code, &points) in linked {
        let def = m
            .linked_indices
            .iter()
            .find(|l| &l.code == code)
            .ok_or_else(|| ScoringError::UnknownLinkedIndex { code: code.clone() })?;
        if !(0.0..=def.points).contains(&points) {
            return Err(ScoringError::LinkedOutOfRange {
                code: code.clone(),
                points,
                max: def.points,
            });
        }
    }
    let mut notes = Vec::new();
    for g in m.groups.iter().filter(|g| g.counts_toward_index) {
        if by_code
            .get(g.code.as_str())
            .and_then(|s| s.points)
            .is_none()
        {
            notes.push(Note::MissingGroup {
                group: g.code.clone(),
            });
        }
    }
    let mut insufficient_data = false;
    for g in m.groups.iter().filter(|g| g.counts_toward_index) {
        if let Some(s) = by_code.get(g.code.as_str())
            && s.responses < m.ranking.min_respondents
        {
            insufficient_data = true;
            notes.push(Note::InsufficientRespondents {
                group: g.code.clone(),
                responses: s.responses,
                min: m.ranking.min_respondents,
            });
        }
    }
    for l in &m.linked_indices {
        if !linked.contains_key(&l.code) {
            notes.push(Note::MissingLinkedIndex {
                code: l.code.clone(),
            });
        }
    }
    if let Some(a) = appraised {
        for code in a.keys() {
            if m.component(code).is_none() {
                return Err(ScoringError::UnknownComponent {
                    component: code.clone(),
                });
            }
        }
    }

    let mut components = Vec::new();
    for c in &m.components {
        // Survey maxima come from the methodology, not from the scores passed in; a counted
        // group or linked index without a value leaves the component's survey points empty.
        let mut survey_max = 0.0;
        let mut survey = Some(0.0);
        for g in m.groups.iter().filter(|g| g.counts_toward_index) {
            let mut covers = false;
            for rule in &g.items {
                if m.criterion(&rule.criterion)
                    .is_some_and(|k| k.component == c.code)
                {
                    survey_max += rule.points;
                    covers = true;
                }
            }
            if covers {
                let part = by_code
                    .get(g.code.as_str())
                    .and_then(|s| s.component(&c.code))
                    .and_then(|s| s.points);
                survey = survey.zip(part).map(|(a, b)| a + b);
            }
        }
        for l in m.linked_indices.iter().filter(|l| l.component == c.code) {
            survey_max += l.points;
            survey = survey.zip(linked.get(&l.code).copied()).map(|(a, b)| a + b);
        }
        let (appraised_points, points, max_points) = match appraised {
            Some(a) => {
                let appraised_max = c.max_points - survey_max;
                let value = a.get(&c.code).copied();
                match value {
                    Some(v) => {
                        let key = |x: f64| decimal_key(x, NOISE_DECIMALS);
                        let fits =
                            v.is_finite() && key(v) >= Some(0) && key(v) <= key(appraised_max);
                        if !fits {
                            return Err(ScoringError::AppraisedOutOfRange {
                                component: c.code.clone(),
                                points: v,
                                max: appraised_max,
                            });
                        }
                    }
                    None => notes.push(Note::MissingAppraised {
                        component: c.code.clone(),
                    }),
                }
                (value, survey.zip(value).map(|(a, b)| a + b), c.max_points)
            }
            None => (None, survey, survey_max),
        };
        components.push(ComponentIndex {
            code: c.code.clone(),
            survey_points: survey,
            survey_max_points: survey_max,
            appraised_points,
            points,
            max_points,
            percent: points.and_then(|p| percent_of(p, max_points)),
        });
    }
    // A sum of options is `None` as soon as one is.
    let survey_points = components
        .iter()
        .map(|c| c.survey_points)
        .sum::<Option<f64>>();
    let survey_max_points = components.iter().map(|c| c.survey_max_points).sum::<f64>();
    let total_points = components.iter().map(|c| c.points).sum::<Option<f64>>();
    let full_index = appraised.is_some();
    let max_points = if full_index {
        m.total_points
    } else {
        survey_max_points
    };
    let percent = total_points.and_then(|t| percent_of(t, max_points));
    Ok(IndexScore {
        methodology: m.code.clone(),
        methodology_version: m.version,
        full_index,
        survey_points,
        survey_max_points,
        components,
        total_points,
        max_points,
        percent,
        tier: if full_index && !insufficient_data {
            percent.and_then(|p| tier_for(m, p)).map(|t| t.code.clone())
        } else {
            None
        },
        insufficient_data,
        notes,
    })
}
