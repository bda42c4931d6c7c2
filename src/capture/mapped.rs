//! A classic pcap file mapped into memory: one thread walks its records
//! ([`MappedPackets`]), or every worker of the split analysis
//! (`pipeline::split`) walks the same mapping, so the file is neither copied
//! by the kernel nor handed from thread to thread. The walk prefetches the
//! bytes just ahead of it ([`PREFETCH_AHEAD`]) and lets go of the pages behind
//! it, so resident memory stays flat in the file's size.
//!
//! The walk gives the packets and the errors, at the same offsets, that
//! [`super::PcapBlocks`] (the reader of pipes and other inputs) gives for the
//! same bytes.
//!
//! A mapping is only taken of a regular file. If the file is truncated while
//! it is mapped, touching the pages past its new end raises SIGBUS, which ends
//! the process (docs/dependencies.md): captures are appended to, not cut, and
//! `scan - < FILE` reads without a mapping.
use std::fs::File;

use super::{CaptureError, CaptureErrorKind, LinkType, Packet, PacketSource};
use crate::time::Timestamp;

/// Largest classic-pcap record accepted (the same bound as the other readers).
const MAX_RECORD: usize = super::file::MAX_RECORD;
/// Classic pcap's file header.
const FILE_HEADER: usize = 24;
/// A record's header.
const RECORD_HEADER: usize = 16;

/// A classic pcap file, mapped.
pub struct MappedPcap {
    map: memmap2::Mmap,
    big_endian: bool,
    nanos: bool,
    link: LinkType,
}

impl std::fmt::Debug for MappedPcap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MappedPcap")
            .field("len", &self.map.len())
            .field("link", &self.link)
            .finish_non_exhaustive()
    }
}

impl MappedPcap {
    /// Maps `file`, a regular file that starts with a classic pcap header;
    /// `None` when it cannot be mapped or its header is not whole and valid
    /// (the caller reads it instead, and reports what is wrong).
    #[allow(unsafe_code)]
    pub fn map(file: &File) -> Option<MappedPcap> {
        let len = file.metadata().ok()?.len();
        if len < FILE_HEADER as u64 || usize::try_from(len).is_err() {
            return None;
        }
        // SAFETY: the mapping is read-only and private to this process; the
        // bytes are only ever read as plain `u8`s, bounds-checked against the
        // mapping's length, so any content is sound. What no Rust code can
        // rule out is another process truncating the file while it is mapped:
        // then a read past the new end raises SIGBUS and the process ends (it
        // does not read wrong memory). That choice is documented in this
        // module and in docs/dependencies.md.
        let map = unsafe { memmap2::Mmap::map(file) }.ok()?;
        // Read front to back once per worker: let the kernel read ahead.
        let _ = map.advise(memmap2::Advice::Sequential);
        let magic: [u8; 4] = map.get(..4)?.try_into().ok()?;
        let (big_endian, nanos) = match magic {
            [0xd4, 0xc3, 0xb2, 0xa1] => (false, false),
            [0xa1, 0xb2, 0xc3, 0xd4] => (true, false),
            [0x4d, 0x3c, 0xb2, 0xa1] => (false, true),
            [0xa1, 0xb2, 0x3c, 0x4d] => (true, true),
            _ => return None,
        };
        let mut mapped = MappedPcap {
            map,
            big_endian,
            nanos,
            link: LinkType::ETHERNET,
        };
        let link = mapped.u32_at(20).unwrap_or(1);
        mapped.link = LinkType((link & 0xFFFF) as u16);
        Some(mapped)
    }

    /// The mapped file's length.
    pub fn len(&self) -> u64 {
        self.map.len() as u64
    }

    /// Lets go of the pages before byte `offset` (rounded down to a page):
    /// they leave the process's resident memory and stay in the page cache;
    /// reading them again maps them back, with the same bytes.
    #[allow(unsafe_code)]
    pub fn release_before(&self, offset: u64) {
        const PAGE: usize = 4096;
        let len = usize::try_from(offset)
            .unwrap_or(usize::MAX)
            .min(self.map.len());
        let len = len / PAGE * PAGE;
        if len == 0 {
            return;
        }
        // SAFETY: `MADV_DONTNEED` on a read-only shared file mapping only
        // drops this process's page-table entries: a later read faults the
        // page in again from the page cache with the file's bytes, so a slice
        // still borrowed from the range reads what it read before (and the
        // caller releases only what every worker has walked past). The range
        // lies within the mapping.
        let _ = unsafe {
            self.map
                .unchecked_advise_range(memmap2::UncheckedAdvice::DontNeed, 0, len)
        };
    }

