//! IPv4 and IPv6 fragment reassembly with bounded memory.
//!
//! In: fragments (the payload bytes after the IP header or the IPv6 fragment
//! header, with their offset and more-fragments flag). Out: a whole datagram's
//! payload once every byte from 0 to the end announced by the last fragment is
//! held. Policy (see `docs/robustness.md`):
//! - **first seen wins**: bytes of a range already held are never replaced by
//!   a later, overlapping fragment (the overlap is dropped and counted), as in
//!   the TCP layer; a teardrop-style overlap therefore costs nothing;
//! - a datagram is given up after [`DefragLimits::timeout_secs`] of capture
//!   time since its first fragment, when it has more than
//!   [`DefragLimits::max_fragments`] pieces, and the oldest datagrams are given
//!   up when everything held passes [`DefragLimits::memcap`] (bytes plus a
//!   fixed bookkeeping cost per datagram and per piece);
//! - fragments that cannot belong to a valid datagram (empty, ending past
//!   65 535 bytes, past the end a last fragment announced, a non-last
//!   fragment whose length is not a multiple of 8) are dropped and counted.
//!
//! Every datagram that is not completed is counted under exactly one reason.
use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;

use crate::time::Timestamp;

/// Bookkeeping bytes charged per datagram in reassembly: its hash-table
/// bucket (about 130 bytes, times the slack of a table that churns), its queue
/// entry (48 bytes, times the slack of stale entries) and its piece vector.
/// Measured against peak RSS under a flood of one-fragment datagrams
/// (`docs/robustness.md`).
pub const DATAGRAM_OVERHEAD: usize = 512;
/// Bookkeeping bytes charged per held piece: its vector element and the
/// allocation of its bytes (header and rounding).
pub const PIECE_OVERHEAD: usize = 96;
/// The largest reassembled payload: the IP length fields are 16 bits.
const MAX_DATAGRAM: usize = 65_535;

/// Limits of fragment reassembly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DefragLimits {
    /// Bytes held across all datagrams in reassembly (payload plus bookkeeping).
    pub memcap: usize,
    /// Pieces held per datagram before it is given up.
    pub max_fragments: usize,
    /// Capture seconds after a datagram's first fragment before it is given up.
    pub timeout_secs: i64,
}

impl Default for DefragLimits {
    fn default() -> Self {
        DefragLimits {
            memcap: 32 << 20,
            max_fragments: 128,
            timeout_secs: 30,
        }
    }
}

counters! {
    /// Counters of fragment reassembly.
    pub struct DefragStats {
        /// Fragments received (IPv4 and IPv6).
        pub fragments: u64,
        /// Datagrams reassembled whole.
        pub completed: u64,
        /// Datagrams given up because their fragments did not all arrive in time.
        pub timed_out: u64,
        /// Datagrams given up to stay under the memory cap (oldest first).
        pub dropped_memcap: u64,
        /// Datagrams given up for having too many pieces.
        pub dropped_too_many_fragments: u64,
        /// Datagrams still incomplete at the end of a capture.
        pub incomplete_at_end: u64,
        /// Fragments that overlapped bytes already held (the first copy was kept).
        pub overlapping_fragments: u64,
        /// Bytes of those overlaps, dropped.
        pub overlap_bytes: u64,
        /// Fragments dropped as impossible (empty, past 65 535 bytes or the announced end, misaligned).
        pub invalid_fragments: u64,
        peaks:
        /// Most bytes held at once (payload plus bookkeeping); not in the
        /// summary (`--defrag-memcap` bounds it).
        pub held_bytes_peak: u64,
    }
}

/// Identifies the datagram a fragment belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FragKey {
    /// Source address.
    pub src: IpAddr,
    /// Destination address.
    pub dst: IpAddr,
    /// IPv4 identification (16 bits) or IPv6 fragment identification (32 bits).
    pub id: u32,
    /// IPv4 protocol; 0 for IPv6 (its next header travels in the first fragment).
    pub proto: u8,
}

/// One fragment, borrowed from the packet.
#[derive(Debug, Clone, Copy)]
pub struct Fragment<'a> {
    /// Byte offset of `data` in the datagram's payload.
    pub offset: usize,
    /// More fragments follow.
    pub more: bool,
    /// IPv6: the next header of the fragmentable part (meaningful at offset 0).
    pub next_header: u8,
    /// The fragment's bytes.
    pub data: &'a [u8],
}

/// What became of a fragment.
#[derive(Debug, PartialEq, Eq)]
pub enum FragOutcome {
    /// Held, waiting for the rest.
    Held,
    /// Dropped (counted in [`DefragStats`]).
    Dropped,
    /// The datagram is whole: its payload and protocol (IPv6: next header).
    Complete {
        /// The reassembled payload.
        payload: Vec<u8>,
        /// Protocol (IPv4) or next header (IPv6) of the payload.
        proto: u8,
    },
}

