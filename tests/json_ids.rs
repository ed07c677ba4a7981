//! `[ids]` for JSON sources (issue 18): a scope column (a key path of the
//! object) or the file's folder keeps two portals' colliding ids apart, and
//! Salesforce's 15-character Ids widen to their 18-character form, as for
//! CSV. Real files on disk, read by the stock JSON reader.

use crate::common;

use common::{link, record_by_id as get};
use rapport::connectors::{self, Collect, Manifest, ReadError};

const MANIFEST: &str = r#"
name = "portal-json"
description = "two CRM portals' JSON exports in one source"
format = "json"
extensions = ["json", "ndjson"]
kind = "person"

[fields]
external_id = "id"
kind = "kind"
names = "name"

[links]
account = "account_id"

[ids]
salesforce = true
scope = ["meta.portalId", "folder"]
"#;

#[test]
fn json_ids_are_scoped_by_portal_or_folder_and_salesforce_ids_widen() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("in");
    let write = |path: &str, text: &str| {
        let p = root.join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    };
    write(
        "eu/contacts.ndjson",
        concat!(
            r#"{"id": 501, "meta": {"portalId": 111}, "name": "Iris Novak", "account_id": "101"}"#,
            "\n",
            r#"{"id": 501, "name": "Ema Kral", "account_id": "101"}"#,
            "\n",
        ),
    );
    write(
        "apac/contacts.json",
        r#"[{"id": 501, "name": "Ren Takeda", "account_id": "101"}]"#,
    );
    write(
        "accounts.ndjson",
        "{\"id\": \"0015g00000AcmeR\", \"kind\": \"organization\", \"name\": \"Acme\"}\n",
    );
    let manifest_path = dir.path().join("portal-json.toml");
    std::fs::write(&manifest_path, MANIFEST).unwrap();
    let manifest = Manifest::resolve(manifest_path.to_str().unwrap(), None, dir.path()).unwrap();
    let (files, errors) = connectors::list_files("crm", &root, &manifest);
    assert!(errors.is_empty(), "{errors:?}");
    let mut read = Collect::default();
    for file in files {
        match connectors::read_file("crm", &manifest, &file, &mut read) {
            Ok(()) => {}
            Err(ReadError::Unreadable(e)) => read.errors.push(e),
            Err(ReadError::Stopped) => panic!("stopped"),
        }
    }
    assert!(read.errors.is_empty(), "{:?}", read.errors);
    let iris = get(&read.records, "111/501");
    assert_eq!(iris.names, vec!["Iris Novak"]);
    assert_eq!(iris.links, vec![link("account", "111/101")]);
    assert_eq!(get(&read.records, "eu/501").names, vec!["Ema Kral"]);
    let ren = get(&read.records, "apac/501");
    assert_eq!(ren.names, vec!["Ren Takeda"]);
    assert_eq!(ren.links, vec![link("account", "apac/101")]);
    let acme = get(&read.records, "0015g00000AcmeRAAR");
    assert_eq!(acme.attrs["id15"], "0015g00000AcmeR");
    assert_eq!(read.records.len(), 4);
}
