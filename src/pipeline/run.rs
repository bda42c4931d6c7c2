//! The drivers of a run, on one thread or N, for the commands that analyse:
//! [`analyze_input`] reads one opened capture input ([`Reading`]) to its end (`scan`);
//! [`stream`] takes packets and clock ticks one at a time from a caller that
//! reads them (a live capture). Both give findings in the one-thread order
//! and the same counters whatever the number of threads.
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use super::parallel::{self, Pipeline};
use super::split;
use super::{Analyzer, Config, Record, Stats};
use crate::capture::{
    BlockBuilder, BlockPackets, BlockSource, CaptureError, Compression, MappedPackets, MappedPcap,
    Opened, Packet, PacketBlock, PacketFilter, PacketSource, PcapBlocks, ReaderCounters, Secrets,
};
use crate::detect::Detector;
use crate::time::Timestamp;

/// One analysis thread per core.
pub fn default_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Packets between two looks at the interruption flag on one thread.
const CHECK_EVERY: u64 = 4096;

/// What the analysis of one input gave.
#[derive(Debug)]
pub struct InputOutcome {
    /// The input was compressed (error offsets count decompressed bytes).
    pub compressed: bool,
    /// Its counters.
    pub stats: Stats,
    /// The error that ended it early, if any (packets before it were analysed).
    pub error: Option<CaptureError>,
    /// The reader's own counters (e.g. pcapng interfaces over the cap).
    pub reader: ReaderCounters,
}

/// An opened input, read the way the number of threads asks: packet by packet
/// on the calling thread, or in blocks for the workers.
pub enum Reading {
    /// One thread (and always standard input, so findings come out as packets arrive).
    One(Box<dyn PacketSource + Send>, Compression),
    /// Several threads: one reader that decodes and routes to the workers.
    Many(Box<dyn BlockSource + Send>, Compression),
    /// Several threads, each reading and decoding every packet of an
    /// uncompressed capture and keeping its share of the flows ([`split`]):
    /// a classic pcap file mapped, if it could be, else its blocks.
    Split(Option<MappedPcap>, Box<dyn BlockSource + Send>),
}

impl Reading {
    /// Recognises the compression and capture format of `opened` and prepares
    /// it for `threads` threads. `stdin` keeps standard input on one thread.
    /// Errors here mean the input is not a capture (or cannot be read at all).
    pub fn new(opened: Opened, threads: usize, stdin: bool) -> Result<Reading, CaptureError> {
        if stdin {
            // Packet by packet: a block would wait for 256 KiB of a slow pipe.
            let capture = opened.into_capture()?;
            let compression = capture.compression();
            Ok(Reading::One(Box::new(capture), compression))
        } else if threads <= 1
            && opened.is_classic_pcap()
            && let Some(file) = opened.regular_file().and_then(MappedPcap::map)
        {
            Ok(Reading::One(
                Box::new(MappedPackets::new(file)),
                Compression::None,
            ))
        } else if threads <= 1 && opened.is_classic_pcap() {
            // Classic pcap files through the block reader: the record walk the
            // workers' reader uses, in cache-sized buffers.
            let blocks = PcapBlocks::open(opened.into_stream())?;
            Ok(Reading::One(
                Box::new(BlockPackets::new(blocks)),
                Compression::None,
            ))
        } else if threads <= 1 {
            let capture = opened.into_capture()?;
            let compression = capture.compression();
            Ok(Reading::One(Box::new(capture), compression))
        } else {
            // Uncompressed captures need no reader thread: reading them is cheap
            // next to decompressing, which stays on one reader.
            let mapped = opened
                .regular_file()
                .filter(|_| opened.is_classic_pcap())
                .and_then(MappedPcap::map);
            opened
                .into_blocks()
                .map(|(blocks, compression)| match compression {
                    Compression::None => Reading::Split(mapped, blocks),
                    _ => Reading::Many(blocks, compression),
                })
        }
    }
}

