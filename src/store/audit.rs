//! The audit log: who did what to which customer, when, and with what
//! outcome — every access to a customer, every write, every identity
//! change. Append-only and tamper-evident: each entry carries the BLAKE3
//! hash of the one before it and of itself, so a changed, removed or
//! reordered entry breaks the chain `verify_chain` walks.
//!
//! It must never hold personal values: actors are identity ids
//! (`key:ID`, `user:NAME`), targets are customer and record ids, and the
//! details are counts, routes and query parameters.

use chrono::{DateTime, Utc};
use redb::{ReadableTable, TableDefinition};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{Store, StoreError, corrupt, db};

/// audit sequence number → entry (JSON).
pub(super) const AUDIT: TableDefinition<u64, &[u8]> = TableDefinition::new("audit");

/// The `prev_hash` of the first entry.
const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// What a caller records; the store adds the sequence number and hashes.
#[derive(Debug, Clone, Default)]
pub struct NewAudit {
    pub at: Option<DateTime<Utc>>,
    pub actor: String,
    pub action: String,
    pub customer_id: Option<String>,
    pub targets: Vec<String>,
    /// `ok`, or the HTTP status or refusal it ended with.
    pub outcome: String,
    /// Counts, the route, query parameters: never personal values.
    pub details: Map<String, Value>,
}

/// One line of the audit log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub seq: u64,
    pub at: DateTime<Utc>,
    pub actor: String,
    pub action: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_id: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub targets: Vec<String>,
    pub outcome: String,
    #[serde(flatten)]
    pub details: Map<String, Value>,
    pub prev_hash: String,
    pub hash: String,
}

impl AuditEntry {
    /// The hash this entry must carry: of the previous hash and of every
    /// other field, in a fixed order (the details are a sorted map).
    fn computed_hash(&self) -> String {
        let body = serde_json::json!({
            "seq": self.seq,
            "at": self.at,
            "actor": self.actor,
            "action": self.action,
            "customer_id": self.customer_id,
            "targets": self.targets,
            "outcome": self.outcome,
            "details": self.details,
        });
        let mut hasher = blake3::Hasher::new();
        hasher.update(self.prev_hash.as_bytes());
        hasher.update(b"\n");
        hasher.update(body.to_string().as_bytes());
        hasher.finalize().to_hex().to_string()
    }
}

/// Where the chain breaks.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChainBreak {
    #[error(
        "audit entry {seq}: its hash does not match its content (changed after it was written)"
    )]
    Altered { seq: u64 },
    #[error(
        "audit entry {seq}: it does not follow entry {previous} (an entry was removed or reordered)"
    )]
    Unlinked { seq: u64, previous: u64 },
}

/// Checks every link of `entries` (oldest first, from the first entry);
/// the number of entries checked when the chain holds.
pub fn verify_chain(entries: &[AuditEntry]) -> Result<usize, ChainBreak> {
    let mut previous: Option<&AuditEntry> = None;
    for entry in entries {
        let expected_prev = previous.map_or(GENESIS, |p| p.hash.as_str());
        let expected_seq = previous.map_or(1, |p| p.seq + 1);
        if entry.prev_hash != expected_prev || entry.seq != expected_seq {
            return Err(ChainBreak::Unlinked {
                seq: entry.seq,
                previous: previous.map_or(0, |p| p.seq),
            });
        }
        if entry.computed_hash() != entry.hash {
            return Err(ChainBreak::Altered { seq: entry.seq });
        }
        previous = Some(entry);
    }
    Ok(entries.len())
}

/// What `GET /v1/audit` and `rapport audit` ask for.
#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    pub actor: Option<String>,
    pub action: Option<String>,
    pub customer_id: Option<String>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    /// Entries after this sequence number (paging).
    pub after: u64,
    pub limit: usize,
}

impl AuditQuery {
    fn admits(&self, e: &AuditEntry) -> bool {
        self.actor.as_ref().is_none_or(|a| &e.actor == a)
            && self.action.as_ref().is_none_or(|a| &e.action == a)
            && self
                .customer_id
                .as_ref()
                .is_none_or(|c| e.customer_id.as_ref() == Some(c) || e.targets.contains(c))
            && self.from.is_none_or(|f| e.at >= f)
            && self.to.is_none_or(|t| e.at < t)
    }
}

