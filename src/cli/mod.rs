//! The binary's commands, one file per family: each parses its arguments
//! (clap), calls the engine façade (or, when a server holds the data
//! directory, the server's HTTP API) and prints the result.
//!
//! It must never hold logic the HTTP API would also need: that lives in the
//! library's engine.

pub mod audit;
pub mod auth;
#[cfg(feature = "bench")]
pub mod bench;
#[cfg(feature = "bench")]
pub mod bench_queue;
#[cfg(feature = "bench")]
pub mod bench_soak;
pub mod check;
pub mod connectors;
pub mod console_audit;
pub mod customers;
pub mod duplicates;
pub mod duplicates_grouped;
pub mod export;
pub mod output;
pub mod reindex;
pub mod retention;
pub mod search;
pub mod unattached;
