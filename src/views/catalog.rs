//! Admin pages for questionnaires (instruments) and scoring methodologies: the list with
//! upload forms, the preview as respondents see it, the diff between versions, and the
//! methodology's structure.

use maud::{Markup, html};

use super::layout::{PageContext, page, titled_page};
use super::questionnaire::{FormState, Mode, section_fields};
use crate::app::catalog::{StoredInstrument, StoredMethodology};
use crate::db::instruments::InstrumentSummary;
use crate::db::methodologies::MethodologySummary;
use crate::domain::answers::Answers;
use crate::domain::instrument::{DiffEntry, DiffKind, DiffTarget};
use crate::domain::methodology::{SipasRule, TieRule};
use crate::i18n::{Lang, tf};
use crate::views::format::points;

/// What the list page shows beside the tables.
#[derive(Debug, Default)]
pub struct ListMessages {
    /// Errors of a failed import, one located message per line.
    pub errors: Vec<String>,
    /// A stored instrument's id and its remarks (a language not shown, ...), when an import
    /// succeeded with remarks; one located message per line.
    pub warnings: Option<(i64, Vec<String>)>,
}

fn short_hash(hash: &str) -> &str {
    hash.get(..12).unwrap_or(hash)
}

fn upload_form(
    ctx: &PageContext,
    action: &str,
    label_key: &str,
    accept: &str,
    extra: Markup,
) -> Markup {
    html! {
        form method="post" action=(action) enctype="multipart/form-data" {
            (ctx.csrf_field())
            div.field {
                label for={ "file-" (action.len()) } { (ctx.t(label_key)) }
                input type="file" name="file" id={ "file-" (action.len()) } accept=(accept) required;
            }
            (extra)
            button.btn type="submit" { (ctx.t("catalog.import")) }
        }
    }
}

/// The list of instruments and methodologies, with import forms for administrators.
pub fn list(
    ctx: &PageContext,
    instruments: &[InstrumentSummary],
    methodologies: &[MethodologySummary],
    can_import: bool,
    messages: &ListMessages,
) -> Markup {
    let lang = ctx.lang;
    titled_page(
        ctx,
        "catalog.title",
        html! {
            p.lead { (ctx.t("catalog.intro")) }
            @if !messages.errors.is_empty() {
                div.error-summary role="alert" tabindex="-1" aria-labelledby="import-errors" {
                    h2 #import-errors { (ctx.t("catalog.import_failed")) }
                    ul { @for e in &messages.errors { li { code { (e) } } } }
                }
            }
            @if let Some((id, warnings)) = &messages.warnings {
                div.notice role="status" aria-labelledby="import-warnings" {
                    h2 #import-warnings {
                        a href={ "/admin/instruments/" (id) } { (ctx.t("catalog.import_warnings")) }
                    }
                    ul { @for w in warnings { li { code { (w) } } } }
                }
            }
            h2 { (ctx.t("catalog.instruments")) }
            table {
                thead { tr {
                    th { (ctx.t("catalog.code")) } th.num { (ctx.t("catalog.version")) }
                    th { (ctx.t("catalog.group")) } th { (ctx.t("catalog.name")) }
                    th { (ctx.t("catalog.hash")) } th { (ctx.t("catalog.origin")) }
                } }
                tbody {
                    @for i in instruments {
                        tr {
                            td { a href={ "/admin/instruments/" (i.id) } { (i.code) } }
                            td.num { (i.version) }
                            td { (ctx.t(&format!("group.{}", i.group_code))) }
                            td { (if lang == Lang::Vi { &i.title_vi } else { &i.title_en }) }
                            td { code { (short_hash(&i.content_hash)) } }
                            td { (origin(ctx, i.builtin)) " " span.tag { (i.source_format) } }
                        }
                    }
                }
            }
            h2 { (ctx.t("catalog.methodologies")) }
            table {
                thead { tr {
                    th { (ctx.t("catalog.code")) } th.num { (ctx.t("catalog.version")) }
                    th { (ctx.t("catalog.name")) } th { (ctx.t("catalog.hash")) } th { (ctx.t("catalog.origin")) }
                } }
                tbody {
                    @for m in methodologies {
                        tr {
                            td { a href={ "/admin/methodologies/" (m.id) } { (m.code) } }
                            td.num { (m.version) }
                            td { (if lang == Lang::Vi { &m.name_vi } else { &m.name_en }) }
                            td { code { (short_hash(&m.content_hash)) } }
                            td { (origin(ctx, m.builtin)) }
                        }
                    }
                }
            }
            @if can_import {
                h2 { (ctx.t("catalog.import_title")) }
                p { (ctx.t("catalog.import_help")) }
                div.card { (upload_form(ctx, "/admin/instruments/import", "catalog.instrument_file", ".toml,.xlsx", xlsform_choices(ctx))) }
                div.card { (upload_form(ctx, "/admin/methodologies/import", "catalog.methodology_file", ".toml", html! {})) }
            }
        },
    )
}

