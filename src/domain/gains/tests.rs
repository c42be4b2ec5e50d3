//! Hand-worked examples of points at stake and what-if, on the PAR-style fixture methodology:
//! C1 (max 40: leader items q1 10 points and q3 2 points, appraised 28), C2 (max 60: leader
//! item q2 10 points, SIPAS 10 points, appraised 40); coefficients "1" = 1.0, "2" = 0.6 (Tốt),
//! "3" = 0.2, "4" = 0; tiers A ≥ 90, B 80–<90, C 70–<80; competition ranking.

use std::collections::BTreeMap;

use super::*;
use crate::domain::methodology::fixtures::PAR;
use crate::domain::scoring::{Position, Tally, UnitIndex, compose_index, score_group};

fn par() -> Methodology {
    Methodology::parse("par.toml", PAR.as_bytes()).unwrap()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9
}

/// A unit scored from a leader tally, SIPAS points and appraised points of C1 and C2.
struct Unit {
    code: &'static str,
    region: &'static str,
    groups: Vec<GroupScore>,
    linked: BTreeMap<String, f64>,
    index: IndexScore,
}

impl Unit {
    fn new(
        code: &'static str,
        region: &'static str,
        leader: &[(&str, &[(&str, u64)])],
        sipas: f64,
        appraised: (f64, f64),
    ) -> Unit {
        let m = par();
        let responses = leader
            .iter()
            .map(|(_, d)| d.iter().map(|(_, n)| n).sum::<u64>())
            .max()
            .unwrap_or(0);
        let tally = Tally {
            responses,
            items: leader
                .iter()
                .map(|(item, d)| {
                    let counts = d.iter().map(|(v, n)| ((*v).to_owned(), *n)).collect();
                    ((*item).to_owned(), counts)
                })
                .collect(),
        };
        let groups = vec![score_group(&m, "leader", &tally).unwrap()];
        let linked = BTreeMap::from([("sipas".to_owned(), sipas)]);
        let appraised = BTreeMap::from([
            ("C1".to_owned(), appraised.0),
            ("C2".to_owned(), appraised.1),
        ]);
        let index = compose_index(&m, &groups, &linked, Some(&appraised)).unwrap();
        Unit {
            code,
            region,
            groups,
            linked,
            index,
        }
    }

    fn figures(&self) -> UnitFigures<'_> {
        UnitFigures {
            unit: self.code,
            region: self.region,
            groups: &self.groups,
            linked: &self.linked,
            index: &self.index,
        }
    }

    fn ranked(&self) -> UnitIndex {
        UnitIndex {
            unit: self.code.to_owned(),
            region: self.region.to_owned(),
            index: self.index.clone(),
        }
    }
}

/// Leader answers worth 17 of 22 points: q1 (10 × "1", 5 × "2", 5 × "3") = 10 × 14/20 = 7,
/// q2 all "1" = 10, q3 all "4" = 0.
const LEADER_17: &[(&str, &[(&str, u64)])] = &[
    ("q1", &[("1", 10), ("2", 5), ("3", 5)]),
    ("q2", &[("1", 20)]),
    ("q3", &[("4", 20)]),
];

/// "Move `pp` percentage points of q3's answers into "2" (Tốt) or better."
fn lift_q3(pp: f64) -> Change {
    Change::Shift(AnswerShift {
        group: "leader".to_owned(),
        target: ShiftTarget::Item("q3".to_owned()),
        to_value: "2".to_owned(),
        percentage_points: pp,
    })
}

fn run(unit: &Unit, others: &[&Unit], changes: &[Change]) -> WhatIfOutcome {
    let m = par();
    let units: Vec<UnitIndex> = others
        .iter()
        .chain(std::iter::once(&unit))
        .map(|u| u.ranked())
        .collect();
    what_if(
        &WhatIfInput {
            methodology: &m,
            unit: unit.code,
            region: unit.region,
            groups: &unit.groups,
            linked: &unit.linked,
            index: &unit.index,
            units: &units,
        },
        changes,
    )
    .unwrap()
}

