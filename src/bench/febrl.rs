//! `rapport bench resolve --febrl DIR`: the public FEBRL person benchmarks
//! (written as CSV by `scripts/febrl_to_csv.py`) read through the stock
//! generic-csv connector exactly as a user's plain CSV would be, resolved,
//! and compared with their true pairs: pairwise precision, recall and F1.
//!
//! It prints numbers; it asserts nothing, and never changes the files.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::time::Instant;

use serde::Serialize;

use crate::connectors::{Collect, Manifest, SourceFile, read_file};
use crate::resolve::{Overrides, Settings, WeightSource, resolve};

#[derive(Debug, Serialize)]
pub struct FebrlBench {
    pub name: String,
    pub records: usize,
    pub read_errors: usize,
    pub true_pairs: usize,
    pub predicted_pairs: u64,
    pub found_pairs: usize,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    pub resolve_ms: u128,
    /// Blocking pair counts and the models' m/u estimates.
    pub model: crate::resolve::ModelReport,
}

#[derive(Debug, thiserror::Error)]
pub enum FebrlError {
    #[error("{0}")]
    Manifest(String),
    #[error("cannot read {path}: {reason}")]
    Read { path: String, reason: String },
}

/// Resolves `dir/records.csv` and scores it against `dir/pairs.csv`.
/// `weights` says which weights score (see [`WeightSource`]).
pub fn run(dir: &Path, weights: WeightSource) -> Result<FebrlBench, FebrlError> {
    let manifest = Manifest::resolve("generic-csv", None, Path::new("."))
        .map_err(|e| FebrlError::Manifest(e.to_string()))?;
    let file = SourceFile {
        relative: "records.csv".to_string(),
        path: dir.join("records.csv"),
    };
    let mut sink = Collect::default();
    read_file("febrl", &manifest, &file, &mut sink).map_err(|e| FebrlError::Read {
        path: file.path.display().to_string(),
        reason: format!("{e:?}"),
    })?;
    let mut records = sink.records;
    for r in &mut records {
        crate::normalize::finish_record(r, None);
    }
    let started = Instant::now();
    let settings = Settings {
        weights,
        ..Settings::default()
    };
    let resolution = resolve(&records, &settings, &Overrides::default());
    let resolve_ms = started.elapsed().as_millis();
    let person: HashMap<&str, String> = records
        .iter()
        .map(|r| {
            let id = resolution
                .assignments
                .get(&r.id())
                .and_then(|a| a.person_id.clone())
                .unwrap_or_else(|| r.id());
            (r.external_id.as_str(), id)
        })
        .collect();
    let pairs_path = dir.join("pairs.csv");
    let mut reader = csv::Reader::from_path(&pairs_path).map_err(|e| FebrlError::Read {
        path: pairs_path.display().to_string(),
        reason: e.to_string(),
    })?;
    let mut truth: HashSet<(String, String)> = HashSet::new();
    for row in reader.records() {
        let row = row.map_err(|e| FebrlError::Read {
            path: pairs_path.display().to_string(),
            reason: e.to_string(),
        })?;
        if let (Some(a), Some(b)) = (row.get(0), row.get(1)) {
            let (a, b) = (a.to_string(), b.to_string());
            truth.insert(if a < b { (a, b) } else { (b, a) });
        }
    }
    let found = truth
        .iter()
        .filter(|(a, b)| {
            matches!((person.get(a.as_str()), person.get(b.as_str())), (Some(x), Some(y)) if x == y)
        })
        .count();
    let mut sizes: HashMap<&str, u64> = HashMap::new();
    for id in person.values() {
        *sizes.entry(id).or_default() += 1;
    }
    let predicted: u64 = sizes.values().map(|n| n * n.saturating_sub(1) / 2).sum();
    let precision = if predicted == 0 {
        1.0
    } else {
        found as f64 / predicted as f64
    };
    let recall = if truth.is_empty() {
        1.0
    } else {
        found as f64 / truth.len() as f64
    };
    let f1 = if precision + recall > 0.0 {
        2.0 * precision * recall / (precision + recall)
    } else {
        0.0
    };
    Ok(FebrlBench {
        name: dir
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned()),
        records: records.len(),
        read_errors: sink.errors.len(),
        true_pairs: truth.len(),
        predicted_pairs: predicted,
        found_pairs: found,
        precision,
        recall,
        f1,
        resolve_ms,
        model: resolution.model,
    })
}
