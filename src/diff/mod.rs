//! `phoneleak diff`: what a middlebox changed in the requests that crossed it.
//!
//! Two streams of requests, BEFORE (captured in front of the middlebox: on the
//! phone, the client side of a proxy) and AFTER (behind it: the server), each
//! in capture order, are paired without trusting addresses or ports (NAT and
//! proxies rewrite them, a proxy pools its own connections): by method,
//! normalised target and host ([`Key`]), within `max_skew` of each other once
//! the clocks' offset is estimated from the first unambiguous pairs. Identical
//! requests pair first to first, so their order is kept; an AFTER request
//! whose `X-Forwarded-For` or `Forwarded` names a BEFORE client prefers that
//! client's request. Each pair is compared header by header ([`compare`]);
//! requests left without a partner are [`Unmatched`], with the likely reason.
//! Where BEFORE's responses were read (a capture), a BEFORE request's
//! [`DiffAnswer`] comes in its stream after it: a request given up unpaired
//! was answered on the way ([`Reason::AnsweredOnTheWay`], with the status)
//! or saw no response ([`Reason::NoResponse`]); where they could not be
//! read, either ([`Reason::NotForwarded`]).
//!
//! Memory is bounded by the window: requests wait only until the other
//! side's capture time has passed them by `max_skew` (and at most
//! `max_pending` wait per side, counted when the cap cuts). The output
//! formats are in [`output`].
pub mod output;

use std::collections::{HashMap, HashSet, VecDeque};

use serde::Serialize;

use crate::detect::{Detector, Leak, Place, catalogue, discover, mask_text, number::mask_opaque};
use crate::http::Header;
use crate::pipeline::{Finding, Record};
use crate::report::Shown;
use crate::time::Timestamp;

/// Nanoseconds in a second.
const NS: i64 = 1_000_000_000;

/// Capture time a request may arrive late in its own stream (findings come
/// out when their head is complete, not in first-byte order).
const REORDER_SLACK: i64 = 2 * NS;

/// One request of either side, with what detection found in it (for the
/// classes and for masking).
#[derive(Debug, Clone)]
pub struct DiffRequest {
    /// Capture time of its first byte.
    pub ts: Timestamp,
    /// The client, `address:port`.
    pub src: String,
    /// The server, `address:port`.
    pub dst: String,
    /// Request method.
    pub method: String,
    /// Request target as sent.
    pub uri: String,
    /// Protocol version.
    pub version: String,
    /// Headers in wire order and case.
    pub headers: Vec<Header>,
    /// Findings of the detector in this request (headers and target).
    pub leaks: Vec<Leak>,
    /// The input it was read from.
    pub file: Option<String>,
    /// The packet (from 1) that completed it, when read from a capture.
    pub packet: Option<u64>,
    /// Its body's digest ([`crate::body::Body::digest`], hex), when the
    /// whole body was read (and, from JSON lines, shown).
    pub body_digest: Option<String>,
    /// The HTTP/2 `:authority` (or, from JSON lines, the `host` written).
    pub authority: Option<String>,
    /// Its values are as an earlier run wrote them masked (JSON lines of a
    /// `scan` without `--show-numbers`): compared in masked form.
    pub masked: bool,
    /// Its place in its capture's flows ([`crate::http::Request::flow_order`]),
    /// to which its answer refers.
    pub flow_order: Option<(u64, u64)>,
    /// Its response was read for ([`crate::http::Request::answer_awaited`]).
    pub answer_awaited: bool,
    /// The status of its response, once its [`DiffAnswer`] came.
    pub status: Option<u16>,
}

/// The response to a BEFORE request, read from its capture.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DiffAnswer {
    /// The request's [`DiffRequest::flow_order`].
    pub flow_order: (u64, u64),
    /// The status code.
    pub status: u16,
}

/// What a side's reader hands the pairing, in its output's order.
// Requests are the common case: boxing them would cost an allocation each.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
pub enum DiffInput {
    /// A request.
    Request(DiffRequest),
    /// The response to an earlier request of the same side.
    Answer(DiffAnswer),
}

impl From<DiffRequest> for DiffInput {
    fn from(r: DiffRequest) -> Self {
        DiffInput::Request(r)
    }
}

impl DiffInput {
    /// A record of a capture's analysis.
    pub fn from_record(r: Record, file: Option<&str>) -> Self {
        match r {
            Record::Finding(f) => DiffInput::Request(DiffRequest::from_finding(f, file)),
            Record::Answer { answer, .. } => DiffInput::Answer(DiffAnswer {
                flow_order: answer.flow_order,
                status: answer.status,
            }),
        }
    }
}

impl DiffRequest {
    /// A request of a capture, with every finding of the detector.
    pub fn from_finding(f: Finding, file: Option<&str>) -> Self {
        let packet = match f.order.completed_at {
            u64::MAX => None,
            i => Some(i.saturating_add(1)),
        };
        let mut leaks = f.leaks;
        leaks.extend(f.below_min_confidence);
        let r = f.request;
        let (flow_order, answer_awaited) = (Some(r.flow_order), r.answer_awaited);
        let authority = r.authority.clone();
        let body_digest = r
            .body
            .as_ref()
            .and_then(|b| b.digest)
            .map(|d| crate::body::digest_hex(&d));
        DiffRequest {
            ts: r.ts,
            src: r.client.to_string(),
            dst: r.server.to_string(),
            method: r.method,
            uri: r.uri,
            version: r.version,
            headers: r.headers,
            leaks,
            file: file.map(str::to_string),
            packet,
            body_digest,
            authority,
            masked: false,
            flow_order,
            answer_awaited,
            status: None,
        }
    }

