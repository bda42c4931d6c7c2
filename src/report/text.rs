//! The report for people: one block per leaking request, then who received
//! which number, then a summary. Colours (ANSI) only when asked for: the
//! caller decides, from the terminal and `NO_COLOR`.
use std::fmt;
use std::io::{self, Write};

use anstyle::{AnsiColor, Style};

use super::escape::{Printable, printable, printable_owned};
use super::{Format, ReportOptions, Shown, Summary, Tally};
use crate::detect::discover::DiscoverReport;

const BOLD: Style = Style::new().bold();
const LEAK: Style = AnsiColor::Red.on_default().bold();
const NUMBER: Style = AnsiColor::Yellow.on_default();
const DIM: Style = Style::new().dimmed();

/// Writes the human-readable report.
pub struct TextSink<W: Write> {
    out: W,
    opts: ReportOptions,
    color: bool,
    /// False: findings are tallied but not printed (the summary goes elsewhere than the findings).
    print_findings: bool,
}

/// `text` in `style` when colours are on.
struct Paint<T>(bool, Style, T);

impl<T: fmt::Display> fmt::Display for Paint<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0 {
            write!(f, "{}{}{}", self.1.render(), self.2, self.1.render_reset())
        } else {
            self.2.fmt(f)
        }
    }
}

impl<W: Write> TextSink<W> {
    /// A format writing to `out`, without colours.
    pub fn new(out: W, opts: ReportOptions) -> Self {
        TextSink {
            out,
            opts,
            color: false,
            print_findings: true,
        }
    }

    /// Tallies findings without printing them: only the tables and the summary
    /// are written (the findings go to another sink, as with `-o FILE`).
    pub fn summary_only(mut self) -> Self {
        self.print_findings = false;
        self
    }

    /// Colours the report with ANSI escapes (for a terminal) when `color` is true.
    pub fn with_color(mut self, color: bool) -> Self {
        self.color = color;
        self
    }

    /// The writer back.
    pub fn into_inner(self) -> W {
        self.out
    }
}

/// The widest a table column is padded to, in characters. A longer cell
/// (a host name, a header name or a key from the capture may be megabytes)
/// is written whole, and only its row leaves the alignment: padding every row
/// to the longest cell would multiply the report's size by the rows.
const MAX_COLUMN_WIDTH: usize = 64;

/// A column's width: its longest cell, at most [`MAX_COLUMN_WIDTH`].
fn column_width(width: usize, cell: &str) -> usize {
    width.max(cell.chars().count()).min(MAX_COLUMN_WIDTH)
}

/// Writes rows as aligned columns (two spaces apart, indented by two);
/// columns named in `right` are right-aligned. Cells are shown as they are:
/// the caller makes capture data printable first.
fn table(o: &mut impl Write, rows: &[Vec<String>], right: &[usize]) -> io::Result<()> {
    let cols = rows.first().map_or(0, Vec::len);
    let widths: Vec<usize> = (0..cols)
        .map(|c| {
            rows.iter()
                .filter_map(|r| r.get(c))
                .fold(0, |w, cell| column_width(w, cell))
        })
        .collect();
    for row in rows {
        write_row(o, row, &widths, right)?;
    }
    Ok(())
}

/// One line of a table with these column widths (in characters). The
/// padding is counted here, not by a `{:w$}` format: a width that comes from
/// capture data must never reach `std::fmt`, which panics over 65,535.
fn write_row(
    o: &mut impl Write,
    row: &[String],
    widths: &[usize],
    right: &[usize],
) -> io::Result<()> {
    let mut line = String::from(" ");
    for (c, cell) in row.iter().enumerate() {
        let pad = widths
            .get(c)
            .copied()
            .unwrap_or(0)
            .saturating_sub(cell.chars().count());
        line.push(' ');
        if right.contains(&c) {
            line.extend(std::iter::repeat_n(' ', pad));
            line.push_str(cell);
        } else {
            line.push_str(cell);
            line.extend(std::iter::repeat_n(' ', pad));
        }
        line.push(' ');
    }
    writeln!(o, "{}", line.trim_end())
}

