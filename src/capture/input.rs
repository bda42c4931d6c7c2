//! Opening inputs: a file or standard input, plain or compressed.
//!
//! [`open`] reads the first bytes of the input and recognises gzip (`1f 8b`)
//! and zstd (`28 b5 2f fd`) by their magic bytes, whatever the file is called;
//! the decompressed bytes then go to [`CaptureReader`], which recognises pcap
//! or pcapng the same way. Everything streams: standard input is never
//! buffered whole, copied to a temporary file or seeked.
//!
//! When the compressed data turns out corrupt or cut part-way, the packets
//! before the damage have been returned; the error says where the
//! decompressed capture stopped and how far the compressed input had been read.
use std::fmt;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use super::{CaptureError, CaptureErrorKind, CaptureReader, Packet, PacketSource};

/// Where a capture comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// Standard input (named `-` on the command line).
    Stdin,
    /// A file.
    Path(PathBuf),
}

impl Input {
    /// `-` means standard input; anything else is a path.
    pub fn from_arg(arg: &Path) -> Input {
        if arg.as_os_str() == "-" {
            Input::Stdin
        } else {
            Input::Path(arg.to_path_buf())
        }
    }

    /// The name used in reports: the path as given, or `-` for standard input.
    pub fn name(&self) -> String {
        match self {
            Input::Stdin => "-".to_string(),
            Input::Path(p) => p.display().to_string(),
        }
    }

    /// The size in bytes of a file input (compressed size if compressed);
    /// `None` for standard input or when it cannot be known.
    pub fn size(&self) -> Option<u64> {
        match self {
            Input::Stdin => None,
            Input::Path(p) => std::fs::metadata(p).ok().map(|m| m.len()),
        }
    }
}

impl fmt::Display for Input {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Input::Stdin => f.write_str("standard input"),
            Input::Path(p) => write!(f, "{}", p.display()),
        }
    }
}

/// How the input's bytes are compressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    /// Not compressed.
    None,
    /// gzip (one or several members, as `cat a.gz b.gz` makes).
    Gzip,
    /// Zstandard (one or several frames).
    Zstd,
}

impl Compression {
    /// Recognises a compression format from the first bytes of an input.
    pub fn sniff(prefix: &[u8]) -> Compression {
        if prefix.starts_with(&[0x1f, 0x8b]) {
            Compression::Gzip
        } else if prefix.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
            Compression::Zstd
        } else {
            Compression::None
        }
    }

    /// Lower-case name: `none`, `gzip`, `zstd`.
    pub fn as_str(self) -> &'static str {
        match self {
            Compression::None => "none",
            Compression::Gzip => "gzip",
            Compression::Zstd => "zstd",
        }
    }
}

impl fmt::Display for Compression {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Compressed data that could not be decompressed (further).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{compression} data {reason} after {decompressed_bytes} bytes of decompressed capture \
     (compressed input read up to byte {compressed_bytes})"
)]
pub struct DecompressError {
    /// The compression format.
    pub compression: Compression,
    /// Bytes of compressed input read when the problem was found (decoders
    /// read ahead, so the damage lies at or before this offset).
    pub compressed_bytes: u64,
    /// Bytes of decompressed capture produced before the problem.
    pub decompressed_bytes: u64,
    /// The decoder's reason, e.g. `is corrupt: invalid distance` or `is cut short`.
    pub reason: String,
}

impl DecompressError {
    /// True when the compressed data just ended early (as a file still being
    /// written, or cut by a killed writer, does), not corrupt.
    pub fn is_cut_short(&self) -> bool {
        self.reason == CUT_SHORT
    }
}

/// [`DecompressError::reason`] of compressed data that ends early.
const CUT_SHORT: &str = "is cut short";

/// A capture being read from an [`Input`]: packets plus where the input is.
pub struct Capture {
    reader: CaptureReader,
    compression: Compression,
    input_read: Arc<AtomicU64>,
    decompress_error: Arc<Mutex<Option<DecompressError>>>,
}

impl Capture {
    /// The compression of the input.
    pub fn compression(&self) -> Compression {
        self.compression
    }

    /// Bytes read from the input itself so far (compressed bytes for a
    /// compressed input), for progress. Runs ahead of [`PacketSource::position`]
    /// by what the readers buffer.
    pub fn input_position(&self) -> u64 {
        self.input_read.load(Ordering::Relaxed)
    }