#[test]
fn a_what_if_that_lifts_q3_moves_the_unit_from_tier_c_across_80_into_tier_b() {
    // Before: leader 17 + SIPAS 8 + appraised 19 + 35.5 = 79.5 of 100 → tier C.
    // Moving 50 points of q3's 20 answers into "2" moves 10 answers from "4" to "2":
    // q3 = 2 × (10 × 0.6 + 10 × 0) / 20 = 0.6, leader = 17.6, total = 80.1 → tier B.
    let u = Unit::new("U", "N", LEADER_17, 8.0, (19.0, 35.5));
    let out = run(&u, &[], &[lift_q3(50.0)]);
    assert_eq!(out.moved_answers, vec![10]);
    assert!(close(out.before.total_points.unwrap(), 79.5));
    assert_eq!(out.before.tier.as_deref(), Some("C"));
    assert!(close(out.after.groups["leader"].unwrap(), 17.6));
    assert!(close(out.after.survey_points.unwrap(), 25.6));
    assert!(close(out.after.total_points.unwrap(), 80.1));
    assert_eq!(out.after.tier.as_deref(), Some("B"));
}

#[test]
fn a_what_if_that_lands_exactly_on_90_reaches_tier_a() {
    // Before: 17 + 8 + 27 + 37.4 = 89.4 → tier B. +0.6 from q3 (as above) = 90.0, and the
    // band's minimum is inclusive at full precision (89.4 + 0.6 in binary is 90 to within
    // float noise, which the nine-decimal key removes) → tier A.
    let u = Unit::new("U", "N", LEADER_17, 8.0, (27.0, 37.4));
    let out = run(&u, &[], &[lift_q3(50.0)]);
    assert_eq!(out.before.tier.as_deref(), Some("B"));
    assert!(close(out.after.total_points.unwrap(), 90.0));
    assert_eq!(out.after.tier.as_deref(), Some("A"));
}

#[test]
fn setting_appraised_points_and_lifting_answers_add_up_across_both_tier_edges() {
    // Before: 79.5 (tier C), as in the first example. Appraised C2 35.5 → 39.5 adds 4, q3
    // lifted by 100 points (all 20 answers "4" → "2") adds 2 × 0.6 = 1.2, and q1 lifted by
    // 100 points into "1" (the 5 × "3" then the 5 × "2" answers move: q1 = 10) adds 3:
    // 79.5 + 4 + 1.2 + 3 = 87.7 → tier B; appraised C1 19 → 21.3 adds 2.3 → 90.0 → tier A.
    let u = Unit::new("U", "N", LEADER_17, 8.0, (19.0, 35.5));
    let lift_q1 = Change::Shift(AnswerShift {
        group: "leader".to_owned(),
        target: ShiftTarget::Item("q1".to_owned()),
        to_value: "1".to_owned(),
        percentage_points: 100.0,
    });
    let c2 = Change::Appraised {
        component: "C2".to_owned(),
        points: 39.5,
    };
    let b = run(&u, &[], &[c2.clone(), lift_q3(100.0), lift_q1.clone()]);
    assert_eq!(b.moved_answers, vec![0, 20, 10]);
    assert!(close(b.after.total_points.unwrap(), 87.7));
    assert_eq!(b.after.tier.as_deref(), Some("B"));
    let c1 = Change::Appraised {
        component: "C1".to_owned(),
        points: 21.3,
    };
    let a = run(&u, &[], &[c2, lift_q3(100.0), lift_q1, c1]);
    assert!(close(a.after.total_points.unwrap(), 90.0));
    assert_eq!(a.after.tier.as_deref(), Some("A"));
}

