//! Retention on the engine: which records expired under each source's
//! `retain_days` (counted from the record's last update or its customer's
//! last interaction, whichever is later) and which customers are inactive
//! under `[retention] inactive_days`; the plan that lists them by source and
//! reason, and the run that purges exactly what the plan at that moment
//! lists, through the erasure's deletion, as a job in `/v1/jobs`.
//!
//! It must never purge what it cannot date (an undated record is counted,
//! never purged on its own), and never plan and purge from two different
//! readings of the store: a run plans again under the ingest lock and
//! purges that plan.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Weak};

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

use super::jobs::StartJobError;
use super::{EngineError, Rapport, lock};
use crate::index::search::matching::BATCH;
use crate::jobs::{Job, JobError, JobKind, JobState, JobTrigger};
use crate::record::{Record, RecordKind};
use crate::store::{AuditEntry, RetentionPart, append_ledger};

/// Why a record is purged.
pub const REASON_RETAIN_DAYS: &str = "retain_days";
pub const REASON_INACTIVE: &str = "inactive_customer";

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct PlannedRecord {
    pub id: String,
    pub source: String,
    pub reason: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer_id: Option<String>,
    /// The latest of the record's date and its customer's last interaction.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_activity: Option<DateTime<Utc>>,
    #[serde(skip)]
    own_date: Option<DateTime<Utc>>,
}

/// What the next run would purge.
#[derive(Debug, Clone, Serialize)]
pub struct RetentionPlan {
    pub generated_at: DateTime<Utc>,
    /// The policy applied: `retain_days` per source, `inactive_days`.
    pub policy: serde_json::Value,
    pub total: usize,
    /// Source → reason → records.
    pub by_source: BTreeMap<String, BTreeMap<String, usize>>,
    /// Customers purged whole (inactive).
    pub customers: Vec<String>,
    pub records: Vec<PlannedRecord>,
    /// Records of sources with `retain_days` that carry no date and whose
    /// customer has none either: kept, and counted here.
    pub undated: usize,
}

/// What a run purged: its plan and the audit entry.
#[derive(Debug, Serialize)]
pub struct RetentionRun {
    pub plan: RetentionPlan,
    pub audit: AuditEntry,
}

fn is_interaction(kind: RecordKind) -> bool {
    !matches!(kind, RecordKind::Organization | RecordKind::Person)
}

fn own_date(record: &Record) -> Option<DateTime<Utc>> {
    record.updated.or(record.created)
}

impl Rapport {
    /// Every record, a page at a time.
    fn each_record(&self, mut f: impl FnMut(&Record)) -> Result<(), EngineError> {
        let mut after: Option<String> = None;
        loop {
            let page = self.store.records_page(after.as_deref(), BATCH)?;
            let Some((last, _)) = page.last() else { break };
            after = Some(last.clone());
            for (_, record) in &page {
                f(record);
            }
        }
        Ok(())
    }

    /// What a retention run would purge now.
    pub fn retention_plan(&self) -> Result<RetentionPlan, EngineError> {
        let _span = tracing::info_span!("retention_plan").entered();
        self.plan_retention(Utc::now())
    }

    fn plan_retention(&self, now: DateTime<Utc>) -> Result<RetentionPlan, EngineError> {
        let retain: HashMap<&str, u64> = (self.config.sources.iter())
            .filter_map(|s| s.retain_days.map(|d| (s.name.as_str(), d)))
            .collect();
        let inactive_days = self.config.retention.inactive_days;
        let days = |n: u64| Duration::days(i64::try_from(n).unwrap_or(i64::MAX / 86_400_000));
        // Pass 1: each customer's last interaction and latest dated record.
        let mut interaction: HashMap<String, DateTime<Utc>> = HashMap::new();
        let mut latest: HashMap<String, DateTime<Utc>> = HashMap::new();
        self.each_record(|r| {
            if let (Some(customer), Some(date)) = (&r.customer_id, own_date(r)) {
                let later = |m: &mut HashMap<String, DateTime<Utc>>| {
                    let e = m.entry(customer.clone()).or_insert(date);
                    *e = (*e).max(date);
                };
                later(&mut latest);
                if is_interaction(r.kind) {
                    later(&mut interaction);
                }
            }
        })?;
        // Pass 2: each record's fate.
        let mut records = Vec::new();
        let mut undated = 0;
        let mut inactive_customers = std::collections::BTreeSet::new();
        self.each_record(|r| {
            let customer = r.customer_id.as_deref();
            let last_interaction = customer.and_then(|c| interaction.get(c)).copied();
            if let (Some(limit), Some(c)) = (inactive_days, customer) {
                let activity = last_interaction.or_else(|| latest.get(c).copied());
                if activity.is_some_and(|a| a + days(limit) < now) {
                    inactive_customers.insert(c.to_string());
                    records.push(PlannedRecord {
                        id: r.id(),
                        source: r.source.clone(),
                        reason: REASON_INACTIVE,
                        customer_id: Some(c.to_string()),
                        last_activity: activity,
                        own_date: own_date(r),
                    });
                    return;
                }
            }
            let Some(&limit) = retain.get(r.source.as_str()) else {
                return;
            };
            let last = match (own_date(r), last_interaction) {
                (Some(a), Some(b)) => Some(a.max(b)),
                (a, b) => a.or(b),
            };
            match last {
                None => undated += 1,
                Some(last) if last + days(limit) < now => records.push(PlannedRecord {
                    id: r.id(),
                    source: r.source.clone(),
                    reason: REASON_RETAIN_DAYS,
                    customer_id: customer.map(str::to_string),
                    last_activity: Some(last),
                    own_date: own_date(r),
                }),
                Some(_) => {}
            }
        })?;
        let mut by_source: BTreeMap<String, BTreeMap<String, usize>> = BTreeMap::new();
        for r in &records {
            *by_source
                .entry(r.source.clone())
                .or_default()
                .entry(r.reason.to_string())
                .or_default() += 1;
        }
        Ok(RetentionPlan {
            generated_at: now,
            policy: serde_json::json!({
                "retain_days": retain.iter().map(|(k, v)| (k.to_string(), *v)).collect::<BTreeMap<_, _>>(),
                "inactive_days": inactive_days,
            }),
            total: records.len(),
            by_source,
            customers: inactive_customers.into_iter().collect(),
            records,
            undated,
        })
    }