    /// A `request` line of an earlier `scan --format jsonl --all-requests`
    /// run; its values are as that run wrote them (masked unless it was given
    /// `--show-numbers`: `masked` says which), inspected again by `detector`.
    /// `None` when its time cannot be read.
    pub fn from_shown(mut s: Shown, detector: &Detector, masked: bool) -> Option<Self> {
        if !s.restore_time() {
            return None;
        }
        let headers: Vec<Header> = s
            .headers
            .into_iter()
            .map(|(name, value)| Header { name, value })
            .collect();
        let leaks = detector.inspect_parts(&s.method, &s.uri, &headers);
        let body_digest = s.body.and_then(|b| b.digest);
        Some(DiffRequest {
            ts: s.at,
            src: s.src,
            dst: s.dst,
            method: s.method,
            uri: s.uri,
            version: s.version,
            headers,
            leaks,
            file: s.file,
            packet: s.packet,
            body_digest,
            authority: s.host,
            masked,
            flow_order: None,
            answer_awaited: false,
            status: None,
        })
    }

    /// The pairing key.
    pub fn key(&self) -> Key {
        Key::of(
            &self.method,
            &self.uri,
            &self.headers,
            self.authority.as_deref(),
        )
    }

    /// The client's address without the port.
    fn client_ip(&self) -> &str {
        ip_of(&self.src)
    }

    /// Whether an `X-Forwarded-For` or `Forwarded` header names `ip`.
    fn forwarded_for(&self, ip: &str) -> bool {
        self.forwarded_addrs().any(|a| a == ip)
    }

    /// The client addresses its `X-Forwarded-For` and `Forwarded` headers name.
    fn forwarded_addrs(&self) -> impl Iterator<Item = &str> {
        self.headers.iter().flat_map(|h| {
            let xff = h.name.eq_ignore_ascii_case("x-forwarded-for");
            let fwd = h.name.eq_ignore_ascii_case("forwarded");
            h.value
                .split([',', ';'])
                .filter(move |_| xff || fwd)
                .filter_map(move |p| {
                    let p = p.trim();
                    if xff {
                        return Some(p);
                    }
                    let f = p.get(..4).filter(|f| f.eq_ignore_ascii_case("for="))?;
                    let v = p.get(f.len()..)?.trim_matches('"');
                    match v.strip_prefix('[') {
                        Some(v6) => v6.split(']').next(),
                        None => Some(ip_of(v)),
                    }
                })
        })
    }

    /// `text` of `place` masked (unless `clear`) where detection found
    /// something. A value an earlier run already masked is shown as written
    /// (masking it again would hide what its mask kept).
    fn shown(&self, text: &str, place: Place, clear: bool) -> String {
        if clear || self.masked && text.contains('*') {
            return text.to_string();
        }
        if let Place::Header(i) = place
            && self
                .headers
                .get(i)
                .is_some_and(|h| tracking_token(&h.name, text))
        {
            return mask_opaque(text);
        }
        if self.leaks.is_empty() {
            return text.to_string();
        }
        self.masked_form(text, place)
    }

    /// `text` of `place` as `scan` writes it masked: unchanged when this
    /// request's values were read masked.
    fn masked_form(&self, text: &str, place: Place) -> String {
        if self.masked || self.leaks.is_empty() {
            return text.to_string();
        }
        let all: Vec<&Leak> = self.leaks.iter().collect();
        mask_text(text, place, &all)
    }

    /// Whether detection found something in header `index`.
    fn leaks_in(&self, index: usize) -> bool {
        self.leaks.iter().any(|l| l.place == Place::Header(index))
    }
}

/// The address part of `address:port` (`[v6]:port` too).
fn ip_of(addr: &str) -> &str {
    if let Some(rest) = addr.strip_prefix('[') {
        return rest.split(']').next().unwrap_or(rest);
    }
    match addr.rsplit_once(':') {
        Some((ip, port)) if !ip.contains(':') && port.bytes().all(|b| b.is_ascii_digit()) => ip,
        _ => addr,
    }
}

/// What pairs two requests: method, target in origin form, host (lower case,
/// without the default port).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Key {
    /// Method, upper case.
    pub method: String,
    /// The HTTP/2 `:authority`, else the Host header, else the authority of
    /// an absolute-form target.
    pub host: String,
    /// Path and query (`/` for an empty path).
    pub target: String,
}

impl Key {
    /// The key of a request given by its parts (`pseudo`: its HTTP/2
    /// `:authority`, as [`crate::http::Request::host`] prefers it).
    pub fn of(method: &str, uri: &str, headers: &[Header], pseudo: Option<&str>) -> Key {
        let (authority, target) = split_absolute(uri);
        let host = pseudo
            .filter(|a| !a.trim().is_empty())
            .or_else(|| {
                headers
                    .iter()
                    .find(|h| h.name.eq_ignore_ascii_case("host"))
                    .map(|h| h.value.as_str())
            })
            .or(authority)
            .unwrap_or("");
        let mut host = host.trim().to_ascii_lowercase();
        for default in [":80", ":443"] {
            if let Some(h) = host.strip_suffix(default) {
                host = h.to_string();
            }
        }
        Key {
            method: method.to_ascii_uppercase(),
            host,
            target: target.to_string(),
        }
    }
}

/// An absolute-form target's authority and its path and query (`/` when
/// empty); an origin-form target as it is.
fn split_absolute(uri: &str) -> (Option<&str>, &str) {
    let lower = uri
        .get(..8)
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    let skip = if lower.starts_with("http://") {
        7
    } else if lower.starts_with("https://") {
        8
    } else {
        return (None, uri);
    };
    let rest = uri.get(skip..).unwrap_or("");
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    let authority = rest.get(..end).unwrap_or("");
    let path = rest.get(end..).unwrap_or("");
    let path = if path.is_empty() { "/" } else { path };
    (Some(authority).filter(|a| !a.is_empty()), path)
}