/// Analyses one opened input on `threads` threads; stops early, flushing
/// every flow, once `interrupted` is raised. Only packets passing `filter`
/// (`-f`) are analysed, and packet indices count those, for any number of
/// threads. `progress` hears the input position now and then.
#[allow(clippy::too_many_arguments)]
pub fn analyze_input(
    reading: Reading,
    threads: usize,
    config: Config,
    detector: &Arc<Detector>,
    interrupted: &AtomicBool,
    filter: Option<&mut PacketFilter>,
    found: &mut dyn FnMut(Record),
    progress: &mut dyn FnMut(u64),
) -> InputOutcome {
    match reading {
        Reading::One(mut reader, compression) => {
            let compressed = compression != Compression::None;
            let (stats, error) = analyze_here(
                reader.as_mut(),
                config,
                detector,
                interrupted,
                filter,
                found,
                progress,
            );
            InputOutcome {
                compressed,
                stats,
                error,
                reader: reader.counters(),
            }
        }
        Reading::Split(mapped, mut blocks) if filter.is_none() => {
            let source = match &mapped {
                Some(file) => split::SplitSource::Mapped(file),
                None => split::SplitSource::Blocks(blocks.as_mut()),
            };
            let (stats, error) = split::analyze(
                source,
                threads,
                config,
                detector,
                interrupted,
                found,
                progress,
            );
            InputOutcome {
                compressed: false,
                stats,
                error,
                reader: blocks.counters(),
            }
        }
        // `-f` (whose compiled filter stays on one thread) goes through the reader.
        Reading::Split(_, blocks) => analyze_input(
            Reading::Many(blocks, Compression::None),
            threads,
            config,
            detector,
            interrupted,
            filter,
            found,
            progress,
        ),
        Reading::Many(mut blocks, compression) => {
            let mut source = Interruptible {
                inner: blocks.as_mut(),
                flag: interrupted,
                filter,
            };
            let (stats, error) =
                parallel::analyze(&mut source, threads, config, detector, found, progress);
            InputOutcome {
                compressed: compression != Compression::None,
                stats,
                error,
                reader: blocks.counters(),
            }
        }
    }
}

/// The whole analysis of one source on the calling thread.
fn analyze_here(
    source: &mut dyn PacketSource,
    config: Config,
    detector: &Arc<Detector>,
    interrupted: &AtomicBool,
    mut filter: Option<&mut PacketFilter>,
    found: &mut dyn FnMut(Record),
    progress: &mut dyn FnMut(u64),
) -> (Stats, Option<CaptureError>) {
    let mut analyzer = Analyzer::new(config, Arc::clone(detector));
    // Packets analysed (those passing -f: the analyzer's packet index), and packets read.
    let mut index = 0u64;
    let mut read = 0u64;
    let mut error = None;
    let inbox = source.secrets();
    loop {
        let next = source.next_packet();
        // Secrets read on the way to the packet come before it.
        for secrets in inbox.iter().flat_map(|i| i.take()) {
            analyzer.secrets(&secrets);
        }
        match next {
            Ok(Some(packet)) => {
                if filter.as_deref_mut().is_none_or(|f| f.matches(&packet)) {
                    analyzer.packet(index, &packet, found);
                    index += 1;
                }
            }
            Ok(None) => break,
            Err(e) => {
                error = Some(e);
                break;
            }
        }
        read += 1;
        if read.is_multiple_of(CHECK_EVERY) {
            progress(source.position());
            if interrupted.load(Ordering::Relaxed) {
                break;
            }
        }
    }
    analyzer.end_of_input(found);
    (analyzer.stats(), error)
}

/// A block source that ends early once the flag is raised, and keeps only the
/// packets passing `-f` (so packet indices are those of the single-thread run).
struct Interruptible<'a> {
    inner: &'a mut dyn BlockSource,
    flag: &'a AtomicBool,
    filter: Option<&'a mut PacketFilter>,
}

impl BlockSource for Interruptible<'_> {
    fn next_block(&mut self) -> Result<Option<PacketBlock>, CaptureError> {
        loop {
            if self.flag.load(Ordering::Relaxed) {
                return Ok(None);
            }
            let Some(mut block) = self.inner.next_block()? else {
                return Ok(None);
            };
            let Some(filter) = self.filter.as_deref_mut() else {
                return Ok(Some(block));
            };
            let data = Arc::clone(&block.data);
            // Secrets keep their place among the packets that stay.
            let kept: Vec<bool> = block
                .packets
                .iter()
                .map(|r| filter.matches(&r.packet(&data)))
                .collect();
            for (before, _) in &mut block.secrets {
                *before = kept.iter().take(*before).filter(|k| **k).count();
            }
            let mut keep = kept.iter();
            block
                .packets
                .retain(|_| keep.next().copied().unwrap_or(false));
            if !block.packets.is_empty() || !block.secrets.is_empty() {
                return Ok(Some(block));
            }
        }
    }

    fn position(&self) -> u64 {
        self.inner.position()
    }

    fn counters(&self) -> ReaderCounters {
        self.inner.counters()
    }
}

