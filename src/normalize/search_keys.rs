//! The words under which staff look a customer up, beyond the words of its
//! name: the matching key without its legal form, the acronym of a long
//! name and its letters one by one (so `I.B.M.`, analysed as `i b m`, and
//! `IBM` both find International Business Machines Corporation), every
//! spelling of its legal form's family (Corp. = Corporation = Inc.,
//! 株式会社 = (株) = K.K. = Co., Ltd.), and German and accented letters
//! written the other ways (Jäger = Jaeger = Jager, Straße = Strasse,
//! José = Jose).
//!
//! It must never drop a word: it only adds spellings, and the search
//! analyser reads them like any other text.

use unicode_normalization::UnicodeNormalization;

use super::names::{acronym, company_key, legal_form};

/// Every spelling of one legal-form family, as staff type them.
fn family_spellings(family: &str) -> &'static [&'static str] {
    match family {
        "inc" => &["inc", "incorporated", "corp", "corporation"],
        "ltd" => &[
            "ltd",
            "limited",
            "co",
            "kk",
            "株式会社",
            "株",
            "カブシキガイシャ",
        ],
        "llc" => &["llc"],
        "plc" => &["plc"],
        "gmbh" => &["gmbh"],
        "ag" => &["ag"],
        "sa" => &["sa"],
        "sas" => &["sas"],
        "sarl" => &["sarl"],
        "yk" => &["有限会社", "有"],
        "gk" => &["合同会社"],
        _ => &[],
    }
}

/// German transliterations and accents, each way: `jäger` gives `jaeger`
/// and `jager`; `jaeger` gives `jäger` and `jager`; `straße` gives
/// `strasse`; `josé` gives `jose`. Words without such letters give nothing.
pub fn letter_variants(word: &str) -> Vec<String> {
    let lower = word.to_lowercase();
    let mut out: Vec<String> = Vec::new();
    let mut push = |w: String| {
        if w != lower && !w.is_empty() && !out.contains(&w) {
            out.push(w);
        }
    };
    let transliterated = lower
        .replace('ä', "ae")
        .replace('ö', "oe")
        .replace('ü', "ue")
        .replace('ß', "ss");
    push(transliterated.clone());
    let plain: String = lower
        .replace('ß', "ss")
        .nfd()
        .filter(|c| !('\u{300}'..='\u{36f}').contains(c))
        .collect();
    push(plain);
    if lower.chars().all(|c| c.is_ascii_alphabetic()) {
        let umlauts = lower
            .replace("ae", "ä")
            .replace("oe", "ö")
            .replace("ue", "ü");
        if umlauts != lower {
            push(umlauts.clone());
            push(
                lower
                    .replace("ae", "a")
                    .replace("oe", "o")
                    .replace("ue", "u"),
            );
        }
        if lower.contains("ss") {
            push(lower.replace("ss", "ß"));
        }
    }
    out
}

/// The extra words of a customer named by `names` (its golden name and
/// every variant), space-separated, without repeats.
pub fn customer_keys(names: &[&str]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut push = |w: &str| {
        let w = w.trim();
        if !w.is_empty() && !out.iter().any(|o| o == w) {
            out.push(w.to_string());
        }
    };
    for name in names {
        let key = company_key(name);
        push(&key);
        // A short key (IBM, NEC) also letter by letter, as `I.B.M.` reads.
        let short = key.chars().count() <= 5 && key.chars().all(|c| c.is_ascii_alphabetic());
        if short && key.chars().count() >= 2 {
            push(&key.chars().map(String::from).collect::<Vec<_>>().join(" "));
        }
        if let Some(letters) = acronym(&key) {
            push(&letters);
            push(
                &letters
                    .chars()
                    .map(String::from)
                    .collect::<Vec<_>>()
                    .join(" "),
            );
        }
        if let Some(family) = legal_form(name) {
            for spelling in family_spellings(family) {
                push(spelling);
            }
        }
        for word in name.split_whitespace() {
            for variant in letter_variants(word) {
                push(&variant);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn acronyms_letters_and_legal_forms() {
        let keys = customer_keys(&["International Business Machines Corporation"]);
        for k in [
            "international business machines",
            "ibm",
            "i b m",
            "corp",
            "inc",
        ] {
            assert!(keys.contains(&k.to_string()), "{k} missing from {keys:?}");
        }
        let keys = customer_keys(&["日東精機株式会社"]);
        for k in ["日東精機", "株", "kk", "ltd"] {
            assert!(keys.contains(&k.to_string()), "{k} missing from {keys:?}");
        }
    }

    #[test]
    fn german_letters_and_accents_each_way() {
        assert_eq!(letter_variants("Jäger"), vec!["jaeger", "jager"]);
        assert_eq!(letter_variants("Jaeger"), vec!["jäger", "jager"]);
        assert_eq!(letter_variants("Müller"), vec!["mueller", "muller"]);
        assert_eq!(letter_variants("Mueller"), vec!["müller", "muller"]);
        assert_eq!(letter_variants("Straße"), vec!["strasse"]);
        assert_eq!(letter_variants("Strasse"), vec!["straße"]);
        assert_eq!(letter_variants("José"), vec!["jose"]);
        assert!(letter_variants("Smith").is_empty());
    }
}
