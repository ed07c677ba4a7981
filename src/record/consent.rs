//! Consent statements: what a source says a person agreed to or refused, per
//! channel, with the date it was said. A record carries the statements its
//! source made; a golden record keeps the latest explicit statement per
//! channel; exports declared for a purpose leave out who opted out of it.
//!
//! It must never invent consent: a statement exists only where a source made
//! one, and the absence of an opt-out is never read as an opt-in.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// What a statement is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Channel {
    Email,
    Phone,
    Fax,
    Marketing,
    Profiling,
}

impl Channel {
    pub const ALL: [Channel; 5] = [
        Channel::Email,
        Channel::Phone,
        Channel::Fax,
        Channel::Marketing,
        Channel::Profiling,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Email => "email",
            Channel::Phone => "phone",
            Channel::Fax => "fax",
            Channel::Marketing => "marketing",
            Channel::Profiling => "profiling",
        }
    }

    pub fn parse(text: &str) -> Option<Channel> {
        Channel::ALL
            .into_iter()
            .find(|c| c.as_str().eq_ignore_ascii_case(text.trim()))
    }
}

/// What the source said.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// An explicit yes (an opt-in column set).
    OptedIn,
    /// An explicit no (an opt-out column set, "do not call").
    OptedOut,
    /// An opt-out column explicitly cleared: no objection, but no consent
    /// either. It still replaces an older opt-out (the person came back).
    NoObjection,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::OptedIn => "opted_in",
            Status::OptedOut => "opted_out",
            Status::NoObjection => "no_objection",
        }
    }
}

/// One statement as a record holds it. Its provenance is the record's own
/// (source, file, line); `date` is when the statement was made, where the
/// source says so (else the record's last update counts).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Consent {
    pub channel: Channel,
    pub status: Status,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date: Option<DateTime<Utc>>,
}

/// The statement that holds for one channel of a customer, with where it
/// came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsentField {
    pub status: Status,
    pub source: String,
    pub external_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date: Option<DateTime<Utc>>,
}

/// One statement of a record, with what it needs to compete with others.
pub struct Stated<'a> {
    pub consent: &'a Consent,
    pub source: &'a str,
    pub external_id: &'a str,
    /// The record's last update (or creation), used when the statement has
    /// no date of its own.
    pub record_date: Option<DateTime<Utc>>,
}

/// The latest statement per channel. Dated statements beat undated ones; on
/// equal dates an opt-out wins (the safer reading), then the record id
/// decides, so the answer never depends on input order.
pub fn latest<'a>(
    statements: impl IntoIterator<Item = Stated<'a>>,
) -> BTreeMap<Channel, ConsentField> {
    let mut best: BTreeMap<Channel, ConsentField> = BTreeMap::new();
    for s in statements {
        let candidate = ConsentField {
            status: s.consent.status,
            source: s.source.to_string(),
            external_id: s.external_id.to_string(),
            date: s.consent.date.or(s.record_date),
        };
        let key = |f: &ConsentField| {
            (
                f.date,
                f.status == Status::OptedOut,
                std::cmp::Reverse((f.source.clone(), f.external_id.clone())),
            )
        };
        match best.get(&s.consent.channel) {
            Some(current) if key(current) >= key(&candidate) => {}
            _ => {
                best.insert(s.consent.channel, candidate);
            }
        }
    }
    best
}

/// The index terms of a customer's consent: `channel:status`.
pub fn terms(consent: &BTreeMap<Channel, ConsentField>) -> Vec<String> {
    consent
        .iter()
        .map(|(channel, f)| format!("{}:{}", channel.as_str(), f.status.as_str()))
        .collect()
}

/// The channels whose opt-out a purpose honours: `marketing` leaves out
/// whoever refused marketing or e-mail; `email`, `phone`, `fax` and
/// `profiling` their own channel. `None` for an unknown purpose.
pub fn channels_of_purpose(purpose: &str) -> Option<&'static [Channel]> {
    match purpose.trim().to_ascii_lowercase().as_str() {
        "marketing" => Some(&[Channel::Marketing, Channel::Email]),
        "email" => Some(&[Channel::Email]),
        "phone" | "telemarketing" => Some(&[Channel::Phone]),
        "fax" => Some(&[Channel::Fax]),
        "profiling" => Some(&[Channel::Profiling]),
        _ => None,
    }
}

/// The purposes `channels_of_purpose` knows.
pub const PURPOSES: &[&str] = &[
    "marketing",
    "email",
    "phone",
    "telemarketing",
    "fax",
    "profiling",
];

/// True when index terms (`channel:status`) say the customer opted out of
/// any of `channels`.
pub fn opted_out(terms: &[String], channels: &[Channel]) -> bool {
    channels.iter().any(|c| {
        let term = format!("{}:{}", c.as_str(), Status::OptedOut.as_str());
        terms.contains(&term)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(day: u32) -> Option<DateTime<Utc>> {
        chrono::NaiveDate::from_ymd_opt(2024, 1, day)
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .map(|d| d.and_utc())
    }

    #[test]
    fn the_latest_explicit_statement_wins_per_channel() {
        let out = Consent {
            channel: Channel::Email,
            status: Status::OptedOut,
            date: at(1),
        };
        let back = Consent {
            channel: Channel::Email,
            status: Status::NoObjection,
            date: at(5),
        };
        let phone = Consent {
            channel: Channel::Phone,
            status: Status::OptedOut,
            date: None,
        };
        let stated = |c, id| Stated {
            consent: c,
            source: "crm",
            external_id: id,
            record_date: at(3),
        };
        let latest = latest([stated(&back, "2"), stated(&out, "1"), stated(&phone, "1")]);
        assert_eq!(latest[&Channel::Email].status, Status::NoObjection);
        assert_eq!(latest[&Channel::Email].external_id, "2");
        assert_eq!(
            latest[&Channel::Phone].date,
            at(3),
            "undated: the record's date"
        );
        assert_eq!(
            terms(&latest),
            vec!["email:no_objection", "phone:opted_out"]
        );
        assert!(opted_out(&terms(&latest), &[Channel::Phone]));
        assert!(!opted_out(
            &terms(&latest),
            channels_of_purpose("marketing").unwrap_or(&[])
        ));
    }

    #[test]
    fn an_opt_out_wins_a_tie() {
        let yes = Consent {
            channel: Channel::Marketing,
            status: Status::OptedIn,
            date: at(2),
        };
        let no = Consent {
            channel: Channel::Marketing,
            status: Status::OptedOut,
            date: at(2),
        };
        for order in [[&yes, &no], [&no, &yes]] {
            let latest = latest(order.map(|c| Stated {
                consent: c,
                source: "a",
                external_id: "1",
                record_date: None,
            }));
            assert_eq!(latest[&Channel::Marketing].status, Status::OptedOut);
        }
    }
}
