//! Admin routes for survey rounds: list and create, and the round page. The rest is split by
//! concept: configuration and lifecycle, respondents and mail, code sheets, data quality, and
//! scores. Handlers parse the form, call `crate::app::rounds` inside `AppState::db`, and render.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::NaiveDateTime;
use maud::Markup;
use serde::Deserialize;

use crate::app::auth::csrf::CsrfForm;
use crate::app::auth::session::CurrentUser;
use crate::app::rounds::{self, Actor, NewRoundInput, RoundError, RoundViewer};
use crate::app::state::AppState;
use crate::db;
use crate::domain::account::Role;
use crate::error::{AppError, AppResult};
use crate::i18n::Lang;
use crate::routes::{html, see_other};
use crate::views::rounds::RoundPage;
use crate::views::{self, PageContext};

mod codes;
mod configure;
mod quality;
mod respondents;
mod scores;

pub use codes::*;
pub use configure::*;
pub use quality::*;
pub use respondents::*;
pub use scores::*;

/// Every role that may read the round pages.
const READERS: &[Role] = &[Role::Admin, Role::Coordinator, Role::Analyst];

/// An empty form (only the CSRF token).
#[derive(Debug, Deserialize)]
pub struct EmptyForm {}

/// Runs a round use case as the signed-in user, in the database pool. A refused operation
/// comes back as the messages to show with a 422 page; any other failure propagates.
async fn act<T, F>(
    req: &HttpRequest,
    state: &AppState,
    user: &CurrentUser,
    work: F,
) -> AppResult<Result<T, Vec<String>>>
where
    F: FnOnce(&mut db::AnyConnection, Actor<'_>) -> Result<T, RoundError> + Send + 'static,
    T: Send + 'static,
{
    let (user_id, role, label) = (Some(user.user.id), user.role, user.user.email.clone());
    let lang = Lang::of_request(req);
    let result = state
        .db(move |conn| {
            let actor = Actor {
                user_id,
                label: &label,
                role,
            };
            Ok(work(conn, actor))
        })
        .await?;
    match result {
        Ok(value) => Ok(Ok(value)),
        Err(error) => shown_errors(lang, error).map(Err),
    }
}

/// Splits a round failure into messages to show (422) or an error to propagate.
fn shown_errors(lang: Lang, error: RoundError) -> Result<Vec<String>, AppError> {
    match error {
        RoundError::App(e) => Err(e),
        RoundError::NotFound => Err(AppError::NotFound),
        RoundError::TalliesDiffer { differences } => Ok(vec![crate::i18n::tf(
            lang,
            "round.compute.tallies_differ",
            &[("count", &differences.to_string())],
        )]),
        RoundError::Invalid(refusal) => Ok(refusal.text(lang).lines().map(str::to_owned).collect()),
        RoundError::Rows(rows) => Ok(rows.iter().map(|r| r.text(lang)).collect()),
        other => Ok(other.to_string().lines().map(str::to_owned).collect()),
    }
}

/// A page shown again because the operation was refused.
fn refused(page: Markup) -> HttpResponse {
    html(StatusCode::UNPROCESSABLE_ENTITY, page)
}

/// `GET /admin/rounds`.
pub async fn list(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: CurrentUser,
) -> AppResult<Markup> {
    user.require(READERS)?;
    list_page(&req, &state, &user, &[]).await
}

async fn list_page(
    req: &HttpRequest,
    state: &AppState,
    user: &CurrentUser,
    errors: &[String],
) -> AppResult<Markup> {
    let (rounds, sets) = state
        .db(|conn| Ok((db::rounds::list(conn)?, db::units::sets(conn)?)))
        .await?;
    let ctx = PageContext::new(req, Some(user));
    Ok(views::rounds::list(
        &ctx,
        &rounds,
        &sets,
        user.role == Role::Admin,
        errors,
    ))
}

/// The round creation form.
#[derive(Debug, Deserialize)]
pub struct CreateForm {
    year: String,
    name_vi: String,
    name_en: String,
    unit_set: String,
    opens_at: String,
    closes_at: String,
}

/// Parses an HTML `datetime-local` value (taken as UTC).
fn parse_time(raw: &str, field: &str) -> Result<Option<NaiveDateTime>, String> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(None);
    }
    ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(raw, f).ok())
        .map(Some)
        .ok_or_else(|| format!("{field}: '{raw}' is not a date and time like 2025-09-01T08:00"))
}

