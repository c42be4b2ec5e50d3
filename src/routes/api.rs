//! The JSON API under `/api/v1`: rounds, units, scores, rankings, coverage and export jobs,
//! with bearer tokens, paginated lists and an OpenAPI document generated from this code.
//! Visibility is the pages' own ([`crate::app::results`]), so the API can show no more than they do.

use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{IntoParams, Modify, OpenApi, ToSchema};

use crate::app::auth::api_token::ApiCaller;
use crate::app::export::CsvOptions;
use crate::app::export::jobs::{self, ExportRequest};
use crate::app::results::breakdown::PublicCell;
use crate::app::results::{self, Scope, Source, Viewer};
use crate::db;
use crate::error::{AppError, AppResult};
use crate::server::state::AppState;
use crate::views::api_docs::api_docs;
use crate::views::layout::PageContext;

/// The largest page a client may ask for.
pub const MAX_PER_PAGE: u32 = 500;

/// Paging of a list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Page number, from 1.
    page: Option<u32>,
    /// Items per page, 1 to 500 (default 100).
    per_page: Option<u32>,
}

impl PageQuery {
    fn bounds(&self) -> (u32, u32) {
        (
            self.page.unwrap_or(1).max(1),
            self.per_page.unwrap_or(100).clamp(1, MAX_PER_PAGE),
        )
    }
}

/// One page of a list.
#[derive(Debug, Serialize, ToSchema)]
pub struct Page<T> {
    /// The items of this page.
    pub items: Vec<T>,
    /// This page's number, from 1.
    pub page: u32,
    /// Items per page.
    pub per_page: u32,
    /// Items in all pages.
    pub total: u64,
    /// `live` (computed now, unpublished) or `published`, for score lists.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// The published snapshot version, when `source` is `published`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub snapshot_version: Option<i32>,
}

fn paginate<T>(all: Vec<T>, query: &PageQuery, source: Option<Source>) -> Page<T> {
    let (page, per_page) = query.bounds();
    let total = all.len() as u64;
    let skip = usize::try_from((page - 1).saturating_mul(per_page)).unwrap_or(usize::MAX);
    let items = all
        .into_iter()
        .skip(skip)
        .take(usize::try_from(per_page).unwrap_or(usize::MAX))
        .collect();
    Page {
        items,
        page,
        per_page,
        total,
        source: source.map(|s| match s {
            Source::Live => "live".to_owned(),
            Source::Published { .. } => "published".to_owned(),
        }),
        snapshot_version: match source {
            Some(Source::Published { version }) => Some(version),
            _ => None,
        },
    }
}

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

/// An export job.
#[derive(Debug, Serialize, ToSchema)]
pub struct ExportJob {
    /// Job id.
    pub id: String,
    /// Round.
    pub round_id: Option<i64>,
    /// `microdata`, `aggregates`, `codebook`, `syntax` or `breakdown`.
    pub kind: String,
    /// File format.
    pub format: String,
    /// `queued`, `running`, `done` or `failed`.
    pub status: String,
    /// Rows written.
    pub progress: i64,
    /// Rows to write.
    pub total: i64,
    /// Where to download the file once done.
    pub download_url: Option<String>,
    /// What went wrong.
    pub error: Option<String>,
    /// The file holds every response with exclusions marked (false: as scored).
    pub include_excluded: bool,
}

impl From<db::export_jobs::ExportJobRow> for ExportJob {
    fn from(j: db::export_jobs::ExportJobRow) -> Self {
        Self {
            include_excluded: jobs::includes_excluded(&j),
            download_url: (j.status == crate::domain::export_job::ExportJobStatus::Done)
                .then(|| format!("/api/v1/exports/{}/file", j.id)),
            id: j.id,
            round_id: j.round_id,
            kind: j.kind,
            format: j.format,
            status: j.status.code().to_owned(),
            progress: j.progress,
            total: j.total,
            error: j.error,
        }
    }
}

