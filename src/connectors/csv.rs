//! Reads CSV exports as tools really write them: quoted fields with commas and
//! newlines, a UTF-8 byte-order mark, `,` `;` tab or `|` delimiters, and
//! Japanese Excel exports in Shift_JIS/CP932 (declared in the manifest, or
//! detected when the start of the file is not UTF-8 but is valid Shift_JIS).
//! A bad row (wrong number of fields, undecodable bytes) becomes an error
//! naming the file and line, and reading goes on with the next row. A quote
//! that never closes (the row then runs over the rows after it) is an error
//! at the row's first line, and reading resumes at the line after it.
//!
//! It must never stop at a bad row, nor keep more than one row's raw bytes.

use std::io::{BufRead, BufReader};

use encoding_rs::{Encoding, SHIFT_JIS, UTF_8};

use super::mapping::ColumnMap;
use super::{ReadContext, ReadError, RecordSink};
use crate::record::Provenance;

const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

pub fn read(cx: &ReadContext, sink: &mut dyn RecordSink) -> Result<(), ReadError> {
    let handle = std::fs::File::open(&cx.file.path).map_err(|e| cx.unreadable(e))?;
    let mut input = BufReader::with_capacity(256 * 1024, handle);
    let capacity = input.capacity();
    let head = input.fill_buf().map_err(|e| cx.unreadable(e))?;
    let bom = head.starts_with(UTF8_BOM);
    let body = if bom { &head[3..] } else { head };
    let delimiter = match cx.manifest.csv.delimiter.as_str() {
        "auto" => sniff_delimiter(body),
        d => d.as_bytes().first().copied().unwrap_or(b','),
    };
    let encoding = match cx.manifest.csv.encoding.as_str() {
        _ if bom => UTF_8,
        "auto" => sniff_encoding(body, head.len() < capacity),
        label => Encoding::for_label(label.as_bytes()).unwrap_or(UTF_8),
    };
    if encoding != UTF_8 {
        tracing::debug!(file = %cx.file.relative, encoding = encoding.name(), "reading CSV as a legacy encoding");
    }
    if bom {
        input.consume(UTF8_BOM.len());
    }
    let builder = {
        let mut b = csv::ReaderBuilder::new();
        b.delimiter(delimiter).has_headers(false).flexible(true);
        b
    };
    let mut reader = builder.from_reader(input);
    // Where the current reader starts: its byte offset in the file and the
    // number of file lines before it (a reader restarts after a row whose
    // quote never closes).
    let mut base = Base {
        byte: if bom { UTF8_BOM.len() as u64 } else { 0 },
        lines: 0,
    };

    let separator = cx.manifest.csv.list_separator.as_str();
    let mut row = csv::ByteRecord::new();
    let mut header: Option<(Vec<String>, ColumnMap)> = None;
    loop {
        match reader.read_byte_record(&mut row) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                let line = e.position().map(|p| base.lines + p.line());
                sink.error(cx.error(line, format!("unreadable CSV: {e}")));
                if matches!(e.kind(), csv::ErrorKind::Io(_)) {
                    break;
                }
                continue;
            }
        }
        let start = row.position().cloned();
        let line = start.as_ref().map(|p| base.lines + p.line());
        let Some((names, columns)) = &header else {
            let names = decode_row(&row, &[], encoding, |reason| {
                sink.error(cx.error(line, reason))
            });
            let columns = ColumnMap::new(cx.mapping, &names);
            header = Some((names, columns));
            continue;
        };
        if row.len() != names.len() {
            let spanned = start
                .as_ref()
                .map(|p| reader.position().line().saturating_sub(p.line()))
                .unwrap_or(1);
            if spanned > 1
                && let Some(start) = &start
            {
                // A quote that never closes swallows the rows after it:
                // skip this row's first line and read on from the next.
                let first = base.lines + start.line();
                sink.error(cx.error(
                    Some(first),
                    format!(
                        "unbalanced quote: the row starting here runs over {spanned} lines and has {} fields but the header has {}; row skipped, reading resumes at line {}",
                        row.len(),
                        names.len(),
                        first + 1
                    ),
                ));
                base = after_line(cx, base.byte + start.byte(), first)?;
                let mut input = std::fs::File::open(&cx.file.path).map_err(|e| cx.unreadable(e))?;
                std::io::Seek::seek(&mut input, std::io::SeekFrom::Start(base.byte))
                    .map_err(|e| cx.unreadable(e))?;
                reader = builder.from_reader(BufReader::with_capacity(256 * 1024, input));
                continue;
            }
            sink.error(cx.error(
                line,
                format!(
                    "row has {} fields but the header has {}; row skipped",
                    row.len(),
                    names.len()
                ),
            ));
            continue;
        }
        let values = decode_row(&row, names, encoding, |reason| {
            sink.error(cx.error(line, reason))
        });
        let provenance = Provenance {
            file: cx.file.relative.clone(),
            line,
        };
        let fallback_id = format!("{}#{}", cx.file.relative, line.unwrap_or(0));
        let mut record = columns.record(
            cx.mapping,
            separator,
            cx.source,
            &values,
            &fallback_id,
            provenance,
        );
        let ids = &cx.manifest.ids;
        let scope = cx
            .mapping
            .scope_ids
            .then(|| {
                ids.scope_of(&cx.file.relative, |header| {
                    let i = names
                        .iter()
                        .position(|n| n.trim().eq_ignore_ascii_case(header))?;
                    values.get(i).cloned()
                })
            })
            .flatten();
        super::ids::finish(&mut record, ids, scope.as_deref());
        sink.record(record)?;
    }
    if header.is_none() {
        sink.error(cx.error(None, "file is empty: no header row"));
    }
    Ok(())
}

