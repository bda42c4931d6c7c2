//! `phoneleak scan`: captures (files, folders, standard input) → pipeline → report.
use std::io::{self, IsTerminal};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use phoneleak::capture::{
    self, BlockSource, CaptureError, Compression, Input, PacketBlock, PacketSource,
};
use phoneleak::detect::{Detector, KnownNumbers, PhoneNumber, Region, number};
use phoneleak::pipeline::{Analyzer, Config, Finding, Stats, parallel};
use phoneleak::report::{Baseline, BaselineInfo, InputError, Sink, Summary, Tally};

use super::inputs::expand_paths;
use super::{DetectionArgs, ScanArgs};

/// Reads a number the user gave: international, or national with `region`.
fn user_number(text: &str, region: Option<Region>) -> Result<PhoneNumber, String> {
    match number::parse(text, region) {
        Some(p) => p.number.ok_or_else(|| {
            "a national number: give it as +CC... or name its region with --region".to_string()
        }),
        None => Err("not a phone number (expected e.g. +447700900123)".to_string()),
    }
}

/// The detector the options ask for.
fn detector(args: &DetectionArgs) -> Result<Detector, String> {
    let region = match &args.region {
        Some(code) => Some(Region::parse(code).ok_or_else(|| {
            let known: Vec<&str> = Region::codes().collect();
            format!(
                "--region {code}: unknown region; known: {}",
                known.join(" ")
            )
        })?),
        None => None,
    };
    let mut numbers: Vec<PhoneNumber> = Vec::new();
    for n in &args.numbers {
        numbers.push(user_number(n, region).map_err(|e| format!("--number {n}: {e}"))?);
    }
    if let Some(path) = &args.numbers_file {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("--numbers-file {}: {e}", path.display()))?;
        for (i, line) in text.lines().enumerate() {
            let line = line.split('#').next().unwrap_or("").trim();
            if line.is_empty() {
                continue;
            }
            numbers.push(
                user_number(line, region)
                    .map_err(|e| format!("{}, line {}: {line}: {e}", path.display(), i + 1))?,
            );
        }
    }
    numbers.sort_by_key(PhoneNumber::e164);
    numbers.dedup();
    let known = KnownNumbers::new(numbers).map_err(|e| e.to_string())?;
    Ok(Detector::with(region, known))
}

