//! Each connector against fixtures in its real format
//! (tests/fixtures/connectors, see the README there): the records, fields,
//! links and errors the library reads from them, before any store or index.

use std::path::PathBuf;

use crate::common;

use common::{link, read_folder as read, record_by_id as get};
use rapport::record::{Link, RecordKind};

fn fixtures(name: &str) -> PathBuf {
    common::connector_fixtures(name)
}

#[test]
fn salesforce_export_maps_every_object_with_its_references() {
    let read = read("salesforce-export", &fixtures("salesforce"));
    assert!(read.errors.is_empty(), "{:?}", read.errors);
    assert_eq!(read.records.len(), 12);
    let kinds = |kind| read.records.iter().filter(|r| r.kind == kind).count();
    assert_eq!(kinds(RecordKind::Organization), 3);
    assert_eq!(kinds(RecordKind::Person), 3);
    for kind in [
        RecordKind::Opportunity,
        RecordKind::Case,
        RecordKind::Task,
        RecordKind::Event,
        RecordKind::Note,
        RecordKind::Email,
    ] {
        assert_eq!(kinds(kind), 1, "{kind:?}");
    }
    let jon = get(&read.records, "0035g00000JonSmAAB");
    assert_eq!(jon.names, vec!["Jon Smith"]);
    assert_eq!(jon.emails, vec!["jon.smith@acmerobotics.example"]);
    assert_eq!(jon.country.as_deref(), Some("US"));
    assert!(
        jon.body.as_deref().unwrap().contains("\"Fleet\" plan"),
        "quoted newline kept"
    );
    assert_eq!(jon.links, vec![link("account", "0015g00000AcmeRAAR")]);
    let tanaka = get(&read.records, "0035g00000TanakAAB");
    assert_eq!(tanaka.names, vec!["田中 恵子"]);
    // Readers keep phones as written; ingest parses them with the region.
    assert_eq!(tanaka.phones, vec!["03-1234-5679"]);
    let mut finished = tanaka.clone();
    rapport::normalize::finish_record(&mut finished, Some("JP"));
    assert_eq!(finished.phones, vec!["+81312345679"]);
    let lead = get(&read.records, "00Q5g00000LeadAAAA");
    assert_eq!(lead.company.as_deref(), Some("Brightwater Analytics"));
    let gmbh = get(&read.records, "0015g00000AcmeEUAR");
    assert_eq!(gmbh.links, vec![link("parent", "0015g00000AcmeRAAR")]);
    let task = get(&read.records, "00T5g00000TaskAAAA");
    assert!(task.links.contains(&link("who", "0035g00000JonSmAAB")));
    assert!(task.links.contains(&link("what", "0065g00000OppAcAAA")));
    let note = get(&read.records, "0025g00000NoteAAAA");
    assert_eq!(note.links, vec![link("parent", "0015g00000AcmeRAAR")]);
    assert!(note.body.as_deref().unwrap().contains("indemnity"));
    let opp = get(&read.records, "0065g00000OppAcAAA");
    assert_eq!(opp.amount, Some(480000.0));
    assert_eq!(opp.stage.as_deref(), Some("Negotiation/Review"));
    let mail = get(&read.records, "02s5g00000MailAAAA");
    for expected in [
        link("parent", "5005g00000CaseAAAA"),
        link("what", "0015g00000AcmeRAAR"),
        link("from", "support@rapport-vendor.example"),
        link("to", "jon.smith@acmerobotics.example"),
        link("to", "ops@acmerobotics.example"),
        link("cc", "k.tanaka@nitto-seiki.example.jp"),
    ] {
        assert!(
            mail.links.contains(&expected),
            "{expected:?} in {:?}",
            mail.links
        );
    }
    // Columns no field names stay as attributes.
    assert_eq!(
        get(&read.records, "0015g00000AcmeRAAR").attrs["industry"],
        "Machinery"
    );
}

