//! `phoneleak scan`: captures (files, folders, standard input) → pipeline → report.
use std::io::{self, IsTerminal};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use phoneleak::capture::{
    self, CaptureErrorKind, Input, MAX_INTERFACES, PacketFilter, ReaderCounters, strip_os_error,
};
use phoneleak::detect::discover::{DiscoverOptions, Discovery};
use phoneleak::pipeline::{self, Reading, Record, Stats};
use phoneleak::report::{
    BaselineInfo, InputError, Severity, Sink, Summary, Tally, printable_owned,
};

use super::inputs::{Inputs, expand_paths};
use super::{CliError, ScanArgs, detection, exit_status, thread_count};

/// Runs `scan`; returns the exit status.
pub(crate) fn run(args: &ScanArgs) -> Result<u8, CliError> {
    let (detector, baseline) = detection(&args.detection)?;
    let min_confidence = args.detection.min_confidence.level();
    let quiet = args.output.quiet;
    let threads = thread_count(args.threads, pipeline::default_threads(), quiet);
    let mut filter = match &args.filter {
        Some(expression) => Some(PacketFilter::new(expression).map_err(CliError::Usage)?),
        None => None,
    };
    // Before anything is opened: the first signal also ends an open that
    // waits for a FIFO's writer.
    let interrupted = on_interrupt();
    let Inputs {
        sources,
        mut errors,
        mut skipped,
        repeated,
    } = expand_paths(&args.paths);
    for (name, first) in repeated.iter().filter(|_| !quiet) {
        say!("phoneleak: warning: {name} is {first} again: read once");
    }
    if sources.iter().any(|s| s.input == Input::Stdin) && io::stdin().is_terminal() {
        return Err(CliError::Usage(
            "standard input is a terminal, not a capture: pipe one in, \
             e.g. tcpdump -i eth0 -w - | phoneleak scan -"
                .into(),
        ));
    }
    // A JSON-lines run always ends with its summary line, whatever it read,
    // so that every map step of a folder leaves a part `merge` can read.
    let jsonl = matches!(args.output.format, super::Format::Jsonl);
    if sources.is_empty() && skipped.is_empty() && !jsonl {
        // Nothing to read: the errors alone, no zero summary, no output touched.
        print_errors(&errors, quiet, &[]);
        return Err(CliError::Reported);
    }
    let tally = Tally::new(args.output.show_numbers, baseline);
    let names: Vec<String> = sources.iter().map(|s| s.input.name()).collect();
    let multi_file = names.len() > 1;
    let (mut sink, mut outputs) = args.output.sinks(names, &args.paths, tally, multi_file)?;
    let detector = Arc::new(detector);
    let (keys, keylog_stats) = args.analysis.keys()?;
    let mut config = args.analysis.config(min_confidence, keys);
    config.shard = args.shard.unwrap_or_default();
    let mut stats = Stats::default();
    let reads_stdin = sources.iter().any(|s| s.input == Input::Stdin);
    let total: u64 = sources.iter().filter_map(|s| s.input.size()).sum();
    let progress = progress_bar(total, quiet || reads_stdin);
    let many = sources.len() > 1;
    let mut done_bytes = 0u64;
    let write_error: std::cell::Cell<Option<io::Error>> = std::cell::Cell::new(None);
    let mut fatal = !errors.is_empty();
    // Inputs read as captures (the summary's `files`), and inputs tried.
    let mut captures = 0u64;
    let mut tried = 0usize;
    // Where each input's error offsets count from, for the messages.
    let mut decompressed: Vec<String> = Vec::new();
    // `--discover`: fed every request in output order (the same for any --threads).
    let mut discovery = args.discover.discover.then(|| {
        Discovery::new(DiscoverOptions {
            min_sites: args.discover.discover_min_sites,
            min_requests: args.discover.discover_min_requests,
        })
    });

    for source in &sources {
        if interrupted.load(Ordering::Relaxed) {
            break;
        }
        tried += 1;
        let input = &source.input;
        let name = input.name();
        if many {
            progress.set_message(printable_owned(name.clone()));
        }
        // Request lines name their input; packet numbers count from its first.
        sink.set_input(Some(name.clone()));
        if config.shard.is_whole() {
            sink.set_shard_input(None);
        } else {
            sink.set_shard_input(Some(tried as u64));
        }
        // Only findings: answers come with `Config::read_responses`, which
        // scan never sets.
        let mut on_finding = |r: Record| {
            let Record::Finding(f) = r else { return };
            if let Some(d) = discovery.as_mut() {
                d.observe(&f.request);
            }
            if let Err(e) = sink.finding(&f) {
                // Stop reading: the report cannot be written any more.
                interrupted.store(true, Ordering::Relaxed);
                write_error.set(Some(e));
            }
        };
        let mut on_progress = |position: u64| progress.set_position(done_bytes + position);
        let opened = capture::Opened::open(input, Some(&interrupted));
        // Standard input is analysed on one thread, packet by packet, so findings
        // come out as packets arrive (a live `tcpdump -w -` feeds it).
        let outcome = opened.and_then(|opened| {
            let config = config.for_input(&opened);
            Reading::new(opened, threads, *input == Input::Stdin).map(|r| (r, config))
        });
        let (reading, input_config) = match outcome {
            Ok(opened) => opened,
            Err(_) if interrupted.load(Ordering::Relaxed) => {
                // A signal ended a wait in open: nothing was read from this input.
                tried -= 1;
                break;
            }
            Err(e) if (!source.named || args.skip_non_captures) && not_a_capture(&e.kind) => {
                skipped.push((name, e.kind.to_string()));
                continue;
            }
            Err(e) => {
                fatal = true;
                errors.push(InputError {
                    file: name,
                    offset: Some(e.offset),
                    error: strip_os_error(&e.kind.to_string()),
                    partial: false,
                    severity: Severity::Error,
                    went_on: false,
                });
                continue;
            }
        };
        // An input is a capture: the outputs may now be emptied.
        outputs.commit()?;
        let outcome = pipeline::analyze_input(
            reading,
            threads,
            input_config,
            &detector,
            &interrupted,
            filter.as_mut(),
            &mut on_finding,
            &mut on_progress,
        );
        let (compressed, file_stats, error, counters) = (
            outcome.compressed,
            outcome.stats,
            outcome.error,
            outcome.reader,
        );
        if compressed {
            decompressed.push(name.clone());
        }
        // A file of which not even one packet could be read is no capture read.
        if error.is_none() || file_stats.packets > 0 {
            captures += 1;
        }
        if let Some(damaged) = damaged_blocks(&counters, file_stats.packets > 0) {
            // Damage before the end, though reading went on past it.
            fatal = true;
            errors.push(InputError {
                file: name.clone(),
                ..damaged
            });
        }
        if let Some(e) = error {
            // A cut last record is a warning; damage that stops reading before
            // the end, or a file of which nothing could be read, is an error.
            let warning = e.kind.is_cut_short() && file_stats.packets > 0;
            fatal |= !warning;
            errors.push(InputError {
                file: name.clone(),
                offset: Some(e.offset),
                error: strip_os_error(&e.kind.to_string()),
                partial: file_stats.packets > 0,
                severity: if warning {
                    Severity::Warning
                } else {
                    Severity::Error
                },
                went_on: false,
            });
        }
        if !quiet {
            warn_counters(&name, counters);
        }
        stats.absorb(&config.shard.share(file_stats));
        done_bytes += input.size().unwrap_or(0);
        progress.set_position(done_bytes);
        if let Some(e) = write_error.take() {
            progress.finish_and_clear();
            return Err(CliError::Write(e));
        }
    }
    progress.finish_and_clear();

    if captures == 0 && interrupted.load(Ordering::Relaxed) {
        // Stopped before any capture was read (e.g. waiting for a FIFO's writer).
        print_errors(&errors, quiet, &decompressed);
        say!("phoneleak: interrupted before any capture was read");
        return Ok(INTERRUPTED_STATUS);
    }
    if captures == 0 {
        // No readable input: the errors alone (in text, no zero summary).
        print_errors(&errors, quiet, &decompressed);
        print_skipped(&skipped, args.verbose, quiet);
        // Only skipped files: an error, unless skipping was asked for.
        let nothing = errors.is_empty() && !args.skip_non_captures;
        if nothing {
            let what: Vec<String> = args.paths.iter().map(|p| p.display().to_string()).collect();
            say!("phoneleak: error: no capture in {}", what.join(", "));
        }
        if !jsonl {
            return Err(CliError::Reported);
        }
        fatal |= nothing;
    } else {
        print_errors(&errors, quiet, &decompressed);
        print_skipped(&skipped, args.verbose, quiet);
    }
    if let Some(f) = &filter
        && !quiet
    {
        for (link, why) in f.failures() {
            say!(
                "phoneleak: warning: -f does not apply to link type {link} ({why}); \
                 its packets were left out"
            );
        }
        let (tested, passed) = f.counts();
        say!("phoneleak: -f: {passed} of {tested} packets passed the filter");
    }
    if interrupted.load(Ordering::Relaxed) && !quiet {
        say!(
            "phoneleak: interrupted: the report covers what was read until then ({tried} of {} inputs)",
            sources.len()
        );
    }
    // The key log files are read once for the whole run (in a sharded run,
    // counted by the first part, as the packets are).
    let mut keylog_only = Stats {
        keylog: keylog_stats,
        ..Stats::default()
    };
    keylog_only = config.shard.share(keylog_only);
    stats.absorb(&keylog_only);
    let tally = sink.tally();
    let new_leaks = tally.new_leaks;
    let baseline = tally.baseline().map(|b| BaselineInfo {
        file: b.file().to_string(),
        entries: b.len() as u64,
        leaks_in_baseline: tally.leaks_in_baseline,
    });
    // The outputs are emptied here if no input opened as a capture.
    outputs.commit()?;
    if let Some(d) = &discovery {
        sink.discovered(&d.report(args.output.show_numbers))?;
    }
    sink.summary(&Summary {
        files: captures,
        capture: None,
        stats,
        min_confidence,
        new_leaks,
        baseline,
        errors,
        shard: args
            .shard
            .filter(|s| !s.is_whole())
            .map(|s| format!("{}/{}", s.index + 1, s.count)),
        skipped,
    })?;
    Ok(exit_status(fatal, new_leaks, args.output.exit_code))
}

