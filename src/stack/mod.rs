//! The client stream stack: from reassembled TCP streams to requests.
//!
//! In: [`Chunk`]s of each direction of each flow (this module implements
//! [`StreamHandler`]). Out: [`Request`]s, each as soon as its header block is
//! complete, collected in [`Extractor::take_requests`].
//!
//! The extractor decides which side of a flow is the client and feeds that
//! side's stream to a [`ClientStack`] (`layers.rs`): a chooser that looks at
//! what the stream (or the rest of a tunnel) starts with and the layers it
//! hands it to (SOCKS handshakes, HTTP/1 with its CONNECT tunnels). Requests
//! are recognised by content on any port. Only the client direction
//! is parsed: the side that sent the SYN when the handshake was captured;
//! mid-stream, the side on an unprivileged port when the other is on a usual
//! HTTP port (80, 8080, 3128, ...), else the side that sends a request line (a
//! side that first shows a response status line is the server). Bytes of the server are never read
//! as requests, except that a request on the SYN-ACK (the side that answered
//! the SYN speaking first, with a request line) makes that side the client.
//! Flows whose client does not open with a request line (after a SOCKS
//! handshake, if any) are dropped from parsing at once (TLS, SSH, ...).
//! The budget for partial heads of all flows is kept here
//! ([`HttpLimits::head_memcap`]).
#![cfg_attr(not(test), deny(clippy::arithmetic_side_effects))]

mod layers;
mod socks;

pub use layers::{ClientStack, Feed};

use crate::flow::{Chunk, CloseReason, FlowContext, Interest, Side, StreamHandler};
use crate::http::{HttpLimits, HttpStats, ParsedRequest, Request, Verdict, parse_request_line};

/// Heads up to this size keep the last quarter of
/// [`HttpLimits::head_memcap`] for themselves (ordinary heads are a few
/// hundred bytes to a few KiB).
const SMALL_HEAD: usize = 8 << 10;

/// Per-flow state, kept inside the flow table's entry: the client's side
/// and each side's stack while roles are unknown.
#[derive(Debug, Default)]
pub struct FlowStreams {
    client: Option<Side>,
    streams: [Option<ClientStack>; 2],
    /// Requests published so far.
    requests: u64,
}

/// Ports on which HTTP servers (and proxies) usually listen.
const HTTP_SERVER_PORTS: [u16; 9] = [80, 81, 591, 3128, 8000, 8008, 8080, 8088, 8888];

/// For a flow picked up mid-stream: when exactly one endpoint listens on a
/// usual HTTP port and the other uses an unprivileged port, the other is the
/// client. This spares scanning megabytes of response bodies for a request
/// line; on any other port pair the content decides.
fn server_port_hint(flow: &FlowContext) -> Option<Side> {
    let is_server = |side: Side| HTTP_SERVER_PORTS.contains(&flow.addr(side).port());
    match (is_server(Side::A), is_server(Side::B)) {
        (true, false) if flow.addr(Side::B).port() >= 1024 => Some(Side::B),
        (false, true) if flow.addr(Side::A).port() >= 1024 => Some(Side::A),
        _ => None,
    }
}

/// Whether `side`, which answered the SYN, is the client after all: it put
/// data on its SYN-ACK, its stream (that first chunk) opens with a complete
/// request line, and the SYN's sender has sent nothing yet. A server that
/// merely speaks first after the handshake is not taken for a client.
fn responder_speaks_first(
    state: &FlowStreams,
    flow: &FlowContext,
    side: Side,
    chunk: &Chunk<'_>,
) -> bool {
    let Chunk::Data { bytes, .. } = chunk else {
        return false;
    };
    flow.syn_client == Some(side.other())
        && flow.synack_data
        && state.requests == 0
        && state.streams.iter().all(Option::is_none)
        && memchr::memchr(b'\n', bytes)
            .and_then(|nl| bytes.get(..nl))
            .is_some_and(|line| parse_request_line(line).is_some())
}

/// Turns reassembled streams into requests.
#[derive(Debug, Default)]
pub struct Extractor {
    limits: HttpLimits,
    stats: HttpStats,
    /// Bytes held in partial heads across all flows.
    buffered: usize,
    parsed: Vec<ParsedRequest>,
    ready: Vec<Request>,
}

impl Extractor {
    /// An extractor with these limits.
    pub fn new(limits: HttpLimits) -> Self {
        Extractor {
            limits,
            ..Default::default()
        }
    }

    /// Counters so far.
    pub fn stats(&self) -> &HttpStats {
        &self.stats
    }

