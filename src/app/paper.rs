//! Paper questionnaires keyed in by staff, with the same validation as the web form. With
//! double entry, a second person keys the same form and the response counts only when both
//! keyings agree; differences are listed for resolution by re-keying. Who may key how is the
//! `key_paper` / `key_paper_single` rows of [`lifecycle::PERMISSIONS`]; the two keyings of a
//! form must come from two different accounts, and every keying is audited without its answers.

use crate::app::auth::viewer::own_units;
use crate::db::audit::{AuditEntry, record};
use crate::db::paper::NewPaperEntry;
use crate::db::responses::NewResponse;
use crate::db::rounds::{RoundGroupRow, RoundRow};
use crate::db::units::UnitRow;
use crate::db::{self, AnyConnection};
use crate::domain::account::Role;
use crate::domain::answers::{Answers, FieldError};
use crate::domain::instrument::Instrument;
use crate::domain::lifecycle::{RoundAction, RoundStatus};
use crate::domain::paper_form::PaperEntryStatus;
use crate::error::AppError;

/// How a form is keyed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryMode {
    /// One keying that counts at once.
    Single,
    /// The first keying of a double entry.
    First,
    /// The second keying of a double entry.
    Second,
}

impl EntryMode {
    /// Every mode, in the order the form offers them.
    pub const ALL: [EntryMode; 3] = [EntryMode::Single, EntryMode::First, EntryMode::Second];

    /// Reads the form value (`single`, `1`, `2`).
    pub fn parse(raw: &str) -> Result<Self, AppError> {
        Self::ALL
            .into_iter()
            .find(|m| m.code() == raw)
            .ok_or(AppError::BadRequest("paper.entry_invalid"))
    }

    /// The form value.
    pub fn code(self) -> &'static str {
        match self {
            EntryMode::Single => "single",
            EntryMode::First => "1",
            EntryMode::Second => "2",
        }
    }

    /// The keying number stored (a single entry is keying 1).
    fn entry_no(self) -> i32 {
        match self {
            EntryMode::Single | EntryMode::First => 1,
            EntryMode::Second => 2,
        }
    }

    /// The permission this mode needs.
    fn permission(self) -> RoundAction {
        match self {
            EntryMode::Single => RoundAction::KeyPaperSingle,
            EntryMode::First | EntryMode::Second => RoundAction::KeyPaper,
        }
    }

    /// Whether an account with `role` may key this way.
    pub fn allowed_for(self, role: Role) -> bool {
        self.permission().allowed_for(role)
    }

    /// The modes `role` may use, in form order.
    pub fn for_role(role: Role) -> Vec<EntryMode> {
        Self::ALL
            .into_iter()
            .filter(|m| m.allowed_for(role))
            .collect()
    }
}

/// Who keys a form: the account and what the audit log calls it.
#[derive(Debug, Clone, Copy)]
pub struct Keyer<'a> {
    /// The account.
    pub user_id: i64,
    /// Its role.
    pub role: Role,
    /// Its e-mail, for the audit log.
    pub label: &'a str,
}

/// The paper page's frame for `keyer`: the round, the units they may key for (a coordinator's
/// own units, everything for an administrator) and the round's groups. Refused to accounts
/// that may not key paper forms at all.
pub fn keying_scope(
    conn: &mut AnyConnection,
    round_id: i64,
    keyer: Keyer<'_>,
) -> Result<(RoundRow, Vec<UnitRow>, Vec<RoundGroupRow>), AppError> {
    if EntryMode::for_role(keyer.role).is_empty() {
        return Err(AppError::Forbidden);
    }
    let round = db::rounds::by_id(conn, round_id)?.ok_or(AppError::NotFound)?;
    let mut units = db::rounds::units(conn, round_id)?;
    if let Some(mine) = own_units(conn, keyer.role, Some(keyer.user_id))? {
        units.retain(|u| mine.contains(&u.id));
    }
    Ok((round, units, db::rounds::groups(conn, round_id)?))
}

/// The keyed forms of a round in `units` (a keyer's scope), each with the answer codes on
/// which it differs from the first keying of its form. Differences are listed on the second
/// keying of a double entry whose two keyings disagree, the row an operator reconciles.
pub fn entries_in_scope(
    conn: &mut AnyConnection,
    round_id: i64,
    units: &[UnitRow],
) -> Result<Vec<(db::paper::PaperEntry, Vec<String>)>, AppError> {
    let entries: Vec<db::paper::PaperEntry> = db::paper::of_round(conn, round_id)?
        .into_iter()
        .filter(|e| units.iter().any(|u| u.id == e.unit_id))
        .collect();
    let shown = entries
        .iter()
        .map(|entry| {
            let first = (entry.status == PaperEntryStatus::Mismatch && entry.entry_no == 2)
                .then(|| {
                    entries
                        .iter()
                        .find(|e| e.entry_no == 1 && e.batch_ref == entry.batch_ref)
                })
                .flatten();
            let diff = first.map_or_else(Vec::new, |first| {
                differences(
                    &Answers::from_json(&first.answers).unwrap_or_default(),
                    &Answers::from_json(&entry.answers).unwrap_or_default(),
                )
            });
            (entry.clone(), diff)
        })
        .collect();
    Ok(shown)
}

/// Checks that `keyer` may key a form of `unit` in `mode` (among `units`, their scope).
pub fn check_keying(
    keyer: Keyer<'_>,
    units: &[UnitRow],
    unit: i64,
    mode: EntryMode,
) -> Result<(), AppError> {
    if !units.iter().any(|u| u.id == unit) || !mode.allowed_for(keyer.role) {
        return Err(AppError::Forbidden);
    }
    Ok(())
}

