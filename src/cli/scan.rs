//! `phoneleak scan`: captures (files, folders, standard input) → pipeline → report.
use std::io::{self, IsTerminal};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use phoneleak::capture::{self, Compression, Input, PacketSource};
use phoneleak::detect::Detector;
use phoneleak::pipeline::{Analyzer, Finding};
use phoneleak::report::{InputError, Sink, Summary};

use super::ScanArgs;
use super::inputs::expand_paths;

/// Runs `scan`; returns the exit status.
pub(crate) fn run(args: &ScanArgs) -> io::Result<u8> {
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
    let mut sink = match args.output.sinks(inputs.iter().map(Input::name).collect()) {
        Ok(sink) => sink,
        Err(message) => {
            eprintln!("phoneleak: {message}");
            return Ok(2);
        }
    };
    let interrupted = on_interrupt();
    let mut analyzer = Analyzer::new(args.analysis.config(), Arc::new(Detector::new()));
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
        let mut on_finding = |f: Finding| {
            if let Err(e) = sink.finding(&f) {
                write_error.set(Some(e));
            }
        };
        let name = input.name();
        let mut reader = match capture::open(input) {
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
        if reader.compression() != Compression::None {
            decompressed.push(name.clone());
        }
        let mut packets = 0u64;
        loop {
            match reader.next_packet() {
                Ok(Some(packet)) => {
                    packets += 1;
                    analyzer.packet(&packet, &mut on_finding);
                    if packets.is_multiple_of(4096) {
                        progress.set_position(done_bytes + reader.input_position());
                        if interrupted.load(Ordering::Relaxed) {
                            break;
                        }
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
    let stats = analyzer.stats();
    let leaked = stats.leaking_requests > 0;
    sink.summary(&Summary {
        files: opened,
        stats,
        errors,
    })?;
    Ok(if fatal {
        2
    } else if leaked {
        1
    } else {
        0
    })
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
