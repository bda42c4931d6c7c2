//! Output: the JSON-lines contract for programs, a text report for people and
//! a self-contained HTML report to share.
//!
//! In: [`Finding`]s and the run's [`Summary`]. Out: lines on a writer (or, for
//! HTML, one document at the end). Phone numbers and identifiers are masked
//! unless [`ReportOptions::show_numbers`]: in leak values, in every header
//! value and in the request target (a number found in a cookie or the query is
//! masked wherever it appears), and in the aggregate tables. Each sink keeps a
//! [`Tally`] (who received which number; the baseline comparison) and writes
//! it before the summary. The JSON-lines format is specified in
//! `docs/output.md`. Sinks combine: [`FanOut`] feeds several, and
//! [`FindingsOnly`] / [`SummaryOnly`] pass on one half of a run.
mod baseline;
mod html;
mod jsonl;
mod tally;
mod text;

pub use baseline::{Baseline, BaselineError};
pub use html::HtmlSink;
pub use jsonl::JsonlSink;
pub use tally::{DestinationRow, HeaderRow, Tally};
pub use text::TextSink;

use std::io;

use serde::Serialize;

use crate::capture::CaptureStats;
use crate::detect::{Confidence, Leak, Place, mask_text, number::mask_opaque};
use crate::pipeline::{Finding, Stats};

/// What every sink needs to know.
#[derive(Debug, Clone, Copy, Default)]
pub struct ReportOptions {
    /// Print numbers and identifiers in clear.
    pub show_numbers: bool,
    /// Print every request, not only leaking ones.
    pub all_requests: bool,
}

/// An input that could not be read (completely).
#[derive(Debug, Clone, Serialize)]
pub struct InputError {
    /// The file (as given or found in a folder; `-` for standard input), or the
    /// interface of a live capture.
    pub file: String,
    /// Byte offset of the problem, when known.
    pub offset: Option<u64>,
    /// What went wrong.
    pub error: String,
    /// Whether packets were read from the file before the problem.
    pub partial: bool,
    /// `warning`: the input ended inside its last record (everything before
    /// was read); `error`: the input could not be read to its end, and the
    /// exit status is 2.
    pub severity: Severity,
}

/// How serious an [`InputError`] is; the same word starts its line on
/// standard error and in the text summary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The last record was cut short; the status is unchanged.
    Warning,
    /// Reading stopped before the end (or never started): status 2.
    Error,
}

impl Severity {
    /// `warning` or `error`.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

/// How the findings of a run were compared with a baseline (`--baseline`).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct BaselineInfo {
    /// The baseline file as given.
    pub file: String,
    /// Distinct findings it lists.
    pub entries: u64,
    /// Leaks of this run that the baseline lists.
    pub leaks_in_baseline: u64,
}

/// The closing summary of a run.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    /// Capture files read (including those with errors); 0 for a live capture.
    pub files: u64,
    /// The live capture's counters (`phoneleak live` only; absent otherwise).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub capture: Option<CaptureStats>,
    /// All counters.
    #[serde(flatten)]
    pub stats: Stats,
    /// Findings below this confidence were left out (`--min-confidence`).
    pub min_confidence: Confidence,
    /// Leaks that count for the exit status: all leaks, or those not in the
    /// baseline.
    pub new_leaks: u64,
    /// The baseline comparison, when `--baseline` was given.
    pub baseline: Option<BaselineInfo>,
    /// Inputs with problems.
    pub errors: Vec<InputError>,
}

/// A destination for findings and the summary.
pub trait Sink {
    /// One request (called for every request; the sink filters).
    fn finding(&mut self, finding: &Finding) -> io::Result<()>;
    /// What the sink tallied so far (aggregates, baseline comparison).
    fn tally(&self) -> &Tally;
    /// The end of the run: the aggregate tables, then the summary.
    fn summary(&mut self, summary: &Summary) -> io::Result<()>;
}

/// The tally of a sink that keeps none.
static EMPTY_TALLY: std::sync::LazyLock<Tally> = std::sync::LazyLock::new(Tally::default);

