//! `phoneleak live`: an interface → pipeline → report, until a signal,
//! `--duration` or `--count`; and `phoneleak interfaces`. Built with the `live`
//! cargo feature only.
use std::io::{self, BufWriter, IsTerminal, Write};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use clap::Args;
use indicatif::{HumanBytes, ProgressBar, ProgressDrawTarget, ProgressStyle, TermLike};

use phoneleak::capture::live::{
    self, DEFAULT_SNAPLEN, LiveCapture, LiveError, LiveOptions, StopHandle,
};
use phoneleak::capture::{CaptureStats, KeyLogFollower};
use phoneleak::pipeline::{self, Feed, Record};
use phoneleak::report::{BaselineInfo, InputError, Severity, Sink, Summary, Tally};
use phoneleak::time::Timestamp;
use phoneleak::tls::{KeyLog, KeyLogStats};

use super::{AnalysisArgs, CliError, DetectionArgs, OutputArgs, detection, exit_status};

/// Shown after `phoneleak live --help`.
pub(crate) const LIVE_HELP: &str = "Examples:
  sudo phoneleak live -i eth0
  sudo phoneleak live -i any -f 'tcp' --duration 10m --format jsonl > leaks.jsonl
  sudo phoneleak live -i wlan0 --user nobody
  phoneleak interfaces

Ctrl-C or SIGTERM, --duration and --count stop the capture; every flow is then flushed and the
summary printed (with the kernel's drop counts). A second Ctrl-C exits at once. SIGHUP reopens the
-o file (for logrotate: rename it, then send SIGHUP).

Several sensors on one interface (Linux): start each with the same --fanout GROUP; the kernel
gives each whole flows, and together they report what one process would (docs/live-sensors.md):
  sudo phoneleak live -i eth0 --fanout 42 --format jsonl -o /var/log/phoneleak/1.jsonl &
  sudo phoneleak live -i eth0 --fanout 42 --format jsonl -o /var/log/phoneleak/2.jsonl &

Privileges: run as root, optionally with --user NAME to drop to that user once the interface is
open, or grant the binary the capture capabilities instead:
  sudo setcap cap_net_raw,cap_net_admin=eip $(command -v phoneleak)

Exit status: as for scan: 0 no leak, 1 at least one leak that counts (at or above
--min-confidence, not in the --baseline), 2 a usage or capture error (also when leaks were found).";

/// How often the status line, the capture counters and the pcap file are refreshed.
const TICK: Duration = Duration::from_secs(1);
/// How often the `--keylog` files are checked for appended lines (a
/// connection whose keys come later waits for them, holding its records).
const KEY_LOG_POLL: Duration = Duration::from_millis(100);

/// The secrets of the `--keylog` files' whole lines now, what reading them
/// counted, and a follower of each file for the lines a browser appends
/// while the capture runs.
fn followed_keys(
    args: &AnalysisArgs,
) -> Result<(KeyLog, KeyLogStats, Vec<KeyLogFollower>), CliError> {
    let mut keys = KeyLog::new();
    let mut stats = KeyLogStats::default();
    let mut followers = Vec::new();
    for path in &args.keylog {
        let (text, follower) = KeyLogFollower::open(path).map_err(|error| CliError::Read {
            option: "--keylog",
            path: path.clone(),
            error,
        })?;
        keys.add_text(&text, &mut stats);
        followers.push(follower);
    }
    Ok((keys, stats, followers))
}

/// Hands the lines appended to the key logs to the analysis. A key log that
/// cannot be read any more is reported once and no longer followed.
fn follow_key_logs(followers: &mut Vec<KeyLogFollower>, feed: &mut dyn Feed) {
    followers.retain_mut(|f| match f.poll() {
        Ok(Some(secrets)) => {
            feed.secrets(secrets);
            true
        }
        Ok(None) => true,
        Err(e) => {
            say!(
                "phoneleak: --keylog {}: {} (no longer followed)",
                f.path().display(),
                super::human_io(&e)
            );
            false
        }
    });
}

#[derive(Args)]
pub(crate) struct LiveArgs {
    /// Interface to capture on (`any`: all of them); default: libpcap's first up, non-loopback one.
    #[arg(short, long, value_name = "NAME")]
    pub interface: Option<String>,
    /// Capture filter in tcpdump (BPF) syntax, e.g. 'tcp port 80'.
    #[arg(short, long, value_name = "EXPR")]
    pub filter: Option<String>,
    /// Bytes kept of each packet (default: whole packets).
    #[arg(long, default_value_t = DEFAULT_SNAPLEN, value_name = "BYTES",
          value_parser = clap::value_parser!(u32).range(1..=i64::from(DEFAULT_SNAPLEN)))]
    pub snaplen: u32,
    /// Do not put the interface into promiscuous mode.
    #[arg(long)]
    pub no_promisc: bool,
    /// Kernel capture buffer, e.g. 64M (K, M, G: binary units). libpcap's own
    /// default (2 MiB) holds only 8 whole-packet frames on `any` in immediate mode.
    #[arg(long, value_name = "SIZE", value_parser = parse_size, default_value = "32M")]
    pub buffer_size: u32,
    /// Hand each packet over at once instead of in batches.
    #[arg(long)]
    pub immediate: bool,
    /// Stop after this long, e.g. 30s, 10m, 1h, 1h30m (a bare number is seconds).
    #[arg(long, value_name = "TIME", value_parser = parse_duration)]
    pub duration: Option<Duration>,
    /// Stop after this many packets.
    #[arg(long, value_name = "N")]
    pub count: Option<u64>,
    /// Also write every captured packet to this pcap file.
    #[arg(long, value_name = "FILE")]
    pub write_pcap: Option<PathBuf>,
    /// Once the interface is open, drop root to this user and its group (like tcpdump -Z).
    #[arg(long, value_name = "NAME")]
    pub user: Option<String>,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub detection: DetectionArgs,
    #[command(flatten)]
    pub analysis: AnalysisArgs,
    /// Analysis threads behind the capture thread (default, and 0: one per
    /// core, as `zstd -T0`; at most 256). Findings are the same, in the same order, for any number, unless
    /// --max-flows or --ooo-memcap is reached (they are divided among threads).
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
    /// Share the interface with the other processes given the same GROUP
    /// (0-65535; Linux PACKET_FANOUT, flow hash): each sees whole flows.
    #[arg(long, value_name = "GROUP")]
    pub fanout: Option<u16>,
    /// Every SECS seconds, write a `stats` line (the counters so far and the
    /// capture's) where the summary goes, e.g. 60 or 5m.
    #[arg(long, value_name = "SECS", value_parser = parse_duration)]
    pub stats_interval: Option<Duration>,
}

