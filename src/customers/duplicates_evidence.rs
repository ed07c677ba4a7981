//! Reads a suspect pair's saved evidence (`why: "Name" (id) ~ "Name" (id):
//! name exact +6.0, phone different -1.0 = 5.0`, as the resolver writes it)
//! to tell the steward's queue whether the pair has anything in common
//! beyond an exact name, which name the two records share, and which
//! features the waterfall weighed (so the queue's ranking counts none twice).
//!
//! It must never decide a link, and never guess: evidence it cannot read is
//! treated as "more than a name", so such a pair stays a pair of its own.

/// What a pair's evidence says for the queue.
#[derive(Debug, Clone, PartialEq)]
pub enum Basis {
    /// The only feature weighing for the pair is an exact name: a pair of
    /// possible namesakes, grouped with the others of that name.
    NameOnly {
        /// The shared name as the first record writes it.
        name: String,
        /// What the exact name weighed, in bits.
        bits: f64,
    },
    /// Something besides an exact name weighs for the pair (an email, a
    /// phone, the organisation, a date of birth, a close or re-ordered
    /// name …), or the evidence could not be read.
    Beyond,
}

/// One feature's part of the waterfall: `feature level ±bits`.
#[derive(Debug, Clone, PartialEq)]
struct Part {
    text: String,
    bits: f64,
}

impl Part {
    /// `name exact` (people) or `name exact, borne by several`
    /// (organisations): the two records' name keys are equal.
    fn is_exact_name(&self) -> bool {
        self.text == "name exact" || self.text.starts_with("name exact, ")
    }
}

/// The waterfall's parts, or `None` when the text is not one. A level may
/// hold a comma (`same parts, other order`), so a part ends only where a
/// signed number of bits does.
fn parts(waterfall: &str) -> Option<Vec<Part>> {
    let waterfall = waterfall.strip_suffix(" (conflict)").unwrap_or(waterfall);
    let (body, _total) = waterfall.rsplit_once(" = ")?;
    let mut parts = Vec::new();
    let mut pending = String::new();
    for piece in body.split(", ") {
        if !pending.is_empty() {
            pending.push_str(", ");
        }
        pending.push_str(piece);
        let Some((text, last)) = pending.rsplit_once(' ') else {
            continue;
        };
        if !(last.starts_with('+') || last.starts_with('-')) {
            continue;
        }
        if let Ok(bits) = last.parse::<f64>() {
            parts.push(Part {
                text: text.to_string(),
                bits,
            });
            pending.clear();
        }
    }
    (pending.is_empty() && !parts.is_empty()).then_some(parts)
}

/// The first record's name in `why: "Name" (id) ~ …`.
fn first_name(described: &str) -> Option<String> {
    let (_, rest) = described.split_once(": \"")?;
    let (name, _) = rest.split_once("\" (")?;
    Some(name.to_string())
}

/// Whether `evidence` rests on an exact name alone (every other feature
/// weighs nothing or against), and with which name.
pub fn basis(evidence: &str) -> Basis {
    // The record descriptions end with `(id): `; the waterfall follows the
    // last of them and never holds `): ` itself.
    let Some((described, waterfall)) = evidence.rsplit_once("): ") else {
        return Basis::Beyond;
    };
    let (Some(parts), Some(name)) = (parts(waterfall), first_name(described)) else {
        return Basis::Beyond;
    };
    let for_pair: Vec<&Part> = parts.iter().filter(|p| p.bits > 0.0).collect();
    match for_pair.as_slice() {
        [only] if only.is_exact_name() && !name.trim().is_empty() => Basis::NameOnly {
            name,
            bits: only.bits,
        },
        _ => Basis::Beyond,
    }
}

/// The features a waterfall weighs, read once for several questions.
/// Evidence it cannot read weighs nothing.
#[derive(Debug, Default)]
pub struct Weighed(Vec<String>);

impl Weighed {
    pub fn of(evidence: &str) -> Weighed {
        let parts = evidence
            .rsplit_once("): ")
            .and_then(|(_, waterfall)| parts(waterfall))
            .unwrap_or_default();
        Weighed(parts.into_iter().map(|p| p.text).collect())
    }

