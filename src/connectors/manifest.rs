//! Connector manifests: the TOML files in connectors/ that say which format a
//! kind of source has, which files to read, and which columns feed which
//! record field. Adding an export format should mean writing one of these.
//!
//! It must never read source data; it only describes how to.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::record::RecordKind;

/// Manifests shipped inside the binary, so `rapport` works from any folder.
const BUILTIN: &[(&str, &str)] = &[
    (
        "generic-csv",
        include_str!("../../connectors/generic-csv.toml"),
    ),
    ("notes", include_str!("../../connectors/notes.toml")),
];

/// Record fields a manifest may map columns to.
pub const TARGETS: &[&str] = &[
    "external_id",
    "kind",
    "customer_ref",
    "title",
    "body",
    "names",
    "emails",
    "phones",
    "company",
    "country",
    "stage",
    "owner",
    "tags",
    "amount",
    "currency",
    "created",
    "updated",
];

#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    #[error(
        "unknown connector `{0}`: not a built-in manifest (generic-csv, notes), not in the connectors folder, and not a path to a .toml file"
    )]
    Unknown(String),
    #[error("cannot read connector manifest {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("connector manifest {origin} is invalid: {message}")]
    Invalid { origin: String, message: String },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Csv,
    Notes,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CsvOptions {
    /// "auto", ",", ";", "\t" or "|".
    pub delimiter: String,
    pub list_separator: String,
}

impl Default for CsvOptions {
    fn default() -> Self {
        CsvOptions {
            delimiter: "auto".into(),
            list_separator: ";".into(),
        }
    }
}

/// One column name or a list of candidates (the first present wins).
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum Columns {
    One(String),
    Many(Vec<String>),
}

impl Columns {
    pub fn candidates(&self) -> &[String] {
        match self {
            Columns::One(c) => std::slice::from_ref(c),
            Columns::Many(cs) => cs,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub name: String,
    #[serde(default)]
    pub description: String,
    pub format: Format,
    pub extensions: Vec<String>,
    pub kind: RecordKind,
    #[serde(default)]
    pub csv: CsvOptions,
    #[serde(default)]
    pub fields: BTreeMap<String, Columns>,
}

impl Manifest {
    pub fn parse(text: &str, origin: &str) -> Result<Manifest, ManifestError> {
        let invalid = |message: String| ManifestError::Invalid {
            origin: origin.to_string(),
            message,
        };
        let manifest: Manifest = toml::from_str(text).map_err(|e| invalid(e.to_string()))?;
        for target in manifest.fields.keys() {
            if !TARGETS.contains(&target.as_str()) {
                return Err(invalid(format!(
                    "[fields] maps `{target}`, which is not a record field (known: {})",
                    TARGETS.join(", ")
                )));
            }
        }
        if !["auto", ",", ";", "\t", "|"].contains(&manifest.csv.delimiter.as_str()) {
            return Err(invalid(format!(
                "csv.delimiter `{}` must be one of auto , ; | or a tab",
                manifest.csv.delimiter
            )));
        }
        Ok(manifest)
    }

    /// Finds a manifest by built-in name, by name in `connectors_dir`, or as a
    /// path to a .toml file (relative paths against `base_dir`).
    pub fn resolve(
        reference: &str,
        connectors_dir: Option<&Path>,
        base_dir: &Path,
    ) -> Result<Manifest, ManifestError> {
        let as_path = |p: PathBuf| -> Result<Manifest, ManifestError> {
            let text = std::fs::read_to_string(&p).map_err(|source| ManifestError::Read {
                path: p.display().to_string(),
                source,
            })?;
            Manifest::parse(&text, &p.display().to_string())
        };
        if reference.ends_with(".toml") {
            let path = Path::new(reference);
            return as_path(if path.is_absolute() {
                path.to_path_buf()
            } else {
                base_dir.join(path)
            });
        }
        if let Some(dir) = connectors_dir {
            let candidate = dir.join(format!("{reference}.toml"));
            if candidate.is_file() {
                return as_path(candidate);
            }
        }
        match BUILTIN.iter().find(|(name, _)| *name == reference) {
            Some((name, text)) => Manifest::parse(text, &format!("<built-in {name}>")),
            None => Err(ManifestError::Unknown(reference.to_string())),
        }
    }

    pub fn accepts(&self, path: &Path) -> bool {
        path.extension()
            .and_then(|e| e.to_str())
            .is_some_and(|ext| self.extensions.iter().any(|x| x.eq_ignore_ascii_case(ext)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_manifests_parse() {
        for (name, _) in BUILTIN {
            let m = Manifest::resolve(name, None, Path::new(".")).unwrap();
            assert_eq!(&m.name, name);
        }
    }

    #[test]
    fn unknown_target_field_is_named() {
        let text =
            "name='x'\nformat='csv'\nextensions=['csv']\nkind='person'\n[fields]\nmood='m'\n";
        let err = Manifest::parse(text, "x.toml").unwrap_err().to_string();
        assert!(err.contains("x.toml") && err.contains("`mood`"), "{err}");
    }

    #[test]
    fn unknown_connector_is_an_error() {
        let err = Manifest::resolve("salesfarce", None, Path::new(".")).unwrap_err();
        assert!(err.to_string().contains("salesfarce"));
    }
}
