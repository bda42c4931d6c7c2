//! The formats of `phoneleak diff`: JSON lines (one `pair` line per paired
//! request, one `unmatched` line per request without a partner, then the
//! `diff_header` aggregate lines and one `diff_summary`; `docs/output.md`)
//! and the text report (what was added, changed and removed, to which hosts,
//! for how many requests; the unmatched requests; the verdict). Both take
//! the same [`Totals`], which bound what they keep.
use std::collections::BTreeMap;
use std::io::{self, Write};

use serde::Serialize;

use super::{Class, DiffOutcome, DiffStats, Event, HeaderChange, Pair, Unmatched};
use crate::report::{InputError, Printable, escape_html, standalone_page};

/// Most header rows of the aggregate tables; changes past it are counted in
/// [`Totals::folded`].
pub const MAX_ROWS: usize = 1000;
/// Most hosts named per row (the rest are counted).
pub const MAX_HOSTS: usize = 20;
/// Most unmatched requests the text report lists.
pub const MAX_LISTED: usize = 50;

/// What happened to a header on the way.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Change {
    /// AFTER only.
    Added,
    /// Both, other values.
    Changed,
    /// BEFORE only.
    Removed,
}

impl Change {
    fn as_str(self) -> &'static str {
        match self {
            Change::Added => "added",
            Change::Changed => "changed",
            Change::Removed => "removed",
        }
    }
}

/// One aggregate row: a header name and what happened to it.
#[derive(Debug, Clone, Serialize)]
pub struct HeaderRow {
    /// Added, changed or removed.
    pub change: Change,
    /// The name in its first wire case.
    pub name: String,
    /// Its class (the strongest seen: identifier before operational before other).
    pub class: Class,
    /// Pairs it happened in.
    pub requests: u64,
    /// Hosts it happened for, with their pair counts (at most [`MAX_HOSTS`]).
    pub hosts: BTreeMap<String, u64>,
    /// Pairs for hosts past [`MAX_HOSTS`].
    pub other_hosts: u64,
    /// One value as shown (masked unless `--show-numbers`).
    pub example: String,
}

/// The aggregates of a diff, bounded.
#[derive(Debug, Clone, Default)]
pub struct Totals {
    rows: BTreeMap<(Change, String), HeaderRow>,
    /// Header changes past [`MAX_ROWS`] rows.
    pub folded: u64,
    /// Pairs whose request line changed, and one example (before, after).
    pub request_lines: (u64, Option<(String, String)>),
    /// The first [`MAX_LISTED`] unmatched requests.
    pub unmatched: Vec<Unmatched>,
}

impl Totals {
    /// Counts one event.
    pub fn add(&mut self, e: &Event) {
        match e {
            Event::Pair(p) => self.pair(p),
            Event::Unmatched(u) => {
                if self.unmatched.len() < MAX_LISTED {
                    self.unmatched.push((**u).clone());
                }
            }
        }
    }

    fn pair(&mut self, p: &Pair) {
        if p.request_line_changed {
            self.request_lines.0 += 1;
            if self.request_lines.1.is_none() {
                self.request_lines.1 =
                    Some((p.before.request_line.clone(), p.after.request_line.clone()));
            }
        }
        for (change, list) in [
            (Change::Added, &p.added),
            (Change::Changed, &p.changed),
            (Change::Removed, &p.removed),
        ] {
            // One count per pair and name, however many lines it has.
            let mut done: Vec<String> = Vec::new();
            for c in list {
                let lower = c.name.to_ascii_lowercase();
                if done.contains(&lower) {
                    continue;
                }
                done.push(lower.clone());
                self.row(change, lower, c, &p.host);
            }
        }
    }

    fn row(&mut self, change: Change, lower: String, c: &HeaderChange, host: &str) {
        let full = self.rows.len() >= MAX_ROWS;
        let key = (change, lower);
        if full && !self.rows.contains_key(&key) {
            self.folded += 1;
            return;
        }
        let example = match change {
            Change::Removed => c.before.clone(),
            Change::Added => c.after.clone(),
            Change::Changed => Some(format!(
                "{} -> {}",
                c.before.as_deref().unwrap_or(""),
                c.after.as_deref().unwrap_or("")
            )),
        }
        .unwrap_or_default();
        let row = self.rows.entry(key).or_insert_with(|| HeaderRow {
            change,
            name: c.name.clone(),
            class: c.class,
            requests: 0,
            hosts: BTreeMap::new(),
            other_hosts: 0,
            example,
        });
        row.class = row.class.min(c.class);
        row.requests += 1;
        if let Some(n) = row.hosts.get_mut(host) {
            *n += 1;
        } else if row.hosts.len() < MAX_HOSTS {
            row.hosts.insert(host.to_string(), 1);
        } else {
            row.other_hosts += 1;
        }
    }

