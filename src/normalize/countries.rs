//! Country names as people write them in exports, in the languages customers
//! and staff use (U.S.A., United States of America, Deutschland, Allemagne,
//! 日本, Japon, ...), mapped to ISO 3166 alpha-2 codes. `celes` knows codes
//! and English names; this table adds the rest.
//!
//! It must never guess: a name not in the table is left to `celes`, and
//! what neither knows stays a quality issue.

use unicode_normalization::UnicodeNormalization;

/// (ISO code, names folded as [`fold`] folds them).
const ALIASES: &[(&str, &[&str])] = &[
    (
        "US",
        &[
            "usa",
            "us",
            "america",
            "united states",
            "united states of america",
            "the united states",
            "the united states of america",
            "u s",
            "u s a",
            "etats unis",
            "etats unis d amerique",
            "vereinigte staaten",
            "vereinigte staaten von amerika",
            "estados unidos",
            "stati uniti",
            "アメリカ",
            "米国",
            "アメリカ合衆国",
            "合衆国",
            "美国",
        ],
    ),
    (
        "DE",
        &[
            "deutschland",
            "allemagne",
            "germany",
            "alemania",
            "germania",
            "bundesrepublik deutschland",
            "brd",
            "federal republic of germany",
            "ドイツ",
            "独逸",
            "德国",
        ],
    ),
    (
        "JP",
        &[
            "japan",
            "japon",
            "giappone",
            "nippon",
            "nihon",
            "日本",
            "日本国",
            "ジャパン",
        ],
    ),
    (
        "GB",
        &[
            "uk",
            "u k",
            "united kingdom",
            "great britain",
            "britain",
            "england",
            "scotland",
            "wales",
            "northern ireland",
            "royaume uni",
            "grande bretagne",
            "vereinigtes konigreich",
            "grossbritannien",
            "reino unido",
            "regno unito",
            "イギリス",
            "英国",
            "連合王国",
        ],
    ),
    (
        "FR",
        &[
            "france",
            "frankreich",
            "francia",
            "フランス",
            "仏国",
            "法国",
        ],
    ),
    (
        "ES",
        &[
            "spain",
            "espana",
            "espagne",
            "spanien",
            "spagna",
            "スペイン",
        ],
    ),
    ("IT", &["italy", "italia", "italie", "italien", "イタリア"]),
    (
        "NL",
        &[
            "netherlands",
            "the netherlands",
            "holland",
            "nederland",
            "pays bas",
            "niederlande",
            "paises bajos",
            "オランダ",
        ],
    ),
    (
        "BE",
        &[
            "belgium",
            "belgique",
            "belgie",
            "belgien",
            "belgica",
            "ベルギー",
        ],
    ),
    (
        "CH",
        &[
            "switzerland",
            "schweiz",
            "suisse",
            "svizzera",
            "suiza",
            "スイス",
        ],
    ),
    ("AT", &["austria", "osterreich", "autriche", "オーストリア"]),
    (
        "CN",
        &[
            "china",
            "chine",
            "prc",
            "people s republic of china",
            "中国",
            "中華人民共和国",
            "中国大陆",
        ],
    ),
    (
        "KR",
        &[
            "korea",
            "south korea",
            "republic of korea",
            "coree du sud",
            "sudkorea",
            "韓国",
            "大韓民国",
            "대한민국",
            "한국",
        ],
    ),
    ("TW", &["taiwan", "台湾", "臺灣", "台灣"]),
    ("HK", &["hong kong", "香港"]),
    ("SG", &["singapore", "singapour", "シンガポール", "新加坡"]),
    ("IN", &["india", "inde", "indien", "インド"]),
    (
        "AU",
        &[
            "australia",
            "australie",
            "australien",
            "オーストラリア",
            "豪州",
        ],
    ),
    ("CA", &["canada", "kanada", "カナダ"]),
    ("MX", &["mexico", "mexique", "mexiko", "メキシコ"]),
    (
        "BR",
        &["brazil", "brasil", "bresil", "brasilien", "ブラジル"],
    ),
    (
        "RU",
        &[
            "russia",
            "russland",
            "russie",
            "rossiya",
            "россия",
            "ロシア",
        ],
    ),
    ("PL", &["poland", "polska", "pologne", "polen"]),
    ("SE", &["sweden", "sverige", "suede", "schweden"]),
    ("NO", &["norway", "norge", "norvege", "norwegen"]),
    ("DK", &["denmark", "danmark", "danemark", "daenemark"]),
    ("FI", &["finland", "suomi", "finlande", "finnland"]),
    ("IE", &["ireland", "eire", "irlande", "irland"]),
    ("PT", &["portugal"]),
    ("TH", &["thailand", "thailande", "タイ"]),
    ("VN", &["vietnam", "viet nam", "ベトナム"]),
];

/// Lower case, accents dropped, NFKC (full-width folded), every run of
/// punctuation or space one space: "U.S.A." → `u s a`, "Österreich" →
/// `osterreich`, "ＵＳＡ" → `usa`.
fn fold(text: &str) -> String {
    let plain: String = text
        .nfkc()
        .collect::<String>()
        .nfd()
        .filter(|c| !('\u{300}'..='\u{36f}').contains(c))
        .flat_map(char::to_lowercase)
        .collect::<String>()
        .nfc()
        .collect();
    plain
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The ISO code of a country name or abbreviation the table knows.
pub fn alias(raw: &str) -> Option<&'static str> {
    let folded = fold(raw);
    if folded.is_empty() {
        return None;
    }
    // "U.S.A." and "USA" alike: dotted letters joined.
    let joined: String = folded.split(' ').collect();
    let single_letters = folded.split(' ').all(|w| w.chars().count() == 1);
    ALIASES.iter().find_map(|(code, names)| {
        names
            .iter()
            .any(|n| *n == folded || (single_letters && *n == joined))
            .then_some(*code)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_as_people_write_them() {
        for (text, code) in [
            ("U.S.A.", "US"),
            ("USA", "US"),
            ("U.S.", "US"),
            ("United States of America", "US"),
            ("ＵＳＡ", "US"),
            ("États-Unis", "US"),
            ("Deutschland", "DE"),
            ("Allemagne", "DE"),
            ("日本", "JP"),
            ("Japon", "JP"),
            ("Österreich", "AT"),
            ("U.K.", "GB"),
            ("England", "GB"),
            ("The Netherlands", "NL"),
            ("대한민국", "KR"),
            ("ドイツ", "DE"),
        ] {
            assert_eq!(alias(text), Some(code), "{text}");
        }
        assert_eq!(alias("Atlantis"), None);
        assert_eq!(super::super::country_code("Allemagne").as_deref(), Ok("DE"));
        assert_eq!(super::super::country_code("FRA").as_deref(), Ok("FR"));
        assert!(super::super::country_code("Atlantis").is_err());
        assert_eq!(alias(""), None);
    }

    #[test]
    fn a_national_number_takes_the_region_of_a_country_written_out() {
        use crate::record::{Record, RecordKind};
        let mut r = Record::new("crm", "1", RecordKind::Person);
        r.names.push("Jana Jäger".into());
        r.country = super::super::country_code("Deutschland").ok();
        r.phones.push("030 1234 5678".into());
        super::super::finish_record(&mut r, Some("US"));
        assert_eq!(r.phones, vec!["+493012345678"]);
        assert!(r.quality.is_empty(), "{:?}", r.quality);
    }
}
