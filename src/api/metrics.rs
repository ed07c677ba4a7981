//! `GET /metrics`: what a Prometheus server scrapes. Every request through
//! the router is counted by method, route template and status, and timed
//! into a latency histogram per route ([`track`]); the store's and the
//! index's sizes, how far the index lags the store, and the jobs waiting or
//! running are read at scrape time. The encoding is prometheus-client's
//! (the Prometheus project's own Rust client).
//!
//! It must never label a series with anything a caller chooses (a query, an
//! id, a path that matched no route): only route templates such as
//! `/v1/customers/{id}`, so that the number of series stays bounded.

use std::sync::Arc;
use std::time::Instant;

use axum::Extension;
use axum::Router;
use axum::extract::{Request, State};
use axum::http::header::CONTENT_TYPE;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

use super::ApiError;
use crate::engine::Rapport;
use crate::jobs::JobState;

/// The content type of the OpenMetrics text format, which prometheus-client
/// writes (`# EOF` at the end) and Prometheus scrapes.
pub const CONTENT_TYPE_TEXT: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Upper bounds of the latency buckets, in seconds: from a light search
/// (well under a millisecond) to an export of everything.
const LATENCY_BUCKETS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// The label of requests that matched no route.
const UNMATCHED: &str = "unmatched";

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: String,
    route: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct JobLabels {
    state: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CacheLabels {
    cache: &'static str,
}

/// The server's series, one set per router.
pub struct HttpMetrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Family<RouteLabels, Histogram>,
    in_flight: Gauge,
    store_records: Gauge,
    index_documents: Gauge,
    index_lag: Gauge,
    resolved_records: Gauge,
    jobs: Family<JobLabels, Gauge>,
    cache_bytes: Family<CacheLabels, Gauge>,
    cache_budget: Family<CacheLabels, Gauge>,
    cache_entries: Family<CacheLabels, Gauge>,
    cache_hits: Family<CacheLabels, Gauge>,
    cache_misses: Family<CacheLabels, Gauge>,
}

impl HttpMetrics {
    pub fn new() -> HttpMetrics {
        let mut registry = Registry::with_prefix("rapport");
        let requests = Family::<RequestLabels, Counter>::default();
        let latency = Family::<RouteLabels, Histogram>::new_with_constructor(
            (|| Histogram::new(LATENCY_BUCKETS)) as fn() -> Histogram,
        );
        let in_flight = Gauge::default();
        let store_records = Gauge::default();
        let index_documents = Gauge::default();
        let index_lag = Gauge::default();
        let resolved_records = Gauge::default();
        let jobs = Family::<JobLabels, Gauge>::default();
        let cache_bytes = Family::<CacheLabels, Gauge>::default();
        let cache_budget = Family::<CacheLabels, Gauge>::default();
        let cache_entries = Family::<CacheLabels, Gauge>::default();
        let cache_hits = Family::<CacheLabels, Gauge>::default();
        let cache_misses = Family::<CacheLabels, Gauge>::default();
        registry.register(
            "http_requests",
            "HTTP requests answered, by method, route template and status",
            requests.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "Time from a request's arrival to its response's headers, by route template",
            latency.clone(),
        );
        registry.register(
            "http_requests_in_flight",
            "HTTP requests being answered now",
            in_flight.clone(),
        );
        registry.register(
            "store_records",
            "Records in the store",
            store_records.clone(),
        );
        registry.register(
            "index_documents",
            "Documents in the live index",
            index_documents.clone(),
        );
        registry.register(
            "index_lag_writes",
            "Store writes the index has not applied yet",
            index_lag.clone(),
        );
        registry.register(
            "resolution_last_records",
            "Records the last resolution re-resolved (the whole book for a full pass, fewer after a small change)",
            resolved_records.clone(),
        );
        registry.register(
            "jobs",
            "Jobs queued or running (of those the server keeps)",
            jobs.clone(),
        );
        for (name, help, family) in [
            (
                "search_cache_bytes",
                "Bytes a search cache holds now",
                &cache_bytes,
            ),
            (
                "search_cache_budget_bytes",
                "Bytes a search cache may hold ([search_caches] in rapport.toml)",
                &cache_budget,
            ),
            (
                "search_cache_entries",
                "Entries a search cache holds now",
                &cache_entries,
            ),
            (
                "search_cache_hits",
                "Lookups a search cache answered since the process started",
                &cache_hits,
            ),
            (
                "search_cache_misses",
                "Lookups a search cache could not answer since the process started",
                &cache_misses,
            ),
        ] {
            registry.register(name, help, family.clone());
        }
        HttpMetrics {
            registry,
            cache_bytes,
            cache_budget,
            cache_entries,
            cache_hits,
            cache_misses,
            requests,
            latency,
            in_flight,
            store_records,
            index_documents,
            index_lag,
            resolved_records,
            jobs,
        }
    }

