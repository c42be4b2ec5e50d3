//! The public landing page.

use maud::{Markup, html};

use super::layout::{PageContext, page, titled_page};
use crate::i18n::tf;

/// The landing page: what this site is, where respondents go, where staff log in.
pub fn home(ctx: &PageContext) -> Markup {
    home_with_code(ctx, None, "")
}

/// The landing page with the code entry showing an error and what was typed.
pub fn home_with_code(ctx: &PageContext, error_key: Option<&str>, typed: &str) -> Markup {
    titled_page(
        ctx,
        "home.title",
        html! {
            p.lead { (ctx.t("app.tagline")) }
            p { (ctx.t("home.intro")) }
            div.notice { p { (ctx.t("home.respondent")) } }
            (super::respond::code_entry(ctx, error_key, typed))
            h2 { (ctx.t("home.staff")) }
            p { a.btn.secondary href="/admin/login" { (ctx.t("nav.login")) } }
        },
    )
}

/// The start page of an open link: what the survey is, that it is anonymous, and a button.
pub fn open_link(ctx: &PageContext, token: &str) -> Markup {
    titled_page(
        ctx,
        "open.title",
        html! {
            p.lead { (ctx.t("open.intro")) }
            div.notice { p { (ctx.t("open.anonymous")) } }
            form method="post" action={ "/o/" (token) } {
                (ctx.csrf_field())
                button.btn type="submit" { (ctx.t("open.start")) }
            }
        },
    )
}

/// The start page of a public link whose round opens later: the opening date, and no button.
pub fn open_link_scheduled(
    ctx: &PageContext,
    zone: crate::domain::local_time::TimeZone,
    opens_at: chrono::NaiveDateTime,
) -> Markup {
    let date = super::rounds::fmt_time(ctx.lang, zone, Some(opens_at));
    titled_page(
        ctx,
        "open.title",
        html! {
            p.lead { (ctx.t("open.intro")) }
            div.notice role="status" {
                p { strong { (tf(ctx.lang, "open.scheduled", &[("date", &date)])) } }
                p { (tf(ctx.lang, "round.times_in", &[("zone", &super::rounds::zone_label(ctx.lang, zone))])) }
            }
        },
    )
}

/// The code a public-link visitor just received: shown plainly to copy, as a slip to print,
/// with the note to keep it and the way on to the questionnaire.
pub fn open_link_code(
    ctx: &PageContext,
    base_url: &str,
    code: &crate::domain::access_code::AccessCode,
) -> Markup {
    let shown = code.to_string();
    let days = crate::domain::access_code::OPEN_LINK_CODE_DAYS.to_string();
    titled_page(
        ctx,
        "open.code_title",
        html! {
            div.slip.open-code {
                p { (ctx.t("open.code_label")) }
                p.slip-code { output #access-code aria-live="polite" { code { (shown) } } }
                p { strong { (ctx.t("open.keep_code")) } }
                p { (tf(ctx.lang, "open.code_where", &[("url", &format!("{base_url}/s"))])) }
                p.hint { (tf(ctx.lang, "open.code_days", &[("days", &days)])) }
            }
            p.hint.noprint { (ctx.t("open.code_print")) }
            p.noprint { a.btn href={ "/s/" (code.as_canonical()) } { (ctx.t("open.continue")) } }
        },
    )
}

/// A page with a title and one explanatory paragraph.
pub fn notice_page(ctx: &PageContext, title_key: &str, body_key: &str) -> Markup {
    notice_page_with(ctx, title_key, body_key, &[])
}

/// A page with a title and one explanatory paragraph whose `{name}` placeholders are filled
/// from `args`.
pub fn notice_page_with(
    ctx: &PageContext,
    title_key: &str,
    body_key: &str,
    args: &[(&str, &str)],
) -> Markup {
    page(
        ctx,
        ctx.t(title_key),
        html! {
            h1 { (ctx.t(title_key)) }
            p.lead { (tf(ctx.lang, body_key, args)) }
            p { a href="/" { (ctx.t("error.back_home")) } }
        },
    )
}

/// Confirms an opt-out from invitation e-mail.
pub fn opt_out(ctx: &PageContext, token: &str) -> Markup {
    titled_page(
        ctx,
        "optout.title",
        html! {
            p.lead { (ctx.t("optout.question")) }
            form method="post" action={ "/optout/" (token) } {
                (ctx.csrf_field())
                button.btn type="submit" { (ctx.t("optout.confirm")) }
            }
        },
    )
}
