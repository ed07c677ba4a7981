//! The writer's threads start at its priority; the callers' threads keep
//! theirs.

use super::*;

/// The nice value of each of this process's threads whose name starts
/// with `prefix` (the kernel keeps 15 bytes of a name).
fn nice_of(prefix: &str) -> Vec<i32> {
    let mut found = Vec::new();
    for task in std::fs::read_dir("/proc/self/task").unwrap().flatten() {
        let name = std::fs::read_to_string(task.path().join("comm")).unwrap_or_default();
        if name.starts_with(prefix) {
            let tid: i32 = task.file_name().to_str().unwrap().parse().unwrap();
            let pid = rustix::process::Pid::from_raw(tid).unwrap();
            found.push(rustix::process::getpriority_process(Some(pid)).unwrap());
        }
    }
    found
}

fn own_nice() -> i32 {
    rustix::process::getpriority_process(None).unwrap()
}

/// The work runs lowered, a thread it spawns starts lowered, its answer
/// and its errors come back, and the caller's thread keeps its priority.
#[test]
fn work_and_the_threads_it_spawns_run_lowered() {
    let own = own_nice();
    let target = (own + 5).min(19);
    let (inside, spawned) = at_writer_priority(target, || {
        let inside = own_nice();
        let spawned = std::thread::spawn(own_nice).join().unwrap();
        Ok((inside, spawned))
    })
    .unwrap();
    assert_eq!((inside, spawned), (target, target));
    assert_eq!(own_nice(), own);
    let failed: Result<(), IndexError> = at_writer_priority(target, || Err(IndexError::Stopped));
    assert!(matches!(failed, Err(IndexError::Stopped)));
    // 0 runs the work on the caller's thread, as it is.
    let here = std::thread::current().id();
    assert_eq!(
        at_writer_priority(0, || Ok(std::thread::current().id())).unwrap(),
        here
    );
    // A lower setting never raises a thread already lowered further.
    let kept = at_writer_priority(target, || {
        std::thread::spawn(|| {
            lower_this_thread(1);
            own_nice()
        })
        .join()
        .map_err(|_| IndexError::Stopped)
    })
    .unwrap();
    assert_eq!(kept, target.max(1));
}

/// A real index's writer threads (workers, merge pool) run at the
/// configured nice value once it is open and again after a catch-up's
/// commit, which starts new indexing workers; the test's own thread keeps
/// its priority.
#[test]
fn an_index_keeps_its_writer_threads_lowered_across_commits() {
    use crate::record::{Record, RecordKind};
    let own = own_nice();
    let dir = tempfile::tempdir().unwrap();
    let (store, index) = crate::index::SearchIndex::open_with_store_for_tests(dir.path());
    let expected = crate::index::IndexSettings::single_thread()
        .writer_nice
        .max(own);
    let at_writer_priority = |when: &str| {
        // A thread names itself once it runs: wait until both kinds have.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        let (workers, merges) = loop {
            let (workers, merges) = (nice_of("thrd-tantivy-in"), nice_of("merge_thread_"));
            if (!workers.is_empty() && !merges.is_empty()) || std::time::Instant::now() > deadline {
                break (workers, merges);
            }
            std::thread::sleep(std::time::Duration::from_millis(5));
        };
        assert!(!workers.is_empty() && !merges.is_empty(), "{when}");
        for nice in workers.iter().chain(&merges) {
            assert_eq!(*nice, expected, "{when}: {workers:?} {merges:?}");
        }
    };
    at_writer_priority("opened");
    for (i, name) in ["Aiko Tanaka", "Ben Okafor"].into_iter().enumerate() {
        let mut record = Record::new("crm", &i.to_string(), RecordKind::Person);
        record.names.push(name.into());
        store
            .apply_file("crm", &format!("f{i}"), "h", &[record])
            .unwrap();
        assert_eq!(index.catch_up(&store).unwrap(), 1);
        at_writer_priority("after a commit");
    }
    assert_eq!(own_nice(), own);
}
