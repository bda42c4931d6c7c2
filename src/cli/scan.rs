//! `phoneleak scan`: capture files → pipeline → report.
use std::io::{self, BufWriter, IsTerminal, Write};
use std::sync::Arc;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use phoneleak::capture::{self, PacketSource};
use phoneleak::detect::Detector;
use phoneleak::pipeline::Analyzer;
use phoneleak::report::{InputError, Summary};

use super::ScanArgs;
use super::inputs::expand_paths;

/// Runs `scan`; returns the exit status.
pub(crate) fn run(args: &ScanArgs) -> io::Result<u8> {
    let mut errors = Vec::new();
    let files = expand_paths(&args.paths, &mut errors);
    let mut sink = args.output.sink(BufWriter::new(io::stdout().lock()));
    let mut analyzer = Analyzer::new(args.analysis.config(), Arc::new(Detector::new()));
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
    let leaked = stats.leaking_requests > 0;
    sink.summary(&Summary {
        files: files.len() as u64,
        capture: None,
        stats,
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
