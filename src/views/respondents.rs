//! The respondent-list parts of the admin pages: the templates to fill in, the preview of an
//! uploaded list, and the respondents page (search, correct, remove).

use maud::{Markup, html};

use super::components::{FieldMessage, field_message, message_summary, round_part_page};
use super::format::name;
use super::layout::{PageContext, page};
use crate::app::rounds::{
    CodeProgress, ContactForm, ListPreview, ROSTER_LIMIT, Roster, RosterEntry,
};
use crate::db::rounds::RoundRow;
use crate::domain::access_code::CodeState;
use crate::i18n::tf;

/// Links to the respondent-list templates of the round whose page is at `base`
/// (`/admin/rounds/{id}`), with a line saying what they hold.
pub fn template_links(ctx: &PageContext, base: &str) -> Markup {
    html! {
        p.hint #respondent-template {
            (ctx.t("list.template_hint")) " "
            a href={ (base) "/respondents/template.xlsx" } download { (ctx.t("list.template_xlsx")) }
            " · "
            a href={ (base) "/respondents/template.csv" } download { (ctx.t("list.template_csv")) }
        }
    }
}

/// The link from the round page to its respondents page.
pub fn roster_link(ctx: &PageContext, base: &str) -> Markup {
    html! {
        p #respondents-link { a href={ (base) "/respondents" } { (ctx.t("roster.link")) } }
    }
}

fn group_label(ctx: &PageContext, code: &str) -> String {
    ctx.t(&format!("group.{code}")).to_owned()
}

/// The preview of an uploaded respondent list: every problem, or the counts per unit and
/// group, the first rows and the button that imports exactly this list.
pub fn preview(ctx: &PageContext, p: &ListPreview) -> Markup {
    let lang = ctx.lang;
    let base = format!("/admin/rounds/{}", p.round.id);
    round_part_page(
        ctx,
        &p.round,
        "list.preview_title",
        html! {
            @if !p.errors.is_empty() {
                div.error-summary role="alert" tabindex="-1" aria-labelledby="error-summary-title" {
                    h2 #error-summary-title { (tf(lang, "list.preview_errors", &[("n", &p.errors.len().to_string())])) }
                    ul #list-errors { @for e in &p.errors { li { (e.text(lang)) } } }
                }
                p { a href={ (base) "#rfile" } { (ctx.t("list.upload_again")) } }
            } @else {
                p #preview-summary { (tf(lang, "list.preview_file", &[("file", &p.file_name), ("n", &p.total.to_string())])) }
                div.notice role="status" { (ctx.t("list.preview_nothing_stored")) }
                h2 { (ctx.t("list.preview_counts")) }
                table #preview-counts {
                    thead { tr {
                        th scope="col" { (ctx.t("round.unit")) }
                        @for g in &p.groups { th.num scope="col" { (group_label(ctx, g)) } }
                        th.num scope="col" { (ctx.t("round.total")) }
                    } }
                    tbody { @for c in &p.counts { tr {
                        td { (name(lang, &c.unit_vi, &c.unit_en)) }
                        @for n in &c.per_group { td.num { (n) } }
                        td.num { (c.total) }
                    } } }
                    tfoot { tr {
                        th scope="row" { (ctx.t("round.total")) }
                        @for (i, _) in p.groups.iter().enumerate() {
                            td.num { (p.counts.iter().map(|c| c.per_group[i]).sum::<usize>()) }
                        }
                        td.num { (p.total) }
                    } }
                }
                h2 { (tf(lang, "list.preview_first", &[("n", &p.first_rows.len().to_string())])) }
                table #preview-rows {
                    thead { tr {
                        th.num scope="col" { (ctx.t("list.row")) }
                        th scope="col" { (ctx.t("roster.name")) }
                        th scope="col" { (ctx.t("roster.email")) }
                        th scope="col" { (ctx.t("roster.phone")) }
                        th scope="col" { (ctx.t("round.unit")) }
                        th scope="col" { (ctx.t("catalog.group")) }
                        th scope="col" { (ctx.t("list.position")) }
                        th scope="col" { (ctx.t("list.level")) }
                    } }
                    tbody { @for r in &p.first_rows { tr {
                        td.num { (r.row.row) }
                        td { (r.row.name) }
                        td { (r.row.email.as_deref().unwrap_or("")) }
                        td { (r.row.phone.as_deref().unwrap_or("")) }
                        td { (name(lang, &r.unit_vi, &r.unit_en)) }
                        td { (group_label(ctx, &r.row.group)) }
                        td { (r.row.position.as_deref().unwrap_or("")) }
                        td { (r.row.level.as_deref().unwrap_or("")) }
                    } } }
                }
                @if let Some(token) = &p.token {
                    div.actions {
                        form method="post" action={ (base) "/respondents/confirm" } {
                            (ctx.csrf_field())
                            input type="hidden" name="token" value=(token);
                            button.btn type="submit" { (ctx.t("list.confirm")) }
                        }
                        a href=(base) { (ctx.t("list.upload_again")) }
                    }
                }
            }
        },
    )
}

