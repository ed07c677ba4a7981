//! Ranges typed inside `q`: `amount:>1000`, `amount:>=1000`, `amount:<5`,
//! `amount:<=5`, `amount:[100 TO 500]` (inclusive), `amount:{100 TO 500}`
//! (exclusive), `created:[2024-01-01 TO *]`, turned into the same
//! [`Filter::Range`] the `filter.FIELD=` parameter produces, so both mean the
//! same thing (a bare end date includes that whole day).
//!
//! It must never look at the index or guess: a range it cannot read is an
//! error message for a warning, never a different query.

use super::request::Filter;

/// What is wrong with a typed range; the message follows the range's text
/// in a warning ("the range `amount:>` has no value…").
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RangeSyntaxError {
    #[error("has no value after the comparison")]
    NoValue,
    #[error("is not a range")]
    NotARange,
    #[error("is missing its closing `]` or `}}`")]
    Unclosed,
    #[error("needs the form [LOW TO HIGH] (`*` for no bound)")]
    NoBounds,
}

/// Whether a field's value as typed is meant as a range.
pub fn looks_like_range(value: &str) -> bool {
    value.starts_with(['>', '<', '[', '{'])
}

/// Reads the range typed after `field:`; the error says what was wrong.
pub fn parse_range(value: &str) -> Result<Filter, RangeSyntaxError> {
    let value = value.trim();
    let none = || Filter::Range {
        gte: None,
        gt: None,
        lte: None,
        lt: None,
    };
    let bound = |rest: &str| -> Result<String, RangeSyntaxError> {
        let rest = rest.trim();
        if rest.is_empty() {
            Err(RangeSyntaxError::NoValue)
        } else {
            Ok(rest.to_string())
        }
    };
    let mut range = none();
    let Filter::Range { gte, gt, lte, lt } = &mut range else {
        return Err(RangeSyntaxError::NotARange);
    };
    if let Some(rest) = value.strip_prefix(">=") {
        *gte = Some(bound(rest)?);
    } else if let Some(rest) = value.strip_prefix("<=") {
        *lte = Some(bound(rest)?);
    } else if let Some(rest) = value.strip_prefix('>') {
        *gt = Some(bound(rest)?);
    } else if let Some(rest) = value.strip_prefix('<') {
        *lt = Some(bound(rest)?);
    } else if let Some(open) = value.chars().next().filter(|c| *c == '[' || *c == '{') {
        let inclusive_low = open == '[';
        let inner = &value[1..];
        let (inner, inclusive_high) = if let Some(inner) = inner.strip_suffix(']') {
            (inner, true)
        } else if let Some(inner) = inner.strip_suffix('}') {
            (inner, false)
        } else {
            return Err(RangeSyntaxError::Unclosed);
        };
        let Some((low, high)) = inner.split_once(" TO ") else {
            return Err(RangeSyntaxError::NoBounds);
        };
        let (low, high) = (low.trim(), high.trim());
        if low.is_empty() || high.is_empty() {
            return Err(RangeSyntaxError::NoBounds);
        }
        if low != "*" {
            if inclusive_low {
                *gte = Some(low.to_string());
            } else {
                *gt = Some(low.to_string());
            }
        }
        if high != "*" {
            if inclusive_high {
                *lte = Some(high.to_string());
            } else {
                *lt = Some(high.to_string());
            }
        }
    } else {
        return Err(RangeSyntaxError::NotARange);
    }
    Ok(range)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn range(gte: Option<&str>, gt: Option<&str>, lte: Option<&str>, lt: Option<&str>) -> Filter {
        Filter::Range {
            gte: gte.map(str::to_string),
            gt: gt.map(str::to_string),
            lte: lte.map(str::to_string),
            lt: lt.map(str::to_string),
        }
    }

    #[test]
    fn comparisons_and_brackets() {
        assert_eq!(
            parse_range(">1000").unwrap(),
            range(None, Some("1000"), None, None)
        );
        assert_eq!(
            parse_range(">=2024-01-01").unwrap(),
            range(Some("2024-01-01"), None, None, None)
        );
        assert_eq!(
            parse_range("<=5").unwrap(),
            range(None, None, Some("5"), None)
        );
        assert_eq!(
            parse_range("<5").unwrap(),
            range(None, None, None, Some("5"))
        );
        assert_eq!(
            parse_range("[100 TO 500]").unwrap(),
            range(Some("100"), None, Some("500"), None)
        );
        assert_eq!(
            parse_range("{100 TO *]").unwrap(),
            range(None, Some("100"), None, None)
        );
    }

    #[test]
    fn malformed_ranges_say_why() {
        for bad in [">", "[100 500]", "[100 TO 500", "[ TO 5]", "abc"] {
            assert!(parse_range(bad).is_err(), "{bad}");
        }
    }
}
