//! Command-line interface: argument definitions and dispatch. Each command
//! lives in its own file and only wires library stages together.
/// Writes one message line on standard error, as `eprintln!` would, with
/// control characters made visible ([`say`]). Every message of the command
/// goes through it (`eprintln!` is denied in `cli/`): file names, error texts
/// and anything else a message quotes may come from a capture.
macro_rules! say {
    ($($arg:tt)*) => {
        $crate::cli::say(format_args!($($arg)*))
    };
}

mod diff;
mod headers;
mod inputs;
#[cfg(feature = "live")]
mod live;
mod merge;
mod reopen;
mod scan;
mod shell;

use std::fs::File;
use std::io::{self, BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Args, Parser, Subcommand, ValueEnum};

use phoneleak::capture::{human_io, strip_os_error};
use phoneleak::decode::DefragLimits;
use phoneleak::detect::{Confidence, Detector, KnownNumbers, PhoneNumber, Region, number};
use phoneleak::flow::Limits;
use phoneleak::http::HttpLimits;
use phoneleak::pipeline::Config;
use phoneleak::report::{
    Baseline, FanOut, FindingsOnly, HtmlSink, JsonlSink, Printable, Report, ReportOptions,
    SubjectKey, SummaryOnly, Tally, TextSink,
};
use phoneleak::tls::{KeyLog, KeyLogStats, TlsLimits};

#[derive(Parser)]
#[command(
    name = "phoneleak",
    version,
    about = "Find phone numbers and subscriber IDs leaked in HTTP request headers",
    long_about = "Find phone numbers and subscriber IDs leaked in HTTP request headers.

phoneleak reads packet captures (pcap and pcapng, plain or compressed with gzip or zstd, from \
files, folders or standard input) or, built with the `live` feature, a network interface. It \
reassembles TCP streams, extracts every HTTP/1.x request on any port, and reports each request \
that carries a phone number (MSISDN), an IMSI, an IMEI or a tracking identifier: in a header \
known to carry one (header enrichment by mobile operators), in another header value, a cookie \
or the query string, or, for numbers given with --number, in any form, encoding or hash. \
Numbers are masked in every output unless --show-numbers.

The report is text, JSON lines or a self-contained HTML file; the exit status tells a script \
whether anything leaked. `phoneleak scan` reads captures, `phoneleak merge` joins the JSON-lines \
outputs of several runs, `phoneleak headers` prints the catalogue of header names it knows.",
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
  phoneleak scan -f 'tcp port 80 and host 10.0.0.5' capture.pcap   # with --features live

Compression (gzip, zstd) and format (pcap, pcapng) are recognised by their
first bytes, not by the file name. Ctrl-C stops reading and still writes the
summary and the HTML report.

