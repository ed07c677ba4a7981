//! `rapport.toml`: where data lives, where the server listens, which sources
//! to read. Every key has a default; `RAPPORT_*` environment variables
//! override the file; relative paths are relative to the file's folder.
//!
//! It must never touch the data directory; it only says where it is.

use std::path::{Path, PathBuf};

use serde::Deserialize;

mod invalid;
pub mod retention;
mod server;

pub use crate::units::parse_duration;
pub use invalid::InvalidSetting;
pub use server::ServerLimits;

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
    /// Follow changes while serving (notify, debounced).
    #[serde(default)]
    pub watch: bool,
    /// Default region (ISO 3166 alpha-2) for phone numbers written without a
    /// country code, e.g. "JP" for a Japanese export.
    #[serde(default)]
    pub region: Option<String>,
    /// Time zone of dates written without one, as a fixed offset (`+09:00`,
    /// `-05:00`, `UTC`; default UTC).
    #[serde(default)]
    pub timezone: Option<String>,
    /// Fetch an export over HTTP(S) on a schedule into `path` while serving.
    #[serde(default)]
    pub pull: Option<PullConfig>,
    /// Why this source's data is held (GDPR art. 5(1)(b)), e.g. "sales",
    /// "support", "marketing"; shown per field on customer pages.
    #[serde(default)]
    pub purpose: Option<String>,
    /// The lawful basis (GDPR art. 6): consent, contract, legal_obligation,
    /// vital_interests, public_task or legitimate_interests.
    #[serde(default)]
    pub lawful_basis: Option<String>,
    /// Keep a record this many days after its last update or its customer's
    /// last interaction, whichever is later; then the retention job purges it.
    #[serde(default)]
    pub retain_days: Option<u64>,
}

/// `pull = { url = "https://...", every = "1h", file = "export.csv" }`.
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct PullConfig {
    pub url: String,
    /// How often: `30s`, `15m`, `1h`, `1d` (default 1h).
    #[serde(default = "default_every")]
    pub every: String,
    /// Name of the file written in the source's folder (default: the last
    /// segment of the URL's path).
    #[serde(default)]
    pub file: Option<String>,
    /// Request headers whose values are read from environment variables at
    /// each fetch: `headers = { Authorization = "ZENDESK_AUTH" }` sends
    /// `Authorization: <value of $ZENDESK_AUTH>`. Only the variable's name is
    /// in the configuration; the value is never logged nor stored.
    #[serde(default)]
    pub headers: std::collections::BTreeMap<String, String>,
}

fn default_every() -> String {
    "1h".into()
}

impl SourceConfig {
    /// A source read by `connector` from `path`, everything else as
    /// rapport.toml leaves it when unset (not watched, no pull, no region,
    /// time zone, purpose, lawful basis or retention).
    pub fn new(name: &str, connector: &str, path: PathBuf) -> SourceConfig {
        SourceConfig {
            name: name.to_string(),
            connector: connector.to_string(),
            path,
            watch: false,
            pull: None,
            region: None,
            timezone: None,
            purpose: None,
            lawful_basis: None,
            retain_days: None,
        }
    }
}

impl PullConfig {
    pub fn interval(&self) -> Result<std::time::Duration, crate::units::DurationError> {
        parse_duration(&self.every)
    }

    /// The file name the export is saved under: `file`, or the URL's last
    /// path segment, or `export`. Never a path.
    pub fn file_name(&self) -> String {
        let from_url = self
            .url
            .split(['?', '#'])
            .next()
            .and_then(|u| u.split("://").nth(1))
            .and_then(|rest| rest.split_once('/').map(|(_, path)| path))
            .and_then(|path| path.rsplit('/').next())
            .filter(|name| !name.is_empty())
            .map(str::to_string);
        let name = self
            .file
            .clone()
            .or(from_url)
            .unwrap_or_else(|| "export".into());
        let safe: String = name
            .chars()
            .map(|c| if c == '/' || c == '\\' { '_' } else { c })
            .collect();
        match safe.trim_start_matches('.') {
            "" => "export".to_string(),
            name => name.to_string(),
        }
    }
}

