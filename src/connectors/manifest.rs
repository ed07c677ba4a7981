//! Connector manifests: the TOML files in connectors/ that say which format a
//! kind of source has, which files to read, and which columns (or JSON keys)
//! feed which record field and which references become links. Adding an
//! export format should mean writing one of these, not Rust.
//!
//! A manifest maps one kind of file with its top-level `kind`, `[fields]` and
//! `[links]`, or several with `[[files]]` tables, each matching file names
//! (`match = "Account.csv"`, `*` allowed) with its own kind, fields and links.
//!
//! It must never read source data; it only describes how to.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::ids::IdOptions;
use crate::record::RecordKind;

/// Manifests shipped inside the binary, so `rapport` works from any folder.
pub const BUILTIN: &[(&str, &str)] = &[
    (
        "generic-csv",
        include_str!("../../connectors/generic-csv.toml"),
    ),
    (
        "generic-json",
        include_str!("../../connectors/generic-json.toml"),
    ),
    ("notes", include_str!("../../connectors/notes.toml")),
    (
        "salesforce-export",
        include_str!("../../connectors/salesforce-export.toml"),
    ),
    (
        "hubspot-export",
        include_str!("../../connectors/hubspot-export.toml"),
    ),
    (
        "zendesk-export",
        include_str!("../../connectors/zendesk-export.toml"),
    ),
    ("mbox", include_str!("../../connectors/mbox.toml")),
    ("eml", include_str!("../../connectors/eml.toml")),
    ("vcard", include_str!("../../connectors/vcard.toml")),
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
    "birth_date",
    "street",
    "city",
    "region",
    "postcode",
    "websites",
    "national_id",
    "jp_corp",
    "vat",
    "duns",
    "company_number",
];

/// Link relations a manifest may declare (see [`crate::record::Link`]).
pub const RELATIONS: &[&str] = &[
    "account",
    "organization",
    "contact",
    "requester",
    "who",
    "what",
    "parent",
    "from",
    "to",
    "cc",
    "thread",
];

#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    #[error(
        "unknown connector `{0}`: not a built-in manifest ({builtin}), not in the connectors folder, and not a path to a .toml file",
        builtin = builtin_names()
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

