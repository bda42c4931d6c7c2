//! `phoneleak scan`: capture files → pipeline → report.
use std::io::{self, BufWriter, IsTerminal, Write};
use std::sync::Arc;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use std::cell::Cell;

use phoneleak::capture::{self, CaptureError, PacketSource};
use phoneleak::detect::Detector;
use phoneleak::pipeline::{Analyzer, Config, Finding, Stats, parallel};
use phoneleak::report::{InputError, Summary};

use super::ScanArgs;
use super::inputs::expand_paths;

/// Runs `scan`; returns the exit status.
pub(crate) fn run(args: &ScanArgs) -> io::Result<u8> {
    let mut errors = Vec::new();
    let files = expand_paths(&args.paths, &mut errors);
    let mut sink = args.output.sink(BufWriter::new(io::stdout().lock()));
    let detector = Arc::new(Detector::new());
    let config = args.analysis.config();
    let threads = args.threads.unwrap_or_else(default_threads).max(1);
    let total: u64 = files
        .iter()
        .filter_map(|f| f.metadata().ok())
        .map(|m| m.len())
        .sum();
    let progress = progress_bar(total);
    let mut done_bytes = 0u64;
    let write_error: Cell<Option<io::Error>> = Cell::new(None);
    let mut fatal = !errors.is_empty();
    let mut stats = Stats::default();

    for file in &files {
        let mut on_finding = |f: Finding| {
            if let Err(e) = sink.finding(&f) {
                write_error.set(Some(e));
            }
        };
        let name = file.display().to_string();
        let mut on_progress = |position: u64| progress.set_position(done_bytes + position);
        let outcome = if threads == 1 {
            capture::open_file(file).map(|mut reader| {
                analyze_here(
                    &mut reader,
                    config,
                    &detector,
                    &mut on_finding,
                    &mut on_progress,
                )
            })
        } else {
            capture::open_blocks(file).map(|mut blocks| {
                parallel::analyze(
                    blocks.as_mut(),
                    threads,
                    config,
                    &detector,
                    &mut on_finding,
                    &mut on_progress,
                )
            })
        };
        let (file_stats, error) = match outcome {
            Ok(result) => result,
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
    let leaked = stats.leaking_requests > 0;
    sink.summary(&Summary {
        files: files.len() as u64,
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

/// One thread per core by default.
fn default_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// The whole analysis of one source on the calling thread.
fn analyze_here(
    source: &mut dyn PacketSource,
    config: Config,
    detector: &Arc<Detector>,
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
        }
    }
    analyzer.end_of_input(found);
    (analyzer.stats(), error)
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
