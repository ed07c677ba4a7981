//! A realistic customer book with known truth, for measuring identity
//! resolution: companies and their people as Salesforce, HubSpot, Zendesk
//! and vCards hold them after normalisation, each source spelling them its
//! own way (legal forms, case, typos, name order, honorifics, kanji and
//! romaji), with the traps real books have past a few hundred customers:
//! companies sharing a first word and a sector ("Nova Analytics", "Nova
//! Analytics Works"), family-name firms ("Laboratoires Martin SAS",
//! "Laboratoires Dubois SAS"), acronyms that spell another company's name,
//! two firms with the same registered name in different cities, common
//! person names at different companies, colleagues sharing a switchboard.
//!
//! It is deterministic for a seed. It must never read the resolver: truth
//! comes from how the book was made, and [`quality`] compares it with what
//! resolution decided.

mod data;
pub mod interactions;
mod quality;

use std::collections::HashMap;

use data::*;
pub use quality::{FIRSTS, FirstN, Pairwise, Quality, SuspectQueue, quality};

use crate::record::{Link, Record, RecordKind};

/// The true organisation and person behind one record.
#[derive(Debug, Clone)]
pub struct Truth {
    pub org: usize,
    pub person: Option<usize>,
}

pub struct Book {
    pub records: Vec<Record>,
    pub truth: HashMap<String, Truth>,
    pub customers: usize,
    pub people: usize,
    /// The true companies and people, for writing their interactions.
    companies: Vec<Company>,
    persons: Vec<Person>,
}

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
    fn digits(&mut self, n: usize) -> String {
        (0..n)
            .map(|_| char::from(b'0' + self.below(10) as u8))
            .collect()
    }
}

#[derive(Clone)]
struct Company {
    /// The name as its own books write it, without legal form.
    base: String,
    /// Kanji form, for Japanese companies (romanised in `base`).
    kanji: Option<String>,
    legal: &'static [&'static str],
    country: &'static str,
    city: &'static str,
    postcode: String,
    phone: String,
    domain: String,
    registration: Option<String>,
}

struct Person {
    org: usize,
    first: String,
    last: String,
    /// (family, given) in kanji, for Japanese people.
    kanji: Option<(String, String)>,
    email: String,
    phone: String,
}

/// A company's legal form is one; sources spell it several ways.
fn legal_forms(rng: &mut Rng, country: &str) -> &'static [&'static str] {
    let families: &[&'static [&'static str]] = match country {
        "US" => &[
            &["Inc.", "Inc", "Incorporated"],
            &["Corp.", "Corporation"],
            &["LLC"],
        ],
        "GB" => &[&["Ltd", "Ltd.", "Limited"], &["PLC"]],
        "DE" => &[&["GmbH"], &["GmbH"], &["AG"]],
        "FR" => &[&["SAS"], &["SA"], &["SARL"]],
        _ => &[&["Co., Ltd.", "K.K.", "Co. Ltd"]],
    };
    families[rng.below(families.len())]
}

fn postcode(rng: &mut Rng, pattern: &str) -> String {
    pattern
        .chars()
        .map(|c| match c {
            '9' => char::from(b'0' + rng.below(10) as u8),
            'A' => char::from(b'A' + rng.below(26) as u8),
            other => other,
        })
        .collect()
}

/// Digits whose first one is 2–9 (the same random draws either way).
fn valid_first(digits: String) -> String {
    let mut chars: Vec<char> = digits.chars().collect();
    if let Some(first) = chars.first_mut()
        && matches!(first, '0' | '1')
    {
        *first = if *first == '0' { '5' } else { '6' };
    }
    chars.into_iter().collect()
}

fn phone(rng: &mut Rng, country: &str) -> String {
    match country {
        // An exchange never starts with 0 or 1 in North America.
        "US" => format!("+1617{}", valid_first(rng.digits(7))),
        "GB" => format!("+44207{}", rng.digits(7)),
        "DE" => format!("+4930{}", rng.digits(8)),
        "FR" => format!("+331{}", rng.digits(8)),
        _ => format!("+813{}", valid_first(rng.digits(8))),
    }
}

fn slug(text: &str) -> String {
    text.chars()
        .filter_map(|c| match c {
            'ä' => Some('a'),
            'ö' => Some('o'),
            'ü' => Some('u'),
            c if c.is_ascii_alphanumeric() => Some(c.to_ascii_lowercase()),
            _ => None,
        })
        .collect()
}

fn tld(country: &str) -> &'static str {
    match country {
        "GB" => "co.uk",
        "DE" => "de",
        "FR" => "fr",
        "JP" => "co.jp",
        _ => "com",
    }
}

