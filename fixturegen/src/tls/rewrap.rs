//! A plain capture's TCP conversations put inside TLS 1.3: the same packets
//! at the same times, each TCP connection a real TLS connection (rustls,
//! made deterministic in [`super::session`]), with the key log that opens
//! them. Used for the TLS benchmark capture: the plain benchmark's requests
//! and responses over TLS.
//!
//! Every segment's payload becomes the TLS records of its bytes: the record
//! boundaries of a direction are the start and end of every segment it sent
//! (retransmissions and overlaps included, and at most 16 KiB apart), so any
//! segment, first sent or resent, maps to whole records, and a resent
//! segment carries the same record bytes as the first. The handshake goes
//! in front of each direction's first bytes (the ClientHello in the
//! client's first data segment, the server's flight in the server's), sequence
//! and acknowledgement numbers are moved by the records' overhead, IPv4
//! lengths and header checksums are rewritten (TCP checksums are left as
//! they were, wrong). Connections whose handshake (SYN) is not in the capture
//! are encrypted too, without a handshake: no key can open them, as in a
//! capture picked up mid-connection. Connections on port 443 (already TLS)
//! and other packets are copied unchanged. Frames are Ethernet, with or
//! without 802.1Q/802.1ad tags, over IPv4 or IPv6 without extension headers;
//! anything else is copied unchanged.
use std::collections::HashMap;

use super::session::{Endpoints, Options, Session, Suite};

/// Largest record payload (TLS's limit).
const MAX_RECORD: usize = 16 << 10;

/// Where a frame's TCP parts are.
#[derive(Clone)]
pub(crate) struct TcpFrame {
    /// Offset of the IP header.
    pub(crate) ip: usize,
    pub(crate) v6: bool,
    /// Offset of the TCP header.
    pub(crate) tcp: usize,
    /// Offset and length of the payload.
    pub(crate) payload: usize,
    pub(crate) len: usize,
    pub(crate) src: (Vec<u8>, u16),
    pub(crate) dst: (Vec<u8>, u16),
    pub(crate) seq: u32,
    pub(crate) ack: u32,
    pub(crate) flags: u8,
}

fn be16(b: &[u8], at: usize) -> usize {
    usize::from(u16::from_be_bytes([b[at], b[at + 1]]))
}

