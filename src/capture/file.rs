//! Streaming reader for classic pcap (both byte orders, µs and ns) and pcapng
//! (several sections, several interfaces with their own link types and
//! timestamp resolutions), over any [`Read`]. Memory is one buffer, grown only
//! for a record larger than it, up to [`MAX_RECORD`].
use std::io::{self, Read};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use pcap_parser::pcapng::Block;
use pcap_parser::traits::PcapNGPacketBlock;
use pcap_parser::traits::PcapReaderIterator;
use pcap_parser::{PcapBlockOwned, PcapError};

use super::{CaptureError, CaptureErrorKind, LinkType, Packet, PacketSource};
use crate::time::Timestamp;

/// Initial reader buffer: big reads are the fastest way through a page-cached file.
const BUFFER_SIZE: usize = 1 << 20;
/// The largest record accepted, counted after the record's fixed header (a
/// pcap record's 16 bytes, a pcapng block's 8 bytes of type and length): a
/// pcap record with up to 16 MiB of packet data is read, one byte more is
/// corrupt. The same rule holds in the block reader ([`super::PcapBlocks`]),
/// so `--threads` never changes which files are read.
pub const MAX_RECORD: usize = 16 << 20;
/// Largest reader buffer: the largest record, its header, and room for the
/// parser's "need more" check (which wants the buffer strictly larger).
const MAX_BUFFER: usize = MAX_RECORD + 4096;
/// pcapng interfaces kept per section; Interface Description Blocks beyond
/// this are counted ([`CaptureReader::interfaces_over_cap`]) and their
/// packets skipped as on an unknown interface.
pub const MAX_INTERFACES: usize = 65_536;

/// Which container format the input is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Classic libpcap format.
    Pcap,
    /// pcapng.
    PcapNg,
}

/// One pcapng interface: how to read its packets and timestamps.
#[derive(Debug, Clone, Copy)]
struct Interface {
    link: LinkType,
    /// Timestamp units per second (10^6 unless `if_tsresol` says otherwise).
    units_per_sec: u64,
    /// Seconds added to every timestamp (`if_tsoffset`).
    offset_secs: i64,
}

/// What one parsed block means, with no borrow of the reader's buffer left.
enum Step {
    Packet {
        start: usize,
        len: usize,
        ts: Timestamp,
        link: LinkType,
        orig_len: u32,
    },
    Skip,
}

/// Streams packets out of a pcap or pcapng byte stream.
pub struct CaptureReader {
    inner: Box<dyn PcapReaderIterator + Send>,
    blocks: BlockState,
    /// Bytes of the block returned last, consumed at the next call.
    pending_consume: usize,
    io_error: Arc<Mutex<Option<io::Error>>>,
    finished: bool,
}

/// What earlier blocks said about the ones that follow.
struct BlockState {
    format: Format,
    /// Classic pcap: the file's link type and timestamp precision.
    legacy_link: LinkType,
    legacy_nanos: bool,
    legacy_big_endian: bool,
    /// pcapng: the current section's byte order.
    ng_big_endian: bool,
    /// pcapng: the interfaces of the current section.
    interfaces: Vec<Interface>,
    /// Last timestamp seen (simple packet blocks have none of their own).
    last_ts: Timestamp,
    /// Packets on an interface the section did not describe (skipped).
    unknown_interface_packets: u64,
    /// Interface Description Blocks beyond [`MAX_INTERFACES`] in a section (ignored).
    interfaces_over_cap: u64,
    /// Decryption secrets found, for the run.
    secrets: super::SecretsInbox,
    /// Secret bytes handed over so far, and blocks read and skipped.
    secrets_bytes: usize,
    secrets_blocks: u64,
    secrets_over_cap: u64,
    /// Enhanced Packet Blocks skipped as damaged, and where the first was.
    damaged_blocks: u64,
    first_damaged_block: Option<u64>,
}

