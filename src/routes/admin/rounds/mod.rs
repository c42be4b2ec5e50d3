//! Admin routes for survey rounds: list and create, and the round page. The rest is split by
//! concept: editing and deleting, configuration and lifecycle, respondents and mail, code
//! sheets, data quality, and scores. Handlers parse the form, call `crate::app::rounds` inside `AppState::db`, and render.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use maud::Markup;
use serde::Deserialize;

use crate::app::auth::csrf::CsrfForm;
use crate::app::rounds::{self, Actor, RoundError, RoundForm};
use crate::db;
use crate::domain::account::Role;
use crate::error::{AppError, AppResult};
use crate::i18n::Lang;
use crate::routes::{Admins, AnyRole, Caller, RoleSet, Staff};
use crate::routes::{db_as, html, see_other};
use crate::views::components::FieldMessage;
use crate::views::rounds::{FormProblems, RoundPage};
use crate::views::{self, PageContext};

pub mod actions;
mod codes;
mod configure;
mod edit;
mod quality;
mod respondents;
mod roster;
mod sample;
mod scores;

pub use codes::*;
pub use configure::*;
pub use edit::*;
pub use quality::*;
pub use respondents::*;
pub use roster::*;
pub use sample::*;
pub use scores::*;

/// The form of a POST button, which carries nothing but its CSRF token.
pub use crate::app::auth::csrf::EmptyForm;

