//! The application's use cases, one module per area. Handlers in [`crate::routes`] parse
//! input, call one function here and render; these functions combine the pure rules of
//! [`crate::domain`] with the queries of [`crate::db`]. `config`, `state` and `metrics` hold what
//! the running service shares: settings, the database pool and caches, and its counters.

pub mod accounts;
pub mod actor;
pub mod admission;
pub mod auth;
pub mod backup;
pub mod bundled;
pub mod catalog;
pub mod config;
pub mod demo;
pub mod export;
pub mod field_import;
pub mod group_commit;
pub mod mail;
pub mod metrics;
pub mod paper;
pub mod respond;
pub mod results;
pub mod review;
pub mod rounds;
pub mod scores;
pub mod state;