#[test]
fn a_what_if_that_ties_two_units_shares_their_rank_nationally_and_in_the_region() {
    // Others: X 82.0 (N), Y 80.1 (N), Z 80.1 (S), W 78.0 (N). U (N) at 79.5 ranks 4 of 5
    // nationally (X, Y, Z ahead) and 3 of 4 in N (X, Y ahead). Lifted to 80.1 it ties Y and Z:
    // competition ranking puts only X ahead → 2 of 5 nationally (with Y and Z) and 2 of 4 in
    // N (with Y); the next unit, W, stays 5th.
    let x = Unit::new("X", "N", LEADER_17, 8.0, (22.0, 35.0));
    let y = Unit::new("Y", "N", LEADER_17, 8.0, (19.0, 36.1));
    let z = Unit::new("Z", "S", LEADER_17, 8.0, (19.1, 36.0));
    let w = Unit::new("W", "N", LEADER_17, 8.0, (18.0, 35.0));
    let u = Unit::new("U", "N", LEADER_17, 8.0, (19.0, 35.5));
    let out = run(&u, &[&x, &y, &z, &w], &[lift_q3(50.0)]);
    assert_eq!(out.before.national, Some(Position { rank: 4, of: 5 }));
    assert_eq!(out.before.regional, Some(Position { rank: 3, of: 4 }));
    assert_eq!(out.after.national, Some(Position { rank: 2, of: 5 }));
    assert_eq!(out.after.regional, Some(Position { rank: 2, of: 4 }));
}

#[test]
fn a_what_if_never_changes_the_scores_it_reads() {
    let u = Unit::new("U", "N", LEADER_17, 8.0, (19.0, 35.5));
    let groups = u.groups.clone();
    let index = u.index.clone();
    let _ = run(&u, &[], &[lift_q3(50.0)]);
    assert_eq!(u.groups, groups);
    assert_eq!(u.index, index);
}

#[test]
fn a_shift_to_a_value_the_methodology_does_not_score_is_refused() {
    let m = par();
    let u = Unit::new("U", "N", LEADER_17, 8.0, (19.0, 35.5));
    let change = Change::Shift(AnswerShift {
        group: "leader".to_owned(),
        target: ShiftTarget::Criterion("K1".to_owned()),
        to_value: "dk".to_owned(),
        percentage_points: 10.0,
    });
    let input = WhatIfInput {
        methodology: &m,
        unit: "U",
        region: "N",
        groups: &u.groups,
        linked: &u.linked,
        index: &u.index,
        units: &[],
    };
    assert!(matches!(
        what_if(&input, &[change]),
        Err(WhatIfError::UnknownValue { .. })
    ));
    let too_much = what_if(&input, &[lift_q3(120.0)]);
    assert_eq!(too_much, Err(WhatIfError::ShareOutOfRange(120.0)));
}