/// Where a CSV reader starts in the file.
struct Base {
    byte: u64,
    /// File lines before `byte`.
    lines: u64,
}

/// The start of the line after the one holding byte `at` (line `line`),
/// found by reading forward without keeping the bytes.
fn after_line(cx: &ReadContext, at: u64, line: u64) -> Result<Base, ReadError> {
    let mut input = std::fs::File::open(&cx.file.path).map_err(|e| cx.unreadable(e))?;
    std::io::Seek::seek(&mut input, std::io::SeekFrom::Start(at)).map_err(|e| cx.unreadable(e))?;
    let mut input = BufReader::new(input);
    let mut byte = at;
    loop {
        let chunk = input.fill_buf().map_err(|e| cx.unreadable(e))?;
        if chunk.is_empty() {
            break;
        }
        if let Some(i) = chunk.iter().position(|b| *b == b'\n') {
            byte += i as u64 + 1;
            break;
        }
        let n = chunk.len();
        byte += n as u64;
        input.consume(n);
    }
    Ok(Base { byte, lines: line })
}

/// Decodes each field; a field with bytes the encoding does not allow is
/// kept with U+FFFD in their place and reported through `report`.
fn decode_row(
    row: &csv::ByteRecord,
    names: &[String],
    encoding: &'static Encoding,
    mut report: impl FnMut(String),
) -> Vec<String> {
    row.iter()
        .enumerate()
        .map(|(i, bytes)| {
            let column = names.get(i).map(String::as_str).unwrap_or("?");
            if encoding == UTF_8 {
                match std::str::from_utf8(bytes) {
                    Ok(text) => text.to_string(),
                    Err(e) => {
                        report(format!(
                            "invalid UTF-8 in column {} (`{column}`) at byte {} of the field; bad bytes replaced with U+FFFD, row kept",
                            i + 1,
                            e.valid_up_to()
                        ));
                        String::from_utf8_lossy(bytes).into_owned()
                    }
                }
            } else {
                let (text, had_errors) = encoding.decode_without_bom_handling(bytes);
                if had_errors {
                    report(format!(
                        "bytes that are not {} in column {} (`{column}`); replaced with U+FFFD, row kept",
                        encoding.name(),
                        i + 1
                    ));
                }
                text.into_owned()
            }
        })
        .collect()
}

/// UTF-8 unless the sample is not UTF-8 and decodes as Shift_JIS (CP932)
/// without error. `complete` says the sample is the whole file; otherwise a
/// character cut at its end is forgiven.
fn sniff_encoding(sample: &[u8], complete: bool) -> &'static Encoding {
    let utf8_ok = match std::str::from_utf8(sample) {
        Ok(_) => true,
        Err(e) => !complete && e.error_len().is_none(),
    };
    if utf8_ok {
        return UTF_8;
    }
    // Cut the sample at its last newline so a split character does not count.
    let cut = if complete {
        sample
    } else {
        let end = sample
            .iter()
            .rposition(|b| *b == b'\n')
            .unwrap_or(sample.len());
        &sample[..end]
    };
    let (_, had_errors) = SHIFT_JIS.decode_without_bom_handling(cut);
    if had_errors { UTF_8 } else { SHIFT_JIS }
}

/// Picks the delimiter that occurs most in the first line, outside quotes.
fn sniff_delimiter(head: &[u8]) -> u8 {
    let line = head.split(|b| *b == b'\n').next().unwrap_or(head);
    let mut counts = [0usize; 4];
    let candidates = [b',', b';', b'\t', b'|'];
    let mut quoted = false;
    for byte in line {
        if *byte == b'"' {
            quoted = !quoted;
        } else if !quoted && let Some(i) = candidates.iter().position(|c| c == byte) {
            counts[i] += 1;
        }
    }
    let best = (0..4)
        .max_by_key(|i| (counts[*i], usize::MAX - i))
        .unwrap_or(0);
    if counts[best] == 0 {
        b','
    } else {
        candidates[best]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_common_delimiters() {
        assert_eq!(sniff_delimiter(b"a,b,c\n1,2,3"), b',');
        assert_eq!(sniff_delimiter(b"a;b;c\n"), b';');
        assert_eq!(sniff_delimiter(b"a\tb\tc"), b'\t');
        assert_eq!(sniff_delimiter(b"\"x;y\",b,c"), b',');
        assert_eq!(sniff_delimiter(b"single"), b',');
    }

    #[test]
    fn sniffs_shift_jis_but_not_utf8_or_latin1_garbage() {
        let (sjis, _, _) = SHIFT_JIS.encode("会社名,担当者\n株式会社日東精機,田中\n");
        assert_eq!(sniff_encoding(&sjis, true), SHIFT_JIS);
        assert_eq!(sniff_encoding("会社名,担当者\n".as_bytes(), true), UTF_8);
        // A UTF-8 character cut at the end of a partial sample is still UTF-8.
        let text = "名前\n田中".as_bytes();
        assert_eq!(sniff_encoding(&text[..text.len() - 1], false), UTF_8);
    }
}
