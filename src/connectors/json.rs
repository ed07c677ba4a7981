//! Reads JSON exports: one object per line (NDJSON, as Zendesk's incremental
//! export writes it), a top-level array of objects, or an object holding such
//! an array (`{"tickets": [...]}`). Every form is streamed: one object at a
//! time is in memory, or for NDJSON one chunk of lines (at most 256 lines
//! or 1 MiB beyond the last line), which are parsed and mapped on rayon's
//! threads and handed on in the file's order. The manifest maps record fields to key paths (`subject`,
//! `requester.email`, `comments.body` — arrays on the way are flattened).
//!
//! One element that cannot be read (nested deeper than serde_json's 128
//! levels, say) is an error at its line and skipped; the others are kept.
//!
//! It must never stop a file at one bad line of NDJSON or one bad element,
//! nor buffer the whole file.

use std::cell::Cell;
use std::fmt;
use std::io::{BufRead, BufReader, Read};
use std::rc::Rc;

use serde::de::{DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::Value;
use serde_json::value::RawValue;

use super::mapping::{attr_key, build, fill_template, template_parts};
use super::{IngestError, ReadContext, ReadError, RecordSink, Stop};
use crate::record::{Provenance, Record};

/// One NDJSON line longer than this is reported and skipped.
const MAX_LINE: usize = 64 * 1024 * 1024;
const LIST_TARGETS: &[&str] = &["names", "emails", "phones", "tags", "websites"];

pub fn read(cx: &ReadContext, sink: &mut dyn RecordSink) -> Result<(), ReadError> {
    let handle = std::fs::File::open(&cx.file.path).map_err(|e| cx.unreadable(e))?;
    let mut input = BufReader::with_capacity(256 * 1024, handle);
    let head = input.fill_buf().map_err(|e| cx.unreadable(e))?;
    let skip = if head.starts_with(b"\xEF\xBB\xBF") {
        3
    } else {
        0
    };
    let first = head[skip..]
        .iter()
        .find(|b| !b.is_ascii_whitespace())
        .copied();
    let first_line_complete = {
        let rest = &head[skip..];
        let end = rest.iter().position(|b| *b == b'\n').unwrap_or(rest.len());
        serde_json::from_slice::<IgnoredAny>(&rest[..end]).is_ok()
    };
    input.consume(skip);
    match first {
        None => {
            sink.error(cx.error(None, "file is empty: no JSON"));
            Ok(())
        }
        Some(b'{') if first_line_complete => read_lines(cx, input, sink),
        Some(b'[') | Some(b'{') => read_document(cx, input, sink),
        Some(other) => Err(ReadError::Unreadable(cx.error(
            Some(1),
            format!(
                "not JSON records: starts with `{}` (expected one object per line, an array, or an object holding an array)",
                other as char
            ),
        ))),
    }
}

fn read_lines(
    cx: &ReadContext,
    mut input: impl BufRead,
    sink: &mut dyn RecordSink,
) -> Result<(), ReadError> {
    let mut chunk = LineChunk::default();
    let (mut number, mut offset) = (0u64, 0u64);
    loop {
        let mut line = Vec::new();
        let read = input
            .by_ref()
            .take(MAX_LINE as u64 + 1)
            .read_until(b'\n', &mut line);
        let n = match read {
            Ok(n) => n,
            Err(e) => {
                // What was read before the failure still counts.
                chunk.finish(cx, sink)?;
                return Err(cx.unreadable(e));
            }
        };
        if n == 0 {
            break;
        }
        number += 1;
        let at = offset;
        offset += n as u64;
        if n > MAX_LINE && !line.ends_with(b"\n") {
            chunk.items.push(Pending::Problem(
                cx.error(
                    Some(number),
                    format!("line longer than {MAX_LINE} bytes; skipped"),
                )
                .at_offset(at),
            ));
            // Skip the rest of the overlong line.
            let mut rest = Vec::new();
            match input.read_until(b'\n', &mut rest) {
                Ok(skipped) => offset += skipped as u64,
                Err(e) => {
                    chunk.finish(cx, sink)?;
                    return Err(cx.unreadable(e));
                }
            }
            continue;
        }
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        chunk.bytes += line.len();
        chunk.items.push(Pending::Line { number, at, line });
        if chunk.is_full() {
            std::mem::take(&mut chunk).finish(cx, sink)?;
        }
    }
    chunk.finish(cx, sink)
}

/// Lines parsed together on rayon's threads, at most this many...
const CHUNK_LINES: usize = 256;
/// ...or holding this many bytes (long lines: fewer at a time).
const CHUNK_BYTES: usize = 1024 * 1024;

/// A line read but not yet parsed, or a problem found while reading, in
/// the file's order.
enum Pending {
    Line { number: u64, at: u64, line: Vec<u8> },
    Problem(IngestError),
}

/// NDJSON lines are independent: a chunk of them is parsed and mapped on
/// rayon's threads, then handed to the sink in the file's order, so the
/// records, their lines and the problems reach it exactly as one thread
/// would have passed them.
#[derive(Default)]
struct LineChunk {
    items: Vec<Pending>,
    bytes: usize,
}

impl LineChunk {
    fn is_full(&self) -> bool {
        self.items.len() >= CHUNK_LINES || self.bytes >= CHUNK_BYTES
    }

    fn finish(self, cx: &ReadContext, sink: &mut dyn RecordSink) -> Result<(), ReadError> {
        use rayon::prelude::*;
        let parsed: Vec<Result<Record, IngestError>> = self
            .items
            .into_par_iter()
            .map(|item| match item {
                Pending::Problem(problem) => Err(problem),
                Pending::Line { number, at, line } => parse_line(cx, number, at, &line),
            })
            .collect();
        for outcome in parsed {
            match outcome {
                Ok(record) => sink.record(record)?,
                Err(problem) => sink.error(problem),
            }
        }
        Ok(())
    }
}

/// The record of one NDJSON line, or why it has none.
fn parse_line(cx: &ReadContext, number: u64, at: u64, line: &[u8]) -> Result<Record, IngestError> {
    match serde_json::from_slice::<Value>(line) {
        Ok(object @ Value::Object(_)) => Ok(to_record(cx, &object, number)),
        Ok(_) => Err(cx
            .error(Some(number), "line is JSON but not an object; skipped")
            .at_offset(at)),
        Err(e) => Err(cx
            .error(Some(number), format!("malformed JSON ({e}); line skipped"))
            .at_offset(at)),
    }
}

/// Counts the bytes and lines serde_json has read, to place records and
/// errors.
struct Counting<R> {
    inner: R,
    lines: Rc<Cell<u64>>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        let newlines = buf[..n].iter().filter(|b| **b == b'\n').count() as u64;
        self.lines.set(self.lines.get() + newlines);
        Ok(n)
    }
}

