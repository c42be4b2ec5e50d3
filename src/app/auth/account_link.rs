//! One-time account links. An administrator adds an account without a password; its owner
//! chooses one through a link that works once, for 72 hours, while the account is active. The
//! administrator hands the link over but never knows the password. Only the link token's
//! SHA-256 digest is stored, and the page that shows the link gets the token in a short-lived
//! cookie, so the link appears once and never sits in the database, a URL or a log.

use actix_web::cookie::{Cookie, SameSite, time::Duration as CookieDuration};

use crate::app::auth::tokens::{hash_token, random_token};
use crate::app::auth::{session, throttle};
use crate::db::audit::{AuditEntry, record};
use crate::db::users::User;
use crate::db::{self, AnyConnection};
use crate::domain::throttle::ACCOUNT_LINK_PER_IP;
use crate::error::{AppError, AppResult};

/// How long an account link stays usable: long enough to reach someone over a weekend.
pub const LINK_HOURS: i64 = 72;

/// The cookie that carries a freshly made link's token to the page that shows it.
pub const LINK_COOKIE: &str = "ks_account_link";

/// How long the link page may still show a fresh link after it was made.
const SHOW_MINUTES: i64 = 10;

/// Makes a new link for the account, spending every earlier one, and returns its token.
/// Runs inside the caller's transaction.
pub fn issue(conn: &mut AnyConnection, user_id: i64) -> AppResult<String> {
    let now = db::now();
    db::account_links::spend_all_of_user(conn, user_id, now)?;
    let token = random_token();
    db::account_links::insert(
        conn,
        &hash_token(&token),
        user_id,
        now,
        now + chrono::Duration::hours(LINK_HOURS),
    )?;
    Ok(token)
}

/// The full address of a link, under the site's public base URL.
pub fn url(base_url: &str, token: &str) -> String {
    format!("{base_url}/admin/welcome/{token}")
}

/// The path of the page that shows an account's fresh link (and the only path its cookie is
/// sent to).
pub fn page_path(user_id: i64) -> String {
    format!("/admin/accounts/{user_id}/link")
}

/// The cookie that hands a fresh token to the link page: HttpOnly, sent only to that page
/// (SameSite=Strict), for a few minutes; the page removes it once shown.
pub fn link_cookie(user_id: i64, token: &str, secure: bool) -> Cookie<'static> {
    Cookie::build(LINK_COOKIE, token.to_owned())
        .path(page_path(user_id))
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(secure)
        .max_age(CookieDuration::minutes(SHOW_MINUTES))
        .finish()
}

/// A cookie that removes the link cookie of an account's page.
pub fn clear_link_cookie(user_id: i64, secure: bool) -> Cookie<'static> {
    let mut cookie = link_cookie(user_id, "", secure);
    cookie.make_removal();
    cookie
}

/// What a link leads to.
#[derive(Debug, Clone)]
pub enum LinkState {
    /// A link that may still set this account's password.
    Usable(User),
    /// A link that existed but no longer works: used, replaced, expired, or its account was
    /// deactivated.
    Spent,
    /// No such link.
    Unknown,
}

/// The state of the link whose token hashes to `token_hash`.
pub fn state(conn: &mut AnyConnection, token_hash: &str) -> AppResult<LinkState> {
    let Some(link) = db::account_links::by_hash(conn, token_hash)? else {
        return Ok(LinkState::Unknown);
    };
    if link.used_at.is_some() || link.expires_at <= db::now() {
        return Ok(LinkState::Spent);
    }
    Ok(match db::users::by_id(conn, link.user_id)? {
        Some(user) if user.active => LinkState::Usable(user),
        Some(_) => LinkState::Spent,
        None => LinkState::Unknown,
    })
}

/// Counts a submission against the sender's address, then tells the link's state. The link
/// is checked before the password is hashed: guessing links costs a lookup, never a 19 MiB
/// hash.
pub fn check_submission(
    conn: &mut AnyConnection,
    token_hash: &str,
    client_ip: &str,
) -> AppResult<LinkState> {
    let ip_key = format!("account-link:ip:{client_ip}");
    throttle::reserve(conn, &[(&ip_key, ACCOUNT_LINK_PER_IP)])?;
    state(conn, token_hash)
}

/// What the page of an account's new link shows: the account, and the token only when it is
/// a usable link of that same account (a token cookie meant for another page shows nothing).
pub fn link_page(
    conn: &mut AnyConnection,
    user_id: i64,
    token: Option<String>,
) -> AppResult<(Option<crate::db::users::User>, Option<String>)> {
    let account = crate::db::users::by_id(conn, user_id)?;
    let shown = match (&account, token) {
        (Some(_), Some(token)) => is_usable_link_of(conn, &token, user_id)?.then_some(token),
        _ => None,
    };
    Ok((account, shown))
}

/// Whether `token` (from the link cookie) is a usable link of account `user_id`: the link
/// page shows only such a token, so a stale or planted cookie shows nothing.
pub fn is_usable_link_of(conn: &mut AnyConnection, token: &str, user_id: i64) -> AppResult<bool> {
    Ok(matches!(
        state(conn, &hash_token(token))?,
        LinkState::Usable(user) if user.id == user_id
    ))
}

/// Sets the password of the link's account, spends the link and starts a session (ending
/// `previous_session`), all in one write transaction, so of two submissions racing on one link
/// exactly one wins. Returns the session token, or `None` when the link no longer works.
pub fn choose_password(
    conn: &mut AnyConnection,
    token_hash: &str,
    password_hash: &str,
    previous_session: Option<&str>,
) -> AppResult<Option<String>> {
    db::write_transaction(conn, |conn| {
        let LinkState::Usable(user) = state(conn, token_hash)? else {
            return Ok(None);
        };
        let now = db::now();
        if !db::account_links::consume(conn, token_hash, now)? {
            return Ok(None);
        }
        // Any other link of the account would set the password a second time.
        db::account_links::spend_all_of_user(conn, user.id, now)?;
        db::users::set_password(conn, &user.email, password_hash)?;
        record(
            conn,
            &AuditEntry::new(
                Some(user.id),
                &user.email,
                "user:password_chosen",
                "user",
                user.id,
            )
            .after(serde_json::json!({ "via": "account_link" })),
        )?;
        let session_token = session::start(conn, user.id, previous_session)?;
        Ok::<_, AppError>(Some(session_token))
    })
}
