//! Searching and analysing from the command line without opening the data
//! directory for writing: the index is opened read-only (a server may hold
//! the store meanwhile), with the schema, analyzers and synonyms of the
//! configuration.
//!
//! It must never write: no catch-up, no commit, no dictionary in the data
//! directory beyond what loading the analyzers caches.

use crate::config::Config;
use crate::index::SearchIndex;
use crate::index::search::caches::SearchCaches;
use crate::index::search::{self, AnalyzedToken, SearchRequest, SearchResponse};

use super::{EngineError, load_analyzers, load_schema, load_synonyms};

/// Runs one search on the index as last committed.
pub fn search_read_only(
    config: &Config,
    request: &SearchRequest,
) -> Result<SearchResponse, EngineError> {
    let mut index = SearchIndex::open_read_only(
        &config.index_dir(),
        load_schema(config)?,
        load_analyzers(config)?,
    )?;
    index.set_synonyms(load_synonyms(config)?);
    index.set_caches(std::sync::Arc::new(SearchCaches::new(config.search_caches)));
    Ok(index.search(request)?)
}

/// The tokens `text` becomes in `field`, as the configuration analyses it.
pub fn analyze_text(
    config: &Config,
    field: &str,
    text: &str,
) -> Result<Vec<AnalyzedToken>, EngineError> {
    Ok(search::analyze(
        &load_schema(config)?,
        &load_analyzers(config)?,
        field,
        text,
    )?)
}
