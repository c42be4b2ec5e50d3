//! Administration routes.

pub mod catalog;
pub mod dashboard;
pub mod login;
pub mod setup;
