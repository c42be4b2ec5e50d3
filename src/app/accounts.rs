//! Account operations shared by the web pages and the CLI: creating users (with a password,
//! or through the page without one and with a one-time link for its owner), resetting
//! passwords, changing roles, assigning a coordinator's units and deactivating accounts, each
//! with its audit entry. Callers hash the password first (off the executor).

use std::collections::{BTreeMap, HashSet};

use crate::app::actor::Actor;
use crate::app::auth::account_link;
use crate::db::audit::{AuditEntry, record};
use crate::db::units::{UnitRow, UnitSetRow};
use crate::db::users::{NewUser, User};
use crate::db::{self, AnyConnection};
use crate::domain::account::{Email, NO_PASSWORD, Role, unit_match_key};
use crate::error::{AppError, AppResult};

/// Why an account could not be created.
#[derive(Debug, thiserror::Error)]
pub enum CreateUserError {
    /// The e-mail is taken.
    #[error("an account with this e-mail already exists")]
    EmailTaken,
    /// A database failure.
    #[error(transparent)]
    App(#[from] AppError),
}

impl From<diesel::result::Error> for CreateUserError {
    fn from(e: diesel::result::Error) -> Self {
        if db::is_unique_violation(&e) {
            CreateUserError::EmailTaken
        } else {
            CreateUserError::App(e.into())
        }
    }
}

/// Inserts an account and its audit entry, inside the caller's transaction.
pub fn create_user(
    conn: &mut AnyConnection,
    email: &Email,
    name: &str,
    role: Role,
    password_hash: &str,
    actor: &str,
    actor_user_id: Option<i64>,
) -> Result<User, CreateUserError> {
    if db::users::by_email(conn, email.as_str())?.is_some() {
        return Err(CreateUserError::EmailTaken);
    }
    let now = db::now();
    let user = db::users::insert(
        conn,
        &NewUser {
            email: email.as_str(),
            name,
            role: role.code(),
            password_hash,
            created_at: now,
            updated_at: now,
        },
    )?;
    record(
        conn,
        &AuditEntry::new(actor_user_id, actor, "user:create", "user", user.id).after(
            serde_json::json!({ "email": user.email, "name": user.name, "role": user.role.code() }),
        ),
    )?;
    Ok(user)
}

/// An account added through the accounts page, with the token of its owner's link.
#[derive(Debug, Clone)]
pub struct AddedAccount {
    /// The new account (without a password).
    pub user: User,
    /// The token of the one-time link with which its owner chooses a password.
    pub link_token: String,
}

/// Adds an account without a password (nobody can log in to it until its owner uses the link)
/// and makes its first one-time link, in one transaction: an account never exists without a
/// way in. Only administrators may.
pub fn add_account(
    conn: &mut AnyConnection,
    actor: Actor<'_>,
    email: &Email,
    name: &str,
    role: Role,
) -> Result<AddedAccount, CreateUserError> {
    if actor.role != Role::Admin {
        return Err(AppError::Forbidden.into());
    }
    db::write_transaction(conn, |conn| {
        let user = create_user(
            conn,
            email,
            name,
            role,
            NO_PASSWORD,
            actor.label,
            actor.user_id,
        )?;
        let link_token = account_link::issue(conn, user.id)?;
        Ok(AddedAccount { user, link_token })
    })
}

/// Makes a new one-time link for an account whose owner has not chosen a password yet,
/// spending the earlier ones (a lost or expired link is replaced, never revived). Returns the
/// token.
pub fn new_link(
    conn: &mut AnyConnection,
    actor: Actor<'_>,
    user_id: i64,
) -> Result<String, AccountChangeError> {
    require_admin(actor)?;
    db::write_transaction(conn, |conn| {
        let user = db::users::by_id(conn, user_id)?.ok_or(AccountChangeError::NotFound)?;
        if user.has_password() {
            return Err(AccountChangeError::PasswordChosen);
        }
        if !user.active {
            return Err(AccountChangeError::Inactive);
        }
        let token = account_link::issue(conn, user_id)?;
        record(
            conn,
            &AuditEntry::new(actor.user_id, actor.label, "user:link", "user", user_id)
                .after(serde_json::json!({ "valid_hours": account_link::LINK_HOURS })),
        )?;
        Ok(token)
    })
}

/// What a password reset ended besides the old password.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PasswordReset {
    /// Login sessions ended.
    pub sessions_ended: usize,
    /// API tokens revoked.
    pub tokens_revoked: usize,
}

