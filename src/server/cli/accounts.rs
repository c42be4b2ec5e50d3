//! `khaosat admin role|units|deactivate|activate`: managing existing accounts from the shell,
//! audited as the service (`cli`), with the same rules as the accounts page.

use std::io::Write;

use super::{account_error, open_pool};
use crate::app::accounts::{self, AccountChangeError};
use crate::app::actor::Actor;
use crate::app::config::Settings;
use crate::domain::account::{Email, Role};
use crate::i18n::{Lang, t, tf};

/// What to change about an account.
#[derive(Debug, Clone)]
pub(super) enum Change {
    /// Give it this role.
    Role(Role),
    /// Assign these units (comma-separated codes or names).
    Units(String),
    /// Activate (`true`) or deactivate it.
    Active(bool),
}

/// A refused change to `email`'s account, in `lang`.
fn refusal(lang: Lang, email: &Email, e: AccountChangeError) -> anyhow::Error {
    match e {
        AccountChangeError::App(e) => anyhow::anyhow!(crate::error::cause_chain(&e)),
        AccountChangeError::NotFound => anyhow::anyhow!(tf(
            lang,
            "cli.accounts.no_account",
            &[("email", email.as_str())]
        )),
        other => {
            let args = other.message_args();
            let args: Vec<(&str, &str)> = args.iter().map(|(k, v)| (*k, v.as_str())).collect();
            anyhow::anyhow!(
                "{}: {}",
                email.as_str(),
                tf(lang, other.message_key(), &args)
            )
        }
    }
}

/// Applies `change` to the account with e-mail `email` and prints what happened.
pub(super) fn change_account(
    settings: &Settings,
    lang: Lang,
    email: &str,
    change: &Change,
) -> anyhow::Result<()> {
    let email = Email::parse(email).map_err(|e| account_error(lang, "EMAIL", &e))?;
    let pool = open_pool(settings)?;
    let mut conn = pool.get()?;
    let actor = Actor::service("cli");
    let user = accounts::by_email(&mut conn, &email).map_err(|e| refusal(lang, &email, e))?;
    let message = match change {
        Change::Role(role) => {
            let user = accounts::change_role(&mut conn, actor, user.id, *role)
                .map_err(|e| refusal(lang, &email, e))?;
            tf(
                lang,
                "cli.accounts.role_changed",
                &[
                    ("email", &user.email),
                    ("role_name", t(lang, user.role.label_key())),
                ],
            )
        }
        Change::Units(list) => {
            // The bundled unit lists are otherwise loaded when the server first starts; units
            // can be assigned before that.
            crate::app::rounds::load_reference_units(&mut conn)
                .map_err(|e| anyhow::anyhow!(crate::error::cause_chain(&e)))?;
            let references: Vec<&str> = list
                .split(',')
                .map(str::trim)
                .filter(|r| !r.is_empty())
                .collect();
            let units = accounts::resolve_units(&mut conn, &references)
                .and_then(|ids| accounts::assign_units(&mut conn, actor, user.id, &ids))
                .map_err(|e| refusal(lang, &email, e))?;
            let names: Vec<String> = units
                .iter()
                .map(|u| {
                    let name = match lang {
                        Lang::Vi => &u.name_vi,
                        Lang::En => &u.name_en,
                    };
                    format!("{} {name}", u.code)
                })
                .collect();
            tf(
                lang,
                "cli.accounts.units_assigned",
                &[
                    ("email", &user.email),
                    ("count", &units.len().to_string()),
                    ("units", &names.join(", ")),
                ],
            )
        }
        Change::Active(active) => {
            let done = accounts::set_active(&mut conn, actor, user.id, *active)
                .map_err(|e| refusal(lang, &email, e))?;
            let key = match (*active, done.changed) {
                (true, true) => "cli.accounts.activated",
                (true, false) => "cli.accounts.already_active",
                (false, true) => "cli.accounts.deactivated",
                (false, false) => "cli.accounts.already_inactive",
            };
            tf(
                lang,
                key,
                &[
                    ("email", &done.user.email),
                    ("sessions", &done.sessions_ended.to_string()),
                    ("tokens", &done.tokens_revoked.to_string()),
                ],
            )
        }
    };
    writeln!(std::io::stdout(), "{message}")?;
    Ok(())
}
