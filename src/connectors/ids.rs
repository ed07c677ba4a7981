//! The forms of record ids a manifest declares (`[ids]`): Salesforce's
//! 15-character case-sensitive Ids widened to their 18-character form (the
//! same record either way), and ids scoped by a portal column or by the
//! file's folder, so that two HubSpot portals in one source, whose numeric
//! ids collide, never overwrite each other.
//!
//! It must never touch an address (`from`, `to`, `cc` links), a thread
//! reference or any text a person reads: only ids and references to ids.

use serde::Deserialize;
use serde_json::Value;

use crate::record::Record;

/// `[ids]` of a manifest.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IdOptions {
    /// Salesforce Ids: a 15-character Id becomes its 18-character form, and
    /// the 15-character form stays searchable (`attrs.id15`).
    pub salesforce: bool,
    /// What scopes ids, first that applies: a column's value (e.g. `Portal
    /// ID`), or `folder` for the file's folder inside the source. Ids are
    /// then written `SCOPE/ID`.
    pub scope: Vec<String>,
}

impl IdOptions {
    /// The scope of one row: the first of `scope` that names a non-empty
    /// column of the row (`column` answers a CSV header's value, or a JSON
    /// object's key path), or the
    /// folder of `relative` (the file's path in the source) for `folder`.
    pub fn scope_of(
        &self,
        relative: &str,
        column: impl Fn(&str) -> Option<String>,
    ) -> Option<String> {
        self.scope.iter().find_map(|what| {
            if what == "folder" {
                relative
                    .rsplit_once('/')
                    .map(|(folder, _)| folder.to_string())
                    .filter(|f| !f.is_empty())
            } else {
                column(what)
                    .map(|v| v.trim().to_string())
                    .filter(|v| !v.is_empty())
            }
        })
    }
}

/// Applies the id forms to a freshly read record: its external id, customer
/// reference and links to ids (and, for Salesforce, its owner's id).
pub fn finish(record: &mut Record, ids: &IdOptions, scope: Option<&str>) {
    if ids.salesforce {
        if let Some(long) = salesforce_18(&record.external_id) {
            record.external_id = long;
        }
        if is_salesforce_id(&record.external_id) {
            let short = record.external_id[..15].to_string();
            record.attrs.insert("id15".into(), Value::String(short));
        }
        for value in record
            .customer_ref
            .iter_mut()
            .chain(record.owner.iter_mut())
        {
            if let Some(long) = salesforce_18(value) {
                *value = long;
            }
        }
        for link in record.links.iter_mut().filter(|l| refers_to_id(&l.rel)) {
            if let Some(long) = salesforce_18(&link.target) {
                link.target = long;
            }
        }
    }
    if let Some(scope) = scope {
        let scoped = |id: &str| format!("{scope}/{id}");
        record.external_id = scoped(&record.external_id);
        if let Some(r) = record.customer_ref.as_mut() {
            *r = scoped(r);
        }
        for link in record.links.iter_mut().filter(|l| refers_to_id(&l.rel)) {
            link.target = scoped(&link.target);
        }
    }
}

/// Links whose target is a record id (not an address, not a message id).
fn refers_to_id(rel: &str) -> bool {
    !matches!(rel, "from" | "to" | "cc" | "thread" | "record")
}

fn is_salesforce_id(id: &str) -> bool {
    id.len() == 18 && id.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// The 18-character form of a 15-character Salesforce Id: three characters
/// that encode which of the Id's letters are capitals, five at a time.
/// `None` for anything that is not 15 ASCII letters and digits.
pub fn salesforce_18(id: &str) -> Option<String> {
    let bytes = id.as_bytes();
    if bytes.len() != 15 || !bytes.iter().all(u8::is_ascii_alphanumeric) {
        return None;
    }
    const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ012345";
    let mut out = id.to_string();
    for chunk in bytes.chunks(5) {
        let bits = chunk
            .iter()
            .enumerate()
            .filter(|(_, b)| b.is_ascii_uppercase())
            .fold(0usize, |acc, (i, _)| acc | (1 << i));
        out.push(char::from(ALPHABET[bits]));
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{Link, RecordKind};

    #[test]
    fn fifteen_character_ids_widen_as_salesforce_does() {
        // A user Id and its case-safe form as Salesforce's documentation
        // pairs them.
        assert_eq!(
            salesforce_18("00570000001ZwTi").as_deref(),
            Some("00570000001ZwTiAAK")
        );
        assert_eq!(
            salesforce_18("0015g00000AcmeR").as_deref(),
            Some("0015g00000AcmeRAAR")
        );
        assert_eq!(salesforce_18("0015g00000AcmeRAAR"), None);
        assert_eq!(salesforce_18("contact-1001"), None);
        assert_eq!(salesforce_18("00Q5g00000Lead√"), None);
    }

    #[test]
    fn scope_prefixes_ids_and_references_but_not_addresses() {
        let mut r = Record::new("hub", "contact-1", RecordKind::Person);
        r.customer_ref = Some("company-7".into());
        r.links = vec![
            Link {
                rel: "account".into(),
                target: "company-7".into(),
                name: None,
            },
            Link {
                rel: "from".into(),
                target: "a@b.example".into(),
                name: None,
            },
        ];
        let ids = IdOptions {
            salesforce: false,
            scope: vec!["Portal ID".into(), "folder".into()],
        };
        let scope = ids.scope_of("eu/contacts.csv", |_| Some(" ".into()));
        assert_eq!(scope.as_deref(), Some("eu"));
        assert_eq!(ids.scope_of("contacts.csv", |_| None), None);
        let portal = ids.scope_of("eu/contacts.csv", |h| {
            (h == "Portal ID").then(|| "42".into())
        });
        finish(&mut r, &ids, portal.as_deref());
        assert_eq!(r.external_id, "42/contact-1");
        assert_eq!(r.customer_ref.as_deref(), Some("42/company-7"));
        assert_eq!(r.links[0].target, "42/company-7");
        assert_eq!(r.links[1].target, "a@b.example");
    }
}
