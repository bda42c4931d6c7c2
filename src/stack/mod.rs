//! The client stream stack: from reassembled TCP streams to requests.
//!
//! In: [`Chunk`]s of each direction of each flow (this module implements
//! [`StreamHandler`]). Out: [`Request`]s, each as soon as its header block is
//! complete (and, when asked, [`Answer`]s), collected in
//! [`Extractor::take_output`].
//!
//! The extractor decides which side of a flow is the client and feeds that
//! side's stream to a [`ClientStack`] (`layers.rs`): a chooser that looks at
//! what the stream (or the rest of a tunnel) starts with and the layers it
//! hands it to (SOCKS handshakes, TLS with its own stack for the decrypted
//! bytes, HTTP/1 with its CONNECT tunnels, HTTP/2). Requests
//! are recognised by content on any port. Only the client direction
//! is parsed: the side that sent the SYN when the handshake was captured;
//! mid-stream, the side on an unprivileged port when the other is on a usual
//! HTTP port (80, 8080, 3128, ...), else the side that sends a request line (a
//! side that first shows a response status line is the server). Bytes of the server are never read
//! as requests (the client's stack reads them only for a TLS handshake, on
//! h2c for HTTP/2 server push and SETTINGS, and, when asked
//! ([`Extractor::set_read_responses`]), for the HTTP/1 responses' status:
//! see `layers.rs`), except that a request on the SYN-ACK (the side that answered
//! the SYN speaking first, with a request line) makes that side the client.
//! Flows whose client does not open with a request line, TLS or HTTP/2
//! (after a SOCKS handshake, if any) are dropped from parsing at once (SSH,
//! ...). On a flow picked up mid-stream the stack recognises TLS records (the
//! flow is counted once as a TLS connection not decrypted, handshake
//! missing) and HTTP/2 frames by their framing (`layers.rs`); a side that
//! sends a ClientHello there is the client, one whose HTTP/2 header blocks
//! are responses the server.
//! The budget for partial heads of all flows is kept here
//! ([`HttpLimits::head_memcap`]).
#![cfg_attr(not(test), deny(clippy::arithmetic_side_effects))]

mod layers;
mod socks;

pub use layers::{ClientStack, Feed};

use crate::flow::{Chunk, CloseReason, FlowContext, Interest, Side, StreamHandler};
use std::sync::Arc;

use crate::body::{self, BodyStats};
use crate::capture::Secrets;
use crate::h2::H2Stats;
use crate::http::{
    Answer, HttpLimits, HttpStats, ParsedAnswer, ParsedRequest, Request, Verdict,
    parse_request_line,
};
use crate::tls::{KeyLog, KeyLogStats, TlsLimits, TlsStats};

/// Heads up to this size keep the last quarter of
/// [`HttpLimits::head_memcap`] for themselves (ordinary heads are a few
/// hundred bytes to a few KiB).
const SMALL_HEAD: usize = 8 << 10;

/// Per-flow state, kept inside the flow table's entry: the client's side
/// and each side's stack while roles are unknown. The stacks are boxed and
/// made at a side's first byte: a flow that never carries data (a SYN
/// flood's) pays 16 bytes for them, not 208.
#[derive(Debug, Default)]
pub struct FlowStreams {
    client: Option<Side>,
    streams: [Option<Box<ClientStack>>; 2],
    /// Requests published so far.
    requests: u64,
    /// The flow was counted as a TLS connection picked up mid-stream (once,
    /// whichever of its sides showed the records first).
    tls_midstream: bool,
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

/// Limits of the stack: HTTP/1 heads and TLS records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StackLimits {
    /// Partial heads.
    pub http: HttpLimits,
    /// Each TLS connection's limits.
    pub tls: TlsLimits,
    /// TLS records held across all flows while their ServerHello or keys are
    /// missing; past it, the flow adding to them has its held records cut.
    pub tls_held_memcap: usize,
}

