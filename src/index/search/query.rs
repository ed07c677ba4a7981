//! Turns a parsed query ([`parse::Node`]) into one tantivy query: each word
//! is searched in every free-text field of the schema with that field's
//! boost and analyser, with typo tolerance (Meilisearch's budget: one edit
//! from 5 characters, two from 9, none for numbers, emails and ids; exact
//! matches outscore corrected ones), the last word also as a prefix,
//! synonyms, Japanese compounds through the bigram field, phone numbers
//! through their significant digits, emails through their canonical form and
//! ids through the id fields.
//!
//! It must never fail on what a user typed: anything it cannot use becomes a
//! warning. It also records, per field, the clauses it built, so hits can say
//! which fields matched.

use std::collections::{BTreeMap, HashMap};

use tantivy::Term;
use tantivy::query::{
    AllQuery, BooleanQuery, BoostQuery, EmptyQuery, FuzzyTermQuery, Occur, PhraseQuery, Query,
};
use tantivy::schema::IndexRecordOption;
use tantivy::tokenizer::TextAnalyzer;

use super::conjunction::all_of;
use super::conjunction::leaf::ScoredTerm;
use super::corrected_union::AnyOf;
use super::fuzzy::{SharedFuzzyQuery, automaton};
use super::highlight::LooseTerms;
use super::parse::Node;
use super::phrase::CachedPhrase;
use super::synonyms::Synonyms;
use super::value_queries::{attrs_query, exact_value_query};
use crate::index::SearchIndex;
use crate::index::extra_tokenizers::{normalize_for_prefix, pair_text};
use crate::index::keys::{looks_like_phone, phone_significant, typo_budget};
use crate::normalize::Email;
use crate::schema::{FieldSpec, FieldType, PAIRS_SUFFIX, TokenizerKind};

/// A typo-corrected match weighs this much of an exact one.
const FUZZY_WEIGHT: f32 = 0.1;
/// Weight of a prefix match of the last word (in names).
const PREFIX_BOOST: f32 = 1.0;
/// Weight of an exact id, email or phone match.
const KEY_BOOST: f32 = 5.0;
/// Fields typo tolerance always applies to: names and titles, where a
/// misspelt surname or company must still be found. Correcting every word
/// of long text too cost more than the rest of a query together on the
/// benchmark corpus (see BENCHMARKS.md), so there it is narrower (below).
const FUZZY_FIELDS: &[&str] = &["names", "company", "customer_name", "title"];
/// Long-text fields where a word is corrected only when no record has it
/// there as typed (Elasticsearch's `suggest_mode: missing`): a misspelt word
/// in a note or an email body still finds it, while a word that is in the
/// field as typed is taken as meant, and its neighbours' postings (a broad
/// word has many) are not read on every query.
const FUZZY_IF_UNKNOWN_FIELDS: &[&str] = &["body", "attrs_text"];
/// Fields a bare word is also looked up in, exactly (ids).
const ID_FIELDS: &[&str] = &["id", "customer_id", "person_id", "org_id"];

pub(crate) struct Built {
    pub query: Box<dyn Query>,
    /// Positive clauses by schema field, to tell which fields a hit matched.
    pub by_field: BTreeMap<String, Vec<Box<dyn Query>>>,
    /// Typo-tolerant clauses by field, consulted when no exact clause matched.
    pub fuzzy_by_field: BTreeMap<String, Vec<Box<dyn Query>>>,
    /// Typo-tolerant words and prefixes, to highlight inexact matches.
    pub loose: LooseTerms,
    /// The analysed words of each phrase searched in a field (a quoted
    /// phrase, or a word its analyser cuts in several), to highlight a
    /// phrase only where it occurs.
    pub phrases: BTreeMap<String, Vec<Vec<String>>>,
    pub warnings: Vec<String>,
}

