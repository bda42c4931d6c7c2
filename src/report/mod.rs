//! Output: the JSON-lines contract for programs, a text report for people and
//! a self-contained HTML report to share.
//!
//! In: [`Finding`]s and the run's [`Summary`]. Out: lines on a writer (or, for
//! HTML, one document at the end). Phone numbers and identifiers are masked
//! unless [`ReportOptions::show_numbers`]: in leak values, in every header
//! value and in the request target (a number found in a cookie or the query is
//! masked wherever it appears), and in the aggregate tables.
//!
//! One [`Report`] stands in front of the formats: it masks each finding once
//! into a [`Shown`] request (which is also the JSON `request` line, so
//! `merge` reads it back), records it in the one [`Tally`] (who received
//! which number; the baseline comparison; the exit status reads it), and
//! hands the shown request to [`Format`]s that only format: [`JsonlSink`]
//! (the contract, `docs/output.md`), [`TextSink`], [`HtmlSink`]. Formats
//! combine: [`FanOut`] feeds several, and [`FindingsOnly`] / [`SummaryOnly`]
//! pass on one half of a run.
mod baseline;
pub mod community;
mod escape;
mod html;
mod jsonl;
pub mod lines;
pub mod merge;
mod shown;
mod subject;
mod tally;
mod text;

pub use baseline::{Baseline, BaselineError};
pub use escape::{Printable, is_control, printable, printable_owned};
pub use html::{HtmlSink, escape_html, standalone_page};
pub use jsonl::JsonlSink;
pub use shown::{Provenance, Shown, ShownBody, ShownLeak, ShownTunnel};
pub use subject::{SubjectKey, SubjectKeyError};
pub use tally::{DestinationRow, HeaderRow, MAX_ROWS, Tally};
pub use text::TextSink;

use std::io;

use serde::Serialize;

use crate::capture::CaptureStats;
use crate::detect::discover::DiscoverReport;
use crate::detect::{Confidence, Leak, Place, mask_text, number::mask_opaque};

use crate::pipeline::{Finding, Stats};

/// What every sink needs to know.
#[derive(Debug, Clone, Copy, Default)]
pub struct ReportOptions {
    /// Print numbers and identifiers in clear.
    pub show_numbers: bool,
    /// Print every request, not only leaking ones.
    pub all_requests: bool,
    /// The run reads more than one input: the text and HTML reports name
    /// each request's file.
    pub multi_file: bool,
}

/// An input that could not be read (completely).
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
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
    /// exit status is 2. (Read back by `merge`; a summary written before
    /// severities were recorded reads as `error`.)
    #[serde(default)]
    pub severity: Severity,
    /// Reading went on after the problem (damaged blocks were skipped), so
    /// the message does not say the rest was not read. Not in the JSON.
    #[serde(skip)]
    pub went_on: bool,
}

/// How serious an [`InputError`] is; the same word starts its line on
/// standard error and in the text summary.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The last record was cut short; the status is unchanged.
    Warning,
    /// Reading stopped before the end (or never started): status 2.
    #[default]
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
    /// `I/N` in one part of a sharded scan (`--shard`); absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shard: Option<String>,
    /// Files a folder walk skipped (not captures, not regular files), with
    /// the reason: marked in the HTML report's list of inputs. Not in the JSON
    /// summary (a line on standard error counts them).
    #[serde(skip)]
    pub skipped: Vec<(String, String)>,
}

/// What a run feeds its report: findings as they come, then the summary.
/// [`Report`] is the one implementation; the trait lets callers hold it
/// behind a `dyn`.
pub trait Sink {
    /// One request (called for every request; the report filters).
    fn finding(&mut self, finding: &Finding) -> io::Result<()>;
    /// What was tallied so far (aggregates, baseline comparison).
    fn tally(&self) -> &Tally;
    /// The end of the run: the aggregate tables, then the summary.
    fn summary(&mut self, summary: &Summary) -> io::Result<()>;
}

/// A format: writes shown requests and, at the end, the tables and the
/// summary. Formats only format: masking, tallying and the baseline are the
/// [`Report`]'s.
pub trait Format {
    /// One request, as shown.
    fn request(&mut self, shown: &Shown) -> io::Result<()>;
    /// The end of the run.
    fn summary(&mut self, summary: &Summary, tally: &Tally) -> io::Result<()>;
    /// What `scan --discover` found, just before the summary (formats
    /// without a place for it ignore it).
    fn discovered(&mut self, _found: &DiscoverReport) -> io::Result<()> {
        Ok(())
    }
}