#[test]
fn points_at_stake_are_sorted_by_points_lost_with_gaps_to_the_best_and_the_previous_round() {
    // U: q1 7 of 10 (lost 3), q2 10 of 10 (lost 0), q3 0 of 2 (lost 2); K1 = 7 of 12 (lost 5),
    // K2 = 10 of 10; C1 survey 7 of 12 (lost 5), appraised 19 of 28 (lost 9); C2 survey
    // 10 + SIPAS 8 = 18 of 20 (lost 2), appraised 35.5 of 40 (lost 4.5); SIPAS 8 of 10.
    // V (region N) has q3 all "2" (1.2) and q1 all "1" (10): national best of q1 is 10 (gap
    // 3), of q3 1.2 (gap 1.2). S (region S) has appraised C1 25: national best 25 (gap 6),
    // regional best among N (U 19, V 20) is 20 (gap 1).
    let u = Unit::new("U", "N", LEADER_17, 8.0, (19.0, 35.5));
    let v = Unit::new(
        "V",
        "N",
        &[
            ("q1", &[("1", 20)]),
            ("q2", &[("1", 20)]),
            ("q3", &[("2", 20)]),
        ],
        8.0,
        (20.0, 30.0),
    );
    let s = Unit::new("S", "S", LEADER_17, 8.0, (25.0, 30.0));
    // The previous round: q1 was 6 (so +1 since), appraised C1 was 21 (−2 since).
    let previous = PreviousValues::from([
        (key(Level::Item, Part::Survey, Some("leader"), "q1"), 6.0),
        (key(Level::Component, Part::Appraised, None, "C1"), 21.0),
    ]);
    let m = par();
    let stakes = points_at_stake(
        &m,
        &u.figures(),
        &[u.figures(), v.figures(), s.figures()],
        Some(&previous),
    );
    let lost: Vec<(Level, Part, &str, f64)> = stakes
        .iter()
        .map(|s| {
            (
                s.key.level,
                s.key.part,
                s.key.code.as_str(),
                s.lost.unwrap(),
            )
        })
        .collect();
    // Ties in points lost are ordered by level, part, group, code.
    let expected = [
        (Level::Component, Part::Appraised, "C1", 9.0),
        (Level::Component, Part::Survey, "C1", 5.0),
        (Level::Criterion, Part::Survey, "K1", 5.0),
        (Level::Component, Part::Appraised, "C2", 4.5),
        (Level::Item, Part::Survey, "q1", 3.0),
        (Level::Component, Part::Survey, "C2", 2.0),
        (Level::Item, Part::Survey, "q3", 2.0),
        (Level::LinkedIndex, Part::Survey, "sipas", 2.0),
        (Level::Criterion, Part::Survey, "K2", 0.0),
        (Level::Item, Part::Survey, "q2", 0.0),
    ];
    assert_eq!(lost.len(), expected.len());
    for (got, want) in lost.iter().zip(expected) {
        assert_eq!((got.0, got.1, got.2), (want.0, want.1, want.2));
        assert!(close(got.3, want.3), "{got:?} vs {want:?}");
    }
    let find = |level, part, code: &str| {
        stakes
            .iter()
            .find(|s| s.key.level == level && s.key.part == part && s.key.code == code)
            .unwrap()
    };
    let q1 = find(Level::Item, Part::Survey, "q1");
    assert!(close(q1.gap_to_national_best.unwrap(), 3.0));
    assert!(close(q1.change_since_previous.unwrap(), 1.0));
    let q3 = find(Level::Item, Part::Survey, "q3");
    assert!(close(q3.gap_to_national_best.unwrap(), 1.2));
    assert!(q3.previous.is_none() && q3.change_since_previous.is_none());
    let c1 = find(Level::Component, Part::Appraised, "C1");
    assert!(close(c1.national_best.unwrap(), 25.0));
    assert!(close(c1.gap_to_national_best.unwrap(), 6.0));
    assert!(close(c1.regional_best.unwrap(), 20.0));
    assert!(close(c1.gap_to_regional_best.unwrap(), 1.0));
    assert!(close(c1.change_since_previous.unwrap(), -2.0));
}

#[test]
fn merged_predecessors_give_the_respondent_weighted_previous_value() {
    // P1 has 20 leaders with q1 = 7; P2 has 10 leaders with q1 all "1" = 10:
    // (20 × 7 + 10 × 10) / 30 = 240 / 30 = 8.
    let p1 = Unit::new("P1", "N", LEADER_17, 8.0, (19.0, 35.5));
    let p2 = Unit::new(
        "P2",
        "N",
        &[
            ("q1", &[("1", 10)]),
            ("q2", &[("1", 10)]),
            ("q3", &[("1", 10)]),
        ],
        8.0,
        (19.0, 35.5),
    );
    let prev = previous_values(&par(), &[p1.figures(), p2.figures()]);
    let q1 = prev[&key(Level::Item, Part::Survey, Some("leader"), "q1")];
    assert!(close(q1, 8.0));
}

