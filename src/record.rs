//! The canonical record: what every connector's output becomes after
//! normalisation, what the store keeps and what the index is built from.
//!
//! A record never hides a problem: whatever normalisation could not accept is
//! kept (as raw text or in `attrs`) and listed in `quality`. Nothing here does
//! I/O.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

pub mod consent;

/// What a record is about. Serialised in lower case (`"organization"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RecordKind {
    Organization,
    Person,
    Note,
    Email,
    Ticket,
    Task,
    Event,
    Opportunity,
    Order,
    Case,
}

impl RecordKind {
    pub const ALL: [RecordKind; 10] = [
        RecordKind::Organization,
        RecordKind::Person,
        RecordKind::Note,
        RecordKind::Email,
        RecordKind::Ticket,
        RecordKind::Task,
        RecordKind::Event,
        RecordKind::Opportunity,
        RecordKind::Order,
        RecordKind::Case,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RecordKind::Organization => "organization",
            RecordKind::Person => "person",
            RecordKind::Note => "note",
            RecordKind::Email => "email",
            RecordKind::Ticket => "ticket",
            RecordKind::Task => "task",
            RecordKind::Event => "event",
            RecordKind::Opportunity => "opportunity",
            RecordKind::Order => "order",
            RecordKind::Case => "case",
        }
    }

    /// Accepts the canonical names and the words CRMs use for them
    /// ("account", "contact", "lead", "deal", ...), case-insensitively.
    pub fn parse_loose(text: &str) -> Option<RecordKind> {
        let kind = match text.trim().to_ascii_lowercase().as_str() {
            "organization" | "organisation" | "org" | "account" | "company" => {
                RecordKind::Organization
            }
            "person" | "contact" | "lead" | "people" => RecordKind::Person,
            "note" | "notes" | "memo" => RecordKind::Note,
            "email" | "mail" | "emailmessage" | "message" => RecordKind::Email,
            "ticket" => RecordKind::Ticket,
            "task" | "call" => RecordKind::Task,
            "event" | "meeting" => RecordKind::Event,
            "opportunity" | "deal" => RecordKind::Opportunity,
            "order" => RecordKind::Order,
            "case" => RecordKind::Case,
            _ => return None,
        };
        Some(kind)
    }
}

/// Where a record came from, so an error or a search hit can point back at it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Provenance {
    /// Path of the file, relative to the source's folder.
    pub file: String,
    /// 1-based line where the record starts, where the format has lines.
    pub line: Option<u64>,
}

/// A reference from a record to another record or to a person by address,
/// as the source states it. The resolver follows these; connectors only
/// record them.
///
/// `rel` says what the target is:
/// - `account`, `organization`: an organisation record's external id in the
///   same source (Salesforce AccountId, Zendesk organization_id);
/// - `contact`, `requester`, `who`: a person record's external id (WhoId,
///   Zendesk requester_id);
/// - `what`, `parent`: any record's external id (WhatId, ParentId);
/// - `from`, `to`, `cc`: an email address (`target` is the normalised
///   address; `name` the display name, if any);
/// - `thread`: another message's external id (In-Reply-To, References);
/// - `record`: a whole record id `source:external_id` in any source (notes
///   written through the API name their customer's record this way).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Link {
    pub rel: String,
    pub target: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// A problem normalisation found in one field. The record is kept.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QualityIssue {
    pub field: String,
    pub reason: String,
}

/// A postal address; every part optional.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Address {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub street: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// Normalised for the record's country where its format is known
    /// (upper case, spaces as the country writes them, `〒` and dashes
    /// folded for Japan).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub postcode: Option<String>,
}

