//! The encoding of a plain-text file saved without a label: a byte-order
//! mark (UTF-8, UTF-16LE/BE), else UTF-8 when the bytes are valid UTF-8,
//! else the legacy encoding chardetng finds most likely (Shift_JIS/CP932,
//! EUC-JP, ISO-2022-JP, windows-1252 for Latin-1, GBK, Big5, EUC-KR, ...),
//! taken only when it decodes every byte.
//!
//! It must never turn text into U+FFFD when a legacy encoding reads it
//! cleanly; only bytes no encoding reads are replaced, and the caller says so.

use chardetng::{EncodingDetector, Iso2022JpDetection, Utf8Detection};
use encoding_rs::{Encoding, UTF_8};

/// Text decoded from bytes, with the encoding it was read in.
pub struct Decoded {
    pub text: String,
    /// The WHATWG name of the encoding (`UTF-8`, `Shift_JIS`, `EUC-JP`,
    /// `UTF-16LE`, `windows-1252`, ...).
    pub encoding: &'static str,
    /// Where the first byte no encoding could read is, when some were
    /// replaced with U+FFFD (the file is then read as UTF-8).
    pub invalid_at: Option<usize>,
}

pub fn decode(bytes: &[u8]) -> Decoded {
    if let Some((encoding, bom)) = Encoding::for_bom(bytes) {
        let (text, had_errors) = encoding.decode_without_bom_handling(&bytes[bom..]);
        return Decoded {
            text: text.into_owned(),
            encoding: encoding.name(),
            invalid_at: had_errors.then_some(bom),
        };
    }
    let invalid_at = match std::str::from_utf8(bytes) {
        Ok(text) => {
            return Decoded {
                text: text.to_string(),
                encoding: UTF_8.name(),
                invalid_at: None,
            };
        }
        Err(e) => e.valid_up_to(),
    };
    if damaged_utf8(bytes) {
        return Decoded {
            text: String::from_utf8_lossy(bytes).into_owned(),
            encoding: UTF_8.name(),
            invalid_at: Some(invalid_at),
        };
    }
    let mut detector = EncodingDetector::new(Iso2022JpDetection::Allow);
    detector.feed(bytes, true);
    let guess = detector.guess(None, Utf8Detection::Allow);
    if guess != UTF_8
        && let Some(text) = guess.decode_without_bom_handling_and_without_replacement(bytes)
    {
        return Decoded {
            text: text.into_owned(),
            encoding: guess.name(),
            invalid_at: None,
        };
    }
    Decoded {
        text: String::from_utf8_lossy(bytes).into_owned(),
        encoding: UTF_8.name(),
        invalid_at: Some(invalid_at),
    }
}

/// UTF-8 with a few bad bytes rather than another encoding: more valid
/// multi-byte characters than invalid bytes.
fn damaged_utf8(bytes: &[u8]) -> bool {
    let (mut valid, mut invalid) = (0usize, 0usize);
    for chunk in bytes.utf8_chunks() {
        valid += chunk.valid().chars().filter(|c| !c.is_ascii()).count();
        invalid += chunk.invalid().len();
    }
    valid > invalid
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encoded(text: &str, label: &str) -> Vec<u8> {
        let encoding = Encoding::for_label(label.as_bytes()).unwrap_or(UTF_8);
        encoding.encode(text).0.into_owned()
    }

    #[test]
    fn legacy_encodings_are_read_cleanly() {
        let japanese = "日東精機様との打ち合わせ。見積書を送付済み、保守費用の内訳を追加予定。";
        for (label, name) in [("shift_jis", "Shift_JIS"), ("euc-jp", "EUC-JP")] {
            let d = decode(&encoded(japanese, label));
            assert_eq!(d.encoding, name);
            assert_eq!(d.text, japanese);
            assert!(d.invalid_at.is_none());
        }
        let latin =
            "Müller GmbH: Besprechung mit Herrn Jäger über die Straße in Köln; café résumé.";
        let d = decode(&encoded(latin, "windows-1252"));
        assert_eq!(d.encoding, "windows-1252");
        assert_eq!(d.text, latin);
        let mut utf16 = vec![0xFF, 0xFE];
        for unit in japanese.encode_utf16() {
            utf16.extend_from_slice(&unit.to_le_bytes());
        }
        let d = decode(&utf16);
        assert_eq!((d.encoding, d.text.as_str()), ("UTF-16LE", japanese));
        let d = decode("plain UTF-8 ✓".as_bytes());
        assert_eq!((d.encoding, d.text.as_str()), ("UTF-8", "plain UTF-8 ✓"));
        // UTF-8 with one broken byte stays UTF-8 (no mojibake elsewhere).
        let mut broken = "東京の会議 ✓ ".as_bytes().to_vec();
        broken.push(0xE9);
        broken.extend_from_slice("café".as_bytes());
        let d = decode(&broken);
        assert_eq!(d.encoding, "UTF-8");
        assert_eq!(d.text, "東京の会議 ✓ \u{FFFD}café");
        assert!(d.invalid_at.is_some());
    }
}