/// What a header change is, as far as a subscriber's privacy goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Class {
    /// A phone number, IMSI, IMEI or tracking ID: the catalogue's names, the
    /// suffix rule, a value the detector reports, or an opaque token under
    /// a name no registry knows ([`tracking_token`]).
    Identifier,
    /// What proxies add or rewrite to do their job ([`OPERATIONAL`]).
    Operational,
    /// Anything else.
    Other,
}

impl Class {
    /// The name used in output.
    pub fn as_str(self) -> &'static str {
        match self {
            Class::Identifier => "identifier",
            Class::Operational => "operational",
            Class::Other => "other",
        }
    }
}

/// Headers that proxies and caches add, remove or rewrite in their ordinary
/// work (lower case): hop-by-hop headers, forwarding and caching headers.
pub const OPERATIONAL: &[&str] = &[
    "cache-control",
    "cdn-loop",
    "connection",
    "forwarded",
    "keep-alive",
    "max-forwards",
    "pragma",
    "proxy-authorization",
    "proxy-connection",
    "surrogate-capability",
    "te",
    "upgrade",
    "via",
    "x-forwarded-for",
    "x-forwarded-host",
    "x-forwarded-port",
    "x-forwarded-proto",
    "x-forwarded-server",
    "x-real-ip",
];

/// Whether a header is an opaque token under a name no registry of standard
/// and common headers knows (`scan --discover`'s rules): the shape of
/// Verizon's `X-UIDH`, a tracking ID the catalogue has not named yet.
/// Masked like an identifier in `diff`'s output.
fn tracking_token(name: &str, value: &str) -> bool {
    catalogue::lookup(name).is_none()
        && !discover::is_registered(&name.to_ascii_lowercase())
        && discover::looks_like_id(value)
}

/// The class of header `index` of `r`.
fn classify(r: &DiffRequest, index: usize, name: &str) -> Class {
    let token = || {
        r.headers
            .get(index)
            .is_some_and(|h| tracking_token(&h.name, &h.value))
    };
    if catalogue::lookup(name).is_some()
        || catalogue::suffix_rule(name)
        || r.leaks_in(index)
        || token()
    {
        Class::Identifier
    } else if OPERATIONAL.iter().any(|o| o.eq_ignore_ascii_case(name)) {
        Class::Operational
    } else {
        Class::Other
    }
}

/// One header added, removed or changed on the way.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HeaderChange {
    /// The name in wire case (AFTER's, or BEFORE's for a removed header).
    pub name: String,
    /// The value before (masked unless `--show-numbers`); absent for an
    /// added header.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub before: Option<String>,
    /// The value after; absent for a removed header.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub after: Option<String>,
    /// Its class.
    pub class: Class,
    /// Its place (from 0) in the header list of AFTER (of BEFORE when removed).
    pub position: usize,
}

/// Where one side of a pair was seen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Seen {
    /// Capture time (RFC 3339), on that capture's own clock.
    pub ts: String,
    /// The client, `address:port`.
    pub src: String,
    /// The server, `address:port`.
    pub dst: String,
    /// The input it was read from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// The packet that completed it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub packet: Option<u64>,
    /// The request line as sent, target masked unless `--show-numbers`.
    pub request_line: String,
}

impl Seen {
    fn of(r: &DiffRequest, clear: bool) -> Seen {
        Seen {
            ts: r.ts.rfc3339().to_string(),
            src: r.src.clone(),
            dst: r.dst.clone(),
            file: r.file.clone(),
            packet: r.packet,
            request_line: format!(
                "{} {} {}",
                r.method,
                r.shown(&r.uri, Place::Target, clear),
                r.version
            ),
        }
    }
}

/// A request seen on both sides and what changed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Pair {
    /// The pairing key's host.
    pub host: String,
    /// Method.
    pub method: String,
    /// BEFORE's side.
    pub before: Seen,
    /// AFTER's side.
    pub after: Seen,
    /// AFTER's time on BEFORE's clock minus BEFORE's time, in seconds.
    pub delay: f64,
    /// The request line changed (target form, version).
    pub request_line_changed: bool,
    /// Headers only AFTER has.
    pub added: Vec<HeaderChange>,
    /// Headers only BEFORE has.
    pub removed: Vec<HeaderChange>,
    /// Headers whose values differ.
    pub changed: Vec<HeaderChange>,
    /// Names on both sides written in another case after (AFTER's case).
    pub case_changed: Vec<String>,
    /// The headers both sides have come in another order.
    pub order_changed: bool,
    /// AFTER's `X-Forwarded-For`/`Forwarded` names BEFORE's client.
    pub forwarded_for: bool,
    /// Both sides' whole bodies were read and differ
    /// ([`crate::body::Body::digest`]).
    pub body_changed: bool,
}

impl Pair {
    /// Whether an identifier was added or rewritten on the way.
    pub fn adds_identifier(&self) -> bool {
        self.added
            .iter()
            .chain(&self.changed)
            .any(|c| c.class == Class::Identifier)
    }
}

/// Why a request has no partner on the other side.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Reason {
    /// BEFORE only, its response read: the middlebox answered it itself (a
    /// cache hit, a block page, a redirect).
    AnsweredOnTheWay,
    /// BEFORE only, responses read but none seen for it: the middlebox
    /// dropped it, or its answer was not captured.
    NoResponse,
    /// BEFORE only, its response not read (JSON lines, TLS, HTTP/2, a
    /// connection picked up mid-stream): answered by the middlebox or dropped.
    NotForwarded,
    /// AFTER only: made by the middlebox (a prefetch, a health check) or by a
    /// client not seen in BEFORE.
    CreatedOnTheWay,
    /// Before the other capture's first request (within the window).
    BeforeOtherCapture,
    /// After the other capture's last request.
    AfterOtherCapture,
    /// Given up unpaired because `max_pending` requests were waiting.
    PendingCap,
}

