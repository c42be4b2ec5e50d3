//! HTTP routes: thin handlers that parse input into domain types, run database work through
//! `AppState::db` and render a view. The route table lives in [`configure`].

pub mod admin;
pub mod api;
mod extract;
pub mod health;
pub mod middleware;
pub mod public;
pub mod respond;
pub mod results;
pub mod upload;

use actix_web::web;

pub use extract::{
    Admins, AnyRole, Caller, DataWork, Fieldwork, IdButton, IdPost, PreviewToken, RoleSet, Staff,
};

use crate::error::AppError;

/// Registers every route of the application.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::get().to(public::home))
        .route("/lang/{code}", web::get().to(public::switch_language))
        .route("/assets/{hash}/{name}", web::get().to(public::asset))
        .route("/healthz", web::get().to(health::healthz))
        .route("/readyz", web::get().to(health::readyz))
        .route("/metrics", web::get().to(health::metrics))
        .route("/admin", web::get().to(admin::dashboard::show))
        .route("/admin/login", web::get().to(admin::login::form))
        .route("/admin/login", web::post().to(admin::login::submit))
        .route("/admin/logout", web::post().to(admin::login::logout))
        .route("/admin/setup/{token}", web::get().to(admin::setup::form))
        .route("/admin/setup/{token}", web::post().to(admin::setup::submit))
        .route(
            "/admin/welcome/{token}",
            web::get().to(admin::welcome::form),
        )
        .route(
            "/admin/welcome/{token}",
            web::post().to(admin::welcome::submit),
        )
        .route("/admin/instruments", web::get().to(admin::catalog::list))
        .route(
            "/admin/instruments/import",
            web::post().to(admin::catalog::import_instrument),
        )
        .route(
            "/admin/instruments/{id}",
            web::get().to(admin::catalog::show_instrument),
        )
        .route(
            "/admin/instruments/{id}/export",
            web::get().to(admin::catalog::export_instrument),
        )
        .route(
            "/admin/instruments/{id}/xlsform",
            web::get().to(admin::catalog::export_instrument_xlsform),
        )
        .route(
            "/admin/instruments/{id}/diff",
            web::get().to(admin::catalog::diff_instruments),
        )
        .route(
            "/admin/methodologies/import",
            web::post().to(admin::catalog::import_methodology),
        )
        .route(
            "/admin/methodologies/{id}",
            web::get().to(admin::catalog::show_methodology),
        )
        .route(
            "/admin/methodologies/{id}/export",
            web::get().to(admin::catalog::export_methodology),
        )
        .route("/admin/units", web::get().to(admin::rounds::unit_sets))
        .route("/admin/units", web::post().to(admin::rounds::import_units))
        .route("/admin/rounds", web::get().to(admin::rounds::list))
        .route("/admin/rounds", web::post().to(admin::rounds::create))
        .route("/admin/rounds/{id}", web::get().to(admin::rounds::show))
        .route(
            "/admin/rounds/{id}/edit",
            web::get().to(admin::rounds::edit_form),
        )
        .route(
            "/admin/rounds/{id}/edit",
            web::post().to(admin::rounds::edit),
        )
        .route(
            "/admin/rounds/{id}/delete",
            web::get().to(admin::rounds::delete_form),
        )
        .route(
            "/admin/rounds/{id}/delete",
            web::post().to(admin::rounds::delete),
        )
        .route(
            "/admin/rounds/{id}/groups",
            web::post().to(admin::rounds::set_group),
        )
        .route(
            "/admin/rounds/{id}/targets",
            web::post().to(admin::rounds::set_targets),
        )
        .route(
            "/admin/rounds/{id}/actions/{action}",
            web::get().to(admin::rounds::actions::confirm),
        )
        .route(
            "/admin/rounds/{id}/actions/{action}",
            web::post().to(admin::rounds::actions::take),
        )
        .route(
            "/admin/rounds/{id}/actions/{action}/done",
            web::get().to(admin::rounds::actions::done),
        )
        .route(
            "/admin/rounds/{id}/respondents",
            web::post().to(admin::rounds::import_respondents),
        )
        .route(
            "/admin/rounds/{id}/respondents/template.{ext}",
            web::get().to(admin::rounds::respondent_template),
        )
        .route(
            "/admin/rounds/{id}/respondents/confirm",
            web::post().to(admin::rounds::confirm_respondents),
        )
        .route(
            "/admin/rounds/{id}/respondents",
            web::get().to(admin::rounds::roster),
        )
        .route(
            "/admin/rounds/{id}/respondents/{respondent}/edit",
            web::get().to(admin::rounds::edit_respondent_form),
        )
        .route(
            "/admin/rounds/{id}/respondents/{respondent}/edit",
            web::post().to(admin::rounds::edit_respondent),
        )
        .route(
            "/admin/rounds/{id}/respondents/{respondent}/remove",
            web::get().to(admin::rounds::remove_respondent_form),
        )
        .route(
            "/admin/rounds/{id}/respondents/{respondent}/remove",
            web::post().to(admin::rounds::remove_respondent),
        )
        .route(
            "/admin/rounds/{id}/codes",
            web::post().to(admin::rounds::issue_codes),
        )
        .route(
            "/admin/rounds/{id}/codes/reissue",
            web::get().to(admin::rounds::reissue_page),
        )
        .route(
            "/admin/rounds/{id}/codes/reissue",
            web::post().to(admin::rounds::reissue_codes),
        )
        .route(
            "/admin/rounds/{id}/invitations",
            web::post().to(admin::rounds::send_invitations),
        )
        .route(
            "/admin/rounds/{id}/reminders",
            web::post().to(admin::rounds::send_reminders),
        )
        .route(
            "/admin/rounds/{id}/open-links",
            web::post().to(admin::rounds::set_open_link),
        )
        .route(
            "/admin/rounds/{id}/coverage",
            web::get().to(admin::rounds::coverage),
        )
        .route(
            "/admin/rounds/{id}/sample",
            web::get().to(admin::rounds::sample_page),
        )
        .route(
            "/admin/rounds/{id}/sample/commit",
            web::post().to(admin::rounds::commit_sample),
        )
        .route(
            "/admin/rounds/{id}/sample/draw",
            web::post().to(admin::rounds::draw_sample),
        )
        .route(
            "/admin/rounds/{id}/sample/replace",
            web::post().to(admin::rounds::replace_sampled),
        )
        .route(
            "/admin/rounds/{id}/scores",
            web::get().to(admin::rounds::scores),
        )
        .route(
            "/admin/rounds/{id}/compare",
            web::post().to(admin::rounds::set_compare),
        )
        .route(
            "/admin/rounds/{id}/quality",
            web::get().to(admin::rounds::quality),
        )
        .route(
            "/admin/rounds/{id}/quality/flag",
            web::post().to(admin::rounds::flag),
        )
        .route(
            "/admin/rounds/{id}/quality/exclude",
            web::post().to(admin::rounds::exclude),
        )
        .route(
            "/admin/rounds/{id}/paper",
            web::get().to(admin::paper::page),
        )
        .route(
            "/admin/rounds/{id}/field",
            web::get().to(admin::field::page),
        )
        .route(
            "/admin/rounds/{id}/field",
            web::post().to(admin::field::upload),
        )
        .route(
            "/admin/rounds/{id}/field/confirm",
            web::post().to(admin::field::confirm),
        )
        .route(
            "/admin/rounds/{id}/paper",
            web::post().to(admin::paper::save),
        )
        .route("/admin/tokens", web::get().to(admin::tokens::list))
        .route("/admin/tokens", web::post().to(admin::tokens::create))
        .route(
            "/admin/tokens/{id}/revoke",
            web::post().to(admin::tokens::revoke),
        )
        .route("/admin/accounts", web::get().to(admin::accounts::list))
        .route("/admin/accounts", web::post().to(admin::accounts::create))
        .route("/admin/accounts/{id}", web::get().to(admin::accounts::show))
        .route(
            "/admin/accounts/{id}/link",
            web::get().to(admin::accounts::link_page),
        )
        .route(
            "/admin/accounts/{id}/link",
            web::post().to(admin::accounts::new_link),
        )
        .route(
            "/admin/accounts/{id}/role",
            web::post().to(admin::accounts::set_role),
        )
        .route(
            "/admin/accounts/{id}/units",
            web::post().to(admin::accounts::set_units),
        )
        .route(
            "/admin/accounts/{id}/deactivate",
            web::post().to(admin::accounts::deactivate),
        )
        .route(
            "/admin/accounts/{id}/activate",
            web::post().to(admin::accounts::activate),
        )
        .route("/results", web::get().to(results::list))
        .route("/results/{id}", web::get().to(results::dashboard))
        .route("/results/{id}/items", web::get().to(results::items))
        .route("/results/{id}/breakdown", web::get().to(results::breakdown))
        .route("/results/{id}/compare", web::get().to(results::compare))
        .route("/results/{id}/units/{code}", web::get().to(results::unit))
        .route(
            "/results/{id}/units/{code}/gains",
            web::get().to(results::unit_gains),
        )
        .route(
            "/results/{id}/units/{code}/plan",
            web::get().to(results::unit_plan),
        )
        .route(
            "/results/{id}/units/{code}/plan.xlsx",
            web::get().to(results::unit_plan_xlsx),
        )
        .route(
            "/results/{id}/download/{file}",
            web::get().to(results::download_file),
        )
        .route(
            "/results/{id}/exports",
            web::post().to(results::start_export),
        )
        .route("/exports", web::get().to(results::my_exports))
        .route("/exports/{job}", web::get().to(results::export_status))
        .route("/exports/{job}/file", web::get().to(results::export_file))
        .route("/api/openapi.json", web::get().to(api::openapi_json))
        .route("/api/docs", web::get().to(api::docs))
        .route("/api/v1/rounds", web::get().to(api::rounds))
        .route("/api/v1/rounds/{id}", web::get().to(api::round))
        .route("/api/v1/rounds/{id}/units", web::get().to(api::units))
        .route(
            "/api/v1/rounds/{id}/units/{code}/gains",
            web::get().to(api::unit_gains),
        )
        .route(
            "/api/v1/rounds/{id}/units/{code}/whatif",
            web::get().to(api::unit_what_if),
        )
        .route(
            "/api/v1/rounds/{id}/compare",
            web::get().to(api::compare_rounds),
        )
        .route("/api/v1/rounds/{id}/scores", web::get().to(api::scores))
        .route("/api/v1/rounds/{id}/rankings", web::get().to(api::rankings))
        .route("/api/v1/rounds/{id}/coverage", web::get().to(api::coverage))
        .route(
            "/api/v1/rounds/{id}/breakdown",
            web::get().to(api::breakdown),
        )
        .route(
            "/api/v1/rounds/{id}/exports",
            web::post().to(api::create_export),
        )
        .route("/api/v1/exports/{job}", web::get().to(api::export_job))
        .route(
            "/api/v1/exports/{job}/file",
            web::get().to(api::export_file),
        )
        .route("/o/{token}", web::get().to(public::open_link_page))
        .route("/o/{token}", web::post().to(public::open_link_start))
        .route("/optout/{token}", web::get().to(public::opt_out_page))
        .route("/optout/{token}", web::post().to(public::opt_out))
        .route("/s", web::post().to(respond::enter_code))
        .route("/s/{code}", web::get().to(respond::intro))
        .route("/s/{code}/start", web::post().to(respond::start))
        .route("/s/{code}/p/{n}", web::get().to(respond::section))
        .route("/s/{code}/p/{n}", web::post().to(respond::save_section))
        .route("/s/{code}/review", web::get().to(respond::review))
        .route("/s/{code}/submit", web::post().to(respond::submit))
        .route("/receipt/{receipt}", web::get().to(respond::receipt));
}

