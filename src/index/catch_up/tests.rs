//! A first catch-up skips the deletes nothing needs, and still leaves one
//! document per record when a record changes during it or when it fails.

use std::sync::atomic::{AtomicUsize, Ordering};

use tantivy::Term;
use tantivy::collector::Count;
use tantivy::query::TermQuery;
use tantivy::schema::IndexRecordOption;

use super::super::{ChangeFeed, ChangeFeedError, SearchIndex};
use crate::record::{Change, Record, RecordKind};
use crate::store::Store;

const RECORDS: usize = 5_000;

fn person(i: usize, name: &str) -> Record {
    let mut record = Record::new("crm", &i.to_string(), RecordKind::Person);
    record.names.push(format!("{name} {i}"));
    record
}

fn book(store: &Store) {
    let records: Vec<Record> = (0..RECORDS).map(|i| person(i, "Person")).collect();
    store
        .apply_file("crm", "a.csv", "h1", &records)
        .expect("stored");
}

fn documents_of(index: &SearchIndex, id: &str) -> usize {
    let field = index.field("id").expect("an id field");
    let query = TermQuery::new(Term::from_field_text(field, id), IndexRecordOption::Basic);
    index
        .reader
        .searcher()
        .search(&query, &Count)
        .expect("a count")
}

/// The store, read through a hook run after each read of the log.
struct Feed<'a> {
    store: &'a Store,
    reads: AtomicUsize,
    after_read: &'a dyn Fn(usize) -> Result<(), ChangeFeedError>,
}

impl ChangeFeed for Feed<'_> {
    fn changes_after(&self, after: u64, limit: usize) -> Result<Vec<Change>, ChangeFeedError> {
        let changes = ChangeFeed::changes_after(self.store, after, limit)?;
        (self.after_read)(self.reads.fetch_add(1, Ordering::SeqCst))?;
        Ok(changes)
    }

    fn record_count(&self) -> Result<u64, ChangeFeedError> {
        ChangeFeed::record_count(self.store)
    }

    fn last_seq(&self) -> Result<u64, ChangeFeedError> {
        ChangeFeed::last_seq(self.store)
    }
}

/// A record changed after the first catch-up has added it is logged again
/// with a later sequence number: that change must replace the document.
#[test]
fn a_record_changed_during_a_first_catch_up_has_one_document() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let (store, index) = SearchIndex::open_with_store_for_tests(dir.path());
    book(&store);
    let rename = |read: usize| {
        if read == 0 {
            store
                .apply_file("crm", "b.csv", "h2", &[person(0, "Quokka")])
                .expect("the record changed");
        }
        Ok(())
    };
    let feed = Feed {
        store: &store,
        reads: AtomicUsize::new(0),
        after_read: &rename,
    };
    let applied = index.catch_up(&feed).expect("caught up");
    assert_eq!(applied, RECORDS + 1, "the change of crm:0 came twice");
    assert_eq!(documents_of(&index, "crm:0"), 1);
    assert_eq!(index.reader.searcher().num_docs(), RECORDS as u64);
    let renamed = index.field("names").expect("a names field");
    let query = TermQuery::new(
        Term::from_field_text(renamed, "quokka"),
        IndexRecordOption::Basic,
    );
    let found = index
        .reader
        .searcher()
        .search(&query, &Count)
        .expect("a count");
    assert_eq!(found, 1, "the document is the record's latest version");
}

/// A first catch-up that fails half-way leaves nothing it had not committed
/// for the next one to add a second time.
#[test]
fn a_failed_first_catch_up_leaves_no_second_document() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let (store, index) = SearchIndex::open_with_store_for_tests(dir.path());
    book(&store);
    let fail_second = |read: usize| {
        if read == 1 {
            return Err(ChangeFeedError("the disk went away".into()));
        }
        Ok(())
    };
    let feed = Feed {
        store: &store,
        reads: AtomicUsize::new(0),
        after_read: &fail_second,
    };
    assert!(index.catch_up(&feed).is_err(), "the second read failed");
    assert_eq!(index.catch_up(&store).expect("caught up"), RECORDS);
    assert_eq!(index.reader.searcher().num_docs(), RECORDS as u64);
    assert_eq!(documents_of(&index, "crm:0"), 1);
}
