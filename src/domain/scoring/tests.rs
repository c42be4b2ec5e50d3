//! Tests of the scoring engine, on the PAR-style and SIPAS fixture methodologies.

use super::rank::tier_for;
use super::sipas::score_sipas_with_rule;
use super::*;
use crate::domain::methodology::fixtures::{PAR, SIPAS};
use crate::domain::methodology::{
    CompareOn, Methodology, NationalAggregate, TieRule, UnansweredItem,
};

fn par() -> Methodology {
    Methodology::parse("par.toml", PAR.as_bytes()).unwrap()
}

fn sipas() -> Methodology {
    Methodology::parse("sipas.toml", SIPAS.as_bytes()).unwrap()
}

/// Builds a tally from `(item, [(value, count)])`.
fn tally(responses: u64, items: &[(&str, &[(&str, u64)])]) -> Tally {
    Tally {
        responses,
        items: items
            .iter()
            .map(|(item, counts)| {
                let d = counts.iter().map(|(v, n)| ((*v).to_owned(), *n)).collect();
                ((*item).to_owned(), d)
            })
            .collect(),
    }
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9
}

#[test]
fn item_criterion_component_and_group_points_follow_the_mean_coefficient_rule() {
    // q1 (10 points): 10 × "1", 5 × "2", 5 × "3" → (10·1.0 + 5·0.6 + 5·0.2) / 20 = 14 / 20
    //   = 0.7 → 7 points. q2 (10 points): all "1" → 10. q3 (2 points): all "4" → 0.
    // K1 = q1 + q3 = 7 of 12; K2 = q2 = 10 of 10; group = 17 of 22 = 77.27 %.
    let t = tally(
        20,
        &[
            ("q1", &[("1", 10), ("2", 5), ("3", 5)]),
            ("q2", &[("1", 20)]),
            ("q3", &[("4", 20)]),
        ],
    );
    let g = score_group(&par(), "leader", &t).unwrap();
    let q1 = g.item("q1").unwrap();
    assert_eq!((q1.valid_n, q1.answered), (20, 20));
    assert!(close(q1.mean_coefficient.unwrap(), 0.7));
    assert!(close(q1.points.unwrap(), 7.0));
    assert_eq!(q1.component, "C1");
    assert!(close(g.item("q2").unwrap().points.unwrap(), 10.0));
    assert!(close(g.item("q3").unwrap().points.unwrap(), 0.0));
    let k1 = g.criterion("K1").unwrap();
    assert!(close(k1.points.unwrap(), 7.0) && close(k1.max_points, 12.0));
    assert_eq!(fmt_points(k1.percent.unwrap()), "58.33");
    assert!(close(g.criterion("K2").unwrap().percent.unwrap(), 100.0));
    assert!(close(g.component("C1").unwrap().points.unwrap(), 7.0));
    assert!(close(g.component("C2").unwrap().points.unwrap(), 10.0));
    assert!(close(g.points.unwrap(), 17.0) && close(g.max_points, 22.0));
    assert_eq!(fmt_points(g.percent.unwrap()), "77.27");
    assert!(g.counts_toward_index);
    assert_eq!(g.notes, vec![]);
}

#[test]
fn dont_know_answers_are_left_out_of_the_mean() {
    // q1: 3 × "1", 1 × "2", 1 × "3", 5 × "dk". Valid n = 5, not 10:
    //   mean = (3·1.0 + 0.6 + 0.2) / 5 = 3.8 / 5 = 0.76 → 10 × 0.76 = 7.6 points.
    // Counting "dk" as 0 would give 3.8 / 10 = 0.38 → 3.8 points.
    let t = tally(10, &[("q1", &[("1", 3), ("2", 1), ("3", 1), ("dk", 5)])]);
    let g = score_group(&par(), "leader", &t).unwrap();
    let q1 = g.item("q1").unwrap();
    assert_eq!((q1.answered, q1.valid_n), (10, 5));
    assert!(close(q1.mean_coefficient.unwrap(), 0.76));
    assert!(close(q1.points.unwrap(), 7.6));
    assert_eq!(
        q1.distribution.get("dk"),
        Some(&5),
        "the distribution keeps every answer"
    );
    assert!(
        !g.notes
            .iter()
            .any(|n| matches!(n, Note::UnknownAnswerValues { .. }))
    );
}

#[test]
fn answers_outside_the_table_are_excluded_and_flagged() {
    // "7" is neither scored nor declared invalid: excluded like "dk", but flagged because it
    // points at an instrument/methodology mismatch.
    let t = tally(4, &[("q1", &[("1", 2), ("7", 2)])]);
    let g = score_group(&par(), "leader", &t).unwrap();
    assert!(close(g.item("q1").unwrap().points.unwrap(), 10.0));
    let expected = BTreeMap::from([("7".to_owned(), 2)]);
    assert!(g.notes.contains(&Note::UnknownAnswerValues {
        item: "q1".into(),
        values: expected
    }));
}