/// A run fed one packet at a time (see [`stream`]).
pub trait Feed {
    /// The next packet; `found` receives the findings that are complete.
    fn packet(&mut self, packet: &Packet<'_>, found: &mut dyn FnMut(Record));
    /// No packet came for a while and capture time reached `now`: idle flows
    /// are flushed on time, and findings held back are emitted.
    fn tick(&mut self, now: Timestamp, found: &mut dyn FnMut(Record));
    /// Secrets that arrived before the next packet (lines appended to a
    /// key log): they reach every worker at this point of the packet sequence.
    fn secrets(&mut self, secrets: Secrets);
    /// Ends the source (every flow flushed) and returns the run's counters.
    fn finish(&mut self, found: &mut dyn FnMut(Record)) -> Stats;
    /// Counters so far (with several threads, the workers' as of their last batch).
    fn stats(&self) -> Stats;
    /// Flows tracked now.
    fn active_flows(&self) -> usize;
}

/// Runs `run` with a [`Feed`] of `threads` threads: the caller's thread reads
/// and decodes, workers track flows. Packets are handed to the workers in
/// small blocks: at most [`STREAM_BLOCK_PACKETS`] packets or
/// [`STREAM_BLOCK_BYTES`] bytes, and never held longer than
/// [`STREAM_BLOCK_WAIT`], so findings are written as soon as they are
/// complete, in the order one thread writes them.
pub fn stream<R>(
    threads: usize,
    config: Config,
    detector: &Arc<Detector>,
    run: impl FnOnce(&mut dyn Feed) -> R,
) -> R {
    if threads <= 1 {
        let mut one = OneThread {
            analyzer: Analyzer::new(config, Arc::clone(detector)),
            index: 0,
            stats: None,
        };
        return run(&mut one);
    }
    parallel::with_workers(threads, config, detector, |pipeline| {
        let mut batched = Batched {
            pipeline,
            builder: BlockBuilder::new(),
            since: None,
        };
        run(&mut batched)
    })
}

/// Packets held before they are handed to the workers.
pub const STREAM_BLOCK_PACKETS: usize = 256;
/// Bytes held before they are handed to the workers.
pub const STREAM_BLOCK_BYTES: usize = 256 << 10;
/// Longest a packet waits before it is handed to the workers.
pub const STREAM_BLOCK_WAIT: Duration = Duration::from_millis(50);

struct OneThread {
    analyzer: Analyzer,
    index: u64,
    /// The counters once finished.
    stats: Option<Stats>,
}

impl Feed for OneThread {
    fn packet(&mut self, packet: &Packet<'_>, found: &mut dyn FnMut(Record)) {
        self.analyzer.packet(self.index, packet, found);
        self.index += 1;
    }

    fn tick(&mut self, now: Timestamp, found: &mut dyn FnMut(Record)) {
        self.analyzer.advance_clock(now, found);
    }

    fn secrets(&mut self, secrets: Secrets) {
        self.analyzer.secrets(&secrets);
    }

    fn finish(&mut self, found: &mut dyn FnMut(Record)) -> Stats {
        if self.stats.is_none() {
            self.analyzer.end_of_input(found);
            self.stats = Some(self.analyzer.stats());
        }
        self.stats.clone().unwrap_or_default()
    }

    fn stats(&self) -> Stats {
        self.analyzer.stats()
    }

    fn active_flows(&self) -> usize {
        self.analyzer.active_flows()
    }
}

struct Batched<'p> {
    pipeline: &'p mut Pipeline,
    builder: BlockBuilder,
    /// When the oldest packet held arrived.
    since: Option<Instant>,
}

impl Batched<'_> {
    fn hand_over(&mut self, found: &mut dyn FnMut(Record)) {
        if let Some(block) = self.builder.take() {
            self.pipeline.block(&block, found);
        }
        self.since = None;
    }
}

