//! Notes and deals whose name could mean another customer stay unattached
//! and are listed for a steward with the reason, through the real binary
//! (issue 18, third landing): `rapport ingest` of a CRM CSV, a deals CSV
//! and a notes folder, then the customer each record landed on as search
//! shows it, and `/v1/quality/unattached`.

use crate::common;

use common::Workspace;

const CRM: &str = "\
id,kind,name,company,email,city,customer
A1,organization,Atlas Energy LLC,,,Denver,
M1,organization,Meridian Robotics Corp.,,,Boston,
M2,organization,Meridain Robotics Inc,,,Austin,
L1,organization,Lumen Media Networks,,,Boston,
Y1,organization,Yamato Shoji K.K.,,,Osaka,
Y2,organization,Yamato Shoji Co. Ltd,,,Nagoya,
";

const DEALS: &str = "\
id,kind,title,company
D1,opportunity,Support case 1 for Delta Atlas Energy,Delta Atlas Energy
D2,opportunity,Atlas Energy renewal 2024,
D3,opportunity,Renewal,Meridian Robotics Corp.
";

#[test]
fn names_that_could_mean_another_customer_wait_for_a_steward_end_to_end() {
    let ws = Workspace::new();
    let write = |path: &str, text: &str| ws.write_file(path, text);
    write("in/crm/crm.csv", CRM);
    write("in/deals/deals.csv", DEALS);
    write(
        "in/notes/twin.txt",
        "Call with Meridian Robotics about the renewal.\n",
    );
    write(
        "in/notes/home.txt",
        "Call with Lumen Media Networks. Site visit in Boston.\n",
    );
    write(
        "in/notes/osaka.txt",
        "商談メモ Call with Yamato Shoji about the renewal. Site visit in 大阪市.\n",
    );
    ws.write_config(&[
        ("crm", "generic-csv", "in/crm"),
        ("deals", "generic-csv", "in/deals"),
        ("notes", "notes", "in/notes"),
    ]);
    ws.ingest();
    let server = ws.serve();
    let customer_of = |record: &str| server.customer_of(record);
    let atlas = customer_of("crm:A1");
    assert!(atlas.is_some());
    assert_eq!(customer_of("deals:D2"), atlas, "the name standing alone");
    assert_eq!(customer_of("deals:D1"), None, "inside a longer name");
    assert_eq!(customer_of("deals:D3"), None, "a namesake with a slip");
    assert_eq!(customer_of("notes:twin.txt"), None);
    assert_eq!(customer_of("notes:home.txt"), customer_of("crm:L1"));
    assert_eq!(customer_of("notes:osaka.txt"), customer_of("crm:Y1"));
    // Each waits for a steward, with why.
    let (status, unattached) = server.get("/v1/quality/unattached");
    assert_eq!(status, 200, "{unattached}");
    let reason = |record: &str| -> String {
        unattached["records"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|u| u["record"] == record)
            .map(|u| u["reason"].to_string())
            .unwrap_or_default()
    };
    assert!(reason("deals:D3").contains("with one slip"), "{unattached}");
    assert!(
        reason("notes:twin.txt").contains("2 organisation"),
        "{unattached}"
    );
    assert!(!reason("deals:D1").is_empty(), "{unattached}");
    // The twins the note names exactly are its candidates, for a steward.
    let twin = unattached["records"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|u| u["record"] == "notes:twin.txt")
        .cloned()
        .unwrap_or_default();
    assert!(
        twin["reason"]
            .as_str()
            .unwrap_or("")
            .starts_with("ambiguous"),
        "{twin}"
    );
    let mut twins = vec![customer_of("crm:M1"), customer_of("crm:M2")];
    twins.sort();
    let candidates: Vec<Option<String>> = twin["candidates"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| c.as_str().map(str::to_string))
        .collect();
    assert_eq!(candidates, twins, "{twin}");

    // The same records as an export, with the reason as a column.
    let export = |query: &str| -> Vec<(String, String, String)> {
        let (status, _, body) = server.get_text(&format!("/v1/export?format=csv&{query}"));
        assert_eq!(status, 200, "{body}");
        let mut reader = csv::Reader::from_reader(body.as_bytes());
        let headers = reader.headers().unwrap().clone();
        let at = |name: &str| headers.iter().position(|h| h == name);
        let (id, source) = (at("id").unwrap(), at("source").unwrap());
        let why = at("unattached_reason");
        reader
            .records()
            .map(|r| {
                let r = r.unwrap();
                let cell = |i: Option<usize>| i.and_then(|i| r.get(i)).unwrap_or("").to_string();
                (cell(Some(id)), cell(Some(source)), cell(why))
            })
            .collect()
    };
    let exported = export("attached=false");
    let mut listed: Vec<String> = unattached["records"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|u| u["record"].as_str().map(str::to_string))
        .collect();
    listed.sort();
    let mut ids: Vec<String> = exported.iter().map(|(id, _, _)| id.clone()).collect();
    ids.sort();
    assert_eq!(ids, listed, "{exported:?}");
    for (id, _, why) in &exported {
        let listed_reason = unattached["records"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|u| u["record"] == id.as_str())
            .and_then(|u| u["reason"].as_str())
            .unwrap_or("(none)");
        assert!(
            why.starts_with(listed_reason),
            "{id}: {why} / {listed_reason}"
        );
    }
    let twin_row = exported.iter().find(|(id, _, _)| id == "notes:twin.txt");
    assert!(
        twin_row.is_some_and(|(_, _, why)| twins.iter().flatten().all(|t| why.contains(t))),
        "{twin_row:?}"
    );
    let notes = export("attached=false&filter.source=notes");
    assert!(
        !notes.is_empty() && notes.iter().all(|(_, s, _)| s == "notes"),
        "{notes:?}"
    );
    let attached = export("attached=true");
    assert!(
        attached.iter().any(|(id, _, _)| id == "deals:D2"),
        "{attached:?}"
    );
    assert!(
        attached.iter().all(|(id, _, _)| !listed.contains(id)),
        "{attached:?}"
    );
    let (status, _, body) = server.get_text("/v1/export?attached=false&level=customer");
    assert_eq!(status, 400, "{body}");
    // `rapport export --attached false`, through the running server.
    let out = ws.run(&["export", "--attached", "false", "--format", "csv"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (_, _, body) = server.get_text("/v1/export?format=csv&attached=false");
    assert_eq!(String::from_utf8_lossy(&out.stdout), body);

    // The same list for a steward's spreadsheet: `rapport quality
    // --unattached` as CSV, through the running server, then from the store.
    let api_rows: Vec<String> = unattached["records"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|u| {
            let mut row = ["record", "source", "kind", "reason"]
                .map(|k| u[k].as_str().unwrap_or_default().to_string())
                .to_vec();
            let candidates: Vec<&str> = u["candidates"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|c| c.as_str())
                .collect();
            row.push(candidates.join(" "));
            row.join("\u{1f}")
        })
        .collect();
    assert!(!api_rows.is_empty());
    assert!(
        api_rows.iter().any(|r| !r.ends_with('\u{1f}')),
        "the premise: a record with candidates: {api_rows:?}"
    );
    let csv_rows = |out: std::process::Output| -> Vec<String> {
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let mut reader = csv::Reader::from_reader(out.stdout.as_slice());
        assert_eq!(
            reader.headers().unwrap().iter().collect::<Vec<_>>(),
            ["record", "source", "kind", "reason", "candidates"]
        );
        reader
            .records()
            .map(|r| r.unwrap().iter().collect::<Vec<_>>().join("\u{1f}"))
            .collect()
    };
    assert_eq!(csv_rows(ws.run(&["quality", "--unattached"])), api_rows);
    let deals_only = csv_rows(ws.run(&["quality", "--unattached", "--source", "deals"]));
    assert!(
        deals_only.iter().any(|r| r.starts_with("deals:D3")),
        "{deals_only:?}"
    );
    assert!(
        deals_only.iter().all(|r| r.starts_with("deals:")),
        "{deals_only:?}"
    );
    drop(server);
    assert_eq!(csv_rows(ws.run(&["quality", "--unattached"])), api_rows);
}

/// Issue 18, fourth landing: a note that writes a company in the other
/// script than its records ("Nitto Seiki Co., Ltd." for an account known
/// only as 日東精機株式会社, 瑞穂食品株式会社 for "Mizuho Shokuhin K.K.")
/// attaches through the names' IPADIC readings, as `rapport ingest`
/// resolves with the dictionary installed.
#[test]
fn notes_name_companies_in_the_other_script_end_to_end() {
    let ws = Workspace::new();
    ws.write_file(
        "in/crm/crm.csv",
        "id,kind,name,company,email,city,customer\n\
         N1,organization,日東精機株式会社,,,,\n\
         M1,organization,Mizuho Shokuhin K.K.,,,,\n\
         H1,organization,Hokuto Denki Co. Ltd,,,,\n\
         H2,organization,北斗電機株式会社,,,,\n",
    );
    ws.write_file(
        "in/notes/nitto.txt",
        "商談メモ\nCall with Nitto Seiki Co., Ltd. about the renewal.\n",
    );
    ws.write_file(
        "in/notes/mizuho.txt",
        "商談メモ 瑞穂食品株式会社との打ち合わせ。\n",
    );
    // Two records that read alike and resolution keeps apart: no guess.
    ws.write_file("in/notes/hokuto.txt", "Call with Hokuto Denki about it.\n");
    ws.write_config(&[
        ("crm", "generic-csv", "in/crm"),
        ("notes", "notes", "in/notes"),
    ]);
    ws.ingest();
    let server = ws.serve();
    let customer_of = |record: &str| server.customer_of(record);
    let (status, unattached) = server.get("/v1/quality/unattached");
    assert_eq!(status, 200);
    assert!(customer_of("crm:N1").is_some());
    assert_eq!(
        customer_of("notes:nitto.txt"),
        customer_of("crm:N1"),
        "{unattached}"
    );
    assert_eq!(
        customer_of("notes:mizuho.txt"),
        customer_of("crm:M1"),
        "{unattached}"
    );
    if customer_of("crm:H1") != customer_of("crm:H2") {
        assert_eq!(customer_of("notes:hokuto.txt"), None, "{unattached}");
    }
}
