//! A plain capture's HTTP/1.x connections rewritten as h2c by prior
//! knowledge, for the h2c row of the benchmark (`examples/h2c_bench.rs`):
//! the same requests at the same packet times.
//!
//! Each TCP connection whose client stream is HTTP/1.x requests becomes an
//! HTTP/2 connection. The client sends the preface, its SETTINGS and a
//! WINDOW_UPDATE in front of its first request, and a SETTINGS ACK in front
//! of the first it sends after the server's first bytes; every request is a
//! HEADERS frame (`:method`, `:scheme`, `:path`, `:authority` from the
//! request line and Host, then the headers in order, names lower-cased,
//! connection-specific ones dropped as RFC 9113 section 8.2.2 says) encoded
//! by one HPACK [`Encoder`] a connection (the dynamic table used as a client
//! does), its body in DATA frames, stream 1, 3, 5, ... in request order. The
//! server answers each request on its stream with HEADERS (`:status` and its
//! headers) and DATA frames of the response's body (chunks joined), its
//! SETTINGS and ACK in front of the first.
//!
//! Every packet keeps its time and its place: each direction's bytes are
//! rewritten message by message, and a segment carries the new bytes between
//! the images of its first and last byte (`Dir::map`: message starts, head
//! ends and ends map exactly; the segment that starts a message carries its
//! first frame's header whole; a body maps in proportion), so a client packet
//! stays one packet and a retransmission carries the same bytes as the first
//! copy. Sequence and acknowledgement numbers follow; IPv4 lengths and header
//! checksums and TCP checksums are rewritten.
//!
//! A connection picked up mid-stream (neither its SYN nor its SYN-ACK in the
//! capture) is rewritten from its first whole request: the bytes before it
//! (the end of an earlier request, of its response) leave their packets
//! empty, the HPACK encoder starts empty there (the connection's earlier
//! requests would have left entries the capture lacks), and there is no
//! preface or SETTINGS. A message cut by a gap or by the end of the capture
//! ends a direction's rewrite: its DATA goes as far as the capture does when
//! its head is whole; bytes after that are left out.
//!
//! Everything else (TLS, DNS, TCP that is not HTTP/1.x) is copied byte for
//! byte. Frames are Ethernet as in [`crate::tls::rewrap`]. Deterministic.
use std::collections::HashMap;

use super::{Client, Encoder, SENSITIVE, frame, ft, server_start, settings_ack};
use crate::tls::rewrap::{ACK, SYN, TcpFrame, parse, write_frame};

/// Largest frame payload (SETTINGS_MAX_FRAME_SIZE's initial value).
const MAX_FRAME: usize = 16_384;

/// Header fields HTTP/2 does not carry (RFC 9113 section 8.2.2; TE is kept
/// only as `trailers`), and Host, which becomes `:authority`.
const DROPPED: &[&str] = &[
    "connection",
    "keep-alive",
    "proxy-connection",
    "transfer-encoding",
    "upgrade",
    "host",
];

/// What [`rewrite`] did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    /// HTTP/1.x connections rewritten as h2c.
    pub connections: usize,
    /// Of those, picked up mid-stream: rewritten from their first whole request.
    pub midstream: usize,
    /// Requests rewritten.
    pub requests: usize,
    /// Responses rewritten.
    pub responses: usize,
    /// Directions whose rewrite ended before their last byte: a message
    /// cut by a gap or the end of the capture, or not understood.
    pub cut: usize,
}

/// One direction of a TCP connection.
#[derive(Default)]
struct Dir {
    /// ISN + 1 when the SYN was seen.
    syn: Option<u32>,
    /// Data segments in capture order: sequence number, acknowledgement
    /// number, payload offset in the input, length, record number.
    segs: Vec<(u32, u32, usize, usize, usize)>,
    /// The sequence number of byte 0.
    base: Option<u32>,
    /// The rewritten bytes.
    wire: Vec<u8>,
    /// (old offset, new offset, jump) triples, both offsets increasing:
    /// where messages start (with a jump: see [`Dir::map`]), their heads
    /// end, and they end.
    anchors: Vec<(usize, usize, Option<usize>)>,
}

impl Dir {
    fn offset(&self, seq: u32) -> Option<usize> {
        usize::try_from(seq.wrapping_sub(self.base?) as i32).ok()
    }

