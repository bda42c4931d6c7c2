//! The analysis on several threads.
//!
//! The calling thread reads the capture in blocks ([`BlockSource`]: classic
//! pcap is read into shared buffers and never copied again) and runs the
//! run's one [`Router`]: the [`DecodeStage`] on every packet (link layers,
//! tunnels, IP fragment reassembly, outer and inner) and the idle-sweep
//! [`Clock`]. Each segment goes to the worker its [`FlowKey`] hashes
//! to, the same key the flow table uses, so a connection whose packets
//! change outer addresses (a GTP-U handover between base stations, two
//! mirror sources) stays with one worker. A worker receives the segment's
//! header fields and its payload as a range of the shared block (owned bytes
//! only for a reassembled datagram) and runs a [`TrackStage`] (flow → http →
//! detect). Sweeps are sent to every worker at the same point of the packet
//! sequence as a single thread would make them. Workers return findings
//! tagged with their [`super::OrderKey`] and the index up to which they have seen
//! everything; the reader merges them into exactly the order one thread
//! produces. Memory is bounded: at most [`BATCHES_IN_FLIGHT`] blocks per
//! worker, and findings wait only for the slowest worker's progress.
//!
//! [`analyze`] runs a block source to its end; [`with_workers`] hands a
//! [`Pipeline`] to a caller that feeds blocks and clock ticks as they come (a
//! live capture).
//!
//! Decode counters (skips, tunnels, fragment reassembly) live in the reader,
//! so they are those of one thread. The flow-table and HTTP caps are divided
//! among workers (each gets `1/N` of `--max-flows`, `--ooo-memcap` and the
//! heads' memcap): output is identical to one thread's unless such a cap is
//! reached. The fragment memcap is the reader's, whole.
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::ops::Range;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, Sender, SyncSender, sync_channel};

use super::{Clock, Config, DecodeStage, Record, Stats, Sweep, TrackStage};
use crate::capture::{BlockData, BlockSource, CaptureError, Packet, PacketBlock, Secrets};
use crate::decode::{DefragLimits, TcpFlags, TcpSegment, Tunnel};
use crate::detect::Detector;
use crate::flow::FlowKey;
use crate::time::Timestamp;

/// Blocks queued per worker before the reader waits.
pub const BATCHES_IN_FLIGHT: usize = 4;

/// The reader's per-packet work: decode, sweep clock, choice of worker.
#[derive(Debug)]
pub struct Router {
    decode: DecodeStage,
    clock: Clock,
    workers: usize,
    /// Index of the next packet.
    index: u64,
}

/// What the router made of one packet.
#[derive(Debug)]
pub struct Routed<'a> {
    /// The packet's index in its source.
    pub index: u64,
    /// An idle sweep due before the packet (sent to every worker).
    pub sweep: Option<Sweep>,
    /// The packet's segment, and the worker that owns its flow.
    pub segment: Option<(usize, TcpSegment<'a>)>,
}

impl Router {
    /// A router over `workers` workers (at least one).
    pub fn new(defrag: DefragLimits, workers: usize) -> Self {
        Router {
            decode: DecodeStage::new(defrag),
            clock: Clock::default(),
            workers: workers.max(1),
            index: 0,
        }
    }

    /// Routes only the segments of this part of the flows (`--shard`).
    pub fn with_shard(mut self, shard: super::Shard) -> Self {
        self.decode = self.decode.with_shard(shard);
        self
    }

    /// Takes the next packet of the source.
    pub fn route<'a>(&'a mut self, packet: &Packet<'a>) -> Routed<'a> {
        let index = self.index;
        self.index = index.saturating_add(1);
        let sweep = self.clock.observe(index, packet.ts);
        let workers = self.workers;
        let segment = self.decode.packet(packet).map(|segment| {
            let (key, _) = FlowKey::of(segment.src, segment.dst);
            (key.shard(workers), segment)
        });
        Routed {
            index,
            sweep,
            segment,
        }
    }

    /// Decryption secrets read before the next packet: counted here, once
    /// for the run (the workers each take them too).
    pub fn secrets(&mut self, secrets: &Secrets) {
        self.decode.secrets(secrets);
    }

