//! Login sessions: an opaque random cookie whose hash keys a row in `sessions`. Stored
//! server-side so that every instance sharing the database accepts it and logout ends it.

use actix_web::cookie::{Cookie, SameSite, time::Duration as CookieDuration};
use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};
use futures_util::future::LocalBoxFuture;

use crate::app::actor::Actor;
use crate::app::auth::tokens::{hash_token, random_token};
use crate::app::auth::viewer::{StaffViewer, Viewer};
use crate::app::state::AppState;
use crate::db;
use crate::db::users::User;
use crate::domain::account::Role;
use crate::error::{AppError, AppResult};

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "ks_session";
/// How long a session lasts after login.
pub const SESSION_HOURS: i64 = 12;

/// Builds the session cookie: HttpOnly (no script can read it), SameSite=Lax (not sent on
/// cross-site POSTs), Secure when served over HTTPS.
pub fn session_cookie(token: &str, secure: bool) -> Cookie<'static> {
    Cookie::build(SESSION_COOKIE, token.to_owned())
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(secure)
        .max_age(CookieDuration::hours(SESSION_HOURS))
        .finish()
}

/// A cookie that deletes the session cookie in the browser.
pub fn clear_session_cookie(secure: bool) -> Cookie<'static> {
    let mut cookie = session_cookie("", secure);
    cookie.make_removal();
    cookie
}

/// Starts a session for `user_id` and returns the cookie value. Any session the browser had
/// before is ended first, so a session id planted before login is worthless (fixation).
pub fn start(
    conn: &mut db::AnyConnection,
    user_id: i64,
    previous_token: Option<&str>,
) -> AppResult<String> {
    if let Some(previous) = previous_token {
        db::sessions::delete(conn, &hash_token(previous))?;
    }
    let token = random_token();
    let now = db::now();
    db::sessions::insert(
        conn,
        &hash_token(&token),
        user_id,
        now,
        now + chrono::Duration::hours(SESSION_HOURS),
    )?;
    db::users::touch_login(conn, user_id)?;
    Ok(token)
}

/// The logged-in account of a request. Extracting it from a request without a valid session
/// fails with [`AppError::LoginRequired`], which sends browsers to the login page.
#[derive(Debug, Clone)]
pub struct CurrentUser {
    /// The account.
    pub user: User,
    /// The parsed role.
    pub role: Role,
}

impl CurrentUser {
    /// Fails with 403 unless the account has one of `roles`. Every handler states its roles.
    pub fn require(&self, roles: &[Role]) -> AppResult<()> {
        if roles.contains(&self.role) {
            Ok(())
        } else {
            Err(AppError::Forbidden)
        }
    }

    /// The account as a viewer of results and fieldwork (what units it may see).
    pub fn viewer(&self) -> Viewer {
        Viewer::of(Some((self.user.id, self.role)))
    }

    /// The account as the reader of a staff page (what units it works within).
    pub fn staff_viewer(&self) -> StaffViewer {
        StaffViewer {
            user_id: self.user.id,
            role: self.role,
        }
    }

    /// The account as the actor of a use case: the audit log and the permission check both
    /// read this one identity.
    pub fn actor(&self) -> Actor<'_> {
        Actor {
            user_id: Some(self.user.id),
            label: &self.user.email,
            role: self.role,
        }
    }
}

/// The session token sent with a request, if any.
pub fn token_of(req: &HttpRequest) -> Option<String> {
    req.cookie(SESSION_COOKIE)
        .map(|c| c.value().to_owned())
        .filter(|v| !v.is_empty())
}

impl FromRequest for CurrentUser {
    type Error = AppError;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let token = token_of(req);
        let state = req.app_data::<web::Data<AppState>>().cloned();
        Box::pin(async move {
            let state = state.ok_or_else(|| AppError::internal(anyhow::anyhow!("no app state")))?;
            let token = token.ok_or(AppError::LoginRequired)?;
            let user = state
                .db(move |conn| {
                    Ok(db::sessions::user_for(
                        conn,
                        &hash_token(&token),
                        db::now(),
                    )?)
                })
                .await?
                .ok_or(AppError::LoginRequired)?;
            let role = user.role;
            Ok(CurrentUser { user, role })
        })
    }
}
