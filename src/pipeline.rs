//! Wiring of decode → flow → http → detect for one run over packet sources.
//!
//! [`Analyzer::packet`] takes captured packets in capture order and hands every
//! finished request, with its leaks, to a callback as soon as its header
//! block is complete. [`Analyzer::end_of_input`] flushes the flows of a source
//! (call it between files: flows never span two captures).
//! [`Analyzer::advance_clock`] lets a live source move capture time on while
//! no packet arrives, so idle flows are flushed on time.
use std::sync::Arc;

use serde::Serialize;

use crate::capture::Packet;
use crate::decode::{self, Skip};
use crate::detect::{Detector, Leak};
use crate::flow::{FlowStats, FlowTable, Limits};
use crate::http::{HttpExtractor, HttpLimits, HttpStats, Request};
use crate::time::Timestamp;

/// A request and what leaked in it.
#[derive(Debug, Clone)]
pub struct Finding {
    /// The request.
    pub request: Request,
    /// Leaks, in header order; empty when nothing leaked.
    pub leaks: Vec<Leak>,
}

/// Counters of the decode stage, one per [`Skip`] reason.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DecodeStats {
    /// Frames of a link type that is not decoded.
    pub unknown_link_type: u64,
    /// Frames without IP.
    pub not_ip: u64,
    /// IP packets that are not TCP.
    pub not_tcp: u64,
    /// IP fragments (not reassembled).
    pub ip_fragment: u64,
    /// Frames whose headers were cut short.
    pub truncated: u64,
    /// Frames with self-contradicting headers.
    pub malformed: u64,
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
        };
        *slot += 1;
    }
}

/// Every counter of a run, for the summary.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Stats {
    /// Packets read.
    pub packets: u64,
    /// Captured bytes in those packets.
    pub bytes: u64,
    /// Requests that leaked something.
    pub leaking_requests: u64,
    /// Leaks found (a request may have several).
    pub leaks: u64,
    /// Decode stage.
    pub decode: DecodeStats,
    /// Flow and reassembly stage.
    pub flow: FlowStats,
    /// HTTP stage.
    pub http: HttpStats,
}

/// Settings of the analysis.
#[derive(Debug, Clone, Copy, Default)]
pub struct Config {
    /// Flow-table limits.
    pub flow: Limits,
    /// HTTP limits.
    pub http: HttpLimits,
}

/// The analysis of a run: packets in, findings out.
pub struct Analyzer {
    flows: FlowTable<HttpExtractor>,
    http: HttpExtractor,
    detector: Arc<Detector>,
    decode: DecodeStats,
    packets: u64,
    bytes: u64,
    leaking_requests: u64,
    leaks: u64,
}

impl Analyzer {
    /// A fresh analysis.
    pub fn new(config: Config, detector: Arc<Detector>) -> Self {
        Analyzer {
            flows: FlowTable::new(config.flow),
            http: HttpExtractor::new(config.http),
            detector,
            decode: DecodeStats::default(),
            packets: 0,
            bytes: 0,
            leaking_requests: 0,
            leaks: 0,
        }
    }

    /// Takes one packet; `found` receives each request completed by it.
    pub fn packet(&mut self, packet: &Packet<'_>, found: &mut dyn FnMut(Finding)) {
        self.packets += 1;
        self.bytes += packet.data.len() as u64;
        match decode::decode(packet.link, packet.data) {
            Ok(segment) => self.flows.process(packet.ts, &segment, &mut self.http),
            Err(skip) => {
                self.decode.count(skip);
                return;
            }
        }
        self.publish(found);
    }

    /// Ends a source: flushes every flow (reporting what their buffers held).
    pub fn end_of_input(&mut self, found: &mut dyn FnMut(Finding)) {
        self.flows.flush_all(&mut self.http);
        self.publish(found);
    }

    /// Tells the analysis that capture time reached `now` with no packet (a live
    /// source's read timeout): idle flows are flushed on time, and `found`
    /// receives the requests their buffers held. Time never moves back.
    pub fn advance_clock(&mut self, now: Timestamp, found: &mut dyn FnMut(Finding)) {
        self.flows.advance_clock(now, &mut self.http);
        self.publish(found);
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
            decode: self.decode.clone(),
            flow: self.flows.stats().clone(),
            http: self.http.stats().clone(),
        }
    }

    fn publish(&mut self, found: &mut dyn FnMut(Finding)) {
        for request in self.http.take_requests() {
            let leaks = self.detector.inspect(&request.headers);
            if !leaks.is_empty() {
                self.leaking_requests += 1;
                self.leaks += leaks.len() as u64;
            }
            found(Finding { request, leaks });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::LinkType;

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
            analyzer.packet(&packet, &mut |f| found.push(f));
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