    /// True for an empty mapping (never: a mapped file holds its header).
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    fn u32_at(&self, at: usize) -> Option<u32> {
        let b: [u8; 4] = self.map.get(at..at.checked_add(4)?)?.try_into().ok()?;
        Some(if self.big_endian {
            u32::from_be_bytes(b)
        } else {
            u32::from_le_bytes(b)
        })
    }

    /// A walk over the records, from the first.
    pub fn records(&self) -> Records<'_> {
        Records {
            file: self,
            cursor: Cursor::default(),
        }
    }

    /// Hints the processor to bring bytes `from..to` of the mapping into its
    /// caches, one cache line at a time (nothing off x86-64).
    #[allow(unsafe_code)]
    fn prefetch(&self, from: usize, to: usize) {
        #[cfg(target_arch = "x86_64")]
        {
            use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
            let base = self.map.as_ptr();
            let mut line = from;
            while line < to {
                // SAFETY: a prefetch is a hint: it never faults, reads nothing
                // into the program and changes no memory, whatever the address
                // (here always inside the mapping). SSE, which it needs, is part
                // of every x86-64 processor.
                unsafe { _mm_prefetch::<_MM_HINT_T0>(base.wrapping_add(line).cast()) };
                line = line.saturating_add(CACHE_LINE);
            }
        }
        #[cfg(not(target_arch = "x86_64"))]
        let _ = (from, to);
    }
}

/// Bytes of the file ahead of the walk that are prefetched into the caches.
/// A record's header is the first touch of its bytes, and the next record's
/// place is known only once this one is read: without the hint the walk
/// waited on memory at every record (hardware prefetchers stop at page
/// boundaries), a fifth of a two-thread profile. On the 1 GB benchmark 2 KiB
/// took two threads from 1.55x to 1.9x one thread's speed (1 KiB and 4 KiB
/// did as well, 8 KiB less: lines arrived before they were needed and were
/// evicted again).
const PREFETCH_AHEAD: usize = 2048;
const CACHE_LINE: usize = 64;

/// Bytes of a mapped file walked past that are let go of at once
/// ([`MappedPcap::release_before`]): the pages stay in the page cache but no
/// longer count in the process's resident memory, which so stays flat in the
/// file's size. Each release is a TLB shootdown across the cores: 1 MiB at a
/// time cost two threads 6 % on the 1 GB benchmark, 8 MiB nothing measurable.
pub const RELEASE_BYTES: u64 = 8 << 20;
/// The same for a file walked by one thread ([`MappedPackets`]), where no
/// other core shares the mapping: 2 MiB kept one thread's peak at 26 MiB on
/// the 1 GB benchmark (32 MiB at 8 MiB) at the same speed.
const RELEASE_BYTES_ALONE: u64 = 2 << 20;

/// A place in the records of a mapped file.
#[derive(Debug)]
struct Cursor {
    /// Offset of the next record.
    at: usize,
    done: bool,
    /// Bytes before this offset have been prefetched.
    prefetched: usize,
}

impl Default for Cursor {
    fn default() -> Self {
        Cursor {
            at: FILE_HEADER,
            done: false,
            prefetched: FILE_HEADER,
        }
    }
}

