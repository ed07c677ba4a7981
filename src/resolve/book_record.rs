//! Resolution's own record: the fields some step of resolution reads, in
//! compact types (`Box<str>` instead of `String`, boxed slices instead of
//! vectors), so a full pass's book of millions of records holds a fraction
//! of what whole [`Record`]s would. A customer's or person's rarely-set
//! identity fields (address, identifiers, web sites, tags, consent, birth
//! date) and a record's declared customer and loose attributes live in
//! boxes that cost an interaction 8 bytes each when empty.
//!
//! It must never drop a field some step of resolution reads: it keeps what
//! `keep_what_is_read` keeps (`From<Record>` goes through it), so a
//! resolution of `BookRecord`s equals one of the whole records
//! (`tests/resolution_read.rs`). Field names are `Record`'s.

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::{Map, Value};

use super::read::{READ_ATTRS, keep_what_is_read};
use crate::record::consent::Consent;
use crate::record::{Address, Link, Record, RecordKind, record_id};

/// A reference to another record or address (`Link`), without its display
/// name, which resolution never reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BookLink {
    pub rel: Rel,
    pub target: Box<str>,
}

/// A link's relation: the ones `Link` documents by name, any other kept as
/// written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rel {
    Account,
    Organization,
    Contact,
    Requester,
    Who,
    What,
    Parent,
    From,
    To,
    Cc,
    Thread,
    Record,
    Other(Box<str>),
}

impl Rel {
    const NAMED: [(&'static str, Rel); 12] = [
        ("account", Rel::Account),
        ("organization", Rel::Organization),
        ("contact", Rel::Contact),
        ("requester", Rel::Requester),
        ("who", Rel::Who),
        ("what", Rel::What),
        ("parent", Rel::Parent),
        ("from", Rel::From),
        ("to", Rel::To),
        ("cc", Rel::Cc),
        ("thread", Rel::Thread),
        ("record", Rel::Record),
    ];

    pub fn of(text: &str) -> Rel {
        Rel::NAMED
            .iter()
            .find(|(name, _)| *name == text)
            .map_or_else(|| Rel::Other(text.into()), |(_, rel)| rel.clone())
    }

    pub fn as_str(&self) -> &str {
        match self {
            Rel::Account => "account",
            Rel::Organization => "organization",
            Rel::Contact => "contact",
            Rel::Requester => "requester",
            Rel::Who => "who",
            Rel::What => "what",
            Rel::Parent => "parent",
            Rel::From => "from",
            Rel::To => "to",
            Rel::Cc => "cc",
            Rel::Thread => "thread",
            Rel::Record => "record",
            Rel::Other(text) => text,
        }
    }
}

impl PartialEq<&str> for Rel {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl std::fmt::Display for Rel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a record came from, as resolution reads it: an interaction's file
/// (its folders are a clue to its customer).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BookProvenance {
    pub file: Box<str>,
}

/// A customer's or person's identity fields that most records lack (an
/// interaction never has them: `keep_what_is_read`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Party {
    pub tags: Vec<String>,
    pub birth_date: Option<NaiveDate>,
    pub address: Address,
    pub identifiers: Vec<String>,
    pub websites: Vec<String>,
    pub consent: Vec<Consent>,
}

/// The customer a source declares its record belongs to, and the loose
/// attributes resolution reads (`READ_ATTRS`): set on few records.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Declared {
    pub customer_id: Option<String>,
    pub customer_name: Option<String>,
    pub customer_kind: Option<String>,
    pub customer_country: Option<String>,
    pub attrs: Map<String, Value>,
}

/// One record of the book, as resolution holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct BookRecord {
    pub source: Box<str>,
    pub external_id: Box<str>,
    pub kind: RecordKind,
    pub customer_ref: Option<Box<str>>,
    pub title: Option<Box<str>>,
    /// An interaction's text (a customer's or person's is never read).
    pub body: Option<Box<str>>,
    pub names: Box<[Box<str>]>,
    pub emails: Box<[Box<str>]>,
    pub phones: Box<[Box<str>]>,
    pub company: Option<Box<str>>,
    pub country: Option<Box<str>>,
    pub owner: Option<Box<str>>,
    pub created: Option<DateTime<Utc>>,
    pub updated: Option<DateTime<Utc>>,
    pub links: Box<[BookLink]>,
    pub provenance: BookProvenance,
    pub(crate) party: Option<Box<Party>>,
    pub(crate) declared: Option<Box<Declared>>,
}

static NO_ADDRESS: Address = Address {
    street: None,
    city: None,
    region: None,
    postcode: None,
};
static NO_STRINGS: Vec<String> = Vec::new();
static NO_CONSENT: Vec<Consent> = Vec::new();
static NO_STRING: Option<String> = None;
static NO_ATTRS: std::sync::LazyLock<Map<String, Value>> = std::sync::LazyLock::new(Map::new);