/// A misspelling: two letters of one long word swapped, or one dropped.
fn typo(rng: &mut Rng, text: &str) -> String {
    let mut words: Vec<String> = text.split(' ').map(str::to_string).collect();
    let candidates: Vec<usize> = (0..words.len())
        .filter(|&i| words[i].chars().count() >= 6 && words[i].is_ascii())
        .collect();
    let Some(&w) = candidates.get(rng.below(candidates.len().max(1))) else {
        return text.to_string();
    };
    let mut chars: Vec<char> = words[w].chars().collect();
    let at = 2 + rng.below(chars.len() - 3);
    if rng.chance(50) {
        chars.swap(at, at + 1);
    } else {
        chars.remove(at);
    }
    words[w] = chars.into_iter().collect();
    words.join(" ")
}

fn make_companies(rng: &mut Rng, n: usize) -> Vec<Company> {
    let mut out: Vec<Company> = Vec::with_capacity(n);
    let mut seen: HashMap<String, usize> = HashMap::new();
    while out.len() < n {
        let roll = rng.below(100);
        let twin = (40..46).contains(&roll) && !out.is_empty();
        let (mut base, mut kanji, country) = if roll < 14 {
            let (kb, rb) = *rng.pick(JA_BRANDS);
            let (ks, rs) = *rng.pick(JA_SECTORS);
            (format!("{rb} {rs}"), Some(format!("{kb}{ks}")), "JP")
        } else if roll < 26 {
            let family = rng.pick(FRENCH_FAMILIES);
            let pattern = rng.pick(FRENCH_FIRMS);
            (pattern.replace("{}", family), None, "FR")
        } else if roll < 34 {
            let family = rng.pick(GERMAN_FAMILIES);
            let pattern = rng.pick(GERMAN_FIRMS);
            (pattern.replace("{}", family), None, "DE")
        } else if twin {
            // A different firm with the same registered name elsewhere.
            let twin = out[rng.below(out.len())].clone();
            let country = twin.country;
            (twin.base, twin.kanji, country)
        } else if roll < 52 {
            // A three-letter company, whose name may be another's acronym.
            let letters: String = (0..3)
                .map(|_| char::from(b'A' + rng.below(26) as u8))
                .collect();
            let country = *rng.pick(&["US", "GB", "DE"]);
            (format!("{letters} {}", rng.pick(SECTORS)), None, country)
        } else {
            let mut name = format!("{} {}", rng.pick(BRANDS), rng.pick(SECTORS));
            if rng.chance(35) {
                name = format!("{name} {}", rng.pick(EXTRAS));
            }
            let country = *rng.pick(&["US", "US", "GB", "DE", "FR"]);
            (name, None, country)
        };
        // Apart from the twins, names in one book are distinct: a name
        // already taken grows a second word, as real names do.
        if !twin && seen.contains_key(&base.to_lowercase()) {
            match &kanji {
                Some(k) => {
                    let (kb, rb) = *rng.pick(JA_BRANDS);
                    kanji = Some(format!("{kb}{k}"));
                    base = format!("{rb} {base}");
                }
                None if country == "FR" || country == "DE" && !base.contains(' ') => {
                    base = format!("{base}-{}", rng.pick(FRENCH_FAMILIES));
                }
                None => {
                    base = format!("{} {base}", rng.pick(BRANDS));
                }
            }
            if seen.contains_key(&base.to_lowercase()) {
                continue;
            }
        }
        let cities: Vec<_> = CITIES.iter().filter(|c| c.0 == country).collect();
        let &&(_, city, pattern) = rng.pick(&cities);
        let count = seen.entry(base.to_lowercase()).or_default();
        *count += 1;
        // A domain has one owner: a second firm of the same name has its own.
        let domain = match *count {
            1 => format!("{}.{}", slug(&base), tld(country)),
            n => format!("{}-{}{n}.{}", slug(&base), slug(city), tld(country)),
        };
        let registration = match country {
            "JP" if rng.chance(60) => Some(format!("jp_corp:{}", rng.digits(13))),
            "DE" | "FR" | "GB" if rng.chance(30) => Some(format!("vat:{country}{}", rng.digits(9))),
            _ => None,
        };
        let company = Company {
            base,
            kanji,
            legal: legal_forms(rng, country),
            country,
            city,
            postcode: postcode(rng, pattern),
            phone: phone(rng, country),
            domain,
            registration,
        };
        out.push(company);
    }
    out
}

