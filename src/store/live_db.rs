//! The store's redb database behind a handle that can be replaced while the
//! store is shared: a running server rewrites its store file after an
//! erasure (see `rewrite`) without a restart. Readers go on reading the old
//! file until their transaction ends; writers wait at a gate while the
//! replacement is finished and swapped in, so no commit can land in the old
//! file after the replacement's last look at it.
//!
//! Every transaction holds the database it was opened on, so an old database
//! closes only when its last reader is done. It must never let a write
//! transaction run on a database that has been replaced, and never hand out
//! the database mutably while anything else holds it.

use std::ops::{Deref, DerefMut};
use std::sync::{Arc, Condvar, Mutex, PoisonError, RwLock};

use redb::{Database, ReadTransaction, ReadableDatabase, TransactionError, WriteTransaction};

pub(super) struct LiveDatabase {
    current: RwLock<Arc<Database>>,
    gate: Arc<WriterGate>,
}

impl LiveDatabase {
    pub(super) fn new(database: Database) -> LiveDatabase {
        LiveDatabase {
            current: RwLock::new(Arc::new(database)),
            gate: Arc::new(WriterGate::default()),
        }
    }

    /// The database transactions open on now.
    pub(super) fn current(&self) -> Arc<Database> {
        self.current
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    pub(super) fn begin_read(&self) -> Result<ReadTxn, TransactionError> {
        let database = self.current();
        Ok(ReadTxn {
            txn: database.begin_read()?,
            _database: database,
        })
    }

    /// A write transaction; waits while the database is being replaced.
    pub(super) fn begin_write(&self) -> Result<WriteTxn, TransactionError> {
        let pass = self.gate.enter();
        let database = self.current();
        Ok(WriteTxn {
            txn: database.begin_write()?,
            _database: database,
            _pass: pass,
        })
    }

    /// The database itself, for what redb allows only to its sole owner
    /// (`compact`); `None` while a transaction still holds it.
    pub(super) fn exclusive(&mut self) -> Option<&mut Database> {
        Arc::get_mut(
            self.current
                .get_mut()
                .unwrap_or_else(PoisonError::into_inner),
        )
    }

    /// Closes the gate to writers (waiting for those inside to finish), lets
    /// `make` build the replacement from the current database, and swaps it
    /// in before reopening the gate. On an error nothing is swapped.
    pub(super) fn replace<E>(
        &self,
        make: impl FnOnce(&Database) -> Result<Database, E>,
    ) -> Result<(), E> {
        let _closed = self.gate.close();
        let old = self.current();
        let new = make(&old)?;
        *self.current.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(new);
        Ok(())
    }
}

/// A read transaction that keeps its database open while it lives.
pub(super) struct ReadTxn {
    // Dropped before the database (fields drop in declaration order).
    txn: ReadTransaction,
    _database: Arc<Database>,
}

impl Deref for ReadTxn {
    type Target = ReadTransaction;
    fn deref(&self) -> &ReadTransaction {
        &self.txn
    }
}

/// A write transaction that keeps its database open and the gate passed
/// while it lives.
pub(super) struct WriteTxn {
    txn: WriteTransaction,
    _database: Arc<Database>,
    _pass: GatePass,
}

impl WriteTxn {
    pub(super) fn commit(self) -> Result<(), redb::CommitError> {
        self.txn.commit()
    }

    pub(super) fn abort(self) -> Result<(), redb::StorageError> {
        self.txn.abort()
    }
}

impl Deref for WriteTxn {
    type Target = WriteTransaction;
    fn deref(&self) -> &WriteTransaction {
        &self.txn
    }
}

impl DerefMut for WriteTxn {
    fn deref_mut(&mut self) -> &mut WriteTransaction {
        &mut self.txn
    }
}

/// Counts the writers inside; a replacement closes it and waits for them.
#[derive(Default)]
struct WriterGate {
    state: Mutex<GateState>,
    changed: Condvar,
}

#[derive(Default)]
struct GateState {
    writers: usize,
    closed: bool,
}

impl WriterGate {
    fn wait_while<'a>(
        &self,
        guard: std::sync::MutexGuard<'a, GateState>,
        condition: impl FnMut(&mut GateState) -> bool,
    ) -> std::sync::MutexGuard<'a, GateState> {
        self.changed
            .wait_while(guard, condition)
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, GateState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn enter(self: &Arc<Self>) -> GatePass {
        let mut state = self.wait_while(self.lock(), |s| s.closed);
        state.writers += 1;
        GatePass(self.clone())
    }