/// `[auth]`: roles and the rules of web sessions.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuthConfig {
    /// Roles added or replaced: `analyst = ["search", "customers.read", "export"]`.
    pub roles: std::collections::BTreeMap<String, Vec<String>>,
    /// A web session unused this long ends (default 30m).
    pub session_idle: String,
    /// A web session ends this long after sign-in (default 12h).
    pub session_max: String,
    /// Failed sign-ins in a row before a user name is locked (default 5).
    pub max_failed_signins: u32,
    /// The first lock-out, doubled by each further failure (default 1m).
    pub lockout: String,
    /// Mark the session cookie `Secure` (set it when a TLS proxy fronts
    /// Rapport; it is always set when Rapport serves TLS itself).
    pub secure_cookie: bool,
    /// Requests per second each identity may make (a key, a user, or for
    /// open routes a client address); 0: no limit. Over it: 429 with
    /// `Retry-After`.
    pub rate_limit: u32,
    /// Requests an identity may make at once above `rate_limit` (default:
    /// twice the rate).
    pub rate_burst: Option<u32>,
    /// Single sign-on through an authenticating reverse proxy: the header
    /// that carries the signed-in user's name (e.g. `X-Remote-User`). The
    /// user must exist in Rapport (`rapport users add NAME --role R --sso`).
    pub trusted_header: Option<String>,
    /// The addresses or networks (`10.0.0.0/8`) of the proxies whose
    /// `trusted_header` is believed; from anyone else the header is refused.
    pub trusted_proxies: Vec<String>,
}

impl Default for AuthConfig {
    fn default() -> Self {
        AuthConfig {
            roles: Default::default(),
            session_idle: "30m".into(),
            session_max: "12h".into(),
            max_failed_signins: 5,
            lockout: "1m".into(),
            secure_cookie: false,
            rate_limit: 0,
            rate_burst: None,
            trusted_header: None,
            trusted_proxies: Vec::new(),
        }
    }
}

impl AuthConfig {
    /// The roles, defaults with `[auth.roles]` applied.
    pub fn roles(&self) -> Result<crate::auth::Roles, InvalidSetting> {
        Ok(crate::auth::Roles::with_overrides(&self.roles)?)
    }

    /// `trusted_proxies` as networks (an address is a /32 or /128).
    pub fn trusted_proxies(&self) -> Result<Vec<ipnet::IpNet>, InvalidSetting> {
        self.trusted_proxies
            .iter()
            .map(|text| {
                text.parse::<ipnet::IpNet>()
                    .or_else(|_| text.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                    .map_err(|_| InvalidSetting::TrustedProxy(text.clone()))
            })
            .collect()
    }

    /// The trusted header's name, checked.
    pub fn trusted_header(&self) -> Result<Option<axum::http::HeaderName>, InvalidSetting> {
        let Some(name) = &self.trusted_header else {
            return Ok(None);
        };
        let header = axum::http::HeaderName::from_bytes(name.trim().as_bytes())
            .map_err(|_| InvalidSetting::TrustedHeaderName(name.clone()))?;
        if self.trusted_proxies.is_empty() {
            return Err(InvalidSetting::TrustedHeaderWithoutProxies);
        }
        Ok(Some(header))
    }

    pub fn session_settings(
        &self,
    ) -> Result<crate::auth::sessions::SessionSettings, InvalidSetting> {
        let duration = |key: &'static str, text: &str| {
            parse_duration(text).map_err(|source| InvalidSetting::SessionDuration { key, source })
        };
        Ok(crate::auth::sessions::SessionSettings {
            idle: duration("session_idle", &self.session_idle)?,
            absolute: duration("session_max", &self.session_max)?,
            max_failures: self.max_failed_signins.max(1),
            lockout: duration("lockout", &self.lockout)?,
        })
    }
}

