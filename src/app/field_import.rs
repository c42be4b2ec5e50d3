//! Field submissions collected offline (ODK Collect, KoboCollect) imported from the server's
//! CSV or XLSX export as responses of a round, source `field`: the one use case behind
//! `khaosat round import-submissions` and the round's field import page.
//!
//! The file is read and checked by [`crate::domain::field_submissions`] against the round's
//! questionnaires, units and groups; a file with any problem stores nothing. Each submission
//! is stored under its hashed instance ID, so importing an export again (or a later export
//! that repeats earlier submissions) stores only what is new. Responses, live tallies and the
//! audit entry are written in one transaction. Who may import is the `import_submissions` row
//! of [`crate::domain::lifecycle::PERMISSIONS`], and only into the units the importer may
//! work for; the round must be open, as for paper forms.

use std::collections::{BTreeMap, HashMap};

use crate::app::actor::Actor;
use crate::app::auth::tokens::{hash_token, random_token};
use crate::app::auth::viewer::own_units;
use crate::app::rounds::{RoundError, round_lookups};
use crate::app::scores::add_counted;
use crate::db::audit::{AuditEntry, record};
use crate::db::responses::NewResponse;
use crate::db::rounds::{RoundGroupRow, RoundRow};
use crate::db::units::UnitRow;
use crate::db::upload_previews::PreviewKind;
use crate::db::{self, AnyConnection};
use crate::domain::access_code::AccessCode;
use crate::domain::answers::tally_cells;
use crate::domain::field_submissions::{
    CheckedFile, FieldSubmission, ImportFrame, ResponseSource, check_submissions,
};
use crate::domain::instrument::Instrument;
use crate::domain::lifecycle::{RoundAction, RoundStatus};
use crate::domain::tabular::RowError;
use crate::domain::unit_match::Matcher;
use crate::error::AppError;
use crate::i18n::Localized;

type Result<T> = std::result::Result<T, RoundError>;

/// (round, unit, group): where a response counts.
type TallyKey = (i64, i64, i64);

/// Per (round, unit, group): its responses, and how often each (item, value) was answered.
type CellCounts = BTreeMap<TallyKey, (i64, BTreeMap<(String, String), i64>)>;

/// How long a previewed export can be confirmed.
pub const PREVIEW_LIFETIME: chrono::TimeDelta = chrono::TimeDelta::hours(1);

/// An export to import.
#[derive(Debug, Clone, Copy)]
pub struct SubmissionFile<'a> {
    /// The round.
    pub round_id: i64,
    /// The file's name (for messages and the audit log).
    pub file_name: &'a str,
    /// Its content (CSV or XLSX).
    pub bytes: &'a [u8],
    /// The unit of rows without a unit column (a code or a name).
    pub unit: Option<&'a str>,
    /// The group of rows without a group column (a code or a name).
    pub group: Option<&'a str>,
}

/// What an import stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportOutcome {
    /// New responses stored.
    pub stored: usize,
    /// Submissions of the file already stored by an earlier import (left as they are).
    pub already: usize,
    /// Rows repeating an earlier row of the file (kept once).
    pub repeated: usize,
    /// Columns ignored, one warning each.
    pub warnings: Vec<RowError>,
}

/// New submissions of a previewed file in one unit and group.
#[derive(Debug, Clone)]
pub struct PreviewCount {
    /// The unit's Vietnamese name.
    pub unit_vi: String,
    /// The unit's English name.
    pub unit_en: String,
    /// Group code.
    pub group: String,
    /// New responses it would store.
    pub new: usize,
}

/// A checked export before anything is stored.
#[derive(Debug, Clone)]
pub struct FieldPreview {
    /// The round.
    pub round: RoundRow,
    /// The uploaded file's name.
    pub file_name: String,
    /// The token that confirms this file; `None` when it has errors or nothing new.
    pub token: Option<String>,
    /// What storing it would do (`stored` = the new responses).
    pub outcome: ImportOutcome,
    /// New responses per unit and group, in the round's unit order.
    pub counts: Vec<PreviewCount>,
    /// Every problem found; nothing can be imported while any.
    pub errors: Vec<RowError>,
}

