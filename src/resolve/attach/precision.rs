//! The checks that keep a name-based attachment off the wrong customer:
//! an organisation known only as contacts' company that no contact ended up
//! in (a phantom), a known name read inside a longer one ("Delta Atlas
//! Energy", "Cabinet Robert-Morel", 三和日進工業), a mention when the
//! record's own company column names several organisations, a name
//! another organisation bears with one slip (a namesake whose records
//! carry a typo) or in the other script ("Kongo Fuji Seiki K.K." for
//! another firm's 金剛富士精機株式会社) unless the note's contact or city
//! picks one; a record of the same firm (`attach/firms.rs`) is no namesake.
//!
//! It must never attach anything itself: each check only refuses a hit
//! another rule found, so a record it touches stays unattached, with the
//! reason, for a steward to attach.

use std::collections::{BTreeSet, HashMap};

use super::super::{Graph, OrgLookup};
use super::clues::{Clues, shaped, words};
use crate::record::RecordKind;

/// What a note's other clues are read against: the indexes the clue step
/// built, and who belongs where.
pub(super) struct Context<'c> {
    pub clues: &'c Clues,
    pub person_by_email: &'c HashMap<String, usize>,
    pub domains: &'c HashMap<String, Option<usize>>,
    pub roots: &'c [usize],
    pub membership: &'c HashMap<usize, (usize, String)>,
    /// Implicit organisations (named by contacts' company column) that no
    /// contact belongs to.
    pub phantoms: BTreeSet<usize>,
}

/// Whether the known name `name` (lower case, as a mention matched it)
/// stands alone in `text` at least once: not run on into a longer name,
/// before or after, nor (written in kanji or kana) the tail of one.
pub(super) fn stands_alone_in(text: &str, name: &str) -> bool {
    let name_words = words(name);
    if name_words.len() == 1 && !name_words[0].is_ascii() && !name.contains(' ') {
        let lowered = text.to_lowercase();
        return lowered.match_indices(name).any(|(at, _)| {
            !lowered[..at]
                .chars()
                .next_back()
                .is_some_and(char::is_alphanumeric)
        });
    }
    let shape = shaped(text);
    let len = name_words.len();
    if len == 0 || shape.words.len() < len {
        return false;
    }
    (0..=shape.words.len() - len)
        .any(|p| shape.words[p..p + len] == name_words[..] && shape.stands_alone(p, p + len))
}