Exit status: 0 no leak, 1 at least one leak (not in the baseline, at or above
--min-confidence), 2 a usage or input error, or damage that stopped reading
before the end (also when leaks were found); 141 a closed output pipe.")]
    Scan(Box<ScanArgs>),
    /// Capture on a network interface and report leaks as they happen.
    ///
    /// Runs the analysis of `scan` on packets from an interface (libpcap), writing each finding
    /// as soon as its header block is complete, until Ctrl-C, SIGTERM, --duration or --count;
    /// then the summary, with the kernel's drop counts.
    #[cfg(feature = "live")]
    #[command(after_help = live::LIVE_HELP)]
    Live(Box<live::LiveArgs>),
    /// List the interfaces live capture can use.
    ///
    /// One line per interface libpcap can open: its name, flags (up, running, loopback) and
    /// addresses.
    #[cfg(feature = "live")]
    #[command(after_help = "Examples:
  phoneleak interfaces                       # name, flags, addresses
  sudo phoneleak live -i \"$(phoneleak interfaces | awk 'NR==1{print $1}')\"")]
    Interfaces,
    /// Merge the JSON-lines outputs of several runs into the report of one run over all their inputs.
    ///
    /// Reads the `--format jsonl` outputs of `scan` or `live` runs (per file, per machine, or the
    /// N parts of one `scan --shard I/N`) and writes what one run over all their inputs would have
    /// written, in any format, with the same exit status rules. Every shard must end with its
    /// summary line, so the output of a killed run is refused.
    #[command(after_help = merge::MERGE_HELP)]
    Merge(Box<merge::MergeArgs>),
    /// Compare the requests of two vantage points: what a middlebox added on the way.
    ///
    /// Pairs each request captured in front of a middlebox (BEFORE) with the same request
    /// behind it (AFTER), without trusting addresses or ports, and reports the headers added,
    /// removed and changed on the way, classed as identifier, operational or other; and the
    /// requests seen on one side only.
    #[command(after_help = diff::DIFF_HELP)]
    Diff(Box<diff::DiffArgs>),
    /// Print the catalogue of header names that carry phone numbers or subscriber IDs.
    ///
    /// Each name with the kind of identifier it carries, who was seen using it, its tier and the
    /// public source; a name not listed also counts when, letters only and lower-cased, it ends
    /// in msisdn, callinglineid, clid or mdn.
    #[command(after_help = "Examples:
  phoneleak headers                                # the table, with sources
  phoneleak headers --format jsonl | jq -r .name   # one name per line
  phoneleak headers --format json > catalogue.json")]
    Headers(HeadersArgs),
    /// Capture on a network interface (needs the `live` build feature).
    ///
    /// This binary was built without live capture: it answers with a message naming the cargo
    /// feature and libpcap, and exit status 2. A capture piped into `phoneleak scan -` works
    /// meanwhile.
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
    ///
    /// This binary was built without live capture: it answers with a message naming the cargo
    /// feature and libpcap, and exit status 2.
    #[cfg(not(feature = "live"))]
    #[command(after_help = "Examples:
  cargo build --release --features live     # a build with live capture (needs libpcap-dev)
  phoneleak interfaces                      # then: name, flags, addresses")]
    Interfaces {
        /// Ignored.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true, hide = true)]
        rest: Vec<String>,
    },
    /// Print a shell completion script to standard output.
    ///
    /// The script completes the commands and options of this version of phoneleak in bash, zsh,
    /// fish, elvish or PowerShell; install it where the shell looks for completions.
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
    ///
    /// Without COMMAND the page of the program; with one, the page of that command, with its
    /// options, examples, exit status and, for scan and live, what each summary counter counts.
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

/// The exit status, for `scan` and `live` (help and the man page).
pub(crate) const EXIT_STATUS: &str = "\
0    no finding counts (none, or all below --min-confidence or in the --baseline)
1    at least one finding counts
2    a usage error, an input that could not be read, or damage that stopped
     reading before the end of a capture (even when leaks were found: they
     are still reported); a capture whose last record is cut short is only
     a warning
130  interrupted (Ctrl-C, SIGTERM) before any capture was read
141  the output pipe was closed (as for a program killed by SIGPIPE)";

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
    #[command(flatten)]
    pub discover: DiscoverArgs,
    /// Analysis threads (default, and 0: one per core, as `zstd -T0` and
    /// `xz -T0`; at most 256). Output is the
    /// same for any number, unless a run reaches --max-flows or --ooo-memcap
    /// (or, on an uncompressed file, --defrag-memcap): those are divided
    /// among the threads, so results may then depend on --threads.
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
    /// Analyse only part I of N of the flows (from 1, like `split -n K/N`):
    /// run it N times, I = 1..N (on N machines), each with --format jsonl -o,
    /// and `phoneleak merge` the N outputs for the report of one scan
    /// (docs/scaling.md). Every part reads and decodes every packet.
    #[arg(long, value_name = "I/N", value_parser = phoneleak::pipeline::Shard::parse)]
    pub shard: Option<phoneleak::pipeline::Shard>,
    /// Also list the files of walked folders that were skipped (not captures,
    /// FIFOs, devices, sockets).
    #[arg(short, long)]
    pub verbose: bool,
    /// Skip named inputs that are empty or not captures as a folder walk
    /// does (counted, --verbose lists them), instead of failing on them: for
    /// map steps that scan a folder's files one by one, so that `merge` of
    /// their outputs gives what one scan of the folder gives (docs/scaling.md).
    #[arg(long)]
    pub skip_non_captures: bool,
    /// Analyse only packets passing this filter (tcpdump syntax, applied to the
    /// outermost frame as `tcpdump -r FILE FILTER` does; needs the `live` build
    /// feature, for libpcap's filter compiler). Packet numbers then count the
    /// packets that passed.
    #[arg(short, long, value_name = "EXPR")]
    pub filter: Option<String>,
}

