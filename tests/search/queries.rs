//! What staff type: typos, phrases, Japanese, synonyms, phones, emails, ids,
//! the query syntax, and search-as-you-type.

use serde_json::Value;

use super::fixture;
use crate::common::{Server, hit_ids};

fn get(server: &Server, params: &[(&str, &str)]) -> Value {
    let url =
        reqwest::Url::parse_with_params(&format!("{}/v1/search", server.base), params).unwrap();
    let path = &url.as_str()[server.base.len()..];
    let (status, body) = server.get(path);
    assert_eq!(status, 200, "{params:?}: {body}");
    body
}

/// Customer keys of a grouped response, best first.
pub fn customers(response: &Value) -> Vec<String> {
    response["customers"]
        .as_array()
        .unwrap_or_else(|| panic!("no customers in {response}"))
        .iter()
        .map(|c| c["key"].as_str().unwrap().to_string())
        .collect()
}

fn first_customer(server: &Server, q: &str) -> Option<String> {
    customers(&get(server, &[("q", q)])).into_iter().next()
}

#[test]
fn a_typo_in_a_surname_finds_the_customer_and_exact_ranks_first() {
    let ws = fixture::workspace();
    let server = ws.serve();
    // "Smtih": one transposition from "Smith" (5 letters: one typo allowed).
    assert_eq!(
        first_customer(&server, "Jon Smtih").as_deref(),
        Some("C-ACME")
    );
    let typo = server.search("Smtih");
    assert_eq!(
        hit_ids(&typo).first().map(String::as_str),
        Some("crm:PER-1"),
        "{typo}"
    );
    // "smith" matches Smith exactly and Smyth with one typo: exact first.
    let both = server.search("smith");
    let ids = hit_ids(&both);
    let smith = ids.iter().position(|i| i == "crm:PER-1");
    let smyth = ids.iter().position(|i| i == "crm:PER-3");
    assert!(
        smith.is_some() && smyth.is_some() && smith < smyth,
        "{both}"
    );
    // Four letters get no typo: "smih" finds nothing.
    assert_eq!(server.search("smih")["total"], 0);
    // Numbers never get typos: 120001 does not find 120000-ish ids.
    assert_eq!(server.search("OPP-6")["total"], 0);
}

#[test]
fn a_phrase_from_an_email_body_finds_its_customer_first() {
    let ws = fixture::workspace();
    let server = ws.serve();
    let response = get(
        &server,
        &[("q", "\"corrected invoice for the Fremont warehouse\"")],
    );
    assert_eq!(
        customers(&response).first().map(String::as_str),
        Some("C-ACME"),
        "{response}"
    );
    let best = &response["customers"][0]["records"][0];
    assert_eq!(best["id"], "crm:EMAIL-1");
    let snippet = best["snippets"]["body"].as_str().unwrap();
    assert!(snippet.contains("<mark>Fremont</mark>"), "{snippet}");
    assert!(
        best["matched_fields"]
            .as_array()
            .unwrap()
            .contains(&"body".into()),
        "{best}"
    );
    // The words out of order are not the phrase.
    let reversed = get(&server, &[("q", "\"warehouse Fremont\"")]);
    assert_eq!(reversed["total"], 0, "{reversed}");
    // A two-word phrase (one pair term in the index) finds it, highlighted,
    // and its words far apart do not.
    let pair = get(&server, &[("q", "\"billing dispute\""), ("group", "none")]);
    assert_eq!(pair["hits"][0]["id"], "crm:EMAIL-1", "{pair}");
    let snippet = pair["hits"][0]["snippets"]["body"].as_str().unwrap();
    assert!(snippet.contains("<mark>billing</mark>"), "{snippet}");
    let apart = get(&server, &[("q", "\"corrected warehouse\"")]);
    assert_eq!(apart["total"], 0, "{apart}");
}

