//! Survey rounds end to end: creating and configuring a round, its lifecycle, respondent
//! lists, access codes, e-mail invitations and reminders, open links, and coverage. Shared by
//! the admin pages and the CLI; handlers stay thin.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::NaiveDateTime;

use crate::app::auth::tokens::{SecretKey, hash_token};
use crate::app::catalog;
use crate::app::mail::templates::{self, InvitationContent};
use crate::db::audit::{AuditEntry, record};
use crate::db::respondents::NewRespondent;
use crate::db::rounds::{NewRound, RoundRow};
use crate::db::units::{NewUnit, NewUnitSet, UnitRow};
use crate::db::{self, AnyConnection, outbox};
use crate::domain::access_code::AccessCode;
use crate::domain::lifecycle::{self, LifecycleError, RoundAction, RoundStatus};
use crate::domain::reminders::{self, InvitationState, ReminderPolicy};
use crate::domain::respondent_list::{StandardGroups, parse_respondent_csv, parse_respondent_xlsx};
use crate::domain::unit_list::RowError;
use crate::domain::unit_list::{UnitSet, provinces_2023, provinces_2025};
use crate::error::AppError;

/// Code of the bundled set of 63 provinces (rounds up to 2024).
pub const PROVINCES_2023: &str = "vn-provinces-2023";
/// Code of the bundled set of 34 units in force from 2025.
pub const UNITS_2025: &str = "vn-units-2025";

/// Why a round operation was refused. Messages are shown to administrators as they are.
#[derive(Debug, thiserror::Error)]
pub enum RoundError {
    /// The input is not acceptable; the message says what and where.
    #[error("{0}")]
    Invalid(String),
    /// A file had bad rows; nothing was imported.
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
    Rows(Vec<RowError>),
    /// The lifecycle forbids it.
    #[error(transparent)]
    Lifecycle(#[from] LifecycleError),
    /// The live tallies differ from a recomputation from the raw answers, so the round was
    /// not marked computed.
    #[error(
        "the live tallies differ from the raw answers in {differences} place(s); the round was not marked computed"
    )]
    TalliesDiffer {
        /// How many cells (or response counts) differ.
        differences: usize,
    },
    /// No such round.
    #[error("no such round")]
    NotFound,
    /// The database failed.
    #[error(transparent)]
    App(#[from] AppError),
}

/// For callers that only read (coverage in the API and dashboards): a missing round is 404,
/// a database failure keeps its kind, and anything else is a bad request.
impl From<RoundError> for AppError {
    fn from(e: RoundError) -> Self {
        match e {
            RoundError::App(e) => e,
            RoundError::NotFound => AppError::NotFound,
            RoundError::Invalid(_)
            | RoundError::Rows(_)
            | RoundError::Lifecycle(_)
            | RoundError::TalliesDiffer { .. } => AppError::BadRequest("error.bad_request.body"),
        }
    }
}

impl From<diesel::result::Error> for RoundError {
    fn from(e: diesel::result::Error) -> Self {
        RoundError::App(e.into())
    }
}

type Result<T> = std::result::Result<T, RoundError>;

fn invalid(message: impl Into<String>) -> RoundError {
    RoundError::Invalid(message.into())
}

/// Who acts, for permissions and the audit log.
#[derive(Debug, Clone, Copy)]
pub struct Actor<'a> {
    /// The account, if a logged-in user acts.
    pub user_id: Option<i64>,
    /// Readable name (e-mail or `cli`).
    pub label: &'a str,
    /// Role code (`admin`, `coordinator`, `analyst`); the CLI acts as `admin`.
    pub role: &'a str,
}

fn audit(
    conn: &mut AnyConnection,
    actor: Actor<'_>,
    action: &str,
    round_id: i64,
    old: Option<String>,
    new: Option<String>,
) -> Result<()> {
    record(
        conn,
        &AuditEntry {
            actor_user_id: actor.user_id,
            actor: actor.label,
            action,
            entity: "round",
            entity_id: Some(round_id.to_string()),
            old_value: old,
            new_value: new,
        },
    )?;
    Ok(())
}

/// Loads the bundled unit sets (63 provinces; 34 units from 2025 with lineage) if absent.
pub fn load_reference_units(conn: &mut AnyConnection) -> Result<usize> {
    let mut added = 0;
    db::write_transaction(conn, |conn| {
        if db::units::set_by_code(conn, PROVINCES_2023)?.is_none() {
            let set = provinces_2023().map_err(|e| invalid(e.to_string()))?;
            store_unit_set(
                conn,
                PROVINCES_2023,
                "63 tỉnh, thành phố (đến 2024)",
                "63 provinces (to 2024)",
                None,
                Some(2024),
                &set,
                true,
            )?;
            added += 1;
        }
        if db::units::set_by_code(conn, UNITS_2025)?.is_none() {
            let set = provinces_2025().map_err(|e| invalid(e.to_string()))?;
            let new_id = store_unit_set(
                conn,
                UNITS_2025,
                "34 tỉnh, thành phố (từ 2025)",
                "34 provinces and cities (from 2025)",
                Some(2025),
                None,
                &set,
                true,
            )?;
            // Lineage: each 2025 unit → the 2023 units it absorbed.
            let old_set =
                db::units::set_by_code(conn, PROVINCES_2023)?.ok_or(RoundError::NotFound)?;
            let old_ids: HashMap<String, i64> = db::units::units_of_set(conn, old_set.id)?
                .into_iter()
                .map(|u| (u.code, u.id))
                .collect();
            let new_ids: HashMap<String, i64> = db::units::units_of_set(conn, new_id)?
                .into_iter()
                .map(|u| (u.code, u.id))
                .collect();
            for unit in &set.units {
                for absorbed in &unit.absorbed {
                    if let (Some(&to), Some(&from)) =
                        (new_ids.get(&unit.code), old_ids.get(absorbed))
                    {
                        db::units::insert_lineage(conn, to, from)?;
                    }
                }
            }
            added += 1;
        }
        Ok::<_, RoundError>(())
    })?;
    Ok(added)
}