/// `scan --discover` and its thresholds.
#[derive(Args)]
pub(crate) struct DiscoverArgs {
    /// Also report header names in no registry of standard and common
    /// headers whose identifier-like values follow one value across many
    /// unrelated sites (an unnamed tracking header); rows before the summary.
    #[arg(long)]
    pub discover: bool,
    /// --discover: distinct sites (registrable domains) one value must reach.
    #[arg(long, default_value_t = 3, value_name = "N")]
    pub discover_min_sites: u64,
    /// --discover: requests a header name must be seen in.
    #[arg(long, default_value_t = 3, value_name = "N")]
    pub discover_min_requests: u64,
}

/// Output format of `headers`.
#[derive(Clone, Copy, ValueEnum)]
pub(crate) enum CatalogueFormat {
    /// A readable table.
    Text,
    /// A JSON array of objects.
    Json,
    /// One JSON object per line.
    Jsonl,
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
    /// Write the findings (and, with --format jsonl, the summary) to FILE
    /// (`-`: standard output); a text summary goes to standard error.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Also write a self-contained HTML report to FILE (`-`: standard output,
    /// instead of the findings, which then go to -o FILE if given; the text
    /// summary goes to standard error).
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
    /// Most TCP flows tracked at once (least recently active are evicted);
    /// each of N threads tracks 1/N of them.
    #[arg(long, default_value_t = Limits::default().max_flows, value_name = "N")]
    pub max_flows: usize,
    /// Seconds of capture time after which an idle flow is flushed.
    #[arg(long, default_value_t = Limits::default().idle_timeout_secs, value_name = "SECS")]
    pub flow_timeout: i64,
    /// Out-of-order bytes buffered per flow direction before a hole is skipped.
    #[arg(long, default_value_t = Limits::default().max_ooo_per_direction, value_name = "BYTES")]
    pub max_ooo_bytes: usize,
    /// Out-of-order bytes buffered over all flows; each of N threads holds 1/N.
    #[arg(long, default_value_t = Limits::default().ooo_memcap, value_name = "BYTES")]
    pub ooo_memcap: usize,
    /// Largest request header block; larger ones are reported as truncated.
    #[arg(long, default_value_t = HttpLimits::default().max_head_bytes, value_name = "BYTES")]
    pub max_header_bytes: usize,
    /// Bytes of a request body read for leaks (and most its decoding may
    /// produce); the rest is skipped and counted. 0 reads no body.
    #[arg(long, default_value_t = HttpLimits::default().max_body_bytes, value_name = "BYTES")]
    pub max_body_bytes: usize,
    /// Bytes held for IP fragment reassembly over all datagrams.
    #[arg(long, default_value_t = DefragLimits::default().memcap, value_name = "BYTES")]
    pub defrag_memcap: usize,
    /// Seconds of capture time after which an incomplete fragmented datagram is given up.
    #[arg(long, default_value_t = DefragLimits::default().timeout_secs, value_name = "SECS")]
    pub defrag_timeout: i64,
    /// TLS key log (NSS SSLKEYLOGFILE format, as browsers, curl, mitmproxy,
    /// friTap and eCapture write it) for decrypting HTTPS; repeatable.
    /// Secrets in a pcapng capture's Decryption Secrets Blocks are used
    /// without it.
    #[arg(long, value_name = "FILE")]
    pub keylog: Vec<PathBuf>,
    /// TLS records held over all flows while their keys or the server's
    /// hello are missing; each of N threads holds 1/N.
    #[arg(long, default_value_t = DEFAULT_TLS_HELD_MEMCAP, value_name = "BYTES")]
    pub tls_memcap: usize,
}

