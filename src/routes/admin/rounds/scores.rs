//! The live scores of a round, from its live tallies.

use actix_web::{HttpRequest, web};
use maud::Markup;
use serde::Deserialize;

use crate::app::auth::session::CurrentUser;
use crate::app::state::AppState;
use crate::db;
use crate::domain::account::Role;
use crate::error::{AppError, AppResult};
use crate::views::{self, PageContext};

/// Query of the score page.
#[derive(Debug, Deserialize)]
pub struct ScoresQuery {
    with_excluded: Option<String>,
}

/// `GET /admin/rounds/{id}/scores`: the live ranking, computed from the live tallies.
pub async fn scores(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: CurrentUser,
    id: web::Path<i64>,
    query: web::Query<ScoresQuery>,
) -> AppResult<Markup> {
    user.require(&[Role::Admin, Role::Analyst])?;
    let round_id = id.into_inner();
    let with_excluded = query.with_excluded.is_some();
    let (round, scores, yoy) = state
        .db(move |conn| {
            let round = db::rounds::by_id(conn, round_id)?.ok_or(AppError::NotFound)?;
            // Live tallies leave excluded responses out; the scores with them are recomputed.
            let tallies = if with_excluded {
                crate::app::scores::recompute_tallies_with_excluded(conn, round_id)?
            } else {
                crate::app::scores::live_tallies(conn, round_id)?
            };
            let scores = crate::app::scores::compute(conn, round_id, &tallies)?;
            Ok((
                round,
                scores,
                crate::app::scores::year_over_year(conn, round_id)?,
            ))
        })
        .await?;
    let ctx = PageContext::new(&req, Some(&user));
    Ok(views::rounds::scores(
        &ctx,
        &round,
        &scores,
        yoy.as_deref(),
        with_excluded,
    ))
}
