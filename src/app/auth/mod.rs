//! Authentication and request integrity: password hashing, random tokens, login sessions,
//! CSRF protection, login throttling and the purge of what they leave behind.

pub mod api_token;
pub mod csrf;
pub mod housekeeping;
pub mod login;
pub mod password;
pub mod session;
pub mod setup_link;
pub mod throttle;
pub mod tokens;
pub mod viewer;