    /// Capture time reached `now` with no packet (a live source's clock): the
    /// sweep due, if any.
    pub fn tick(&mut self, now: Timestamp) -> Option<Sweep> {
        self.clock.observe(self.index, now)
    }

    /// Ends the source: fragments in reassembly are given up (counted).
    pub fn end_of_input(&mut self) {
        self.decode.end_of_input();
        self.clock = Clock::default();
        self.index = 0;
    }

    /// The decode stage's counters.
    pub fn stats(&self) -> Stats {
        self.decode.stats()
    }
}

/// Where a routed segment's payload is.
#[derive(Debug)]
enum Payload {
    /// A range of the batch's block: the packet's own bytes.
    Block(Range<usize>),
    /// A reassembled datagram's payload.
    Owned(Vec<u8>),
}

/// A decoded segment on its way to a worker.
#[derive(Debug)]
pub(super) struct SegmentItem {
    index: u64,
    ts: Timestamp,
    src: SocketAddr,
    dst: SocketAddr,
    seq: u32,
    ack: u32,
    flags: TcpFlags,
    missing: u32,
    tunnel: Option<Tunnel>,
    payload: Payload,
}

impl SegmentItem {
    fn segment<'a>(&'a self, block: Option<&'a BlockData>) -> TcpSegment<'a> {
        let payload = match &self.payload {
            Payload::Block(range) => block
                .and_then(|b| b.bytes().get(range.clone()))
                .unwrap_or_default(),
            Payload::Owned(bytes) => bytes,
        };
        TcpSegment {
            src: self.src,
            dst: self.dst,
            seq: self.seq,
            ack: self.ack,
            flags: self.flags,
            payload,
            missing: self.missing,
            tunnel: self.tunnel,
        }
    }
}

/// Where `inner` lies within `outer`, if it does.
fn range_within(outer: &[u8], inner: &[u8]) -> Option<Range<usize>> {
    let start = (inner.as_ptr() as usize).checked_sub(outer.as_ptr() as usize)?;
    let end = start.checked_add(inner.len())?;
    (end <= outer.len()).then_some(start..end)
}

#[derive(Debug)]
pub(super) enum Item {
    Segment(SegmentItem),
    Sweep(Sweep),
    /// Decryption secrets read before the next segment (sent to every worker).
    Secrets(Arc<Secrets>),
}

/// A point in the order of findings: every finding whose
/// `(completed_at, phase)` sorts before it is complete.
pub(super) type Position = (u64, u32);

/// One worker's part of a block (or of a clock tick).
struct Batch {
    block: Option<Arc<BlockData>>,
    items: Vec<Item>,
    /// The worker has every item before this point once it has this batch.
    through: Position,
}

enum ToWorker {
    Batch(Batch),
    End,
}

pub(super) struct FromWorker {
    pub(super) worker: usize,
    pub(super) findings: Vec<Record>,
    /// The worker has processed everything before this point.
    pub(super) through: Position,
    /// The worker's counters, with its last message.
    pub(super) stats: Option<Box<Stats>>,
    /// The worker's counters and flows tracked so far (for a status line).
    pub(super) snapshot: Option<(Box<Stats>, usize)>,
    /// The batch's item list, to be reused.
    pub(super) spent: Option<Vec<Item>>,
}

/// Analyses `source` on `workers` threads; findings reach `found` in the order
/// a single [`super::Analyzer`] would produce them. `progress` hears the source
/// position after every block. Returns the summed counters and the error that
/// ended the source early, if any.
pub fn analyze(
    source: &mut dyn BlockSource,
    workers: usize,
    config: Config,
    detector: &Arc<Detector>,
    found: &mut dyn FnMut(Record),
    progress: &mut dyn FnMut(u64),
) -> (Stats, Option<CaptureError>) {
    with_workers(workers, config, detector, |pipeline| {
        let mut error = None;
        loop {
            match source.next_block() {
                Ok(Some(block)) => pipeline.block(&block, found),
                Ok(None) => break,
                Err(e) => {
                    error = Some(e);
                    break;
                }
            }
            progress(source.position());
        }
        (pipeline.finish(found), error)
    })
}

