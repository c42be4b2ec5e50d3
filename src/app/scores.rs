//! Scores of a round: tallies per unit × group (live, or recomputed from the raw answers), the
//! scoring engine applied with the round's methodologies, rankings, and published snapshots.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::app::catalog;
use crate::app::respond::tally_cells;
use crate::db::audit::{AuditEntry, record};
use crate::db::{self, AnyConnection};
use crate::domain::answers::{Answers, for_each_choice};
use crate::domain::methodology::{Methodology, NationalAggregate};
use crate::domain::scoring::{
    self, GroupScore, IndexScore, Rankings, SipasScore, Tally, UnitIndex,
};
use crate::error::AppError;

/// Tallies keyed by (unit id, group id).
pub type Tallies = BTreeMap<(i64, i64), Tally>;

/// The live tallies, as the submit transactions left them (cost independent of responses).
pub fn live_tallies(conn: &mut AnyConnection, round_id: i64) -> Result<Tallies, AppError> {
    let mut out = Tallies::new();
    for (unit, group, responses) in db::responses::counts_of_round(conn, round_id)? {
        out.entry((unit, group)).or_default().responses = u64::try_from(responses).unwrap_or(0);
    }
    for (unit, group, item, value, count) in db::responses::tallies_of_round(conn, round_id)? {
        let cell = out
            .entry((unit, group))
            .or_default()
            .items
            .entry(item)
            .or_default();
        cell.insert(value, u64::try_from(count).unwrap_or(0));
    }
    Ok(out)
}

/// Tallies recomputed from every counted (not excluded) answer, streamed in pages.
pub fn recompute_tallies(conn: &mut AnyConnection, round_id: i64) -> Result<Tallies, AppError> {
    recompute(conn, round_id, false)
}

/// Tallies recomputed from every answer, excluded ones included: the scores "with exclusions".
pub fn recompute_tallies_with_excluded(
    conn: &mut AnyConnection,
    round_id: i64,
) -> Result<Tallies, AppError> {
    recompute(conn, round_id, true)
}

fn recompute(
    conn: &mut AnyConnection,
    round_id: i64,
    with_excluded: bool,
) -> Result<Tallies, AppError> {
    let mut out = Tallies::new();
    let mut after = 0;
    loop {
        let page = db::responses::page_for_scoring(conn, round_id, after, 5_000, with_excluded)?;
        let Some(last) = page.last() else { break };
        after = last.id;
        for response in &page {
            let tally = out
                .entry((response.unit_id, response.group_id))
                .or_default();
            tally.responses += 1;
            // Keys are allocated only the first time a cell is seen: a million responses
            // repeat a few thousand distinct cells.
            for_each_choice(&response.answers, |item, value| {
                let values = match tally.items.get_mut(item) {
                    Some(values) => values,
                    None => tally.items.entry(item.to_owned()).or_default(),
                };
                match values.get_mut(value) {
                    Some(n) => *n += 1,
                    None => {
                        values.insert(value.to_owned(), 1);
                    }
                }
            })
            .map_err(|e| {
                AppError::internal(anyhow::anyhow!(
                    "response {} has unreadable answers: {e}",
                    response.id
                ))
            })?;
        }
    }
    Ok(out)
}

/// Where a difference between two sets of tallies lies.
pub fn tally_differences(a: &Tallies, b: &Tallies) -> Vec<String> {
    let keys: std::collections::BTreeSet<&(i64, i64)> = a.keys().chain(b.keys()).collect();
    let empty = Tally::default();
    let mut out = Vec::new();
    for key in keys {
        let (x, y) = (a.get(key).unwrap_or(&empty), b.get(key).unwrap_or(&empty));
        if x.responses != y.responses {
            out.push(format!(
                "unit {} group {}: {} vs {} responses",
                key.0, key.1, x.responses, y.responses
            ));
        }
        let items: std::collections::BTreeSet<&String> =
            x.items.keys().chain(y.items.keys()).collect();
        for item in items {
            if x.items.get(item) != y.items.get(item) {
                out.push(format!(
                    "unit {} group {} item {item}: {:?} vs {:?}",
                    key.0,
                    key.1,
                    x.items.get(item),
                    y.items.get(item)
                ));
            }
        }
    }
    out
}

