//! Administration routes.

pub mod accounts;
pub mod catalog;
pub mod dashboard;
pub mod login;
pub mod paper;
pub mod rounds;
pub mod setup;
pub mod tokens;
pub mod welcome;

use crate::domain::account::{AccountError, NewPassword, parse_password_pair};
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
