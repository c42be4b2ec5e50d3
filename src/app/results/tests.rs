//! Dashboard figures computed from hand-made scores of four units in two regions.

use std::collections::BTreeMap;

use super::*;
use crate::app::scores::{UnitScores, rank_unit_scores};
use crate::domain::scoring::{self, Tally};

fn methodology() -> Methodology {
    let file = crate::app::bundled::METHODOLOGIES
        .iter()
        .find(|f| f.name == "par-2022.toml")
        .expect("bundled PAR methodology");
    Methodology::parse(file.name, file.bytes).expect("bundled methodology parses")
}

/// A unit whose leaders answered every item with the option of coefficient rank `level`
/// (0 = best), with 5 SIPAS points: complete, so it is ranked.
fn unit(m: &Methodology, code: &str, region: &str, level: usize) -> UnitScores {
    let sipas = BTreeMap::from([("sipas".to_owned(), 5.0)]);
    unit_with(m, code, region, level, &sipas, 1)
}

/// A unit as [`unit`] with `n` leaders, all answering alike.
fn unit_of(m: &Methodology, code: &str, region: &str, level: usize, n: usize) -> UnitScores {
    let sipas = BTreeMap::from([("sipas".to_owned(), 5.0)]);
    unit_with(m, code, region, level, &sipas, n)
}

/// A unit as [`unit`] but without SIPAS: incomplete, so neither totalled nor ranked.
fn incomplete_unit(m: &Methodology, code: &str, region: &str, level: usize) -> UnitScores {
    unit_with(m, code, region, level, &BTreeMap::new(), 1)
}

fn unit_with(
    m: &Methodology,
    code: &str,
    region: &str,
    level: usize,
    linked: &BTreeMap<String, f64>,
    respondents: usize,
) -> UnitScores {
    let group = m.group("leader").expect("leader group");
    let answers: BTreeMap<String, String> = group
        .items
        .iter()
        .filter_map(|rule| {
            let table = m.coefficients_for(rule)?;
            let mut options: Vec<(&String, f64)> =
                table.values.iter().map(|(k, v)| (k, *v)).collect();
            options.sort_by(|a, b| b.1.total_cmp(&a.1));
            let pick = options.get(level.min(options.len().saturating_sub(1)))?;
            Some((rule.item.clone(), pick.0.clone()))
        })
        .collect();
    let tally = Tally::from_responses(std::iter::repeat_n(&answers, respondents));
    let leader = scoring::score_group(m, "leader", &tally).expect("scores");
    let index =
        scoring::compose_index(m, std::slice::from_ref(&leader), linked, None).expect("composes");
    UnitScores {
        unit: code.to_owned(),
        name_vi: format!("Tỉnh {code}"),
        name_en: format!("Province {code}"),
        region: region.to_owned(),
        groups: vec![leader],
        sipas: None,
        index,
        paper_responses: Some(0),
        field_responses: Some(0),
    }
}

fn results() -> RoundResults {
    let m = methodology();
    let units = vec![
        unit(&m, "01", "R1", 0),
        unit(&m, "02", "R1", 1),
        unit(&m, "03", "R2", 2),
        unit(&m, "04", "R2", 0),
    ];
    results_of(m, units)
}

fn results_of(m: Methodology, units: Vec<UnitScores>) -> RoundResults {
    let rankings = rank_unit_scores(&m, &units);
    RoundResults {
        round: RoundRow {
            id: 1,
            year: 2025,
            name_vi: "Vòng".to_owned(),
            name_en: "Round".to_owned(),
            unit_set_id: 1,
            status: crate::domain::lifecycle::RoundStatus::Computed,
            opens_at: None,
            closes_at: None,
            compare_round_id: None,
            created_at: chrono::NaiveDateTime::default(),
        },
        source: Source::Live,
        scores: RoundScores {
            round_id: 1,
            methodologies: vec![(m.code.clone(), m.version)],
            instruments: vec![],
            units,
            rankings,
            uncertainty: None,
            national: Vec::new(),
        },
        methodology: m,
        regions: BTreeMap::new(),
        group_names: BTreeMap::new(),
        yoy: None,
        yoy_source: None,
        scope: Scope::All,
        distributions_hidden_below: None,
    }
}

