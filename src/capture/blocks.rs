//! Packets in shared blocks, for handing to worker threads without copying.
//!
//! [`PcapBlocks`] reads a classic pcap stream in large blocks and lists the
//! packets each holds; a block is reference-counted, so several workers can
//! read their packets from it, and its buffer returns to a pool when the last
//! one is done (memory stays a few blocks, whatever the file size). Other
//! sources go through [`CopiedBlocks`], which copies packets into blocks.
use std::io::{self, Read};
use std::sync::Arc;
use std::sync::mpsc::{Receiver, Sender, channel};

use super::{CaptureError, CaptureErrorKind, LinkType, Packet, PacketSource};
use crate::time::Timestamp;

/// Bytes read per block. 256 KiB: the blocks in flight to the workers then
/// stay in the caches (with 1 MiB blocks the reader of a two-thread run spent
/// a quarter of its time copying into cold memory, and more in the kernel).
pub const BLOCK_SIZE: usize = 1 << 18;
/// Largest classic-pcap record accepted (the same bound as the streaming reader).
const MAX_RECORD: usize = super::file::MAX_RECORD;

/// A buffer that goes back to its pool when dropped.
#[derive(Debug)]
pub struct BlockData {
    bytes: Vec<u8>,
    pool: Option<Sender<Vec<u8>>>,
}

impl BlockData {
    /// The bytes.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }
}

impl Drop for BlockData {
    fn drop(&mut self) {
        if let Some(pool) = self.pool.take() {
            // The pool may be gone (reader finished): then the buffer is just freed.
            let _ = pool.send(std::mem::take(&mut self.bytes));
        }
    }
}

/// Where one packet lies in its block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PacketRef {
    /// Capture time.
    pub ts: Timestamp,
    /// Link type.
    pub link: LinkType,
    /// Length on the wire.
    pub orig_len: u32,
    /// Start of the captured bytes in the block.
    pub start: usize,
    /// End of the captured bytes in the block.
    pub end: usize,
}

impl PacketRef {
    /// The packet, borrowed from its block.
    pub fn packet<'a>(&self, block: &'a BlockData) -> Packet<'a> {
        Packet {
            ts: self.ts,
            link: self.link,
            orig_len: self.orig_len,
            data: block.bytes().get(self.start..self.end).unwrap_or_default(),
        }
    }
}

/// A block of packets.
#[derive(Debug)]
pub struct PacketBlock {
    /// The shared bytes.
    pub data: Arc<BlockData>,
    /// The packets in it, in capture-file order.
    pub packets: Vec<PacketRef>,
    /// Decryption secrets read with the block, each with the index (in
    /// `packets`) of the packet it comes before (`packets.len()`: after the last).
    pub secrets: Vec<(usize, super::Secrets)>,
}

/// Anything that yields packets in blocks.
pub trait BlockSource {
    /// The next block; `Ok(None)` at the end. After an error, no more blocks.
    fn next_block(&mut self) -> Result<Option<PacketBlock>, CaptureError>;
    /// Input bytes consumed so far.
    fn position(&self) -> u64;
    /// What the reader skipped so far.
    fn counters(&self) -> super::ReaderCounters {
        super::ReaderCounters::default()
    }
}

/// The packets of a block source one at a time: the single-thread run reads
/// classic pcap files through [`PcapBlocks`] too (one record walk, in
/// buffers that stay in the caches), and walks each block's packets here.
pub struct BlockPackets<B> {
    source: B,
    block: Option<PacketBlock>,
    next: usize,
}

impl<B: BlockSource> BlockPackets<B> {
    /// Packets of `source`, in order.
    pub fn new(source: B) -> Self {
        BlockPackets {
            source,
            block: None,
            next: 0,
        }
    }
}

