//! Breakdowns below unit × group level: a group's score per unit split by the answer to a
//! categorical question (e.g. the respondent's level). These are the only aggregates finer
//! than what the Ministry publishes, so they pass through disclosure control here, in the
//! aggregation layer: the page, the CSV and the API all receive the protected table.
//!
//! A unit's row total is not this table's to hide: the unit's respondents and score in the
//! group are published on its scorecard and by the scores API. So each row total is the
//! published figure, declared known to the protection, and a unit with fewer than k
//! respondents in the group is withheld whole (not split, left out of the column totals):
//! otherwise its hidden cells, of known size and mean, could be worked out by subtraction.

use std::collections::BTreeMap;

use serde::Serialize;

use super::{RoundResults, Scope};
use crate::app::catalog;
use crate::db::{self, AnyConnection};
use crate::domain::answers::tally_cells;
use crate::domain::answers::{AnswerValue, Answers};
use crate::domain::disclosure::{self, Cell, Entry, Position, ProtectedTable, Protection, Table};
use crate::domain::instrument::{QuestionKind, Text};
use crate::domain::methodology::Methodology;
use crate::domain::scoring::{self, Tally};
use crate::error::AppError;

/// The column of respondents who left the breakdown question unanswered, so that every
/// row still adds up to the unit's published total.
pub const NO_ANSWER: &str = "_none";

/// A protected breakdown.
#[derive(Debug, Clone)]
pub struct Breakdown {
    /// Respondent group.
    pub group: String,
    /// The question the responses are split by.
    pub by: String,
    /// Its text.
    pub by_label: Text,
    /// Columns: answer value and label (the last is "no answer").
    pub categories: Vec<(String, Text)>,
    /// Rows: unit code, Vietnamese and English name (every unit in scope, withheld ones
    /// included).
    pub units: Vec<(String, String, String)>,
    /// Counts and mean percents, after suppression. Row totals are the published figures;
    /// withheld rows ([`ProtectedTable::withheld_rows`]) are hidden whole and left out of the
    /// column totals and the grand total.
    pub table: ProtectedTable,
    /// The minimum cell size k.
    pub min_n: u64,
}

/// One published number: shown with its count and mean percent, or hidden (one marker for
/// every reason, since the reason itself narrows the count).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, utoipa::ToSchema)]
pub struct PublicCell {
    /// Respondents; `None` when suppressed.
    pub n: Option<u64>,
    /// Mean percent of the group's score; `None` when suppressed or undefined. Rounded like
    /// every computed number in JSON (`export::file_number`).
    #[serde(serialize_with = "crate::app::export::serialize_file_number_opt")]
    pub percent: Option<f64>,
    /// True when hidden by disclosure control.
    pub suppressed: bool,
}

impl From<Entry> for PublicCell {
    fn from(e: Entry) -> Self {
        match e {
            Entry::Shown { n, value } => Self {
                n: Some(n),
                percent: value,
                suppressed: false,
            },
            Entry::Suppressed { .. } => Self {
                n: None,
                percent: None,
                suppressed: true,
            },
        }
    }
}

/// The categorical questions of a group's instrument a breakdown may use: (code, text).
pub fn breakdown_questions(
    conn: &mut AnyConnection,
    round_id: i64,
    group: &str,
) -> Result<Vec<(String, Text)>, AppError> {
    let Some(g) = db::rounds::groups(conn, round_id)?
        .into_iter()
        .find(|g| g.group_code == group)
    else {
        return Ok(Vec::new());
    };
    let instrument = catalog::load_instrument(conn, g.instrument_id)?
        .ok_or(AppError::NotFound)?
        .instrument;
    Ok(instrument
        .questions()
        .filter(|q| {
            matches!(
                q.kind,
                QuestionKind::Single { .. } | QuestionKind::YesNo { .. }
            )
        })
        .map(|q| (q.code.clone(), q.label.clone()))
        .collect())
}

/// What a breakdown page shows: the round's groups, the chosen group (the asked one if the
/// round has it, else the first), its categorical questions and the chosen question (likewise).
#[derive(Debug, Clone)]
pub struct Choice {
    /// The round's groups.
    pub groups: Vec<String>,
    /// The chosen group.
    pub group: String,
    /// Its categorical questions: (code, text).
    pub questions: Vec<(String, Text)>,
    /// The chosen question; empty when the group has none.
    pub by: String,
}

