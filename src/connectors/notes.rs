//! Reads notes typed by staff: one .txt or .md file per note, with optional
//! front matter between `---` lines (customer, author, date, tags, and any
//! other key as a loose attribute). A note saved in a legacy encoding
//! (Shift_JIS, EUC-JP, UTF-16 with a BOM, Latin-1, ...) is decoded in it
//! (`text_encoding.rs`) and says so in `attrs.encoding`; bytes no encoding
//! reads are reported with their line and the note is kept with U+FFFD.
//!
//! It must never drop a note for a problem in its front matter.

use serde_json::Value;

use super::mapping::apply;
use super::{ReadContext, ReadError, RecordSink};
use crate::record::{Provenance, Record};

/// Notes larger than this are not notes; they are refused, not read.
const MAX_NOTE_BYTES: u64 = 16 * 1024 * 1024;

pub fn read(cx: &ReadContext, sink: &mut dyn RecordSink) -> Result<(), ReadError> {
    let (source, file) = (cx.source, cx.file);
    let error = |line: Option<u64>, reason: String| cx.error(line, reason);
    let size = std::fs::metadata(&file.path)
        .map_err(|e| cx.unreadable(e))?
        .len();
    if size > MAX_NOTE_BYTES {
        return Err(ReadError::Unreadable(error(
            None,
            format!("{size} bytes is too large for a note (limit {MAX_NOTE_BYTES}); skipped"),
        )));
    }
    let bytes = std::fs::read(&file.path).map_err(|e| cx.unreadable(e))?;
    let decoded = super::text_encoding::decode(&bytes);
    // UTF-16 holds NUL bytes; other text does not.
    if !decoded.encoding.starts_with("UTF-16") && bytes.contains(&0) {
        return Err(ReadError::Unreadable(error(
            None,
            "binary file (contains NUL bytes); not a note".into(),
        )));
    }
    if let Some(at) = decoded.invalid_at {
        let line = bytes[..at.min(bytes.len())]
            .iter()
            .filter(|b| **b == b'\n')
            .count() as u64
            + 1;
        sink.error(error(
            Some(line),
            "invalid UTF-8 and no legacy encoding reads it; bad bytes replaced with U+FFFD, note kept"
                .into(),
        ));
    }
    let text = decoded.text;

    let mut record = Record::new(source, &file.relative, cx.mapping.kind());
    record.provenance = Provenance {
        file: file.relative.clone(),
        line: Some(1),
    };
    if decoded.encoding != "UTF-8" {
        record
            .attrs
            .insert("encoding".into(), Value::String(decoded.encoding.into()));
    }
    let (front, body) = split_front_matter(&text);
    for (offset, line) in front.iter() {
        let Some((key, value)) = line.split_once(':') else {
            sink.error(error(
                Some(*offset),
                format!("front matter line `{line}` is not `key: value`; ignored"),
            ));
            continue;
        };
        let (key, value) = (key.trim().to_lowercase(), value.trim());
        if value.is_empty() {
            continue;
        }
        match key.as_str() {
            "customer" | "account" => apply(&mut record, "customer_ref", value, ";"),
            "author" | "owner" => apply(&mut record, "owner", value, ";"),
            "date" | "created" => apply(&mut record, "created", value, ";"),
            "tags" => apply(&mut record, "tags", value, ";"),
            "title" => apply(&mut record, "title", value, ";"),
            "kind" => apply(&mut record, "kind", value, ";"),
            _ => {
                record.attrs.insert(key, Value::String(value.to_string()));
            }
        }
    }
    let mut lines = body.lines().skip_while(|l| l.trim().is_empty());
    if record.title.is_none() {
        record.title = lines
            .next()
            .map(|first| first.trim().trim_start_matches('#').trim().to_string());
        record.body = Some(lines.collect::<Vec<_>>().join("\n").trim().to_string());
    } else {
        record.body = Some(body.trim().to_string());
    }
    if record.body.as_deref().is_some_and(str::is_empty) {
        record.body = None;
    }
    sink.record(record)?;
    Ok(())
}

/// Splits `---` front matter from the body. Returns the front-matter lines
/// with their 1-based line numbers, and the body.
fn split_front_matter(text: &str) -> (Vec<(u64, &str)>, &str) {
    let trimmed = text.trim_start_matches('\u{feff}');
    let Some(rest) = trimmed.strip_prefix("---") else {
        return (Vec::new(), trimmed);
    };
    let Some(rest) = rest
        .strip_prefix('\n')
        .or_else(|| rest.strip_prefix("\r\n"))
    else {
        return (Vec::new(), trimmed);
    };
    let mut front = Vec::new();
    let mut consumed = trimmed.len() - rest.len();
    for (i, line) in rest.split_inclusive('\n').enumerate() {
        consumed += line.len();
        let content = line.trim_end_matches(['\n', '\r']);
        if content.trim() == "---" {
            return (front, &trimmed[consumed..]);
        }
        if !content.trim().is_empty() {
            front.push((i as u64 + 2, content));
        }
    }
    // No closing `---`: it was not front matter after all.
    (Vec::new(), trimmed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn front_matter_is_split_from_the_body() {
        let (front, body) = split_front_matter("---\ncustomer: A\ntags: [x]\n---\n# T\nbody\n");
        assert_eq!(front, vec![(2, "customer: A"), (3, "tags: [x]")]);
        assert_eq!(body, "# T\nbody\n");
    }

    #[test]
    fn text_without_front_matter_is_all_body() {
        let (front, body) = split_front_matter("Call with Bob\nHe wants a quote");
        assert!(front.is_empty());
        assert_eq!(body, "Call with Bob\nHe wants a quote");
    }
}