/// The import page's frame for `actor`: the round, the units they may import into and the
/// round's groups. Refused to accounts that may not import field submissions.
pub fn import_scope(
    conn: &mut AnyConnection,
    round_id: i64,
    actor: Actor<'_>,
) -> Result<(RoundRow, Vec<UnitRow>, Vec<RoundGroupRow>)> {
    if !RoundAction::ImportSubmissions.allowed_for(actor.role) {
        return Err(RoundError::App(AppError::Forbidden));
    }
    let round = db::rounds::by_id(conn, round_id)?.ok_or(RoundError::NotFound)?;
    let mut units = db::rounds::units(conn, round_id)?;
    // Should coordinators ever be given the permission, they import for their own units only.
    if let Some(mine) = own_units(conn, actor.role, actor.user_id)? {
        units.retain(|u| mine.contains(&u.id));
    }
    Ok((round, units, db::rounds::groups(conn, round_id)?))
}

fn require_open(round: &RoundRow) -> Result<()> {
    if round.status != RoundStatus::Open {
        return Err(RoundError::invalid("field.round_not_open", &[]));
    }
    Ok(())
}

/// The round's checked file: the domain check against the importer's units, the groups and
/// each configured group's questionnaire, then the instance IDs stored before. A submission
/// stored in another round is an error at its row (the same interview cannot count twice).
fn check_file(
    conn: &mut AnyConnection,
    file: SubmissionFile<'_>,
    units: &[UnitRow],
    groups: &[RoundGroupRow],
) -> Result<(CheckedFile, usize)> {
    let unit_matcher = Matcher::units(
        units
            .iter()
            .map(|u| (u.code.as_str(), u.name_vi.as_str(), u.name_en.as_str())),
    );
    let group_matcher = round_lookups(conn, file.round_id)?.groups;
    let mut forms: BTreeMap<String, Instrument> = BTreeMap::new();
    for g in groups {
        let stored = crate::app::catalog::load_instrument(conn, g.instrument_id)?
            .ok_or(RoundError::App(AppError::NotFound))?;
        forms.insert(g.group_code.clone(), stored.instrument);
    }
    let frame = ImportFrame {
        units: &unit_matcher,
        groups: &group_matcher,
        forms: &forms,
        unit: file.unit.filter(|u| !u.trim().is_empty()),
        group: file.group.filter(|g| !g.trim().is_empty()),
    };
    let mut checked =
        check_submissions(file.bytes, file.file_name, &frame).map_err(RoundError::Rows)?;
    let keys: Vec<String> = checked.submissions.iter().map(|s| s.key.clone()).collect();
    let stored: HashMap<String, i64> = db::responses::rounds_of_keys(conn, &keys)?
        .into_iter()
        .collect();
    let elsewhere: Vec<RowError> = checked
        .submissions
        .iter()
        .filter(|s| stored.get(&s.key).is_some_and(|r| *r != file.round_id))
        .map(|s| {
            RowError::at(
                file.file_name,
                s.row,
                None,
                Localized::new("field.in_other_round", &[]),
            )
        })
        .collect();
    if !elsewhere.is_empty() {
        return Err(RoundError::Rows(elsewhere));
    }
    let before = checked.submissions.len();
    checked.submissions.retain(|s| !stored.contains_key(&s.key));
    let already = before - checked.submissions.len();
    Ok((checked, already))
}

/// Imports an export at once (the command line): checks it in full and stores its new
/// submissions as responses, or stores nothing.
pub fn import_submissions(
    conn: &mut AnyConnection,
    file: SubmissionFile<'_>,
    actor: Actor<'_>,
) -> Result<ImportOutcome> {
    db::write_transaction(conn, |conn| {
        let (round, units, groups) = import_scope(conn, file.round_id, actor)?;
        require_open(&round)?;
        let (checked, already) = check_file(conn, file, &units, &groups)?;
        let stored = store(
            conn,
            file.round_id,
            file.file_name,
            &checked.submissions,
            &groups,
            already,
            checked.repeated,
            actor,
        )?;
        Ok(ImportOutcome {
            stored,
            already,
            repeated: checked.repeated,
            warnings: checked.warnings,
        })
    })
}