/// Resolves the asked group and question against the round, falling back to the first ones.
pub fn choose(
    conn: &mut AnyConnection,
    round_id: i64,
    group: Option<String>,
    by: Option<String>,
) -> Result<Choice, AppError> {
    let groups: Vec<String> = db::rounds::groups(conn, round_id)?
        .into_iter()
        .map(|g| g.group_code)
        .collect();
    let group = group
        .filter(|g| groups.contains(g))
        .or_else(|| groups.first().cloned())
        .unwrap_or_default();
    let questions = breakdown_questions(conn, round_id, &group)?;
    let by = by
        .filter(|b| questions.iter().any(|(c, _)| c == b))
        .or_else(|| questions.first().map(|(c, _)| c.clone()))
        .unwrap_or_default();
    Ok(Choice {
        groups,
        group,
        questions,
        by,
    })
}

/// All responses of some tallies as one.
fn merged<'a>(tallies: impl Iterator<Item = &'a Tally>) -> Tally {
    let mut all = Tally::default();
    for t in tallies {
        all.merge(t);
    }
    all
}

/// What the visible scores publish of a unit in a group: its respondents and its percent
/// (the SIPAS overall percent for the citizen group). `None` when the scores do not list it.
fn published_total(visible: &RoundResults, unit: &str, group: &str) -> Option<Cell> {
    let u = visible.scores.units.iter().find(|u| u.unit == unit)?;
    let (n, percent) = match u.groups.iter().find(|g| g.group == group) {
        Some(g) => (g.responses, g.percent),
        None => {
            let s = u.sipas.as_ref().filter(|s| s.group == group)?;
            (s.responses, s.overall_percent)
        }
    };
    Some(match percent {
        Some(p) if n > 0 => Cell::with_value(n, p),
        _ => Cell::count(n),
    })
}

/// The rows not split at all: those whose published total is below k (their respondents
/// would be a small group of known size and mean, see [`disclosure::protect_withholding_rows`])
/// and those whose responses no longer add up to the published total (responses excluded
/// after publishing), since a split that does not add up to the published figure would
/// reveal the difference.
pub fn withheld_rows(published: &[Option<Cell>], live: &[Cell], min_n: u64) -> Vec<bool> {
    published
        .iter()
        .zip(live)
        .map(|(published, live)| match published {
            Some(p) => (p.n > 0 && p.n < min_n) || p.n != live.n,
            None => false,
        })
        .collect()
}

/// The group's percent over the responses of one tally (points groups: percent of the
/// maximum; SIPAS: the overall percent).
fn percent(m: &Methodology, group: &str, tally: &Tally) -> Option<f64> {
    if m.group(group).is_some() {
        return scoring::score_group(m, group, tally)
            .ok()
            .and_then(|s| s.percent);
    }
    scoring::score_sipas(m, tally)
        .ok()
        .and_then(|s| s.overall_percent)
}