fn read_document(
    cx: &ReadContext,
    input: impl BufRead,
    sink: &mut dyn RecordSink,
) -> Result<(), ReadError> {
    let lines = Rc::new(Cell::new(1));
    // serde_json reads its input one byte at a time through `Bytes`, so the
    // count is exact to within the byte it peeks at.
    let counting = Counting {
        inner: input,
        lines: lines.clone(),
    };
    let mut de = serde_json::Deserializer::from_reader(counting);
    let mut state = Streamer {
        cx,
        sink,
        lines: lines.clone(),
        stopped: false,
        records: 0,
    };
    let result = (&mut state).deserialize(&mut de).and_then(|_| de.end());
    let (stopped, records) = (state.stopped, state.records);
    if stopped {
        return Err(ReadError::Stopped);
    }
    if let Err(e) = result {
        sink.error(cx.error(
            Some(e.line() as u64),
            format!("malformed JSON ({e}); the records before it were read, the rest of the file was not"),
        ));
    } else if records == 0 {
        sink.error(cx.error(
            None,
            "no records: expected objects in an array, or an object holding an array of objects",
        ));
    }
    Ok(())
}

/// Streams the objects of an array (top level, or under a key of the top
/// object) to the sink.
struct Streamer<'a, 'b> {
    cx: &'a ReadContext<'a>,
    sink: &'b mut dyn RecordSink,
    lines: Rc<Cell<u64>>,
    stopped: bool,
    records: usize,
}

impl<'de> DeserializeSeed<'de> for &mut Streamer<'_, '_> {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for &mut Streamer<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array of objects or an object holding one")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        loop {
            // Read as raw text first (serde_json skips a value without
            // recursing), so that an element too deeply nested to become a
            // `Value` loses only itself.
            let Some(raw) = seq.next_element::<Box<RawValue>>()? else {
                return Ok(());
            };
            // The element's first line: the lines read so far, less its own.
            let own = raw.get().bytes().filter(|b| *b == b'\n').count() as u64;
            let line = self.lines.get().saturating_sub(own);
            let value = match serde_json::from_str::<Value>(raw.get()) {
                Ok(value) => value,
                Err(e) => {
                    self.sink.error(self.cx.error(
                        Some(line),
                        format!("array element could not be read ({e}); skipped"),
                    ));
                    continue;
                }
            };
            drop(raw);
            if !value.is_object() {
                self.sink.error(
                    self.cx
                        .error(Some(line), "array element is not an object; skipped"),
                );
                continue;
            }
            self.records += 1;
            if let Err(Stop) = self.sink.record(to_record(self.cx, &value, line)) {
                self.stopped = true;
                return Err(serde::de::Error::custom("stopped"));
            }
        }
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(_key) = map.next_key::<IgnoredAny>()? {
            map.next_value_seed(Inner(&mut *self))?;
        }
        Ok(())
    }
}

/// A value under a key of the top object: arrays are streamed, anything else
/// skipped.
struct Inner<'s, 'a, 'b>(&'s mut Streamer<'a, 'b>);