/// Runs `live`; returns the exit status.
pub(crate) fn run(args: &LiveArgs) -> Result<u8, CliError> {
    let (detector, baseline) = detection(&args.detection)?;
    let min_confidence = args.detection.min_confidence.level();
    let interface = match &args.interface {
        Some(name) => name.clone(),
        None => match live::default_interface() {
            Ok(Some(name)) => name,
            Ok(None) => {
                say!(
                    "phoneleak: no interface to capture on: name one with -i \
                     (`phoneleak interfaces` lists them)"
                );
                return Ok(2);
            }
            Err(e) => {
                say!("phoneleak: {e}");
                return Ok(2);
            }
        },
    };
    let opts = LiveOptions {
        filter: args.filter.clone(),
        snaplen: args.snaplen,
        promiscuous: !args.no_promisc,
        buffer_size: Some(args.buffer_size),
        immediate: args.immediate,
        fanout: args.fanout,
        ..LiveOptions::new(interface)
    };
    let mut cap = match start(args, &opts) {
        Ok(cap) => cap,
        Err(message) => {
            say!("phoneleak: {message}");
            return Ok(2);
        }
    };
    let (stop, hup) = match on_signals(cap.stop_handle()) {
        Ok(flags) => flags,
        Err(e) => {
            say!("phoneleak: cannot handle Ctrl-C: {e}");
            return Ok(2);
        }
    };
    let fanout = args
        .fanout
        .map(|g| format!(", fanout group {g}"))
        .unwrap_or_default();
    say!(
        "phoneleak: capturing on {} (link type {}, snapshot length {} bytes{fanout})",
        cap.interface(),
        cap.link_type(),
        args.snaplen
    );

    let tally = Tally::new(args.output.show_numbers, baseline);
    let (mut sink, mut outputs) =
        args.output
            .sinks(vec![cap.interface().to_string()], &[], tally, false)?;
    // The interface is open: the outputs may be emptied.
    outputs.commit()?;
    // Request lines name the interface; packet numbers count from the first captured.
    sink.set_input(Some(cap.interface().to_string()));
    let detector = Arc::new(detector);
    let threads = super::thread_count(args.threads, pipeline::default_threads(), false);
    let status = status_line();
    let mut write_error: Option<io::Error> = None;
    let mut failure: Option<LiveError> = None;
    let deadline = args.duration.and_then(|d| Instant::now().checked_add(d));
    let mut next_tick = Instant::now() + TICK;
    let mut next_keys = Instant::now() + KEY_LOG_POLL;
    let mut packets = 0u64;
    let started = Instant::now();
    let mut next_stats = args.stats_interval.map(|d| started + d);
    let stats_to = stats_stream(&args.output, outputs.main.clone());
    let jsonl = matches!(args.output.format, super::Format::Jsonl);

    let (keys, keylog_stats, mut followers) = followed_keys(&args.analysis)?;
    let mut config = args.analysis.config(min_confidence, keys);
    // A live capture brings no Decryption Secrets Blocks: secrets can arrive
    // only by a followed key log.
    config.keys_complete = followers.is_empty();
    let mut stats = pipeline::stream(threads, config, &detector, |feed| {
        loop {
            if stop.load(Ordering::SeqCst)
                || deadline.is_some_and(|d| Instant::now() >= d)
                || args.count.is_some_and(|n| packets >= n)
            {
                break;
            }
            let mut on_finding = |r: Record| {
                let Record::Finding(f) = r else { return };
                if write_error.is_none()
                    && let Err(e) = status.suspend(|| sink.finding(&f))
                {
                    write_error = Some(e);
                }
            };
            match cap.next_packet() {
                Ok(Some(packet)) => {
                    feed.packet(&packet, &mut on_finding);
                    packets += 1;
                }
                // No packet for a while: capture time still passes for idle flows.
                Ok(None) => feed.tick(wall_clock(), &mut on_finding),
                Err(e) => {
                    failure = Some(e);
                    break;
                }
            }
            if write_error.is_some() {
                break;
            }
            if hup.swap(false, Ordering::SeqCst) {
                // The sinks flush after every line: nothing is buffered, so
                // every finding so far is in the old file, every later one in the new.
                match &outputs.main {
                    Some(main) => {
                        if let Err(e) = main.reopen() {
                            say!(
                                "phoneleak: SIGHUP: cannot reopen {}: {} (still writing to the old file)",
                                main.path().display(),
                                super::human_io(&e)
                            );
                        }
                    }
                    None => say!("phoneleak: SIGHUP: no -o file to reopen"),
                }
            }
            if let (Some(at), Some(every)) = (next_stats, args.stats_interval)
                && Instant::now() >= at
            {
                next_stats = Some(Instant::now() + every);
                let line = stats_line(jsonl, started, feed, &cap.stats());
                if let Err(e) = status.suspend(|| stats_to.write(&line)) {
                    write_error = Some(e);
                    break;
                }
            }
            if Instant::now() >= next_keys {
                next_keys = Instant::now() + KEY_LOG_POLL;
                follow_key_logs(&mut followers, feed);
            }
            if Instant::now() >= next_tick {
                next_tick = Instant::now() + TICK;
                if let Err(e) = cap.flush_savefile() {
                    failure = Some(e);
                    break;
                }
                if !status.is_hidden() {
                    show_status(&status, feed, &cap.stats());
                }
            }
        }
        status.finish_and_clear();

        // Stopped: report what every flow still holds.
        feed.finish(&mut |r: Record| {
            let Record::Finding(f) = r else { return };
            if write_error.is_none()
                && let Err(e) = sink.finding(&f)
            {
                write_error = Some(e);
            }
        })
    });
    if let Err(e) = cap.flush_savefile() {
        failure.get_or_insert(e);
    }
    let capture = cap.stats();
    drop(cap);
    if let Some(e) = write_error {
        return Err(CliError::Write(e));
    }

    let mut errors = Vec::new();
    if let Some(e) = &failure {
        say!("phoneleak: error: {e}");
        errors.push(InputError {
            file: capture.interface.clone(),
            offset: None,
            error: e.to_string(),
            partial: true,
            severity: Severity::Error,
            went_on: false,
        });
    }
    if capture.dropped_kernel > 0 {
        say!(
            "phoneleak: warning: the kernel dropped {} packets (capture buffer full); \
             leaks in them were missed: try a larger --buffer-size or a narrower --filter",
            capture.dropped_kernel
        );
    }
    stats.keylog.absorb(&keylog_stats);
    let tally = sink.tally();
    let new_leaks = tally.new_leaks;
    let baseline = tally.baseline().map(|b| BaselineInfo {
        file: b.file().to_string(),
        entries: b.len() as u64,
        leaks_in_baseline: tally.leaks_in_baseline,
    });
    sink.summary(&Summary {
        files: 0,
        capture: Some(capture),
        stats,
        min_confidence,
        new_leaks,
        baseline,
        errors,
        shard: None,
        skipped: Vec::new(),
    })?;
    io::stdout().flush()?;
    Ok(exit_status(
        failure.is_some(),
        new_leaks,
        args.output.exit_code,
    ))
}

