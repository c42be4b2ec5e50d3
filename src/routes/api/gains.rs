//! Where a unit can gain: `/api/v1/rounds/{id}/units/{code}/gains`, the JSON form of the
//! gains page, opened through the same results entry (visibility, disclosure, scope).

use actix_web::{HttpResponse, web};
use serde::Serialize;
use utoipa::ToSchema;

use crate::app::auth::api_token::ApiCaller;
use crate::app::results::{self, Source};
use crate::app::state::AppState;
use crate::domain::gains::Stake;
use crate::error::AppResult;

use super::ErrorBody;

/// One row at stake.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApiStake {
    /// `component`, `linked_index`, `criterion` or `item`.
    pub level: String,
    /// `survey` or `appraised` points.
    pub part: String,
    /// Respondent group of a criterion or item; null for components and linked indices.
    pub group: Option<String>,
    /// Code of the component, linked index, criterion or item.
    pub code: String,
    /// The component the row belongs to.
    pub component: String,
    /// The unit's points; null without a value.
    #[serde(serialize_with = "crate::app::export::serialize_file_number_opt")]
    pub points: Option<f64>,
    /// Maximum.
    #[serde(serialize_with = "crate::app::export::serialize_file_number")]
    pub max_points: f64,
    /// Points lost (maximum − points): what the row can recover at most.
    #[serde(serialize_with = "crate::app::export::serialize_file_number_opt")]
    pub points_lost: Option<f64>,
    /// Best points among the units in the caller's view.
    #[serde(serialize_with = "crate::app::export::serialize_file_number_opt")]
    pub national_best: Option<f64>,
    /// National best − points.
    #[serde(serialize_with = "crate::app::export::serialize_file_number_opt")]
    pub gap_to_national_best: Option<f64>,
    /// Best points in the unit's region.
    #[serde(serialize_with = "crate::app::export::serialize_file_number_opt")]
    pub regional_best: Option<f64>,
    /// Regional best − points.
    #[serde(serialize_with = "crate::app::export::serialize_file_number_opt")]
    pub gap_to_regional_best: Option<f64>,
    /// Points in the previous round (through the unit lineage); null when not compared.
    #[serde(serialize_with = "crate::app::export::serialize_file_number_opt")]
    pub previous: Option<f64>,
    /// Points − previous.
    #[serde(serialize_with = "crate::app::export::serialize_file_number_opt")]
    pub change_since_previous: Option<f64>,
}

impl From<Stake> for ApiStake {
    fn from(s: Stake) -> Self {
        ApiStake {
            level: s.key.level.code().to_owned(),
            part: s.key.part.code().to_owned(),
            group: s.key.group,
            code: s.key.code,
            component: s.component,
            points: s.points,
            max_points: s.max_points,
            points_lost: s.lost,
            national_best: s.national_best,
            gap_to_national_best: s.gap_to_national_best,
            regional_best: s.regional_best,
            gap_to_regional_best: s.gap_to_regional_best,
            previous: s.previous,
            change_since_previous: s.change_since_previous,
        }
    }
}

/// A unit's points at stake.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApiUnitGains {
    /// Unit code.
    pub unit: String,
    /// Vietnamese name.
    pub name_vi: String,
    /// English name.
    pub name_en: String,
    /// Region code.
    pub region: String,
    /// `live` (computed now, unpublished) or `published`.
    pub source: String,
    /// The published snapshot version, when `source` is `published`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub snapshot_version: Option<i32>,
    /// Units the best values are taken among.
    pub compared_units: usize,
    /// The round the previous values come from; null when there are none.
    pub previous_round: Option<i64>,
    /// Every row, most points lost first.
    pub stakes: Vec<ApiStake>,
}

/// `GET /api/v1/rounds/{id}/units/{code}/gains`
#[utoipa::path(get, path = "/api/v1/rounds/{id}/units/{code}/gains", tag = "rounds",
    params(("id" = i64, Path, description = "Round id"), ("code" = String, Path, description = "Unit code")),
    responses((status = 200, description = "The unit's points at stake, most points lost first", body = ApiUnitGains),
        (status = 401, description = "Unpublished and no token", body = ErrorBody),
        (status = 404, description = "No such round, or the unit is not in the caller's scope", body = ErrorBody)),
    security((), ("bearer" = [])))]
pub async fn unit_gains(
    state: web::Data<AppState>,
    caller: ApiCaller,
    path: web::Path<(i64, String)>,
) -> AppResult<HttpResponse> {
    let viewer = caller.viewer;
    let (round_id, code) = path.into_inner();
    let (source, gains) = state
        .with_results(round_id, viewer, move |conn, r| {
            let gains = results::unit_gains(conn, &r, viewer, &code)?;
            Ok((r.source, gains))
        })
        .await?;
    Ok(HttpResponse::Ok().json(ApiUnitGains {
        unit: gains.unit,
        name_vi: gains.name_vi,
        name_en: gains.name_en,
        region: gains.region,
        source: match source {
            Source::Live => "live".to_owned(),
            Source::Published { .. } => "published".to_owned(),
        },
        snapshot_version: match source {
            Source::Published { version } => Some(version),
            Source::Live => None,
        },
        compared_units: gains.compared_units,
        previous_round: gains.previous_round,
        stakes: gains.stakes.into_iter().map(ApiStake::from).collect(),
    }))
}
