//! A real HTTP/2 client: curl with `--http2-prior-knowledge` against Debian's
//! nginx (HTTP/2 on a cleartext listener), in a network namespace the test
//! makes, captured by tcpdump on its loopback. Every request nginx logs must
//! be found by phoneleak, as HTTP/2 with its stream id, with the X-MSISDN
//! leak curl sent. Then nghttp (nghttp2's client, prior knowledge for
//! `http://`) posts a JSON body on three streams of one connection at once:
//! each is found on that connection with its header leak and its body leak
//! (`/user/phone`). Skipped with a message when not root or without nginx,
//! curl, nghttp, tcpdump, iproute2 or nsenter (.ci/run installs them). curl
//! 7.88 fails on a second request over one prior-knowledge connection to
//! nginx 1.22 (and on a POST body), so each curl request has its own
//! connection.
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::scratch;

const PORT: u16 = 8089;

/// Deletes the namespace (and ends the processes in it) on drop.
struct Netns(String);

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["netns", "del", &self.0]).status();
    }
}

/// `args` run in the namespace: nsenter joins it and execs the program, so
/// the child's id is the program's (which `ip netns exec` does not promise).
fn in_ns(ns: &str, args: &[&str]) -> Command {
    let mut c = Command::new("nsenter");
    c.arg(format!("--net=/run/netns/{ns}")).arg("--").args(args);
    c
}

/// A network namespace with its loopback up, for test `test` (prefix
/// `prefix`), when running as root with `tools` installed; else None, the
/// skip said plainly (`needs` names what the tools come from).
fn namespace(test: &str, prefix: &str, tools: &[&str], needs: &str) -> Option<Netns> {
    let missing: Vec<_> = tools.iter().filter(|t| !have(t)).collect();
    let uid = Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string());
    if !missing.is_empty() || uid.as_deref().ok() != Some("0") {
        crate::common::skip_system(&format!(
            "SKIPPED {test}: needs root and {needs} (missing: {missing:?}); nothing was checked"
        ));
        return None;
    }
    let ns = Netns(format!("{prefix}-{}", std::process::id()));
    if !Command::new("ip")
        .args(["netns", "add", &ns.0])
        .status()
        .is_ok_and(|s| s.success())
    {
        crate::common::skip_system(&format!("SKIPPED {test}: cannot make a network namespace"));
        return None;
    }
    assert!(
        in_ns(&ns.0, &["ip", "link", "set", "lo", "up"])
            .status()
            .unwrap()
            .success()
    );
    Some(ns)
}