/// Starts `workers` worker threads and hands `run` the [`Pipeline`] that
/// feeds them; the threads end when `run` returns.
pub fn with_workers<R>(
    workers: usize,
    config: Config,
    detector: &Arc<Detector>,
    run: impl FnOnce(&mut Pipeline) -> R,
) -> R {
    let workers = workers.max(1);
    let shard_config = per_worker(config.clone(), workers);
    std::thread::scope(|scope| {
        let (results_tx, results) = std::sync::mpsc::channel::<FromWorker>();
        let mut inboxes: Vec<SyncSender<ToWorker>> = Vec::with_capacity(workers);
        for worker in 0..workers {
            let (tx, rx) = sync_channel::<ToWorker>(BATCHES_IN_FLIGHT);
            inboxes.push(tx);
            let results_tx = results_tx.clone();
            let detector = Arc::clone(detector);
            let shard_config = shard_config.clone();
            scope.spawn(move || run_worker(worker, rx, results_tx, shard_config, detector));
        }
        drop(results_tx);
        let mut pipeline = Pipeline {
            inboxes,
            results,
            merger: Merger::new(workers),
            spare: Vec::new(),
            router: Router::new(config.defrag, workers).with_shard(config.shard),
            ended: false,
        };
        let out = run(&mut pipeline);
        // Closing the inboxes ends the workers (if `run` did not finish).
        drop(pipeline);
        out
    })
}

/// The parallel analysis of one source, fed by its caller (see [`with_workers`]).
pub struct Pipeline {
    inboxes: Vec<SyncSender<ToWorker>>,
    results: Receiver<FromWorker>,
    merger: Merger,
    spare: Vec<Vec<Item>>,
    router: Router,
    ended: bool,
}

impl Pipeline {
    /// Routes the packets of a block to the workers; `found` receives the
    /// findings that became final meanwhile.
    pub fn block(&mut self, block: &PacketBlock, found: &mut dyn FnMut(Record)) {
        let mut lists = self.lists();
        let mut secrets = block.secrets.iter().peekable();
        for (at, packet) in block.packets.iter().enumerate() {
            while let Some((_, s)) = secrets.next_if(|(before, _)| *before <= at) {
                self.router.secrets(s);
                let shared = Arc::new(s.clone());
                for list in &mut lists {
                    list.push(Item::Secrets(Arc::clone(&shared)));
                }
            }
            let p = packet.packet(&block.data);
            let routed = self.router.route(&p);
            if let Some(sweep) = routed.sweep {
                for list in &mut lists {
                    list.push(Item::Sweep(sweep));
                }
            }
            if let Some((worker, seg)) = routed.segment {
                // The packet's own bytes travel as a range of the shared
                // block; only a reassembled datagram's are copied.
                let payload = match range_within(p.data, seg.payload) {
                    Some(r) => Payload::Block(
                        r.start.saturating_add(packet.start)..r.end.saturating_add(packet.start),
                    ),
                    None => Payload::Owned(seg.payload.to_vec()),
                };
                if let Some(list) = lists.get_mut(worker) {
                    list.push(Item::Segment(SegmentItem {
                        index: routed.index,
                        ts: p.ts,
                        src: seg.src,
                        dst: seg.dst,
                        seq: seg.seq,
                        ack: seg.ack,
                        flags: seg.flags,
                        missing: seg.missing,
                        tunnel: seg.tunnel,
                        payload,
                    }));
                }
            }
        }
        for (_, s) in secrets {
            // Secrets after the block's last packet.
            self.router.secrets(s);
            let shared = Arc::new(s.clone());
            for list in &mut lists {
                list.push(Item::Secrets(Arc::clone(&shared)));
            }
        }
        self.dispatch(Some(&block.data), lists, (self.router.index, 0));
        self.merger
            .drain(&self.results, &mut self.spare, found, false);
    }

    /// Capture time reached `now` with no packet (a live source's read
    /// timeout): idle flows are swept on time. `found` receives the findings
    /// that became final meanwhile.
    pub fn tick(&mut self, now: Timestamp, found: &mut dyn FnMut(Record)) {
        if let Some(sweep) = self.router.tick(now) {
            let mut lists = self.lists();
            for list in &mut lists {
                list.push(Item::Sweep(sweep));
            }
            let through = (sweep.index, sweep.phase.saturating_add(1));
            self.dispatch(None, lists, through);
        }
        self.poll(found);
    }

