//! Attachment of interactions and transactions (notes, emails, tickets,
//! tasks, events, cases, opportunities, orders) to the person or
//! organisation they concern, each with the evidence that decided it, and
//! the reason for every record that stays unattached.
//!
//! The order is the order of trust: a steward's hand attachment; a reference
//! the source states (an account or contact id, the customer reference);
//! the `company` or account name when exactly one organisation bears it; the
//! folder a note sits in when it names one organisation; the
//! correspondents of a message (a known address, else the domain of the one
//! organisation owning it; staff addresses never decide); the thread the
//! message replies to; names or addresses mentioned in the text; for a
//! note, a name written with one slip or shared by namesakes, decided by
//! the note's other clues (`attach/clues.rs`).
//!
//! It must never guess between two customers: a name, domain or mention
//! that several organisations share attaches to none of them.

use std::collections::{BTreeSet, HashMap};

use serde::{Deserialize, Serialize};

use super::BookRecord;
use super::{Graph, OrgLookup, Settings, domain_of, golden};
use crate::normalize::company_key;
use crate::record::{Record, RecordKind};

/// A record resolution could not attach to any customer, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Unattached {
    pub record: String,
    pub source: String,
    pub kind: String,
    pub reason: String,
    /// The customers the record could be (namesakes it names and nothing
    /// in it tells apart), for a steward to pick one; never guessed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub candidates: Vec<String>,
}

/// Where each attached record goes (node and evidence), and the others.
pub(super) struct Attachments {
    pub found: HashMap<usize, (usize, String)>,
    pub unattached: Vec<(usize, String)>,
    /// Per unattached record, one node of each organisation it could be.
    pub candidates: HashMap<usize, Vec<usize>>,
}

impl Attachments {
    /// The customer ids of record `i`'s candidates (`id_of` a node).
    pub(super) fn candidate_ids(
        &self,
        i: usize,
        mut id_of: impl FnMut(usize) -> Option<String>,
    ) -> Vec<String> {
        let mut ids: Vec<String> = self
            .candidates
            .get(&i)
            .into_iter()
            .flatten()
            .filter_map(|&node| id_of(node))
            .collect();
        ids.sort();
        ids.dedup();
        ids
    }
}

/// The addresses and domains that belong to the company running Rapport.
struct Staff {
    domains: BTreeSet<String>,
    addresses: BTreeSet<String>,
}

impl Staff {
    fn of(records: &[BookRecord], settings: &Settings) -> Staff {
        let domains = settings
            .staff_domains
            .iter()
            .map(|d| d.trim().trim_start_matches('@').to_ascii_lowercase())
            .filter(|d| !d.is_empty())
            .collect();
        let addresses = records
            .iter()
            .filter(is_staff)
            .flat_map(|r| r.emails.iter().map(|e| e.to_ascii_lowercase()))
            .collect();
        Staff { domains, addresses }
    }

    fn owns(&self, address: &str) -> bool {
        let address = address.to_ascii_lowercase();
        self.addresses.contains(&address)
            || address.rsplit_once('@').is_some_and(|(_, d)| {
                self.domains
                    .iter()
                    .any(|s| d == s || d.ends_with(&format!(".{s}")))
            })
    }
}

/// What [`is_staff`] reads of a record, whole or as resolution holds it.
pub trait Staffed {
    fn staff_kind(&self) -> RecordKind;
    fn staff_attrs(&self) -> &serde_json::Map<String, serde_json::Value>;
}

impl Staffed for Record {
    fn staff_kind(&self) -> RecordKind {
        self.kind
    }
    fn staff_attrs(&self) -> &serde_json::Map<String, serde_json::Value> {
        &self.attrs
    }
}

impl Staffed for BookRecord {
    fn staff_kind(&self) -> RecordKind {
        self.kind
    }
    fn staff_attrs(&self) -> &serde_json::Map<String, serde_json::Value> {
        self.attrs()
    }
}

impl<T: Staffed> Staffed for &T {
    fn staff_kind(&self) -> RecordKind {
        (**self).staff_kind()
    }
    fn staff_attrs(&self) -> &serde_json::Map<String, serde_json::Value> {
        (**self).staff_attrs()
    }
}

