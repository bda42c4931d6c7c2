//! The analysis of one uncompressed capture file on several threads, without
//! a reader thread.
//!
//! [`super::parallel`] has one thread read and decode every packet and route
//! each segment to the worker that owns its flow; on two cores that reader is
//! the busier thread (the kernel's copy, the record walk, decoding, routing,
//! and the merge), so two threads ran only 1.1–1.3× one. Here every worker is
//! a whole one-thread pipeline ([`DecodeStage`], [`Clock`], [`TrackStage`])
//! restricted to its share of the flows, the in-process form of `scan --shard`.
//! Two sources:
//!
//! - **A mapped classic pcap file** ([`Chunks`]): the records are cut into
//!   chunks of [`CHUNK_PACKETS`]. Whichever worker needs the next chunk first
//!   walks its records (the one sequential part: a record's place is known
//!   only from the one before) and decodes them ([`DecodeStage::route`]: link
//!   layers, tunnels, the flow's owner by [`crate::flow::FlowKey::shard`], the
//!   router's hash), so each packet is read and decoded once. Every worker
//!   then goes through every chunk: the time of each packet for its sweep
//!   clock, the segments of its own flows, and the IP fragments, which every
//!   worker reassembles itself (reassembly keeps state across chunks; the
//!   fragment memcap is divided among the workers). No chunk is walked more
//!   than [`LEAD_CHUNKS`] ahead of the slowest worker, a chunk is freed once
//!   every worker has gone through it, and the pages behind are released.
//! - **Any other uncompressed capture** (pcapng, a pipe): read once, in the
//!   blocks of [`BlockSource`], by whichever worker first needs the next block
//!   (under a lock; [`SharedBlocks`]). Every worker walks and decodes every
//!   block and keeps the segments of its flows; a block is freed once the
//!   slowest worker has taken it, and no worker runs more than
//!   [`LEAD_BLOCKS`] blocks ahead of the slowest.
//!
//! Either way every worker keeps the run's idle-sweep [`Clock`] over every
//! packet, so its sweeps fall at the same point of the packet sequence as one
//! thread's; each tracks, reassembles, parses and inspects about `1/N` of the
//! flows. The per-packet counters (packets, bytes, `decode.*`, secrets read)
//! are counted once: the packets every worker decodes (all of a block source,
//! the fragments of a mapped file) by worker 0, a chunk's by the worker that
//! decoded it; the flow, HTTP and finding counters are each worker's own. All
//! sum to one thread's. Findings carry their [`super::OrderKey`]; the calling
//! thread merges them into the one-thread order with the router path's
//! [`Merger`], and writes them. An interruption ends every worker after the
//! same packet.
//!
//! The caps are divided among workers as on the router path (flows, out-of-order
//! bytes, heads, bodies, held TLS records): memory is that of one run. Output
//! is byte-identical to one thread's unless a cap is reached.
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{Sender, channel};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};

use super::parallel::{FromWorker, Merger, per_worker};
use super::stages::Routing;
use super::{Clock, Config, DecodeStage, Record, Stats, TrackStage};
use crate::capture::mapped::RELEASE_BYTES;
use crate::capture::{BlockSource, CaptureError, MappedPcap, Packet, PacketBlock, Secrets};
use crate::detect::Detector;

/// Blocks a worker may run ahead of the slowest one (and so the most blocks held).
pub const LEAD_BLOCKS: usize = 8;
/// A worker reports its findings and progress after this many blocks...
const REPORT_BLOCKS: u32 = 4;
/// ...or once it holds this many findings.
const REPORT_FINDINGS: usize = 64;

/// The blocks of one source, read once and walked by every worker.
pub struct SharedBlocks<'s> {
    state: Mutex<BlockState<'s>>,
    /// Signalled when the oldest block is freed.
    freed: Condvar,
    /// The source position after the last block read.
    position: AtomicU64,
}