/// Default of `--tls-memcap`.
const DEFAULT_TLS_HELD_MEMCAP: usize = 64 << 20;

impl AnalysisArgs {
    /// The secrets of the `--keylog` files, and what reading them counted.
    /// A file that cannot be read is an error naming it (never its content).
    pub fn keys(&self) -> Result<(KeyLog, KeyLogStats), CliError> {
        let mut keys = KeyLog::new();
        let mut stats = KeyLogStats::default();
        for path in &self.keylog {
            let text = std::fs::read(path).map_err(|error| CliError::Read {
                option: "--keylog",
                path: path.clone(),
                error,
            })?;
            keys.add_text(&text, &mut stats);
        }
        Ok((keys, stats))
    }

    /// The analysis settings these options ask for, with the secrets known
    /// before the run.
    pub fn config(&self, min_confidence: Confidence, keys: KeyLog) -> Config {
        Config {
            min_confidence,
            tls: TlsLimits::default(),
            tls_held_memcap: self.tls_memcap,
            keys: Arc::new(keys),
            // Each input says whether it may bring secrets (Config::for_input).
            keys_complete: false,
            flow: Limits {
                max_flows: self.max_flows.max(1),
                idle_timeout_secs: self.flow_timeout,
                max_ooo_per_direction: self.max_ooo_bytes,
                ooo_memcap: self.ooo_memcap,
                ..Limits::default()
            },
            http: HttpLimits {
                max_head_bytes: self.max_header_bytes,
                max_body_bytes: self.max_body_bytes,
                ..HttpLimits::default()
            },
            defrag: DefragLimits {
                memcap: self.defrag_memcap,
                timeout_secs: self.defrag_timeout,
                ..DefragLimits::default()
            },
            shard: phoneleak::pipeline::Shard::default(),
            read_responses: false,
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
    /// exit status. `inputs` names the inputs in the HTML report; with
    /// `multi_file` request lines name their file; `paths` are
    /// the inputs named on the command line, which no output may overwrite.
    /// Fails, before any input is read, when two outputs are one file, a file
    /// cannot be opened for writing or the subject key cannot be read; files
    /// are emptied only by [`Outputs::commit`].
    pub fn sinks(
        &self,
        inputs: Vec<String>,
        paths: &[PathBuf],
        tally: Tally,
        multi_file: bool,
    ) -> Result<(Report<'static>, Outputs), CliError> {
        let key = match &self.subject_key {
            Some(path) => Some(
                SubjectKey::load(path)
                    .map_err(|e| CliError::Usage(format!("--subject-key: {e}")))?,
            ),
            None => None,
        };
        let opts = self.report_options(multi_file);
        let output = self.output.as_deref().filter(|p| !is_stdout(p));
        let html = self.html.as_deref();
        let html_stdout = html.is_some_and(is_stdout);
        if html_stdout && self.output.as_deref().is_some_and(is_stdout) {
            return Err(CliError::Usage(
                "-o - and --html - both name standard output: give one of them a file".into(),
            ));
        }
        // `--html -` without -o: the HTML report is standard output's only content.
        let html_only = html_stdout && self.output.is_none();
        if let (Some(o), Some(h)) = (output, html.filter(|h| !is_stdout(h)))
            && same_file(o, h)
        {
            return Err(CliError::Usage(format!(
                "-o and --html name the same file ({}): give each its own",
                o.display()
            )));
        }
        for out in output.iter().chain(html.filter(|h| !is_stdout(h)).iter()) {
            if let Some(input) = paths.iter().find(|p| same_file(out, p)) {
                return Err(CliError::Usage(format!(
                    "{} is an input and an output: writing the report would destroy it",
                    input.display()
                )));
            }
        }
        let mut outputs = Outputs::default();
        let mut fan = FanOut::new();
        let main = match output {
            _ if html_only => None,
            Some(path) => {
                let (file, handle) = reopen::reopenable(outputs.open(path)?, path);
                outputs.main = Some(handle);
                // A JSON-lines file is a record: it keeps its summary even with --quiet.
                let jsonl = matches!(self.format, Format::Jsonl);
                Some((self.format(BufWriter::new(file), false, opts), jsonl))
            }
            None => {
                let stdout = io::stdout();
                let color = colours_on(&stdout);
                Some((
                    self.format(BufWriter::new(stdout.lock()), color, opts),
                    !self.quiet,
                ))
            }
        };
        match main {
            Some((main, true)) => fan.push(main),
            Some((main, false)) => fan.push(Box::new(FindingsOnly(main))),
            None => {}
        }
        if (output.is_some() || html_only) && !self.quiet {
            let stderr = io::stderr();
            let color = colours_on(&stderr);
            let text = TextSink::new(stderr, opts).with_color(color);
            fan.push(Box::new(SummaryOnly(text)));
        }
        if let Some(path) = html {
            let out: Box<dyn Write + Send> = if is_stdout(path) {
                Box::new(io::stdout())
            } else {
                Box::new(outputs.open(path)?)
            };
            let html = HtmlSink::new(BufWriter::new(out), opts).with_inputs(inputs);
            fan.push(Box::new(html));
        }
        Ok((Report::new(opts, tally, fan).with_subject_key(key), outputs))
    }
}

/// The most analysis threads: more only costs memory (limits are divided
/// among workers) and would fail to spawn on some systems.
const MAX_THREADS: usize = 256;

/// The analysis threads `--threads` asks for: none given or 0 means one per
/// core (`cores`), as `-T0` does for zstd and xz; more than [`MAX_THREADS`]
/// is cut to it with a message (unless `quiet`).
pub(crate) fn thread_count(asked: Option<usize>, cores: usize, quiet: bool) -> usize {
    match asked {
        Some(n) if n > MAX_THREADS => {
            if !quiet {
                say!("phoneleak: --threads {n}: using {MAX_THREADS}, the most");
            }
            MAX_THREADS
        }
        None | Some(0) => cores.clamp(1, MAX_THREADS),
        Some(n) => n,
    }
}

/// `-` as an output: standard output.
fn is_stdout(path: &Path) -> bool {
    path.as_os_str() == "-"
}

/// True when two paths name one file: the same inode when both exist, else
/// the same absolute path.
fn same_file(a: &Path, b: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        if let (Ok(x), Ok(y)) = (std::fs::metadata(a), std::fs::metadata(b)) {
            return x.dev() == y.dev() && x.ino() == y.ino();
        }
    }
    match (std::path::absolute(a), std::path::absolute(b)) {
        (Ok(x), Ok(y)) => x == y,
        _ => a == b,
    }
}

/// The output files of a run, opened (so that an unwritable one fails before
/// any input is read) but not yet emptied: [`Outputs::commit`] empties them
/// once an input has been opened as a capture, so a run that reads nothing
/// (`-o out.txt missing.pcap`) leaves an existing file as it was.
#[derive(Default)]
pub(crate) struct Outputs {
    pending: Vec<File>,
    /// The `-o` file, which `live` reopens on SIGHUP.
    pub main: Option<reopen::ReopenHandle>,
}

impl Outputs {
    fn open(&mut self, path: &Path) -> Result<File, CliError> {
        let file = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
            .map_err(|e| CliError::Create(path.to_path_buf(), e))?;
        // Only regular files are emptied (a FIFO or a device cannot be).
        if file.metadata().is_ok_and(|m| m.is_file()) {
            let handle = file
                .try_clone()
                .map_err(|e| CliError::Create(path.to_path_buf(), e))?;
            self.pending.push(handle);
        }
        Ok(file)
    }

