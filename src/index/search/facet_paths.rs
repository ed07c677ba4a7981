//! Hierarchical facets: a facet value written as a path
//! (`/industry/software/saas`) is also counted at each level above it
//! (`/industry`, `/industry/software`), so a sidebar can show a tree. It
//! applies to any facet field, keyword or loose attribute, whose values
//! start with `/`; other values are counted as they are.
//!
//! It must never count a record (or a customer) twice for one level, even
//! when several of its values lie under that level.

use std::collections::HashMap;

use super::customer_set::CustomerSet;

/// The levels above a path value, shortest first: `/a/b/c` → `/a`, `/a/b`.
/// Empty for a value that is not a path.
pub(crate) fn ancestors(value: &str) -> Vec<&str> {
    if !value.starts_with('/') {
        return Vec::new();
    }
    value
        .char_indices()
        .skip(1)
        .filter(|(_, c)| *c == '/')
        .map(|(i, _)| &value[..i])
        .filter(|level| level.len() > 1)
        .collect()
}

/// Every level of a value, itself included.
fn levels(value: &str) -> impl Iterator<Item = &str> {
    ancestors(value).into_iter().chain(std::iter::once(value))
}

/// Adds the counts of the levels above path values to record counts.
/// `multi` holds, for each record with several values in this field, the
/// names of its values: a level two of them share counts that record once.
pub(crate) fn add_record_levels(values: &mut HashMap<String, u64>, multi: &[Vec<String>]) {
    let mut above: HashMap<String, u64> = HashMap::new();
    for (value, count) in values.iter() {
        for level in ancestors(value) {
            *above.entry(level.to_string()).or_default() += count;
        }
    }
    for (level, count) in above {
        *values.entry(level).or_default() += count;
    }
    for names in multi {
        let mut seen: HashMap<&str, u64> = HashMap::new();
        for name in names {
            for level in levels(name) {
                *seen.entry(level).or_default() += 1;
            }
        }
        for (level, times) in seen {
            if times > 1
                && level.starts_with('/')
                && let Some(count) = values.get_mut(level)
            {
                *count = count.saturating_sub(times - 1);
            }
        }
    }
}

/// Adds the customers of path values to each level above them.
pub(crate) fn add_customer_levels(values: &mut HashMap<String, CustomerSet>) {
    let mut above: HashMap<String, CustomerSet> = HashMap::new();
    for (value, set) in values.iter() {
        for level in ancestors(value) {
            above
                .entry(level.to_string())
                .or_default()
                .merge(set.clone());
        }
    }
    for (level, set) in above {
        values.entry(level).or_default().merge(set);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_of_a_path() {
        assert_eq!(
            ancestors("/industry/software/saas"),
            vec!["/industry", "/industry/software"]
        );
        assert!(ancestors("software").is_empty());
        assert!(ancestors("/industry").is_empty());
    }

    #[test]
    fn a_record_with_two_values_under_a_level_counts_once() {
        // Two records: one with /a/b and /a/c, one with /a/b.
        let mut values = HashMap::from([("/a/b".to_string(), 2), ("/a/c".to_string(), 1)]);
        add_record_levels(&mut values, &[vec!["/a/b".into(), "/a/c".into()]]);
        assert_eq!(values["/a"], 2);
        assert_eq!(values["/a/b"], 2);
        assert_eq!(values["/a/c"], 1);
    }
}