#[test]
fn hubspot_contacts_and_companies_keep_their_id_spaces_apart() {
    let read = read("hubspot-export", &fixtures("hubspot"));
    assert!(read.errors.is_empty(), "{:?}", read.errors);
    assert_eq!(read.records.len(), 5);
    let maria = get(&read.records, "contact-51");
    assert_eq!(maria.kind, RecordKind::Person);
    assert_eq!(maria.names, vec!["Maria Gonzalez"]);
    assert_eq!(maria.company.as_deref(), Some("Cedar Peak Outfitters"));
    assert_eq!(maria.links, vec![link("account", "company-9001")]);
    assert_eq!(maria.stage.as_deref(), Some("customer"));
    assert!(get(&read.records, "contact-53").links.is_empty());
    let cedar = get(&read.records, "company-9001");
    assert_eq!(cedar.kind, RecordKind::Organization);
    assert_eq!(cedar.amount, Some(3_200_000.0));
    assert_eq!(
        get(&read.records, "company-9002").country.as_deref(),
        Some("JP")
    );
}

#[test]
fn zendesk_tickets_from_ndjson_and_the_array_form() {
    let read = read("zendesk-export", &fixtures("zendesk"));
    assert_eq!(read.records.len(), 4, "{:?}", read.records);
    // The broken line is reported with its line number; the next line is read.
    assert_eq!(read.errors.len(), 1, "{:?}", read.errors);
    assert_eq!(read.errors[0].file, "tickets-export.json");
    assert_eq!(read.errors[0].line, Some(2));
    assert!(read.errors[0].reason.contains("malformed JSON"));
    let t = get(&read.records, "1201");
    assert_eq!(t.kind, RecordKind::Ticket);
    assert_eq!(
        t.title.as_deref(),
        Some("Gripper calibration drifts overnight")
    );
    assert!(
        t.body
            .as_deref()
            .unwrap()
            .contains("patched firmware ships Friday")
    );
    assert_eq!(t.tags, vec!["firmware", "line-3", "vip"]);
    assert_eq!(t.stage.as_deref(), Some("open"));
    assert!(t.links.contains(&link("requester", "user-361001")));
    assert!(t.links.contains(&link("organization", "organization-5501")));
    assert!(t.links.contains(&link("who", "user-77")), "{:?}", t.links);
    assert_eq!(t.emails, vec!["jon.smith@acmerobotics.example"]);
    assert_eq!(get(&read.records, "1202").tags, vec!["billing", "請求"]);
    // The API form: {"tickets": [...]} with nested requester and organization.
    let api = get(&read.records, "1301");
    assert_eq!(api.names, vec!["Maria Gonzalez"]);
    assert_eq!(api.company.as_deref(), Some("Cedar Peak Outfitters"));
    assert!(api.links.contains(&link("requester", "user-361003")));
    assert!(
        api.links
            .contains(&link("organization", "organization-5503"))
    );
    assert!(
        get(&read.records, "1302")
            .links
            .iter()
            .all(|l| l.rel != "organization")
    );
}

#[test]
fn zendesk_full_export_reads_users_agents_and_organizations() {
    let read = read("zendesk-export", &fixtures("zendesk-full"));
    assert!(read.errors.is_empty(), "{:?}", read.errors);
    assert_eq!(read.records.len(), 9, "{:?}", read.records);
    let acme = get(&read.records, "organization-5501");
    assert_eq!(acme.kind, RecordKind::Organization);
    assert_eq!(acme.names, vec!["Acme Robotics"]);
    assert_eq!(
        acme.websites,
        vec!["acmerobotics.example", "acme-robots.example"]
    );
    let jon = get(&read.records, "user-361001");
    assert_eq!(jon.kind, RecordKind::Person);
    assert_eq!(jon.emails, vec!["jon.smith@acmerobotics.example"]);
    assert_eq!(jon.phones, vec!["+1 415 555 0191"]);
    assert_eq!(jon.links, vec![link("organization", "organization-5501")]);
    assert_eq!(jon.attrs["external_id"], "PER-001");
    assert!(!rapport::resolve::is_staff(jon));
    let agent = get(&read.records, "user-77");
    assert_eq!(agent.attrs["role"], "agent");
    assert!(rapport::resolve::is_staff(agent));
    assert!(rapport::resolve::is_staff(get(&read.records, "user-78")));
    let ticket = get(&read.records, "1201");
    assert_eq!(ticket.kind, RecordKind::Ticket);
    assert_eq!(ticket.owner.as_deref(), Some("user-77"));
    for l in [
        link("requester", "user-361001"),
        link("contact", "user-361001"),
        link("organization", "organization-5501"),
        link("who", "user-77"),
    ] {
        assert!(
            ticket.links.contains(&l),
            "{l:?} missing: {:?}",
            ticket.links
        );
    }

    // Resolved: tickets land on the requester's organisation, the agents
    // are no customers, and the assignee shows by name.
    let resolution = rapport::resolve::resolve(
        &read.records,
        &rapport::resolve::Settings::default(),
        &rapport::resolve::Overrides::default(),
    );
    let a = |id: &str| resolution.assignments.get(&format!("src:{id}")).cloned();
    let acme_id = a("organization-5501").and_then(|x| x.customer_id);
    assert!(acme_id.is_some());
    assert_eq!(a("1201").and_then(|x| x.customer_id), acme_id);
    assert_eq!(
        a("1201").and_then(|x| x.owner).as_deref(),
        Some("Keiko Tanaka")
    );
    assert_eq!(
        a("1202").and_then(|x| x.customer_id),
        a("organization-5502").and_then(|x| x.customer_id),
        "through the requester's organization_id"
    );
    assert!(a("user-77").is_none(), "an agent is no customer");
    assert!(
        resolution.unattached.iter().any(|u| u.record == "src:1203"),
        "the agent-only ticket concerns no customer: {:?}",
        resolution.unattached
    );
}

