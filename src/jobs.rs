//! The job registry: every reindex, index rebuild, ingest pass (from the
//! API, the CLI, watching or pulling) and retention run is a [`Job`] with a state, progress
//! (records done / total, rate, ETA), a capped list of errors and
//! timestamps. The most recent [`RECENT_JOBS`] are kept; finished ones are
//! saved in the store's metadata so `GET /v1/jobs` survives a restart.
//! Cancelling sets a shared flag that the work checks between batches.
//!
//! It must never run work itself (the engine does) and never allow two
//! exclusive jobs (reindex, rebuild) at once: that is the one-writer rule.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::store::{Store, StoreError};

/// Jobs kept in memory and in the store.
pub const RECENT_JOBS: usize = 200;
/// Errors kept per job (all are counted in `error_count`).
pub const MAX_JOB_ERRORS: usize = 50;
const META_JOBS: &str = "jobs";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum JobKind {
    /// Re-read sources (one or all) ignoring checkpoints, then index.
    Reindex,
    /// Rebuild the index from the store into a new generation.
    Rebuild,
    /// One ordinary ingest pass (watching, pulling).
    Ingest,
    /// A retention run: purges what expired (`engine/retention.rs`).
    Retention,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum JobTrigger {
    Api,
    Cli,
    Watch,
    Pull,
    /// The retention job's schedule (`[retention] every`).
    Schedule,
}

impl JobTrigger {
    /// The trigger the watcher passes along (`watch`, `pull`); anything else
    /// counts as `watch`, the background thread that runs it.
    pub fn from_background(trigger: &str) -> JobTrigger {
        match trigger {
            "pull" => JobTrigger::Pull,
            _ => JobTrigger::Watch,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum JobState {
    Queued,
    Running,
    Succeeded,
    Failed,
    Cancelled,
}

impl JobState {
    pub fn is_finished(self) -> bool {
        matches!(
            self,
            JobState::Succeeded | JobState::Failed | JobState::Cancelled
        )
    }

    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Queued => "queued",
            JobState::Running => "running",
            JobState::Succeeded => "succeeded",
            JobState::Failed => "failed",
            JobState::Cancelled => "cancelled",
        }
    }
}

/// One problem a job met, with its place when known.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobError {
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
}

impl JobError {
    pub fn message(message: impl Into<String>) -> JobError {
        JobError {
            message: message.into(),
            source: None,
            file: None,
            line: None,
        }
    }
}

/// What `GET /v1/jobs/{id}` shows.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct JobView {
    pub id: String,
    pub kind: JobKind,
    pub trigger: JobTrigger,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    pub state: JobState,
    /// What the job is doing now (`reading sources`, `indexing`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<String>,
    pub records_done: u64,
    /// Unknown while sources are being read.
    pub records_total: Option<u64>,
    pub files_done: u64,
    pub files_total: Option<u64>,
    /// Records per second in the current phase.
    pub rate: Option<f64>,
    pub eta_seconds: Option<f64>,
    pub error_count: u64,
    pub errors: Vec<JobError>,
    pub cancel_requested: bool,
    pub created_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    /// Why a job failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// What a finished job did (counts, generations).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<serde_json::Value>,
}

#[derive(Debug)]
pub struct Job {
    view: Mutex<JobView>,
    cancel: AtomicBool,
    /// When the current phase started, for the rate and the ETA.
    phase_started: Mutex<Instant>,
}

impl Job {
    fn new(view: JobView) -> Job {
        Job {
            cancel: AtomicBool::new(view.cancel_requested),
            view: Mutex::new(view),
            phase_started: Mutex::new(Instant::now()),
        }
    }

    pub fn id(&self) -> String {
        lock(&self.view).id.clone()
    }

    pub fn state(&self) -> JobState {
        lock(&self.view).state
    }

    /// A copy of the job as it is now, with its rate and ETA.
    pub fn view(&self) -> JobView {
        let mut view = lock(&self.view).clone();
        if view.state == JobState::Running {
            let elapsed = lock(&self.phase_started).elapsed().as_secs_f64();
            if elapsed > 0.0 && view.records_done > 0 {
                let rate = view.records_done as f64 / elapsed;
                view.rate = Some(rate);
                view.eta_seconds = view
                    .records_total
                    .map(|total| total.saturating_sub(view.records_done) as f64 / rate);
            }
        }
        view
    }

