//! Admin routes for survey rounds: list and create, configure, lifecycle actions, respondent
//! import, code sheets, invitations and reminders, open links, coverage, and unit lists.
//! Handlers parse the form, call `crate::app::rounds` inside `AppState::db`, and render.

use crate::routes::{html, see_other};
use actix_multipart::Multipart;
use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::NaiveDateTime;
use maud::Markup;
use serde::Deserialize;

use crate::app::auth::csrf::CsrfForm;
use crate::app::auth::session::CurrentUser;
use crate::app::rounds::{self, Actor, NewRoundInput, RoundError};
use crate::db;
use crate::domain::account::Role;
use crate::domain::lifecycle::{RoundAction, RoundStatus};
use crate::domain::reminders::DEFAULT_POLICY;
use crate::error::{AppError, AppResult};
use crate::routes::upload::read_upload;
use crate::server::state::AppState;
use crate::views::rounds::{CoverageSort, RoundPage};
use crate::views::{self, PageContext};

const READERS: &[Role] = &[Role::Admin, Role::Coordinator, Role::Analyst];

/// Splits a round failure into messages to show (422) or an error to propagate.
fn shown_errors(error: RoundError) -> Result<Vec<String>, AppError> {
    match error {
        RoundError::App(e) => Err(e),
        RoundError::NotFound => Err(AppError::NotFound),
        other => Ok(other.to_string().lines().map(str::to_owned).collect()),
    }
}

fn actor(user: &CurrentUser) -> (Option<i64>, String, Role) {
    (Some(user.user.id), user.user.email.clone(), user.role)
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
        Err(message) => {
            return Ok(html(
                StatusCode::UNPROCESSABLE_ENTITY,
                list_page(&req, &state, &user, &[message]).await?,
            ));
        }
    };
    let (user_id, label, role) = actor(&user);
    let result = state
        .db(move |conn| {
            Ok(rounds::create_round(
                conn,
                &input,
                Actor {
                    user_id,
                    label: &label,
                    role,
                },
            ))
        })
        .await?;
    match result {
        Ok(id) => Ok(see_other(format!("/admin/rounds/{id}?done=created"))),
        Err(e) => {
            let errors = shown_errors(e)?;
            Ok(html(
                StatusCode::UNPROCESSABLE_ENTITY,
                list_page(&req, &state, &user, &errors).await?,
            ))
        }
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
    // A coordinator counts the respondents of their own units only.
    let coordinator = (user.role == Role::Coordinator).then_some(user.user.id);
    let data = state
        .db(move |conn| {
            let round = db::rounds::by_id(conn, round_id)?.ok_or(AppError::NotFound)?;
            let unit_set =
                db::units::set_by_id(conn, round.unit_set_id)?.ok_or(AppError::NotFound)?;
            let units = db::rounds::units(conn, round_id)?;
            let groups = db::rounds::groups(conn, round_id)?;
            let all_groups = db::rounds::all_groups(conn)?;
            let targets_raw = db::rounds::targets(conn, round_id)?;
            let targets: Vec<(String, Option<i32>)> = all_groups
                .iter()
                .map(|(gid, code)| {
                    let values: std::collections::BTreeSet<i32> = targets_raw
                        .iter()
                        .filter(|(_, g, _)| g == gid)
                        .map(|(_, _, t)| *t)
                        .collect();
                    (
                        code.clone(),
                        (values.len() == 1)
                            .then(|| values.into_iter().next())
                            .flatten(),
                    )
                })
                .collect();
            let respondents = rounds::respondent_count(conn, round_id, coordinator)?;
            let outbox = db::outbox::counts_by_status(conn, &rounds::message_prefix(round_id))?;
            let links = db::open_links::of_round(conn, round_id)?
                .into_iter()
                .map(|l| {
                    let unit = units
                        .iter()
                        .find(|u| u.id == l.unit_id)
                        .map(|u| u.name_vi.clone())
                        .unwrap_or_default();
                    let group = all_groups
                        .iter()
                        .find(|(id, _)| *id == l.group_id)
                        .map(|(_, c)| c.clone())
                        .unwrap_or_default();
                    let url = format!("{base}/o/{}", rounds::open_link_token(&secret, l.id));
                    (unit, group, l.quota, l.issued, url)
                })
                .collect::<Vec<_>>();
            Ok((
                round,
                unit_set,
                units,
                groups,
                catalog_lists(conn)?,
                targets,
                respondents,
                outbox,
                links,
            ))
        })
        .await?;
    let (
        round,
        unit_set,
        units,
        groups,
        (instruments, methodologies),
        targets,
        respondents,
        outbox,
        links,
    ) = data;
    let actions = crate::domain::lifecycle::allowed_actions(user.role, round.status);
    let year = round.year;
    let earlier_rounds: Vec<(i64, String)> = state
        .db(move |conn| Ok(db::rounds::list(conn)?))
        .await?
        .into_iter()
        .filter(|r| r.year < year)
        .map(|r| (r.id, format!("{} — {}", r.year, r.name_vi)))
        .collect();
    let ctx = PageContext::new(req, Some(user));
    Ok(views::rounds::round(
        &ctx,
        &RoundPage {
            round: &round,
            unit_set: &unit_set,
            units: &units,
            groups: &groups,
            instruments: &instruments,
            methodologies: &methodologies,
            targets: &targets,
            respondents,
            respondents_in_my_units: coordinator.is_some(),
            outbox: &outbox,
            open_links: &links,
            can_manage: user.role == Role::Admin,
            actions: &actions,
            mail_configured: state.mail_configured,
            errors,
            notice,
            earlier_rounds: &earlier_rounds,
        },
    ))
}

