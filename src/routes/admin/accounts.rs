//! `/admin/accounts`: administrators list and add accounts, change roles, assign a
//! coordinator's units, deactivate or reactivate accounts and replace the one-time link with
//! which a new account's owner chooses a password. Every change goes through `app::accounts`,
//! which audits it.

use actix_web::{HttpRequest, HttpResponse, http::StatusCode, web};
use maud::Markup;
use serde::Deserialize;

use crate::app::accounts::{self, AccountChangeError, CreateUserError};
use crate::app::actor::Actor;
use crate::app::auth::account_link::{self, LINK_COOKIE};
use crate::app::auth::csrf::CsrfForm;
use crate::app::auth::session::CurrentUser;
use crate::app::state::AppState;
use crate::db::AnyConnection;
use crate::domain::account::{Email, Role};
use crate::error::{AppError, AppResult};
use crate::i18n::{Lang, tf};
use crate::routes::IdButton;
use crate::routes::{Admins, RoleSet, Staff};
use crate::routes::{db_as, html, see_other};
use crate::views::accounts::NewAccountValues;
use crate::views::components::FieldError;
use crate::views::{self, PageContext};

/// `GET /admin/accounts`
pub async fn list(Staff(req, state, user, ..): Staff<Admins>) -> AppResult<Markup> {
    let rows = state.db(accounts::list).await?;
    let ctx = PageContext::new(&req, Some(&user));
    Ok(views::accounts::list(
        &ctx,
        &rows,
        &NewAccountValues::default(),
        &[],
    ))
}

/// The form that adds an account. Missing fields are empty, so a bare post is answered with
/// the form's own errors.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct NewAccountForm {
    name: String,
    email: String,
    role: String,
}

/// A new account as typed, checked.
struct ValidAccount {
    name: String,
    email: Email,
    role: Role,
}

fn parse_new_account(form: &NewAccountForm) -> Result<ValidAccount, Vec<FieldError>> {
    let mut errors = Vec::new();
    let person = super::name_and_email(&form.name, &form.email, &mut errors);
    let role = form
        .role
        .parse::<Role>()
        .map_err(|e| errors.push(super::field_error("role", e)))
        .ok();
    match (person, role) {
        (Some((name, email)), Some(role)) => Ok(ValidAccount { name, email, role }),
        _ => Err(errors),
    }
}

/// `POST /admin/accounts`: adds an account without a password and shows its one-time link;
/// a refused form comes back (422) with what was typed and each error beside its field.
pub async fn create(
    Staff(req, state, user, ..): Staff<Admins>,
    form: CsrfForm<NewAccountForm>,
) -> AppResult<HttpResponse> {
    let refused = |errors: Vec<FieldError>| {
        let req = req.clone();
        let state = state.clone();
        let user = user.clone();
        let values = NewAccountValues {
            name: form.data.name.clone(),
            email: form.data.email.clone(),
            role: form.data.role.clone(),
        };
        async move {
            let rows = state.db(accounts::list).await?;
            let ctx = PageContext::new(&req, Some(&user));
            let page = views::accounts::list(&ctx, &rows, &values, &errors);
            Ok::<_, AppError>(html(StatusCode::UNPROCESSABLE_ENTITY, page))
        }
    };
    let valid = match parse_new_account(&form.data) {
        Ok(valid) => valid,
        Err(errors) => return refused(errors).await,
    };
    let added = db_as(&state, &user, move |conn, actor| {
        Ok(accounts::add_account(
            conn,
            actor,
            &valid.email,
            &valid.name,
            valid.role,
        ))
    })
    .await?;
    match added {
        Ok(added) => Ok(show_link_once(&state, added.user.id, &added.link_token)),
        Err(CreateUserError::EmailTaken) => {
            refused(vec![FieldError {
                field: "email",
                message_key: "accounts.error.email_taken",
            }])
            .await
        }
        Err(CreateUserError::App(e)) => Err(e),
    }
}

/// `303` to the page that shows a fresh link, handing it the token in a cookie only that page
/// receives: the token never appears in a URL, a log or the database.
fn show_link_once(state: &AppState, user_id: i64, token: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((
            actix_web::http::header::LOCATION,
            account_link::page_path(user_id),
        ))
        .cookie(account_link::link_cookie(
            user_id,
            token,
            state.settings.is_https(),
        ))
        .finish()
}

