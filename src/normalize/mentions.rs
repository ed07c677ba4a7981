//! Mentions of an erased person in other people's free text: their email
//! addresses (any case), phone numbers (however they are written: the same
//! last nine digits) and full names (any case), replaced by `[erased]`.
//!
//! It must never touch a word that is not one of the person's: a name is
//! matched whole (not inside a longer word), a phone only as a whole run of
//! digits and separators.

/// What is replaced.
pub const ERASED: &str = "[erased]";

/// The person's details to look for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Mentions {
    emails: Vec<String>,
    /// The last nine digits of each phone number (all of them if shorter).
    phone_tails: Vec<String>,
    names: Vec<String>,
}

impl Mentions {
    pub fn new<'a>(
        emails: impl IntoIterator<Item = &'a str>,
        phones: impl IntoIterator<Item = &'a str>,
        names: impl IntoIterator<Item = &'a str>,
    ) -> Mentions {
        let mut m = Mentions::default();
        for email in emails {
            let email = email.trim().to_lowercase();
            if email.contains('@') && !m.emails.contains(&email) {
                m.emails.push(email);
            }
        }
        for phone in phones {
            let digits: String = phone.chars().filter(char::is_ascii_digit).collect();
            if digits.len() >= 7 {
                let tail = digits[digits.len().saturating_sub(9)..].to_string();
                if !m.phone_tails.contains(&tail) {
                    m.phone_tails.push(tail);
                }
            }
        }
        for name in names {
            let name = name.split_whitespace().collect::<Vec<_>>().join(" ");
            // A full name: two words, or a CJK name of two characters or more.
            let full = name.contains(' ') || (name.chars().count() >= 2 && !name.is_ascii());
            if full && !m.names.iter().any(|n| n.eq_ignore_ascii_case(&name)) {
                m.names.push(name);
            }
        }
        // Longer names first, so that "Anna Maria Schmidt" goes before
        // "Anna Schmidt" could leave "Maria" behind.
        m.names.sort_by_key(|n| std::cmp::Reverse(n.len()));
        m
    }

    /// What a restore needs to find the mentions again without holding
    /// them: `email:HASH`, `phone:HASH` (of the last digits) and
    /// `name:CHARS:HASH` (lower case, single spaces), BLAKE3 each
    /// (found again by `normalize/mention_hashes.rs`).
    pub fn hashes(&self) -> Vec<String> {
        let hash = |text: &str| blake3::hash(text.as_bytes()).to_hex().to_string();
        let emails = self.emails.iter().map(|e| format!("email:{}", hash(e)));
        let phones = self
            .phone_tails
            .iter()
            .map(|t| format!("phone:{}", hash(t)));
        let names = self.names.iter().map(|n| {
            let n = n.to_lowercase();
            format!("name:{}:{}", n.chars().count(), hash(&n))
        });
        emails.chain(phones).chain(names).collect()
    }

    pub fn is_empty(&self) -> bool {
        self.emails.is_empty() && self.phone_tails.is_empty() && self.names.is_empty()
    }

    /// `text` with every mention replaced, or `None` when it holds none.
    pub fn redact(&self, text: &str) -> Option<String> {
        let mut out = text.to_string();
        for email in &self.emails {
            out = replace_ignoring_case(&out, email, false);
        }
        for name in &self.names {
            out = replace_ignoring_case(&out, name, true);
        }
        if !self.phone_tails.is_empty() {
            out = self.replace_phones(&out);
        }
        (out != text).then_some(out)
    }

    fn replace_phones(&self, text: &str) -> String {
        replace_phone_runs(text, &|digits| {
            self.phone_tails
                .iter()
                .any(|t| digits.len() >= t.len() && digits.ends_with(t.as_str()))
        })
    }
}

/// `text` with each run of digits and separators that reads as one phone
/// number (a whole word) replaced where `is_match` accepts its digits.
pub(super) fn replace_phone_runs(text: &str, is_match: &dyn Fn(&str) -> bool) -> String {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    let mut copied = 0;
    while i < bytes.len() {
        let starts = bytes[i] == b'+' || bytes[i] == b'(' || bytes[i].is_ascii_digit();
        let boundary = i == 0 || !bytes[i - 1].is_ascii_alphanumeric();
        if !(starts && boundary) {
            i += 1;
            continue;
        }
        let j = super::phone::phone_run_end(bytes, i);
        let digits: String = text[i..j].chars().filter(char::is_ascii_digit).collect();
        let ends_word = j == bytes.len() || !bytes[j].is_ascii_alphanumeric();
        if ends_word && is_match(&digits) {
            out.push_str(&text[copied..i]);
            out.push_str(ERASED);
            copied = j;
        }
        i = j.max(i + 1);
    }
    out.push_str(&text[copied..]);
    out
}

/// `text` with every occurrence of `needle` (ASCII case ignored) replaced;
/// `whole_words`: only where it is not part of a longer word.
fn replace_ignoring_case(text: &str, needle: &str, whole_words: bool) -> String {
    if needle.is_empty() {
        return text.to_string();
    }
    let lower_text = text.to_ascii_lowercase();
    let lower_needle = needle.to_ascii_lowercase();
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    let mut from = 0;
    while let Some(found) = lower_text[from..].find(&lower_needle) {
        let start = from + found;
        let end = start + lower_needle.len();
        // Scripts without spaces between words have no word boundary to check.
        let word_char = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric());
        let alone = !whole_words
            || (!word_char(text[..start].chars().next_back())
                && !word_char(text[end..].chars().next()));
        if alone {
            out.push_str(&text[copied..start]);
            out.push_str(ERASED);
            copied = end;
        }
        from = end;
    }
    out.push_str(&text[copied..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_persons_details_are_replaced_however_they_are_written_and_nothing_else() {
        let m = Mentions::new(
            ["a.schmidt@brightwater-logistics.de"],
            ["+49305550123"],
            ["Anna Schmidt", "Schmidt", "佐藤 健"],
        );
        let text = "Met Anna SCHMIDT (A.Schmidt@Brightwater-Logistics.de, 030 5550123) and \
                    Lukas Becker; Schmidtke agreed. 佐藤 健さんにも連絡。Invoice 2024-05-20.";
        let redacted = m.redact(text).expect("mentions found");
        assert_eq!(
            redacted,
            "Met [erased] ([erased], [erased]) and Lukas Becker; Schmidtke agreed. \
             [erased]さんにも連絡。Invoice 2024-05-20."
        );
        assert_eq!(m.redact("Lukas Becker called about 2024-05-20."), None);
        assert!(
            Mentions::new([], [], ["Anna"]).is_empty(),
            "a single given name is not a mention"
        );
    }
}
