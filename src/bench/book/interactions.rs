//! Writes a labelled book as the files companies really have: each CRM's
//! accounts and contacts (generic CSV), a Zendesk full export (users with
//! agents, organizations, tickets with comments), a mailbox (mbox: customers
//! writing in, staff answering, new colleagues, replies from free mail),
//! deals and cases, and notes typed in several encodings (Shift_JIS, EUC-JP,
//! UTF-16, Latin-1, UTF-8) that say whose they are by front matter, folder or
//! mention; with planted data problems. Returns the truth: each
//! interaction's company, and each planted problem's record and field.
//!
//! It must never read what Rapport decided: truth comes from how the files
//! were made.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::Path;

use super::{Book, Company, Person, Rng, company_spelling};
use crate::record::RecordKind;

/// The domain of the company running Rapport (its staff's addresses).
pub const STAFF_DOMAIN: &str = "ourco.example";

/// What the files hold, as the book's maker knows it.
#[derive(Debug, Default)]
pub struct ExportTruth {
    /// Interaction record id → its true company (index into the book).
    pub interactions: HashMap<String, usize>,
    /// Record id → the field whose value was planted wrong.
    pub planted: HashMap<String, String>,
    /// Records the book itself made incomplete (a contact with neither an
    /// address, a phone nor any other way to reach them): a flag there is
    /// no false alarm, though nothing was planted.
    pub incomplete: Vec<String>,
    /// Every organisation and person record written → its true company.
    pub companies: HashMap<String, usize>,
}

/// `(source, connector, folder)` of each source written.
pub const SOURCES: &[(&str, &str, &str)] = &[
    ("sf", "generic-csv", "sf"),
    ("hs", "generic-csv", "hs"),
    ("vc", "generic-csv", "vc"),
    ("deals", "generic-csv", "deals"),
    ("zd", "zendesk-export", "zd"),
    ("mail", "mbox", "mail"),
    ("notes", "notes", "notes"),
];

fn csv_cell(text: &str) -> String {
    if text.contains([',', '"', '\n']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

fn csv_line(cells: &[&str]) -> String {
    let mut line = cells
        .iter()
        .map(|c| csv_cell(c))
        .collect::<Vec<_>>()
        .join(",");
    line.push('\n');
    line
}

fn json_line(value: serde_json::Value) -> String {
    format!("{value}\n")
}

struct Writer<'b> {
    book: &'b Book,
    rng: Rng,
    truth: ExportTruth,
    /// Per company, its account id in each CRM source that has one.
    accounts: Vec<HashMap<&'static str, String>>,
    /// Per person, their Zendesk user id (numeric), if they have one.
    zendesk_user: HashMap<usize, u64>,
}

pub fn write(book: &Book, dir: &Path, seed: u64) -> std::io::Result<ExportTruth> {
    for (_, _, folder) in SOURCES {
        std::fs::create_dir_all(dir.join(folder))?;
    }
    let mut w = Writer {
        book,
        rng: Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1),
        truth: ExportTruth::default(),
        accounts: vec![HashMap::new(); book.companies.len()],
        zendesk_user: HashMap::new(),
    };
    w.crm(dir)?;
    w.zendesk(dir)?;
    w.deals(dir)?;
    w.mail(dir)?;
    w.notes(dir)?;
    Ok(w.truth)
}

