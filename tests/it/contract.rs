//! The JSON-lines contract: every field any `request`, leak, `leak_summary`
//! or `summary` line emits on the fixtures is documented in a field table of
//! its section of `docs/output.md`, and every field those tables name is
//! emitted by some run (runs with `--subject-key`, `--baseline` and
//! `--shard` included), but for the few that need a live capture or a full
//! table, listed below.
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;

use serde_json::Value;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn jsonl(args: &[&str]) -> Vec<Value> {
    let out = Command::new(env!("CARGO_BIN_EXE_phoneleak"))
        .args(args)
        .current_dir(root())
        .output()
        .expect("run phoneleak");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

/// Field names of one object, nested objects flattened into `a.b`; the
/// objects of an array into `a[].b` (only the last part is compared with the
/// docs, which name nested fields by their own name).
fn collect(prefix: &str, v: &Value, out: &mut BTreeSet<String>) {
    let Value::Object(map) = v else { return };
    for (k, child) in map {
        let path = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        out.insert(path.clone());
        match child {
            Value::Object(_) => collect(&path, child, out),
            Value::Array(items) => {
                for item in items {
                    collect(&format!("{path}[]"), item, out);
                }
            }
            _ => {}
        }
    }
}

/// The identifiers written in backticks in the table rows of each `### `
/// section of docs/output.md, by section title; and, separately, the names
/// in the first column.
fn documented() -> (
    BTreeMap<String, BTreeSet<String>>,
    BTreeMap<String, BTreeSet<String>>,
) {
    let doc = std::fs::read_to_string(root().join("docs/output.md")).unwrap();
    let mut words: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut first: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut section = String::new();
    for line in doc.lines() {
        if let Some(title) = line.strip_prefix("### ") {
            section = title
                .trim_start_matches('`')
                .split('`')
                .next()
                .unwrap_or("")
                .to_string();
            continue;
        }
        if line.starts_with("## ") {
            section.clear();
        }
        if section.is_empty() || !line.starts_with('|') {
            continue;
        }
        let spans = |text: &str| -> Vec<String> {
            text.split('`')
                .skip(1)
                .step_by(2)
                .map(str::to_string)
                .collect()
        };
        for span in spans(line) {
            for word in span.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')) {
                if !word.is_empty() {
                    words
                        .entry(section.clone())
                        .or_default()
                        .insert(word.to_string());
                }
            }
        }
        let cell = line.split('|').nth(1).unwrap_or("");
        for span in spans(cell) {
            for name in span.split(", ") {
                first
                    .entry(section.clone())
                    .or_default()
                    .insert(name.to_string());
            }
        }
    }
    (words, first)
}

