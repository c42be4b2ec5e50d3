//! `/admin/tokens`: every signed-in account makes and revokes its own API tokens.

use actix_web::{HttpRequest, HttpResponse, http::StatusCode, web};
use serde::Deserialize;

use crate::auth::api_token::{self, TokenScope};
use crate::auth::csrf::CsrfForm;
use crate::auth::session::CurrentUser;
use crate::db::{self, audit::AuditEntry};
use crate::error::{AppError, AppResult};
use crate::routes::{private_html, see_other};
use crate::state::AppState;
use crate::views::{self, layout::PageContext};

/// `GET /admin/tokens`
pub async fn list(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: CurrentUser,
) -> AppResult<HttpResponse> {
    let user_id = user.user.id;
    let rows = state
        .db(move |conn| Ok(db::api_tokens::of_user(conn, user_id)?))
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
    let name = form.data.name.trim().to_owned();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(AppError::BadRequest("tokens.bad_name"));
    }
    let scope =
        TokenScope::parse(&form.data.scope).ok_or(AppError::BadRequest("tokens.bad_scope"))?;
    let user_id = user.user.id;
    let actor = user.user.email.clone();
    let (token, rows) = state
        .db(move |conn| {
            db::write_transaction(conn, |conn| {
                let token = api_token::create(conn, user_id, &name, scope)?;
                db::audit::record(
                    conn,
                    &AuditEntry {
                        actor_user_id: Some(user_id),
                        actor: &actor,
                        action: "api_token:create",
                        entity: "api_token",
                        entity_id: None,
                        old_value: None,
                        new_value: Some(
                            serde_json::json!({ "name": name, "scope": scope.code() }).to_string(),
                        ),
                    },
                )?;
                Ok((token, db::api_tokens::of_user(conn, user_id)?))
            })
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
        .db(move |conn| {
            db::write_transaction(conn, |conn| {
                if db::api_tokens::revoke(conn, user_id, token_id, db::now())? == 0 {
                    return Err(AppError::NotFound);
                }
                db::audit::record(
                    conn,
                    &AuditEntry {
                        actor_user_id: Some(user_id),
                        actor: &actor,
                        action: "api_token:revoke",
                        entity: "api_token",
                        entity_id: Some(token_id.to_string()),
                        old_value: None,
                        new_value: None,
                    },
                )?;
                Ok(())
            })
        })
        .await?;
    Ok(see_other("/admin/tokens"))
}