/// `GET /admin/accounts/{id}/link`: the fresh link, on the first view after it was made;
/// afterwards the page says it is not shown again and offers a new one.
pub async fn link_page(
    Staff(req, state, user, ..): Staff<Admins>,
    id: web::Path<i64>,
) -> AppResult<HttpResponse> {
    let id = id.into_inner();
    let token = req
        .cookie(LINK_COOKIE)
        .map(|c| c.value().to_owned())
        .filter(|v| !v.is_empty());
    let (account, shown) = state
        .db(move |conn| account_link::link_page(conn, id, token))
        .await?;
    let account = account.ok_or(AppError::NotFound)?;
    let ctx = PageContext::new(&req, Some(&user));
    let link = shown.map(|token| account_link::url(&state.settings.base(), &token));
    let page = views::accounts::link_page(&ctx, &account, link.as_deref());
    let mut response = HttpResponse::Ok();
    response.content_type("text/html; charset=utf-8");
    if req.cookie(LINK_COOKIE).is_some() {
        // Shown once: a reload or the back button finds no link to show.
        response.cookie(account_link::clear_link_cookie(
            id,
            state.settings.is_https(),
        ));
    }
    Ok(response.body(page.into_string()))
}

/// `POST /admin/accounts/{id}/link`: a new link, spending the earlier ones, shown once.
pub async fn new_link(button: IdButton) -> AppResult<HttpResponse> {
    Ok(
        match change(
            &button.req,
            &button.state,
            &button.user,
            button.id,
            move |conn, actor| accounts::new_link(conn, actor, button.id),
        )
        .await?
        {
            Ok(token) => show_link_once(&button.state, button.id, &token),
            Err(refused) => refused,
        },
    )
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
    Staff(req, state, user, ..): Staff<Admins>,
    id: web::Path<i64>,
    query: web::Query<Done>,
) -> AppResult<Markup> {
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

/// Runs an account change as the signed-in administrator: what it returns, or on a refusal
/// the account's page again (422) with the reason at the top.
async fn change<T, F>(
    req: &HttpRequest,
    state: &AppState,
    user: &CurrentUser,
    id: i64,
    work: F,
) -> AppResult<Result<T, HttpResponse>>
where
    F: FnOnce(&mut AnyConnection, Actor<'_>) -> Result<T, AccountChangeError> + Send + 'static,
    T: Send + 'static,
{
    user.require(Admins::ROLES)?;
    match db_as(state, user, move |conn, actor| Ok(work(conn, actor))).await? {
        Ok(value) => Ok(Ok(value)),
        Err(AccountChangeError::App(e)) => Err(e),
        Err(AccountChangeError::NotFound) => Err(AppError::NotFound),
        Err(refusal) => {
            let ctx = PageContext::new(req, Some(user));
            let message = refusal_text(ctx.lang, &refusal);
            let page = account_page(&ctx, state, id, None, &[message]).await?;
            Ok(Err(html(StatusCode::UNPROCESSABLE_ENTITY, page)))
        }
    }
}

/// [`change`], then back to the account's page with `done`.
async fn change_then<T, F>(
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
    Ok(match change(req, state, user, id, work).await? {
        Ok(_) => see_other(format!("/admin/accounts/{id}?done={done}")),
        Err(refused) => refused,
    })
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
    Staff(req, state, user, ..): Staff<Admins>,
    id: web::Path<i64>,
    form: CsrfForm<RoleForm>,
) -> AppResult<HttpResponse> {
    let role: Role = form
        .data
        .role
        .parse()
        .map_err(|_| AppError::BadRequest("error.role_unknown"))?;
    let id = id.into_inner();
    change_then(&req, &state, &user, id, "role", move |conn, actor| {
        accounts::change_role(conn, actor, id, role)
    })
    .await
}

/// `POST /admin/accounts/{id}/units`: the checked `unit` boxes become the coordinator's units.
pub async fn set_units(
    Staff(req, state, user, ..): Staff<Admins>,
    id: web::Path<i64>,
    form: CsrfForm<Vec<(String, String)>>,
) -> AppResult<HttpResponse> {
    let unit_ids = form
        .fields
        .iter()
        .filter(|(name, _)| name == "unit")
        .map(|(_, value)| value.trim().parse::<i64>())
        .collect::<Result<Vec<i64>, _>>()
        .map_err(|_| AppError::BadRequest("error.bad_request.body"))?;
    let id = id.into_inner();
    change_then(&req, &state, &user, id, "units", move |conn, actor| {
        accounts::assign_units(conn, actor, id, &unit_ids)
    })
    .await
}

/// `POST /admin/accounts/{id}/deactivate`
pub async fn deactivate(button: IdButton) -> AppResult<HttpResponse> {
    set_active(&button.req, &button.state, &button.user, button.id, false).await
}

/// `POST /admin/accounts/{id}/activate`
pub async fn activate(button: IdButton) -> AppResult<HttpResponse> {
    set_active(&button.req, &button.state, &button.user, button.id, true).await
}

/// Deactivates or reactivates an account.
async fn set_active(
    req: &HttpRequest,
    state: &AppState,
    user: &CurrentUser,
    id: i64,
    active: bool,
) -> AppResult<HttpResponse> {
    let done = if active { "activate" } else { "deactivate" };
    change_then(req, state, user, id, done, move |conn, actor| {
        accounts::set_active(conn, actor, id, active)
    })
    .await
}
