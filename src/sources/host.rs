//! What the background runners (watch, pull) need from the system that owns
//! the data: the sources' settings, a way to run one source, and where pull
//! states are kept. The engine implements it; the runners never see the
//! engine, so the layers stay one-way.
//!
//! It must never grow into a second façade: only what the runners call.

use crate::config::Config;

use super::ingest::SourceReport;
use super::status::PullState;

/// An error of the host, shown in logs only.
pub type HostError = Box<dyn std::error::Error + Send + Sync>;

pub trait SourceHost: Send + Sync + 'static {
    fn config(&self) -> &Config;
    /// Records what a source is doing now (`watching`), or clears it.
    fn set_live_state(&self, source: &str, state: Option<&str>);
    /// Runs one pass over a source as a job, index brought up to date.
    fn run_source(&self, source: &str, trigger: &'static str) -> Result<SourceReport, HostError>;
    fn pull_state(&self, source: &str) -> Result<PullState, HostError>;
    fn save_pull_state(&self, source: &str, state: &PullState) -> Result<(), HostError>;
}