impl Reason {
    /// The name used in output.
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::AnsweredOnTheWay => "answered-on-the-way",
            Reason::NoResponse => "no-response",
            Reason::NotForwarded => "not-forwarded",
            Reason::CreatedOnTheWay => "created-on-the-way",
            Reason::BeforeOtherCapture => "before-other-capture",
            Reason::AfterOtherCapture => "after-other-capture",
            Reason::PendingCap => "pending-cap",
        }
    }

    /// What it means, for people.
    pub fn explain(self) -> &'static str {
        match self {
            Reason::AnsweredOnTheWay => {
                "answered by the middlebox itself (a cache hit, a block page)"
            }
            Reason::NoResponse => "dropped by the middlebox, or its response was not captured",
            Reason::NotForwarded => "answered by the middlebox (a cache hit) or dropped by it",
            Reason::CreatedOnTheWay => {
                "made by the middlebox (or by a client the BEFORE capture does not see)"
            }
            Reason::BeforeOtherCapture => "the other capture had not started",
            Reason::AfterOtherCapture => "the other capture had ended",
            Reason::PendingCap => "given up: too many requests waiting for a partner",
        }
    }
}

/// The side a request was seen on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SideName {
    /// In front of the middlebox.
    Before,
    /// Behind it.
    After,
}

impl SideName {
    fn index(self) -> usize {
        match self {
            SideName::Before => 0,
            SideName::After => 1,
        }
    }
}

/// A request seen on one side only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Unmatched {
    /// The side it was seen on.
    pub side: SideName,
    /// The pairing key's host.
    pub host: String,
    /// Method.
    pub method: String,
    /// Where it was seen.
    #[serde(flatten)]
    pub seen: Seen,
    /// The likely reason.
    pub reason: Reason,
    /// BEFORE's response's status, when it saw one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
}

impl Unmatched {
    /// The reason's name, with BEFORE's response status when it saw one
    /// (`answered-on-the-way (304)`).
    pub fn reason_shown(&self) -> String {
        match self.status {
            Some(status) => format!("{} ({status})", self.reason.as_str()),
            None => self.reason.as_str().to_string(),
        }
    }
}

/// What the pairing produces, in order.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// A pair and its differences.
    Pair(Box<Pair>),
    /// A request without a partner.
    Unmatched(Box<Unmatched>),
}

/// How to pair.
#[derive(Debug, Clone, Copy)]
pub struct DiffOptions {
    /// Most difference, in nanoseconds, between the two times of a pair once
    /// the offset is applied.
    pub max_skew: i64,
    /// AFTER's clock minus BEFORE's, in nanoseconds; `None`: estimated.
    pub offset: Option<i64>,
    /// Largest offset the estimate accepts, in nanoseconds.
    pub max_offset: i64,
    /// Requests of each side read ahead to estimate the offset.
    pub estimate_from: usize,
    /// Most requests waiting for a partner on each side.
    pub max_pending: usize,
    /// Values in clear.
    pub show_numbers: bool,
}

impl Default for DiffOptions {
    fn default() -> Self {
        DiffOptions {
            max_skew: 5 * NS,
            offset: None,
            max_offset: 3600 * NS,
            estimate_from: 256,
            max_pending: 100_000,
            show_numbers: false,
        }
    }
}

counters! {
    /// Counters of a diff.
    pub struct DiffStats {
        /// Requests read from BEFORE.
        pub requests_before: u64,
        /// Requests read from AFTER.
        pub requests_after: u64,
        /// Requests paired (one per pair).
        pub pairs: u64,
        /// Pairs in which an identifier was added or rewritten.
        pub pairs_with_identifier: u64,
        /// Pairs with any header added, removed or changed.
        pub pairs_changed: u64,
        /// Pairs whose whole bodies were read on both sides and differ.
        pub pairs_body_changed: u64,
        /// BEFORE requests without a partner.
        pub unmatched_before: u64,
        /// AFTER requests without a partner.
        pub unmatched_after: u64,
        /// Requests given up unpaired at the `--max-pending` cap.
        pub pending_cap: u64,
        /// Responses read from BEFORE's captures.
        pub answers_before: u64,
        /// Of those, responses to requests already paired or given up (or not
        /// read yet), not used.
        pub answers_unused: u64,
        /// BEFORE requests unmatched as answered on the way.
        pub answered_on_the_way: u64,
        /// BEFORE requests unmatched with no response seen.
        pub no_response: u64,
        /// BEFORE requests unmatched whose responses could not be read.
        pub not_forwarded: u64,
        /// Pairs chosen with the help of X-Forwarded-For or Forwarded.
        pub forwarded_for_hints: u64,
        /// Unambiguous pairs the clock offset was estimated from.
        pub offset_samples: u64,
        peaks:
        /// Most requests waiting for a partner at once (both sides).
        pub pending_peak: u64,
    }
}

/// A request waiting for a partner.
struct Waiting {
    id: u64,
    /// Its time on BEFORE's clock.
    t: i64,
    request: DiffRequest,
}

/// One side's state.
#[derive(Default)]
struct Side {
    by_key: HashMap<Key, VecDeque<Waiting>>,
    /// Arrival order of the waiting requests: (time, key, id, requests the
    /// other side had pushed when it came).
    order: VecDeque<(i64, Key, u64, u64)>,
    waiting: usize,
    /// Requests pushed so far.
    pushed: u64,
    /// Latest time seen (BEFORE's clock).
    mark: Option<i64>,
    first: Option<i64>,
    last: Option<i64>,
    ended: bool,
    /// Time of its next request, read but not pushed yet (BEFORE's clock):
    /// none of its later requests comes much earlier.
    horizon: Option<i64>,
}

