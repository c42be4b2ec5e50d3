//! Respondent routes under `/s/`: code entry, the first page, one page per section, review,
//! submission and the receipt. Codes travel in the path; logs record only route patterns, so
//! no code is ever written to a log.

use crate::routes::{private_html, see_other};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

use crate::auth::csrf::CsrfForm;
use crate::auth::throttle;
use crate::domain::access_code::AccessCode;
use crate::domain::answers::decode_section;
use crate::domain::throttle::CODE_PER_IP;
use crate::error::{AppError, AppResult};
use crate::respond::{self, CodeState, Session, Submitted};
use crate::routes::admin::login::client_ip;
use crate::state::AppState;
use crate::views::{self, PageContext};

fn ip_key(req: &HttpRequest, state: &AppState) -> String {
    format!("code:ip:{}", client_ip(req, state.settings.trust_proxy))
}

/// A friendly page for a code that does not open a questionnaire.
fn code_problem(req: &HttpRequest, status: StatusCode, key: &str) -> HttpResponse {
    let ctx = PageContext::new(req, None);
    private_html(
        status,
        views::home::notice_page(&ctx, "respond.problem_title", key),
    )
}

/// The session behind the code in the path, or the page to show instead. Unknown and
/// malformed codes count against the client's address.
async fn session(
    req: &HttpRequest,
    state: &AppState,
    raw: &str,
) -> AppResult<Result<(AccessCode, Session), HttpResponse>> {
    let key = ip_key(req, state);
    let Ok(code) = AccessCode::parse(raw) else {
        state
            .db(move |conn| {
                throttle::check(conn, &[(&key, CODE_PER_IP)])?;
                throttle::record_failure(conn, &[(&key, CODE_PER_IP)])
            })
            .await?;
        return Ok(Err(code_problem(
            req,
            StatusCode::NOT_FOUND,
            "respond.code_invalid",
        )));
    };
    let secret = state.secret.clone();
    let lookup = code.clone();
    let found = state
        .db(move |conn| {
            throttle::check(conn, &[(&key, CODE_PER_IP)])?;
            let found = respond::resolve(conn, &secret, &lookup)?;
            if matches!(found, CodeState::Unknown) {
                throttle::record_failure(conn, &[(&key, CODE_PER_IP)])?;
            }
            Ok(found)
        })
        .await?;
    Ok(match found {
        CodeState::Ready(session) => Ok((code, *session)),
        CodeState::Used => Err(code_problem(req, StatusCode::GONE, "respond.code_used")),
        CodeState::NotOpen(_) => Err(code_problem(req, StatusCode::FORBIDDEN, "respond.not_open")),
        CodeState::Unknown => Err(code_problem(
            req,
            StatusCode::NOT_FOUND,
            "respond.code_unknown",
        )),
    })
}

/// The code entry form.
#[derive(Debug, Deserialize)]
pub struct CodeForm {
    code: String,
}

/// `POST /s`: a typed code; a typo is caught by the check character before any lookup.
pub async fn enter_code(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: CsrfForm<CodeForm>,
) -> AppResult<HttpResponse> {
    let typed = form.data.code;
    match AccessCode::parse(&typed) {
        Ok(code) => Ok(see_other(format!("/s/{}", code.as_canonical()))),
        Err(_) => {
            let key = ip_key(&req, &state);
            state
                .db(move |conn| {
                    throttle::check(conn, &[(&key, CODE_PER_IP)])?;
                    throttle::record_failure(conn, &[(&key, CODE_PER_IP)])
                })
                .await?;
            let ctx = PageContext::new(&req, None);
            Ok(private_html(
                StatusCode::UNPROCESSABLE_ENTITY,
                views::home::home_with_code(&ctx, Some("respond.code_typo"), &typed),
            ))
        }
    }
}

/// `GET /s/{code}`: the first page.
pub async fn intro(
    req: HttpRequest,
    state: web::Data<AppState>,
    code: web::Path<String>,
) -> AppResult<HttpResponse> {
    let (code, session) = match session(&req, &state, &code).await? {
        Ok(found) => found,
        Err(page) => return Ok(page),
    };
    let instrument = state.instrument(session.instrument_id).await?;
    let ctx = PageContext::new(&req, None);
    Ok(private_html(
        StatusCode::OK,
        views::respond::intro(
            &ctx,
            code.as_canonical(),
            &session.round,
            &instrument,
            session.draft.is_some(),
        ),
    ))
}

/// An empty form (only the CSRF token).
#[derive(Debug, Deserialize)]
pub struct EmptyForm {}

