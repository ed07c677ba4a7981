//! The single customer view through the engine: customer pages, timelines,
//! the quality report, the customers export, and the steward's overrides
//! (merge, never-merge, split), which take effect at the next resolution.
//!
//! It must never resolve by itself: callers run [`Rapport::resolve`] after
//! an override, so that one resolution covers a batch of them.

use crate::customers::{self, CustomerError, CustomerView, QualityReport, Timeline, TimelineQuery};

use super::Rapport;

impl Rapport {
    pub fn customer(&self, id: &str) -> Result<CustomerView, CustomerError> {
        customers::customer(&self.store, id)
    }

    pub fn timeline(&self, id: &str, query: &TimelineQuery) -> Result<Timeline, CustomerError> {
        customers::timeline(&self.store, id, query)
    }

    pub fn quality(&self) -> Result<QualityReport, CustomerError> {
        customers::quality(&self.store)
    }

    /// One JSON value per customer: its golden record and member records.
    pub fn customer_export_lines(&self) -> Result<Vec<serde_json::Value>, CustomerError> {
        customers::export_lines(&self.store)
    }

    /// Records that the customers `ids` are one.
    pub fn merge_customers(&self, ids: &[String]) -> Result<(), CustomerError> {
        customers::merge(&self.store, ids)
    }

    /// Records that the customers `ids` must never be joined.
    pub fn never_merge_customers(&self, ids: &[String]) -> Result<(), CustomerError> {
        customers::never_merge(&self.store, ids)
    }

    /// Takes `records` out of customer `id`.
    pub fn split_customer(&self, id: &str, records: &[String]) -> Result<(), CustomerError> {
        customers::split(&self.store, id, records)
    }
}
