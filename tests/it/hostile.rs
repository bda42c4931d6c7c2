//! Small-scale versions of the memory-bound measurements (docs/robustness.md):
//! each hostile capture, with limits scaled down alike, must show in the
//! counters what was dropped and still report the legitimate leaking request.
//! The full-size runs (with peak memory) are `bench/hostile.sh`.
use std::path::PathBuf;
use std::process::Command;

use fixturegen::hostile::{self, Attack, LEGIT_CLIENT, LEGIT_URI};
use serde_json::Value;

/// Generates the capture, scans it with `limits`, returns (requests, summary).
fn scan(attack: Attack, scale: u64, limits: &[&str]) -> (Vec<Value>, Value) {
    let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("{}.pcap", attack.name()));
    let file = std::fs::File::create(&path).expect("create");
    hostile::write(attack, scale, std::io::BufWriter::new(file)).expect("write");
    let out = Command::new(env!("CARGO_BIN_EXE_phoneleak"))
        .args(["scan", "--format", "jsonl"])
        .args(limits)
        .arg(&path)
        .output()
        .expect("run phoneleak");
    let _ = std::fs::remove_file(&path);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}: {}",
        attack.name(),
        String::from_utf8_lossy(&out.stderr)
    );
    let mut lines: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON"))
        .collect();
    let summary = lines.pop().expect("summary");
    (lines, summary)
}

fn assert_legit_reported(requests: &[Value], attack: Attack) {
    let legit = requests
        .iter()
        .find(|r| r["uri"] == LEGIT_URI)
        .unwrap_or_else(|| panic!("{}: the legitimate request was not reported", attack.name()));
    assert_eq!(legit["leaks"][0]["header"], "X-MSISDN");
    if attack != Attack::Pipelined {
        assert_eq!(legit["src"], LEGIT_CLIENT);
    }
}

#[test]
fn syn_flood_evicts_and_keeps_reporting() {
    let (requests, s) = scan(Attack::SynFlood, 20_000, &["--max-flows", "1000"]);
    assert_legit_reported(&requests, Attack::SynFlood);
    assert!(s["flow"]["flows"].as_u64().unwrap() >= 20_000);
    // At most 1,000 tracked at once: all but the last 1,000 were evicted.
    assert!(s["flow"]["flows_evicted"].as_u64().unwrap() >= 19_000);
}

#[test]
fn out_of_order_upload_forces_gaps() {
    let (requests, s) = scan(Attack::OutOfOrder, 4, &["--max-ooo-bytes", "262144"]);
    assert_legit_reported(&requests, Attack::OutOfOrder);
    let forced = s["flow"]["gaps_forced_by_direction_cap"].as_u64().unwrap();
    assert!(forced >= 3, "{}", s["flow"]);
}

/// 40 TLS connections hold 320 KiB of ciphertext each while their keys
/// never come: each is cut at the 256 KiB per-connection cap or earlier by
/// `--tls-memcap` (1 MiB over all flows), every cut counted, each
/// connection counted once as held too long; nothing of it is parsed.
#[test]
fn tls_ciphertext_waiting_for_keys_is_capped() {
    for threads in ["1", "2"] {
        let (requests, s) = scan(
            Attack::TlsHeld,
            40,
            &["--tls-memcap", "1048576", "--threads", threads],
        );
        assert_legit_reported(&requests, Attack::TlsHeld);
        let reported = requests.iter().filter(|r| r["type"] == "request").count();
        assert_eq!(reported, 1, "only the legitimate request");
        let t = &s["tls"];
        assert_eq!(t["connections"].as_u64(), Some(40), "{t}");
        assert_eq!(t["held_too_long"].as_u64(), Some(40), "{t}");
        // More cuts than connections: the global cap cut some flows before
        // their own cap could.
        let cuts = t["held_cuts"].as_u64().unwrap();
        assert!(cuts >= 40, "{t}");
        assert_eq!(t["records_decrypted"].as_u64(), Some(0), "{t}");
    }
    // Without --tls-memcap below the total, only the per-connection cap cuts.
    let (_, s) = scan(Attack::TlsHeld, 8, &["--threads", "1"]);
    assert_eq!(s["tls"]["held_cuts"].as_u64(), Some(8), "{}", s["tls"]);
    assert_eq!(s["tls"]["held_too_long"].as_u64(), Some(8), "{}", s["tls"]);
}

#[test]
fn endless_headers_are_cut_at_the_limit() {
    let (requests, s) = scan(Attack::EndlessHeaders, 40, &["--max-header-bytes", "16384"]);
    assert_legit_reported(&requests, Attack::EndlessHeaders);
    assert_eq!(s["http"]["heads_over_limit"].as_u64(), Some(40));
    let cut: Vec<&Value> = requests.iter().filter(|r| r["truncated"] == true).collect();
    assert!(cut.is_empty(), "only leaking requests are printed");
}

#[test]
fn candidate_lines_of_resynchronising_streams_stay_in_the_head_budget() {
    // 6,000 streams each holding a candidate request line of 8,000 bytes
    // would need 47 MiB; the partial-head budget is 32 MiB.
    let (requests, s) = scan(Attack::ResyncLines, 6000, &["--threads", "1"]);
    assert_legit_reported(&requests, Attack::ResyncLines);
    let h = &s["http"];
    assert!(h["requests"].as_u64().unwrap() > 6001, "{h}");
    // Past the budget, candidates are cut at the room left and reported
    // truncated, like heads over their limit.
    let cut = h["heads_over_limit"].as_u64().unwrap();
    assert!((1000..=3000).contains(&cut), "{h}");
    assert!(h["heads_cut_by_memcap"].as_u64().unwrap() > 0, "{h}");
}

#[test]
fn fragment_flood_is_evicted_by_the_memcap() {
    let (requests, s) = scan(Attack::FragmentFlood, 20, &["--defrag-memcap", "262144"]);
    assert_legit_reported(&requests, Attack::FragmentFlood);
    let d = &s["decode"]["defrag"];
    assert!(d["dropped_memcap"].as_u64().unwrap() > 15_000, "{d}");
    assert_eq!(d["completed"].as_u64(), Some(1));
    assert!(s["decode"]["ip_fragment"].as_u64().unwrap() >= 20_000);
}

#[test]
fn pipelined_requests_stream_through() {
    let (requests, s) = scan(Attack::Pipelined, 20, &[]);
    assert_legit_reported(&requests, Attack::Pipelined);
    assert_eq!(s["http"]["requests"].as_u64(), Some(20_000));
    assert_eq!(s["leaking_requests"].as_u64(), Some(1));
}