impl<B: BlockSource> PacketSource for BlockPackets<B> {
    fn next_packet(&mut self) -> Result<Option<Packet<'_>>, CaptureError> {
        while self
            .block
            .as_ref()
            .is_none_or(|b| self.next >= b.packets.len())
        {
            match self.source.next_block()? {
                Some(block) => {
                    self.block = Some(block);
                    self.next = 0;
                }
                None => {
                    self.block = None;
                    return Ok(None);
                }
            }
        }
        let Some(block) = &self.block else {
            return Ok(None);
        };
        let packet = block.packets.get(self.next).map(|p| p.packet(&block.data));
        self.next = self.next.saturating_add(1);
        Ok(packet)
    }

    fn position(&self) -> u64 {
        self.source.position()
    }

    fn counters(&self) -> super::ReaderCounters {
        self.source.counters()
    }
}

/// A buffer pool: buffers come back when their last block reference drops.
struct Pool {
    returned: Receiver<Vec<u8>>,
    sender: Sender<Vec<u8>>,
}

impl Pool {
    fn new() -> Self {
        let (sender, returned) = channel();
        Pool { returned, sender }
    }

    fn take(&self) -> Vec<u8> {
        let mut buf = self.take_dirty();
        buf.clear();
        buf
    }

    /// A buffer with whatever bytes it last held: its length (already
    /// initialised memory) is kept, so filling it again costs no zeroing.
    fn take_dirty(&self) -> Vec<u8> {
        self.returned.try_recv().unwrap_or_default()
    }

    fn wrap(&self, bytes: Vec<u8>) -> Arc<BlockData> {
        Arc::new(BlockData {
            bytes,
            pool: Some(self.sender.clone()),
        })
    }
}

/// Classic pcap in shared blocks (the format must have been sniffed: the
/// reader starts at the file header).
pub struct PcapBlocks<R> {
    inner: R,
    pool: Pool,
    /// Bytes of a record cut by the end of the previous block.
    carry: Vec<u8>,
    /// Input offset of the first byte of `carry` (or of the next block).
    offset: u64,
    big_endian: bool,
    nanos: bool,
    link: LinkType,
    started: bool,
    done: bool,
    /// An error found after the packets of the last block, returned next.
    pending_error: Option<CaptureError>,
}

impl<R: Read> PcapBlocks<R> {
    /// Reads classic pcap from `inner`.
    pub fn new(inner: R) -> Self {
        PcapBlocks {
            inner,
            pool: Pool::new(),
            carry: Vec::new(),
            offset: 0,
            big_endian: false,
            nanos: false,
            link: LinkType::ETHERNET,
            started: false,
            done: false,
            pending_error: None,
        }
    }

    /// Reads classic pcap from `inner`, its file header at once (so that a
    /// file cut inside its header fails here, as in the streaming reader).
    pub fn open(inner: R) -> Result<Self, CaptureError> {
        let mut blocks = PcapBlocks::new(inner);
        blocks.read_header()?;
        Ok(blocks)
    }

    fn error(&mut self, offset: u64, kind: CaptureErrorKind) -> CaptureError {
        self.done = true;
        CaptureError { offset, kind }
    }

    fn u32_at(&self, bytes: &[u8], at: usize) -> Option<u32> {
        let b: [u8; 4] = bytes.get(at..at.checked_add(4)?)?.try_into().ok()?;
        Some(if self.big_endian {
            u32::from_be_bytes(b)
        } else {
            u32::from_le_bytes(b)
        })
    }

    /// Fills `buf` (after what it holds) up to `want` bytes; false at end of input.
    fn fill(&mut self, buf: &mut Vec<u8>, want: usize) -> Result<bool, CaptureError> {
        let have = buf.len();
        buf.resize(want.max(have), 0);
        self.fill_from(buf, have)
    }