#[expect(
    clippy::too_many_arguments,
    reason = "the set's own columns, passed through once"
)]
fn store_unit_set(
    conn: &mut AnyConnection,
    code: &str,
    name_vi: &str,
    name_en: &str,
    first_year: Option<i32>,
    last_year: Option<i32>,
    set: &UnitSet,
    builtin: bool,
) -> Result<i64> {
    let id = db::units::insert_set(
        conn,
        &NewUnitSet {
            code,
            name_vi,
            name_en,
            first_year,
            last_year,
            builtin,
            created_at: db::now(),
        },
    )?;
    let new: Vec<NewUnit<'_>> = set
        .units
        .iter()
        .map(|u| NewUnit {
            unit_set_id: id,
            code: &u.code,
            name_vi: &u.name_vi,
            name_en: &u.name_en,
            kind: &u.kind,
            region_code: u.region_code.as_deref(),
            region_vi: u.region_vi.as_deref(),
            region_en: u.region_en.as_deref(),
        })
        .collect();
    db::units::insert_units(conn, &new)?;
    Ok(id)
}

/// Imports an administrator's own unit list (CSV) as a new set; all or nothing.
pub fn import_unit_set(
    conn: &mut AnyConnection,
    code: &str,
    name: &str,
    file_name: &str,
    bytes: &[u8],
    actor: Actor<'_>,
) -> Result<i64> {
    let code = code.trim();
    if code.is_empty()
        || code.len() > 64
        || !code
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(invalid(format!(
            "set code '{code}': use 1 to 64 letters, digits, '-' or '_'"
        )));
    }
    let name = name.trim();
    if name.is_empty() {
        return Err(invalid("a name for the unit list is required"));
    }
    let set =
        crate::domain::unit_list::parse_unit_csv(bytes, file_name).map_err(RoundError::Rows)?;
    db::write_transaction(conn, |conn| {
        if db::units::set_by_code(conn, code)?.is_some() {
            return Err(invalid(format!(
                "a unit list with code '{code}' already exists"
            )));
        }
        let id = store_unit_set(conn, code, name, name, None, None, &set, false)?;
        record(
            conn,
            &AuditEntry {
                actor_user_id: actor.user_id,
                actor: actor.label,
                action: "units:import",
                entity: "unit_set",
                entity_id: Some(id.to_string()),
                old_value: None,
                new_value: Some(serde_json::json!({ "code": code, "units": set.units.len(), "file": file_name }).to_string()),
            },
        )?;
        Ok(id)
    })
}

/// What an administrator enters to create a round.
#[derive(Debug, Clone)]
pub struct NewRoundInput {
    /// Survey year.
    pub year: i32,
    /// Vietnamese name.
    pub name_vi: String,
    /// English name.
    pub name_en: String,
    /// The unit set's code.
    pub unit_set_code: String,
    /// Opening time (UTC).
    pub opens_at: Option<NaiveDateTime>,
    /// Closing time (UTC).
    pub closes_at: Option<NaiveDateTime>,
}

/// Creates a draft round covering every unit of its set.
pub fn create_round(
    conn: &mut AnyConnection,
    input: &NewRoundInput,
    actor: Actor<'_>,
) -> Result<i64> {
    if !(2000..=2100).contains(&input.year) {
        return Err(invalid(format!(
            "year {}: use a year from 2000 to 2100",
            input.year
        )));
    }
    if input.name_vi.trim().is_empty() {
        return Err(invalid("the round needs a Vietnamese name"));
    }
    lifecycle::validate_schedule(input.opens_at, input.closes_at)?;
    db::write_transaction(conn, |conn| {
        let set = db::units::set_by_code(conn, &input.unit_set_code)?
            .ok_or_else(|| invalid(format!("unknown unit list '{}'", input.unit_set_code)))?;
        let now = db::now();
        let name_en = if input.name_en.trim().is_empty() {
            input.name_vi.trim()
        } else {
            input.name_en.trim()
        };
        let id = db::rounds::insert(
            conn,
            &NewRound {
                year: input.year,
                name_vi: input.name_vi.trim(),
                name_en,
                unit_set_id: set.id,
                opens_at: input.opens_at,
                closes_at: input.closes_at,
                created_by: actor.user_id,
                created_at: now,
                updated_at: now,
            },
        )?;
        let unit_ids: Vec<i64> = db::units::units_of_set(conn, set.id)?
            .iter()
            .map(|u| u.id)
            .collect();
        db::rounds::set_units(conn, id, &unit_ids)?;
        audit(conn, actor, "round:create", id, None, Some(serde_json::json!({
            "year": input.year, "name_vi": input.name_vi, "unit_set": input.unit_set_code,
            "opens_at": input.opens_at, "closes_at": input.closes_at, "units": unit_ids.len(),
        }).to_string()))?;
        Ok(id)
    })
}

