//! Rows of an export, encoded as NDJSON (one JSON object a line) or CSV (a
//! header, then one line a row; lists joined with `;`, nested values as
//! JSON). A record row is the stored record with its id and customer
//! assignment; a customer row is its golden record.
//!
//! It must never buffer more than the row it writes: the caller's writer
//! decides where bytes go (a bounded channel, a file, a sink).

use std::io::Write;

use serde::Serialize;
use serde_json::{Map, Value};

use super::Format;
use crate::record::Record;
use crate::resolve::Entity;

/// The `error.code` of the line that ends an NDJSON export early (the
/// response's status is already sent, so it cannot be an HTTP error;
/// openapi.json documents it with the export routes).
pub const STREAM_ERROR_CODE: &str = "export_failed";

#[derive(Debug, thiserror::Error)]
pub enum RowError {
    #[error("writing the export: {0}")]
    Io(#[from] std::io::Error),
    #[error("encoding an export row: {0}")]
    Encode(String),
}

impl From<csv::Error> for RowError {
    fn from(e: csv::Error) -> Self {
        match e.into_kind() {
            csv::ErrorKind::Io(io) => RowError::Io(io),
            other => RowError::Encode(format!("{other:?}")),
        }
    }
}

impl From<serde_json::Error> for RowError {
    fn from(e: serde_json::Error) -> Self {
        if e.is_io() {
            RowError::Io(std::io::Error::other(e))
        } else {
            RowError::Encode(e.to_string())
        }
    }
}

/// The full NDJSON line of a record: its id first, then its fields.
#[derive(Serialize)]
struct RecordLine<'a> {
    id: &'a str,
    #[serde(flatten)]
    record: &'a Record,
}

/// A record as a JSON object with its id (what `level=record` exports).
pub fn record_object(id: &str, record: &Record) -> Result<Map<String, Value>, RowError> {
    match serde_json::to_value(RecordLine { id, record })? {
        Value::Object(map) => Ok(map),
        _ => Err(RowError::Encode(format!("record {id} is not an object"))),
    }
}

/// A customer's golden record as the columns of [`super::CUSTOMER_FIELDS`].
/// `record_count` counts the records of the customer and of its people;
/// `attributes` are the ones written back for it (scores, flags, segments).
pub fn customer_row(
    entity: &Entity,
    record_count: usize,
    attributes: Map<String, Value>,
) -> Map<String, Value> {
    let value = |field: &str| {
        entity
            .golden
            .fields
            .get(field)
            .map_or(Value::Null, |f| Value::String(f.value.clone()))
    };
    // Every distinct value seen, the surviving one first.
    let values = |field: &str| {
        let mut out: Vec<Value> = Vec::new();
        if let Some(f) = entity.golden.fields.get(field) {
            for v in std::iter::once(&f.value).chain(f.variants.iter().map(|v| &v.value)) {
                let v = Value::String(v.clone());
                if !out.contains(&v) {
                    out.push(v);
                }
            }
        }
        Value::Array(out)
    };
    let mut row = Map::new();
    row.insert("customer_id".into(), Value::String(entity.id.clone()));
    row.insert("kind".into(), Value::String(entity.kind.clone()));
    row.insert("name".into(), value("name"));
    row.insert("emails".into(), values("emails"));
    row.insert("phones".into(), values("phones"));
    row.insert("country".into(), value("country"));
    row.insert("company".into(), value("company"));
    row.insert("owner".into(), value("owner"));
    row.insert("tags".into(), values("tags"));
    row.insert(
        "org_id".into(),
        entity.org_id.clone().map_or(Value::Null, Value::String),
    );
    row.insert(
        "people".into(),
        Value::Array(entity.people.iter().cloned().map(Value::String).collect()),
    );
    row.insert("record_count".into(), Value::from(record_count));
    row.insert(
        "golden".into(),
        serde_json::to_value(&entity.golden).unwrap_or(Value::Null),
    );
    row.insert("attrs".into(), Value::Object(attributes));
    row
}

/// A column of a row: a field, or `attrs.NAME` inside the record's `attrs`.
fn column<'a>(row: &'a Map<String, Value>, name: &str) -> &'a Value {
    static NULL: Value = Value::Null;
    if let Some(value) = row.get(name) {
        return value;
    }
    match name.strip_prefix("attrs.") {
        Some(attr) => row.get("attrs").and_then(|a| a.get(attr)).unwrap_or(&NULL),
        None => &NULL,
    }
}

