//! The TCP conversation model: a [`Trace`] (clock, captured packets, truth)
//! and [`Conversation`]s that emit handshakes, data split into chosen
//! segment sizes, and closes, with correct sequence and acknowledgement
//! numbers. Segments can be built first and emitted later, so a scenario
//! can reorder, duplicate, drop or overlap them.

use std::net::SocketAddr;

use super::TruthRequest;
use super::encap::Encap;
use super::http::Req;
use super::packet::{
    self, ACK, CLIENT_MAC, FIN, Framing, Link, PSH, ROUTER_MAC, RST, SYN, TcpFields,
};
use super::pcap::{Endian, PcapWriter};

/// One captured packet.
#[derive(Clone, Debug)]
pub struct Record {
    /// Interface index (pcapng); 0 in classic pcap.
    pub iface: usize,
    /// Capture time, nanoseconds since the epoch.
    pub ts_ns: u64,
    /// The whole frame as it was on the wire.
    pub frame: Vec<u8>,
    /// The conversation it belongs to.
    pub conv: usize,
    /// Sent by the client.
    pub from_client: bool,
    /// TCP sequence number.
    pub seq: u32,
    /// TCP payload length.
    pub len: usize,
}

/// A request the truth lists (or may list), waiting for its capture order.
#[derive(Clone, Debug)]
struct Noted {
    conv: usize,
    seq: u32,
    offset: u32,
    optional: bool,
    req: TruthRequest,
}

/// A capture under construction: a clock, the packets, the truth.
pub struct Trace {
    /// Current time, nanoseconds since the epoch.
    pub now_ns: u64,
    /// Time between two packets emitted back to back.
    pub step_ns: u64,
    /// The packets in capture order.
    pub records: Vec<Record>,
    noted: Vec<Noted>,
    next_conv: usize,
}

impl Trace {
    /// A trace whose first packet is at `start_secs` (Unix time) plus `frac_ns`.
    pub fn new(start_secs: u64, frac_ns: u64) -> Self {
        Trace {
            now_ns: start_secs * 1_000_000_000 + frac_ns,
            step_ns: 150_000,
            records: Vec::new(),
            noted: Vec::new(),
            next_conv: 0,
        }
    }

    /// Lets time pass.
    pub fn advance_us(&mut self, us: u64) {
        self.now_ns += us * 1000;
    }

    /// Lets time pass, in nanoseconds.
    pub fn advance_ns(&mut self, ns: u64) {
        self.now_ns += ns;
    }

    /// Takes the current time for a packet and moves the clock on.
    fn stamp(&mut self) -> u64 {
        let t = self.now_ns;
        self.now_ns += self.step_ns;
        t
    }

    /// The requests the analyzer must report and those it may report, each
    /// in the order of their first byte's capture time (ties: stream order).
    pub fn truth(&self) -> (Vec<TruthRequest>, Vec<TruthRequest>) {
        let mut keyed: Vec<(usize, u32, &Noted)> = self
            .noted
            .iter()
            .map(|n| {
                let idx = self
                    .records
                    .iter()
                    .position(|r| {
                        r.conv == n.conv
                            && r.from_client
                            && n.seq.wrapping_sub(r.seq) < r.len as u32
                    })
                    .unwrap_or_else(|| {
                        panic!("no captured packet carries the first byte of {:?}", n.req)
                    });
                (idx, n.offset, n)
            })
            .collect();
        keyed.sort_by_key(|&(i, o, _)| (i, o));
        let (opt, req): (Vec<_>, Vec<_>) = keyed.into_iter().partition(|(_, _, n)| n.optional);
        (
            req.into_iter().map(|(_, _, n)| n.req.clone()).collect(),
            opt.into_iter().map(|(_, _, n)| n.req.clone()).collect(),
        )
    }

    /// Writes every record into a classic pcap file.
    pub fn pcap(&self, endian: Endian, nanos: bool, snaplen: u32, link: Link) -> Vec<u8> {
        let mut w = PcapWriter::new(endian, nanos, snaplen, link.linktype());
        for r in &self.records {
            w.packet(r.ts_ns, &r.frame);
        }
        w.finish()
    }
}

