//! Shared helpers for the integration tests: a scratch workspace with a real
//! data directory, the real `rapport` binary, and a real server on 127.0.0.1
//! with an ephemeral port. The Japanese dictionary is built once per target
//! directory and shared by every test process.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_rapport")
}

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The shared, race-safe cache of the built IPADIC dictionary: the
/// machine's, as the binary uses it (built once per machine), else one per
/// target directory.
pub fn dictionary_cache() -> PathBuf {
    rapport::config::shared_cache_dir()
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("ipadic-cache"))
}

pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// A temporary folder with a rapport.toml, a data directory and sources.
pub struct Workspace {
    pub dir: tempfile::TempDir,
}

impl Workspace {
    pub fn new() -> Workspace {
        Workspace {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    /// A workspace holding a copy of examples/data, configured like
    /// examples/rapport.toml.
    pub fn with_examples() -> Workspace {
        let ws = Workspace::new();
        copy_dir(&repo().join("examples/data"), &ws.path().join("data"));
        ws.write_config(&[
            ("crm", "generic-csv", "data/crm"),
            ("notes", "notes", "data/notes"),
        ]);
        ws
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn config(&self) -> PathBuf {
        self.path().join("rapport.toml")
    }

    /// Writes `text` to `path` inside the workspace, creating its folders.
    pub fn write_file(&self, path: &str, text: &str) {
        let p = self.path().join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }

    /// Writes rapport.toml with the given (name, connector, path) sources.
    pub fn write_config(&self, sources: &[(&str, &str, &str)]) {
        self.write_config_with(sources, "");
    }

    pub fn write_config_with(&self, sources: &[(&str, &str, &str)], extra: &str) {
        let mut text = format!("data_dir = \"store\"\n{extra}\n");
        for (name, connector, path) in sources {
            text.push_str(&format!(
                "[[sources]]\nname = \"{name}\"\nconnector = \"{connector}\"\npath = \"{path}\"\n"
            ));
        }
        std::fs::write(self.config(), text).unwrap();
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(bin());
        cmd.arg("--config")
            .arg(self.config())
            .args(args)
            .env("RAPPORT_DICTIONARY_DIR", dictionary_cache())
            .env_remove("RAPPORT_DATA_DIR")
            .env_remove("RAPPORT_LISTEN");
        cmd
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().unwrap()
    }

    /// Runs `rapport ingest --json` and returns its report.
    /// Record id → customer id of every record, from `rapport export`.
    pub fn customers_by_record(&self) -> std::collections::BTreeMap<String, String> {
        let out = self.run(&["export", "--fields", "id,customer_id"]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .map(|v| {
                (
                    v["id"].as_str().unwrap_or_default().to_string(),
                    v["customer_id"].as_str().unwrap_or_default().to_string(),
                )
            })
            .collect()
    }

    pub fn ingest(&self) -> serde_json::Value {
        let out = self.run(&["ingest", "--json"]);
        assert!(
            out.status.success(),
            "ingest failed: {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    }

    /// Runs `rapport search --json --group none QUERY`.
    pub fn search(&self, query: &str) -> serde_json::Value {
        let out = self.run(&[
            "search", "--json", "--group", "none", "--limit", "50", query,
        ]);
        assert!(
            out.status.success(),
            "search failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    }

    /// `rapport search --json` grouped by customer (the default).
    pub fn search_grouped(&self, query: &str) -> serde_json::Value {
        let out = self.run(&["search", "--json", "--limit", "50", query]);
        assert!(
            out.status.success(),
            "search failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    }

    /// Creates an API key with `role` in this workspace's store (no server
    /// may be running) and answers its secret.
    pub fn create_key(&self, name: &str, role: &str, extra: &[&str]) -> String {
        let mut args = vec!["keys", "create", "--name", name, "--role", role, "--json"];
        args.extend_from_slice(extra);
        let out = self.run(&args);
        assert!(
            out.status.success(),
            "keys create failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let answer: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        answer["secret"].as_str().unwrap().to_string()
    }

    /// Runs `rapport ARGS` with `input` on its standard input (a password,
    /// as a person types it).
    pub fn run_with_stdin(&self, args: &[&str], input: &str) -> Output {
        use std::io::Write;
        let mut child = self
            .command(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(format!("{input}\n").as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    }

    /// Adds a staff user with `password` (given on stdin, as a person would).
    pub fn add_user(&self, name: &str, role: &str, password: &str) {
        let out = self.run_with_stdin(&["users", "add", name, "--role", role], password);
        assert!(
            out.status.success(),
            "users add failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// A server with an admin key that every request of [`Server`] sends.
    pub fn serve(&self) -> Server {
        self.start(self.command(&["serve", "--listen", "127.0.0.1:0"]))
    }

    /// Runs `command` (a `serve` of this workspace) with an admin key.
    pub fn start(&self, command: Command) -> Server {
        let key = self.create_key("tests", "admin", &[]);
        let mut server = Server::start(command);
        server.set_key(&key);
        server
    }
}

/// A `rapport serve` process, killed when dropped.
pub struct Server {
    child: Child,
    pub base: String,
    /// The key every request of this server's client sends.
    pub key: Option<String>,
    /// Lines the server printed on stdout after its address.
    pub printed: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
    client: reqwest::blocking::Client,
}

impl Server {
    pub fn start(command: Command) -> Server {
        Server::start_with_stderr(command, Stdio::inherit())
    }

    /// [`Server::start`] with the server's log (stderr) sent to `stderr`.
    pub fn start_with_stderr(mut command: Command, stderr: Stdio) -> Server {
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        let printed = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let lines = printed.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(address) = line.strip_prefix("rapport listening on ") {
                    let _ = tx.send(address.to_string());
                } else if let Ok(mut lines) = lines.lock() {
                    lines.push(line);
                }
            }
        });
        let base = match rx.recv_timeout(Duration::from_secs(120)) {
            Ok(address) => address,
            Err(_) => {
                let _ = child.kill();
                panic!("the server did not report its address within 120 s");
            }
        };
        Server {
            child,
            base,
            key: None,
            printed,
            client: client_with(None),
        }
    }

    /// Sends `key` with every later request of [`Server::client`].
    pub fn set_key(&mut self, key: &str) {
        self.key = Some(key.to_string());
        self.client = client_with(Some(key));
    }

    /// The actor id of this server's key (`GET /v1/session`).
    pub fn actor(&self) -> String {
        let (status, me) = self.get("/v1/session");
        assert_eq!(status, 200, "GET /v1/session: {me}");
        me["actor"].as_str().unwrap().to_string()
    }

    /// The HTTP client that sends this server's key.
    pub fn client(&self) -> reqwest::blocking::Client {
        self.client.clone()
    }

    pub fn get(&self, path_and_query: &str) -> (u16, serde_json::Value) {
        let response = self
            .client
            .get(format!("{}{}", self.base, path_and_query))
            .send()
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json().unwrap_or(serde_json::Value::Null))
    }

    /// `GET` answered as text: status, `content-type` and body.
    pub fn get_text(&self, path_and_query: &str) -> (u16, String, String) {
        self.send("GET", path_and_query, None)
    }

    /// Any method, with a JSON body when given; answers status,
    /// `content-type` and body text (panics naming the call if it fails).
    pub fn send(&self, method: &str, path: &str, json_body: Option<&str>) -> (u16, String, String) {
        let method_value = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut request = self
            .client
            .request(method_value, format!("{}{path}", self.base));
        if let Some(body) = json_body {
            request = request
                .header("content-type", "application/json")
                .body(body.to_string());
        }
        let response = request
            .send()
            .unwrap_or_else(|e| panic!("{method} {path}: request failed: {e}"));
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        let text = response
            .text()
            .unwrap_or_else(|e| panic!("{method} {path}: reading the body failed: {e}"));
        (status, content_type, text)
    }

    pub fn post(&self, path: &str, body: &str) -> (u16, serde_json::Value) {
        let response = self
            .client
            .post(format!("{}{}", self.base, path))
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json().unwrap_or(serde_json::Value::Null))
    }

    /// `GET /v1/search` with `q` URL-encoded, records not grouped.
    pub fn search(&self, q: &str) -> serde_json::Value {
        let url = reqwest::Url::parse_with_params(
            &format!("{}/v1/search", self.base),
            &[("q", q), ("limit", "50"), ("group", "none")],
        )
        .unwrap();
        let response = self.client.get(url).send().unwrap();
        assert_eq!(response.status().as_u16(), 200, "search {q}");
        response.json().unwrap()
    }

    /// The customer one record is attached to (`None`: to none), found by
    /// `filter.id`; exactly one record must match.
    pub fn customer_of(&self, record: &str) -> Option<String> {
        let url = reqwest::Url::parse_with_params(
            &format!("{}/v1/search", self.base),
            &[("q", "*"), ("group", "none"), ("filter.id", record)],
        )
        .unwrap();
        let response = self.client.get(url).send().unwrap();
        assert_eq!(response.status().as_u16(), 200, "search for {record}");
        let found: serde_json::Value = response.json().unwrap();
        assert_eq!(found["total"], 1, "{record}: {found}");
        found["hits"][0]["customer_id"].as_str().map(str::to_string)
    }

    /// Polls `check` until it holds or `timeout` passes.
    pub fn wait_for(&self, timeout: Duration, mut check: impl FnMut(&Server) -> bool) -> bool {
        let started = Instant::now();
        while started.elapsed() < timeout {
            if check(self) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        false
    }
}

/// A blocking client sending `Authorization: Bearer KEY` when given.
pub fn client_with(key: Option<&str>) -> reqwest::blocking::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    if let Some(key) = key {
        headers.insert(
            reqwest::header::AUTHORIZATION,
            reqwest::header::HeaderValue::from_str(&format!("Bearer {key}")).unwrap(),
        );
    }
    reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(120))
        .default_headers(headers)
        .build()
        .unwrap()
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The ids of a search response's hits.
pub fn hit_ids(response: &serde_json::Value) -> Vec<String> {
    response["hits"]
        .as_array()
        .map(|hits| {
            hits.iter()
                .filter_map(|h| h["id"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// `(file, line, reason)` of each error of the `source`-th source of an
/// ingest report.
pub fn errors_of(report: &serde_json::Value, source: usize) -> Vec<(String, Option<u64>, String)> {
    report["sources"][source]["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["file"].as_str().unwrap_or_default().to_string(),
                e["line"].as_u64(),
                e["reason"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

/// Reads every file of `folder` with the built-in connector, through the
/// library (no store); a file that cannot be read is one more error.
pub fn read_folder(connector: &str, folder: &Path) -> rapport::connectors::Collect {
    use rapport::connectors::{self, Collect, Manifest, ReadError};
    let manifest = Manifest::resolve(connector, None, Path::new(".")).unwrap();
    let (files, errors) = connectors::list_files("src", folder, &manifest);
    assert!(errors.is_empty(), "{errors:?}");
    let mut sink = Collect::default();
    for file in files {
        match connectors::read_file("src", &manifest, &file, &mut sink) {
            Ok(()) => {}
            Err(ReadError::Unreadable(e)) => sink.errors.push(e),
            Err(ReadError::Stopped) => panic!("stopped"),
        }
    }
    sink
}

/// The connector fixture folder `name` (tests/fixtures/connectors).
pub fn connector_fixtures(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/connectors")
        .join(name)
}

/// The record with external id `id` among `records` (panics listing them).
pub fn record_by_id<'a>(
    records: &'a [rapport::record::Record],
    id: &str,
) -> &'a rapport::record::Record {
    records
        .iter()
        .find(|r| r.external_id == id)
        .unwrap_or_else(|| {
            panic!(
                "no record {id}: {:?}",
                records.iter().map(|r| &r.external_id).collect::<Vec<_>>()
            )
        })
}

/// A link as connectors write it (no display name).
pub fn link(rel: &str, target: &str) -> rapport::record::Link {
    rapport::record::Link {
        rel: rel.into(),
        target: target.into(),
        name: None,
    }
}

/// Serves `app` on 127.0.0.1 (an ephemeral port) from a one-thread runtime
/// that lives as long as the returned value: a stand-in for a CRM's export
/// server.
pub fn serve_router(app: axum::Router) -> (std::net::SocketAddr, tokio::runtime::Runtime) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let address = listener.local_addr().unwrap();
    runtime.spawn(async move { axum::serve(listener, app).await.unwrap() });
    (address, runtime)
}

/// Every file under `dir` (recursively) that holds `needle`'s bytes,
/// compared case-insensitively (ASCII), either as they are or inside a zstd
/// frame anywhere in the file: the store keeps records and customers as
/// frames, and a freed page still holding an old frame counts.
pub fn files_holding(dir: &std::path::Path, needle: &[u8]) -> Vec<String> {
    let mut found = Vec::new();
    for_each_content(dir, |path, content| {
        let name = path.display().to_string();
        if found.last() != Some(&name) && holds(content, needle) {
            found.push(name);
        }
    });
    found
}

/// Calls `visit` with every file under `dir` (recursively): its bytes, then
/// the content of each whole zstd frame in it.
pub fn for_each_content(dir: &std::path::Path, mut visit: impl FnMut(&std::path::Path, &[u8])) {
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if let Ok(bytes) = std::fs::read(&path) {
                visit(&path, &bytes);
                for frame in zstd_frames(&bytes) {
                    visit(&path, &frame);
                }
            }
        }
    }
}

fn holds(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w.eq_ignore_ascii_case(needle))
}

/// The content of every whole zstd frame in `bytes` (each found by its
/// magic number and decoded where it starts; a damaged or cut one is
/// passed over).
fn zstd_frames(bytes: &[u8]) -> impl Iterator<Item = Vec<u8>> + '_ {
    const MAGIC: [u8; 4] = [0x28, 0xb5, 0x2f, 0xfd];
    bytes
        .windows(MAGIC.len())
        .enumerate()
        .filter(|(_, w)| *w == MAGIC)
        .filter_map(|(at, _)| {
            let rest = &bytes[at..];
            let size = zstd::zstd_safe::get_frame_content_size(rest).ok()??;
            let length = zstd::zstd_safe::find_frame_compressed_size(rest).ok()?;
            if size > 64 << 20 || length > rest.len() {
                return None;
            }
            zstd::bulk::decompress(&rest[..length], size as usize).ok()
        })
}

/// Every record has the customer a full pass from scratch gives it.
pub fn assert_same_customers(
    from_scratch: &std::collections::BTreeMap<String, String>,
    other: &std::collections::BTreeMap<String, String>,
) {
    let differ: Vec<_> = from_scratch
        .iter()
        .filter(|(id, c)| other.get(*id) != Some(c))
        .take(5)
        .collect();
    assert!(
        differ.is_empty(),
        "customers differ from a full pass: {differ:?}"
    );
}
