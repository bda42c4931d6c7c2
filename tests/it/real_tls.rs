//! Real TLS: curl (OpenSSL) with `SSLKEYLOGFILE` against Debian's nginx in a
//! network namespace made by the test, TLS 1.3 and 1.2 with several suites
//! (GCM, ChaCha20, CCM and CCM_8, CBC with Encrypt-then-MAC, RSA key exchange) and a TLS 1.2
//! session resumed on a second connection whose own key-log line is left
//! out, captured by tcpdump. phoneleak with the key log must find every request nginx logged,
//! decrypted, with the suite nginx negotiated and the number its header leaked.
//! Root, nginx, curl, tcpdump and openssl needed; skipped, saying so, without.
use std::collections::BTreeMap;
use std::process::Stdio;

use serde_json::Value;

use crate::netlab::Lab;

/// One curl run: its name, curl's TLS options, and how many requests it
/// makes on one connection.
struct Case {
    name: &'static str,
    options: &'static [&'static str],
    requests: usize,
}

const CASES: &[Case] = &[
    Case {
        name: "tls13-default",
        options: &["--tlsv1.3"],
        requests: 3,
    },
    Case {
        name: "tls13-aes128gcm",
        options: &["--tlsv1.3", "--tls13-ciphers", "TLS_AES_128_GCM_SHA256"],
        requests: 1,
    },
    Case {
        name: "tls13-chacha20",
        options: &[
            "--tlsv1.3",
            "--tls13-ciphers",
            "TLS_CHACHA20_POLY1305_SHA256",
        ],
        requests: 2,
    },
    Case {
        name: "tls12-aes128gcm",
        options: &[
            "--tls-max",
            "1.2",
            "--ciphers",
            "ECDHE-RSA-AES128-GCM-SHA256",
        ],
        requests: 2,
    },
    Case {
        name: "tls12-aes256gcm",
        options: &[
            "--tls-max",
            "1.2",
            "--ciphers",
            "ECDHE-RSA-AES256-GCM-SHA384",
        ],
        requests: 1,
    },
    Case {
        name: "tls12-chacha20",
        options: &[
            "--tls-max",
            "1.2",
            "--ciphers",
            "ECDHE-RSA-CHACHA20-POLY1305",
        ],
        requests: 1,
    },
    Case {
        name: "tls12-cbc-sha1",
        options: &["--tls-max", "1.2", "--ciphers", "ECDHE-RSA-AES128-SHA"],
        requests: 2,
    },
    Case {
        name: "tls12-cbc-sha384",
        options: &["--tls-max", "1.2", "--ciphers", "ECDHE-RSA-AES256-SHA384"],
        requests: 1,
    },
    Case {
        name: "tls12-rsa-cbc-sha256",
        options: &["--tls-max", "1.2", "--ciphers", "AES128-SHA256"],
        requests: 1,
    },
    Case {
        name: "tls13-ccm",
        options: &["--tlsv1.3", "--tls13-ciphers", "TLS_AES_128_CCM_SHA256"],
        requests: 2,
    },
    Case {
        name: "tls13-ccm8",
        options: &["--tlsv1.3", "--tls13-ciphers", "TLS_AES_128_CCM_8_SHA256"],
        requests: 1,
    },
    Case {
        name: "tls12-rsa-ccm",
        options: &["--tls-max", "1.2", "--ciphers", "AES128-CCM"],
        requests: 2,
    },
    Case {
        name: "tls12-rsa-ccm8",
        options: &["--tls-max", "1.2", "--ciphers", "AES256-CCM8"],
        requests: 1,
    },
];

/// OpenSSL's suite names (as nginx logs `$ssl_cipher`) to IANA's.
fn iana(openssl: &str) -> &str {
    match openssl {
        "ECDHE-RSA-AES128-GCM-SHA256" => "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
        "ECDHE-RSA-AES256-GCM-SHA384" => "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
        "ECDHE-RSA-CHACHA20-POLY1305" => "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
        "ECDHE-RSA-AES128-SHA" => "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA",
        "ECDHE-RSA-AES256-SHA384" => "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384",
        "AES128-SHA256" => "TLS_RSA_WITH_AES_128_CBC_SHA256",
        "AES128-CCM" => "TLS_RSA_WITH_AES_128_CCM",
        "AES256-CCM8" => "TLS_RSA_WITH_AES_256_CCM_8",
        other => other,
    }
}

