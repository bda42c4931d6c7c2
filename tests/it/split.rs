//! The in-process split (`pipeline::split`, used for uncompressed capture files
//! at `--threads` 2 and more): every worker reads and decodes every block and
//! keeps its share of the flows. On every fixture (tunnels, GTP-U handovers,
//! IP fragments, gaps, pipelining, cut captures, pcapng with Decryption
//! Secrets Blocks) and every TLS fixture with its key log, the findings (every
//! field, in order) and every counter equal one thread's, whatever the number
//! of workers, for a classic pcap file walked through its mapping and for any
//! capture read in blocks however it is cut.
use std::io::Cursor;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use phoneleak::capture::{
    BlockBuilder, BlockSource, Capture, CaptureError, Input, Opened, PacketBlock, PacketSource,
    SecretsInbox, open_reader,
};
use phoneleak::detect::Detector;
use phoneleak::pipeline::{self, Config, Reading, Record, Stats, parallel, split};
use phoneleak::tls::{KeyLog, KeyLogStats};

/// The packets of a capture in blocks of `per_block` packets (with the
/// decryption secrets in their place), so that a small fixture spans many
/// blocks and workers wait for each other.
struct Chopped {
    source: Capture,
    inbox: Option<SecretsInbox>,
    per_block: usize,
    builder: BlockBuilder,
    pending: Option<CaptureError>,
}

impl Chopped {
    fn new(bytes: &[u8], per_block: usize) -> Chopped {
        let source = open_reader(Cursor::new(bytes.to_vec())).expect("a capture");
        Chopped {
            inbox: source.secrets(),
            source,
            per_block,
            builder: BlockBuilder::new(),
            pending: None,
        }
    }
}

impl BlockSource for Chopped {
    fn next_block(&mut self) -> Result<Option<PacketBlock>, CaptureError> {
        if let Some(e) = self.pending.take() {
            return Err(e);
        }
        loop {
            let next = self.source.next_packet();
            for s in self.inbox.iter().flat_map(SecretsInbox::take) {
                self.builder.push_secrets(s);
            }
            match next {
                Ok(Some(p)) => self.builder.push(&p),
                Ok(None) => return Ok(self.builder.take()),
                Err(e) => match self.builder.take() {
                    Some(block) => {
                        self.pending = Some(e);
                        return Ok(Some(block));
                    }
                    None => return Err(e),
                },
            }
            if self.builder.len() >= self.per_block {
                return Ok(self.builder.take());
            }
        }
    }

    fn position(&self) -> u64 {
        self.source.position()
    }
}

/// What a run gave: every finding in full (its Debug form: request, leaks,
/// order key), the counters, and the error that ended the input.
type Outcome = (Vec<String>, Stats, Option<String>);

fn outcome(findings: Vec<Record>, stats: Stats, error: Option<CaptureError>) -> Outcome {
    let findings = findings.iter().map(|f| format!("{f:?}")).collect();
    (findings, stats, error.map(|e| e.to_string()))
}

/// `scan --threads 1`: the one-thread driver.
fn one_thread(bytes: &[u8], config: &Config, detector: &Arc<Detector>) -> Outcome {
    let opened = Opened::from_reader(Box::new(Cursor::new(bytes.to_vec()))).expect("opens");
    let reading = Reading::new(opened, 1, false).expect("a capture");
    let mut found = Vec::new();
    let out = pipeline::analyze_input(
        reading,
        1,
        config.clone(),
        detector,
        &AtomicBool::new(false),
        None,
        &mut |f| found.push(f),
        &mut |_| {},
    );
    outcome(found, out.stats, out.error)
}

