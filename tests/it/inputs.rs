//! End-to-end tests of every input path: standard input (also as it arrives),
//! gzip and zstd recognised by their bytes whatever the name, damaged compressed
//! tails, and a folder that mixes captures with other files. Compressed copies
//! are made here, in temporary folders, from the committed fixtures.
// Without the decoders (--no-default-features) the compressed tests are left out.
#![cfg_attr(not(all(feature = "gzip", feature = "zstd")), allow(dead_code))]
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::Value;

fn fixture(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn phoneleak() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_phoneleak"));
    c.current_dir(env!("CARGO_MANIFEST_DIR"));
    c
}

fn run(args: &[&str]) -> Output {
    phoneleak().args(args).output().expect("run phoneleak")
}

/// Runs with `input` on standard input, written from another thread as a pipe would.
fn run_with_stdin(args: &[&str], input: Vec<u8>) -> Output {
    let mut child = phoneleak()
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start phoneleak");
    let mut stdin = child.stdin.take().expect("stdin");
    let writer = std::thread::spawn(move || {
        // Small writes, so that reads come back short as from a network pipe.
        for chunk in input.chunks(1000) {
            if stdin.write_all(chunk).is_err() {
                break;
            }
        }
    });
    let out = child.wait_with_output().expect("wait for phoneleak");
    writer.join().expect("writer thread");
    out
}

fn lines(out: &Output) -> Vec<Value> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is JSON"))
        .collect()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

/// As the zstd command writes it: with a content checksum.
fn zstd(data: &[u8]) -> Vec<u8> {
    zstd_flushed_every(data, usize::MAX)
}

/// As a streaming compressor (`tcpdump -w - | zstd`) writes it: a block at
/// least every `chunk` bytes, so that a cut copy still holds whole blocks.
fn zstd_flushed_every(data: &[u8], chunk: usize) -> Vec<u8> {
    let mut e = zstd::stream::write::Encoder::new(Vec::new(), 3).unwrap();
    e.include_checksum(true).unwrap();
    for part in data.chunks(chunk.min(data.len().max(1))) {
        e.write_all(part).unwrap();
        e.flush().unwrap();
    }
    e.finish().unwrap()
}

fn temp_dir() -> tempfile::TempDir {
    tempfile::tempdir().expect("temporary folder")
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).unwrap();
    }
    std::fs::write(&path, bytes).unwrap();
    path
}

const JSONL: [&str; 4] = ["scan", "--format", "jsonl", "--all-requests"];

