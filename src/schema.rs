//! The declarative index schema: reads `index-schema/schema.toml` and turns it
//! into a tantivy [`Schema`], plus the facts the rest of the index needs (which
//! fields free text searches, their boosts, which record attributes feed each
//! field).
//!
//! It must never touch an index or the store: it only describes. A change to
//! the file changes [`SchemaSpec::fingerprint`], which is how the index knows it
//! must be rebuilt.

use std::collections::HashSet;
use std::path::Path;

use serde::Deserialize;
use tantivy::schema::{
    DateOptions, DateTimePrecision, Field, IndexRecordOption, JsonObjectOptions, NumericOptions,
    Schema, SchemaBuilder, TextFieldIndexing, TextOptions,
};

/// The schema shipped with Rapport (index-schema/schema.toml at build time).
pub const BUILTIN_SCHEMA: &str = include_str!("../index-schema/schema.toml");

/// Record attributes a schema field may copy from (see `from` in the file).
pub const RECORD_ATTRIBUTES: &[&str] = &[
    "id",
    "kind",
    "customer_id",
    "person_id",
    "org_id",
    "customer_name",
    "customer_kind",
    "customer_country",
    "customer_ref",
    "source",
    "external_id",
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
    "attrs",
    "phone_keys",
    "customer_keys",
    "customer_consent",
];

#[derive(Debug, thiserror::Error)]
pub enum SchemaError {
    #[error("cannot read schema file {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("schema file {path} is not valid TOML: {message}")]
    Parse { path: String, message: String },
    #[error("schema file {path}: field `{field}`: {message}")]
    Field {
        path: String,
        field: String,
        message: String,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FieldType {
    Text,
    Keyword,
    F64,
    I64,
    Date,
    Json,
}

/// The analysers a text field can use. Their tantivy names are registered by
/// `index::analyzers`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TokenizerKind {
    Text,
    English,
    Japanese,
    Keyword,
    Exact,
    Ngram,
    /// Overlapping bigrams of Japanese runs: parts of compounds.
    Cjk,
    /// Adjacent pairs of `text` words, one token each (a field `X_pairs`
    /// beside a text field `X`): a two-word phrase becomes one term
    /// (Elasticsearch's `index_phrases`).
    Pairs,
    /// Adjacent pairs of `cjk` bigrams (a field `X_pairs` beside a cjk
    /// field `X`).
    #[serde(rename = "cjk_pairs")]
    CjkPairs,
}

impl TokenizerKind {
    pub fn tantivy_name(self) -> &'static str {
        match self {
            TokenizerKind::Text => "rapport_text",
            TokenizerKind::English => "rapport_english",
            TokenizerKind::Japanese => "rapport_japanese",
            TokenizerKind::Keyword => "rapport_keyword",
            TokenizerKind::Exact => "rapport_exact",
            TokenizerKind::Ngram => "rapport_ngram",
            TokenizerKind::Cjk => "rapport_cjk",
            TokenizerKind::Pairs => "rapport_pairs",
            TokenizerKind::CjkPairs => "rapport_cjk_pairs",
        }
    }