impl Side {
    fn take(&mut self, key: &Key, id: u64) -> Option<Waiting> {
        let queue = self.by_key.get_mut(key)?;
        let at = queue.iter().position(|w| w.id == id)?;
        let w = queue.remove(at);
        if queue.is_empty() {
            self.by_key.remove(key);
        }
        self.waiting = self.waiting.saturating_sub(usize::from(w.is_some()));
        w
    }
}

/// Pairs two request streams; see the module documentation.
pub struct Differ {
    opts: DiffOptions,
    offset: i64,
    sides: [Side; 2],
    next_id: u64,
    stats: DiffStats,
    /// BEFORE's client addresses (at most [`MAX_CLIENTS`]), which forwarding
    /// headers may name.
    clients: HashSet<String>,
    /// The waiting BEFORE requests whose response is read, by flow order:
    /// where an answer goes.
    by_flow: HashMap<(u64, u64), (Key, u64)>,
}

/// Most BEFORE client addresses remembered for the forwarding hints.
const MAX_CLIENTS: usize = 65_536;

impl Differ {
    fn new(opts: DiffOptions, offset: i64) -> Self {
        Differ {
            opts,
            offset,
            sides: [Side::default(), Side::default()],
            next_id: 0,
            stats: DiffStats::default(),
            clients: HashSet::new(),
            by_flow: HashMap::new(),
        }
    }

    /// Time of a request on BEFORE's clock.
    fn time(&self, side: SideName, r: &DiffRequest) -> i64 {
        match side {
            SideName::Before => r.ts.0,
            SideName::After => r.ts.0.saturating_sub(self.offset),
        }
    }

    fn push(&mut self, side: SideName, r: DiffRequest, emit: &mut dyn FnMut(Event)) {
        let t = self.time(side, &r);
        match side {
            SideName::Before => self.stats.requests_before += 1,
            SideName::After => self.stats.requests_after += 1,
        }
        if side == SideName::Before {
            let ip = r.client_ip();
            if self.clients.len() < MAX_CLIENTS && !self.clients.contains(ip) {
                self.clients.insert(ip.to_string());
            }
        }
        let id = self.next_id;
        self.next_id += 1;
        let key = r.key();
        if side == SideName::Before
            && r.answer_awaited
            && let Some(order) = r.flow_order
        {
            self.by_flow.insert(order, (key.clone(), id));
        }
        let seen = self.sides.get(1 - side.index()).map_or(0, |o| o.pushed);
        if let Some(s) = self.sides.get_mut(side.index()) {
            s.mark = Some(s.mark.map_or(t, |m| m.max(t)));
            s.first = Some(s.first.map_or(t, |m| m.min(t)));
            s.last = Some(s.last.map_or(t, |m| m.max(t)));
            s.pushed += 1;
            s.order.push_back((t, key.clone(), id, seen));
            s.by_key
                .entry(key)
                .or_default()
                .push_back(Waiting { id, t, request: r });
            s.waiting += 1;
        }
        let waiting = self.sides.iter().map(|s| s.waiting as u64).sum();
        self.stats.pending_peak = self.stats.pending_peak.max(waiting);
        self.settle(emit);
    }

    /// Whether every request of `side` that could be within the window of
    /// time `t` has been read: its time has passed `t` by the window, and it
    /// has given a request since `seen` (so a request completed late, whose
    /// twin on that side comes as late, still finds it); or its next
    /// request, read ahead, is past the window (the request it would give
    /// next, so an idle stretch of one side does not keep the other's
    /// requests waiting); or it has ended.
    fn passed(&self, side: SideName, t: i64, seen: u64) -> bool {
        let window = t
            .saturating_add(self.opts.max_skew)
            .saturating_add(REORDER_SLACK);
        self.sides.get(side.index()).is_some_and(|s| {
            s.ended
                || s.horizon.is_some_and(|h| h > window)
                || s.pushed > seen && s.mark.is_some_and(|m| m > window)
        })
    }

    /// Sets the time of each side's next request (read ahead, not pushed).
    fn set_horizons(&mut self, before: Option<&DiffRequest>, after: Option<&DiffRequest>) {
        let times = [
            before.map(|r| self.time(SideName::Before, r)),
            after.map(|r| self.time(SideName::After, r)),
        ];
        for (s, t) in self.sides.iter_mut().zip(times) {
            s.horizon = t;
        }
    }

    /// Decides the AFTER requests whose window has closed on BEFORE's side
    /// (every BEFORE request that could be their partner has been read), in
    /// arrival order, then gives up the BEFORE requests no AFTER request can
    /// claim any more. Requests over the `max_pending` cap are decided at
    /// once: an AFTER one pairs with a BEFORE request already waiting if it
    /// can, else it is given up like a BEFORE one, with reason
    /// [`Reason::PendingCap`], counted in `pending_cap`.
    fn settle(&mut self, emit: &mut dyn FnMut(Event)) {
        let [before, after] = [SideName::Before.index(), SideName::After.index()];
        while let Some((t, key, id, seen)) =
            self.sides.get(after).and_then(|s| s.order.front()).cloned()
        {
            let over_cap = self
                .sides
                .get(after)
                .is_some_and(|s| s.waiting > self.opts.max_pending);
            let closed = self.passed(SideName::Before, t, seen);
            if !(over_cap || closed) {
                break;
            }
            let Some(s) = self.sides.get_mut(after) else {
                break;
            };
            s.order.pop_front();
            let Some(w) = s.take(&key, id) else {
                continue;
            };
            self.decide(w, &key, !closed, emit);
        }
        let skew = self.opts.max_skew;
        while let Some((t, key, id, seen)) = self
            .sides
            .get(before)
            .and_then(|s| s.order.front())
            .cloned()
        {
            let over_cap = self
                .sides
                .get(before)
                .is_some_and(|s| s.waiting > self.opts.max_pending);
            // No AFTER request within the window is still undecided.
            let claimable = self.sides.get(after).is_some_and(|s| {
                s.by_key.get(&key).is_some_and(|q| {
                    q.iter()
                        .any(|w| w.t.saturating_sub(t).saturating_abs() <= skew)
                })
            });
            let closed = self.passed(SideName::After, t, seen)
                && !claimable
                && !self.may_be_answered(&key, id, t);
            if !(over_cap || closed) {
                break;
            }
            let Some(s) = self.sides.get_mut(before) else {
                break;
            };
            s.order.pop_front();
            let Some(w) = s.take(&key, id) else {
                continue;
            };
            self.forget_flow(&w.request);
            let reason = if closed {
                self.reason(SideName::Before, w.t, &w.request)
            } else {
                self.stats.pending_cap += 1;
                Reason::PendingCap
            };
            self.unmatched(SideName::Before, &w.request, reason, emit);
        }
    }

