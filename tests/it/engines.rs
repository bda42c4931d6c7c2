//! The engine recipes of docs/scaling.md: contrib/dask (dask.distributed, a
//! LocalCluster of 2 workers) and contrib/spark (pyspark and Java, local[2])
//! must write exactly what one scan of a folder of the fixtures writes. They
//! need engines `cargo test` cannot assume, so they are ignored (counted as
//! such, never as passed): `cargo test --test it -- --ignored engines::`
//! runs them, and fails when the engine is missing. `.ci/run` installs Dask
//! in a virtual environment and runs contrib/dask/check.sh itself; here a
//! Python is taken from PHONELEAK_PYTHON, else `python3`.
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
#[ignore = "needs dask.distributed (PHONELEAK_PYTHON); .ci/run runs contrib/dask/check.sh"]
fn dask_recipe_equals_one_scan() {
    assert!(
        has("dask.distributed"),
        "no dask.distributed for {} (set PHONELEAK_PYTHON)",
        python()
    );
    check("contrib/dask/check.sh");
}

#[test]
#[ignore = "needs Java and pyspark (PHONELEAK_PYTHON)"]
fn spark_recipe_equals_one_scan() {
    let java = Command::new("java")
        .arg("-version")
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        java && has("pyspark"),
        "the Spark recipe needs Java and pyspark for {} (java: {java})",
        python()
    );
    check("contrib/spark/check.sh");
}
