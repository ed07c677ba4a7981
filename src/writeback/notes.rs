//! Notes written through the API: the request bodies, their checks (each
//! failure names its field), the record a note becomes (kind `note`, source
//! `rapport`, author → `owner`, a `record` link to its customer's record) and
//! the note shape the API answers with.
//!
//! It must never pick a customer on its own: the caller's customer id is
//! turned into the record that id was issued for, and resolution follows it.

use std::sync::atomic::{AtomicU64, Ordering};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::WritebackError;
use crate::customers::find_entity;
use crate::record::{Link, Record, RecordKind};
use crate::store::Store;
use crate::store::writeback::{NOTE_LINK, NOTES_SOURCE};

const MAX_TEXT_CHARS: usize = 100_000;
const MAX_TAG_CHARS: usize = 100;
const TITLE_CHARS: usize = 80;

/// `POST /v1/notes`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewNote {
    pub customer_id: String,
    pub text: String,
    #[serde(default)]
    pub author: Option<String>,
    #[serde(default)]
    pub tags: Vec<String>,
    /// When it happened (a date or RFC 3339 time); default: now.
    #[serde(default)]
    pub date: Option<String>,
}

/// `PUT`/`PATCH /v1/notes/{id}`: only the fields given change.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoteEdit {
    #[serde(default)]
    pub customer_id: Option<String>,
    #[serde(default)]
    pub text: Option<String>,
    #[serde(default)]
    pub author: Option<String>,
    #[serde(default)]
    pub tags: Option<Vec<String>>,
    #[serde(default)]
    pub date: Option<String>,
}

/// A note as the API shows it.
#[derive(Debug, Serialize)]
pub struct Note {
    /// `note-…`; the record id is `rapport:note-…`.
    pub id: String,
    pub record_id: String,
    /// The customer the note belongs to now (after any merge).
    pub customer_id: Option<String>,
    pub text: String,
    pub author: Option<String>,
    pub tags: Vec<String>,
    pub date: Option<DateTime<Utc>>,
    pub updated: Option<DateTime<Utc>>,
}

impl Note {
    pub fn from_record(record: &Record, customer_id: Option<String>) -> Note {
        Note {
            id: record.external_id.clone(),
            record_id: record.id(),
            customer_id,
            text: record.body.clone().unwrap_or_default(),
            author: record.owner.clone(),
            tags: record.tags.clone(),
            date: record.created,
            updated: record.updated,
        }
    }
}

/// The record id of a note id given as `note-…` or `rapport:note-…`.
pub fn record_id(id: &str) -> String {
    match id
        .strip_prefix(NOTES_SOURCE)
        .and_then(|r| r.strip_prefix(':'))
    {
        Some(_) => id.to_string(),
        None => crate::record::record_id(NOTES_SOURCE, id),
    }
}

fn check_text(text: &str) -> Result<String, WritebackError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(WritebackError::invalid("text", "must not be empty"));
    }
    if text.chars().count() > MAX_TEXT_CHARS {
        return Err(WritebackError::invalid(
            "text",
            format!("is longer than {MAX_TEXT_CHARS} characters"),
        ));
    }
    Ok(text.to_string())
}

fn check_tags(tags: &[String]) -> Result<Vec<String>, WritebackError> {
    let mut out: Vec<String> = Vec::new();
    for tag in tags {
        let tag = tag.trim();
        if tag.chars().count() > MAX_TAG_CHARS {
            return Err(WritebackError::invalid(
                "tags",
                format!("holds a tag longer than {MAX_TAG_CHARS} characters"),
            ));
        }
        if !tag.is_empty() && !out.iter().any(|t| t == tag) {
            out.push(tag.to_string());
        }
    }
    Ok(out)
}

fn check_date(date: &str) -> Result<DateTime<Utc>, WritebackError> {
    crate::normalize::parse_date(date).map_err(|_| {
        WritebackError::invalid(
            "date",
            format!("must be a date such as 2024-05-20 or 2024-05-20T09:30:00Z, got `{date}`"),
        )
    })
}

fn check_author(author: Option<&str>) -> Option<String> {
    author
        .map(str::trim)
        .filter(|a| !a.is_empty())
        .map(str::to_string)
}

