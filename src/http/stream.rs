//! The request-stream state machine for one direction of a flow.
//!
//! It walks the client's byte stream message by message: request head, then
//! the body framed by `Content-Length` or chunked coding (skipped, never read
//! as headers), then the next head. After a gap, or on a flow picked up in the
//! middle, it resynchronises at the next line that is a complete request line.
//! Conflicting `Content-Length`s leave the body's end unknown: it
//! resynchronises from the body's start. Framing it cannot follow at all (an
//! unknown `Transfer-Encoding`, a broken chunk) stops the direction: guessing
//! there would let body bytes pass for requests. A CONNECT ends the stream's
//! HTTP/1 part: [`Verdict::Tunnel`] says where the tunnel's bytes start, and the
//! client stream's chooser (`crate::stack`) decides what they carry; a stream made
//! for a tunnel ([`RequestStream::in_tunnel`]) stops at the first thing that
//! is not a request. Results do not depend on how the
//! bytes are cut into chunks (see the `segmentation` property test), except
//! that while resynchronising a chunk's first byte counts as a line start.
use super::HttpStats;
use super::chunked::{self, ChunkStep, Walk};
use super::head::{
    Head, LineStart, classify_line_start, lenient_head_ok, parse_cut_request_line, parse_head,
    parse_request_line, parse_request_line_lenient,
};
use crate::body::{self, BodyCollector, RawBody};
use crate::time::Timestamp;

/// Longest request line (or chunk-size / trailer line) accepted.
pub const MAX_LINE: usize = 8 << 10;
/// Bytes scanned for a request line on a stream that never had one, before giving up.
pub const MAX_SEEK_WITHOUT_REQUEST: u64 = 1 << 20;

/// A head taken from the stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedRequest {
    /// Capture time of the head's first byte.
    pub ts: Timestamp,
    /// The head.
    pub head: Head,
    /// True when the head was cut (size limit, gap, end of stream).
    pub truncated: bool,
    /// The TLS connection the head was decrypted from (set by the TLS
    /// layer of the client stream stack).
    pub tls: Option<crate::tls::TlsInfo>,
    /// The HTTP/2 stream identifier (`None` for HTTP/1.x).
    pub stream_id: Option<u32>,
    /// For a request a server promised (HTTP/2 PUSH_PROMISE), not one the
    /// client sent: the client's stream the promise came on.
    pub pushed_on: Option<u32>,
    /// The HTTP/2 `:authority` (`None` for HTTP/1.x, whose `Host` is a header).
    pub authority: Option<String>,
    /// The body collected (see [`RequestStream::set_body_room`]); the
    /// request is published when it ends.
    pub body: Option<RawBody>,
    /// The request had a body that was not collected (a binary content type).
    pub body_skipped: bool,
    /// Its response is read from the server's side (set by the client
    /// stream stack; see [`super::Request::answer_awaited`]).
    pub answer_awaited: bool,
}

/// What the stream learnt about its direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Keep feeding.
    Continue,
    /// This direction starts with a response status line: it is the server.
    Server,
    /// Nothing more will be parsed here (not HTTP, untrustworthy framing).
    Stopped,
    /// A CONNECT request ended at this many bytes of the last input: what
    /// follows is the tunnel's content, for the caller to hand on.
    Tunnel(usize),
    /// A request with `Upgrade: h2c` (and its body) ended at this many bytes
    /// of the last input: if the server agreed, HTTP/2 follows, starting with
    /// the connection preface. The caller looks; the stream is ready to go
    /// on as HTTP/1 if it does not.
    Upgrade(usize),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// At a message boundary.
    Idle,
    /// Inside a head; `buf` holds it unless it is parsed straight from the input.
    Head,
    /// Skipping this many body bytes.
    Body(u64),
    /// Walking a chunked body.
    Chunked(ChunkStep),
    /// Looking for the next request line.
    Seek,
    /// Done with this direction.
    Stopped,
}

/// Request extraction state for one direction of one flow.
#[derive(Debug)]
pub struct RequestStream {
    state: State,
    /// Partial head, partial line (seek, chunk size, trailer).
    buf: Vec<u8>,
    /// Capture time of the first byte of `buf`'s head or line.
    head_ts: Timestamp,
    /// Offset in `buf` from which to resume looking for the head's end.
    scan: usize,
    /// Whether `buf`'s first line is known to be a request line.
    line_ok: bool,
    /// In `Seek`: whether the next byte starts a line.
    line_start: bool,
    /// Whether the stream's first byte is the connection's first byte.
    at_connection_start: bool,
    seen_request: bool,
    /// A response status line was found before any request: this is the server.
    server_seen: bool,
    seek_bytes: u64,
    /// The stream is a CONNECT tunnel's content not yet shown to be HTTP: it
    /// stops at anything else (and at a gap), uncounted.
    in_tunnel: bool,
    /// The last head was a CONNECT: the rest of the input is the tunnel.
    tunnel_opened: bool,
    /// The last head asked to upgrade to h2c: at the end of its body, the
    /// caller is told ([`Verdict::Upgrade`]).
    h2c_asked: bool,
    /// A request whose body is being collected: published when it ends.
    pending: Option<Box<(ParsedRequest, BodyCollector)>>,
    /// Bytes the body collector may hold now, and the per-request limit (0: bodies not collected).
    body_room: usize,
    body_limit: usize,
}

impl RequestStream {
    /// A stream whose first byte is the connection's first (`true`), or one
    /// picked up in the middle (`false`, so it starts by resynchronising).
    pub fn new(at_connection_start: bool) -> Self {
        RequestStream {
            state: if at_connection_start {
                State::Idle
            } else {
                State::Seek
            },
            buf: Vec::new(),
            head_ts: Timestamp::default(),
            scan: 0,
            line_ok: false,
            line_start: true,
            at_connection_start,
            seen_request: false,
            server_seen: false,
            seek_bytes: 0,
            in_tunnel: false,
            tunnel_opened: false,
            h2c_asked: false,
            pending: None,
            body_room: 0,
            body_limit: 0,
        }
    }

    /// A stream for the content of a CONNECT tunnel (its first byte is the
    /// tunnel's first): parsed while it carries requests.
    pub fn in_tunnel() -> Self {
        RequestStream {
            in_tunnel: true,
            // The CONNECT was a request: a response-like line here is no
            // sign that this side is the server.
            seen_request: true,
            ..RequestStream::new(true)
        }
    }