    /// Requests completed since the last call, in the order they completed.
    pub fn take_requests(&mut self) -> std::vec::Drain<'_, Request> {
        self.ready.drain(..)
    }

    /// Attaches flow facts to parsed heads and queues them.
    fn publish(&mut self, flow: &FlowContext, client: Side, published: &mut u64) {
        for p in self.parsed.drain(..) {
            self.stats.requests = self.stats.requests.saturating_add(1);
            *published = published.saturating_add(1);
            self.ready.push(Request {
                ts: p.ts,
                client: flow.addr(client),
                server: flow.addr(client.other()),
                flow_id: flow.id,
                method: p.head.method,
                uri: p.head.uri,
                version: p.head.version,
                headers: p.head.headers,
                truncated: p.truncated,
                flow_order: (flow.first_packet, *published),
                tunnel: *client.of(&flow.tunnels),
            });
        }
    }
}

impl StreamHandler for Extractor {
    type State = FlowStreams;

    fn on_chunk(
        &mut self,
        state: &mut FlowStreams,
        flow: &FlowContext,
        side: Side,
        chunk: Chunk<'_>,
    ) -> Interest {
        if state.client.is_none() {
            state.client = flow.syn_client.or_else(|| server_port_hint(flow));
        }
        if state.client.is_some_and(|c| c != side)
            && responder_speaks_first(state, flow, side, &chunk)
        {
            // The side that answered the SYN opens the connection with a
            // request before the SYN's sender sent a byte: it is the client.
            state.client = Some(side);
            self.stats.responder_clients = self.stats.responder_clients.saturating_add(1);
        }
        if state.client.is_some_and(|c| c != side) {
            // The server's side: never parsed. Drop what it held before roles were known.
            if let Some(s) = side.of_mut(&mut state.streams).take() {
                self.buffered = self.buffered.saturating_sub(s.buffered());
            }
            return Interest::Stop;
        }
        let stream = side
            .of_mut(&mut state.streams)
            .get_or_insert_with(|| ClientStack::new(flow.syn_client.is_some()));
        let before = stream.buffered();
        let verdict = match chunk {
            Chunk::Data { ts, bytes } => {
                // A head past SMALL_HEAD may fill only three quarters of the
                // cap: heads that never end (an attack, or thousands of huge
                // cookies) cannot crowd out the ordinary ones.
                let cap = if before.saturating_add(bytes.len()) > SMALL_HEAD {
                    self.limits
                        .head_memcap
                        .saturating_sub(self.limits.head_memcap / 4)
                } else {
                    self.limits.head_memcap
                };
                let room = cap.saturating_sub(self.buffered).saturating_add(before);
                let max = self.limits.max_head_bytes.min(room);
                if max < self.limits.max_head_bytes {
                    self.stats.heads_cut_by_memcap =
                        self.stats.heads_cut_by_memcap.saturating_add(1);
                }
                let mut feed = Feed {
                    max_head: max,
                    http: &mut self.stats,
                    out: &mut self.parsed,
                };
                stream.data(ts, bytes, &mut feed)
            }
            Chunk::Gap { len } => {
                let mut feed = Feed {
                    max_head: self.limits.max_head_bytes,
                    http: &mut self.stats,
                    out: &mut self.parsed,
                };
                stream.gap(len, &mut feed)
            }
        };
        let after = stream.buffered();
        self.buffered = self.buffered.saturating_sub(before).saturating_add(after);
        if !self.parsed.is_empty() {
            let client = *state.client.get_or_insert(side);
            self.publish(flow, client, &mut state.requests);
        }
        match verdict {
            Verdict::Continue | Verdict::Tunnel(_) => Interest::Continue,
            Verdict::Server => {
                if state.client.is_none() {
                    state.client = Some(side.other());
                }
                Interest::Stop
            }
            Verdict::Stopped => Interest::Stop,
        }
    }

