//! The accounts pages for administrators: every account with its role, status and units, and
//! one account's page to change its role, assign a coordinator's units and (de)activate it.

use maud::{Markup, html};

use super::layout::{PageContext, page};
use crate::app::accounts::{AccountDetail, AccountSummary};
use crate::db::units::{UnitRow, UnitSetRow};
use crate::domain::account::Role;
use crate::i18n::{Lang, tf};

/// The roles offered on the role form, in this order.
const ROLES: [Role; 3] = [Role::Admin, Role::Coordinator, Role::Analyst];

fn unit_name(lang: Lang, unit: &UnitRow) -> &str {
    match lang {
        Lang::Vi => &unit.name_vi,
        Lang::En => &unit.name_en,
    }
}

fn set_name(lang: Lang, set: &UnitSetRow) -> &str {
    match lang {
        Lang::Vi => &set.name_vi,
        Lang::En => &set.name_en,
    }
}

fn status(ctx: &PageContext, active: bool) -> &str {
    ctx.t(if active {
        "accounts.active"
    } else {
        "accounts.inactive"
    })
}

/// `/admin/accounts`: every account.
pub fn list(ctx: &PageContext, accounts: &[AccountSummary]) -> Markup {
    page(
        ctx,
        ctx.t("accounts.title"),
        html! {
            h1 { (ctx.t("accounts.title")) }
            p.lead { (ctx.t("accounts.intro")) }
            table {
                caption { (ctx.t("accounts.title")) }
                thead { tr {
                    th scope="col" { (ctx.t("accounts.name")) }
                    th scope="col" { (ctx.t("accounts.email")) }
                    th scope="col" { (ctx.t("accounts.role")) }
                    th scope="col" { (ctx.t("accounts.status")) }
                    th scope="col" { (ctx.t("accounts.units")) }
                } }
                tbody { @for a in accounts {
                    tr {
                        td { a href={ "/admin/accounts/" (a.user.id) } { (a.user.name) } }
                        td { (a.user.email) }
                        td { (ctx.t(a.user.role.label_key())) }
                        td { (status(ctx, a.user.active)) }
                        td {
                            @if a.user.role != Role::Coordinator {
                                (ctx.t("accounts.units_all_or_none"))
                            } @else if a.units.is_empty() {
                                (ctx.t("accounts.units_none"))
                            } @else {
                                (a.units.iter().map(|u| unit_name(ctx.lang, u)).collect::<Vec<_>>().join(", "))
                            }
                        }
                    }
                } }
            }
            p { (ctx.t("accounts.create_hint")) }
        },
    )
}

/// One account's page. `notice` is the catalogue key of what was just done; `errors` are
/// refusals to show at the top.
pub fn detail(
    ctx: &PageContext,
    account: &AccountDetail,
    notice: Option<&str>,
    errors: &[String],
) -> Markup {
    let user = &account.user;
    let title = tf(ctx.lang, "accounts.detail_title", &[("name", &user.name)]);
    page(
        ctx,
        &title,
        html! {
            p { a href="/admin/accounts" { "← " (ctx.t("accounts.back")) } }
            h1 { (title) }
            @if !errors.is_empty() {
                div.error-summary role="alert" tabindex="-1" aria-labelledby="account-errors" {
                    h2 #account-errors { (ctx.t("form.errors.title")) }
                    ul { @for e in errors { li { (e) } } }
                }
            }
            @if let Some(key) = notice { div.notice role="status" { (ctx.t(key)) } }
            dl {
                dt { (ctx.t("accounts.email")) } dd { (user.email) }
                dt { (ctx.t("accounts.role")) } dd { (ctx.t(user.role.label_key())) }
                dt { (ctx.t("accounts.status")) } dd { (status(ctx, user.active)) }
                dt { (ctx.t("accounts.last_login")) }
                dd { (user.last_login_at.map_or_else(|| "—".to_owned(), |t| t.format("%Y-%m-%d %H:%M UTC").to_string())) }
            }

            h2 #role { (ctx.t("accounts.role_title")) }
            form method="post" action={ "/admin/accounts/" (user.id) "/role" } {
                (ctx.csrf_field())
                label for="role-select" { (ctx.t("accounts.role")) }
                select #role-select name="role" {
                    @for role in ROLES {
                        option value=(role.code()) selected[role == user.role] { (ctx.t(role.label_key())) }
                    }
                }
                p.hint { (ctx.t("accounts.role_hint")) }
                button type="submit" { (ctx.t("accounts.role_save")) }
            }

            h2 #units { (ctx.t("accounts.units_title")) }
            @if user.role == Role::Coordinator {
                p.hint { (ctx.t("accounts.units_hint")) }
                form method="post" action={ "/admin/accounts/" (user.id) "/units" } {
                    (ctx.csrf_field())
                    @for (set, units) in &account.sets {
                        @let chosen = units.iter().filter(|u| account.assigned.contains(&u.id)).count();
                        details open[chosen > 0] {
                            summary {
                                (set_name(ctx.lang, set)) " "
                                (tf(ctx.lang, "accounts.units_chosen", &[("count", &chosen.to_string()), ("total", &units.len().to_string())]))
                            }
                            fieldset {
                                legend { (set_name(ctx.lang, set)) }
                                @for unit in units {
                                    label {
                                        input type="checkbox" name="unit" value=(unit.id) checked[account.assigned.contains(&unit.id)];
                                        " " (unit.code) " — " (unit_name(ctx.lang, unit))
                                    }
                                }
                            }
                        }
                    }
                    button type="submit" { (ctx.t("accounts.units_save")) }
                }
            } @else {
                p { (ctx.t("accounts.units_only_coordinators")) }
            }

            h2 #status { (ctx.t("accounts.status_title")) }
            @if user.active {
                p { (ctx.t("accounts.deactivate_hint")) }
                form method="post" action={ "/admin/accounts/" (user.id) "/deactivate" } {
                    (ctx.csrf_field())
                    button.danger type="submit" { (ctx.t("accounts.deactivate")) }
                }
            } @else {
                p { (ctx.t("accounts.activate_hint")) }
                form method="post" action={ "/admin/accounts/" (user.id) "/activate" } {
                    (ctx.csrf_field())
                    button type="submit" { (ctx.t("accounts.activate")) }
                }
            }
        },
    )
}
