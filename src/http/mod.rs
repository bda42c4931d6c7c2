//! HTTP/1.x: the request stream's state machine ([`RequestStream`]: message
//! framing, resynchronisation, head limits), head parsing and the
//! [`Request`] every later stage sees. It is the HTTP/1 layer of a client
//! stream; `crate::stack` decides which streams (or which part of a
//! stream) it reads and attaches the flow's facts to what it finds.
//!
//! Memory: a partial head is held up to [`HttpLimits::max_head_bytes`], all
//! partial heads together up to [`HttpLimits::head_memcap`] (`crate::stack`
//! keeps that budget), of which heads over 8 KiB may take only three quarters.
#![cfg_attr(not(test), deny(clippy::arithmetic_side_effects))]

mod chunked;
mod head;
mod request;
mod response;
mod stream;

pub(crate) use head::parse_request_line;
pub use head::{Head, parse_head};
pub use request::{Answer, Header, Request};
pub use response::{MAX_AWAITED, ParsedAnswer, ResponseStream};
pub(crate) use stream::push_bounded;
pub use stream::{ParsedRequest, RequestStream, Verdict};

/// Limits of the HTTP stage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HttpLimits {
    /// A head larger than this is reported as truncated (its whole lines kept).
    pub max_head_bytes: usize,
    /// Partial heads held across all flows; past it, heads are cut early.
    pub head_memcap: usize,
    /// Bytes of a request body kept (and most its decoding may produce);
    /// 0 collects no body (`--max-body-bytes`).
    pub max_body_bytes: usize,
    /// Bodies held across all flows; past it, bodies are cut early.
    pub body_memcap: usize,
}

impl Default for HttpLimits {
    fn default() -> Self {
        HttpLimits {
            max_head_bytes: 64 << 10,
            // 32 MiB (512 heads at the 64 KiB limit): with 100 000 flows
            // tracked (about 40 MiB of entries and stacks) the run stays
            // within issue 21's 128 MiB; at 64 MiB it did not (150 MiB
            // with two threads under the endless-headers attack).
            head_memcap: 32 << 20,
            max_body_bytes: crate::body::DEFAULT_MAX_BODY,
            body_memcap: crate::body::DEFAULT_BODY_MEMCAP,
        }
    }
}

counters! {
    /// Counters of the HTTP stage.
    pub struct HttpStats {
        /// Requests extracted (complete and truncated), as the clients sent
        /// them (requests a server promised are `h2.pushed_requests`).
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
        /// CONNECT requests (the tunnel after them is parsed only if it opens with a request).
        pub connect_tunnels: u64,
        /// CONNECT tunnels in which the client then sent plain HTTP (parsed).
        pub connect_plain_http: u64,
        /// SOCKS 4/4a/5 client handshakes skipped at a stream's start.
        pub socks_handshakes: u64,
        /// Requests whose line had a missing or cut version (`GET /`, `GET / HTTP/1.`).
        pub lenient_request_lines: u64,
        /// Request lines longer than the head limit (reported cut, then resynchronised).
        pub long_request_lines: u64,
        /// Heads with conflicting or invalid `Content-Length` values, after which
        /// the parser searched for the next request line.
        pub length_resyncs: u64,
        /// Flows whose requests came from the side that answered the SYN.
        pub responder_clients: u64,
        /// Client streams that did not start with a request (not HTTP).
        pub streams_not_http: u64,
        /// Mid-stream directions given up after a long search found no request.
        pub streams_given_up: u64,
        /// Responses read and matched to their request (only where responses
        /// are read: `diff`'s BEFORE captures).
        pub responses: u64,
        /// Interim (1xx) responses read, which answer no request.
        pub interim_responses: u64,
        /// Server streams whose responses stopped being read: a gap, bytes that
        /// are no response, a response no request asked for, a client stream
        /// that lost its place.
        pub response_sync_lost: u64,
        /// Response heads over the head limit (reading stopped there).
        pub response_heads_over_limit: u64,
        /// Server streams whose responses stopped being read with too many
        /// requests awaiting one.
        pub responses_awaited_cap: u64,
    }
}
