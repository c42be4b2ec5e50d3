//! Administration routes.

pub mod dashboard;
pub mod login;
pub mod setup;
