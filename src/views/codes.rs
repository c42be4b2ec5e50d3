//! Access-code pages: the printable sheet of slips handed out once (with its CSV download)
//! and the page that reissues codes for lost slips.

use maud::{Markup, PreEscaped, html};

use super::components::{back_to_round, round_part_page};
use super::format::name;
use super::layout::{PageContext, page};
use super::rounds::errors_box;
use crate::app::rounds::IssuedCode;
use crate::db::rounds::RoundRow;
use crate::db::units::UnitRow;
use crate::i18n::{Lang, tf};

/// What a code sheet page carries besides the slips.
#[derive(Debug, Clone, Copy)]
pub struct SheetExtras<'a> {
    /// The codes as a CSV `data:` URI, downloadable again without asking the server.
    pub download_href: &'a str,
    /// The file name the download gets.
    pub download_name: &'a str,
    /// Respondents left alone by a reissue because they already submitted.
    pub already_submitted: usize,
    /// Whether these codes replace earlier ones.
    pub reissued: bool,
}

/// Printable code slips: one per respondent, with link, code, QR code and instructions, and a
/// link that saves the same codes as a CSV file (a `data:` URI: nothing is stored).
pub fn code_sheet(
    ctx: &PageContext,
    round: &RoundRow,
    base_url: &str,
    codes: &[IssuedCode],
    extras: SheetExtras<'_>,
) -> Markup {
    let n = codes.len().to_string();
    page(
        ctx,
        ctx.t("round.codes_sheet"),
        html! {
            div.noprint {
                (back_to_round(ctx, round))
                h1 { (ctx.t("round.codes_sheet")) }
                div.notice role="status" {
                    p { (tf(ctx.lang, if extras.reissued { "round.reissued_once" } else { "round.codes_once" }, &[("n", &n)])) }
                    @if extras.already_submitted > 0 {
                        p { (tf(ctx.lang, "round.reissue_skipped_used", &[("n", &extras.already_submitted.to_string())])) }
                    }
                }
                @if !codes.is_empty() {
                    p.actions {
                        a.btn href=(extras.download_href) download=(extras.download_name) { (ctx.t("round.codes_download")) }
                    }
                    p.hint { (ctx.t("round.codes_download_hint")) }
                }
            }
            div.slips {
                @for c in codes {
                    div.slip {
                        p.slip-round { (round.name_vi) " / " span lang="en" { (round.name_en) } }
                        p { strong { (c.name) } " — " (c.unit_name) " — " (c.group_name) }
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

/// The reissue page: the round's code holders (optionally of one unit, or one respondent,
/// ticked already) with a tick box each, and a form that reissues every code of one unit ×
/// group. `shown` is (unit filter, single respondent).
pub fn reissue(
    ctx: &PageContext,
    round: &RoundRow,
    units: &[UnitRow],
    holders: &[crate::app::rounds::CodeHolderLine],
    shown: (Option<i64>, Option<i64>),
    errors: &[String],
) -> Markup {
    let (unit_filter, only) = shown;
    use crate::domain::access_code::CodeState;
    let lang = ctx.lang;
    let base = format!("/admin/rounds/{}/codes/reissue", round.id);
    round_part_page(
        ctx,
        round,
        "round.reissue",
        html! {
            (errors_box(ctx, errors))
            p { (ctx.t("round.reissue_intro")) }
            h2 { (ctx.t("round.reissue_unit_group")) }
            div.card {
                form method="post" action=(base) {
                    (ctx.csrf_field())
                    input type="hidden" name="mode" value="unit_group";
                    div.field { label for="rg_unit" { (ctx.t("round.unit")) }
                        select #rg_unit name="unit_id" { @for u in units { option value=(u.id) selected[unit_filter == Some(u.id)] { (name(lang, &u.name_vi, &u.name_en)) } } } }
                    div.field { label for="rg_group" { (ctx.t("catalog.group")) }
                        select #rg_group name="group" { @for g in ["leader", "civil_servant", "citizen"] { option value=(g) { (ctx.t(&format!("group.{g}"))) } } } }
                    button.btn type="submit" { (ctx.t("round.reissue_unit_group_button")) }
                }
            }
            h2 { (ctx.t("round.reissue_chosen")) }
            form method="get" action=(base) {
                div.field { label for="filter_unit" { (ctx.t("round.unit")) }
                    select #filter_unit name="unit_id" {
                        option value="" { (ctx.t("round.all_units")) }
                        @for u in units { option value=(u.id) selected[unit_filter == Some(u.id)] { (name(lang, &u.name_vi, &u.name_en)) } }
                    } }
                button.btn.secondary type="submit" { (ctx.t("round.reissue_filter")) }
            }
            @if holders.is_empty() {
                p { (ctx.t("round.reissue_no_holders")) }
            } @else {
                form method="post" action=(base) {
                    (ctx.csrf_field())
                    input type="hidden" name="mode" value="chosen";
                    table {
                        caption { (ctx.t("round.reissue_chosen")) }
                        thead { tr {
                            th { span.visually-hidden { (ctx.t("round.reissue_pick")) } }
                            th { (ctx.t("catalog.name")) } th { (ctx.t("round.unit")) } th { (ctx.t("catalog.group")) } th { (ctx.t("round.code_state")) }
                        } }
                        tbody { @for h in holders { tr {
                            td {
                                @if h.state == CodeState::Used {
                                    "—"
                                } @else {
                                    input type="checkbox" name="respondent" value=(h.respondent_id) id={ "r" (h.respondent_id) } checked[only == Some(h.respondent_id)];
                                }
                            }
                            td { @if h.state == CodeState::Used { (h.name) } @else { label for={ "r" (h.respondent_id) } { (h.name) } } }
                            td { (h.unit_name) }
                            td { (ctx.t(&format!("group.{}", h.group_code))) }
                            td { (ctx.t(&format!("round.code_state.{}", h.state.code()))) }
                        } } }
                    }
                    button.btn type="submit" { (ctx.t("round.reissue_chosen_button")) }
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
