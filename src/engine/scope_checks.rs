//! Row-level scope on what a request names: whether every customer, record
//! and note a read or write names lies within a scoped identity's scope,
//! asked of the index exactly as its searches are filtered.
//!
//! It must never answer "in scope" for something it could not look up: a
//! customer or record that does not exist counts as outside (404, as for a
//! missing one); only a missing note passes, to be answered 404 by its
//! handler; any other failure refuses.

use super::{EngineError, Rapport, Scope};
use crate::index::search::SearchRequest;
use crate::index::search::request::{Filter, Grouping};
use crate::writeback::WritebackError;

impl Rapport {
    /// True when `note`'s customer, every one of `customers` and every one of
    /// `records` (`source:external_id`) is within `scope`.
    pub fn targets_in_scope(
        &self,
        note: Option<&str>,
        customers: &[String],
        records: &[String],
        scope: &Scope,
    ) -> Result<bool, EngineError> {
        if scope.is_empty() {
            return Ok(true);
        }
        let mut customers = customers.to_vec();
        if let Some(note) = note {
            match self.note(note) {
                Ok(found) => customers.extend(found.customer_id),
                Err(WritebackError::NoteNotFound(_)) => {}
                Err(e) => {
                    tracing::warn!(error = %e, "the note's customer could not be read for a scope check");
                    return Ok(false);
                }
            }
        }
        customers.sort_unstable();
        customers.dedup();
        for customer in &customers {
            if !self.customer_in_scope(customer, scope)? {
                return Ok(false);
            }
        }
        self.records_in_scope(records, scope)
    }

    /// True when every record exists and is within `scope`.
    fn records_in_scope(&self, records: &[String], scope: &Scope) -> Result<bool, EngineError> {
        let mut wanted = records.to_vec();
        wanted.sort_unstable();
        wanted.dedup();
        if wanted.is_empty() {
            return Ok(true);
        }
        let count = wanted.len();
        let mut request = SearchRequest::new("*");
        request.group = Grouping::None;
        request.limit = 0;
        request.filters.insert("id".into(), Filter::Values(wanted));
        request.scope = scope.clone();
        Ok(self.search(&request)?.total == count)
    }
}