fn round_or_404(conn: &mut AnyConnection, round_id: i64) -> Result<RoundRow> {
    db::rounds::by_id(conn, round_id)?.ok_or(RoundError::NotFound)
}

fn status_of(round: &RoundRow) -> Result<RoundStatus> {
    Ok(lifecycle::parse_status(&round.status)?)
}

fn require_draft(round: &RoundRow) -> Result<()> {
    if status_of(round)?.config_frozen() {
        return Err(invalid(
            "the round is open or finished: its units, questionnaires and targets can no longer change",
        ));
    }
    Ok(())
}

/// Binds a respondent group to an instrument and a methodology, after checking that the
/// instrument is for that group and that the methodology scores exactly its items.
pub fn set_group(
    conn: &mut AnyConnection,
    round_id: i64,
    group_code: &str,
    instrument_id: i64,
    methodology_id: i64,
    actor: Actor<'_>,
) -> Result<()> {
    db::write_transaction(conn, |conn| {
        let round = round_or_404(conn, round_id)?;
        require_draft(&round)?;
        let group_id = db::rounds::group_id(conn, group_code)?
            .ok_or_else(|| invalid(format!("unknown respondent group '{group_code}'")))?;
        let instrument = catalog::load_instrument(conn, instrument_id)?
            .ok_or_else(|| invalid("unknown questionnaire"))?;
        let methodology = catalog::load_methodology(conn, methodology_id)?
            .ok_or_else(|| invalid("unknown methodology"))?;
        if instrument.instrument.group().code() != group_code {
            return Err(invalid(format!(
                "questionnaire {} v{} is for the group '{}', not '{group_code}'",
                instrument.summary.code,
                instrument.summary.version,
                instrument.instrument.group().code()
            )));
        }
        let m = &methodology.methodology;
        let scores_group = m.group(group_code).is_some()
            || m.sipas.as_ref().is_some_and(|s| s.group == group_code);
        if !scores_group {
            return Err(invalid(format!(
                "methodology {} v{} has no rules for the group '{group_code}'",
                m.code, m.version
            )));
        }
        let problems = m.check_against(group_code, &instrument.instrument.scorable_items());
        if !problems.is_empty() {
            let lines: Vec<String> = problems.iter().map(ToString::to_string).collect();
            return Err(invalid(format!(
                "methodology {} v{} does not fit questionnaire {} v{}:\n{}",
                m.code,
                m.version,
                instrument.summary.code,
                instrument.summary.version,
                lines.join("\n")
            )));
        }
        // The audit keeps what the group used before, so a change can be traced and undone.
        let old = db::rounds::groups(conn, round_id)?
            .into_iter()
            .find(|g| g.group_id == group_id)
            .map(|g| {
                serde_json::json!({
                    "group": group_code, "instrument_id": g.instrument_id, "methodology_id": g.methodology_id,
                })
                .to_string()
            });
        db::rounds::set_group(conn, round_id, group_id, instrument_id, methodology_id)?;
        audit(conn, actor, "round:set_group", round_id, old, Some(serde_json::json!({
            "group": group_code, "instrument_id": instrument_id, "methodology_id": methodology_id,
        }).to_string()))?;
        Ok(())
    })
}

/// Sets the same target sample size for every unit of the round in one group.
pub fn set_group_target(
    conn: &mut AnyConnection,
    round_id: i64,
    group_code: &str,
    target: i32,
    actor: Actor<'_>,
) -> Result<()> {
    if !(0..=1_000_000).contains(&target) {
        return Err(invalid(format!(
            "target {target}: use a number from 0 to 1,000,000"
        )));
    }
    db::write_transaction(conn, |conn| {
        let round = round_or_404(conn, round_id)?;
        require_draft(&round)?;
        let group_id = db::rounds::group_id(conn, group_code)?
            .ok_or_else(|| invalid(format!("unknown respondent group '{group_code}'")))?;
        let old: std::collections::BTreeSet<i32> = db::rounds::targets(conn, round_id)?
            .into_iter()
            .filter(|(_, g, _)| *g == group_id)
            .map(|(_, _, t)| t)
            .collect();
        for unit in db::rounds::units(conn, round_id)? {
            db::rounds::set_target(conn, round_id, unit.id, group_id, target)?;
        }
        audit(
            conn,
            actor,
            "round:set_targets",
            round_id,
            (!old.is_empty())
                .then(|| serde_json::json!({ "group": group_code, "targets": old }).to_string()),
            Some(serde_json::json!({ "group": group_code, "target": target }).to_string()),
        )?;
        Ok(())
    })
}

