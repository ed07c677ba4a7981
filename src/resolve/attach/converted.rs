//! Converted leads: a Salesforce Lead that became a contact states it
//! (`ConvertedContactId`, read as a `contact` link of a person record), so
//! the lead and the contact are one person, whatever their names say.
//!
//! It must never join a person to staff, to an organisation, or across a
//! steward's split or "never together".

use super::super::Graph;
use super::is_staff;
use crate::record::RecordKind;

impl Graph<'_> {
    /// Joins each person record to the person record its `contact` link
    /// names in its own source (a converted lead to its contact).
    pub(in crate::resolve) fn link_converted_leads(&mut self) {
        for i in self.nodes_of(RecordKind::Person) {
            let r = &self.records[i];
            if is_staff(r) {
                continue;
            }
            let Some((contact, target)) = r
                .links
                .iter()
                .filter(|l| l.rel == "contact")
                .find_map(|l| Some((self.lookup(&r.source, &l.target)?, l.target.clone())))
            else {
                continue;
            };
            if contact == i
                || self.kind(contact) != RecordKind::Person
                || is_staff(&self.records[contact])
            {
                continue;
            }
            self.link(i, contact, &format!("converted to contact {target}"));
        }
    }
}
