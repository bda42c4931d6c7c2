//! `scan --discover` on a generated capture (fixturegen's
//! `vantage::supercookie`): an unnamed per-subscriber token among benign
//! headers is found, and nothing else, the same at any `--threads`; the
//! fixtures (hostile ones included) give no candidate.
use serde_json::Value;

use crate::common::{phoneleak, scratch};

fn discover_lines(out: &std::process::Output) -> Vec<Value> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|v| {
            v["type"]
                .as_str()
                .is_some_and(|t| t.starts_with("discover"))
        })
        .collect()
}

#[test]
fn a_supercookie_is_found_and_nothing_else() {
    let dir = scratch("discover-supercookie");
    let file = dir.join("supercookie.pcap");
    std::fs::write(&file, fixturegen::vantage::supercookie()).unwrap();
    let file = file.to_string_lossy().to_string();
    let mut outputs = Vec::new();
    for threads in ["1", "3"] {
        let out = phoneleak(&[
            "scan",
            "--discover",
            "--format",
            "jsonl",
            "--threads",
            threads,
            &file,
        ]);
        assert_eq!(out.status.code(), Some(0), "no leak in it");
        outputs.push(discover_lines(&out));
    }
    assert_eq!(outputs[0], outputs[1], "the same at any --threads");
    let lines = &outputs[0];
    let rows: Vec<&Value> = lines.iter().filter(|l| l["type"] == "discover").collect();
    assert_eq!(rows.len(), 1, "{lines:?}");
    let row = rows[0];
    assert_eq!(row["header"], "X-Carrier-Tag");
    assert_eq!(row["values"], 3);
    assert_eq!(row["clients"], 3);
    assert_eq!(row["sites"], 6, "five sites and the app's API");
    assert_eq!(row["requests"], 39);
    assert_eq!(row["confidence"], "high");
    // Masked like identifiers: the last three characters.
    assert_eq!(row["examples"][0], "*************************DQ=");
    let summary = lines.last().unwrap();
    assert_eq!(summary["type"], "discover_summary");
    assert_eq!(summary["candidates"], 1);
    // X-Build, X-App-Install and X-Carrier-Tag are followed; only one reported.
    assert_eq!(summary["unregistered_names"], 3);
    let clear = phoneleak(&[
        "scan",
        "--discover",
        "--show-numbers",
        "--format",
        "jsonl",
        &file,
    ]);
    let clear = discover_lines(&clear);
    assert_eq!(clear[0]["examples"][0], "MzMyMjExMDA5OTg4Nzc2NjU1NDQ=");
    // The text report's table.
    let text = phoneleak(&["scan", "--discover", &file]);
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains("Discovered headers"), "{text}");
    assert!(text.contains("X-Carrier-Tag"), "{text}");
    // `merge` says it leaves the candidates out, and merges the rest.
    let part = dir.join("part.jsonl");
    let scan = phoneleak(&["scan", "--discover", "--format", "jsonl", &file]);
    std::fs::write(&part, &scan.stdout).unwrap();
    let merged = phoneleak(&["merge", "--format", "jsonl", &part.to_string_lossy()]);
    assert_eq!(merged.status.code(), Some(0));
    let err = String::from_utf8_lossy(&merged.stderr);
    assert!(err.contains("--discover lines are left out"), "{err}");
    assert!(discover_lines(&merged).is_empty());
}

#[test]
fn the_fixtures_have_no_candidate() {
    let out = phoneleak(&["scan", "--discover", "--format", "jsonl", "fixtures"]);
    let lines = discover_lines(&out);
    let summary = lines.last().unwrap();
    assert_eq!(summary["candidates"], 0, "{lines:?}");
}

#[test]
fn behind_a_proxy_only_the_token_is_found() {
    // Every request from the proxy's one address: X-Build, one value to
    // every site, cannot be told from one subscriber's token and is left
    // out; X-Carrier-Tag, a value per subscriber, is found.
    let dir = scratch("discover-proxy");
    let file = dir.join("supercookie-proxy.pcap");
    std::fs::write(&file, fixturegen::vantage::supercookie_behind_proxy()).unwrap();
    let out = phoneleak(&[
        "scan",
        "--discover",
        "--format",
        "jsonl",
        &file.to_string_lossy(),
    ]);
    assert_eq!(out.status.code(), Some(0));
    let lines = discover_lines(&out);
    let rows: Vec<&Value> = lines.iter().filter(|l| l["type"] == "discover").collect();
    assert_eq!(rows.len(), 1, "{lines:?}");
    assert_eq!(rows[0]["header"], "X-Carrier-Tag");
    assert_eq!(rows[0]["values"], 3);
    assert_eq!(rows[0]["clients"], 1);
    assert_eq!(rows[0]["confidence"], "medium");
    let summary = lines.last().unwrap();
    assert_eq!(summary["candidates"], 1);
    assert_eq!(summary["single_value_names"], 1, "X-Build, counted");
    let text = phoneleak(&["scan", "--discover", &file.to_string_lossy()]);
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(
        text.contains("left out: 1 header names with one value"),
        "{text}"
    );
}
