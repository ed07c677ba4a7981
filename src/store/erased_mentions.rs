//! The hashes of erased people's mentions (`Mentions::hashes`: email,
//! phone digits, names), kept in the store so that every later ingest
//! redacts them from the title and text of the records it writes: a source
//! file read again after an erasure or a retention purge still holds the
//! mention, and must not bring it back.
//!
//! It must never hold a value, only hashes (`normalize/mention_hashes.rs`
//! finds the mentions again from them), and never redact anything but the
//! title and body of a record.

use redb::{ReadableTable, ReadableTableMetadata, TableDefinition};

use super::{StoreError, db};
use crate::normalize::mention_hashes::HashedMentions;

/// mention hash (`email:…`, `phone:…`, `name:LEN:…`) → the erasure or
/// retention run that redacted it.
pub(super) const ERASED_MENTIONS: TableDefinition<&str, &str> =
    TableDefinition::new("erased_mentions");

/// Remembers `hashes` as redacted by `erasure_id`.
pub(super) fn remember(
    txn: &redb::WriteTransaction,
    hashes: &[String],
    erasure_id: &str,
) -> Result<(), StoreError> {
    if hashes.is_empty() {
        return Ok(());
    }
    let mut table = txn.open_table(ERASED_MENTIONS).map_err(db)?;
    for hash in hashes {
        table.insert(hash.as_str(), erasure_id).map_err(db)?;
    }
    Ok(())
}

/// Every remembered mention, or `None` when no erasure redacted any.
pub(super) fn load(txn: &redb::WriteTransaction) -> Result<Option<HashedMentions>, StoreError> {
    let table = txn.open_table(ERASED_MENTIONS).map_err(db)?;
    if table.is_empty().map_err(db)? {
        return Ok(None);
    }
    let mut hashes = Vec::new();
    for row in table.iter().map_err(db)? {
        let (key, _) = row.map_err(db)?;
        hashes.push(key.value().to_string());
    }
    let mentions = HashedMentions::from_hashes(&hashes);
    Ok((!mentions.is_empty()).then_some(mentions))
}
