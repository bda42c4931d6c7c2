//! `phoneleak merge`: merging per-file scans equals one scan of all the files,
//! byte for byte (JSON lines and text), on every fixture and on the shared
//! real captures when present; shards that did not finish are refused;
//! subject pseudonyms keep numbers that mask alike apart.
use std::path::Path;
use std::process::{Command, Output};

use crate::common::scratch;

fn phoneleak(args: &[&str], stdin: Option<&[u8]>) -> Output {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_phoneleak"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run phoneleak");
    let mut input = child.stdin.take().expect("stdin");
    if let Some(bytes) = stdin {
        input.write_all(bytes).expect("write stdin");
    }
    drop(input);
    child.wait_with_output().expect("wait")
}

fn captures(dir: &Path) -> Vec<String> {
    let mut files: Vec<String> = std::fs::read_dir(dir)
        .expect("read dir")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            matches!(
                p.extension().and_then(|e| e.to_str()),
                Some("pcap" | "pcapng")
            )
        })
        .map(|p| p.display().to_string())
        .collect();
    files.sort();
    files
}

/// Scans each file alone into a shard, merges the shards, and compares with one scan.
fn merge_equals_one_scan(files: &[String], tmp: &Path, extra: &[&str]) {
    let mut shards = Vec::new();
    let mut read = Vec::new();
    for (i, f) in files.iter().enumerate() {
        let shard = tmp.join(format!("{i:03}.jsonl"));
        let shard_s = shard.display().to_string();
        let mut args = vec!["scan", "--format", "jsonl", "-q", "-o", &shard_s];
        args.extend_from_slice(extra);
        args.push(f);
        let out = phoneleak(&args, None);
        assert!(out.status.code().is_some(), "{f}");
        let text = std::fs::read_to_string(&shard).expect("every JSON run writes its summary");
        let summary: serde_json::Value =
            serde_json::from_str(text.lines().last().expect("a summary line")).expect("JSON");
        assert_eq!(summary["type"], "summary", "{f}");
        if summary["files"] == 0 {
            // Nothing of it could be read (empty, not a capture): the scan
            // exits 2 with a summary naming the error; left out of both sides
            // here (a folder walk skips such files: the test below).
            assert_eq!(out.status.code(), Some(2), "{f}");
            continue;
        }
        shards.push(shard_s);
        read.push(f.clone());
    }
    let files = &read[..];
    let shard_args: Vec<&str> = shards.iter().map(String::as_str).collect();
    for format in [&["--format", "jsonl"][..], &["--format", "text"][..]] {
        let mut one_args = vec!["scan", "--threads", "1"];
        one_args.extend_from_slice(format);
        one_args.extend_from_slice(extra);
        one_args.extend(files.iter().map(String::as_str));
        let one = phoneleak(&one_args, None);
        let mut merge_args = vec!["merge"];
        merge_args.extend_from_slice(format);
        merge_args.extend_from_slice(&shard_args);
        let merged = phoneleak(&merge_args, None);
        assert_eq!(
            String::from_utf8_lossy(&merged.stdout),
            String::from_utf8_lossy(&one.stdout),
            "{format:?}: merge differs from one scan; merge stderr: {}",
            String::from_utf8_lossy(&merged.stderr)
        );
        assert_eq!(merged.status.code(), one.status.code(), "{format:?}");
    }
    // The shards concatenated on standard input merge the same.
    let cat: Vec<u8> = shards
        .iter()
        .flat_map(|s| std::fs::read(s).expect("shard"))
        .collect();
    let from_stdin = phoneleak(&["merge", "--format", "jsonl", "-"], Some(&cat));
    let mut one_args = vec!["scan", "--format", "jsonl"];
    one_args.extend_from_slice(extra);
    one_args.extend(files.iter().map(String::as_str));
    let one = phoneleak(&one_args, None);
    assert_eq!(
        String::from_utf8_lossy(&from_stdin.stdout),
        String::from_utf8_lossy(&one.stdout)
    );
}