/// The split over `workers` workers, the capture read from a file as `scan`
/// reads it: a classic pcap file mapped, any other through its blocks.
fn split_run(
    name: &str,
    bytes: &[u8],
    workers: usize,
    config: &Config,
    detector: &Arc<Detector>,
) -> Outcome {
    let path = crate::common::scratch("split").join(name);
    std::fs::write(&path, bytes).unwrap();
    let opened = Opened::open(&Input::Path(path), None).expect("opens");
    let classic = opened.is_classic_pcap();
    let Ok(Reading::Split(mapped, mut blocks)) = Reading::new(opened, workers, false) else {
        panic!("{name}: not split");
    };
    assert_eq!(
        mapped.is_some(),
        classic && bytes.len() >= 24,
        "{name}: mapped"
    );
    let source = match &mapped {
        Some(file) => split::SplitSource::Mapped(file),
        None => split::SplitSource::Blocks(blocks.as_mut()),
    };
    let mut found = Vec::new();
    let (stats, error) = split::analyze(
        source,
        workers,
        config.clone(),
        detector,
        &AtomicBool::new(false),
        &mut |f| found.push(f),
        &mut |_| {},
    );
    outcome(found, stats, error)
}

/// The split over `workers` workers, `per_block` packets a block.
fn split_chopped(
    bytes: &[u8],
    workers: usize,
    per_block: usize,
    config: &Config,
    detector: &Arc<Detector>,
) -> Outcome {
    let mut source = Chopped::new(bytes, per_block);
    let mut found = Vec::new();
    let (stats, error) = split::analyze(
        split::SplitSource::Blocks(&mut source),
        workers,
        config.clone(),
        detector,
        &AtomicBool::new(false),
        &mut |f| found.push(f),
        &mut |_| {},
    );
    outcome(found, stats, error)
}

/// The reader + router path over `workers` workers, `per_block` packets a block.
fn routed(
    bytes: &[u8],
    workers: usize,
    per_block: usize,
    config: &Config,
    detector: &Arc<Detector>,
) -> Outcome {
    let mut source = Chopped::new(bytes, per_block);
    let mut found = Vec::new();
    let (stats, error) = parallel::analyze(
        &mut source,
        workers,
        config.clone(),
        detector,
        &mut |f| found.push(f),
        &mut |_| {},
    );
    outcome(found, stats, error)
}

/// Every fixture that is a capture, with the configuration to read it with
/// (TLS fixtures: their key log, unless the keys are in the capture).
fn captures() -> Vec<(String, Vec<u8>, Config)> {
    let mut all = Vec::new();
    for f in fixturegen::all() {
        let readable = Opened::from_reader(Box::new(Cursor::new(f.bytes.clone())))
            .and_then(|o| o.into_capture())
            .is_ok();
        if readable {
            all.push((f.name.to_string(), f.bytes, Config::default()));
        }
    }
    for f in fixturegen::tls::all() {
        let mut config = Config::default();
        if !f.keys_in_dsb {
            let mut keys = KeyLog::new();
            keys.add_text(f.keylog.as_bytes(), &mut KeyLogStats::default());
            config.keys = Arc::new(keys);
        }
        all.push((f.fixture.name.to_string(), f.fixture.bytes, config));
    }
    assert!(all.len() > 40, "{} captures", all.len());
    all
}

/// Findings (every field, in order), counters and the input's error of the
/// split equal one thread's on every fixture, at 2, 3 and 7 workers, in the
/// file's own blocks and cut into blocks of one and of three packets.
#[test]
fn the_split_gives_the_one_thread_findings_on_every_fixture() {
    let detector = Arc::new(Detector::new());
    let mut checked_findings = 0;
    for (name, bytes, config) in captures() {
        let one = one_thread(&bytes, &config, &detector);
        checked_findings += one.0.len();
        // Responses are read only when asked (diff): scan's output is findings.
        assert!(!one.0.iter().any(|r| r.starts_with("Answer")), "{name}");
        for workers in [2, 3, 7] {
            let whole = split_run(&name, &bytes, workers, &config, &detector);
            assert!(
                whole == one,
                "{name}, {workers} workers: {whole:#?}\n{one:#?}"
            );
            for per_block in [1, 3] {
                let chopped = split_chopped(&bytes, workers, per_block, &config, &detector);
                assert!(
                    chopped == one,
                    "{name}, {workers} workers, {per_block} packets a block: {chopped:#?}\n{one:#?}"
                );
            }
        }
    }
    assert!(checked_findings > 200, "{checked_findings} findings");
}

