//! JSON lines: one `request` object per reported request, then the
//! `leak_summary` objects, then one `summary`.
use std::io::{self, Write};

use serde::Serialize;

use super::tally::{DestinationRow, HeaderRow};
use super::{Format, Shown, Summary, Tally};
use crate::detect::discover::DiscoverReport;

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
    /// Leaks counted in overflow rows of the aggregate tables.
    leak_summary_folded: u64,
}

/// Writes the JSON-lines contract (see `docs/output.md`).
pub struct JsonlSink<W: Write> {
    out: W,
    /// One request's object, reused.
    scratch: Vec<u8>,
}

impl<W: Write> JsonlSink<W> {
    /// A format writing to `out`.
    pub fn new(out: W) -> Self {
        JsonlSink {
            out,
            scratch: Vec::new(),
        }
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

#[derive(Serialize)]
struct DiscoverLine<'a, T: Serialize> {
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(flatten)]
    body: &'a T,
}

/// The counts of `--discover`, without its rows.
#[derive(Serialize)]
struct DiscoverCounts {
    unregistered_names: u64,
    candidates: u64,
    min_sites: u64,
    min_requests: u64,
    dropped_names: u64,
    dropped_values: u64,
    single_value_names: u64,
}

impl<W: Write> Format for JsonlSink<W> {
    fn discovered(&mut self, found: &DiscoverReport) -> io::Result<()> {
        for row in &found.rows {
            self.line(&DiscoverLine {
                kind: "discover",
                body: row,
            })?;
        }
        self.line(&DiscoverLine {
            kind: "discover_summary",
            body: &DiscoverCounts {
                unregistered_names: found.unregistered_names,
                candidates: found.rows.len() as u64,
                min_sites: found.min_sites,
                min_requests: found.min_requests,
                dropped_names: found.dropped_names,
                dropped_values: found.dropped_values,
                single_value_names: found.single_value_names,
            },
        })
    }

    fn request(&mut self, shown: &Shown) -> io::Result<()> {
        // `{"type":"request",` then the fields of the shown request: as
        // `#[serde(flatten)]` would write it, without its detour through a
        // map serializer (a third of the cost of a line).
        self.scratch.clear();
        serde_json::to_writer(&mut self.scratch, shown)?;
        let fields = self.scratch.get(1..).unwrap_or_default();
        self.out.write_all(b"{\"type\":\"request\",")?;
        self.out.write_all(fields)?;
        self.out.write_all(b"\n")?;
        self.out.flush()
    }

    fn summary(&mut self, summary: &Summary, tally: &Tally) -> io::Result<()> {
        for row in tally.destination_rows() {
            self.line(&DestinationLine {
                kind: "leak_summary",
                group: "destination",
                row: &row,
            })?;
        }
        for row in tally.headers() {
            self.line(&HeaderLine {
                kind: "leak_summary",
                group: "header",
                row: &row,
            })?;
        }
        self.line(&SummaryLine {
            kind: "summary",
            summary,
            leak_summary_folded: tally.folded_leaks,
        })?;
        self.out.flush()
    }
}
