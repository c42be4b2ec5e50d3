//! Which units drag a round's overall score down: for a province's internal round (its
//! departments, districts and communes) as for a national round of provinces.
//!
//! # Definition
//!
//! The round-wide score is the mean of the units' index percent weighted by their respondents
//! (in the groups that count toward the index): `overall = Σ share_u × score_u`, with
//! `share_u = n_u / Σ n`. The best unit's score is `best = max score_u`. A unit's drag is
//!
//! ```text
//! drag_u = share_u × (best − score_u)
//! ```
//!
//! the points by which the round-wide score would rise if that unit alone reached the best
//! unit's score (its own weight unchanged). Drags are never negative, the best unit's is 0,
//! and they add up to `best − overall`: the whole distance between the round and its best
//! unit, shared out among the units that cause it. A large unit a little behind can drag more
//! than a small unit far behind, which is the point of weighting by respondents.
//!
//! Units without a score (incomplete) or without respondents take no part: they have no
//! weight in the round-wide score either.

use serde::Serialize;

/// One unit as the drag ranking reads it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct UnitWeight<'a> {
    /// Unit code.
    pub unit: &'a str,
    /// Respondents in the groups that count toward the index.
    pub respondents: u64,
    /// Index percent (0–100); `None` without a complete score.
    pub score: Option<f64>,
}

/// One unit's drag on the round-wide score.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Drag {
    /// Unit code.
    pub unit: String,
    /// Respondents in the groups that count.
    pub respondents: u64,
    /// Its share of the respondents of the units ranked (0–1).
    pub share: f64,
    /// Its index percent.
    pub score: f64,
    /// Best − score.
    pub gap_to_best: f64,
    /// share × (best − score): how much the round-wide score would rise were it the best.
    pub drag: f64,
}

/// The units ranked by drag, most first.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DragRanking {
    /// The round-wide score: the respondent-weighted mean of the units' index percent.
    pub overall: f64,
    /// The best unit's index percent.
    pub best: f64,
    /// Every unit with a score and respondents, most drag first (ties by unit code).
    pub units: Vec<Drag>,
}

/// Ranks `units` by how much each drags the round-wide score down (see the module's
/// definition); `None` when no unit has both a score and respondents.
pub fn drag_ranking(units: &[UnitWeight<'_>]) -> Option<DragRanking> {
    let counted: Vec<(&UnitWeight<'_>, f64)> = units
        .iter()
        .filter(|u| u.respondents > 0)
        .filter_map(|u| Some((u, u.score.filter(|s| s.is_finite())?)))
        .collect();
    let total: u64 = counted
        .iter()
        .fold(0u64, |a, (u, _)| a.saturating_add(u.respondents));
    if total == 0 {
        return None;
    }
    let best = counted.iter().map(|(_, s)| *s).fold(f64::MIN, f64::max);
    let mut out: Vec<Drag> = counted
        .iter()
        .map(|(u, score)| {
            let share = u.respondents as f64 / total as f64;
            Drag {
                unit: u.unit.to_owned(),
                respondents: u.respondents,
                share,
                score: *score,
                gap_to_best: best - score,
                drag: share * (best - score),
            }
        })
        .collect();
    let overall = out.iter().map(|d| d.share * d.score).sum();
    out.sort_by(|a, b| b.drag.total_cmp(&a.drag).then_with(|| a.unit.cmp(&b.unit)));
    Some(DragRanking {
        overall,
        best,
        units: out,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    fn unit(unit: &str, respondents: u64, score: Option<f64>) -> UnitWeight<'_> {
        UnitWeight {
            unit,
            respondents,
            score,
        }
    }

    #[test]
    fn a_large_unit_a_little_behind_drags_more_than_a_small_one_far_behind() {
        // 500 respondents: A 100 at 90, B 300 at 80, C 100 at 70 (shares 0.2, 0.6, 0.2).
        // Overall = 0.2 × 90 + 0.6 × 80 + 0.2 × 70 = 18 + 48 + 14 = 80; best 90.
        // Drags: B 0.6 × 10 = 6, C 0.2 × 20 = 4, A 0: 10 in all = 90 − 80.
        // D has no score and E no respondents: neither counts.
        let ranking = drag_ranking(&[
            unit("A", 100, Some(90.0)),
            unit("B", 300, Some(80.0)),
            unit("C", 100, Some(70.0)),
            unit("D", 50, None),
            unit("E", 0, Some(10.0)),
        ])
        .unwrap();
        assert!(close(ranking.overall, 80.0));
        assert!(close(ranking.best, 90.0));
        let order: Vec<&str> = ranking.units.iter().map(|d| d.unit.as_str()).collect();
        assert_eq!(order, ["B", "C", "A"]);
        let drags: Vec<f64> = ranking.units.iter().map(|d| d.drag).collect();
        for (got, want) in drags.iter().zip([6.0, 4.0, 0.0]) {
            assert!(close(*got, want), "{drags:?}");
        }
        assert!(close(ranking.units[0].share, 0.6));
        assert!(close(ranking.units[1].gap_to_best, 20.0));
        assert!(close(
            drags.iter().sum::<f64>(),
            ranking.best - ranking.overall
        ));
    }

    #[test]
    fn equal_drags_are_ordered_by_unit_code() {
        // X and Y: 50 each, both 10 behind Z (100 at 95): drags 0.25 × 10 = 2.5 each.
        let ranking = drag_ranking(&[
            unit("Y", 50, Some(85.0)),
            unit("Z", 100, Some(95.0)),
            unit("X", 50, Some(85.0)),
        ])
        .unwrap();
        let order: Vec<&str> = ranking.units.iter().map(|d| d.unit.as_str()).collect();
        assert_eq!(order, ["X", "Y", "Z"]);
        assert!(close(ranking.units[0].drag, 2.5));
    }

    #[test]
    fn no_unit_with_a_score_and_respondents_gives_no_ranking() {
        assert!(drag_ranking(&[]).is_none());
        assert!(drag_ranking(&[unit("A", 0, Some(90.0)), unit("B", 10, None)]).is_none());
    }
}
