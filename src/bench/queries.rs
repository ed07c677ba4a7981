//! The benchmark's query mix: for each case, a few variants drawn from the
//! generated corpus's vocabulary, so that every query matches something.
//!
//! It must never depend on the corpus size: the same mix runs at 100k and 1M.

use serde_json::json;

use super::client::url;
use crate::index::search::{QueryError, SearchRequest};

pub enum Call {
    Search(Vec<(String, String)>),
    Suggest(String),
}

impl Call {
    pub fn path(&self) -> String {
        match self {
            Call::Search(params) => url("/v1/search", params),
            Call::Suggest(q) => url("/v1/suggest", &[("q".into(), q.clone())]),
        }
    }
}

/// The engine's request for a search call's parameters.
pub fn search_request(params: &[(String, String)]) -> Result<SearchRequest, QueryError> {
    SearchRequest::from_params(params.iter().map(|(k, v)| (k.as_str(), v.as_str())))
}

pub struct Case {
    pub name: &'static str,
    pub calls: Vec<Call>,
}

fn search(q: &str, extra: &[(&str, &str)]) -> Call {
    let mut params = vec![("q".to_string(), q.to_string())];
    params.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    Call::Search(params)
}

fn records(name: &'static str, queries: &[&str], extra: &[(&str, &str)]) -> Case {
    let mut with_group = vec![("group", "none")];
    with_group.extend_from_slice(extra);
    Case {
        name,
        calls: queries.iter().map(|q| search(q, &with_group)).collect(),
    }
}

pub fn cases() -> Vec<Case> {
    let aggs = json!({
        "by_country": {"terms": {"field": "customer_country"}, "aggs": {"amount": {"sum": {"field": "amount"}}}},
        "per_month": {"date_histogram": {"field": "created", "fixed_interval": "30d"}},
        "amount": {"stats": {"field": "amount"}}
    })
    .to_string();
    let words = [
        "invoice",
        "renewal",
        "warehouse",
        "discount",
        "Osaka",
        "robots",
        "procurement",
        "competitor",
    ];
    vec![
        records("single word", &words, &[]),
        records(
            "two words",
            &[
                "billing dispute",
                "warehouse delayed",
                "support outages",
                "renewal contract",
                "corrected invoice",
            ],
            &[],
        ),
        records(
            "phrase",
            &[
                "\"billing dispute\"",
                "\"corrected invoice\"",
                "\"support ticket\"",
                "\"kickoff meeting\"",
            ],
            &[],
        ),
        records(
            "typo",
            &[
                "Smtih",
                "Jonhson",
                "Willaims",
                "Robotcs",
                "Logistcs",
                "warehosue",
                "dsicount",
            ],
            &[],
        ),
        records(
            "japanese",
            &[
                "請求書",
                "日東電工",
                "打ち合わせ",
                "倉庫 出荷",
                "生産管理システム",
                "鈴木",
                "大阪府",
            ],
            &[],
        ),
        records(
            "filtered",
            &words,
            &[
                ("filter.customer_country", "JP,US"),
                ("filter.created", "2022-01-01..2023-12-31"),
            ],
        ),
        // A word near the end of ~100 kB email bodies: the snippets of long
        // texts (only the window around the match is analysed).
        records(
            "long bodies",
            &[
                super::corpus::LONG_BODY_WORD,
                &format!("{} order", super::corpus::LONG_BODY_WORD),
            ],
            &[],
        ),
        Case {
            name: "grouped",
            calls: words
                .iter()
                .map(|q| search(q, &[("group", "customer")]))
                .collect(),
        },
        Case {
            name: "facets",
            calls: words
                .iter()
                .map(|q| {
                    search(
                        q,
                        &[
                            ("group", "customer"),
                            ("facets", "kind,customer_country,stage,tags,owner"),
                        ],
                    )
                })
                .collect(),
        },
        Case {
            name: "aggregations",
            calls: words
                .iter()
                .map(|q| {
                    search(
                        q,
                        &[("group", "none"), ("limit", "1"), ("aggs", aggs.as_str())],
                    )
                })
                .collect(),
        },
        Case {
            name: "suggest",
            calls: [
                "acm", "bright", "日東", "東京", "smi", "鈴木", "north", "glob",
            ]
            .iter()
            .map(|q| Call::Suggest(q.to_string()))
            .collect(),
        },
    ]
}
