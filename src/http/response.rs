//! The server's side of an HTTP/1 connection, read only for which request
//! each response answers and its status (`diff`: did BEFORE see an answer?).
//!
//! A state machine over the server's in-order bytes and gaps: status line and
//! headers (httparse), then the body framed as RFC 9112 §6.3 says, skipped, so
//! the next response is found. Responses answer the requests in the order
//! they were sent ([`ResponseStream::expect`]); a 1xx interim response
//! answers none (101 ends the reading: what follows is not HTTP/1), nor has
//! a body; nor does the response to a HEAD, a 204 or a 304.
//! `Transfer-Encoding: chunked` (last) frames by chunks, another coding or
//! no length runs to the connection's end. A gap the framing cannot step
//! over, bytes that are no response, a response no request asked for, or a
//! head over the limit lose the stream's place: reading stops there
//! (counted), it never guesses. Memory: a partial head (or chunk-size or
//! trailer line) within the head limit, and the requests awaiting a response
//! up to [`MAX_AWAITED`].
use std::collections::VecDeque;

use super::HttpStats;
use super::chunked::{self, ChunkStep, Walk};
use super::stream::{BodyLength, body_length, find_head_end, push_bounded};
use crate::time::Timestamp;

/// Most requests awaiting a response on one connection (pipelined, or a
/// server side that is not in the capture); past it, reading stops (counted).
pub const MAX_AWAITED: usize = 256;

/// A request's response read from the server's side.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParsedAnswer {
    /// The request's position in its flow (as [`super::Request::flow_order`]'s second part).
    pub seq: u64,
    /// The status code.
    pub status: u16,
    /// Capture time of the status line's first byte.
    pub ts: Timestamp,
}

/// A request awaiting its response.
#[derive(Debug, Clone, Copy)]
struct Awaited {
    seq: u64,
    /// A HEAD: its response has no body.
    head: bool,
    /// A CONNECT: a 2xx opens a tunnel, where reading ends.
    connect: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Between responses.
    Idle,
    /// Inside a head, held in `buf`.
    Head,
    /// Skipping this many body bytes.
    Body(u64),
    /// Walking a chunked body.
    Chunked(ChunkStep),
    /// A body that runs to the connection's end.
    UntilClose,
    /// Reading ended (lost sync, a tunnel, a protocol switch).
    Stopped,
}

/// Response reading for the server's side of one HTTP/1 connection.
#[derive(Debug)]
pub struct ResponseStream {
    state: State,
    /// Partial head or line.
    buf: Vec<u8>,
    /// Capture time of the head's first byte.
    head_ts: Timestamp,
    awaited: VecDeque<Awaited>,
}

impl Default for ResponseStream {
    fn default() -> Self {
        ResponseStream::new()
    }
}

impl ResponseStream {
    /// A stream whose first byte is the connection's first server byte.
    pub fn new() -> Self {
        ResponseStream {
            state: State::Idle,
            buf: Vec::new(),
            head_ts: Timestamp::default(),
            awaited: VecDeque::new(),
        }
    }

    /// Whether it still reads (it wants the server's bytes).
    pub fn reading(&self) -> bool {
        self.state != State::Stopped
    }

    /// Bytes of memory held for a partial head or line.
    pub fn buffered(&self) -> usize {
        self.buf.capacity()
    }

    /// The client sent request `seq` with `method`: its response comes after
    /// those of the requests before it. False when reading has stopped (or
    /// stops now, too many requests awaiting a response: counted).
    pub fn expect(&mut self, seq: u64, method: &str, stats: &mut HttpStats) -> bool {
        if !self.reading() {
            return false;
        }
        if self.awaited.len() >= MAX_AWAITED {
            stats.responses_awaited_cap = stats.responses_awaited_cap.saturating_add(1);
            self.stop();
            return false;
        }
        self.awaited.push_back(Awaited {
            seq,
            head: method.eq_ignore_ascii_case("HEAD"),
            connect: method.eq_ignore_ascii_case("CONNECT"),
        });
        true
    }

    /// Reading ends here, uncounted (the caller counts why).
    pub fn stop(&mut self) {
        self.state = State::Stopped;
        self.buf = Vec::new();
        self.awaited = VecDeque::new();
    }

    /// Reading lost its place: it stops, counted.
    pub fn lose_sync(&mut self, stats: &mut HttpStats) {
        if self.reading() {
            stats.response_sync_lost = stats.response_sync_lost.saturating_add(1);
        }
        self.stop();
    }