/// The test methodology with a `[scoring]` section.
fn par_with(scoring: &str) -> Methodology {
    let text = PAR.replacen(
        "[display]",
        &format!("[scoring]\n{scoring}\n\n[display]"),
        1,
    );
    Methodology::parse("par.toml", text.as_bytes()).unwrap()
}

/// q1, q2 all "1" (20 of the 22 points have data); q3 only "dk".
fn q3_dont_know() -> Tally {
    tally(
        4,
        &[
            ("q1", &[("1", 4)]),
            ("q2", &[("1", 4)]),
            ("q3", &[("dk", 4)]),
        ],
    )
}

#[test]
fn an_item_without_valid_answers_has_no_points_and_the_group_is_rescaled_over_the_rest() {
    // Only "dk" for q3: no mean exists. Default rule `rescale`: q1 + q2 earn 20 of their
    // 20 points = 100 %, so the group is 100 % of 22 = 22 points; a lone "don't know" does
    // not cost what "Poor" would. Coverage is 20 / 22.
    let g = score_group(&par(), "leader", &q3_dont_know()).unwrap();
    let q3 = g.item("q3").unwrap();
    assert_eq!(q3.valid_n, 0);
    assert_eq!(
        (q3.mean_coefficient, q3.points, q3.percent),
        (None, None, None)
    );
    assert!(
        g.notes
            .contains(&Note::NoValidAnswers { item: "q3".into() })
    );
    assert!(close(g.points.unwrap(), 22.0) && close(g.max_points, 22.0));
    assert!(close(g.percent.unwrap(), 100.0));
    assert!(close(g.coverage.unwrap(), 20.0 / 22.0));
    // Subtotals follow the same rule, so they still add up to the group: K1 = q1 + q3.
    let k1 = g.criterion("K1").unwrap();
    assert!(close(k1.points.unwrap(), 12.0) && close(k1.percent.unwrap(), 100.0));
}

#[test]
fn with_the_zero_rule_an_item_without_valid_answers_counts_zero_points() {
    let m = par_with("unanswered_item = \"zero\"");
    let g = score_group(&m, "leader", &q3_dont_know()).unwrap();
    assert_eq!(g.item("q3").unwrap().points, None);
    assert!(close(g.points.unwrap(), 20.0) && close(g.max_points, 22.0));
    assert!(close(g.criterion("K1").unwrap().points.unwrap(), 10.0));
}

#[test]
fn a_group_without_data_or_below_the_minimum_coverage_has_no_score_never_zero() {
    // No responses at all.
    let empty = score_group(&par(), "leader", &Tally::default()).unwrap();
    assert_eq!((empty.points, empty.percent), (None, None));
    assert_eq!(empty.coverage, Some(0.0));
    assert!(empty.criteria.iter().all(|c| c.points.is_none()));
    assert!(empty.components.iter().all(|c| c.percent.is_none()));
    assert_eq!(empty.notes.len(), 3);
    // Responses, but only "dk" everywhere.
    let dk = tally(
        2,
        &[
            ("q1", &[("dk", 2)]),
            ("q2", &[("dk", 2)]),
            ("q3", &[("dk", 2)]),
        ],
    );
    assert_eq!(score_group(&par(), "leader", &dk).unwrap().points, None);
    // Only q3 (2 of 22 points, 9 %) has data: below the default minimum of 0.5.
    let thin = tally(2, &[("q3", &[("1", 2)])]);
    let g = score_group(&par(), "leader", &thin).unwrap();
    assert_eq!(g.points, None);
    assert!(close(g.coverage.unwrap(), 2.0 / 22.0));
    // With the minimum lowered to 0.05 the same data is scored.
    let lenient = par_with("min_coverage = 0.05");
    let g = score_group(&lenient, "leader", &thin).unwrap();
    assert!(close(g.points.unwrap(), 22.0));
}

#[test]
fn scoring_settings_at_their_defaults_keep_the_content_hash_and_others_round_trip() {
    // Methodologies stored before `[scoring]` existed must keep their hash.
    let spelled = par_with("unanswered_item = \"rescale\"\nmin_coverage = 0.5");
    assert_eq!(spelled.content_hash(), par().content_hash());
    let zero = par_with("unanswered_item = \"zero\"");
    assert_ne!(zero.content_hash(), par().content_hash());
    let back = Methodology::parse("x.toml", zero.to_toml().unwrap().as_bytes()).unwrap();
    assert_eq!(back.scoring.unanswered_item, UnansweredItem::Zero);
    assert_eq!(back.content_hash(), zero.content_hash());
}

