//! HTTP/2: the stack's H2 layer.
//!
//! [`H2Layer`] reads a client stream that starts with the connection preface
//! (`PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n`): its frames ([`frames`]), each header
//! block (HEADERS and its CONTINUATIONs, at most the head limit of bytes)
//! decoded with the stream's HPACK decoder ([`hpack`]) into a request:
//! `:method`, `:path` (or `:authority` for a CONNECT) and `:authority`
//! become method, target and authority; version `HTTP/2`; the other fields
//! are the headers in wire order, `cookie` crumbs joined with `; ` (RFC 9113
//! 8.2.3).
//!
//! For h2c the server's direction is read too ([`ServerSide`], made by the
//! stack; [`H2Layer::with_server`]): with its own frame reader and HPACK
//! decoder, for the requests its PUSH_PROMISE frames promise (reported with
//! [`ParsedRequest::pushed_on`], never as the client's), its SETTINGS and
//! its ACKs, and only while that can matter ([`H2Layer::wants_server`]).
//! Each direction's decoder is then bound by the SETTINGS_HEADER_TABLE_SIZE
//! the other side advertised, from when its own side acknowledged it
//! (4096 before; an update past it is `h2.table_size_errors` and the table
//! becomes unknown). Without a server side (inside TLS, whose server
//! direction is not decrypted, and mid-stream) the limit is unknown: the
//! decoder follows the table-size updates the client's blocks carry, up to
//! [`hpack::MAX_TABLE`], and no PUSH_PROMISE is seen.
//!
//! A gap inside a frame's payload keeps the framing (the frame's length is
//! known): a header block it falls in is reported cut and the HPACK table
//! becomes partly unknown (see [`hpack`]); a gap across a frame header stops
//! the stream.
//!
//! A connection picked up mid-stream (or whose preface a gap took) has no
//! preface: where the stack recognises client frames at such a start
//! ([`frames::sniff_client_frames`]), [`H2Layer::midstream`] reads them
//! with the HPACK table unknown from the first byte: blocks of static and
//! literal fields decode, fields that index entries made before the capture
//! are left out and the block counted undecodable (never guessed). When
//! which side is the client is not known yet, such a layer keeps its
//! counters aside until a header block shows it: a request (the client's;
//! counted) or a `:status` (the server's side: dropped uncounted).
//!
//! Request bodies: a request whose HEADERS frame does not end its stream is
//! held until its DATA frames end it (END_STREAM on DATA or on trailers,
//! RST_STREAM, or the end of the client stream), its DATA content going to
//! a [`BodyCollector`] within the same limits as HTTP/1 bodies; at most
//! [`MAX_BODY_STREAMS`] such requests are held at once. Requests are
//! published when their stream ends, so two multiplexed uploads appear in
//! the order they finish.
#![cfg_attr(not(test), deny(clippy::arithmetic_side_effects))]

pub mod frames;
pub mod hpack;
pub mod huffman;

use crate::body::{self, BodyCollector};
use crate::http::{Head, Header, HttpStats, ParsedRequest, push_bounded};
use crate::time::Timestamp;
use frames::{FrameHeader, FrameReader, GapAt, Piece, SettingsReader, flag, kind, setting};
use hpack::{Decoder, Field};

/// The client connection preface.
pub const PREFACE: &[u8; 24] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// Requests held at once for their bodies on one connection (servers
/// commonly allow 100 or 128 concurrent streams); a request past it is
/// published without its body and counted (`h2.bodies_not_held`).
pub const MAX_BODY_STREAMS: usize = 128;

/// Whether `start` (the first bytes of a stream) may be the preface.
pub fn may_be_preface(start: &[u8]) -> bool {
    let n = start.len().min(PREFACE.len());
    n > 0 && start.get(..n) == PREFACE.get(..n)
}

counters! {
    /// Counters of the HTTP/2 layer.
    pub struct H2Stats {
        /// Client streams read as HTTP/2 (the preface seen, or frames recognised mid-stream).
        pub connections: u64,
        /// Of those, picked up mid-stream: no preface, frames recognised at the stream's start or after a gap (the HPACK table unknown).
        pub midstream: u64,
        /// Of those, after an HTTP/1.1 `Upgrade: h2c` request.
        pub upgrades: u64,
        /// Streams that began like the preface but were not (stopped).
        pub bad_prefaces: u64,
        /// Frames read.
        pub frames: u64,
        /// Header blocks (HEADERS with their CONTINUATION frames).
        pub header_blocks: u64,
        /// Header blocks that opened a stream (requests).
        pub streams: u64,
        /// Header blocks on a stream already open (trailers): not requests.
        pub trailers: u64,
        /// Header blocks with fields referring to HPACK table entries that are
        /// unknown after a gap or a cut (those fields are left out, never guessed).
        pub undecodable_blocks: u64,
        /// Header blocks that are not valid HPACK (the table is unknown after them).
        pub hpack_errors: u64,
        /// Header blocks cut at the head limit (reported truncated).
        pub cut_blocks: u64,
        /// Header blocks a gap fell in (reported truncated).
        pub damaged_blocks: u64,
        /// DATA frames.
        pub data_frames: u64,
        /// DATA content bytes (padding not counted).
        pub data_bytes: u64,
        /// DATA frames on a stream whose body is not being collected (no
        /// request held for it: bodies off, a binary type, or not opened here).
        pub data_frames_unclaimed: u64,
        /// Requests published without their body because 128 requests were
        /// already held for theirs on the connection.
        pub bodies_not_held: u64,
        /// RST_STREAM frames.
        pub rst_streams: u64,
        /// GOAWAY frames.
        pub goaways: u64,
        /// SETTINGS frames from the client.
        pub settings: u64,
        /// Frames out of place (CONTINUATION without HEADERS, HEADERS on
        /// stream 0, PUSH_PROMISE from the client or not on a client's
        /// stream, bad padding), in either direction read.
        pub protocol_errors: u64,
        /// Gaps inside a frame's payload (the framing kept).
        pub gaps_in_frames: u64,
        /// Streams stopped: a gap across a frame header, or framing that cannot be followed.
        pub streams_lost: u64,
        /// HPACK table-size updates past 64 KiB (held to it) and entries they evicted early.
        pub table_capped: u64,
        /// HPACK table-size updates past the SETTINGS_HEADER_TABLE_SIZE the
        /// peer advertised and the sender acknowledged (either direction, where
        /// known): a protocol error; that table is unknown after it.
        pub table_size_errors: u64,
        /// Server streams read (h2c: the server's frames, for its PUSH_PROMISEs,
        /// SETTINGS and HPACK table; not inside TLS, not mid-stream).
        pub server_streams: u64,
        /// Frames read from servers.
        pub server_frames: u64,
        /// Server header blocks (responses, trailers, PUSH_PROMISEs) decoded,
        /// responses only to keep the server's HPACK table (never reported).
        pub server_header_blocks: u64,
        /// Of those, blocks not decoded whole: cut, a gap in them, not valid
        /// HPACK, or referring to unknown entries of the server's table.
        pub server_undecodable_blocks: u64,
        /// PUSH_PROMISE frames read.
        pub push_promises: u64,
        /// Requests a server promised (PUSH_PROMISE), reported marked `pushed`;
        /// not counted in `http.requests`.
        pub pushed_requests: u64,
        /// Server streams no longer read: the client disabled push
        /// (SETTINGS_ENABLE_PUSH=0) and the server's first SETTINGS was read.
        pub server_reads_stopped: u64,
        /// Server streams whose framing was lost (a gap across a frame header).
        pub server_streams_lost: u64,
    }
}

/// SETTINGS frames of one direction not yet acknowledged, kept at most:
/// an acknowledgement past them finds the setting unknown.
const MAX_PENDING_SETTINGS: usize = 16;

