//! Account operations shared by the web setup page and the CLI: creating users and resetting
//! passwords, each with its audit entry. Callers hash the password first (off the executor).

use crate::db::audit::{AuditEntry, record};
use crate::db::users::{NewUser, User};
use crate::db::{self, AnyConnection};
use crate::domain::account::{Email, Role};
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
        &AuditEntry {
            actor_user_id,
            actor,
            action: "user:create",
            entity: "user",
            entity_id: Some(user.id.to_string()),
            old_value: None,
            new_value: Some(
                serde_json::json!({ "email": user.email, "name": user.name, "role": user.role.code() })
                    .to_string(),
            ),
        },
    )?;
    Ok(user)
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
            &AuditEntry {
                actor,
                action: "user:reset_password",
                entity: "user",
                entity_id: Some(user.id.to_string()),
                new_value: Some(
                    serde_json::json!({ "api_tokens_revoked": reset.tokens_revoked }).to_string(),
                ),
                ..AuditEntry::default()
            },
        )?;
        Ok::<_, AppError>(Some(reset))
    })
}
