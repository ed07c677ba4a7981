//! The engine's jobs: reindex (re-read every source or one, ignoring file
//! checkpoints), rebuild of the index from the store into a new generation
//! swapped in with no downtime, and ingest passes run by watching and
//! pulling — each registered in [`crate::jobs::Jobs`] with its progress.
//!
//! It must never run two reindex or rebuild jobs at once (the registry
//! refuses the second), and never leave the live index changed by a failed
//! or cancelled rebuild (see `index::live`).

use std::sync::Arc;

use serde_json::json;

use super::{EngineError, Rapport, lock};
use crate::index::IndexError;
use crate::index::live::RebuildProgress;
use crate::jobs::{CancelError, Job, JobError, JobKind, JobState, JobTrigger, JobView, Jobs};
use crate::sources::ingest::{Progress, SourceReport};

/// What `POST /v1/reindex` and `rapport reindex` ask for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReindexRequest {
    /// Re-read every source ignoring checkpoints, resolve, rebuild the index.
    Everything,
    /// Re-read one source ignoring its checkpoints, resolve, catch up.
    Source(String),
    /// Rebuild the index from the store only.
    FromStore,
}

#[derive(Debug, thiserror::Error)]
pub enum StartJobError {
    #[error("reindex job {id} is already {state}; wait for it or cancel it (DELETE /v1/jobs/{id})")]
    Running { id: String, state: &'static str },
    #[error("no source named `{0}` in the configuration")]
    UnknownSource(String),
    #[error("cannot start the job thread: {0}")]
    Thread(std::io::Error),
}

/// How a job's work ended other than by success.
enum Stop {
    Cancelled,
    Failed(String),
}

impl From<EngineError> for Stop {
    fn from(e: EngineError) -> Self {
        match e {
            EngineError::Index(IndexError::Stopped) => Stop::Cancelled,
            e => Stop::Failed(e.to_string()),
        }
    }
}

impl From<IndexError> for Stop {
    fn from(e: IndexError) -> Self {
        Stop::from(EngineError::from(e))
    }
}

impl From<crate::store::StoreError> for Stop {
    fn from(e: crate::store::StoreError) -> Self {
        Stop::Failed(e.to_string())
    }
}

impl Rapport {
    pub fn jobs(&self) -> &Jobs {
        &self.jobs
    }

    /// The live index generation's directory name.
    pub fn index_generation(&self) -> String {
        self.index.generation()
    }

    /// Registers a reindex job and starts it on its own thread; answers at
    /// once. Refused while another reindex or rebuild is queued or running.
    pub fn start_reindex(
        self: &Arc<Self>,
        request: ReindexRequest,
        trigger: JobTrigger,
    ) -> Result<Arc<Job>, StartJobError> {
        let (kind, source) = match &request {
            ReindexRequest::Everything => (JobKind::Reindex, None),
            ReindexRequest::Source(name) => {
                if !self.config.sources.iter().any(|s| &s.name == name) {
                    return Err(StartJobError::UnknownSource(name.clone()));
                }
                (JobKind::Reindex, Some(name.clone()))
            }
            ReindexRequest::FromStore => (JobKind::Rebuild, None),
        };
        let job = self
            .jobs
            .create_exclusive(kind, trigger, source)
            .map_err(|running| StartJobError::Running {
                id: running.id(),
                state: running.state().as_str(),
            })?;
        let app = self.clone();
        let worker = job.clone();
        let spawned = std::thread::Builder::new()
            .name("rapport-job".into())
            .spawn(move || app.run_job(&worker, &request));
        if let Err(e) = spawned {
            job.finish(JobState::Failed, Some(e.to_string()), None);
            return Err(StartJobError::Thread(e));
        }
        Ok(job)
    }

    /// Asks a queued or running job to stop.
    pub fn cancel_job(&self, id: &str) -> Result<JobView, CancelError> {
        self.jobs.cancel(id)
    }

    fn run_job(&self, job: &Job, request: &ReindexRequest) {
        let span = tracing::info_span!("job", id = %job.id(), ?request);
        let _entered = span.enter();
        if job.is_cancelled() {
            job.finish(JobState::Cancelled, None, None);
            self.save_jobs();
            return;
        }
        job.start();
        tracing::info!("job started");
        let outcome = match request {
            ReindexRequest::Everything => self.reindex_everything(job),
            ReindexRequest::Source(name) => self.reindex_source(job, name),
            ReindexRequest::FromStore => self.rebuild_index(job).map(|r| json!({ "index": r })),
        };
        match outcome {
            Ok(result) => job.finish(JobState::Succeeded, None, Some(result)),
            Err(Stop::Cancelled) => job.finish(JobState::Cancelled, None, None),
            Err(Stop::Failed(message)) => {
                tracing::error!(error = %message, "job failed");
                job.error(JobError::message(message.clone()));
                job.finish(JobState::Failed, Some(message), None);
            }
        }
        tracing::info!(state = job.state().as_str(), "job finished");
        self.save_jobs();
    }

    pub(super) fn save_jobs(&self) {
        if let Err(e) = self.jobs.persist(&self.store) {
            tracing::warn!(error = %e, "cannot save the job history");
        }
    }

