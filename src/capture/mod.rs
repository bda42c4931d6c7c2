//! Packet sources: capture files (pcap and pcapng, pure Rust) and, with the
//! `live` feature, network interfaces (libpcap, in [`live`]).
//!
//! In: a byte stream or an interface. Out: [`Packet`]s, each borrowing the
//! reader's buffer until the next call. A source never invents bytes: `data`
//! holds exactly the captured bytes (`caplen`), and `orig_len` says how long
//! the packet was on the wire.
mod file;
#[cfg(feature = "live")]
pub mod live;

pub use file::{CaptureReader, Format};

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
    /// The input ends inside a header or record.
    #[error("truncated: the file ends inside {0}")]
    Truncated(&'static str),
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

/// Opens a capture file for streaming.
pub fn open_file(path: &std::path::Path) -> Result<CaptureReader, CaptureError> {
    let file = std::fs::File::open(path).map_err(|e| CaptureError {
        offset: 0,
        kind: CaptureErrorKind::Io(e),
    })?;
    CaptureReader::new(file)
}

/// Counters of a live capture, as libpcap reports them (`pcap_stats`), for the summary.
///
/// libpcap's own counters are 32-bit and wrap; these are kept in 64 bits.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
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