/// How one source writes a company's name.
fn company_spelling(rng: &mut Rng, c: &Company, source: &str) -> String {
    if let Some(kanji) = &c.kanji {
        return match (source, rng.below(3)) {
            ("sf", _) | (_, 0) => format!("{kanji}株式会社"),
            (_, 1) => format!("(株){kanji}"),
            _ => format!("{} {}", c.base, rng.pick(c.legal)),
        };
    }
    let mut name = c.base.clone();
    if rng.chance(70) {
        name = format!("{name} {}", rng.pick(c.legal));
    }
    if rng.chance(8) {
        name = typo(rng, &name);
    }
    match source {
        "hs" if rng.chance(30) => name.to_uppercase(),
        "zd" if rng.chance(20) => name.to_lowercase(),
        _ => name,
    }
}

fn make_people(rng: &mut Rng, companies: &[Company]) -> Vec<Person> {
    let mut out = Vec::new();
    for (k, c) in companies.iter().enumerate() {
        for _ in 0..1 + rng.below(4) {
            let (first, last, kanji) = if c.country == "JP" && rng.chance(85) {
                let (kf, rf) = *rng.pick(JA_FAMILY);
                let (kg, rg) = *rng.pick(JA_GIVEN);
                (rg.to_string(), rf.to_string(), Some((kf.into(), kg.into())))
            } else {
                (
                    rng.pick(FIRST_NAMES).to_string(),
                    rng.pick(LAST_NAMES).to_string(),
                    None,
                )
            };
            let local = if rng.chance(50) {
                format!("{}.{}", slug(&first), slug(&last))
            } else {
                format!(
                    "{}{}",
                    slug(&first).chars().next().unwrap_or('x'),
                    slug(&last)
                )
            };
            // Two colleagues of one name get different addresses.
            let mut email = format!("{local}@{}", c.domain);
            if out.iter().any(|p: &Person| p.org == k && p.email == email) {
                email = format!("{local}{}@{}", rng.below(90) + 10, c.domain);
            }
            let phone = phone(rng, c.country);
            out.push(Person {
                org: k,
                first,
                last,
                kanji,
                email,
                phone,
            });
        }
    }
    out
}

/// How one source writes a person's name.
fn person_spelling(rng: &mut Rng, p: &Person, source: &str) -> String {
    if let Some((family, given)) = &p.kanji {
        let romaji = source == "hs" || (source == "zd" && rng.chance(50));
        return if romaji {
            match rng.below(3) {
                0 => format!("{} {}", p.first, p.last),
                1 => format!("{} {}", p.last.to_uppercase(), p.first),
                _ => format!("{}, {}", p.last, p.first),
            }
        } else {
            match rng.below(5) {
                0 => format!("{given} {family}"),
                1 => format!("{family}{given}"),
                2 => format!("{family} {given} 様"),
                _ => format!("{family} {given}"),
            }
        };
    }
    let mut name = match (source, rng.below(4)) {
        ("hs", 0) => format!("{}, {}", p.last, p.first),
        (_, 1) if rng.chance(30) => {
            let honorific = rng.pick(&["Mr.", "Dr.", "Ms."]);
            format!("{honorific} {} {}", p.first, p.last)
        }
        _ => format!("{} {}", p.first, p.last),
    };
    if rng.chance(7) {
        name = typo(rng, &name);
    }
    name
}

impl Book {
    /// A company's name as its own books write it.
    pub fn company_name(&self, k: usize) -> &str {
        self.companies.get(k).map_or("", |c| c.base.as_str())
    }
}

