//! `rapport bench upload`: an analyst's attribute write-back at scale.
//! Builds (or reuses) the generated corpus of `rapport bench search`,
//! serves it on 127.0.0.1, then streams one `POST /v1/attributes` CSV of
//! `--rows` lines (`customer_id,key,value`, every customer in turn, a few
//! score keys) in chunks generated on the fly, so the client never holds
//! the body; prints the rows per second, the answer's counts and the
//! process's peak memory over the upload, against the body's size.
//!
//! It must never talk to anything but 127.0.0.1, never touch a configured
//! data directory (it works in `--dir`), and it asserts nothing: it prints
//! numbers.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use serde::Serialize;

use super::reindex::{peak_rss_mb, reset_peak_rss};
use super::{BenchError, BenchOptions, prepare_store};
use crate::config::Config;
use crate::engine::Rapport;

/// Distinct attribute keys written per customer, in turn.
const KEYS: usize = 8;
/// Rows generated per chunk of the request body.
const ROWS_PER_CHUNK: usize = 2_000;

#[derive(Debug, Serialize)]
pub struct UploadReport {
    pub records: u64,
    pub customers: usize,
    pub rows: usize,
    pub body_mb: f64,
    pub status: u16,
    /// The server's answer (`accepted`, `unchanged`, `deleted`,
    /// `rejected_count`).
    pub answer: serde_json::Value,
    pub seconds: f64,
    pub rows_per_second: f64,
    /// Resident memory before the upload and the peak during it (the
    /// whole process: server, index and the streaming client).
    pub rss_before_mb: Option<f64>,
    pub peak_rss_mb: Option<f64>,
}

pub fn run(
    records: usize,
    rows: usize,
    dir: PathBuf,
    base: Config,
) -> Result<UploadReport, BenchError> {
    let options = BenchOptions::corpus(records, dir);
    let mut config = base;
    config.data_dir = options.dir.join("data");
    config.sources.clear();
    prepare_store(&options, &config)?;
    let app = Arc::new(Rapport::open(config)?);
    let records = app.status()?.records;
    let customers: Vec<String> = app
        .customer_export_lines()
        .map_err(|e| BenchError::Io(std::io::Error::other(e.to_string())))?
        .iter()
        .filter_map(|line| line["customer_id"].as_str().map(str::to_string))
        .collect();
    if customers.is_empty() {
        return Err(BenchError::Io(std::io::Error::other(
            "the corpus has no customers to write attributes to",
        )));
    }
    let (runtime, target) = super::serve_in_process(&app)?;
    eprintln!(
        "upload: {rows} rows over {} customers of {records} records",
        customers.len()
    );
    reset_peak_rss();
    let rss_before_mb = super::cpu::rss_mb();
    let started = Instant::now();
    let (status, body_bytes, answer) = post_streamed(&target, &customers, rows)?;
    let seconds = started.elapsed().as_secs_f64();
    let peak = peak_rss_mb();
    runtime.shutdown_timeout(std::time::Duration::from_secs(2));
    Ok(UploadReport {
        records,
        customers: customers.len(),
        rows,
        body_mb: body_bytes as f64 / 1_048_576.0,
        status,
        answer,
        seconds,
        rows_per_second: rows as f64 / seconds.max(1e-9),
        rss_before_mb,
        peak_rss_mb: peak,
    })
}

/// Sends the CSV with chunked transfer encoding, generating each chunk as
/// it goes; returns the status, the body's bytes and the JSON answer.
fn post_streamed(
    target: &super::Target,
    customers: &[String],
    rows: usize,
) -> Result<(u16, u64, serde_json::Value), BenchError> {
    if !target.address.ip().is_loopback() {
        return Err(BenchError::Io(std::io::Error::other(
            "the benchmark only talks to 127.0.0.1",
        )));
    }
    let mut stream = TcpStream::connect(target.address)?;
    write!(
        stream,
        "POST /v1/attributes HTTP/1.1\r\nhost: 127.0.0.1\r\nauthorization: Bearer {}\r\ncontent-type: text/csv\r\ntransfer-encoding: chunked\r\n\r\n",
        target.key
    )?;
    let mut sent = 0u64;
    let mut chunk = String::from("customer_id,key,value\n");
    for row in 0..rows {
        let customer = &customers[row % customers.len()];
        let key = (row / customers.len()) % KEYS;
        let value = (row.wrapping_mul(2_654_435_761) % 1000) as f64 / 10.0;
        chunk.push_str(&format!("{customer},score_{key},{value}\n"));
        if (row + 1) % ROWS_PER_CHUNK == 0 || row + 1 == rows {
            sent += chunk.len() as u64;
            write!(stream, "{:x}\r\n{chunk}\r\n", chunk.len())?;
            chunk.clear();
        }
    }
    stream.write_all(b"0\r\n\r\n")?;
    stream.flush()?;
    let (status, body) = read_answer(stream)?;
    let answer = serde_json::from_slice::<serde_json::Value>(&body)
        .map(|mut v| {
            // The first 1,000 rejected lines are listed; the count is enough.
            if let Some(map) = v.as_object_mut() {
                map.remove("rejected");
            }
            v
        })
        .unwrap_or_else(|_| serde_json::Value::String(String::from_utf8_lossy(&body).into()));
    Ok((status, sent, answer))
}

fn read_answer(stream: TcpStream) -> Result<(u16, Vec<u8>), BenchError> {
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let status = (line.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("bad status line `{line}`")))?;
    let mut length = 0usize;
    loop {
        line.clear();
        if reader.read_line(&mut line)? == 0 {
            break;
        }
        let header = line.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse().unwrap_or(0);
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body)?;
    Ok((status, body))
}
