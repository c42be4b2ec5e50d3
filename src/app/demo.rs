//! `khaosat demo`: a complete synthetic round (every unit, three groups, responses with
//! realistic province-level variation), the same for the same seed. Newcomers get real
//! dashboards in a minute, and benchmarks get comparable data.

use std::collections::BTreeMap;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::app::catalog;
use crate::app::rounds::{self, Actor};
use crate::db::responses::NewResponse;
use crate::db::{self, AnyConnection};
use crate::domain::answers::tally_cells;
use crate::domain::answers::{AnswerValue, Answers, prune_irrelevant};
use crate::domain::instrument::{Instrument, QuestionKind};
use crate::domain::lifecycle::RoundAction;
use crate::domain::methodology::Methodology;
use crate::error::AppError;

/// What to generate.
#[derive(Debug, Clone, Copy)]
pub struct DemoSpec {
    /// Survey year: up to 2024 the 63 provinces, from 2025 the 34 units.
    pub year: i32,
    /// Responses in all (spread evenly over units × groups).
    pub responses: u64,
    /// Random seed.
    pub seed: u64,
}

/// How good a unit is, drawn once per unit: a standard-normal-like value from the seed.
fn latent(rng: &mut StdRng) -> f64 {
    // Sum of 12 uniforms minus 6: mean 0, variance 1, no extra dependency.
    (0..12).map(|_| rng.random::<f64>()).sum::<f64>() - 6.0
}

/// Options of a scored item ordered best first, from the methodology's coefficients (points
/// groups) or scale (SIPAS); `None` for unscored questions.
fn best_first(
    methodologies: &[Methodology],
    group: &str,
    item: &str,
    options: &[String],
) -> Option<Vec<String>> {
    for m in methodologies {
        if let Some(rule) = m
            .group(group)
            .and_then(|g| g.items.iter().find(|r| r.item == item))
            && let Some(table) = m.coefficients_for(rule)
        {
            let mut valid: Vec<(&String, f64)> = options
                .iter()
                .filter_map(|o| table.values.get(o).map(|c| (o, *c)))
                .collect();
            valid.sort_by(|a, b| b.1.total_cmp(&a.1));
            return Some(valid.into_iter().map(|(o, _)| o.clone()).collect());
        }
        if let Some(s) = m.sipas.as_ref().filter(|s| {
            s.group == group && s.elements.iter().any(|e| e.items.iter().any(|i| i == item))
        }) {
            let mut valid: Vec<(&String, f64)> = options
                .iter()
                .filter_map(|o| s.scale.get(o).map(|v| (o, *v)))
                .collect();
            valid.sort_by(|a, b| b.1.total_cmp(&a.1));
            return Some(valid.into_iter().map(|(o, _)| o.clone()).collect());
        }
    }
    None
}

/// One synthetic respondent's answers: satisfaction `s` (0..1) drives the scored items.
fn answers_for(
    rng: &mut StdRng,
    instrument: &Instrument,
    methodologies: &[Methodology],
    group: &str,
    s: f64,
) -> Answers {
    let mut answers = Answers::new();
    let pick_scored = |rng: &mut StdRng, ordered: &[String], all: &[String]| -> String {
        // A few "don't know" answers where the scale has one.
        if let Some(dk) = all.iter().find(|o| !ordered.contains(o))
            && rng.random::<f64>() < 0.03
        {
            return dk.clone();
        }
        let noisy = (s + (rng.random::<f64>() - 0.5) * 0.5).clamp(0.0, 0.999);
        let index = ((1.0 - noisy) * ordered.len() as f64) as usize;
        ordered
            .get(index.min(ordered.len().saturating_sub(1)))
            .cloned()
            .unwrap_or_default()
    };
    for section in instrument.sections() {
        if !section.relevant.as_ref().is_none_or(|c| c.eval(&answers)) {
            continue;
        }
        for q in &section.questions {
            if !q.relevant.as_ref().is_none_or(|c| c.eval(&answers)) {
                continue;
            }
            match &q.kind {
                QuestionKind::Battery { choices, items, .. } => {
                    let all: Vec<String> =
                        choices.options.iter().map(|o| o.value.clone()).collect();
                    for item in items {
                        let value = match best_first(methodologies, group, &item.code, &all) {
                            Some(ordered) => pick_scored(rng, &ordered, &all),
                            None => all[rng.random_range(0..all.len())].clone(),
                        };
                        answers.insert(item.code.clone(), AnswerValue::Choice(value));
                    }
                }
                QuestionKind::Single { choices, .. } => {
                    let all: Vec<String> =
                        choices.options.iter().map(|o| o.value.clone()).collect();
                    let value = match best_first(methodologies, group, &q.code, &all) {
                        Some(ordered) => pick_scored(rng, &ordered, &all),
                        None => all[rng.random_range(0..all.len())].clone(),
                    };
                    answers.insert(q.code.clone(), AnswerValue::Choice(value));
                }
                QuestionKind::Multiple { choices } => {
                    let picked: Vec<String> = choices
                        .options
                        .iter()
                        .filter(|_| rng.random::<f64>() < 0.35)
                        .map(|o| o.value.clone())
                        .collect();
                    if !picked.is_empty() {
                        answers.insert(q.code.clone(), AnswerValue::Choices(picked));
                    } else if q.required {
                        answers.insert(
                            q.code.clone(),
                            AnswerValue::Choices(vec![choices.options[0].value.clone()]),
                        );
                    }
                }
                QuestionKind::YesNo { .. } => {
                    let yes = rng.random::<f64>() < 0.6;
                    answers.insert(
                        q.code.clone(),
                        AnswerValue::Choice(if yes { "yes" } else { "no" }.to_owned()),
                    );
                }
                QuestionKind::Integer { min, max } => {
                    let (lo, hi) = (min.unwrap_or(0), max.unwrap_or(100).max(min.unwrap_or(0)));
                    answers.insert(
                        q.code.clone(),
                        AnswerValue::Integer(rng.random_range(lo..=hi)),
                    );
                }
                _ => {}
            }
        }
    }
    prune_irrelevant(instrument, &mut answers);
    answers
}

