//! End-to-end tests: the real binary on every generated fixture.
//!
//! - the committed fixtures are exactly what the generator (fixturegen/) writes;
//! - each fixture's reported requests equal its truth file, written by construction;
//! - the whole output equals the reviewed expected file beside the fixture
//!   (`<stem>.expected.jsonl`; for o2-2012 also the text report). After a deliberate
//!   change of output, regenerate them with `PHONELEAK_BLESS=1 cargo test --test it
//!   fixtures::` and review the diff;
//! - exit statuses, error messages, masking and multi-file runs.
use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::Value;

use crate::common::phoneleak;

pub(crate) fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

fn stem(name: &str) -> &str {
    name.rsplit_once('.').map_or(name, |(s, _)| s)
}

/// Compares `actual` with the expected file, or writes it under PHONELEAK_BLESS=1.
pub(crate) fn check_expected(file: &Path, actual: &str, failures: &mut Vec<String>) {
    if std::env::var_os("PHONELEAK_BLESS").is_some() {
        std::fs::write(file, actual).expect("write expected output");
        return;
    }
    match std::fs::read_to_string(file) {
        Ok(expected) if expected == actual => {}
        Ok(expected) if same_but_zero_counters(&expected, actual) => {}
        Ok(expected) => {
            let line = expected
                .lines()
                .zip(actual.lines())
                .position(|(a, b)| a != b)
                .unwrap_or(0);
            failures.push(format!(
                "{}: output differs from line {}:\n  expected: {}\n  actual:   {}",
                file.display(),
                line + 1,
                expected.lines().nth(line).unwrap_or("<end>"),
                actual.lines().nth(line).unwrap_or("<end>")
            ));
        }
        Err(e) => failures.push(format!(
            "{}: {e} (run with PHONELEAK_BLESS=1 to create it)",
            file.display()
        )),
    }
}

/// True when two JSON-lines outputs differ only by counters that are zero
/// (a counter added since the expected file was blessed): every other line
/// is compared byte for byte, summary lines as JSON with zero counters left out.
fn same_but_zero_counters(expected: &str, actual: &str) -> bool {
    fn without_zeros(v: &Value) -> Value {
        match v {
            Value::Object(fields) => Value::Object(
                fields
                    .iter()
                    .filter(|(_, v)| v.as_u64() != Some(0))
                    .map(|(k, v)| (k.clone(), without_zeros(v)))
                    .collect(),
            ),
            other => other.clone(),
        }
    }
    let summary = |line: &str| {
        serde_json::from_str::<Value>(line)
            .ok()
            .filter(|v| v["type"] == "summary")
            .map(|v| {
                // The stage groups only: headline fields stay exact. A group
                // of zeros only (one added since the blessing) is left out.
                let mut v = v;
                if let Some(map) = v.as_object_mut() {
                    for group in ["decode", "flow", "http", "tls", "keylog", "h2"] {
                        if let Some(g) = map.get(group).map(without_zeros) {
                            if g.as_object().is_some_and(|o| o.is_empty()) {
                                map.remove(group);
                            } else {
                                map.insert(group.into(), g);
                            }
                        }
                    }
                }
                v
            })
    };
    let (e, a): (Vec<&str>, Vec<&str>) = (expected.lines().collect(), actual.lines().collect());
    e.len() == a.len()
        && e.iter().zip(&a).all(|(e, a)| {
            e == a || matches!((summary(e), summary(a)), (Some(x), Some(y)) if x == y)
        })
}