/// The address a request is throttled under: the TCP peer, or the `X-Forwarded-For` entry the
/// operator's outermost proxy appended (see [`crate::domain::client_addr`]). Every throttle
/// and address rule goes through here.
pub fn client_ip(req: &actix_web::HttpRequest, settings: &crate::app::config::Settings) -> String {
    let hops = settings.proxy_hops();
    // Several header lines form one list, in order (RFC 9110 §5.3).
    let forwarded = (hops > 0).then(|| {
        req.headers()
            .get_all("x-forwarded-for")
            .filter_map(|v| v.to_str().ok())
            .collect::<Vec<_>>()
            .join(",")
    });
    crate::domain::client_addr::client_addr(
        req.peer_addr().map(|a| a.ip()),
        forwarded.as_deref(),
        hops,
    )
}

/// Runs `work` in the database pool as the signed-in `user`: every use case an account starts
/// from a page gets its [`Actor`](crate::app::actor::Actor) here.
pub async fn db_as<T, F>(
    state: &crate::app::state::AppState,
    user: &crate::app::auth::session::CurrentUser,
    work: F,
) -> Result<T, AppError>
where
    F: FnOnce(&mut crate::db::AnyConnection, crate::app::actor::Actor<'_>) -> Result<T, AppError>
        + Send
        + 'static,
    T: Send + 'static,
{
    let user = user.clone();
    state.db(move |conn| work(conn, user.actor())).await
}

/// The status of a page that shows what was checked: 422 while it lists problems, else 200.
pub fn unprocessable_if(problems: bool) -> actix_web::http::StatusCode {
    if problems {
        actix_web::http::StatusCode::UNPROCESSABLE_ENTITY
    } else {
        actix_web::http::StatusCode::OK
    }
}

/// An HTML page with the given status.
pub fn html(status: actix_web::http::StatusCode, markup: maud::Markup) -> actix_web::HttpResponse {
    actix_web::HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .body(markup.into_string())
}

/// An HTML page no cache may keep: respondents' answers, keyed paper forms.
pub fn private_html(
    status: actix_web::http::StatusCode,
    markup: maud::Markup,
) -> actix_web::HttpResponse {
    actix_web::HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
        .body(markup.into_string())
}

/// `303 See Other` to `location`: where every successful form post goes next.
pub fn see_other(location: impl Into<String>) -> actix_web::HttpResponse {
    actix_web::HttpResponse::SeeOther()
        .insert_header((actix_web::http::header::LOCATION, location.into()))
        .finish()
}

/// A file download under a safe ASCII file name (anything else becomes `_`).
pub fn download(
    file_name: &str,
    content_type: &str,
    body: impl actix_web::body::MessageBody + 'static,
) -> actix_web::HttpResponse {
    let safe: String = file_name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect();
    actix_web::HttpResponse::Ok()
        .content_type(content_type)
        .insert_header((
            actix_web::http::header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{safe}\""),
        ))
        .body(body)
}

/// The handler for every unmatched path.
pub async fn not_found() -> Result<actix_web::HttpResponse, AppError> {
    Err(AppError::NotFound)
}
