//! The scorer of a windowed conjunction. For each window of 4,096
//! documents that starts at a document every word matches, the words are
//! read one after the other, the cheapest first: each of a word's leaves
//! reads its documents in the window, keeps those every word before it
//! matched, and adds its score for them into its union's partial sums (a
//! nested union's sums join its parent's once its children are read, so
//! that each union adds its children in their order, as tantivy's does).
//! The word's sums then join the window's totals and its marks become the
//! window's survivors. Only the first word scores documents a later word
//! may drop, and it is the rarest.
//!
//! It must never allocate per window: the scratch arrays are left zeroed
//! after each use and are kept per thread from one search to the next.

use std::cell::RefCell;

use tantivy::query::Scorer;
use tantivy::{DocId, DocSet, Score, TERMINATED};

use super::leaf::Leaf;
use super::marks::{MARK_WORDS, Marks, Sink, WINDOW};

/// A word's tree: unions of leaves and of other unions.
pub(crate) enum Node {
    Leaf(usize),
    Union(Vec<Node>),
}

impl Node {
    fn leaves(&self, out: &mut Vec<usize>) {
        match self {
            Node::Leaf(i) => out.push(*i),
            Node::Union(children) => children.iter().for_each(|c| c.leaves(out)),
        }
    }

    fn depth(&self) -> usize {
        match self {
            Node::Leaf(_) => 0,
            Node::Union(children) => 1 + children.iter().map(Node::depth).max().unwrap_or(0),
        }
    }
}

struct Word {
    root: Node,
    /// Indexes of its leaves in `slots`.
    leaves: Vec<usize>,
}

impl Word {
    /// The postings its leaves will read.
    fn cost(&self, slots: &[Leaf]) -> u64 {
        self.leaves.iter().map(|&i| slots[i].cost()).sum()
    }
}

pub(crate) struct WindowedConjunction {
    slots: Vec<Leaf>,
    words: Vec<Word>,
    scoring: bool,
    scratch: Scratch,
    start: DocId,
    /// The survivors word that `doc` came from.
    cursor: usize,
    doc: DocId,
}

/// The arrays a conjunction works in.
struct Scratch {
    /// Documents of the window every word matches (bit = doc - start).
    survivors: Box<Marks>,
    word_marks: Box<Marks>,
    /// Score of each survivor.
    totals: Box<[Score]>,
    /// Per union depth: partial sums (zero outside use) and the documents
    /// they were written for (empty outside use).
    sums: Vec<Box<[Score]>>,
    touched: Vec<Marks>,
}

/// Scratch arrays kept per thread, at most this many (a thread runs one
/// search at a time, and a search one conjunction scorer at a time).
const KEPT_SCRATCH: usize = 2;

thread_local! {
    static SCRATCH: RefCell<Vec<Scratch>> = const { RefCell::new(Vec::new()) };
}

fn zeroed_scores() -> Box<[Score]> {
    vec![0.0; WINDOW as usize].into_boxed_slice()
}

impl Scratch {
    /// A thread's kept scratch with room for `depth` union levels, or a new
    /// one.
    fn take(depth: usize) -> Scratch {
        let kept = SCRATCH.with(|kept| kept.borrow_mut().pop());
        let mut scratch = kept.unwrap_or_else(|| Scratch {
            survivors: Box::new([0; MARK_WORDS]),
            word_marks: Box::new([0; MARK_WORDS]),
            totals: zeroed_scores(),
            sums: Vec::new(),
            touched: Vec::new(),
        });
        while scratch.sums.len() < depth {
            scratch.sums.push(zeroed_scores());
            scratch.touched.push([0; MARK_WORDS]);
        }
        scratch
    }

    fn keep(self) {
        SCRATCH.with(|kept| {
            let mut kept = kept.borrow_mut();
            if kept.len() < KEPT_SCRATCH {
                kept.push(self);
            }
        });
    }
}

impl Drop for WindowedConjunction {
    fn drop(&mut self) {
        // A panic may have left sums half written: such scratch is dropped.
        if !std::thread::panicking() {
            let scratch = std::mem::replace(
                &mut self.scratch,
                Scratch {
                    survivors: Box::new([0; MARK_WORDS]),
                    word_marks: Box::new([0; MARK_WORDS]),
                    totals: Box::default(),
                    sums: Vec::new(),
                    touched: Vec::new(),
                },
            );
            scratch.keep();
        }
    }
}

fn marked(marks: &Marks, delta: usize) -> bool {
    marks[delta / 64] & (1u64 << (delta % 64)) != 0
}

fn mark(marks: &mut Marks, delta: usize) {
    marks[delta / 64] |= 1u64 << (delta % 64);
}

