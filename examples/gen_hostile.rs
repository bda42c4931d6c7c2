//! Writes the hostile captures of the memory-bound measurements
//! (docs/robustness.md, bench/hostile.sh). Never committed: they are large.
//!
//! `cargo run --release --example gen_hostile -- ATTACK OUT.pcap [SCALE]`
//! where ATTACK is syn-flood, ooo-gigabyte, endless-headers, fragment-flood
//! pipelined or distinct-leaks, and SCALE defaults to the full size (see
//! fixturegen/src/hostile.rs: 1 000 000 SYNs, 1024 MiB, 2000 connections,
//! 3000 thousand fragments, 5000 thousand requests, 1000 thousand leaks).
// Test code: a panic is a failed check (Cargo.toml denies these in src/).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::io::BufWriter;
use std::process::ExitCode;

use fixturegen::hostile::{self, Attack};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(name), Some(out)) = (args.first(), args.get(1)) else {
        eprintln!("usage: gen_hostile ATTACK OUT.pcap [SCALE]");
        return ExitCode::from(2);
    };
    let Some(attack) = Attack::from_name(name) else {
        let names: Vec<&str> = Attack::ALL.iter().map(|a| a.name()).collect();
        eprintln!("unknown attack {name}; one of {}", names.join(", "));
        return ExitCode::from(2);
    };
    let scale = match args.get(2).map(|s| s.parse::<u64>()) {
        None => attack.default_scale(),
        Some(Ok(n)) => n,
        Some(Err(e)) => {
            eprintln!("bad scale: {e}");
            return ExitCode::from(2);
        }
    };
    let file = match std::fs::File::create(out) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("{out}: {e}");
            return ExitCode::from(2);
        }
    };
    match hostile::write(attack, scale, BufWriter::with_capacity(1 << 20, file)) {
        Ok(packets) => {
            println!(
                "{out}: {} at scale {scale}, {packets} packets",
                attack.name()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{out}: {e}");
            ExitCode::from(2)
        }
    }
}
