//! Rewrites a plain capture's HTTP/1.x connections as h2c by prior
//! knowledge, for the h2c row of the benchmark (`bench/run.sh`):
//!
//! `cargo run --release --example h2c_bench -- IN.pcap OUT.pcap`
//!
//! The same requests at the same packet times, each connection an HTTP/2
//! one; other packets copied unchanged (`fixturegen::h2::rewrite`).
//! Deterministic. Prints what it rewrote on standard error.
// Generator code: a panic is a failed run (Cargo.toml denies these in src/).
#![allow(clippy::unwrap_used, clippy::expect_used)]

fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [input, output] = args.as_slice() else {
        eprintln!("usage: h2c_bench IN.pcap OUT.pcap");
        std::process::exit(2);
    };
    let plain = std::fs::read(input)?;
    let (capture, counts) = fixturegen::h2::rewrite::rewrite(&plain);
    std::fs::write(output, capture)?;
    eprintln!("{counts:?}");
    Ok(())
}