impl WindowedConjunction {
    /// `words` (each a tree over `slots`), none of them empty.
    pub(crate) fn new(slots: Vec<Leaf>, roots: Vec<Node>, scoring: bool) -> WindowedConjunction {
        let mut words: Vec<Word> = roots
            .into_iter()
            .map(|root| {
                let mut leaves = Vec::new();
                root.leaves(&mut leaves);
                Word { root, leaves }
            })
            .collect();
        words.sort_by_key(|w| w.cost(&slots));
        let depth = words
            .iter()
            .map(|w| w.root.depth())
            .max()
            .unwrap_or(0)
            .max(1);
        let mut conjunction = WindowedConjunction {
            slots,
            words,
            scoring,
            scratch: Scratch::take(depth),
            start: 0,
            cursor: MARK_WORDS,
            doc: 0,
        };
        conjunction.doc = conjunction.next_window(0);
        conjunction
    }

    /// Fills the first window at or after `from` holding a document every
    /// word matches, and returns that document (TERMINATED when none).
    fn next_window(&mut self, mut from: DocId) -> DocId {
        loop {
            let Some(start) = self.align(from) else {
                self.cursor = MARK_WORDS;
                return TERMINATED;
            };
            self.fill(start);
            if let Some(doc) = self.pop() {
                return doc;
            }
            from = start.saturating_add(WINDOW);
        }
    }

    /// The first document at or after `from` that every word matches.
    fn align(&mut self, mut from: DocId) -> Option<DocId> {
        loop {
            let mut latest = from;
            for word in &self.words {
                let mut first = TERMINATED;
                for &i in &word.leaves {
                    first = first.min(self.slots[i].seek(from));
                }
                if first == TERMINATED {
                    return None;
                }
                latest = latest.max(first);
            }
            if latest == from {
                return Some(from);
            }
            from = latest;
        }
    }

    /// Reads and scores the window `[start, start + WINDOW)`.
    fn fill(&mut self, start: DocId) {
        let end = start.saturating_add(WINDOW);
        self.start = start;
        self.cursor = 0;
        let scratch = &mut self.scratch;
        for (w, word) in self.words.iter().enumerate() {
            let first = w == 0;
            scratch.word_marks.fill(0);
            let mut reading = Reading {
                slots: &mut self.slots,
                scratch: &mut *scratch,
                start,
                end,
                first,
                scoring: self.scoring,
            };
            match &word.root {
                Node::Leaf(i) => reading.leaf(*i, 0),
                Node::Union(children) => reading.union(children, 0),
            }
            if self.scoring {
                let (totals, sums) = (&mut *scratch.totals, &mut *scratch.sums[0]);
                for (at, &bits) in scratch.word_marks.iter().enumerate() {
                    let mut rest = bits;
                    while rest != 0 {
                        let delta = at * 64 + rest.trailing_zeros() as usize;
                        let score = std::mem::take(&mut sums[delta]);
                        if first {
                            totals[delta] = score;
                        } else {
                            totals[delta] += score;
                        }
                        rest &= rest - 1;
                    }
                }
            }
            std::mem::swap(&mut scratch.survivors, &mut scratch.word_marks);
            if scratch.survivors.iter().all(|&m| m == 0) {
                return;
            }
        }
    }

    /// `callback(doc, score)` for every match from the current document
    /// on, before `end`; the current document is then the first match at or
    /// after `end`.
    pub(crate) fn for_each_until(&mut self, end: DocId, callback: &mut dyn FnMut(DocId, Score)) {
        while self.doc < end {
            callback(self.doc, self.score());
            loop {
                match self.pop() {
                    Some(doc) if doc < end => {
                        callback(doc, self.scratch.totals[(doc - self.start) as usize]);
                    }
                    Some(doc) => {
                        self.doc = doc;
                        return;
                    }
                    None => break,
                }
            }
            self.doc = self.next_window(self.start.saturating_add(WINDOW));
        }
    }

    /// The next survivor of the window, unmarking it.
    fn pop(&mut self) -> Option<DocId> {
        while self.cursor < MARK_WORDS {
            let bits = self.scratch.survivors[self.cursor];
            if bits != 0 {
                self.scratch.survivors[self.cursor] = bits & (bits - 1);
                let delta = self.cursor as u32 * 64 + bits.trailing_zeros();
                return Some(self.start + delta);
            }
            self.cursor += 1;
        }
        None
    }
}

/// One word being read into a window.
struct Reading<'a> {
    slots: &'a mut [Leaf],
    scratch: &'a mut Scratch,
    start: DocId,
    end: DocId,
    /// The first word keeps every document; later ones only survivors.
    first: bool,
    scoring: bool,
}