/// 128 + SIGINT, as a shell reports a program stopped by Ctrl-C.
const INTERRUPTED_STATUS: u8 = 130;

/// Errors that mean "this file is not a capture" (skipped in a folder walk).
fn not_a_capture(kind: &CaptureErrorKind) -> bool {
    matches!(
        kind,
        CaptureErrorKind::NotACapture | CaptureErrorKind::Empty
    )
}

/// One line per input problem on standard error, each starting with its
/// severity (the word the text summary uses). `--quiet` keeps the errors.
fn print_errors(errors: &[InputError], quiet: bool, decompressed: &[String]) {
    for e in errors {
        if quiet && e.severity == Severity::Warning {
            continue;
        }
        let file = if e.file == "-" {
            "standard input"
        } else {
            e.file.as_str()
        };
        let at = match e.offset {
            Some(o) if decompressed.contains(&e.file) => {
                format!(" (at byte {o} of the decompressed capture)")
            }
            Some(o) => format!(" (at byte {o})"),
            None => String::new(),
        };
        let what = e.severity.as_str();
        let skipped = if e.partial || e.severity == Severity::Warning {
            ""
        } else {
            "; skipped"
        };
        let stopped = if e.partial && e.severity == Severity::Error && !e.went_on {
            "; the rest of the file was not read"
        } else {
            ""
        };
        say!(
            "phoneleak: {what}: {file}{at}: {}{skipped}{stopped}",
            e.error
        );
    }
}