/// What a SETTINGS frame said of SETTINGS_HEADER_TABLE_SIZE.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TableSetting {
    /// Not in the frame: unchanged.
    Same,
    /// This size.
    Size(u32),
    /// Not known (a gap in the frame, or the frame not read).
    Unknown,
}

/// SETTINGS frames one side sent, waiting for the other side's ACK.
#[derive(Debug, Default)]
struct Pending(std::collections::VecDeque<TableSetting>);

impl Pending {
    fn sent(&mut self, t: TableSetting) {
        if self.0.len() < MAX_PENDING_SETTINGS {
            self.0.push_back(t);
        }
    }

    /// An ACK came: what the oldest frame said (unknown if it was not seen).
    fn acked(&mut self) -> TableSetting {
        self.0.pop_front().unwrap_or(TableSetting::Unknown)
    }
}

/// Applies an acknowledged SETTINGS_HEADER_TABLE_SIZE to the decoder of the
/// acknowledging side's blocks.
fn apply(hpack: &mut Decoder, t: TableSetting) {
    match t {
        TableSetting::Same => {}
        TableSetting::Size(v) => hpack.set_limit(Some(v as usize)),
        TableSetting::Unknown => hpack.set_limit(None),
    }
}

/// The SETTINGS frame being read: the parameters the layer uses.
#[derive(Debug, Default)]
struct SettingsFrame {
    reader: SettingsReader,
    table: Option<u32>,
    push: Option<u32>,
}

impl SettingsFrame {
    fn content(&mut self, bytes: &[u8]) {
        let (table, push) = (&mut self.table, &mut self.push);
        self.reader.feed(bytes, &mut |id, v| match id {
            setting::HEADER_TABLE_SIZE => *table = Some(v),
            setting::ENABLE_PUSH => *push = Some(v),
            _ => {}
        });
    }

    /// The frame ended: its table size and SETTINGS_ENABLE_PUSH (unknown
    /// where a gap fell in it); ready for the next frame.
    fn take(&mut self, damaged: bool) -> (TableSetting, Option<u32>) {
        let done = std::mem::take(self);
        if damaged {
            return (TableSetting::Unknown, None);
        }
        let t = done.table.map_or(TableSetting::Same, TableSetting::Size);
        (t, done.push)
    }
}

/// What an H2 layer is fed with.
pub struct H2Feed<'a> {
    /// Longest header block kept (the head limit, lowered when the run's
    /// budget for partial heads runs short).
    pub max_head: usize,
    /// The HTTP/2 counters.
    pub h2: &'a mut H2Stats,
    /// The HTTP counters (truncated heads are counted there too).
    pub http: &'a mut HttpStats,
    /// Bytes of bodies this connection may hold now (the per-request
    /// limit, lowered when the run's budget for bodies runs short).
    pub body_room: usize,
    /// The per-request body limit (`--max-body-bytes`; 0: no body collected).
    pub body_limit: usize,
    /// Requests completed, in order.
    pub out: &'a mut Vec<ParsedRequest>,
}

/// A request held until its stream ends, with its body so far.
#[derive(Debug)]
struct HeldRequest {
    stream: u32,
    request: ParsedRequest,
    body: BodyCollector,
}

/// A header block being gathered.
#[derive(Debug)]
struct Block {
    stream: u32,
    ts: Timestamp,
    buf: Vec<u8>,
    /// Cut at the head limit.
    cut: bool,
    /// A gap fell in it.
    damaged: bool,
    /// The HEADERS frame ended its stream (no body follows).
    end_stream: bool,
    /// A PUSH_PROMISE's block: the promised stream (0 until read).
    promised: Option<u32>,
}

impl Block {
    fn new(h: &FrameHeader, ts: Timestamp) -> Self {
        Block {
            stream: h.stream,
            ts,
            buf: Vec::new(),
            cut: false,
            damaged: false,
            end_stream: h.has(flag::END_STREAM),
            promised: (h.kind == kind::PUSH_PROMISE).then_some(0),
        }
    }

    /// Adds a piece of the block, up to `max_head` bytes (past it, cut).
    fn gather(&mut self, bytes: &[u8], max_head: usize) {
        if self.damaged {
            return;
        }
        let room = max_head.saturating_sub(self.buf.len());
        if bytes.len() > room {
            self.cut = true;
        }
        let take = bytes.len().min(room);
        // The capacity, which the memory budget counts, stays within the limit.
        push_bounded(
            &mut self.buf,
            bytes.get(..take).unwrap_or_default(),
            max_head,
        );
    }

    /// Decodes the block with its direction's decoder into `fields`.
    fn decode(&self, hpack: &mut Decoder, fields: &mut Vec<Field>) -> Decoded {
        let whole = !self.cut && !self.damaged;
        let mut d = Decoded {
            whole,
            ..Decoded::default()
        };
        match hpack.decode(&self.buf, fields) {
            Ok(notes) => {
                d.unknown = notes.unknown_fields > 0;
                d.capped = notes.capped_updates.saturating_add(notes.capped_evictions) as u64;
                d.oversized = notes.oversized_updates as u64;
            }
            Err(_) => d.error = true,
        }
        if !whole {
            // Insertions past the cut are lost.
            hpack.forget();
        }
        if fields.contains(&Field::Unknown) {
            d.unknown = true;
        }
        d
    }
}

/// What decoding a block found.
#[derive(Debug, Default)]
struct Decoded {
    /// Neither cut nor damaged.
    whole: bool,
    /// Fields referring to unknown entries.
    unknown: bool,
    /// Not valid HPACK (or cut inside an instruction).
    error: bool,
    /// Table-size updates and evictions held to the cap.
    capped: u64,
    /// Table-size updates past the acknowledged limit.
    oversized: u64,
}

/// The HTTP/2 layer of a client stream.
#[derive(Debug)]
pub struct H2Layer {
    reader: FrameReader,
    conn: Conn,
    /// Picked up mid-stream on a flow whose client is not known yet: the
    /// counters, kept here until a header block shows this is the client.
    tentative: Option<Box<H2Stats>>,
    /// A tentative layer found this stream to be the server's.
    server_side: bool,
}

/// The layer's state apart from its frame reader.
#[derive(Debug)]
struct Conn {
    /// Preface bytes matched so far.
    preface: usize,
    upgraded: bool,
    hpack: Decoder,
    block: Option<Block>,
    /// The frame being read.
    frame: Option<FrameHeader>,
    /// Highest stream opened by a header block.
    last_stream: u32,
    /// Requests waiting for their streams' ends, oldest first.
    held: Vec<HeldRequest>,
    /// Capture time of the chunk the current frame header completed in.
    ts: Timestamp,
    stopped: bool,
    /// Picked up mid-stream, not yet counted as a connection.
    uncounted: bool,
    /// A header block gave a request (`:method`).
    requests_seen: bool,
    /// A header block with `:status` came before any request: a response.
    responses_seen: bool,
    /// The client's SETTINGS frame being read.
    settings: SettingsFrame,
    /// The server's side, where it is read (h2c; see [`ServerSide`]).
    server: Option<Box<ServerSide>>,
}

impl H2Layer {
    /// A layer at the preface's first byte; `upgraded`: after an HTTP/1.1
    /// request with `Upgrade: h2c`, which was stream 1.
    pub fn new(upgraded: bool) -> Self {
        H2Layer {
            reader: FrameReader::new(),
            conn: Conn {
                preface: 0,
                upgraded,
                hpack: Decoder::new(),
                block: None,
                frame: None,
                last_stream: u32::from(upgraded),
                held: Vec::new(),
                ts: Timestamp::default(),
                stopped: false,
                uncounted: false,
                requests_seen: false,
                responses_seen: false,
                settings: SettingsFrame::default(),
                server: None,
            },
            tentative: None,
            server_side: false,
        }
    }

