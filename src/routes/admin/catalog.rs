//! Admin routes for questionnaires (instruments) and methodologies: list, import, preview,
//! export and diff. Everyone logged in may read; only administrators import.

use actix_multipart::Multipart;
use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use maud::Markup;
use serde::Deserialize;

use crate::app::auth::session::CurrentUser;
use crate::app::catalog::{self, CatalogKind, ImportError, Imported};
use crate::app::state::AppState;
use crate::db::AnyConnection;
use crate::domain::account::Role;
use crate::domain::instrument::diff;
use crate::error::{AppError, AppResult};
use crate::i18n::Lang;
use crate::routes::db_as;
use crate::routes::upload::{Upload, read_upload};
use crate::routes::{Admins, AnyRole, Staff};
use crate::views::catalog::ListMessages;
use crate::views::{self, PageContext};

async fn list_page(
    req: &HttpRequest,
    state: &AppState,
    user: &CurrentUser,
    messages: &ListMessages,
) -> AppResult<Markup> {
    let (instruments, methodologies) = state.db(catalog::listing).await?;
    let ctx = PageContext::new(req, Some(user));
    Ok(views::catalog::list(
        &ctx,
        &instruments,
        &methodologies,
        user.role == Role::Admin,
        messages,
    ))
}

/// What `load` finds of a stored questionnaire or methodology, for a user who may read the
/// catalogue; 404 when it finds nothing.
async fn read_stored<T, F>(state: &AppState, load: F) -> AppResult<T>
where
    F: FnOnce(&mut AnyConnection) -> AppResult<Option<T>> + Send + 'static,
    T: Send + 'static,
{
    state.db(load).await?.ok_or(AppError::NotFound)
}

/// `GET /admin/instruments`: instruments and methodologies.
pub async fn list(Staff(req, state, user, ..): Staff<AnyRole>) -> AppResult<Markup> {
    list_page(&req, &state, &user, &ListMessages::default()).await
}

async fn import(
    Staff(req, state, user, ..): Staff<Admins>,
    multipart: Multipart,
    kind: CatalogKind,
) -> AppResult<HttpResponse> {
    let upload = read_upload(&req, multipart, catalog::max_upload_bytes()).await?;
    let file_name = upload.file_name.clone();
    let options = match xlsform_options(&upload) {
        Ok(options) => options,
        Err(key) => {
            let lang = Lang::of_request(&req);
            let messages = ListMessages {
                errors: vec![crate::i18n::t(lang, key).to_owned()],
                warnings: None,
            };
            let page = list_page(&req, &state, &user, &messages).await?;
            return Ok(crate::routes::html(StatusCode::UNPROCESSABLE_ENTITY, page));
        }
    };
    let lang = Lang::of_request(&req);
    // Parsing an XLSForm or a large TOML is CPU work: keep it off the executor too.
    let outcome = db_as(&state, &user, move |conn, actor| {
        let result = match kind {
            CatalogKind::Instrument => {
                catalog::check_instrument_with(&file_name, &upload.bytes, &options).and_then(|c| {
                    let warnings: Vec<String> = c.warnings.iter().map(|w| w.text(lang)).collect();
                    catalog::import_instrument(conn, &file_name, &c, false, actor)
                        .map(|imported| (imported, warnings))
                })
            }
            CatalogKind::Methodology => catalog::check_methodology(&file_name, &upload.bytes)
                .and_then(|c| catalog::import_methodology(conn, &file_name, &c, false, actor))
                .map(|imported| (imported, Vec::new())),
        };
        Ok(result)
    })
    .await?;
    let base = match kind {
        CatalogKind::Instrument => "/admin/instruments",
        CatalogKind::Methodology => "/admin/methodologies",
    };
    match outcome {
        // Remarks must be read before anything else: the list page shows them with a link to
        // the stored version instead of redirecting.
        Ok((imported, warnings)) if !warnings.is_empty() => {
            let messages = ListMessages {
                errors: Vec::new(),
                warnings: Some((imported.id(), warnings)),
            };
            let page = list_page(&req, &state, &user, &messages).await?;
            Ok(crate::routes::html(StatusCode::OK, page))
        }
        Ok((imported, _)) => {
            let notice = match imported {
                Imported::New(_) => "new",
                Imported::AlreadyPresent(_) => "existing",
            };
            Ok(HttpResponse::SeeOther()
                .insert_header((
                    header::LOCATION,
                    format!("{base}/{}?imported={notice}", imported.id()),
                ))
                .finish())
        }
        Err(ImportError::App(e)) => Err(e),
        Err(e) => {
            let errors = e.messages(lang);
            let messages = ListMessages {
                errors,
                warnings: None,
            };
            let page = list_page(&req, &state, &user, &messages).await?;
            Ok(crate::routes::html(StatusCode::UNPROCESSABLE_ENTITY, page))
        }
    }
}

/// The code, version and group chosen on the import page (empty fields choose nothing), or
/// the message key of a version that is not a whole number.
fn xlsform_options(
    upload: &Upload,
) -> Result<crate::domain::xlsform::XlsFormOptions, &'static str> {
    let field = |name: &str| upload.field(name).map(str::trim).filter(|v| !v.is_empty());
    let version = match field("version") {
        None => None,
        Some(v) => match v.parse::<u32>() {
            Ok(n) if n >= 1 => Some(n),
            _ => return Err("catalog.import_bad_version"),
        },
    };
    Ok(crate::domain::xlsform::XlsFormOptions {
        code: field("code").map(str::to_owned),
        version,
        group: field("group").and_then(crate::domain::instrument::RespondentGroup::from_code),
    })
}