type CatalogLists = (
    Vec<db::instruments::InstrumentSummary>,
    Vec<db::methodologies::MethodologySummary>,
);

fn catalog_lists(conn: &mut db::AnyConnection) -> AppResult<CatalogLists> {
    Ok((db::instruments::list(conn)?, db::methodologies::list(conn)?))
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
    let (user_id, label, role) = actor(user);
    let result = state
        .db(move |conn| {
            Ok(work(
                conn,
                Actor {
                    user_id,
                    label: &label,
                    role,
                },
            ))
        })
        .await?;
    match result {
        Ok(()) => Ok(see_other(format!("/admin/rounds/{round_id}?done={done}"))),
        Err(e) => {
            let errors = match e {
                RoundError::TalliesDiffer { differences } => vec![crate::i18n::tf(
                    crate::i18n::Lang::of_request(req),
                    "round.compute.tallies_differ",
                    &[("count", &differences.to_string())],
                )],
                other => shown_errors(other)?,
            };
            Ok(html(
                StatusCode::UNPROCESSABLE_ENTITY,
                round_page(req, state, user, round_id, &errors, None).await?,
            ))
        }
    }
}

/// The group configuration form.
#[derive(Debug, Deserialize)]
pub struct GroupForm {
    group: String,
    instrument_id: i64,
    methodology_id: i64,
}

/// `POST /admin/rounds/{id}/groups`.
pub async fn set_group(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: CurrentUser,
    id: web::Path<i64>,
    form: CsrfForm<GroupForm>,
) -> AppResult<HttpResponse> {
    let round_id = id.into_inner();
    let f = form.data;
    run(
        &req,
        &state,
        &user,
        round_id,
        "group",
        move |conn, actor| {
            rounds::set_group(
                conn,
                round_id,
                &f.group,
                f.instrument_id,
                f.methodology_id,
                actor,
            )
        },
    )
    .await
}

/// The targets form.
#[derive(Debug, Deserialize)]
pub struct TargetForm {
    group: String,
    target: String,
}

