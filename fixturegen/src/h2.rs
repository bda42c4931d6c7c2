//! HTTP/2 fixtures: cleartext HTTP/2 (h2c) by prior knowledge and by
//! `Upgrade: h2c`, written by this module's own frame writer and HPACK
//! encoder (deterministic; it uses the dynamic table, Huffman coding where
//! shorter, and never-indexed literals for the subscriber headers), with the
//! truth: each request's first byte is its HEADERS frame's first byte.
//!
//! Like the TLS fixtures, not part of [`crate::all`]: [`all`] gives them
//! (the integration tests write them out and scan them).

use std::collections::VecDeque;

use phoneleak::h2::hpack::static_table;
use phoneleak::h2::huffman;

use super::bodies::gzip;
use super::http::{Req, UA_ANDROID, html};
use super::scenarios::{Lcg, MSISDN, T0, eth_pcap, fixture};
use super::tcp::{Conversation, Trace};
use super::{Fixture, TruthRequest};

pub mod rewrite;

/// The client connection preface.
pub const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// Frame types and flags used here (RFC 9113 section 6).
pub mod ft {
    /// DATA.
    pub const DATA: u8 = 0;
    /// HEADERS.
    pub const HEADERS: u8 = 1;
    /// PRIORITY.
    pub const PRIORITY: u8 = 2;
    /// RST_STREAM.
    pub const RST_STREAM: u8 = 3;
    /// SETTINGS.
    pub const SETTINGS: u8 = 4;
    /// PUSH_PROMISE.
    pub const PUSH_PROMISE: u8 = 5;
    /// PING.
    pub const PING: u8 = 6;
    /// GOAWAY.
    pub const GOAWAY: u8 = 7;
    /// WINDOW_UPDATE.
    pub const WINDOW_UPDATE: u8 = 8;
    /// CONTINUATION.
    pub const CONTINUATION: u8 = 9;
    /// END_STREAM (ACK on SETTINGS).
    pub const END_STREAM: u8 = 0x1;
    /// END_HEADERS.
    pub const END_HEADERS: u8 = 0x4;
    /// PADDED.
    pub const PADDED: u8 = 0x8;
    /// PRIORITY flag.
    pub const PRIO: u8 = 0x20;
}

/// One frame.
pub fn frame(kind: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
    let len = payload.len() as u32;
    assert!(len < 1 << 24);
    let mut v = len.to_be_bytes()[1..].to_vec();
    v.extend([kind, flags]);
    v.extend(stream.to_be_bytes());
    v.extend(payload);
    v
}

fn int(out: &mut Vec<u8>, first: u8, n: u32, v: usize) {
    let max = (1usize << n) - 1;
    if v < max {
        out.push(first | v as u8);
        return;
    }
    out.push(first | max as u8);
    let mut v = v - max;
    while v >= 128 {
        out.push((v % 128 + 128) as u8);
        v /= 128;
    }
    out.push(v as u8);
}

fn huffman(s: &[u8]) -> Vec<u8> {
    let (mut acc, mut bits, mut out) = (0u64, 0u32, Vec::new());
    for &b in s {
        let (code, len) = huffman::code(b.into()).unwrap();
        acc = (acc << len) | u64::from(code);
        bits += u32::from(len);
        while bits >= 8 {
            out.push((acc >> (bits - 8)) as u8);
            bits -= 8;
        }
        acc &= (1 << bits) - 1;
    }
    if bits > 0 {
        out.push(((acc << (8 - bits)) | ((1 << (8 - bits)) - 1)) as u8);
    }
    out
}

fn string(out: &mut Vec<u8>, s: &[u8]) {
    let h = huffman(s);
    if h.len() < s.len() {
        int(out, 0x80, 7, h.len());
        out.extend(h);
    } else {
        int(out, 0, 7, s.len());
        out.extend_from_slice(s);
    }
}

/// An HPACK encoder with a dynamic table.
pub struct Encoder {
    table: VecDeque<(String, String)>,
    size: usize,
    max: usize,
    /// A table-size update to send at the next block's start.
    update: Option<usize>,
}

impl Default for Encoder {
    fn default() -> Self {
        Encoder {
            table: VecDeque::new(),
            size: 0,
            max: 4096,
            update: None,
        }
    }
}

impl Encoder {
    /// Changes the table size (announced at the next block's start).
    pub fn set_max(&mut self, max: usize) {
        self.max = max;
        self.update = Some(max);
        self.evict(0);
    }

    fn evict(&mut self, room: usize) {
        while self.size + room > self.max {
            let Some((n, v)) = self.table.pop_back() else {
                break;
            };
            self.size -= n.len() + v.len() + 32;
        }
    }

    fn find(&self, name: &str, value: &str) -> (Option<usize>, Option<usize>) {
        let mut name_at = None;
        let all = static_table()
            .iter()
            .map(|(n, v)| (*n, *v))
            .chain(self.table.iter().map(|(n, v)| (n.as_str(), v.as_str())));
        for (i, (n, v)) in all.enumerate() {
            if n == name {
                if v == value {
                    return (Some(i + 1), Some(i + 1));
                }
                name_at.get_or_insert(i + 1);
            }
        }
        (None, name_at)
    }

    /// Encodes one header block. Fields named in `sensitive` are sent as
    /// never-indexed literals; the others are indexed when in a table, else
    /// literals added to the dynamic table.
    pub fn block(&mut self, fields: &[(String, String)], sensitive: &[&str]) -> Vec<u8> {
        let mut out = Vec::new();
        if let Some(max) = self.update.take() {
            int(&mut out, 0x20, 5, max);
        }
        for (name, value) in fields {
            let (exact, name_at) = self.find(name, value);
            let never = sensitive.contains(&name.as_str());
            if let (Some(i), false) = (exact, never) {
                int(&mut out, 0x80, 7, i);
                continue;
            }
            let (first, n) = if never { (0x10, 4) } else { (0x40, 6) };
            int(&mut out, first, n, name_at.unwrap_or(0));
            if name_at.is_none() {
                string(&mut out, name.as_bytes());
            }
            string(&mut out, value.as_bytes());
            if !never {
                let size = name.len() + value.len() + 32;
                self.evict(size);
                if size <= self.max {
                    self.table.push_front((name.clone(), value.clone()));
                    self.size += size;
                }
            }
        }
        out
    }
}

