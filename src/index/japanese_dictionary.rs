//! Builds lindera's IPADIC dictionary at run time from the mecab-ipadic source
//! the OS package installs, and caches the built dictionary on disk, once per
//! machine: the cache directory (`RAPPORT_CACHE_DIR`, the XDG cache, see
//! `Config::dictionary_cache`) is shared by every data directory and test,
//! and a build is kept under a name made of the lindera version and a hash
//! of the source's content (`ipadic-<lindera>-<hash>`), so a new lindera or
//! another IPADIC gets its own build and never a wrong one.
//!
//! It must never expose a half-written dictionary, nor let concurrent
//! processes sharing one cache directory clobber each other: every build goes
//! into a private temporary directory, gets its `COMPLETE` marker last, and is
//! published with a single atomic `rename`.

use std::fs::{self, File};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use lindera::dictionary::{
    Dictionary, DictionaryBuilder, Metadata, load_fs_dictionary_with_options,
};
use lindera::error::LinderaError;
use lindera_dictionary::dictionary::metadata::DICTIONARY_FORMAT_VERSION;
use tracing::{debug, info, warn};

/// lindera-ipadic 6.2.0's `metadata.json`, except that the Debian/MeCab source
/// files are EUC-JP rather than UTF-8.
const IPADIC_METADATA_JSON: &str = r#"{
  "name": "ipadic",
  "encoding": "EUC-JP",
  "default_word_cost": -10000,
  "default_left_context_id": 0,
  "default_right_context_id": 0,
  "default_field_value": "*",
  "flexible_csv": true,
  "skip_invalid_cost_or_id": false,
  "normalize_details": true,
  "dictionary_schema": {
    "fields": [
      "surface", "left_context_id", "right_context_id", "cost",
      "part_of_speech", "part_of_speech_subcategory_1",
      "part_of_speech_subcategory_2", "part_of_speech_subcategory_3",
      "conjugation_form", "conjugation_type", "base_form", "reading",
      "pronunciation"
    ]
  },
  "user_dictionary_schema": { "fields": ["surface", "part_of_speech", "reading"] }
}"#;

/// Start of the published dictionary directories' names in the cache
/// directory (`ipadic-<lindera version>-<source hash>`).
const DICTIONARY_DIR: &str = "ipadic";
/// Written last into a finished build; its contents identify the builder.
const MARKER_FILE: &str = "COMPLETE";
/// A file in the source directory whose presence means IPADIC is installed.
const SOURCE_PROBE: &str = "matrix.def";
/// Leftover temporary directories older than this are from dead processes.
const ABANDONED_AFTER: Duration = Duration::from_secs(3600);