    /// Emits the findings that became final, without waiting.
    pub fn poll(&mut self, found: &mut dyn FnMut(Record)) {
        self.merger
            .drain(&self.results, &mut self.spare, found, false);
    }

    /// Ends the source: every flow is flushed and every finding emitted;
    /// returns the run's counters (decode stage and all workers).
    pub fn finish(&mut self, found: &mut dyn FnMut(Record)) -> Stats {
        if !self.ended {
            self.ended = true;
            self.router.end_of_input();
            for inbox in &self.inboxes {
                let _ = inbox.send(ToWorker::End);
            }
            self.inboxes.clear();
            self.merger
                .drain(&self.results, &mut self.spare, found, true);
        }
        let mut stats = self.router.stats();
        stats.absorb(&self.merger.stats);
        stats
    }

    /// Flows tracked now, over all workers (as of their last batch).
    pub fn active_flows(&self) -> usize {
        self.merger.active_flows.iter().sum()
    }

    /// Counters so far: the decode stage's now, the workers' as of their last batch.
    pub fn stats(&self) -> Stats {
        let mut stats = self.router.stats();
        if self.ended {
            stats.absorb(&self.merger.stats);
        } else {
            for worker in self.merger.latest.iter().flatten() {
                stats.absorb(worker);
            }
        }
        stats
    }

    fn lists(&mut self) -> Vec<Vec<Item>> {
        (0..self.inboxes.len())
            .map(|_| self.spare.pop().unwrap_or_default())
            .collect()
    }

    fn dispatch(
        &mut self,
        block: Option<&Arc<BlockData>>,
        lists: Vec<Vec<Item>>,
        through: Position,
    ) {
        for (worker, items) in lists.into_iter().enumerate() {
            let batch = Batch {
                block: block.map(Arc::clone),
                items,
                through,
            };
            if let Some(inbox) = self.inboxes.get(worker) {
                // A worker that died has nothing more to say; the merge ends with its channel.
                let _ = inbox.send(ToWorker::Batch(batch));
            }
        }
    }
}

/// Each worker's share of the flow and HTTP limits (fragment reassembly is
/// the reader's alone and keeps its whole cap).
pub(super) fn per_worker(mut config: Config, workers: usize) -> Config {
    config.flow.max_flows = (config.flow.max_flows / workers).max(1);
    config.flow.ooo_memcap /= workers;
    config.http.head_memcap /= workers;
    config.http.body_memcap /= workers;
    config.tls_held_memcap /= workers;
    config
}

fn run_worker(
    worker: usize,
    inbox: Receiver<ToWorker>,
    results: Sender<FromWorker>,
    config: Config,
    detector: Arc<Detector>,
) {
    let mut track = TrackStage::new(&config, detector);
    while let Ok(message) = inbox.recv() {
        let mut findings = Vec::new();
        let mut push = |f: Record| findings.push(f);
        match message {
            ToWorker::Batch(Batch {
                block,
                mut items,
                through,
            }) => {
                for item in &items {
                    match item {
                        Item::Sweep(sweep) => track.sweep(*sweep, &mut push),
                        Item::Secrets(secrets) => track.secrets(secrets),
                        Item::Segment(s) => {
                            track.segment(s.index, s.ts, &s.segment(block.as_deref()), &mut push)
                        }
                    }
                }
                drop(block);
                items.clear();
                let message = FromWorker {
                    worker,
                    findings,
                    through,
                    stats: None,
                    snapshot: Some((Box::new(track.stats()), track.active_flows())),
                    spent: Some(items),
                };
                if results.send(message).is_err() {
                    return;
                }
            }
            ToWorker::End => {
                track.end_of_input(&mut push);
                let stats = Some(Box::new(track.stats()));
                let _ = results.send(FromWorker {
                    worker,
                    findings,
                    through: (u64::MAX, u32::MAX),
                    stats,
                    snapshot: None,
                    spent: None,
                });
                return;
            }
        }
    }
}

/// Merges the workers' findings into [`super::OrderKey`] order.
pub(super) struct Merger {
    queues: Vec<VecDeque<Record>>,
    through: Vec<Position>,
    /// The sum of the workers' final counters.
    pub(super) stats: Stats,
    /// Each worker's counters as of its last batch.
    latest: Vec<Option<Box<Stats>>>,
    /// Each worker's flows as of its last batch.
    active_flows: Vec<usize>,
}

