//! `phoneleak diff BEFORE AFTER`: each side's requests (captures through the
//! scan pipeline, or the JSON lines of an earlier `scan --all-requests`) read
//! on a thread of its own and streamed to `diff::diff`, which pairs them.
use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::JoinHandle;

use clap::Args;

use phoneleak::capture::{self, strip_os_error};
use phoneleak::detect::{Detector, KnownNumbers, Region};
use phoneleak::diff::output::{DiffFormat, DiffHtml, DiffJsonl, DiffSummary, DiffText, Totals};
use phoneleak::diff::{DiffInput, DiffOptions, DiffRequest, diff};
use phoneleak::pipeline::{self, Config, Reading};
use phoneleak::report::lines::json_lines;
use phoneleak::report::{InputError, Severity, Shown};

use super::inputs::expand_paths;
use super::{AnalysisArgs, CliError, Format, is_stdout};

/// Help text of `diff`.
pub(crate) const DIFF_HELP: &str = "Examples:
  phoneleak diff phone.pcap server.pcap             # what the network added on the way
  phoneleak diff --format jsonl -o diff.jsonl phone.pcap server.pcap.zst
  phoneleak scan --format jsonl --all-requests -o before.jsonl phone.pcap
  phoneleak diff before.jsonl server.pcap           # an earlier scan as one side
  phoneleak diff --max-skew 2 --offset -30 a.pcap b.pcap
  phoneleak diff --html diff.html phone.pcap server.pcap

BEFORE is captured in front of the middlebox (on the phone, a tethered laptop,
the client side of a proxy), AFTER behind it (the server, the proxy's internet
side). Each is a capture (file or folder, any input scan reads) or the JSON
lines of `scan --format jsonl --all-requests` (recognised by content).
Requests pair by method, target (absolute or origin form) and host, never by
address or port, within --max-skew seconds once the clock offset is
estimated from the requests found once on each side.

Exit status: 0 no identifier added on the way, 1 an identifier (phone number,
IMSI, IMEI, tracking ID) added or rewritten in at least one request, 2 a usage
or input error, or no request paired although both sides have some (a wrong
--offset or --max-skew, or not the same traffic).";

#[derive(Args)]
pub(crate) struct DiffArgs {
    /// Requests in front of the middlebox: a capture, a folder of captures, or
    /// the JSON lines of `scan --format jsonl --all-requests`.
    #[arg(value_name = "BEFORE")]
    pub before: PathBuf,
    /// Requests behind it, in the same forms.
    #[arg(value_name = "AFTER")]
    pub after: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
    /// Write the report to FILE (`-`: standard output).
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Print phone numbers and identifiers in clear (masked by default).
    #[arg(long)]
    pub show_numbers: bool,
    /// Also write a self-contained HTML report to FILE.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
    /// Most seconds between the two sides of a pair, once the clock offset is applied.
    #[arg(long, default_value_t = 5.0, value_name = "SECS")]
    pub max_skew: f64,
    /// AFTER's clock minus BEFORE's, in seconds (default: estimated from the
    /// requests found once on each side).
    #[arg(long, value_name = "SECS", allow_hyphen_values = true)]
    pub offset: Option<f64>,
    /// Most requests of each side waiting for a partner; older ones are then
    /// reported unmatched (`pending_cap`).
    #[arg(long, default_value_t = DiffOptions::default().max_pending, value_name = "N")]
    pub max_pending: usize,
    /// Region for national numbers (ISO 3166 code), for the classes.
    #[arg(long, value_name = "CC")]
    pub region: Option<String>,
    /// Analysis threads for each side's captures (default, and 0: half the
    /// cores each, at least one). The pairs are the same for any number.
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
    #[command(flatten)]
    pub analysis: AnalysisArgs,
}

/// Seconds given on the command line, in nanoseconds.
fn nanos(option: &str, secs: f64) -> Result<i64, CliError> {
    if !secs.is_finite() || secs.abs() > 1e9 {
        return Err(CliError::Usage(format!(
            "{option} {secs}: not a number of seconds"
        )));
    }
    Ok((secs * 1e9).round() as i64)
}