    /// The flag the work checks between batches.
    pub fn cancel_flag(&self) -> &AtomicBool {
        &self.cancel
    }

    pub fn is_cancelled(&self) -> bool {
        self.cancel.load(Ordering::Relaxed)
    }

    pub fn start(&self) {
        let mut view = lock(&self.view);
        view.state = JobState::Running;
        view.started_at = Some(Utc::now());
    }

    /// Starts a new phase: resets the record counts the rate is taken from.
    pub fn phase(&self, name: &str, records_total: Option<u64>) {
        let mut view = lock(&self.view);
        view.phase = Some(name.to_string());
        view.records_done = 0;
        view.records_total = records_total;
        *lock(&self.phase_started) = Instant::now();
    }

    /// Renames the current phase, keeping its counts and rate.
    pub fn relabel_phase(&self, name: &str) {
        lock(&self.view).phase = Some(name.to_string());
    }

    pub fn records(&self, done: u64, total: Option<u64>) {
        let mut view = lock(&self.view);
        view.records_done = done;
        if total.is_some() {
            view.records_total = total;
        }
    }

    pub fn files(&self, done: u64, total: Option<u64>) {
        let mut view = lock(&self.view);
        view.files_done = done;
        if total.is_some() {
            view.files_total = total;
        }
    }

    pub fn file_done(&self) {
        lock(&self.view).files_done += 1;
    }

    pub fn add_files_total(&self, files: u64) {
        let mut view = lock(&self.view);
        view.files_total = Some(view.files_total.unwrap_or(0) + files);
    }

    pub fn error(&self, error: JobError) {
        let mut view = lock(&self.view);
        view.error_count += 1;
        if view.errors.len() < MAX_JOB_ERRORS {
            view.errors.push(error);
        }
    }

    /// Counts `count` errors of which only `kept` are listed.
    pub fn errors(&self, count: u64, kept: impl IntoIterator<Item = JobError>) {
        let mut view = lock(&self.view);
        view.error_count += count;
        for error in kept {
            if view.errors.len() >= MAX_JOB_ERRORS {
                break;
            }
            view.errors.push(error);
        }
    }

    pub fn finish(
        &self,
        state: JobState,
        message: Option<String>,
        result: Option<serde_json::Value>,
    ) {
        let mut view = lock(&self.view);
        let elapsed = lock(&self.phase_started).elapsed().as_secs_f64();
        if elapsed > 0.0 && view.records_done > 0 {
            view.rate = Some(view.records_done as f64 / elapsed);
        }
        view.eta_seconds = None;
        view.state = state;
        view.message = message;
        view.result = result;
        view.finished_at = Some(Utc::now());
    }
}

/// Why a job could not be cancelled.
#[derive(Debug, thiserror::Error)]
pub enum CancelError {
    #[error("no job with id `{0}`")]
    NotFound(String),
    #[error("job `{id}` has already finished ({state})")]
    Finished { id: String, state: &'static str },
}

pub struct Jobs {
    recent: Mutex<VecDeque<Arc<Job>>>,
    /// The reindex or rebuild job queued or running, if any.
    exclusive: Mutex<Option<Arc<Job>>>,
    counter: AtomicU64,
}

impl Jobs {
    /// The registry with the jobs saved in the store (none if unreadable:
    /// job history is informative, never a reason to refuse to start).
    pub fn load(store: &Store) -> Jobs {
        let saved: Vec<JobView> = match store.meta(META_JOBS) {
            Ok(Some(text)) => serde_json::from_str(&text).unwrap_or_else(|e| {
                tracing::warn!(error = %e, "the saved job history is unreadable; starting empty");
                Vec::new()
            }),
            Ok(None) => Vec::new(),
            Err(e) => {
                tracing::warn!(error = %e, "cannot read the saved job history");
                Vec::new()
            }
        };
        let counter = saved.len() as u64;
        Jobs {
            recent: Mutex::new(saved.into_iter().map(|v| Arc::new(Job::new(v))).collect()),
            exclusive: Mutex::new(None),
            counter: AtomicU64::new(counter),
        }
    }

