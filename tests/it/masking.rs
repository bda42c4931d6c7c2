//! Privacy by default, end to end: for every fixture, every number phoneleak
//! finds (read from a `--show-numbers` run) is shown in no output format
//! (JSON lines, text, HTML, the `-o` file with its stderr tables) with more
//! than its country code and last three digits.
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn phoneleak(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_phoneleak"))
        .args(args)
        .current_dir(root())
        .output()
        .expect("run phoneleak")
}

/// Every capture among the fixtures.
fn captures() -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(root().join("fixtures"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let name = p.file_name().unwrap().to_string_lossy();
            name.ends_with(".pcap") || name.ends_with(".pcapng")
        })
        .collect();
    out.sort();
    out
}

/// The clear E.164 numbers of every leak in a JSON-lines output.
fn numbers(jsonl: &[u8]) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    for line in String::from_utf8_lossy(jsonl).lines() {
        let Ok(v) = serde_json::from_str::<Value>(line) else {
            continue;
        };
        if let Some(leaks) = v["leaks"].as_array() {
            for leak in leaks {
                if let Some(n) = leak["number"].as_str() {
                    found.insert(n.trim_start_matches('+').to_string());
                }
            }
        }
    }
    found
}

/// The digits masking must hide: all but the country code (1–3 digits, the
/// shortest taken, so the check is at its strictest) and the last three.
fn hidden(digits: &str) -> Option<&str> {
    let inner = digits.get(1..digits.len().checked_sub(3)?)?;
    // Too short a run would match unrelated digits (ports, times).
    (inner.len() >= 5).then_some(inner)
}

#[test]
fn no_output_shows_a_found_number() {
    let dir = tempfile::tempdir().unwrap();
    let mut checked = 0;
    for capture in captures() {
        let path = capture.to_string_lossy().to_string();
        let clear = phoneleak(&["scan", "--format", "jsonl", "--show-numbers", &path]);
        let found = numbers(&clear.stdout);
        if found.is_empty() {
            continue;
        }
        let html = dir.path().join("report.html");
        let out_file = dir.path().join("out.txt");
        let html_arg = html.to_string_lossy().to_string();
        let out_arg = out_file.to_string_lossy().to_string();
        let runs = [
            phoneleak(&["scan", "--format", "jsonl", &path]),
            phoneleak(&["scan", &path]),
            phoneleak(&["scan", "--quiet", "--html", &html_arg, &path]),
            phoneleak(&["scan", "-o", &out_arg, &path]),
        ];
        let mut texts: Vec<(String, String)> = runs
            .iter()
            .enumerate()
            .map(|(i, o)| {
                let mut t = String::from_utf8_lossy(&o.stdout).to_string();
                t.push_str(&String::from_utf8_lossy(&o.stderr));
                (format!("run {i}"), t)
            })
            .collect();
        texts.push(("html".into(), std::fs::read_to_string(&html).unwrap()));
        texts.push((
            "-o file".into(),
            std::fs::read_to_string(&out_file).unwrap(),
        ));
        for number in &found {
            let Some(secret) = hidden(number) else {
                continue;
            };
            // The clear run must show it (else this check proves nothing).
            assert!(
                String::from_utf8_lossy(&clear.stdout).contains(secret),
                "{path}: --show-numbers does not show +{number}"
            );
            for (what, text) in &texts {
                assert!(
                    !text.contains(secret),
                    "{path}: {what} shows the hidden digits of a found number"
                );
            }
            checked += 1;
        }
    }
    assert!(checked >= 10, "only {checked} numbers checked");
}