#[derive(Debug)]
struct Pending {
    /// Non-overlapping pieces sorted by offset.
    pieces: Vec<(usize, Vec<u8>)>,
    /// Payload bytes held.
    held: usize,
    /// Payload length, once the last fragment was seen.
    total: Option<usize>,
    /// Next header of the offset-0 fragment (IPv6).
    next_header: Option<u8>,
    first_seen: Timestamp,
    /// Generation of this datagram's queue entry.
    generation: u64,
    /// Bytes charged against the memcap.
    cost: usize,
}

/// The reassembly pool.
#[derive(Debug, Default)]
pub struct Defrag {
    limits: DefragLimits,
    pending: HashMap<FragKey, Pending, foldhash::fast::RandomState>,
    /// Datagrams in order of their first fragment; stale entries are skipped.
    order: VecDeque<(FragKey, u64)>,
    next_generation: u64,
    held: usize,
    stats: DefragStats,
}

impl Defrag {
    /// An empty pool with these limits.
    pub fn new(limits: DefragLimits) -> Self {
        Defrag {
            limits,
            ..Defrag::default()
        }
    }

    /// Counters so far.
    pub fn stats(&self) -> &DefragStats {
        &self.stats
    }

    /// Bytes held now (payload plus bookkeeping).
    pub fn held_bytes(&self) -> usize {
        self.held
    }

    /// Datagrams in reassembly now.
    pub fn len(&self) -> usize {
        self.pending.len()
    }

    /// True when nothing is in reassembly.
    pub fn is_empty(&self) -> bool {
        self.pending.is_empty()
    }

    /// Gives up every datagram (end of a capture).
    pub fn clear(&mut self) {
        let n = self.pending.len() as u64;
        self.stats.incomplete_at_end = self.stats.incomplete_at_end.saturating_add(n);
        self.pending.clear();
        self.order.clear();
        self.held = 0;
    }

    /// Takes one fragment captured at `now`.
    pub fn insert(&mut self, now: Timestamp, key: FragKey, frag: Fragment<'_>) -> FragOutcome {
        self.stats.fragments = self.stats.fragments.saturating_add(1);
        self.expire(now);
        let len = frag.data.len();
        let Some(end) = frag.offset.checked_add(len) else {
            return self.invalid();
        };
        // Non-last fragments carry a multiple of 8 bytes (RFC 791, RFC 8200).
        if len == 0 || end > MAX_DATAGRAM || (frag.more && !len.is_multiple_of(8)) {
            return self.invalid();
        }
        let need = DATAGRAM_OVERHEAD
            .saturating_add(PIECE_OVERHEAD)
            .saturating_add(len);
        if need > self.limits.memcap {
            return self.invalid();
        }
        // Make room first, oldest datagrams first (possibly this one).
        while self.held.saturating_add(need) > self.limits.memcap {
            if !self.evict_oldest() {
                break;
            }
        }
        let generation = self.next_generation;
        let entry = self.pending.entry(key).or_insert_with(|| Pending {
            pieces: Vec::with_capacity(1),
            held: 0,
            total: None,
            next_header: None,
            first_seen: now,
            generation,
            cost: DATAGRAM_OVERHEAD,
        });
        if entry.generation == generation {
            // A new datagram.
            self.next_generation = self.next_generation.wrapping_add(1);
            self.order.push_back((key, generation));
            self.held = self.held.saturating_add(DATAGRAM_OVERHEAD);
        }

        // The end of the datagram: announced once, never contradicted.
        let held_end = entry
            .pieces
            .last()
            .map_or(0, |(s, p)| s.saturating_add(p.len()));
        match (frag.more, entry.total) {
            (false, None) if held_end > end => return self.invalid(),
            (false, None) => entry.total = Some(end),
            (false, Some(total)) if total != end => return self.invalid(),
            (true, Some(total)) if end > total => return self.invalid(),
            _ => {}
        }
        if frag.offset == 0 {
            entry.next_header.get_or_insert(frag.next_header);
        }

        // Keep only the bytes not already held (first seen wins).
        let mut uncovered: Vec<(usize, usize)> = Vec::new();
        let mut cursor = frag.offset;
        for (s, p) in &entry.pieces {
            let (s, e) = (*s, s.saturating_add(p.len()));
            if e <= cursor {
                continue;
            }
            if s >= end {
                break;
            }
            if s > cursor {
                uncovered.push((cursor, s));
            }
            cursor = cursor.max(e);
        }
        if cursor < end {
            uncovered.push((cursor, end));
        }
        let kept: usize = uncovered.iter().map(|(a, b)| b.saturating_sub(*a)).sum();
        if kept < len {
            self.stats.overlapping_fragments = self.stats.overlapping_fragments.saturating_add(1);
            self.stats.overlap_bytes = self
                .stats
                .overlap_bytes
                .saturating_add(len.saturating_sub(kept) as u64);
        }
        if entry.pieces.len().saturating_add(uncovered.len()) > self.limits.max_fragments {
            self.stats.dropped_too_many_fragments =
                self.stats.dropped_too_many_fragments.saturating_add(1);
            self.remove(&key);
            return FragOutcome::Dropped;
        }
        for (a, b) in uncovered {
            let (Some(rel_a), Some(rel_b)) =
                (a.checked_sub(frag.offset), b.checked_sub(frag.offset))
            else {
                continue;
            };
            let Some(bytes) = frag.data.get(rel_a..rel_b) else {
                continue;
            };
            let at = entry.pieces.partition_point(|(s, _)| *s < a);
            entry.pieces.insert(at, (a, bytes.to_vec()));
            entry.held = entry.held.saturating_add(bytes.len());
            let cost = PIECE_OVERHEAD.saturating_add(bytes.len());
            entry.cost = entry.cost.saturating_add(cost);
            self.held = self.held.saturating_add(cost);
        }
        self.stats.held_bytes_peak = self.stats.held_bytes_peak.max(self.held as u64);

        match entry.total {
            Some(total) if entry.held == total => {
                let proto = if key.proto == 0 {
                    entry.next_header.unwrap_or(59)
                } else {
                    key.proto
                };
                let mut payload = Vec::with_capacity(total);
                for (_, p) in &entry.pieces {
                    payload.extend_from_slice(p);
                }
                self.remove(&key);
                self.stats.completed = self.stats.completed.saturating_add(1);
                FragOutcome::Complete { payload, proto }
            }
            _ => FragOutcome::Held,
        }
    }

