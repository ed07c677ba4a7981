//! Settings written as text with a unit: durations such as `30s` or `1d`.
//!
//! It must never read configuration itself: callers pass the text and name
//! the setting in their own errors.

use std::time::Duration;

/// A duration setting that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DurationError {
    #[error("`{0}` is not a duration such as 30s, 15m, 1h or 1d")]
    NotADuration(String),
    #[error("`{0}`: the interval must be above zero")]
    Zero(String),
}

/// `500ms`, `30s`, `15m`, `1h`, `1d`.
pub fn parse_duration(text: &str) -> Result<Duration, DurationError> {
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let not_a_duration = || DurationError::NotADuration(text.to_string());
    let n: u64 = number.parse().map_err(|_| not_a_duration())?;
    let per_unit = match unit.trim() {
        "ms" => 1,
        "s" => 1000,
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        _ => return Err(not_a_duration()),
    };
    let ms = n.checked_mul(per_unit).ok_or_else(not_a_duration)?;
    if ms == 0 {
        return Err(DurationError::Zero(text.to_string()));
    }
    Ok(Duration::from_millis(ms))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_with_their_unit_and_refuse_zero_and_overflow() {
        assert_eq!(parse_duration("1500ms"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_duration(" 2h "), Ok(Duration::from_secs(7200)));
        assert_eq!(parse_duration("90d"), Ok(Duration::from_secs(90 * 86_400)));
        assert!(matches!(parse_duration("0s"), Err(DurationError::Zero(_))));
        assert!(matches!(
            parse_duration("5w"),
            Err(DurationError::NotADuration(_))
        ));
        assert!(matches!(
            parse_duration("99999999999999999d"),
            Err(DurationError::NotADuration(_))
        ));
    }
}
