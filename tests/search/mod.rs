//! Customer-centric search end to end: a customer book in a real data
//! directory, served by the real binary on 127.0.0.1, queried over HTTP and
//! the CLI. Relevance cases a person would judge, grouping, paging, sorting,
//! filters, disjunctive facets, aggregations checked against the store,
//! suggestions and parameter errors.

mod fixture;
#[cfg(feature = "bench")]
mod golden_corpus;
mod hierarchical_facets;
#[cfg(feature = "bench")]
mod identical_results;
mod inexact_and_ranges;
#[cfg(feature = "bench")]
mod layout_independent;
mod parallel_ranges;
mod queries;
mod results;
mod snippets;
mod top_groups;
