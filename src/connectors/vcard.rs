//! Reads vCard files (.vcf): versions 2.1, 3.0 and 4.0, several cards per
//! file, folded lines, property groups (`item1.EMAIL`), parameters
//! (`TYPE=work`, `CHARSET=`, `ENCODING=QUOTED-PRINTABLE`), and escaped
//! values (`\,` `\;` `\n`). Each card becomes a person record (an
//! organisation when it has KIND:org or only an ORG): FN/N → names,
//! EMAIL, TEL, ORG → company, TITLE, NOTE → body, ADR country, CATEGORIES →
//! tags, UID → external id, REV → updated.
//!
//! It must never stop a file at one bad card, and reads line by line.

use std::io::{BufRead, BufReader};

use serde_json::Value;

use super::mapping::apply;
use super::{ReadContext, ReadError, RecordSink};
use crate::record::{Provenance, Record, RecordKind};

/// One card longer than this many lines is reported and cut.
const MAX_CARD_LINES: usize = 10_000;

struct Property {
    name: String,
    params: Vec<(String, String)>,
    value: String,
}

pub fn read(cx: &ReadContext, sink: &mut dyn RecordSink) -> Result<(), ReadError> {
    let handle = std::fs::File::open(&cx.file.path).map_err(|e| cx.unreadable(e))?;
    let mut input = BufReader::with_capacity(64 * 1024, handle);
    // Logical (unfolded) lines of the current card, with their first line.
    let mut card: Option<(u64, Vec<(u64, String)>)> = None;
    let mut pending: Option<(u64, String)> = None;
    let (mut number, mut cards) = (0u64, 0usize);
    let mut raw = Vec::new();
    loop {
        raw.clear();
        let n = input
            .read_until(b'\n', &mut raw)
            .map_err(|e| cx.unreadable(e))?;
        let next = if n == 0 {
            None
        } else {
            number += 1;
            let text = match std::str::from_utf8(&raw) {
                Ok(t) => t.to_string(),
                Err(_) => {
                    sink.error(cx.error(
                        Some(number),
                        "invalid UTF-8; bad bytes replaced with U+FFFD",
                    ));
                    String::from_utf8_lossy(&raw).into_owned()
                }
            };
            Some(text.trim_end_matches(['\r', '\n']).to_string())
        };
        // Unfold: a line starting with a space or tab continues the last one
        // (and in 2.1 quoted-printable, a line ending with `=` continues).
        if let Some(text) = &next
            && let Some((_, last)) = pending.as_mut()
        {
            if text.starts_with([' ', '\t']) {
                last.push_str(&text[1..]);
                continue;
            }
            if last.to_ascii_uppercase().contains("QUOTED-PRINTABLE") && last.ends_with('=') {
                last.pop();
                last.push_str(text);
                continue;
            }
        }
        if let Some((line, logical)) = pending.take() {
            logical_line(cx, sink, &mut card, &mut cards, line, logical)?;
        }
        match next {
            Some(text) => pending = Some((number, text)),
            None => break,
        }
    }
    if let Some((first, lines)) = card.take() {
        sink.error(cx.error(
            Some(first),
            "truncated card: BEGIN:VCARD without END:VCARD; kept what was there",
        ));
        sink.record(to_record(cx, first, &lines))?;
        cards += 1;
    }
    if cards == 0 {
        sink.error(cx.error(None, "no BEGIN:VCARD found: not a vCard file"));
    }
    Ok(())
}

fn logical_line(
    cx: &ReadContext,
    sink: &mut dyn RecordSink,
    card: &mut Option<(u64, Vec<(u64, String)>)>,
    cards: &mut usize,
    line: u64,
    text: String,
) -> Result<(), ReadError> {
    let upper = text.trim().to_ascii_uppercase();
    if upper.is_empty() {
        return Ok(());
    }
    if upper == "BEGIN:VCARD" {
        if let Some((first, lines)) = card.take() {
            sink.error(cx.error(
                Some(first),
                "truncated card: a new BEGIN:VCARD before END:VCARD; kept what was there",
            ));
            sink.record(to_record(cx, first, &lines))?;
            *cards += 1;
        }
        *card = Some((line, Vec::new()));
    } else if upper == "END:VCARD" {
        match card.take() {
            Some((first, lines)) => {
                sink.record(to_record(cx, first, &lines))?;
                *cards += 1;
            }
            None => sink.error(cx.error(Some(line), "END:VCARD without BEGIN:VCARD; ignored")),
        }
    } else {
        match card.as_mut() {
            Some((_, lines)) if lines.len() < MAX_CARD_LINES => lines.push((line, text)),
            Some(_) => {}
            None => {
                sink.error(cx.error(Some(line), "line outside BEGIN:VCARD … END:VCARD; ignored"))
            }
        }
    }
    Ok(())
}

