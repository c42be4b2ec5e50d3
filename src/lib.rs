//! khaosat: the online sociological-survey platform behind the PAR Index surveys.
//!
//! The crate is a library with a thin binary (`src/main.rs`). A request flows
//! `routes` → `app` → (`domain`, `db`) and back through `views`:
//!
//! - [`domain`]: pure rules (questionnaires, methodology, scoring, lifecycle, disclosure), no
//!   HTTP or SQL;
//! - [`app`]: the use cases, one module per area (rounds, responding, scoring, results,
//!   exports, mail, accounts and sessions, paper forms, data-quality review, backups), and
//!   what the running service shares (configuration, state, metrics);
//! - [`db`]: persistence, small diesel query functions returning `QueryResult`;
//! - [`routes`]: HTTP in and out (thin handlers and middleware);
//! - [`views`]: HTML pages (maud) and the static assets they link;
//! - [`server`]: start-up, background tasks, telemetry and the command line;
//! - [`error`] and [`i18n`]: the one error type and the vi/en message catalogues.
//!
//! Each module imports only those listed above it in `server` → `routes` → `views` → `app` →
//! `db` → `domain`; `docs/architecture.md` shows where each use case lives.

pub mod app;
pub mod db;
pub mod domain;
pub mod error;
pub mod i18n;
pub mod routes;
pub mod server;
pub mod views;