#[test]
fn a_truncated_users_file_keeps_what_was_read_and_says_where() {
    let read = read("zendesk-export", &fixtures("zendesk-truncated"));
    let ids: Vec<&str> = read
        .records
        .iter()
        .map(|r| r.external_id.as_str())
        .collect();
    assert_eq!(ids, vec!["user-361001", "user-361002"]);
    assert_eq!(read.errors.len(), 1, "{:?}", read.errors);
    let e = &read.errors[0];
    assert_eq!(e.file, "users.json");
    assert!(e.line.is_some_and(|l| l >= 4), "{e:?}");
    assert!(e.reason.contains("malformed JSON"), "{e:?}");
}

#[test]
fn notes_in_legacy_encodings_are_decoded_and_say_which() {
    let read = read("notes", &fixtures("notes-encodings"));
    assert!(read.errors.is_empty(), "{:?}", read.errors);
    for (file, encoding, title, in_body) in [
        (
            "shodan-memo-sjis.txt",
            "Shift_JIS",
            "日東精機 商談メモ",
            "㈱日東精機の山田部長",
        ),
        (
            "kansai-eucjp.txt",
            "EUC-JP",
            "関西フーズ 請求書の件",
            "経理の小林さん",
        ),
        (
            "weekly-utf16.txt",
            "UTF-16LE",
            "Nitto Seiki weekly sync / 週次定例",
            "山田部長",
        ),
        (
            "mueller-latin1.txt",
            "windows-1252",
            "Besuch bei Müller & Jäger GmbH",
            "Straße in Köln",
        ),
    ] {
        let note = get(&read.records, file);
        assert_eq!(note.attrs["encoding"], encoding, "{file}");
        assert_eq!(note.title.as_deref(), Some(title), "{file}");
        let body = note.body.as_deref().unwrap_or_default();
        assert!(body.contains(in_body), "{file}: {body}");
        assert!(!body.contains('\u{FFFD}'), "{file}: {body}");
    }
    let memo = get(&read.records, "shodan-memo-sjis.txt");
    assert_eq!(memo.customer_ref.as_deref(), Some("ORG-002"));
    assert_eq!(memo.owner.as_deref(), Some("鈴木 一郎"));
}