/// One TCP segment, built but not yet emitted.
#[derive(Clone, Debug)]
pub struct Seg {
    /// Sent by the client.
    pub from_client: bool,
    /// Sequence number.
    pub seq: u32,
    /// Acknowledgement number.
    pub ack: u32,
    /// Flags.
    pub flags: u8,
    /// Payload.
    pub payload: Vec<u8>,
}

/// One TCP connection between a client and a server.
pub struct Conversation {
    /// Identifier within the trace.
    pub id: usize,
    /// The client (the side that sends requests).
    pub client: SocketAddr,
    /// The server.
    pub server: SocketAddr,
    /// Next sequence number the client sends.
    pub c_next: u32,
    /// Next sequence number the server sends.
    pub s_next: u32,
    c_base: u32,
    /// Framing of client-to-server packets.
    pub c2s: Framing,
    /// Framing of server-to-client packets.
    pub s2c: Framing,
    /// pcapng interface index of its packets.
    pub iface: usize,
    /// IPv6 hop-by-hop and destination-options headers on every packet.
    pub v6_ext: bool,
    /// Maximum segment size for [`Conversation::send`].
    pub mss: usize,
    c_ip_id: u16,
    s_ip_id: u16,
}

fn addr(s: &str) -> SocketAddr {
    s.parse()
        .unwrap_or_else(|_| panic!("bad socket address {s}"))
}

impl Conversation {
    /// A conversation over Ethernet; the client's first byte (its SYN, if a
    /// handshake is emitted) has sequence number `c_isn`, the server's `s_isn`.
    pub fn new(t: &mut Trace, client: &str, server: &str, c_isn: u32, s_isn: u32) -> Self {
        let id = t.next_conv;
        t.next_conv += 1;
        let fr = |src_mac, dst_mac, sll_pkttype| Framing {
            link: Link::Ethernet,
            vlans: Vec::new(),
            src_mac,
            dst_mac,
            sll_pkttype,
            null_af6: 30,
            encap: Vec::new(),
        };
        Conversation {
            id,
            client: addr(client),
            server: addr(server),
            c_next: c_isn,
            s_next: s_isn,
            c_base: c_isn,
            c2s: fr(CLIENT_MAC, ROUTER_MAC, 4),
            s2c: fr(ROUTER_MAC, CLIENT_MAC, 0),
            iface: 0,
            v6_ext: false,
            mss: 1448,
            c_ip_id: (id as u16).wrapping_mul(7919).wrapping_add(0x1234),
            s_ip_id: (id as u16)
                .wrapping_mul(104_729u32 as u16)
                .wrapping_add(0x4321),
        }
    }

    /// Sets the link type of both directions.
    pub fn link(mut self, link: Link) -> Self {
        self.c2s.link = link;
        self.s2c.link = link;
        self
    }

    /// Sets the VLAN tags (outermost first) of each direction.
    pub fn vlans(mut self, c2s: &[(u16, u16)], s2c: &[(u16, u16)]) -> Self {
        self.c2s.vlans = c2s.to_vec();
        self.s2c.vlans = s2c.to_vec();
        self
    }

    /// Sets the encapsulations (outermost first) of each direction.
    pub fn encap(mut self, c2s: Vec<Encap>, s2c: Vec<Encap>) -> Self {
        self.c2s.encap = c2s;
        self.s2c.encap = s2c;
        self
    }

    /// Sets the pcapng interface index.
    pub fn iface(mut self, i: usize) -> Self {
        self.iface = i;
        self
    }

    /// Adds IPv6 extension headers to every packet.
    pub fn v6_ext(mut self) -> Self {
        self.v6_ext = true;
        self
    }

    /// Sets the BSD null address family used for IPv6.
    pub fn null_af6(mut self, af: u32) -> Self {
        self.c2s.null_af6 = af;
        self.s2c.null_af6 = af;
        self
    }

    /// Builds a segment at an explicit sequence number (for retransmissions);
    /// does not move the sequence counters.
    pub fn seg_at(&self, from_client: bool, seq: u32, flags: u8, payload: &[u8]) -> Seg {
        let ack = if from_client {
            self.s_next
        } else {
            self.c_next
        };
        Seg {
            from_client,
            seq,
            ack,
            flags,
            payload: payload.to_vec(),
        }
    }

