//! Generators of hostile captures for the memory-bound measurements
//! (`examples/gen_hostile.rs`, `bench/hostile.sh`) and their small-scale
//! integration tests (`tests/it/hostile.rs`). Each streams a classic pcap to a
//! writer (nothing is held in memory, so gigabyte captures are fine) and
//! mixes in one ordinary connection whose request leaks `X-MSISDN`, half way
//! through the attack: an analyzer whose memory is bounded must still
//! report it.

use std::io::{self, Write};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use super::encap::ipv4_header;
use super::http::{Req, UA_ANDROID};
use super::packet::{self, ACK, CLIENT_MAC, FIN, Framing, Link, PSH, ROUTER_MAC, SYN, TcpFields};

/// The attacks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Attack {
    /// `scale` SYNs, each from a distinct address and port (default 1 000 000).
    SynFlood,
    /// One upload of `scale` MiB (default 1024) sent out of order: the first
    /// segment of every MiB is never sent, so every MiB waits behind a hole.
    OutOfOrder,
    /// `scale` connections (default 2000), each sending a header block of
    /// 128 KiB that never ends, interleaved.
    EndlessHeaders,
    /// `scale` thousand tiny IPv4 fragments (default 3000, i.e. 3 000 000),
    /// each of its own datagram, none ever completed.
    FragmentFlood,
    /// One connection with `scale` thousand pipelined requests (default 5000,
    /// i.e. 5 000 000), the server silent.
    Pipelined,
    /// `scale` thousand requests (default 1000, i.e. 1 000 000), each leaking
    /// a different number (X-MSISDN) to a different host, pipelined on
    /// connections of 1000 requests: the report's aggregate tables at their
    /// worst (docs/robustness.md).
    DistinctLeaks,
    /// `scale` connections (default 100 000), each sending one request, a
    /// line that is no request (so the stream resynchronises), then the
    /// first 8,000 bytes of a request line that never ends, in two segments:
    /// every stream holds a candidate line while it looks for its end.
    ResyncLines,
    /// `scale` TLS 1.3 connections (default 2000) whose keys never come,
    /// each sending 320 KiB of application-data records after the hellos,
    /// interleaved: ciphertext held for keys, past the per-connection cap.
    /// Written as pcapng, whose Decryption Secrets Blocks could bring the
    /// keys later, so the ciphertext waits (a classic pcap without a key
    /// log holds none).
    TlsHeld,
}

impl Attack {
    /// Every attack, in the order of the report.
    pub const ALL: [Attack; 8] = [
        Attack::SynFlood,
        Attack::OutOfOrder,
        Attack::EndlessHeaders,
        Attack::FragmentFlood,
        Attack::Pipelined,
        Attack::DistinctLeaks,
        Attack::ResyncLines,
        Attack::TlsHeld,
    ];

    /// Its name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Attack::SynFlood => "syn-flood",
            Attack::OutOfOrder => "ooo-gigabyte",
            Attack::EndlessHeaders => "endless-headers",
            Attack::FragmentFlood => "fragment-flood",
            Attack::Pipelined => "pipelined",
            Attack::DistinctLeaks => "distinct-leaks",
            Attack::ResyncLines => "resync-lines",
            Attack::TlsHeld => "tls-held",
        }
    }

    /// The attack of that name.
    pub fn from_name(name: &str) -> Option<Attack> {
        Attack::ALL.into_iter().find(|a| a.name() == name)
    }

    /// The full-size scale (see each variant).
    pub fn default_scale(self) -> u64 {
        match self {
            Attack::SynFlood => 1_000_000,
            Attack::OutOfOrder => 1024,
            Attack::EndlessHeaders => 2000,
            Attack::FragmentFlood => 3000,
            Attack::Pipelined => 5000,
            Attack::DistinctLeaks => 1000,
            Attack::ResyncLines => 100_000,
            Attack::TlsHeld => 2000,
        }
    }
}

/// `n` clients on port 40000, one per address from `base + 1` on.
fn clients(base: u32, n: u64) -> Vec<SocketAddr> {
    (0..n)
        .map(|i| {
            let ip = Ipv4Addr::from(base.wrapping_add(i as u32).wrapping_add(1));
            SocketAddr::new(IpAddr::V4(ip), 40_000)
        })
        .collect()
}

