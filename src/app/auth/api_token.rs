//! Bearer tokens for the JSON API: `Authorization: Bearer ks_…`. A token acts as its owner
//! with the owner's unit scope, limited to reading unless it was made for writing.

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, http::header, web};
use futures_util::future::LocalBoxFuture;

use crate::app::auth::session::token_of;
use crate::app::auth::tokens::{hash_token, random_token};
use crate::app::auth::viewer::Viewer;
use crate::app::state::AppState;
use crate::db;
use crate::domain::account::Role;
use crate::error::{AppError, AppResult};

/// Every token starts with this, so leaked tokens are easy to find in code and logs.
pub const TOKEN_PREFIX: &str = "ks_";

/// How stale `last_used_at` may get before a request updates it; saves one write per call.
const TOUCH_EVERY_SECS: i64 = 60;

/// What a token may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenScope {
    /// GET only.
    Read,
    /// Also start export jobs.
    Write,
}

impl TokenScope {
    /// The stored code.
    pub fn code(self) -> &'static str {
        match self {
            TokenScope::Read => "read",
            TokenScope::Write => "write",
        }
    }

    /// Parses a stored or submitted code.
    pub fn parse(code: &str) -> Option<Self> {
        match code {
            "read" => Some(TokenScope::Read),
            "write" => Some(TokenScope::Write),
            _ => None,
        }
    }
}

/// The longest token name, in characters.
pub const MAX_NAME_CHARS: usize = 100;

/// The tokens of `user_id`, newest first (only their names, scopes and dates: the secrets
/// were shown once and are not stored).
pub fn of_user(
    conn: &mut db::AnyConnection,
    user_id: i64,
) -> AppResult<Vec<db::api_tokens::ApiTokenRow>> {
    Ok(db::api_tokens::of_user(conn, user_id)?)
}

/// Makes a new token for `user_id` (acting as `actor`) and returns it; only its hash is
/// stored, so this is the one time anybody sees it. The creation is audited.
pub fn create(
    conn: &mut db::AnyConnection,
    user_id: i64,
    actor: &str,
    name: &str,
    scope: TokenScope,
) -> AppResult<String> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME_CHARS {
        return Err(AppError::BadRequest("tokens.bad_name"));
    }
    let token = format!("{TOKEN_PREFIX}{}", random_token());
    db::write_transaction(conn, |conn| {
        db::api_tokens::insert(
            conn,
            user_id,
            name,
            &hash_token(&token),
            scope.code(),
            db::now(),
        )?;
        audit(
            conn,
            user_id,
            actor,
            "api_token:create",
            None,
            Some(serde_json::json!({ "name": name, "scope": scope.code() }).to_string()),
        )
    })?;
    Ok(token)
}

/// Revokes one of `user_id`'s tokens (404 when it is not theirs or already revoked), audited.
pub fn revoke(
    conn: &mut db::AnyConnection,
    user_id: i64,
    actor: &str,
    token_id: i64,
) -> AppResult<()> {
    db::write_transaction(conn, |conn| {
        if db::api_tokens::revoke(conn, user_id, token_id, db::now())? == 0 {
            return Err(AppError::NotFound);
        }
        audit(
            conn,
            user_id,
            actor,
            "api_token:revoke",
            Some(token_id.to_string()),
            None,
        )
    })
}

fn audit(
    conn: &mut db::AnyConnection,
    user_id: i64,
    actor: &str,
    action: &str,
    entity_id: Option<String>,
    new_value: Option<String>,
) -> AppResult<()> {
    db::audit::record(
        conn,
        &db::audit::AuditEntry {
            actor_user_id: Some(user_id),
            actor,
            action,
            entity: "api_token",
            entity_id,
            old_value: None,
            new_value,
        },
    )?;
    Ok(())
}

/// Who calls the API: a token's owner, a logged-in browser, or the public.
#[derive(Debug, Clone, Copy)]
pub struct ApiCaller {
    /// Whose permissions apply.
    pub viewer: Viewer,
    /// True only for a write-scoped bearer token (browser sessions read: the API has no CSRF
    /// token, so a cookie must never be enough to change anything).
    pub can_write: bool,
}

impl ApiCaller {
    /// Fails unless the caller may change things.
    pub fn require_write(&self) -> AppResult<()> {
        match (self.viewer, self.can_write) {
            (Viewer::Public, _) => Err(AppError::LoginRequired),
            (_, false) => Err(AppError::Forbidden),
            (_, true) => Ok(()),
        }
    }

    /// Fails unless the caller is signed in (any role).
    pub fn require_staff(&self) -> AppResult<(i64, Role)> {
        match self.viewer {
            Viewer::Public => Err(AppError::LoginRequired),
            Viewer::Staff { user_id, role } => Ok((user_id, role)),
        }
    }
}

fn bearer(req: &HttpRequest) -> Option<Result<String, AppError>> {
    let value = req.headers().get(header::AUTHORIZATION)?;
    Some(
        value
            .to_str()
            .ok()
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(|t| t.trim().to_owned())
            .filter(|t| t.starts_with(TOKEN_PREFIX))
            .ok_or(AppError::LoginRequired),
    )
}

impl FromRequest for ApiCaller {
    type Error = AppError;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let bearer = bearer(req);
        let session = token_of(req);
        let state = req.app_data::<web::Data<AppState>>().cloned();
        Box::pin(async move {
            let state = state.ok_or_else(|| AppError::internal(anyhow::anyhow!("no app state")))?;
            // A wrong token is an error, never a silent fall-back to public access.
            if let Some(token) = bearer {
                let token = token?;
                let counter = state.clone();
                let caller = state
                    .db(move |conn| {
                        let (row, user) = db::api_tokens::find_active(conn, &hash_token(&token))?
                            .ok_or(AppError::LoginRequired)?;
                        let now = db::now();
                        if row
                            .last_used_at
                            .is_none_or(|t| (now - t).num_seconds() >= TOUCH_EVERY_SECS)
                        {
                            db::api_tokens::touch(conn, row.id, now)?;
                        }
                        Ok((
                            row.id,
                            ApiCaller {
                                viewer: Viewer::of(Some((user.id, user.role))),
                                can_write: TokenScope::parse(&row.scope) == Some(TokenScope::Write),
                            },
                        ))
                    })
                    .await?;
                counter.count_api_request(caller.0)?;
                return Ok(caller.1);
            }
            let Some(session) = session else {
                return Ok(ApiCaller {
                    viewer: Viewer::Public,
                    can_write: false,
                });
            };
            let user = state
                .db(move |conn| {
                    Ok(db::sessions::user_for(
                        conn,
                        &hash_token(&session),
                        db::now(),
                    )?)
                })
                .await?;
            Ok(ApiCaller {
                viewer: match user {
                    Some(u) => Viewer::of(Some((u.id, u.role))),
                    None => Viewer::Public,
                },
                can_write: false,
            })
        })
    }
}