fn be32(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

/// The TCP parts of an Ethernet frame (VLAN tags, IPv4 unfragmented or IPv6
/// without extension headers); None for anything else.
pub(crate) fn parse(frame: &[u8]) -> Option<TcpFrame> {
    let mut at = 12;
    let mut ethertype = be16(frame.get(..14)?, 12);
    while ethertype == 0x8100 || ethertype == 0x88a8 {
        at += 4;
        ethertype = be16(frame.get(..at + 2)?, at);
    }
    let ip = at + 2;
    let (v6, tcp, end, src, dst) = match ethertype {
        0x0800 => {
            let h = frame.get(ip..ip + 20)?;
            if h[9] != 6 || be16(h, 6) & 0x3fff != 0 {
                return None;
            }
            let ihl = usize::from(h[0] & 15) * 4;
            (
                false,
                ip + ihl,
                ip + be16(h, 2),
                h[12..16].to_vec(),
                h[16..20].to_vec(),
            )
        }
        0x86dd => {
            let h = frame.get(ip..ip + 40)?;
            if h[6] != 6 {
                return None;
            }
            (
                true,
                ip + 40,
                ip + 40 + be16(h, 4),
                h[8..24].to_vec(),
                h[24..40].to_vec(),
            )
        }
        _ => return None,
    };
    let t = frame.get(tcp..tcp + 20)?;
    let payload = tcp + usize::from(t[12] >> 4) * 4;
    if end < payload || end > frame.len() {
        return None;
    }
    Some(TcpFrame {
        ip,
        v6,
        tcp,
        payload,
        len: end - payload,
        src: (src, be16(t, 0) as u16),
        dst: (dst, be16(t, 2) as u16),
        seq: be32(t, 4),
        ack: be32(t, 8),
        flags: t[13],
    })
}

pub(crate) const SYN: u8 = 0x02;
const PSH: u8 = 0x08;
pub(crate) const ACK: u8 = 0x10;

/// Appends a pcap record: `ts` (the record header's first 8 bytes), the
/// frame headers `head` (of frame `t`) with `payload`, `seq`, `ack` and
/// `flags`, IP lengths and the IPv4 header checksum rewritten.
#[allow(clippy::too_many_arguments)]
pub(crate) fn write_frame(
    out: &mut Vec<u8>,
    ts: &[u8],
    head: &[u8],
    t: &TcpFrame,
    payload: &[u8],
    seq: u32,
    ack: u32,
    flags: u8,
) {
    let mut nf = head.to_vec();
    nf.extend_from_slice(payload);
    nf[t.tcp + 4..t.tcp + 8].copy_from_slice(&seq.to_be_bytes());
    nf[t.tcp + 8..t.tcp + 12].copy_from_slice(&ack.to_be_bytes());
    nf[t.tcp + 13] = flags;
    let ip_payload = nf.len() - t.tcp;
    if t.v6 {
        nf[t.ip + 4..t.ip + 6].copy_from_slice(&(ip_payload as u16).to_be_bytes());
    } else {
        let total = (nf.len() - t.ip) as u16;
        nf[t.ip + 2..t.ip + 4].copy_from_slice(&total.to_be_bytes());
        nf[t.ip + 10..t.ip + 12].copy_from_slice(&[0, 0]);
        let ihl = usize::from(nf[t.ip] & 15) * 4;
        let mut sum = 0u32;
        for w in nf[t.ip..t.ip + ihl].chunks(2) {
            sum += u32::from(u16::from_be_bytes([w[0], w[1]]));
        }
        while sum > 0xffff {
            sum = (sum & 0xffff) + (sum >> 16);
        }
        nf[t.ip + 10..t.ip + 12].copy_from_slice(&(!(sum as u16)).to_be_bytes());
    }
    if nf.len() < 60 {
        nf.resize(60, 0);
    }
    let len = (nf.len() as u32).to_le_bytes();
    out.extend_from_slice(ts);
    out.extend_from_slice(&len);
    out.extend_from_slice(&len);
    out.extend_from_slice(&nf);
}

/// One direction of a connection: its plaintext and where its records start.
#[derive(Default)]
struct Direction {
    /// The sequence number of the first byte (ISN + 1 when the SYN was seen).
    base: Option<u32>,
    syn: bool,
    plain: Vec<u8>,
    /// Ranges of `plain` no segment has filled yet.
    holes: Vec<(usize, usize)>,
    /// Plaintext offsets where a record starts or ends.
    cuts: Vec<usize>,
    /// After encryption: (plaintext offset, wire offset) of every cut.
    map: Vec<(usize, usize)>,
    wire: Vec<u8>,
    /// Bytes of `wire` before the first record: the handshake.
    handshake_len: usize,
}

impl Direction {
    /// Puts `bytes` at plaintext offset `p`: the first copy of a byte wins,
    /// as in phoneleak's reassembly, so a retransmission that disagrees
    /// changes nothing (its records carry the first copy's bytes).
    fn write(&mut self, p: usize, bytes: &[u8]) {
        let end = p + bytes.len();
        if p > self.plain.len() + (64 << 20) {
            return;
        }
        let old = self.plain.len();
        let fill = |d: &mut Vec<u8>, a: usize, b: usize| {
            if a < b {
                d[a..b].copy_from_slice(&bytes[a - p..b - p]);
            }
        };
        if end > old {
            self.plain.resize(end, 0);
            if p > old {
                self.holes.push((old, p));
            }
            fill(&mut self.plain, p.max(old), end);
        }
        let mut kept = Vec::new();
        for &(a, b) in &self.holes {
            let (x, y) = (a.max(p), b.min(end.min(old)));
            if x < y {
                fill(&mut self.plain, x, y);
                kept.extend([(a, x), (y, b)].into_iter().filter(|(u, v)| u < v));
            } else {
                kept.push((a, b));
            }
        }
        self.holes = kept;
        self.cuts.extend([p, end]);
    }

    fn offset(&self, seq: u32) -> Option<usize> {
        let d = seq.wrapping_sub(self.base?) as i32;
        usize::try_from(d).ok()
    }

    /// The wire offset of plaintext offset `p` (past the end: moved by the
    /// whole overhead, as a FIN's sequence number is).
    fn wire_offset(&self, p: usize) -> usize {
        let i = self.map.partition_point(|&(q, _)| q <= p);
        match i.checked_sub(1).and_then(|i| self.map.get(i)) {
            Some(&(q, w)) => w + (p - q),
            None => p,
        }
    }

    fn wire_seq(&self, seq: u32) -> u32 {
        match (self.base, self.offset(seq)) {
            (Some(base), Some(p)) => base.wrapping_add(self.wire_offset(p) as u32),
            _ => seq,
        }
    }
}

type Key = ((Vec<u8>, u16), (Vec<u8>, u16));

/// A connection: the client's and the server's direction.
struct Conn {
    client: (Vec<u8>, u16),
    dirs: [Direction; 2],
    /// A server frame's headers (the SYN-ACK's), to write the server's
    /// handshake flight in a packet of its own.
    server_template: Option<(Vec<u8>, TcpFrame)>,
    /// Bytes of the ClientHello flight, sent in a packet of its own.
    hello_len: usize,
}

impl Conn {
    fn side(&self, src: &(Vec<u8>, u16)) -> usize {
        usize::from(*src != self.client)
    }
}

/// The records of `plain` cut at `cuts`, from `session`'s `client` or server side.
fn encrypt(session: &mut Session, client: bool, d: &mut Direction, handshake: Vec<u8>) {
    d.cuts.push(0);
    d.cuts.push(d.plain.len());
    d.cuts.sort_unstable();
    d.cuts.dedup();
    let mut sizes = Vec::new();
    for w in d.cuts.windows(2) {
        let (mut a, b) = (w[0], w[1]);
        while b - a > MAX_RECORD {
            sizes.push(MAX_RECORD);
            a += MAX_RECORD;
        }
        if b > a {
            sizes.push(b - a);
        }
    }
    let mut wire = handshake;
    let start = wire.len();
    d.handshake_len = start;
    let mut p = 0;
    // One write (one record) at a time, so the reading side's plaintext
    // buffer never fills.
    for &n in &sizes {
        let piece = &d.plain[p..p + n];
        let flights = if client {
            session.client_send_pieces(piece, &[n])
        } else {
            session.server_send_pieces(piece, &[n])
        };
        session.take_received();
        for f in flights.into_iter().filter(|f| f.from_client == client) {
            wire.extend_from_slice(&f.bytes);
        }
        p += n;
    }
    // Walk the records to place the cuts: record k holds sizes[k] bytes.
    let mut map = vec![(0, 0)];
    let mut at = start;
    let mut p = 0;
    for &n in &sizes {
        let len = be16(&wire, at + 3);
        at += 5 + len;
        p += n;
        map.push((p, at));
    }
    assert_eq!(at, wire.len(), "one record a write");
    d.map = map;
    d.wire = wire;
}

/// Rewrites the classic pcap `input` (Ethernet) with its TCP connections in
/// TLS 1.3 with `suite`; returns the capture and its key log.
pub fn rewrap(input: &[u8], suite: Suite, seed: u64) -> (Vec<u8>, String) {
    assert!(
        input.len() >= 24 && input[..4] == [0xd4, 0xc3, 0xb2, 0xa1],
        "a little-endian µs pcap"
    );
    // The records: (offset of the record header, frame offset, frame length).
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
    // Pass 1: each direction's plaintext and record cuts.
    let mut conns: Vec<Conn> = Vec::new();
    let mut index: HashMap<Key, usize> = HashMap::new();
    let mut frames: Vec<Option<(usize, TcpFrame)>> = Vec::with_capacity(records.len());
    for &(_, f, n) in &records {
        let frame = &input[f..f + n];
        let Some(t) = parse(frame).filter(|t| t.src.1 != 443 && t.dst.1 != 443) else {
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
            && conns[c].dirs[0].base != Some(t.seq.wrapping_add(1))
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
                dirs: [Direction::default(), Direction::default()],
                server_template: None,
                hello_len: 0,
            });
            conns.len() - 1
        });
        let conn = &mut conns[c];
        let side = conn.side(&t.src);
        if side == 1 && (conn.server_template.is_none() || t.flags & SYN != 0) {
            conn.server_template = Some((frame[..t.payload].to_vec(), t.clone()));
        }
        let d = &mut conn.dirs[side];
        if t.flags & SYN != 0 {
            d.base = Some(t.seq.wrapping_add(1));
            d.syn = true;
        } else if t.len > 0 && d.base.is_none() {
            d.base = Some(t.seq);
        }
        if let (true, Some(p)) = (t.len > 0, d.offset(t.seq)) {
            d.write(p, &frame[t.payload..t.payload + t.len]);
        }
        frames.push(Some((c, t)));
    }
    // Each connection in TLS, in order of first packet: one set of
    // endpoints, so later connections resume earlier ones' sessions.
    let endpoints = Endpoints::new(Options::new(seed, suite, "bench.example", 1_700_000_000));
    let mut keys = String::new();
    for conn in &mut conns {
        let mut session = endpoints.connect();
        let (mut ch, mut sh) = (Vec::new(), Vec::new());
        if conn.dirs[0].syn {
            for f in session.handshake() {
                if f.from_client && ch.is_empty() {
                    conn.hello_len = f.bytes.len();
                }
                if f.from_client { &mut ch } else { &mut sh }.extend_from_slice(&f.bytes);
            }
        } else {
            // No handshake in the capture.
            session.handshake();
        }
        let [client, server] = &mut conn.dirs;
        encrypt(&mut session, true, client, ch);
        encrypt(&mut session, false, server, sh);
        // The key lines of connections picked up mid-stream are dropped.
        let lines = endpoints.take_keys();
        if conn.dirs[0].syn {
            keys.push_str(&lines);
        }
    }
    // Pass 2: the packets with their payload in records.
    let mut out = Vec::with_capacity(input.len() + input.len() / 20);
    out.extend_from_slice(&input[..24]);
    // Connections whose handshake packets were written.
    let mut greeted = vec![false; conns.len()];
    for (&(h, f, n), t) in records.iter().zip(&frames) {
        let frame = &input[f..f + n];
        let Some((c, t)) = t else {
            out.extend_from_slice(&input[h..f + n]);
            continue;
        };
        let conn = &conns[*c];
        let side = conn.side(&t.src);
        let (d, other) = (&conn.dirs[side], &conn.dirs[1 - side]);
        let mut payload: &[u8] = &frame[t.payload..t.payload + t.len];
        let mut data_seq = None;
        if let (Some(p), true) = (d.offset(t.seq), t.len > 0) {
            let (mut a, b) = (d.wire_offset(p), d.wire_offset(p + t.len));
            if p == 0 {
                // The client's first data: the ClientHello and the server's
                // flight go first, each in a packet of its own (when a server
                // packet shows how to write one); the client's Finished
                // rides in front of its first records.
                a = 0;
                if side == 0
                    && conn.hello_len > 0
                    && let Some((template, st)) = &conn.server_template
                {
                    greeted[*c] = true;
                    let (client_base, server_base) = (d.base.unwrap(), other.base.unwrap());
                    let hello = &d.wire[..conn.hello_len];
                    let ack = server_base;
                    write_frame(
                        &mut out,
                        &input[h..h + 8],
                        &frame[..t.payload],
                        t,
                        hello,
                        client_base,
                        ack,
                        PSH | ACK,
                    );
                    let flight = &other.wire[..other.handshake_len];
                    let ack = client_base.wrapping_add(conn.hello_len as u32);
                    write_frame(
                        &mut out,
                        &input[h..h + 8],
                        template,
                        st,
                        flight,
                        server_base,
                        ack,
                        PSH | ACK,
                    );
                    a = conn.hello_len;
                } else if side == 1 && greeted[*c] {
                    a = d.handshake_len;
                }
            }
            payload = &d.wire[a..b];
            data_seq = d.base.map(|base| base.wrapping_add(a as u32));
        }
        // Once the handshake packets are out, offset 0 of each direction
        // stands after what they sent.
        let sent = |side: usize| match (greeted[*c], side) {
            (false, _) => 0,
            (true, 0) => conn.hello_len as u32,
            (true, _) => conn.dirs[1].handshake_len as u32,
        };
        let at = |dir: &Direction, side: usize, n: u32| match dir.offset(n) {
            Some(0) => n.wrapping_add(sent(side)),
            _ => dir.wire_seq(n),
        };
        let seq = data_seq.unwrap_or_else(|| at(d, side, t.seq));
        let ack = if t.flags & ACK != 0 {
            at(other, 1 - side, t.ack)
        } else {
            t.ack
        };
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
    }
    (out, keys)
}
