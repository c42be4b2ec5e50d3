//! A round's respondents: list import, e-mail invitations and reminders, open links, and the
//! coverage table.

use actix_multipart::Multipart;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use serde::Deserialize;

use super::{act_or_refuse, run};
use crate::app::auth::tokens::SecretKey;
use crate::app::rounds::{self, Actor, CoverageSort, RoundError};
use crate::db;
use crate::domain::local_time::TimeZone;
use crate::domain::reminders::DEFAULT_POLICY;
use crate::error::{AppError, AppResult};
use crate::routes::upload::read_upload;
use crate::routes::{Admins, AnyRole, Caller, Staff};
use crate::routes::{IdButton, IdPost, PreviewToken};
use crate::routes::{html, unprocessable_if};
use crate::views::{self, PageContext};

/// The largest respondent list accepted.
const MAX_LIST_BYTES: usize = 20 * 1024 * 1024;

/// `POST /admin/rounds/{id}/respondents` (multipart: CSV or XLSX): checks the list and shows
/// a preview (its first rows, counts per unit and group, every problem); nothing is stored
/// until the preview is confirmed. A file with problems answers 422.
pub async fn import_respondents(
    staff: Staff<Admins>,
    id: web::Path<i64>,
    multipart: Multipart,
) -> AppResult<HttpResponse> {
    let at = staff.caller();
    let round_id = id.into_inner();
    let upload = read_upload(at.req, multipart, MAX_LIST_BYTES).await?;
    let user_id = at.user.user.id;
    act_or_refuse(
        at,
        round_id,
        move |conn, _actor| {
            rounds::preview_respondents(conn, round_id, &upload.file_name, &upload.bytes, user_id)
        },
        |preview| {
            crate::routes::private_html(
                unprocessable_if(!preview.errors.is_empty()),
                views::respondents::preview(&PageContext::new(at.req, Some(at.user)), &preview),
            )
        },
    )
    .await
}

/// `POST /admin/rounds/{id}/respondents/confirm`: stores exactly the previewed list.
pub async fn confirm_respondents(post: IdPost<PreviewToken>) -> AppResult<HttpResponse> {
    let (round_id, token) = (post.id, post.form.token.clone());
    run(
        post.caller(),
        round_id,
        "respondents",
        move |conn, actor| rounds::confirm_respondents(conn, round_id, &token, actor).map(|_| ()),
    )
    .await
}

/// `GET /admin/rounds/{id}/respondents/template.{csv|xlsx}`: a list to fill in, with the
/// headers the importer reads and the round's units and groups.
pub async fn respondent_template(
    Staff(_, state, ..): Staff<Admins>,
    path: web::Path<(i64, String)>,
) -> AppResult<HttpResponse> {
    let (round_id, ext) = path.into_inner();
    let (format, content_type) = match ext.as_str() {
        "csv" => (rounds::TemplateFormat::Csv, "text/csv; charset=utf-8"),
        "xlsx" => (
            rounds::TemplateFormat::Xlsx,
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ),
        _ => return Err(AppError::NotFound),
    };
    let bytes = state
        .db(move |conn| Ok(rounds::respondent_template(conn, round_id, format)))
        .await?
        .map_err(AppError::from)?;
    Ok(crate::routes::download(
        &format!("danh-sach-nguoi-tra-loi-dot{round_id}.{ext}"),
        content_type,
        bytes,
    ))
}

/// `POST /admin/rounds/{id}/invitations`: issues codes to respondents with e-mail addresses
/// and queues their invitations; the background sender delivers them.
pub async fn send_invitations(button: IdButton) -> AppResult<HttpResponse> {
    queue_mail(
        button.caller(),
        button.id,
        "invitations",
        move |conn, secret, base, zone, actor| {
            rounds::queue_invitations(conn, secret, base, zone, button.id, actor).map(|_| ())
        },
    )
    .await
}

/// `POST /admin/rounds/{id}/reminders`.
pub async fn send_reminders(button: IdButton) -> AppResult<HttpResponse> {
    queue_mail(
        button.caller(),
        button.id,
        "reminders",
        move |conn, secret, base, zone, actor| {
            rounds::queue_reminders(
                conn,
                secret,
                base,
                zone,
                button.id,
                &DEFAULT_POLICY,
                db::now(),
                actor,
            )
            .map(|_| ())
        },
    )
    .await
}

/// Queues mail to a round's respondents with what every message needs (the key its codes
/// are made with, the site's address for links, the time zone of its dates), then returns to
/// the round page with `done`. Refused (400) while no mail server is configured, before
/// anything else is checked.
async fn queue_mail<F>(
    at: Caller<'_>,
    round_id: i64,
    done: &str,
    queue: F,
) -> AppResult<HttpResponse>
where
    F: FnOnce(
            &mut db::AnyConnection,
            &SecretKey,
            &str,
            TimeZone,
            Actor<'_>,
        ) -> Result<(), RoundError>
        + Send
        + 'static,
{
    let state = at.state;
    if !state.mail_configured {
        return Err(AppError::BadRequest("round.mail_off"));
    }
    let secret = state.secret.clone();
    let base = state.settings.base();
    let zone = state.settings.time_zone;
    run(at, round_id, done, move |conn, actor| {
        queue(conn, &secret, &base, zone, actor)
    })
    .await
}

/// The open link form.
#[derive(Debug, Clone, Deserialize)]
pub struct OpenLinkForm {
    unit_id: i64,
    group: String,
    quota: String,
}

/// `POST /admin/rounds/{id}/open-links`.
pub async fn set_open_link(post: IdPost<OpenLinkForm>) -> AppResult<HttpResponse> {
    let round_id = post.id;
    let f = post.form.clone();
    let secret = post.state.secret.clone();
    run(post.caller(), round_id, "link", move |conn, actor| {
        let quota: i32 = f.quota.trim().parse().map_err(|_| {
            RoundError::invalid("round.invalid.quota_number", &[("value", f.quota.trim())])
        })?;
        rounds::set_open_link(conn, &secret, round_id, f.unit_id, &f.group, quota, actor)
            .map(|_| ())
    })
    .await
}

/// Query of the coverage page.
#[derive(Debug, Deserialize)]
pub struct CoverageQuery {
    sort: Option<String>,
    format: Option<String>,
}

/// `GET /admin/rounds/{id}/coverage[?sort=unit|rate|completed][&format=csv]`. Coordinators
/// see only their own units.
pub async fn coverage(
    Staff(req, state, user, ..): Staff<AnyRole>,
    id: web::Path<i64>,
    query: web::Query<CoverageQuery>,
) -> AppResult<HttpResponse> {
    let round_id = id.into_inner();
    let viewer = user.viewer();
    let sort = CoverageSort::parse(query.sort.as_deref());
    let (round, rows) = state
        .db(move |conn| rounds::coverage_table(conn, round_id, viewer, sort))
        .await?;
    if query.format.as_deref() == Some("csv") {
        let bytes = rounds::coverage_csv(&rows)?;
        return Ok(crate::routes::download(
            &format!("coverage-round{round_id}.csv"),
            "text/csv; charset=utf-8",
            bytes,
        ));
    }
    let ctx = PageContext::new(&req, Some(&user));
    Ok(html(
        StatusCode::OK,
        views::rounds::coverage(&ctx, &round, &rows, sort),
    ))
}