/// `POST /s/{code}/start`: creates the draft (a POST, so link scanners in mail systems never
/// start a response) and goes to the section to continue with.
pub async fn start(
    req: HttpRequest,
    state: web::Data<AppState>,
    code: web::Path<String>,
    _form: CsrfForm<EmptyForm>,
) -> AppResult<HttpResponse> {
    let (code, session) = match session(&req, &state, &code).await? {
        Ok(found) => found,
        Err(page) => return Ok(page),
    };
    let lang = crate::i18n::Lang::of_request(&req).code();
    let draft = state
        .db(move |conn| respond::ensure_draft(conn, &session, lang))
        .await?;
    let section = usize::try_from(draft.section).unwrap_or(0);
    Ok(see_other(format!(
        "/s/{}/p/{}",
        code.as_canonical(),
        section + 1
    )))
}

/// `GET /s/{code}/p/{n}`: section n (1-based).
pub async fn section(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, usize)>,
) -> AppResult<HttpResponse> {
    let (raw, n) = path.into_inner();
    let (code, session) = match session(&req, &state, &raw).await? {
        Ok(found) => found,
        Err(page) => return Ok(page),
    };
    let Some(draft) = &session.draft else {
        return Ok(see_other(format!("/s/{}", code.as_canonical())));
    };
    let instrument = state.instrument(session.instrument_id).await?;
    let answers = respond::draft_answers(draft);
    let visible = respond::visible_sections(&instrument, &answers);
    let index = n.saturating_sub(1);
    let Some(position) = visible.iter().position(|&i| i == index) else {
        let first = visible.first().copied().unwrap_or(0);
        return Ok(see_other(format!(
            "/s/{}/p/{}",
            code.as_canonical(),
            first + 1
        )));
    };
    let ctx = PageContext::new(&req, None);
    Ok(private_html(
        StatusCode::OK,
        views::respond::section_page(
            &ctx,
            code.as_canonical(),
            &instrument,
            index,
            position + 1,
            visible.len(),
            &answers,
            &[],
            None,
        ),
    ))
}

/// The navigation button of a section form.
#[derive(Debug, Deserialize)]
pub struct SectionForm {
    nav: Option<String>,
}

/// `POST /s/{code}/p/{n}`: saves the section. Next validates and moves on; Back keeps what is
/// valid and goes back without insisting on required answers.
pub async fn save_section(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, usize)>,
    form: CsrfForm<SectionForm>,
) -> AppResult<HttpResponse> {
    let (raw, n) = path.into_inner();
    let (code, session) = match session(&req, &state, &raw).await? {
        Ok(found) => found,
        Err(page) => return Ok(page),
    };
    let canonical = code.as_canonical().to_owned();
    let Some(draft) = session.draft.clone() else {
        return Ok(see_other(format!("/s/{canonical}")));
    };
    let instrument = state.instrument(session.instrument_id).await?;
    let index = n.saturating_sub(1);
    let Some(section) = instrument.sections().get(index) else {
        return Err(AppError::NotFound);
    };
    let going_back = form.data.nav.as_deref() == Some("back");
    let earlier = respond::draft_answers(&draft);
    let earlier_snapshot = earlier.clone();
    let decoded = decode_section(section, &form.fields, &earlier);
    let answers = respond::merge_section(&instrument, section, earlier, &decoded.answers);
    let visible = respond::visible_sections(&instrument, &answers);
    let position = visible.iter().position(|&i| i == index);
    let lang = crate::i18n::Lang::of_request(&req);

    let revealed =
        !going_back && respond::reveals_unanswered_question(section, &earlier_snapshot, &answers);
    if (!decoded.errors.is_empty() && !going_back) || revealed {
        // Keep the valid answers, show the page again with every problem.
        let (code_id, to_save) = (session.code_id, answers.clone());
        state
            .db(move |conn| respond::save(conn, code_id, &to_save, index, lang.code()))
            .await?;
        let ctx = PageContext::new(&req, None);
        let page = views::respond::section_page(
            &ctx,
            &canonical,
            &instrument,
            index,
            position.map_or(1, |p| p + 1),
            visible.len().max(1),
            &answers,
            &decoded.errors,
            Some(&form.fields),
        );
        let status = if decoded.errors.is_empty() {
            StatusCode::OK
        } else {
            StatusCode::UNPROCESSABLE_ENTITY
        };
        return Ok(private_html(status, page));
    }
    let target = if going_back {
        visible.iter().rev().find(|&&i| i < index).copied()
    } else {
        visible.iter().find(|&&i| i > index).copied()
    };
    let resume_at = target.unwrap_or(index);
    let code_id = session.code_id;
    state
        .db(move |conn| respond::save(conn, code_id, &answers, resume_at, lang.code()))
        .await?;
    Ok(match target {
        Some(i) => see_other(format!("/s/{canonical}/p/{}", i + 1)),
        None if going_back => see_other(format!("/s/{canonical}")),
        None => see_other(format!("/s/{canonical}/review")),
    })
}