impl Writer<'_> {
    /// Accounts and contacts of sf, hs and vc as generic CSV, with planted
    /// malformed addresses and swapped names.
    fn crm(&mut self, dir: &Path) -> std::io::Result<()> {
        let header = csv_line(&[
            "id", "kind", "name", "company", "email", "phone", "country", "website", "customer",
            "postcode", "city",
        ]);
        let mut files: HashMap<&str, String> = HashMap::new();
        for r in &self.book.records {
            let source: &'static str = match r.source.as_str() {
                "sf" => "sf",
                "hs" => "hs",
                "vc" => "vc",
                _ => continue,
            };
            let truth = &self.book.truth[&r.id()];
            if r.kind == RecordKind::Organization {
                self.accounts[truth.org].insert(source, r.external_id.clone());
            }
            self.truth.companies.insert(r.id(), truth.org);
            if r.kind == RecordKind::Person
                && r.emails.is_empty()
                && r.phones.is_empty()
                && r.address.is_empty()
            {
                self.truth.incomplete.push(r.id());
            }
            let mut name = r.names.first().cloned().unwrap_or_default();
            let mut email = r.emails.join(";");
            if r.kind == RecordKind::Person
                && let Some(p) = truth.person
            {
                let person = &self.book.persons[p];
                let latin = person.kanji.is_none();
                if latin && !r.emails.is_empty() && self.rng.chance(3) {
                    email = email.replacen('@', "@@", 1);
                    self.truth.planted.insert(r.id(), "emails".into());
                } else if latin
                    && source == "sf"
                    && r.emails.first() == Some(&person.email)
                    && person.email.starts_with(&format!(
                        "{}.{}@",
                        super::slug(&person.first),
                        super::slug(&person.last)
                    ))
                    && self.rng.chance(4)
                {
                    name = format!("{} {}", person.last, person.first);
                    self.truth.planted.insert(r.id(), "names".into());
                }
            }
            let kind = r.kind.as_str();
            let line = csv_line(&[
                &r.external_id,
                kind,
                &name,
                r.company.as_deref().unwrap_or(""),
                &email,
                &r.phones.join(";"),
                r.country.as_deref().unwrap_or(""),
                &r.websites.join(";"),
                r.customer_ref.as_deref().unwrap_or(""),
                r.address.postcode.as_deref().unwrap_or(""),
                r.address.city.as_deref().unwrap_or(""),
            ]);
            files
                .entry(source)
                .or_insert_with(|| header.clone())
                .push_str(&line);
        }
        for (source, text) in files {
            std::fs::write(dir.join(source).join("export.csv"), text)?;
        }
        Ok(())
    }

    /// Zendesk's full export: organizations, users (end users and three
    /// agents) and tickets with comments.
    fn zendesk(&mut self, dir: &Path) -> std::io::Result<()> {
        let (mut orgs, mut users, mut tickets) = (String::new(), String::new(), String::new());
        let mut zd_org: HashMap<usize, u64> = HashMap::new();
        for r in self.book.records.iter().filter(|r| r.source == "zd") {
            let truth = &self.book.truth[&r.id()];
            let number = |prefix: &str| {
                r.external_id
                    .trim_start_matches(prefix)
                    .parse::<u64>()
                    .unwrap_or(0)
            };
            if r.kind == RecordKind::Organization {
                let id = 5_000 + number("org-");
                zd_org.insert(truth.org, id);
                self.truth
                    .companies
                    .insert(format!("zd:organization-{id}"), truth.org);
                orgs.push_str(&json_line(serde_json::json!({
                    "id": id, "name": r.names.first(), "domain_names": r.websites,
                    "details": null, "tags": [], "created_at": "2022-01-01T00:00:00Z",
                })));
            }
        }
        for r in self.book.records.iter().filter(|r| r.source == "zd") {
            if r.kind != RecordKind::Person {
                continue;
            }
            let truth = &self.book.truth[&r.id()];
            let id = 100_000
                + r.external_id
                    .trim_start_matches("user-")
                    .parse::<u64>()
                    .unwrap_or(0);
            if let Some(p) = truth.person {
                self.zendesk_user.insert(p, id);
            }
            self.truth
                .companies
                .insert(format!("zd:user-{id}"), truth.org);
            if r.emails.is_empty() && r.phones.is_empty() {
                self.truth.incomplete.push(format!("zd:user-{id}"));
            }
            let org = r
                .links
                .iter()
                .any(|l| l.rel == "organization")
                .then(|| zd_org.get(&truth.org).copied())
                .flatten();
            users.push_str(&json_line(serde_json::json!({
                "id": id, "name": r.names.first(), "email": r.emails.first(),
                "phone": r.phones.first(), "organization_id": org, "role": "end-user",
                "external_id": null, "tags": [],
            })));
        }
        let agents = [
            (77u64, "Keiko Tanaka"),
            (78, "David Chen"),
            (79, "Emma Clarke"),
        ];
        for (id, name) in agents {
            let email = format!("{}@{STAFF_DOMAIN}", name.to_lowercase().replace(' ', "."));
            users.push_str(&json_line(serde_json::json!({
                "id": id, "name": name, "email": email, "role": "agent", "organization_id": null,
            })));
        }
        let mut number = 1_000u64;
        let persons: Vec<(usize, u64)> = {
            let mut v: Vec<(usize, u64)> =
                self.zendesk_user.iter().map(|(p, u)| (*p, *u)).collect();
            v.sort_unstable();
            v
        };
        for (p, user) in persons {
            if !self.rng.chance(60) {
                continue;
            }
            let person = &self.book.persons[p];
            number += 1;
            let agent = agents[self.rng.below(agents.len())].0;
            let org = if self.rng.chance(50) {
                zd_org.get(&person.org).copied()
            } else {
                None
            };
            let subject = *self.rng.pick(&[
                "Export fails overnight",
                "Invoice copy needed",
                "Cannot sign in",
                "請求書の再発行について",
                "Sensor readings drift",
            ]);
            tickets.push_str(&json_line(serde_json::json!({
                "id": number, "subject": subject, "description": subject,
                "status": "open", "requester_id": user, "submitter_id": user,
                "assignee_id": agent, "organization_id": org, "tags": [],
                "created_at": "2024-05-02T07:31:00Z", "updated_at": "2024-05-03T07:31:00Z",
                "comments": [
                    {"author_id": user, "body": subject, "public": true},
                    {"author_id": agent, "body": "Thanks, we are looking into it.", "public": true},
                ],
            })));
            self.truth
                .interactions
                .insert(format!("zd:{number}"), person.org);
        }
        let zd = dir.join("zd");
        std::fs::write(zd.join("organizations.json"), orgs)?;
        std::fs::write(zd.join("users.json"), users)?;
        std::fs::write(zd.join("tickets.json"), tickets)
    }

    /// Opportunities and cases (generic CSV) naming their account by id or
    /// by name, with planted problems.
    fn deals(&mut self, dir: &Path) -> std::io::Result<()> {
        let mut text = csv_line(&[
            "id",
            "kind",
            "name",
            "company",
            "customer",
            "stage",
            "amount",
            "created",
            "updated",
            "closeddate",
            "probability",
            "quantity",
        ]);
        for k in 0..self.book.companies.len() {
            for d in 0..1 + self.rng.below(2) {
                let id = format!("D{k}-{d}");
                let c = &self.book.companies[k];
                let case = self.rng.chance(30);
                // As Salesforce exports them: the AccountId, and the account's
                // name in most rows; a deals spreadsheet kept beside the CRM
                // (companies without a Salesforce account) names it only.
                let (customer, company) = match self.accounts[k].get("sf") {
                    Some(account) => {
                        let name = if self.rng.chance(70) {
                            company_spelling(&mut self.rng, c, "sf")
                        } else {
                            String::new()
                        };
                        (account.clone(), name)
                    }
                    None => (String::new(), company_spelling(&mut self.rng, c, "sf")),
                };
                let mut updated = "2024-03-01".to_string();
                let mut closed = String::new();
                let mut probability = format!("{}", 10 * self.rng.below(11));
                let mut quantity = format!("{}", 1 + self.rng.below(50));
                let mut planted = None;
                match self.rng.below(40) {
                    0 if case => {
                        closed = "2024-01-05".into();
                        planted = Some("closeddate");
                    }
                    1 if !case => {
                        probability = "120%".into();
                        planted = Some("probability");
                    }
                    2 if !case => {
                        quantity = "-3".into();
                        planted = Some("quantity");
                    }
                    3 => {
                        updated = "2099-06-01".into();
                        planted = Some("updated");
                    }
                    _ if case => closed = "2024-02-20".into(),
                    _ => {}
                }
                let kind = if case { "case" } else { "opportunity" };
                let title = if case {
                    format!("Support case {d} for {}", c.base)
                } else {
                    format!("{} renewal {}", c.base, 2024 + d)
                };
                text.push_str(&csv_line(&[
                    &id,
                    kind,
                    &title,
                    &company,
                    &customer,
                    "open",
                    "12000",
                    "2024-01-10",
                    &updated,
                    &closed,
                    &probability,
                    &quantity,
                ]));
                let record = format!("deals:{id}");
                if let Some(field) = planted {
                    self.truth.planted.insert(record.clone(), field.into());
                }
                self.truth.interactions.insert(record, k);
            }
        }
        std::fs::write(dir.join("deals").join("deals.csv"), text)
    }

    /// One mailbox: customers writing to staff, staff writing to them,
    /// a new colleague at the company's domain, and free-mail replies in
    /// the thread.
    fn mail(&mut self, dir: &Path) -> std::io::Result<()> {
        let mut mbox = String::new();
        let staff = format!("rep@{STAFF_DOMAIN}");
        let mut n = 0usize;
        for p in 0..self.book.persons.len() {
            if !self.rng.chance(60) {
                continue;
            }
            let person: &Person = &self.book.persons[p];
            let company: &Company = &self.book.companies[person.org];
            n += 1;
            let id = format!("m{n}@mail.example");
            let (from, to) = match self.rng.below(10) {
                0..=4 => (person.email.clone(), staff.clone()),
                5..=7 => (staff.clone(), person.email.clone()),
                _ => (
                    format!("new.colleague{n}@{}", company.domain),
                    staff.clone(),
                ),
            };
            let _ = write!(
                mbox,
                "From sender@example Mon May  6 09:00:00 2024\nMessage-ID: <{id}>\nFrom: {from}\nTo: {to}\nCc: manager@{STAFF_DOMAIN}\nSubject: Quote for the next quarter\nDate: Mon, 6 May 2024 09:00:00 +0000\nContent-Type: text/plain; charset=utf-8\n\nPlease find the figures we discussed.\n\n"
            );
            self.truth
                .interactions
                .insert(format!("mail:{id}"), person.org);
            if self.rng.chance(25) {
                n += 1;
                let reply = format!("m{n}@mail.example");
                let _ = write!(
                    mbox,
                    "From sender@example Tue May  7 09:00:00 2024\nMessage-ID: <{reply}>\nIn-Reply-To: <{id}>\nReferences: <{id}>\nFrom: {}.{}{n}@gmail.com\nTo: {staff}\nSubject: Re: Quote for the next quarter\nDate: Tue, 7 May 2024 09:00:00 +0000\nContent-Type: text/plain; charset=utf-8\n\nSent from my phone: agreed.\n\n",
                    super::slug(&person.first),
                    super::slug(&person.last)
                );
                self.truth
                    .interactions
                    .insert(format!("mail:{reply}"), person.org);
            }
        }
        std::fs::write(dir.join("mail").join("inbox.mbox"), mbox)
    }

    /// Notes in several encodings, saying whose they are by front matter
    /// (an account id), by the folder they sit in, or by naming the company.
    fn notes(&mut self, dir: &Path) -> std::io::Result<()> {
        for k in 0..self.book.companies.len() {
            if !self.rng.chance(70) {
                continue;
            }
            let c = &self.book.companies[k];
            let spelled = company_spelling(&mut self.rng, c, "notes");
            let (folder, front, body) = match (self.accounts[k].get("sf"), self.rng.below(3)) {
                (Some(account), 0) => (
                    String::new(),
                    format!("---\ncustomer: {account}\n---\n"),
                    "Visited the site; they want a quote.".to_string(),
                ),
                (_, 1) => (
                    format!("{}/", spelled.replace('/', " ")),
                    String::new(),
                    "Visited the site; they want a quote.".to_string(),
                ),
                _ => (
                    String::new(),
                    String::new(),
                    format!("Call with {spelled} about the renewal; they want a quote."),
                ),
            };
            // Field notes say whom they met or where, as people write them:
            // the clue that tells namesakes apart.
            let body = if front.is_empty() {
                format!("{body}{}", self.note_clue(k))
            } else {
                body
            };
            let text = if c.kanji.is_some() {
                format!("{front}商談メモ\n\n{body}\n見積書を送付済み。\n")
            } else {
                format!("{front}Meeting notes – café\n\n{body}\n")
            };
            let (name, bytes) = encode(&mut self.rng, k, c, &text);
            let path = dir.join("notes").join(&folder).join(&name);
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent)?;
            }
            std::fs::write(path, bytes)?;
            self.truth
                .interactions
                .insert(format!("notes:{folder}{name}"), k);
        }
        Ok(())
    }
}

