//! TCP flow tracking and stream reassembly.
//!
//! In: [`TcpSegment`]s with their capture time. Out: for each flow and each
//! direction, the byte stream in order, as [`Chunk`]s handed to a
//! [`StreamHandler`], which keeps its own per-flow state inside the flow
//! entry. Both directions of a connection meet in one flow (the key is the
//! unordered address/port pair; VLAN tags and tunnels play no part).
//!
//! Bounded memory: the table holds at most [`Limits::max_flows`] flows (the
//! least recently active are evicted when full), idle flows time out by
//! capture time, out-of-order bytes are capped per direction and in total.
//! Every drop is counted in [`FlowStats`].
#![cfg_attr(not(test), deny(clippy::arithmetic_side_effects))]

mod stream;
mod table;

pub use stream::{Budget, HalfStream};
pub use table::{FlowKey, FlowTable, SweepSchedule, shard_of};

use std::net::SocketAddr;

use crate::decode::Tunnel;
use crate::time::Timestamp;

/// One of the two endpoints of a flow. `A` is the endpoint that sorts first
/// (address, then port), so both directions of a connection agree.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Side {
    /// The lower endpoint.
    A,
    /// The higher endpoint.
    B,
}

impl Side {
    /// The other endpoint.
    pub fn other(self) -> Side {
        match self {
            Side::A => Side::B,
            Side::B => Side::A,
        }
    }

    /// 0 for `A`, 1 for `B`.
    pub fn index(self) -> usize {
        match self {
            Side::A => 0,
            Side::B => 1,
        }
    }

    /// This side's element of a per-side pair.
    pub fn of<T>(self, pair: &[T; 2]) -> &T {
        let [a, b] = pair;
        match self {
            Side::A => a,
            Side::B => b,
        }
    }

    /// This side's element of a per-side pair, mutably.
    pub fn of_mut<T>(self, pair: &mut [T; 2]) -> &mut T {
        let [a, b] = pair;
        match self {
            Side::A => a,
            Side::B => b,
        }
    }
}

/// A piece of one direction's byte stream, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Chunk<'a> {
    /// Bytes, and the capture time of the packet that carried their first byte.
    Data {
        /// Capture time.
        ts: Timestamp,
        /// The bytes.
        bytes: &'a [u8],
    },
    /// This many bytes are missing from the stream (lost, not captured, or given up).
    Gap {
        /// Number of bytes missing.
        len: u64,
    },
}

/// Per side, the IP tunnel of that side's latest packet. Boxed, and only
/// once a packet came through a tunnel: most flows have none, and a flow
/// entry then pays 8 bytes for them, not 88.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FlowTunnels(Option<Box<[Option<Tunnel>; 2]>>);

impl FlowTunnels {
    /// The tunnel of `side`'s latest packet.
    pub fn get(&self, side: Side) -> Option<Tunnel> {
        self.0.as_deref().and_then(|pair| *side.of(pair))
    }

    /// Records the tunnel of `side`'s latest packet.
    pub fn set(&mut self, side: Side, tunnel: Option<Tunnel>) {
        if let Some(pair) = self.0.as_deref_mut() {
            *side.of_mut(pair) = tunnel;
        } else if tunnel.is_some() {
            let mut pair = [None; 2];
            *side.of_mut(&mut pair) = tunnel;
            self.0 = Some(Box::new(pair));
        }
    }
}

/// What a flow's handler sees of the flow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlowContext {
    /// Identifier, unique within one capture source and the same for any
    /// number of threads: one more than the index of the packet that created
    /// the flow.
    pub id: u64,
    /// Endpoints, per side (see [`Side::of`]).
    pub endpoints: [SocketAddr; 2],
    /// The side that sent the opening SYN, when the handshake was captured.
    pub syn_client: Option<Side>,
    /// The side that answered the SYN put data on its SYN-ACK (TCP allows
    /// it; its stream then starts with those bytes).
    pub synack_data: bool,
    /// Index (in its source) of the packet that created the flow; orders flows
    /// the same way whatever the hashing or the number of threads.
    pub first_packet: u64,
    /// Per side, the IP tunnel of that side's latest packet: a handover
    /// between base stations changes it mid-flow.
    pub tunnels: FlowTunnels,
}

