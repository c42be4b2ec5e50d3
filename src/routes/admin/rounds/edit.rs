//! Editing a round through its form (a draft in full, an open round's closing time) and
//! deleting a draft after a confirmation step.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};

use super::{FormErrors, act_form, act_or_refuse, refused_on_round};
use crate::app::auth::csrf::CsrfForm;
use crate::app::rounds::{self, RoundForm};
use crate::error::AppResult;
use crate::routes::IdButton;
use crate::routes::{Admins, Caller, RoleSet, Staff};
use crate::routes::{see_other, unprocessable_if};
use crate::views::{self, PageContext};

/// The edit page, with the form as typed after a refusal; a round that can no longer be
/// edited shows its round page with the reason (422).
async fn edit_page(
    at: Caller<'_>,
    round_id: i64,
    typed: Option<&RoundForm>,
    errors: &FormErrors,
) -> AppResult<HttpResponse> {
    let Caller { req, user, .. } = at;
    let zone = at.state.settings.time_zone;
    let loaded = act_form(at, move |conn, _| rounds::edit_page(conn, round_id, zone)).await?;
    let (round, stored, sets) = match loaded {
        Ok(loaded) => loaded,
        Err(refusal) => {
            return refused_on_round(at, round_id, &refusal.general).await;
        }
    };
    let ctx = PageContext::new(req, Some(user));
    let page = views::rounds::edit(
        &ctx,
        &round,
        typed.unwrap_or(&stored),
        &sets,
        errors.problems(),
        zone,
    );
    let status = unprocessable_if(!(errors.general.is_empty() && errors.fields.is_empty()));
    Ok(crate::routes::html(status, page))
}

/// `GET /admin/rounds/{id}/edit`: the round form, pre-filled.
pub async fn edit_form(staff: Staff<Admins>, id: web::Path<i64>) -> AppResult<HttpResponse> {
    edit_page(
        staff.caller(),
        id.into_inner(),
        None,
        &FormErrors::default(),
    )
    .await
}

/// `POST /admin/rounds/{id}/edit`: saves a draft's fields or an open round's closing time. A
/// refused form comes back as typed.
pub async fn edit(
    staff: Staff<Admins>,
    id: web::Path<i64>,
    form: CsrfForm<RoundForm>,
) -> AppResult<HttpResponse> {
    let at = staff.caller();
    let round_id = id.into_inner();
    let form = form.data;
    let zone = at.state.settings.time_zone;
    let typed = form.clone();
    match act_form(at, move |conn, actor| {
        rounds::edit_round(conn, round_id, &typed, zone, actor)
    })
    .await?
    {
        Ok(()) => Ok(see_other(format!("/admin/rounds/{round_id}?done=edited"))),
        Err(errors) => edit_page(at, round_id, Some(&form), &errors).await,
    }
}

/// `GET /admin/rounds/{id}/delete`: what deleting the draft would remove, and the button.
pub async fn delete_form(staff: Staff<Admins>, id: web::Path<i64>) -> AppResult<HttpResponse> {
    let at = staff.caller();
    let round_id = id.into_inner();
    act_or_refuse(
        at,
        round_id,
        move |conn, _| rounds::deletion_preview(conn, round_id),
        |deletion| {
            crate::routes::html(
                StatusCode::OK,
                views::rounds::delete_confirm(&PageContext::new(at.req, Some(at.user)), &deletion),
            )
        },
    )
    .await
}

/// `POST /admin/rounds/{id}/delete`: deletes the draft round (audited).
pub async fn delete(button: IdButton) -> AppResult<HttpResponse> {
    button.user.require(Admins::ROLES)?;
    act_or_refuse(
        button.caller(),
        button.id,
        move |conn, actor| rounds::delete_round(conn, button.id, actor),
        |_| see_other("/admin/rounds?done=deleted".to_owned()),
    )
    .await
}