    /// Reads into `buf[from..]` (bytes already there are overwritten), then
    /// cuts `buf` to what was read; false when nothing was.
    fn fill_from(&mut self, buf: &mut Vec<u8>, from: usize) -> Result<bool, CaptureError> {
        let mut filled = from;
        while filled < buf.len() {
            let Some(space) = buf.get_mut(filled..) else {
                break;
            };
            match self.inner.read(space) {
                Ok(0) => break,
                Ok(n) => filled += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    buf.truncate(filled);
                    let at = self.offset + filled as u64;
                    return Err(self.error(at, CaptureErrorKind::Io(e)));
                }
            }
        }
        buf.truncate(filled);
        Ok(filled > from)
    }

    fn read_header(&mut self) -> Result<(), CaptureError> {
        let mut header = Vec::with_capacity(24);
        self.fill(&mut header, 24)?;
        if header.len() < 24 {
            let kind = if header.is_empty() {
                CaptureErrorKind::Empty
            } else {
                CaptureErrorKind::Truncated("the file header")
            };
            return Err(self.error(0, kind));
        }
        let magic: [u8; 4] = header
            .get(..4)
            .and_then(|m| m.try_into().ok())
            .unwrap_or_default();
        (self.big_endian, self.nanos) = match magic {
            [0xd4, 0xc3, 0xb2, 0xa1] => (false, false),
            [0xa1, 0xb2, 0xc3, 0xd4] => (true, false),
            [0x4d, 0x3c, 0xb2, 0xa1] => (false, true),
            [0xa1, 0xb2, 0x3c, 0x4d] => (true, true),
            _ => return Err(self.error(0, CaptureErrorKind::NotACapture)),
        };
        let link = self.u32_at(&header, 20).unwrap_or(1);
        self.link = LinkType((link & 0xFFFF) as u16);
        self.offset = 24;
        self.started = true;
        Ok(())
    }
}

impl<R: Read> BlockSource for PcapBlocks<R> {
    fn next_block(&mut self) -> Result<Option<PacketBlock>, CaptureError> {
        if let Some(e) = self.pending_error.take() {
            self.done = true;
            return Err(e);
        }
        if self.done {
            return Ok(None);
        }
        if !self.started {
            self.read_header()?;
        }
        // A pooled buffer keeps its length: only bytes it never held are zeroed.
        let mut buf = self.pool.take_dirty();
        let carried = self.carry.len();
        let want = BLOCK_SIZE.max(carried);
        if buf.len() < want {
            buf.resize(want, 0);
        }
        buf.truncate(want);
        if let Some(front) = buf.get_mut(..carried) {
            front.copy_from_slice(&self.carry);
        }
        self.carry.clear();
        let more = self.fill_from(&mut buf, carried)?;
        let block_offset = self.offset;
        let mut packets = Vec::with_capacity(buf.len() / 256);
        let mut at = 0usize;
        while let Some(caplen) = self.u32_at(&buf, at + 8) {
            let caplen = caplen as usize;
            if caplen > MAX_RECORD {
                let offset = block_offset + at as u64;
                return self.finish_with(
                    buf,
                    packets,
                    at,
                    offset,
                    CaptureErrorKind::RecordTooLarge {
                        limit: MAX_RECORD as u64,
                    },
                );
            }
            let end = at + 16 + caplen;
            if end > buf.len() {
                if caplen + 16 > BLOCK_SIZE && at == 0 {
                    // One record larger than a block: read the rest of it into this block.
                    let before = buf.len();
                    self.fill(&mut buf, end)?;
                    if buf.len() > before {
                        continue;
                    }
                }
                break;
            }
            let secs = self.u32_at(&buf, at).unwrap_or(0);
            let frac = self.u32_at(&buf, at + 4).unwrap_or(0);
            let orig_len = self.u32_at(&buf, at + 12).unwrap_or(0);
            let nanos = if self.nanos {
                frac
            } else {
                frac.saturating_mul(1000)
            };
            packets.push(PacketRef {
                ts: Timestamp::from_parts(i64::from(secs), nanos.min(999_999_999)),
                link: self.link,
                orig_len,
                start: at + 16,
                end,
            });
            at = end;
        }
        // Keep the cut record for the next block.
        self.carry
            .extend_from_slice(buf.get(at..).unwrap_or_default());
        buf.truncate(at);
        self.offset = block_offset + at as u64;
        if !more && !self.carry.is_empty() && packets.is_empty() {
            let offset = self.offset;
            let kind = match self.u32_at(&self.carry, 8) {
                Some(caplen) if self.carry.len() >= 16 => CaptureErrorKind::TruncatedRecord {
                    declared: u64::from(caplen).saturating_add(16),
                    present: self.carry.len() as u64,
                },
                _ => CaptureErrorKind::Truncated("a record header"),
            };
            return Err(self.error(offset, kind));
        }
        if packets.is_empty() && !more {
            self.done = true;
            return Ok(None);
        }
        Ok(Some(PacketBlock {
            data: self.pool.wrap(buf),
            packets,
            secrets: Vec::new(),
        }))
    }

