//! Background work while serving: follows the folders of sources with
//! `watch = true` (notify, debounced) and runs sources on request (after a
//! pull, or a folder that appeared). One thread runs the passes, one at a
//! time, through [`SourceHost::run_source`] (each pass is an `ingest`
//! job), which also brings the index up to date, so a dropped, changed or
//! deleted file is searchable (or gone) within about a second.
//!
//! Every event triggers a pass over the whole source: unchanged files are
//! skipped by their checkpoint hash, so a pass costs a listing and hashes,
//! and nothing a missed event would have told is lost. A file still being
//! written (modified within the debounce window) is left by the pass and
//! looked at again one window later, so it is read once it is quiet.
//!
//! It must never read files itself or touch the store: it only decides when
//! to run a source.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::Duration;

use notify::{EventKind, RecursiveMode};
use notify_debouncer_full::{DebounceEventResult, new_debouncer};

use super::host::SourceHost;
use super::runner::{Message, Runner};

#[derive(Debug, thiserror::Error)]
pub enum WatchError {
    #[error("cannot start the folder watcher: {0}")]
    Notify(#[from] notify::Error),
    #[error("cannot start the background thread: {0}")]
    Thread(std::io::Error),
}

/// The running watcher and pulls; stopped when dropped.
pub struct Background {
    runner: Runner,
    thread: Option<std::thread::JoinHandle<()>>,
    pulls: Vec<tokio::task::JoinHandle<()>>,
}

impl Drop for Background {
    fn drop(&mut self) {
        for pull in &self.pulls {
            pull.abort();
        }
        let _ = self.runner.tx.send(Message::Shutdown);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// A watched source: its name and the canonical folder (or file) followed.
struct Watched {
    source: String,
    root: PathBuf,
    is_file: bool,
}

/// Starts watching the sources with `watch = true` and pulling those with
/// `pull` (pulls need a tokio runtime: call this inside one). `None` when
/// no source asks for either.
pub fn start(app: Arc<dyn SourceHost>) -> Result<Option<Background>, WatchError> {
    let sources = app.config().sources.clone();
    if !sources.iter().any(|s| s.watch || s.pull.is_some()) {
        return Ok(None);
    }
    let (tx, rx) = channel();
    let runner = Runner::new(tx);
    let debounce = Duration::from_millis(app.config().watch_debounce_ms.max(10));
    let events = runner.tx.clone();
    let mut debouncer = new_debouncer(debounce, None, move |result: DebounceEventResult| {
        let _ = events.send(Message::Events(result));
    })?;
    let mut pending: Vec<(String, PathBuf)> = sources
        .iter()
        .filter(|s| s.watch)
        .map(|s| (s.name.clone(), s.path.clone()))
        .collect();
    let mut watched = Vec::new();
    try_watch(
        app.as_ref(),
        &mut debouncer,
        &mut pending,
        &mut watched,
        &runner,
    );
    let mut pulls = Vec::new();
    for source in sources.iter().filter(|s| s.pull.is_some()) {
        match (tokio::runtime::Handle::try_current(), &source.pull) {
            (Ok(handle), Some(pull)) => pulls.push(handle.spawn(super::pull::run(
                app.clone(),
                source.clone(),
                pull.clone(),
                runner.clone(),
            ))),
            _ => tracing::warn!(source = %source.name, "no async runtime: pull not started"),
        }
    }
    let thread_runner = runner.clone();
    let thread = std::thread::Builder::new()
        .name("rapport-watch".into())
        .spawn(move || {
            run_loop(
                app,
                rx,
                thread_runner,
                debouncer,
                pending,
                watched,
                debounce,
            )
        })
        .map_err(WatchError::Thread)?;
    Ok(Some(Background {
        runner,
        thread: Some(thread),
        pulls,
    }))
}

type Debouncer = notify_debouncer_full::Debouncer<
    notify::RecommendedWatcher,
    notify_debouncer_full::RecommendedCache,
>;

/// Watches each pending source whose path exists; the others stay pending
/// and are retried every second (a folder that appears later is picked up).
fn try_watch(
    app: &dyn SourceHost,
    debouncer: &mut Debouncer,
    pending: &mut Vec<(String, PathBuf)>,
    watched: &mut Vec<Watched>,
    runner: &Runner,
) {
    pending.retain(|(source, path)| {
        let Ok(root) = path.canonicalize() else {
            return true;
        };
        let is_file = root.is_file();
        let (target, mode) = match (is_file, root.parent()) {
            (true, Some(parent)) => (parent.to_path_buf(), RecursiveMode::NonRecursive),
            _ => (root.clone(), RecursiveMode::Recursive),
        };
        match debouncer.watch(&target, mode) {
            Ok(()) => {
                tracing::info!(source = %source, path = %root.display(), "watching");
                app.set_live_state(source, Some("watching"));
                watched.push(Watched {
                    source: source.clone(),
                    root,
                    is_file,
                });
                // Whatever arrived before the watch started.
                runner.request(source, "watch");
                false
            }
            Err(e) => {
                tracing::warn!(source = %source, error = %e, "cannot watch yet; retrying");
                true
            }
        }
    });
}

fn run_loop(
    app: Arc<dyn SourceHost>,
    rx: Receiver<Message>,
    runner: Runner,
    mut debouncer: Debouncer,
    mut pending: Vec<(String, PathBuf)>,
    mut watched: Vec<Watched>,
    debounce: Duration,
) {
    loop {
        let mut queue: BTreeMap<String, &'static str> = BTreeMap::new();
        let first = match rx.recv_timeout(Duration::from_secs(1)) {
            Ok(message) => Some(message),
            Err(RecvTimeoutError::Timeout) => None,
            Err(RecvTimeoutError::Disconnected) => return,
        };
        let mut messages: Vec<Message> = first.into_iter().collect();
        messages.extend(rx.try_iter());
        for message in messages {
            match message {
                Message::Shutdown => return,
                Message::Run(source, trigger) => {
                    queue.insert(source, trigger);
                }
                Message::Events(Ok(events)) => {
                    for event in events {
                        if matches!(event.kind, EventKind::Access(_)) {
                            continue;
                        }
                        for path in &event.paths {
                            let Some(w) = owner(&watched, path) else {
                                continue;
                            };
                            if path.is_dir() {
                                // Files written right after their folder was
                                // created may have no event: look again.
                                runner.later(&w.source, "watch", debounce * 3);
                            }
                            queue.insert(w.source.clone(), "watch");
                        }
                    }
                    // A watched folder that was removed loses its watch:
                    // wait for it to come back, as for one not there yet.
                    watched.retain(|w| {
                        if w.is_file || w.root.exists() {
                            return true;
                        }
                        tracing::warn!(source = %w.source, path = %w.root.display(), "watched folder removed; waiting for it to reappear");
                        let _ = debouncer.unwatch(&w.root);
                        app.set_live_state(&w.source, None);
                        pending.push((w.source.clone(), w.root.clone()));
                        false
                    });
                }
                Message::Events(Err(errors)) => {
                    for e in errors {
                        tracing::warn!(error = %e, "folder watcher error");
                    }
                }
            }
        }
        if !pending.is_empty() {
            try_watch(
                app.as_ref(),
                &mut debouncer,
                &mut pending,
                &mut watched,
                &runner,
            );
        }
        for (source, trigger) in queue {
            match app.run_source(&source, trigger) {
                Ok(report) if report.files_deferred > 0 => {
                    // Some file is still being written: look again later.
                    runner.later(&source, "watch", debounce);
                }
                Ok(report) => tracing::info!(
                    source = %source,
                    trigger,
                    inserted = report.inserted,
                    updated = report.updated,
                    deleted = report.deleted,
                    errors = report.error_count,
                    "source refreshed"
                ),
                Err(e) => {
                    tracing::error!(source = %source, error = %e, "refreshing the source failed")
                }
            }
        }
    }
}

/// The watched source an event path belongs to; hidden files (such as a
/// pull's partial download) belong to none.
fn owner<'w>(watched: &'w [Watched], path: &Path) -> Option<&'w Watched> {
    let hidden = path
        .file_name()
        .is_some_and(|n| n.to_string_lossy().starts_with('.'));
    if hidden {
        return None;
    }
    watched.iter().find(|w| {
        if w.is_file {
            path == w.root
        } else {
            path.starts_with(&w.root)
        }
    })
}