fn parse_property(text: &str) -> Option<Property> {
    // The value starts at the first `:` outside a quoted parameter value.
    let mut quoted = false;
    let colon = text.char_indices().find_map(|(i, c)| {
        if c == '"' {
            quoted = !quoted;
        }
        (c == ':' && !quoted).then_some(i)
    })?;
    let (head, value) = (&text[..colon], &text[colon + 1..]);
    let mut parts = head.split(';');
    let name = parts.next()?.trim();
    let name = name.rsplit('.').next().unwrap_or(name).to_ascii_uppercase();
    let params = parts
        .map(|p| match p.split_once('=') {
            Some((k, v)) => (
                k.trim().to_ascii_uppercase(),
                v.trim_matches('"').to_string(),
            ),
            // vCard 2.1 bare parameters: `TEL;WORK;VOICE:`.
            None => ("TYPE".to_string(), p.to_string()),
        })
        .collect();
    Some(Property {
        name,
        params,
        value: value.to_string(),
    })
}

fn to_record(cx: &ReadContext, first: u64, lines: &[(u64, String)]) -> Record {
    let mut record = Record::new(cx.source, "", cx.mapping.kind());
    record.provenance = Provenance {
        file: cx.file.relative.clone(),
        line: Some(first),
    };
    let mut uid = None;
    let mut kind_org = false;
    let mut formatted = None;
    let mut structured = None;
    for (line, text) in lines {
        let Some(property) = parse_property(text) else {
            record.flag("vcard", format!("line {line} is not `NAME:value`; ignored"));
            continue;
        };
        let value = decode_value(&property);
        let value = value.trim();
        if value.is_empty() {
            continue;
        }
        match property.name.as_str() {
            "UID" => uid = Some(value.trim_start_matches("urn:uuid:").to_string()),
            "FN" => formatted = Some(unescape(value)),
            "N" => {
                // Family;Given;Additional;Prefix;Suffix → "Given Family".
                let parts: Vec<String> = split_unescaped(value, ';');
                let given = parts.get(1).map(String::as_str).unwrap_or("");
                let family = parts.first().map(String::as_str).unwrap_or("");
                let name = format!("{given} {family}").trim().to_string();
                if !name.is_empty() {
                    structured = Some(name);
                }
            }
            "EMAIL" => apply(&mut record, "emails", &unescape(value), "\u{0}"),
            "TEL" => apply(
                &mut record,
                "phones",
                unescape(value).trim_start_matches("tel:"),
                "\u{0}",
            ),
            "ORG" => {
                let org = split_unescaped(value, ';').join(" ").trim().to_string();
                apply(&mut record, "company", &org, "\u{0}");
            }
            "TITLE" | "ROLE" => {
                record
                    .attrs
                    .insert(property.name.to_lowercase(), Value::String(unescape(value)));
            }
            "NOTE" => {
                let note = unescape(value);
                record.body = Some(match record.body.take() {
                    Some(b) => format!("{b}\n\n{note}"),
                    None => note,
                });
            }
            "ADR" => {
                // PO;Ext;Street;Locality;Region;Code;Country
                let parts = split_unescaped(value, ';');
                if let Some(country) = parts.get(6).filter(|c| !c.trim().is_empty())
                    && record.country.is_none()
                {
                    apply(&mut record, "country", country, "\u{0}");
                }
                // The first address is the typed one (a card's home and
                // work addresses are not one street); all stay as text.
                if record.address.is_empty() {
                    typed_address(&mut record, &parts);
                }
                let address = parts
                    .iter()
                    .filter(|p| !p.trim().is_empty())
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", ");
                record
                    .attrs
                    .insert("address".into(), Value::String(address));
            }
            "CATEGORIES" => {
                for tag in split_unescaped(value, ',') {
                    apply(&mut record, "tags", &tag, "\u{0}");
                }
            }
            "REV" => apply(&mut record, "updated", &compact_date(value), "\u{0}"),
            "KIND" | "X-ADDRESSBOOKSERVER-KIND" => kind_org = value.eq_ignore_ascii_case("org"),
            "VERSION" => {
                record
                    .attrs
                    .insert("vcard_version".into(), Value::String(value.to_string()));
            }
            // A birthday without its year (`--0412`) is no date of birth.
            "BDAY" if !value.starts_with("--") => {
                apply(&mut record, "birth_date", &compact_date(value), "\u{0}");
            }
            "URL" => apply(&mut record, "websites", &unescape(value), "\u{0}"),
            "BDAY" | "NICKNAME" => {
                record
                    .attrs
                    .insert(property.name.to_lowercase(), Value::String(unescape(value)));
            }
            _ => {}
        }
    }
    if let Some(name) = formatted.or(structured) {
        record.names.push(name);
    }
    if kind_org || (record.names.is_empty() && record.company.is_some()) {
        record.kind = RecordKind::Organization;
        if record.names.is_empty()
            && let Some(company) = &record.company
        {
            record.names.push(company.clone());
        }
    }
    record.title = record.names.first().cloned();
    record.external_id = match uid {
        Some(uid) => uid,
        None => {
            record.flag("external_id", "no UID; keyed by file and line");
            format!("{}#{first}", cx.file.relative)
        }
    };
    record
}