/// `POST /admin/instruments/import` (multipart): a TOML instrument or an XLSForm workbook.
pub async fn import_instrument(
    staff: Staff<Admins>,
    multipart: Multipart,
) -> AppResult<HttpResponse> {
    import(staff, multipart, CatalogKind::Instrument).await
}

/// `POST /admin/methodologies/import` (multipart).
pub async fn import_methodology(
    staff: Staff<Admins>,
    multipart: Multipart,
) -> AppResult<HttpResponse> {
    import(staff, multipart, CatalogKind::Methodology).await
}

/// Query of the detail pages.
#[derive(Debug, Deserialize)]
pub struct DetailQuery {
    lang: Option<String>,
    imported: Option<String>,
}

fn import_notice(query: &DetailQuery) -> Option<&'static str> {
    match query.imported.as_deref() {
        Some("new") => Some("catalog.imported_new"),
        Some("existing") => Some("catalog.imported_existing"),
        _ => None,
    }
}

/// `GET /admin/instruments/{id}?lang=vi|en`: the preview.
pub async fn show_instrument(
    Staff(req, state, user, ..): Staff<AnyRole>,
    id: web::Path<i64>,
    query: web::Query<DetailQuery>,
) -> AppResult<Markup> {
    let id = id.into_inner();
    let (stored, versions) = read_stored(&state, move |conn| {
        catalog::instrument_with_versions(conn, id)
    })
    .await?;
    let ctx = PageContext::new(&req, Some(&user));
    let preview_lang = query
        .lang
        .as_deref()
        .and_then(Lang::from_code)
        .unwrap_or(ctx.lang);
    Ok(views::catalog::instrument_preview(
        &ctx,
        &stored,
        preview_lang,
        &versions,
        import_notice(&query),
    ))
}

/// `GET /admin/instruments/{id}/export`: the TOML file.
pub async fn export_instrument(
    Staff(_, state, ..): Staff<AnyRole>,
    id: web::Path<i64>,
) -> AppResult<HttpResponse> {
    export_file(&state, id.into_inner(), CatalogKind::Instrument).await
}

/// `GET /admin/instruments/{id}/xlsform`: the questionnaire as an XLSForm workbook for ODK
/// Collect and KoboCollect.
pub async fn export_instrument_xlsform(
    Staff(_, state, ..): Staff<AnyRole>,
    id: web::Path<i64>,
) -> AppResult<HttpResponse> {
    let id = id.into_inner();
    // Writing the workbook is CPU work: off the executor with the database read.
    let (name, bytes) = read_stored(&state, move |conn| catalog::xlsform_file(conn, id)).await?;
    Ok(crate::routes::download(&name, XLSX_CONTENT_TYPE, bytes))
}

/// The media type of an `.xlsx` workbook.
const XLSX_CONTENT_TYPE: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// A stored version's TOML file, as it was imported.
async fn export_file(state: &AppState, id: i64, kind: CatalogKind) -> AppResult<HttpResponse> {
    let (name, text) = read_stored(state, move |conn| catalog::source_file(conn, kind, id)).await?;
    Ok(crate::routes::download(
        &name,
        "application/toml; charset=utf-8",
        text,
    ))
}

/// Query of the diff page.
#[derive(Debug, Deserialize)]
pub struct DiffQuery {
    against: i64,
}

/// `GET /admin/instruments/{id}/diff?against=OTHER`: what changed from OTHER to this version.
pub async fn diff_instruments(
    Staff(req, state, user, ..): Staff<AnyRole>,
    id: web::Path<i64>,
    query: web::Query<DiffQuery>,
) -> AppResult<Markup> {
    let (id, against) = (id.into_inner(), query.against);
    let (newer, older) = state
        .db(move |conn| {
            Ok((
                catalog::load_instrument(conn, id)?,
                catalog::load_instrument(conn, against)?,
            ))
        })
        .await?;
    let (newer, older) = (
        newer.ok_or(AppError::NotFound)?,
        older.ok_or(AppError::NotFound)?,
    );
    let entries = diff(&older.instrument, &newer.instrument);
    let ctx = PageContext::new(&req, Some(&user));
    Ok(views::catalog::instrument_diff(
        &ctx, &older, &newer, &entries,
    ))
}

/// `GET /admin/methodologies/{id}`.
pub async fn show_methodology(
    Staff(req, state, user, ..): Staff<AnyRole>,
    id: web::Path<i64>,
    query: web::Query<DetailQuery>,
) -> AppResult<Markup> {
    let id = id.into_inner();
    let stored = read_stored(&state, move |conn| catalog::load_methodology(conn, id)).await?;
    let ctx = PageContext::new(&req, Some(&user));
    Ok(views::catalog::methodology_view(
        &ctx,
        &stored,
        import_notice(&query),
    ))
}

/// `GET /admin/methodologies/{id}/export`: the TOML file.
pub async fn export_methodology(
    Staff(_, state, ..): Staff<AnyRole>,
    id: web::Path<i64>,
) -> AppResult<HttpResponse> {
    export_file(&state, id.into_inner(), CatalogKind::Methodology).await
}
