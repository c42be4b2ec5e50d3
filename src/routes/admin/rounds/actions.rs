//! Lifecycle actions (open, close, reopen, compute, publish) in two steps: a page that says
//! what will happen and asks for confirmation, then a page that says what happened.

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, HttpResponse, web};
use futures_util::future::LocalBoxFuture;

use super::{EmptyForm, act_or_refuse};
use crate::app::auth::csrf::CsrfForm;
use crate::app::auth::session::CurrentUser;
use crate::app::rounds;
use crate::app::state::AppState;
use crate::domain::lifecycle::RoundAction;
use crate::error::{AppError, AppResult};
use crate::routes::{Caller, html};
use crate::views::{self, PageContext};

/// What every action route (`/admin/rounds/{id}/actions/{action}…`) starts from: the request,
/// the state, the signed-in user, the round's id and the action named in the path, which the
/// user's role may take at all (404 for an unknown action, 403 for one the role may not take).
/// Whether the round's state allows it is the use case's to say.
pub struct ActionCall {
    req: HttpRequest,
    state: web::Data<AppState>,
    user: CurrentUser,
    round_id: i64,
    action: RoundAction,
}

impl ActionCall {
    fn ctx(&self) -> PageContext {
        PageContext::new(&self.req, Some(&self.user))
    }

    fn caller(&self) -> Caller<'_> {
        Caller::new(&self.req, &self.state, &self.user)
    }
}

impl FromRequest for ActionCall {
    type Error = actix_web::Error;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let parts = <(web::Data<AppState>, CurrentUser, web::Path<(i64, String)>)>::from_request(
            req, payload,
        );
        let req = req.clone();
        Box::pin(async move {
            let (state, user, path) = parts.await?;
            let (round_id, raw) = path.into_inner();
            let action: RoundAction = raw.parse().map_err(|_| AppError::NotFound)?;
            if !action.allowed_for(user.role) {
                return Err(AppError::Forbidden.into());
            }
            Ok(ActionCall {
                req,
                state,
                user,
                round_id,
                action,
            })
        })
    }
}

/// `GET /admin/rounds/{id}/actions/{action}`: what the action will do, with a confirm button.
/// An action the round's state does not allow is refused on the round page, with the reason.
pub async fn confirm(call: ActionCall) -> AppResult<HttpResponse> {
    let (round_id, action) = (call.round_id, call.action);
    act_or_refuse(
        call.caller(),
        round_id,
        move |conn, _| rounds::action_preview(conn, round_id, action),
        |summary| {
            html(
                actix_web::http::StatusCode::OK,
                views::round_actions::confirm(&call.ctx(), &summary),
            )
        },
    )
    .await
}

/// `POST /admin/rounds/{id}/actions/{action}`: takes the action, then shows what happened.
pub async fn take(call: ActionCall, _form: CsrfForm<EmptyForm>) -> AppResult<HttpResponse> {
    let (round_id, action) = (call.round_id, call.action);
    act_or_refuse(
        call.caller(),
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
pub async fn done(call: ActionCall) -> AppResult<HttpResponse> {
    let (round_id, action) = (call.round_id, call.action);
    let summary = call
        .state
        .db(move |conn| Ok(rounds::action_outcome(conn, round_id, action)?))
        .await?;
    Ok(html(
        actix_web::http::StatusCode::OK,
        views::round_actions::done(&call.ctx(), &summary),
    ))
}
