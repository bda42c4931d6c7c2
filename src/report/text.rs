//! The report for people: one block per leaking request, then a summary.
use std::io::{self, Write};

use super::{ReportOptions, Sink, Summary, shown_leaks};
use crate::pipeline::Finding;

/// Writes the human-readable report.
pub struct TextSink<W: Write> {
    out: W,
    opts: ReportOptions,
}

impl<W: Write> TextSink<W> {
    /// A sink writing to `out`.
    pub fn new(out: W, opts: ReportOptions) -> Self {
        TextSink { out, opts }
    }

    /// The writer back.
    pub fn into_inner(self) -> W {
        self.out
    }
}

impl<W: Write> Sink for TextSink<W> {
    fn finding(&mut self, finding: &Finding) -> io::Result<()> {
        if finding.leaks.is_empty() && !self.opts.all_requests {
            return Ok(());
        }
        let r = &finding.request;
        let o = &mut self.out;
        writeln!(o, "{}  {} -> {}", r.ts.rfc3339(), r.client, r.server)?;
        writeln!(o, "  host     {}", r.host().unwrap_or("-"))?;
        let cut = if r.truncated {
            "  (header block truncated)"
        } else {
            ""
        };
        writeln!(o, "  request  {} {} {}{}", r.method, r.uri, r.version, cut)?;
        for s in shown_leaks(finding, &self.opts) {
            writeln!(o, "  leak     {}: {}", s.header, s.value)?;
            writeln!(
                o,
                "           number {}  kind {}  confidence {}",
                s.number.as_deref().unwrap_or("-"),
                s.leak.kind.as_str(),
                s.leak.confidence.as_str()
            )?;
        }
        writeln!(o)?;
        o.flush()
    }

    fn summary(&mut self, summary: &Summary) -> io::Result<()> {
        let s = &summary.stats;
        let o = &mut self.out;
        writeln!(o, "Summary")?;
        let mut rows = Vec::with_capacity(10);
        match &summary.capture {
            Some(c) => {
                writeln!(o, "  {:<18} {:>12}", "interface", c.interface)?;
                rows.extend([
                    ("received", c.received),
                    ("kernel drops", c.dropped_kernel),
                    ("interface drops", c.dropped_interface),
                ]);
            }
            None => rows.push(("files", summary.files)),
        }
        rows.extend([
            ("packets", s.packets),
            ("bytes", s.bytes),
            ("flows", s.flow.flows),
            ("requests", s.http.requests),
            ("leaking requests", s.leaking_requests),
            ("leaks", s.leaks),
        ]);
        for (name, value) in rows {
            writeln!(o, "  {name:<18} {value:>12}")?;
        }
        // Drops, gaps and anomalies: only the counters that are not zero.
        let counters =
            serde_json::json!({ "decode": &s.decode, "reassembly": &s.flow, "http": &s.http });
        let mut noted = Vec::new();
        if let Some(groups) = counters.as_object() {
            for (group, fields) in groups {
                for (name, value) in fields.as_object().into_iter().flatten() {
                    let n = value.as_u64().unwrap_or(0);
                    let headline = matches!(name.as_str(), "flows" | "requests");
                    if n > 0 && !headline {
                        noted.push((format!("{group}.{name}"), n));
                    }
                }
            }
        }
        if !noted.is_empty() {
            writeln!(o, "  counters")?;
            for (name, n) in noted {
                writeln!(o, "    {name:<40} {n:>10}")?;
            }
        }
        for e in &summary.errors {
            let at = e
                .offset
                .map(|o| format!(" at byte {o}"))
                .unwrap_or_default();
            writeln!(o, "  error    {}{}: {}", e.file, at, e.error)?;
        }
        o.flush()
    }
}
