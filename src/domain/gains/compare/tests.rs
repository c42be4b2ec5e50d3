//! Hand-worked comparisons on the PAR-style fixture methodology: leader items q1 (K1, 10
//! points), q2 (K2, 10 points), q3 (K1, 2 points); coefficients "1" = 1.0, "2" = 0.6,
//! "3" = 0.2, "4" = 0, "dk" invalid.

use super::*;

fn par() -> Methodology {
    Methodology::parse(
        "par.toml",
        crate::domain::methodology::fixtures::PAR.as_bytes(),
    )
    .unwrap()
}

fn close(a: Option<f64>, b: f64) -> bool {
    a.is_some_and(|a| (a - b).abs() < 1e-9)
}

/// The leader group of a unit scored from its answer counts.
fn leader(responses: u64, items: &[(&str, &[(&str, u64)])]) -> Vec<GroupScore> {
    let tally = Tally {
        responses,
        items: items
            .iter()
            .map(|(item, d)| {
                let counts = d.iter().map(|(v, n)| ((*v).to_owned(), *n)).collect();
                ((*item).to_owned(), counts)
            })
            .collect(),
    };
    vec![score_group(&par(), "leader", &tally).unwrap()]
}

fn row<'a>(c: &'a Comparison, code: &str) -> &'a CompareRow {
    c.groups[0].rows.iter().find(|r| r.code == code).unwrap()
}

#[test]
fn the_internal_round_pools_its_units_answers_and_stands_beside_the_province_s_national_figures() {
    let m = par();
    // Internal unit A: 10 leaders, q1 "1" ×5 and "dk" ×5, q2 "2" ×10, q3 "4" ×10.
    // Internal unit B: 30 leaders, q1 "3" ×30, q2 "1" ×30, q3 "1" ×30.
    let a = leader(
        10,
        &[
            ("q1", &[("1", 5), ("dk", 5)]),
            ("q2", &[("2", 10)]),
            ("q3", &[("4", 10)]),
        ],
    );
    let b = leader(
        30,
        &[
            ("q1", &[("3", 30)]),
            ("q2", &[("1", 30)]),
            ("q3", &[("1", 30)]),
        ],
    );
    // The province P in the national round: q1 "2" ×20, q2 "3" ×20, q3 "1" ×20;
    // another province Q: q1 "1" ×20, q2 "2" ×20, q3 "4" ×20.
    let p = leader(
        20,
        &[
            ("q1", &[("2", 20)]),
            ("q2", &[("3", 20)]),
            ("q3", &[("1", 20)]),
        ],
    );
    let q = leader(
        20,
        &[
            ("q1", &[("1", 20)]),
            ("q2", &[("2", 20)]),
            ("q3", &[("4", 20)]),
        ],
    );
    let internal: [&[GroupScore]; 2] = [&a, &b];
    let national: [&[GroupScore]; 2] = [&p, &q];
    let c = compare(&CompareInput {
        methodology: &m,
        internal: &internal,
        province: &p,
        national: &national,
    })
    .unwrap();
    assert_eq!(c.groups.len(), 1);
    assert!(c.not_comparable.is_empty(), "{:?}", c.not_comparable);
    let g = &c.groups[0];
    assert_eq!(
        (g.group.as_str(), g.internal_units, g.internal_responses),
        ("leader", 2, 40)
    );
    // Rows: each criterion, then its items, in the methodology's order.
    let order: Vec<&str> = g.rows.iter().map(|r| r.code.as_str()).collect();
    assert_eq!(order, ["K1", "q1", "q3", "K2", "q2"]);

    // q1 pooled over the 35 valid answers: (5 × 1.0 + 30 × 0.2) / 35 = 11/35 = 31.43 %, not the
    // respondent-weighted (10 × 100 + 30 × 20) / 40 = 40 %. P: 60 %, so −28.57 points.
    // National mean (60 + 100) / 2 = 80, best 100.
    let q1 = row(&c, "q1");
    assert_eq!(q1.level, CompareLevel::Item);
    assert_eq!(q1.criterion, "K1");
    assert!(close(q1.internal, 1100.0 / 35.0));
    assert!(close(q1.national, 60.0));
    assert!(close(q1.difference, 1100.0 / 35.0 - 60.0));
    assert!(close(q1.national_mean, 80.0));
    assert!(close(q1.national_best, 100.0));
    // q2: (10 × 0.6 + 30 × 1.0) / 40 = 90 %; P 20 %: +70; mean (20 + 60) / 2 = 40, best 60.
    let q2 = row(&c, "q2");
    assert!(close(q2.internal, 90.0));
    assert!(close(q2.difference, 70.0));
    assert!(close(q2.national_mean, 40.0));
    assert!(close(q2.national_best, 60.0));
    // q3: 30 / 40 = 75 %; P 100 %: −25; mean 50, best 100.
    let q3 = row(&c, "q3");
    assert!(close(q3.internal, 75.0));
    assert!(close(q3.difference, -25.0));
    assert!(close(q3.national_mean, 50.0));
    // K1 (12 points): q1 10 × 11/35 + q3 2 × 0.75 = 4.642857… → 38.69 %; P: (6 + 2) / 12 =
    // 66.67 %; Q: 10 / 12 = 83.33 %.
    let k1 = row(&c, "K1");
    assert_eq!(k1.level, CompareLevel::Criterion);
    let pooled_k1 = (10.0 * 11.0 / 35.0 + 1.5) / 12.0 * 100.0;
    assert!(close(k1.internal, pooled_k1));
    assert!(close(k1.national, 800.0 / 12.0));
    assert!(close(k1.difference, pooled_k1 - 800.0 / 12.0));
    assert!(close(
        k1.national_mean,
        (800.0 / 12.0 + 1000.0 / 12.0) / 2.0
    ));
    assert!(close(k1.national_best, 1000.0 / 12.0));
}

