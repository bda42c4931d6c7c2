//! Request bodies end to end: every body kind and coding of the
//! request-bodies fixture is read and its leak reported with its key path,
//! the bomb and the gap are bounded and counted, `--max-body-bytes 0` reads
//! none, the output is the same at any `--threads`, and the bodies tshark
//! decodes (`http.file_data`) are the ones phoneleak reads, completed by
//! the same frames.
use std::collections::BTreeMap;
use std::process::Command;

use serde_json::Value;

use crate::common::phoneleak;

const FIXTURE: &str = "fixtures/request-bodies.pcap";

fn lines(args: &[&str]) -> Vec<Value> {
    let out = phoneleak(args);
    assert!(
        out.status.code().is_some_and(|c| c <= 1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn requests(all: &[Value]) -> Vec<&Value> {
    all.iter().filter(|v| v["type"] == "request").collect()
}

fn summary(all: &[Value]) -> &Value {
    all.iter().find(|v| v["type"] == "summary").unwrap()
}

#[test]
fn every_body_kind_and_coding_is_read_with_its_key_path() {
    let all = lines(&["scan", "--format", "jsonl", "--all-requests", FIXTURE]);
    let by_uri: BTreeMap<&str, &Value> = requests(&all)
        .into_iter()
        .map(|r| (r["uri"].as_str().unwrap(), r))
        .collect();
    let key = |uri: &str| -> (Option<String>, String) {
        let leaks = by_uri[uri]["leaks"].as_array().unwrap();
        assert_eq!(leaks.len(), 1, "{uri}: {leaks:?}");
        let l = &leaks[0];
        assert_eq!(l["header"], "(request-body)");
        assert_eq!(l["where"], "body");
        assert_eq!(l["number"], "+44*******123");
        (
            l["key"].as_str().map(str::to_string),
            by_uri[uri]["body"]["kind"].as_str().unwrap().to_string(),
        )
    };
    for (uri, want_key, kind) in [
        ("/sms/send", Some("to"), "form"),
        ("/v1/profile", Some("/user/phone"), "json"),
        ("/v1/events", Some("/msisdn"), "json"),
        ("/v1/signup", Some("mobile"), "multipart"),
        ("/soap/lookup", Some("/request/subscriber/msisdn"), "xml"),
        ("/v1/contact", Some("callback_phone"), "form"),
        ("/v1/sync", Some("/0/tel"), "json"),
        ("/feedback", None, "text"),
        ("/v1/bomb", Some("/phone"), "json"),
        ("/v1/upload-form", Some("msisdn"), "form"),
    ] {
        assert_eq!(
            key(uri),
            (want_key.map(str::to_string), kind.to_string()),
            "{uri}"
        );
    }
    // Only with --number: the bare number under a key that says nothing.
    assert_eq!(by_uri["/v1/prefs"]["leaks"], serde_json::json!([]));
    // Binary: not read.
    assert!(by_uri["/upload"].get("body").is_none());
    assert_eq!(by_uri["/upload"]["leaks"], serde_json::json!([]));
    let bomb = &by_uri["/v1/bomb"]["body"];
    assert_eq!(
        (bomb["encoding"].as_str(), bomb["truncated"].as_bool()),
        (Some("gzip"), Some(true))
    );
    assert!(bomb["length"].as_u64().unwrap() < 100_000);
    let gap = &by_uri["/v1/upload-form"]["body"];
    assert_eq!(gap["gap"], true);
    assert_eq!(by_uri["/v1/events"]["body"]["encoding"], "gzip");
    // The request after the body with a gap follows.
    assert!(by_uri.contains_key("/v1/after"));
    let body = &summary(&all)["body"];
    let count = |k: &str| body[k].as_u64().unwrap();
    assert_eq!(count("bodies"), 11);
    assert_eq!(count("skipped"), 1);
    assert_eq!(count("decoded"), 6);
    assert_eq!(count("decoded_over_limit"), 1);
    assert_eq!(count("gaps"), 1);
    assert_eq!(
        (
            count("json"),
            count("form"),
            count("multipart"),
            count("xml"),
            count("text")
        ),
        (5, 3, 1, 1, 1)
    );
    let known = lines(&[
        "scan",
        "--format",
        "jsonl",
        "--number",
        "+447700900123",
        FIXTURE,
    ]);
    let prefs = requests(&known)
        .into_iter()
        .find(|r| r["uri"] == "/v1/prefs")
        .unwrap();
    assert_eq!(prefs["leaks"][0]["kind"], "known-number");
    assert_eq!(prefs["leaks"][0]["where"], "body");
}

#[test]
fn bodies_off_limits_and_threads() {
    let off = lines(&[
        "scan",
        "--format",
        "jsonl",
        "--all-requests",
        "--max-body-bytes",
        "0",
        FIXTURE,
    ]);
    let reqs = requests(&off);
    assert_eq!(reqs.len(), 13);
    assert!(
        reqs.iter()
            .all(|r| r.get("body").is_none() && r["leaks"] == serde_json::json!([]))
    );
    assert_eq!(summary(&off)["body"]["bodies"], 0);
    // A small limit: the JSON bodies are cut before their number ends, so
    // nothing is invented from a cut number.
    let small = lines(&[
        "scan",
        "--format",
        "jsonl",
        "--all-requests",
        "--max-body-bytes",
        "24",
        FIXTURE,
    ]);
    for r in requests(&small) {
        for l in r["leaks"].as_array().unwrap() {
            assert_eq!(l["number"], "+44*******123", "{r}");
        }
    }
    assert!(summary(&small)["body"]["cut_at_limit"].as_u64().unwrap() >= 5);
    let one = phoneleak(&[
        "scan",
        "--format",
        "jsonl",
        "--all-requests",
        "--threads",
        "1",
        FIXTURE,
    ]);
    for threads in ["2", "3"] {
        let n = phoneleak(&[
            "scan",
            "--format",
            "jsonl",
            "--all-requests",
            "--threads",
            threads,
            FIXTURE,
        ]);
        assert_eq!(one.stdout, n.stdout, "--threads {threads}");
    }
}

#[test]
fn the_bodies_tshark_decodes_are_the_ones_read() {
    let Ok(tshark) = Command::new("tshark")
        .args([
            "-r",
            FIXTURE,
            "-Y",
            "http.request",
            "-T",
            "fields",
            "-E",
            "separator=|",
            "-e",
            "frame.number",
            "-e",
            "http.request.uri",
            "-e",
            "http.file_data",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
    else {
        crate::common::skip_system("SKIPPED: tshark is not installed");
        return;
    };
    let all = lines(&["scan", "--format", "jsonl", "--all-requests", FIXTURE]);
    let ours: BTreeMap<String, &Value> = requests(&all)
        .into_iter()
        .map(|r| (r["uri"].as_str().unwrap().to_string(), r))
        .collect();
    let mut checked = 0;
    for line in String::from_utf8_lossy(&tshark.stdout).lines() {
        let mut f = line.splitn(3, '|');
        let (Some(frame), Some(uri), Some(data)) = (f.next(), f.next(), f.next()) else {
            continue;
        };
        let r = ours
            .get(uri)
            .unwrap_or_else(|| panic!("{uri} not reported"));
        // The same frame completes the request (the body's last one).
        assert_eq!(r["packet"].as_u64(), frame.parse().ok(), "{uri}");
        // Where tshark decoded a body holding the number (it does not
        // decode zstd), phoneleak read it too and found the number, except
        // in the binary upload and under a key that says nothing.
        if data.contains("447700900123") && !["/upload", "/v1/prefs"].contains(&uri) {
            assert_eq!(r["leaks"][0]["where"], "body", "{uri}");
            checked += 1;
        }
    }
    if checked == 0 {
        eprintln!("SKIPPED: tshark decoded no body");
        return;
    }
    assert!(checked >= 8, "{checked}");
}