struct BlockState<'s> {
    source: &'s mut (dyn BlockSource + Send),
    /// Blocks some worker has still to take, oldest first.
    blocks: VecDeque<Arc<PacketBlock>>,
    /// The number (from 0) of `blocks[0]`.
    first: u64,
    /// Per worker, the number of the next block it takes (`u64::MAX` once it left).
    next: Vec<u64>,
    ended: bool,
    error: Option<CaptureError>,
}

impl<'s> SharedBlocks<'s> {
    /// The blocks of `source` for `workers` workers.
    pub fn new(source: &'s mut (dyn BlockSource + Send), workers: usize) -> Self {
        SharedBlocks {
            state: Mutex::new(BlockState {
                source,
                blocks: VecDeque::new(),
                first: 0,
                next: vec![0; workers.max(1)],
                ended: false,
                error: None,
            }),
            freed: Condvar::new(),
            position: AtomicU64::new(0),
        }
    }

    fn lock(&self) -> MutexGuard<'_, BlockState<'s>> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The next block for `worker`; `None` at the end of the source (or
    /// after the error that ended it). Reads it if no worker has yet; waits
    /// while `worker` is [`LEAD_BLOCKS`] ahead of the slowest.
    pub fn next(&self, worker: usize, stop: &AtomicBool) -> Option<Arc<PacketBlock>> {
        let mut state = self.lock();
        loop {
            let want = *state.next.get(worker)?;
            let offset = usize::try_from(want.saturating_sub(state.first)).ok()?;
            if let Some(block) = state.blocks.get(offset).cloned() {
                if let Some(next) = state.next.get_mut(worker) {
                    *next = want.saturating_add(1);
                }
                if state.free() {
                    self.freed.notify_all();
                }
                return Some(block);
            }
            if state.ended {
                return None;
            }
            if stop.load(Ordering::Relaxed) {
                // No more blocks are read: every worker ends after the same one.
                state.ended = true;
                continue;
            }
            if state.blocks.len() >= LEAD_BLOCKS {
                state = self
                    .freed
                    .wait(state)
                    .unwrap_or_else(PoisonError::into_inner);
                continue;
            }
            match state.source.next_block() {
                Ok(Some(block)) => state.blocks.push_back(Arc::new(block)),
                Ok(None) => state.ended = true,
                Err(e) => {
                    state.ended = true;
                    state.error = Some(e);
                }
            }
            self.position
                .store(state.source.position(), Ordering::Relaxed);
        }
    }

    /// `worker` takes no more blocks (it ended, or it panicked).
    fn leave(&self, worker: usize) {
        let mut state = self.lock();
        if let Some(next) = state.next.get_mut(worker) {
            *next = u64::MAX;
        }
        state.free();
        drop(state);
        self.freed.notify_all();
    }

    /// The source position after the last block read.
    pub fn position(&self) -> u64 {
        self.position.load(Ordering::Relaxed)
    }

    /// The error that ended the source, if any.
    pub fn into_error(self) -> Option<CaptureError> {
        self.state
            .into_inner()
            .unwrap_or_else(PoisonError::into_inner)
            .error
    }
}

impl BlockState<'_> {
    /// Drops the blocks every worker has taken; true if any was.
    fn free(&mut self) -> bool {
        let slowest = self.next.iter().copied().min().unwrap_or(u64::MAX);
        let mut freed = false;
        while self.first < slowest && self.blocks.pop_front().is_some() {
            self.first = self.first.saturating_add(1);
            freed = true;
        }
        freed
    }
}