/// `texts` as owned strings (what profiles and golden values hold).
pub fn strings(texts: &[Box<str>]) -> Vec<String> {
    texts.iter().map(|t| t.to_string()).collect()
}

fn boxed(text: String) -> Box<str> {
    text.into_boxed_str()
}

fn boxed_all(texts: Vec<String>) -> Box<[Box<str>]> {
    texts.into_iter().map(boxed).collect()
}

fn link(l: Link) -> BookLink {
    BookLink {
        rel: Rel::of(&l.rel),
        target: boxed(l.target),
    }
}

impl From<Record> for BookRecord {
    /// Keeps what `keep_what_is_read` keeps, and nothing else.
    fn from(record: Record) -> BookRecord {
        BookRecord::keeping_all(keep_what_is_read(record))
    }
}

impl BookRecord {
    /// What the book's statistics read of a record (`BookStats`, kept
    /// between incremental passes): what a full pass reads, and an
    /// interaction's web sites too (`incremental::reference_keys` finds
    /// records by every record's web sites).
    pub fn for_statistics(mut record: Record) -> BookRecord {
        let websites = std::mem::take(&mut record.websites);
        let mut book = BookRecord::from(record);
        if !websites.is_empty() {
            book.party.get_or_insert_with(Default::default).websites = websites;
        }
        book
    }

    /// Every field a `BookRecord` has, whatever the record's kind and
    /// whichever loose attributes it has: what a test compares the emptied
    /// book (`From<Record>`) with.
    pub fn keeping_all(r: Record) -> BookRecord {
        let party = Party {
            tags: r.tags,
            birth_date: r.birth_date,
            address: r.address,
            identifiers: r.identifiers,
            websites: r.websites,
            consent: r.consent,
        };
        let declared = Declared {
            customer_id: r.customer_id,
            customer_name: r.customer_name,
            customer_kind: r.customer_kind,
            customer_country: r.customer_country,
            attrs: r.attrs,
        };
        BookRecord {
            source: boxed(r.source),
            external_id: boxed(r.external_id),
            kind: r.kind,
            customer_ref: r.customer_ref.map(boxed),
            title: r.title.map(boxed),
            body: r.body.map(boxed),
            names: boxed_all(r.names),
            emails: boxed_all(r.emails),
            phones: boxed_all(r.phones),
            company: r.company.map(boxed),
            country: r.country.map(boxed),
            owner: r.owner.map(boxed),
            created: r.created,
            updated: r.updated,
            links: r.links.into_iter().map(link).collect(),
            provenance: BookProvenance {
                file: boxed(r.provenance.file),
            },
            party: (party != Party::default()).then(|| Box::new(party)),
            declared: (declared != Declared::default()).then(|| Box::new(declared)),
        }
    }

    /// [`From<Record>`] of a borrowed record: clones only what is kept
    /// (the incremental pass and the book's statistics convert at their
    /// edge this way).
    pub fn from_ref(r: &Record) -> BookRecord {
        let customer = matches!(r.kind, RecordKind::Organization | RecordKind::Person);
        let shallow = Record {
            source: r.source.clone(),
            external_id: r.external_id.clone(),
            customer_ref: r.customer_ref.clone(),
            customer_id: r.customer_id.clone(),
            customer_name: r.customer_name.clone(),
            customer_kind: r.customer_kind.clone(),
            customer_country: r.customer_country.clone(),
            title: r.title.clone(),
            body: if customer { None } else { r.body.clone() },
            names: r.names.clone(),
            emails: r.emails.clone(),
            phones: r.phones.clone(),
            company: r.company.clone(),
            country: r.country.clone(),
            owner: r.owner.clone(),
            created: r.created,
            updated: r.updated,
            links: r.links.clone(),
            attrs: r
                .attrs
                .iter()
                .filter(|(key, _)| READ_ATTRS.contains(&key.as_str()))
                .map(|(key, value)| (key.clone(), value.clone()))
                .collect(),
            ..Record::new("", "", r.kind)
        };
        let mut shallow = shallow;
        if customer {
            shallow.tags = r.tags.clone();
            shallow.birth_date = r.birth_date;
            shallow.address = r.address.clone();
            shallow.identifiers = r.identifiers.clone();
            shallow.websites = r.websites.clone();
            shallow.consent = r.consent.clone();
        } else {
            shallow.provenance.file = r.provenance.file.clone();
        }
        BookRecord::from(shallow)
    }

    /// The record's key everywhere in Rapport: `source:external_id`.
    pub fn id(&self) -> String {
        record_id(&self.source, &self.external_id)
    }

    pub fn tags(&self) -> &Vec<String> {
        self.party.as_ref().map_or(&NO_STRINGS, |p| &p.tags)
    }

    pub fn birth_date(&self) -> Option<NaiveDate> {
        self.party.as_ref().and_then(|p| p.birth_date)
    }