/// Runs `diff`; returns the exit status.
pub(crate) fn run(args: &DiffArgs) -> Result<u8, CliError> {
    if args.max_skew < 0.0 {
        return Err(CliError::Usage("--max-skew: must not be negative".into()));
    }
    let region = match &args.region {
        Some(code) => Some(
            Region::parse(code)
                .ok_or_else(|| CliError::Usage(format!("--region {code}: unknown region")))?,
        ),
        None => None,
    };
    let known = KnownNumbers::new(Vec::new()).map_err(|e| CliError::Usage(e.to_string()))?;
    let detector = Arc::new(Detector::with(region, known));
    let opts = DiffOptions {
        max_skew: nanos("--max-skew", args.max_skew)?,
        offset: args.offset.map(|o| nanos("--offset", o)).transpose()?,
        max_pending: args.max_pending.max(1),
        show_numbers: args.show_numbers,
        ..DiffOptions::default()
    };
    let (keys, _) = args.analysis.keys()?;
    let config = args
        .analysis
        .config(phoneleak::detect::Confidence::Low, keys);
    let out: Box<dyn Write> = match args.output.as_deref().filter(|p| !is_stdout(p)) {
        Some(path) => {
            for input in [&args.before, &args.after] {
                if super::same_file(path, input) {
                    return Err(CliError::Usage(format!(
                        "{} is an input and an output: writing the report would destroy it",
                        input.display()
                    )));
                }
            }
            Box::new(File::create(path).map_err(|e| CliError::Create(path.to_path_buf(), e))?)
        }
        None => Box::new(io::stdout().lock()),
    };
    let mut format: Box<dyn DiffFormat> = match args.format {
        Format::Text => Box::new(DiffText::new(BufWriter::new(out))),
        Format::Jsonl => Box::new(DiffJsonl::new(BufWriter::new(out))),
    };
    let mut html: Option<DiffHtml<BufWriter<File>>> = match &args.html {
        Some(path) => {
            for input in [&args.before, &args.after] {
                if super::same_file(path, input) {
                    return Err(CliError::Usage(format!(
                        "{} is an input and an output: writing the report would destroy it",
                        input.display()
                    )));
                }
            }
            let file = File::create(path).map_err(|e| CliError::Create(path.to_path_buf(), e))?;
            Some(DiffHtml::new(BufWriter::new(file)))
        }
        None => None,
    };
    // Both sides are read at once: each gets half the cores by default.
    let threads = super::thread_count(
        args.threads,
        (pipeline::default_threads() / 2).max(1),
        false,
    );
    // BEFORE's responses tell a request the middlebox answered from one it
    // dropped; AFTER's are not needed.
    let config_before = Config {
        read_responses: true,
        ..config.clone()
    };
    let before = Side::start(&args.before, &detector, &config_before, threads);
    let after = Side::start(&args.after, &detector, &config, threads);
    let mut totals = Totals::default();
    let mut write_error: Option<io::Error> = None;
    let outcome = diff(
        before.requests.iter(),
        after.requests.iter(),
        opts,
        &mut |e| {
            totals.add(&e);
            if write_error.is_none()
                && let Err(err) = format.event(&e)
            {
                write_error = Some(err);
            }
        },
    );
    let (names_b, mut errors, mut notes) = before.finish();
    let (names_a, errors_a, notes_a) = after.finish();
    errors.extend(errors_a);
    notes.extend(notes_a);
    if let Some(e) = write_error {
        return Err(CliError::Write(e));
    }
    let failed = errors.iter().any(|e| e.severity == Severity::Error);
    for e in &errors {
        say!(
            "phoneleak: {}: {}: {}",
            e.severity.as_str(),
            e.file,
            e.error
        );
    }
    for note in &notes {
        say!("phoneleak: warning: {note}");
    }
    // A gate that compared nothing must not pass.
    let st = &outcome.stats;
    let unpaired = st.pairs == 0 && st.requests_before > 0 && st.requests_after > 0;
    if unpaired {
        let offset = match (outcome.offset_estimated, opts.offset) {
            (true, _) => "estimated",
            (false, Some(_)) => "given with --offset",
            (false, None) => "0 for want of requests found once on each side",
        };
        say!(
            "phoneleak: error: no request paired: none of the {} BEFORE and {} AFTER requests \
             found a partner within --max-skew {} s at a clock offset of {:+.3} s ({offset}): \
             not the same traffic, or a wrong --offset or --max-skew",
            st.requests_before,
            st.requests_after,
            opts.max_skew as f64 / 1e9,
            outcome.offset as f64 / 1e9
        );
    } else {
        for (side, n) in [("BEFORE", st.requests_before), ("AFTER", st.requests_after)] {
            if n == 0 && !failed {
                say!("phoneleak: warning: {side} holds no request: nothing was compared");
            }
        }
    }
    let summary = DiffSummary::new(names_b, names_a, &outcome, opts.max_skew, &totals, errors);
    format.finish(&totals, &summary)?;
    if let Some(h) = html.as_mut() {
        h.finish(&totals, &summary)?;
    }
    Ok(if failed || unpaired {
        2
    } else if summary.identifier_added {
        1
    } else {
        0
    })
}

