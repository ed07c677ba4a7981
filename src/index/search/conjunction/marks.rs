//! The scratch a windowed conjunction's leaves write into: one bit per
//! document of a window, and where a leaf puts what it read.
//!
//! It must never hold state between windows: the scorer zeroes it.

use tantivy::{DocId, Score};

/// Documents per window.
pub(super) const WINDOW: u32 = 4096;
/// 64-bit words of marks per window.
pub(super) const MARK_WORDS: usize = WINDOW as usize / 64;

pub(super) type Marks = [u64; MARK_WORDS];

/// Where a leaf puts the documents it reads in a window.
pub(crate) struct Sink<'a> {
    pub start: DocId,
    /// The documents to keep (bit = doc - start); every one when none.
    pub filter: Option<&'a Marks>,
    /// The word's marks, set for each document kept.
    pub marks: &'a mut Marks,
    /// When scoring: the sums each kept document's score is added to, and
    /// (in a nested union) the marks of what was added.
    pub sums: Option<&'a mut [Score]>,
    pub touched: Option<&'a mut Marks>,
}
