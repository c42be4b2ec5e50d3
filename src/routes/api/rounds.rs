//! Rounds and their units: `/api/v1/rounds`, `/api/v1/rounds/{id}` and
//! `/api/v1/rounds/{id}/units`.

use actix_web::{HttpResponse, web};
use serde::Serialize;
use utoipa::ToSchema;

use crate::app::auth::api_token::ApiCaller;
use crate::app::results::{self, Viewer};
use crate::app::state::AppState;
use crate::error::{AppError, AppResult};

use super::{ErrorBody, Page, PageQuery, RoundCall, paginate};

/// A survey round.
#[derive(Debug, Serialize, ToSchema)]
pub struct Round {
    /// Round id.
    pub id: i64,
    /// Survey year.
    pub year: i32,
    /// Vietnamese name.
    pub name_vi: String,
    /// English name.
    pub name_en: String,
    /// `draft`, `open`, `closed`, `computed` or `published`.
    pub status: String,
    /// Latest published snapshot version.
    pub published_version: Option<i32>,
    /// The earlier round year-over-year compares with.
    pub compare_round_id: Option<i64>,
}

impl From<(crate::db::rounds::RoundRow, Option<i32>)> for Round {
    fn from((r, published): (crate::db::rounds::RoundRow, Option<i32>)) -> Self {
        Self {
            id: r.id,
            year: r.year,
            name_vi: r.name_vi,
            name_en: r.name_en,
            status: r.status.code().to_owned(),
            published_version: published,
            compare_round_id: r.compare_round_id,
        }
    }
}

/// A unit (province or city) of a round.
#[derive(Debug, Serialize, ToSchema)]
pub struct Unit {
    /// Code.
    pub code: String,
    /// Vietnamese name.
    pub name_vi: String,
    /// English name.
    pub name_en: String,
    /// Region code.
    pub region: Option<String>,
}

/// `GET /api/v1/rounds`
#[utoipa::path(get, path = "/api/v1/rounds", tag = "rounds", params(PageQuery),
    responses((status = 200, description = "The rounds the caller may see", body = Page<Round>)),
    security((), ("bearer" = [])))]
pub async fn rounds(
    state: web::Data<AppState>,
    caller: ApiCaller,
    query: web::Query<PageQuery>,
) -> AppResult<HttpResponse> {
    let viewer = caller.viewer;
    let rows = state
        .db(move |conn| results::visible_rounds(conn, viewer))
        .await?;
    let items = rows.into_iter().map(Round::from).collect();
    Ok(HttpResponse::Ok().json(paginate(items, &query, None)))
}

/// `GET /api/v1/rounds/{id}`
#[utoipa::path(get, path = "/api/v1/rounds/{id}", tag = "rounds",
    params(("id" = i64, Path, description = "Round id")),
    responses((status = 200, description = "The round", body = Round),
        (status = 401, description = "Unpublished and no token", body = ErrorBody),
        (status = 404, description = "No such round", body = ErrorBody)),
    security((), ("bearer" = [])))]
pub async fn round(call: RoundCall) -> AppResult<HttpResponse> {
    let found = call
        .state
        .db(move |conn| {
            Ok(results::visible_rounds(conn, call.viewer)?
                .into_iter()
                .find(|(r, _)| r.id == call.round_id))
        })
        .await?;
    let Some((r, published)) = found else {
        // Unpublished rounds exist for staff only; the public learns nothing more.
        return Err(if call.viewer == Viewer::Public {
            AppError::LoginRequired
        } else {
            AppError::NotFound
        });
    };
    Ok(HttpResponse::Ok().json(Round::from((r, published))))
}

/// `GET /api/v1/rounds/{id}/units`
#[utoipa::path(get, path = "/api/v1/rounds/{id}/units", tag = "rounds",
    params(("id" = i64, Path, description = "Round id"), PageQuery),
    responses((status = 200, description = "Units in the caller's scope", body = Page<Unit>),
        (status = 401, description = "Unpublished and no token", body = ErrorBody),
        (status = 404, description = "No such round", body = ErrorBody)),
    security((), ("bearer" = [])))]
pub async fn units(call: RoundCall, query: web::Query<PageQuery>) -> AppResult<HttpResponse> {
    let (r, units) = call
        .state
        .with_results(call.round_id, call.viewer, |conn, r| {
            let units = results::units_in_scope(conn, &r)?;
            Ok((r, units))
        })
        .await?;
    let items = units
        .into_iter()
        .map(|u| Unit {
            code: u.code,
            name_vi: u.name_vi,
            name_en: u.name_en,
            region: u.region_code,
        })
        .collect();
    Ok(HttpResponse::Ok().json(paginate(items, &query, Some(r.source))))
}
