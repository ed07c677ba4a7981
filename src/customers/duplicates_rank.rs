//! Ranks the steward's queue by how likely an item holds a true duplicate:
//! a pair's match weight (the resolver's waterfall, in bits) plus what the
//! two customers hold now that the waterfall did not weigh — the resolved
//! organisation, the company name their records write, their work email
//! domains, their phones, and whether one source already holds both as two
//! contacts. Each rank carries a short `why` naming the evidence that
//! placed it.
//!
//! It must never read the store or the bench's truth, and never decide a
//! link: it scores what it is given, and only orders the queue.

use std::collections::{BTreeSet, HashMap};

use super::duplicates_evidence::Weighed;
use crate::resolve::{Entity, SuspectPair};

/// Mail domains anyone can hold an address at: a shared or a different
/// one says nothing about an employer.
const FREE_MAIL: &[&str] = &[
    "aol.com",
    "gmail.com",
    "gmx.de",
    "gmx.net",
    "googlemail.com",
    "hotmail.com",
    "icloud.com",
    "live.com",
    "mail.com",
    "me.com",
    "msn.com",
    "outlook.com",
    "proton.me",
    "protonmail.com",
    "web.de",
    "yahoo.co.jp",
    "yahoo.com",
];

/// Bits of each rule. The organisation and phone weights are the
/// resolver's own for people (`resolve::people::score`); the others are a
/// steward's rules of thumb, measured on the labelled books
/// (BENCHMARKS.md, issue 19, branch `rank8`).
pub mod bits {
    /// Both customers at one resolved organisation.
    pub const SAME_ORGANISATION: f64 = 6.0;
    /// At two different resolved organisations.
    pub const OTHER_ORGANISATION: f64 = -6.0;
    /// Not one organisation, but their records write one company name.
    pub const SAME_COMPANY_NAME: f64 = 4.0;
    /// Their records write different company names only (and no resolved
    /// organisation was compared).
    pub const OTHER_COMPANY_NAME: f64 = -2.0;
    /// Work email addresses at different domains only: two employers.
    pub const OTHER_MAIL_DOMAIN: f64 = -4.0;
    /// A phone number in common.
    pub const SHARED_PHONE: f64 = 7.0;
    /// Phones on both sides, none in common.
    pub const OTHER_PHONE: f64 = -1.0;
    /// One source holds a record of each: that system keeps them as two.
    pub const ONE_SOURCE_HOLDS_BOTH: f64 = -2.0;
    /// Per doubling of a name group's other customers: with more bearers
    /// of one name, any one of them is less likely another's other self.
    pub const PER_DOUBLING_OF_NAMESAKES: f64 = -0.5;
}

/// What the queue compares of one customer.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Profile {
    /// A person's resolved organisation.
    pub organisation: Option<String>,
    /// Company names its records write, folded (letters and digits only,
    /// lowercase).
    pub companies: BTreeSet<String>,
    /// The domains of its email addresses, free-mail domains left out.
    pub mail_domains: BTreeSet<String>,
    pub phones: BTreeSet<String>,
    /// The sources of its records.
    pub sources: BTreeSet<String>,
}

/// Each queued customer's profile, by id.
pub type Profiles = HashMap<String, Profile>;