/// The one report of a run: it masks each finding once
/// ([`shown::show`]), records it in the one [`Tally`] and hands the shown
/// request to its formats.
pub struct Report<'a> {
    opts: ReportOptions,
    tally: Tally,
    formats: FanOut<'a>,
    key: Option<SubjectKey>,
    provenance: Provenance,
    min_confidence: Confidence,
    /// Leaks and requests left out by `min_confidence` when merging.
    dropped: (u64, u64),
}

impl<'a> Report<'a> {
    /// A report with these options, tally and formats.
    pub fn new(opts: ReportOptions, tally: Tally, formats: FanOut<'a>) -> Self {
        Report {
            opts,
            tally,
            formats,
            key: None,
            provenance: Provenance::default(),
            min_confidence: Confidence::Low,
            dropped: (0, 0),
        }
    }

    /// Adds each subject's keyed pseudonym (`--subject-key`) to leaks and rows.
    pub fn with_subject_key(mut self, key: Option<SubjectKey>) -> Self {
        let on = key.is_some();
        self.tally = std::mem::take(&mut self.tally).with_pseudonyms(on);
        self.key = key;
        self
    }

    /// Rows carry pseudonyms (`merge` of shards whose leaks all carry one).
    pub fn with_subject_rows(mut self, on: bool) -> Self {
        self.tally = std::mem::take(&mut self.tally).with_pseudonyms(on);
        self
    }

    /// Requests read back from shards (`merge`): leaks below this confidence are dropped.
    pub fn with_min_confidence(mut self, level: Confidence) -> Self {
        self.min_confidence = level;
        self
    }

    /// The input the next findings come from (packet indices, and so packet
    /// numbers and flow ids, restart with each input).
    pub fn set_input(&mut self, file: Option<String>) {
        self.provenance.file = file;
    }

    /// In one part of a sharded scan (`--shard`): the number of the input the
    /// next findings come from, written with each request as its `order`.
    pub fn set_shard_input(&mut self, input: Option<u64>) {
        self.provenance.shard_input = input;
    }

    /// A request read back from a shard's output (`merge`): its masking is
    /// the shard's; the leaks below the minimum confidence are dropped, the
    /// baseline is compared again when one is given, and it is tallied as a
    /// finding would be. False when its time cannot be read.
    pub fn shown(&mut self, mut shown: Shown) -> io::Result<bool> {
        if !shown.restore_time() {
            return Ok(false);
        }
        // A part's merge key, never written by the merged report.
        shown.order = None;
        let had = shown.leaks.len();
        let level = self.min_confidence;
        shown
            .leaks
            .retain(|l| Confidence::parse(&l.confidence).is_none_or(|c| c >= level));
        let dropped = (had - shown.leaks.len()) as u64;
        self.dropped.0 += dropped;
        if had > 0 && shown.leaks.is_empty() {
            self.dropped.1 += 1;
        }
        if shown.leaks.is_empty() && !self.opts.all_requests {
            return Ok(true);
        }
        if self.tally.baseline().is_some() {
            for l in &mut shown.leaks {
                l.in_baseline = None;
            }
        }
        let subjects: Vec<String> = shown
            .leaks
            .iter()
            .map(|l| {
                l.subject
                    .clone()
                    .unwrap_or_else(|| l.shown_subject().to_string())
            })
            .collect();
        self.tally.record(&mut shown, &subjects, false);
        self.formats.request(&shown)?;
        Ok(true)
    }

    /// What `scan --discover` found, for every format (before the summary).
    pub fn discovered(&mut self, found: &DiscoverReport) -> io::Result<()> {
        self.formats.discovered(found)
    }

    /// Leaks and leaking requests dropped by the minimum confidence of a merge.
    pub fn dropped(&self) -> (u64, u64) {
        self.dropped
    }
}

impl Sink for Report<'_> {
    fn finding(&mut self, finding: &Finding) -> io::Result<()> {
        if finding.leaks.is_empty() && !self.opts.all_requests {
            return Ok(());
        }
        let (mut shown, subjects) =
            shown::show(finding, &self.opts, &self.provenance, self.key.as_ref());
        self.tally.record(&mut shown, &subjects, self.key.is_none());
        self.formats.request(&shown)
    }

    fn tally(&self) -> &Tally {
        &self.tally
    }

    fn summary(&mut self, summary: &Summary) -> io::Result<()> {
        self.formats.summary(summary, &self.tally)
    }
}

