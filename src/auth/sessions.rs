//! Web sessions: the session token a cookie carries (with its CSRF token,
//! idle and absolute expiry), failed sign-ins per user name (lock-out with
//! doubling backoff), and redeeming one-time sign-in links (`auth::links`
//! issues them into the store).
//!
//! Sessions are kept in memory and, when the server gives a
//! [`SessionRecords`] (the engine, over the store), saved there too, so a
//! restart does not sign anyone out; so are lock-outs, so a restart does
//! not give a guesser new tries. Failures before a lock stay in memory. It
//! must never keep a token itself: tables and saved rows are keyed by the
//! token's hash and the CSRF token is derived from the session token, so a
//! memory dump, a debug print or a copy of the store does not hand out a
//! session.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use super::secrets::{self, RandomError};
pub use crate::store::{SavedLink, SavedLockout, SavedSession};

/// Where sessions outlive the process. Errors are the implementor's to log:
/// a session that could not be saved still works until the server stops.
pub trait SessionRecords: Send + Sync {
    fn save(&self, key: &str, session: &SavedSession);
    fn load(&self, key: &str) -> Option<SavedSession>;
    fn remove(&self, key: &str);
    /// Deletes every saved session `live` refuses.
    fn remove_ended(&self, live: &dyn Fn(&SavedSession) -> bool);
    /// Saves a user name's lock-out (and may drop those ended by `now`,
    /// Unix seconds).
    fn save_lockout(&self, user: &str, lockout: SavedLockout, now: u64);
    fn load_lockout(&self, user: &str) -> Option<SavedLockout>;
    fn remove_lockout(&self, user: &str);
    /// Removes and answers the link saved under `key`.
    fn take_link(&self, key: &str) -> Option<SavedLink>;
}

/// A used session's last use is saved again at most this often (seconds):
/// idle expiry is counted in minutes, and a write per request would not be.
const SAVE_LAST_SEEN_EVERY: u64 = 60;

#[derive(Debug, Clone, Copy)]
pub struct SessionSettings {
    /// A session unused this long ends.
    pub idle: Duration,
    /// A session ends this long after sign-in, used or not.
    pub absolute: Duration,
    /// Failed sign-ins in a row before a user name is locked.
    pub max_failures: u32,
    /// The first lock-out; each further failure doubles it (at most an hour).
    pub lockout: Duration,
}

impl Default for SessionSettings {
    fn default() -> Self {
        SessionSettings {
            idle: Duration::from_secs(30 * 60),
            absolute: Duration::from_secs(12 * 3600),
            max_failures: 5,
            lockout: Duration::from_secs(60),
        }
    }
}

/// A live session as a request sees it.
#[derive(Debug, Clone)]
pub struct Session {
    pub user: String,
    pub csrf: String,
}

struct Entry {
    saved: SavedSession,
    /// `last_seen` as it was last saved.
    saved_last_seen: u64,
}

#[derive(Default)]
struct Failures {
    count: u32,
    locked_until: Option<Instant>,
}

#[derive(Default)]
struct Tables {
    sessions: HashMap<String, Entry>,
    failures: HashMap<String, Failures>,
}

pub struct Sessions {
    settings: SessionSettings,
    tables: Mutex<Tables>,
    records: Option<Arc<dyn SessionRecords>>,
}

/// A new session: the cookie's token and the CSRF token, each shown once.
pub struct Opened {
    pub token: String,
    pub csrf: String,
}

const MAX_LOCKOUT: Duration = Duration::from_secs(3600);
/// User names with failures kept at most: past it, those not locked now are
/// forgotten, so guessing many names cannot grow memory without bound.
const MAX_FAILURE_ENTRIES: usize = 10_000;

impl Sessions {
    pub fn new(settings: SessionSettings) -> Sessions {
        Sessions {
            settings,
            tables: Mutex::new(Tables::default()),
            records: None,
        }
    }

    /// Saves sessions in `records` too, and forgets the saved ones that
    /// have ended.
    pub fn saved_in(mut self, records: Arc<dyn SessionRecords>) -> Sessions {
        let settings = self.settings;
        let now = unix_now();
        records.remove_ended(&|s| !expired(s, now, settings));
        self.records = Some(records);
        self
    }

    pub fn settings(&self) -> SessionSettings {
        self.settings
    }

    fn tables(&self) -> std::sync::MutexGuard<'_, Tables> {
        // A panic while holding the lock leaves plain maps behind: still usable.
        self.tables.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn open(&self, user: &str) -> Result<Opened, RandomError> {
        let token = secrets::token()?;
        let now = unix_now();
        let settings = self.settings;
        let saved = SavedSession {
            user: user.to_string(),
            created: now,
            last_seen: now,
        };
        let key = secrets::hash(&token);
        {
            let mut t = self.tables();
            t.sessions.retain(|_, e| !expired(&e.saved, now, settings));
            t.sessions.insert(
                key.clone(),
                Entry {
                    saved: saved.clone(),
                    saved_last_seen: now,
                },
            );
        }
        if let Some(records) = &self.records {
            records.remove_ended(&|s| !expired(s, now, settings));
            records.save(&key, &saved);
        }
        Ok(Opened {
            csrf: csrf_of(&token),
            token,
        })
    }

