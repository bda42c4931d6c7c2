//! JSON lines: one `request` object per reported request, then one `summary`.
use std::io::{self, Write};

use serde::Serialize;

use super::{ReportOptions, Sink, Summary, shown_leaks};
use crate::pipeline::Finding;

#[derive(Serialize)]
struct RequestLine<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    ts: String,
    src: String,
    dst: String,
    method: &'a str,
    uri: &'a str,
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
}

impl<W: Write> JsonlSink<W> {
    /// A sink writing to `out`.
    pub fn new(out: W, opts: ReportOptions) -> Self {
        JsonlSink { out, opts }
    }

    /// The writer back.
    pub fn into_inner(self) -> W {
        self.out
    }
}

impl<W: Write> Sink for JsonlSink<W> {
    fn finding(&mut self, finding: &Finding) -> io::Result<()> {
        if finding.leaks.is_empty() && !self.opts.all_requests {
            return Ok(());
        }
        let r = &finding.request;
        let shown = shown_leaks(finding, &self.opts);
        let headers = r
            .headers
            .iter()
            .enumerate()
            .map(|(i, h)| {
                let masked = shown
                    .iter()
                    .find(|s| s.leak.header_index == i)
                    .map(|s| s.value.clone());
                (h.name.as_str(), masked.unwrap_or_else(|| h.value.clone()))
            })
            .collect();
        let line = RequestLine {
            kind: "request",
            ts: r.ts.rfc3339().to_string(),
            src: r.client.to_string(),
            dst: r.server.to_string(),
            method: &r.method,
            uri: &r.uri,
            version: &r.version,
            host: r.host(),
            headers,
            leaks: shown
                .into_iter()
                .map(|s| LeakObject {
                    header: s.header,
                    value: s.value,
                    number: s.number,
                    kind: s.leak.kind.as_str(),
                    confidence: s.leak.confidence.as_str(),
                })
                .collect(),
            truncated: r.truncated,
        };
        serde_json::to_writer(&mut self.out, &line)?;
        self.out.write_all(b"\n")?;
        self.out.flush()
    }

    fn summary(&mut self, summary: &Summary) -> io::Result<()> {
        serde_json::to_writer(
            &mut self.out,
            &SummaryLine {
                kind: "summary",
                summary,
            },
        )?;
        self.out.write_all(b"\n")?;
        self.out.flush()
    }
}
