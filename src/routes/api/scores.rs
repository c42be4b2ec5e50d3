//! Scores and rankings: `/api/v1/rounds/{id}/scores` and `/api/v1/rounds/{id}/rankings`.

use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::error::{AppError, AppResult};

use super::{ErrorBody, Page, PageQuery, RoundCall, paginate};

/// A group's score as the API shows it (the JSON form of a
/// [`crate::domain::scoring::GroupScore`]; prefixed so the two never meet under one name).
#[derive(Debug, Serialize, ToSchema)]
pub struct ApiGroupScore {
    /// Group code.
    pub group: String,
    /// Responses.
    pub responses: u64,
    /// Points; null when the unit has no score in this group (no data).
    #[serde(serialize_with = "crate::app::export::serialize_file_number_opt")]
    pub points: Option<f64>,
    /// Maximum.
    #[serde(serialize_with = "crate::app::export::serialize_file_number")]
    pub max_points: f64,
    /// Percent of the maximum; null without a score.
    #[serde(serialize_with = "crate::app::export::serialize_file_number_opt")]
    pub percent: Option<f64>,
    /// Share (0 to 1) of the group's points whose items had valid answers.
    #[serde(serialize_with = "crate::app::export::serialize_file_number_opt")]
    pub coverage: Option<f64>,
}

/// A component of the index as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApiComponentScore {
    /// Component code.
    pub code: String,
    /// Points; null when an input is missing.
    #[serde(serialize_with = "crate::app::export::serialize_file_number_opt")]
    pub points: Option<f64>,
    /// Maximum.
    #[serde(serialize_with = "crate::app::export::serialize_file_number")]
    pub max_points: f64,
    /// Percent; null when an input is missing.
    #[serde(serialize_with = "crate::app::export::serialize_file_number_opt")]
    pub percent: Option<f64>,
}

/// A unit's scores as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApiUnitScore {
    /// Unit code.
    pub unit: String,
    /// Vietnamese name.
    pub name_vi: String,
    /// English name.
    pub name_en: String,
    /// Region code.
    pub region: String,
    /// The survey part (leaders and managers plus SIPAS) in points; null when one of them
    /// has no score.
    #[serde(serialize_with = "crate::app::export::serialize_file_number_opt")]
    pub survey_points: Option<f64>,
    /// The survey part's maximum (32 under the bundled methodology).
    #[serde(serialize_with = "crate::app::export::serialize_file_number")]
    pub survey_max_points: f64,
    /// The survey part in percent of its maximum.
    #[serde(serialize_with = "crate::app::export::serialize_file_number_opt")]
    pub survey_percent: Option<f64>,
    /// The index total (survey part plus appraised points); null unless the unit's appraised
    /// points are imported and every input has a value.
    #[serde(serialize_with = "crate::app::export::serialize_file_number_opt")]
    pub index_points: Option<f64>,
    /// The index total's maximum (100).
    #[serde(serialize_with = "crate::app::export::serialize_file_number")]
    pub index_max_points: f64,
    /// The index total in percent.
    #[serde(serialize_with = "crate::app::export::serialize_file_number_opt")]
    pub index_percent: Option<f64>,
    /// Whether every counted group and SIPAS (and, for the full index, the appraised points)
    /// has a value; only complete units have a total, a tier and a rank.
    pub complete: bool,
    /// Fewer responses than the methodology's minimum in a counted group: scores shown, but
    /// neither tiered nor ranked.
    pub insufficient_data: bool,
    /// `ranked`, `incomplete`, `insufficient_data` or `survey_part_only` (the round has
    /// appraised points, but not this unit's).
    #[schema(value_type = String)]
    pub standing: crate::domain::scoring::Standing,
    /// Tier (full index only).
    pub tier: Option<String>,
    /// National rank, 1..n over the complete units.
    pub national_rank: Option<u32>,
    /// Points groups.
    pub groups: Vec<ApiGroupScore>,
    /// SIPAS overall percent.
    #[serde(serialize_with = "crate::app::export::serialize_file_number_opt")]
    pub sipas_percent: Option<f64>,
    /// Components.
    pub components: Vec<ApiComponentScore>,
    /// Counted responses keyed in from paper forms (absent in snapshots published before the
    /// count was kept).
    pub paper_responses: Option<u64>,
    /// Counted responses collected in the field with ODK or KoboToolbox and imported (absent
    /// in snapshots published before the count was kept).
    pub field_responses: Option<u64>,
}

