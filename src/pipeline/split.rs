//! The analysis of one uncompressed capture file on several threads, without
//! a reader thread.
//!
//! [`super::parallel`] has one thread read and decode every packet and route
//! each segment to the worker that owns its flow; on two cores that reader is
//! the busier thread (the kernel's copy, the record walk, decoding, routing,
//! and the merge), so two threads ran only 1.1–1.3× one. Here every worker is
//! a whole one-thread pipeline ([`DecodeStage`], [`Clock`], [`TrackStage`])
//! restricted to its share of the flows, the in-process form of `scan --shard`:
//!
//! - The file is read once, in the blocks of [`BlockSource`], by whichever
//!   worker first needs the next block (under a lock; [`SharedBlocks`]). Every
//!   worker walks every block: a block is freed once the slowest worker has
//!   taken it, and no worker runs more than [`LEAD_BLOCKS`] blocks ahead of
//!   the slowest, so memory stays a few blocks whatever the file size.
//! - Every worker decodes every packet (link layers, tunnels, IP fragment
//!   reassembly: a packet's flow is known only after decoding, and decoding
//!   is a small part of a scan) and keeps only the segments of the flows that
//!   hash to it ([`crate::flow::FlowKey::shard`], the router's hash), so each
//!   tracks, reassembles, parses and inspects about `1/N` of the flows.
//! - Every worker keeps the run's idle-sweep [`Clock`] over every packet, so
//!   its sweeps fall at the same point of the packet sequence as one thread's.
//! - The per-packet counters (packets, bytes, `decode.*`, secrets read) are
//!   those of worker 0 alone (every worker counts the same); the flow, HTTP
//!   and finding counters are each worker's own and sum to one thread's.
//! - Findings carry their [`super::OrderKey`]; the calling thread merges them
//!   into the one-thread order with the router path's [`Merger`], and writes them.
//!
//! The caps are divided among workers as on the router path (flows, out-of-order
//! bytes, heads, bodies, held TLS records), and so is the fragment memcap,
//! since every worker reassembles every fragmented datagram: memory is that
//! of one run. Output is byte-identical to one thread's unless a cap is reached.
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{Sender, channel};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};