/// Opens the capture, drops privileges, opens the pcap file: the steps before
/// capturing, each failing with a message for the user.
fn start(args: &LiveArgs, opts: &LiveOptions) -> Result<LiveCapture, String> {
    let mut cap = LiveCapture::open(opts).map_err(|e| e.to_string())?;
    drop_privileges(args.user.as_deref())?;
    // Opened after the drop, like tcpdump -Z: the file belongs to that user.
    if let Some(path) = &args.write_pcap {
        cap.write_to(path).map_err(|e| e.to_string())?;
    }
    Ok(cap)
}

/// Runs `phoneleak interfaces`: name, description, flags and addresses of each interface.
pub(crate) fn interfaces() -> Result<u8, CliError> {
    let list = match live::interfaces() {
        Ok(list) => list,
        Err(e) => {
            say!("phoneleak: {e}");
            return Ok(2);
        }
    };
    let mut out = BufWriter::new(io::stdout().lock());
    for i in &list {
        let flags = if i.flags.is_empty() {
            "-".to_string()
        } else {
            i.flags.join(", ")
        };
        writeln!(out, "{:<16} {flags}", i.name)?;
        if let Some(d) = &i.description {
            writeln!(out, "{:<16} {d}", "")?;
        }
        for (addr, prefix) in &i.addresses {
            let prefix = prefix.map(|p| format!("/{p}")).unwrap_or_default();
            writeln!(out, "{:<16} {addr}{prefix}", "")?;
        }
    }
    out.flush()?;
    Ok(0)
}