/// The outcome of checking a round's live tallies against its raw answers.
#[derive(Debug, Clone)]
pub struct TallyCheck {
    /// The tallies recomputed from every counted answer (what the scores are computed from).
    pub recomputed: Tallies,
    /// Counted responses behind the recomputation.
    pub responses: u64,
    /// How long reading both sets of tallies took.
    pub elapsed: std::time::Duration,
    /// Where the live tallies differ from the recomputation; empty when they agree.
    pub differences: Vec<String>,
}

impl TallyCheck {
    /// True when the live tallies equal the recomputation cell for cell.
    pub fn agrees(&self) -> bool {
        self.differences.is_empty()
    }

    /// The check as recorded in the audit log: responses, milliseconds, differing cells.
    pub fn audit_json(&self) -> serde_json::Value {
        serde_json::json!({
            "responses": self.responses,
            "elapsed_ms": u64::try_from(self.elapsed.as_millis()).unwrap_or(u64::MAX),
            "differences": self.differences.len(),
        })
    }
}

/// Recomputes a round's tallies from the raw answers and compares them with the live
/// tallies: the one check behind both `khaosat compute` and the round page's Compute action.
pub fn verify_tallies(conn: &mut AnyConnection, round_id: i64) -> Result<TallyCheck, AppError> {
    let started = std::time::Instant::now();
    let recomputed = recompute_tallies(conn, round_id)?;
    let live = live_tallies(conn, round_id)?;
    let elapsed = started.elapsed();
    let differences = tally_differences(&live, &recomputed);
    let responses = recomputed.values().map(|t| t.responses).sum();
    Ok(TallyCheck {
        recomputed,
        responses,
        elapsed,
        differences,
    })
}

/// One unit's scores.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct UnitScores {
    /// Unit code.
    pub unit: String,
    /// Vietnamese name.
    pub name_vi: String,
    /// English name.
    pub name_en: String,
    /// Region code.
    pub region: String,
    /// Points groups (leaders, civil servants).
    pub groups: Vec<GroupScore>,
    /// SIPAS, when the round has a citizen group.
    pub sipas: Option<SipasScore>,
    /// The survey part of the index (or the full index); without a total when incomplete.
    pub index: IndexScore,
    /// Counted responses keyed in from paper forms (a count per unit, never per respondent);
    /// `None` in snapshots published before the count was kept.
    #[serde(default)]
    pub paper_responses: Option<u64>,
}

impl UnitScores {
    /// The index total (of 100, appraised points included): `None` unless the unit's
    /// appraised points are imported and every input has a value. The survey part alone is
    /// `index.survey_points`.
    pub fn index_total(&self) -> Option<f64> {
        self.index.total_points.filter(|_| self.index.full_index)
    }
}

/// Everything computed for a round.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RoundScores {
    /// Round id.
    pub round_id: i64,
    /// The methodologies used: code and version.
    pub methodologies: Vec<(String, u32)>,
    /// The instruments answered: code and version.
    pub instruments: Vec<(String, u32)>,
    /// Units in code order.
    pub units: Vec<UnitScores>,
    /// Rankings of the index and its components.
    pub rankings: Rankings,
    /// Bootstrap intervals and rank support per unit (computed when publishing).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uncertainty: Option<BTreeMap<String, UnitUncertainty>>,
    /// The national figure of each points group and of SIPAS, formed as the group's
    /// methodology says (`[aggregate] national`). Empty in snapshots published before it was
    /// kept; readers then take the mean of the units.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub national: Vec<NationalFigure>,
}

/// A group's national figure.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NationalFigure {
    /// Group code (a points group or the SIPAS group).
    pub group: String,
    /// How it was formed: the mean of the units that have a score, or every respondent
    /// pooled into one tally.
    pub rule: NationalAggregate,
    /// Units with a score in this group: the n of "n of N".
    pub units_with_value: usize,
    /// Responses in all units.
    pub responses: u64,
    /// Points (SIPAS: index points); `None` without data.
    pub points: Option<f64>,
    /// Percent (SIPAS: the headline percent); `None` without data.
    pub percent: Option<f64>,
}

impl RoundScores {
    /// Whether the round composes the full index: some unit has appraised points.
    pub fn full_index(&self) -> bool {
        self.units.iter().any(|u| u.index.full_index)
    }