/// Decodes a whole keyed form: every section in order, each seeing the answers before it
/// (see [`crate::domain::answers::decode_form`], which field submissions share).
pub fn decode_form(
    instrument: &Instrument,
    fields: &[(String, String)],
) -> (Answers, Vec<FieldError>) {
    crate::domain::answers::decode_form(instrument, fields)
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
    /// Single entry, or which keying of a double entry.
    pub mode: EntryMode,
    /// The keyer.
    pub keyer: Keyer<'a>,
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

impl KeyingOutcome {
    /// The short code used in redirects and the audit log.
    pub fn code(&self) -> &'static str {
        match self {
            KeyingOutcome::Accepted => "accepted",
            KeyingOutcome::Waiting => "waiting",
            KeyingOutcome::Mismatch(_) => "mismatch",
            KeyingOutcome::AlreadyAccepted => "already",
        }
    }
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
/// tallies, in one transaction. A keying needs its mode's permission; the second keying of a
/// double entry must come from another account than the first. Every keying is audited (who,
/// unit, form number, keying, outcome; never the answers).
pub fn store_keying(
    conn: &mut AnyConnection,
    keying: &Keying<'_>,
    answers: &Answers,
) -> Result<KeyingOutcome, AppError> {
    let form_ref = keying.form_ref.trim();
    if form_ref.is_empty() || form_ref.chars().count() > 64 {
        return Err(AppError::BadRequest("paper.ref_invalid"));
    }
    if !keying.mode.allowed_for(keying.keyer.role) {
        return Err(AppError::Forbidden);
    }
    let entry_no = keying.mode.entry_no();
    db::write_transaction(conn, |conn| {
        let round = db::rounds::by_id(conn, keying.round_id)?.ok_or(AppError::NotFound)?;
        if round.status != RoundStatus::Open {
            return Err(AppError::BadRequest("paper.round_not_open"));
        }
        let existing = db::paper::of_form(conn, keying.round_id, form_ref)?;
        if existing
            .iter()
            .any(|e| e.status == PaperEntryStatus::Accepted)
        {
            audit_keying(conn, keying, form_ref, &KeyingOutcome::AlreadyAccepted)?;
            return Ok(KeyingOutcome::AlreadyAccepted);
        }
        if existing
            .iter()
            .any(|e| e.unit_id != keying.unit_id || e.group_id != keying.group_id)
        {
            return Err(AppError::BadRequest("paper.other_unit"));
        }
        let other = match keying.mode {
            EntryMode::Single => None,
            EntryMode::First | EntryMode::Second => {
                existing.iter().find(|e| e.entry_no == 3 - entry_no)
            }
        };
        // Two keyings by one account check nothing: the point of double entry is a second
        // pair of eyes.
        if other.is_some_and(|o| o.entered_by_id == keying.keyer.user_id) {
            return Err(AppError::BadRequest("paper.same_keyer"));
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
                entry_no,
                entered_by: keying.keyer.user_id,
                answers: &json,
                status: PaperEntryStatus::Pending.code(),
                created_at: db::now(),
            },
        )?;
        let outcome = match (keying.mode, other) {
            (EntryMode::Single, _) => KeyingOutcome::Accepted,
            (_, None) => KeyingOutcome::Waiting,
            (_, Some(other)) => {
                let other_answers = Answers::from_json(&other.answers).unwrap_or_default();
                let diff = differences(answers, &other_answers);
                if diff.is_empty() {
                    KeyingOutcome::Accepted
                } else {
                    KeyingOutcome::Mismatch(diff)
                }
            }
        };
        match &outcome {
            KeyingOutcome::Accepted => {
                db::paper::set_status(conn, keying.round_id, form_ref, PaperEntryStatus::Accepted)?;
                store_paper_response(conn, keying, &json, answers)?;
            }
            KeyingOutcome::Mismatch(_) => {
                db::paper::set_status(conn, keying.round_id, form_ref, PaperEntryStatus::Mismatch)?;
            }
            _ => {}
        }
        audit_keying(conn, keying, form_ref, &outcome)?;
        Ok(outcome)
    })
}

/// The audit row of one keying: who (the entry's actor), when (its time), which unit, group and
/// form number, which keying and what it led to. The answers are never written here: the log
/// is read by administrators who must not see what a respondent answered.
fn audit_keying(
    conn: &mut AnyConnection,
    keying: &Keying<'_>,
    form_ref: &str,
    outcome: &KeyingOutcome,
) -> Result<(), AppError> {
    let unit = db::units::codes_of(conn, &[keying.unit_id])?
        .into_iter()
        .next()
        .unwrap_or_default();
    record(
        conn,
        &AuditEntry::new(
            Some(keying.keyer.user_id),
            keying.keyer.label,
            "paper:key",
            "round",
            keying.round_id,
        )
        .after(serde_json::json!({
            "unit": unit,
            "unit_id": keying.unit_id,
            "group_id": keying.group_id,
            "form_ref": form_ref,
            "entry": keying.mode.code(),
            "outcome": outcome.code(),
        })),
    )?;
    Ok(())
}

fn store_paper_response(
    conn: &mut AnyConnection,
    keying: &Keying<'_>,
    json: &str,
    answers: &Answers,
) -> Result<(), AppError> {
    let receipt = crate::domain::access_code::AccessCode::generate().to_string();
    // A paper response has no submission key of its own; a random one keeps the column unique.
    let key = crate::app::auth::tokens::hash_token(&crate::app::auth::tokens::random_token());
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
    crate::app::scores::add_to_tallies(
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
