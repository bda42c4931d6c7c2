//! Packet sources: capture files (pcap and pcapng, pure Rust), plain or
//! compressed (gzip, zstd), from a path or standard input, and, with the
//! `live` feature, network interfaces (libpcap, in [`live`]).
//!
//! [`open`] is the one entry point for inputs: it recognises compression and
//! format by magic bytes and streams.
//!
//! In: a byte stream or an interface. Out: [`Packet`]s, each borrowing the
//! reader's buffer until the next call. A source never invents bytes: `data`
//! holds exactly the captured bytes (`caplen`), and `orig_len` says how long
//! the packet was on the wire.
pub mod blocks;
mod file;
mod input;
#[cfg(feature = "live")]
pub mod live;

pub use blocks::{BlockData, BlockSource, CopiedBlocks, PacketBlock, PacketRef, PcapBlocks};
pub use file::{CaptureReader, Format};
pub use input::{Capture, Compression, DecompressError, Input, open, open_reader};

use std::fmt;

use serde::Serialize;

use crate::time::Timestamp;

/// A link-layer header type, as numbered by tcpdump.org's LINKTYPE_ registry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LinkType(pub u16);

impl LinkType {
    /// BSD loopback: 4-byte address family in host byte order.
    pub const NULL: LinkType = LinkType(0);
    /// Ethernet II (with optional 802.1Q / 802.1ad tags).
    pub const ETHERNET: LinkType = LinkType(1);
    /// Raw IP (OpenBSD numbering).
    pub const RAW_OPENBSD: LinkType = LinkType(12);
    /// Raw IP (some BSDs).
    pub const RAW_BSD: LinkType = LinkType(14);
    /// Raw IPv4 or IPv6, told apart by the version nibble.
    pub const RAW: LinkType = LinkType(101);
    /// OpenBSD loopback: 4-byte address family in network byte order.
    pub const LOOP: LinkType = LinkType(108);
    /// Linux cooked capture v1 (`-i any`).
    pub const LINUX_SLL: LinkType = LinkType(113);
    /// Raw IPv4.
    pub const IPV4: LinkType = LinkType(228);
    /// Raw IPv6.
    pub const IPV6: LinkType = LinkType(229);
    /// Linux cooked capture v2.
    pub const LINUX_SLL2: LinkType = LinkType(276);
}

impl fmt::Display for LinkType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// One captured packet, borrowed from the source.
#[derive(Debug, Clone, Copy)]
pub struct Packet<'a> {
    /// Capture time.
    pub ts: Timestamp,
    /// How to read `data`.
    pub link: LinkType,
    /// Length of the packet on the wire (may exceed `data.len()`).
    pub orig_len: u32,
    /// The captured bytes.
    pub data: &'a [u8],
}

/// Why a capture could not be read (further).
#[derive(Debug, thiserror::Error)]
pub enum CaptureErrorKind {
    /// The input is empty.
    #[error("empty file")]
    Empty,
    /// The first bytes are neither a pcap nor a pcapng header.
    #[error("not a pcap or pcapng capture (unrecognised magic bytes)")]
    NotACapture,
    /// The input ends inside a header (the file header, a record or block header).
    #[error("truncated: the file ends inside {0}")]
    Truncated(&'static str),
    /// The input ends inside a record (pcap) or block (pcapng) whose header was read.
    #[error("truncated: the file ends inside a {declared}-byte record ({present} bytes present)")]
    TruncatedRecord {
        /// Bytes the record's header announced (header included).
        declared: u64,
        /// Bytes of it present in the file.
        present: u64,
    },
    /// A record claims to be larger than the reader accepts.
    #[error("a record is larger than {limit} bytes (corrupt length field?)")]
    RecordTooLarge {
        /// The largest record accepted.
        limit: u64,
    },
    /// Any other structural problem.
    #[error("corrupt capture: {0}")]
    Corrupt(String),
    /// Reading failed.
    #[error("read error: {0}")]
    Io(#[from] std::io::Error),
    /// The input is compressed and its compressed data is corrupt or cut short.
    #[error("{0}")]
    Decompress(DecompressError),
    /// The input is compressed in a format this build was made without.
    #[error("{0}-compressed input, but this build reads no {0} (rebuild with the `{0}` feature)")]
    CompressionNotBuilt(&'static str),
}

/// A capture error with the byte offset where it was found.
#[derive(Debug, thiserror::Error)]
#[error("at byte offset {offset}: {kind}")]
pub struct CaptureError {
    /// Offset from the start of the input.
    pub offset: u64,
    /// What went wrong.
    pub kind: CaptureErrorKind,
}

/// Opens a capture file for streaming (compressed or not). Prefer [`open`],
/// which also reads standard input and explains damaged compressed data.
pub fn open_file(path: &std::path::Path) -> Result<CaptureReader, CaptureError> {
    open(&Input::Path(path.to_path_buf())).map(Capture::into_reader)
}

/// Opens an input as blocks of packets for the parallel analysis: a plain
/// classic-pcap file is read in shared blocks without copying packets; any
/// other input (pcapng, compressed, standard input) through [`open`], its
/// packets copied into blocks. Also says how the input was compressed.
pub fn open_blocks(
    input: &Input,
) -> Result<(Box<dyn BlockSource + Send>, Compression), CaptureError> {
    use std::io::Read;
    if let Input::Path(path) = input {
        let io = |e| CaptureError {
            offset: 0,
            kind: CaptureErrorKind::Io(e),
        };
        let mut magic = Vec::with_capacity(4);
        std::fs::File::open(path)
            .map_err(io)?
            .take(4)
            .read_to_end(&mut magic)
            .map_err(io)?;
        let classic = <[u8; 4]>::try_from(magic.as_slice()).is_ok_and(|m| {
            matches!(
                u32::from_le_bytes(m),
                0xa1b2_c3d4 | 0xd4c3_b2a1 | 0xa1b2_3c4d | 0x4d3c_b2a1
            )
        });
        if classic {
            let file = std::fs::File::open(path).map_err(io)?;
            return Ok((Box::new(PcapBlocks::new(file)), Compression::None));
        }
    }
    let capture = open(input)?;
    let compression = capture.compression();
    Ok((Box::new(CopiedBlocks::new(capture)), compression))
}

/// Counters of a live capture, as libpcap reports them (`pcap_stats`), for the summary.
///
/// libpcap's own counters are 32-bit and wrap; these are kept in 64 bits.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(default)]
pub struct CaptureStats {
    /// The interface captured on.
    pub interface: String,
    /// Packets the kernel passed to the capture (after the filter; on Linux a
    /// loopback packet is counted once per direction).
    pub received: u64,
    /// Packets dropped because the capture buffer was full (the reader fell
    /// behind; see `--buffer-size`).
    pub dropped_kernel: u64,
    /// Packets dropped by the interface or its driver (0 where not reported).
    pub dropped_interface: u64,
}

/// Anything that yields packets: a capture file or a live interface.
pub trait PacketSource {
    /// The next packet, `Ok(None)` at a clean end of input.
    fn next_packet(&mut self) -> Result<Option<Packet<'_>>, CaptureError>;
    /// Bytes of input consumed so far (for progress and error offsets).
    fn position(&self) -> u64;
}