impl Merger {
    pub(super) fn new(workers: usize) -> Self {
        Merger {
            queues: (0..workers).map(|_| VecDeque::new()).collect(),
            through: vec![(0, 0); workers],
            stats: Stats::default(),
            latest: (0..workers).map(|_| None).collect(),
            active_flows: vec![0; workers],
        }
    }

    /// Takes what the workers sent (waiting for all of them to end if `to_end`)
    /// and emits every finding no worker can still precede.
    fn drain(
        &mut self,
        results: &Receiver<FromWorker>,
        spare: &mut Vec<Vec<Item>>,
        found: &mut dyn FnMut(Record),
        to_end: bool,
    ) {
        loop {
            let message = if to_end {
                match results.recv() {
                    Ok(m) => m,
                    Err(_) => break,
                }
            } else {
                match results.try_recv() {
                    Ok(m) => m,
                    Err(_) => break,
                }
            };
            self.take(message, spare);
            self.emit(found);
        }
        self.emit(found);
    }

    /// Files what one worker sent.
    pub(super) fn take(&mut self, message: FromWorker, spare: &mut Vec<Vec<Item>>) {
        if let Some(queue) = self.queues.get_mut(message.worker) {
            queue.extend(message.findings);
        }
        if let Some(through) = self.through.get_mut(message.worker) {
            *through = message.through;
        }
        if let Some(stats) = message.stats {
            self.stats.absorb(&stats);
        }
        if let Some((stats, flows)) = message.snapshot {
            if let Some(slot) = self.latest.get_mut(message.worker) {
                *slot = Some(stats);
            }
            if let Some(slot) = self.active_flows.get_mut(message.worker) {
                *slot = flows;
            }
        }
        if let Some(items) = message.spent {
            spare.push(items);
        }
    }

