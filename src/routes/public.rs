//! Public pages: the landing page, the language switch and static assets.

use actix_web::cookie::{Cookie, SameSite, time::Duration as CookieDuration};
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use maud::Markup;
use serde::Deserialize;

use crate::app::state::AppState;
use crate::domain::redirect::is_local_path;
use crate::error::{AppError, AppResult};
use crate::i18n::{LANG_COOKIE, Lang};
use crate::views::{self, PageContext};

/// `GET /`: the landing page.
pub async fn home(req: HttpRequest) -> Markup {
    views::home::home(&PageContext::new(&req, None))
}

/// Query of the language switch.
#[derive(Debug, Deserialize)]
pub struct SwitchQuery {
    next: Option<String>,
}

/// `GET /lang/{code}?next=/path`: remembers the language and returns to the page. Only a
/// preference changes, so a plain link (not a form) is enough. `next` is followed only when
/// it is a path on this site ([`is_local_path`]), else the visitor goes home.
pub async fn switch_language(
    path: web::Path<String>,
    query: web::Query<SwitchQuery>,
    state: web::Data<AppState>,
) -> AppResult<HttpResponse> {
    let lang = Lang::from_code(&path).ok_or(AppError::NotFound)?;
    let next = query
        .next
        .as_deref()
        .filter(|n| is_local_path(n))
        .unwrap_or("/");
    let cookie = Cookie::build(LANG_COOKIE, lang.code())
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(state.settings.is_https())
        .max_age(CookieDuration::days(365))
        .finish();
    Ok(HttpResponse::SeeOther()
        .insert_header((header::LOCATION, next.to_owned()))
        .cookie(cookie)
        .finish())
}

/// `GET /assets/{hash}/{name}`: an embedded asset, cached for a year (the hash changes with
/// the content).
pub async fn asset(path: web::Path<(String, String)>) -> AppResult<HttpResponse> {
    let (hash, name) = path.into_inner();
    let asset = crate::views::assets::get(&name)
        .filter(|a| a.hash == hash)
        .ok_or(AppError::NotFound)?;
    Ok(HttpResponse::Ok()
        .content_type(asset.content_type)
        .insert_header((header::CACHE_CONTROL, "public, max-age=31536000, immutable"))
        .body(asset.body))
}

/// `GET /o/{token}`: the start page of an open (intercept) link, inviting the visitor to
/// begin only when the round takes answers; a scheduled round shows its opening date. Starting
/// is a POST, so link previews and prefetching hand out nothing.
pub async fn open_link_page(
    req: HttpRequest,
    state: web::Data<AppState>,
    token: web::Path<String>,
) -> AppResult<HttpResponse> {
    let token = token.into_inner();
    let lookup = token.clone();
    let status = state
        .db(move |conn| crate::app::rounds::open_link_status(conn, &lookup).map_err(AppError::from))
        .await?;
    let ctx = PageContext::new(&req, None);
    Ok(match status {
        Ok(()) => HttpResponse::Ok()
            .content_type("text/html; charset=utf-8")
            .body(views::home::open_link(&ctx, &token).into_string()),
        Err(refusal) => open_link_refused(&ctx, &state, refusal),
    })
}

/// The page of a public link that takes no answers now: scheduled (200, with the opening
/// date), or unknown, closed or full (410).
fn open_link_refused(
    ctx: &PageContext,
    state: &AppState,
    refusal: crate::app::rounds::OpenLinkRefusal,
) -> HttpResponse {
    use crate::app::rounds::OpenLinkRefusal;
    let (status, body) = match refusal {
        OpenLinkRefusal::Scheduled(opens_at) => (
            actix_web::http::StatusCode::OK,
            views::home::open_link_scheduled(ctx, state.settings.time_zone, opens_at),
        ),
        other => {
            let key = match other {
                OpenLinkRefusal::QuotaReached => "open.quota",
                OpenLinkRefusal::NotOpen => "open.not_open",
                OpenLinkRefusal::Unknown | OpenLinkRefusal::Scheduled(_) => "open.unknown",
            };
            (
                actix_web::http::StatusCode::GONE,
                views::home::notice_page(ctx, "open.title", key),
            )
        }
    };
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .body(body.into_string())
}

/// `POST /o/{token}`: gives the visitor a code of their own and shows it, to keep for
/// continuing later on any device, with the way on to the questionnaire. Nothing counts
/// against the quota until a response is completed. The page is never cached.
pub async fn open_link_start(
    req: HttpRequest,
    state: web::Data<AppState>,
    token: web::Path<String>,
    _form: crate::app::auth::csrf::CsrfForm<crate::app::auth::csrf::EmptyForm>,
) -> AppResult<HttpResponse> {
    use crate::domain::throttle::OPEN_LINK_PER_IP;
    let ip_key = format!(
        "open-link:ip:{}",
        crate::routes::client_ip(&req, &state.settings)
    );
    let secret = state.secret.clone();
    let token = token.into_inner();
    let outcome = state
        .db(move |conn| {
            crate::app::auth::throttle::check(conn, &[(&ip_key, OPEN_LINK_PER_IP)])?;
            // Every start counts, successful or not: the limit is on starts per address.
            crate::app::auth::throttle::record_failure(conn, &[(&ip_key, OPEN_LINK_PER_IP)])?;
            crate::app::rounds::start_from_open_link(conn, &secret, &token).map_err(AppError::from)
        })
        .await?;
    let ctx = PageContext::new(&req, None);
    match outcome {
        Ok(code) => Ok(HttpResponse::Ok()
            .content_type("text/html; charset=utf-8")
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .body(views::home::open_link_code(&ctx, &state.settings.base(), &code).into_string())),
        Err(refusal) => Ok(open_link_refused(&ctx, &state, refusal)),
    }
}

/// `GET /optout/{token}`: asks to confirm (a GET must not change anything: mail scanners
/// follow links).
pub async fn opt_out_page(req: HttpRequest, token: web::Path<String>) -> Markup {
    views::home::opt_out(&PageContext::new(&req, None), &token)
}

/// `POST /optout/{token}`: no more e-mail to this respondent.
pub async fn opt_out(
    req: HttpRequest,
    state: web::Data<AppState>,
    token: web::Path<String>,
    _form: crate::app::auth::csrf::CsrfForm<crate::app::auth::csrf::EmptyForm>,
) -> AppResult<Markup> {
    let secret = state.secret.clone();
    let token = token.into_inner();
    let done = state
        .db(move |conn| crate::app::rounds::opt_out(conn, &secret, &token).map_err(AppError::from))
        .await?;
    if !done {
        return Err(AppError::NotFound);
    }
    Ok(views::home::notice_page(
        &PageContext::new(&req, None),
        "optout.title",
        "optout.done",
    ))
}
