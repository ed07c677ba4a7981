//! Rapport: a customer knowledge index server. Connectors read exports, mail,
//! vCards and notes; records are normalised and kept in a redb store (the
//! source of truth); a tantivy index derived from the store answers searches
//! over HTTP, the CLI and a web page. See ARCHITECTURE.md for the map.

pub mod api;
pub mod auth;
#[cfg(feature = "bench")]
pub mod bench;
pub mod config;
pub mod connectors;
pub mod customers;
pub mod engine;
pub mod export;
pub mod index;
pub mod jobs;
pub mod normalize;
pub mod paths;
pub mod record;
pub mod resolve;
pub mod schema;
pub mod snapshot;
pub mod sources;
pub mod store;
pub mod test_hooks;
pub mod units;
pub mod writeback;
