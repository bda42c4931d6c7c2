//! Live capture end to end (cargo feature `live`): the real binary captures on
//! the loopback interface while this test sends real HTTP requests to a small
//! server of its own on 127.0.0.1; then it stops the capture with SIGINT (or
//! `--duration`) and checks the reported leaks, the summary and the exit status.
//!
//! Capturing needs root (or CAP_NET_RAW); CI runs as root. Without it these
//! tests say plainly on stderr that they were skipped and why.
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::thread;
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::{Pid, geteuid};
use serde_json::Value;

const MSISDN: &str = "447700900123";
const MASKED: &str = "44*******123";

fn phoneleak() -> Command {
    Command::new(env!("CARGO_BIN_EXE_phoneleak"))
}

/// True when this process may capture; otherwise says why on stderr (unbuffered,
/// so it shows even under the test harness's output capture).
fn can_capture(test: &str) -> bool {
    if geteuid().is_root() {
        return true;
    }
    crate::common::skip_system(&format!(
        "SKIPPED {test}: not root (euid {}); capturing on lo needs root or CAP_NET_RAW \
         (CI runs as root)",
        geteuid()
    ));
    false
}

/// A tiny HTTP/1.1 server on 127.0.0.1: answers every request head with `ok`,
/// keeps connections alive. Returns its port.
fn http_server() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(conn) = conn else { continue };
            thread::spawn(move || serve(conn));
        }
    });
    port
}

fn serve(mut conn: TcpStream) {
    let mut pending = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        while let Some(end) = pending.windows(4).position(|w| w == b"\r\n\r\n") {
            pending.drain(..end + 4);
            if conn
                .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
                .is_err()
            {
                return;
            }
        }
        match conn.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => pending.extend_from_slice(&buf[..n]),
        }
    }
}

fn connect(port: u16) -> TcpStream {
    let conn = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    conn.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    conn.set_nodelay(true).expect("nodelay");
    conn
}

/// Sends a request in the given pieces (pausing between them, so each is its
/// own TCP segment) and reads the whole `ok` response.
fn request(conn: &mut TcpStream, pieces: &[&str]) {
    for (i, piece) in pieces.iter().enumerate() {
        if i > 0 {
            thread::sleep(Duration::from_millis(40));
        }
        conn.write_all(piece.as_bytes()).expect("send");
    }
    let mut got = Vec::new();
    let mut buf = [0u8; 256];
    while !got.ends_with(b"\r\n\r\nok") {
        let n = conn.read(&mut buf).expect("response");
        assert!(n > 0, "server closed early");
        got.extend_from_slice(&buf[..n]);
    }
}

/// A running `phoneleak live`, its output lines arriving on channels.
struct Live {
    child: Child,
    stdout: Receiver<String>,
    stderr: Receiver<String>,
    out_lines: Vec<String>,
    err_lines: Vec<String>,
}

impl Live {
    fn start(args: &[&str]) -> Live {
        let mut cmd = phoneleak();
        cmd.arg("live").args(args);
        Live::spawn(cmd)
    }

    fn spawn(mut cmd: Command) -> Live {
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start phoneleak live");
        let stdout = lines(child.stdout.take().expect("stdout"));
        let stderr = lines(child.stderr.take().expect("stderr"));
        Live {
            child,
            stdout,
            stderr,
            out_lines: Vec::new(),
            err_lines: Vec::new(),
        }
    }

    /// Waits until stderr says the capture runs.
    fn wait_capturing(&mut self, interface: &str) {
        let want = format!("phoneleak: capturing on {interface}");
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            match self.stderr.recv_timeout(Duration::from_millis(100)) {
                Ok(line) => {
                    let found = line.starts_with(&want);
                    self.err_lines.push(line);
                    if found {
                        return;
                    }
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
            }
        }
        let _ = self.child.kill();
        panic!(
            "phoneleak never said {want:?}; stderr: {:?}",
            self.err_lines
        );
    }

