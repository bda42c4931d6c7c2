//! A self-contained HTML report to share: the summary, who received the
//! number, a timeline per destination host (inline SVG) and the leaking
//! requests with their headers.
//!
//! One file, no network access when opened: styles and the small script are
//! inline and a Content-Security-Policy forbids loading anything else. Every
//! string from the capture is escaped. Memory and size are bounded whatever
//! the capture: the table is the report's [`Tally`] (bounded by its row
//! cap), the timeline keeps at most [`MAX_TIME_BUCKETS`] buckets, and at most [`MAX_LISTED`] requests (and [`LIST_BUDGET`] bytes of
//! them) are listed, with a note saying how many were left out.
use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::{self, Write};

use super::{Format, ReportOptions, Shown, Summary, Tally, nonzero_counters};
use crate::time::Timestamp;
/// Rows of the "who received the number" table written (the busiest first).
pub const MAX_TABLE_ROWS: usize = 1_000;
/// Leaking requests listed with their headers.
pub const MAX_LISTED: usize = 1_000;
/// Bytes of HTML spent on listed requests at most.
pub const LIST_BUDGET: usize = 2 << 20;
/// Distinct (host, time bucket) cells kept for the timeline; beyond, buckets widen.
pub const MAX_TIME_BUCKETS: usize = 100_000;
/// Destination hosts drawn in the timeline; the others share one row.
pub const TIMELINE_HOSTS: usize = 12;
/// Distinct hosts tracked by the timeline; later new hosts join "other hosts".
const MAX_TIMELINE_HOSTS: usize = 10_000;
/// Columns of the timeline.
const COLUMNS: i64 = 120;
/// Characters of a header value or URI shown in the request list.
const MAX_VALUE_CHARS: usize = 200;
/// Header lines shown per listed request.
const MAX_HEADERS_SHOWN: usize = 60;
/// Characters kept of hosts and header names in aggregation keys.
const MAX_KEY_CHARS: usize = 200;

/// Writes one HTML document when the run ends.
pub struct HtmlSink<W: Write> {
    out: W,
    opts: ReportOptions,
    inputs: Vec<String>,
    timeline: Timeline,
    /// HTML of the listed requests.
    listed: String,
    listed_count: usize,
    leaking: u64,
    first: Option<Timestamp>,
    last: Option<Timestamp>,
}

impl<W: Write> HtmlSink<W> {
    /// A sink writing the document to `out` at the end of the run.
    pub fn new(out: W, opts: ReportOptions) -> Self {
        HtmlSink {
            out,
            opts,
            inputs: Vec::new(),
            timeline: Timeline::default(),
            listed: String::new(),
            listed_count: 0,
            leaking: 0,
            first: None,
            last: None,
        }
    }

    /// Names the inputs in the report's heading.
    pub fn with_inputs(mut self, inputs: Vec<String>) -> Self {
        self.inputs = inputs;
        self
    }

    /// The writer back.
    pub fn into_inner(self) -> W {
        self.out
    }

    fn list(&mut self, r: &Shown, host: &str) {
        if self.listed_count >= MAX_LISTED || self.listed.len() >= LIST_BUDGET {
            return;
        }
        let mut h = String::new();
        let open = if self.listed_count < 5 { " open" } else { "" };
        let _ = write!(
            h,
            "<details class=\"req\"{open}><summary><span class=\"ts\">{}</span> \
             <span class=\"host\">{}</span> <code>{} {}</code> <span class=\"dim\">{} → {}</span>",
            esc(&r.ts),
            esc(clip(host, MAX_VALUE_CHARS)),
            esc(clip(&r.method, 40)),
            esc(clip(&r.uri, MAX_VALUE_CHARS)),
            esc(&r.src),
            esc(&r.dst),
        );
        if r.truncated {
            h.push_str(" <span class=\"tag\">header block truncated</span>");
        }
        let packet = r
            .packet
            .map_or_else(|| "end of input".to_string(), |n| n.to_string());
        let file = match (&r.file, self.opts.multi_file) {
            (Some(f), true) => format!(" of <code>{}</code>", esc(clip(f, 300))),
            _ => String::new(),
        };
        let _ = write!(
            h,
            " <span class=\"dim\">packet {packet}{file} · flow {} · <code>{}</code></span>",
            r.flow_id,
            esc(&r.community_id)
        );
        if let Some(t) = &r.tunnel {
            let _ = write!(h, " <span class=\"dim\">· {}</span>", esc(&t.describe()));
        }
        if let Some(t) = &r.tls {
            let _ = write!(
                h,
                " <span class=\"tag tls\" title=\"decrypted\">{}</span>",
                esc(&t.describe())
            );
        }
        if r.pushed {
            h.push_str(
                " <span class=\"tag pushed\" title=\"promised by the server (HTTP/2 PUSH_PROMISE), not sent by the client\">pushed</span>",
            );
        }
        h.push_str("</summary><table class=\"hdrs\">");
        for (name, value) in r.headers.iter().take(MAX_HEADERS_SHOWN) {
            match r
                .leaks
                .iter()
                .find(|s| s.header == *name && s.value == *value && s.location != "uri")
            {
                Some(s) => {
                    let _ = write!(
                        h,
                        "<tr class=\"leak\"><th>{}</th><td>{} <span class=\"tag\">{} · {} · {}</span></td></tr>",
                        esc(clip(name, MAX_VALUE_CHARS)),
                        esc(clip(&s.value, MAX_VALUE_CHARS)),
                        esc(&s.kind),
                        esc(&location(&s.location, s.key.as_deref())),
                        esc(&s.confidence)
                    );
                }
                None => {
                    let _ = write!(
                        h,
                        "<tr><th>{}</th><td>{}</td></tr>",
                        esc(clip(name, MAX_VALUE_CHARS)),
                        esc(clip(value, MAX_VALUE_CHARS))
                    );
                }
            }
        }
        if r.headers.len() > MAX_HEADERS_SHOWN {
            let _ = write!(
                h,
                "<tr><th></th><td class=\"dim\">… {} more header lines</td></tr>",
                r.headers.len() - MAX_HEADERS_SHOWN
            );
        }
        h.push_str("</table></details>\n");
        self.listed.push_str(&h);
        self.listed_count += 1;
    }