/// A header block that leaves the dynamic table alone (as encoders send
/// fields they do not expect to repeat): a static-table index where the
/// field is there whole, else a literal without indexing (never indexed for
/// `sensitive` names), its name from the static table where it is there.
pub fn literal_block(fields: &[(String, String)], sensitive: &[&str]) -> Vec<u8> {
    let mut out = Vec::new();
    for (name, value) in fields {
        let stat = static_table();
        let exact = stat.iter().position(|(n, v)| n == name && v == value);
        let never = sensitive.contains(&name.as_str());
        if let (Some(i), false) = (exact, never) {
            int(&mut out, 0x80, 7, i + 1);
            continue;
        }
        let name_at = stat.iter().position(|(n, _)| n == name).map(|i| i + 1);
        int(
            &mut out,
            if never { 0x10 } else { 0 },
            4,
            name_at.unwrap_or(0),
        );
        if name_at.is_none() {
            string(&mut out, name.as_bytes());
        }
        string(&mut out, value.as_bytes());
    }
    out
}

/// A request's fields: pseudo-headers, then its headers lower-cased, Host
/// as `:authority`.
pub fn fields(req: &Req, scheme: &str) -> Vec<(String, String)> {
    let mut f = vec![
        (":method".to_string(), req.method.clone()),
        (":scheme".to_string(), scheme.to_string()),
        (":path".to_string(), req.uri.clone()),
        (":authority".to_string(), req.host()),
    ];
    for h in &req.headers {
        if !h.name.eq_ignore_ascii_case("host") {
            f.push((h.name.to_ascii_lowercase(), h.value.clone()));
        }
    }
    f
}

/// How a request's header block is framed.
#[derive(Clone, Copy, Default)]
pub struct Framing {
    /// Split the block into a HEADERS and CONTINUATION frames of this size.
    pub continuation: Option<usize>,
    /// Padding on the HEADERS frame.
    pub pad: Option<u8>,
    /// The PRIORITY fields on the HEADERS frame.
    pub priority: bool,
}

/// The client side of one HTTP/2 connection.
pub struct Client {
    /// The header encoder.
    pub enc: Encoder,
    /// The next stream to open.
    pub next_stream: u32,
    /// `http` or `https`.
    pub scheme: &'static str,
}

/// Names sent as never-indexed literals.
const SENSITIVE: &[&str] = &["x-msisdn", "x-up-calling-line-id", "authorization"];

impl Client {
    /// A client whose first stream is `first` (3 after an h2c upgrade).
    pub fn new(first: u32, scheme: &'static str) -> Self {
        Client {
            enc: Encoder::default(),
            next_stream: first,
            scheme,
        }
    }

    /// The preface and a SETTINGS frame of these parameters (identifier,
    /// value).
    pub fn start_with(params: &[(u16, u32)]) -> Vec<u8> {
        let mut v = PREFACE.to_vec();
        v.extend(settings(params));
        v
    }

    /// The preface and the client's SETTINGS (and a WINDOW_UPDATE).
    pub fn start() -> Vec<u8> {
        let mut v = PREFACE.to_vec();
        v.extend(frame(
            ft::SETTINGS,
            0,
            0,
            &[0, 2, 0, 0, 0, 0, 0, 4, 0, 0x60, 0, 0],
        ));
        v.extend(frame(ft::WINDOW_UPDATE, 0, 0, &[0, 0xef, 0, 1]));
        v
    }

    /// A request's frames (HEADERS, CONTINUATIONs, then DATA with its body
    /// if any) on a new stream; returns the stream id too.
    pub fn request(&mut self, req: &Req, how: Framing) -> (u32, Vec<u8>) {
        let stream = self.next_stream;
        self.next_stream += 2;
        let block = self.enc.block(&fields(req, self.scheme), SENSITIVE);
        let end_stream = if req.body.is_empty() {
            ft::END_STREAM
        } else {
            0
        };
        let mut out = self.header_frames(stream, &block, end_stream, how);
        if !req.body.is_empty() {
            out.extend(frame(ft::DATA, ft::END_STREAM, stream, &req.body));
        }
        (stream, out)
    }

    /// A request's header frames alone on a new stream, its stream left
    /// open for DATA frames the caller writes; returns the stream id too.
    pub fn open(&mut self, req: &Req) -> (u32, Vec<u8>) {
        let stream = self.next_stream;
        self.next_stream += 2;
        let block = self.enc.block(&fields(req, self.scheme), SENSITIVE);
        (
            stream,
            self.header_frames(stream, &block, 0, Framing::default()),
        )
    }

    /// Trailers on `stream`.
    pub fn trailers(&mut self, stream: u32, fields: &[(String, String)]) -> Vec<u8> {
        let block = self.enc.block(fields, SENSITIVE);
        self.header_frames(stream, &block, ft::END_STREAM, Framing::default())
    }

    fn header_frames(&self, stream: u32, block: &[u8], flags: u8, how: Framing) -> Vec<u8> {
        let first_len = how.continuation.unwrap_or(block.len()).min(block.len());
        let (first, rest) = block.split_at(first_len);
        let mut payload = Vec::new();
        let mut f = flags;
        if let Some(p) = how.pad {
            payload.push(p);
            f |= ft::PADDED;
        }
        if how.priority {
            payload.extend([0, 0, 0, 0, 41]);
            f |= ft::PRIO;
        }
        payload.extend(first);
        payload.extend(std::iter::repeat_n(0, usize::from(how.pad.unwrap_or(0))));
        if rest.is_empty() {
            f |= ft::END_HEADERS;
        }
        let mut out = frame(ft::HEADERS, f, stream, &payload);
        let chunks: Vec<&[u8]> = rest.chunks(how.continuation.unwrap_or(1).max(1)).collect();
        for (i, c) in chunks.iter().enumerate() {
            let last = i + 1 == chunks.len();
            out.extend(frame(
                ft::CONTINUATION,
                if last { ft::END_HEADERS } else { 0 },
                stream,
                c,
            ));
        }
        out
    }
}

/// The server's answer on `stream`: HEADERS (:status 200, content-type)
/// and a DATA frame with a small page.
pub fn response(enc: &mut Encoder, stream: u32, now_ns: u64, title: &str) -> Vec<u8> {
    let page = html(now_ns, title);
    // The HTTP/1 page's body only.
    let body = page
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map_or(&page[..], |p| &page[p + 4..]);
    let block = enc.block(
        &[
            (":status".into(), "200".into()),
            ("content-type".into(), "text/html".into()),
        ],
        &[],
    );
    let mut v = frame(ft::HEADERS, ft::END_HEADERS, stream, &block);
    v.extend(frame(ft::DATA, ft::END_STREAM, stream, body));
    v
}

/// The server answers on `stream` after a short think time.
fn answer(c: &mut Conversation, t: &mut Trace, enc: &mut Encoder, stream: u32, title: &str) {
    let r = response(enc, stream, t.now_ns, title);
    c.respond(t, &r);
}

/// A SETTINGS frame of these parameters (identifier, value).
pub fn settings(params: &[(u16, u32)]) -> Vec<u8> {
    let mut p = Vec::new();
    for (id, v) in params {
        p.extend(id.to_be_bytes());
        p.extend(v.to_be_bytes());
    }
    frame(ft::SETTINGS, 0, 0, &p)
}

