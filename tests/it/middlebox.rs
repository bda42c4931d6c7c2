//! A real header-enriching middlebox: Debian's Squid as a transparent proxy
//! (iptables REDIRECT to an `intercept` port) in a network namespace between
//! a clients' namespace (two addresses) and a server namespace running
//! nginx. Squid adds `X-MSISDN` for one client address,
//! `X-Up-Calling-Line-Id` for the other, and an opaque `X-Carrier-Tag` per
//! client; curl, wget (a whole site over keep-alive) and ab (concurrency)
//! make the requests; tcpdump records both sides of the proxy.
//! `phoneleak diff` must pair every request nginx logged, find exactly the
//! number header of each client as an identifier, Squid's own headers as
//! operational, and a request sent with its own `X-MSISDN` past the proxy
//! (a port not intercepted) unchanged; `scan --discover` must report the
//! tag on the server side. Squid caches one path (nginx serves it with
//! `Cache-Control: max-age=3600`): its second fetch is a cache hit, seen on
//! BEFORE only and reported unmatched as answered on the way, status 200.
//!
//! Needs root and squid, nginx, curl, wget, ab, tcpdump, iptables and ip
//! (`.ci/run` installs them); otherwise it says plainly that it was skipped.
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

const TOOLS: [&str; 8] = [
    "squid", "nginx", "curl", "wget", "ab", "tcpdump", "iptables", "ip",
];

fn found(tool: &str) -> bool {
    ["/usr/sbin", "/usr/bin", "/sbin", "/bin"]
        .iter()
        .any(|d| Path::new(d).join(tool).exists())
}

fn can_run() -> Result<(), String> {
    let uid = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(1).map(str::to_string))
        })
        .unwrap_or_default();
    if uid != "0" {
        return Err("not root (it creates network namespaces)".into());
    }
    let missing: Vec<&str> = TOOLS.iter().copied().filter(|t| !found(t)).collect();
    if !missing.is_empty() {
        return Err(format!("missing {}", missing.join(", ")));
    }
    Ok(())
}

fn sh(args: &[&str]) {
    let st = Command::new(args[0])
        .args(&args[1..])
        .status()
        .unwrap_or_else(|e| panic!("{args:?}: {e}"));
    assert!(st.success(), "{args:?}: {st}");
}

fn in_ns(ns: &str, args: &[&str]) -> Command {
    let mut c = Command::new("ip");
    c.args(["netns", "exec", ns]).args(args);
    c
}

/// The namespaces, daemons and files of one run; torn down on drop.
struct Lab {
    dir: PathBuf,
    clients: String,
    proxy: String,
    server: String,
    daemons: Vec<Child>,
}