/// A value as CSV text: lists of plain values joined with `;`, anything
/// nested as JSON, nothing for null.
fn cell(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Bool(_) | Value::Number(_) => value.to_string(),
        Value::Array(items) if items.iter().all(|v| !v.is_object() && !v.is_array()) => items
            .iter()
            .map(|v| match v {
                Value::String(s) => s.clone(),
                Value::Null => String::new(),
                other => other.to_string(),
            })
            .collect::<Vec<_>>()
            .join(";"),
        nested => nested.to_string(),
    }
}

/// Writes rows in one format with one set of columns.
pub struct RowWriter<W: Write> {
    format: Format,
    columns: Vec<String>,
    /// NDJSON with every column: the record line as stored, no selection.
    whole: bool,
    csv: Option<csv::Writer<W>>,
    out: Option<W>,
    lines: u64,
}

impl<W: Write> RowWriter<W> {
    /// `whole`: NDJSON lines carry every field (no `fields=` given).
    pub fn new(out: W, format: Format, columns: Vec<String>, whole: bool) -> RowWriter<W> {
        match format {
            Format::Csv => RowWriter {
                format,
                columns,
                whole: false,
                csv: Some(csv::Writer::from_writer(out)),
                out: None,
                lines: 0,
            },
            Format::Ndjson => RowWriter {
                format,
                columns,
                whole,
                csv: None,
                out: Some(out),
                lines: 0,
            },
        }
    }

    /// The CSV header (nothing for NDJSON).
    pub fn header(&mut self) -> Result<(), RowError> {
        if let Some(csv) = &mut self.csv {
            csv.write_record(&self.columns)?;
        }
        Ok(())
    }

    /// Rows written so far.
    pub fn lines(&self) -> u64 {
        self.lines
    }

    pub fn record(&mut self, id: &str, record: &Record) -> Result<(), RowError> {
        if self.whole
            && let Some(out) = &mut self.out
        {
            serde_json::to_writer(&mut *out, &RecordLine { id, record })?;
            out.write_all(b"\n")?;
            self.lines += 1;
            return Ok(());
        }
        let row = record_object(id, record)?;
        self.row(&row)
    }

    /// A record with why it is attached to no customer (the
    /// `unattached_reason` column of `attached=false`).
    pub fn record_with_reason(
        &mut self,
        id: &str,
        record: &Record,
        reason: Option<&str>,
    ) -> Result<(), RowError> {
        let Some(reason) = reason else {
            return self.record(id, record);
        };
        let mut row = record_object(id, record)?;
        row.insert(super::attached::REASON.into(), reason.into());
        if self.whole
            && let Some(out) = &mut self.out
        {
            serde_json::to_writer(&mut *out, &row)?;
            out.write_all(b"\n")?;
            self.lines += 1;
            return Ok(());
        }
        self.row(&row)
    }

    pub fn row(&mut self, row: &Map<String, Value>) -> Result<(), RowError> {
        match self.format {
            Format::Csv => {
                if let Some(csv) = &mut self.csv {
                    csv.write_record(self.columns.iter().map(|c| cell(column(row, c))))?;
                }
            }
            Format::Ndjson => {
                if let Some(out) = &mut self.out {
                    out.write_all(b"{")?;
                    for (i, name) in self.columns.iter().enumerate() {
                        if i > 0 {
                            out.write_all(b",")?;
                        }
                        serde_json::to_writer(&mut *out, name)?;
                        out.write_all(b":")?;
                        serde_json::to_writer(&mut *out, column(row, name))?;
                    }
                    out.write_all(b"}\n")?;
                }
            }
        }
        self.lines += 1;
        Ok(())
    }

    /// Ends the export with a line saying why it stopped early: a JSON
    /// object `{"error": ...}` for NDJSON, a `# error: ...` line for CSV.
    pub fn error_line(&mut self, message: &str) -> Result<(), RowError> {
        let out = self.flush_and_take()?;
        let mut out = out;
        match self.format {
            Format::Ndjson => {
                let line = serde_json::json!({
                    "error": { "code": STREAM_ERROR_CODE, "message": message }
                });
                serde_json::to_writer(&mut out, &line)?;
                out.write_all(b"\n")?;
            }
            Format::Csv => {
                let flat = message.replace(['\n', '\r'], " ");
                writeln!(out, "# error: {flat}")?;
            }
        }
        out.flush()?;
        self.out = Some(out);
        Ok(())
    }