    fn observe(&self, method: String, route: String, status: u16, seconds: f64) {
        let request = RequestLabels {
            method,
            route,
            status,
        };
        self.requests.get_or_create(&request).inc();
        self.latency
            .get_or_create(&RouteLabels {
                route: request.route,
            })
            .observe(seconds);
    }

    /// The exposition text, with the gauges read from `app` now.
    fn render(&self, app: &Rapport) -> Result<String, ApiError> {
        let status = app.status()?;
        self.store_records.set(saturating_i64(status.records));
        self.index_documents
            .set(saturating_i64(status.indexed_documents));
        self.index_lag.set(saturating_i64(
            status.store_seq.saturating_sub(status.index_seq),
        ));
        self.resolved_records
            .set(saturating_i64(app.last_resolved_records()));
        let views = app.jobs().list();
        for state in [JobState::Queued, JobState::Running] {
            let count = views.iter().filter(|v| v.state == state).count();
            self.jobs
                .get_or_create(&JobLabels {
                    state: state.as_str(),
                })
                .set(saturating_i64(count as u64));
        }
        for used in app.cache_usage() {
            let labels = CacheLabels { cache: used.cache };
            let set = |family: &Family<CacheLabels, Gauge>, value: u64| {
                family.get_or_create(&labels).set(saturating_i64(value));
            };
            set(&self.cache_bytes, used.bytes as u64);
            set(&self.cache_budget, used.budget_bytes as u64);
            set(&self.cache_entries, used.entries as u64);
            if let (Some(hits), Some(misses)) = (used.hits, used.misses) {
                set(&self.cache_hits, hits);
                set(&self.cache_misses, misses);
            }
        }
        let mut text = String::new();
        encode(&mut text, &self.registry).map_err(ApiError::internal)?;
        Ok(text)
    }
}

impl Default for HttpMetrics {
    fn default() -> Self {
        HttpMetrics::new()
    }
}

fn saturating_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// Middleware: counts and times each request under its route template.
pub async fn track(
    State(metrics): State<Arc<HttpMetrics>>,
    request: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    let method = request.method().as_str().to_string();
    let route = super::route_template(&request).unwrap_or_else(|| UNMATCHED.to_string());
    metrics.in_flight.inc();
    let response = next.run(request).await;
    metrics.in_flight.dec();
    metrics.observe(
        method,
        route,
        response.status().as_u16(),
        started.elapsed().as_secs_f64(),
    );
    response
}

pub fn routes() -> Router<Arc<Rapport>> {
    Router::new().route("/metrics", get(scrape))
}

async fn scrape(
    State(app): State<Arc<Rapport>>,
    Extension(metrics): Extension<Arc<HttpMetrics>>,
) -> Result<Response, ApiError> {
    let text = tokio::task::spawn_blocking(move || metrics.render(&app)).await??;
    Ok(([(CONTENT_TYPE, CONTENT_TYPE_TEXT)], text).into_response())
}
