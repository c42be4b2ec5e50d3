//! Administration pages: login, first-admin setup and the dashboard.

use maud::{Markup, html};

use super::components::{FieldError, Input, error_summary};
use super::layout::{PageContext, titled_page};
use crate::domain::account::Role;
use crate::i18n::tf;

/// The login form; `failed` shows the generic failure message, `notice_key` an information
/// line, and `next` (already checked to be a local path) is carried to the submission.
pub fn login(
    ctx: &PageContext,
    email: &str,
    failed: bool,
    notice_key: Option<&str>,
    next: Option<&str>,
) -> Markup {
    let errors: Vec<FieldError> = if failed {
        vec![FieldError {
            field: "email",
            message_key: "login.failed",
        }]
    } else {
        Vec::new()
    };
    titled_page(
        ctx,
        "login.title",
        html! {
            @if let Some(key) = notice_key { div.notice role="status" { (ctx.t(key)) } }
            (error_summary(ctx, &errors))
            form method="post" action="/admin/login" novalidate {
                (ctx.csrf_field())
                @if let Some(next) = next { input type="hidden" name="next" value=(next); }
                (Input { name: "email", kind: "email", label_key: "login.email", hint_key: None, value: email, autocomplete: "username" }.render(ctx, &errors))
                (Input { name: "password", kind: "password", label_key: "login.password", hint_key: None, value: "", autocomplete: "current-password" }.render(ctx, &[]))
                div.actions { button.btn type="submit" { (ctx.t("login.submit")) } }
            }
        },
    )
}

/// The values typed into the setup form, shown again after an error (passwords excepted).
#[derive(Debug, Default, Clone)]
pub struct SetupValues {
    /// E-mail typed.
    pub email: String,
    /// Name typed.
    pub name: String,
}

/// The form that creates the first administrator.
pub fn setup(
    ctx: &PageContext,
    token: &str,
    values: &SetupValues,
    errors: &[FieldError],
) -> Markup {
    titled_page(
        ctx,
        "setup.title",
        html! {
            p.lead { (ctx.t("setup.intro")) }
            (error_summary(ctx, errors))
            form method="post" action={ "/admin/setup/" (token) } novalidate {
                (ctx.csrf_field())
                (Input { name: "name", kind: "text", label_key: "setup.name", hint_key: None, value: &values.name, autocomplete: "name" }.render(ctx, errors))
                (Input { name: "email", kind: "email", label_key: "login.email", hint_key: None, value: &values.email, autocomplete: "username" }.render(ctx, errors))
                (Input { name: "password", kind: "password", label_key: "login.password", hint_key: Some("setup.password_hint"), value: "", autocomplete: "new-password" }.render(ctx, errors))
                (Input { name: "password_confirm", kind: "password", label_key: "setup.password_confirm", hint_key: None, value: "", autocomplete: "new-password" }.render(ctx, errors))
                div.actions { button.btn type="submit" { (ctx.t("setup.submit")) } }
            }
        },
    )
}

/// The page shown for an unusable setup link.
pub fn setup_invalid(ctx: &PageContext) -> Markup {
    titled_page(
        ctx,
        "setup.invalid.title",
        html! {
            p.lead { (ctx.t("setup.invalid.body")) }
        },
    )
}

/// The administration home page.
pub fn dashboard(ctx: &PageContext, name: &str, role: Role) -> Markup {
    titled_page(
        ctx,
        "admin.dashboard.title",
        html! {
            p.lead { (tf(ctx.lang, "admin.dashboard.welcome", &[("name", name)])) }
            p { (tf(ctx.lang, "admin.dashboard.role", &[("role", ctx.t(role.label_key()))])) }
            p { (ctx.t("admin.dashboard.next")) }
            ul {
                li { a href="/admin/rounds" { (ctx.t("nav.rounds")) } }
                li { a href="/admin/instruments" { (ctx.t("admin.dashboard.catalog")) } }
                li { a href="/admin/units" { (ctx.t("nav.units")) } }
                @if role == Role::Admin {
                    li { a href="/admin/accounts" { (ctx.t("accounts.title")) } }
                }
            }
        },
    )
}