    /// A layer at a frame boundary of a connection whose preface (and what
    /// followed it up to here) is not in the capture: the HPACK table is
    /// unknown. `tentative`: which side is the client is not known yet (see
    /// the module docs).
    pub fn midstream(tentative: bool) -> Self {
        let mut l = H2Layer::new(false);
        l.conn.preface = PREFACE.len();
        l.conn.hpack.forget();
        l.conn.uncounted = true;
        if tentative {
            l.tentative = Some(Box::default());
        }
        l
    }

    /// A layer at the preface's first byte that reads the server's side
    /// too (h2c): `server`, the server's stream from its first byte (read
    /// already, if the server spoke before the client's preface).
    pub fn with_server(upgraded: bool, server: Box<ServerSide>) -> Self {
        let mut l = H2Layer::new(upgraded);
        // The server's SETTINGS_HEADER_TABLE_SIZE is 4096 until the client
        // acknowledges another.
        l.conn.hpack.set_limit(Some(hpack::DEFAULT_TABLE));
        l.conn.server = Some(server);
        l
    }

    /// Whether the server's bytes are still needed: a server side is read
    /// (h2c) and has not stopped (see [`ServerSide`]).
    pub fn wants_server(&self) -> bool {
        !self.conn.stopped && self.conn.server.as_ref().is_some_and(|s| !s.is_stopped())
    }

    /// Feeds in-order bytes of the server's stream (plaintext).
    pub fn server_data(&mut self, ts: Timestamp, input: &[u8], feed: &mut H2Feed<'_>) {
        if let Some(s) = &mut self.conn.server {
            s.data(ts, input, feed);
        }
    }

    /// Notes `len` missing bytes of the server's stream.
    pub fn server_gap(&mut self, len: u64, feed: &mut H2Feed<'_>) {
        if let Some(s) = &mut self.conn.server {
            s.gap(len, feed);
        }
    }

    /// Whether this stream showed itself to be the server's (a response
    /// header block while the client was not known): it stopped uncounted.
    pub fn is_server_side(&self) -> bool {
        self.server_side
    }

    /// Bytes held in partial header blocks (the server's side's too).
    pub fn buffered(&self) -> usize {
        let server = self.conn.server.as_ref().map_or(0, |s| s.buffered());
        self.conn
            .block
            .as_ref()
            .map_or(0, |b| b.buf.capacity())
            .saturating_add(server)
    }

    /// Bytes of memory held in the bodies of requests waiting for their ends.
    pub fn body_held(&self) -> usize {
        self.conn.body_held()
    }

    /// Whether the layer stopped reading.
    pub fn is_stopped(&self) -> bool {
        self.conn.stopped
    }

    /// Feeds in-order bytes; false once stopped.
    pub fn data(&mut self, ts: Timestamp, input: &[u8], feed: &mut H2Feed<'_>) -> bool {
        self.fed(feed, |l, feed| l.data_inner(ts, input, feed)) && !self.conn.stopped
    }

    /// Runs `step` with the counters this layer keeps while tentative,
    /// then settles them: added to the run's once a request shows this is
    /// the client (or at the end, if a header block without `:status` was
    /// seen), dropped when a response shows it is the server.
    fn fed<R>(
        &mut self,
        feed: &mut H2Feed<'_>,
        step: impl FnOnce(&mut Self, &mut H2Feed<'_>) -> R,
    ) -> R {
        let Some(mut pending) = self.tentative.take() else {
            return step(self, feed);
        };
        let mut aside = H2Feed {
            max_head: feed.max_head,
            h2: &mut pending,
            http: &mut *feed.http,
            body_room: feed.body_room,
            body_limit: feed.body_limit,
            out: &mut *feed.out,
        };
        let r = step(self, &mut aside);
        let c = &mut self.conn;
        if c.requests_seen || (c.stopped && pending.header_blocks > 0 && !c.responses_seen) {
            feed.h2.absorb(&pending);
        } else if c.responses_seen {
            // The server's side: nothing of it counted, nothing more read.
            c.held.clear();
            c.block = None;
            c.stopped = true;
            self.server_side = true;
        } else if !c.stopped {
            self.tentative = Some(pending);
        }
        r
    }

    fn data_inner(&mut self, ts: Timestamp, mut input: &[u8], feed: &mut H2Feed<'_>) -> bool {
        let c = &mut self.conn;
        if c.stopped {
            return false;
        }
        if c.uncounted {
            c.uncounted = false;
            feed.h2.connections = feed.h2.connections.saturating_add(1);
            feed.h2.midstream = feed.h2.midstream.saturating_add(1);
        }
        if c.preface < PREFACE.len() {
            let want = PREFACE.get(c.preface..).unwrap_or_default();
            let n = want.len().min(input.len());
            if input.get(..n) != want.get(..n) {
                feed.h2.bad_prefaces = feed.h2.bad_prefaces.saturating_add(1);
                c.stopped = true;
                return false;
            }
            c.preface = c.preface.saturating_add(n);
            input = input.get(n..).unwrap_or_default();
            if c.preface == PREFACE.len() {
                feed.h2.connections = feed.h2.connections.saturating_add(1);
                if c.upgraded {
                    feed.h2.upgrades = feed.h2.upgrades.saturating_add(1);
                }
            }
        }
        c.ts = ts;
        let r = self.reader.feed(input, &mut |p| c.piece(p, feed));
        if r.is_err() {
            feed.h2.protocol_errors = feed.h2.protocol_errors.saturating_add(1);
            c.lose(feed);
        }
        !c.stopped
    }

    /// Notes `len` missing bytes; false once stopped.
    pub fn gap(&mut self, len: u64, feed: &mut H2Feed<'_>) -> bool {
        self.fed(feed, |l, feed| l.gap_inner(len, feed)) && !self.conn.stopped
    }

    fn gap_inner(&mut self, len: u64, feed: &mut H2Feed<'_>) -> bool {
        let c = &mut self.conn;
        if c.stopped {
            return false;
        }
        if c.preface < PREFACE.len() {
            c.lose(feed);
            return false;
        }
        match self.reader.gap(len) {
            GapAt::InFrame(hdr) => {
                feed.h2.gaps_in_frames = feed.h2.gaps_in_frames.saturating_add(1);
                if matches!(hdr.kind, kind::HEADERS | kind::CONTINUATION)
                    && let Some(b) = &mut c.block
                {
                    b.damaged = true;
                }
                if hdr.kind == kind::DATA
                    && let Some(h) = c.held.iter_mut().find(|h| h.stream == hdr.stream)
                {
                    h.body.gap(len);
                }
            }
            GapAt::Lost => c.lose(feed),
        }
        !c.stopped
    }

    /// The stream ended: a header block cut short is reported truncated.
    pub fn end(&mut self, feed: &mut H2Feed<'_>) {
        self.fed(feed, |l, feed| l.conn.end(feed));
    }
}

impl Conn {
    fn end(&mut self, feed: &mut H2Feed<'_>) {
        if let Some(mut b) = self.block.take() {
            b.damaged = true;
            self.finish(b, feed);
        }
        // Bodies not ended are published as they are, in the order their
        // requests came.
        for h in std::mem::take(&mut self.held) {
            publish(h, false, feed);
        }
        if let Some(s) = &mut self.server {
            s.end(feed);
        }
        self.stopped = true;
    }

    /// The stream `stream` ended (`complete`) or was reset: its held
    /// request is published.
    fn stream_ended(&mut self, stream: u32, complete: bool, feed: &mut H2Feed<'_>) {
        if let Some(i) = self.held.iter().position(|h| h.stream == stream) {
            let h = self.held.remove(i);
            publish(h, complete, feed);
        }
    }

    /// The framing is lost: what was gathered is reported, then stop.
    fn lose(&mut self, feed: &mut H2Feed<'_>) {
        feed.h2.streams_lost = feed.h2.streams_lost.saturating_add(1);
        self.end(feed);
    }

