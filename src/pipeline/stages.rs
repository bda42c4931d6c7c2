//! The two stages of the analysis, each with its own state and counters.
//!
//! - [`DecodeStage`]: packets in, [`TcpSegment`]s out. It owns the decoder
//!   (link layers, tunnels, IP fragment reassembly) and counts packets, bytes
//!   and every decode counter. A run has exactly one, whatever the number of
//!   threads (the parallel reader runs it), so its counters never depend on
//!   `--threads`.
//! - [`TrackStage`]: segments in, findings out (flow → http → detect). The
//!   parallel runner has one per worker, each owning the flows whose key
//!   hashes to it ([`crate::flow::FlowKey::shard`]).
//!
//! Idle sweeps are the caller's: it keeps one [`super::Clock`] over every
//! packet's time and calls [`TrackStage::sweep`] when it says so.
use std::sync::Arc;

use super::{DecodeStats, Finding, OrderKey, PHASE_PACKET, Record, Shard, Stats, Sweep};
use crate::capture::Packet;
use crate::decode::{Decoder, DefragLimits, Skip, SkipStats, TcpSegment};
use crate::detect::{Confidence, Detector};
use crate::flow::FlowTable;
use crate::stack::{Extractor, Output, StackLimits};
use crate::time::Timestamp;
use crate::tls::{KeyLog, KeyLogStats};

/// The decode stage: every packet of a run goes through it, in capture order.
#[derive(Debug, Default)]
pub struct DecodeStage {
    decoder: Decoder,
    /// Secrets read from the capture, kept only to count them once per run.
    secrets_seen: KeyLog,
    keylog: KeyLogStats,
    skips: SkipStats,
    packets: u64,
    bytes: u64,
    shard: Shard,
    /// With several in-process workers each decoding every packet
    /// ([`super::split`]): this worker's thread shard and the number of
    /// workers ([`crate::flow::FlowKey::shard`]); `(0, 1)` keeps every flow.
    thread: (usize, usize),
}

impl DecodeStage {
    /// A decode stage with these fragment-reassembly limits.
    pub fn new(limits: DefragLimits) -> Self {
        DecodeStage {
            decoder: Decoder::new(limits),
            thread: (0, 1),
            ..DecodeStage::default()
        }
    }

    /// Passes on only the segments of the flows that fall to worker `thread`
    /// of `threads` ([`crate::flow::FlowKey::shard`], the hash the router
    /// uses); every packet is still decoded and counted.
    pub fn with_thread(mut self, thread: usize, threads: usize) -> Self {
        self.thread = (thread, threads.max(1));
        self
    }

    /// Passes on only the segments of this part of the flows (`--shard`);
    /// every packet is still decoded and counted.
    pub fn with_shard(mut self, shard: Shard) -> Self {
        self.shard = shard;
        self
    }

    /// Decodes one packet (counted); `None` when it carries no usable TCP
    /// segment (counted under its skip reason), only a fragment of one, or a
    /// segment of a flow of another part (`--shard`) or worker (not counted).
    pub fn packet<'a>(&'a mut self, packet: &Packet<'a>) -> Option<TcpSegment<'a>> {
        self.packets = self.packets.saturating_add(1);
        self.bytes = self.bytes.saturating_add(packet.data.len() as u64);
        match self.decoder.decode(packet.ts, packet.link, packet.data) {
            Ok(segment) => {
                owns(self.shard, self.thread, segment.src, segment.dst).then_some(segment)
            }
            Err(skip) => {
                self.skips.count(skip);
                None
            }
        }
    }

    /// Decodes one packet for the workers of a split run, each of which
    /// tracks the flows of its thread shard ([`Self::with_thread`]): which of
    /// them owns its segment, or [`Routing::Fragment`] for a frame holding an
    /// IP fragment, which this stage neither decodes nor counts (every
    /// worker's own stage reassembles it, as [`Self::packet`]). Counted as
    /// [`Self::packet`] counts otherwise.
    pub fn route<'a>(&mut self, packet: &Packet<'a>) -> Routing<'a> {
        let decoded = self.decoder.decode_unfragmented(packet.link, packet.data);
        if decoded == Err(Skip::IpFragment) {
            return Routing::Fragment;
        }
        self.packets = self.packets.saturating_add(1);
        self.bytes = self.bytes.saturating_add(packet.data.len() as u64);
        match decoded {
            Ok(segment) => {
                let (key, _) = crate::flow::FlowKey::of(segment.src, segment.dst);
                let shard = self.shard;
                if shard.is_whole() || key.run_part(shard.count) == shard.index {
                    Routing::Segment(key.shard(self.thread.1), segment)
                } else {
                    Routing::Elsewhere
                }
            }
            Err(skip) => {
                self.skips.count(skip);
                Routing::Elsewhere
            }
        }
    }

    /// Counts decryption secrets read with the packets (once per run: the
    /// workers that use them do not count them).
    pub fn secrets(&mut self, secrets: &crate::capture::Secrets) {
        secrets.add_to(&mut self.secrets_seen, &mut self.keylog);
    }

    /// Ends a source: fragments still in reassembly are given up (counted).
    pub fn end_of_input(&mut self) {
        self.decoder.end_of_input();
    }

    /// Bytes held in fragment reassembly now.
    pub fn held_fragment_bytes(&self) -> usize {
        self.decoder.held_fragment_bytes()
    }

    /// This stage's counters: packets, bytes and `decode` (the rest zero),
    /// in every part of a sharded run ([`Shard::share`] keeps them for the
    /// first part's summary only).
    pub fn stats(&self) -> Stats {
        Stats {
            packets: self.packets,
            bytes: self.bytes,
            decode: DecodeStats {
                skips: self.skips.clone(),
                tunnels: self.decoder.tunnel_stats().clone(),
                defrag: self.decoder.defrag_stats().clone(),
            },
            keylog: self.keylog.clone(),
            ..Stats::default()
        }
    }
}

