//! The checks a data steward expects on a whole record, beyond what parsing
//! one value finds: a case or opportunity closed before it was created,
//! values out of their range (a negative quantity, a probability or discount
//! above 100 %), dates in the future, and a given and family name stored the
//! wrong way round (the person's own address says which comes first).
//!
//! It must never change a value and never raise an alarm on a plausible one:
//! each check flags the record (field and reason) only on clear evidence.

use chrono::{DateTime, Utc};

use crate::record::{Record, RecordKind};

/// Attribute keys (as connectors name loose columns) that hold a closing date.
const CLOSED: &[&str] = &[
    "closed",
    "closed_at",
    "closedate",
    "close_date",
    "closeddate",
    "closed_date",
    "date_closed",
    "solved_at",
];
const QUANTITY: &[&str] = &["quantity", "qty", "units", "seats"];
const PERCENT: &[&str] = &[
    "probability",
    "discount",
    "discount_percent",
    "probability_percent",
];
/// Countries whose names are commonly written family name first.
const FAMILY_FIRST: &[&str] = &["JP", "CN", "KR", "TW", "HK", "HU", "VN"];

fn attr(record: &Record, keys: &[&'static str]) -> Option<(&'static str, String)> {
    keys.iter().find_map(|k| {
        let value = record.attrs.get(*k)?;
        let text = match value {
            serde_json::Value::String(s) => s.trim().to_string(),
            serde_json::Value::Number(n) => n.to_string(),
            _ => return None,
        };
        (!text.is_empty()).then_some((*k, text))
    })
}

fn number(text: &str) -> Option<f64> {
    text.trim()
        .trim_end_matches('%')
        .trim()
        .replace(',', ".")
        .parse::<f64>()
        .ok()
        .filter(|v| v.is_finite())
}

pub fn check_record(record: &mut Record, now: DateTime<Utc>) {
    closed_before_created(record);
    ranges(record);
    if record
        .updated
        .is_some_and(|u| u > now + chrono::Duration::days(1))
    {
        record.flag("updated", "date is in the future");
    }
    swapped_names(record);
}

fn closed_before_created(record: &mut Record) {
    if !matches!(
        record.kind,
        RecordKind::Case | RecordKind::Ticket | RecordKind::Opportunity | RecordKind::Task
    ) {
        return;
    }
    let (Some(created), Some((key, closed))) = (record.created, attr(record, CLOSED)) else {
        return;
    };
    let Ok(closed_at) = super::parse_date(&closed) else {
        return;
    };
    // A date without a time closes at the end of its day.
    let closed_at = if closed.len() <= 10 {
        closed_at + chrono::Duration::days(1)
    } else {
        closed_at
    };
    if closed_at < created {
        let key = key.to_string();
        record.flag(
            &key,
            format!(
                "closed ({closed}) before it was created ({})",
                created.date_naive()
            ),
        );
    }
}

fn ranges(record: &mut Record) {
    if let Some((key, text)) = attr(record, QUANTITY)
        && number(&text).is_some_and(|q| q < 0.0)
    {
        let key = key.to_string();
        record.flag(&key, format!("negative quantity {text}"));
    }
    for key in PERCENT {
        if let Some((key, text)) = attr(record, std::slice::from_ref(key))
            && number(&text).is_some_and(|p| !(0.0..=100.0).contains(&p))
        {
            let key = key.to_string();
            record.flag(
                &key,
                format!("{text} is not a percentage between 0 and 100"),
            );
        }
    }
}

/// "Smith Jon" with the address jon.smith@…: the name's two parts appear in
/// the address the other way round. Never for names written family name
/// first by custom, nor for names in Japanese script.
fn swapped_names(record: &mut Record) {
    if record.kind != RecordKind::Person
        || record
            .country
            .as_deref()
            .is_some_and(|c| FAMILY_FIRST.contains(&c))
    {
        return;
    }
    let Some(name) = record.names.first() else {
        return;
    };
    if name.contains(',')
        || !name
            .chars()
            .all(|c| c.is_alphabetic() || c == ' ' || c == '-' || c == '\'')
    {
        return;
    }
    let parts: Vec<String> = name.split_whitespace().map(str::to_lowercase).collect();
    let [first, second] = parts.as_slice() else {
        return;
    };
    // A family name in capitals says which part it is ("MATSUMOTO Daisuke").
    let capitals = |w: &str| w.chars().count() > 1 && !w.chars().any(char::is_lowercase);
    let written: Vec<&str> = name.split_whitespace().collect();
    if first == second || written.iter().any(|w| capitals(w)) {
        return;
    }
    let swapped = record.emails.iter().any(|e| {
        let local = e.split('@').next().unwrap_or("");
        let words: Vec<&str> = local.split(['.', '_', '-']).collect();
        words == [second.as_str(), first.as_str()]
    });
    if swapped {
        record.flag(
            "names",
            format!("given and family name look swapped: `{name}`, but the address says {second} {first}"),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(kind: RecordKind) -> Record {
        let mut r = Record::new("crm", "1", kind);
        r.names.push("x".into());
        r
    }

    fn fields(r: &Record) -> Vec<&str> {
        r.quality.iter().map(|q| q.field.as_str()).collect()
    }

    #[test]
    fn each_planted_problem_is_flagged_with_its_field() {
        let now = Utc::now();
        let mut case = record(RecordKind::Case);
        case.created = super::super::parse_date("2024-05-10").ok();
        case.attrs.insert("closeddate".into(), "2024-05-02".into());
        check_record(&mut case, now);
        assert_eq!(fields(&case), vec!["closeddate"]);

        let mut deal = record(RecordKind::Opportunity);
        deal.attrs.insert("quantity".into(), "-3".into());
        deal.attrs.insert("probability".into(), "120%".into());
        deal.attrs.insert("discount".into(), "150".into());
        deal.updated = Some(now + chrono::Duration::days(30));
        check_record(&mut deal, now);
        assert_eq!(
            fields(&deal),
            vec!["quantity", "probability", "discount", "updated"]
        );

        let mut person = record(RecordKind::Person);
        person.names = vec!["Smith Jon".into()];
        person.emails = vec!["jon.smith@acme.example".into()];
        check_record(&mut person, now);
        assert_eq!(fields(&person), vec!["names"]);
    }

    #[test]
    fn plausible_values_raise_no_alarm() {
        let now = Utc::now();
        let mut case = record(RecordKind::Case);
        case.created = super::super::parse_date("2024-05-10T15:00:00Z").ok();
        // Closed the same day, written without a time.
        case.attrs.insert("closeddate".into(), "2024-05-10".into());
        case.attrs.insert("probability".into(), "100".into());
        case.attrs.insert("discount".into(), "0.5".into());
        check_record(&mut case, now);
        let mut person = record(RecordKind::Person);
        person.names = vec!["Jon Smith".into()];
        person.emails = vec!["jon.smith@acme.example".into()];
        check_record(&mut person, now);
        let mut capitals = record(RecordKind::Person);
        capitals.names = vec!["MATSUMOTO Daisuke".into()];
        capitals.emails = vec!["daisuke.matsumoto@example.jp".into()];
        check_record(&mut capitals, now);
        assert!(capitals.quality.is_empty(), "{:?}", capitals.quality);
        let mut japanese = record(RecordKind::Person);
        japanese.names = vec!["Tanaka Keiko".into()];
        japanese.emails = vec!["keiko.tanaka@kansai.example".into()];
        japanese.country = Some("JP".into());
        check_record(&mut japanese, now);
        for r in [&case, &person, &japanese] {
            assert!(r.quality.is_empty(), "{:?}", r.quality);
        }
    }
}