/// Feeds every request and the summary to several formats, in order.
#[derive(Default)]
pub struct FanOut<'a> {
    sinks: Vec<Box<dyn Format + 'a>>,
}

impl<'a> FanOut<'a> {
    /// No formats yet.
    pub fn new() -> Self {
        FanOut { sinks: Vec::new() }
    }

    /// Adds a format.
    pub fn push(&mut self, sink: Box<dyn Format + 'a>) {
        self.sinks.push(sink);
    }
}

impl Format for FanOut<'_> {
    fn request(&mut self, shown: &Shown) -> io::Result<()> {
        self.sinks.iter_mut().try_for_each(|s| s.request(shown))
    }

    fn summary(&mut self, summary: &Summary, tally: &Tally) -> io::Result<()> {
        self.sinks
            .iter_mut()
            .try_for_each(|s| s.summary(summary, tally))
    }

    fn discovered(&mut self, found: &DiscoverReport) -> io::Result<()> {
        self.sinks.iter_mut().try_for_each(|s| s.discovered(found))
    }
}

/// Passes requests on and drops the summary (`--quiet`, or a summary that goes elsewhere).
pub struct FindingsOnly<S>(pub S);

impl<S: Format> Format for FindingsOnly<S> {
    fn request(&mut self, shown: &Shown) -> io::Result<()> {
        self.0.request(shown)
    }

    fn summary(&mut self, _: &Summary, _: &Tally) -> io::Result<()> {
        Ok(())
    }
}

/// Passes the summary on and drops requests (a summary on stderr beside `-o FILE`).
pub struct SummaryOnly<S>(pub S);

impl<S: Format> Format for SummaryOnly<S> {
    fn request(&mut self, _: &Shown) -> io::Result<()> {
        Ok(())
    }

    fn summary(&mut self, summary: &Summary, tally: &Tally) -> io::Result<()> {
        self.0.summary(summary, tally)
    }

    fn discovered(&mut self, found: &DiscoverReport) -> io::Result<()> {
        self.0.discovered(found)
    }
}

impl<S: Format + ?Sized> Format for Box<S> {
    fn request(&mut self, shown: &Shown) -> io::Result<()> {
        (**self).request(shown)
    }

    fn summary(&mut self, summary: &Summary, tally: &Tally) -> io::Result<()> {
        (**self).summary(summary, tally)
    }

    fn discovered(&mut self, found: &DiscoverReport) -> io::Result<()> {
        (**self).discovered(found)
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

/// What leaked, as written: the leak's span of its text, masked unless
/// `clear`.
pub(crate) fn found_text(finding: &Finding, leak: &Leak, clear: bool) -> String {
    let r = &finding.request;
    let text = leak.text_in(r);
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

/// A writer whose bytes the test reads after the report is done with it.
#[cfg(test)]
#[derive(Clone, Default)]
pub(crate) struct SharedBuf(pub std::rc::Rc<std::cell::RefCell<Vec<u8>>>);

#[cfg(test)]
impl SharedBuf {
    pub(crate) fn text(&self) -> String {
        String::from_utf8(self.0.borrow().clone()).unwrap()
    }
}

#[cfg(test)]
impl io::Write for SharedBuf {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.borrow_mut().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// A report with one format writing to a buffer.
#[cfg(test)]
pub(crate) fn test_report<'a>(
    opts: ReportOptions,
    make: impl FnOnce(SharedBuf) -> Box<dyn Format + 'a>,
) -> (Report<'a>, SharedBuf) {
    let buf = SharedBuf::default();
    let mut fan = FanOut::new();
    fan.push(make(buf.clone()));
    (Report::new(opts, Tally::default(), fan), buf)
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
            shard: None,
            skipped: Vec::new(),
        }
    }

    fn jsonl(s: &Summary) -> serde_json::Value {
        let mut sink = JsonlSink::new(Vec::new());
        sink.summary(s, &Tally::default()).unwrap();
        let out = sink.into_inner();
        assert_eq!(out.iter().filter(|&&b| b == b'\n').count(), 1);
        serde_json::from_slice(&out).unwrap()
    }

    fn text(s: &Summary) -> String {
        let mut sink = TextSink::new(Vec::new(), ReportOptions::default());
        sink.summary(s, &Tally::default()).unwrap();
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
