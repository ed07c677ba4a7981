//! Audit entries for identity changes made from the command line on a data
//! directory no server holds (`rapport keys …`, `rapport users …`): over
//! HTTP the API's middleware records the same changes, so without these a
//! key created at the console would be the one change a security officer
//! could not find in `GET /v1/audit`. The action names are the API's.
//!
//! It must never put a secret in an entry (key secrets, passwords, link
//! tokens): only the action, the key id or user name, and who ran it.

use anyhow::{Context, Result};
use serde_json::{Map, Value};

use rapport::engine::{NewAudit, Offline};

/// Who ran the command: `local`, as for other commands run on the data
/// directory, with the operating-system account in the details.
fn entry(action: &str, target: &str) -> NewAudit {
    let mut new = done_by("local", action, target, "command line");
    let account = std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .unwrap_or_else(|_| "unknown".into());
    new.details.insert("os_user".into(), Value::from(account));
    new
}

/// A successful `action` on `target` by `actor`, made `via` what.
fn done_by(actor: &str, action: &str, target: &str, via: &str) -> NewAudit {
    let mut details = Map::new();
    details.insert("via".into(), Value::from(via));
    NewAudit {
        actor: actor.into(),
        action: action.into(),
        targets: vec![target.to_string()],
        outcome: "ok".into(),
        details,
        ..NewAudit::default()
    }
}

/// Records that `action` was done to `target` (a key id or a user name).
pub fn record(local: &Offline, action: &str, target: &str) -> Result<()> {
    local
        .record_audit(vec![entry(action, target)])
        .with_context(|| format!("recording `{action}` of {target} in the audit log"))?;
    Ok(())
}

/// The entries for the admin a first start creates with its sign-in link:
/// the actor is `rapport`, as for the retention schedule's runs.
pub fn first_start(user: &str) -> Vec<NewAudit> {
    ["user.create", "user.sign_in_link"]
        .into_iter()
        .map(|action| done_by("rapport", action, user, "first start"))
        .collect()
}