/// The leaking request of the legitimate connection.
pub const LEGIT_URI: &str = "/legit/still-reported";
/// Its client.
pub const LEGIT_CLIENT: &str = "10.200.0.1:40000";

/// A streaming classic pcap writer (little-endian, nanoseconds, Ethernet).
struct Out<W: Write> {
    w: W,
    ts_ns: u64,
    step_ns: u64,
    packets: u64,
    /// Enhanced Packet Blocks of a pcapng file (else classic pcap records).
    pcapng: bool,
}

impl<W: Write> Out<W> {
    fn new(mut w: W, step_ns: u64) -> io::Result<Self> {
        w.write_all(&0xa1b2_3c4du32.to_le_bytes())?;
        w.write_all(&2u16.to_le_bytes())?;
        w.write_all(&4u16.to_le_bytes())?;
        for v in [0u32, 0, 262_144, 1] {
            w.write_all(&v.to_le_bytes())?;
        }
        Ok(Out {
            w,
            ts_ns: 1_400_000_000 * 1_000_000_000,
            step_ns,
            packets: 0,
            pcapng: false,
        })
    }

    /// A pcapng file (a file that may carry Decryption Secrets Blocks):
    /// one section, one Ethernet interface with nanosecond timestamps.
    fn pcapng(mut w: W, step_ns: u64) -> io::Result<Self> {
        // Section Header Block: byte-order magic, version 1.0, length unknown.
        let mut shb = vec![];
        shb.extend_from_slice(&0x1a2b_3c4du32.to_le_bytes());
        shb.extend_from_slice(&1u16.to_le_bytes());
        shb.extend_from_slice(&0u16.to_le_bytes());
        shb.extend_from_slice(&u64::MAX.to_le_bytes());
        block(&mut w, 0x0a0d_0d0a, &shb)?;
        // Interface Description Block: Ethernet, snaplen, if_tsresol 9.
        let mut idb = vec![];
        idb.extend_from_slice(&1u16.to_le_bytes());
        idb.extend_from_slice(&0u16.to_le_bytes());
        idb.extend_from_slice(&262_144u32.to_le_bytes());
        idb.extend_from_slice(&[9, 0, 1, 0, 9, 0, 0, 0, 0, 0, 0, 0]);
        block(&mut w, 1, &idb)?;
        Ok(Out {
            w,
            ts_ns: 1_400_000_000 * 1_000_000_000,
            step_ns,
            packets: 0,
            pcapng: true,
        })
    }

    fn frame(&mut self, frame: &[u8]) -> io::Result<()> {
        let len = frame.len() as u32;
        if self.pcapng {
            let mut epb = Vec::with_capacity(20 + frame.len() + 3);
            epb.extend_from_slice(&0u32.to_le_bytes());
            epb.extend_from_slice(&((self.ts_ns >> 32) as u32).to_le_bytes());
            epb.extend_from_slice(&(self.ts_ns as u32).to_le_bytes());
            epb.extend_from_slice(&len.to_le_bytes());
            epb.extend_from_slice(&len.to_le_bytes());
            epb.extend_from_slice(frame);
            epb.resize(epb.len().next_multiple_of(4), 0);
            block(&mut self.w, 6, &epb)?;
        } else {
            let secs = (self.ts_ns / 1_000_000_000) as u32;
            let nanos = (self.ts_ns % 1_000_000_000) as u32;
            for v in [secs, nanos, len, len] {
                self.w.write_all(&v.to_le_bytes())?;
            }
            self.w.write_all(frame)?;
        }
        self.ts_ns += self.step_ns;
        self.packets += 1;
        Ok(())
    }

    fn tcp(&mut self, f: &TcpFields<'_>) -> io::Result<()> {
        let ip = packet::ip_tcp(f);
        let framing = Framing {
            link: Link::Ethernet,
            vlans: Vec::new(),
            src_mac: CLIENT_MAC,
            dst_mac: ROUTER_MAC,
            sll_pkttype: 0,
            null_af6: 30,
            encap: Vec::new(),
        };
        let frame = packet::frame(&framing, &ip);
        self.frame(&frame)
    }
}