/// What reading a side gave: its input names, their problems, and warnings
/// (for standard error).
type SideRead = (Vec<String>, Vec<InputError>, Vec<String>);

/// One side read on its own thread.
struct Side {
    requests: Receiver<DiffInput>,
    worker: JoinHandle<SideRead>,
}

/// Requests in flight from a side's reader to the pairing.
const CHANNEL: usize = 1024;

impl Side {
    fn start(path: &Path, detector: &Arc<Detector>, config: &Config, threads: usize) -> Side {
        let (tx, rx) = sync_channel(CHANNEL);
        let path = path.to_path_buf();
        let detector = Arc::clone(detector);
        let config = config.clone();
        let worker = std::thread::spawn(move || read_side(&path, &detector, config, threads, &tx));
        Side {
            requests: rx,
            worker,
        }
    }

    /// The inputs read, their problems and the warnings about them, once
    /// the side is read.
    fn finish(self) -> (Vec<String>, Vec<InputError>, Vec<String>) {
        drop(self.requests);
        self.worker.join().unwrap_or_else(|_| {
            (
                Vec::new(),
                vec![error("(reader)", None, "the reader thread failed".into())],
                Vec::new(),
            )
        })
    }
}

fn error(file: &str, offset: Option<u64>, error: String) -> InputError {
    InputError {
        file: file.to_string(),
        offset,
        error,
        partial: false,
        severity: Severity::Error,
        went_on: false,
    }
}

/// Whether the file starts (after white space) with `{`: JSON lines.
fn is_json_lines(path: &Path) -> bool {
    let Ok(mut f) = File::open(path) else {
        return false;
    };
    let mut buf = [0u8; 64];
    let n = f.read(&mut buf).unwrap_or(0);
    buf.get(..n)
        .unwrap_or_default()
        .iter()
        .find(|b| !b.is_ascii_whitespace())
        .is_some_and(|&b| b == b'{')
}