/// Generates a book of `customers` companies (and about 2.5 people each)
/// spread over four sources.
pub fn generate(customers: usize, seed: u64) -> Book {
    let mut rng = Rng(seed | 1);
    let companies = make_companies(&mut rng, customers);
    let people = make_people(&mut rng, &companies);
    let mut records = Vec::new();
    let mut truth = HashMap::new();
    let mut org_ids: Vec<HashMap<&str, String>> = vec![HashMap::new(); companies.len()];
    for (k, c) in companies.iter().enumerate() {
        let mut sources: Vec<&str> = ["sf", "hs", "zd"]
            .into_iter()
            .zip([80, 60, 40])
            .filter_map(|(s, p)| rng.chance(p).then_some(s))
            .collect();
        if sources.is_empty() {
            sources.push("sf");
        }
        for source in sources {
            let id = match source {
                "sf" => format!("001{k:07}"),
                "hs" => format!("company-{k}"),
                _ => format!("org-{k}"),
            };
            let mut r = Record::new(source, &id, RecordKind::Organization);
            let name = company_spelling(&mut rng, c, source);
            r.names.push(name.clone());
            r.title = Some(name);
            if source != "zd" && rng.chance(70) {
                r.phones.push(c.phone.clone());
            }
            if source != "sf" || rng.chance(60) {
                r.websites.push(c.domain.clone());
            }
            if rng.chance(75) {
                r.country = Some(c.country.to_string());
            }
            if source == "sf" && rng.chance(80) {
                r.address.city = Some(c.city.to_string());
                r.address.postcode = Some(c.postcode.clone());
            } else if source == "hs" && rng.chance(50) {
                r.address.city = Some(c.city.to_string());
            }
            if let Some(reg) = &c.registration
                && source == "sf"
                && rng.chance(80)
            {
                r.identifiers.push(reg.clone());
            }
            truth.insert(
                r.id(),
                Truth {
                    org: k,
                    person: None,
                },
            );
            org_ids[k].insert(source, id);
            records.push(r);
        }
    }
    for (n, p) in people.iter().enumerate() {
        let c = &companies[p.org];
        let mut sources: Vec<&str> = ["sf", "hs", "zd", "vc"]
            .into_iter()
            .zip([70, 50, 30, 20])
            .filter_map(|(s, pct)| rng.chance(pct).then_some(s))
            .collect();
        if sources.is_empty() {
            sources.push("hs");
        }
        for source in sources {
            let id = match source {
                "sf" => format!("003{n:07}"),
                "hs" => format!("contact-{n}"),
                "zd" => format!("user-{n}"),
                _ => format!("card-{n}.vcf"),
            };
            let mut r = Record::new(source, &id, RecordKind::Person);
            r.names.push(person_spelling(&mut rng, p, source));
            let work_email = match source {
                "vc" => rng.chance(50),
                "hs" => rng.chance(80),
                _ => true,
            };
            if work_email {
                r.emails.push(p.email.clone());
            } else if rng.chance(40) {
                r.emails.push(format!(
                    "{}.{}{}@{}",
                    slug(&p.first),
                    slug(&p.last),
                    rng.below(99),
                    rng.pick(FREEMAIL)
                ));
            }
            if source == "vc" || rng.chance(35) {
                r.phones.push(p.phone.clone());
            } else if rng.chance(15) {
                // The switchboard, shared by colleagues.
                r.phones.push(c.phone.clone());
            }
            match source {
                "sf" => match org_ids[p.org].get("sf") {
                    Some(account) => {
                        r.customer_ref = Some(account.clone());
                        r.links.push(Link {
                            rel: "account".into(),
                            target: account.clone(),
                            name: None,
                        });
                    }
                    None => r.company = Some(company_spelling(&mut rng, c, "sf")),
                },
                "zd" => match org_ids[p.org].get("zd") {
                    Some(org) => r.links.push(Link {
                        rel: "organization".into(),
                        target: org.clone(),
                        name: None,
                    }),
                    None if rng.chance(50) => r.company = Some(company_spelling(&mut rng, c, "zd")),
                    None => {}
                },
                _ => {
                    if rng.chance(85) {
                        r.company = Some(company_spelling(&mut rng, c, source));
                    }
                }
            }
            truth.insert(
                r.id(),
                Truth {
                    org: p.org,
                    person: Some(n),
                },
            );
            records.push(r);
        }
    }
    // Sources are read in turn, so first-seen order interleaves them.
    records.sort_by(|a, b| {
        a.source
            .cmp(&b.source)
            .then(a.external_id.cmp(&b.external_id))
    });
    Book {
        records,
        truth,
        customers: companies.len(),
        people: people.len(),
        companies,
        persons: people,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_book_is_deterministic_and_has_its_traps() {
        let a = generate(400, 7);
        let b = generate(400, 7);
        assert_eq!(a.records, b.records);
        assert_eq!(a.truth.len(), a.records.len());
        let names: Vec<&str> = a
            .records
            .iter()
            .filter(|r| r.kind == RecordKind::Organization)
            .filter_map(|r| r.names.first().map(String::as_str))
            .collect();
        assert!(names.iter().any(|n| n.starts_with("Laboratoires ")));
        assert!(names.iter().any(|n| n.contains("株式会社")));
        // Same registered name, two companies.
        let mut by_name: HashMap<String, std::collections::HashSet<usize>> = HashMap::new();
        for r in &a.records {
            if r.kind == RecordKind::Organization {
                let key = crate::normalize::company_key(&r.names[0]);
                by_name.entry(key).or_default().insert(a.truth[&r.id()].org);
            }
        }
        assert!(by_name.values().any(|orgs| orgs.len() > 1));
    }
}
