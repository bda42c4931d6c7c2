//! Helpers that several test modules share word for word.
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Runs the binary with `args` in the project's folder (fixture paths as
/// `fixtures/NAME` work) and waits for it.
pub fn phoneleak(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_phoneleak"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run phoneleak")
}

/// An empty folder `name` under cargo's temporary folder for integration tests
/// (made anew: whatever an earlier run left there is removed).
pub fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

/// Says on standard error that a test is skipped because the system lacks
/// what it needs (root, a tool such as tshark, a network namespace), naming
/// what is missing. With `PHONELEAK_REQUIRE_SYSTEM` set (`.ci/run` sets it
/// after installing everything), a skip is a failure instead: CI cannot pass
/// on tests that never ran.
pub fn skip_system(why: &str) {
    if std::env::var_os("PHONELEAK_REQUIRE_SYSTEM").is_some_and(|v| !v.is_empty() && v != "0") {
        panic!("{why}; PHONELEAK_REQUIRE_SYSTEM is set, so this test must run here");
    }
    use std::io::Write;
    // Straight to stderr, past the test harness's capture, so that it shows.
    let _ = writeln!(std::io::stderr(), "{why}");
}