impl FlowContext {
    /// The address of one side.
    pub fn addr(&self, side: Side) -> SocketAddr {
        *side.of(&self.endpoints)
    }
}

/// Whether a handler wants more of a direction's stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interest {
    /// Keep delivering.
    Continue,
    /// Deliver nothing more of this direction (and buffer nothing for it).
    Stop,
}

/// Why a flow ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloseReason {
    /// Both directions sent FIN, or a RST was seen.
    Closed,
    /// No packet for [`Limits::idle_timeout_secs`] of capture time.
    Idle,
    /// Evicted to make room in a full table.
    Evicted,
    /// End of input.
    EndOfInput,
    /// A new connection reused the address/port pair.
    Reused,
}

/// The consumer of reassembled streams (the HTTP layer).
pub trait StreamHandler {
    /// Per-flow state, created empty with the flow and dropped with it.
    type State: Default;

    /// Next piece of `side`'s stream.
    fn on_chunk(
        &mut self,
        state: &mut Self::State,
        flow: &FlowContext,
        side: Side,
        chunk: Chunk<'_>,
    ) -> Interest;

    /// The flow ended; its streams were flushed before this call.
    fn on_close(&mut self, state: &mut Self::State, flow: &FlowContext, reason: CloseReason);
}

/// Resource limits of the flow table; every limit has a counter in [`FlowStats`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Flows tracked at once; when full, the least recently active 1/16 are evicted.
    pub max_flows: usize,
    /// A flow with no packet for this long (capture time) is flushed and forgotten.
    pub idle_timeout_secs: i64,
    /// Out-of-order bytes buffered per direction before the first hole is given up.
    pub max_ooo_per_direction: usize,
    /// Out-of-order bytes buffered across all flows before holes are given up.
    pub ooo_memcap: usize,
    /// Segments starting further than this beyond the next expected byte are dropped.
    pub max_window: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_flows: 100_000,
            idle_timeout_secs: 300,
            max_ooo_per_direction: 1 << 20,
            ooo_memcap: 64 << 20,
            max_window: 1 << 30,
        }
    }
}

counters! {
    /// Counters of the flow stage.
    pub struct FlowStats {
        /// Flows created.
        pub flows: u64,
        /// Flows whose handshake was not captured (picked up mid-stream).
        pub flows_midstream: u64,
        /// Flows ended by FIN/FIN or RST.
        pub flows_closed: u64,
        /// Flows ended by the idle timeout.
        pub flows_timed_out: u64,
        /// Flows evicted from a full table.
        pub flows_evicted: u64,
        /// Flows replaced by a new connection on the same address/port pair.
        pub flows_reused: u64,
        /// Packets without payload or SYN for no tracked flow (not worth a flow).
        pub packets_untracked: u64,
        /// Packets of connections already under way (no SYN) not tracked
        /// because the flow table was full: only a new connection evicts.
        pub packets_untracked_table_full: u64,
        /// Bytes received again after they had been delivered.
        pub retransmitted_bytes: u64,
        /// Buffered bytes received again (the first copy was kept).
        pub overlap_bytes: u64,
        /// Segments too far beyond the window to be believed.
        pub out_of_window_segments: u64,
        /// Holes given up (delivered as gaps).
        pub gaps: u64,
        /// Bytes in those holes.
        pub gap_bytes: u64,
        /// Holes given up because the peer acknowledged them (the capture missed them).
        pub gaps_acked: u64,
        /// Gaps forced because a direction buffered more than its cap.
        pub gaps_forced_by_direction_cap: u64,
        /// Gaps forced because all flows together buffered more than the memcap.
        pub gaps_forced_by_memcap: u64,
        /// Payload bytes that were on the wire but cut by the snap length.
        pub snaplen_lost_bytes: u64,
    }
}