#[test]
fn merge_of_per_file_scans_equals_one_scan_on_the_fixtures() {
    let files = captures(&Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures"));
    assert!(files.len() > 20, "{files:?}");
    // Without pseudonyms, the two numbers of mask-alike-a/-b become one
    // subject after merging (the documented lower bound); with a key, every
    // fixture merges exactly.
    let plain: Vec<String> = files
        .iter()
        .filter(|f| !f.contains("mask-alike"))
        .cloned()
        .collect();
    merge_equals_one_scan(&plain, &scratch("merge-fixtures"), &[]);
    let tmp = scratch("merge-fixtures-keyed");
    let key = tmp.join("key");
    std::fs::write(&key, b"another test key, long enough").expect("key");
    let key = key.display().to_string();
    merge_equals_one_scan(&files, &tmp, &["--subject-key", &key]);
}

#[test]
fn merge_of_per_file_scans_equals_one_scan_on_the_shared_captures() {
    let dir = Path::new("/work/shared/captures");
    if !dir.is_dir() {
        eprintln!("SKIPPED: {} is absent", dir.display());
        return;
    }
    let files = captures(dir);
    let tmp = scratch("merge-shared");
    merge_equals_one_scan(&files, &tmp, &[]);
}

#[test]
fn merge_of_per_file_parts_of_a_folder_with_non_captures_equals_one_scan_of_it() {
    // A folder as rotated archives hold them: captures, an empty file, a cut
    // file header, notes. Each file scanned alone (as a map step names it)
    // with --skip-non-captures, its part always ending with its summary;
    // merged, byte-identical to one scan of the folder, with the same status.
    let tmp = scratch("merge-folder-parts");
    let dir = tmp.join("archive");
    std::fs::create_dir_all(&dir).unwrap();
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    for name in ["o2-2012.pcap", "links.pcapng", "clean.pcap"] {
        std::fs::copy(fixtures.join(name), dir.join(name)).unwrap();
    }
    std::fs::write(dir.join("b-empty.pcap"), b"").unwrap();
    std::fs::write(dir.join("c.txt"), b"hi\n").unwrap();
    std::fs::write(dir.join("README.md"), b"rotated by logrotate\n").unwrap();
    let cut = std::fs::read(fixtures.join("clean.pcap")).unwrap();
    std::fs::write(dir.join("d-cut-header.pcap"), &cut[..10]).unwrap();
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path().display().to_string())
        .collect();
    files.sort();
    let dir_s = dir.display().to_string();
    for format in ["jsonl", "text"] {
        let mut parts = Vec::new();
        for (i, f) in files.iter().enumerate() {
            let part = tmp.join(format!("{i:03}.jsonl")).display().to_string();
            let out = phoneleak(
                &[
                    "scan",
                    "--format",
                    "jsonl",
                    "--exit-code",
                    "0",
                    "-q",
                    "--skip-non-captures",
                    "-o",
                    &part,
                    f,
                ],
                None,
            );
            let text = std::fs::read_to_string(&part).unwrap();
            assert!(
                text.lines()
                    .last()
                    .unwrap()
                    .starts_with("{\"type\":\"summary\""),
                "{f}: {text}"
            );
            // The cut file header is an error (status 2) in a part as in the folder.
            let want = if f.ends_with("d-cut-header.pcap") {
                2
            } else {
                0
            };
            assert_eq!(out.status.code(), Some(want), "{f}");
            parts.push(part);
        }
        let one = phoneleak(
            &["scan", "--threads", "1", "--format", format, &dir_s],
            None,
        );
        let mut args = vec!["merge", "--format", format];
        args.extend(parts.iter().map(String::as_str));
        let merged = phoneleak(&args, None);
        assert_eq!(
            String::from_utf8_lossy(&merged.stdout),
            String::from_utf8_lossy(&one.stdout),
            "{format}: merge stderr: {}",
            String::from_utf8_lossy(&merged.stderr)
        );
        assert_eq!(merged.status.code(), one.status.code(), "{format}");
        assert_eq!(one.status.code(), Some(2), "the cut header is damage");
    }
}

#[test]
fn every_json_run_ends_with_its_summary() {
    // Whatever it could read: nothing (empty, cut header, not a capture,
    // missing), on standard output and in the -o file.
    let tmp = scratch("merge-summary-always");
    let empty = tmp.join("empty.pcap");
    std::fs::write(&empty, b"").unwrap();
    let cut = tmp.join("cut.pcap");
    let clean =
        std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/clean.pcap")).unwrap();
    std::fs::write(&cut, &clean[..10]).unwrap();
    let text = tmp.join("notes.txt");
    std::fs::write(&text, b"not a capture\n").unwrap();
    let missing = tmp.join("missing.pcap");
    for input in [&empty, &cut, &text, &missing] {
        let input = input.display().to_string();
        let out = tmp.join("out.jsonl").display().to_string();
        for to_file in [false, true] {
            let mut args = vec!["scan", "--format", "jsonl"];
            if to_file {
                args.extend(["-o", &out]);
            }
            args.push(&input);
            let run = phoneleak(&args, None);
            assert_eq!(run.status.code(), Some(2), "{input}");
            let written = if to_file {
                std::fs::read_to_string(&out).unwrap()
            } else {
                String::from_utf8_lossy(&run.stdout).to_string()
            };
            assert_eq!(written.lines().count(), 1, "{input}: {written}");
            let summary: serde_json::Value = serde_json::from_str(&written).unwrap();
            assert_eq!(summary["type"], "summary");
            assert_eq!(summary["files"], 0);
            assert_eq!(summary["errors"][0]["file"], input.as_str());
            assert_eq!(summary["errors"][0]["severity"], "error");
            // merge reads it: the same summary, the same status.
            let merged = phoneleak(
                &["merge", "--format", "jsonl", "-"],
                Some(written.as_bytes()),
            );
            assert_eq!(String::from_utf8_lossy(&merged.stdout), written, "{input}");
            assert_eq!(merged.status.code(), Some(2));
        }
    }
}