    /// The new offset of old offset `p`: exact at anchors; in a head, its
    /// first byte past the jump (the frames in front of the HEADERS and the
    /// HEADERS frame's header, so the segment that starts a message carries
    /// them whole) and byte for byte from there until the new head is out;
    /// in a body, in proportion; past the last anchor, moved by its shift.
    fn map(&self, p: usize) -> usize {
        let a = &self.anchors;
        let i = a.partition_point(|&(o, _, _)| o <= p);
        match (i.checked_sub(1).map(|j| a[j]), a.get(i)) {
            (Some((o0, n0, Some(_))), _) if p == o0 => n0,
            (Some((o0, n0, Some(jump))), Some(&(_, n1, _))) => (n0 + (p - o0) + jump).min(n1),
            (Some((o0, n0, _)), Some(&(o1, n1, _))) => n0 + (p - o0) * (n1 - n0) / (o1 - o0),
            (Some((o0, n0, _)), None) => n0 + (p - o0),
            (None, _) => p,
        }
    }

    /// The record that first carried byte `p`.
    fn first_seen(&self, p: usize) -> Option<usize> {
        self.segs
            .iter()
            .filter(|s| self.offset(s.0).is_some_and(|o| o <= p && p < o + s.3))
            .map(|s| s.4)
            .min()
    }

    /// `seq` moved to the rewritten stream (unchanged before byte 0).
    fn seq(&self, seq: u32) -> u32 {
        match (self.base, self.offset(seq)) {
            (Some(base), Some(p)) if !self.anchors.is_empty() => {
                base.wrapping_add(self.map(p) as u32)
            }
            _ => seq,
        }
    }

    /// The stream's bytes (the first copy of each wins) and the length of
    /// its gapless start.
    fn assemble(&mut self, input: &[u8]) -> (Vec<u8>, usize) {
        self.base = self.syn.or_else(|| {
            let first = self.segs.first()?.0;
            let least = self
                .segs
                .iter()
                .map(|s| s.0.wrapping_sub(first) as i32)
                .min()?;
            Some(first.wrapping_add(least as u32))
        });
        let mut plain = Vec::new();
        let mut filled = Vec::new();
        for &(seq, _, at, n, _) in &self.segs {
            let Some(p) = self.offset(seq).filter(|&p| p < 1 << 28) else {
                continue;
            };
            if p + n > plain.len() {
                plain.resize(p + n, 0);
                filled.resize(p + n, false);
            }
            for i in 0..n {
                if !filled[p + i] {
                    filled[p + i] = true;
                    plain[p + i] = input[at + i];
                }
            }
        }
        let whole = filled.iter().position(|f| !f).unwrap_or(filled.len());
        (plain, whole)
    }
}

type Key = ((Vec<u8>, u16), (Vec<u8>, u16));

struct Conn {
    client: (Vec<u8>, u16),
    dirs: [Dir; 2],
    rewritten: bool,
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// A parsed HTTP/1.x head: its first line's three parts and its header lines.
struct Head<'a> {
    line: [&'a str; 3],
    headers: Vec<(String, &'a str)>,
    /// Length of the head, the empty line included.
    len: usize,
}

impl Head<'_> {
    fn get(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| *v)
    }
}

/// The head at the start of `b` (None if cut or not HTTP/1.x).
fn head(b: &[u8]) -> Option<Head<'_>> {
    let end = find(&b[..b.len().min(64 << 10)], b"\r\n\r\n")?;
    let text = std::str::from_utf8(&b[..end]).ok()?;
    let mut lines = text.split("\r\n");
    let mut parts = lines.next()?.splitn(3, ' ');
    let line = [parts.next()?, parts.next()?, parts.next().unwrap_or("")];
    let mut headers = Vec::new();
    for l in lines {
        let (n, v) = l.split_once(':')?;
        headers.push((n.trim().to_ascii_lowercase(), v.trim()));
    }
    Some(Head {
        line,
        headers,
        len: end + 4,
    })
}