fn builtin_names() -> String {
    BUILTIN
        .iter()
        .map(|(n, _)| *n)
        .collect::<Vec<_>>()
        .join(", ")
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Csv,
    Json,
    Notes,
    Mbox,
    Eml,
    Vcard,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CsvOptions {
    /// "auto", ",", ";", "\t" or "|".
    pub delimiter: String,
    pub list_separator: String,
    /// "auto" (UTF-8, or Shift_JIS/CP932 when the start of the file is not
    /// UTF-8 but is valid Shift_JIS), or any WHATWG label: "utf-8",
    /// "shift_jis", "windows-31j", "euc-jp", "windows-1252", ...
    pub encoding: String,
}

impl Default for CsvOptions {
    fn default() -> Self {
        CsvOptions {
            delimiter: "auto".into(),
            list_separator: ";".into(),
            encoding: "auto".into(),
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

/// How the records of one kind of file are built: their kind, which columns
/// (CSV) or key paths (JSON, `a.b`, arrays flattened) feed which field, and
/// which become links.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mapping {
    /// File names this mapping applies to (`[[files]]` only); `*` matches
    /// any run of characters; case-insensitive.
    #[serde(default, rename = "match")]
    pub patterns: Vec<String>,
    #[serde(default)]
    pub kind: Option<RecordKind>,
    #[serde(default)]
    pub fields: BTreeMap<String, Columns>,
    #[serde(default)]
    pub links: BTreeMap<String, Columns>,
    /// Records of these files are the company's own staff (`staff = true`
    /// in `[[files]]`: Salesforce users, HubSpot owners): never customers,
    /// and what names them as owner shows their name.
    #[serde(default)]
    pub staff: bool,
    /// Whether `[ids] scope` applies to these files (`scope_ids = false`
    /// for ids that are the same in every portal, such as HubSpot owners).
    #[serde(default = "yes")]
    pub scope_ids: bool,
}

fn yes() -> bool {
    true
}

impl Mapping {
    pub fn kind(&self) -> RecordKind {
        self.kind.unwrap_or(RecordKind::Person)
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct ManifestFile {
    name: String,
    #[serde(default)]
    description: String,
    format: Format,
    extensions: Vec<String>,
    #[serde(default)]
    kind: Option<RecordKind>,
    #[serde(default)]
    csv: CsvOptions,
    #[serde(default)]
    ids: IdOptions,
    #[serde(default)]
    fields: BTreeMap<String, Columns>,
    #[serde(default)]
    links: BTreeMap<String, Columns>,
    #[serde(default)]
    files: Vec<MappingFile>,
}

/// `[[files]]`: `match` may be one pattern or a list.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct MappingFile {
    #[serde(rename = "match")]
    patterns: Columns,
    kind: RecordKind,
    #[serde(default)]
    fields: BTreeMap<String, Columns>,
    #[serde(default)]
    links: BTreeMap<String, Columns>,
    #[serde(default)]
    staff: bool,
    #[serde(default = "yes")]
    scope_ids: bool,
}

#[derive(Debug, Clone)]
pub struct Manifest {
    pub name: String,
    pub description: String,
    pub format: Format,
    pub extensions: Vec<String>,
    pub csv: CsvOptions,
    /// How ids are written (`[ids]`: Salesforce's 18-character form, scope).
    pub ids: IdOptions,
    /// The mapping for every file when `files` is empty.
    pub default: Mapping,
    /// Per-file mappings; when present, only matching files are read.
    pub files: Vec<Mapping>,
}

impl Manifest {
    pub fn parse(text: &str, origin: &str) -> Result<Manifest, ManifestError> {
        let invalid = |message: String| ManifestError::Invalid {
            origin: origin.to_string(),
            message,
        };
        let raw: ManifestFile = toml::from_str(text).map_err(|e| invalid(e.to_string()))?;
        let default = Mapping {
            patterns: Vec::new(),
            kind: raw.kind,
            fields: raw.fields,
            links: raw.links,
            staff: false,
            scope_ids: true,
        };
        let files: Vec<Mapping> = raw
            .files
            .into_iter()
            .map(|f| Mapping {
                patterns: f.patterns.candidates().to_vec(),
                kind: Some(f.kind),
                fields: f.fields,
                links: f.links,
                staff: f.staff,
                scope_ids: f.scope_ids,
            })
            .collect();
        if files.is_empty() && default.kind.is_none() {
            return Err(invalid(
                "give a top-level `kind`, or `[[files]]` tables each with `match` and `kind`"
                    .into(),
            ));
        }
        for (where_, mapping) in std::iter::once(("[fields]".to_string(), &default)).chain(
            files
                .iter()
                .map(|m| (format!("[[files]] {}", m.patterns.join(", ")), m)),
        ) {
            for target in mapping.fields.keys() {
                if !TARGETS.contains(&target.as_str()) && !super::consent::is_target(target) {
                    return Err(invalid(format!(
                        "{where_} maps `{target}`, which is not a record field (known: {}, {})",
                        TARGETS.join(", "),
                        super::consent::targets().join(", ")
                    )));
                }
            }
            for rel in mapping.links.keys() {
                if !RELATIONS.contains(&rel.as_str()) {
                    return Err(invalid(format!(
                        "{where_} links `{rel}`, which is not a link relation (known: {})",
                        RELATIONS.join(", ")
                    )));
                }
            }
        }
        if !["auto", ",", ";", "\t", "|"].contains(&raw.csv.delimiter.as_str()) {
            return Err(invalid(format!(
                "csv.delimiter `{}` must be one of auto , ; | or a tab",
                raw.csv.delimiter
            )));
        }
        if raw.csv.encoding != "auto"
            && encoding_rs::Encoding::for_label(raw.csv.encoding.as_bytes()).is_none()
        {
            return Err(invalid(format!(
                "csv.encoding `{}` is not a known encoding (try auto, utf-8, shift_jis, windows-31j)",
                raw.csv.encoding
            )));
        }
        Ok(Manifest {
            name: raw.name,
            description: raw.description,
            format: raw.format,
            extensions: raw.extensions,
            csv: raw.csv,
            ids: raw.ids,
            default,
            files,
        })
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

    /// The mapping for a file, by its name; `None` when the manifest does not
    /// read it.
    pub fn mapping_for(&self, path: &Path) -> Option<&Mapping> {
        let ext_ok = path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|ext| self.extensions.iter().any(|x| x.eq_ignore_ascii_case(ext)));
        if !ext_ok {
            return None;
        }
        if self.files.is_empty() {
            return Some(&self.default);
        }
        let name = path.file_name()?.to_string_lossy().to_lowercase();
        self.files.iter().find(|m| {
            m.patterns
                .iter()
                .any(|p| glob_match(&p.to_lowercase(), &name))
        })
    }

    pub fn accepts(&self, path: &Path) -> bool {
        self.mapping_for(path).is_some()
    }
}

/// `*` matches any run of characters; everything else literally.
fn glob_match(pattern: &str, name: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == name;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !name.starts_with(first) || !name[first.len()..].ends_with(last) {
        return false;
    }
    let mut rest = &name[first.len()..name.len() - last.len()];
    for middle in &parts[1..parts.len() - 1] {
        match rest.find(middle) {
            Some(i) => rest = &rest[i + middle.len()..],
            None => return false,
        }
    }
    true
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
    fn unknown_target_field_and_relation_are_named() {
        let text =
            "name='x'\nformat='csv'\nextensions=['csv']\nkind='person'\n[fields]\nmood='m'\n";
        let err = Manifest::parse(text, "x.toml").unwrap_err().to_string();
        assert!(err.contains("x.toml") && err.contains("`mood`"), "{err}");
        let text = "name='x'\nformat='csv'\nextensions=['csv']\n[[files]]\nmatch='A.csv'\nkind='person'\n[files.links]\nfriend='F'\n";
        let err = Manifest::parse(text, "x.toml").unwrap_err().to_string();
        assert!(err.contains("`friend`") && err.contains("A.csv"), "{err}");
    }

    #[test]
    fn unknown_connector_is_an_error() {
        let err = Manifest::resolve("salesfarce", None, Path::new(".")).unwrap_err();
        assert!(err.to_string().contains("salesfarce"));
    }

    #[test]
    fn files_pick_their_mapping_by_name() {
        let m = Manifest::resolve("salesforce-export", None, Path::new(".")).unwrap();
        let account = m.mapping_for(Path::new("x/Account.csv")).unwrap();
        assert_eq!(account.kind(), RecordKind::Organization);
        let contact = m.mapping_for(Path::new("contact.CSV")).unwrap();
        assert_eq!(contact.kind(), RecordKind::Person);
        assert!(m.mapping_for(Path::new("Unknown.csv")).is_none());
        assert!(glob_match("contacts*.csv", "contacts-2024.csv"));
        assert!(!glob_match("contacts*.csv", "companies.csv"));
    }
}