impl Writer<'_> {
    /// Whom the note's writer met (a contact of company `k`, by name), or
    /// where, or nothing.
    fn note_clue(&mut self, k: usize) -> String {
        let people: Vec<&Person> = self
            .book
            .persons
            .iter()
            .filter(|p| p.org == k && p.kanji.is_none())
            .collect();
        match self.rng.below(10) {
            0..=4 if !people.is_empty() => {
                let p = people[self.rng.below(people.len())];
                format!(" Met {} {}.", p.first, p.last)
            }
            5..=7 => format!(" Site visit in {}.", self.book.companies[k].city),
            _ => String::new(),
        }
    }
}

/// The note's file name and bytes in an encoding its writer's editor uses.
fn encode(rng: &mut Rng, k: usize, c: &Company, text: &str) -> (String, Vec<u8>) {
    let label = match (c.kanji.is_some(), rng.below(3)) {
        (true, 0) => "shift_jis",
        (true, 1) => "euc-jp",
        (_, 2) => "utf-16le",
        (false, 0) => "windows-1252",
        _ => "utf-8",
    };
    let name = format!("note-{k}-{label}.txt");
    if label == "utf-16le" {
        let mut bytes = vec![0xFF, 0xFE];
        for unit in text.encode_utf16() {
            bytes.extend_from_slice(&unit.to_le_bytes());
        }
        return (name, bytes);
    }
    let encoding = encoding_rs::Encoding::for_label(label.as_bytes()).unwrap_or(encoding_rs::UTF_8);
    let (bytes, _, unmappable) = encoding.encode(text);
    if unmappable {
        return (format!("note-{k}-utf-8.txt"), text.as_bytes().to_vec());
    }
    (name, bytes.into_owned())
}