const NGINX_CONF: &str = r#"
daemon off;
master_process off;
pid DIR/nginx.pid;
error_log DIR/error.log;
events { worker_connections 64; }
http {
    log_format leak '$request_uri|$http_x_msisdn|$ssl_protocol|$ssl_cipher|$server_protocol';
    access_log DIR/access.log leak;
    client_body_temp_path DIR/body;
    proxy_temp_path DIR/proxy;
    fastcgi_temp_path DIR/fastcgi;
    uwsgi_temp_path DIR/uwsgi;
    scgi_temp_path DIR/scgi;
    server {
        listen 127.0.0.1:8443 ssl HTTP2;
        ssl_certificate DIR/cert.pem;
        ssl_certificate_key DIR/key.pem;
        ssl_protocols TLSv1.2 TLSv1.3;
        ssl_ciphers ALL:@SECLEVEL=0;
        ssl_prefer_server_ciphers off;
        ssl_session_cache shared:TLS:1m;
        ssl_conf_command Ciphersuites TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_CCM_SHA256:TLS_AES_128_CCM_8_SHA256;
        location / { return 200 "ok\n"; }
    }
}
"#;

/// Makes `key.pem` and `cert.pem` (self-signed, for `leak.test`) in the
/// lab's folder.
pub fn self_signed_cert(lab: &Lab) {
    let d = lab.dir.display().to_string();
    lab.run(
        &[
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-subj",
            "/CN=leak.test",
            "-days",
            "2",
            "-keyout",
            &format!("{d}/key.pem"),
            "-out",
            &format!("{d}/cert.pem"),
        ],
        false,
    );
}

/// Starts nginx with TLS on 127.0.0.1:8443 in `lab` (a fresh self-signed
/// certificate for `leak.test`), logging each request's target, `X-MSISDN`
/// header, protocol, suite and HTTP version to `access.log` in the lab's
/// folder; returns once it answers. `http2`: HTTP/2 offered by ALPN.
pub fn nginx_with_tls(lab: &mut Lab, http2: bool) {
    let dir = lab.dir.clone();
    let d = dir.display().to_string();
    self_signed_cert(lab);
    let conf = NGINX_CONF
        .replace("DIR", &d)
        .replace(" HTTP2", if http2 { " http2" } else { "" });
    std::fs::write(dir.join("nginx.conf"), conf).unwrap();
    let mut nginx = lab.command("nginx");
    nginx.args(["-p", &d, "-c", &format!("{d}/nginx.conf")]);
    lab.spawn(nginx);
    lab.wait_until(
        "nginx",
        &[
            "curl",
            "-sk",
            "-o",
            "/dev/null",
            "https://127.0.0.1:8443/ready",
        ],
    );
}