/// How log lines are written to stderr.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Text,
    Json,
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
    /// Where the built Japanese dictionary is cached (default: the machine's
    /// cache directory, see [`shared_cache_dir`]).
    pub dictionary_dir: Option<PathBuf>,
    /// Query-time synonyms: one group of equivalent forms per line.
    pub synonyms: Option<PathBuf>,
    pub sources: Vec<SourceConfig>,
    /// How long a watched file must be quiet before it is read (ms).
    pub watch_debounce_ms: u64,
    /// Resolution thresholds and source priority (`[resolve]`).
    pub resolve: crate::resolve::Settings,
    /// Where `POST /v1/snapshots` writes snapshots (default: `snapshots`
    /// beside the data directory). HTTP callers only name a folder in it.
    pub snapshot_dir: Option<PathBuf>,
    /// Longest values kept from sources (`[limits]`); longer ones are cut
    /// and flagged.
    pub limits: crate::normalize::limits::Limits,
    /// The HTTP server's timeouts and size and concurrency limits
    /// (`[server]`).
    pub server: ServerLimits,
    /// Roles and sign-in rules (`[auth]`).
    pub auth: AuthConfig,
    /// `text` (readable lines) or `json` (one JSON object per line, with
    /// the spans' fields, for log collectors). `RAPPORT_LOG_FORMAT`
    /// overrides it.
    pub log_format: LogFormat,
    /// What each search cache may hold (`[search_caches]`, MiB).
    pub search_caches: crate::index::search::caches::CacheBudgets,
    /// Indexing threads and their memory budget (`[index]`).
    pub index: crate::index::IndexSettings,
    /// The inactive-customer policy and the retention job's schedule
    /// (`[retention]`).
    pub retention: retention::RetentionConfig,
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
            watch_debounce_ms: 300,
            resolve: crate::resolve::Settings::default(),
            snapshot_dir: None,
            limits: Default::default(),
            server: Default::default(),
            auth: AuthConfig::default(),
            log_format: LogFormat::Text,
            search_caches: Default::default(),
            index: Default::default(),
            retention: Default::default(),
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

    /// Settings from `RAPPORT_*` variables; one set to an empty value (as
    /// `RAPPORT_DATA_DIR= rapport …` does) counts as unset, never as the
    /// current directory.
    fn apply_env(&mut self, read: impl Fn(&str) -> Option<String>) {
        let var = |key: &str| read(key).filter(|v| !v.trim().is_empty());
        if let Some(v) = var("RAPPORT_DATA_DIR") {
            self.data_dir = v.into();
        }
        if let Some(v) = var("RAPPORT_LISTEN") {
            self.listen = v;
        }
        match var("RAPPORT_LOG_FORMAT").as_deref() {
            Some("json") => self.log_format = LogFormat::Json,
            Some("text") => self.log_format = LogFormat::Text,
            _ => {}
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
        if let Some(v) = var("RAPPORT_SNAPSHOT_DIR") {
            self.snapshot_dir = Some(v.into());
        }
        if let Some(v) = var("RAPPORT_INDEX_WRITER_THREADS").and_then(|v| v.parse().ok()) {
            self.index.writer_threads = v;
        }
        if let Some(v) = var("RAPPORT_INDEX_WRITER_MEMORY_MB").and_then(|v| v.parse().ok()) {
            self.index.writer_memory_mb = v;
        }
        if let Some(v) = var("RAPPORT_INDEX_WRITER_NICE").and_then(|v| v.parse().ok()) {
            self.index.writer_nice = v;
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
        if let Some(p) = self.snapshot_dir.as_mut() {
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
        let setting = |e: InvalidSetting| invalid(e.to_string());
        self.auth.roles().map_err(setting)?;
        self.auth.session_settings().map_err(setting)?;
        self.auth.trusted_proxies().map_err(setting)?;
        self.auth.trusted_header().map_err(setting)?;
        self.server.check().map_err(setting)?;
        self.index.check().map_err(|e| setting(e.into()))?;
        self.retention.interval().map_err(setting)?;
        let mut names = std::collections::HashSet::new();
        for source in &self.sources {
            if source.name.is_empty() || source.name.contains([':', '/', '\0']) {
                return Err(invalid(format!(
                    "source name `{}` must be non-empty and free of `:` and `/`",
                    source.name
                )));
            }
            if source.name == crate::record::NOTES_SOURCE {
                return Err(invalid(format!(
                    "source name `{}` is reserved for notes written through the API",
                    source.name
                )));
            }
            if let Some(pull) = &source.pull {
                pull.interval()
                    .map_err(|e| invalid(format!("source `{}`: pull.every {e}", source.name)))?;
                if !(pull.url.starts_with("http://") || pull.url.starts_with("https://")) {
                    return Err(invalid(format!(
                        "source `{}`: pull.url must start with http:// or https://",
                        source.name
                    )));
                }
            }
            if let Some(tz) = &source.timezone
                && let Err(e) = crate::normalize::parse_offset(tz)
            {
                return Err(invalid(format!("source `{}`: timezone {e}", source.name)));
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

    /// `snapshot_dir`, or `snapshots` beside the data directory.
    pub fn snapshot_dir(&self) -> PathBuf {
        self.snapshot_dir.clone().unwrap_or_else(|| {
            self.data_dir
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .unwrap_or(Path::new("."))
                .join("snapshots")
        })
    }

    /// Where the built Japanese dictionary is cached: `dictionary_dir`, else
    /// the machine's cache directory ([`shared_cache_dir`]), shared by every
    /// data directory, else `data_dir/dictionaries`.
    pub fn dictionary_cache(&self) -> PathBuf {
        self.dictionary_dir
            .clone()
            .or_else(shared_cache_dir)
            .unwrap_or_else(|| self.data_dir.join("dictionaries"))
    }
}

/// The machine's cache directory for Rapport: `RAPPORT_CACHE_DIR`, else
/// `$XDG_CACHE_HOME/rapport`, else `~/.cache/rapport` (None without any of
/// them). Built artefacts that do not depend on a data directory (the
/// Japanese dictionary) live there, built once per machine.
pub fn shared_cache_dir() -> Option<PathBuf> {
    cache_dir_from(|key| std::env::var_os(key).filter(|v| !v.is_empty()))
}

fn cache_dir_from(var: impl Fn(&str) -> Option<std::ffi::OsString>) -> Option<PathBuf> {
    if let Some(dir) = var("RAPPORT_CACHE_DIR") {
        return Some(PathBuf::from(dir));
    }
    if let Some(dir) = var("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .filter(|d| d.is_absolute())
    {
        return Some(dir.join("rapport"));
    }
    var("HOME").map(|home| PathBuf::from(home).join(".cache").join("rapport"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shared_cache_is_rapport_cache_dir_then_xdg_then_home() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |key: &str| {
                pairs
                    .iter()
                    .find(|(k, _)| *k == key)
                    .map(|(_, v)| std::ffi::OsString::from(v))
            }
        };
        const ALL: &[(&str, &str)] = &[
            ("RAPPORT_CACHE_DIR", "/r"),
            ("XDG_CACHE_HOME", "/x"),
            ("HOME", "/h"),
        ];
        assert_eq!(cache_dir_from(env(ALL)), Some(PathBuf::from("/r")));
        assert_eq!(
            cache_dir_from(env(&ALL[1..])),
            Some(PathBuf::from("/x/rapport"))
        );
        // A relative XDG_CACHE_HOME is invalid and ignored (the spec says so).
        assert_eq!(
            cache_dir_from(env(&[("XDG_CACHE_HOME", "x"), ("HOME", "/h")])),
            Some(PathBuf::from("/h/.cache/rapport"))
        );
        assert_eq!(cache_dir_from(env(&[])), None);
        let config = Config {
            dictionary_dir: Some(PathBuf::from("/d")),
            ..Config::default()
        };
        assert_eq!(config.dictionary_cache(), PathBuf::from("/d"));
    }

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
        config.apply_env(|k| (k == "RAPPORT_DATA_DIR").then(String::new));
        assert_eq!(
            config.data_dir,
            dir.path().join("d"),
            "an empty variable is unset"
        );
    }

    #[test]
    fn pull_file_names_and_intervals() {
        let pull = |url: &str, file: Option<&str>| PullConfig {
            url: url.into(),
            every: "15m".into(),
            file: file.map(str::to_string),
            headers: Default::default(),
        };
        assert_eq!(
            pull("https://x.example/a/tickets.json?t=1", None).file_name(),
            "tickets.json"
        );
        assert_eq!(pull("https://x.example/", None).file_name(), "export");
        assert_eq!(
            pull("https://x.example/", Some("../../etc/passwd")).file_name(),
            "_.._etc_passwd"
        );
        assert_eq!(pull("https://x.example/..", None).file_name(), "export");
        assert_eq!(
            pull("https://x.example/", None)
                .interval()
                .unwrap()
                .as_secs(),
            900
        );
        assert!(parse_duration("soon").is_err() && parse_duration("0s").is_err());
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
        std::fs::write(
            &file,
            "[[sources]]\nname='a'\nconnector='notes'\npath='n'\ntimezone='Tokyo'\n",
        )
        .unwrap();
        let err = Config::load(Some(&file)).unwrap_err().to_string();
        assert!(
            err.contains("source `a`: timezone") && err.contains("+09:00"),
            "{err}"
        );
    }
}
