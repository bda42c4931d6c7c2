//! The report for people: one block per leaking request, then who received
//! which number, then a summary.
use std::io::{self, Write};

use super::{ReportOptions, Sink, Summary, Tally, show};
use crate::detect::Where;
use crate::pipeline::Finding;

/// Writes the human-readable report.
pub struct TextSink<W: Write> {
    out: W,
    opts: ReportOptions,
    tally: Tally,
}

impl<W: Write> TextSink<W> {
    /// A sink writing to `out`, tallying into `tally`.
    pub fn new(out: W, opts: ReportOptions, tally: Tally) -> Self {
        TextSink { out, opts, tally }
    }

    /// The writer back.
    pub fn into_inner(self) -> W {
        self.out
    }
}

/// Writes rows as aligned columns (two spaces apart, indented by two);
/// columns named in `right` are right-aligned.
fn table(o: &mut impl Write, rows: &[Vec<String>], right: &[usize]) -> io::Result<()> {
    let cols = rows.first().map_or(0, Vec::len);
    let widths: Vec<usize> = (0..cols)
        .map(|c| {
            rows.iter()
                .filter_map(|r| r.get(c))
                .map(|s| s.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    for row in rows {
        let mut line = String::from(" ");
        for (c, cell) in row.iter().enumerate() {
            let w = widths.get(c).copied().unwrap_or(0);
            line.push(' ');
            if right.contains(&c) {
                line.push_str(&format!("{cell:>w$}"));
            } else {
                line.push_str(&format!("{cell:<w$}"));
            }
            line.push(' ');
        }
        writeln!(o, "{}", line.trim_end())?;
    }
    Ok(())
}

impl<W: Write> Sink for TextSink<W> {
    fn finding(&mut self, finding: &Finding) -> io::Result<()> {
        if finding.leaks.is_empty() && !self.opts.all_requests {
            return Ok(());
        }
        let r = &finding.request;
        let shown = show(finding, &self.opts);
        let flags = self.tally.record(finding, &shown.leaks);
        let o = &mut self.out;
        writeln!(o, "{}  {} -> {}", r.ts.rfc3339(), r.client, r.server)?;
        writeln!(o, "  host     {}", r.host().unwrap_or("-"))?;
        let cut = if r.truncated {
            "  (header block truncated)"
        } else {
            ""
        };
        writeln!(
            o,
            "  request  {} {} {}{}",
            r.method, shown.uri, r.version, cut
        )?;
        for (i, s) in shown.leaks.iter().enumerate() {
            writeln!(o, "  leak     {}: {}", s.header, s.value)?;
            let mut extra = String::new();
            if s.leak.location != Where::Header || s.key.is_some() {
                extra.push_str("  where ");
                extra.push_str(s.leak.location.as_str());
                if let Some(k) = s.key {
                    extra.push(':');
                    extra.push_str(k);
                }
            }
            if let Some(e) = s.leak.encoding {
                extra.push_str("  encoding ");
                extra.push_str(e.as_str());
                if let Some(f) = s.leak.form {
                    extra.push_str(&format!(" (of the {} form)", f.as_str()));
                }
            }
            if flags.get(i).copied().flatten() == Some(true) {
                extra.push_str("  (in baseline)");
            }
            writeln!(
                o,
                "           number {}  kind {}  confidence {}{}",
                s.number.as_deref().unwrap_or("-"),
                s.leak.kind.as_str(),
                s.leak.confidence.as_str(),
                extra
            )?;
        }
        writeln!(o)?;
        o.flush()
    }

    fn tally(&self) -> &Tally {
        &self.tally
    }

    fn summary(&mut self, summary: &Summary) -> io::Result<()> {
        let destinations = self.tally.destinations();
        let o = &mut self.out;
        if !destinations.is_empty() {
            writeln!(o, "Who received the number")?;
            let mut rows = vec![
                [
                    "host",
                    "header",
                    "where",
                    "number",
                    "kind",
                    "requests",
                    "first seen",
                    "last seen",
                ]
                .map(String::from)
                .to_vec(),
            ];
            for d in &destinations {
                let location = match &d.key {
                    Some(k) => format!("{}:{k}", d.location.as_str()),
                    None => d.location.as_str().to_string(),
                };
                rows.push(vec![
                    d.host.clone(),
                    d.header.clone(),
                    location,
                    d.number.clone().unwrap_or_else(|| d.found.clone()),
                    d.kind.as_str().to_string(),
                    d.requests.to_string(),
                    d.first_seen.clone(),
                    d.last_seen.clone(),
                ]);
            }
            table(o, &rows, &[5])?;
            writeln!(o)?;
            writeln!(o, "Per header")?;
            let mut rows = vec![
                ["header", "numbers", "hosts", "requests"]
                    .map(String::from)
                    .to_vec(),
            ];
            for h in self.tally.headers() {
                rows.push(vec![
                    h.header,
                    h.numbers.to_string(),
                    h.hosts.to_string(),
                    h.requests.to_string(),
                ]);
            }
            table(o, &rows, &[1, 2, 3])?;
            writeln!(o)?;
        }
        let s = &summary.stats;
        writeln!(o, "Summary")?;
        let rows = [
            ("files", summary.files),
            ("packets", s.packets),
            ("bytes", s.bytes),
            ("flows", s.flow.flows),
            ("requests", s.http.requests),
            ("leaking requests", s.leaking_requests),
            ("leaks", s.leaks),
        ];
        for (name, value) in rows {
            writeln!(o, "  {name:<18} {value:>12}")?;
        }
        writeln!(
            o,
            "  {:<18} {:>12}",
            "min confidence",
            summary.min_confidence.as_str()
        )?;
        if s.leaks_below_min_confidence > 0 {
            writeln!(
                o,
                "  {:<18} {:>12}",
                "below min conf.", s.leaks_below_min_confidence
            )?;
        }
        if let Some(b) = &summary.baseline {
            writeln!(o, "  {:<18} {:>12}", "new leaks", summary.new_leaks)?;
            writeln!(
                o,
                "  {:<18} {:>12}  ({}, {} findings)",
                "in baseline", b.leaks_in_baseline, b.file, b.entries
            )?;
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
