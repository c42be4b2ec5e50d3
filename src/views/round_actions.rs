//! The two pages of a lifecycle action: what it will do (with the confirm button), and what
//! it did (with the compute result and, once published, the public results page).

use maud::{Markup, html};

use super::format::name;
use super::layout::{PageContext, page};
use super::rounds::status_name;
use crate::app::rounds::ActionSummary;
use crate::domain::lifecycle::RoundAction;
use crate::i18n::tf;

/// What the round holds, as a definition list both pages share.
fn facts(ctx: &PageContext, s: &ActionSummary) -> Markup {
    let lang = ctx.lang;
    html! {
        dl.facts {
            dt { (ctx.t("round.action.units")) } dd { (s.units) }
            dt { (ctx.t("round.action.groups")) } dd { (s.groups) }
            dt { (ctx.t("round.action.respondents")) } dd { (s.respondents) }
            dt { (ctx.t("round.action.completed")) } dd { (s.completed) }
            @if let Some((ranked, of)) = s.ranked {
                dt { (ctx.t("round.action.ranked")) }
                dd { (tf(lang, "round.action.ranked_of", &[("ranked", &ranked.to_string()), ("of", &of.to_string())])) }
            }
        }
    }
}

/// The action's name, as on its button.
fn action_name(ctx: &PageContext, action: RoundAction) -> String {
    ctx.t(action.label_key()).to_owned()
}

/// `GET …/actions/{action}`: what will happen, and the confirm button.
pub fn confirm(ctx: &PageContext, s: &ActionSummary) -> Markup {
    let lang = ctx.lang;
    let r = &s.round;
    let base = format!("/admin/rounds/{}", r.id);
    let title = tf(
        lang,
        "round.action.confirm_title",
        &[
            ("action", &action_name(ctx, s.action)),
            ("round", name(lang, &r.name_vi, &r.name_en)),
        ],
    );
    page(
        ctx,
        &title,
        html! {
            p { a href=(base) { "← " (name(lang, &r.name_vi, &r.name_en)) } }
            h1 { (title) }
            p.lead { (tf(lang, "round.action.will", &[("from", &status_name(ctx, r.status)), ("to", &status_name(ctx, s.to))])) }
            p { (ctx.t(&format!("round.action.explain.{}", s.action.code()))) }
            (facts(ctx, s))
            form method="post" action={ (base) "/actions/" (s.action.code()) } {
                (ctx.csrf_field())
                div.actions {
                    button.btn type="submit" { (ctx.t("round.action.confirm")) }
                    a.btn.secondary href=(base) { (ctx.t("round.action.cancel")) }
                }
            }
        },
    )
}

/// `GET …/actions/{action}/done`: what happened, with a link to the public results once the
/// round is published.
pub fn done(ctx: &PageContext, s: &ActionSummary) -> Markup {
    let lang = ctx.lang;
    let r = &s.round;
    let base = format!("/admin/rounds/{}", r.id);
    page(
        ctx,
        &action_name(ctx, s.action),
        html! {
            p { a href=(base) { "← " (name(lang, &r.name_vi, &r.name_en)) } }
            div.notice role="status" {
                (tf(lang, "round.action.done", &[("action", &action_name(ctx, s.action)), ("status", &status_name(ctx, s.to))]))
            }
            h1 { (name(lang, &r.name_vi, &r.name_en)) }
            (facts(ctx, s))
            div.actions {
                a.btn href=(base) { (ctx.t("round.action.back")) }
                @if s.action == RoundAction::Publish {
                    a.btn.secondary href={ "/results/" (r.id) } { (ctx.t("round.action.public_page")) }
                }
                @if s.action == RoundAction::Compute {
                    a.btn.secondary href={ (base) "/scores" } { (ctx.t("scores.title")) }
                }
            }
        },
    )
}