    /// Whether it weighs `feature` (`organisation`, `phone`, `source` …, or
    /// a feature and its level: `email shared`), for or against.
    pub fn has(&self, feature: &str) -> bool {
        self.0.iter().any(|text| {
            text.strip_prefix(feature)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with(' '))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn evidence(waterfall: &str) -> String {
        format!(
            "below the link threshold: \"Carlos Johnson\" (crm:P1) ~ \"Carlos Johnson\" (crm:P2): {waterfall}"
        )
    }

    fn name_only(bits: f64) -> Basis {
        Basis::NameOnly {
            name: "Carlos Johnson".into(),
            bits,
        }
    }

    #[test]
    fn an_exact_name_and_nothing_else_is_name_only() {
        assert_eq!(basis(&evidence("name exact +5.0 = 5.0")), name_only(5.0));
    }

    #[test]
    fn features_weighing_against_or_nothing_keep_it_name_only() {
        let e = evidence("name exact +7.5, phone different -1.0, city different -1.0 = 5.5");
        assert_eq!(basis(&e), name_only(7.5));
        let zero = evidence("name exact +6.0, street similar +0.0 = 6.0");
        assert_eq!(basis(&zero), name_only(6.0));
    }

    #[test]
    fn any_other_feature_for_the_pair_makes_it_more_than_a_name() {
        for waterfall in [
            "name exact +5.0, email shared +12.0 = 17.0",
            "name exact +5.0, phone shared by several people +1.0 = 6.0",
            "name exact +5.0, organisation same +6.0, email different -2.0 = 9.0",
            "name exact +5.0, birth date one part differs +2.0 = 7.0",
            "name exact +5.0, city same +2.0 = 7.0",
        ] {
            assert_eq!(basis(&evidence(waterfall)), Basis::Beyond, "{waterfall}");
        }
    }

    #[test]
    fn a_name_that_is_only_close_or_reordered_is_more_than_a_shared_name() {
        for waterfall in [
            "name close +4.0, city same +2.0 = 6.0",
            "name same parts, other order +6.0 = 6.0",
            "name same reading, other script +6.0 = 6.0",
            "name initials or short form agree +2.0, phone shared +7.0 = 9.0",
        ] {
            assert_eq!(basis(&evidence(waterfall)), Basis::Beyond, "{waterfall}");
        }
    }

    #[test]
    fn an_organisation_name_borne_by_several_is_name_only() {
        let e = "the two customers disagree as wholes: \"Northwind, Inc.\" (crm:O3) ~ \"Northwind\" (crm:O4): name exact, borne by several +5.0, source same -2.0 = 3.0";
        assert_eq!(
            basis(e),
            Basis::NameOnly {
                name: "Northwind, Inc.".into(),
                bits: 5.0
            }
        );
    }

    #[test]
    fn a_conflict_marker_is_read_past() {
        let e = evidence("name exact +6.0, vat number different -30.0 = -24.0 (conflict)");
        assert_eq!(basis(&e), name_only(6.0));
    }

    #[test]
    fn a_name_holding_the_separators_is_still_read() {
        let e = "below the link threshold: \"Smith (Jr): Bob\" (crm:P1) ~ \"Smith (Jr): Bob\" (crm:P2): name exact +5.0 = 5.0";
        assert_eq!(
            basis(e),
            Basis::NameOnly {
                name: "Smith (Jr): Bob".into(),
                bits: 5.0
            }
        );
    }

    #[test]
    fn weighs_names_the_features_of_the_waterfall() {
        let e = evidence("name exact +5.0, organisation different -6.0, email shared +12.0 = 11.0");
        let weighs = |e: &str, f: &str| Weighed::of(e).has(f);
        assert!(weighs(&e, "organisation"));
        assert!(weighs(&e, "email shared"));
        assert!(!weighs(&e, "email different"));
        assert!(!weighs(&e, "phone"));
        assert!(!weighs(&e, "organ"), "a feature is a whole word");
        assert!(!weighs("ids only", "organisation"));
    }

    #[test]
    fn evidence_that_cannot_be_read_stays_a_pair() {
        for e in [
            "",
            "ids only",
            "below the link threshold: \"A\" (x:1) ~ \"A\" (x:2): name exact = 5.0",
            "below the link threshold: \"A\" (x:1) ~ \"A\" (x:2): name exact +5.0",
            "below the link threshold: \"\" (x:1) ~ \"\" (x:2): name exact +5.0 = 5.0",
        ] {
            assert_eq!(basis(e), Basis::Beyond, "{e}");
        }
    }
}