    /// Bytes of memory held for partial heads and lines (the buffer's
    /// capacity: an empty buffer is released, not kept for later).
    pub fn buffered(&self) -> usize {
        self.buf.capacity()
    }

    /// Bytes of memory held for the body being collected.
    pub fn body_held(&self) -> usize {
        self.pending.as_ref().map_or(0, |p| p.1.held())
    }

    /// Sets how many bytes of a body this stream may hold from now on
    /// (`room`, the run's budget share) and the per-request limit (`limit`,
    /// `--max-body-bytes`; 0, the default, collects no body: a request is
    /// then published with its head).
    pub fn set_body_room(&mut self, room: usize, limit: usize) {
        self.body_room = room;
        self.body_limit = limit;
    }

    /// Publishes the request whose body was being collected.
    fn finish_body(&mut self, complete: bool, out: &mut Vec<ParsedRequest>) {
        if let Some(p) = self.pending.take() {
            let (mut request, collector) = *p;
            request.body = Some(collector.finish(complete));
            out.push(request);
        }
    }

    /// A body ends when the framing leaves its states.
    fn body_ended(&mut self, out: &mut Vec<ParsedRequest>) {
        if self.pending.is_some() && !matches!(self.state, State::Body(_) | State::Chunked(_)) {
            let complete = self.state == State::Idle;
            self.finish_body(complete, out);
        }
    }

    /// Feeds in-order bytes. `max_buffer` bounds the partial head kept (the
    /// per-head limit, lowered when the global budget runs short).
    pub fn data(
        &mut self,
        ts: Timestamp,
        mut input: &[u8],
        max_buffer: usize,
        stats: &mut HttpStats,
        out: &mut Vec<ParsedRequest>,
    ) -> Verdict {
        let total = input.len();
        if self.state == State::Seek && self.buf.is_empty() {
            // Requests usually start a segment: while resynchronising, a chunk's
            // first byte is a candidate line start too (it must still be a whole request line).
            self.line_start = true;
        }
        while !input.is_empty() {
            let used = match self.state {
                State::Stopped => return Verdict::Stopped,
                State::Idle => {
                    let skip = input
                        .iter()
                        .take_while(|b| matches!(b, b'\r' | b'\n'))
                        .count();
                    if skip > 0 {
                        skip
                    } else {
                        match classify_line_start(input) {
                            LineStart::Request | LineStart::NeedMore => {
                                self.begin_head(ts);
                                0
                            }
                            LineStart::Response if !self.seen_request => {
                                self.server_seen = true;
                                self.state = State::Stopped;
                                return Verdict::Server;
                            }
                            LineStart::Response | LineStart::Other => {
                                self.not_a_request(stats);
                                0
                            }
                        }
                    }
                }
                State::Head => self.head(input, max_buffer, stats, out),
                State::Body(left) => {
                    let n = left.min(input.len() as u64);
                    self.state = if n == left {
                        State::Idle
                    } else {
                        State::Body(left.saturating_sub(n))
                    };
                    self.collect(input.get(..n as usize).unwrap_or_default());
                    n as usize
                }
                State::Chunked(step) => self.chunked(step, input, stats),
                State::Seek => {
                    let used = self.seek(ts, input, max_buffer, stats, out);
                    if self.server_seen {
                        return Verdict::Server;
                    }
                    used
                }
            };
            input = input.get(used..).unwrap_or_default();
            self.body_ended(out);
            if self.tunnel_opened {
                self.tunnel_opened = false;
                self.state = State::Stopped;
                return Verdict::Tunnel(total.saturating_sub(input.len()));
            }
            if self.h2c_asked && self.state == State::Idle {
                self.h2c_asked = false;
                return Verdict::Upgrade(total.saturating_sub(input.len()));
            }
        }
        if self.state == State::Stopped {
            Verdict::Stopped
        } else {
            Verdict::Continue
        }
    }

    /// Notes `len` missing bytes at the current position.
    pub fn gap(
        &mut self,
        len: u64,
        stats: &mut HttpStats,
        out: &mut Vec<ParsedRequest>,
    ) -> Verdict {
        if self.in_tunnel {
            // Bytes lost in a CONNECT tunnel not yet known to carry HTTP: stop.
            self.buf = Vec::new();
            self.state = State::Stopped;
        }
        if self.h2c_asked && !matches!(self.state, State::Body(_)) {
            // What follows the upgrade request is lost: HTTP/1 resynchronises.
            self.h2c_asked = false;
        }
        if let Some(p) = self.pending.as_mut() {
            p.1.gap(len);
        }
        match self.state {
            State::Stopped => return Verdict::Stopped,
            State::Body(left) if len < left => {
                self.state = State::Body(left.saturating_sub(len));
                return Verdict::Continue;
            }
            State::Body(left) if len == left => {
                self.state = State::Idle;
                self.finish_body(true, out);
                return Verdict::Continue;
            }
            State::Head => {
                stats.gaps_in_head = stats.gaps_in_head.saturating_add(1);
                self.emit_cut_head(stats, out);
            }
            _ => {}
        }
        self.finish_body(false, out);
        stats.resyncs = stats.resyncs.saturating_add(1);
        self.buf = Vec::new();
        self.state = State::Seek;
        self.line_start = true;
        Verdict::Continue
    }

    /// The stream ended: a head cut short is reported as truncated.
    pub fn end(&mut self, stats: &mut HttpStats, out: &mut Vec<ParsedRequest>) {
        if self.state == State::Head {
            self.emit_cut_head(stats, out);
        }
        self.finish_body(false, out);
        self.buf = Vec::new();
        self.state = State::Stopped;
    }

    /// Hands body bytes to the collector, if a body is collected.
    fn collect(&mut self, bytes: &[u8]) {
        if let Some(p) = self.pending.as_mut() {
            p.1.push(bytes, self.body_room, self.body_limit);
        }
    }

    fn begin_head(&mut self, ts: Timestamp) {
        self.state = State::Head;
        self.head_ts = ts;
        self.buf = Vec::new();
        self.scan = 0;
        self.line_ok = false;
    }