    /// Splits `data` into segments of the given sizes (the last size repeats)
    /// and moves the sender's sequence counter past it; PSH on the last one.
    pub fn split(&mut self, from_client: bool, data: &[u8], sizes: &[usize]) -> Vec<Seg> {
        assert!(!sizes.is_empty() && sizes.iter().all(|&s| s > 0));
        let mut out = Vec::new();
        let mut pos = 0;
        let mut i = 0;
        while pos < data.len() {
            let n = sizes[i.min(sizes.len() - 1)].min(data.len() - pos);
            let seq = if from_client {
                self.c_next
            } else {
                self.s_next
            }
            .wrapping_add(pos as u32);
            let mut s = self.seg_at(from_client, seq, ACK, &data[pos..pos + n]);
            pos += n;
            i += 1;
            if pos == data.len() {
                s.flags |= PSH;
            }
            out.push(s);
        }
        if from_client {
            self.c_next = self.c_next.wrapping_add(data.len() as u32);
        } else {
            self.s_next = self.s_next.wrapping_add(data.len() as u32);
        }
        out
    }

    /// Emits one segment into the trace at the current time.
    pub fn emit(&mut self, t: &mut Trace, s: &Seg) {
        let (src, dst, fr) = if s.from_client {
            (self.client, self.server, &self.c2s)
        } else {
            (self.server, self.client, &self.s2c)
        };
        let id = if s.from_client {
            &mut self.c_ip_id
        } else {
            &mut self.s_ip_id
        };
        *id = id.wrapping_add(1);
        let ip = packet::ip_tcp(&TcpFields {
            src,
            dst,
            seq: s.seq,
            ack: s.ack,
            flags: s.flags,
            window: if s.from_client { 65_535 } else { 29_200 },
            ip_id: *id,
            v6_ext: self.v6_ext,
            payload: &s.payload,
        });
        let frame = packet::frame(fr, &ip);
        let ts_ns = t.stamp();
        t.records.push(Record {
            iface: self.iface,
            ts_ns,
            frame,
            conv: self.id,
            from_client: s.from_client,
            seq: s.seq,
            len: s.payload.len(),
        });
    }

    /// Emits one segment as several packets: `split` turns its IP packet
    /// into the IP packets to send, in order (fragments, reordered,
    /// overlapping, or already wrapped in an outer IP header); each is framed
    /// with this direction's framing and recorded as carrying the segment.
    pub fn emit_split(
        &mut self,
        t: &mut Trace,
        s: &Seg,
        split: impl FnOnce(Vec<u8>) -> Vec<Vec<u8>>,
    ) {
        let (src, dst) = if s.from_client {
            (self.client, self.server)
        } else {
            (self.server, self.client)
        };
        let id = if s.from_client {
            &mut self.c_ip_id
        } else {
            &mut self.s_ip_id
        };
        *id = id.wrapping_add(1);
        let mut ip = packet::ip_tcp(&TcpFields {
            src,
            dst,
            seq: s.seq,
            ack: s.ack,
            flags: s.flags,
            window: if s.from_client { 65_535 } else { 29_200 },
            ip_id: *id,
            v6_ext: self.v6_ext,
            payload: &s.payload,
        });
        if ip[0] == 0x45 {
            // Fragmentable: clear DF and fix the checksum.
            ip[6] &= !0x40;
            ip[10..12].copy_from_slice(&[0, 0]);
            let c = packet::checksum(0, &ip[..20]);
            ip[10..12].copy_from_slice(&c.to_be_bytes());
        }
        let fr = if s.from_client { &self.c2s } else { &self.s2c };
        for piece in split(ip) {
            let frame = packet::frame(fr, &piece);
            let ts_ns = t.stamp();
            t.records.push(Record {
                iface: self.iface,
                ts_ns,
                frame,
                conv: self.id,
                from_client: s.from_client,
                seq: s.seq,
                len: s.payload.len(),
            });
        }
    }

    /// Emits several segments in the given order.
    pub fn emit_all(&mut self, t: &mut Trace, segs: &[Seg]) {
        for s in segs {
            self.emit(t, s);
        }
    }

    /// Emits a bare ACK from one side.
    pub fn ack(&mut self, t: &mut Trace, from_client: bool) {
        let seq = if from_client {
            self.c_next
        } else {
            self.s_next
        };
        let s = self.seg_at(from_client, seq, ACK, &[]);
        self.emit(t, &s);
    }