/// A person record of the company's own staff: `staff` true, or a help
/// desk's `role` of agent or admin (Zendesk users). Never a customer, and
/// their addresses never decide where a message goes.
pub fn is_staff(record: &impl Staffed) -> bool {
    let attr = |key: &str| {
        record.staff_attrs().get(key).and_then(|v| match v {
            serde_json::Value::Bool(b) => Some(b.to_string()),
            serde_json::Value::String(s) => Some(s.trim().to_ascii_lowercase()),
            _ => None,
        })
    };
    record.staff_kind() == RecordKind::Person
        && (attr("staff").as_deref() == Some("true")
            || matches!(attr("role").as_deref(), Some("agent" | "admin")))
}

/// The phones a record could not read (no country code, and neither its own
/// country nor its source's region) read in `country`, its organisation's;
/// empty unless every one of them reads.
pub(super) fn phones_in(record: &BookRecord, country: &str) -> Vec<String> {
    let Some(raw) = record.attrs().get("raw_phones").and_then(|v| v.as_str()) else {
        return Vec::new();
    };
    if record.country.is_some() {
        return Vec::new();
    }
    let parsed: Option<Vec<String>> = raw
        .split("; ")
        .map(|p| {
            crate::normalize::Phone::parse(p, Some(country))
                .ok()
                .map(|p| p.as_str().to_string())
        })
        .collect();
    parsed.unwrap_or_default()
}

/// The extra search words of a record of `customer` (and of `person`).
pub(super) fn search_keys(customer: &super::Entity, person: Option<&super::Entity>) -> Vec<String> {
    let names = |e: &super::Entity| -> Vec<String> {
        e.golden
            .fields
            .get("name")
            .map(|f| f.variants.iter().map(|v| v.value.clone()).collect())
            .unwrap_or_default()
    };
    let mut keys = if customer.kind == "organization" {
        let names = names(customer);
        let refs: Vec<&str> = names.iter().map(String::as_str).collect();
        crate::normalize::search_keys::customer_keys(&refs)
    } else {
        Vec::new()
    };
    for e in std::iter::once(customer).chain(person) {
        if e.kind != "person" {
            continue;
        }
        for name in names(e) {
            for word in name.split_whitespace() {
                for v in crate::normalize::search_keys::letter_variants(word) {
                    if !keys.contains(&v) {
                        keys.push(v);
                    }
                }
            }
        }
    }
    keys
}

/// A record's title and body, the text mentions are looked for in.
fn text_of(r: &BookRecord) -> String {
    format!(
        "{} {}",
        r.title.as_deref().unwrap_or(""),
        r.body.as_deref().unwrap_or("")
    )
}