impl Feed for Batched<'_> {
    fn packet(&mut self, packet: &Packet<'_>, found: &mut dyn FnMut(Record)) {
        self.builder.push(packet);
        let since = *self.since.get_or_insert_with(Instant::now);
        if self.builder.len() >= STREAM_BLOCK_PACKETS
            || self.builder.bytes() >= STREAM_BLOCK_BYTES
            || since.elapsed() >= STREAM_BLOCK_WAIT
        {
            self.hand_over(found);
        } else {
            self.pipeline.poll(found);
        }
    }

    fn tick(&mut self, now: Timestamp, found: &mut dyn FnMut(Record)) {
        self.hand_over(found);
        self.pipeline.tick(now, found);
    }

    fn secrets(&mut self, secrets: Secrets) {
        self.builder.push_secrets(secrets);
    }

    fn finish(&mut self, found: &mut dyn FnMut(Record)) -> Stats {
        self.hand_over(found);
        self.pipeline.finish(found)
    }

    fn stats(&self) -> Stats {
        self.pipeline.stats()
    }

    fn active_flows(&self) -> usize {
        self.pipeline.active_flows()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::LinkType;

    /// A raw IPv4/TCP packet from port `sport` carrying `payload`.
    fn packet_bytes(sport: u16, payload: &[u8]) -> Vec<u8> {
        let total = u16::try_from(40 + payload.len()).unwrap();
        let mut p = vec![0x45, 0];
        p.extend_from_slice(&total.to_be_bytes());
        p.extend_from_slice(&[0, 1, 0, 0, 64, 6, 0, 0, 10, 0, 0, 9, 10, 0, 0, 1]);
        p.extend_from_slice(&sport.to_be_bytes());
        p.extend_from_slice(&80u16.to_be_bytes());
        p.extend_from_slice(&[0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x18, 0xff, 0xff, 0, 0, 0, 0]);
        p.extend_from_slice(payload);
        p
    }

    /// The same packets and ticks through a one-thread and a three-thread
    /// feed: the same findings in the same order, the same counters; and the
    /// three-thread feed writes a complete finding before the source ends.
    #[test]
    fn one_and_several_threads_stream_alike() {
        let detector = Arc::new(Detector::new());
        let mut config = Config::default();
        config.flow.idle_timeout_secs = 2;
        let packets: Vec<Vec<u8>> = (0..30u16)
            .map(|i| {
                let head = format!("GET /s{i} HTTP/1.1\r\nX-MSISDN: 447700900123\r\n\r\n");
                packet_bytes(2000 + i, head.as_bytes())
            })
            .collect();
        let drive = |threads: usize| {
            let mut out = Vec::new();
            let mut before_end = 0;
            let stats = stream(threads, config.clone(), &detector, |feed| {
                for (i, data) in packets.iter().enumerate() {
                    let ts = Timestamp::from_parts(1_700_000_000 + i as i64, 0);
                    let p = Packet {
                        ts,
                        link: LinkType::RAW,
                        orig_len: 0,
                        data,
                    };
                    feed.packet(&p, &mut |f| out.push(f));
                    if i % 10 == 9 {
                        feed.tick(
                            Timestamp::from_parts(1_700_000_000 + i as i64, 500),
                            &mut |f| out.push(f),
                        );
                    }
                }
                // A quiet second: findings held back are written.
                for _ in 0..100 {
                    feed.tick(Timestamp::from_parts(1_700_000_030, 0), &mut |f| {
                        out.push(f)
                    });
                    if !out.is_empty() {
                        break;
                    }
                    std::thread::sleep(Duration::from_millis(10));
                }
                before_end = out.len();
                feed.finish(&mut |f| out.push(f))
            });
            let uris: Vec<String> = out
                .into_iter()
                .filter_map(Record::finding)
                .map(|f| f.request.uri)
                .collect();
            (uris, stats, before_end)
        };
        let (one, one_stats, _) = drive(1);
        assert_eq!(one.len(), 30);
        let (three, three_stats, before_end) = drive(3);
        assert_eq!(three, one);
        assert_eq!(three_stats, one_stats);
        assert!(before_end > 0, "nothing written before the end");
    }
}