#[test]
fn the_overview_averages_units_nationally_and_per_region() {
    let r = results();
    let o = overview(&r.scores, &r.methodology);
    assert_eq!(o.units, 4);
    let percents: Vec<f64> = r
        .scores
        .units
        .iter()
        .map(|u| u.index.percent.unwrap())
        .collect();
    let expected = percents.iter().sum::<f64>() / 4.0;
    assert!((o.mean_percent.unwrap() - expected).abs() < 1e-9);
    assert_eq!(o.regions.len(), 2);
    let r1 = &o.regions[0];
    assert_eq!((r1.region.as_str(), r1.units), ("R1", 2));
    assert!((r1.mean_percent.unwrap() - (percents[0] + percents[1]) / 2.0).abs() < 1e-9);
    assert_eq!(r1.max_percent, Some(percents[0].max(percents[1])));
    // Survey-only compositions have no tier: all four counted as untiered.
    assert_eq!(o.tiers.last(), Some(&(None, 4)));
    assert_eq!(o.groups[0].group, "leader");
    assert_eq!(o.groups[0].responses, 4);
}

#[test]
fn the_ranking_sorts_by_any_column_and_keeps_national_ranks() {
    let r = results();
    let by_total = ranking_rows(&r, &SortKey::Total, false);
    assert!(by_total.windows(2).all(|w| w[0].percent >= w[1].percent));
    assert_eq!(by_total[0].national.unwrap().rank, 1);
    let ascending = ranking_rows(&r, &SortKey::Total, true);
    assert_eq!(
        ascending.first().unwrap().unit,
        by_total.last().unwrap().unit
    );
    let component = r.methodology.components[0].code.clone();
    let by_component = ranking_rows(&r, &SortKey::Component(component.clone()), false);
    let values: Vec<f64> = by_component
        .iter()
        .map(|row| {
            row.components
                .iter()
                .find(|c| c.0 == component)
                .unwrap()
                .1
                .unwrap()
        })
        .collect();
    assert!(values.windows(2).all(|w| w[0] >= w[1]));
    let by_name = ranking_rows(&r, &SortKey::Unit, true);
    assert_eq!(by_name[0].unit, "01");
    assert_eq!(
        SortKey::parse(&SortKey::Component("C1".into()).as_query()),
        SortKey::Component("C1".into())
    );
    assert_eq!(SortKey::parse("nonsense"), SortKey::Total);
}

#[test]
fn a_coordinator_scope_keeps_only_their_units_with_national_ranks() {
    let mut r = results();
    let before = r
        .scores
        .rankings
        .total
        .iter()
        .find(|x| x.unit == "03")
        .cloned()
        .unwrap();
    restrict(&mut r.scores, &Scope::Only(["03".to_owned()].into()));
    assert_eq!(r.scores.units.len(), 1);
    assert_eq!(r.scores.rankings.total, vec![before]);
    assert!(
        r.scores
            .rankings
            .components
            .iter()
            .all(|c| c.ranked.iter().all(|x| x.unit == "03"))
    );
}

#[test]
fn a_scorecard_lists_strongest_and_weakest_items_against_the_nation() {
    let r = results();
    let card = scorecard(&r, "02").unwrap();
    assert!(card.strongest.len() <= SCORECARD_ITEMS && !card.strongest.is_empty());
    assert!(
        card.strongest
            .windows(2)
            .all(|w| w[0].percent >= w[1].percent)
    );
    assert!(
        card.weakest
            .windows(2)
            .all(|w| w[0].percent <= w[1].percent)
    );
    assert!(card.strongest[0].national_percent.is_some());
    assert_eq!(
        card.components.len(),
        r.scores.units[1].index.components.len()
    );
    assert!(scorecard(&r, "99").is_none());
}

#[test]
fn item_distributions_sum_every_unit() {
    let r = results();
    let d = item_distributions(&r.scores);
    let first = &d[0];
    assert_eq!(first.counts.values().sum::<u64>(), 4);
}

