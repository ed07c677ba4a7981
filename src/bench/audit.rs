//! `rapport bench audit`: how many audit entries per second the log takes
//! when requests append them concurrently, as a server's requests do (each
//! through the engine's group commit: the entries of requests that finish
//! together share one durable transaction), for each number of concurrent
//! writers asked; then walks the hash chain.
//!
//! It must never touch a configured data directory (it works in a fresh
//! folder under `--dir`, removed first), and it asserts nothing: it prints
//! numbers.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use serde::Serialize;

use super::BenchError;
use crate::config::Config;
use crate::engine::{NewAudit, Rapport};

#[derive(Debug, Serialize)]
pub struct AuditRound {
    /// Threads appending at once, one entry per call (as one request).
    pub writers: usize,
    pub entries: usize,
    pub seconds: f64,
    pub entries_per_second: f64,
}

#[derive(Debug, Serialize)]
pub struct AuditReport {
    pub rounds: Vec<AuditRound>,
    /// Entries in the log afterwards, all of them chained.
    pub chained: usize,
    pub verify_seconds: f64,
}

/// One entry as a search or a customer page would log it: ids, counts and
/// the route, never a personal value.
fn entry(writer: usize, n: usize) -> NewAudit {
    let mut details = serde_json::Map::new();
    details.insert("route".into(), "/v1/customers/{id}".into());
    details.insert("status".into(), 200.into());
    NewAudit {
        at: None,
        actor: format!("key:bench{writer}"),
        action: "customer.read".into(),
        customer_id: Some(format!("org_{writer:04}{n:08}")),
        targets: Vec::new(),
        outcome: "ok".into(),
        details,
    }
}

pub fn run(
    entries: usize,
    writers: &[usize],
    dir: PathBuf,
    base: Config,
) -> Result<AuditReport, BenchError> {
    let data = dir.join("audit-data");
    if data.exists() {
        std::fs::remove_dir_all(&data)?;
    }
    let mut config = base;
    config.data_dir = data;
    config.sources.clear();
    let app = Arc::new(Rapport::open(config)?);
    let mut rounds = Vec::new();
    for &count in writers {
        let count = count.max(1);
        let per_writer = entries.div_ceil(count);
        let started = Instant::now();
        let handles: Vec<_> = (0..count)
            .map(|w| {
                let app = app.clone();
                std::thread::spawn(move || -> Result<(), BenchError> {
                    for n in 0..per_writer {
                        app.record_audit(vec![entry(w, n)])?;
                    }
                    Ok(())
                })
            })
            .collect();
        for handle in handles {
            handle
                .join()
                .map_err(|_| std::io::Error::other("an audit writer panicked"))??;
        }
        let seconds = started.elapsed().as_secs_f64();
        let written = per_writer * count;
        rounds.push(AuditRound {
            writers: count,
            entries: written,
            seconds,
            entries_per_second: written as f64 / seconds.max(1e-9),
        });
    }
    let started = Instant::now();
    let chained = match app.verify_audit()? {
        Ok(n) => n,
        Err(broken) => {
            return Err(std::io::Error::other(format!("the audit chain broke: {broken:?}")).into());
        }
    };
    Ok(AuditReport {
        rounds,
        chained,
        verify_seconds: started.elapsed().as_secs_f64(),
    })
}
