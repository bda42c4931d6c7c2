//! `phoneleak diff` on generated capture pairs (fixturegen's `vantage`
//! module): the middlebox's doings each found and classed, every request
//! paired or unmatched with its reason, whole outputs equal to the reviewed
//! files in `tests/it/diff-expected/` (regenerate with `PHONELEAK_BLESS=1
//! cargo test --test it diff::` and review the diff), and the bundled O2 pair
//! equal to what the generator writes.
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

use crate::common::scratch;

fn expected_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/diff-expected")
}

/// Runs the binary in `dir`.
fn run_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_phoneleak"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run phoneleak")
}

/// The pair written to a fresh folder as `before.pcap` and `after.pcap`.
fn written(p: &fixturegen::vantage::VantagePair, test: &str) -> PathBuf {
    let dir = scratch(&format!("diff-{}-{test}", p.name));
    std::fs::write(dir.join("before.pcap"), &p.before).unwrap();
    std::fs::write(dir.join("after.pcap"), &p.after).unwrap();
    dir
}

fn lines(out: &Output) -> Vec<Value> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

fn of_type<'a>(lines: &'a [Value], kind: &str) -> Vec<&'a Value> {
    lines.iter().filter(|l| l["type"] == kind).collect()
}

fn check_expected(file: &Path, actual: &str) {
    if std::env::var_os("PHONELEAK_BLESS").is_some() {
        std::fs::create_dir_all(expected_dir()).unwrap();
        std::fs::write(file, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(file).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (run with PHONELEAK_BLESS=1 to create it)",
            file.display()
        )
    });
    assert!(
        expected == actual,
        "{} differs from the output:\n{actual}",
        file.display()
    );
}

#[test]
fn bundled_pairs_are_what_the_generator_writes() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    for p in fixturegen::vantage::bundled() {
        for (name, bytes) in [(p.before_name(), &p.before), (p.after_name(), &p.after)] {
            let committed = std::fs::read(fixtures.join(&name)).unwrap_or_default();
            assert!(
                &committed == bytes,
                "{name} differs from the generator's output: run `cargo run --example gen_fixtures`"
            );
        }
    }
}

