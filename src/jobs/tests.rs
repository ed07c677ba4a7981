//! The job registry's rules: one exclusive job, cancelling, the bounded
//! history kept across a reload, capped errors.

use super::*;

fn registry() -> (tempfile::TempDir, Store, Jobs) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("store.redb")).unwrap();
    let jobs = Jobs::load(&store);
    (dir, store, jobs)
}

#[test]
fn a_second_exclusive_job_is_refused_until_the_first_finishes() {
    let (_dir, _store, jobs) = registry();
    let first = jobs
        .create_exclusive(JobKind::Rebuild, JobTrigger::Api, None)
        .unwrap();
    let refused = jobs
        .create_exclusive(JobKind::Reindex, JobTrigger::Cli, None)
        .err()
        .unwrap();
    assert_eq!(refused.id(), first.id());
    // Ingest passes are not exclusive.
    jobs.create(JobKind::Ingest, JobTrigger::Watch, Some("crm".into()));
    first.start();
    first.finish(JobState::Succeeded, None, None);
    let second = jobs
        .create_exclusive(JobKind::Reindex, JobTrigger::Cli, None)
        .unwrap();
    assert_ne!(second.id(), first.id());
}

#[test]
fn cancelling_sets_the_flag_and_finished_jobs_refuse() {
    let (_dir, _store, jobs) = registry();
    let job = jobs.create(JobKind::Rebuild, JobTrigger::Api, None);
    job.start();
    let view = jobs.cancel(&job.id()).unwrap();
    assert!(view.cancel_requested && job.is_cancelled());
    job.finish(JobState::Cancelled, None, None);
    assert!(matches!(
        jobs.cancel(&job.id()),
        Err(CancelError::Finished { .. })
    ));
    assert!(matches!(
        jobs.cancel("job_unknown"),
        Err(CancelError::NotFound(_))
    ));
}

#[test]
fn recent_jobs_are_bounded_newest_first_and_survive_a_reload() {
    let (_dir, store, jobs) = registry();
    let mut last = String::new();
    for _ in 0..RECENT_JOBS + 20 {
        let job = jobs.create(JobKind::Ingest, JobTrigger::Watch, None);
        job.start();
        job.records(10, Some(10));
        job.finish(JobState::Succeeded, None, None);
        last = job.id();
    }
    let running = jobs.create(JobKind::Rebuild, JobTrigger::Api, None);
    let listed = jobs.list();
    assert_eq!(listed.len(), RECENT_JOBS);
    assert_eq!(listed[0].id, running.id());
    assert_eq!(listed[1].id, last);
    jobs.persist(&store).unwrap();
    let reloaded = Jobs::load(&store);
    let saved = reloaded.list();
    assert_eq!(saved.len(), RECENT_JOBS - 1, "only finished jobs are saved");
    assert_eq!(saved[0].id, last);
    assert_eq!(saved[0].records_done, 10);
}

#[test]
fn errors_are_capped_and_counted() {
    let (_dir, _store, jobs) = registry();
    let job = jobs.create(JobKind::Reindex, JobTrigger::Api, None);
    for i in 0..MAX_JOB_ERRORS + 5 {
        job.error(JobError::message(format!("problem {i}")));
    }
    let view = job.view();
    assert_eq!(view.error_count, (MAX_JOB_ERRORS + 5) as u64);
    assert_eq!(view.errors.len(), MAX_JOB_ERRORS);
}

#[test]
fn only_the_newest_idle_pass_of_a_source_and_trigger_is_kept() {
    let (_dir, _store, jobs) = registry();
    let pass = |trigger, source: &str, inserted: u64| {
        let job = jobs.create(JobKind::Ingest, trigger, Some(source.into()));
        job.start();
        let result = serde_json::json!({
            "source": source, "inserted": inserted, "updated": 0, "deleted": 0, "error_count": 0
        });
        job.finish(JobState::Succeeded, None, Some(result));
        jobs.keep_newest_idle_pass(&job);
        job.id()
    };
    let reindex = jobs.create(JobKind::Reindex, JobTrigger::Api, None);
    reindex.start();
    reindex.finish(JobState::Succeeded, None, None);
    let first_idle = pass(JobTrigger::Watch, "crm", 0);
    let changed = pass(JobTrigger::Watch, "crm", 3);
    let notes_idle = pass(JobTrigger::Watch, "notes", 0);
    let pull_idle = pass(JobTrigger::Pull, "crm", 0);
    let mut newest_idle = String::new();
    for _ in 0..RECENT_JOBS + 5 {
        newest_idle = pass(JobTrigger::Watch, "crm", 0);
    }
    let ids: Vec<String> = jobs.list().into_iter().map(|v| v.id).collect();
    assert_eq!(
        ids,
        vec![newest_idle, pull_idle, notes_idle, changed, reindex.id()],
        "idle passes replace each other; the rest stays (the first idle one, {first_idle}, is gone)"
    );
}