/// `GET /s/{code}/review`.
pub async fn review(
    req: HttpRequest,
    state: web::Data<AppState>,
    code: web::Path<String>,
) -> AppResult<HttpResponse> {
    let (code, session) = match session(&req, &state, &code).await? {
        Ok(found) => found,
        Err(page) => return Ok(page),
    };
    let Some(draft) = &session.draft else {
        return Ok(see_other(format!("/s/{}", code.as_canonical())));
    };
    let instrument = state.instrument(session.instrument_id).await?;
    let answers = respond::draft_answers(draft);
    let visible = respond::visible_sections(&instrument, &answers);
    let ctx = PageContext::new(&req, None);
    Ok(private_html(
        StatusCode::OK,
        views::respond::review(
            &ctx,
            code.as_canonical(),
            &instrument,
            &visible,
            &answers,
            &draft.submission_key,
            &[],
        ),
    ))
}

/// The submit form: the idempotency key rendered into the review page.
#[derive(Debug, Deserialize)]
pub struct SubmitForm {
    submission_key: String,
}

/// `POST /s/{code}/submit`: stores the response once; a replay shows the same receipt.
pub async fn submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    raw: web::Path<String>,
    form: CsrfForm<SubmitForm>,
) -> AppResult<HttpResponse> {
    let code = match AccessCode::parse(&raw) {
        Ok(code) => code,
        Err(_) => {
            return Ok(code_problem(
                &req,
                StatusCode::NOT_FOUND,
                "respond.code_invalid",
            ));
        }
    };
    // Find the instrument through the code without requiring the round to be open: a replay
    // after a successful submission must still get its receipt.
    let secret = state.secret.clone();
    let lookup = code.clone();
    let instrument_id = state
        .db(move |conn| {
            let Some(row) = crate::db::access_codes::by_hash(
                conn,
                &crate::rounds::code_hash(&secret, &lookup),
            )?
            else {
                return Ok(None);
            };
            Ok(crate::db::rounds::groups(conn, row.round_id)?
                .into_iter()
                .find(|g| g.group_id == row.group_id)
                .map(|g| g.instrument_id))
        })
        .await?;
    let Some(instrument_id) = instrument_id else {
        return Ok(code_problem(
            &req,
            StatusCode::NOT_FOUND,
            "respond.code_unknown",
        ));
    };
    let instrument = state.instrument(instrument_id).await?;
    let secret = state.secret.clone();
    let key = form.data.submission_key;
    let for_submit = instrument.clone();
    let today = chrono::Utc::now().date_naive();
    let submit_code = code.clone();
    let outcome = state
        .db(move |conn| respond::submit(conn, &secret, &submit_code, &key, &for_submit, today))
        .await?;
    match outcome {
        Submitted::Receipt(receipt) => Ok(see_other(format!("/receipt/{receipt}"))),
        Submitted::Incomplete(errors) => {
            let (code, session) = match session(&req, &state, code.as_canonical()).await? {
                Ok(found) => found,
                Err(page) => return Ok(page),
            };
            let draft = session.draft.ok_or(AppError::NotFound)?;
            let answers = respond::draft_answers(&draft);
            let visible = respond::visible_sections(&instrument, &answers);
            let ctx = PageContext::new(&req, None);
            Ok(private_html(
                StatusCode::UNPROCESSABLE_ENTITY,
                views::respond::review(
                    &ctx,
                    code.as_canonical(),
                    &instrument,
                    &visible,
                    &answers,
                    &draft.submission_key,
                    &errors,
                ),
            ))
        }
        Submitted::AlreadyUsed => Ok(code_problem(&req, StatusCode::GONE, "respond.code_used")),
        Submitted::NotOpen => Ok(code_problem(
            &req,
            StatusCode::FORBIDDEN,
            "respond.not_open",
        )),
        Submitted::Stale => Ok(see_other(format!("/s/{}", code.as_canonical()))),
    }
}

/// `GET /receipt/{receipt}`.
pub async fn receipt(
    req: HttpRequest,
    state: web::Data<AppState>,
    receipt: web::Path<String>,
) -> AppResult<HttpResponse> {
    let receipt = receipt.into_inner();
    let lookup = receipt.clone();
    let exists = state
        .db(move |conn| Ok(crate::db::responses::receipt_exists(conn, &lookup)?))
        .await?;
    if !exists {
        return Err(AppError::NotFound);
    }
    let ctx = PageContext::new(&req, None);
    Ok(private_html(
        StatusCode::OK,
        views::respond::receipt(&ctx, &receipt),
    ))
}
