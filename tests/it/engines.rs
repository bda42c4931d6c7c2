//! The engine recipes of docs/scaling.md, run when their engines are
//! installed: contrib/dask (dask.distributed, a LocalCluster of 2 workers)
//! and contrib/spark (pyspark and Java, local[2]) must write exactly what one
//! scan of the fixtures writes. `.ci/run` installs Dask in a virtual
//! environment and runs contrib/dask/check.sh itself; here a Python is taken
//! from PHONELEAK_PYTHON, else `python3`.
use std::process::Command;

fn python() -> String {
    std::env::var("PHONELEAK_PYTHON").unwrap_or_else(|_| "python3".into())
}

fn has(module: &str) -> bool {
    Command::new(python())
        .args(["-c", &format!("import {module}")])
        .output()
        .is_ok_and(|o| o.status.success())
}

fn check(script: &str) {
    let out = Command::new("bash")
        .arg(script)
        .arg(env!("CARGO_BIN_EXE_phoneleak"))
        .arg(python())
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run the check");
    assert!(
        out.status.success(),
        "{script}:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    eprint!("{}", String::from_utf8_lossy(&out.stdout));
}

#[test]
fn dask_recipe_equals_one_scan() {
    if !has("dask.distributed") {
        eprintln!(
            "SKIPPED: no dask.distributed for {} (set PHONELEAK_PYTHON)",
            python()
        );
        return;
    }
    check("contrib/dask/check.sh");
}

#[test]
fn spark_recipe_equals_one_scan() {
    let java = Command::new("java")
        .arg("-version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !java || !has("pyspark") {
        eprintln!(
            "SKIPPED: the Spark recipe needs Java and pyspark for {} (java: {java})",
            python()
        );
        return;
    }
    check("contrib/spark/check.sh");
}