impl CaptureReader {
    /// Recognises the format from the first bytes and prepares to stream.
    pub fn new<R: Read + Send + 'static>(reader: R) -> Result<Self, CaptureError> {
        let io_error = Arc::new(Mutex::new(None));
        let opening = Arc::new(AtomicBool::new(true));
        let head = Arc::new(Mutex::new(Vec::new()));
        let full = FillingReader {
            inner: reader,
            error: Arc::clone(&io_error),
            opening: Arc::clone(&opening),
            pending: None,
            delivered: 0,
            head: Arc::clone(&head),
        };
        let inner = match pcap_parser::create_reader(BUFFER_SIZE, full) {
            Ok(r) => {
                opening.store(false, Ordering::Relaxed);
                r
            }
            Err(e) => {
                let kind = match e {
                    PcapError::Eof => CaptureErrorKind::Empty,
                    PcapError::ReadError => take_io_error(&io_error),
                    // A known magic number on a file too short for its header: cut, not foreign.
                    _ if starts_with_magic(&head) => CaptureErrorKind::Truncated("the file header"),
                    _ => CaptureErrorKind::NotACapture,
                };
                return Err(CaptureError { offset: 0, kind });
            }
        };
        Ok(CaptureReader {
            inner,
            blocks: BlockState {
                format: Format::Pcap,
                legacy_link: LinkType::ETHERNET,
                legacy_nanos: false,
                legacy_big_endian: false,
                ng_big_endian: false,
                interfaces: Vec::new(),
                last_ts: Timestamp::default(),
                unknown_interface_packets: 0,
                interfaces_over_cap: 0,
                secrets: super::SecretsInbox::default(),
                secrets_bytes: 0,
                secrets_blocks: 0,
                secrets_over_cap: 0,
                damaged_blocks: 0,
                first_damaged_block: None,
            },
            pending_consume: 0,
            io_error,
            finished: false,
        })
    }

    /// The container format, known once the first block has been read.
    pub fn format(&self) -> Format {
        self.blocks.format
    }

    /// Packets skipped because their pcapng interface was never described.
    pub fn unknown_interface_packets(&self) -> u64 {
        self.blocks.unknown_interface_packets
    }

    /// Interface Description Blocks ignored because their section already
    /// had [`MAX_INTERFACES`] interfaces.
    pub fn interfaces_over_cap(&self) -> u64 {
        self.blocks.interfaces_over_cap
    }

    /// Bytes of the record at the read position after its fixed header (the
    /// length [`MAX_RECORD`] bounds), when that header is complete.
    fn declared_body_len(&self) -> Option<u64> {
        let header = match self.blocks.format {
            Format::Pcap => 16,
            Format::PcapNg => 8,
        };
        self.declared_record_len()
            .map(|len| len.saturating_sub(header))
    }

    /// Whole length (header included) claimed by the record or block header at
    /// the read position, when that header is complete.
    fn declared_record_len(&self) -> Option<u64> {
        let (at, big_endian, header) = match self.blocks.format {
            Format::Pcap => (8, self.blocks.legacy_big_endian, 16),
            Format::PcapNg => (4, self.blocks.ng_big_endian, 0),
        };
        let field: [u8; 4] = self.inner.data().get(at..at + 4)?.try_into().ok()?;
        let len = if big_endian {
            u32::from_be_bytes(field)
        } else {
            u32::from_le_bytes(field)
        };
        Some(u64::from(len) + header)
    }

    /// A pcapng Enhanced Packet Block at the read position, whole in the
    /// buffer, whose captured length does not fit in it. The parser cannot
    /// tell that from a block still arriving (it asks for more bytes), so a
    /// file, a pipe and a decompressor would each end differently. When the
    /// block's total length is sound (a multiple of 4, repeated at its end)
    /// it is `Ok(len)`: the block is damaged, the ones after it are read;
    /// when the two lengths disagree the framing is lost: an error.
    fn damaged_packet_block(&self) -> Option<Result<usize, CaptureErrorKind>> {
        const EPB: u32 = 6;
        /// Type, length, interface, two timestamp words, captured and original length, trailer.
        const EMPTY_EPB: usize = 32;
        if self.blocks.format != Format::PcapNg {
            return None;
        }
        let data = self.inner.data();
        let big_endian = self.blocks.ng_big_endian;
        let word = |at: usize| -> Option<u32> {
            let field: [u8; 4] = data.get(at..at.checked_add(4)?)?.try_into().ok()?;
            Some(if big_endian {
                u32::from_be_bytes(field)
            } else {
                u32::from_le_bytes(field)
            })
        };
        if word(0)? != EPB {
            return None;
        }
        let len = usize::try_from(word(4)?).ok()?;
        if len < EMPTY_EPB || !len.is_multiple_of(4) || len > MAX_RECORD.saturating_add(8) {
            // The parser's own errors: a corrupt or oversized block length.
            return None;
        }
        let caplen = usize::try_from(word(20)?).ok()?;
        // Room for the packet data (options, if any, come after it).
        let room = len - EMPTY_EPB;
        if caplen
            .checked_next_multiple_of(4)
            .is_some_and(|c| c <= room)
        {
            return None;
        }
        let trailer = word(len.checked_sub(4)?)?;
        if usize::try_from(trailer).ok() != Some(len) {
            return Some(Err(CaptureErrorKind::Corrupt(format!(
                "a {len}-byte block whose trailer says {trailer}"
            ))));
        }
        Some(Ok(len))
    }

    /// Why the input ended inside the record at the read position.
    fn truncation(&self) -> CaptureErrorKind {
        let present = self.inner.data().len() as u64;
        let header = match self.blocks.format {
            Format::Pcap => 16,
            Format::PcapNg => 8,
        };
        if present < header {
            return CaptureErrorKind::Truncated(match self.blocks.format {
                Format::Pcap => "a record header",
                Format::PcapNg => "a block header",
            });
        }
        if self
            .declared_body_len()
            .is_some_and(|len| len > MAX_RECORD as u64)
        {
            return CaptureErrorKind::RecordTooLarge {
                limit: MAX_RECORD as u64,
            };
        }
        match self.declared_record_len() {
            Some(declared) if declared > present => {
                CaptureErrorKind::TruncatedRecord { declared, present }
            }
            _ => CaptureErrorKind::Truncated("a record"),
        }
    }

    fn error(&self, kind: CaptureErrorKind) -> CaptureError {
        CaptureError {
            offset: self.position(),
            kind,
        }
    }
}

