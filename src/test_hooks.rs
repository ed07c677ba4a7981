//! Switches the integration tests set to make timing deterministic: a
//! background pass that waits at a named point while a file exists, so a
//! test can act while the pass is provably in progress.
//!
//! It must never change what a pass does, only when (or which of two
//! paths that give the same answer runs): with the variable unset every
//! hook returns at once.

use std::path::PathBuf;
use std::time::{Duration, Instant};

/// How long a hold lasts at most, so a test that forgets its file cannot
/// hang a server.
const MAX_HOLD: Duration = Duration::from_secs(120);

/// Waits while the file named by the environment variable `variable`
/// exists (checking every 20 ms, two minutes at most), or until `stop`
/// says so. Returns at once when the variable is unset.
pub fn hold_while_file_exists(variable: &str, stop: &dyn Fn() -> bool) {
    let Some(path) = std::env::var_os(variable).map(PathBuf::from) else {
        return;
    };
    let started = Instant::now();
    while path.exists() && !stop() && started.elapsed() < MAX_HOLD {
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Like [`hold_while_file_exists`], but first writes `FILE.reached` beside
/// the file, so a test knows the work stands at this point.
pub fn announce_and_hold(variable: &str) {
    let Some(path) = std::env::var_os(variable).map(PathBuf::from) else {
        return;
    };
    let mut reached = path.clone().into_os_string();
    reached.push(".reached");
    if let Err(e) = std::fs::write(&reached, b"") {
        tracing::warn!(error = %e, "cannot write the test hook's marker");
    }
    hold_while_file_exists(variable, &|| false);
}

/// The size of the document ranges a search is cut into, when the
/// variable `RAPPORT_TEST_RANGE_DOCS` sets one: tests cut their small
/// indexes into many ranges with it, to check that cutting changes no
/// result (see `index::search::parallel`).
pub fn range_docs() -> Option<u32> {
    std::env::var("RAPPORT_TEST_RANGE_DOCS")
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .filter(|&n| n > 0)
}

/// Whether grouped searches collect every group, as the variable
/// `RAPPORT_TEST_EVERY_GROUP=1` asks: a test compares their answers with
/// those of the fast path, which hands on only the page's best groups
/// (see `index::search::top_groups`). Read once per process.
pub fn every_group() -> bool {
    static EVERY: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *EVERY.get_or_init(|| std::env::var("RAPPORT_TEST_EVERY_GROUP").is_ok_and(|v| v.trim() == "1"))
}
