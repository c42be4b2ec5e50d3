//! The error page shown for every failed request that wants HTML.

use maud::{Markup, html};

use super::layout::{PageContext, page};

/// A friendly page for `status` with a title, an explanation and optional extra lines.
pub fn error_page(
    ctx: &PageContext,
    status: u16,
    title_key: &str,
    body_key: &str,
    extra: Option<&str>,
) -> Markup {
    page(
        ctx,
        ctx.t(title_key),
        html! {
            p.status aria-hidden="true" { (status) }
            h1 { (ctx.t(title_key)) }
            p.lead { (ctx.t(body_key)) }
            @if let Some(extra) = extra { p { (extra) } }
            p { a href="/" { (ctx.t("error.back_home")) } }
        },
    )
}
