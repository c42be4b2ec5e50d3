//! Results pages for analysts, coordinators and (once published) everyone: the round
//! dashboard, unit scorecards, item distributions, downloads and export jobs.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use maud::Markup;
use serde::Deserialize;

use crate::app::auth::csrf::CsrfForm;
use crate::app::auth::session::CurrentUser;
use crate::app::export::CsvOptions;
use crate::app::export::jobs::{self, ExportRequest};
use crate::app::results::{self, SortKey, Viewer};
use crate::app::state::AppState;
use crate::domain::gains::form;
use crate::error::{AppError, AppResult};
use crate::routes::{download, see_other};
use crate::views::layout::PageContext;
use crate::views::{self, results as pages};

fn viewer_of(user: Option<&CurrentUser>) -> Viewer {
    user.map_or(Viewer::Public, CurrentUser::viewer)
}

/// The path of a page of one round's results: the round's id, alone (`i64`) or with the name
/// of one thing in it, a unit's code or a file's name (`(i64, String)`).
pub trait RoundPath: serde::de::DeserializeOwned + 'static {
    /// What the path names besides the round.
    type Name;
    /// The round's id and the name.
    fn split(self) -> (i64, Self::Name);
}

impl RoundPath for i64 {
    type Name = ();
    fn split(self) -> (i64, ()) {
        (self, ())
    }
}

impl RoundPath for (i64, String) {
    type Name = String;
    fn split(self) -> (i64, String) {
        self
    }
}

/// What every page of one round's results starts from: the request, the state, the visitor
/// (signed in or not), what they may see, the round's id and what else the path names,
/// extracted in the order the handlers listed them.
pub struct RoundPage<P: RoundPath = i64> {
    req: HttpRequest,
    state: web::Data<AppState>,
    user: Option<CurrentUser>,
    viewer: Viewer,
    round_id: i64,
    name: P::Name,
}

impl<P: RoundPath> RoundPage<P> {
    /// The page's context: the visitor's language and menu.
    fn ctx(&self) -> PageContext {
        PageContext::new(&self.req, self.user.as_ref())
    }

    /// The language a file is asked for (`?lang=vi|en`), else the visitor's.
    fn file_lang(&self, asked: Option<&str>) -> crate::i18n::Lang {
        asked
            .and_then(crate::i18n::Lang::from_code)
            .unwrap_or_else(|| crate::i18n::Lang::of_request(&self.req))
    }
}

impl<P: RoundPath> actix_web::FromRequest for RoundPage<P> {
    type Error = actix_web::Error;
    type Future = futures_util::future::LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut actix_web::dev::Payload) -> Self::Future {
        let parts =
            <(web::Data<AppState>, Option<CurrentUser>, web::Path<P>)>::from_request(req, payload);
        let req = req.clone();
        Box::pin(async move {
            let (state, user, path) = parts.await?;
            let (round_id, name) = path.into_inner().split();
            Ok(RoundPage {
                req,
                state,
                viewer: viewer_of(user.as_ref()),
                user,
                round_id,
                name,
            })
        })
    }
}

/// `GET /results`: the rounds the visitor may open.
pub async fn list(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: Option<CurrentUser>,
) -> AppResult<Markup> {
    let viewer = viewer_of(user.as_ref());
    let rounds = state
        .db(move |conn| results::visible_rounds(conn, viewer))
        .await?;
    let ctx = PageContext::new(&req, user.as_ref());
    Ok(pages::round_list(&ctx, &rounds))
}

/// Sort order of the ranking table.
#[derive(Debug, Deserialize)]
pub struct RankingQuery {
    sort: Option<String>,
    dir: Option<String>,
}