    fn document(&self, summary: &Summary, tally: &Tally) -> String {
        let nonce = nonce();
        let mut d = String::with_capacity(self.listed.len() + 256 * 1024);
        let title = title(&inputs_read(&self.inputs, summary), summary.files);
        let _ = write!(
            d,
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n\
             <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; \
             style-src 'nonce-{nonce}'; script-src 'nonce-{nonce}'\">\n\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
             <meta name=\"generator\" content=\"phoneleak {}\">\n\
             <title>{}</title>\n<style nonce=\"{nonce}\">{STYLE}</style></head>\n<body>\n",
            env!("CARGO_PKG_VERSION"),
            esc(&title)
        );
        let _ = writeln!(d, "<h1>{}</h1>", esc(&title));
        self.write_summary(&mut d, summary, tally);
        self.write_receivers(&mut d, tally);
        self.write_timeline(&mut d);
        self.write_requests(&mut d);
        let _ = write!(
            d,
            "<footer>Made by phoneleak {} from packet captures. Self-contained: this file loads nothing.</footer>\n\
             <script nonce=\"{nonce}\">{SCRIPT}</script>\n</body></html>\n",
            env!("CARGO_PKG_VERSION")
        );
        d
    }

    fn write_summary(&self, d: &mut String, summary: &Summary, tally: &Tally) {
        let s = &summary.stats;
        d.push_str("<section id=\"summary\"><h2>Summary</h2>\n");
        if self.opts.show_numbers {
            d.push_str(
                "<p class=\"warn\">Numbers and identifiers are shown in clear: \
                 this file holds personal data.</p>\n",
            );
        } else {
            d.push_str(
                "<p class=\"note\">Numbers and identifiers are masked (country code and \
                 last three digits kept); <code>--show-numbers</code> shows them.</p>\n",
            );
        }
        write_inputs(d, &self.inputs, summary);
        let (hosts, identities) = tally.distinct();
        d.push_str("<div class=\"cards\">");
        let leak_class = if s.leaking_requests > 0 {
            " bad"
        } else {
            " good"
        };
        for (label, value, class) in [
            (
                "leaking requests",
                s.leaking_requests.to_string(),
                leak_class,
            ),
            ("leaks", s.leaks.to_string(), ""),
            ("receiving hosts", hosts.to_string(), ""),
            ("numbers and identifiers", identities.to_string(), ""),
            ("requests", s.http.requests.to_string(), ""),
            ("flows", s.flow.flows.to_string(), ""),
            ("packets", s.packets.to_string(), ""),
            ("files", summary.files.to_string(), ""),
        ] {
            let _ = write!(
                d,
                "<div class=\"card{class}\"><div class=\"v\">{value}</div><div class=\"k\">{label}</div></div>"
            );
        }
        d.push_str("</div>\n");
        if let (Some(first), Some(last)) = (self.first, self.last) {
            let _ = writeln!(
                d,
                "<p>Leaking requests from <time title=\"{}\">{}</time> to <time title=\"{}\">{}</time> (capture time).</p>",
                first.rfc3339(),
                short_time(first),
                last.rfc3339(),
                short_time(last)
            );
        }
        if !summary.errors.is_empty() {
            let open = if summary.errors.len() <= 5 {
                " open"
            } else {
                ""
            };
            let _ = write!(
                d,
                "<details class=\"errors\"{open}><summary>Input problems ({})</summary><ul>",
                summary.errors.len()
            );
            for e in summary.errors.iter().take(200) {
                let at = e
                    .offset
                    .map(|o| format!(" at byte {o}"))
                    .unwrap_or_default();
                let what = if e.partial {
                    "read in part"
                } else {
                    "not read"
                };
                let _ = write!(
                    d,
                    "<li><code>{}</code>{at} ({what}): {}</li>",
                    esc(clip(&e.file, 300)),
                    esc(clip(&e.error, 500))
                );
            }
            if summary.errors.len() > 200 {
                let _ = write!(d, "<li>… and {} more</li>", summary.errors.len() - 200);
            }
            d.push_str("</ul></details>\n");
        }
        let counters = nonzero_counters(s);
        if !counters.is_empty() {
            d.push_str(
                "<details><summary>Counters that are not zero (drops, gaps, anomalies)</summary>\
                 <table class=\"counters\">",
            );
            for (name, n) in counters {
                let _ = write!(d, "<tr><th>{name}</th><td>{n}</td></tr>");
            }
            d.push_str("</table></details>\n");
        }
        d.push_str("</section>\n");
    }

