//! A change of 100 rows in a large CSV book re-resolves only the records it
//! reaches, through the real binary, store and index: `rapport ingest
//! --json` reports `stages.resolved_records`, the whole book on the first
//! pass and a small part of it after the change. The customers it leaves are
//! those a full pass from scratch gives on the same files.

use crate::common;

use std::fmt::Write as _;

use common::{Workspace, assert_same_customers};

const ORGS: usize = 2_000;
const PEOPLE: usize = 8_000;
const CHANGED: usize = 100;

const WORDS: &[&str] = &[
    "Acme", "Bright", "Cedar", "Delta", "Kansai", "Nitto", "Hokuto",
];
const SECTORS: &[&str] = &["Robotics", "Foods", "Logistics", "Analytics", "Software"];

/// The book's two CSV files; with `changed`, 100 people have moved to
/// another company (new email domain and account) or have a new phone.
fn write_book(dir: &std::path::Path, changed: bool) {
    write_book_with(dir, changed, false);
}

/// [`write_book`]; with `again`, 100 other people have another phone and
/// another name spelling.
fn write_book_with(dir: &std::path::Path, changed: bool, again: bool) {
    std::fs::create_dir_all(dir).unwrap();
    let mut orgs = String::from("id,kind,name,email\n");
    for k in 0..ORGS {
        let name = format!(
            "{} {} {k} Inc.",
            WORDS[k % WORDS.len()],
            SECTORS[(k / WORDS.len()) % SECTORS.len()]
        );
        writeln!(orgs, "O{k},organization,{name},info@co{k}.example").unwrap();
    }
    let mut people = String::from("id,kind,name,email,account,phone\n");
    let step = PEOPLE / CHANGED;
    for p in 0..PEOPLE {
        let mut k = (p * 7919) % ORGS;
        let mut phone = format!("+1617{:07}", p);
        if changed && p % step == 0 {
            if p % (2 * step) == 0 {
                k = (k + 1) % ORGS;
            } else {
                phone = format!("+1212{:07}", p);
            }
        }
        let mut family = format!("Family{}", p % 23);
        if again && p % step == step / 2 {
            phone = format!("+1313{:07}", p);
            family = format!("Famyli{}", p % 23);
        }
        writeln!(
            people,
            "P{p},person,Person{p} {family},person{p}@co{k}.example,O{k},{phone}"
        )
        .unwrap();
    }
    std::fs::write(dir.join("orgs.csv"), orgs).unwrap();
    std::fs::write(dir.join("people.csv"), people).unwrap();
}

#[test]
fn a_change_of_100_rows_re_resolves_only_what_it_reaches() {
    let total = (ORGS + PEOPLE) as u64;
    let ws = Workspace::new();
    ws.write_config(&[("crm", "generic-csv", "data/crm")]);
    write_book(&ws.path().join("data/crm"), false);
    let first = ws.ingest();
    assert_eq!(first["stages"]["resolved_records"], total, "{first}");
    write_book(&ws.path().join("data/crm"), true);
    let second = ws.ingest();
    let re_resolved = second["stages"]["resolved_records"].as_u64().unwrap_or(0);
    println!("{total} records, {CHANGED} rows changed: {re_resolved} re-resolved");
    assert!(
        re_resolved >= CHANGED as u64 && re_resolved < total / 20,
        "{re_resolved} of {total} re-resolved: {second}"
    );
    let after_change = ws.customers_by_record();
    // The same files read into a new data directory: one full pass.
    let fresh = Workspace::new();
    fresh.write_config(&[("crm", "generic-csv", "data/crm")]);
    write_book(&fresh.path().join("data/crm"), true);
    let full = fresh.ingest();
    assert_eq!(full["stages"]["resolved_records"], total);
    assert_eq!(after_change.len(), total as usize);
    assert_same_customers(&fresh.customers_by_record(), &after_change);
}

/// A long-running server keeps the book's statistics after an incremental
/// pass: the next change reads only the changed records and those it
/// re-resolves, and the customers are still a full pass's.
#[test]
fn a_second_change_reads_only_what_it_reaches() {
    let total = (ORGS + PEOPLE) as u64;
    let ws = Workspace::new();
    ws.write_config(&[("crm", "generic-csv", "data/crm")]);
    let dir = ws.path().join("data/crm");
    write_book(&dir, false);
    let app = open_engine(&ws);
    let ingest = || app.ingest(&|_| {}).unwrap().stages;
    assert_eq!(
        ingest().resolve_read_records,
        total,
        "a full pass reads the book"
    );
    write_book(&dir, true);
    let first = ingest();
    assert_eq!(
        first.resolve_read_records, total,
        "the first incremental pass reads the book to keep its statistics"
    );
    write_book_with(&dir, true, true);
    reads_only_what_it_reaches(ingest(), "with the statistics kept");
    drop(app);
    assert_a_full_pass_gives_the_same(&ws);
}

