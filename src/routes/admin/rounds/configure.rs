//! Configuring a round (groups, targets, comparison round), its lifecycle actions, and the
//! unit lists rounds are built on.

use actix_multipart::Multipart;
use actix_web::{HttpResponse, web};
use maud::Markup;
use serde::Deserialize;

use super::{act, act_form, refused, round_page_with, run};
use crate::app::auth::csrf::CsrfForm;
use crate::app::rounds;
use crate::domain::account::Role;
use crate::error::{AppError, AppResult};
use crate::routes::see_other;
use crate::routes::upload::read_upload;
use crate::routes::{Admins, AnyRole, Caller, IdPost, Staff};
use crate::views::{self, PageContext};

/// The group configuration form.
#[derive(Debug, Clone, Deserialize)]
pub struct GroupForm {
    group: String,
    instrument_id: i64,
    methodology_id: i64,
}

/// `POST /admin/rounds/{id}/groups`.
pub async fn set_group(post: IdPost<GroupForm>) -> AppResult<HttpResponse> {
    let round_id = post.id;
    let f = post.form.clone();
    run(post.caller(), round_id, "group", move |conn, actor| {
        rounds::set_group(
            conn,
            round_id,
            &f.group,
            f.instrument_id,
            f.methodology_id,
            actor,
        )
    })
    .await
}

/// The targets form.
#[derive(Debug, Deserialize)]
pub struct TargetForm {
    group: String,
    target: String,
}

/// `POST /admin/rounds/{id}/targets`: a refused target comes back as typed, beside its field.
pub async fn set_targets(
    staff: Staff<Admins>,
    id: web::Path<i64>,
    form: CsrfForm<TargetForm>,
) -> AppResult<HttpResponse> {
    let at = staff.caller();
    let round_id = id.into_inner();
    let f = form.data;
    let (group, target) = (f.group.clone(), f.target.clone());
    match act_form(at, move |conn, actor| {
        rounds::set_group_target_from_form(conn, round_id, &group, &target, actor)
    })
    .await?
    {
        Ok(()) => Ok(see_other(format!("/admin/rounds/{round_id}?done=targets"))),
        Err(errors) => Ok(refused(
            round_page_with(at, round_id, &errors, (&f.group, &f.target), None).await?,
        )),
    }
}

/// The comparison form.
#[derive(Debug, Deserialize)]
pub struct CompareForm {
    earlier: String,
}

/// `POST /admin/rounds/{id}/compare`: chooses the earlier round for year-over-year changes.
pub async fn set_compare(post: IdPost<CompareForm>) -> AppResult<HttpResponse> {
    let round_id = post.id;
    let earlier = match post.form.earlier.trim() {
        "" => None,
        raw => Some(
            raw.parse::<i64>()
                .map_err(|_| AppError::BadRequest("error.bad_request.body"))?,
        ),
    };
    run(post.caller(), round_id, "compare", move |conn, actor| {
        rounds::set_compare_round(conn, round_id, earlier, actor)
    })
    .await
}

/// `GET /admin/units`.
pub async fn unit_sets(staff: Staff<AnyRole>) -> AppResult<Markup> {
    unit_sets_page(staff.caller(), &[]).await
}

async fn unit_sets_page(at: Caller<'_>, errors: &[String]) -> AppResult<Markup> {
    let Caller { req, state, user } = at;
    let sets = state
        .db(|conn| rounds::unit_set_summaries(conn).map_err(AppError::from))
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
pub async fn import_units(staff: Staff<Admins>, multipart: Multipart) -> AppResult<HttpResponse> {
    let at = staff.caller();
    let upload = read_upload(at.req, multipart, 5 * 1024 * 1024).await?;
    let field = |name: &str| upload.field(name).unwrap_or_default().to_owned();
    let (code, set_name) = (field("code"), field("name"));
    let result = act(at, move |conn, actor| {
        rounds::import_unit_set(
            conn,
            &code,
            &set_name,
            &upload.file_name,
            &upload.bytes,
            actor,
        )
    })
    .await?;
    match result {
        Ok(_) => Ok(see_other("/admin/units".to_owned())),
        Err(errors) => Ok(refused(unit_sets_page(at, &errors).await?)),
    }
}