    /// DATA content of `stream`: to its request's body, within the room
    /// the other held bodies leave.
    fn on_data(&mut self, stream: u32, bytes: &[u8], feed: &mut H2Feed<'_>) {
        feed.h2.data_bytes = feed.h2.data_bytes.saturating_add(bytes.len() as u64);
        let all = self.body_held();
        if let Some(h) = self.held.iter_mut().find(|h| h.stream == stream) {
            // The connection's room is shared: this upload gets what the
            // others leave.
            let others = all.saturating_sub(h.body.held());
            h.body.push(
                bytes,
                feed.body_room.saturating_sub(others),
                feed.body_limit,
            );
        }
    }

    /// Bytes held in the bodies of requests waiting for their ends.
    fn body_held(&self) -> usize {
        self.held
            .iter()
            .fold(0usize, |n, h| n.saturating_add(h.body.held()))
    }

    fn piece(&mut self, p: Piece<'_>, feed: &mut H2Feed<'_>) {
        match p {
            Piece::Start(h) => self.start(h, feed),
            Piece::Content(bytes) => match self.frame {
                Some(h) if matches!(h.kind, kind::HEADERS | kind::CONTINUATION) => {
                    if let Some(b) = &mut self.block {
                        b.gather(bytes, feed.max_head);
                    }
                }
                Some(h) if h.kind == kind::DATA => self.on_data(h.stream, bytes, feed),
                Some(h) if h.kind == kind::SETTINGS => self.settings.content(bytes),
                _ => {}
            },
            // Only servers send PUSH_PROMISE (counted out of place at its start).
            Piece::Promised(_) => {}
            Piece::End(h, damaged) => {
                self.frame = None;
                match h.kind {
                    kind::DATA if h.has(flag::END_STREAM) => {
                        self.stream_ended(h.stream, true, feed);
                    }
                    kind::RST_STREAM => self.stream_ended(h.stream, false, feed),
                    kind::SETTINGS if !h.has(flag::ACK) => {
                        let (table, push) = self.settings.take(damaged);
                        if let Some(s) = &mut self.server {
                            let s = &mut s.st;
                            s.to_server.sent(table);
                            if let Some(p) = push {
                                s.push_disabled = p == 0;
                            }
                            s.stop_if_not_needed(feed);
                        }
                    }
                    _ => {}
                }
                if !matches!(h.kind, kind::HEADERS | kind::CONTINUATION) {
                    return;
                }
                if let Some(b) = &mut self.block {
                    b.damaged |= damaged;
                }
                if h.has(flag::END_HEADERS)
                    && let Some(b) = self.block.take()
                {
                    self.finish(b, feed);
                }
            }
        }
    }

    fn start(&mut self, h: FrameHeader, feed: &mut H2Feed<'_>) {
        let s = &mut *feed.h2;
        s.frames = s.frames.saturating_add(1);
        self.frame = Some(h);
        if h.kind != kind::CONTINUATION
            && let Some(b) = self.block.take()
        {
            // A block left open by a frame other than CONTINUATION.
            feed.h2.protocol_errors = feed.h2.protocol_errors.saturating_add(1);
            self.finish(Block { damaged: true, ..b }, feed);
        }
        let s = &mut *feed.h2;
        match h.kind {
            kind::HEADERS => {
                if h.stream.is_multiple_of(2) {
                    s.protocol_errors = s.protocol_errors.saturating_add(1);
                }
                self.block = Some(Block::new(&h, self.ts));
            }
            kind::CONTINUATION if self.block.as_ref().is_none_or(|b| b.stream != h.stream) => {
                s.protocol_errors = s.protocol_errors.saturating_add(1);
                self.frame = None;
            }
            kind::DATA => {
                s.data_frames = s.data_frames.saturating_add(1);
                if !self.held.iter().any(|r| r.stream == h.stream) {
                    s.data_frames_unclaimed = s.data_frames_unclaimed.saturating_add(1);
                }
            }
            kind::RST_STREAM => s.rst_streams = s.rst_streams.saturating_add(1),
            kind::GOAWAY => s.goaways = s.goaways.saturating_add(1),
            kind::SETTINGS => {
                s.settings = s.settings.saturating_add(1);
                if h.has(flag::ACK) {
                    // The client acknowledged the server's oldest SETTINGS not
                    // yet acknowledged: its table size bounds the client's
                    // encoder from here (known only where the server is read).
                    if let Some(server) = &mut self.server {
                        apply(&mut self.hpack, server.st.to_client.acked());
                    }
                } else {
                    self.settings = SettingsFrame::default();
                }
            }
            kind::PUSH_PROMISE => s.protocol_errors = s.protocol_errors.saturating_add(1),
            _ => {}
        }
    }