/// The what-if input of `unit` ranked among `others`.
fn plan_for(unit: &Unit, others: &[&Unit], goal: &Goal) -> Result<TargetPlan, TargetError> {
    let m = par();
    let units: Vec<UnitIndex> = others
        .iter()
        .chain(std::iter::once(&unit))
        .map(|u| u.ranked())
        .collect();
    plan(
        &WhatIfInput {
            methodology: &m,
            unit: unit.code,
            region: unit.region,
            groups: &unit.groups,
            linked: &unit.linked,
            index: &unit.index,
            units: &units,
        },
        goal,
    )
}

fn lever_codes(p: &TargetPlan) -> Vec<String> {
    p.levers
        .iter()
        .map(|l| match &l.target {
            ShiftTarget::Item(c) | ShiftTarget::Criterion(c) => c.clone(),
        })
        .collect()
}

#[test]
fn reaching_tier_b_from_79_5_needs_half_a_point_cheapest_through_criterion_k1() {
    // U = 79.5 (tier C); B starts at 80 % of 100 → 0.5 extra points.
    // Probes of 10 points into "1" (the best value), 20 answers per item:
    // - q1 (10 × "1", 5 × "2", 5 × "3"): 2 answers "3" → "1": q1 = 10 × (12 + 3 + 0.6) / 20
    //   = 7.8, +0.8 for 10 points → 0.08 per point; 10 of 20 answers below "1" → headroom 50.
    // - q3 (20 × "4"): 2 answers "4" → "1": q3 = 2 × 2 / 20 = 0.2 → 0.02 per point; headroom 100.
    // - K1 (q1 and q3): both probes at once, +1.0 for 4 of 40 answers = 10 points → 0.1 per
    //   point; 30 of 40 answers below "1" → headroom 75.
    // - q2 and K2: every answer is already "1", nothing to gain, no lever.
    // Points needed alone: K1 0.5 / 0.1 = 5, q1 0.5 / 0.08 = 6.25, q3 0.5 / 0.02 = 25.
    let u = Unit::new("U", "N", LEADER_17, 8.0, (19.0, 35.5));
    let p = plan_for(&u, &[], &Goal::Tier("B".to_owned())).unwrap();
    assert!(close(p.total_points, 79.5));
    assert!(close(p.goal_points, 80.0));
    assert!(close(p.extra_points, 0.5));
    assert_eq!(lever_codes(&p), vec!["K1", "q1", "q3"]);
    let rates: Vec<f64> = p.levers.iter().map(|l| l.points_per_pp).collect();
    assert!(
        close(rates[0], 0.1) && close(rates[1], 0.08) && close(rates[2], 0.02),
        "{rates:?}"
    );
    let headroom: Vec<f64> = p.levers.iter().map(|l| l.headroom_pp).collect();
    assert!(close(headroom[0], 75.0) && close(headroom[1], 50.0) && close(headroom[2], 100.0));
    let needed: Vec<f64> = p.levers.iter().map(|l| l.pp_needed.unwrap()).collect();
    assert!(close(needed[0], 5.0) && close(needed[1], 6.25) && close(needed[2], 25.0));
    assert!(p.levers.iter().all(|l| l.to_value == "1"));
}

#[test]
fn reaching_tier_a_needs_more_than_any_one_lever_can_give() {
    // 90 − 79.5 = 10.5 points: K1 would need 105 points of answers (headroom 75), q1 131.25
    // (headroom 50), q3 525 (headroom 100): none alone.
    let u = Unit::new("U", "N", LEADER_17, 8.0, (19.0, 35.5));
    let p = plan_for(&u, &[], &Goal::Tier("A".to_owned())).unwrap();
    assert!(close(p.extra_points, 10.5));
    assert!(p.levers.iter().all(|l| l.pp_needed.is_none()));
}

