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