#[test]
fn curl_through_tls_to_nginx_is_decrypted_with_its_key_log() {
    let Some(mut lab) = Lab::new("real-tls", &["nginx", "curl", "tcpdump", "openssl", "kill"])
    else {
        return;
    };
    nginx_with_tls(&mut lab, false);
    let dir = lab.dir.clone();
    let capture = dir.join("tls.pcap");
    let tcpdump = lab.tcpdump(&capture);
    let keys = dir.join("keys.log");
    let mut number = 447_700_900_100_u64;
    for case in CASES {
        let mut curl = lab.command("curl");
        curl.env("SSLKEYLOGFILE", &keys)
            .args(["-sk", "--http1.1", "--resolve", "leak.test:8443:127.0.0.1"])
            .args(case.options);
        for i in 0..case.requests {
            number += 1;
            // Each URL with its own header: curl's --next starts the next one
            // on the same connection.
            if i > 0 {
                curl.arg("--next")
                    .args(["-sk", "--http1.1", "--resolve", "leak.test:8443:127.0.0.1"])
                    .args(case.options);
            }
            curl.args(["-H", &format!("X-MSISDN: {number}")])
                .args(["-o", "/dev/null"])
                .arg(format!("https://leak.test:8443/{}/{i}", case.name));
        }
        let out = curl.stderr(Stdio::piped()).output().unwrap();
        assert!(
            out.status.success(),
            "curl {}: {}",
            case.name,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // TLS 1.2 resumption: the first request closes its connection and curl
    // resumes the session (nginx's ticket, OpenSSL's session ID) on a
    // second one. Its key log keeps only the first connection's line: the
    // resumed connection's master secret is found by trial.
    let resume_log = dir.join("keys-resume.log");
    let mut curl = lab.command("curl");
    curl.env("SSLKEYLOGFILE", &resume_log);
    for i in 0..2 {
        number += 1;
        if i > 0 {
            curl.arg("--next");
        }
        curl.args(["-sk", "--http1.1", "--resolve", "leak.test:8443:127.0.0.1"])
            .args([
                "--tls-max",
                "1.2",
                "--ciphers",
                "ECDHE-RSA-AES128-GCM-SHA256",
            ])
            .args(["-H", "Connection: close"])
            .args(["-H", &format!("X-MSISDN: {number}")])
            .args(["-o", "/dev/null"])
            .arg(format!("https://leak.test:8443/tls12-resumed/{i}"));
    }
    let out = curl.stderr(Stdio::piped()).output().unwrap();
    assert!(
        out.status.success(),
        "curl: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let resume_lines = std::fs::read_to_string(&resume_log).unwrap();
    let first: Vec<&str> = resume_lines
        .lines()
        .filter(|l| l.starts_with("CLIENT_RANDOM "))
        .collect();
    assert_eq!(first.len(), 2, "curl's key log: two connections");
    let first_only = dir.join("keys-first-only.log");
    std::fs::write(&first_only, format!("{}\n", first[0])).unwrap();
    tcpdump.stop();

    // What nginx received: target → (number, protocol, suite).
    let log = std::fs::read_to_string(dir.join("access.log")).unwrap();
    let logged: BTreeMap<String, (String, String, String)> = log
        .lines()
        .filter(|l| !l.starts_with("/ready"))
        .map(|l| {
            let f: Vec<&str> = l.split('|').collect();
            (
                f[0].to_string(),
                (f[1].to_string(), f[2].to_string(), f[3].to_string()),
            )
        })
        .collect();
    let want: usize = CASES.iter().map(|c| c.requests).sum::<usize>() + 2;
    assert_eq!(logged.len(), want, "nginx logged {log}");

    let out = crate::common::phoneleak(&[
        "scan",
        "--format",
        "jsonl",
        "--all-requests",
        "--show-numbers",
        "--keylog",
        &keys.display().to_string(),
        "--keylog",
        &first_only.display().to_string(),
        &capture.display().to_string(),
    ]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    let mut found = BTreeMap::new();
    for line in text.lines() {
        let v: Value = serde_json::from_str(line).unwrap();
        if v["type"] == "request" {
            found.insert(v["uri"].as_str().unwrap().to_string(), v);
        }
    }
    for (target, (number, protocol, suite)) in &logged {
        let Some(v) = found.get(target) else {
            panic!("{target} ({protocol} {suite}) not found; phoneleak found:\n{text}");
        };
        let version = protocol.replace("TLSv", "TLS ");
        assert_eq!(v["tls"]["version"], version.as_str(), "{target}: {v}");
        assert_eq!(v["tls"]["cipher_suite"], iana(suite), "{target}: {v}");
        assert_eq!(v["tls"]["sni"], "leak.test", "{target}: {v}");
        let leak = &v["leaks"][0];
        assert_eq!(leak["header"], "X-MSISDN", "{target}: {v}");
        assert_eq!(
            leak["number"],
            format!("+{number}").as_str(),
            "{target}: {v}"
        );
    }
    assert_eq!(found.len(), logged.len(), "{text}");
    // Every TLS connection was decrypted.
    let summary: Value = serde_json::from_str(text.lines().last().unwrap()).unwrap();
    let tls = &summary["tls"];
    assert_eq!(tls["connections"], CASES.len() + 2, "{tls}");
    assert_eq!(tls["decrypted"], CASES.len() + 2, "{tls}");
    assert_eq!(tls["resumptions_found"], 1, "{tls}");
}