    /// Re-reads every source, resolves, then rebuilds the index. Cancelled
    /// between sources, what was read is still resolved and indexed.
    fn reindex_everything(&self, job: &Job) -> Result<serde_json::Value, Stop> {
        let sources = {
            let _pass = lock(&self.ingest_lock);
            job.phase("reading sources", None);
            let mut reports = Vec::new();
            for source in &self.config.sources {
                if job.is_cancelled() {
                    break;
                }
                reports.push(self.reread_source(job, source)?);
            }
            job.phase("resolving", None);
            self.resolve_if_stale()?;
            reports
        };
        self.index.catch_up(&self.store)?;
        if job.is_cancelled() {
            return Err(Stop::Cancelled);
        }
        let index = self.rebuild_index(job)?;
        Ok(json!({ "sources": sources, "index": index }))
    }

    /// Re-reads one source, resolves, and catches the live index up.
    fn reindex_source(&self, job: &Job, name: &str) -> Result<serde_json::Value, Stop> {
        let Some(source) = self.config.sources.iter().find(|s| s.name == name) else {
            return Err(Stop::Failed(format!(
                "no source named `{name}` in the configuration"
            )));
        };
        let report = {
            let _pass = lock(&self.ingest_lock);
            job.phase("reading sources", None);
            let report = self.reread_source(job, source)?;
            job.phase("resolving", None);
            self.resolve_if_stale()?;
            report
        };
        job.phase("indexing", None);
        let applied = self.index.catch_up(&self.store)?;
        job.records(applied as u64, Some(applied as u64));
        Ok(json!({ "sources": [report], "indexed_changes": applied }))
    }

    /// One source read again ignoring checkpoints (the caller holds
    /// `ingest_lock`), its files and problems counted in the job.
    fn reread_source(
        &self,
        job: &Job,
        source: &crate::config::SourceConfig,
    ) -> Result<serde_json::Value, Stop> {
        let report = self.run_source_with(source, "reindex", &job_progress(job), true)?;
        record_report(job, &report);
        Ok(source_summary(&report))
    }

    /// Rebuilds the index from the store into a new generation and swaps it
    /// in; the live one keeps answering meanwhile.
    fn rebuild_index(&self, job: &Job) -> Result<serde_json::Value, Stop> {
        let total = self.store.record_count()?;
        job.phase("indexing", Some(total));
        let progress = |p: RebuildProgress| {
            job.records(p.applied as u64, Some(p.total));
            if p.filled {
                job.relabel_phase("catching up");
            }
        };
        let outcome = self
            .index
            .rebuild(&self.store, &progress, job.cancel_flag())?;
        job.records(outcome.applied as u64, Some(total));
        Ok(json!({
            "generation": outcome.generation,
            "previous_generation": outcome.previous_generation,
            "applied": outcome.applied,
            "caught_up": outcome.caught_up,
            "documents": outcome.documents,
        }))
    }

    /// [`Rapport::ingest_source`] registered as an `ingest` job (what the
    /// watcher runs for watching and pulling).
    pub fn ingest_source_job(
        &self,
        name: &str,
        trigger: &str,
    ) -> Result<SourceReport, EngineError> {
        let job = self.jobs.create(
            JobKind::Ingest,
            JobTrigger::from_background(trigger),
            Some(name.to_string()),
        );
        job.start();
        job.phase("reading sources", None);
        let outcome = self.ingest_source_observed(name, trigger, &job);
        match &outcome {
            Ok(report) => {
                record_report(&job, report);
                let done =
                    (report.inserted + report.updated + report.unchanged + report.deleted) as u64;
                job.records(done, Some(done));
                match &report.failed {
                    Some(reason) => {
                        job.finish(JobState::Failed, Some(reason.clone()), None);
                    }
                    None => {
                        job.finish(JobState::Succeeded, None, Some(source_summary(report)));
                        self.jobs.keep_newest_idle_pass(&job);
                    }
                }
            }
            Err(e) => {
                job.error(JobError::message(e.to_string()));
                job.finish(JobState::Failed, Some(e.to_string()), None);
            }
        }
        self.save_jobs();
        outcome
    }

    fn ingest_source_observed(
        &self,
        name: &str,
        trigger: &str,
        job: &Job,
    ) -> Result<SourceReport, EngineError> {
        let Some(source) = self.config.sources.iter().find(|s| s.name == name) else {
            return self.ingest_source(name, trigger);
        };
        let report = {
            let _pass = lock(&self.ingest_lock);
            let report = self.run_source(source, trigger, &job_progress(job))?;
            job.phase("resolving", None);
            self.resolve_if_stale()?;
            report
        };
        job.phase("indexing", None);
        let _span = tracing::info_span!("index", source = %name).entered();
        self.index.catch_up(&self.store)?;
        Ok(report)
    }
}

fn job_progress(job: &Job) -> impl Fn(Progress) + '_ {
    move |event| match event {
        Progress::SourceStarted { files, .. } => job.add_files_total(files as u64),
        Progress::FileDone { .. } => job.file_done(),
    }
}

/// A source report's problems, with file and line, into the job.
fn record_report(job: &Job, report: &SourceReport) {
    job.errors(
        report.error_count as u64,
        report.errors.iter().map(|e| JobError {
            message: e.reason.clone(),
            source: Some(e.source.clone()),
            file: Some(e.file.clone()),
            line: e.line,
        }),
    );
    if let Some(reason) = &report.failed {
        job.error(JobError {
            message: reason.clone(),
            source: Some(report.source.clone()),
            file: None,
            line: None,
        });
    }
}

fn source_summary(report: &SourceReport) -> serde_json::Value {
    json!({
        "source": report.source,
        "files_seen": report.files_seen,
        "inserted": report.inserted,
        "updated": report.updated,
        "unchanged": report.unchanged,
        "deleted": report.deleted,
        "erased": report.erased,
        "error_count": report.error_count,
        "failed": report.failed,
    })
}
