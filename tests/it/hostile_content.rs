//! Captures whose bytes attack the report rather than the memory
//! (`fixturegen::hostile::content`): cells of any length must not break a
//! format (`std::fmt` panics on a width over 65,535) nor multiply the report's
//! size, and control characters from a capture (or a file name) must never
//! reach the text report or a message raw, on a pipe or on a terminal, while
//! JSON keeps them exactly.
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

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

/// Control characters (C0, DEL, C1) in `s` other than a line end.
fn controls(s: &str) -> Vec<char> {
    s.chars()
        .filter(|&c| c != '\n' && phoneleak::report::is_control(c))
        .collect()
}

fn assert_no_controls(what: &str, s: &str) {
    let found = controls(s);
    assert!(found.is_empty(), "{what}: raw {found:?} in\n{s}");
}

/// A file name holding control characters.
fn hostile_name(dir: &Path, stem: &str, ext: &str) -> PathBuf {
    let mut name = stem.as_bytes().to_vec();
    name.extend_from_slice(b"\x1b]0;pwned\x07\x1b[2J");
    name.extend_from_slice("\u{9b}31m".as_bytes());
    name.extend_from_slice(ext.as_bytes());
    dir.join(std::ffi::OsStr::from_bytes(&name))
}

/// The folder of hostile inputs: the escapes capture twice (so the text
/// report names each request's file), a copy cut inside its last record (a
/// warning naming it), and a file that is not a capture (listed by
/// `--verbose`), every file name holding control characters.
fn hostile_folder() -> (PathBuf, PathBuf) {
    let dir = scratch("escapes");
    let inputs = dir.join("in");
    std::fs::create_dir_all(&inputs).expect("folder");
    let pcap = hostile_name(&inputs, "a", ".pcap");
    write_capture(&pcap, &content::escapes());
    let bytes = std::fs::read(&pcap).expect("capture");
    std::fs::write(hostile_name(&inputs, "b", ".pcap"), &bytes).expect("copy");
    std::fs::write(
        hostile_name(&inputs, "c-cut", ".pcap"),
        &bytes[..bytes.len() - 20],
    )
    .expect("cut copy");
    std::fs::write(
        hostile_name(&inputs, "d", ".txt"),
        b"not a capture\x1b[2J\n",
    )
    .expect("text");
    (dir, inputs)
}

