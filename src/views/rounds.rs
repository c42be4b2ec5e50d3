//! Admin pages for survey rounds: the list, one round's set-up and fieldwork page, the
//! coverage table and unit lists (code sheets are in `codes`).

use maud::{Markup, html};

use super::components::{FieldMessage, field_message, message_summary, round_part_page};
use super::format::{name, num, percent, points, position, rank_move, signed};
use super::layout::{PageContext, page, titled_page};
use crate::app::rounds::{CoverageRow, RoundDeletion, RoundForm, RoundList};
use crate::db::instruments::InstrumentSummary;
use crate::db::methodologies::MethodologySummary;
use crate::db::rounds::{RoundGroupRow, RoundRow};
use crate::db::units::{UnitRow, UnitSetRow};
use crate::domain::lifecycle::{RoundAction, RoundStatus};
use crate::domain::local_time::TimeZone;
use crate::i18n::{Lang, tf};

/// A status's plain name ("Đang mở"), for pages that speak of a state rather than a round.
pub(crate) fn status_name(ctx: &PageContext, status: RoundStatus) -> String {
    ctx.t(status.label_key()).to_owned()
}

/// A round's status as shown: an open round before its opening time is "scheduled", with
/// the date it opens, rather than "open".
pub fn status_label(ctx: &PageContext, round: &RoundRow, zone: TimeZone) -> String {
    // The page shows the status at the moment it is drawn.
    let now = chrono::Utc::now().naive_utc();
    match round.opens_at {
        Some(opens) if round.status.is_scheduled(now, round.opens_at) => tf(
            ctx.lang,
            "round.status.scheduled",
            &[("date", &fmt_time(ctx.lang, zone, Some(opens)))],
        ),
        _ => status_name(ctx, round.status),
    }
}

/// A stored (UTC) time in the deployment's zone: `dd/mm/yyyy HH:MM` in Vietnamese,
/// `yyyy-mm-dd HH:MM` in English; "—" when unset.
pub fn fmt_time(lang: Lang, zone: TimeZone, t: Option<chrono::NaiveDateTime>) -> String {
    let pattern = match lang {
        Lang::Vi => "%d/%m/%Y %H:%M",
        Lang::En => "%Y-%m-%d %H:%M",
    };
    t.map(|t| zone.to_local(t).format(pattern).to_string())
        .unwrap_or_else(|| "—".to_owned())
}

/// The zone's name on the pages: "Giờ Việt Nam (Asia/Ho_Chi_Minh)" or "múi giờ Europe/Paris".
pub fn zone_label(lang: Lang, zone: TimeZone) -> String {
    let key = if zone.is_vietnam() {
        "time.zone.vietnam"
    } else {
        "time.zone.other"
    };
    tf(lang, key, &[("zone", zone.name())])
}

pub(super) fn errors_box(ctx: &PageContext, errors: &[String]) -> Markup {
    html! {
        @if !errors.is_empty() {
            div.error-summary role="alert" tabindex="-1" aria-labelledby="round-errors" {
                h2 #round-errors { (ctx.t("round.failed")) }
                ul { @for e in errors { li { (e) } } }
            }
        }
    }
}

/// What a form page shows after a refusal: messages about no field, and each field's.
#[derive(Debug, Clone, Copy, Default)]
pub struct FormProblems<'a> {
    /// Messages about no particular field.
    pub general: &'a [String],
    /// Messages beside their fields.
    pub fields: &'a [FieldMessage],
}

/// `aria-describedby` of field `id`: its hint and its error, when present.
fn described_by(id: &str, hint: bool, error: bool) -> Option<String> {
    let ids: Vec<String> = [
        hint.then(|| format!("{id}-hint")),
        error.then(|| format!("{id}-error")),
    ]
    .into_iter()
    .flatten()
    .collect();
    (!ids.is_empty()).then(|| ids.join(" "))
}

/// The catalogue key of a round form field's label.
fn label_key(id: &str) -> &'static str {
    match id {
        "year" => "round.year",
        "name_vi" => "round.name_vi",
        "name_en" => "round.name_en",
        "opens_at" => "round.opens",
        _ => "round.closes",
    }
}

/// One labelled input of the round form, with its hint, its error and the value typed.
fn form_input(
    ctx: &PageContext,
    id: &'static str,
    kind: &str,
    value: &str,
    hint: Option<&str>,
    fields: &[FieldMessage],
    attrs: (bool, bool),
) -> Markup {
    let (required, narrow) = attrs;
    let error = field_message(fields, id);
    html! {
        div.field.has-error[error.is_some()] {
            label for=(id) { (ctx.t(label_key(id))) }
            @if let Some(hint) = hint { p.hint id={ (id) "-hint" } { (hint) } }
            @if let Some(e) = error { p.error-message id={ (id) "-error" } { (e.text) } }
            input.narrow[narrow] id=(id) name=(id) type=(kind) value=(value) required[required]
                inputmode=[(id == "year").then_some("numeric")]
                aria-describedby=[described_by(id, hint.is_some(), error.is_some())]
                aria-invalid=[error.map(|_| "true")];
        }
    }
}

