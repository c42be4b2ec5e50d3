//! A province's internal round beside the national round of the same year, item by item
//! ([`crate::domain::gains::compare`]), for the comparison page and its API.
//!
//! # Who sees what
//!
//! Both rounds are opened through the one results entry ([`round_results_cached`]), each with
//! the viewer's own rules: an unpublished round needs staff, and a coordinator sees only their
//! units in a round whose figures are live. The internal round is pooled over the units the
//! viewer sees there. The province must be among the units the viewer sees in the national
//! round too: a coordinator of the province's own units who is not also a coordinator of the
//! province in a live national round gets "not found", exactly as on the province's own page;
//! once the national round is published, everyone sees it.

use std::collections::BTreeMap;

use super::{ResultsCache, RoundResults, Source, Viewer, round_results_cached, visible_rounds};
use crate::app::rounds::{PROVINCES_2023, UNITS_2025};
use crate::db::rounds::RoundRow;
use crate::db::{self, AnyConnection};
use crate::domain::gains::{self, CompareError, CompareInput, Comparison};
use crate::domain::scoring::GroupScore;
use crate::error::AppError;

/// What the visitor asked to compare with (both optional: the page starts from a form).
#[derive(Debug, Clone, Default)]
pub struct CompareRequest {
    /// The national round's id, as typed (empty or absent: the default, if there is one).
    pub national: Option<String>,
    /// The province's code in the national round.
    pub unit: Option<String>,
}

/// The internal round beside one province of the national round.
#[derive(Debug, Clone)]
pub struct RoundComparison {
    /// The national round.
    pub national_round: RoundRow,
    /// Where its figures come from.
    pub national_source: Source,
    /// The province's code.
    pub unit: String,
    /// Its Vietnamese name.
    pub name_vi: String,
    /// Its English name.
    pub name_en: String,
    /// Internal units pooled (in the viewer's view).
    pub internal_units: usize,
    /// The rows.
    pub comparison: Comparison,
}

/// Everything the comparison page shows: the form's choices and, once both a national round
/// and a province are chosen, the comparison or why it was refused.
#[derive(Debug, Clone)]
pub struct ComparePage {
    /// The internal round's results as the viewer sees them.
    pub internal: RoundResults,
    /// Rounds of a national unit set of the same year the viewer may open.
    pub candidates: Vec<RoundRow>,
    /// The national round chosen (asked for, or the only candidate).
    pub national: Option<i64>,
    /// The units of the chosen national round the viewer sees: code, Vietnamese and English
    /// names.
    pub units: Vec<(String, String, String)>,
    /// The province asked for.
    pub unit: Option<String>,
    /// `Ok(None)` until both are chosen; `Err` holds the catalogue key of the refusal.
    pub outcome: Result<Option<RoundComparison>, &'static str>,
}

/// The comparison of the internal round `internal_id` with the national round and province of
/// `request`, opened for `viewer` (see the module's rules). Not found or "login required" as
/// either round's own results page; refusals (another year, a unit not in the national round,
/// no group in common, a malformed round id) come back in [`ComparePage::outcome`].
pub fn compare_with_national(
    cache: &ResultsCache,
    conn: &mut AnyConnection,
    internal_id: i64,
    viewer: Viewer,
    request: &CompareRequest,
) -> Result<ComparePage, AppError> {
    let internal = round_results_cached(cache, conn, internal_id, viewer)?;
    let candidates = national_candidates(conn, &internal.round, viewer)?;
    let asked = request
        .national
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty());
    let national = match asked {
        Some(text) => match text.parse::<i64>() {
            Ok(id) => Some(id),
            Err(_) => {
                return Ok(page(
                    internal,
                    candidates,
                    None,
                    request,
                    Err("compare.national_invalid"),
                ));
            }
        },
        None => match candidates.as_slice() {
            [only] => Some(only.id),
            _ => None,
        },
    };
    let Some(national_id) = national else {
        return Ok(page(internal, candidates, None, request, Ok(None)));
    };
    let national = round_results_cached(cache, conn, national_id, viewer)?;
    let mut out = page(internal, candidates, Some(national_id), request, Ok(None));
    out.units = national
        .scores
        .units
        .iter()
        .map(|u| (u.unit.clone(), u.name_vi.clone(), u.name_en.clone()))
        .collect();
    if national.round.year != out.internal.round.year {
        out.outcome = Err("compare.other_year");
        return Ok(out);
    }
    let Some(code) = out.unit.clone() else {
        return Ok(out);
    };
    let Some(province) = national.scores.units.iter().find(|u| u.unit == code) else {
        // In the round but outside the viewer's view: as absent as on the unit's own page.
        if db::rounds::units(conn, national_id)?
            .iter()
            .any(|u| u.code == code)
        {
            return Err(AppError::NotFound);
        }
        out.outcome = Err("compare.unit_not_in_national");
        return Ok(out);
    };
    let internal_groups: Vec<&[GroupScore]> = out
        .internal
        .scores
        .units
        .iter()
        .map(|u| u.groups.as_slice())
        .collect();
    let national_groups: Vec<&[GroupScore]> = national
        .scores
        .units
        .iter()
        .map(|u| u.groups.as_slice())
        .collect();
    let compared = gains::compare(&CompareInput {
        methodology: &out.internal.methodology,
        internal: &internal_groups,
        province: &province.groups,
        national: &national_groups,
    });
    out.outcome = match compared {
        Ok(comparison) => Ok(Some(RoundComparison {
            national_round: national.round.clone(),
            national_source: national.source,
            unit: province.unit.clone(),
            name_vi: province.name_vi.clone(),
            name_en: province.name_en.clone(),
            internal_units: internal_groups.len(),
            comparison,
        })),
        Err(CompareError::NoGroupInCommon) => Err("compare.no_common_group"),
    };
    Ok(out)
}

/// The page with the form's choices so far and `outcome`; the units of the national round are
/// filled in once it is opened.
fn page(
    internal: RoundResults,
    candidates: Vec<RoundRow>,
    national: Option<i64>,
    request: &CompareRequest,
    outcome: Result<Option<RoundComparison>, &'static str>,
) -> ComparePage {
    ComparePage {
        internal,
        candidates,
        national,
        units: Vec::new(),
        unit: request
            .unit
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned),
        outcome,
    }
}

/// The rounds of a bundled national unit set (the provinces, or the units in force from 2025)
/// of the same year as `internal`, other than it, that `viewer` may open.
fn national_candidates(
    conn: &mut AnyConnection,
    internal: &RoundRow,
    viewer: Viewer,
) -> Result<Vec<RoundRow>, AppError> {
    let national_sets: BTreeMap<i64, String> = db::units::sets(conn)?
        .into_iter()
        .filter(|s| s.code == PROVINCES_2023 || s.code == UNITS_2025)
        .map(|s| (s.id, s.code))
        .collect();
    Ok(visible_rounds(conn, viewer)?
        .into_iter()
        .map(|(r, _)| r)
        .filter(|r| {
            r.year == internal.year
                && r.id != internal.id
                && national_sets.contains_key(&r.unit_set_id)
        })
        .collect())
}
