//! Keeps tantivy's writer threads (indexing workers, merge threads, the
//! segment updater, the doc store's compressors) at a lower CPU priority
//! (a higher nice value) than the threads that answer searches, so that a
//! long catch-up or rebuild takes the time searches leave idle instead of
//! making them wait: on a 2-core machine, two indexing workers and a merge
//! thread otherwise share the cores equally with the search pool.
//!
//! tantivy offers no hook where it spawns its threads, but on Linux a new
//! thread starts with the nice value of the thread that spawned it, and
//! tantivy spawns them in the caller's thread when a writer is made (merge
//! and updater pools, first workers) and at each commit (new workers, which
//! spawn the compressors). So both run here on a short-lived thread of
//! their own, lowered first. Elsewhere than Linux this does nothing.
//!
//! It must never lower the priority of the calling thread (a search or an
//! API handler may commit a write-back), nor raise any thread's.

/// Runs `work` on a thread of its own whose nice value is at least `nice`
/// (0–19; 0 runs it on the caller's thread unchanged), so that every thread
/// `work` spawns inherits it; returns what `work` returned. A panic in
/// `work` is passed on to the caller.
pub fn at_writer_priority<T: Send>(
    nice: i32,
    work: impl FnOnce() -> Result<T, IndexError> + Send,
) -> Result<T, IndexError> {
    if nice <= 0 || !cfg!(target_os = "linux") {
        return work();
    }
    std::thread::scope(|scope| {
        let thread = std::thread::Builder::new()
            .name("index-writer-priority".into())
            .spawn_scoped(scope, || {
                lower_this_thread(nice);
                work()
            })
            .map_err(IndexError::Thread)?;
        thread
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })
}

use super::IndexError;

/// Raises the calling thread's nice value to `nice` (never lowers it).
#[cfg(target_os = "linux")]
fn lower_this_thread(nice: i32) {
    use rustix::process::{getpriority_process, setpriority_process};
    // On Linux, "process" priority calls with no pid act on the calling
    // thread alone.
    let current = getpriority_process(None).unwrap_or(nice);
    if current < nice
        && let Err(error) = setpriority_process(None, nice)
    {
        tracing::debug!(%error, nice, "could not lower the index writer's priority");
    }
}

#[cfg(not(target_os = "linux"))]
fn lower_this_thread(_nice: i32) {}

#[cfg(all(test, target_os = "linux"))]
mod tests;