/// The round form's fields: every one for a new or draft round; for an open round only the
/// closing time (the rest is fixed and shown as text).
fn round_fields(
    ctx: &PageContext,
    form: &RoundForm,
    sets: &[UnitSetRow],
    fields: &[FieldMessage],
    zone: TimeZone,
    open: bool,
) -> Markup {
    let lang = ctx.lang;
    let zone_hint = tf(
        lang,
        "round.time_hint",
        &[("zone", &zone_label(lang, zone))],
    );
    let set_error = field_message(fields, "unit_set");
    html! {
        @if !open {
            (form_input(ctx, "year", "text", form.value("year"), None, fields, (true, true)))
            (form_input(ctx, "name_vi", "text", form.value("name_vi"), None, fields, (true, false)))
            (form_input(ctx, "name_en", "text", form.value("name_en"), None, fields, (false, false)))
            div.field.has-error[set_error.is_some()] {
                label for="unit_set" { (ctx.t("round.unit_set")) }
                @if let Some(e) = set_error { p.error-message #unit_set-error { (e.text) } }
                select #unit_set name="unit_set"
                    aria-describedby=[described_by("unit_set", false, set_error.is_some())]
                    aria-invalid=[set_error.map(|_| "true")] {
                    @for s in sets {
                        option value=(s.code) selected[s.code == form.value("unit_set")] { (name(lang, &s.name_vi, &s.name_en)) }
                    }
                }
            }
            (form_input(ctx, "opens_at", "datetime-local", form.value("opens_at"), Some(&zone_hint), fields, (false, false)))
        }
        (form_input(ctx, "closes_at", "datetime-local", form.value("closes_at"), Some(&zone_hint), fields, (false, false)))
    }
}

/// The list of rounds with the creation form for administrators; after a refusal the form
/// comes back as typed, with each message beside its field and in the summary.
pub fn list(
    ctx: &PageContext,
    list: &RoundList,
    form: &RoundForm,
    can_create: bool,
    problems: FormProblems<'_>,
    zone: TimeZone,
    notice: Option<&str>,
) -> Markup {
    let lang = ctx.lang;
    page(
        ctx,
        ctx.t("round.list.title"),
        html! {
            @if let Some(key) = notice { div.notice role="status" { (ctx.t(key)) } }
            (message_summary(ctx, problems.general, problems.fields))
            h1 { (ctx.t("round.list.title")) }
            @if list.rounds.is_empty() { p { (ctx.t("round.list.empty")) } } @else {
                table {
                    thead { tr { th { (ctx.t("round.year")) } th { (ctx.t("catalog.name")) } th { (ctx.t("round.status")) } th { (ctx.t("round.opens")) } th { (ctx.t("round.closes")) } } }
                    tbody { @for r in &list.rounds { tr {
                        td { (r.year) }
                        td { a href={ "/admin/rounds/" (r.id) } { (name(lang, &r.name_vi, &r.name_en)) } }
                        td { (status_label(ctx, r, zone)) }
                        td { (fmt_time(lang, zone, r.opens_at)) } td { (fmt_time(lang, zone, r.closes_at)) }
                    } } }
                }
                p.hint { (tf(lang, "round.times_in", &[("zone", &zone_label(lang, zone))])) }
            }
            @if can_create {
                h2 #create { (ctx.t("round.create")) }
                form method="post" action="/admin/rounds" novalidate {
                    (ctx.csrf_field())
                    (round_fields(ctx, form, &list.unit_sets, problems.fields, zone, false))
                    button.btn type="submit" { (ctx.t("round.create")) }
                }
            }
        },
    )
}

/// A round's edit page: the round form pre-filled (a draft), or its closing time alone (an
/// open round).
pub fn edit(
    ctx: &PageContext,
    round: &RoundRow,
    form: &RoundForm,
    sets: &[UnitSetRow],
    problems: FormProblems<'_>,
    zone: TimeZone,
) -> Markup {
    let lang = ctx.lang;
    let open = round.status == RoundStatus::Open;
    let base = format!("/admin/rounds/{}", round.id);
    let title = if open {
        ctx.t("round.extend")
    } else {
        ctx.t("round.edit")
    };
    page(
        ctx,
        title,
        html! {
            p { a href=(base) { "← " (name(lang, &round.name_vi, &round.name_en)) } }
            (message_summary(ctx, problems.general, problems.fields))
            h1 { (title) }
            @if open {
                p { (ctx.t("round.edit.open_hint")) }
                table { tbody {
                    tr { th { (ctx.t("round.year")) } td { (round.year) } }
                    tr { th { (ctx.t("catalog.name")) } td { (name(lang, &round.name_vi, &round.name_en)) } }
                    tr { th { (ctx.t("round.opens")) } td { (fmt_time(lang, zone, round.opens_at)) } }
                    tr { th { (ctx.t("round.closes")) } td { (fmt_time(lang, zone, round.closes_at)) } }
                } }
            }
            form method="post" action={ (base) "/edit" } novalidate {
                (ctx.csrf_field())
                (round_fields(ctx, form, sets, problems.fields, zone, open))
                div.actions {
                    button.btn type="submit" { (ctx.t("round.save_changes")) }
                    a.btn.secondary href=(base) { (ctx.t("round.cancel")) }
                }
            }
        },
    )
}

/// The confirmation step before a draft round is deleted: what goes with it.
pub fn delete_confirm(ctx: &PageContext, deletion: &RoundDeletion) -> Markup {
    let lang = ctx.lang;
    let r = &deletion.round;
    let base = format!("/admin/rounds/{}", r.id);
    let round_name = name(lang, &r.name_vi, &r.name_en);
    page(
        ctx,
        ctx.t("round.delete"),
        html! {
            p { a href=(base) { "← " (round_name) } }
            h1 { (tf(lang, "round.delete.title", &[("name", round_name)])) }
            div.notice {
                p { (tf(lang, "round.delete.will_remove", &[
                    ("respondents", &deletion.respondents.to_string()),
                    ("codes", &deletion.codes.to_string()),
                    ("messages", &deletion.queued_messages.to_string()),
                ])) }
            }
            form method="post" action={ (base) "/delete" } {
                (ctx.csrf_field())
                div.actions {
                    button.btn type="submit" { (ctx.t("round.delete.confirm")) }
                    a.btn.secondary href=(base) { (ctx.t("round.cancel")) }
                }
            }
        },
    )
}

/// Everything the round page shows.
#[derive(Debug)]
pub struct RoundPage<'a> {
    /// The round.
    pub round: &'a RoundRow,
    /// Its unit set.
    pub unit_set: &'a UnitSetRow,
    /// Its units.
    pub units: &'a [UnitRow],
    /// Configured groups.
    pub groups: &'a [RoundGroupRow],
    /// Every stored instrument, for the configuration form.
    pub instruments: &'a [InstrumentSummary],
    /// Every stored methodology.
    pub methodologies: &'a [MethodologySummary],
    /// Each group with the questionnaire and methodology its form offers first.
    pub group_choices: &'a [crate::app::rounds::GroupChoice],
    /// Target per group code when the same for every unit (None if mixed or unset).
    pub targets: &'a [(String, Option<i32>)],
    /// Respondents listed (in the user's units when `respondents_in_my_units`).
    pub respondents: i64,
    /// Whether `respondents` counts only a coordinator's own units.
    pub respondents_in_my_units: bool,
    /// Outbox counts by status.
    pub outbox: &'a [(crate::domain::mail_outbox::OutboxStatus, i64)],
    /// Open links with their progress.
    pub open_links: &'a [crate::app::rounds::OpenLinkLine],
    /// The viewer may change the round.
    pub can_manage: bool,
    /// Lifecycle actions the viewer may take now.
    pub actions: &'a [RoundAction],
    /// SMTP is configured.
    pub mail_configured: bool,
    /// Errors of the last action.
    pub errors: &'a [String],
    /// Catalogue key of a success notice.
    pub notice: Option<&'a str>,
    /// Earlier rounds it can be compared with: (id, label).
    pub earlier_rounds: &'a [(i64, String)],
    /// Field errors of the last form (the targets form).
    pub field_errors: &'a [FieldMessage],
    /// The targets form as last typed: (group code, target).
    pub target_form: (&'a str, &'a str),
    /// The deployment's time zone, for showing times.
    pub zone: TimeZone,
}