/// Applies a lifecycle action (open, close, reopen, compute, publish) after checking the
/// actor's role and, for opening, that the round is complete.
///
/// * **Compute** first checks the live tallies against the raw answers
///   ([`crate::app::scores::verify_tallies`]) and records the check in the action's audit entry; when
///   they differ the status stays as it was and the refusal itself is audited.
/// * **Publish** writes the status and the new snapshot in one transaction, so a failed
///   snapshot leaves the round as it was.
pub fn apply_action(
    conn: &mut AnyConnection,
    round_id: i64,
    action: RoundAction,
    actor: Actor<'_>,
) -> Result<RoundStatus> {
    if !action.allowed_for(actor.role) {
        return Err(invalid(format!(
            "the role '{}' may not {} a round",
            actor.role,
            action.code()
        )));
    }
    // An inner `Err` is a refused computation: the transaction still commits, so that the
    // refusal's audit entry stays while the status does not change.
    let outcome = db::write_transaction(conn, |conn| -> Result<std::result::Result<_, usize>> {
        let round = round_or_404(conn, round_id)?;
        let from = status_of(&round)?;
        let to = lifecycle::transition(from, action)?;
        if action == RoundAction::Open {
            if db::rounds::groups(conn, round_id)?.is_empty() {
                return Err(invalid(
                    "the round cannot open: no respondent group has a questionnaire and methodology",
                ));
            }
            if db::rounds::units(conn, round_id)?.is_empty() {
                return Err(invalid("the round cannot open: it covers no units"));
            }
            lifecycle::validate_schedule(round.opens_at, round.closes_at)?;
        }
        // Checked inside the transaction, so the status changes on exactly the tallies just
        // read. On SQLite this holds the write lock while recomputing: seconds for a national
        // round, once per computation, which is worth a check that cannot race.
        let check = match action {
            RoundAction::Compute => Some(crate::app::scores::verify_tallies(conn, round_id)?),
            _ => None,
        };
        if let Some(check) = check.as_ref().filter(|c| !c.agrees()) {
            audit(
                conn,
                actor,
                "round:compute_refused",
                round_id,
                Some(serde_json::json!({ "status": from.code() }).to_string()),
                Some(serde_json::json!({ "check": check.audit_json() }).to_string()),
            )?;
            return Ok(Err(check.differences.len()));
        }
        if db::rounds::set_status(conn, round_id, from.code(), to.code())? != 1 {
            return Err(invalid("the round changed meanwhile; reload and try again"));
        }
        let mut new = serde_json::json!({ "status": to.code() });
        if let Some(check) = &check {
            new["check"] = check.audit_json();
        }
        audit(
            conn,
            actor,
            &format!("round:{}", action.code()),
            round_id,
            Some(serde_json::json!({ "status": from.code() }).to_string()),
            Some(new.to_string()),
        )?;
        if action == RoundAction::Publish {
            crate::app::scores::publish(conn, round_id, actor.user_id, actor.label)?;
        }
        Ok(Ok(to))
    })?;
    outcome.map_err(|differences| RoundError::TalliesDiffer { differences })
}

/// Imports a respondent list (CSV or XLSX) into a draft or open round: every row is checked,
/// including e-mails already in the round, and a file with any bad row imports nothing.
pub fn import_respondents(
    conn: &mut AnyConnection,
    round_id: i64,
    file_name: &str,
    bytes: &[u8],
    actor: Actor<'_>,
) -> Result<usize> {
    db::write_transaction(conn, |conn| {
        let round = round_or_404(conn, round_id)?;
        if !matches!(status_of(&round)?, RoundStatus::Draft | RoundStatus::Open) {
            return Err(invalid(
                "respondents can be added only to a draft or open round",
            ));
        }
        let units = db::rounds::units(conn, round_id)?;
        let by_code: HashMap<String, i64> = units
            .iter()
            .map(|u| (u.code.to_lowercase(), u.id))
            .collect();
        let canonical: HashMap<String, String> = units
            .iter()
            .map(|u| (u.code.to_lowercase(), u.code.clone()))
            .collect();
        let unit_lookup = |input: &str| canonical.get(&input.trim().to_lowercase()).cloned();
        let groups: HashMap<String, i64> = db::rounds::all_groups(conn)?
            .into_iter()
            .map(|(id, code)| (code, id))
            .collect();
        let xlsx =
            file_name.to_ascii_lowercase().ends_with(".xlsx") || bytes.starts_with(b"PK\x03\x04");
        let rows = if xlsx {
            parse_respondent_xlsx(bytes, file_name, &unit_lookup, &StandardGroups)
        } else {
            parse_respondent_csv(bytes, file_name, &unit_lookup, &StandardGroups)
        }
        .map_err(RoundError::Rows)?;
        let existing: HashSet<String> = db::respondents::emails_in_round(conn, round_id)?
            .into_iter()
            .collect();
        let duplicates: Vec<RowError> = rows
            .iter()
            .filter_map(|r| {
                let email = r.email.as_ref()?;
                existing.contains(email).then(|| {
                    RowError::at(
                        file_name,
                        r.row,
                        Some("email".to_owned()),
                        format!("'{email}' is already invited to this round"),
                    )
                })
            })
            .collect();
        if !duplicates.is_empty() {
            return Err(RoundError::Rows(duplicates));
        }
        let now = db::now();
        let new: Vec<NewRespondent<'_>> = rows
            .iter()
            .filter_map(|r| {
                Some(NewRespondent {
                    round_id,
                    unit_id: *by_code.get(&r.unit.to_lowercase())?,
                    group_id: *groups.get(&r.group)?,
                    name: &r.name,
                    email: r.email.as_deref(),
                    phone: r.phone.as_deref(),
                    position: r.position.as_deref(),
                    level: r.level.as_deref(),
                    created_at: now,
                })
            })
            .collect();
        if new.len() != rows.len() {
            return Err(invalid(
                "a unit or group of the file is not part of this round",
            ));
        }
        let inserted = db::respondents::insert_all(conn, &new)?;
        // The audit entry records the import, never the personal data in it.
        audit(
            conn,
            actor,
            "round:import_respondents",
            round_id,
            None,
            Some(serde_json::json!({ "file": file_name, "rows": inserted }).to_string()),
        )?;
        Ok(inserted)
    })
}