/// What the respondents page shows.
pub struct RosterPage<'a> {
    /// The respondents found.
    pub roster: &'a Roster,
    /// The search as typed.
    pub search: &'a str,
    /// Whether the reader may correct and remove respondents.
    pub can_manage: bool,
    /// Catalogue key of a success notice.
    pub notice: Option<&'static str>,
    /// Refusals to show.
    pub errors: &'a [String],
}

fn code_label(ctx: &PageContext, code: CodeProgress) -> &str {
    ctx.t(match code {
        CodeProgress::None => "roster.code_none",
        CodeProgress::Unused(CodeState::Started) => "roster.code_started",
        CodeProgress::Unused(_) => "roster.code_issued",
        CodeProgress::Used => "roster.code_used",
    })
}

/// The respondents page: a search box and the matching respondents.
pub fn roster(ctx: &PageContext, p: &RosterPage<'_>) -> Markup {
    let lang = ctx.lang;
    let r = p.roster;
    let base = format!("/admin/rounds/{}/respondents", r.round.id);
    round_part_page(
        ctx,
        &r.round,
        "roster.title",
        html! {
            @if let Some(key) = p.notice { div.notice role="status" { (ctx.t(key)) } }
            (message_summary(ctx, p.errors, &[]))
            form method="get" action=(base) role="search" {
                div.field { label for="q" { (ctx.t("roster.search")) }
                    input #q name="q" type="search" value=(p.search); }
                button.btn type="submit" { (ctx.t("roster.search_button")) }
            }
            p #roster-count {
                @if p.search.trim().is_empty() {
                    (tf(lang, "roster.all", &[("n", &r.visible.to_string())]))
                } @else {
                    (tf(lang, "roster.matching", &[("matching", &r.matching.to_string()), ("n", &r.visible.to_string())]))
                }
                @if r.matching > r.entries.len() {
                    " " (tf(lang, "roster.limited", &[("limit", &ROSTER_LIMIT.to_string())]))
                }
            }
            @if !r.entries.is_empty() {
                table #roster {
                    caption.visually-hidden { (ctx.t("roster.title")) }
                    thead { tr {
                        th scope="col" { (ctx.t("roster.name")) }
                        th scope="col" { (ctx.t("roster.email")) }
                        th scope="col" { (ctx.t("roster.phone")) }
                        th scope="col" { (ctx.t("round.unit")) }
                        th scope="col" { (ctx.t("catalog.group")) }
                        th scope="col" { (ctx.t("roster.code")) }
                        @if p.can_manage { th scope="col" { (ctx.t("roster.actions")) } }
                    } }
                    tbody { @for e in &r.entries { tr {
                        td { (e.name) }
                        td { (e.email.as_deref().unwrap_or("")) }
                        td { (e.phone.as_deref().unwrap_or("")) }
                        td { (name(lang, &e.unit_vi, &e.unit_en)) }
                        td { (group_label(ctx, &e.group)) }
                        td { (code_label(ctx, e.code)) }
                        @if p.can_manage { td {
                            a href={ (base) "/" (e.id) "/edit" } { (ctx.t("roster.edit")) }
                            " · "
                            a href={ (base) "/" (e.id) "/remove" } { (ctx.t("roster.remove")) }
                        } }
                    } } }
                }
            }
        },
    )
}

