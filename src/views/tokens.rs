//! The API tokens page: make, list and revoke the bearer tokens of one's own account.

use maud::{Markup, html};

use super::layout::{PageContext, titled_page};
use crate::db::api_tokens::ApiTokenRow;

fn when(t: Option<chrono::NaiveDateTime>) -> String {
    t.map_or_else(
        || "—".to_owned(),
        |t| t.format("%Y-%m-%d %H:%M UTC").to_string(),
    )
}

/// The list of tokens, with `new_token` shown once right after it was made.
pub fn tokens(ctx: &PageContext, rows: &[ApiTokenRow], new_token: Option<&str>) -> Markup {
    titled_page(
        ctx,
        "tokens.title",
        html! {
            p { (ctx.t("tokens.intro")) " " a href="/api/docs" { "API" } }
            @if let Some(token) = new_token {
                div.notice role="status" {
                    p { strong { (ctx.t("tokens.copy_now")) } }
                    p { code.token { (token) } }
                }
            }
            form method="post" action="/admin/tokens" {
                (ctx.csrf_field())
                label for="name" { (ctx.t("tokens.name")) }
                input #name name="name" required maxlength="100";
                fieldset {
                    legend { (ctx.t("tokens.scope")) }
                    label { input type="radio" name="scope" value="read" checked; " " (ctx.t("tokens.read")) }
                    label { input type="radio" name="scope" value="write"; " " (ctx.t("tokens.write")) }
                }
                button type="submit" { (ctx.t("tokens.create")) }
            }
            @if !rows.is_empty() {
                table {
                    caption { (ctx.t("tokens.yours")) }
                    thead { tr {
                        th scope="col" { (ctx.t("tokens.name")) } th scope="col" { (ctx.t("tokens.scope")) }
                        th scope="col" { (ctx.t("tokens.created")) } th scope="col" { (ctx.t("tokens.last_used")) } th scope="col" { "" }
                    } }
                    tbody { @for t in rows {
                        tr {
                            td { (t.name) } td { (t.scope) } td { (when(Some(t.created_at))) } td { (when(t.last_used_at)) }
                            td {
                                @if t.revoked_at.is_some() { (ctx.t("tokens.revoked")) " " (when(t.revoked_at)) } @else {
                                    form method="post" action={ "/admin/tokens/" (t.id) "/revoke" } {
                                        (ctx.csrf_field())
                                        button.linkbtn type="submit" { (ctx.t("tokens.revoke")) }
                                    }
                                }
                            }
                        }
                    } }
                }
            }
        },
    )
}
