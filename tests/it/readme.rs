//! The README's sample sessions are what the program prints: every ```text
//! block that starts with `$ phoneleak ...` (not the `sudo` ones, which need a
//! network interface) is run in the project folder and its lines compared
//! with standard output. A line `...` stands for any number of lines; other
//! lines next to each other in the block must be next to each other in the
//! output. `$ echo $?` followed by a number checks the exit status.
use crate::common::phoneleak;

/// One sample session: the command's arguments, the lines shown, the status.
struct Session {
    args: Vec<String>,
    shown: Vec<String>,
    status: Option<i32>,
}

fn sessions(readme: &str) -> Vec<Session> {
    let mut found = Vec::new();
    let mut lines = readme.lines();
    while let Some(line) = lines.next() {
        if line != "```text" {
            continue;
        }
        let block: Vec<&str> = lines.by_ref().take_while(|l| *l != "```").collect();
        let Some(command) = block.first().and_then(|l| l.strip_prefix("$ phoneleak ")) else {
            continue;
        };
        let mut shown = Vec::new();
        let mut status = None;
        let mut rest = block[1..].iter();
        while let Some(l) = rest.next() {
            if *l == "$ echo $?" {
                status = rest
                    .next()
                    .map(|s| s.parse().expect("a status after echo $?"));
            } else {
                shown.push(l.to_string());
            }
        }
        found.push(Session {
            args: command.split_whitespace().map(str::to_string).collect(),
            shown,
            status,
        });
    }
    found
}

/// Whether `shown` (with `...` elisions) appears in `output`, runs of lines in order.
fn appears(shown: &[String], output: &[&str]) -> Result<(), String> {
    let mut at = 0;
    let runs = shown.split(|l| l.trim() == "...");
    for (i, run) in runs.enumerate() {
        if run.is_empty() {
            continue;
        }
        let anchored = i == 0;
        let place = (at..=output.len().saturating_sub(run.len()))
            .find(|&start| {
                output
                    .get(start..start + run.len())
                    .is_some_and(|w| w.iter().zip(run).all(|(o, s)| o.trim_end() == s.trim_end()))
            })
            .filter(|&start| !anchored || start == 0);
        match place {
            Some(start) => at = start + run.len(),
            None => {
                return Err(format!(
                    "not in the output, in this order:\n{}",
                    run.join("\n")
                ));
            }
        }
    }
    Ok(())
}

#[test]
fn the_sample_sessions_are_what_the_program_prints() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
        .expect("README.md");
    let sessions = sessions(&readme);
    assert!(sessions.len() >= 2, "the README shows sample sessions");
    for s in sessions {
        let args: Vec<&str> = s.args.iter().map(String::as_str).collect();
        let out = phoneleak(&args);
        let stdout = String::from_utf8_lossy(&out.stdout);
        let lines: Vec<&str> = stdout.lines().collect();
        if let Err(e) = appears(&s.shown, &lines) {
            panic!(
                "README: phoneleak {}: {e}\n--- output:\n{stdout}",
                args.join(" ")
            );
        }
        if let Some(status) = s.status {
            assert_eq!(
                out.status.code(),
                Some(status),
                "phoneleak {}",
                args.join(" ")
            );
        }
    }
}

#[test]
fn elisions_match_any_lines_and_runs_stay_together() {
    let shown = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let out = ["a", "b", "c", "d"];
    assert!(appears(&shown(&["a", "b", "...", "d"]), &out).is_ok());
    assert!(appears(&shown(&["a", "...", "c", "d"]), &out).is_ok());
    assert!(appears(&shown(&["a", "c"]), &out).is_err(), "b is left out");
    assert!(
        appears(&shown(&["b"]), &out).is_err(),
        "the block starts with a"
    );
    assert!(appears(&shown(&["...", "c", "b"]), &out).is_err());
}
