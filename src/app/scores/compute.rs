//! The scoring engine applied to a round: every unit's scores under the round's
//! methodologies, ranked, with the national figures beside them.

use super::round_scores::{NationalFigure, RoundScores, UnitScores, rank_unit_scores};
use super::tallies::Tallies;
use crate::app::catalog;
use crate::db::{self, AnyConnection};
use crate::domain::field_submissions::ResponseSource;
use crate::domain::methodology::{Methodology, NationalAggregate};
use crate::domain::scoring::{self, GroupScore, SipasScore, Tally};
use crate::error::AppError;
use std::collections::BTreeMap;

/// A round's live score page: the round, its scores and, when it has a comparison round,
/// the year-over-year changes.
pub struct LiveScores {
    /// The round.
    pub round: db::rounds::RoundRow,
    /// Its scores from the live tallies (or, on request, from every answer).
    pub scores: RoundScores,
    /// Changes against the comparison round, when one is set.
    pub year_over_year: Option<Vec<crate::domain::yoy::UnitChange>>,
    /// Region code → (Vietnamese, English) name.
    pub regions: std::collections::BTreeMap<String, (String, String)>,
}

/// Scores a round as it stands. The live tallies leave excluded responses out; with
/// `with_excluded` the tallies are recomputed from every stored answer instead.
pub fn live_scores(
    conn: &mut AnyConnection,
    round_id: i64,
    with_excluded: bool,
) -> Result<LiveScores, AppError> {
    let round = db::rounds::by_id(conn, round_id)?.ok_or(AppError::NotFound)?;
    let tallies = if with_excluded {
        super::recompute_tallies_with_excluded(conn, round_id)?
    } else {
        super::live_tallies(conn, round_id)?
    };
    let scores = compute(conn, round_id, &tallies)?;
    Ok(LiveScores {
        round,
        scores,
        year_over_year: super::year_over_year(conn, round_id)?,
        regions: region_names(conn, round_id)?,
    })
}

/// Region code → (Vietnamese, English) name, for the regions of a round's units: pages show
/// region names, never their codes.
pub fn region_names(
    conn: &mut AnyConnection,
    round_id: i64,
) -> Result<BTreeMap<String, (String, String)>, AppError> {
    Ok(db::rounds::units(conn, round_id)?
        .into_iter()
        .filter_map(|u| {
            Some((
                u.region_code?,
                (
                    u.region_vi.unwrap_or_default(),
                    u.region_en.unwrap_or_default(),
                ),
            ))
        })
        .collect())
}

/// Scores a round from tallies with its configured methodologies.
pub fn compute(
    conn: &mut AnyConnection,
    round_id: i64,
    tallies: &Tallies,
) -> Result<RoundScores, AppError> {
    let groups = db::rounds::groups(conn, round_id)?;
    let units = db::rounds::units(conn, round_id)?;
    let mut methodologies: BTreeMap<i64, Methodology> = BTreeMap::new();
    let mut instruments = Vec::new();
    for g in &groups {
        if let std::collections::btree_map::Entry::Vacant(slot) =
            methodologies.entry(g.methodology_id)
        {
            let stored =
                catalog::load_methodology(conn, g.methodology_id)?.ok_or(AppError::NotFound)?;
            slot.insert(stored.methodology);
        }
        instruments.push((
            g.instrument_code.clone(),
            u32::try_from(g.instrument_version).unwrap_or(0),
        ));
    }
    // The index is composed with the methodology that has components (the PAR one); a SIPAS
    // methodology contributes through its linked index.
    let main = methodologies
        .values()
        .find(|m| !m.components.is_empty())
        .ok_or_else(|| AppError::BadRequest("scores.no_main_methodology"))?
        .clone();
    // A unit with appraised points is composed into the full index (a component it lacks
    // leaves it incomplete); a unit without stays survey-only, and is then not ranked against
    // the full-index totals (see `scoring::standing`).
    let appraised_rows = db::appraised::of_round(conn, round_id)?;
    let appraised: Option<BTreeMap<i64, BTreeMap<String, f64>>> = (!appraised_rows.is_empty())
        .then(|| {
            let mut by_unit: BTreeMap<i64, BTreeMap<String, f64>> = BTreeMap::new();
            for (unit, component, points) in appraised_rows {
                by_unit.entry(unit).or_default().insert(component, points);
            }
            by_unit
        });
    let paper: BTreeMap<i64, i64> = db::paper::counted_per_unit(conn, round_id)?
        .into_iter()
        .collect();
    let mut field: BTreeMap<i64, i64> = BTreeMap::new();
    for (unit, _, source, n) in db::responses::counted_by_source(conn, round_id)? {
        if source == ResponseSource::Field.code() {
            *field.entry(unit).or_default() += n;
        }
    }
    let empty = Tally::default();
    let mut unit_scores = Vec::with_capacity(units.len());
    for unit in &units {
        let mut group_scores = Vec::new();
        let mut sipas = None;
        for g in &groups {
            let Some(m) = methodologies.get(&g.methodology_id) else {
                continue;
            };
            let tally = tallies.get(&(unit.id, g.group_id)).unwrap_or(&empty);
            if m.group(&g.group_code).is_some() {
                group_scores.push(
                    scoring::score_group(m, &g.group_code, tally)
                        .map_err(|e| AppError::internal(anyhow::anyhow!("{e}")))?,
                );
            } else if m.sipas.as_ref().is_some_and(|s| s.group == g.group_code) {
                sipas = Some(
                    scoring::score_sipas(m, tally)
                        .map_err(|e| AppError::internal(anyhow::anyhow!("{e}")))?,
                );
            }
        }
        // SIPAS points go to the linked index its methodology names; SIPAS without a score
        // is left out, never passed as 0: the unit is then incomplete.
        let mut linked = BTreeMap::new();
        if let Some(score) = &sipas
            && let Some(points) = score.index_points
            && let Some(link) = sipas_link(&methodologies, score)
            && main.linked_indices.iter().any(|l| l.code == link)
        {
            linked.insert(link.to_owned(), points);
        }
        let counted: Vec<GroupScore> = group_scores
            .iter()
            .filter(|g| g.methodology == main.code && g.methodology_version == main.version)
            .cloned()
            .collect();
        let unit_appraised = appraised.as_ref().and_then(|a| a.get(&unit.id));
        let index = scoring::compose_index(&main, &counted, &linked, unit_appraised)
            .map_err(|e| AppError::internal(anyhow::anyhow!("{e}")))?;
        unit_scores.push(UnitScores {
            unit: unit.code.clone(),
            name_vi: unit.name_vi.clone(),
            name_en: unit.name_en.clone(),
            region: unit.region_code.clone().unwrap_or_default(),
            groups: group_scores,
            sipas,
            index,
            paper_responses: Some(
                paper
                    .get(&unit.id)
                    .map_or(0, |n| u64::try_from(*n).unwrap_or(0)),
            ),
            field_responses: Some(
                field
                    .get(&unit.id)
                    .map_or(0, |n| u64::try_from(*n).unwrap_or(0)),
            ),
        });
    }
    let rankings = rank_unit_scores(&main, &unit_scores);
    let national = national_figures(&groups, &methodologies, tallies, &unit_scores)?;
    Ok(RoundScores {
        round_id,
        methodologies: methodologies
            .values()
            .map(|m| (m.code.clone(), m.version))
            .collect(),
        instruments,
        units: unit_scores,
        rankings,
        uncertainty: None,
        national,
    })
}