/// Closed TLS connections kept waiting for keys at most (then the oldest is
/// ended, its records counted as never decrypted).
const MAX_PARKED: usize = 4096;

/// A closed TLS connection whose held records wait for keys that may still
/// come (a Decryption Secrets Block later in the capture).
#[derive(Debug)]
struct Parked {
    flow: FlowContext,
    client: Side,
    stack: Box<ClientStack>,
    requests: u64,
}

/// Turns reassembled streams into requests.
#[derive(Debug, Default)]
pub struct Extractor {
    limits: StackLimits,
    stats: HttpStats,
    tls_stats: TlsStats,
    h2_stats: H2Stats,
    body_stats: BodyStats,
    /// Bytes held in bodies being collected across all flows.
    bodies: usize,
    /// The run's TLS secrets (those given before the run, then those read
    /// from the capture).
    keys: KeyLog,
    /// Bytes held in partial heads across all flows.
    buffered: usize,
    /// TLS records held across all flows (see [`StackLimits::tls_held_memcap`]).
    held: usize,
    /// Closed connections waiting for keys, oldest first.
    parked: Vec<Parked>,
    parsed: Vec<ParsedRequest>,
    /// Read the server's HTTP/1 responses (see [`Extractor::set_read_responses`]).
    read_responses: bool,
    answers: Vec<ParsedAnswer>,
    ready: Vec<Output>,
}

/// What the stack gives, in order.
// Requests are the common case: boxing them would cost an allocation each.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    /// A request.
    Request(Request),
    /// The response to an earlier request (only when responses are read).
    Answer(Answer),
}

impl Extractor {
    /// An extractor with these limits and the secrets known before the run.
    pub fn new(limits: StackLimits, keys: Arc<KeyLog>) -> Self {
        Extractor {
            limits,
            keys: KeyLog::over(keys),
            ..Default::default()
        }
    }

    /// Says whether the secrets of the run are all known already (no
    /// Decryption Secrets Block can come with the input, no key log is
    /// followed): TLS connections then hold no ciphertext for missing keys.
    pub fn set_keys_complete(&mut self, complete: bool) {
        self.keys.set_complete(complete);
    }

    /// Counters so far.
    pub fn stats(&self) -> &HttpStats {
        &self.stats
    }

    /// TLS counters so far.
    pub fn tls_stats(&self) -> &TlsStats {
        &self.tls_stats
    }

    /// HTTP/2 counters so far.
    pub fn h2_stats(&self) -> &H2Stats {
        &self.h2_stats
    }

    /// Body counters so far.
    pub fn body_stats(&self) -> &BodyStats {
        &self.body_stats
    }

    /// Takes secrets read from the capture (counted by the caller, once per run).
    pub fn add_secrets(&mut self, secrets: &Secrets) {
        let mut uncounted = KeyLogStats::default();
        secrets.add_to(&mut self.keys, &mut uncounted);
    }

    /// Reads the server's responses to the HTTP/1 requests of plaintext
    /// connections seen from their start ([`Output::Answer`]); off by default.
    pub fn set_read_responses(&mut self, read: bool) {
        self.read_responses = read;
    }

