//! Tallies per unit × group: the live counts kept at submission, the same counts recomputed
//! from the raw answers, and the check that both agree before a round is computed.

use crate::db::{self, AnyConnection};
use crate::domain::answers::{Answers, for_each_choice, tally_cells};
use crate::domain::scoring::Tally;
use crate::error::AppError;
use std::collections::BTreeMap;

/// Counts a response into the live tallies (inside the caller's submit transaction).
pub fn add_to_tallies(
    conn: &mut AnyConnection,
    round_id: i64,
    unit_id: i64,
    group_id: i64,
    answers: &Answers,
) -> Result<(), AppError> {
    Ok(add_counted(
        conn,
        (round_id, unit_id, group_id),
        1,
        tally_cells(answers).into_iter().map(|cell| (cell, 1)),
    )?)
}

/// Adds `responses` to the live count of a (round, unit, group) and each `((item, value), n)`
/// to its tally cell, in one statement for all the cells: the one way a submission, a bulk
/// load (demo, field import) or an exclusion (negative counts) changes the live tallies.
/// Cells are summed and sorted first, so each appears once and every transaction takes the
/// same rows in the same order.
pub fn add_counted<'a>(
    conn: &mut AnyConnection,
    key: (i64, i64, i64),
    responses: i64,
    cells: impl IntoIterator<Item = ((&'a str, &'a str), i64)>,
) -> diesel::QueryResult<()> {
    db::responses::add_many_to_count(conn, key, responses)?;
    let mut summed: BTreeMap<(&str, &str), i64> = BTreeMap::new();
    for (cell, n) in cells {
        *summed.entry(cell).or_default() += n;
    }
    let cells: Vec<(&str, &str, i64)> = summed
        .into_iter()
        .map(|((item, value), n)| (item, value, n))
        .collect();
    db::responses::add_cells_to_tally(conn, key, &cells)?;
    Ok(())
}

/// Tallies keyed by (unit id, group id).
pub type Tallies = BTreeMap<(i64, i64), Tally>;

/// The live tallies, as the submit transactions left them (cost independent of responses).
pub fn live_tallies(conn: &mut AnyConnection, round_id: i64) -> Result<Tallies, AppError> {
    let mut out = Tallies::new();
    for (unit, group, responses) in db::coverage::completed(conn, round_id)? {
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
