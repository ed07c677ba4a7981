//! Email attachments (issue 18): file names encoded as mail clients write
//! them (RFC 2231 `filename*=UTF-8''…`, RFC 2047 words, Japanese) and the
//! text of CSV, PDF, Word, Excel and HTML attachments are found with the
//! email; damaged attachments are warnings and the email is kept. First
//! what the eml connector reads, then search through the real binary.

use crate::common;

use common::{Workspace, connector_fixtures, copy_dir, hit_ids, read_folder, record_by_id};

#[test]
fn attachment_names_and_text_are_read_and_damaged_ones_are_warnings() {
    let read = read_folder("eml", &connector_fixtures("eml-attachments"));
    let quotation = record_by_id(&read.records, "att-1@ourco.example");
    let names = quotation.attrs["attachments"].as_str().unwrap();
    for name in [
        "見積書.csv",
        "請求書.pdf",
        "visit-report.docx",
        "parts.xlsx",
        "visit.html",
        "logo.png",
    ] {
        assert!(names.contains(name), "{name} in {names}");
    }
    let text = quotation.attrs["attachment_text"].as_str().unwrap();
    for words in [
        "TM-200 telescope mount",                    // CSV
        "Quarterly planisphere invoice",             // PDF
        "orrery gearbox needs a new bearing & seal", // Word, with an entity
        "collimator lens",                           // Excel shared strings
        "inline heliostat",                          // Excel inline string
        "spectrograph",                              // HTML
    ] {
        assert!(text.contains(words), "{words} in {text}");
    }
    assert!(text.len() <= 48 * 1024);
    assert!(
        quotation
            .body
            .as_deref()
            .unwrap()
            .contains("quotation, invoice")
    );
    // Only the damaged message's attachments are warnings; its email stays.
    let damaged = record_by_id(&read.records, "att-2@ourco.example");
    assert!(damaged.body.as_deref().unwrap().contains("astrolabe"));
    assert!(damaged.attrs.get("attachment_text").is_none());
    let warnings: Vec<String> = read.errors.iter().map(|e| e.to_string()).collect();
    for name in ["scan.pdf", "notes.docx", "broken.xlsx"] {
        assert!(
            warnings
                .iter()
                .any(|w| w.contains(name) && w.contains("damaged.eml")),
            "{name} in {warnings:?}"
        );
    }
    assert_eq!(warnings.len(), 3, "{warnings:?}");
}

#[test]
fn an_email_is_found_by_its_attachments_names_and_text() {
    let ws = Workspace::new();
    copy_dir(
        &connector_fixtures("eml-attachments"),
        &ws.path().join("mail"),
    );
    ws.write_config(&[("mail", "eml", "mail")]);
    let report = ws.ingest();
    assert_eq!(report["sources"][0]["inserted"], 2, "{report}");
    for query in [
        "見積書",
        "請求書",
        "planisphere",
        "orrery",
        "collimator",
        "heliostat",
        "visit-report.docx",
    ] {
        let found = ws.search(query);
        assert_eq!(
            hit_ids(&found),
            ["mail:att-1@ourco.example"],
            "{query} → {found}"
        );
    }
    assert_eq!(
        hit_ids(&ws.search("astrolabe")),
        ["mail:att-2@ourco.example"]
    );
}