    /// Decodes a gathered header block and reports the request it opens.
    fn finish(&mut self, b: Block, feed: &mut H2Feed<'_>) {
        let s = &mut *feed.h2;
        s.header_blocks = s.header_blocks.saturating_add(1);
        let mut fields = Vec::new();
        if b.cut {
            s.cut_blocks = s.cut_blocks.saturating_add(1);
            feed.http.heads_over_limit = feed.http.heads_over_limit.saturating_add(1);
        } else if b.damaged {
            s.damaged_blocks = s.damaged_blocks.saturating_add(1);
        }
        let d = b.decode(&mut self.hpack, &mut fields);
        let (whole, unknown) = (d.whole, d.unknown);
        s.table_capped = s.table_capped.saturating_add(d.capped);
        s.table_size_errors = s.table_size_errors.saturating_add(d.oversized);
        // A cut block ends inside an instruction: the fields before it stand.
        if d.error && whole {
            s.hpack_errors = s.hpack_errors.saturating_add(1);
        }
        if unknown {
            s.undecodable_blocks = s.undecodable_blocks.saturating_add(1);
        }
        // Until a request is seen: a response's block tells a stream of
        // unknown role to be the server's (see H2Layer::fed).
        if !self.requests_seen
            && fields
                .iter()
                .any(|f| matches!(f, Field::Known { name, .. } if name == b":status"))
        {
            self.responses_seen = true;
        }
        if b.stream <= self.last_stream {
            s.trailers = s.trailers.saturating_add(1);
            if b.end_stream {
                self.stream_ended(b.stream, true, feed);
            }
            return;
        }
        self.last_stream = b.stream;
        s.streams = s.streams.saturating_add(1);
        let truncated = !whole || unknown;
        if let Some(head) = request(fields) {
            self.requests_seen = true;
            if truncated {
                feed.http.truncated_heads = feed.http.truncated_heads.saturating_add(1);
            }
            let has_body = !b.end_stream && feed.body_limit > 0;
            let wanted = has_body && body::wanted(&head.head.headers);
            let request = ParsedRequest {
                ts: b.ts,
                head: head.head,
                truncated,
                tls: None,
                stream_id: Some(b.stream),
                pushed_on: None,
                authority: head.authority,
                body: None,
                body_skipped: has_body && !wanted,
                answer_awaited: false,
            };
            if !wanted {
                feed.out.push(request);
            } else if self.held.len() >= MAX_BODY_STREAMS {
                s.bodies_not_held = s.bodies_not_held.saturating_add(1);
                feed.out.push(request);
            } else {
                self.held.push(HeldRequest {
                    stream: b.stream,
                    request,
                    body: BodyCollector::new(),
                });
            }
        }
    }
}

/// The start of an h2c upgrade's server stream: the HTTP/1.1 101 response
/// before the server's frames.
#[derive(Debug, Default)]
struct UpgradeHead {
    /// The status line's first bytes (`HTTP/1.1 101`).
    start: [u8; 12],
    /// Bytes of the head read so far.
    seen: usize,
    /// The last bytes read, for the blank line that ends the head.
    last: [u8; 4],
}

/// What [`UpgradeHead::feed`] found.
enum HeadStep {
    /// The head ended this many bytes into the input.
    Done(usize),
    /// All taken, more needed.
    More,
    /// Not a 101 response (or longer than the head limit).
    Not,
}

impl UpgradeHead {
    fn feed(&mut self, input: &[u8], max_head: usize) -> HeadStep {
        for (i, &b) in input.iter().enumerate() {
            if let Some(slot) = self.start.get_mut(self.seen) {
                *slot = b;
                if self.seen.saturating_add(1) == self.start.len()
                    && !(self.start.starts_with(b"HTTP/1.1 ") && self.start.ends_with(b"101"))
                {
                    return HeadStep::Not;
                }
            }
            self.seen = self.seen.saturating_add(1);
            let [_, a, b2, c] = self.last;
            self.last = [a, b2, c, b];
            if &self.last == b"\r\n\r\n" {
                return HeadStep::Done(i.saturating_add(1));
            }
            if self.seen > max_head {
                return HeadStep::Not;
            }
        }
        HeadStep::More
    }
}

/// The server's side of an h2c connection: its own frame reader and HPACK
/// decoder (the server's dynamic table), read for three things only: the
/// requests its PUSH_PROMISE frames promise (reported marked as pushed,
/// never as requests the client sent), its SETTINGS (the size it allows the
/// client's HPACK table) and its acknowledgements of the client's SETTINGS
/// (which bound the server's own table). Every server header block is
/// decoded, or the table would be lost; those of responses and trailers
/// only keep the table and are never reported. DATA payloads are passed
/// over without being copied. Once the client has disabled push
/// (SETTINGS_ENABLE_PUSH=0) and the server's first SETTINGS frame has been
/// read, nothing more is read ([`H2Layer::wants_server`] turns false).
///
/// It takes plaintext chunks in order ([`H2Layer::server_data`],
/// [`H2Layer::server_gap`]); the stack feeds it for h2c only. Inside TLS
/// the server's direction is not decrypted, so it is not read there.
#[derive(Debug)]
pub struct ServerSide {
    reader: FrameReader,
    st: ServerState,
}

/// A server side's state apart from its frame reader.
#[derive(Debug)]
struct ServerState {
    hpack: Decoder,
    block: Option<Block>,
    frame: Option<FrameHeader>,
    settings: SettingsFrame,
    /// Capture time of the chunk the current frame header completed in.
    ts: Timestamp,
    /// An upgrade's 101 response, until read.
    head: Option<UpgradeHead>,
    /// A frame header was read (the first must be SETTINGS).
    started: bool,
    /// The server's first SETTINGS frame was read.
    first_settings: bool,
    stopped: bool,
    /// Table sizes the server advertised, waiting for the client's ACK.
    to_client: Pending,
    /// Table sizes the client advertised, waiting for the server's ACK.
    to_server: Pending,
    /// The client's SETTINGS_ENABLE_PUSH is 0.
    push_disabled: bool,
}

impl ServerSide {
    /// The server's side from its first byte: its frames, or (`upgraded`)
    /// the HTTP/1.1 101 response of an h2c upgrade, then its frames.
    pub fn new(upgraded: bool) -> Self {
        let mut hpack = Decoder::new();
        // The client's SETTINGS_HEADER_TABLE_SIZE is 4096 until the server
        // acknowledges another.
        hpack.set_limit(Some(hpack::DEFAULT_TABLE));
        ServerSide {
            reader: FrameReader::new(),
            st: ServerState {
                hpack,
                block: None,
                frame: None,
                settings: SettingsFrame::default(),
                ts: Timestamp::default(),
                head: upgraded.then(UpgradeHead::default),
                started: false,
                first_settings: false,
                stopped: false,
                to_client: Pending::default(),
                to_server: Pending::default(),
                push_disabled: false,
            },
        }
    }

    /// Whether nothing more is read.
    pub fn is_stopped(&self) -> bool {
        self.st.stopped
    }

    /// Bytes held in a partial header block.
    pub fn buffered(&self) -> usize {
        self.st.block.as_ref().map_or(0, |b| b.buf.capacity())
    }

    /// Feeds in-order bytes of the server's stream.
    pub fn data(&mut self, ts: Timestamp, mut input: &[u8], feed: &mut H2Feed<'_>) {
        let st = &mut self.st;
        if st.stopped {
            return;
        }
        if let Some(h) = &mut st.head {
            match h.feed(input, feed.max_head) {
                HeadStep::Done(n) => {
                    st.head = None;
                    input = input.get(n..).unwrap_or_default();
                }
                HeadStep::More => return,
                HeadStep::Not => {
                    st.stop();
                    return;
                }
            }
        }
        st.ts = ts;
        if self.reader.feed(input, &mut |p| st.piece(p, feed)).is_err() {
            feed.h2.protocol_errors = feed.h2.protocol_errors.saturating_add(1);
            st.lose(feed);
        }
    }

    /// Notes `len` missing bytes of the server's stream: a gap inside a
    /// header block makes the server's table unknown (as on the client's
    /// side); one across a frame header stops the reading.
    pub fn gap(&mut self, len: u64, feed: &mut H2Feed<'_>) {
        let st = &mut self.st;
        if st.stopped {
            return;
        }
        if st.head.is_some() {
            st.lose(feed);
            return;
        }
        match self.reader.gap(len) {
            GapAt::InFrame(hdr) => {
                if matches!(
                    hdr.kind,
                    kind::HEADERS | kind::CONTINUATION | kind::PUSH_PROMISE
                ) && let Some(b) = &mut st.block
                {
                    b.damaged = true;
                }
            }
            GapAt::Lost => st.lose(feed),
        }
    }

    /// The server's stream ended: a promise cut short is reported truncated.
    pub fn end(&mut self, feed: &mut H2Feed<'_>) {
        if let Some(b) = self.st.block.take() {
            self.st.finish(Block { damaged: true, ..b }, feed);
        }
        self.st.stop();
    }
}

impl ServerState {
    /// Reads no more: what it holds is let go (the table too).
    fn stop(&mut self) {
        self.stopped = true;
        self.block = None;
        self.hpack = Decoder::new();
    }

    /// The framing is lost (counted once it was HTTP/2).
    fn lose(&mut self, feed: &mut H2Feed<'_>) {
        if self.started {
            feed.h2.server_streams_lost = feed.h2.server_streams_lost.saturating_add(1);
        }
        self.stop();
    }

    /// Stops when the server's frames can no longer matter: push disabled
    /// by the client and the server's first SETTINGS read.
    fn stop_if_not_needed(&mut self, feed: &mut H2Feed<'_>) {
        if self.push_disabled && self.first_settings && !self.stopped {
            self.stop();
            feed.h2.server_reads_stopped = feed.h2.server_reads_stopped.saturating_add(1);
        }
    }

    fn piece(&mut self, p: Piece<'_>, feed: &mut H2Feed<'_>) {
        if self.stopped {
            return;
        }
        match p {
            Piece::Start(h) => self.start(h, feed),
            Piece::Promised(id) => {
                if let Some(b) = &mut self.block {
                    b.promised = Some(id);
                }
            }
            Piece::Content(bytes) => match self.frame {
                Some(h)
                    if matches!(
                        h.kind,
                        kind::HEADERS | kind::CONTINUATION | kind::PUSH_PROMISE
                    ) =>
                {
                    if let Some(b) = &mut self.block {
                        b.gather(bytes, feed.max_head);
                    }
                }
                Some(h) if h.kind == kind::SETTINGS => self.settings.content(bytes),
                // DATA and the rest: passed over.
                _ => {}
            },
            Piece::End(h, damaged) => {
                self.frame = None;
                match h.kind {
                    kind::SETTINGS if !h.has(flag::ACK) => {
                        let (table, _) = self.settings.take(damaged);
                        self.to_client.sent(table);
                        self.first_settings = true;
                        self.stop_if_not_needed(feed);
                    }
                    kind::HEADERS | kind::CONTINUATION | kind::PUSH_PROMISE => {
                        if let Some(b) = &mut self.block {
                            b.damaged |= damaged;
                        }
                        if h.has(flag::END_HEADERS)
                            && let Some(b) = self.block.take()
                        {
                            self.finish(b, feed);
                        }
                    }
                    _ => {}
                }
            }
        }
    }