    /// Requests completed (and responses read) since the last call, in the
    /// order they completed.
    pub fn take_output(&mut self) -> std::vec::Drain<'_, Output> {
        self.ready.drain(..)
    }

    /// Requests completed since the last call, in the order they completed
    /// (answers, if responses are read, are dropped).
    pub fn take_requests(&mut self) -> impl Iterator<Item = Request> + '_ {
        self.ready.drain(..).filter_map(|o| match o {
            Output::Request(r) => Some(r),
            Output::Answer(_) => None,
        })
    }

    /// Gives closed connections waiting for keys a last try (`all`: every
    /// one, at the end of a source; else those whose keys arrived).
    pub fn retry_parked(&mut self, all: bool) {
        if self.parked.is_empty() {
            return;
        }
        let mut at = 0;
        while at < self.parked.len() {
            let due = all
                || self
                    .parked
                    .get(at)
                    .is_some_and(|p| !p.stack.waiting_for_keys(&self.keys));
            if due {
                self.end_parked(at);
            } else {
                at = at.saturating_add(1);
            }
        }
    }

    /// Ends the `at`-th parked connection and publishes what it held.
    fn end_parked(&mut self, at: usize) {
        if at >= self.parked.len() {
            return;
        }
        let mut p = self.parked.remove(at);
        let held = p.stack.held_ciphertext();
        let max_head = self.limits.http.max_head_bytes;
        let mut feed = feed(
            &self.limits,
            &mut self.stats,
            &self.keys,
            &mut self.tls_stats,
            &mut self.h2_stats,
            (&mut self.parsed, &mut self.answers),
            (max_head, 0),
            (self.read_responses, p.requests),
        );
        p.stack.end(&mut feed);
        self.held = self.held.saturating_sub(held);
        self.publish(&p.flow, p.client, &mut p.requests);
    }

    /// Attaches flow facts to parsed heads and responses and queues them.
    fn publish(&mut self, flow: &FlowContext, client: Side, published: &mut u64) {
        self.publish_requests(flow, client, published);
        for a in self.answers.drain(..) {
            self.ready.push(Output::Answer(Answer {
                flow_order: (flow.first_packet, a.seq),
                status: a.status,
                ts: a.ts,
            }));
        }
    }

    fn publish_requests(&mut self, flow: &FlowContext, client: Side, published: &mut u64) {
        for p in self.parsed.drain(..) {
            // A request a server promised is not one the client sent (the
            // H2 layer counts it as `h2.pushed_requests`).
            if p.pushed_on.is_none() {
                self.stats.requests = self.stats.requests.saturating_add(1);
            }
            *published = published.saturating_add(1);
            if p.body_skipped {
                self.body_stats.skipped = self.body_stats.skipped.saturating_add(1);
            }
            let body = p.body.map(|raw| {
                Box::new(body::read_body(
                    raw,
                    &p.head.headers,
                    self.limits.http.max_body_bytes,
                    &mut self.body_stats,
                ))
            });
            self.ready.push(Output::Request(Request {
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
                tunnel: flow.tunnels.get(client),
                tls: p.tls,
                stream_id: p.stream_id,
                pushed_on: p.pushed_on,
                authority: p.authority,
                body,
                answer_awaited: p.answer_awaited,
            }));
        }
    }

    /// The longest partial head the stack may hold now, with `incoming` new bytes.
    fn head_room(&mut self, held_now: usize, incoming: usize) -> usize {
        let limits = &self.limits.http;
        // A head past SMALL_HEAD may fill only three quarters of the
        // cap: heads that never end (an attack, or thousands of huge
        // cookies) cannot crowd out the ordinary ones.
        let cap = if held_now.saturating_add(incoming) > SMALL_HEAD {
            limits.head_memcap.saturating_sub(limits.head_memcap / 4)
        } else {
            limits.head_memcap
        };
        let room = cap.saturating_sub(self.buffered).saturating_add(held_now);
        let max = limits.max_head_bytes.min(room);
        if max < limits.max_head_bytes {
            self.stats.heads_cut_by_memcap = self.stats.heads_cut_by_memcap.saturating_add(1);
        }
        max
    }

    /// Runs `step` on a client stack with the run's limits, keys and
    /// counters, keeps the memory budgets and publishes what it found.
    fn step(
        &mut self,
        stack: &mut ClientStack,
        flow: &FlowContext,
        client: Option<Side>,
        published: &mut u64,
        incoming: usize,
        step: impl FnOnce(&mut ClientStack, &mut Feed<'_>) -> Verdict,
    ) -> (Verdict, bool) {
        let before = stack.buffered();
        let held_before = stack.held_ciphertext();
        let body_before = stack.body_held();
        let max_head = self.head_room(before, incoming);
        let body_room = self
            .limits
            .http
            .body_memcap
            .saturating_sub(self.bodies)
            .saturating_add(body_before);
        let mut feed = feed(
            &self.limits,
            &mut self.stats,
            &self.keys,
            &mut self.tls_stats,
            &mut self.h2_stats,
            (&mut self.parsed, &mut self.answers),
            (max_head, body_room),
            (self.read_responses, *published),
        );
        let verdict = step(stack, &mut feed);
        if self
            .held
            .saturating_sub(held_before)
            .saturating_add(stack.held_ciphertext())
            > self.limits.tls_held_memcap
        {
            stack.drop_held(&mut feed);
        }
        self.held = self
            .held
            .saturating_sub(held_before)
            .saturating_add(stack.held_ciphertext());
        self.buffered = self
            .buffered
            .saturating_sub(before)
            .saturating_add(stack.buffered());
        self.bodies = self
            .bodies
            .saturating_sub(body_before)
            .saturating_add(stack.body_held());
        let found = !self.parsed.is_empty();
        if let Some(client) = client
            && (found || !self.answers.is_empty())
        {
            self.publish(flow, client, published);
        }
        (verdict, found)
    }
}