/// Whether `b` starts with a request line.
fn request_line(b: &[u8]) -> bool {
    let Some(end) = find(&b[..b.len().min(8192)], b"\r\n") else {
        return false;
    };
    let line = &b[..end];
    let Some(sp) = line.iter().position(|&c| c == b' ') else {
        return false;
    };
    sp > 0
        && line[..sp].iter().all(u8::is_ascii_uppercase)
        && (line.ends_with(b" HTTP/1.1") || line.ends_with(b" HTTP/1.0"))
}

/// Where the first whole request starts at or after `from`: there or
/// after a line end.
fn first_request(b: &[u8], from: usize) -> Option<usize> {
    (from..b.len())
        .filter(|&i| i == from || (i >= 2 && b[i - 2..i] == *b"\r\n"))
        .find(|&i| request_line(&b[i..]))
}

/// A message's body: its bytes (chunks joined) and its length on the wire;
/// `None` for the wire length when the body is cut by `b`'s end.
fn body(b: &[u8], chunked: bool, length: Option<usize>) -> (Vec<u8>, Option<usize>) {
    if !chunked {
        let n = length.unwrap_or(b.len());
        return if n <= b.len() {
            (b[..n].to_vec(), Some(n))
        } else {
            (b.to_vec(), None)
        };
    }
    let mut out = Vec::new();
    let mut at = 0;
    loop {
        let Some(eol) = find(&b[at..], b"\r\n") else {
            return (out, None);
        };
        let size = std::str::from_utf8(&b[at..at + eol])
            .ok()
            .and_then(|s| usize::from_str_radix(s.split(';').next()?.trim(), 16).ok());
        let Some(size) = size else {
            return (out, None);
        };
        at += eol + 2;
        if size == 0 {
            // Trailers, then the empty line.
            return match find(&b[at..], b"\r\n") {
                Some(0) => (out, Some(at + 2)),
                _ => match find(&b[at..], b"\r\n\r\n") {
                    Some(e) => (out, Some(at + e + 4)),
                    None => (out, None),
                },
            };
        }
        if at + size + 2 > b.len() {
            out.extend_from_slice(&b[at..b.len().min(at + size)]);
            return (out, None);
        }
        out.extend_from_slice(&b[at..at + size]);
        at += size + 2;
    }
}

/// A header block on `stream` in HEADERS and CONTINUATION frames.
fn headers(out: &mut Vec<u8>, stream: u32, block: &[u8], end_stream: bool) {
    let pieces: Vec<&[u8]> = if block.is_empty() {
        vec![block]
    } else {
        block.chunks(MAX_FRAME).collect()
    };
    for (i, p) in pieces.iter().enumerate() {
        let mut flags = 0;
        if i + 1 == pieces.len() {
            flags |= ft::END_HEADERS;
        }
        if i == 0 && end_stream {
            flags |= ft::END_STREAM;
        }
        let kind = if i == 0 {
            ft::HEADERS
        } else {
            ft::CONTINUATION
        };
        out.extend(frame(kind, flags, stream, p));
    }
}

/// A body on `stream` in DATA frames, the last ending the stream if `end`.
fn data(out: &mut Vec<u8>, stream: u32, body: &[u8], end: bool) {
    let pieces: Vec<&[u8]> = body.chunks(MAX_FRAME).collect();
    for (i, p) in pieces.iter().enumerate() {
        let last = i + 1 == pieces.len();
        out.extend(frame(
            ft::DATA,
            if last && end { ft::END_STREAM } else { 0 },
            stream,
            p,
        ));
    }
}

/// A request's fields: pseudo-headers from the request line and Host, then
/// the headers HTTP/2 carries, in order.
fn request_fields(h: &Head) -> Vec<(String, String)> {
    let [method, target, _] = h.line;
    let mut scheme = "http";
    let mut authority = h.get("host").map(str::to_string);
    let mut path = target.to_string();
    for s in ["http", "https"] {
        let prefix = format!("{s}://");
        if target.len() > prefix.len() && target[..prefix.len()].eq_ignore_ascii_case(&prefix) {
            let rest = &target[prefix.len()..];
            let end = rest.find(['/', '?']).unwrap_or(rest.len());
            scheme = s;
            authority = Some(rest[..end].to_string());
            path = match &rest[end..] {
                "" => "/".into(),
                p if p.starts_with('?') => format!("/{p}"),
                p => p.into(),
            };
        }
    }
    let mut f = vec![
        (":method".to_string(), method.to_string()),
        (":scheme".to_string(), scheme.to_string()),
        (":path".to_string(), path),
    ];
    if let Some(a) = authority {
        f.push((":authority".to_string(), a));
    }
    for (n, v) in &h.headers {
        let te = n == "te" && !v.eq_ignore_ascii_case("trailers");
        if !DROPPED.contains(&n.as_str()) && !te {
            f.push((n.clone(), v.to_string()));
        }
    }
    f
}