/// What a split run reads: a mapped classic pcap file, or the blocks of
/// any other uncompressed capture.
pub enum SplitSource<'s> {
    /// Every worker walks the records of the mapping.
    Mapped(&'s MappedPcap),
    /// The blocks are read once, by the worker that first needs each.
    Blocks(&'s mut (dyn BlockSource + Send)),
}

/// Analyses `source` on `workers` threads, each decoding every packet and
/// tracking its share of the flows; findings reach `found` in the order a
/// single [`super::Analyzer`] gives them, and the counters are its counters.
/// `progress` hears the source position now and then; a raised `stop` ends
/// the run early (every flow flushed). Returns the counters and the error
/// that ended the source early, if any.
pub fn analyze(
    source: SplitSource<'_>,
    workers: usize,
    config: Config,
    detector: &Arc<Detector>,
    stop: &AtomicBool,
    found: &mut dyn FnMut(Record),
    progress: &mut dyn FnMut(u64),
) -> (Stats, Option<CaptureError>) {
    let workers = workers.max(1);
    let mut worker_config = per_worker(config, workers);
    // Every worker reassembles every fragmented datagram.
    worker_config.defrag.memcap /= workers;
    let (mapped, blocks) = match source {
        SplitSource::Mapped(file) => (Some(file), None),
        SplitSource::Blocks(source) => (None, Some(SharedBlocks::new(source, workers))),
    };
    let chunks = mapped.map(|file| Chunks::new(file, workers));
    let position = AtomicU64::new(0);
    let mut merger = Merger::new(workers);
    std::thread::scope(|scope| {
        let (results_tx, results) = channel::<FromWorker>();
        for worker in 0..workers {
            let results = results_tx.clone();
            let mut state = Worker::new(worker, workers, &worker_config, Arc::clone(detector));
            let (blocks, chunks, position) = (blocks.as_ref(), chunks.as_ref(), &position);
            scope.spawn(move || {
                let _leaving = Leaving {
                    blocks,
                    chunks,
                    worker,
                };
                match (chunks, blocks) {
                    (Some(chunks), _) => state.track_chunks(chunks, stop, position, &results),
                    (None, Some(blocks)) => state.take_blocks(blocks, stop, &results),
                    (None, None) => {}
                }
                state.finish(&results);
            });
        }
        drop(results_tx);
        let mut spare = Vec::new();
        let mut reported = 0;
        while let Ok(message) = results.recv() {
            merger.take(message, &mut spare);
            merger.emit(found);
            let now = match &blocks {
                Some(blocks) => blocks.position(),
                None => position.load(Ordering::Relaxed),
            };
            if now != reported {
                reported = now;
                progress(now);
            }
        }
        merger.emit(found);
    });
    let error = match (blocks, chunks) {
        (Some(blocks), _) => blocks.into_error(),
        (None, Some(chunks)) => chunks.into_error(),
        (None, None) => None,
    };
    (merger.stats, error)
}

/// Records in one chunk of a mapped file: walked and decoded by one worker,
/// gone through by every worker. On the 1 GB benchmark 256 was as fast as
/// 128 and faster than 1,024, whose bytes no longer fit a core's cache
/// between the walk and the tracking.
const CHUNK_PACKETS: usize = 256;
/// Chunks walked ahead of the slowest worker's tracking: the decoded chunks
/// waiting stay few (a chunk holds at most 256 segments), and
/// the bytes one worker brought into the caches are still there when the
/// other tracks them.
pub const LEAD_CHUNKS: u64 = 16;
/// A worker reports its findings after this many chunks (or
/// [`REPORT_FINDINGS`] findings).
const REPORT_CHUNKS: u64 = 16;

/// A chunk of a mapped file, decoded: for each packet its time and where it
/// goes, and the segments of each worker's flows in packet order.
struct Chunk<'f> {
    /// Index (in the file) of the chunk's first packet.
    first: u64,
    /// File offset after the chunk's last record.
    end: u64,
    /// Per packet: its time, and the worker owning its segment
    /// ([`FRAGMENT`]: every worker reassembles it; [`NOBODY`]: nothing to track).
    packets: Vec<(crate::time::Timestamp, u32)>,
    /// Per worker, the segments it owns, in packet order.
    segments: Vec<Vec<crate::decode::TcpSegment<'f>>>,
    /// The packets holding IP fragments, in packet order.
    fragments: Vec<Packet<'f>>,
}

const FRAGMENT: u32 = u32::MAX;
const NOBODY: u32 = u32::MAX - 1;

/// The chunks of a mapped file: walked one after another by whichever worker
/// needs the next one first, decoded by it, and tracked by every worker.
struct Chunks<'f> {
    file: &'f MappedPcap,
    state: Mutex<ChunkState<'f>>,
    /// Signalled when a chunk is published, a worker moves on, or the walk ends.
    moved: Condvar,
}