    fn close(&self) -> ClosedGate<'_> {
        let mut state = self.wait_while(self.lock(), |s| s.closed);
        state.closed = true;
        drop(self.wait_while(state, |s| s.writers > 0));
        ClosedGate(self)
    }
}

struct GatePass(Arc<WriterGate>);

impl Drop for GatePass {
    fn drop(&mut self) {
        let mut state = self.0.lock();
        state.writers -= 1;
        drop(state);
        self.0.changed.notify_all();
    }
}

struct ClosedGate<'a>(&'a WriterGate);

impl Drop for ClosedGate<'_> {
    fn drop(&mut self) {
        self.0.lock().closed = false;
        self.0.changed.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use redb::{ReadableTable, ReadableTableMetadata, TableDefinition};

    const T: TableDefinition<&str, u64> = TableDefinition::new("t");

    fn put(live: &LiveDatabase, key: &str, value: u64) {
        let txn = live.begin_write().unwrap();
        txn.open_table(T).unwrap().insert(key, value).unwrap();
        txn.commit().unwrap();
    }

    fn get(live: &LiveDatabase, key: &str) -> Option<u64> {
        let txn = live.begin_read().unwrap();
        let table = txn.open_table(T).unwrap();
        table.get(key).unwrap().map(|v| v.value())
    }

    #[test]
    fn a_writer_waiting_at_the_gate_writes_into_the_replacement() {
        let dir = tempfile::tempdir().unwrap();
        let live = Arc::new(LiveDatabase::new(
            Database::create(dir.path().join("a.redb")).unwrap(),
        ));
        put(&live, "before", 1);
        // A reader opened before the swap keeps reading the old database.
        let old_reader = live.begin_read().unwrap();
        let (entered, wait_for_writer) = std::sync::mpsc::channel();
        let replaced = live.replace(|old| {
            let writer = {
                let live = live.clone();
                std::thread::spawn(move || put(&live, "during", 2))
            };
            // The writer cannot get in while the gate is closed.
            std::thread::sleep(std::time::Duration::from_millis(100));
            assert!(!writer.is_finished(), "a writer passed the closed gate");
            entered.send(writer).unwrap();
            // The replacement: a copy of `t`.
            let new = Database::create(dir.path().join("b.redb"))?;
            let from = old.begin_read()?;
            let to = new.begin_write()?;
            {
                let mut table = to.open_table(T)?;
                for entry in from.open_table(T)?.iter()? {
                    let (k, v) = entry?;
                    table.insert(k.value(), v.value())?;
                }
            }
            to.commit()?;
            Ok::<_, redb::Error>(new)
        });
        replaced.unwrap();
        wait_for_writer.recv().unwrap().join().unwrap();
        assert_eq!(get(&live, "before"), Some(1));
        assert_eq!(get(&live, "during"), Some(2), "the waiting write was lost");
        let old_table = old_reader.open_table(T).unwrap();
        assert_eq!(old_table.get("before").unwrap().map(|v| v.value()), Some(1));
        assert!(old_table.get("during").unwrap().is_none());
        drop(old_table);
        drop(old_reader);
        // The old file, closed now, never received the waiting write.
        let old_file = Database::create(dir.path().join("a.redb")).unwrap();
        let txn = old_file.begin_read().unwrap();
        assert_eq!(txn.open_table(T).unwrap().len().unwrap(), 1);
    }
}