    fn write_receivers(&self, d: &mut String, tally: &Tally) {
        d.push_str("<section id=\"receivers\"><h2>Who received the number</h2>\n");
        if tally.is_empty() {
            d.push_str("<p>No request leaked a number or identifier.</p></section>\n");
            return;
        }
        // The busiest first; ties in the tally's order (sort is stable). Only
        // the counts are sorted, then the rows shown are made.
        let mut order: Vec<(u64, usize)> = tally
            .destination_rows()
            .enumerate()
            .map(|(i, r)| (r.requests, i))
            .collect();
        order.sort_by_key(|&(n, _)| std::cmp::Reverse(n));
        let total = order.len();
        let mut shown: Vec<(usize, usize)> = order
            .iter()
            .take(MAX_TABLE_ROWS)
            .enumerate()
            .map(|(rank, &(_, i))| (i, rank))
            .collect();
        shown.sort_unstable();
        let mut picked: Vec<(usize, super::DestinationRow)> = Vec::with_capacity(shown.len());
        let mut next = shown.iter().peekable();
        for (i, row) in tally.destination_rows().enumerate() {
            match next.peek() {
                Some(&&(want, rank)) if want == i => {
                    picked.push((rank, row));
                    next.next();
                }
                Some(_) => {}
                None => break,
            }
        }
        picked.sort_by_key(|(rank, _)| *rank);
        let rows: Vec<super::DestinationRow> = picked.into_iter().map(|(_, r)| r).collect();
        d.push_str(
            "<input type=\"search\" class=\"filter\" data-target=\"receivers-table\" \
             placeholder=\"Filter rows\" aria-label=\"Filter the table\">\n\
             <div class=\"scroll\"><table id=\"receivers-table\" class=\"sortable\"><thead><tr>\
             <th>destination host</th><th>header</th><th>where</th><th>number or identifier</th>\
             <th>kind</th><th class=\"num\">requests</th><th>first seen (UTC)</th><th>last seen (UTC)</th>\
             </tr></thead><tbody>\n",
        );
        for r in rows.iter().take(MAX_TABLE_ROWS) {
            let first = super::shown::parse_rfc3339(&r.first_seen).unwrap_or_default();
            let last = super::shown::parse_rfc3339(&r.last_seen).unwrap_or_default();
            let _ = writeln!(
                d,
                "<tr><td>{}</td><td><code>{}</code></td><td>{}</td><td><code>{}</code></td><td>{}</td>\
                 <td class=\"num\">{}</td><td class=\"t\" title=\"{}\">{}</td><td class=\"t\" title=\"{}\">{}</td></tr>",
                esc(clip(&r.host, 100)),
                esc(clip(&r.header, 100)),
                esc(clip(&location(&r.location, r.key.as_deref()), 100)),
                esc(clip(r.number.as_deref().unwrap_or(&r.found), 100)),
                esc(&r.kind),
                r.requests,
                esc(&r.first_seen),
                table_time(first),
                esc(&r.last_seen),
                table_time(last)
            );
        }
        d.push_str("</tbody></table></div>\n");
        if total > MAX_TABLE_ROWS {
            let _ = writeln!(
                d,
                "<p class=\"note\">The {MAX_TABLE_ROWS} busiest of {total} rows are shown; \
                 <code>phoneleak scan --format jsonl</code> lists every request.</p>"
            );
        }
        if tally.folded_leaks > 0 {
            let _ = writeln!(
                d,
                "<p class=\"note\">{} leaks came past the table's cap of {} rows and are \
                 counted in the rows whose host is <code>*</code>.</p>",
                tally.folded_leaks,
                super::MAX_ROWS
            );
        }
        d.push_str("</section>\n");
    }

    fn write_timeline(&self, d: &mut String) {
        d.push_str(
            "<section id=\"timeline\"><h2>Timeline of leaking requests per destination host</h2>\n",
        );
        match self.timeline.svg() {
            Some(svg) => d.push_str(&svg),
            None => d.push_str("<p>No leaking request to draw.</p>"),
        }
        d.push_str("</section>\n");
    }

    fn write_requests(&self, d: &mut String) {
        d.push_str("<section id=\"requests\"><h2>Leaking requests</h2>\n");
        if self.listed_count == 0 {
            d.push_str("<p>None.</p></section>\n");
            return;
        }
        let _ = writeln!(
            d,
            "<p>In the order they were completed; the leaking header is highlighted. \
             Long values are cut at {MAX_VALUE_CHARS} characters.</p>"
        );
        if (self.listed_count as u64) < self.leaking {
            let _ = writeln!(
                d,
                "<p class=\"note\">The first {} of {} leaking requests are listed; \
                 <code>phoneleak scan --format jsonl</code> lists them all.</p>",
                self.listed_count, self.leaking
            );
        }
        d.push_str(
            "<input type=\"search\" class=\"filter\" data-target=\"request-list\" \
             placeholder=\"Filter requests\" aria-label=\"Filter the requests\">\n\
             <div id=\"request-list\">\n",
        );
        d.push_str(&self.listed);
        d.push_str("</div></section>\n");
    }
}

impl<W: Write> Format for HtmlSink<W> {
    fn request(&mut self, r: &Shown) -> io::Result<()> {
        if r.leaks.is_empty() {
            return Ok(());
        }
        self.leaking += 1;
        self.first = Some(self.first.map_or(r.at, |f| f.min(r.at)));
        self.last = Some(self.last.map_or(r.at, |l| l.max(r.at)));
        let host = clip(r.destination(), MAX_KEY_CHARS).to_string();
        self.timeline.add(&host, r.at);
        self.list(r, &host);
        Ok(())
    }

    fn summary(&mut self, summary: &Summary, tally: &Tally) -> io::Result<()> {
        let doc = self.document(summary, tally);
        self.out.write_all(doc.as_bytes())?;
        self.out.flush()
    }
}

/// `where`, with the cookie name or parameter key: `cookie:msisdn`.
fn location(location: &str, key: Option<&str>) -> String {
    match key {
        Some(k) => format!("{location}:{k}"),
        None => location.to_string(),
    }
}

/// Leaking requests per host and time bucket; buckets widen to stay bounded.
struct Timeline {
    /// Bucket width in nanoseconds (starts at one second, doubles when full).
    width: i64,
    cells: HashMap<(u32, i64), u64>,
    hosts: HashMap<String, u32>,
    names: Vec<String>,
    totals: Vec<u64>,
    first: i64,
    last: i64,
}

/// The host id of "other hosts" once [`MAX_TIMELINE_HOSTS`] are tracked.
const OTHER: u32 = u32::MAX;