    /// The bytes at a message boundary are not a request.
    fn not_a_request(&mut self, stats: &mut HttpStats) {
        self.buf = Vec::new();
        if self.in_tunnel {
            // TLS (or anything else) through a CONNECT tunnel: stop, as before.
            self.state = State::Stopped;
        } else if self.at_connection_start && !self.seen_request {
            stats.streams_not_http = stats.streams_not_http.saturating_add(1);
            self.state = State::Stopped;
        } else {
            stats.resyncs = stats.resyncs.saturating_add(1);
            self.state = State::Seek;
            self.line_start = false;
        }
    }

    /// Checks the request line once it is complete; false if the head is no request.
    fn check_line(&mut self, bytes: &[u8], stats: &mut HttpStats) -> bool {
        if self.line_ok {
            return true;
        }
        match memchr::memchr(b'\n', bytes) {
            Some(nl) => {
                let line = bytes.get(..nl).unwrap_or_default();
                if parse_request_line(line).is_some() {
                    self.line_ok = true;
                    true
                } else if parse_request_line_lenient(line).is_some() {
                    // A missing or cut version: judged when the head is complete.
                    true
                } else {
                    self.not_a_request(stats);
                    false
                }
            }
            // A request line longer than the head limit is cut there (see `head`).
            None if classify_line_start(bytes) == LineStart::Other => {
                self.not_a_request(stats);
                false
            }
            None => true,
        }
    }

    fn head(
        &mut self,
        input: &[u8],
        max_buffer: usize,
        stats: &mut HttpStats,
        out: &mut Vec<ParsedRequest>,
    ) -> usize {
        if self.buf.is_empty()
            && let Some(end) = find_head_end(input, 0)
            && end <= max_buffer
        {
            // Fast path: the whole head is in this chunk and within the limit;
            // parse it in place. (A longer one takes the buffered path, which
            // cuts it at the limit, as when it arrives in pieces.)
            let head = input.get(..end).unwrap_or_default();
            if !self.check_line(head, stats) {
                return 0;
            }
            self.finish_head(head, stats, out);
            return end;
        }
        let old = self.buf.len();
        let take = input.len().min(max_buffer.saturating_sub(old));
        push_bounded(
            &mut self.buf,
            input.get(..take).unwrap_or_default(),
            max_buffer,
        );
        if let Some(end) = find_head_end(&self.buf, self.scan) {
            let buf = std::mem::take(&mut self.buf);
            let head = buf.get(..end).unwrap_or_default();
            if !self.check_line(head, stats) {
                return 0;
            }
            self.finish_head(head, stats, out);
            return end.saturating_sub(old);
        }
        self.scan = self.buf.len().saturating_sub(2);
        let buf = std::mem::take(&mut self.buf);
        let ok = self.check_line(&buf, stats);
        self.buf = buf;
        if !ok {
            self.buf = Vec::new();
            return 0;
        }
        if take < input.len() {
            // Over the limit: report what we have, then look for the next request.
            let has_line = memchr::memchr(b'\n', &self.buf).is_some();
            // The request line alone passes the limit: report its start.
            let cut = if has_line {
                None
            } else {
                parse_cut_request_line(&self.buf)
            };
            if (has_line && !self.line_ok) || (!has_line && cut.is_none()) {
                // Never shown to be a request (a line without a version whose
                // head does not end, or a long line that is no request line).
                self.not_a_request(stats);
                return take;
            }
            stats.heads_over_limit = stats.heads_over_limit.saturating_add(1);
            match cut {
                Some(head) => {
                    stats.long_request_lines = stats.long_request_lines.saturating_add(1);
                    self.push_cut(head, stats, out);
                }
                None => self.emit_cut_head(stats, out),
            }
            self.buf = Vec::new();
            self.state = State::Seek;
            self.line_start = false;
        }
        take
    }

    /// A complete head: parsed if its request line is strict, or if its
    /// version is missing or cut and every line after it is a header line.
    fn finish_head(&mut self, head: &[u8], stats: &mut HttpStats, out: &mut Vec<ParsedRequest>) {
        if !self.line_ok && !lenient_head_ok(head) {
            self.not_a_request(stats);
            return;
        }
        self.complete_head(parse_head(head), stats, out);
    }

    fn complete_head(
        &mut self,
        head: Option<Head>,
        stats: &mut HttpStats,
        out: &mut Vec<ParsedRequest>,
    ) {
        let Some(head) = head else {
            self.not_a_request(stats);
            return;
        };
        self.seen_request = true;
        if !self.line_ok {
            stats.lenient_request_lines = stats.lenient_request_lines.saturating_add(1);
        }
        if self.in_tunnel {
            stats.connect_plain_http = stats.connect_plain_http.saturating_add(1);
        }
        self.in_tunnel = false;
        self.state = match framing(&head) {
            Ok(next) => next,
            Err(Framing::ContentLength) => {
                // The body's end is unknown: look for the next request line
                // from the body's first byte (the server may read one there).
                stats.length_resyncs = stats.length_resyncs.saturating_add(1);
                stats.resyncs = stats.resyncs.saturating_add(1);
                self.line_start = true;
                State::Seek
            }
            Err(Framing::Untrusted) => {
                stats.framing_errors = stats.framing_errors.saturating_add(1);
                State::Stopped
            }
        };
        self.h2c_asked = matches!(self.state, State::Idle | State::Body(_) | State::Chunked(_))
            && asks_h2c(&head);
        let has_body = matches!(self.state, State::Body(_) | State::Chunked(_));
        if head.method == "CONNECT" {
            // The rest of the stream is the tunnel: `data` hands it on.
            stats.connect_tunnels = stats.connect_tunnels.saturating_add(1);
            self.tunnel_opened = true;
        }
        let collect = has_body && !self.tunnel_opened && self.body_limit > 0;
        let wanted = collect && body::wanted(&head.headers);
        let request = ParsedRequest {
            ts: self.head_ts,
            head,
            truncated: false,
            tls: None,
            stream_id: None,
            pushed_on: None,
            authority: None,
            body: None,
            body_skipped: collect && !wanted,
            answer_awaited: false,
        };
        if wanted {
            // Published when the body ends.
            self.pending = Some(Box::new((request, BodyCollector::new())));
        } else {
            out.push(request);
        }
    }

