//! Wiring of decode → flow → http → detect for one run over packet sources.
//!
//! [`Analyzer::packet`] takes captured packets in capture order and hands every
//! finished request, with its leaks, to a callback as soon as its header
//! block is complete. [`Analyzer::end_of_input`] flushes the flows of a source
//! (call it between files: flows never span two captures).
use std::sync::Arc;

use serde::Serialize;

use crate::capture::Packet;
use crate::decode::{self, Skip};
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
}

impl Finding {
    /// Every finding of the request, reported or not (for masking).
    pub fn all_leaks(&self) -> impl Iterator<Item = &Leak> {
        self.leaks.iter().chain(&self.below_min_confidence)
    }
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
    /// Findings left out because their confidence is below `--min-confidence`.
    pub leaks_below_min_confidence: u64,
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
    /// Findings below this confidence are not reported (`--min-confidence`).
    pub min_confidence: Confidence,
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
    below_min_confidence: u64,
    min_confidence: Confidence,
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
            below_min_confidence: 0,
            min_confidence: config.min_confidence,
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
            decode: self.decode.clone(),
            flow: self.flows.stats().clone(),
            http: self.http.stats().clone(),
        }
    }

    fn publish(&mut self, found: &mut dyn FnMut(Finding)) {
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
            found(Finding {
                request,
                leaks,
                below_min_confidence,
            });
        }
    }
}
