//! Lifecycle actions (open, close, reopen, compute, publish) in two steps: a page that says
//! what will happen and asks for confirmation, then a page that says what happened.

use actix_web::{HttpRequest, HttpResponse, web};

use super::{EmptyForm, act_or_refuse};
use crate::app::auth::csrf::CsrfForm;
use crate::app::auth::session::CurrentUser;
use crate::app::rounds;
use crate::app::state::AppState;
use crate::domain::lifecycle::RoundAction;
use crate::error::{AppError, AppResult};
use crate::routes::html;
use crate::views::{self, PageContext};

/// The action named in the path, if the user's role may take it at all.
fn permitted(user: &CurrentUser, raw: &str) -> AppResult<RoundAction> {
    let action: RoundAction = raw.parse().map_err(|_| AppError::NotFound)?;
    if !action.allowed_for(user.role) {
        return Err(AppError::Forbidden);
    }
    Ok(action)
}

/// `GET /admin/rounds/{id}/actions/{action}`: what the action will do, with a confirm button.
/// An action the round's state does not allow is refused on the round page, with the reason.
pub async fn confirm(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<(i64, String)>,
) -> AppResult<HttpResponse> {
    let (round_id, raw) = path.into_inner();
    let action = permitted(&user, &raw)?;
    act_or_refuse(
        &req,
        &state,
        &user,
        round_id,
        move |conn, _| rounds::action_preview(conn, round_id, action),
        |summary| {
            html(
                actix_web::http::StatusCode::OK,
                views::round_actions::confirm(&PageContext::new(&req, Some(&user)), &summary),
            )
        },
    )
    .await
}

/// `POST /admin/rounds/{id}/actions/{action}`: takes the action, then shows what happened.
pub async fn take(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<(i64, String)>,
    _form: CsrfForm<EmptyForm>,
) -> AppResult<HttpResponse> {
    let (round_id, raw) = path.into_inner();
    let action = permitted(&user, &raw)?;
    act_or_refuse(
        &req,
        &state,
        &user,
        round_id,
        move |conn, actor| rounds::apply_action(conn, round_id, action, actor),
        |_| {
            crate::routes::see_other(format!(
                "/admin/rounds/{round_id}/actions/{}/done",
                action.code()
            ))
        },
    )
    .await
}

/// `GET /admin/rounds/{id}/actions/{action}/done`: what the round holds after the action,
/// with the compute result and, once published, the public results page.
pub async fn done(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<(i64, String)>,
) -> AppResult<HttpResponse> {
    let (round_id, raw) = path.into_inner();
    let action = permitted(&user, &raw)?;
    let summary = state
        .db(move |conn| Ok(rounds::action_outcome(conn, round_id, action)?))
        .await?;
    let ctx = PageContext::new(&req, Some(&user));
    Ok(html(
        actix_web::http::StatusCode::OK,
        views::round_actions::done(&ctx, &summary),
    ))
}
