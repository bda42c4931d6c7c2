//! Findings say where they came from: the packet that completed each request
//! (as tshark numbers frames), the file, the flow, the Community ID and the
//! split addresses, in JSON, text and HTML alike.
use std::process::{Command, Output};

use serde_json::Value;

use crate::common::phoneleak;

fn requests(out: &Output) -> Vec<Value> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).expect("json"))
        .filter(|v| v["type"] == "request")
        .collect()
}

#[test]
fn request_lines_carry_their_provenance() {
    let out = phoneleak(&[
        "scan",
        "--format",
        "jsonl",
        "fixtures/o2-2012.pcap",
        "fixtures/value-leaks.pcap",
    ]);
    let reqs = requests(&out);
    assert!(reqs.len() > 10);
    for r in &reqs {
        let file = r["file"].as_str().expect("file");
        assert!(file.starts_with("fixtures/"), "{r}");
        assert!(r["packet"].as_u64().expect("packet") >= 1);
        assert!(r["flow_id"].as_u64().expect("flow") >= 1);
        assert!(r["packet"].as_u64() >= r["flow_id"].as_u64());
        let cid = r["community_id"].as_str().expect("community id");
        assert!(cid.starts_with("1:") && cid.len() == 30, "{cid}");
        let src = format!("{}:{}", r["src_ip"].as_str().unwrap(), r["src_port"]);
        let dst = format!("{}:{}", r["dest_ip"].as_str().unwrap(), r["dest_port"]);
        assert_eq!(r["src"].as_str(), Some(src.as_str()));
        assert_eq!(r["dst"].as_str(), Some(dst.as_str()));
    }
    // One flow, one Community ID.
    let same_flow: Vec<&Value> = reqs
        .iter()
        .filter(|r| r["file"] == reqs[0]["file"] && r["flow_id"] == reqs[0]["flow_id"])
        .collect();
    assert!(same_flow.len() > 1);
    assert!(
        same_flow
            .iter()
            .all(|r| r["community_id"] == reqs[0]["community_id"])
    );
    // The same for any number of threads.
    let two = phoneleak(&[
        "scan",
        "--format",
        "jsonl",
        "--threads",
        "2",
        "fixtures/o2-2012.pcap",
        "fixtures/value-leaks.pcap",
    ]);
    assert_eq!(out.stdout, two.stdout);
}

#[test]
fn packet_numbers_are_tsharks_frame_numbers() {
    let Ok(tshark) = Command::new("tshark")
        .args([
            "-r",
            "fixtures/o2-2012.pcap",
            "-T",
            "fields",
            "-e",
            "frame.number",
            "-Y",
            "http.request",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
    else {
        crate::common::skip_system("SKIPPED: tshark is not installed");
        return;
    };
    let frames: Vec<u64> = String::from_utf8_lossy(&tshark.stdout)
        .lines()
        .filter_map(|l| l.trim().parse().ok())
        .collect();
    let out = phoneleak(&[
        "scan",
        "--format",
        "jsonl",
        "--all-requests",
        "fixtures/o2-2012.pcap",
    ]);
    let packets: Vec<u64> = requests(&out)
        .iter()
        .filter_map(|r| r["packet"].as_u64())
        .collect();
    assert!(!frames.is_empty());
    assert_eq!(packets, frames);
}

#[test]
fn text_and_html_name_the_packet_file_and_flow() {
    let tmp = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("provenance.html");
    let html = tmp.display().to_string();
    let out = phoneleak(&[
        "scan",
        "--html",
        &html,
        "fixtures/o2-2012.pcap",
        "fixtures/value-leaks.pcap",
    ]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("  packet   4 of fixtures/o2-2012.pcap  flow 1  1:"),
        "{text}"
    );
    let single = phoneleak(&["scan", "fixtures/o2-2012.pcap"]);
    assert!(String::from_utf8_lossy(&single.stdout).contains("  packet   4  flow 1  1:"));
    let doc = std::fs::read_to_string(&tmp).expect("html");
    assert!(doc.contains("packet 4 of <code>fixtures/o2-2012.pcap</code> · flow 1 · <code>1:"));
    // The table has the text report's where column, and kinds named as in text and JSON.
    assert!(doc.contains("<th>where</th>"));
    assert!(doc.contains("<td>cookie:msisdn</td>"), "where column");
    assert!(doc.contains("<td>phone-number-value</td>") && doc.contains("<td>msisdn-header</td>"));
    assert!(!doc.contains(">phone number<"));
}

/// Tunnelled requests name the outer endpoints and the GTP-U TEID of the
/// packet that completed them, as tshark reads that packet; after a handover
/// between base stations the new one.
#[test]
fn tunnel_endpoints_and_teid_are_tsharks() {
    if Command::new("tshark").arg("-v").output().is_err() {
        crate::common::skip_system("SKIPPED: tshark is not installed");
        return;
    }
    let mut base_stations = std::collections::BTreeSet::new();
    for file in ["fixtures/gtpu.pcap", "fixtures/gtpu-handover.pcap"] {
        let out = phoneleak(&["scan", "--format", "jsonl", "--all-requests", file]);
        let reqs = requests(&out);
        assert!(!reqs.is_empty(), "{file}");
        for r in &reqs {
            let t = &r["tunnel"];
            assert_eq!(t["proto"], "gtp-u", "{r}");
            let frame = format!("frame.number=={}", r["packet"]);
            let fields = Command::new("tshark")
                .args([
                    "-r",
                    file,
                    "-Y",
                    &frame,
                    "-T",
                    "fields",
                    "-E",
                    "separator=;",
                ])
                .args(["-e", "ip.src", "-e", "ip.dst", "-e", "gtp.teid"])
                .current_dir(env!("CARGO_MANIFEST_DIR"))
                .output()
                .unwrap();
            let line = String::from_utf8_lossy(&fields.stdout).trim().to_string();
            // Outer first: "outer,inner;outer,inner;teid".
            let parts: Vec<&str> = line.split(';').collect();
            let first = |i: usize| parts[i].split(',').next().unwrap().to_string();
            let teid = u64::from_str_radix(parts[2].trim_start_matches("0x"), 16).unwrap();
            assert_eq!(t["src_ip"].as_str().unwrap(), first(0), "{file} {line}");
            assert_eq!(t["dest_ip"].as_str().unwrap(), first(1), "{file} {line}");
            assert_eq!(t["teid"].as_u64(), Some(teid), "{file} {line}");
            base_stations.insert(first(0));
        }
    }
    assert!(
        base_stations.len() > 1,
        "handovers name more than one base station"
    );
    // The text report says it too.
    let text = phoneleak(&["scan", "fixtures/gtpu.pcap"]);
    assert!(
        String::from_utf8_lossy(&text.stdout)
            .contains("  tunnel   gtp-u 172.16.1.10 -> 172.16.2.20 teid 0x"),
        "{}",
        String::from_utf8_lossy(&text.stdout)
    );
}