    /// The underlying capture reader (decompression stays in place).
    pub fn into_reader(self) -> CaptureReader {
        self.reader
    }
}

/// Replaces a read error caused by bad compressed data with what the decoder said.
fn explain(slot: &Mutex<Option<DecompressError>>, e: &mut CaptureError) {
    if !matches!(
        e.kind,
        CaptureErrorKind::Io(_) | CaptureErrorKind::Truncated(_)
    ) {
        return;
    }
    if let Some(d) = slot.lock().ok().and_then(|g| g.clone()) {
        e.kind = CaptureErrorKind::Decompress(d);
    }
}

impl PacketSource for Capture {
    fn next_packet(&mut self) -> Result<Option<Packet<'_>>, CaptureError> {
        self.reader.next_packet().map_err(|mut e| {
            explain(&self.decompress_error, &mut e);
            e
        })
    }

    fn position(&self) -> u64 {
        self.reader.position()
    }

    fn counters(&self) -> super::ReaderCounters {
        self.reader.counters()
    }

    fn secrets(&self) -> Option<super::SecretsInbox> {
        self.reader.secrets()
    }
}

/// Opens a file or standard input, recognises compression and the capture format.
pub fn open(input: &Input) -> Result<Capture, CaptureError> {
    Opened::open(input, None)?.into_capture()
}

/// Like [`open`], over any byte stream (read once, front to back).
pub fn open_reader<R: Read + Send + 'static>(reader: R) -> Result<Capture, CaptureError> {
    Opened::from_reader(Box::new(reader))?.into_capture()
}

/// An input opened once, with its first bytes already read into a buffer, so
/// that sniffing the compression and the format never needs a second open (a
/// pipe, `/dev/stdin` or `<(zcat x.pcap.gz)` can be read only once).
pub struct Opened {
    prefix: Vec<u8>,
    rest: Box<dyn Read + Send>,
    /// The file itself when the input is a regular file (which may be mapped).
    file: Option<std::fs::File>,
}

/// Bytes read before deciding how to read the rest: the longest magic number.
const PREFIX_LEN: u64 = 4;

impl Opened {
    /// Opens `input`. When `stop` is given, an open that blocks (a FIFO with
    /// no writer yet) is abandoned once `stop` is raised, with an
    /// [`io::ErrorKind::Interrupted`] error.
    pub fn open(input: &Input, stop: Option<&AtomicBool>) -> Result<Opened, CaptureError> {
        let io_error = |e| CaptureError {
            offset: 0,
            kind: CaptureErrorKind::Io(e),
        };
        let (reader, file): (Box<dyn Read + Send>, _) = match input {
            Input::Stdin => (Box::new(io::stdin()), None),
            Input::Path(path) => {
                let file = open_file(path, stop).map_err(io_error)?;
                let regular = file
                    .metadata()
                    .is_ok_and(|m| m.is_file())
                    .then(|| file.try_clone().ok())
                    .flatten();
                (Box::new(file), regular)
            }
        };
        let mut opened = Opened::from_reader(reader)?;
        opened.file = file;
        Ok(opened)
    }

    /// Wraps a stream that is already open.
    pub fn from_reader(mut reader: Box<dyn Read + Send>) -> Result<Opened, CaptureError> {
        let mut prefix = Vec::with_capacity(PREFIX_LEN as usize);
        (&mut reader)
            .take(PREFIX_LEN)
            .read_to_end(&mut prefix)
            .map_err(|e| CaptureError {
                offset: 0,
                kind: CaptureErrorKind::Io(e),
            })?;
        Ok(Opened {
            prefix,
            rest: reader,
            file: None,
        })
    }

    /// The file, when the input is a regular file (not a pipe, a device or
    /// standard input).
    pub fn regular_file(&self) -> Option<&std::fs::File> {
        self.file.as_ref()
    }

    /// The first bytes of the input (up to 4).
    pub fn prefix(&self) -> &[u8] {
        &self.prefix
    }

    /// True when the input is uncompressed classic pcap (either byte order, µs or ns).
    pub fn is_classic_pcap(&self) -> bool {
        <[u8; 4]>::try_from(self.prefix.as_slice()).is_ok_and(|m| {
            matches!(
                u32::from_le_bytes(m),
                0xa1b2_c3d4 | 0xd4c3_b2a1 | 0xa1b2_3c4d | 0x4d3c_b2a1
            )
        })
    }

