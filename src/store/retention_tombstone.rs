//! The value of a retention purge's tombstone: `retention-SEQ@DATE`, the
//! run and the date the purged record carried, so that ingest keeps out
//! that record as it was and lets in a version its source updated since.
//! Shared by the retention purge (which writes it) and the ingest
//! tombstones (which read it).
//!
//! It must never read an erasure's tombstone as dated: those keep out for
//! good.

use chrono::{DateTime, Utc};

/// Prefix of a retention tombstone's value: `retention-SEQ@DATE`.
pub(super) const PREFIX: &str = "retention-";

/// The tombstone of a record run `run_id` purged, dated `date`.
pub(super) fn dated(run_id: &str, date: &DateTime<Utc>) -> String {
    format!("{run_id}@{}", date.to_rfc3339())
}

/// The date a retention tombstone keeps out (records dated at or before it);
/// `None` for every other tombstone (erasures keep out for good).
pub(super) fn purged_as_of(tombstone: &str) -> Option<DateTime<Utc>> {
    let rest = tombstone.strip_prefix(PREFIX)?;
    let (_, date) = rest.split_once('@')?;
    DateTime::parse_from_rfc3339(date)
        .ok()
        .map(|d| d.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_retention_tombstone_names_its_date_and_an_erasure_none() {
        let written = "2015-01-01T00:00:00Z".parse::<DateTime<Utc>>().ok();
        let value = written
            .map(|d| dated("retention-12", &d))
            .unwrap_or_default();
        assert_eq!(value, "retention-12@2015-01-01T00:00:00+00:00");
        let date = purged_as_of(&value);
        assert_eq!(
            date.map(|d| d.to_rfc3339()),
            Some("2015-01-01T00:00:00+00:00".into())
        );
        assert_eq!(purged_as_of("erasure-3"), None);
        assert_eq!(purged_as_of("retention-4"), None);
    }
}
