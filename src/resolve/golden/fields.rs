//! The fields of a golden record, by name: a vector kept sorted by name
//! instead of a `BTreeMap`, whose every node reserves room for eleven
//! fields (about 1.3 KB for a customer with two). A full pass at a million
//! records holds half a million golden records at once, so this is most of
//! what a customer costs in memory. It serialises as the map did, key by
//! key in name order, so stored customers read and write the same bytes.
//!
//! It must never hold two fields of one name, nor lose their order.

use std::fmt;

use serde::de::Deserializer;
use serde::ser::Serializer;
use serde::{Deserialize, Serialize};

use super::GoldenField;

#[derive(Clone, Default)]
pub struct Fields(Vec<(String, GoldenField)>);

impl Fields {
    fn position(&self, name: &str) -> Result<usize, usize> {
        self.0.binary_search_by(|(k, _)| k.as_str().cmp(name))
    }

    pub fn get(&self, name: &str) -> Option<&GoldenField> {
        self.position(name).ok().map(|i| &self.0[i].1)
    }

    pub fn get_mut(&mut self, name: &str) -> Option<&mut GoldenField> {
        self.position(name).ok().map(|i| &mut self.0[i].1)
    }

    pub fn contains_key(&self, name: &str) -> bool {
        self.position(name).is_ok()
    }

    /// Sets `name` to `field`; returns the field it replaced.
    pub fn insert(&mut self, name: String, field: GoldenField) -> Option<GoldenField> {
        match self.position(&name) {
            Ok(i) => Some(std::mem::replace(&mut self.0[i].1, field)),
            Err(i) => {
                self.0.insert(i, (name, field));
                None
            }
        }
    }

    pub fn remove(&mut self, name: &str) -> Option<GoldenField> {
        self.position(name).ok().map(|i| self.0.remove(i).1)
    }

    /// Name and field, in name order.
    pub fn iter(&self) -> impl Iterator<Item = (&String, &GoldenField)> {
        self.0.iter().map(|(k, v)| (k, v))
    }

    pub fn keys(&self) -> impl Iterator<Item = &String> {
        self.0.iter().map(|(k, _)| k)
    }

    pub fn values(&self) -> impl Iterator<Item = &GoldenField> {
        self.0.iter().map(|(_, v)| v)
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Gives back the room reserved while the fields were added.
    pub fn shrink_to_fit(&mut self) {
        self.0.shrink_to_fit();
        for (_, field) in &mut self.0 {
            field.variants.shrink_to_fit();
        }
    }
}

type Pair<'a> = &'a (String, GoldenField);

impl<'a> IntoIterator for &'a Fields {
    type Item = (&'a String, &'a GoldenField);
    type IntoIter = std::iter::Map<
        std::slice::Iter<'a, (String, GoldenField)>,
        fn(Pair<'a>) -> (&'a String, &'a GoldenField),
    >;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter().map(|(k, v)| (k, v))
    }
}

impl std::ops::Index<&str> for Fields {
    type Output = GoldenField;

    /// Panics when the field is absent, as a map's index does (tests).
    fn index(&self, name: &str) -> &GoldenField {
        match self.get(name) {
            Some(field) => field,
            None => panic!("no golden field {name}"),
        }
    }
}

impl fmt::Debug for Fields {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl Serialize for Fields {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.iter())
    }
}

impl<'de> Deserialize<'de> for Fields {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // A map read whole: sorted, one field per name, as it was written.
        let map = std::collections::BTreeMap::<String, GoldenField>::deserialize(deserializer)?;
        let mut fields = Fields(map.into_iter().collect());
        fields.shrink_to_fit();
        Ok(fields)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(value: &str) -> GoldenField {
        GoldenField {
            value: value.into(),
            source: "crm".into(),
            external_id: "1".into(),
            variants: Vec::new(),
        }
    }

    #[test]
    fn fields_stay_sorted_and_serialise_as_the_map_did() {
        let mut fields = Fields::default();
        let mut map = std::collections::BTreeMap::new();
        for name in ["phones", "name", "country", "name", "emails"] {
            fields.insert(name.into(), field(name));
            map.insert(name.to_string(), field(name));
        }
        assert_eq!(fields.len(), 4);
        assert_eq!(
            fields.keys().collect::<Vec<_>>(),
            map.keys().collect::<Vec<_>>()
        );
        let (ours, theirs) = (
            serde_json::to_string(&fields).unwrap_or_default(),
            serde_json::to_string(&map).unwrap_or_default(),
        );
        assert_eq!(ours, theirs);
        let back: Fields = serde_json::from_str(&theirs).unwrap_or_default();
        assert_eq!(serde_json::to_string(&back).unwrap_or_default(), theirs);
        assert!(fields.remove("name").is_some());
        assert!(!fields.contains_key("name"));
        assert_eq!(fields["phones"].value, "phones");
    }
}