impl Graph<'_> {
    /// Implicit organisation nodes (named by contacts' company column) no
    /// person belongs to: a contact's other record found its real
    /// organisation first, so the name stands for nobody.
    pub(super) fn phantom_orgs(
        &mut self,
        membership: &HashMap<usize, (usize, String)>,
    ) -> BTreeSet<usize> {
        let n = self.records.len();
        let live: BTreeSet<usize> = membership.values().map(|(org, _)| *org).collect();
        (n..n + self.implicit_orgs.len())
            .filter(|&node| !live.contains(&self.uf.find(node)))
            .collect()
    }

    /// Whether the record's company column (or a customer reference that
    /// is a name) names several organisations: a mention must then not
    /// pick one of them.
    pub(super) fn company_is_shared(&self, i: usize, lookup: &OrgLookup) -> bool {
        let r = &self.records[i];
        [&r.company, &r.customer_ref]
            .into_iter()
            .flatten()
            .any(|name| matches!(self.org_named(name, lookup), Err(k) if k > 1))
    }

    /// Why `node`, found for record `i` by a name, must not be its
    /// customer: a phantom organisation; a name (the company column, a
    /// customer reference that is a name, a note's folder, the name a
    /// mention matched) that another organisation bears with one slip,
    /// unless the note's contact or city picks this one. `found` says how
    /// the hit was
    /// found: by the clue step (which weighed slips and clues already), or
    /// by another rule, with the name it matched if any.
    pub(super) fn refuses(
        &self,
        i: usize,
        node: usize,
        found: Found<'_>,
        cx: &Context<'_>,
    ) -> Option<String> {
        if cx.phantoms.contains(&node) {
            return Some("its company is known only by a name no contact stays with".into());
        }
        let r = &self.records[i];
        let root = cx.roots.get(node).copied().unwrap_or(node);
        let note = r.kind == RecordKind::Note;
        let text = format!(
            "{} {}",
            r.title.as_deref().unwrap_or(""),
            r.body.as_deref().unwrap_or("")
        );
        let text_words = shaped(&text).words;
        if let Found::ByRule(by_name) = found {
            let folders = match note {
                true => r.provenance.file.rsplit_once('/').map(|(f, _)| f),
                false => None,
            };
            let names = [r.company.as_deref(), r.customer_ref.as_deref(), by_name]
                .into_iter()
                .flatten()
                .chain(folders.into_iter().flat_map(|f| f.rsplit('/')));
            for name in names {
                let slips = cx.clues.slip_namesakes(name);
                let read = cx.clues.read_namesakes(name, self.romaji);
                for (others, how) in [(slips, "with one slip"), (read, "read in the other script")]
                {
                    let others: Vec<usize> = others
                        .into_iter()
                        // A typo'd record of this very firm (the same
                        // domains) is no namesake.
                        .filter(|o| !cx.clues.same_firm(*o, root))
                        .collect();
                    if others.is_empty()
                        || note && self.clues_pick(&text, &text_words, root, &others, cx)
                    {
                        continue;
                    }
                    return Some(format!(
                        "\"{name}\" is also, {how}, the name of another organisation"
                    ));
                }
            }
        }
        // Neither a contact nor a city the note names vetoes on its own:
        // full names repeat across companies, and a company has sites in
        // other cities ("the Osaka plant" of a Tokyo firm); they only pick
        // among namesakes (BENCHMARKS.md, issue 18 third landing).
        None
    }

    /// Whether a note's contact or city picks `root` over each of `others`:
    /// a contact of it and of none of them, or its city while each of them
    /// is known to be elsewhere.
    fn clues_pick(
        &self,
        text: &str,
        text_words: &[String],
        root: usize,
        others: &[usize],
        cx: &Context<'_>,
    ) -> bool {
        let people = cx.clues.people_named(
            text,
            text_words,
            cx.person_by_email,
            cx.domains,
            cx.roots,
            cx.membership,
        );
        if people.contains(&root) && others.iter().all(|o| !people.contains(o)) {
            return true;
        }
        cx.clues.city_names(text_words, root)
            && others
                .iter()
                .all(|o| cx.clues.city_contradicts(text_words, *o))
    }
}

/// How a hit was found, for [`Graph::refuses`].
#[derive(Clone, Copy)]
pub(super) enum Found<'n> {
    /// By the clue step, which weighed slips, contacts and cities.
    ByClues,
    /// By another rule, with the name a mention matched, if any.
    ByRule(Option<&'n str>),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_known_name_inside_a_longer_one_does_not_stand_alone() {
        assert!(stands_alone_in(
            "Call with Atlas Energy about the renewal",
            "atlas energy"
        ));
        assert!(stands_alone_in("Atlas Energy renewal 2024", "atlas energy"));
        assert!(stands_alone_in(
            "Call with Atlas Energy LLC about it",
            "atlas energy"
        ));
        assert!(!stands_alone_in(
            "Support case 1 for Delta Atlas Energy",
            "atlas energy"
        ));
        assert!(!stands_alone_in(
            "Call with Cabinet Robert-Morel about it",
            "cabinet robert"
        ));
        assert!(!stands_alone_in(
            "Call with North Consulting International Corp. about it",
            "north consulting"
        ));
        assert!(stands_alone_in(
            "Call with 日進工業株式会社 about it",
            "日進工業"
        ));
        assert!(!stands_alone_in(
            "Call with 三和日進工業株式会社 about it",
            "日進工業"
        ));
    }
}