/// Feeds every finding and the summary to several sinks, in order.
#[derive(Default)]
pub struct FanOut<'a> {
    sinks: Vec<Box<dyn Sink + 'a>>,
}

impl<'a> FanOut<'a> {
    /// No sinks yet.
    pub fn new() -> Self {
        FanOut { sinks: Vec::new() }
    }

    /// Adds a sink.
    pub fn push(&mut self, sink: Box<dyn Sink + 'a>) {
        self.sinks.push(sink);
    }
}

impl Sink for FanOut<'_> {
    fn finding(&mut self, finding: &Finding) -> io::Result<()> {
        self.sinks.iter_mut().try_for_each(|s| s.finding(finding))
    }

    /// The first sink's tally (the main output's, which decides the exit status).
    fn tally(&self) -> &Tally {
        self.sinks.first().map_or(&EMPTY_TALLY, |s| s.tally())
    }

    fn summary(&mut self, summary: &Summary) -> io::Result<()> {
        self.sinks.iter_mut().try_for_each(|s| s.summary(summary))
    }
}

/// Passes findings on and drops the summary (`--quiet`, or a summary that goes elsewhere).
pub struct FindingsOnly<S>(pub S);

impl<S: Sink> Sink for FindingsOnly<S> {
    fn finding(&mut self, finding: &Finding) -> io::Result<()> {
        self.0.finding(finding)
    }

    fn tally(&self) -> &Tally {
        self.0.tally()
    }

    fn summary(&mut self, _: &Summary) -> io::Result<()> {
        Ok(())
    }
}

/// Passes the summary on and drops findings (a summary on stderr beside `-o FILE`).
pub struct SummaryOnly<S>(pub S);

impl<S: Sink> Sink for SummaryOnly<S> {
    fn finding(&mut self, _: &Finding) -> io::Result<()> {
        Ok(())
    }

    fn tally(&self) -> &Tally {
        self.0.tally()
    }

    fn summary(&mut self, summary: &Summary) -> io::Result<()> {
        self.0.summary(summary)
    }
}

impl<S: Sink + ?Sized> Sink for Box<S> {
    fn finding(&mut self, finding: &Finding) -> io::Result<()> {
        (**self).finding(finding)
    }

    fn tally(&self) -> &Tally {
        (**self).tally()
    }

    fn summary(&mut self, summary: &Summary) -> io::Result<()> {
        (**self).summary(summary)
    }
}

/// The counters of a run that are not zero, as `group.name`
/// (`decode.tunnels.gtpu`), in summary order; the headline counts
/// (`flow.flows`, `http.requests`) are left out. Every report lists these.
pub(crate) fn nonzero_counters(stats: &Stats) -> Vec<(String, u64)> {
    let mut noted = Vec::new();
    stats.visit_counters(&mut |group, name, n| {
        let headline = matches!((group, name), ("flow", "flows") | ("http", "requests"));
        if n > 0 && !headline {
            noted.push((format!("{group}.{name}"), n));
        }
    });
    noted
}

/// A leak ready to print: masked as the options say.
pub(crate) struct ShownLeak<'a> {
    /// The header name in wire case, or `(request-target)`.
    pub header: &'a str,
    /// The whole text it is in (header value or request target), masked.
    pub value: String,
    /// What leaked, as written (masked).
    pub found: String,
    /// The number in E.164 form, masked.
    pub number: Option<String>,
    /// The cookie name or parameter key.
    pub key: Option<&'a str>,
    /// The finding.
    pub leak: &'a Leak,
}

/// A request ready to print: target, headers and leaks masked as the
/// options say.
pub(crate) struct ShownRequest<'a> {
    pub uri: String,
    pub headers: Vec<(&'a str, String)>,
    pub leaks: Vec<ShownLeak<'a>>,
}