/// Rewrites the client direction from `start`; returns each request's
/// method (for its response), or None when the stream is not HTTP/1.x
/// requests there.
fn rewrite_client(
    d: &mut Dir,
    plain: &[u8],
    whole: usize,
    start: usize,
    preface: bool,
    server_first: Option<usize>,
    counts: &mut Counts,
) -> Vec<String> {
    let mut enc = Encoder::default();
    let mut methods = Vec::new();
    let mut wire = Vec::new();
    let mut acked = !preface;
    d.anchors = vec![(0, 0, None), (start, 0, None)];
    let mut at = start;
    while at < whole {
        let Some(h) = head(&plain[at..whole]).filter(|_| request_line(&plain[at..whole])) else {
            break;
        };
        let stream = 1 + 2 * methods.len() as u32;
        let new = wire.len();
        if preface && methods.is_empty() {
            wire.extend(Client::start());
        }
        // The server's SETTINGS acknowledged in front of the first request
        // sent after they came.
        if !acked && server_first.is_some_and(|s| d.first_seen(at).is_some_and(|c| c > s)) {
            wire.extend(settings_ack());
            acked = true;
        }
        d.anchors.push((at, new, Some(wire.len() - new + 9)));
        let chunked = h
            .get("transfer-encoding")
            .is_some_and(|v| v.to_ascii_lowercase().contains("chunked"));
        let length = h.get("content-length").and_then(|v| v.parse().ok());
        let (content, wire_len) = if chunked || length.is_some() {
            body(&plain[at + h.len..whole], chunked, length)
        } else {
            (Vec::new(), Some(0))
        };
        let block = enc.block(&request_fields(&h), SENSITIVE);
        headers(
            &mut wire,
            stream,
            &block,
            content.is_empty() && wire_len.is_some(),
        );
        d.anchors.push((at + h.len, wire.len(), None));
        data(&mut wire, stream, &content, wire_len.is_some());
        methods.push(h.line[0].to_string());
        counts.requests += 1;
        let Some(n) = wire_len else {
            at = whole;
            d.anchors.push((at, wire.len(), None));
            break;
        };
        at += h.len + n;
        d.anchors.push((at, wire.len(), None));
    }
    finish(d, wire, plain.len(), at, counts);
    methods
}

/// The anchors past the last rewritten byte `at` of a direction of `len`.
fn finish(d: &mut Dir, wire: Vec<u8>, len: usize, at: usize, counts: &mut Counts) {
    if at < len {
        counts.cut += 1;
        d.anchors.push((at, wire.len(), None));
        d.anchors.push((len, wire.len(), None));
    }
    d.wire = wire;
}