/// The keyed hash under which an access code is stored. Keyed (HMAC) rather than a plain
/// hash, so a copy of the database alone does not let anyone test guesses offline.
pub fn code_hash(secret: &SecretKey, code: &AccessCode) -> String {
    secret.sign("access-code", code.as_canonical())
}

/// The link that opens the questionnaire for a code.
pub fn code_link(base_url: &str, code: &AccessCode) -> String {
    format!("{base_url}/s/{}", code.as_canonical())
}

/// A code handed out now (the only moment it exists in clear).
#[derive(Debug, Clone)]
pub struct IssuedCode {
    /// Respondent name.
    pub name: String,
    /// E-mail, if any.
    pub email: Option<String>,
    /// Phone, if any.
    pub phone: Option<String>,
    /// Unit code.
    pub unit_code: String,
    /// Unit name (Vietnamese).
    pub unit_name: String,
    /// Group code.
    pub group_code: String,
    /// The code.
    pub code: AccessCode,
    /// Invitation id (for e-mail).
    pub invitation_id: i64,
}

fn issue_new_code(
    conn: &mut AnyConnection,
    secret: &SecretKey,
    round_id: i64,
    unit_id: i64,
    group_id: i64,
    kind: &str,
    open_link_id: Option<i64>,
) -> Result<(i64, AccessCode)> {
    // A collision between two random 44-bit codes is astronomically unlikely, but the unique
    // index would refuse it; try a fresh code rather than fail.
    for _ in 0..5 {
        let code = AccessCode::generate();
        let hash = code_hash(secret, &code);
        if db::access_codes::by_hash(conn, &hash)?.is_some() {
            continue;
        }
        let id = db::access_codes::insert(
            conn,
            round_id,
            unit_id,
            group_id,
            &hash,
            kind,
            open_link_id,
            db::now(),
        )?;
        return Ok((id, code));
    }
    Err(RoundError::App(AppError::internal(anyhow::anyhow!(
        "could not draw a unique access code"
    ))))
}

/// Gives a code to every respondent of the round who has none yet (all, or only those with
/// an e-mail address, optionally of one unit). The codes are returned for printing or mailing
/// and are never stored in clear.
pub fn issue_codes(
    conn: &mut AnyConnection,
    secret: &SecretKey,
    round_id: i64,
    with_email_only: bool,
    unit_id: Option<i64>,
    actor: Actor<'_>,
) -> Result<Vec<IssuedCode>> {
    db::write_transaction(conn, |conn| {
        let round = round_or_404(conn, round_id)?;
        if !matches!(status_of(&round)?, RoundStatus::Draft | RoundStatus::Open) {
            return Err(invalid(
                "codes can be issued only for a draft or open round",
            ));
        }
        let units: HashMap<i64, UnitRow> = db::rounds::units(conn, round_id)?
            .into_iter()
            .map(|u| (u.id, u))
            .collect();
        let groups: HashMap<i64, String> = db::rounds::all_groups(conn)?.into_iter().collect();
        let invitees =
            db::respondents::without_invitation(conn, round_id, with_email_only, unit_id)?;
        let now = db::now();
        let mut issued = Vec::with_capacity(invitees.len());
        for invitee in invitees {
            let (code_id, code) = issue_new_code(
                conn,
                secret,
                round_id,
                invitee.unit_id,
                invitee.group_id,
                "invitation",
                None,
            )?;
            let invitation_id =
                db::respondents::insert_invitation(conn, invitee.respondent_id, code_id, now)?;
            let unit = units.get(&invitee.unit_id);
            issued.push(IssuedCode {
                name: invitee.name,
                email: invitee.email,
                phone: invitee.phone,
                unit_code: unit.map(|u| u.code.clone()).unwrap_or_default(),
                unit_name: unit.map(|u| u.name_vi.clone()).unwrap_or_default(),
                group_code: groups.get(&invitee.group_id).cloned().unwrap_or_default(),
                code,
                invitation_id,
            });
        }
        audit(
            conn,
            actor,
            "round:issue_codes",
            round_id,
            None,
            Some(
                serde_json::json!({ "codes": issued.len(), "email_only": with_email_only })
                    .to_string(),
            ),
        )?;
        Ok(issued)
    })
}