/// A SETTINGS ACK.
pub fn settings_ack() -> Vec<u8> {
    frame(ft::SETTINGS, ft::END_STREAM, 0, &[])
}

/// SETTINGS_HEADER_TABLE_SIZE.
pub const HEADER_TABLE_SIZE: u16 = 1;
/// SETTINGS_ENABLE_PUSH.
pub const ENABLE_PUSH: u16 = 2;

/// A PUSH_PROMISE on `stream` promising `promised`, its block from `enc`
/// (the server's encoder) split at `continuation` bytes into CONTINUATION
/// frames where given, padded with `pad` bytes where given.
pub fn push_promise(
    enc: &mut Encoder,
    stream: u32,
    promised: u32,
    req: &Req,
    continuation: Option<usize>,
    pad: Option<u8>,
) -> Vec<u8> {
    let block = enc.block(&fields(req, "http"), SENSITIVE);
    let first_len = continuation.unwrap_or(block.len()).min(block.len());
    let (first, rest) = block.split_at(first_len);
    let mut payload = Vec::new();
    let mut flags = 0;
    if let Some(p) = pad {
        payload.push(p);
        flags |= ft::PADDED;
    }
    payload.extend(promised.to_be_bytes());
    payload.extend(first);
    payload.extend(std::iter::repeat_n(0, usize::from(pad.unwrap_or(0))));
    if rest.is_empty() {
        flags |= ft::END_HEADERS;
    }
    let mut out = frame(ft::PUSH_PROMISE, flags, stream, &payload);
    let chunks: Vec<&[u8]> = rest.chunks(continuation.unwrap_or(1).max(1)).collect();
    for (i, c) in chunks.iter().enumerate() {
        let last = i + 1 == chunks.len();
        out.extend(frame(
            ft::CONTINUATION,
            if last { ft::END_HEADERS } else { 0 },
            stream,
            c,
        ));
    }
    out
}

/// A pushed request's truth: promised by `c`'s server to its client.
pub(crate) fn pushed_truth(c: &Conversation, req: &Req) -> TruthRequest {
    TruthRequest {
        src: c.client.to_string(),
        dst: c.server.to_string(),
        method: req.method.clone(),
        uri: req.uri.clone(),
        host: req.host(),
        leak_headers: req.leak_headers(),
        known_leak_headers: req.known_leak_headers(),
        truncated: false,
    }
}

/// The server's SETTINGS and its ACK of the client's.
pub fn server_start() -> Vec<u8> {
    let mut v = frame(ft::SETTINGS, 0, 0, &[0, 3, 0, 0, 0, 100]);
    v.extend(frame(ft::SETTINGS, ft::END_STREAM, 0, &[]));
    v
}

fn leaking(uri: &str, host: &str) -> Req {
    Req::get(uri, host)
        .h("User-Agent", UA_ANDROID)
        .h("Accept", "*/*")
        .leak("X-MSISDN", MSISDN)
}

fn conv(t: &mut Trace, client: &str, server: &str, seed: u32) -> Conversation {
    Conversation::new(
        t,
        client,
        server,
        0x1100_0000u32.wrapping_add(seed.wrapping_mul(0x9e37)),
        0x2200_0000u32.wrapping_add(seed.wrapping_mul(0x7f4b)),
    )
}

/// Every HTTP/2 fixture, in a fixed order.
pub fn all() -> Vec<Fixture> {
    vec![
        prior_knowledge(),
        upgrade(),
        framing(),
        gaps(),
        bodies(),
        midstream(),
        push(),
        table_size(),
    ]
}

