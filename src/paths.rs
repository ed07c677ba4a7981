//! Path helpers shared by the connectors (a source file's name relative to
//! its folder) and snapshots (the files listed in a manifest).
//!
//! It must never touch the filesystem: it only rewrites names.

use std::path::Path;

/// `path` relative to `root`, its components joined with `/` whatever the
/// platform (the whole path when it is not under `root`).
pub fn slash_relative(root: &Path, path: &Path) -> String {
    path.strip_prefix(root)
        .unwrap_or(path)
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/")
}
