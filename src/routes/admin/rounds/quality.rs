//! Data quality: flagged responses, re-flagging a round, and excluding a response.

use actix_web::{HttpResponse, web};
use maud::Markup;
use serde::Deserialize;

use super::EmptyForm;
use crate::app::auth::csrf::CsrfForm;
use crate::error::AppResult;
use crate::routes::see_other;
use crate::routes::{DataWork, Staff};
use crate::views::{self, PageContext};

/// `GET /admin/rounds/{id}/quality`: flagged responses.
pub async fn quality(
    Staff(req, state, user, ..): Staff<DataWork>,
    id: web::Path<i64>,
) -> AppResult<Markup> {
    let round_id = id.into_inner();
    let flagged = state
        .db(move |conn| crate::app::review::flagged(conn, round_id))
        .await?;
    let ctx = PageContext::new(&req, Some(&user));
    Ok(views::rounds::quality(
        &ctx,
        &flagged.round,
        &flagged.units,
        &flagged.responses,
        true,
    ))
}

/// `POST /admin/rounds/{id}/quality/flag`: recomputes the flags of every response.
pub async fn flag(
    Staff(_, state, ..): Staff<DataWork>,
    id: web::Path<i64>,
    _form: CsrfForm<EmptyForm>,
) -> AppResult<HttpResponse> {
    let round_id = id.into_inner();
    state
        .db(move |conn| crate::app::review::flag_round(conn, round_id))
        .await?;
    Ok(see_other(format!("/admin/rounds/{round_id}/quality")))
}

/// The exclusion form.
#[derive(Debug, Deserialize)]
pub struct ExcludeForm {
    response_id: i64,
    reason: String,
}

/// `POST /admin/rounds/{id}/quality/exclude`: leaves a response out of the scores, with a reason.
pub async fn exclude(
    Staff(_, state, user, ..): Staff<DataWork>,
    id: web::Path<i64>,
    form: CsrfForm<ExcludeForm>,
) -> AppResult<HttpResponse> {
    let round_id = id.into_inner();
    let (user_id, label) = (user.user.id, user.user.email.clone());
    let f = form.data;
    state
        .db(move |conn| {
            crate::app::review::exclude(
                conn,
                round_id,
                f.response_id,
                &f.reason,
                Some(user_id),
                &label,
            )
        })
        .await?;
    Ok(see_other(format!("/admin/rounds/{round_id}/quality")))
}