impl Cursor {
    /// The record at the cursor, which moves past it; `Ok(None)` at the end;
    /// after an error, no more.
    fn next<'a>(&mut self, file: &'a MappedPcap) -> Result<Option<Packet<'a>>, CaptureError> {
        if self.done {
            return Ok(None);
        }
        let at = self.at;
        let left = file.map.len().saturating_sub(at);
        let error = |this: &mut Self, kind| {
            this.done = true;
            Err(CaptureError {
                offset: at as u64,
                kind,
            })
        };
        if left == 0 {
            self.done = true;
            return Ok(None);
        }
        // As the block reader: the length is checked as soon as it is there.
        let Some(caplen) = file.u32_at(at.saturating_add(8)) else {
            return error(self, CaptureErrorKind::Truncated("a record header"));
        };
        let caplen = caplen as usize;
        if caplen > MAX_RECORD {
            return error(
                self,
                CaptureErrorKind::RecordTooLarge {
                    limit: MAX_RECORD as u64,
                },
            );
        }
        if left < RECORD_HEADER {
            return error(self, CaptureErrorKind::Truncated("a record header"));
        }
        let start = at.saturating_add(RECORD_HEADER);
        let end = start.saturating_add(caplen);
        let Some(data) = file.map.get(start..end) else {
            return error(
                self,
                CaptureErrorKind::TruncatedRecord {
                    declared: (caplen as u64).saturating_add(RECORD_HEADER as u64),
                    present: left as u64,
                },
            );
        };
        let secs = file.u32_at(at).unwrap_or(0);
        let frac = file.u32_at(at.saturating_add(4)).unwrap_or(0);
        let orig_len = file.u32_at(at.saturating_add(12)).unwrap_or(0);
        let nanos = if file.nanos {
            frac
        } else {
            frac.saturating_mul(1000)
        };
        self.at = end;
        let ahead = end.saturating_add(PREFETCH_AHEAD).min(file.map.len());
        if ahead > self.prefetched {
            // Lines already prefetched are skipped (a large record moves the
            // window past them).
            let from = self.prefetched.max(end);
            file.prefetch(from, ahead);
            self.prefetched = ahead;
        }
        Ok(Some(Packet {
            ts: Timestamp::from_parts(i64::from(secs), nanos.min(999_999_999)),
            link: file.link,
            orig_len,
            data,
        }))
    }
}

/// The records of a [`MappedPcap`], in file order.
pub struct Records<'a> {
    file: &'a MappedPcap,
    cursor: Cursor,
}

impl<'a> Records<'a> {
    /// The next packet; `Ok(None)` at the end; after an error, no more.
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> Result<Option<Packet<'a>>, CaptureError> {
        self.cursor.next(self.file)
    }

    /// Bytes of the file walked so far.
    pub fn position(&self) -> u64 {
        self.cursor.at as u64
    }
}

/// A mapped classic pcap file as the packet source of one thread: the walk of
/// [`Records`] without the kernel's copy of a buffered read (15–20 % of one
/// thread's time on the 1 GB benchmark), letting go of the pages behind it
/// [`RELEASE_BYTES_ALONE`] at a time.
#[derive(Debug)]
pub struct MappedPackets {
    file: MappedPcap,
    cursor: Cursor,
    /// The pages before this offset have been released.
    released: u64,
}

impl MappedPackets {
    /// The packets of `file`, from the first.
    pub fn new(file: MappedPcap) -> Self {
        MappedPackets {
            file,
            cursor: Cursor::default(),
            released: 0,
        }
    }
}