/// Checks an export and keeps it for `actor` to confirm, storing no response. A file with
/// problems comes back with every problem and no token; a clean one with something new with
/// a token that [`confirm_submissions`] takes within [`PREVIEW_LIFETIME`].
pub fn preview_submissions(
    conn: &mut AnyConnection,
    file: SubmissionFile<'_>,
    actor: Actor<'_>,
) -> Result<FieldPreview> {
    let (round, units, groups) = import_scope(conn, file.round_id, actor)?;
    require_open(&round)?;
    let mut preview = FieldPreview {
        round,
        file_name: file.file_name.to_owned(),
        token: None,
        outcome: ImportOutcome {
            stored: 0,
            already: 0,
            repeated: 0,
            warnings: Vec::new(),
        },
        counts: Vec::new(),
        errors: Vec::new(),
    };
    let (checked, already) = match check_file(conn, file, &units, &groups) {
        Ok(checked) => checked,
        Err(RoundError::Rows(errors)) => {
            preview.errors = errors;
            return Ok(preview);
        }
        Err(other) => return Err(other),
    };
    preview.outcome = ImportOutcome {
        stored: checked.submissions.len(),
        already,
        repeated: checked.repeated,
        warnings: checked.warnings.clone(),
    };
    for unit in &units {
        for g in &groups {
            let new = checked
                .submissions
                .iter()
                .filter(|s| s.unit == unit.code && s.group == g.group_code)
                .count();
            if new > 0 {
                preview.counts.push(PreviewCount {
                    unit_vi: unit.name_vi.clone(),
                    unit_en: unit.name_en.clone(),
                    group: g.group_code.clone(),
                    new,
                });
            }
        }
    }
    if checked.submissions.is_empty() {
        return Ok(preview);
    }
    let user_id = actor
        .user_id
        .ok_or_else(|| RoundError::invalid("list.preview_gone", &[]))?;
    let token = random_token();
    let json = serde_json::to_string(&checked.submissions)
        .map_err(|e| RoundError::App(AppError::internal(anyhow::anyhow!(e))))?;
    db::write_transaction(conn, |conn| {
        let now = db::now();
        db::upload_previews::forget_stale(
            conn,
            PreviewKind::Submissions,
            now - PREVIEW_LIFETIME,
            file.round_id,
            user_id,
        )?;
        db::upload_previews::insert(
            conn,
            PreviewKind::Submissions,
            &db::upload_previews::NewPreview {
                token_hash: &hash_token(&token),
                round_id: file.round_id,
                user_id,
                round_status: preview.round.status.code(),
                listed_before: None,
                file_name: file.file_name,
                payload_json: &json,
                created_at: now,
            },
        )?;
        Ok::<_, RoundError>(())
    })?;
    preview.token = Some(token);
    Ok(preview)
}