fn who(ctx: &PageContext, e: &RosterEntry) -> Markup {
    html! {
        p #respondent-summary {
            strong { (e.name) } " — " (name(ctx.lang, &e.unit_vi, &e.unit_en)) ", " (group_label(ctx, &e.group))
            " (" (code_label(ctx, e.code)) ")"
        }
    }
}

fn contact_field(
    ctx: &PageContext,
    id: &'static str,
    kind: &str,
    value: &str,
    fields: &[FieldMessage],
) -> Markup {
    let error = field_message(fields, id);
    html! {
        div.field.has-error[error.is_some()] {
            label for=(id) { (ctx.t(&format!("roster.{id}"))) }
            @if let Some(e) = error { p.error-message id={ (id) "-error" } { (e.text) } }
            input id=(id) name=(id) type=(kind) value=(value) required[id == "name"]
                aria-describedby=[error.map(|_| format!("{id}-error"))]
                aria-invalid=[error.map(|_| "true")];
        }
    }
}

/// The form correcting a respondent's name, e-mail and phone, with the values as typed.
pub fn edit_form(
    ctx: &PageContext,
    round: &RoundRow,
    entry: &RosterEntry,
    form: &ContactForm,
    general: &[String],
    fields: &[FieldMessage],
) -> Markup {
    let list = format!("/admin/rounds/{}/respondents", round.id);
    page(
        ctx,
        ctx.t("roster.edit_title"),
        html! {
            p { a href=(list) { "← " (ctx.t("roster.title")) } }
            h1 { (ctx.t("roster.edit_title")) }
            (message_summary(ctx, general, fields))
            (who(ctx, entry))
            p.hint { (ctx.t("roster.edit_hint")) }
            form method="post" action={ (list) "/" (entry.id) "/edit" } novalidate {
                (ctx.csrf_field())
                (contact_field(ctx, "name", "text", &form.name, fields))
                (contact_field(ctx, "email", "email", &form.email, fields))
                (contact_field(ctx, "phone", "tel", &form.phone, fields))
                div.actions {
                    button.btn type="submit" { (ctx.t("roster.save")) }
                    a href=(list) { (ctx.t("roster.cancel")) }
                }
            }
        },
    )
}

/// The confirmation step before removing a respondent: what happens to their code.
pub fn remove_form(ctx: &PageContext, round: &RoundRow, entry: &RosterEntry) -> Markup {
    let list = format!("/admin/rounds/{}/respondents", round.id);
    let explain = match entry.code {
        CodeProgress::None => "roster.remove_explain_none",
        CodeProgress::Unused(_) => "roster.remove_explain_unused",
        CodeProgress::Used => "roster.remove_explain_used",
    };
    page(
        ctx,
        ctx.t("roster.remove_title"),
        html! {
            p { a href=(list) { "← " (ctx.t("roster.title")) } }
            h1 { (ctx.t("roster.remove_title")) }
            (who(ctx, entry))
            p #remove-explain { (ctx.t(explain)) }
            div.actions {
                form method="post" action={ (list) "/" (entry.id) "/remove" } {
                    (ctx.csrf_field())
                    button.btn type="submit" { (ctx.t("roster.remove_confirm")) }
                }
                a href=(list) { (ctx.t("roster.cancel")) }
            }
        },
    )
}
