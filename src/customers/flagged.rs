//! Every record with a quality issue, for a steward to work through (the
//! quality report counts them and shows samples; this lists them all).
//!
//! It must never change a record.

use serde::Serialize;

use super::CustomerError;
use crate::record::QualityIssue;
use crate::store::Store;

#[derive(Debug, Serialize)]
pub struct FlaggedRecord {
    pub record: String,
    pub source: String,
    pub kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer_id: Option<String>,
    pub issues: Vec<QualityIssue>,
}

#[derive(Debug, Serialize)]
pub struct FlaggedPage {
    pub total: usize,
    pub records: Vec<FlaggedRecord>,
}

/// Every record with an issue, oldest first, without its customer (looked
/// up per page): a read of every record, which the engine keeps until the
/// change log moves. Only the flagged ones are held while reading.
pub fn all_flagged(store: &Store) -> Result<Vec<FlaggedRecord>, CustomerError> {
    Ok(store.scan_book_by_birth(|r| {
        (!r.quality.is_empty()).then(|| FlaggedRecord {
            record: r.id(),
            source: r.source.clone(),
            kind: r.kind.as_str().to_string(),
            customer_id: None,
            issues: r.quality,
        })
    })?)
}

/// One page of the records with an issue (of `field`, of `source`, when
/// given), oldest first, from `flagged` (as [`all_flagged`] lists them),
/// each with its customer.
pub fn page(
    store: &Store,
    flagged: &[FlaggedRecord],
    source: Option<&str>,
    field: Option<&str>,
    offset: usize,
    limit: usize,
) -> Result<FlaggedPage, CustomerError> {
    let mut total = 0;
    let mut records = Vec::new();
    for r in flagged {
        if source.is_some_and(|s| s != r.source) {
            continue;
        }
        let issues: Vec<QualityIssue> = r
            .issues
            .iter()
            .filter(|q| field.is_none_or(|f| f == q.field))
            .cloned()
            .collect();
        if issues.is_empty() {
            continue;
        }
        total += 1;
        if total > offset && records.len() < limit {
            let customer_id = store.assignment(&r.record)?.and_then(|a| a.customer_id);
            records.push(FlaggedRecord {
                record: r.record.clone(),
                source: r.source.clone(),
                kind: r.kind.clone(),
                customer_id,
                issues,
            });
        }
    }
    Ok(FlaggedPage { total, records })
}