/// `GET /results/{id}`: overview, charts, ranking table, downloads.
pub async fn dashboard(page: RoundPage, query: web::Query<RankingQuery>) -> AppResult<Markup> {
    let (r, frame) = page
        .state
        .with_results(page.round_id, page.viewer, move |conn, r| {
            let frame = results::dashboard_frame(conn, &r, page.viewer)?;
            Ok((r, frame))
        })
        .await?;
    let sort = SortKey::parse(query.sort.as_deref().unwrap_or("total"));
    let ascending = query.dir.as_deref() == Some("asc");
    let overview = results::overview(&r.scores, &r.methodology);
    let rows = results::ranking_rows(&r, &sort, ascending);
    let ctx = page.ctx();
    let charts = views::charts::dashboard(&ctx, &r, &overview);
    Ok(pages::dashboard(
        &ctx,
        &pages::Dashboard {
            results: &r,
            overview: &overview,
            rows: &rows,
            sort: &sort,
            ascending,
            groups: &frame.groups,
            may_export_microdata: page.viewer.may_download_microdata(),
            fieldwork: frame.fieldwork.as_ref(),
            sample: frame.sample.as_ref(),
        },
        charts,
    ))
}

/// `GET /results/{id}/units/{code}`: one unit's scorecard.
pub async fn unit(page: RoundPage<(i64, String)>) -> AppResult<Markup> {
    let (r, labels) = results_with_labels(&page.state, page.round_id, page.viewer).await?;
    // A unit outside the viewer's scope is as absent as an unknown one.
    let card = results::scorecard(&r, &page.name).ok_or(AppError::NotFound)?;
    let ctx = page.ctx();
    let charts = views::charts::unit(&ctx, &r, &card);
    Ok(pages::unit_page(&ctx, &r, &card, &labels, charts))
}

/// `GET /results/{id}/units/{code}/gains`: where the unit can gain, opened exactly as its
/// scorecard is (same results entry, same scope and disclosure). The what-if form on the page
/// sends its fields here (a GET form: it reads, never writes); they are parsed into domain
/// changes and a goal first, and a refused field is shown on the page by its name.
pub async fn unit_gains(
    page: RoundPage<(i64, String)>,
    query: web::Query<Vec<(String, String)>>,
) -> AppResult<HttpResponse> {
    let (viewer, code) = (page.viewer, page.name.clone());
    let pairs = query.into_inner();
    let asked = form::parse(&pairs);
    let ctx = page.ctx();
    let (r, page) = page
        .state
        .with_results(page.round_id, viewer, move |conn, r| {
            let page = results::gains_page(conn, &r, viewer, &code, asked)?;
            Ok((r, page))
        })
        .await?;
    let results::GainsPage {
        gains,
        labels,
        what_if,
    } = page;
    let (result, error) = match what_if {
        Some(Ok(w)) => (Some(w), None),
        Some(Err(e)) => (None, Some(e)),
        None => (None, None),
    };
    let chart = views::charts::gains(&ctx, &r, &gains);
    let section = views::gains::WhatIfSection {
        pairs: &pairs,
        result: result.as_ref(),
        error: error.as_ref(),
    };
    let body = views::gains::gains_page(&ctx, &r, &gains, &labels, chart, section);
    // A refused field is the client's mistake: 400, with the whole page and the message.
    let status = if error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    Ok(crate::routes::html(status, body))
}

/// `GET /results/{id}/units/{code}/plan`: the unit's printable improvement plan, opened
/// exactly as its gains page is.
pub async fn unit_plan(page: RoundPage<(i64, String)>) -> AppResult<Markup> {
    let (viewer, code) = (page.viewer, page.name.clone());
    let (r, plan) = page
        .state
        .with_results(page.round_id, viewer, move |conn, r| {
            let plan = results::unit_plan(conn, &r, viewer, &code)?;
            Ok((r, plan))
        })
        .await?;
    let ctx = page.ctx();
    Ok(views::plan::plan_page(&ctx, &r, &plan))
}

/// The national round and province a comparison is asked for.
#[derive(Debug, Deserialize)]
pub struct CompareQuery {
    /// The national round's id (empty: the only national round of the year, if one).
    pub national: Option<String>,
    /// The province's code in the national round.
    pub unit: Option<String>,
}

impl CompareQuery {
    /// As the use case reads it.
    pub fn request(self) -> results::CompareRequest {
        results::CompareRequest {
            national: self.national,
            unit: self.unit,
        }
    }
}