/// With responses read (`diff`'s BEFORE), the records, answers among them,
/// are the same on one thread, split and routed, at every worker count and
/// however the packets come in blocks.
#[test]
fn answers_come_in_the_one_thread_order_at_any_parallelism() {
    let detector = Arc::new(Detector::new());
    let mut answers = 0;
    for (name, bytes, config) in captures() {
        let config = Config {
            read_responses: true,
            ..config
        };
        let one = one_thread(&bytes, &config, &detector);
        answers += one.0.iter().filter(|r| r.starts_with("Answer")).count();
        for workers in [2, 3] {
            let whole = split_run(&name, &bytes, workers, &config, &detector);
            assert!(whole == one, "{name}, {workers} workers split");
            for per_block in [1, 3] {
                let chopped = split_chopped(&bytes, workers, per_block, &config, &detector);
                assert!(
                    chopped == one,
                    "{name}, {workers} workers, {per_block} a block"
                );
                let routed = routed(&bytes, workers, per_block, &config, &detector);
                assert!(
                    routed == one,
                    "{name}, {workers} workers routed, {per_block} a block"
                );
            }
        }
    }
    assert!(answers > 100, "{answers} answers");
}

/// Every counter of the summary (packets, bytes and the decode counters,
/// which every worker counts and only the first reports; the flow, HTTP, TLS,
/// body and finding counters, which the workers sum) equals one thread's and
/// the router path's; the decode counters are not multiplied by the workers.
#[test]
fn the_split_counts_every_packet_once_and_sums_the_flows() {
    let detector = Arc::new(Detector::new());
    let mut tunnels = 0;
    let mut fragments = 0;
    let mut decrypted = 0;
    for (name, bytes, config) in captures() {
        let (_, one, _) = one_thread(&bytes, &config, &detector);
        tunnels += one.decode.tunnels.gtpu;
        fragments += one.decode.defrag.completed;
        decrypted += one.tls.decrypted;
        for workers in [2, 4] {
            let (_, split, _) = split_chopped(&bytes, workers, 2, &config, &detector);
            let (_, router, _) = routed(&bytes, workers, 2, &config, &detector);
            assert_eq!(split.packets, one.packets, "{name}, {workers} workers");
            assert_eq!(split.decode, one.decode, "{name}, {workers} workers");
            assert_eq!(split.keylog, one.keylog, "{name}, {workers} workers");
            assert_eq!(split, one, "{name}, {workers} workers");
            assert_eq!(router, one, "{name}, {workers} workers: the router path");
        }
    }
    // The fixtures do exercise tunnels, fragments and decryption.
    assert!(tunnels > 0 && fragments > 0 && decrypted > 0);
}

/// `scan` takes the split for an uncompressed capture at two threads and
/// more, the reader for a compressed one, one thread for standard input.
#[test]
fn uncompressed_captures_are_split_compressed_ones_routed() {
    let f = fixturegen::all()
        .into_iter()
        .find(|f| f.name == "gtpu.pcap")
        .expect("the gtpu fixture");
    let open = |bytes: Vec<u8>| Opened::from_reader(Box::new(Cursor::new(bytes))).unwrap();
    assert!(matches!(
        Reading::new(open(f.bytes.clone()), 2, false),
        Ok(Reading::Split(..))
    ));
    assert!(matches!(
        Reading::new(open(f.bytes.clone()), 1, false),
        Ok(Reading::One(..))
    ));
    assert!(matches!(
        Reading::new(open(f.bytes.clone()), 2, true),
        Ok(Reading::One(..))
    ));
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut gz, &f.bytes).unwrap();
    let gz = gz.finish().unwrap();
    assert!(matches!(
        Reading::new(open(gz), 2, false),
        Ok(Reading::Many(..))
    ));
}

