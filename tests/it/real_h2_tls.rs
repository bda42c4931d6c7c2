//! Real HTTP/2 inside TLS: curl (`--http2`, ALPN h2, keys from
//! `SSLKEYLOGFILE`) and nghttp2's client `nghttp` (keys from a small
//! `LD_PRELOAD` library that sets OpenSSL's key-log callback, as key
//! extraction tools do for programs without `SSLKEYLOGFILE`) against
//! Debian's nginx with HTTP/2, in a network namespace the test makes,
//! captured by tcpdump. Every request nginx logs must be found decrypted, as
//! HTTP/2 with its stream id, with the number its header or its body leaked.
//! Root, nginx, curl, nghttp, tcpdump, openssl and cc needed; skipped,
//! saying so, without.
use std::collections::BTreeMap;
use std::process::Stdio;

use serde_json::Value;

use crate::netlab::Lab;

/// Sets OpenSSL's key-log callback on every context a program makes an
/// `SSL` from, appending NSS key-log lines to `$SSLKEYLOGFILE`. Symbols are
/// looked up at run time, so no OpenSSL headers are needed.
const KEYLOG_SHIM: &str = r#"
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
typedef void (*keylog_cb)(const void *ssl, const char *line);
static void write_line(const void *ssl, const char *line) {
    (void)ssl;
    const char *path = getenv("SSLKEYLOGFILE");
    FILE *f = path ? fopen(path, "a") : NULL;
    if (f) { fprintf(f, "%s\n", line); fclose(f); }
}
void *SSL_new(void *ctx) {
    void *(*real)(void *) = (void *(*)(void *))dlsym(RTLD_NEXT, "SSL_new");
    void (*set)(void *, keylog_cb) =
        (void (*)(void *, keylog_cb))dlsym(RTLD_NEXT, "SSL_CTX_set_keylog_callback");
    if (set) set(ctx, write_line);
    return real ? real(ctx) : NULL;
}
"#;

/// Builds [`KEYLOG_SHIM`] in the lab's folder; its path.
fn keylog_shim(lab: &Lab) -> std::path::PathBuf {
    let shim_c = lab.dir.join("keylog.c");
    let shim = lab.dir.join("keylog.so");
    std::fs::write(&shim_c, KEYLOG_SHIM).unwrap();
    lab.run(
        &[
            "cc",
            "-shared",
            "-fPIC",
            "-o",
            &shim.display().to_string(),
            &shim_c.display().to_string(),
            "-ldl",
        ],
        false,
    );
    shim
}

/// A request a client sent: its target, the number it leaked and where
/// (`None`: a header, `Some(key)`: the body field with that key path).
struct Sent {
    target: String,
    number: String,
    body_key: Option<&'static str>,
}