    /// Feeds in-order bytes of the server's stream; `max_head` bounds the
    /// partial head held. Answers go to `out`, in order.
    pub fn data(
        &mut self,
        ts: Timestamp,
        mut input: &[u8],
        max_head: usize,
        stats: &mut HttpStats,
        out: &mut Vec<ParsedAnswer>,
    ) {
        while !input.is_empty() {
            let used = match self.state {
                State::Stopped => return,
                State::UntilClose => input.len(),
                State::Idle => {
                    let skip = input
                        .iter()
                        .take_while(|b| matches!(b, b'\r' | b'\n'))
                        .count();
                    if skip == 0 {
                        self.head_ts = ts;
                        self.state = State::Head;
                    }
                    skip
                }
                State::Head => self.head(input, max_head, stats, out),
                State::Body(left) => {
                    let n = left.min(input.len() as u64);
                    self.state = if n == left {
                        State::Idle
                    } else {
                        State::Body(left.saturating_sub(n))
                    };
                    usize::try_from(n).unwrap_or(input.len())
                }
                State::Chunked(step) => self.chunked(step, input, stats),
            };
            input = input.get(used..).unwrap_or_default();
        }
    }

    /// Notes `len` missing bytes of the server's stream: within a body of
    /// known length, or one that runs to the end, reading goes on.
    pub fn gap(&mut self, len: u64, stats: &mut HttpStats) {
        match self.state {
            State::Stopped | State::UntilClose => {}
            State::Body(left) if len <= left => {
                self.state = match left.saturating_sub(len) {
                    0 => State::Idle,
                    n => State::Body(n),
                };
            }
            State::Chunked(ChunkStep::Data(left)) if len <= left => {
                self.state = State::Chunked(match left.saturating_sub(len) {
                    0 => ChunkStep::DataEnd,
                    n => ChunkStep::Data(n),
                });
            }
            _ => self.lose_sync(stats),
        }
    }

    /// Takes head bytes; returns how many of `input` were used.
    fn head(
        &mut self,
        input: &[u8],
        max_head: usize,
        stats: &mut HttpStats,
        out: &mut Vec<ParsedAnswer>,
    ) -> usize {
        let held = self.buf.len();
        // The head's end may straddle the held bytes and these: search from
        // three bytes back.
        let from = held.saturating_sub(3);
        let room = max_head.max(1).saturating_sub(held);
        let take = input.len().min(room);
        push_bounded(
            &mut self.buf,
            input.get(..take).unwrap_or_default(),
            max_head,
        );
        let Some(end) = find_head_end(&self.buf, from) else {
            if take < input.len() || self.buf.len() >= max_head {
                stats.response_heads_over_limit = stats.response_heads_over_limit.saturating_add(1);
                self.lose_sync(stats);
                return input.len();
            }
            return take;
        };
        let head = std::mem::take(&mut self.buf);
        let used = end.saturating_sub(held);
        self.state = State::Idle;
        self.response(head.get(..end).unwrap_or_default(), stats, out);
        used
    }

    /// A complete head: its status, who it answers, how its body is framed.
    fn response(&mut self, head: &[u8], stats: &mut HttpStats, out: &mut Vec<ParsedAnswer>) {
        let lines = memchr::memchr_iter(b'\n', head).count();
        let mut slots = vec![httparse::EMPTY_HEADER; lines];
        let mut r = httparse::Response::new(&mut slots);
        let parsed = httparse::ParserConfig::default()
            .allow_spaces_after_header_name_in_responses(true)
            .allow_obsolete_multiline_headers_in_responses(true)
            .parse_response(&mut r, head);
        let (Ok(httparse::Status::Complete(_)), Some(status)) = (parsed, r.code) else {
            self.lose_sync(stats);
            return;
        };
        if status == 101 {
            // Another protocol follows.
            self.stop();
            return;
        }
        if (100..200).contains(&status) {
            stats.interim_responses = stats.interim_responses.saturating_add(1);
            return;
        }
        let Some(asked) = self.awaited.pop_front() else {
            self.lose_sync(stats);
            return;
        };
        stats.responses = stats.responses.saturating_add(1);
        out.push(ParsedAnswer {
            seq: asked.seq,
            status,
            ts: self.head_ts,
        });
        if asked.connect && (200..300).contains(&status) {
            self.stop();
            return;
        }
        if asked.head || status == 204 || status == 304 {
            return;
        }
        let fields = r.headers.iter().map(|h| (h.name, h.value));
        self.state = match body_length(fields) {
            BodyLength::Length(0) => State::Idle,
            BodyLength::Length(n) => State::Body(n),
            BodyLength::Chunked => State::Chunked(ChunkStep::Size),
            BodyLength::None | BodyLength::OtherCoding => State::UntilClose,
            BodyLength::Invalid => {
                self.lose_sync(stats);
                return;
            }
        };
    }

    /// Walks a chunked body; returns how many bytes of `input` were used.
    fn chunked(&mut self, step: ChunkStep, input: &[u8], stats: &mut HttpStats) -> usize {
        match chunked::walk(step, input, &mut self.buf) {
            Walk::On { used, next, .. } => {
                self.state = next.map_or(State::Idle, State::Chunked);
                used
            }
            Walk::Broken => {
                self.lose_sync(stats);
                input.len()
            }
        }
    }
}

#[cfg(test)]
mod tests;
