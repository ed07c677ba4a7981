//! What the command line prints: the ingest progress bar and summary, and
//! search hits for a terminal.
//!
//! It must never decide anything; it only presents results.

use anyhow::Result;
use indicatif::{ProgressBar, ProgressStyle};

use rapport::engine::SearchResponse;
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

pub fn print_hits(response: &SearchResponse) {
    match response.total_customers {
        Some(customers) => println!(
            "{customers} matching customers, {} matching records ({:.1} ms)",
            response.total, response.took_ms
        ),
        None => println!(
            "{} matching records ({:.1} ms)",
            response.total, response.took_ms
        ),
    }
    for warning in &response.warnings {
        println!("warning: {warning}");
    }
    for customer in response.customers.iter().flatten() {
        println!(
            "{:>7.3}  {}  {}  [{} {}] {} records",
            customer.score,
            customer.key,
            customer.name.as_deref().unwrap_or(""),
            customer.kind.as_deref().unwrap_or("-"),
            customer.country.as_deref().unwrap_or("-"),
            customer.matching_records
        );
        for hit in &customer.records {
            print_hit(hit, "    ");
        }
    }
    for hit in response.hits.iter().flatten() {
        print_hit(hit, "");
    }
    for (field, values) in &response.facets {
        let counts: Vec<String> = values
            .iter()
            .map(|v| format!("{} ({})", v.value, v.count))
            .collect();
        println!("facet {field}: {}", counts.join(", "));
    }
    if let Some(aggs) = &response.aggregations {
        println!("aggregations: {aggs}");
    }
}

fn print_hit(hit: &rapport::engine::Hit, indent: &str) {
    println!(
        "{indent}{:>7.3}  {:<12} {}  {}",
        hit.score,
        hit.kind,
        hit.id,
        hit.title.as_deref().unwrap_or("")
    );
    for (field, snippet) in &hit.snippets {
        let plain = snippet
            .replace("<mark>", "\x1b[1m")
            .replace("</mark>", "\x1b[0m")
            .replace('\n', " ");
        println!("{indent}           {field}: {plain}");
    }
}
