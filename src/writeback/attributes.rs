//! Customer attributes written in bulk: NDJSON lines
//! `{"customer_id", "key", "value"}` or CSV with the header
//! `customer_id,key,value`. Each line is checked on its own; a bad line is
//! reported with its line number and reason and never stops the good ones.
//! Values keep their JSON type (CSV text that reads as a number or a boolean
//! becomes one); `null` (or an empty CSV value) deletes the key.
//!
//! It must never touch the store: it only reads the request into changes.

use std::io::{BufRead, Read};

use serde::Serialize;
use serde_json::{Map, Value};

use super::WritebackError;

const MAX_KEY_CHARS: usize = 64;

/// The body's format, from its Content-Type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttributeFormat {
    Ndjson,
    Csv,
}

impl AttributeFormat {
    /// `application/x-ndjson` (or `application/jsonl`, `application/json`)
    /// and `text/csv`, parameters such as `charset` ignored.
    pub fn from_content_type(content_type: &str) -> Option<AttributeFormat> {
        let mime = content_type
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase();
        match mime.as_str() {
            "application/x-ndjson"
            | "application/ndjson"
            | "application/jsonl"
            | "application/json" => Some(AttributeFormat::Ndjson),
            "text/csv" => Some(AttributeFormat::Csv),
            _ => None,
        }
    }
}

/// Good lines handed on at once: an upload is written in batches of this
/// many lines, so its memory does not grow with its length.
pub const BATCH_LINES: usize = 20_000;

/// Takes each batch of good lines (and writes it).
pub type Flush<'a> = dyn FnMut(Vec<AttributeLine>) -> Result<(), WritebackError> + 'a;

/// One good line.
#[derive(Debug, Clone, PartialEq)]
pub struct AttributeLine {
    pub line: u64,
    pub customer_id: String,
    pub key: String,
    /// None deletes the key.
    pub value: Option<Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Rejected {
    pub line: u64,
    pub reason: String,
}

/// Rejected lines an answer lists; past this many they are only counted,
/// so that an upload of millions of bad lines cannot grow the answer (and
/// the server's memory) with it.
pub const MAX_REJECTED_LISTED: usize = 1000;

/// The rejected lines of an upload: the first [`MAX_REJECTED_LISTED`] by
/// line, and how many there were in all.
#[derive(Debug, Default)]
pub struct Rejections {
    pub listed: Vec<Rejected>,
    pub total: usize,
}

impl Rejections {
    pub fn push(&mut self, rejected: Rejected) {
        self.total += 1;
        if self.listed.len() < MAX_REJECTED_LISTED {
            self.listed.push(rejected);
        }
    }