/// `POST /admin/rounds/{id}/targets`.
pub async fn set_targets(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: CurrentUser,
    id: web::Path<i64>,
    form: CsrfForm<TargetForm>,
) -> AppResult<HttpResponse> {
    let round_id = id.into_inner();
    let f = form.data;
    run(
        &req,
        &state,
        &user,
        round_id,
        "targets",
        move |conn, actor| {
            let target: i32 = f.target.trim().parse().map_err(|_| {
                RoundError::Invalid(format!(
                    "target: '{}' is not a whole number",
                    f.target.trim()
                ))
            })?;
            rounds::set_group_target(conn, round_id, &f.group, target, actor)
        },
    )
    .await
}

/// An empty form (only the CSRF token).
#[derive(Debug, Deserialize)]
pub struct EmptyForm {}

/// `POST /admin/rounds/{id}/actions/{action}`: open, close, reopen, compute (checking the
/// live tallies against the raw answers) or publish (status and snapshot together). Who may
/// use which action comes from `lifecycle::PERMISSIONS`, like the buttons of the round page.
pub async fn action(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<(i64, String)>,
    _form: CsrfForm<EmptyForm>,
) -> AppResult<HttpResponse> {
    let (round_id, action) = path.into_inner();
    let action: RoundAction = action.parse().map_err(|_| AppError::NotFound)?;
    if !action.allowed_for(user.role) {
        return Err(AppError::Forbidden);
    }
    run_authorised(
        &req,
        &state,
        &user,
        round_id,
        "action",
        move |conn, actor| rounds::apply_action(conn, round_id, action, actor).map(|_| ()),
    )
    .await
}

/// The largest respondent list accepted.
const MAX_LIST_BYTES: usize = 20 * 1024 * 1024;

/// `POST /admin/rounds/{id}/respondents` (multipart: CSV or XLSX).
pub async fn import_respondents(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: CurrentUser,
    id: web::Path<i64>,
    multipart: Multipart,
) -> AppResult<HttpResponse> {
    user.require(&[Role::Admin])?;
    let round_id = id.into_inner();
    let upload = read_upload(&req, multipart, MAX_LIST_BYTES).await?;
    run(
        &req,
        &state,
        &user,
        round_id,
        "respondents",
        move |conn, actor| {
            rounds::import_respondents(conn, round_id, &upload.file_name, &upload.bytes, actor)
                .map(|_| ())
        },
    )
    .await
}

/// The code issuing form.
#[derive(Debug, Deserialize)]
pub struct CodesForm {
    unit_id: String,
    format: String,
}

/// `POST /admin/rounds/{id}/codes`: gives codes to listed respondents who have none and
/// returns them at once, as a printable sheet or a CSV file; they are not stored in clear.
pub async fn issue_codes(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: CurrentUser,
    id: web::Path<i64>,
    form: CsrfForm<CodesForm>,
) -> AppResult<HttpResponse> {
    user.require(&[Role::Admin])?;
    let round_id = id.into_inner();
    let unit_id = match form.data.unit_id.trim() {
        "" => None,
        raw => Some(
            raw.parse::<i64>()
                .map_err(|_| AppError::BadRequest("error.bad_request.body"))?,
        ),
    };
    let as_csv = form.data.format == "csv";
    let secret = state.secret.clone();
    let (user_id, label, role) = actor(&user);
    let result = state
        .db(move |conn| {
            let round = db::rounds::by_id(conn, round_id)?.ok_or(AppError::NotFound)?;
            Ok(rounds::issue_codes(
                conn,
                &secret,
                round_id,
                false,
                unit_id,
                Actor {
                    user_id,
                    label: &label,
                    role,
                },
            )
            .map(|codes| (round, codes)))
        })
        .await?;
    let (round, codes) = match result {
        Ok(ok) => ok,
        Err(e) => {
            let errors = shown_errors(e)?;
            return Ok(html(
                StatusCode::UNPROCESSABLE_ENTITY,
                round_page(&req, &state, &user, round_id, &errors, None).await?,
            ));
        }
    };
    let base = state.settings.base();
    if as_csv {
        let rows = codes.iter().map(|c| {
            vec![
                c.name.clone(),
                c.phone.clone().unwrap_or_default(),
                c.email.clone().unwrap_or_default(),
                c.unit_code.clone(),
                c.group_code.clone(),
                c.code.to_string(),
                rounds::code_link(&base, &c.code),
            ]
        });
        let bytes = crate::app::export::csv_with_bom(
            &["name", "phone", "email", "unit", "group", "code", "link"],
            rows,
        )
        .map_err(AppError::internal)?;
        // Codes exist in clear only in this response: no cache may keep it.
        let mut response = crate::routes::download(
            &format!("codes-round{round_id}.csv"),
            "text/csv; charset=utf-8",
            bytes,
        );
        response.headers_mut().insert(
            header::CACHE_CONTROL,
            header::HeaderValue::from_static("no-store"),
        );
        return Ok(response);
    }
    let ctx = PageContext::new(&req, Some(&user));
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(views::rounds::code_sheet(&ctx, &round, &base, &codes).into_string()))
}

