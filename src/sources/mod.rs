//! Where records come from, in data-flow order: `ingest` runs one source's
//! connector into the store; `watch` follows folders and `pull` fetches
//! exports over HTTP, both asking the `runner` queue for a source run;
//! `status` reports each source's last runs and pulls.
//!
//! It must never decide identity or touch the index: the engine brings the
//! index up to date after a run.

mod host;
pub mod ingest;
mod ingest_pipeline;
pub mod pull;
mod pull_headers;
mod runner;
pub mod status;
pub mod watch;

pub use host::{HostError, SourceHost};
pub use runner::Runner;
