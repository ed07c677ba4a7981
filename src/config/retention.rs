//! `[retention]` in rapport.toml: the policy for inactive customers and how
//! often the retention job runs while serving. Per-source limits are
//! `retain_days` on each `[[sources]]` entry.
//!
//! It must never purge anything itself: the engine's retention job does,
//! after `rapport retention plan` has shown what it would take.

use std::time::Duration;

use serde::Deserialize;

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct RetentionConfig {
    /// Purge a customer (all its records and its people's) once nothing
    /// about it is dated within this many days: no interaction, or, for a
    /// customer without interactions, no record updated.
    pub inactive_days: Option<u64>,
    /// Run the retention job on this schedule while serving (`1d`, `12h`);
    /// unset: only when asked (`rapport retention run`, the API).
    pub every: Option<String>,
}

impl RetentionConfig {
    /// The schedule, checked (`None`: not scheduled).
    pub fn interval(&self) -> Result<Option<Duration>, super::InvalidSetting> {
        match &self.every {
            None => Ok(None),
            Some(text) => crate::units::parse_duration(text)
                .map(Some)
                .map_err(super::InvalidSetting::RetentionEvery),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_schedule_is_checked() {
        let every = |t: &str| RetentionConfig {
            every: Some(t.into()),
            ..Default::default()
        };
        assert_eq!(
            every("1d").interval(),
            Ok(Some(Duration::from_secs(86_400)))
        );
        assert!(
            every("often")
                .interval()
                .unwrap_err()
                .to_string()
                .contains("retention.every")
        );
        assert_eq!(RetentionConfig::default().interval(), Ok(None));
    }
}