    fn invalid(&mut self) -> FragOutcome {
        self.stats.invalid_fragments = self.stats.invalid_fragments.saturating_add(1);
        FragOutcome::Dropped
    }

    fn remove(&mut self, key: &FragKey) {
        if let Some(p) = self.pending.remove(key) {
            self.held = self.held.saturating_sub(p.cost);
        }
        // Stale queue entries are skipped when they reach the front; compact
        // when they outnumber the live ones so the queue stays bounded.
        if self.order.len() > self.pending.len().saturating_mul(2).saturating_add(64) {
            let pending = &self.pending;
            self.order
                .retain(|(k, g)| pending.get(k).is_some_and(|p| p.generation == *g));
        }
    }

    /// Gives up datagrams whose first fragment is older than the timeout.
    pub fn expire(&mut self, now: Timestamp) {
        while let Some(&(key, generation)) = self.order.front() {
            let live = self
                .pending
                .get(&key)
                .filter(|p| p.generation == generation);
            match live {
                None => {
                    self.order.pop_front();
                }
                Some(p) if now.secs_since(p.first_seen) >= self.limits.timeout_secs => {
                    self.order.pop_front();
                    self.stats.timed_out = self.stats.timed_out.saturating_add(1);
                    self.remove(&key);
                }
                Some(_) => break,
            }
        }
    }