fn closes_text(round: &RoundRow) -> Option<String> {
    round.closes_at.map(|c| c.format("%Y-%m-%d").to_string())
}

/// The outbox key prefix of a round's messages.
pub fn message_prefix(round_id: i64) -> String {
    format!("round{round_id}:")
}

/// Issues codes to every respondent with an e-mail address and no invitation yet, and queues
/// their invitations, in one transaction: a code exists in clear only inside its queued
/// message, whose body is erased once delivered. Returns how many were queued.
pub fn queue_invitations(
    conn: &mut AnyConnection,
    secret: &SecretKey,
    base_url: &str,
    round_id: i64,
    actor: Actor<'_>,
) -> Result<usize> {
    db::write_transaction(conn, |conn| {
        let round = round_or_404(conn, round_id)?;
        let issued = issue_codes(conn, secret, round_id, true, None, actor)?;
        let now = db::now();
        let closes = closes_text(&round);
        let mut queued = 0;
        for code in &issued {
            let Some(email) = &code.email else { continue };
            let link = code_link(base_url, &code.code);
            let grouped = code.code.to_string();
            let message = templates::render(
                templates::Kind::Invitation,
                &InvitationContent {
                    name: &code.name,
                    round_vi: &round.name_vi,
                    round_en: &round.name_en,
                    link: &link,
                    code: &grouped,
                    closes: closes.as_deref(),
                    opt_out: &opt_out_link(base_url, secret, code.invitation_id),
                },
            );
            let key = format!("{}invite:{}", message_prefix(round_id), code.invitation_id);
            if outbox::enqueue(
                conn,
                &outbox::NewMessage {
                    message_key: &key,
                    kind: "invitation",
                    invitation_id: Some(code.invitation_id),
                    to_address: email,
                    subject: &message.subject,
                    body_text: &message.text,
                    body_html: &message.html,
                    next_attempt_at: now,
                    created_at: now,
                },
            )? {
                db::respondents::mark_invited(conn, code.invitation_id, now)?;
                queued += 1;
            }
        }
        Ok(queued)
    })
}

/// Queues a reminder for each invitation that is due under `policy`: never to those who
/// responded or opted out, at most `max_reminders`, and not sooner than `min_days_between`.
/// A reminder carries a fresh code that replaces the earlier one (which is not stored in
/// clear and so cannot be repeated); a started draft stays attached.
pub fn queue_reminders(
    conn: &mut AnyConnection,
    secret: &SecretKey,
    base_url: &str,
    round_id: i64,
    policy: &ReminderPolicy,
    now: NaiveDateTime,
    actor: Actor<'_>,
) -> Result<usize> {
    db::write_transaction(conn, |conn| {
        let round = round_or_404(conn, round_id)?;
        if status_of(&round)? != RoundStatus::Open {
            return Err(invalid(
                "reminders can be sent only while the round is open",
            ));
        }
        let closes = closes_text(&round);
        let mut queued = 0;
        for status in db::respondents::invitation_statuses(conn, round_id)? {
            let state = InvitationState {
                invited_at: status.invited_at,
                reminders_sent: u32::try_from(status.reminders_sent).unwrap_or(u32::MAX),
                last_reminded_at: status.last_reminded_at,
                responded: status.code_state == "used",
                opted_out: status.opted_out,
                has_email: status.email.is_some(),
            };
            let Some(email) = status
                .email
                .as_deref()
                .filter(|_| reminders::due(policy, &state, now))
            else {
                continue;
            };
            let code = AccessCode::generate();
            if db::access_codes::replace_hash(
                conn,
                status.access_code_id,
                &code_hash(secret, &code),
            )? != 1
            {
                continue; // submitted meanwhile
            }
            let link = code_link(base_url, &code);
            let grouped = code.to_string();
            let message = templates::render(
                templates::Kind::Reminder,
                &InvitationContent {
                    name: &status.name,
                    round_vi: &round.name_vi,
                    round_en: &round.name_en,
                    link: &link,
                    code: &grouped,
                    closes: closes.as_deref(),
                    opt_out: &opt_out_link(base_url, secret, status.invitation_id),
                },
            );
            let key = format!(
                "{}remind:{}:{}",
                message_prefix(round_id),
                status.invitation_id,
                status.reminders_sent + 1
            );
            if outbox::enqueue(
                conn,
                &outbox::NewMessage {
                    message_key: &key,
                    kind: "reminder",
                    invitation_id: Some(status.invitation_id),
                    to_address: email,
                    subject: &message.subject,
                    body_text: &message.text,
                    body_html: &message.html,
                    // `now` is the policy's clock; the queue runs on the real one.
                    next_attempt_at: db::now(),
                    created_at: db::now(),
                },
            )? {
                db::respondents::mark_reminded(conn, status.invitation_id, now)?;
                queued += 1;
            }
        }
        audit(
            conn,
            actor,
            "round:queue_reminders",
            round_id,
            None,
            Some(serde_json::json!({ "queued": queued }).to_string()),
        )?;
        Ok(queued)
    })
}