impl<'a> Graph<'a> {
    /// The entity node each interaction or transaction attaches to, and the
    /// reason for each one that attaches to none.
    pub(super) fn attachments(
        &mut self,
        settings: &Settings,
        membership: &HashMap<usize, (usize, String)>,
        attach: &[(String, String)],
    ) -> Attachments {
        let staff = Staff::of(self.records, settings);
        let lookup = self.org_lookup();
        let mut person_by_email: HashMap<String, usize> = HashMap::new();
        // People first: an address names a person before their company.
        for kind in [RecordKind::Person, RecordKind::Organization] {
            for i in self.nodes_of(kind) {
                if is_staff(&self.records[i]) {
                    continue;
                }
                for e in &self.records[i].emails {
                    if !staff.owns(e) {
                        person_by_email.entry(e.to_ascii_lowercase()).or_insert(i);
                    }
                }
            }
        }
        let (domains, firms) = self.domain_owners(&lookup, membership, &staff);
        let names = golden::mention_index(self.records);
        let roots: Vec<usize> = (0..self.records.len()).map(|i| self.uf.find(i)).collect();
        let phantoms = self.phantom_orgs(membership);
        let clues = clues::Clues::new(self, &lookup, &roots, membership, &domains, firms);
        let cx = precision::Context {
            clues: &clues,
            person_by_email: &person_by_email,
            domains: &domains,
            roots: &roots,
            membership,
            phantoms,
        };
        let by_hand: HashMap<&str, &str> = attach
            .iter()
            .map(|(record, to)| (record.as_str(), to.as_str()))
            .collect();
        let mut found = HashMap::new();
        let mut candidates: HashMap<usize, Vec<usize>> = HashMap::new();
        let mut waiting: Vec<(usize, Vec<String>)> = Vec::new();
        for (i, r) in self.records.iter().enumerate() {
            if matches!(r.kind, RecordKind::Person | RecordKind::Organization) {
                continue;
            }
            let mut tried = Vec::new();
            // A hit found by a name passes the precision checks first.
            let checked = |hit: Option<(usize, String)>,
                           found: precision::Found<'_>,
                           tried: &mut Vec<String>| {
                let hit = hit?;
                // The name a mention matched, quoted in its evidence.
                let found = match found {
                    precision::Found::ByRule(None) => {
                        precision::Found::ByRule(hit.1.split('"').nth(1))
                    }
                    other => other,
                };
                match self.refuses(i, hit.0, found, &cx) {
                    Some(why) => {
                        tried.push(why);
                        None
                    }
                    None => Some(hit),
                }
            };
            let hit = by_hand
                .get(r.id().as_str())
                .and_then(|to| self.index_of(to))
                .filter(|&n| self.is_entity(n))
                .map(|n| (n, "attached by a steward".to_string()))
                .or_else(|| self.by_reference(i))
                .or_else(|| {
                    let hit = self.by_company(i, &lookup, &mut tried);
                    checked(hit, precision::Found::ByRule(None), &mut tried)
                })
                .or_else(|| {
                    checked(
                        self.by_folder(i, &lookup),
                        precision::Found::ByRule(None),
                        &mut tried,
                    )
                })
                .or_else(|| {
                    self.by_correspondent(i, &person_by_email, &domains, &staff, &mut tried)
                })
                .or_else(|| {
                    // A note naming organisations is decided by its own
                    // clues or not at all; a lone contact's name is weaker,
                    // and a company column naming several organisations
                    // leaves none of them to a mention.
                    let shared = self.company_is_shared(i, &lookup);
                    match self.by_clues(i, &clues, &person_by_email, &domains, &roots, membership) {
                        // A bare name the clue step took is checked like
                        // any other rule's; a contact or city it weighed
                        // has decided already.
                        Ok(Some(hit)) if hit.1.contains(", and ") => {
                            checked(Some(hit), precision::Found::ByClues, &mut tried)
                        }
                        Ok(Some(hit)) => {
                            checked(Some(hit), precision::Found::ByRule(None), &mut tried)
                        }
                        Ok(None) if shared => None,
                        Ok(None) => {
                            let hit = self.by_mention(i, &person_by_email, &names, &roots);
                            checked(hit, precision::Found::ByRule(None), &mut tried).or_else(|| {
                                let hit = self.by_named_company(i, &lookup, &roots);
                                checked(hit, precision::Found::ByRule(None), &mut tried)
                            })
                        }
                        Err((why, among)) => {
                            let hit = self.by_named_company(i, &lookup, &roots);
                            checked(hit, precision::Found::ByRule(None), &mut tried).or_else(|| {
                                tried.push(why);
                                if !among.is_empty() {
                                    candidates.insert(i, among);
                                }
                                None
                            })
                        }
                    }
                });
            match hit {
                Some(hit) => {
                    found.insert(i, hit);
                }
                None => waiting.push((i, tried)),
            }
        }
        // Replies follow their thread; a reply to a reply follows it too.
        loop {
            let before = waiting.len();
            waiting.retain(|(i, _)| match self.by_thread(*i, &found) {
                Some(hit) => {
                    found.insert(*i, hit);
                    false
                }
                None => true,
            });
            if waiting.len() == before {
                break;
            }
        }
        let unattached = waiting
            .into_iter()
            .map(|(i, tried)| (i, self.reason(i, tried)))
            .collect();
        candidates.retain(|i, _| !found.contains_key(i));
        Attachments {
            found,
            unattached,
            candidates,
        }
    }

    fn is_entity(&self, n: usize) -> bool {
        matches!(self.kind(n), RecordKind::Person | RecordKind::Organization)
            && self.records.get(n).is_none_or(|r| !is_staff(r))
    }

