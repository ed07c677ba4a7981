//! Consent columns in manifests: `[fields]` targets named `CHANNEL_opt_out`
//! or `CHANNEL_opt_in` (channels: email, phone, fax, marketing, profiling)
//! whose cells say yes or no, and `consent_date` for when the statement was
//! made. Each set cell becomes a typed [`Consent`] on the record.
//!
//! It must never read a blank or unreadable cell as a statement: those are
//! kept as raw text and flagged, like any value that does not normalise.

use serde_json::Value;

use crate::normalize;
use crate::record::Record;
use crate::record::consent::{Channel, Consent, Status};

/// The date target; the statements' own targets are built from channels.
pub const DATE_TARGET: &str = "consent_date";

/// True for `email_opt_out`, `marketing_opt_in`, ... and `consent_date`.
pub fn is_target(target: &str) -> bool {
    target == DATE_TARGET || statement_target(target).is_some()
}

/// Every consent target, for the manifest's error message.
pub fn targets() -> Vec<String> {
    let mut out: Vec<String> = Channel::ALL
        .iter()
        .flat_map(|c| {
            [
                format!("{}_opt_out", c.as_str()),
                format!("{}_opt_in", c.as_str()),
            ]
        })
        .collect();
    out.push(DATE_TARGET.into());
    out
}

fn statement_target(target: &str) -> Option<(Channel, bool)> {
    if let Some(channel) = target.strip_suffix("_opt_out") {
        return Channel::parse(channel).map(|c| (c, true));
    }
    target
        .strip_suffix("_opt_in")
        .and_then(Channel::parse)
        .map(|c| (c, false))
}

/// Reads a yes/no cell: true, yes, y, 1, x, on, opted out, unsubscribed, ✓
/// (and Japanese はい, 済) are yes; false, no, n, 0, off, いいえ are no.
fn yes_no(value: &str) -> Option<bool> {
    let v = value.trim().to_lowercase();
    match v.as_str() {
        "true" | "yes" | "y" | "1" | "x" | "on" | "✓" | "✔" | "はい" | "済" | "checked"
        | "opted out" | "opted in" | "unsubscribed" | "subscribed" => Some(true),
        "false" | "no" | "n" | "0" | "off" | "いいえ" | "unchecked" => Some(false),
        _ => None,
    }
}

/// Applies one consent cell to the record.
pub fn apply(record: &mut Record, target: &str, value: &str) {
    if target == DATE_TARGET {
        match normalize::parse_date_zoned(value) {
            Ok((date, _)) => {
                for c in record.consent.iter_mut().filter(|c| c.date.is_none()) {
                    c.date = Some(date);
                }
                record
                    .attrs
                    .insert(DATE_TARGET.into(), Value::String(value.trim().into()));
            }
            Err(reason) => {
                record.flag(DATE_TARGET, reason);
                record.attrs.insert(
                    format!("raw_{DATE_TARGET}"),
                    Value::String(value.to_string()),
                );
            }
        }
        return;
    }
    let Some((channel, is_opt_out)) = statement_target(target) else {
        return;
    };
    let Some(set) = yes_no(value) else {
        record.flag(target, format!("`{value}` is neither yes nor no"));
        record
            .attrs
            .insert(format!("raw_{target}"), Value::String(value.to_string()));
        return;
    };
    let status = match (is_opt_out, set) {
        (true, true) | (false, false) => Status::OptedOut,
        (true, false) => Status::NoObjection,
        (false, true) => Status::OptedIn,
    };
    let date = record
        .attrs
        .get(DATE_TARGET)
        .and_then(Value::as_str)
        .and_then(|d| normalize::parse_date_zoned(d).ok())
        .map(|(d, _)| d);
    // Two columns about one channel (HubSpot's several unsubscribe
    // columns): a refusal in any of them stands.
    if let Some(existing) = record.consent.iter_mut().find(|c| c.channel == channel) {
        if status == Status::OptedOut {
            existing.status = Status::OptedOut;
        }
        return;
    }
    record.consent.push(Consent {
        channel,
        status,
        date,
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::RecordKind;

    #[test]
    fn cells_become_statements() {
        let mut r = Record::new("crm", "1", RecordKind::Person);
        apply(&mut r, "consent_date", "2024-03-01");
        apply(&mut r, "email_opt_out", "true");
        apply(&mut r, "phone_opt_out", "false");
        apply(&mut r, "marketing_opt_in", "no");
        apply(&mut r, "profiling_opt_in", "maybe");
        let status = |ch| r.consent.iter().find(|c| c.channel == ch).map(|c| c.status);
        assert_eq!(status(Channel::Email), Some(Status::OptedOut));
        assert_eq!(status(Channel::Phone), Some(Status::NoObjection));
        assert_eq!(status(Channel::Marketing), Some(Status::OptedOut));
        assert_eq!(status(Channel::Profiling), None);
        assert!(r.quality.iter().any(|q| q.field == "profiling_opt_in"));
        assert!(r.consent.iter().all(|c| c.date.is_some()));
        assert!(is_target("fax_opt_out") && !is_target("shoe_opt_out"));
    }
}
