//! One file's ingest on two stages that overlap: the calling thread runs the
//! connector (parse and field mapping) and hands full batches of records to
//! a store thread, which finishes them (limits, phone, postcode and date
//! normalisation, on rayon's threads, each record in its place) and writes
//! them to the store while the next batch is being read.
//!
//! It must never reorder records (batches are written in the order they were
//! read, and a batch keeps its records' order), so the store's change log
//! and every sequence number are what a single-threaded pass would write;
//! and it must never let the reader run ahead by more than [`IN_FLIGHT`]
//! batches, so memory stays bounded whatever the file's size. It knows
//! nothing of sources or reports: `ingest.rs` passes its batching and a
//! place for the reader's problems.

use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

use rayon::prelude::*;

use crate::connectors::{IngestError, RecordSink, Stop};
use crate::normalize::limits::Limits;
use crate::record::Record;
use crate::store::{FileUpdate, Store, StoreError};

/// Batches read but not yet stored, at most (besides the one being stored).
const IN_FLIGHT: usize = 2;
/// Records a rayon task finishes at a time (a record takes microseconds).
const FINISH_CHUNK: usize = 32;

/// How a source's records are finished before they are stored.
#[derive(Clone, Copy)]
pub(super) struct Finishing<'a> {
    /// Default phone region of the source.
    pub region: Option<&'a str>,
    /// Offset of dates written without a zone.
    pub timezone: Option<chrono::FixedOffset>,
    /// Longest values kept.
    pub limits: &'a Limits,
}

/// How records are grouped into store transactions.
#[derive(Clone, Copy)]
pub(super) struct Batching {
    /// Records per store transaction.
    pub batch: usize,
    /// Records after which the store is made durable mid-file.
    pub sync_every: usize,
    /// The test hook's variable: the store thread waits after each batch
    /// while the file it names exists.
    pub hold_file: &'static str,
}

impl Finishing<'_> {
    fn finish(&self, record: &mut Record) {
        crate::normalize::limits::bound_record(record, self.limits);
        crate::normalize::finish_record(record, self.region);
        crate::normalize::apply_timezone(record, self.timezone);
    }
}

/// Runs `read` (the connector, on this thread) into the store through a
/// store thread. Returns what `read` returned, the file's update (to finish
/// or abort) and the store's failure, if one stopped the pass.
pub(super) fn read_into_store<R>(
    store: &Store,
    update: FileUpdate,
    finishing: Finishing<'_>,
    batching: Batching,
    problems: &mut dyn FnMut(IngestError),
    read: impl FnOnce(&mut dyn RecordSink) -> R,
) -> (R, FileUpdate, Option<StoreError>) {
    let (sender, receiver) = sync_channel::<Vec<Record>>(IN_FLIGHT);
    std::thread::scope(|scope| {
        let writer =
            scope.spawn(move || store_batches(store, update, finishing, batching, receiver));
        let mut sink = BatchSender {
            sender: Some(sender),
            batch: Vec::with_capacity(batching.batch),
            size: batching.batch,
            problems,
        };
        let outcome = read(&mut sink);
        // A refused send means the store thread stopped: its error says why.
        let _ = sink.send();
        sink.sender = None;
        match writer.join() {
            Ok((update, failure)) => (outcome, update, failure),
            Err(panic) => std::panic::resume_unwind(panic),
        }
    })
}

/// The store thread: finishes and writes each batch as it arrives, until the
/// reader is done or a write fails (then the receiver is dropped, which
/// stops the reader at its next batch).
fn store_batches(
    store: &Store,
    mut update: FileUpdate,
    finishing: Finishing<'_>,
    batching: Batching,
    receiver: Receiver<Vec<Record>>,
) -> (FileUpdate, Option<StoreError>) {
    let _span = tracing::debug_span!("store_batches").entered();
    let mut unsynced = 0;
    for mut batch in receiver {
        batch
            .par_iter_mut()
            .with_min_len(FINISH_CHUNK)
            .for_each(|record| finishing.finish(record));
        if let Err(e) = store.apply_batch(&mut update, &batch) {
            return (update, Some(e));
        }
        crate::test_hooks::hold_while_file_exists(batching.hold_file, &|| false);
        unsynced += batch.len();
        if unsynced >= batching.sync_every {
            unsynced = 0;
            if let Err(e) = store.sync() {
                return (update, Some(e));
            }
        }
    }
    (update, None)
}

