//! Authentication and request integrity: password hashing, random tokens, login sessions,
//! CSRF protection and login throttling.

pub mod api_token;
pub mod csrf;
pub mod password;
pub mod session;
pub mod throttle;
pub mod tokens;