    /// The analyser whose adjacent tokens this one pairs.
    pub fn paired(self) -> Option<TokenizerKind> {
        match self {
            TokenizerKind::Pairs => Some(TokenizerKind::Text),
            TokenizerKind::CjkPairs => Some(TokenizerKind::Cjk),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldSpec {
    pub name: String,
    #[serde(rename = "type")]
    pub field_type: FieldType,
    pub tokenizer: Option<TokenizerKind>,
    #[serde(default)]
    pub from: Vec<String>,
    #[serde(default)]
    pub stored: bool,
    #[serde(default)]
    pub fast: bool,
    #[serde(default)]
    pub search: bool,
    pub boost: Option<f32>,
    #[serde(default)]
    pub facet: bool,
}

/// The name of a pairs field is its text field's name and this.
pub const PAIRS_SUFFIX: &str = "_pairs";

impl FieldSpec {
    /// The tokenizer that analyses this field's text, if it has text.
    pub fn analyzer(&self) -> Option<TokenizerKind> {
        match self.field_type {
            FieldType::Keyword => match self.tokenizer {
                Some(TokenizerKind::Exact) => Some(TokenizerKind::Exact),
                _ => Some(TokenizerKind::Keyword),
            },
            FieldType::Text | FieldType::Json => {
                Some(self.tokenizer.unwrap_or(TokenizerKind::Text))
            }
            _ => None,
        }
    }

    /// Record attributes copied into this field.
    pub fn sources(&self) -> Vec<&str> {
        if self.from.is_empty() {
            vec![self.name.as_str()]
        } else {
            self.from.iter().map(String::as_str).collect()
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SchemaFile {
    #[allow(dead_code)]
    version: Option<u32>,
    fields: Vec<FieldSpec>,
}

/// A parsed, validated schema file.
#[derive(Debug, Clone)]
pub struct SchemaSpec {
    pub fields: Vec<FieldSpec>,
    fingerprint: String,
}

impl SchemaSpec {
    pub fn builtin() -> Result<Self, SchemaError> {
        Self::parse(BUILTIN_SCHEMA, "<built-in index-schema/schema.toml>")
    }

    pub fn load(path: &Path) -> Result<Self, SchemaError> {
        let text = std::fs::read_to_string(path).map_err(|source| SchemaError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Self::parse(&text, &path.display().to_string())
    }

    pub fn parse(text: &str, origin: &str) -> Result<Self, SchemaError> {
        let file: SchemaFile = toml::from_str(text).map_err(|e| SchemaError::Parse {
            path: origin.to_string(),
            message: e.to_string(),
        })?;
        let mut spec = SchemaSpec {
            fields: file.fields,
            fingerprint: fingerprint_of(text),
        };
        spec.validate(origin)?;
        spec.pairs_read_their_fields_sources();
        Ok(spec)
    }

    /// A pairs field reads what its text field reads (it names no `from`
    /// of its own), so that changing the text field's sources keeps them
    /// equal.
    fn pairs_read_their_fields_sources(&mut self) {
        let sources: Vec<(usize, Vec<String>)> = self
            .fields
            .iter()
            .enumerate()
            .filter(|(_, f)| f.tokenizer.and_then(TokenizerKind::paired).is_some())
            .filter_map(|(i, f)| {
                let base = f.name.strip_suffix(PAIRS_SUFFIX)?;
                let base = self.fields.iter().find(|x| x.name == base)?;
                Some((i, base.sources().into_iter().map(str::to_string).collect()))
            })
            .collect();
        for (i, from) in sources {
            self.fields[i].from = from;
        }
    }

    fn validate(&self, origin: &str) -> Result<(), SchemaError> {
        let fail = |field: &str, message: String| SchemaError::Field {
            path: origin.to_string(),
            field: field.to_string(),
            message,
        };
        let mut seen = HashSet::new();
        for f in &self.fields {
            if !seen.insert(f.name.as_str()) {
                return Err(fail(&f.name, "is declared twice".into()));
            }
            if f.name == SEQ_FIELD {
                return Err(fail(&f.name, "is a name Rapport keeps for itself".into()));
            }
            // A pairs field reads its text field's sources, checked there.
            let pairs = f.tokenizer.and_then(TokenizerKind::paired).is_some();
            for src in f.sources().into_iter().filter(|_| !pairs) {
                if !RECORD_ATTRIBUTES.contains(&src) {
                    return Err(fail(
                        &f.name,
                        format!(
                            "`from` names `{src}`, which is not a record attribute (known: {})",
                            RECORD_ATTRIBUTES.join(", ")
                        ),
                    ));
                }
            }
            match (f.field_type, f.tokenizer) {
                (_, None) | (FieldType::Text | FieldType::Json, Some(_)) => {}
                (FieldType::Keyword, Some(TokenizerKind::Keyword | TokenizerKind::Exact)) => {}
                (FieldType::Keyword, Some(_)) => {
                    return Err(fail(
                        &f.name,
                        "a keyword field takes tokenizer keyword or exact".into(),
                    ));
                }
                _ => {
                    return Err(fail(
                        &f.name,
                        "only text, keyword and json fields take a tokenizer".into(),
                    ));
                }
            }
            if f.facet && !f.fast {
                return Err(fail(&f.name, "a facet must also be `fast = true`".into()));
            }
            if let Some(paired) = f.tokenizer.and_then(TokenizerKind::paired) {
                let base = f
                    .name
                    .strip_suffix(PAIRS_SUFFIX)
                    .and_then(|b| self.fields.iter().find(|x| x.name == b));
                let fits = base.is_some_and(|b| {
                    b.field_type == FieldType::Text && b.analyzer() == Some(paired)
                });
                if !fits || f.field_type != FieldType::Text || !f.from.is_empty() {
                    return Err(fail(
                        &f.name,
                        format!(
                            "a pairs field is a text field named X{PAIRS_SUFFIX} beside the text \
                             field X whose tokenizer it pairs; it reads what X reads and names \
                             no `from`"
                        ),
                    ));
                }
            }
        }
        for required in ["id", "kind", "source", "external_id", "customer_id"] {
            if !seen.contains(required) {
                return Err(fail(required, "is required by Rapport but missing".into()));
            }
        }
        Ok(())
    }

    /// Changes whenever the schema file's text changes.
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    pub fn field(&self, name: &str) -> Option<&FieldSpec> {
        self.fields.iter().find(|f| f.name == name)
    }

    /// Builds the tantivy schema. Field order follows the file; the
    /// handles are the file's fields, [`SEQ_FIELD`] comes after them.
    pub fn to_tantivy(&self) -> (Schema, Vec<Field>) {
        let mut builder = SchemaBuilder::new();
        let handles = self
            .fields
            .iter()
            .map(|spec| add_field(&mut builder, spec))
            .collect();
        builder.add_u64_field(SEQ_FIELD, NumericOptions::default().set_fast());
        (builder.build(), handles)
    }
}

/// What the code makes of a schema file changes with [`LAYOUT`]: an index
/// built from the same file by an older layout is rebuilt too.
const LAYOUT: &str = "layout 3: the change-log sequence number of each document";

/// The fast field every document carries besides the file's fields: the
/// store sequence number of the change that wrote it. Equal sort keys are
/// ordered by it (first written first), whatever segment a document is in.
pub const SEQ_FIELD: &str = "_seq";

/// The schema file's text and the layout, hashed (16 hex digits).
fn fingerprint_of(text: &str) -> String {
    let mut hasher = blake3::Hasher::new();
    hasher.update(text.as_bytes());
    hasher.update(b"\0");
    hasher.update(LAYOUT.as_bytes());
    hasher.finalize().to_hex()[..16].to_string()
}

fn add_field(builder: &mut SchemaBuilder, spec: &FieldSpec) -> Field {
    let name = spec.name.as_str();
    match spec.field_type {
        FieldType::Text | FieldType::Keyword => {
            let analyzer = spec.analyzer().unwrap_or(TokenizerKind::Text);
            let record = match analyzer {
                TokenizerKind::Keyword | TokenizerKind::Exact => IndexRecordOption::Basic,
                // Prefixes are only ever looked up as single terms (the last
                // word of a query, suggestions): positions would be a third
                // of the largest field and never read.
                TokenizerKind::Ngram => IndexRecordOption::WithFreqs,
                _ => IndexRecordOption::WithFreqsAndPositions,
            };
            let indexing = TextFieldIndexing::default()
                .set_tokenizer(analyzer.tantivy_name())
                .set_index_option(record);
            let mut options = TextOptions::default().set_indexing_options(indexing);
            if spec.stored {
                options = options.set_stored();
            }
            if spec.fast {
                options = options.set_fast("raw");
            }
            builder.add_text_field(name, options)
        }
        FieldType::Json => {
            let analyzer = spec.analyzer().unwrap_or(TokenizerKind::Text);
            let indexing = TextFieldIndexing::default()
                .set_tokenizer(analyzer.tantivy_name())
                .set_index_option(IndexRecordOption::WithFreqsAndPositions);
            let mut options = JsonObjectOptions::default().set_indexing_options(indexing);
            if spec.stored {
                options = options.set_stored();
            }
            if spec.fast {
                options = options.set_fast("raw");
            }
            builder.add_json_field(name, options)
        }
        FieldType::F64 | FieldType::I64 => {
            let mut options = NumericOptions::default().set_indexed();
            if spec.stored {
                options = options.set_stored();
            }
            if spec.fast {
                options = options.set_fast();
            }
            if spec.field_type == FieldType::F64 {
                builder.add_f64_field(name, options)
            } else {
                builder.add_i64_field(name, options)
            }
        }
        FieldType::Date => {
            let mut options = DateOptions::default()
                .set_indexed()
                .set_precision(DateTimePrecision::Seconds);
            if spec.stored {
                options = options.set_stored();
            }
            if spec.fast {
                options = options.set_fast();
            }
            builder.add_date_field(name, options)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_schema_is_valid_and_has_the_required_fields() {
        let spec = SchemaSpec::builtin().expect("built-in schema parses");
        for name in [
            "id",
            "kind",
            "customer_id",
            "source",
            "external_id",
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
            "attrs",
        ] {
            assert!(spec.field(name).is_some(), "missing field {name}");
        }
        let (schema, handles) = spec.to_tantivy();
        assert_eq!(handles.len(), spec.fields.len());
        assert!(schema.get_field("body").is_ok());
    }

    #[test]
    fn unknown_source_attribute_is_rejected_with_the_field_name() {
        let text = "[[fields]]\nname = \"x\"\ntype = \"text\"\nfrom = [\"nope\"]\n";
        let err = SchemaSpec::parse(text, "s.toml").unwrap_err().to_string();
        assert!(
            err.contains("s.toml") && err.contains("`x`") && err.contains("nope"),
            "{err}"
        );
    }

    #[test]
    fn fingerprint_follows_the_text() {
        let a = SchemaSpec::parse(BUILTIN_SCHEMA, "a").unwrap();
        let b = SchemaSpec::parse(&format!("{BUILTIN_SCHEMA}\n# changed\n"), "b").unwrap();
        assert_ne!(a.fingerprint(), b.fingerprint());
    }

    #[test]
    fn a_pairs_field_reads_what_its_text_field_reads() {
        let spec = SchemaSpec::parse(BUILTIN_SCHEMA, "a").unwrap();
        let pairs = spec.field("cjk_pairs").unwrap();
        assert_eq!(pairs.sources(), spec.field("cjk").unwrap().sources());
        assert_eq!(spec.field("body_pairs").unwrap().sources(), vec!["body"]);
        // A pairs field without its text field, of the wrong analyser, or
        // naming sources of its own is refused, naming it.
        for broken in [
            BUILTIN_SCHEMA.replace("name = \"body_pairs\"", "name = \"bodies_pairs\""),
            BUILTIN_SCHEMA.replace(
                "name = \"cjk_pairs\"\ntype = \"text\"\ntokenizer = \"cjk_pairs\"",
                "name = \"cjk_pairs\"\ntype = \"text\"\ntokenizer = \"pairs\"",
            ),
            BUILTIN_SCHEMA.replace(
                "tokenizer = \"pairs\"\n",
                "tokenizer = \"pairs\"\nfrom = [\"body\"]\n",
            ),
        ] {
            assert_ne!(broken, BUILTIN_SCHEMA);
            let err = SchemaSpec::parse(&broken, "s.toml")
                .unwrap_err()
                .to_string();
            assert!(
                err.contains("_pairs`") && err.contains("pairs field"),
                "{err}"
            );
        }
    }
}
