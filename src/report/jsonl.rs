//! JSON lines: one `request` object per reported request, then the
//! `leak_summary` objects, then one `summary`.
use std::io::{self, Write};

use serde::Serialize;

use super::tally::{DestinationRow, HeaderRow};
use super::{ReportOptions, Sink, Summary, Tally, show};
use crate::detect::{Encoding, Form, Where};
use crate::pipeline::Finding;

#[derive(Serialize)]
struct RequestLine<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    ts: String,
    src: String,
    dst: String,
    method: &'a str,
    uri: String,
    version: &'a str,
    host: Option<&'a str>,
    headers: Vec<(&'a str, String)>,
    leaks: Vec<LeakObject<'a>>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    truncated: bool,
}

#[derive(Serialize)]
struct LeakObject<'a> {
    header: &'a str,
    value: String,
    number: Option<String>,
    kind: &'static str,
    confidence: &'static str,
    #[serde(rename = "where")]
    location: Where,
    #[serde(skip_serializing_if = "Option::is_none")]
    key: Option<&'a str>,
    found: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    form: Option<Form>,
    #[serde(skip_serializing_if = "Option::is_none")]
    encoding: Option<Encoding>,
    #[serde(skip_serializing_if = "Option::is_none")]
    in_baseline: Option<bool>,
}

#[derive(Serialize)]
struct DestinationLine<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    group: &'static str,
    #[serde(flatten)]
    row: &'a DestinationRow,
}

#[derive(Serialize)]
struct HeaderLine<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    group: &'static str,
    #[serde(flatten)]
    row: &'a HeaderRow,
}

#[derive(Serialize)]
struct SummaryLine<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(flatten)]
    summary: &'a Summary,
}

/// Writes the JSON-lines contract (see `docs/output.md`).
pub struct JsonlSink<W: Write> {
    out: W,
    opts: ReportOptions,
    tally: Tally,
}

impl<W: Write> JsonlSink<W> {
    /// A sink writing to `out`, tallying into `tally`.
    pub fn new(out: W, opts: ReportOptions, tally: Tally) -> Self {
        JsonlSink { out, opts, tally }
    }

    /// The writer back.
    pub fn into_inner(self) -> W {
        self.out
    }

    fn line(&mut self, value: &impl Serialize) -> io::Result<()> {
        serde_json::to_writer(&mut self.out, value)?;
        self.out.write_all(b"\n")
    }
}

impl<W: Write> Sink for JsonlSink<W> {
    fn finding(&mut self, finding: &Finding) -> io::Result<()> {
        if finding.leaks.is_empty() && !self.opts.all_requests {
            return Ok(());
        }
        let r = &finding.request;
        let shown = show(finding, &self.opts);
        let flags = self.tally.record(finding, &shown.leaks);
        let line = RequestLine {
            kind: "request",
            ts: r.ts.rfc3339().to_string(),
            src: r.client.to_string(),
            dst: r.server.to_string(),
            method: &r.method,
            uri: shown.uri,
            version: &r.version,
            host: r.host(),
            headers: shown.headers,
            leaks: shown
                .leaks
                .into_iter()
                .zip(flags.into_iter().chain(std::iter::repeat(None)))
                .map(|(s, in_baseline)| LeakObject {
                    header: s.header,
                    value: s.value,
                    number: s.number,
                    kind: s.leak.kind.as_str(),
                    confidence: s.leak.confidence.as_str(),
                    location: s.leak.location,
                    key: s.key,
                    found: s.found,
                    form: s.leak.form,
                    encoding: s.leak.encoding,
                    in_baseline,
                })
                .collect(),
            truncated: r.truncated,
        };
        self.line(&line)?;
        self.out.flush()
    }

    fn tally(&self) -> &Tally {
        &self.tally
    }

    fn summary(&mut self, summary: &Summary) -> io::Result<()> {
        for row in self.tally.destinations() {
            self.line(&DestinationLine {
                kind: "leak_summary",
                group: "destination",
                row: &row,
            })?;
        }
        for row in self.tally.headers() {
            self.line(&HeaderLine {
                kind: "leak_summary",
                group: "header",
                row: &row,
            })?;
        }
        self.line(&SummaryLine {
            kind: "summary",
            summary,
        })?;
        self.out.flush()
    }
}