    /// A reference the source states: a link to an account or contact, a
    /// record id (notes written through the API), or the customer
    /// reference as an id or as the name of exactly one organisation.
    fn by_reference(&self, i: usize) -> Option<(usize, String)> {
        let r = &self.records[i];
        r.links
            .iter()
            .filter(|l| !matches!(l.rel.as_str(), "from" | "to" | "cc" | "thread"))
            .find_map(|l| {
                let node = if l.rel == "record" {
                    self.index_of(&l.target)
                } else {
                    self.lookup(&r.source, &l.target)
                };
                node.filter(|&n| self.is_entity(n))
                    .map(|n| (n, format!("{} reference {}", l.rel, l.target)))
            })
            .or_else(|| {
                let c = r.customer_ref.as_deref()?;
                self.lookup(&r.source, c)
                    .filter(|&n| self.is_entity(n))
                    .map(|n| (n, format!("customer reference {c}")))
            })
    }

    /// The one organisation (with a record, or named by its people) whose
    /// name key `name` has.
    fn org_named(&self, name: &str, lookup: &OrgLookup) -> Result<usize, usize> {
        let key = company_key(name);
        if key.is_empty() {
            return Err(0);
        }
        match lookup.by_key.get(&key) {
            Some(roots) if roots.len() == 1 => Ok(roots[0].1),
            Some(roots) => {
                // Namesakes of different legal forms ("Nova SA", "Nova
                // SARL"): the form the name states picks one.
                let Some(form) = crate::normalize::legal_form(name) else {
                    return Err(roots.len());
                };
                // Only namesakes whose records state another form are ruled
                // out; one that states none might be it.
                let same_form: Vec<usize> = roots
                    .iter()
                    .filter(|(_, node)| {
                        let r = &self.records[*node];
                        let forms: Vec<Option<&str>> = r
                            .names
                            .iter()
                            .chain(r.title.iter())
                            .map(|n| crate::normalize::legal_form(n))
                            .collect();
                        forms.contains(&Some(form)) || forms.iter().any(Option::is_none)
                    })
                    .map(|(_, node)| *node)
                    .collect();
                match same_form.as_slice() {
                    [only] => Ok(*only),
                    _ => Err(roots.len()),
                }
            }
            None => match self.implicit_orgs.iter().position(|k| *k == key) {
                Some(p) => Ok(self.records.len() + p),
                None => Err(0),
            },
        }
    }

    /// The `company` (account name) column, or a customer reference that
    /// is a name rather than an id.
    fn by_company(
        &self,
        i: usize,
        lookup: &OrgLookup,
        tried: &mut Vec<String>,
    ) -> Option<(usize, String)> {
        let r = &self.records[i];
        for (what, name) in [("company name", &r.company), ("customer", &r.customer_ref)] {
            let Some(name) = name.as_deref() else {
                continue;
            };
            match self.org_named(name, lookup) {
                Ok(n) => return Some((n, format!("{what} \"{name}\""))),
                Err(0) if what == "company name" => {
                    tried.push(format!("company \"{name}\" names no known organisation"))
                }
                Err(0) => tried.push(format!("customer reference \"{name}\" is not known")),
                Err(k) => tried.push(format!("{what} \"{name}\" names {k} organisations")),
            }
        }
        None
    }

    /// A note kept in a folder named after one customer (its id in any
    /// source, or its name), the nearest folder first.
    fn by_folder(&self, i: usize, lookup: &OrgLookup) -> Option<(usize, String)> {
        let r = &self.records[i];
        if r.kind != RecordKind::Note {
            return None;
        }
        let (folders, _) = r.provenance.file.rsplit_once('/')?;
        folders.rsplit('/').find_map(|folder| {
            let folder = folder.trim();
            if folder.is_empty() {
                return None;
            }
            self.lookup(&r.source, folder)
                .filter(|&n| self.is_entity(n))
                .or_else(|| self.org_named(folder, lookup).ok())
                .map(|n| (n, format!("kept in folder \"{folder}\"")))
        })
    }