    /// Registers a new queued job.
    pub fn create(&self, kind: JobKind, trigger: JobTrigger, source: Option<String>) -> Arc<Job> {
        let mut recent = lock(&self.recent);
        let id = loop {
            let n = self.counter.fetch_add(1, Ordering::Relaxed) + 1;
            let id = format!("job_{}_{n}", Utc::now().format("%Y%m%d%H%M%S"));
            if !recent.iter().any(|j| j.id() == id) {
                break id;
            }
        };
        let job = Arc::new(Job::new(JobView {
            id,
            kind,
            trigger,
            source,
            state: JobState::Queued,
            phase: None,
            records_done: 0,
            records_total: None,
            files_done: 0,
            files_total: None,
            rate: None,
            eta_seconds: None,
            error_count: 0,
            errors: Vec::new(),
            cancel_requested: false,
            created_at: Utc::now(),
            started_at: None,
            finished_at: None,
            message: None,
            result: None,
        }));
        recent.push_back(job.clone());
        while recent.len() > RECENT_JOBS {
            match recent.iter().position(|j| j.state().is_finished()) {
                Some(oldest_finished) => {
                    recent.remove(oldest_finished);
                }
                None => break,
            }
        }
        job
    }

    /// Registers a job that must run alone (reindex, rebuild); answers the
    /// job already queued or running instead when there is one.
    pub fn create_exclusive(
        &self,
        kind: JobKind,
        trigger: JobTrigger,
        source: Option<String>,
    ) -> Result<Arc<Job>, Arc<Job>> {
        let mut exclusive = lock(&self.exclusive);
        if let Some(running) = exclusive.as_ref()
            && !running.state().is_finished()
        {
            return Err(running.clone());
        }
        let job = self.create(kind, trigger, source);
        *exclusive = Some(job.clone());
        Ok(job)
    }

    /// Keeps only the newest of the watch or pull passes of one source that
    /// changed nothing: a folder touched often, or a pull every few minutes
    /// answered "not modified", would otherwise push every reindex out of
    /// the history. `job` is the pass that just finished.
    pub fn keep_newest_idle_pass(&self, job: &Job) {
        let newest = job.view();
        if !is_idle_pass(&newest) {
            return;
        }
        // Each job's state is read in place: no copy of 200 views per pass.
        lock(&self.recent).retain(|other| {
            let view = lock(&other.view);
            view.id == newest.id
                || !(is_idle_pass(&view)
                    && view.source == newest.source
                    && view.trigger == newest.trigger)
        });
    }

    pub fn get(&self, id: &str) -> Option<Arc<Job>> {
        lock(&self.recent).iter().find(|j| j.id() == id).cloned()
    }

    /// Recent jobs, newest first.
    pub fn list(&self) -> Vec<JobView> {
        lock(&self.recent).iter().rev().map(|j| j.view()).collect()
    }

    /// Asks a queued or running job to stop.
    pub fn cancel(&self, id: &str) -> Result<JobView, CancelError> {
        let job = self
            .get(id)
            .ok_or_else(|| CancelError::NotFound(id.to_string()))?;
        let mut view = lock(&job.view);
        if view.state.is_finished() {
            return Err(CancelError::Finished {
                id: id.to_string(),
                state: view.state.as_str(),
            });
        }
        view.cancel_requested = true;
        job.cancel.store(true, Ordering::Relaxed);
        drop(view);
        Ok(job.view())
    }

    /// Saves the finished jobs in the store's metadata.
    pub fn persist(&self, store: &Store) -> Result<(), StoreError> {
        let finished: Vec<JobView> = lock(&self.recent)
            .iter()
            .map(|j| j.view())
            .filter(|v| v.state.is_finished())
            .collect();
        let text = serde_json::to_string(&finished).map_err(|e| StoreError::Corrupt {
            key: META_JOBS.into(),
            message: e.to_string(),
        })?;
        store.set_meta(META_JOBS, &text)
    }
}

/// A finished watch or pull pass that succeeded without changing, deleting
/// or failing anything (its result's counts are all zero).
fn is_idle_pass(view: &JobView) -> bool {
    let zero = |key: &str| {
        view.result
            .as_ref()
            .and_then(|r| r.get(key))
            .and_then(serde_json::Value::as_u64)
            == Some(0)
    };
    view.kind == JobKind::Ingest
        && matches!(view.trigger, JobTrigger::Watch | JobTrigger::Pull)
        && view.state == JobState::Succeeded
        && view.error_count == 0
        && ["inserted", "updated", "deleted", "error_count"]
            .iter()
            .all(|k| zero(k))
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[cfg(test)]
mod tests;
