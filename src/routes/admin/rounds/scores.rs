//! The live scores of a round, from its live tallies.

use actix_web::web;
use maud::Markup;
use serde::Deserialize;

use crate::error::AppResult;
use crate::routes::{DataWork, Staff};
use crate::views::{self, PageContext};

/// Query of the score page.
#[derive(Debug, Deserialize)]
pub struct ScoresQuery {
    with_excluded: Option<String>,
}

/// `GET /admin/rounds/{id}/scores`: the live ranking, computed from the live tallies.
pub async fn scores(
    Staff(req, state, user, ..): Staff<DataWork>,
    id: web::Path<i64>,
    query: web::Query<ScoresQuery>,
) -> AppResult<Markup> {
    let round_id = id.into_inner();
    let with_excluded = query.with_excluded.is_some();
    let live = state
        .db(move |conn| crate::app::scores::live_scores(conn, round_id, with_excluded))
        .await?;
    let ctx = PageContext::new(&req, Some(&user));
    Ok(views::rounds::scores(
        &ctx,
        &live.round,
        &live.scores,
        &live.regions,
        live.year_over_year.as_deref(),
        with_excluded,
    ))
}