/// The linked-index code a SIPAS score's methodology sends its points to.
fn sipas_link<'a>(
    methodologies: &'a BTreeMap<i64, Methodology>,
    score: &SipasScore,
) -> Option<&'a str> {
    methodologies
        .values()
        .find(|m| m.code == score.methodology && m.version == score.methodology_version)
        .and_then(|m| m.sipas.as_ref())
        .map(|s| s.linked_index.as_str())
}

/// The national figure of every group of the round, as its methodology's `[aggregate]
/// national` says: the mean of the units that have a score (a unit without one is never
/// averaged in as 0), or the group scored once over every respondent (the tallies of all
/// units merged).
fn national_figures(
    groups: &[db::rounds::RoundGroupRow],
    methodologies: &BTreeMap<i64, Methodology>,
    tallies: &Tallies,
    units: &[UnitScores],
) -> Result<Vec<NationalFigure>, AppError> {
    let fail = |e: scoring::ScoringError| AppError::internal(anyhow::anyhow!("{e}"));
    let mut out = Vec::new();
    for g in groups {
        let Some(m) = methodologies.get(&g.methodology_id) else {
            continue;
        };
        // Each unit's (points, percent) in this group, `None` where it has no score.
        let per_unit: Vec<(Option<f64>, Option<f64>)> = if m.group(&g.group_code).is_some() {
            units
                .iter()
                .filter_map(|u| u.groups.iter().find(|x| x.group == g.group_code))
                .map(|x| (x.points, x.percent))
                .collect()
        } else if m.sipas.as_ref().is_some_and(|s| s.group == g.group_code) {
            units
                .iter()
                .filter_map(|u| u.sipas.as_ref())
                .map(|x| (x.index_points, x.overall_percent))
                .collect()
        } else {
            continue;
        };
        let units_with_value = per_unit.iter().filter(|(_, p)| p.is_some()).count();
        let responses = tallies
            .iter()
            .filter(|((_, group), _)| *group == g.group_id)
            .map(|(_, t)| t.responses)
            .sum();
        let mut pooled = Tally::default();
        if m.aggregate.national == NationalAggregate::Pooled {
            for ((_, group), tally) in tallies {
                if *group == g.group_id {
                    pooled.merge(tally);
                }
            }
        }
        let (points, percent) =
            scoring::national_figure(m, &g.group_code, &per_unit, &pooled).map_err(fail)?;
        out.push(NationalFigure {
            group: g.group_code.clone(),
            rule: m.aggregate.national,
            units_with_value,
            responses,
            points,
            percent,
        });
    }
    Ok(out)
}