impl Address {
    pub fn is_empty(&self) -> bool {
        self.street.is_none()
            && self.city.is_none()
            && self.region.is_none()
            && self.postcode.is_none()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    pub source: String,
    pub external_id: String,
    pub kind: RecordKind,
    /// The customer this record is about, as the source names it (an id in
    /// that source or in another one); resolution turns it into `customer_id`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_ref: Option<String>,
    /// The customer (organisation, or person without one) this record belongs
    /// to, set by resolution, never by a connector.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_id: Option<String>,
    /// The person entity this record is about, set by resolution.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub person_id: Option<String>,
    /// The organisation entity this record is about, set by resolution.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org_id: Option<String>,
    /// The customer's golden name, kind and country, copied onto each record
    /// by resolution so that grouped search and customer filters need no
    /// lookup.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_country: Option<String>,
    /// The consent of the person (or customer) this record is about, as
    /// index terms `channel:status` (the latest statement per channel), set
    /// by resolution like the other customer fields.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub customer_consent: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub names: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub emails: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub phones: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub company: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stage: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated: Option<DateTime<Utc>>,
    /// Date of birth (a person), as the source states it once parsed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub birth_date: Option<chrono::NaiveDate>,
    /// The postal address, each part normalised where the country is known.
    #[serde(default, skip_serializing_if = "Address::is_empty")]
    pub address: Address,
    /// National or registration identifiers, as `scheme:value` (`jp_corp:`,
    /// `vat:`, `duns:`, `national_id:`): two different values of one scheme
    /// are two different entities.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub identifiers: Vec<String>,
    /// Web sites' host names (lower case, without `www.`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub websites: Vec<String>,
    /// References to other records and addresses (see [`Link`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<Link>,
    /// Consent statements the source made in this record (opt-outs, opt-ins).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub consent: Vec<consent::Consent>,
    /// Loose attributes that have no field of their own.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub attrs: Map<String, Value>,
    #[serde(default)]
    pub provenance: Provenance,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub quality: Vec<QualityIssue>,
    /// Date fields read without a zone, until ingest applies the source's
    /// time zone (never stored).
    #[serde(skip)]
    pub naive_dates: Vec<String>,
    /// Extra words the record is found by: its customer's name key,
    /// acronym and legal-form spellings, and German or accented letters
    /// written the other ways. Set from the resolution when the index reads
    /// the record (never stored with it).
    #[serde(skip)]
    pub search_keys: Vec<String>,
}

impl Record {
    pub fn new(source: &str, external_id: &str, kind: RecordKind) -> Self {
        Record {
            source: source.to_string(),
            external_id: external_id.to_string(),
            kind,
            customer_ref: None,
            customer_id: None,
            person_id: None,
            org_id: None,
            customer_name: None,
            customer_kind: None,
            customer_country: None,
            customer_consent: Vec::new(),
            title: None,
            body: None,
            names: Vec::new(),
            emails: Vec::new(),
            phones: Vec::new(),
            company: None,
            country: None,
            stage: None,
            owner: None,
            tags: Vec::new(),
            amount: None,
            currency: None,
            created: None,
            updated: None,
            birth_date: None,
            address: Address::default(),
            identifiers: Vec::new(),
            websites: Vec::new(),
            links: Vec::new(),
            consent: Vec::new(),
            attrs: Map::new(),
            provenance: Provenance::default(),
            quality: Vec::new(),
            naive_dates: Vec::new(),
            search_keys: Vec::new(),
        }
    }

    /// The record's key everywhere in Rapport: `source:external_id`.
    pub fn id(&self) -> String {
        record_id(&self.source, &self.external_id)
    }

    /// The loose attributes with the identity fields that have no index
    /// field of their own (`city`, `street`, `region`, `postcode`,
    /// `website`, `birth_date`, `identifiers`), so that search and filters
    /// find them under `attrs.` as they did when they were loose columns. A
    /// loose attribute of the same name wins.
    pub fn searchable_attrs(&self) -> Map<String, Value> {
        let mut attrs = self.attrs.clone();
        let mut put = |key: &str, value: Value| {
            attrs.entry(key.to_string()).or_insert(value);
        };
        let parts = [
            ("street", &self.address.street),
            ("city", &self.address.city),
            ("region", &self.address.region),
            ("postcode", &self.address.postcode),
        ];
        for (key, value) in parts {
            if let Some(v) = value {
                put(key, Value::String(v.clone()));
            }
        }
        if !self.websites.is_empty() {
            put("website", Value::String(self.websites.join(" ")));
        }
        if let Some(d) = self.birth_date {
            put("birth_date", Value::String(d.to_string()));
        }
        if !self.identifiers.is_empty() {
            put("identifiers", Value::String(self.identifiers.join(" ")));
        }
        attrs
    }

    pub fn flag(&mut self, field: &str, reason: impl Into<String>) {
        self.quality.push(QualityIssue {
            field: field.to_string(),
            reason: reason.into(),
        });
    }
}

pub fn record_id(source: &str, external_id: &str) -> String {
    format!("{source}:{external_id}")
}

/// One entry of the store's change log, as the index reads it: the record as
/// it is now, or `None` if it was deleted.
#[derive(Debug)]
pub struct Change {
    pub seq: u64,
    pub id: String,
    pub record: Option<Record>,
}

/// The reserved source name of notes written through the API.
pub const NOTES_SOURCE: &str = "rapport";
/// The link relation a note uses to name its customer's record.
pub const NOTE_LINK: &str = "record";
