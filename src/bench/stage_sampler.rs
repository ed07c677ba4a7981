//! The process's CPU time and resident memory, read every [`SAMPLE_EVERY`]
//! on a thread of its own while the engine works, so that `rapport bench
//! ingest` can tell the CPU and the peak memory of each stage of one ingest
//! call apart afterwards.
//!
//! It must never hold more than its samples (a few bytes per 10 ms) nor
//! outlive the bench that started it; memory it cannot read is left out,
//! never guessed.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::Serialize;

const SAMPLE_EVERY: Duration = Duration::from_millis(10);

/// One reading: when (since the sampler started), the process's CPU time,
/// and its resident memory in kB (anonymous, file-backed) when readable.
#[derive(Debug, Clone, Copy)]
struct Sample {
    at: Duration,
    cpu: Option<Duration>,
    resident_kb: Option<(u64, u64)>,
}

/// The largest resident set sampled within a stage, in its two parts:
/// anonymous memory (heaps, what the process allocated) and file-backed
/// pages (the index's and store's mapped files, which the kernel can drop);
/// and the median of its samples (anonymous + file-backed), what the stage
/// held most of the time: a stage's first samples can still hold what the
/// stage before it freed (mimalloc returns pages freed across threads when
/// their owning thread next works).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct PeakResident {
    pub anon_mb: f64,
    pub file_mb: f64,
    pub median_mb: f64,
}

pub(super) struct StageSampler {
    samples: Arc<Mutex<Vec<Sample>>>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
    started: Instant,
}

/// What a [`StageSampler`] read, in time order.
pub(super) struct Samples(Vec<Sample>);

impl StageSampler {
    pub(super) fn start() -> StageSampler {
        let samples = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let started = Instant::now();
        let thread = {
            let (samples, stop) = (samples.clone(), stop.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    let sample = read(started);
                    if let Ok(mut kept) = samples.lock() {
                        kept.push(sample);
                    }
                    std::thread::sleep(SAMPLE_EVERY);
                }
            })
        };
        StageSampler {
            samples,
            stop,
            thread: Some(thread),
            started,
        }
    }

    /// Stops sampling; returns the samples, the last one taken now.
    pub(super) fn finish(mut self) -> Samples {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        let mut samples = self.samples.lock().map(|s| s.clone()).unwrap_or_default();
        samples.push(read(self.started));
        Samples(samples)
    }
}

fn read(started: Instant) -> Sample {
    Sample {
        at: started.elapsed(),
        cpu: super::cpu::process_cpu(),
        resident_kb: resident_kb(),
    }
}

/// `RssAnon` and `RssFile` of `/proc/self/status`, in kB.
fn resident_kb() -> Option<(u64, u64)> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let field = |key: &str| {
        status
            .lines()
            .find(|line| line.starts_with(key))?
            .split_whitespace()
            .nth(1)?
            .parse::<u64>()
            .ok()
    };
    Some((field("RssAnon:")?, field("RssFile:")?))
}

impl Samples {
    /// CPU seconds between `from` and `to` (times since the sampler
    /// started), read from the samples nearest to them.
    pub(super) fn cpu_between(&self, from: Duration, to: Duration) -> Option<f64> {
        let at = |t: Duration| {
            self.0
                .iter()
                .filter(|s| s.cpu.is_some())
                .min_by_key(|s| s.at.abs_diff(t))
                .and_then(|s| s.cpu)
        };
        Some(at(to)?.saturating_sub(at(from)?).as_secs_f64())
    }

    /// The sample with the largest resident set (anonymous + file-backed)
    /// taken between `from` and `to`; None when none was readable there.
    pub(super) fn peak_between(&self, from: Duration, to: Duration) -> Option<PeakResident> {
        let resident: Vec<(u64, u64)> = self
            .0
            .iter()
            .filter(|s| s.at >= from && s.at <= to)
            .filter_map(|s| s.resident_kb)
            .collect();
        let (anon, file) = resident
            .iter()
            .copied()
            .max_by_key(|(anon, file)| anon + file)?;
        let mut totals: Vec<u64> = resident.iter().map(|(anon, file)| anon + file).collect();
        totals.sort_unstable();
        let median = totals[totals.len() / 2];
        Some(PeakResident {
            anon_mb: anon as f64 / 1024.0,
            file_mb: file as f64 / 1024.0,
            median_mb: median as f64 / 1024.0,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(ms: u64, cpu_ms: u64, anon: u64, file: u64) -> Sample {
        Sample {
            at: Duration::from_millis(ms),
            cpu: Some(Duration::from_millis(cpu_ms)),
            resident_kb: Some((anon, file)),
        }
    }

    /// A stage's peak is the largest sample inside it, not the process's
    /// peak elsewhere; its CPU is the difference of the nearest samples.
    #[test]
    fn each_stage_gets_its_own_peak_and_cpu() {
        let samples = Samples(vec![
            sample(0, 0, 100, 10),
            sample(10, 15, 4_000, 20),
            sample(20, 30, 300, 2_048),
            sample(30, 40, 200, 1_024),
        ]);
        let ms = Duration::from_millis;
        assert_eq!(
            samples.peak_between(ms(15), ms(30)),
            Some(PeakResident {
                anon_mb: 300.0 / 1024.0,
                file_mb: 2.0,
                median_mb: 2_348.0 / 1024.0,
            })
        );
        assert_eq!(
            samples.peak_between(ms(0), ms(40)).map(|p| p.median_mb),
            Some(2_348.0 / 1024.0),
            "the samples' totals are 110, 4,020, 2,348 and 1,224 kB"
        );
        assert_eq!(
            samples.peak_between(ms(0), ms(10)).map(|p| p.anon_mb),
            Some(4_000.0 / 1024.0)
        );
        assert_eq!(samples.peak_between(ms(31), ms(40)), None);
        assert_eq!(samples.cpu_between(ms(9), ms(31)), Some(0.025));
    }

    /// This process's own memory can be read, and the sampler reads it.
    #[test]
    fn the_sampler_reads_this_process() {
        let sampler = StageSampler::start();
        std::thread::sleep(Duration::from_millis(30));
        let samples = sampler.finish();
        let peak = samples
            .peak_between(Duration::ZERO, Duration::from_secs(60))
            .expect("a readable /proc/self/status");
        assert!(peak.anon_mb > 0.0, "{peak:?}");
    }
}