/// Stores exactly the submissions previewed under `token`, for the user who previewed them,
/// and forgets the preview (a second confirm finds nothing). Submissions stored meanwhile (the
/// same file imported twice) are skipped. Refused, storing nothing, when the preview is
/// unknown, someone else's or expired, or when the round's status changed.
pub fn confirm_submissions(
    conn: &mut AnyConnection,
    round_id: i64,
    token: &str,
    actor: Actor<'_>,
) -> Result<ImportOutcome> {
    let user_id = actor
        .user_id
        .ok_or_else(|| RoundError::invalid("list.preview_gone", &[]))?;
    // The outer result carries database failures (rolled back); the inner one a refusal,
    // returned after the transaction committed the forgotten preview.
    db::write_transaction(conn, |conn| {
        let (round, _, groups) = import_scope(conn, round_id, actor)?;
        let Some(upload) = db::upload_previews::find(
            conn,
            PreviewKind::Submissions,
            &hash_token(token),
            round_id,
            user_id,
        )?
        else {
            return Err(RoundError::invalid("list.preview_gone", &[]));
        };
        db::upload_previews::delete(conn, upload.id)?;
        if upload.created_at < db::now() - PREVIEW_LIFETIME {
            return Ok(Err(RoundError::invalid("list.preview_gone", &[])));
        }
        if upload.round_status != round.status.code() {
            return Ok(Err(RoundError::invalid("list.preview_state_changed", &[])));
        }
        require_open(&round)?;
        let mut submissions: Vec<FieldSubmission> = serde_json::from_str(&upload.payload_json)
            .map_err(|e| RoundError::App(AppError::internal(anyhow::anyhow!(e))))?;
        let keys: Vec<String> = submissions.iter().map(|s| s.key.clone()).collect();
        let stored: HashMap<String, i64> = db::responses::rounds_of_keys(conn, &keys)?
            .into_iter()
            .collect();
        let before = submissions.len();
        submissions.retain(|s| !stored.contains_key(&s.key));
        let already = before - submissions.len();
        let n = store(
            conn,
            round_id,
            &upload.file_name,
            &submissions,
            &groups,
            already,
            0,
            actor,
        )?;
        Ok(Ok(ImportOutcome {
            stored: n,
            already,
            repeated: 0,
            warnings: Vec::new(),
        }))
    })?
}

/// Stores checked submissions as responses (source `field`) with their live tallies, and
/// audits the import: who, which file, how many stored and skipped; never an answer, an
/// instance ID or anything about the device.
#[expect(
    clippy::too_many_arguments,
    reason = "the audit entry needs the skipped counts beside what is stored"
)]
fn store(
    conn: &mut AnyConnection,
    round_id: i64,
    file_name: &str,
    submissions: &[FieldSubmission],
    groups: &[RoundGroupRow],
    already: usize,
    repeated: usize,
    actor: Actor<'_>,
) -> Result<usize> {
    let unit_ids: HashMap<String, i64> = db::rounds::units(conn, round_id)?
        .into_iter()
        .map(|u| (u.code, u.id))
        .collect();
    let today = chrono::Utc::now().date_naive();
    // Tallies are added once per cell, not once per response.
    let mut counts = CellCounts::new();
    for s in submissions {
        let (Some(&unit_id), Some(group)) = (
            unit_ids.get(&s.unit),
            groups.iter().find(|g| g.group_code == s.group),
        ) else {
            return Err(RoundError::invalid("round.invalid.file_not_in_round", &[]));
        };
        let receipt = AccessCode::generate().to_string();
        db::responses::insert(
            conn,
            &NewResponse {
                receipt: &receipt,
                submission_key: &s.key,
                round_id,
                unit_id,
                group_id: group.group_id,
                instrument_id: group.instrument_id,
                submitted_on: s.submitted_on.unwrap_or(today),
                source: ResponseSource::Field.code(),
                duration_seconds: s.duration_seconds,
                answers: &s.answers.to_json(),
            },
        )?;
        let cell = (round_id, unit_id, group.group_id);
        let (n, cells) = counts.entry(cell).or_default();
        *n += 1;
        for (item, value) in tally_cells(&s.answers) {
            *cells
                .entry((item.to_owned(), value.to_owned()))
                .or_default() += 1;
        }
    }
    for (cell, (n, cells)) in &counts {
        add_counted(
            conn,
            *cell,
            *n,
            cells
                .iter()
                .map(|((item, value), count)| ((item.as_str(), value.as_str()), *count)),
        )?;
    }
    record(
        conn,
        &AuditEntry::new(
            actor.user_id,
            actor.label,
            "round:import_submissions",
            "round",
            round_id,
        )
        .after(serde_json::json!({
            "file": file_name,
            "stored": submissions.len(),
            "already_stored": already,
            "repeated_rows": repeated,
        })),
    )?;
    Ok(submissions.len())
}
