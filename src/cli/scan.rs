//! `phoneleak scan`: capture files → pipeline → report.
use std::io::{self, BufWriter, IsTerminal, Write};
use std::sync::Arc;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use phoneleak::capture::{self, PacketSource};
use phoneleak::detect::{Detector, KnownNumbers, PhoneNumber, Region, number};
use phoneleak::pipeline::Analyzer;
use phoneleak::report::{Baseline, BaselineInfo, InputError, Summary, Tally};

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
    let mut errors = Vec::new();
    let files = expand_paths(&args.paths, &mut errors);
    let tally = Tally::new(args.output.show_numbers, baseline);
    let mut sink = args.output.sink(BufWriter::new(io::stdout().lock()), tally);
    let mut analyzer = Analyzer::new(args.analysis.config(min_confidence), Arc::new(detector));
    let total: u64 = files
        .iter()
        .filter_map(|f| f.metadata().ok())
        .map(|m| m.len())
        .sum();
    let progress = progress_bar(total);
    let mut done_bytes = 0u64;
    let write_error: std::cell::Cell<Option<io::Error>> = std::cell::Cell::new(None);
    let mut fatal = !errors.is_empty();

    for file in &files {
        let mut on_finding = |f: phoneleak::pipeline::Finding| {
            if let Err(e) = sink.finding(&f) {
                write_error.set(Some(e));
            }
        };
        let name = file.display().to_string();
        let mut reader = match capture::open_file(file) {
            Ok(r) => r,
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
        let mut packets = 0u64;
        let mut last_tick = 0u64;
        loop {
            match reader.next_packet() {
                Ok(Some(packet)) => {
                    packets += 1;
                    analyzer.packet(&packet, &mut on_finding);
                    if packets.is_multiple_of(4096) {
                        let pos = reader.position();
                        progress.inc(pos - last_tick);
                        last_tick = pos;
                    }
                }
                Ok(None) => break,
                Err(e) => {
                    if packets == 0 {
                        fatal = true;
                    }
                    errors.push(InputError {
                        file: name.clone(),
                        offset: Some(e.offset),
                        error: e.kind.to_string(),
                        partial: packets > 0,
                    });
                    break;
                }
            }
            if let Some(e) = write_error.take() {
                return Err(e);
            }
        }
        analyzer.end_of_input(&mut on_finding);
        done_bytes += file.metadata().map(|m| m.len()).unwrap_or(0);
        progress.set_position(done_bytes);
        if let Some(e) = write_error.take() {
            return Err(e);
        }
    }
    progress.finish_and_clear();

    for e in &errors {
        let at = e
            .offset
            .map(|o| format!(" (at byte {o})"))
            .unwrap_or_default();
        let what = if e.partial { "warning" } else { "error" };
        eprintln!("phoneleak: {what}: {}{at}: {}", e.file, e.error);
    }
    let stats = analyzer.stats();
    let tally = sink.tally();
    let new_leaks = tally.new_leaks;
    let baseline = tally.baseline().map(|b| BaselineInfo {
        file: b.file().to_string(),
        entries: b.len() as u64,
        leaks_in_baseline: tally.leaks_in_baseline,
    });
    let leaked = new_leaks > 0;
    sink.summary(&Summary {
        files: files.len() as u64,
        stats,
        min_confidence,
        new_leaks,
        baseline,
        errors,
    })?;
    io::stdout().flush()?;
    Ok(if fatal {
        2
    } else if leaked {
        1
    } else {
        0
    })
}

/// A byte-progress bar on stderr, drawn only when stderr is a terminal.
fn progress_bar(total: u64) -> ProgressBar {
    if !io::stderr().is_terminal() {
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
