//! Bulk export and snapshots end to end, on real data directories and a real
//! server on 127.0.0.1: exports agree with search and the store at both
//! levels and in both formats, a large export streams to the end (over HTTP
//! and from the command line, with and without a server), and a snapshot
//! taken while searches run restores into a new data directory that answers
//! exactly as the original did.

use crate::common;
mod export;
mod snapshot;

use std::collections::BTreeSet;

use common::Server;
use serde_json::Value;

/// `GET /v1/export` with these parameters: status, headers, body.
pub fn export(
    server: &Server,
    params: &[(&str, &str)],
) -> (u16, reqwest::header::HeaderMap, String) {
    let url =
        reqwest::Url::parse_with_params(&format!("{}/v1/export", server.base), params).unwrap();
    let response = server.client().get(url).send().unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    (status, headers, response.text().unwrap())
}

pub fn ndjson(body: &str) -> Vec<Value> {
    body.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad line {l}: {e}")))
        .collect()
}

pub fn csv_rows(body: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let mut reader = csv::Reader::from_reader(body.as_bytes());
    let header = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_string)
        .collect();
    let rows = reader
        .records()
        .map(|r| r.unwrap().iter().map(str::to_string).collect())
        .collect();
    (header, rows)
}

/// Total of `/v1/search` (records, not grouped) for the same q and filters.
pub fn search_total(server: &Server, params: &[(&str, &str)]) -> u64 {
    let mut all: Vec<(&str, &str)> = vec![("group", "none"), ("limit", "1")];
    let has_q = params.iter().any(|(k, _)| *k == "q");
    if !has_q {
        all.push(("q", "*"));
    }
    all.extend_from_slice(params);
    let url = reqwest::Url::parse_with_params(&format!("{}/v1/search", server.base), &all).unwrap();
    let response: Value = server.client().get(url).send().unwrap().json().unwrap();
    response["total"]
        .as_u64()
        .unwrap_or_else(|| panic!("{response}"))
}

/// Every record id search finds for `q` (paged).
pub fn search_ids(server: &Server, q: &str) -> BTreeSet<String> {
    let mut ids = BTreeSet::new();
    for offset in (0..).step_by(1000) {
        let offset = offset.to_string();
        let url = reqwest::Url::parse_with_params(
            &format!("{}/v1/search", server.base),
            &[
                ("q", q),
                ("group", "none"),
                ("limit", "1000"),
                ("offset", &offset),
            ],
        )
        .unwrap();
        let response: Value = server.client().get(url).send().unwrap().json().unwrap();
        let hits = response["hits"].as_array().unwrap();
        ids.extend(hits.iter().map(|h| h["id"].as_str().unwrap().to_string()));
        if hits.len() < 1000 {
            break;
        }
    }
    ids
}