/// Applies ENCODING=QUOTED-PRINTABLE / B (base64 is left alone: photos) and
/// CHARSET (2.1).
/// ADR's parts (PO box; extended; street; locality; region; code;
/// country) as the record's address: the PO box and extended part join the
/// street.
fn typed_address(record: &mut Record, parts: &[String]) {
    let street: Vec<&str> = parts
        .iter()
        .take(3)
        .map(|p| p.trim())
        .filter(|p| !p.is_empty())
        .collect();
    if !street.is_empty() {
        apply(record, "street", &street.join(", "), "\u{0}");
    }
    for (i, target) in [(3, "city"), (4, "region"), (5, "postcode")] {
        if let Some(part) = parts.get(i).filter(|p| !p.trim().is_empty()) {
            apply(record, target, part, "\u{0}");
        }
    }
}

fn decode_value(property: &Property) -> String {
    let param = |k: &str| {
        property
            .params
            .iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.to_ascii_uppercase())
    };
    let qp = param("ENCODING").is_some_and(|e| e == "QUOTED-PRINTABLE")
        || property
            .params
            .iter()
            .any(|(_, v)| v.eq_ignore_ascii_case("QUOTED-PRINTABLE"));
    if !qp {
        return property.value.clone();
    }
    let bytes = quoted_printable(&property.value);
    let charset = param("CHARSET").unwrap_or_else(|| "UTF-8".into());
    let encoding =
        encoding_rs::Encoding::for_label(charset.as_bytes()).unwrap_or(encoding_rs::UTF_8);
    encoding.decode_without_bom_handling(&bytes).0.into_owned()
}

fn quoted_printable(text: &str) -> Vec<u8> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'='
            && let Some(hex) = text.get(i + 1..i + 3)
            && let Ok(b) = u8::from_str_radix(hex, 16)
        {
            out.push(b);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    out
}

fn unescape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut chars = value.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('n') | Some('N') => out.push('\n'),
                Some(other) => out.push(other),
                None => {}
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Splits at `sep` not preceded by a backslash, then unescapes each part.
fn split_unescaped(value: &str, sep: char) -> Vec<String> {
    let mut parts = Vec::new();
    let mut current = String::new();
    let mut escaped = false;
    for c in value.chars() {
        if escaped {
            current.push('\\');
            current.push(c);
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if c == sep {
            parts.push(unescape(&current));
            current.clear();
        } else {
            current.push(c);
        }
    }
    parts.push(unescape(&current));
    parts
}

/// REV in vCard's basic format (`20240315T101500Z`) as RFC 3339.
fn compact_date(value: &str) -> String {
    let v = value.trim();
    if v.is_ascii() && v.len() >= 15 && v.as_bytes().get(8) == Some(&b'T') && !v.contains('-') {
        format!(
            "{}-{}-{}T{}:{}:{}Z",
            &v[0..4],
            &v[4..6],
            &v[6..8],
            &v[9..11],
            &v[11..13],
            &v[13..15]
        )
    } else {
        v.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn properties_with_groups_params_and_escapes() {
        let p = parse_property("item1.EMAIL;TYPE=\"work,pref\":a@b.co").unwrap();
        assert_eq!(p.name, "EMAIL");
        assert_eq!(p.value, "a@b.co");
        assert_eq!(
            split_unescaped("Acme\\, Inc.;Sales", ';'),
            vec!["Acme, Inc.", "Sales"]
        );
        assert_eq!(unescape("line\\nnext"), "line\nnext");
        assert_eq!(compact_date("20240315T101500Z"), "2024-03-15T10:15:00Z");
        // Full-width digits are not the basic format (and must not panic).
        assert_eq!(compact_date("２０２４0315T101500Z"), "２０２４0315T101500Z");
        assert_eq!(quoted_printable("=E7=94=B0=E4=B8=AD"), "田中".as_bytes());
    }
}