/// An engine on the workspace's data directory, as a server opens it.
fn open_engine(ws: &Workspace) -> rapport::engine::Rapport {
    let mut config = rapport::config::Config::load(Some(&ws.config())).unwrap();
    config.dictionary_dir = Some(common::dictionary_cache());
    rapport::engine::Rapport::open(config).unwrap()
}

/// A change of 100 rows re-resolved the records it reached, and read only
/// those and the changed ones, not the book.
fn reads_only_what_it_reaches(stages: rapport::engine::IngestStages, when: &str) {
    let total = (ORGS + PEOPLE) as u64;
    println!(
        "{total} records, {CHANGED} rows changed {when}: {} read, {} re-resolved",
        stages.resolve_read_records, stages.resolved_records
    );
    assert!(
        stages.resolved_records >= CHANGED as u64
            && stages.resolve_read_records < total / 10
            && stages.resolve_read_records >= stages.resolved_records,
        "{when}: {stages:?}"
    );
}

/// The customers of the workspace (whose book was changed twice) are those
/// of one full pass on the same files in a new data directory.
fn assert_a_full_pass_gives_the_same(ws: &Workspace) {
    let kept = ws.customers_by_record();
    let fresh = Workspace::new();
    fresh.write_config(&[("crm", "generic-csv", "data/crm")]);
    write_book_with(&fresh.path().join("data/crm"), true, true);
    fresh.ingest();
    assert_eq!(kept.len(), ORGS + PEOPLE);
    assert_same_customers(&fresh.customers_by_record(), &kept);
}

/// Waits (bounded, a liveness limit, not a speed one) until `ready`.
fn wait_until(mut ready: impl FnMut() -> bool) -> bool {
    let until = std::time::Instant::now() + std::time::Duration::from_secs(600);
    while std::time::Instant::now() < until {
        if ready() {
            return true;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    false
}

/// After a restart a server reads the book's statistics ahead of the first
/// change (the thread `rapport serve` starts), so that change reads only
/// the records it changed and those it re-resolves, not the book; after a
/// full pass (which drops them) the thread reads them again. The customers
/// are still a full pass's.
#[test]
fn after_a_restart_the_first_change_reads_only_what_it_reaches() {
    let total = (ORGS + PEOPLE) as u64;
    let ws = Workspace::new();
    ws.write_config(&[("crm", "generic-csv", "data/crm")]);
    let dir = ws.path().join("data/crm");
    write_book(&dir, false);
    // One process resolves the book in full and exits: the restart.
    let first = ws.ingest();
    assert_eq!(first["stages"]["resolved_records"], total, "{first}");
    let app = std::sync::Arc::new(open_engine(&ws));
    assert!(
        !app.book_statistics_ready(),
        "nothing is kept across a restart"
    );
    let thread = app.keep_book_statistics_warm();
    assert!(
        wait_until(|| app.book_statistics_ready()),
        "the statistics are read after the start"
    );
    let ingest = || app.ingest(&|_| {}).unwrap().stages;
    write_book(&dir, true);
    reads_only_what_it_reaches(ingest(), "after a restart");
    // A full pass drops the statistics; the thread reads them again.
    app.resolve().unwrap();
    assert!(
        wait_until(|| app.book_statistics_ready()),
        "the statistics are read again after a full pass"
    );
    write_book_with(&dir, true, true);
    reads_only_what_it_reaches(ingest(), "after a full pass");
    // The thread ends with the engine, closing the store.
    drop(app);
    if let Some(thread) = thread {
        thread.join().unwrap();
    }
    assert_a_full_pass_gives_the_same(&ws);
}

/// With `[server] warm_book_statistics = false` no statistics are read
/// ahead: the first change after a start reads the book itself (the old
/// way, with its memory free until then), and its customers are still a
/// full pass's.
#[test]
fn with_the_read_ahead_off_the_first_change_reads_the_book() {
    let total = (ORGS + PEOPLE) as u64;
    let ws = Workspace::new();
    ws.write_config_with(
        &[("crm", "generic-csv", "data/crm")],
        "[server]\nwarm_book_statistics = false",
    );
    let dir = ws.path().join("data/crm");
    write_book(&dir, false);
    ws.ingest();
    let app = std::sync::Arc::new(open_engine(&ws));
    assert!(
        app.keep_book_statistics_warm().is_none(),
        "no read-ahead thread when the setting is off"
    );
    assert!(!app.book_statistics_ready());
    write_book(&dir, true);
    let stages = app.ingest(&|_| {}).unwrap().stages;
    assert_eq!(
        stages.resolve_read_records, total,
        "the first change read the book itself: {stages:?}"
    );
    assert!(stages.resolved_records < total / 10, "{stages:?}");
    drop(app);
    let kept = ws.customers_by_record();
    let fresh = Workspace::new();
    fresh.write_config(&[("crm", "generic-csv", "data/crm")]);
    write_book(&fresh.path().join("data/crm"), true);
    fresh.ingest();
    assert_same_customers(&fresh.customers_by_record(), &kept);
}
