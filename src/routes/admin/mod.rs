//! Administration routes.

pub mod accounts;
pub mod catalog;
pub mod dashboard;
pub mod field;
mod link;
pub mod login;
pub mod paper;
pub mod rounds;
pub mod setup;
pub mod tokens;
pub mod welcome;

pub use link::{LinkPage, LinkPost};

use actix_web::HttpResponse;
use actix_web::http::header;

use crate::app::auth::{password, session::session_cookie};
use crate::app::state::{AppState, blocking};
use crate::domain::account::{AccountError, Email, NewPassword, parse_name, parse_password_pair};
use crate::error::AppResult;
use crate::views::components::FieldError;

/// A new password typed twice on a form (`password`, `password_confirm`), checked by the one
/// rule every such form shares; a refusal is reported beside the box it concerns.
pub fn new_password(password: &str, confirmation: &str) -> Result<NewPassword, FieldError> {
    parse_password_pair(password, confirmation).map_err(|e| FieldError {
        field: if e == AccountError::PasswordMismatch {
            "password_confirm"
        } else {
            "password"
        },
        message_key: e.message_key(),
    })
}

/// The argon2id hash of a new password, computed off the async executor (a hash takes tens of
/// milliseconds of CPU and 19 MiB).
pub async fn hash_new_password(chosen: NewPassword) -> AppResult<String> {
    Ok(blocking(move || password::hash(chosen.expose())).await??)
}

/// `303` to `location` with the new session's cookie: how every sign-in ends (login, the
/// first administrator's setup link, an account's password link).
pub fn signed_in(state: &AppState, session_token: &str, location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location))
        .cookie(session_cookie(session_token, state.settings.is_https()))
        .finish()
}

/// The name and e-mail address typed on an account form, each checked by the account rules; a
/// refusal is added to `errors` beside the box it concerns.
pub fn name_and_email(
    name: &str,
    email: &str,
    errors: &mut Vec<FieldError>,
) -> Option<(String, Email)> {
    let name = parse_name(name)
        .map_err(|e| errors.push(field_error("name", e)))
        .ok();
    let email = Email::parse(email)
        .map_err(|e| errors.push(field_error("email", e)))
        .ok();
    name.zip(email)
}

/// A refusal of the account rules, beside the form box `field`.
pub fn field_error(field: &'static str, e: AccountError) -> FieldError {
    FieldError {
        field,
        message_key: e.message_key(),
    }
}
