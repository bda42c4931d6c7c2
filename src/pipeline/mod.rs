//! Wiring of decode → flow → http → detect for one run over packet sources.
//!
//! [`Analyzer::packet`] takes captured packets in capture order and hands every
//! finished request, with its leaks, to a callback as soon as its header
//! block is complete. [`Analyzer::end_of_input`] flushes the flows of a source
//! (call it between files: flows never span two captures).
//! [`parallel::analyze`] runs the same analysis on several threads, each owning
//! a shard of the flows, and merges their findings into the order one thread
//! produces ([`OrderKey`]).
pub mod parallel;
pub mod run;
pub mod split;
mod stages;

pub use run::{Feed, InputOutcome, Reading, analyze_input, default_threads, stream};
pub use stages::{DecodeStage, TrackStage};

use std::sync::Arc;

use serde::Serialize;

use crate::capture::Packet;
use crate::decode::{DefragLimits, DefragStats, SkipStats, TunnelStats};
use crate::detect::{Confidence, Detector, Leak};
use crate::flow::{FlowStats, Limits, SweepSchedule};
use crate::h2::H2Stats;
use crate::http::{Answer, HttpLimits, HttpStats, Request};
use crate::tls::{KeyLog, KeyLogStats, TlsLimits, TlsStats};

/// A request and what leaked in it.
#[derive(Debug, Clone)]
pub struct Finding {
    /// The request.
    pub request: Request,
    /// Leaks at or above the run's minimum confidence, headers first in
    /// header order, then the request target, then known numbers; empty
    /// when nothing leaked.
    pub leaks: Vec<Leak>,
    /// Findings below the minimum confidence: not reported or counted, but
    /// still masked in output.
    pub below_min_confidence: Vec<Leak>,
    /// Where the finding falls in the order of the run's output.
    pub order: OrderKey,
}

/// What the analysis hands on, in [`OrderKey`] order: findings, and with
/// [`Config::read_responses`] the responses read (for `diff`; `scan` never
/// sets it, so it sees findings only).
// Requests are the common case: boxing them would cost an allocation each.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
pub enum Record {
    /// A request and its leaks.
    Finding(Finding),
    /// The response to an earlier request of the same flow, placed by the
    /// packet that completed its head; it skips detection and the counters of
    /// findings.
    Answer {
        /// The response.
        answer: Answer,
        /// Its place in the output (`seq`: its request's).
        order: OrderKey,
    },
}

impl Record {
    /// Its place in the run's output.
    pub fn order(&self) -> OrderKey {
        match self {
            Record::Finding(f) => f.order,
            Record::Answer { order, .. } => *order,
        }
    }

    /// The finding, if it is one.
    pub fn finding(self) -> Option<Finding> {
        match self {
            Record::Finding(f) => Some(f),
            Record::Answer { .. } => None,
        }
    }
}

impl Finding {
    /// Every finding of the request, reported or not (for masking).
    pub fn all_leaks(&self) -> impl Iterator<Item = &Leak> {
        self.leaks.iter().chain(&self.below_min_confidence)
    }
}

/// The order of findings: by the packet whose processing completed the
/// request, then by phase (the idle sweeps made before that packet, in turn,
/// then the packet itself), then by flow, then by position in the flow. One thread emits findings in this order; the parallel runner
/// merges shards into it, so output does not depend on the number of threads.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct OrderKey {
    /// Index of the packet (or tick) that completed the request; `u64::MAX` at end of input.
    pub completed_at: u64,
    /// For requests flushed by an idle sweep before that packet, the number of
    /// sweeps made earlier at the same point (a live source's clock can sweep
    /// several times between two packets); [`PHASE_PACKET`] for the packet's own.
    pub phase: u32,
    /// Index of the packet that created the request's flow.
    pub flow: u64,
    /// Position of the request in its flow.
    pub seq: u64,
}

/// [`OrderKey::phase`] of the requests a packet's own segment completed.
pub const PHASE_PACKET: u32 = u32::MAX;

/// When the run sweeps idle flows: the [`SweepSchedule`] over every packet's
/// capture time (and a live source's clock), and the order key of each sweep.
#[derive(Debug, Clone, Copy, Default)]
pub struct Clock {
    schedule: SweepSchedule,
    /// The index and phase of the last sweep.
    last: Option<(u64, u32)>,
}

/// An idle sweep due before the `index`-th packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sweep {
    /// Index of the next packet.
    pub index: u64,
    /// Sweeps made at this index before this one.
    pub phase: u32,
    /// Capture time the sweep is made at.
    pub now: crate::time::Timestamp,
}