pub(crate) struct QueryBuilder<'a> {
    index: &'a SearchIndex,
    synonyms: &'a Synonyms,
    analyzers: HashMap<TokenizerKind, TextAnalyzer>,
    tokens: HashMap<(TokenizerKind, String), Vec<String>>,
    by_field: BTreeMap<String, Vec<Box<dyn Query>>>,
    fuzzy_by_field: BTreeMap<String, Vec<Box<dyn Query>>>,
    loose: LooseTerms,
    phrases: BTreeMap<String, Vec<Vec<String>>>,
    warnings: Vec<String>,
    /// Top-level words must all match (false: any may, the fallback).
    conjunction: bool,
    depth: usize,
}

fn boosted(query: Box<dyn Query>, boost: f32) -> Box<dyn Query> {
    if (boost - 1.0).abs() < f32::EPSILON {
        return query;
    }
    match query.downcast_ref::<ScoredTerm>() {
        // Read block by block in a conjunction; the same weight as
        // `BoostQuery(TermQuery)` elsewhere.
        Some(term) if term.boost == 1.0 => {
            Box::new(ScoredTerm::new(term.term.clone(), term.option, boost))
        }
        _ => Box::new(BoostQuery::new(query, boost)),
    }
}

fn any_of(mut clauses: Vec<Box<dyn Query>>) -> Option<Box<dyn Query>> {
    match clauses.len() {
        0 => None,
        1 => clauses.pop(),
        _ => match AnyOf::of(clauses) {
            Ok(corrected) => Some(Box::new(corrected)),
            Err(clauses) => Some(Box::new(BooleanQuery::new(
                clauses.into_iter().map(|q| (Occur::Should, q)).collect(),
            ))),
        },
    }
}

fn is_plain_word(node: &Node) -> Option<&str> {
    match node {
        Node::Text {
            field: None,
            text,
            phrase: false,
            ..
        } => Some(text),
        _ => None,
    }
}

fn phone_part(word: &str) -> bool {
    word.chars()
        .all(|c| c.is_ascii_digit() || "+-.()/".contains(c))
        && word.chars().any(|c| c.is_ascii_digit())
}

impl<'a> QueryBuilder<'a> {
    pub(crate) fn new(index: &'a SearchIndex, synonyms: &'a Synonyms, conjunction: bool) -> Self {
        QueryBuilder {
            index,
            synonyms,
            analyzers: HashMap::new(),
            tokens: HashMap::new(),
            by_field: BTreeMap::new(),
            fuzzy_by_field: BTreeMap::new(),
            phrases: BTreeMap::new(),
            loose: LooseTerms::default(),
            warnings: Vec::new(),
            conjunction,
            depth: 0,
        }
    }

    pub(crate) fn build(mut self, root: Option<&Node>) -> Built {
        let query = root
            .and_then(|node| self.node(node))
            .unwrap_or_else(|| Box::new(EmptyQuery));
        Built {
            query,
            by_field: self.by_field,
            fuzzy_by_field: self.fuzzy_by_field,
            loose: self.loose,
            phrases: self.phrases,
            warnings: self.warnings,
        }
    }

    fn tokens(&mut self, kind: TokenizerKind, text: &str) -> Vec<String> {
        let key = (kind, text.to_string());
        if let Some(tokens) = self.tokens.get(&key) {
            return tokens.clone();
        }
        let index = self.index;
        let analyzer = self
            .analyzers
            .entry(kind)
            .or_insert_with(|| index.analyzers().analyzer(kind));
        let mut stream = analyzer.token_stream(text);
        let mut out = Vec::new();
        while let Some(token) = stream.next() {
            out.push(token.text.clone());
        }
        self.tokens.insert(key, out.clone());
        out
    }

    /// Whether no segment of the index holds `term` (a word nobody wrote
    /// in that field as typed). An index that cannot be read counts as
    /// knowing the word, so nothing extra is searched.
    fn is_unknown(&self, term: &Term) -> bool {
        let searcher = self.index.reader().searcher();
        searcher.doc_freq(term).is_ok_and(|freq| freq == 0)
    }

    fn record(&mut self, field: &str, query: &dyn Query) {
        self.by_field
            .entry(field.to_string())
            .or_default()
            .push(query.box_clone());
    }

