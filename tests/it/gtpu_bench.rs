//! The benchmark's traffic as an S1-U tap sees it: a small `gen_bench.py`
//! capture wrapped by `gtpu_wrap.py --enbs 4 --handover-seconds 7 --mtu 1500`
//! (four base stations, subscribers handed over in the middle of connections,
//! outer IPv4 fragments). The output is byte-identical at every thread count,
//! and the requests and leaks are those of the plain capture and its truth file.
//!
//! The scripts are read from `$PHONELEAK_BENCH_DIR`, else `../shared/bench`
//! beside the checkout, else `/work/shared/bench`; without them or without
//! `python3` the test says so and checks nothing.
use std::path::{Path, PathBuf};
use std::process::Command;

fn bench_dir() -> Option<PathBuf> {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    [
        std::env::var_os("PHONELEAK_BENCH_DIR").map(PathBuf::from),
        Some(manifest.join("../shared/bench")),
        Some(PathBuf::from("/work/shared/bench")),
    ]
    .into_iter()
    .flatten()
    .find(|d| d.join("gen_bench.py").is_file() && d.join("gtpu_wrap.py").is_file())
}

fn python(script: &Path, args: &[&str]) -> bool {
    Command::new("python3")
        .arg(script)
        .args(args)
        .output()
        .is_ok_and(|o| o.status.success())
}

fn scan(threads: &str, format: &str, file: &Path) -> (Option<i32>, Vec<u8>, Vec<u8>) {
    let out = Command::new(env!("CARGO_BIN_EXE_phoneleak"))
        .args(["scan", "--threads", threads, "--format", format])
        .args(["--all-requests", "--show-numbers"])
        .arg(file)
        .output()
        .expect("run phoneleak");
    (out.status.code(), out.stdout, out.stderr)
}

/// (src, dst, method, uri, leaking) of every request line, sorted.
fn requests(jsonl: &[u8], leaks_field: &str) -> Vec<(String, String, String, String, bool)> {
    let mut out: Vec<_> = String::from_utf8_lossy(jsonl)
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["type"] == "request" || v.get("type").is_none())
        .map(|v| {
            let s = |f: &str| v[f].as_str().unwrap_or("").to_string();
            let leaking = v[leaks_field].as_array().is_some_and(|l| !l.is_empty());
            (s("src"), s("dst"), s("method"), s("uri"), leaking)
        })
        .collect();
    out.sort();
    out
}

#[test]
fn gtpu_handovers_and_outer_fragments_give_one_answer_at_any_thread_count() {
    let Some(dir) = bench_dir() else {
        eprintln!(
            "SKIPPED: gen_bench.py/gtpu_wrap.py not found (set PHONELEAK_BENCH_DIR); nothing was checked"
        );
        return;
    };
    if !Command::new("python3")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
    {
        eprintln!("SKIPPED: python3 not found; nothing was checked");
        return;
    }
    let work = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("gtpu-bench");
    std::fs::create_dir_all(&work).expect("create the work folder");
    let plain = work.join("plain.pcap");
    let wrapped = work.join("gtpu.pcap");
    // 3 MB over 37 s of capture time: several handover rounds.
    if !wrapped.is_file() {
        let plain_arg = plain.to_string_lossy().into_owned();
        assert!(
            python(
                &dir.join("gen_bench.py"),
                &[
                    "--size-mb",
                    "3",
                    "--seed",
                    "5",
                    "--flows-per-sec",
                    "1",
                    "--out",
                    &plain_arg
                ]
            ),
            "gen_bench.py failed"
        );
        let wrapped_arg = wrapped.to_string_lossy().into_owned();
        assert!(
            python(
                &dir.join("gtpu_wrap.py"),
                &[
                    "--enbs",
                    "4",
                    "--handover-seconds",
                    "7",
                    "--mtu",
                    "1500",
                    &plain_arg,
                    &wrapped_arg
                ]
            ),
            "gtpu_wrap.py failed"
        );
    }

    for format in ["jsonl", "text"] {
        let one = scan("1", format, &wrapped);
        for threads in ["2", "3", "7"] {
            assert!(
                scan(threads, format, &wrapped) == one,
                "{format}: --threads {threads} differs from --threads 1"
            );
        }
    }

    // The same requests and leaks as the plain capture, and as its truth.
    let (_, gtpu_out, _) = scan("2", "jsonl", &wrapped);
    let (_, plain_out, _) = scan("1", "jsonl", &plain);
    let found = requests(&gtpu_out, "leaks");
    assert_eq!(found, requests(&plain_out, "leaks"));
    let truth = std::fs::read(work.join("plain.truth.jsonl")).expect("the truth file");
    assert_eq!(found, requests(&truth, "leaks"));
    assert!(found.len() > 50 && found.iter().any(|r| r.4), "{found:?}");
    let summary = String::from_utf8_lossy(&gtpu_out);
    let summary: serde_json::Value =
        serde_json::from_str(summary.lines().last().unwrap_or("")).expect("a summary");
    assert!(summary["decode"]["defrag"]["completed"].as_u64() > Some(0));
    assert_eq!(summary["decode"]["defrag"]["timed_out"], 0);
}
