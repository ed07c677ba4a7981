//! The customers of a resolution by their cluster's root node, as
//! `Graph::build` makes them and `assign.rs` reads them: a vector kept in
//! root order instead of a `BTreeMap`. The customers are made in root
//! order, and a B-tree filled in ascending order leaves its nodes a little
//! over half full: at a million records that was some 100 MB of the pass's
//! peak.
//!
//! It must never hold two values for one root, nor lose root order.

/// Values by root, in root order.
pub(super) struct ByRoot<T>(Vec<(usize, T)>);

impl<T> ByRoot<T> {
    pub fn with_capacity(n: usize) -> ByRoot<T> {
        ByRoot(Vec::with_capacity(n))
    }

    fn position(&self, root: usize) -> Result<usize, usize> {
        self.0.binary_search_by_key(&root, |(r, _)| *r)
    }

    /// Sets `root`'s value (appended when roots come in order, as they do).
    pub fn insert(&mut self, root: usize, value: T) {
        match self.0.last() {
            Some((last, _)) if *last >= root => match self.position(root) {
                Ok(i) => self.0[i].1 = value,
                Err(i) => self.0.insert(i, (root, value)),
            },
            _ => self.0.push((root, value)),
        }
    }

    pub fn get(&self, root: &usize) -> Option<&T> {
        self.position(*root).ok().map(|i| &self.0[i].1)
    }

    pub fn get_mut(&mut self, root: &usize) -> Option<&mut T> {
        self.position(*root).ok().map(|i| &mut self.0[i].1)
    }

    pub fn values_mut(&mut self) -> impl Iterator<Item = &mut T> {
        self.0.iter_mut().map(|(_, v)| v)
    }

    /// The values in root order.
    pub fn into_values(self) -> impl Iterator<Item = T> {
        self.0.into_iter().map(|(_, v)| v)
    }
}

#[cfg(test)]
mod tests {
    use super::ByRoot;

    #[test]
    fn values_stay_in_root_order_whatever_order_they_come_in() {
        let mut by_root = ByRoot::with_capacity(4);
        for root in [3, 7, 5, 1, 9, 7] {
            by_root.insert(root, root * 10);
        }
        *by_root.get_mut(&9).unwrap() += 1;
        assert_eq!(by_root.get(&5), Some(&50));
        assert_eq!(by_root.get(&4), None);
        assert_eq!(
            by_root.into_values().collect::<Vec<_>>(),
            vec![10, 30, 50, 70, 91]
        );
    }
}
