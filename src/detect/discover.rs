//! `scan --discover`: header names nobody has catalogued whose values look
//! like identifiers and follow one value across many unrelated sites (the
//! shape of an injected supercookie such as Verizon's `X-UIDH` was before
//! anyone named it).
//!
//! A header is a candidate only when its name is in neither the registry of
//! standard and common names (`registry.txt`: the IANA field name registry
//! and widespread de-facto headers) nor the identifier catalogue (those are
//! reported as leaks already). Its values are kept when they look like
//! identifiers ([`looks_like_id`]); a name is reported when at least one
//! value reached `min_sites` distinct sites (registrable domains, so
//! `a.example.com` and `b.example.com` are one) and nearly all its values
//! look like identifiers. Client addresses are further evidence where the
//! capture shows them: one value per client (each value followed one
//! subscriber) makes the confidence high; one value shared by several
//! clients is a constant (an app's or a network's), not a subscriber's, and
//! is left out. Behind a proxy, where every request comes from one address,
//! the confidence stays medium, and a name with one value only is left out
//! (counted): from one address a constant cannot be told from one
//! subscriber's token.
//!
//! Memory is bounded ([`MAX_NAMES`], [`MAX_VALUES`], and small caps per
//! value); what the caps cut is counted. Requests are observed in the
//! run's output order, which does not depend on `--threads`, and
//! [`Discovery::absorb`] merges two aggregates of disjoint requests.
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::sync::OnceLock;

use serde::Serialize;

use super::{Confidence, catalogue, number::mask_opaque};
use crate::http::Request;

/// The registry of standard and common header names (see its header).
pub const REGISTRY: &str = include_str!("registry.txt");

/// Most header names followed.
pub const MAX_NAMES: usize = 1024;
/// Most distinct values followed per name.
pub const MAX_VALUES: usize = 4096;
/// Most hosts (and client addresses) counted per name.
const MAX_HOSTS: usize = 4096;
/// Most sites counted per value (enough for any threshold that matters).
const MAX_SITES: usize = 64;
/// Most client addresses counted per value.
const MAX_CLIENTS: usize = 16;

/// The parsed registry: exact names and prefixes.
fn registry() -> &'static (HashSet<&'static str>, Vec<&'static str>) {
    static PARSED: OnceLock<(HashSet<&'static str>, Vec<&'static str>)> = OnceLock::new();
    PARSED.get_or_init(|| {
        let mut names = HashSet::new();
        let mut prefixes = Vec::new();
        for line in REGISTRY.lines() {
            let line = line.split('#').next().unwrap_or("").trim();
            if line.is_empty() {
                continue;
            }
            match line.strip_suffix('*') {
                Some(prefix) => prefixes.push(prefix),
                None => {
                    names.insert(line);
                }
            }
        }
        (names, prefixes)
    })
}

/// Whether `lower` (a lower-case name) is standard or common.
pub fn is_registered(lower: &str) -> bool {
    let (names, prefixes) = registry();
    names.contains(lower) || prefixes.iter().any(|p| lower.starts_with(p))
}

/// Whether a header value looks like an identifier: 8 to 200 characters of
/// token alphabet (letters, digits, `+/=_-.:~%`), at least two digits and
/// eight letters or digits, not a path or URL, not only digits, dots and
/// colons (versions, addresses, times).
pub fn looks_like_id(v: &str) -> bool {
    let n = v.len();
    if !(8..=200).contains(&n) || v.starts_with('/') || v.contains("://") {
        return false;
    }
    let mut digits = 0usize;
    let mut alnum = 0usize;
    let mut letters = 0usize;
    for b in v.bytes() {
        match b {
            b'0'..=b'9' => {
                digits += 1;
                alnum += 1;
            }
            b'a'..=b'z' | b'A'..=b'Z' => {
                letters += 1;
                alnum += 1;
            }
            b'+' | b'/' | b'=' | b'_' | b'-' | b'.' | b':' | b'~' | b'%' => {}
            _ => return false,
        }
    }
    digits >= 2 && alnum >= 8 && letters > 0
}

