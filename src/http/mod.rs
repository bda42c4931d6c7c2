//! HTTP/1.x request extraction from reassembled TCP streams.
//!
//! In: [`Chunk`]s of each direction of each flow (this module implements
//! [`StreamHandler`]). Out: [`Request`]s, each as soon as its header block is
//! complete, collected in [`HttpExtractor::take_requests`].
//!
//! Requests are recognised by content on any port. Only the client direction
//! is parsed: the side that sent the SYN when the handshake was captured;
//! mid-stream, the side on an unprivileged port when the other is on a usual
//! HTTP port (80, 8080, 3128, ...), else the side that sends a request line (a
//! side that first shows a response status line is the server). Bytes of the server are never read
//! as requests. Flows whose client does not open with a request line are
//! dropped from parsing at once (TLS, SSH, ...). Memory: a partial head is
//! held up to [`HttpLimits::max_head_bytes`], all partial heads together up
//! to [`HttpLimits::head_memcap`].
#![cfg_attr(not(test), deny(clippy::arithmetic_side_effects))]

mod head;
mod request;
mod stream;

pub use head::{Head, parse_head};
pub use request::{Header, Request};
pub use stream::{ParsedRequest, RequestStream, Verdict};

use serde::Serialize;

use crate::flow::{Chunk, CloseReason, FlowContext, Interest, Side, StreamHandler};

/// Limits of the HTTP stage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HttpLimits {
    /// A head larger than this is reported as truncated (its whole lines kept).
    pub max_head_bytes: usize,
    /// Partial heads held across all flows; past it, heads are cut early.
    pub head_memcap: usize,
}

impl Default for HttpLimits {
    fn default() -> Self {
        HttpLimits {
            max_head_bytes: 64 << 10,
            head_memcap: 64 << 20,
        }
    }
}

/// Counters of the HTTP stage.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(default)]
pub struct HttpStats {
    /// Requests extracted (complete and truncated).
    pub requests: u64,
    /// Requests whose head was cut (limit, gap, end of stream).
    pub truncated_heads: u64,
    /// Heads over the size limit.
    pub heads_over_limit: u64,
    /// Heads cut early because all partial heads together passed the memcap.
    pub heads_cut_by_memcap: u64,
    /// Gaps that fell inside a head.
    pub gaps_in_head: u64,
    /// Times the parser lost its place and searched for the next request line.
    pub resyncs: u64,
    /// Directions stopped because body framing could not be trusted.
    pub framing_errors: u64,
    /// CONNECT requests (the tunnel after them is not parsed).
    pub connect_tunnels: u64,
    /// Client streams that did not start with a request (not HTTP).
    pub streams_not_http: u64,
    /// Mid-stream directions given up after a long search found no request.
    pub streams_given_up: u64,
}

impl HttpStats {
    /// Adds another extractor's counters to these.
    pub fn absorb(&mut self, o: &HttpStats) {
        absorb_counters!(
            self,
            o,
            HttpStats {
                requests,
                truncated_heads,
                heads_over_limit,
                heads_cut_by_memcap,
                gaps_in_head,
                resyncs,
                framing_errors,
                connect_tunnels,
                streams_not_http,
                streams_given_up
            }
        );
    }
}

/// Per-flow HTTP state, kept inside the flow table's entry.
#[derive(Debug, Default)]
pub struct HttpFlow {
    client: Option<Side>,
    streams: [Option<RequestStream>; 2],
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

/// Turns reassembled streams into requests.
#[derive(Debug, Default)]
pub struct HttpExtractor {
    limits: HttpLimits,
    stats: HttpStats,
    /// Bytes held in partial heads across all flows.
    buffered: usize,
    parsed: Vec<ParsedRequest>,
    ready: Vec<Request>,
}

impl HttpExtractor {
    /// An extractor with these limits.
    pub fn new(limits: HttpLimits) -> Self {
        HttpExtractor {
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
            });
        }
    }
}

impl StreamHandler for HttpExtractor {
    type State = HttpFlow;

    fn on_chunk(
        &mut self,
        state: &mut HttpFlow,
        flow: &FlowContext,
        side: Side,
        chunk: Chunk<'_>,
    ) -> Interest {
        if state.client.is_none() {
            state.client = flow.syn_client.or_else(|| server_port_hint(flow));
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
            .get_or_insert_with(|| RequestStream::new(flow.syn_client.is_some()));
        let before = stream.buffered();
        let verdict = match chunk {
            Chunk::Data { ts, bytes } => {
                let room = self
                    .limits
                    .head_memcap
                    .saturating_sub(self.buffered)
                    .saturating_add(before);
                let max = self.limits.max_head_bytes.min(room);
                if max < self.limits.max_head_bytes {
                    self.stats.heads_cut_by_memcap =
                        self.stats.heads_cut_by_memcap.saturating_add(1);
                }
                stream.data(ts, bytes, max, &mut self.stats, &mut self.parsed)
            }
            Chunk::Gap { len } => stream.gap(len, &mut self.stats, &mut self.parsed),
        };
        let after = stream.buffered();
        self.buffered = self.buffered.saturating_sub(before).saturating_add(after);
        if !self.parsed.is_empty() {
            let client = *state.client.get_or_insert(side);
            self.publish(flow, client, &mut state.requests);
        }
        match verdict {
            Verdict::Continue => Interest::Continue,
            Verdict::Server => {
                if state.client.is_none() {
                    state.client = Some(side.other());
                }
                Interest::Stop
            }
            Verdict::Stopped => Interest::Stop,
        }
    }

    fn on_close(&mut self, state: &mut HttpFlow, flow: &FlowContext, _reason: CloseReason) {
        for side in [Side::A, Side::B] {
            if state.client.is_some_and(|c| c != side) {
                if let Some(s) = side.of_mut(&mut state.streams).as_mut() {
                    self.buffered = self.buffered.saturating_sub(s.buffered());
                }
                continue;
            }
            if let Some(stream) = side.of_mut(&mut state.streams).as_mut() {
                self.buffered = self.buffered.saturating_sub(stream.buffered());
                stream.end(&mut self.stats, &mut self.parsed);
                if !self.parsed.is_empty() {
                    let client = *state.client.get_or_insert(side);
                    self.publish(flow, client, &mut state.requests);
                }
            }
        }
    }
}
