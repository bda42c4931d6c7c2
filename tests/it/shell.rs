//! Fitting the shell: completions, the man page, examples in every help,
//! `--quiet`, `-o FILE`, colours only on a terminal and never with NO_COLOR,
//! and Ctrl-C that still finishes the report.
use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

fn phoneleak() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_phoneleak"));
    c.current_dir(env!("CARGO_MANIFEST_DIR"));
    c.env_remove("NO_COLOR")
        .env_remove("CLICOLOR_FORCE")
        .env_remove("CLICOLOR");
    c
}

fn run(args: &[&str]) -> Output {
    phoneleak().args(args).output().expect("run phoneleak")
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn completions_for_bash_zsh_and_fish() {
    for (shell, marker) in [
        ("bash", "complete -F"),
        ("zsh", "#compdef phoneleak"),
        ("fish", "complete -c phoneleak"),
    ] {
        let out = run(&["completions", shell]);
        assert_eq!(out.status.code(), Some(0), "{shell}");
        let script = stdout(&out);
        assert!(script.contains(marker), "{shell}: {script}");
        for word in ["scan", "html", "quiet", "show-numbers", "completions"] {
            assert!(script.contains(word), "{shell} completes {word}");
        }
    }
    assert_eq!(run(&["completions", "tcsh"]).status.code(), Some(2));
}

#[test]
fn man_pages_for_the_program_and_its_commands() {
    let out = run(&["man"]);
    assert_eq!(out.status.code(), Some(0));
    let page = stdout(&out);
    assert!(
        page.starts_with(".ie") || page.contains(".TH phoneleak"),
        "{page}"
    );
    assert!(page.contains(".TH phoneleak 1"), "{page}");
    assert!(page.contains("completions") && page.contains("Examples"));
    let scan = stdout(&run(&["man", "scan"]));
    assert!(scan.contains(".TH phoneleak-scan 1"), "{scan}");
    assert!(scan.contains(env!("CARGO_PKG_VERSION")), "{scan}");
    assert!(scan.contains("tcpdump"), "the examples are in the page");
    for option in [
        "\\-\\-quiet",
        "\\-\\-html",
        "\\-\\-output",
        "\\-\\-show\\-numbers",
    ] {
        assert!(scan.contains(option), "man scan documents {option}");
    }
    // An EXIT STATUS section, and examples printed as written (no refill).
    assert!(scan.contains(".SH \"EXIT STATUS\"\n.nf\n"), "{scan}");
    assert!(scan.contains(".SH EXAMPLES\n.nf\n"), "{scan}");
    assert!(scan.contains("141"), "{scan}");
    let bad = run(&["man", "nosuch"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(stderr(&bad).contains("scan"), "{}", stderr(&bad));
}

#[test]
fn every_command_has_examples_in_its_help() {
    for command in [
        &[][..],
        &["scan"],
        &["live"],
        &["completions"],
        &["man"],
        &["headers"],
        &["interfaces"],
    ] {
        let mut args: Vec<&str> = command.to_vec();
        args.push("--help");
        let out = run(&args);
        assert_eq!(out.status.code(), Some(0), "{args:?}");
        let help = stdout(&out);
        assert!(help.contains("Examples:"), "{args:?}: {help}");
        assert!(
            help.contains("  phoneleak ") || help.contains("| phoneleak"),
            "{help}"
        );
    }
    let scan = stdout(&run(&["scan", "--help"]));
    for needle in [
        "tcpdump -i eth0 -w - | phoneleak scan -",
        "--html",
        "-o, --output",
    ] {
        assert!(scan.contains(needle), "scan --help shows {needle}");
    }
}

#[test]
fn quiet_prints_only_findings() {
    let normal = stdout(&run(&["scan", "fixtures/o2-2012.pcap"]));
    let quiet = run(&["scan", "--quiet", "fixtures/o2-2012.pcap"]);
    assert_eq!(quiet.status.code(), Some(1));
    let text = stdout(&quiet);
    assert!(!text.contains("Summary"), "{text}");
    assert!(normal.starts_with(&text) && normal.contains("Summary"));
    assert!(text.matches("  leak  ").count() == 13, "{text}");
    // No summary line in JSON mode either.
    let jsonl = stdout(&run(&[
        "scan",
        "-q",
        "--format",
        "jsonl",
        "fixtures/o2-2012.pcap",
    ]));
    assert_eq!(jsonl.lines().count(), 13);
    assert!(!jsonl.contains("\"summary\""));
    // A warning (a cut capture, still read) is not printed...
    let cut = run(&["scan", "-q", "fixtures/truncated.pcap"]);
    assert_eq!(cut.status.code(), Some(1));
    assert!(stderr(&cut).is_empty(), "{}", stderr(&cut));
    assert!(!stdout(&run(&["scan", "fixtures/truncated.pcap"])).is_empty());
    // ...but an error that makes the status 2 is.
    let bad = run(&[
        "scan",
        "-q",
        "fixtures/not-a-capture.pcap",
        "fixtures/o2-2012.pcap",
    ]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(
        stderr(&bad).contains("not-a-capture.pcap"),
        "{}",
        stderr(&bad)
    );
    assert_eq!(stderr(&bad).lines().count(), 1);
}

#[test]
fn output_file_gets_the_findings_and_stderr_the_summary() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("findings.txt");
    let file_arg = file.to_str().unwrap();
    let normal = stdout(&run(&["scan", "fixtures/o2-2012.pcap"]));
    let out = run(&["scan", "-o", file_arg, "fixtures/o2-2012.pcap"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).is_empty());
    let written = std::fs::read_to_string(&file).unwrap();
    // The summary part starts with the "who received the number" tables.
    let summary_at = normal
        .find("Who received the number")
        .or_else(|| normal.find("Summary"))
        .unwrap();
    let (findings, summary) = normal.split_at(summary_at);
    assert_eq!(written, findings, "text: findings only in the file");
    assert_eq!(stderr(&out), summary, "the text summary on stderr");

    // JSON lines: the file holds findings and the summary object; stderr a text summary.
    let file = dir.path().join("findings.jsonl");
    let file_arg = file.to_str().unwrap();
    let normal = stdout(&run(&[
        "scan",
        "--format",
        "jsonl",
        "fixtures/o2-2012.pcap",
    ]));
    let out = run(&[
        "scan",
        "--format",
        "jsonl",
        "--output",
        file_arg,
        "fixtures/o2-2012.pcap",
    ]);
    assert!(stdout(&out).is_empty());
    assert_eq!(std::fs::read_to_string(&file).unwrap(), normal);
    assert!(
        stderr(&out).starts_with("Who received the number") && stderr(&out).contains("\nSummary\n"),
        "{}",
        stderr(&out)
    );
    let last: Value = serde_json::from_str(
        std::fs::read_to_string(&file)
            .unwrap()
            .lines()
            .last()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(last["type"], "summary");

    // With --quiet: nothing on the terminal; the JSON file keeps its summary.
    let out = run(&[
        "scan",
        "-q",
        "--format",
        "jsonl",
        "-o",
        file_arg,
        "fixtures/o2-2012.pcap",
    ]);
    assert!(stdout(&out).is_empty() && stderr(&out).is_empty());
    assert_eq!(std::fs::read_to_string(&file).unwrap(), normal);

    // A file that cannot be created is a usage error, before anything is read.
    let out = run(&["scan", "-o", "/nonexistent/dir/x", "fixtures/o2-2012.pcap"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("cannot write /nonexistent/dir/x"));
}

#[test]
fn html_report_beside_the_text_report() {
    let dir = tempfile::tempdir().unwrap();
    let html = dir.path().join("report.html");
    let out = run(&[
        "scan",
        "--html",
        html.to_str().unwrap(),
        "fixtures/o2-2012.pcap",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stdout(&out),
        stdout(&run(&["scan", "fixtures/o2-2012.pcap"]))
    );
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.starts_with("<!DOCTYPE html>") && page.ends_with("</html>\n"));
    assert_eq!(page.matches("<tr><td>").count(), 5, "five receiving hosts");
    assert!(!page.contains("7700900123"), "masked");
    let clear = dir.path().join("clear.html");
    run(&[
        "scan",
        "-q",
        "--show-numbers",
        "--html",
        clear.to_str().unwrap(),
        "fixtures/o2-2012.pcap",
    ]);
    assert!(
        std::fs::read_to_string(&clear)
            .unwrap()
            .contains("+447700900123")
    );
}

/// Whether `s` holds an ANSI colour or style sequence (`ESC [ ... m`); other
/// escapes (a progress bar clearing its line) do not count.
fn has_sgr(s: &str) -> bool {
    s.split('\u{1b}').skip(1).any(|rest| {
        rest.strip_prefix('[').is_some_and(|params| {
            let end = params.find(|c: char| !(c.is_ascii_digit() || c == ';'));
            end.is_some_and(|i| params[i..].starts_with('m'))
        })
    })
}

/// Runs `command` under a pseudo-terminal (util-linux `script`), returning what it printed.
fn on_a_terminal(command: &str, no_color: bool) -> Option<String> {
    if Command::new("script").arg("--version").output().is_err() {
        return None;
    }
    let mut c = Command::new("script");
    c.args(["-qec", command, "/dev/null"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("TERM", "xterm-256color")
        .env_remove("CLICOLOR_FORCE")
        .env_remove("CLICOLOR")
        .env_remove("NO_COLOR")
        .stdin(Stdio::null());
    if no_color {
        c.env("NO_COLOR", "1");
    }
    Some(String::from_utf8_lossy(&c.output().ok()?.stdout).into_owned())
}

#[test]
fn colours_on_a_terminal_only_and_never_with_no_color() {
    // Pipes (as here) never get colours.
    let piped = stdout(&run(&["scan", "fixtures/o2-2012.pcap"]));
    assert!(!piped.contains('\u{1b}'));
    assert!(has_sgr("a \u{1b}[1;31mred\u{1b}[0m") && !has_sgr("\u{1b}[2K\u{1b}[1A"));
    let command = format!(
        "{} scan fixtures/o2-2012.pcap",
        env!("CARGO_BIN_EXE_phoneleak")
    );
    let Some(tty) = on_a_terminal(&command, false) else {
        // Straight to stderr, past the test harness's capture, so that it shows.
        crate::common::skip_system(
            "SKIPPED: util-linux `script` is not installed; no terminal to test colours on",
        );
        return;
    };
    assert!(has_sgr(&tty) && tty.contains("leak"), "{tty}");
    let no_color = on_a_terminal(&command, true).unwrap_or_default();
    assert!(no_color.contains("leak"), "{no_color}");
    assert!(!has_sgr(&no_color), "NO_COLOR: {no_color}");
}

/// Sends a signal to a process with the `kill` command.
fn signal(pid: u32, name: &str) {
    let status = Command::new("kill")
        .args([&format!("-{name}"), &pid.to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
}

fn wait_with_timeout(child: &mut std::process::Child, limit: Duration) -> Option<i32> {
    let start = Instant::now();
    while start.elapsed() < limit {
        if let Ok(Some(status)) = child.try_wait() {
            return status.code();
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    None
}

#[test]
fn ctrl_c_finishes_the_report_and_a_second_one_quits() {
    let dir = tempfile::tempdir().unwrap();
    let html = dir.path().join("live.html");
    let capture =
        std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/o2-2012.pcap")).unwrap();
    let mut child = phoneleak()
        .args([
            "scan",
            "--format",
            "jsonl",
            "--html",
            html.to_str().unwrap(),
            "-",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(&capture).unwrap();
    stdin.flush().unwrap();
    std::thread::sleep(Duration::from_millis(500));
    // Ctrl-C reaches the whole pipeline: phoneleak stays to finish the report,
    // and the producer (here: us) stops writing.
    signal(child.id(), "INT");
    std::thread::sleep(Duration::from_millis(200));
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stdout(&out).contains("\"type\":\"summary\""));
    assert!(
        std::fs::read_to_string(&html)
            .unwrap()
            .ends_with("</html>\n")
    );

    // A second Ctrl-C quits at once, even while the input stays open.
    let mut child = phoneleak()
        .args(["scan", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdin = child.stdin.take().unwrap();
    std::thread::sleep(Duration::from_millis(300));
    signal(child.id(), "INT");
    std::thread::sleep(Duration::from_millis(100));
    signal(child.id(), "INT");
    let code = wait_with_timeout(&mut child, Duration::from_secs(20));
    drop(stdin);
    assert_eq!(code, Some(130));
}

#[test]
fn standard_input_on_a_terminal_is_refused_not_waited_on() {
    let command = format!("{} scan -", env!("CARGO_BIN_EXE_phoneleak"));
    let Some(tty) = on_a_terminal(&command, true) else {
        crate::common::skip_system(
            "SKIPPED: util-linux `script` is not installed; no terminal for standard input",
        );
        return;
    };
    assert!(
        tty.contains("standard input is a terminal") && tty.contains("tcpdump"),
        "{tty}"
    );
}

#[test]
fn a_closed_output_pipe_is_status_141_never_0() {
    // The reader goes away before reading anything: the writes fail with EPIPE.
    let mut child = phoneleak()
        .args(["scan", "--all-requests", "fixtures/"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(141), "{}", stderr(&out));
    assert!(!stderr(&out).contains("panicked"));
}

#[test]
fn outputs_are_checked_before_inputs_and_dash_is_stdout() {
    let dir = tempfile::tempdir().unwrap();
    let kept = dir.path().join("out.txt");
    std::fs::write(&kept, "an earlier report\n").unwrap();
    let out = run(&["scan", "-o", kept.to_str().unwrap(), "missing.pcap"]);
    assert_eq!(out.status.code(), Some(2));
    // The error alone: no zero summary, no "(os error 2)".
    assert_eq!(
        stderr(&out),
        "phoneleak: error: missing.pcap: No such file or directory; skipped\n"
    );
    assert!(out.stdout.is_empty());
    assert_eq!(
        std::fs::read_to_string(&kept).unwrap(),
        "an earlier report\n"
    );
    // One file for two outputs, or an input as an output: refused before reading.
    let same = run(&[
        "scan",
        "-o",
        kept.to_str().unwrap(),
        "--html",
        kept.to_str().unwrap(),
        "fixtures/o2-2012.pcap",
    ]);
    assert_eq!(same.status.code(), Some(2));
    assert!(stderr(&same).contains("the same file"), "{}", stderr(&same));
    assert_eq!(
        std::fs::read_to_string(&kept).unwrap(),
        "an earlier report\n"
    );
    let input = dir.path().join("o2.pcap");
    std::fs::copy("fixtures/o2-2012.pcap", &input).unwrap();
    let clobber = run(&[
        "scan",
        "-o",
        input.to_str().unwrap(),
        input.to_str().unwrap(),
    ]);
    assert_eq!(clobber.status.code(), Some(2));
    assert_eq!(
        std::fs::read(&input).unwrap(),
        std::fs::read("fixtures/o2-2012.pcap").unwrap()
    );
    // `-o -` is standard output, not a file named `-`.
    let dash = phoneleak()
        .current_dir(dir.path())
        .args(["scan", "--format", "jsonl", "-o", "-"])
        .arg(&input)
        .output()
        .unwrap();
    assert_eq!(dash.status.code(), Some(1));
    assert!(!dir.path().join("-").exists());
    assert!(
        stdout(&dash)
            .lines()
            .last()
            .unwrap()
            .contains("\"type\":\"summary\"")
    );
    // A capture read: the output is replaced.
    let ok = run(&[
        "scan",
        "-o",
        kept.to_str().unwrap(),
        input.to_str().unwrap(),
    ]);
    assert_eq!(ok.status.code(), Some(1));
    assert!(!std::fs::read_to_string(&kept).unwrap().contains("earlier"));
}

#[test]
fn html_dash_is_standard_output_as_its_help_says() {
    let help = stdout(&run(&["scan", "--help"]));
    let help = help.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        help.contains("`-`: standard output, instead of the findings"),
        "{help}"
    );
    // Alone: the HTML report on standard output, the text summary on standard error.
    let out = run(&["scan", "--html", "-", "fixtures/o2-2012.pcap"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let page = stdout(&out);
    assert!(
        page.starts_with("<!DOCTYPE html>") && page.ends_with("</html>\n"),
        "{page}"
    );
    assert_eq!(page.matches("<!DOCTYPE html>").count(), 1);
    assert!(stderr(&out).contains("Summary"), "{}", stderr(&out));
    let quiet = run(&["scan", "--quiet", "--html", "-", "fixtures/o2-2012.pcap"]);
    assert!(stdout(&quiet).starts_with("<!DOCTYPE html>"));
    assert!(quiet.stderr.is_empty(), "{}", stderr(&quiet));
    // With -o FILE the findings go there.
    let dir = tempfile::tempdir().unwrap();
    let findings = dir.path().join("f.jsonl");
    let both = run(&[
        "scan",
        "--format",
        "jsonl",
        "-o",
        findings.to_str().unwrap(),
        "--html",
        "-",
        "fixtures/o2-2012.pcap",
    ]);
    assert_eq!(both.status.code(), Some(1));
    assert!(stdout(&both).starts_with("<!DOCTYPE html>"));
    // 13 requests, 6 leak_summary rows, the summary.
    assert_eq!(
        std::fs::read_to_string(&findings).unwrap().lines().count(),
        13 + 6 + 1
    );
    // Both on standard output: refused before reading.
    let twice = run(&["scan", "-o", "-", "--html", "-", "fixtures/o2-2012.pcap"]);
    assert_eq!(twice.status.code(), Some(2));
    assert!(twice.stdout.is_empty());
    assert!(
        stderr(&twice).contains("both name standard output"),
        "{}",
        stderr(&twice)
    );
}

#[test]
fn threads_zero_is_one_per_core() {
    let help = stdout(&run(&["scan", "--help"]));
    let help = help.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(help.contains("default, and 0: one per core"), "{help}");
    let man = stdout(&run(&["man", "scan"]));
    let man = man.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(man.contains("0: one per core"), "{man}");
    let zero = run(&["scan", "--threads", "0", "fixtures/o2-2012.pcap"]);
    assert_eq!(zero.status.code(), Some(1));
    assert!(zero.stderr.is_empty(), "{}", stderr(&zero));
    assert_eq!(zero.stdout, run(&["scan", "fixtures/o2-2012.pcap"]).stdout);
}

#[test]
fn too_many_threads_is_one_line_not_a_panic() {
    let out = run(&["scan", "--threads", "100000", "fixtures/o2-2012.pcap"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out),
        "phoneleak: --threads 100000: using 256, the most\n"
    );
    let want = run(&["scan", "--threads", "1", "fixtures/o2-2012.pcap"]);
    assert_eq!(out.stdout, want.stdout);
}

#[test]
fn headers_speaks_jsonl_like_scan() {
    let out = run(&["headers", "--format", "jsonl"]);
    assert_eq!(out.status.code(), Some(0));
    let rows: Vec<Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    let json: Vec<Value> =
        serde_json::from_slice(&run(&["headers", "--format", "json"]).stdout).unwrap();
    assert_eq!(rows, json);
    assert!(rows.len() > 10);
}

/// The Counters section of docs/output.md, from the counters' doc comments.
fn counters_markdown() -> String {
    let mut md = String::from("| counter | what it counts |\n|---|---|\n");
    for (name, doc) in phoneleak::pipeline::Stats::counter_docs() {
        md.push_str(&format!("| `{name}` | {} |\n", doc.replace('|', "\\|")));
    }
    md
}

#[test]
fn every_counter_is_explained_in_the_docs_and_the_man_page() {
    let begin = "<!-- counters: generated, do not edit -->\n";
    let end = "<!-- end of counters -->";
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/output.md");
    let doc = std::fs::read_to_string(&path).unwrap();
    let (head, rest) = doc.split_once(begin).expect("the counters' start marker");
    let (section, tail) = rest.split_once(end).expect("the counters' end marker");
    let want = counters_markdown();
    if std::env::var_os("PHONELEAK_BLESS").is_some() {
        std::fs::write(&path, format!("{head}{begin}{want}{end}{tail}")).unwrap();
    } else {
        assert_eq!(
            section, want,
            "docs/output.md's counters differ from the code's (PHONELEAK_BLESS=1 rewrites them)"
        );
    }
    for command in ["scan", "live"] {
        let page = stdout(&run(&["man", command]));
        if command == "live" && !page.contains(".SH") {
            continue; // a build without live capture has no such page
        }
        assert!(page.contains(".SH COUNTERS"), "man {command}");
        for (name, doc) in phoneleak::pipeline::Stats::counter_docs() {
            let roff = name.replace('-', "\\-");
            assert!(
                page.contains(&format!(".TP\n\\fB{roff}\\fR\n")),
                "man {command}: {name}"
            );
            let first = doc
                .split_whitespace()
                .next()
                .unwrap_or("")
                .replace('-', "\\-");
            assert!(page.contains(&first), "man {command}: {doc}");
        }
    }
    // The summary of the README's example names counters this list explains.
    let text = stdout(&run(&["scan", "fixtures/o2-2012.pcap"]));
    assert!(text.contains("flow.packets_untracked") && want.contains("`flow.packets_untracked`"));
}

#[test]
fn man_pages_describe_rather_than_repeat_the_name() {
    let pages = [
        "",
        "scan",
        "merge",
        "headers",
        "completions",
        "man",
        "live",
        "interfaces",
    ];
    for command in pages {
        let args: Vec<&str> = ["man", command]
            .into_iter()
            .filter(|a| !a.is_empty())
            .collect();
        let page = stdout(&run(&args));
        let section = |name: &str| -> String {
            page.split(&format!(".SH {name}\n"))
                .nth(1)
                .and_then(|s| s.split("\n.SH ").next())
                .unwrap_or_default()
                .to_string()
        };
        let name = section("NAME");
        let description = section("DESCRIPTION");
        let one_line = name
            .split(" \\- ")
            .nth(1)
            .unwrap_or_default()
            .trim()
            .to_string();
        assert!(!one_line.is_empty(), "man {command}: {name}");
        assert!(
            description.len() > one_line.len() + 80,
            "man {command}: the DESCRIPTION says more than the name line:\n{description}"
        );
    }
}