/// The records of the classic pcap Ethernet fixtures (µs, little-endian),
/// each fixture's records `rounds` times over, restamped one millisecond
/// apart: one capture of many chunks of the mapped split, with IP fragments,
/// GTP-U and VLAN tunnels, gaps and leaks in every chunk and across chunk
/// boundaries.
fn many_chunks(rounds: u32) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&[0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0]);
    out.extend_from_slice(&[0; 8]);
    out.extend_from_slice(&65535u32.to_le_bytes());
    out.extend_from_slice(&1u32.to_le_bytes());
    let mut stamp = 0u64;
    for f in fixturegen::all() {
        let b = &f.bytes;
        if b.len() < 24 || b[..4] != [0xd4, 0xc3, 0xb2, 0xa1] || b[20..24] != 1u32.to_le_bytes() {
            continue;
        }
        for _ in 0..rounds {
            let mut at = 24;
            while at + 16 <= b.len() {
                let caplen = u32::from_le_bytes(b[at + 8..at + 12].try_into().unwrap()) as usize;
                let Some(data) = b.get(at + 16..at + 16 + caplen) else {
                    break;
                };
                stamp += 1000;
                out.extend_from_slice(&(1_700_000_000 + (stamp / 1_000_000) as u32).to_le_bytes());
                out.extend_from_slice(&((stamp % 1_000_000) as u32).to_le_bytes());
                out.extend_from_slice(&b[at + 8..at + 16]);
                out.extend_from_slice(data);
                at += 16 + caplen;
            }
        }
    }
    out
}

/// On a capture of many chunks, the mapped split's findings and every
/// counter equal one thread's read from a pipe and from the mapped file, at
/// 2, 3 and 7 workers; the fixtures it is made of reassemble fragments and
/// decode tunnels there.
#[test]
fn the_mapped_split_of_many_chunks_gives_the_one_thread_findings() {
    let detector = Arc::new(Detector::new());
    let config = Config::default();
    let bytes = many_chunks(3);
    let one = one_thread(&bytes, &config, &detector);
    assert!(one.1.packets > 5_000, "{} packets", one.1.packets);
    assert!(one.1.decode.defrag.completed > 0 && one.1.decode.tunnels.gtpu > 0);
    assert!(one.0.len() > 100, "{} findings", one.0.len());
    // One thread reads a file through its mapping, a pipe in blocks: the same.
    let path = crate::common::scratch("split").join("many-chunks.pcap");
    std::fs::write(&path, &bytes).unwrap();
    let opened = Opened::open(&Input::Path(path), None).expect("opens");
    let reading = Reading::new(opened, 1, false).expect("a capture");
    let mut found = Vec::new();
    let out = pipeline::analyze_input(
        reading,
        1,
        config.clone(),
        &detector,
        &AtomicBool::new(false),
        None,
        &mut |f| found.push(f),
        &mut |_| {},
    );
    assert!(
        outcome(found, out.stats, out.error) == one,
        "one thread, mapped"
    );
    for workers in [2, 3, 7] {
        let split = split_run("many-chunks.pcap", &bytes, workers, &config, &detector);
        assert!(
            split == one,
            "{workers} workers: {:#?}\n{:#?}",
            split.1,
            one.1
        );
    }
    // Cut inside a record: the same packets and the same error.
    let cut = &bytes[..bytes.len() - 7];
    let one = one_thread(cut, &config, &detector);
    assert!(one.2.is_some());
    let split = split_run("many-chunks-cut.pcap", cut, 2, &config, &detector);
    assert!(split == one, "cut: {:#?}\n{:#?}", split.2, one.2);
}
