//! `rapport bench export`: builds (or reuses) a generated corpus, then
//! exports it — record level, NDJSON — directly through the engine into a
//! sink or a file, and optionally over HTTP from an in-process server on
//! 127.0.0.1, printing time, rate, bytes and memory: the resident set before,
//! and the peak (VmHWM, reset just before each export through
//! /proc/self/clear_refs, so the figure is the export's own peak).
//!
//! It must never talk to anything but 127.0.0.1, and it asserts nothing: it
//! prints numbers.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use serde::Serialize;

use super::{BenchError, BenchOptions, prepare_store};
use crate::config::Config;
use crate::engine::Rapport;
use crate::export::ExportRequest;
use crate::export::rows::RowWriter;

#[derive(Debug, Clone)]
pub struct ExportBenchOptions {
    pub records: usize,
    pub dir: PathBuf,
    /// Write the export here instead of discarding it.
    pub output: Option<PathBuf>,
    /// Export parameters (`q`, `filter.FIELD`, ...); empty: everything.
    pub params: Vec<(String, String)>,
    /// Also export over HTTP from a server on 127.0.0.1.
    pub http: bool,
}

#[derive(Debug, Serialize)]
pub struct ExportRun {
    pub path: &'static str,
    pub lines: u64,
    pub bytes: u64,
    pub seconds: f64,
    pub lines_per_second: f64,
    pub rss_before_mib: f64,
    pub peak_rss_mib: f64,
    /// VmRSS sampled every [`SAMPLE_BYTES`] of output: flat when memory is
    /// bounded, rising when something holds the rows.
    pub rss_samples_mib: Vec<f64>,
}

/// Output bytes between two RSS samples.
const SAMPLE_BYTES: u64 = 50_000_000;

/// A line of `/proc/self/status` (`VmRSS`, `VmHWM`) in MiB.
pub fn proc_status_mib(key: &str) -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|text| {
            text.lines()
                .find(|l| l.starts_with(key))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

/// Resets VmHWM to the current RSS (Linux ≥ 4.0); false where unsupported.
pub fn reset_peak() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

struct Counting<W: Write> {
    inner: W,
    bytes: u64,
    samples: Vec<f64>,
}

impl<W: Write> Write for Counting<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        if (self.bytes + n as u64) / SAMPLE_BYTES > self.bytes / SAMPLE_BYTES {
            self.samples.push(proc_status_mib("VmRSS:"));
        }
        self.bytes += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

pub fn run(options: &ExportBenchOptions, base: Config) -> Result<Vec<ExportRun>, BenchError> {
    let mut config = base;
    config.data_dir = options.dir.join("data");
    config.sources.clear();
    let store_options = BenchOptions::corpus(options.records, options.dir.clone());
    if let Some(s) = prepare_store(&store_options, &config)? {
        eprintln!("corpus written to the store in {s:.1} s");
    }
    let started = Instant::now();
    let app = Arc::new(Rapport::open(config)?);
    eprintln!(
        "data directory opened (index caught up) in {:.1} s; peak RSS so far {:.0} MiB",
        started.elapsed().as_secs_f64(),
        proc_status_mib("VmHWM:")
    );
    if !reset_peak() {
        eprintln!("note: /proc/self/clear_refs not writable: peak RSS includes opening");
    }
    let mut runs = vec![direct(&app, options)?];
    if options.http {
        runs.push(over_http(&app, options)?);
    }
    Ok(runs)
}

fn request(options: &ExportBenchOptions) -> Result<ExportRequest, BenchError> {
    Ok(ExportRequest::from_params(
        options.params.iter().map(|(k, v)| (k.as_str(), v.as_str())),
    )?)
}

fn direct(app: &Rapport, options: &ExportBenchOptions) -> Result<ExportRun, BenchError> {
    let rss_before = proc_status_mib("VmRSS:");
    reset_peak();
    let started = Instant::now();
    let out: Box<dyn Write> = match &options.output {
        Some(path) => Box::new(std::io::BufWriter::with_capacity(
            256 * 1024,
            std::fs::File::create(path)?,
        )),
        None => Box::new(std::io::sink()),
    };
    let mut counting = Counting {
        inner: out,
        bytes: 0,
        samples: Vec::new(),
    };
    let prepared = app.prepare_export(request(options)?)?;
    let request = &prepared.request;
    let mut writer = RowWriter::new(
        &mut counting,
        request.format,
        request.columns(),
        request.fields.is_none(),
    );
    let summary = app
        .write_export(prepared, &mut writer)
        .map_err(|e| BenchError::Io(std::io::Error::other(e.to_string())))?;
    writer
        .finish()
        .map_err(|e| BenchError::Io(std::io::Error::other(e.to_string())))?;
    counting.flush()?;
    Ok(finish_run(
        "direct",
        summary.lines,
        counting.bytes,
        started,
        rss_before,
        counting.samples,
    ))
}

fn finish_run(
    path: &'static str,
    lines: u64,
    bytes: u64,
    started: Instant,
    rss_before: f64,
    rss_samples_mib: Vec<f64>,
) -> ExportRun {
    let seconds = started.elapsed().as_secs_f64();
    let run = ExportRun {
        path,
        lines,
        bytes,
        seconds,
        lines_per_second: lines as f64 / seconds.max(1e-9),
        rss_before_mib: rss_before,
        peak_rss_mib: proc_status_mib("VmHWM:"),
        rss_samples_mib,
    };
    let samples: Vec<String> = run
        .rss_samples_mib
        .iter()
        .map(|m| format!("{m:.0}"))
        .collect();
    eprintln!(
        "{path}: {lines} lines, {:.1} MB in {seconds:.2} s ({:.0} lines/s); RSS before {:.0} MiB, peak during export {:.0} MiB; RSS every 50 MB of output: [{}] MiB",
        bytes as f64 / 1e6,
        run.lines_per_second,
        run.rss_before_mib,
        run.peak_rss_mib,
        samples.join(", ")
    );
    run
}

/// The same export through `GET /v1/export` of an in-process server, read
/// by a streaming client (server and client share this process, so the
/// peak covers both).
fn over_http(app: &Arc<Rapport>, options: &ExportBenchOptions) -> Result<ExportRun, BenchError> {
    let (runtime, target) = super::serve_in_process(app)?;
    let address = target.address;
    let url = super::client::url("/v1/export", &options.params);
    let rss_before = proc_status_mib("VmRSS:");
    reset_peak();
    let started = Instant::now();
    let (lines, bytes, samples) = runtime.block_on(async {
        let mut response = reqwest::Client::new()
            .get(format!("http://{address}{url}"))
            .bearer_auth(&target.key)
            .send()
            .await
            .map_err(|e| BenchError::Io(std::io::Error::other(e)))?;
        let status = response.status().as_u16();
        if status != 200 {
            return Err(BenchError::Http { path: url, status });
        }
        let (mut lines, mut bytes, mut samples) = (0u64, 0u64, Vec::new());
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| BenchError::Io(std::io::Error::other(e)))?
        {
            if (bytes + chunk.len() as u64) / SAMPLE_BYTES > bytes / SAMPLE_BYTES {
                samples.push(proc_status_mib("VmRSS:"));
            }
            bytes += chunk.len() as u64;
            lines += chunk.iter().filter(|b| **b == b'\n').count() as u64;
        }
        Ok((lines, bytes, samples))
    })?;
    let run = finish_run("http", lines, bytes, started, rss_before, samples);
    runtime.shutdown_timeout(std::time::Duration::from_secs(2));
    Ok(run)
}