/// The values an XLSForm workbook may lack: respondent group, code and version.
fn xlsform_choices(ctx: &PageContext) -> Markup {
    html! {
        div.field {
            label for="import-group" { (ctx.t("catalog.import_group")) }
            select #import-group name="group" {
                option value="" { (ctx.t("catalog.import_group_from_file")) }
                @for g in crate::domain::instrument::RespondentGroup::ALL {
                    option value=(g.code()) { (ctx.t(&format!("group.{}", g.code()))) }
                }
            }
        }
        div.field {
            label for="import-code" { (ctx.t("catalog.import_code")) }
            input #import-code type="text" name="code" maxlength="64";
        }
        div.field {
            label for="import-version" { (ctx.t("catalog.import_version")) }
            input #import-version type="number" name="version" min="1" max="4294967295";
        }
    }
}

fn origin(ctx: &PageContext, builtin: bool) -> &'static str {
    if builtin {
        ctx.t("catalog.builtin")
    } else {
        ctx.t("catalog.imported")
    }
}

/// The preview of an instrument: every page exactly as respondents see it, in `preview_lang`.
pub fn instrument_preview(
    ctx: &PageContext,
    stored: &StoredInstrument,
    preview_lang: Lang,
    versions: &[InstrumentSummary],
    notice_key: Option<&str>,
) -> Markup {
    let s = &stored.summary;
    let i = &stored.instrument;
    let answers = Answers::new();
    let state = FormState {
        instrument: i,
        lang: preview_lang,
        answers: &answers,
        errors: &[],
        posted: None,
        mode: Mode::Preview,
    };
    let others: Vec<&InstrumentSummary> = versions
        .iter()
        .filter(|v| v.code == s.code && v.id != s.id)
        .collect();
    page(
        ctx,
        i.title().get(ctx.lang),
        html! {
            p { a href="/admin/instruments" { "← " (ctx.t("catalog.title")) } }
            @if let Some(key) = notice_key { div.notice role="status" { (ctx.t(key)) } }
            h1 { (i.title().get(ctx.lang)) }
            table {
                tbody {
                    tr { th { (ctx.t("catalog.code")) } td { code { (s.code) } } }
                    tr { th { (ctx.t("catalog.version")) } td { (s.version) } }
                    tr { th { (ctx.t("catalog.group")) } td { (ctx.t(&format!("group.{}", s.group_code))) } }
                    tr { th { (ctx.t("catalog.hash")) } td { code { (s.content_hash) } } }
                    tr { th { (ctx.t("catalog.origin")) } td { (origin(ctx, s.builtin)) " (" (s.source_format) ")" } }
                    tr { th { (ctx.t("catalog.provenance")) } td { (i.provenance()) } }
                    tr { th { (ctx.t("catalog.size")) } td {
                        (tf(ctx.lang, "catalog.size_value", &[
                            ("sections", &i.sections().len().to_string()),
                            ("questions", &i.questions().count().to_string()),
                            ("items", &i.scorable_items().len().to_string()),
                        ]))
                    } }
                }
            }
            div.actions {
                a.btn.secondary href={ "/admin/instruments/" (s.id) "/export" } download { (ctx.t("catalog.export")) }
                a.btn.secondary href={ "/admin/instruments/" (s.id) "/xlsform" } download { (ctx.t("catalog.export_xlsform")) }
                @for l in [Lang::Vi, Lang::En] {
                    @if l == preview_lang {
                        span.tag aria-current="true" { (ctx.t("catalog.preview_in")) " " (crate::i18n::t(l, "lang.name")) }
                    } @else {
                        a href={ "/admin/instruments/" (s.id) "?lang=" (l.code()) } { (ctx.t("catalog.preview_in")) " " (crate::i18n::t(l, "lang.name")) }
                    }
                }
            }
            @if !others.is_empty() {
                form method="get" action={ "/admin/instruments/" (s.id) "/diff" } {
                    div.field {
                        label for="against" { (ctx.t("catalog.diff_against")) }
                        select #against name="against" {
                            @for o in &others { option value=(o.id) { (o.code) " v" (o.version) } }
                        }
                    }
                    button.btn.secondary type="submit" { (ctx.t("catalog.diff")) }
                }
            }
            h2 { (ctx.t("catalog.preview")) }
            div lang=(preview_lang.code()) {
                @if let Some(instructions) = i.instructions() { div.notice { p { (instructions.get(preview_lang)) } } }
                @for (n, section) in i.sections().iter().enumerate() {
                    section.preview aria-labelledby={ "sec-" (n) } {
                        p.hint { (tf(preview_lang, "form.progress", &[("n", &(n + 1).to_string()), ("total", &i.sections().len().to_string())])) }
                        h3 id={ "sec-" (n) } { (section.title.get(preview_lang)) }
                        @if let (Some(condition), true) = (&section.relevant, true) {
                            p.hint.condition { (crate::i18n::t(preview_lang, "form.shown_when")) " " code { (condition.to_string()) } }
                        }
                        @if let Some(intro) = &section.intro { p { (intro.get(preview_lang)) } }
                        (section_fields(section, &state))
                    }
                }
            }
        },
    )
}