#[test]
fn with_a_subject_key_numbers_that_mask_alike_stay_apart() {
    let tmp = scratch("merge-subjects");
    let key = tmp.join("key");
    std::fs::write(&key, b"a test key of more than sixteen bytes").expect("key");
    let key = key.display().to_string();
    let files = ["fixtures/mask-alike-a.pcap", "fixtures/mask-alike-b.pcap"];
    merge_equals_one_scan(&files.map(String::from), &tmp, &["--subject-key", &key]);
    let one = phoneleak(
        &[
            "scan",
            "--format",
            "jsonl",
            "--subject-key",
            &key,
            files[0],
            files[1],
        ],
        None,
    );
    let text = String::from_utf8_lossy(&one.stdout);
    let rows: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("json"))
        .filter(|v: &serde_json::Value| v["group"] == "destination")
        .collect();
    assert_eq!(rows.len(), 2, "{text}");
    assert_eq!(rows[0]["number"], rows[1]["number"], "they mask alike");
    assert_ne!(rows[0]["subject"], rows[1]["subject"]);
    let header = text
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("json"))
        .find(|v| v["group"] == "header")
        .expect("header row");
    assert_eq!(header["numbers"], 2);
    // Without the key, the per-file shards are merged with a warning, and the
    // two numbers become one subject.
    let a = tmp.join("a.jsonl").display().to_string();
    let b = tmp.join("b.jsonl").display().to_string();
    phoneleak(
        &["scan", "--format", "jsonl", "-q", "-o", &a, files[0]],
        None,
    );
    phoneleak(
        &["scan", "--format", "jsonl", "-q", "-o", &b, files[1]],
        None,
    );
    let merged = phoneleak(&["merge", "--format", "jsonl", &a, &b], None);
    assert!(
        String::from_utf8_lossy(&merged.stderr).contains("distinct counts are a lower bound"),
        "{}",
        String::from_utf8_lossy(&merged.stderr)
    );
    let header = String::from_utf8_lossy(&merged.stdout)
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("json"))
        .find(|v| v["group"] == "header")
        .expect("header row");
    assert_eq!(header["numbers"], 1);
}

#[test]
fn a_shard_without_its_summary_is_an_error_naming_it() {
    let tmp = scratch("merge-cut");
    let whole = tmp.join("whole.jsonl").display().to_string();
    phoneleak(
        &[
            "scan",
            "--format",
            "jsonl",
            "-q",
            "-o",
            &whole,
            "fixtures/o2-2012.pcap",
        ],
        None,
    );
    let text = std::fs::read_to_string(&whole).expect("shard");
    let cut = tmp.join("cut.jsonl");
    let lines: Vec<&str> = text.lines().collect();
    std::fs::write(&cut, lines[..lines.len() - 1].join("\n")).expect("cut");
    let cut = cut.display().to_string();
    let out = phoneleak(&["merge", &whole, &cut], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty(), "nothing is written");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&cut) && err.contains("summary"), "{err}");
}

#[test]
fn exit_code_option_and_merge_status() {
    let tmp = scratch("merge-status");
    let shard = tmp.join("o2.jsonl").display().to_string();
    let scan = phoneleak(
        &[
            "scan",
            "--format",
            "jsonl",
            "-q",
            "-o",
            &shard,
            "fixtures/o2-2012.pcap",
        ],
        None,
    );
    assert_eq!(scan.status.code(), Some(1));
    assert_eq!(phoneleak(&["merge", &shard], None).status.code(), Some(1));
    assert_eq!(
        phoneleak(&["merge", "--exit-code", "0", &shard], None)
            .status
            .code(),
        Some(0)
    );
    let zero = phoneleak(&["scan", "--exit-code", "0", "fixtures/o2-2012.pcap"], None);
    assert_eq!(zero.status.code(), Some(0));
    // Errors still exit 2.
    let err = phoneleak(
        &["scan", "--exit-code", "0", "fixtures/not-a-capture.pcap"],
        None,
    );
    assert_eq!(err.status.code(), Some(2));
    // The merged report under a stricter minimum confidence drops what is below.
    let high = phoneleak(
        &[
            "merge",
            "--format",
            "jsonl",
            "--min-confidence",
            "high",
            &shard,
        ],
        None,
    );
    let direct = phoneleak(
        &[
            "scan",
            "--format",
            "jsonl",
            "--min-confidence",
            "high",
            "fixtures/o2-2012.pcap",
        ],
        None,
    );
    assert_eq!(
        String::from_utf8_lossy(&high.stdout),
        String::from_utf8_lossy(&direct.stdout)
    );
}

#[test]
fn a_line_longer_than_any_run_writes_is_an_error_not_a_memory_grab() {
    // 300 MiB without a newline (a sparse file: no disk is used): more than
    // the longest JSON line read back (256 MiB).
    let tmp = scratch("merge-long-line");
    let long = tmp.join("long.jsonl");
    std::fs::File::create(&long)
        .and_then(|f| f.set_len(300 << 20))
        .expect("sparse file");
    let long = long.display().to_string();
    let out = phoneleak(&["merge", &long], None);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&long) && err.contains("longer than"), "{err}");
    let out = phoneleak(
        &["scan", "--baseline", &long, "fixtures/o2-2012.pcap"],
        None,
    );
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&long) && err.contains("longer than"), "{err}");
}