    /// Empties the output files (once; later calls do nothing).
    pub fn commit(&mut self) -> Result<(), CliError> {
        for file in self.pending.drain(..) {
            // Nothing was written yet: the shared file offset is still 0.
            file.set_len(0).map_err(CliError::Write)?;
        }
        Ok(())
    }
}

/// Why a command failed; `run` prints it (one line) and exits with 2, or 141
/// for a closed output pipe.
#[derive(Debug, thiserror::Error)]
pub(crate) enum CliError {
    /// Options that cannot be used (as given or together).
    #[error("{0}")]
    Usage(String),
    /// An output file that cannot be opened for writing.
    #[error("cannot write {}: {}", .0.display(), human_io(.1))]
    Create(PathBuf, io::Error),
    /// A file given in an option that cannot be read.
    #[error("{option} {}: {}", path.display(), human_io(error))]
    Read {
        /// The option that names the file.
        option: &'static str,
        /// The file.
        path: PathBuf,
        /// Why it cannot be read.
        error: io::Error,
    },
    /// Writing the report failed.
    #[error("cannot write the report: {}", human_io(.0))]
    Write(#[from] io::Error),
    /// The errors were printed already; the status is 2.
    #[error("")]
    Reported,
}

/// The exit status of a run that produced a report, for `scan` and `live`
/// alike: 2 when an input could not be read to its end (damage, not a cut
/// last record), else `leak_status` (`--exit-code`, 1 by default) when a
/// finding counts (at or above `--min-confidence`, not in the `--baseline`),
/// else 0. Leaks found before
/// damage are still reported; the 2 wins so a gate sees the unread part.
pub(crate) fn exit_status(input_failed: bool, new_leaks: u64, leak_status: u8) -> u8 {
    if input_failed {
        2
    } else if new_leaks > 0 {
        leak_status
    } else {
        0
    }
}

/// What the detection options ask for: the detector (known numbers, region)
/// and the baseline. Shared by `scan` and `live`.
pub(crate) fn detection(args: &DetectionArgs) -> Result<(Detector, Option<Baseline>), CliError> {
    let region = match &args.region {
        Some(code) => Some(Region::parse(code).ok_or_else(|| {
            let known: Vec<&str> = Region::codes().collect();
            CliError::Usage(format!(
                "--region {code}: unknown region; known: {}",
                known.join(" ")
            ))
        })?),
        None => None,
    };
    let mut numbers: Vec<PhoneNumber> = Vec::new();
    for n in &args.numbers {
        numbers.push(
            user_number(n, region).map_err(|e| CliError::Usage(format!("--number {n}: {e}")))?,
        );
    }
    if let Some(path) = &args.numbers_file {
        let text = std::fs::read_to_string(path).map_err(|error| CliError::Read {
            option: "--numbers-file",
            path: path.clone(),
            error,
        })?;
        for (i, line) in text.lines().enumerate() {
            let line = line.split('#').next().unwrap_or("").trim();
            if line.is_empty() {
                continue;
            }
            numbers.push(user_number(line, region).map_err(|e| {
                CliError::Usage(format!("{}, line {}: {line}: {e}", path.display(), i + 1))
            })?);
        }
    }
    numbers.sort_by_key(PhoneNumber::e164);
    numbers.dedup();
    let known = KnownNumbers::new(numbers).map_err(|e| CliError::Usage(e.to_string()))?;
    let baseline = match args.baseline.as_deref().map(Baseline::load) {
        Some(Ok(b)) => Some(b),
        Some(Err(e)) => {
            return Err(CliError::Usage(format!(
                "--baseline: {}",
                strip_os_error(&e.to_string())
            )));
        }
        None => None,
    };
    Ok((Detector::with(region, known), baseline))
}

/// Reads a number the user gave: international, or national with `region`.
fn user_number(text: &str, region: Option<Region>) -> Result<PhoneNumber, &'static str> {
    match number::parse(text, region) {
        Some(p) => p
            .number
            .ok_or("a national number: give it as +CC... or name its region with --region"),
        None => Err("not a phone number (expected e.g. +447700900123)"),
    }
}

/// Colours on a terminal only, and never with `NO_COLOR` set (anstream's
/// reading of `NO_COLOR`, `CLICOLOR`, `TERM`).
fn colours_on<S: IsTerminal + anstream::stream::RawStream>(stream: &S) -> bool {
    IsTerminal::is_terminal(stream)
        && anstream::AutoStream::choice(stream) != anstream::ColorChoice::Never
}

/// One message line on standard error (see `say!`): the whole message is
/// shown through [`Printable`], the messages' own text has no control characters.
#[allow(clippy::print_stderr)]
pub(crate) fn say(message: std::fmt::Arguments<'_>) {
    match message.as_str() {
        Some(text) => eprintln!("{}", Printable(text)),
        None => eprintln!("{}", Printable(&message.to_string())),
    }
}

/// Parses the command line and runs the command.
pub fn run() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Scan(args) => scan::run(&args),
        Command::Merge(args) => merge::run(&args),
        Command::Diff(args) => diff::run(&args),
        Command::Completions { shell } => shell::completions(shell),
        Command::Man { command } => shell::man(command.as_deref()),
        Command::Headers(args) => headers::run(&args),
        #[cfg(feature = "live")]
        Command::Live(args) => live::run(&args),
        #[cfg(feature = "live")]
        Command::Interfaces => live::interfaces(),
        #[cfg(not(feature = "live"))]
        Command::Live { .. } | Command::Interfaces { .. } => {
            say!("{NO_LIVE}");
            return ExitCode::from(2);
        }
    };
    ExitCode::from(status(result))
}

