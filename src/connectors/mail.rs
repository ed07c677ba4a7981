//! Reads mail: Unix mbox files (streamed, one message at a time, with the
//! byte offset and line of each) and .eml files (one message each). Messages
//! are parsed by mail-parser: multipart, quoted-printable, base64, RFC 2047
//! headers in any charset (ISO-2022-JP included), HTML-only bodies turned
//! into text. Participants become `from`/`to`/`cc` links (normalised address,
//! display name), Message-ID the external id, In-Reply-To and References
//! `thread` links, attachment names the `attachments` attribute and their
//! text (`attachments.rs`) the `attachment_text` attribute.
//!
//! It must never hold more than one message in memory, and never drop a
//! message for a problem it can report instead.

use std::io::{BufRead, BufReader};

use mail_parser::decoders::html::html_to_text;
use mail_parser::{Address, MessageParser, MimeHeaders, PartType};
use serde_json::Value;

use super::{ReadContext, ReadError, RecordSink, attachments};
use crate::normalize::Email;
use crate::record::{Link, Provenance, Record};

/// A message larger than this is reported; its first part is still read.
const MAX_MESSAGE: usize = 64 * 1024 * 1024;

pub fn read_eml(cx: &ReadContext, sink: &mut dyn RecordSink) -> Result<(), ReadError> {
    use std::io::Read;
    let handle = std::fs::File::open(&cx.file.path).map_err(|e| cx.unreadable(e))?;
    let mut raw = Vec::new();
    handle
        .take(MAX_MESSAGE as u64 + 1)
        .read_to_end(&mut raw)
        .map_err(|e| cx.unreadable(e))?;
    if raw.len() > MAX_MESSAGE {
        sink.error(cx.error(
            None,
            format!("message larger than {MAX_MESSAGE} bytes; only its start was read"),
        ));
        raw.truncate(MAX_MESSAGE);
    }
    let fallback = cx.file.relative.clone();
    message(cx, &raw, &fallback, 1, 0, sink)
}

pub fn read_mbox(cx: &ReadContext, sink: &mut dyn RecordSink) -> Result<(), ReadError> {
    let handle = std::fs::File::open(&cx.file.path).map_err(|e| cx.unreadable(e))?;
    let mut input = BufReader::with_capacity(256 * 1024, handle);
    let mut line = Vec::new();
    let mut current: Vec<u8> = Vec::new();
    let mut oversized = false;
    // Where the current message starts: byte offset and line of its `From `.
    let mut start: Option<(u64, u64)> = None;
    let (mut offset, mut number) = (0u64, 0u64);
    let mut previous_blank = true;
    loop {
        line.clear();
        let n = input
            .read_until(b'\n', &mut line)
            .map_err(|e| cx.unreadable(e))?;
        if n == 0 {
            break;
        }
        number += 1;
        let is_separator = previous_blank && line.starts_with(b"From ");
        if is_separator {
            if let Some((at, first)) = start {
                flush(cx, &current, at, first, sink)?;
            } else if !current.iter().all(u8::is_ascii_whitespace) {
                sink.error(
                    cx.error(
                        Some(1),
                        "text before the first `From ` line is not a message; skipped",
                    )
                    .at_offset(0),
                );
            }
            current.clear();
            oversized = false;
            start = Some((offset, number));
        } else if start.is_none() && number == 1 {
            sink.error(
                cx.error(Some(1), "not an mbox: the file does not start with a `From ` line; reading it as messages anyway")
                    .at_offset(0),
            );
            start = Some((0, 1));
            current.extend_from_slice(&line);
        } else if current.len() + line.len() <= MAX_MESSAGE {
            // mboxrd: one `>` is removed from quoted `From ` lines.
            let unquoted = line.starts_with(b">")
                && line
                    .iter()
                    .skip_while(|b| **b == b'>')
                    .take(5)
                    .eq(b"From ".iter());
            current.extend_from_slice(if unquoted { &line[1..] } else { &line });
        } else if !oversized {
            oversized = true;
            if let Some((at, first)) = start {
                sink.error(
                    cx.error(
                        Some(first),
                        format!("message larger than {MAX_MESSAGE} bytes; only its start was read"),
                    )
                    .at_offset(at),
                );
            }
        }
        previous_blank = line.iter().all(u8::is_ascii_whitespace);
        offset += n as u64;
    }
    match start {
        Some((at, first)) => flush(cx, &current, at, first, sink),
        None => {
            sink.error(cx.error(None, "empty mbox: no messages"));
            Ok(())
        }
    }
}

