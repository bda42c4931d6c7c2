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
pub mod mapped;
mod secrets;

pub use blocks::{
    BlockBuilder, BlockData, BlockPackets, BlockSource, CopiedBlocks, PacketBlock, PacketRef,
    PcapBlocks,
};
pub use file::{CaptureReader, Format, MAX_INTERFACES, MAX_RECORD};
pub use input::{Capture, Compression, DecompressError, Input, Opened, open, open_reader};
pub use mapped::{MappedPackets, MappedPcap};
pub use secrets::{KeyLogFollower, MAX_SECRETS_BYTES, Secrets, SecretsInbox, SecretsOrigin};

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
    /// Cisco HDLC: address, control, EtherType.
    pub const C_HDLC: LinkType = LinkType(104);
    /// IEEE 802.11 frames without a capture header.
    pub const IEEE802_11: LinkType = LinkType(105);
    /// OpenBSD loopback: 4-byte address family in network byte order.
    pub const LOOP: LinkType = LinkType(108);
    /// Linux cooked capture v1 (`-i any`).
    pub const LINUX_SLL: LinkType = LinkType(113);
    /// IEEE 802.11 frames after a radiotap header (monitor mode).
    pub const IEEE802_11_RADIOTAP: LinkType = LinkType(127);
    /// Linux ARCNET (ATA 878.1 with a 2-byte offset field).
    pub const ARCNET_LINUX: LinkType = LinkType(129);
    /// Raw IPv4.
    pub const IPV4: LinkType = LinkType(228);
    /// Raw IPv6.
    pub const IPV6: LinkType = LinkType(229);
    /// Linux netfilter NFLOG records.
    pub const NFLOG: LinkType = LinkType(239);
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
    #[error("read error: {}", human_io(.0))]
    Io(#[from] std::io::Error),
    /// The input is compressed and its compressed data is corrupt or cut short.
    #[error("{0}")]
    Decompress(DecompressError),
    /// The input is compressed in a format this build was made without.
    #[error("{0}-compressed input, but this build reads no {0} (rebuild with the `{0}` feature)")]
    CompressionNotBuilt(&'static str),
}

impl CaptureErrorKind {
    /// True when the input simply ended inside its last record (or its
    /// compressed data ended early): a capture still being written, or one
    /// whose writer was killed. Every packet before the cut was read. Any other
    /// problem (a corrupt length, a read error, corrupt compressed data) stops
    /// reading before the end of the input.
    pub fn is_cut_short(&self) -> bool {
        match self {
            CaptureErrorKind::Truncated(_) | CaptureErrorKind::TruncatedRecord { .. } => true,
            CaptureErrorKind::Decompress(d) => d.is_cut_short(),
            _ => false,
        }
    }
}

/// An I/O error as people read it: the system's message without the
/// `(os error N)` suffix Rust adds.
pub fn human_io(e: &std::io::Error) -> String {
    strip_os_error(&e.to_string())
}

/// Removes every ` (os error N)` from a message.
pub fn strip_os_error(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    while let Some(at) = rest.find(" (os error ") {
        let (before, after) = rest.split_at(at);
        out.push_str(before);
        let tail = &after[" (os error ".len()..];
        let digits = tail.bytes().take_while(u8::is_ascii_digit).count();
        if digits > 0 && tail[digits..].starts_with(')') {
            rest = &tail[digits + 1..];
        } else {
            out.push_str(" (os error ");
            rest = tail;
        }
    }
    out.push_str(rest);
    out
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
    Opened::open(input, None)?.into_blocks()
}

impl Opened {
    /// Blocks of packets for the parallel analysis (see [`open_blocks`]): the
    /// input is not opened again, its first bytes come from the buffer.
    pub fn into_blocks(self) -> Result<(Box<dyn BlockSource + Send>, Compression), CaptureError> {
        if self.is_classic_pcap() {
            return Ok((
                Box::new(PcapBlocks::new(self.into_stream())),
                Compression::None,
            ));
        }
        let capture = self.into_capture()?;
        let compression = capture.compression();
        Ok((Box::new(CopiedBlocks::new(capture)), compression))
    }
}

/// `scan -f FILTER`: a tcpdump-syntax filter on each packet's outermost
/// frame. It needs libpcap's compiler: built with the `live` feature only;
/// without it [`PacketFilter::new`] says so.
pub struct PacketFilter {
    #[cfg(feature = "live")]
    inner: live::FrameFilter,
    /// Packets tested, and of those the ones that passed.
    tested: u64,
    passed: u64,
}

impl PacketFilter {
    /// Compiles `expression`; the error is a message for the user.
    pub fn new(expression: &str) -> Result<PacketFilter, String> {
        #[cfg(feature = "live")]
        {
            live::FrameFilter::new(expression)
                .map(|inner| PacketFilter {
                    inner,
                    tested: 0,
                    passed: 0,
                })
                .map_err(|e| e.to_string())
        }
        #[cfg(not(feature = "live"))]
        {
            Err(format!(
                "-f {expression:?}: filtering needs libpcap's filter compiler, and this binary \
                 was built without the `live` cargo feature; rebuild with `cargo build --release \
                 --features live` (needs libpcap-dev), or filter first: \
                 tcpdump -r FILE -w - 'FILTER' | phoneleak scan -"
            ))
        }
    }

    /// True when the packet passes.
    pub fn matches(&mut self, packet: &Packet<'_>) -> bool {
        #[cfg(feature = "live")]
        let pass = self.inner.matches(packet);
        #[cfg(not(feature = "live"))]
        let pass = {
            let _ = packet;
            true
        };
        self.tested += 1;
        self.passed += u64::from(pass);
        pass
    }

    /// Packets tested and passed so far.
    pub fn counts(&self) -> (u64, u64) {
        (self.tested, self.passed)
    }

    /// Link types the expression could not be compiled for (their packets did
    /// not pass), with libpcap's reason.
    pub fn failures(&self) -> Vec<(LinkType, String)> {
        #[cfg(feature = "live")]
        {
            self.inner.failures()
        }
        #[cfg(not(feature = "live"))]
        {
            Vec::new()
        }
    }
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

/// What a capture reader skipped on its own, for the warnings after a file.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReaderCounters {
    /// pcapng packets on an interface their section never described.
    pub unknown_interface_packets: u64,
    /// pcapng Interface Description Blocks ignored beyond
    /// [`MAX_INTERFACES`] per section (their packets are then on an
    /// unknown interface).
    pub interfaces_over_cap: u64,
    /// pcapng Decryption Secrets Blocks read (their secrets go to the run).
    pub secrets_blocks: u64,
    /// Decryption Secrets Blocks skipped past [`MAX_SECRETS_BYTES`].
    pub secrets_over_cap: u64,
    /// pcapng Enhanced Packet Blocks whose captured length exceeds their own
    /// block while the block's total length is sound (the same at both ends):
    /// damage, skipped block by block so reading goes on after them.
    pub damaged_blocks: u64,
    /// Input offset of the first of [`Self::damaged_blocks`].
    pub first_damaged_block: Option<u64>,
}

/// Anything that yields packets: a capture file or a live interface.
pub trait PacketSource {
    /// The next packet, `Ok(None)` at a clean end of input.
    fn next_packet(&mut self) -> Result<Option<Packet<'_>>, CaptureError>;
    /// Bytes of input consumed so far (for progress and error offsets).
    fn position(&self) -> u64;
    /// What the reader skipped so far.
    fn counters(&self) -> ReaderCounters {
        ReaderCounters::default()
    }
    /// Where the reader leaves the decryption secrets it finds (pcapng
    /// Decryption Secrets Blocks); `None` for sources that carry none.
    fn secrets(&self) -> Option<SecretsInbox> {
        None
    }
}