/// The registrable domain of a host (crudely: the last two labels, three
/// under a common second-level suffix such as `co.uk`); an address as it is.
pub fn site_of(host: &str) -> String {
    let host = host.trim().to_ascii_lowercase();
    let host = match host.strip_prefix('[') {
        Some(v6) => return v6.split(']').next().unwrap_or(v6).to_string(),
        None => host
            .rsplit_once(':')
            .filter(|(_, p)| p.bytes().all(|b| b.is_ascii_digit()))
            .map_or(host.as_str(), |(h, _)| h)
            .trim_end_matches('.')
            .to_string(),
    };
    if host.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return host;
    }
    let labels: Vec<&str> = host.split('.').collect();
    let n = labels.len();
    let second = ["co", "com", "net", "org", "ac", "gov", "ne", "or", "edu"];
    let keep = match (labels.get(n.wrapping_sub(2)), labels.get(n.wrapping_sub(1))) {
        (Some(s), Some(tld)) if tld.len() == 2 && second.contains(s) => 3,
        _ => 2,
    };
    labels
        .get(n.saturating_sub(keep)..)
        .map_or_else(|| host.clone(), |l| l.join("."))
}

/// One value of a name.
#[derive(Debug, Clone, Default)]
struct ValueStats {
    requests: u64,
    sites: BTreeSet<String>,
    clients: BTreeSet<String>,
}

/// One header name.
#[derive(Debug, Clone, Default)]
struct NameStats {
    wire: String,
    requests: u64,
    id_like: u64,
    hosts: BTreeSet<String>,
    clients: BTreeSet<String>,
    values: BTreeMap<String, ValueStats>,
}

/// Thresholds of `--discover`.
#[derive(Debug, Clone, Copy)]
pub struct DiscoverOptions {
    /// Distinct sites one value must reach.
    pub min_sites: u64,
    /// Requests a name must be seen in.
    pub min_requests: u64,
}

impl Default for DiscoverOptions {
    fn default() -> Self {
        DiscoverOptions {
            min_sites: 3,
            min_requests: 3,
        }
    }
}

/// The aggregate of `--discover`.
#[derive(Debug, Clone, Default)]
pub struct Discovery {
    opts: DiscoverOptions,
    names: BTreeMap<String, NameStats>,
    /// Header lines of names past [`MAX_NAMES`].
    dropped_names: u64,
    /// Values past [`MAX_VALUES`] of a name.
    dropped_values: u64,
}

/// One reported header.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DiscoverRow {
    /// The name as first seen.
    pub header: String,
    /// Distinct identifier-like values.
    pub values: u64,
    /// Distinct hosts it was sent to.
    pub hosts: u64,
    /// Most distinct sites one value reached.
    pub sites: u64,
    /// Requests carrying it.
    pub requests: u64,
    /// Distinct client addresses sending it.
    pub clients: u64,
    /// Up to three values, those that reached most sites first, masked like
    /// identifiers unless `--show-numbers`.
    pub examples: Vec<String>,
    /// How sure the finding is.
    pub confidence: Confidence,
}

/// What `--discover` found, for the formats.
#[derive(Debug, Clone, Default, Serialize)]
pub struct DiscoverReport {
    /// The candidates, surest first.
    pub rows: Vec<DiscoverRow>,
    /// Header names seen that are in neither the registry nor the catalogue.
    pub unregistered_names: u64,
    /// The thresholds.
    pub min_sites: u64,
    /// The thresholds.
    pub min_requests: u64,
    /// Header lines not followed: names past the cap.
    pub dropped_names: u64,
    /// Values not followed: past the cap of a name.
    pub dropped_values: u64,
    /// Names that passed the thresholds but were left out: one value only,
    /// from one client address (a constant, or one subscriber's token: the
    /// capture cannot tell which).
    pub single_value_names: u64,
}