    /// Emits every finding no worker can still precede.
    pub(super) fn emit(&mut self, found: &mut dyn FnMut(Record)) {
        // No worker can still produce a finding before every worker's progress.
        let safe = self.through.iter().copied().min().unwrap_or((0, 0));
        loop {
            let next = self
                .queues
                .iter()
                .enumerate()
                .filter_map(|(i, q)| q.front().map(|f| (f.order(), i)))
                .filter(|(order, _)| {
                    safe == (u64::MAX, u32::MAX) || (order.completed_at, order.phase) < safe
                })
                .min();
            let Some((_, worker)) = next else { break };
            if let Some(finding) = self.queues.get_mut(worker).and_then(VecDeque::pop_front) {
                found(finding);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::LinkType;

    /// An IPv4 header (no options, checksum zero) around `payload`.
    fn ipv4(src: [u8; 4], dst: [u8; 4], proto: u8, payload: &[u8]) -> Vec<u8> {
        let total = u16::try_from(20 + payload.len()).unwrap();
        let mut p = vec![0x45, 0];
        p.extend_from_slice(&total.to_be_bytes());
        p.extend_from_slice(&[0, 1, 0, 0, 64, proto, 0, 0]);
        p.extend_from_slice(&src);
        p.extend_from_slice(&dst);
        p.extend_from_slice(payload);
        p
    }

    /// A TCP header (ACK, PSH) with `payload`.
    fn tcp(sport: u16, dport: u16, payload: &[u8]) -> Vec<u8> {
        let mut t = sport.to_be_bytes().to_vec();
        t.extend_from_slice(&dport.to_be_bytes());
        t.extend_from_slice(&[0, 0, 0, 1, 0, 0, 0, 1, 0x50, 0x18, 0xff, 0xff, 0, 0, 0, 0]);
        t.extend_from_slice(payload);
        t
    }

    /// An Ethernet frame carrying `inner` in GTP-U between one base station and one gateway.
    fn gtpu_frame(inner: &[u8]) -> Vec<u8> {
        let mut g = vec![0x30, 0xff];
        g.extend_from_slice(&u16::try_from(inner.len()).unwrap().to_be_bytes());
        g.extend_from_slice(&7u32.to_be_bytes());
        g.extend_from_slice(inner);
        let mut u = 2152u16.to_be_bytes().to_vec();
        u.extend_from_slice(&2152u16.to_be_bytes());
        u.extend_from_slice(&u16::try_from(8 + g.len()).unwrap().to_be_bytes());
        u.extend_from_slice(&[0, 0]);
        u.extend_from_slice(&g);
        let mut f = vec![0u8; 12];
        f.extend_from_slice(&0x0800u16.to_be_bytes());
        f.extend_from_slice(&ipv4([172, 16, 1, 10], [172, 16, 2, 20], 17, &u));
        f
    }

    fn packet(data: &[u8]) -> Packet<'_> {
        Packet {
            ts: Timestamp::from_parts(1_700_000_000, 0),
            link: LinkType::ETHERNET,
            orig_len: u32::try_from(data.len()).unwrap(),
            data,
        }
    }

    #[test]
    fn one_tunnel_pair_with_many_flows_keeps_every_worker_busy() {
        for workers in [2, 3, 4, 7] {
            let mut router = Router::new(DefragLimits::default(), workers);
            let mut per_worker = vec![0usize; workers];
            for i in 0..64u16 {
                // One subscriber, many connections, all in one tunnel.
                let up = ipv4(
                    [10, 45, 0, 7],
                    [192, 0, 2, 60],
                    6,
                    &tcp(40000 + i, 80, b"GET"),
                );
                let frame = gtpu_frame(&up);
                let (worker, seg) = router.route(&packet(&frame)).segment.unwrap();
                assert_eq!(seg.payload, b"GET");
                assert_eq!(worker, FlowKey::of(seg.src, seg.dst).0.shard(workers));
                per_worker[worker] += 1;
                // The answer of the same connection goes to the same worker.
                let down = ipv4([192, 0, 2, 60], [10, 45, 0, 7], 6, &tcp(80, 40000 + i, b""));
                let frame = gtpu_frame(&down);
                assert_eq!(router.route(&packet(&frame)).segment.unwrap().0, worker);
            }
            assert!(
                per_worker.iter().all(|&n| n > 0),
                "{workers} workers: {per_worker:?}"
            );
            // Every packet was decoded once, in the router.
            let stats = router.stats();
            assert_eq!(stats.packets, 128);
            assert_eq!(stats.decode.tunnels.gtpu, 128);
        }
    }

    #[test]
    fn payloads_travel_as_block_ranges_unless_reassembled() {
        let frame = gtpu_frame(&ipv4([10, 0, 0, 1], [10, 0, 0, 2], 6, &tcp(1, 2, b"abc")));
        let mut router = Router::new(DefragLimits::default(), 2);
        let (_, seg) = router.route(&packet(&frame)).segment.unwrap();
        assert_eq!(
            range_within(&frame, seg.payload),
            Some(frame.len() - 3..frame.len())
        );
        let elsewhere = b"abc".to_vec();
        assert_eq!(range_within(&frame, &elsewhere), None);
    }

    /// The router and a decoder fed the same frames (GTP-U, fragments of it,
    /// arbitrary bytes) agree: a routing key exactly for every segment, the
    /// same segment, and the flow table's key.
    #[test]
    fn router_and_decoder_agree_on_every_frame() {
        let mut frames = Vec::new();
        let mut state = 0x9e37_79b9u32;
        for i in 0..400u16 {
            let inner = ipv4(
                [10, 45, 0, 7],
                [192, 0, 2, 60],
                6,
                &tcp(40000 + i, 80, b"GET /"),
            );
            let mut frame = gtpu_frame(&inner);
            // Flip a few bytes of most frames, cut some.
            for _ in 0..(i % 4) {
                state ^= state << 13;
                state ^= state >> 17;
                state ^= state << 5;
                let at = state as usize % frame.len();
                frame[at] ^= (state >> 8) as u8;
            }
            if i % 7 == 0 {
                frame.truncate(state as usize % frame.len());
            }
            frames.push(frame);
        }
        let mut decoder = crate::decode::Decoder::new(DefragLimits::default());
        let mut router = Router::new(DefragLimits::default(), 3);
        let mut segments = 0;
        for frame in &frames {
            let p = packet(frame);
            let decoded = decoder.decode(p.ts, p.link, p.data);
            let routed = router.route(&p).segment;
            match (decoded, routed) {
                (Ok(seg), Some((worker, routed))) => {
                    assert_eq!(seg, routed);
                    assert_eq!(worker, FlowKey::of(seg.dst, seg.src).0.shard(3));
                    segments += 1;
                }
                (Err(_), None) => {}
                (d, r) => panic!("decoder {d:?}, router {r:?}"),
            }
        }
        assert!(segments > 100, "{segments} segments");
    }

    /// Packets and clock ticks as a live capture gives them, several ticks
    /// (and so several sweeps) between two packets: the workers' findings
    /// come out in exactly the one-thread order, with the same counters.
    #[test]
    fn ticks_between_packets_give_the_one_thread_order() {
        use crate::capture::BlockBuilder;
        use crate::pipeline::Analyzer;

        let mut config = Config::default();
        config.flow.idle_timeout_secs = 3;
        // (time in ms, packet or tick)
        let mut events: Vec<(i64, Option<Vec<u8>>)> = Vec::new();
        for i in 0..40u16 {
            let head = format!("GET /f{i} HTTP/1.1\r\nHost: a\r\nX-MSISDN: 447700900123\r\n");
            let pkt = ipv4(
                [10, 0, 0, 1],
                [10, 0, 0, 2],
                6,
                &tcp(1000 + i, 80, head.as_bytes()),
            );
            events.push((i64::from(i) * 700, Some(pkt)));
            // A quiet spell every few packets: ticks every 250 ms.
            if i % 5 == 4 {
                for k in 1..=40 {
                    events.push((i64::from(i) * 700 + k * 250, None));
                }
            }
        }
        let ts = |ms: i64| {
            Timestamp::from_parts(1_700_000_000 + ms / 1000, (ms % 1000) as u32 * 1_000_000)
        };
        let detector = Arc::new(Detector::new());

        let mut one = Vec::new();
        let mut analyzer = Analyzer::new(config.clone(), Arc::clone(&detector));
        let mut index = 0u64;
        for (ms, event) in &events {
            match event {
                Some(data) => {
                    let p = Packet {
                        ts: ts(*ms),
                        link: LinkType::RAW,
                        orig_len: 0,
                        data,
                    };
                    analyzer.packet(index, &p, &mut |f| one.push(f));
                    index += 1;
                }
                None => analyzer.advance_clock(ts(*ms), &mut |f| one.push(f)),
            }
        }
        analyzer.end_of_input(&mut |f| one.push(f));
        assert_eq!(one.len(), 40);
        let one_stats = analyzer.stats();

        for workers in [2, 3, 5] {
            let mut many = Vec::new();
            let stats = with_workers(workers, config.clone(), &detector, |pipeline| {
                let mut builder = BlockBuilder::new();
                for (ms, event) in &events {
                    match event {
                        Some(data) => {
                            let p = Packet {
                                ts: ts(*ms),
                                link: LinkType::RAW,
                                orig_len: 0,
                                data,
                            };
                            builder.push(&p);
                            if builder.len() == 3 {
                                let block = builder.take().unwrap();
                                pipeline.block(&block, &mut |f| many.push(f));
                            }
                        }
                        None => {
                            if let Some(block) = builder.take() {
                                pipeline.block(&block, &mut |f| many.push(f));
                            }
                            pipeline.tick(ts(*ms), &mut |f| many.push(f));
                        }
                    }
                }
                if let Some(block) = builder.take() {
                    pipeline.block(&block, &mut |f| many.push(f));
                }
                pipeline.finish(&mut |f| many.push(f))
            });
            let uris = |v: &[Record]| {
                v.iter()
                    .filter_map(|r| match r {
                        Record::Finding(f) => Some(f),
                        Record::Answer { .. } => None,
                    })
                    .map(|f| (f.request.uri.clone(), f.order, f.request.flow_id))
                    .collect::<Vec<_>>()
            };
            assert_eq!(uris(&many), uris(&one), "{workers} workers");
            assert_eq!(stats, one_stats, "{workers} workers");
        }
        // Several sweeps at one point, told apart by their phase.
        assert!(
            one.iter()
                .any(|f| f.order().phase > 0 && f.order().phase < crate::pipeline::PHASE_PACKET)
        );
    }
}