/// A request to export.
#[derive(Debug, Deserialize, ToSchema)]
pub struct NewExport {
    /// `microdata`, `aggregates`, `codebook` or `syntax`.
    pub kind: String,
    /// `csv`, `xlsx`, `json`, `html`, `sps`, `do` or `r` (as the kind allows).
    pub format: String,
    /// Respondent group (all kinds but `aggregates`).
    pub group: Option<String>,
    /// The single-choice or yes/no question a `breakdown` splits by (required for it).
    pub by: Option<String>,
    /// Start CSV files with a byte-order mark (default true).
    pub bom: Option<bool>,
    /// `point` (default) or `comma`.
    pub decimal: Option<String>,
    /// Microdata, codebook or syntax of every response with exclusions marked (columns
    /// `excluded`, `exclusion_reason`, `quality_flags`); false (default): as scored.
    pub include_excluded: Option<bool>,
}

/// An error.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// Status, title and detail.
    pub error: ErrorDetail,
}

/// What went wrong.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// HTTP status.
    pub status: u16,
    /// Short title.
    pub title: String,
    /// Explanation.
    pub detail: String,
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
pub async fn round(
    state: web::Data<AppState>,
    caller: ApiCaller,
    id: web::Path<i64>,
) -> AppResult<HttpResponse> {
    let viewer = caller.viewer;
    let round_id = id.into_inner();
    let found = state
        .db(move |conn| {
            Ok(results::visible_rounds(conn, viewer)?
                .into_iter()
                .find(|(r, _)| r.id == round_id))
        })
        .await?;
    let Some((r, published)) = found else {
        // Unpublished rounds exist for staff only; the public learns nothing more.
        return Err(if viewer == Viewer::Public {
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
pub async fn units(
    state: web::Data<AppState>,
    caller: ApiCaller,
    id: web::Path<i64>,
    query: web::Query<PageQuery>,
) -> AppResult<HttpResponse> {
    let viewer = caller.viewer;
    let round_id = id.into_inner();
    let cache = state.results.clone();
    let (r, units) = state
        .db(move |conn| {
            let r = results::round_results_cached(&cache, conn, round_id, viewer)?;
            Ok((r, db::rounds::units(conn, round_id)?))
        })
        .await?;
    let items = units
        .into_iter()
        .filter(|u| r.scope.includes(&u.code))
        .map(|u| Unit {
            code: u.code,
            name_vi: u.name_vi,
            name_en: u.name_en,
            region: u.region_code,
        })
        .collect();
    Ok(HttpResponse::Ok().json(paginate(items, &query, Some(r.source))))
}

/// `GET /api/v1/rounds/{id}/scores`
#[utoipa::path(get, path = "/api/v1/rounds/{id}/scores", tag = "scores",
    params(("id" = i64, Path, description = "Round id"), PageQuery),
    responses((status = 200, description = "Scores in national rank order", body = Page<ApiUnitScore>),
        (status = 401, description = "Unpublished and no token", body = ErrorBody),
        (status = 404, description = "No such round", body = ErrorBody)),
    security((), ("bearer" = [])))]
pub async fn scores(
    state: web::Data<AppState>,
    caller: ApiCaller,
    id: web::Path<i64>,
    query: web::Query<PageQuery>,
) -> AppResult<HttpResponse> {
    let viewer = caller.viewer;
    let round_id = id.into_inner();
    let cache = state.results.clone();
    let r = state
        .db(move |conn| results::round_results_cached(&cache, conn, round_id, viewer))
        .await?;
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
            sipas_percent: u.sipas.as_ref().and_then(|s| s.overall_percent),
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
    state: web::Data<AppState>,
    caller: ApiCaller,
    id: web::Path<i64>,
    by: web::Query<RankingQuery>,
    query: web::Query<PageQuery>,
) -> AppResult<HttpResponse> {
    let viewer = caller.viewer;
    let round_id = id.into_inner();
    let cache = state.results.clone();
    let r = state
        .db(move |conn| results::round_results_cached(&cache, conn, round_id, viewer))
        .await?;
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
            rank_supported: r
                .scores
                .uncertainty
                .as_ref()
                .and_then(|u| u.get(&x.unit))
                .and_then(|u| u.leader_rank_supported),
        })
        .collect();
    Ok(HttpResponse::Ok().json(paginate(items, &query, Some(r.source))))
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
            let scope = results::scope_of(conn, Viewer::of(Some((user_id, role))))?;
            let coordinator = match scope {
                Scope::All => None,
                Scope::Only(_) => Some(user_id),
            };
            Ok(crate::app::rounds::coverage_for(
                conn,
                round_id,
                coordinator,
            )?)
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

/// Which breakdown.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct BreakdownQuery {
    /// Respondent group code.
    group: String,
    /// Code of a single-choice or yes/no question of the group's questionnaire.
    by: String,
}