#[test]
fn every_json_field_is_documented_and_every_documented_field_is_emitted() {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("key");
    std::fs::write(&key, b"contract test key").unwrap();
    let key = key.to_string_lossy().to_string();
    let baseline = dir.path().join("baseline.jsonl");
    let mut captures: Vec<String> = std::fs::read_dir(root().join("fixtures"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let n = p.to_string_lossy();
            n.ends_with(".pcap") || n.ends_with(".pcapng")
        })
        .map(|p| format!("fixtures/{}", p.file_name().unwrap().to_string_lossy()))
        .collect();
    captures.sort();
    let all: Vec<&str> = captures.iter().map(String::as_str).collect();
    let base = ["scan", "--format", "jsonl", "--all-requests"];
    let run = |extra: &[&str], files: &[&str]| {
        let args: Vec<&str> = base.iter().chain(extra).chain(files).copied().collect();
        jsonl(&args)
    };
    let o2 = ["fixtures/o2-2012.pcap"];
    std::fs::write(
        &baseline,
        run(&[], &o2)
            .iter()
            .map(|v| format!("{v}\n"))
            .collect::<String>(),
    )
    .unwrap();
    let baseline = baseline.to_string_lossy().to_string();
    let mut lines = run(&[], &all);
    lines.extend(run(&["--subject-key", &key], &all));
    lines.extend(run(&["--baseline", &baseline], &o2));
    lines.extend(run(&["--shard", "1/2"], &o2));
    // A request decrypted from TLS (its `tls` object): a generated TLS 1.2
    // capture, whose ALPN is visible, with its key log.
    let tls = fixturegen::tls::all()
        .into_iter()
        .find(|f| f.fixture.name == "tls12-aes128gcm.pcap")
        .unwrap();
    let (tls_capture, tls_keys) = (dir.path().join("tls.pcap"), dir.path().join("tls.keys"));
    std::fs::write(&tls_capture, &tls.fixture.bytes).unwrap();
    std::fs::write(&tls_keys, &tls.keylog).unwrap();
    let tls_keys = tls_keys.to_string_lossy().to_string();
    let tls_capture = tls_capture.to_string_lossy().to_string();
    lines.extend(run(&["--keylog", &tls_keys], &[&tls_capture]));
    // HTTP/2 requests (their `stream_id`): a generated h2c capture.
    let h2 = fixturegen::h2::all()
        .into_iter()
        .find(|f| f.name == "h2c-prior-knowledge.pcap")
        .unwrap();
    let h2_capture = dir.path().join("h2.pcap");
    std::fs::write(&h2_capture, &h2.bytes).unwrap();
    let h2_capture = h2_capture.to_string_lossy().to_string();
    let h2_lines = run(&[], &[&h2_capture]);
    assert!(
        h2_lines
            .iter()
            .any(|l| l["type"] == "request" && l["stream_id"].is_u64()),
        "no HTTP/2 request with its stream_id"
    );
    lines.extend(h2_lines);
    // A request an HTTP/2 server promised (`pushed`, `associated_stream_id`).
    let push = fixturegen::h2::all()
        .into_iter()
        .find(|f| f.name == "h2c-push.pcap")
        .unwrap();
    let push_capture = dir.path().join("h2-push.pcap");
    std::fs::write(&push_capture, &push.bytes).unwrap();
    let push_capture = push_capture.to_string_lossy().to_string();
    let push_lines = run(&[], &[&push_capture]);
    assert!(
        push_lines
            .iter()
            .any(|l| l["pushed"] == true && l["associated_stream_id"].is_u64()),
        "no pushed request"
    );
    lines.extend(push_lines);

    // Fields seen, per section (leak objects are documented in `request`).
    let mut seen: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for line in &lines {
        let kind = line["type"].as_str().unwrap_or("?").to_string();
        let mut fields = BTreeSet::new();
        collect("", line, &mut fields);
        seen.entry(kind).or_default().extend(fields);
    }
    let (words, first) = documented();
    let mut undocumented = Vec::new();
    for (kind, fields) in &seen {
        let Some(doc) = words.get(kind) else {
            panic!("no section of docs/output.md documents `{kind}` lines");
        };
        for field in fields {
            let leaf = field.rsplit(['.', ']']).next().unwrap_or(field);
            if leaf != "type" && !doc.contains(leaf) {
                undocumented.push(format!("{kind}: {field}"));
            }
        }
    }
    assert!(
        undocumented.is_empty(),
        "fields emitted but not in docs/output.md's tables: {undocumented:?}"
    );

    // The reverse, for the names the first columns give one by one.
    let needs_more = [
        // Only past the table's cap of 100,000 rows (tests in src/report).
        "overflow",
        // `live` only (tests/it/live.rs).
        "capture.interface",
        "capture.received",
        "capture.dropped_kernel",
        "capture.dropped_interface",
    ];
    let mut never = Vec::new();
    for kind in ["request", "leak_summary", "summary"] {
        let emitted: BTreeSet<String> = seen[kind]
            .iter()
            .flat_map(|f| {
                let plain = f.replace("[]", "");
                let leaf = plain.rsplit('.').next().unwrap_or("").to_string();
                [plain, leaf]
            })
            .collect();
        for name in first.get(kind).into_iter().flatten() {
            let simple = name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.');
            if !simple || needs_more.contains(&name.as_str()) {
                continue;
            }
            if !emitted.contains(name) {
                never.push(format!("{kind}: {name}"));
            }
        }
    }
    assert!(
        never.is_empty(),
        "documented in docs/output.md but never emitted: {never:?}"
    );
}

#[test]
fn every_diff_and_discover_field_is_documented_and_emitted() {
    let dir = tempfile::tempdir().unwrap();
    let mut lines = Vec::new();
    for p in fixturegen::vantage::generated() {
        let (b, a) = (dir.path().join("b.pcap"), dir.path().join("a.pcap"));
        std::fs::write(&b, &p.before).unwrap();
        std::fs::write(&a, &p.after).unwrap();
        let (b, a) = (b.to_string_lossy(), a.to_string_lossy());
        lines.extend(jsonl(&["diff", "--format", "jsonl", &b, &a]));
    }
    let sc = dir.path().join("supercookie.pcap");
    std::fs::write(&sc, fixturegen::vantage::supercookie()).unwrap();
    lines.extend(jsonl(&[
        "scan",
        "--discover",
        "--format",
        "jsonl",
        &sc.to_string_lossy(),
    ]));
    let mut seen: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for line in &lines {
        let kind = line["type"].as_str().unwrap_or("?").to_string();
        let mut fields = BTreeSet::new();
        collect("", line, &mut fields);
        seen.entry(kind).or_default().extend(fields);
    }
    let (words, first) = documented();
    for kind in [
        "pair",
        "unmatched",
        "diff_header",
        "diff_summary",
        "discover",
        "discover_summary",
    ] {
        let fields = seen.get(kind).unwrap_or_else(|| panic!("no {kind} line"));
        let doc = &words[kind];
        for field in fields {
            let leaf = field.rsplit(['.', ']']).next().unwrap_or(field);
            // `hosts` is a map: its keys are host names, not fields.
            if leaf != "type" && !field.starts_with("hosts.") {
                assert!(
                    doc.contains(leaf),
                    "{kind}: {field} is not in docs/output.md"
                );
            }
        }
        let emitted: BTreeSet<String> = fields
            .iter()
            .map(|f| f.rsplit(['.', ']']).next().unwrap_or(f).to_string())
            .collect();
        for name in first.get(kind).into_iter().flatten() {
            // `errors` is empty for these inputs (tests/it/diff.rs reads bad ones).
            if name != "errors" {
                assert!(
                    emitted.contains(name.as_str()) || fields.contains(name.as_str()),
                    "{kind}: {name} documented but never emitted"
                );
            }
        }
    }
}