#[test]
fn a_unit_below_the_minimum_respondents_keeps_its_scores_but_is_neither_tiered_nor_ranked() {
    let m = {
        let text = PAR.replacen(
            "compare = \"full_precision\"\n",
            "compare = \"full_precision\"\nmin_respondents = 3\n",
            1,
        );
        Methodology::parse("par.toml", text.as_bytes()).unwrap()
    };
    assert_eq!(m.ranking.min_respondents, 3);
    let linked = BTreeMap::from([("sipas".to_owned(), 8.0)]);
    let appraised = BTreeMap::from([("C1".to_owned(), 25.0), ("C2".to_owned(), 35.0)]);
    let compose = |responses: u64| {
        let t = tally(
            responses,
            &[
                ("q1", &[("1", responses)]),
                ("q2", &[("1", responses)]),
                ("q3", &[("1", responses)]),
            ],
        );
        let g = score_group(&m, "leader", &t).unwrap();
        compose_index(&m, &[g], &linked, Some(&appraised)).unwrap()
    };
    let thin = compose(2);
    assert!(thin.is_complete() && !thin.is_ranked() && thin.insufficient_data);
    assert!(thin.total_points.is_some());
    assert_eq!(thin.tier, None);
    assert!(thin.notes.contains(&Note::InsufficientRespondents {
        group: "leader".into(),
        responses: 2,
        min: 3
    }));
    let enough = compose(3);
    assert!(enough.is_ranked() && enough.tier.is_some());
    let units = [("01", thin), ("02", enough)].map(|(unit, index)| UnitIndex {
        unit: unit.into(),
        region: "R".into(),
        index,
    });
    let r = rank_units(&m, &units);
    assert_eq!(ranks(&r.total), pairs(&[("02", 1)]));
    assert_eq!(r.total[0].national.unwrap().of, 1);
}

#[test]
fn a_minimum_coverage_outside_0_to_1_is_refused() {
    let err = Methodology::parse(
        "par.toml",
        PAR.replacen("[display]", "[scoring]\nmin_coverage = 1.5\n\n[display]", 1)
            .as_bytes(),
    )
    .unwrap_err();
    assert!(
        format!("{err:?}").contains("scoring.min_coverage"),
        "{err:?}"
    );
}

/// q1 = 10, q2 = 9.234, q3 = 1 → 20.234 of 22.
fn son_la_like_tally() -> Tally {
    // q2: (900·1.0 + 39·0.6 + 61·0) / 1000 = 923.4 / 1000 = 0.9234 → 9.234 (25 "dk" excluded).
    // q3: (1·1.0 + 1·0) / 2 = 0.5 → 1.0.
    tally(
        1025,
        &[
            ("q1", &[("1", 1025)]),
            ("q2", &[("1", 900), ("2", 39), ("4", 61), ("dk", 25)]),
            ("q3", &[("1", 1), ("4", 1), ("dk", 1023)]),
        ],
    )
}

#[test]
fn a_group_score_of_20_234_of_22_displays_as_20_23_and_91_97_percent() {
    let g = score_group(&par(), "leader", &son_la_like_tally()).unwrap();
    assert!(close(g.points.unwrap(), 20.234), "{}", g.points.unwrap());
    assert_eq!(fmt_points(g.points.unwrap()), "20.23");
    // 20.234 / 22 = 0.919727… → 91.97 %, computed before rounding (20.23 / 22 would give
    // 91.95 %, which is not what was published).
    assert_eq!(fmt_points(g.percent.unwrap()), "91.97");
    assert_eq!(fmt_points(percent_of(20.23, 22.0).unwrap()), "91.95");
    let comma = NumberFormat {
        decimals: 2,
        separator: DecimalSeparator::Comma,
    };
    assert_eq!(comma.format(g.points.unwrap()), "20,23");
    assert_eq!(comma.format(g.percent.unwrap()), "91,97");
}

#[test]
fn figures_are_shown_with_the_methodology_display_decimals() {
    let format = NumberFormat {
        decimals: par().display.decimals,
        separator: DecimalSeparator::Comma,
    };
    assert_eq!(format.format(1.5), "1,50");
}

#[test]
fn the_civil_servant_group_is_scored_but_marked_as_not_counting() {
    // c1 (4 points, yes = 1, no = 0): 3 yes, 1 no, 2 dk → 3 / 4 = 0.75 → 3 points = 75 %.
    let t = tally(6, &[("c1", &[("yes", 3), ("no", 1), ("dk", 2)])]);
    let g = score_group(&par(), "civil", &t).unwrap();
    assert!(!g.counts_toward_index);
    assert!(close(g.points.unwrap(), 3.0));
    assert_eq!(fmt_points(g.percent.unwrap()), "75.00");
}

