//! Running the service: start-up of the web server and its background tasks, telemetry and
//! the command line. What the running service shares (configuration,
//! state, metrics) belongs to [`crate::app`], which every layer above it reads.

pub mod cli;
pub mod startup;
pub mod telemetry;
