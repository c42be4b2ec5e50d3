//! The accounts pages for administrators: every account with its role, status and units and
//! the form that adds one, one account's page to change its role, assign a coordinator's
//! units, (de)activate it and replace its password link, the page that shows a fresh link
//! once, and the page where a new account's owner chooses their password.

use maud::{Markup, html};

use super::components::{FieldError, Input, error_summary};
use super::layout::{PageContext, page, titled_page};
use crate::app::accounts::{AccountDetail, AccountSummary};
use crate::db::units::{UnitRow, UnitSetRow};
use crate::db::users::User;
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

/// What was typed into the form that adds an account, shown again after an error.
#[derive(Debug, Clone)]
pub struct NewAccountValues {
    /// Name typed.
    pub name: String,
    /// E-mail typed.
    pub email: String,
    /// Role code chosen.
    pub role: String,
}

impl Default for NewAccountValues {
    /// An empty form, with the role most accounts get.
    fn default() -> Self {
        Self {
            name: String::new(),
            email: String::new(),
            role: Role::Coordinator.code().to_owned(),
        }
    }
}

/// The role select of the add form, with its error beside it like [`Input`]'s.
fn role_select(ctx: &PageContext, chosen: &str, errors: &[FieldError]) -> Markup {
    let error = errors.iter().find(|e| e.field == "role");
    html! {
        div.field.has-error[error.is_some()] {
            label for="role" { (ctx.t("accounts.role")) }
            @if let Some(e) = error { p.error-message #role-error { (ctx.t(e.message_key)) } }
            select #role name="role" aria-describedby=[error.map(|_| "role-error")]
                aria-invalid=[error.map(|_| "true")] {
                @for role in ROLES {
                    option value=(role.code()) selected[role.code() == chosen] { (ctx.t(role.label_key())) }
                }
            }
        }
    }
}

/// `/admin/accounts`: every account, and the form that adds one (with `values` and `errors`
/// after a refused submission).
pub fn list(
    ctx: &PageContext,
    accounts: &[AccountSummary],
    values: &NewAccountValues,
    errors: &[FieldError],
) -> Markup {
    titled_page(
        ctx,
        "accounts.title",
        html! {
            (error_summary(ctx, errors))
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
                        td {
                            (status(ctx, a.user.active))
                            @if !a.user.has_password() { " (" (ctx.t("accounts.awaiting_password")) ")" }
                        }
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

            h2 #add { (ctx.t("accounts.add.title")) }
            p { (ctx.t("accounts.add.intro")) }
            form method="post" action="/admin/accounts" novalidate {
                (ctx.csrf_field())
                (Input { name: "name", kind: "text", label_key: "accounts.name", hint_key: None, value: &values.name, autocomplete: "off" }.render(ctx, errors))
                (Input { name: "email", kind: "email", label_key: "accounts.email", hint_key: None, value: &values.email, autocomplete: "off" }.render(ctx, errors))
                (role_select(ctx, &values.role, errors))
                div.actions { button.btn type="submit" { (ctx.t("accounts.add.submit")) } }
            }
            p.hint { (ctx.t("accounts.create_hint")) }
        },
    )
}

/// The page after an account was added or given a new link. `link` is the full address,
/// present only on the first view after it was made (it is never stored and so never shown
/// again).
pub fn link_page(ctx: &PageContext, user: &User, link: Option<&str>) -> Markup {
    let title = tf(ctx.lang, "accounts.link.title", &[("name", &user.name)]);
    page(
        ctx,
        &title,
        html! {
            p { a href={ "/admin/accounts/" (user.id) } { "← " (ctx.t("accounts.link.to_account")) } }
            h1 { (title) }
            @if let Some(link) = link {
                p.lead { (tf(ctx.lang, "accounts.link.give", &[("name", &user.name), ("email", &user.email)])) }
                p { code #account-link { (link) } }
            } @else if user.has_password() {
                p { (ctx.t("accounts.link.has_password")) }
            } @else {
                p { (ctx.t("accounts.link.not_shown")) }
                (new_link_form(ctx, user))
            }
        },
    )
}

/// The button that replaces an account's password link (or says why it cannot).
fn new_link_form(ctx: &PageContext, user: &User) -> Markup {
    html! {
        @if user.active {
            form method="post" action={ "/admin/accounts/" (user.id) "/link" } {
                (ctx.csrf_field())
                button.btn type="submit" { (ctx.t("accounts.link.new")) }
            }
        } @else {
            p { (ctx.t("accounts.error.link_inactive")) }
        }
    }
}

/// The form with which a new account's owner chooses a password, reached by their link.
pub fn welcome(ctx: &PageContext, token: &str, email: &str, errors: &[FieldError]) -> Markup {
    titled_page(
        ctx,
        "welcome.title",
        html! {
            p.lead { (tf(ctx.lang, "welcome.intro", &[("email", email)])) }
            (error_summary(ctx, errors))
            form method="post" action={ "/admin/welcome/" (token) } novalidate {
                (ctx.csrf_field())
                // Password managers file the new password under this address.
                input type="hidden" name="username" value=(email) autocomplete="username";
                (Input { name: "password", kind: "password", label_key: "login.password", hint_key: Some("setup.password_hint"), value: "", autocomplete: "new-password" }.render(ctx, errors))
                (Input { name: "password_confirm", kind: "password", label_key: "setup.password_confirm", hint_key: None, value: "", autocomplete: "new-password" }.render(ctx, errors))
                div.actions { button.btn type="submit" { (ctx.t("welcome.submit")) } }
            }
        },
    )
}

/// The page for a link that does not work: `spent` when it existed (used, replaced, expired,
/// or its account deactivated), else unknown.
pub fn welcome_invalid(ctx: &PageContext, spent: bool) -> Markup {
    let (title, body) = if spent {
        ("welcome.spent.title", "welcome.spent.body")
    } else {
        ("welcome.unknown.title", "welcome.unknown.body")
    };
    page(
        ctx,
        ctx.t(title),
        html! {
            h1 { (ctx.t(title)) }
            p.lead { (ctx.t(body)) }
            p { a href="/admin/login" { (ctx.t("login.title")) } }
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
                button.btn.secondary type="submit" { (ctx.t("accounts.role_save")) }
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
                    button.btn type="submit" { (ctx.t("accounts.units_save")) }
                }
            } @else {
                p { (ctx.t("accounts.units_only_coordinators")) }
            }

            @if !user.has_password() {
                h2 #link { (ctx.t("accounts.link.section")) }
                p { (ctx.t("accounts.link.pending")) }
                (new_link_form(ctx, user))
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
                    button.btn type="submit" { (ctx.t("accounts.activate")) }
                }
            }
        },
    )
}