/// Rewrites the server direction from `start`: one response a request
/// (informational ones aside).
fn rewrite_server(
    d: &mut Dir,
    plain: &[u8],
    whole: usize,
    start: usize,
    methods: &[String],
    settings: bool,
    counts: &mut Counts,
) {
    let mut enc = Encoder::default();
    let mut wire = Vec::new();
    d.anchors = vec![(0, 0, None), (start, 0, None)];
    let mut at = start;
    let mut i = 0;
    while at < whole && i < methods.len() {
        let Some(h) = head(&plain[at..whole]).filter(|h| h.line[0].starts_with("HTTP/1.")) else {
            break;
        };
        let Ok(status) = h.line[1].parse::<u16>() else {
            break;
        };
        let stream = 1 + 2 * i as u32;
        let new = wire.len();
        if settings && at == start {
            wire.extend(server_start());
        }
        d.anchors.push((at, new, Some(wire.len() - new + 9)));
        let chunked = h
            .get("transfer-encoding")
            .is_some_and(|v| v.to_ascii_lowercase().contains("chunked"));
        let length = h.get("content-length").and_then(|v| v.parse().ok());
        let none = methods[i] == "HEAD" || status < 200 || status == 204 || status == 304;
        let (content, wire_len) = if none {
            (Vec::new(), Some(0))
        } else {
            body(&plain[at + h.len..whole], chunked, length)
        };
        let mut fields = vec![(":status".to_string(), status.to_string())];
        for (n, v) in &h.headers {
            if !DROPPED.contains(&n.as_str()) {
                fields.push((n.clone(), v.to_string()));
            }
        }
        let block = enc.block(&fields, &[]);
        let end = status >= 200 && content.is_empty() && wire_len.is_some();
        headers(&mut wire, stream, &block, end);
        d.anchors.push((at + h.len, wire.len(), None));
        data(&mut wire, stream, &content, wire_len.is_some());
        if status >= 200 {
            counts.responses += 1;
            i += 1;
        }
        let Some(n) = wire_len else {
            at = whole;
            d.anchors.push((at, wire.len(), None));
            break;
        };
        at += h.len + n;
        d.anchors.push((at, wire.len(), None));
    }
    finish(d, wire, plain.len(), at, counts);
}

/// Rewrites one connection; false (and nothing changed) if its client
/// stream is not HTTP/1.x requests.
fn rewrite_conn(conn: &mut Conn, input: &[u8], counts: &mut Counts) -> bool {
    let [client, server] = &mut conn.dirs;
    let (cplain, cwhole) = client.assemble(input);
    let midstream = client.syn.is_none();
    let start = if midstream {
        first_request(&cplain[..cwhole], 0)
    } else {
        Some(0).filter(|_| request_line(&cplain[..cwhole]))
    };
    let Some(start) = start else {
        return false;
    };
    let (splain, swhole) = server.assemble(input);
    // Mid-stream, the server's answer to the first whole request starts
    // where the client had acknowledged when it sent it.
    let sstart = if midstream {
        let ack = client
            .segs
            .iter()
            .find(|&&(seq, _, _, n, _)| {
                client
                    .offset(seq)
                    .is_some_and(|p| p <= start && start < p + n)
            })
            .map(|s| s.1);
        let from = ack.and_then(|a| server.offset(a)).unwrap_or(0);
        first_response(&splain[..swhole], from).unwrap_or(swhole)
    } else {
        0
    };
    let server_first = server.segs.first().map(|s| s.4);
    let methods = rewrite_client(
        client,
        &cplain,
        cwhole,
        start,
        !midstream,
        server_first,
        counts,
    );
    rewrite_server(
        server, &splain, swhole, sstart, &methods, !midstream, counts,
    );
    counts.connections += 1;
    counts.midstream += usize::from(midstream);
    true
}

/// Where the first status line starts at or after `from`: there or after a
/// line end.
fn first_response(b: &[u8], from: usize) -> Option<usize> {
    (from.min(b.len())..b.len())
        .filter(|&i| i == from || (i >= 2 && b[i - 2..i] == *b"\r\n"))
        .find(|&i| b[i..].starts_with(b"HTTP/1."))
}

/// Writes the TCP checksum of the last frame `write_frame` appended at
/// `at` (its record header's offset).
fn tcp_checksum(out: &mut [u8], at: usize, t: &TcpFrame) {
    let f = &mut out[at + 16..];
    let (ip, tcp) = (t.ip, t.tcp);
    let seg_len = if t.v6 {
        usize::from(u16::from_be_bytes([f[ip + 4], f[ip + 5]]))
    } else {
        usize::from(u16::from_be_bytes([f[ip + 2], f[ip + 3]])) - (tcp - ip)
    };
    f[tcp + 16..tcp + 18].copy_from_slice(&[0, 0]);
    let mut sum = 0u64;
    let mut add = |b: &[u8]| {
        for w in b.chunks(2) {
            sum += u64::from(u16::from_be_bytes([w[0], *w.get(1).unwrap_or(&0)]));
        }
    };
    if t.v6 {
        add(&f[ip + 8..ip + 40]);
    } else {
        add(&f[ip + 12..ip + 20]);
    }
    add(&(seg_len as u32).to_be_bytes());
    add(&[0, 6]);
    add(&f[tcp..tcp + seg_len]);
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    f[tcp + 16..tcp + 18].copy_from_slice(&(!(sum as u16)).to_be_bytes());
}

