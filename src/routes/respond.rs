//! Respondent routes under `/s/`: code entry, the first page, one page per section, review,
//! submission and the receipt. Codes travel in the path; logs record only route patterns, so
//! no code is ever written to a log. Every route with a code in its path takes it through
//! [`respond::open`] first, so each is throttled and answers a wrong code the same way.

use std::sync::Arc;

use crate::routes::{client_ip, private_html, see_other};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

use crate::app::auth::csrf::CsrfForm;
use crate::app::respond::{self, CodeState, Destination, Nav, SectionStep, Session, Submitted};
use crate::app::state::AppState;
use crate::db::drafts::DraftRow;
use crate::domain::access_code::{AccessCode, OPEN_LINK_CODE_DAYS};
use crate::domain::answers::{Answers, FieldError, decode_section};
use crate::domain::instrument::Instrument;
use crate::error::{AppError, AppResult};
use crate::views::{self, PageContext};

/// A friendly page for a code that does not open a questionnaire; the message may say how
/// many days a public-link code lasts (`{days}`).
fn code_problem(req: &HttpRequest, status: StatusCode, key: &str) -> HttpResponse {
    let ctx = PageContext::new(req, None);
    let days = OPEN_LINK_CODE_DAYS.to_string();
    private_html(
        status,
        views::home::notice_page_with(&ctx, "respond.problem_title", key, &[("days", &days)]),
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
        CodeState::Expired => Err((StatusCode::GONE, "respond.code_expired")),
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

/// A started questionnaire: the code's session with its draft, the instrument, the answers
/// so far and the sections they make visible.
struct Opened {
    session: Session,
    draft: DraftRow,
    instrument: Arc<Instrument>,
    answers: Answers,
    visible: Vec<usize>,
}

/// Opens a session's draft; a code whose answering has not started goes to its first page.
async fn with_draft(state: &AppState, session: Session) -> AppResult<Result<Opened, HttpResponse>> {
    let Some(draft) = session.draft.clone() else {
        return Ok(Err(see_other(format!(
            "/s/{}",
            session.code.as_canonical()
        ))));
    };
    let instrument = state.instrument(session.instrument_id).await?;
    let answers = respond::draft_answers(&draft);
    let visible = respond::visible_sections(&instrument, &answers);
    Ok(Ok(Opened {
        session,
        draft,
        instrument,
        answers,
        visible,
    }))
}

/// The started questionnaire behind the code in the path, or the page to show instead: the
/// opening of every respondent page after the first.
async fn opened(
    req: &HttpRequest,
    state: &AppState,
    raw: &str,
) -> AppResult<Result<Opened, HttpResponse>> {
    match session(req, state, raw).await? {
        Ok(found) => with_draft(state, found).await,
        Err(page) => Ok(Err(page)),
    }
}

/// The review page of a started questionnaire, with the problems that block submission.
fn review_page(
    req: &HttpRequest,
    o: &Opened,
    status: StatusCode,
    errors: &[FieldError],
) -> HttpResponse {
    let ctx = PageContext::new(req, None);
    private_html(
        status,
        views::respond::review(
            &ctx,
            o.session.code.as_canonical(),
            &o.instrument,
            &o.visible,
            &o.answers,
            &o.draft.submission_key,
            errors,
        ),
    )
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

pub use crate::app::auth::csrf::EmptyForm;

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
        .write(move |conn| respond::ensure_draft(conn, &session, lang))
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
    let o = match opened(&req, &state, &raw).await? {
        Ok(o) => o,
        Err(page) => return Ok(page),
    };
    let canonical = o.session.code.as_canonical();
    let index = n.saturating_sub(1);
    if !o.visible.contains(&index) {
        let first = o.visible.first().copied().unwrap_or(0);
        return Ok(see_other(format!("/s/{canonical}/p/{}", first + 1)));
    }
    let ctx = PageContext::new(&req, None);
    Ok(private_html(
        StatusCode::OK,
        views::respond::section_page(
            &ctx,
            canonical,
            &o.instrument,
            index,
            &o.visible,
            &o.answers,
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
    let o = match opened(&req, &state, &raw).await? {
        Ok(o) => o,
        Err(page) => return Ok(page),
    };
    let canonical = o.session.code.as_canonical().to_owned();
    let index = n.saturating_sub(1);
    let Some(section) = o.instrument.sections().get(index) else {
        return Err(AppError::NotFound);
    };
    let nav = Nav::parse(form.data.nav.as_deref());
    let decoded = decode_section(section, &form.fields, &o.answers);
    let answers =
        respond::merge_section(&o.instrument, section, o.answers.clone(), &decoded.answers);
    let visible = respond::visible_sections(&o.instrument, &answers);
    let lang = crate::i18n::Lang::of_request(&req);
    let reveals = respond::reveals_unanswered_question(section, &o.answers, &answers);
    let errors = respond::errors_on_seen_questions(section, &o.answers, decoded.errors);
    let step = respond::step_after_section(&visible, index, nav, !errors.is_empty(), reveals);
    let code_id = o.session.code_id;
    let SectionStep::Go { resume_at, to } = step else {
        // Keep the valid answers, show the page again with every problem.
        let to_save = answers.clone();
        state
            .write(move |conn| respond::save(conn, code_id, &to_save, index, lang.code()))
            .await?;
        let ctx = PageContext::new(&req, None);
        let page = views::respond::section_page(
            &ctx,
            &canonical,
            &o.instrument,
            index,
            &visible,
            &answers,
            &errors,
            Some(&form.fields),
        );
        let status = if errors.is_empty() {
            StatusCode::OK
        } else {
            StatusCode::UNPROCESSABLE_ENTITY
        };
        return Ok(private_html(status, page));
    };
    state
        .write(move |conn| respond::save(conn, code_id, &answers, resume_at, lang.code()))
        .await?;
    Ok(see_other(match to {
        Destination::Section(i) => format!("/s/{canonical}/p/{}", i + 1),
        Destination::Intro => format!("/s/{canonical}"),
        Destination::Review => format!("/s/{canonical}/review"),
    }))
}

/// `GET /s/{code}/review`.
pub async fn review(
    req: HttpRequest,
    state: web::Data<AppState>,
    code: web::Path<String>,
) -> AppResult<HttpResponse> {
    Ok(match opened(&req, &state, &code).await? {
        Ok(o) => review_page(&req, &o, StatusCode::OK, &[]),
        Err(page) => page,
    })
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
        .write(move |conn| respond::submit(conn, &secret, &code, &key, &for_submit, today))
        .await?;
    let canonical = session.code.as_canonical();
    match outcome {
        Submitted::Receipt(receipt) => Ok(see_other(format!("/receipt/{receipt}"))),
        Submitted::Incomplete(errors) => {
            // Nothing was stored, so the draft read on the way in is still current.
            if session.draft.is_none() {
                return Err(AppError::NotFound);
            }
            match with_draft(&state, session.clone()).await? {
                Ok(o) => Ok(review_page(
                    &req,
                    &o,
                    StatusCode::UNPROCESSABLE_ENTITY,
                    &errors,
                )),
                Err(page) => Ok(page),
            }
        }
        Submitted::AlreadyUsed => Ok(code_problem(&req, StatusCode::GONE, "respond.code_used")),
        Submitted::NotOpen => Ok(code_problem(
            &req,
            StatusCode::FORBIDDEN,
            "respond.not_open",
        )),
        Submitted::Expired => Ok(code_problem(&req, StatusCode::GONE, "respond.code_expired")),
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
        .db(move |conn| respond::receipt_exists(conn, &lookup))
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
