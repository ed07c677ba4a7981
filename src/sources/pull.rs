//! Pulls a source's export over HTTP(S) on a schedule (`pull = { url, every
//! }`), so a CRM's scheduled export link can be followed. Each fetch sends
//! the ETag and Last-Modified of the previous one (If-None-Match,
//! If-Modified-Since); a 304 writes nothing. A new export is streamed to a
//! hidden `.name.part` file in the source's folder and renamed into place, so
//! readers and the watcher never see half a file; the source is then run.
//!
//! Credentials go in headers read from environment variables
//! (`pull_headers.rs`), never in the logged URL.
//!
//! It must never write outside the source's folder, nor leave a partial file
//! under the export's name.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::{ETAG, IF_MODIFIED_SINCE, IF_NONE_MATCH, LAST_MODIFIED};
use tokio::io::AsyncWriteExt;
use tracing::Instrument;

use super::host::SourceHost;
use super::runner::Runner;
use super::status::PullState;
use crate::config::{PullConfig, SourceConfig};

#[derive(Debug, thiserror::Error)]
pub enum PullError {
    #[error("HTTP request failed: {0}")]
    Http(#[from] reqwest::Error),
    #[error("the server answered {0}")]
    Status(StatusCode),
    #[error(transparent)]
    Credentials(#[from] super::pull_headers::HeaderError),
    #[error("cannot write {path}: {source}")]
    Write {
        path: String,
        source: std::io::Error,
    },
}

/// What one fetch did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fetched {
    New,
    NotModified,
}

/// Fetches now and then every `pull.every`, for as long as the task lives.
pub async fn run(app: Arc<dyn SourceHost>, source: SourceConfig, pull: PullConfig, runner: Runner) {
    let every = pull.interval().unwrap_or(Duration::from_secs(3600));
    let client = match reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(30))
        .timeout(Duration::from_secs(3600))
        .user_agent(concat!("rapport/", env!("CARGO_PKG_VERSION")))
        .build()
    {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(source = %source.name, error = %e, "cannot build the HTTP client; pull disabled");
            return;
        }
    };
    loop {
        let span = tracing::info_span!("pull", source = %source.name, url = %pull.url);
        let mut state = app.pull_state(&source.name).unwrap_or_default();
        state.last_attempt = Some(chrono::Utc::now());
        match fetch(&client, &pull, &source.path, &mut state)
            .instrument(span)
            .await
        {
            Ok(Fetched::New) => {
                state.outcome = Some("fetched".into());
                state.error = None;
                state.fetches += 1;
                tracing::info!(source = %source.name, "pulled a new export");
                runner.request(&source.name, "pull");
            }
            Ok(Fetched::NotModified) => {
                state.outcome = Some("not_modified".into());
                state.error = None;
                state.not_modified += 1;
                tracing::debug!(source = %source.name, "export not modified");
            }
            Err(e) => {
                state.outcome = Some("failed".into());
                state.error = Some(e.to_string());
                tracing::warn!(source = %source.name, error = %e, "pull failed");
            }
        }
        if let Err(e) = app.save_pull_state(&source.name, &state) {
            tracing::warn!(source = %source.name, error = %e, "cannot save the pull state");
        }
        tokio::time::sleep(every).await;
    }
}

/// One conditional GET; on 200 the body replaces the export file.
pub async fn fetch(
    client: &reqwest::Client,
    pull: &PullConfig,
    folder: &Path,
    state: &mut PullState,
) -> Result<Fetched, PullError> {
    let headers = super::pull_headers::from_env(&pull.headers, |var| std::env::var(var).ok())?;
    let mut request = client.get(&pull.url).headers(headers);
    if let Some(etag) = &state.etag {
        request = request.header(IF_NONE_MATCH, etag);
    }
    if let Some(modified) = &state.last_modified {
        request = request.header(IF_MODIFIED_SINCE, modified);
    }
    let mut response = request.send().await?;
    if response.status() == StatusCode::NOT_MODIFIED {
        return Ok(Fetched::NotModified);
    }
    if !response.status().is_success() {
        return Err(PullError::Status(response.status()));
    }
    let header = |name| {
        response
            .headers()
            .get(name)
            .and_then(|v: &reqwest::header::HeaderValue| v.to_str().ok())
            .map(str::to_string)
    };
    let (etag, modified) = (header(ETAG), header(LAST_MODIFIED));
    let name = pull.file_name();
    let target = folder.join(&name);
    let partial = folder.join(format!(".{name}.part"));
    let write_error = |path: &PathBuf| {
        let path = path.display().to_string();
        move |source| PullError::Write { path, source }
    };
    tokio::fs::create_dir_all(folder)
        .await
        .map_err(write_error(&folder.to_path_buf()))?;
    let mut file = tokio::fs::File::create(&partial)
        .await
        .map_err(write_error(&partial))?;
    let written: Result<(), PullError> = async {
        while let Some(chunk) = response.chunk().await? {
            file.write_all(&chunk)
                .await
                .map_err(write_error(&partial))?;
        }
        file.sync_all().await.map_err(write_error(&partial))?;
        Ok(())
    }
    .await;
    if let Err(e) = written {
        let _ = tokio::fs::remove_file(&partial).await;
        return Err(e);
    }
    tokio::fs::rename(&partial, &target)
        .await
        .map_err(write_error(&target))?;
    state.etag = etag;
    state.last_modified = modified;
    Ok(Fetched::New)
}
