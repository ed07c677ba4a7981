//! Whether a person's name in Japanese script and a romanised one are two
//! different names, judged by the kanji name's reading (IPADIC, through the
//! `romaji` the resolver is given): 加藤 直子 reads `katonaoko`, which holds
//! no part of "Sarah Murphy". Without it such a pair compared as "another
//! script, neither for nor against", and two colleagues sharing a
//! switchboard number and an employer topped the steward's queue.
//!
//! It must never call two spellings of one name different on a guess: a
//! reading may be wrong for one part (健 reads ken or takeshi), so one part
//! of the romanised name found in the reading is enough to say nothing, and
//! without a reading (no dictionary) it says nothing either.

use super::compare::has_cjk;
use crate::normalize::fold_romaji;

/// The shortest romanised part looked for in a reading ("Ito", "Ono").
const MIN_PART: usize = 3;

/// One side of the comparison: a profile's name keys, its names split into
/// parts (space-separated), and their readings.
pub struct NameSide<'p> {
    pub keys: &'p [String],
    pub spaced: &'p [String],
    pub readings: &'p [String],
}

/// True when one side is written in Japanese script and read, the other is
/// romanised, and no part of the romanised name (folded as readings are) is
/// found in any reading of the Japanese one.
pub fn readings_disagree(a: &NameSide, b: &NameSide) -> bool {
    let japanese = |s: &NameSide| !s.keys.is_empty() && s.keys.iter().all(|k| has_cjk(k));
    let romanised = |s: &NameSide| !s.keys.is_empty() && s.keys.iter().all(|k| !has_cjk(k));
    let (read, latin) = if japanese(a) && romanised(b) {
        (a, b)
    } else if japanese(b) && romanised(a) {
        (b, a)
    } else {
        return false;
    };
    if read.readings.is_empty() {
        return false;
    }
    let parts: Vec<String> = latin
        .spaced
        .iter()
        .flat_map(|name| name.split_whitespace())
        .map(fold_romaji)
        .filter(|p| p.chars().count() >= MIN_PART)
        .collect();
    if parts.is_empty() {
        return false;
    }
    !parts
        .iter()
        .any(|part| read.readings.iter().any(|r| r.contains(part.as_str())))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn side<'p>(keys: &'p [String], spaced: &'p [String], readings: &'p [String]) -> NameSide<'p> {
        NameSide {
            keys,
            spaced,
            readings,
        }
    }

    fn strings(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn a_reading_that_holds_no_part_of_the_romanised_name_disagrees() {
        let (kk, ks, kr) = (
            strings(&["加藤直子"]),
            strings(&["加藤 直子"]),
            strings(&["katonaoko", "naokokato"]),
        );
        let (lk, ls, lr) = (
            strings(&["murphy sarah"]),
            strings(&["murphy sarah"]),
            strings(&["murphysarah", "sarahmurphy"]),
        );
        assert!(readings_disagree(
            &side(&kk, &ks, &kr),
            &side(&lk, &ls, &lr)
        ));
        assert!(readings_disagree(
            &side(&lk, &ls, &lr),
            &side(&kk, &ks, &kr)
        ));
    }

    #[test]
    fn one_shared_part_or_no_reading_says_nothing() {
        // 健 read as "ken" where the romanised name says Takeshi: the family
        // name is found, so nothing is said.
        let (kk, ks, kr) = (
            strings(&["佐藤健"]),
            strings(&["佐藤 健"]),
            strings(&["satoken", "kensato"]),
        );
        let (lk, ls, lr) = (
            strings(&["takeshi satou"]),
            strings(&["Takeshi Satou"]),
            strings(&["takeshisato", "satotakeshi"]),
        );
        assert!(!readings_disagree(
            &side(&kk, &ks, &kr),
            &side(&lk, &ls, &lr)
        ));
        // Without the dictionary the kanji name has no reading.
        let none: Vec<String> = Vec::new();
        let (mk, ms, mr) = (
            strings(&["murphy sarah"]),
            strings(&["Sarah Murphy"]),
            strings(&["sarahmurphy"]),
        );
        assert!(!readings_disagree(
            &side(&kk, &ks, &none),
            &side(&mk, &ms, &mr)
        ));
        // Two names in the same script are not this rule's business.
        assert!(!readings_disagree(
            &side(&lk, &ls, &lr),
            &side(&mk, &ms, &mr)
        ));
    }
}
