//! Damaged inputs end to end: every one gets a message naming the file, the
//! byte offset and the reason; the status is 2 when nothing could be read,
//! and what could be read is still analysed; the same bytes give the same
//! status and packets from a file, a pipe, gzip'd and zstd'd.
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn phoneleak(args: &[&str]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_phoneleak"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run phoneleak");
    // Nothing here may hang (an endless device must end with an error).
    let start = Instant::now();
    loop {
        if child.try_wait().expect("wait").is_some() {
            break;
        }
        if start.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            panic!("phoneleak {args:?} did not finish in 60 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().expect("output")
}

/// A fresh scratch folder for one test.
fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("damaged-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch folder");
    dir
}

fn o2() -> Vec<u8> {
    std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/o2-2012.pcap"))
        .expect("fixture")
}

/// Offsets of the pcap records of a classic little-endian pcap: (start, whole length).
fn records(pcap: &[u8]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut at = 24;
    while at + 16 <= pcap.len() {
        let caplen = u32::from_le_bytes(pcap[at + 8..at + 12].try_into().unwrap()) as usize;
        out.push((at, 16 + caplen));
        at += 16 + caplen;
    }
    out
}

fn run(path: &Path) -> (Option<i32>, String, serde_json::Value) {
    let out = phoneleak(&["scan", "--format", "jsonl", path.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(!stderr.contains("panicked"), "{stderr}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let summary = stdout
        .lines()
        .last()
        .map(|l| serde_json::from_str(l).expect("summary is JSON"))
        .unwrap_or(serde_json::Value::Null);
    (out.status.code(), stderr, summary)
}

#[test]
fn cut_files_report_file_offset_and_reason() {
    let dir = scratch("cut");
    let whole = o2();
    let recs = records(&whole);
    let (tenth, tenth_len) = recs[10];
    // (name, bytes, expected status, offset, words of the reason, packets read)
    type Case = (&'static str, Vec<u8>, i32, usize, &'static str, u64);
    let cases: Vec<Case> = vec![
        (
            "cut-file-header.pcap",
            whole[..10].to_vec(),
            2,
            0,
            "inside the file header",
            0,
        ),
        (
            "cut-record-header.pcap",
            whole[..tenth + 7].to_vec(),
            1,
            tenth,
            "inside a record header",
            10,
        ),
        (
            "cut-packet.pcap",
            whole[..tenth + tenth_len - 5].to_vec(),
            1,
            tenth,
            "bytes present",
            10,
        ),
        ("zero-length.pcap", Vec::new(), 2, 0, "empty file", 0),
    ];
    for (name, bytes, status, offset, reason, packets) in cases {
        let path = dir.join(name);
        std::fs::write(&path, &bytes).unwrap();
        let (code, stderr, summary) = run(&path);
        assert_eq!(code, Some(status), "{name}: {stderr}");
        assert!(
            stderr.contains(path.to_str().unwrap())
                && stderr.contains(&format!("byte {offset}"))
                && stderr.contains(reason),
            "{name}: {stderr}"
        );
        if packets == 0 {
            // Nothing readable: the error, and a summary of nothing naming it.
            assert_eq!(summary["files"], 0, "{name}: {summary}");
            assert_eq!(summary["errors"][0]["severity"], "error", "{name}");
            continue;
        }
        assert_eq!(summary["packets"].as_u64(), Some(packets), "{name}");
        assert_eq!(summary["errors"][0]["offset"].as_u64(), Some(offset as u64));
        assert_eq!(summary["errors"][0]["partial"], true, "{name}");
        // A cut last record is a warning, in the summary as on stderr.
        assert_eq!(summary["errors"][0]["severity"], "warning", "{name}");
        assert!(
            stderr.starts_with("phoneleak: warning: "),
            "{name}: {stderr}"
        );
    }
}

#[test]
fn a_corrupt_record_length_keeps_what_came_before() {
    let dir = scratch("corrupt-length");
    let mut bytes = o2();
    let (tenth, _) = records(&bytes)[10];
    bytes[tenth + 8..tenth + 12].copy_from_slice(&0xfff0_0000u32.to_le_bytes());
    let path = dir.join("corrupt-length.pcap");
    std::fs::write(&path, &bytes).unwrap();
    // Damage before the end is an error (status 2) even though the first ten
    // packets hold a leak, which is still reported; the same with one thread
    // (streaming reader) as with two (block reader).
    let mut outputs = Vec::new();
    for threads in ["1", "2"] {
        let out = phoneleak(&[
            "scan",
            "--format",
            "jsonl",
            "--threads",
            threads,
            path.to_str().unwrap(),
        ]);
        let stderr = String::from_utf8_lossy(&out.stderr).to_string();
        let stdout = String::from_utf8_lossy(&out.stdout).to_string();
        assert_eq!(out.status.code(), Some(2), "threads {threads}: {stderr}");
        assert!(
            stderr.starts_with("phoneleak: error: ")
                && stderr.contains(&format!("byte {tenth}"))
                && stderr.contains("corrupt length")
                && stderr.contains("the rest of the file was not read"),
            "{stderr}"
        );
        let summary: serde_json::Value =
            serde_json::from_str(stdout.lines().last().unwrap()).unwrap();
        assert_eq!(summary["packets"].as_u64(), Some(10));
        assert!(summary["leaking_requests"].as_u64().unwrap() > 0);
        assert_eq!(summary["errors"][0]["severity"], "error");
        assert!(stdout.lines().any(|l| l.contains("\"type\":\"request\"")));
        outputs.push((stdout, stderr));
    }
    assert_eq!(outputs[0], outputs[1], "--threads changed the output");
}

#[test]
fn a_record_of_exactly_the_limit_is_read_by_both_readers() {
    // 16 MiB of packet data in one record after the o2 packets: read the same
    // way by the streaming reader (--threads 1) and the block reader (2).
    let dir = scratch("big-record");
    let mut bytes = o2();
    let limit = 16usize << 20;
    for v in [1_400_000_000u32, 0, limit as u32, limit as u32] {
        bytes.extend_from_slice(&v.to_le_bytes());
    }
    bytes.resize(bytes.len() + limit, 0);
    let path = dir.join("big-record.pcap");
    std::fs::write(&path, &bytes).unwrap();
    let mut got = Vec::new();
    for threads in ["1", "2"] {
        let out = phoneleak(&[
            "scan",
            "--format",
            "jsonl",
            "--threads",
            threads,
            path.to_str().unwrap(),
        ]);
        let stderr = String::from_utf8_lossy(&out.stderr).to_string();
        assert_eq!(out.status.code(), Some(1), "threads {threads}: {stderr}");
        assert!(stderr.is_empty(), "threads {threads}: {stderr}");
        got.push(String::from_utf8_lossy(&out.stdout).to_string());
    }
    assert_eq!(got[0], got[1]);
    let summary: serde_json::Value = serde_json::from_str(got[0].lines().last().unwrap()).unwrap();
    assert_eq!(summary["packets"].as_u64(), Some(83));
    let _ = std::fs::remove_file(&path);
}

#[test]
fn unknown_pcapng_block_is_skipped() {
    // links.pcapng with a block of an unknown type inserted after its first section header.
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/links.pcapng");
    let whole = std::fs::read(path).unwrap();
    let shb_len = u32::from_le_bytes(whole[4..8].try_into().unwrap()) as usize;
    let mut bytes = whole[..shb_len].to_vec();
    let mut unknown = 0x0bad_cafeu32.to_le_bytes().to_vec();
    unknown.extend_from_slice(&20u32.to_le_bytes());
    unknown.extend_from_slice(b"????????");
    unknown.extend_from_slice(&20u32.to_le_bytes());
    bytes.extend(unknown);
    bytes.extend_from_slice(&whole[shb_len..]);
    let dir = scratch("unknown-block");
    let file = dir.join("unknown-block.pcapng");
    std::fs::write(&file, &bytes).unwrap();
    let (code, stderr, summary) = run(&file);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.is_empty(), "{stderr}");
    assert_eq!(summary["http"]["requests"].as_u64(), Some(9));
}

#[test]
fn folders_and_devices_instead_of_files() {
    let empty = scratch("empty-folder");
    let (code, stderr, _) = run(&empty);
    assert_eq!(code, Some(2));
    assert!(
        stderr.contains(empty.to_str().unwrap()) && stderr.contains("no files"),
        "{stderr}"
    );
    for (device, reason) in [
        ("/dev/null", "empty file"),
        ("/dev/zero", "not a pcap or pcapng capture"),
    ] {
        if !Path::new(device).exists() {
            continue;
        }
        let (code, stderr, summary) = run(Path::new(device));
        assert_eq!(code, Some(2), "{device}: {stderr}");
        assert!(
            stderr.contains(device) && stderr.contains("byte 0") && stderr.contains(reason),
            "{device}: {stderr}"
        );
        assert_eq!(summary["files"], 0, "a summary of nothing: {summary}");
    }
}

/// The damaged samples of the generator, each as a file (one and two
/// threads), on standard input (in small and large writes), gzip'd and
/// zstd'd, files and pipes alike: the same status and packets every way.
#[cfg(all(feature = "gzip", feature = "zstd"))]
mod every_way {
    use super::*;

    /// Runs `scan` over `bytes` given on standard input, written in pieces of at
    /// most `piece` bytes (as a pipe hands them over).
    fn scan_stdin(bytes: &[u8], piece: usize) -> Output {
        use std::io::Write;
        let mut child = Command::new(env!("CARGO_BIN_EXE_phoneleak"))
            .args(["scan", "--format", "jsonl", "--exit-code", "0", "-"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run phoneleak");
        let mut input = child.stdin.take().expect("stdin");
        let owned = bytes.to_vec();
        let writer = std::thread::spawn(move || {
            for chunk in owned.chunks(piece) {
                // The reader may stop early (damage): a closed pipe is fine.
                if input.write_all(chunk).is_err() {
                    return;
                }
                let _ = input.flush();
            }
        });
        let out = child.wait_with_output().expect("output");
        let _ = writer.join();
        out
    }

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        use std::io::Write;
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(bytes).unwrap();
        e.finish().unwrap()
    }

    fn zstd(bytes: &[u8]) -> Vec<u8> {
        zstd::stream::encode_all(bytes, 3).unwrap()
    }

    /// Status, packets read (from the summary) and standard error of a run.
    fn outcome(out: &Output) -> (Option<i32>, Option<u64>, String) {
        let stderr = String::from_utf8_lossy(&out.stderr).to_string();
        assert!(!stderr.contains("panicked"), "{stderr}");
        let stdout = String::from_utf8_lossy(&out.stdout);
        let summary: serde_json::Value = stdout
            .lines()
            .last()
            .and_then(|l| serde_json::from_str(l).ok())
            .unwrap_or(serde_json::Value::Null);
        assert_eq!(
            summary["type"], "summary",
            "every JSON run ends with its summary: {stderr}"
        );
        (out.status.code(), summary["packets"].as_u64(), stderr)
    }

    #[test]
    fn each_damaged_sample_ends_the_same_however_it_is_given() {
        let dir = scratch("every-way");
        for sample in fixturegen::damaged::samples() {
            let name = sample.name;
            let mut runs: Vec<(String, Output)> = Vec::new();
            for (suffix, bytes) in [
                ("", sample.bytes.clone()),
                (".gz", gzip(&sample.bytes)),
                (".zst", zstd(&sample.bytes)),
            ] {
                let path = dir.join(format!("{name}{suffix}"));
                std::fs::write(&path, &bytes).unwrap();
                let path = path.to_str().unwrap();
                for threads in ["1", "2"] {
                    let args = [
                        "scan",
                        "--format",
                        "jsonl",
                        "--exit-code",
                        "0",
                        "--threads",
                        threads,
                        path,
                    ];
                    runs.push((
                        format!("file{suffix} --threads {threads}"),
                        phoneleak(&args),
                    ));
                }
                for piece in [7, 65_536] {
                    runs.push((
                        format!("stdin{suffix} in {piece}-byte writes"),
                        scan_stdin(&bytes, piece),
                    ));
                }
            }
            let want = (Some(sample.status), Some(sample.packets));
            for (how, out) in &runs {
                let (status, packets, stderr) = outcome(out);
                assert_eq!((status, packets), want, "{name} as {how}: {stderr}");
            }
        }
    }
}
