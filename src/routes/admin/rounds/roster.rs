//! The respondents page of a round: list and search (administrators, and coordinators for
//! their own units), correct and remove (administrators).

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use maud::Markup;
use serde::Deserialize;

use super::{EmptyForm, FormErrors, act, act_form};
use crate::app::auth::csrf::CsrfForm;
use crate::app::rounds::{self, ContactForm, RosterEntry};
use crate::db::rounds::RoundRow;
use crate::domain::account::Role;
use crate::error::{AppError, AppResult};
use crate::routes::{Admins, Caller, Fieldwork, Staff};
use crate::routes::{private_html, see_other};
use crate::views::respondents::RosterPage;
use crate::views::{self, PageContext};

/// Query of the respondents page.
#[derive(Debug, Deserialize)]
pub struct RosterQuery {
    q: Option<String>,
    done: Option<String>,
}

/// `GET /admin/rounds/{id}/respondents[?q=…]`.
pub async fn roster(
    staff: Staff<Fieldwork>,
    id: web::Path<i64>,
    query: web::Query<RosterQuery>,
) -> AppResult<HttpResponse> {
    let notice = match query.done.as_deref() {
        Some("edited") => Some("roster.done_edited"),
        Some("removed") => Some("roster.done_removed"),
        Some("revoked") => Some("roster.done_revoked"),
        _ => None,
    };
    let search = query.q.clone().unwrap_or_default();
    roster_page(
        staff.caller(),
        id.into_inner(),
        search,
        notice,
        &[],
        StatusCode::OK,
    )
    .await
}

async fn roster_page(
    at: Caller<'_>,
    round_id: i64,
    search: String,
    notice: Option<&'static str>,
    errors: &[String],
    status: StatusCode,
) -> AppResult<HttpResponse> {
    let Caller { req, state, user } = at;
    let viewer = user.staff_viewer();
    let typed = search.clone();
    let roster = state
        .db(move |conn| rounds::roster(conn, round_id, viewer, &typed).map_err(AppError::from))
        .await?;
    let ctx = PageContext::new(req, Some(user));
    Ok(private_html(
        status,
        views::respondents::roster(
            &ctx,
            &RosterPage {
                roster: &roster,
                search: &search,
                can_manage: user.role == Role::Admin,
                notice,
                errors,
            },
        ),
    ))
}

/// A page about one listed respondent of a round, as the user may see them (their units only,
/// for a coordinator): the edit and remove pages.
async fn entry_page(
    at: Caller<'_>,
    (round_id, respondent_id): (i64, i64),
    status: StatusCode,
    render: impl FnOnce(&PageContext, &RoundRow, &RosterEntry) -> Markup,
) -> AppResult<HttpResponse> {
    let Caller { req, state, user } = at;
    let viewer = user.staff_viewer();
    let (round, entry) = state
        .db(move |conn| {
            rounds::roster_entry(conn, round_id, respondent_id, viewer).map_err(AppError::from)
        })
        .await?;
    let ctx = PageContext::new(req, Some(user));
    Ok(private_html(status, render(&ctx, &round, &entry)))
}

/// `GET /admin/rounds/{id}/respondents/{respondent}/edit`.
pub async fn edit_respondent_form(
    staff: Staff<Admins>,
    path: web::Path<(i64, i64)>,
) -> AppResult<HttpResponse> {
    entry_page(
        staff.caller(),
        path.into_inner(),
        StatusCode::OK,
        |ctx, round, entry| {
            let form = ContactForm {
                name: entry.name.clone(),
                email: entry.email.clone().unwrap_or_default(),
                phone: entry.phone.clone().unwrap_or_default(),
            };
            views::respondents::edit_form(ctx, round, entry, &form, &[], &[])
        },
    )
    .await
}

/// `POST /admin/rounds/{id}/respondents/{respondent}/edit`: a refused form comes back as
/// typed, each message beside its field.
pub async fn edit_respondent(
    staff: Staff<Admins>,
    path: web::Path<(i64, i64)>,
    form: CsrfForm<ContactForm>,
) -> AppResult<HttpResponse> {
    let at = staff.caller();
    let (round_id, respondent_id) = path.into_inner();
    let form = form.data;
    let typed = form.clone();
    let outcome = act_form(at, move |conn, actor| {
        rounds::edit_respondent(conn, round_id, respondent_id, &typed, actor)
    })
    .await?;
    let errors: FormErrors = match outcome {
        Ok(()) => {
            return Ok(see_other(format!(
                "/admin/rounds/{round_id}/respondents?done=edited"
            )));
        }
        Err(errors) => errors,
    };
    entry_page(
        at,
        (round_id, respondent_id),
        StatusCode::UNPROCESSABLE_ENTITY,
        |ctx, round, entry| {
            views::respondents::edit_form(ctx, round, entry, &form, &errors.general, &errors.fields)
        },
    )
    .await
}

/// `GET /admin/rounds/{id}/respondents/{respondent}/remove`: what removing will do, and the
/// button that does it.
pub async fn remove_respondent_form(
    staff: Staff<Admins>,
    path: web::Path<(i64, i64)>,
) -> AppResult<HttpResponse> {
    entry_page(
        staff.caller(),
        path.into_inner(),
        StatusCode::OK,
        views::respondents::remove_form,
    )
    .await
}

/// `POST /admin/rounds/{id}/respondents/{respondent}/remove`.
pub async fn remove_respondent(
    staff: Staff<Admins>,
    path: web::Path<(i64, i64)>,
    _form: CsrfForm<EmptyForm>,
) -> AppResult<HttpResponse> {
    let at = staff.caller();
    let (round_id, respondent_id) = path.into_inner();
    match act(at, move |conn, actor| {
        rounds::remove_respondent(conn, round_id, respondent_id, actor)
    })
    .await?
    {
        Ok(revoked) => Ok(see_other(format!(
            "/admin/rounds/{round_id}/respondents?done={}",
            if revoked { "revoked" } else { "removed" }
        ))),
        Err(errors) => {
            roster_page(
                at,
                round_id,
                String::new(),
                None,
                &errors,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
    }
}