/// A pcapng block: type, total length, body (a multiple of 4), length again.
fn block<W: Write>(w: &mut W, kind: u32, body: &[u8]) -> io::Result<()> {
    let total = (12 + body.len()) as u32;
    w.write_all(&kind.to_le_bytes())?;
    w.write_all(&total.to_le_bytes())?;
    w.write_all(body)?;
    w.write_all(&total.to_le_bytes())
}

fn seg<'a>(
    src: SocketAddr,
    dst: SocketAddr,
    seq: u32,
    ack: u32,
    flags: u8,
    payload: &'a [u8],
) -> TcpFields<'a> {
    TcpFields {
        src,
        dst,
        seq,
        ack,
        flags,
        window: 65_535,
        ip_id: (seq as u16) ^ 0x5a5a,
        v6_ext: false,
        payload,
    }
}

/// The legitimate connection: handshake, one leaking request, close.
fn legit<W: Write>(out: &mut Out<W>) -> io::Result<()> {
    let c: SocketAddr = LEGIT_CLIENT.parse().expect("address");
    let s: SocketAddr = "192.0.2.250:80".parse().expect("address");
    let req = Req::get(LEGIT_URI, "www.example.com")
        .h("User-Agent", UA_ANDROID)
        .leak("X-MSISDN", "447700900123")
        .bytes();
    let n = req.len() as u32;
    out.tcp(&seg(c, s, 1000, 0, SYN, b""))?;
    out.tcp(&seg(s, c, 5000, 1001, SYN | ACK, b""))?;
    out.tcp(&seg(c, s, 1001, 5001, ACK, b""))?;
    out.tcp(&seg(c, s, 1001, 5001, PSH | ACK, &req))?;
    out.tcp(&seg(s, c, 5001, 1001 + n, ACK, b""))?;
    out.tcp(&seg(c, s, 1001 + n, 5001, FIN | ACK, b""))?;
    out.tcp(&seg(s, c, 5001, 1002 + n, FIN | ACK, b""))?;
    out.tcp(&seg(c, s, 1002 + n, 5002, ACK, b""))
}