#[test]
fn scoring_raw_answers_tallies_them_first() {
    let answers = |pairs: &[(&str, &str)]| -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    };
    let respondents = vec![
        answers(&[("q1", "1"), ("q2", "2"), ("q3", "dk")]),
        answers(&[("q1", "3"), ("q2", "2"), ("q3", "1")]),
        answers(&[("q1", "1"), ("q2", "4")]),
    ];
    let t = Tally::from_responses(&respondents);
    assert_eq!(
        t,
        tally(
            3,
            &[
                ("q1", &[("1", 2), ("3", 1)]),
                ("q2", &[("2", 2), ("4", 1)]),
                ("q3", &[("1", 1), ("dk", 1)]),
            ]
        )
    );
    let m = par();
    assert_eq!(
        score_group(&m, "leader", &Tally::from_responses(&respondents)).unwrap(),
        score_group(&m, "leader", &t).unwrap()
    );
}

#[test]
fn unknown_groups_and_unmapped_or_inconsistent_tallies_are_reported() {
    let m = par();
    assert!(matches!(
        score_group(&m, "citizen", &Tally::default()),
        Err(ScoringError::UnknownGroup { .. })
    ));
    let t = tally(1, &[("q1", &[("1", 2)]), ("zz", &[("1", 1)])]);
    let g = score_group(&m, "leader", &t).unwrap();
    assert!(g.notes.contains(&Note::UnmappedItem { item: "zz".into() }));
    assert!(g.notes.contains(&Note::MoreAnswersThanResponses {
        item: "q1".into(),
        answers: 2,
        responses: 1
    }));
}

fn sipas_tally() -> Tally {
    tally(
        12,
        &[
            (
                "p1",
                &[("5", 3), ("4", 3), ("3", 2), ("2", 1), ("1", 1), ("0", 2)],
            ),
            ("p2", &[("5", 2), ("4", 2), ("3", 4), ("2", 2)]),
            ("p3", &[("5", 5), ("4", 5)]),
            ("s1", &[("4", 4), ("3", 4), ("1", 2)]),
        ],
    )
}

#[test]
fn sipas_share_rule_averages_items_into_elements_parts_and_overall() {
    // share = satisfied ("4","5") / valid answers ("0" = no answer is excluded):
    //   p1 6/10 = 60 %, p2 4/10 = 40 % → I.A = 50 %;  p3 10/10 → I.B = 100 %;
    //   part I = (50 + 100) / 2 = 75 %;  s1 4/10 → II.A = 40 % → part II = 40 %;
    //   overall = (75 + 40) / 2 = 57.5 % → 57.5 × 10 / 100 = 5.75 index points.
    let s = score_sipas(&sipas(), &sipas_tally()).unwrap();
    assert_eq!(s.rule, SipasRule::Share);
    let p1 = &s.items[0];
    assert_eq!(
        (p1.item.as_str(), p1.answered, p1.valid_n, p1.satisfied_n),
        ("p1", 12, 10, 6)
    );
    assert!(close(p1.percent.unwrap(), 60.0));
    assert!(close(s.element("I.A").unwrap().percent.unwrap(), 50.0));
    assert!(close(s.element("I.B").unwrap().percent.unwrap(), 100.0));
    assert!(close(s.element("II.A").unwrap().percent.unwrap(), 40.0));
    assert!(close(s.part("I").unwrap().percent.unwrap(), 75.0));
    assert!(close(s.part("II").unwrap().percent.unwrap(), 40.0));
    assert!(close(s.overall_percent.unwrap(), 57.5));
    assert!(close(s.index_points.unwrap(), 5.75));
    assert_eq!(s.notes, vec![]);
}

/// The test SIPAS methodology with extra lines added to its `[sipas]` section.
fn sipas_with(extra: &str) -> Methodology {
    let src = SIPAS.replace(
        "index_points = 10\n",
        &format!("index_points = 10\n{extra}\n"),
    );
    Methodology::parse("sipas.toml", src.as_bytes()).unwrap()
}

#[test]
fn the_sipas_headline_can_be_the_directly_asked_overall_item() {
    // Same answers as above (mean of parts 57.5 %), plus "overall": 3 of 4 valid answers
    // satisfied ("0" is no answer) → 75 %, which becomes the headline and the points.
    let m = sipas_with("headline = \"overall_item\"\noverall_item = \"overall\"");
    let mut t = sipas_tally();
    t.items.insert(
        "overall".into(),
        [("5", 2), ("4", 1), ("2", 1), ("0", 8)]
            .map(|(v, n)| (v.to_owned(), n))
            .into(),
    );
    let s = score_sipas(&m, &t).unwrap();
    assert!(close(s.part("I").unwrap().percent.unwrap(), 75.0));
    assert!(close(s.part("II").unwrap().percent.unwrap(), 40.0));
    let item = s.overall_item.as_ref().unwrap();
    assert_eq!((item.valid_n, item.satisfied_n), (4, 3));
    assert!(close(s.overall_percent.unwrap(), 75.0));
    assert!(close(s.index_points.unwrap(), 7.5));
    assert_eq!(s.notes, vec![], "the overall item is mapped, not flagged");
    // Without valid answers on the overall item there is no headline, never 0.
    let s = score_sipas(&m, &sipas_tally()).unwrap();
    assert_eq!((s.overall_percent, s.index_points), (None, None));
    // The default headline ignores the item.
    let s = score_sipas(&sipas(), &t).unwrap();
    assert!(close(s.overall_percent.unwrap(), 57.5));
    assert!(s.overall_item.is_none());
}

