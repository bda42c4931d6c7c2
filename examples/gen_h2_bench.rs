//! Writes the HTTP/2 benchmark pair: the same requests over HTTP/1.1 and over
//! h2c (`fixturegen::h2::bench_pair`), to compare phoneleak's time on both.
//!
//! `cargo run --release --example gen_h2_bench [CONNECTIONS] [OUTPUT_DIR]`
//! (default 2000 connections of 10 requests, `target/h2-bench`); then e.g.
//! `hyperfine 'phoneleak scan --threads 1 --all-requests --format jsonl DIR/h1.pcap'
//! 'phoneleak scan --threads 1 --all-requests --format jsonl DIR/h2c.pcap'`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let conns: u32 = args
        .next()
        .map_or(2000, |a| a.parse().expect("a number of connections"));
    let dir = PathBuf::from(args.next().unwrap_or_else(|| "target/h2-bench".into()));
    std::fs::create_dir_all(&dir)?;
    let (h1, h2) = fixturegen::h2::bench_pair(conns);
    std::fs::write(dir.join("h1.pcap"), &h1)?;
    std::fs::write(dir.join("h2c.pcap"), &h2)?;
    println!("h1.pcap {} bytes, h2c.pcap {} bytes", h1.len(), h2.len());
    Ok(())
}