#[test]
fn what_one_round_alone_has_is_listed_as_not_comparable_never_as_zero() {
    let m = par();
    let a = leader(
        10,
        &[
            ("q1", &[("1", 10)]),
            ("q2", &[("1", 10)]),
            ("q3", &[("1", 10)]),
        ],
    );
    // The province's leader scores without q3 and with an item q9 of the national round only;
    // it also has a civil servants' group the internal round did not run.
    let mut p = leader(
        20,
        &[
            ("q1", &[("2", 20)]),
            ("q2", &[("2", 20)]),
            ("q3", &[("2", 20)]),
        ],
    );
    let mut extra = p[0].item("q1").unwrap().clone();
    extra.item = "q9".to_owned();
    p[0].items.retain(|i| i.item != "q3");
    p[0].items.push(extra);
    let civil = Tally {
        responses: 5,
        items: BTreeMap::from([("c1".to_owned(), BTreeMap::from([("yes".to_owned(), 5)]))]),
    };
    p.push(score_group(&m, "civil", &civil).unwrap());
    let internal: [&[GroupScore]; 1] = [&a];
    let national: [&[GroupScore]; 1] = [&p];
    let c = compare(&CompareInput {
        methodology: &m,
        internal: &internal,
        province: &p,
        national: &national,
    })
    .unwrap();
    let codes: Vec<&str> = c.groups[0].rows.iter().map(|r| r.code.as_str()).collect();
    assert_eq!(codes, ["K1", "q1", "K2", "q2"], "no row for q3 or q9");
    let listed: Vec<(CompareLevel, &str, Side)> = c
        .not_comparable
        .iter()
        .map(|n| (n.level, n.code.as_str(), n.only_in))
        .collect();
    assert_eq!(
        listed,
        [
            (CompareLevel::Item, "q3", Side::Internal),
            (CompareLevel::Item, "q9", Side::National),
            (CompareLevel::Group, "civil", Side::National),
        ]
    );
}

#[test]
fn rounds_without_a_group_in_common_are_refused_and_hidden_rows_take_no_part_in_the_pool() {
    let m = par();
    let civil = Tally {
        responses: 5,
        items: BTreeMap::from([("c1".to_owned(), BTreeMap::from([("yes".to_owned(), 5)]))]),
    };
    let internal_civil = vec![score_group(&m, "civil", &civil).unwrap()];
    let p = leader(
        20,
        &[
            ("q1", &[("2", 20)]),
            ("q2", &[("2", 20)]),
            ("q3", &[("2", 20)]),
        ],
    );
    let national: [&[GroupScore]; 1] = [&p];
    let only_civil: [&[GroupScore]; 1] = [&internal_civil];
    let input = |internal| CompareInput {
        methodology: &m,
        internal,
        province: &p,
        national: &national,
    };
    assert_eq!(
        compare(&input(&only_civil)),
        Err(CompareError::NoGroupInCommon)
    );
    // A unit whose item rows the view hides (a small group for the public) is left out of
    // the pool: the pooled q1 is the other unit's own.
    let mut hidden = leader(
        3,
        &[
            ("q1", &[("4", 3)]),
            ("q2", &[("4", 3)]),
            ("q3", &[("4", 3)]),
        ],
    );
    hidden[0].items.clear();
    let seen = leader(
        12,
        &[
            ("q1", &[("2", 12)]),
            ("q2", &[("1", 12)]),
            ("q3", &[("1", 12)]),
        ],
    );
    let both: [&[GroupScore]; 2] = [&hidden, &seen];
    let c = compare(&input(&both)).unwrap();
    assert_eq!(c.groups[0].internal_units, 1);
    assert_eq!(c.groups[0].internal_responses, 12);
    assert!(close(row(&c, "q1").internal, 60.0));
}
