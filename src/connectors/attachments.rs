//! The text of an email's attachments, so that a message is found by what
//! its attachments say: text/plain and CSV as decoded by mail-parser (or as
//! UTF-8), HTML turned into text, PDF (pdf-extract), Word .docx and Excel
//! .xlsx (the text nodes of their XML parts, read from the zip with a bound
//! on every decompressed part). Every attachment's text is cut to
//! `PER_ATTACHMENT` bytes and the message's to `PER_MESSAGE`.
//!
//! It must never lose the email for an attachment: a damaged or unreadable
//! attachment (or one whose parser panics) is a warning naming it, and the
//! rest is read. It must never read more than `MAX_INPUT` bytes of an
//! attachment nor inflate more than `MAX_INFLATED` bytes of a zip part.

use std::io::Read;

use mail_parser::decoders::html::html_to_text;
use mail_parser::{MessagePart, MimeHeaders, PartType};

/// Most text kept from one attachment, in bytes.
pub const PER_ATTACHMENT: usize = 16 * 1024;
/// Most attachment text kept for one message, in bytes.
pub const PER_MESSAGE: usize = 48 * 1024;
/// Attachments larger than this are not parsed (their name is still kept).
const MAX_INPUT: usize = 8 * 1024 * 1024;
/// Most bytes inflated from one part of a .docx or .xlsx.
const MAX_INFLATED: u64 = 8 * 1024 * 1024;

/// What was read of one attachment.
pub enum Extracted {
    Text(String),
    /// A kind of file whose text is not read (images, archives, …).
    Skipped,
    /// The file is damaged or not what its type says: why.
    Damaged(String),
}

/// The text of one attachment part, by its MIME type and file name.
pub fn extract(part: &MessagePart) -> Extracted {
    let name = part.attachment_name().unwrap_or_default().to_lowercase();
    let mime = part
        .content_type()
        .map(|ct| match ct.subtype() {
            Some(sub) => format!("{}/{}", ct.ctype(), sub),
            None => ct.ctype().to_string(),
        })
        .unwrap_or_default()
        .to_ascii_lowercase();
    let bytes: &[u8] = match &part.body {
        PartType::Text(text) => return Extracted::Text(cut(text.trim(), PER_ATTACHMENT)),
        PartType::Html(html) => {
            return Extracted::Text(cut(html_to_text(html).trim(), PER_ATTACHMENT));
        }
        PartType::Binary(b) | PartType::InlineBinary(b) => b,
        PartType::Message(_) | PartType::Multipart(_) => return Extracted::Skipped,
    };
    if bytes.len() > MAX_INPUT {
        return Extracted::Damaged(format!(
            "larger than {MAX_INPUT} bytes; its text was not read"
        ));
    }
    let is = |ext: &str, types: &[&str]| name.ends_with(ext) || types.contains(&mime.as_str());
    let text = if is(".pdf", &["application/pdf"]) {
        pdf(bytes)
    } else if is(
        ".docx",
        &["application/vnd.openxmlformats-officedocument.wordprocessingml.document"],
    ) {
        office(bytes, |part| part == "word/document.xml")
    } else if is(
        ".xlsx",
        &["application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"],
    ) {
        office(bytes, |part| {
            part == "xl/sharedStrings.xml"
                || (part.starts_with("xl/worksheets/") && part.ends_with(".xml"))
        })
    } else if is(
        ".csv",
        &["text/csv", "text/plain", "text/tab-separated-values"],
    ) || name.ends_with(".txt")
        || name.ends_with(".tsv")
    {
        match std::str::from_utf8(bytes) {
            Ok(text) => Ok(text.to_string()),
            Err(_) => Err(Unreadable::NotUtf8),
        }
    } else if is(".html", &["text/html"]) || name.ends_with(".htm") {
        Ok(html_to_text(&String::from_utf8_lossy(bytes)))
    } else {
        return Extracted::Skipped;
    };
    match text {
        Ok(text) => Extracted::Text(cut(text.trim(), PER_ATTACHMENT)),
        Err(why) => Extracted::Damaged(why.to_string()),
    }
}

