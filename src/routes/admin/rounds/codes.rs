//! Code sheets: access codes handed out (or reissued) once, as a printable page that also
//! saves them as a CSV file, or as the CSV file alone.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpResponse, web};
use serde::Deserialize;

use super::{act, refused, round_page};
use crate::app::auth::csrf::CsrfForm;
use crate::app::rounds::{self, IssuedCode, ReissueTarget};
use crate::db::rounds::RoundRow;
use crate::error::{AppError, AppResult};
use crate::routes::{Admins, Caller, Staff};
use crate::views::{self, PageContext};

/// The code issuing form.
#[derive(Debug, Deserialize)]
pub struct CodesForm {
    unit_id: String,
    format: String,
}

/// `POST /admin/rounds/{id}/codes`: gives codes to listed respondents who have none and
/// returns them at once, as a printable sheet or a CSV file; they are not stored in clear.
pub async fn issue_codes(
    staff: Staff<Admins>,
    id: web::Path<i64>,
    form: CsrfForm<CodesForm>,
) -> AppResult<HttpResponse> {
    let at = staff.caller();
    let round_id = id.into_inner();
    let unit_id = match form.data.unit_id.trim() {
        "" => None,
        raw => Some(
            raw.parse::<i64>()
                .map_err(|_| AppError::BadRequest("error.bad_request.body"))?,
        ),
    };
    let as_csv = form.data.format == "csv";
    let secret = at.state.secret.clone();
    let result = act(at, move |conn, actor| {
        rounds::issue_sheet(conn, &secret, round_id, unit_id, actor)
    })
    .await?;
    let (round, codes) = match result {
        Ok(issued) => issued,
        Err(errors) => {
            return Ok(refused(round_page(at, round_id, &errors, None).await?));
        }
    };
    let sheet = Sheet {
        round,
        codes,
        already_submitted: 0,
        reissued: false,
    };
    if as_csv {
        return csv_file(at, &sheet);
    }
    sheet_page(at, &sheet)
}

/// Codes just handed out, with what the page says about them.
struct Sheet {
    round: RoundRow,
    codes: Vec<IssuedCode>,
    already_submitted: usize,
    reissued: bool,
}

/// The file name of a round's code sheet.
fn file_name(round_id: i64) -> String {
    format!("ma-khao-sat-dot-{round_id}.csv")
}

/// The codes as a CSV download; no cache may keep it, since the codes exist in clear only here.
fn csv_file(at: Caller<'_>, sheet: &Sheet) -> AppResult<HttpResponse> {
    let lang = crate::i18n::Lang::of_request(at.req);
    let bytes = rounds::code_sheet_csv(&at.state.settings.base(), &sheet.codes, lang)?;
    let mut response =
        crate::routes::download(&file_name(sheet.round.id), "text/csv; charset=utf-8", bytes);
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    Ok(response)
}

/// The printable sheet, carrying the same codes as a `data:` CSV link so they can be saved
/// again without anything being stored; never cached.
fn sheet_page(at: Caller<'_>, sheet: &Sheet) -> AppResult<HttpResponse> {
    let Caller { req, state, user } = at;
    let ctx = PageContext::new(req, Some(user));
    let base = state.settings.base();
    let href = rounds::code_sheet_data_uri(&base, &sheet.codes, ctx.lang)?;
    let name = file_name(sheet.round.id);
    let extras = views::codes::SheetExtras {
        download_href: &href,
        download_name: &name,
        already_submitted: sheet.already_submitted,
        reissued: sheet.reissued,
    };
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(
            views::codes::code_sheet(&ctx, &sheet.round, &base, &sheet.codes, extras).into_string(),
        ))
}

/// Query of the reissue page.
#[derive(Debug, Deserialize)]
pub struct ReissueQuery {
    unit_id: Option<String>,
    /// One respondent only, ticked (a link from their line on another page).
    respondent: Option<i64>,
}