    fn start(&mut self, h: FrameHeader, feed: &mut H2Feed<'_>) {
        if !self.started {
            // The server's connection preface is a SETTINGS frame (RFC 9113
            // 3.4): anything else is no HTTP/2 server, not read further.
            if h.kind != kind::SETTINGS || h.has(flag::ACK) || h.stream != 0 {
                self.stop();
                return;
            }
            self.started = true;
            feed.h2.server_streams = feed.h2.server_streams.saturating_add(1);
        }
        let s = &mut *feed.h2;
        s.server_frames = s.server_frames.saturating_add(1);
        self.frame = Some(h);
        if h.kind != kind::CONTINUATION
            && let Some(b) = self.block.take()
        {
            s.protocol_errors = s.protocol_errors.saturating_add(1);
            self.finish(Block { damaged: true, ..b }, feed);
        }
        let s = &mut *feed.h2;
        match h.kind {
            kind::HEADERS => self.block = Some(Block::new(&h, self.ts)),
            kind::PUSH_PROMISE => {
                s.push_promises = s.push_promises.saturating_add(1);
                self.block = Some(Block::new(&h, self.ts));
            }
            kind::CONTINUATION if self.block.as_ref().is_none_or(|b| b.stream != h.stream) => {
                s.protocol_errors = s.protocol_errors.saturating_add(1);
                self.frame = None;
            }
            kind::SETTINGS if h.has(flag::ACK) => {
                // The server acknowledged the client's oldest SETTINGS not
                // yet acknowledged: its table size bounds the server's encoder.
                apply(&mut self.hpack, self.to_server.acked());
            }
            kind::SETTINGS => self.settings = SettingsFrame::default(),
            _ => {}
        }
    }

    /// Decodes a server header block (keeping the server's table); a
    /// PUSH_PROMISE's block gives the request it promises.
    fn finish(&mut self, b: Block, feed: &mut H2Feed<'_>) {
        let s = &mut *feed.h2;
        s.server_header_blocks = s.server_header_blocks.saturating_add(1);
        let mut fields = Vec::new();
        let d = b.decode(&mut self.hpack, &mut fields);
        s.table_capped = s.table_capped.saturating_add(d.capped);
        s.table_size_errors = s.table_size_errors.saturating_add(d.oversized);
        if d.error || d.unknown || !d.whole {
            s.server_undecodable_blocks = s.server_undecodable_blocks.saturating_add(1);
        }
        let Some(promised) = b.promised else {
            return;
        };
        // Promised on a stream the client opened, for a stream of the
        // server's (even); else out of place. A gap may have taken the id (0).
        if b.stream == 0 || b.stream.is_multiple_of(2) || !promised.is_multiple_of(2) {
            s.protocol_errors = s.protocol_errors.saturating_add(1);
            return;
        }
        if let Some(head) = request(fields) {
            s.pushed_requests = s.pushed_requests.saturating_add(1);
            feed.out.push(ParsedRequest {
                ts: b.ts,
                head: head.head,
                truncated: !d.whole || d.unknown,
                tls: None,
                stream_id: (promised != 0).then_some(promised),
                pushed_on: Some(b.stream),
                authority: head.authority,
                body: None,
                body_skipped: false,
                answer_awaited: false,
            });
        }
    }
}

/// Publishes a held request with its body.
fn publish(h: HeldRequest, complete: bool, feed: &mut H2Feed<'_>) {
    let mut request = h.request;
    request.body = Some(h.body.finish(complete));
    feed.out.push(request);
}

/// A request's head and authority from its fields.
struct H2Head {
    head: Head,
    authority: Option<String>,
}

/// Builds the request of a header block: `None` without a `:method`, or
/// without both `:path` and `:authority`.
fn request(fields: Vec<Field>) -> Option<H2Head> {
    let text = |b: Vec<u8>| {
        String::from_utf8(b).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
    };
    let (mut method, mut path, mut authority) = (None, None, None);
    let mut headers: Vec<Header> = Vec::new();
    let mut cookie: Option<usize> = None;
    for f in fields {
        let Field::Known { name, value, .. } = f else {
            continue;
        };
        match name.as_slice() {
            b":method" => method = Some(text(value)),
            b":path" => path = Some(text(value)),
            b":authority" => authority = Some(text(value)),
            n if n.starts_with(b":") => {}
            b"cookie" => {
                let value = text(value);
                match cookie.and_then(|i| headers.get_mut(i)) {
                    Some(h) => {
                        h.value.push_str("; ");
                        h.value.push_str(&value);
                    }
                    None => {
                        cookie = Some(headers.len());
                        headers.push(Header {
                            name: "cookie".into(),
                            value,
                        });
                    }
                }
            }
            _ => {
                // Trimmed in place: most values have nothing to trim.
                let mut value = text(value);
                let start = value.len().saturating_sub(value.trim_start().len());
                value.truncate(value.trim_end().len());
                value.drain(..start.min(value.len()));
                headers.push(Header {
                    name: text(name),
                    value,
                });
            }
        }
    }
    // A block cut before its target names no request.
    let method = method?;
    let uri = path.or_else(|| authority.clone())?;
    Some(H2Head {
        head: Head {
            method,
            uri,
            version: "HTTP/2".into(),
            headers,
        },
        authority,
    })
}

#[cfg(test)]
mod reference_test;

#[cfg(test)]
mod tests {
    use super::*;

    /// A header block arriving in uneven pieces never holds more capacity than
    /// the head limit (the capacity is what the memory budget counts; found by
    /// the h2_frames fuzz target).
    #[test]
    fn a_growing_block_stays_within_the_limit() {
        let (mut h2, mut http, mut out) = (H2Stats::default(), HttpStats::default(), Vec::new());
        let mut feed = H2Feed {
            max_head: 512,
            h2: &mut h2,
            http: &mut http,
            body_room: 0,
            body_limit: 0,
            out: &mut out,
        };
        let mut layer = H2Layer::new(false);
        let mut st = PREFACE.to_vec();
        st.extend([0, 0x03, 0xe8, frames::kind::HEADERS, 0, 0, 0, 0, 1]);
        assert!(layer.data(Timestamp(0), &st, &mut feed));
        for n in [7, 300, 1, 250, 442] {
            assert!(layer.data(Timestamp(0), &vec![0x82; n], &mut feed));
            assert!(layer.buffered() <= 512, "{}", layer.buffered());
        }
        layer.end(&mut feed);
        assert_eq!((h2.cut_blocks, h2.header_blocks), (1, 1));
    }

    /// A frame (reserved bit clear).
    fn fr(kind: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
        let mut v = (payload.len() as u32).to_be_bytes()[1..].to_vec();
        v.extend([kind, flags]);
        v.extend(stream.to_be_bytes());
        v.extend(payload);
        v
    }

    /// A literal field added to the table (`index`) or not, its name literal.
    fn lit(b: &mut Vec<u8>, index: bool, n: &str, v: &str) {
        b.push(if index { 0x40 } else { 0 });
        b.push(n.len() as u8);
        b.extend(n.as_bytes());
        b.push(v.len() as u8);
        b.extend(v.as_bytes());
    }

