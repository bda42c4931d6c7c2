//! Streaming reader for classic pcap (both byte orders, µs and ns) and pcapng
//! (several sections, several interfaces with their own link types and
//! timestamp resolutions), over any [`Read`]. Memory is one buffer, grown only
//! for a record larger than it, up to [`MAX_RECORD`].
use std::io::{self, Read};
use std::sync::{Arc, Mutex};

use pcap_parser::pcapng::Block;
use pcap_parser::traits::PcapNGPacketBlock;
use pcap_parser::traits::PcapReaderIterator;
use pcap_parser::{PcapBlockOwned, PcapError};

use super::{CaptureError, CaptureErrorKind, LinkType, Packet, PacketSource};
use crate::time::Timestamp;

/// Initial reader buffer: big reads are the fastest way through a page-cached file.
const BUFFER_SIZE: usize = 1 << 20;
/// The largest record (pcap record or pcapng block) accepted; larger means corrupt.
pub const MAX_RECORD: usize = 16 << 20;

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
    Packet { start: usize, len: usize, ts: Timestamp, link: LinkType, orig_len: u32 },
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
    /// pcapng: the interfaces of the current section.
    interfaces: Vec<Interface>,
    /// Last timestamp seen (simple packet blocks have none of their own).
    last_ts: Timestamp,
    /// Packets on an interface the section did not describe (skipped).
    unknown_interface_packets: u64,
}

