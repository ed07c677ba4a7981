//! What a full resolution reads of a record: [`keep_what_is_read`] empties
//! every field no step of resolution reads (the loose attributes but the
//! few it asks for, the quality flags, the deal fields, a customer or
//! person record's body, an interaction's golden-only fields), so the book
//! a full pass holds in memory holds only what can change its answer.
//!
//! It must never clear a field any step of a full pass reads: a
//! resolution of the emptied book must equal one of the whole book
//! (`tests/resolution_read.rs` checks it on a book that uses every rule).
//! It is for the full pass only: the book's statistics of an incremental
//! pass (`incremental::reference_keys`) read more (every record's web
//! sites).

use crate::record::{Record, RecordKind};

/// The loose attributes resolution reads: staff flags (`attach::is_staff`)
/// and the phones normalisation could not read (`attach::phones_in`).
pub const READ_ATTRS: &[&str] = &["staff", "role", "raw_phones"];

/// `record` with only what resolution reads.
pub fn keep_what_is_read(mut record: Record) -> Record {
    // Set by resolution or ingest, or about deals: never read.
    record.person_id = None;
    record.org_id = None;
    record.customer_consent = Vec::new();
    record.stage = None;
    record.amount = None;
    record.currency = None;
    record.quality = Vec::new();
    record.naive_dates = Vec::new();
    record.search_keys = Vec::new();
    record.provenance.line = None;
    record
        .attrs
        .retain(|key, _| READ_ATTRS.contains(&key.as_str()));
    match record.kind {
        // A customer's or person's text and file are read only of
        // interactions (mentions, clues, folders).
        RecordKind::Organization | RecordKind::Person => {
            record.body = None;
            record.provenance.file = String::new();
        }
        // Profiles and golden records read these of customers and people
        // only.
        _ => {
            record.tags = Vec::new();
            record.birth_date = None;
            record.address = Default::default();
            record.identifiers = Vec::new();
            record.websites = Vec::new();
            record.consent = Vec::new();
        }
    }
    record
}
