//! Purpose and lawful basis on customer pages: each golden field and each
//! consent channel names the source its value came from, with the purpose
//! and lawful basis that source declares in rapport.toml.
//!
//! It must never guess a purpose: a source that declares none shows `null`,
//! and values a steward set read `rectification`.

use serde_json::{Value, json};

use super::Rapport;
use crate::customers::CustomerView;
use crate::record::NOTES_SOURCE;

impl Rapport {
    /// Fills `view.purposes` from the configuration.
    pub(super) fn add_purposes(&self, view: &mut CustomerView) {
        let describe = |source: &str| -> Value {
            if source == "steward" {
                return json!({"source": source, "purpose": "rectification", "lawful_basis": "legal_obligation"});
            }
            if source == NOTES_SOURCE {
                return json!({"source": source, "purpose": "written in Rapport", "lawful_basis": null});
            }
            let declared = self.config.sources.iter().find(|s| s.name == source);
            json!({
                "source": source,
                "purpose": declared.and_then(|s| s.purpose.clone()),
                "lawful_basis": declared.and_then(|s| s.lawful_basis.clone()),
            })
        };
        for (field, golden) in &view.golden.fields {
            if !golden.source.is_empty() {
                view.purposes
                    .insert(field.clone(), describe(&golden.source));
            }
        }
        for (channel, consent) in &view.golden.consent {
            view.purposes.insert(
                format!("consent.{}", channel.as_str()),
                describe(&consent.source),
            );
        }
    }
}
