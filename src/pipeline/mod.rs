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

use std::sync::Arc;

use serde::Serialize;

use crate::capture::Packet;
use crate::decode::{Decoder, DefragLimits, DefragStats, Skip, TunnelStats};
use crate::detect::{Confidence, Detector, Leak};
use crate::flow::{FlowStats, FlowTable, Limits};
use crate::http::{HttpExtractor, HttpLimits, HttpStats, Request};

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

impl Finding {
    /// Every finding of the request, reported or not (for masking).
    pub fn all_leaks(&self) -> impl Iterator<Item = &Leak> {
        self.leaks.iter().chain(&self.below_min_confidence)
    }
}

/// The order of findings: by the packet whose processing completed the
/// request, then (sweeps before the packet itself) by flow, then by position in
/// the flow. One thread emits findings in this order; the parallel runner
/// merges shards into it, so output does not depend on the number of threads.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct OrderKey {
    /// Index of the packet (or tick) that completed the request; `u64::MAX` at end of input.
    pub completed_at: u64,
    /// 0 for requests flushed by an idle sweep before that packet, 1 for the packet's own.
    pub phase: u8,
    /// Index of the packet that created the request's flow.
    pub flow: u64,
    /// Position of the request in its flow.
    pub seq: u64,
}

/// Counters of the decode stage: one per [`Skip`] reason (every packet that
/// yielded no TCP segment is counted under exactly one), then the
/// encapsulations seen and the fragment reassembly counters.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(default)]
pub struct DecodeStats {
    /// Frames of a link type that is not decoded.
    pub unknown_link_type: u64,
    /// Frames without IP.
    pub not_ip: u64,
    /// IP packets that are not TCP.
    pub not_tcp: u64,
    /// IP fragments that did not complete a datagram (held for reassembly or
    /// dropped by it: see `defrag`).
    pub ip_fragment: u64,
    /// Frames whose headers were cut short.
    pub truncated: u64,
    /// Frames with self-contradicting headers.
    pub malformed: u64,
    /// Tunnel messages without user data (GTP-U echo, error indication, end marker).
    pub tunnel_control: u64,
    /// Tunnels whose payload is not decoded (non-IP GTP-U PDUs, other ERSPAN frame types).
    pub unsupported_encapsulation: u64,
    /// Packets nested deeper than the limits (tunnels, VLAN tags, labels, extension headers).
    pub too_deep: u64,
    /// Encapsulation headers seen.
    pub tunnels: TunnelStats,
    /// IP fragment reassembly.
    pub defrag: DefragStats,
}

impl DecodeStats {
    fn count(&mut self, skip: Skip) {
        let slot = match skip {
            Skip::UnknownLinkType => &mut self.unknown_link_type,
            Skip::NotIp => &mut self.not_ip,
            Skip::NotTcp => &mut self.not_tcp,
            Skip::IpFragment => &mut self.ip_fragment,
            Skip::Truncated => &mut self.truncated,
            Skip::Malformed => &mut self.malformed,
            Skip::TunnelControl => &mut self.tunnel_control,
            Skip::UnsupportedEncapsulation => &mut self.unsupported_encapsulation,
            Skip::TooDeep => &mut self.too_deep,
        };
        *slot += 1;
    }
}

impl DecodeStats {
    fn absorb(&mut self, o: &DecodeStats) {
        let DecodeStats {
            unknown_link_type,
            not_ip,
            not_tcp,
            ip_fragment,
            truncated,
            malformed,
            tunnel_control,
            unsupported_encapsulation,
            too_deep,
            tunnels,
            defrag,
        } = o;
        self.unknown_link_type += unknown_link_type;
        self.not_ip += not_ip;
        self.not_tcp += not_tcp;
        self.ip_fragment += ip_fragment;
        self.truncated += truncated;
        self.malformed += malformed;
        self.tunnel_control += tunnel_control;
        self.unsupported_encapsulation += unsupported_encapsulation;
        self.too_deep += too_deep;
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
    /// Requests that leaked something.
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
}

impl Stats {
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
        } = o;
        self.leaks_below_min_confidence += leaks_below_min_confidence;
        self.packets += packets;
        self.bytes += bytes;
        self.leaking_requests += leaking_requests;
        self.leaks += leaks;
        self.decode.absorb(decode);
        self.flow.absorb(flow);
        self.http.absorb(http);
    }
}

/// Settings of the analysis.
#[derive(Debug, Clone, Copy, Default)]
pub struct Config {
    /// Flow-table limits.
    pub flow: Limits,
    /// HTTP limits.
    pub http: HttpLimits,
    /// IP fragment reassembly limits.
    pub defrag: DefragLimits,
    /// Findings below this confidence are not reported (`--min-confidence`).
    pub min_confidence: Confidence,
}

/// The analysis of a run: packets in, findings out.
pub struct Analyzer {
    decoder: Decoder,
    flows: FlowTable<HttpExtractor>,
    http: HttpExtractor,
    detector: Arc<Detector>,
    decode: DecodeStats,
    packets: u64,
    bytes: u64,
    leaking_requests: u64,
    leaks: u64,
    below_min_confidence: u64,
    min_confidence: Confidence,
    external_clock: bool,
    /// One past the index of the last packet (orders clock-driven flushes).
    next_index: u64,
}

