//! The HTML report in a real browser: headless Chromium (Debian's `chromium`)
//! opens the report of fixtures/o2-2012.pcap, and the test checks the page's
//! DOM after the script ran (`--dump-dom`: the receivers table, the SVG
//! timeline, the highlighted leaking headers) and takes a screenshot; the
//! report of the fixtures folder is laid out 1,400 and 390 pixels wide (a
//! phone) and measured: nothing cut or off the screen, the heading counting
//! what the tiles count, files that are not captures marked as skipped.
//! `PHONELEAK_SCREENSHOTS=DIR` keeps those two screenshots.
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

/// What the measuring script reports about the page's layout.
const MEASURE: &str = r#"
(function(){
  var root=document.documentElement, box=document.querySelector('#receivers .scroll');
  var out=[];
  document.querySelectorAll('body *').forEach(function(e){
    if(e.closest('.scroll'))return;
    var r=e.getBoundingClientRect();
    if(r.width>0&&(r.right>innerWidth+1||r.left<-1))out.push(e.tagName+'.'+e.className+' '+Math.round(r.left)+'..'+Math.round(r.right));
  });
  var first=document.querySelector('#receivers-table td');
  var m={inner:innerWidth,page_scroll:root.scrollWidth,page_client:root.clientWidth,
    table_scroll:box.scrollWidth,table_client:box.clientWidth,
    body:Math.round(document.body.getBoundingClientRect().width),
    first_cell_right:Math.round(first.getBoundingClientRect().right),
    row_height:Math.round(first.parentNode.getBoundingClientRect().height),
    cells:Array.prototype.map.call(first.parentNode.cells,function(c){return Math.round(c.getBoundingClientRect().height)+"x"+Math.round(c.getBoundingClientRect().width)}),
    font:parseFloat(getComputedStyle(document.body).fontSize),out:out.slice(0,10)};
  parent.postMessage(JSON.stringify(m),'*');
})();
"#;