    fn settings(params: &[(u16, u32)]) -> Vec<u8> {
        let mut p = Vec::new();
        for (id, v) in params {
            p.extend(id.to_be_bytes());
            p.extend(v.to_be_bytes());
        }
        fr(kind::SETTINGS, 0, 0, &p)
    }

    fn ack() -> Vec<u8> {
        fr(kind::SETTINGS, flag::ACK, 0, &[])
    }

    /// One step: the client's or the server's bytes (`Err`: a gap).
    enum Step<'a> {
        C(&'a [u8]),
        S(&'a [u8]),
        SGap(u64),
    }

    /// Feeds an h2c layer (server side read) and ends it.
    fn run(steps: &[Step<'_>]) -> (Vec<ParsedRequest>, H2Stats, Vec<bool>) {
        let (mut h2, mut http, mut out) = (H2Stats::default(), HttpStats::default(), Vec::new());
        let mut feed = H2Feed {
            max_head: 4096,
            h2: &mut h2,
            http: &mut http,
            body_room: 0,
            body_limit: 0,
            out: &mut out,
        };
        let mut layer = H2Layer::with_server(false, Box::new(ServerSide::new(false)));
        let mut wants = Vec::new();
        for s in steps {
            match s {
                Step::C(b) => {
                    layer.data(Timestamp(0), b, &mut feed);
                }
                Step::S(b) => layer.server_data(Timestamp(1), b, &mut feed),
                Step::SGap(n) => layer.server_gap(*n, &mut feed),
            }
            wants.push(layer.wants_server());
        }
        layer.end(&mut feed);
        (out, h2, wants)
    }

    fn get(path: &str) -> Vec<u8> {
        let mut b = vec![0x82, 0x86];
        lit(&mut b, false, ":path", path);
        lit(&mut b, false, ":authority", "a.example");
        b
    }

    fn client_start(params: &[(u16, u32)]) -> Vec<u8> {
        let mut c = PREFACE.to_vec();
        c.extend(settings(params));
        c.extend(fr(
            kind::HEADERS,
            flag::END_HEADERS | flag::END_STREAM,
            1,
            &get("/index"),
        ));
        c
    }

    /// The server's stream of [`push_promises_are_requests_marked_pushed`]:
    /// SETTINGS and its ACK, a padded PUSH_PROMISE whose block goes on in a
    /// CONTINUATION (entries added to the server's table), a response (more
    /// entries), a DATA frame, a second PUSH_PROMISE indexing the first's
    /// entries.
    fn pushing_server() -> Vec<u8> {
        let mut s = settings(&[(setting::HEADER_TABLE_SIZE, 4096)]);
        s.extend(ack());
        let mut b1 = vec![0x82, 0x86];
        lit(&mut b1, true, ":authority", "a.example");
        lit(&mut b1, false, ":path", "/push.js");
        lit(&mut b1, true, "x-msisdn", "447700900123");
        let mut p = vec![3, 0, 0, 0, 2];
        p.extend(&b1[..9]);
        p.extend([0; 3]);
        s.extend(fr(kind::PUSH_PROMISE, flag::PADDED, 1, &p));
        s.extend(fr(kind::CONTINUATION, flag::END_HEADERS, 1, &b1[9..]));
        let mut r = vec![0x88];
        lit(&mut r, true, "server", "t");
        s.extend(fr(kind::HEADERS, flag::END_HEADERS, 1, &r));
        s.extend(fr(kind::DATA, 0, 1, &[b'x'; 300]));
        // Dynamic: 62 server, 63 x-msisdn, 64 :authority.
        let mut b2 = vec![0x82, 0x86, 0xc0];
        lit(&mut b2, false, ":path", "/push.css");
        b2.push(0xbf);
        let mut p = 4u32.to_be_bytes().to_vec();
        p.extend(&b2);
        s.extend(fr(kind::PUSH_PROMISE, flag::END_HEADERS, 1, &p));
        s.extend(fr(kind::DATA, flag::END_STREAM, 2, b"js"));
        s
    }

    type Pushed = (
        String,
        Option<String>,
        Option<u32>,
        Option<u32>,
        bool,
        Vec<(String, String)>,
    );

    fn view(out: &[ParsedRequest]) -> Vec<Pushed> {
        out.iter()
            .map(|r| {
                (
                    r.head.uri.clone(),
                    r.authority.clone(),
                    r.stream_id,
                    r.pushed_on,
                    r.truncated,
                    r.head
                        .headers
                        .iter()
                        .map(|h| (h.name.clone(), h.value.clone()))
                        .collect(),
                )
            })
            .collect()
    }

    /// The server's PUSH_PROMISE blocks (padded, in CONTINUATION, indexing
    /// the server's own table) are requests marked pushed, with the stream
    /// promised and the stream it came on; response blocks keep the table
    /// and are not reported; the same however the server's bytes are cut.
    #[test]
    fn push_promises_are_requests_marked_pushed() {
        let c = client_start(&[]);
        let s = pushing_server();
        let msisdn = vec![("x-msisdn".to_string(), "447700900123".to_string())];
        let a = Some("a.example".to_string());
        let want: Vec<Pushed> = vec![
            ("/index".into(), a.clone(), Some(1), None, false, vec![]),
            (
                "/push.js".into(),
                a.clone(),
                Some(2),
                Some(1),
                false,
                msisdn.clone(),
            ),
            (
                "/push.css".into(),
                a.clone(),
                Some(4),
                Some(1),
                false,
                msisdn.clone(),
            ),
        ];
        let (out, h2, wants) = run(&[Step::C(&c), Step::S(&s)]);
        assert_eq!(view(&out), want);
        assert_eq!(
            (
                h2.server_streams,
                h2.push_promises,
                h2.pushed_requests,
                h2.server_header_blocks,
                h2.server_undecodable_blocks,
                h2.streams,
                h2.protocol_errors,
            ),
            (1, 2, 2, 3, 0, 1, 0)
        );
        // Push allowed: the server is read to the end.
        assert_eq!(wants, [true, true]);
        for cut in 1..s.len() {
            let (out, h2b, _) = run(&[Step::C(&c), Step::S(&s[..cut]), Step::S(&s[cut..])]);
            assert_eq!(view(&out), want, "cut at {cut}");
            assert_eq!(h2b, h2, "cut at {cut}");
        }
        // Without a server side (inside TLS, today), nothing is pushed.
        let (mut h2, mut http, mut out) = (H2Stats::default(), HttpStats::default(), Vec::new());
        let mut feed = H2Feed {
            max_head: 4096,
            h2: &mut h2,
            http: &mut http,
            body_room: 0,
            body_limit: 0,
            out: &mut out,
        };
        let mut layer = H2Layer::new(false);
        layer.data(Timestamp(0), &c, &mut feed);
        assert!(!layer.wants_server());
        layer.server_data(Timestamp(0), &s, &mut feed);
        layer.end(&mut feed);
        assert_eq!(out.len(), 1);
    }

    /// A gap in a server header block makes the server's table unknown: a
    /// later promise indexing it is reported cut, its unknown fields left
    /// out (never guessed); a gap across a frame header stops the reading.
    #[test]
    fn a_gap_in_the_servers_stream_makes_its_table_unknown() {
        let c = client_start(&[]);
        let s = pushing_server();
        // The response HEADERS frame: after the CONTINUATION.
        let at = s.windows(2).position(|w| w == [0x88, 0x40]).unwrap();
        let (out, h2, _) = run(&[
            Step::C(&c),
            Step::S(&s[..at + 1]),
            Step::SGap(3),
            Step::S(&s[at + 4..]),
        ]);
        let v = view(&out);
        assert_eq!(v.len(), 3, "{v:?}");
        // The table was forgotten: x-msisdn (63) and :authority (64) unknown.
        assert_eq!(
            (v[2].0.as_str(), v[2].1.clone(), v[2].2, v[2].4),
            ("/push.css", None, Some(4), true)
        );
        assert!(v[2].5.is_empty());
        assert_eq!((h2.server_undecodable_blocks, h2.pushed_requests), (2, 2));
        let (out, h2, wants) = run(&[
            Step::C(&c),
            Step::S(&s[..15]),
            Step::SGap(30),
            Step::S(&s[45..]),
        ]);
        assert_eq!(out.len(), 1);
        assert_eq!(h2.server_streams_lost, 1);
        assert_eq!(wants, [true, true, false, false]);
    }

    /// A client that disables push (SETTINGS_ENABLE_PUSH=0, as curl and
    /// browsers send) needs the server's stream only until the server's
    /// first SETTINGS has been read, whichever side comes first.
    #[test]
    fn enable_push_0_stops_reading_the_server() {
        let c = client_start(&[(setting::ENABLE_PUSH, 0)]);
        let s = pushing_server();
        let first = settings(&[(setting::HEADER_TABLE_SIZE, 4096)]).len();
        let (out, h2, wants) = run(&[
            Step::C(&c),
            Step::S(&s[..first - 1]),
            Step::S(&s[first - 1..]),
        ]);
        assert_eq!(wants, [true, true, false]);
        assert_eq!(out.len(), 1);
        assert_eq!(
            (h2.server_reads_stopped, h2.server_frames, h2.push_promises),
            (1, 1, 0)
        );
        // The server's SETTINGS first, then the client's.
        let (out, h2, wants) = run(&[Step::S(&s[..first]), Step::C(&c[..30]), Step::C(&c[30..])]);
        assert_eq!(wants, [true, true, false]);
        assert_eq!((out.len(), h2.server_reads_stopped), (1, 1));
        // Push not disabled: read on.
        let c = client_start(&[(setting::ENABLE_PUSH, 1)]);
        let (_, h2, wants) = run(&[Step::C(&c), Step::S(&s[..first])]);
        assert_eq!((wants, h2.server_reads_stopped), (vec![true, true], 0));
    }

    /// Each direction's HPACK limit is the other side's
    /// SETTINGS_HEADER_TABLE_SIZE from when its sender acknowledged it
    /// (4096 before): a table-size update past it is counted and makes the
    /// table unknown; within it, decoding goes on.
    #[test]
    fn table_size_updates_are_held_to_the_acknowledged_setting() {
        // An update to 8192 (then :authority indexed from the table).
        let mut big = vec![0x3f, 0xe1, 0x3f, 0x82, 0x86];
        lit(&mut big, false, ":path", "/big");
        big.push(0xbe);
        let mut c = PREFACE.to_vec();
        c.extend(settings(&[]));
        let mut first = vec![0x82, 0x86];
        lit(&mut first, false, ":path", "/first");
        lit(&mut first, true, ":authority", "a.example");
        c.extend(fr(
            kind::HEADERS,
            flag::END_HEADERS | flag::END_STREAM,
            1,
            &first,
        ));
        let before_ack = [
            c.clone(),
            fr(kind::HEADERS, flag::END_HEADERS | flag::END_STREAM, 3, &big),
        ]
        .concat();
        let server = [settings(&[(setting::HEADER_TABLE_SIZE, 8192)]), ack()].concat();
        // Before the client's ACK: past 4096, an error, :authority unknown.
        let (out, h2, _) = run(&[Step::S(&server), Step::C(&before_ack)]);
        assert_eq!(h2.table_size_errors, 1);
        assert_eq!(
            (
                out[1].head.uri.as_str(),
                out[1].truncated,
                out[1].authority.clone()
            ),
            ("/big", true, None)
        );
        // After it: within the limit.
        let after_ack = [
            c.clone(),
            ack(),
            fr(kind::HEADERS, flag::END_HEADERS | flag::END_STREAM, 3, &big),
        ]
        .concat();
        let (out, h2, _) = run(&[Step::S(&server), Step::C(&after_ack)]);
        assert_eq!(h2.table_size_errors, 0);
        assert_eq!(
            (out[1].truncated, out[1].authority.as_deref()),
            (false, Some("a.example"))
        );
        // An ACK for SETTINGS never read: the limit unknown, updates followed.
        let (out, h2, _) = run(&[Step::C(&after_ack)]);
        assert_eq!((h2.table_size_errors, out[1].truncated), (0, false));
        // The server's direction: the client allows 256 bytes; once the
        // server acknowledged, its update to 4096 is past it.
        let mut c = PREFACE.to_vec();
        c.extend(settings(&[(setting::HEADER_TABLE_SIZE, 256)]));
        c.extend(fr(
            kind::HEADERS,
            flag::END_HEADERS | flag::END_STREAM,
            1,
            &get("/index"),
        ));
        let mut promise = 2u32.to_be_bytes().to_vec();
        promise.extend([0x3f, 0xe1, 0x1f, 0x82, 0x86]);
        lit(&mut promise, false, ":path", "/p");
        lit(&mut promise, false, ":authority", "a.example");
        let s = [
            settings(&[]),
            ack(),
            fr(kind::PUSH_PROMISE, flag::END_HEADERS, 1, &promise),
        ]
        .concat();
        let (out, h2, _) = run(&[Step::C(&c), Step::S(&s)]);
        assert_eq!((h2.table_size_errors, h2.server_undecodable_blocks), (1, 0));
        // Fields of the block are literals: still decoded.
        assert_eq!(
            (out[1].head.uri.as_str(), out[1].pushed_on),
            ("/p", Some(1))
        );
        // Without the server's ACK it is the default 4096: no error.
        let s = [
            settings(&[]),
            fr(kind::PUSH_PROMISE, flag::END_HEADERS, 1, &promise),
        ]
        .concat();
        let (_, h2, _) = run(&[Step::C(&c), Step::S(&s)]);
        assert_eq!(h2.table_size_errors, 0);
    }

    /// An upgrade's server stream: the 101 response, then frames; a server
    /// whose first frame is not SETTINGS is not read.
    #[test]
    fn the_servers_101_is_passed_over_and_its_preface_checked() {
        let mut promise = 2u32.to_be_bytes().to_vec();
        promise.extend([0x82, 0x86]);
        lit(&mut promise, false, ":path", "/p");
        let frames = [
            settings(&[]),
            fr(kind::PUSH_PROMISE, flag::END_HEADERS, 1, &promise),
        ]
        .concat();
        let up = [
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\n\r\n".as_slice(),
            &frames,
        ]
        .concat();
        for step in 1..up.len() {
            let (mut h2, mut http, mut out) =
                (H2Stats::default(), HttpStats::default(), Vec::new());
            let mut feed = H2Feed {
                max_head: 4096,
                h2: &mut h2,
                http: &mut http,
                body_room: 0,
                body_limit: 0,
                out: &mut out,
            };
            let mut s = ServerSide::new(true);
            for part in up.chunks(step) {
                s.data(Timestamp(0), part, &mut feed);
            }
            assert_eq!(out.len(), 1, "step {step}");
            assert_eq!(
                (out[0].head.uri.as_str(), out[0].pushed_on),
                ("/p", Some(1))
            );
        }
        for bad in [
            [b"HTTP/1.1 200 OK\r\n\r\n".as_slice(), &frames].concat(),
            fr(kind::PUSH_PROMISE, flag::END_HEADERS, 1, &promise),
        ] {
            let (mut h2, mut http, mut out) =
                (H2Stats::default(), HttpStats::default(), Vec::new());
            let mut feed = H2Feed {
                max_head: 4096,
                h2: &mut h2,
                http: &mut http,
                body_room: 0,
                body_limit: 0,
                out: &mut out,
            };
            let mut s = ServerSide::new(bad.starts_with(b"HTTP"));
            s.data(Timestamp(0), &bad, &mut feed);
            assert!(s.is_stopped() && out.is_empty());
            assert_eq!(h2.server_streams, 0);
        }
    }
}