#[test]
fn mbox_messages_are_decoded_threaded_and_placed() {
    let read = read("mbox", &fixtures("mbox"));
    assert_eq!(read.records.len(), 5);
    let first = get(&read.records, "CAF000@acmerobotics.example");
    assert_eq!(first.kind, RecordKind::Email);
    assert!(
        first
            .body
            .as_deref()
            .unwrap()
            .contains("every night — the service visit invoice"),
        "{:?}",
        first.body
    );
    assert!(
        first.body.as_deref().unwrap().contains("\nFrom the logs"),
        "mboxrd unquoted"
    );
    assert_eq!(
        first.links[0],
        Link {
            rel: "from".into(),
            target: "jon.smith@acmerobotics.example".into(),
            name: Some("Jon Smith".into())
        }
    );
    assert!(
        first
            .links
            .contains(&link("cc", "ops@acmerobotics.example"))
    );
    assert_eq!(first.provenance.line, Some(1));
    let reply = get(&read.records, "CAF123@rapport-vendor.example");
    assert!(
        reply
            .links
            .contains(&link("thread", "CAF000@acmerobotics.example"))
    );
    assert!(
        reply
            .body
            .as_deref()
            .unwrap()
            .contains("patched firmware ships Friday")
    );
    let japanese = get(&read.records, "20240510100000.ABCD@nitto-seiki.example.jp");
    assert_eq!(japanese.title.as_deref(), Some("請求書の再発行について"));
    assert!(
        japanese
            .body
            .as_deref()
            .unwrap()
            .contains("4月分の請求書を再発行"),
        "{:?}",
        japanese.body
    );
    assert_eq!(japanese.names, vec!["田中 恵子"]);
    assert_eq!(japanese.attrs["attachments"], "請求書_4月.pdf");
    let html = get(&read.records, "evt-20240513@minato-denshi.example.jp");
    assert_eq!(html.title.as_deref(), Some("展示会のご案内（大阪）"));
    let body = html.body.as_deref().unwrap();
    assert!(
        body.contains("ブース番号") && body.contains("Warehouse robotics demo"),
        "{body}"
    );
    assert!(
        !body.contains("<b>") && !body.contains("color:red"),
        "{body}"
    );
    // The cut-off message is kept and reported with its line and byte offset.
    assert!(
        get(&read.records, "bw-77@brightwater.example")
            .body
            .is_some()
    );
    // The ISO-2022-JP message's "PDF" is a stub (`%PDF-1.4 fake invoice`):
    // a warning at its message, and the message kept (checked above).
    assert_eq!(read.errors.len(), 2, "{:?}", read.errors);
    assert_eq!(read.errors[0].line, Some(45), "{:?}", read.errors);
    assert!(read.errors[0].reason.contains("could not be read"));
    let error = &read.errors[1];
    assert_eq!(error.line, Some(85));
    let offset = std::fs::read(fixtures("mbox/support.mbox")).unwrap();
    let at = error.offset.unwrap() as usize;
    assert!(
        offset[at..].starts_with(b"From grace@brightwater.example"),
        "{error:?}"
    );
    assert!(error.reason.contains("truncated message"), "{error:?}");
}

#[test]
fn eml_files_are_one_message_each() {
    let read = read("eml", &fixtures("eml"));
    // seikyusho.eml's PDF attachment is a stub: one warning, the email kept.
    assert_eq!(read.errors.len(), 1, "{:?}", read.errors);
    assert!(read.errors[0].reason.contains("請求書_4月.pdf"));
    assert_eq!(read.records.len(), 3);
    let crlf = get(&read.records, "20240510100000.ABCD@nitto-seiki.example.jp");
    assert_eq!(crlf.title.as_deref(), Some("請求書の再発行について"));
    let no_id = get(&read.records, "no-message-id.eml");
    assert!(no_id.quality.iter().any(|q| q.field == "external_id"));
    assert_eq!(
        no_id.created.unwrap().to_rfc3339(),
        "2024-05-15T12:00:00+00:00"
    );
}

