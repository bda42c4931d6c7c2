//! The request-stream state machine for one direction of a flow.
//!
//! It walks the client's byte stream message by message: request head, then
//! the body framed by `Content-Length` or chunked coding (skipped, never read
//! as headers), then the next head. After a gap, or on a flow picked up in the
//! middle, it resynchronises at the next line that is a complete request line.
//! Framing it cannot trust (conflicting `Content-Length`s, an unknown
//! `Transfer-Encoding`, a broken chunk) stops the direction: guessing there
//! would let body bytes pass for requests.
use super::HttpStats;
use super::head::{Head, LineStart, classify_line_start, parse_head, parse_request_line};
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
}

/// What the stream learnt about its direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Keep feeding.
    Continue,
    /// This direction starts with a response status line: it is the server.
    Server,
    /// Nothing more will be parsed here (not HTTP, tunnel, untrustworthy framing).
    Stopped,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ChunkStep {
    Size,
    Data(u64),
    DataEnd,
    Trailer,
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
        }
    }

    /// Bytes of memory held for partial heads and lines (the buffer's
    /// capacity: an empty buffer is released, not kept for later).
    pub fn buffered(&self) -> usize {
        self.buf.capacity()
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
                    n as usize
                }
                State::Chunked(step) => self.chunked(step, input, stats),
                State::Seek => {
                    let used = self.seek(ts, input, stats);
                    if self.server_seen {
                        return Verdict::Server;
                    }
                    used
                }
            };
            input = input.get(used..).unwrap_or_default();
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
        match self.state {
            State::Stopped => return Verdict::Stopped,
            State::Body(left) if len < left => {
                self.state = State::Body(left.saturating_sub(len));
                return Verdict::Continue;
            }
            State::Body(left) if len == left => {
                self.state = State::Idle;
                return Verdict::Continue;
            }
            State::Head => {
                stats.gaps_in_head = stats.gaps_in_head.saturating_add(1);
                self.emit_cut_head(stats, out);
            }
            _ => {}
        }
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
        self.buf = Vec::new();
        self.state = State::Stopped;
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
        if self.at_connection_start && !self.seen_request {
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
                if parse_request_line(bytes.get(..nl).unwrap_or_default()).is_some() {
                    self.line_ok = true;
                    true
                } else {
                    self.not_a_request(stats);
                    false
                }
            }
            None if bytes.len() > MAX_LINE || classify_line_start(bytes) == LineStart::Other => {
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
        {
            // Fast path: the whole head is in this chunk; parse it in place.
            let head = input.get(..end).unwrap_or_default();
            if !self.check_line(head, stats) {
                return 0;
            }
            self.complete_head(parse_head(head), stats, out);
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
            self.complete_head(parse_head(head), stats, out);
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
            stats.heads_over_limit = stats.heads_over_limit.saturating_add(1);
            self.emit_cut_head(stats, out);
            self.buf = Vec::new();
            self.state = State::Seek;
            self.line_start = false;
        }
        take
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
        self.state = match framing(&head) {
            Ok(next) => next,
            Err(()) => {
                stats.framing_errors = stats.framing_errors.saturating_add(1);
                State::Stopped
            }
        };
        if head.method == "CONNECT" {
            stats.connect_tunnels = stats.connect_tunnels.saturating_add(1);
            self.state = State::Stopped;
        }
        out.push(ParsedRequest {
            ts: self.head_ts,
            head,
            truncated: false,
        });
    }

    fn emit_cut_head(&mut self, stats: &mut HttpStats, out: &mut Vec<ParsedRequest>) {
        if let Some(head) = parse_head(&self.buf) {
            self.seen_request = true;
            stats.truncated_heads = stats.truncated_heads.saturating_add(1);
            out.push(ParsedRequest {
                ts: self.head_ts,
                head,
                truncated: true,
            });
        }
        self.buf = Vec::new();
    }

    fn chunked(&mut self, step: ChunkStep, input: &[u8], stats: &mut HttpStats) -> usize {
        match step {
            ChunkStep::Data(left) => {
                let n = left.min(input.len() as u64);
                self.state = State::Chunked(if n == left {
                    ChunkStep::DataEnd
                } else {
                    ChunkStep::Data(left.saturating_sub(n))
                });
                n as usize
            }
            ChunkStep::DataEnd => match input.first() {
                Some(b'\r') => 1,
                Some(b'\n') => {
                    self.state = State::Chunked(ChunkStep::Size);
                    1
                }
                _ => {
                    stats.framing_errors = stats.framing_errors.saturating_add(1);
                    self.state = State::Stopped;
                    0
                }
            },
            ChunkStep::Size | ChunkStep::Trailer => {
                let Some(nl) = memchr::memchr(b'\n', input) else {
                    if self.buf.len().saturating_add(input.len()) > MAX_LINE {
                        stats.framing_errors = stats.framing_errors.saturating_add(1);
                        self.state = State::Stopped;
                        return input.len();
                    }
                    push_bounded(&mut self.buf, input, MAX_LINE);
                    return input.len();
                };
                push_bounded(&mut self.buf, input.get(..nl).unwrap_or_default(), MAX_LINE);
                let line = std::mem::take(&mut self.buf);
                let line = line.strip_suffix(b"\r").unwrap_or(&line);
                self.state = match step {
                    ChunkStep::Size => match parse_chunk_size(line) {
                        Some(0) => State::Chunked(ChunkStep::Trailer),
                        Some(n) => State::Chunked(ChunkStep::Data(n)),
                        None => {
                            stats.framing_errors = stats.framing_errors.saturating_add(1);
                            State::Stopped
                        }
                    },
                    _ if line.is_empty() => State::Idle,
                    _ => State::Chunked(ChunkStep::Trailer),
                };
                nl.saturating_add(1)
            }
        }
    }

    fn seek(&mut self, ts: Timestamp, input: &[u8], stats: &mut HttpStats) -> usize {
        let used = self.seek_inner(ts, input);
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

    fn seek_inner(&mut self, ts: Timestamp, input: &[u8]) -> usize {
        if !self.buf.is_empty() {
            // A candidate line started in an earlier chunk.
            let Some(nl) = memchr::memchr(b'\n', input) else {
                if self.buf.len().saturating_add(input.len()) > MAX_LINE {
                    self.buf = Vec::new();
                    self.line_start = false;
                } else {
                    push_bounded(&mut self.buf, input, MAX_LINE);
                }
                return input.len();
            };
            push_bounded(
                &mut self.buf,
                input.get(..=nl).unwrap_or_default(),
                MAX_LINE,
            );
            let line_len = self.buf.len().saturating_sub(1);
            if parse_request_line(self.buf.get(..line_len).unwrap_or_default()).is_some() {
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
                            if parse_request_line(rest.get(..nl).unwrap_or_default()).is_some() {
                                self.begin_head(ts);
                                self.line_ok = true;
                                return pos;
                            }
                        }
                        None => {
                            if rest.len() <= MAX_LINE {
                                self.head_ts = ts;
                                push_bounded(&mut self.buf, rest, MAX_LINE);
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
fn push_bounded(buf: &mut Vec<u8>, bytes: &[u8], limit: usize) {
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
fn find_head_end(bytes: &[u8], from: usize) -> Option<usize> {
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

/// How the body after this head is framed (RFC 9112 §6.3, for requests).
fn framing(head: &Head) -> Result<State, ()> {
    let mut chunked = false;
    let mut has_te = false;
    let mut length: Option<u64> = None;
    for h in &head.headers {
        if h.name.eq_ignore_ascii_case("transfer-encoding") {
            has_te = true;
            let last = h.value.rsplit(',').next().unwrap_or("").trim();
            chunked = last.eq_ignore_ascii_case("chunked");
        } else if h.name.eq_ignore_ascii_case("content-length") {
            for part in h.value.split(',') {
                let part = part.trim();
                if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(());
                }
                let n: u64 = part.parse().map_err(|_| ())?;
                if length.is_some_and(|l| l != n) {
                    return Err(());
                }
                length = Some(n);
            }
        }
    }
    if has_te {
        // Transfer-Encoding overrides Content-Length; only chunked as the last coding frames a request.
        return if chunked {
            Ok(State::Chunked(ChunkStep::Size))
        } else {
            Err(())
        };
    }
    Ok(match length {
        Some(0) | None => State::Idle,
        Some(n) => State::Body(n),
    })
}

fn parse_chunk_size(line: &[u8]) -> Option<u64> {
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
    fn conflicting_framing_stops_the_stream() {
        let (uris, stats) = run(
            true,
            &[Ok(b"POST /x HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nGET /smuggled HTTP/1.1\r\n\r\n")],
        );
        assert_eq!(uris, ["/x"]);
        assert_eq!(stats.framing_errors, 1);
        let (uris, _) = run(
            true,
            &[Ok(
                b"POST /x HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\nGET /no HTTP/1.1\r\n\r\n",
            )],
        );
        assert_eq!(uris, ["/x"]);
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
    fn connect_stops_parsing_the_tunnel() {
        let (uris, stats) = run(
            true,
            &[Ok(
                b"CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\n\r\n\x16\x03\x01GET /x HTTP/1.1\r\n\r\n",
            )],
        );
        assert_eq!(uris, ["a:443"]);
        assert_eq!(stats.connect_tunnels, 1);
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
            b"GET POST/ HTTP/1.1\r\n:0123456789abcdef;chunkedContent-Length: Transfer-Encoding";
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
