//! The analysis on several threads.
//!
//! The calling thread reads the capture in blocks ([`BlockSource`]: classic
//! pcap is read into shared buffers and never copied again), decodes just
//! enough of each packet to find its flow, and sends every worker the block
//! with the list of its packets; each worker runs an [`Analyzer`] over the
//! flows whose outermost IP address pair hashes to it ([`shard_of_pair`]: all
//! of a flow's packets share it, fragments and tunnelled ones included).
//! Idle sweeps follow one [`SweepSchedule`] kept by the
//! reader, so every worker sweeps at the same point of the packet sequence as
//! a single thread would. Workers return findings tagged with their
//! [`OrderKey`] and the index up to which they have seen everything; the
//! reader merges them into exactly the order one thread produces. Memory is
//! bounded: at most [`BATCHES_IN_FLIGHT`] blocks per worker, and findings
//! wait only for the slowest worker's progress.
//!
//! Limits are per worker: each gets `1/N` of the flow-table and memory caps,
//! so output is identical to one thread's unless a cap is reached.
use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

use super::{Analyzer, Config, Finding, Stats};
use crate::capture::{BlockData, BlockSource, CaptureError, PacketRef};
use crate::decode;
use crate::detect::Detector;
use crate::flow::{SweepSchedule, shard_of_pair};
use crate::time::Timestamp;

/// Blocks queued per worker before the reader waits.
pub const BATCHES_IN_FLIGHT: usize = 4;

enum Item {
    Packet { index: u64, packet: PacketRef },
    Sweep { index: u64, now: Timestamp },
}

/// One worker's part of a block.
struct Batch {
    block: Arc<BlockData>,
    items: Vec<Item>,
    /// Every packet with a smaller index has been dispatched.
    dispatched_below: u64,
}

enum ToWorker {
    Batch(Batch),
    End,
}

struct FromWorker {
    worker: usize,
    findings: Vec<Finding>,
    /// The worker has processed every index below this one (`u64::MAX` once it ended).
    done_below: u64,
    /// The worker's counters, with its last message.
    stats: Option<Box<Stats>>,
    /// The batch's item list, to be reused.
    spent: Option<Vec<Item>>,
}

/// Analyses `source` on `workers` threads; findings reach `found` in the order
/// a single [`Analyzer`] would produce them. `progress` hears the source
/// position after every block. Returns the summed counters and the error that
/// ended the source early, if any.
pub fn analyze(
    source: &mut dyn BlockSource,
    workers: usize,
    config: Config,
    detector: &Arc<Detector>,
    found: &mut dyn FnMut(Finding),
    progress: &mut dyn FnMut(u64),
) -> (Stats, Option<CaptureError>) {
    let workers = workers.max(1);
    let shard_config = per_worker(config, workers);
    std::thread::scope(|scope| {
        let (results_tx, results) = std::sync::mpsc::channel::<FromWorker>();
        let mut inboxes: Vec<SyncSender<ToWorker>> = Vec::with_capacity(workers);
        for worker in 0..workers {
            let (tx, rx) = sync_channel::<ToWorker>(BATCHES_IN_FLIGHT);
            inboxes.push(tx);
            let results_tx = results_tx.clone();
            let detector = Arc::clone(detector);
            scope.spawn(move || run_worker(worker, rx, results_tx, shard_config, detector));
        }
        drop(results_tx);

        let mut merger = Merger::new(workers);
        let mut spare: Vec<Vec<Item>> = Vec::new();
        let mut schedule = SweepSchedule::default();
        let mut index: u64 = 0;
        let mut error = None;
        loop {
            let block = match source.next_block() {
                Ok(Some(block)) => block,
                Ok(None) => break,
                Err(e) => {
                    error = Some(e);
                    break;
                }
            };
            let mut lists: Vec<Vec<Item>> = (0..workers)
                .map(|_| spare.pop().unwrap_or_default())
                .collect();
            for packet in &block.packets {
                let p = packet.packet(&block.data);
                if let Some(now) = schedule.observe(p.ts) {
                    for list in &mut lists {
                        list.push(Item::Sweep { index, now });
                    }
                }
                // By the outermost IP pair: a flow's fragments and tunnelled
                // packets all travel between the same two outer addresses.
                let shard = match decode::outer_ip_pair(p.link, p.data) {
                    Some((a, b)) => shard_of_pair(a, b, workers),
                    None => 0,
                };
                if let Some(list) = lists.get_mut(shard) {
                    list.push(Item::Packet {
                        index,
                        packet: *packet,
                    });
                }
                index += 1;
            }
            for (worker, items) in lists.into_iter().enumerate() {
                let batch = Batch {
                    block: Arc::clone(&block.data),
                    items,
                    dispatched_below: index,
                };
                if let Some(inbox) = inboxes.get(worker) {
                    // A worker that died has nothing more to say; the merge ends with its channel.
                    let _ = inbox.send(ToWorker::Batch(batch));
                }
            }
            drop(block);
            progress(source.position());
            merger.drain(&results, &mut spare, found, false);
        }
        for inbox in &inboxes {
            let _ = inbox.send(ToWorker::End);
        }
        drop(inboxes);
        merger.drain(&results, &mut spare, found, true);
        (merger.stats, error)
    })
}