#[test]
fn curl_and_nghttp_over_tls_h2_to_nginx_are_decrypted_with_bodies() {
    let tools = [
        "nginx", "curl", "nghttp", "tcpdump", "openssl", "cc", "kill",
    ];
    let Some(mut lab) = Lab::new("real-h2-tls", &tools) else {
        return;
    };
    crate::real_tls::nginx_with_tls(&mut lab, true);
    let dir = lab.dir.clone();
    let shim = keylog_shim(&lab);
    let capture = dir.join("h2tls.pcap");
    let tcpdump = lab.tcpdump(&capture);
    let keys = dir.join("keys.log");
    let mut sent = Vec::new();

    // curl: a GET with a header, a JSON POST and a form POST on one
    // connection (--next reuses it), each its own stream.
    let resolve = ["-sk", "--http2", "--resolve", "leak.test:8443:127.0.0.1"];
    let mut curl = lab.command("curl");
    curl.env("SSLKEYLOGFILE", &keys).args(resolve);
    curl.args(["-H", "X-MSISDN: 447700900301", "-o", "/dev/null"])
        .arg("https://leak.test:8443/curl/get");
    sent.push(Sent {
        target: "/curl/get".into(),
        number: "+447700900301".into(),
        body_key: None,
    });
    curl.arg("--next")
        .args(resolve)
        .args(["-H", "Content-Type: application/json"])
        .args(["--data", r#"{"user":{"phone":"+447700900302"}}"#])
        .args(["-o", "/dev/null", "https://leak.test:8443/curl/json"]);
    sent.push(Sent {
        target: "/curl/json".into(),
        number: "+447700900302".into(),
        body_key: Some("/user/phone"),
    });
    curl.arg("--next")
        .args(resolve)
        .args(["--data", "to=%2B447700900303&msg=hi"])
        .args(["-o", "/dev/null", "https://leak.test:8443/curl/form"]);
    sent.push(Sent {
        target: "/curl/form".into(),
        number: "+447700900303".into(),
        body_key: Some("to"),
    });
    let out = curl.stderr(Stdio::piped()).output().unwrap();
    assert!(
        out.status.success(),
        "curl: {}",
        String::from_utf8_lossy(&out.stderr)
    );

    // nghttp: two GETs with headers and a POST of a JSON file, each its own
    // connection (its own number per request; three streams multiplexed on
    // one connection are tested in cleartext, tests/it/h2_client.rs).
    let body = dir.join("body.json");
    std::fs::write(&body, r#"{"msisdn":447700900306,"app":"x"}"#).unwrap();
    for (path, number, data) in [
        ("/nghttp/a", "447700900304", None),
        ("/nghttp/b", "447700900305", None),
        ("/nghttp/post", "447700900306", Some(&body)),
    ] {
        let mut nghttp = lab.command("nghttp");
        nghttp
            .env("SSLKEYLOGFILE", &keys)
            .env("LD_PRELOAD", &shim)
            .arg("-n");
        if let Some(b) = data {
            nghttp
                .arg("-d")
                .arg(b)
                .args(["-H", "content-type: application/json"]);
        } else {
            nghttp.args(["-H", &format!("x-msisdn: {number}")]);
        }
        let out = nghttp
            .arg(format!("https://127.0.0.1:8443{path}"))
            .stderr(Stdio::piped())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "nghttp {path}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        sent.push(Sent {
            target: path.into(),
            number: format!("+{number}"),
            body_key: data.map(|_| "/msisdn"),
        });
    }
    tcpdump.stop();
    let keylog = std::fs::read_to_string(&keys).unwrap_or_default();
    assert!(
        keylog.contains("CLIENT_TRAFFIC_SECRET_0"),
        "no TLS 1.3 secrets logged"
    );

    // What nginx received, over HTTP/2.
    let log = std::fs::read_to_string(dir.join("access.log")).unwrap();
    let logged: BTreeMap<String, String> = log
        .lines()
        .filter(|l| !l.starts_with("/ready"))
        .map(|l| {
            let f: Vec<&str> = l.split('|').collect();
            (f[0].to_string(), f[4].to_string())
        })
        .collect();
    assert_eq!(logged.len(), sent.len(), "nginx logged {log}");
    assert!(logged.values().all(|p| p == "HTTP/2.0"), "{log}");

    let out = crate::common::phoneleak(&[
        "scan",
        "--format",
        "jsonl",
        "--all-requests",
        "--show-numbers",
        "--keylog",
        &keys.display().to_string(),
        &capture.display().to_string(),
    ]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    let found: BTreeMap<String, Value> = text
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|v| v["type"] == "request" && v["uri"] != "/ready")
        .map(|v| (v["uri"].as_str().unwrap().to_string(), v))
        .collect();
    assert_eq!(found.len(), sent.len(), "{text}");
    for s in &sent {
        let Some(v) = found.get(&s.target) else {
            panic!("{} not found; phoneleak found:\n{text}", s.target);
        };
        assert_eq!(v["version"], "HTTP/2", "{v}");
        assert!(v["stream_id"].is_u64(), "{v}");
        assert_eq!(v["tls"]["version"], "TLS 1.3", "{v}");
        let leak = v["leaks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["number"] == s.number.as_str());
        let Some(leak) = leak else {
            panic!("{}: no leak of {}: {v}", s.target, s.number);
        };
        match s.body_key {
            None => assert_eq!(leak["header"], "x-msisdn", "{v}"),
            Some(key) => {
                assert_eq!(leak["where"], "body", "{v}");
                assert_eq!(leak["key"], key, "{v}");
            }
        }
    }
    let summary: Value = serde_json::from_str(text.lines().last().unwrap()).unwrap();
    assert_eq!(
        summary["tls"]["connections"], summary["tls"]["decrypted"],
        "{summary}"
    );
    assert!(
        summary["h2"]["connections"].as_u64() >= Some(4),
        "{summary}"
    );
}

/// Server push inside TLS: nghttp2's server `nghttpd` (TLS, ALPN h2) pushes
/// two resources with `--push` to `nghttp` (keys from the `LD_PRELOAD`
/// key-log library), which allows push; a second `nghttp --no-push` fetch
/// disables it. phoneleak must report both promised requests marked pushed
/// (as nghttp says it received them), the number in the promised target as a
/// leak, the client's requests as before, and decrypt nothing of the second
/// connection's server past its SETTINGS.
#[test]
fn nghttp_against_nghttpd_push_over_tls() {
    let tools = ["nghttpd", "nghttp", "tcpdump", "openssl", "cc", "kill"];
    let Some(mut lab) = Lab::new("real-h2-push-tls", &tools) else {
        return;
    };
    let dir = lab.dir.clone();
    let d = dir.display().to_string();
    crate::real_tls::self_signed_cert(&lab);
    let shim = keylog_shim(&lab);
    let www = dir.join("www");
    std::fs::create_dir_all(&www).unwrap();
    std::fs::write(www.join("index.html"), "<html>hi</html>\n").unwrap();
    std::fs::write(www.join("style.css"), "p{}\n").unwrap();
    std::fs::write(www.join("big.bin"), vec![b'x'; 200_000]).unwrap();
    let mut nghttpd = lab.command("nghttpd");
    nghttpd.args([
        "-d",
        &www.display().to_string(),
        "--push=/index.html=/app.js?msisdn=447700900123,/style.css",
        "8443",
        &format!("{d}/key.pem"),
        &format!("{d}/cert.pem"),
    ]);
    lab.spawn(nghttpd);
    lab.wait_until(
        "nghttpd",
        &["nghttp", "-n", "https://127.0.0.1:8443/style.css"],
    );
    let capture = dir.join("push-tls.pcap");
    let tcpdump = lab.tcpdump(&capture);
    let keys = dir.join("keys.log");
    let out = lab
        .command("nghttp")
        .env("SSLKEYLOGFILE", &keys)
        .env("LD_PRELOAD", &shim)
        .args(["-nv", "-H", "x-msisdn: 447700900124"])
        .arg("https://127.0.0.1:8443/index.html")
        .output()
        .unwrap();
    assert!(out.status.success(), "nghttp failed");
    let verbose = String::from_utf8_lossy(&out.stdout).to_string();
    let promises = verbose.matches("recv PUSH_PROMISE frame").count();
    assert_eq!(promises, 2, "nghttp was promised:\n{verbose}");
    let out = lab
        .command("nghttp")
        .env("SSLKEYLOGFILE", &keys)
        .env("LD_PRELOAD", &shim)
        .args(["-n", "--no-push", "-H", "x-msisdn: 447700900125"])
        .arg("https://127.0.0.1:8443/big.bin")
        .output()
        .unwrap();
    assert!(out.status.success(), "nghttp --no-push failed");
    tcpdump.stop();

    let out = crate::common::phoneleak(&[
        "scan",
        "--format",
        "jsonl",
        "--all-requests",
        "--show-numbers",
        "--keylog",
        &keys.display().to_string(),
        &capture.display().to_string(),
    ]);
    let text = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let requests: Vec<(String, bool)> = lines
        .iter()
        .filter(|v| v["type"] == "request")
        .map(|v| (v["uri"].as_str().unwrap().to_string(), v["pushed"] == true))
        .collect();
    let mut want = vec![
        ("/app.js?msisdn=447700900123".to_string(), true),
        ("/big.bin".to_string(), false),
        ("/index.html".to_string(), false),
        ("/style.css".to_string(), true),
    ];
    let mut got = requests.clone();
    got.sort();
    want.sort();
    assert_eq!(got, want, "{text}");
    // Promised on the stream of the client's GET /index.html (nghttp
    // opens priority-anchor streams first, so not stream 1).
    let index = lines.iter().find(|v| v["uri"] == "/index.html").unwrap();
    for v in lines.iter().filter(|v| v["pushed"] == true) {
        assert_eq!(v["associated_stream_id"], index["stream_id"], "{v}");
        assert_eq!(v["tls"]["version"], "TLS 1.3", "{v}");
    }
    let js = lines
        .iter()
        .find(|v| v["uri"] == "/app.js?msisdn=447700900123")
        .unwrap();
    assert!(
        js["leaks"]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l["number"] == "+447700900123"),
        "{js}"
    );
    let summary = lines.last().unwrap();
    let n = |g: &str, k: &str| summary[g][k].as_u64().unwrap_or(0);
    assert_eq!(
        (
            n("tls", "connections"),
            n("tls", "decrypted"),
            n("h2", "pushed_requests"),
            n("h2", "server_reads_stopped"),
            n("tls", "server_stopped_no_key") + n("tls", "server_stopped_auth_failed"),
        ),
        (2, 2, 2, 1, 0),
        "{summary}"
    );
    // The 200 KB download of the --no-push connection is not decrypted.
    assert!(n("tls", "server_bytes_decrypted") < 60_000, "{summary}");
}