    /// Reports the cut head in `buf`, if its request line is complete and a
    /// strict one (a cut head with a missing version is not trusted to be a request).
    fn emit_cut_head(&mut self, stats: &mut HttpStats, out: &mut Vec<ParsedRequest>) {
        if self.line_ok
            && memchr::memchr(b'\n', &self.buf).is_some()
            && let Some(head) = parse_head(&self.buf)
        {
            self.push_cut(head, stats, out);
        }
        self.buf = Vec::new();
    }

    fn push_cut(&mut self, head: Head, stats: &mut HttpStats, out: &mut Vec<ParsedRequest>) {
        self.seen_request = true;
        self.in_tunnel = false;
        stats.truncated_heads = stats.truncated_heads.saturating_add(1);
        out.push(ParsedRequest {
            ts: self.head_ts,
            head,
            truncated: true,
            tls: None,
            stream_id: None,
            pushed_on: None,
            authority: None,
            body: None,
            body_skipped: false,
            answer_awaited: false,
        });
    }

    fn chunked(&mut self, step: ChunkStep, input: &[u8], stats: &mut HttpStats) -> usize {
        match chunked::walk(step, input, &mut self.buf) {
            Walk::On { used, data, next } => {
                self.collect(input.get(..data).unwrap_or_default());
                self.state = next.map_or(State::Idle, State::Chunked);
                used
            }
            Walk::Broken => {
                stats.framing_errors = stats.framing_errors.saturating_add(1);
                self.state = State::Stopped;
                0
            }
        }
    }

    fn seek(
        &mut self,
        ts: Timestamp,
        input: &[u8],
        max_buffer: usize,
        stats: &mut HttpStats,
        out: &mut Vec<ParsedRequest>,
    ) -> usize {
        let used = self.seek_inner(ts, input, max_buffer, stats, out);
        self.seek_bytes = self.seek_bytes.saturating_add(used as u64);
        if self.state == State::Seek
            && !self.seen_request
            && self.seek_bytes > MAX_SEEK_WITHOUT_REQUEST
        {
            stats.streams_given_up = stats.streams_given_up.saturating_add(1);
            self.buf = Vec::new();
            self.state = State::Stopped;
        }
        used
    }

    /// A request-line candidate (in `buf`, while resynchronising) that
    /// passes the head limit or the budget's room: reported cut there if its
    /// start is a request line, as [`Self::head`] cuts a head; the buffer is
    /// freed and the rest of the line skipped (`line_start` false).
    fn cut_candidate(&mut self, stats: &mut HttpStats, out: &mut Vec<ParsedRequest>) {
        match parse_cut_request_line(&self.buf) {
            Some(head) => {
                stats.heads_over_limit = stats.heads_over_limit.saturating_add(1);
                stats.long_request_lines = stats.long_request_lines.saturating_add(1);
                self.push_cut(head, stats, out);
                self.buf = Vec::new();
                self.line_start = false;
            }
            // Frees the buffer, and stops where a stream that never showed
            // a request (or a tunnel) must.
            None => self.not_a_request(stats),
        }
    }

    /// Looks for a request line: a line start, a request line shorter than
    /// [`MAX_LINE`] (however the line is cut into chunks).
    fn seek_inner(
        &mut self,
        ts: Timestamp,
        input: &[u8],
        max_buffer: usize,
        stats: &mut HttpStats,
        out: &mut Vec<ParsedRequest>,
    ) -> usize {
        // A candidate line held across chunks is bounded by the head limit
        // and the budget's room, like a partial head.
        let hold = MAX_LINE.min(max_buffer);
        if !self.buf.is_empty() {
            // A candidate line started in an earlier chunk.
            let Some(nl) = memchr::memchr(b'\n', input) else {
                let len = self.buf.len().saturating_add(input.len());
                if len >= MAX_LINE {
                    self.buf = Vec::new();
                    self.line_start = false;
                } else if len > hold {
                    let fits = hold.saturating_sub(self.buf.len());
                    push_bounded(&mut self.buf, input.get(..fits).unwrap_or_default(), hold);
                    self.cut_candidate(stats, out);
                } else {
                    push_bounded(&mut self.buf, input, hold);
                }
                return input.len();
            };
            if self.buf.len().saturating_add(nl) >= MAX_LINE {
                self.buf = Vec::new();
                self.line_start = true;
                return nl.saturating_add(1);
            }
            push_bounded(
                &mut self.buf,
                input.get(..=nl).unwrap_or_default(),
                MAX_LINE,
            );
            let line_len = self.buf.len().saturating_sub(1);
            if parse_request_line(self.buf.get(..line_len).unwrap_or_default()).is_some() {
                if line_len >= max_buffer {
                    // The line alone passes the head limit: cut it there, as
                    // when the whole line arrives in one chunk (see `head`).
                    self.buf.truncate(max_buffer);
                    self.cut_candidate(stats, out);
                    // Past the line's end already: the next byte starts a line.
                    self.line_start = true;
                    return nl.saturating_add(1);
                }
                self.state = State::Head;
                self.line_ok = true;
                self.scan = 0;
            } else {
                self.buf = Vec::new();
                self.line_start = true;
            }
            return nl.saturating_add(1);
        }
        let mut pos = 0;
        let mut candidate = self.line_start;
        loop {
            let rest = input.get(pos..).unwrap_or_default();
            if rest.is_empty() {
                self.line_start = candidate;
                return pos;
            }
            if candidate {
                match classify_line_start(rest) {
                    LineStart::Request | LineStart::NeedMore => match memchr::memchr(b'\n', rest) {
                        Some(nl) => {
                            if nl < MAX_LINE
                                && parse_request_line(rest.get(..nl).unwrap_or_default()).is_some()
                            {
                                self.begin_head(ts);
                                self.line_ok = true;
                                return pos;
                            }
                        }
                        None => {
                            if rest.len() < MAX_LINE {
                                self.head_ts = ts;
                                if rest.len() > hold {
                                    let fits = rest.get(..hold).unwrap_or_default();
                                    push_bounded(&mut self.buf, fits, hold);
                                    self.cut_candidate(stats, out);
                                } else {
                                    push_bounded(&mut self.buf, rest, hold);
                                }
                            }
                            self.line_start = false;
                            return input.len();
                        }
                    },
                    LineStart::Response if !self.seen_request => {
                        self.server_seen = true;
                        self.state = State::Stopped;
                        return input.len();
                    }
                    _ => {}
                }
            }
            match memchr::memchr(b'\n', rest) {
                Some(nl) => {
                    pos = pos.saturating_add(nl).saturating_add(1);
                    candidate = true;
                }
                None => {
                    self.line_start = false;
                    return input.len();
                }
            }
        }
    }
}