/// Replaces a password, ends the account's sessions, revokes its API tokens (a reset is what
/// one does after a leak, and a token outlives any password) and records it. `None` if no
/// such account.
pub fn reset_password(
    conn: &mut AnyConnection,
    email: &Email,
    password_hash: &str,
    actor: &str,
) -> AppResult<Option<PasswordReset>> {
    db::write_transaction(conn, |conn| {
        let Some(user) = db::users::by_email(conn, email.as_str())? else {
            return Ok(None);
        };
        db::users::set_password(conn, email.as_str(), password_hash)?;
        let reset = PasswordReset {
            sessions_ended: db::sessions::delete_for_user(conn, user.id)?,
            tokens_revoked: db::api_tokens::revoke_all_of_user(conn, user.id, db::now())?,
        };
        record(
            conn,
            &AuditEntry::new(None, actor, "user:reset_password", "user", user.id)
                .after(serde_json::json!({ "api_tokens_revoked": reset.tokens_revoked })),
        )?;
        Ok::<_, AppError>(Some(reset))
    })
}

/// Why a change to an account was refused.
#[derive(Debug, thiserror::Error)]
pub enum AccountChangeError {
    /// No account with that id or e-mail.
    #[error("no such account")]
    NotFound,
    /// The change would leave no active administrator, and nobody could manage accounts.
    #[error("the last active administrator cannot be deactivated or given another role")]
    LastAdmin,
    /// Units are assigned to coordinators only (other roles see every unit or none).
    #[error("only coordinators are assigned units")]
    NotCoordinator,
    /// A unit reference (a code, a name or an id) matches no unit.
    #[error("'{0}' is not a unit")]
    UnknownUnit(String),
    /// A unit reference matches several units of one set.
    #[error("'{reference}' matches several units: {matches}")]
    AmbiguousUnit {
        /// What was typed.
        reference: String,
        /// The units it matches, as `code name`.
        matches: String,
    },
    /// The account's owner has chosen a password: a link would replace it behind their back.
    #[error("the account's owner has already chosen a password")]
    PasswordChosen,
    /// The account is deactivated, and its links would not work.
    #[error("the account is deactivated")]
    Inactive,
    /// A database failure, or an actor who is not an administrator.
    #[error(transparent)]
    App(#[from] AppError),
}

impl From<diesel::result::Error> for AccountChangeError {
    fn from(e: diesel::result::Error) -> Self {
        AccountChangeError::App(e.into())
    }
}

impl AccountChangeError {
    /// The message-catalogue key of a refusal (`App` errors are shown by their own means).
    pub fn message_key(&self) -> &'static str {
        match self {
            AccountChangeError::NotFound => "accounts.error.not_found",
            AccountChangeError::LastAdmin => "accounts.error.last_admin",
            AccountChangeError::NotCoordinator => "accounts.error.not_coordinator",
            AccountChangeError::UnknownUnit(_) => "accounts.error.unknown_unit",
            AccountChangeError::AmbiguousUnit { .. } => "accounts.error.ambiguous_unit",
            AccountChangeError::PasswordChosen => "accounts.error.password_chosen",
            AccountChangeError::Inactive => "accounts.error.link_inactive",
            AccountChangeError::App(_) => "error.internal.title",
        }
    }

    /// The placeholders of the refusal's message.
    pub fn message_args(&self) -> Vec<(&'static str, String)> {
        match self {
            AccountChangeError::UnknownUnit(unit) => vec![("unit", unit.clone())],
            AccountChangeError::AmbiguousUnit { reference, matches } => {
                vec![("unit", reference.clone()), ("matches", matches.clone())]
            }
            _ => Vec::new(),
        }
    }
}

/// Only administrators manage accounts; the routes check too, this guards every other caller.
fn require_admin(actor: Actor<'_>) -> Result<(), AccountChangeError> {
    if actor.role == Role::Admin {
        Ok(())
    } else {
        Err(AppError::Forbidden.into())
    }
}

/// One line of the accounts list.
#[derive(Debug, Clone)]
pub struct AccountSummary {
    /// The account.
    pub user: User,
    /// The units it is assigned to, by set then code.
    pub units: Vec<UnitRow>,
}

/// Every account with its units, by e-mail.
pub fn list(conn: &mut AnyConnection) -> AppResult<Vec<AccountSummary>> {
    let units: BTreeMap<i64, UnitRow> = db::units::all_units(conn)?
        .into_iter()
        .map(|u| (u.id, u))
        .collect();
    let mut assigned: BTreeMap<i64, Vec<UnitRow>> = BTreeMap::new();
    for (user_id, unit_id) in db::users::all_unit_assignments(conn)? {
        if let Some(unit) = units.get(&unit_id) {
            assigned.entry(user_id).or_default().push(unit.clone());
        }
    }
    Ok(db::users::all(conn)?
        .into_iter()
        .map(|user| {
            let mut units = assigned.remove(&user.id).unwrap_or_default();
            units.sort_by(|a, b| (a.unit_set_id, &a.code).cmp(&(b.unit_set_id, &b.code)));
            AccountSummary { user, units }
        })
        .collect())
}

