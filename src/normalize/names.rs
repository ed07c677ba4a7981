//! Matching keys for person and company names: what two spellings of one
//! name have in common once case, width, punctuation, honorifics, name order
//! and legal forms are set aside ("I.B.M. Corp." and "IBM" → `ibm`;
//! "Smith, Jon" and "Mr Jon Smith" → `jon smith`; "山田 太郎様" → `山田太郎`).
//!
//! Keys are for matching only; they are never shown in place of a name.

use unicode_normalization::UnicodeNormalization;

const HONORIFICS: &[&str] = &[
    "mr", "mrs", "ms", "miss", "mx", "dr", "prof", "sir", "madam", "herr", "frau", "san",
];
const JAPANESE_HONORIFICS: &[&str] = &["さん", "様", "さま", "殿", "氏", "くん", "君"];

/// Legal forms dropped from company names, after folding (lower case, no
/// punctuation). Multi-word forms are matched as token sequences.
const LEGAL_FORMS: &[&str] = &[
    "inc",
    "incorporated",
    "corp",
    "corporation",
    "co",
    "company",
    "ltd",
    "limited",
    "llc",
    "llp",
    "lp",
    "plc",
    "gmbh",
    "ag",
    "kg",
    "sa",
    "sas",
    "sarl",
    "srl",
    "spa",
    "bv",
    "nv",
    "oy",
    "ab",
    "as",
    "pty",
    "kk",
    "pte",
    "group",
    "holdings",
];
const JAPANESE_LEGAL_FORMS: &[&str] = &[
    "株式会社",
    "(株)",
    "有限会社",
    "(有)",
    "合同会社",
    "合資会社",
    "合名会社",
    "一般社団法人",
    "一般財団法人",
    "公益社団法人",
    "社団法人",
    "財団法人",
];

fn is_cjk(c: char) -> bool {
    matches!(c,
        '\u{3040}'..='\u{30ff}' | '\u{3400}'..='\u{4dbf}' | '\u{4e00}'..='\u{9fff}'
        | '\u{f900}'..='\u{faff}' | '\u{3005}')
}

/// NFKC, lower case; every character that is not a letter or digit becomes a
/// space, except `.` `-` `'` inside Latin words, which are dropped
/// (I.B.M. → ibm, O'Brien → obrien).
fn fold(text: &str) -> String {
    // ASCII is its own NFKC and has no Latin letters to fold.
    let lowered: String = if text.is_ascii() {
        text.to_ascii_lowercase()
    } else {
        latin_letters(&text.nfkc().collect::<String>().to_lowercase())
    };
    let mut out = String::with_capacity(lowered.len());
    for c in lowered.chars() {
        if c.is_alphanumeric() {
            out.push(c);
        } else if matches!(c, '.' | '\'' | '’' | '-' | '‐') {
            // joined: I.B.M. → ibm, I-B-M → ibm
        } else {
            out.push(' ');
        }
    }
    out
}

/// German letters transliterated (ä → ae, ö → oe, ü → ue, ß → ss, so
/// Jäger = Jaeger, Straße = Strasse) and accents dropped from other Latin
/// letters (José = Jose); every other script untouched.
fn latin_letters(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            'ä' => out.push_str("ae"),
            'ö' => out.push_str("oe"),
            'ü' => out.push_str("ue"),
            'ß' => out.push_str("ss"),
            '\u{c0}'..='\u{24f}' => out.extend(
                std::iter::once(c)
                    .nfd()
                    .filter(|m| !('\u{300}'..='\u{36f}').contains(m)),
            ),
            _ => out.push(c),
        }
    }
    out
}

/// NFKC, without the work for ASCII text (its own normal form): names are
/// folded millions of times in a large book's resolution.
fn nfkc(text: &str) -> String {
    if text.is_ascii() {
        text.to_string()
    } else {
        text.nfkc().collect()
    }
}

/// Joins tokens: CJK tokens are concatenated (Japanese names are written with
/// or without a space), Latin ones joined by a space.
fn join(tokens: &[String]) -> String {
    let mut out = String::new();
    for (i, token) in tokens.iter().enumerate() {
        let cjk_boundary = i > 0
            && token.chars().next().is_some_and(is_cjk)
            && tokens[i - 1].chars().last().is_some_and(is_cjk);
        if i > 0 && !cjk_boundary {
            out.push(' ');
        }
        out.push_str(token);
    }
    out
}

