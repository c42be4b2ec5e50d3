//! Administration routes.

pub mod accounts;
pub mod catalog;
pub mod dashboard;
pub mod login;
pub mod paper;
pub mod rounds;
pub mod setup;
pub mod tokens;
