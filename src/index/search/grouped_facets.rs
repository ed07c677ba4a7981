//! Customer groups and grouped facet counts in one pass over the matches,
//! reading each matching record's customer once and handing it to both.
//!
//! It must never count differently from running [`Groups`] and
//! [`FacetCounts`] side by side: it only shares the customer read.

use tantivy::collector::{Collector, SegmentCollector};
use tantivy::{DocId, Score, SegmentOrdinal, SegmentReader};

use super::facets::{Counted, FacetCounts, FacetSegment};
use super::group_collector::{Groups, GroupsSegment};
use super::top_groups::GroupsFruit;

pub(crate) struct GroupsAndFacets {
    pub groups: Groups,
    pub facets: FacetCounts,
}

pub(crate) struct GroupsAndFacetsSegment {
    groups: GroupsSegment,
    facets: FacetSegment,
}

impl Collector for GroupsAndFacets {
    type Fruit = (GroupsFruit, Counted);
    type Child = GroupsAndFacetsSegment;

    fn for_segment(
        &self,
        segment: SegmentOrdinal,
        reader: &SegmentReader,
    ) -> tantivy::Result<Self::Child> {
        Ok(GroupsAndFacetsSegment {
            groups: self.groups.for_segment(segment, reader)?,
            facets: self.facets.for_segment(segment, reader)?,
        })
    }

    fn requires_scoring(&self) -> bool {
        self.groups.requires_scoring() || self.facets.requires_scoring()
    }

    fn merge_fruits(&self, fruits: Vec<Self::Fruit>) -> tantivy::Result<Self::Fruit> {
        let (groups, counts): (Vec<_>, Vec<_>) = fruits.into_iter().unzip();
        Ok((
            self.groups.merge_fruits(groups)?,
            self.facets.merge_fruits(counts)?,
        ))
    }
}

impl SegmentCollector for GroupsAndFacetsSegment {
    type Fruit = (GroupsFruit, Counted);

    fn collect(&mut self, doc: DocId, score: Score) {
        let customer = self.groups.collect_slot(doc, score);
        self.facets.collect_for(doc, Some(customer));
    }

    fn harvest(self) -> Self::Fruit {
        (self.groups.harvest(), self.facets.harvest())
    }
}