impl Clock {
    /// Notes that capture time reached `ts` before the `index`-th packet;
    /// returns the sweep due, if any.
    pub fn observe(&mut self, index: u64, ts: crate::time::Timestamp) -> Option<Sweep> {
        let now = self.schedule.observe(ts)?;
        let phase = match self.last {
            Some((i, p)) if i == index => p.saturating_add(1).min(PHASE_PACKET - 1),
            _ => 0,
        };
        self.last = Some((index, phase));
        Some(Sweep { index, phase, now })
    }
}

/// Counters of the decode stage: one per [`crate::decode::Skip`] reason
/// (every packet that yielded no TCP segment is counted under exactly one),
/// then the encapsulations seen and the fragment reassembly counters.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(default)]
pub struct DecodeStats {
    /// Frames skipped, by reason (flattened into the `decode` group).
    #[serde(flatten)]
    pub skips: SkipStats,
    /// Encapsulation headers seen.
    pub tunnels: TunnelStats,
    /// IP fragment reassembly.
    pub defrag: DefragStats,
}

impl DecodeStats {
    fn absorb(&mut self, o: &DecodeStats) {
        let DecodeStats {
            skips,
            tunnels,
            defrag,
        } = o;
        self.skips.absorb(skips);
        self.tunnels.absorb(tunnels);
        self.defrag.absorb(defrag);
    }
}

/// Every counter of a run, for the summary.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(default)]
pub struct Stats {
    /// Packets read.
    pub packets: u64,
    /// Captured bytes in those packets.
    pub bytes: u64,
    /// Requests that leaked something (requests an HTTP/2 server promised included).
    pub leaking_requests: u64,
    /// Leaks found (a request may have several). `leak_count` in JSON: `leaks`
    /// is the array of a request line.
    #[serde(rename = "leak_count")]
    pub leaks: u64,
    /// Findings left out because their confidence is below `--min-confidence`.
    pub leaks_below_min_confidence: u64,
    /// Decode stage.
    pub decode: DecodeStats,
    /// Flow and reassembly stage.
    pub flow: FlowStats,
    /// HTTP stage.
    pub http: HttpStats,
    /// TLS decryption (the client stream stack's TLS layers).
    pub tls: TlsStats,
    /// TLS secrets read (`--keylog` files, Decryption Secrets Blocks).
    pub keylog: KeyLogStats,
    /// HTTP/2 (the client stream stack's H2 layers).
    pub h2: H2Stats,
    /// Request bodies.
    pub body: crate::body::BodyStats,
}

/// The counter groups of the summary, by their names in every report.
pub const COUNTER_GROUPS: [&str; 9] = [
    "decode",
    "decode.tunnels",
    "decode.defrag",
    "flow",
    "http",
    "tls",
    "keylog",
    "h2",
    "body",
];

impl Stats {
    /// The one walk over the stage counters that every report uses: calls `f`
    /// with each counter's group (one of [`COUNTER_GROUPS`]), name and value,
    /// in the order of the JSON summary.
    pub fn visit_counters(&self, f: &mut dyn FnMut(&'static str, &'static str, u64)) {
        let [decode, tunnels, defrag, flow, http, tls, keylog, h2, body] = COUNTER_GROUPS;
        self.decode.skips.visit(&mut |name, n| f(decode, name, n));
        self.decode
            .tunnels
            .visit(&mut |name, n| f(tunnels, name, n));
        self.decode.defrag.visit(&mut |name, n| f(defrag, name, n));
        self.flow.visit(&mut |name, n| f(flow, name, n));
        self.http.visit(&mut |name, n| f(http, name, n));
        self.tls.visit(&mut |name, n| f(tls, name, n));
        self.keylog.visit(&mut |name, n| f(keylog, name, n));
        self.h2.visit(&mut |name, n| f(h2, name, n));
        self.body.visit(&mut |name, n| f(body, name, n));
    }