/// An answer category of a breakdown.
#[derive(Debug, Serialize, ToSchema)]
pub struct Category {
    /// Stored answer value (`_none`: not answered).
    pub value: String,
    /// Vietnamese label.
    pub label_vi: String,
    /// English label.
    pub label_en: String,
}

/// One unit's row of a breakdown.
#[derive(Debug, Serialize, ToSchema)]
pub struct BreakdownRow {
    /// Unit code.
    pub unit: String,
    /// One cell per category.
    pub cells: Vec<PublicCell>,
    /// The unit's total.
    pub total: PublicCell,
    /// True when the unit is not split at all (fewer than `min_n` respondents in the group):
    /// every cell and the total are hidden here, and the column totals leave the unit out.
    /// Its respondents and score are in `/scores`.
    pub withheld: bool,
}

/// A group's score split by a question, after disclosure control: cells with 0 < n < k are
/// hidden, and so are enough others that no hidden cell can be worked out from the totals,
/// the units' published totals (`/scores`) included.
#[derive(Debug, Serialize, ToSchema)]
pub struct BreakdownTable {
    /// Group.
    pub group: String,
    /// The question.
    pub by: String,
    /// The minimum cell size k.
    pub min_n: u64,
    /// Columns.
    pub categories: Vec<Category>,
    /// One row per unit in the caller's scope.
    pub rows: Vec<BreakdownRow>,
    /// Column totals.
    pub totals: Vec<PublicCell>,
    /// Grand total.
    pub grand_total: PublicCell,
}

fn public(e: Option<crate::domain::disclosure::Entry>) -> PublicCell {
    e.map_or(
        PublicCell {
            n: None,
            percent: None,
            suppressed: true,
        },
        PublicCell::from,
    )
}

/// `GET /api/v1/rounds/{id}/breakdown`
#[utoipa::path(get, path = "/api/v1/rounds/{id}/breakdown", tag = "scores",
    params(("id" = i64, Path, description = "Round id"), BreakdownQuery),
    responses((status = 200, description = "The protected breakdown", body = BreakdownTable),
        (status = 400, description = "Not a categorical question", body = ErrorBody),
        (status = 401, description = "Unpublished and no token", body = ErrorBody),
        (status = 404, description = "No such round or group", body = ErrorBody)),
    security((), ("bearer" = [])))]
pub async fn breakdown(
    state: web::Data<AppState>,
    caller: ApiCaller,
    id: web::Path<i64>,
    query: web::Query<BreakdownQuery>,
) -> AppResult<HttpResponse> {
    let viewer = caller.viewer;
    let round_id = id.into_inner();
    let query = query.into_inner();
    let cache = state.results.clone();
    let bd = state
        .db(move |conn| {
            let visible = results::round_results_cached(&cache, conn, round_id, viewer)?;
            crate::app::results::breakdown::breakdown(conn, &visible, &query.group, &query.by)
        })
        .await?;
    let t = &bd.table;
    Ok(HttpResponse::Ok().json(BreakdownTable {
        group: bd.group.clone(),
        by: bd.by.clone(),
        min_n: bd.min_n,
        categories: bd
            .categories
            .iter()
            .map(|(v, l)| Category {
                value: v.clone(),
                label_vi: l.vi.clone(),
                label_en: l.en.clone(),
            })
            .collect(),
        rows: bd
            .units
            .iter()
            .enumerate()
            .map(|(i, (code, _, _))| BreakdownRow {
                unit: code.clone(),
                cells: (0..bd.categories.len())
                    .map(|c| public(t.cell(i, c)))
                    .collect(),
                total: public(t.row_total(i)),
                withheld: t.withheld_rows().contains(&i),
            })
            .collect(),
        totals: (0..bd.categories.len())
            .map(|c| public(t.column_total(c)))
            .collect(),
        grand_total: public(t.grand_total()),
    }))
}