/// Why an attachment's text could not be read (its `Damaged` reason).
#[derive(Debug, thiserror::Error)]
enum Unreadable {
    #[error("not UTF-8 text")]
    NotUtf8,
    #[error("not a readable PDF: {0}")]
    Pdf(String),
    #[error("not a readable PDF (its parser gave up)")]
    PdfParserGaveUp,
    #[error("not a readable Office file: {0}")]
    Office(String),
    #[error("not a readable Office file: its text part is missing")]
    OfficeWithoutText,
    #[error("not a readable Office file ({0}): {1}")]
    OfficePart(String, String),
    #[error("damaged XML in {0}: {1}")]
    Xml(String, String),
}

/// The text of a PDF. pdf-extract panics on some damaged files; a panic is
/// caught and reported like any other failure.
fn pdf(bytes: &[u8]) -> Result<String, Unreadable> {
    let outcome = std::panic::catch_unwind(|| pdf_extract::extract_text_from_mem(bytes));
    match outcome {
        Ok(Ok(text)) => Ok(text),
        Ok(Err(e)) => Err(Unreadable::Pdf(e.to_string())),
        Err(_) => Err(Unreadable::PdfParserGaveUp),
    }
}

/// The text nodes of the zip parts `wanted` picks (Office Open XML), a
/// paragraph (`w:p`), row (`row`) or shared string (`si`) per line.
fn office(bytes: &[u8], wanted: impl Fn(&str) -> bool) -> Result<String, Unreadable> {
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes))
        .map_err(|e| Unreadable::Office(e.to_string()))?;
    let mut names: Vec<String> = zip
        .file_names()
        .filter_map(|n| n.ok())
        .filter(|n| wanted(n))
        .map(|n| n.to_string())
        .collect();
    if names.is_empty() {
        return Err(Unreadable::OfficeWithoutText);
    }
    names.sort();
    let mut out = String::new();
    for name in names {
        let mut xml = Vec::new();
        zip.by_name(&name)
            .map_err(|e| Unreadable::Office(e.to_string()))?
            .take(MAX_INFLATED)
            .read_to_end(&mut xml)
            .map_err(|e| Unreadable::OfficePart(name.clone(), e.to_string()))?;
        xml_text(&xml, &mut out).map_err(|e| Unreadable::Xml(name.clone(), e.to_string()))?;
        if out.len() > PER_ATTACHMENT {
            break;
        }
    }
    Ok(out)
}

/// Appends the text of `xml`'s `t` elements (any prefix: `w:t`, `t`) and a
/// line break at the end of each paragraph, row or shared string.
fn xml_text(xml: &[u8], out: &mut String) -> Result<(), quick_xml::Error> {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_reader(xml);
    let mut in_text = false;
    let mut buf = Vec::new();
    loop {
        match reader.read_event_into(&mut buf)? {
            Event::Start(e) => in_text = e.local_name().as_ref() == b"t",
            Event::End(e) => {
                let local = e.local_name();
                if local.as_ref() == b"t" {
                    in_text = false;
                } else if matches!(local.as_ref(), b"p" | b"row" | b"si") {
                    out.push('\n');
                } else if local.as_ref() == b"c" {
                    out.push(' ');
                }
            }
            Event::Text(t) if in_text => {
                let text = t.decode().map_err(quick_xml::Error::from)?;
                out.push_str(&text);
            }
            Event::GeneralRef(r) if in_text => {
                if let Ok(Some(c)) = r.resolve_char_ref() {
                    out.push(c);
                } else {
                    let name = r.decode().map_err(quick_xml::Error::from)?;
                    out.push_str(match name.as_ref() {
                        "amp" => "&",
                        "lt" => "<",
                        "gt" => ">",
                        "quot" => "\"",
                        "apos" => "'",
                        _ => "",
                    });
                }
            }
            Event::Eof => return Ok(()),
            _ => {}
        }
        buf.clear();
        if out.len() > PER_ATTACHMENT {
            return Ok(());
        }
    }
}

/// `text` cut to at most `max` bytes at a character boundary.
pub fn cut(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_string();
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_string()
}
