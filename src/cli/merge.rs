//! `phoneleak merge`: the JSON-lines outputs of several runs (shards) → the
//! report one run over all their inputs would have written.
use std::io::{self, BufReader, IsTerminal, Read};
use std::path::PathBuf;

use clap::Args;

use phoneleak::report::merge::{MergeError, ShardInfo, Totals, read_parts, read_shard};
use phoneleak::report::{Baseline, BaselineInfo, Severity, Sink, Summary, Tally};

use super::{CliError, MinConfidence, OutputArgs, exit_status};

/// Help text of `merge`.
pub(crate) const MERGE_HELP: &str = "Examples:
  phoneleak scan --format jsonl -o a.jsonl a.pcap; phoneleak scan --format jsonl -o b.jsonl b.pcap
  phoneleak merge a.jsonl b.jsonl                  # the report of one scan of a.pcap and b.pcap
  cat shards/*.jsonl | phoneleak merge --format jsonl - > all.jsonl
  phoneleak merge --html report.html --baseline last-week.jsonl shards/*.jsonl

Each shard must end with its summary line (a run that was killed does not
pass silently). Request lines keep shard order; the aggregate tables are
recomputed from them; counters are summed. Without --subject-key in the scans,
numbers that mask alike count as one in the distinct counts (a warning says so).

Exit status: as scan: 0 no leak, 1 a leak (not in the baseline, at or above
--min-confidence; see --exit-code), 2 a shard or input error.";

#[derive(Args)]
pub(crate) struct MergeArgs {
    /// JSON-lines outputs of `phoneleak scan` or `live` (`-` for standard input).
    #[arg(required = true, value_name = "SHARD")]
    pub shards: Vec<PathBuf>,
    #[command(flatten)]
    pub output: OutputArgs,
    /// Findings below this confidence are dropped from the merged report.
    #[arg(long, value_enum, default_value = "low", value_name = "LEVEL")]
    pub min_confidence: MinConfidence,
    /// An earlier JSON-lines output: only findings not in it count for the exit status.
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
}

/// A shard's name for messages.
fn name(path: &std::path::Path) -> String {
    if path.as_os_str() == "-" {
        "standard input".to_string()
    } else {
        path.display().to_string()
    }
}

/// Reads a shard: standard input is held in memory (it is read twice).
fn open(
    path: &std::path::Path,
    stdin: &mut Option<Vec<u8>>,
) -> Result<Box<dyn io::BufRead>, MergeError> {
    if path.as_os_str() == "-" {
        if stdin.is_none() {
            let mut buf = Vec::new();
            io::stdin()
                .lock()
                .read_to_end(&mut buf)
                .map_err(|source| MergeError::Read {
                    shard: name(path),
                    source,
                })?;
            *stdin = Some(buf);
        }
        let bytes = stdin.clone().unwrap_or_default();
        return Ok(Box::new(io::Cursor::new(bytes)));
    }
    let file = std::fs::File::open(path).map_err(|source| MergeError::Read {
        shard: name(path),
        source,
    })?;
    Ok(Box::new(BufReader::with_capacity(1 << 16, file)))
}

/// The shards in the order they are replayed: each alone, except the parts
/// of a sharded scan (`scan --shard 1/N` .. `N/N`, given together and in
/// that order, one run each), which are interleaved. A part given without
/// the others would leave flows out: refused.
fn groups(infos: &[ShardInfo], paths: &[PathBuf]) -> Result<Vec<std::ops::Range<usize>>, CliError> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < infos.len() {
        let Some(first) = infos.get(i).and_then(|s| s.part) else {
            out.push(i..i + 1);
            i += 1;
            continue;
        };
        let n = first.count;
        let whole = first.index == 0
            && (0..n).all(|k| {
                infos.get(i + k).is_some_and(|s| {
                    s.runs == 1 && s.part.is_some_and(|p| p.index == k && p.count == n)
                })
            });
        if !whole {
            let shard = paths.get(i).map(|p| name(p)).unwrap_or_default();
            return Err(CliError::Usage(format!(
                "merge: {shard}: one part of a scan --shard I/N: give all N parts together, \
                 1/N to N/N in order, each the output of one run"
            )));
        }
        out.push(i..i + n);
        i += n;
    }
    Ok(out)
}

/// Runs `merge`; returns the exit status.
pub(crate) fn run(args: &MergeArgs) -> Result<u8, CliError> {
    if args.shards.iter().any(|p| p.as_os_str() == "-") && io::stdin().is_terminal() {
        return Err(CliError::Usage(
            "standard input is a terminal: pipe JSON lines in, e.g. cat *.jsonl | phoneleak merge -"
                .into(),
        ));
    }
    let baseline = match args.baseline.as_deref().map(Baseline::load) {
        Some(Ok(b)) => Some(b),
        Some(Err(e)) => return Err(CliError::Usage(format!("--baseline: {e}"))),
        None => None,
    };
    // First pass: every shard must be whole before anything is written.
    let mut stdin = None;
    let mut totals = Totals::default();
    let mut infos = Vec::new();
    for path in &args.shards {
        let checked = open(path, &mut stdin)
            .and_then(|input| read_shard(&name(path), input, None, &mut totals));
        match checked {
            Ok(info) => infos.push(info),
            Err(e) => return Err(CliError::Usage(format!("merge: {e}"))),
        }
    }
    let groups = groups(&infos, &args.shards)?;
    let level = args.min_confidence.level().max(totals.min_confidence);
    let names: Vec<String> = args.shards.iter().map(|p| name(p)).collect();
    let tally = Tally::new(false, baseline);
    // The HTML and text reports name files when the runs read more than one.
    let inputs = if totals.files > 1 {
        names.clone()
    } else {
        names.iter().take(1).cloned().collect()
    };
    // The shards are inputs: no output may overwrite one.
    let paths: Vec<PathBuf> = args
        .shards
        .iter()
        .filter(|p| p.as_os_str() != "-")
        .cloned()
        .collect();
    // Request lines name their file when the runs read several inputs
    // (captures, and inputs that could not be read at all).
    let skipped = totals.errors.iter().filter(|e| !e.partial).count() as u64;
    let multi_file = totals.files + skipped > 1;
    let (report, mut outputs) = args.output.sinks(inputs, &paths, tally, multi_file)?;
    let mut report = report
        .with_min_confidence(level)
        .with_subject_rows(totals.leaks_without_subject == 0 && totals.stats.leaks > 0);
    // Every shard is whole: the outputs may be emptied.
    outputs.commit()?;
    if totals.leaks_without_subject > 0 && !args.output.quiet {
        say!(
            "phoneleak: warning: the shards carry no subject pseudonyms (scan --subject-key): \
             numbers that mask alike count as one, so distinct counts are a lower bound"
        );
    }
    if totals.discover_lines > 0 && !args.output.quiet {
        say!(
            "phoneleak: note: the shards' --discover lines are left out: candidates cannot be \
             added up from masked values (run scan --discover over all the inputs at once)"
        );
    }
    let mut replayed = Totals::default();
    for group in groups {
        let paths = args.shards.get(group).unwrap_or_default();
        let merged = if let [path] = paths {
            open(path, &mut stdin)
                .and_then(|input| read_shard(&name(path), input, Some(&mut report), &mut replayed))
                .map(|_| ())
        } else {
            paths
                .iter()
                .map(|path| open(path, &mut stdin).map(|input| (name(path), input)))
                .collect::<Result<Vec<_>, _>>()
                .and_then(|parts| read_parts(parts, Some(&mut report), &mut replayed))
        };
        match merged {
            Ok(()) => {}
            Err(MergeError::Write(e)) => return Err(CliError::Write(e)),
            Err(e) => return Err(CliError::Usage(format!("merge: {e}"))),
        }
    }
    let (dropped_leaks, dropped_requests) = report.dropped();
    let mut stats = totals.stats.clone();
    stats.leaks = stats.leaks.saturating_sub(dropped_leaks);
    stats.leaking_requests = stats.leaking_requests.saturating_sub(dropped_requests);
    stats.leaks_below_min_confidence += dropped_leaks;
    let tally = report.tally();
    let new_leaks = tally.new_leaks;
    let baseline = tally.baseline().map(|b| BaselineInfo {
        file: b.file().to_string(),
        entries: b.len() as u64,
        leaks_in_baseline: tally.leaks_in_baseline,
    });
    let fatal = totals.errors.iter().any(|e| e.severity == Severity::Error);
    report.summary(&Summary {
        files: totals.files,
        capture: totals.capture.clone(),
        stats,
        min_confidence: level,
        new_leaks,
        baseline,
        errors: totals.errors,
        shard: None,
        skipped: Vec::new(),
    })?;
    Ok(exit_status(fatal, new_leaks, args.output.exit_code))
}