/// Rewrites the classic pcap `input` (Ethernet, µs, little-endian) with its
/// HTTP/1.x connections as h2c.
pub fn rewrite(input: &[u8]) -> (Vec<u8>, Counts) {
    assert!(
        input.len() >= 24 && input[..4] == [0xd4, 0xc3, 0xb2, 0xa1],
        "a little-endian µs pcap"
    );
    let mut records = Vec::new();
    let mut at = 24;
    while at + 16 <= input.len() {
        let caplen = u32::from_le_bytes(input[at + 8..at + 12].try_into().unwrap()) as usize;
        if at + 16 + caplen > input.len() {
            break;
        }
        records.push((at, at + 16, caplen));
        at += 16 + caplen;
    }
    // Pass 1: the connections and their segments.
    let mut conns: Vec<Conn> = Vec::new();
    let mut index: HashMap<Key, usize> = HashMap::new();
    let mut frames: Vec<Option<(usize, TcpFrame)>> = Vec::with_capacity(records.len());
    for (r, &(_, f, n)) in records.iter().enumerate() {
        let Some(t) = parse(&input[f..f + n]) else {
            frames.push(None);
            continue;
        };
        let key = if t.src <= t.dst {
            (t.src.clone(), t.dst.clone())
        } else {
            (t.dst.clone(), t.src.clone())
        };
        // A new SYN on a connection's addresses and ports: a new connection.
        if t.flags & (SYN | ACK) == SYN
            && let Some(&c) = index.get(&key)
            && conns[c].dirs[0].syn != Some(t.seq.wrapping_add(1))
        {
            index.remove(&key);
        }
        let c = *index.entry(key).or_insert_with(|| {
            // The client: the SYN's sender, else the side with the higher port.
            let client = if t.flags & (SYN | ACK) == SYN || t.src.1 > t.dst.1 {
                t.src.clone()
            } else {
                t.dst.clone()
            };
            conns.push(Conn {
                client,
                dirs: [Dir::default(), Dir::default()],
                rewritten: false,
            });
            conns.len() - 1
        });
        let conn = &mut conns[c];
        let side = usize::from(t.src != conn.client);
        let d = &mut conn.dirs[side];
        if t.flags & SYN != 0 {
            d.syn = Some(t.seq.wrapping_add(1));
        } else if t.len > 0 {
            d.segs.push((t.seq, t.ack, f + t.payload, t.len, r));
        }
        // A SYN-ACK without its SYN still tells where the client starts.
        if side == 1 && t.flags & (SYN | ACK) == SYN | ACK {
            conn.dirs[0].syn.get_or_insert(t.ack);
        }
        frames.push(Some((c, t)));
    }
    let mut counts = Counts::default();
    for conn in &mut conns {
        conn.rewritten = rewrite_conn(conn, input, &mut counts);
    }
    // Pass 2: the packets.
    let mut out = Vec::with_capacity(input.len());
    out.extend_from_slice(&input[..24]);
    for (&(h, f, n), t) in records.iter().zip(&frames) {
        let Some((c, t)) = t.as_ref().filter(|(c, _)| conns[*c].rewritten) else {
            out.extend_from_slice(&input[h..f + n]);
            continue;
        };
        let frame = &input[f..f + n];
        let conn = &conns[*c];
        let side = usize::from(t.src != conn.client);
        let (d, other) = (&conn.dirs[side], &conn.dirs[1 - side]);
        let payload = match d.offset(t.seq) {
            Some(p) if t.len > 0 && t.flags & SYN == 0 => {
                let (a, b) = (d.map(p), d.map(p + t.len));
                &d.wire[a.min(d.wire.len())..b.min(d.wire.len())]
            }
            _ => &[][..],
        };
        let seq = if t.flags & SYN != 0 {
            t.seq
        } else {
            d.seq(t.seq)
        };
        let ack = if t.flags & ACK != 0 {
            other.seq(t.ack)
        } else {
            t.ack
        };
        let at = out.len();
        write_frame(
            &mut out,
            &input[h..h + 8],
            &frame[..t.payload],
            t,
            payload,
            seq,
            ack,
            t.flags,
        );
        tcp_checksum(&mut out, at, t);
    }
    (out, counts)
}