    /// Domains that identify one organisation: its web sites and addresses,
    /// and its people's addresses (never free mail, never staff).
    fn domain_owners(
        &mut self,
        lookup: &OrgLookup,
        membership: &HashMap<usize, (usize, String)>,
        staff: &Staff,
    ) -> (HashMap<String, Option<usize>>, firms::Firms) {
        let mut roots: HashMap<String, BTreeSet<usize>> = HashMap::new();
        let mut first: HashMap<String, usize> = HashMap::new();
        for (d, list) in &lookup.by_domain {
            for &(root, node) in list {
                roots.entry(d.clone()).or_default().insert(root);
                first.entry(d.clone()).or_insert(node);
            }
        }
        for i in self.nodes_of(RecordKind::Person) {
            if is_staff(&self.records[i]) {
                continue;
            }
            let Some((org, _)) = membership.get(&self.uf.find(i)) else {
                continue;
            };
            let org_root = self.uf.find(*org);
            for e in &self.records[i].emails {
                if staff.owns(e) {
                    continue;
                }
                if let Some(d) = domain_of(e) {
                    let d = d.to_ascii_lowercase();
                    roots.entry(d.clone()).or_default().insert(org_root);
                    first.entry(d).or_insert(*org);
                }
            }
        }
        let firms = firms::Firms::of(&roots);
        let owners = roots
            .into_iter()
            .map(|(d, set)| {
                let node = (set.len() == 1).then(|| first.get(&d).copied()).flatten();
                (d, node)
            })
            .collect();
        (owners, firms)
    }

    /// The first correspondent outside the staff whose address is known,
    /// else whose domain one organisation owns.
    fn by_correspondent(
        &self,
        i: usize,
        person_by_email: &HashMap<String, usize>,
        domains: &HashMap<String, Option<usize>>,
        staff: &Staff,
        tried: &mut Vec<String>,
    ) -> Option<(usize, String)> {
        let r = &self.records[i];
        let addresses: Vec<String> = r
            .links
            .iter()
            .filter(|l| matches!(l.rel.as_str(), "from" | "to" | "cc"))
            .map(|l| l.target.to_ascii_lowercase())
            .chain(r.emails.iter().map(|e| e.to_ascii_lowercase()))
            .collect();
        if addresses.is_empty() {
            return None;
        }
        let outside: Vec<&String> = addresses.iter().filter(|a| !staff.owns(a)).collect();
        if outside.is_empty() {
            tried.push("every correspondent is staff".into());
            return None;
        }
        if let Some(hit) = outside.iter().find_map(|a| {
            person_by_email
                .get(a.as_str())
                .map(|&n| (n, format!("email participant {a}")))
        }) {
            return Some(hit);
        }
        let mut shared = false;
        for a in &outside {
            let Some(d) = domain_of(a) else { continue };
            match domains.get(d) {
                Some(Some(n)) => return Some((*n, format!("email domain {d}"))),
                Some(None) => shared = true,
                None => {}
            }
        }
        tried.push(if shared {
            "a correspondent's domain belongs to several organisations".into()
        } else {
            "no correspondent's address or domain is known".into()
        });
        None
    }

    /// Addresses or names of customers the text mentions (one only).
    fn by_mention(
        &self,
        i: usize,
        person_by_email: &HashMap<String, usize>,
        names: &golden::MentionIndex,
        roots: &[usize],
    ) -> Option<(usize, String)> {
        let text = text_of(&self.records[i]);
        text.split(|c: char| {
            c.is_whitespace() || matches!(c, ',' | ';' | '(' | ')' | '<' | '>' | '"')
        })
        .map(|w| w.trim_end_matches('.').to_lowercase())
        .filter(|w| w.contains('@'))
        .find_map(|w| {
            person_by_email
                .get(w.as_str())
                .map(|&n| (n, format!("mentions {w}")))
        })
        .or_else(|| {
            names
                .unambiguous_mention(&text, |a, b| roots.get(a) == roots.get(b))
                .filter(|(n, _)| self.is_entity(*n))
                // An organisation's name inside a longer one names another.
                .filter(|(n, name)| {
                    self.kind(*n) != RecordKind::Organization
                        || precision::stands_alone_in(&text, name)
                })
                .map(|(n, name)| (n, format!("mentions \"{name}\"")))
        })
    }

