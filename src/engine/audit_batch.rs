//! Group commit of the audit log: requests that finish together write
//! their audit entries in one durable transaction (one fsync) instead of
//! one each. The first caller to find no commit running takes every entry
//! queued so far, commits them and hands each caller its own entries; the
//! others wait for that commit (or lead the next one). Each caller returns
//! only once its entries are durable, as with one transaction per call.
//!
//! It must never return before the caller's entries are committed, never
//! reorder one caller's entries, and never drop an entry: a failed commit
//! fails every caller in it.

use std::collections::HashMap;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

use crate::store::{AuditEntry, NewAudit, Store, StoreError};

#[derive(Default)]
pub(super) struct AuditBatcher {
    state: Mutex<BatchState>,
    committed: Condvar,
}

/// What one caller gets back: its entries as written, or the commit's
/// error, shared by every caller of that commit.
type TicketResult = Result<Vec<AuditEntry>, Arc<StoreError>>;

#[derive(Default)]
struct BatchState {
    next_ticket: u64,
    queue: Vec<(u64, Vec<NewAudit>)>,
    committing: bool,
    done: HashMap<u64, TicketResult>,
}

impl AuditBatcher {
    fn lock(&self) -> MutexGuard<'_, BatchState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Appends `new` to the audit log of `store`, durably, possibly in one
    /// transaction with other callers' entries.
    pub(super) fn append(
        &self,
        store: &Store,
        new: Vec<NewAudit>,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        if new.is_empty() {
            return Ok(Vec::new());
        }
        let mut state = self.lock();
        let ticket = state.next_ticket;
        state.next_ticket += 1;
        state.queue.push((ticket, new));
        loop {
            if let Some(result) = state.done.remove(&ticket) {
                return result.map_err(StoreError::AuditBatch);
            }
            if state.committing {
                state = self
                    .committed
                    .wait(state)
                    .unwrap_or_else(|p| p.into_inner());
                continue;
            }
            let batch = std::mem::take(&mut state.queue);
            state.committing = true;
            drop(state);
            let results = commit(store, batch);
            state = self.lock();
            state.done.extend(results);
            state.committing = false;
            self.committed.notify_all();
        }
    }
}

/// Commits every caller's entries in one transaction; each ticket's result.
fn commit(store: &Store, batch: Vec<(u64, Vec<NewAudit>)>) -> Vec<(u64, TicketResult)> {
    let sizes: Vec<(u64, usize)> = batch.iter().map(|(t, e)| (*t, e.len())).collect();
    let all: Vec<NewAudit> = batch.into_iter().flat_map(|(_, e)| e).collect();
    match store.append_audit(all) {
        Ok(written) => {
            let mut written = written.into_iter();
            sizes
                .into_iter()
                .map(|(ticket, n)| (ticket, Ok(written.by_ref().take(n).collect())))
                .collect()
        }
        Err(e) => {
            let shared = Arc::new(e);
            (sizes.into_iter())
                .map(|(ticket, _)| (ticket, Err(Arc::clone(&shared))))
                .collect()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn concurrent_callers_each_get_their_own_entries_in_one_chain() {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(Store::open(&dir.path().join("s.redb")).unwrap());
        let batcher = Arc::new(AuditBatcher::default());
        let threads: Vec<_> = (0..8)
            .map(|t| {
                let (store, batcher) = (store.clone(), batcher.clone());
                std::thread::spawn(move || {
                    let mut mine = Vec::new();
                    for i in 0..25 {
                        let entries = (0..2)
                            .map(|k| NewAudit {
                                actor: format!("t{t}"),
                                action: format!("a{i}-{k}"),
                                outcome: "ok".into(),
                                ..NewAudit::default()
                            })
                            .collect();
                        mine.extend(batcher.append(&store, entries).unwrap());
                    }
                    mine
                })
            })
            .collect();
        let mut seen = Vec::new();
        for (t, handle) in threads.into_iter().enumerate() {
            let mine = handle.join().unwrap();
            assert_eq!(mine.len(), 50);
            // Each caller got back its own entries, in its order.
            for (n, entry) in mine.iter().enumerate() {
                assert_eq!(entry.actor, format!("t{t}"));
                assert_eq!(entry.action, format!("a{}-{}", n / 2, n % 2));
            }
            seen.extend(mine.into_iter().map(|e| e.seq));
        }
        seen.sort_unstable();
        assert_eq!(seen, (1..=400).collect::<Vec<u64>>());
        let log = store.audit_log().unwrap();
        assert_eq!(log.len(), 400);
        assert!(crate::store::verify_chain(&log).is_ok());
    }
}
