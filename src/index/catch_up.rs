//! The catch-up: the store's changes the index does not hold yet, turned
//! into documents and committed with the sequence number of the last one.
//!
//! It must never leave two documents for one record: a change replaces
//! whatever the index holds for its record (a delete by id before the add),
//! except where nothing can be there yet (below), and a catch-up that fails
//! after skipping such deletes discards what it had not committed.

use tantivy::{IndexWriter, Term};

use super::{ChangeFeed, IndexError, SearchIndex, document_batch, writer_priority};

/// Changes read and turned into documents at a time.
const CATCH_UP_BATCH: usize = 2_000;
/// Changes applied between two commits.
const CATCH_UP_COMMIT_EVERY: usize = 100_000;

/// Where a catch-up has got to.
struct Progress {
    /// The sequence number of the last change applied.
    seq: u64,
    applied: usize,
    uncommitted: usize,
    /// Changes at or below this sequence number need no delete first (0:
    /// every change does).
    no_delete_through: u64,
}

impl SearchIndex {
    /// [`SearchIndex::apply_changes`] up to sequence number `until` at most
    /// (changes after it wait for a later catch-up).
    pub fn apply_changes_until(
        &self,
        store: &dyn ChangeFeed,
        until: u64,
        observe: &mut dyn FnMut(usize) -> bool,
    ) -> Result<usize, IndexError> {
        let Some(writer) = &self.writer else {
            return Ok(0);
        };
        let _span = tracing::info_span!("index_catch_up", generation = %self.generation).entered();
        let mut writer = writer
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let metas = self.index.load_metas()?;
        // Into a generation whose last commit holds no live document (a
        // first ingest, a rebuild), a change at or below the feed's last
        // sequence number now is its record's only one in this catch-up, so
        // there is nothing to delete before adding it. tantivy keeps each
        // delete until the commit and then looks its id up in every segment.
        let holds_no_document = metas.segments.iter().all(|meta| meta.num_docs() == 0);
        let no_delete_through = if holds_no_document {
            store.last_seq()?
        } else {
            0
        };
        let mut progress = Progress {
            seq: super::committed_seq(&metas),
            applied: 0,
            uncommitted: 0,
            no_delete_through,
        };
        let fed = self
            .feed(&mut writer, store, until, observe, &mut progress)
            .and_then(|stopped| {
                if progress.uncommitted > 0 {
                    self.commit(&mut writer, progress.seq)?;
                }
                Ok(stopped)
            });
        let stopped = match fed {
            Ok(stopped) => stopped,
            Err(e) => {
                if progress.no_delete_through > 0 {
                    // A later catch-up starts again from the last commit: the
                    // documents added since, without their deletes, must go.
                    let writer: &mut IndexWriter = &mut writer;
                    let rolled_back = writer_priority::at_writer_priority(self.writer_nice, || {
                        writer.rollback().map_err(IndexError::from)
                    });
                    if let Err(rollback) = rolled_back {
                        tracing::error!(error = %rollback, "the failed catch-up could not be rolled back");
                    }
                }
                return Err(e);
            }
        };
        if progress.applied > 0 {
            self.reader.reload()?;
            tracing::info!(
                applied = progress.applied,
                seq = progress.seq,
                "index caught up with the store"
            );
        }
        if stopped {
            return Err(IndexError::Stopped);
        }
        Ok(progress.applied)
    }

    /// Commits what was added, with the sequence number of the last change
    /// applied. tantivy starts new indexing workers at each commit: they
    /// start at the writer's priority (`writer_priority`).
    fn commit(&self, writer: &mut IndexWriter, seq: u64) -> Result<(), IndexError> {
        writer_priority::at_writer_priority(self.writer_nice, || {
            let mut commit = writer.prepare_commit()?;
            commit.set_payload(&serde_json::json!({ "seq": seq }).to_string());
            commit.commit()?;
            Ok(())
        })
    }

    /// Adds the changes after `progress.seq` batch by batch, committing
    /// along the way; answers whether `observe` stopped it. What is left
    /// uncommitted is the caller's to commit.
    fn feed(
        &self,
        writer: &mut IndexWriter,
        store: &dyn ChangeFeed,
        until: u64,
        observe: &mut dyn FnMut(usize) -> bool,
        progress: &mut Progress,
    ) -> Result<bool, IndexError> {
        let id_field = self.field("id");
        let seq_field = self.index.schema().get_field(crate::schema::SEQ_FIELD).ok();
        loop {
            let changes = store.changes_after(progress.seq, CATCH_UP_BATCH)?;
            if changes.is_empty() {
                return Ok(false);
            }
            let past_until = changes.last().is_some_and(|c| c.seq > until);
            let documents =
                document_batch::build(&self.spec, &self.fields, seq_field, &changes, until);
            for (change, document) in changes.iter().zip(documents) {
                if let Some(id_field) = id_field
                    && change.seq > progress.no_delete_through
                {
                    writer.delete_term(Term::from_field_text(id_field, &change.id));
                }
                if let Some(document) = document {
                    writer.add_document(document)?;
                }
                progress.seq = change.seq;
                progress.applied += 1;
                progress.uncommitted += 1;
            }
            // tantivy keeps every pending delete until the commit: commit
            // along the way so a large catch-up needs bounded memory.
            if progress.uncommitted >= CATCH_UP_COMMIT_EVERY {
                self.commit(writer, progress.seq)?;
                progress.uncommitted = 0;
            }
            if !observe(progress.applied) {
                return Ok(true);
            }
            if past_until {
                return Ok(false);
            }
        }
    }
}

#[cfg(test)]
mod tests;
