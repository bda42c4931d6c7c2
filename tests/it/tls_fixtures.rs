//! The TLS fixtures (fixturegen::tls): made by a real TLS stack, the same
//! bytes on every run, and each decrypts in tshark, with its key log or the
//! secrets inside it, to exactly the requests its truth lists.
use std::collections::BTreeSet;
use std::process::Command;

use fixturegen::tls::TlsFixture;
use fixturegen::{TruthRequest, tls};

use crate::common::scratch;

#[test]
fn tls_fixtures_are_reproducible() {
    let a = tls::all();
    let b = tls::all();
    assert_eq!(a.len(), b.len());
    let mut names = BTreeSet::new();
    for (x, y) in a.iter().zip(&b) {
        assert!(names.insert(x.fixture.name), "{} twice", x.fixture.name);
        assert_eq!(x.fixture.name, y.fixture.name);
        assert!(
            x.fixture.bytes == y.fixture.bytes,
            "{}: bytes differ between two runs",
            x.fixture.name
        );
        assert_eq!(x.keylog, y.keylog, "{}: key log differs", x.fixture.name);
        assert_eq!(x.fixture.truth, y.fixture.truth);
    }
}

/// The TLS fixtures committed in fixtures/tls are what the generator writes
/// (capture, truth, key log), and each one's whole output, scanned with its
/// key log (or its Decryption Secrets Blocks), is its `.expected.jsonl`
/// (`PHONELEAK_BLESS=1` rewrites them; `cargo run --example
/// gen_tls_fixtures` the rest).
#[test]
fn committed_tls_fixtures_are_the_generators_and_give_their_expected_output() {
    let dir = crate::fixtures::fixtures_dir().join("tls");
    let mut failures = Vec::new();
    for f in tls::all() {
        let name = f.fixture.name;
        let committed = std::fs::read(dir.join(name)).unwrap_or_default();
        assert!(
            committed == f.fixture.bytes,
            "fixtures/tls/{name} differs from the generator's output: run `cargo run --example gen_tls_fixtures`"
        );
        let truth = std::fs::read_to_string(dir.join(f.fixture.truth_name())).unwrap_or_default();
        assert_eq!(truth, f.fixture.truth_json(), "{name}: stale truth");
        let keys = std::fs::read_to_string(dir.join(f.keylog_name())).unwrap_or_default();
        assert_eq!(keys, f.keylog, "{name}: stale key log");
        let capture = format!("fixtures/tls/{name}");
        let keylog = format!("fixtures/tls/{}", f.keylog_name());
        let mut args = vec!["scan", "--format", "jsonl", "--all-requests"];
        if !f.keys_in_dsb {
            args.extend(["--keylog", &keylog]);
        }
        args.push(&capture);
        let out = crate::common::phoneleak(&args);
        let stem = name.rsplit_once('.').map_or(name, |(s, _)| s);
        crate::fixtures::check_expected(
            &dir.join(format!("{stem}.expected.jsonl")),
            &String::from_utf8_lossy(&out.stdout),
            &mut failures,
        );
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// One request as tshark shows it: (client, server, method, host, target),
/// and the request's header lines.
type Seen = ((String, String, String, String, String), String);

fn key(r: &TruthRequest) -> (String, String, String, String, String) {
    (
        r.src.clone(),
        r.dst.clone(),
        r.method.clone(),
        r.host.clone(),
        r.uri.clone(),
    )
}

/// The last of a field's comma-separated occurrences (the inner header of a
/// tunnelled packet).
fn last(field: &str) -> &str {
    field.rsplit(',').next().unwrap_or("")
}

/// Fixtures where tshark (Wireshark 4.0) cannot find the truth's requests,
/// and why. The first is checked for finding none or exactly the truth; the
/// second is checked with its secrets given as a key-log file instead.
const TSHARK_GAPS: &[(&str, &str)] = &[
    (
        "tls13-traffic-secrets-only.pcap",
        "tshark decrypts no TLS 1.3 application data without the handshake secrets",
    ),
    (
        "tls13-dsb-after.pcapng",
        "tshark uses a Decryption Secrets Block only before the packets it unlocks, even with -2",
    ),
];

fn tshark_requests(f: &TlsFixture, dir: &std::path::Path, keylog_file: bool) -> Vec<Seen> {
    let cap = dir.join(f.fixture.name);
    std::fs::write(&cap, &f.fixture.bytes).unwrap();
    let mut cmd = Command::new("tshark");
    // Two passes: a Decryption Secrets Block may follow the packets it unlocks.
    cmd.arg("-2").arg("-r").arg(&cap);
    if keylog_file {
        let keys = dir.join(f.keylog_name());
        std::fs::write(&keys, &f.keylog).unwrap();
        cmd.arg("-o")
            .arg(format!("tls.keylog_file:{}", keys.display()));
    }
    let out = cmd
        .args([
            "-o",
            "tcp.reassemble_out_of_order:TRUE",
            "-Y",
            "http.request",
        ])
        .args(["-T", "fields", "-E", "separator=/t"])
        .args([
            "-e",
            "ip.src",
            "-e",
            "tcp.srcport",
            "-e",
            "ip.dst",
            "-e",
            "tcp.dstport",
        ])
        .args([
            "-e",
            "http.request.method",
            "-e",
            "http.host",
            "-e",
            "http.request.uri",
        ])
        .args(["-e", "http.request.line"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}: tshark failed: {}",
        f.fixture.name,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| {
            let c: Vec<&str> = l.split('\t').collect();
            let g = |i: usize| c.get(i).copied().unwrap_or("");
            (
                (
                    format!("{}:{}", last(g(0)), last(g(1))),
                    format!("{}:{}", last(g(2)), last(g(3))),
                    g(4).to_string(),
                    g(5).to_string(),
                    g(6).to_string(),
                ),
                g(7).to_ascii_lowercase(),
            )
        })
        .collect()
}

#[test]
fn tls_fixtures_decrypt_in_tshark_to_their_truth() {
    if Command::new("tshark").arg("-v").output().is_err() {
        crate::common::skip_system("SKIPPED: tshark is not installed");
        return;
    }
    let dir = scratch("tls_fixtures");
    let mut failures = Vec::new();
    for f in tls::all() {
        let truth = &f.fixture.truth;
        let name = f.fixture.name;
        if name.contains("-h2") {
            // HTTP/2: checked against tshark's http2 fields in h2_fixtures.rs.
            continue;
        }
        let gap = TSHARK_GAPS
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, why)| *why);
        let dsb_gap = gap.is_some() && f.keys_in_dsb;
        let seen = tshark_requests(&f, &dir, !f.keys_in_dsb || dsb_gap);
        if let Some(why) = gap.filter(|_| !dsb_gap && seen.is_empty()) {
            eprintln!(
                "{name}: tshark finds none of the {} requests ({why})",
                truth.requests.len()
            );
            continue;
        }
        // tshark's requests in order: each the truth's next request, or one
        // of its optional requests.
        let mut next = 0;
        let mut optional: Vec<_> = truth.optional_requests.iter().map(key).collect();
        let mut ok = true;
        for (k, _) in &seen {
            if truth.requests.get(next).map(key).as_ref() == Some(k) {
                next += 1;
            } else if let Some(i) = optional.iter().position(|o| o == k) {
                optional.remove(i);
            } else {
                ok = false;
            }
        }
        if !ok || next != truth.requests.len() {
            let got: Vec<_> = seen.iter().map(|(k, _)| k.clone()).collect();
            let want: Vec<_> = truth.requests.iter().map(key).collect();
            failures.push(format!(
                "{name}: tshark finds {got:#?}\n  the truth lists {want:#?}"
            ));
            continue;
        }
        for r in &truth.requests {
            let lines = &seen.iter().find(|(k, _)| *k == key(r)).unwrap().1;
            for h in &r.leak_headers {
                if !h.starts_with('(') && !lines.contains(&format!("{h}:")) {
                    failures.push(format!(
                        "{name}: {} {} has no {h} in tshark's view",
                        r.method, r.uri
                    ));
                }
            }
        }
        eprintln!(
            "{name}: tshark finds the {} requests of the truth{}{}",
            truth.requests.len(),
            if seen.len() > truth.requests.len() {
                format!(" and {} optional", seen.len() - truth.requests.len())
            } else {
                String::new()
            },
            if dsb_gap {
                " (secrets given as a key-log file)"
            } else {
                ""
            }
        );
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Each TLS fixture scanned by phoneleak with its key log (or with none when
/// the capture carries its secrets in a Decryption Secrets Block): every
/// request of the truth is found, with its leaking headers, and nothing else
/// (optional requests may be reported); at 1 and 2 threads the output is the same.
#[test]
fn phoneleak_decrypts_every_tls_fixture() {
    let dir = scratch("tls-fixtures-phoneleak");
    for f in tls::all() {
        let name = f.fixture.name;
        let capture = dir.join(name);
        std::fs::write(&capture, &f.fixture.bytes).unwrap();
        let keys = dir.join(f.keylog_name());
        std::fs::write(&keys, &f.keylog).unwrap();
        let mut args = vec![
            "scan".to_string(),
            "--format".into(),
            "jsonl".into(),
            "--all-requests".into(),
            "--show-numbers".into(),
        ];
        if !f.keys_in_dsb {
            args.push("--keylog".into());
            args.push(keys.display().to_string());
        }
        args.push(capture.display().to_string());
        let run = |threads: &str| {
            let mut a: Vec<&str> = args.iter().map(String::as_str).collect();
            a.extend(["--threads", threads]);
            crate::common::phoneleak(&a)
        };
        let out = run("1");
        assert_eq!(
            run("2").stdout,
            out.stdout,
            "{name}: output depends on --threads"
        );
        let text = String::from_utf8_lossy(&out.stdout);
        let mut found = BTreeSet::new();
        for line in text.lines() {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            if v["type"] != "request" {
                continue;
            }
            // Every request but a proxy's CONNECT (plaintext) was decrypted.
            assert_eq!(
                v["tls"]["version"].is_string(),
                v["method"] != "CONNECT",
                "{name}: the tls object: {line}"
            );
            let mut leaks: Vec<String> = v["leaks"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(|l| l["header"].as_str().map(str::to_ascii_lowercase))
                .collect();
            leaks.sort();
            leaks.dedup();
            let key = (
                format!("{}:{}", v["src_ip"].as_str().unwrap(), v["src_port"]),
                format!("{}:{}", v["dest_ip"].as_str().unwrap(), v["dest_port"]),
                v["method"].as_str().unwrap().to_string(),
                v["uri"].as_str().unwrap().to_string(),
            );
            found.insert((key, leaks));
        }
        let want = |r: &TruthRequest| {
            let mut l = r.leak_headers.clone();
            l.sort();
            (
                (
                    r.src.clone(),
                    r.dst.clone(),
                    r.method.clone(),
                    r.uri.clone(),
                ),
                l,
            )
        };
        // Requests a server promised (HTTP/2 push) are reported too.
        let truth: BTreeSet<_> = (f.fixture.truth.requests.iter())
            .chain(&f.fixture.truth.pushed_requests)
            .map(want)
            .collect();
        let optional: BTreeSet<_> = f.fixture.truth.optional_requests.iter().map(want).collect();
        let extra: Vec<_> = found
            .difference(&truth)
            .filter(|r| !optional.contains(r))
            .collect();
        assert!(extra.is_empty(), "{name}: not in the truth: {extra:?}");
        let summary: serde_json::Value = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .find(|v: &serde_json::Value| v["type"] == "summary")
            .unwrap();
        let t = &summary["tls"];
        if name == "tls13-midstream.pcap" {
            // The connection picked up mid-stream is one seen, not decrypted
            // (its handshake is missing), its ciphertext not read as HTTP.
            assert_eq!(
                (
                    t["connections"].as_u64(),
                    t["decrypted"].as_u64(),
                    t["not_decrypted_midstream"].as_u64()
                ),
                (Some(2), Some(1), Some(1)),
                "{summary}"
            );
            assert_eq!(summary["http"]["resyncs"].as_u64().unwrap_or(0), 0);
        }
        if name.starts_with("tls12-resume-") {
            // The resumed connection's own CLIENT_RANDOM line is not in the
            // key log: its master secret is the first connection's, found by
            // trial on its Finished.
            assert_eq!(
                (t["decrypted"].as_u64(), t["resumptions_found"].as_u64()),
                (Some(2), Some(1)),
                "{name}: {summary}"
            );
        }
        let missing: Vec<_> = truth.difference(&found).collect();
        assert!(missing.is_empty(), "{name}: missed {missing:?}\n{text}");
    }
}

/// All TLS fixtures in one scan, each key log given (secrets in Decryption
/// Secrets Blocks come with their captures): the output at 7 threads is the
/// one-thread output, and `merge` of the `--shard` parts, or of one scan per
/// capture (each given every key log, as docs/scaling.md says), is
/// byte-identical to one scan, in JSON lines and text, counters included.
#[test]
fn tls_output_is_the_same_at_any_parallelism_and_split() {
    let dir = scratch("tls-fixtures-parallel");
    let mut args: Vec<String> = Vec::new();
    let mut captures = Vec::new();
    for f in tls::all() {
        let capture = dir.join(f.fixture.name);
        std::fs::write(&capture, &f.fixture.bytes).unwrap();
        captures.push(capture.display().to_string());
        if !f.keys_in_dsb {
            let keys = dir.join(f.keylog_name());
            std::fs::write(&keys, &f.keylog).unwrap();
            args.push("--keylog".into());
            args.push(keys.display().to_string());
        }
    }
    let keylogs = args.clone();
    args.extend(captures.iter().cloned());
    let scan = |extra: &[&str]| {
        let mut a = vec!["scan"];
        a.extend_from_slice(extra);
        a.extend(args.iter().map(String::as_str));
        crate::common::phoneleak(&a)
    };
    for format in ["jsonl", "text"] {
        let one = scan(&["--format", format, "--threads", "1"]);
        let text = String::from_utf8_lossy(&one.stdout).into_owned();
        if format == "jsonl" {
            let decrypted = text.lines().filter(|l| l.contains("\"tls\":{")).count();
            assert!(decrypted > 20, "too few decrypted requests: {text}");
        }
        let seven = scan(&["--format", format, "--threads", "7"]);
        assert_eq!(
            String::from_utf8_lossy(&seven.stdout),
            text,
            "{format}: 7 threads differ from one"
        );
        for n in 2..=3 {
            let mut parts = Vec::new();
            for i in 1..=n {
                let path = dir.join(format!("part-{i}-of-{n}.jsonl"));
                let path_s = path.display().to_string();
                let shard = format!("{i}/{n}");
                let run = scan(&[
                    "--format",
                    "jsonl",
                    "-q",
                    "--threads",
                    "2",
                    "--shard",
                    &shard,
                    "-o",
                    &path_s,
                ]);
                assert!(run.status.code().is_some(), "{shard}");
                parts.push(path_s);
            }
            let mut merge = vec!["merge", "--format", format];
            merge.extend(parts.iter().map(String::as_str));
            let merged = crate::common::phoneleak(&merge);
            assert_eq!(
                String::from_utf8_lossy(&merged.stdout),
                text,
                "{format}, {n} parts: merge differs from one scan; merge stderr: {}",
                String::from_utf8_lossy(&merged.stderr)
            );
            assert_eq!(merged.status.code(), one.status.code(), "{n} parts");
        }
        // Per-file shards (as the Dask and Spark recipes run them), each
        // given every key log: merged, one scan.
        let mut parts = Vec::new();
        for (i, capture) in captures.iter().enumerate() {
            let path = dir.join(format!("file-{i}.jsonl")).display().to_string();
            let mut a = vec![
                "scan",
                "--format",
                "jsonl",
                "-q",
                "--exit-code",
                "0",
                "-o",
                &path,
            ];
            a.extend(keylogs.iter().map(String::as_str));
            a.push(capture);
            let run = crate::common::phoneleak(&a);
            assert_eq!(run.status.code(), Some(0), "{capture}");
            parts.push(path);
        }
        let mut merge = vec!["merge", "--format", format];
        merge.extend(parts.iter().map(String::as_str));
        let merged = crate::common::phoneleak(&merge);
        assert_eq!(
            String::from_utf8_lossy(&merged.stdout),
            text,
            "{format}, per-file parts: merge differs from one scan"
        );
    }
}

/// Requests as (method, target, leaking headers), sorted.
fn request_keys(out: &std::process::Output) -> Vec<(String, String, Vec<String>)> {
    let mut keys: Vec<_> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["type"] == "request")
        .map(|v| {
            let mut leaks: Vec<String> = v["leaks"]
                .as_array()
                .unwrap()
                .iter()
                .map(|l| l["header"].as_str().unwrap().to_string())
                .collect();
            leaks.sort();
            (
                v["method"].as_str().unwrap().to_string(),
                v["uri"].as_str().unwrap().to_string(),
                leaks,
            )
        })
        .collect();
    keys.sort();
    keys
}

/// Plain fixtures with their connections put inside TLS 1.3 by the
/// benchmark's rewrapper (`fixturegen::tls::rewrap`: records at every
/// segment boundary, retransmissions, reordering, pipelining, VLANs, port
/// reuse): with the key log, phoneleak finds the same requests with the same
/// leaks as in the plain capture, every one decrypted.
#[test]
fn plain_fixtures_inside_tls_give_the_same_requests() {
    let dir = scratch("tls-rewrap");
    for name in [
        "big-headers",
        "bodies",
        "clean",
        "keepalive-pipelined",
        "known-number",
        "o2-2012",
        "port-reuse",
        "reorder-retransmit",
        "split-headers",
        "value-leaks",
        "vlan",
    ] {
        let plain_path = format!("fixtures/{name}.pcap");
        let plain = std::fs::read(&plain_path).unwrap();
        let (capture, keys) = tls::rewrap::rewrap(&plain, tls::session::Suite::Tls13Aes128Gcm, 7);
        let cap = dir.join(format!("{name}.pcap"));
        let keyfile = dir.join(format!("{name}.keys"));
        std::fs::write(&cap, capture).unwrap();
        std::fs::write(&keyfile, keys).unwrap();
        let common = [
            "scan",
            "--format",
            "jsonl",
            "--all-requests",
            "--show-numbers",
        ];
        let mut args = common.to_vec();
        args.push(&plain_path);
        let want = request_keys(&crate::common::phoneleak(&args));
        assert!(!want.is_empty(), "{name}");
        let (k, c) = (keyfile.display().to_string(), cap.display().to_string());
        let mut args = common.to_vec();
        args.extend(["--keylog", &k, &c]);
        let out = crate::common::phoneleak(&args);
        assert_eq!(request_keys(&out), want, "{name}");
        let decrypted = String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter(|l| l.contains("\"tls\":{\"version\":\"TLS 1.3\""))
            .count();
        assert_eq!(decrypted, want.len(), "{name}: not all decrypted");
    }
}

/// A decrypted request shows its TLS connection in the text report (a `tls`
/// line) and in the HTML report (a `tls` tag); an unreadable key log is an
/// error naming it (exit 2); and no secret of the key log, well-formed or
/// not, appears in any output or message, numbers shown or not.
#[test]
fn tls_is_shown_in_every_format_and_secrets_never_are() {
    let dir = scratch("tls-fixtures-formats");
    let f = tls::all()
        .into_iter()
        .find(|f| f.fixture.name == "tls13-aes128gcm.pcap")
        .unwrap();
    let capture = dir.join(f.fixture.name);
    std::fs::write(&capture, &f.fixture.bytes).unwrap();
    // The fixture's key log, plus malformed lines that carry secret-looking
    // hex (a short random, a bad label, a secret of odd length).
    let mut keylog = f.keylog.clone();
    let secrets: Vec<String> = keylog
        .lines()
        .filter_map(|l| l.split_whitespace().nth(2).map(str::to_string))
        .collect();
    assert!(secrets.len() >= 4, "{keylog}");
    let junk = [
        "CLIENT_RANDOM 0011 a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f6071829",
        "CLIENT_TRAFFIC_SECRET_0 288683b1c6098f4bdd34c796057959caad4dcb95bbb79fe49856d16cca06e6e4 f00dbeef",
    ];
    for j in junk {
        keylog.push_str(j);
        keylog.push('\n');
    }
    let keys = dir.join("keys.log");
    std::fs::write(&keys, &keylog).unwrap();
    let (cap, k) = (capture.to_str().unwrap(), keys.to_str().unwrap());
    let html = dir.join("report.html");
    let jsonl = dir.join("report.jsonl");
    let mut outputs = Vec::new();
    for show in [false, true] {
        let mut args = vec!["scan", "--keylog", k, cap, "--html", html.to_str().unwrap()];
        if show {
            args.push("--show-numbers");
        }
        let text = crate::common::phoneleak(&args);
        assert_eq!(text.status.code(), Some(1), "a leak is found");
        let stdout = String::from_utf8_lossy(&text.stdout).to_string();
        assert!(
            stdout.contains("  tls      TLS 1.3 TLS_AES_128_GCM_SHA256 sni api.example.com"),
            "{stdout}"
        );
        assert!(stdout.contains("keylog.keylog_malformed"), "{stdout}");
        let page = std::fs::read_to_string(&html).unwrap();
        assert!(
            page.contains("<span class=\"tag tls\"")
                && page.contains(">TLS 1.3 TLS_AES_128_GCM_SHA256"),
            "no tls tag in the HTML report"
        );
        let mut args = vec![
            "scan",
            "--keylog",
            k,
            cap,
            "--format",
            "jsonl",
            "--all-requests",
        ];
        args.extend(["-o", jsonl.to_str().unwrap()]);
        if show {
            args.push("--show-numbers");
        }
        let json = crate::common::phoneleak(&args);
        outputs.extend([
            stdout,
            String::from_utf8_lossy(&text.stderr).to_string(),
            page,
            std::fs::read_to_string(&jsonl).unwrap(),
            String::from_utf8_lossy(&json.stdout).to_string(),
            String::from_utf8_lossy(&json.stderr).to_string(),
        ]);
    }
    let mut needles: Vec<String> = secrets;
    needles.extend(
        junk.iter()
            .filter_map(|l| l.split_whitespace().nth(2).map(str::to_string)),
    );
    for out in &outputs {
        for s in &needles {
            // Any 16 hex digits of a secret are enough to be a leak of it.
            let piece = s.get(..16).unwrap_or(s);
            assert!(
                !out.contains(piece),
                "a secret ({piece}…) in an output:\n{out}"
            );
        }
    }
    // A key log that cannot be read: exit 2, named.
    for bad in [dir.join("absent.keys"), dir.clone()] {
        let b = bad.to_str().unwrap();
        let out = crate::common::phoneleak(&["scan", "--keylog", b, cap]);
        assert_eq!(out.status.code(), Some(2), "{b}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(b), "{b}: {err}");
        assert!(out.stdout.is_empty() || !String::from_utf8_lossy(&out.stdout).contains("leak "));
    }
}