#[test]
fn a_national_figure_is_the_mean_of_units_or_the_pooled_respondents() {
    // Two units: one of 1 respondent at 100 %, one of 3 at 0 %.
    let one = tally(
        1,
        &[
            ("q1", &[("1", 1)]),
            ("q2", &[("1", 1)]),
            ("q3", &[("1", 1)]),
        ],
    );
    let three = tally(
        3,
        &[
            ("q1", &[("4", 3)]),
            ("q2", &[("4", 3)]),
            ("q3", &[("4", 3)]),
        ],
    );
    let m = par();
    let scored: Vec<(Option<f64>, Option<f64>)> = [&one, &three]
        .iter()
        .map(|t| {
            let g = score_group(&m, "leader", t).unwrap();
            (g.points, g.percent)
        })
        .chain([(None, None)])
        .collect();
    let mut pooled = one.clone();
    pooled.merge(&three);
    // Mean of units: (100 + 0) / 2 = 50 %; the unit without data is not a 0.
    let (_, percent) = national_figure(&m, "leader", &scored, &pooled).unwrap();
    assert!(close(percent.unwrap(), 50.0));
    // Pooled: every respondent weighs the same, 1 of 4 at the top → 25 %.
    let mut pooled_m = m.clone();
    pooled_m.aggregate.national = NationalAggregate::Pooled;
    let (_, percent) = national_figure(&pooled_m, "leader", &scored, &pooled).unwrap();
    assert!(close(percent.unwrap(), 25.0));
    assert!(national_figure(&pooled_m, "nobody", &scored, &pooled).is_err());
    // Nothing anywhere: no figure.
    let (points, percent) =
        national_figure(&m, "leader", &[(None, None)], &Tally::default()).unwrap();
    assert_eq!((points, percent), (None, None));
}

#[test]
fn sipas_mean_rule_rescales_the_mean_answer_to_a_percentage() {
    // mean % = (mean − 1) / (5 − 1):
    //   p1 mean 36/10 = 3.6 → 65 %;  p2 34/10 = 3.4 → 60 %  → I.A = 62.5 %;
    //   p3 4.5 → 87.5 % → I.B = 87.5 %;  part I = 75 %;
    //   s1 (16 + 12 + 2) / 10 = 3.0 → 50 % → part II = 50 %;
    //   overall = (75 + 50) / 2 = 62.5 % → 6.25 index points.
    let s = score_sipas_with_rule(&sipas(), &sipas_tally(), SipasRule::Mean).unwrap();
    assert_eq!(s.rule, SipasRule::Mean);
    assert!(close(s.items[0].mean.unwrap(), 3.6));
    assert!(close(s.items[0].percent.unwrap(), 65.0));
    assert!(close(s.element("I.A").unwrap().percent.unwrap(), 62.5));
    assert!(close(s.part("I").unwrap().percent.unwrap(), 75.0));
    assert!(close(s.part("II").unwrap().percent.unwrap(), 50.0));
    assert!(close(s.overall_percent.unwrap(), 62.5));
    assert!(close(s.index_points.unwrap(), 6.25));
}

#[test]
fn a_sipas_item_without_valid_answers_is_left_out_of_its_element() {
    // p2 only "0" (no answer) → I.A = p1 alone = 60 %, not (60 + 0) / 2.
    let mut t = sipas_tally();
    t.items
        .insert("p2".into(), BTreeMap::from([("0".to_owned(), 10)]));
    let s = score_sipas(&sipas(), &t).unwrap();
    let a = s.element("I.A").unwrap();
    assert!(close(a.percent.unwrap(), 60.0));
    assert_eq!((a.with_data, a.members), (1, 2));
    assert!(
        s.notes
            .contains(&Note::NoValidAnswers { item: "p2".into() })
    );
    // With no data at all there is no overall percentage and no index points.
    let empty = score_sipas(&sipas(), &Tally::default()).unwrap();
    assert_eq!((empty.overall_percent, empty.index_points), (None, None));
    assert!(
        empty
            .notes
            .contains(&Note::PartWithoutData { part: "II".into() })
    );
    assert!(matches!(
        score_sipas(&par(), &t),
        Err(ScoringError::NoSipas { .. })
    ));
}

fn leader_17() -> GroupScore {
    let t = tally(
        20,
        &[
            ("q1", &[("1", 10), ("2", 5), ("3", 5)]),
            ("q2", &[("1", 20)]),
            ("q3", &[("4", 20)]),
        ],
    );
    score_group(&par(), "leader", &t).unwrap()
}