/// SIGINT and SIGTERM: the first stops the capture, a second exits at once.
/// SIGHUP sets the second flag: reopen the `-o` file. (A SIGTERM is seen by
/// the loop within the read timeout; SIGINT also breaks the read at once.)
fn on_signals(handle: StopHandle) -> Result<(Arc<AtomicBool>, Arc<AtomicBool>), String> {
    use signal_hook::consts::{SIGHUP, SIGTERM};
    let stop = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&stop);
    ctrlc::set_handler(move || {
        if flag.swap(true, Ordering::SeqCst) {
            say!("");
            say!("phoneleak: interrupted again: exiting without the summary");
            std::process::exit(130);
        }
        handle.stop();
    })
    .map_err(|e| e.to_string())?;
    // Registered first, so it sees the flag before this signal sets it.
    signal_hook::flag::register_conditional_shutdown(SIGTERM, 130, Arc::clone(&stop))
        .and_then(|_| signal_hook::flag::register(SIGTERM, Arc::clone(&stop)))
        .map_err(|e| format!("SIGTERM: {e}"))?;
    let hup = Arc::new(AtomicBool::new(false));
    signal_hook::flag::register(SIGHUP, Arc::clone(&hup)).map_err(|e| format!("SIGHUP: {e}"))?;
    Ok((stop, hup))
}

/// Where `stats` lines go: where the summary goes (the `-o` file for JSON
/// lines, else standard error when -o is a file or with --quiet, else standard output).
enum StatsStream {
    File(super::reopen::ReopenHandle),
    Stdout,
    Stderr,
}

