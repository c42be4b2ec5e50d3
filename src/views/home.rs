//! The public landing page.

use maud::{Markup, html};

use super::layout::{PageContext, page};

/// The landing page: what this site is, where respondents go, where staff log in.
pub fn home(ctx: &PageContext) -> Markup {
    page(
        ctx,
        ctx.t("home.title"),
        html! {
            h1 { (ctx.t("home.title")) }
            p.lead { (ctx.t("app.tagline")) }
            p { (ctx.t("home.intro")) }
            div.notice { p { (ctx.t("home.respondent")) } }
            h2 { (ctx.t("home.staff")) }
            p { a.btn.secondary href="/admin/login" { (ctx.t("nav.login")) } }
        },
    )
}
