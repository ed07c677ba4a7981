//! Organisations resolution kept apart that are one firm by their web
//! domains: a CRM record written with a typo ("Boulangerie Lergand SA") or
//! in the other script (東海物産株式会社 beside "Tokai Bussan Co., Ltd.")
//! that nothing merged, while every domain it claims (its web sites, its
//! people's addresses) is the other's, and the other claims no more. A note
//! naming both then names one firm, not two namesakes.
//!
//! It must never make two firms one: two organisations are one only when
//! the sets of domains they claim are equal and not empty. Namesakes
//! (twins) have domains of their own, so a twin with one domain more than
//! the other, or with none, stays apart.

use std::collections::{BTreeSet, HashMap};

/// The domains each organisation root claims.
#[derive(Default)]
pub(in crate::resolve) struct Firms {
    domains: HashMap<usize, BTreeSet<String>>,
}

impl Firms {
    /// From each domain's claimants (organisation roots).
    pub(in crate::resolve) fn of(claims: &HashMap<String, BTreeSet<usize>>) -> Firms {
        let mut domains: HashMap<usize, BTreeSet<String>> = HashMap::new();
        for (d, roots) in claims {
            for &root in roots {
                domains.entry(root).or_default().insert(d.clone());
            }
        }
        Firms { domains }
    }

    /// Whether organisation roots `a` and `b` are one firm: the same root,
    /// or the same domains claimed, at least one.
    pub(super) fn same(&self, a: usize, b: usize) -> bool {
        a == b
            || matches!(
                (self.domains.get(&a), self.domains.get(&b)),
                (Some(x), Some(y)) if !x.is_empty() && x == y
            )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn firms(claims: &[(&str, &[usize])]) -> Firms {
        Firms::of(
            &claims
                .iter()
                .map(|(d, roots)| (d.to_string(), roots.iter().copied().collect()))
                .collect(),
        )
    }

    #[test]
    fn one_firm_claims_the_same_domains() {
        // A typo'd record owning the site, and the exact one its people's
        // addresses reach.
        let f = firms(&[("legrand.fr", &[1, 2])]);
        assert!(f.same(1, 2));
        assert!(f.same(3, 3));
        // A twin with a site of its own stays apart, even when a contact of
        // its namesake's (joined by the name) writes from the twin's site.
        let f = firms(&[("polaris.de", &[1]), ("polaris-berlin2.de", &[1, 2])]);
        assert!(!f.same(1, 2));
        // Neither claims any domain: nothing says they are one.
        let f = firms(&[("other.de", &[7])]);
        assert!(!f.same(1, 2));
    }
}
