//! Admin pages for survey rounds: the list, one round's set-up and fieldwork page, printable
//! code sheets, the coverage table and unit lists.

use maud::{Markup, PreEscaped, html};

use super::format::{name, num, position, rank_move, signed};
use super::layout::{PageContext, page};
use crate::app::rounds::{CoverageRow, IssuedCode};
use crate::db::instruments::InstrumentSummary;
use crate::db::methodologies::MethodologySummary;
use crate::db::rounds::{RoundGroupRow, RoundRow};
use crate::db::units::{UnitRow, UnitSetRow};
use crate::domain::lifecycle::{RoundAction, RoundStatus};
use crate::i18n::{Lang, tf};

fn status_label(ctx: &PageContext, status: RoundStatus) -> String {
    ctx.t(status.label_key()).to_owned()
}

fn fmt_time(t: Option<chrono::NaiveDateTime>) -> String {
    t.map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_else(|| "—".to_owned())
}

fn errors_box(ctx: &PageContext, errors: &[String]) -> Markup {
    html! {
        @if !errors.is_empty() {
            div.error-summary role="alert" tabindex="-1" aria-labelledby="round-errors" {
                h2 #round-errors { (ctx.t("round.failed")) }
                ul { @for e in errors { li { code { (e) } } } }
            }
        }
    }
}