/// What the page of one account shows: the account, its units and every unit to choose from.
#[derive(Debug, Clone)]
pub struct AccountDetail {
    /// The account.
    pub user: User,
    /// The ids of its units.
    pub assigned: HashSet<i64>,
    /// Every unit set with its units, for the assignment form.
    pub sets: Vec<(UnitSetRow, Vec<UnitRow>)>,
}

/// The account with this id and what its page needs; `None` if there is none.
pub fn detail(conn: &mut AnyConnection, user_id: i64) -> AppResult<Option<AccountDetail>> {
    let Some(user) = db::users::by_id(conn, user_id)? else {
        return Ok(None);
    };
    let assigned = db::users::unit_ids(conn, user_id)?.into_iter().collect();
    let mut sets = Vec::new();
    for set in db::units::sets(conn)? {
        let units = db::units::units_of_set(conn, set.id)?;
        sets.push((set, units));
    }
    Ok(Some(AccountDetail {
        user,
        assigned,
        sets,
    }))
}

/// The account with this e-mail, or [`AccountChangeError::NotFound`].
pub fn by_email(conn: &mut AnyConnection, email: &Email) -> Result<User, AccountChangeError> {
    db::users::by_email(conn, email.as_str())?.ok_or(AccountChangeError::NotFound)
}

/// Whether taking `user`'s administrator rights away would leave no active administrator.
fn is_last_active_admin(conn: &mut AnyConnection, user: &User) -> Result<bool, AccountChangeError> {
    Ok(user.role == Role::Admin && user.active && db::users::count_active_admins(conn)? <= 1)
}

/// Gives an account another role, refusing to demote the last active administrator. Units
/// are kept, so a coordinator made analyst and back gets them again. Returns the account.
pub fn change_role(
    conn: &mut AnyConnection,
    actor: Actor<'_>,
    user_id: i64,
    role: Role,
) -> Result<User, AccountChangeError> {
    require_admin(actor)?;
    db::write_transaction(conn, |conn| {
        let user = db::users::by_id(conn, user_id)?.ok_or(AccountChangeError::NotFound)?;
        if user.role == role {
            return Ok(user);
        }
        if is_last_active_admin(conn, &user)? {
            return Err(AccountChangeError::LastAdmin);
        }
        db::users::set_role(conn, user_id, role)?;
        record(
            conn,
            &AuditEntry::new(actor.user_id, actor.label, "user:role", "user", user_id)
                .before(serde_json::json!({ "role": user.role.code() }))
                .after(serde_json::json!({ "role": role.code() })),
        )?;
        db::users::by_id(conn, user_id)?.ok_or(AccountChangeError::NotFound)
    })
}

/// Replaces a coordinator's units with `unit_ids` (every id must be a unit). Returns the units
/// now assigned, by set then code.
pub fn assign_units(
    conn: &mut AnyConnection,
    actor: Actor<'_>,
    user_id: i64,
    unit_ids: &[i64],
) -> Result<Vec<UnitRow>, AccountChangeError> {
    require_admin(actor)?;
    db::write_transaction(conn, |conn| {
        let user = db::users::by_id(conn, user_id)?.ok_or(AccountChangeError::NotFound)?;
        if user.role != Role::Coordinator {
            return Err(AccountChangeError::NotCoordinator);
        }
        let all: BTreeMap<i64, UnitRow> = db::units::all_units(conn)?
            .into_iter()
            .map(|u| (u.id, u))
            .collect();
        let wanted: std::collections::BTreeSet<i64> = unit_ids.iter().copied().collect();
        if let Some(unknown) = wanted.iter().find(|id| !all.contains_key(id)) {
            return Err(AccountChangeError::UnknownUnit(unknown.to_string()));
        }
        let before = codes(&all, &db::users::unit_ids(conn, user_id)?);
        db::users::clear_units(conn, user_id)?;
        for id in &wanted {
            db::users::add_unit(conn, user_id, *id)?;
        }
        let ids: Vec<i64> = wanted.into_iter().collect();
        record(
            conn,
            &AuditEntry::new(actor.user_id, actor.label, "user:units", "user", user_id)
                .before(serde_json::json!({ "units": before }))
                .after(serde_json::json!({ "units": codes(&all, &ids) })),
        )?;
        let mut units: Vec<UnitRow> = ids.iter().filter_map(|id| all.get(id).cloned()).collect();
        units.sort_by(|a, b| (a.unit_set_id, &a.code).cmp(&(b.unit_set_id, &b.code)));
        Ok(units)
    })
}

