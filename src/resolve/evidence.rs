//! The evidence of one compared pair: what each feature contributed, in
//! bits (log2 of how much likelier the observed agreement or disagreement
//! is for records of one entity than for records of two), as Splink's
//! waterfall shows it. The sum decides; the parts explain.
//!
//! It only records and formats; it never decides a link.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

/// One feature's contribution. The names are nearly always the models'
/// constants: borrowed, not copied into every one of the million pairs a
/// large book links (a registration scheme's name is the owned exception).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Weight {
    pub feature: Cow<'static, str>,
    /// The comparison level (`exact`, `close`, `different`, …).
    pub level: Cow<'static, str>,
    pub bits: f64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    pub weights: Vec<Weight>,
    pub total: f64,
    /// A hard conflict (two different registration numbers, two different
    /// dates of birth): never linked, whatever else agrees.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub conflict: bool,
}

impl Evidence {
    pub fn add(
        &mut self,
        feature: impl Into<Cow<'static, str>>,
        level: impl Into<Cow<'static, str>>,
        bits: f64,
    ) {
        self.total += bits;
        self.weights.push(Weight {
            feature: feature.into(),
            level: level.into(),
            bits,
        });
    }

    /// Adds one feature's agreement (`Some(true)`), disagreement
    /// (`Some(false)`) or nothing when either side lacks it (`None`).
    pub fn agreement(
        &mut self,
        feature: &'static str,
        agrees: Option<bool>,
        agree: (&'static str, f64),
        disagree: (&'static str, f64),
    ) {
        match agrees {
            Some(true) => self.add(feature, agree.0, agree.1),
            Some(false) => self.add(feature, disagree.0, disagree.1),
            None => {}
        }
    }

    /// `name exact +6.0, email domain shared +9.0 = 15.0`.
    pub fn describe(&self) -> String {
        let parts: Vec<String> = self
            .weights
            .iter()
            .map(|w| format!("{} {} {:+.1}", w.feature, w.level, w.bits))
            .collect();
        let conflict = if self.conflict { " (conflict)" } else { "" };
        format!("{} = {:.1}{conflict}", parts.join(", "), self.total)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights_add_up_and_read_as_a_waterfall() {
        let mut e = Evidence::default();
        e.add("name", "exact", 6.0);
        e.add("phone", "different", -3.0);
        assert_eq!(e.total, 3.0);
        assert_eq!(e.describe(), "name exact +6.0, phone different -3.0 = 3.0");
    }
}