    pub fn address(&self) -> &Address {
        self.party.as_ref().map_or(&NO_ADDRESS, |p| &p.address)
    }

    pub fn identifiers(&self) -> &Vec<String> {
        self.party.as_ref().map_or(&NO_STRINGS, |p| &p.identifiers)
    }

    pub fn websites(&self) -> &Vec<String> {
        self.party.as_ref().map_or(&NO_STRINGS, |p| &p.websites)
    }

    pub fn consent(&self) -> &Vec<Consent> {
        self.party.as_ref().map_or(&NO_CONSENT, |p| &p.consent)
    }

    pub fn customer_id(&self) -> &Option<String> {
        self.declared
            .as_ref()
            .map_or(&NO_STRING, |d| &d.customer_id)
    }

    pub fn customer_name(&self) -> &Option<String> {
        self.declared
            .as_ref()
            .map_or(&NO_STRING, |d| &d.customer_name)
    }

    pub fn customer_kind(&self) -> &Option<String> {
        self.declared
            .as_ref()
            .map_or(&NO_STRING, |d| &d.customer_kind)
    }

    pub fn customer_country(&self) -> &Option<String> {
        self.declared
            .as_ref()
            .map_or(&NO_STRING, |d| &d.customer_country)
    }

    pub fn attrs(&self) -> &Map<String, Value> {
        self.declared.as_ref().map_or(&NO_ATTRS, |d| &d.attrs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::consent::{Channel, Status};

    fn whole(kind: RecordKind) -> Record {
        let mut r = Record::new("crm", "7", kind);
        r.customer_ref = Some("acct-1".into());
        r.customer_id = Some("org_1".into());
        r.customer_name = Some("Acme".into());
        r.title = Some("Renewal".into());
        r.body = Some("Call Anna at Acme".into());
        r.names = vec!["Anna Schmidt".into()];
        r.emails = vec!["anna@acme.de".into()];
        r.phones = vec!["+4930123456".into()];
        r.company = Some("Acme GmbH".into());
        r.country = Some("DE".into());
        r.owner = Some("u-9".into());
        r.stage = Some("won".into());
        r.tags = vec!["vip".into()];
        r.birth_date = NaiveDate::from_ymd_opt(1980, 1, 2);
        r.address.city = Some("Berlin".into());
        r.identifiers = vec!["vat:DE1".into()];
        r.websites = vec!["acme.de".into()];
        r.links = vec![
            Link {
                rel: "account".into(),
                target: "acct-1".into(),
                name: None,
            },
            Link {
                rel: "custom-rel".into(),
                target: "x".into(),
                name: Some("X".into()),
            },
        ];
        r.consent = vec![Consent {
            channel: Channel::Email,
            status: Status::OptedOut,
            date: None,
        }];
        r.attrs.insert("staff".into(), Value::Bool(true));
        r.attrs.insert("colour".into(), Value::String("red".into()));
        r.provenance.file = "Acme/notes.txt".into();
        r.provenance.line = Some(3);
        r
    }

    #[test]
    fn a_borrowed_record_converts_as_an_owned_one() {
        for kind in RecordKind::ALL {
            let r = whole(kind);
            assert_eq!(
                BookRecord::from_ref(&r),
                BookRecord::from(r.clone()),
                "{kind:?}"
            );
        }
    }

    #[test]
    fn the_statistics_read_what_a_whole_record_gives_them() {
        let mut book: Vec<Record> = RecordKind::ALL.into_iter().map(whole).collect();
        for (i, r) in book.iter_mut().enumerate() {
            r.external_id = format!("r{i}");
            r.websites = vec![format!("site{i}.example")];
        }
        let all: Vec<BookRecord> = book.iter().cloned().map(BookRecord::keeping_all).collect();
        let read: Vec<BookRecord> = book.into_iter().map(BookRecord::for_statistics).collect();
        assert!(read.iter().all(|r| r.websites().len() == 1));
        assert!(
            crate::resolve::BookStats::of(&read, None) == crate::resolve::BookStats::of(&all, None)
        );
    }

    #[test]
    fn it_keeps_what_resolution_reads() {
        let org = BookRecord::from(whole(RecordKind::Organization));
        assert_eq!(org.address().city.as_deref(), Some("Berlin"));
        assert_eq!(org.websites(), &vec!["acme.de".to_string()]);
        assert_eq!(org.customer_id().as_deref(), Some("org_1"));
        assert_eq!(org.body, None);
        assert_eq!(org.attrs().len(), 1);
        assert_eq!(org.links[0].rel, "account");
        assert_eq!(org.links[1].rel.as_str(), "custom-rel");
        let note = BookRecord::from(whole(RecordKind::Note));
        assert_eq!(note.body.as_deref(), Some("Call Anna at Acme"));
        assert_eq!(&*note.provenance.file, "Acme/notes.txt");
        assert!(note.websites().is_empty() && note.address().is_empty());
        assert!(note.party.is_none());
    }
}