struct ChunkState<'f> {
    /// The record walk; `None` while a worker walks a chunk.
    records: Option<crate::capture::mapped::Records<'f>>,
    /// The number of the next chunk to walk, and the index of its first packet.
    next_chunk: u64,
    next_packet: u64,
    /// Once the walk ended (end of file, error, interruption): the number of chunks.
    total: Option<u64>,
    error: Option<CaptureError>,
    /// Decoded chunks some worker has still to track, by number.
    ready: std::collections::BTreeMap<u64, Arc<Chunk<'f>>>,
    /// Per worker, the number of the next chunk it tracks (`u64::MAX`: it left).
    tracking: Vec<u64>,
    /// A worker ended by a panic: the others stop rather than wait for it.
    abandoned: bool,
    /// The mapped file's bytes before this offset have been released.
    released: u64,
}

impl<'f> Chunks<'f> {
    fn new(file: &'f MappedPcap, workers: usize) -> Self {
        Chunks {
            file,
            state: Mutex::new(ChunkState {
                records: Some(file.records()),
                next_chunk: 0,
                next_packet: 0,
                total: None,
                error: None,
                ready: std::collections::BTreeMap::new(),
                tracking: vec![0; workers],
                abandoned: false,
                released: 0,
            }),
            moved: Condvar::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, ChunkState<'f>> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Chunk `number`, to track; `None` after the last. While it
    /// is not decoded yet, the worker walks and decodes the next chunk (with
    /// `decode`) if the lead allows, else waits. A raised `stop` ends the
    /// walk: every worker ends after the same chunk.
    fn take(
        &self,
        number: u64,
        stop: &AtomicBool,
        decode: &mut DecodeStage,
        workers: usize,
    ) -> Option<Arc<Chunk<'f>>> {
        let mut state = self.lock();
        loop {
            if let Some(chunk) = state.ready.get(&number) {
                return Some(Arc::clone(chunk));
            }
            if state.abandoned || state.total.is_some_and(|total| number >= total) {
                return None;
            }
            let slowest = state.tracking.iter().copied().min().unwrap_or(0);
            let walkable = state.total.is_none()
                && state.next_chunk < slowest.saturating_add(LEAD_CHUNKS)
                && state.records.is_some();
            if !walkable {
                state = self
                    .moved
                    .wait(state)
                    .unwrap_or_else(PoisonError::into_inner);
                continue;
            }
            let Some(mut records) = state.records.take() else {
                continue;
            };
            let (chunk_number, first) = (state.next_chunk, state.next_packet);
            if stop.load(Ordering::Relaxed) {
                state.total = Some(chunk_number);
                state.records = Some(records);
                self.moved.notify_all();
                continue;
            }
            drop(state);
            // Walk: the one sequential part (the next record's place is known
            // only once this one is read), kept short.
            let mut chunk = Chunk::new(first, workers);
            let mut ended = None;
            while chunk.packets.len() < CHUNK_PACKETS {
                match records.next() {
                    Ok(Some(p)) => chunk.push(decode, &p),
                    Ok(None) => {
                        ended = Some(None);
                        break;
                    }
                    Err(e) => {
                        ended = Some(Some(e));
                        break;
                    }
                }
            }
            chunk.end = records.position();
            state = self.lock();
            state.records = Some(records);
            state.next_chunk = chunk_number.saturating_add(1);
            state.next_packet = first.saturating_add(chunk.packets.len() as u64);
            if let Some(error) = ended {
                state.error = error;
                state.total = Some(state.next_chunk);
            }
            state.ready.insert(chunk_number, Arc::new(chunk));
            self.moved.notify_all();
        }
    }

    /// `worker` has tracked every chunk before `next` (`u64::MAX`: it left;
    /// `panicked`: by a panic). Frees the chunks every worker has tracked
    /// and releases their pages, [`RELEASE_BYTES`] at a time.
    fn tracked(&self, worker: usize, next: u64, panicked: bool) {
        let mut state = self.lock();
        if let Some(slot) = state.tracking.get_mut(worker) {
            *slot = next;
        }
        state.abandoned |= panicked;
        let slowest = state.tracking.iter().copied().min().unwrap_or(u64::MAX);
        let mut upto = None;
        while let Some(entry) = state.ready.first_entry() {
            if *entry.key() >= slowest {
                break;
            }
            upto = Some(entry.remove().end);
        }
        if let Some(upto) = upto {
            let upto = upto.min(self.file.len()) / RELEASE_BYTES * RELEASE_BYTES;
            if upto > state.released {
                state.released = upto;
                self.file.release_before(upto);
            }
        }
        drop(state);
        self.moved.notify_all();
    }

    fn into_error(self) -> Option<CaptureError> {
        self.state
            .into_inner()
            .unwrap_or_else(PoisonError::into_inner)
            .error
    }
}

impl<'f> Chunk<'f> {
    fn new(first: u64, workers: usize) -> Self {
        Chunk {
            first,
            end: 0,
            packets: Vec::with_capacity(CHUNK_PACKETS),
            segments: (0..workers)
                .map(|_| Vec::with_capacity(CHUNK_PACKETS / workers.max(1) + 16))
                .collect(),
            fragments: Vec::new(),
        }
    }