    /// The rows: added, changed, removed; identifiers first, then by pairs.
    pub fn rows(&self) -> Vec<&HeaderRow> {
        let mut rows: Vec<&HeaderRow> = self.rows.values().collect();
        rows.sort_by(|a, b| {
            (a.change, a.class, std::cmp::Reverse(a.requests), &a.name).cmp(&(
                b.change,
                b.class,
                std::cmp::Reverse(b.requests),
                &b.name,
            ))
        });
        rows
    }
}

/// The end of a diff, for its summary.
#[derive(Debug, Clone, Serialize)]
pub struct DiffSummary {
    /// The BEFORE inputs.
    pub before: Vec<String>,
    /// The AFTER inputs.
    pub after: Vec<String>,
    /// AFTER's clock minus BEFORE's, seconds.
    pub offset_seconds: f64,
    /// Whether the offset was estimated from the requests (else given or 0).
    pub offset_estimated: bool,
    /// The pairing window, seconds.
    pub max_skew_seconds: f64,
    /// Whether an identifier was added or rewritten on the way (exit status 1).
    pub identifier_added: bool,
    /// Header changes past the aggregate rows' cap.
    pub rows_folded: u64,
    /// The counters.
    #[serde(flatten)]
    pub stats: DiffStats,
    /// Most requests waiting for a partner at once, both sides together
    /// (what the window and `--max-pending` bound).
    pub pending_peak: u64,
    /// Inputs that could not be read (completely).
    pub errors: Vec<InputError>,
}

impl DiffSummary {
    /// The summary of `outcome`.
    pub fn new(
        before: Vec<String>,
        after: Vec<String>,
        outcome: &DiffOutcome,
        max_skew: i64,
        totals: &Totals,
        errors: Vec<InputError>,
    ) -> Self {
        let secs = |ns: i64| (ns as f64 / 1e9 * 1e6).round() / 1e6;
        DiffSummary {
            before,
            after,
            offset_seconds: secs(outcome.offset),
            offset_estimated: outcome.offset_estimated,
            max_skew_seconds: secs(max_skew),
            identifier_added: outcome.stats.pairs_with_identifier > 0,
            rows_folded: totals.folded,
            stats: outcome.stats.clone(),
            pending_peak: outcome.stats.pending_peak,
            errors,
        }
    }
}

/// A format of `diff`.
pub trait DiffFormat {
    /// One pair or unmatched request, as decided.
    fn event(&mut self, e: &Event) -> io::Result<()>;
    /// The aggregates and the summary, at the end.
    fn finish(&mut self, totals: &Totals, summary: &DiffSummary) -> io::Result<()>;
}

#[derive(Serialize)]
struct Tagged<'a, T: Serialize> {
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(flatten)]
    body: &'a T,
}

/// JSON lines (`docs/output.md`, "phoneleak diff").
pub struct DiffJsonl<W: Write> {
    out: W,
}

impl<W: Write> DiffJsonl<W> {
    /// Writes to `out`.
    pub fn new(out: W) -> Self {
        DiffJsonl { out }
    }

    fn line(&mut self, kind: &'static str, body: &impl Serialize) -> io::Result<()> {
        serde_json::to_writer(&mut self.out, &Tagged { kind, body })?;
        self.out.write_all(b"\n")
    }
}

impl<W: Write> DiffFormat for DiffJsonl<W> {
    fn event(&mut self, e: &Event) -> io::Result<()> {
        match e {
            Event::Pair(p) => self.line("pair", p.as_ref()),
            Event::Unmatched(u) => self.line("unmatched", u.as_ref()),
        }
    }

    fn finish(&mut self, totals: &Totals, summary: &DiffSummary) -> io::Result<()> {
        for row in totals.rows() {
            self.line("diff_header", row)?;
        }
        self.line("diff_summary", summary)?;
        self.out.flush()
    }
}

/// The text report.
pub struct DiffText<W: Write> {
    out: W,
}

impl<W: Write> DiffText<W> {
    /// Writes to `out`.
    pub fn new(out: W) -> Self {
        DiffText { out }
    }
}

/// Seconds with a sign and milliseconds.
fn seconds(s: f64) -> String {
    format!("{s:+.3} s")
}

impl<W: Write> DiffFormat for DiffText<W> {
    fn event(&mut self, _: &Event) -> io::Result<()> {
        Ok(())
    }

