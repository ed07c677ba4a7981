//! CPU time and load, read from Linux's /proc: on a shared machine the wall
//! time of a query includes waiting for a core, while the CPU time it
//! consumed does not, so the benchmark reports both, with the load average.
//!
//! It must never fail a benchmark: where /proc is not readable, the figures
//! are simply absent.

use std::time::Duration;

/// CPU time consumed so far by this process, threads that have ended
/// included (user + system time from /proc/self/stat, in the kernel's fixed
/// 100 ticks per second).
pub fn process_cpu() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which is in parentheses and may hold
    // spaces): state is field 3, utime 14 and stime 15.
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(Duration::from_millis((utime + stime) * 10))
}

/// The 1-minute load average.
pub fn load_average() -> Option<f64> {
    std::fs::read_to_string("/proc/loadavg")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// CPU milliseconds per request between two readings.
pub fn per_request_ms(before: Option<Duration>, after: Option<Duration>, n: usize) -> f64 {
    match (before, after) {
        (Some(b), Some(a)) if n > 0 && a >= b => (a - b).as_secs_f64() * 1000.0 / n as f64,
        _ => 0.0,
    }
}

/// The process's resident memory now, in MB (Linux; None elsewhere).
pub fn rss_mb() -> Option<f64> {
    status_mb("VmRSS:")
}

/// The anonymous part of the resident memory (heap, stacks: what a leak
/// grows), without the mapped files' pages (index, store) the page cache
/// decides about.
pub fn rss_anon_mb() -> Option<f64> {
    status_mb("RssAnon:")
}

fn status_mb(field: &str) -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}
