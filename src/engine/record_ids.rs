//! Salesforce Ids of either length at the API: a record stored under its
//! 18-character Id is found, filtered, attached or split by its
//! 15-character form too (the form reports and Excel copies give).
//!
//! It must never change an id that names a stored record as written, nor
//! remove a value a caller gave: a short form only adds its long form.

use std::collections::BTreeMap;

use crate::connectors::ids::salesforce_18;
use crate::index::search::request::Filter;

use super::Rapport;

/// `source:ID18` for `source:ID15` (a 15-character Id), else `None`.
fn widened(id: &str) -> Option<String> {
    let (source, external) = id.split_once(':')?;
    salesforce_18(external).map(|long| format!("{source}:{long}"))
}

/// Adds, to filters on record ids (`id`) and source ids (`external_id`),
/// the 18-character form of each 15-character Salesforce Id.
pub(super) fn widen_id_filters(filters: &mut BTreeMap<String, Filter>) {
    for (field, widen) in [
        ("id", widened as fn(&str) -> Option<String>),
        ("external_id", salesforce_18),
    ] {
        if let Some(Filter::Values(values)) = filters.get_mut(field) {
            let longs: Vec<String> = values.iter().filter_map(|v| widen(v)).collect();
            values.extend(longs);
        }
    }
}

impl Rapport {
    /// Each record id as stored: as written when a record has it, else the
    /// 18-character form of a 15-character Salesforce Id when a record has
    /// that (unknown ids are kept, for the caller's own error).
    pub(super) fn stored_record_ids(&self, ids: &[String]) -> Vec<String> {
        ids.iter()
            .map(|id| {
                if matches!(self.store.get(id), Ok(Some(_))) {
                    return id.clone();
                }
                widened(id)
                    .filter(|long| matches!(self.store.get(long), Ok(Some(_))))
                    .unwrap_or_else(|| id.clone())
            })
            .collect()
    }
}