/// The record a customer id was issued for (following merges), which a note
/// links to so that resolution keeps it with that customer.
pub fn target_record(store: &Store, customer_id: &str) -> Result<String, WritebackError> {
    if customer_id.trim().is_empty() {
        return Err(WritebackError::invalid("customer_id", "must not be empty"));
    }
    let entity = find_entity(store, customer_id)?;
    let anchor = store
        .alias_anchor(customer_id)?
        .unwrap_or_else(|| entity.anchor.clone());
    if !anchor.starts_with("company:") && store.get(&anchor)?.is_some() {
        return Ok(anchor);
    }
    // An organisation named only by its people (or whose anchor is gone):
    // one of its member records, else one of its people's.
    if let Some(member) = entity.members.first() {
        return Ok(member.record.clone());
    }
    for person in &entity.people {
        if let Some(p) = store.entity(person)?
            && let Some(member) = p.members.first()
        {
            return Ok(member.record.clone());
        }
    }
    Err(WritebackError::CustomerNotFound(customer_id.to_string()))
}

fn new_note_id() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = Utc::now().timestamp_nanos_opt().unwrap_or_default();
    let seed = format!(
        "{nanos}:{}:{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    );
    format!("note-{}", &blake3::hash(seed.as_bytes()).to_hex()[..16])
}

fn title_of(text: &str) -> String {
    let first = text.lines().next().unwrap_or_default().trim();
    let mut title: String = first.chars().take(TITLE_CHARS).collect();
    if first.chars().count() > TITLE_CHARS {
        title.push('…');
    }
    title
}

/// A checked new note as a record linked to `target`.
pub fn new_record(new: &NewNote, target: &str) -> Result<Record, WritebackError> {
    let text = check_text(&new.text)?;
    let tags = check_tags(&new.tags)?;
    let now = Utc::now();
    let date = match new.date.as_deref().map(str::trim) {
        Some(d) if !d.is_empty() => check_date(d)?,
        _ => now,
    };
    let mut record = Record::new(NOTES_SOURCE, &new_note_id(), RecordKind::Note);
    record.title = Some(title_of(&text));
    record.body = Some(text);
    record.owner = check_author(new.author.as_deref());
    record.tags = tags;
    record.created = Some(date);
    record.updated = Some(now);
    record.customer_ref = Some(new.customer_id.trim().to_string());
    record.links = vec![Link {
        rel: NOTE_LINK.to_string(),
        target: target.to_string(),
        name: None,
    }];
    record.provenance.file = "api".to_string();
    Ok(record)
}

/// Applies an edit to a note's record; `target` is set when the edit moves
/// the note to another customer.
pub fn edit_record(
    record: &mut Record,
    edit: &NoteEdit,
    target: Option<&str>,
) -> Result<(), WritebackError> {
    if let Some(text) = &edit.text {
        let text = check_text(text)?;
        record.title = Some(title_of(&text));
        record.body = Some(text);
    }
    if let Some(tags) = &edit.tags {
        record.tags = check_tags(tags)?;
    }
    if let Some(author) = &edit.author {
        record.owner = check_author(Some(author));
    }
    if let Some(date) = &edit.date {
        record.created = Some(check_date(date)?);
    }
    if let (Some(target), Some(customer)) = (target, &edit.customer_id) {
        record.customer_ref = Some(customer.trim().to_string());
        record.links = vec![Link {
            rel: NOTE_LINK.to_string(),
            target: target.to_string(),
            name: None,
        }];
    }
    record.updated = Some(Utc::now());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks_name_the_field() {
        let new = NewNote {
            customer_id: "org_x".into(),
            text: "  ".into(),
            author: None,
            tags: vec![],
            date: None,
        };
        let e = new_record(&new, "crm:1").unwrap_err().to_string();
        assert!(e.starts_with("`text`"), "{e}");
        let new = NewNote {
            text: "hello".into(),
            date: Some("yesterday-ish".into()),
            ..new
        };
        let e = new_record(&new, "crm:1").unwrap_err().to_string();
        assert!(e.starts_with("`date`"), "{e}");
    }

    #[test]
    fn a_note_is_a_linked_note_record() {
        let new = NewNote {
            customer_id: "org_x".into(),
            text: "Called about the renewal\nsecond line".into(),
            author: Some(" Ann ".into()),
            tags: vec!["renewal".into(), "".into(), "renewal".into()],
            date: Some("2024-05-20".into()),
        };
        let r = new_record(&new, "crm:ORG-1").unwrap();
        assert_eq!(r.source, NOTES_SOURCE);
        assert_eq!(r.kind, RecordKind::Note);
        assert_eq!(r.owner.as_deref(), Some("Ann"));
        assert_eq!(r.tags, vec!["renewal".to_string()]);
        assert_eq!(r.title.as_deref(), Some("Called about the renewal"));
        assert_eq!(r.links[0].target, "crm:ORG-1");
        assert_eq!(record_id(&r.external_id), r.id());
        assert_eq!(record_id(&r.id()), r.id());
    }
}
