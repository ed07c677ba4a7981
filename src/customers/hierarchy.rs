//! An organisation's place in its account hierarchy on the customer page:
//! its parent, its children, and roll-up counts over it and every
//! organisation below it.
//!
//! It must never change anything, and never loop: an organisation already
//! counted (a hierarchy with a cycle) is not counted again.

use std::collections::BTreeSet;

use serde::Serialize;

use super::{CustomerError, Metrics, Summary, count, linked};
use crate::resolve::Entity;
use crate::store::Store;

/// Most organisations a roll-up walks (a bound on one page's work).
const MAX_ORGANIZATIONS: usize = 1_000;

/// Counts over an organisation and all its descendants.
#[derive(Debug, Default, Serialize)]
pub struct Rollup {
    /// Organisations counted: this one and those below it.
    pub organizations: usize,
    /// True when the hierarchy had more than the organisations counted.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub truncated: bool,
    pub interactions: usize,
    pub open_opportunities: usize,
    pub won_amount: f64,
    pub open_tickets: usize,
}

/// The parent and children of `entity`, as summaries.
pub(super) fn relatives(
    store: &Store,
    entity: &Entity,
) -> Result<(Option<Summary>, Vec<Summary>), CustomerError> {
    let summary = |id: &str| -> Result<Option<Summary>, CustomerError> {
        Ok(store.entity(id)?.map(|e| Summary {
            id: e.id.clone(),
            name: e.golden.value("name").map(str::to_string),
        }))
    };
    let parent = match &entity.parent {
        Some(p) => summary(p)?,
        None => None,
    };
    let mut children = Vec::new();
    for child in &entity.children {
        children.extend(summary(child)?);
    }
    Ok((parent, children))
}

/// The roll-up of `entity` and its descendants; `None` when it has no
/// children (the page's own metrics say it all).
pub(super) fn rollup(store: &Store, entity: &Entity) -> Result<Option<Rollup>, CustomerError> {
    if entity.children.is_empty() {
        return Ok(None);
    }
    let mut seen: BTreeSet<String> = BTreeSet::new();
    let mut queue: Vec<Entity> = vec![entity.clone()];
    let mut metrics = Metrics::default();
    let mut out = Rollup::default();
    while let Some(org) = queue.pop() {
        if !seen.insert(org.id.clone()) {
            continue;
        }
        if seen.len() > MAX_ORGANIZATIONS {
            out.truncated = true;
            break;
        }
        out.organizations += 1;
        for (record, _) in linked(store, &org)? {
            count(&mut metrics, &record);
        }
        for child in &org.children {
            if !seen.contains(child)
                && let Some(c) = store.entity(child)?
            {
                queue.push(c);
            }
        }
    }
    out.interactions = metrics.interactions;
    out.open_opportunities = metrics.open_opportunities;
    out.won_amount = metrics.won_amount;
    out.open_tickets = metrics.open_tickets;
    Ok(Some(out))
}