/// Appends `bytes`, growing the buffer by doubling but to no more than `limit`
/// (or what the bytes need, if more): the capacity is what memory caps count.
pub(crate) fn push_bounded(buf: &mut Vec<u8>, bytes: &[u8], limit: usize) {
    let need = buf.len().saturating_add(bytes.len());
    if need > buf.capacity() {
        let cap = need
            .max(buf.capacity().saturating_mul(2))
            .min(limit.max(need));
        buf.reserve_exact(cap.saturating_sub(buf.len()));
    }
    buf.extend_from_slice(bytes);
}

/// Index just past the empty line that ends a head, searching from `from`.
pub(super) fn find_head_end(bytes: &[u8], from: usize) -> Option<usize> {
    let mut at = from;
    while let Some(rel) = memchr::memchr(b'\n', bytes.get(at..)?) {
        // Indices of a slice: none of these can overflow, saturating is free.
        let nl = at.saturating_add(rel);
        match (
            bytes.get(nl.saturating_add(1)),
            bytes.get(nl.saturating_add(2)),
        ) {
            (Some(b'\n'), _) => return Some(nl.saturating_add(2)),
            (Some(b'\r'), Some(b'\n')) => return Some(nl.saturating_add(3)),
            _ => at = nl.saturating_add(1),
        }
    }
    None
}

/// Why a head's body framing cannot be followed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Framing {
    /// Conflicting or invalid `Content-Length` values: the parser resynchronises.
    ContentLength,
    /// A `Transfer-Encoding` that does not end in chunked: the direction stops.
    Untrusted,
}

/// What a head's framing fields say of its body (RFC 9112 §6.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum BodyLength {
    /// Neither `Transfer-Encoding` nor `Content-Length`.
    None,
    /// `Content-Length` (all values agree).
    Length(u64),
    /// `Transfer-Encoding` whose last coding is chunked (it overrides
    /// `Content-Length`).
    Chunked,
    /// `Transfer-Encoding` whose last coding is another.
    OtherCoding,
    /// Conflicting or invalid `Content-Length` values.
    Invalid,
}

/// The body framing of a head given by its fields (name, value).
pub(super) fn body_length<'a>(fields: impl Iterator<Item = (&'a str, &'a [u8])>) -> BodyLength {
    let mut chunked = None;
    let mut length: Option<u64> = None;
    let mut bad_length = false;
    for (name, value) in fields {
        if name.eq_ignore_ascii_case("transfer-encoding") {
            let last = value.rsplit(|b| *b == b',').next().unwrap_or_default();
            chunked = Some(last.trim_ascii().eq_ignore_ascii_case(b"chunked"));
        } else if name.eq_ignore_ascii_case("content-length") {
            for part in value.split(|b| *b == b',') {
                let part = part.trim_ascii();
                let n = if part.is_empty() || !part.iter().all(u8::is_ascii_digit) {
                    None
                } else {
                    std::str::from_utf8(part)
                        .ok()
                        .and_then(|p| p.parse::<u64>().ok())
                };
                match n {
                    Some(n) if length.is_none_or(|l| l == n) => length = Some(n),
                    _ => bad_length = true,
                }
            }
        }
    }
    match (chunked, length) {
        (Some(true), _) => BodyLength::Chunked,
        (Some(false), _) => BodyLength::OtherCoding,
        _ if bad_length => BodyLength::Invalid,
        (None, Some(n)) => BodyLength::Length(n),
        (None, None) => BodyLength::None,
    }
}

/// How the body after this head is framed (for requests: no length, no
/// body; only chunked as the last coding frames one).
fn framing(head: &Head) -> Result<State, Framing> {
    let fields = head
        .headers
        .iter()
        .map(|h| (h.name.as_str(), h.value.as_bytes()));
    match body_length(fields) {
        BodyLength::Chunked => Ok(State::Chunked(ChunkStep::Size)),
        BodyLength::OtherCoding => Err(Framing::Untrusted),
        BodyLength::Invalid => Err(Framing::ContentLength),
        BodyLength::None | BodyLength::Length(0) => Ok(State::Idle),
        BodyLength::Length(n) => Ok(State::Body(n)),
    }
}

/// Whether a head asks to upgrade the connection to HTTP/2 in cleartext
/// (`Upgrade: h2c`, RFC 7540 3.2).
fn asks_h2c(head: &Head) -> bool {
    head.headers.iter().any(|h| {
        h.name.eq_ignore_ascii_case("upgrade")
            && h.value
                .split(',')
                .any(|t| t.trim().eq_ignore_ascii_case("h2c"))
    })
}