fn have(tool: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// A process this test started: ended (by its id) when dropped, also when
/// the test fails.
struct Proc(Option<Child>, &'static str);

impl Drop for Proc {
    fn drop(&mut self) {
        if let Some(c) = self.0.take() {
            stop(c, self.1);
        }
    }
}

/// Ends a process this test started, by its id: `signal`, then SIGKILL
/// if it is still there after 5 s.
fn stop(mut child: Child, signal: &str) {
    let _ = Command::new("kill")
        .args([signal, &child.id().to_string()])
        .status();
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        if child.try_wait().ok().flatten().is_some() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn curl_http2_prior_knowledge_against_nginx() {
    let Some(ns) = namespace(
        "curl_http2_prior_knowledge_against_nginx",
        "plh2",
        &["nginx", "curl", "nghttp", "tcpdump", "ip", "nsenter"],
        "nginx, curl, tcpdump, ip",
    ) else {
        return;
    };
    let dir = scratch("h2-client");
    let log = dir.join("access.log");
    let conf = dir.join("nginx.conf");
    let d = dir.display();
    std::fs::write(
        &conf,
        format!(
            "daemon off;\nworker_processes 1;\npid {d}/nginx.pid;\nerror_log {d}/error.log;\n\
             events {{ worker_connections 64; }}\n\
             http {{\n  log_format req '$request $http_x_msisdn';\n  access_log {log} req;\n\
               client_body_temp_path {d}/body; proxy_temp_path {d}/proxy;\n\
               fastcgi_temp_path {d}/fcgi; uwsgi_temp_path {d}/uwsgi; scgi_temp_path {d}/scgi;\n\
               server {{ listen 127.0.0.1:{PORT} http2; location / {{ return 200 \"ok\\n\"; }} }}\n}}\n",
            log = log.display()
        ),
    )
    .unwrap();
    let pcap = dir.join("h2c.pcap");
    let mut tcpdump = in_ns(
        &ns.0,
        &[
            "tcpdump",
            "-i",
            "lo",
            "-U",
            "--immediate-mode",
            "-s",
            "0",
            "-w",
            &pcap.display().to_string(),
            "tcp",
            "port",
            &PORT.to_string(),
        ],
    )
    .stdout(Stdio::null())
    .stderr(Stdio::piped())
    .spawn()
    .unwrap();
    // Wait for "listening on lo".
    let mut err = BufReader::new(tcpdump.stderr.take().unwrap());
    let mut line = String::new();
    err.read_line(&mut line).unwrap();
    assert!(line.contains("listening"), "tcpdump: {line}");
    let tcpdump = Proc(Some(tcpdump), "-INT");
    let nginx = in_ns(
        &ns.0,
        &[
            "nginx",
            "-c",
            &conf.display().to_string(),
            "-p",
            &d.to_string(),
        ],
    )
    .stdout(Stdio::null())
    .stderr(Stdio::null())
    .spawn()
    .unwrap();
    let nginx = Proc(Some(nginx), "-QUIT");
    let url = |p: &str| format!("http://127.0.0.1:{PORT}{p}");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let up = in_ns(
            &ns.0,
            &[
                "curl",
                "-s",
                "-o",
                "/dev/null",
                "--http2-prior-knowledge",
                &url("/ready"),
            ],
        )
        .status()
        .is_ok_and(|s| s.success());
        if up {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "nginx did not start: {:?}",
            std::fs::read_to_string(dir.join("error.log"))
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    // One request per connection: curl 7.88 fails (error 16) on a second
    // request over a reused prior-knowledge connection to nginx 1.22, and
    // (error 92) on a POST body; GETs on separate connections work.
    let requests: [&[&str]; 3] = [
        &["-H", "Cookie: a=1", "-H", "Cookie: b=2"],
        &["-A", "phoneleak-test"],
        &["-H", "Accept-Language: en-GB"],
    ];
    for (i, extra) in requests.iter().enumerate() {
        let target = url(&format!("/r{i}?x={i}"));
        let mut args = vec![
            "curl",
            "-sS",
            "-o",
            "/dev/null",
            "--http2-prior-knowledge",
            "-H",
            "X-MSISDN: 447700900123",
        ];
        args.extend(extra.iter());
        args.push(&target);
        assert!(
            in_ns(&ns.0, &args).status().unwrap().success(),
            "curl {args:?} failed"
        );
    }
    // nghttp: three POSTs multiplexed on one connection (its URIs of one
    // authority share a connection and are sent concurrently).
    let body = dir.join("body.json");
    std::fs::write(&body, r#"{"user":{"name":"Ann","phone":"+447700900123"}}"#).unwrap();
    let posts: Vec<String> = (0..3).map(|i| url(&format!("/n{i}"))).collect();
    let mut args = vec![
        "nghttp",
        "-n",
        "-H",
        "x-msisdn: 447700900123",
        "-H",
        "content-type: application/json",
        "-d",
    ];
    let body_arg = body.display().to_string();
    args.push(&body_arg);
    args.extend(posts.iter().map(String::as_str));
    assert!(
        in_ns(&ns.0, &args).status().unwrap().success(),
        "nghttp {args:?} failed"
    );
    std::thread::sleep(Duration::from_millis(300));
    let _ = in_ns(
        &ns.0,
        &[
            "nginx",
            "-c",
            &conf.display().to_string(),
            "-p",
            &d.to_string(),
            "-s",
            "stop",
        ],
    )
    .status();
    std::thread::sleep(Duration::from_millis(300));
    drop(nginx);
    drop(tcpdump);
    let logged: Vec<(String, String)> = std::fs::read_to_string(&log)
        .unwrap()
        .lines()
        .filter(|l| !l.contains("/ready"))
        .map(|l| {
            let p: Vec<&str> = l.split(' ').collect();
            assert_eq!(p.get(2), Some(&"HTTP/2.0"), "{l}");
            (p[0].to_string(), p[1].to_string())
        })
        .collect();
    assert_eq!(logged.len(), 6, "nginx logged {logged:?}");
    let out = crate::common::phoneleak(&[
        "scan",
        "--format",
        "jsonl",
        "--all-requests",
        "--show-numbers",
        &pcap.display().to_string(),
    ]);
    let found: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .filter(|v: &serde_json::Value| v["type"] == "request")
        .collect();
    for (method, uri) in &logged {
        let r = found
            .iter()
            .find(|v| v["method"] == method.as_str() && v["uri"] == uri.as_str())
            .unwrap_or_else(|| panic!("{method} {uri} not found in {found:#?}"));
        assert_eq!(r["version"], "HTTP/2");
        assert!(r["stream_id"].is_u64());
        assert!(
            r["leaks"]
                .as_array()
                .unwrap()
                .iter()
                .any(|l| l["header"] == "x-msisdn"),
            "{r}"
        );
    }
    // The nghttp POSTs: one connection, three streams, each with its body leak.
    let posts: Vec<&serde_json::Value> = found.iter().filter(|v| v["method"] == "POST").collect();
    assert_eq!(posts.len(), 3, "{found:#?}");
    let flows: std::collections::BTreeSet<_> =
        posts.iter().map(|v| v["flow_id"].as_u64()).collect();
    let streams: std::collections::BTreeSet<_> =
        posts.iter().map(|v| v["stream_id"].as_u64()).collect();
    assert_eq!((flows.len(), streams.len()), (1, 3), "{posts:#?}");
    for r in &posts {
        assert_eq!(r["body"]["kind"], "json", "{r}");
        assert!(
            r["leaks"]
                .as_array()
                .unwrap()
                .iter()
                .any(|l| l["where"] == "body" && l["key"] == "/user/phone"),
            "{r}"
        );
    }
    assert!(Path::new(&pcap).exists());
    eprintln!(
        "curl --http2-prior-knowledge and nghttp: nginx logged {} requests, all found",
        logged.len()
    );
}

/// A real server that pushes: nghttpd (nghttp2's server, h2c with
/// `--no-tls`, `--push` promising two requests whenever /index.html is
/// asked, one with the number in its query) and nghttp (which allows push)
/// in a network namespace, captured by tcpdump. Every promise nghttp says
/// it received is reported marked pushed, on the stream it came on, with
/// its leak; the client's own requests are found as such and only they are
/// counted in `http.requests`; a client that disables push (`--no-push`,
/// as curl and browsers do) has its server read no further than its
/// SETTINGS. Skipped with a message when not root or without nghttpd
/// (Debian's nghttp2-server), nghttp, tcpdump, ip or nsenter.
#[test]
fn nghttp_against_nghttpd_push() {
    const PUSH_PORT: u16 = 8090;
    let Some(ns) = namespace(
        "nghttp_against_nghttpd_push",
        "plpush",
        &["nghttpd", "nghttp", "tcpdump", "ip", "nsenter"],
        "nghttpd (nghttp2-server), nghttp, tcpdump, ip",
    ) else {
        return;
    };
    let dir = scratch("h2-push-nghttpd");
    let www = dir.join("www");
    std::fs::create_dir_all(&www).unwrap();
    std::fs::write(www.join("index.html"), "<html>hi</html>\n").unwrap();
    std::fs::write(www.join("style.css"), "p{}\n").unwrap();
    let pcap = dir.join("push.pcap");
    let mut tcpdump = in_ns(
        &ns.0,
        &[
            "tcpdump",
            "-i",
            "lo",
            "-U",
            "--immediate-mode",
            "-s",
            "0",
            "-w",
            &pcap.display().to_string(),
            "tcp",
            "port",
            &PUSH_PORT.to_string(),
        ],
    )
    .stdout(Stdio::null())
    .stderr(Stdio::piped())
    .spawn()
    .unwrap();
    let mut err = BufReader::new(tcpdump.stderr.take().unwrap());
    let mut line = String::new();
    err.read_line(&mut line).unwrap();
    assert!(line.contains("listening"), "tcpdump: {line}");
    let tcpdump = Proc(Some(tcpdump), "-INT");
    let port = PUSH_PORT.to_string();
    let nghttpd = in_ns(
        &ns.0,
        &[
            "nghttpd",
            "--no-tls",
            "-d",
            &www.display().to_string(),
            "--push=/index.html=/app.js?msisdn=447700900123,/style.css",
            &port,
        ],
    )
    .stdout(Stdio::null())
    .stderr(Stdio::null())
    .spawn()
    .unwrap();
    let nghttpd = Proc(Some(nghttpd), "-TERM");
    let url = |p: &str| format!("http://127.0.0.1:{PUSH_PORT}{p}");
    // Ready once a client (one that disables push) gets an answer.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let up = in_ns(&ns.0, &["nghttp", "-n", "--no-push", &url("/index.html")])
            .status()
            .is_ok_and(|s| s.success());
        if up {
            break;
        }
        assert!(Instant::now() < deadline, "nghttpd did not start");
        std::thread::sleep(Duration::from_millis(100));
    }
    // A client that allows push: what nghttp says it was promised.
    let out = in_ns(
        &ns.0,
        &[
            "nghttp",
            "-nv",
            "-H",
            "x-msisdn: 447700900123",
            &url("/index.html"),
        ],
    )
    .output()
    .unwrap();
    assert!(out.status.success(), "nghttp failed");
    let verbose = String::from_utf8_lossy(&out.stdout).to_string();
    // "recv (stream_id=N) :path: P" lines, then "recv PUSH_PROMISE frame".
    let mut promised: Vec<(String, u64)> = Vec::new();
    let mut path: Option<(String, u64)> = None;
    for l in verbose.lines() {
        if let Some(rest) = l.split("recv (stream_id=").nth(1) {
            let (id, field) = rest.split_once(") ").unwrap();
            if let Some(p) = field.strip_prefix(":path: ") {
                path = Some((p.to_string(), id.parse().unwrap()));
            }
        } else if l.contains("recv PUSH_PROMISE frame") {
            promised.extend(path.take());
        } else if l.contains("recv HEADERS frame") {
            path = None;
        }
    }
    promised.sort();
    assert_eq!(
        promised.len(),
        2,
        "nghttp was promised {promised:?}:\n{verbose}"
    );
    std::thread::sleep(Duration::from_millis(300));
    drop(nghttpd);
    std::thread::sleep(Duration::from_millis(300));
    drop(tcpdump);
    let out = crate::common::phoneleak(&[
        "scan",
        "--format",
        "jsonl",
        "--all-requests",
        "--show-numbers",
        &pcap.display().to_string(),
    ]);
    let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let requests: Vec<&serde_json::Value> =
        lines.iter().filter(|v| v["type"] == "request").collect();
    let mut pushed: Vec<(String, u64)> = requests
        .iter()
        .filter(|v| v["pushed"] == true)
        .map(|v| {
            (
                v["uri"].as_str().unwrap().to_string(),
                v["associated_stream_id"].as_u64().unwrap(),
            )
        })
        .collect();
    pushed.sort();
    assert_eq!(pushed, promised, "{requests:#?}");
    let js = requests
        .iter()
        .find(|v| v["pushed"] == true && v["uri"] == "/app.js?msisdn=447700900123")
        .unwrap();
    assert!(
        js["leaks"]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l["header"] == "(request-target)"),
        "{js}"
    );
    // The client's requests: the ready probes (no push) and the GET with
    // its header leak, all as sent by the client.
    let mine: Vec<&&serde_json::Value> =
        requests.iter().filter(|v| v["pushed"].is_null()).collect();
    assert!(mine.iter().all(|v| v["uri"] == "/index.html"), "{mine:#?}");
    assert!(mine.iter().any(|v| {
        v["leaks"]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l["header"] == "x-msisdn")
    }));
    let summary = lines.iter().find(|v| v["type"] == "summary").unwrap();
    assert_eq!(
        summary["http"]["requests"].as_u64(),
        Some(mine.len() as u64),
        "{summary}"
    );
    assert_eq!(
        summary["h2"]["pushed_requests"].as_u64(),
        Some(2),
        "{summary}"
    );
    // Every probe disabled push: its server was read up to its SETTINGS only.
    assert_eq!(
        summary["h2"]["server_reads_stopped"].as_u64(),
        Some(mine.len() as u64 - 1),
        "{summary}"
    );
    eprintln!(
        "nghttp against nghttpd --push: {} promises, all reported as pushed",
        promised.len()
    );
}