    /// Every counter of [`Self::visit_counters`], in the same order, as
    /// `group.name` with its doc comment on one line: the one source of the
    /// counter list in the man page and docs/output.md.
    pub fn counter_docs() -> Vec<(String, String)> {
        let [decode, tunnels, defrag, flow, http, tls, keylog, h2, body] = COUNTER_GROUPS;
        let groups: [(&str, &[&str], &[&str]); 9] = [
            (decode, SkipStats::NAMES, SkipStats::DOCS),
            (tunnels, TunnelStats::NAMES, TunnelStats::DOCS),
            (defrag, DefragStats::NAMES, DefragStats::DOCS),
            (flow, FlowStats::NAMES, FlowStats::DOCS),
            (http, HttpStats::NAMES, HttpStats::DOCS),
            (tls, TlsStats::NAMES, TlsStats::DOCS),
            (keylog, KeyLogStats::NAMES, KeyLogStats::DOCS),
            (h2, H2Stats::NAMES, H2Stats::DOCS),
            (
                body,
                crate::body::BodyStats::NAMES,
                crate::body::BodyStats::DOCS,
            ),
        ];
        let mut all = Vec::new();
        for (group, names, docs) in groups {
            for (name, doc) in names.iter().zip(docs.iter()) {
                let doc = doc.split_whitespace().collect::<Vec<_>>().join(" ");
                all.push((format!("{group}.{name}"), doc));
            }
        }
        all
    }

    /// Adds another shard's (or file's) counters to these.
    pub fn absorb(&mut self, o: &Stats) {
        let Stats {
            packets,
            bytes,
            leaking_requests,
            leaks,
            leaks_below_min_confidence,
            decode,
            flow,
            http,
            tls,
            keylog,
            h2,
            body,
        } = o;
        self.leaks_below_min_confidence += leaks_below_min_confidence;
        self.packets += packets;
        self.bytes += bytes;
        self.leaking_requests += leaking_requests;
        self.leaks += leaks;
        self.decode.absorb(decode);
        self.flow.absorb(flow);
        self.http.absorb(http);
        self.tls.absorb(tls);
        self.keylog.absorb(keylog);
        self.h2.absorb(h2);
        self.body.absorb(body);
    }
}

/// Settings of the analysis.
#[derive(Debug, Clone, Default)]
pub struct Config {
    /// Flow-table limits.
    pub flow: Limits,
    /// HTTP limits.
    pub http: HttpLimits,
    /// TLS limits: per connection, and the records held across flows.
    pub tls: TlsLimits,
    /// TLS records held across all flows while keys or the ServerHello are missing.
    pub tls_held_memcap: usize,
    /// The TLS secrets given before the run (`--keylog`).
    pub keys: Arc<KeyLog>,
    /// No secret can arrive during the run: the `--keylog` files were read
    /// before it and the input cannot carry Decryption Secrets Blocks (a
    /// classic pcap; see [`Config::for_input`]). False (the default) keeps
    /// ciphertext waiting for keys, within the caps.
    pub keys_complete: bool,
    /// IP fragment reassembly limits.
    pub defrag: DefragLimits,
    /// Findings below this confidence are not reported (`--min-confidence`).
    pub min_confidence: Confidence,
    /// The part of the flows this run analyses (`--shard I/N`).
    pub shard: Shard,
    /// Read the servers' HTTP/1 responses and hand each on as a
    /// [`Record::Answer`] (`diff`'s BEFORE captures); off for `scan`.
    pub read_responses: bool,
}

impl Config {
    /// The settings for one opened input: only a classic pcap is sure to
    /// bring no secrets with its packets (pcapng may hold Decryption Secrets
    /// Blocks anywhere, even after the packets they unlock).
    pub fn for_input(&self, opened: &crate::capture::Opened) -> Config {
        Config {
            keys_complete: opened.is_classic_pcap(),
            ..self.clone()
        }
    }
}

/// One of `count` parts of a run split by flow over several runs (`scan
/// --shard I/N`, `index` = I - 1). Every part reads and decodes every packet
/// and tracks only the flows whose key falls to it
/// ([`crate::flow::FlowKey::run_part`]); the decode counters (packets, bytes,
/// skips, tunnels, fragments) are reported by the first part only, so the
/// parts' counters sum to one run's. The default is the whole run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// From 0.
    pub index: usize,
    /// At least 1.
    pub count: usize,
}

impl Default for Shard {
    fn default() -> Self {
        Shard { index: 0, count: 1 }
    }
}

impl Shard {
    /// Parses `I/N` (1 <= I <= N, like GNU split's `-n K/N`).
    pub fn parse(text: &str) -> Result<Shard, String> {
        let bad = || format!("--shard {text}: expected I/N with 1 <= I <= N, e.g. 2/4");
        let (i, n) = text.split_once('/').ok_or_else(bad)?;
        let i: usize = i.trim().parse().map_err(|_| bad())?;
        let n: usize = n.trim().parse().map_err(|_| bad())?;
        if n == 0 || i == 0 || i > n {
            return Err(bad());
        }
        Ok(Shard {
            index: i - 1,
            count: n,
        })
    }

