//! Dashboard figures computed from hand-made scores of four units in two regions.

use std::collections::BTreeMap;

use super::*;
use crate::domain::scoring::{self, Tally, UnitIndex};

fn methodology() -> Methodology {
    let file = crate::bundled::METHODOLOGIES
        .iter()
        .find(|f| f.name == "par-2022.toml")
        .expect("bundled PAR methodology");
    Methodology::parse(file.name, file.bytes).expect("bundled methodology parses")
}

/// A unit whose leaders answered every item with the option of coefficient rank `level`
/// (0 = best) and whose appraised points fill the rest of each component proportionally.
fn unit(m: &Methodology, code: &str, region: &str, level: usize) -> UnitScores {
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
    let tally = Tally::from_responses([&answers]);
    let leader = scoring::score_group(m, "leader", &tally).expect("scores");
    let index = scoring::compose_index(m, std::slice::from_ref(&leader), &BTreeMap::new(), None)
        .expect("composes");
    UnitScores {
        unit: code.to_owned(),
        name_vi: format!("Tỉnh {code}"),
        name_en: format!("Province {code}"),
        region: region.to_owned(),
        groups: vec![leader],
        sipas: None,
        index,
        paper_responses: Some(0),
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
    let ranked: Vec<UnitIndex> = units
        .iter()
        .map(|u| UnitIndex {
            unit: u.unit.clone(),
            region: u.region.clone(),
            index: u.index.clone(),
        })
        .collect();
    let rankings = scoring::rank_units(&m, &ranked);
    RoundResults {
        round: RoundRow {
            id: 1,
            year: 2025,
            name_vi: "Vòng".to_owned(),
            name_en: "Round".to_owned(),
            unit_set_id: 1,
            status: "computed".to_owned(),
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
        },
        methodology: m,
        regions: BTreeMap::new(),
        group_names: BTreeMap::new(),
        yoy: None,
        yoy_source: None,
        scope: Scope::All,
    }
}

#[test]
fn the_overview_averages_units_nationally_and_per_region() {
    let r = results();
    let o = overview(&r.scores, &r.methodology);
    assert_eq!(o.units, 4);
    let percents: Vec<f64> = r.scores.units.iter().map(|u| u.index.percent).collect();
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
        .map(|row| row.components.iter().find(|c| c.0 == component).unwrap().1)
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