impl PacketSource for MappedPackets {
    fn next_packet(&mut self) -> Result<Option<Packet<'_>>, CaptureError> {
        let at = self.cursor.at as u64;
        if at.saturating_sub(self.released) >= RELEASE_BYTES_ALONE {
            // Everything before the next record has been handed out and dropped.
            self.released = at / RELEASE_BYTES_ALONE * RELEASE_BYTES_ALONE;
            self.file.release_before(self.released);
        }
        self.cursor.next(&self.file)
    }

    fn position(&self) -> u64 {
        self.cursor.at as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::{BlockSource, PcapBlocks};
    use std::io::Write;

    /// Every packet and the error (kind and offset) of the mapped walk are the
    /// block reader's, for whole files and files cut at every length, with
    /// records larger than a block.
    #[test]
    fn the_mapped_walk_reads_as_the_block_reader() {
        let mut file = Vec::new();
        let mut starts = Vec::new();
        file.extend_from_slice(&[0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0]);
        file.extend_from_slice(&[0; 8]);
        file.extend_from_slice(&65535u32.to_le_bytes());
        file.extend_from_slice(&1u32.to_le_bytes());
        for (i, len) in [60usize, 0, 1500, 300_000, 7, 70_000].iter().enumerate() {
            let i = u32::try_from(i).unwrap();
            starts.push(file.len());
            file.extend_from_slice(&(1_700_000_000 + i).to_le_bytes());
            file.extend_from_slice(&(i * 1000).to_le_bytes());
            let len32 = u32::try_from(*len).unwrap();
            file.extend_from_slice(&len32.to_le_bytes());
            file.extend_from_slice(&(len32 + 4).to_le_bytes());
            file.extend((0..*len).map(|b| (b % 251) as u8));
        }
        let mut huge = file.clone();
        huge.extend_from_slice(&[0; 8]);
        huge.extend_from_slice(&u32::MAX.to_le_bytes());
        huge.extend_from_slice(&[0; 4]);
        let dir = std::env::temp_dir().join(format!("phoneleak-mapped-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut cuts: Vec<usize> = (24..file.len()).step_by(3001).collect();
        cuts.push(file.len());
        for s in starts {
            cuts.extend([s, s + 1, s + 11, s + 12, s + 15, s + 16, s + 17]);
        }
        cuts.retain(|&n| n <= file.len());
        let mut cases: Vec<Vec<u8>> = cuts.iter().map(|&n| file[..n].to_vec()).collect();
        cases.push(huge.clone());
        cases.push(huge[..huge.len() - 3].to_vec());
        for (n, bytes) in cases.iter().enumerate() {
            let path = dir.join(format!("{n}.pcap"));
            std::fs::File::create(&path)
                .unwrap()
                .write_all(bytes)
                .unwrap();
            let mapped = MappedPcap::map(&std::fs::File::open(&path).unwrap()).unwrap();
            let mut walked = Vec::new();
            let mut records = mapped.records();
            let walk_error = loop {
                match records.next() {
                    Ok(Some(p)) => walked.push((p.ts, p.orig_len, p.data.to_vec())),
                    Ok(None) => break None,
                    Err(e) => break Some(format!("{e}")),
                }
            };
            let mut blocks = PcapBlocks::open(std::io::Cursor::new(bytes.clone())).unwrap();
            let mut read = Vec::new();
            let block_error = loop {
                match blocks.next_block() {
                    Ok(Some(b)) => {
                        for r in &b.packets {
                            let p = r.packet(&b.data);
                            read.push((p.ts, p.orig_len, p.data.to_vec()));
                        }
                    }
                    Ok(None) => break None,
                    Err(e) => break Some(format!("{e}")),
                }
            };
            assert_eq!(walk_error, block_error, "case {n} ({} bytes)", bytes.len());
            assert!(walked == read, "case {n} ({} bytes)", bytes.len());
        }
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// Resident pages of this process's mappings of `path` (kB), from
    /// `/proc/self/smaps`.
    fn resident_kb(path: &std::path::Path) -> Option<u64> {
        let smaps = std::fs::read_to_string("/proc/self/smaps").ok()?;
        let name = path.to_str()?;
        let mut inside = false;
        let mut total = 0;
        for line in smaps.lines() {
            let range = line.split(' ').next().unwrap_or("");
            let header = range.split_once('-').is_some_and(|(a, b)| {
                u64::from_str_radix(a, 16).is_ok() && u64::from_str_radix(b, 16).is_ok()
            });
            if header {
                inside = line.ends_with(name);
            } else if inside && let Some(kb) = line.strip_prefix("Rss:") {
                total += kb
                    .trim()
                    .trim_end_matches(" kB")
                    .trim()
                    .parse::<u64>()
                    .ok()?;
            }
        }
        Some(total)
    }

    #[test]
    fn released_pages_leave_resident_memory_and_read_the_same() {
        // 4 MiB of records of 1,000 bytes each.
        let mut file = vec![0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0];
        file.extend_from_slice(&[0; 8]);
        file.extend_from_slice(&65535u32.to_le_bytes());
        file.extend_from_slice(&1u32.to_le_bytes());
        for i in 0u32..4096 {
            file.extend_from_slice(&i.to_le_bytes());
            file.extend_from_slice(&[0; 4]);
            file.extend_from_slice(&1000u32.to_le_bytes());
            file.extend_from_slice(&1000u32.to_le_bytes());
            file.extend((0..1000u32).map(|b| ((b + i) % 251) as u8));
        }
        let path =
            std::env::temp_dir().join(format!("phoneleak-release-{}.pcap", std::process::id()));
        std::fs::write(&path, &file).unwrap();
        let mapped = MappedPcap::map(&std::fs::File::open(&path).unwrap()).unwrap();
        let walk = |m: &MappedPcap| {
            let mut records = m.records();
            let mut all = Vec::new();
            while let Ok(Some(p)) = records.next() {
                all.extend_from_slice(p.data);
            }
            all
        };
        let first = walk(&mapped);
        assert_eq!(first.len(), 4096 * 1000);
        let before = resident_kb(&path);
        mapped.release_before(mapped.len());
        let after = resident_kb(&path);
        if let (Some(before), Some(after)) = (before, after) {
            assert!(
                before >= 3 * 1024,
                "the walk made the pages resident: {before} kB"
            );
            assert!(after < 64, "released: {after} kB resident");
        }
        // Released pages map back with the same bytes.
        assert!(walk(&mapped) == first);
        let _ = std::fs::remove_file(&path);
    }
}
