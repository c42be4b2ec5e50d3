//! Paper questionnaires keyed in by staff, with the same validation as the web form. With
//! double entry, a second person keys the same form and the response counts only when both
//! keyings agree; differences are listed for resolution by re-keying.

use crate::db::paper::NewPaperEntry;
use crate::db::responses::NewResponse;
use crate::db::{self, AnyConnection};
use crate::domain::answers::{
    Answers, FieldError, decode_section, missing_required, prune_irrelevant,
};
use crate::domain::instrument::Instrument;
use crate::domain::lifecycle::{self, RoundStatus};
use crate::error::AppError;

/// Decodes a whole keyed form: every section in order, each seeing the answers before it.
pub fn decode_form(
    instrument: &Instrument,
    fields: &[(String, String)],
) -> (Answers, Vec<FieldError>) {
    let mut answers = Answers::new();
    let mut errors = Vec::new();
    for section in instrument.sections() {
        let decoded = decode_section(section, fields, &answers);
        answers.merge(&decoded.answers);
        errors.extend(decoded.errors);
    }
    prune_irrelevant(instrument, &mut answers);
    if errors.is_empty() {
        errors = missing_required(instrument, &answers);
    }
    (answers, errors)
}

/// Which form was keyed, by whom, how.
#[derive(Debug, Clone)]
pub struct Keying<'a> {
    /// Round.
    pub round_id: i64,
    /// Unit.
    pub unit_id: i64,
    /// Group.
    pub group_id: i64,
    /// Instrument version of the group.
    pub instrument_id: i64,
    /// The number written on the form.
    pub form_ref: &'a str,
    /// 1 or 2.
    pub entry_no: i32,
    /// Whether a second keying must agree before the response counts.
    pub double_entry: bool,
    /// The keyer.
    pub user_id: i64,
}

/// What storing a keying led to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyingOutcome {
    /// The response counts now (single entry, or both keyings agree).
    Accepted,
    /// Waiting for the other keying.
    Waiting,
    /// The two keyings differ in these answer codes.
    Mismatch(Vec<String>),
    /// This form was accepted already; nothing changed.
    AlreadyAccepted,
}

/// The answer codes on which two keyings differ.
pub fn differences(a: &Answers, b: &Answers) -> Vec<String> {
    let mut codes: Vec<String> = a
        .iter()
        .map(|(k, _)| k.clone())
        .chain(b.iter().map(|(k, _)| k.clone()))
        .collect();
    codes.sort();
    codes.dedup();
    codes.into_iter().filter(|c| a.get(c) != b.get(c)).collect()
}

/// Stores a keying and, when it completes the form, the response (source `paper`) and its
/// tallies, in one transaction.
pub fn store_keying(
    conn: &mut AnyConnection,
    keying: &Keying<'_>,
    answers: &Answers,
) -> Result<KeyingOutcome, AppError> {
    let form_ref = keying.form_ref.trim();
    if form_ref.is_empty() || form_ref.chars().count() > 64 {
        return Err(AppError::BadRequest("paper.ref_invalid"));
    }
    if !(1..=2).contains(&keying.entry_no) || (!keying.double_entry && keying.entry_no != 1) {
        return Err(AppError::BadRequest("paper.entry_invalid"));
    }
    db::write_transaction(conn, |conn| {
        let round = db::rounds::by_id(conn, keying.round_id)?.ok_or(AppError::NotFound)?;
        let status = lifecycle::parse_status(&round.status).unwrap_or(RoundStatus::Draft);
        if status != RoundStatus::Open {
            return Err(AppError::BadRequest("paper.round_not_open"));
        }
        let existing = db::paper::of_form(conn, keying.round_id, form_ref)?;
        if existing.iter().any(|e| e.status == "accepted") {
            return Ok(KeyingOutcome::AlreadyAccepted);
        }
        if existing
            .iter()
            .any(|e| e.unit_id != keying.unit_id || e.group_id != keying.group_id)
        {
            return Err(AppError::BadRequest("paper.other_unit"));
        }
        let json = answers.to_json();
        db::paper::upsert(
            conn,
            &NewPaperEntry {
                round_id: keying.round_id,
                unit_id: keying.unit_id,
                group_id: keying.group_id,
                instrument_id: keying.instrument_id,
                batch_ref: form_ref,
                entry_no: keying.entry_no,
                entered_by: keying.user_id,
                answers: &json,
                status: "pending",
                created_at: db::now(),
            },
        )?;
        let outcome = if keying.double_entry {
            let other_no = 3 - keying.entry_no;
            match existing.iter().find(|e| e.entry_no == other_no) {
                None => KeyingOutcome::Waiting,
                Some(other) => {
                    let other_answers = Answers::from_json(&other.answers).unwrap_or_default();
                    let diff = differences(answers, &other_answers);
                    if diff.is_empty() {
                        KeyingOutcome::Accepted
                    } else {
                        KeyingOutcome::Mismatch(diff)
                    }
                }
            }
        } else {
            KeyingOutcome::Accepted
        };
        match &outcome {
            KeyingOutcome::Accepted => {
                db::paper::set_status(conn, keying.round_id, form_ref, "accepted")?;
                store_paper_response(conn, keying, &json, answers)?;
            }
            KeyingOutcome::Mismatch(_) => {
                db::paper::set_status(conn, keying.round_id, form_ref, "mismatch")?;
            }
            _ => {}
        }
        Ok(outcome)
    })
}

fn store_paper_response(
    conn: &mut AnyConnection,
    keying: &Keying<'_>,
    json: &str,
    answers: &Answers,
) -> Result<(), AppError> {
    let receipt = crate::domain::access_code::AccessCode::generate().to_string();
    // A paper response has no submission key of its own; a random one keeps the column unique.
    let key = crate::auth::tokens::hash_token(&crate::auth::tokens::random_token());
    db::responses::insert(
        conn,
        &NewResponse {
            receipt: &receipt,
            submission_key: &key,
            round_id: keying.round_id,
            unit_id: keying.unit_id,
            group_id: keying.group_id,
            instrument_id: keying.instrument_id,
            submitted_on: chrono::Utc::now().date_naive(),
            source: "paper",
            duration_seconds: None,
            answers: json,
        },
    )?;
    crate::respond::add_to_tallies(
        conn,
        keying.round_id,
        keying.unit_id,
        keying.group_id,
        answers,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::answers::AnswerValue;

    #[test]
    fn differences_name_every_code_that_differs_or_is_missing_on_one_side() {
        let mut a = Answers::new();
        let mut b = Answers::new();
        a.insert("q1".into(), AnswerValue::Choice("1".into()));
        b.insert("q1".into(), AnswerValue::Choice("2".into()));
        a.insert("q2".into(), AnswerValue::Integer(3));
        b.insert("q2".into(), AnswerValue::Integer(3));
        a.insert("q3".into(), AnswerValue::Text("x".into()));
        assert_eq!(differences(&a, &b), ["q1", "q3"]);
    }
}