/// `POST /admin/rounds`: creates a draft round.
pub async fn create(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: CurrentUser,
    form: CsrfForm<CreateForm>,
) -> AppResult<HttpResponse> {
    user.require(&[Role::Admin])?;
    let f = form.data;
    let parsed = (|| -> Result<NewRoundInput, String> {
        Ok(NewRoundInput {
            year: f
                .year
                .trim()
                .parse()
                .map_err(|_| format!("year: '{}' is not a year", f.year.trim()))?,
            name_vi: f.name_vi,
            name_en: f.name_en,
            unit_set_code: f.unit_set,
            opens_at: parse_time(&f.opens_at, "opening time")?,
            closes_at: parse_time(&f.closes_at, "closing time")?,
        })
    })();
    let input = match parsed {
        Ok(input) => input,
        Err(message) => return Ok(refused(list_page(&req, &state, &user, &[message]).await?)),
    };
    match act(&req, &state, &user, move |conn, actor| {
        rounds::create_round(conn, &input, actor)
    })
    .await?
    {
        Ok(id) => Ok(see_other(format!("/admin/rounds/{id}?done=created"))),
        Err(errors) => Ok(refused(list_page(&req, &state, &user, &errors).await?)),
    }
}

/// Query of the round page.
#[derive(Debug, Deserialize)]
pub struct RoundQuery {
    done: Option<String>,
}

fn notice_key(done: Option<&str>) -> Option<&'static str> {
    Some(match done? {
        "created" => "round.done.created",
        "group" => "round.done.group",
        "targets" => "round.done.targets",
        "action" => "round.done.action",
        "respondents" => "round.done.respondents",
        "invitations" => "round.done.invitations",
        "reminders" => "round.done.reminders",
        "link" => "round.done.link",
        "compare" => "round.done.compare",
        _ => return None,
    })
}

async fn round_page(
    req: &HttpRequest,
    state: &AppState,
    user: &CurrentUser,
    round_id: i64,
    errors: &[String],
    notice: Option<&'static str>,
) -> AppResult<Markup> {
    let secret = state.secret.clone();
    let base = state.settings.base();
    let viewer = RoundViewer {
        user_id: user.user.id,
        role: user.role,
    };
    let o = state
        .db(move |conn| rounds::overview(conn, &secret, &base, round_id, viewer))
        .await?;
    let ctx = PageContext::new(req, Some(user));
    Ok(views::rounds::round(
        &ctx,
        &RoundPage {
            round: &o.round,
            unit_set: &o.unit_set,
            units: &o.units,
            groups: &o.groups,
            instruments: &o.instruments,
            methodologies: &o.methodologies,
            targets: &o.targets,
            respondents: o.respondents,
            respondents_in_my_units: o.respondents_in_my_units,
            outbox: &o.outbox,
            open_links: &o.open_links,
            can_manage: user.role == Role::Admin,
            actions: &o.actions,
            mail_configured: state.mail_configured,
            errors,
            notice,
            earlier_rounds: &o.earlier_rounds,
        },
    ))
}

/// `GET /admin/rounds/{id}`.
pub async fn show(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: CurrentUser,
    id: web::Path<i64>,
    query: web::Query<RoundQuery>,
) -> AppResult<Markup> {
    user.require(READERS)?;
    round_page(
        &req,
        &state,
        &user,
        id.into_inner(),
        &[],
        notice_key(query.done.as_deref()),
    )
    .await
}

/// Runs a round operation for an administrator: on success redirect with a notice, on a
/// refused operation show the round page with the reasons (422).
async fn run<F>(
    req: &HttpRequest,
    state: &AppState,
    user: &CurrentUser,
    round_id: i64,
    done: &str,
    work: F,
) -> AppResult<HttpResponse>
where
    F: FnOnce(&mut db::AnyConnection, Actor<'_>) -> Result<(), RoundError> + Send + 'static,
{
    user.require(&[Role::Admin])?;
    run_authorised(req, state, user, round_id, done, work).await
}

/// [`run`] for a caller that has already checked the user's permission.
async fn run_authorised<F>(
    req: &HttpRequest,
    state: &AppState,
    user: &CurrentUser,
    round_id: i64,
    done: &str,
    work: F,
) -> AppResult<HttpResponse>
where
    F: FnOnce(&mut db::AnyConnection, Actor<'_>) -> Result<(), RoundError> + Send + 'static,
{
    match act(req, state, user, work).await? {
        Ok(()) => Ok(see_other(format!("/admin/rounds/{round_id}?done={done}"))),
        Err(errors) => Ok(refused(
            round_page(req, state, user, round_id, &errors, None).await?,
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::parse_time;

    #[test]
    fn times_from_datetime_local_inputs_parse() {
        assert!(parse_time("2025-09-01T08:00", "x").unwrap().is_some());
        assert!(parse_time("", "x").unwrap().is_none());
        assert!(
            parse_time("tomorrow", "opening time")
                .unwrap_err()
                .starts_with("opening time:")
        );
    }
}