/// h2c by prior knowledge on a port no HTTP server is known for: three
/// requests in one segment (the second and third index the first's fields),
/// a POST with a body, a request split over many small segments.
fn prior_knowledge() -> Fixture {
    let mut t = Trace::new(T0 + 40_000, 0);
    let mut c = conv(&mut t, "10.0.2.10:51000", "192.0.2.200:8999", 1);
    c.handshake(&mut t);
    let mut cl = Client::new(1, "http");
    let mut senc = Encoder::default();
    let mut bytes = Client::start();
    let reqs = [
        leaking("/h2/one", "api.example.net"),
        leaking("/h2/two?x=1", "api.example.net").h("Cookie", "a=b"),
        Req::get("/h2/three", "api.example.net")
            .h("User-Agent", UA_ANDROID)
            .leak("X-Up-Calling-Line-Id", MSISDN),
    ];
    for r in &reqs {
        let at = c.c_next + bytes.len() as u32;
        c.note(&mut t, at, r, false, false, r.leak_headers());
        bytes.extend(cl.request(r, Framing::default()).1);
    }
    c.send(&mut t, true, &bytes);
    let mut s = server_start();
    for stream in [1, 3, 5] {
        s.extend(response(&mut senc, stream, t.now_ns, "h2"));
    }
    c.respond(&mut t, &s);
    let post = Req::new("POST", "/h2/upload")
        .h("Host", "api.example.net")
        .h("Content-Type", "application/json")
        .leak("X-MSISDN", MSISDN)
        .raw_body(br#"{"note":"hello"}"#);
    c.note_next(&mut t, &post);
    let (st, b) = cl.request(&post, Framing::default());
    c.send(&mut t, true, &b);
    answer(&mut c, &mut t, &mut senc, st, "posted");
    let small = leaking("/h2/small-segments", "api.example.net");
    c.note_next(&mut t, &small);
    let (st, b) = cl.request(&small, Framing::default());
    c.send_sizes(&mut t, true, &b, &[1, 2, 3, 5, 7, 11]);
    answer(&mut c, &mut t, &mut senc, st, "small");
    let goaway = frame(ft::GOAWAY, 0, 0, &[0, 0, 0, 0, 0, 0, 0, 0]);
    c.send(&mut t, true, &goaway);
    c.fin_close(&mut t);
    fixture(
        "h2c-prior-knowledge.pcap",
        &t,
        eth_pcap(&t),
        "Cleartext HTTP/2 by prior knowledge on port 8999: the preface, SETTINGS and three GET requests in one segment (HPACK with the dynamic table, Huffman strings, X-MSISDN as a never-indexed literal), a POST with a DATA frame, a request cut into segments of 1 to 11 bytes, GOAWAY.",
        "Report all five requests, version HTTP/2, each with its stream id (1, 3, 5, 7, 9) and the :authority as host.",
    )
}

/// h2c by Upgrade: an HTTP/1.1 request (stream 1) with `Upgrade: h2c`, the
/// server's 101, then the preface and HTTP/2 requests from stream 3.
fn upgrade() -> Fixture {
    let mut t = Trace::new(T0 + 40_600, 0);
    let mut c = conv(&mut t, "10.0.2.11:51001", "192.0.2.201:80", 2);
    c.handshake(&mut t);
    let up = leaking("/upgrade", "up.example.net")
        .h("Connection", "Upgrade, HTTP2-Settings")
        .h("Upgrade", "h2c")
        .h("HTTP2-Settings", "AAMAAABkAARAAAAAAAIAAAAA");
    c.request(&mut t, &up);
    let mut senc = Encoder::default();
    let mut s =
        b"HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n".to_vec();
    s.extend(server_start());
    s.extend(response(&mut senc, 1, t.now_ns, "upgraded"));
    c.respond(&mut t, &s);
    let mut cl = Client::new(3, "http");
    let mut bytes = Client::start();
    let r = leaking("/after-upgrade", "up.example.net");
    c.note(
        &mut t,
        c.c_next + bytes.len() as u32,
        &r,
        false,
        false,
        r.leak_headers(),
    );
    bytes.extend(cl.request(&r, Framing::default()).1);
    c.send(&mut t, true, &bytes);
    answer(&mut c, &mut t, &mut senc, 3, "after");
    c.fin_close(&mut t);
    fixture(
        "h2c-upgrade.pcap",
        &t,
        eth_pcap(&t),
        "Cleartext HTTP/2 by Upgrade: GET /upgrade (HTTP/1.1, Upgrade: h2c, HTTP2-Settings), the server's 101 Switching Protocols, then the client's preface and GET /after-upgrade on stream 3.",
        "Report GET /upgrade as the HTTP/1.1 request it is (stream 1 of the HTTP/2 connection) and GET /after-upgrade as HTTP/2 stream 3; both leak x-msisdn.",
    )
}

/// HEADERS with PADDED and PRIORITY, a header block in CONTINUATION frames,
/// trailers, RST_STREAM, PRIORITY and PING frames, a table-size update.
fn framing() -> Fixture {
    let mut t = Trace::new(T0 + 41_200, 0);
    let mut c = conv(&mut t, "10.0.2.12:51002", "192.0.2.202:8080", 3);
    c.handshake(&mut t);
    let mut cl = Client::new(1, "http");
    let mut senc = Encoder::default();
    let mut rng = Lcg(11);
    c.send(&mut t, true, &Client::start());
    c.respond(&mut t, &server_start());
    let padded = leaking("/frames/padded", "frames.example.net");
    c.note_next(&mut t, &padded);
    let how = Framing {
        pad: Some(17),
        priority: true,
        ..Framing::default()
    };
    let (st, b) = cl.request(&padded, how);
    c.send(&mut t, true, &b);
    answer(&mut c, &mut t, &mut senc, st, "padded");
    let cont = leaking("/frames/continuation", "frames.example.net")
        .h("Cookie", &format!("session={}", rng.letters(300)))
        .h("Accept-Language", "en-GB");
    c.note_next(&mut t, &cont);
    let (st, b) = cl.request(
        &cont,
        Framing {
            continuation: Some(100),
            ..Framing::default()
        },
    );
    c.send_sizes(&mut t, true, &b, &[90, 200]);
    answer(&mut c, &mut t, &mut senc, st, "continued");
    // A POST whose body ends with trailers (a second HEADERS: no request).
    let post = Req::new("POST", "/frames/trailers")
        .h("Host", "frames.example.net")
        .h("TE", "trailers")
        .leak("X-MSISDN", MSISDN);
    c.note_next(&mut t, &post);
    let stream = cl.next_stream;
    cl.next_stream += 2;
    let block = cl.enc.block(&fields(&post, "http"), SENSITIVE);
    let mut b = frame(ft::HEADERS, ft::END_HEADERS, stream, &block);
    b.extend(frame(ft::DATA, ft::PADDED, stream, b"\x03part\0\0\0"));
    b.extend(cl.trailers(stream, &[("x-checksum".into(), "abc".into())]));
    b.extend(frame(ft::PRIORITY, 0, stream, &[0, 0, 0, 0, 7]));
    b.extend(frame(ft::PING, 0, 0, b"pingpong"));
    c.send(&mut t, true, &b);
    answer(&mut c, &mut t, &mut senc, stream, "trailers");
    // A smaller table, then a request the client cancels.
    cl.enc.set_max(256);
    let cancel = leaking("/frames/cancelled", "frames.example.net");
    c.note_next(&mut t, &cancel);
    let (st, mut b) = cl.request(&cancel, Framing::default());
    b.extend(frame(ft::RST_STREAM, 0, st, &[0, 0, 0, 8]));
    c.send(&mut t, true, &b);
    t.advance_us(50_000);
    let last = leaking("/frames/last", "frames.example.net");
    c.note_next(&mut t, &last);
    let (st, b) = cl.request(&last, Framing::default());
    c.send(&mut t, true, &b);
    answer(&mut c, &mut t, &mut senc, st, "last");
    c.fin_close(&mut t);
    fixture(
        "h2c-framing.pcap",
        &t,
        eth_pcap(&t),
        "HTTP/2 framing cases on one h2c connection: HEADERS with PADDED and PRIORITY, a 400-byte header block in HEADERS + CONTINUATION frames split across segments, a POST with a padded DATA frame and trailers, PRIORITY and PING frames, a dynamic table-size update to 256 bytes, a request cancelled with RST_STREAM.",
        "Report the five requests (the trailers are no request); each leaks its x-msisdn.",
    )
}

/// Segments missing from the capture: one inside a DATA frame (nothing
/// but the body lost), one inside a header block (that request is cut and
/// the HPACK table becomes unknown: a later block that indexes lost entries
/// is reported cut, with the fields that decode).
fn gaps() -> Fixture {
    let mut t = Trace::new(T0 + 41_800, 0);
    let mut c = conv(&mut t, "10.0.2.13:51003", "192.0.2.203:8080", 4);
    c.handshake(&mut t);
    let mut cl = Client::new(1, "http");
    let mut senc = Encoder::default();
    let mut rng = Lcg(12);
    c.send(&mut t, true, &Client::start());
    c.respond(&mut t, &server_start());
    let first = leaking("/gaps/first", "gaps.example.net");
    c.note_next(&mut t, &first);
    let (st, b) = cl.request(&first, Framing::default());
    c.send(&mut t, true, &b);
    answer(&mut c, &mut t, &mut senc, st, "first");
    // A POST whose DATA frame loses its middle segment.
    let body = rng.letters(3000);
    let post = Req::new("POST", "/gaps/upload")
        .h("Host", "gaps.example.net")
        .leak("X-MSISDN", MSISDN)
        .raw_body(body.as_bytes());
    c.note_next(&mut t, &post);
    let (st, b) = cl.request(&post, Framing::default());
    let head = b.len() - 3000;
    let segs = c.split(true, &b, &[head + 500, 1000, 10_000]);
    assert_eq!(segs.len(), 3);
    c.emit(&mut t, &segs[0]);
    t.advance_us(2_000);
    c.emit(&mut t, &segs[2]);
    c.ack(&mut t, false);
    answer(&mut c, &mut t, &mut senc, st, "uploaded");
    let after = leaking("/gaps/after-body-gap", "gaps.example.net");
    c.note_next(&mut t, &after);
    let (st, b) = cl.request(&after, Framing::default());
    c.send(&mut t, true, &b);
    answer(&mut c, &mut t, &mut senc, st, "after");
    // A header block whose middle is lost: optional (cut before :path or not).
    let lost = leaking("/gaps/lost-block", "gaps.example.net")
        .h("X-Filler", &rng.letters(200))
        .h("Accept-Language", "en-GB");
    let first_byte = c.c_next;
    let (st, b) = cl.request(&lost, Framing::default());
    c.note(&mut t, first_byte, &lost, true, true, Vec::new());
    let segs = c.split(true, &b, &[30, 100, 10_000]);
    c.emit(&mut t, &segs[0]);
    c.emit(&mut t, &segs[2]);
    c.ack(&mut t, false);
    answer(&mut c, &mut t, &mut senc, st, "lost");
    // The client indexes entries made by the lost block (x-filler is one):
    // the field is left out and the request reported cut, its leak still found.
    let next = Req::get("/gaps/indexes-lost", "gaps.example.net")
        .h("User-Agent", UA_ANDROID)
        .leak("X-MSISDN", MSISDN);
    let filler = lost.headers.iter().find(|h| h.name == "X-Filler").unwrap();
    let mut f = fields(&next, "http");
    f.push(("x-filler".into(), filler.value.clone()));
    let first_byte = c.c_next;
    c.note(&mut t, first_byte, &next, false, true, next.leak_headers());
    let stream = cl.next_stream;
    cl.next_stream += 2;
    let block = cl.enc.block(&f, SENSITIVE);
    c.send(
        &mut t,
        true,
        &frame(
            ft::HEADERS,
            ft::END_HEADERS | ft::END_STREAM,
            stream,
            &block,
        ),
    );
    answer(&mut c, &mut t, &mut senc, stream, "indexes");
    c.fin_close(&mut t);
    fixture(
        "h2c-gaps.pcap",
        &t,
        eth_pcap(&t),
        "Segments missing from an h2c capture: the middle of a POST's DATA frame, then the middle of a GET's header block (its X-MSISDN line with it); the next request indexes an HPACK entry the lost block made.",
        "Report /gaps/first, the POST /gaps/upload and /gaps/after-body-gap whole (a gap inside a DATA frame keeps the framing); /gaps/lost-block may be reported cut, without its leak; /gaps/indexes-lost is reported cut (the indexed x-filler field is unknown, never guessed) and still leaks x-msisdn.",
    )
}

/// A pair of captures of the same requests (`conns` connections of 10 GETs
/// with browser-like headers, every tenth leaking X-MSISDN, each answered
/// with a small page) once over HTTP/1.1 and once over h2c by prior
/// knowledge, for `diff` (tests/it/diff.rs). Returns (HTTP/1.1 capture, h2c
/// capture).
pub fn h1_h2c_pair(conns: u32) -> (Vec<u8>, Vec<u8>) {
    let mut h1 = Trace::new(T0 + 50_000, 0);
    let mut h2 = Trace::new(T0 + 50_000, 0);
    let mut rng = Lcg(99);
    for i in 0..conns {
        let host = format!("cdn{}.example.net", i % 50);
        let client = format!(
            "10.{}.{}.{}:{}",
            3 + i / 65_536 % 200,
            i / 256 % 256,
            i % 256,
            40_000 + i % 20_000
        );
        let server = format!("192.0.2.{}:8080", 1 + i % 200);
        let reqs: Vec<Req> = (0..10)
            .map(|j| {
                let r = Req::get(
                    &format!("/assets/{}/{}.js?v={j}", rng.letters(8), rng.letters(6)),
                    &host,
                )
                .h("User-Agent", UA_ANDROID)
                .h("Accept", "*/*")
                .h("Accept-Language", "en-GB,en;q=0.9")
                .h("Accept-Encoding", "gzip, deflate")
                .h(
                    "Cookie",
                    &format!("sid={}; pref={}", rng.letters(24), rng.letters(10)),
                );
                if j == 3 {
                    r.leak("X-MSISDN", MSISDN)
                } else {
                    r
                }
            })
            .collect();
        let mut c = conv(&mut h1, &client, &server, i);
        c.handshake(&mut h1);
        for r in &reqs {
            c.exchange(&mut h1, r, "page");
        }
        c.fin_close(&mut h1);
        let mut c = conv(&mut h2, &client, &server, i);
        c.handshake(&mut h2);
        let mut cl = Client::new(1, "http");
        let mut senc = Encoder::default();
        c.send(&mut h2, true, &Client::start());
        c.respond(&mut h2, &server_start());
        for r in &reqs {
            c.note_next(&mut h2, r);
            let (st, b) = cl.request(r, Framing::default());
            c.send(&mut h2, true, &b);
            answer(&mut c, &mut h2, &mut senc, st, "page");
            h2.advance_us(300_000);
        }
        c.fin_close(&mut h2);
    }
    (eth_pcap(&h1), eth_pcap(&h2))
}

/// Request bodies in DATA frames on one h2c connection: uploads interleaved
/// with other streams, a padded and gzip-compressed form, a body ended by
/// trailers, a binary upload that is not read, DATA cut into small segments.
fn bodies() -> Fixture {
    let mut t = Trace::new(T0 + 41_800, 0);
    let mut c = conv(&mut t, "10.0.2.14:51400", "192.0.2.204:8080", 5);
    c.handshake(&mut t);
    let mut cl = Client::new(1, "http");
    let post = |uri: &str, ctype: &str| {
        Req::new("POST", uri)
            .h("Host", "api.example.net")
            .h("User-Agent", UA_ANDROID)
            .h("Content-Type", ctype)
    };
    let mut bytes = Client::start();
    // Stream 1: JSON in two DATA frames with stream 3's GET between them.
    let json = format!(r#"{{"user":{{"name":"Ann","phone":"+{MSISDN}"}},"v":2}}"#);
    let profile = post("/v1/profile", "application/json").body_leaks();
    let at = c.c_next + bytes.len() as u32;
    c.note(&mut t, at, &profile, false, false, profile.leak_headers());
    let (s1, head) = cl.open(&profile);
    bytes.extend(head);
    let (a, b) = json.as_bytes().split_at(20);
    bytes.extend(frame(ft::DATA, 0, s1, a));
    let plain = Req::get("/v1/ping", "api.example.net").h("User-Agent", UA_ANDROID);
    let at = c.c_next + bytes.len() as u32;
    c.note(&mut t, at, &plain, false, false, plain.leak_headers());
    bytes.extend(cl.request(&plain, Framing::default()).1);
    bytes.extend(frame(ft::DATA, ft::END_STREAM, s1, b));
    // Stream 5: a gzip'd form in a padded DATA frame.
    let sms = post("/sms/send", "application/x-www-form-urlencoded")
        .h("Content-Encoding", "gzip")
        .body_leaks();
    let at = c.c_next + bytes.len() as u32;
    c.note(&mut t, at, &sms, false, false, sms.leak_headers());
    let (s5, head) = cl.open(&sms);
    bytes.extend(head);
    let mut padded = vec![6u8];
    padded.extend(gzip(format!("to=%2B{MSISDN}&msg=see+you").as_bytes()));
    padded.extend([0; 6]);
    bytes.extend(frame(ft::DATA, ft::END_STREAM | ft::PADDED, s5, &padded));
    c.send(&mut t, true, &bytes);
    // Stream 7: a JSON number, the stream ended by trailers, the DATA frame
    // cut into small segments.
    let events = post("/v1/events", "application/json").body_leaks();
    c.note_next(&mut t, &events);
    let (s7, mut b7) = cl.open(&events);
    b7.extend(frame(
        ft::DATA,
        0,
        s7,
        format!(r#"{{"event":"login","msisdn":{MSISDN}}}"#).as_bytes(),
    ));
    b7.extend(cl.trailers(s7, &[("x-checksum".into(), "9f2c".into())]));
    c.send_sizes(&mut t, true, &b7, &[3, 9, 1, 17, 5, 30]);
    // Stream 9: a binary upload (its digits are not read).
    let photo = post("/v1/photo", "image/jpeg");
    c.note_next(&mut t, &photo);
    let (s9, mut b9) = cl.open(&photo);
    let mut jpeg = vec![0xff, 0xd8];
    jpeg.extend(MSISDN.as_bytes());
    b9.extend(frame(ft::DATA, ft::END_STREAM, s9, &jpeg));
    c.send(&mut t, true, &b9);
    let mut senc = Encoder::default();
    let mut s = server_start();
    for stream in [s1, 3, s5, s7, s9] {
        s.extend(response(&mut senc, stream, t.now_ns, "ok"));
    }
    c.respond(&mut t, &s);
    c.fin_close(&mut t);
    fixture(
        "h2c-bodies.pcap",
        &t,
        eth_pcap(&t),
        "Request bodies in HTTP/2 DATA frames on one h2c connection (port 8080): a JSON upload in two DATA frames with a GET on another stream between them, a gzip-compressed form in a padded DATA frame, a JSON number in a stream ended by trailers and cut into segments of 1 to 30 bytes, a binary JPEG upload.",
        "Report five requests, each published when its stream ends (GET /v1/ping first); /v1/profile, /sms/send and /v1/events leak the number in their bodies (/user/phone, to, /msisdn); /v1/photo's body is not read.",
    )
}

/// h2c connections the capture picks up mid-stream: their preface, SETTINGS
/// and first requests (which filled the client's HPACK table) are not in
/// it. On port 8080 (the client known by its port): the first client
/// segment is a lone WINDOW_UPDATE; then a request of static and literal
/// fields (decoded whole), one that indexes entries the lost requests made
/// (reported cut: those fields are left out, never guessed), one that repeats
/// a lost request and indexes all but `:method`, `:scheme` and its
/// never-indexed X-MSISDN (no target: not a request), and one that indexes
/// an entry made since the capture began (decoded whole). On port 50051 (no
/// side known by its port), the server's response frames come first, then
/// the client's request of literals.
fn midstream() -> Fixture {
    let mut t = Trace::new(T0 + 42_400, 0);
    let host = "mid.example.net";
    let mut c = conv(&mut t, "10.0.2.15:51500", "192.0.2.205:8080", 6);
    let mut cl = Client::new(1, "http");
    let mut senc = Encoder::default();
    // Not captured: the handshake, preface, SETTINGS, two requests and
    // their responses.
    c.c_next = c.c_next.wrapping_add(1);
    c.s_next = c.s_next.wrapping_add(1);
    let mut lost = Client::start();
    for uri in ["/mid/lost-1", "/mid/lost-2"] {
        lost.extend(cl.request(&leaking(uri, host), Framing::default()).1);
    }
    c.c_next = c.c_next.wrapping_add(lost.len() as u32);
    let mut lost = server_start();
    for stream in [1, 3] {
        lost.extend(response(&mut senc, stream, t.now_ns, "lost"));
    }
    c.s_next = c.s_next.wrapping_add(lost.len() as u32);
    // Captured from here.
    c.send(
        &mut t,
        true,
        &frame(ft::WINDOW_UPDATE, 0, 0, &[0, 0, 0x40, 0]),
    );
    let lit = leaking("/mid/literal", host).h("Accept-Language", "en-GB");
    c.note_next(&mut t, &lit);
    let stream = cl.next_stream;
    cl.next_stream += 2;
    let block = literal_block(&fields(&lit, "http"), SENSITIVE);
    c.send(
        &mut t,
        true,
        &frame(
            ft::HEADERS,
            ft::END_HEADERS | ft::END_STREAM,
            stream,
            &block,
        ),
    );
    answer(&mut c, &mut t, &mut senc, stream, "literal");
    // :authority, user-agent and accept index the lost requests' entries.
    let indexed = leaking("/mid/indexed", host);
    let at = c.c_next;
    c.note(&mut t, at, &indexed, false, true, indexed.leak_headers());
    let (st, b) = cl.request(&indexed, Framing::default());
    c.send(&mut t, true, &b);
    answer(&mut c, &mut t, &mut senc, st, "indexed");
    // A lost request again: its target is an unknown entry too.
    let (st, b) = cl.request(&leaking("/mid/lost-1", host), Framing::default());
    c.send(&mut t, true, &b);
    answer(&mut c, &mut t, &mut senc, st, "again");
    // :path indexes the entry /mid/indexed made: known.
    let again = Req::get("/mid/indexed", host).leak("X-MSISDN", MSISDN);
    let at = c.c_next;
    c.note(&mut t, at, &again, false, false, again.leak_headers());
    let stream = cl.next_stream;
    cl.next_stream += 2;
    let mut f = fields(&again, "http");
    f.retain(|(n, _)| n != ":authority");
    let mut block = cl.enc.block(&f[..3], SENSITIVE);
    block.extend(literal_block(
        &[
            (":authority".into(), host.into()),
            ("x-msisdn".into(), MSISDN.into()),
        ],
        SENSITIVE,
    ));
    c.send(
        &mut t,
        true,
        &frame(
            ft::HEADERS,
            ft::END_HEADERS | ft::END_STREAM,
            stream,
            &block,
        ),
    );
    answer(&mut c, &mut t, &mut senc, stream, "again");
    c.fin_close(&mut t);

    // Port 50051: the server's frames come first.
    let mut c = conv(&mut t, "10.0.2.16:51600", "192.0.2.206:50051", 7);
    let mut cl = Client::new(1, "http");
    let mut senc = Encoder::default();
    c.c_next = c.c_next.wrapping_add(1);
    c.s_next = c.s_next.wrapping_add(1);
    let mut lost = Client::start();
    lost.extend(
        cl.request(&leaking("/grpc/lost", host), Framing::default())
            .1,
    );
    c.c_next = c.c_next.wrapping_add(lost.len() as u32);
    c.s_next = c.s_next.wrapping_add(server_start().len() as u32);
    answer(&mut c, &mut t, &mut senc, 1, "lost");
    let call = leaking("/grpc/call", host);
    c.note_next(&mut t, &call);
    let stream = cl.next_stream;
    cl.next_stream += 2;
    let block = literal_block(&fields(&call, "http"), SENSITIVE);
    c.send(
        &mut t,
        true,
        &frame(
            ft::HEADERS,
            ft::END_HEADERS | ft::END_STREAM,
            stream,
            &block,
        ),
    );
    answer(&mut c, &mut t, &mut senc, stream, "call");
    c.fin_close(&mut t);
    fixture(
        "h2c-midstream.pcap",
        &t,
        eth_pcap(&t),
        "Two h2c connections picked up mid-stream (no preface, SETTINGS or first requests in the capture, so the HPACK table is unknown). Port 8080: a lone WINDOW_UPDATE, GET /mid/literal (static and literal fields only), GET /mid/indexed (indexes entries the lost requests made), a repeat of a lost request (every field but :method, :scheme and X-MSISDN indexed), GET /mid/indexed again (its :path indexes an entry made in the capture). Port 50051: the server's response frames first, then GET /grpc/call of literals.",
        "Report /mid/literal, the second /mid/indexed and /grpc/call whole, and the first /mid/indexed cut (its indexed fields are unknown, never guessed), all leaking x-msisdn; the repeat of the lost request names no target: not reported, its block counted undecodable.",
    )
}

/// Server push (PUSH_PROMISE) over h2c. Port 8998, by prior knowledge: a
/// client that allows push (and a table of 8192 bytes for the server's
/// encoder, which the server uses once it has acknowledged it); the server
/// promises two requests on stream 1, the first in a padded PUSH_PROMISE
/// whose block goes on in CONTINUATION frames, the second indexing the
/// server's table (entries the first promise and the response made), with
/// the number in the promised request's target and X-MSISDN. Port 80, by
/// Upgrade: the server's 101, SETTINGS and a promise on stream 1 before the
/// client's preface. Port 8997: a client that disables push
/// (SETTINGS_ENABLE_PUSH=0, as curl and browsers do) and a 64 KB download,
/// of which only the server's SETTINGS is read.
fn push() -> Fixture {
    push_in_segments(1448)
}

/// [`push`]'s connections with every segment at most `mss` bytes (1: each
/// byte in a segment of its own, so every byte boundary of both
/// directions is a segment boundary).
pub fn push_in_segments(mss: usize) -> Fixture {
    let mut t = Trace::new(T0 + 43_000, 0);
    let host = "push.example.net";
    let mut c = conv(&mut t, "10.0.2.17:51700", "192.0.2.207:8998", 8);
    c.mss = mss;
    c.handshake(&mut t);
    let mut cl = Client::new(1, "http");
    let mut senc = Encoder::default();
    let mut bytes = Client::start_with(&[(HEADER_TABLE_SIZE, 8192), (4, 0x60_0000)]);
    let page = Req::get("/app/", host)
        .h("User-Agent", UA_ANDROID)
        .h("Accept", "text/html");
    let at = c.c_next + bytes.len() as u32;
    c.note(&mut t, at, &page, false, false, page.leak_headers());
    bytes.extend(cl.request(&page, Framing::default()).1);
    c.send(&mut t, true, &bytes);
    // The server: its SETTINGS, its ACK of the client's (from here its
    // encoder may use 8192 bytes), two promises and the responses.
    let mut s = settings(&[(3, 100)]);
    s.extend(settings_ack());
    senc.set_max(8192);
    let js = Req::get("/app/profile.js?msisdn=447700900123", host)
        .h("User-Agent", UA_ANDROID)
        .uri_leaks();
    s.extend(push_promise(&mut senc, 1, 2, &js, Some(20), Some(6)));
    s.extend(response(&mut senc, 1, t.now_ns, "app"));
    let css = Req::get("/app/style.css", host)
        .h("User-Agent", UA_ANDROID)
        .leak("X-MSISDN", MSISDN);
    s.extend(push_promise(&mut senc, 1, 4, &css, None, None));
    s.extend(response(&mut senc, 2, t.now_ns, "js"));
    s.extend(response(&mut senc, 4, t.now_ns, "css"));
    c.respond(&mut t, &s);
    let mut pushed = vec![pushed_truth(&c, &js), pushed_truth(&c, &css)];
    // The client acknowledges the server's SETTINGS, then asks again.
    let mut b = settings_ack();
    let next = leaking("/app/next", host);
    c.note(
        &mut t,
        c.c_next + b.len() as u32,
        &next,
        false,
        false,
        next.leak_headers(),
    );
    let (st, r) = cl.request(&next, Framing::default());
    b.extend(r);
    c.send(&mut t, true, &b);
    answer(&mut c, &mut t, &mut senc, st, "next");
    c.fin_close(&mut t);

    // By Upgrade: the server pushes on stream 1 at once.
    let mut c = conv(&mut t, "10.0.2.18:51701", "192.0.2.208:80", 9);
    c.mss = mss;
    c.handshake(&mut t);
    let up = Req::get("/upgrade", host)
        .h("User-Agent", UA_ANDROID)
        .h("Connection", "Upgrade, HTTP2-Settings")
        .h("Upgrade", "h2c")
        .h("HTTP2-Settings", "AAMAAABk");
    c.request(&mut t, &up);
    let mut senc = Encoder::default();
    let mut s =
        b"HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n".to_vec();
    s.extend(settings(&[(3, 100)]));
    let promised = Req::get("/up/app.js?tel=%2B447700900123", host).uri_leaks();
    s.extend(push_promise(&mut senc, 1, 2, &promised, None, None));
    s.extend(response(&mut senc, 1, t.now_ns, "upgraded"));
    s.extend(response(&mut senc, 2, t.now_ns, "pushed"));
    c.respond(&mut t, &s);
    pushed.push(pushed_truth(&c, &promised));
    let mut cl = Client::new(3, "http");
    let mut bytes = Client::start_with(&[]);
    bytes.extend(settings_ack());
    let r = leaking("/up/after", host);
    c.note(
        &mut t,
        c.c_next + bytes.len() as u32,
        &r,
        false,
        false,
        r.leak_headers(),
    );
    bytes.extend(cl.request(&r, Framing::default()).1);
    c.send(&mut t, true, &bytes);
    s = settings_ack();
    s.extend(response(&mut senc, 3, t.now_ns, "after"));
    c.respond(&mut t, &s);
    c.fin_close(&mut t);

    // Push disabled: the server's bytes after its SETTINGS are not read.
    let mut c = conv(&mut t, "10.0.2.19:51702", "192.0.2.209:8997", 10);
    c.mss = mss;
    c.handshake(&mut t);
    let mut cl = Client::new(1, "http");
    let mut senc = Encoder::default();
    let mut bytes = Client::start();
    let get = leaking("/download.bin", host);
    let at = c.c_next + bytes.len() as u32;
    c.note(&mut t, at, &get, false, false, get.leak_headers());
    bytes.extend(cl.request(&get, Framing::default()).1);
    c.send(&mut t, true, &bytes);
    let mut s = server_start();
    s.extend(frame(
        ft::HEADERS,
        ft::END_HEADERS,
        1,
        &senc.block(&[(":status".into(), "200".into())], &[]),
    ));
    for i in 0..4u8 {
        s.extend(frame(
            ft::DATA,
            if i == 3 { ft::END_STREAM } else { 0 },
            1,
            &[b'0' + i; 16_000],
        ));
    }
    c.respond(&mut t, &s);
    c.send(&mut t, true, &settings_ack());
    c.fin_close(&mut t);
    let mut f = fixture(
        "h2c-push.pcap",
        &t,
        eth_pcap(&t),
        "HTTP/2 server push over h2c. Port 8998 (prior knowledge, push allowed, SETTINGS_HEADER_TABLE_SIZE 8192 for the server's encoder): GET /app/, then the server promises GET /app/profile.js?msisdn=447700900123 (a padded PUSH_PROMISE continued in CONTINUATION frames, its encoder's table resized to 8192 once it acknowledged the client's SETTINGS) and GET /app/style.css with X-MSISDN (indexing entries of the server's HPACK table), then the client's GET /app/next. Port 80 (Upgrade: h2c): the server's 101, SETTINGS and a promise of GET /up/app.js?tel=%2B447700900123 on stream 1 before the client's preface, then GET /up/after. Port 8997: a client with SETTINGS_ENABLE_PUSH=0 downloading 64 KB.",
        "Report the client's requests (GET /app/, GET /app/next, GET /upgrade as HTTP/1.1, GET /up/after, GET /download.bin) as requests, and the three promised ones marked pushed (stream 2 or 4, promised on stream 1) with their leaks, not counted as client requests; on port 8997 read nothing of the server after its SETTINGS.",
    );
    f.truth.pushed_requests = pushed;
    f
}

/// SETTINGS_HEADER_TABLE_SIZE other than 4096. Port 8996: the server allows
/// 16384 bytes; once the client has acknowledged, its encoder grows its
/// table to 16384 and a request indexes entries that a 4096-byte table
/// would have evicted. Port 8995: the server allows 1024; the client
/// shrinks its table to it. Port 8994: the server allows the default; the
/// client grows its table to 8192 anyway (a protocol error): the request
/// with that update indexes earlier entries, which are then unknown.
fn table_size() -> Fixture {
    let mut t = Trace::new(T0 + 43_600, 0);
    let host = "table.example.net";
    let big = |i: usize| "t".repeat(900 + i);
    for (seed, port, advertised, client_max) in [
        (11, 8996, 16384, 16384),
        (12, 8995, 1024, 1024),
        (13, 8994, 4096, 8192),
    ] {
        let mut c = conv(
            &mut t,
            &format!("10.0.2.{}:{}", 20 + seed, 51800 + seed),
            &format!("192.0.2.{}:{port}", 200 + seed),
            seed,
        );
        c.handshake(&mut t);
        let mut cl = Client::new(1, "http");
        let mut senc = Encoder::default();
        let mut bytes = Client::start();
        // Four headers of about 900 bytes: 3.7 KB of entries.
        let mut first = leaking("/t/first", host);
        for i in 0..4 {
            first = first.h(&format!("x-token-{i}"), &big(i));
        }
        let at = c.c_next + bytes.len() as u32;
        c.note(&mut t, at, &first, false, false, first.leak_headers());
        bytes.extend(cl.request(&first, Framing::default()).1);
        c.send(&mut t, true, &bytes);
        let mut s = settings(&[(HEADER_TABLE_SIZE, advertised as u32), (3, 100)]);
        s.extend(settings_ack());
        s.extend(response(&mut senc, 1, t.now_ns, "first"));
        c.respond(&mut t, &s);
        // The client acknowledges, then sets its table's size.
        let mut b = settings_ack();
        cl.enc.set_max(client_max);
        let mut second = leaking("/t/second", host);
        for i in 4..8 {
            second = second.h(&format!("x-token-{i}"), &big(i));
        }
        let oversized = client_max > advertised;
        let at = c.c_next + b.len() as u32;
        c.note(&mut t, at, &second, false, oversized, second.leak_headers());
        let (st, r) = cl.request(&second, Framing::default());
        b.extend(r);
        c.send(&mut t, true, &b);
        answer(&mut c, &mut t, &mut senc, st, "second");
        // The first request's tokens again: indexed where the table kept them.
        let mut again = leaking("/t/again", host);
        for i in 0..4 {
            again = again.h(&format!("x-token-{i}"), &big(i));
        }
        let at = c.c_next;
        c.note(&mut t, at, &again, false, oversized, again.leak_headers());
        let (st, r) = cl.request(&again, Framing::default());
        c.send(&mut t, true, &r);
        answer(&mut c, &mut t, &mut senc, st, "again");
        c.fin_close(&mut t);
    }
    fixture(
        "h2c-table-size.pcap",
        &t,
        eth_pcap(&t),
        "SETTINGS_HEADER_TABLE_SIZE other than the default, three h2c connections by prior knowledge, each GET /t/first and /t/second with four 900-byte headers each, then /t/again repeating the first's. Port 8996: the server allows 16384, the client acknowledges and grows its table to 16384 (the repeat indexes entries a 4096-byte table would have evicted). Port 8995: the server allows 1024, the client shrinks its table to it. Port 8994: the server allows 4096, the client grows its table to 8192 anyway, past what was acknowledged.",
        "Report every request whole except, on port 8994, /t/again: the update past the acknowledged size is a protocol error after which the table is unknown, so the fields /t/again indexes (its :authority and tokens) are left out and the request reported cut, never guessed; every request leaks x-msisdn.",
    )
}
