//! phoneleak's integration tests, as one test binary (`cargo test --test it`):
//! one module a subject. Select one with a filter on its module path, e.g.
//! `cargo test --test it fixtures::`, or `cargo test --test it -- --ignored
//! html_report::` for the browser test.
// Test code: a panic is a failed check (Cargo.toml denies these in src/).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod bodies;
mod common;
mod contract;
mod corpus;
mod damaged;
mod decode_etherparse;
mod diff;
mod discover;
mod engines;
mod fixtures;
mod gtpu_bench;
mod h2_client;
mod h2_fixtures;
mod h2c_rewrite;
mod hostile;
mod hostile_content;
mod html_report;
mod inputs;
#[cfg(feature = "live")]
mod live;
#[cfg(not(feature = "live"))]
mod live_disabled;
mod masking;
mod merge;
mod middlebox;
mod netlab;
mod options;
mod provenance;
mod readme;
mod real_captures;
mod real_h2_tls;
mod real_tls;
mod shard;
mod shell;
mod split;
mod tls_fixtures;