/// JSON lines without the `file` of request lines (which names the input as given).
fn unfiled(out: &[u8]) -> String {
    String::from_utf8_lossy(out)
        .lines()
        .map(|l| match serde_json::from_str::<Value>(l) {
            Ok(Value::Object(mut o)) => {
                o.remove("file");
                Value::Object(o).to_string()
            }
            _ => l.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn args_with(extra: &str) -> Vec<&str> {
    let mut a = JSONL.to_vec();
    a.push(extra);
    a
}

#[test]
fn standard_input_gives_the_same_report_as_the_file() {
    for name in ["o2-2012.pcap", "links.pcapng", "keepalive-pipelined.pcap"] {
        let path = format!("fixtures/{name}");
        let from_file = run(&args_with(&path));
        let from_stdin = run_with_stdin(&args_with("-"), fixture(name));
        assert_eq!(from_stdin.status.code(), from_file.status.code(), "{name}");
        assert_eq!(
            unfiled(&from_stdin.stdout),
            unfiled(&from_file.stdout),
            "{name}: stdin and file reports differ"
        );
        assert!(stderr(&from_stdin).is_empty(), "{}", stderr(&from_stdin));
    }
    // The text report too, and `-` mixed with files.
    let out = run_with_stdin(
        &["scan", "fixtures/clean.pcap", "-"],
        fixture("o2-2012.pcap"),
    );
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("x-up-calling-line-id: 44*******123"),
        "{text}"
    );
    assert!(text.contains("files                         2"), "{text}");
}

#[test]
fn standard_input_is_analysed_as_it_arrives() {
    let capture = fixture("o2-2012.pcap");
    let mut child: Child = phoneleak()
        .args(["scan", "--format", "jsonl", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start phoneleak");
    let mut stdin = child.stdin.take().expect("stdin");
    let mut stdout = child.stdout.take().expect("stdout");
    // The first requests are in the first third of the capture; the rest is held back.
    stdin.write_all(&capture[..capture.len() / 3]).unwrap();
    stdin.flush().unwrap();
    let (tx, rx) = mpsc::channel();
    let reader = std::thread::spawn(move || {
        let mut first = Vec::new();
        let mut byte = [0u8; 1];
        while stdout.read(&mut byte).unwrap_or(0) == 1 {
            first.push(byte[0]);
            if byte[0] == b'\n' {
                break;
            }
        }
        let _ = tx.send(String::from_utf8_lossy(&first).into_owned());
        let mut rest = String::new();
        let _ = stdout.read_to_string(&mut rest);
        rest
    });
    let first = rx.recv_timeout(Duration::from_secs(60));
    // Whatever happened, let the process finish.
    let _ = stdin.write_all(&capture[capture.len() / 3..]);
    drop(stdin);
    let status = child.wait().expect("wait");
    let rest = reader.join().expect("reader thread");
    let first = first.expect("a finding came out before the end of the input");
    let first: Value = serde_json::from_str(&first).expect("JSON");
    assert_eq!(first["type"], "request");
    assert_eq!(first["leaks"][0]["header"], "x-up-calling-line-id");
    assert_eq!(status.code(), Some(1));
    assert!(rest.contains("\"type\":\"summary\""), "{rest}");
}

#[test]
#[cfg(all(feature = "gzip", feature = "zstd"))]
fn gzip_and_zstd_are_recognised_by_their_bytes_not_their_names() {
    let dir = temp_dir();
    for name in ["o2-2012.pcap", "links.pcapng"] {
        let plain = fixture(name);
        let want = unfiled(&run(&args_with(&format!("fixtures/{name}"))).stdout);
        let copies = [
            (format!("{name}.gz"), gzip(&plain)),
            (format!("{name}.zst"), zstd(&plain)),
            // Misleading names: the content decides.
            (format!("gzip-inside-{name}"), gzip(&plain)),
            (format!("zstd-inside-{name}.gz"), zstd(&plain)),
        ];
        for (copy, bytes) in copies {
            let path = write(dir.path(), &copy, &bytes);
            let out = run(&args_with(path.to_str().unwrap()));
            assert_eq!(out.status.code(), Some(1), "{copy}: {}", stderr(&out));
            assert!(stderr(&out).is_empty(), "{copy}: {}", stderr(&out));
            assert_eq!(unfiled(&out.stdout), want, "{copy}");
            // The same bytes on standard input.
            let out = run_with_stdin(&args_with("-"), bytes);
            assert_eq!(unfiled(&out.stdout), want, "{copy} on stdin");
        }
    }
    // Several gzip members one after the other (cat a.gz b.gz) are one stream.
    let plain = fixture("o2-2012.pcap");
    let (head, tail) = plain.split_at(plain.len() / 2);
    let joined = [gzip(head), gzip(tail)].concat();
    let out = run_with_stdin(&args_with("-"), joined);
    let want = run(&args_with("fixtures/o2-2012.pcap"));
    assert_eq!(unfiled(&out.stdout), unfiled(&want.stdout));
}

#[test]
#[cfg(all(feature = "gzip", feature = "zstd"))]
fn a_damaged_compressed_tail_reports_what_was_read() {
    let dir = temp_dir();
    let plain = fixture("o2-2012.pcap");
    let all = lines(&run(&args_with("fixtures/o2-2012.pcap")));
    let all_requests: Vec<&Value> = all.iter().filter(|v| v["type"] == "request").collect();
    for (name, whole) in [
        ("cut.pcap.gz", gzip(&plain)),
        ("cut.pcap.zst", zstd_flushed_every(&plain, 2000)),
    ] {
        let cut = &whole[..whole.len() * 6 / 10];
        let path = write(dir.path(), name, cut);
        let out = run(&args_with(path.to_str().unwrap()));
        let err = stderr(&out);
        // Results so far: leaks were found, so status 1, as for a cut plain capture.
        assert_eq!(out.status.code(), Some(1), "{name}: {err}");
        assert_eq!(err.lines().count(), 1, "{name}: one message: {err}");
        for needle in [
            "warning",
            name,
            "of the decompressed capture",
            "cut short",
            "compressed input read up to byte",
        ] {
            assert!(err.contains(needle), "{name}: no {needle:?} in {err}");
        }
        let got = lines(&out);
        let requests: Vec<&Value> = got.iter().filter(|v| v["type"] == "request").collect();
        assert!(
            !requests.is_empty() && requests.len() < all_requests.len(),
            "{name}: {} of {} requests",
            requests.len(),
            all_requests.len()
        );
        let summary = got.last().expect("summary");
        assert_eq!(summary["errors"][0]["partial"], true, "{name}");
        assert!(summary["errors"][0]["offset"].as_u64().unwrap() > 24);
        assert!(
            summary["errors"][0]["error"]
                .as_str()
                .unwrap()
                .contains("cut short")
        );
    }
    // A gzip file whose checksum is damaged: everything read, then the error.
    let mut bad = gzip(&plain);
    let n = bad.len();
    bad[n - 8] ^= 0xff;
    let out = run_with_stdin(&args_with("-"), bad);
    let err = stderr(&out);
    assert!(
        err.contains("standard input") && err.contains("gzip data is corrupt"),
        "{err}"
    );
    let requests = lines(&out)
        .iter()
        .filter(|v| v["type"] == "request")
        .count();
    assert_eq!(requests, all_requests.len());
    // Compressed garbage is not a capture: an error, status 2.
    let path = write(
        dir.path(),
        "notes.txt.gz",
        &gzip(b"meeting notes, not packets"),
    );
    let out = run(&["scan", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("not a pcap or pcapng capture"));
}

#[test]
#[cfg(all(feature = "gzip", feature = "zstd"))]
fn a_mixed_folder_skips_what_is_not_a_capture_and_goes_on() {
    let dir = temp_dir();
    let root = dir.path();
    write(root, "a-o2.pcap", &fixture("o2-2012.pcap"));
    write(root, "b-notes.txt", b"not a capture\n");
    write(root, "c-clean.pcap.gz", &gzip(&fixture("clean.pcap")));
    write(root, "d-empty.pcap", b"");
    write(
        root,
        "sub/e-links.pcapng.zst",
        &zstd(&fixture("links.pcapng")),
    );
    write(
        root,
        "sub/f-image.png",
        &[0x89, b'P', b'N', b'G', 13, 10, 26, 10],
    );
    let out = run(&["scan", "--format", "jsonl", root.to_str().unwrap()]);
    let err = stderr(&out);
    // Files of a walk that are not captures are skipped and counted in one
    // line; they do not change the exit status (o2 leaks: 1).
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert_eq!(
        err,
        "phoneleak: skipped 3 files of the folders that are not captures (--verbose lists them)\n"
    );
    let verbose = run(&["scan", "-v", "--format", "jsonl", root.to_str().unwrap()]);
    let listed: Vec<&str> = std::str::from_utf8(&verbose.stderr)
        .unwrap()
        .lines()
        .collect();
    assert_eq!(listed.len(), 4, "{listed:?}");
    for (line, name) in listed
        .iter()
        .zip(["b-notes.txt", "d-empty.pcap", "f-image.png"])
    {
        assert!(
            line.starts_with("phoneleak: skipped ") && line.contains(name),
            "{line}"
        );
    }
    assert_eq!(verbose.stdout, out.stdout);
    let got = lines(&out);
    let summary = got.last().expect("summary");
    assert_eq!(summary["files"], 3, "captures only");
    assert_eq!(summary["errors"].as_array().unwrap().len(), 0);
    // Every capture was analysed, in name order (o2 first, links last).
    let requests: Vec<&Value> = got.iter().filter(|v| v["type"] == "request").collect();
    let o2 = lines(&run(&[
        "scan",
        "--format",
        "jsonl",
        "fixtures/o2-2012.pcap",
    ]));
    let links = lines(&run(&[
        "scan",
        "--format",
        "jsonl",
        "fixtures/links.pcapng",
    ]));
    let o2: Vec<&Value> = o2.iter().filter(|v| v["type"] == "request").collect();
    let links: Vec<&Value> = links.iter().filter(|v| v["type"] == "request").collect();
    let unfile = |v: Option<&&Value>| {
        v.map(|v| {
            let mut v = (*v).clone();
            v.as_object_mut().map(|o| o.remove("file"));
            v
        })
    };
    assert_eq!(unfile(requests.first()), unfile(o2.first()));
    assert_eq!(unfile(requests.last()), unfile(links.last()));
    assert_eq!(requests.len(), o2.len() + links.len());
}

#[test]
fn a_folder_of_clean_captures_and_notes_passes() {
    let dir = temp_dir();
    write(dir.path(), "README.md", b"# captures of the lab\n");
    write(dir.path(), "clean.pcap", &fixture("clean.pcap"));
    let out = run(&["scan", "--quiet", dir.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    // A folder with nothing but notes has no capture: an error alone.
    let notes = temp_dir();
    write(notes.path(), "README.md", b"notes\n");
    let out = run(&["scan", notes.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    assert!(stderr(&out).contains("no capture in"), "{}", stderr(&out));
    // Named on the command line, a file that is not a capture stays an error.
    let readme = dir.path().join("README.md");
    let out = run(&["scan", readme.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("not a pcap or pcapng capture"));
}

/// Makes a FIFO (named pipe) at `path`.
#[cfg(unix)]
fn mkfifo(path: &Path) {
    let ok = Command::new("mkfifo").arg(path).status().expect("mkfifo");
    assert!(ok.success());
}

#[test]
#[cfg(unix)]
fn fifos_and_dev_stdin_are_read_once_with_any_thread_count() {
    let want = run(&["scan", "--format", "jsonl", "fixtures/o2-2012.pcap"]);
    assert_eq!(want.status.code(), Some(1));
    for threads in ["1", "2"] {
        // /dev/stdin, as `cat f.pcap | phoneleak scan /dev/stdin`.
        let out = run_with_stdin(
            &[
                "scan",
                "--format",
                "jsonl",
                "--threads",
                threads,
                "/dev/stdin",
            ],
            fixture("o2-2012.pcap"),
        );
        assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
        assert_eq!(lines(&out).len(), lines(&want).len());
        // A FIFO whose writer comes later, as `phoneleak scan <(zcat x.gz)`.
        let dir = temp_dir();
        let fifo = dir.path().join("capture.fifo");
        mkfifo(&fifo);
        let writer = {
            let fifo = fifo.clone();
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(200));
                let mut f = std::fs::OpenOptions::new().write(true).open(fifo).unwrap();
                f.write_all(&fixture("o2-2012.pcap")).unwrap();
            })
        };
        let out = run(&[
            "scan",
            "--format",
            "jsonl",
            "--threads",
            threads,
            fifo.to_str().unwrap(),
        ]);
        writer.join().unwrap();
        assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
        let (mut got, mut want) = (lines(&out), lines(&want));
        assert_eq!(got.len(), want.len());
        // The same findings but for the file they name (the summary names no file).
        for line in got.iter_mut().chain(want.iter_mut()) {
            if let Some(o) = line.as_object_mut() {
                o.remove("file");
            }
        }
        assert_eq!(got[..got.len() - 1], want[..want.len() - 1]);
    }
}

#[test]
#[cfg(unix)]
fn a_fifo_without_a_writer_never_stalls() {
    let dir = temp_dir();
    let fifo = dir.path().join("nobody-writes.fifo");
    mkfifo(&fifo);
    write(dir.path(), "o2.pcap", &fixture("o2-2012.pcap"));
    // In a walk, a FIFO is skipped like any file that is not a regular one.
    let out = run(&["scan", "-v", "--quiet", dir.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    // Named, the open waits for a writer; the first SIGTERM ends the wait.
    let child = phoneleak()
        .args(["scan", fifo.to_str().unwrap()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(500));
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    let out = rx
        .recv_timeout(Duration::from_secs(10))
        .expect("one SIGTERM ends a blocked open")
        .unwrap();
    assert_eq!(out.status.code(), Some(130));
    assert!(out.stdout.is_empty(), "no summary of nothing");
    assert!(stderr(&out).contains("interrupted before any capture was read"));
}

#[test]
fn a_file_given_twice_is_read_once_with_a_warning() {
    let once = run(&["scan", "--format", "jsonl", "fixtures/o2-2012.pcap"]);
    let want = lines(&once);
    let dir = temp_dir();
    let copy = write(dir.path(), "o2.pcap", &fixture("o2-2012.pcap"));
    let copy = copy.to_str().unwrap();
    let spelled = format!("{}/./o2.pcap", dir.path().display());
    let folder = dir.path().to_str().unwrap();
    // The same name twice, another spelling of it, and a folder holding it.
    for args in [
        vec![copy, copy],
        vec![copy, spelled.as_str()],
        vec![copy, folder],
        vec![folder, copy],
    ] {
        let mut all = vec!["scan", "--format", "jsonl"];
        all.extend(&args);
        let out = run(&all);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {}", stderr(&out));
        let got = lines(&out);
        let summary = got.last().unwrap();
        assert_eq!(summary["files"], 1, "{args:?}");
        assert_eq!(
            summary["packets"],
            want.last().unwrap()["packets"],
            "{args:?}"
        );
        assert_eq!(got.len(), want.len(), "{args:?}");
        let err = stderr(&out);
        assert!(
            err.contains("phoneleak: warning: ") && err.contains("again: read once"),
            "{args:?}: {err}"
        );
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
    }
    // Standard input twice is one input too; --quiet keeps the warning back.
    let out = run_with_stdin(
        &["scan", "--quiet", "--format", "jsonl", "-", "-"],
        fixture("o2-2012.pcap"),
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(out.stderr.is_empty(), "{}", stderr(&out));
    // Two files with the same bytes are two captures.
    let other = write(dir.path(), "again.pcap", &fixture("o2-2012.pcap"));
    let two = run(&["scan", "--format", "jsonl", copy, other.to_str().unwrap()]);
    assert_eq!(lines(&two).last().unwrap()["files"], 2);
}