fn insert_capped(set: &mut BTreeSet<String>, item: &str, cap: usize) {
    if set.len() < cap && !set.contains(item) {
        set.insert(item.to_string());
    }
}

impl Discovery {
    /// An empty aggregate with these thresholds.
    pub fn new(opts: DiscoverOptions) -> Self {
        Discovery {
            opts,
            ..Discovery::default()
        }
    }

    /// Counts one request.
    pub fn observe(&mut self, r: &Request) {
        let host = r.host().unwrap_or("").to_ascii_lowercase();
        let site = site_of(&host);
        let client = r.client.ip().to_string();
        let mut done: Vec<String> = Vec::new();
        for h in &r.headers {
            let lower = h.name.to_ascii_lowercase();
            if done.contains(&lower)
                || is_registered(&lower)
                || catalogue::lookup(&h.name).is_some()
                || catalogue::suffix_rule(&h.name)
            {
                continue;
            }
            done.push(lower.clone());
            if !self.names.contains_key(&lower) && self.names.len() >= MAX_NAMES {
                self.dropped_names += 1;
                continue;
            }
            let name = self.names.entry(lower).or_insert_with(|| NameStats {
                wire: h.name.clone(),
                ..NameStats::default()
            });
            name.requests += 1;
            insert_capped(&mut name.hosts, &host, MAX_HOSTS);
            insert_capped(&mut name.clients, &client, MAX_HOSTS);
            let value = h.value.trim();
            if !looks_like_id(value) {
                continue;
            }
            name.id_like += 1;
            if !name.values.contains_key(value) && name.values.len() >= MAX_VALUES {
                self.dropped_values += 1;
                continue;
            }
            let v = name.values.entry(value.to_string()).or_default();
            v.requests += 1;
            insert_capped(&mut v.sites, &site, MAX_SITES);
            insert_capped(&mut v.clients, &client, MAX_CLIENTS);
        }
    }

    /// Adds the aggregate of other, disjoint requests (e.g. another thread's).
    pub fn absorb(&mut self, other: Discovery) {
        self.dropped_names += other.dropped_names;
        self.dropped_values += other.dropped_values;
        for (lower, theirs) in other.names {
            if !self.names.contains_key(&lower) && self.names.len() >= MAX_NAMES {
                self.dropped_names += theirs.requests;
                continue;
            }
            let mine = self.names.entry(lower).or_insert_with(|| NameStats {
                wire: theirs.wire.clone(),
                ..NameStats::default()
            });
            mine.requests += theirs.requests;
            mine.id_like += theirs.id_like;
            for h in &theirs.hosts {
                insert_capped(&mut mine.hosts, h, MAX_HOSTS);
            }
            for c in &theirs.clients {
                insert_capped(&mut mine.clients, c, MAX_HOSTS);
            }
            for (value, v) in theirs.values {
                if !mine.values.contains_key(&value) && mine.values.len() >= MAX_VALUES {
                    self.dropped_values += v.requests;
                    continue;
                }
                let m = mine.values.entry(value).or_default();
                m.requests += v.requests;
                for s in &v.sites {
                    insert_capped(&mut m.sites, s, MAX_SITES);
                }
                for c in &v.clients {
                    insert_capped(&mut m.clients, c, MAX_CLIENTS);
                }
            }
        }
    }

    /// The candidates and counts; values masked unless `show_numbers`.
    pub fn report(&self, show_numbers: bool) -> DiscoverReport {
        let mut single_value_names = 0u64;
        let mut rows: Vec<DiscoverRow> = Vec::new();
        for n in self.names.values() {
            match self.judge(n, show_numbers) {
                Judged::Candidate(row) => rows.push(*row),
                Judged::SingleValue => single_value_names += 1,
                Judged::No => {}
            }
        }
        rows.sort_by(|a, b| {
            (b.confidence, b.sites, b.values, &a.header).cmp(&(
                a.confidence,
                a.sites,
                a.values,
                &b.header,
            ))
        });
        DiscoverReport {
            rows,
            unregistered_names: self.names.len() as u64 + u64::from(self.dropped_names > 0),
            min_sites: self.opts.min_sites,
            min_requests: self.opts.min_requests,
            dropped_names: self.dropped_names,
            dropped_values: self.dropped_values,
            single_value_names,
        }
    }