impl BlockState {
    /// Interprets one block; returns only owned facts and offsets into `base`.
    fn classify(
        &mut self,
        block: PcapBlockOwned<'_>,
        base: usize,
    ) -> Result<Step, CaptureErrorKind> {
        let offset_of = |data: &[u8]| (data.as_ptr() as usize).wrapping_sub(base);
        match block {
            PcapBlockOwned::LegacyHeader(hdr) => {
                self.format = Format::Pcap;
                self.legacy_link = link_type(hdr.network.0);
                self.legacy_nanos = hdr.is_nanosecond_precision();
                self.legacy_big_endian = hdr.is_bigendian();
                Ok(Step::Skip)
            }
            PcapBlockOwned::Legacy(rec) => {
                let nanos = if self.legacy_nanos {
                    rec.ts_usec
                } else {
                    rec.ts_usec.saturating_mul(1000)
                };
                let ts = Timestamp::from_parts(i64::from(rec.ts_sec), nanos.min(999_999_999));
                self.last_ts = ts;
                Ok(Step::Packet {
                    start: offset_of(rec.data),
                    len: rec.data.len(),
                    ts,
                    link: self.legacy_link,
                    orig_len: rec.origlen,
                })
            }
            PcapBlockOwned::NG(Block::SectionHeader(shb)) => {
                self.format = Format::PcapNg;
                self.ng_big_endian = shb.big_endian();
                self.interfaces.clear();
                Ok(Step::Skip)
            }
            PcapBlockOwned::NG(Block::InterfaceDescription(idb)) => {
                if self.interfaces.len() >= MAX_INTERFACES {
                    self.interfaces_over_cap += 1;
                    return Ok(Step::Skip);
                }
                let units_per_sec = idb.ts_resolution().filter(|u| *u > 0).unwrap_or(1_000_000);
                self.interfaces.push(Interface {
                    link: link_type(idb.linktype.0),
                    units_per_sec,
                    offset_secs: idb.ts_offset(),
                });
                Ok(Step::Skip)
            }
            PcapBlockOwned::NG(Block::EnhancedPacket(epb)) => {
                let Some(iface) = usize::try_from(epb.if_id)
                    .ok()
                    .and_then(|i| self.interfaces.get(i))
                    .copied()
                else {
                    self.unknown_interface_packets += 1;
                    return Ok(Step::Skip);
                };
                let units = (u64::from(epb.ts_high) << 32) | u64::from(epb.ts_low);
                let secs = i64::try_from(units / iface.units_per_sec).unwrap_or(i64::MAX);
                let frac = u128::from(units % iface.units_per_sec) * 1_000_000_000
                    / u128::from(iface.units_per_sec);
                let ts = Timestamp::from_parts(
                    secs.saturating_add(iface.offset_secs),
                    u32::try_from(frac).unwrap_or(0),
                );
                self.last_ts = ts;
                let data = epb.packet_data();
                Ok(Step::Packet {
                    start: offset_of(data),
                    len: data.len(),
                    ts,
                    link: iface.link,
                    orig_len: epb.origlen,
                })
            }
            PcapBlockOwned::NG(Block::SimplePacket(spb)) => {
                let Some(iface) = self.interfaces.first().copied() else {
                    self.unknown_interface_packets += 1;
                    return Ok(Step::Skip);
                };
                let data = spb.packet_data();
                Ok(Step::Packet {
                    start: offset_of(data),
                    len: data.len(),
                    ts: self.last_ts,
                    link: iface.link,
                    orig_len: spb.origlen,
                })
            }
            PcapBlockOwned::NG(Block::DecryptionSecrets(dsb)) => {
                let total = self.secrets_bytes.saturating_add(dsb.data.len());
                if total > super::MAX_SECRETS_BYTES {
                    self.secrets_over_cap += 1;
                } else {
                    self.secrets_bytes = total;
                    self.secrets_blocks += 1;
                    self.secrets.put(super::Secrets {
                        kind: dsb.secrets_type.0,
                        data: dsb.data.to_vec(),
                        origin: super::SecretsOrigin::Capture,
                    });
                }
                Ok(Step::Skip)
            }
            PcapBlockOwned::NG(_) => Ok(Step::Skip),
        }
    }
}

impl PacketSource for CaptureReader {
    fn next_packet(&mut self) -> Result<Option<Packet<'_>>, CaptureError> {
        if self.pending_consume > 0 {
            self.inner.consume_noshift(self.pending_consume);
            self.pending_consume = 0;
        }
        if self.finished {
            return Ok(None);
        }
        loop {
            match self.damaged_packet_block() {
                Some(Ok(len)) => {
                    let at = self.position();
                    self.blocks.damaged_blocks += 1;
                    self.blocks.first_damaged_block.get_or_insert(at);
                    self.inner.consume_noshift(len);
                    continue;
                }
                Some(Err(kind)) => {
                    self.finished = true;
                    return Err(self.error(kind));
                }
                None => {}
            }
            let base = self.inner.data().as_ptr() as usize;
            // Parse one block into owned facts so that the buffer borrow ends here.
            let parsed = match self.inner.next() {
                Ok((used, block)) => Ok((used, self.blocks.classify(block, base))),
                Err(e) => Err(owned_error(e)),
            };
            match parsed {
                Ok((used, Ok(Step::Skip))) => self.inner.consume_noshift(used),
                Ok((
                    used,
                    Ok(Step::Packet {
                        start,
                        len,
                        ts,
                        link,
                        orig_len,
                    }),
                )) => {
                    let end = start.checked_add(len);
                    let data = end.and_then(|end| self.inner.data().get(start..end));
                    let Some(data) = data else {
                        self.finished = true;
                        return Err(self
                            .error(CaptureErrorKind::Corrupt("packet outside its block".into())));
                    };
                    self.pending_consume = used;
                    return Ok(Some(Packet {
                        ts,
                        link,
                        orig_len,
                        data,
                    }));
                }
                Ok((_, Err(kind))) => {
                    self.finished = true;
                    return Err(self.error(kind));
                }
                Err(ReadStep::End) => {
                    self.finished = true;
                    return Ok(None);
                }
                Err(ReadStep::Refill) => {
                    if self.inner.refill().is_err() {
                        self.finished = true;
                        let kind = take_io_error(&self.io_error);
                        return Err(self.error(kind));
                    }
                }
                Err(ReadStep::Grow) => {
                    let too_large = self
                        .declared_body_len()
                        .is_some_and(|len| len > MAX_RECORD as u64);
                    // Room for the whole record when its header says how long
                    // it is, else twice what is buffered.
                    let whole = self
                        .declared_record_len()
                        .and_then(|len| usize::try_from(len).ok())
                        .map_or(0, |len| len.saturating_add(4096));
                    let size = self
                        .inner
                        .data()
                        .len()
                        .max(BUFFER_SIZE)
                        .saturating_mul(2)
                        .max(whole)
                        .min(MAX_BUFFER);
                    if too_large || size <= self.inner.data().len() || !self.inner.grow(size) {
                        self.finished = true;
                        return Err(self.error(CaptureErrorKind::RecordTooLarge {
                            limit: MAX_RECORD as u64,
                        }));
                    }
                    if self.inner.refill().is_err() {
                        self.finished = true;
                        let kind = take_io_error(&self.io_error);
                        return Err(self.error(kind));
                    }
                }
                Err(ReadStep::Fail(kind)) => {
                    self.finished = true;
                    // A record "cut" by the end of file may really have a corrupt length.
                    let kind = match kind {
                        CaptureErrorKind::Truncated(_) => self.truncation(),
                        kind => kind,
                    };
                    return Err(self.error(kind));
                }
            }
        }
    }

    fn position(&self) -> u64 {
        (self.inner.consumed() + self.pending_consume) as u64
    }

    fn counters(&self) -> super::ReaderCounters {
        super::ReaderCounters {
            unknown_interface_packets: self.blocks.unknown_interface_packets,
            interfaces_over_cap: self.blocks.interfaces_over_cap,
            secrets_blocks: self.blocks.secrets_blocks,
            secrets_over_cap: self.blocks.secrets_over_cap,
            damaged_blocks: self.blocks.damaged_blocks,
            first_damaged_block: self.blocks.first_damaged_block,
        }
    }

    fn secrets(&self) -> Option<super::SecretsInbox> {
        Some(self.blocks.secrets.clone())
    }
}

