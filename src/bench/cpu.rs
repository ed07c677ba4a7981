//! CPU time and load, read from Linux's /proc: on a shared machine the wall
//! time of a query includes waiting for a core, while the CPU time it
//! consumed does not, so the benchmark reports both, with the load average.
//!
//! It must never fail a benchmark: where /proc is not readable, the figures
//! are simply absent.

use std::time::Duration;

/// The first field of a `schedstat` file: nanoseconds spent on a CPU.
fn schedstat(path: &std::path::Path) -> Option<u64> {
    std::fs::read_to_string(path)
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// CPU time consumed so far by the calling thread.
pub fn thread_cpu() -> Option<Duration> {
    schedstat(std::path::Path::new("/proc/thread-self/schedstat")).map(Duration::from_nanos)
}

/// CPU time consumed so far by every live thread of this process.
pub fn process_cpu() -> Option<Duration> {
    let mut total = 0u64;
    for task in std::fs::read_dir("/proc/self/task").ok()? {
        let path = task.ok()?.path().join("schedstat");
        total += schedstat(&path).unwrap_or(0);
    }
    Some(Duration::from_nanos(total))
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