/// The differences between two versions.
pub fn instrument_diff(
    ctx: &PageContext,
    older: &StoredInstrument,
    newer: &StoredInstrument,
    entries: &[DiffEntry],
) -> Markup {
    let label = |s: &StoredInstrument| format!("{} v{}", s.summary.code, s.summary.version);
    page(
        ctx,
        ctx.t("catalog.diff"),
        html! {
            p { a href={ "/admin/instruments/" (newer.summary.id) } { "← " (label(newer)) } }
            h1 { (ctx.t("catalog.diff")) ": " (label(older)) " → " (label(newer)) }
            @if entries.is_empty() {
                p { (ctx.t("catalog.diff_none")) }
            } @else {
                table {
                    thead { tr { th { (ctx.t("catalog.diff_change")) } th { (ctx.t("catalog.diff_what")) } th { (ctx.t("catalog.diff_field")) } th { (ctx.t("catalog.diff_before")) } th { (ctx.t("catalog.diff_after")) } } }
                    tbody {
                        @for e in entries {
                            tr {
                                td { (ctx.t(match e.kind { DiffKind::Added => "catalog.diff_added", DiffKind::Removed => "catalog.diff_removed", DiffKind::Changed => "catalog.diff_changed" })) }
                                td { (match &e.target {
                                    DiffTarget::Instrument => ctx.t("catalog.diff_instrument").to_owned(),
                                    DiffTarget::Section(c) => format!("{} {c}", ctx.t("catalog.diff_section")),
                                    DiffTarget::Question(c) => format!("{} {c}", ctx.t("catalog.diff_question")),
                                    DiffTarget::Item(c) => format!("{} {c}", ctx.t("catalog.diff_item")),
                                }) }
                                td { @if let Some(f) = &e.field { code { (f) } } }
                                td { pre.diff { (e.before.as_deref().unwrap_or("")) } }
                                td { pre.diff { (e.after.as_deref().unwrap_or("")) } }
                            }
                        }
                    }
                }
            }
        },
    )
}