    /// SYN, SYN/ACK, ACK.
    pub fn handshake(&mut self, t: &mut Trace) {
        let syn = Seg {
            from_client: true,
            seq: self.c_next,
            ack: 0,
            flags: SYN,
            payload: Vec::new(),
        };
        self.emit(t, &syn);
        self.c_next = self.c_next.wrapping_add(1);
        t.advance_us(20_000);
        let synack = self.seg_at(false, self.s_next, SYN | ACK, &[]);
        self.emit(t, &synack);
        self.s_next = self.s_next.wrapping_add(1);
        self.ack(t, true);
    }

    /// Sends `data` from one side in MSS-sized segments, then the peer ACKs.
    pub fn send(&mut self, t: &mut Trace, from_client: bool, data: &[u8]) {
        let mss = self.mss;
        self.send_sizes(t, from_client, data, &[mss]);
    }

    /// Sends `data` from one side in segments of the given sizes, then the
    /// peer ACKs.
    pub fn send_sizes(&mut self, t: &mut Trace, from_client: bool, data: &[u8], sizes: &[usize]) {
        let segs = self.split(from_client, data, sizes);
        self.emit_all(t, &segs);
        t.advance_us(15_000);
        self.ack(t, !from_client);
    }

    /// Notes that the client byte at `seq` starts a request the analyzer must
    /// report (or, if `optional`, may report).
    pub fn note(
        &self,
        t: &mut Trace,
        seq: u32,
        req: &Req,
        optional: bool,
        truncated: bool,
        leak_headers: Vec<String>,
    ) {
        t.noted.push(Noted {
            conv: self.id,
            seq,
            offset: seq.wrapping_sub(self.c_base),
            optional,
            req: TruthRequest {
                src: self.client.to_string(),
                dst: self.server.to_string(),
                method: req.method.clone(),
                uri: req.uri.clone(),
                host: req.host(),
                known_leak_headers: if truncated {
                    Vec::new()
                } else {
                    req.known_leak_headers()
                },
                leak_headers,
                truncated,
            },
        });
    }

    /// Notes that the next client bytes are `req`, which must be reported
    /// whole; returns its first sequence number. Does not send it.
    pub fn note_next(&self, t: &mut Trace, req: &Req) -> u32 {
        self.note(t, self.c_next, req, false, false, req.leak_headers());
        self.c_next
    }

    /// Sends a request (noted in the truth) in MSS-sized segments; the server ACKs.
    pub fn request(&mut self, t: &mut Trace, req: &Req) {
        self.note_next(t, req);
        self.send(t, true, &req.bytes());
    }

    /// Sends a request (noted in the truth) in segments of the given sizes.
    pub fn request_sizes(&mut self, t: &mut Trace, req: &Req, sizes: &[usize]) {
        self.note_next(t, req);
        self.send_sizes(t, true, &req.bytes(), sizes);
    }

    /// The server answers after a short think time; the client ACKs.
    pub fn respond(&mut self, t: &mut Trace, resp: &[u8]) {
        t.advance_us(40_000);
        self.send(t, false, resp);
    }

    /// Request, then a small HTML response.
    pub fn exchange(&mut self, t: &mut Trace, req: &Req, title: &str) {
        self.request(t, req);
        let r = super::http::html(t.now_ns, title);
        self.respond(t, &r);
        t.advance_us(300_000);
    }

    /// Client FIN, server FIN/ACK, client ACK.
    pub fn fin_close(&mut self, t: &mut Trace) {
        let f = self.seg_at(true, self.c_next, FIN | ACK, &[]);
        self.emit(t, &f);
        self.c_next = self.c_next.wrapping_add(1);
        t.advance_us(20_000);
        let f = self.seg_at(false, self.s_next, FIN | ACK, &[]);
        self.emit(t, &f);
        self.s_next = self.s_next.wrapping_add(1);
        self.ack(t, true);
    }

    /// A RST from one side.
    pub fn rst(&mut self, t: &mut Trace, from_client: bool) {
        let seq = if from_client {
            self.c_next
        } else {
            self.s_next
        };
        let s = self.seg_at(from_client, seq, RST | ACK, &[]);
        self.emit(t, &s);
    }
}