fn flush(
    cx: &ReadContext,
    raw: &[u8],
    offset: u64,
    line: u64,
    sink: &mut dyn RecordSink,
) -> Result<(), ReadError> {
    // Skip the `From ` separator line itself.
    let body = match raw.starts_with(b"From ") {
        true => raw
            .iter()
            .position(|b| *b == b'\n')
            .map(|i| &raw[i + 1..])
            .unwrap_or(&[]),
        false => raw,
    };
    let fallback = format!("{}@{offset}", cx.file.relative);
    message(cx, body, &fallback, line, offset, sink)
}

/// Turns one raw message into a record (or an error, if it is not a message
/// at all).
fn message(
    cx: &ReadContext,
    raw: &[u8],
    fallback_id: &str,
    line: u64,
    offset: u64,
    sink: &mut dyn RecordSink,
) -> Result<(), ReadError> {
    let problem = |reason: String| cx.error(Some(line), reason).at_offset(offset);
    let header_end = find(raw, b"\r\n\r\n").or_else(|| find(raw, b"\n\n"));
    let Some(parsed) = MessageParser::default().parse(raw) else {
        sink.error(problem("not a mail message (no headers); skipped".into()));
        return Ok(());
    };
    if parsed.headers().is_empty() {
        sink.error(problem("not a mail message (no headers); skipped".into()));
        return Ok(());
    }
    let message_id = parsed.message_id().map(|id| id.trim().to_string());
    let mut record = Record::new(
        cx.source,
        message_id.as_deref().unwrap_or(fallback_id),
        cx.mapping.kind(),
    );
    record.provenance = Provenance {
        file: cx.file.relative.clone(),
        line: Some(line),
    };
    if message_id.is_none() {
        record.flag("external_id", "no Message-ID; keyed by its position");
    }
    if header_end.is_none() {
        sink.error(problem(
            "truncated message: the headers never end (no blank line); kept what was there".into(),
        ));
    }
    if let Some(content_type) = parsed.content_type()
        && content_type.ctype().eq_ignore_ascii_case("multipart")
        && let Some(boundary) = content_type.attribute("boundary")
        && find(raw, format!("--{boundary}--").as_bytes()).is_none()
    {
        sink.error(problem(format!(
            "truncated message: multipart without its closing boundary `--{boundary}--`; kept what was there"
        )));
    }
    record.title = parsed.subject().map(|s| s.trim().to_string());
    let body = parsed
        .body_text(0)
        .map(|text| text.trim().to_string())
        .or_else(|| first_text_part(&parsed));
    record.body = body.filter(|b| !b.is_empty());
    if let Some(end) = header_end
        && parsed
            .header_raw("Content-Transfer-Encoding")
            .is_some_and(|e| e.trim().eq_ignore_ascii_case("base64"))
        && !raw[end..]
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || b"+/=\r\n\t ".contains(b))
    {
        // mail-parser decodes what it can of a bad part and says nothing.
        sink.error(problem(
            "the body is not valid base64; kept what could be decoded".into(),
        ));
        record.flag("body", "body is not valid base64");
    }
    if let Some(date) = parsed.date() {
        match chrono::DateTime::parse_from_rfc3339(&date.to_rfc3339()) {
            Ok(d) => record.created = Some(d.with_timezone(&chrono::Utc)),
            Err(_) => record.flag("created", "Date header is not a valid date"),
        }
    }
    for (rel, address) in [
        ("from", parsed.from()),
        ("to", parsed.to()),
        ("cc", parsed.cc()),
    ] {
        if let Some(address) = address {
            participants(&mut record, rel, address);
        }
    }
    for header in [parsed.in_reply_to(), parsed.references()] {
        let ids = header
            .as_text_list()
            .map(|l| l.iter().map(|s| s.to_string()).collect::<Vec<_>>())
            .or_else(|| header.as_text().map(|s| vec![s.to_string()]))
            .unwrap_or_default();
        for id in ids {
            let id = id.trim().trim_matches(['<', '>']).to_string();
            if !id.is_empty()
                && !record
                    .links
                    .iter()
                    .any(|l| l.rel == "thread" && l.target == id)
            {
                record.links.push(Link {
                    rel: "thread".into(),
                    target: id,
                    name: None,
                });
            }
        }
    }
    let attachments: Vec<String> = parsed
        .attachments()
        .filter_map(|part| part.attachment_name().map(str::to_string))
        .collect();
    if !attachments.is_empty() {
        record
            .attrs
            .insert("attachments".into(), Value::String(attachments.join("; ")));
    }
    attachment_text(&parsed, &mut record, |reason| sink.error(problem(reason)));
    sink.record(record)?;
    Ok(())
}