    /// Gives up the oldest datagram; false when there is none.
    fn evict_oldest(&mut self) -> bool {
        while let Some((key, generation)) = self.order.pop_front() {
            if self
                .pending
                .get(&key)
                .is_some_and(|p| p.generation == generation)
            {
                self.stats.dropped_memcap = self.stats.dropped_memcap.saturating_add(1);
                self.remove(&key);
                return true;
            }
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(id: u32) -> FragKey {
        FragKey {
            src: "10.0.0.1".parse().unwrap(),
            dst: "10.0.0.2".parse().unwrap(),
            id,
            proto: 6,
        }
    }

    fn frag(offset: usize, more: bool, data: &[u8]) -> Fragment<'_> {
        Fragment {
            offset,
            more,
            next_header: 6,
            data,
        }
    }

    fn t(secs: i64) -> Timestamp {
        Timestamp::from_parts(secs, 0)
    }

    #[test]
    fn in_order_and_out_of_order() {
        let mut d = Defrag::new(DefragLimits::default());
        assert_eq!(
            d.insert(t(0), key(1), frag(0, true, b"abcdefgh")),
            FragOutcome::Held
        );
        assert_eq!(
            d.insert(t(0), key(1), frag(8, false, b"ij")),
            FragOutcome::Complete {
                payload: b"abcdefghij".to_vec(),
                proto: 6
            }
        );
        assert_eq!(
            d.insert(t(0), key(2), frag(16, false, b"xyz")),
            FragOutcome::Held
        );
        assert_eq!(
            d.insert(t(0), key(2), frag(8, true, b"89abcdef")),
            FragOutcome::Held
        );
        assert_eq!(
            d.insert(t(0), key(2), frag(0, true, b"01234567")),
            FragOutcome::Complete {
                payload: b"0123456789abcdefxyz".to_vec(),
                proto: 6
            }
        );
        assert_eq!(d.held_bytes(), 0);
        assert!(d.is_empty());
        assert_eq!(d.stats().completed, 2);
    }

    #[test]
    fn overlaps_keep_the_first_bytes() {
        let mut d = Defrag::new(DefragLimits::default());
        d.insert(t(0), key(1), frag(8, true, b"BBBBBBBB"));
        // Covers 0..16: only 0..8 is new.
        d.insert(t(0), key(1), frag(0, true, b"AAAAAAAAxxxxxxxx"));
        let out = d.insert(t(0), key(1), frag(16, false, b"C"));
        assert_eq!(
            out,
            FragOutcome::Complete {
                payload: b"AAAAAAAABBBBBBBBC".to_vec(),
                proto: 6
            }
        );
        assert_eq!(d.stats().overlapping_fragments, 1);
        assert_eq!(d.stats().overlap_bytes, 8);
    }

    #[test]
    fn teardrop_does_not_grow_or_panic() {
        // Classic teardrop: the second fragment lies inside the first, past its "end".
        let mut d = Defrag::new(DefragLimits::default());
        d.insert(t(0), key(1), frag(0, true, &[0u8; 24]));
        assert_eq!(
            d.insert(t(0), key(1), frag(8, false, &[1u8; 4])),
            FragOutcome::Dropped
        );
        assert_eq!(d.stats().invalid_fragments, 1);
        // Same offsets again and again: nothing new is ever stored.
        for _ in 0..1000 {
            d.insert(t(0), key(1), frag(0, true, &[2u8; 24]));
        }
        assert_eq!(d.held_bytes(), DATAGRAM_OVERHEAD + PIECE_OVERHEAD + 24);
    }

    #[test]
    fn contradicting_ends_and_impossible_fragments_are_dropped() {
        let mut d = Defrag::new(DefragLimits::default());
        d.insert(t(0), key(1), frag(16, false, b"end"));
        assert_eq!(
            d.insert(t(0), key(1), frag(32, false, b"x")),
            FragOutcome::Dropped
        );
        assert_eq!(
            d.insert(t(0), key(1), frag(16, true, &[0; 16])),
            FragOutcome::Dropped
        );
        assert_eq!(
            d.insert(t(0), key(2), frag(0, true, b"")),
            FragOutcome::Dropped
        );
        assert_eq!(
            d.insert(t(0), key(2), frag(65_530, false, &[0; 8])),
            FragOutcome::Dropped
        );
        assert_eq!(
            d.insert(t(0), key(2), frag(0, true, &[0; 7])),
            FragOutcome::Dropped
        );
        assert_eq!(d.stats().invalid_fragments, 5);
    }

    #[test]
    fn timeouts_by_capture_time() {
        let mut d = Defrag::new(DefragLimits {
            timeout_secs: 30,
            ..DefragLimits::default()
        });
        d.insert(t(0), key(1), frag(0, true, &[0; 8]));
        d.insert(t(20), key(2), frag(0, true, &[0; 8]));
        d.insert(t(31), key(3), frag(0, true, &[0; 8]));
        assert_eq!(d.stats().timed_out, 1);
        assert_eq!(d.len(), 2);
        d.clear();
        assert_eq!(d.stats().incomplete_at_end, 2);
        assert_eq!(d.held_bytes(), 0);
    }

    #[test]
    fn memcap_evicts_the_oldest_and_stays_bounded() {
        let limits = DefragLimits {
            memcap: 10_000,
            ..DefragLimits::default()
        };
        let mut d = Defrag::new(limits);
        for id in 0..10_000u32 {
            d.insert(t(0), key(id), frag(0, true, &[0; 8]));
            assert!(d.held_bytes() <= limits.memcap);
        }
        assert!(d.stats().dropped_memcap > 9_000);
        assert!(d.order.len() <= d.pending.len() * 2 + 65);
        // The newest datagram can still complete.
        let out = d.insert(t(0), key(9_999), frag(8, false, b"z"));
        assert!(matches!(out, FragOutcome::Complete { .. }), "{out:?}");
    }

    #[test]
    fn too_many_pieces_drop_the_datagram() {
        let mut d = Defrag::new(DefragLimits {
            max_fragments: 4,
            ..DefragLimits::default()
        });
        for i in 0..5 {
            d.insert(t(0), key(1), frag(i * 16, true, &[0; 8]));
        }
        assert_eq!(d.stats().dropped_too_many_fragments, 1);
        assert!(d.is_empty());
        assert_eq!(d.held_bytes(), 0);
    }
}