/// A small plain capture of what [`rewrite`] must handle, for its tests:
/// keep-alive requests with a leak, a POST with a form body answered in
/// chunks, a HEAD, lower-case header names and an HTTP/1.0 request; on a
/// proxy port an absolute-form target, two pipelined requests (a 304 and a
/// 200 answering them in one segment) and a request in three segments, the
/// first sent again; a connection picked up mid-stream (the end of a
/// request and of a response first); and a TLS-looking connection on port
/// 443, to be copied unchanged.
pub fn sample() -> Vec<u8> {
    use crate::http::{Req, UA_ANDROID, html, response};
    use crate::scenarios::{MSISDN, T0, eth_pcap};
    use crate::tcp::{Conversation, Trace};

    let mut t = Trace::new(T0 + 60_000, 0);
    let host = "www.example.net";
    let browser = |r: Req| {
        r.h("User-Agent", UA_ANDROID)
            .h("Accept", "text/html,*/*;q=0.8")
            .h("Accept-Encoding", "gzip, deflate")
            .h("Connection", "keep-alive")
    };
    let mut c = Conversation::new(&mut t, "10.0.3.10:52000", "192.0.2.220:80", 0x3100, 0x4100);
    c.handshake(&mut t);
    c.exchange(&mut t, &browser(Req::get("/", host)), "home");
    let leaking = browser(Req::get("/news?id=7", host))
        .h("Cookie", "sid=abc; pref=dark")
        .leak("X-MSISDN", MSISDN);
    c.exchange(&mut t, &leaking, "news");
    let post = Req::new("POST", "/form")
        .h("Host", host)
        .h("Content-Type", "application/x-www-form-urlencoded")
        .body(b"name=alice&city=leeds");
    c.request(&mut t, &post);
    let mut chunked =
        b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nTransfer-Encoding: chunked\r\n\r\n"
            .to_vec();
    chunked.extend_from_slice(b"5\r\nhello\r\n7; x=1\r\n, there\r\n0\r\nX-Trailer: 1\r\n\r\n");
    c.respond(&mut t, &chunked);
    c.request(
        &mut t,
        &browser(Req::new("HEAD", "/big.bin").h("Host", host)),
    );
    let head = b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: 90000\r\n\r\n";
    c.respond(&mut t, head);
    let lower = Req::get("/lower", host)
        .h("user-agent", UA_ANDROID)
        .leak("x-up-calling-line-id", MSISDN);
    c.exchange(&mut t, &lower, "lower");
    let mut old = Req::get("/old", host).h("Connection", "Keep-Alive");
    old.version = "HTTP/1.0".into();
    c.request(&mut t, &old);
    let big = vec![b'x'; 40_000];
    let r = response(t.now_ns, "200 OK", "text/plain", &big);
    c.respond(&mut t, &r);
    c.fin_close(&mut t);

    // A proxy port: absolute-form, pipelining, a retransmission.
    let mut c = Conversation::new(
        &mut t,
        "10.0.3.11:52001",
        "192.0.2.221:8080",
        0x3200,
        0x4200,
    );
    c.handshake(&mut t);
    let abs = browser(Req::get(
        "http://proxy.example.net/p?q=1",
        "proxy.example.net",
    ));
    c.exchange(&mut t, &abs, "proxied");
    let (a, b) = (
        browser(Req::get(
            "http://proxy.example.net/a.css",
            "proxy.example.net",
        ))
        .h("If-None-Match", "\"e1\""),
        browser(Req::get(
            "http://proxy.example.net/b.js",
            "proxy.example.net",
        ))
        .leak("X-MSISDN", MSISDN),
    );
    c.note_next(&mut t, &a);
    let mut both = a.bytes();
    c.note(
        &mut t,
        c.c_next.wrapping_add(both.len() as u32),
        &b,
        false,
        false,
        b.leak_headers(),
    );
    both.extend(b.bytes());
    c.send(&mut t, true, &both);
    let mut r = b"HTTP/1.1 304 Not Modified\r\nETag: \"e1\"\r\n\r\n".to_vec();
    r.extend(response(
        t.now_ns,
        "200 OK",
        "application/javascript",
        b"var x;",
    ));
    c.respond(&mut t, &r);
    let split = browser(Req::get(
        "http://proxy.example.net/split",
        "proxy.example.net",
    ))
    .h("Cookie", &"k=v; ".repeat(40));
    c.note_next(&mut t, &split);
    let segs = c.split(true, &split.bytes(), &[200]);
    c.emit_all(&mut t, &segs);
    t.advance_us(200_000);
    c.emit(&mut t, &segs[0]);
    c.ack(&mut t, false);
    let r = html(t.now_ns, "split");
    c.respond(&mut t, &r);
    c.rst(&mut t, true);

    // Picked up mid-stream: the end of a request, then of its response.
    let mut c = Conversation::new(&mut t, "10.0.3.12:52002", "192.0.2.222:80", 0x3300, 0x4300);
    c.send(
        &mut t,
        true,
        b"Accept: */*\r\nX-MSISDN: 447700900123\r\n\r\n",
    );
    c.respond(&mut t, b"</p></body></html>\n");
    c.exchange(
        &mut t,
        &browser(Req::get("/mid/1", host)).leak("X-MSISDN", MSISDN),
        "mid",
    );
    c.exchange(&mut t, &browser(Req::get("/mid/2", host)), "mid");
    c.fin_close(&mut t);

    // TLS on port 443: not HTTP/1.x, copied unchanged.
    let mut c = Conversation::new(&mut t, "10.0.3.13:52003", "192.0.2.223:443", 0x3400, 0x4400);
    c.handshake(&mut t);
    c.send(&mut t, true, b"\x16\x03\x01\x00\x05\x01\x00\x00\x01\x00");
    c.respond(&mut t, b"\x16\x03\x03\x00\x04\x02\x00\x00\x00");
    c.fin_close(&mut t);
    t.records.sort_by_key(|r| r.ts_ns);
    eth_pcap(&t)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A record's timestamp, TCP payload (None if not TCP) and frame.
    type Packet = (Vec<u8>, Option<Vec<u8>>, Vec<u8>);

    fn packets(pcap: &[u8]) -> Vec<Packet> {
        let mut out = Vec::new();
        let mut at = 24;
        while at + 16 <= pcap.len() {
            let n = u32::from_le_bytes(pcap[at + 8..at + 12].try_into().unwrap()) as usize;
            let f = pcap[at + 16..at + 16 + n].to_vec();
            let payload = parse(&f).map(|t| f[t.payload..t.payload + t.len].to_vec());
            out.push((pcap[at..at + 8].to_vec(), payload, f));
            at += 16 + n;
        }
        out
    }

    #[test]
    fn every_packet_keeps_its_time_and_only_http_changes() {
        let plain = sample();
        let (h2, counts) = rewrite(&plain);
        assert_eq!(rewrite(&plain).0, h2, "deterministic");
        assert_eq!(
            counts,
            Counts {
                connections: 3,
                midstream: 1,
                requests: 12,
                responses: 12,
                cut: 0,
            }
        );
        let (a, b) = (packets(&plain), packets(&h2));
        assert_eq!(a.len(), b.len());
        let (mut tls, mut emptied) = (0, 0);
        for ((ta, pa, fa), (tb, pb, fb)) in a.iter().zip(&b) {
            assert_eq!(ta, tb, "same times");
            let ports = parse(fa).map(|t| (t.src.1, t.dst.1));
            if matches!(ports, Some((443, _) | (_, 443))) {
                assert_eq!(fa, fb, "TLS copied unchanged");
                tls += 1;
            } else if pb.as_ref().unwrap().is_empty() && !pa.as_ref().unwrap().is_empty() {
                emptied += 1;
            }
        }
        assert_eq!(tls, 10);
        // The mid-stream connection's first client and server bytes, before
        // its first whole request, and the last two of the three segments of
        // the split request, whose HEADERS fits in the first: every other
        // packet with bytes keeps some.
        assert_eq!(emptied, 4);
        // The first client data: the preface, then SETTINGS.
        let first = b
            .iter()
            .find_map(|(_, p, _)| p.clone().filter(|p| !p.is_empty()));
        assert!(first.unwrap().starts_with(super::super::PREFACE));
    }
}
