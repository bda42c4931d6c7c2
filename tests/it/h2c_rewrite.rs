//! The benchmark's h2c variant (`fixturegen::h2::rewrite`, written by
//! `examples/h2c_bench.rs`): on its sample capture, phoneleak reports the
//! same requests in the plain and the rewritten capture, one by one (time,
//! addresses, method, target, host, headers, leaks, body), HTTP/2 with a
//! stream id in the second; `bench/h2c_same.py` makes the same comparison
//! on the benchmark captures.
use serde_json::{Value, json};

use fixturegen::h2::rewrite;

use crate::common::{phoneleak, scratch};

/// Header fields HTTP/2 does not carry, and Host (`:authority`).
const DROPPED: &[&str] = &[
    "connection",
    "keep-alive",
    "proxy-connection",
    "transfer-encoding",
    "upgrade",
    "host",
];

/// Every request line of a scan, without what differs between HTTP/1.x and
/// HTTP/2: the version, the stream id, the packet that completed it; an
/// absolute-form target as its path, header names lower-cased, the fields
/// HTTP/2 does not carry left out.
fn requests(capture: &std::path::Path) -> Vec<Value> {
    let out = phoneleak(&[
        "scan",
        "--format",
        "jsonl",
        "--all-requests",
        "--show-numbers",
        capture.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|v| v["type"] == "request")
        .map(|v| {
            let mut uri = v["uri"].as_str().unwrap().to_string();
            for scheme in ["http://", "https://"] {
                if let Some(rest) = uri.strip_prefix(scheme) {
                    let at = rest.find(['/', '?']).unwrap_or(rest.len());
                    uri = match &rest[at..] {
                        "" => "/".into(),
                        p if p.starts_with('?') => format!("/{p}"),
                        p => p.into(),
                    };
                }
            }
            let headers: Vec<Value> = v["headers"]
                .as_array()
                .unwrap()
                .iter()
                .map(|h| (h[0].as_str().unwrap().to_ascii_lowercase(), &h[1]))
                .filter(|(n, _)| !DROPPED.contains(&n.as_str()))
                .map(|(n, value)| json!([n, value]))
                .collect();
            let mut leaks = v["leaks"].as_array().unwrap().clone();
            for l in &mut leaks {
                l["header"] = json!(l["header"].as_str().unwrap().to_ascii_lowercase());
            }
            json!({
                "ts": v["ts"], "src": v["src"], "dst": v["dst"], "method": v["method"],
                "uri": uri, "host": v["host"], "headers": headers, "leaks": leaks,
                "body": v["body"], "truncated": v["truncated"], "h2": v.get("stream_id").is_some(),
            })
        })
        .collect()
}

#[test]
fn the_h2c_rewrite_carries_the_same_requests() {
    let dir = scratch("h2c-rewrite");
    let plain = rewrite::sample();
    let (h2c, counts) = rewrite::rewrite(&plain);
    std::fs::write(dir.join("plain.pcap"), &plain).unwrap();
    std::fs::write(dir.join("h2c.pcap"), &h2c).unwrap();
    let mut before = requests(&dir.join("plain.pcap"));
    let after = requests(&dir.join("h2c.pcap"));
    assert_eq!(before.len(), counts.requests);
    assert_eq!(after.len(), before.len(), "{after:#?}");
    assert!(after.iter().all(|r| r["h2"] == true), "{after:#?}");
    for r in &mut before {
        r["h2"] = json!(true);
    }
    // Requests are published when their stream ends: compare in one order.
    let key = |r: &Value| {
        (
            r["ts"].to_string(),
            r["src"].to_string(),
            r["uri"].to_string(),
        )
    };
    let (mut before, mut after) = (before, after);
    before.sort_by_key(key);
    after.sort_by_key(key);
    for (b, a) in before.iter().zip(&after) {
        assert_eq!(b, a);
    }
    let leaking = after.iter().filter(|r| r["leaks"] != json!([])).count();
    assert_eq!(leaking, 4);
}