/// Splits the group's responses of every unit in the viewer's scope by the answer to `by`,
/// and protects the table with the methodology's k (`quality.disclosure_min_n`).
///
/// `visible` is the round's results as the viewer may see them ([`super::round_results`]):
/// the breakdown keeps to the same units, so it can show no more than they do.
pub fn breakdown(
    conn: &mut AnyConnection,
    visible: &RoundResults,
    group: &str,
    by: &str,
) -> Result<Breakdown, AppError> {
    let round_id = visible.round.id;
    let (g, instrument, m) = catalog::load_round_group(conn, round_id, group)?;
    let question = instrument
        .question(by)
        .filter(|q| {
            matches!(
                q.kind,
                QuestionKind::Single { .. } | QuestionKind::YesNo { .. }
            )
        })
        .ok_or(AppError::BadRequest("results.bad_breakdown"))?;
    let mut categories: Vec<(String, Text)> = question
        .options()
        .unwrap_or_default()
        .into_iter()
        .map(|o| (o.value, o.label))
        .collect();
    categories.push((
        NO_ANSWER.to_owned(),
        Text::new("Không trả lời", "No answer"),
    ));
    let column: BTreeMap<&str, usize> = categories
        .iter()
        .enumerate()
        .map(|(i, (v, _))| (v.as_str(), i))
        .collect();
    let no_answer_col = categories.len() - 1;

    let units: Vec<db::units::UnitRow> = db::rounds::units(conn, round_id)?
        .into_iter()
        .filter(|u| visible.scope.includes(&u.code))
        .collect();
    let row_of: BTreeMap<i64, usize> = units.iter().enumerate().map(|(i, u)| (u.id, i)).collect();
    let unit_ids: Option<Vec<i64>> =
        (visible.scope != Scope::All).then(|| units.iter().map(|u| u.id).collect());
    let mut tallies = vec![vec![Tally::default(); categories.len()]; units.len()];
    let mut after = 0;
    loop {
        let page = db::responses::page_for_export(
            conn,
            round_id,
            g.group_id,
            unit_ids.as_deref(),
            after,
            5_000,
        )?;
        let Some(last) = page.last() else { break };
        after = last.id;
        for r in &page {
            let Some(&row) = row_of.get(&r.unit_id) else {
                continue;
            };
            let answers = Answers::from_json(&r.answers).map_err(AppError::internal)?;
            let col = match answers.get(by) {
                Some(AnswerValue::Choice(v)) => {
                    column.get(v.as_str()).copied().unwrap_or(no_answer_col)
                }
                _ => no_answer_col,
            };
            let single: BTreeMap<String, String> = tally_cells(&answers)
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect();
            if let Some(t) = tallies.get_mut(row).and_then(|r| r.get_mut(col)) {
                t.add_response(&single);
            }
        }
    }
    let cell = |t: &Tally| match percent(&m, group, t).filter(|_| t.responses > 0) {
        Some(p) => Cell::with_value(t.responses, p),
        None => Cell::count(t.responses),
    };
    let min_n = visible.methodology.quality.disclosure_min_n.max(1);
    // What the scores already publish of each unit in this group: its respondents and score.
    let published: Vec<Option<Cell>> = units
        .iter()
        .map(|u| published_total(visible, &u.code, group))
        .collect();
    let live: Vec<Cell> = tallies.iter().map(|r| cell(&merged(r.iter()))).collect();
    let withheld = withheld_rows(&published, &live, min_n);
    let table = disclosure::protect_withholding_rows(&withheld, Protection::new(min_n), |kept| {
        let rows: Vec<&Vec<Tally>> = kept.iter().filter_map(|&r| tallies.get(r)).collect();
        let cells: Vec<Vec<Cell>> = rows.iter().map(|r| r.iter().map(cell).collect()).collect();
        // A unit's total is the published figure: the reader has it anyway.
        let row_totals: Vec<Cell> = kept
            .iter()
            .map(|&r| {
                published
                    .get(r)
                    .copied()
                    .flatten()
                    .or_else(|| live.get(r).copied())
                    .unwrap_or(Cell::count(0))
            })
            .collect();
        let column_totals: Vec<Cell> = (0..categories.len())
            .map(|c| cell(&merged(rows.iter().filter_map(|r| r.get(c)))))
            .collect();
        let grand = cell(&merged(rows.iter().flat_map(|r| r.iter())));
        let known: Vec<Position> = kept
            .iter()
            .enumerate()
            .filter(|&(_, &r)| published.get(r).is_some_and(Option::is_some))
            .map(|(row, _)| Position::RowTotal { row })
            .collect();
        // The grand total is the sum of published unit totals once they all are published.
        let grand_known = known.len() == kept.len();
        Table::of_width(categories.len(), cells)?
            .with_margins(row_totals, column_totals, grand)?
            .known_elsewhere(
                known
                    .into_iter()
                    .chain(grand_known.then_some(Position::GrandTotal)),
            )
    })
    .map_err(|e| AppError::internal(anyhow::anyhow!("breakdown table: {e}")))?;
    Ok(Breakdown {
        group: group.to_owned(),
        by: by.to_owned(),
        by_label: question.label.clone(),
        categories,
        units: units
            .into_iter()
            .map(|u| (u.code, u.name_vi, u.name_en))
            .collect(),
        table,
        min_n,
    })
}