/// The masked (or, with `show_numbers`, clear) view of a finding. Every
/// finding of the request, including those below the minimum confidence, is
/// masked everywhere it shows.
pub(crate) fn show<'a>(finding: &'a Finding, opts: &ReportOptions) -> ShownRequest<'a> {
    let r = &finding.request;
    let all: Vec<&Leak> = finding.all_leaks().collect();
    let mask = |text: &str, place: Place| {
        if opts.show_numbers || all.is_empty() {
            text.to_string()
        } else {
            mask_text(text, place, &all)
        }
    };
    let uri = mask(&r.uri, Place::Target);
    let headers: Vec<(&str, String)> = r
        .headers
        .iter()
        .enumerate()
        .map(|(i, h)| (h.name.as_str(), mask(&h.value, Place::Header(i))))
        .collect();
    let leaks = finding
        .leaks
        .iter()
        .map(|leak| {
            let value = match leak.place {
                Place::Target => uri.clone(),
                Place::Header(i) => headers.get(i).map(|(_, v)| v.clone()).unwrap_or_default(),
            };
            ShownLeak {
                header: leak.place_name(&r.headers),
                found: found_text(finding, leak, opts.show_numbers),
                value,
                number: leak.number.as_ref().map(|n| {
                    if opts.show_numbers {
                        n.e164()
                    } else {
                        n.masked()
                    }
                }),
                key: leak.key_text(&r.uri, &r.headers),
                leak,
            }
        })
        .collect();
    ShownRequest {
        uri,
        headers,
        leaks,
    }
}

/// What leaked, as written: the leak's span of its text, masked unless
/// `clear`.
pub(crate) fn found_text(finding: &Finding, leak: &Leak, clear: bool) -> String {
    let r = &finding.request;
    let text = leak.place_text(&r.uri, &r.headers);
    let span = text.get(leak.span.clone()).unwrap_or_default();
    if clear {
        return span.to_string();
    }
    let mut alone = leak.clone();
    alone.span = 0..span.len();
    alone.place = Place::Target;
    let masked = mask_text(span, Place::Target, &[&alone]);
    if masked == span && leak.number.is_none() {
        mask_opaque(span)
    } else {
        masked
    }
}

/// The destination host of a request: its Host (or absolute-form
/// authority), else the server address.
pub(crate) fn host_of(finding: &Finding) -> String {
    let r = &finding.request;
    r.host()
        .map_or_else(|| r.server.to_string(), str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary(capture: Option<CaptureStats>) -> Summary {
        Summary {
            files: u64::from(capture.is_none()),
            capture,
            stats: Stats::default(),
            min_confidence: Confidence::Low,
            new_leaks: 0,
            baseline: None,
            errors: Vec::new(),
        }
    }

    fn jsonl(s: &Summary) -> serde_json::Value {
        let mut sink = JsonlSink::new(Vec::new(), ReportOptions::default(), Tally::default());
        sink.summary(s).unwrap();
        let out = sink.into_inner();
        assert_eq!(out.iter().filter(|&&b| b == b'\n').count(), 1);
        serde_json::from_slice(&out).unwrap()
    }

    fn text(s: &Summary) -> String {
        let mut sink = TextSink::new(Vec::new(), ReportOptions::default(), Tally::default());
        sink.summary(s).unwrap();
        String::from_utf8(sink.into_inner()).unwrap()
    }

    #[test]
    fn capture_counters_appear_only_for_live_captures() {
        let files = summary(None);
        assert!(jsonl(&files).get("capture").is_none());
        assert!(text(&files).contains("  files "));
        assert!(!text(&files).contains("kernel drops"));

        let live = summary(Some(CaptureStats {
            interface: "eth0".into(),
            received: 10,
            dropped_kernel: 2,
            dropped_interface: 1,
        }));
        let v = jsonl(&live);
        assert_eq!(
            v["capture"],
            serde_json::json!({"interface": "eth0", "received": 10,
                               "dropped_kernel": 2, "dropped_interface": 1})
        );
        // The existing fields stay.
        assert_eq!(v["files"], 0);
        assert!(v["packets"].is_u64() && v["errors"].is_array());
        let t = text(&live);
        assert!(!t.contains("  files "), "{t}");
        for row in [
            "  interface                  eth0",
            "  received                     10",
            "  kernel drops                  2",
            "  interface drops               1",
        ] {
            assert!(t.contains(row), "{row:?} in {t}");
        }
    }
}
