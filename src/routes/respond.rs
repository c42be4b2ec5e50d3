//! Respondent routes under `/s/`: code entry, the first page, one page per section, review,
//! submission and the receipt. Codes travel in the path; logs record only route patterns, so
//! no code is ever written to a log. Every route with a code in its path takes it through
//! [`respond::open`] first, so each is throttled and answers a wrong code the same way.

use crate::routes::{client_ip, private_html, see_other};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

use crate::app::auth::csrf::CsrfForm;
use crate::app::respond::{self, CodeState, Session, Submitted};
use crate::domain::access_code::AccessCode;
use crate::domain::answers::decode_section;
use crate::error::{AppError, AppResult};
use crate::server::state::AppState;
use crate::views::{self, PageContext};

/// A friendly page for a code that does not open a questionnaire.
fn code_problem(req: &HttpRequest, status: StatusCode, key: &str) -> HttpResponse {
    let ctx = PageContext::new(req, None);
    private_html(
        status,
        views::home::notice_page(&ctx, "respond.problem_title", key),
    )
}

/// What the code in the path opens, through the one door every `/s/{code}` route takes
/// ([`respond::open`]: throttle, check character, lookup).
async fn open(req: &HttpRequest, state: &AppState, raw: &str) -> AppResult<CodeState> {
    let client = client_ip(req, &state.settings);
    let secret = state.secret.clone();
    let raw = raw.to_owned();
    state
        .db(move |conn| respond::open(conn, &secret, &client, &raw))
        .await
}

/// The session of a code that opens the questionnaire, or the status and message of the page
/// to show instead. A mistyped and an unknown code get the same page and status; only the
/// holder of a real code learns that it was used or that its round is closed.
fn ready(found: CodeState) -> Result<Session, (StatusCode, &'static str)> {
    match found {
        CodeState::Ready(session) => Ok(*session),
        CodeState::Used => Err((StatusCode::GONE, "respond.code_used")),
        CodeState::NotOpen(_) => Err((StatusCode::FORBIDDEN, "respond.not_open")),
        CodeState::Unknown => Err((StatusCode::NOT_FOUND, "respond.code_unknown")),
    }
}

/// The session behind the code in the path, or the page to show instead.
async fn session(
    req: &HttpRequest,
    state: &AppState,
    raw: &str,
) -> AppResult<Result<Session, HttpResponse>> {
    Ok(ready(open(req, state, raw).await?).map_err(|(status, key)| code_problem(req, status, key)))
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
            let client = client_ip(&req, &state.settings);
            state
                .db(move |conn| respond::count_mistyped(conn, &client))
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
    let session = match session(&req, &state, &code).await? {
        Ok(found) => found,
        Err(page) => return Ok(page),
    };
    let instrument = state.instrument(session.instrument_id).await?;
    let ctx = PageContext::new(&req, None);
    Ok(private_html(
        StatusCode::OK,
        views::respond::intro(
            &ctx,
            session.code.as_canonical(),
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
    let session = match session(&req, &state, &code).await? {
        Ok(found) => found,
        Err(page) => return Ok(page),
    };
    let lang = crate::i18n::Lang::of_request(&req).code();
    let canonical = session.code.as_canonical().to_owned();
    let draft = state
        .db(move |conn| respond::ensure_draft(conn, &session, lang))
        .await?;
    let section = usize::try_from(draft.section).unwrap_or(0);
    Ok(see_other(format!("/s/{canonical}/p/{}", section + 1)))
}

/// `GET /s/{code}/p/{n}`: section n (1-based).
pub async fn section(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, usize)>,
) -> AppResult<HttpResponse> {
    let (raw, n) = path.into_inner();
    let session = match session(&req, &state, &raw).await? {
        Ok(found) => found,
        Err(page) => return Ok(page),
    };
    let Some(draft) = &session.draft else {
        return Ok(see_other(format!("/s/{}", session.code.as_canonical())));
    };
    let instrument = state.instrument(session.instrument_id).await?;
    let answers = respond::draft_answers(draft);
    let visible = respond::visible_sections(&instrument, &answers);
    let index = n.saturating_sub(1);
    let Some(position) = visible.iter().position(|&i| i == index) else {
        let first = visible.first().copied().unwrap_or(0);
        return Ok(see_other(format!(
            "/s/{}/p/{}",
            session.code.as_canonical(),
            first + 1
        )));
    };
    let ctx = PageContext::new(&req, None);
    Ok(private_html(
        StatusCode::OK,
        views::respond::section_page(
            &ctx,
            session.code.as_canonical(),
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
    let session = match session(&req, &state, &raw).await? {
        Ok(found) => found,
        Err(page) => return Ok(page),
    };
    let canonical = session.code.as_canonical().to_owned();
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
    let session = match session(&req, &state, &code).await? {
        Ok(found) => found,
        Err(page) => return Ok(page),
    };
    let Some(draft) = &session.draft else {
        return Ok(see_other(format!("/s/{}", session.code.as_canonical())));
    };
    let instrument = state.instrument(session.instrument_id).await?;
    let answers = respond::draft_answers(draft);
    let visible = respond::visible_sections(&instrument, &answers);
    let ctx = PageContext::new(&req, None);
    Ok(private_html(
        StatusCode::OK,
        views::respond::review(
            &ctx,
            session.code.as_canonical(),
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

/// `POST /s/{code}/submit`: stores the response once; a replay shows the same receipt. The code
/// goes through the same door as every other respondent route, so guessing here is throttled
/// and answered exactly as on `GET /s/{code}`.
pub async fn submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    raw: web::Path<String>,
    form: CsrfForm<SubmitForm>,
) -> AppResult<HttpResponse> {
    let key = form.data.submission_key;
    let found = open(&req, &state, &raw).await?;
    if matches!(found, CodeState::Used) {
        // A replay after the code was used (double click, reload) still gets its receipt.
        let lookup = key.clone();
        let receipt = state
            .db(move |conn| respond::replayed_receipt(conn, &lookup))
            .await?;
        if let Some(receipt) = receipt {
            return Ok(see_other(format!("/receipt/{receipt}")));
        }
    }
    let session = match ready(found) {
        Ok(found) => found,
        Err((status, key)) => return Ok(code_problem(&req, status, key)),
    };
    let instrument = state.instrument(session.instrument_id).await?;
    let secret = state.secret.clone();
    let for_submit = instrument.clone();
    let today = chrono::Utc::now().date_naive();
    let code = session.code.clone();
    let outcome = state
        .db(move |conn| respond::submit(conn, &secret, &code, &key, &for_submit, today))
        .await?;
    let canonical = session.code.as_canonical();
    match outcome {
        Submitted::Receipt(receipt) => Ok(see_other(format!("/receipt/{receipt}"))),
        Submitted::Incomplete(errors) => {
            // Nothing was stored, so the draft read on the way in is still current.
            let draft = session.draft.as_ref().ok_or(AppError::NotFound)?;
            let answers = respond::draft_answers(draft);
            let visible = respond::visible_sections(&instrument, &answers);
            let ctx = PageContext::new(&req, None);
            Ok(private_html(
                StatusCode::UNPROCESSABLE_ENTITY,
                views::respond::review(
                    &ctx,
                    canonical,
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
        Submitted::Stale => Ok(see_other(format!("/s/{canonical}"))),
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