/// `POST /api/v1/rounds/{id}/exports`
#[utoipa::path(post, path = "/api/v1/rounds/{id}/exports", tag = "exports",
    params(("id" = i64, Path, description = "Round id")),
    request_body = NewExport,
    responses((status = 202, description = "Queued; poll the job", body = ExportJob),
        (status = 400, description = "Unknown kind, format or group", body = ErrorBody),
        (status = 401, description = "No token", body = ErrorBody),
        (status = 403, description = "Read-only token or role", body = ErrorBody),
        (status = 404, description = "No such round or group", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn create_export(
    state: web::Data<AppState>,
    caller: ApiCaller,
    id: web::Path<i64>,
    body: web::Json<NewExport>,
) -> AppResult<HttpResponse> {
    caller.require_write()?;
    let body = body.into_inner();
    let request = ExportRequest::parse(
        &body.kind,
        &body.format,
        body.group.as_deref().unwrap_or_default(),
        CsvOptions::from_request(body.bom.unwrap_or(true), body.decimal.as_deref()),
    )?
    .split_by(body.by.as_deref())?
    .include_excluded(body.include_excluded.unwrap_or(false))?;
    let job = jobs::start(&state, caller.viewer, id.into_inner(), request).await?;
    let row = state
        .db(move |conn| db::export_jobs::get(conn, &job)?.ok_or(AppError::NotFound))
        .await?;
    Ok(HttpResponse::Accepted().json(ExportJob::from(row)))
}

/// `GET /api/v1/exports/{job}`
#[utoipa::path(get, path = "/api/v1/exports/{job}", tag = "exports",
    params(("job" = String, Path, description = "Job id")),
    responses((status = 200, description = "The job", body = ExportJob),
        (status = 401, description = "No token", body = ErrorBody),
        (status = 404, description = "Not the caller's job", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn export_job(
    state: web::Data<AppState>,
    caller: ApiCaller,
    job: web::Path<String>,
) -> AppResult<HttpResponse> {
    let (user_id, _) = caller.require_staff()?;
    let row = jobs::owned(&state, user_id, job.into_inner()).await?;
    Ok(HttpResponse::Ok().json(ExportJob::from(row)))
}

/// `GET /api/v1/exports/{job}/file`
#[utoipa::path(get, path = "/api/v1/exports/{job}/file", tag = "exports",
    params(("job" = String, Path, description = "Job id")),
    responses((status = 200, description = "The file", content_type = "application/octet-stream"),
        (status = 401, description = "No token", body = ErrorBody),
        (status = 404, description = "Not the caller's job, or not done", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn export_file(
    state: web::Data<AppState>,
    caller: ApiCaller,
    job: web::Path<String>,
) -> AppResult<HttpResponse> {
    let (user_id, _) = caller.require_staff()?;
    let row = jobs::owned(&state, user_id, job.into_inner()).await?;
    Ok(super::results::export_download(
        jobs::finished_file(&state, &row).await?,
    ))
}

struct BearerSecurity;

impl Modify for BearerSecurity {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The OpenAPI document of the API, generated from the handlers above.
#[derive(OpenApi)]
#[openapi(
    info(title = "khaosat API", description = "Survey rounds, scores, rankings, coverage and exports of the PAR Index surveys. Published rounds are public; everything else needs a bearer token (`Authorization: Bearer ks_…`), made on the account's API tokens page."),
    paths(rounds, round, units, scores, rankings, breakdown, coverage, create_export, export_job, export_file),
    modifiers(&BearerSecurity)
)]
pub struct ApiDoc;

/// `GET /api/openapi.json`
pub async fn openapi_json() -> AppResult<HttpResponse> {
    let json = ApiDoc::openapi()
        .to_pretty_json()
        .map_err(AppError::internal)?;
    Ok(HttpResponse::Ok()
        .content_type("application/json")
        .body(json))
}

/// `GET /api/docs`: the API described for people, rendered from the same document.
pub async fn docs(req: HttpRequest) -> AppResult<maud::Markup> {
    let ctx = PageContext::new(&req, None);
    Ok(api_docs(&ctx, &ApiDoc::openapi()))
}