/// Each worker's share of the limits.
fn per_worker(mut config: Config, workers: usize) -> Config {
    config.flow.max_flows = (config.flow.max_flows / workers).max(1);
    config.flow.ooo_memcap /= workers;
    config.http.head_memcap /= workers;
    config.defrag.memcap /= workers;
    config
}

fn run_worker(
    worker: usize,
    inbox: Receiver<ToWorker>,
    results: std::sync::mpsc::Sender<FromWorker>,
    config: Config,
    detector: Arc<Detector>,
) {
    let mut analyzer = Analyzer::new(config, detector);
    analyzer.set_external_clock(true);
    while let Ok(message) = inbox.recv() {
        let mut findings = Vec::new();
        let mut push = |f: Finding| findings.push(f);
        match message {
            ToWorker::Batch(Batch {
                block,
                mut items,
                dispatched_below,
            }) => {
                for item in &items {
                    match *item {
                        Item::Sweep { index, now } => analyzer.sweep(index, now, &mut push),
                        Item::Packet { index, packet } => {
                            analyzer.packet(index, &packet.packet(&block), &mut push)
                        }
                    }
                }
                drop(block);
                items.clear();
                let message = FromWorker {
                    worker,
                    findings,
                    done_below: dispatched_below,
                    stats: None,
                    spent: Some(items),
                };
                if results.send(message).is_err() {
                    return;
                }
            }
            ToWorker::End => {
                analyzer.end_of_input(&mut push);
                let stats = Some(Box::new(analyzer.stats()));
                let _ = results.send(FromWorker {
                    worker,
                    findings,
                    done_below: u64::MAX,
                    stats,
                    spent: None,
                });
                return;
            }
        }
    }
}

/// Merges the workers' findings into [`super::OrderKey`] order.
struct Merger {
    queues: Vec<VecDeque<Finding>>,
    done_below: Vec<u64>,
    stats: Stats,
}

impl Merger {
    fn new(workers: usize) -> Self {
        Merger {
            queues: (0..workers).map(|_| VecDeque::new()).collect(),
            done_below: vec![0; workers],
            stats: Stats::default(),
        }
    }

    /// Takes what the workers sent (waiting for all of them to end if `to_end`)
    /// and emits every finding no worker can still precede.
    fn drain(
        &mut self,
        results: &Receiver<FromWorker>,
        spare: &mut Vec<Vec<Item>>,
        found: &mut dyn FnMut(Finding),
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
            if let Some(queue) = self.queues.get_mut(message.worker) {
                queue.extend(message.findings);
            }
            if let Some(done) = self.done_below.get_mut(message.worker) {
                *done = message.done_below;
            }
            if let Some(stats) = message.stats {
                self.stats.absorb(&stats);
            }
            if let Some(items) = message.spent {
                spare.push(items);
            }
            self.emit(found);
        }
        self.emit(found);
    }

    fn emit(&mut self, found: &mut dyn FnMut(Finding)) {
        // No worker can still produce a finding completed before every worker's progress.
        let safe_below = self.done_below.iter().copied().min().unwrap_or(0);
        loop {
            let next = self
                .queues
                .iter()
                .enumerate()
                .filter_map(|(i, q)| q.front().map(|f| (f.order, i)))
                .filter(|(order, _)| safe_below == u64::MAX || order.completed_at < safe_below)
                .min();
            let Some((_, worker)) = next else { break };
            if let Some(finding) = self.queues.get_mut(worker).and_then(VecDeque::pop_front) {
                found(finding);
            }
        }
    }
}