    /// Pairs an AFTER request with a BEFORE request of its key within the
    /// window: the one its forwarding headers name, else the first that
    /// arrived and is not named by them as another client's; else reports it
    /// unmatched (with reason [`Reason::PendingCap`] when `cut`: decided
    /// before its window closed because the cap was reached).
    fn decide(&mut self, w: Waiting, key: &Key, cut: bool, emit: &mut dyn FnMut(Event)) {
        let (t, r) = (w.t, w.request);
        let skew = self.opts.max_skew;
        let found = self.sides.get(SideName::Before.index()).and_then(|o| {
            let queue = o.by_key.get(key)?;
            let near = |b: &&Waiting| b.t.saturating_sub(t).saturating_abs() <= skew;
            let named = queue
                .iter()
                .filter(near)
                .find(|b| r.forwarded_for(b.request.client_ip()));
            // A request whose forwarding headers name another BEFORE client
            // is not this one's.
            // (Addresses BEFORE's request already carried do not count.)
            let free = |b: &&Waiting| {
                let ip = b.request.client_ip();
                !r.forwarded_addrs()
                    .any(|a| a != ip && self.clients.contains(a) && !b.request.forwarded_for(a))
            };
            let first = queue.iter().find(near);
            // Among the free ones, the first with the same body, else the first.
            let same_body =
                |b: &&Waiting| r.body_digest.is_some() && b.request.body_digest == r.body_digest;
            let chosen = named
                .or_else(|| queue.iter().filter(near).filter(free).find(same_body))
                .or_else(|| queue.iter().filter(near).find(free));
            let hinted = chosen.is_some() && first.map(|f| f.id) != chosen.map(|c| c.id);
            chosen.map(|b| (b.id, hinted))
        });
        let partner = found.and_then(|(id, hinted)| {
            let b = self
                .sides
                .get_mut(SideName::Before.index())
                .and_then(|o| o.take(key, id))?;
            self.forget_flow(&b.request);
            Some((b, hinted))
        });
        let Some((b, hinted)) = partner else {
            let reason = if cut {
                self.stats.pending_cap += 1;
                Reason::PendingCap
            } else {
                self.reason(SideName::After, t, &r)
            };
            self.unmatched(SideName::After, &r, reason, emit);
            return;
        };
        if hinted {
            self.stats.forwarded_for_hints += 1;
        }
        let pair = compare(&b.request, &r, self.offset, self.opts.show_numbers);
        self.stats.pairs += 1;
        if pair.adds_identifier() {
            self.stats.pairs_with_identifier += 1;
        }
        if !(pair.added.is_empty() && pair.removed.is_empty() && pair.changed.is_empty()) {
            self.stats.pairs_changed += 1;
        }
        if pair.body_changed {
            self.stats.pairs_body_changed += 1;
        }
        emit(Event::Pair(Box::new(pair)));
    }

    /// Whether the waiting BEFORE request `id` awaits its response and
    /// BEFORE's stream, in which it would come, has not passed its time by
    /// the window yet (nor ended): it is not given up before its answer can
    /// have come.
    fn may_be_answered(&self, key: &Key, id: u64, t: i64) -> bool {
        let Some(s) = self.sides.get(SideName::Before.index()) else {
            return false;
        };
        let awaiting = s.by_key.get(key).is_some_and(|q| {
            q.iter()
                .any(|w| w.id == id && w.request.answer_awaited && w.request.status.is_none())
        });
        let window = t
            .saturating_add(self.opts.max_skew)
            .saturating_add(REORDER_SLACK);
        awaiting
            && !(s.ended
                || s.horizon.is_some_and(|h| h > window)
                || s.mark.is_some_and(|m| m > window))
    }

    /// A BEFORE request leaves the waiting ones: its answer has nowhere to go.
    fn forget_flow(&mut self, r: &DiffRequest) {
        if let Some(order) = r.flow_order {
            self.by_flow.remove(&order);
        }
    }

    /// Reads `input` up to its next request, which goes to the back of
    /// `ahead` (false at its end); answers read on the way go to their
    /// requests, read ahead or waiting (BEFORE's only).
    fn read(
        &mut self,
        side: SideName,
        input: &mut dyn Iterator<Item = DiffInput>,
        ahead: &mut VecDeque<DiffRequest>,
    ) -> bool {
        for item in input {
            match item {
                DiffInput::Request(r) => {
                    ahead.push_back(r);
                    return true;
                }
                DiffInput::Answer(a) if side == SideName::Before => self.answer(a, ahead),
                DiffInput::Answer(_) => {}
            }
        }
        false
    }