    /// Plans and purges under the ingest lock, so nothing is written between
    /// the plan and the purge; then re-resolves and brings the index up to
    /// date with the purged documents rewritten out of its segments.
    pub fn run_retention(&self, actor: &str) -> Result<RetentionRun, EngineError> {
        let _span = tracing::info_span!("retention_run", actor).entered();
        let (plan, audit) = {
            let _pass = lock(&self.ingest_lock);
            let plan = self.plan_retention(Utc::now())?;
            let mut parts: BTreeMap<Option<String>, RetentionPart> = BTreeMap::new();
            for r in &plan.records {
                let whole = (r.reason == REASON_INACTIVE)
                    .then(|| r.customer_id.clone())
                    .flatten();
                parts
                    .entry(whole.clone())
                    .or_insert_with(|| RetentionPart {
                        customer_id: whole,
                        records: Vec::new(),
                    })
                    .records
                    .push((r.id.clone(), r.own_date));
            }
            let parts: Vec<RetentionPart> = parts.into_values().collect();
            let mut details = serde_json::Map::new();
            details.insert("planned".into(), plan.total.into());
            details.insert("customers_purged".into(), plan.customers.len().into());
            details.insert("by_source".into(), serde_json::json!(plan.by_source));
            details.insert("undated_kept".into(), plan.undated.into());
            let (audit, ledger) = self.store.purge_retention(&parts, actor, details)?;
            for entry in ledger.iter().filter(|e| !e.records.is_empty()) {
                append_ledger(&self.config.data_dir, entry).map_err(EngineError::Ledger)?;
            }
            if plan.total > 0 {
                self.resolve_locked()?;
            }
            (plan, audit)
        };
        if plan.total > 0 {
            self.index.catch_up(&self.store)?;
            self.index.purge_deleted()?;
            self.scrub_store_if_pending()?;
        }
        tracing::info!(
            purged = plan.total,
            customers = plan.customers.len(),
            "retention run done"
        );
        Ok(RetentionRun { plan, audit })
    }

    /// Registers a retention job and runs it on its own thread; answers at
    /// once. `actor` is who started it (`rapport` for the schedule).
    pub fn start_retention(
        self: &Arc<Self>,
        trigger: JobTrigger,
        actor: &str,
    ) -> Result<Arc<Job>, StartJobError> {
        let job = self.jobs.create(JobKind::Retention, trigger, None);
        let app = self.clone();
        let worker = job.clone();
        let actor = actor.to_string();
        let spawned = std::thread::Builder::new()
            .name("rapport-retention".into())
            .spawn(move || app.run_retention_job(&worker, &actor));
        if let Err(e) = spawned {
            job.finish(JobState::Failed, Some(e.to_string()), None);
            return Err(StartJobError::Thread(e));
        }
        Ok(job)
    }

    fn run_retention_job(&self, job: &Job, actor: &str) {
        let span = tracing::info_span!("job", id = %job.id(), kind = "retention");
        let _entered = span.enter();
        job.start();
        job.phase("purging what expired", None);
        match self.run_retention(actor) {
            Ok(run) => {
                job.records(run.plan.total as u64, Some(run.plan.total as u64));
                let result = serde_json::json!({
                    "purged": run.plan.total,
                    "by_source": run.plan.by_source,
                    "customers": run.plan.customers,
                    "records": run.plan.records.iter().map(|r| &r.id).collect::<Vec<_>>(),
                    "undated_kept": run.plan.undated,
                    "audit_seq": run.audit.seq,
                });
                job.finish(JobState::Succeeded, None, Some(result));
            }
            Err(e) => {
                tracing::error!(error = %e, "retention run failed");
                job.error(JobError::message(e.to_string()));
                job.finish(JobState::Failed, Some(e.to_string()), None);
            }
        }
        self.save_jobs();
    }

    /// Runs the retention job every `[retention] every` while the server
    /// runs (nothing when unset). The thread holds the engine weakly and
    /// ends once it is gone.
    pub fn start_retention_schedule(self: &Arc<Self>) -> Option<std::thread::JoinHandle<()>> {
        let every = self.config.retention.interval().ok().flatten()?;
        let app: Weak<Rapport> = Arc::downgrade(self);
        std::thread::Builder::new()
            .name("rapport-retention-schedule".into())
            .spawn(move || {
                loop {
                    std::thread::sleep(every);
                    let Some(app) = app.upgrade() else { break };
                    if let Err(e) = app.start_retention(JobTrigger::Schedule, "rapport") {
                        tracing::error!(error = %e, "cannot start the scheduled retention run");
                    }
                }
            })
            .map_err(|e| tracing::error!(error = %e, "cannot start the retention schedule"))
            .ok()
    }
}
