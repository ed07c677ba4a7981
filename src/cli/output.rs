//! What the command line prints: the ingest progress bar and summary, and
//! search hits for a terminal.
//!
//! It must never decide anything; it only presents results.

use anyhow::Result;
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::Value;

use rapport::engine::{IngestReport, Rapport};
use rapport::sources::ingest::Progress;

pub fn ingest_with_progress(app: &Rapport) -> Result<IngestReport> {
    let bar = ProgressBar::new(0);
    let style = ProgressStyle::with_template("{prefix:>12} [{bar:30}] {pos}/{len} files {msg}")
        .map(|s| s.progress_chars("=> "))
        .unwrap_or_else(|_| ProgressStyle::default_bar());
    bar.set_style(style);
    let report = app.ingest(&|event| match event {
        Progress::SourceStarted { source, files } => {
            bar.set_prefix(source.to_string());
            bar.set_length(files as u64);
            bar.set_position(0);
        }
        Progress::FileDone { file, .. } => {
            bar.set_message(file.to_string());
            bar.inc(1);
        }
    })?;
    bar.finish_and_clear();
    Ok(report)
}

pub fn print_ingest_summary(report: &IngestReport) {
    println!(
        "{:<14} {:>6} {:>9} {:>9} {:>8} {:>9} {:>8} {:>7}",
        "source", "files", "unchanged", "inserted", "updated", "unchanged", "deleted", "errors"
    );
    println!(
        "{:<14} {:>6} {:>9} {:>9} {:>8} {:>9} {:>8} {:>7}",
        "", "", "files", "", "", "records", "", ""
    );
    for s in &report.sources {
        println!(
            "{:<14} {:>6} {:>9} {:>9} {:>8} {:>9} {:>8} {:>7}",
            s.source,
            s.files_seen,
            s.files_unchanged,
            s.inserted,
            s.updated,
            s.unchanged,
            s.deleted,
            s.error_count
        );
        if s.erased > 0 {
            println!(
                "  {}: {} records refused: they are about people erased on request (GET /v1/audit)",
                s.source, s.erased
            );
        }
        if let Some(failure) = &s.failed {
            println!("  FAILED: {failure}");
        }
        for e in &s.errors {
            println!("  {}: {e}", s.source);
        }
        if s.error_count > s.errors.len() {
            println!(
                "  {}: … and {} more",
                s.source,
                s.error_count - s.errors.len()
            );
        }
    }
    println!(
        "indexed {} changes in {} ms",
        report.indexed_changes, report.took_ms
    );
}

pub fn log_ingest_summary(report: &IngestReport) {
    for s in &report.sources {
        tracing::info!(
            source = %s.source,
            files = s.files_seen,
            inserted = s.inserted,
            updated = s.updated,
            deleted = s.deleted,
            errors = s.error_count,
            failed = s.failed.as_deref().unwrap_or(""),
            "ingest summary"
        );
    }
}

/// Prints a search answer (the JSON `/v1/search` answers) for a terminal.
pub fn print_hits(response: &Value) {
    let text = |v: &Value| v.as_str().unwrap_or_default().to_string();
    let or_dash = |v: &Value| v.as_str().unwrap_or("-").to_string();
    let count = |v: &Value| v.as_u64().unwrap_or(0);
    let took = response["took_ms"].as_f64().unwrap_or(0.0);
    match response["total_customers"].as_u64() {
        Some(customers) => println!(
            "{customers} matching customers, {} matching records ({took:.1} ms)",
            count(&response["total"])
        ),
        None => println!(
            "{} matching records ({took:.1} ms)",
            count(&response["total"])
        ),
    }
    for warning in list(&response["warnings"]) {
        println!("warning: {}", text(warning));
    }
    for customer in list(&response["customers"]) {
        println!(
            "{:>7.3}  {}  {}  [{} {}] {} records",
            customer["score"].as_f64().unwrap_or(0.0),
            text(&customer["key"]),
            text(&customer["name"]),
            or_dash(&customer["kind"]),
            or_dash(&customer["country"]),
            count(&customer["matching_records"])
        );
        for hit in list(&customer["records"]) {
            print_hit(hit, "    ");
        }
    }
    for hit in list(&response["hits"]) {
        print_hit(hit, "");
    }
    for (field, values) in response["facets"].as_object().into_iter().flatten() {
        let counts: Vec<String> = list(values)
            .map(|v| format!("{} ({})", text(&v["value"]), count(&v["count"])))
            .collect();
        println!("facet {field}: {}", counts.join(", "));
    }
    if let Some(aggs) = response.get("aggregations").filter(|a| !a.is_null()) {
        println!("aggregations: {aggs}");
    }
}

/// The items of a JSON array (none for anything else).
fn list(value: &Value) -> impl Iterator<Item = &Value> {
    value.as_array().into_iter().flatten()
}

fn print_hit(hit: &Value, indent: &str) {
    println!(
        "{indent}{:>7.3}  {:<12} {}  {}",
        hit["score"].as_f64().unwrap_or(0.0),
        hit["kind"].as_str().unwrap_or_default(),
        hit["id"].as_str().unwrap_or_default(),
        hit["title"].as_str().unwrap_or_default()
    );
    for (field, snippet) in hit["snippets"].as_object().into_iter().flatten() {
        let plain = snippet
            .as_str()
            .unwrap_or_default()
            .replace("<mark>", "\x1b[1m")
            .replace("</mark>", "\x1b[0m")
            .replace('\n', " ");
        println!("{indent}           {field}: {plain}");
    }
}
