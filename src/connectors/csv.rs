//! Reads CSV exports as tools really write them: quoted fields with commas and
//! newlines, a UTF-8 byte-order mark, `,` `;` tab or `|` delimiters. A bad row
//! (wrong number of fields, invalid UTF-8) becomes an error naming the file
//! and line, and reading goes on with the next row.
//!
//! It must never stop at a bad row, nor keep more than one row's raw bytes.

use std::io::{BufRead, BufReader};

use super::mapping::ColumnMap;
use super::{FileRead, IngestError, Manifest, SourceFile, unreadable};
use crate::record::Provenance;

const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

pub fn read(source: &str, manifest: &Manifest, file: &SourceFile) -> Result<FileRead, IngestError> {
    let handle = std::fs::File::open(&file.path).map_err(|e| unreadable(source, file, e))?;
    let mut input = BufReader::with_capacity(64 * 1024, handle);
    let head = input.fill_buf().map_err(|e| unreadable(source, file, e))?;
    let bom = head.starts_with(UTF8_BOM);
    let delimiter = match manifest.csv.delimiter.as_str() {
        "auto" => sniff_delimiter(if bom { &head[3..] } else { head }),
        d => d.as_bytes().first().copied().unwrap_or(b','),
    };
    if bom {
        input.consume(UTF8_BOM.len());
    }
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .from_reader(input);

    let error = |line: Option<u64>, reason: String| IngestError {
        source: source.to_string(),
        file: file.relative.clone(),
        line,
        reason,
    };
    let mut out = FileRead::default();
    let mut row = csv::ByteRecord::new();
    let mut header: Option<(Vec<String>, ColumnMap)> = None;
    loop {
        match reader.read_byte_record(&mut row) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                let line = e.position().map(|p| p.line());
                out.errors.push(error(line, format!("unreadable CSV: {e}")));
                if matches!(e.kind(), csv::ErrorKind::Io(_)) {
                    break;
                }
                continue;
            }
        }
        let line = row.position().map(|p| p.line());
        let Some((names, columns)) = &header else {
            let names = decode_row(&row, &[], |reason| out.errors.push(error(line, reason)));
            let columns = ColumnMap::new(manifest, &names);
            header = Some((names, columns));
            continue;
        };
        if row.len() != names.len() {
            out.errors.push(error(
                line,
                format!(
                    "row has {} fields but the header has {}; row skipped",
                    row.len(),
                    names.len()
                ),
            ));
            continue;
        }
        let values = decode_row(&row, names, |reason| out.errors.push(error(line, reason)));
        let provenance = Provenance {
            file: file.relative.clone(),
            line,
        };
        let fallback_id = format!("{}#{}", file.relative, line.unwrap_or(0));
        out.records
            .push(columns.record(manifest, source, &values, &fallback_id, provenance));
    }
    if header.is_none() {
        out.errors
            .push(error(None, "file is empty: no header row".into()));
    }
    Ok(out)
}

/// Decodes each field as UTF-8; a field that is not is kept with U+FFFD in
/// place of the bad bytes and reported through `report`.
fn decode_row(
    row: &csv::ByteRecord,
    names: &[String],
    mut report: impl FnMut(String),
) -> Vec<String> {
    row.iter()
        .enumerate()
        .map(|(i, bytes)| match std::str::from_utf8(bytes) {
            Ok(text) => text.to_string(),
            Err(e) => {
                let column = names.get(i).map(String::as_str).unwrap_or("?");
                report(format!(
                    "invalid UTF-8 in column {} (`{column}`) at byte {} of the field; bad bytes replaced with U+FFFD, row kept",
                    i + 1,
                    e.valid_up_to()
                ));
                String::from_utf8_lossy(bytes).into_owned()
            }
        })
        .collect()
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
}