    fn position(&self) -> u64 {
        self.offset
    }
}

impl<R: Read> PcapBlocks<R> {
    /// Returns the packets before a fatal problem; the error comes at the next call.
    fn finish_with(
        &mut self,
        mut buf: Vec<u8>,
        packets: Vec<PacketRef>,
        at: usize,
        offset: u64,
        kind: CaptureErrorKind,
    ) -> Result<Option<PacketBlock>, CaptureError> {
        if packets.is_empty() {
            return Err(self.error(offset, kind));
        }
        buf.truncate(at);
        self.pending_error = Some(CaptureError { offset, kind });
        Ok(Some(PacketBlock {
            data: self.pool.wrap(buf),
            packets,
            secrets: Vec::new(),
        }))
    }
}

/// Any packet source as blocks, by copying packets (pcapng, compressed input, ...).
pub struct CopiedBlocks<S> {
    source: S,
    /// Where the source leaves decryption secrets (they travel in the blocks).
    secrets: Option<super::SecretsInbox>,
    pool: Pool,
    pending_error: Option<CaptureError>,
    done: bool,
}

impl<S: PacketSource> CopiedBlocks<S> {
    /// Wraps a source.
    pub fn new(source: S) -> Self {
        CopiedBlocks {
            secrets: source.secrets(),
            source,
            pool: Pool::new(),
            pending_error: None,
            done: false,
        }
    }
}

impl<S: PacketSource> BlockSource for CopiedBlocks<S> {
    fn next_block(&mut self) -> Result<Option<PacketBlock>, CaptureError> {
        if let Some(e) = self.pending_error.take() {
            self.done = true;
            return Err(e);
        }
        if self.done {
            return Ok(None);
        }
        let mut buf = self.pool.take();
        let mut packets = Vec::new();
        let mut secrets = Vec::new();
        while buf.len() < BLOCK_SIZE {
            let next = self.source.next_packet();
            if let Some(inbox) = &self.secrets {
                secrets.extend(inbox.take().into_iter().map(|s| (packets.len(), s)));
            }
            match next {
                Ok(Some(p)) => {
                    let start = buf.len();
                    buf.extend_from_slice(p.data);
                    packets.push(PacketRef {
                        ts: p.ts,
                        link: p.link,
                        orig_len: p.orig_len,
                        start,
                        end: buf.len(),
                    });
                }
                Ok(None) => {
                    self.done = true;
                    break;
                }
                Err(e) if packets.is_empty() => {
                    self.done = true;
                    return Err(e);
                }
                Err(e) => {
                    self.pending_error = Some(e);
                    break;
                }
            }
        }
        if packets.is_empty() && secrets.is_empty() {
            return Ok(None);
        }
        Ok(Some(PacketBlock {
            data: self.pool.wrap(buf),
            packets,
            secrets,
        }))
    }

    fn position(&self) -> u64 {
        self.source.position()
    }

    fn counters(&self) -> super::ReaderCounters {
        self.source.counters()
    }
}

/// Packets copied into blocks one at a time, for a source that hands them out
/// as they come (a live capture): push packets, take the block when it is
/// big enough or the source goes quiet.
pub struct BlockBuilder {
    pool: Pool,
    buf: Vec<u8>,
    packets: Vec<PacketRef>,
    secrets: Vec<(usize, super::Secrets)>,
}

