//! What a run found, summed up: who received which number (destination host
//! × header × location × key × kind × number, with request counts and
//! first/last seen), per header name the distinct numbers and hosts, and the
//! comparison with a baseline.
//!
//! A `Tally` is a value that merges: [`Tally::merge`] of the tallies of two
//! runs equals the tally of one run over both inputs (property-tested below),
//! which is what `phoneleak merge` relies on. It holds at most
//! [`MAX_ROWS`] rows; past that, the leaks of new rows are folded into
//! overflow rows (one per header, location and kind; host and number `*`,
//! at most [`MAX_OVERFLOW_ROWS`] of them, then one for all) and counted in
//! [`Tally::folded_leaks`], which the summary reports.
use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use super::baseline::{Baseline, Identity};
use super::shown::Shown;
use crate::time::Timestamp;

/// Rows kept before new ones are folded into overflow rows.
pub const MAX_ROWS: usize = 100_000;
/// Overflow rows kept before they fold into one.
pub const MAX_OVERFLOW_ROWS: usize = 1_000;
/// The host, number and subject of an overflow row.
const FOLDED: &str = "*";

/// One row of "who received the number".
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DestinationRow {
    /// The destination host (Host header, else the server address); `*` in an overflow row.
    pub host: String,
    /// The header name, lower-cased, or `(request-target)`.
    pub header: String,
    /// Where in the request: header, cookie, query, uri.
    #[serde(rename = "where")]
    pub location: String,
    /// The cookie name or parameter key, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// What leaked.
    pub kind: String,
    /// The number (E.164), masked unless `--show-numbers`; null for
    /// identifiers and national-only numbers.
    pub number: Option<String>,
    /// What leaked as written, masked unless `--show-numbers`; `*` in an overflow row.
    pub found: String,
    /// The keyed pseudonym of the number or identifier (`--subject-key`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// Requests that carried it.
    pub requests: u64,
    /// Capture time of the first of them.
    pub first_seen: String,
    /// Capture time of the last of them.
    pub last_seen: String,
    /// True for a row that sums up the leaks of rows past the cap.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub overflow: bool,
}

