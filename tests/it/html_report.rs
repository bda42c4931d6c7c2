//! The HTML report in a real browser: headless Chromium (Debian's `chromium`)
//! opens the report of fixtures/o2-2012.pcap, and the test checks the page's
//! DOM after the script ran (`--dump-dom`: the receivers table, the SVG
//! timeline, the highlighted leaking headers) and takes a screenshot.
//!
//! It needs Chromium, so it is `#[ignore]`d: a plain `cargo test` counts it as
//! ignored, never as passed. Run it with `cargo test --test it -- --ignored
//! html_report::` (`.ci/run` installs Chromium and does); without Chromium it
//! then fails. `PHONELEAK_SCREENSHOT=docs/report.png cargo test --test it --
//! --ignored html_report::` also saves the screenshot (as shown in the README).
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn chromium() -> Option<PathBuf> {
    let fixed = Path::new("/usr/bin/chromium");
    if fixed.exists() {
        return Some(fixed.to_path_buf());
    }
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join("chromium"))
            .find(|p| p.exists())
    })
}

/// Runs headless Chromium on `url` with `extra` flags, giving up after two minutes.
fn run_chromium(browser: &Path, profile: &Path, extra: &[&str], url: &str) -> Output {
    let mut child = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-quic",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(extra)
        .arg(url)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start chromium");
    // Read the pipes on threads so that a full pipe cannot stall the browser.
    let mut out_pipe = child.stdout.take().expect("stdout");
    let mut err_pipe = child.stderr.take().expect("stderr");
    let out_reader = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = std::io::Read::read_to_end(&mut out_pipe, &mut v);
        v
    });
    let err_reader = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = std::io::Read::read_to_end(&mut err_pipe, &mut v);
        v
    });
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for chromium") {
            break status;
        }
        if start.elapsed() > Duration::from_secs(120) {
            let _ = child.kill();
            panic!("chromium did not finish within two minutes");
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    Output {
        status,
        stdout: out_reader.join().unwrap_or_default(),
        stderr: err_reader.join().unwrap_or_default(),
    }
}

#[test]
#[ignore = "needs Chromium: cargo test --test it -- --ignored html_report::"]
fn the_report_renders_in_chromium() {
    let browser = chromium().expect("chromium is not installed: apt-get install chromium");
    let dir = tempfile::tempdir().expect("temporary folder");
    let report = dir.path().join("report.html");
    let out = Command::new(env!("CARGO_BIN_EXE_phoneleak"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["scan", "--quiet", "--html"])
        .arg(&report)
        .arg("fixtures/o2-2012.pcap")
        .output()
        .expect("run phoneleak");
    assert_eq!(out.status.code(), Some(1));
    let url = format!("file://{}", report.display());

    // The DOM after loading and running the page's script.
    let profile = dir.path().join("profile-dom");
    let dom = run_chromium(&browser, &profile, &["--dump-dom"], &url);
    let html = String::from_utf8_lossy(&dom.stdout);
    assert!(
        dom.status.success() && html.contains("</html>"),
        "chromium --dump-dom failed: {}",
        String::from_utf8_lossy(&dom.stderr)
    );
    assert!(
        html.contains("data-script=\"ran\""),
        "the inline script ran (the page's CSP allows it)"
    );
    let table = html
        .split("id=\"receivers-table\"")
        .nth(1)
        .and_then(|t| t.split("</table>").next())
        .expect("the receivers table");
    for host in [
        "www.example.com",
        "news.example.net",
        "m.example.org",
        "static.example.com",
        "shop.example.com",
    ] {
        assert!(table.contains(host), "{host} in the table");
    }
    assert_eq!(table.matches("<tr><td>").count(), 5, "one row per host");
    assert_eq!(table.matches("x-up-calling-line-id").count(), 5);
    assert!(table.contains("+44*******123"));
    let svg = html
        .split("<svg class=\"timeline\"")
        .nth(1)
        .and_then(|t| t.split("</svg>").next())
        .expect("the timeline chart");
    assert_eq!(svg.matches("<g class=\"row\"").count(), 5);
    assert!(svg.matches("<rect class=\"bar").count() >= 5);
    assert_eq!(html.matches("<details class=\"req\"").count(), 13);
    assert_eq!(html.matches("<tr class=\"leak\">").count(), 13);
    assert!(!html.contains("7700900123"), "numbers are masked");

    // A screenshot of the page as people will see it.
    let png = dir.path().join("report.png");
    let profile = dir.path().join("profile-shot");
    let shot = run_chromium(
        &browser,
        &profile,
        &[
            &format!("--screenshot={}", png.display()),
            "--window-size=1100,1500",
        ],
        &url,
    );
    let bytes = std::fs::read(&png).unwrap_or_else(|e| {
        panic!(
            "no screenshot ({e}): {}",
            String::from_utf8_lossy(&shot.stderr)
        )
    });
    assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n"), "a PNG");
    // A blank page compresses to a few kilobytes; the report has text, a table and a chart.
    assert!(bytes.len() > 40_000, "screenshot of {} bytes", bytes.len());
    if let Some(keep) = std::env::var_os("PHONELEAK_SCREENSHOT") {
        std::fs::copy(&png, &keep).expect("save the screenshot");
    }
}