impl Default for BlockBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl BlockBuilder {
    /// An empty builder.
    pub fn new() -> Self {
        let pool = Pool::new();
        let buf = pool.take();
        BlockBuilder {
            pool,
            buf,
            packets: Vec::new(),
            secrets: Vec::new(),
        }
    }

    /// Copies a packet in.
    pub fn push(&mut self, p: &Packet<'_>) {
        let start = self.buf.len();
        self.buf.extend_from_slice(p.data);
        self.packets.push(PacketRef {
            ts: p.ts,
            link: p.link,
            orig_len: p.orig_len,
            start,
            end: self.buf.len(),
        });
    }

    /// Packets held.
    pub fn len(&self) -> usize {
        self.packets.len()
    }

    /// True when no packet is held.
    pub fn is_empty(&self) -> bool {
        self.packets.is_empty()
    }

    /// Bytes held.
    pub fn bytes(&self) -> usize {
        self.buf.len()
    }

    /// Secrets that apply from the next packet pushed on.
    pub fn push_secrets(&mut self, secrets: super::Secrets) {
        self.secrets.push((self.packets.len(), secrets));
    }

    /// The packets (and secrets) pushed since the last call, as a block
    /// (`None` if there are none).
    pub fn take(&mut self) -> Option<PacketBlock> {
        if self.packets.is_empty() && self.secrets.is_empty() {
            return None;
        }
        let buf = std::mem::replace(&mut self.buf, self.pool.take());
        Some(PacketBlock {
            data: self.pool.wrap(buf),
            packets: std::mem::take(&mut self.packets),
            secrets: std::mem::take(&mut self.secrets),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::CaptureReader;

    fn pcap(records: &[(&[u8], u32)], big_endian: bool) -> Vec<u8> {
        let w32 = |v: u32| {
            if big_endian {
                v.to_be_bytes()
            } else {
                v.to_le_bytes()
            }
        };
        let w16 = |v: u16| {
            if big_endian {
                v.to_be_bytes()
            } else {
                v.to_le_bytes()
            }
        };
        let mut f = Vec::new();
        f.extend_from_slice(&w32(0xa1b2_c3d4));
        f.extend_from_slice(&w16(2));
        f.extend_from_slice(&w16(4));
        for v in [0, 0, 262_144, 1] {
            f.extend_from_slice(&w32(v));
        }
        for (i, (data, orig)) in records.iter().enumerate() {
            for v in [1_000 + i as u32, 7, data.len() as u32, *orig] {
                f.extend_from_slice(&w32(v));
            }
            f.extend_from_slice(data);
        }
        f
    }

    /// Every packet as (time, original length, bytes), and the error that ended the source.
    type AllPackets = (Vec<(Timestamp, u32, Vec<u8>)>, Option<CaptureError>);

    fn all_packets(source: &mut dyn BlockSource) -> AllPackets {
        let mut out = Vec::new();
        loop {
            match source.next_block() {
                Ok(Some(block)) => {
                    for r in &block.packets {
                        let p = r.packet(&block.data);
                        out.push((p.ts, p.orig_len, p.data.to_vec()));
                    }
                }
                Ok(None) => return (out, None),
                Err(e) => return (out, Some(e)),
            }
        }
    }

    #[test]
    fn blocks_hold_the_same_packets_as_the_streaming_reader() {
        // Records that straddle block boundaries, and one larger than a block.
        let sizes = [10usize, 1500, 70_000, 900, BLOCK_SIZE + 5000, 3, 0, 65_535];
        let payloads: Vec<Vec<u8>> = sizes
            .iter()
            .enumerate()
            .map(|(i, n)| vec![i as u8; *n])
            .collect();
        let mut records: Vec<(&[u8], u32)> = Vec::new();
        for _ in 0..40 {
            for p in &payloads {
                records.push((p, p.len() as u32 + 4));
            }
        }
        for big_endian in [false, true] {
            let file = pcap(&records, big_endian);
            let (blocks, err) =
                all_packets(&mut PcapBlocks::new(std::io::Cursor::new(file.clone())));
            assert!(err.is_none(), "{err:?}");
            let mut streaming =
                CopiedBlocks::new(CaptureReader::new(std::io::Cursor::new(file)).unwrap());
            let (copied, err) = all_packets(&mut streaming);
            assert!(err.is_none());
            assert_eq!(blocks.len(), records.len());
            assert!(blocks == copied);
        }
    }

    /// Packets and the kind of the error, through both readers.
    fn both_readers(file: &[u8]) -> [(Vec<usize>, Option<String>); 2] {
        let sizes = |(packets, err): AllPackets| {
            (
                packets.iter().map(|p| p.2.len()).collect(),
                err.map(|e| format!("{} at {}", e.kind, e.offset)),
            )
        };
        let blocks = sizes(all_packets(&mut PcapBlocks::new(std::io::Cursor::new(
            file.to_vec(),
        ))));
        let streaming = match CaptureReader::new(std::io::Cursor::new(file.to_vec())) {
            Ok(reader) => sizes(all_packets(&mut CopiedBlocks::new(reader))),
            Err(e) => (Vec::new(), Some(format!("{} at {}", e.kind, e.offset))),
        };
        [blocks, streaming]
    }

    #[test]
    fn one_record_size_limit_for_both_readers() {
        // Exactly the limit of packet data is read; one byte more is refused, by both.
        let at_limit = vec![7u8; MAX_RECORD];
        let file = pcap(
            &[
                (b"before", 6),
                (&at_limit, MAX_RECORD as u32),
                (b"after", 5),
            ],
            false,
        );
        let [blocks, streaming] = both_readers(&file);
        assert_eq!(blocks, (vec![6, MAX_RECORD, 5], None));
        assert_eq!(streaming, blocks);
        let over = vec![7u8; MAX_RECORD + 1];
        let file = pcap(&[(b"before", 6), (&over, 0), (b"after", 5)], false);
        let [blocks, streaming] = both_readers(&file);
        assert_eq!(blocks.0, vec![6]);
        assert!(
            blocks
                .1
                .as_deref()
                .is_some_and(|e| e.contains("larger than")),
            "{blocks:?}"
        );
        assert_eq!(streaming, blocks);
    }

    #[test]
    fn cut_and_corrupt_files() {
        let file = pcap(&[(b"abc", 3), (b"defgh", 5)], false);
        let cut = file[..file.len() - 2].to_vec();
        let (packets, err) = all_packets(&mut PcapBlocks::new(std::io::Cursor::new(cut)));
        assert_eq!(packets.len(), 1);
        let err = err.unwrap();
        assert!(
            matches!(
                err.kind,
                CaptureErrorKind::TruncatedRecord {
                    declared: 21,
                    present: 19
                }
            ),
            "{err}"
        );
        assert_eq!(err.offset, 24 + 16 + 3);
        let mut corrupt = file.clone();
        corrupt[24 + 16 + 3 + 8..24 + 16 + 3 + 12].copy_from_slice(&u32::MAX.to_le_bytes());
        let (packets, err) = all_packets(&mut PcapBlocks::new(std::io::Cursor::new(corrupt)));
        assert_eq!(packets.len(), 1);
        assert!(matches!(
            err.unwrap().kind,
            CaptureErrorKind::RecordTooLarge { .. }
        ));
        let (packets, err) = all_packets(&mut PcapBlocks::new(std::io::Cursor::new(Vec::new())));
        assert!(packets.is_empty());
        assert!(matches!(err.unwrap().kind, CaptureErrorKind::Empty));
        let (_, err) = all_packets(&mut PcapBlocks::new(std::io::Cursor::new(
            b"0123456789abcdefghijklmnopqrstuvwxyz".to_vec(),
        )));
        assert!(matches!(err.unwrap().kind, CaptureErrorKind::NotACapture));
    }
}