#[test]
fn after_a_partial_appraised_import_only_full_index_units_are_ranked() {
    let m = par();
    let linked = BTreeMap::from([("sipas".to_owned(), 5.75)]);
    let appraised = BTreeMap::from([("C1".to_owned(), 25.0), ("C2".to_owned(), 35.0)]);
    let full = compose_index(&m, &[leader_17()], &linked, Some(&appraised)).unwrap();
    let survey = compose_index(&m, &[leader_17()], &linked, None).unwrap();
    // One unit with appraised points (82.75 of 100), one without (its survey part,
    // 22.75 of 32): only the first is ranked, and the second stands "survey part only".
    let units = [
        UnitIndex {
            unit: "01".into(),
            region: "R".into(),
            index: full.clone(),
        },
        UnitIndex {
            unit: "02".into(),
            region: "R".into(),
            index: survey.clone(),
        },
    ];
    let r = rank_units(&m, &units);
    assert_eq!(r.total.len(), 1);
    assert_eq!(r.total[0].unit, "01");
    assert_eq!(r.total[0].national.map(|p| (p.rank, p.of)), Some((1, 1)));
    assert!(
        r.components
            .iter()
            .all(|c| c.ranked.iter().all(|x| x.unit == "01"))
    );
    assert_eq!(standing(&full, true), Standing::Ranked);
    assert_eq!(standing(&survey, true), Standing::SurveyPartOnly);
    // Without any appraised points, survey parts are what is ranked.
    assert_eq!(standing(&survey, false), Standing::Ranked);
    let only_survey = rank_units(&m, &units[1..]);
    assert_eq!(only_survey.total.len(), 1);
    // A unit missing one appraised component is incomplete, with its survey part kept.
    let partial = BTreeMap::from([("C1".to_owned(), 25.0)]);
    let idx = compose_index(&m, &[leader_17()], &linked, Some(&partial)).unwrap();
    assert_eq!(standing(&idx, true), Standing::Incomplete);
    assert!(idx.survey_points.is_some() && idx.total_points.is_none());
}

#[test]
fn the_full_index_adds_survey_linked_and_appraised_points_per_component() {
    // Leader: C1 7, C2 10 (17 of 22). SIPAS 5.75 of 10 into C2. The civil-servant group
    // does not count. Appraised: C1 25 (of 40 − 12 = 28), C2 35 (of 60 − 20 = 40).
    //   C1 = 7 + 25 = 32 of 40 = 80 %;  C2 = 10 + 5.75 + 35 = 50.75 of 60 = 84.58 %;
    //   total = 82.75 of 100 → tier B. Survey part = 7 + 10 + 5.75 = 22.75 of 32.
    let m = par();
    let civil = score_group(&m, "civil", &tally(1, &[("c1", &[("yes", 1)])])).unwrap();
    let linked = BTreeMap::from([("sipas".to_owned(), 5.75)]);
    let appraised = BTreeMap::from([("C1".to_owned(), 25.0), ("C2".to_owned(), 35.0)]);
    let idx = compose_index(&m, &[leader_17(), civil], &linked, Some(&appraised)).unwrap();
    assert!(idx.full_index);
    assert!(close(idx.survey_points.unwrap(), 22.75) && close(idx.survey_max_points, 32.0));
    let c1 = &idx.components[0];
    assert_eq!(c1.code, "C1");
    assert!(
        close(c1.points.unwrap(), 32.0)
            && close(c1.max_points, 40.0)
            && close(c1.percent.unwrap(), 80.0)
    );
    let c2 = &idx.components[1];
    assert!(close(c2.survey_points.unwrap(), 15.75) && close(c2.survey_max_points, 20.0));
    assert_eq!(fmt_points(c2.percent.unwrap()), "84.58");
    assert!(close(idx.total_points.unwrap(), 82.75) && close(idx.max_points, 100.0));
    assert!(close(idx.percent.unwrap(), 82.75));
    assert_eq!(idx.tier.as_deref(), Some("B"));
    assert_eq!(idx.notes, vec![]);

    // Without appraised points: the survey part alone, 22.75 of 32 = 71.09 %, no tier.
    let survey = compose_index(&m, &[leader_17()], &linked, None).unwrap();
    assert!(!survey.full_index);
    assert!(close(survey.total_points.unwrap(), 22.75) && close(survey.max_points, 32.0));
    assert_eq!(fmt_points(survey.percent.unwrap()), "71.09");
    assert_eq!(survey.tier, None);
}