use super::parallel::{FromWorker, Merger, per_worker};
use super::{Clock, Config, DecodeStage, Finding, Stats, TrackStage};
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
    found: &mut dyn FnMut(Finding),
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
    let lead = Lead::new(workers, mapped);
    let position = AtomicU64::new(0);
    let error = Mutex::new(None);
    let mut merger = Merger::new(workers);
    std::thread::scope(|scope| {
        let (results_tx, results) = channel::<FromWorker>();
        for worker in 0..workers {
            let results = results_tx.clone();
            let mut state = Worker::new(worker, workers, &worker_config, Arc::clone(detector));
            let (blocks, lead, position, error) = (blocks.as_ref(), &lead, &position, &error);
            scope.spawn(move || {
                let _leaving = Leaving {
                    blocks,
                    lead,
                    worker,
                };
                let ended = match (mapped, blocks) {
                    (Some(file), _) => state.walk(file, lead, stop, position, &results),
                    (None, Some(blocks)) => state.take_blocks(blocks, stop, &results),
                    (None, None) => None,
                };
                if worker == 0 {
                    *error.lock().unwrap_or_else(PoisonError::into_inner) = ended;
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
    let error = match blocks {
        Some(blocks) => blocks.into_error(),
        None => error.into_inner().unwrap_or_else(PoisonError::into_inner),
    };
    (merger.stats, error)
}

/// Packets a worker walks between two looks at the others' progress (and at
/// the stop flag) on a mapped file.
const CHECK_PACKETS: u64 = 1024;
/// Packets a worker may walk ahead of the slowest on a mapped file: the
/// findings waiting for the merge stay few, and the bytes one worker brought
/// into the caches (about 2 MB on the benchmark) are still there when the
/// other reads them (on the 1 GB benchmark a lead of 65,536 packets took 10 %
/// more time than 4,096).
pub const LEAD_PACKETS: u64 = 4 * CHECK_PACKETS;

/// The workers' progress through a mapped file, so that none runs far ahead
/// and all stop at the same packet when the run is interrupted.
struct Lead<'f> {
    state: Mutex<LeadState>,
    moved: Condvar,
    file: Option<&'f MappedPcap>,
}

/// Bytes of a mapped file every worker has passed that are let go of at once
/// ([`MappedPcap::release_before`]): the pages stay in the page cache but no
/// longer count in the process's resident memory, which so stays flat in the
/// file's size. Each release is a TLB shootdown across the cores: 1 MiB at a
/// time cost two threads 6 % on the 1 GB benchmark, 8 MiB nothing measurable.
const RELEASE_BYTES: u64 = 8 << 20;

struct LeadState {
    /// Per worker, the packets walked at its last check (`u64::MAX`: it ended).
    walked: Vec<u64>,
    /// Per worker, its position in a mapped file (`u64::MAX`: it ended).
    position: Vec<u64>,
    /// The mapped file's bytes before this offset have been released.
    released: u64,
    /// Once the run is interrupted: the packet every worker stops before.
    stop_at: Option<u64>,
}

impl<'f> Lead<'f> {
    fn new(workers: usize, file: Option<&'f MappedPcap>) -> Self {
        Lead {
            state: Mutex::new(LeadState {
                walked: vec![0; workers],
                position: vec![0; workers],
                released: 0,
                stop_at: None,
            }),
            moved: Condvar::new(),
            file,
        }
    }

    /// Notes that `worker` is at byte `position` of the mapped file and
    /// releases the pages every worker has passed, [`RELEASE_BYTES`] at a time.
    fn release(&self, state: &mut LeadState, worker: usize, position: u64) {
        let Some(file) = self.file else { return };
        if let Some(slot) = state.position.get_mut(worker) {
            *slot = position;
        }
        let slowest = state.position.iter().copied().min().unwrap_or(0);
        let upto = slowest.min(file.len()) / RELEASE_BYTES * RELEASE_BYTES;
        if upto > state.released {
            state.released = upto;
            file.release_before(upto);
        }
    }

    /// `worker` has walked `walked` packets, a multiple of [`CHECK_PACKETS`],
    /// and is at byte `position` of the mapped file (both `u64::MAX`: it
    /// ended); returns once it is no more than
    /// [`LEAD_PACKETS`] ahead of the slowest, true when it is to stop there.
    /// `interrupted` fixes the stopping point: the next check no worker has
    /// passed.
    fn reached(&self, worker: usize, walked: u64, position: u64, interrupted: bool) -> bool {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        self.release(&mut state, worker, position);
        let slowest = |s: &LeadState| s.walked.iter().copied().min().unwrap_or(0);
        let before = slowest(&state);
        if let Some(slot) = state.walked.get_mut(worker) {
            *slot = walked;
        }
        if interrupted && state.stop_at.is_none() {
            // Each worker is before its next check.
            let furthest = state
                .walked
                .iter()
                .copied()
                .filter(|&w| w != u64::MAX)
                .max()
                .unwrap_or(walked);
            state.stop_at = Some(furthest.saturating_add(CHECK_PACKETS));
        }
        if slowest(&state) != before || interrupted {
            self.moved.notify_all();
        }
        loop {
            if state.stop_at.is_some_and(|at| walked >= at) {
                return true;
            }
            if walked == u64::MAX || walked.saturating_sub(slowest(&state)) <= LEAD_PACKETS {
                return false;
            }
            state = self
                .moved
                .wait(state)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }
}

/// Marks a worker as gone when it ends, also by a panic, so that no other
/// worker waits for it.
struct Leaving<'a, 's> {
    blocks: Option<&'a SharedBlocks<'s>>,
    lead: &'a Lead<'a>,
    worker: usize,
}

impl Drop for Leaving<'_, '_> {
    fn drop(&mut self) {
        if let Some(blocks) = self.blocks {
            blocks.leave(self.worker);
        }
        self.lead.reached(self.worker, u64::MAX, u64::MAX, false);
    }
}

/// One worker: the one-thread pipeline over every packet, keeping the flows
/// of its share.
struct Worker {
    worker: usize,
    decode: DecodeStage,
    track: TrackStage,
    clock: Clock,
    /// Index of the next packet.
    index: u64,
    findings: Vec<Finding>,
}

impl Worker {
    fn new(worker: usize, workers: usize, config: &Config, detector: Arc<Detector>) -> Self {
        Worker {
            worker,
            decode: DecodeStage::new(config.defrag)
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
        let mut push = |f: Finding| findings.push(f);
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

    /// Walks every record of a mapped file; returns the error that ended it.
    fn walk(
        &mut self,
        file: &MappedPcap,
        lead: &Lead<'_>,
        stop: &AtomicBool,
        position: &AtomicU64,
        results: &Sender<FromWorker>,
    ) -> Option<CaptureError> {
        let mut records = file.records();
        let mut checks = 0u32;
        loop {
            match records.next() {
                Ok(Some(p)) => self.packet(&p),
                Ok(None) => return None,
                Err(e) => return Some(e),
            }
            if self.index.is_multiple_of(CHECK_PACKETS) {
                if self.worker == 0 {
                    position.store(records.position(), Ordering::Relaxed);
                }
                checks = checks.wrapping_add(1);
                if (self.findings.len() >= REPORT_FINDINGS || checks.is_multiple_of(4))
                    && !self.report(results)
                {
                    return None;
                }
                if lead.reached(
                    self.worker,
                    self.index,
                    records.position(),
                    stop.load(Ordering::Relaxed),
                ) {
                    return None;
                }
            }
        }
    }

    /// Takes every block of the shared source (the error that ended it is the source's).
    fn take_blocks(
        &mut self,
        blocks: &SharedBlocks<'_>,
        stop: &AtomicBool,
        results: &Sender<FromWorker>,
    ) -> Option<CaptureError> {
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
        None
    }

    /// Ends the source: flushes every flow and sends the last findings with
    /// the counters (the per-packet ones from worker 0 only).
    fn finish(mut self, results: &Sender<FromWorker>) {
        let findings = &mut self.findings;
        self.track.end_of_input(&mut |f| findings.push(f));
        self.decode.end_of_input();
        let mut stats = self.track.stats();
        if self.worker == 0 {
            // The per-packet counters, which every worker counts alike, once.
            stats.absorb(&self.decode.stats());
        }
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
