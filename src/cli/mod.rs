//! Command-line interface: argument definitions and dispatch. Each command
//! lives in its own file and only wires library stages together.
mod headers;
mod inputs;
#[cfg(feature = "live")]
mod live;
mod merge;
mod scan;
mod shell;

use std::fs::File;
use std::io::{self, BufWriter, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};

use phoneleak::decode::DefragLimits;
use phoneleak::detect::Confidence;
use phoneleak::flow::Limits;
use phoneleak::http::HttpLimits;
use phoneleak::pipeline::Config;
use phoneleak::report::{
    FanOut, FindingsOnly, HtmlSink, JsonlSink, Report, ReportOptions, SubjectKey, SummaryOnly,
    Tally, TextSink,
};

#[derive(Parser)]
#[command(
    name = "phoneleak",
    version,
    about = "Find phone numbers and subscriber IDs leaked in HTTP request headers",
    after_help = "Examples:
  phoneleak scan capture.pcap                     # readable report; exit status 1 on a leak
  tcpdump -i eth0 -w - | phoneleak scan -         # analyse a live capture through a pipe
  phoneleak scan --html report.html captures/     # a report to share
  phoneleak completions bash > ~/.local/share/bash-completion/completions/phoneleak
  phoneleak man | man -l -"
)]
pub(crate) struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
pub(crate) enum Command {
    /// Scan captures (files, folders, `-` for standard input) for leaking requests.
    ///
    /// Reads pcap and pcapng, plain or compressed with gzip or zstd, and reports every
    /// HTTP request that leaks a phone number or subscriber identifier in a header.
    #[command(after_help = "Examples:
  phoneleak scan fixtures/o2-2012.pcap
  phoneleak scan --format jsonl --all-requests --show-numbers capture.pcapng
  phoneleak scan a.pcap b.pcapng.gz c.pcap.zst captures/
  tcpdump -i eth0 -w - | phoneleak scan -
  ssh sensor 'tcpdump -i eth0 -w -' | phoneleak scan --html report.html -
  zcat old.pcap.gz | phoneleak scan --quiet --format jsonl -
  phoneleak scan -o findings.jsonl --format jsonl captures/
  phoneleak scan --number +447700900123 --region GB capture.pcap
  phoneleak scan --baseline last-week.jsonl --min-confidence medium captures/

Compression (gzip, zstd) and format (pcap, pcapng) are recognised by their
first bytes, not by the file name. Ctrl-C stops reading and still writes the
summary and the HTML report.

Exit status: 0 no leak, 1 at least one leak (not in the baseline, at or above
--min-confidence), 2 a usage or input error.")]
    Scan(Box<ScanArgs>),
    /// Capture on a network interface and report leaks as they happen.
    #[cfg(feature = "live")]
    #[command(after_help = live::LIVE_HELP)]
    Live(Box<live::LiveArgs>),
    /// List the interfaces live capture can use.
    #[cfg(feature = "live")]
    Interfaces,
    /// Merge the JSON-lines outputs of several runs into the report of one run over all their inputs.
    #[command(after_help = merge::MERGE_HELP)]
    Merge(Box<merge::MergeArgs>),
    /// Print the catalogue of header names that carry phone numbers or subscriber IDs.
    Headers(HeadersArgs),
    /// Capture on a network interface (needs the `live` build feature).
    #[cfg(not(feature = "live"))]
    #[command(after_help = "Examples:
  cargo build --release --features live     # a build with live capture (needs libpcap-dev)
  tcpdump -i eth0 -w - | phoneleak scan -   # meanwhile: live traffic through a pipe")]
    Live {
        /// Arguments of the live mode.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true, hide = true)]
        rest: Vec<String>,
    },
    /// List capture interfaces (needs the `live` build feature).
    #[cfg(not(feature = "live"))]
    Interfaces {
        /// Ignored.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true, hide = true)]
        rest: Vec<String>,
    },
    /// Print a shell completion script to standard output.
    #[command(after_help = "Examples:
  phoneleak completions bash > ~/.local/share/bash-completion/completions/phoneleak
  phoneleak completions zsh > ~/.zfunc/_phoneleak      # with fpath+=(~/.zfunc) in ~/.zshrc
  phoneleak completions fish > ~/.config/fish/completions/phoneleak.fish
  source <(phoneleak completions bash)                # this shell only")]
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff) to standard output.
    #[command(after_help = "Examples:
  phoneleak man | man -l -                           # read it now
  phoneleak man > /usr/local/share/man/man1/phoneleak.1
  phoneleak man scan > /usr/local/share/man/man1/phoneleak-scan.1")]
    Man {
        /// A command whose own page to print (default: the main page).
        #[arg(value_name = "COMMAND")]
        command: Option<String>,
    },
}

