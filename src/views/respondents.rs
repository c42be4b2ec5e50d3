//! The respondent-list parts of the admin pages: where to get a template to fill in.

use maud::{Markup, html};

use super::layout::PageContext;

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