    /// The live session of `token`, touched (idle expiry starts again);
    /// one saved before a restart is found in the records.
    pub fn lookup(&self, token: &str) -> Option<Session> {
        let key = secrets::hash(token);
        let now = unix_now();
        let settings = self.settings;
        let mut t = self.tables();
        if !t.sessions.contains_key(&key) {
            let saved = self.records.as_ref()?.load(&key)?;
            t.sessions.insert(
                key.clone(),
                Entry {
                    saved_last_seen: saved.last_seen,
                    saved,
                },
            );
        }
        let entry = t.sessions.get_mut(&key)?;
        if expired(&entry.saved, now, settings) {
            t.sessions.remove(&key);
            drop(t);
            if let Some(records) = &self.records {
                records.remove(&key);
            }
            return None;
        }
        entry.saved.last_seen = now;
        let session = Session {
            user: entry.saved.user.clone(),
            csrf: csrf_of(token),
        };
        let save = (now.saturating_sub(entry.saved_last_seen) >= SAVE_LAST_SEEN_EVERY).then(|| {
            entry.saved_last_seen = now;
            entry.saved.clone()
        });
        drop(t);
        if let (Some(records), Some(saved)) = (&self.records, save) {
            records.save(&key, &saved);
        }
        Some(session)
    }

    pub fn close(&self, token: &str) {
        let key = secrets::hash(token);
        self.tables().sessions.remove(&key);
        if let Some(records) = &self.records {
            records.remove(&key);
        }
    }

    /// How long `user` stays locked out, if they are.
    pub fn locked(&self, user: &str) -> Option<Duration> {
        let now = Instant::now();
        let mut t = self.tables();
        self.recall_lockout(&mut t, user);
        let until = t.failures.get(user)?.locked_until?;
        until.checked_duration_since(now).filter(|d| !d.is_zero())
    }

    /// Counts a failed sign-in; answers the lock-out it starts, if any.
    pub fn failed(&self, user: &str) -> Option<Duration> {
        let settings = self.settings;
        let mut t = self.tables();
        if t.failures.len() >= MAX_FAILURE_ENTRIES && !t.failures.contains_key(user) {
            let now = Instant::now();
            t.failures
                .retain(|_, f| f.locked_until.is_some_and(|until| until > now));
        }
        self.recall_lockout(&mut t, user);
        let f = t.failures.entry(user.to_string()).or_default();
        f.count += 1;
        if f.count < settings.max_failures {
            return None;
        }
        let doublings = (f.count - settings.max_failures).min(16);
        let lock = settings
            .lockout
            .saturating_mul(1u32 << doublings)
            .min(MAX_LOCKOUT);
        f.locked_until = Some(Instant::now() + lock);
        let saved = SavedLockout {
            failures: f.count,
            until: unix_now().saturating_add(lock.as_secs().max(1)),
        };
        drop(t);
        if let Some(records) = &self.records {
            records.save_lockout(user, saved, unix_now());
        }
        Some(lock)
    }

    pub fn succeeded(&self, user: &str) {
        let had = self.tables().failures.remove(user).is_some();
        if let (true, Some(records)) = (had, &self.records) {
            records.remove_lockout(user);
        }
    }

    /// Brings `user`'s saved lock-out into memory when memory knows
    /// nothing of them (after a restart).
    fn recall_lockout(&self, t: &mut Tables, user: &str) {
        if t.failures.contains_key(user) {
            return;
        }
        let Some(saved) = self.records.as_ref().and_then(|r| r.load_lockout(user)) else {
            return;
        };
        let now = unix_now();
        let locked_until =
            (saved.until > now).then(|| Instant::now() + Duration::from_secs(saved.until - now));
        t.failures.insert(
            user.to_string(),
            Failures {
                count: saved.failures,
                locked_until,
            },
        );
    }

    /// The user of a one-time link (`auth::links`), which is spent by
    /// asking, expired or not. Without a store there are no links.
    pub fn redeem_link(&self, token: &str) -> Option<String> {
        let saved = self.records.as_ref()?.take_link(&secrets::hash(token))?;
        (saved.expires > unix_now()).then_some(saved.user)
    }
}

fn expired(e: &SavedSession, now: u64, s: SessionSettings) -> bool {
    now.saturating_sub(e.last_seen) >= s.idle.as_secs()
        || now.saturating_sub(e.created) >= s.absolute.as_secs()
}

/// Now, in Unix seconds (the unit saved sessions, lock-outs and links use).
pub(super) fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// The CSRF token of a session: derived from its token (so it is never
/// stored, and survives a restart with the session), and useless without
/// the cookie, which another site cannot read.
fn csrf_of(token: &str) -> String {
    secrets::hash(&format!("rapport-csrf\0{token}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_lock_a_user_out_and_sessions_open_and_close() {
        let s = Sessions::new(SessionSettings::default());
        for _ in 0..4 {
            assert!(s.failed("ann").is_none());
        }
        assert_eq!(s.failed("ann"), Some(Duration::from_secs(60)));
        assert!(s.locked("ann").is_some());
        assert_eq!(s.failed("ann"), Some(Duration::from_secs(120)));
        assert!(s.locked("bo").is_none());
        s.succeeded("ann");
        assert!(s.locked("ann").is_none());

        let opened = s.open("ann").unwrap();
        assert_eq!(s.lookup(&opened.token).unwrap().csrf, opened.csrf);
        s.close(&opened.token);
        assert!(s.lookup(&opened.token).is_none());
    }

    #[test]
    fn guessing_many_user_names_keeps_the_failure_table_bounded() {
        let s = Sessions::new(SessionSettings::default());
        for _ in 0..5 {
            s.failed("locked");
        }
        for i in 0..MAX_FAILURE_ENTRIES {
            s.failed(&format!("guess{i}"));
        }
        assert!(s.tables().failures.len() <= MAX_FAILURE_ENTRIES);
        assert!(s.locked("locked").is_some(), "a locked name stays locked");
    }

    #[test]
    fn an_idle_session_ends() {
        let s = Sessions::new(SessionSettings {
            idle: Duration::ZERO,
            ..SessionSettings::default()
        });
        let opened = s.open("ann").unwrap();
        assert!(s.lookup(&opened.token).is_none());
    }
}
