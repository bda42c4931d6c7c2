//! Writes phoneleak's test captures and their truth files.
//!
//! `cargo run --example gen_fixtures [OUTPUT_DIR]` (default `fixtures`):
//! each fixture goes to `OUTPUT_DIR/<name>` and its truth to
//! `OUTPUT_DIR/<stem>.truth.json`. The output is deterministic.
// Test code: a panic is a failed check (Cargo.toml denies these in src/).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::path::PathBuf;

fn main() -> std::io::Result<()> {
    let dir = PathBuf::from(std::env::args().nth(1).unwrap_or_else(|| "fixtures".into()));
    std::fs::create_dir_all(&dir)?;
    for f in fixturegen::all() {
        std::fs::write(dir.join(f.name), &f.bytes)?;
        std::fs::write(dir.join(f.truth_name()), f.truth_json())?;
        println!(
            "{:<28} {:>7} bytes  {:>3} requests{}",
            f.name,
            f.bytes.len(),
            f.truth.requests.len(),
            if f.truth.optional_requests.is_empty() {
                String::new()
            } else {
                format!(" (+{} optional)", f.truth.optional_requests.len())
            }
        );
    }
    // The `phoneleak diff` pairs of the README (no truth file: the diff
    // tests hold what must be reported).
    for p in fixturegen::vantage::bundled() {
        std::fs::write(dir.join(p.before_name()), &p.before)?;
        std::fs::write(dir.join(p.after_name()), &p.after)?;
        println!("{:<28} {:>7} bytes", p.before_name(), p.before.len());
        println!("{:<28} {:>7} bytes", p.after_name(), p.after.len());
    }
    Ok(())
}
