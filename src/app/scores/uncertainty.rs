//! How certain a unit's score is: bootstrap intervals over its respondents.

use super::round_scores::RoundScores;
use super::round_scores::UnitUncertainty;
use crate::app::catalog;
use crate::db::{self, AnyConnection};
use crate::domain::answers::Answers;
use crate::domain::answers::tally_cells;
use crate::domain::scoring::{self};
use crate::error::AppError;
use std::collections::BTreeMap;

/// Bootstrap replicates for published intervals: enough for stable 95 % percentiles of unit
/// scores, cheap enough to run at every publication.
pub const BOOTSTRAP_REPLICATES: u32 = 500;

/// 95 % bootstrap intervals (resampling respondents, seeded by round and unit so that they are
/// reproducible) and rank-support flags for every unit.
pub fn uncertainty(
    conn: &mut AnyConnection,
    round_id: i64,
    scores: &RoundScores,
) -> Result<BTreeMap<String, UnitUncertainty>, AppError> {
    use crate::domain::bootstrap::{bootstrap_interval, rank_support};
    let units = db::rounds::units(conn, round_id)?;
    let groups = db::rounds::groups(conn, round_id)?;
    let mut respondents: BTreeMap<(i64, i64), Vec<BTreeMap<String, String>>> = BTreeMap::new();
    let mut after = 0;
    loop {
        let page = db::responses::page_for_scoring(conn, round_id, after, 5_000, false)?;
        let Some(last) = page.last() else { break };
        after = last.id;
        for r in &page {
            let answers = Answers::from_json(&r.answers).unwrap_or_default();
            let single: BTreeMap<String, String> = tally_cells(&answers)
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect();
            respondents
                .entry((r.unit_id, r.group_id))
                .or_default()
                .push(single);
        }
    }
    let mut methodologies = BTreeMap::new();
    for g in &groups {
        if let std::collections::btree_map::Entry::Vacant(slot) =
            methodologies.entry(g.methodology_id)
        {
            slot.insert(
                catalog::load_methodology(conn, g.methodology_id)?
                    .ok_or(AppError::NotFound)?
                    .methodology,
            );
        }
    }
    let mut out = BTreeMap::new();
    for unit in &units {
        let mut u = UnitUncertainty {
            leader_points: None,
            sipas_percent: None,
            leader_rank_supported: None,
        };
        for g in &groups {
            let Some(m) = methodologies.get(&g.methodology_id) else {
                continue;
            };
            let rows = respondents
                .get(&(unit.id, g.group_id))
                .map(Vec::as_slice)
                .unwrap_or_default();
            let seed = u64::try_from(round_id)
                .unwrap_or(0)
                .wrapping_mul(1_000_003)
                .wrapping_add(u64::try_from(unit.id * 7 + g.group_id).unwrap_or(0));
            if g.group_code == "leader" && m.group("leader").is_some() {
                u.leader_points = bootstrap_interval(
                    rows,
                    |t| {
                        scoring::score_group(m, "leader", t)
                            .ok()
                            .and_then(|s| s.points)
                    },
                    BOOTSTRAP_REPLICATES,
                    seed,
                );
            } else if m.sipas.as_ref().is_some_and(|s| s.group == g.group_code) {
                u.sipas_percent = bootstrap_interval(
                    rows,
                    |t| {
                        scoring::score_sipas(m, t)
                            .ok()
                            .and_then(|s| s.overall_percent)
                    },
                    BOOTSTRAP_REPLICATES,
                    seed,
                );
            }
        }
        out.insert(unit.code.clone(), u);
    }
    // Only ranked (complete) units get a rank-support flag: the others have no place to support.
    let ranked_units: std::collections::BTreeSet<&str> = scores
        .rankings
        .total
        .iter()
        .map(|r| r.unit.as_str())
        .collect();
    let ranked: Vec<(String, f64, crate::domain::bootstrap::Interval)> = scores
        .units
        .iter()
        .filter(|s| ranked_units.contains(s.unit.as_str()))
        .filter_map(|s| {
            let points = s.groups.iter().find(|g| g.group == "leader")?.points?;
            Some((s.unit.clone(), points, out.get(&s.unit)?.leader_points?))
        })
        .collect();
    for (unit, supported) in rank_support(&ranked) {
        if let Some(u) = out.get_mut(&unit) {
            u.leader_rank_supported = Some(supported);
        }
    }
    Ok(out)
}