impl Default for Timeline {
    fn default() -> Self {
        Timeline {
            width: 1_000_000_000,
            cells: HashMap::new(),
            hosts: HashMap::new(),
            names: Vec::new(),
            totals: Vec::new(),
            first: i64::MAX,
            last: i64::MIN,
        }
    }
}

impl Timeline {
    fn add(&mut self, host: &str, ts: Timestamp) {
        let key = host.to_ascii_lowercase();
        let id = match self.hosts.get(&key) {
            Some(id) => *id,
            None if self.names.len() < MAX_TIMELINE_HOSTS => {
                let id = u32::try_from(self.names.len()).unwrap_or(OTHER);
                self.hosts.insert(key, id);
                self.names.push(host.to_string());
                self.totals.push(0);
                id
            }
            None => OTHER,
        };
        if let Some(t) = usize::try_from(id)
            .ok()
            .and_then(|i| self.totals.get_mut(i))
        {
            *t += 1;
        }
        self.first = self.first.min(ts.0);
        self.last = self.last.max(ts.0);
        *self
            .cells
            .entry((id, ts.0.div_euclid(self.width)))
            .or_insert(0) += 1;
        while self.cells.len() > MAX_TIME_BUCKETS && self.width < i64::MAX / 4 {
            self.width *= 2;
            let old = std::mem::take(&mut self.cells);
            for ((id, bucket), n) in old {
                *self.cells.entry((id, bucket.div_euclid(2))).or_insert(0) += n;
            }
        }
    }

    /// The chart, or `None` when nothing was added.
    fn svg(&self) -> Option<String> {
        if self.cells.is_empty() || self.first > self.last {
            return None;
        }
        // Rows: the busiest hosts, then one for all the others.
        let mut order: Vec<usize> = (0..self.names.len()).collect();
        order.sort_by(|a, b| {
            let (ta, tb) = (self.totals.get(*a), self.totals.get(*b));
            tb.cmp(&ta)
                .then_with(|| self.names.get(*a).cmp(&self.names.get(*b)))
        });
        let shown: Vec<usize> = order.iter().copied().take(TIMELINE_HOSTS).collect();
        let others = self.names.len().saturating_sub(shown.len())
            + usize::from(self.cells.keys().any(|(id, _)| *id == OTHER));
        let rows = shown.len() + usize::from(others > 0);
        let row_of = |id: u32| -> usize {
            usize::try_from(id)
                .ok()
                .and_then(|i| shown.iter().position(|s| *s == i))
                .unwrap_or(shown.len())
        };

        // Columns: the capture span in at most COLUMNS equal steps, each a whole
        // number of buckets, so that a bucket falls in exactly one column.
        let first_bucket = self.first.div_euclid(self.width);
        let last_bucket = self.last.div_euclid(self.width);
        let span = last_bucket
            .saturating_sub(first_bucket)
            .saturating_add(1)
            .max(1);
        let per_column = (span.saturating_add(COLUMNS - 1) / COLUMNS).max(1);
        let columns = span.saturating_add(per_column - 1) / per_column;
        let columns_usize = usize::try_from(columns.clamp(1, COLUMNS)).unwrap_or(1);
        let mut grid = vec![vec![0u64; columns_usize]; rows];
        for ((id, bucket), n) in &self.cells {
            let col = bucket.saturating_sub(first_bucket) / per_column;
            let col = usize::try_from(col).unwrap_or(0).min(columns_usize - 1);
            if let Some(cell) = grid.get_mut(row_of(*id)).and_then(|r| r.get_mut(col)) {
                *cell += n;
            }
        }
        let max = grid.iter().flatten().copied().max().unwrap_or(1).max(1);
        let col_ns = per_column.saturating_mul(self.width);

        let (label_w, chart_w, right_w, row_h, top) = (230.0, 640.0, 80.0, 30.0, 34.0);
        let width = label_w + chart_w + right_w;
        let height = top + row_h * rows as f64 + 8.0;
        let bar_w = chart_w / columns_usize as f64;
        let mut s = String::new();
        let _ = writeln!(
            s,
            "<svg class=\"timeline\" role=\"img\" viewBox=\"0 0 {width} {height}\" \
             width=\"{width}\" height=\"{height}\" xmlns=\"http://www.w3.org/2000/svg\" \
             aria-label=\"Leaking requests over time, one row per destination host\">"
        );
        let start = Timestamp(first_bucket.saturating_mul(self.width));
        let end = Timestamp(start.0.saturating_add(col_ns.saturating_mul(columns)));
        let _ = writeln!(
            s,
            "<text x=\"{label_w}\" y=\"14\" class=\"axis\">{}</text>\
             <text x=\"{}\" y=\"14\" class=\"axis\" text-anchor=\"end\">{}</text>\
             <text x=\"{}\" y=\"28\" class=\"axis\" text-anchor=\"middle\">one column = {}</text>\
             <text x=\"{}\" y=\"28\" class=\"axis\" text-anchor=\"end\">requests</text>",
            short_time(start),
            label_w + chart_w,
            short_time(end),
            label_w + chart_w / 2.0,
            duration(col_ns),
            width - 4.0,
        );
        for (row, cells) in grid.iter().enumerate() {
            let y = top + row_h * row as f64;
            let (name, total) = match shown.get(row) {
                Some(i) => (
                    self.names.get(*i).cloned().unwrap_or_default(),
                    self.totals.get(*i).copied().unwrap_or(0),
                ),
                None => (format!("({others} other hosts)"), cells.iter().sum::<u64>()),
            };
            let _ = writeln!(
                s,
                "<g class=\"row\"><title>{}: {total} leaking requests</title>\
                 <text x=\"{}\" y=\"{}\" text-anchor=\"end\" class=\"host\">{}</text>\
                 <line x1=\"{label_w}\" x2=\"{}\" y1=\"{}\" y2=\"{}\" class=\"base\"/>",
                esc(&name),
                label_w - 8.0,
                y + row_h * 0.62,
                esc(clip(&name, 32)),
                label_w + chart_w,
                y + row_h - 4.0,
                y + row_h - 4.0
            );
            for (col, n) in cells.iter().enumerate() {
                if *n == 0 {
                    continue;
                }
                let h = ((row_h - 8.0) * (*n as f64) / (max as f64)).max(2.0);
                let x = label_w + bar_w * col as f64;
                let from = Timestamp(start.0.saturating_add(col_ns.saturating_mul(col as i64)));
                let _ = writeln!(
                    s,
                    "<rect class=\"bar c{}\" x=\"{x:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{h:.1}\">\
                     <title>{}: {n} from {}</title></rect>",
                    row % 6,
                    y + row_h - 4.0 - h,
                    (bar_w - 1.0).max(1.0),
                    esc(clip(&name, 100)),
                    short_time(from)
                );
            }
            let _ = writeln!(
                s,
                "<text x=\"{}\" y=\"{}\" text-anchor=\"end\" class=\"total\">{total}</text></g>",
                width - 4.0,
                y + row_h * 0.62
            );
        }
        s.push_str("</svg>\n");
        Some(s)
    }
}