fn stats_stream(output: &OutputArgs, main: Option<super::reopen::ReopenHandle>) -> StatsStream {
    match main {
        Some(file) if matches!(output.format, super::Format::Jsonl) => StatsStream::File(file),
        Some(_) => StatsStream::Stderr,
        None if output.quiet => StatsStream::Stderr,
        None => StatsStream::Stdout,
    }
}

impl StatsStream {
    fn write(&self, line: &str) -> io::Result<()> {
        match self {
            StatsStream::File(file) => file.write_line(line.as_bytes()),
            StatsStream::Stdout => {
                let mut out = io::stdout().lock();
                out.write_all(line.as_bytes())?;
                out.flush()
            }
            StatsStream::Stderr => io::stderr().write_all(line.as_bytes()),
        }
    }
}

/// The `stats` line of `--stats-interval` (docs/output.md), newline included.
#[derive(serde::Serialize)]
struct StatsLine<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    time: String,
    uptime_secs: u64,
    active_flows: usize,
    capture: &'a CaptureStats,
    #[serde(flatten)]
    stats: pipeline::Stats,
}

fn stats_line(jsonl: bool, started: Instant, feed: &dyn Feed, capture: &CaptureStats) -> String {
    let s = feed.stats();
    let uptime_secs = started.elapsed().as_secs();
    if jsonl {
        let line = StatsLine {
            kind: "stats",
            time: wall_clock().rfc3339().to_string(),
            uptime_secs,
            active_flows: feed.active_flows(),
            capture,
            stats: s,
        };
        let mut text = serde_json::to_string(&line).unwrap_or_default();
        text.push('\n');
        text
    } else {
        format!(
            "stats {} uptime {uptime_secs}s packets {} bytes {} flows {} requests {} \
             leaking_requests {} leaks {} received {} dropped_kernel {} dropped_interface {}\n",
            wall_clock().rfc3339(),
            s.packets,
            s.bytes,
            feed.active_flows(),
            s.http.requests,
            s.leaking_requests,
            s.leaks,
            capture.received,
            capture.dropped_kernel,
            capture.dropped_interface
        )
    }
}

/// Gives up root (or file capabilities) once the capture handle is open.
///
/// With `--user NAME`: no supplementary groups, then that user's group and
/// user ids (real, effective and saved), which also clears every capability.
/// Without it, a non-root process (a binary given CAP_NET_RAW with setcap)
/// clears its capabilities: they were needed only to open the interface.
/// Either way no later exec can regain privileges (no_new_privs).
fn drop_privileges(user: Option<&str>) -> Result<(), String> {
    use nix::unistd::{self, User};
    match user {
        Some(name) => {
            let user = User::from_name(name)
                .map_err(|e| format!("--user: cannot look up user {name}: {e}"))?
                .ok_or_else(|| format!("--user: no such user: {name}"))?;
            if !unistd::geteuid().is_root() {
                return Err(format!(
                    "--user {name} needs root (this process runs as uid {})",
                    unistd::geteuid()
                ));
            }
            unistd::setgroups(&[])
                .map_err(|e| format!("--user: cannot drop supplementary groups: {e}"))?;
            unistd::setresgid(user.gid, user.gid, user.gid)
                .map_err(|e| format!("--user: cannot switch to group {}: {e}", user.gid))?;
            unistd::setresuid(user.uid, user.uid, user.uid)
                .map_err(|e| format!("--user: cannot switch to user {name}: {e}"))?;
            clear_capabilities()
        }
        None if !unistd::geteuid().is_root() => clear_capabilities(),
        None => Ok(()),
    }
}

/// Empties the capability sets and sets no_new_privs.
fn clear_capabilities() -> Result<(), String> {
    use caps::CapSet;
    for set in [CapSet::Effective, CapSet::Permitted, CapSet::Inheritable] {
        caps::clear(None, set).map_err(|e| format!("cannot drop capabilities: {e}"))?;
    }
    nix::sys::prctl::set_no_new_privs().map_err(|e| format!("cannot set no_new_privs: {e}"))
}

/// The status line: drawn on stderr only when it is a terminal.
fn status_line() -> ProgressBar {
    if !io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let target = ProgressDrawTarget::term_like(Box::new(NarrowTerm(console::Term::stderr())));
    let bar = ProgressBar::with_draw_target(None, target);
    if let Ok(style) = ProgressStyle::with_template("{spinner} {elapsed} {msg}") {
        bar.set_style(style);
    }
    bar.set_message("waiting for packets");
    bar
}