/// Per header name: how many distinct numbers (or identifiers) went to how
/// many hosts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HeaderRow {
    /// The header name, lower-cased, or `(request-target)`.
    pub header: String,
    /// Distinct numbers or identifiers seen in it (overflow rows not counted).
    pub numbers: u64,
    /// Distinct destination hosts that received them (overflow rows not counted).
    pub hosts: u64,
    /// Requests with a leak in it.
    pub requests: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct RowKey {
    host: String,
    header: String,
    location: String,
    key: Option<String>,
    kind: String,
    /// The number as shown, else what was found as shown: rows sort by what
    /// the reader sees, so a run and a merge of its shards agree.
    shown: String,
    /// What keeps rows apart: the clear number or text found in a scan, the
    /// pseudonym with a subject key, the shown value when merging outputs
    /// without one.
    subject: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Row {
    number: Option<String>,
    found: String,
    requests: u64,
    first: Timestamp,
    last: Timestamp,
    /// The request that counted last (a request counts once per row).
    last_request: u64,
}

/// Sums up findings as the report shows them.
#[derive(Debug)]
pub struct Tally {
    baseline: Option<Baseline>,
    pseudonyms: bool,
    max_rows: usize,
    rows: BTreeMap<RowKey, Row>,
    overflow_rows: usize,
    /// Per header: (last request counted, requests).
    header_requests: BTreeMap<String, (u64, u64)>,
    requests_seen: u64,
    /// Leaks that the baseline lists.
    pub leaks_in_baseline: u64,
    /// Leaks that count for the exit status (not in the baseline).
    pub new_leaks: u64,
    /// Leaks counted in overflow rows because the table was full.
    pub folded_leaks: u64,
}

impl Default for Tally {
    fn default() -> Self {
        Tally {
            baseline: None,
            pseudonyms: false,
            max_rows: MAX_ROWS,
            rows: BTreeMap::new(),
            overflow_rows: 0,
            header_requests: BTreeMap::new(),
            requests_seen: 0,
            leaks_in_baseline: 0,
            new_leaks: 0,
            folded_leaks: 0,
        }
    }
}

impl Tally {
    /// An empty tally comparing with `baseline`. (`_show_numbers` is kept for
    /// callers: what is shown is decided before the tally.)
    pub fn new(_show_numbers: bool, baseline: Option<Baseline>) -> Self {
        Tally {
            baseline,
            ..Tally::default()
        }
    }

    /// At most `max_rows` rows before folding (at least one).
    pub fn with_max_rows(mut self, max_rows: usize) -> Self {
        self.max_rows = max_rows.max(1);
        self
    }

    /// Rows carry the pseudonyms of their subjects (`--subject-key`).
    pub fn with_pseudonyms(mut self, on: bool) -> Self {
        self.pseudonyms = on;
        self
    }

    /// The baseline compared with, if any.
    pub fn baseline(&self) -> Option<&Baseline> {
        self.baseline.as_ref()
    }

    /// Adds one request's leaks; `subjects` are their subjects (clear, or
    /// pseudonyms), `clear` whether those are the clear values (for the
    /// baseline, which may list them in clear). Sets each leak's
    /// `in_baseline` when a baseline is given.
    pub(crate) fn record(&mut self, shown: &mut Shown, subjects: &[String], clear: bool) {
        if shown.leaks.is_empty() {
            return;
        }
        self.requests_seen += 1;
        let seq = self.requests_seen;
        let host = shown.destination().to_string();
        let ts = shown.at;
        for (i, leak) in shown.leaks.iter_mut().enumerate() {
            let header = leak.header.to_ascii_lowercase();
            let displayed = leak.shown_subject().to_string();
            let subject = subjects
                .get(i)
                .cloned()
                .unwrap_or_else(|| displayed.clone());
            if let Some(b) = &self.baseline {
                let id = |subject: &str| Identity {
                    host: host.clone(),
                    header: header.clone(),
                    location: leak.location.clone(),
                    key: leak.key.clone().unwrap_or_default(),
                    kind: leak.kind.clone(),
                    subject: subject.to_string(),
                };
                let listed = b.contains(&id(&displayed)) || (clear && b.contains(&id(&subject)));
                leak.in_baseline = Some(listed);
            }
            if leak.in_baseline == Some(true) {
                self.leaks_in_baseline += 1;
            } else {
                self.new_leaks += 1;
            }
            let key = RowKey {
                host: host.clone(),
                header: header.clone(),
                location: leak.location.clone(),
                key: leak.key.clone(),
                kind: leak.kind.clone(),
                shown: displayed,
                subject,
            };
            let row = Row {
                number: leak.number.clone(),
                found: leak.found.clone(),
                requests: 1,
                first: ts,
                last: ts,
                last_request: seq,
            };
            self.add_row(key, row, 1);
            let h = self.header_requests.entry(header).or_insert((0, 0));
            if h.0 != seq {
                *h = (seq, h.1 + 1);
            }
        }
    }

    /// Adds a row: summed into its own row, a new row, or (table full) an
    /// overflow row. `leaks` is how many leaks it stands for.
    fn add_row(&mut self, key: RowKey, row: Row, leaks: u64) {
        if let Some(r) = self.rows.get_mut(&key) {
            absorb(r, &row);
            return;
        }
        let is_overflow = key.host == FOLDED && key.subject == FOLDED;
        if self.rows.len() < self.max_rows + self.overflow_rows && !is_overflow {
            self.rows.insert(key, row);
            return;
        }
        // Fold: into the overflow row of its header, location and kind, or the one for all.
        self.folded_leaks += if is_overflow { 0 } else { leaks };
        let mut folded = RowKey {
            host: FOLDED.into(),
            key: None,
            shown: FOLDED.into(),
            subject: FOLDED.into(),
            ..key
        };
        if !self.rows.contains_key(&folded) && self.overflow_rows >= MAX_OVERFLOW_ROWS {
            folded.header = FOLDED.into();
            folded.location = FOLDED.into();
            folded.kind = FOLDED.into();
        }
        let row = Row {
            number: None,
            found: FOLDED.into(),
            ..row
        };
        match self.rows.get_mut(&folded) {
            Some(r) => absorb(r, &row),
            None => {
                self.overflow_rows += 1;
                self.rows.insert(folded, row);
            }
        }
    }

    /// Adds another tally's rows and counts to this one, as if its requests
    /// had come after this one's (rows seen first here keep what was found
    /// here). The other's baseline is not compared again.
    pub fn merge(&mut self, other: Tally) {
        let offset = self.requests_seen;
        for (key, mut row) in other.rows {
            row.last_request = row.last_request.saturating_add(offset);
            let leaks = row.requests;
            self.add_row(key, row, leaks);
        }
        for (header, (last, n)) in other.header_requests {
            let h = self.header_requests.entry(header).or_insert((0, 0));
            *h = (last.saturating_add(offset), h.1 + n);
        }
        self.requests_seen += other.requests_seen;
        self.leaks_in_baseline += other.leaks_in_baseline;
        self.new_leaks += other.new_leaks;
        self.folded_leaks += other.folded_leaks;
    }

    /// "Who received the number": one row per destination host, header,
    /// location, key, kind and number, sorted by them.
    pub fn destinations(&self) -> Vec<DestinationRow> {
        self.destination_rows().collect()
    }

    /// The rows of [`Tally::destinations`], made one at a time (a full table
    /// is written without a second copy of it in memory).
    pub fn destination_rows(&self) -> impl Iterator<Item = DestinationRow> + '_ {
        self.rows.iter().map(|(k, r)| {
            let overflow = k.host == FOLDED && k.subject == FOLDED;
            DestinationRow {
                host: k.host.clone(),
                header: k.header.clone(),
                location: k.location.clone(),
                key: k.key.clone(),
                kind: k.kind.clone(),
                number: r.number.clone(),
                found: r.found.clone(),
                subject: (self.pseudonyms && !overflow).then(|| k.subject.clone()),
                requests: r.requests,
                first_seen: r.first.rfc3339().to_string(),
                last_seen: r.last.rfc3339().to_string(),
                overflow,
            }
        })
    }

    /// Rows in the table.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Per header name: distinct numbers (or identifiers), hosts, requests.
    pub fn headers(&self) -> Vec<HeaderRow> {
        let mut by_header: BTreeMap<&str, (BTreeSet<&str>, BTreeSet<&str>)> = BTreeMap::new();
        for k in self.rows.keys() {
            let e = by_header.entry(&k.header).or_default();
            if k.host == FOLDED && k.subject == FOLDED {
                continue;
            }
            e.0.insert(&k.subject);
            e.1.insert(&k.host);
        }
        for h in self.header_requests.keys() {
            by_header.entry(h).or_default();
        }
        by_header
            .into_iter()
            .filter(|(header, _)| *header != FOLDED)
            .map(|(header, (numbers, hosts))| HeaderRow {
                header: header.to_string(),
                numbers: numbers.len() as u64,
                hosts: hosts.len() as u64,
                requests: self.header_requests.get(header).map_or(0, |h| h.1),
            })
            .collect()
    }

    /// Distinct destination hosts and distinct subjects (overflow rows not counted).
    pub fn distinct(&self) -> (u64, u64) {
        let mut hosts = BTreeSet::new();
        let mut subjects = BTreeSet::new();
        for k in self.rows.keys() {
            if k.host == FOLDED && k.subject == FOLDED {
                continue;
            }
            hosts.insert(&k.host);
            subjects.insert(&k.subject);
        }
        (hosts.len() as u64, subjects.len() as u64)
    }

    /// True when no leak was tallied.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }
}