/// `2012-01-25 10:00:05` (the exact time is in the cell's title).
/// The heading: the one input read, or as many files as the `files` tile counts.
fn title(read: &[&str], files: u64) -> String {
    match (read, files) {
        ([one], 0 | 1) => format!("phoneleak report: {}", clip(one, 120)),
        (_, 0) => "phoneleak report".to_string(),
        (_, 1) => "phoneleak report: 1 file".to_string(),
        (_, n) => format!("phoneleak report: {n} files"),
    }
}

/// How one input of the run fared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fate<'a> {
    Read,
    /// Read up to a problem (a cut last record, damage).
    InPart,
    /// Skipped by a folder walk, and why.
    Skipped(&'a str),
    /// Nothing could be read, and why.
    NotRead(&'a str),
}

/// Each input with its fate (inputs in the order given; then the files a
/// walk skipped before they became inputs: FIFOs, devices, sockets).
fn fates<'a>(inputs: &'a [String], summary: &'a Summary) -> Vec<(&'a str, Fate<'a>)> {
    let skipped: HashMap<&str, &str> = summary
        .skipped
        .iter()
        .map(|(f, why)| (f.as_str(), why.as_str()))
        .collect();
    let mut errors: HashMap<&str, Fate> = HashMap::new();
    for e in &summary.errors {
        let fate = if e.partial {
            Fate::InPart
        } else {
            Fate::NotRead(&e.error)
        };
        errors.entry(e.file.as_str()).or_insert(fate);
    }
    let fate = |name: &str| -> Fate<'a> {
        match (skipped.get(name), errors.get(name)) {
            (Some(why), _) => Fate::Skipped(why),
            (None, Some(fate)) => *fate,
            (None, None) => Fate::Read,
        }
    };
    let mut all: Vec<(&str, Fate)> = inputs.iter().map(|n| (n.as_str(), fate(n))).collect();
    let listed: std::collections::HashSet<&str> = inputs.iter().map(String::as_str).collect();
    for (name, why) in &summary.skipped {
        if !listed.contains(name.as_str()) {
            all.push((name.as_str(), Fate::Skipped(why)));
        }
    }
    all
}

/// The inputs of which something was read.
fn inputs_read<'a>(inputs: &'a [String], summary: &'a Summary) -> Vec<&'a str> {
    fates(inputs, summary)
        .into_iter()
        .filter(|(_, f)| matches!(f, Fate::Read | Fate::InPart))
        .map(|(n, _)| n)
        .collect()
}

/// The list of inputs, each not read whole marked with why.
fn write_inputs(d: &mut String, inputs: &[String], summary: &Summary) {
    let all = fates(inputs, summary);
    if all.is_empty() {
        return;
    }
    let read = all
        .iter()
        .filter(|(_, f)| matches!(f, Fate::Read | Fate::InPart))
        .count();
    let skipped = all
        .iter()
        .filter(|(_, f)| matches!(f, Fate::Skipped(_)))
        .count();
    let not_read = all.len() - read - skipped;
    let mut counts = format!("{read} read");
    if skipped > 0 {
        let _ = write!(counts, ", {skipped} skipped");
    }
    if not_read > 0 {
        let _ = write!(counts, ", {not_read} not read");
    }
    let open = if all.len() <= 3 { " open" } else { "" };
    let _ = write!(
        d,
        "<details class=\"inputs\"{open}><summary>Inputs ({counts})</summary><ul>"
    );
    for (name, fate) in all.iter().take(500) {
        let name = esc(clip(name, 300));
        let _ = match fate {
            Fate::Read => write!(d, "<li><code>{name}</code></li>"),
            Fate::InPart => write!(
                d,
                "<li><code>{name}</code> <span class=\"tag\">read in part</span></li>"
            ),
            Fate::Skipped(why) => write!(
                d,
                "<li class=\"skipped\"><code>{name}</code> <span class=\"tag\">skipped: {}</span></li>",
                esc(clip(why, 300))
            ),
            Fate::NotRead(why) => write!(
                d,
                "<li class=\"skipped\"><code>{name}</code> <span class=\"tag\">not read: {}</span></li>",
                esc(clip(why, 300))
            ),
        };
    }
    if all.len() > 500 {
        let _ = write!(d, "<li>… and {} more</li>", all.len() - 500);
    }
    d.push_str("</ul></details>\n");
}