impl<'de> DeserializeSeed<'de> for Inner<'_, '_, '_> {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Inner<'_, '_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<(), A::Error> {
        self.0.visit_seq(seq)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(())
    }
    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
}

/// The values at a key path; arrays on the way (and at the end) are
/// flattened, nulls and objects at the end dropped.
pub fn lookup(value: &Value, path: &str) -> Vec<String> {
    let mut current = vec![value];
    for key in path.split('.') {
        let mut next = Vec::new();
        for v in current {
            let children: Vec<&Value> = match v {
                Value::Object(map) => map.get(key).into_iter().collect(),
                Value::Array(items) => items.iter().filter_map(|i| i.get(key)).collect(),
                _ => Vec::new(),
            };
            for child in children {
                match child {
                    Value::Array(items) => next.extend(items.iter()),
                    other => next.push(other),
                }
            }
        }
        current = next;
    }
    current.into_iter().filter_map(scalar).collect()
}

fn scalar(value: &Value) -> Option<String> {
    match value {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn to_record(cx: &ReadContext, value: &Value, line: u64) -> Record {
    let mapping = cx.mapping;
    let mut used = std::collections::HashSet::new();
    let mut first_found = |columns: &super::manifest::Columns| {
        columns.candidates().iter().find_map(|path| {
            if let Some(parts) = template_parts(path) {
                // One key path: one value per value found there
                // (`user-{comments.author_id}` for every comment).
                let paths: Vec<&String> =
                    parts.iter().filter(|(c, _)| *c).map(|(_, p)| p).collect();
                if let [only] = paths.as_slice() {
                    let values = lookup(value, only);
                    if values.is_empty() {
                        return None;
                    }
                    used.insert(only.split('.').next().unwrap_or(only).to_string());
                    let filled = values
                        .iter()
                        .filter_map(|v| {
                            fill_template(parts.iter().map(|(c, t)| (*c, t.as_str())), |_| {
                                v.clone()
                            })
                        })
                        .collect();
                    return Some(filled);
                }
                let filled = fill_template(parts.iter().map(|(c, t)| (*c, t.as_str())), |p| {
                    lookup(value, p).into_iter().next().unwrap_or_default()
                })?;
                for (is_path, p) in &parts {
                    if *is_path {
                        used.insert(p.split('.').next().unwrap_or(p).to_string());
                    }
                }
                return Some(vec![filled]);
            }
            let values = lookup(value, path);
            if values.is_empty() {
                return None;
            }
            used.insert(path.split('.').next().unwrap_or(path).to_string());
            Some(values)
        })
    };
    let mut named = Vec::new();
    for (target, columns) in &mapping.fields {
        if let Some(values) = first_found(columns) {
            let values = if LIST_TARGETS.contains(&target.as_str()) {
                values
            } else if target == "body" {
                vec![values.join("\n\n")]
            } else {
                values.into_iter().take(1).collect()
            };
            named.push((target.as_str(), values));
        }
    }
    let mut links = Vec::new();
    for (rel, columns) in &mapping.links {
        for target in first_found(columns).unwrap_or_default() {
            links.push((rel.as_str(), target));
        }
    }
    let mut loose = Vec::new();
    if let Value::Object(map) = value {
        for (key, v) in map {
            if used.contains(key) {
                continue;
            }
            let text = match v {
                Value::Array(items) => {
                    let parts: Vec<String> = items.iter().filter_map(scalar).collect();
                    (!parts.is_empty()).then(|| parts.join("; "))
                }
                other => scalar(other),
            };
            if let Some(text) = text {
                loose.push((attr_key(&key.to_lowercase()), text));
            }
        }
    }
    let mut record = build(
        mapping,
        &cx.manifest.csv.list_separator,
        cx.source,
        named,
        links.into_iter(),
        loose.into_iter(),
        &format!("{}#{line}", cx.file.relative),
        Provenance {
            file: cx.file.relative.clone(),
            line: Some(line),
        },
    );
    // `[ids]` as for CSV: a scope column is a key path of the object.
    let ids = &cx.manifest.ids;
    let scope = mapping
        .scope_ids
        .then(|| {
            ids.scope_of(&cx.file.relative, |path| {
                lookup(value, path).into_iter().next()
            })
        })
        .flatten();
    super::ids::finish(&mut record, ids, scope.as_deref());
    record
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_flatten_arrays() {
        let v: Value = serde_json::json!({
            "id": 7, "requester": {"email": "a@b.co"},
            "comments": [{"body": "one"}, {"body": "two"}, {"body": null}],
            "tags": ["x", "y"]
        });
        assert_eq!(lookup(&v, "id"), vec!["7"]);
        assert_eq!(lookup(&v, "requester.email"), vec!["a@b.co"]);
        assert_eq!(lookup(&v, "comments.body"), vec!["one", "two"]);
        assert_eq!(lookup(&v, "tags"), vec!["x", "y"]);
        assert!(lookup(&v, "nothing.here").is_empty());
    }
}
