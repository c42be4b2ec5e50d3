//! Public pages: the landing page, the language switch and static assets.

use actix_web::cookie::{Cookie, SameSite, time::Duration as CookieDuration};
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use maud::Markup;
use serde::Deserialize;

use crate::error::{AppError, AppResult};
use crate::i18n::{LANG_COOKIE, Lang};
use crate::state::AppState;
use crate::views::{self, PageContext};

/// `GET /`: the landing page.
pub async fn home(req: HttpRequest) -> Markup {
    views::home::home(&PageContext::new(&req, None))
}

/// Query of the language switch.
#[derive(Debug, Deserialize)]
pub struct SwitchQuery {
    next: Option<String>,
}

/// `GET /lang/{code}?next=/path`: remembers the language and returns to the page. Only a
/// preference changes, so a plain link (not a form) is enough.
pub async fn switch_language(
    path: web::Path<String>,
    query: web::Query<SwitchQuery>,
    state: web::Data<AppState>,
) -> AppResult<HttpResponse> {
    let lang = Lang::from_code(&path).ok_or(AppError::NotFound)?;
    let next = query
        .next
        .as_deref()
        .filter(|n| is_local_path(n))
        .unwrap_or("/");
    let cookie = Cookie::build(LANG_COOKIE, lang.code())
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(state.settings.is_https())
        .max_age(CookieDuration::days(365))
        .finish();
    Ok(HttpResponse::SeeOther()
        .insert_header((header::LOCATION, next.to_owned()))
        .cookie(cookie)
        .finish())
}

/// True for a path on this site: starts with one `/`, so `//evil.example` and absolute URLs
/// cannot turn the switch into an open redirect.
pub fn is_local_path(path: &str) -> bool {
    path.starts_with('/') && !path.starts_with("//") && !path.contains('\\')
}

/// `GET /assets/{hash}/{name}`: an embedded asset, cached for a year (the hash changes with
/// the content).
pub async fn asset(path: web::Path<(String, String)>) -> AppResult<HttpResponse> {
    let (hash, name) = path.into_inner();
    let asset = crate::assets::get(&name)
        .filter(|a| a.hash == hash)
        .ok_or(AppError::NotFound)?;
    Ok(HttpResponse::Ok()
        .content_type(asset.content_type)
        .insert_header((header::CACHE_CONTROL, "public, max-age=31536000, immutable"))
        .body(asset.body))
}

#[cfg(test)]
mod tests {
    use super::is_local_path;

    #[test]
    fn only_local_paths_are_followed_after_a_language_switch() {
        assert!(is_local_path("/admin?x=1"));
        assert!(!is_local_path("//evil.example/"));
        assert!(!is_local_path("https://evil.example/"));
        assert!(!is_local_path("/\\evil.example"));
    }
}
