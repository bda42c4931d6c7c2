//! The scan options that change detection or gating, and the `headers`
//! command, on the generated fixtures: `--number`/`--numbers-file`,
//! `--region`, `--min-confidence`, `--baseline`; the aggregate report.
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::Output;

use serde_json::Value;

use crate::common::phoneleak;

const KNOWN: &str = "+447700900123";

fn lines(out: &Output) -> Vec<Value> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is JSON"))
        .collect()
}

fn requests(out: &Output) -> Vec<Value> {
    lines(out)
        .into_iter()
        .filter(|v| v["type"] == "request")
        .collect()
}

fn summary(out: &Output) -> Value {
    lines(out).pop().expect("a summary line")
}

fn temp(name: &str, content: &str) -> PathBuf {
    let path = std::env::temp_dir().join(format!("phoneleak-{}-{name}", std::process::id()));
    std::fs::write(&path, content).expect("write temp file");
    path
}

fn leak_headers(v: &Value) -> BTreeSet<String> {
    v["leaks"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|l| l["header"].as_str().unwrap_or("").to_ascii_lowercase())
        .collect()
}

/// With `--number`, every fixture reports its leak headers plus the ones
/// its truth says only the known number reveals.
#[test]
fn known_number_finds_what_the_truth_says_in_every_fixture() {
    let mut failures = Vec::new();
    for f in fixturegen::all() {
        let path = format!("fixtures/{}", f.name);
        let out = phoneleak(&[
            "scan",
            "--format",
            "jsonl",
            "--all-requests",
            "--show-numbers",
            "--number",
            KNOWN,
            &path,
        ]);
        let mut got: Vec<(String, String, BTreeSet<String>)> = requests(&out)
            .iter()
            .map(|v| {
                let s = |k: &str| v[k].as_str().unwrap_or("").to_string();
                (s("src"), s("uri"), leak_headers(v))
            })
            .collect();
        let optional: Vec<String> = f
            .truth
            .optional_requests
            .iter()
            .map(|r| r.uri.clone())
            .collect();
        got.retain(|(_, uri, _)| !optional.contains(uri));
        let mut want: Vec<(String, String, BTreeSet<String>)> = f
            .truth
            .requests
            .iter()
            .map(|r| {
                let mut h: BTreeSet<String> = r.leak_headers.iter().cloned().collect();
                h.extend(r.known_leak_headers.iter().cloned());
                (r.src.clone(), r.uri.clone(), h)
            })
            .collect();
        got.sort();
        want.sort();
        if got != want {
            failures.push(format!("{}:\n  got  {got:?}\n  want {want:?}", f.name));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn known_number_reports_every_encoding() {
    let out = phoneleak(&[
        "scan",
        "--format",
        "jsonl",
        "--number",
        KNOWN,
        "fixtures/known-number.pcap",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let mut seen = BTreeSet::new();
    for r in requests(&out) {
        for l in r["leaks"].as_array().unwrap() {
            assert_eq!(l["kind"], "known-number");
            assert_eq!(l["confidence"], "high");
            assert_eq!(l["number"], "+44*******123");
            seen.insert((
                l["encoding"].as_str().unwrap_or("plain").to_string(),
                l["form"].as_str().unwrap().to_string(),
                l["where"].as_str().unwrap().to_string(),
            ));
        }
        let line = r.to_string();
        assert!(!line.contains("447700900123"), "clear number: {line}");
    }
    let want: BTreeSet<(String, String, String)> = [
        ("sha256-hex", "e164", "header"),
        ("md5-hex", "international", "cookie"),
        ("base64", "international", "query"),
        ("hex", "national", "header"),
        ("sha1-base64", "00", "header"),
        ("plain", "international", "query"),
    ]
    .iter()
    .map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()))
    .collect();
    assert_eq!(seen, want);
    // Without --number nothing there leaks.
    let out = phoneleak(&["scan", "--format", "jsonl", "fixtures/known-number.pcap"]);
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn numbers_file_and_bad_numbers() {
    let file = temp(
        "numbers.txt",
        "# mine\n\n+447700900123   # phone\n+12025550143\n",
    );
    let by_file = phoneleak(&[
        "scan",
        "--format",
        "jsonl",
        "--numbers-file",
        file.to_str().unwrap(),
        "fixtures/known-number.pcap",
    ]);
    let by_flag = phoneleak(&[
        "scan",
        "--format",
        "jsonl",
        "--number",
        KNOWN,
        "--number",
        "+1 202 555 0143",
        "fixtures/known-number.pcap",
    ]);
    assert_eq!(by_file.status.code(), Some(1));
    assert_eq!(requests(&by_file), requests(&by_flag));
    // A national number needs --region.
    let national = phoneleak(&[
        "scan",
        "--number",
        "07700 900123",
        "--region",
        "GB",
        "--format",
        "jsonl",
        "fixtures/known-number.pcap",
    ]);
    assert_eq!(requests(&national), requests(&by_flag));
    for (args, needle) in [
        (vec!["--number", "07700900123"], "--region"),
        (vec!["--number", "hello"], "not a phone number"),
        (vec!["--region", "XX"], "unknown region"),
    ] {
        let mut all = vec!["scan"];
        all.extend(args);
        all.push("fixtures/clean.pcap");
        let out = phoneleak(&all);
        assert_eq!(out.status.code(), Some(2), "{all:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(needle), "{all:?}: {err}");
    }
    let bad = temp("bad-numbers.txt", "+447700900123\nnot-a-number\n");
    let out = phoneleak(&[
        "scan",
        "--numbers-file",
        bad.to_str().unwrap(),
        "fixtures/clean.pcap",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("line 2"), "{err}");
    let _ = std::fs::remove_file(file);
    let _ = std::fs::remove_file(bad);
}

#[test]
fn region_places_national_numbers() {
    let leaks = |args: &[&str]| -> Vec<(String, Value, String)> {
        let mut all = vec!["scan", "--format", "jsonl", "--show-numbers"];
        all.extend_from_slice(args);
        all.push("fixtures/national-region.pcap");
        requests(&phoneleak(&all))
            .iter()
            .flat_map(|r| r["leaks"].as_array().unwrap().clone())
            .map(|l| {
                (
                    l["header"].as_str().unwrap().to_ascii_lowercase(),
                    l["number"].clone(),
                    l["confidence"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    };
    let n = |s: &str| Value::String(s.into());
    let mut without = leaks(&[]);
    without.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        without,
        [
            ("(request-target)".into(), Value::Null, "low".into()),
            ("cookie".into(), Value::Null, "low".into()),
            ("x-msisdn".into(), Value::Null, "low".into()),
            (
                "x-up-calling-line-id".into(),
                n("+447700900123"),
                "medium".into()
            ),
        ]
    );
    let mut with = leaks(&["--region", "gb"]);
    with.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        with,
        [
            (
                "(request-target)".into(),
                n("+447700900123"),
                "medium".into()
            ),
            ("cookie".into(), n("+447700900456"), "medium".into()),
            ("x-msisdn".into(), n("+447700900123"), "medium".into()),
            (
                "x-up-calling-line-id".into(),
                n("+447700900123"),
                "medium".into()
            ),
        ]
    );
}

#[test]
fn min_confidence_sets_what_counts() {
    let out = phoneleak(&[
        "scan",
        "--format",
        "jsonl",
        "--all-requests",
        "--min-confidence",
        "medium",
        "fixtures/national-region.pcap",
    ]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "the 0-international form is medium"
    );
    let s = summary(&out);
    assert_eq!(s["min_confidence"], "medium");
    assert_eq!(s["leak_count"], 1);
    assert_eq!(s["leaks_below_min_confidence"], 3);
    // Findings left out are still masked.
    for r in requests(&out) {
        let line = r.to_string();
        assert!(
            !line.contains("7700900") && !line.contains("7700%20900"),
            "{line}"
        );
    }
    let out = phoneleak(&[
        "scan",
        "--format",
        "jsonl",
        "--min-confidence",
        "high",
        "fixtures/national-region.pcap",
    ]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(summary(&out)["leak_count"], 0);
    assert_eq!(summary(&out)["new_leaks"], 0);
    let text = phoneleak(&["scan", "--min-confidence", "high", "fixtures/o2-2012.pcap"]);
    assert_eq!(text.status.code(), Some(1));
    let t = String::from_utf8_lossy(&text.stdout);
    assert!(t.contains("min confidence") && t.contains("high"), "{t}");
    assert_eq!(
        phoneleak(&["scan", "--min-confidence", "sure", "fixtures/o2-2012.pcap"])
            .status
            .code(),
        Some(2)
    );
}

#[test]
fn baseline_counts_only_new_findings() {
    let first = phoneleak(&["scan", "--format", "jsonl", "fixtures/o2-2012.pcap"]);
    let base = temp("baseline.jsonl", &String::from_utf8_lossy(&first.stdout));
    let b = base.to_str().unwrap();
    let again = phoneleak(&[
        "scan",
        "--format",
        "jsonl",
        "--baseline",
        b,
        "fixtures/o2-2012.pcap",
    ]);
    assert_eq!(again.status.code(), Some(0), "nothing new");
    let s = summary(&again);
    assert_eq!(s["leak_count"], 13);
    assert_eq!(s["new_leaks"], 0);
    assert_eq!(s["baseline"]["leaks_in_baseline"], 13);
    assert_eq!(s["baseline"]["entries"], 5, "one per destination host");
    for r in requests(&again) {
        assert_eq!(r["leaks"][0]["in_baseline"], true);
    }
    // New hosts and headers count; the O2 findings do not.
    let both = phoneleak(&[
        "scan",
        "--format",
        "jsonl",
        "--baseline",
        b,
        "fixtures/o2-2012.pcap",
        "fixtures/value-leaks.pcap",
    ]);
    assert_eq!(both.status.code(), Some(1));
    let s = summary(&both);
    assert_eq!(s["new_leaks"], s["leak_count"].as_u64().unwrap() - 13);
    // A baseline written with --show-numbers matches a masked run too.
    let clear = phoneleak(&[
        "scan",
        "--format",
        "jsonl",
        "--show-numbers",
        "fixtures/o2-2012.pcap",
    ]);
    let clear_base = temp(
        "baseline-clear.jsonl",
        &String::from_utf8_lossy(&clear.stdout),
    );
    let out = phoneleak(&[
        "scan",
        "--baseline",
        clear_base.to_str().unwrap(),
        "fixtures/o2-2012.pcap",
    ]);
    assert_eq!(out.status.code(), Some(0));
    let t = String::from_utf8_lossy(&out.stdout);
    assert!(
        t.contains("(in baseline)") && t.contains("new leaks"),
        "{t}"
    );
    // Not JSON: a usage error naming the line.
    let junk = temp("junk.jsonl", "{\"type\":\"summary\"}\nnot json\n");
    let out = phoneleak(&[
        "scan",
        "--baseline",
        junk.to_str().unwrap(),
        "fixtures/o2-2012.pcap",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("line 2"));
    let missing = phoneleak(&[
        "scan",
        "--baseline",
        "no/such/file.jsonl",
        "fixtures/o2-2012.pcap",
    ]);
    assert_eq!(missing.status.code(), Some(2));
    for p in [base, clear_base, junk] {
        let _ = std::fs::remove_file(p);
    }
}

#[test]
fn aggregate_report_says_who_received_the_number() {
    let out = phoneleak(&["scan", "--format", "jsonl", "fixtures/o2-2012.pcap"]);
    let all = lines(&out);
    let summaries: Vec<&Value> = all.iter().filter(|v| v["type"] == "leak_summary").collect();
    let dest: Vec<&&Value> = summaries
        .iter()
        .filter(|v| v["group"] == "destination")
        .collect();
    let hosts: BTreeSet<&str> = dest.iter().map(|v| v["host"].as_str().unwrap()).collect();
    assert_eq!(hosts.len(), 5);
    assert_eq!(
        dest.iter()
            .map(|v| v["requests"].as_u64().unwrap())
            .sum::<u64>(),
        13
    );
    for d in &dest {
        assert_eq!(d["number"], "+44*******123");
        assert_eq!(d["header"], "x-up-calling-line-id");
        assert!(d["first_seen"].as_str().unwrap() <= d["last_seen"].as_str().unwrap());
    }
    let per_header: Vec<&&Value> = summaries
        .iter()
        .filter(|v| v["group"] == "header")
        .collect();
    assert_eq!(per_header.len(), 1);
    assert_eq!(per_header[0]["numbers"], 1);
    assert_eq!(per_header[0]["hosts"], 5);
    assert_eq!(per_header[0]["requests"], 13);
    // leak_summary lines come after the requests and before the summary.
    let kinds: Vec<&str> = all.iter().map(|v| v["type"].as_str().unwrap()).collect();
    let first_summary = kinds.iter().position(|k| *k == "leak_summary").unwrap();
    assert!(kinds[..first_summary].iter().all(|k| *k == "request"));
    assert!(
        kinds[first_summary..kinds.len() - 1]
            .iter()
            .all(|k| *k == "leak_summary")
    );
    assert_eq!(kinds.last(), Some(&"summary"));

    let text = String::from_utf8_lossy(&phoneleak(&["scan", "fixtures/value-leaks.pcap"]).stdout)
        .to_string();
    let table = &text[text.find("Who received the number").expect("table")..];
    assert!(table.contains("Per header"), "{table}");
    assert!(
        table.contains("cdn.example.net") && table.contains("query:mobile"),
        "{table}"
    );
    assert!(table.contains("cookie:msisdn"), "{table}");
    assert!(!table.contains("7700900"), "masked: {table}");
    let clear = String::from_utf8_lossy(
        &phoneleak(&["scan", "--show-numbers", "fixtures/value-leaks.pcap"]).stdout,
    )
    .to_string();
    assert!(clear.contains("+447700900456"), "{clear}");
}

#[test]
fn headers_command_prints_the_catalogue() {
    let out = phoneleak(&["headers"]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("x-up-calling-line-id") && text.contains("O2 UK"),
        "{text}"
    );
    assert!(text.contains("seen by") && text.contains("source"));
    let out = phoneleak(&["headers", "--format", "json"]);
    assert_eq!(out.status.code(), Some(0));
    let v: Value = serde_json::from_slice(&out.stdout).expect("a JSON array");
    let rows = v.as_array().unwrap();
    assert!(rows.len() > 80, "{}", rows.len());
    for r in rows {
        for field in ["name", "kind", "carries", "seen_by", "source"] {
            assert!(r[field].as_str().is_some_and(|s| !s.is_empty()), "{r}");
        }
        assert!(r["tier"] == 1 || r["tier"] == 2, "{r}");
    }
    assert!(
        rows.iter()
            .any(|r| r["name"] == "x-uidh" && r["kind"] == "subscriber-id-header")
    );
    assert_eq!(
        phoneleak(&["headers", "--format", "xml"]).status.code(),
        Some(2)
    );
}

/// `scan -f FILTER` as `tcpdump -r FILE FILTER`: libpcap's compiler, on the
/// outermost frame; the same output for any --threads.
#[test]
#[cfg(feature = "live")]
fn a_capture_filter_selects_packets_like_tcpdump_r() {
    let run = |threads: &str, filter: &str| {
        phoneleak(&[
            "scan",
            "--format",
            "jsonl",
            "--threads",
            threads,
            "-f",
            filter,
            "fixtures/o2-2012.pcap",
        ])
    };
    let all = phoneleak(&["scan", "--format", "jsonl", "fixtures/o2-2012.pcap"]);
    // Only the client's packets: every request is still there (packet numbers
    // and flow ids count the packets that passed the filter, so they differ).
    let client = run("1", "src host 10.112.47.9");
    assert_eq!(client.status.code(), Some(1));
    let unnumbered = |out: &Output| {
        let mut reqs = requests(out);
        for r in &mut reqs {
            let fields = r.as_object_mut().unwrap();
            fields.remove("packet");
            fields.remove("flow_id");
        }
        reqs
    };
    assert_eq!(unnumbered(&client), unnumbered(&all));
    assert!(requests(&client)[0]["packet"].as_u64() < requests(&all)[0]["packet"].as_u64());
    let summary = lines(&client).pop().unwrap();
    let total = lines(&all).pop().unwrap();
    assert!(summary["packets"].as_u64() < total["packets"].as_u64());
    assert!(
        String::from_utf8_lossy(&client.stderr).contains(&format!(
            "-f: {} of {} packets passed the filter",
            summary["packets"], total["packets"]
        )),
        "{}",
        String::from_utf8_lossy(&client.stderr)
    );
    assert_eq!(run("2", "src host 10.112.47.9").stdout, client.stdout);
    // Nothing passes: no leak, status 0.
    let none = run("2", "udp");
    assert_eq!(none.status.code(), Some(0));
    assert!(requests(&none).is_empty());
    // A filter that does not compile is a usage error, before reading.
    let bad = run("1", "tcp port");
    assert_eq!(bad.status.code(), Some(2));
    assert!(bad.stdout.is_empty());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("bad capture filter"));
}

#[test]
#[cfg(not(feature = "live"))]
fn a_capture_filter_without_libpcap_names_the_feature() {
    let out = phoneleak(&["scan", "-f", "tcp port 80", "fixtures/o2-2012.pcap"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("`live` cargo feature") && err.contains("tcpdump -r"),
        "{err}"
    );
}