#[test]
fn composition_rejects_inputs_that_do_not_fit_the_methodology() {
    let m = par();
    let none = BTreeMap::new();
    let too_much = BTreeMap::from([("C1".to_owned(), 28.5)]);
    assert!(matches!(
        compose_index(&m, &[leader_17()], &none, Some(&too_much)),
        Err(ScoringError::AppraisedOutOfRange { .. })
    ));
    let unknown = BTreeMap::from([("C9".to_owned(), 1.0)]);
    assert!(matches!(
        compose_index(&m, &[], &none, Some(&unknown)),
        Err(ScoringError::UnknownComponent { .. })
    ));
    let linked = BTreeMap::from([("sipas".to_owned(), 10.5)]);
    assert!(matches!(
        compose_index(&m, &[], &linked, None),
        Err(ScoringError::LinkedOutOfRange { .. })
    ));
    assert!(matches!(
        compose_index(&m, &[leader_17(), leader_17()], &none, None),
        Err(ScoringError::DuplicateGroupScore { .. })
    ));
    let mut foreign = leader_17();
    foreign.methodology_version = 2;
    assert!(matches!(
        compose_index(&m, &[foreign], &none, None),
        Err(ScoringError::ForeignGroupScore { .. })
    ));
    // Missing inputs are not errors: they are flagged and leave the unit incomplete, with
    // no total and no tier (never 0 points, tier D).
    let idx = compose_index(&m, &[], &none, Some(&none)).unwrap();
    assert!(idx.notes.contains(&Note::MissingGroup {
        group: "leader".into()
    }));
    assert!(idx.notes.contains(&Note::MissingLinkedIndex {
        code: "sipas".into()
    }));
    assert!(idx.notes.contains(&Note::MissingAppraised {
        component: "C1".into()
    }));
    assert_eq!(
        (idx.total_points, idx.percent, idx.survey_points),
        (None, None, None)
    );
    assert_eq!(idx.tier, None);
    assert!(!idx.is_complete());
    assert!(idx.components.iter().all(|c| c.points.is_none()));
}

fn inputs(values: &[(&str, &str, f64)]) -> Vec<RankInput> {
    values
        .iter()
        .map(|(u, r, v)| RankInput {
            unit: (*u).into(),
            region: (*r).into(),
            value: *v,
        })
        .collect()
}

fn ranks(r: &[Ranked]) -> Vec<(String, u32)> {
    r.iter()
        .map(|x| (x.unit.clone(), x.national.map_or(0, |p| p.rank)))
        .collect()
}

fn pairs(v: &[(&str, u32)]) -> Vec<(String, u32)> {
    v.iter().map(|(u, r)| ((*u).to_owned(), *r)).collect()
}

#[test]
fn competition_ranking_skips_places_after_a_tie_and_dense_ranking_does_not() {
    let data = inputs(&[
        ("d", "S", 80.0),
        ("b", "N", 85.0),
        ("a", "N", 90.0),
        ("c", "S", 85.0),
    ]);
    let mut settings = par().ranking;
    let r = rank(&settings, 2, &data);
    assert_eq!(ranks(&r), pairs(&[("a", 1), ("b", 2), ("c", 2), ("d", 4)]));
    assert_eq!(r[3].national, Some(Position { rank: 4, of: 4 }));
    settings.ties = TieRule::Dense;
    assert_eq!(
        ranks(&rank(&settings, 2, &data)),
        pairs(&[("a", 1), ("b", 2), ("c", 2), ("d", 3)])
    );
}

#[test]
fn regional_ranks_count_only_the_units_of_the_region() {
    let data = inputs(&[
        ("a", "N", 90.0),
        ("b", "N", 85.0),
        ("c", "S", 85.0),
        ("d", "S", 80.0),
        ("e", "S", 70.0),
    ]);
    let r = rank(&par().ranking, 2, &data);
    let by_unit: BTreeMap<&str, (Option<Position>, Option<Position>)> = r
        .iter()
        .map(|x| (x.unit.as_str(), (x.national, x.regional)))
        .collect();
    assert_eq!(
        by_unit["c"],
        (
            Some(Position { rank: 2, of: 5 }),
            Some(Position { rank: 1, of: 3 })
        )
    );
    assert_eq!(by_unit["b"].1, Some(Position { rank: 2, of: 2 }));
    assert_eq!(by_unit["e"].1, Some(Position { rank: 3, of: 3 }));
}

#[test]
fn ties_are_judged_at_full_precision_or_on_the_displayed_value_as_configured() {
    // 88.724 and 88.718 both display as "88.72".
    let data = inputs(&[("x", "N", 88.724), ("y", "N", 88.718), ("z", "N", 88.0)]);
    let mut settings = par().ranking;
    assert_eq!(
        ranks(&rank(&settings, 2, &data)),
        pairs(&[("x", 1), ("y", 2), ("z", 3)])
    );
    settings.compare = CompareOn::DisplayRounded;
    assert_eq!(
        ranks(&rank(&settings, 2, &data)),
        pairs(&[("x", 1), ("y", 1), ("z", 3)])
    );
    // Full precision ignores binary noise: (0.1 + 0.2) × 100 ties with 30.
    settings.compare = CompareOn::FullPrecision;
    let noisy = inputs(&[("p", "N", (0.1 + 0.2) * 100.0), ("q", "N", 30.0)]);
    assert_eq!(
        ranks(&rank(&settings, 2, &noisy)),
        pairs(&[("p", 1), ("q", 1)])
    );
    // Non-finite values are not ranked and come last.
    let with_nan = inputs(&[("n", "N", f64::NAN), ("m", "N", 1.0)]);
    let r = rank(&settings, 2, &with_nan);
    assert_eq!(r[1].unit, "n");
    assert_eq!(
        (r[1].national, r[0].national),
        (None, Some(Position { rank: 1, of: 1 }))
    );
}