    /// Marks BEFORE's request answered (the first response counts); an
    /// answer for a request already decided is dropped (counted).
    fn answer(&mut self, a: DiffAnswer, ahead: &mut VecDeque<DiffRequest>) {
        self.stats.answers_before += 1;
        let order = Some(a.flow_order);
        if let Some(r) = ahead.iter_mut().rev().find(|r| r.flow_order == order) {
            r.status.get_or_insert(a.status);
            return;
        }
        let waiting = self.by_flow.get(&a.flow_order).and_then(|(key, id)| {
            self.sides
                .get_mut(SideName::Before.index())?
                .by_key
                .get_mut(key)?
                .iter_mut()
                .find(|w| w.id == *id)
        });
        match waiting {
            Some(w) => {
                w.request.status.get_or_insert(a.status);
            }
            None => self.stats.answers_unused += 1,
        }
    }

    fn reason(&self, side: SideName, t: i64, r: &DiffRequest) -> Reason {
        let other = self.sides.get(1 - side.index());
        let skew = self.opts.max_skew;
        // Before the other side has pushed anything, its first request may
        // be read ahead already.
        let span = other.and_then(|o| o.first.zip(o.last).or_else(|| o.horizon.map(|h| (h, h))));
        match span {
            None => match side {
                SideName::Before => Reason::AfterOtherCapture,
                SideName::After => Reason::BeforeOtherCapture,
            },
            Some((first, _)) if t < first.saturating_sub(skew) => Reason::BeforeOtherCapture,
            Some((_, last)) if other.is_some_and(|o| o.ended) && t > last.saturating_add(skew) => {
                Reason::AfterOtherCapture
            }
            _ => match side {
                SideName::Before if r.status.is_some() => Reason::AnsweredOnTheWay,
                SideName::Before if r.answer_awaited => Reason::NoResponse,
                SideName::Before => Reason::NotForwarded,
                SideName::After => Reason::CreatedOnTheWay,
            },
        }
    }

    fn unmatched(
        &mut self,
        side: SideName,
        r: &DiffRequest,
        reason: Reason,
        emit: &mut dyn FnMut(Event),
    ) {
        match side {
            SideName::Before => self.stats.unmatched_before += 1,
            SideName::After => self.stats.unmatched_after += 1,
        }
        match reason {
            Reason::AnsweredOnTheWay => self.stats.answered_on_the_way += 1,
            Reason::NoResponse => self.stats.no_response += 1,
            Reason::NotForwarded => self.stats.not_forwarded += 1,
            _ => {}
        }
        let key = r.key();
        emit(Event::Unmatched(Box::new(Unmatched {
            side,
            host: key.host,
            method: r.method.clone(),
            seen: Seen::of(r, self.opts.show_numbers),
            reason,
            status: r.status,
        })));
    }

    fn end(&mut self, side: SideName, emit: &mut dyn FnMut(Event)) {
        if let Some(s) = self.sides.get_mut(side.index()) {
            s.ended = true;
        }
        self.settle(emit);
    }
}

/// The clock offset (AFTER minus BEFORE, nanoseconds) from the requests whose
/// key occurs once on each side: the median of their time differences
/// within `max_offset`, and how many there were.
pub fn estimate_offset(
    before: &[DiffRequest],
    after: &[DiffRequest],
    max_offset: i64,
) -> (i64, u64) {
    let count = |rs: &[DiffRequest]| {
        let mut m: HashMap<Key, (u32, i64)> = HashMap::new();
        for r in rs {
            let e = m.entry(r.key()).or_insert((0, r.ts.0));
            e.0 += 1;
        }
        m
    };
    let b = count(before);
    let a = count(after);
    let mut deltas: Vec<i64> = b
        .iter()
        .filter(|(_, (n, _))| *n == 1)
        .filter_map(|(k, (_, tb))| match a.get(k) {
            Some((1, ta)) => Some(ta.saturating_sub(*tb)),
            _ => None,
        })
        .filter(|d| d.saturating_abs() <= max_offset)
        .collect();
    deltas.sort_unstable();
    let n = deltas.len();
    let median = match n {
        0 => 0,
        _ => deltas.get((n - 1) / 2).copied().unwrap_or(0),
    };
    (median, n as u64)
}

/// The outcome of a whole diff.
#[derive(Debug, Clone, Default)]
pub struct DiffOutcome {
    /// The counters.
    pub stats: DiffStats,
    /// The clock offset used (AFTER minus BEFORE), nanoseconds.
    pub offset: i64,
    /// Whether it was estimated (else given, or 0 for want of samples).
    pub offset_estimated: bool,
}

/// Pairs `before` with `after` (each in capture order; BEFORE's answers
/// after their requests) and hands every pair and unmatched request to
/// `emit` as soon as it is decided.
pub fn diff<B, A>(
    before: B,
    after: A,
    opts: DiffOptions,
    emit: &mut dyn FnMut(Event),
) -> DiffOutcome
where
    B: IntoIterator,
    B::Item: Into<DiffInput>,
    A: IntoIterator,
    A::Item: Into<DiffInput>,
{
    let mut before = before.into_iter().map(Into::into).fuse();
    let mut after = after.into_iter().map(Into::into).fuse();
    let (b, a) = (SideName::Before, SideName::After);
    let mut d = Differ::new(opts, 0);
    // Each side's requests read and not pushed yet; the front is its next.
    let mut ahead_b: VecDeque<DiffRequest> = VecDeque::new();
    let mut ahead_a: VecDeque<DiffRequest> = VecDeque::new();
    let (offset, samples) = match opts.offset {
        Some(o) => (o, 0),
        None => {
            for _ in 0..opts.estimate_from {
                let more_b = d.read(b, &mut before, &mut ahead_b);
                let more_a = d.read(a, &mut after, &mut ahead_a);
                if !(more_b || more_a) {
                    break;
                }
            }
            estimate_offset(
                ahead_b.make_contiguous(),
                ahead_a.make_contiguous(),
                opts.max_offset,
            )
        }
    };
    d.offset = offset;
    d.stats.offset_samples = samples;
    let (mut b_done, mut a_done) = (false, false);
    loop {
        // Each side's next request is read before this one is pushed: its
        // time is the side's horizon (and answers before it have come).
        for (side, input, ahead) in [
            (
                b,
                &mut before as &mut dyn Iterator<Item = DiffInput>,
                &mut ahead_b,
            ),
            (a, &mut after, &mut ahead_a),
        ] {
            while ahead.len() < 2 && d.read(side, input, ahead) {}
        }
        let take_before = match (ahead_b.front(), ahead_a.front()) {
            (None, None) => break,
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (Some(rb), Some(ra)) => d.time(b, rb) <= d.time(a, ra),
        };
        let (side, r) = if take_before {
            (b, ahead_b.pop_front())
        } else {
            (a, ahead_a.pop_front())
        };
        d.set_horizons(ahead_b.front(), ahead_a.front());
        if let Some(r) = r {
            d.push(side, r, emit);
        }
        if ahead_b.is_empty() && !b_done {
            b_done = true;
            d.end(b, emit);
        }
        if ahead_a.is_empty() && !a_done {
            a_done = true;
            d.end(a, emit);
        }
    }
    d.end(b, emit);
    d.end(a, emit);
    DiffOutcome {
        stats: d.stats,
        offset,
        offset_estimated: opts.offset.is_none() && samples > 0,
    }
}