impl Analyzer {
    /// A fresh analysis.
    pub fn new(config: Config, detector: Arc<Detector>) -> Self {
        Analyzer {
            decoder: Decoder::new(config.defrag),
            flows: FlowTable::new(config.flow),
            http: HttpExtractor::new(config.http),
            detector,
            decode: DecodeStats::default(),
            packets: 0,
            bytes: 0,
            leaking_requests: 0,
            leaks: 0,
            below_min_confidence: 0,
            min_confidence: config.min_confidence,
            external_clock: false,
            next_index: 0,
        }
    }

    /// Takes the `index`-th packet of the source; `found` receives each request
    /// completed by it (or by an idle sweep it triggered), in [`OrderKey`] order.
    pub fn packet(&mut self, index: u64, packet: &Packet<'_>, found: &mut dyn FnMut(Finding)) {
        self.packets += 1;
        self.next_index = index.saturating_add(1);
        self.bytes += packet.data.len() as u64;
        if !self.external_clock {
            self.flows.advance_clock(packet.ts, &mut self.http);
            self.publish(index, 0, found);
        }
        match self.decoder.decode(packet.ts, packet.link, packet.data) {
            Ok(segment) => self
                .flows
                .process(index, packet.ts, &segment, &mut self.http),
            Err(skip) => {
                self.decode.count(skip);
                return;
            }
        }
        self.publish(index, 1, found);
    }

    /// Tells the analysis that capture time reached `now` with no packet (a live
    /// source's read timeout): idle flows are flushed on time, and `found`
    /// receives the requests their buffers held. Time never moves back.
    pub fn advance_clock(&mut self, now: crate::time::Timestamp, found: &mut dyn FnMut(Finding)) {
        self.flows.advance_clock(now, &mut self.http);
        self.publish(self.next_index, 0, found);
    }

    /// Leaves idle sweeps to [`Analyzer::sweep`] calls (see [`parallel`]).
    pub fn set_external_clock(&mut self, external: bool) {
        self.external_clock = external;
        self.flows.set_external_clock(external);
    }

    /// Sweeps idle flows at capture time `now`, before the `index`-th packet.
    pub fn sweep(
        &mut self,
        index: u64,
        now: crate::time::Timestamp,
        found: &mut dyn FnMut(Finding),
    ) {
        self.flows.sweep(now, &mut self.http);
        self.publish(index, 0, found);
    }

    /// Ends a source: flushes every flow (reporting what their buffers held).
    pub fn end_of_input(&mut self, found: &mut dyn FnMut(Finding)) {
        self.flows.flush_all(&mut self.http);
        self.decoder.end_of_input();
        self.publish(u64::MAX, 0, found);
    }

    /// Flows tracked now.
    pub fn active_flows(&self) -> usize {
        self.flows.len()
    }

    /// Counters so far.
    pub fn stats(&self) -> Stats {
        Stats {
            packets: self.packets,
            bytes: self.bytes,
            leaking_requests: self.leaking_requests,
            leaks: self.leaks,
            leaks_below_min_confidence: self.below_min_confidence,
            decode: DecodeStats {
                tunnels: self.decoder.tunnel_stats().clone(),
                defrag: self.decoder.defrag_stats().clone(),
                ..self.decode.clone()
            },
            flow: self.flows.stats().clone(),
            http: self.http.stats().clone(),
        }
    }

    fn publish(&mut self, completed_at: u64, phase: u8, found: &mut dyn FnMut(Finding)) {
        for request in self.http.take_requests() {
            let mut leaks = self.detector.inspect(&request);
            let mut below_min_confidence = Vec::new();
            if leaks.iter().any(|l| l.confidence < self.min_confidence) {
                let (keep, drop) = leaks
                    .into_iter()
                    .partition(|l| l.confidence >= self.min_confidence);
                leaks = keep;
                below_min_confidence = drop;
                self.below_min_confidence += below_min_confidence.len() as u64;
            }
            if !leaks.is_empty() {
                self.leaking_requests += 1;
                self.leaks += leaks.len() as u64;
            }
            let (flow, seq) = request.flow_order;
            let order = OrderKey {
                completed_at,
                phase,
                flow,
                seq,
            };
            found(Finding {
                request,
                leaks,
                below_min_confidence,
                order,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::LinkType;
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
            analyzer.packet(seq.into(), &packet, &mut |f| found.push(f));
        }
        assert!(found.is_empty());
        assert_eq!(analyzer.active_flows(), 1);
        // The default idle timeout is 300 s of capture time.
        analyzer.advance_clock(Timestamp::from_parts(t0 + 200, 0), &mut |f| found.push(f));
        assert_eq!(analyzer.active_flows(), 1);
        analyzer.advance_clock(Timestamp::from_parts(t0 + 301, 0), &mut |f| found.push(f));
        assert_eq!(analyzer.active_flows(), 0);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].request.uri, "/idle");
        assert!(found[0].request.truncated);
        assert_eq!(found[0].leaks.len(), 1);
        let stats = analyzer.stats();
        assert_eq!(stats.flow.flows_timed_out, 1);
        assert_eq!(stats.leaking_requests, 1);
    }
}