/// Reads one side into `tx`; returns its input names, problems and warnings.
fn read_side(
    path: &Path,
    detector: &Arc<Detector>,
    config: Config,
    threads: usize,
    tx: &SyncSender<DiffInput>,
) -> SideRead {
    let name = path.display().to_string();
    if path.is_file() && is_json_lines(path) {
        let (errors, notes) = read_json_lines(path, &name, detector, tx);
        return (vec![name], errors, notes);
    }
    let inputs = expand_paths(&[path.to_path_buf()]);
    let mut errors = inputs.errors;
    let mut names = Vec::new();
    let never = AtomicBool::new(false);
    for source in &inputs.sources {
        let input = &source.input;
        let file = input.name();
        let reading = capture::Opened::open(input, None).and_then(|opened| {
            let config = config.for_input(&opened);
            Reading::new(opened, threads, false).map(|r| (r, config))
        });
        let (reading, input_config) = match reading {
            Ok(r) => r,
            Err(e) if !source.named => {
                let _ = e;
                continue;
            }
            Err(e) => {
                errors.push(error(
                    &file,
                    Some(e.offset),
                    strip_os_error(&e.kind.to_string()),
                ));
                continue;
            }
        };
        names.push(file.clone());
        let mut stopped = false;
        let outcome = pipeline::analyze_input(
            reading,
            threads,
            input_config,
            detector,
            &never,
            None,
            &mut |f| {
                if !stopped && tx.send(DiffInput::from_record(f, Some(&file))).is_err() {
                    stopped = true;
                }
            },
            &mut |_| {},
        );
        if let Some(e) = outcome.error {
            let cut = e.kind.is_cut_short() && outcome.stats.packets > 0;
            let mut err = error(&file, Some(e.offset), strip_os_error(&e.kind.to_string()));
            err.partial = outcome.stats.packets > 0;
            if cut {
                err.severity = Severity::Warning;
            }
            errors.push(err);
        }
    }
    if names.is_empty() && errors.is_empty() {
        errors.push(error(&name, None, "no capture in it".into()));
    }
    (names, errors, Vec::new())
}

/// The `request` lines of an earlier run's JSON lines; its problems, and a
/// warning when its summary counts more requests than it has lines for (a
/// scan without `--all-requests` writes only the leaking ones).
fn read_json_lines(
    path: &Path,
    name: &str,
    detector: &Detector,
    tx: &SyncSender<DiffInput>,
) -> (Vec<InputError>, Vec<String>) {
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) => {
            let e = error(name, None, capture::human_io(&e).to_string());
            return (vec![e], Vec::new());
        }
    };
    let mut errors = Vec::new();
    let mut notes = Vec::new();
    let mut lines_read = 0u64;
    // Whether the run wrote its values masked: its leaks show it (a masked
    // number has `*` in it); until one does, masked, `scan`'s default.
    let mut masked: Option<bool> = None;
    for (i, line) in json_lines(BufReader::new(file)).enumerate() {
        let line = match line {
            Ok(l) => l,
            Err(e) => {
                errors.push(error(name, None, capture::human_io(&e).to_string()));
                break;
            }
        };
        if line.trim().is_empty() {
            continue;
        }
        let value: serde_json::Value = match serde_json::from_str(&line) {
            Ok(v) => v,
            Err(e) => {
                errors.push(error(name, None, format!("line {}: not JSON ({e})", i + 1)));
                break;
            }
        };
        let kind = value.get("type").and_then(|t| t.as_str());
        if kind == Some("summary") {
            let seen = value
                .pointer("/http/requests")
                .and_then(serde_json::Value::as_u64)
                .unwrap_or(0);
            if seen > lines_read {
                notes.push(format!(
                    "{name}: {lines_read} request lines of the {seen} requests its scan read: \
                     written without --all-requests? Only those can pair"
                ));
            }
        }
        if kind != Some("request") {
            continue;
        }
        lines_read += 1;
        let request = serde_json::from_value::<Shown>(value).ok().and_then(|s| {
            masked = masked.or_else(|| written_masked(&s));
            DiffRequest::from_shown(s, detector, masked.unwrap_or(true))
        });
        match request {
            Some(r) => {
                if tx.send(DiffInput::Request(r)).is_err() {
                    break;
                }
            }
            None => {
                errors.push(error(
                    name,
                    None,
                    format!("line {}: not a phoneleak request line", i + 1),
                ));
                break;
            }
        }
    }
    (errors, notes)
}

/// Whether a request line's leaks show its values masked (`Some(true)`) or
/// in clear; `None` when it has no leak to tell by.
fn written_masked(s: &Shown) -> Option<bool> {
    let numbers = s.leaks.iter().filter_map(|l| l.number.as_deref());
    let found = s.leaks.iter().map(|l| l.found.as_str());
    numbers
        .chain(found)
        .find(|v| v.chars().count() > 3)
        .map(|v| v.contains('*'))
}