    fn node(&mut self, node: &Node) -> Option<Box<dyn Query>> {
        match node {
            Node::All => Some(Box::new(AllQuery)),
            Node::Text {
                field: None,
                phrase: false,
                ..
            } => self.and(std::slice::from_ref(node)),
            Node::Text {
                field: None,
                text,
                phrase: true,
                ..
            } => self.free_text(text, true, false),
            Node::Text {
                field: Some(field),
                text,
                phrase,
                ..
            } => self.fielded(field, text, *phrase),
            Node::Range { field, range, raw } => {
                match super::filters::filter_query(self.index, field, range) {
                    Ok(q) => {
                        self.record(field, &*q);
                        Some(q)
                    }
                    Err(e) => {
                        let why = match e {
                            super::QueryError::BadParameter { message, .. } => message,
                            other => other.to_string(),
                        };
                        self.warnings
                            .push(format!("the range `{raw}` cannot be used ({why}): ignored"));
                        None
                    }
                }
            }
            Node::Not(inner) => {
                let inner = self.node(inner)?;
                Some(Box::new(BooleanQuery::new(vec![
                    (Occur::Must, Box::new(AllQuery)),
                    (Occur::MustNot, inner),
                ])))
            }
            Node::And(children) => self.and(children),
            Node::Or(children) => {
                self.depth += 1;
                let clauses = children.iter().filter_map(|c| self.node(c)).collect();
                self.depth -= 1;
                any_of(clauses)
            }
        }
    }

    /// A conjunction, with runs of plain words checked for synonyms and
    /// phone numbers typed with spaces.
    fn and(&mut self, children: &[Node]) -> Option<Box<dyn Query>> {
        let top = self.depth == 0;
        self.depth += 1;
        let mut positive = Vec::new();
        let mut negative = Vec::new();
        let mut i = 0;
        while i < children.len() {
            let run: Vec<&str> = children[i..].iter().map_while(is_plain_word).collect();
            if run.is_empty() {
                match &children[i] {
                    Node::Not(inner) => negative.extend(self.node(inner)),
                    other => positive.extend(self.node(other)),
                }
                i += 1;
                continue;
            }
            let (used, clause) = self.word_run(&run, &children[i..]);
            positive.extend(clause);
            i += used;
        }
        self.depth -= 1;
        if positive.is_empty() && negative.is_empty() {
            return None;
        }
        let occur = if top && !self.conjunction {
            Occur::Should
        } else {
            Occur::Must
        };
        if positive.len() == 1 && negative.is_empty() {
            return positive.pop();
        }
        if occur == Occur::Must && negative.is_empty() {
            let words: Vec<&dyn Query> = positive.iter().map(|q| &**q).collect();
            return Some(Box::new(all_of(&words)));
        }
        let mut clauses: Vec<(Occur, Box<dyn Query>)> =
            positive.into_iter().map(|q| (occur, q)).collect();
        if clauses.is_empty() {
            clauses.push((Occur::Must, Box::new(AllQuery)));
        }
        clauses.extend(negative.into_iter().map(|q| (Occur::MustNot, q)));
        Some(Box::new(BooleanQuery::new(clauses)))
    }

    /// The clause for the words at the start of `run`, and how many it used.
    fn word_run(&mut self, run: &[&str], nodes: &[Node]) -> (usize, Option<Box<dyn Query>>) {
        let prefix_of = |n: usize| matches!(nodes.get(n), Some(Node::Text { prefix: true, .. }));
        // A phone number typed in parts: "+1 415 555 0100".
        let phone_len = run.iter().take_while(|w| phone_part(w)).count();
        if phone_len >= 2 {
            let joined = run[..phone_len].join(" ");
            if let Some(nsn) = looks_like_phone(&joined)
                .then(|| phone_significant(&joined))
                .flatten()
            {
                let words: Vec<Box<dyn Query>> = (0..phone_len)
                    .filter_map(|n| self.free_text(run[n], false, false))
                    .collect();
                let mut alternatives = vec![self.phone(&nsn)];
                if words.len() == phone_len {
                    alternatives.push(Box::new(BooleanQuery::new(
                        words.into_iter().map(|q| (Occur::Must, q)).collect(),
                    )));
                }
                return (phone_len, any_of(alternatives));
            }
        }
        if let Some((n, alternatives)) = self.synonyms.longest_match(run) {
            let mut clauses: Vec<Box<dyn Query>> = Vec::new();
            if n == 1 {
                clauses.extend(self.free_text(run[0], false, prefix_of(0)));
            } else {
                clauses.extend(self.free_text(&run[..n].join(" "), true, false));
            }
            for alternative in alternatives {
                let phrase = alternative.contains(' ');
                clauses.extend(self.free_text(&alternative, phrase, false));
            }
            return (n, any_of(clauses));
        }
        (1, self.free_text(run[0], false, prefix_of(0)))
    }