/// `set:code` of each unit, sorted: how the audit log names units unambiguously.
fn codes(all: &BTreeMap<i64, UnitRow>, ids: &[i64]) -> Vec<String> {
    let mut out: Vec<String> = ids
        .iter()
        .filter_map(|id| all.get(id))
        .map(|u| format!("{}:{}", u.unit_set_id, u.code))
        .collect();
    out.sort();
    out
}

/// The units that typed references (codes or names, in any case, with or without diacritics
/// and "Tỉnh"/"Thành phố") name. A reference may match one unit in each of several sets (the
/// same province before and after 2025) and then names them all; two units of one set are
/// ambiguous and refused with both named.
pub fn resolve_units(
    conn: &mut AnyConnection,
    references: &[&str],
) -> Result<Vec<i64>, AccountChangeError> {
    let all = db::units::all_units(conn)?;
    let mut ids = Vec::new();
    for reference in references {
        let key = unit_match_key(reference);
        let by_code: Vec<&UnitRow> = all
            .iter()
            .filter(|u| unit_match_key(&u.code) == key)
            .collect();
        let matches = if by_code.is_empty() {
            all.iter()
                .filter(|u| unit_match_key(&u.name_vi) == key || unit_match_key(&u.name_en) == key)
                .collect()
        } else {
            by_code
        };
        if matches.is_empty() {
            return Err(AccountChangeError::UnknownUnit((*reference).to_owned()));
        }
        let mut per_set: BTreeMap<i64, Vec<&UnitRow>> = BTreeMap::new();
        for unit in &matches {
            per_set.entry(unit.unit_set_id).or_default().push(unit);
        }
        if let Some(several) = per_set.values().find(|units| units.len() > 1) {
            return Err(AccountChangeError::AmbiguousUnit {
                reference: (*reference).to_owned(),
                matches: several
                    .iter()
                    .map(|u| format!("{} {}", u.code, u.name_vi))
                    .collect::<Vec<_>>()
                    .join(", "),
            });
        }
        ids.extend(matches.iter().map(|u| u.id));
    }
    Ok(ids)
}

/// What activating or deactivating an account did.
#[derive(Debug, Clone)]
pub struct ActiveChange {
    /// The account afterwards.
    pub user: User,
    /// Whether anything changed (it was not already in that state).
    pub changed: bool,
    /// Login sessions ended (deactivation only).
    pub sessions_ended: usize,
    /// API tokens revoked (deactivation only).
    pub tokens_revoked: usize,
}

/// Deactivates (`active = false`) or reactivates an account. Deactivation ends its sessions,
/// revokes its API tokens and spends its password links at once, in the same transaction, so
/// nothing it held still works; the last active administrator cannot be deactivated.
pub fn set_active(
    conn: &mut AnyConnection,
    actor: Actor<'_>,
    user_id: i64,
    active: bool,
) -> Result<ActiveChange, AccountChangeError> {
    require_admin(actor)?;
    db::write_transaction(conn, |conn| {
        let user = db::users::by_id(conn, user_id)?.ok_or(AccountChangeError::NotFound)?;
        if !active && is_last_active_admin(conn, &user)? {
            return Err(AccountChangeError::LastAdmin);
        }
        let changed = user.active != active;
        let (mut sessions_ended, mut tokens_revoked) = (0, 0);
        if !active {
            // Even an account already inactive loses whatever it still holds, its password
            // links included: reactivating must not revive a link handed out before.
            sessions_ended = db::sessions::delete_for_user(conn, user_id)?;
            tokens_revoked = db::api_tokens::revoke_all_of_user(conn, user_id, db::now())?;
            db::account_links::spend_all_of_user(conn, user_id, db::now())?;
        }
        if changed {
            db::users::set_active(conn, user_id, active)?;
            record(
                conn,
                &AuditEntry::new(
                    actor.user_id,
                    actor.label,
                    if active {
                        "user:activate"
                    } else {
                        "user:deactivate"
                    },
                    "user",
                    user_id,
                )
                .before(serde_json::json!({ "active": user.active }))
                .after(serde_json::json!({
                    "active": active,
                    "sessions_ended": sessions_ended,
                    "api_tokens_revoked": tokens_revoked,
                })),
            )?;
        }
        let user = db::users::by_id(conn, user_id)?.ok_or(AccountChangeError::NotFound)?;
        Ok(ActiveChange {
            user,
            changed,
            sessions_ended,
            tokens_revoked,
        })
    })
}