    /// Both lists' rejections, the earliest lines listed.
    pub fn merge(mut self, other: Rejections) -> Rejections {
        self.total += other.total;
        self.listed.extend(other.listed);
        self.listed.sort_by_key(|r| r.line);
        self.listed.truncate(MAX_REJECTED_LISTED);
        self
    }
}

/// What an upsert did.
#[derive(Debug, Default, Serialize)]
pub struct AttributeReport {
    pub accepted: usize,
    pub unchanged: usize,
    pub deleted: usize,
    /// The first rejected lines (at most [`MAX_REJECTED_LISTED`]).
    pub rejected: Vec<Rejected>,
    /// Every rejected line, listed or not.
    pub rejected_count: usize,
}

/// Why one line of an upload was refused (its listed reason).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LineError {
    #[error(
        "bad key `{0}`: a letter, then letters, digits, `_` or `-`, at most {MAX_KEY_CHARS} characters"
    )]
    KeyShape(String),
    #[error("bad key `{0}`: `raw_` keys are reserved for values normalisation could not read")]
    ReservedKey(String),
    #[error("`value` must be a string, number, boolean, a list of those, or null")]
    ValueShape,
    #[error("`{0}` is empty")]
    Empty(&'static str),
    #[error("`{name}` must be a string, got {got}")]
    NotText { name: &'static str, got: String },
    #[error("missing `{0}`")]
    Missing(&'static str),
    #[error("bad JSON: {0}")]
    Json(String),
    #[error("expected a JSON object {{\"customer_id\", \"key\", \"value\"}}")]
    NotAnObject,
    #[error("unknown field `{0}`; a line has customer_id, key and value")]
    UnknownField(String),
    #[error("missing `value` (use null to delete the key)")]
    MissingValue,
    #[error("missing `value` column on this line")]
    MissingValueColumn,
}

/// Attribute names: a letter, then letters, digits, `_` or `-` (no dots: a
/// dot would be a path in search), at most 64 characters, not `raw_…`
/// (those hold values normalisation could not read).
pub fn check_key(key: &str) -> Result<(), LineError> {
    let mut chars = key.chars();
    let starts_with_letter = chars.next().is_some_and(|c| c.is_ascii_alphabetic());
    if !starts_with_letter
        || !chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        || key.len() > MAX_KEY_CHARS
    {
        return Err(LineError::KeyShape(key.to_string()));
    }
    if key.starts_with("raw_") {
        return Err(LineError::ReservedKey(key.to_string()));
    }
    Ok(())
}

fn check_value(value: Value) -> Result<Option<Value>, LineError> {
    let scalar = |v: &Value| matches!(v, Value::String(_) | Value::Number(_) | Value::Bool(_));
    match value {
        Value::Null => Ok(None),
        Value::Array(items) if items.iter().all(scalar) => Ok(Some(Value::Array(items))),
        v if scalar(&v) => Ok(Some(v)),
        _ => Err(LineError::ValueShape),
    }
}

fn text_field(object: &Map<String, Value>, name: &'static str) -> Result<String, LineError> {
    match object.get(name) {
        Some(Value::String(s)) if !s.trim().is_empty() => Ok(s.trim().to_string()),
        Some(Value::String(_)) => Err(LineError::Empty(name)),
        Some(other) => Err(LineError::NotText {
            name,
            got: other.to_string(),
        }),
        None => Err(LineError::Missing(name)),
    }
}

fn ndjson_line(text: &str) -> Result<(String, String, Option<Value>), LineError> {
    let value: Value = serde_json::from_str(text).map_err(|e| LineError::Json(e.to_string()))?;
    let Value::Object(object) = value else {
        return Err(LineError::NotAnObject);
    };
    if let Some(unknown) = object
        .keys()
        .find(|k| !matches!(k.as_str(), "customer_id" | "key" | "value"))
    {
        return Err(LineError::UnknownField(unknown.clone()));
    }
    let customer_id = text_field(&object, "customer_id")?;
    let key = text_field(&object, "key")?;
    check_key(&key)?;
    let value = match object.get("value") {
        Some(v) => check_value(v.clone())?,
        None => return Err(LineError::MissingValue),
    };
    Ok((customer_id, key, value))
}

/// Reads NDJSON lines (blank lines skipped). Line numbers start at 1.
/// A parsed line goes to the good ones, a refused one to the rejected with
/// its line number and reason.
fn sort_line(
    line: u64,
    outcome: Result<(String, String, Option<Value>), LineError>,
    good: &mut Vec<AttributeLine>,
    rejected: &mut Rejections,
) {
    match outcome {
        Ok((customer_id, key, value)) => good.push(AttributeLine {
            line,
            customer_id,
            key,
            value,
        }),
        Err(reason) => rejected.push(Rejected {
            line,
            reason: reason.to_string(),
        }),
    }
}

/// Reads NDJSON line by line from `body` (never the whole body at once).
/// A body that cannot be read (the client went away, the size limit) is an
/// error for the whole upload: nothing of it is written.
pub fn parse_ndjson(
    mut body: impl BufRead,
    flush: &mut Flush,
) -> Result<Rejections, WritebackError> {
    let mut good = Vec::new();
    let mut rejected = Rejections::default();
    let mut raw = Vec::new();
    let mut line = 0u64;
    loop {
        raw.clear();
        let read = body.read_until(b'\n', &mut raw).map_err(unreadable)?;
        if read == 0 {
            break;
        }
        line += 1;
        let Ok(text) = std::str::from_utf8(&raw) else {
            rejected.push(Rejected {
                line,
                reason: "not UTF-8 text".into(),
            });
            continue;
        };
        let text = text.trim();
        if text.is_empty() {
            continue;
        }
        sort_line(line, ndjson_line(text), &mut good, &mut rejected);
        if good.len() >= BATCH_LINES {
            flush(std::mem::take(&mut good))?;
        }
    }
    if !good.is_empty() {
        flush(good)?;
    }
    Ok(rejected)
}

fn unreadable(e: impl std::fmt::Display) -> WritebackError {
    WritebackError::Body(e.to_string())
}

/// A CSV value: empty deletes; numbers and booleans become those.
pub fn csv_value(raw: &str) -> Option<Value> {
    let text = raw.trim();
    if text.is_empty() {
        return None;
    }
    if let Ok(n) = text.parse::<i64>() {
        return Some(Value::from(n));
    }
    if let Ok(f) = text.parse::<f64>()
        && let Some(n) = serde_json::Number::from_f64(f)
        && text
            .chars()
            .all(|c| c.is_ascii_digit() || "+-.eE".contains(c))
    {
        return Some(Value::Number(n));
    }
    match text.to_ascii_lowercase().as_str() {
        "true" => Some(Value::Bool(true)),
        "false" => Some(Value::Bool(false)),
        _ => Some(Value::String(text.to_string())),
    }
}

/// Reads CSV with a `customer_id,key,value` header (columns in any order).
/// A missing column is an error for the whole body.
/// Reads it record by record from `body`; a body that cannot be read is an
/// error for the whole upload, as for NDJSON.
pub fn parse_csv(body: impl Read, flush: &mut Flush) -> Result<Rejections, WritebackError> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .from_reader(body);
    let headers = reader
        .headers()
        .map_err(|e| match e.is_io_error() {
            true => unreadable(e),
            false => WritebackError::invalid("header", format!("cannot be read: {e}")),
        })?
        .clone();
    let column = |name: &str| {
        headers
            .iter()
            .position(|h| h.trim().trim_start_matches('\u{feff}') == name)
            .ok_or_else(|| {
                WritebackError::invalid(
                    "header",
                    format!("needs the columns customer_id,key,value; `{name}` is missing"),
                )
            })
    };
    let (c, k, v) = (column("customer_id")?, column("key")?, column("value")?);
    let mut good = Vec::new();
    let mut rejected = Rejections::default();
    for row in reader.records() {
        let row = match row {
            Ok(row) => row,
            Err(e) if e.is_io_error() => return Err(unreadable(e)),
            Err(e) => {
                let line = e.position().map(|p| p.line()).unwrap_or(0);
                rejected.push(Rejected {
                    line,
                    reason: format!("bad CSV: {e}"),
                });
                continue;
            }
        };
        let line = row.position().map(|p| p.line()).unwrap_or(0);
        if row.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        let field = |i: usize| row.get(i).map(str::trim).unwrap_or_default();
        let outcome = (|| {
            let customer_id = field(c);
            if customer_id.is_empty() {
                return Err(LineError::Missing("customer_id"));
            }
            let key = field(k);
            if key.is_empty() {
                return Err(LineError::Missing("key"));
            }
            check_key(key)?;
            if row.get(v).is_none() {
                return Err(LineError::MissingValueColumn);
            }
            Ok((
                customer_id.to_string(),
                key.to_string(),
                csv_value(field(v)),
            ))
        })();
        sort_line(line, outcome, &mut good, &mut rejected);
        if good.len() >= BATCH_LINES {
            flush(std::mem::take(&mut good))?;
        }
    }
    if !good.is_empty() {
        flush(good)?;
    }
    Ok(rejected)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Parses with `parse`, collecting every batch.
    fn collect(
        parse: impl FnOnce(&mut Flush) -> Result<Rejections, WritebackError>,
    ) -> Result<(Vec<AttributeLine>, Vec<Rejected>), WritebackError> {
        let mut good = Vec::new();
        let rejected = parse(&mut |batch| {
            good.extend(batch);
            Ok(())
        })?;
        Ok((good, rejected.listed))
    }

    #[test]
    fn rejections_past_the_listed_ones_are_only_counted() {
        let body: String = (0..MAX_REJECTED_LISTED + 500)
            .map(|i| format!("{{\"customer_id\": \"c{i}\"}}\n"))
            .collect();
        let rejected = parse_ndjson(body.as_bytes(), &mut |_| Ok(())).unwrap();
        assert_eq!(rejected.total, MAX_REJECTED_LISTED + 500);
        assert_eq!(rejected.listed.len(), MAX_REJECTED_LISTED);
        assert_eq!(rejected.listed[0].line, 1);
        let more = Rejections {
            listed: vec![Rejected {
                line: 0,
                reason: "earlier".into(),
            }],
            total: 1,
        };
        let merged = rejected.merge(more);
        assert_eq!(merged.total, MAX_REJECTED_LISTED + 501);
        assert_eq!(merged.listed.len(), MAX_REJECTED_LISTED);
        assert_eq!(merged.listed[0].reason, "earlier");
    }

    #[test]
    fn ndjson_keeps_types_and_reports_bad_lines() {
        let body = b"{\"customer_id\":\"org_a\",\"key\":\"score\",\"value\":0.5}\n\
            not json\n\
            \n\
            {\"customer_id\":\"org_a\",\"key\":\"bad.key\",\"value\":1}\n\
            {\"customer_id\":\"org_a\",\"key\":\"vip\"}\n\
            {\"customer_id\":\"org_a\",\"key\":\"vip\",\"value\":null}\n";
        let (good, rejected) = collect(|f| parse_ndjson(&body[..], f)).unwrap();
        assert_eq!(good.len(), 2);
        assert_eq!(good[0].value, Some(json!(0.5)));
        assert_eq!(good[1].value, None);
        let lines: Vec<u64> = rejected.iter().map(|r| r.line).collect();
        assert_eq!(lines, vec![2, 4, 5]);
        assert!(rejected[2].reason.contains("value"));
    }

    #[test]
    fn csv_values_become_numbers_and_booleans() {
        let body = b"customer_id,key,value\norg_a,score,42\norg_a,ratio,0.25\norg_a,vip,TRUE\norg_a,segment,smb\norg_a,gone,\n,key,1\n";
        let (good, rejected) = collect(|f| parse_csv(&body[..], f)).unwrap();
        let values: Vec<Option<Value>> = good.iter().map(|l| l.value.clone()).collect();
        assert_eq!(
            values,
            vec![
                Some(json!(42)),
                Some(json!(0.25)),
                Some(json!(true)),
                Some(json!("smb")),
                None
            ]
        );
        assert_eq!(good[0].line, 2);
        assert_eq!(rejected.len(), 1);
        assert_eq!(rejected[0].line, 7);
        assert!(collect(|f| parse_csv(&b"customer,key,value\n"[..], f)).is_err());
        assert_eq!(csv_value("NaN"), Some(json!("NaN")));
        assert_eq!(csv_value("inf"), Some(json!("inf")));
    }
}