/// The matching key of a person's name. Latin names are order-free
/// ("Smith, Jon" = "Jon Smith"); Japanese names keep their order (family name
/// first) and lose the space between family and given name.
pub fn person_key(name: &str) -> String {
    let mut tokens = person_parts(name);
    if tokens.iter().all(|t| !t.chars().any(is_cjk)) {
        tokens.sort();
    }
    join(&tokens)
}

/// The folded parts of a person's name, honorifics dropped, in the order
/// written ("高橋 直子 様" → `高橋`, `直子`; "Dr. Jon Smith" → `jon`, `smith`).
pub fn person_parts(name: &str) -> Vec<String> {
    let mut text = nfkc(name);
    for honorific in JAPANESE_HONORIFICS {
        if let Some(stripped) = text.trim_end().strip_suffix(honorific) {
            text = stripped.to_string();
        }
    }
    fold(&text)
        .split_whitespace()
        .filter(|t| !HONORIFICS.contains(t))
        .map(str::to_string)
        .collect()
}

/// The matching key of a company name, without legal forms.
pub fn company_key(name: &str) -> String {
    let mut text = nfkc(name);
    // The Japanese legal forms are not ASCII: ASCII text holds none.
    if !text.is_ascii() {
        for form in JAPANESE_LEGAL_FORMS {
            let folded_form: String = form.nfkc().collect();
            text = text.replace(&folded_form, " ");
        }
    }
    let tokens: Vec<String> = fold(&text).split_whitespace().map(str::to_string).collect();
    // Drop legal forms only where they are not the whole name.
    let kept: Vec<String> = tokens
        .iter()
        .filter(|t| !LEGAL_FORMS.contains(&t.as_str()))
        .cloned()
        .collect();
    join(if kept.is_empty() { &tokens } else { &kept })
}

/// The legal form a company name states, as a family that sources spell
/// alike ("Inc.", "Incorporated" and "Corp." → `inc`; "Ltd", "Limited",
/// "Co., Ltd.", "K.K.", 株式会社, (株) → `ltd`; `gmbh`, `ag`, `sa`, `sas`,
/// `sarl`, `llc`, `plc`, 有限会社 → `yk`, 合同会社 → `gk`). Two different
/// families are two different companies, whatever their names share.
pub fn legal_form(name: &str) -> Option<&'static str> {
    let text: String = nfkc(name);
    // The Japanese forms are not ASCII: ASCII text holds none.
    let japanese = if text.is_ascii() {
        &[][..]
    } else {
        &[
            ("株式会社", "ltd"),
            ("(株)", "ltd"),
            ("有限会社", "yk"),
            ("(有)", "yk"),
            ("合同会社", "gk"),
        ][..]
    };
    for (form, family) in japanese {
        let folded: String = form.nfkc().collect();
        if text.contains(&folded) {
            return Some(family);
        }
    }
    let folded = fold(&text);
    let tokens: Vec<&str> = folded.split_whitespace().collect();
    let last = *tokens.last()?;
    if tokens.len() < 2 {
        return None;
    }
    let family = match last {
        "inc" | "incorporated" | "corp" | "corporation" => "inc",
        "ltd" | "limited" | "kk" => "ltd",
        "llc" => "llc",
        "plc" => "plc",
        "gmbh" => "gmbh",
        "ag" => "ag",
        "sa" => "sa",
        "sas" => "sas",
        "sarl" => "sarl",
        _ => return None,
    };
    Some(family)
}

