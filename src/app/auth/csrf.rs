//! CSRF protection by the signed double-submit pattern: a random HttpOnly, SameSite=Strict
//! cookie, and in every state-changing form a hidden token that is the HMAC, under the
//! server's secret, of that cookie and of the login session the browser sends (none for
//! anonymous forms). A cross-site attacker can neither read the cookies nor forge the MAC,
//! and a token taken from one session's page is worthless in any other session. One
//! mechanism serves anonymous forms (login, setup, questionnaires) and logged-in ones alike.

use actix_web::cookie::{Cookie, SameSite};
use actix_web::dev::Payload;
use actix_web::web::Bytes;
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};
use futures_util::future::LocalBoxFuture;
use serde::de::DeserializeOwned;

use crate::app::auth::session::token_of;
use crate::app::auth::tokens::{hash_token, random_token};
use crate::app::state::AppState;
use crate::error::AppError;

/// The cookie holding the random CSRF secret.
pub const CSRF_COOKIE: &str = "ks_csrf";
/// The hidden form field carrying the token.
pub const CSRF_FIELD: &str = "csrf_token";
/// The largest urlencoded form accepted (uploads use their own, larger limits).
pub const FORM_LIMIT_BYTES: usize = 256 * 1024;

const PURPOSE: &str = "csrf";

/// A CSRF cookie value created during this request; the response middleware sets it.
#[derive(Debug, Clone)]
pub struct NewCsrfCookie(pub String);

/// Builds the CSRF cookie.
pub fn csrf_cookie(value: &str, secure: bool) -> Cookie<'static> {
    Cookie::build(CSRF_COOKIE, value.to_owned())
        .path("/")
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(secure)
        .finish()
}

/// The token to embed in forms rendered for this request.
#[derive(Debug, Clone)]
pub struct CsrfToken(pub String);

impl CsrfToken {
    /// The token value for the hidden field.
    pub fn value(&self) -> &str {
        &self.0
    }
}

impl FromRequest for CsrfToken {
    type Error = AppError;
    type Future = std::future::Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(token_for_request(req))
    }
}

/// What a token signs: the visitor's CSRF cookie alone for an anonymous browser, and for a
/// signed-in one the cookie and the digest of its session cookie. Cookie values cannot hold
/// a NUL, so the two forms never coincide.
fn signed_message(req: &HttpRequest, csrf_secret: &str) -> String {
    match token_of(req) {
        Some(session) => format!("{csrf_secret}\0{}", hash_token(&session)),
        None => csrf_secret.to_owned(),
    }
}

/// The form token for this request, creating the cookie secret if the browser has none yet.
pub fn token_for_request(req: &HttpRequest) -> Result<CsrfToken, AppError> {
    let state = app_state(req)?;
    let existing = req
        .cookie(CSRF_COOKIE)
        .map(|c| c.value().to_owned())
        .filter(|v| !v.is_empty());
    let pending = req.extensions().get::<NewCsrfCookie>().map(|p| p.0.clone());
    let secret = match (existing, pending) {
        (Some(secret), _) | (None, Some(secret)) => secret,
        (None, None) => {
            let fresh = random_token();
            req.extensions_mut().insert(NewCsrfCookie(fresh.clone()));
            fresh
        }
    };
    Ok(CsrfToken(
        state.secret.sign(PURPOSE, &signed_message(req, &secret)),
    ))
}

fn app_state(req: &HttpRequest) -> Result<web::Data<AppState>, AppError> {
    req.app_data::<web::Data<AppState>>()
        .cloned()
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("no app state")))
}

/// Checks a submitted token against the request's CSRF cookie and session.
pub fn verify(req: &HttpRequest, submitted: Option<&str>) -> Result<(), AppError> {
    let state = app_state(req)?;
    let cookie = req.cookie(CSRF_COOKIE).ok_or(AppError::Csrf)?;
    let submitted = submitted.ok_or(AppError::Csrf)?;
    if state
        .secret
        .verify(PURPOSE, &signed_message(req, cookie.value()), submitted)
    {
        Ok(())
    } else {
        Err(AppError::Csrf)
    }
}

/// A form with nothing in it but the CSRF token: the body of the POST buttons (start, log out,
/// round actions), shared so that no route module borrows it from another.
#[derive(Debug, serde::Deserialize)]
pub struct EmptyForm {}

/// A urlencoded form whose CSRF token has been checked. `T` is the typed form; `fields`
/// keeps every submitted pair in order (repeated names included) for dynamic forms.
#[derive(Debug)]
pub struct CsrfForm<T> {
    /// The form parsed into its type.
    pub data: T,
    /// All submitted pairs except the token.
    pub fields: Vec<(String, String)>,
}

impl<T: DeserializeOwned + 'static> FromRequest for CsrfForm<T> {
    type Error = AppError;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let mut payload = payload.take();
        Box::pin(async move {
            let bytes = read_limited(&req, &mut payload, FORM_LIMIT_BYTES).await?;
            let mut fields: Vec<(String, String)> = serde_urlencoded::from_bytes(&bytes)
                .map_err(|_| AppError::BadRequest("error.bad_request.body"))?;
            let token = fields
                .iter()
                .position(|(k, _)| k == CSRF_FIELD)
                .map(|i| fields.remove(i).1);
            verify(&req, token.as_deref())?;
            let data = serde_urlencoded::from_bytes(&bytes)
                .map_err(|_| AppError::BadRequest("error.bad_request.body"))?;
            Ok(CsrfForm { data, fields })
        })
    }
}

/// Reads a request body up to `limit` bytes; more is a 413.
pub async fn read_limited(
    req: &HttpRequest,
    payload: &mut Payload,
    limit: usize,
) -> Result<Bytes, AppError> {
    use futures_util::StreamExt;
    if let Some(length) = req
        .headers()
        .get(actix_web::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok())
        && length > limit
    {
        return Err(AppError::PayloadTooLarge);
    }
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|_| AppError::BadRequest("error.bad_request.body"))?;
        if body.len() + chunk.len() > limit {
            return Err(AppError::PayloadTooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}
