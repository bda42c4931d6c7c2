//! One direction of a TCP connection: sequence numbers to an ordered byte stream.
//!
//! Policy (documented in `docs/architecture.md`):
//! - sequence numbers are compared modulo 2^32 against the next expected byte,
//!   so streams wrap cleanly; stream offsets are 64-bit;
//! - out-of-order segments wait in a buffer and are delivered in order;
//! - retransmitted and overlapping bytes: **the bytes seen first win** (later
//!   copies of a range already buffered or delivered are dropped and counted);
//! - a hole is given up (delivered as [`Chunk::Gap`]) when the buffered bytes
//!   beyond it pass the per-direction or global cap, when bytes were cut by the
//!   snap length, or when the flow ends;
//! - segments more than [`Limits::max_window`] beyond the next expected byte
//!   are dropped as bogus.
use std::collections::BTreeMap;

use super::{Chunk, FlowStats, Limits};
use crate::time::Timestamp;

/// Bytes held out of order across all flows, against [`Limits::ooo_memcap`].
#[derive(Debug, Default)]
pub struct Budget {
    /// Bytes currently buffered.
    pub used: usize,
}

#[derive(Debug)]
enum Piece {
    /// Captured bytes waiting for the hole before them to fill.
    Data { ts: Timestamp, bytes: Vec<u8> },
    /// Bytes that were on the wire but not captured (snap length).
    Lost(u64),
}

impl Piece {
    fn len(&self) -> u64 {
        match self {
            Piece::Data { bytes, .. } => bytes.len() as u64,
            Piece::Lost(n) => *n,
        }
    }
}

/// Out-of-order pieces waiting for the holes before them.
#[derive(Debug, Default)]
struct Pending {
    /// Pieces by stream offset; they never overlap each other.
    pieces: BTreeMap<u64, Piece>,
    /// Captured bytes held in `pieces`.
    bytes: usize,
}

/// Reassembly state of one direction.
#[derive(Debug, Default)]
pub struct HalfStream {
    /// Sequence number of stream offset 0, once known.
    base_seq: Option<u32>,
    /// Offset of the next byte to deliver.
    next_off: u64,
    /// Out-of-order pieces, boxed and only while some wait (most directions
    /// never hold one): a flow entry pays 8 bytes for them, not 32 for each
    /// direction. Never `Some` and empty once a call returns.
    pending: Option<Box<Pending>>,
    /// Stream offset of the FIN, once seen.
    fin_off: Option<u64>,
    /// False once the consumer said it wants no more bytes.
    ignored: bool,
}

impl HalfStream {
    /// Anchors the stream at a SYN: the next byte has sequence number `isn + 1`.
    /// A stream already anchored (by data or an earlier SYN) keeps its anchor.
    pub fn anchor_syn(&mut self, isn: u32) {
        self.base_seq.get_or_insert(isn.wrapping_add(1));
    }

    /// True when a SYN with this ISN starts a different connection than this stream.
    pub fn is_other_connection(&self, isn: u32) -> bool {
        self.base_seq
            .is_some_and(|base| base != isn.wrapping_add(1))
    }

    /// Whether the FIN has been reached (or the consumer stopped listening after one).
    pub fn finished(&self) -> bool {
        self.fin_off
            .is_some_and(|fin| self.ignored || self.next_off >= fin)
    }

    /// Whether the consumer still wants bytes.
    pub fn is_ignored(&self) -> bool {
        self.ignored
    }

    /// Bytes buffered out of order.
    pub fn buffered(&self) -> usize {
        self.pending.as_ref().map_or(0, |p| p.bytes)
    }

    /// Whether out-of-order pieces wait.
    fn has_pending(&self) -> bool {
        self.pending.as_ref().is_some_and(|p| !p.pieces.is_empty())
    }

    /// The stream offset of the first piece waiting.
    fn first_pending(&self) -> Option<u64> {
        self.pending
            .as_ref()
            .and_then(|p| p.pieces.first_key_value())
            .map(|(&offset, _)| offset)
    }

    /// Frees the pieces waiting and returns their bytes to the budget.
    fn release_pending(&mut self, budget: &mut Budget) {
        if let Some(p) = self.pending.take() {
            budget.used = budget.used.saturating_sub(p.bytes);
        }
    }