#[test]
fn vcards_3_and_4_several_per_file() {
    let read = read("vcard", &fixtures("vcard"));
    assert_eq!(read.records.len(), 5);
    let jon = get(&read.records, "5A9F6C1E-0B7D-4F4B-9E0C-1D2F3A4B5C6D");
    assert_eq!(jon.names, vec!["Jon Smith"]);
    assert_eq!(jon.emails, vec!["jon.smith@acmerobotics.example"]);
    let mut finished = jon.clone();
    rapport::normalize::finish_record(&mut finished, None);
    assert_eq!(finished.phones, vec!["+14155550101"]);
    assert_eq!(
        jon.company.as_deref(),
        Some("Acme Robotics Inc. Operations")
    );
    assert_eq!(jon.country.as_deref(), Some("US"));
    assert_eq!(jon.tags, vec!["customer", "robotics"]);
    assert_eq!(
        jon.body.as_deref(),
        Some("Met at ProMat 2024, interested in the fleet plan.\nCall before noon.")
    );
    let tanaka = get(&read.records, "0c2d8a1e-7f21-4b3c-9f0a-2e5b6c7d8e9f");
    assert!(
        tanaka
            .body
            .as_deref()
            .unwrap()
            .ends_with("折り返されて次の行に続きます。"),
        "folded line"
    );
    let grace = get(&read.records, "4fbe8971-0bc3-424c-9c26-36c3e1eff6b1");
    let mut finished = grace.clone();
    rapport::normalize::finish_record(&mut finished, None);
    assert_eq!(finished.phones, vec!["+441134960000"]);
    assert_eq!(grace.country.as_deref(), Some("GB"));
    let org = get(&read.records, "9a1c2b3d-0000-4000-8000-00000000b0a1");
    assert_eq!(org.kind, RecordKind::Organization);
    // The last card has no END:VCARD: kept, flagged by line.
    let cut = get(&read.records, "outlook-v4.vcf#19");
    assert_eq!(cut.emails, vec!["cut@example.org"]);
    assert_eq!(read.errors.len(), 1, "{:?}", read.errors);
    assert_eq!(read.errors[0].line, Some(19));
}

#[test]
fn shift_jis_excel_export_is_detected_and_decoded() {
    let read = read("generic-csv", &fixtures("shift-jis"));
    assert!(read.errors.is_empty(), "{:?}", read.errors);
    let yamada = get(&read.records, "J-1");
    assert_eq!(yamada.names, vec!["山田 太郎"]);
    assert_eq!(yamada.company.as_deref(), Some("㈱山田製作所"));
    assert_eq!(
        yamada.body.as_deref(),
        Some("①見積書を送付済み\r\n②来週訪問")
    );
    assert_eq!(
        get(&read.records, "J-2").body.as_deref(),
        Some("請求書の宛名変更")
    );
}

#[test]
fn generic_json_maps_keys_and_templates() {
    let read = read("generic-json", &fixtures("generic-json"));
    assert!(read.errors.is_empty(), "{:?}", read.errors);
    let lena = get(&read.records, "C-1");
    assert_eq!(lena.names, vec!["Lena Fischer"]);
    assert_eq!(lena.tags, vec!["edi", "logistics"]);
    assert_eq!(lena.links, vec![link("account", "ORG-77")]);
    assert_eq!(get(&read.records, "C-2").names, vec!["佐藤 健"]);
}

#[test]
fn a_binary_file_is_refused_with_its_offset() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("photo.csv"),
        b"id,name\n\x89PNG\r\n\x1a\n\0\0IHDR",
    )
    .unwrap();
    std::fs::write(dir.path().join("inbox.mbox"), b"From x\n\0\0\0").unwrap();
    let csv = read("generic-csv", dir.path());
    assert!(csv.records.is_empty());
    assert_eq!(csv.errors[0].offset, Some(16), "{:?}", csv.errors);
    assert!(csv.errors[0].reason.contains("binary"));
    let mbox = read("mbox", dir.path());
    assert!(
        mbox.errors[0].reason.contains("binary"),
        "{:?}",
        mbox.errors
    );
}

#[test]
fn garbage_in_any_format_is_reported_never_a_panic() {
    // Deterministic pseudo-random text: pieces of each format's syntax and
    // stray bytes (no NULs, which the binary check would refuse), cut
    // anywhere.
    let pieces: &[&[u8]] = &[
        b"From x@y Thu May  2 07:31:00 2024\n",
        b"Content-Type: multipart/mixed; boundary=\"b\"\n",
        b"--b\n",
        b"=?ISO-2022-JP?B?GyRCJDMbKEI=?=",
        b"BEGIN:VCARD\r\n",
        b"END:VCARD\r\n",
        b"EMAIL;TYPE=\"a:b\n",
        b" folded",
        b"{\"id\": [1, {\"a\": ",
        b"[{\"id\":1},",
        b"\"quoted,\n",
        b";;\t|",
        b"\xff\xfe\x81\x40",
        b"\xe3\x81",
        b"\n\n",
        b"=E3=8",
        b"\\",
    ];
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let dir = tempfile::tempdir().unwrap();
    for round in 0..60 {
        let mut bytes = Vec::new();
        for _ in 0..(next() % 40) {
            let piece = pieces[(next() % pieces.len() as u64) as usize];
            bytes.extend_from_slice(&piece[..(next() % (piece.len() as u64 + 1)) as usize]);
        }
        for (connector, name) in [
            ("generic-csv", "g.csv"),
            ("zendesk-export", "t.json"),
            ("mbox", "m.mbox"),
            ("eml", "m.eml"),
            ("vcard", "c.vcf"),
            ("notes", "n.md"),
            ("salesforce-export", "Contact.csv"),
        ] {
            let folder = dir.path().join(format!("{round}-{connector}"));
            std::fs::create_dir_all(&folder).unwrap();
            std::fs::write(folder.join(name), &bytes).unwrap();
            let _ = read(connector, &folder);
        }
    }
}