/// The terminal on stderr, reported 3 columns narrower than it is. indicatif pads
/// the status line to the full width, and the terminal's `^C` echo would then
/// wrap to a new line, leaving the status line on screen after the capture stops.
#[derive(Debug)]
struct NarrowTerm(console::Term);

impl TermLike for NarrowTerm {
    fn width(&self) -> u16 {
        self.0.size().1.saturating_sub(3).max(1)
    }
    fn height(&self) -> u16 {
        self.0.size().0
    }
    fn move_cursor_up(&self, n: usize) -> io::Result<()> {
        self.0.move_cursor_up(n)
    }
    fn move_cursor_down(&self, n: usize) -> io::Result<()> {
        self.0.move_cursor_down(n)
    }
    fn move_cursor_right(&self, n: usize) -> io::Result<()> {
        self.0.move_cursor_right(n)
    }
    fn move_cursor_left(&self, n: usize) -> io::Result<()> {
        self.0.move_cursor_left(n)
    }
    fn write_line(&self, s: &str) -> io::Result<()> {
        self.0.write_line(s)
    }
    fn write_str(&self, s: &str) -> io::Result<()> {
        self.0.write_str(s)
    }
    fn clear_line(&self) -> io::Result<()> {
        self.0.clear_line()
    }
    fn flush(&self) -> io::Result<()> {
        self.0.flush()
    }
}

fn show_status(bar: &ProgressBar, feed: &dyn Feed, capture: &CaptureStats) {
    let s = feed.stats();
    bar.set_message(format!(
        "packets {}  bytes {}  flows {}  requests {}  leaks {}  kernel drops {}",
        s.packets,
        HumanBytes(s.bytes),
        feed.active_flows(),
        s.http.requests,
        s.leaks,
        capture.dropped_kernel
    ));
    bar.tick();
}

/// Now, as a capture timestamp (the kernel stamps live packets with this clock).
fn wall_clock() -> Timestamp {
    let d = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    Timestamp::from_parts(
        i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        d.subsec_nanos(),
    )
}

/// Parses `30s`, `10m`, `1h`, `1h30m`, `500ms`, `2d`; a bare number is seconds.
fn parse_duration(text: &str) -> Result<Duration, String> {
    let s = text.trim();
    let bad = |why: &str| format!("invalid duration {text:?}: {why} (e.g. 30s, 10m, 1h, 1h30m)");
    let total = if let Ok(secs) = s.parse::<u64>() {
        Duration::from_secs(secs)
    } else {
        let mut total = Duration::ZERO;
        let mut rest = s;
        while !rest.is_empty() {
            let digits = rest
                .find(|c: char| !c.is_ascii_digit())
                .unwrap_or(rest.len());
            let (number, tail) = rest.split_at(digits);
            let letters = tail
                .find(|c: char| c.is_ascii_digit())
                .unwrap_or(tail.len());
            let (unit, next) = tail.split_at(letters);
            let n: u64 = number.parse().map_err(|_| bad("expected a number"))?;
            let part = match unit {
                "ms" => Some(Duration::from_millis(n)),
                "s" | "sec" => Some(Duration::from_secs(n)),
                "m" | "min" => n.checked_mul(60).map(Duration::from_secs),
                "h" => n.checked_mul(3600).map(Duration::from_secs),
                "d" => n.checked_mul(86_400).map(Duration::from_secs),
                "" => return Err(bad("a unit is missing")),
                _ => return Err(bad("unknown unit")),
            };
            total = part
                .and_then(|p| total.checked_add(p))
                .ok_or_else(|| bad("too long"))?;
            rest = next;
        }
        total
    };
    if total.is_zero() {
        return Err(bad("must be longer than zero"));
    }
    Ok(total)
}