    fn judge(&self, n: &NameStats, show_numbers: bool) -> Judged {
        let min = self.opts.min_sites.max(1) as usize;
        let followers = n.values.values().filter(|v| v.sites.len() >= min).count();
        // Nearly every value of the name looks like an identifier.
        let mostly_ids = n.id_like.saturating_mul(10) >= n.requests.saturating_mul(9);
        if followers == 0 || !mostly_ids || n.requests < self.opts.min_requests {
            return Judged::No;
        }
        let one_client_each = n.values.values().all(|v| v.clients.len() <= 1);
        let shared = n.values.values().any(|v| v.clients.len() >= 2);
        if n.values.len() == 1 && shared {
            // One value from several clients: a constant, not a subscriber's.
            return Judged::No;
        }
        if n.values.len() == 1 && n.clients.len() <= 1 {
            // One value from one address (behind a proxy, every request's):
            // a constant header looks the same as one subscriber's token.
            return Judged::SingleValue;
        }
        let confidence = if followers >= 2 && one_client_each && n.clients.len() >= 2 {
            Confidence::High
        } else if one_client_each {
            Confidence::Medium
        } else {
            Confidence::Low
        };
        let mut by_reach: Vec<(&String, &ValueStats)> = n.values.iter().collect();
        by_reach.sort_by(|a, b| b.1.sites.len().cmp(&a.1.sites.len()).then(a.0.cmp(b.0)));
        let examples = by_reach
            .iter()
            .take(3)
            .map(|(v, _)| {
                if show_numbers {
                    (*v).clone()
                } else {
                    mask_opaque(v)
                }
            })
            .collect();
        Judged::Candidate(Box::new(DiscoverRow {
            header: n.wire.clone(),
            values: n.values.len() as u64,
            hosts: n.hosts.len() as u64,
            sites: by_reach.first().map_or(0, |(_, v)| v.sites.len() as u64),
            requests: n.requests,
            clients: n.clients.len() as u64,
            examples,
            confidence,
        }))
    }
}

/// What [`Discovery::judge`] made of a name.
enum Judged {
    /// Reported.
    Candidate(Box<DiscoverRow>),
    /// Passed the thresholds, left out: one value from one address.
    SingleValue,
    /// Not a candidate.
    No,
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::http::Header;
    use crate::time::Timestamp;

    fn req(client: &str, host: &str, headers: &[(&str, &str)]) -> Request {
        let mut hs = vec![Header {
            name: "Host".into(),
            value: host.into(),
        }];
        hs.extend(headers.iter().map(|(n, v)| Header {
            name: (*n).into(),
            value: (*v).into(),
        }));
        Request {
            ts: Timestamp(0),
            client: format!("{client}:40000").parse().unwrap(),
            server: "192.0.2.1:80".parse().unwrap(),
            flow_id: 1,
            method: "GET".into(),
            uri: "/".into(),
            version: "HTTP/1.1".into(),
            headers: hs,
            truncated: false,
            flow_order: (0, 0),
            tunnel: None,
            tls: None,
            stream_id: None,
            pushed_on: None,
            authority: None,
            answer_awaited: false,
            body: None,
        }
    }

    #[test]
    fn the_registry_knows_standard_and_common_names() {
        assert!(is_registered("user-agent"));
        assert!(is_registered("sec-ch-ua-platform"));
        assert!(is_registered("x-forwarded-for"));
        assert!(!is_registered("x-acr"));
        assert!(!is_registered("x-tracking-token"));
    }