/// Runs `scan`; returns the exit status.
pub(crate) fn run(args: &ScanArgs) -> io::Result<u8> {
    let detector = match detector(&args.detection) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("phoneleak: {e}");
            return Ok(2);
        }
    };
    let baseline = match args.detection.baseline.as_deref().map(Baseline::load) {
        Some(Ok(b)) => Some(b),
        Some(Err(e)) => {
            eprintln!("phoneleak: --baseline: {e}");
            return Ok(2);
        }
        None => None,
    };
    let min_confidence = args.detection.min_confidence.level();
    let quiet = args.output.quiet;
    let mut errors = Vec::new();
    let inputs = expand_paths(&args.paths, &mut errors);
    if inputs.contains(&Input::Stdin) && io::stdin().is_terminal() {
        eprintln!(
            "phoneleak: standard input is a terminal, not a capture: pipe one in, \
             e.g. tcpdump -i eth0 -w - | phoneleak scan -"
        );
        return Ok(2);
    }
    let tally = Tally::new(args.output.show_numbers, baseline);
    let mut sink = match args
        .output
        .sinks(inputs.iter().map(Input::name).collect(), tally)
    {
        Ok(sink) => sink,
        Err(message) => {
            eprintln!("phoneleak: {message}");
            return Ok(2);
        }
    };
    let interrupted = on_interrupt();
    let detector = Arc::new(detector);
    let config = args.analysis.config(min_confidence);
    let threads = args.threads.unwrap_or_else(default_threads).max(1);
    let mut stats = Stats::default();
    let reads_stdin = inputs.contains(&Input::Stdin);
    let total: u64 = inputs.iter().filter_map(Input::size).sum();
    let progress = progress_bar(total, quiet || reads_stdin);
    let mut done_bytes = 0u64;
    let write_error: std::cell::Cell<Option<io::Error>> = std::cell::Cell::new(None);
    let mut fatal = !errors.is_empty();
    let mut opened = 0u64;
    // Where each input's error offsets count from, for the messages.
    let mut decompressed: Vec<String> = Vec::new();

    for input in &inputs {
        if interrupted.load(Ordering::Relaxed) {
            break;
        }
        opened += 1;
        sink.set_input(Some(input.name()), 0);
        let mut on_finding = |f: Finding| {
            if let Err(e) = sink.finding(&f) {
                write_error.set(Some(e));
            }
        };
        let name = input.name();
        let mut on_progress = |position: u64| progress.set_position(done_bytes + position);
        // Standard input is analysed on one thread, packet by packet, so findings
        // come out as packets arrive (a live `tcpdump -w -` feeds it).
        let outcome = if threads == 1 || *input == Input::Stdin {
            capture::open(input).map(|mut reader| {
                let compressed = reader.compression() != Compression::None;
                let result = analyze_here(
                    &mut reader,
                    config,
                    &detector,
                    &interrupted,
                    &mut on_finding,
                    &mut on_progress,
                );
                (compressed, result)
            })
        } else {
            capture::open_blocks(input).map(|(mut blocks, compression)| {
                let mut source = Interruptible {
                    inner: blocks.as_mut(),
                    flag: &interrupted,
                };
                let result = parallel::analyze(
                    &mut source,
                    threads,
                    config,
                    &detector,
                    &mut on_finding,
                    &mut on_progress,
                );
                (compression != Compression::None, result)
            })
        };
        let (file_stats, error) = match outcome {
            Ok((compressed, result)) => {
                if compressed {
                    decompressed.push(name.clone());
                }
                result
            }
            Err(e) => {
                fatal = true;
                errors.push(InputError {
                    file: name,
                    offset: Some(e.offset),
                    error: e.kind.to_string(),
                    partial: false,
                });
                continue;
            }
        };
        if let Some(e) = error {
            fatal |= file_stats.packets == 0;
            errors.push(InputError {
                file: name,
                offset: Some(e.offset),
                error: e.kind.to_string(),
                partial: file_stats.packets > 0,
            });
        }
        stats.absorb(&file_stats);
        done_bytes += input.size().unwrap_or(0);
        progress.set_position(done_bytes);
        if let Some(e) = write_error.take() {
            return Err(e);
        }
    }
    progress.finish_and_clear();

    for e in &errors {
        // --quiet keeps only the errors that make the exit status 2.
        if quiet && e.partial {
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
        let what = if e.partial { "warning" } else { "error" };
        let skipped = if e.partial { "" } else { "; skipped" };
        eprintln!("phoneleak: {what}: {file}{at}: {}{skipped}", e.error);
    }
    if interrupted.load(Ordering::Relaxed) && !quiet {
        eprintln!(
            "phoneleak: interrupted: the report covers what was read until then ({opened} of {} inputs)",
            inputs.len()
        );
    }
    let tally = sink.tally();
    let new_leaks = tally.new_leaks;
    let baseline = tally.baseline().map(|b| BaselineInfo {
        file: b.file().to_string(),
        entries: b.len() as u64,
        leaks_in_baseline: tally.leaks_in_baseline,
    });
    let leaked = new_leaks > 0;
    sink.summary(&Summary {
        files: opened,
        capture: None,
        stats,
        min_confidence,
        new_leaks,
        baseline,
        errors,
    })?;
    Ok(if fatal {
        2
    } else if leaked {
        args.output.exit_code
    } else {
        0
    })
}

/// One thread per core by default.
fn default_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// The whole analysis of one source on the calling thread; stops early (with
/// the flows flushed) when `interrupted` is raised.
fn analyze_here(
    source: &mut dyn PacketSource,
    config: Config,
    detector: &Arc<Detector>,
    interrupted: &AtomicBool,
    found: &mut dyn FnMut(Finding),
    progress: &mut dyn FnMut(u64),
) -> (Stats, Option<CaptureError>) {
    let mut analyzer = Analyzer::new(config, Arc::clone(detector));
    let mut index = 0u64;
    let mut error = None;
    loop {
        match source.next_packet() {
            Ok(Some(packet)) => analyzer.packet(index, &packet, found),
            Ok(None) => break,
            Err(e) => {
                error = Some(e);
                break;
            }
        }
        index += 1;
        if index.is_multiple_of(4096) {
            progress(source.position());
            if interrupted.load(Ordering::Relaxed) {
                break;
            }
        }
    }
    analyzer.end_of_input(found);
    (analyzer.stats(), error)
}

/// A block source that ends early once Ctrl-C was pressed.
struct Interruptible<'a> {
    inner: &'a mut dyn BlockSource,
    flag: &'a AtomicBool,
}

impl BlockSource for Interruptible<'_> {
    fn next_block(&mut self) -> Result<Option<PacketBlock>, CaptureError> {
        if self.flag.load(Ordering::Relaxed) {
            return Ok(None);
        }
        self.inner.next_block()
    }

    fn position(&self) -> u64 {
        self.inner.position()
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
    if let Ok(style) =
        ProgressStyle::with_template("{bar:40} {bytes}/{total_bytes} {bytes_per_sec} eta {eta}")
    {
        bar.set_style(style);
    }
    bar
}
