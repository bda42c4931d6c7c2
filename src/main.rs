//! The `phoneleak` command: wires capture sources, the analysis pipeline and
//! a report sink together, and maps the outcome to an exit status
//! (0 no leak, 1 leak, 2 usage or input error).
use std::fs::File;
use std::io::{self, BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Args, Parser, Subcommand, ValueEnum};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use phoneleak::capture::{CaptureReader, PacketSource};
use phoneleak::detect::Detector;
use phoneleak::flow::Limits;
use phoneleak::http::HttpLimits;
use phoneleak::pipeline::{Analyzer, Config};
use phoneleak::report::{InputError, JsonlSink, ReportOptions, Sink, Summary, TextSink};

#[derive(Parser)]
#[command(
    name = "phoneleak",
    version,
    about = "Find phone numbers and subscriber IDs leaked in HTTP request headers"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Scan capture files (pcap, pcapng) and folders of them for leaking requests.
    #[command(after_help = "Examples:
  phoneleak scan fixtures/o2-2012.pcap
  phoneleak scan --format jsonl --all-requests --show-numbers capture.pcapng
  phoneleak scan a.pcap b.pcapng captures/

Exit status: 0 no leak, 1 at least one leak, 2 a usage or input error.")]
    Scan(ScanArgs),
    /// Capture on a network interface (needs the `live` build feature).
    Live {
        /// Arguments of the live mode.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true, hide = true)]
        rest: Vec<String>,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    /// A readable report.
    Text,
    /// One JSON object per line (see docs/output.md).
    Jsonl,
}

#[derive(Args)]
struct ScanArgs {
    /// Capture files or folders (walked recursively, in name order).
    #[arg(required = true, value_name = "PATH")]
    paths: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
    /// Report every HTTP request, not only leaking ones.
    #[arg(long)]
    all_requests: bool,
    /// Print phone numbers and identifiers in clear (masked by default).
    #[arg(long)]
    show_numbers: bool,
    /// Most TCP flows tracked at once (least recently active are evicted).
    #[arg(long, default_value_t = Limits::default().max_flows, value_name = "N")]
    max_flows: usize,
    /// Seconds of capture time after which an idle flow is flushed.
    #[arg(long, default_value_t = Limits::default().idle_timeout_secs, value_name = "SECS")]
    flow_timeout: i64,
    /// Out-of-order bytes buffered per flow direction before a hole is skipped.
    #[arg(long, default_value_t = Limits::default().max_ooo_per_direction, value_name = "BYTES")]
    max_ooo_bytes: usize,
    /// Out-of-order bytes buffered over all flows.
    #[arg(long, default_value_t = Limits::default().ooo_memcap, value_name = "BYTES")]
    ooo_memcap: usize,
    /// Largest request header block; larger ones are reported as truncated.
    #[arg(long, default_value_t = HttpLimits::default().max_head_bytes, value_name = "BYTES")]
    max_header_bytes: usize,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Scan(args) => scan(&args),
        Command::Live { .. } => {
            eprintln!(
                "phoneleak: live capture is not built in: rebuild with `cargo build --release --features live` \
                 (needs libpcap: apt-get install libpcap-dev)"
            );
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("phoneleak: cannot write the report: {e}");
            ExitCode::from(2)
        }
    }
}

/// Runs `scan`; returns the exit status.
fn scan(args: &ScanArgs) -> io::Result<u8> {
    let mut errors = Vec::new();
    let files = expand_paths(&args.paths, &mut errors);
    let opts = ReportOptions {
        show_numbers: args.show_numbers,
        all_requests: args.all_requests,
    };
    let stdout = io::stdout().lock();
    let mut sink: Box<dyn Sink> = match args.format {
        Format::Text => Box::new(TextSink::new(BufWriter::new(stdout), opts)),
        Format::Jsonl => Box::new(JsonlSink::new(BufWriter::new(stdout), opts)),
    };
    let config = Config {
        flow: Limits {
            max_flows: args.max_flows.max(1),
            idle_timeout_secs: args.flow_timeout,
            max_ooo_per_direction: args.max_ooo_bytes,
            ooo_memcap: args.ooo_memcap,
            ..Limits::default()
        },
        http: HttpLimits {
            max_head_bytes: args.max_header_bytes,
            ..HttpLimits::default()
        },
    };
    let mut analyzer = Analyzer::new(config, Arc::new(Detector::new()));
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
        let reader = File::open(file)
            .map_err(|e| (0, e.to_string()))
            .and_then(|f| CaptureReader::new(f).map_err(|e| (e.offset, e.kind.to_string())));
        let mut reader = match reader {
            Ok(r) => r,
            Err((offset, error)) => {
                fatal = true;
                errors.push(InputError {
                    file: name,
                    offset: Some(offset),
                    error,
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

/// Files named on the command line, with folders expanded recursively in name order.
fn expand_paths(paths: &[PathBuf], errors: &mut Vec<InputError>) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for path in paths {
        walk(path, &mut files, errors);
    }
    files
}

fn walk(path: &Path, files: &mut Vec<PathBuf>, errors: &mut Vec<InputError>) {
    match std::fs::metadata(path) {
        Ok(meta) if meta.is_dir() => {
            let entries = match std::fs::read_dir(path) {
                Ok(entries) => entries,
                Err(e) => {
                    errors.push(InputError {
                        file: path.display().to_string(),
                        offset: None,
                        error: e.to_string(),
                        partial: false,
                    });
                    return;
                }
            };
            let mut children: Vec<PathBuf> =
                entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
            children.sort();
            for child in children {
                walk(&child, files, errors);
            }
        }
        Ok(meta) if meta.is_file() => files.push(path.to_path_buf()),
        Ok(_) => errors.push(InputError {
            file: path.display().to_string(),
            offset: None,
            error: "not a regular file or folder".into(),
            partial: false,
        }),
        Err(e) => errors.push(InputError {
            file: path.display().to_string(),
            offset: None,
            error: e.to_string(),
            partial: false,
        }),
    }
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
