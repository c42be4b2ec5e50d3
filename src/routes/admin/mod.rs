//! Administration routes.

pub mod catalog;
pub mod dashboard;
pub mod login;
pub mod rounds;
pub mod setup;
