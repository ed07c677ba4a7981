//! A note's organisation decided by its own clues: the names its folder or
//! text gives, exactly, with one slip, or in the other script, and, when
//! several organisations bear them, the contact, address or city the note
//! names (indexes built in `attach/clues.rs`). Organisations resolution
//! kept apart that are one firm by their domains (`attach/firms.rs`) count
//! as one candidate, with the cities and people of all.
//!
//! It must never guess: a note attaches only when exactly one firm stays
//! possible; a city picks one only when every other is known to be
//! elsewhere; a contact of another firm vetoes a name written with a slip.

use std::collections::HashMap;

use super::super::Graph;
use super::clues::{Clues, city_words, phrases_in, shaped, slipped_legal_form, words};
use crate::normalize::company_key;
use crate::record::RecordKind;

/// Why a note's clues decide nothing, and the organisations (a node of
/// each) it could be.
pub(super) type Undecided = (String, Vec<usize>);

impl Graph<'_> {
    /// A note's organisation by a name written with a slip or shared by
    /// namesakes, its folder's first, and the note's other clues: `Ok(None)`
    /// when the note names no organisation, `Err(reason)` when it names
    /// some and its clues do not decide (no weaker rule may then guess).
    pub(super) fn by_clues(
        &self,
        i: usize,
        clues: &Clues,
        person_by_email: &HashMap<String, usize>,
        domains: &HashMap<String, Option<usize>>,
        roots: &[usize],
        membership: &HashMap<usize, (usize, String)>,
    ) -> Result<Option<(usize, String)>, Undecided> {
        let r = &self.records[i];
        if r.kind != RecordKind::Note {
            return Ok(None);
        }
        let text = format!(
            "{} {}",
            r.title.as_deref().unwrap_or(""),
            r.body.as_deref().unwrap_or("")
        );
        let shape = shaped(&text);
        let text_words = &shape.words;
        // The nearest folder that names an organisation, else the text.
        let folders = r
            .provenance
            .file
            .rsplit_once('/')
            .map(|(f, _)| f)
            .unwrap_or("");
        let named: Vec<(usize, bool)> = folders
            .rsplit('/')
            .find_map(|folder| {
                let mut key = words(&company_key(folder));
                // "Raven Kestrel Consulting Incoporated/": a slipped form.
                if key.len() >= 3 && key.last().is_some_and(|l| slipped_legal_form(l)) {
                    key.pop();
                }
                // The whole folder name, exactly or with a slip, whatever
                // shorter names inside it read exactly ("Junier Juniper
                // Trading/" holds "Juniper Trading").
                let found: Vec<(usize, bool)> = clues
                    .every_name_in(&key, None)
                    .into_iter()
                    .filter(|f| f.start == 0 && f.len == key.len())
                    .map(|f| (f.name, f.slip))
                    .collect();
                // Written in the other script ("Hikari Seisakusho Co. Ltd/"
                // for 光製作所株式会社).
                let found = match found.is_empty() {
                    true => clues
                        .readings
                        .of_name(&key, self.romaji)
                        .into_iter()
                        .map(|n| (n, false))
                        .collect(),
                    false => found,
                };
                (!found.is_empty()).then_some(found)
            })
            .unwrap_or_else(|| {
                let mut found: Vec<(usize, bool)> = clues
                    .names_in(text_words, Some(&shape))
                    .into_iter()
                    .map(|f| (f.name, f.slip))
                    .collect();
                found.extend(clues.cjk_in(&text).into_iter().map(|n| (n, false)));
                let read = clues.read_in(&text, &shape, self.romaji);
                found.extend(read.into_iter().map(|n| (n, false)));
                found.sort_unstable();
                found.dedup();
                found
            });
        // A known name inside a longer one ("Iron Foods Digital"): the
        // note names an organisation Rapport does not know.
        if named.iter().any(|(n, _)| *n == usize::MAX)
            && named.iter().all(|(n, _)| *n == usize::MAX)
        {
            return Err((
                "the note names an organisation no record names".into(),
                Vec::new(),
            ));
        }
        let named: Vec<(usize, bool)> = named
            .into_iter()
            .filter(|(n, _)| *n != usize::MAX)
            .collect();
        let mut candidates: Vec<(usize, usize)> = Vec::new();
        for (n, _) in &named {
            for &(root, node) in &clues.names[*n].1 {
                if !candidates.iter().any(|(r, _)| *r == root) {
                    candidates.push((root, node));
                }
            }
        }
        if candidates.is_empty() {
            return Ok(None);
        }
        // Contacts and addresses the note names, by their organisation.
        let people = clues.people_named(
            &text,
            text_words,
            person_by_email,
            domains,
            roots,
            membership,
        );
        let cities = phrases_in(&clues.cities, &city_words(text_words));
        let exact = |root: usize| {
            named
                .iter()
                .any(|(n, slip)| !slip && clues.names[*n].1.iter().any(|(r, _)| *r == root))
        };
        let firms = Firm::group(&candidates, clues, &exact);
        // The city picks a namesake only when every other one is known to
        // be elsewhere: one whose city is unknown might be the one.
        let by_city = |among: Vec<usize>| -> Vec<usize> {
            let (in_city, others): (Vec<usize>, Vec<usize>) = among
                .into_iter()
                .partition(|&f| firms[f].roots.iter().any(|r| cities.contains(r)));
            if others
                .iter()
                .all(|&f| firms[f].roots.iter().any(|r| clues.city_of.contains_key(r)))
            {
                in_city
            } else {
                Vec::new()
            }
        };
        let backed: Vec<usize> = (0..firms.len())
            .filter(|&f| firms[f].roots.iter().any(|r| people.contains(r)))
            .collect();
        let chosen: Vec<usize> = match backed.as_slice() {
            [_] => backed,
            [] if firms.len() == 1 => {
                // People's names repeat across companies: a contact of
                // another one vetoes only a name written with a slip.
                if people.is_empty() || firms[0].roots.iter().any(|r| exact(*r)) {
                    vec![0]
                } else {
                    Vec::new()
                }
            }
            [] => by_city((0..firms.len()).collect()),
            several => by_city(several.to_vec()),
        };
        // Namesakes named exactly, nothing else telling them apart: a
        // steward picks, seeing which customers they are.
        let undecided = || {
            Err((
                match firms.len() {
                    1 => "the note names an organisation with a slip, and a contact it names \
                          belongs to another"
                        .to_string(),
                    n => format!(
                        "ambiguous: the note names {n} organisations and its other clues do not pick one"
                    ),
                },
                candidates.iter().map(|(_, node)| *node).collect(),
            ))
        };
        let [chosen] = chosen.as_slice() else {
            return undecided();
        };
        let firm = &firms[*chosen];
        let node = &firm.node;
        let how: Vec<String> = named
            .iter()
            .filter(|(n, _)| {
                clues.names[*n]
                    .1
                    .iter()
                    .any(|(r, _)| firm.roots.contains(r))
            })
            .map(|(n, slip)| {
                let key = &clues.names[*n].2;
                if *slip {
                    format!("names \"{key}\" with a slip")
                } else {
                    format!("names \"{key}\"")
                }
            })
            .collect();
        let mut why = how.join(", ");
        if firm.roots.iter().any(|r| people.contains(r)) {
            why.push_str(", and a contact of it");
        } else if firms.len() > 1 {
            why.push_str(&format!(", and its city ({} namesakes)", firms.len()));
        }
        if firm.roots.len() > 1 {
            why.push_str(&format!(
                "; {} organisations claiming the same domains read as one",
                firm.roots.len()
            ));
        }
        Ok(self.is_entity(*node).then_some((*node, why)))
    }
}

/// Candidate organisations that are one firm (`attach/firms.rs`): their
/// roots, and the root and node a note attaches to (one named exactly if
/// any).
struct Firm {
    roots: Vec<usize>,
    root: usize,
    node: usize,
}

impl Firm {
    /// The candidates (root, node) grouped into firms, in order.
    fn group(
        candidates: &[(usize, usize)],
        clues: &Clues,
        exact: &dyn Fn(usize) -> bool,
    ) -> Vec<Firm> {
        let mut firms: Vec<Firm> = Vec::new();
        for &(root, node) in candidates {
            match firms
                .iter_mut()
                .find(|f| f.roots.iter().all(|r| clues.same_firm(*r, root)))
            {
                Some(f) => {
                    f.roots.push(root);
                    if !exact(f.root) && exact(root) {
                        (f.root, f.node) = (root, node);
                    }
                }
                None => firms.push(Firm {
                    roots: vec![root],
                    root,
                    node,
                }),
            }
        }
        firms
    }
}