#[test]
fn whole_outputs_match_the_expected_files() {
    let pairs = fixturegen::vantage::generated()
        .into_iter()
        .chain(fixturegen::vantage::bundled());
    for p in pairs {
        let dir = written(&p, "whole");
        for (format, ext) in [("text", "txt"), ("jsonl", "jsonl")] {
            let out = run_in(
                &dir,
                &["diff", "--format", format, "before.pcap", "after.pcap"],
            );
            assert!(
                out.stderr.is_empty(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            let file = expected_dir().join(format!("{}.{ext}", p.name));
            check_expected(&file, &String::from_utf8_lossy(&out.stdout));
            // The same pairs whatever the threads each side is read with.
            for threads in ["1", "2", "3"] {
                let other = run_in(
                    &dir,
                    &[
                        "diff",
                        "--threads",
                        threads,
                        "--format",
                        format,
                        "before.pcap",
                        "after.pcap",
                    ],
                );
                assert_eq!(other.stdout, out.stdout, "{} --threads {threads}", p.name);
                assert_eq!(other.status.code(), out.status.code());
            }
        }
    }
}

fn names(changes: &Value) -> Vec<(String, String)> {
    changes
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["name"].as_str().unwrap().to_string(),
                c["class"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn an_enriching_gateway_is_caught_with_everything_it_did() {
    let dir = written(&fixturegen::vantage::enriching(), "caught");
    let out = run_in(
        &dir,
        &["diff", "--format", "jsonl", "before.pcap", "after.pcap"],
    );
    assert_eq!(out.status.code(), Some(1), "an identifier was added");
    let all = lines(&out);
    let pairs = of_type(&all, "pair");
    // 3 pages, 1 absolute-form request, 20 polls, 3 pipelined requests.
    assert_eq!(pairs.len(), 27);
    for p in &pairs {
        let added = names(&p["added"]);
        assert!(
            added.contains(&("X-MSISDN".into(), "identifier".into())),
            "{p}"
        );
        assert!(added.contains(&("via".into(), "operational".into())), "{p}");
        assert!(
            added.contains(&("x-forwarded-for".into(), "operational".into())),
            "{p}"
        );
        assert_eq!(p["added"][added.len() - 1]["after"], "44*******123");
        assert!(p["forwarded_for"].as_bool().unwrap());
        assert!(p["case_changed"].as_array().unwrap().len() >= 2, "{p}");
        assert!(
            p["order_changed"].as_bool().unwrap(),
            "Host moved last: {p}"
        );
    }
    let browsing: Vec<_> = pairs
        .iter()
        .filter(|p| p["host"] != "api.example.net")
        .collect();
    for p in &browsing {
        assert_eq!(names(&p["removed"]), vec![("DNT".into(), "other".into())]);
        assert_eq!(
            names(&p["changed"]),
            vec![("accept-encoding".into(), "other".into())]
        );
        assert_eq!(p["changed"][0]["before"], "gzip, deflate, br");
    }
    let weather: Vec<_> = pairs
        .iter()
        .filter(|p| p["request_line_changed"].as_bool().unwrap())
        .collect();
    assert_eq!(weather.len(), 1);
    assert_eq!(
        weather[0]["before"]["request_line"],
        "GET http://m.example.org/weather HTTP/1.1"
    );
    assert_eq!(weather[0]["after"]["request_line"], "GET /weather HTTP/1.0");
    // The 20 identical polls pair in order: both sides' times rise together.
    let polls: Vec<_> = pairs
        .iter()
        .filter(|p| p["host"] == "api.example.net")
        .collect();
    assert_eq!(polls.len(), 20);
    for w in polls.windows(2) {
        assert!(w[0]["before"]["ts"].as_str() < w[1]["before"]["ts"].as_str());
        assert!(w[0]["after"]["ts"].as_str() < w[1]["after"]["ts"].as_str());
    }
    // Pipelined on one connection before, on two after.
    let regrouped: Vec<&str> = pairs
        .iter()
        .filter(|p| {
            let l = p["before"]["request_line"].as_str().unwrap();
            l.contains("/a.css") || l.contains("/b.js") || l.contains("/c.png")
        })
        .map(|p| p["after"]["src"].as_str().unwrap())
        .collect();
    assert_eq!(
        regrouped,
        [
            "198.51.100.7:61005",
            "198.51.100.7:61005",
            "198.51.100.7:61006"
        ]
    );
    let unmatched = of_type(&all, "unmatched");
    let mut seen: Vec<(&str, &str, &str, Option<u64>)> = unmatched
        .iter()
        .map(|u| {
            (
                u["side"].as_str().unwrap(),
                u["request_line"].as_str().unwrap(),
                u["reason"].as_str().unwrap(),
                u.get("status").map(|s| s.as_u64().unwrap()),
            )
        })
        .collect();
    seen.sort();
    // The cache hit's 304 is on BEFORE; the dropped request saw none.
    assert_eq!(
        seen,
        [
            (
                "after",
                "GET /robots.txt HTTP/1.1",
                "created-on-the-way",
                None
            ),
            (
                "before",
                "GET /img/logo.png HTTP/1.1",
                "answered-on-the-way",
                Some(304)
            ),
            ("before", "GET /track.gif?u=1 HTTP/1.1", "no-response", None),
        ]
    );
    let summary = all.last().unwrap();
    assert_eq!(summary["type"], "diff_summary");
    assert!(summary["identifier_added"].as_bool().unwrap());
    assert_eq!(
        (
            &summary["answered_on_the_way"],
            &summary["no_response"],
            &summary["not_forwarded"]
        ),
        (&Value::from(1), &Value::from(1), &Value::from(0))
    );
    // Every BEFORE request but the dropped one was answered, the answers
    // of paired requests unused.
    assert_eq!(summary["answers_before"], 28);
    let offset = summary["offset_seconds"].as_f64().unwrap();
    assert!((30.0..30.1).contains(&offset), "{offset}");
    // The number only in clear when asked.
    assert!(!String::from_utf8_lossy(&out.stdout).contains("447700900123"));
    let clear = run_in(
        &dir,
        &[
            "diff",
            "--format",
            "jsonl",
            "--show-numbers",
            "before.pcap",
            "after.pcap",
        ],
    );
    assert!(String::from_utf8_lossy(&clear.stdout).contains("\"after\":\"447700900123\""));
}

#[test]
fn a_transparent_proxy_adds_no_identifier_and_forwarded_for_pairs_clients() {
    let dir = written(&fixturegen::vantage::transparent(), "proxy");
    let out = run_in(
        &dir,
        &["diff", "--format", "jsonl", "before.pcap", "after.pcap"],
    );
    assert_eq!(out.status.code(), Some(0), "nothing identifying added");
    let all = lines(&out);
    let pairs = of_type(&all, "pair");
    assert_eq!(pairs.len(), 3);
    assert!(of_type(&all, "unmatched").is_empty());
    for p in &pairs {
        assert_eq!(
            names(&p["added"]),
            vec![
                ("Via".to_string(), "operational".to_string()),
                ("X-Forwarded-For".to_string(), "operational".to_string())
            ]
        );
        assert!(p["removed"].as_array().unwrap().is_empty());
        assert!(p["changed"].as_array().unwrap().is_empty());
        // Each client's request with the proxy's line naming that client.
        let ip = p["before"]["src"]
            .as_str()
            .unwrap()
            .split(':')
            .next()
            .unwrap();
        assert_eq!(p["added"][1]["after"], ip, "{p}");
    }
    let summary = all.last().unwrap();
    assert_eq!(summary["forwarded_for_hints"], 1);
    let offset = summary["offset_seconds"].as_f64().unwrap();
    assert!((-30.0..-29.9).contains(&offset), "{offset}");
}

#[test]
fn either_side_may_be_an_earlier_scans_json_lines() {
    let dir = written(&fixturegen::vantage::enriching(), "json");
    let scan = run_in(
        &dir,
        &[
            "scan",
            "--format",
            "jsonl",
            "--all-requests",
            "-o",
            "before.jsonl",
            "before.pcap",
        ],
    );
    assert_eq!(scan.status.code(), Some(0));
    let from_pcap = lines(&run_in(
        &dir,
        &["diff", "--format", "jsonl", "before.pcap", "after.pcap"],
    ));
    let out = run_in(
        &dir,
        &["diff", "--format", "jsonl", "before.jsonl", "after.pcap"],
    );
    assert_eq!(out.status.code(), Some(1));
    let from_json = lines(&out);
    // An earlier scan's lines have no responses: the two BEFORE requests
    // without a partner are answered or dropped, which it cannot tell.
    let reasons = |ls: &[Value]| -> Vec<String> {
        let mut r: Vec<String> = of_type(ls, "unmatched")
            .iter()
            .filter(|u| u["side"] == "before")
            .map(|u| u["reason"].as_str().unwrap().to_string())
            .collect();
        r.sort();
        r
    };
    assert_eq!(reasons(&from_json), ["not-forwarded", "not-forwarded"]);
    assert_eq!(reasons(&from_pcap), ["answered-on-the-way", "no-response"]);
    // The same pairs and unmatched requests; only the provenance (and so
    // the BEFORE reasons and status) differs.
    let strip = |ls: &[Value]| -> Vec<Value> {
        ls.iter()
            .map(|l| {
                let mut l = l.clone();
                if l["type"] == "unmatched" && l["side"] == "before" {
                    l["reason"] = Value::from("not-forwarded");
                }
                for side in ["before", "after"] {
                    if let Some(o) = l.get_mut(side).and_then(Value::as_object_mut) {
                        o.remove("file");
                        o.remove("packet");
                    }
                }
                if let Some(o) = l.as_object_mut() {
                    o.remove("file");
                    o.remove("packet");
                    o.remove("status");
                }
                l
            })
            .filter(|l| l["type"] != "diff_summary")
            .collect()
    };
    assert_eq!(strip(&from_json), strip(&from_pcap));
}

#[test]
fn unreadable_inputs_exit_2() {
    let dir = written(&fixturegen::vantage::transparent(), "errors");
    std::fs::write(dir.join("junk.jsonl"), "{\"type\":\"request\"\n").unwrap();
    for args in [
        ["diff", "missing.pcap", "after.pcap"],
        ["diff", "before.pcap", "junk.jsonl"],
    ] {
        let out = run_in(&dir, &args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(!out.stderr.is_empty());
    }
}

#[test]
fn the_html_report_is_self_contained_and_masked() {
    let dir = written(&fixturegen::vantage::enriching(), "html");
    let out = run_in(
        &dir,
        &["diff", "--html", "diff.html", "before.pcap", "after.pcap"],
    );
    assert_eq!(out.status.code(), Some(1));
    let page = std::fs::read_to_string(dir.join("diff.html")).unwrap();
    assert!(page.starts_with("<!DOCTYPE html>"));
    assert!(page.contains("Content-Security-Policy"));
    assert!(page.contains("Identifiers were added on the way."));
    assert!(page.contains("<code>X-MSISDN</code>"));
    assert!(page.contains("44*******123"));
    assert!(!page.contains("447700900123"));
    assert!(
        page.contains("answered-on-the-way (304)"),
        "the cache hit is listed with its status"
    );
    assert!(
        page.contains("no-response"),
        "the dropped request is listed"
    );
    assert!(!page.contains("<script"), "nothing to run");
}

fn summary_of(all: &[Value]) -> &Value {
    let s = all.last().unwrap();
    assert_eq!(s["type"], "diff_summary");
    s
}

/// `scan --format jsonl --all-requests` of `capture` in `dir`, to `out`.
fn scanned(dir: &Path, capture: &str, out: &str) {
    let scan = run_in(
        dir,
        &[
            "scan",
            "--format",
            "jsonl",
            "--all-requests",
            "-o",
            out,
            capture,
        ],
    );
    assert!(scan.status.code().is_some_and(|c| c <= 1), "{scan:?}");
}

#[test]
fn a_masked_scan_compares_masked_with_a_capture() {
    // The app's own X-MSISDN passes unchanged: masked JSON lines on either
    // side against the capture on the other show no change, as the two
    // captures do.
    let dir = written(&fixturegen::vantage::transparent(), "masked");
    scanned(&dir, "before.pcap", "before.jsonl");
    scanned(&dir, "after.pcap", "after.jsonl");
    let json = std::fs::read_to_string(dir.join("before.jsonl")).unwrap();
    assert!(json.contains("[\"X-MSISDN\",\"44*******456\"]"), "masked");
    for (before, after) in [
        ("before.pcap", "after.pcap"),
        ("before.jsonl", "after.pcap"),
        ("before.pcap", "after.jsonl"),
        ("before.jsonl", "after.jsonl"),
    ] {
        let out = run_in(&dir, &["diff", "--format", "jsonl", before, after]);
        assert_eq!(out.status.code(), Some(0), "{before} {after}: {out:?}");
        let all = lines(&out);
        let pairs = of_type(&all, "pair");
        assert_eq!(pairs.len(), 3, "{before} {after}");
        for p in &pairs {
            assert!(p["changed"].as_array().unwrap().is_empty(), "{p}");
            assert!(!p["request_line_changed"].as_bool().unwrap(), "{p}");
        }
        let summary = summary_of(&all);
        assert_eq!(summary["pairs_with_identifier"], 0);
        assert!(!summary["identifier_added"].as_bool().unwrap());
    }
}

#[test]
fn an_identifier_rewritten_on_the_way_is_a_change_even_masked() {
    let dir = written(&fixturegen::vantage::rewriting(), "rewritten");
    scanned(&dir, "before.pcap", "before.jsonl");
    for before in ["before.pcap", "before.jsonl"] {
        let out = run_in(&dir, &["diff", "--format", "jsonl", before, "after.pcap"]);
        assert_eq!(out.status.code(), Some(1), "{before}: {out:?}");
        let all = lines(&out);
        let pairs = of_type(&all, "pair");
        assert_eq!(pairs.len(), 3);
        let changed: Vec<&Value> = pairs
            .iter()
            .flat_map(|p| p["changed"].as_array().unwrap())
            .collect();
        assert_eq!(changed.len(), 1, "{before}: {pairs:?}");
        assert_eq!(changed[0]["name"], "X-MSISDN");
        assert_eq!(changed[0]["class"], "identifier");
        assert_eq!(changed[0]["before"], "44*******456");
        assert_eq!(changed[0]["after"], "44*******123");
        assert!(
            pairs
                .iter()
                .all(|p| p["added"].as_array().unwrap().is_empty())
        );
        assert_eq!(summary_of(&all)["pairs_with_identifier"], 1);
    }
}

#[test]
fn http2_requests_pair_by_their_authority() {
    let (h1, h2) = fixturegen::h2::h1_h2c_pair(1);
    let dir = scratch("diff-h2");
    std::fs::write(dir.join("h1.pcap"), h1).unwrap();
    std::fs::write(dir.join("h2.pcap"), h2).unwrap();
    // h2 against itself, then h2 in front of the middlebox and HTTP/1.1
    // behind it (a proxy speaking h2 to the phone and 1.1 to the server).
    for after in ["h2.pcap", "h1.pcap"] {
        let out = run_in(&dir, &["diff", "--format", "jsonl", "h2.pcap", after]);
        assert_eq!(out.status.code(), Some(0), "{after}: {out:?}");
        let all = lines(&out);
        let pairs = of_type(&all, "pair");
        assert_eq!(pairs.len(), 10, "{after}: {all:?}");
        assert!(of_type(&all, "unmatched").is_empty(), "{after}");
        for p in &pairs {
            assert_eq!(p["host"], "cdn0.example.net", "{p}");
            assert!(p["changed"].as_array().unwrap().is_empty(), "{p}");
        }
        let version_changed = pairs
            .iter()
            .all(|p| p["request_line_changed"].as_bool().unwrap());
        assert_eq!(version_changed, after == "h1.pcap");
    }
}

#[test]
fn a_wrong_offset_pairs_nothing_and_exits_2() {
    let dir = written(&fixturegen::vantage::transparent(), "offset");
    // AFTER's clock is 30 s behind: --offset 0 leaves every request alone.
    let out = run_in(
        &dir,
        &[
            "diff",
            "--format",
            "jsonl",
            "--offset",
            "0",
            "before.pcap",
            "after.pcap",
        ],
    );
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no request paired"), "{err}");
    assert!(err.contains("--offset"), "{err}");
    let all = lines(&out);
    let summary = summary_of(&all);
    assert_eq!(summary["pairs"], 0);
    assert_eq!(
        (
            summary["unmatched_before"].as_u64(),
            summary["unmatched_after"].as_u64()
        ),
        (Some(3), Some(3))
    );
    let text = run_in(
        &dir,
        &["diff", "--offset", "0", "before.pcap", "after.pcap"],
    );
    assert_eq!(text.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&text.stdout).contains("no request paired"));
    // The right offset, given: everything pairs, nothing estimated.
    let out = run_in(
        &dir,
        &[
            "diff",
            "--format",
            "jsonl",
            "--offset",
            "-30",
            "before.pcap",
            "after.pcap",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(out.stderr.is_empty());
    let all = lines(&out);
    let summary = summary_of(&all);
    assert_eq!(summary["pairs"], 3);
    assert_eq!(summary["offset_seconds"], -30.0);
    assert_eq!(summary["offset_estimated"], false);
}

#[test]
fn max_skew_sets_the_window() {
    let dir = written(&fixturegen::vantage::transparent(), "skew");
    // An offset a second off: a window of half a second pairs nothing, one
    // of two seconds pairs all three.
    let run = |skew: &str| {
        run_in(
            &dir,
            &[
                "diff",
                "--format",
                "jsonl",
                "--offset",
                "-31",
                "--max-skew",
                skew,
                "before.pcap",
                "after.pcap",
            ],
        )
    };
    let narrow = run("0.5");
    assert_eq!(narrow.status.code(), Some(2));
    assert_eq!(summary_of(&lines(&narrow))["max_skew_seconds"], 0.5);
    assert_eq!(summary_of(&lines(&narrow))["pairs"], 0);
    let wide = run("2");
    assert_eq!(wide.status.code(), Some(0));
    let all = lines(&wide);
    assert_eq!(summary_of(&all)["max_skew_seconds"], 2.0);
    assert_eq!(summary_of(&all)["pairs"], 3);
    for p in of_type(&all, "pair") {
        let delay = p["delay"].as_f64().unwrap();
        assert!((0.9..1.2).contains(&delay), "{delay}");
    }
}

#[test]
fn max_pending_cuts_and_counts() {
    let dir = written(&fixturegen::vantage::enriching(), "pending");
    let out = run_in(
        &dir,
        &[
            "diff",
            "--format",
            "jsonl",
            "--max-pending",
            "1",
            "before.pcap",
            "after.pcap",
        ],
    );
    let all = lines(&out);
    let summary = summary_of(&all);
    let cut = of_type(&all, "unmatched")
        .into_iter()
        .filter(|u| u["reason"] == "pending-cap")
        .count() as u64;
    assert!(cut > 0, "{all:?}");
    assert_eq!(summary["pending_cap"].as_u64(), Some(cut));
    // One waiting per side, and the one being pushed.
    assert!(summary["pending_peak"].as_u64().unwrap() <= 3, "{summary}");
    let whole = lines(&run_in(
        &dir,
        &["diff", "--format", "jsonl", "before.pcap", "after.pcap"],
    ));
    let whole = summary_of(&whole);
    assert_eq!(whole["pending_cap"], 0);
    assert!(whole["pending_peak"].as_u64().unwrap() > summary["pending_peak"].as_u64().unwrap());
}

#[test]
fn json_lines_without_all_requests_are_named_in_a_warning() {
    let dir = written(&fixturegen::vantage::transparent(), "leaking-only");
    // Without --all-requests only the leaking request is written.
    let scan = run_in(
        &dir,
        &[
            "scan",
            "--format",
            "jsonl",
            "-o",
            "before.jsonl",
            "before.pcap",
        ],
    );
    assert_eq!(scan.status.code(), Some(1));
    let out = run_in(
        &dir,
        &["diff", "--format", "jsonl", "before.jsonl", "after.pcap"],
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("before.jsonl: 1 request lines of the 3 requests")
            && err.contains("--all-requests"),
        "{err}"
    );
    let all = lines(&out);
    assert_eq!(summary_of(&all)["pairs"], 1);
    // Written with it: no warning.
    scanned(&dir, "before.pcap", "all.jsonl");
    let out = run_in(
        &dir,
        &["diff", "--format", "jsonl", "all.jsonl", "after.pcap"],
    );
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