impl<W: Write> Format for TextSink<W> {
    fn discovered(&mut self, found: &DiscoverReport) -> io::Result<()> {
        let o = &mut self.out;
        writeln!(
            o,
            "Discovered headers (not in the registry; one value on {}+ sites)",
            found.min_sites
        )?;
        if found.rows.is_empty() {
            writeln!(
                o,
                "  none among {} unregistered header names",
                found.unregistered_names
            )?;
        } else {
            let mut rows = vec![
                [
                    "header",
                    "values",
                    "hosts",
                    "sites",
                    "requests",
                    "clients",
                    "confidence",
                    "examples",
                ]
                .map(String::from)
                .to_vec(),
            ];
            for r in &found.rows {
                rows.push(vec![
                    printable_owned(r.header.clone()),
                    r.values.to_string(),
                    r.hosts.to_string(),
                    r.sites.to_string(),
                    r.requests.to_string(),
                    r.clients.to_string(),
                    r.confidence.as_str().to_string(),
                    printable_owned(r.examples.join(" ")),
                ]);
            }
            table(o, &rows, &[1, 2, 3, 4, 5])?;
        }
        if found.dropped_names + found.dropped_values > 0 {
            writeln!(
                o,
                "  not followed past the caps: {} header lines, {} values",
                found.dropped_names, found.dropped_values
            )?;
        }
        if found.single_value_names > 0 {
            writeln!(
                o,
                "  left out: {} header names with one value from one client address \
                 (a constant cannot be told from one subscriber's token)",
                found.single_value_names
            )?;
        }
        writeln!(o)
    }

    fn request(&mut self, r: &Shown) -> io::Result<()> {
        if !self.print_findings {
            return Ok(());
        }
        // Every text below may come from the capture (or a shard's JSON):
        // shown through `Printable`, so no control character reaches the terminal.
        let c = self.color;
        let o = &mut self.out;
        writeln!(
            o,
            "{}  {} -> {}",
            Paint(c, BOLD, Printable(&r.ts)),
            Printable(&r.src),
            Printable(&r.dst)
        )?;
        writeln!(
            o,
            "  host     {}",
            Paint(c, BOLD, Printable(r.host.as_deref().unwrap_or("-")))
        )?;
        let cut = if r.truncated {
            "  (header block truncated)"
        } else {
            ""
        };
        writeln!(
            o,
            "  request  {} {} {}{}",
            Printable(&r.method),
            Printable(&r.uri),
            Printable(&r.version),
            cut
        )?;
        let packet = r
            .packet
            .map_or_else(|| "end of input".to_string(), |n| n.to_string());
        let file = match (&r.file, self.opts.multi_file) {
            (Some(f), true) => format!(" of {}", Printable(f)),
            _ => String::new(),
        };
        writeln!(
            o,
            "  packet   {packet}{file}  flow {}  {}",
            r.flow_id,
            Printable(&r.community_id)
        )?;
        if let Some(t) = &r.tunnel {
            writeln!(o, "  tunnel   {}", Printable(&t.describe()))?;
        }
        if let Some(t) = &r.tls {
            writeln!(o, "  tls      {}", Printable(&t.describe()))?;
        }
        if r.pushed {
            let on = r
                .associated_stream_id
                .map_or_else(String::new, |s| format!(" on stream {s}"));
            let id = r
                .stream_id
                .map_or_else(String::new, |s| format!(" (stream {s})"));
            writeln!(
                o,
                "  pushed   promised by the server{on}{id}: not sent by the client"
            )?;
        }
        for s in &r.leaks {
            writeln!(
                o,
                "  {}     {}: {}",
                Paint(c, LEAK, "leak"),
                Paint(c, LEAK, Printable(&s.header)),
                Paint(c, LEAK, Printable(&s.value))
            )?;
            let mut extra = String::new();
            if s.location != "header" || s.key.is_some() {
                extra.push_str("  where ");
                extra.push_str(&printable(&s.location));
                if let Some(k) = &s.key {
                    extra.push(':');
                    extra.push_str(&printable(k));
                }
            }
            if let Some(e) = &s.encoding {
                extra.push_str("  encoding ");
                extra.push_str(&printable(e));
                if let Some(f) = &s.form {
                    extra.push_str(&format!(" (of the {} form)", Printable(f)));
                }
            }
            if let Some(subject) = &s.subject {
                extra.push_str("  subject ");
                extra.push_str(&printable(subject));
            }
            if s.in_baseline == Some(true) {
                extra.push_str("  (in baseline)");
            }
            writeln!(
                o,
                "           number {}  kind {}  confidence {}{}",
                Paint(c, NUMBER, Printable(s.number.as_deref().unwrap_or("-"))),
                Printable(&s.kind),
                Printable(&s.confidence),
                extra
            )?;
        }
        writeln!(o)?;
        o.flush()
    }

