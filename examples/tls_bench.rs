//! Puts a plain capture's TCP connections inside TLS 1.3 (AES-128-GCM), for
//! the TLS row of the benchmark (`bench/run.sh`):
//!
//! `cargo run --release --example tls_bench -- IN.pcap OUT.pcap OUT.keys`
//!
//! The same packets at the same times, each connection a real rustls
//! connection; the key log opens every connection whose handshake is in the
//! capture (`fixturegen::tls::rewrap`). Deterministic.
// Generator code: a panic is a failed run (Cargo.toml denies these in src/).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [input, output, keys] = args.as_slice() else {
        eprintln!("usage: tls_bench IN.pcap OUT.pcap OUT.keys");
        std::process::exit(2);
    };
    let plain = std::fs::read(input)?;
    let (capture, keylog) =
        fixturegen::tls::rewrap::rewrap(&plain, fixturegen::tls::session::Suite::Tls13Aes128Gcm, 1);
    std::fs::write(output, capture)?;
    std::fs::write(keys, keylog)?;
    Ok(())
}
