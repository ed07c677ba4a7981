//! The last texts the mixed English/Japanese tokenizer analysed on this
//! thread, with their tokens. One record's text is analysed by several
//! fields: `title` and `title_pairs` (pairs of the same words), `names`,
//! `company` and `customer_name` again for `suggest` (prefixes of the same
//! words); and the ten or so records of one customer carry the same
//! `customer_name`. Indexing analyses a document's fields one after the
//! other on one thread, so the text a later field asks for was usually
//! analysed a few fields before: it is handed back instead of being
//! normalised and segmented again.
//!
//! It must never hand back tokens of another text or of another
//! segmenter (entries are compared by the whole text and the segmenter's
//! address), and never grow: a fixed number of entries, long texts never
//! kept.

use std::cell::RefCell;
use std::hash::BuildHasher;

use tantivy::tokenizer::Token;

/// Entries kept per thread: more than the text values of one document.
const ENTRIES: usize = 32;
/// Texts longer than this are analysed every time (long email bodies).
const MAX_TEXT_BYTES: usize = 16 * 1024;

struct Entry {
    hash: u64,
    segmenter: usize,
    text: String,
    tokens: Vec<Token>,
}

#[derive(Default)]
struct Recent {
    entries: Vec<Entry>,
    /// The slot the next entry replaces once all are used.
    next: usize,
}

thread_local! {
    static RECENT: RefCell<Recent> = RefCell::new(Recent::default());
}

fn hash_of(text: &str) -> u64 {
    rustc_hash::FxBuildHasher.hash_one(text)
}

/// Copies into `out` the tokens this thread last found in `text` with the
/// segmenter at address `segmenter`; false when it has none.
pub(crate) fn recall(segmenter: usize, text: &str, out: &mut Vec<Token>) -> bool {
    if text.len() > MAX_TEXT_BYTES {
        return false;
    }
    let hash = hash_of(text);
    RECENT.with(|recent| {
        let recent = recent.borrow();
        match recent
            .entries
            .iter()
            .find(|e| e.hash == hash && e.segmenter == segmenter && e.text == text)
        {
            Some(entry) => {
                out.clear();
                out.extend(entry.tokens.iter().cloned());
                true
            }
            None => false,
        }
    })
}

/// Remembers the tokens of `text` (replacing the oldest entry when full).
pub(crate) fn remember(segmenter: usize, text: &str, tokens: &[Token]) {
    if text.len() > MAX_TEXT_BYTES {
        return;
    }
    let entry = Entry {
        hash: hash_of(text),
        segmenter,
        text: text.to_string(),
        tokens: tokens.to_vec(),
    };
    RECENT.with(|recent| {
        let mut recent = recent.borrow_mut();
        if recent.entries.len() < ENTRIES {
            recent.entries.push(entry);
        } else {
            let slot = recent.next;
            recent.entries[slot] = entry;
            recent.next = (slot + 1) % ENTRIES;
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(text: &str, position: usize) -> Token {
        Token {
            offset_from: 0,
            offset_to: text.len(),
            position,
            text: text.to_string(),
            position_length: 1,
        }
    }

    #[test]
    fn recalls_only_the_same_text_and_segmenter_and_forgets_the_oldest() {
        let mut out = Vec::new();
        assert!(!recall(1, "billing dispute", &mut out));
        remember(
            1,
            "billing dispute",
            &[token("billing", 0), token("dispute", 1)],
        );
        assert!(recall(1, "billing dispute", &mut out));
        assert_eq!(out.len(), 2);
        assert_eq!(out[1].text, "dispute");
        assert!(!recall(2, "billing dispute", &mut out), "another segmenter");
        assert!(!recall(1, "billing disputes", &mut out), "another text");
        for i in 0..ENTRIES {
            remember(1, &format!("text {i}"), &[]);
        }
        assert!(
            !recall(1, "billing dispute", &mut out),
            "the oldest is gone"
        );
        assert!(recall(1, &format!("text {}", ENTRIES - 1), &mut out));
        let long = "x".repeat(MAX_TEXT_BYTES + 1);
        remember(1, &long, &[token("x", 0)]);
        assert!(!recall(1, &long, &mut out), "long texts are not kept");
    }
}