#[test]
fn incomplete_units_are_listed_unranked_after_the_ranked_ones_and_left_out_of_every_mean() {
    let m = methodology();
    // 05 has the best leaders of all but no SIPAS: it must not be ranked, nor averaged as 0.
    let units = vec![
        unit(&m, "01", "R1", 0),
        unit(&m, "02", "R1", 1),
        incomplete_unit(&m, "05", "R1", 0),
        unit(&m, "03", "R2", 2),
    ];
    let r = results_of(m, units);
    assert_eq!(r.scores.units[2].index.total_points, None);
    let ranked: Vec<(&str, u32, u32)> = r
        .scores
        .rankings
        .total
        .iter()
        .map(|x| {
            let p = x.national.unwrap();
            (x.unit.as_str(), p.rank, p.of)
        })
        .collect();
    assert_eq!(ranked, vec![("01", 1, 3), ("02", 2, 3), ("03", 3, 3)]);
    assert!(
        r.scores
            .rankings
            .components
            .iter()
            .all(|c| c.ranked.iter().all(|x| x.unit != "05"))
    );
    let rows = ranking_rows(&r, &SortKey::Total, false);
    let last = rows.last().unwrap();
    assert_eq!(
        (last.unit.as_str(), last.standing),
        ("05", crate::domain::scoring::Standing::Incomplete)
    );
    assert_eq!(
        (
            last.national,
            last.regional,
            last.survey_points,
            last.percent
        ),
        (None, None, None, None)
    );
    // Its leader points are still shown: it is listed "with what it has".
    assert!(last.groups[0].1.is_some());
    let o = overview(&r.scores, &r.methodology);
    assert_eq!((o.units, o.complete), (4, 3));
    let complete: Vec<f64> = [0, 1, 3]
        .iter()
        .map(|&i| r.scores.units[i].index.percent.unwrap())
        .collect();
    assert!((o.mean_percent.unwrap() - complete.iter().sum::<f64>() / 3.0).abs() < 1e-9);
    let r1 = &o.regions[0];
    assert_eq!((r1.units, r1.with_value), (3, 2));
    assert_eq!(o.tiers.iter().map(|t| t.1).sum::<usize>(), 3);
    // The leader group mean covers all four units: each has a leader score.
    assert_eq!(o.groups[0].units, 4);
}

#[test]
fn a_unit_group_below_k_keeps_its_scores_but_not_its_answer_distributions() {
    let m = methodology();
    let units = vec![
        unit_of(&m, "01", "R1", 0, 12),
        unit_of(&m, "02", "R1", 1, 3),
        unit_of(&m, "03", "R2", 2, 10),
    ];
    let mut r = results_of(m, units);
    let before = r.scores.units[1].groups[0].clone();
    assert!(before.items.iter().any(|i| !i.distribution.is_empty()));

    assert_eq!(hide_small_distributions(&mut r.scores, 10), 1);
    let small = &r.scores.units[1].groups[0];
    // No item row is left: neither its distribution nor its percentage, which with one
    // respondent is the answer itself.
    assert!(small.items.is_empty());
    // The group's scores are as they were: they are still published.
    assert_eq!(
        (small.responses, small.points, small.percent),
        (before.responses, before.points, before.percent)
    );
    assert_eq!(small.components, before.components);
    // Units of k or more keep theirs, and the national sums cover only them, so the small
    // unit's answers cannot be had by subtracting the others from the national figure.
    for big in [&r.scores.units[0], &r.scores.units[2]] {
        assert!(
            big.groups[0]
                .items
                .iter()
                .all(|i| !i.distribution.is_empty())
        );
    }
    let national = item_distributions(&r.scores);
    assert_eq!(national[0].counts.values().sum::<u64>(), 22);
    r.distributions_hidden_below = Some(10);
    assert!(unit_hides_distributions(&r, &r.scores.units[1]));
    assert!(!unit_hides_distributions(&r, &r.scores.units[0]));
}

#[test]
fn with_k_of_one_or_groups_without_respondents_nothing_is_hidden() {
    assert!(!is_small_group(0, 10));
    assert!(is_small_group(1, 10) && is_small_group(9, 10));
    assert!(!is_small_group(10, 10));
    let mut r = results();
    assert_eq!(hide_small_distributions(&mut r.scores, 1), 0);
    assert_eq!(
        item_distributions(&r.scores)[0]
            .counts
            .values()
            .sum::<u64>(),
        4
    );
}

#[test]
fn breakdown_rows_below_k_or_no_longer_adding_up_to_the_published_total_are_withheld() {
    use crate::domain::disclosure::Cell;
    let published = [
        Some(Cell::with_value(1, 99.0)),
        Some(Cell::count(12)),
        Some(Cell::count(12)),
        None,
        Some(Cell::count(0)),
    ];
    let live = [12, 12, 11, 5, 0].map(Cell::count);
    // Unit 0 is published as n = 1 (the split is live 12, but the published figure decides),
    // unit 2 lost a response after publishing, unit 3 has no published total to protect
    // and unit 4 has nobody.
    assert_eq!(
        breakdown::withheld_rows(&published, &live, 10),
        vec![true, false, true, false, false]
    );
    assert_eq!(
        breakdown::withheld_rows(&published[1..2], &live[1..2], 13),
        vec![true]
    );
}
