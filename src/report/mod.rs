//! Output: the JSON-lines contract for programs, a text report for people and
//! a self-contained HTML report to share.
//!
//! In: [`Finding`]s and the run's [`Summary`]. Out: lines on a writer (or, for
//! HTML, one document at the end). Phone numbers and identifiers are masked
//! unless [`ReportOptions::show_numbers`]. The JSON-lines format is specified
//! in `docs/output.md`. Sinks combine: [`FanOut`] feeds several, and
//! [`FindingsOnly`] / [`SummaryOnly`] pass on one half of a run.
mod html;
mod jsonl;
mod text;

pub use html::HtmlSink;
pub use jsonl::JsonlSink;
pub use text::TextSink;

use std::io;

use serde::Serialize;

use crate::capture::CaptureStats;
use crate::detect::{Leak, mask_value};
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
    /// Inputs with problems.
    pub errors: Vec<InputError>,
}

/// A destination for findings and the summary.
pub trait Sink {
    /// One request (called for every request; the sink filters).
    fn finding(&mut self, finding: &Finding) -> io::Result<()>;
    /// The end of the run.
    fn summary(&mut self, summary: &Summary) -> io::Result<()>;
}

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

    fn summary(&mut self, summary: &Summary) -> io::Result<()> {
        self.0.summary(summary)
    }
}

impl<S: Sink + ?Sized> Sink for Box<S> {
    fn finding(&mut self, finding: &Finding) -> io::Result<()> {
        (**self).finding(finding)
    }

    fn summary(&mut self, summary: &Summary) -> io::Result<()> {
        (**self).summary(summary)
    }
}

/// The counters of a run that are not zero, as `group.name` (headline counts left out).
pub(crate) fn nonzero_counters(stats: &Stats) -> Vec<(String, u64)> {
    let counters = serde_json::json!({
        "decode": &stats.decode, "reassembly": &stats.flow, "http": &stats.http
    });
    let mut noted = Vec::new();
    for (group, fields) in counters.as_object().into_iter().flatten() {
        for (name, value) in fields.as_object().into_iter().flatten() {
            let n = value.as_u64().unwrap_or(0);
            let headline = matches!(name.as_str(), "flows" | "requests");
            if n > 0 && !headline {
                noted.push((format!("{group}.{name}"), n));
            }
        }
    }
    noted
}

/// A leak ready to print: masked as the options say.
pub(crate) struct ShownLeak<'a> {
    pub header: &'a str,
    pub value: String,
    pub number: Option<String>,
    pub leak: &'a Leak,
}

/// The leaks of a request, masked as the options say, and the masked value per header index.
pub(crate) fn shown_leaks<'a>(finding: &'a Finding, opts: &ReportOptions) -> Vec<ShownLeak<'a>> {
    finding
        .leaks
        .iter()
        .filter_map(|leak| {
            let header = finding.request.headers.get(leak.header_index)?;
            let (value, number) = if opts.show_numbers {
                (header.value.clone(), leak.number.as_ref().map(|n| n.e164()))
            } else {
                (
                    mask_value(&header.value, leak.number.as_ref()),
                    leak.number.as_ref().map(|n| n.masked()),
                )
            };
            Some(ShownLeak {
                header: &header.name,
                value,
                number,
                leak,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary(capture: Option<CaptureStats>) -> Summary {
        Summary {
            files: u64::from(capture.is_none()),
            capture,
            stats: Stats::default(),
            errors: Vec::new(),
        }
    }

    fn jsonl(s: &Summary) -> serde_json::Value {
        let mut sink = JsonlSink::new(Vec::new(), ReportOptions::default());
        sink.summary(s).unwrap();
        let out = sink.into_inner();
        assert_eq!(out.iter().filter(|&&b| b == b'\n').count(), 1);
        serde_json::from_slice(&out).unwrap()
    }

    fn text(s: &Summary) -> String {
        let mut sink = TextSink::new(Vec::new(), ReportOptions::default());
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