/// Lays the report out `width` pixels wide and returns what [`MEASURE`]
/// found: a copy of the report gets the script, with the page's own nonce
/// (its Content-Security-Policy stays as it is), and is shown in a frame of
/// that width (headless Chromium's window is at least 500 pixels wide)
/// whose page writes the message it gets into its DOM.
fn measure(browser: &Path, dir: &Path, report: &str, width: u32) -> serde_json::Value {
    let nonce = report
        .split("script-src 'nonce-")
        .nth(1)
        .and_then(|r| r.split('\'').next())
        .expect("the report's script nonce");
    let page = report.replace(
        "</body>",
        &format!("<script nonce=\"{nonce}\">{MEASURE}</script></body>"),
    );
    let path = dir.join(format!("measured-{width}.html"));
    std::fs::write(&path, page).expect("write the measured copy");
    let frame = dir.join(format!("frame-{width}.html"));
    std::fs::write(
        &frame,
        format!(
            "<!DOCTYPE html><html><body style=\"margin:0\">\
             <iframe src=\"measured-{width}.html\" style=\"width:{width}px;height:900px;border:0\"></iframe>\
             <script>addEventListener('message',function(e){{\
             document.documentElement.setAttribute('data-measure',e.data);}});</script></body></html>"
        ),
    )
    .expect("write the frame");
    let profile = dir.join(format!("profile-measure-{width}"));
    let size = format!("--window-size={},1000", width.max(500) + 40);
    let dom = run_chromium(
        browser,
        &profile,
        &["--dump-dom", "--virtual-time-budget=5000", &size],
        &format!("file://{}", frame.display()),
    );
    let html = String::from_utf8_lossy(&dom.stdout);
    let json = html
        .split("data-measure=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .unwrap_or_else(|| panic!("no measurement: {}", String::from_utf8_lossy(&dom.stderr)))
        .replace("&quot;", "\"")
        .replace("&amp;", "&");
    serde_json::from_str(&json).expect("the measurement as JSON")
}

/// A screenshot `width` x `height` of `url`, checked to be a PNG with content.
fn screenshot(browser: &Path, dir: &Path, url: &str, width: u32, height: u32) -> PathBuf {
    let png = dir.join(format!("report-{width}.png"));
    let profile = dir.join(format!("profile-shot-{width}"));
    let shot = run_chromium(
        browser,
        &profile,
        &[
            &format!("--screenshot={}", png.display()),
            &format!("--window-size={width},{height}"),
        ],
        url,
    );
    let bytes = std::fs::read(&png).unwrap_or_else(|e| {
        panic!(
            "no screenshot ({e}): {}",
            String::from_utf8_lossy(&shot.stderr)
        )
    });
    assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n"), "a PNG");
    assert!(bytes.len() > 30_000, "screenshot of {} bytes", bytes.len());
    png
}

#[test]
#[ignore = "needs Chromium: cargo test --test it -- --ignored html_report::"]
fn the_report_fits_a_wide_screen_and_a_phone() {
    let browser = chromium().expect("chromium is not installed: apt-get install chromium");
    let dir = tempfile::tempdir().expect("temporary folder");
    let report = dir.path().join("fixtures.html");
    // The fixtures folder: many hosts, kinds and places (a wide table), and
    // files that are not captures (a README, truth files, an empty capture).
    let out = Command::new(env!("CARGO_BIN_EXE_phoneleak"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["scan", "--format", "jsonl", "--html"])
        .arg(&report)
        .arg("fixtures")
        .output()
        .expect("run phoneleak");
    assert_eq!(out.status.code(), Some(1));
    let files = String::from_utf8_lossy(&out.stdout)
        .lines()
        .last()
        .and_then(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .and_then(|s| s["files"].as_u64())
        .expect("the summary's files");
    let html = std::fs::read_to_string(&report).expect("the report");
    // The heading counts what the "files" tile counts, and the README of the
    // folder is listed as skipped, not as an input read.
    assert!(
        html.contains(&format!("<h1>phoneleak report: {files} files</h1>")),
        "{}",
        html.split("<h1>")
            .nth(1)
            .and_then(|h| h.split("</h1>").next())
            .unwrap_or("")
    );
    assert!(html.contains(&format!(
        "<div class=\"v\">{files}</div><div class=\"k\">files</div>"
    )));
    assert!(
        html.contains(
            "<li class=\"skipped\"><code>fixtures/README.md</code> <span class=\"tag\">skipped: "
        ),
        "README.md marked as skipped"
    );
    assert!(html.contains(&format!("<summary>Inputs ({files} read, ")));

    // 1,400 px: the page uses the width, the table is not cut.
    let wide = measure(&browser, dir.path(), &html, 1400);
    assert!(
        wide["table_scroll"].as_u64() <= wide["table_client"].as_u64(),
        "the receivers table scrolls at 1,400 px: {wide}"
    );
    assert!(
        wide["body"].as_u64() > Some(1300),
        "margins left empty: {wide}"
    );
    assert!(wide["row_height"].as_u64() < Some(40), "{wide}");
    assert!(
        wide["page_scroll"].as_u64() <= wide["page_client"].as_u64(),
        "{wide}"
    );
    assert_eq!(wide["out"].as_array().map(Vec::len), Some(0), "{wide}");
    // 390 px, a phone: nothing sticks out of the screen but the table, which
    // scrolls in its own box with its first column (the host) in view, and
    // the text keeps its size.
    let phone = measure(&browser, dir.path(), &html, 390);
    assert!(
        phone["page_scroll"].as_u64() <= phone["page_client"].as_u64(),
        "{phone}"
    );
    assert_eq!(phone["out"].as_array().map(Vec::len), Some(0), "{phone}");
    assert!(phone["first_cell_right"].as_u64() < Some(390), "{phone}");
    // A row is one line: cells scroll, they are not broken letter by letter.
    assert!(phone["row_height"].as_u64() < Some(40), "{phone}");
    assert_eq!(phone["font"].as_f64(), Some(14.0), "{phone}");

    let url = format!("file://{}", report.display());
    let wide = screenshot(&browser, dir.path(), &url, 1400, 1000);
    let phone = screenshot(&browser, dir.path(), &url, 390, 844);
    if let Some(keep) = std::env::var_os("PHONELEAK_SCREENSHOTS") {
        let keep = PathBuf::from(keep);
        std::fs::copy(&wide, keep.join("report-1400.png")).expect("save");
        std::fs::copy(&phone, keep.join("report-390.png")).expect("save");
    }
}