    /// The whole stream again, its first bytes included.
    pub fn into_stream(self) -> impl Read + Send {
        io::Cursor::new(self.prefix).chain(self.rest)
    }

    /// Recognises compression and the capture format, and prepares to stream packets.
    pub fn into_capture(self) -> Result<Capture, CaptureError> {
        let input_read = Arc::new(AtomicU64::new(self.prefix.len() as u64));
        let raw = Counting {
            inner: self.rest,
            count: Arc::clone(&input_read),
        };
        let compression = Compression::sniff(&self.prefix);
        let stream = io::Cursor::new(self.prefix).chain(raw);
        let decompress_error = Arc::new(Mutex::new(None));
        let decoder = |inner: Box<dyn Read + Send>| Decoding {
            inner,
            compression,
            compressed: Arc::clone(&input_read),
            produced: 0,
            failed: None,
            slot: Arc::clone(&decompress_error),
        };
        let reader = match compression {
            Compression::None => CaptureReader::new(stream),
            Compression::Gzip => CaptureReader::new(decoder(gzip(Chunks::new(stream))?)),
            Compression::Zstd => CaptureReader::new(decoder(zstd(Chunks::new(stream))?)),
        };
        let reader = reader.map_err(|mut e| {
            explain(&decompress_error, &mut e);
            e
        })?;
        Ok(Capture {
            reader,
            compression,
            input_read,
            decompress_error,
        })
    }
}

/// Opens a file for reading. A path that is not a regular file (a FIFO, whose
/// open waits for a writer) is opened on a helper thread while this one
/// watches `stop`, so that a signal ends the wait.
fn open_file(path: &Path, stop: Option<&AtomicBool>) -> io::Result<std::fs::File> {
    let regular = std::fs::metadata(path).is_ok_and(|m| m.is_file() || m.is_dir());
    let Some(stop) = stop.filter(|_| !regular) else {
        return std::fs::File::open(path);
    };
    let (tx, rx) = std::sync::mpsc::channel();
    let owned = path.to_path_buf();
    std::thread::Builder::new()
        .name("open".into())
        .spawn(move || {
            // The receiver may be gone (the wait was abandoned): nothing to do then.
            let _ = tx.send(std::fs::File::open(owned));
        })?;
    loop {
        match rx.recv_timeout(std::time::Duration::from_millis(50)) {
            Ok(result) => return result,
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
                return Err(io::Error::other("the open failed"));
            }
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                if stop.load(Ordering::Relaxed) {
                    // The helper thread stays blocked in open(2) until the
                    // process ends; it holds nothing else.
                    return Err(io::Error::new(
                        io::ErrorKind::Interrupted,
                        "interrupted while waiting for a writer",
                    ));
                }
            }
        }
    }
}

#[cfg(feature = "gzip")]
fn gzip<R: Read + Send + 'static>(stream: R) -> Result<Box<dyn Read + Send>, CaptureError> {
    Ok(Box::new(flate2::read::MultiGzDecoder::new(stream)))
}

#[cfg(not(feature = "gzip"))]
fn gzip<R: Read + Send + 'static>(_: R) -> Result<Box<dyn Read + Send>, CaptureError> {
    Err(CaptureError {
        offset: 0,
        kind: CaptureErrorKind::CompressionNotBuilt("gzip"),
    })
}

#[cfg(feature = "zstd")]
fn zstd<R: Read + Send + 'static>(stream: R) -> Result<Box<dyn Read + Send>, CaptureError> {
    zstd::stream::read::Decoder::new(stream)
        .map(|d| Box::new(d) as Box<dyn Read + Send>)
        .map_err(|e| CaptureError {
            offset: 0,
            kind: CaptureErrorKind::Io(e),
        })
}

#[cfg(not(feature = "zstd"))]
fn zstd<R: Read + Send + 'static>(_: R) -> Result<Box<dyn Read + Send>, CaptureError> {
    Err(CaptureError {
        offset: 0,
        kind: CaptureErrorKind::CompressionNotBuilt("zstd"),
    })
}

/// Compressed bytes handed to a decoder per read.
const CHUNK: usize = 4096;

/// The compressed input in reads of exactly [`CHUNK`] bytes (fewer only at
/// its end or before a read error), however a file or a pipe delivers them.
/// A decoder that meets damage returns an error and drops what it decoded in
/// the same call, which is at most one chunk's worth here; and since the
/// chunks are the same from a file, a pipe or standard input, every path keeps
/// the same packets before the damage.
struct Chunks<R> {
    inner: R,
    buf: Vec<u8>,
    start: usize,
    end: usize,
    eof: bool,
    error: Option<io::Error>,
}

