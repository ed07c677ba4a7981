//! A city as notes and CRMs write it in either script: 大阪市, 大阪 and
//! "Osaka" are one city, so a note written in Japanese can tell namesakes
//! apart by a city the CRM holds romanised (and the other way round).
//!
//! It must never make two different cities one: only the suffix a
//! Japanese city name carries (市, 都, 府, 区) is dropped, and only the
//! cities listed here are romanised.

/// Major Japanese cities, kanji → the romanisation CRMs write.
const ROMAJI: &[(&str, &str)] = &[
    ("東京", "tokyo"),
    ("大阪", "osaka"),
    ("名古屋", "nagoya"),
    ("横浜", "yokohama"),
    ("京都", "kyoto"),
    ("神戸", "kobe"),
    ("札幌", "sapporo"),
    ("福岡", "fukuoka"),
    ("仙台", "sendai"),
    ("広島", "hiroshima"),
    ("川崎", "kawasaki"),
    ("さいたま", "saitama"),
    ("千葉", "chiba"),
    ("北九州", "kitakyushu"),
    ("浜松", "hamamatsu"),
    ("静岡", "shizuoka"),
    ("新潟", "niigata"),
    ("熊本", "kumamoto"),
    ("岡山", "okayama"),
];

/// One word of a city's name (lower case, as `clues::words` gives it) in
/// the form both scripts share.
pub(super) fn city_word(word: &str) -> String {
    let bare = ["市", "都", "府", "区"]
        .iter()
        .find_map(|suffix| word.strip_suffix(suffix))
        .filter(|rest| !rest.is_empty())
        .unwrap_or(word);
    ROMAJI
        .iter()
        .find(|(kanji, _)| *kanji == bare)
        .map_or_else(|| word.to_string(), |(_, romaji)| romaji.to_string())
}

#[cfg(test)]
mod tests {
    use super::city_word;

    #[test]
    fn a_city_is_one_word_in_either_script() {
        assert_eq!(city_word("大阪市"), "osaka");
        assert_eq!(city_word("大阪"), "osaka");
        assert_eq!(city_word("osaka"), "osaka");
        assert_eq!(city_word("東京都"), "tokyo");
        // An unlisted city keeps its name; a suffix alone is no city.
        assert_eq!(city_word("堺市"), "堺市");
        assert_eq!(city_word("市"), "市");
        assert_eq!(city_word("leeds"), "leeds");
    }
}