/// Indexes the text of the message's attachments with it, as
/// `attrs.attachment_text` (each attachment's under its name, bounded); a
/// damaged attachment is reported through `warn` and the message kept.
fn attachment_text(
    parsed: &mail_parser::Message,
    record: &mut Record,
    mut warn: impl FnMut(String),
) {
    let mut text = String::new();
    for part in parsed.attachments() {
        let name = part.attachment_name().unwrap_or("(no name)").to_string();
        let span = tracing::debug_span!("attachment", name = %name);
        let _entered = span.enter();
        match attachments::extract(part) {
            attachments::Extracted::Text(t) if !t.is_empty() => {
                if text.len() + t.len() + name.len() + 2 > attachments::PER_MESSAGE {
                    warn(format!(
                        "attachment \"{name}\": the message's attachments hold more than {} bytes of text; the rest is not indexed",
                        attachments::PER_MESSAGE
                    ));
                    break;
                }
                text.push_str(&name);
                text.push_str(":\n");
                text.push_str(&t);
                text.push_str("\n\n");
            }
            attachments::Extracted::Damaged(why) => warn(format!(
                "attachment \"{name}\" could not be read ({why}); the email is kept without its text"
            )),
            _ => {}
        }
    }
    let text = text.trim_end();
    if !text.is_empty() {
        record
            .attrs
            .insert("attachment_text".into(), Value::String(text.to_string()));
    }
}

/// The first text or HTML part, wherever it is: mail-parser files the parts
/// of a multipart cut before its closing boundary as attachments.
fn first_text_part(parsed: &mail_parser::Message) -> Option<String> {
    parsed.parts.iter().find_map(|part| match &part.body {
        PartType::Text(text) => Some(text.trim().to_string()),
        PartType::Html(html) => Some(html_to_text(html).trim().to_string()),
        _ => None,
    })
}

/// Adds each address of a header as a link and an email, and each display
/// name to `names`.
fn participants(record: &mut Record, rel: &str, address: &Address) {
    for addr in address.iter() {
        let name = addr
            .name()
            .map(|n| n.trim().to_string())
            .filter(|n| !n.is_empty());
        let Some(raw) = addr.address() else {
            continue;
        };
        match Email::parse(raw) {
            Ok(email) => {
                let email = email.as_str().to_string();
                if !record.emails.contains(&email) {
                    record.emails.push(email.clone());
                }
                if let Some(name) = &name
                    && !record.names.contains(name)
                {
                    record.names.push(name.clone());
                }
                record.links.push(Link {
                    rel: rel.into(),
                    target: email,
                    name,
                });
            }
            Err(reason) => record.flag(rel, reason),
        }
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}