/// Writes the capture of `attack` at `scale` (see [`Attack`]); returns the packet count.
pub fn write<W: Write>(attack: Attack, scale: u64, w: W) -> io::Result<u64> {
    let mut out = if attack == Attack::TlsHeld {
        Out::pcapng(w, 1_000)?
    } else {
        Out::new(w, 1_000)?
    };
    let server: SocketAddr = "192.0.2.80:80".parse().expect("address");
    match attack {
        Attack::SynFlood => {
            for i in 0..scale {
                if i == scale / 2 {
                    legit(&mut out)?;
                }
                let ip = Ipv4Addr::from(
                    0x0a00_0000u32
                        | ((i as u32 / 50_000) << 16)
                        | (i as u32 % 50_000 / 250) << 8
                        | (i as u32 % 250 + 1),
                );
                let src = SocketAddr::new(IpAddr::V4(ip), 1024 + (i % 60_000) as u16);
                out.tcp(&seg(src, server, i as u32, 0, SYN, b""))?;
            }
        }
        Attack::OutOfOrder => {
            let c: SocketAddr = "10.66.0.1:50000".parse().expect("address");
            out.tcp(&seg(c, server, 0, 0, SYN, b""))?;
            out.tcp(&seg(server, c, 0, 1, SYN | ACK, b""))?;
            out.tcp(&seg(c, server, 1, 1, ACK, b""))?;
            let total = scale << 20;
            let head = format!(
                "POST /upload HTTP/1.1\r\nHost: upload.example.com\r\nContent-Length: {total}\r\n\r\n"
            );
            out.tcp(&seg(c, server, 1, 1, PSH | ACK, head.as_bytes()))?;
            let body_seq = 1u32.wrapping_add(head.len() as u32);
            let chunk = vec![b'x'; 1448];
            let per_mib = (1u64 << 20) / chunk.len() as u64;
            let segments = total / chunk.len() as u64;
            for i in 0..segments {
                if i == segments / 2 {
                    legit(&mut out)?;
                }
                // The first segment of every MiB is never sent: its hole never fills.
                if i % per_mib == 0 {
                    continue;
                }
                let seq = body_seq.wrapping_add((i * chunk.len() as u64) as u32);
                out.tcp(&seg(c, server, seq, 1, ACK, &chunk))?;
            }
        }
        Attack::EndlessHeaders => {
            let flows = clients(0x0a43_0000, scale);
            let start: &[u8] = b"GET /never-ending HTTP/1.1\r\nHost: a.example.com\r\n";
            let mut next: Vec<u32> = vec![1 + start.len() as u32; flows.len()];
            for c in &flows {
                out.tcp(&seg(*c, server, 0, 0, SYN, b""))?;
                out.tcp(&seg(*c, server, 1, 1, PSH | ACK, start))?;
            }
            let line = {
                let mut l = b"X-Filler: ".to_vec();
                l.extend(std::iter::repeat_n(b'f', 1400 - 12));
                l.extend_from_slice(b"\r\n");
                l
            };
            let rounds = (128 << 10) / line.len();
            for round in 0..rounds {
                if round == rounds / 2 {
                    legit(&mut out)?;
                }
                for (c, n) in flows.iter().zip(next.iter_mut()) {
                    out.tcp(&seg(*c, server, *n, 1, ACK, &line))?;
                    *n = n.wrapping_add(line.len() as u32);
                }
            }
        }
        Attack::FragmentFlood => {
            let count = scale * 1000;
            let victim = Ipv4Addr::new(192, 0, 2, 80);
            for i in 0..count {
                if i == count / 2 {
                    legit_fragmented(&mut out)?;
                }
                let src = Ipv4Addr::from(0x0a44_0000u32 | (i as u32 >> 16));
                let mut f = ipv4_header(src, victim, i as u16, 17, 8, 0, true);
                f.extend_from_slice(&[0x41; 8]);
                let mut frame = ROUTER_MAC.to_vec();
                frame.extend_from_slice(&CLIENT_MAC);
                frame.extend_from_slice(&0x0800u16.to_be_bytes());
                frame.extend_from_slice(&f);
                out.frame(&frame)?;
            }
        }
        Attack::DistinctLeaks => {
            let count = scale * 1000;
            for conn in 0..count.div_ceil(1000) {
                let ip = Ipv4Addr::from(0x0a46_0000u32 | (conn as u32 & 0xffff));
                let c = SocketAddr::new(IpAddr::V4(ip), 40_000 + (conn >> 16) as u16);
                out.tcp(&seg(c, server, 0, 0, SYN, b""))?;
                out.tcp(&seg(server, c, 0, 1, SYN | ACK, b""))?;
                out.tcp(&seg(c, server, 1, 1, ACK, b""))?;
                let mut seq = 1u32;
                let mut buf: Vec<u8> = Vec::with_capacity(4096);
                for i in conn * 1000..((conn + 1) * 1000).min(count) {
                    buf.extend_from_slice(
                        format!(
                            "GET /p HTTP/1.1\r\nHost: h{i}.example.com\r\nX-MSISDN: 4477{:08}\r\n\r\n",
                            i
                        )
                        .as_bytes(),
                    );
                    while buf.len() >= 1448 {
                        let rest = buf.split_off(1448);
                        out.tcp(&seg(c, server, seq, 1, ACK, &buf))?;
                        seq = seq.wrapping_add(1448);
                        buf = rest;
                    }
                }
                if !buf.is_empty() {
                    out.tcp(&seg(c, server, seq, 1, PSH | ACK, &buf))?;
                    seq = seq.wrapping_add(buf.len() as u32);
                }
                out.tcp(&seg(c, server, seq, 1, FIN | ACK, b""))?;
                if conn == count.div_ceil(1000) / 2 {
                    legit(&mut out)?;
                }
            }
        }
        Attack::ResyncLines => {
            let flows = clients(0x0a47_0000, scale);
            let mut first =
                b"GET / HTTP/1.1\r\nHost: r.example.com\r\n\r\nno request\nGET /".to_vec();
            first.extend(std::iter::repeat_n(b'a', 4000 - first.len()));
            let more = vec![b'a'; 4000];
            for c in &flows {
                out.tcp(&seg(*c, server, 0, 0, SYN, b""))?;
                out.tcp(&seg(*c, server, 1, 1, PSH | ACK, &first))?;
            }
            legit(&mut out)?;
            for c in &flows {
                out.tcp(&seg(*c, server, 1 + first.len() as u32, 1, ACK, &more))?;
            }
        }
        Attack::TlsHeld => {
            // TLS 1.3 connections whose keys never come: after the hellos,
            // 20 application-data records of 16 KiB each (320 KiB, past the
            // 256 KiB held per connection), sent a record per connection in
            // turn, so all of them hold ciphertext at once.
            let https: SocketAddr = "192.0.2.44:443".parse().expect("address");
            let flows = clients(0x0a48_0000, scale);
            let mut next = Vec::with_capacity(flows.len());
            for (i, c) in flows.iter().enumerate() {
                let hello = tls_hello(1, i as u32);
                out.tcp(&seg(*c, https, 0, 0, SYN, b""))?;
                out.tcp(&seg(https, *c, 0, 1, SYN | ACK, b""))?;
                out.tcp(&seg(*c, https, 1, 1, PSH | ACK, &hello))?;
                let sh = tls_hello(2, i as u32);
                out.tcp(&seg(https, *c, 1, 1 + hello.len() as u32, PSH | ACK, &sh))?;
                next.push(1 + hello.len() as u32);
            }
            let mut record = vec![23, 3, 3, 0x40, 0x00];
            record.extend((0..16_384u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8));
            for round in 0..20 {
                if round == 10 {
                    legit(&mut out)?;
                }
                for (c, n) in flows.iter().zip(next.iter_mut()) {
                    for piece in record.chunks(1448) {
                        out.tcp(&seg(*c, https, *n, 1, ACK, piece))?;
                        *n = n.wrapping_add(piece.len() as u32);
                    }
                }
            }
        }
        Attack::Pipelined => {
            let c: SocketAddr = "10.69.0.1:50000".parse().expect("address");
            out.tcp(&seg(c, server, 0, 0, SYN, b""))?;
            out.tcp(&seg(server, c, 0, 1, SYN | ACK, b""))?;
            out.tcp(&seg(c, server, 1, 1, ACK, b""))?;
            let count = scale * 1000;
            let mut seq = 1u32;
            let mut buf: Vec<u8> = Vec::with_capacity(4096);
            for i in 0..count {
                if i == count / 2 {
                    let r = Req::get(LEGIT_URI, "www.example.com")
                        .h("User-Agent", UA_ANDROID)
                        .leak("X-MSISDN", "447700900123");
                    buf.extend_from_slice(&r.bytes());
                } else {
                    buf.extend_from_slice(
                        format!("GET /p/{i} HTTP/1.1\r\nHost: p.example.com\r\n\r\n").as_bytes(),
                    );
                }
                while buf.len() >= 1448 {
                    let rest = buf.split_off(1448);
                    out.tcp(&seg(c, server, seq, 1, ACK, &buf))?;
                    seq = seq.wrapping_add(1448);
                    buf = rest;
                }
            }
            if !buf.is_empty() {
                out.tcp(&seg(c, server, seq, 1, PSH | ACK, &buf))?;
            }
        }
    }
    out.w.flush()?;
    Ok(out.packets)
}

