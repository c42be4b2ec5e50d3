//! The field import pages of a round: the upload form for an ODK Central or KoboToolbox
//! submission export, and the preview that confirms it.

use maud::{Markup, html};

use super::components::{message_summary, round_part_page};
use super::format::name;
use super::layout::PageContext;
use crate::app::field_import::FieldPreview;
use crate::db::rounds::{RoundGroupRow, RoundRow};
use crate::db::units::UnitRow;
use crate::domain::lifecycle::RoundStatus;
use crate::i18n::tf;

/// What the field import page shows.
pub struct FieldPage<'a> {
    /// The round.
    pub round: &'a RoundRow,
    /// The units the user may import into.
    pub units: &'a [UnitRow],
    /// The round's configured groups.
    pub groups: &'a [RoundGroupRow],
    /// After an import: (responses stored, submissions imported before).
    pub done: Option<(usize, usize)>,
    /// Refusals to show.
    pub errors: &'a [String],
}

/// The upload form: the file, and the unit and group of rows that carry none.
pub fn upload(ctx: &PageContext, p: &FieldPage<'_>) -> Markup {
    let lang = ctx.lang;
    let base = format!("/admin/rounds/{}/field", p.round.id);
    round_part_page(
        ctx,
        p.round,
        "field.title",
        html! {
            @if let Some((stored, already)) = p.done {
                div.notice role="status" #field-done {
                    (tf(lang, "field.done", &[("stored", &stored.to_string()), ("already", &already.to_string())]))
                }
            }
            (message_summary(ctx, p.errors, &[]))
            p { (ctx.t("field.intro")) }
            @if p.round.status == RoundStatus::Open {
                div.card {
                    form method="post" action=(base) enctype="multipart/form-data" {
                        (ctx.csrf_field())
                        div.field { label for="ffile" { (ctx.t("field.file")) } p.hint { (ctx.t("field.file_hint")) }
                            input #ffile type="file" name="file" accept=".csv,.xlsx" required; }
                        div.field { label for="funit" { (ctx.t("field.unit")) }
                            select #funit name="unit" {
                                option value="" { (ctx.t("field.from_file")) }
                                @for u in p.units { option value=(u.code) { (name(lang, &u.name_vi, &u.name_en)) } }
                            } }
                        div.field { label for="fgroup" { (ctx.t("field.group")) }
                            select #fgroup name="group" {
                                option value="" { (ctx.t("field.from_file")) }
                                @for g in p.groups { option value=(g.group_code) { (ctx.t(&format!("group.{}", g.group_code))) } }
                            } }
                        button.btn type="submit" { (ctx.t("field.check")) }
                    }
                }
            } @else {
                p #field-not-open { (ctx.t("field.not_open")) }
            }
        },
    )
}

/// The preview of an uploaded export: every problem, or what importing it would store, the
/// ignored columns and the button that stores exactly these responses.
pub fn preview(ctx: &PageContext, p: &FieldPreview) -> Markup {
    let lang = ctx.lang;
    let base = format!("/admin/rounds/{}/field", p.round.id);
    let o = &p.outcome;
    round_part_page(
        ctx,
        &p.round,
        "field.preview_title",
        html! {
            @if !p.errors.is_empty() {
                div.error-summary role="alert" tabindex="-1" aria-labelledby="error-summary-title" {
                    h2 #error-summary-title { (tf(lang, "field.preview_errors", &[("n", &p.errors.len().to_string())])) }
                    ul #field-errors { @for e in &p.errors { li { (e.text(lang)) } } }
                }
                p { a href=(base) { (ctx.t("field.upload_again")) } }
            } @else {
                p #preview-summary { (tf(lang, "field.preview_file", &[
                    ("file", &p.file_name),
                    ("new", &o.stored.to_string()),
                    ("already", &o.already.to_string()),
                    ("repeated", &o.repeated.to_string()),
                ])) }
                @if !o.warnings.is_empty() {
                    h2 { (ctx.t("field.preview_warnings")) }
                    ul #field-warnings { @for w in &o.warnings { li { (w.text(lang)) } } }
                }
                @if p.token.is_some() {
                    div.notice role="status" { (ctx.t("field.preview_nothing_stored")) }
                    h2 { (ctx.t("field.preview_counts")) }
                    table #preview-counts {
                        thead { tr {
                            th scope="col" { (ctx.t("round.unit")) }
                            th scope="col" { (ctx.t("catalog.group")) }
                            th.num scope="col" { (ctx.t("field.new")) }
                        } }
                        tbody { @for c in &p.counts { tr {
                            td { (name(lang, &c.unit_vi, &c.unit_en)) }
                            td { (ctx.t(&format!("group.{}", c.group))) }
                            td.num { (c.new) }
                        } } }
                    }
                } @else {
                    div.notice role="status" #nothing-new { (ctx.t("field.preview_nothing_new")) }
                }
                div.actions {
                    @if let Some(token) = &p.token {
                        form method="post" action={ (base) "/confirm" } {
                            (ctx.csrf_field())
                            input type="hidden" name="token" value=(token);
                            button.btn type="submit" { (ctx.t("field.confirm")) }
                        }
                    }
                    a href=(base) { (ctx.t("field.upload_again")) }
                }
            }
        },
    )
}
