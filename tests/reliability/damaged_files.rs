//! Damaged files lose only their damaged row, element, message or card, and
//! each loss is an error naming the file and the line.

use crate::common::{Workspace, errors_of as errors};

#[test]
fn a_broken_quote_or_a_deep_element_loses_only_itself() {
    let ws = Workspace::new();
    let csv = ws.path().join("in/csv");
    let json = ws.path().join("in/json");
    std::fs::create_dir_all(&csv).unwrap();
    std::fs::create_dir_all(&json).unwrap();
    let mut text = String::from("id,name,email,description\n");
    for row in 1..=1000 {
        if row == 500 {
            // The quote opened here never closes.
            text.push_str("R-500,\"Broken Quote,broken@example.com,x\n");
        } else if row == 700 {
            // A legitimate multi-line quoted field after it is still read.
            text.push_str("R-700,Multi Line,multi@example.com,\"first\nsecond\"\n");
        } else {
            text.push_str(&format!(
                "R-{row},Person {row},p{row}@example.com,row {row}\n"
            ));
        }
    }
    std::fs::write(csv.join("people.csv"), text).unwrap();

    let deep = format!("{}1{}", "[".repeat(5_000), "]".repeat(5_000));
    std::fs::write(
        json.join("tickets.json"),
        format!(
            "{{\"tickets\": [\n{{\"id\": \"T-1\", \"name\": \"First Good\"}},\n{{\"id\": \"T-2\", \"deep\": {deep}}},\n{{\"id\": \"T-3\", \"name\": \"Last Good\"}}\n]}}\n"
        ),
    )
    .unwrap();
    ws.write_config(&[
        ("csv", "generic-csv", "in/csv"),
        ("json", "generic-json", "in/json"),
    ]);
    let report = ws.ingest();

    let csv_errors = errors(&report, 0);
    assert_eq!(csv_errors.len(), 1, "{csv_errors:?}");
    let (file, line, reason) = &csv_errors[0];
    assert_eq!((file.as_str(), *line), ("people.csv", Some(501)));
    assert!(
        reason.contains("unbalanced quote") && reason.contains("resumes at line 502"),
        "{reason}"
    );
    assert_eq!(report["sources"][0]["inserted"], 999, "{report}");
    for (query, found) in [
        ("p499@example.com", true),
        ("broken@example.com", false),
        ("p501@example.com", true),
        ("multi@example.com", true),
        ("p1000@example.com", true),
    ] {
        assert_eq!(ws.search(query)["total"], u64::from(found), "{query}");
    }

    let json_errors = errors(&report, 1);
    assert_eq!(json_errors.len(), 1, "{json_errors:?}");
    let (file, line, reason) = &json_errors[0];
    assert_eq!((file.as_str(), *line), ("tickets.json", Some(3)));
    assert!(reason.contains("recursion limit"), "{reason}");
    assert_eq!(report["sources"][1]["inserted"], 2, "{report}");
}

#[test]
fn a_bad_message_or_random_bytes_among_cards_are_said_where_and_the_rest_kept() {
    let ws = Workspace::new();
    let mail = ws.path().join("in/mail");
    let cards = ws.path().join("in/vcf");
    std::fs::create_dir_all(&mail).unwrap();
    std::fs::create_dir_all(&cards).unwrap();
    let message = |from: &str, id: &str, extra: &str, body: &str| {
        format!(
            "From {from} Mon Jan  1 00:00:00 2024\nFrom: {from}\nSubject: message {id}\nMessage-ID: <{id}@example.com>\n{extra}\n{body}\n\n"
        )
    };
    let mbox = [
        message("alice@example.com", "m1", "", "hello one"),
        message(
            "bob@example.com",
            "m2",
            "MIME-Version: 1.0\nContent-Type: text/plain\nContent-Transfer-Encoding: base64\n",
            "!!!!not*base64@@@@ ==== %%%%",
        ),
        message("carol@example.com", "m3", "", "hello three"),
    ]
    .concat();
    std::fs::write(mail.join("box.mbox"), mbox).unwrap();

    // Random bytes (NULs included) between two cards.
    let mut vcf =
        b"BEGIN:VCARD\nVERSION:3.0\nFN:Card One\nEMAIL:one@example.com\nEND:VCARD\n".to_vec();
    let mut x: u32 = 12345;
    for _ in 0..3000 {
        x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
        vcf.push((x >> 16) as u8);
    }
    vcf.extend_from_slice(
        b"\nBEGIN:VCARD\nVERSION:3.0\nFN:Card Three\nEMAIL:three@example.com\nEND:VCARD\n",
    );
    std::fs::write(cards.join("cards.vcf"), vcf).unwrap();
    ws.write_config(&[("mail", "mbox", "in/mail"), ("vcf", "vcard", "in/vcf")]);
    let report = ws.ingest();

    assert_eq!(report["sources"][0]["inserted"], 3, "{report}");
    let mail_errors = errors(&report, 0);
    assert_eq!(mail_errors.len(), 1, "{mail_errors:?}");
    let (file, line, reason) = &mail_errors[0];
    assert_eq!((file.as_str(), *line), ("box.mbox", Some(8)));
    assert!(reason.contains("not valid base64"), "{reason}");

    assert_eq!(report["sources"][1]["inserted"], 2, "{report}");
    let card_errors = errors(&report, 1);
    assert!(!card_errors.is_empty());
    assert!(
        card_errors
            .iter()
            .all(|(file, line, _)| file == "cards.vcf" && line.is_some_and(|l| l >= 6)),
        "{card_errors:?}"
    );
    for email in ["one@example.com", "three@example.com"] {
        assert_eq!(ws.search(email)["total"], 1, "{email}");
    }
}