/// What to do after the parser could not return a block.
enum ReadStep {
    End,
    Refill,
    Grow,
    Fail(CaptureErrorKind),
}

fn owned_error(e: PcapError<&[u8]>) -> ReadStep {
    match e {
        PcapError::Eof => ReadStep::End,
        PcapError::Incomplete(_) => ReadStep::Refill,
        PcapError::BufferTooSmall => ReadStep::Grow,
        PcapError::UnexpectedEof => ReadStep::Fail(CaptureErrorKind::Truncated("a record")),
        PcapError::ReadError => {
            ReadStep::Fail(CaptureErrorKind::Io(io::Error::other("read failed")))
        }
        PcapError::HeaderNotRecognized => ReadStep::Fail(CaptureErrorKind::NotACapture),
        PcapError::NomError(_, kind) => ReadStep::Fail(CaptureErrorKind::Corrupt(format!(
            "unparsable block ({kind:?})"
        ))),
        PcapError::OwnedNomError(_, kind) => ReadStep::Fail(CaptureErrorKind::Corrupt(format!(
            "unparsable block ({kind:?})"
        ))),
    }
}

fn link_type(raw: i32) -> LinkType {
    // The upper 16 bits of a pcap link-type field carry FCS flags; the type is the low 16.
    LinkType((raw as u32 & 0xFFFF) as u16)
}

fn take_io_error(slot: &Arc<Mutex<Option<io::Error>>>) -> CaptureErrorKind {
    let taken = slot.lock().ok().and_then(|mut g| g.take());
    CaptureErrorKind::Io(taken.unwrap_or_else(|| io::Error::other("read failed")))
}

/// Reads for the parser, so that pipes work: the format sniffer needs the whole
/// file header (pcap) or section header block (pcapng) in its first read, so
/// that read is filled until the header is complete, however short the pipe's
/// reads; later reads hand over whatever has arrived, so that a live capture
/// through a pipe is analysed as it comes. Keeps the real I/O error, which the
/// parser would otherwise reduce to "read error".
///
/// pcap-parser reads twice while opening; the second read is answered with
/// nothing at once, since waiting there for a pipe's next bytes would hold
/// back the packets already received (and fail the opening on a read error).
///
/// An error that follows some bytes is held back until those bytes have been
/// parsed, and returned by the next read. So a stream that fails part-way (a
/// dropped connection, bad compressed data) still yields the packets before
/// the failure.
struct FillingReader<R> {
    inner: R,
    error: Arc<Mutex<Option<io::Error>>>,
    /// True until the parser has opened the input.
    opening: Arc<AtomicBool>,
    /// An error held back after bytes were delivered.
    pending: Option<io::Error>,
    /// Bytes delivered so far.
    delivered: u64,
    /// The first bytes delivered (up to 8), for [`starts_with_magic`].
    head: Arc<Mutex<Vec<u8>>>,
}

/// True when the input starts with a pcap or pcapng magic number.
fn starts_with_magic(head: &Arc<Mutex<Vec<u8>>>) -> bool {
    let Ok(head) = head.lock() else {
        return false;
    };
    const MAGICS: [[u8; 4]; 5] = [
        [0xd4, 0xc3, 0xb2, 0xa1],
        [0xa1, 0xb2, 0xc3, 0xd4],
        [0x4d, 0x3c, 0xb2, 0xa1],
        [0xa1, 0xb2, 0x3c, 0x4d],
        [0x0a, 0x0d, 0x0d, 0x0a],
    ];
    MAGICS.iter().any(|m| head.starts_with(m))
}

