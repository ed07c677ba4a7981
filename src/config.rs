//! `rapport.toml`: where data lives, where the server listens, which sources
//! to read. Every key has a default; `RAPPORT_*` environment variables
//! override the file; relative paths are relative to the file's folder.
//!
//! It must never touch the data directory; it only says where it is.

use std::path::{Path, PathBuf};

use serde::Deserialize;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("config file {path} is invalid: {message}")]
    Invalid { path: String, message: String },
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceConfig {
    /// Unique; the value of the `source` field of its records.
    pub name: String,
    /// A built-in manifest name, one in `connectors_dir`, or a path to one.
    pub connector: String,
    /// The folder (or single file) to read.
    pub path: PathBuf,
    /// Follow changes while serving (see the connectors issue).
    #[serde(default)]
    pub watch: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Store, index and dictionary cache.
    pub data_dir: PathBuf,
    /// Address the HTTP server listens on.
    pub listen: String,
    /// Schema file; the built-in index-schema/schema.toml when unset.
    pub schema: Option<PathBuf>,
    /// Extra connector manifests, looked up by name.
    pub connectors_dir: Option<PathBuf>,
    /// Where Debian's mecab-ipadic puts the IPADIC source.
    pub ipadic_source: PathBuf,
    /// Where the built Japanese dictionary is cached (default: data_dir/dictionaries).
    pub dictionary_dir: Option<PathBuf>,
    /// Query-time synonyms: one group of equivalent forms per line.
    pub synonyms: Option<PathBuf>,
    pub sources: Vec<SourceConfig>,
    /// Folder relative paths were resolved against.
    #[serde(skip)]
    pub base_dir: PathBuf,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            data_dir: PathBuf::from("rapport-data"),
            listen: "127.0.0.1:7070".into(),
            schema: None,
            connectors_dir: None,
            ipadic_source: PathBuf::from("/usr/share/mecab/dic/ipadic"),
            dictionary_dir: None,
            synonyms: None,
            sources: Vec::new(),
            base_dir: PathBuf::from("."),
        }
    }
}

impl Config {
    /// Loads `path` (or `./rapport.toml` when it exists and no path is given,
    /// or the defaults), then applies `RAPPORT_*` overrides.
    pub fn load(path: Option<&Path>) -> Result<Config, ConfigError> {
        let default_file = Path::new("rapport.toml");
        let file = match path {
            Some(p) => Some(p.to_path_buf()),
            None if default_file.is_file() => Some(default_file.to_path_buf()),
            None => None,
        };
        let mut config = match &file {
            Some(p) => {
                let text = std::fs::read_to_string(p).map_err(|source| ConfigError::Read {
                    path: p.display().to_string(),
                    source,
                })?;
                let mut config: Config =
                    toml::from_str(&text).map_err(|e| ConfigError::Invalid {
                        path: p.display().to_string(),
                        message: e.to_string(),
                    })?;
                config.base_dir = p
                    .parent()
                    .filter(|d| !d.as_os_str().is_empty())
                    .map(Path::to_path_buf)
                    .unwrap_or_else(|| PathBuf::from("."));
                config
            }
            None => Config::default(),
        };
        config.apply_env(|key| std::env::var(key).ok());
        config.resolve_paths();
        config.validate(file.as_deref())?;
        Ok(config)
    }

    fn apply_env(&mut self, var: impl Fn(&str) -> Option<String>) {
        if let Some(v) = var("RAPPORT_DATA_DIR") {
            self.data_dir = v.into();
        }
        if let Some(v) = var("RAPPORT_LISTEN") {
            self.listen = v;
        }
        if let Some(v) = var("RAPPORT_SCHEMA") {
            self.schema = Some(v.into());
        }
        if let Some(v) = var("RAPPORT_CONNECTORS_DIR") {
            self.connectors_dir = Some(v.into());
        }
        if let Some(v) = var("RAPPORT_IPADIC_SOURCE") {
            self.ipadic_source = v.into();
        }
        if let Some(v) = var("RAPPORT_DICTIONARY_DIR") {
            self.dictionary_dir = Some(v.into());
        }
        if let Some(v) = var("RAPPORT_SYNONYMS") {
            self.synonyms = Some(v.into());
        }
    }

    fn resolve_paths(&mut self) {
        let base = self.base_dir.clone();
        let fix = |p: &mut PathBuf| {
            if p.is_relative() {
                *p = base.join(&*p);
            }
        };
        fix(&mut self.data_dir);
        if let Some(p) = self.schema.as_mut() {
            fix(p);
        }
        if let Some(p) = self.connectors_dir.as_mut() {
            fix(p);
        }
        if let Some(p) = self.dictionary_dir.as_mut() {
            fix(p);
        }
        if let Some(p) = self.synonyms.as_mut() {
            fix(p);
        }
        for source in &mut self.sources {
            fix(&mut source.path);
        }
    }

    fn validate(&self, file: Option<&Path>) -> Result<(), ConfigError> {
        let invalid = |message: String| ConfigError::Invalid {
            path: file
                .map(|p| p.display().to_string())
                .unwrap_or_else(|| "<defaults>".into()),
            message,
        };
        let mut names = std::collections::HashSet::new();
        for source in &self.sources {
            if source.name.is_empty() || source.name.contains([':', '/', '\0']) {
                return Err(invalid(format!(
                    "source name `{}` must be non-empty and free of `:` and `/`",
                    source.name
                )));
            }
            if !names.insert(source.name.as_str()) {
                return Err(invalid(format!(
                    "source `{}` is declared twice",
                    source.name
                )));
            }
        }
        Ok(())
    }

    pub fn store_path(&self) -> PathBuf {
        self.data_dir.join("store.redb")
    }

    pub fn index_dir(&self) -> PathBuf {
        self.data_dir.join("index")
    }

    pub fn dictionary_cache(&self) -> PathBuf {
        self.dictionary_dir
            .clone()
            .unwrap_or_else(|| self.data_dir.join("dictionaries"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_values_env_overrides_and_relative_paths() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("rapport.toml");
        std::fs::write(
            &file,
            "data_dir = \"d\"\n[[sources]]\nname = \"crm\"\nconnector = \"generic-csv\"\npath = \"crm\"\n",
        )
        .unwrap();
        let mut config = Config::load(Some(&file)).unwrap();
        assert_eq!(config.data_dir, dir.path().join("d"));
        assert_eq!(config.sources[0].path, dir.path().join("crm"));
        assert_eq!(config.listen, "127.0.0.1:7070");
        config.apply_env(|k| (k == "RAPPORT_LISTEN").then(|| "127.0.0.1:9".to_string()));
        assert_eq!(config.listen, "127.0.0.1:9");
    }

    #[test]
    fn unknown_keys_and_duplicate_sources_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("r.toml");
        std::fs::write(&file, "data_dri = \"x\"\n").unwrap();
        let err = Config::load(Some(&file)).unwrap_err().to_string();
        assert!(err.contains("r.toml") && err.contains("data_dri"), "{err}");
        std::fs::write(
            &file,
            "[[sources]]\nname='a'\nconnector='notes'\npath='n'\n[[sources]]\nname='a'\nconnector='notes'\npath='m'\n",
        )
        .unwrap();
        let err = Config::load(Some(&file)).unwrap_err().to_string();
        assert!(err.contains("declared twice"), "{err}");
    }
}