#[test]
fn a_unit_already_in_its_tier_needs_nothing_to_stay_there() {
    // 79.5 is in C (70 to 80): staying in C needs 0 points.
    let u = Unit::new("U", "N", LEADER_17, 8.0, (19.0, 35.5));
    let p = plan_for(&u, &[], &Goal::Tier("C".to_owned())).unwrap();
    assert!(close(p.extra_points, 0.0));
    assert!(p.levers.iter().all(|l| l.pp_needed == Some(0.0)));
}

#[test]
fn a_rank_goal_behind_two_tied_units_needs_to_tie_them() {
    // Others: X 82.0, Y 80.1, Z 80.1, W 78.0; U 79.5 is 4th. Top 2: the 2nd other is Y at
    // 80.1 → 0.6 extra; tying Y and Z shares their rank 2 (competition ranking). Top 3 needs
    // the same 0.6: Z, 3rd of the others, is tied with Y at 80.1, and anything below 80.1
    // stays 4th. Top 1: X's 82.0 → 2.5. Top 4: W's 78.0 is below U → 0. Top 5: only four
    // others → 0.
    let x = Unit::new("X", "N", LEADER_17, 8.0, (22.0, 35.0));
    let y = Unit::new("Y", "N", LEADER_17, 8.0, (19.0, 36.1));
    let z = Unit::new("Z", "S", LEADER_17, 8.0, (19.1, 36.0));
    let w = Unit::new("W", "N", LEADER_17, 8.0, (18.0, 35.0));
    let u = Unit::new("U", "N", LEADER_17, 8.0, (19.0, 35.5));
    let others = [&x, &y, &z, &w];
    let extra = |n| plan_for(&u, &others, &Goal::Rank(n)).unwrap().extra_points;
    assert!(close(extra(1), 2.5));
    assert!(close(extra(2), 0.6));
    assert!(close(extra(3), 0.6));
    assert!(close(extra(4), 0.0));
    assert!(close(extra(5), 0.0));
    // The simulation agrees: 0.6 points (q3 lifted by 50 points, as above) ranks U 2nd of 5.
    let out = run(&u, &others, &[lift_q3(50.0)]);
    assert!(close(out.after.total_points.unwrap() - 79.5, extra(3)));
    assert_eq!(out.after.national, Some(Position { rank: 2, of: 5 }));
    assert_eq!(
        plan_for(&u, &others, &Goal::Rank(0)),
        Err(TargetError::RankZero)
    );
}

#[test]
fn a_total_goal_is_checked_against_the_index_maximum_and_a_tier_against_the_methodology() {
    let u = Unit::new("U", "N", LEADER_17, 8.0, (19.0, 35.5));
    let p = plan_for(&u, &[], &Goal::Total(85.0)).unwrap();
    assert!(close(p.extra_points, 5.5));
    assert_eq!(
        plan_for(&u, &[], &Goal::Total(101.0)),
        Err(TargetError::AboveMaximum(101.0))
    );
    assert_eq!(
        plan_for(&u, &[], &Goal::Tier("Z".to_owned())),
        Err(TargetError::UnknownTier("Z".to_owned()))
    );
}

/// U (79.5, tier C) against V (79.2: q1 all "1", q3 all "2", K1 = 11.2 of 12) and S (80.0),
/// with K1 at 6 in the previous round.
fn plan_of(unit: &Unit, others: &[&Unit], limit: usize) -> ImprovementPlan {
    let m = par();
    let all: Vec<UnitFigures<'_>> = others
        .iter()
        .chain(std::iter::once(&unit))
        .map(|u| u.figures())
        .collect();
    let previous = PreviousValues::from([(
        key(Level::Criterion, Part::Survey, Some("leader"), "K1"),
        6.0,
    )]);
    let stakes = points_at_stake(&m, &unit.figures(), &all, Some(&previous));
    let units: Vec<UnitIndex> = all
        .iter()
        .map(|u| UnitIndex {
            unit: u.unit.to_owned(),
            region: u.region.to_owned(),
            index: u.index.clone(),
        })
        .collect();
    let input = WhatIfInput {
        methodology: &m,
        unit: unit.code,
        region: unit.region,
        groups: &unit.groups,
        linked: &unit.linked,
        index: &unit.index,
        units: &units,
    };
    improvement_plan(&input, &stakes, limit).unwrap()
}