#[test]
fn tier_thresholds_include_their_minimum_and_compare_at_full_precision_by_default() {
    let mut m = par();
    let tier = |m: &Methodology, p: f64| tier_for(m, p).map(|t| t.code.clone());
    assert_eq!(tier(&m, 90.0).as_deref(), Some("A"), "exactly 90.00 is A");
    assert_eq!(
        tier(&m, 19.8 * 100.0 / 22.0).as_deref(),
        Some("A"),
        "19.8 / 22 is 90 % despite float noise"
    );
    assert_eq!(tier(&m, 80.0).as_deref(), Some("B"), "exactly 80.00 is B");
    assert_eq!(tier(&m, 100.0).as_deref(), Some("A"));
    assert_eq!(tier(&m, 89.99).as_deref(), Some("B"));
    // 89.995 displays as "90.00" but is below 90: B at full precision (the default).
    assert_eq!(fmt_points(89.995), "90.00");
    assert_eq!(tier(&m, 89.995).as_deref(), Some("B"));
    assert_eq!(tier(&m, 79.9999).as_deref(), Some("C"));
    assert_eq!(tier(&m, 69.99).as_deref(), Some("D"));
    assert_eq!(tier(&m, 0.0).as_deref(), Some("D"));
    assert_eq!(tier(&m, -1.0), None, "below the lowest band");
    assert_eq!(tier(&m, f64::NAN), None);
    // With display_rounded, the displayed value decides: 89.995 → "90.00" → A.
    m.tiers.compare = CompareOn::DisplayRounded;
    assert_eq!(tier(&m, 89.995).as_deref(), Some("A"));
    assert_eq!(tier(&m, 89.994).as_deref(), Some("B"));
    assert_eq!(tier(&m, 79.995).as_deref(), Some("B"));
}

#[test]
fn rank_units_ranks_totals_with_tiers_and_each_component() {
    let m = par();
    let linked = BTreeMap::from([("sipas".to_owned(), 5.75)]);
    let unit = |code: &str, region: &str, c1: f64, c2: f64| {
        let appraised = BTreeMap::from([("C1".to_owned(), c1), ("C2".to_owned(), c2)]);
        UnitIndex {
            unit: code.into(),
            region: region.into(),
            index: compose_index(&m, &[leader_17()], &linked, Some(&appraised)).unwrap(),
        }
    };
    // Totals: u1 = 22.75 + 28 + 40 = 90.75 (A); u2 = 22.75 + 25 + 35 = 82.75 (B);
    // u3 = 22.75 + 28 + 30 = 80.75 (B). C1: u1 = u3 (35 of 40) ahead of u2.
    let units = vec![
        unit("u2", "N", 25.0, 35.0),
        unit("u1", "N", 28.0, 40.0),
        unit("u3", "S", 28.0, 30.0),
    ];
    let r = rank_units(&m, &units);
    assert_eq!(ranks(&r.total), pairs(&[("u1", 1), ("u2", 2), ("u3", 3)]));
    let tiers: Vec<Option<&str>> = r.total.iter().map(|x| x.tier.as_deref()).collect();
    assert_eq!(tiers, vec![Some("A"), Some("B"), Some("B")]);
    assert_eq!(r.components[0].component, "C1");
    assert_eq!(
        ranks(&r.components[0].ranked),
        pairs(&[("u1", 1), ("u3", 1), ("u2", 3)])
    );
    assert_eq!(r.total[2].regional, Some(Position { rank: 1, of: 1 }));
}

#[test]
fn results_serialise_byte_identically_on_every_run() {
    let m = par();
    let a =
        serde_json::to_string(&score_group(&m, "leader", &son_la_like_tally()).unwrap()).unwrap();
    let b =
        serde_json::to_string(&score_group(&m, "leader", &son_la_like_tally()).unwrap()).unwrap();
    assert_eq!(a, b);
    let s1 = serde_json::to_string(&score_sipas(&sipas(), &sipas_tally()).unwrap()).unwrap();
    let s2 = serde_json::to_string(&score_sipas(&sipas(), &sipas_tally()).unwrap()).unwrap();
    assert_eq!(s1, s2);
    assert!(
        a.contains("\"distribution\":{\"1\":900,\"2\":39,\"4\":61,\"dk\":25}"),
        "{a}"
    );
}