/// One summary line for the files a folder walk skipped; `--verbose` lists them.
fn print_skipped(skipped: &[(String, String)], verbose: bool, quiet: bool) {
    if skipped.is_empty() || quiet {
        return;
    }
    if verbose {
        for (file, why) in skipped {
            say!("phoneleak: skipped {file}: {why}");
        }
    }
    let n = skipped.len();
    let files = if n == 1 { "file" } else { "files" };
    let hint = if verbose {
        ""
    } else {
        " (--verbose lists them)"
    };
    say!("phoneleak: skipped {n} {files} of the folders that are not captures{hint}");
}

/// The error for pcapng packet blocks the reader skipped as damaged (their
/// captured length exceeds the block), with no file name yet.
fn damaged_blocks(c: &ReaderCounters, partial: bool) -> Option<InputError> {
    let n = c.damaged_blocks;
    if n == 0 {
        return None;
    }
    let what = if n == 1 {
        "a packet block whose captured length exceeds the block was skipped; \
         the blocks after it were read"
            .to_string()
    } else {
        format!(
            "{n} packet blocks whose captured length exceeds their block were skipped \
             (the first at this offset); the blocks after them were read"
        )
    };
    Some(InputError {
        file: String::new(),
        offset: c.first_damaged_block,
        error: format!("corrupt capture: {what}"),
        partial,
        severity: Severity::Error,
        went_on: true,
    })
}

/// Warnings for what the capture reader skipped in one input.
fn warn_counters(name: &str, c: ReaderCounters) {
    if c.interfaces_over_cap > 0 {
        say!(
            "phoneleak: warning: {name}: {} interface descriptions beyond the {MAX_INTERFACES} \
             kept per section were ignored",
            c.interfaces_over_cap
        );
    }
    if c.unknown_interface_packets > 0 {
        say!(
            "phoneleak: warning: {name}: {} packets on undescribed interfaces were skipped",
            c.unknown_interface_packets
        );
    }
}

/// A flag raised by the first Ctrl-C (SIGINT) or SIGTERM: reading stops and the
/// report is finished. A second one ends the program at once (status 130).
fn on_interrupt() -> Arc<AtomicBool> {
    let flag = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        // Registration fails only for forbidden signals; then the default applies.
        let _ = signal_hook::flag::register_conditional_shutdown(signal, 130, Arc::clone(&flag));
        let _ = signal_hook::flag::register(signal, Arc::clone(&flag));
    }
    flag
}

/// A byte-progress bar on stderr (compressed bytes for compressed inputs),
/// drawn only when stderr is a terminal, and not for standard input, whose
/// size is unknown.
fn progress_bar(total: u64, hidden: bool) -> ProgressBar {
    if hidden || !io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
    if let Ok(style) = ProgressStyle::with_template(
        "{bar:40} {bytes}/{total_bytes} {bytes_per_sec} eta {eta} {wide_msg}",
    ) {
        bar.set_style(style);
    }
    bar
}
