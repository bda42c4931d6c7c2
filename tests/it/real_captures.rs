//! Runs phoneleak on the real captures kept beside the project (not copied into
//! it: their licences differ) and compares the request count with tshark's
//! (`tshark -2 -o tcp.reassemble_out_of_order:TRUE --enable-heuristic http_tcp -Y http.request`).
//! None of them carries a phone number: any leak is a false alarm.
//!
//! The folder is `$PHONELEAK_REAL_CAPTURES`, else `../shared/captures` beside the
//! checkout, else `/work/shared/captures`. The test is `#[ignore]`d, so that a
//! plain `cargo test` counts it as ignored rather than passing it where the
//! captures are missing: run it with `cargo test --test it -- --ignored
//! real_captures::` (it fails when no folder is found; `.ci/run` runs it where the
//! captures exist and says so where they do not).
use std::path::PathBuf;
use std::process::Command;

/// (file, requests tshark finds, requests phoneleak must find). They agree on every
/// capture, including the tunnelled ones (GTP-U behind QinQ, GRE over UDP, VXLAN).
const EXPECTED: &[(&str, usize, usize)] = &[
    ("arkime--arkime_synthetic.pcap", 26, 26),
    ("ndpi--KakaoTalk_talk.pcap", 1, 1),
    ("ndpi--android.pcap", 4, 4),
    ("ndpi--http_origin_different_than_host.pcap", 1, 1),
    ("packets--http_espn.pcapng", 61, 61),
    ("packets--weather_working.pcapng", 1, 1),
    ("suricata-verify--connect.pcap", 1, 1),
    ("suricata-verify--input.pcap", 2, 2),
    ("suricata-verify--simple_http_download.onesided.pcap", 3, 3),
    ("suricata-verify--tcp_fastopen_segmentation-s1.pcap", 1, 1),
    ("zeek--gap-recovery.pcap", 10, 10),
    ("zeek--get-to-ssh-server.pcap", 1, 1),
    ("zeek--get-without-fins.pcap", 1, 1),
    ("zeek--gre-over-udp-4754.pcap", 1, 1),
    ("zeek--no_crlf.pcap", 5, 5),
    ("zeek--payload-syn.pcap", 1, 1),
    ("zeek--vxlan-overlapping-http-get.pcap", 1, 1),
    ("zeek--wikipedia.pcap", 15, 15),
    ("zeek--workshop_2011_browse.pcap", 17, 17),
];

fn captures_dir() -> Option<PathBuf> {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let candidates = [
        std::env::var_os("PHONELEAK_REAL_CAPTURES").map(PathBuf::from),
        Some(manifest.join("../shared/captures")),
        Some(PathBuf::from("/work/shared/captures")),
    ];
    candidates
        .into_iter()
        .flatten()
        .find(|p| p.join(EXPECTED[0].0).is_file())
}

#[test]
#[ignore = "needs the real captures: cargo test --test it -- --ignored real_captures::"]
fn request_counts_match_tshark_and_nothing_leaks() {
    let dir = captures_dir().expect("real captures not found (set PHONELEAK_REAL_CAPTURES)");
    let mut failures = Vec::new();
    for (file, tshark, expected) in EXPECTED {
        let out = Command::new(env!("CARGO_BIN_EXE_phoneleak"))
            .args(["scan", "--format", "jsonl", "--all-requests"])
            .arg(dir.join(file))
            .output()
            .expect("run phoneleak");
        let stdout = String::from_utf8_lossy(&out.stdout);
        let requests = stdout
            .lines()
            .filter(|l| l.contains(r#""type":"request""#))
            .count();
        let leaks = stdout
            .lines()
            .filter(|l| l.contains(r#""type":"request""#) && !l.contains(r#""leaks":[]"#))
            .count();
        if requests != *expected || leaks != 0 || out.status.code() != Some(0) {
            failures.push(format!(
                "{file}: {requests} requests (tshark {tshark}, expected {expected}), {leaks} leaking, status {:?}",
                out.status.code()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Findings, their order and every summary counter, in JSON lines and in the
/// text report, are byte-identical for any number of threads.
#[test]
fn output_does_not_depend_on_the_number_of_threads() {
    let Some(dir) = captures_dir() else {
        eprintln!(
            "SKIPPED: real captures not found (set PHONELEAK_REAL_CAPTURES); nothing was checked"
        );
        return;
    };
    let mut failures = Vec::new();
    for (file, _, _) in EXPECTED {
        for format in ["jsonl", "text"] {
            let run = |threads: &str| {
                let out = Command::new(env!("CARGO_BIN_EXE_phoneleak"))
                    .args(["scan", "--threads", threads, "--format", format])
                    .arg("--all-requests")
                    .arg(dir.join(file))
                    .output()
                    .expect("run phoneleak");
                (out.status.code(), out.stdout, out.stderr)
            };
            let one = run("1");
            for threads in ["2", "3", "7"] {
                if run(threads) != one {
                    failures.push(format!(
                        "{file} ({format}): --threads {threads} differs from --threads 1"
                    ));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