fn v_and_s() -> (Unit, Unit) {
    let v = Unit::new(
        "V",
        "N",
        &[
            ("q1", &[("1", 20)]),
            ("q2", &[("1", 20)]),
            ("q3", &[("2", 20)]),
        ],
        8.0,
        (20.0, 30.0),
    );
    let s = Unit::new("S", "S", LEADER_17, 8.0, (25.0, 30.0));
    (v, s)
}

#[test]
fn the_plan_lifts_the_weakest_criterion_to_the_national_best_with_the_fewest_percentage_points() {
    // U's K1 (q1 + q3) is 7 of 12: lost 5, national best V's 11.2, gap 4.2; K2 lost nothing.
    // Moving p points of each item's 20 answers into "1" moves round(p/5) answers, worst
    // first: q1 gains 0.4 for each of its 5 × "3", then 0.2 for each of its 5 × "2" (10 at
    // most), q3 0.1 for each "4". 11 answers (p = 57) give 2 + 1 + 1.1 = 4.1, short of 4.2;
    // 12 answers (p = 58) give 2 + 1 + 1.2 = 4.2: q1 moves 10, q3 12, 22 answers in all.
    // Total 79.5 + 4.2 = 83.7: tier C → B, and past S (80.0) and V (79.2) to rank 1 of 3.
    let u = Unit::new("U", "N", LEADER_17, 8.0, (19.0, 35.5));
    let (v, s) = v_and_s();
    let plan = plan_of(&u, &[&v, &s], WEAKEST_CRITERIA);
    assert!(close(plan.now.total_points.unwrap(), 79.5));
    assert_eq!(plan.now.tier.as_deref(), Some("C"));
    assert_eq!(plan.now.national, Some(Position { rank: 2, of: 3 }));
    assert_eq!(plan.rows.len(), 1, "K2 lost nothing");
    let k1 = &plan.rows[0];
    assert_eq!(k1.stake.key.code, "K1");
    assert_eq!(k1.stake.component, "C1");
    assert!(close(k1.stake.lost.unwrap(), 5.0));
    assert!(close(k1.stake.gap_to_national_best.unwrap(), 4.2));
    assert!(close(k1.stake.change_since_previous.unwrap(), 1.0));
    let best = k1.to_best.as_ref().unwrap();
    assert_eq!(best.to_value, "1");
    assert_eq!(best.percentage_points, 58);
    assert_eq!(best.moved_answers, 22);
    assert!(best.reached);
    assert!(close(best.after.groups["leader"].unwrap(), 21.2));
    assert!(close(best.after.total_points.unwrap(), 83.7));
    assert!(close(best.total_gain.unwrap(), 4.2));
    assert_eq!(best.after.tier.as_deref(), Some("B"));
    assert_eq!(best.after.national, Some(Position { rank: 1, of: 3 }));
}

#[test]
fn a_criterion_already_at_the_national_best_is_listed_without_a_simulation() {
    // V's K1 is 11.2 of 12 (lost 0.8) and the best of all: nothing to reach.
    let u = Unit::new("U", "N", LEADER_17, 8.0, (19.0, 35.5));
    let (v, s) = v_and_s();
    let plan = plan_of(&v, &[&u, &s], WEAKEST_CRITERIA);
    assert_eq!(plan.rows.len(), 1);
    assert!(close(plan.rows[0].stake.lost.unwrap(), 0.8));
    assert!(plan.rows[0].to_best.is_none());
    assert!(plan_of(&u, &[&v, &s], 0).rows.is_empty(), "the limit holds");
}