fn table_time(ts: Timestamp) -> String {
    let full = ts.rfc3339().to_string();
    match (full.get(..10), full.get(11..19)) {
        (Some(day), Some(time)) => format!("{day} {time}"),
        _ => full,
    }
}

/// `2012-01-25 10:00:05 UTC`.
fn short_time(ts: Timestamp) -> String {
    format!("{} UTC", table_time(ts))
}

/// A bucket width for people: `1 s`, `4 min`, `2 h`, `3 d`.
fn duration(ns: i64) -> String {
    let secs = ns / 1_000_000_000;
    match secs {
        s if s < 120 => format!("{s} s"),
        s if s < 7_200 => format!("{} min", s / 60),
        s if s < 172_800 => format!("{} h", s / 3_600),
        s => format!("{} d", s / 86_400),
    }
}

/// At most `max` characters of `s`.
fn clip(s: &str, max: usize) -> &str {
    match s.char_indices().nth(max) {
        Some((i, _)) => s.get(..i).unwrap_or(s),
        None => s,
    }
}

/// A self-contained page in the report's style (the same head, policy and
/// style sheet) around `body`, which must be escaped HTML: for the other
/// commands' reports (`diff --html`).
pub fn standalone_page(title: &str, body: &str) -> String {
    let nonce = nonce();
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; \
         style-src 'nonce-{nonce}'\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"generator\" content=\"phoneleak {}\">\n\
         <title>{}</title>\n<style nonce=\"{nonce}\">{STYLE}</style></head>\n<body>\n\
         <h1>{}</h1>\n{body}</body></html>\n",
        env!("CARGO_PKG_VERSION"),
        esc(title),
        esc(title)
    )
}

/// [`esc`] for the other commands' pages.
pub fn escape_html(s: &str) -> String {
    esc(s)
}

/// Escapes text for HTML element content and quoted attributes; control
/// characters (which HTML cannot carry) become U+FFFD.
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\t' => out.push(' '),
            c if c.is_control() => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

/// A fresh value for the Content-Security-Policy nonce of the inline style and script.
fn nonce() -> String {
    use std::hash::BuildHasher;
    let state = std::collections::hash_map::RandomState::new();
    format!(
        "{:016x}{:016x}",
        state.hash_one(0u8),
        state.hash_one(std::process::id())
    )
}

