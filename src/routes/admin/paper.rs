//! Keying paper questionnaires: administrators for any unit, coordinators for their own units
//! by double entry. Who may key how, and the checks on each keying, live in [`crate::app::paper`].

use crate::routes::{AnyRole, Staff, private_html};
use actix_web::http::{StatusCode, header};
use actix_web::{HttpResponse, web};
use serde::Deserialize;

use crate::app::auth::csrf::CsrfForm;
use crate::app::auth::session::CurrentUser;
use crate::app::paper::{self, EntryMode, Keyer, Keying};
use crate::app::state::AppState;
use crate::db;
use crate::domain::answers::Answers;
use crate::error::{AppError, AppResult};
use crate::views::{self, PageContext};

/// The keyer behind a session.
fn keyer(user: &CurrentUser) -> Keyer<'_> {
    Keyer {
        user_id: user.user.id,
        role: user.role,
        label: &user.user.email,
    }
}

/// The round, the units this user may key for, and its configured groups.
async fn scope(
    state: &AppState,
    user: &CurrentUser,
    round_id: i64,
) -> AppResult<(
    db::rounds::RoundRow,
    Vec<db::units::UnitRow>,
    Vec<db::rounds::RoundGroupRow>,
)> {
    let (user_id, role, label) = (user.user.id, user.role, user.user.email.clone());
    state
        .db(move |conn| {
            paper::keying_scope(
                conn,
                round_id,
                Keyer {
                    user_id,
                    role,
                    label: &label,
                },
            )
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

/// `GET /admin/rounds/{id}/paper`: choose a form, or key it when one is chosen. Every
/// signed-in role reaches the use case, which refuses a role that may key nothing.
pub async fn page(
    Staff(req, state, user, ..): Staff<AnyRole>,
    id: web::Path<i64>,
    query: web::Query<PaperQuery>,
) -> AppResult<HttpResponse> {
    let round_id = id.into_inner();
    let (round, units, groups) = scope(&state, &user, round_id).await?;
    let ctx = PageContext::new(&req, Some(&user));
    if let (Some(unit), Some(group), Some(form_ref), Some(entry)) =
        (query.unit, &query.group, &query.form_ref, &query.entry)
    {
        // Refused before the form is keyed in vain.
        paper::check_keying(keyer(&user), &units, unit, EntryMode::parse(entry)?)?;
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
    let scope_units = units.clone();
    let shown = state
        .db(move |conn| paper::entries_in_scope(conn, round_id, &scope_units))
        .await?;
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
        views::paper::overview(
            &ctx,
            &views::paper::Overview {
                round: &round,
                units: &units,
                groups: &group_codes,
                modes: &EntryMode::for_role(user.role),
                entries: &shown,
                notice,
            },
        ),
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
    Staff(req, state, user, ..): Staff<AnyRole>,
    id: web::Path<i64>,
    form: CsrfForm<KeyingForm>,
) -> AppResult<HttpResponse> {
    let round_id = id.into_inner();
    let (_, units, groups) = scope(&state, &user, round_id).await?;
    let k = form.data;
    let mode = EntryMode::parse(&k.entry)?;
    paper::check_keying(keyer(&user), &units, k.unit, mode)?;
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
    let (group_id, instrument_id) = (config.group_id, config.instrument_id);
    let (user_id, role, label) = (user.user.id, user.role, user.user.email.clone());
    let outcome = state
        .db(move |conn| {
            paper::store_keying(
                conn,
                &Keying {
                    round_id,
                    unit_id: k.unit,
                    group_id,
                    instrument_id,
                    form_ref: &k.form_ref,
                    mode,
                    keyer: Keyer {
                        user_id,
                        role,
                        label: &label,
                    },
                },
                &answers,
            )
        })
        .await?;
    Ok(HttpResponse::SeeOther()
        .insert_header((
            header::LOCATION,
            format!("/admin/rounds/{round_id}/paper?done={}", outcome.code()),
        ))
        .finish())
}
