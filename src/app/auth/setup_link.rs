//! The one-time setup link that creates the first administrator: issued at a start with no
//! accounts, usable once, for an hour, and only while no account exists.

use crate::app::accounts::{CreateUserError, create_user};
use crate::app::auth::tokens::{hash_token, random_token};
use crate::app::auth::{session, throttle};
use crate::db::{self, AnyConnection};
use crate::domain::account::{Email, Role};
use crate::domain::throttle::SETUP_PER_IP;
use crate::error::{AppError, AppResult};

/// How long a setup link stays usable.
const LINK_HOURS: i64 = 1;

/// True when the link whose token hashes to `token_hash` may still create the first account.
pub fn usable(conn: &mut AnyConnection, token_hash: &str) -> AppResult<bool> {
    Ok(db::users::count(conn)? == 0 && db::setup_tokens::is_usable(conn, token_hash, db::now())?)
}

/// Counts a submission against the sender's address, then tells whether the link is usable.
/// The link is checked before the password is hashed: guessing links costs a lookup, never a
/// 19 MiB hash.
pub fn check_submission(
    conn: &mut AnyConnection,
    token_hash: &str,
    client_ip: &str,
) -> AppResult<bool> {
    let ip_key = format!("setup:ip:{client_ip}");
    throttle::reserve(conn, &[(&ip_key, SETUP_PER_IP)])?;
    usable(conn, token_hash)
}

/// The first administrator, as typed on the setup form.
#[derive(Debug)]
pub struct FirstAdmin<'a> {
    /// Their e-mail address.
    pub email: &'a Email,
    /// Their name.
    pub name: &'a str,
    /// The argon2id hash of their password.
    pub password_hash: &'a str,
}

/// Creates the first administrator and starts their session, returning the session token;
/// `None` when the link is no longer usable. The link is checked and used in one transaction,
/// so two submissions racing on one link create one account.
pub fn create_first_admin(
    conn: &mut AnyConnection,
    token_hash: &str,
    admin: &FirstAdmin<'_>,
) -> AppResult<Option<String>> {
    db::write_transaction(conn, |conn| {
        if db::users::count(conn)? != 0 || !db::setup_tokens::consume(conn, token_hash, db::now())?
        {
            return Ok(None);
        }
        let user = create_user(
            conn,
            admin.email,
            admin.name,
            Role::Admin,
            admin.password_hash,
            "setup-link",
            None,
        )
        .map_err(|e| match e {
            CreateUserError::App(e) => e,
            CreateUserError::EmailTaken => AppError::BadRequest("error.bad_request.body"),
        })?;
        let session_token = session::start(conn, user.id, None)?;
        Ok::<_, AppError>(Some(session_token))
    })
}

/// Creates a setup link when no account exists, returning the full URL to print. Called at
/// server start.
pub fn issue_if_no_users(conn: &mut AnyConnection, base_url: &str) -> AppResult<Option<String>> {
    if db::users::count(conn)? > 0 {
        return Ok(None);
    }
    let token = random_token();
    let now = db::now();
    db::setup_tokens::insert(
        conn,
        &hash_token(&token),
        now,
        now + chrono::Duration::hours(LINK_HOURS),
    )?;
    Ok(Some(format!("{base_url}/admin/setup/{token}")))
}