const STYLE: &str = r#"
:root{--fg:#1d2330;--dim:#5f6b7a;--line:#d9dee5;--bg:#fff;--soft:#f4f6f9;--bad:#b3261e;--badbg:#fdecea;--good:#1e7b34}
*{box-sizing:border-box}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;color:var(--fg);background:var(--bg);margin:0 auto;max-width:1440px;padding:16px 24px 40px}
h1{font-size:22px;margin:8px 0 4px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid var(--line);padding-bottom:4px}h3{font-size:15px}
code{font:12.5px/1.3 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;overflow-wrap:anywhere}
.note{color:var(--dim)}.warn{color:var(--bad);font-weight:600}.dim{color:var(--dim)}
.cards{display:flex;flex-wrap:wrap;gap:8px;margin:10px 0}
.card{flex:1 1 0;border:1px solid var(--line);border-radius:6px;padding:6px 10px;min-width:96px;background:var(--soft)}
.card .v{font-size:20px;font-weight:650}.card .k{color:var(--dim);font-size:12px}
.card.bad{background:var(--badbg);border-color:#f1b7b2}.card.bad .v{color:var(--bad)}.card.good .v{color:var(--good)}
table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:4px 6px;border-bottom:1px solid var(--line);vertical-align:top}
#receivers-table{font-size:13px}
thead th{background:var(--soft);cursor:pointer;user-select:none;white-space:nowrap}
td.num,th.num{text-align:right}
.scroll{overflow-x:auto}
#receivers-table td{overflow-wrap:anywhere}#receivers-table td.num,#receivers-table td.t{white-space:nowrap}
#receivers-table td:first-child{min-width:9em}
.filter{margin:4px 0 8px;padding:4px 8px;width:260px;border:1px solid var(--line);border-radius:4px}
svg.timeline{max-width:100%;height:auto;font:12px system-ui,sans-serif}
svg .axis{fill:var(--dim);font-size:11px}svg .host{fill:var(--fg)}svg .total{fill:var(--dim)}
svg .base{stroke:var(--line)}
svg .c0{fill:#b3261e}svg .c1{fill:#1f6feb}svg .c2{fill:#8250df}svg .c3{fill:#bf8700}svg .c4{fill:#1a7f37}svg .c5{fill:#cf222e}
details.req{border:1px solid var(--line);border-radius:6px;margin:6px 0;padding:4px 8px}
details.req summary{cursor:pointer}details.req .host{font-weight:600}
table.hdrs{margin:6px 0 2px}table.hdrs th{width:220px;font-weight:500;color:var(--dim);font-family:ui-monospace,Menlo,Consolas,monospace;font-size:12.5px;word-break:break-all}
table.hdrs td{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:12.5px;word-break:break-all}
tr.leak th,tr.leak td{background:var(--badbg);color:var(--bad);font-weight:650}
.tag{font:11px system-ui,sans-serif;background:var(--soft);color:var(--dim);border-radius:3px;padding:0 4px;font-weight:400}
.ts{color:var(--dim);font-family:ui-monospace,Menlo,Consolas,monospace;font-size:12.5px}
table.counters{width:auto}table.counters th{font-weight:400;font-family:ui-monospace,Menlo,Consolas,monospace}
footer{margin-top:32px;color:var(--dim);font-size:12px}
details.inputs,details.errors{margin:8px 0}details.errors summary{color:var(--bad);font-weight:600}
details.inputs ul,details.errors ul{margin:4px 0;padding-left:22px}
li.skipped{color:var(--dim)}table.counters th{overflow-wrap:anywhere}
@media (max-width:640px){body{padding:10px 10px 32px}.filter{width:100%}
#receivers-table td{white-space:nowrap}#receivers-table td:first-child{white-space:normal;min-width:45vw}
#receivers-table td:first-child,#receivers-table th:first-child{position:sticky;left:0;background:var(--bg);z-index:1}
#receivers-table th:first-child{background:var(--soft)}
table.hdrs th,table.hdrs td{display:block;width:auto;border-bottom:0;padding:2px 4px}table.hdrs tr{display:block;border-bottom:1px solid var(--line)}}
@media print{.filter{display:none}details.req{break-inside:avoid}}
"#;

const SCRIPT: &str = r#"
(function(){
  document.documentElement.setAttribute('data-script','ran');
  document.querySelectorAll('input.filter').forEach(function(box){
    var target=document.getElementById(box.getAttribute('data-target'));
    if(!target)return;
    box.addEventListener('input',function(){
      var q=box.value.toLowerCase();
      var items=target.tagName==='TABLE'?target.tBodies[0].rows:target.children;
      for(var i=0;i<items.length;i++){
        items[i].hidden=q!==''&&items[i].textContent.toLowerCase().indexOf(q)<0;
      }
    });
  });
  document.querySelectorAll('table.sortable').forEach(function(table){
    var heads=table.tHead.rows[0].cells;
    for(var c=0;c<heads.length;c++)(function(col,th){
      var asc=false;
      th.addEventListener('click',function(){
        asc=!asc;
        var body=table.tBodies[0],rows=Array.prototype.slice.call(body.rows);
        var num=th.classList.contains('num');
        rows.sort(function(a,b){
          var x=a.cells[col].textContent,y=b.cells[col].textContent;
          var r=num?(Number(x)-Number(y)):x.localeCompare(y);
          return asc?r:-r;
        });
        rows.forEach(function(r){body.appendChild(r);});
      });
    })(c,heads[c]);
  });
})();
"#;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::Detector;
    use crate::http::{Header, Request};
    use crate::pipeline::{Finding, Stats};
    use crate::report::{InputError, Sink};

    fn request(i: u64, host: &str, headers: &[(&str, &str)]) -> Request {
        Request {
            ts: Timestamp::from_parts(1_327_485_600 + (i / 10) as i64, (i % 10) as u32 * 1000),
            client: "10.20.30.40:49152".parse().unwrap(),
            server: "192.0.2.10:80".parse().unwrap(),
            flow_id: i,
            method: "GET".into(),
            uri: format!("/page/{i}"),
            version: "HTTP/1.1".into(),
            headers: std::iter::once(("Host", host))
                .chain(headers.iter().copied())
                .map(|(n, v)| Header {
                    name: n.into(),
                    value: v.into(),
                })
                .collect(),
            truncated: false,
            flow_order: (0, i),
            tunnel: None,
            tls: None,
            stream_id: None,
            pushed_on: None,
            authority: None,
            answer_awaited: false,
            body: None,
        }
    }

    fn finding(detector: &Detector, request: Request) -> Finding {
        let leaks = detector.inspect(&request);
        Finding {
            request,
            leaks,
            below_min_confidence: Vec::new(),
            order: Default::default(),
        }
    }

    fn summary(leaking: u64) -> Summary {
        Summary {
            files: 1,
            stats: Stats {
                leaking_requests: leaking,
                leaks: leaking,
                ..Stats::default()
            },
            errors: Vec::new(),
            shard: None,
            capture: None,
            min_confidence: crate::detect::Confidence::Low,
            new_leaks: leaking,
            baseline: None,
            skipped: Vec::new(),
        }
    }

    fn render(findings: &[Finding], opts: ReportOptions) -> String {
        let (mut report, buf) = crate::report::test_report(opts, |b| {
            Box::new(HtmlSink::new(b, opts).with_inputs(vec!["a.pcap".into()]))
        });
        for f in findings {
            report.finding(f).unwrap();
        }
        report.summary(&summary(findings.len() as u64)).unwrap();
        buf.text()
    }

    #[test]
    fn capture_strings_are_escaped() {
        let d = Detector::new();
        let evil = "<script>alert(1)</script>";
        let f = finding(
            &d,
            request(
                1,
                "\"><script>alert('host')</script>",
                &[
                    ("X-MSISDN", "447700900123"),
                    ("User-Agent", evil),
                    ("<img src=x onerror=alert(2)>", "1"),
                ],
            ),
        );
        let html = render(&[f], ReportOptions::default());
        // Exactly one script element: ours.
        assert_eq!(html.matches("<script").count(), 1, "{html}");
        assert!(!html.contains("<img"), "{html}");
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(html.contains("&lt;img src=x onerror=alert(2)&gt;"));
        assert!(html.contains("&quot;&gt;&lt;script&gt;alert(&#39;host&#39;)"));
        // Nothing is loaded from anywhere.
        for needle in ["src=\"http", "href=\"http", "@import", "url("] {
            assert!(!html.contains(needle), "{needle}");
        }
        assert!(html.contains("Content-Security-Policy"));
    }

    #[test]
    fn sections_masking_and_the_highlighted_header() {
        let d = Detector::new();
        let findings: Vec<Finding> = (0..30)
            .map(|i| {
                let host = if i % 3 == 0 { "a.example" } else { "b.example" };
                finding(
                    &d,
                    request(i, host, &[("x-up-calling-line-id", "447700900123")]),
                )
            })
            .collect();
        let html = render(&findings, ReportOptions::default());
        for needle in [
            "id=\"summary\"",
            "Who received the number",
            "<svg class=\"timeline\"",
            "<rect class=\"bar",
            "tr class=\"leak\"><th>x-up-calling-line-id</th><td>44*******123",
            "<td class=\"num\">20</td>",
            "<td class=\"num\">10</td>",
        ] {
            assert!(html.contains(needle), "missing {needle}");
        }
        assert!(!html.contains("7700900123"), "masked by default");
        let clear = render(
            &findings,
            ReportOptions {
                show_numbers: true,
                ..ReportOptions::default()
            },
        );
        assert!(clear.contains("+447700900123") && clear.contains("personal data"));
    }

    #[test]
    fn a_clean_run_says_so() {
        let html = render(&[], ReportOptions::default());
        assert!(html.contains("No request leaked"));
        assert!(html.contains("No leaking request to draw"));
        assert!(html.ends_with("</html>\n"));
    }

    #[test]
    fn the_heading_counts_the_files_read_and_skipped_inputs_are_marked() {
        let inputs: Vec<String> = ["a.pcap", "d/README.md", "d/b.pcap", "cut.pcap", "bad.pcap"]
            .map(String::from)
            .to_vec();
        let error = |file: &str, partial| InputError {
            file: file.into(),
            offset: Some(0),
            error: "broken".into(),
            partial,
            went_on: false,
            severity: crate::report::Severity::Error,
        };
        let mut s = summary(0);
        s.files = 3;
        s.skipped = vec![
            ("d/README.md".into(), "not a capture".into()),
            ("d/fifo".into(), "a FIFO".into()),
        ];
        s.errors = vec![error("cut.pcap", true), error("bad.pcap", false)];
        let mut sink = HtmlSink::new(Vec::new(), ReportOptions::default()).with_inputs(inputs);
        sink.summary(&s, &Tally::default()).unwrap();
        let html = String::from_utf8(sink.into_inner()).unwrap();
        assert!(
            html.contains("<h1>phoneleak report: 3 files</h1>"),
            "{html}"
        );
        assert!(html.contains("<div class=\"v\">3</div><div class=\"k\">files</div>"));
        assert!(html.contains("<summary>Inputs (3 read, 2 skipped, 1 not read)</summary>"));
        assert!(html.contains(
            "<li class=\"skipped\"><code>d/README.md</code> <span class=\"tag\">skipped: not a capture</span></li>"
        ));
        assert!(html.contains("<code>d/fifo</code> <span class=\"tag\">skipped: a FIFO</span>"));
        assert!(html.contains("<code>cut.pcap</code> <span class=\"tag\">read in part</span>"));
        assert!(html.contains("<code>bad.pcap</code> <span class=\"tag\">not read: broken</span>"));
        assert!(html.contains("<li><code>a.pcap</code></li>"));
        // One input read names the report.
        assert_eq!(title(&["x.pcap"], 1), "phoneleak report: x.pcap");
        assert_eq!(title(&["eth0"], 0), "phoneleak report: eth0");
        assert_eq!(
            title(&["p1.jsonl", "p2.jsonl"], 1),
            "phoneleak report: 1 file"
        );
    }

    #[test]
    fn ten_thousand_leaking_requests_stay_small() {
        let d = Detector::new();
        let opts = ReportOptions::default();
        let (mut sink, buf) =
            crate::report::test_report(opts, |b| Box::new(HtmlSink::new(b, opts)));
        let big_cookie = "c".repeat(8000);
        let n = 10_000u64;
        for i in 0..n {
            // Many hosts, many numbers, a long value and hours of capture time.
            let host = format!("host{}.example", i % 5000);
            let number = format!("4477009{:05}", i % 40_000);
            // The long value goes to the requests the report lists (and as
            // many more): the others are never shown, and masking a number in
            // 8000 characters for each of them took minutes in a debug build
            // without checking anything more.
            let cookie = if i < 2 * MAX_LISTED as u64 {
                big_cookie.as_str()
            } else {
                "session=1"
            };
            let mut r = request(i, &host, &[("X-MSISDN", &number), ("Cookie", cookie)]);
            r.ts = Timestamp::from_parts(1_327_485_600 + (i as i64) * 7, 0);
            sink.finding(&finding(&d, r)).unwrap();
        }
        sink.summary(&summary(n)).unwrap();
        let html = buf.text();
        assert!(html.len() < 4 << 20, "{} bytes", html.len());
        assert!(html.contains(&format!("The first {MAX_LISTED} of {n} leaking requests")));
        assert!(html.contains(&format!("The {MAX_TABLE_ROWS} busiest of")));
        assert!(html.contains("other hosts)"));
        assert_eq!(html.matches("<details class=\"req\"").count(), MAX_LISTED);
        // (The destination table's row cap is the Tally's; report/tally.rs
        // tests it.)
    }

    #[test]
    fn timeline_buckets_widen_and_stay_bounded() {
        let mut t = Timeline::default();
        for i in 0..300_000i64 {
            t.add(&format!("h{}", i % 3), Timestamp::from_parts(i * 3, 0));
        }
        assert!(t.cells.len() <= MAX_TIME_BUCKETS);
        assert!(t.width > 1_000_000_000);
        let svg = t.svg().unwrap();
        assert_eq!(svg.matches("<g class=\"row\"").count(), 3);
        assert!(svg.matches("<rect").count() <= 3 * COLUMNS as usize);
        // Every request is in some bar.
        let total: u64 = t.cells.values().sum();
        assert_eq!(total, 300_000);
    }

    #[test]
    fn clip_and_escape_handle_any_text() {
        assert_eq!(clip("héllo", 2), "hé");
        assert_eq!(clip("hi", 5), "hi");
        assert_eq!(esc("a\u{0}b\tc"), "a\u{fffd}b c");
        assert_eq!(duration(1_000_000_000), "1 s");
        assert_eq!(duration(3_600_000_000_000), "60 min");
        assert_eq!(short_time(Timestamp(0)), "1970-01-01 00:00:00 UTC");
        assert_eq!(table_time(Timestamp(0)), "1970-01-01 00:00:00");
    }
}