/// The structure of a methodology: components, groups and their items, SIPAS, tiers, ranking.
pub fn methodology_view(
    ctx: &PageContext,
    stored: &StoredMethodology,
    notice_key: Option<&str>,
) -> Markup {
    let m = &stored.methodology;
    let lang = ctx.lang;
    page(
        ctx,
        m.name.get(lang),
        html! {
            p { a href="/admin/instruments" { "← " (ctx.t("catalog.title")) } }
            @if let Some(key) = notice_key { div.notice role="status" { (ctx.t(key)) } }
            h1 { (m.name.get(lang)) }
            div.notice { p { (m.provenance.note.get(lang)) } }
            table { tbody {
                tr { th { (ctx.t("catalog.code")) } td { code { (m.code) } } }
                tr { th { (ctx.t("catalog.version")) } td { (m.version) } }
                tr { th { (ctx.t("catalog.hash")) } td { code { (stored.summary.content_hash) } } }
                tr { th { (ctx.t("method.total")) } td { (points(ctx.lang, m.total_points)) } }
                tr { th { (ctx.t("method.ties")) } td { (ctx.t(match m.ranking.ties { TieRule::Competition => "method.ties_competition", TieRule::Dense => "method.ties_dense" })) } }
                tr { th { (ctx.t("method.decimals")) } td { (m.display.decimals) } }
                tr { th { (ctx.t("method.tiers")) } td {
                    @for band in &m.tiers.bands {
                        span.tag { (band.code) " ≥ " (points(ctx.lang, band.min)) @if let Some(b) = band.below { " < " (points(ctx.lang, b)) } } " "
                    }
                } }
            } }
            div.actions { a.btn.secondary href={ "/admin/methodologies/" (stored.summary.id) "/export" } download { (ctx.t("catalog.export")) } }
            @if !m.components.is_empty() {
                h2 { (ctx.t("method.components")) }
                table {
                    thead { tr { th { (ctx.t("catalog.code")) } th { (ctx.t("catalog.name")) } th.num { (ctx.t("method.max_points")) } th.num { (ctx.t("method.survey_points")) } } }
                    tbody { @for c in &m.components { tr {
                        td { (c.code) } td { (c.name.get(lang)) } td.num { (points(ctx.lang, c.max_points)) }
                        td.num { (c.survey_points.map(|p| points(ctx.lang, p)).unwrap_or_default()) }
                    } } }
                }
            }
            @for g in &m.groups {
                h2 { (g.name.get(lang)) " — " (points(ctx.lang, g.max_points)) " " (ctx.t("method.points")) }
                p { (ctx.t(if g.counts_toward_index { "method.counts" } else { "method.reported_only" })) }
                table {
                    thead { tr { th { (ctx.t("method.item")) } th { (ctx.t("method.criterion")) } th.num { (ctx.t("method.max_points")) } th { (ctx.t("method.coefficients")) } } }
                    tbody { @for item in &g.items { tr {
                        td { code { (item.item) } } td { (item.criterion) } td.num { (points(ctx.lang, item.points)) }
                        td { @if let Some(table) = m.coefficients_for(item) {
                            @for (value, coef) in &table.values { span.tag { (value) " → " (coef) } " " }
                        } }
                    } } }
                }
            }
            @if let Some(sipas) = &m.sipas {
                h2 { (sipas.name.get(lang)) }
                p { (ctx.t(match sipas.rule { SipasRule::Share => "method.sipas_share", SipasRule::Mean => "method.sipas_mean" }))
                    " " (tf(lang, "method.sipas_points", &[("points", &points(ctx.lang, sipas.index_points))])) }
                table {
                    thead { tr { th { (ctx.t("method.part")) } th { (ctx.t("method.element")) } th.num { (ctx.t("method.items")) } } }
                    tbody { @for e in &sipas.elements { tr {
                        td { (e.part) } td { (e.code) " " (e.name.get(lang)) } td.num { (e.items.len()) }
                    } } }
                }
            }
        },
    )
}
