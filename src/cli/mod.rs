//! Command-line interface: argument definitions and dispatch. Each command
//! lives in its own file and only wires library stages together.
mod headers;
mod inputs;
mod scan;

use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};

use phoneleak::detect::Confidence;
use phoneleak::flow::Limits;
use phoneleak::http::HttpLimits;
use phoneleak::pipeline::Config;
use phoneleak::report::{JsonlSink, ReportOptions, Sink, Tally, TextSink};

#[derive(Parser)]
#[command(
    name = "phoneleak",
    version,
    about = "Find phone numbers and subscriber IDs leaked in HTTP request headers"
)]
pub(crate) struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
pub(crate) enum Command {
    /// Scan capture files (pcap, pcapng) and folders of them for leaking requests.
    #[command(after_help = "Examples:
  phoneleak scan fixtures/o2-2012.pcap
  phoneleak scan --format jsonl --all-requests --show-numbers capture.pcapng
  phoneleak scan a.pcap b.pcapng captures/
  phoneleak scan --number +447700900123 --region GB capture.pcap
  phoneleak scan --baseline last-week.jsonl --min-confidence medium captures/

Exit status: 0 no leak, 1 at least one leak (not in the baseline, at or above
--min-confidence), 2 a usage or input error.")]
    Scan(ScanArgs),
    /// Print the catalogue of header names that carry phone numbers or subscriber IDs.
    Headers(HeadersArgs),
    /// Capture on a network interface (needs the `live` build feature).
    Live {
        /// Arguments of the live mode.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true, hide = true)]
        rest: Vec<String>,
    },
}

#[derive(Clone, Copy, ValueEnum)]
pub(crate) enum Format {
    /// A readable report.
    Text,
    /// One JSON object per line (see docs/output.md).
    Jsonl,
}

#[derive(Args)]
pub(crate) struct ScanArgs {
    /// Capture files or folders (walked recursively, in name order).
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub detection: DetectionArgs,
    #[command(flatten)]
    pub analysis: AnalysisArgs,
}

/// Output format of `headers`.
#[derive(Clone, Copy, ValueEnum)]
pub(crate) enum CatalogueFormat {
    /// A readable table.
    Text,
    /// A JSON array of objects.
    Json,
}

#[derive(Args)]
pub(crate) struct HeadersArgs {
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: CatalogueFormat,
}

/// What to look for and which findings count.
#[derive(Args)]
pub(crate) struct DetectionArgs {
    /// A number of yours to look for in any form and encoding (E.164, e.g.
    /// +447700900123; national with --region). Repeatable.
    #[arg(long = "number", value_name = "NUMBER")]
    pub numbers: Vec<String>,
    /// A file of numbers to look for, one per line (`#` starts a comment).
    #[arg(long, value_name = "FILE")]
    pub numbers_file: Option<PathBuf>,
    /// Region for national numbers (ISO 3166 code, e.g. GB, US, DE); without
    /// it national-only numbers are reported with no number and low confidence.
    #[arg(long, value_name = "CC")]
    pub region: Option<String>,
    /// Findings below this confidence are not reported or counted.
    #[arg(long, value_enum, default_value = "low", value_name = "LEVEL")]
    pub min_confidence: MinConfidence,
    /// An earlier JSON-lines output: only findings not in it count for the exit status.
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
}

/// `--min-confidence` values.
#[derive(Clone, Copy, ValueEnum)]
pub(crate) enum MinConfidence {
    /// Every finding.
    Low,
    /// Medium and high.
    Medium,
    /// High only.
    High,
}

impl MinConfidence {
    /// The library's confidence.
    pub fn level(self) -> Confidence {
        match self {
            MinConfidence::Low => Confidence::Low,
            MinConfidence::Medium => Confidence::Medium,
            MinConfidence::High => Confidence::High,
        }
    }
}

/// How findings are written (shared by every command that reports).
#[derive(Args)]
pub(crate) struct OutputArgs {
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
    /// Report every HTTP request, not only leaking ones.
    #[arg(long)]
    pub all_requests: bool,
    /// Print phone numbers and identifiers in clear (masked by default).
    #[arg(long)]
    pub show_numbers: bool,
}

/// Limits of the analysis (shared by every command that analyses).
#[derive(Args)]
pub(crate) struct AnalysisArgs {
    /// Most TCP flows tracked at once (least recently active are evicted).
    #[arg(long, default_value_t = Limits::default().max_flows, value_name = "N")]
    pub max_flows: usize,
    /// Seconds of capture time after which an idle flow is flushed.
    #[arg(long, default_value_t = Limits::default().idle_timeout_secs, value_name = "SECS")]
    pub flow_timeout: i64,
    /// Out-of-order bytes buffered per flow direction before a hole is skipped.
    #[arg(long, default_value_t = Limits::default().max_ooo_per_direction, value_name = "BYTES")]
    pub max_ooo_bytes: usize,
    /// Out-of-order bytes buffered over all flows.
    #[arg(long, default_value_t = Limits::default().ooo_memcap, value_name = "BYTES")]
    pub ooo_memcap: usize,
    /// Largest request header block; larger ones are reported as truncated.
    #[arg(long, default_value_t = HttpLimits::default().max_head_bytes, value_name = "BYTES")]
    pub max_header_bytes: usize,
}

impl AnalysisArgs {
    /// The analysis settings these options ask for.
    pub fn config(&self, min_confidence: Confidence) -> Config {
        Config {
            min_confidence,
            flow: Limits {
                max_flows: self.max_flows.max(1),
                idle_timeout_secs: self.flow_timeout,
                max_ooo_per_direction: self.max_ooo_bytes,
                ooo_memcap: self.ooo_memcap,
                ..Limits::default()
            },
            http: HttpLimits {
                max_head_bytes: self.max_header_bytes,
                ..HttpLimits::default()
            },
        }
    }
}

impl OutputArgs {
    /// A sink for these options, writing to `out` and tallying into `tally`.
    pub fn sink<'w>(&self, out: impl Write + 'w, tally: Tally) -> Box<dyn Sink + 'w> {
        let opts = ReportOptions {
            show_numbers: self.show_numbers,
            all_requests: self.all_requests,
        };
        match self.format {
            Format::Text => Box::new(TextSink::new(out, opts, tally)),
            Format::Jsonl => Box::new(JsonlSink::new(out, opts, tally)),
        }
    }
}

/// Parses the command line and runs the command.
pub fn run() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Scan(args) => scan::run(&args),
        Command::Headers(args) => headers::run(&args),
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