    #[test]
    fn identifier_shapes() {
        assert!(looks_like_id("OTgxNTk2NDk2MjA1MTY0ODQ2MDA="));
        assert!(looks_like_id("a1b2c3d4e5f6"));
        assert!(!looks_like_id("com.example.app"));
        assert!(!looks_like_id("XMLHttpRequest"));
        assert!(!looks_like_id("10.0.0.1"));
        assert!(!looks_like_id("1.2.3.4567"));
        assert!(!looks_like_id("http://x.example/1234"));
        assert!(!looks_like_id("gzip, deflate"));
    }

    #[test]
    fn sites_are_registrable_domains() {
        assert_eq!(site_of("a.b.example.com"), "example.com");
        assert_eq!(site_of("www.bbc.co.uk:8080"), "bbc.co.uk");
        assert_eq!(site_of("192.0.2.1:80"), "192.0.2.1");
        assert_eq!(site_of("localhost"), "localhost");
    }

    #[test]
    fn a_token_per_subscriber_across_sites_is_found_and_nothing_else() {
        let mut d = Discovery::new(DiscoverOptions::default());
        let subs = [
            ("10.0.0.1", "Ab12Cd34Ef56Gh78"),
            ("10.0.0.2", "Zz98Yy76Xx54Ww32"),
        ];
        for (client, token) in subs {
            for host in ["a.example", "www.b.example", "c.example", "d.example"] {
                d.observe(&req(
                    client,
                    host,
                    &[
                        ("X-Sub-Token", token),
                        ("X-Requested-With", "com.example.app"),
                        ("X-Build", "build-2024.11.3"),
                    ],
                ));
            }
            // An app's own ID, sent to its one API host only.
            d.observe(&req(
                client,
                "api.app.example",
                &[("X-App-Uid", "u-123456789abc")],
            ));
        }
        let rep = d.report(false);
        assert_eq!(rep.rows.len(), 1, "{:?}", rep.rows);
        let row = &rep.rows[0];
        assert_eq!(row.header, "X-Sub-Token");
        assert_eq!((row.values, row.sites, row.clients), (2, 4, 2));
        assert_eq!(row.confidence, Confidence::High);
        assert_eq!(row.examples[0], "*************h78");
        // A constant value shared by both clients is not a subscriber's.
        assert!(rep.rows.iter().all(|r| r.header != "X-Build"));
    }

    #[test]
    fn behind_a_proxy_one_address_gives_medium_and_merging_equals_one_pass() {
        let mut whole = Discovery::new(DiscoverOptions::default());
        let mut parts = [
            Discovery::new(DiscoverOptions::default()),
            Discovery::new(DiscoverOptions::default()),
        ];
        let mut i = 0;
        for token in ["77f2a9c1e0b3", "0c4d9e8a1b2f"] {
            for host in ["a.example", "b.example", "c.example"] {
                let r = req(
                    "198.51.100.1",
                    host,
                    &[("X-Opaque-Tag", token), ("X-Build", "2024.11-r3")],
                );
                whole.observe(&r);
                parts[i % 2].observe(&r);
                i += 1;
            }
        }
        let [mut a, b] = parts;
        a.absorb(b);
        assert_eq!(a.report(false).rows, whole.report(false).rows);
        let rep = whole.report(true);
        assert_eq!(rep.rows.len(), 1, "{:?}", rep.rows);
        assert_eq!(rep.rows[0].header, "X-Opaque-Tag");
        assert_eq!(rep.rows[0].confidence, Confidence::Medium);
        assert_eq!(
            rep.rows[0].examples,
            vec!["0c4d9e8a1b2f".to_string(), "77f2a9c1e0b3".to_string()]
        );
        // The constant, one value from the one address: left out, counted.
        assert_eq!(rep.single_value_names, 1);
    }

    #[test]
    fn one_value_from_one_address_is_left_out() {
        let mut d = Discovery::new(DiscoverOptions::default());
        for host in ["a.example", "b.example", "c.example", "d.example"] {
            d.observe(&req("198.51.100.1", host, &[("X-Build", "2024.11-r3")]));
        }
        let rep = d.report(false);
        assert!(rep.rows.is_empty(), "{:?}", rep.rows);
        assert_eq!(rep.single_value_names, 1);
    }
}
