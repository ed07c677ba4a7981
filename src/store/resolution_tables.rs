//! The tables resolution writes (which customer each record belongs to, the
//! customers, their aliases and birth order), named apart from the code
//! that writes them so that write-back and erasure can read them without
//! importing resolution.
//!
//! It must never hold code: only the tables' names and types.

use redb::TableDefinition;

/// record id → its assignment (JSON).
pub(in crate::store) const ASSIGNMENTS: TableDefinition<&str, &[u8]> =
    TableDefinition::new("assignments");
pub(in crate::store) const BIRTH: TableDefinition<&str, u64> = TableDefinition::new("birth");
/// entity id → the customer (JSON in one zstd frame, or plain JSON written
/// by an older version: see `record_codec`).
pub(in crate::store) const ENTITIES: TableDefinition<&str, &[u8]> =
    TableDefinition::new("entities");
/// entity id → its anchor (a record id, or `company:<key>`).
pub(in crate::store) const ALIASES: TableDefinition<&str, &str> = TableDefinition::new("aliases");
