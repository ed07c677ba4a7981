//! `rapport check` while a server holds the data directory: the server
//! repaired what a crash left when it started, so the command asks it
//! (`GET /healthz`) whether store and index agree and prints the same
//! answer as the local check, with nothing repaired.
//!
//! It must never open the store or the index itself; the server holds them.

use anyhow::{Context, Result};
use serde_json::{Value, json};

use rapport::config::Config;

/// Prints the server's view of store and index; exit status 1 when they
/// disagree, as the local check.
pub fn through_server(config: &Config, as_json: bool) -> Result<std::process::ExitCode> {
    let base = crate::cli::export::server_base(config)?;
    let answer: Value =
        serde_json::from_str(&crate::cli::export::get_from_server(config, "/healthz")?)
            .context("the server's health answer")?;
    let status = &answer["index"];
    let number = |key: &str| status[key].as_u64().unwrap_or(0);
    let (records, documents) = (number("records"), number("indexed_documents"));
    let (store_seq, index_seq) = (number("store_seq"), number("index_seq"));
    let consistent = records == documents && store_seq == index_seq;
    if as_json {
        let result = json!({
            "consistent": consistent,
            "records": records,
            "indexed_documents": documents,
            "store_seq": store_seq,
            "index_seq": index_seq,
            "repaired": Value::Null,
            "server": base,
        });
        println!("{}", serde_json::to_string_pretty(&result)?);
    } else {
        print_counts(records, documents, store_seq, index_seq);
        println!(
            "(asked the server at {base}, which holds the data directory and repaired what it found when it started)"
        );
    }
    Ok(if consistent {
        std::process::ExitCode::SUCCESS
    } else {
        std::process::ExitCode::from(1)
    })
}

/// The first line of `rapport check`, local or through the server.
pub fn print_counts(records: u64, documents: u64, store_seq: u64, index_seq: u64) {
    let consistent = records == documents && store_seq == index_seq;
    println!(
        "{}: {records} records in the store, {documents} documents in the index (sequence {store_seq} / {index_seq})",
        if consistent {
            "consistent"
        } else {
            "INCONSISTENT"
        },
    );
}
