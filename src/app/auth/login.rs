//! Logging in and out: the throttle around a login attempt, and the session it starts or
//! ends. The password itself is checked between the two steps, off the async executor.

use crate::app::auth::{session, throttle, tokens::hash_token};
use crate::db::{self, AnyConnection, users::User};
use crate::domain::throttle::{LOGIN_PER_ACCOUNT, LOGIN_PER_IP};
use crate::error::AppResult;

/// The throttle keys of one login attempt: what was typed (valid address or not, so probing
/// costs attempts too) and the client's address.
#[derive(Debug, Clone)]
pub struct Attempt {
    account_key: String,
    ip_key: String,
    typed: String,
}

impl Attempt {
    /// An attempt to log in as `typed` (already trimmed and lower-cased) from `client_ip`.
    pub fn new(typed: &str, client_ip: &str) -> Self {
        Self {
            account_key: format!("login:account:{typed}"),
            ip_key: format!("login:ip:{client_ip}"),
            typed: typed.to_owned(),
        }
    }
}

/// Counts the attempt and returns the account it names, if any. The attempt is counted before
/// the slow password check, atomically, so concurrent guesses cannot all pass a check made
/// before any of them was recorded; too many attempts are refused here.
pub fn begin(conn: &mut AnyConnection, attempt: &Attempt) -> AppResult<Option<User>> {
    throttle::reserve(
        conn,
        &[
            (&attempt.account_key, LOGIN_PER_ACCOUNT),
            (&attempt.ip_key, LOGIN_PER_IP),
        ],
    )?;
    Ok(db::users::by_email(conn, &attempt.typed)?)
}

/// Completes a successful attempt: wipes the account's failures, gives the address back the
/// attempt it reserved, and starts a session (ending `previous_token`'s). Returns the new
/// session token.
pub fn succeed(
    conn: &mut AnyConnection,
    attempt: &Attempt,
    user_id: i64,
    previous_token: Option<&str>,
) -> AppResult<String> {
    throttle::clear(conn, &attempt.account_key)?;
    throttle::refund(conn, &[(&attempt.ip_key, LOGIN_PER_IP)])?;
    session::start(conn, user_id, previous_token)
}

/// Ends the session whose cookie value is `token`.
pub fn logout(conn: &mut AnyConnection, token: &str) -> AppResult<()> {
    db::sessions::delete(conn, &hash_token(token))?;
    Ok(())
}
