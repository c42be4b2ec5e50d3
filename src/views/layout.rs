//! The page shell shared by every HTML page: header with language switch, main, footer.

use actix_web::HttpRequest;
use maud::{DOCTYPE, Markup, html};

use crate::app::auth::csrf::{CSRF_FIELD, token_for_request};
use crate::app::auth::session::CurrentUser;
use crate::i18n::{Lang, t};

/// What the shell needs to know about the request.
#[derive(Debug, Clone)]
pub struct PageContext {
    /// Interface language.
    pub lang: Lang,
    /// The CSRF token for forms on this page.
    pub csrf: String,
    /// The path (and query) of this page, for the language switch to come back to.
    pub path: String,
    /// The logged-in account's display name, if any.
    pub user_name: Option<String>,
    /// Reload the page after this many seconds (progress pages; there is no script).
    pub refresh_seconds: Option<u32>,
}

impl PageContext {
    /// The context of `req`, for a visitor who may or may not be logged in.
    pub fn new(req: &HttpRequest, user: Option<&CurrentUser>) -> Self {
        let path = match req.uri().path_and_query() {
            Some(pq) => pq.as_str().to_owned(),
            None => req.path().to_owned(),
        };
        Self {
            lang: Lang::of_request(req),
            // Failing to get a token only happens without app state (a bug); forms then fail
            // their CSRF check loudly rather than silently.
            csrf: token_for_request(req).map(|t| t.0).unwrap_or_default(),
            path,
            user_name: user.map(|u| u.user.name.clone()),
            refresh_seconds: None,
        }
    }

    /// Translates a catalogue key in this page's language.
    pub fn t<'a>(&self, key: &'a str) -> &'a str {
        t(self.lang, key)
    }

    /// The hidden CSRF input every state-changing form must contain.
    pub fn csrf_field(&self) -> Markup {
        html! { input type="hidden" name=(CSRF_FIELD) value=(self.csrf); }
    }
}

/// The full page titled by catalogue key `title_key`, in the browser's title bar and as the
/// page's `h1` above `body`: one key for both, so they cannot say different things.
pub fn titled_page(ctx: &PageContext, title_key: &str, body: Markup) -> Markup {
    let title = ctx.t(title_key);
    page(
        ctx,
        title,
        html! {
            h1 { (title) }
            (body)
        },
    )
}

/// Wraps `body` in the full page.
pub fn page(ctx: &PageContext, title: &str, body: Markup) -> Markup {
    let lang = ctx.lang;
    let switch_href = format!(
        "/lang/{}?next={}",
        lang.other().code(),
        urlencode(&ctx.path)
    );
    html! {
        (DOCTYPE)
        html lang=(lang.code()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                @if let Some(seconds) = ctx.refresh_seconds { meta http-equiv="refresh" content=(seconds); }
                title { (title) " — " (t(lang, "app.name")) }
                link rel="stylesheet" href=(crate::views::assets::url("app.css"));
            }
            body {
                a.skip href="#main" { (t(lang, "nav.skip")) }
                header.top {
                    div.wrap {
                        a.brand href="/" { (t(lang, "app.name")) }
                        nav aria-label=(t(lang, "nav.home")) {
                            @if let Some(name) = &ctx.user_name {
                                a href="/admin" { (t(lang, "nav.admin")) }
                                a href="/admin/rounds" { (t(lang, "nav.rounds")) }
                                a href="/admin/instruments" { (t(lang, "nav.catalog")) }
                                a href="/results" { (t(lang, "nav.results")) }
                                a href="/admin/tokens" { (t(lang, "nav.tokens")) }
                                span { (name) }
                                form method="post" action="/admin/logout" {
                                    (ctx.csrf_field())
                                    button.linkbtn type="submit" { (t(lang, "nav.logout")) }
                                }
                            }
                            a href=(switch_href) lang=(lang.other().code()) hreflang=(lang.other().code()) {
                                (t(lang, "lang.switch"))
                            }
                        }
                    }
                }
                main #main.wrap tabindex="-1" { (body) }
                footer { div.wrap { (t(lang, "footer.text")) } }
            }
        }
    }
}

/// Percent-encodes a path for use as a query value.
pub fn urlencode(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}