    fn summary(&mut self, summary: &Summary, tally: &Tally) -> io::Result<()> {
        let o = &mut self.out;
        if !tally.is_empty() {
            writeln!(o, "Who received the number")?;
            let head = [
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
            .to_vec();
            let cells = |d: super::DestinationRow| -> Vec<String> {
                let location = match &d.key {
                    Some(k) => format!("{}:{k}", d.location),
                    None => d.location.clone(),
                };
                vec![
                    printable_owned(d.host),
                    printable_owned(d.header),
                    printable_owned(location),
                    printable_owned(d.number.unwrap_or(d.found)),
                    printable_owned(d.kind),
                    d.requests.to_string(),
                    printable_owned(d.first_seen),
                    printable_owned(d.last_seen),
                ]
            };
            // Two passes over the rows (widths, then lines): the table is
            // never held twice in memory.
            let mut widths = vec![0usize; head.len()];
            for row in std::iter::once(head.clone()).chain(tally.destination_rows().map(cells)) {
                for (w, cell) in widths.iter_mut().zip(&row) {
                    *w = column_width(*w, cell);
                }
            }
            write_row(o, &head, &widths, &[5])?;
            for row in tally.destination_rows().map(cells) {
                write_row(o, &row, &widths, &[5])?;
            }
            writeln!(o)?;
            writeln!(o, "Per header")?;
            let mut rows = vec![
                ["header", "numbers", "hosts", "requests"]
                    .map(String::from)
                    .to_vec(),
            ];
            for h in tally.headers() {
                rows.push(vec![
                    printable_owned(h.header),
                    h.numbers.to_string(),
                    h.hosts.to_string(),
                    h.requests.to_string(),
                ]);
            }
            table(o, &rows, &[1, 2, 3])?;
            writeln!(o)?;
        }
        let s = &summary.stats;
        let c = self.color;
        writeln!(o, "{}", Paint(c, BOLD, "Summary"))?;
        let mut rows = Vec::with_capacity(10);
        match &summary.capture {
            Some(capture) => {
                writeln!(
                    o,
                    "  {:<18} {:>12}",
                    "interface",
                    printable(&capture.interface)
                )?;
                rows.extend([
                    ("received", capture.received),
                    ("kernel drops", capture.dropped_kernel),
                    ("interface drops", capture.dropped_interface),
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
            let style = if name == "leaking requests" && value > 0 {
                LEAK
            } else {
                Style::new()
            };
            writeln!(
                o,
                "  {name:<18} {}",
                Paint(c, style, format!("{value:>12}"))
            )?;
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
        if tally.folded_leaks > 0 {
            writeln!(
                o,
                "  {:<18} {:>12}  (the table keeps {} rows)",
                "leaks in * rows",
                tally.folded_leaks,
                super::MAX_ROWS
            )?;
        }
        if let Some(b) = &summary.baseline {
            writeln!(o, "  {:<18} {:>12}", "new leaks", summary.new_leaks)?;
            writeln!(
                o,
                "  {:<18} {:>12}  ({}, {} findings)",
                "in baseline",
                b.leaks_in_baseline,
                Printable(&b.file),
                b.entries
            )?;
        }
        // Drops, gaps and anomalies: only the counters that are not zero.
        let noted = super::nonzero_counters(s);
        if !noted.is_empty() {
            writeln!(o, "  counters")?;
            for (name, n) in noted {
                writeln!(o, "    {} {n:>10}", Paint(c, DIM, format!("{name:<40}")))?;
            }
        }
        for e in &summary.errors {
            let at = e
                .offset
                .map(|o| format!(" at byte {o}"))
                .unwrap_or_default();
            let word = format!("{:<8}", e.severity.as_str());
            writeln!(
                o,
                "  {word} {}{}: {}",
                Printable(&e.file),
                at,
                Printable(&e.error)
            )?;
        }
        o.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::Detector;
    use crate::http::{Header, Request};
    use crate::pipeline::Finding;
    use crate::report::Sink;
    use crate::time::Timestamp;

    fn report(color: bool) -> String {
        report_of("example.com", "X-MSISDN", "447700900123", color)
    }

    /// The text report of one request with these host, header and value.
    fn report_of(host: &str, name: &str, value: &str, color: bool) -> String {
        let request = Request {
            ts: Timestamp::from_parts(1_327_485_600, 0),
            client: "10.0.0.1:5000".parse().unwrap(),
            server: "192.0.2.1:80".parse().unwrap(),
            flow_id: 1,
            method: "GET".into(),
            uri: "/".into(),
            version: "HTTP/1.1".into(),
            headers: vec![
                Header {
                    name: "Host".into(),
                    value: host.into(),
                },
                Header {
                    name: name.into(),
                    value: value.into(),
                },
            ],
            truncated: false,
            flow_order: (0, 0),
            tunnel: None,
            tls: None,
            stream_id: None,
            pushed_on: None,
            authority: None,
            answer_awaited: false,
            body: None,
        };
        let leaks = Detector::new().inspect(&request);
        let opts = ReportOptions::default();
        let (mut report, buf) = crate::report::test_report(opts, |b| {
            Box::new(TextSink::new(b, opts).with_color(color))
        });
        report
            .finding(&Finding {
                request,
                leaks,
                below_min_confidence: Vec::new(),
                order: Default::default(),
            })
            .unwrap();
        buf.text()
    }

    #[test]
    fn colours_only_when_asked() {
        let plain = report(false);
        assert!(!plain.contains('\u{1b}'), "{plain}");
        assert!(plain.contains("  leak     X-MSISDN: 44*******123"));
        let coloured = report(true);
        assert!(coloured.contains("\u{1b}["), "{coloured}");
        // The same text once the escapes are removed.
        let mut stripped = String::new();
        let mut in_escape = false;
        for ch in coloured.chars() {
            match (in_escape, ch) {
                (false, '\u{1b}') => in_escape = true,
                (true, 'm') => in_escape = false,
                (true, _) => {}
                (false, ch) => stripped.push(ch),
            }
        }
        assert_eq!(stripped, plain);
    }

    /// The report without the colour sequences (ESC [ digits m).
    fn strip_sgr(coloured: &str) -> String {
        let mut stripped = String::new();
        let mut in_escape = false;
        for ch in coloured.chars() {
            match (in_escape, ch) {
                (false, '\u{1b}') => in_escape = true,
                (true, 'm') => in_escape = false,
                (true, _) => {}
                (false, ch) => stripped.push(ch),
            }
        }
        stripped
    }

    #[test]
    fn capture_text_shows_no_control_character_with_or_without_colours() {
        let evil = "\u{1b}]0;title\u{7}\u{1b}[2J\0\u{8}\u{7f}\u{9b}1m";
        let host = format!("h{evil}.example.com");
        let name = format!("X-{evil}Id");
        let value = format!("{evil} msisdn=+447700900123 {evil}");
        for color in [false, true] {
            let text = report_of(&host, &name, &value, color);
            let shown = if color {
                strip_sgr(&text)
            } else {
                text.clone()
            };
            let raw: Vec<char> = shown
                .chars()
                .filter(|&c| c != '\n' && crate::report::is_control(c))
                .collect();
            assert!(raw.is_empty(), "{raw:?} in {shown}");
            // Every ESC in the coloured report starts one of its own colours.
            let sgr = |rest: &str| {
                let params = rest.strip_prefix('[').unwrap_or("x");
                let end = params.find(|c: char| !(c.is_ascii_digit() || c == ';'));
                end.is_some_and(|i| params[i..].starts_with('m'))
            };
            assert!(text.split('\u{1b}').skip(1).all(sgr), "{text}");
            assert!(shown.contains(
                "  host     h\\x1b]0;title\\x07\\x1b[2J\\x00\\x08\\x7f\\u{9b}1m.example.com"
            ));
            assert!(shown.contains("  leak     X-\\x1b]0;title"), "{shown}");
        }
    }

    #[test]
    fn cells_wider_than_any_format_width() {
        // std::fmt panics on a width over 65,535; the padding is counted by
        // hand and capped, so a long cell leaves only its own row unaligned.
        let long = "h".repeat(70_000);
        let rows = vec![
            vec!["host".to_string(), "n".to_string()],
            vec![long.clone(), "1".to_string()],
            vec!["a.example".to_string(), "22".to_string()],
        ];
        let mut out = Vec::new();
        table(&mut out, &rows, &[1]).unwrap();
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        let pad = MAX_COLUMN_WIDTH - "host".len();
        assert_eq!(lines[0], format!("  host{}   n", " ".repeat(pad)));
        assert_eq!(lines[1], format!("  {long}   1"));
        assert_eq!(
            lines[2],
            format!("  a.example{}  22", " ".repeat(pad + 4 - 9))
        );
        assert!(text.len() < long.len() + 1000);
    }
}
