//! `/admin/welcome/{token}`: the one-time link with which the owner of an account an
//! administrator added chooses their password, then is signed in. An unknown link is a 404,
//! a used, replaced or expired one (or one whose account was deactivated) a 410.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

use super::{link_get, link_post};
use crate::app::auth::account_link::{self, LinkState};
use crate::app::auth::csrf::CsrfForm;
use crate::app::auth::session;
use crate::app::state::AppState;
use crate::error::AppResult;
use crate::routes::html;
use crate::views::{self, PageContext};

/// The page for a link that does not work, with its status.
fn invalid(ctx: &PageContext, spent: bool) -> HttpResponse {
    let status = if spent {
        StatusCode::GONE
    } else {
        StatusCode::NOT_FOUND
    };
    html(status, views::accounts::welcome_invalid(ctx, spent))
}

/// `GET /admin/welcome/{token}`.
pub async fn form(
    req: HttpRequest,
    state: web::Data<AppState>,
    token: web::Path<String>,
) -> AppResult<HttpResponse> {
    let ctx = PageContext::new(&req, None);
    let (token, link) = link_get(&state, token, account_link::state).await?;
    match link {
        LinkState::Usable(user) => Ok(html(
            StatusCode::OK,
            views::accounts::welcome(&ctx, &token, &user.email, &[]),
        )),
        LinkState::Spent => Ok(invalid(&ctx, true)),
        LinkState::Unknown => Ok(invalid(&ctx, false)),
    }
}

/// The password form. Missing fields are empty, so a bare post gets the form's own errors.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct WelcomeForm {
    password: String,
    password_confirm: String,
}

/// `POST /admin/welcome/{token}`: sets the password, spends the link and signs the owner in.
/// The link is checked by [`super::link_post`] before any password is hashed.
pub async fn submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    token: web::Path<String>,
    form: CsrfForm<WelcomeForm>,
) -> AppResult<HttpResponse> {
    let ctx = PageContext::new(&req, None);
    let (token, hash, link) =
        link_post(&req, &state, token, account_link::check_submission).await?;
    let user = match link {
        LinkState::Usable(user) => user,
        LinkState::Spent => return Ok(invalid(&ctx, true)),
        LinkState::Unknown => return Ok(invalid(&ctx, false)),
    };
    let chosen = match super::new_password(&form.data.password, &form.data.password_confirm) {
        Ok(chosen) => chosen,
        Err(error) => {
            return Ok(html(
                StatusCode::UNPROCESSABLE_ENTITY,
                views::accounts::welcome(&ctx, &token, &user.email, &[error]),
            ));
        }
    };
    let password_hash = super::hash_new_password(chosen).await?;
    let previous = session::token_of(&req);
    let signed_in = state
        .db(move |conn| {
            account_link::choose_password(conn, &hash, &password_hash, previous.as_deref())
        })
        .await?;
    match signed_in {
        Some(session_token) => {
            tracing::info!(
                event = "account_password_chosen",
                "an account's owner chose a password through their link"
            );
            Ok(super::signed_in(&state, &session_token, "/admin"))
        }
        // Another submission used the link first (or it ran out meanwhile).
        None => Ok(invalid(&ctx, true)),
    }
}