/// The signed token of an invitation's opt-out link: the invitation id and a MAC, so nobody
/// can opt out someone else by changing the number.
pub fn opt_out_token(secret: &SecretKey, invitation_id: i64) -> String {
    format!(
        "{invitation_id}.{}",
        &secret.sign("opt-out", &invitation_id.to_string())[..24]
    )
}

/// The opt-out link of an invitation.
pub fn opt_out_link(base_url: &str, secret: &SecretKey, invitation_id: i64) -> String {
    format!("{base_url}/optout/{}", opt_out_token(secret, invitation_id))
}

/// Applies an opt-out link: the respondent is never mailed again and queued mail is cancelled.
/// False when the token is not valid.
pub fn opt_out(conn: &mut AnyConnection, secret: &SecretKey, token: &str) -> Result<bool> {
    let Some((id, mac)) = token.split_once('.') else {
        return Ok(false);
    };
    let Ok(invitation_id) = id.parse::<i64>() else {
        return Ok(false);
    };
    let expected = opt_out_token(secret, invitation_id);
    let valid = expected.split_once('.').is_some_and(|(_, m)| {
        // Constant-time comparison of equal-length MAC prefixes.
        m.len() == mac.len()
            && m.bytes()
                .zip(mac.bytes())
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0
    });
    if !valid {
        return Ok(false);
    }
    db::write_transaction(conn, |conn| {
        if !db::respondents::opt_out_by_invitation(conn, invitation_id)? {
            return Ok(false);
        }
        outbox::cancel_for_invitation(conn, invitation_id)?;
        Ok(true)
    })
}

/// One row of the coverage table.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CoverageRow {
    /// Unit code.
    pub unit_code: String,
    /// Unit name (Vietnamese).
    pub unit_name_vi: String,
    /// Unit name (English).
    pub unit_name_en: String,
    /// Region code.
    pub region: Option<String>,
    /// Group code.
    pub group_code: String,
    /// Target sample size (0 when none was set).
    pub target: i64,
    /// Respondents listed.
    pub listed: i64,
    /// Codes given to listed respondents.
    pub invited: i64,
    /// Responses started (drafts) or submitted.
    pub started: i64,
    /// Responses submitted.
    pub completed: i64,
}

impl CoverageRow {
    /// Completed as a percentage of the target (or of those invited when there is no target).
    pub fn response_rate(&self) -> Option<f64> {
        let base = if self.target > 0 {
            self.target
        } else {
            self.invited
        };
        (base > 0).then(|| self.completed as f64 * 100.0 / base as f64)
    }

    /// True when the unit has fewer completed responses than its target.
    pub fn behind_target(&self) -> bool {
        self.target > 0 && self.completed < self.target
    }
}

/// Coverage as a user may see it: a coordinator (`coordinator = Some(user id)`) only their own
/// units, everyone else all of them.
pub fn coverage_for(
    conn: &mut AnyConnection,
    round_id: i64,
    coordinator: Option<i64>,
) -> Result<Vec<CoverageRow>> {
    let mut rows = coverage(conn, round_id)?;
    if let Some(user_id) = coordinator {
        let mine = db::users::unit_ids(conn, user_id)?;
        let codes: HashSet<String> = db::rounds::units(conn, round_id)?
            .into_iter()
            .filter(|u| mine.contains(&u.id))
            .map(|u| u.code)
            .collect();
        rows.retain(|r| codes.contains(&r.unit_code));
    }
    Ok(rows)
}

/// How many people are listed in a round, as a user may see it: a coordinator
/// (`coordinator = Some(user id)`) counts only the respondents of their own units.
pub fn respondent_count(
    conn: &mut AnyConnection,
    round_id: i64,
    coordinator: Option<i64>,
) -> Result<i64> {
    let Some(user_id) = coordinator else {
        return Ok(db::respondents::count_in_round(conn, round_id)?);
    };
    let mine: HashSet<i64> = db::users::unit_ids(conn, user_id)?.into_iter().collect();
    Ok(db::coverage::respondents(conn, round_id)?
        .into_iter()
        .filter(|(unit, _, _)| mine.contains(unit))
        .map(|(_, _, n)| n)
        .sum())
}

