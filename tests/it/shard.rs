//! `scan --shard I/N`: for N = 1..4, `merge` of the N parts of a scan is
//! byte-identical to one scan (JSON lines and text, counters included, same
//! exit status) on every fixture (tunnels, fragments, gaps, cut captures),
//! with the parts on several threads; a part given alone is refused.
use std::path::Path;

use crate::common::{phoneleak, scratch};

/// Every fixture capture, sorted.
fn fixtures() -> Vec<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .expect("fixtures")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            matches!(
                p.extension().and_then(|e| e.to_str()),
                Some("pcap" | "pcapng")
            )
        })
        .map(|p| format!("fixtures/{}", p.file_name().unwrap().to_string_lossy()))
        .collect();
    files.sort();
    files
}

/// Scans `files` in `n` parts (on two threads each) and returns the parts'
/// paths; `None` when nothing of the files could be read (no output).
fn parts(files: &[&str], n: usize, tmp: &Path) -> Option<Vec<String>> {
    let mut out = Vec::new();
    for i in 1..=n {
        let path = tmp.join(format!("part-{i}-of-{n}.jsonl"));
        let path_s = path.display().to_string();
        let shard = format!("{i}/{n}");
        let _ = std::fs::remove_file(&path);
        let mut args = vec![
            "scan",
            "--format",
            "jsonl",
            "-q",
            "--threads",
            "2",
            "--shard",
            &shard,
            "-o",
            &path_s,
        ];
        args.extend_from_slice(files);
        let run = phoneleak(&args);
        assert!(run.status.code().is_some(), "{files:?} {shard}");
        // A scan that reads nothing writes a summary of nothing (files 0,
        // status 2); the text report of one scan prints the errors alone, so
        // there is nothing to compare.
        let written = std::fs::read_to_string(&path).unwrap_or_default();
        if written.lines().count() == 1 && written.contains("\"files\":0,") {
            assert_eq!(run.status.code(), Some(2), "{files:?} {shard}");
            return None;
        }
        out.push(path_s);
    }
    Some(out)
}

/// For N = 1..=4: `merge` of the N `--shard` parts of a scan of `files` is
/// byte-identical to one scan (JSON lines and text) with the same status.
pub(crate) fn merge_equals_one_scan(files: &[&str], tmp: &Path) {
    for n in 1..=4 {
        let Some(parts) = parts(files, n, tmp) else {
            return;
        };
        for format in ["jsonl", "text"] {
            let mut one_args = vec!["scan", "--threads", "1", "--format", format];
            one_args.extend_from_slice(files);
            let one = phoneleak(&one_args);
            let mut merge_args = vec!["merge", "--format", format];
            merge_args.extend(parts.iter().map(String::as_str));
            let merged = phoneleak(&merge_args);
            assert_eq!(
                String::from_utf8_lossy(&merged.stdout),
                String::from_utf8_lossy(&one.stdout),
                "{files:?}, {n} parts, {format}: merge differs from one scan; merge stderr: {}",
                String::from_utf8_lossy(&merged.stderr)
            );
            assert_eq!(
                merged.status.code(),
                one.status.code(),
                "{files:?}, {n} parts"
            );
        }
    }
}

#[test]
fn merge_of_the_parts_equals_one_scan_on_every_fixture() {
    let tmp = scratch("shard-each");
    let files = fixtures();
    assert!(files.len() > 30);
    for f in &files {
        merge_equals_one_scan(&[f.as_str()], &tmp);
    }
}

#[test]
fn merge_of_the_parts_equals_one_scan_of_many_files() {
    // Several inputs in one sharded run (unreadable ones among them: only
    // the first part lists their errors and counts the files).
    let tmp = scratch("shard-many");
    let files = fixtures();
    let some: Vec<&str> = files
        .iter()
        .map(String::as_str)
        .filter(|f| !f.contains("mask-alike"))
        .collect();
    merge_equals_one_scan(&some, &tmp);
}

#[test]
fn parts_split_the_flows_and_only_the_first_counts_packets() {
    let tmp = scratch("shard-split");
    let parts = parts(&["fixtures/o2-2012.pcap"], 3, &tmp).unwrap();
    let summaries: Vec<serde_json::Value> = parts
        .iter()
        .map(|p| {
            let text = std::fs::read_to_string(p).unwrap();
            serde_json::from_str(text.lines().last().unwrap()).unwrap()
        })
        .collect();
    let one = phoneleak(&["scan", "--format", "jsonl", "fixtures/o2-2012.pcap"]);
    let one_text = String::from_utf8_lossy(&one.stdout);
    let whole: serde_json::Value = serde_json::from_str(one_text.lines().last().unwrap()).unwrap();
    for (i, s) in summaries.iter().enumerate() {
        assert_eq!(s["shard"], format!("{}/3", i + 1));
        let packets = if i == 0 { &whole["packets"] } else { &0.into() };
        assert_eq!(&s["packets"], packets, "part {}", i + 1);
    }
    let flows: Vec<u64> = summaries
        .iter()
        .map(|s| s["flow"]["flows"].as_u64().unwrap())
        .collect();
    assert_eq!(
        flows.iter().sum::<u64>(),
        whole["flow"]["flows"].as_u64().unwrap()
    );
    // The flows really are split: no part has them all.
    assert!(
        flows
            .iter()
            .all(|&f| f < whole["flow"]["flows"].as_u64().unwrap())
    );
}

#[test]
fn a_part_alone_or_out_of_order_is_refused() {
    let tmp = scratch("shard-refused");
    let parts = parts(&["fixtures/o2-2012.pcap"], 2, &tmp).unwrap();
    for args in [
        vec!["merge", parts[0].as_str()],
        vec!["merge", parts[1].as_str()],
        vec!["merge", parts[1].as_str(), parts[0].as_str()],
    ] {
        let out = phoneleak(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(out.stdout.is_empty(), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("give all N parts together"), "{err}");
    }
    let out = phoneleak(&["scan", "--shard", "3/2", "fixtures/o2-2012.pcap"]);
    assert_eq!(out.status.code(), Some(2));
}