/// `GET /results/{id}/compare?national=N&unit=CODE`: the round, pooled over its units, beside
/// one province of the national round of the same year, item by item. Both rounds are opened
/// with the visitor's own rules; a refusal (another year, a unit not in that round, no group in
/// common) is shown on the page with the form, as 400.
pub async fn compare(page: RoundPage, query: web::Query<CompareQuery>) -> AppResult<HttpResponse> {
    let request = query.into_inner().request();
    let cache = page.state.results.clone();
    let (found, labels) = page
        .state
        .db(move |conn| {
            let found =
                results::compare_with_national(&cache, conn, page.round_id, page.viewer, &request)?;
            let labels = jobs::item_labels(conn, page.round_id)?;
            Ok((found, labels))
        })
        .await?;
    let ctx = page.ctx();
    let body = views::compare::compare_page(&ctx, &found, &labels);
    let status = if found.outcome.is_err() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    Ok(crate::routes::html(status, body))
}

/// The language of a plan's XLSX file.
#[derive(Debug, Deserialize)]
pub struct PlanQuery {
    /// `vi` or `en`; the page's language without it.
    lang: Option<String>,
}

/// `GET /results/{id}/units/{code}/plan.xlsx`: the same plan as an XLSX workbook.
pub async fn unit_plan_xlsx(
    page: RoundPage<(i64, String)>,
    query: web::Query<PlanQuery>,
) -> AppResult<HttpResponse> {
    let (round_id, viewer, code) = (page.round_id, page.viewer, page.name.clone());
    let lang = page.file_lang(query.lang.as_deref());
    let name = format!("plan-{round_id}-{code}.xlsx");
    let bytes = page
        .state
        .with_results(round_id, viewer, move |conn, r| {
            let plan = results::unit_plan(conn, &r, viewer, &code)?;
            views::plan::plan_xlsx(&r, &plan, lang).map_err(AppError::Internal)
        })
        .await?;
    Ok(download(
        &name,
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        bytes,
    ))
}

/// The results of a round with the question texts of its questionnaires, for the pages that
/// name items.
async fn results_with_labels(
    state: &AppState,
    round_id: i64,
    viewer: Viewer,
) -> AppResult<(results::RoundResults, jobs::ItemLabels)> {
    state
        .with_results(round_id, viewer, move |conn, r| {
            let labels = jobs::item_labels(conn, round_id)?;
            Ok((r, labels))
        })
        .await
}

/// `GET /results/{id}/items`: national answer distributions per question.
pub async fn items(page: RoundPage) -> AppResult<Markup> {
    let (r, labels) = results_with_labels(&page.state, page.round_id, page.viewer).await?;
    let distributions = results::item_distributions(&r.scores);
    let ctx = page.ctx();
    let charts = views::charts::items(&ctx, &r, &distributions, &labels);
    Ok(pages::items_page(&ctx, &r, &distributions, charts))
}

/// Options of a download.
#[derive(Debug, Deserialize)]
pub struct DownloadQuery {
    /// `0` leaves the byte-order mark out.
    bom: Option<String>,
    /// `comma` for a decimal comma.
    decimal: Option<String>,
    /// Which table a CSV holds (`scores`, `rankings`, `components`, `year_over_year`, `items`).
    table: Option<String>,
    /// Label language of syntax files (`vi` or `en`).
    lang: Option<String>,
    /// The question a breakdown splits by.
    by: Option<String>,
    /// `1`: the codebook or syntax of the microdata with excluded responses marked.
    include_excluded: Option<String>,
}

impl DownloadQuery {
    fn csv_options(&self) -> CsvOptions {
        CsvOptions::from_request(self.bom.as_deref() != Some("0"), self.decimal.as_deref())
    }
}