/// Why the IPADIC dictionary could not be built or loaded.
#[derive(Debug, thiserror::Error)]
pub enum DictionaryError {
    /// A filesystem operation on the cache directory failed.
    #[error("failed to {action} {}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// The metadata embedded in this module does not parse (a programming error).
    #[error("the embedded IPADIC metadata is invalid")]
    Metadata(#[source] LinderaError),
    /// lindera failed to compile the source dictionary.
    #[error("failed to build IPADIC from {} into {}", source_dir.display(), output_dir.display())]
    Build {
        source_dir: PathBuf,
        output_dir: PathBuf,
        #[source]
        source: LinderaError,
    },
    /// A dictionary marked complete could not be loaded.
    #[error("failed to load the built IPADIC dictionary from {} (delete it to force a rebuild)", path.display())]
    Load {
        path: PathBuf,
        #[source]
        source: LinderaError,
    },
}

fn io_error(action: &'static str, path: &Path) -> impl FnOnce(io::Error) -> DictionaryError {
    let path = path.to_path_buf();
    move |source| DictionaryError::Io {
        action,
        path,
        source,
    }
}

/// Loads the IPADIC dictionary cached in `cache_dir/ipadic`, building it first
/// from the MeCab IPADIC source in `source_dir` (e.g.
/// `/usr/share/mecab/dic/ipadic`) when the cache is missing or was built by
/// another lindera version.
///
/// Returns `Ok(None)` when nothing is cached and no source is installed.
/// Safe to call concurrently from many threads and processes sharing one
/// `cache_dir`; concurrent callers may each build, but exactly one build is
/// published and every caller loads a complete dictionary.
pub fn load_or_build_ipadic(
    source_dir: &Path,
    cache_dir: &Path,
) -> Result<Option<Dictionary>, DictionaryError> {
    let Some(target) = cached_dictionary_dir(source_dir, cache_dir)? else {
        // No source: any complete build of this lindera version will do.
        if let Some(found) = any_complete_build(cache_dir) {
            debug!(path = %found.display(), "loading cached IPADIC dictionary (no source installed)");
            return load(&found).map(Some);
        }
        info!(source = %source_dir.display(), "IPADIC source not installed; no Japanese dictionary");
        return Ok(None);
    };
    if is_complete(&target) {
        debug!(path = %target.display(), "loading cached IPADIC dictionary");
        return load(&target).map(Some);
    }
    fs::create_dir_all(cache_dir).map_err(io_error("create cache directory", cache_dir))?;
    remove_abandoned(cache_dir);

    let tmp = unique_sibling(cache_dir, "tmp");
    fs::create_dir(&tmp).map_err(io_error("create temporary directory", &tmp))?;
    info!(source = %source_dir.display(), output = %tmp.display(), "building IPADIC dictionary");
    let started = Instant::now();
    if let Err(err) = build_into(source_dir, &tmp) {
        remove_quietly(&tmp);
        return Err(err);
    }
    info!(
        elapsed_ms = started.elapsed().as_millis() as u64,
        "built IPADIC dictionary"
    );
    publish(&tmp, &target, cache_dir)?;
    load(&target).map(Some)
}

/// Where the build of the source in `source_dir` lives in `cache_dir`
/// (`ipadic-<lindera version>-<first 16 hex digits of the source's hash>`);
/// `None` when no source is installed there.
pub fn cached_dictionary_dir(
    source_dir: &Path,
    cache_dir: &Path,
) -> Result<Option<PathBuf>, DictionaryError> {
    if !source_dir.join(SOURCE_PROBE).is_file() {
        return Ok(None);
    }
    let hash = source_hash(source_dir)?;
    Ok(Some(cache_dir.join(format!(
        "{DICTIONARY_DIR}-{}{}",
        build_prefix(),
        &hash[..16]
    ))))
}

/// `lindera<version>-`: what every build by this lindera is named after.
fn build_prefix() -> String {
    format!("lindera{}-", lindera::get_version())
}

/// A complete build of this lindera version in `cache_dir`, if any (the
/// most recently modified).
fn any_complete_build(cache_dir: &Path) -> Option<PathBuf> {
    let prefix = format!("{DICTIONARY_DIR}-{}", build_prefix());
    fs::read_dir(cache_dir)
        .ok()?
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with(&prefix))
        .map(|e| e.path())
        .filter(|p| is_complete(p))
        .max_by_key(|p| fs::metadata(p).and_then(|m| m.modified()).ok())
}

/// blake3 of the source's file names and contents, in name order;
/// computed once per process for a source folder whose files keep their
/// sizes and modification times (about 50 MB to read).
fn source_hash(source_dir: &Path) -> Result<String, DictionaryError> {
    type Known = Vec<(PathBuf, Vec<(PathBuf, u64, Option<SystemTime>)>, String)>;
    static KNOWN: std::sync::Mutex<Known> = std::sync::Mutex::new(Vec::new());
    let mut files: Vec<(PathBuf, u64, Option<SystemTime>)> = fs::read_dir(source_dir)
        .map_err(io_error("list", source_dir))?
        .flatten()
        .filter_map(|e| {
            let meta = e.metadata().ok().filter(|m| m.is_file())?;
            Some((e.path(), meta.len(), meta.modified().ok()))
        })
        .collect();
    files.sort();
    let mut known = KNOWN
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some((_, _, hash)) = known
        .iter()
        .find(|(dir, stamp, _)| dir == source_dir && *stamp == files)
    {
        return Ok(hash.clone());
    }
    let mut hasher = blake3::Hasher::new();
    for (file, _, _) in &files {
        let name = file.file_name().map(|n| n.to_string_lossy().into_owned());
        hasher.update(name.unwrap_or_default().as_bytes());
        hasher.update(&[0]);
        let bytes = fs::read(file).map_err(io_error("read", file))?;
        hasher.update(&(bytes.len() as u64).to_le_bytes());
        hasher.update(&bytes);
    }
    let hash = hasher.finalize().to_hex().to_string();
    known.retain(|(dir, _, _)| dir != source_dir);
    known.push((source_dir.to_path_buf(), files, hash.clone()));
    Ok(hash)
}

/// The marker contents: a dictionary built by anything else is rebuilt.
fn marker_contents() -> String {
    format!(
        "lindera {}\nformat {DICTIONARY_FORMAT_VERSION}\n",
        lindera::get_version()
    )
}

fn is_complete(dir: &Path) -> bool {
    fs::read_to_string(dir.join(MARKER_FILE)).is_ok_and(|found| found == marker_contents())
}

fn load(dir: &Path) -> Result<Dictionary, DictionaryError> {
    load_fs_dictionary_with_options(dir, true).map_err(|source| DictionaryError::Load {
        path: dir.to_path_buf(),
        source,
    })
}