    /// A company named in the text with its legal form ("call with Titan
    /// Logistics GmbH"), when the form tells namesakes apart: the words
    /// before a legal form, up to five, read as a company name; one
    /// organisation must be named.
    fn by_named_company(
        &self,
        i: usize,
        lookup: &OrgLookup,
        roots: &[usize],
    ) -> Option<(usize, String)> {
        let text = text_of(&self.records[i]);
        let words: Vec<&str> = text
            .split(|c: char| c.is_whitespace() || matches!(c, ';' | '(' | ')' | '"' | ':'))
            .filter(|w| !w.is_empty())
            .collect();
        let mut found: Option<(usize, String)> = None;
        for (end, word) in words.iter().enumerate() {
            let form_word = word.trim_end_matches([',', '.']);
            if crate::normalize::legal_form(&format!("x {form_word}")).is_none() {
                continue;
            }
            for start in end.saturating_sub(5)..end {
                let phrase = words[start..=end].join(" ");
                let phrase = phrase.trim_end_matches([',', '.']);
                // A name run on from a capitalised word ("Redwood Wagner
                // Metallbau AG") is a longer name Rapport does not know.
                let runs_on = start > 0
                    && words[start - 1]
                        .chars()
                        .next()
                        .is_some_and(char::is_uppercase);
                if let Ok(n) = self.org_named(phrase, lookup)
                    && !runs_on
                {
                    match &found {
                        Some((m, _)) if roots.get(*m) != roots.get(n) => return None,
                        Some(_) => {}
                        None => found = Some((n, format!("names \"{phrase}\""))),
                    }
                    break;
                }
            }
        }
        found.filter(|(n, _)| self.is_entity(*n))
    }

    /// The message this one replies to (In-Reply-To, References), when that
    /// one is attached.
    fn by_thread(
        &self,
        i: usize,
        found: &HashMap<usize, (usize, String)>,
    ) -> Option<(usize, String)> {
        let r = &self.records[i];
        r.links.iter().filter(|l| l.rel == "thread").find_map(|l| {
            let parent = self.lookup(&r.source, &l.target)?;
            found
                .get(&parent)
                .map(|(n, _)| (*n, format!("replies to {}", l.target)))
        })
    }

    /// Owners named by a staff person record's id (a ticket's assignee),
    /// by record: the staff member's name.
    pub(super) fn owner_names(&self) -> HashMap<usize, String> {
        let mut out = HashMap::new();
        for (i, r) in self.records.iter().enumerate() {
            let Some(owner) = r.owner.as_deref() else {
                continue;
            };
            if let Some(name) = self.staff_name(&r.source, owner) {
                out.insert(i, name);
            }
        }
        out
    }

    /// The name of the staff person record `id` of `source` (a Salesforce
    /// user, a HubSpot owner, a Zendesk agent).
    pub(super) fn staff_name(&self, source: &str, id: &str) -> Option<String> {
        self.by_external
            .get(&(source, id))
            .map(|&n| &self.records[n])
            .filter(is_staff)
            .and_then(|staff| staff.names.first())
            .map(|name| name.to_string())
    }

    /// [`Graph::staff_name`] of every staff person record, by source and
    /// id, so the lookup of all records can be freed before the golden
    /// records are built.
    pub(super) fn staff_names(&self) -> HashMap<(&'a str, &'a str), String> {
        self.by_external
            .iter()
            .filter_map(|(&key, &n)| {
                let staff = &self.records[n];
                is_staff(staff)
                    .then(|| staff.names.first().map(|name| name.to_string()))
                    .flatten()
                    .map(|name| (key, name))
            })
            .collect()
    }

    /// Why record `i` attached to nothing, in a steward's words.
    fn reason(&self, i: usize, tried: Vec<String>) -> String {
        let r = &self.records[i];
        if let Some(first) = tried.into_iter().next() {
            return first;
        }
        if r.links.iter().any(|l| l.rel == "thread") {
            return "replies to a message that is not attached".into();
        }
        if r.customer_ref.is_some() || r.links.iter().any(|l| l.rel != "thread") {
            return "its reference names no known customer".into();
        }
        "no reference, company, correspondent or mention names a customer".into()
    }
}

mod cities;
mod clues;
mod converted;
mod decide;
mod firms;
mod precision;
mod readings;
mod shape;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_firms;
#[cfg(test)]
mod tests_fourth;