/// `GET /results/{id}/download/{file}`: aggregates (`scores.csv|xlsx|json`), codebooks
/// (`codebook-GROUP.csv|html`) and syntax files (`syntax-GROUP.sps|do|R`).
pub async fn download_file(
    page: RoundPage<(i64, String)>,
    query: web::Query<DownloadQuery>,
) -> AppResult<HttpResponse> {
    let (round_id, viewer) = (page.round_id, page.viewer);
    let request = jobs::FileRequest::parse(&page.name, query.table.as_deref(), query.by.as_deref())
        .ok_or(AppError::NotFound)?
        .with_excluded(jobs::include_excluded_param(
            query.include_excluded.as_deref(),
        ));
    let csv = query.csv_options();
    let lang = page.file_lang(query.lang.as_deref());
    let (name, content_type, bytes) = page
        .state
        .db(move |conn| jobs::small_file(conn, round_id, viewer, &request, csv, lang))
        .await?;
    Ok(download(&name, content_type, bytes))
}

/// The microdata export form.
#[derive(Debug, Deserialize)]
pub struct ExportForm {
    group: String,
    format: String,
    decimal: Option<String>,
    bom: Option<String>,
    /// `1`: every response, with exclusions marked (the default is the file as scored).
    include_excluded: Option<String>,
}

/// `POST /results/{id}/exports`: starts a microdata export in the background.
pub async fn start_export(
    state: web::Data<AppState>,
    user: CurrentUser,
    id: web::Path<i64>,
    form: CsrfForm<ExportForm>,
) -> AppResult<HttpResponse> {
    let viewer = viewer_of(Some(&user));
    let form = form.data;
    let request = ExportRequest::parse(
        "microdata",
        &form.format,
        &form.group,
        CsvOptions::from_request(form.bom.is_some(), form.decimal.as_deref()),
    )?
    .include_excluded(jobs::include_excluded_param(
        form.include_excluded.as_deref(),
    ))?;
    let job = jobs::start(&state, viewer, id.into_inner(), request).await?;
    Ok(see_other(format!("/exports/{job}")))
}

/// `GET /exports`: the user's export jobs.
pub async fn my_exports(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: CurrentUser,
) -> AppResult<Markup> {
    let rows = jobs::recent_of_user(&state, user.user.id).await?;
    let ctx = PageContext::new(&req, Some(&user));
    Ok(pages::export_jobs(&ctx, &rows))
}

/// `GET /exports/{job}`: progress of one job (only its owner sees it).
pub async fn export_status(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: CurrentUser,
    job: web::Path<String>,
) -> AppResult<Markup> {
    let row = jobs::owned(&state, user.user.id, job.into_inner()).await?;
    let ctx = PageContext::new(&req, Some(&user));
    Ok(pages::export_job(&ctx, &row))
}

/// `GET /exports/{job}/file`: the finished file, streamed from disk.
pub async fn export_file(
    state: web::Data<AppState>,
    user: CurrentUser,
    job: web::Path<String>,
) -> AppResult<HttpResponse> {
    let row = jobs::owned(&state, user.user.id, job.into_inner()).await?;
    Ok(export_download(jobs::finished_file(&state, &row).await?))
}

/// A finished export file as an attachment, streamed with its length.
pub fn export_download(file: jobs::ExportFile) -> HttpResponse {
    let name = file.name.clone();
    let content_type = file.content_type;
    let length = file.length;
    crate::routes::download(
        &name,
        content_type,
        actix_web::body::SizedStream::new(length, file.into_chunks()),
    )
}

/// Which breakdown.
#[derive(Debug, Deserialize)]
pub struct BreakdownQuery {
    group: Option<String>,
    by: Option<String>,
}

/// `GET /results/{id}/breakdown?group=G&by=Q`: a group's score per unit split by the answer
/// to a categorical question, with small cells suppressed.
pub async fn breakdown(page: RoundPage, query: web::Query<BreakdownQuery>) -> AppResult<Markup> {
    let query = query.into_inner();
    let (r, chosen) = page
        .state
        .with_results(page.round_id, page.viewer, move |conn, r| {
            let chosen = results::chosen_breakdown(conn, &r, query.group, query.by)?;
            Ok((r, chosen))
        })
        .await?;
    let ctx = page.ctx();
    Ok(pages::breakdown_page(
        &ctx,
        &r,
        &chosen.choice.groups,
        &chosen.choice.questions,
        (&chosen.choice.group, &chosen.choice.by),
        chosen.table.as_ref(),
    ))
}