/// The shared state a stack is fed with (the extractor's fields, borrowed
/// apart so the flow's stack can be fed beside them).
#[allow(clippy::too_many_arguments)]
fn feed<'a>(
    limits: &'a StackLimits,
    http: &'a mut HttpStats,
    keys: &'a KeyLog,
    tls: &'a mut TlsStats,
    h2: &'a mut H2Stats,
    (out, answers): (&'a mut Vec<ParsedRequest>, &'a mut Vec<ParsedAnswer>),
    (max_head, body_room): (usize, usize),
    (read_responses, published): (bool, u64),
) -> Feed<'a> {
    Feed {
        max_head,
        body_room,
        body_limit: limits.http.max_body_bytes,
        http,
        tls_limits: &limits.tls,
        keys,
        tls,
        h2,
        out,
        read_responses,
        published,
        answers,
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
        if let Some(client) = state.client.filter(|c| *c != side) {
            // The server's side: never parsed as requests. Drop what it held
            // before roles were known; a TLS layer of the client's stack
            // reads the server's handshake, an HTTP/1 one its responses
            // when asked.
            if let Some(s) = side.of_mut(&mut state.streams).take() {
                self.buffered = self.buffered.saturating_sub(s.buffered());
                self.bodies = self.bodies.saturating_sub(s.body_held());
                self.held = self.held.saturating_sub(s.held_ciphertext());
            }
            // The server spoke before the client with what starts like an
            // HTTP/2 server's SETTINGS: at a connection's start, the client's
            // stack is made now (its chooser keeps what an h2c server's first
            // frames say; see layers.rs). Else nothing of the server is read.
            let server_first = || {
                let Chunk::Data { bytes, .. } = &chunk else {
                    return false;
                };
                flow.syn_client.is_some() && crate::h2::frames::may_be_server_preface(bytes)
            };
            let Some(mut stack) = client
                .of_mut(&mut state.streams)
                .take()
                .or_else(|| server_first().then(|| Box::new(ClientStack::new(true))))
            else {
                return Interest::Stop;
            };
            if !stack.wants_server() {
                *client.of_mut(&mut state.streams) = Some(stack);
                return Interest::Stop;
            }
            let mut published = state.requests;
            self.step(
                &mut stack,
                flow,
                Some(client),
                &mut published,
                0,
                |stack, feed| {
                    match chunk {
                        Chunk::Data { ts, bytes } => stack.server(ts, bytes, feed),
                        Chunk::Gap { len } => stack.server_gap(len, feed),
                    }
                    Verdict::Continue
                },
            );
            state.requests = published;
            let wants = stack.wants_server();
            *client.of_mut(&mut state.streams) = Some(stack);
            return if wants {
                Interest::Continue
            } else {
                Interest::Stop
            };
        }
        let mut stack = side.of_mut(&mut state.streams).take().unwrap_or_else(|| {
            Box::new(if flow.syn_client.is_some() {
                ClientStack::new(true)
            } else {
                ClientStack::picked_up(state.client.is_some())
            })
        });
        let mut published = state.requests;
        let incoming = match chunk {
            Chunk::Data { bytes, .. } => bytes.len(),
            Chunk::Gap { .. } => 0,
        };
        let (verdict, found) = self.step(
            &mut stack,
            flow,
            state.client,
            &mut published,
            incoming,
            |stack, feed| match chunk {
                Chunk::Data { ts, bytes } => stack.data(ts, bytes, feed),
                Chunk::Gap { len } => stack.gap(len, feed),
            },
        );
        if found && state.client.is_none() {
            state.client = Some(side);
            self.publish(flow, side, &mut published);
        }
        if state.client.is_none() && stack.tls_hello() {
            // A ClientHello at the start of a stream picked up before it:
            // its sender is the client (the TLS layer reads the other side).
            state.client = Some(side);
        }
        if !state.tls_midstream && stack.tls_midstream() {
            // TLS records whose handshake the capture lacks: one connection
            // seen, not decrypted (both sides of a flow whose client is not
            // known may show them).
            state.tls_midstream = true;
            let t = &mut self.tls_stats;
            t.connections = t.connections.saturating_add(1);
            t.not_decrypted_midstream = t.not_decrypted_midstream.saturating_add(1);
        }
        state.requests = published;
        *side.of_mut(&mut state.streams) = Some(stack);
        match verdict {
            Verdict::Continue | Verdict::Tunnel(_) | Verdict::Upgrade(_) => Interest::Continue,
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
            let Some(mut stack) = side.of_mut(&mut state.streams).take() else {
                continue;
            };
            if state.client.is_some_and(|c| c != side) {
                self.buffered = self.buffered.saturating_sub(stack.buffered());
                self.bodies = self.bodies.saturating_sub(stack.body_held());
                self.held = self.held.saturating_sub(stack.held_ciphertext());
                continue;
            }
            if stack.waiting_for_keys(&self.keys) {
                // Its keys may still come with the capture: kept (its held
                // records stay in the budget) until they do or the source ends.
                self.buffered = self.buffered.saturating_sub(stack.buffered());
                self.bodies = self.bodies.saturating_sub(stack.body_held());
                if self.parked.len() >= MAX_PARKED {
                    self.end_parked(0);
                }
                self.parked.push(Parked {
                    flow: flow.clone(),
                    client: side,
                    stack,
                    requests: state.requests,
                });
                continue;
            }
            let mut published = state.requests;
            let (_, found) = self.step(
                &mut stack,
                flow,
                state.client,
                &mut published,
                0,
                |stack, feed| {
                    stack.end(feed);
                    Verdict::Stopped
                },
            );
            if found && state.client.is_none() {
                state.client = Some(side);
                self.publish(flow, side, &mut published);
            }
            state.requests = published;
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
            tunnels: Default::default(),
        };
        let mut x = Extractor::new(StackLimits::default(), Arc::default());
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
            ..HttpLimits::default()
        };
        let mut x = Extractor::new(
            StackLimits {
                http: limits,
                ..StackLimits::default()
            },
            Arc::default(),
        );
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
            tunnels: Default::default(),
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
    fn bodies_stay_within_their_budget_and_cuts_are_counted() {
        let limits = HttpLimits {
            max_body_bytes: 64 << 10,
            body_memcap: 256 << 10,
            ..HttpLimits::default()
        };
        let mut x = Extractor::new(
            StackLimits {
                http: limits,
                ..StackLimits::default()
            },
            Arc::default(),
        );
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
            tunnels: Default::default(),
        };
        // Twelve bodies of 1 MB in flight at once: 768 KiB asked of a 256 KiB budget.
        let mut flows: Vec<(FlowStreams, FlowContext)> = Vec::new();
        for port in 0..12u16 {
            let f = flow(40_000 + port);
            let mut state = FlowStreams::default();
            let head = b"POST /u HTTP/1.1\r\nContent-Type: application/json\r\nContent-Length: 1000000\r\n\r\n{\"phone\":\"+447700900123\",\"pad\":\"";
            x.on_chunk(&mut state, &f, Side::A, Chunk::Data { ts, bytes: head });
            flows.push((state, f));
        }
        let pad = vec![b'a'; 1400];
        for _ in 0..60 {
            for (state, f) in &mut flows {
                x.on_chunk(state, f, Side::A, Chunk::Data { ts, bytes: &pad });
                assert!(x.bodies <= 256 << 10, "{}", x.bodies);
            }
        }
        for (state, f) in &mut flows {
            x.on_close(state, f, CloseReason::Closed);
        }
        assert_eq!(x.bodies, 0);
        let got: Vec<Request> = x.take_requests().collect();
        assert_eq!(got.len(), 12);
        let stats = x.body_stats();
        assert_eq!((stats.bodies, stats.unfinished), (12, 12));
        assert!(stats.cut_by_memcap > 0, "{stats:?}");
        assert_eq!(stats.cut_by_memcap + stats.cut_at_limit, 12);
        // Every body kept its start: the number is read from each.
        assert!(got.iter().all(|r| {
            r.body
                .as_ref()
                .is_some_and(|b| b.fields.first().is_some_and(|f| f.value == "+447700900123"))
        }));
    }

    /// HTTP/2 bodies share the same budget: twelve 1 MB uploads in flight
    /// on one h2c connection stay within 256 KiB, each keeping its start.
    #[test]
    fn h2_bodies_stay_within_the_budget() {
        use crate::h2::frames::{flag, kind};
        use crate::stack::layers::tests::{frame, h2_head};
        let limits = HttpLimits {
            max_body_bytes: 64 << 10,
            body_memcap: 256 << 10,
            ..HttpLimits::default()
        };
        let mut x = Extractor::new(
            StackLimits {
                http: limits,
                ..StackLimits::default()
            },
            Arc::default(),
        );
        let ts = Timestamp(0);
        let f = FlowContext {
            id: 1,
            endpoints: [
                "10.0.0.9:40000".parse().unwrap(),
                "10.0.0.1:80".parse().unwrap(),
            ],
            syn_client: Some(Side::A),
            synack_data: false,
            first_packet: 1,
            tunnels: Default::default(),
        };
        let mut state = FlowStreams::default();
        let mut start = crate::h2::PREFACE.to_vec();
        let json = [("content-type", "application/json")];
        for i in 0..12u32 {
            start.extend(frame(
                kind::HEADERS,
                flag::END_HEADERS,
                2 * i + 1,
                &h2_head("POST", "/u", &json),
            ));
            start.extend(frame(
                kind::DATA,
                0,
                2 * i + 1,
                br#"{"phone":"+447700900123","pad":""#,
            ));
        }
        x.on_chunk(&mut state, &f, Side::A, Chunk::Data { ts, bytes: &start });
        for _ in 0..60 {
            for i in 0..12u32 {
                let pad = frame(kind::DATA, 0, 2 * i + 1, &[b'a'; 1400]);
                x.on_chunk(&mut state, &f, Side::A, Chunk::Data { ts, bytes: &pad });
                assert!(x.bodies <= 256 << 10, "{}", x.bodies);
            }
        }
        x.on_close(&mut state, &f, CloseReason::Closed);
        assert_eq!(x.bodies, 0);
        let got: Vec<Request> = x.take_requests().collect();
        assert_eq!(got.len(), 12);
        let stats = x.body_stats();
        assert!(stats.cut_by_memcap > 0, "{stats:?}");
        assert_eq!(stats.cut_by_memcap + stats.cut_at_limit, 12);
        assert!(got.iter().all(|r| {
            r.body
                .as_ref()
                .is_some_and(|b| b.fields.first().is_some_and(|f| f.value == "+447700900123"))
        }));
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