/// One round: status and actions, configuration, respondents, codes, mail, open links.
pub fn round(ctx: &PageContext, p: &RoundPage<'_>) -> Markup {
    let lang = ctx.lang;
    let r = p.round;
    let base = format!("/admin/rounds/{}", r.id);
    let status = r.status;
    let frozen = status.config_frozen();
    page(
        ctx,
        name(lang, &r.name_vi, &r.name_en),
        html! {
            p { a href="/admin/rounds" { "← " (ctx.t("round.list.title")) } }
            @if let Some(key) = p.notice { div.notice role="status" { (ctx.t(key)) } }
            (message_summary(ctx, p.errors, p.field_errors))
            h1 { (name(lang, &r.name_vi, &r.name_en)) }
            table { tbody {
                tr { th { (ctx.t("round.status")) } td { strong { (status_label(ctx, r, p.zone)) } } }
                tr { th { (ctx.t("round.year")) } td { (r.year) } }
                tr { th { (ctx.t("round.unit_set")) } td { (name(lang, &p.unit_set.name_vi, &p.unit_set.name_en)) " (" (p.units.len()) ")" } }
                tr { th { (ctx.t("round.opens")) } td { (fmt_time(lang, p.zone, r.opens_at)) } }
                tr { th { (ctx.t("round.closes")) } td { (fmt_time(lang, p.zone, r.closes_at)) } }
            } }
            p.hint { (tf(lang, "round.times_in", &[("zone", &zone_label(lang, p.zone))])) }
            @if p.can_manage && matches!(status, RoundStatus::Draft | RoundStatus::Open) {
                div.actions {
                    a.btn.secondary href={ (base) "/edit" } {
                        (ctx.t(if status == RoundStatus::Open { "round.extend" } else { "round.edit" }))
                    }
                    @if status == RoundStatus::Draft {
                        a.btn.secondary href={ (base) "/delete" } { (ctx.t("round.delete")) }
                    }
                }
            }
            div.actions {
                a.btn.secondary href={ (base) "/coverage" } { (ctx.t("round.coverage")) }
                a.btn.secondary href={ (base) "/scores" } { (ctx.t("scores.title")) }
                a.btn.secondary href={ (base) "/quality" } { (ctx.t("quality.title")) }
                @if status == RoundStatus::Open { a.btn.secondary href={ (base) "/paper" } { (ctx.t("paper.title")) } }
                @if status == RoundStatus::Open && p.can_manage { a.btn.secondary #field-link href={ (base) "/field" } { (ctx.t("field.link")) } }
                @if p.can_manage { a.btn.secondary #sample-link href={ (base) "/sample" } { (ctx.t("round.sample.page_title")) } }
                // Each action is confirmed on its own page, which says what it will do.
                @for action in p.actions {
                    a.btn href={ (base) "/actions/" (action.code()) } { (ctx.t(action.label_key())) }
                }
            }

            @if p.can_manage && !p.earlier_rounds.is_empty() {
                form method="post" action={ (base) "/compare" } {
                    (ctx.csrf_field())
                    div.field { label for="earlier" { (ctx.t("round.compare_with")) }
                        select #earlier name="earlier" {
                            option value="" { "—" }
                            @for (id, label) in p.earlier_rounds {
                                option value=(id) selected[r.compare_round_id == Some(*id)] { (label) }
                            }
                        }
                    }
                    button.btn.secondary type="submit" { (ctx.t("round.save")) }
                }
            }
            h2 { (ctx.t("round.groups")) }
            @if p.groups.is_empty() { p { (ctx.t("round.groups_none")) } } @else {
                table {
                    thead { tr { th { (ctx.t("catalog.group")) } th { (ctx.t("catalog.instruments")) } th { (ctx.t("catalog.methodologies")) } th.num { (ctx.t("round.target")) } } }
                    tbody { @for g in p.groups { tr {
                        td { (ctx.t(&format!("group.{}", g.group_code))) }
                        td { a href={ "/admin/instruments/" (g.instrument_id) } { (g.instrument_code) " v" (g.instrument_version) } }
                        td { a href={ "/admin/methodologies/" (g.methodology_id) } { (g.methodology_code) " v" (g.methodology_version) } }
                        td.num { (p.targets.iter().find(|(c, _)| c == &g.group_code).and_then(|(_, t)| *t).map(|t| t.to_string()).unwrap_or_else(|| "—".to_owned())) }
                    } } }
                }
            }
            @if p.can_manage && !frozen {
                // One form per group, each offering the group's own questionnaire first: a
                // single form could not follow the chosen group without a script.
                div.card {
                    h3 { (ctx.t("round.set_group")) }
                    @for choice in p.group_choices {
                        @let id = |field: &str| format!("{field}-{}", choice.group);
                        form.group-binding method="post" action={ (base) "/groups" } {
                            (ctx.csrf_field())
                            input type="hidden" name="group" value=(choice.group);
                            fieldset {
                                legend { (ctx.t(&format!("group.{}", choice.group))) }
                                div.field { label for=(id("instrument_id")) { (ctx.t("catalog.instruments")) }
                                    select id=(id("instrument_id")) name="instrument_id" { @for i in p.instruments {
                                        option value=(i.id) selected[choice.instrument_id == Some(i.id)] { (i.code) " v" (i.version) " — " (ctx.t(&format!("group.{}", i.group_code))) }
                                    } } }
                                div.field { label for=(id("methodology_id")) { (ctx.t("catalog.methodologies")) }
                                    select id=(id("methodology_id")) name="methodology_id" { @for m in p.methodologies {
                                        option value=(m.id) selected[choice.methodology_id == Some(m.id)] { (m.code) " v" (m.version) }
                                    } } }
                                button.btn type="submit" { (ctx.t("round.save")) }
                            }
                        }
                    }
                }
            }
            @if p.can_manage && matches!(status, RoundStatus::Draft | RoundStatus::Open) {
                @let (target_group, target_value) = p.target_form;
                @let target_error = field_message(p.field_errors, "target");
                div.card {
                    form method="post" action={ (base) "/targets" } novalidate {
                        (ctx.csrf_field())
                        h3 { (ctx.t("round.set_targets")) }
                        div.field { label for="tgroup" { (ctx.t("catalog.group")) }
                            select #tgroup name="group" { @for g in ["leader", "civil_servant", "citizen"] { option value=(g) selected[g == target_group] { (ctx.t(&format!("group.{g}"))) } } } }
                        div.field.has-error[target_error.is_some()] {
                            label for="target" { (ctx.t("round.target_per_unit")) }
                            @if let Some(e) = target_error { p.error-message #target-error { (e.text) } }
                            input.narrow #target name="target" type="text" inputmode="numeric" required value=(target_value)
                                aria-describedby=[target_error.map(|_| "target-error")]
                                aria-invalid=[target_error.map(|_| "true")];
                        }
                        button.btn type="submit" { (ctx.t("round.save")) }
                    }
                }
            }

            h2 { (ctx.t("round.respondents")) }
            @let count_key = if p.respondents_in_my_units { "round.respondents_count_units" } else { "round.respondents_count" };
            p #respondent-count { (tf(lang, count_key, &[("n", &p.respondents.to_string())])) }
            @if p.can_manage || p.respondents_in_my_units { (super::respondents::roster_link(ctx, &base)) }
            @if p.can_manage && matches!(status, RoundStatus::Draft | RoundStatus::Open) {
                div.card {
                    (super::respondents::template_links(ctx, &base))
                    form method="post" action={ (base) "/respondents" } enctype="multipart/form-data" {
                        (ctx.csrf_field())
                        div.field { label for="rfile" { (ctx.t("round.respondent_file")) } p.hint { (ctx.t("round.respondent_hint")) }
                            input #rfile type="file" name="file" accept=".csv,.xlsx" required; }
                        button.btn type="submit" { (ctx.t("catalog.import")) }
                    }
                }
                h2 { (ctx.t("round.codes")) }
                p { (ctx.t("round.codes_hint")) }
                div.card {
                    form method="post" action={ (base) "/codes" } {
                        (ctx.csrf_field())
                        div.field { label for="unit_id" { (ctx.t("round.unit")) }
                            select #unit_id name="unit_id" { option value="" { (ctx.t("round.all_units")) } @for u in p.units { option value=(u.id) { (name(lang, &u.name_vi, &u.name_en)) } } } }
                        fieldset { legend { (ctx.t("round.codes_format")) }
                            div.choice { input #fmt-sheet type="radio" name="format" value="sheet" checked; label for="fmt-sheet" { (ctx.t("round.codes_sheet")) } }
                            div.choice { input #fmt-csv type="radio" name="format" value="csv"; label for="fmt-csv" { (ctx.t("round.codes_csv")) } }
                        }
                        button.btn type="submit" { (ctx.t("round.codes_issue")) }
                    }
                    p { a href={ (base) "/codes/reissue" } { (ctx.t("round.reissue")) } " — " (ctx.t("round.reissue_hint")) }
                }
                h2 { (ctx.t("round.mail")) }
                @if p.mail_configured {
                    div.actions {
                        form method="post" action={ (base) "/invitations" } { (ctx.csrf_field()) button.btn type="submit" { (ctx.t("round.send_invitations")) } }
                        @if status == RoundStatus::Open {
                            form method="post" action={ (base) "/reminders" } { (ctx.csrf_field()) button.btn.secondary type="submit" { (ctx.t("round.send_reminders")) } }
                        }
                    }
                } @else {
                    div.notice { p { (ctx.t("round.mail_off")) } }
                }
                @if !p.outbox.is_empty() {
                    p { @for (status, n) in p.outbox { span.tag { (ctx.t(&format!("mail.status.{status}"))) ": " (n) } " " } }
                }
                h2 { (ctx.t("round.open_links")) }
                p { (ctx.t("round.open_links_hint")) }
                @if !p.open_links.is_empty() {
                    table {
                        thead { tr {
                            th { (ctx.t("round.unit")) } th { (ctx.t("catalog.group")) } th.num { (ctx.t("round.quota")) }
                            th.num { (ctx.t("round.link_completed")) } th.num { (ctx.t("round.link_in_progress")) } th.num { (ctx.t("round.issued")) }
                            th { (ctx.t("round.link")) }
                        } }
                        tbody { @for l in p.open_links { tr {
                            td { (l.unit_name) } td { (ctx.t(&format!("group.{}", l.group_code))) } td.num { (l.quota) }
                            td.num { (l.completed) } td.num { (l.in_progress) } td.num { (l.handed_out) } td { code { (l.url) } }
                        } } }
                    }
                    p.hint { (tf(lang, "round.open_links_expiry", &[("days", &crate::domain::access_code::OPEN_LINK_CODE_DAYS.to_string())])) }
                }
                div.card {
                    form method="post" action={ (base) "/open-links" } {
                        (ctx.csrf_field())
                        div.field { label for="ol_unit" { (ctx.t("round.unit")) }
                            select #ol_unit name="unit_id" { @for u in p.units { option value=(u.id) { (name(lang, &u.name_vi, &u.name_en)) } } } }
                        div.field { label for="ol_group" { (ctx.t("catalog.group")) }
                            select #ol_group name="group" { @for g in ["citizen", "leader", "civil_servant"] { option value=(g) { (ctx.t(&format!("group.{g}"))) } } } }
                        div.field { label for="quota" { (ctx.t("round.quota")) } input.narrow #quota name="quota" type="text" inputmode="numeric" required; }
                        button.btn type="submit" { (ctx.t("round.create_link")) }
                    }
                }
            }
        },
    )
}

/// The coverage orders, defined with the sorting in the rounds use case.
pub use crate::app::rounds::CoverageSort;

/// The coverage table: unit × group with target, listed, invited, started, completed (and of
/// those, how many came from paper forms and from the field), rate.
pub fn coverage(
    ctx: &PageContext,
    round: &RoundRow,
    rows: &[CoverageRow],
    sort: CoverageSort,
) -> Markup {
    let lang = ctx.lang;
    let base = format!("/admin/rounds/{}/coverage", round.id);
    let sort_link = |key: &str, label: &str, active: bool| {
        html! {
            @if active { span.tag aria-current="true" { (label) } } @else { a href={ (base) "?sort=" (key) } { (label) } }
        }
    };
    let total = |f: fn(&CoverageRow) -> i64| rows.iter().map(f).sum::<i64>();
    round_part_page(
        ctx,
        round,
        "round.coverage",
        html! {
            p { (ctx.t("round.sort_by")) " "
                (sort_link("unit", ctx.t("round.unit"), sort == CoverageSort::Unit)) " · "
                (sort_link("rate", ctx.t("round.rate"), sort == CoverageSort::Rate)) " · "
                (sort_link("completed", ctx.t("round.completed"), sort == CoverageSort::Completed)) " · "
                a href={ (base) "?format=csv" } download { (ctx.t("round.download_csv")) } }
            table {
                caption.visually-hidden { (ctx.t("round.coverage")) }
                thead { tr {
                    th scope="col" { (ctx.t("round.unit")) } th scope="col" { (ctx.t("catalog.group")) }
                    th.num scope="col" { (ctx.t("round.target")) } th.num scope="col" { (ctx.t("round.listed")) }
                    th.num scope="col" { (ctx.t("round.invited")) } th.num scope="col" { (ctx.t("round.started")) }
                    th.num scope="col" { (ctx.t("round.completed")) }
                    th.num scope="col" { (ctx.t("round.paper")) } th.num scope="col" { (ctx.t("round.field")) }
                    th.num scope="col" { (ctx.t("round.rate")) }
                } }
                tbody { @for row in rows { tr.behind[row.behind_target()] {
                    td { (name(lang, &row.unit_name_vi, &row.unit_name_en)) }
                    td { (ctx.t(&format!("group.{}", row.group_code))) }
                    td.num { (row.target) } td.num { (row.listed) } td.num { (row.invited) }
                    td.num { (row.started) } td.num { (row.completed) }
                    td.num.paper { (row.paper) } td.num.field { (row.field) }
                    td.num { (row.response_rate().map(|r| percent(ctx.lang, r)).unwrap_or_else(|| "—".to_owned()))
                        @if row.behind_target() { " " span.tag { (ctx.t("round.behind")) } } }
                } } }
                tfoot { tr {
                    th colspan="2" { (ctx.t("round.total")) }
                    td.num { (total(|r| r.target)) } td.num { (total(|r| r.listed)) } td.num { (total(|r| r.invited)) }
                    td.num { (total(|r| r.started)) } td.num { (total(|r| r.completed)) }
                    td.num #paper-total { (total(|r| r.paper)) } td.num #field-total { (total(|r| r.field)) } td {}
                } }
            }
            (sample_coverage(ctx, rows))
        },
    )
}

/// The random sample per unit × group with the AAPOR rates RR1 and COOP1, when the round has
/// a drawn sample (docs/sampling.md); nothing otherwise.
fn sample_coverage(ctx: &PageContext, rows: &[CoverageRow]) -> Markup {
    let lang = ctx.lang;
    let rate = |r: Option<f64>| r.map_or_else(|| "—".to_owned(), |r| percent(lang, r * 100.0));
    if rows.iter().all(|r| r.sample.is_none()) {
        return html! {};
    }
    html! {
        h2 #sample { (ctx.t("round.sample.title")) }
        p { (ctx.t("round.sample.explained")) }
        table #sample-coverage {
            caption.visually-hidden { (ctx.t("round.sample.title")) }
            thead { tr {
                th scope="col" { (ctx.t("round.unit")) } th scope="col" { (ctx.t("catalog.group")) }
                th.num scope="col" { (ctx.t("round.sample.frame")) } th.num scope="col" { (ctx.t("round.sample.sampled")) }
                th.num scope="col" { (ctx.t("round.sample.replaced")) } th.num scope="col" { (ctx.t("round.invited")) }
                th.num scope="col" { (ctx.t("round.started")) } th.num scope="col" { (ctx.t("round.completed")) }
                th.num scope="col" { (ctx.t("round.sample.refused_ineligible")) }
                th.num scope="col" { abbr title=(ctx.t("round.sample.rr1_title")) { "RR1" } }
                th.num scope="col" { abbr title=(ctx.t("round.sample.coop1_title")) { "COOP1" } }
            } }
            tbody { @for row in rows { @if let Some(s) = &row.sample { tr {
                td { (name(lang, &row.unit_name_vi, &row.unit_name_en)) }
                td { (ctx.t(&format!("group.{}", row.group_code))) }
                td.num { (s.frame) } td.num { (s.sampled) } td.num { (s.replaced) }
                td.num { (row.invited) } td.num { (row.started) } td.num { (row.completed) }
                td.num { (s.refused) " / " (s.ineligible) }
                td.num.rr1 { (rate(s.rr1)) } td.num.coop1 { (rate(s.coop1)) }
            } } } }
        }
    }
}

/// The unit lists with the import form.
pub fn unit_sets(
    ctx: &PageContext,
    sets: &[(UnitSetRow, usize)],
    can_import: bool,
    errors: &[String],
) -> Markup {
    let lang = ctx.lang;
    titled_page(
        ctx,
        "units.title",
        html! {
            (errors_box(ctx, errors))
            table {
                thead { tr { th { (ctx.t("catalog.code")) } th { (ctx.t("catalog.name")) } th.num { (ctx.t("units.count")) } th { (ctx.t("catalog.origin")) } } }
                tbody { @for (s, n) in sets { tr {
                    td { code { (s.code) } } td { (name(lang, &s.name_vi, &s.name_en)) } td.num { (n) }
                    td { (ctx.t(if s.builtin { "units.builtin" } else { "catalog.imported" })) }
                } } }
            }
            @if can_import {
                h2 { (ctx.t("units.import")) }
                p { (ctx.t("units.import_hint")) }
                form method="post" action="/admin/units" enctype="multipart/form-data" {
                    (ctx.csrf_field())
                    div.field { label for="code" { (ctx.t("catalog.code")) } input.narrow #code name="code" type="text" required; }
                    div.field { label for="uname" { (ctx.t("catalog.name")) } input #uname name="name" type="text" required; }
                    div.field { label for="ufile" { (ctx.t("units.file")) } input #ufile type="file" name="file" accept=".csv" required; }
                    button.btn type="submit" { (ctx.t("catalog.import")) }
                }
            }
        },
    )
}

/// The live ranking of a round: national and regional ranks, leaders' points, SIPAS and the
/// survey part of the index, computed from the live tallies.
pub fn scores(
    ctx: &PageContext,
    round: &RoundRow,
    scores: &crate::app::scores::RoundScores,
    regions: &std::collections::BTreeMap<String, (String, String)>,
    yoy: Option<&[crate::domain::yoy::UnitChange]>,
    with_excluded: bool,
) -> Markup {
    use crate::domain::scoring::Standing;
    let lang = ctx.lang;
    round_part_page(
        ctx,
        round,
        "scores.title",
        html! {
            p { (ctx.t("scores.live")) " "
                @if with_excluded {
                    strong { (ctx.t("scores.with_excluded")) } " " a href={ "/admin/rounds/" (round.id) "/scores" } { (ctx.t("scores.show_without")) }
                } @else {
                    a href={ "/admin/rounds/" (round.id) "/scores?with_excluded=1" } { (ctx.t("scores.show_with")) }
                }
            }
            @let complete = scores.units.iter().filter(|u| scores.standing(u) == Standing::Ranked).count();
            @let full = scores.full_index();
            p #complete-units { (crate::i18n::tf(lang, "results.complete_units", &[("n", &complete.to_string()), ("total", &scores.units.len().to_string())])) }
            table {
                caption.visually-hidden { (ctx.t("scores.title")) }
                thead { tr {
                    th.num scope="col" { (ctx.t("scores.rank")) } th scope="col" { (ctx.t("round.unit")) }
                    th scope="col" { (ctx.t("scores.region")) } th.num scope="col" { (ctx.t("scores.regional_rank")) }
                    th.num scope="col" { (ctx.t("group.leader")) } th.num scope="col" { "%" }
                    th.num scope="col" { "SIPAS %" } th.num scope="col" { (ctx.t("scores.survey_part")) }
                    @if full { th.num scope="col" { (ctx.t("scores.index_total")) } }
                    @if yoy.is_some() { th.num scope="col" { (ctx.t("scores.change")) } th.num scope="col" { (ctx.t("scores.rank_change")) } }
                } }
                tbody { @for (u, rank) in scores.by_rank() {
                    @let leader = u.groups.iter().find(|g| g.group == "leader");
                    tr {
                        td.num {
                            @match scores.standing(u).label_key() {
                                Some(key) => { (ctx.t(key)) }
                                None => { (position(rank.and_then(|r| r.national))) }
                            }
                        }
                        td { (name(lang, &u.name_vi, &u.name_en)) }
                        td { (regions.get(&u.region).map_or(u.region.as_str(), |(vi, en)| name(lang, vi, en))) }
                        td.num { (position(rank.and_then(|r| r.regional))) }
                        td.num { (num(ctx.lang, leader.and_then(|g| g.points))) }
                        td.num { (num(ctx.lang, leader.and_then(|g| g.percent))) }
                        td.num { (num(ctx.lang, u.sipas_percent())) }
                        td.num { (num(ctx.lang, u.index.survey_points)) " / " (points(ctx.lang, u.index.survey_max_points)) }
                        @if full { td.num { @match u.index_total() { Some(t) => { (points(ctx.lang, t)) " / " (points(ctx.lang, u.index.max_points)) } None => { "—" } } } }
                        @if let Some(changes) = yoy {
                            @let change = changes.iter().find(|c| c.unit == u.unit);
                            td.num { (signed(ctx.lang, change.and_then(|c| c.change_points))) }
                            td.num { (rank_move(change.and_then(|c| c.rank_change))) }
                        }
                    }
                } }
            }
        },
    )
}

/// The data-quality page: flagged responses with a form to exclude each, with a reason.
pub fn quality(
    ctx: &PageContext,
    round: &RoundRow,
    units: &[UnitRow],
    rows: &[crate::db::responses::ResponseForReview],
    can_exclude: bool,
) -> Markup {
    let lang = ctx.lang;
    let base = format!("/admin/rounds/{}/quality", round.id);
    let unit_name = |id: i64| {
        units
            .iter()
            .find(|u| u.id == id)
            .map(|u| name(lang, &u.name_vi, &u.name_en).to_owned())
            .unwrap_or_default()
    };
    round_part_page(
        ctx,
        round,
        "quality.title",
        html! {
            p { (ctx.t("quality.intro")) }
            @if can_exclude {
                form method="post" action={ (base) "/flag" } {
                    (ctx.csrf_field())
                    button.btn.secondary type="submit" { (ctx.t("quality.flag")) }
                }
            }
            @if rows.is_empty() { p { (ctx.t("quality.none")) } } @else {
                table {
                    thead { tr { th { (ctx.t("quality.receipt")) } th { (ctx.t("round.unit")) } th.num { (ctx.t("quality.seconds")) } th { (ctx.t("quality.flags")) } th { (ctx.t("quality.decision")) } } }
                    tbody { @for r in rows { tr {
                        td { code { (r.receipt) } } td { (unit_name(r.unit_id)) }
                        td.num { (r.duration_seconds.map(|d| d.to_string()).unwrap_or_default()) }
                        td { (r.flags.as_deref().unwrap_or("")) }
                        td {
                            @if r.excluded { (ctx.t("quality.excluded")) }
                            @else if can_exclude {
                                form method="post" action={ (base) "/exclude" } {
                                    (ctx.csrf_field())
                                    input type="hidden" name="response_id" value=(r.id);
                                    label for={ "reason-" (r.id) } { (ctx.t("quality.reason")) }
                                    input id={ "reason-" (r.id) } name="reason" type="text" required;
                                    button.btn.secondary type="submit" { (ctx.t("quality.exclude")) }
                                }
                            }
                        }
                    } } }
                }
            }
        },
    )
}