/// Compares a pair header by header (names without case). Values are masked
/// unless `clear`. When either side was read masked, values equal once the
/// other side is masked the same way count as unchanged.
pub fn compare(before: &DiffRequest, after: &DiffRequest, offset: i64, clear: bool) -> Pair {
    let lower = |h: &Header| h.name.to_ascii_lowercase();
    // Equal, or equal once masked when either side was read masked.
    let masked = before.masked || after.masked;
    let alike = |x: &str, px: Place, y: &str, py: Place| {
        x == y || masked && before.masked_form(x, px) == after.masked_form(y, py)
    };
    let names_b: Vec<String> = before.headers.iter().map(lower).collect();
    let names_a: Vec<String> = after.headers.iter().map(lower).collect();
    let values = |r: &DiffRequest, names: &[String], name: &str| -> Vec<(usize, String)> {
        names
            .iter()
            .enumerate()
            .filter(|(_, n)| n.as_str() == name)
            .filter_map(|(i, _)| r.headers.get(i).map(|h| (i, h.value.clone())))
            .collect()
    };
    let mut added = Vec::new();
    let mut removed = Vec::new();
    let mut changed = Vec::new();
    let mut case_changed = Vec::new();
    let mut seen: Vec<&str> = Vec::new();
    for (i, (name, h)) in names_a.iter().zip(&after.headers).enumerate() {
        if seen.contains(&name.as_str()) {
            continue;
        }
        seen.push(name);
        let vb = values(before, &names_b, name);
        let va = values(after, &names_a, name);
        if vb.is_empty() {
            for (at, value) in &va {
                added.push(HeaderChange {
                    name: after
                        .headers
                        .get(*at)
                        .map_or_else(|| h.name.clone(), |h| h.name.clone()),
                    before: None,
                    after: Some(after.shown(value, Place::Header(*at), clear)),
                    class: classify(after, *at, name),
                    position: *at,
                });
            }
            continue;
        }
        if let Some((bi, _)) = vb.first()
            && before.headers.get(*bi).is_some_and(|hb| hb.name != h.name)
        {
            case_changed.push(h.name.clone());
        }
        let same = vb.len() == va.len()
            && vb
                .iter()
                .zip(&va)
                .all(|((ib, x), (ia, y))| alike(x, Place::Header(*ib), y, Place::Header(*ia)));
        if !same {
            let join = |r: &DiffRequest, vs: &[(usize, String)]| {
                vs.iter()
                    .map(|(at, v)| r.shown(v, Place::Header(*at), clear))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            let class_a = classify(after, i, name);
            let class_b = vb
                .first()
                .map_or(Class::Other, |(bi, _)| classify(before, *bi, name));
            changed.push(HeaderChange {
                name: h.name.clone(),
                before: Some(join(before, &vb)),
                after: Some(join(after, &va)),
                class: class_a.min(class_b),
                position: i,
            });
        }
    }
    for (i, (name, h)) in names_b.iter().zip(&before.headers).enumerate() {
        if names_a.contains(name) {
            continue;
        }
        removed.push(HeaderChange {
            name: h.name.clone(),
            before: Some(before.shown(&h.value, Place::Header(i), clear)),
            after: None,
            class: classify(before, i, name),
            position: i,
        });
    }
    // The order of the names both sides have, first occurrences.
    let common = |names: &[String], other: &[String]| {
        let mut out: Vec<String> = Vec::new();
        for n in names {
            if other.contains(n) && !out.contains(n) {
                out.push(n.clone());
            }
        }
        out
    };
    let order_changed = common(&names_b, &names_a) != common(&names_a, &names_b);
    let key = after.key();
    let delay = after
        .ts
        .0
        .saturating_sub(offset)
        .saturating_sub(before.ts.0) as f64
        / NS as f64;
    Pair {
        host: key.host,
        method: after.method.clone(),
        request_line_changed: !alike(&before.uri, Place::Target, &after.uri, Place::Target)
            || before.version != after.version,
        before: Seen::of(before, clear),
        after: Seen::of(after, clear),
        delay: (delay * 1e6).round() / 1e6,
        added,
        removed,
        changed,
        case_changed,
        order_changed,
        forwarded_for: after.forwarded_for(before.client_ip()),
        body_changed: before
            .body_digest
            .as_ref()
            .zip(after.body_digest.as_ref())
            .is_some_and(|(b, a)| b != a),
    }
}

#[cfg(test)]
mod tests;