/// The legitimate connection, its request segment sent as three IPv4 fragments.
/// A TLS 1.3 ClientHello (`kind` 1) or ServerHello (2) record, random
/// derived from `n`, suite TLS_AES_128_GCM_SHA256, `supported_versions` only.
fn tls_hello(kind: u8, n: u32) -> Vec<u8> {
    let mut body = vec![3, 3];
    body.extend((0..8).flat_map(|i: u32| (n ^ i.wrapping_mul(0x9e37_79b9)).to_be_bytes()));
    body.push(0);
    let versions: &[u8] = if kind == 1 {
        body.extend_from_slice(&[0, 2, 0x13, 0x01, 1, 0]);
        &[0, 0x2b, 0, 3, 2, 3, 4]
    } else {
        body.extend_from_slice(&[0x13, 0x01, 0]);
        &[0, 0x2b, 0, 2, 3, 4]
    };
    body.extend_from_slice(&(versions.len() as u16).to_be_bytes());
    body.extend_from_slice(versions);
    let mut msg = vec![kind, 0];
    msg.extend_from_slice(&(body.len() as u16).to_be_bytes());
    msg.extend(body);
    let mut rec = vec![22, 3, 1];
    rec.extend_from_slice(&(msg.len() as u16).to_be_bytes());
    rec.extend(msg);
    rec
}