    fn phone(&mut self, nsn: &str) -> Box<dyn Query> {
        match self.index.field("phone_keys") {
            Some(field) => {
                let q: Box<dyn Query> = boosted(
                    Box::new(ScoredTerm::exact(
                        Term::from_field_text(field, nsn),
                        IndexRecordOption::Basic,
                    )),
                    KEY_BOOST,
                );
                self.record("phones", &*q);
                q
            }
            None => Box::new(EmptyQuery),
        }
    }

    /// A word or phrase in every free-text field, plus ids, emails, phones,
    /// the prefix of the last word, and Japanese synonym forms inside it.
    fn free_text(&mut self, text: &str, phrase: bool, prefix: bool) -> Option<Box<dyn Query>> {
        let mut variants = vec![text.to_string()];
        if !phrase {
            variants.extend(self.synonyms.inner_variants(text));
        }
        let budget = if phrase { 0 } else { typo_budget(text) };
        let specs: Vec<FieldSpec> = self
            .index
            .spec()
            .fields
            .iter()
            .filter(|f| f.search)
            .cloned()
            .collect();
        let mut clauses = Vec::new();
        for variant in &variants {
            for spec in &specs {
                clauses.extend(self.field_clause(spec, variant, phrase, budget));
            }
        }
        if !phrase {
            for name in ID_FIELDS {
                if let Some(field) = self.index.field(name) {
                    let q = boosted(
                        Box::new(ScoredTerm::exact(
                            Term::from_field_text(field, text),
                            IndexRecordOption::Basic,
                        )),
                        KEY_BOOST,
                    );
                    self.record(name, &*q);
                    clauses.push(q);
                }
            }
            if text.contains('@')
                && let (Ok(email), Some(field)) = (Email::parse(text), self.index.field("emails"))
            {
                let q = boosted(
                    Box::new(ScoredTerm::exact(
                        Term::from_field_text(field, email.as_str()),
                        IndexRecordOption::Basic,
                    )),
                    KEY_BOOST,
                );
                self.record("emails", &*q);
                clauses.push(q);
            }
            if looks_like_phone(text)
                && let Some(nsn) = phone_significant(text)
            {
                clauses.push(self.phone(&nsn));
            }
            let folded = normalize_for_prefix(text);
            if prefix
                && folded.chars().count() >= 2
                && let Some(field) = self.index.field("suggest")
            {
                let q = boosted(
                    Box::new(ScoredTerm::exact(
                        Term::from_field_text(field, &folded),
                        IndexRecordOption::Basic,
                    )),
                    PREFIX_BOOST,
                );
                self.record("names", &*q);
                self.loose.prefixes.push(folded);
                clauses.push(q);
            }
        }
        any_of(clauses)
    }

