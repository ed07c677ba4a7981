//! Dense per-document term ordinals of string fast fields, one table per
//! (segment, field), built on first use and shared by every later search:
//! what Elasticsearch calls fielddata. Grouping and facet counting read a
//! record's customer and facet values for every match; tantivy's columns
//! answer that through an optional or multi-valued index (a rank lookup,
//! then a bit-unpacking read), which was a third of a grouped facet search
//! at 1M records. Here it is one array read.
//!
//! It must never disagree with the column it was built from: a segment
//! never changes once written, so a table is true for as long as its
//! segment lives; tables of merged-away segments are no longer asked for
//! and go when the cache is cleared at its byte bound. It must never hold
//! more than its index's `doc_ords_mb` budget (`caches.rs`) in all.

use std::sync::{Arc, Mutex};

use rustc_hash::FxHashMap;
use tantivy::DocId;
use tantivy::columnar::StrColumn;
use tantivy::index::SegmentId;

/// Every document's term ordinals of one column of one segment.
#[derive(Debug)]
pub(crate) enum DocOrds {
    /// At most one value per document; [`NONE8`] for none.
    One8(Vec<u8>),
    /// At most one value per document; [`NONE16`] for none.
    One16(Vec<u16>),
    /// At most one value per document; [`NONE32`] for none.
    One32(Vec<u32>),
    /// Several values for some documents: document `d`'s ordinals are
    /// `ords[starts[d]..starts[d + 1]]`.
    Many { starts: Vec<u32>, ords: Vec<u32> },
}

const NONE8: u8 = u8::MAX;
const NONE16: u16 = u16::MAX;
const NONE32: u32 = u32::MAX;

impl DocOrds {
    /// Reads every document of `column` (`max_doc` of them) once.
    pub(crate) fn build(column: &StrColumn, max_doc: u32) -> DocOrds {
        let terms = column.num_terms();
        let mut single = true;
        let mut starts = Vec::with_capacity(max_doc as usize + 1);
        let mut ords: Vec<u32> = Vec::with_capacity(max_doc as usize);
        starts.push(0u32);
        for doc in 0..max_doc {
            let before = ords.len();
            ords.extend(column.term_ords(doc).map(|o| o as u32));
            if ords.len() > before + 1 {
                single = false;
            }
            starts.push(ords.len() as u32);
        }
        if !single {
            return DocOrds::Many { starts, ords };
        }
        let value = |doc: usize| -> Option<u32> {
            let (from, to) = (starts[doc] as usize, starts[doc + 1] as usize);
            (to > from).then(|| ords[from])
        };
        let docs = max_doc as usize;
        if terms < NONE8 as usize {
            DocOrds::One8(
                (0..docs)
                    .map(|d| value(d).map_or(NONE8, |o| o as u8))
                    .collect(),
            )
        } else if terms < NONE16 as usize {
            DocOrds::One16(
                (0..docs)
                    .map(|d| value(d).map_or(NONE16, |o| o as u16))
                    .collect(),
            )
        } else {
            DocOrds::One32((0..docs).map(|d| value(d).unwrap_or(NONE32)).collect())
        }
    }

    /// The document's first ordinal (for single-valued fields, its only one).
    #[inline]
    pub(crate) fn first(&self, doc: DocId) -> Option<u32> {
        let d = doc as usize;
        match self {
            DocOrds::One8(v) => v.get(d).filter(|o| **o != NONE8).map(|o| u32::from(*o)),
            DocOrds::One16(v) => v.get(d).filter(|o| **o != NONE16).map(|o| u32::from(*o)),
            DocOrds::One32(v) => v.get(d).copied().filter(|o| *o != NONE32),
            DocOrds::Many { .. } => self.all(doc).first().copied(),
        }
    }

    /// Calls `f` with each of the document's ordinals, in the column's order.
    #[inline]
    pub(crate) fn for_each(&self, doc: DocId, mut f: impl FnMut(u32)) {
        match self {
            DocOrds::Many { .. } => self.all(doc).iter().for_each(|o| f(*o)),
            _ => {
                if let Some(o) = self.first(doc) {
                    f(o);
                }
            }
        }
    }

    /// How many values the document has.
    #[inline]
    pub(crate) fn count(&self, doc: DocId) -> usize {
        match self {
            DocOrds::Many { .. } => self.all(doc).len(),
            _ => usize::from(self.first(doc).is_some()),
        }
    }

    fn all(&self, doc: DocId) -> &[u32] {
        let DocOrds::Many { starts, ords } = self else {
            return &[];
        };
        let d = doc as usize;
        match (starts.get(d), starts.get(d + 1)) {
            (Some(from), Some(to)) => ords.get(*from as usize..*to as usize).unwrap_or(&[]),
            _ => &[],
        }
    }

    fn bytes(&self) -> usize {
        match self {
            DocOrds::One8(v) => v.len(),
            DocOrds::One16(v) => v.len() * 2,
            DocOrds::One32(v) => v.len() * 4,
            DocOrds::Many { starts, ords } => (starts.len() + ords.len()) * 4,
        }
    }
}

#[derive(Default)]
struct Cache {
    tables: FxHashMap<(SegmentId, String), Arc<DocOrds>>,
    bytes: usize,
}

/// One index's tables, cleared when a new one would pass the budget.
pub(crate) struct DocOrdsCache {
    cache: Mutex<Cache>,
    budget: usize,
}

impl DocOrdsCache {
    pub(crate) fn with_budget(budget: usize) -> DocOrdsCache {
        DocOrdsCache {
            cache: Mutex::default(),
            budget,
        }
    }

    /// Bytes and tables kept now.
    pub(crate) fn kept(&self) -> (usize, usize) {
        self.cache
            .lock()
            .map(|c| (c.bytes, c.tables.len()))
            .unwrap_or((0, 0))
    }

    /// The dense ordinals of `segment`'s column `name` (`column`, with
    /// `max_doc` documents), built the first time they are asked for.
    pub(crate) fn doc_ords(
        &self,
        segment: SegmentId,
        name: &str,
        column: &StrColumn,
        max_doc: u32,
    ) -> Arc<DocOrds> {
        let key = (segment, name.to_string());
        if let Ok(cache) = self.cache.lock()
            && let Some(found) = cache.tables.get(&key)
        {
            return found.clone();
        }
        // Built outside the lock: two searches may build the same table at
        // once, and the second simply replaces the first with an equal one.
        let built = Arc::new(DocOrds::build(column, max_doc));
        if let Ok(mut cache) = self.cache.lock() {
            if cache.bytes + built.bytes() > self.budget {
                cache.tables.clear();
                cache.bytes = 0;
            }
            cache.bytes += built.bytes();
            if let Some(old) = cache.tables.insert(key, built.clone()) {
                cache.bytes -= old.bytes();
            }
        }
        built
    }
}

#[cfg(test)]
mod tests;