    /// Where a unit of this round stands: ranked, or why not (see [`scoring::standing`]).
    pub fn standing(&self, unit: &UnitScores) -> scoring::Standing {
        scoring::standing(&unit.index, self.full_index())
    }

    /// A unit's total in the measure this round ranks on (the index total of 100 when the
    /// round composes the full index, else the survey part): points and percent, `None` when
    /// the unit has no total in that measure. Means, regions and charts use this, so a survey
    /// part of 32 is never averaged with totals of 100.
    pub fn round_total(&self, unit: &UnitScores) -> (Option<f64>, Option<f64>) {
        if unit.index.full_index == self.full_index() {
            (unit.index.total_points, unit.index.percent)
        } else {
            (None, None)
        }
    }

    /// The national figure of a group, when it was computed.
    pub fn national(&self, group: &str) -> Option<&NationalFigure> {
        self.national.iter().find(|p| p.group == group)
    }

    /// Units in national rank order (unranked last), each with its ranking entry.
    pub fn by_rank(&self) -> Vec<(&UnitScores, Option<&scoring::Ranked>)> {
        let ranks: BTreeMap<&str, &scoring::Ranked> = self
            .rankings
            .total
            .iter()
            .map(|r| (r.unit.as_str(), r))
            .collect();
        let mut rows: Vec<(&UnitScores, Option<&scoring::Ranked>)> = self
            .units
            .iter()
            .map(|u| (u, ranks.get(u.unit.as_str()).copied()))
            .collect();
        rows.sort_by_key(|(_, r)| r.and_then(|r| r.national).map_or(u32::MAX, |p| p.rank));
        rows
    }
}

/// Scores a round from tallies with its configured methodologies.
pub fn compute(
    conn: &mut AnyConnection,
    round_id: i64,
    tallies: &Tallies,
) -> Result<RoundScores, AppError> {
    let groups = db::rounds::groups(conn, round_id)?;
    let units = db::rounds::units(conn, round_id)?;
    let mut methodologies: BTreeMap<i64, Methodology> = BTreeMap::new();
    let mut instruments = Vec::new();
    for g in &groups {
        if let std::collections::btree_map::Entry::Vacant(slot) =
            methodologies.entry(g.methodology_id)
        {
            let stored =
                catalog::load_methodology(conn, g.methodology_id)?.ok_or(AppError::NotFound)?;
            slot.insert(stored.methodology);
        }
        instruments.push((
            g.instrument_code.clone(),
            u32::try_from(g.instrument_version).unwrap_or(0),
        ));
    }
    // The index is composed with the methodology that has components (the PAR one); a SIPAS
    // methodology contributes through its linked index.
    let main = methodologies
        .values()
        .find(|m| !m.components.is_empty())
        .ok_or_else(|| AppError::BadRequest("scores.no_main_methodology"))?
        .clone();
    // A unit with appraised points is composed into the full index (a component it lacks
    // leaves it incomplete); a unit without stays survey-only, and is then not ranked against
    // the full-index totals (see `scoring::standing`).
    let appraised_rows = db::appraised::of_round(conn, round_id)?;
    let appraised: Option<BTreeMap<i64, BTreeMap<String, f64>>> = (!appraised_rows.is_empty())
        .then(|| {
            let mut by_unit: BTreeMap<i64, BTreeMap<String, f64>> = BTreeMap::new();
            for (unit, component, points) in appraised_rows {
                by_unit.entry(unit).or_default().insert(component, points);
            }
            by_unit
        });
    let paper: BTreeMap<i64, i64> = db::paper::counted_per_unit(conn, round_id)?
        .into_iter()
        .collect();
    let empty = Tally::default();
    let mut unit_scores = Vec::with_capacity(units.len());
    for unit in &units {
        let mut group_scores = Vec::new();
        let mut sipas = None;
        for g in &groups {
            let Some(m) = methodologies.get(&g.methodology_id) else {
                continue;
            };
            let tally = tallies.get(&(unit.id, g.group_id)).unwrap_or(&empty);
            if m.group(&g.group_code).is_some() {
                group_scores.push(
                    scoring::score_group(m, &g.group_code, tally)
                        .map_err(|e| AppError::internal(anyhow::anyhow!("{e}")))?,
                );
            } else if m.sipas.as_ref().is_some_and(|s| s.group == g.group_code) {
                sipas = Some(
                    scoring::score_sipas(m, tally)
                        .map_err(|e| AppError::internal(anyhow::anyhow!("{e}")))?,
                );
            }
        }
        // SIPAS points go to the linked index its methodology names; SIPAS without a score
        // is left out, never passed as 0: the unit is then incomplete.
        let mut linked = BTreeMap::new();
        if let Some(score) = &sipas
            && let Some(points) = score.index_points
            && let Some(link) = sipas_link(&methodologies, score)
            && main.linked_indices.iter().any(|l| l.code == link)
        {
            linked.insert(link.to_owned(), points);
        }
        let counted: Vec<GroupScore> = group_scores
            .iter()
            .filter(|g| g.methodology == main.code && g.methodology_version == main.version)
            .cloned()
            .collect();
        let unit_appraised = appraised.as_ref().and_then(|a| a.get(&unit.id));
        let index = scoring::compose_index(&main, &counted, &linked, unit_appraised)
            .map_err(|e| AppError::internal(anyhow::anyhow!("{e}")))?;
        unit_scores.push(UnitScores {
            unit: unit.code.clone(),
            name_vi: unit.name_vi.clone(),
            name_en: unit.name_en.clone(),
            region: unit.region_code.clone().unwrap_or_default(),
            groups: group_scores,
            sipas,
            index,
            paper_responses: Some(
                paper
                    .get(&unit.id)
                    .map_or(0, |n| u64::try_from(*n).unwrap_or(0)),
            ),
        });
    }
    let ranked: Vec<UnitIndex> = unit_scores
        .iter()
        .map(|u| UnitIndex {
            unit: u.unit.clone(),
            region: u.region.clone(),
            index: u.index.clone(),
        })
        .collect();
    let rankings = scoring::rank_units(&main, &ranked);
    let national = national_figures(&groups, &methodologies, tallies, &unit_scores)?;
    Ok(RoundScores {
        round_id,
        methodologies: methodologies
            .values()
            .map(|m| (m.code.clone(), m.version))
            .collect(),
        instruments,
        units: unit_scores,
        rankings,
        uncertainty: None,
        national,
    })
}