fn latest_id(conn: &mut AnyConnection, code: &str, methodology: bool) -> Result<i64, AppError> {
    let found = if methodology {
        db::methodologies::list(conn)?
            .into_iter()
            .find(|m| m.code == code)
            .map(|m| m.id)
    } else {
        db::instruments::list(conn)?
            .into_iter()
            .find(|i| i.code == code)
            .map(|i| i.id)
    };
    found.ok_or_else(|| AppError::internal(anyhow::anyhow!("the bundled {code} is not loaded")))
}

/// Creates and opens a demo round of the bundled units of the year (up to 2024 the 63
/// provinces, from 2025 the 34 units) and fills it with synthetic responses. Returns its id.
pub fn create(conn: &mut AnyConnection, spec: DemoSpec) -> Result<i64, AppError> {
    let unit_set = if spec.year >= 2025 {
        rounds::UNITS_2025
    } else {
        rounds::PROVINCES_2023
    };
    create_for_units(conn, spec, unit_set)
}

/// As [`create`], for the units of the unit set `unit_set` (e.g. a province's own list of
/// departments and districts, imported before): an internal round.
pub fn create_for_units(
    conn: &mut AnyConnection,
    spec: DemoSpec,
    unit_set: &str,
) -> Result<i64, AppError> {
    let actor = Actor::service("demo");
    let map = |e: rounds::RoundError| AppError::internal(anyhow::anyhow!("{e}"));
    rounds::load_reference_units(conn).map_err(map)?;
    catalog::load_bundled(conn).map_err(|e| AppError::internal(anyhow::anyhow!("{e}")))?;
    let round_id = rounds::create_round(
        conn,
        &rounds::NewRoundInput {
            year: spec.year,
            name_vi: format!("Khảo sát mẫu {} (seed {})", spec.year, spec.seed),
            name_en: format!("Demo survey {} (seed {})", spec.year, spec.seed),
            unit_set_code: unit_set.to_owned(),
            opens_at: None,
            closes_at: None,
        },
        actor,
    )
    .map_err(map)?;
    let plan = [
        ("leader", "par-leader", "par-2022"),
        ("civil_servant", "par-civil-servant", "par-2022"),
        ("citizen", "sipas", "sipas-2023"),
    ];
    let mut configured = Vec::new();
    for (group, instrument_code, methodology_code) in plan {
        let instrument_id = latest_id(conn, instrument_code, false)?;
        let methodology_id = latest_id(conn, methodology_code, true)?;
        rounds::set_group(conn, round_id, group, instrument_id, methodology_id, actor)
            .map_err(map)?;
        let group_id = db::rounds::group_id(conn, group)?.ok_or(AppError::NotFound)?;
        let instrument = catalog::load_instrument(conn, instrument_id)?
            .ok_or(AppError::NotFound)?
            .instrument;
        configured.push((group, group_id, instrument_id, instrument));
    }
    let methodologies: Vec<Methodology> = ["par-2022", "sipas-2023"]
        .iter()
        .map(|code| -> Result<Methodology, AppError> {
            let id = latest_id(conn, code, true)?;
            Ok(catalog::load_methodology(conn, id)?
                .ok_or(AppError::NotFound)?
                .methodology)
        })
        .collect::<Result<_, _>>()?;
    rounds::apply_action(conn, round_id, RoundAction::Open, actor).map_err(map)?;

    let mut rng = StdRng::seed_from_u64(spec.seed);
    let units = db::rounds::units(conn, round_id)?;
    let unit_quality: Vec<f64> = units.iter().map(|_| latent(&mut rng)).collect();
    let cells = (units.len() * configured.len()) as u64;
    let per_cell = spec.responses / cells.max(1);
    let extra = spec.responses % cells.max(1);
    let start = chrono::NaiveDate::from_ymd_opt(spec.year, 9, 1).unwrap_or_default();
    let mut serial: u64 = 0;
    let mut cell_index: u64 = 0;
    for (u, unit) in units.iter().enumerate() {
        for (group, group_id, instrument_id, instrument) in &configured {
            let n = per_cell + u64::from(cell_index < extra);
            cell_index += 1;
            // Provinces differ (latent quality); groups see them a little differently.
            let base = 0.80 + 0.05 * unit_quality[u] - if *group == "citizen" { 0.04 } else { 0.0 };
            let mut remaining = n;
            while remaining > 0 {
                let batch = remaining.min(2_000);
                remaining -= batch;
                let mut rows = Vec::with_capacity(batch as usize);
                let mut tally: BTreeMap<(String, String), i64> = BTreeMap::new();
                for _ in 0..batch {
                    serial += 1;
                    let s = (base + (latent(&mut rng) * 0.12)).clamp(0.02, 0.98);
                    let answers = answers_for(&mut rng, instrument, &methodologies, group, s);
                    for (item, value) in tally_cells(&answers) {
                        *tally
                            .entry((item.to_owned(), value.to_owned()))
                            .or_default() += 1;
                    }
                    let day = start + chrono::Duration::days(rng.random_range(0..60));
                    let duration: i32 = rng.random_range(240..2400);
                    rows.push((
                        format!("DEMO-{round_id}-{serial}"),
                        day,
                        duration,
                        answers.to_json(),
                    ));
                }
                db::write_transaction(conn, |conn| {
                    for (receipt, day, duration, json) in &rows {
                        db::responses::insert(
                            conn,
                            &NewResponse {
                                receipt,
                                submission_key: receipt,
                                round_id,
                                unit_id: unit.id,
                                group_id: *group_id,
                                instrument_id: *instrument_id,
                                submitted_on: *day,
                                source: "web",
                                duration_seconds: Some(*duration),
                                answers: json,
                            },
                        )?;
                    }
                    let key = (round_id, unit.id, *group_id);
                    crate::app::scores::add_counted(
                        conn,
                        key,
                        i64::try_from(batch).unwrap_or(0),
                        tally
                            .iter()
                            .map(|((item, value), n)| ((item.as_str(), value.as_str()), *n)),
                    )?;
                    Ok::<_, AppError>(())
                })?;
            }
        }
    }
    // Appraised points (the Ministry's review of documents) complete the full index, so the
    // demo shows tiers like a real published round. Drawn after the responses, so a seed's
    // answers are the same as without them.
    if let Some(main) = methodologies.iter().find(|m| !m.components.is_empty()) {
        let mut csv = String::from("unit,component,points\n");
        for (u, unit) in units.iter().enumerate() {
            for c in &main.components {
                let limit = c.max_points - c.survey_points.unwrap_or(0.0);
                let share =
                    (0.84 + 0.06 * unit_quality[u] + 0.03 * latent(&mut rng)).clamp(0.3, 1.0);
                // Rounded down to hundredths so a value never exceeds its maximum.
                let points = (limit * share * 100.0).floor() / 100.0;
                csv.push_str(&format!("{},{},{points:.2}\n", unit.code, c.code));
            }
        }
        crate::app::scores::import_appraised(
            conn,
            round_id,
            "demo-appraised.csv",
            csv.as_bytes(),
            None,
            "demo",
        )?
        .map_err(|errors| AppError::internal(anyhow::anyhow!("{}", errors.join("; "))))?;
    }
    Ok(round_id)
}