/// The list of rounds with the creation form for administrators.
pub fn list(
    ctx: &PageContext,
    rounds: &[RoundRow],
    sets: &[UnitSetRow],
    can_create: bool,
    errors: &[String],
) -> Markup {
    let lang = ctx.lang;
    page(
        ctx,
        ctx.t("round.list.title"),
        html! {
            h1 { (ctx.t("round.list.title")) }
            (errors_box(ctx, errors))
            @if rounds.is_empty() { p { (ctx.t("round.list.empty")) } } @else {
                table {
                    thead { tr { th { (ctx.t("round.year")) } th { (ctx.t("catalog.name")) } th { (ctx.t("round.status")) } th { (ctx.t("round.opens")) } th { (ctx.t("round.closes")) } } }
                    tbody { @for r in rounds { tr {
                        td { (r.year) }
                        td { a href={ "/admin/rounds/" (r.id) } { (name(lang, &r.name_vi, &r.name_en)) } }
                        td { (status_label(ctx, r.status)) }
                        td { (fmt_time(r.opens_at)) } td { (fmt_time(r.closes_at)) }
                    } } }
                }
            }
            @if can_create {
                h2 { (ctx.t("round.create")) }
                form method="post" action="/admin/rounds" {
                    (ctx.csrf_field())
                    div.field { label for="year" { (ctx.t("round.year")) } input.narrow #year name="year" type="text" inputmode="numeric" required; }
                    div.field { label for="name_vi" { (ctx.t("round.name_vi")) } input #name_vi name="name_vi" type="text" required; }
                    div.field { label for="name_en" { (ctx.t("round.name_en")) } input #name_en name="name_en" type="text"; }
                    div.field { label for="unit_set" { (ctx.t("round.unit_set")) }
                        select #unit_set name="unit_set" { @for s in sets { option value=(s.code) { (name(lang, &s.name_vi, &s.name_en)) } } } }
                    div.field { label for="opens_at" { (ctx.t("round.opens")) } p.hint { (ctx.t("round.time_hint")) }
                        input #opens_at name="opens_at" type="datetime-local"; }
                    div.field { label for="closes_at" { (ctx.t("round.closes")) } input #closes_at name="closes_at" type="datetime-local"; }
                    button.btn type="submit" { (ctx.t("round.create")) }
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
    /// Target per group code when the same for every unit (None if mixed or unset).
    pub targets: &'a [(String, Option<i32>)],
    /// Respondents listed (in the user's units when `respondents_in_my_units`).
    pub respondents: i64,
    /// Whether `respondents` counts only a coordinator's own units.
    pub respondents_in_my_units: bool,
    /// Outbox counts by status.
    pub outbox: &'a [(crate::domain::mail_outbox::OutboxStatus, i64)],
    /// Open links: (unit name, group code, quota, issued, url).
    pub open_links: &'a [(String, String, i32, i32, String)],
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
            (errors_box(ctx, p.errors))
            h1 { (name(lang, &r.name_vi, &r.name_en)) }
            table { tbody {
                tr { th { (ctx.t("round.status")) } td { strong { (status_label(ctx, r.status)) } } }
                tr { th { (ctx.t("round.year")) } td { (r.year) } }
                tr { th { (ctx.t("round.unit_set")) } td { (name(lang, &p.unit_set.name_vi, &p.unit_set.name_en)) " (" (p.units.len()) ")" } }
                tr { th { (ctx.t("round.opens")) } td { (fmt_time(r.opens_at)) } }
                tr { th { (ctx.t("round.closes")) } td { (fmt_time(r.closes_at)) } }
            } }
            div.actions {
                a.btn.secondary href={ (base) "/coverage" } { (ctx.t("round.coverage")) }
                a.btn.secondary href={ (base) "/scores" } { (ctx.t("scores.title")) }
                a.btn.secondary href={ (base) "/quality" } { (ctx.t("quality.title")) }
                @if status == RoundStatus::Open { a.btn.secondary href={ (base) "/paper" } { (ctx.t("paper.title")) } }
                @for action in p.actions {
                    form method="post" action={ (base) "/actions/" (action.code()) } {
                        (ctx.csrf_field())
                        button.btn type="submit" { (ctx.t(&format!("round.action.{}", action.code()))) }
                    }
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
                div.card {
                    form method="post" action={ (base) "/groups" } {
                        (ctx.csrf_field())
                        h3 { (ctx.t("round.set_group")) }
                        div.field { label for="group" { (ctx.t("catalog.group")) }
                            select #group name="group" { @for g in ["leader", "civil_servant", "citizen"] { option value=(g) { (ctx.t(&format!("group.{g}"))) } } } }
                        div.field { label for="instrument_id" { (ctx.t("catalog.instruments")) }
                            select #instrument_id name="instrument_id" { @for i in p.instruments { option value=(i.id) { (i.code) " v" (i.version) " — " (ctx.t(&format!("group.{}", i.group_code))) } } } }
                        div.field { label for="methodology_id" { (ctx.t("catalog.methodologies")) }
                            select #methodology_id name="methodology_id" { @for m in p.methodologies { option value=(m.id) { (m.code) " v" (m.version) } } } }
                        button.btn type="submit" { (ctx.t("round.save")) }
                    }
                }
                div.card {
                    form method="post" action={ (base) "/targets" } {
                        (ctx.csrf_field())
                        h3 { (ctx.t("round.set_targets")) }
                        div.field { label for="tgroup" { (ctx.t("catalog.group")) }
                            select #tgroup name="group" { @for g in ["leader", "civil_servant", "citizen"] { option value=(g) { (ctx.t(&format!("group.{g}"))) } } } }
                        div.field { label for="target" { (ctx.t("round.target_per_unit")) } input.narrow #target name="target" type="text" inputmode="numeric" required; }
                        button.btn type="submit" { (ctx.t("round.save")) }
                    }
                }
            }

            h2 { (ctx.t("round.respondents")) }
            @let count_key = if p.respondents_in_my_units { "round.respondents_count_units" } else { "round.respondents_count" };
            p #respondent-count { (tf(lang, count_key, &[("n", &p.respondents.to_string())])) }
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
                        thead { tr { th { (ctx.t("round.unit")) } th { (ctx.t("catalog.group")) } th.num { (ctx.t("round.quota")) } th.num { (ctx.t("round.issued")) } th { (ctx.t("round.link")) } } }
                        tbody { @for (unit, group, quota, issued, url) in p.open_links { tr {
                            td { (unit) } td { (ctx.t(&format!("group.{group}"))) } td.num { (quota) } td.num { (issued) } td { code { (url) } }
                        } } }
                    }
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

/// Printable code slips: one per respondent, with link, code, QR code and instructions.
pub fn code_sheet(
    ctx: &PageContext,
    round: &RoundRow,
    base_url: &str,
    codes: &[IssuedCode],
) -> Markup {
    page(
        ctx,
        ctx.t("round.codes_sheet"),
        html! {
            div.noprint {
                h1 { (ctx.t("round.codes_sheet")) }
                div.notice { p { (tf(ctx.lang, "round.codes_once", &[("n", &codes.len().to_string())])) } }
            }
            div.slips {
                @for c in codes {
                    div.slip {
                        p.slip-round { (round.name_vi) " / " (round.name_en) }
                        p { strong { (c.name) } " — " (c.unit_name) }
                        div.slip-body {
                            div.qr aria-hidden="true" { (PreEscaped(qr_svg(&crate::app::rounds::code_link(base_url, &c.code)))) }
                            div {
                                p { (crate::i18n::t(Lang::Vi, "slip.instructions")) }
                                p lang="en" { (crate::i18n::t(Lang::En, "slip.instructions")) }
                                p.slip-link { (base_url) "/s" }
                                p.slip-code { (c.code.to_string()) }
                            }
                        }
                    }
                }
            }
        },
    )
}

/// A QR code as inline SVG. The SVG is generated here from a URL made of our own base URL and
/// an alphabet-checked code, so no user data reaches the markup.
fn qr_svg(url: &str) -> String {
    match qrcode::QrCode::new(url.as_bytes()) {
        Ok(code) => code
            .render::<qrcode::render::svg::Color<'_>>()
            .min_dimensions(110, 110)
            .quiet_zone(false)
            .build(),
        Err(_) => String::new(),
    }
}

/// The coverage orders, defined with the sorting in the rounds use case.
pub use crate::app::rounds::CoverageSort;

/// The coverage table: unit × group with target, listed, invited, started, completed, rate.
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
    page(
        ctx,
        ctx.t("round.coverage"),
        html! {
            p { a href={ "/admin/rounds/" (round.id) } { "← " (name(lang, &round.name_vi, &round.name_en)) } }
            h1 { (ctx.t("round.coverage")) }
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
                    th.num scope="col" { (ctx.t("round.completed")) } th.num scope="col" { (ctx.t("round.rate")) }
                } }
                tbody { @for row in rows { tr.behind[row.behind_target()] {
                    td { (name(lang, &row.unit_name_vi, &row.unit_name_en)) }
                    td { (ctx.t(&format!("group.{}", row.group_code))) }
                    td.num { (row.target) } td.num { (row.listed) } td.num { (row.invited) }
                    td.num { (row.started) } td.num { (row.completed) }
                    td.num { (row.response_rate().map(|r| format!("{r:.1} %")).unwrap_or_else(|| "—".to_owned()))
                        @if row.behind_target() { " " span.tag { (ctx.t("round.behind")) } } }
                } } }
                tfoot { tr {
                    th colspan="2" { (ctx.t("round.total")) }
                    td.num { (total(|r| r.target)) } td.num { (total(|r| r.listed)) } td.num { (total(|r| r.invited)) }
                    td.num { (total(|r| r.started)) } td.num { (total(|r| r.completed)) } td {}
                } }
            }
        },
    )
}

/// The unit lists with the import form.
pub fn unit_sets(
    ctx: &PageContext,
    sets: &[(UnitSetRow, usize)],
    can_import: bool,
    errors: &[String],
) -> Markup {
    let lang = ctx.lang;
    page(
        ctx,
        ctx.t("units.title"),
        html! {
            h1 { (ctx.t("units.title")) }
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
    yoy: Option<&[crate::domain::yoy::UnitChange]>,
    with_excluded: bool,
) -> Markup {
    use crate::domain::scoring::{Standing, fmt_points};
    let lang = ctx.lang;
    page(
        ctx,
        ctx.t("scores.title"),
        html! {
            p { a href={ "/admin/rounds/" (round.id) } { "← " (name(lang, &round.name_vi, &round.name_en)) } }
            h1 { (ctx.t("scores.title")) }
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
                        td { (u.region) }
                        td.num { (position(rank.and_then(|r| r.regional))) }
                        td.num { (num(leader.and_then(|g| g.points))) }
                        td.num { (num(leader.and_then(|g| g.percent))) }
                        td.num { (num(u.sipas.as_ref().and_then(|s| s.overall_percent))) }
                        td.num { (num(u.index.survey_points)) " / " (fmt_points(u.index.survey_max_points)) }
                        @if full { td.num { @match u.index_total() { Some(t) => { (fmt_points(t)) " / " (fmt_points(u.index.max_points)) } None => { "—" } } } }
                        @if let Some(changes) = yoy {
                            @let change = changes.iter().find(|c| c.unit == u.unit);
                            td.num { (signed(change.and_then(|c| c.change_points))) }
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
    page(
        ctx,
        ctx.t("quality.title"),
        html! {
            p { a href={ "/admin/rounds/" (round.id) } { "← " (name(lang, &round.name_vi, &round.name_en)) } }
            h1 { (ctx.t("quality.title")) }
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
