//! What a run found, summed up: who received which number (destination host
//! × header × number, with request counts and first/last seen), per header
//! name the distinct numbers and hosts, and the comparison with a baseline.
use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use super::baseline::{Baseline, Identity};
use super::{ShownLeak, found_text, host_of};
use crate::detect::{LeakKind, Where};
use crate::pipeline::Finding;
use crate::time::Timestamp;

/// One row of "who received the number".
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DestinationRow {
    /// The destination host (Host header, else the server address).
    pub host: String,
    /// The header name, lower-cased, or `(request-target)`.
    pub header: String,
    /// Where in the request: header, cookie, query, uri.
    #[serde(rename = "where")]
    pub location: Where,
    /// The cookie name or parameter key, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// What leaked.
    pub kind: LeakKind,
    /// The number (E.164), masked unless `--show-numbers`; null for
    /// identifiers and national-only numbers.
    pub number: Option<String>,
    /// What leaked as written, masked unless `--show-numbers`.
    pub found: String,
    /// Requests that carried it.
    pub requests: u64,
    /// Capture time of the first of them.
    pub first_seen: String,
    /// Capture time of the last of them.
    pub last_seen: String,
}

/// Per header name: how many distinct numbers (or identifiers) went to how
/// many hosts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HeaderRow {
    /// The header name, lower-cased, or `(request-target)`.
    pub header: String,
    /// Distinct numbers or identifiers seen in it.
    pub numbers: u64,
    /// Distinct destination hosts that received them.
    pub hosts: u64,
    /// Requests with a leak in it.
    pub requests: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct RowKey {
    host: String,
    header: String,
    location: Where,
    key: Option<String>,
    kind: LeakKind,
    /// The clear number (E.164) or, without one, the clear text found.
    subject: String,
}

#[derive(Debug, Clone)]
struct Row {
    number: Option<String>,
    found: String,
    requests: u64,
    first: Timestamp,
    last: Timestamp,
    last_request: u64,
}

/// Sums up findings as a sink sees them.
#[derive(Debug, Default)]
pub struct Tally {
    show_numbers: bool,
    baseline: Option<Baseline>,
    rows: BTreeMap<RowKey, Row>,
    /// Per header: (last request counted, requests).
    header_requests: BTreeMap<String, (u64, u64)>,
    requests_seen: u64,
    /// Leaks that the baseline lists.
    pub leaks_in_baseline: u64,
    /// Leaks that count for the exit status (not in the baseline).
    pub new_leaks: u64,
}

impl Tally {
    /// An empty tally; numbers shown in clear with `show_numbers`.
    pub fn new(show_numbers: bool, baseline: Option<Baseline>) -> Self {
        Tally {
            show_numbers,
            baseline,
            ..Tally::default()
        }
    }

    /// The baseline compared with, if any.
    pub fn baseline(&self) -> Option<&Baseline> {
        self.baseline.as_ref()
    }

    /// Adds one request's leaks (as shown); returns, per leak, whether the
    /// baseline lists it (`None` without a baseline).
    pub(crate) fn record(
        &mut self,
        finding: &Finding,
        shown: &[ShownLeak<'_>],
    ) -> Vec<Option<bool>> {
        if shown.is_empty() {
            return Vec::new();
        }
        self.requests_seen += 1;
        let seq = self.requests_seen;
        let host = host_of(finding);
        let ts = finding.request.ts;
        let mut flags = Vec::with_capacity(shown.len());
        for s in shown {
            let leak = s.leak;
            let header = s.header.to_ascii_lowercase();
            let clear_found = found_text(finding, leak, true);
            let masked_found = found_text(finding, leak, false);
            let subject = leak
                .number
                .as_ref()
                .map_or_else(|| clear_found.clone(), |n| n.e164());
            let key = s.key.map(str::to_string);
            let in_baseline = self.baseline.as_ref().map(|b| {
                let id = |subject: String| Identity {
                    host: host.clone(),
                    header: header.clone(),
                    location: leak.location.as_str().to_string(),
                    key: key.clone().unwrap_or_default(),
                    kind: leak.kind.as_str().to_string(),
                    subject,
                };
                let masked_subject = leak
                    .number
                    .as_ref()
                    .map_or_else(|| masked_found.clone(), |n| n.masked());
                b.contains(&id(subject.clone())) || b.contains(&id(masked_subject))
            });
            if in_baseline == Some(true) {
                self.leaks_in_baseline += 1;
            } else {
                self.new_leaks += 1;
            }
            flags.push(in_baseline);
            let row = self
                .rows
                .entry(RowKey {
                    host: host.clone(),
                    header: header.clone(),
                    location: leak.location,
                    key,
                    kind: leak.kind,
                    subject,
                })
                .or_insert_with(|| Row {
                    number: s.number.clone(),
                    found: if self.show_numbers {
                        clear_found
                    } else {
                        masked_found
                    },
                    requests: 0,
                    first: ts,
                    last: ts,
                    last_request: 0,
                });
            if row.last_request != seq {
                row.last_request = seq;
                row.requests += 1;
            }
            row.first = row.first.min(ts);
            row.last = row.last.max(ts);
            let h = self.header_requests.entry(header).or_insert((0, 0));
            if h.0 != seq {
                *h = (seq, h.1 + 1);
            }
        }
        flags
    }

    /// "Who received the number": one row per destination host, header,
    /// location, key, kind and number, sorted by them.
    pub fn destinations(&self) -> Vec<DestinationRow> {
        self.rows
            .iter()
            .map(|(k, r)| DestinationRow {
                host: k.host.clone(),
                header: k.header.clone(),
                location: k.location,
                key: k.key.clone(),
                kind: k.kind,
                number: r.number.clone(),
                found: r.found.clone(),
                requests: r.requests,
                first_seen: r.first.rfc3339().to_string(),
                last_seen: r.last.rfc3339().to_string(),
            })
            .collect()
    }

    /// Per header name: distinct numbers (or identifiers), hosts, requests.
    pub fn headers(&self) -> Vec<HeaderRow> {
        let mut by_header: BTreeMap<&str, (BTreeSet<&str>, BTreeSet<&str>)> = BTreeMap::new();
        for k in self.rows.keys() {
            let e = by_header.entry(&k.header).or_default();
            e.0.insert(&k.subject);
            e.1.insert(&k.host);
        }
        by_header
            .into_iter()
            .map(|(header, (numbers, hosts))| HeaderRow {
                header: header.to_string(),
                numbers: numbers.len() as u64,
                hosts: hosts.len() as u64,
                requests: self.header_requests.get(header).map_or(0, |h| h.1),
            })
            .collect()
    }
}
