//! Importing field submissions (ODK Central, KoboToolbox exports) into a round: the upload
//! page, the preview and the confirm. Who may import, and every check, live in
//! [`crate::app::field_import`].

use actix_multipart::Multipart;
use actix_web::{HttpResponse, web};
use serde::Deserialize;

use crate::app::field_import::{self, SubmissionFile};
use crate::domain::field_submissions::MAX_CSV_BYTES;
use crate::domain::lifecycle::RoundAction;
use crate::error::{AppError, AppResult};
use crate::i18n::Lang;
use crate::routes::upload::read_upload;
use crate::routes::{AnyRole, Caller, IdPost, PreviewToken, Staff};
use crate::routes::{db_as, private_html, see_other, unprocessable_if};
use crate::views::field::FieldPage;
use crate::views::{self, PageContext};

/// Query of the field page after an import.
#[derive(Debug, Deserialize)]
pub struct FieldQuery {
    stored: Option<usize>,
    already: Option<usize>,
}

/// The page with the upload form, showing `errors` (422 when there are any).
async fn upload_page(
    Caller { req, state, user }: Caller<'_>,
    round_id: i64,
    done: Option<(usize, usize)>,
    errors: &[String],
) -> AppResult<HttpResponse> {
    let (round, units, groups) = db_as(state, user, move |conn, actor| {
        Ok(field_import::import_scope(conn, round_id, actor)?)
    })
    .await?;
    let ctx = PageContext::new(req, Some(user));
    Ok(private_html(
        unprocessable_if(!errors.is_empty()),
        views::field::upload(
            &ctx,
            &FieldPage {
                round: &round,
                units: &units,
                groups: &groups,
                done,
                errors,
            },
        ),
    ))
}

/// `GET /admin/rounds/{id}/field`: the upload form (and what the last import stored). Every
/// signed-in role reaches the use case, which refuses by the permission table.
pub async fn page(
    staff: Staff<AnyRole>,
    id: web::Path<i64>,
    query: web::Query<FieldQuery>,
) -> AppResult<HttpResponse> {
    let done = query.stored.map(|s| (s, query.already.unwrap_or(0)));
    upload_page(staff.caller(), id.into_inner(), done, &[]).await
}

/// `POST /admin/rounds/{id}/field` (multipart: the export, and optionally `unit` and
/// `group`): checks the file and shows a preview; nothing is stored until it is confirmed. A
/// file with problems answers 422.
pub async fn upload(
    staff: Staff<AnyRole>,
    id: web::Path<i64>,
    multipart: Multipart,
) -> AppResult<HttpResponse> {
    let at = staff.caller();
    let Caller { req, state, user } = at;
    // Refused before a large file is read in vain.
    if !RoundAction::ImportSubmissions.allowed_for(user.role) {
        return Err(AppError::Forbidden);
    }
    let round_id = id.into_inner();
    let upload = read_upload(req, multipart, MAX_CSV_BYTES).await?;
    let result = db_as(state, user, move |conn, actor| {
        let file = SubmissionFile {
            round_id,
            file_name: &upload.file_name,
            bytes: &upload.bytes,
            unit: upload.field("unit"),
            group: upload.field("group"),
        };
        Ok(field_import::preview_submissions(conn, file, actor))
    })
    .await?;
    let lang = Lang::of_request(req);
    match result {
        Ok(preview) => {
            let ctx = PageContext::new(req, Some(user));
            Ok(private_html(
                unprocessable_if(!preview.errors.is_empty()),
                views::field::preview(&ctx, &preview),
            ))
        }
        Err(e) => {
            let errors = e.messages(lang)?;
            upload_page(at, round_id, None, &errors).await
        }
    }
}

/// `POST /admin/rounds/{id}/field/confirm`: stores exactly the previewed submissions.
pub async fn confirm(post: IdPost<PreviewToken>) -> AppResult<HttpResponse> {
    let (round_id, token) = (post.id, post.form.token.clone());
    let at = post.caller();
    let result = db_as(at.state, at.user, move |conn, actor| {
        Ok(field_import::confirm_submissions(
            conn, round_id, &token, actor,
        ))
    })
    .await?;
    match result {
        Ok(outcome) => Ok(see_other(format!(
            "/admin/rounds/{round_id}/field?stored={}&already={}",
            outcome.stored, outcome.already
        ))),
        Err(e) => {
            let errors = e.messages(Lang::of_request(at.req))?;
            upload_page(at, round_id, None, &errors).await
        }
    }
}