#[test]
fn control_characters_never_reach_the_text_report_or_a_message() {
    let (dir, inputs) = hostile_folder();
    let folder = inputs.display().to_string();
    let esc = text(&content::all_sequences());

    // The text report on a pipe, and the messages.
    let out = run(&["scan", "--verbose", &folder], 1);
    let (report, messages) = (text(&out.stdout), text(&out.stderr));
    assert_no_controls("text report", &report);
    assert_no_controls("messages", &messages);
    // Shown escaped: the host, a header name, the characters masking kept, a
    // C1 control in the target, the file names in the report and messages.
    assert!(report.contains("host     h\\x1b[2J\\x1b[H\\x1b]0;pwned\\x07\\x1b]8;;"));
    assert!(report.contains("leak     X-\\x1b[2J"));
    assert!(report.contains("X-MSISDN: *"));
    assert!(report.contains("/p\\u{9b}2J\\u{9d}0;title\\u{9c}\\u{85}"));
    assert!(report.contains(" of "));
    assert!(report.contains("a\\x1b]0;pwned\\x07\\x1b[2J\\u{9b}31m.pcap"));
    assert!(messages.contains("d\\x1b]0;pwned\\x07\\x1b[2J\\u{9b}31m.txt"));
    assert!(messages.contains("warning: "), "{messages}");
    assert!(messages.contains("c-cut\\x1b]0;pwned\\x07\\x1b[2J\\u{9b}31m.pcap"));

    // JSON lines carry the exact text; the text summary goes to stderr.
    let jsonl = dir.join("out.jsonl").display().to_string();
    let html = dir.join("out.html").display().to_string();
    let out = run(
        &[
            "scan", "--format", "jsonl", "-o", &jsonl, "--html", &html, &folder,
        ],
        1,
    );
    assert_no_controls("summary on stderr", &text(&out.stderr));
    let lines = std::fs::read_to_string(&jsonl).expect("JSON lines");
    let requests = request_lines(&lines);
    assert_eq!(requests.len(), 9, "three requests in each of three files");
    let first = &requests[0];
    assert_eq!(first["host"], format!("h{esc}.example.com").as_str());
    let note = &first["leaks"][1];
    assert_eq!(note["header"], "X-Note");
    assert_eq!(
        note["value"],
        format!("{esc} msisdn=+44*******123 {esc}").as_str()
    );
    let file = first["file"].as_str().expect("file");
    assert!(
        file.ends_with("a\u{1b}]0;pwned\u{7}\u{1b}[2J\u{9b}31m.pcap"),
        "{file}"
    );
    let target = requests[1]["uri"].as_str().expect("uri");
    assert!(
        target.starts_with("/p\u{9b}2J\u{9d}0;title\u{9c}\u{85}\u{fffd}?msisdn"),
        "{target}"
    );
    let page = std::fs::read_to_string(&html).expect("HTML report");
    // HTML shows control characters as U+FFFD.
    assert_no_controls("HTML report", &page);
    assert!(page.contains("h\u{fffd}[2J\u{fffd}[H\u{fffd}]0;pwned"));

    // merge of those lines: the text report and its messages, escaped.
    let out = run(&["merge", &jsonl], 1);
    assert_no_controls("merged text report", &text(&out.stdout));
    assert_no_controls("merge messages", &text(&out.stderr));
    assert!(text(&out.stdout).contains("host     h\\x1b[2J"));

    // An error naming a shard whose name holds control characters.
    let unfinished = hostile_name(&dir, "shard", ".jsonl");
    let first_line = lines.lines().next().unwrap_or_default();
    std::fs::write(&unfinished, format!("{first_line}\n")).expect("shard");
    let out = run(&["merge", &unfinished.display().to_string()], 2);
    let message = text(&out.stderr);
    assert_no_controls("merge error", &message);
    assert!(message.contains("shard\\x1b]0;pwned"), "{message}");
}

/// The tool's own colour sequences (SGR: ESC [ digits and ; m) removed.
fn without_sgr(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(at) = rest.find("\u{1b}[") {
        out.push_str(&rest[..at]);
        let params = &rest[at + 2..];
        let end = params
            .find(|c: char| !(c.is_ascii_digit() || c == ';'))
            .unwrap_or(params.len());
        if params[end..].starts_with('m') {
            rest = &params[end + 1..];
        } else {
            out.push('\u{1b}');
            rest = &rest[at + 1..];
        }
    }
    out.push_str(rest);
    out
}

#[test]
fn control_characters_never_reach_a_terminal() {
    if Command::new("script").arg("--version").output().is_err() {
        crate::common::skip_system(
            "SKIPPED: util-linux `script` is not installed; no terminal to test on",
        );
        return;
    }
    let (_, inputs) = hostile_folder();
    // The report on a terminal (colours on); messages go to a file.
    let command = format!(
        "{} scan {} 2>/dev/null",
        env!("CARGO_BIN_EXE_phoneleak"),
        inputs.display()
    );
    let out = Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .env("TERM", "xterm-256color")
        .env_remove("NO_COLOR")
        .env_remove("CLICOLOR")
        .env_remove("CLICOLOR_FORCE")
        .stdin(Stdio::null())
        .output()
        .expect("script");
    let shown = text(&out.stdout);
    assert!(
        shown.contains("\u{1b}[") && shown.contains("leak"),
        "{shown}"
    );
    // The terminal ends lines with \r\n.
    let plain = without_sgr(&shown).replace("\r\n", "\n");
    assert_no_controls("text report on a terminal", &plain);
    assert!(plain.contains("host     h\\x1b[2J"));
}