    /// Ends an export declared for a purpose with what it left out: a JSON
    /// object `{"export": {"purpose", "rows", "left_out"}}` for NDJSON, a
    /// `# purpose: …; rows: …; left out: …` line for CSV.
    pub fn purpose_trailer(&mut self, purpose: &str, left_out: u64) -> Result<(), RowError> {
        let rows = self.lines;
        let mut out = self.flush_and_take()?;
        match self.format {
            Format::Ndjson => {
                let line = serde_json::json!({
                    "export": { "purpose": purpose, "rows": rows, "left_out": left_out }
                });
                serde_json::to_writer(&mut out, &line)?;
                out.write_all(b"\n")?;
            }
            Format::Csv => {
                writeln!(
                    out,
                    "# purpose: {purpose}; rows: {rows}; left out (opted out): {left_out}"
                )?;
            }
        }
        self.out = Some(out);
        Ok(())
    }

    /// Flushes and returns the underlying writer.
    pub fn finish(mut self) -> Result<W, RowError> {
        let mut out = self.flush_and_take()?;
        out.flush()?;
        Ok(out)
    }

    fn flush_and_take(&mut self) -> Result<W, RowError> {
        if let Some(csv) = self.csv.take() {
            return csv
                .into_inner()
                .map_err(|e| RowError::Io(std::io::Error::other(e.to_string())));
        }
        self.out
            .take()
            .ok_or_else(|| RowError::Encode("the export writer was already finished".into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::RecordKind;

    fn sample() -> Record {
        let mut r = Record::new("crm", "7", RecordKind::Person);
        r.names = vec!["Ann Lee".into()];
        r.emails = vec!["ann@x.jp".into(), "lee@y.jp".into()];
        r.attrs.insert("plan".into(), Value::String("gold".into()));
        r.customer_id = Some("org_1".into());
        r
    }

    fn written(format: Format, fields: Option<&[&str]>) -> String {
        let columns: Vec<String> = fields
            .unwrap_or(super::super::RECORD_FIELDS)
            .iter()
            .map(|s| s.to_string())
            .collect();
        let mut w = RowWriter::new(Vec::new(), format, columns, fields.is_none());
        w.header().unwrap();
        w.record("crm:7", &sample()).unwrap();
        String::from_utf8(w.finish().unwrap()).unwrap()
    }

    #[test]
    fn ndjson_lines_and_selected_fields() {
        let whole: Value = serde_json::from_str(written(Format::Ndjson, None).trim()).unwrap();
        assert_eq!(whole["id"], "crm:7");
        assert_eq!(whole["customer_id"], "org_1");
        assert_eq!(whole["attrs"]["plan"], "gold");
        let some = written(
            Format::Ndjson,
            Some(&["id", "emails", "attrs.plan", "amount"]),
        );
        assert_eq!(
            some.trim(),
            r#"{"id":"crm:7","emails":["ann@x.jp","lee@y.jp"],"attrs.plan":"gold","amount":null}"#
        );
    }

    #[test]
    fn csv_has_a_header_lists_joined_and_nested_json() {
        let text = written(Format::Csv, Some(&["id", "emails", "provenance", "amount"]));
        let mut lines = text.lines();
        assert_eq!(lines.next(), Some("id,emails,provenance,amount"));
        assert_eq!(
            lines.next(),
            Some(r#"crm:7,ann@x.jp;lee@y.jp,"{""file"":"""",""line"":null}","#)
        );
    }

    #[test]
    fn an_error_line_ends_the_output() {
        let mut w = RowWriter::new(Vec::new(), Format::Csv, vec!["id".into()], false);
        w.header().unwrap();
        w.record("crm:7", &sample()).unwrap();
        w.error_line("store went away").unwrap();
        let text = String::from_utf8(w.finish().unwrap()).unwrap();
        assert!(text.ends_with("# error: store went away\n"), "{text}");
    }
}