/// A romanised word as names are matched across scripts: lower case,
/// accents and apostrophes dropped, long vowels folded (Yūko = Yuuko =
/// Yuko, Satou = Sato, Ōno = Oono = Ono).
pub fn fold_romaji(word: &str) -> String {
    let plain: String = word
        .nfkd()
        .filter(|c| c.is_ascii_alphanumeric())
        .flat_map(|c| c.to_lowercase())
        .collect();
    let mut out = String::with_capacity(plain.len());
    for c in plain.chars() {
        let long = match out.chars().last() {
            Some(prev) => {
                (c == 'u' && (prev == 'o' || prev == 'u'))
                    || (c == 'o' && prev == 'o')
                    || (c == 'a' && prev == 'a')
                    || (c == 'e' && prev == 'e')
            }
            None => false,
        };
        if !long {
            out.push(c);
        }
    }
    out
}

/// Initials of a multi-word key ("international business machines" → "ibm"),
/// for keys of three words or more.
pub fn acronym(key: &str) -> Option<String> {
    let words: Vec<&str> = key.split(' ').filter(|w| !w.is_empty()).collect();
    if words.len() < 3 || words.iter().any(|w| w.chars().any(is_cjk)) {
        return None;
    }
    Some(words.iter().filter_map(|w| w.chars().next()).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn german_letters_and_accents_match_their_plain_spellings() {
        assert_eq!(person_key("Jörg Jäger"), person_key("Joerg Jaeger"));
        assert_eq!(person_key("José Núñez"), person_key("Jose Nunez"));
        assert_eq!(
            company_key("Müller Straßenbau GmbH"),
            company_key("Mueller Strassenbau")
        );
        assert_eq!(company_key("日東精機株式会社"), "日東精機");
    }

    #[test]
    fn company_spellings_share_a_key() {
        for name in ["IBM", "I.B.M.", "I-B-M", "ibm Inc.", "IBM Corp", "ＩＢＭ"] {
            assert_eq!(company_key(name), "ibm", "{name}");
        }
        assert_eq!(
            company_key("International Business Machines Corp."),
            "international business machines"
        );
        assert_eq!(
            acronym("international business machines").as_deref(),
            Some("ibm")
        );
        assert_eq!(company_key("日東精機株式会社"), "日東精機");
        assert_eq!(company_key("株式会社 日東精機"), "日東精機");
        assert_eq!(company_key("(株)日東精機"), "日東精機");
        assert_eq!(company_key("㈱日東精機"), "日東精機");
        assert_eq!(
            company_key("Brightwater Logistics GmbH"),
            "brightwater logistics"
        );
        assert_eq!(company_key("The Company"), "the");
        assert_eq!(company_key("Limited"), "limited");
    }

    #[test]
    fn romaji_folds_long_vowels_and_accents() {
        for (a, b) in [
            ("Yūko", "yuko"),
            ("Yuuko", "yuko"),
            ("satou", "sato"),
            ("Ōno", "ono"),
        ] {
            assert_eq!(fold_romaji(a), b, "{a}");
        }
        assert_eq!(fold_romaji("Oono"), "ono");
        assert_eq!(fold_romaji("Takahashi"), "takahashi");
    }

    #[test]
    fn legal_forms_are_read_as_families() {
        assert_eq!(legal_form("IBM Corp."), Some("inc"));
        assert_eq!(legal_form("Acme Incorporated"), Some("inc"));
        assert_eq!(legal_form("Hokuto Seiki Co., Ltd."), Some("ltd"));
        assert_eq!(legal_form("北斗精機株式会社"), Some("ltd"));
        assert_eq!(legal_form("(株)北斗精機"), Some("ltd"));
        assert_eq!(legal_form("Laboratoires Roux SARL"), Some("sarl"));
        assert_eq!(legal_form("Laboratoires Roux SAS"), Some("sas"));
        assert_eq!(legal_form("Koch & Söhne"), None);
        assert_eq!(legal_form("Limited"), None);
    }

    #[test]
    fn person_spellings_share_a_key() {
        assert_eq!(person_key("Jon Smith"), person_key("Smith, Jon"));
        assert_eq!(person_key("Mr. Jon Smith"), "jon smith");
        assert_eq!(person_key("山田 太郎"), "山田太郎");
        assert_eq!(person_key("山田太郎様"), "山田太郎");
        assert_eq!(person_key("ﾔﾏﾀﾞ ﾀﾛｳ"), "ヤマダタロウ");
        assert_eq!(person_key("Seán O'Brien"), "obrien sean");
    }
}
