//! Logging in and out. Login is throttled per account and per client address, and an unknown
//! e-mail costs the same argon2 work as a wrong password.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use maud::Markup;
use serde::Deserialize;

use crate::auth::csrf::CsrfForm;
use crate::auth::session::{self, clear_session_cookie, session_cookie};
use crate::auth::{password, throttle};
use crate::db;
use crate::domain::throttle::{LOGIN_PER_ACCOUNT, LOGIN_PER_IP};
use crate::error::AppResult;
use crate::routes::public::is_local_path;
use crate::state::{AppState, blocking};
use crate::views::{self, PageContext};

/// Query of the login page.
#[derive(Debug, Deserialize)]
pub struct LoginQuery {
    next: Option<String>,
    logged_out: Option<String>,
}

/// `GET /admin/login`.
pub async fn form(req: HttpRequest, query: web::Query<LoginQuery>) -> Markup {
    let notice = query.logged_out.as_ref().map(|_| "login.logged_out");
    views::admin::login(&PageContext::new(&req, None), "", false, notice)
}

/// The login form.
#[derive(Debug, Deserialize)]
pub struct LoginForm {
    email: String,
    password: String,
}

/// `POST /admin/login`.
pub async fn submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: web::Query<LoginQuery>,
    form: CsrfForm<LoginForm>,
) -> AppResult<HttpResponse> {
    let LoginForm { email, password } = form.data;
    // Throttle on what was typed, valid address or not, so probing costs attempts too.
    let typed = email.trim().to_lowercase();
    let account_key = format!("login:account:{typed}");
    let ip_key = format!("login:ip:{}", client_ip(&req, state.settings.trust_proxy));

    let user = {
        let (account_key, ip_key, typed) = (account_key.clone(), ip_key.clone(), typed.clone());
        state
            .db(move |conn| {
                throttle::check(
                    conn,
                    &[(&account_key, LOGIN_PER_ACCOUNT), (&ip_key, LOGIN_PER_IP)],
                )?;
                Ok(db::users::by_email(conn, &typed)?)
            })
            .await?
    };
    let stored = user.as_ref().map(|u| u.password_hash.clone());
    let verified = blocking(move || password::verify(&password, stored.as_deref())).await?;

    match user.filter(|u| verified && u.active) {
        None => {
            state
                .db(move |conn| {
                    throttle::record_failure(
                        conn,
                        &[(&account_key, LOGIN_PER_ACCOUNT), (&ip_key, LOGIN_PER_IP)],
                    )
                })
                .await?;
            tracing::info!(event = "login_failed", "a login attempt failed");
            let page = views::admin::login(&PageContext::new(&req, None), &typed, true, None);
            Ok(crate::routes::html(StatusCode::UNAUTHORIZED, page))
        }
        Some(user) => {
            let previous = session::token_of(&req);
            let token = state
                .db(move |conn| {
                    throttle::clear(conn, &account_key)?;
                    session::start(conn, user.id, previous.as_deref())
                })
                .await?;
            tracing::info!(event = "login", "an account logged in");
            let next = query
                .next
                .as_deref()
                .filter(|n| is_local_path(n))
                .unwrap_or("/admin");
            Ok(HttpResponse::SeeOther()
                .insert_header((header::LOCATION, next.to_owned()))
                .cookie(session_cookie(&token, state.settings.is_https()))
                .finish())
        }
    }
}

/// An empty form: only the CSRF token is checked.
#[derive(Debug, Deserialize)]
pub struct EmptyForm {}

/// `POST /admin/logout`: ends the session in the database and in the browser.
pub async fn logout(
    req: HttpRequest,
    state: web::Data<AppState>,
    _form: CsrfForm<EmptyForm>,
) -> AppResult<HttpResponse> {
    if let Some(token) = session::token_of(&req) {
        state
            .db(move |conn| {
                db::sessions::delete(conn, &crate::auth::tokens::hash_token(&token))?;
                Ok(())
            })
            .await?;
    }
    Ok(HttpResponse::SeeOther()
        .insert_header((header::LOCATION, "/admin/login?logged_out=1"))
        .cookie(clear_session_cookie(state.settings.is_https()))
        .finish())
}

/// The client's address: the TCP peer, or the first `X-Forwarded-For` hop when the operator
/// says a trusted proxy sets it (otherwise anyone could pick their own throttle key).
pub fn client_ip(req: &HttpRequest, trust_proxy: bool) -> String {
    if trust_proxy
        && let Some(forwarded) = req
            .headers()
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .map(str::trim)
            .filter(|v| !v.is_empty())
    {
        return forwarded.to_owned();
    }
    req.peer_addr()
        .map(|a| a.ip().to_string())
        .unwrap_or_else(|| "unknown".to_owned())
}
