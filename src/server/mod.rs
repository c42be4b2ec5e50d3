//! Running the service: configuration, start-up and the shared state of the web server,
//! telemetry and metrics, the static assets, and the command line.

pub mod assets;
pub mod cli;
pub mod config;
pub mod metrics;
pub mod startup;
pub mod state;
pub mod telemetry;