    fn on_close(&mut self, state: &mut FlowStreams, flow: &FlowContext, _reason: CloseReason) {
        for side in [Side::A, Side::B] {
            if state.client.is_some_and(|c| c != side) {
                if let Some(s) = side.of_mut(&mut state.streams).as_mut() {
                    self.buffered = self.buffered.saturating_sub(s.buffered());
                }
                continue;
            }
            if let Some(stream) = side.of_mut(&mut state.streams).as_mut() {
                self.buffered = self.buffered.saturating_sub(stream.buffered());
                let mut feed = Feed {
                    max_head: self.limits.max_head_bytes,
                    http: &mut self.stats,
                    out: &mut self.parsed,
                };
                stream.end(&mut feed);
                if !self.parsed.is_empty() {
                    let client = *state.client.get_or_insert(side);
                    self.publish(flow, client, &mut state.requests);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::Timestamp;

    /// Requests (client, target) after the side that answered the SYN sends
    /// `first`, then the SYN's sender sends `then`.
    fn roles(synack_data: bool, first: &[u8], then: &[u8]) -> (Vec<(String, String)>, u64) {
        let flow = FlowContext {
            id: 1,
            endpoints: [
                "10.0.0.1:80".parse().unwrap(),
                "10.0.0.9:40000".parse().unwrap(),
            ],
            syn_client: Some(Side::B),
            synack_data,
            first_packet: 0,
            tunnels: [None; 2],
        };
        let mut x = Extractor::new(HttpLimits::default());
        let mut state = FlowStreams::default();
        let ts = Timestamp(0);
        x.on_chunk(&mut state, &flow, Side::A, Chunk::Data { ts, bytes: first });
        x.on_chunk(&mut state, &flow, Side::B, Chunk::Data { ts, bytes: then });
        x.on_close(&mut state, &flow, CloseReason::Closed);
        let got = x
            .take_requests()
            .map(|r| (r.client.to_string(), r.uri))
            .collect();
        (got, x.stats().responder_clients)
    }

    #[test]
    fn heads_that_never_end_leave_room_for_ordinary_ones() {
        let limits = HttpLimits {
            max_head_bytes: 64 << 10,
            head_memcap: 256 << 10,
        };
        let mut x = Extractor::new(limits);
        let ts = Timestamp(0);
        let flow = |port: u16| FlowContext {
            id: u64::from(port),
            endpoints: [
                format!("10.0.0.9:{port}").parse().unwrap(),
                "10.0.0.1:80".parse().unwrap(),
            ],
            syn_client: Some(Side::A),
            synack_data: false,
            first_packet: u64::from(port),
            tunnels: [None; 2],
        };
        // Twelve heads of 30 KiB that never end: 360 KiB asked of a 256 KiB cap.
        let mut attackers: Vec<(FlowStreams, FlowContext)> = Vec::new();
        let line = format!("X-Filler: {}\r\n", "a".repeat(1000));
        for port in 0..12u16 {
            let f = flow(40_000 + port);
            let mut state = FlowStreams::default();
            x.on_chunk(
                &mut state,
                &f,
                Side::A,
                Chunk::Data {
                    ts,
                    bytes: b"GET /a HTTP/1.1\r\n",
                },
            );
            attackers.push((state, f));
        }
        for _ in 0..30 {
            for (state, f) in &mut attackers {
                x.on_chunk(
                    state,
                    f,
                    Side::A,
                    Chunk::Data {
                        ts,
                        bytes: line.as_bytes(),
                    },
                );
            }
        }
        assert!(x.stats().heads_cut_by_memcap > 0);
        // An ordinary request still has room, whole.
        let legit = flow(50_000);
        let mut state = FlowStreams::default();
        let head = b"GET /legit HTTP/1.1\r\nHost: a\r\nX-MSISDN: 447700900123\r\n\r\n";
        x.on_chunk(&mut state, &legit, Side::A, Chunk::Data { ts, bytes: head });
        let got: Vec<Request> = x.take_requests().filter(|r| r.uri == "/legit").collect();
        assert_eq!(got.len(), 1);
        assert!(!got[0].truncated);
        assert_eq!(got[0].headers.len(), 2);
    }

    #[test]
    fn a_request_on_the_syn_ack_makes_its_sender_the_client() {
        let req = b"GET /mine HTTP/1.1\r\nHost: a\r\n\r\n";
        let resp = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
        assert_eq!(
            roles(true, req, resp),
            (vec![("10.0.0.1:80".to_string(), "/mine".to_string())], 1)
        );
        // Without data on the SYN-ACK, a server speaking first stays the server.
        let normal = b"GET /theirs HTTP/1.1\r\n\r\n";
        assert_eq!(
            roles(false, req, normal),
            (
                vec![("10.0.0.9:40000".to_string(), "/theirs".to_string())],
                0
            )
        );
        // Data on the SYN-ACK that is no request line: roles as the SYN says.
        assert_eq!(
            roles(true, b"220 smtp ready\r\n", normal),
            (
                vec![("10.0.0.9:40000".to_string(), "/theirs".to_string())],
                0
            )
        );
    }
}