fn legit_fragmented<W: Write>(out: &mut Out<W>) -> io::Result<()> {
    let c: SocketAddr = LEGIT_CLIENT.parse().expect("address");
    let s: SocketAddr = "192.0.2.250:80".parse().expect("address");
    let req = Req::get(LEGIT_URI, "www.example.com")
        .h("User-Agent", UA_ANDROID)
        .leak("X-MSISDN", "447700900123")
        .bytes();
    let n = req.len() as u32;
    out.tcp(&seg(c, s, 1000, 0, SYN, b""))?;
    out.tcp(&seg(s, c, 5000, 1001, SYN | ACK, b""))?;
    let mut ip = packet::ip_tcp(&seg(c, s, 1001, 5001, PSH | ACK, &req));
    ip[6] &= !0x40;
    let pieces = super::encap::even_pieces(ip.len() - 20, 96);
    // Rebuild with a fresh id so no flood fragment shares its key.
    ip[4..6].copy_from_slice(&0xbeefu16.to_be_bytes());
    for f in super::encap::fragment_ipv4(&ip, &pieces, None) {
        let mut frame = ROUTER_MAC.to_vec();
        frame.extend_from_slice(&CLIENT_MAC);
        frame.extend_from_slice(&0x0800u16.to_be_bytes());
        frame.extend_from_slice(&f);
        out.frame(&frame)?;
    }
    out.tcp(&seg(s, c, 5001, 1001 + n, ACK, b""))?;
    out.tcp(&seg(c, s, 1001 + n, 5001, FIN | ACK, b""))?;
    out.tcp(&seg(s, c, 5001, 1002 + n, FIN | ACK, b""))?;
    out.tcp(&seg(c, s, 1002 + n, 5002, ACK, b""))
}

/// Hostile content rather than volume: captures whose bytes attack the
/// report itself (`tests/it/hostile.rs`). Each request travels on its own
/// connection, from its own client.
pub mod content {
    use std::io::{self, Write};
    use std::net::{IpAddr, Ipv4Addr, SocketAddr};

    use super::{ACK, FIN, Out, PSH, SYN, seg};

    /// The number every request here leaks (fictional: Ofcom's drama range).
    pub const NUMBER: &str = "447700900123";

    /// Writes `requests` to a classic pcap, each on its own connection
    /// (handshake, the request in segments of at most 1448 bytes, close);
    /// returns the packet count.
    pub fn write<W: Write>(requests: &[Vec<u8>], w: W) -> io::Result<u64> {
        let mut out = Out::new(w, 1_000)?;
        let server: SocketAddr = "192.0.2.80:80".parse().expect("address");
        for (i, req) in requests.iter().enumerate() {
            let ip = Ipv4Addr::from(0x0ad2_0000u32 + i as u32 + 1);
            let c = SocketAddr::new(IpAddr::V4(ip), 41_000);
            out.tcp(&seg(c, server, 0, 0, SYN, b""))?;
            out.tcp(&seg(server, c, 0, 1, SYN | ACK, b""))?;
            out.tcp(&seg(c, server, 1, 1, ACK, b""))?;
            let mut seq = 1u32;
            for piece in req.chunks(1448) {
                out.tcp(&seg(c, server, seq, 1, PSH | ACK, piece))?;
                seq = seq.wrapping_add(piece.len() as u32);
            }
            out.tcp(&seg(server, c, 1, seq, ACK, b""))?;
            out.tcp(&seg(c, server, seq, 1, FIN | ACK, b""))?;
            out.tcp(&seg(server, c, 1, seq.wrapping_add(1), FIN | ACK, b""))?;
            out.tcp(&seg(c, server, seq.wrapping_add(1), 2, ACK, b""))?;
        }
        out.w.flush()?;
        Ok(out.packets)
    }