impl<R: Read> Chunks<R> {
    fn new(inner: R) -> Self {
        Chunks {
            inner,
            buf: vec![0; 16 * CHUNK],
            start: 0,
            end: 0,
            eof: false,
            error: None,
        }
    }
}

impl<R: Read> Read for Chunks<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let want = out.len().min(CHUNK);
        while self.end.saturating_sub(self.start) < want && !self.eof && self.error.is_none() {
            if self.start > 0 {
                self.buf.copy_within(self.start..self.end, 0);
                self.end -= self.start;
                self.start = 0;
            }
            let Some(space) = self.buf.get_mut(self.end..) else {
                break;
            };
            match self.inner.read(space) {
                Ok(0) => self.eof = true,
                Ok(n) => self.end += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => self.error = Some(e),
            }
        }
        let n = want.min(self.end.saturating_sub(self.start));
        if n == 0 {
            return match self.error.take() {
                Some(e) => Err(e),
                None => Ok(0),
            };
        }
        let (Some(to), Some(from)) = (
            out.get_mut(..n),
            self.buf.get(self.start..self.start.saturating_add(n)),
        ) else {
            return Ok(0);
        };
        to.copy_from_slice(from);
        self.start += n;
        Ok(n)
    }
}

/// Counts the bytes read from the raw input.
struct Counting<R> {
    inner: R,
    count: Arc<AtomicU64>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// A decoder whose first error sticks (a decoder may answer "end of data"
/// after an error, which would pass a damaged capture for a complete one) and
/// is kept, with offsets, for the error report.
struct Decoding {
    inner: Box<dyn Read + Send>,
    compression: Compression,
    compressed: Arc<AtomicU64>,
    produced: u64,
    failed: Option<io::ErrorKind>,
    slot: Arc<Mutex<Option<DecompressError>>>,
}

impl Read for Decoding {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if let Some(kind) = self.failed {
            return Err(io::Error::new(kind, "compressed data could not be read"));
        }
        match self.inner.read(buf) {
            Ok(n) => {
                self.produced += n as u64;
                Ok(n)
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => Err(e),
            Err(e) => {
                let reason = match e.kind() {
                    io::ErrorKind::UnexpectedEof => CUT_SHORT.to_string(),
                    _ => format!("is corrupt: {}", super::human_io(&e)),
                };
                let d = DecompressError {
                    compression: self.compression,
                    compressed_bytes: self.compressed.load(Ordering::Relaxed),
                    decompressed_bytes: self.produced,
                    reason,
                };
                let message = d.to_string();
                if let Ok(mut g) = self.slot.lock() {
                    *g = Some(d);
                }
                self.failed = Some(e.kind());
                Err(io::Error::new(e.kind(), message))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    /// A little-endian µs pcap of Ethernet frames with `n` records of 100..=199 bytes.
    fn pcap(n: u32) -> Vec<u8> {
        let mut f = 0xa1b2_c3d4u32.to_le_bytes().to_vec();
        f.extend_from_slice(&2u16.to_le_bytes());
        f.extend_from_slice(&4u16.to_le_bytes());
        for v in [0u32, 0, 65535, 1] {
            f.extend_from_slice(&v.to_le_bytes());
        }
        for i in 0..n {
            let len = 100 + i % 100;
            for v in [i, 0, len, len] {
                f.extend_from_slice(&v.to_le_bytes());
            }
            // Poorly compressible bytes, so that a cut lands inside the packets.
            let mut x = i.wrapping_mul(2_654_435_761) | 1;
            for _ in 0..len {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                f.push(x as u8);
            }
        }
        f
    }

    fn gz(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    /// With a content checksum, as the zstd command writes by default (without
    /// one, damage inside literal bytes decodes to wrong bytes, undetectably).
    fn zst(data: &[u8]) -> Vec<u8> {
        let mut e = zstd::stream::write::Encoder::new(Vec::new(), 3).unwrap();
        e.include_checksum(true).unwrap();
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    /// Packets read (their first timestamp second is their index) and the final error.
    fn read(bytes: Vec<u8>) -> (Compression, Vec<i64>, Option<CaptureError>) {
        read_from(io::Cursor::new(bytes))
    }

    fn read_from<R: Read + Send + 'static>(r: R) -> (Compression, Vec<i64>, Option<CaptureError>) {
        let mut c = match open_reader(r) {
            Ok(c) => c,
            Err(e) => return (Compression::None, Vec::new(), Some(e)),
        };
        let mut seen = Vec::new();
        loop {
            match c.next_packet() {
                Ok(Some(p)) => seen.push(p.ts.secs()),
                Ok(None) => return (c.compression(), seen, None),
                Err(e) => return (c.compression(), seen, Some(e)),
            }
        }
    }

    /// Returns one byte per read, like a slow pipe.
    #[cfg(all(feature = "gzip", feature = "zstd"))]
    struct Trickle(io::Cursor<Vec<u8>>);
    #[cfg(all(feature = "gzip", feature = "zstd"))]
    impl Read for Trickle {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = buf.len().min(1);
            self.0.read(&mut buf[..n])
        }
    }

    #[test]
    fn magic_bytes_decide_not_names() {
        assert_eq!(Compression::sniff(&[0x1f, 0x8b, 8, 0]), Compression::Gzip);
        assert_eq!(
            Compression::sniff(&[0x28, 0xb5, 0x2f, 0xfd]),
            Compression::Zstd
        );
        assert_eq!(Compression::sniff(&[0x28, 0xb5]), Compression::None);
        assert_eq!(
            Compression::sniff(&[0xd4, 0xc3, 0xb2, 0xa1]),
            Compression::None
        );
        assert_eq!(Compression::sniff(&[]), Compression::None);
    }

    #[test]
    #[cfg(all(feature = "gzip", feature = "zstd"))]
    fn plain_gzip_and_zstd_give_the_same_packets() {
        let plain = pcap(500);
        let want: Vec<i64> = (0..500).collect();
        for (bytes, kind) in [
            (plain.clone(), Compression::None),
            (gz(&plain), Compression::Gzip),
            (zst(&plain), Compression::Zstd),
        ] {
            let (c, got, err) = read(bytes.clone());
            assert!(err.is_none(), "{kind}: {err:?}");
            assert_eq!((c, &got), (kind, &want));
            // The same through a pipe that hands over one byte at a time.
            let (c, got, err) = read_from(Trickle(io::Cursor::new(bytes)));
            assert!(err.is_none(), "{kind} trickled: {err:?}");
            assert_eq!((c, got.len()), (kind, 500));
        }
    }

    #[test]
    #[cfg(all(feature = "gzip", feature = "zstd"))]
    fn concatenated_members_and_frames_are_read_whole() {
        let plain = pcap(300);
        let (head, tail) = plain.split_at(5000);
        for (joined, kind) in [
            ([gz(head), gz(tail)].concat(), Compression::Gzip),
            ([zst(head), zst(tail)].concat(), Compression::Zstd),
        ] {
            let (c, got, err) = read(joined);
            assert!(err.is_none(), "{kind}: {err:?}");
            assert_eq!((c, got.len()), (kind, 300));
        }
    }

    #[test]
    #[cfg(all(feature = "gzip", feature = "zstd"))]
    fn a_cut_compressed_file_keeps_the_packets_before_the_cut() {
        let plain = pcap(2000);
        for (whole, kind) in [
            (gz(&plain), Compression::Gzip),
            (zst(&plain), Compression::Zstd),
        ] {
            let cut = whole[..whole.len() / 2].to_vec();
            let cut_len = cut.len() as u64;
            let (_, got, err) = read(cut);
            let err = err.expect("a cut file is an error");
            assert!(
                got.len() > 100 && got.len() < 2000,
                "{kind}: {} packets, {err}",
                got.len()
            );
            assert_eq!(got, (0..got.len() as i64).collect::<Vec<_>>());
            let CaptureErrorKind::Decompress(d) = &err.kind else {
                panic!("{kind}: {err}");
            };
            assert_eq!(d.compression, kind);
            assert_eq!(d.compressed_bytes, cut_len);
            assert!(d.decompressed_bytes >= err.offset, "{err}");
            let text = err.to_string();
            assert!(
                text.contains(kind.as_str()) && text.contains("cut short"),
                "{text}"
            );
        }
    }

    #[test]
    #[cfg(all(feature = "gzip", feature = "zstd"))]
    fn a_corrupt_compressed_tail_keeps_the_packets_before_it() {
        let plain = pcap(2000);
        for (whole, kind) in [
            (gz(&plain), Compression::Gzip),
            (zst(&plain), Compression::Zstd),
        ] {
            // A damaged checksum at the very end: the packets, then the decoder's
            // error (gzip hands over all the data first; zstd withholds the bytes
            // it decoded in the same step as the failed check, here the last block).
            let mut bad = whole.clone();
            let n = bad.len();
            for b in bad.get_mut(n - 4..n - 2).unwrap() {
                *b = !*b;
            }
            let (_, got, err) = read(bad);
            let err = err.unwrap_or_else(|| panic!("{kind}: a bad checksum must be an error"));
            let CaptureErrorKind::Decompress(d) = &err.kind else {
                panic!("{kind}: {err}");
            };
            assert!(d.reason.starts_with("is corrupt"), "{kind}: {d}");
            if kind == Compression::Gzip {
                assert_eq!(got.len(), 2000);
                assert_eq!(err.offset, plain.len() as u64);
            } else {
                assert!(got.len() > 1000, "{kind}: {} packets", got.len());
            }

            // Damage inside the data: the packets before it, then an error, either
            // from the decoder or from the capture parser reading wrong bytes.
            let mut bad = whole.clone();
            let from = bad.len() * 3 / 4;
            for b in bad.get_mut(from..from + 64).unwrap() {
                *b = !*b;
            }
            let (_, got, err) = read(bad);
            let err = err.unwrap_or_else(|| {
                panic!(
                    "{kind}: corrupt data must be an error ({} packets)",
                    got.len()
                )
            });
            assert!(
                got.len() > 100 && got.len() < 2000,
                "{kind}: {} packets, {err}",
                got.len()
            );
            assert!(
                matches!(
                    err.kind,
                    CaptureErrorKind::Decompress(_)
                        | CaptureErrorKind::Corrupt(_)
                        | CaptureErrorKind::RecordTooLarge { .. }
                ),
                "{kind}: {err}"
            );
        }
        // Garbage after a complete gzip member.
        let mut trailing = gz(&plain);
        trailing.extend_from_slice(b"this is not another gzip member");
        let (_, got, err) = read(trailing);
        assert_eq!(got.len(), 2000);
        assert!(
            matches!(err.map(|e| e.kind), Some(CaptureErrorKind::Decompress(_))),
            "trailing garbage must not pass silently"
        );
    }

    #[test]
    #[cfg(all(feature = "gzip", feature = "zstd"))]
    fn early_damage_keeps_the_packets_before_it_however_the_bytes_arrive() {
        // Compressible packets, so that damage meets coded data (not stored blocks).
        let mut plain = pcap(0);
        for i in 0..2000u32 {
            let data = format!("packet {i}: {}", "GET /index.html HTTP/1.1 ".repeat(4));
            let len = data.len() as u32;
            for v in [i, 0, len, len] {
                plain.extend_from_slice(&v.to_le_bytes());
            }
            plain.extend_from_slice(data.as_bytes());
        }
        for (whole, kind) in [
            (gz(&plain), Compression::Gzip),
            (zst(&plain), Compression::Zstd),
        ] {
            // Damage a few chunks in: a file read in one go used to lose every
            // packet before it (the decoder's first call met the damage), a
            // pipe not.
            let mut decoder_errors = 0;
            for at in [whole.len() / 5, whole.len() / 3, whole.len() / 2] {
                let mut bad = whole.clone();
                for b in bad.get_mut(at..at + 16).unwrap() {
                    *b = !*b;
                }
                let (_, whole_read, err) = read(bad.clone());
                let err = err.expect("damage is an error");
                // (zstd cannot give any of a block that is damaged: damage
                // in the first block leaves nothing.)
                if matches!(err.kind, CaptureErrorKind::Decompress(_)) && !whole_read.is_empty() {
                    decoder_errors += 1;
                }
                for per_read in [1, 3, 1000, 70_000] {
                    let (_, piped, _) = read_from(Slow(io::Cursor::new(bad.clone()), per_read));
                    assert_eq!(piped, whole_read, "{kind}, {per_read} bytes per read");
                }
            }
            assert!(
                decoder_errors > 0,
                "{kind}: no decoder error kept the packets before it"
            );
        }
    }

    /// Hands over at most `.1` bytes per read.
    struct Slow(io::Cursor<Vec<u8>>, usize);
    impl Read for Slow {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = buf.len().min(self.1);
            self.0.read(&mut buf[..n])
        }
    }

    #[test]
    #[cfg(all(feature = "gzip", feature = "zstd"))]
    fn compressed_non_captures_and_empty_inputs() {
        let (c, _, err) = read(gz(b"just some text, compressed"));
        assert!(matches!(err.unwrap().kind, CaptureErrorKind::NotACapture));
        assert_eq!(c, Compression::None, "open failed before a Capture existed");
        let (_, _, err) = read(gz(b""));
        assert!(matches!(err.unwrap().kind, CaptureErrorKind::Empty));
        let (_, _, err) = read(Vec::new());
        assert!(matches!(err.unwrap().kind, CaptureErrorKind::Empty));
        let (_, _, err) = read(vec![0x1f, 0x8b, 8]);
        assert!(
            matches!(err.as_ref().unwrap().kind, CaptureErrorKind::Decompress(_)),
            "{err:?}"
        );
    }

    #[test]
    #[cfg(not(all(feature = "gzip", feature = "zstd")))]
    fn a_build_without_a_decoder_says_which_feature_is_missing() {
        for (bytes, name) in [(gz(&pcap(3)), "gzip"), (zst(&pcap(3)), "zstd")] {
            let (_, got, err) = read(bytes);
            if cfg!(feature = "gzip") && name == "gzip" || cfg!(feature = "zstd") && name == "zstd"
            {
                assert_eq!(got.len(), 3);
                continue;
            }
            let err = err.expect("an error");
            assert!(
                matches!(err.kind, CaptureErrorKind::CompressionNotBuilt(n) if n == name),
                "{err}"
            );
            assert!(err.to_string().contains("feature"), "{err}");
        }
    }

    /// A stream that hands over at most 3 bytes per read, as a slow pipe, and
    /// cannot be reopened or rewound (only `Read`).
    struct Pipe(io::Cursor<Vec<u8>>);
    impl Read for Pipe {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = buf.len().min(3);
            self.0.read(&mut buf[..n])
        }
    }

    #[test]
    fn an_opened_stream_is_sniffed_from_its_buffer() {
        for bytes in [pcap(20), gz(&pcap(20))] {
            let opened = Opened::from_reader(Box::new(Pipe(io::Cursor::new(bytes)))).unwrap();
            assert_eq!(opened.prefix().len(), 4);
            let (blocks, _) = opened.into_blocks().unwrap();
            let mut blocks = blocks;
            let mut n = 0;
            while let Some(b) = blocks.next_block().unwrap() {
                n += b.packets.len();
            }
            assert_eq!(n, 20);
        }
        assert!(
            Opened::from_reader(Box::new(io::Cursor::new(pcap(1))))
                .unwrap()
                .is_classic_pcap()
        );
        assert!(
            !Opened::from_reader(Box::new(io::Cursor::new(gz(&pcap(1)))))
                .unwrap()
                .is_classic_pcap()
        );
    }

    #[test]
    fn cut_short_is_told_from_damage() {
        assert!(CaptureErrorKind::Truncated("a record").is_cut_short());
        assert!(
            CaptureErrorKind::TruncatedRecord {
                declared: 9,
                present: 3
            }
            .is_cut_short()
        );
        assert!(!CaptureErrorKind::RecordTooLarge { limit: 1 }.is_cut_short());
        assert!(!CaptureErrorKind::Corrupt("x".into()).is_cut_short());
        let cut = DecompressError {
            compression: Compression::Gzip,
            compressed_bytes: 1,
            decompressed_bytes: 1,
            reason: CUT_SHORT.into(),
        };
        assert!(CaptureErrorKind::Decompress(cut.clone()).is_cut_short());
        let bad = DecompressError {
            reason: "is corrupt: invalid distance".into(),
            ..cut
        };
        assert!(!CaptureErrorKind::Decompress(bad).is_cut_short());
        assert_eq!(
            super::super::strip_os_error("cannot open x: No such file (os error 2); y (os error)"),
            "cannot open x: No such file; y (os error)"
        );
    }

    #[test]
    fn stdin_is_named_dash() {
        assert_eq!(Input::from_arg(Path::new("-")), Input::Stdin);
        assert_eq!(Input::Stdin.name(), "-");
        assert_eq!(
            Input::from_arg(Path::new("./-")),
            Input::Path(PathBuf::from("./-"))
        );
    }
}
