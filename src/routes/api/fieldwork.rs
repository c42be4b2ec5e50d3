//! Fieldwork coverage: `/api/v1/rounds/{id}/coverage`.

use actix_web::{HttpResponse, web};
use serde::Serialize;
use utoipa::ToSchema;

use crate::app::auth::api_token::ApiCaller;
use crate::app::results::Viewer;
use crate::app::state::AppState;
use crate::error::AppResult;

use super::{ErrorBody, Page, PageQuery, paginate};

/// Fieldwork coverage of a unit and group.
#[derive(Debug, Serialize, ToSchema)]
pub struct Coverage {
    /// Unit code.
    pub unit: String,
    /// Group code.
    pub group: String,
    /// Target responses.
    pub target: i64,
    /// Respondents listed.
    pub listed: i64,
    /// Invited.
    pub invited: i64,
    /// Started.
    pub started: i64,
    /// Completed.
    pub completed: i64,
}

/// `GET /api/v1/rounds/{id}/coverage`
#[utoipa::path(get, path = "/api/v1/rounds/{id}/coverage", tag = "fieldwork",
    params(("id" = i64, Path, description = "Round id"), PageQuery),
    responses((status = 200, description = "Coverage of the caller's units", body = Page<Coverage>),
        (status = 401, description = "No token or session", body = ErrorBody),
        (status = 404, description = "No such round", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn coverage(
    state: web::Data<AppState>,
    caller: ApiCaller,
    id: web::Path<i64>,
    query: web::Query<PageQuery>,
) -> AppResult<HttpResponse> {
    let (user_id, role) = caller.require_staff()?;
    let round_id = id.into_inner();
    let rows = state
        .db(move |conn| {
            let viewer = Viewer::of(Some((user_id, role)));
            Ok(crate::app::rounds::coverage_for(conn, round_id, viewer)?)
        })
        .await?;
    let items = rows
        .into_iter()
        .map(|c| Coverage {
            unit: c.unit_code,
            group: c.group_code,
            target: c.target,
            listed: c.listed,
            invited: c.invited,
            started: c.started,
            completed: c.completed,
        })
        .collect();
    Ok(HttpResponse::Ok().json(paginate(items, &query, None)))
}