#[test]
fn a_new_zero_counter_needs_no_new_golden() {
    let expected = r#"{"type":"request","uri":"/"}
{"type":"summary","packets":3,"decode":{"not_ip":1,"tunnels":{"gtpu":0}},"flow":{"gaps":0}}"#;
    let added = r#"{"type":"request","uri":"/"}
{"type":"summary","packets":3,"decode":{"not_ip":1,"tunnels":{"gtpu":0,"geneve":0}},"flow":{"gaps":0,"new":0}}"#;
    assert!(same_but_zero_counters(expected, added));
    let nonzero = added.replace(r#""new":0"#, r#""new":1"#);
    assert!(!same_but_zero_counters(expected, &nonzero));
    // A new group of zeros only needs no new golden either.
    let group = added.replace(r#""flow":{"#, r#""h2":{"frames":0},"flow":{"#);
    assert!(same_but_zero_counters(expected, &group));
    let headline = added.replace(r#""packets":3"#, r#""packets":4"#);
    assert!(!same_but_zero_counters(expected, &headline));
    let request = added.replace(r#""uri":"/""#, r#""uri":"/x""#);
    assert!(!same_but_zero_counters(expected, &request));
}

/// Every stage counter has one name in every report: `decode.tunnels.*` and
/// `decode.defrag.*` in the text and HTML reports too, and the flow group is
/// `flow` everywhere.
#[test]
fn counters_have_one_name_in_every_report() {
    let html = std::env::temp_dir().join(format!("phoneleak-counters-{}.html", std::process::id()));
    let html_arg = html.to_string_lossy().into_owned();
    let text = phoneleak(&["scan", "--html", &html_arg, "fixtures/gtpu.pcap"]);
    let text = String::from_utf8_lossy(&text.stdout).into_owned();
    let page = std::fs::read_to_string(&html).expect("the HTML report");
    let _ = std::fs::remove_file(&html);
    for name in [
        "decode.tunnels.gtpu",
        "decode.defrag.completed",
        "decode.tunnel_control",
        "flow.flows_closed",
    ] {
        assert!(text.contains(name), "text report lacks {name}");
        assert!(page.contains(name), "HTML report lacks {name}");
    }
    assert!(!text.contains("reassembly.") && !page.contains("reassembly."));
    let json = phoneleak(&["scan", "--format", "jsonl", "fixtures/gtpu.pcap"]);
    let summary = json_lines(&json).pop().expect("a summary");
    assert!(summary["decode"]["tunnels"]["gtpu"].as_u64() > Some(0));
    assert!(summary["flow"]["flows_closed"].as_u64() > Some(0));
}

fn json_lines(out: &Output) -> Vec<Value> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is JSON"))
        .collect()
}

/// The fields the truth files state, from one output request object.
fn key(v: &Value) -> (String, String, String, String, String, Vec<String>, bool) {
    let s = |f: &str| v[f].as_str().unwrap_or("").to_string();
    let mut leaks: Vec<String> = v["leaks"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|l| l["header"].as_str().unwrap_or("").to_ascii_lowercase())
        .collect();
    leaks.sort();
    (
        s("src"),
        s("dst"),
        s("method"),
        s("uri"),
        s("host"),
        leaks,
        v["truncated"].as_bool().unwrap_or(false),
    )
}

fn truth_key(
    r: &fixturegen::TruthRequest,
) -> (String, String, String, String, String, Vec<String>, bool) {
    let mut leaks = r.leak_headers.clone();
    leaks.sort();
    (
        r.src.clone(),
        r.dst.clone(),
        r.method.clone(),
        r.uri.clone(),
        r.host.clone(),
        leaks,
        r.truncated,
    )
}

#[test]
fn committed_fixtures_are_what_the_generator_writes() {
    for f in fixturegen::all() {
        let path = fixtures_dir().join(f.name);
        let committed = std::fs::read(&path).unwrap_or_default();
        assert!(
            committed == f.bytes,
            "{} differs from the generator's output: run `cargo run --example gen_fixtures`",
            f.name
        );
        let truth =
            std::fs::read_to_string(fixtures_dir().join(f.truth_name())).unwrap_or_default();
        assert_eq!(truth, f.truth_json(), "{} is stale", f.truth_name());
    }
}

#[test]
fn every_fixture_reports_exactly_its_truth() {
    let mut failures = Vec::new();
    for f in fixturegen::all() {
        let path = format!("fixtures/{}", f.name);
        // Numbers in clear: truth files give request targets as sent.
        let out = phoneleak(&[
            "scan",
            "--format",
            "jsonl",
            "--all-requests",
            "--show-numbers",
            &path,
        ]);
        let lines = json_lines(&out);
        let mut got: Vec<_> = lines
            .iter()
            .filter(|v| v["type"] == "request")
            .map(key)
            .collect();
        let mut want: Vec<_> = f.truth.requests.iter().map(truth_key).collect();
        // Optional requests (cut by missing bytes) may be reported, as described.
        let optional: Vec<_> = f.truth.optional_requests.iter().map(truth_key).collect();
        got.retain(|g| !optional.contains(g));
        got.sort();
        want.sort();
        if got != want {
            failures.push(format!(
                "{}:\n  reported {got:?}\n  truth    {want:?}",
                f.name
            ));
        }
        let summary = lines.last().filter(|v| v["type"] == "summary");
        if summary.is_none() && !lines.is_empty() {
            failures.push(format!("{}: last line is not the summary", f.name));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn whole_output_matches_the_expected_files() {
    let mut failures = Vec::new();
    for f in fixturegen::all() {
        let path = format!("fixtures/{}", f.name);
        let out = phoneleak(&["scan", "--format", "jsonl", "--all-requests", &path]);
        let expected = fixtures_dir().join(format!("{}.expected.jsonl", stem(f.name)));
        check_expected(
            &expected,
            &String::from_utf8_lossy(&out.stdout),
            &mut failures,
        );
    }
    let text = phoneleak(&["scan", "fixtures/o2-2012.pcap"]);
    check_expected(
        &fixtures_dir().join("o2-2012.expected.txt"),
        &String::from_utf8_lossy(&text.stdout),
        &mut failures,
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn exit_status_says_leak_clean_or_error() {
    assert_eq!(
        phoneleak(&["scan", "fixtures/o2-2012.pcap"]).status.code(),
        Some(1)
    );
    assert_eq!(
        phoneleak(&["scan", "fixtures/clean.pcap"]).status.code(),
        Some(0)
    );
    for bad in [
        "fixtures/empty.pcap",
        "fixtures/not-a-capture.pcap",
        "fixtures/no-such-file.pcap",
    ] {
        let out = phoneleak(&["scan", bad]);
        assert_eq!(out.status.code(), Some(2), "{bad}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(bad) && err.contains("error"), "{bad}: {err}");
        assert!(!err.contains("panicked"), "{err}");
    }
    let err =
        String::from_utf8_lossy(&phoneleak(&["scan", "fixtures/empty.pcap"]).stderr).to_string();
    assert!(err.contains("empty file"), "{err}");
    let err = String::from_utf8_lossy(&phoneleak(&["scan", "fixtures/not-a-capture.pcap"]).stderr)
        .to_string();
    assert!(err.contains("not a pcap or pcapng capture"), "{err}");
    // Usage errors.
    assert_eq!(phoneleak(&["scan"]).status.code(), Some(2));
    assert_eq!(
        phoneleak(&["scan", "--format", "xml", "fixtures/clean.pcap"])
            .status
            .code(),
        Some(2)
    );
}

#[test]
fn a_cut_capture_reports_what_it_could_read_and_warns() {
    let out = phoneleak(&["scan", "--format", "jsonl", "fixtures/truncated.pcap"]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "the complete packets hold a leak"
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("warning") && err.contains("fixtures/truncated.pcap") && err.contains("byte"),
        "{err}"
    );
    let lines = json_lines(&out);
    let summary = lines.last().expect("summary");
    assert_eq!(summary["errors"][0]["partial"], true);
    assert!(summary["errors"][0]["offset"].as_u64().is_some());
}

#[test]
fn numbers_are_masked_unless_asked() {
    for f in fixturegen::all() {
        let path = format!("fixtures/{}", f.name);
        for format in ["jsonl", "text"] {
            let out = phoneleak(&["scan", "--format", format, "--all-requests", &path]);
            let text = String::from_utf8_lossy(&out.stdout);
            // Every line about a leak: a leaking request's JSON object (target
            // and headers included), a text leak line, an aggregate row. Other
            // requests may carry digits nothing recognised as a number.
            let leaking = |l: &&str| {
                l.contains("leak")
                    && !l.contains("\"leaks\":[]")
                    && !l.starts_with("{\"type\":\"summary\"")
            };
            for line in text.lines().filter(leaking) {
                for clear in ["7700900123", "7700900456", "2025550143"] {
                    assert!(
                        !line.contains(clear),
                        "{}: clear number in {format} output: {line}",
                        f.name
                    );
                }
            }
        }
    }
    let out = phoneleak(&[
        "scan",
        "--format",
        "jsonl",
        "--show-numbers",
        "fixtures/o2-2012.pcap",
    ]);
    let lines = json_lines(&out);
    let leak = &lines[0]["leaks"][0];
    assert_eq!(leak["header"], "x-up-calling-line-id");
    assert_eq!(leak["value"], "447700900123");
    assert_eq!(leak["number"], "+447700900123");
    assert_eq!(leak["kind"], "msisdn-header");
    assert_eq!(leak["confidence"], "high");
    let masked = json_lines(&phoneleak(&[
        "scan",
        "--format",
        "jsonl",
        "fixtures/o2-2012.pcap",
    ]));
    assert_eq!(masked[0]["leaks"][0]["value"], "44*******123");
    assert_eq!(masked[0]["leaks"][0]["number"], "+44*******123");
}

#[test]
fn several_files_and_folders_in_one_run() {
    let one = json_lines(&phoneleak(&[
        "scan",
        "--format",
        "jsonl",
        "--all-requests",
        "fixtures/o2-2012.pcap",
    ]));
    let two = json_lines(&phoneleak(&[
        "scan",
        "--format",
        "jsonl",
        "--all-requests",
        "fixtures/clean.pcap",
    ]));
    let both = phoneleak(&[
        "scan",
        "--format",
        "jsonl",
        "--all-requests",
        "fixtures/o2-2012.pcap",
        "fixtures/clean.pcap",
    ]);
    assert_eq!(both.status.code(), Some(1));
    let both = json_lines(&both);
    assert_eq!(
        both.len(),
        one.len() + two.len() - 1,
        "one summary for the run"
    );
    let summary = both.last().expect("summary");
    assert_eq!(summary["files"], 2);
    assert_eq!(
        summary["http"]["requests"].as_u64(),
        Some(
            one.last().unwrap()["http"]["requests"].as_u64().unwrap()
                + two.last().unwrap()["http"]["requests"].as_u64().unwrap()
        )
    );
    // The fixtures folder holds an empty file, a non-capture, the expected
    // outputs and a README: a walk skips them with one line (listed with
    // --verbose), counts only captures, and the status is the leaks' (1).
    let dir = phoneleak(&["scan", "--format", "jsonl", "fixtures"]);
    assert_eq!(dir.status.code(), Some(1));
    let err = String::from_utf8_lossy(&dir.stderr);
    let not_captures = ["empty.pcap", "not-a-capture.pcap"];
    let skipped = count_non_fixture_files() + not_captures.len() as u64;
    assert!(
        err.contains(&format!(
            "phoneleak: skipped {skipped} files of the folders that are not captures"
        )),
        "{err}"
    );
    assert!(!err.contains("empty.pcap"), "{err}");
    let verbose = phoneleak(&["scan", "--verbose", "--quiet", "fixtures"]);
    assert!(verbose.stderr.is_empty(), "--quiet wins");
    let verbose = phoneleak(&["scan", "--verbose", "--format", "jsonl", "fixtures"]);
    let listed = String::from_utf8_lossy(&verbose.stderr);
    for name in not_captures {
        assert!(listed.contains(&format!("fixtures/{name}: ")), "{listed}");
    }
    let lines = json_lines(&dir);
    let summary = lines.last().expect("summary");
    let captures = fixturegen::all()
        .iter()
        .filter(|f| !not_captures.contains(&f.name))
        .count() as u64
        + diff_captures()
        + tls_captures();
    assert_eq!(summary["files"].as_u64(), Some(captures));
    assert!(summary["leaking_requests"].as_u64().unwrap() > 0);
}

/// Files in fixtures/ and its folders that are not captures (truth, key
/// logs, expected outputs, README).
fn count_non_fixture_files() -> u64 {
    fn files(dir: &Path) -> u64 {
        std::fs::read_dir(dir)
            .map(|d| {
                d.flatten()
                    .map(|e| match e.file_type() {
                        Ok(t) if t.is_dir() => files(&e.path()),
                        _ => 1,
                    })
                    .sum()
            })
            .unwrap_or(0)
    }
    files(&fixtures_dir()) - fixturegen::all().len() as u64 - tls_captures() - diff_captures()
}

/// The TLS captures in fixtures/tls.
fn tls_captures() -> u64 {
    fixturegen::tls::all().len() as u64
}

/// The capture pairs of `phoneleak diff` bundled in fixtures/.
fn diff_captures() -> u64 {
    2 * fixturegen::vantage::bundled().len() as u64
}

/// The thread counts every output is compared at.
const THREADS: [&str; 3] = ["2", "3", "7"];

#[test]
fn output_does_not_depend_on_the_number_of_threads() {
    for f in fixturegen::all() {
        let path = format!("fixtures/{}", f.name);
        for format in ["jsonl", "text"] {
            let run = |threads: &str| {
                let out = phoneleak(&[
                    "scan",
                    "--threads",
                    threads,
                    "--format",
                    format,
                    "--all-requests",
                    &path,
                ]);
                (out.status.code(), out.stdout, out.stderr)
            };
            let one = run("1");
            for threads in THREADS {
                assert!(
                    run(threads) == one,
                    "{} ({format}): --threads {threads} differs from --threads 1",
                    f.name
                );
            }
        }
    }
}

/// A subscriber handed over between base stations in the middle of a request
/// head, and full-size segments whose outer packets are IP-fragmented across a
/// handover: every leak is found at every thread count (flows are routed by
/// their inner addresses, outer fragments reassembled before routing).
#[test]
fn gtpu_handover_leaks_are_found_at_every_thread_count() {
    for threads in ["1", "2", "3", "4", "7"] {
        let out = phoneleak(&[
            "scan",
            "--threads",
            threads,
            "--format",
            "jsonl",
            "fixtures/gtpu-handover.pcap",
        ]);
        assert_eq!(out.status.code(), Some(1), "--threads {threads}");
        let lines = json_lines(&out);
        let mut leaking: Vec<&str> = lines
            .iter()
            .filter(|v| v["type"] == "request")
            .filter(|v| v["leaks"].as_array().is_some_and(|l| !l.is_empty()))
            .filter_map(|v| v["uri"].as_str())
            .collect();
        leaking.sort_unstable();
        assert_eq!(
            leaking,
            [
                "/bg/on-enb2",
                "/bg/on-enb3",
                "/handover/after",
                "/handover/mid-head",
                "/handover/outer-fragments"
            ],
            "--threads {threads}"
        );
        let summary = lines.last().expect("a summary line");
        assert_eq!(
            summary["decode"]["defrag"]["completed"], 2,
            "--threads {threads}"
        );
        assert_eq!(summary["flow"]["gaps"], 0, "--threads {threads}");
    }
}