impl Drop for Lab {
    fn drop(&mut self) {
        for child in self.daemons.iter_mut().rev() {
            let _ = Command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .status();
            let deadline = Instant::now() + Duration::from_secs(5);
            while Instant::now() < deadline {
                if matches!(child.try_wait(), Ok(Some(_))) {
                    break;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        for ns in [&self.clients, &self.proxy, &self.server] {
            // Whatever is left in our own namespaces (nginx workers, pinger).
            if let Ok(out) = Command::new("ip").args(["netns", "pids", ns]).output() {
                for pid in String::from_utf8_lossy(&out.stdout).split_whitespace() {
                    let _ = Command::new("kill").args(["-KILL", pid]).status();
                }
            }
            let _ = Command::new("ip").args(["netns", "del", ns]).status();
        }
        let _ = std::fs::remove_dir_all(Path::new("/etc/netns").join(&self.clients));
    }
}

const HOSTS: &str = "10.99.2.1 a.example b.example c.example d.example\n";
const TAG1: &str = "OTgxNTk2NDk2MjA1MTY0ODQ2MDA=";
const TAG2: &str = "NzQ0MTIzOTg3NjU0MzIxMDk4NzY=";

impl Lab {
    fn new() -> Lab {
        let tag = format!("plk{}", std::process::id());
        let dir = crate::common::scratch("middlebox");
        let lab = Lab {
            dir,
            clients: format!("{tag}c"),
            proxy: format!("{tag}p"),
            server: format!("{tag}s"),
            daemons: Vec::new(),
        };
        let (c, p, s) = (&lab.clients, &lab.proxy, &lab.server);
        for ns in [c, p, s] {
            sh(&["ip", "netns", "add", ns]);
            sh(&["ip", "-n", ns, "link", "set", "lo", "up"]);
        }
        sh(&[
            "ip", "link", "add", "c0", "netns", c, "type", "veth", "peer", "name", "p0", "netns", p,
        ]);
        sh(&[
            "ip", "link", "add", "s0", "netns", p, "type", "veth", "peer", "name", "s1", "netns", s,
        ]);
        for (ns, addr, dev) in [
            (c, "10.99.1.2/24", "c0"),
            (c, "10.99.1.3/24", "c0"),
            (p, "10.99.1.1/24", "p0"),
            (p, "10.99.2.2/24", "s0"),
            (s, "10.99.2.1/24", "s1"),
        ] {
            sh(&["ip", "-n", ns, "addr", "add", addr, "dev", dev]);
            sh(&["ip", "-n", ns, "link", "set", dev, "up"]);
        }
        sh(&["ip", "-n", c, "route", "add", "default", "via", "10.99.1.1"]);
        sh(&["ip", "-n", s, "route", "add", "default", "via", "10.99.2.2"]);
        sh(&[
            "ip",
            "netns",
            "exec",
            p,
            "sysctl",
            "-qw",
            "net.ipv4.ip_forward=1",
        ]);
        // Port 80 from the clients goes to Squid's intercept port; 8080 is routed past it.
        sh(&[
            "ip",
            "netns",
            "exec",
            p,
            "iptables",
            "-t",
            "nat",
            "-A",
            "PREROUTING",
            "-i",
            "p0",
            "-p",
            "tcp",
            "--dport",
            "80",
            "-j",
            "REDIRECT",
            "--to-ports",
            "3129",
        ]);
        // Names for the clients (`ip netns exec` mounts /etc/netns/NS/hosts).
        let etc = Path::new("/etc/netns").join(c);
        std::fs::create_dir_all(&etc).unwrap();
        std::fs::write(etc.join("hosts"), HOSTS).unwrap();
        lab
    }

    fn path(&self, name: &str) -> String {
        self.dir.join(name).to_string_lossy().to_string()
    }

    fn start(&mut self, mut cmd: Command) {
        let child = cmd
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start a daemon");
        self.daemons.push(child);
    }

    /// nginx serving a small site on ports 80 and 8080, logging each request.
    fn nginx(&mut self) {
        let d = self.dir.display().to_string();
        let site = self.dir.join("site");
        std::fs::create_dir_all(&site).unwrap();
        let page = |links: &str| format!("<html><body>{links}</body></html>\n");
        std::fs::write(
            site.join("index.html"),
            page(
                "<a href=\"page1.html\">1</a> <a href=\"page2.html\">2</a>\
                 <link rel=\"stylesheet\" href=\"style.css\"><img src=\"logo.png\">",
            ),
        )
        .unwrap();
        std::fs::write(
            site.join("page1.html"),
            page("<a href=\"page2.html\">2</a>"),
        )
        .unwrap();
        std::fs::write(site.join("page2.html"), page("two")).unwrap();
        std::fs::write(site.join("style.css"), "body{}\n").unwrap();
        std::fs::write(site.join("logo.png"), b"PNG").unwrap();
        std::fs::write(site.join("cached.txt"), "kept by the proxy\n").unwrap();
        let conf = format!(
            "worker_processes 1; pid {d}/nginx.pid; error_log {d}/nginx-error.log;\n\
             events {{}}\n\
             http {{\n\
               log_format plk '$remote_addr|$request|$http_host';\n\
               access_log {d}/access.log plk;\n\
               client_body_temp_path {d}; proxy_temp_path {d}; fastcgi_temp_path {d};\n\
               uwsgi_temp_path {d}; scgi_temp_path {d};\n\
               server {{ listen 80; listen 8080; server_name _; root {d}/site;\n\
                 location = /cached.txt {{ add_header Cache-Control \"max-age=3600\"; }} }}\n\
             }}\n"
        );
        std::fs::write(self.dir.join("nginx.conf"), conf).unwrap();
        // Workers run as nobody: the site must be readable.
        sh(&["chmod", "-R", "a+rX", &d]);
        let cmd = in_ns(
            &self.server.clone(),
            &[
                "nginx",
                "-c",
                &self.path("nginx.conf"),
                "-p",
                &d,
                "-g",
                "daemon off;",
            ],
        );
        self.start(cmd);
    }

    /// Squid, intercepting, enriching per client address.
    fn squid(&mut self) {
        let sq = self.dir.join("squid");
        std::fs::create_dir_all(&sq).unwrap();
        sh(&["chown", "proxy", &sq.to_string_lossy()]);
        std::fs::write(self.dir.join("hosts"), HOSTS).unwrap();
        let q = sq.display();
        let conf = format!(
            "http_port 3128\n\
             http_port 3129 intercept\n\
             acl c1 src 10.99.1.2\n\
             acl c2 src 10.99.1.3\n\
             request_header_add X-MSISDN \"447700900123\" c1\n\
             request_header_add X-Up-Calling-Line-Id \"447700900456\" c2\n\
             request_header_add X-Carrier-Tag \"{TAG1}\" c1\n\
             request_header_add X-Carrier-Tag \"{TAG2}\" c2\n\
             http_access allow all\n\
             acl cacheable urlpath_regex ^/cached\\.txt$\n\
             cache allow cacheable\n\
             cache deny all\n\
             hosts_file {}\n\
             dns_nameservers 127.0.0.1\n\
             pid_filename {q}/squid.pid\n\
             cache_log {q}/cache.log\n\
             access_log {q}/access.log\n\
             coredump_dir {q}\n\
             shutdown_lifetime 1 seconds\n",
            self.path("hosts")
        );
        std::fs::write(self.dir.join("squid.conf"), conf).unwrap();
        let cmd = in_ns(
            &self.proxy.clone(),
            &["squid", "-N", "-f", &self.path("squid.conf")],
        );
        self.start(cmd);
    }

    fn tcpdump(&mut self, dev: &str, file: &str) {
        let cmd = in_ns(
            &self.proxy.clone(),
            &[
                "tcpdump",
                "-i",
                dev,
                "-U",
                "-w",
                &self.path(file),
                "tcp port 80 or tcp port 8080",
            ],
        );
        self.start(cmd);
    }

    fn listening(&self, ns: &str, port: &str) -> bool {
        in_ns(ns, &["ss", "-ltn"])
            .output()
            .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains(&format!(":{port} ")))
    }

    fn wait_for(&self, what: &str, ready: impl Fn() -> bool) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while !ready() {
            assert!(Instant::now() < deadline, "{what} did not start");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn client(&self, args: &[&str]) {
        let out = in_ns(&self.clients, args).output().expect("run a client");
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Stops the captures (SIGINT, waiting for tcpdump to write its buffers).
    fn stop_captures(&mut self) {
        let mut keep = Vec::new();
        for mut child in self.daemons.drain(..) {
            let is_tcpdump = std::fs::read_to_string(format!("/proc/{}/comm", child.id()))
                .is_ok_and(|c| c.trim() == "tcpdump");
            if is_tcpdump {
                let _ = Command::new("kill")
                    .args(["-INT", &child.id().to_string()])
                    .status();
                let _ = child.wait();
            } else {
                keep.push(child);
            }
        }
        self.daemons = keep;
    }
}

fn phoneleak_in(dir: &Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_phoneleak"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run phoneleak")
}

fn names(list: &Value) -> Vec<(String, String)> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["name"].as_str().unwrap().to_ascii_lowercase(),
                c["class"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn squid_enrichment_is_found_and_nothing_else() {
    if let Err(why) = can_run() {
        crate::common::skip_system(&format!(
            "SKIPPED: tests/it/middlebox.rs (the Squid middlebox test): {why}"
        ));
        return;
    }
    let mut lab = Lab::new();
    lab.nginx();
    lab.squid();
    let (p, s) = (lab.proxy.clone(), lab.server.clone());
    lab.wait_for("nginx", || lab.listening(&s, "8080"));
    lab.wait_for("squid", || lab.listening(&p, "3129"));
    lab.tcpdump("p0", "before.pcap");
    lab.tcpdump("s0", "after.pcap");
    // tcpdump has no readiness signal on a pipe we do not read: give it time.
    std::thread::sleep(Duration::from_millis(1500));

    let wget_dir = lab.path("wget");
    lab.client(&[
        "wget",
        "-q",
        "-r",
        "-l",
        "2",
        "--bind-address=10.99.1.2",
        "-P",
        &wget_dir,
        "http://a.example/",
    ]);
    lab.client(&[
        "ab",
        "-q",
        "-n",
        "20",
        "-c",
        "4",
        "-B",
        "10.99.1.3",
        "http://c.example/page2.html",
    ]);
    for host in ["b", "c", "d"] {
        let url = format!("http://{host}.example/");
        lab.client(&[
            "curl",
            "-sS",
            "-o",
            "/dev/null",
            "--interface",
            "10.99.1.2",
            &url,
        ]);
        let url = format!("http://{host}.example/page1.html");
        lab.client(&[
            "curl",
            "-sS",
            "-o",
            "/dev/null",
            "--interface",
            "10.99.1.3",
            &url,
        ]);
    }
    // Fetched twice: the second is Squid's cache hit, never forwarded.
    for _ in 0..2 {
        lab.client(&[
            "curl",
            "-sS",
            "-o",
            "/dev/null",
            "--interface",
            "10.99.1.2",
            "http://d.example/cached.txt",
        ]);
    }
    // Past the proxy: the client's own X-MSISDN, on a port not intercepted.
    lab.client(&[
        "curl",
        "-sS",
        "-o",
        "/dev/null",
        "--interface",
        "10.99.1.2",
        "-H",
        "X-MSISDN: 447700900456",
        "http://a.example:8080/",
    ]);
    std::thread::sleep(Duration::from_millis(500));
    lab.stop_captures();

    let logged_lines = std::fs::read_to_string(lab.dir.join("access.log")).unwrap();
    let logged = logged_lines.lines().count();
    assert!(logged >= 30, "nginx logged {logged} requests");

    let out = phoneleak_in(
        &lab.dir,
        &["diff", "--format", "jsonl", "before.pcap", "after.pcap"],
    );
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let pairs: Vec<&Value> = lines.iter().filter(|l| l["type"] == "pair").collect();
    let unmatched: Vec<&Value> = lines.iter().filter(|l| l["type"] == "unmatched").collect();
    // Only the cache hit, answered by Squid on BEFORE.
    let cached = logged_lines
        .lines()
        .filter(|l| l.contains("/cached.txt"))
        .count();
    assert_eq!(cached, 1, "nginx served the cached path once");
    assert_eq!(unmatched.len(), 1, "{unmatched:?}");
    let hit = unmatched[0];
    assert_eq!(
        (
            &hit["side"],
            &hit["request_line"],
            &hit["reason"],
            &hit["status"]
        ),
        (
            &Value::from("before"),
            &Value::from("GET /cached.txt HTTP/1.1"),
            &Value::from("answered-on-the-way"),
            &Value::from(200)
        ),
        "{hit}"
    );
    assert_eq!(pairs.len(), logged, "every request nginx logged is paired");
    let mut operational = std::collections::BTreeSet::new();
    for pair in &pairs {
        let client = pair["before"]["src"].as_str().unwrap();
        let added = names(&pair["added"]);
        if pair["before"]["dst"].as_str().unwrap().ends_with(":8080") {
            assert!(added.is_empty(), "{pair}");
            assert!(pair["removed"].as_array().unwrap().is_empty(), "{pair}");
            assert!(pair["changed"].as_array().unwrap().is_empty(), "{pair}");
            continue;
        }
        let ids: Vec<&str> = added
            .iter()
            .filter(|(_, c)| c == "identifier")
            .map(|(n, _)| n.as_str())
            .collect();
        let want = if client.starts_with("10.99.1.2:") {
            "x-msisdn"
        } else {
            "x-up-calling-line-id"
        };
        // The number header, and the opaque per-client tag: a token under a
        // name no registry knows is a tracking ID (masked).
        assert_eq!(ids, [want, "x-carrier-tag"], "{pair}");
        let tag = pair["added"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["name"] == "X-Carrier-Tag")
            .unwrap();
        let shown = tag["after"].as_str().unwrap();
        assert!(
            shown.starts_with("****") && shown != TAG1 && shown != TAG2,
            "{tag}"
        );
        for (name, class) in &added {
            match class.as_str() {
                "identifier" => {}
                "operational" => {
                    operational.insert(name.clone());
                }
                _ => panic!("{name} classed {class}: {pair}"),
            }
        }
        for (name, class) in names(&pair["changed"]) {
            assert_ne!(class, "identifier", "{name}: {pair}");
        }
    }
    for name in ["via", "x-forwarded-for", "cache-control", "connection"] {
        assert!(operational.contains(name), "{name}: {operational:?}");
    }

    // The tags, on the server side alone.
    let out = phoneleak_in(
        &lab.dir,
        &["scan", "--discover", "--format", "jsonl", "after.pcap"],
    );
    let rows: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|v| v["type"] == "discover")
        .collect();
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0]["header"], "X-Carrier-Tag");
    assert_eq!(rows[0]["values"], 2);
}