    /// `text` in one field, under that field's analyser; `budget` edits of
    /// typo tolerance for single-word text fields.
    fn field_clause(
        &mut self,
        spec: &FieldSpec,
        text: &str,
        phrase: bool,
        budget: u8,
    ) -> Option<Box<dyn Query>> {
        let field = self.index.field(&spec.name)?;
        let kind = match spec.field_type {
            FieldType::Text | FieldType::Keyword => spec.analyzer()?,
            _ => return None,
        };
        if kind == TokenizerKind::Ngram {
            return None;
        }
        let tokens = self.tokens(kind, text);
        let boost = spec.boost.unwrap_or(1.0);
        let query: Box<dyn Query> = match tokens.as_slice() {
            [] => return None,
            [single] if kind == TokenizerKind::Cjk && single.chars().count() == 1 => Box::new(
                FuzzyTermQuery::new_prefix(Term::from_field_text(field, single), 0, true),
            ),
            [single] => {
                let term = Term::from_field_text(field, single);
                let exact: Box<dyn Query> = Box::new(ScoredTerm::exact(
                    term.clone(),
                    IndexRecordOption::WithFreqs,
                ));
                let textual = matches!(
                    kind,
                    TokenizerKind::Text | TokenizerKind::English | TokenizerKind::Japanese
                );
                let corrected = textual
                    && budget > 0
                    && (FUZZY_FIELDS.contains(&spec.name.as_str())
                        || (FUZZY_IF_UNKNOWN_FIELDS.contains(&spec.name.as_str())
                            && self.is_unknown(&term)));
                let shared = if corrected {
                    automaton(&self.index.caches().automata, field, single, budget)
                } else {
                    None
                };
                if let Some(automaton) = shared {
                    let exact = boosted(exact, boost);
                    let fuzzy: Box<dyn Query> = Box::new(SharedFuzzyQuery {
                        field,
                        automaton,
                        word: single.clone(),
                        distance: budget,
                        segments: self.index.caches().segments.clone(),
                        corrections: self.index.caches().corrections.clone(),
                        boost: FUZZY_WEIGHT * boost,
                    });
                    self.record(&spec.name, &*exact);
                    self.fuzzy_by_field
                        .entry(spec.name.clone())
                        .or_default()
                        .push(fuzzy.box_clone());
                    self.loose
                        .fuzzy
                        .entry(spec.name.clone())
                        .or_default()
                        .push((single.clone(), budget));
                    return Some(Box::new(BooleanQuery::new(vec![
                        (Occur::Should, exact),
                        (Occur::Should, fuzzy),
                    ])));
                } else {
                    exact
                }
            }
            many if matches!(kind, TokenizerKind::Keyword | TokenizerKind::Exact) => {
                Box::new(ScoredTerm::exact(
                    Term::from_field_text(field, &many.join(" ")),
                    IndexRecordOption::Basic,
                ))
            }
            many => {
                let terms: Vec<(usize, Term)> = many
                    .iter()
                    .enumerate()
                    .map(|(i, t)| (i, Term::from_field_text(field, t)))
                    .collect();
                let phrase: Box<dyn Query> = Box::new(PhraseQuery::new_with_offset(terms.clone()));
                self.phrases
                    .entry(spec.name.clone())
                    .or_default()
                    .push(many.to_vec());
                // The phrase itself tells which hits matched in this field
                // and what to highlight (a few hits, through positions);
                // the search reads its pairs, or its cached occurrences.
                self.record(&spec.name, &*boosted(phrase, boost));
                let search = match self.pairs_clause(&spec.name, kind, many) {
                    Some(pairs) => pairs,
                    None => self.cached_phrase(terms),
                };
                return Some(boosted(search, boost));
            }
        };
        let _ = phrase;
        let query = boosted(query, boost);
        self.record(&spec.name, &*query);
        Some(query)
    }

    /// The phrase `tokens` of the field `name` (analysed by `kind`) as
    /// adjacent pairs in its pairs field, when the schema has one that pairs
    /// `kind`: one term for two tokens, a phrase of pairs for more, in which
    /// every other pair is left out ([`needed_pair`]). It matches exactly
    /// what the phrase does.
    fn pairs_clause(
        &self,
        name: &str,
        kind: TokenizerKind,
        tokens: &[String],
    ) -> Option<Box<dyn Query>> {
        let pairs_name = format!("{name}{PAIRS_SUFFIX}");
        if self.index.spec().field(&pairs_name)?.tokenizer?.paired()? != kind {
            return None;
        }
        let field = self.index.field(&pairs_name)?;
        let pairs = tokens.len().saturating_sub(1);
        let mut terms: Vec<(usize, Term)> = tokens
            .windows(2)
            .enumerate()
            .filter(|(i, _)| needed_pair(*i, pairs))
            .map(|(i, w)| (i, Term::from_field_text(field, &pair_text(&w[0], &w[1]))))
            .collect();
        Some(match terms.len() {
            0 => return None,
            1 => Box::new(ScoredTerm::exact(
                terms.remove(0).1,
                IndexRecordOption::WithFreqs,
            )),
            _ => self.cached_phrase(terms),
        })
    }

