//! Authentication and request integrity: password hashing, random tokens, login sessions,
//! CSRF protection, login throttling, one-time account links and the purge of what they leave
//! behind.

pub mod account_link;
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
