//! Records that resolution attached to no customer: counted per source and
//! reason for the quality report, listed for a steward, and attached by hand
//! (an override kept in the store, so it survives re-ingest and reindex).
//!
//! It must never change a record: the override is saved and resolution
//! re-run by the caller.

use std::collections::BTreeMap;

use serde::Serialize;

use super::{CustomerError, anchor_record};
use crate::record::RecordKind;
use crate::resolve::Unattached;
use crate::store::Store;

/// How many records of one source stay unattached for one reason.
#[derive(Debug, Serialize)]
pub struct UnattachedCount {
    pub source: String,
    pub reason: String,
    pub count: usize,
}

/// Counts per (source, reason), in that order.
pub fn counts(store: &Store) -> Result<Vec<UnattachedCount>, CustomerError> {
    let mut by_key: BTreeMap<(String, String), usize> = BTreeMap::new();
    for u in store.unattached()? {
        *by_key.entry((u.source, u.reason)).or_default() += 1;
    }
    Ok(by_key
        .into_iter()
        .map(|((source, reason), count)| UnattachedCount {
            source,
            reason,
            count,
        })
        .collect())
}

/// One page of the unattached records, of one source if given.
#[derive(Debug, Serialize)]
pub struct UnattachedPage {
    pub total: usize,
    pub records: Vec<Unattached>,
}

pub fn list(
    store: &Store,
    source: Option<&str>,
    offset: usize,
    limit: usize,
) -> Result<UnattachedPage, CustomerError> {
    let all: Vec<Unattached> = store
        .unattached()?
        .into_iter()
        .filter(|u| source.is_none_or(|s| u.source == s))
        .collect();
    Ok(UnattachedPage {
        total: all.len(),
        records: all.into_iter().skip(offset).take(limit).collect(),
    })
}

/// Records that `records` (interactions or transactions) belong to
/// customer (or person) `id`, whatever resolution finds.
pub fn attach(store: &Store, id: &str, records: &[String]) -> Result<(), CustomerError> {
    if records.is_empty() {
        return Err(CustomerError::Invalid(
            "`records` needs at least one record id".into(),
        ));
    }
    let (anchor, _) = anchor_record(store, id)?;
    for record in records {
        let found = store
            .get(record)?
            .ok_or_else(|| CustomerError::Invalid(format!("no record `{record}`")))?;
        if matches!(found.kind, RecordKind::Person | RecordKind::Organization) {
            return Err(CustomerError::Invalid(format!(
                "record `{record}` is a {}; attach interactions and transactions, merge customers",
                found.kind.as_str()
            )));
        }
    }
    let mut overrides = store.overrides()?;
    overrides.attach.retain(|(r, _)| !records.contains(r));
    overrides
        .attach
        .extend(records.iter().map(|r| (r.clone(), anchor.clone())));
    store.set_overrides(&overrides)?;
    Ok(())
}

/// A steward's rectification of customer `id`'s golden `field` (GDPR art.
/// 16): kept with the other overrides, so it survives re-ingest and
/// reindex; the next resolution applies it.
pub fn rectify(
    store: &Store,
    id: &str,
    field: &str,
    value: &str,
    reason: &str,
) -> Result<(), CustomerError> {
    if !crate::resolve::golden::FIELDS.contains(&field) {
        return Err(CustomerError::Invalid(format!(
            "`{field}` is not a golden field; rectify one of {}",
            crate::resolve::golden::FIELDS.join(", ")
        )));
    }
    if value.trim().is_empty() || reason.trim().is_empty() {
        return Err(CustomerError::Invalid(
            "a rectification needs a `value` and a `reason`".into(),
        ));
    }
    let (anchor, _) = anchor_record(store, id)?;
    let mut overrides = store.overrides()?;
    overrides
        .golden
        .retain(|g| !(g.record == anchor && g.field == field));
    overrides.golden.push(crate::resolve::GoldenOverride {
        record: anchor,
        field: field.to_string(),
        value: value.trim().to_string(),
        reason: reason.trim().to_string(),
    });
    store.set_overrides(&overrides)?;
    Ok(())
}