/// Whether a segment from `src` to `dst` belongs to this part of the flows
/// (`--shard`) and, with `thread = (i, n)` and `n > 1`, to worker `i` of `n`.
fn owns(
    shard: Shard,
    (thread, threads): (usize, usize),
    src: std::net::SocketAddr,
    dst: std::net::SocketAddr,
) -> bool {
    if threads <= 1 {
        return shard.owns(src, dst);
    }
    let (key, _) = crate::flow::FlowKey::of(src, dst);
    key.shard(threads) == thread && (shard.is_whole() || key.run_part(shard.count) == shard.index)
}

/// Where [`DecodeStage::route`] sends a packet.
#[derive(Debug, Clone, Copy)]
pub enum Routing<'a> {
    /// A segment of a flow of this worker (by number).
    Segment(usize, TcpSegment<'a>),
    /// A frame holding an IP fragment, for every worker to reassemble.
    Fragment,
    /// Nothing to track here: no TCP segment (counted), or a flow of another
    /// part of a run split over machines (`--shard`).
    Elsewhere,
}

/// The tracking stage: flows, HTTP requests and detection, for the segments
/// of the flows it owns.
pub struct TrackStage {
    flows: FlowTable<Extractor>,
    http: Extractor,
    detector: Arc<Detector>,
    min_confidence: Confidence,
    leaking_requests: u64,
    leaks: u64,
    below_min_confidence: u64,
}

impl TrackStage {
    /// A tracking stage with these limits.
    pub fn new(config: &super::Config, detector: Arc<Detector>) -> Self {
        let mut flows = FlowTable::new(config.flow);
        // Sweeps come from the caller's schedule, one for the whole run.
        flows.set_external_clock(true);
        let mut http = Extractor::new(
            StackLimits {
                http: config.http,
                tls: config.tls,
                tls_held_memcap: config.tls_held_memcap,
            },
            Arc::clone(&config.keys),
        );
        http.set_keys_complete(config.keys_complete);
        http.set_read_responses(config.read_responses);
        TrackStage {
            flows,
            http,
            detector,
            min_confidence: config.min_confidence,
            leaking_requests: 0,
            leaks: 0,
            below_min_confidence: 0,
        }
    }

    /// Takes the segment of the `index`-th packet, captured at `ts`; `found`
    /// receives each request it completed.
    pub fn segment(
        &mut self,
        index: u64,
        ts: Timestamp,
        segment: &TcpSegment<'_>,
        found: &mut dyn FnMut(Record),
    ) {
        self.flows.process(index, ts, segment, &mut self.http);
        self.publish(index, PHASE_PACKET, found);
    }

    /// Takes decryption secrets read before the next packet.
    pub fn secrets(&mut self, secrets: &crate::capture::Secrets) {
        self.http.add_secrets(secrets);
    }

    /// Flushes the flows idle at the sweep's capture time; `found` receives
    /// the requests their buffers held.
    pub fn sweep(&mut self, sweep: Sweep, found: &mut dyn FnMut(Record)) {
        self.flows.sweep(sweep.now, &mut self.http);
        self.http.retry_parked(false);
        self.publish(sweep.index, sweep.phase, found);
    }

    /// Ends a source: flushes every flow (reporting what their buffers held).
    pub fn end_of_input(&mut self, found: &mut dyn FnMut(Record)) {
        self.flows.flush_all(&mut self.http);
        self.http.retry_parked(true);
        self.publish(u64::MAX, 0, found);
    }

    /// Flows tracked now.
    pub fn active_flows(&self) -> usize {
        self.flows.len()
    }

    /// This stage's counters: findings, `flow` and `http` (the rest zero).
    pub fn stats(&self) -> Stats {
        Stats {
            leaking_requests: self.leaking_requests,
            leaks: self.leaks,
            leaks_below_min_confidence: self.below_min_confidence,
            flow: self.flows.stats().clone(),
            http: self.http.stats().clone(),
            tls: self.http.tls_stats().clone(),
            h2: self.http.h2_stats().clone(),
            body: self.http.body_stats().clone(),
            ..Stats::default()
        }
    }

    fn publish(&mut self, completed_at: u64, phase: u32, found: &mut dyn FnMut(Record)) {
        let order = |(flow, seq): (u64, u64)| OrderKey {
            completed_at,
            phase,
            flow,
            seq,
        };
        for output in self.http.take_output() {
            let request = match output {
                Output::Request(r) => r,
                Output::Answer(answer) => {
                    let order = order(answer.flow_order);
                    found(Record::Answer { answer, order });
                    continue;
                }
            };
            let mut leaks = self.detector.inspect(&request);
            let mut below_min_confidence = Vec::new();
            if leaks.iter().any(|l| l.confidence < self.min_confidence) {
                let (keep, drop) = leaks
                    .into_iter()
                    .partition(|l| l.confidence >= self.min_confidence);
                leaks = keep;
                below_min_confidence = drop;
                self.below_min_confidence = self
                    .below_min_confidence
                    .saturating_add(below_min_confidence.len() as u64);
            }
            if !leaks.is_empty() {
                self.leaking_requests = self.leaking_requests.saturating_add(1);
                self.leaks = self.leaks.saturating_add(leaks.len() as u64);
            }
            let order = order(request.flow_order);
            found(Record::Finding(Finding {
                request,
                leaks,
                below_min_confidence,
                order,
            }));
        }
    }
}