impl Reading<'_> {
    /// Reads `children` into the sums of `depth` (`0`: the word's own).
    fn union(&mut self, children: &[Node], depth: usize) {
        for child in children {
            match child {
                Node::Leaf(i) => self.leaf(*i, depth),
                Node::Union(grandchildren) => {
                    self.union(grandchildren, depth + 1);
                    if self.scoring {
                        self.fold(depth + 1);
                    }
                }
            }
        }
    }

    /// Adds the nested sums of `depth` into those of `depth - 1`, leaving
    /// them zeroed.
    fn fold(&mut self, depth: usize) {
        let (outer, inner) = self.scratch.sums.split_at_mut(depth);
        let (outer_touched, inner_touched) = self.scratch.touched.split_at_mut(depth);
        let (sums, nested) = (&mut *outer[depth - 1], &mut *inner[0]);
        let parent_touched = outer_touched.get_mut(depth - 1);
        let mut parent_touched = parent_touched.filter(|_| depth > 1);
        for (at, bits) in inner_touched[0].iter_mut().enumerate() {
            let mut rest = std::mem::take(bits);
            if let Some(touched) = parent_touched.as_mut() {
                touched[at] |= rest;
            }
            while rest != 0 {
                let delta = at * 64 + rest.trailing_zeros() as usize;
                sums[delta] += std::mem::take(&mut nested[delta]);
                rest &= rest - 1;
            }
        }
    }

    /// Reads leaf `i`, marking the documents it keeps for the word and
    /// adding its scores into the sums of `depth`.
    fn leaf(&mut self, i: usize, depth: usize) {
        let (start, end, scoring) = (self.start, self.end, self.scoring);
        let Scratch {
            survivors,
            word_marks,
            sums,
            touched,
            ..
        } = &mut *self.scratch;
        let mut sink = Sink {
            start,
            filter: (!self.first).then_some(&**survivors),
            marks: word_marks,
            sums: scoring.then_some(&mut sums[depth][..]),
            // The word's own sums need no record of what they touched:
            // the word's marks are that record.
            touched: touched.get_mut(depth).filter(|_| scoring && depth > 0),
        };
        match &mut self.slots[i] {
            Leaf::Term(term) => term.read_window(end, &mut sink),
            Leaf::Other(scorer) => {
                let mut doc = scorer.doc();
                while doc < end {
                    let delta = (doc - start) as usize;
                    if sink.filter.is_none_or(|f| marked(f, delta)) {
                        mark(sink.marks, delta);
                        if let Some(sums) = sink.sums.as_deref_mut() {
                            sums[delta] += scorer.score();
                        }
                        if let Some(touched) = sink.touched.as_deref_mut() {
                            mark(touched, delta);
                        }
                    }
                    doc = scorer.advance();
                }
            }
        }
    }
}

impl DocSet for WindowedConjunction {
    fn advance(&mut self) -> DocId {
        if self.doc == TERMINATED {
            return TERMINATED;
        }
        self.doc = match self.pop() {
            Some(doc) => doc,
            None => self.next_window(self.start.saturating_add(WINDOW)),
        };
        self.doc
    }

    fn seek(&mut self, target: DocId) -> DocId {
        if self.doc >= target {
            return self.doc;
        }
        if target < self.start.saturating_add(WINDOW) {
            let delta = target - self.start;
            let (word, bit) = ((delta / 64) as usize, delta % 64);
            self.scratch.survivors[self.cursor..word].fill(0);
            self.cursor = word;
            self.scratch.survivors[word] &= !((1u64 << bit) - 1);
            if let Some(doc) = self.pop() {
                self.doc = doc;
                return doc;
            }
            self.doc = self.next_window(self.start.saturating_add(WINDOW));
        } else {
            self.doc = self.next_window(target);
        }
        self.doc
    }

    fn doc(&self) -> DocId {
        self.doc
    }

    fn size_hint(&self) -> u32 {
        let hint = self
            .words
            .iter()
            .map(|w| w.cost(&self.slots))
            .min()
            .unwrap_or(0);
        u32::try_from(hint).unwrap_or(u32::MAX)
    }

    fn cost(&self) -> u64 {
        self.slots.iter().map(|s| s.cost()).sum()
    }
}

impl Scorer for WindowedConjunction {
    fn score(&mut self) -> Score {
        match self.doc.checked_sub(self.start) {
            Some(delta) if delta < WINDOW => self.scratch.totals[delta as usize],
            _ => 0.0,
        }
    }
}
