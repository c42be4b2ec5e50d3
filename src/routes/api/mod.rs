//! The JSON API under `/api/v1`: rounds, units, scores, rankings, coverage and export jobs,
//! with bearer tokens, paginated lists and an OpenAPI document generated from this code.
//! Visibility is the pages' own ([`crate::app::results`]), so the API can show no more than they do.

mod breakdown;
mod compare;
mod exports;
mod fieldwork;
mod gains;
mod rounds;
mod scores;

use actix_web::{HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{IntoParams, Modify, OpenApi, ToSchema};

use crate::app::results::Source;
use crate::error::{AppError, AppResult};
use crate::views::api_docs::api_docs;
use crate::views::layout::PageContext;

pub use breakdown::*;
pub use compare::*;
pub use exports::*;
pub use fieldwork::*;
pub use gains::*;
pub use rounds::*;
pub use scores::*;

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
    paths(rounds, round, units, unit_gains, unit_what_if, compare_rounds, scores, rankings, breakdown, coverage, create_export, export_job, export_file),
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

/// What every read of one round's results through the API starts from: the state, what the
/// caller may see and the round's id, extracted in the order the handlers listed them.
pub struct RoundCall {
    /// The shared state.
    pub state: actix_web::web::Data<crate::app::state::AppState>,
    /// What the caller (a token, a session or nobody) may see.
    pub viewer: crate::app::results::Viewer,
    /// The `{id}` of the path.
    pub round_id: i64,
}

impl actix_web::FromRequest for RoundCall {
    type Error = actix_web::Error;
    type Future = futures_util::future::LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut actix_web::dev::Payload) -> Self::Future {
        let parts = <(
            actix_web::web::Data<crate::app::state::AppState>,
            crate::app::auth::api_token::ApiCaller,
            actix_web::web::Path<i64>,
        )>::from_request(req, payload);
        Box::pin(async move {
            let (state, caller, id) = parts.await?;
            Ok(RoundCall {
                state,
                viewer: caller.viewer,
                round_id: id.into_inner(),
            })
        })
    }
}
