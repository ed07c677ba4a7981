//! The export filter for unattached records (issue 18): `attached=false`
//! keeps only the records resolution attached to no customer, each with the
//! reason a steward reads in `/v1/quality/unattached` (the column
//! `unattached_reason`); `attached=true` keeps only attached ones.
//!
//! It must never read the store: the engine hands it the list of
//! unattached records, and it only decides which rows go out.

use std::collections::HashMap;

use crate::index::search::QueryError;
use crate::record::Record;

use super::{ExportRequest, Level};

/// The column holding why a record is attached to no customer.
pub const REASON: &str = "unattached_reason";

pub(super) fn parse(value: &str) -> Result<bool, QueryError> {
    match value.trim() {
        "true" | "1" | "yes" => Ok(true),
        "false" | "0" | "no" => Ok(false),
        _ => Err(super::bad(
            "attached",
            format!("must be true or false, got `{value}`"),
        )),
    }
}

/// `attached` selects records: it means nothing for customers.
pub(super) fn check(request: &ExportRequest) -> Result<(), QueryError> {
    if request.attached.is_some() && request.level != Level::Record {
        return Err(super::bad(
            "attached",
            "selects records: use it with level=record".into(),
        ));
    }
    Ok(())
}

/// The reason as the column holds it: with the customers the record could
/// be, when resolution named them.
pub fn reason_text(reason: &str, candidates: &[String]) -> String {
    match candidates {
        [] => reason.to_string(),
        _ => format!("{reason} (candidates: {})", candidates.join(", ")),
    }
}

/// Which records an export keeps, and the reason of each unattached one.
pub struct Attached {
    want: Option<bool>,
    /// Record id → why it is attached to no customer.
    reasons: HashMap<String, String>,
}

impl Attached {
    /// `unattached`: (record id, reason) of every unattached record; read
    /// only when the request asks for it.
    pub fn new(want: Option<bool>, unattached: impl IntoIterator<Item = (String, String)>) -> Self {
        let reasons = match want {
            Some(_) => unattached.into_iter().collect(),
            None => HashMap::new(),
        };
        Attached { want, reasons }
    }

    /// Whether the record goes out: unattached ones are those resolution
    /// listed with a reason; attached ones have a customer.
    pub fn keeps(&self, id: &str, record: &Record) -> bool {
        match self.want {
            None => true,
            Some(false) => self.reasons.contains_key(id),
            Some(true) => record.customer_id.is_some() && !self.reasons.contains_key(id),
        }
    }

    pub fn reason(&self, id: &str) -> Option<&str> {
        self.reasons.get(id).map(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::RecordKind;

    #[test]
    fn attached_selects_records_by_the_list_of_unattached_ones() {
        let request = |params: &[(&str, &str)]| ExportRequest::from_params(params.iter().copied());
        let r = request(&[("attached", "false"), ("format", "csv")]).unwrap();
        assert_eq!(r.attached, Some(false));
        assert_eq!(r.columns().last().map(String::as_str), Some(REASON));
        assert!(
            !request(&[])
                .unwrap()
                .columns()
                .contains(&REASON.to_string())
        );
        assert!(request(&[("attached", "maybe")]).is_err());
        let err = request(&[("attached", "false"), ("level", "customer")])
            .unwrap_err()
            .to_string();
        assert!(err.contains("`attached`"), "{err}");
        assert!(request(&[("fields", "id,unattached_reason")]).is_ok());

        let mut attached = Record::new("crm", "1", RecordKind::Note);
        attached.customer_id = Some("org_1".into());
        let loose = Record::new("notes", "2", RecordKind::Note);
        let list = || vec![("notes:2".to_string(), "no mention".to_string())];
        let only_unattached = Attached::new(Some(false), list());
        assert!(!only_unattached.keeps("crm:1", &attached));
        assert!(only_unattached.keeps("notes:2", &loose));
        assert_eq!(only_unattached.reason("notes:2"), Some("no mention"));
        let only_attached = Attached::new(Some(true), list());
        assert!(only_attached.keeps("crm:1", &attached));
        assert!(!only_attached.keeps("notes:2", &loose));
        assert!(Attached::new(None, list()).keeps("notes:2", &loose));
        assert_eq!(
            reason_text("ambiguous", &["org_a".into(), "org_b".into()]),
            "ambiguous (candidates: org_a, org_b)"
        );
    }
}