    /// True for the whole run (`1/1`).
    pub fn is_whole(&self) -> bool {
        self.count <= 1
    }

    /// This part's share of an input's counters, for its summary: the
    /// decode stage's (packets, bytes, skips, tunnels, fragments), which
    /// every part counts alike, stay with the first part only; the flow,
    /// HTTP and finding counters are each part's own.
    pub fn share(&self, mut stats: Stats) -> Stats {
        if self.index > 0 {
            stats.packets = 0;
            stats.bytes = 0;
            stats.decode = DecodeStats::default();
            stats.keylog = KeyLogStats::default();
        }
        stats
    }

    /// Whether a segment from `src` to `dst` belongs to this part.
    pub fn owns(&self, src: std::net::SocketAddr, dst: std::net::SocketAddr) -> bool {
        self.is_whole() || crate::flow::FlowKey::of(src, dst).0.run_part(self.count) == self.index
    }
}

/// The analysis of a run on one thread: the [`DecodeStage`] and the
/// [`TrackStage`] in sequence, with the run's [`Clock`].
pub struct Analyzer {
    decode: DecodeStage,
    track: TrackStage,
    clock: Clock,
    /// One past the index of the last packet (orders clock-driven flushes).
    next_index: u64,
}

impl Analyzer {
    /// A fresh analysis.
    pub fn new(config: Config, detector: Arc<Detector>) -> Self {
        Analyzer {
            decode: DecodeStage::new(config.defrag).with_shard(config.shard),
            track: TrackStage::new(&config, detector),
            clock: Clock::default(),
            next_index: 0,
        }
    }

    /// Takes the `index`-th packet of the source; `found` receives each request
    /// completed by it (or by an idle sweep it triggered), in [`OrderKey`] order.
    pub fn packet(&mut self, index: u64, packet: &Packet<'_>, found: &mut dyn FnMut(Record)) {
        self.next_index = index.saturating_add(1);
        if let Some(sweep) = self.clock.observe(index, packet.ts) {
            self.track.sweep(sweep, found);
        }
        if let Some(segment) = self.decode.packet(packet) {
            self.track.segment(index, packet.ts, &segment, found);
        }
    }

    /// Takes decryption secrets read before the next packet (a pcapng
    /// Decryption Secrets Block, lines appended to a live key log).
    pub fn secrets(&mut self, secrets: &crate::capture::Secrets) {
        self.decode.secrets(secrets);
        self.track.secrets(secrets);
    }

    /// Tells the analysis that capture time reached `now` with no packet (a live
    /// source's read timeout): idle flows are flushed on time, and `found`
    /// receives the requests their buffers held. Time never moves back.
    pub fn advance_clock(&mut self, now: crate::time::Timestamp, found: &mut dyn FnMut(Record)) {
        if let Some(sweep) = self.clock.observe(self.next_index, now) {
            self.track.sweep(sweep, found);
        }
    }

    /// Ends a source: flushes every flow (reporting what their buffers held).
    pub fn end_of_input(&mut self, found: &mut dyn FnMut(Record)) {
        self.track.end_of_input(found);
        self.decode.end_of_input();
        // The next source has a clock of its own.
        self.clock = Clock::default();
    }

    /// Flows tracked now.
    pub fn active_flows(&self) -> usize {
        self.track.active_flows()
    }