/// What a build without the `live` feature answers to `live` and `interfaces`.
#[cfg(not(feature = "live"))]
const NO_LIVE: &str = "phoneleak: live capture is not built in: this binary was built without the \
`live` cargo feature; rebuild with `cargo build --release --features live` \
(needs libpcap: apt-get install libpcap-dev)";

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
    /// Analysis threads (default: one per core). Output is the same for any number.
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
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
    /// Print only findings: no summary, no warnings (errors that make the exit
    /// status 2 are still printed).
    #[arg(short, long)]
    pub quiet: bool,
    /// Write the findings (and, with --format jsonl, the summary) to FILE; a
    /// text summary goes to standard error.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Also write a self-contained HTML report to FILE.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
    /// Add to every leak and aggregate row a pseudonym of the clear number or
    /// identifier: HMAC-SHA-256 keyed with FILE's bytes (at least 16), so
    /// outputs of different runs and `merge` keep numbers that mask alike apart.
    #[arg(long, value_name = "FILE")]
    pub subject_key: Option<PathBuf>,
    /// Exit status when leaks are found (default 1). `--exit-code 0` suits job
    /// runners (Spark, Airflow, Dask) that take any other status for a failed
    /// task; errors still exit 2.
    #[arg(long, default_value_t = 1, value_name = "N")]
    pub exit_code: u8,
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
    /// Bytes held for IP fragment reassembly over all datagrams.
    #[arg(long, default_value_t = DefragLimits::default().memcap, value_name = "BYTES")]
    pub defrag_memcap: usize,
    /// Seconds of capture time after which an incomplete fragmented datagram is given up.
    #[arg(long, default_value_t = DefragLimits::default().timeout_secs, value_name = "SECS")]
    pub defrag_timeout: i64,
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
            defrag: DefragLimits {
                memcap: self.defrag_memcap,
                timeout_secs: self.defrag_timeout,
                ..DefragLimits::default()
            },
        }
    }
}

impl OutputArgs {
    fn report_options(&self, multi_file: bool) -> ReportOptions {
        ReportOptions {
            show_numbers: self.show_numbers,
            all_requests: self.all_requests,
            multi_file,
        }
    }

    /// A format of the chosen kind, writing to `out`.
    pub fn format<'w>(
        &self,
        out: impl Write + 'w,
        color: bool,
        opts: ReportOptions,
    ) -> Box<dyn phoneleak::report::Format + 'w> {
        match self.format {
            Format::Text => Box::new(TextSink::new(out, opts).with_color(color)),
            Format::Jsonl => Box::new(JsonlSink::new(out)),
        }
    }

    /// The report these options ask for: the findings on standard output or
    /// in the `-o` file, the summary where it belongs, the HTML report, one
    /// tally (`tally`) for all of them, whose count of new leaks sets the
    /// exit status. `inputs` names the inputs in the HTML report. Fails when
    /// a file cannot be created or the subject key cannot be read.
    pub fn sinks(&self, inputs: Vec<String>, tally: Tally) -> Result<Report<'static>, String> {
        let key = match &self.subject_key {
            Some(path) => Some(SubjectKey::load(path).map_err(|e| format!("--subject-key: {e}"))?),
            None => None,
        };
        let opts = self.report_options(inputs.len() > 1);
        let mut fan = FanOut::new();
        let (main, summary_in_main) = match &self.output {
            Some(path) => {
                let file = create(path)?;
                // A JSON-lines file is a record: it keeps its summary even with --quiet.
                let jsonl = matches!(self.format, Format::Jsonl);
                (self.format(BufWriter::new(file), false, opts), jsonl)
            }
            None => {
                let stdout = io::stdout();
                let color = colours_on(&stdout);
                (
                    self.format(BufWriter::new(stdout.lock()), color, opts),
                    !self.quiet,
                )
            }
        };
        if summary_in_main {
            fan.push(main);
        } else {
            fan.push(Box::new(FindingsOnly(main)));
        }
        if self.output.is_some() && !self.quiet {
            let stderr = io::stderr();
            let color = colours_on(&stderr);
            let text = TextSink::new(stderr, opts).with_color(color);
            fan.push(Box::new(SummaryOnly(text)));
        }
        if let Some(path) = &self.html {
            let file = create(path)?;
            let html = HtmlSink::new(BufWriter::new(file), opts).with_inputs(inputs);
            fan.push(Box::new(html));
        }
        Ok(Report::new(opts, tally, fan).with_subject_key(key))
    }
}

fn create(path: &std::path::Path) -> Result<File, String> {
    File::create(path).map_err(|e| format!("cannot create {}: {e}", path.display()))
}

/// Colours on a terminal only, and never with `NO_COLOR` set (anstream's
/// reading of `NO_COLOR`, `CLICOLOR`, `TERM`).
fn colours_on<S: IsTerminal + anstream::stream::RawStream>(stream: &S) -> bool {
    IsTerminal::is_terminal(stream)
        && anstream::AutoStream::choice(stream) != anstream::ColorChoice::Never
}

/// Parses the command line and runs the command.
pub fn run() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Scan(args) => scan::run(&args),
        Command::Merge(args) => merge::run(&args),
        Command::Completions { shell } => shell::completions(shell),
        Command::Man { command } => shell::man(command.as_deref()),
        Command::Headers(args) => headers::run(&args),
        #[cfg(feature = "live")]
        Command::Live(args) => live::run(&args),
        #[cfg(feature = "live")]
        Command::Interfaces => live::interfaces(),
        #[cfg(not(feature = "live"))]
        Command::Live { .. } | Command::Interfaces { .. } => {
            eprintln!("{NO_LIVE}");
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
