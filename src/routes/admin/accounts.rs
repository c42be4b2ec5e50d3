//! `/admin/accounts`: administrators list accounts, change roles, assign a coordinator's units
//! and deactivate or reactivate accounts. Every change goes through `app::accounts`, which
//! audits it.

use actix_web::{HttpRequest, HttpResponse, http::StatusCode, web};
use maud::Markup;
use serde::Deserialize;

use crate::app::accounts::{self, AccountChangeError};
use crate::app::actor::Actor;
use crate::app::auth::csrf::{CsrfForm, EmptyForm};
use crate::app::auth::session::CurrentUser;
use crate::app::state::AppState;
use crate::db::AnyConnection;
use crate::domain::account::Role;
use crate::error::{AppError, AppResult};
use crate::i18n::{Lang, tf};
use crate::routes::{html, see_other};
use crate::views::{self, PageContext};

/// Only administrators manage accounts.
const MANAGERS: &[Role] = &[Role::Admin];

/// `GET /admin/accounts`
pub async fn list(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: CurrentUser,
) -> AppResult<Markup> {
    user.require(MANAGERS)?;
    let rows = state.db(accounts::list).await?;
    let ctx = PageContext::new(&req, Some(&user));
    Ok(views::accounts::list(&ctx, &rows))
}

/// The notice shown after a change (`?done=`).
#[derive(Debug, Deserialize)]
pub struct Done {
    done: Option<String>,
}

/// The catalogue key of a `done` value; anything else shows nothing.
fn notice_key(done: Option<&str>) -> Option<&'static str> {
    match done? {
        "role" => Some("accounts.done.role"),
        "units" => Some("accounts.done.units"),
        "deactivate" => Some("accounts.done.deactivate"),
        "activate" => Some("accounts.done.activate"),
        _ => None,
    }
}

/// `GET /admin/accounts/{id}`
pub async fn show(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: CurrentUser,
    id: web::Path<i64>,
    query: web::Query<Done>,
) -> AppResult<Markup> {
    user.require(MANAGERS)?;
    let ctx = PageContext::new(&req, Some(&user));
    account_page(
        &ctx,
        &state,
        id.into_inner(),
        notice_key(query.done.as_deref()),
        &[],
    )
    .await
}

async fn account_page(
    ctx: &PageContext,
    state: &AppState,
    id: i64,
    notice: Option<&str>,
    errors: &[String],
) -> AppResult<Markup> {
    let detail = state
        .db(move |conn| accounts::detail(conn, id))
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(views::accounts::detail(ctx, &detail, notice, errors))
}

/// Runs an account change as the signed-in administrator: on success back to the account's
/// page with `done`, on a refusal the page again (422) with the reason at the top.
async fn change<T, F>(
    req: &HttpRequest,
    state: &AppState,
    user: &CurrentUser,
    id: i64,
    done: &str,
    work: F,
) -> AppResult<HttpResponse>
where
    F: FnOnce(&mut AnyConnection, Actor<'_>) -> Result<T, AccountChangeError> + Send + 'static,
    T: Send + 'static,
{
    user.require(MANAGERS)?;
    let (user_id, role, label) = (Some(user.user.id), user.role, user.user.email.clone());
    let result = state
        .db(move |conn| {
            let actor = Actor {
                user_id,
                label: &label,
                role,
            };
            Ok(work(conn, actor))
        })
        .await?;
    match result {
        Ok(_) => Ok(see_other(format!("/admin/accounts/{id}?done={done}"))),
        Err(AccountChangeError::App(e)) => Err(e),
        Err(AccountChangeError::NotFound) => Err(AppError::NotFound),
        Err(refusal) => {
            let ctx = PageContext::new(req, Some(user));
            let message = refusal_text(ctx.lang, &refusal);
            let page = account_page(&ctx, state, id, None, &[message]).await?;
            Ok(html(StatusCode::UNPROCESSABLE_ENTITY, page))
        }
    }
}

/// A refusal in the reader's language.
fn refusal_text(lang: Lang, refusal: &AccountChangeError) -> String {
    let args = refusal.message_args();
    let args: Vec<(&str, &str)> = args.iter().map(|(k, v)| (*k, v.as_str())).collect();
    tf(lang, refusal.message_key(), &args)
}

/// The role form.
#[derive(Debug, Deserialize)]
pub struct RoleForm {
    role: String,
}

/// `POST /admin/accounts/{id}/role`
pub async fn set_role(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: CurrentUser,
    id: web::Path<i64>,
    form: CsrfForm<RoleForm>,
) -> AppResult<HttpResponse> {
    user.require(MANAGERS)?;
    let role: Role = form
        .data
        .role
        .parse()
        .map_err(|_| AppError::BadRequest("error.role_unknown"))?;
    let id = id.into_inner();
    change(&req, &state, &user, id, "role", move |conn, actor| {
        accounts::change_role(conn, actor, id, role)
    })
    .await
}

/// `POST /admin/accounts/{id}/units`: the checked `unit` boxes become the coordinator's units.
pub async fn set_units(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: CurrentUser,
    id: web::Path<i64>,
    form: CsrfForm<Vec<(String, String)>>,
) -> AppResult<HttpResponse> {
    user.require(MANAGERS)?;
    let unit_ids = form
        .fields
        .iter()
        .filter(|(name, _)| name == "unit")
        .map(|(_, value)| value.trim().parse::<i64>())
        .collect::<Result<Vec<i64>, _>>()
        .map_err(|_| AppError::BadRequest("error.bad_request.body"))?;
    let id = id.into_inner();
    change(&req, &state, &user, id, "units", move |conn, actor| {
        accounts::assign_units(conn, actor, id, &unit_ids)
    })
    .await
}

/// `POST /admin/accounts/{id}/deactivate`
pub async fn deactivate(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: CurrentUser,
    id: web::Path<i64>,
    _form: CsrfForm<EmptyForm>,
) -> AppResult<HttpResponse> {
    let id = id.into_inner();
    change(&req, &state, &user, id, "deactivate", move |conn, actor| {
        accounts::set_active(conn, actor, id, false)
    })
    .await
}

/// `POST /admin/accounts/{id}/activate`
pub async fn activate(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: CurrentUser,
    id: web::Path<i64>,
    _form: CsrfForm<EmptyForm>,
) -> AppResult<HttpResponse> {
    let id = id.into_inner();
    change(&req, &state, &user, id, "activate", move |conn, actor| {
        accounts::set_active(conn, actor, id, true)
    })
    .await
}