/// Bytes the format sniffer needs to see at once, judged from the first bytes:
/// a pcapng section header block's length, else the 24-byte pcap file header.
fn header_len(start: &[u8]) -> usize {
    match start {
        [0x0a, 0x0d, 0x0d, 0x0a, l0, l1, l2, l3, order, ..] => {
            let raw = [*l0, *l1, *l2, *l3];
            // The byte-order magic 0x1a2b3c4d follows the length: 0x4d first in little endian.
            let len = if *order == 0x4d {
                u32::from_le_bytes(raw)
            } else {
                u32::from_be_bytes(raw)
            };
            usize::try_from(len).unwrap_or(usize::MAX).max(12)
        }
        [0x0a, 0x0d, 0x0d, 0x0a, ..] => 12,
        _ => 24,
    }
}

impl<R: Read> Read for FillingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let first = self.delivered == 0;
        if self.opening.load(Ordering::Relaxed) && !first {
            return Ok(0);
        }
        if let Some(e) = self.pending.take() {
            return Err(e);
        }
        let mut filled = 0;
        loop {
            let wanted = if first {
                header_len(buf.get(..filled).unwrap_or_default())
            } else {
                1
            };
            if filled >= wanted.min(buf.len()) {
                break;
            }
            let Some(rest) = buf.get_mut(filled..) else {
                break;
            };
            match self.inner.read(rest) {
                Ok(0) => break,
                Ok(n) => {
                    if let Ok(mut head) = self.head.lock()
                        && head.len() < 8
                    {
                        let want = 8 - head.len();
                        head.extend(rest.iter().take(n.min(want)));
                    }
                    filled += n;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    if let Ok(mut g) = self.error.lock() {
                        *g = Some(io::Error::new(e.kind(), e.to_string()));
                    }
                    if filled > 0 {
                        // Hand over the bytes we have; the error comes back later.
                        self.delivered += filled as u64;
                        self.pending = Some(e);
                        return Ok(filled);
                    }
                    return Err(e);
                }
            }
        }
        self.delivered += filled as u64;
        Ok(filled)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pcap_header(be: bool, nanos: bool, link: u32) -> Vec<u8> {
        let magic: u32 = if nanos { 0xa1b2_3c4d } else { 0xa1b2_c3d4 };
        let mut h = Vec::new();
        let put32 = |h: &mut Vec<u8>, v: u32| {
            h.extend_from_slice(&if be { v.to_be_bytes() } else { v.to_le_bytes() })
        };
        put32(&mut h, magic);
        h.extend_from_slice(&if be {
            2u16.to_be_bytes()
        } else {
            2u16.to_le_bytes()
        });
        h.extend_from_slice(&if be {
            4u16.to_be_bytes()
        } else {
            4u16.to_le_bytes()
        });
        put32(&mut h, 0);
        put32(&mut h, 0);
        put32(&mut h, 65535);
        put32(&mut h, link);
        h
    }

    fn pcap_record(be: bool, secs: u32, frac: u32, data: &[u8], orig: u32) -> Vec<u8> {
        let mut r = Vec::new();
        for v in [secs, frac, data.len() as u32, orig] {
            r.extend_from_slice(&if be { v.to_be_bytes() } else { v.to_le_bytes() });
        }
        r.extend_from_slice(data);
        r
    }

    /// Every packet as (time, link, original length, bytes), and the error that ended the file.
    type ReadAll = (
        Vec<(Timestamp, LinkType, u32, Vec<u8>)>,
        Option<CaptureError>,
    );

    fn read_all(bytes: Vec<u8>) -> ReadAll {
        let mut reader = match CaptureReader::new(std::io::Cursor::new(bytes)) {
            Ok(r) => r,
            Err(e) => return (Vec::new(), Some(e)),
        };
        let mut out = Vec::new();
        loop {
            match reader.next_packet() {
                Ok(Some(p)) => out.push((p.ts, p.link, p.orig_len, p.data.to_vec())),
                Ok(None) => return (out, None),
                Err(e) => return (out, Some(e)),
            }
        }
    }

    #[test]
    fn classic_pcap_both_byte_orders_and_precisions() {
        for (be, nanos) in [(false, false), (true, false), (false, true), (true, true)] {
            let mut f = pcap_header(be, nanos, 1);
            f.extend(pcap_record(be, 1_327_485_600, 123, b"abc", 3));
            f.extend(pcap_record(be, 1_327_485_601, 5, b"de", 60));
            let (pkts, err) = read_all(f);
            assert!(err.is_none(), "{err:?}");
            assert_eq!(pkts.len(), 2);
            let nanos_first = if nanos { 123 } else { 123_000 };
            assert_eq!(pkts[0].0, Timestamp::from_parts(1_327_485_600, nanos_first));
            assert_eq!(
                (pkts[1].1, pkts[1].2, pkts[1].3.as_slice()),
                (LinkType::ETHERNET, 60, &b"de"[..])
            );
        }
    }

    fn block(kind: u32, body: &[u8]) -> Vec<u8> {
        let mut body = body.to_vec();
        while !body.len().is_multiple_of(4) {
            body.push(0);
        }
        let len = (body.len() + 12) as u32;
        let mut b = kind.to_le_bytes().to_vec();
        b.extend_from_slice(&len.to_le_bytes());
        b.extend_from_slice(&body);
        b.extend_from_slice(&len.to_le_bytes());
        b
    }

    fn shb() -> Vec<u8> {
        let mut body = 0x1a2b_3c4du32.to_le_bytes().to_vec();
        body.extend_from_slice(&1u16.to_le_bytes());
        body.extend_from_slice(&0u16.to_le_bytes());
        body.extend_from_slice(&(-1i64).to_le_bytes());
        block(0x0a0d_0d0a, &body)
    }

    fn idb(link: u16, tsresol: Option<u8>) -> Vec<u8> {
        let mut body = link.to_le_bytes().to_vec();
        body.extend_from_slice(&0u16.to_le_bytes());
        body.extend_from_slice(&0u32.to_le_bytes());
        if let Some(r) = tsresol {
            body.extend_from_slice(&9u16.to_le_bytes());
            body.extend_from_slice(&1u16.to_le_bytes());
            body.extend_from_slice(&[r, 0, 0, 0]);
            body.extend_from_slice(&[0, 0, 0, 0]);
        }
        block(1, &body)
    }

    fn epb(if_id: u32, units: u64, data: &[u8]) -> Vec<u8> {
        let mut body = if_id.to_le_bytes().to_vec();
        body.extend_from_slice(&((units >> 32) as u32).to_le_bytes());
        body.extend_from_slice(&(units as u32).to_le_bytes());
        body.extend_from_slice(&(data.len() as u32).to_le_bytes());
        body.extend_from_slice(&(data.len() as u32).to_le_bytes());
        body.extend_from_slice(data);
        block(6, &body)
    }

    #[test]
    fn pcapng_sections_interfaces_and_resolutions() {
        let mut f = shb();
        f.extend(idb(1, None));
        f.extend(idb(113, Some(9)));
        f.extend(epb(0, 1_000_000_123_456, b"eth"));
        f.extend(epb(1, 1_000_000_123_456_789, b"sll"));
        f.extend(epb(7, 0, b"nobody"));
        f.extend(block(0x0bad_cafe, b"unknown block"));
        // A second section resets the interfaces.
        f.extend(shb());
        f.extend(idb(101, None));
        f.extend(epb(0, 2_000_000, b"raw"));
        let (pkts, err) = read_all(f);
        assert!(err.is_none(), "{err:?}");
        let got: Vec<(i64, u16, &[u8])> = pkts
            .iter()
            .map(|p| (p.0.0, p.1.0, p.3.as_slice()))
            .collect();
        assert_eq!(
            got,
            vec![
                (1_000_000_123_456_000, 1, &b"eth"[..]),
                (1_000_000_123_456_789, 113, &b"sll"[..]),
                (2_000_000_000, 101, &b"raw"[..]),
            ]
        );
    }

    /// Gives its bytes, then fails once, then claims a clean end (as some streams do).
    struct FailsOnce {
        data: std::io::Cursor<Vec<u8>>,
        failed: bool,
    }

    impl Read for FailsOnce {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = self.data.read(buf)?;
            if n > 0 || self.failed {
                return Ok(n);
            }
            self.failed = true;
            Err(io::Error::new(
                io::ErrorKind::ConnectionReset,
                "peer went away",
            ))
        }
    }

    #[test]
    fn a_stream_failing_part_way_yields_the_packets_before_the_failure() {
        let mut f = pcap_header(false, false, 1);
        f.extend(pcap_record(false, 1, 0, b"first", 5));
        f.extend(pcap_record(false, 2, 0, b"second", 6));
        let whole = f.len() as u64;
        f.extend_from_slice(&pcap_record(false, 3, 0, b"third", 5)[..7]);
        let mut reader = CaptureReader::new(FailsOnce {
            data: std::io::Cursor::new(f),
            failed: false,
        })
        .expect("the header was read before the failure");
        let mut seen = 0;
        let err = loop {
            match reader.next_packet() {
                Ok(Some(_)) => seen += 1,
                Ok(None) => panic!("a failed stream must not end cleanly"),
                Err(e) => break e,
            }
        };
        assert_eq!(seen, 2);
        assert_eq!(err.offset, whole);
        assert!(err.to_string().contains("peer went away"), "{err}");
    }

    /// Hands over one byte per read, like the slowest pipe.
    struct Trickle(std::io::Cursor<Vec<u8>>);

    impl Read for Trickle {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = buf.len().min(1);
            self.0.read(&mut buf[..n])
        }
    }

    #[test]
    fn one_byte_reads_open_and_stream_both_formats() {
        let mut ng = shb();
        ng.extend(idb(1, None));
        ng.extend(epb(0, 5_000_000, b"first"));
        ng.extend(epb(0, 6_000_000, b"second"));
        let mut pcap = pcap_header(false, false, 1);
        pcap.extend(pcap_record(false, 5, 0, b"first", 5));
        pcap.extend(pcap_record(false, 6, 0, b"second", 6));
        for bytes in [ng, pcap] {
            let mut reader = CaptureReader::new(Trickle(std::io::Cursor::new(bytes))).unwrap();
            let mut got = Vec::new();
            while let Some(p) = reader.next_packet().unwrap() {
                got.push(p.data.to_vec());
            }
            assert_eq!(got, vec![b"first".to_vec(), b"second".to_vec()]);
        }
        assert_eq!(header_len(&[]), 24);
        assert_eq!(header_len(&[0x0a, 0x0d, 0x0d, 0x0a]), 12);
        assert_eq!(header_len(&shb()), shb().len());
    }

    #[test]
    fn damaged_inputs_are_errors_with_offsets() {
        let (_, err) = read_all(Vec::new());
        assert!(matches!(err.unwrap().kind, CaptureErrorKind::Empty));
        let (_, err) = read_all(b"hello, this is not a capture at all".to_vec());
        assert!(matches!(err.unwrap().kind, CaptureErrorKind::NotACapture));
        let (_, err) = read_all(pcap_header(false, false, 1)[..10].to_vec());
        assert!(matches!(
            err.unwrap().kind,
            CaptureErrorKind::Truncated(_) | CaptureErrorKind::NotACapture
        ));

        // A cut last record: the complete packets come first, then the error.
        let mut f = pcap_header(false, false, 1);
        f.extend(pcap_record(false, 1, 0, b"whole", 5));
        let cut = pcap_record(false, 2, 0, b"cut short", 9);
        f.extend_from_slice(&cut[..20]);
        let (pkts, err) = read_all(f);
        assert_eq!(pkts.len(), 1);
        let err = err.unwrap();
        assert!(
            matches!(err.kind, CaptureErrorKind::TruncatedRecord { .. }),
            "{err}"
        );
        assert_eq!(err.offset, 24 + 16 + 5);

        // A corrupt record length far beyond the file: an error, not a 4 GiB allocation.
        let mut f = pcap_header(false, false, 1);
        f.extend(pcap_record(false, 1, 0, b"ok", 2));
        let mut bad = pcap_record(false, 2, 0, b"x", 1);
        bad[8..12].copy_from_slice(&0xffff_fff0u32.to_le_bytes());
        f.extend(bad);
        let (pkts, err) = read_all(f);
        assert_eq!(pkts.len(), 1);
        let err = err.unwrap();
        assert!(
            matches!(err.kind, CaptureErrorKind::RecordTooLarge { .. }),
            "{err}"
        );
        assert_eq!(err.offset, 24 + 16 + 2);
    }

    fn simple_ng(packets: usize) -> Vec<u8> {
        let mut f = shb();
        f.extend(idb(1, None));
        for i in 0..packets {
            f.extend(epb(0, i as u64, &[0xab; 60]));
        }
        f
    }

    #[test]
    fn pcapng_cut_inside_the_section_header_is_a_cut_header() {
        let f = shb();
        for cut in [4, 11, 20, f.len() - 1] {
            let (pkts, err) = read_all(f[..cut].to_vec());
            assert!(pkts.is_empty());
            let err = err.unwrap();
            assert_eq!(err.offset, 0);
            assert!(
                matches!(err.kind, CaptureErrorKind::Truncated("the file header")),
                "cut at {cut}: {err}"
            );
        }
        // Too short even for the magic: not a capture we can recognise.
        let (_, err) = read_all(f[..3].to_vec());
        assert!(err.is_some());
        // A few bytes of text (a short README in a folder): not a capture, not a cut one.
        for text in [&b"hi\n"[..], b"ok", b"notes"] {
            let (_, err) = read_all(text.to_vec());
            let err = err.expect("an error");
            assert!(matches!(err.kind, CaptureErrorKind::NotACapture), "{err}");
        }
    }

    #[test]
    fn pcapng_cut_inside_a_block_header_or_a_packet() {
        let whole = simple_ng(2);
        let first_two = shb().len() + idb(1, None).len() + epb(0, 0, &[0; 60]).len();
        // Inside the second EPB's type/length words.
        let (pkts, err) = read_all(whole[..first_two + 6].to_vec());
        assert_eq!(pkts.len(), 1);
        let err = err.unwrap();
        assert_eq!(err.offset, first_two as u64);
        assert!(
            matches!(err.kind, CaptureErrorKind::Truncated("a block header")),
            "{err}"
        );
        // Inside its packet data.
        let (pkts, err) = read_all(whole[..first_two + 40].to_vec());
        assert_eq!(pkts.len(), 1);
        let err = err.unwrap();
        assert_eq!(err.offset, first_two as u64);
        assert!(
            matches!(
                err.kind,
                CaptureErrorKind::TruncatedRecord {
                    declared: 92,
                    present: 40
                }
            ),
            "{err}"
        );
        assert!(
            err.to_string()
                .contains("92-byte record (40 bytes present)")
        );
    }

    #[test]
    fn classic_pcap_cut_inside_a_record_header_or_a_packet() {
        let mut f = pcap_header(false, false, 1);
        f.extend(pcap_record(false, 1, 0, &[1; 60], 60));
        let rec = pcap_record(false, 2, 0, &[2; 60], 60);
        let mut cut_header = f.clone();
        cut_header.extend_from_slice(&rec[..8]);
        let (pkts, err) = read_all(cut_header);
        assert_eq!(pkts.len(), 1);
        let err = err.unwrap();
        assert_eq!(err.offset, 24 + 76);
        assert!(
            matches!(err.kind, CaptureErrorKind::Truncated("a record header")),
            "{err}"
        );
        f.extend_from_slice(&rec[..30]);
        let (_, err) = read_all(f);
        assert!(matches!(
            err.unwrap().kind,
            CaptureErrorKind::TruncatedRecord {
                declared: 76,
                present: 30
            }
        ));
    }

    #[test]
    fn pcapng_corrupt_block_lengths() {
        let good = simple_ng(1);
        // A length far beyond the file and the record limit.
        let mut bad = epb(0, 1, &[0; 60]);
        bad[4..8].copy_from_slice(&0x7fff_fff0u32.to_le_bytes());
        let mut f = good.clone();
        f.extend(bad);
        let (pkts, err) = read_all(f);
        assert_eq!(pkts.len(), 1);
        let err = err.unwrap();
        assert_eq!(err.offset, good.len() as u64);
        assert!(
            matches!(err.kind, CaptureErrorKind::RecordTooLarge { .. }),
            "{err}"
        );
        // A length that is not a multiple of 4 (or that disagrees with the trailer).
        for len in [13u32, 8, 96] {
            let mut bad = epb(0, 1, &[0; 60]);
            bad[4..8].copy_from_slice(&len.to_le_bytes());
            let mut f = good.clone();
            f.extend(bad);
            f.extend(epb(0, 2, &[0; 60]));
            let (pkts, err) = read_all(f);
            assert_eq!(pkts.len(), 1, "length {len}");
            let err = err.expect("an error");
            assert_eq!(err.offset, good.len() as u64, "length {len}: {err}");
        }
    }

    #[test]
    fn a_packet_block_whose_captured_length_exceeds_it_is_skipped() {
        for big_endian in [false, true] {
            let mut f = simple_ng(3);
            let at = f.len();
            let mut bad = epb(0, 9, &[0xcd; 60]);
            let whole = bad.len() as u32;
            bad[20..24].copy_from_slice(&whole.to_le_bytes());
            f.extend(bad);
            f.extend(simple_ng(0).get(shb().len()..).unwrap()); // another interface
            f.extend(epb(0, 10, b"after"));
            f.extend(epb(0, 11, b"after too"));
            let f = if big_endian { to_big_endian(&f) } else { f };
            // Whole, and a byte at a time: the same packets, the damage counted.
            let (pkts, err) = read_all(f.clone());
            assert!(err.is_none(), "{err:?}");
            assert_eq!(pkts.len(), 5, "big endian {big_endian}");
            assert_eq!(pkts[3].3, b"after");
            let mut reader = CaptureReader::new(Trickle(std::io::Cursor::new(f.clone()))).unwrap();
            let mut n = 0;
            while reader.next_packet().unwrap().is_some() {
                n += 1;
            }
            assert_eq!(n, 5);
            let c = reader.counters();
            assert_eq!(
                (c.damaged_blocks, c.first_damaged_block),
                (1, Some(at as u64))
            );
            // Lengths that disagree at the block's two ends: the framing is lost.
            let mut g = f.clone();
            g[at + 92 - 4] ^= 0x40;
            let (pkts, err) = read_all(g);
            assert_eq!(pkts.len(), 3);
            let err = err.expect("an error");
            assert_eq!(err.offset, at as u64);
            assert!(matches!(err.kind, CaptureErrorKind::Corrupt(_)), "{err}");
        }
    }

    /// A little-endian pcapng of the blocks above, in big-endian byte order.
    fn to_big_endian(le: &[u8]) -> Vec<u8> {
        let mut out = le.to_vec();
        let mut at = 0;
        while at + 12 <= le.len() {
            let kind = u32::from_le_bytes(le[at..at + 4].try_into().unwrap());
            let len = u32::from_le_bytes(le[at + 4..at + 8].try_into().unwrap()) as usize;
            let words: &[usize] = match kind {
                0x0a0d_0d0a => &[0, 4, 8, len - 4],
                1 => &[0, 4, 12, len - 4],
                6 => &[0, 4, 8, 12, 16, 20, 24, len - 4],
                _ => &[0, 4, len - 4],
            };
            for &w in words {
                out[at + w..at + w + 4].reverse();
            }
            if kind == 1 {
                out[at + 8..at + 10].reverse(); // link type (u16)
            }
            if kind == 0x0a0d_0d0a {
                out[at + 12..at + 14].reverse(); // major version
                out[at + 14..at + 16].reverse(); // minor version
                out[at + 16..at + 24].reverse(); // section length
            }
            at += len;
        }
        out
    }

    #[test]
    fn pcapng_interfaces_are_capped_per_section() {
        let mut f = shb();
        let one = idb(1, None);
        f.reserve(one.len() * (MAX_INTERFACES + 10));
        for _ in 0..MAX_INTERFACES + 10 {
            f.extend_from_slice(&one);
        }
        // A packet on the last kept interface, and one on an ignored one.
        f.extend(epb(MAX_INTERFACES as u32 - 1, 5, b"kept"));
        f.extend(epb(MAX_INTERFACES as u32 + 3, 6, b"dropped"));
        let mut reader = CaptureReader::new(std::io::Cursor::new(f)).unwrap();
        let mut got = Vec::new();
        while let Some(p) = reader.next_packet().unwrap() {
            got.push(p.data.to_vec());
        }
        assert_eq!(got, vec![b"kept".to_vec()]);
        assert_eq!(
            reader.counters(),
            crate::capture::ReaderCounters {
                unknown_interface_packets: 1,
                interfaces_over_cap: 10,
                ..Default::default()
            }
        );
        assert_eq!(reader.blocks.interfaces.len(), MAX_INTERFACES);
        // A new section starts a new table.
        let mut g = shb();
        g.extend(idb(1, None));
        g.extend(epb(0, 1, b"x"));
        let (pkts, err) = read_all(g);
        assert!(err.is_none());
        assert_eq!(pkts.len(), 1);
    }

    #[test]
    fn pcapng_unknown_block_types_are_skipped() {
        let mut f = shb();
        f.extend(idb(1, None));
        f.extend(block(0x0bad_cafe, b"unknown"));
        f.extend(block(0x8000_0001, &[0; 64])); // a local-use block type
        f.extend(epb(0, 5, b"after"));
        let (pkts, err) = read_all(f);
        assert!(err.is_none(), "{err:?}");
        assert_eq!(pkts.len(), 1);
        assert_eq!(pkts[0].3, b"after");
    }

    #[test]
    fn endless_zeros_are_refused_after_one_buffer() {
        // /dev/zero as input: the magic check fails on the first read.
        let zeros = std::io::Read::take(std::io::repeat(0), 1 << 40);
        let err = CaptureReader::new(zeros).err().expect("refused");
        assert_eq!(err.offset, 0);
        assert!(matches!(err.kind, CaptureErrorKind::NotACapture));
    }

    #[test]
    fn a_directory_is_a_read_error_at_offset_zero() {
        let dir = std::env::temp_dir();
        let err = match super::super::open_file(&dir) {
            Err(e) => e,
            Ok(_) => panic!("a directory opened as a capture"),
        };
        assert_eq!(err.offset, 0);
        assert!(matches!(err.kind, CaptureErrorKind::Io(_)), "{err}");
    }
}