#[test]
fn japanese_company_names_and_parts_of_compounds() {
    let ws = fixture::workspace();
    let server = ws.serve();
    for q in [
        "日東電工株式会社",
        "日東電工",
        "日東",
        "日東 電工",
        "茨木市",
        "ＮＩＴＴＯ OR 日東",
    ] {
        assert_eq!(
            first_customer(&server, q).as_deref(),
            Some("C-NITTO"),
            "{q}"
        );
    }
    // English and Japanese in one query.
    assert_eq!(
        first_customer(&server, "請求書 invoice").as_deref(),
        Some("C-NITTO")
    );
    // 株式会社 forms from the synonyms file: (株) and ㈱.
    for q in ["日東電工(株)", "日東電工㈱"] {
        assert_eq!(
            first_customer(&server, q).as_deref(),
            Some("C-NITTO"),
            "{q}"
        );
    }
}

#[test]
fn synonyms_phones_emails_and_ids() {
    let ws = fixture::workspace();
    let server = ws.serve();
    assert_eq!(first_customer(&server, "IBM").as_deref(), Some("C-IBM"));
    assert_eq!(
        first_customer(&server, "ibm mainframe").as_deref(),
        Some("C-IBM")
    );
    for q in [
        "(415) 555-0100",
        "+1 415 555 0100",
        "415.555.0100",
        "4155550100",
    ] {
        let response = server.search(q);
        assert_eq!(
            hit_ids(&response).first().map(String::as_str),
            Some("crm:PER-1"),
            "{q}: {response}"
        );
    }
    for q in ["03-1234-5678", "+81 3 1234 5678", "０３１２３４５６７８"] {
        let response = server.search(q);
        assert_eq!(
            hit_ids(&response).first().map(String::as_str),
            Some("crm:ORG-2"),
            "{q}: {response}"
        );
    }
    let email = server.search("JON.SMITH@AcmeRobotics.com");
    assert_eq!(
        hit_ids(&email).first().map(String::as_str),
        Some("crm:PER-1"),
        "{email}"
    );
    assert!(
        email["hits"][0]["matched_fields"]
            .as_array()
            .unwrap()
            .contains(&"emails".into()),
        "{email}"
    );
    assert_eq!(
        first_customer(&server, "C-NITTO").as_deref(),
        Some("C-NITTO")
    );
    let external = server.search("OPP-7");
    assert_eq!(
        hit_ids(&external).first().map(String::as_str),
        Some("crm:OPP-7"),
        "{external}"
    );
}

#[test]
fn query_syntax_prefixes_and_warnings() {
    let ws = fixture::workspace();
    let server = ws.serve();
    // Search as you type: the last word is a prefix of a name.
    assert_eq!(
        first_customer(&server, "acme rob").as_deref(),
        Some("C-ACME")
    );
    // Exclusion, OR, parentheses and field:value.
    let response = server.search("invoice -kansai");
    let ids = hit_ids(&response);
    assert!(
        !ids.contains(&"crm:NOTE-5".to_string()) && ids.contains(&"crm:EMAIL-1".to_string()),
        "{response}"
    );
    let response = server.search("(mainframe OR cold-chain) kind:organization");
    assert_eq!(hit_ids(&response), vec!["crm:ORG-4"], "{response}");
    let response = server.search("stage:won");
    assert_eq!(hit_ids(&response), vec!["crm:OPP-7"], "{response}");
    let response = server.search("attrs.plan:gold");
    assert_eq!(hit_ids(&response), vec!["crm:ORG-1"], "{response}");
    // Broken syntax: the words are still searched, and the answer says so.
    let response = server.search("invoice ) colour:red \"unclosed");
    assert!(response["total"].as_u64().unwrap() >= 1, "{response}");
    assert!(
        response["warnings"].as_array().unwrap().len() >= 2,
        "{response}"
    );
    // No record has every word: records with some of them, with a warning.
    let response = server.search("mainframe zebra");
    assert_eq!(hit_ids(&response), vec!["crm:ORG-4"], "{response}");
    assert!(
        response["warnings"].to_string().contains("every word"),
        "{response}"
    );
}