    /// Stops buffering and delivering; frees what is buffered.
    pub fn ignore(&mut self, budget: &mut Budget) {
        self.ignored = true;
        self.release_pending(budget);
    }

    /// Takes one segment: `payload` captured bytes starting at `seq`, then
    /// `missing` bytes that were not captured, then a FIN if `fin`.
    /// `deliver` receives in-order chunks; it returns false to stop the stream.
    #[allow(clippy::too_many_arguments)]
    pub fn segment(
        &mut self,
        ts: Timestamp,
        seq: u32,
        payload: &[u8],
        missing: u32,
        fin: bool,
        limits: &Limits,
        budget: &mut Budget,
        stats: &mut FlowStats,
        deliver: &mut dyn FnMut(Chunk<'_>) -> bool,
    ) {
        let base = *self.base_seq.get_or_insert(seq);
        let expected = base.wrapping_add(self.next_off as u32);
        // Signed distance from the next expected byte, modulo 2^32.
        let rel = i64::from(seq.wrapping_sub(expected) as i32);
        let wire_len = (payload.len() as u64).saturating_add(u64::from(missing));
        let start = (self.next_off as i64).saturating_add(rel);
        let end = start.saturating_add(wire_len as i64);
        if fin && end >= 0 {
            self.fin_off.get_or_insert(end as u64);
        }
        if self.ignored || wire_len == 0 {
            return;
        }
        if end <= self.next_off as i64 {
            stats.retransmitted_bytes = stats.retransmitted_bytes.saturating_add(wire_len);
            return;
        }
        if rel > limits.max_window as i64 {
            stats.out_of_window_segments = stats.out_of_window_segments.saturating_add(1);
            return;
        }
        // Drop the part that was already delivered.
        let skip = (self.next_off as i64).saturating_sub(start).max(0) as u64;
        stats.retransmitted_bytes = stats.retransmitted_bytes.saturating_add(skip);
        let start = start.max(0) as u64;
        let start = start.max(self.next_off);
        let (payload, missing) = if skip <= payload.len() as u64 {
            (
                payload.get(skip as usize..).unwrap_or(&[]),
                u64::from(missing),
            )
        } else {
            (
                &[][..],
                u64::from(missing).saturating_sub(skip.saturating_sub(payload.len() as u64)),
            )
        };

        if start == self.next_off && !self.has_pending() {
            // Fast path: in order with nothing waiting, straight from the packet.
            if !payload.is_empty() {
                self.next_off = self.next_off.saturating_add(payload.len() as u64);
                if !deliver(Chunk::Data { ts, bytes: payload }) {
                    self.ignore(budget);
                    return;
                }
            }
            if missing > 0 {
                self.next_off = self.next_off.saturating_add(missing);
                stats.snaplen_lost_bytes = stats.snaplen_lost_bytes.saturating_add(missing);
                self.emit_gap(missing, stats, deliver, budget);
            }
            return;
        }

        self.insert(start, ts, payload, missing, budget, stats);
        self.drain(budget, stats, deliver);
        // Give up holes while over the per-direction or the global cap.
        while !self.ignored && self.has_pending() {
            let over_flow = self.buffered() > limits.max_ooo_per_direction;
            let over_global = budget.used > limits.ooo_memcap;
            if !over_flow && !over_global {
                break;
            }
            if over_flow {
                stats.gaps_forced_by_direction_cap =
                    stats.gaps_forced_by_direction_cap.saturating_add(1);
            } else {
                stats.gaps_forced_by_memcap = stats.gaps_forced_by_memcap.saturating_add(1);
            }
            self.skip_hole(budget, stats, deliver);
        }
    }

    /// The other side acknowledged everything before `ack`: a hole it covers was
    /// received by the peer but missed by the capture, so it will never be filled.
    /// Gives up such holes at once (when data is waiting beyond them).
    pub fn acknowledged(
        &mut self,
        ack: u32,
        budget: &mut Budget,
        stats: &mut FlowStats,
        deliver: &mut dyn FnMut(Chunk<'_>) -> bool,
    ) {
        let Some(base) = self.base_seq else { return };
        if self.ignored || !self.has_pending() {
            return;
        }
        let expected = base.wrapping_add(self.next_off as u32);
        let ahead = ack.wrapping_sub(expected) as i32;
        if ahead <= 0 {
            return;
        }
        let acked_to = self.next_off.saturating_add(ahead as u64);
        while let Some(first) = self.first_pending() {
            if first > acked_to || self.ignored {
                break;
            }
            stats.gaps_acked = stats.gaps_acked.saturating_add(1);
            self.skip_hole(budget, stats, deliver);
        }
    }

    /// Delivers everything buffered, giving up every hole (end of flow).
    pub fn flush(
        &mut self,
        budget: &mut Budget,
        stats: &mut FlowStats,
        deliver: &mut dyn FnMut(Chunk<'_>) -> bool,
    ) {
        while !self.ignored && self.has_pending() {
            self.skip_hole(budget, stats, deliver);
        }
        self.release_pending(budget);
    }

    fn skip_hole(
        &mut self,
        budget: &mut Budget,
        stats: &mut FlowStats,
        deliver: &mut dyn FnMut(Chunk<'_>) -> bool,
    ) {
        if let Some(first) = self.first_pending()
            && first > self.next_off
        {
            let hole = first.saturating_sub(self.next_off);
            self.next_off = first;
            if !self.emit_gap(hole, stats, deliver, budget) {
                return;
            }
        }
        self.drain(budget, stats, deliver);
    }

    fn emit_gap(
        &mut self,
        len: u64,
        stats: &mut FlowStats,
        deliver: &mut dyn FnMut(Chunk<'_>) -> bool,
        budget: &mut Budget,
    ) -> bool {
        stats.gaps = stats.gaps.saturating_add(1);
        stats.gap_bytes = stats.gap_bytes.saturating_add(len);
        if !deliver(Chunk::Gap { len }) {
            self.ignore(budget);
            return false;
        }
        true
    }

    /// Stores the parts of `[start, start+len)` not already covered (first seen wins).
    fn insert(
        &mut self,
        start: u64,
        ts: Timestamp,
        payload: &[u8],
        missing: u64,
        budget: &mut Budget,
        stats: &mut FlowStats,
    ) {
        let data_end = start.saturating_add(payload.len() as u64);
        let end = data_end.saturating_add(missing);
        let pending = self.pending.get_or_insert_with(Box::default);
        let mut uncovered: Vec<(u64, u64)> = Vec::new();
        let mut cursor = start;
        let from = pending
            .pieces
            .range(..=start)
            .next_back()
            .filter(|(s, p)| s.saturating_add(p.len()) > start)
            .map_or(start, |(s, _)| *s);
        for (&s, p) in pending.pieces.range(from..end) {
            if s > cursor {
                uncovered.push((cursor, s));
            }
            cursor = cursor.max(s.saturating_add(p.len()));
            if cursor >= end {
                break;
            }
        }
        if cursor < end {
            uncovered.push((cursor, end));
        }
        let mut kept = 0u64;
        for (a, b) in uncovered {
            // Split each uncovered range into its captured and its lost part.
            let (da, db) = (a.min(data_end), b.min(data_end));
            if db > da {
                let bytes = payload
                    .get(da.saturating_sub(start) as usize..db.saturating_sub(start) as usize)
                    .unwrap_or(&[])
                    .to_vec();
                pending.bytes = pending.bytes.saturating_add(bytes.len());
                budget.used = budget.used.saturating_add(bytes.len());
                pending.pieces.insert(da, Piece::Data { ts, bytes });
            }
            let (la, lb) = (a.max(data_end), b.max(data_end));
            if lb > la {
                pending
                    .pieces
                    .insert(la, Piece::Lost(lb.saturating_sub(la)));
            }
            kept = kept.saturating_add(b.saturating_sub(a));
        }
        stats.overlap_bytes = stats
            .overlap_bytes
            .saturating_add(end.saturating_sub(start).saturating_sub(kept));
    }

    /// Delivers the pieces that continue the stream.
    fn drain(
        &mut self,
        budget: &mut Budget,
        stats: &mut FlowStats,
        deliver: &mut dyn FnMut(Chunk<'_>) -> bool,
    ) {
        while let Some(pending) = self.pending.as_mut() {
            let Some(entry) = pending.pieces.first_entry() else {
                // Nothing waits any more: the box goes.
                self.pending = None;
                break;
            };
            if *entry.key() > self.next_off {
                break;
            }
            let piece = entry.remove();
            match piece {
                Piece::Data { ts, bytes } => {
                    pending.bytes = pending.bytes.saturating_sub(bytes.len());
                    budget.used = budget.used.saturating_sub(bytes.len());
                    self.next_off = self.next_off.saturating_add(bytes.len() as u64);
                    if !deliver(Chunk::Data { ts, bytes: &bytes }) {
                        self.ignore(budget);
                        return;
                    }
                }
                Piece::Lost(n) => {
                    self.next_off = self.next_off.saturating_add(n);
                    stats.snaplen_lost_bytes = stats.snaplen_lost_bytes.saturating_add(n);
                    if !self.emit_gap(n, stats, deliver, budget) {
                        return;
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Reassembled output: bytes, with a gap shown as that many `?`-free markers.
    #[derive(Default, Debug, PartialEq)]
    struct Out {
        bytes: Vec<u8>,
        gaps: Vec<u64>,
    }

    fn feed(h: &mut HalfStream, segs: &[(u32, &[u8])], limits: &Limits) -> (Out, FlowStats) {
        let mut out = Out::default();
        let mut stats = FlowStats::default();
        let mut budget = Budget::default();
        for (seq, data) in segs {
            h.segment(
                Timestamp(0),
                *seq,
                data,
                0,
                false,
                limits,
                &mut budget,
                &mut stats,
                &mut |c| {
                    match c {
                        Chunk::Data { bytes, .. } => out.bytes.extend_from_slice(bytes),
                        Chunk::Gap { len } => out.gaps.push(len),
                    }
                    true
                },
            );
        }
        h.flush(&mut budget, &mut stats, &mut |c| {
            match c {
                Chunk::Data { bytes, .. } => out.bytes.extend_from_slice(bytes),
                Chunk::Gap { len } => out.gaps.push(len),
            }
            true
        });
        assert_eq!(budget.used, 0, "budget must be released");
        (out, stats)
    }

    #[test]
    fn in_order_and_out_of_order() {
        let mut h = HalfStream::default();
        h.anchor_syn(99);
        let (out, _) = feed(
            &mut h,
            &[(106, b"world"), (100, b"hello "), (111, b"!")],
            &Limits::default(),
        );
        assert_eq!(out.bytes, b"hello world!");
        assert!(out.gaps.is_empty());
    }

    /// Out-of-order pieces live in a box made when the first one waits and
    /// dropped when the last one is delivered: a direction that holds
    /// nothing costs nothing beyond its fixed fields (issue 21).
    #[test]
    fn pending_pieces_are_released_once_delivered() {
        let mut h = HalfStream::default();
        h.anchor_syn(99);
        assert!(h.pending.is_none());
        let limits = Limits::default();
        let mut budget = Budget::default();
        let mut stats = FlowStats::default();
        let mut got = Vec::new();
        let mut deliver = |c: Chunk<'_>| {
            if let Chunk::Data { bytes, .. } = c {
                got.extend_from_slice(bytes);
            }
            true
        };
        let ts = Timestamp(0);
        let mut seg = |h: &mut HalfStream, seq: u32, data: &[u8], budget: &mut Budget| {
            h.segment(
                ts,
                seq,
                data,
                0,
                false,
                &limits,
                budget,
                &mut stats,
                &mut deliver,
            )
        };
        seg(&mut h, 106, b"world", &mut budget);
        assert!(h.pending.is_some());
        assert_eq!((h.buffered(), budget.used), (5, 5));
        seg(&mut h, 100, b"hello ", &mut budget);
        assert!(h.pending.is_none(), "the box must go with the last piece");
        assert_eq!(budget.used, 0);
        assert_eq!(std::mem::size_of::<HalfStream>(), 48);
        assert_eq!(got, b"hello world");
    }

    #[test]
    fn first_seen_bytes_win_on_overlap() {
        let mut h = HalfStream::default();
        h.anchor_syn(0);
        // "AAAA" at 5..9 arrives first (out of order), then "xxxxxBBBBB" at 1..11.
        let (out, stats) = feed(
            &mut h,
            &[(5, b"AAAA"), (1, b"xxxxBBBBBB")],
            &Limits::default(),
        );
        assert_eq!(out.bytes, b"xxxxAAAABB");
        assert_eq!(stats.overlap_bytes, 4);
        // Retransmission of delivered bytes with other content is ignored.
        let mut h = HalfStream::default();
        h.anchor_syn(0);
        let (out, stats) = feed(&mut h, &[(1, b"abcd"), (1, b"ZZZZZZ")], &Limits::default());
        assert_eq!(out.bytes, b"abcdZZ");
        assert_eq!(stats.retransmitted_bytes, 4);
    }

    #[test]
    fn sequence_numbers_wrap() {
        let mut h = HalfStream::default();
        h.anchor_syn(u32::MAX - 3);
        let (out, _) = feed(
            &mut h,
            &[(2, b"cd"), (u32::MAX - 2, b"ab"), (u32::MAX, b"XY")],
            &Limits::default(),
        );
        assert_eq!(out.bytes, b"abXYcd");
    }

    #[test]
    fn hole_is_reported_at_end_and_stream_continues() {
        let mut h = HalfStream::default();
        h.anchor_syn(0);
        let (out, stats) = feed(&mut h, &[(1, b"abc"), (10, b"later")], &Limits::default());
        assert_eq!(out.bytes, b"abclater");
        assert_eq!(out.gaps, vec![6]);
        assert_eq!(stats.gaps, 1);
    }

    #[test]
    fn per_direction_cap_forces_the_gap() {
        let limits = Limits {
            max_ooo_per_direction: 8,
            ..Limits::default()
        };
        let mut h = HalfStream::default();
        h.anchor_syn(0);
        let mut out = Vec::new();
        let mut gaps = Vec::new();
        let mut stats = FlowStats::default();
        let mut budget = Budget::default();
        for (seq, data) in [(1u32, &b"ab"[..]), (10, b"12345"), (15, b"6789")] {
            h.segment(
                Timestamp(0),
                seq,
                data,
                0,
                false,
                &limits,
                &mut budget,
                &mut stats,
                &mut |c| {
                    match c {
                        Chunk::Data { bytes, .. } => out.extend_from_slice(bytes),
                        Chunk::Gap { len } => gaps.push(len),
                    }
                    true
                },
            );
        }
        // The 9 bytes beyond the hole pass the 8-byte cap before the end: gap forced.
        assert_eq!(out, b"ab123456789");
        assert_eq!(gaps, vec![7]);
        assert_eq!(stats.gaps_forced_by_direction_cap, 1);
        assert_eq!(h.buffered(), 0);
        assert_eq!(budget.used, 0);
    }

    #[test]
    fn snaplen_loss_becomes_a_gap_not_data() {
        let mut h = HalfStream::default();
        h.anchor_syn(0);
        let mut chunks = Vec::new();
        let mut stats = FlowStats::default();
        let mut budget = Budget::default();
        h.segment(
            Timestamp(0),
            1,
            b"GET",
            5,
            false,
            &Limits::default(),
            &mut budget,
            &mut stats,
            &mut |c| {
                chunks.push(format!("{c:?}"));
                true
            },
        );
        h.segment(
            Timestamp(0),
            9,
            b"next",
            0,
            false,
            &Limits::default(),
            &mut budget,
            &mut stats,
            &mut |c| {
                chunks.push(format!("{c:?}"));
                true
            },
        );
        assert_eq!(chunks.len(), 3);
        assert!(chunks[1].contains("Gap { len: 5 }"), "{chunks:?}");
        assert_eq!(stats.snaplen_lost_bytes, 5);
    }

    #[test]
    fn acknowledged_hole_is_given_up_at_once() {
        let mut h = HalfStream::default();
        h.anchor_syn(0);
        let mut out = Vec::new();
        let mut stats = FlowStats::default();
        let mut budget = Budget::default();
        let mut sink = |c: Chunk<'_>| {
            out.push(format!("{c:?}"));
            true
        };
        h.segment(
            Timestamp(0),
            1,
            b"ab",
            0,
            false,
            &Limits::default(),
            &mut budget,
            &mut stats,
            &mut sink,
        );
        h.segment(
            Timestamp(0),
            10,
            b"later",
            0,
            false,
            &Limits::default(),
            &mut budget,
            &mut stats,
            &mut sink,
        );
        // An ACK short of the waiting data proves nothing.
        h.acknowledged(8, &mut budget, &mut stats, &mut sink);
        assert_eq!(h.buffered(), 5);
        h.acknowledged(15, &mut budget, &mut stats, &mut sink);
        assert_eq!(h.buffered(), 0);
        assert_eq!(stats.gaps_acked, 1);
        assert_eq!(out.len(), 3, "{out:?}");
        assert!(out[1].contains("Gap { len: 7 }"));
    }

    #[test]
    fn far_future_segment_is_out_of_window() {
        let mut h = HalfStream::default();
        h.anchor_syn(0);
        let (out, stats) = feed(&mut h, &[(1, b"a"), (1 << 31, b"zzz")], &Limits::default());
        assert_eq!(out.bytes, b"a");
        assert_eq!(stats.out_of_window_segments, 1);
    }

    proptest! {
        /// Any segmentation, reordering and duplication of a stream reassembles to it.
        #[test]
        fn reassembly_recovers_the_stream(
            data in proptest::collection::vec(any::<u8>(), 1..2000),
            cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..40),
            dups in proptest::collection::vec(any::<prop::sample::Index>(), 0..10),
            order in any::<prop::sample::Index>(),
            isn in any::<u32>(),
            shuffle_seed in any::<u64>(),
        ) {
            let mut points: Vec<usize> = cuts.iter().map(|i| i.index(data.len())).collect();
            points.push(0);
            points.push(data.len());
            points.sort_unstable();
            points.dedup();
            let mut segs: Vec<(u32, &[u8])> = points
                .windows(2)
                .map(|w| (isn.wrapping_add(1).wrapping_add(w[0] as u32), &data[w[0]..w[1]]))
                .collect();
            // Duplicates (retransmissions of whole segments).
            for d in &dups {
                let s = segs[d.index(segs.len())];
                segs.push(s);
            }
            // Deterministic shuffle.
            let mut state = shuffle_seed | 1;
            for i in (1..segs.len()).rev() {
                state ^= state << 13; state ^= state >> 7; state ^= state << 17;
                segs.swap(i, (state % (i as u64 + 1)) as usize);
            }
            let _ = order;
            let mut h = HalfStream::default();
            h.anchor_syn(isn);
            let (out, _) = feed(&mut h, &segs, &Limits::default());
            prop_assert_eq!(out.bytes, data);
            prop_assert!(out.gaps.is_empty());
        }

        /// Overlapping segments with conflicting content: output is the first-seen byte at every offset.
        #[test]
        fn overlaps_keep_first_seen_bytes(
            segs in proptest::collection::vec((0u32..200, proptest::collection::vec(any::<u8>(), 1..60)), 1..30),
        ) {
            // Model: byte map of first-seen values over the covered range.
            let mut model: BTreeMap<u64, u8> = BTreeMap::new();
            let mut delivered_upto = 0u64; // bytes before this were delivered in order
            let mut h = HalfStream::default();
            h.anchor_syn(u32::MAX); // offset 0 = seq 0
            let mut out = Vec::new();
            let mut stats = FlowStats::default();
            let mut budget = Budget::default();
            for (seq, bytes) in &segs {
                for (i, b) in bytes.iter().enumerate() {
                    let off = u64::from(*seq) + i as u64;
                    if off >= delivered_upto {
                        model.entry(off).or_insert(*b);
                    }
                }
                h.segment(Timestamp(0), *seq, bytes, 0, false, &Limits::default(), &mut budget, &mut stats, &mut |c| {
                    if let Chunk::Data { bytes, .. } = c { out.extend_from_slice(bytes); }
                    true
                });
                while model.contains_key(&delivered_upto) { delivered_upto += 1; }
            }
            // Everything contiguous from 0 must equal the model's first-seen bytes.
            let expect: Vec<u8> = (0..delivered_upto).map(|o| model[&o]).collect();
            prop_assert_eq!(&out[..], &expect[..]);
        }
    }
}