    /// Decodes the next packet of the chunk (counted in `decode`).
    fn push(&mut self, decode: &mut DecodeStage, p: &Packet<'f>) {
        let goes = match decode.route(p) {
            Routing::Segment(owner, segment) => match self.segments.get_mut(owner) {
                Some(own) => {
                    own.push(segment);
                    u32::try_from(owner).unwrap_or(NOBODY)
                }
                None => NOBODY,
            },
            Routing::Fragment => {
                self.fragments.push(*p);
                FRAGMENT
            }
            Routing::Elsewhere => NOBODY,
        };
        self.packets.push((p.ts, goes));
    }
}

/// Marks a worker as gone when it ends, also by a panic, so that no other
/// worker waits for it.
struct Leaving<'a, 's, 'f> {
    blocks: Option<&'a SharedBlocks<'s>>,
    chunks: Option<&'a Chunks<'f>>,
    worker: usize,
}

impl Drop for Leaving<'_, '_, '_> {
    fn drop(&mut self) {
        if let Some(blocks) = self.blocks {
            blocks.leave(self.worker);
        }
        if let Some(chunks) = self.chunks {
            chunks.tracked(self.worker, u64::MAX, std::thread::panicking());
        }
    }
}

/// One worker: the one-thread pipeline over every packet, keeping the flows
/// of its share.
struct Worker {
    worker: usize,
    workers: usize,
    /// Decodes (and reassembles) every packet of a block source, and the
    /// fragments of a mapped file.
    decode: DecodeStage,
    /// Decodes the chunks of a mapped file this worker walks, for every worker.
    route: DecodeStage,
    track: TrackStage,
    clock: Clock,
    /// Index of the next packet.
    index: u64,
    findings: Vec<Record>,
}

impl Worker {
    fn new(worker: usize, workers: usize, config: &Config, detector: Arc<Detector>) -> Self {
        Worker {
            worker,
            workers,
            decode: DecodeStage::new(config.defrag)
                .with_shard(config.shard)
                .with_thread(worker, workers),
            route: DecodeStage::new(config.defrag)
                .with_shard(config.shard)
                .with_thread(worker, workers),
            track: TrackStage::new(config, detector),
            clock: Clock::default(),
            index: 0,
            findings: Vec::new(),
        }
    }

    fn packet(&mut self, p: &Packet<'_>) {
        let findings = &mut self.findings;
        let mut push = |f: Record| findings.push(f);
        if let Some(sweep) = self.clock.observe(self.index, p.ts) {
            self.track.sweep(sweep, &mut push);
        }
        if let Some(segment) = self.decode.packet(p) {
            self.track.segment(self.index, p.ts, &segment, &mut push);
        }
        self.index = self.index.saturating_add(1);
    }

    fn secrets(&mut self, secrets: &Secrets) {
        self.decode.secrets(secrets);
        self.track.secrets(secrets);
    }