/// An optional unit id as a form sends it ("" for none).
fn unit_param(raw: Option<&str>) -> AppResult<Option<i64>> {
    match raw.map(str::trim) {
        None | Some("") => Ok(None),
        Some(raw) => raw
            .parse::<i64>()
            .map(Some)
            .map_err(|_| AppError::BadRequest("error.bad_request.body")),
    }
}

/// `GET /admin/rounds/{id}/codes/reissue`: the respondents who hold a code, to tick those
/// who need a new one, and the unit × group form.
pub async fn reissue_page(
    staff: Staff<Admins>,
    id: web::Path<i64>,
    query: web::Query<ReissueQuery>,
) -> AppResult<HttpResponse> {
    let shown = Shown {
        unit_id: unit_param(query.unit_id.as_deref())?,
        respondent_id: query.respondent,
    };
    reissue_form(staff.caller(), id.into_inner(), shown, &[], StatusCode::OK).await
}

/// Whom the reissue page lists: one unit, or one respondent (ticked), or everyone.
#[derive(Debug, Clone, Copy, Default)]
struct Shown {
    unit_id: Option<i64>,
    respondent_id: Option<i64>,
}

async fn reissue_form(
    at: Caller<'_>,
    round_id: i64,
    shown: Shown,
    errors: &[String],
    status: StatusCode,
) -> AppResult<HttpResponse> {
    let Caller { req, state, user } = at;
    let (round, units, holders) = state
        .db(move |conn| {
            rounds::reissue_page(conn, round_id, shown.unit_id, shown.respondent_id)
                .map_err(AppError::from)
        })
        .await?;
    let ctx = PageContext::new(req, Some(user));
    Ok(HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .body(
            views::codes::reissue(
                &ctx,
                &round,
                &units,
                &holders,
                (shown.unit_id, shown.respondent_id),
                errors,
            )
            .into_string(),
        ))
}

/// The reissue form: ticked respondents (`mode=chosen`, `respondent` repeated), or a whole
/// unit × group (`mode=unit_group`).
#[derive(Debug, Deserialize)]
pub struct ReissueForm {
    mode: String,
    unit_id: Option<String>,
    group: Option<String>,
}

/// `POST /admin/rounds/{id}/codes/reissue`: new codes in place of the chosen ones, handed out
/// once on a sheet; the old codes stop working at once and started answers are kept.
pub async fn reissue_codes(
    staff: Staff<Admins>,
    id: web::Path<i64>,
    form: CsrfForm<ReissueForm>,
) -> AppResult<HttpResponse> {
    let at = staff.caller();
    let round_id = id.into_inner();
    let unit_id = unit_param(form.data.unit_id.as_deref())?;
    let target = match form.data.mode.as_str() {
        "chosen" => {
            let ids = form
                .fields
                .iter()
                .filter(|(k, _)| k == "respondent")
                .map(|(_, v)| v.trim().parse::<i64>())
                .collect::<Result<Vec<_>, _>>()
                .map_err(|_| AppError::BadRequest("error.bad_request.body"))?;
            ReissueTarget::Respondents(ids)
        }
        "unit_group" => ReissueTarget::UnitGroup {
            unit_id: unit_id.ok_or(AppError::BadRequest("error.bad_request.body"))?,
            group: form.data.group.clone().unwrap_or_default(),
        },
        _ => return Err(AppError::BadRequest("error.bad_request.body")),
    };
    let secret = at.state.secret.clone();
    let result = act(at, move |conn, actor| {
        rounds::reissue_sheet(conn, &secret, round_id, &target, actor)
    })
    .await?;
    match result {
        Ok((round, reissued)) => sheet_page(
            at,
            &Sheet {
                round,
                codes: reissued.codes,
                already_submitted: reissued.already_submitted,
                reissued: true,
            },
        ),
        Err(errors) => {
            reissue_form(
                at,
                round_id,
                Shown {
                    unit_id,
                    respondent_id: None,
                },
                &errors,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
    }
}