/// Coverage per unit × configured group: target, listed, invited, started, completed.
pub fn coverage(conn: &mut AnyConnection, round_id: i64) -> Result<Vec<CoverageRow>> {
    round_or_404(conn, round_id)?;
    let units = db::rounds::units(conn, round_id)?;
    let configured = db::rounds::groups(conn, round_id)?;
    let index = |rows: db::coverage::Counts| -> BTreeMap<(i64, i64), i64> {
        rows.into_iter().map(|(u, g, n)| ((u, g), n)).collect()
    };
    let targets: BTreeMap<(i64, i64), i64> = db::rounds::targets(conn, round_id)?
        .into_iter()
        .map(|(u, g, t)| ((u, g), i64::from(t)))
        .collect();
    let listed = index(db::coverage::respondents(conn, round_id)?);
    let invited = index(db::coverage::invited(conn, round_id)?);
    let started = index(db::coverage::started(conn, round_id)?);
    let completed = index(db::coverage::completed(conn, round_id)?);
    let mut rows = Vec::with_capacity(units.len() * configured.len());
    for unit in &units {
        for group in &configured {
            let key = (unit.id, group.group_id);
            let get = |m: &BTreeMap<(i64, i64), i64>| m.get(&key).copied().unwrap_or(0);
            rows.push(CoverageRow {
                unit_code: unit.code.clone(),
                unit_name_vi: unit.name_vi.clone(),
                unit_name_en: unit.name_en.clone(),
                region: unit.region_code.clone(),
                group_code: group.group_code.clone(),
                target: get(&targets),
                listed: get(&listed),
                invited: get(&invited),
                started: get(&started),
                completed: get(&completed),
            });
        }
    }
    Ok(rows)
}

/// The public token of an open link, derived from the link's id with the secret key: it can
/// be shown again to administrators, yet only its hash is stored.
pub fn open_link_token(secret: &SecretKey, open_link_id: i64) -> String {
    secret.sign("open-link", &open_link_id.to_string())[..32].to_owned()
}

/// Creates (or updates the quota of) the open link of a unit × group and returns its token.
pub fn set_open_link(
    conn: &mut AnyConnection,
    secret: &SecretKey,
    round_id: i64,
    unit_id: i64,
    group_code: &str,
    quota: i32,
    actor: Actor<'_>,
) -> Result<String> {
    if !(1..=1_000_000).contains(&quota) {
        return Err(invalid(format!(
            "quota {quota}: use a number from 1 to 1,000,000"
        )));
    }
    db::write_transaction(conn, |conn| {
        round_or_404(conn, round_id)?;
        let group_id = db::rounds::group_id(conn, group_code)?
            .ok_or_else(|| invalid(format!("unknown respondent group '{group_code}'")))?;
        if !db::rounds::units(conn, round_id)?
            .iter()
            .any(|u| u.id == unit_id)
        {
            return Err(invalid("the unit is not part of this round"));
        }
        let id = db::open_links::upsert(conn, round_id, unit_id, group_id, quota, |id| {
            hash_token(&open_link_token(secret, id))
        })?;
        audit(
            conn,
            actor,
            "round:open_link",
            round_id,
            None,
            Some(
                serde_json::json!({ "unit_id": unit_id, "group": group_code, "quota": quota })
                    .to_string(),
            ),
        )?;
        Ok(open_link_token(secret, id))
    })
}

/// Why an open-link visitor got no code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpenLinkRefusal {
    /// No such link, or it was switched off.
    Unknown,
    /// The round is not accepting responses now.
    NotOpen,
    /// The quota is used up.
    QuotaReached,
}

/// Gives an open-link visitor a one-time code, counting it against the link's quota.
pub fn start_from_open_link(
    conn: &mut AnyConnection,
    secret: &SecretKey,
    token: &str,
) -> Result<std::result::Result<AccessCode, OpenLinkRefusal>> {
    db::write_transaction(conn, |conn| {
        let Some(link) = db::open_links::by_token_hash(conn, &hash_token(token))? else {
            return Ok(Err(OpenLinkRefusal::Unknown));
        };
        if !link.active {
            return Ok(Err(OpenLinkRefusal::Unknown));
        }
        let round = round_or_404(conn, link.round_id)?;
        if !status_of(&round)?.accepts_responses(db::now(), round.opens_at, round.closes_at) {
            return Ok(Err(OpenLinkRefusal::NotOpen));
        }
        if !db::open_links::take_one(conn, link.id)? {
            return Ok(Err(OpenLinkRefusal::QuotaReached));
        }
        let (_, code) = issue_new_code(
            conn,
            secret,
            link.round_id,
            link.unit_id,
            link.group_id,
            "open_link",
            Some(link.id),
        )?;
        Ok(Ok(code))
    })
}

/// Chooses the earlier round year-over-year comparisons use. Analysis configuration: allowed
/// in every state, and audited.
pub fn set_compare_round(
    conn: &mut AnyConnection,
    round_id: i64,
    earlier: Option<i64>,
    actor: Actor<'_>,
) -> Result<()> {
    db::write_transaction(conn, |conn| {
        let round = round_or_404(conn, round_id)?;
        if let Some(other) = earlier {
            if other == round_id {
                return Err(invalid("a round cannot be compared with itself"));
            }
            let earlier_round = round_or_404(conn, other)?;
            if earlier_round.year >= round.year {
                return Err(invalid(format!(
                    "round {other} is from {}, not earlier than {}",
                    earlier_round.year, round.year
                )));
            }
        }
        db::rounds::set_compare_round(conn, round_id, earlier)?;
        audit(
            conn,
            actor,
            "round:set_compare",
            round_id,
            Some(serde_json::json!({ "compare_round_id": round.compare_round_id }).to_string()),
            Some(serde_json::json!({ "compare_round_id": earlier }).to_string()),
        )?;
        Ok(())
    })
}
