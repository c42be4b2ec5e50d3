//! The round's sample page (docs/sampling.md): the commitment and the draw as they stand, per
//! unit × group, and the two steps, commit then draw, each behind a confirmation.

use maud::{Markup, html};

use super::format::name;
use super::layout::{PageContext, page};
use super::rounds::{errors_box, fmt_time};
use crate::app::rounds::{MemberLine, SampleState};
use crate::db::rounds::RoundRow;
use crate::domain::local_time::TimeZone;
use crate::domain::sampling::{ReplacementReason, SlotStatus};

/// What the sample page shows.
pub struct SamplePage<'a> {
    /// The round.
    pub round: &'a RoundRow,
    /// The sample, when committed.
    pub sample: Option<&'a SampleState>,
    /// The zone times are shown in.
    pub zone: TimeZone,
    /// Why the last step was refused.
    pub errors: &'a [String],
    /// The members of the unit × group chosen (by row id), in drawn order.
    pub members: (Option<i64>, &'a [MemberLine]),
}

/// The sample page.
pub fn sample(ctx: &PageContext, p: &SamplePage<'_>) -> Markup {
    let lang = ctx.lang;
    let base = format!("/admin/rounds/{}/sample", p.round.id);
    let confirm = |id: &str| {
        html! {
            p { input type="checkbox" name="confirm" value="yes" id=(id) required;
                " " label for=(id) { (ctx.t("round.sample.confirm")) } }
        }
    };
    page(
        ctx,
        ctx.t("round.sample.page_title"),
        html! {
            p { a href={ "/admin/rounds/" (p.round.id) } { "← " (name(lang, &p.round.name_vi, &p.round.name_en)) } }
            h1 { (ctx.t("round.sample.page_title")) }
            (errors_box(ctx, p.errors))
            p { (ctx.t("round.sample.intro")) }
            @match p.sample {
                None => {
                    h2 { (ctx.t("round.sample.commit_title")) }
                    form method="post" action={ (base) "/commit" } {
                        (ctx.csrf_field())
                        p { label for="seed_source" { (ctx.t("round.sample.seed_source")) } br;
                            input #seed_source type="text" name="seed_source" required maxlength="500"; }
                        p { label for="rate" { (ctx.t("round.sample.rate")) } br;
                            input #rate type="text" name="rate" inputmode="decimal"; }
                        p { label for="sizes" { (ctx.t("round.sample.sizes")) } br;
                            textarea #sizes name="sizes" rows="6" cols="40" {} }
                        (confirm("confirm-commit"))
                        button.btn type="submit" { (ctx.t("round.sample.commit")) }
                    }
                }
                Some(s) => {
                    dl #commitment {
                        dt { (ctx.t("round.sample.frame_hash")) } dd { code { (s.commitment.frame_hash) } }
                        dt { (ctx.t("round.sample.seed_source")) } dd { (s.commitment.seed_source) }
                        dt { (ctx.t("round.sample.committed")) }
                        dd { (fmt_time(lang, p.zone, Some(s.commitment.committed_at))) " · " (s.commitment.committed_by) }
                        @if let Some(seed) = &s.commitment.seed {
                            dt { (ctx.t("round.sample.seed")) } dd { code { (seed) } }
                            dt { (ctx.t("round.sample.drawn")) }
                            dd { (fmt_time(lang, p.zone, s.commitment.drawn_at)) " · " (s.commitment.drawn_by.as_deref().unwrap_or_default()) }
                        }
                    }
                    table #sample-strata {
                        thead { tr {
                            th scope="col" { (ctx.t("round.unit")) } th scope="col" { (ctx.t("catalog.group")) }
                            th.num scope="col" { (ctx.t("round.sample.frame")) } th.num scope="col" { (ctx.t("round.sample.size")) }
                            th.num scope="col" { (ctx.t("round.sample.sampled")) } th.num scope="col" { (ctx.t("round.sample.replaced")) }
                            th.num scope="col" { (ctx.t("round.sample.reserve")) } th scope="col" { (ctx.t("round.sample.hash")) }
                        } }
                        tbody { @for st in &s.strata { tr {
                            td { @if s.commitment.seed.is_some() { a href={ (base) "?stratum=" (st.id) "#members" } { (st.unit) } } @else { (st.unit) } } td { (ctx.t(&format!("group.{}", st.group))) }
                            td.num { (st.frame_size) } td.num { (st.sample_size) } td.num { (st.sampled) }
                            td.num { (st.replaced) } td.num { (st.reserve) } td { code { (st.frame_hash) } }
                        } } }
                    }
                    @if let (Some(_), members) = p.members {
                        h2 #members { (ctx.t("round.sample.members")) }
                        table #sample-members {
                            thead { tr {
                                th.num scope="col" { "#" } th scope="col" { (ctx.t("round.sample.name")) }
                                th scope="col" { (ctx.t("round.sample.status")) } th scope="col" { (ctx.t("round.sample.replace")) }
                            } }
                            tbody { @for m in members { tr {
                                td.num { (m.position + 1) }
                                td { (m.name.as_deref().unwrap_or("—")) }
                                td { (status_text(ctx, m.status)) }
                                td { @if let (SlotStatus::Sampled, Some(id)) = (m.status, m.respondent_id) {
                                    form method="post" action={ (base) "/replace" } {
                                        (ctx.csrf_field())
                                        input type="hidden" name="respondent" value=(id);
                                        select name="reason" aria-label=(ctx.t("round.sample.reason")) {
                                            @for r in ReplacementReason::ALL {
                                                option value=(r.code()) { (ctx.t(&format!("round.sample.reason.{}", r.code()))) }
                                            }
                                        }
                                        " " input type="checkbox" name="confirm" value="yes" required id={ "confirm-" (id) };
                                        " " label for={ "confirm-" (id) } { (ctx.t("round.sample.confirm_short")) }
                                        " " button.btn.secondary type="submit" { (ctx.t("round.sample.replace")) }
                                    }
                                } }
                            } } }
                        }
                    }
                    @if s.commitment.seed.is_none() {
                        h2 { (ctx.t("round.sample.draw_title")) }
                        form method="post" action={ (base) "/draw" } {
                            (ctx.csrf_field())
                            p { label for="seed" { (ctx.t("round.sample.seed")) } br;
                                input #seed type="text" name="seed" required maxlength="1000"; }
                            (confirm("confirm-draw"))
                            button.btn type="submit" { (ctx.t("round.sample.draw")) }
                        }
                    }
                }
            }
        },
    )
}

/// Where a drawn member stands, in words.
fn status_text(ctx: &PageContext, status: SlotStatus) -> String {
    match status {
        SlotStatus::Sampled => ctx.t("round.sample.status.sampled").to_owned(),
        SlotStatus::Reserve => ctx.t("round.sample.status.reserve").to_owned(),
        SlotStatus::Replaced(r) => format!(
            "{} ({})",
            ctx.t("round.sample.status.replaced"),
            ctx.t(&format!("round.sample.reason.{}", r.code()))
        ),
    }
}