    /// Requests each with one text of `len` characters where a report table
    /// shows it: the host name, the name of the header that leaks, the cookie
    /// name in front of the number. Each leaks [`NUMBER`]. A scan needs
    /// `--max-header-bytes` above `len` (plus 200).
    pub fn long_cells(len: usize) -> Vec<Vec<u8>> {
        let long = |c: char| c.to_string().repeat(len);
        vec![
            format!(
                "GET /a HTTP/1.1\r\nHost: {}.example.com\r\nX-MSISDN: {NUMBER}\r\n\r\n",
                long('h')
            ),
            format!(
                "GET /b HTTP/1.1\r\nHost: b.example.com\r\nX-{}: msisdn=+{NUMBER}\r\n\r\n",
                long('N')
            ),
            format!(
                "GET /d HTTP/1.1\r\nHost: d.example.com\r\nCookie: {}=%2B{NUMBER}\r\n\r\n",
                long('c')
            ),
        ]
        .into_iter()
        .map(String::into_bytes)
        .collect()
    }

    /// A request whose query key in front of [`NUMBER`] is `len` characters
    /// (a request line that long: the HTTP stage's time grows with the square
    /// of a request line's length as its segments arrive, so tests keep it
    /// under a megabyte).
    pub fn long_query_key(len: usize) -> Vec<u8> {
        format!(
            "GET /c?{}=%2B{NUMBER} HTTP/1.1\r\nHost: c.example.com\r\n\r\n",
            "k".repeat(len)
        )
        .into_bytes()
    }

    /// Terminal control sequences: clear screen, a window title (OSC 0 ended
    /// by BEL), an OSC 8 hyperlink, a C1 CSI (U+009B, UTF-8 encoded), a raw
    /// C1 byte, NUL, BS, DEL, CR, and a bare ESC.
    pub const SEQUENCES: &[&[u8]] = &[
        b"\x1b[2J\x1b[H",
        b"\x1b]0;pwned\x07",
        b"\x1b]8;;http://evil.example/\x1b\\click\x1b]8;;\x1b\\",
        "\u{9b}31m".as_bytes(),
        b"\x9b",
        b"\x00",
        b"\x08\x08",
        b"\x7f",
        b"\r",
        b"\x1b",
    ];

    /// All of [`SEQUENCES`] in a row.
    pub fn all_sequences() -> Vec<u8> {
        SEQUENCES.concat()
    }

    /// C1 controls as the request target may carry them (HTTP parsers refuse
    /// ASCII controls there, not UTF-8): CSI, OSC and ST, NEL, and a raw C1 byte.
    pub const C1_SEQUENCES: &[u8] = "\u{9b}2J\u{9d}0;title\u{9c}\u{85}".as_bytes();

    /// Requests with control sequences in every place a report shows: the
    /// host name, header names and values (around the number, in a header
    /// that does not leak, the characters masking keeps), a cookie name, and
    /// C1 controls in the request target (path, query key, around the
    /// number). Every request leaks [`NUMBER`].
    pub fn escapes() -> Vec<Vec<u8>> {
        let esc = all_sequences();
        let mut out = Vec::new();
        let mut push = |parts: &[&[u8]]| out.push(parts.concat());
        // Host, header values around the number.
        push(&[
            b"GET /esc/host HTTP/1.1\r\nHost: h",
            &esc,
            b".example.com\r\nX-MSISDN: ",
            &esc,
            NUMBER.as_bytes(),
            &esc,
            b"\r\nX-Note: ",
            &esc,
            b" msisdn=+",
            NUMBER.as_bytes(),
            b" ",
            &esc,
            b"\r\nUser-Agent: ua",
            &esc,
            b"\r\n\r\n",
        ]);
        // The request target: path, query key, around the number.
        push(&[
            b"GET /p",
            C1_SEQUENCES,
            b"\x9b?msisdn",
            C1_SEQUENCES,
            b"=",
            C1_SEQUENCES,
            b"%2B",
            NUMBER.as_bytes(),
            C1_SEQUENCES,
            b" HTTP/1.1\r\nHost: t.example.com\r\n\r\n",
        ]);
        // A header name that leaks, a cookie name.
        push(&[
            b"GET /esc/names HTTP/1.1\r\nHost: n.example.com\r\nX-",
            &esc,
            b"-Id: msisdn=+",
            NUMBER.as_bytes(),
            b"\r\nCookie: a",
            &esc,
            b"=%2B",
            NUMBER.as_bytes(),
            b"\r\n\r\n",
        ]);
        out
    }
}