/// Appends `new` entries inside `txn`, chained after the last one.
pub(super) fn append_in(
    txn: &redb::WriteTransaction,
    new: Vec<NewAudit>,
) -> Result<Vec<AuditEntry>, StoreError> {
    let mut audit = txn.open_table(AUDIT).map_err(db)?;
    let last = match audit.last().map_err(db)? {
        Some((k, v)) => Some(
            serde_json::from_slice::<AuditEntry>(v.value())
                .map_err(|e| corrupt(&format!("audit {}", k.value()), e))?,
        ),
        None => None,
    };
    let (mut seq, mut prev_hash) = last.map_or((0, GENESIS.to_string()), |l| (l.seq, l.hash));
    let mut written = Vec::with_capacity(new.len());
    for n in new {
        seq += 1;
        let mut entry = AuditEntry {
            seq,
            at: n.at.unwrap_or_else(Utc::now),
            actor: n.actor,
            action: n.action,
            customer_id: n.customer_id,
            targets: n.targets,
            outcome: n.outcome,
            details: n.details,
            prev_hash: prev_hash.clone(),
            hash: String::new(),
        };
        entry.hash = entry.computed_hash();
        let bytes = serde_json::to_vec(&entry).map_err(|e| corrupt("audit", e))?;
        audit.insert(seq, bytes.as_slice()).map_err(db)?;
        prev_hash = entry.hash.clone();
        written.push(entry);
    }
    Ok(written)
}

/// Appends one entry inside `txn` and answers it as written.
pub(super) fn append_one_in(
    txn: &redb::WriteTransaction,
    new: NewAudit,
) -> Result<AuditEntry, StoreError> {
    append_in(txn, vec![new])?
        .pop()
        .ok_or_else(|| corrupt("audit", "no entry written"))
}

impl Store {
    /// Appends entries in one durable transaction.
    pub fn append_audit(&self, new: Vec<NewAudit>) -> Result<Vec<AuditEntry>, StoreError> {
        if new.is_empty() {
            return Ok(Vec::new());
        }
        let txn = self.db.begin_write().map_err(db)?;
        let written = append_in(&txn, new)?;
        txn.commit().map_err(db)?;
        Ok(written)
    }

    /// The whole audit log, oldest first.
    pub fn audit_log(&self) -> Result<Vec<AuditEntry>, StoreError> {
        let txn = self.db.begin_read().map_err(db)?;
        let audit = txn.open_table(AUDIT).map_err(db)?;
        audit
            .iter()
            .map_err(db)?
            .map(|row| {
                let (k, v) = row.map_err(db)?;
                serde_json::from_slice(v.value()).map_err(|e| corrupt(&k.value().to_string(), e))
            })
            .collect()
    }

    /// The entries `query` admits, oldest first, at most `query.limit`.
    pub fn audit_entries(&self, query: &AuditQuery) -> Result<Vec<AuditEntry>, StoreError> {
        let txn = self.db.begin_read().map_err(db)?;
        let audit = txn.open_table(AUDIT).map_err(db)?;
        let mut out = Vec::new();
        for row in audit.range(query.after.saturating_add(1)..).map_err(db)? {
            let (k, v) = row.map_err(db)?;
            let entry: AuditEntry = serde_json::from_slice(v.value())
                .map_err(|e| corrupt(&k.value().to_string(), e))?;
            if query.admits(&entry) {
                out.push(entry);
                if out.len() >= query.limit.max(1) {
                    break;
                }
            }
        }
        Ok(out)
    }

    /// Test-only: rewrites one stored entry as given (to prove that
    /// verification notices).
    #[doc(hidden)]
    pub fn tamper_with_audit_for_tests(&self, entry: &AuditEntry) -> Result<(), StoreError> {
        let txn = self.db.begin_write().map_err(db)?;
        {
            let mut audit = txn.open_table(AUDIT).map_err(db)?;
            let bytes = serde_json::to_vec(entry).map_err(|e| corrupt("audit", e))?;
            audit.insert(entry.seq, bytes.as_slice()).map_err(db)?;
        }
        txn.commit().map_err(db)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(actor: &str) -> NewAudit {
        NewAudit {
            actor: actor.into(),
            action: "customer.read".into(),
            customer_id: Some("org_1".into()),
            outcome: "ok".into(),
            ..NewAudit::default()
        }
    }

    #[test]
    fn the_chain_holds_and_breaks_where_an_entry_was_changed_or_removed() {
        let dir = tempfile::tempdir().expect("a temp dir");
        let store = Store::open(&dir.path().join("s.redb")).expect("a store");
        store
            .append_audit(vec![entry("key:a"), entry("key:b")])
            .expect("appended");
        store.append_audit(vec![entry("user:c")]).expect("appended");
        let log = store.audit_log().expect("read");
        assert_eq!(log.len(), 3);
        assert_eq!(verify_chain(&log), Ok(3));
        assert_eq!(log[0].prev_hash, GENESIS);
        assert_eq!(log[1].prev_hash, log[0].hash);

        let mut altered = log.clone();
        altered[1].actor = "key:z".into();
        assert_eq!(verify_chain(&altered), Err(ChainBreak::Altered { seq: 2 }));
        let removed = vec![log[0].clone(), log[2].clone()];
        assert_eq!(
            verify_chain(&removed),
            Err(ChainBreak::Unlinked {
                seq: 3,
                previous: 1
            })
        );

        let query = AuditQuery {
            actor: Some("key:b".into()),
            limit: 10,
            ..AuditQuery::default()
        };
        let found = store.audit_entries(&query).expect("read");
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].seq, 2);
    }
}
