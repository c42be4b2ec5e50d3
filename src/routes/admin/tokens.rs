//! `/admin/tokens`: every signed-in account makes and revokes its own API tokens.

use actix_web::{HttpRequest, HttpResponse, http::StatusCode, web};
use serde::Deserialize;

use crate::app::auth::api_token::{self, TokenScope};
use crate::app::auth::csrf::CsrfForm;
use crate::app::auth::session::CurrentUser;
use crate::app::state::AppState;
use crate::error::{AppError, AppResult};
use crate::routes::{private_html, see_other};
use crate::views::{self, layout::PageContext};

/// `GET /admin/tokens`
pub async fn list(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: CurrentUser,
) -> AppResult<HttpResponse> {
    let user_id = user.user.id;
    let rows = state
        .db(move |conn| api_token::of_user(conn, user_id))
        .await?;
    let ctx = PageContext::new(&req, Some(&user));
    Ok(private_html(
        StatusCode::OK,
        views::tokens::tokens(&ctx, &rows, None),
    ))
}

/// The new-token form.
#[derive(Debug, Deserialize)]
pub struct NewToken {
    name: String,
    scope: String,
}

/// `POST /admin/tokens`: makes a token and shows it once (the page is never cached).
pub async fn create(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: CurrentUser,
    form: CsrfForm<NewToken>,
) -> AppResult<HttpResponse> {
    let scope =
        TokenScope::parse(&form.data.scope).ok_or(AppError::BadRequest("tokens.bad_scope"))?;
    let name = form.data.name;
    let user_id = user.user.id;
    let actor = user.user.email.clone();
    let (token, rows) = state
        .db(move |conn| {
            let token = api_token::create(conn, user_id, &actor, &name, scope)?;
            Ok((token, api_token::of_user(conn, user_id)?))
        })
        .await?;
    let ctx = PageContext::new(&req, Some(&user));
    Ok(private_html(
        StatusCode::OK,
        views::tokens::tokens(&ctx, &rows, Some(&token)),
    ))
}

/// `POST /admin/tokens/{id}/revoke`
pub async fn revoke(
    state: web::Data<AppState>,
    user: CurrentUser,
    id: web::Path<i64>,
    _form: CsrfForm<std::collections::HashMap<String, String>>,
) -> AppResult<HttpResponse> {
    let user_id = user.user.id;
    let token_id = id.into_inner();
    let actor = user.user.email.clone();
    state
        .db(move |conn| api_token::revoke(conn, user_id, &actor, token_id))
        .await?;
    Ok(see_other("/admin/tokens"))
}
