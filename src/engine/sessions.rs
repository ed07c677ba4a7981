//! The engine keeps web sessions in the store for `auth::sessions`, so a
//! restart does not sign staff out (and lock-outs, so it does not unlock a
//! guessed name; and one-time sign-in links, so they outlive it). It must
//! never fail a request because a session could not be saved: errors are
//! logged, and the session goes on in memory.

use crate::auth::sessions::{SavedLink, SavedLockout, SavedSession, SessionRecords};

use super::Rapport;

impl SessionRecords for Rapport {
    fn save(&self, key: &str, session: &SavedSession) {
        if let Err(e) = self.store.put_session(key, session) {
            tracing::warn!(error = %e, "a web session could not be saved: it ends with the server");
        }
    }

    fn load(&self, key: &str) -> Option<SavedSession> {
        self.store
            .session(key)
            .map_err(|e| tracing::warn!(error = %e, "saved web sessions could not be read"))
            .ok()
            .flatten()
    }

    fn remove(&self, key: &str) {
        if let Err(e) = self.store.remove_session(key) {
            tracing::warn!(error = %e, "an ended web session could not be removed from the store");
        }
    }

    fn remove_ended(&self, live: &dyn Fn(&SavedSession) -> bool) {
        match self.store.remove_sessions(live) {
            Ok(0) => {}
            Ok(removed) => tracing::debug!(removed, "ended web sessions removed"),
            Err(e) => tracing::warn!(error = %e, "ended web sessions could not be removed"),
        }
    }

    fn save_lockout(&self, user: &str, lockout: SavedLockout, now: u64) {
        if let Err(e) = self.store.put_lockout(user, lockout, now) {
            tracing::warn!(error = %e, "a sign-in lock-out could not be saved: it ends with the server");
        }
    }

    fn load_lockout(&self, user: &str) -> Option<SavedLockout> {
        self.store
            .lockout(user)
            .map_err(|e| tracing::warn!(error = %e, "saved sign-in lock-outs could not be read"))
            .ok()
            .flatten()
    }

    fn remove_lockout(&self, user: &str) {
        if let Err(e) = self.store.remove_lockout(user) {
            tracing::warn!(error = %e, "an ended sign-in lock-out could not be removed");
        }
    }

    fn take_link(&self, key: &str) -> Option<SavedLink> {
        self.store
            .take_sign_in_link(key)
            .map_err(|e| tracing::warn!(error = %e, "saved sign-in links could not be read"))
            .ok()
            .flatten()
    }
}