/// A unit's place in a ranking.
#[derive(Debug, Serialize, ToSchema)]
pub struct RankingEntry {
    /// Unit code.
    pub unit: String,
    /// Region code.
    pub region: String,
    /// The ranked percent.
    #[serde(serialize_with = "crate::app::export::serialize_file_number")]
    pub value: f64,
    /// National rank (1 = best).
    pub national_rank: Option<u32>,
    /// Units ranked nationally.
    pub national_of: Option<u32>,
    /// Rank in the region.
    pub regional_rank: Option<u32>,
    /// Tier.
    pub tier: Option<String>,
    /// False when the bootstrap intervals do not support the place (published rounds);
    /// absent when not computed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rank_supported: Option<bool>,
}

/// Which ranking.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RankingQuery {
    /// `total` (default) or a component code.
    by: Option<String>,
}

/// `GET /api/v1/rounds/{id}/scores`
#[utoipa::path(get, path = "/api/v1/rounds/{id}/scores", tag = "scores",
    params(("id" = i64, Path, description = "Round id"), PageQuery),
    responses((status = 200, description = "Scores in national rank order", body = Page<ApiUnitScore>),
        (status = 401, description = "Unpublished and no token", body = ErrorBody),
        (status = 404, description = "No such round", body = ErrorBody)),
    security((), ("bearer" = [])))]
pub async fn scores(call: RoundCall, query: web::Query<PageQuery>) -> AppResult<HttpResponse> {
    let r = call.state.results_of(call.round_id, call.viewer).await?;
    let items = r
        .scores
        .by_rank()
        .into_iter()
        .map(|(u, rank)| ApiUnitScore {
            unit: u.unit.clone(),
            name_vi: u.name_vi.clone(),
            name_en: u.name_en.clone(),
            region: u.region.clone(),
            survey_points: u.index.survey_points,
            survey_max_points: u.index.survey_max_points,
            survey_percent: u
                .index
                .survey_points
                .and_then(|p| crate::domain::scoring::percent_of(p, u.index.survey_max_points)),
            index_points: u.index_total(),
            index_max_points: r.methodology.total_points,
            index_percent: u.index_total().and(u.index.percent),
            complete: u.index.is_complete(),
            insufficient_data: u.index.insufficient_data,
            standing: r.scores.standing(u),
            tier: u.index.tier.clone(),
            national_rank: rank.and_then(|x| x.national).map(|p| p.rank),
            groups: u
                .groups
                .iter()
                .map(|g| ApiGroupScore {
                    group: g.group.clone(),
                    responses: g.responses,
                    points: g.points,
                    max_points: g.max_points,
                    percent: g.percent,
                    coverage: g.coverage,
                })
                .collect(),
            sipas_percent: u.sipas_percent(),
            components: u
                .index
                .components
                .iter()
                .map(|c| ApiComponentScore {
                    code: c.code.clone(),
                    points: c.points,
                    max_points: c.max_points,
                    percent: c.percent,
                })
                .collect(),
            paper_responses: u.paper_responses,
            field_responses: u.field_responses,
        })
        .collect();
    Ok(HttpResponse::Ok().json(paginate(items, &query, Some(r.source))))
}

/// `GET /api/v1/rounds/{id}/rankings`
#[utoipa::path(get, path = "/api/v1/rounds/{id}/rankings", tag = "scores",
    params(("id" = i64, Path, description = "Round id"), RankingQuery, PageQuery),
    responses((status = 200, description = "The ranking, best first", body = Page<RankingEntry>),
        (status = 401, description = "Unpublished and no token", body = ErrorBody),
        (status = 404, description = "No such round or component", body = ErrorBody)),
    security((), ("bearer" = [])))]
pub async fn rankings(
    call: RoundCall,
    by: web::Query<RankingQuery>,
    query: web::Query<PageQuery>,
) -> AppResult<HttpResponse> {
    let r = call.state.results_of(call.round_id, call.viewer).await?;
    let ranked = match by.by.as_deref() {
        None | Some("total") => &r.scores.rankings.total,
        Some(code) => {
            &r.scores
                .rankings
                .components
                .iter()
                .find(|c| c.component == code)
                .ok_or(AppError::NotFound)?
                .ranked
        }
    };
    let items = ranked
        .iter()
        .map(|x| RankingEntry {
            unit: x.unit.clone(),
            region: x.region.clone(),
            value: x.value,
            national_rank: x.national.map(|p| p.rank),
            national_of: x.national.map(|p| p.of),
            regional_rank: x.regional.map(|p| p.rank),
            tier: x.tier.clone(),
            rank_supported: r.scores.rank_supported(&x.unit),
        })
        .collect();
    Ok(HttpResponse::Ok().json(paginate(items, &query, Some(r.source))))
}