/// NDJSON is parsed a chunk of lines at a time on several threads: the
/// records still arrive in the file's order with their own line numbers,
/// and every bad line is reported at its line and offset, on both sides of
/// the chunks' boundaries (256 lines each).
#[test]
fn ndjson_read_in_parallel_chunks_keeps_order_lines_and_errors() {
    let dir = tempfile::tempdir().unwrap();
    let bad = [2u64, 256, 257, 513, 700];
    let mut text = String::new();
    let mut offsets = std::collections::BTreeMap::new();
    let mut expected = Vec::new();
    for line in 1..=900u64 {
        offsets.insert(line, text.len() as u64);
        if bad.contains(&line) {
            text.push_str(&format!("{{\"id\": {line}, \"subject\": \n"));
        } else if line == 300 {
            text.push_str("[1, 2]\n");
        } else if line == 400 {
            text.push_str("   \n");
        } else {
            text.push_str(&format!(
                "{{\"id\": {line}, \"subject\": \"Ticket {line}\"}}\n"
            ));
            expected.push((line.to_string(), line));
        }
    }
    std::fs::write(dir.path().join("t.json"), text).unwrap();
    let read = read("zendesk-export", dir.path());
    assert_eq!(ids_and_lines(&read.records), expected);
    let errors: Vec<(Option<u64>, Option<u64>, bool)> = read
        .errors
        .iter()
        .map(|e| (e.line, e.offset, e.reason.contains("malformed JSON")))
        .collect();
    let mut wanted: Vec<(Option<u64>, Option<u64>, bool)> = bad
        .iter()
        .map(|l| (Some(*l), offsets.get(l).copied(), true))
        .collect();
    wanted.insert(3, (Some(300), offsets.get(&300).copied(), false));
    assert_eq!(errors, wanted, "{:?}", read.errors);
    assert!(read.errors.iter().all(|e| e.file == "t.json"));
}

/// Many CSV rows, some bad (short, or with bytes that are not UTF-8): the
/// records keep the file's order and lines, and each bad row is reported
/// at its line.
#[test]
fn many_csv_rows_keep_order_lines_and_errors() {
    let dir = tempfile::tempdir().unwrap();
    let short = [3u64, 258, 259, 514];
    let mut bytes = b"id,name\n".to_vec();
    let mut expected = Vec::new();
    for line in 2..=800u64 {
        if short.contains(&line) {
            bytes.extend_from_slice(format!("{line}\n").as_bytes());
        } else if line == 600 {
            bytes.extend_from_slice(b"600,Bad \xff name\n");
            expected.push(("600".to_string(), line));
        } else {
            bytes.extend_from_slice(format!("{line},Person {line}\n").as_bytes());
            expected.push((line.to_string(), line));
        }
    }
    std::fs::write(dir.path().join("people.csv"), bytes).unwrap();
    let read = read("generic-csv", dir.path());
    assert_eq!(ids_and_lines(&read.records), expected);
    let errors: Vec<(Option<u64>, bool)> = read
        .errors
        .iter()
        .map(|e| (e.line, e.reason.contains("invalid UTF-8")))
        .collect();
    let mut wanted: Vec<(Option<u64>, bool)> = short.iter().map(|l| (Some(*l), false)).collect();
    wanted.push((Some(600), true));
    assert_eq!(errors, wanted, "{:?}", read.errors);
}

/// Each record's external id and line, in the order they were read.
fn ids_and_lines(records: &[rapport::record::Record]) -> Vec<(String, u64)> {
    records
        .iter()
        .map(|r| (r.external_id.clone(), r.provenance.line.unwrap_or(0)))
        .collect()
}