    fn finish(&mut self, totals: &Totals, s: &DiffSummary) -> io::Result<()> {
        let o = &mut self.out;
        let st = &s.stats;
        writeln!(
            o,
            "BEFORE  {}  ({} requests)",
            Printable(&s.before.join(", ")),
            st.requests_before
        )?;
        writeln!(
            o,
            "AFTER   {}  ({} requests)",
            Printable(&s.after.join(", ")),
            st.requests_after
        )?;
        let how = if s.offset_estimated {
            format!("estimated from {} unambiguous pairs", st.offset_samples)
        } else {
            "not estimated".to_string()
        };
        writeln!(
            o,
            "clock   AFTER {} from BEFORE ({how}); pairs within ±{:.3} s",
            seconds(s.offset_seconds),
            s.max_skew_seconds
        )?;
        let rows = totals.rows();
        for change in [Change::Added, Change::Changed, Change::Removed] {
            let mine: Vec<&&super::output::HeaderRow> =
                rows.iter().filter(|r| r.change == change).collect();
            if mine.is_empty() {
                continue;
            }
            writeln!(o)?;
            writeln!(o, "Headers {} on the way", change.as_str())?;
            for r in mine {
                let mut hosts: Vec<String> = r
                    .hosts
                    .keys()
                    .take(5)
                    .map(|h| Printable(h).to_string())
                    .collect();
                let more = r.hosts.len().saturating_sub(5) as u64 + r.other_hosts.min(1);
                if more > 0 || r.other_hosts > 0 {
                    hosts.push("...".into());
                }
                let n_hosts = r.hosts.len() as u64 + r.other_hosts;
                writeln!(
                    o,
                    "  {:<11} {}  {} request{} to {} host{}: {}",
                    r.class.as_str(),
                    Printable(&r.name),
                    r.requests,
                    if r.requests == 1 { "" } else { "s" },
                    if r.other_hosts > 0 {
                        format!("{}+", r.hosts.len())
                    } else {
                        n_hosts.to_string()
                    },
                    if n_hosts == 1 { "" } else { "s" },
                    hosts.join(", ")
                )?;
                writeln!(o, "              e.g. {}", Printable(&r.example))?;
            }
        }
        if totals.request_lines.0 > 0 {
            writeln!(o)?;
            writeln!(o, "Request lines changed: {}", totals.request_lines.0)?;
            if let Some((b, a)) = &totals.request_lines.1 {
                writeln!(o, "  e.g. {}  ->  {}", Printable(b), Printable(a))?;
            }
        }
        let unmatched = st.unmatched_before + st.unmatched_after;
        if unmatched > 0 {
            writeln!(o)?;
            writeln!(o, "Seen on one side only")?;
            for u in &totals.unmatched {
                writeln!(
                    o,
                    "  {:<6} {}  {} {}  {}: {}",
                    match u.side {
                        super::SideName::Before => "BEFORE",
                        super::SideName::After => "AFTER",
                    },
                    u.seen.ts,
                    Printable(&u.host),
                    Printable(&u.seen.request_line),
                    u.reason_shown(),
                    u.reason.explain()
                )?;
            }
            let listed = totals.unmatched.len() as u64;
            if unmatched > listed {
                writeln!(o, "  ... and {} more", unmatched - listed)?;
            }
        }
        writeln!(o)?;
        writeln!(
            o,
            "{} pairs, {} with headers changed, {} with an identifier added or rewritten; \
             unmatched: {} BEFORE, {} AFTER",
            st.pairs,
            st.pairs_changed,
            st.pairs_with_identifier,
            st.unmatched_before,
            st.unmatched_after
        )?;
        if st.answered_on_the_way + st.no_response > 0 {
            writeln!(
                o,
                "BEFORE only: {} answered on the way, {} with no response seen, {} whose \
                 responses were not read",
                st.answered_on_the_way, st.no_response, st.not_forwarded
            )?;
        }
        if st.pairs_body_changed > 0 {
            writeln!(
                o,
                "{} pairs arrived with another body than was sent",
                st.pairs_body_changed
            )?;
        }
        if st.pending_cap > 0 || s.rows_folded > 0 {
            writeln!(
                o,
                "caps: {} requests given up at --max-pending, {} header changes past {MAX_ROWS} rows",
                st.pending_cap, s.rows_folded
            )?;
        }
        for e in &s.errors {
            writeln!(
                o,
                "{}: {}: {}",
                e.severity.as_str(),
                Printable(&e.file),
                Printable(&e.error)
            )?;
        }
        if s.identifier_added {
            writeln!(o, "verdict: identifiers were added on the way")?;
        } else if st.pairs == 0 {
            writeln!(o, "verdict: none, no request paired (nothing was compared)")?;
        } else {
            writeln!(o, "verdict: no identifier was added on the way")?;
        }
        o.flush()
    }
}

/// A self-contained HTML page (`--html FILE`): the verdict, the counts, the
/// header changes with their classes and hosts, the request-line changes
/// and the requests seen on one side only; in the scan report's style.
pub struct DiffHtml<W: Write> {
    out: W,
}

