//! Keying paper questionnaires: administrators for any unit, coordinators for their own units.

use crate::routes::private_html;
use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

use crate::auth::csrf::CsrfForm;
use crate::auth::session::CurrentUser;
use crate::db;
use crate::domain::account::Role;
use crate::domain::answers::Answers;
use crate::error::{AppError, AppResult};
use crate::paper::{self, Keying, KeyingOutcome};
use crate::state::AppState;
use crate::views::{self, PageContext};

/// The round's units this user may key for, and its configured groups (code, id, instrument).
async fn scope(
    state: &AppState,
    user: &CurrentUser,
    round_id: i64,
) -> AppResult<(
    db::rounds::RoundRow,
    Vec<db::units::UnitRow>,
    Vec<db::rounds::RoundGroupRow>,
)> {
    user.require(&[Role::Admin, Role::Coordinator])?;
    let coordinator = (user.role == Role::Coordinator).then_some(user.user.id);
    state
        .db(move |conn| {
            let round = db::rounds::by_id(conn, round_id)?.ok_or(AppError::NotFound)?;
            let mut units = db::rounds::units(conn, round_id)?;
            if let Some(user_id) = coordinator {
                let mine = db::users::unit_ids(conn, user_id)?;
                units.retain(|u| mine.contains(&u.id));
            }
            Ok((round, units, db::rounds::groups(conn, round_id)?))
        })
        .await
}

/// Query of the paper page.
#[derive(Debug, Deserialize)]
pub struct PaperQuery {
    unit: Option<i64>,
    group: Option<String>,
    #[serde(rename = "ref")]
    form_ref: Option<String>,
    entry: Option<String>,
    done: Option<String>,
}

/// `GET /admin/rounds/{id}/paper`: choose a form, or key it when one is chosen.
pub async fn page(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: CurrentUser,
    id: web::Path<i64>,
    query: web::Query<PaperQuery>,
) -> AppResult<HttpResponse> {
    let round_id = id.into_inner();
    let (round, units, groups) = scope(&state, &user, round_id).await?;
    let ctx = PageContext::new(&req, Some(&user));
    if let (Some(unit), Some(group), Some(form_ref), Some(entry)) =
        (query.unit, &query.group, &query.form_ref, &query.entry)
    {
        if !units.iter().any(|u| u.id == unit) {
            return Err(AppError::Forbidden);
        }
        let config = groups
            .iter()
            .find(|g| &g.group_code == group)
            .ok_or(AppError::NotFound)?;
        let instrument = state.instrument(config.instrument_id).await?;
        let form = views::paper::keying_form(
            &ctx,
            round_id,
            &instrument,
            unit,
            group,
            form_ref,
            entry,
            &Answers::new(),
            &[],
            None,
        );
        return Ok(private_html(StatusCode::OK, form));
    }
    let entries = state
        .db(move |conn| Ok(db::paper::of_round(conn, round_id)?))
        .await?;
    let unit_ids: Vec<i64> = units.iter().map(|u| u.id).collect();
    let mut shown: Vec<(db::paper::PaperEntry, Vec<String>)> = entries
        .into_iter()
        .filter(|e| unit_ids.contains(&e.unit_id))
        .map(|e| (e, Vec::new()))
        .collect();
    // Differences are listed on the second keying's row.
    let firsts: Vec<(String, String)> = shown
        .iter()
        .filter(|(e, _)| e.entry_no == 1)
        .map(|(e, _)| (e.batch_ref.clone(), e.answers.clone()))
        .collect();
    for (entry, diff) in &mut shown {
        if entry.status == "mismatch"
            && entry.entry_no == 2
            && let Some((_, first)) = firsts.iter().find(|(r, _)| r == &entry.batch_ref)
        {
            *diff = paper::differences(
                &Answers::from_json(first).unwrap_or_default(),
                &Answers::from_json(&entry.answers).unwrap_or_default(),
            );
        }
    }
    let notice = match query.done.as_deref() {
        Some("accepted") => Some("paper.done.accepted"),
        Some("waiting") => Some("paper.done.waiting"),
        Some("mismatch") => Some("paper.done.mismatch"),
        Some("already") => Some("paper.done.already"),
        _ => None,
    };
    let group_codes: Vec<String> = groups.iter().map(|g| g.group_code.clone()).collect();
    Ok(private_html(
        StatusCode::OK,
        views::paper::overview(&ctx, &round, &units, &group_codes, &shown, notice),
    ))
}

/// The hidden context of a keying form (the answers are the other fields).
#[derive(Debug, Deserialize)]
pub struct KeyingForm {
    #[serde(rename = "_unit")]
    unit: i64,
    #[serde(rename = "_group")]
    group: String,
    #[serde(rename = "_ref")]
    form_ref: String,
    #[serde(rename = "_entry")]
    entry: String,
}

/// `POST /admin/rounds/{id}/paper`: validates the keyed form like a web response and stores it.
pub async fn save(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: CurrentUser,
    id: web::Path<i64>,
    form: CsrfForm<KeyingForm>,
) -> AppResult<HttpResponse> {
    let round_id = id.into_inner();
    let (_, units, groups) = scope(&state, &user, round_id).await?;
    let k = form.data;
    if !units.iter().any(|u| u.id == k.unit) {
        return Err(AppError::Forbidden);
    }
    let config = groups
        .iter()
        .find(|g| g.group_code == k.group)
        .ok_or(AppError::NotFound)?;
    let instrument = state.instrument(config.instrument_id).await?;
    let fields: Vec<(String, String)> = form
        .fields
        .into_iter()
        .filter(|(name, _)| !name.starts_with('_'))
        .collect();
    let (answers, errors) = paper::decode_form(&instrument, &fields);
    if !errors.is_empty() {
        let ctx = PageContext::new(&req, Some(&user));
        let page = views::paper::keying_form(
            &ctx,
            round_id,
            &instrument,
            k.unit,
            &k.group,
            &k.form_ref,
            &k.entry,
            &answers,
            &errors,
            Some(&fields),
        );
        return Ok(private_html(StatusCode::UNPROCESSABLE_ENTITY, page));
    }
    let (double_entry, entry_no) = match k.entry.as_str() {
        "single" => (false, 1),
        "1" => (true, 1),
        "2" => (true, 2),
        _ => return Err(AppError::BadRequest("paper.entry_invalid")),
    };
    let keying_owned = (
        k.form_ref.clone(),
        config.group_id,
        config.instrument_id,
        user.user.id,
    );
    let unit = k.unit;
    let outcome = state
        .db(move |conn| {
            let (form_ref, group_id, instrument_id, user_id) = keying_owned;
            paper::store_keying(
                conn,
                &Keying {
                    round_id,
                    unit_id: unit,
                    group_id,
                    instrument_id,
                    form_ref: &form_ref,
                    entry_no,
                    double_entry,
                    user_id,
                },
                &answers,
            )
        })
        .await?;
    let done = match outcome {
        KeyingOutcome::Accepted => "accepted",
        KeyingOutcome::Waiting => "waiting",
        KeyingOutcome::Mismatch(_) => "mismatch",
        KeyingOutcome::AlreadyAccepted => "already",
    };
    Ok(HttpResponse::SeeOther()
        .insert_header((
            header::LOCATION,
            format!("/admin/rounds/{round_id}/paper?done={done}"),
        ))
        .finish())
}