impl CaptureReader {
    /// Recognises the format from the first bytes and prepares to stream.
    pub fn new<R: Read + Send + 'static>(reader: R) -> Result<Self, CaptureError> {
        let io_error = Arc::new(Mutex::new(None));
        let full = FillingReader { inner: reader, error: Arc::clone(&io_error) };
        let inner = match pcap_parser::create_reader(BUFFER_SIZE, full) {
            Ok(r) => r,
            Err(e) => {
                let kind = match e {
                    PcapError::Eof => CaptureErrorKind::Empty,
                    PcapError::Incomplete(_) | PcapError::UnexpectedEof => {
                        CaptureErrorKind::Truncated("the file header")
                    }
                    PcapError::ReadError => take_io_error(&io_error),
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
                interfaces: Vec::new(),
                last_ts: Timestamp::default(),
                unknown_interface_packets: 0,
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

    fn error(&self, kind: CaptureErrorKind) -> CaptureError {
        CaptureError { offset: self.position(), kind }
    }
}

impl BlockState {
    /// Interprets one block; returns only owned facts and offsets into `base`.
    fn classify(&mut self, block: PcapBlockOwned<'_>, base: usize) -> Result<Step, CaptureErrorKind> {
        let offset_of = |data: &[u8]| (data.as_ptr() as usize).wrapping_sub(base);
        match block {
            PcapBlockOwned::LegacyHeader(hdr) => {
                self.format = Format::Pcap;
                self.legacy_link = link_type(hdr.network.0);
                self.legacy_nanos = hdr.is_nanosecond_precision();
                Ok(Step::Skip)
            }
            PcapBlockOwned::Legacy(rec) => {
                let nanos = if self.legacy_nanos { rec.ts_usec } else { rec.ts_usec.saturating_mul(1000) };
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
            PcapBlockOwned::NG(Block::SectionHeader(_)) => {
                self.format = Format::PcapNg;
                self.interfaces.clear();
                Ok(Step::Skip)
            }
            PcapBlockOwned::NG(Block::InterfaceDescription(idb)) => {
                let units_per_sec = idb.ts_resolution().filter(|u| *u > 0).unwrap_or(1_000_000);
                self.interfaces.push(Interface {
                    link: link_type(idb.linktype.0),
                    units_per_sec,
                    offset_secs: idb.ts_offset(),
                });
                Ok(Step::Skip)
            }
            PcapBlockOwned::NG(Block::EnhancedPacket(epb)) => {
                let Some(iface) = usize::try_from(epb.if_id).ok().and_then(|i| self.interfaces.get(i)).copied()
                else {
                    self.unknown_interface_packets += 1;
                    return Ok(Step::Skip);
                };
                let units = (u64::from(epb.ts_high) << 32) | u64::from(epb.ts_low);
                let secs = i64::try_from(units / iface.units_per_sec).unwrap_or(i64::MAX);
                let frac = u128::from(units % iface.units_per_sec) * 1_000_000_000 / u128::from(iface.units_per_sec);
                let ts = Timestamp::from_parts(secs.saturating_add(iface.offset_secs), u32::try_from(frac).unwrap_or(0));
                self.last_ts = ts;
                let data = epb.packet_data();
                Ok(Step::Packet { start: offset_of(data), len: data.len(), ts, link: iface.link, orig_len: epb.origlen })
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
            PcapBlockOwned::NG(_) => Ok(Step::Skip),
        }
    }
}

impl PacketSource for CaptureReader {
    fn next_packet(&mut self) -> Result<Option<Packet<'_>>, CaptureError> {
        if self.pending_consume > 0 {
            self.inner.consume(self.pending_consume);
            self.pending_consume = 0;
        }
        if self.finished {
            return Ok(None);
        }
        loop {
            let base = self.inner.data().as_ptr() as usize;
            // Parse one block into owned facts so that the buffer borrow ends here.
            let parsed = match self.inner.next() {
                Ok((used, block)) => Ok((used, self.blocks.classify(block, base))),
                Err(e) => Err(owned_error(e)),
            };
            match parsed {
                Ok((used, Ok(Step::Skip))) => self.inner.consume(used),
                Ok((used, Ok(Step::Packet { start, len, ts, link, orig_len }))) => {
                    let end = start.checked_add(len);
                    let data = end.and_then(|end| self.inner.data().get(start..end));
                    let Some(data) = data else {
                        self.finished = true;
                        return Err(self.error(CaptureErrorKind::Corrupt("packet outside its block".into())));
                    };
                    self.pending_consume = used;
                    return Ok(Some(Packet { ts, link, orig_len, data }));
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
                    let size = self.inner.data().len().max(BUFFER_SIZE).saturating_mul(2);
                    if size > MAX_RECORD || !self.inner.grow(size) {
                        self.finished = true;
                        return Err(self.error(CaptureErrorKind::BadLength {
                            what: "record",
                            len: size as u64,
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
                    return Err(self.error(kind));
                }
            }
        }
    }

    fn position(&self) -> u64 {
        (self.inner.consumed() + self.pending_consume) as u64
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
        PcapError::ReadError => ReadStep::Fail(CaptureErrorKind::Io(io::Error::other("read failed"))),
        PcapError::HeaderNotRecognized => ReadStep::Fail(CaptureErrorKind::NotACapture),
        PcapError::NomError(_, kind) => ReadStep::Fail(CaptureErrorKind::Corrupt(format!("unparsable block ({kind:?})"))),
        PcapError::OwnedNomError(_, kind) => {
            ReadStep::Fail(CaptureErrorKind::Corrupt(format!("unparsable block ({kind:?})")))
        }
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

/// Fills the caller's buffer as far as the input allows (pipes return short
/// reads; the format sniffer needs a whole header in its first read) and keeps
/// the real I/O error, which the parser would otherwise reduce to "read error".
struct FillingReader<R> {
    inner: R,
    error: Arc<Mutex<Option<io::Error>>>,
}

impl<R: Read> Read for FillingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let mut filled = 0;
        while filled < buf.len() {
            let Some(rest) = buf.get_mut(filled..) else { break };
            match self.inner.read(rest) {
                Ok(0) => break,
                Ok(n) => filled += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    if filled > 0 {
                        // Report the bytes we have; the error comes back on the next call.
                        let kind = e.kind();
                        if let Ok(mut g) = self.error.lock() {
                            *g = Some(io::Error::new(kind, e.to_string()));
                        }
                        return Ok(filled);
                    }
                    let copy = io::Error::new(e.kind(), e.to_string());
                    if let Ok(mut g) = self.error.lock() {
                        *g = Some(copy);
                    }
                    return Err(e);
                }
            }
        }
        Ok(filled)
    }
}
