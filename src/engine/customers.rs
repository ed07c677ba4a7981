//! The single customer view through the engine: customer pages, timelines,
//! the quality report, the customers export, and the steward's overrides
//! (merge, never-merge, split), which take effect at the next resolution.
//!
//! It must never resolve by itself: callers run [`Rapport::resolve`] after
//! an override, so that one resolution covers a batch of them.

use crate::customers::{
    self, CustomerError, CustomerView, DuplicateKind, DuplicatesPage, FlaggedPage, FlaggedRecord,
    IssueCount, ItemsPage, QualityReport, Timeline, TimelineQuery, UnattachedPage,
};
use std::sync::Arc;

use super::Rapport;

/// What finding the flagged records costs a read of every record for,
/// kept by the engine with the change-log sequence it was read at.
#[derive(Clone)]
pub(crate) struct QualityKept {
    seq: u64,
    flagged: Arc<Vec<FlaggedRecord>>,
    issues: Arc<Vec<IssueCount>>,
}

impl Rapport {
    pub fn customer(&self, id: &str) -> Result<CustomerView, CustomerError> {
        let mut view = customers::customer(&self.store, id)?;
        self.add_purposes(&mut view);
        Ok(view)
    }

    pub fn timeline(&self, id: &str, query: &TimelineQuery) -> Result<Timeline, CustomerError> {
        customers::timeline(&self.store, id, query)
    }

    /// The quality report. Its issue counts are counted again only when
    /// the change log has moved since they were last counted (every record
    /// and assignment change is logged), so a dashboard's repeated looks at
    /// a large book cost one read of the store, not one per look.
    pub fn quality(&self) -> Result<QualityReport, CustomerError> {
        let kept = self.quality_kept()?;
        customers::quality_report(&self.store, kept.issues.as_ref().clone())
    }

    /// The flagged records and issue counts as of the change log's last
    /// sequence: kept from the last look when the log has not moved.
    fn quality_kept(&self) -> Result<QualityKept, CustomerError> {
        let seq = self.store.last_seq()?;
        let kept = self
            .quality_kept
            .lock()
            .ok()
            .and_then(|kept| kept.as_ref().filter(|k| k.seq == seq).cloned());
        if let Some(kept) = kept {
            return Ok(kept);
        }
        let flagged = customers::all_flagged(&self.store)?;
        let issues = customers::issue_counts(&self.store, &flagged)?;
        let fresh = QualityKept {
            seq,
            flagged: Arc::new(flagged),
            issues: Arc::new(issues),
        };
        if let Ok(mut kept) = self.quality_kept.lock() {
            *kept = Some(fresh.clone());
        }
        Ok(fresh)
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
        customers::split(&self.store, id, &self.stored_record_ids(records))
    }

    /// Attaches `records` to customer `id` by hand (a steward's override,
    /// kept across re-ingest and reindex).
    pub fn attach_records(&self, id: &str, records: &[String]) -> Result<(), CustomerError> {
        customers::attach(&self.store, id, &self.stored_record_ids(records))
    }

    /// The customers `records` belong to now, each once, in the order of
    /// the records (records unknown or attached to none name nothing). An
    /// audit entry of a split or an attachment names them as its targets.
    pub fn customers_of_records(&self, records: &[String]) -> Vec<String> {
        let mut customers = Vec::new();
        for id in self.stored_record_ids(records) {
            let customer = match self.store.assignment(&id) {
                Ok(found) => found.and_then(|a| a.customer_id),
                Err(e) => {
                    tracing::warn!(record = %id, error = %e, "assignment unreadable");
                    None
                }
            };
            if let Some(customer) = customer
                && !customers.contains(&customer)
            {
                customers.push(customer);
            }
        }
        customers
    }

    /// The records resolution attached to no customer, with the reason.
    pub fn unattached_records(
        &self,
        source: Option<&str>,
        offset: usize,
        limit: usize,
    ) -> Result<UnattachedPage, CustomerError> {
        customers::list_unattached(&self.store, source, offset, limit)
    }

    /// The suspected duplicates, most likely first, of one kind and at
    /// least a score if given.
    pub fn suspected_duplicates(
        &self,
        kind: Option<DuplicateKind>,
        min_score: Option<f64>,
        offset: usize,
        limit: usize,
    ) -> Result<DuplicatesPage, CustomerError> {
        customers::list_duplicates(&self.store, kind, min_score, offset, limit)
    }

    /// The same queue as items a steward decides, most likely first: pairs
    /// with evidence beyond a shared name, and one group per name that
    /// namesakes share and nothing else.
    pub fn suspected_duplicate_items(
        &self,
        kind: Option<DuplicateKind>,
        min_score: Option<f64>,
        offset: usize,
        limit: usize,
    ) -> Result<ItemsPage, CustomerError> {
        customers::list_duplicate_items(
            &self.store,
            &self.duplicate_profiles,
            kind,
            min_score,
            offset,
            limit,
        )
    }

    /// Every record with a quality issue, with its issues.
    pub fn flagged_records(
        &self,
        source: Option<&str>,
        field: Option<&str>,
        offset: usize,
        limit: usize,
    ) -> Result<FlaggedPage, CustomerError> {
        let kept = self.quality_kept()?;
        customers::flagged_page(&self.store, &kept.flagged, source, field, offset, limit)
    }

    /// Everything held on customer `id`, for a subject-access or
    /// portability request (GDPR art. 15 and 20, APPI art. 33): the
    /// customer page (golden record with its sources, people, attributes,
    /// quality flags), every stored record in full with its source and
    /// provenance (notes included), and the audit entries about it.
    pub fn subject_export(&self, id: &str) -> Result<serde_json::Value, CustomerError> {
        let view = self.customer(id)?;
        let records = customers::stored_records(&self.store, id)?;
        let query = crate::store::AuditQuery {
            customer_id: Some(view.id.clone()),
            limit: usize::MAX,
            ..Default::default()
        };
        let audit = self.store.audit_entries(&query)?;
        Ok(serde_json::json!({
            "format": "rapport-subject-export/1",
            "generated_at": chrono::Utc::now(),
            "customer_id": view.id,
            "customer": view,
            "records": records,
            "audit": audit,
        }))
    }

    /// Rectifies customer `id`'s golden `field` (a steward's override with
    /// its reason; applied by the next resolution).
    pub fn rectify_golden(
        &self,
        id: &str,
        field: &str,
        value: &str,
        reason: &str,
    ) -> Result<(), CustomerError> {
        customers::rectify(&self.store, id, field, value, reason)
    }
}
