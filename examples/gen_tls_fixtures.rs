//! Writes phoneleak's TLS test captures, their truth files and key logs.
//!
//! `cargo run --example gen_tls_fixtures [OUTPUT_DIR]` (default
//! `fixtures/tls`): each capture goes to `OUTPUT_DIR/<name>`, its truth to
//! `OUTPUT_DIR/<stem>.truth.json` and its key log to `OUTPUT_DIR/<stem>.keys`
//! (for captures with their keys in a Decryption Secrets Block, the same
//! secrets, for reference). The output is deterministic.
// Test code: a panic is a failed check (Cargo.toml denies these in src/).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::path::PathBuf;

fn main() -> std::io::Result<()> {
    let dir = PathBuf::from(
        std::env::args()
            .nth(1)
            .unwrap_or_else(|| "fixtures/tls".into()),
    );
    std::fs::create_dir_all(&dir)?;
    for f in fixturegen::tls::all() {
        std::fs::write(dir.join(f.fixture.name), &f.fixture.bytes)?;
        std::fs::write(dir.join(f.fixture.truth_name()), f.fixture.truth_json())?;
        std::fs::write(dir.join(f.keylog_name()), &f.keylog)?;
        println!(
            "{:<34} {:>7} bytes  {:>3} requests{}{}",
            f.fixture.name,
            f.fixture.bytes.len(),
            f.fixture.truth.requests.len(),
            if f.fixture.truth.optional_requests.is_empty() {
                String::new()
            } else {
                format!(" (+{} optional)", f.fixture.truth.optional_requests.len())
            },
            if f.keys_in_dsb { "  keys in DSB" } else { "" }
        );
    }
    Ok(())
}