/// Parses a byte count with an optional binary unit: `4194304`, `512K`, `64M`, `1G`, `64MiB`.
fn parse_size(text: &str) -> Result<u32, String> {
    let s = text.trim();
    let bad = |why: &str| format!("invalid size {text:?}: {why} (e.g. 64M)");
    let s = s
        .strip_suffix("iB")
        .or_else(|| s.strip_suffix('B'))
        .unwrap_or(s);
    let (number, shift) = match s.char_indices().last() {
        Some((i, 'k' | 'K')) => (s.get(..i), 10),
        Some((i, 'm' | 'M')) => (s.get(..i), 20),
        Some((i, 'g' | 'G')) => (s.get(..i), 30),
        _ => (Some(s), 0),
    };
    let n: u64 = number
        .unwrap_or("")
        .parse()
        .map_err(|_| bad("expected a number"))?;
    let bytes = n
        .checked_shl(shift)
        .filter(|b| b >> shift == n)
        .ok_or_else(|| bad("too large"))?;
    // libpcap takes an int.
    let bytes = u32::try_from(bytes)
        .ok()
        .filter(|b| i32::try_from(*b).is_ok())
        .ok_or_else(|| bad("at most 2047M"))?;
    if bytes == 0 {
        return Err(bad("must be more than zero"));
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        let secs = |s: &str| parse_duration(s).map(|d| d.as_millis());
        assert_eq!(secs("30s"), Ok(30_000));
        assert_eq!(secs("10m"), Ok(600_000));
        assert_eq!(secs("1h"), Ok(3_600_000));
        assert_eq!(secs("1h30m"), Ok(5_400_000));
        assert_eq!(secs("2d"), Ok(172_800_000));
        assert_eq!(secs("500ms"), Ok(500));
        assert_eq!(secs("45"), Ok(45_000));
        assert_eq!(secs(" 3min "), Ok(180_000));
        for bad in ["", "0", "0s", "s", "10x", "1h30", "-5s", "1.5h", "h1"] {
            assert!(parse_duration(bad).is_err(), "{bad:?} should be refused");
        }
        assert!(parse_duration("99999999999999999999d").is_err());
        assert!(parse_duration("999999999999999999h").is_err());
        let message = parse_duration("10x").unwrap_err();
        assert!(message.contains("unknown unit") && message.contains("10m"));
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("4194304"), Ok(4_194_304));
        assert_eq!(parse_size("512K"), Ok(512 << 10));
        assert_eq!(parse_size("64M"), Ok(64 << 20));
        assert_eq!(parse_size("64MiB"), Ok(64 << 20));
        assert_eq!(parse_size("1g"), Ok(1 << 30));
        assert_eq!(parse_size("2047M"), Ok(2047 << 20));
        for bad in ["", "0", "2G", "4096G", "M", "1.5M", "-1", "12X"] {
            assert!(parse_size(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn wall_clock_is_now() {
        let now = wall_clock();
        assert!(now.secs() > 1_700_000_000);
    }

    #[test]
    fn arguments_parse() {
        use clap::Parser;
        let cli = super::super::Cli::try_parse_from([
            "phoneleak",
            "live",
            "-i",
            "any",
            "-f",
            "tcp port 80",
            "--duration",
            "10m",
            "--count",
            "5",
            "--buffer-size",
            "64M",
            "--no-promisc",
            "--immediate",
            "--format",
            "jsonl",
            "--max-flows",
            "10",
            "--fanout",
            "65535",
            "--stats-interval",
            "5m",
        ])
        .unwrap();
        let super::super::Command::Live(args) = cli.command else {
            panic!("not live");
        };
        assert_eq!(args.interface.as_deref(), Some("any"));
        assert_eq!(args.filter.as_deref(), Some("tcp port 80"));
        assert_eq!(args.duration, Some(Duration::from_secs(600)));
        assert_eq!(args.count, Some(5));
        assert_eq!(args.buffer_size, 64 << 20);
        assert_eq!(args.snaplen, DEFAULT_SNAPLEN);
        assert!(args.no_promisc && args.immediate);
        assert_eq!(args.analysis.max_flows, 10);
        assert_eq!(args.fanout, Some(65535));
        assert_eq!(args.stats_interval, Some(Duration::from_secs(300)));
        for bad in [
            &["phoneleak", "live", "--snaplen", "0"][..],
            &["phoneleak", "live", "--duration", "soon"],
            &["phoneleak", "live", "--fanout", "65536"],
            &["phoneleak", "live", "--stats-interval", "0"],
        ] {
            assert!(super::super::Cli::try_parse_from(bad).is_err());
        }
    }
}
