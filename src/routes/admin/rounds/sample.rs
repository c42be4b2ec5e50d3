//! The round's sample page: `GET /admin/rounds/{id}/sample`, and its two steps, commit and
//! draw, each confirmed by a ticked box and audited by the use case.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use serde::Deserialize;

use super::act;
use crate::app::actor::Actor;
use crate::app::auth::csrf::CsrfForm;
use crate::app::rounds::RoundError;
use crate::app::rounds::{self, SampleSizes};
use crate::db;
use crate::domain::sampling::{Rate, ReplacementReason};
use crate::error::AppResult;
use crate::routes::{Admins, Caller, Staff};
use crate::routes::{html, see_other};
use crate::views::{self, PageContext};

/// The page with `errors` and, when `stratum` is set, that unit × group's members.
async fn render(
    Caller { req, state, user }: Caller<'_>,
    (round_id, stratum): (i64, Option<i64>),
    errors: &[String],
    status: StatusCode,
) -> AppResult<HttpResponse> {
    let (round, sample, members) = state
        .db(move |conn| rounds::sample_page(conn, round_id, stratum).map_err(Into::into))
        .await?;
    let ctx = PageContext::new(req, Some(user));
    let page = views::sample::SamplePage {
        round: &round,
        sample: sample.as_ref(),
        zone: state.settings.time_zone,
        errors,
        members: (stratum, &members),
    };
    Ok(html(status, views::sample::sample(&ctx, &page)))
}

/// The page again with `errors`: a step that was refused (422).
async fn refused(at: Caller<'_>, round_id: i64, errors: &[String]) -> AppResult<HttpResponse> {
    render(
        at,
        (round_id, None),
        errors,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await
}

/// One step of the sample (commit, draw, replace): refused unless its box was ticked, then the
/// use case, then back to the sample page, or the page with the use case's reasons.
async fn confirmed_step<T, F>(
    at: Caller<'_>,
    (round_id, confirm): (i64, Option<&str>),
    work: F,
) -> AppResult<HttpResponse>
where
    F: FnOnce(&mut db::AnyConnection, Actor<'_>) -> Result<T, RoundError> + Send + 'static,
    T: Send + 'static,
{
    if confirm != Some("yes") {
        let lang = crate::i18n::Lang::of_request(at.req);
        let errors = [crate::i18n::t(lang, "round.sample.confirm_required").to_owned()];
        return refused(at, round_id, &errors).await;
    }
    match act(at, work).await? {
        Ok(_) => Ok(see_other(format!("/admin/rounds/{round_id}/sample"))),
        Err(errors) => refused(at, round_id, &errors).await,
    }
}

/// The sample page's query: a unit × group whose members to list.
#[derive(Debug, Deserialize)]
pub struct SampleQuery {
    stratum: Option<i64>,
}

/// `GET /admin/rounds/{id}/sample[?stratum=ID]`.
pub async fn sample_page(
    staff: Staff<Admins>,
    id: web::Path<i64>,
    query: web::Query<SampleQuery>,
) -> AppResult<HttpResponse> {
    let at = (id.into_inner(), query.stratum);
    render(staff.caller(), at, &[], StatusCode::OK).await
}

/// The commit form.
#[derive(Debug, Deserialize)]
pub struct CommitForm {
    seed_source: String,
    #[serde(default)]
    rate: String,
    #[serde(default)]
    sizes: String,
    confirm: Option<String>,
}

/// `POST /admin/rounds/{id}/sample/commit`: sizes from the pasted CSV, else from the targets
/// and the expected rate.
pub async fn commit_sample(
    staff: Staff<Admins>,
    id: web::Path<i64>,
    form: CsrfForm<CommitForm>,
) -> AppResult<HttpResponse> {
    let round_id = id.into_inner();
    let lang = crate::i18n::Lang::of_request(staff.caller().req);
    let mut form = form.data;
    let rate = if form.sizes.trim().is_empty() && form.confirm.as_deref() == Some("yes") {
        match Rate::parse(&form.rate) {
            Ok(rate) => Some(rate),
            Err(_) => {
                let errors = [crate::i18n::tf(
                    lang,
                    "cli.sample.rate_invalid",
                    &[("value", form.rate.trim())],
                )];
                return refused(staff.caller(), round_id, &errors).await;
            }
        }
    } else {
        None
    };
    let confirm = form.confirm.take();
    confirmed_step(
        staff.caller(),
        (round_id, confirm.as_deref()),
        move |conn, actor| {
            let sizes = match rate {
                Some(rate) => SampleSizes::Rate(rate),
                None => SampleSizes::File {
                    name: "sizes",
                    bytes: form.sizes.as_bytes(),
                },
            };
            rounds::commit_sample(conn, round_id, sizes, &form.seed_source, actor)
        },
    )
    .await
}

/// The draw form.
#[derive(Debug, Deserialize)]
pub struct DrawForm {
    seed: String,
    confirm: Option<String>,
}

/// `POST /admin/rounds/{id}/sample/draw`.
pub async fn draw_sample(
    staff: Staff<Admins>,
    id: web::Path<i64>,
    form: CsrfForm<DrawForm>,
) -> AppResult<HttpResponse> {
    let round_id = id.into_inner();
    let mut form = form.data;
    let confirm = form.confirm.take();
    confirmed_step(
        staff.caller(),
        (round_id, confirm.as_deref()),
        move |conn, actor| rounds::draw_sample(conn, round_id, &form.seed, actor),
    )
    .await
}

/// The replacement form.
#[derive(Debug, Deserialize)]
pub struct ReplaceForm {
    respondent: i64,
    reason: String,
    confirm: Option<String>,
}

/// `POST /admin/rounds/{id}/sample/replace`: the next of the reserve replaces the respondent.
pub async fn replace_sampled(
    staff: Staff<Admins>,
    id: web::Path<i64>,
    form: CsrfForm<ReplaceForm>,
) -> AppResult<HttpResponse> {
    let round_id = id.into_inner();
    let form = form.data;
    let Some(reason) = ReplacementReason::parse(&form.reason) else {
        return Err(crate::error::AppError::BadRequest("error.bad_request.body"));
    };
    let respondent = form.respondent;
    confirmed_step(
        staff.caller(),
        (round_id, form.confirm.as_deref()),
        move |conn, actor| rounds::replace_sampled(conn, round_id, respondent, reason, actor),
    )
    .await
}