/// Runs a round use case as the signed-in user, in the database pool. A refused operation
/// comes back as the messages to show with a 422 page; any other failure propagates.
async fn act<T, F>(at: Caller<'_>, work: F) -> AppResult<Result<T, Vec<String>>>
where
    F: FnOnce(&mut db::AnyConnection, Actor<'_>) -> Result<T, RoundError> + Send + 'static,
    T: Send + 'static,
{
    Ok(act_form(at, work).await?.map_err(|errors| {
        let fields = errors.fields.into_iter().map(|f| f.text);
        errors.general.into_iter().chain(fields).collect()
    }))
}

/// A refused form: messages about no field, and each field's (in the reader's language).
#[derive(Debug, Default)]
struct FormErrors {
    general: Vec<String>,
    fields: Vec<FieldMessage>,
}

impl FormErrors {
    fn problems(&self) -> FormProblems<'_> {
        FormProblems {
            general: &self.general,
            fields: &self.fields,
        }
    }
}

/// Runs a round use case like [`act`], keeping each field's refusal apart so a form can show
/// it beside its field.
async fn act_form<T, F>(at: Caller<'_>, work: F) -> AppResult<Result<T, FormErrors>>
where
    F: FnOnce(&mut db::AnyConnection, Actor<'_>) -> Result<T, RoundError> + Send + 'static,
    T: Send + 'static,
{
    let lang = Lang::of_request(at.req);
    let result = db_as(at.state, at.user, move |conn, actor| Ok(work(conn, actor))).await?;
    match result {
        Ok(value) => Ok(Ok(value)),
        Err(RoundError::Fields(fields)) => Ok(Err(FormErrors {
            general: Vec::new(),
            fields: fields
                .into_iter()
                .map(|f| FieldMessage {
                    field: f.field,
                    text: f.message.text(lang),
                })
                .collect(),
        })),
        Err(other) => Ok(Err(FormErrors {
            general: other.messages(lang)?,
            fields: Vec::new(),
        })),
    }
}

/// A page shown again because the operation was refused.
fn refused(page: Markup) -> HttpResponse {
    html(StatusCode::UNPROCESSABLE_ENTITY, page)
}

/// The round page again (422) with the reasons an operation on the round was refused.
async fn refused_on_round(
    at: Caller<'_>,
    round_id: i64,
    errors: &[String],
) -> AppResult<HttpResponse> {
    Ok(refused(round_page(at, round_id, errors, None).await?))
}

/// Runs a round use case like [`act`] and answers with what `answer` makes of its value; a
/// refused operation shows the round page again with the reasons (422).
async fn act_or_refuse<T, F>(
    at: Caller<'_>,
    round_id: i64,
    work: F,
    answer: impl FnOnce(T) -> HttpResponse,
) -> AppResult<HttpResponse>
where
    F: FnOnce(&mut db::AnyConnection, Actor<'_>) -> Result<T, RoundError> + Send + 'static,
    T: Send + 'static,
{
    match act(at, work).await? {
        Ok(value) => Ok(answer(value)),
        Err(errors) => refused_on_round(at, round_id, &errors).await,
    }
}

/// Query of the round list.
#[derive(Debug, Deserialize)]
pub struct ListQuery {
    done: Option<String>,
}

/// `GET /admin/rounds`.
pub async fn list(staff: Staff<AnyRole>, query: web::Query<ListQuery>) -> AppResult<Markup> {
    let notice = (query.done.as_deref() == Some("deleted")).then_some("round.done.deleted");
    list_page(
        staff.caller(),
        &RoundForm::default(),
        &FormErrors::default(),
        notice,
    )
    .await
}

async fn list_page(
    at: Caller<'_>,
    form: &RoundForm,
    errors: &FormErrors,
    notice: Option<&str>,
) -> AppResult<Markup> {
    let list = at
        .state
        .db(|conn| rounds::list_rounds(conn).map_err(AppError::from))
        .await?;
    let ctx = PageContext::new(at.req, Some(at.user));
    Ok(views::rounds::list(
        &ctx,
        &list,
        form,
        at.user.role == Role::Admin,
        errors.problems(),
        at.state.settings.time_zone,
        notice,
    ))
}

/// `POST /admin/rounds`: creates a draft round. A refused form comes back as typed, with each
/// message beside its field.
pub async fn create(staff: Staff<Admins>, form: CsrfForm<RoundForm>) -> AppResult<HttpResponse> {
    let at = staff.caller();
    let form = form.data;
    let zone = at.state.settings.time_zone;
    let typed = form.clone();
    match act_form(at, move |conn, actor| {
        rounds::create_round_from_form(conn, &typed, zone, actor)
    })
    .await?
    {
        Ok(id) => Ok(see_other(format!("/admin/rounds/{id}?done=created"))),
        Err(errors) => Ok(refused(list_page(at, &form, &errors, None).await?)),
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
        "respondents" => "round.done.respondents",
        "invitations" => "round.done.invitations",
        "reminders" => "round.done.reminders",
        "link" => "round.done.link",
        "compare" => "round.done.compare",
        "edited" => "round.done.edited",
        _ => return None,
    })
}

async fn round_page(
    at: Caller<'_>,
    round_id: i64,
    errors: &[String],
    notice: Option<&'static str>,
) -> AppResult<Markup> {
    round_page_with(
        at,
        round_id,
        &FormErrors {
            general: errors.to_vec(),
            fields: Vec::new(),
        },
        ("", ""),
        notice,
    )
    .await
}

/// The round page after a refused form: its messages, and the targets form as typed.
async fn round_page_with(
    at: Caller<'_>,
    round_id: i64,
    errors: &FormErrors,
    target_form: (&str, &str),
    notice: Option<&'static str>,
) -> AppResult<Markup> {
    let Caller { req, state, user } = at;
    let secret = state.secret.clone();
    let base = state.settings.base();
    let viewer = user.staff_viewer();
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
            group_choices: &o.group_choices,
            targets: &o.targets,
            respondents: o.respondents,
            respondents_in_my_units: o.respondents_in_my_units,
            outbox: &o.outbox,
            open_links: &o.open_links,
            can_manage: user.role == Role::Admin,
            actions: &o.actions,
            mail_configured: state.mail_configured,
            errors: &errors.general,
            notice,
            earlier_rounds: &o.earlier_rounds,
            field_errors: &errors.fields,
            target_form,
            zone: state.settings.time_zone,
        },
    ))
}

/// `GET /admin/rounds/{id}`.
pub async fn show(
    staff: Staff<AnyRole>,
    id: web::Path<i64>,
    query: web::Query<RoundQuery>,
) -> AppResult<Markup> {
    round_page(
        staff.caller(),
        id.into_inner(),
        &[],
        notice_key(query.done.as_deref()),
    )
    .await
}

/// Runs a round operation for an administrator: on success redirect with a notice, on a
/// refused operation show the round page with the reasons (422).
async fn run<F>(at: Caller<'_>, round_id: i64, done: &str, work: F) -> AppResult<HttpResponse>
where
    F: FnOnce(&mut db::AnyConnection, Actor<'_>) -> Result<(), RoundError> + Send + 'static,
{
    at.user.require(Admins::ROLES)?;
    act_or_refuse(at, round_id, work, |()| {
        see_other(format!("/admin/rounds/{round_id}?done={done}"))
    })
    .await
}