fn fold(text: &str) -> String {
    text.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

impl Profile {
    /// From an entity's golden record (every variant of its fields) and
    /// its members.
    pub fn of(entity: &Entity) -> Profile {
        let values = |field: &str| -> Vec<String> {
            entity
                .golden
                .fields
                .get(field)
                .map(|f| {
                    let mut v: Vec<String> = f.variants.iter().map(|x| x.value.clone()).collect();
                    v.push(f.value.clone());
                    v
                })
                .unwrap_or_default()
        };
        let mail_domains = values("emails")
            .iter()
            .filter_map(|e| e.rsplit_once('@').map(|(_, d)| d.trim().to_lowercase()))
            .filter(|d| !d.is_empty() && !FREE_MAIL.contains(&d.as_str()))
            .collect();
        Profile {
            organisation: entity.org_id.clone().filter(|_| entity.kind == "person"),
            companies: values("company")
                .iter()
                .map(|c| fold(c))
                .filter(|c| !c.is_empty())
                .collect(),
            mail_domains,
            phones: values("phones")
                .into_iter()
                .filter(|p| !p.trim().is_empty())
                .collect(),
            sources: entity
                .members
                .iter()
                .filter_map(|m| m.record.split_once(':').map(|(s, _)| s.to_string()))
                .collect(),
        }
    }
}

/// A rank and the evidence behind it.
#[derive(Debug, Clone, PartialEq)]
pub struct Ranked {
    /// In bits: higher is likelier one customer.
    pub rank: f64,
    /// `match weight 5.0, same company name +4.0 = 9.0`.
    pub why: String,
}

/// Accumulates a rank's parts.
struct Why {
    rank: f64,
    parts: Vec<String>,
}

impl Why {
    fn add(&mut self, text: &str, bits: f64) {
        self.rank += bits;
        self.parts.push(format!("{text} {bits:+.1}"));
    }

    fn done(self) -> Ranked {
        Ranked {
            rank: self.rank,
            why: format!("{} = {:.1}", self.parts.join(", "), self.rank),
        }
    }
}

/// Whether two non-empty sets share nothing.
fn disjoint(x: &BTreeSet<String>, y: &BTreeSet<String>) -> Option<bool> {
    (!x.is_empty() && !y.is_empty()).then(|| x.is_disjoint(y))
}

/// A pair's rank: its match weight plus each rule the waterfall did not
/// already weigh. A customer without a profile (gone since the resolution)
/// adds nothing.
pub fn rank_pair(pair: &SuspectPair, profiles: &Profiles) -> Ranked {
    let mut why = Why {
        rank: pair.score,
        parts: vec![format!("match weight {:.1}", pair.score)],
    };
    let (Some(a), Some(b)) = (profiles.get(&pair.a), profiles.get(&pair.b)) else {
        return why.done();
    };
    let waterfall = Weighed::of(&pair.evidence);
    let weighed = |feature: &str| waterfall.has(feature);
    let organisations = match (&a.organisation, &b.organisation) {
        (Some(x), Some(y)) => Some(x == y),
        _ => None,
    };
    match organisations {
        Some(true) if !weighed("organisation") => {
            why.add("same organisation", bits::SAME_ORGANISATION)
        }
        Some(false) if !weighed("organisation") => {
            why.add("other organisations", bits::OTHER_ORGANISATION)
        }
        _ => {}
    }
    // The company names their records write: one name at two resolved
    // organisations (an organisation split) still counts for the pair;
    // different names count against only where no organisation did.
    match (disjoint(&a.companies, &b.companies), organisations) {
        (Some(false), None | Some(false)) => why.add("same company name", bits::SAME_COMPANY_NAME),
        (Some(true), None) => why.add("other company names", bits::OTHER_COMPANY_NAME),
        _ => {}
    }
    // A shared email address outweighs any domain: the rule is left out then.
    if disjoint(&a.mail_domains, &b.mail_domains) == Some(true) && !weighed("email shared") {
        why.add("work email domains differ", bits::OTHER_MAIL_DOMAIN);
    }
    if !weighed("phone") {
        match disjoint(&a.phones, &b.phones) {
            Some(false) => why.add("phone shared", bits::SHARED_PHONE),
            Some(true) => why.add("other phones", bits::OTHER_PHONE),
            None => {}
        }
    }
    if !weighed("source") {
        let both: Vec<&str> = a
            .sources
            .intersection(&b.sources)
            .map(String::as_str)
            .collect();
        if !both.is_empty() {
            why.add(
                &format!("{} holds both", both.join(" and ")),
                bits::ONE_SOURCE_HOLDS_BOTH,
            );
        }
    }
    why.done()
}

/// What a group of `customers` namesakes loses for its size.
pub fn namesakes(customers: usize) -> f64 {
    let others = customers.saturating_sub(1).max(1) as f64;
    bits::PER_DOUBLING_OF_NAMESAKES * others.log2()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair(waterfall: &str, score: f64) -> SuspectPair {
        SuspectPair {
            a: "per_a".into(),
            b: "per_b".into(),
            score,
            evidence: format!(
                "below the link threshold: \"Ann Lee\" (x:1) ~ \"Ann Lee\" (y:2): {waterfall}"
            ),
        }
    }

    fn profiles(a: Profile, b: Profile) -> Profiles {
        [("per_a".to_string(), a), ("per_b".to_string(), b)]
            .into_iter()
            .collect()
    }

    fn set(items: &[&str]) -> BTreeSet<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    fn name_only() -> SuspectPair {
        pair("name exact +5.0 = 5.0", 5.0)
    }

    fn ranked(p: &SuspectPair, a: Profile, b: Profile) -> f64 {
        rank_pair(p, &profiles(a, b)).rank
    }

    #[test]
    fn without_profiles_the_rank_is_the_match_weight() {
        let r = rank_pair(&name_only(), &Profiles::new());
        assert_eq!(r.rank, 5.0);
        assert_eq!(r.why, "match weight 5.0 = 5.0");
    }

    #[test]
    fn one_organisation_raises_and_two_lower_unless_the_waterfall_weighed_it() {
        let at = |o: &str| Profile {
            organisation: Some(o.into()),
            ..Profile::default()
        };
        assert_eq!(ranked(&name_only(), at("org_1"), at("org_1")), 11.0);
        assert_eq!(ranked(&name_only(), at("org_1"), at("org_2")), -1.0);
        let weighed = pair("name exact +5.0, organisation same +6.0 = 11.0", 11.0);
        assert_eq!(ranked(&weighed, at("org_1"), at("org_1")), 11.0);
    }

    #[test]
    fn a_company_name_written_alike_raises_and_unlike_lowers() {
        let at = |c: &[&str]| Profile {
            companies: c.iter().map(|c| fold(c)).collect(),
            ..Profile::default()
        };
        let r = rank_pair(
            &name_only(),
            &profiles(at(&["Acme, Inc."]), at(&["ACME Inc", "Acme Labs"])),
        );
        assert_eq!(r.rank, 9.0);
        assert!(r.why.contains("same company name +4.0"), "{}", r.why);
        assert_eq!(ranked(&name_only(), at(&["Acme"]), at(&["Globex"])), 3.0);
        // One organisation already counted: the names add nothing.
        let mut a = at(&["Acme"]);
        let mut b = at(&["Acme Labs"]);
        a.organisation = Some("org_1".into());
        b.organisation = Some("org_1".into());
        assert_eq!(ranked(&name_only(), a, b), 11.0);
        // Two organisations: one company name still counts (a split
        // organisation), different ones add nothing to the -6.
        let at_org = |c: &str, o: &str| Profile {
            organisation: Some(o.into()),
            ..at(&[c])
        };
        assert_eq!(
            ranked(
                &name_only(),
                at_org("Acme", "org_1"),
                at_org("ACME", "org_2")
            ),
            3.0
        );
        assert_eq!(
            ranked(
                &name_only(),
                at_org("Acme", "org_1"),
                at_org("Globex", "org_2")
            ),
            -1.0
        );
    }

    #[test]
    fn work_email_domains_that_differ_lower_and_free_mail_is_ignored() {
        let mailed = |d: &[&str]| Profile {
            mail_domains: set(d),
            ..Profile::default()
        };
        let r = rank_pair(
            &name_only(),
            &profiles(mailed(&["acme.com"]), mailed(&["globex.de"])),
        );
        assert_eq!(r.rank, 1.0);
        assert!(
            r.why.contains("work email domains differ -4.0"),
            "{}",
            r.why
        );
        // Colleagues share a domain: that says nothing of being one person.
        assert_eq!(
            ranked(&name_only(), mailed(&["acme.com"]), mailed(&["acme.com"])),
            5.0
        );
        let shared = pair("name exact +5.0, email shared +12.0 = 17.0", 17.0);
        assert_eq!(
            ranked(&shared, mailed(&["acme.com"]), mailed(&["globex.de"])),
            17.0
        );
        let entity = |email: &str| {
            let mut golden = crate::resolve::Golden::default();
            golden.fields.insert(
                "emails".into(),
                crate::resolve::golden::GoldenField {
                    value: email.into(),
                    source: "crm".into(),
                    external_id: "1".into(),
                    variants: Vec::new(),
                },
            );
            Entity {
                id: "per_x".into(),
                kind: "person".into(),
                anchor: "crm:1".into(),
                members: Vec::new(),
                attached: Vec::new(),
                org_id: None,
                people: Vec::new(),
                golden,
                parent: None,
                children: Vec::new(),
            }
        };
        assert!(
            Profile::of(&entity("ann.lee@gmail.com"))
                .mail_domains
                .is_empty()
        );
        assert_eq!(
            Profile::of(&entity("ann@Acme.com")).mail_domains,
            set(&["acme.com"])
        );
    }

    #[test]
    fn a_shared_phone_raises_and_other_phones_lower_a_little() {
        let phoned = |p: &[&str]| Profile {
            phones: set(p),
            ..Profile::default()
        };
        assert_eq!(
            ranked(&name_only(), phoned(&["+1 1", "+1 2"]), phoned(&["+1 2"])),
            12.0
        );
        assert_eq!(
            ranked(&name_only(), phoned(&["+1 1"]), phoned(&["+1 2"])),
            4.0
        );
        let weighed = pair("name exact +5.0, phone different -1.0 = 4.0", 4.0);
        assert_eq!(ranked(&weighed, phoned(&["+1 1"]), phoned(&["+1 2"])), 4.0);
    }

    #[test]
    fn one_source_holding_both_lowers() {
        let from = |s: &[&str]| Profile {
            sources: set(s),
            ..Profile::default()
        };
        let r = rank_pair(
            &name_only(),
            &profiles(from(&["crm", "hs"]), from(&["hs", "crm"])),
        );
        assert_eq!(r.rank, 3.0);
        assert!(r.why.contains("crm and hs holds both -2.0"), "{}", r.why);
        assert_eq!(ranked(&name_only(), from(&["crm"]), from(&["hs"])), 5.0);
        let weighed = pair("name exact +5.0, source same -2.0 = 3.0", 3.0);
        assert_eq!(ranked(&weighed, from(&["crm"]), from(&["crm"])), 3.0);
    }

    #[test]
    fn more_namesakes_weigh_less() {
        assert_eq!(namesakes(2), 0.0);
        assert_eq!(namesakes(3), -0.5);
        assert_eq!(namesakes(5), -1.0);
        assert!(namesakes(9) < namesakes(5));
    }
}