/// Compiles the source into `output_dir`, makes it durable, then writes the marker.
fn build_into(source_dir: &Path, output_dir: &Path) -> Result<(), DictionaryError> {
    let metadata =
        Metadata::load(IPADIC_METADATA_JSON.as_bytes()).map_err(DictionaryError::Metadata)?;
    DictionaryBuilder::new(metadata)
        .build_dictionary(source_dir, output_dir)
        .map_err(|source| DictionaryError::Build {
            source_dir: source_dir.to_path_buf(),
            output_dir: output_dir.to_path_buf(),
            source,
        })?;
    // Flush the artifacts before the marker so a crash cannot leave a marked
    // but truncated dictionary behind.
    let entries = fs::read_dir(output_dir).map_err(io_error("list", output_dir))?;
    for entry in entries {
        let path = entry.map_err(io_error("list", output_dir))?.path();
        sync_file(&path)?;
    }
    let marker = output_dir.join(MARKER_FILE);
    fs::write(&marker, marker_contents()).map_err(io_error("write", &marker))?;
    sync_file(&marker)?;
    // Directory fsync is best effort: not every platform can open a directory.
    if let Ok(dir) = File::open(output_dir) {
        let _ = dir.sync_all();
    }
    Ok(())
}

fn sync_file(path: &Path) -> Result<(), DictionaryError> {
    File::open(path)
        .and_then(|file| file.sync_all())
        .map_err(io_error("sync", path))
}

/// Moves the finished build at `tmp` to `target`. Whoever renames first wins;
/// a loser discards its own build and uses the winner's.
fn publish(tmp: &Path, target: &Path, cache_dir: &Path) -> Result<(), DictionaryError> {
    let mut last_error = None;
    for _ in 0..3 {
        match fs::rename(tmp, target) {
            Ok(()) => {
                debug!(path = %target.display(), "published IPADIC dictionary");
                return Ok(());
            }
            Err(_) if is_complete(target) => {
                debug!(path = %target.display(), "another process published IPADIC first");
                remove_quietly(tmp);
                return Ok(());
            }
            Err(err) if target.exists() => {
                // A dictionary from another lindera version (or a damaged one)
                // is in the way: move it aside, delete it, and try again.
                // Readers that already mapped its files keep them.
                warn!(path = %target.display(), "replacing stale IPADIC dictionary");
                let aside = unique_sibling(cache_dir, "old");
                match fs::rename(target, &aside) {
                    Ok(()) => remove_quietly(&aside),
                    Err(gone) if gone.kind() == io::ErrorKind::NotFound => {}
                    Err(source) => {
                        remove_quietly(tmp);
                        return Err(DictionaryError::Io {
                            action: "move aside the stale dictionary",
                            path: target.to_path_buf(),
                            source,
                        });
                    }
                }
                last_error = Some(err);
            }
            Err(err) => last_error = Some(err),
        }
    }
    remove_quietly(tmp);
    let source = last_error.unwrap_or_else(|| io::Error::other("rename kept failing"));
    Err(DictionaryError::Io {
        action: "publish the built dictionary as",
        path: target.to_path_buf(),
        source,
    })
}

/// `cache_dir/ipadic.<kind>-<pid>-<nanos>-<n>`, unique to this call.
fn unique_sibling(cache_dir: &Path, kind: &str) -> PathBuf {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_nanos());
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let pid = std::process::id();
    cache_dir.join(format!("{DICTIONARY_DIR}.{kind}-{pid}-{nanos}-{n}"))
}

/// Deletes temporary or set-aside directories left behind by crashed
/// processes. Young ones may still be in use and are left alone.
fn remove_abandoned(cache_dir: &Path) {
    let Ok(entries) = fs::read_dir(cache_dir) else {
        return;
    };
    let prefixes = [
        format!("{DICTIONARY_DIR}.tmp-"),
        format!("{DICTIONARY_DIR}.old-"),
    ];
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if !prefixes
            .iter()
            .any(|prefix| name.starts_with(prefix.as_str()))
        {
            continue;
        }
        let age = entry
            .metadata()
            .and_then(|meta| meta.modified())
            .ok()
            .and_then(|modified| modified.elapsed().ok());
        if age.is_some_and(|age| age > ABANDONED_AFTER) {
            debug!(path = %entry.path().display(), "removing abandoned IPADIC build");
            remove_quietly(&entry.path());
        }
    }
}

fn remove_quietly(dir: &Path) {
    if let Err(err) = fs::remove_dir_all(dir)
        && err.kind() != io::ErrorKind::NotFound
    {
        warn!(path = %dir.display(), error = %err, "could not remove directory");
    }
}
