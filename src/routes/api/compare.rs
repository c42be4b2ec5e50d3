//! `GET /api/v1/rounds/{id}/compare?national=N&unit=CODE`: a province's internal round, pooled
//! over its units, beside the province in the national round of the same year, item by item:
//! the JSON form of the comparison page, opened by the same use case.

use actix_web::{HttpResponse, web};
use serde::Serialize;
use utoipa::ToSchema;

use crate::app::results::{self, Source};
use crate::domain::gains::{CompareRow, GroupComparison, NotComparable};
use crate::error::{AppError, AppResult};
use crate::routes::results::CompareQuery;

use super::RoundCall;

/// One criterion or item compared, in percent of its maximum.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApiCompareRow {
    /// `criterion` or `item`.
    pub level: String,
    /// Criterion or item code.
    pub code: String,
    /// The criterion the row belongs to (its own code for a criterion).
    pub criterion: String,
    /// The internal round, pooled over its units; null without a value.
    #[serde(serialize_with = "crate::app::export::serialize_file_number_opt")]
    pub internal: Option<f64>,
    /// The province in the national round.
    #[serde(serialize_with = "crate::app::export::serialize_file_number_opt")]
    pub national: Option<f64>,
    /// internal − national, in percentage points.
    #[serde(serialize_with = "crate::app::export::serialize_file_number_opt")]
    pub difference: Option<f64>,
    /// Mean over the national units in the caller's view.
    #[serde(serialize_with = "crate::app::export::serialize_file_number_opt")]
    pub national_mean: Option<f64>,
    /// Best of the national units in the caller's view.
    #[serde(serialize_with = "crate::app::export::serialize_file_number_opt")]
    pub national_best: Option<f64>,
}

impl From<CompareRow> for ApiCompareRow {
    fn from(r: CompareRow) -> Self {
        ApiCompareRow {
            level: r.level.code().to_owned(),
            code: r.code,
            criterion: r.criterion,
            internal: r.internal,
            national: r.national,
            difference: r.difference,
            national_mean: r.national_mean,
            national_best: r.national_best,
        }
    }
}

/// One respondent group present in both rounds.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApiCompareGroup {
    /// Group code.
    pub group: String,
    /// Internal units pooled.
    pub internal_units: usize,
    /// Responses pooled.
    pub internal_responses: u64,
    /// Each criterion followed by its items.
    pub rows: Vec<ApiCompareRow>,
}

impl From<GroupComparison> for ApiCompareGroup {
    fn from(g: GroupComparison) -> Self {
        ApiCompareGroup {
            group: g.group,
            internal_units: g.internal_units,
            internal_responses: g.internal_responses,
            rows: g.rows.into_iter().map(ApiCompareRow::from).collect(),
        }
    }
}

/// A group, criterion or item only one round has: not comparable, never 0.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApiNotComparable {
    /// `group`, `criterion` or `item`.
    pub level: String,
    /// Respondent group.
    pub group: String,
    /// Its code.
    pub code: String,
    /// `internal` or `national`: the round that has it.
    pub only_in: String,
}

impl From<NotComparable> for ApiNotComparable {
    fn from(n: NotComparable) -> Self {
        ApiNotComparable {
            level: n.level.code().to_owned(),
            group: n.group,
            code: n.code,
            only_in: n.only_in.code().to_owned(),
        }
    }
}

/// The internal round beside one province of the national round.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApiComparison {
    /// The internal round's id.
    pub round: i64,
    /// `live` or `published`: the internal round's figures.
    pub source: String,
    /// The national round's id.
    pub national_round: i64,
    /// `live` or `published`: the national round's figures.
    pub national_source: String,
    /// The province's code.
    pub unit: String,
    /// Its Vietnamese name.
    pub name_vi: String,
    /// Its English name.
    pub name_en: String,
    /// Internal units in the caller's view.
    pub internal_units: usize,
    /// The groups in both rounds.
    pub groups: Vec<ApiCompareGroup>,
    /// What only one round has.
    pub not_comparable: Vec<ApiNotComparable>,
}

fn source_code(s: Source) -> String {
    match s {
        Source::Live => "live".to_owned(),
        Source::Published { .. } => "published".to_owned(),
    }
}

/// `GET /api/v1/rounds/{id}/compare`
#[utoipa::path(get, path = "/api/v1/rounds/{id}/compare", tag = "rounds",
    params(("id" = i64, Path, description = "The internal round's id"),
        ("national" = Option<i64>, Query, description = "The national round of the same year (default: the only one the caller may open)"),
        ("unit" = String, Query, description = "The province's code in the national round")),
    responses((status = 200, description = "Each criterion and item of the groups in both rounds, in percent of its maximum", body = ApiComparison),
        (status = 400, description = "No national round or unit chosen, a national round of another year, a unit not in it, or no group in common", body = super::ErrorBody),
        (status = 401, description = "A round is unpublished and no token", body = super::ErrorBody),
        (status = 404, description = "No such round, or the unit is not in the caller's scope", body = super::ErrorBody)),
    security((), ("bearer" = [])))]
pub async fn compare_rounds(
    call: RoundCall,
    query: web::Query<CompareQuery>,
) -> AppResult<HttpResponse> {
    let request = query.into_inner().request();
    let cache = call.state.results.clone();
    let found = call
        .state
        .db(move |conn| {
            results::compare_with_national(&cache, conn, call.round_id, call.viewer, &request)
        })
        .await?;
    let c = match found.outcome {
        Err(key) => return Err(AppError::BadRequest(key)),
        Ok(None) if found.national.is_none() => {
            return Err(AppError::BadRequest("compare.choose_national"));
        }
        Ok(None) => return Err(AppError::BadRequest("compare.choose_unit")),
        Ok(Some(c)) => c,
    };
    Ok(HttpResponse::Ok().json(ApiComparison {
        round: call.round_id,
        source: source_code(found.internal.source),
        national_round: c.national_round.id,
        national_source: source_code(c.national_source),
        unit: c.unit,
        name_vi: c.name_vi,
        name_en: c.name_en,
        internal_units: c.internal_units,
        groups: c
            .comparison
            .groups
            .into_iter()
            .map(ApiCompareGroup::from)
            .collect(),
        not_comparable: c
            .comparison
            .not_comparable
            .into_iter()
            .map(ApiNotComparable::from)
            .collect(),
    }))
}
