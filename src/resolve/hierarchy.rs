//! Account hierarchies: an organisation record's `parent` link (Salesforce
//! Account.ParentId) names its parent account; the organisations they
//! resolved to become parent and children of each other.
//!
//! It must never merge or attach anything: a subsidiary stays its own
//! customer, and a link that names no organisation, or the organisation
//! itself, is ignored.

use std::collections::{BTreeMap, HashMap};

use super::{ByRoot, Entity, Graph};
use crate::record::RecordKind;

impl Graph<'_> {
    /// Each organisation cluster's parent cluster (by root), child first,
    /// sorted: read from the records' `parent` links before the entities
    /// are built.
    pub(super) fn parents(
        &mut self,
        clusters: &BTreeMap<usize, Vec<usize>>,
    ) -> Vec<(usize, usize)> {
        let n = self.records.len();
        let mut parent_of: HashMap<usize, usize> = HashMap::new();
        for (&root, nodes) in clusters {
            let parent = nodes.iter().filter(|&&x| x < n).find_map(|&x| {
                let r = &self.records[x];
                if r.kind != RecordKind::Organization {
                    return None;
                }
                r.links
                    .iter()
                    .filter(|l| l.rel == "parent")
                    .find_map(|l| self.lookup(&r.source, &l.target))
                    .filter(|&p| self.kind(p) == RecordKind::Organization)
            });
            if let Some(p) = parent.map(|p| self.uf.find(p))
                && p != root
                && clusters.contains_key(&p)
            {
                parent_of.insert(root, p);
            }
        }
        let mut sorted: Vec<_> = parent_of.into_iter().collect();
        sorted.sort_unstable();
        sorted
    }
}

/// Sets `parent` and `children` of the entities (keyed by root) from
/// [`Graph::parents`]; when an organisation's records name several
/// parents, the first record's wins.
pub(super) fn set_parents(parents: Vec<(usize, usize)>, entities: &mut ByRoot<Entity>) {
    for (child, parent) in parents {
        let (Some(child_id), Some(parent_id)) = (
            entities.get(&child).map(|e| e.id.clone()),
            entities.get(&parent).map(|e| e.id.clone()),
        ) else {
            continue;
        };
        if let Some(c) = entities.get_mut(&child) {
            c.parent = Some(parent_id);
        }
        if let Some(p) = entities.get_mut(&parent) {
            p.children.push(child_id);
        }
    }
}
