//! Code sheets: access codes handed out once, as a printable page or a CSV file.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

use super::{act, refused, round_page};
use crate::app::auth::csrf::CsrfForm;
use crate::app::auth::session::CurrentUser;
use crate::app::rounds::{self, RoundError};
use crate::app::state::AppState;
use crate::db;
use crate::domain::account::Role;
use crate::error::{AppError, AppResult};
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
    let result = act(&req, &state, &user, move |conn, actor| {
        let round = db::rounds::by_id(conn, round_id)?.ok_or(RoundError::NotFound)?;
        let codes = rounds::issue_codes(conn, &secret, round_id, false, unit_id, actor)?;
        Ok((round, codes))
    })
    .await?;
    let (round, codes) = match result {
        Ok(issued) => issued,
        Err(errors) => {
            return Ok(refused(
                round_page(&req, &state, &user, round_id, &errors, None).await?,
            ));
        }
    };
    let base = state.settings.base();
    if as_csv {
        let bytes = rounds::code_sheet_csv(&base, &codes)?;
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
