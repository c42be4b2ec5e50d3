//! `/admin/welcome/{token}`: the one-time link with which the owner of an account an
//! administrator added chooses their password, then is signed in. An unknown link is a 404,
//! a used, replaced or expired one (or one whose account was deactivated) a 410.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use serde::Deserialize;

use super::{LinkPage, LinkPost};
use crate::app::auth::account_link::{self, LinkState};
use crate::app::auth::session;
use crate::db::AnyConnection;
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
pub async fn form(link: LinkPage) -> AppResult<HttpResponse> {
    let ctx = link.ctx();
    match link.look(account_link::state).await? {
        LinkState::Usable(user) => Ok(html(
            StatusCode::OK,
            views::accounts::welcome(&ctx, &link.token, &user.email, &[]),
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
/// The link is checked by [`LinkPage::check`] before any password is hashed.
pub async fn submit(post: LinkPost<WelcomeForm>) -> AppResult<HttpResponse> {
    let ctx = post.link.ctx();
    let user = match post.link.check(account_link::check_submission).await? {
        LinkState::Usable(user) => user,
        LinkState::Spent => return Ok(invalid(&ctx, true)),
        LinkState::Unknown => return Ok(invalid(&ctx, false)),
    };
    let chosen = match super::new_password(&post.form.password, &post.form.password_confirm) {
        Ok(chosen) => chosen,
        Err(error) => {
            return Ok(html(
                StatusCode::UNPROCESSABLE_ENTITY,
                views::accounts::welcome(&ctx, &post.link.token, &user.email, &[error]),
            ));
        }
    };
    let password_hash = super::hash_new_password(chosen).await?;
    // The session this browser had before, which signing in replaces.
    let previous = session::token_of(&post.link.req);
    let hash = post.link.hash.clone();
    let choose = move |conn: &mut AnyConnection| {
        account_link::choose_password(conn, &hash, &password_hash, previous.as_deref())
    };
    post.link
        .sign_in("account_password_chosen", choose, || invalid(&ctx, true))
        .await
}
