//! Logging in and out. Login is throttled per account and per client address, and an unknown
//! e-mail costs the same argon2 work as a wrong password.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use maud::Markup;
use serde::Deserialize;

use crate::app::auth::csrf::{CsrfForm, EmptyForm};
use crate::app::auth::session::{self, clear_session_cookie};
use crate::app::auth::{login, password};
use crate::app::state::{AppState, blocking};
use crate::domain::redirect::is_local_path;
use crate::error::AppResult;
use crate::views::{self, PageContext};

/// Where a successful login goes when no (safe) `next` was asked for.
const DEFAULT_NEXT: &str = "/admin";

/// Query of the login page.
#[derive(Debug, Deserialize)]
pub struct LoginQuery {
    next: Option<String>,
    logged_out: Option<String>,
}

/// `next` if it is a path on this site; anything else is dropped.
fn safe_next(next: Option<&str>) -> Option<&str> {
    next.filter(|n| is_local_path(n))
}

/// `GET /admin/login`.
pub async fn form(req: HttpRequest, query: web::Query<LoginQuery>) -> Markup {
    let notice = query.logged_out.as_ref().map(|_| "login.logged_out");
    let next = safe_next(query.next.as_deref());
    views::admin::login(&PageContext::new(&req, None), "", false, notice, next)
}

/// The login form.
#[derive(Debug, Deserialize)]
pub struct LoginForm {
    email: String,
    password: String,
    /// Where to go afterwards, carried from the login page's query.
    next: Option<String>,
}

/// `POST /admin/login`.
pub async fn submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: web::Query<LoginQuery>,
    form: CsrfForm<LoginForm>,
) -> AppResult<HttpResponse> {
    let LoginForm {
        email,
        password,
        next,
    } = form.data;
    let next = safe_next(next.as_deref().or(query.next.as_deref())).map(str::to_owned);
    let typed = email.trim().to_lowercase();
    let attempt = login::Attempt::new(&typed, &crate::routes::client_ip(&req, &state.settings));
    let user = {
        let attempt = attempt.clone();
        state.db(move |conn| login::begin(conn, &attempt)).await?
    };
    let stored = user.as_ref().map(|u| u.password_hash.clone());
    let verified = blocking(move || password::verify(&password, stored.as_deref())).await??;

    match user.filter(|u| verified && u.active) {
        None => {
            tracing::info!(event = "login_failed", "a login attempt failed");
            let page = views::admin::login(
                &PageContext::new(&req, None),
                &typed,
                true,
                None,
                next.as_deref(),
            );
            Ok(crate::routes::html(StatusCode::UNAUTHORIZED, page))
        }
        Some(user) => {
            let previous = session::token_of(&req);
            let token = state
                .db(move |conn| login::succeed(conn, &attempt, user.id, previous.as_deref()))
                .await?;
            tracing::info!(event = "login", "an account logged in");
            Ok(super::signed_in(
                &state,
                &token,
                next.as_deref().unwrap_or(DEFAULT_NEXT),
            ))
        }
    }
}

/// `POST /admin/logout`: ends the session in the database and in the browser.
pub async fn logout(
    req: HttpRequest,
    state: web::Data<AppState>,
    _form: CsrfForm<EmptyForm>,
) -> AppResult<HttpResponse> {
    if let Some(token) = session::token_of(&req) {
        state.db(move |conn| login::logout(conn, &token)).await?;
    }
    Ok(HttpResponse::SeeOther()
        .insert_header((header::LOCATION, "/admin/login?logged_out=1"))
        .cookie(clear_session_cookie(state.settings.is_https()))
        .finish())
}
