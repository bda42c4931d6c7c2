//! Captures whose bytes attack the report rather than the memory
//! (`fixturegen::hostile::content`): cells of any length must not break a
//! format (`std::fmt` panics on a width over 65,535) nor multiply the report's
//! size.
use std::path::Path;
use std::process::Output;

use fixturegen::hostile::content;
use serde_json::Value;

use crate::common::{phoneleak, scratch};

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Runs the binary; its status must be `status`, without a panic.
fn run(args: &[&str], status: i32) -> Output {
    let out = phoneleak(args);
    let err = text(&out.stderr);
    assert!(!err.contains("panicked"), "{args:?}: {err}");
    assert_eq!(out.status.code(), Some(status), "{args:?}: {err}");
    out
}

fn write_capture(path: &Path, requests: &[Vec<u8>]) {
    let file = std::fs::File::create(path).expect("create");
    content::write(requests, std::io::BufWriter::new(file)).expect("write");
}

fn request_lines(jsonl: &str) -> Vec<Value> {
    jsonl
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).expect("JSON"))
        .filter(|v| v["type"] == "request")
        .collect()
}

/// Every format and `merge` of the run's own JSON lines, with cells of
/// `len` characters (a query key of `key_len`): no panic, the long texts
/// whole, and a text report not padded out to the longest cell on every row.
fn long_cells(len: usize, key_len: usize) {
    let dir = scratch(&format!("long-cells-{len}"));
    let pcap = dir.join("long.pcap");
    let mut requests = content::long_cells(len);
    requests.insert(2, content::long_query_key(key_len));
    write_capture(&pcap, &requests);
    let p = |name: &str| dir.join(name).display().to_string();
    let (pcap, jsonl, html, merged_html) = (p("long.pcap"), p("a.jsonl"), p("a.html"), p("m.html"));
    let limit = (len + 4096).to_string();
    let host = format!("{}.example.com", "h".repeat(len));
    let header = format!("X-{}", "N".repeat(len));

    // Text on standard output, and the HTML report.
    let scan = run(
        &["scan", "--max-header-bytes", &limit, "--html", &html, &pcap],
        1,
    );
    let report = text(&scan.stdout);
    assert_eq!(
        report.matches("\n  leak ").count(),
        4,
        "{}",
        &report[..2000]
    );
    assert!(report.contains(&format!("  host     {host}\n")));
    assert!(report.contains(&format!("  {host}  x-msisdn ")));
    // Each long text shows a bounded number of times, unpadded: 8 copies of
    // `len` and 4 of `key_len` (padding each row to the longest cell would
    // add a copy of it per row and column).
    let shown = 8 * len + 4 * key_len;
    assert!(report.len() < shown + 20_000, "{} bytes", report.len());
    assert!(!report.contains(&" ".repeat(200)));
    // The HTML report clips long texts.
    let page = std::fs::read_to_string(&html).expect("HTML report");
    let (host_start, header_start) = (&host[..150], &header[..150]);
    assert!(page.contains(host_start) && page.contains(header_start));
    assert!(page.len() < len + key_len + 200_000, "{} bytes", page.len());

    // JSON lines, the text summary on standard error.
    let scan = run(
        &[
            "scan",
            "--max-header-bytes",
            &limit,
            "--format",
            "jsonl",
            "-o",
            &jsonl,
            &pcap,
        ],
        1,
    );
    assert!(text(&scan.stderr).contains("Who received the number"));
    let lines = std::fs::read_to_string(&jsonl).expect("JSON lines");
    let requests = request_lines(&lines);
    assert_eq!(requests.len(), 4);
    assert_eq!(requests[0]["host"], host.as_str());
    assert_eq!(requests[1]["leaks"][0]["header"], header.as_str());
    assert_eq!(requests[2]["leaks"][0]["key"], "k".repeat(key_len).as_str());
    assert_eq!(requests[3]["leaks"][0]["key"], "c".repeat(len).as_str());
    for r in &requests {
        assert_eq!(r["leaks"][0]["number"], "+44*******123", "{}", r["uri"]);
    }

    // merge of that run's own lines: the same reports.
    let merged = run(&["merge", "--html", &merged_html, &jsonl], 1);
    assert_eq!(text(&merged.stdout), report);
    let merged = run(&["merge", "--format", "jsonl", &jsonl], 1);
    assert_eq!(text(&merged.stdout), lines);
    let merged_page = std::fs::read_to_string(&merged_html).expect("merged HTML report");
    assert!(merged_page.len() < len + key_len + 200_000);
    assert!(merged_page.contains(host_start) && merged_page.contains(header_start));
}

#[test]
fn cells_of_70k_characters_in_every_format_and_merge() {
    long_cells(70_000, 70_000);
}

#[test]
fn cells_of_4m_characters_in_every_format_and_merge() {
    long_cells(4_000_000, 70_000);
}
