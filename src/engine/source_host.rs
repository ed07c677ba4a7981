//! The engine as the host of the background runners (folder watches and
//! pulls in `sources`).
//!
//! It must never add behaviour: each method forwards to the engine's own.

use crate::config::Config;
use crate::sources::ingest::SourceReport;
use crate::sources::status::PullState;
use crate::sources::{HostError, SourceHost};

use super::Rapport;

impl SourceHost for Rapport {
    fn config(&self) -> &Config {
        Rapport::config(self)
    }

    fn set_live_state(&self, source: &str, state: Option<&str>) {
        Rapport::set_live_state(self, source, state);
    }

    fn run_source(&self, source: &str, trigger: &'static str) -> Result<SourceReport, HostError> {
        Ok(self.ingest_source_job(source, trigger)?)
    }

    fn pull_state(&self, source: &str) -> Result<PullState, HostError> {
        Ok(Rapport::pull_state(self, source)?)
    }

    fn save_pull_state(&self, source: &str, state: &PullState) -> Result<(), HostError> {
        Ok(Rapport::save_pull_state(self, source, state)?)
    }
}