    /// Sends the findings so far, and that everything before the next packet
    /// is done; false once the merge is gone.
    fn report(&mut self, results: &Sender<FromWorker>) -> bool {
        let message = FromWorker {
            worker: self.worker,
            findings: std::mem::take(&mut self.findings),
            through: (self.index, 0),
            stats: None,
            snapshot: None,
            spent: None,
        };
        results.send(message).is_ok()
    }

    /// Tracks every chunk of a mapped file, walking and decoding some of
    /// them (with its `route` stage) for every worker.
    fn track_chunks(
        &mut self,
        chunks: &Chunks<'_>,
        stop: &AtomicBool,
        position: &AtomicU64,
        results: &Sender<FromWorker>,
    ) {
        let mut number = 0u64;
        while let Some(chunk) = chunks.take(number, stop, &mut self.route, self.workers) {
            let mut own = chunk
                .segments
                .get(self.worker)
                .map(|s| s.iter())
                .into_iter()
                .flatten();
            let mut fragments = chunk.fragments.iter();
            let findings = &mut self.findings;
            let mut push = |f: Record| findings.push(f);
            for (&(ts, goes), index) in chunk.packets.iter().zip(chunk.first..) {
                if let Some(sweep) = self.clock.observe(index, ts) {
                    self.track.sweep(sweep, &mut push);
                }
                if goes as usize == self.worker {
                    if let Some(segment) = own.next() {
                        self.track.segment(index, ts, segment, &mut push);
                    }
                } else if goes == FRAGMENT
                    && let Some(p) = fragments.next()
                    && let Some(segment) = self.decode.packet(p)
                {
                    self.track.segment(index, ts, &segment, &mut push);
                }
            }
            self.index = chunk.first.saturating_add(chunk.packets.len() as u64);
            if self.worker == 0 {
                position.store(chunk.end, Ordering::Relaxed);
            }
            drop(chunk);
            number = number.saturating_add(1);
            chunks.tracked(self.worker, number, false);
            if (self.findings.len() >= REPORT_FINDINGS || number.is_multiple_of(REPORT_CHUNKS))
                && !self.report(results)
            {
                return;
            }
        }
    }

    /// Takes every block of the shared source (the error that ended it is the source's).
    fn take_blocks(
        &mut self,
        blocks: &SharedBlocks<'_>,
        stop: &AtomicBool,
        results: &Sender<FromWorker>,
    ) {
        let mut unreported = 0u32;
        while let Some(block) = blocks.next(self.worker, stop) {
            let mut secrets = block.secrets.iter().peekable();
            for (at, packet) in block.packets.iter().enumerate() {
                while let Some((_, s)) = secrets.next_if(|(before, _)| *before <= at) {
                    self.secrets(s);
                }
                self.packet(&packet.packet(&block.data));
            }
            // Secrets after the block's last packet.
            for (_, s) in secrets {
                self.secrets(s);
            }
            drop(block);
            unreported += 1;
            if unreported >= REPORT_BLOCKS || self.findings.len() >= REPORT_FINDINGS {
                unreported = 0;
                if !self.report(results) {
                    break;
                }
            }
        }
    }

    /// Ends the source: flushes every flow and sends the last findings with
    /// the counters (the per-packet ones from worker 0 only).
    fn finish(mut self, results: &Sender<FromWorker>) {
        let findings = &mut self.findings;
        self.track.end_of_input(&mut |f| findings.push(f));
        self.decode.end_of_input();
        let mut stats = self.track.stats();
        if self.worker == 0 {
            // The per-packet counters of the packets every worker decodes
            // (all of a block source, the fragments of a mapped file), once.
            stats.absorb(&self.decode.stats());
        }
        // Those of the chunks of a mapped file this worker decoded.
        stats.absorb(&self.route.stats());
        let _ = results.send(FromWorker {
            worker: self.worker,
            findings: std::mem::take(&mut self.findings),
            through: (u64::MAX, u32::MAX),
            stats: Some(Box::new(stats)),
            snapshot: None,
            spent: None,
        });
    }
}