/// The linked-index code a SIPAS score's methodology sends its points to.
fn sipas_link<'a>(
    methodologies: &'a BTreeMap<i64, Methodology>,
    score: &SipasScore,
) -> Option<&'a str> {
    methodologies
        .values()
        .find(|m| m.code == score.methodology && m.version == score.methodology_version)
        .and_then(|m| m.sipas.as_ref())
        .map(|s| s.linked_index.as_str())
}

/// The national figure of every group of the round, as its methodology's `[aggregate]
/// national` says: the mean of the units that have a score (a unit without one is never
/// averaged in as 0), or the group scored once over every respondent (the tallies of all
/// units merged).
fn national_figures(
    groups: &[db::rounds::RoundGroupRow],
    methodologies: &BTreeMap<i64, Methodology>,
    tallies: &Tallies,
    units: &[UnitScores],
) -> Result<Vec<NationalFigure>, AppError> {
    let fail = |e: scoring::ScoringError| AppError::internal(anyhow::anyhow!("{e}"));
    let mut out = Vec::new();
    for g in groups {
        let Some(m) = methodologies.get(&g.methodology_id) else {
            continue;
        };
        // Each unit's (points, percent) in this group, `None` where it has no score.
        let per_unit: Vec<(Option<f64>, Option<f64>)> = if m.group(&g.group_code).is_some() {
            units
                .iter()
                .filter_map(|u| u.groups.iter().find(|x| x.group == g.group_code))
                .map(|x| (x.points, x.percent))
                .collect()
        } else if m.sipas.as_ref().is_some_and(|s| s.group == g.group_code) {
            units
                .iter()
                .filter_map(|u| u.sipas.as_ref())
                .map(|x| (x.index_points, x.overall_percent))
                .collect()
        } else {
            continue;
        };
        let units_with_value = per_unit.iter().filter(|(_, p)| p.is_some()).count();
        let responses = tallies
            .iter()
            .filter(|((_, group), _)| *group == g.group_id)
            .map(|(_, t)| t.responses)
            .sum();
        let mut pooled = Tally::default();
        if m.aggregate.national == NationalAggregate::Pooled {
            for ((_, group), tally) in tallies {
                if *group == g.group_id {
                    pooled.merge(tally);
                }
            }
        }
        let (points, percent) =
            scoring::national_figure(m, &g.group_code, &per_unit, &pooled).map_err(fail)?;
        out.push(NationalFigure {
            group: g.group_code.clone(),
            rule: m.aggregate.national,
            units_with_value,
            responses,
            points,
            percent,
        });
    }
    Ok(out)
}