    /// Counters so far.
    pub fn stats(&self) -> Stats {
        let mut stats = self.decode.stats();
        stats.absorb(&self.track.stats());
        stats
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::LinkType;

    #[test]
    fn every_counter_has_a_one_line_doc_in_summary_order() {
        let mut visited = Vec::new();
        Stats::default().visit_counters(&mut |g, n, _| visited.push(format!("{g}.{n}")));
        let docs = Stats::counter_docs();
        let names: Vec<&String> = docs.iter().map(|(n, _)| n).collect();
        assert_eq!(names, visited.iter().collect::<Vec<_>>());
        for (name, doc) in &docs {
            assert!(doc.len() > 10 && doc.ends_with('.'), "{name}: {doc:?}");
            assert!(!doc.contains('[') && !doc.contains('\n'), "{name}: {doc:?}");
        }
    }

    #[test]
    fn shards_parse_like_split_chunks() {
        assert_eq!(Shard::parse("1/1"), Ok(Shard::default()));
        assert_eq!(Shard::parse("3/4"), Ok(Shard { index: 2, count: 4 }));
        for bad in ["0/4", "5/4", "1/0", "4", "a/b", "", "1/2/3", "-1/2"] {
            assert!(Shard::parse(bad).is_err(), "{bad}");
        }
        assert!(Shard::default().is_whole());
    }
    use crate::decode::Skip;
    use crate::time::Timestamp;

    /// A raw IPv4 + TCP packet (no options, checksums left zero).
    fn ipv4_tcp(seq: u32, flags: u8, payload: &[u8]) -> Vec<u8> {
        let total = u16::try_from(40 + payload.len()).unwrap();
        let mut p = vec![0x45, 0, 0, 0, 0, 0, 0x40, 0, 64, 6, 0, 0];
        p[2..4].copy_from_slice(&total.to_be_bytes());
        p.extend_from_slice(&[10, 0, 0, 9, 10, 0, 0, 1]);
        p.extend_from_slice(&40000u16.to_be_bytes());
        p.extend_from_slice(&80u16.to_be_bytes());
        p.extend_from_slice(&seq.to_be_bytes());
        p.extend_from_slice(&[0, 0, 0, 0, 0x50, flags, 0xff, 0xff, 0, 0, 0, 0]);
        p.extend_from_slice(payload);
        p
    }

    #[test]
    fn an_idle_flow_is_reported_when_the_clock_moves_without_packets() {
        let mut analyzer = Analyzer::new(Config::default(), Arc::new(Detector::new()));
        let mut found = Vec::new();
        let t0 = 1_700_000_000;
        for (seq, flags, payload) in [
            (100, 0x02, &b""[..]),
            // A head that never ends: only a flush reports it.
            (
                101,
                0x18,
                b"GET /idle HTTP/1.1\r\nHost: a\r\nX-MSISDN: 447700900123\r\n",
            ),
        ] {
            let data = ipv4_tcp(seq, flags, payload);
            let packet = Packet {
                ts: Timestamp::from_parts(t0, 0),
                link: LinkType::RAW,
                orig_len: u32::try_from(data.len()).unwrap(),
                data: &data,
            };
            analyzer.packet(seq.into(), &packet, &mut |r| found.extend(r.finding()));
        }
        assert!(found.is_empty());
        assert_eq!(analyzer.active_flows(), 1);
        // The default idle timeout is 300 s of capture time.
        analyzer.advance_clock(Timestamp::from_parts(t0 + 200, 0), &mut |r| {
            found.extend(r.finding())
        });
        assert_eq!(analyzer.active_flows(), 1);
        analyzer.advance_clock(Timestamp::from_parts(t0 + 301, 0), &mut |r| {
            found.extend(r.finding())
        });
        assert_eq!(analyzer.active_flows(), 0);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].request.uri, "/idle");
        assert!(found[0].request.truncated);
        assert_eq!(found[0].leaks.len(), 1);
        let stats = analyzer.stats();
        assert_eq!(stats.flow.flows_timed_out, 1);
        assert_eq!(stats.leaking_requests, 1);
    }

    /// The visitor walks exactly the counters the JSON summary holds, with
    /// the same names, in the same order; the skip reasons are the decode
    /// group's first counters.
    #[test]
    fn the_counter_visitor_and_the_json_summary_agree() {
        let stats = Stats::default();
        let mut visited = Vec::new();
        stats.visit_counters(&mut |group, name, _| visited.push(format!("{group}.{name}")));
        fn leaves(prefix: &str, v: &serde_json::Value, out: &mut Vec<String>) {
            match v {
                serde_json::Value::Object(fields) => {
                    for (k, v) in fields {
                        leaves(&format!("{prefix}.{k}"), v, out);
                    }
                }
                _ => out.push(prefix.to_string()),
            }
        }
        let json = serde_json::to_value(&stats).unwrap();
        let mut in_json = Vec::new();
        for group in ["decode", "flow", "http", "tls", "keylog", "h2", "body"] {
            leaves(group, &json[group], &mut in_json);
        }
        // JSON objects keep their keys sorted here; compare as sets, then order per group.
        let mut a = visited.clone();
        let mut b = in_json.clone();
        a.sort();
        b.sort();
        assert_eq!(a, b);
        let skips: Vec<String> = Skip::ALL
            .iter()
            .map(|s| format!("decode.{}", s.name()))
            .collect();
        assert_eq!(visited[..skips.len()], skips[..]);
        let mut counted = SkipStats::default();
        for skip in Skip::ALL {
            counted.count(*skip);
        }
        let mut each = Vec::new();
        counted.visit(&mut |_, n| each.push(n));
        assert_eq!(each, vec![1; Skip::ALL.len()]);
    }
}
