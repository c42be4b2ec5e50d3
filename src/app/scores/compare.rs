//! Rounds side by side: year-over-year changes of each unit and the comparison of two rounds.

use super::compute::compute;
use super::round_scores::RoundScores;
use super::tallies::live_tallies;
use crate::app::catalog;
use crate::db::{self, AnyConnection};
use crate::domain::methodology::Methodology;
use crate::domain::scoring::{self};
use crate::error::AppError;
use std::collections::BTreeMap;

/// The year-over-year comparison of a round with its chosen earlier round (none when no
/// earlier round is chosen), both from their live tallies: the staff's working view on the
/// score page. Public results compare published figures instead (see
/// [`crate::app::results::round_results`]), through the same [`compare_rounds`].
pub fn year_over_year(
    conn: &mut AnyConnection,
    round_id: i64,
) -> Result<Option<Vec<crate::domain::yoy::UnitChange>>, AppError> {
    let round = db::rounds::by_id(conn, round_id)?.ok_or(AppError::NotFound)?;
    let Some(earlier_id) = round.compare_round_id else {
        return Ok(None);
    };
    let tallies = live_tallies(conn, round_id)?;
    let current = compute(conn, round_id, &tallies)?;
    let tallies = live_tallies(conn, earlier_id)?;
    let earlier = compute(conn, earlier_id, &tallies)?;
    compare_rounds(conn, &round, &current, &earlier).map(Some)
}

/// Each complete unit's total and national rank as the year-over-year comparison reads them,
/// with the respondents the value rests on (every scored group's responses). Incomplete units
/// have no total and are left out: nothing is compared with a missing value.
fn unit_values(scores: &RoundScores) -> BTreeMap<String, crate::domain::yoy::UnitValue> {
    let ranks: BTreeMap<&str, &scoring::Ranked> = scores
        .rankings
        .total
        .iter()
        .map(|r| (r.unit.as_str(), r))
        .collect();
    scores
        .units
        .iter()
        .filter_map(|u| {
            let respondents = u.groups.iter().map(|g| g.responses).sum::<u64>()
                + u.sipas.as_ref().map_or(0, |s| s.responses);
            // Only the total the round ranks on: a survey-only unit in a full-index round has
            // no value to compare.
            let (points, percent) = scores.round_total(u);
            Some((
                u.unit.clone(),
                crate::domain::yoy::UnitValue {
                    points: points?,
                    percent: percent?,
                    national: ranks.get(u.unit.as_str()).and_then(|r| r.national),
                    respondents,
                },
            ))
        })
        .collect()
}

/// Compares `current` (the scores of `round`) with `earlier` (the scores of the round it is
/// compared with). The caller decides where both come from (live tallies or a published
/// snapshot); this only matches the units, through the unit lineage: a 2025 unit compares with
/// the respondent-weighted mean of the 2023 provinces it absorbed.
pub fn compare_rounds(
    conn: &mut AnyConnection,
    round: &db::rounds::RoundRow,
    current: &RoundScores,
    earlier: &RoundScores,
) -> Result<Vec<crate::domain::yoy::UnitChange>, AppError> {
    use crate::domain::yoy::{Lineage, MergeRule, compare_units};
    // A survey part (of 32) and an index total (of 100) are different measures: rounds that
    // rank on different ones are not compared.
    if current.full_index() != earlier.full_index() {
        return Ok(Vec::new());
    }
    let earlier_round = db::rounds::by_id(conn, earlier.round_id)?.ok_or(AppError::NotFound)?;
    let earlier_method = main_methodology(conn, earlier_round.id)?;
    // Same unit list: every unit continues itself. Another list: follow the recorded lineage.
    let mut lineage = Lineage::new();
    if round.unit_set_id != earlier_round.unit_set_id {
        let earlier_units: BTreeMap<i64, String> =
            db::units::units_of_set(conn, earlier_round.unit_set_id)?
                .into_iter()
                .map(|u| (u.id, u.code))
                .collect();
        let current_units: BTreeMap<i64, String> =
            db::units::units_of_set(conn, round.unit_set_id)?
                .into_iter()
                .map(|u| (u.id, u.code))
                .collect();
        for (unit, absorbed) in db::units::lineage_of_set(conn, round.unit_set_id)? {
            if let (Some(to), Some(from)) = (current_units.get(&unit), earlier_units.get(&absorbed))
            {
                lineage.entry(to.clone()).or_default().push(from.clone());
            }
        }
    }
    Ok(compare_units(
        &unit_values(current),
        &unit_values(earlier),
        &lineage,
        MergeRule::RespondentWeighted,
        &earlier_method.ranking,
        earlier_method.display.decimals,
    ))
}

/// The methodology of a round that has components (the one the index is composed with).
pub fn main_methodology(conn: &mut AnyConnection, round_id: i64) -> Result<Methodology, AppError> {
    for g in db::rounds::groups(conn, round_id)? {
        let m = catalog::load_methodology(conn, g.methodology_id)?
            .ok_or(AppError::NotFound)?
            .methodology;
        if !m.components.is_empty() {
            return Ok(m);
        }
    }
    Err(AppError::BadRequest("scores.no_main_methodology"))
}