/// A published snapshot as stored.
#[derive(Debug, Clone)]
pub struct Snapshot {
    /// Version within the round (1, 2, …).
    pub version: i32,
    /// SHA-256 over the inputs: methodology and instrument content hashes and the tallies.
    pub inputs_hash: String,
    /// The scores as JSON, exactly as published.
    pub payload: String,
    /// SHA-256 of `payload`.
    pub payload_hash: String,
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The hash over everything the scores depend on.
pub fn inputs_hash(
    conn: &mut AnyConnection,
    round_id: i64,
    tallies: &Tallies,
) -> Result<String, AppError> {
    let mut hasher = Sha256::new();
    for g in db::rounds::groups(conn, round_id)? {
        let i = catalog::load_instrument(conn, g.instrument_id)?.ok_or(AppError::NotFound)?;
        let m = catalog::load_methodology(conn, g.methodology_id)?.ok_or(AppError::NotFound)?;
        hasher.update(format!(
            "{}:{}:{}\n",
            g.group_code, i.summary.content_hash, m.summary.content_hash
        ));
    }
    let tallies_json =
        serde_json::to_string(&tallies.iter().collect::<Vec<_>>()).map_err(AppError::internal)?;
    hasher.update(tallies_json.as_bytes());
    Ok(hex::encode(hasher.finalize()))
}

/// Publishes the round's scores recomputed from the raw answers as a new immutable snapshot
/// version, and returns it.
pub fn publish(
    conn: &mut AnyConnection,
    round_id: i64,
    actor_user_id: Option<i64>,
    actor: &str,
) -> Result<Snapshot, AppError> {
    db::write_transaction(conn, |conn| {
        let tallies = recompute_tallies(conn, round_id)?;
        let mut scores = compute(conn, round_id, &tallies)?;
        scores.uncertainty = Some(uncertainty(conn, round_id, &scores)?);
        let payload = serde_json::to_string(&scores).map_err(AppError::internal)?;
        let payload_hash = sha256_hex(payload.as_bytes());
        let inputs = inputs_hash(conn, round_id, &tallies)?;
        let version = db::snapshots::next_version(conn, round_id)?;
        db::snapshots::insert(
            conn,
            round_id,
            version,
            &inputs,
            &payload,
            &payload_hash,
            actor_user_id,
            db::now(),
        )?;
        record(
            conn,
            &AuditEntry {
                actor_user_id,
                actor,
                action: "round:publish",
                entity: "round",
                entity_id: Some(round_id.to_string()),
                old_value: None,
                new_value: Some(serde_json::json!({ "snapshot": version, "inputs_hash": inputs, "payload_hash": payload_hash }).to_string()),
            },
        )?;
        Ok(Snapshot {
            version,
            inputs_hash: inputs,
            payload,
            payload_hash,
        })
    })
}

/// Reads a published snapshot back and checks its hash.
pub fn read_snapshot(
    conn: &mut AnyConnection,
    round_id: i64,
    version: i32,
) -> Result<Option<(Snapshot, bool)>, AppError> {
    let Some(row) = db::snapshots::get(conn, round_id, version)? else {
        return Ok(None);
    };
    let verified = sha256_hex(row.payload.as_bytes()) == row.payload_hash;
    Ok(Some((
        Snapshot {
            version: row.version,
            inputs_hash: row.inputs_hash,
            payload: row.payload,
            payload_hash: row.payload_hash,
        },
        verified,
    )))
}

/// Imports appraised points from CSV (`unit,component,points`, UTF-8, header required) for a
/// round: every row is checked (unknown unit or component, a number outside 0 to the
/// component's appraised maximum, duplicates) and a file with any bad row changes nothing.
pub fn import_appraised(
    conn: &mut AnyConnection,
    round_id: i64,
    file_name: &str,
    bytes: &[u8],
    actor_user_id: Option<i64>,
    actor: &str,
) -> Result<Result<usize, Vec<String>>, AppError> {
    let text = match std::str::from_utf8(bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes)) {
        Ok(text) => text,
        Err(e) => {
            return Ok(Err(vec![format!(
                "{file_name}: the file is not UTF-8 (byte {}); save it as 'CSV UTF-8'",
                e.valid_up_to()
            )]));
        }
    };
    let units: BTreeMap<String, i64> = db::rounds::units(conn, round_id)?
        .into_iter()
        .map(|u| (u.code, u.id))
        .collect();
    let main = match main_methodology(conn, round_id) {
        Ok(m) => m,
        Err(AppError::BadRequest(_)) => {
            return Ok(Err(vec![format!(
                "{file_name}: the round has no methodology with components"
            )]));
        }
        Err(e) => return Err(e),
    };
    let mut errors = Vec::new();
    let mut rows = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .from_reader(text.as_bytes());
    let header_ok = reader
        .headers()
        .map(|h| h.iter().map(str::trim).collect::<Vec<_>>() == ["unit", "component", "points"])
        .unwrap_or(false);
    if !header_ok {
        return Ok(Err(vec![format!(
            "{file_name} row 1: the header must be unit,component,points"
        )]));
    }
    for (i, record) in reader.records().enumerate() {
        let row = i + 2;
        let Ok(record) = record else {
            errors.push(format!("{file_name} row {row}: not a CSV row"));
            continue;
        };
        let cell = |n: usize| record.get(n).unwrap_or("").trim();
        let (unit, component, points) = (cell(0), cell(1), cell(2));
        let Some(&unit_id) = units.get(unit) else {
            errors.push(format!(
                "{file_name} row {row}, column unit: '{unit}' is not a unit of this round"
            ));
            continue;
        };
        let Some(comp) = main.component(component) else {
            errors.push(format!(
                "{file_name} row {row}, column component: '{component}' is not a component of {}",
                main.code
            ));
            continue;
        };
        let limit = comp.max_points - comp.survey_points.unwrap_or(0.0);
        match points.replace(',', ".").parse::<f64>() {
            Ok(p) if p.is_finite() && (0.0..=limit + 1e-9).contains(&p) => {
                if seen.insert((unit_id, component.to_owned())) {
                    rows.push((unit_id, component.to_owned(), p));
                } else {
                    errors.push(format!(
                        "{file_name} row {row}: {unit} {component} appears twice"
                    ));
                }
            }
            _ => errors.push(format!(
                "{file_name} row {row}, column points: '{points}' is not a number from 0 to {limit}"
            )),
        }
    }
    if !errors.is_empty() {
        return Ok(Err(errors));
    }
    db::write_transaction(conn, |conn| {
        // Checked inside the write transaction, so a publish cannot slip in between. A
        // published round's figures are a public record: the points behind them change only
        // after Compute moves it back to "computed", and reach the public with a new version.
        let round = db::rounds::by_id(conn, round_id)?.ok_or(AppError::NotFound)?;
        if round.status == crate::domain::lifecycle::RoundStatus::Published {
            return Ok(Err(vec![format!(
                "{file_name}: round {round_id} is published, and its published figures do not change. \
                 Run Compute (the published version stays public), import the corrected points, \
                 then publish a new version."
            )]));
        }
        let n = db::appraised::replace(conn, round_id, &rows)?;
        record(
            conn,
            &AuditEntry {
                actor_user_id,
                actor,
                action: "round:import_appraised",
                entity: "round",
                entity_id: Some(round_id.to_string()),
                old_value: None,
                new_value: Some(serde_json::json!({ "file": file_name, "rows": n }).to_string()),
            },
        )?;
        Ok(Ok(n))
    })
}

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

/// Bootstrap replicates for published intervals: enough for stable 95 % percentiles of unit
/// scores, cheap enough to run at every publication.
pub const BOOTSTRAP_REPLICATES: u32 = 500;

/// Uncertainty of one unit's group scores.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct UnitUncertainty {
    /// 95 % interval of the leaders' points.
    pub leader_points: Option<crate::domain::bootstrap::Interval>,
    /// 95 % interval of the SIPAS overall percentage.
    pub sipas_percent: Option<crate::domain::bootstrap::Interval>,
    /// False when the neighbours' leader points lie inside this unit's interval, i.e. the data
    /// do not support its place in the leader ranking; absent for units that are not ranked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub leader_rank_supported: Option<bool>,
}

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