/// The exit status of a command's outcome, printing its error. A closed
/// output pipe (`phoneleak scan f.pcap | head -1`) gives 141, the status of
/// a program killed by SIGPIPE, as grep or tcpdump would: never 0, whatever
/// was found.
fn status(result: Result<u8, CliError>) -> u8 {
    match result {
        Ok(code) => code,
        Err(CliError::Write(e)) if e.kind() == io::ErrorKind::BrokenPipe => SIGPIPE_STATUS,
        Err(CliError::Reported) => 2,
        Err(e) => {
            say!("phoneleak: {e}");
            2
        }
    }
}

/// 128 + SIGPIPE (13), what a shell reports for a program killed by SIGPIPE.
pub(crate) const SIGPIPE_STATUS: u8 = 141;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_exit_status_rule() {
        assert_eq!(exit_status(false, 0, 1), 0);
        assert_eq!(exit_status(false, 3, 1), 1);
        assert_eq!(exit_status(false, 3, 0), 0);
        assert_eq!(exit_status(false, 0, 7), 0);
        assert_eq!(exit_status(false, 3, 7), 7);
        // Damage before the end wins over leaks.
        assert_eq!(exit_status(true, 3, 1), 2);
        assert_eq!(exit_status(true, 3, 0), 2);
        assert_eq!(exit_status(true, 0, 1), 2);
        let pipe = io::Error::from(io::ErrorKind::BrokenPipe);
        assert_eq!(status(Err(CliError::Write(pipe))), SIGPIPE_STATUS);
        assert_eq!(status(Err(CliError::Reported)), 2);
        assert_eq!(status(Ok(1)), 1);
    }

    #[test]
    fn threads_zero_means_one_per_core() {
        assert_eq!(thread_count(Some(0), 8, true), 8);
        assert_eq!(thread_count(None, 8, true), 8);
        assert_eq!(thread_count(Some(3), 8, true), 3);
        assert_eq!(thread_count(Some(0), 0, true), 1);
        assert_eq!(thread_count(None, 1000, true), MAX_THREADS);
        assert_eq!(thread_count(Some(100_000), 8, true), MAX_THREADS);
    }

    #[test]
    fn same_file_sees_through_spellings() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a.txt");
        std::fs::write(&a, "x").unwrap();
        let dotted = dir.path().join(".").join("a.txt");
        assert!(same_file(&a, &dotted));
        assert!(!same_file(&a, &dir.path().join("b.txt")));
        // Neither exists: compared as absolute paths.
        assert!(same_file(Path::new("new.html"), Path::new("./new.html")));
        assert!(is_stdout(Path::new("-")) && !is_stdout(Path::new("./-")));
    }

    #[test]
    fn cli_errors_read_as_one_line_without_os_error() {
        let e = CliError::Create(PathBuf::from("/no/such/x"), io::Error::from_raw_os_error(2));
        assert_eq!(
            e.to_string(),
            "cannot write /no/such/x: No such file or directory"
        );
    }
}
