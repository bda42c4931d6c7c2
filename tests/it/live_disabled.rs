//! A build without the `live` feature (the default) answers `phoneleak live`
//! and `phoneleak interfaces` with a message naming the feature and libpcap,
//! and exit status 2.
use std::process::Command;

fn phoneleak(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_phoneleak"))
        .args(args)
        .output()
        .expect("run phoneleak")
}

#[test]
fn live_and_interfaces_name_the_missing_feature() {
    for args in [
        &["live"][..],
        &[
            "live",
            "-i",
            "eth0",
            "-f",
            "tcp port 80",
            "--duration",
            "10m",
        ],
        &["live", "--format", "jsonl"],
        &["interfaces"],
    ] {
        let out = phoneleak(args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(out.stdout.is_empty(), "{args:?}");
        assert!(
            err.contains("without the `live` cargo feature")
                && err.contains("--features live")
                && err.contains("libpcap"),
            "{args:?}: {err}"
        );
    }
}