    /// Waits until `n` lines were written on stdout (they are flushed one by one).
    fn wait_stdout_lines(&mut self, n: usize) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while self.out_lines.len() < n && Instant::now() < deadline {
            if let Ok(line) = self.stdout.recv_timeout(Duration::from_millis(100)) {
                self.out_lines.push(line);
            }
        }
        assert!(
            self.out_lines.len() >= n,
            "expected {n} lines while capturing, got {:?}",
            self.out_lines
        );
    }

    fn signal(&self, signal: Signal) {
        let pid = Pid::from_raw(i32::try_from(self.child.id()).expect("pid"));
        kill(pid, signal).expect("send signal");
    }

    /// Waits for the exit (at most 60 s); returns the status and all output lines.
    fn finish(mut self) -> (Option<i32>, Vec<String>, Vec<String>) {
        let deadline = Instant::now() + Duration::from_secs(60);
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                break status;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("phoneleak live did not stop; stderr: {:?}", self.err_lines);
            }
            thread::sleep(Duration::from_millis(50));
        };
        self.out_lines.extend(self.stdout.iter());
        self.err_lines.extend(self.stderr.iter());
        (status.code(), self.out_lines, self.err_lines)
    }
}

fn lines(from: impl Read + Send + 'static) -> Receiver<String> {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        for line in BufReader::new(from).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

/// The request and summary objects of a JSON-lines output (the `leak_summary`
/// aggregate lines are checked by tests/it/options.rs).
fn json(lines: &[String]) -> Vec<Value> {
    lines
        .iter()
        .map(|l| serde_json::from_str::<Value>(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .filter(|v| v["type"] != "leak_summary")
        .collect()
}

fn check_leak(line: &Value, uri: &str, port: u16) {
    assert_eq!(line["type"], "request");
    assert_eq!(line["uri"], uri);
    assert_eq!(line["dst"], format!("127.0.0.1:{port}"));
    assert!(line["src"].as_str().unwrap().starts_with("127.0.0.1:"));
    let leaks = line["leaks"].as_array().expect("leaks");
    assert_eq!(leaks.len(), 1, "{line}");
    assert_eq!(leaks[0]["header"], "X-MSISDN");
    assert_eq!(leaks[0]["value"], MASKED);
    assert_eq!(leaks[0]["number"], format!("+{MASKED}"));
    assert_eq!(leaks[0]["kind"], "msisdn-header");
}

/// The issue's scenario: requests with and without `X-MSISDN` (one split over
/// several TCP writes, a keep-alive pair), leaks streamed as they happen, SIGINT.
#[test]
fn captures_leaks_on_loopback_until_sigint() {
    if !can_capture("captures_leaks_on_loopback_until_sigint") {
        return;
    }
    let port = http_server();
    let filter = format!("tcp port {port}");
    let mut live = Live::start(&[
        "-i",
        "lo",
        "-f",
        &filter,
        "--immediate",
        "--format",
        "jsonl",
    ]);
    live.wait_capturing("lo");

    // 1. No subscriber header.
    let mut c = connect(port);
    request(
        &mut c,
        &["GET /plain HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"],
    );
    drop(c);
    // 2. The leak split across four TCP writes, the number itself cut in two.
    let mut c = connect(port);
    request(
        &mut c,
        &[
            "GET /split HTTP/1.1\r\nHo",
            "st: 127.0.0.1\r\nX-MSI",
            "SDN: 4477009",
            "00123\r\nConnection: close\r\n\r\n",
        ],
    );
    drop(c);
    // 3. A keep-alive pair: a leaking request, then a clean one on the same connection.
    let mut c = connect(port);
    request(
        &mut c,
        &[&format!(
            "GET /keepalive-1 HTTP/1.1\r\nHost: 127.0.0.1\r\nX-MSISDN: {MSISDN}\r\n\r\n"
        )],
    );
    request(
        &mut c,
        &["GET /keepalive-2 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"],
    );
    drop(c);

    // Both leaks are reported while the capture still runs (flushed per line).
    live.wait_stdout_lines(2);
    // Let the last segments (the clean request, the FINs) reach the analysis.
    thread::sleep(Duration::from_millis(1000));
    live.signal(Signal::SIGINT);
    let (status, out, err) = live.finish();

    for line in &err {
        println!("stderr: {line}");
    }
    for line in &out {
        println!("stdout: {line}");
    }
    assert_eq!(
        status,
        Some(1),
        "exit status 1: leaks found; stderr {err:?}"
    );
    assert!(
        err.iter()
            .any(|l| l.starts_with("phoneleak: capturing on lo"))
    );
    assert!(
        !out.iter().any(|l| l.contains("7700900")),
        "numbers are masked"
    );
    let lines = json(&out);
    assert_eq!(lines.len(), 3, "two leaking requests and the summary");
    check_leak(&lines[0], "/split", port);
    check_leak(&lines[1], "/keepalive-1", port);
    let summary = &lines[2];
    assert_eq!(summary["type"], "summary");
    assert_eq!(summary["files"], 0);
    assert_eq!(summary["http"]["requests"], 4, "{summary}");
    assert_eq!(summary["leaking_requests"], 2);
    assert_eq!(summary["leak_count"], 2);
    assert_eq!(summary["flow"]["flows"], 3, "{summary}");
    assert_eq!(summary["errors"], serde_json::json!([]));
    let packets = summary["packets"].as_u64().expect("packets");
    assert!(packets >= 20, "three connections: {packets} packets");
    assert_eq!(summary["decode"]["not_tcp"], 0, "the filter kept only TCP");
    let capture = &summary["capture"];
    assert_eq!(capture["interface"], "lo");
    assert!(capture["received"].as_u64().expect("received") >= packets);
    assert_eq!(capture["dropped_kernel"], 0, "a few packets fit the buffer");
    assert!(capture["dropped_interface"].as_u64().is_some());
}

/// `-i any` (Linux cooked frames), `--duration`, `--write-pcap` and `--user`:
/// the capture file scans to the same result, and the process ran unprivileged.
#[test]
fn any_interface_duration_write_pcap_and_user() {
    if !can_capture("any_interface_duration_write_pcap_and_user") {
        return;
    }
    let user = std::fs::read_to_string("/etc/passwd")
        .unwrap_or_default()
        .lines()
        .any(|l| l.starts_with("nobody:"))
        .then_some("nobody");
    let dir = scratch_dir("any");
    let pcap = dir.join("live.pcap");
    let port = http_server();
    let filter = format!("tcp port {port}");
    let mut args = vec![
        "-i",
        "any",
        "-f",
        &filter,
        "--immediate",
        "--duration",
        "3s",
        "--write-pcap",
        pcap.to_str().expect("utf-8 path"),
    ];
    if let Some(user) = user {
        args.extend(["--user", user]);
    }
    let mut live = Live::start(&args);
    live.wait_capturing("any");
    if user.is_some() {
        let status = std::fs::read_to_string(format!("/proc/{}/status", live.child.id()))
            .expect("process status");
        let field = |name: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .map(|v| v.split_whitespace().collect::<Vec<_>>())
                .unwrap_or_default()
        };
        assert_eq!(field("Uid:"), ["65534"; 4], "{status}");
        assert_eq!(field("Groups:"), Vec::<&str>::new(), "{status}");
        assert_eq!(field("CapEff:"), ["0000000000000000"], "{status}");
        assert_eq!(field("NoNewPrivs:"), ["1"], "{status}");
    }
    let mut c = connect(port);
    request(
        &mut c,
        &[&format!(
            "POST /any HTTP/1.1\r\nHost: 127.0.0.1\r\nX-MSISDN: {MSISDN}\r\n\r\n"
        )],
    );
    drop(c);
    let (status, out, err) = live.finish();
    let text = out.join("\n");
    println!("{text}");
    assert_eq!(status, Some(1), "stderr: {err:?}");
    assert!(
        text.contains(&format!("  leak     X-MSISDN: {MASKED}")),
        "{text}"
    );
    assert!(
        out.iter()
            .any(|l| l.starts_with("  interface ") && l.ends_with(" any")),
        "{text}"
    );
    assert!(!text.contains("7700900"));
    let live_packets = summary_row(&text, "packets");
    assert!(live_packets > 0);
    assert!(
        out.iter()
            .any(|l| l.starts_with("  kernel drops ") && l.ends_with(" 0")),
        "whole-packet frames on `any` fit the default buffer: {text}"
    );

    // The pcap file holds exactly what was analysed (Linux cooked frames).
    let scan = phoneleak()
        .args(["scan", "--format", "jsonl"])
        .arg(&pcap)
        .output()
        .expect("scan");
    let lines = json(&stdout_lines(&scan));
    assert_eq!(scan.status.code(), Some(1));
    assert_eq!(lines.len(), 2, "{lines:?}");
    check_leak(&lines[0], "/any", port);
    let summary = &lines[1];
    assert_eq!(summary["packets"].as_u64(), Some(live_packets));
    assert_eq!(summary["decode"]["unknown_link_type"], 0);
    assert!(
        summary.get("capture").is_none(),
        "scan has no capture object"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// A filter that does not compile and an interface that does not exist: exit 2
/// with a message naming the problem, before any capture.
#[test]
fn bad_filter_and_missing_interface_exit_2() {
    if !can_capture("bad_filter_and_missing_interface_exit_2") {
        // Without privileges the open itself is refused, clearly.
        let out = phoneleak()
            .args(["live", "-i", "lo"])
            .output()
            .expect("run");
        assert_eq!(out.status.code(), Some(2));
        assert!(String::from_utf8_lossy(&out.stderr).contains("no permission to capture"));
        return;
    }
    let out = phoneleak()
        .args(["live", "-i", "lo", "-f", "tcp port", "--duration", "1s"])
        .output()
        .expect("run");
    let err = String::from_utf8_lossy(&out.stderr);
    println!("{err}");
    assert_eq!(out.status.code(), Some(2));
    assert!(
        err.contains("phoneleak: bad capture filter \"tcp port\": ") && err.contains("syntax"),
        "{err}"
    );
    assert!(out.stdout.is_empty());

    let out = phoneleak()
        .args(["live", "-i", "phoneleak-nope0", "--duration", "1s"])
        .output()
        .expect("run");
    let err = String::from_utf8_lossy(&out.stderr);
    println!("{err}");
    assert_eq!(out.status.code(), Some(2));
    assert!(
        err.contains("phoneleak: no such interface: phoneleak-nope0"),
        "{err}"
    );
}

/// An interface that disappears during the capture ends it with exit 2, after
/// the summary (which names the error). Runs in a private network namespace
/// (`unshare --net`) with a veth pair of its own; skipped where that is not possible.
#[test]
fn interface_disappearing_exits_2_with_summary() {
    if !can_capture("interface_disappearing_exits_2_with_summary") {
        return;
    }
    let host_ns = std::fs::read_link("/proc/self/ns/net").expect("netns");
    let script = format!(
        r#"set -e
[ "$(readlink /proc/self/ns/net)" != "{host}" ] || exit 97
ip link add plk0 type veth peer name plk1 || exit 98
ip link set plk0 up; ip link set plk1 up
"$PHONELEAK" live -i plk0 --format jsonl 2>"$ERR" &
pid=$!
i=0; until grep -q 'capturing on plk0' "$ERR"; do i=$((i+1)); [ $i -lt 600 ] || exit 99; sleep 0.1; done
ip link del plk0
set +e
wait $pid
echo "exit=$?" >>"$ERR"
"#,
        host = host_ns.display()
    );
    let dir = scratch_dir("gone");
    let err_file = dir.join("stderr");
    let out = Command::new("unshare")
        .args(["--net", "sh", "-c", &script])
        .env("PHONELEAK", env!("CARGO_BIN_EXE_phoneleak"))
        .env("ERR", &err_file)
        .output();
    let out = match out {
        Ok(out) if out.status.code() == Some(0) => out,
        // 97: not in a new namespace, 98: no veth; or unshare itself failed.
        Ok(out)
            if matches!(out.status.code(), Some(97 | 98))
                || String::from_utf8_lossy(&out.stderr).starts_with("unshare:") =>
        {
            crate::common::skip_system(&format!(
                "SKIPPED interface_disappearing_exits_2_with_summary: cannot make a private \
                 network namespace with a veth pair (status {:?}: {})",
                out.status.code(),
                String::from_utf8_lossy(&out.stderr).trim()
            ));
            return;
        }
        Ok(out) => panic!(
            "status {:?}: {}\n{}",
            out.status.code(),
            String::from_utf8_lossy(&out.stderr),
            std::fs::read_to_string(&err_file).unwrap_or_default()
        ),
        Err(e) => {
            let why = e.to_string();
            crate::common::skip_system(&format!(
                "SKIPPED interface_disappearing_exits_2_with_summary: cannot make a private \
                 network namespace with a veth pair ({why})"
            ));
            return;
        }
    };
    let err = std::fs::read_to_string(&err_file).unwrap_or_default();
    println!("{err}");
    assert!(err.contains("exit=2"), "{err}");
    assert!(
        err.contains("phoneleak: error: capture on plk0 failed: "),
        "{err}"
    );
    let lines = json(&stdout_lines(&out));
    let summary = lines.last().expect("summary");
    assert_eq!(summary["type"], "summary");
    assert_eq!(summary["capture"]["interface"], "plk0");
    assert_eq!(summary["errors"][0]["file"], "plk0");
    assert_eq!(summary["errors"][0]["partial"], true);
    let _ = std::fs::remove_dir_all(&dir);
}

fn stdout_lines(out: &Output) -> Vec<String> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect()
}

/// A row of the text summary, e.g. `  packets    42`.
fn summary_row(text: &str, name: &str) -> u64 {
    text.lines()
        .find_map(|l| {
            let rest = l.strip_prefix("  ")?.strip_prefix(name)?;
            rest.trim().parse().ok()
        })
        .unwrap_or_else(|| panic!("no {name} row in {text}"))
}

/// A fresh directory anyone may write in (the `--user` run writes there).
fn scratch_dir(tag: &str) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let dir = std::env::temp_dir().join(format!("phoneleak-live-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o777)).expect("chmod");
    assert!(Path::new(&dir).is_dir());
    dir
}

/// Deletes the test's network namespace (and the veth pair with it) on drop.
struct Netns {
    name: String,
    host_side: String,
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["link", "del", &self.host_side])
            .status();
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .status();
    }
}

fn ip(args: &[&str]) {
    let status = Command::new("ip").args(args).status().expect("run ip");
    assert!(status.success(), "ip {args:?} failed");
}

/// An Ethernet/IPv4/TCP frame (IPv4 checksum computed; TCP checksum left 0:
/// packet sockets and phoneleak do not check it).
fn frame(
    src: ([u8; 4], u16),
    dst: ([u8; 4], u16),
    seq: u32,
    ack: u32,
    flags: u8,
    payload: &[u8],
) -> Vec<u8> {
    let mut f = vec![0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1, 0x08, 0x00];
    let total = u16::try_from(20 + 20 + payload.len()).unwrap();
    let mut ip = vec![0x45, 0];
    ip.extend_from_slice(&total.to_be_bytes());
    ip.extend_from_slice(&[0, 0, 0x40, 0, 64, 6, 0, 0]);
    ip.extend_from_slice(&src.0);
    ip.extend_from_slice(&dst.0);
    let mut sum: u32 = ip
        .chunks(2)
        .map(|c| u32::from(u16::from_be_bytes([c[0], c[1]])))
        .sum();
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    ip[10..12].copy_from_slice(&(!(sum as u16)).to_be_bytes());
    f.extend_from_slice(&ip);
    f.extend_from_slice(&src.1.to_be_bytes());
    f.extend_from_slice(&dst.1.to_be_bytes());
    f.extend_from_slice(&seq.to_be_bytes());
    f.extend_from_slice(&ack.to_be_bytes());
    f.extend_from_slice(&[0x50, flags, 0xff, 0xff, 0, 0, 0, 0]);
    f.extend_from_slice(payload);
    f
}

/// `flows` HTTP connections from different clients, each a handshake, one
/// request (every third one without a subscriber header), an ACK and FINs.
fn many_flows(flows: u16) -> Vec<Vec<u8>> {
    const SYN: u8 = 0x02;
    const ACK: u8 = 0x10;
    const PSH_ACK: u8 = 0x18;
    const FIN_ACK: u8 = 0x11;
    let mut packets = Vec::new();
    for i in 0..flows {
        let c = ([10, 1, (i / 200) as u8, (i % 200) as u8 + 1], 40_000 + i);
        let s = ([10, 2, 0, 1], 80);
        let req = if i % 3 == 2 {
            format!("GET /flow/{i} HTTP/1.1\r\nHost: h{i}.example\r\n\r\n")
        } else {
            format!(
                "GET /flow/{i} HTTP/1.1\r\nHost: h{i}.example\r\nX-MSISDN: 4477009{:05}\r\n\r\n",
                10_000 + u32::from(i)
            )
        };
        let req = req.as_bytes();
        let n = u32::try_from(req.len()).unwrap();
        packets.push(frame(c, s, 100, 0, SYN, b""));
        packets.push(frame(s, c, 500, 101, 0x12, b""));
        packets.push(frame(c, s, 101, 501, ACK, b""));
        packets.push(frame(c, s, 101, 501, PSH_ACK, req));
        packets.push(frame(s, c, 501, 101 + n, ACK, b""));
        packets.push(frame(c, s, 101 + n, 501, FIN_ACK, b""));
        packets.push(frame(s, c, 501, 102 + n, FIN_ACK, b""));
    }
    packets
}

/// A classic little-endian pcap file (Ethernet, microseconds) of `packets`.
fn write_pcap(path: &Path, packets: &[Vec<u8>]) {
    let mut out = Vec::new();
    out.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
    out.extend_from_slice(&[2, 0, 4, 0]);
    out.extend_from_slice(&[0; 8]);
    out.extend_from_slice(&65_535u32.to_le_bytes());
    out.extend_from_slice(&1u32.to_le_bytes());
    for (i, p) in packets.iter().enumerate() {
        let len = u32::try_from(p.len()).unwrap();
        out.extend_from_slice(&1_700_000_000u32.to_le_bytes());
        out.extend_from_slice(&(u32::try_from(i).unwrap() * 10).to_le_bytes());
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(p);
    }
    std::fs::write(path, out).expect("write pcap");
}

/// The identities of the request lines: src, dst, method, uri and leaks, sorted.
fn request_identities(lines: &[String]) -> Vec<String> {
    let mut ids: Vec<String> = json(lines)
        .into_iter()
        .filter(|v| v["type"] == "request")
        .map(|v| {
            serde_json::json!([v["src"], v["dst"], v["method"], v["uri"], v["leaks"]]).to_string()
        })
        .collect();
    ids.sort();
    ids
}

/// Two `live --fanout` processes on one veth end in a namespace of the test's
/// own: the union of their requests is one offline scan of the same packets,
/// and the kernel gave each of them some flows.
#[test]
fn fanout_sensors_together_equal_one_scan() {
    if !can_capture("fanout_sensors_together_equal_one_scan") {
        return;
    }
    if Command::new("ip").arg("-V").output().is_err() {
        crate::common::skip_system(
            "SKIPPED fanout_sensors_together_equal_one_scan: no `ip` (iproute2)",
        );
        return;
    }
    let id = std::process::id();
    let ns = Netns {
        name: format!("plfan{id}"),
        host_side: format!("plfa{id}"),
    };
    let inner = format!("plfb{id}");
    ip(&["netns", "add", &ns.name]);
    ip(&[
        "link",
        "add",
        &ns.host_side,
        "type",
        "veth",
        "peer",
        "name",
        &inner,
    ]);
    ip(&["link", "set", &inner, "netns", &ns.name]);
    ip(&["link", "set", &ns.host_side, "up"]);
    ip(&["-n", &ns.name, "link", "set", &inner, "up"]);

    let packets = many_flows(64);
    let dir = scratch_dir("fanout");
    let pcap_path = dir.join("flows.pcap");
    write_pcap(&pcap_path, &packets);

    let mut sensors: Vec<Live> = (0..2)
        .map(|_| {
            let mut cmd = Command::new("ip");
            cmd.args([
                "netns",
                "exec",
                &ns.name,
                env!("CARGO_BIN_EXE_phoneleak"),
                "live",
            ])
            .args([
                "-i",
                &inner,
                "--fanout",
                "4242",
                "--format",
                "jsonl",
                "--all-requests",
            ])
            .args(["--immediate", "-f", "tcp", "--threads", "1"]);
            Live::spawn(cmd)
        })
        .collect();
    for s in &mut sensors {
        s.wait_capturing(&inner);
    }
    let mut tx = pcap::Capture::from_device(ns.host_side.as_str())
        .unwrap()
        .open()
        .expect("open the host side for sending");
    for p in &packets {
        tx.sendpacket(p.as_slice()).expect("send");
    }
    thread::sleep(Duration::from_millis(1500));
    let mut union = Vec::new();
    let mut per_sensor = Vec::new();
    for s in sensors {
        s.signal(Signal::SIGINT);
        let (status, out, err) = s.finish();
        assert!(
            err.iter().any(|l| l.contains("fanout group 4242")),
            "{err:?}"
        );
        assert_eq!(status, Some(1), "leaks found; stderr {err:?}");
        let ids = request_identities(&out);
        per_sensor.push(ids.len());
        union.extend(ids);
    }
    union.sort();
    println!("requests per sensor: {per_sensor:?}");

    let offline = phoneleak()
        .args(["scan", "--format", "jsonl", "--all-requests"])
        .arg(&pcap_path)
        .output()
        .expect("scan");
    let expected = request_identities(&stdout_lines(&offline));
    assert_eq!(expected.len(), 64, "the scan finds every request");
    assert_eq!(
        union, expected,
        "the sensors together report what one scan does"
    );
    assert!(
        per_sensor.iter().all(|&n| n > 0),
        "each sensor got flows: {per_sensor:?}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// `--stats-interval` writes `stats` lines into the JSON-lines `-o` file, and
/// SIGHUP after a rename (logrotate) moves later lines to a new file: every
/// finding is in exactly one of the two files.
#[test]
fn sighup_reopens_the_output_and_stats_lines_appear() {
    if !can_capture("sighup_reopens_the_output_and_stats_lines_appear") {
        return;
    }
    let port = http_server();
    let dir = scratch_dir("sighup");
    let out = dir.join("leaks.jsonl");
    let rotated = dir.join("leaks.jsonl.1");
    let filter = format!("tcp port {port}");
    let out_arg = out.to_str().unwrap();
    let mut live = Live::start(&[
        "-i",
        "lo",
        "-f",
        &filter,
        "--immediate",
        "--format",
        "jsonl",
        "-o",
        out_arg,
        "--stats-interval",
        "1",
    ]);
    live.wait_capturing("lo");
    let leak = |uri: &str| {
        let mut c = connect(port);
        request(
            &mut c,
            &[&format!(
                "GET {uri} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-MSISDN: {MSISDN}\r\nConnection: close\r\n\r\n"
            )],
        );
    };
    let wait_for = |path: &Path, what: &str| {
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if std::fs::read_to_string(path).is_ok_and(|t| t.contains(what)) {
                return;
            }
            thread::sleep(Duration::from_millis(50));
        }
        panic!("{} never held {what:?}", path.display());
    };
    leak("/before");
    wait_for(&out, "/before");
    wait_for(&out, r#""type":"stats""#);
    std::fs::rename(&out, &rotated).unwrap();
    live.signal(Signal::SIGHUP);
    let deadline = Instant::now() + Duration::from_secs(30);
    while !out.exists() {
        assert!(Instant::now() < deadline, "no new file after SIGHUP");
        thread::sleep(Duration::from_millis(50));
    }
    leak("/after");
    wait_for(&out, "/after");
    thread::sleep(Duration::from_millis(500));
    // SIGTERM (as systemd stops a unit) also ends with the summary.
    live.signal(Signal::SIGTERM);
    let (status, _, err) = live.finish();
    assert_eq!(status, Some(1), "{err:?}");

    let read = |p: &Path| -> Vec<Value> {
        std::fs::read_to_string(p)
            .unwrap()
            .lines()
            .map(|l| {
                serde_json::from_str::<Value>(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}"))
            })
            .collect()
    };
    let uris = |v: &[Value]| -> Vec<String> {
        v.iter()
            .filter(|l| l["type"] == "request")
            .map(|l| l["uri"].as_str().unwrap().to_string())
            .collect()
    };
    let old = read(&rotated);
    let new = read(&out);
    assert_eq!(uris(&old), ["/before"]);
    assert_eq!(uris(&new), ["/after"]);
    assert!(!old.iter().any(|l| l["type"] == "summary"));
    let summary = new.last().unwrap();
    assert_eq!(summary["type"], "summary");
    assert_eq!(summary["leaking_requests"], 2, "{summary}");
    let stats: Vec<&Value> = old
        .iter()
        .chain(&new)
        .filter(|l| l["type"] == "stats")
        .collect();
    assert!(!stats.is_empty());
    for s in &stats {
        assert!(
            s["packets"].as_u64().is_some() && s["capture"]["interface"] == "lo",
            "{s}"
        );
        assert!(s["time"].as_str().unwrap().ends_with('Z'), "{s}");
        assert!(s["uptime_secs"].as_u64().is_some(), "{s}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Text `stats` lines go where the text summary goes (standard output, or
/// standard error with --quiet); a second sensor that cannot join the first
/// one's fanout group (another interface) exits 2 and says so.
#[test]
fn text_stats_lines_and_fanout_conflicts() {
    if !can_capture("text_stats_lines_and_fanout_conflicts") {
        return;
    }
    let group = (std::process::id() % 30_000 + 10_000).to_string();
    let mut first = Live::start(&[
        "-i",
        "lo",
        "-f",
        "tcp port 1",
        "--fanout",
        &group,
        "--stats-interval",
        "1",
    ]);
    first.wait_capturing("lo");
    let other = phoneleak()
        .args(["live", "-i", "any", "--fanout", &group, "--duration", "1"])
        .output()
        .expect("second sensor");
    let err = String::from_utf8_lossy(&other.stderr);
    assert_eq!(other.status.code(), Some(2), "{err}");
    assert!(
        err.contains(&format!("cannot join fanout group {group} on any")),
        "{err}"
    );
    thread::sleep(Duration::from_millis(1500));
    first.signal(Signal::SIGINT);
    let (status, out, _) = first.finish();
    assert_eq!(status, Some(0));
    let stats: Vec<&String> = out.iter().filter(|l| l.starts_with("stats ")).collect();
    assert!(!stats.is_empty(), "{out:?}");
    assert!(
        stats[0].contains(" packets ") && stats[0].contains(" dropped_kernel "),
        "{}",
        stats[0]
    );

    let quiet = phoneleak()
        .args([
            "live",
            "-i",
            "lo",
            "-f",
            "tcp port 1",
            "-q",
            "--stats-interval",
            "1",
            "--duration",
            "2",
        ])
        .output()
        .expect("quiet run");
    assert_eq!(quiet.status.code(), Some(0));
    assert!(!String::from_utf8_lossy(&quiet.stdout).contains("stats "));
    let err = String::from_utf8_lossy(&quiet.stderr);
    assert!(err.lines().any(|l| l.starts_with("stats ")), "{err}");
}

/// `live --keylog FILE` while curl appends its secrets to FILE (SSLKEYLOGFILE,
/// empty when the capture starts): nginx with TLS in a network namespace made
/// by the test, phoneleak capturing on its loopback. Both connections (TLS 1.3
/// and 1.2) are decrypted with the lines written after the capture began, and
/// their leaks are reported while the capture runs.
#[test]
fn live_follows_a_key_log_written_during_the_capture() {
    let Some(mut lab) = crate::netlab::Lab::new("live-keylog", &["nginx", "curl", "openssl"])
    else {
        return;
    };
    crate::real_tls::nginx_with_tls(&mut lab, false);
    let keys = lab.dir.join("keys.log");
    std::fs::write(&keys, b"").unwrap();
    let keys_s = keys.display().to_string();
    let mut cmd = lab.command(env!("CARGO_BIN_EXE_phoneleak"));
    cmd.args([
        "live",
        "-i",
        "lo",
        "--immediate",
        "--format",
        "jsonl",
        "--show-numbers",
        "--keylog",
        &keys_s,
    ]);
    let mut live = Live::spawn(cmd);
    live.wait_capturing("lo");
    for (i, version) in ["--tlsv1.3", "--tls-max"].iter().enumerate() {
        let mut curl = lab.command("curl");
        curl.env("SSLKEYLOGFILE", &keys)
            .args(["-sk", "--http1.1", "-o", "/dev/null"])
            .args(["--resolve", "leak.test:8443:127.0.0.1"])
            .arg(version);
        if *version == "--tls-max" {
            curl.arg("1.2");
        }
        curl.args(["-H", &format!("X-MSISDN: {MSISDN}")])
            .arg(format!("https://leak.test:8443/live/{i}"));
        assert!(curl.status().unwrap().success());
    }
    // Reported while capturing: the key lines came after the packets they open.
    live.wait_stdout_lines(2);
    live.signal(Signal::SIGINT);
    let (code, out, err) = live.finish();
    assert_eq!(code, Some(1), "{err:?}");
    let lines = json(&out);
    let requests: Vec<&Value> = lines.iter().filter(|v| v["type"] == "request").collect();
    assert_eq!(requests.len(), 2, "{out:?}");
    for (i, (r, version)) in requests.iter().zip(["TLS 1.3", "TLS 1.2"]).enumerate() {
        assert_eq!(r["uri"], format!("/live/{i}").as_str(), "{r}");
        assert_eq!(r["tls"]["version"], version, "{r}");
        assert_eq!(
            r["leaks"][0]["number"],
            format!("+{MSISDN}").as_str(),
            "{r}"
        );
    }
    let summary = lines.last().unwrap();
    assert_eq!(summary["tls"]["decrypted"], 2, "{summary}");
    assert_eq!(summary["keylog"]["keylog_lines"], 5 + 1, "{summary}");
}