/// `POST /admin/rounds/{id}/invitations`: issues codes to respondents with e-mail addresses
/// and queues their invitations; the background sender delivers them.
pub async fn send_invitations(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: CurrentUser,
    id: web::Path<i64>,
    _form: CsrfForm<EmptyForm>,
) -> AppResult<HttpResponse> {
    let round_id = id.into_inner();
    if !state.mail_configured {
        return Err(AppError::BadRequest("round.mail_off"));
    }
    let secret = state.secret.clone();
    let base = state.settings.base();
    run(
        &req,
        &state,
        &user,
        round_id,
        "invitations",
        move |conn, actor| {
            rounds::queue_invitations(conn, &secret, &base, round_id, actor).map(|_| ())
        },
    )
    .await
}

/// `POST /admin/rounds/{id}/reminders`.
pub async fn send_reminders(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: CurrentUser,
    id: web::Path<i64>,
    _form: CsrfForm<EmptyForm>,
) -> AppResult<HttpResponse> {
    let round_id = id.into_inner();
    if !state.mail_configured {
        return Err(AppError::BadRequest("round.mail_off"));
    }
    let secret = state.secret.clone();
    let base = state.settings.base();
    run(
        &req,
        &state,
        &user,
        round_id,
        "reminders",
        move |conn, actor| {
            rounds::queue_reminders(
                conn,
                &secret,
                &base,
                round_id,
                &DEFAULT_POLICY,
                db::now(),
                actor,
            )
            .map(|_| ())
        },
    )
    .await
}

/// The open link form.
#[derive(Debug, Deserialize)]
pub struct OpenLinkForm {
    unit_id: i64,
    group: String,
    quota: String,
}

