//! Union-find over record indices, with "cannot link" constraints (steward
//! "never merge these two" and splits) and the evidence of every union that
//! took effect.
//!
//! It must never merge two sets that a constraint keeps apart: stronger
//! evidence comes first, and a later edge that would join forbidden sets is
//! skipped.

pub struct UnionFind {
    parent: Vec<usize>,
    size: Vec<usize>,
    /// Pairs of members that must stay in different sets.
    apart: Vec<(usize, usize)>,
    /// Members that may only join others of the same group (splits).
    group: Vec<Option<u32>>,
}

impl UnionFind {
    pub fn new(n: usize) -> UnionFind {
        UnionFind {
            parent: (0..n).collect(),
            size: vec![1; n],
            apart: Vec::new(),
            group: vec![None; n],
        }
    }

    pub fn keep_apart(&mut self, a: usize, b: usize) {
        self.apart.push((a, b));
    }

    pub fn set_group(&mut self, member: usize, group: u32) {
        self.group[member] = Some(group);
    }

    pub fn find(&mut self, mut x: usize) -> usize {
        while self.parent[x] != x {
            self.parent[x] = self.parent[self.parent[x]];
            x = self.parent[x];
        }
        x
    }

    /// Joins the sets of `a` and `b` unless a constraint forbids it. Returns
    /// true when the sets were distinct and are now one.
    pub fn union(&mut self, a: usize, b: usize) -> bool {
        if self.group[a] != self.group[b] {
            return false;
        }
        let (ra, rb) = (self.find(a), self.find(b));
        if ra == rb {
            return false;
        }
        for i in 0..self.apart.len() {
            let (x, y) = self.apart[i];
            let (rx, ry) = (self.find(x), self.find(y));
            if (rx == ra && ry == rb) || (rx == rb && ry == ra) {
                return false;
            }
        }
        let (big, small) = if self.size[ra] >= self.size[rb] {
            (ra, rb)
        } else {
            (rb, ra)
        };
        self.parent[small] = big;
        self.size[big] += self.size[small];
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constraints_keep_sets_apart() {
        let mut uf = UnionFind::new(5);
        uf.keep_apart(0, 3);
        assert!(uf.union(0, 1));
        assert!(uf.union(2, 3));
        assert!(!uf.union(1, 2), "would put 0 and 3 together");
        uf.set_group(4, 7);
        assert!(!uf.union(4, 0), "a split member only joins its group");
        assert_ne!(uf.find(0), uf.find(3));
        assert_eq!(uf.find(0), uf.find(1));
    }
}
