//! Snippet windows on short, long, English and Japanese texts.

use super::*;

fn needles(words: &[(&str, f32)]) -> Needles {
    let terms: BTreeMap<String, f32> = words.iter().map(|(w, s)| (w.to_string(), *s)).collect();
    Needles::new(&terms).unwrap()
}

/// `n` bytes or so of filler words.
fn filler(n: usize) -> String {
    let words = ["alpha ", "beta ", "gamma ", "delta "];
    let mut out = String::new();
    let mut i = 0;
    while out.len() < n {
        out.push_str(words[i % words.len()]);
        i += 1;
    }
    out
}

#[test]
fn a_short_text_is_analysed_whole() {
    let text = format!("{} Zircon at the end", filler(SCAN_BYTES - 100));
    let n = needles(&[("zircon", 1.0)]);
    assert_eq!(for_terms(&text, || Some(&n), 160), text);
    assert_eq!(for_loose(&text), vec![text.as_str()]);
}

#[test]
fn a_long_text_is_cut_around_its_match_wherever_it_is() {
    let n = needles(&[("zircon", 1.0)]);
    for before in [SCAN_BYTES, 50_000, 300_000] {
        let text = format!(
            "{}Zircon contract signed. {}",
            filler(before),
            filler(20_000)
        );
        let window = for_terms(&text, || Some(&n), 160);
        assert!(window.contains("Zircon contract"), "{before}");
        assert!(window.len() <= WINDOW_BYTES, "{before}: {}", window.len());
        assert!(!window.starts_with(' '));
    }
}

#[test]
fn the_place_where_most_terms_meet_wins_over_an_earlier_single_one() {
    let text = format!(
        "{}billing question {}a billing dispute was raised {}",
        filler(2_000),
        filler(30_000),
        filler(30_000)
    );
    let n = needles(&[("bill", 0.5), ("disput", 0.5)]);
    let window = for_terms(&text, || Some(&n), 160);
    assert!(window.contains("billing dispute"), "{}", &window[..200]);
    assert!(!window.contains("billing question"));
}

#[test]
fn without_a_visible_term_the_window_is_the_start() {
    let text = filler(40_000);
    let n = needles(&[("zircon", 1.0)]);
    let window = for_terms(&text, || Some(&n), 160);
    assert!(text.starts_with(window));
    assert!(window.len() <= WINDOW_BYTES);
    assert!(text.starts_with(for_terms(&text, || None, 160)));
}

#[test]
fn japanese_text_is_cut_at_character_boundaries() {
    let sentence = "請求書の金額について問い合わせがあり、倉庫への出荷が遅れている。";
    let hoshu = needles(&[("保守", 1.0)]);
    for extra in 0..4 {
        // Shift the text by 0-3 ASCII bytes so cuts fall inside characters.
        let text = format!(
            "{}{}保守契約{}",
            "x".repeat(extra),
            sentence.repeat(400),
            sentence.repeat(50)
        );
        let window = for_terms(&text, || Some(&hoshu), 160);
        assert!(window.contains("保守契約"), "{extra}");
        let pieces = for_loose(&text);
        let joined: String = pieces.concat();
        assert!(text.starts_with(&joined), "{extra}");
        assert!(joined.len() >= MAX_LOOSE_SCAN_BYTES.min(text.len()) - 4);
        assert!(
            pieces
                .iter()
                .all(|p| p.len() <= SCAN_BYTES && !p.is_empty())
        );
    }
}

#[test]
fn loose_pieces_cover_the_start_of_a_long_text_without_cutting_words() {
    let text = filler(200_000);
    let pieces = for_loose(&text);
    let joined: String = pieces.concat();
    assert!(text.starts_with(&joined));
    assert!(joined.len() >= MAX_LOOSE_SCAN_BYTES);
    assert!(joined.len() < MAX_LOOSE_SCAN_BYTES + SCAN_BYTES);
    let mut offset = 0;
    for piece in &pieces {
        offset += piece.len();
        assert_eq!(
            text[offset..].chars().next(),
            Some(' '),
            "a piece ends before a space"
        );
    }
}
