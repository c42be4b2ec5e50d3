//! khaosat: the online sociological-survey platform behind the PAR Index surveys.
//!
//! The crate is a library with a thin binary (`src/main.rs`). Pure domain logic lives in
//! [`domain`]; persistence in [`db`]; the web layer in [`routes`] (handlers) and [`views`]
//! (maud); command-line entry points in [`cli`].

pub mod accounts;
pub mod assets;
pub mod auth;
pub mod backup;
pub mod bundled;
pub mod catalog;
pub mod cli;
pub mod config;
pub mod db;
pub mod demo;
pub mod domain;
pub mod error;
pub mod export;
pub mod i18n;
pub mod mail;
pub mod metrics;
pub mod middleware;
pub mod paper;
pub mod quality;
pub mod respond;
pub mod results;
pub mod rounds;
pub mod routes;
pub mod scores;
pub mod startup;
pub mod state;
pub mod telemetry;
pub mod views;