fn absorb(r: &mut Row, o: &Row) {
    if r.last_request != o.last_request {
        r.requests += o.requests;
    }
    r.last_request = r.last_request.max(o.last_request);
    r.first = r.first.min(o.first);
    r.last = r.last.max(o.last);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::shown::ShownLeak;
    use proptest::prelude::*;

    fn shown(host: u8, leaks: &[(u8, u8)], secs: i64) -> Shown {
        let at = Timestamp::from_parts(1_000_000 + secs, 0);
        let leaks: Vec<ShownLeak> = leaks
            .iter()
            .map(|&(header, number)| ShownLeak {
                header: format!("X-H{header}"),
                value: String::new(),
                // Two numbers per mask: the subjects keep them apart.
                number: Some(format!("+44*******{:03}", number / 2)),
                kind: "msisdn-header".into(),
                confidence: "high".into(),
                location: "header".into(),
                key: None,
                found: format!("44*******{:03}", number / 2),
                form: None,
                encoding: None,
                in_baseline: None,
                subject: None,
            })
            .collect();
        Shown {
            ts: at.rfc3339().to_string(),
            src: "10.0.0.1:1000".into(),
            dst: "192.0.2.1:80".into(),
            method: "GET".into(),
            uri: "/".into(),
            version: "HTTP/1.1".into(),
            host: Some(format!("h{host}.example")),
            headers: Vec::new(),
            leaks,
            truncated: false,
            file: None,
            packet: None,
            flow_id: 0,
            community_id: String::new(),
            tls: None,
            stream_id: None,
            pushed: false,
            associated_stream_id: None,
            body: None,
            src_ip: String::new(),
            src_port: 0,
            dest_ip: String::new(),
            dest_port: 0,
            tunnel: None,
            order: None,
            at,
        }
    }

    type Req = (u8, Vec<(u8, u8)>, i64);

    fn tally_of(reqs: &[Req], max_rows: usize) -> Tally {
        let mut t = Tally::default().with_max_rows(max_rows);
        for (host, leaks, secs) in reqs {
            let mut s = shown(*host, leaks, *secs);
            let subjects: Vec<String> = leaks
                .iter()
                .map(|(_, n)| format!("+4477009{n:05}"))
                .collect();
            t.record(&mut s, &subjects, true);
        }
        t
    }

    fn view(t: &Tally) -> (Vec<DestinationRow>, Vec<HeaderRow>, u64, u64, u64) {
        (
            t.destinations(),
            t.headers(),
            t.new_leaks,
            t.leaks_in_baseline,
            t.folded_leaks,
        )
    }

    fn req() -> impl Strategy<Value = Req> {
        (
            0u8..4,
            proptest::collection::vec((0u8..3, 0u8..6), 1..4),
            0i64..1000,
        )
    }

    proptest! {
        /// Merging the tallies of two runs equals tallying both inputs.
        #[test]
        fn merge_equals_one_tally(
            a in proptest::collection::vec(req(), 0..20),
            b in proptest::collection::vec(req(), 0..20),
        ) {
            let both: Vec<Req> = a.iter().chain(&b).cloned().collect();
            let mut merged = tally_of(&a, MAX_ROWS);
            merged.merge(tally_of(&b, MAX_ROWS));
            prop_assert_eq!(view(&merged), view(&tally_of(&both, MAX_ROWS)));
        }

        /// Past the cap, every leak is still counted: in its row or an overflow row.
        #[test]
        fn folding_keeps_every_leak(
            a in proptest::collection::vec(req(), 0..30),
            cap in 1usize..6,
        ) {
            let t = tally_of(&a, cap);
            let rows = t.destinations();
            prop_assert!(rows.iter().filter(|r| !r.overflow).count() <= cap);
            let full = tally_of(&a, MAX_ROWS);
            // Leaks per request-row pair: a request counts once per row, so
            // compare requests summed over rows with the uncapped tally's rows
            // that were folded.
            let kept: u64 = rows.iter().filter(|r| !r.overflow).map(|r| r.requests).sum();
            let all: u64 = full.destinations().iter().map(|r| r.requests).sum();
            prop_assert!(kept + t.folded_leaks >= all);
            prop_assert_eq!(t.folded_leaks == 0, rows.iter().all(|r| !r.overflow));
            prop_assert_eq!(t.new_leaks, full.new_leaks);
        }
    }

    #[test]
    fn numbers_that_mask_alike_stay_apart() {
        // Numbers 0 and 1 show as the same mask; their subjects differ.
        let t = tally_of(&[(0, vec![(0, 0)], 1), (0, vec![(0, 1)], 2)], MAX_ROWS);
        let rows = t.destinations();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].number, rows[1].number);
        assert_eq!(t.headers()[0].numbers, 2);
    }

    #[test]
    fn overflow_rows_say_so() {
        let reqs: Vec<Req> = (0..10).map(|i| (i, vec![(0, i)], i64::from(i))).collect();
        let t = tally_of(&reqs, 3);
        let rows = t.destinations();
        assert_eq!(rows.iter().filter(|r| !r.overflow).count(), 3);
        let over: Vec<_> = rows.iter().filter(|r| r.overflow).collect();
        assert_eq!(over.len(), 1);
        assert_eq!(over[0].requests, 7);
        assert_eq!((over[0].host.as_str(), over[0].found.as_str()), ("*", "*"));
        assert_eq!(t.folded_leaks, 7);
        assert_eq!(t.new_leaks, 10);
    }
}