/// The connector's sink: collects records into batches for the store thread
/// and hands problems on.
struct BatchSender<'a> {
    sender: Option<SyncSender<Vec<Record>>>,
    batch: Vec<Record>,
    /// Records per batch.
    size: usize,
    problems: &'a mut dyn FnMut(IngestError),
}

impl BatchSender<'_> {
    fn send(&mut self) -> Result<(), Stop> {
        if self.batch.is_empty() {
            return Ok(());
        }
        let batch = std::mem::replace(&mut self.batch, Vec::with_capacity(self.size));
        match &self.sender {
            Some(sender) => sender.send(batch).map_err(|_| Stop),
            None => Err(Stop),
        }
    }
}

impl RecordSink for BatchSender<'_> {
    fn record(&mut self, record: Record) -> Result<(), Stop> {
        self.batch.push(record);
        if self.batch.len() >= self.size {
            self.send()?;
        }
        Ok(())
    }

    fn error(&mut self, error: IngestError) {
        (self.problems)(error);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::RecordKind;

    const BATCH: usize = 1_000;
    const BATCHING: Batching = Batching {
        batch: BATCH,
        sync_every: 20_000,
        hold_file: "RAPPORT_TEST_UNSET_HOLD_FILE",
    };

    /// Several batches through the store thread land in the order they were
    /// read, each finished (its phone normalised), and the reader's problems
    /// reach the report.
    #[test]
    fn records_are_finished_and_stored_in_reading_order() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let store = Store::open(&dir.path().join("s.redb")).expect("a store");
        let limits = Limits::default();
        let finishing = Finishing {
            region: Some("GB"),
            timezone: None,
            limits: &limits,
        };
        let count = BATCH * 2 + BATCH / 2;
        let mut problems = Vec::new();
        let update = store.begin_file("crm", "a.csv").expect("a file update");
        let (outcome, update, failure) = read_into_store(
            &store,
            update,
            finishing,
            BATCHING,
            &mut |p| problems.push(p),
            |sink| {
                for i in 0..count {
                    let mut record = Record::new("crm", &format!("{i}"), RecordKind::Person);
                    record.names.push(format!("Person {i}"));
                    record.phones.push("020 7946 0018".to_string());
                    sink.record(record)?;
                }
                sink.error(IngestError::new("crm", "a.csv", Some(7), "a bad row"));
                Ok::<(), Stop>(())
            },
        );
        assert_eq!(outcome, Ok(()));
        assert!(failure.is_none(), "{failure:?}");
        assert_eq!(problems.len(), 1);
        let stats = store.finish_file(update, "h1").expect("finished");
        assert_eq!(stats.inserted, count);
        let changes = store.changes_after(0, count + 10).expect("the change log");
        let ids: Vec<String> = changes.iter().map(|c| c.id.clone()).collect();
        let expected: Vec<String> = (0..count).map(|i| format!("crm:{i}")).collect();
        assert_eq!(ids, expected, "the change log follows the reading order");
        let last = store
            .get(&format!("crm:{}", count - 1))
            .expect("read")
            .expect("the last record");
        assert_eq!(last.phones, vec!["+442079460018"]);
    }

    /// A reader that stops half-way leaves what it sent stored and nothing
    /// else.
    #[test]
    fn a_reader_that_stops_keeps_what_it_sent() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let store = Store::open(&dir.path().join("s.redb")).expect("a store");
        let limits = Limits::default();
        let finishing = Finishing {
            region: None,
            timezone: None,
            limits: &limits,
        };
        let update = store.begin_file("crm", "a.csv").expect("a file update");
        let (outcome, update, failure) =
            read_into_store(&store, update, finishing, BATCHING, &mut |_| {}, |sink| {
                for i in 0..BATCH + 3 {
                    let record = Record::new("crm", &format!("{i}"), RecordKind::Person);
                    sink.record(record)?;
                }
                Err::<(), Stop>(Stop)
            });
        assert_eq!(outcome, Err(Stop));
        assert!(failure.is_none());
        store.abort_file(update).expect("aborted");
        assert_eq!(store.record_count().expect("count"), (BATCH + 3) as u64);
    }
}