/// `POST /admin/rounds/{id}/open-links`.
pub async fn set_open_link(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: CurrentUser,
    id: web::Path<i64>,
    form: CsrfForm<OpenLinkForm>,
) -> AppResult<HttpResponse> {
    let round_id = id.into_inner();
    let f = form.data;
    let secret = state.secret.clone();
    run(&req, &state, &user, round_id, "link", move |conn, actor| {
        let quota: i32 = f.quota.trim().parse().map_err(|_| {
            RoundError::Invalid(format!("quota: '{}' is not a whole number", f.quota.trim()))
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
    req: HttpRequest,
    state: web::Data<AppState>,
    user: CurrentUser,
    id: web::Path<i64>,
    query: web::Query<CoverageQuery>,
) -> AppResult<HttpResponse> {
    user.require(READERS)?;
    let round_id = id.into_inner();
    let scope_user = (user.role == Role::Coordinator).then_some(user.user.id);
    let (round, mut rows) = state
        .db(move |conn| {
            let round = db::rounds::by_id(conn, round_id)?.ok_or(AppError::NotFound)?;
            let rows = rounds::coverage_for(conn, round_id, scope_user).map_err(|e| match e {
                RoundError::App(e) => e,
                _ => AppError::NotFound,
            })?;
            Ok((round, rows))
        })
        .await?;
    let sort = match query.sort.as_deref() {
        Some("rate") => CoverageSort::Rate,
        Some("completed") => CoverageSort::Completed,
        _ => CoverageSort::Unit,
    };
    match sort {
        CoverageSort::Unit => {
            rows.sort_by(|a, b| (&a.unit_code, &a.group_code).cmp(&(&b.unit_code, &b.group_code)))
        }
        CoverageSort::Rate => rows.sort_by(|a, b| {
            a.response_rate()
                .unwrap_or(0.0)
                .total_cmp(&b.response_rate().unwrap_or(0.0))
        }),
        CoverageSort::Completed => rows.sort_by_key(|r| std::cmp::Reverse(r.completed)),
    }
    if query.format.as_deref() == Some("csv") {
        let csv_rows = rows.iter().map(|r| {
            vec![
                r.unit_code.clone(),
                r.unit_name_vi.clone(),
                r.group_code.clone(),
                r.target.to_string(),
                r.listed.to_string(),
                r.invited.to_string(),
                r.started.to_string(),
                r.completed.to_string(),
                r.response_rate()
                    .map(|x| format!("{x:.1}"))
                    .unwrap_or_default(),
            ]
        });
        let bytes = crate::app::export::csv_with_bom(
            &[
                "unit",
                "unit_name",
                "group",
                "target",
                "listed",
                "invited",
                "started",
                "completed",
                "rate_percent",
            ],
            csv_rows,
        )
        .map_err(AppError::internal)?;
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

/// `GET /admin/units`.
pub async fn unit_sets(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: CurrentUser,
) -> AppResult<Markup> {
    user.require(READERS)?;
    unit_sets_page(&req, &state, &user, &[]).await
}

async fn unit_sets_page(
    req: &HttpRequest,
    state: &AppState,
    user: &CurrentUser,
    errors: &[String],
) -> AppResult<Markup> {
    let sets = state
        .db(|conn| {
            let sets = db::units::sets(conn)?;
            let mut out = Vec::with_capacity(sets.len());
            for s in sets {
                let n = db::units::units_of_set(conn, s.id)?.len();
                out.push((s, n));
            }
            Ok(out)
        })
        .await?;
    let ctx = PageContext::new(req, Some(user));
    Ok(views::rounds::unit_sets(
        &ctx,
        &sets,
        user.role == Role::Admin,
        errors,
    ))
}

/// `POST /admin/units` (multipart: code, name, CSV file).
pub async fn import_units(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: CurrentUser,
    multipart: Multipart,
) -> AppResult<HttpResponse> {
    user.require(&[Role::Admin])?;
    let upload = read_upload(&req, multipart, 5 * 1024 * 1024).await?;
    let field = |name: &str| {
        upload
            .fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let (code, set_name) = (field("code"), field("name"));
    let (user_id, label, role) = actor(&user);
    let result = state
        .db(move |conn| {
            Ok(rounds::import_unit_set(
                conn,
                &code,
                &set_name,
                &upload.file_name,
                &upload.bytes,
                Actor {
                    user_id,
                    label: &label,
                    role,
                },
            ))
        })
        .await?;
    match result {
        Ok(_) => Ok(see_other("/admin/units".to_owned())),
        Err(e) => {
            let errors = shown_errors(e)?;
            Ok(html(
                StatusCode::UNPROCESSABLE_ENTITY,
                unit_sets_page(&req, &state, &user, &errors).await?,
            ))
        }
    }
}

/// Query of the score page.
#[derive(Debug, Deserialize)]
pub struct ScoresQuery {
    with_excluded: Option<String>,
}

/// `GET /admin/rounds/{id}/scores`: the live ranking, computed from the live tallies.
pub async fn scores(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: CurrentUser,
    id: web::Path<i64>,
    query: web::Query<ScoresQuery>,
) -> AppResult<Markup> {
    user.require(&[Role::Admin, Role::Analyst])?;
    let round_id = id.into_inner();
    let with_excluded = query.with_excluded.is_some();
    let (round, scores, yoy) = state
        .db(move |conn| {
            let round = db::rounds::by_id(conn, round_id)?.ok_or(AppError::NotFound)?;
            // Live tallies leave excluded responses out; the scores with them are recomputed.
            let tallies = if with_excluded {
                crate::app::scores::recompute_tallies_with_excluded(conn, round_id)?
            } else {
                crate::app::scores::live_tallies(conn, round_id)?
            };
            let scores = crate::app::scores::compute(conn, round_id, &tallies)?;
            Ok((
                round,
                scores,
                crate::app::scores::year_over_year(conn, round_id)?,
            ))
        })
        .await?;
    let ctx = PageContext::new(&req, Some(&user));
    Ok(views::rounds::scores(
        &ctx,
        &round,
        &scores,
        yoy.as_deref(),
        with_excluded,
    ))
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

/// `GET /admin/rounds/{id}/quality`: flagged responses.
pub async fn quality(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: CurrentUser,
    id: web::Path<i64>,
) -> AppResult<Markup> {
    user.require(&[Role::Admin, Role::Analyst])?;
    let round_id = id.into_inner();
    let (round, units, rows) = state
        .db(move |conn| {
            let round = db::rounds::by_id(conn, round_id)?.ok_or(AppError::NotFound)?;
            Ok((
                round,
                db::rounds::units(conn, round_id)?,
                db::responses::flagged(conn, round_id)?,
            ))
        })
        .await?;
    let ctx = PageContext::new(&req, Some(&user));
    Ok(views::rounds::quality(&ctx, &round, &units, &rows, true))
}

/// `POST /admin/rounds/{id}/quality/flag`: recomputes the flags of every response.
pub async fn flag(
    state: web::Data<AppState>,
    user: CurrentUser,
    id: web::Path<i64>,
    _form: CsrfForm<EmptyForm>,
) -> AppResult<HttpResponse> {
    user.require(&[Role::Admin, Role::Analyst])?;
    let round_id = id.into_inner();
    state
        .db(move |conn| crate::app::review::flag_round(conn, round_id))
        .await?;
    Ok(see_other(format!("/admin/rounds/{round_id}/quality")))
}

/// The exclusion form.
#[derive(Debug, Deserialize)]
pub struct ExcludeForm {
    response_id: i64,
    reason: String,
}

/// `POST /admin/rounds/{id}/quality/exclude`: leaves a response out of the scores, with a reason.
pub async fn exclude(
    state: web::Data<AppState>,
    user: CurrentUser,
    id: web::Path<i64>,
    form: CsrfForm<ExcludeForm>,
) -> AppResult<HttpResponse> {
    user.require(&[Role::Admin, Role::Analyst])?;
    let round_id = id.into_inner();
    let (user_id, label) = (user.user.id, user.user.email.clone());
    let f = form.data;
    state
        .db(move |conn| {
            crate::app::review::exclude(
                conn,
                round_id,
                f.response_id,
                &f.reason,
                Some(user_id),
                &label,
            )
        })
        .await?;
    Ok(see_other(format!("/admin/rounds/{round_id}/quality")))
}

/// The comparison form.
#[derive(Debug, Deserialize)]
pub struct CompareForm {
    earlier: String,
}

/// `POST /admin/rounds/{id}/compare`: chooses the earlier round for year-over-year changes.
pub async fn set_compare(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: CurrentUser,
    id: web::Path<i64>,
    form: CsrfForm<CompareForm>,
) -> AppResult<HttpResponse> {
    let round_id = id.into_inner();
    let earlier = match form.data.earlier.trim() {
        "" => None,
        raw => Some(
            raw.parse::<i64>()
                .map_err(|_| AppError::BadRequest("error.bad_request.body"))?,
        ),
    };
    run(
        &req,
        &state,
        &user,
        round_id,
        "compare",
        move |conn, actor| rounds::set_compare_round(conn, round_id, earlier, actor),
    )
    .await
}