impl<W: Write> DiffHtml<W> {
    /// Writes to `out`.
    pub fn new(out: W) -> Self {
        DiffHtml { out }
    }
}

impl<W: Write> DiffFormat for DiffHtml<W> {
    fn event(&mut self, _: &Event) -> io::Result<()> {
        Ok(())
    }

    fn finish(&mut self, totals: &Totals, s: &DiffSummary) -> io::Result<()> {
        use std::fmt::Write as _;
        let e = |t: &str| escape_html(t);
        let st = &s.stats;
        let mut b = String::new();
        let _ = writeln!(
            b,
            "<p class=\"note\">BEFORE {} ({} requests) &middot; AFTER {} ({} requests) \
             &middot; AFTER's clock {} from BEFORE's &middot; pairs within &plusmn;{:.3} s</p>",
            e(&s.before.join(", ")),
            st.requests_before,
            e(&s.after.join(", ")),
            st.requests_after,
            e(&seconds(s.offset_seconds)),
            s.max_skew_seconds
        );
        let verdict = if s.identifier_added {
            "<p class=\"warn\">Identifiers were added on the way.</p>"
        } else if st.pairs == 0 {
            "<p class=\"warn\">No request paired: nothing was compared.</p>"
        } else {
            "<p>No identifier was added on the way.</p>"
        };
        b.push_str(verdict);
        b.push_str("<div class=\"cards\">");
        for (k, v, bad) in [
            ("pairs", st.pairs, false),
            ("with an identifier added", st.pairs_with_identifier, true),
            ("with headers changed", st.pairs_changed, false),
            ("BEFORE only", st.unmatched_before, false),
            ("AFTER only", st.unmatched_after, false),
        ] {
            let class = if bad && v > 0 { "card bad" } else { "card" };
            let _ = write!(
                b,
                "<div class=\"{class}\"><div class=\"v\">{v}</div><div class=\"k\">{k}</div></div>"
            );
        }
        b.push_str("</div>\n<h2>Headers changed on the way</h2>\n");
        b.push_str(
            "<div class=\"scroll\"><table><thead><tr><th>change</th><th>class</th><th>header</th>\
             <th class=\"num\">requests</th><th>hosts</th><th>example</th></tr></thead><tbody>\n",
        );
        for r in totals.rows() {
            let mut hosts: Vec<String> = r
                .hosts
                .iter()
                .map(|(h, n)| format!("{} ({n})", e(h)))
                .collect();
            if r.other_hosts > 0 {
                hosts.push(format!("{} more requests", r.other_hosts));
            }
            let _ = writeln!(
                b,
                "<tr><td>{}</td><td>{}</td><td><code>{}</code></td><td class=\"num\">{}</td>\
                 <td>{}</td><td><code>{}</code></td></tr>",
                r.change.as_str(),
                r.class.as_str(),
                e(&r.name),
                r.requests,
                hosts.join(", "),
                e(&r.example)
            );
        }
        b.push_str("</tbody></table></div>\n");
        if let (n, Some((before, after))) = &totals.request_lines
            && *n > 0
        {
            let _ = writeln!(
                b,
                "<h2>Request lines changed</h2><p>{n} pairs, e.g. <code>{}</code> &rarr; <code>{}</code></p>",
                e(before),
                e(after)
            );
        }
        let unmatched = st.unmatched_before + st.unmatched_after;
        if unmatched > 0 {
            b.push_str("<h2>Seen on one side only</h2>\n<div class=\"scroll\"><table><thead><tr>\
                <th>side</th><th>time</th><th>host</th><th>request</th><th>reason</th></tr></thead><tbody>\n");
            for u in &totals.unmatched {
                let side = match u.side {
                    super::SideName::Before => "BEFORE",
                    super::SideName::After => "AFTER",
                };
                let _ = writeln!(
                    b,
                    "<tr><td>{side}</td><td>{}</td><td>{}</td><td><code>{}</code></td><td>{}: {}</td></tr>",
                    e(&u.seen.ts),
                    e(&u.host),
                    e(&u.seen.request_line),
                    u.reason_shown(),
                    u.reason.explain()
                );
            }
            b.push_str("</tbody></table></div>\n");
            let listed = totals.unmatched.len() as u64;
            if unmatched > listed {
                let _ = writeln!(b, "<p class=\"note\">and {} more</p>", unmatched - listed);
            }
        }
        for err in &s.errors {
            let _ = writeln!(
                b,
                "<p class=\"warn\">{}: {}: {}</p>",
                err.severity.as_str(),
                e(&err.file),
                e(&err.error)
            );
        }
        let page = standalone_page("phoneleak diff: what the middlebox changed", &b);
        self.out.write_all(page.as_bytes())?;
        self.out.flush()
    }
}