    /// The phrase of `terms` (two or more), read through the phrase cache.
    fn cached_phrase(&self, terms: Vec<(usize, Term)>) -> Box<dyn Query> {
        Box::new(CachedPhrase::new(terms, &self.index.caches().phrases))
    }

    /// `field:value` (or `field:"a phrase"`).
    fn fielded(&mut self, name: &str, text: &str, phrase: bool) -> Option<Box<dyn Query>> {
        if let Some(path) = name.strip_prefix("attrs.") {
            return self.attrs(path, text);
        }
        let Some(spec) = self.index.spec().field(name).cloned() else {
            self.warnings
                .push(format!("unknown field `{name}`: ignored"));
            return None;
        };
        let field = self.index.field(name)?;
        match spec.field_type {
            FieldType::Text | FieldType::Keyword => {
                let budget = if phrase { 0 } else { typo_budget(text) };
                let clause = self.field_clause(&spec, text, phrase, budget);
                if clause.is_none() {
                    self.warnings.push(format!(
                        "`{name}:{text}` has nothing to search for: ignored"
                    ));
                }
                clause
            }
            FieldType::F64 | FieldType::I64 | FieldType::Date => {
                match exact_value_query(field, spec.field_type, text) {
                    Some(q) => {
                        self.record(name, &*q);
                        Some(q)
                    }
                    None => {
                        self.warnings.push(format!(
                            "`{name}:{text}`: `{text}` is not a valid value: ignored"
                        ));
                        None
                    }
                }
            }
            FieldType::Json => self.attrs("", text),
        }
    }

    fn attrs(&mut self, path: &str, text: &str) -> Option<Box<dyn Query>> {
        let field = self.index.field("attrs")?;
        match attrs_query(self.index, field, path, text) {
            Ok(q) => {
                self.record("attrs", &*q);
                Some(q)
            }
            Err(message) => {
                self.warnings.push(message.to_string());
                None
            }
        }
    }
}

/// Whether pair `i` of `pairs` adjacent pairs is needed in a phrase of
/// pairs: the first, every other one, and the last. Pair `i` holds tokens
/// `i` and `i + 1`, so pairs `i` and `i + 2` at their offsets already fix
/// tokens `i` to `i + 3`, and the pair between them adds nothing but
/// postings to read (a Japanese word in the bigram field is a phrase of
/// many pairs).
fn needed_pair(i: usize, pairs: usize) -> bool {
    i.is_multiple_of(2) || i + 1 == pairs
}

#[cfg(test)]
mod tests {
    use super::needed_pair;

    /// The pairs kept still fix every token: the first and last pairs are
    /// kept and no two kept pairs are more than two apart, so each token
    /// sits in a kept pair at a fixed offset.
    #[test]
    fn the_pairs_kept_fix_every_token_of_the_phrase() {
        for pairs in 1..20 {
            let kept: Vec<usize> = (0..pairs).filter(|&i| needed_pair(i, pairs)).collect();
            assert_eq!(kept.first(), Some(&0), "{pairs}");
            assert_eq!(kept.last(), Some(&(pairs - 1)), "{pairs}");
            assert!(kept.windows(2).all(|w| w[1] - w[0] <= 2), "{kept:?}");
            let tokens = pairs + 1;
            for token in 0..tokens {
                assert!(
                    kept.iter().any(|&p| p == token || p + 1 == token),
                    "token {token} of {tokens}: {kept:?}"
                );
            }
            // About half are read.
            assert!(kept.len() <= pairs / 2 + 1, "{kept:?}");
        }
    }
}