/// The size of a chunk-size line (extensions after `;` ignored).
pub(super) fn parse_chunk_size(line: &[u8]) -> Option<u64> {
    let end = line
        .iter()
        .position(|b| matches!(b, b';' | b' ' | b'\t'))
        .unwrap_or(line.len());
    let hex = line.get(..end)?;
    if hex.is_empty() || hex.len() > 15 {
        return None;
    }
    let text = std::str::from_utf8(hex).ok()?;
    u64::from_str_radix(text, 16).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds `parts` (`None` = a gap of that many bytes) and returns the request targets.
    fn run(start: bool, parts: &[Result<&[u8], u64>]) -> (Vec<String>, HttpStats) {
        let mut s = RequestStream::new(start);
        let mut stats = HttpStats::default();
        let mut out = Vec::new();
        for p in parts {
            match p {
                Ok(bytes) => {
                    s.data(Timestamp(0), bytes, 64 << 10, &mut stats, &mut out);
                }
                Err(len) => {
                    s.gap(*len, &mut stats, &mut out);
                }
            }
        }
        s.end(&mut stats, &mut out);
        let uris = out
            .iter()
            .map(|r| format!("{}{}", r.head.uri, if r.truncated { " (cut)" } else { "" }))
            .collect();
        (uris, stats)
    }

    /// A collected body: bytes kept, bytes seen, complete, gap.
    type BodySeen = (Vec<u8>, u64, bool, bool);

    /// Feeds `parts` collecting bodies up to `limit` bytes; returns each
    /// request's target and its body (bytes, seen, complete, gap).
    fn run_bodies(parts: &[Result<&[u8], u64>], limit: usize) -> Vec<(String, Option<BodySeen>)> {
        let mut s = RequestStream::new(true);
        s.set_body_room(limit, limit);
        let mut stats = HttpStats::default();
        let mut out = Vec::new();
        for p in parts {
            match p {
                Ok(bytes) => {
                    s.data(Timestamp(0), bytes, 64 << 10, &mut stats, &mut out);
                }
                Err(len) => {
                    s.gap(*len, &mut stats, &mut out);
                }
            }
            assert!(s.body_held() <= limit);
        }
        s.end(&mut stats, &mut out);
        out.into_iter()
            .map(|r| {
                let body = r.body.map(|b| (b.bytes, b.seen, b.complete, b.gap));
                (r.head.uri, body)
            })
            .collect()
    }

    #[test]
    fn bodies_are_collected_and_published_when_they_end() {
        let msg = b"POST /f HTTP/1.1\r\nContent-Length: 11\r\n\r\nphone=4477&GET /n HTTP/1.1\r\n\r\nPOST /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3;x=1\r\nabc\r\n2\r\nde\r\n0\r\nT: 1\r\n\r\nPOST /img HTTP/1.1\r\nContent-Type: image/png\r\nContent-Length: 2\r\n\r\nzz";
        let want = vec![
            (
                "/f".to_string(),
                Some((b"phone=4477&".to_vec(), 11, true, false)),
            ),
            ("/n".to_string(), None),
            ("/c".to_string(), Some((b"abcde".to_vec(), 5, true, false))),
            ("/img".to_string(), None),
        ];
        assert_eq!(run_bodies(&[Ok(&msg[..])], 1024), want);
        // However the bytes are cut.
        for size in [1, 2, 7] {
            let parts: Vec<Result<&[u8], u64>> = msg.chunks(size).map(Ok).collect();
            assert_eq!(run_bodies(&parts, 1024), want, "{size}");
        }
        // Cut at the limit: a prefix kept, the framing followed to its end.
        let got = run_bodies(&[Ok(&msg[..])], 4);
        assert_eq!(got[0].1, Some((b"phon".to_vec(), 11, true, false)));
        assert_eq!(got[2].1, Some((b"abcd".to_vec(), 5, true, false)));
        assert_eq!(got.len(), 4);
    }

    #[test]
    fn a_gap_in_a_body_keeps_what_came_before() {
        let got = run_bodies(
            &[
                Ok(b"POST /p HTTP/1.1\r\nContent-Length: 10\r\n\r\nab"),
                Err(5),
                Ok(b"cdeGET /next HTTP/1.1\r\n\r\n"),
            ],
            1024,
        );
        assert_eq!(
            got,
            vec![
                ("/p".to_string(), Some((b"ab".to_vec(), 10, true, true))),
                ("/next".to_string(), None)
            ]
        );
        // In a chunked body: kept, then the stream resynchronises.
        let got = run_bodies(
            &[
                Ok(b"POST /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab"),
                Err(3),
                Ok(b"\r\n0\r\n\r\nGET /next HTTP/1.1\r\n\r\n"),
            ],
            1024,
        );
        assert_eq!(
            got[0],
            ("/c".to_string(), Some((b"ab".to_vec(), 5, false, true)))
        );
        assert_eq!(got[1].0, "/next");
        // The stream ends inside a body.
        let got = run_bodies(
            &[Ok(b"POST /e HTTP/1.1\r\nContent-Length: 100\r\n\r\nabc")],
            1024,
        );
        assert_eq!(
            got,
            vec![("/e".to_string(), Some((b"abc".to_vec(), 3, false, false)))]
        );
    }

    #[test]
    fn pipelined_requests_in_one_chunk() {
        let (uris, _) = run(true, &[Ok(b"GET /1 HTTP/1.1\r\nHost: a\r\n\r\nGET /2 HTTP/1.1\r\n\r\nHEAD /3 HTTP/1.0\r\n\r\n")]);
        assert_eq!(uris, ["/1", "/2", "/3"]);
    }

    #[test]
    fn head_split_byte_by_byte() {
        let req = b"GET /split HTTP/1.1\r\nX-MSI";
        let rest = b"SDN: 447700900123\r\n\r\nGET /next HTTP/1.1\r\n\r\n";
        let mut parts: Vec<Result<&[u8], u64>> = req.chunks(1).map(Ok).collect();
        parts.extend(rest.chunks(1).map(Ok));
        let (uris, _) = run(true, &parts);
        assert_eq!(uris, ["/split", "/next"]);
    }

    #[test]
    fn content_length_body_is_skipped() {
        let body = b"X-MSISDN: 447700900123\r\nGET /fake HTTP/1.1\r\n\r\n";
        let head = format!(
            "POST /form HTTP/1.1\r\nContent-Length: {}\r\n\r\n",
            body.len()
        );
        let (uris, _) = run(
            true,
            &[
                Ok(head.as_bytes()),
                Ok(&body[..10]),
                Ok(&body[10..]),
                Ok(b"GET /after HTTP/1.1\r\n\r\n"),
            ],
        );
        assert_eq!(uris, ["/form", "/after"]);
    }

    #[test]
    fn chunked_body_is_skipped() {
        let msg = b"POST /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nGET /\r\n1a\r\nX-MSISDN: 447700900123\r\n\r\n\r\n0\r\nTrailer: x\r\n\r\nGET /after HTTP/1.1\r\n\r\n";
        let (uris, stats) = run(true, &[Ok(&msg[..])]);
        assert_eq!(uris, ["/c", "/after"], "{stats:?}");
        let parts: Vec<Result<&[u8], u64>> = msg.chunks(3).map(Ok).collect();
        assert_eq!(run(true, &parts).0, ["/c", "/after"]);
    }

    #[test]
    fn conflicting_lengths_resync_and_unknown_coding_stops() {
        let (uris, stats) = run(
            true,
            &[Ok(b"POST /x HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nbody bytes\r\nGET /after HTTP/1.1\r\n\r\n")],
        );
        assert_eq!(uris, ["/x", "/after"]);
        assert_eq!(
            (stats.length_resyncs, stats.resyncs, stats.framing_errors),
            (1, 1, 0)
        );
        // A request right after the head (where a server might read one) is seen too.
        let (uris, _) = run(
            true,
            &[Ok(
                b"POST /x HTTP/1.1\r\nContent-Length: 5, 6\r\n\r\nGET /smuggled HTTP/1.1\r\n\r\n",
            )],
        );
        assert_eq!(uris, ["/x", "/smuggled"]);
        // Transfer-Encoding wins over any Content-Length, even conflicting ones.
        let (uris, stats) = run(
            true,
            &[Ok(b"POST /t HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nGET\r\n0\r\n\r\nGET /next HTTP/1.1\r\n\r\n")],
        );
        assert_eq!(uris, ["/t", "/next"]);
        assert_eq!(stats.length_resyncs, 0);
        let (uris, stats) = run(
            true,
            &[Ok(
                b"POST /x HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\nGET /no HTTP/1.1\r\n\r\n",
            )],
        );
        assert_eq!(uris, ["/x"]);
        assert_eq!(stats.framing_errors, 1);
    }

    #[test]
    fn gap_in_head_costs_only_that_request() {
        let (uris, stats) = run(
            true,
            &[
                Ok(b"GET /1 HTTP/1.1\r\n\r\nGET /2 HTTP/1.1\r\nHost: a\r\nX-Par"),
                Err(40),
                Ok(b"tial\r\n\r\nGET /3 HTTP/1.1\r\n\r\n"),
            ],
        );
        assert_eq!(uris, ["/1", "/2 (cut)", "/3"]);
        assert_eq!(stats.gaps_in_head, 1);
    }

    #[test]
    fn gap_in_known_length_body_keeps_sync() {
        let (uris, stats) = run(
            true,
            &[
                Ok(b"POST /p HTTP/1.1\r\nContent-Length: 10\r\n\r\nab"),
                Err(5),
                Ok(b"cdeGET /next HTTP/1.1\r\n\r\n"),
            ],
        );
        assert_eq!(uris, ["/p", "/next"]);
        assert_eq!(stats.resyncs, 0);
    }

    #[test]
    fn midstream_body_tail_then_request_in_the_next_segment() {
        let (uris, _) = run(
            false,
            &[
                Ok(b"phone=447700900123&x=1"),
                Ok(b"GET /thanks HTTP/1.1\r\n\r\n"),
            ],
        );
        assert_eq!(uris, ["/thanks"]);
    }

    #[test]
    fn midstream_resyncs_at_a_request_line() {
        let (uris, _) = run(
            false,
            &[
                Ok(b"dy bytes\r\nmore GET /no HTTP/1.1\r\n"),
                Ok(b"GET /yes HT"),
                Ok(b"TP/1.1\r\n\r\n"),
            ],
        );
        assert_eq!(uris, ["/yes"]);
    }

    #[test]
    fn non_http_stream_stops_at_once() {
        let (uris, stats) = run(true, &[Ok(b"\x16\x03\x01\x02\x00GET / HTTP/1.1\r\n\r\n")]);
        assert!(uris.is_empty());
        assert_eq!(stats.streams_not_http, 1);
        let (uris, _) = run(
            true,
            &[Ok(b"SSH-2.0-OpenSSH_9.2\r\nGET / HTTP/1.1\r\n\r\n")],
        );
        assert!(uris.is_empty());
    }

    #[test]
    fn over_limit_head_is_reported_truncated() {
        let mut s = RequestStream::new(true);
        let mut stats = HttpStats::default();
        let mut out = Vec::new();
        let mut big = b"GET /big HTTP/1.1\r\nX-MSISDN: 447700900123\r\n".to_vec();
        while big.len() < 100_000 {
            big.extend_from_slice(b"X-Filler: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n");
        }
        big.extend_from_slice(b"\r\nGET /after HTTP/1.1\r\n\r\n");
        for c in big.chunks(1400) {
            s.data(Timestamp(0), c, 64 << 10, &mut stats, &mut out);
            assert!(s.buffered() <= 64 << 10);
        }
        assert_eq!(out.len(), 2);
        assert!(out[0].truncated);
        assert_eq!(out[0].head.headers[0].value, "447700900123");
        assert_eq!(out[1].head.uri, "/after");
        assert_eq!(stats.heads_over_limit, 1);
    }

    #[test]
    fn response_first_marks_server() {
        let mut s = RequestStream::new(true);
        let v = s.data(
            Timestamp(0),
            b"HTTP/1.1 200 OK\r\n\r\n",
            1024,
            &mut HttpStats::default(),
            &mut Vec::new(),
        );
        assert_eq!(v, Verdict::Server);
    }

    #[test]
    fn spaces_in_targets_and_bytes_that_are_not_utf8() {
        let (uris, stats) = run(
            true,
            &[Ok(b"GET /q?x=a b HTTP/1.1\r\nHost: a\r\n\r\nGET /cgi-bin/x;cat /etc/passwd|?d=1 HTTP/1.1\r\n\r\nGET /caf\xe9 HTTP/1.1\r\n\r\nGET /last HTTP/1.1\r\n\r\n")],
        );
        assert_eq!(
            uris,
            [
                "/q?x=a b",
                "/cgi-bin/x;cat /etc/passwd|?d=1",
                "/caf\u{FFFD}",
                "/last"
            ]
        );
        assert_eq!(stats.streams_not_http, 0);
    }

    #[test]
    fn missing_and_cut_versions_at_message_starts() {
        let (uris, stats) = run(
            true,
            &[Ok(b"GET /\r\n\r\nGET /HTTP/1.1\r\nHost: a\r\n\r\nGET / HTTP/1.\r\nHost: a\r\n\r\nOPTIONS\r\n\r\nGET /ok HTTP/1.1\r\n\r\n")],
        );
        assert_eq!(uris, ["/", "/HTTP/1.1", "/", "", "/ok"]);
        assert_eq!(stats.lenient_request_lines, 4);
        // Not followed by header lines: not a request; the stream is not HTTP.
        let (uris, stats) = run(true, &[Ok(b"GET /\r\n\x00\x01binary\r\n\r\n")]);
        assert!(uris.is_empty());
        assert_eq!(stats.streams_not_http, 1);
        // Never while resynchronising (inside a body of unknown length, mid-stream).
        let (uris, _) = run(false, &[Ok(b"x\r\nGET /\r\n\r\nGET /a\r\nHost: a\r\n\r\n")]);
        assert!(uris.is_empty());
        let (uris, _) = run(
            true,
            &[Ok(
                b"POST /p HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nGET /\r\n\r\n",
            )],
        );
        assert_eq!(uris, ["/p"]);
    }

    #[test]
    fn lines_never_shown_to_be_requests_are_not_reported_when_over_the_limit() {
        let mut binary = b"GET /".to_vec();
        // No line end anywhere: the limit is what ends it.
        binary.extend((0..200u8).filter(|b| *b != b'\n').cycle().take(100_000));
        let mut endless = b"GET /\r\nHost: a\r\n".to_vec();
        while endless.len() < 100_000 {
            endless.extend_from_slice(b"X-Filler: aaaaaaaaaaaaaaaa\r\n");
        }
        let mut long_text = b"GET /".to_vec();
        long_text.resize(100_000, b'a');
        for stream in [binary, endless] {
            let parts: Vec<Result<&[u8], u64>> = stream.chunks(1448).map(Ok).collect();
            let (uris, stats) = run(true, &parts);
            assert!(uris.is_empty());
            assert_eq!((stats.streams_not_http, stats.heads_over_limit), (1, 0));
        }
        // A long line without a version is still a (cut) request line.
        let (uris, stats) = run(true, &[Ok(&long_text)]);
        assert_eq!(uris.len(), 1);
        assert!(uris[0].ends_with("aaa (cut)"));
        assert_eq!(stats.long_request_lines, 1);
    }

    #[test]
    fn a_request_line_over_the_limit_is_cut_and_resynced() {
        let mut line = b"GET /long?n=447700900123&pad=".to_vec();
        line.resize(1 << 20, b'a');
        let stream = [
            &line[..],
            b" HTTP/1.1\r\nX-MSISDN: 447700900123\r\n\r\nGET /after HTTP/1.1\r\n\r\n",
        ]
        .concat();
        for size in [stream.len(), 1448] {
            let mut s = RequestStream::new(true);
            let mut stats = HttpStats::default();
            let mut out = Vec::new();
            for c in stream.chunks(size) {
                s.data(Timestamp(0), c, 64 << 10, &mut stats, &mut out);
                assert!(s.buffered() <= 64 << 10);
            }
            s.end(&mut stats, &mut out);
            assert_eq!(out.len(), 2, "{size}");
            assert!(out[0].truncated);
            assert_eq!(out[0].head.uri.len(), (64 << 10) - 4);
            assert!(out[0].head.uri.starts_with("/long?n=447700900123&pad=aaa"));
            assert_eq!(out[0].head.version, "");
            assert_eq!(out[1].head.uri, "/after");
            assert_eq!((stats.long_request_lines, stats.heads_over_limit), (1, 1));
        }
    }

    #[test]
    fn a_candidate_line_while_resynchronising_stays_within_the_room() {
        // Mid-stream: a line start, then a request line split over chunks.
        let line = b"GET /resync?msisdn=447700900123&pad=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa HTTP/1.1\r\n\r\n";
        for room in [16usize, 40, 64 << 10] {
            let mut s = RequestStream::new(false);
            let mut stats = HttpStats::default();
            let mut out = Vec::new();
            s.data(
                Timestamp(0),
                b"tail of something\n",
                room,
                &mut stats,
                &mut out,
            );
            for c in line.chunks(7) {
                s.data(Timestamp(0), c, room, &mut stats, &mut out);
                assert!(
                    s.buffered() <= room.min(MAX_LINE),
                    "room {room}: {}",
                    s.buffered()
                );
            }
            s.data(
                Timestamp(0),
                b"GET /next HTTP/1.1\r\n\r\n",
                64 << 10,
                &mut stats,
                &mut out,
            );
            s.end(&mut stats, &mut out);
            let uris: Vec<&str> = out.iter().map(|r| r.head.uri.as_str()).collect();
            if room == 64 << 10 {
                assert_eq!(
                    uris[0],
                    "/resync?msisdn=447700900123&pad=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                );
                assert!(!out[0].truncated);
            } else {
                // Cut where the room ended, as a head over its limit is.
                assert!(out[0].truncated, "room {room}: {uris:?}");
                assert!(uris[0].starts_with("/res"), "{uris:?}");
                assert_eq!(stats.heads_over_limit, 1);
            }
            assert_eq!(uris.last(), Some(&"/next"), "room {room}");
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic() {
        let mut state = 7u64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let alphabet: &[u8] =
            b"GET POST/ HTTP/1.1\r\n:0123456789abcdef;chunkedContent-Length: Transfer-EncodingCONNECT OPTIONS\x04\x05\x00\x01\x03\xe9";
        for _ in 0..300 {
            let mut s = RequestStream::new(next() % 2 == 0);
            let mut stats = HttpStats::default();
            let mut out = Vec::new();
            for _ in 0..20 {
                let len = (next() % 64) as usize;
                let bytes: Vec<u8> = (0..len)
                    .map(|_| alphabet[(next() % alphabet.len() as u64) as usize])
                    .collect();
                if next() % 10 == 0 {
                    s.gap(next() % 100, &mut stats, &mut out);
                } else {
                    s.data(Timestamp(0), &bytes, 512, &mut stats, &mut out);
                }
                assert!(s.buffered() <= MAX_LINE.max(512));
            }
            s.end(&mut stats, &mut out);
        }
    }

    /// Found by `cargo fuzz run -s none http` (fuzz/fuzz_targets/http.rs): a
    /// request line found while seeking grew the buffer by doubling to twice
    /// the line limit, over what the memory caps allow for one stream.
    #[test]
    fn fuzz_regression_buffer_capacity_stays_bounded() {
        let data = include_bytes!("testdata/fuzz-http-capacity.bin");
        let max = 512;
        for start in [true, false] {
            let mut stream = RequestStream::new(start);
            let mut stats = HttpStats::default();
            let mut out = Vec::new();
            for chunk in data.split(|b| *b == 0xff) {
                match chunk {
                    [0xfe, rest @ ..] => {
                        stream.gap(rest.len() as u64, &mut stats, &mut out);
                    }
                    bytes => {
                        stream.data(Timestamp(0), bytes, max, &mut stats, &mut out);
                    }
                }
                assert!(
                    stream.buffered() <= max.max(MAX_LINE),
                    "{}",
                    stream.buffered()
                );
            }
        }
    }
}
