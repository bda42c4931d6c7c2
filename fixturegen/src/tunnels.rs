//! Fixtures of mobile-core and mirrored-port captures: GTP-U, GRE and
//! ERSPAN, VXLAN, MPLS, IP-in-IP, PPPoE, nested encapsulations, IP
//! fragments, and hostile fragments (teardrop and friends).

use std::net::Ipv4Addr;

use super::Fixture;
use super::encap::{
    Encap, Kind, Piece, even_pieces, fragment_ipv4, fragment_ipv6, ipv4_header, wrap,
};
use super::http::{Req, UA_ANDROID, UA_IPHONE};
use super::packet::{self, CLIENT_MAC, ROUTER_MAC, SYN, TPID_8021AD, TPID_8021Q, TcpFields};
use super::scenarios::{Lcg, MSISDN, MSISDN2, T0, eth_pcap, fixture};
use super::tcp::{Conversation, Record, Trace};

/// The base station (eNodeB / gNodeB) end of the user-plane tunnels.
const ENB: Ipv4Addr = Ipv4Addr::new(172, 16, 1, 10);
/// The core end (SGW-U / UPF).
const UPF: Ipv4Addr = Ipv4Addr::new(172, 16, 2, 20);

fn gtp_layers(up: bool, teid: u32, seq: Option<u16>, qfi: Option<u8>) -> Vec<Encap> {
    let (src, dst) = if up { (ENB, UPF) } else { (UPF, ENB) };
    vec![
        Encap::Ipv4 {
            src,
            dst,
            id: if up { 0x1000 } else { 0x2000 },
        },
        Encap::Udp {
            src: 2152,
            dst: 2152,
        },
        Encap::Gtpu { teid, seq, qfi },
    ]
}

/// Uplink and downlink GTP-U layers of one bearer.
fn gtp(up: u32, down: u32, seq: Option<u16>, qfi: Option<u8>) -> (Vec<Encap>, Vec<Encap>) {
    (
        gtp_layers(true, up, seq, qfi),
        gtp_layers(false, down, seq, None),
    )
}

/// Pushes a frame that belongs to no conversation (signalling, noise, attacks).
fn raw(t: &mut Trace, frame: Vec<u8>) {
    let ts_ns = t.now_ns;
    t.now_ns += t.step_ns;
    t.records.push(Record {
        iface: 0,
        ts_ns,
        frame,
        conv: usize::MAX,
        from_client: false,
        seq: 0,
        len: 0,
    });
}

fn ethernet(ethertype: u16, payload: &[u8]) -> Vec<u8> {
    let mut f = ROUTER_MAC.to_vec();
    f.extend_from_slice(&CLIENT_MAC);
    f.extend_from_slice(&ethertype.to_be_bytes());
    f.extend_from_slice(payload);
    f
}

fn leaking(uri: &str, host: &str) -> Req {
    Req::get(uri, host)
        .h("User-Agent", UA_ANDROID)
        .h("Accept", "*/*")
        .leak("X-MSISDN", MSISDN)
}

fn clean(uri: &str, host: &str) -> Req {
    Req::get(uri, host)
        .h("User-Agent", UA_IPHONE)
        .h("Accept", "*/*")
}

/// One connection: handshake, one exchange, close.
fn one(t: &mut Trace, c: &mut Conversation, req: &Req) {
    c.handshake(t);
    c.exchange(t, req, "ok");
    c.fin_close(t);
    t.advance_us(200_000);
}

/// A request of more than `len` bytes (a long cookie of letters).
fn big(req: Req, rng: &mut Lcg, len: usize) -> Req {
    let pad = len.saturating_sub(req.bytes().len());
    req.h("Cookie", &format!("session={}", rng.letters(pad)))
}

// ── GTP-U ──────────────────────────────────────────────────────────────────

pub fn gtpu() -> Fixture {
    let mut t = Trace::new(T0 + 60_000, 0);
    let mut rng = Lcg(2152);
    let (up, down) = gtp(0x0000_1001, 0x0000_2001, None, None);
    let mut a =
        Conversation::new(&mut t, "10.45.0.7:40100", "192.0.2.60:80", 1000, 2000).encap(up, down);
    one(&mut t, &mut a, &leaking("/gtpu/plain", "news.example.com"));

    let (up, down) = gtp(0x0000_1002, 0x0000_2002, Some(7), None);
    let mut b =
        Conversation::new(&mut t, "10.45.0.7:40101", "192.0.2.61:80", 3000, 4000).encap(up, down);
    one(
        &mut t,
        &mut b,
        &clean("/gtpu/sequence", "static.example.com"),
    );

    let (up, down) = gtp(0x0000_1003, 0x0000_2003, None, Some(9));
    let mut c =
        Conversation::new(&mut t, "10.45.0.8:40102", "192.0.2.62:80", 5000, 6000).encap(up, down);
    one(
        &mut t,
        &mut c,
        &Req::get("/gtpu/5g-pdu-session", "api.example.com")
            .h("User-Agent", UA_ANDROID)
            .leak("X-Up-Calling-Line-Id", MSISDN2),
    );

    let (up, down) = gtp(0x0000_1004, 0x0000_2004, Some(1), Some(5));
    let mut d = Conversation::new(
        &mut t,
        "[2001:db8:45::7]:40103",
        "[2001:db8:ffff::80]:80",
        7000,
        8000,
    )
    .encap(up, down);
    one(&mut t, &mut d, &leaking("/gtpu/ipv6", "v6.example.com"));

    // Path management: echo request and response carry no user data.
    for (src, dst, msg) in [(ENB, UPF, 1u8), (UPF, ENB, 2)] {
        let echo = [0x32, msg, 0, 4, 0, 0, 0, 0, 0, 0x2a, 0, 0];
        let layers = [
            Encap::Ipv4 {
                src,
                dst,
                id: 0x3000,
            },
            Encap::Udp {
                src: 2152,
                dst: 2152,
            },
        ];
        let (outer, _) = wrap(&layers, &echo, Kind::OverUdp);
        raw(&mut t, ethernet(0x0800, &outer));
    }

    // A full-size uplink segment: with 36 bytes of tunnel headers the outer
    // packet passes a 1500-byte MTU and is fragmented (outer IPv4 fragments).
    let (up, down) = gtp(0x0000_1005, 0x0000_2005, None, None);
    let mut f =
        Conversation::new(&mut t, "10.45.0.9:40104", "192.0.2.64:80", 9000, 9500).encap(up, down);
    f.mss = 1460;
    f.handshake(&mut t);
    let req = big(
        leaking("/gtpu/outer-fragments", "www.example.com"),
        &mut rng,
        1460,
    );
    f.note_next(&mut t, &req);
    let segs = f.split(true, &req.bytes(), &[1460]);
    let layers = std::mem::take(&mut f.c2s.encap);
    for s in &segs {
        f.emit_split(&mut t, s, |ip| {
            let (outer, _) = wrap(&layers, &ip, Kind::Ipv4);
            fragment_ipv4(&outer, &even_pieces(outer.len() - 20, 1480), None)
        });
    }
    f.c2s.encap = layers;
    t.advance_us(15_000);
    f.ack(&mut t, false);
    let r = super::http::html(t.now_ns, "ok");
    f.respond(&mut t, &r);
    f.fin_close(&mut t);

    fixture(
        "gtpu.pcap",
        &t,
        eth_pcap(&t),
        "GTP-U user plane (UDP 2152 between 172.16.1.10 and 172.16.2.20): subscriber flows inside G-PDUs with no optional fields, with sequence numbers, with a 5G PDU session container extension header (E flag), an IPv6 subscriber, two echo messages, and a full-size uplink segment whose outer IPv4 packet is fragmented.",
        "Five requests; four leak (x-msisdn, x-up-calling-line-id). src/dst are the subscriber's inner addresses (10.45.0.x, 2001:db8:45::7), never the tunnel endpoints. The echo request/response count as decode.tunnel_control; the outer fragments are reassembled (decode.defrag.completed 1).",
    )
}

/// A second base station (the target of handovers).
const ENB2: Ipv4Addr = Ipv4Addr::new(172, 16, 1, 11);
/// A third base station.
const ENB3: Ipv4Addr = Ipv4Addr::new(172, 16, 1, 12);

/// Uplink and downlink GTP-U layers of one bearer on base station `enb`.
fn gtp_at(enb: Ipv4Addr, up: u32, down: u32) -> (Vec<Encap>, Vec<Encap>) {
    let layers = |src, dst, teid| {
        vec![
            Encap::Ipv4 {
                src,
                dst,
                id: 0x1000,
            },
            Encap::Udp {
                src: 2152,
                dst: 2152,
            },
            Encap::Gtpu {
                teid,
                seq: None,
                qfi: None,
            },
        ]
    };
    (layers(enb, UPF, up), layers(UPF, enb, down))
}

/// Moves a conversation's bearer to base station `enb` (new tunnel endpoint
/// identifiers, the same subscriber addresses): an S1/X2 handover.
fn hand_over(c: &mut Conversation, enb: Ipv4Addr, up: u32, down: u32) {
    let (u, d) = gtp_at(enb, up, down);
    c.c2s.encap = u;
    c.s2c.encap = d;
}

/// Sends a segment of a tunnelled conversation with its outer IPv4 packet
/// fragmented at `mtu` (an S1-U link without jumbo frames).
fn emit_outer_fragments(t: &mut Trace, c: &mut Conversation, s: &super::tcp::Seg, mtu: usize) {
    let layers = std::mem::take(&mut c.c2s.encap);
    c.emit_split(t, s, |ip| {
        let (outer, _) = wrap(&layers, &ip, Kind::Ipv4);
        fragment_ipv4(
            &outer,
            &even_pieces(outer.len() - 20, (mtu - 20) / 8 * 8),
            None,
        )
    });
    c.c2s.encap = layers;
}

pub fn gtpu_handover() -> Fixture {
    let mut t = Trace::new(T0 + 60_500, 0);
    let mut rng = Lcg(2153);
    // Background flows on all three base stations, interleaved with the handovers.
    let mut background = Vec::new();
    for (i, enb) in [ENB, ENB2, ENB3, ENB, ENB2, ENB3].into_iter().enumerate() {
        let (up, down) = gtp_at(enb, 0x3100 + i as u32, 0x4100 + i as u32);
        let c = Conversation::new(
            &mut t,
            &format!("10.46.0.{}:4100{i}", 20 + i),
            &format!("192.0.2.{}:80", 130 + i),
            100 * (i as u32 + 1),
            7000 * (i as u32 + 1),
        )
        .encap(up, down);
        background.push(c);
    }
    for c in &mut background {
        c.handshake(&mut t);
    }

    // The subscriber moves from the second base station to the third in the
    // middle of a request head: its first segment goes up through one tunnel,
    // the leaking header and the end of the head through the other.
    let (up, down) = gtp_at(ENB2, 0x0000_5001, 0x0000_6001);
    let mut h =
        Conversation::new(&mut t, "10.46.1.7:40200", "192.0.2.140:80", 1000, 2000).encap(up, down);
    h.handshake(&mut t);
    let req = Req::get("/handover/mid-head", "news.example.com")
        .h("User-Agent", UA_ANDROID)
        .h("Accept", "*/*")
        .h("Accept-Language", "en-GB")
        .leak("X-MSISDN", MSISDN)
        .h("Connection", "keep-alive");
    h.note_next(&mut t, &req);
    let bytes = req.bytes();
    let segs = h.split(true, &bytes, &[60, 50, 1000]);
    h.emit(&mut t, &segs[0]);
    background[0].request(&mut t, &clean("/bg/before-handover", "static.example.com"));
    t.advance_us(30_000);
    hand_over(&mut h, ENB3, 0x0000_5002, 0x0000_6002);
    for s in &segs[1..] {
        h.emit(&mut t, s);
    }
    t.advance_us(15_000);
    h.ack(&mut t, false);
    let r = super::http::html(t.now_ns, "ok");
    h.respond(&mut t, &r);
    // A second request on the same connection, after the handover.
    background[1].request(&mut t, &leaking("/bg/on-enb2", "api.example.com"));
    h.exchange(
        &mut t,
        &leaking("/handover/after", "news.example.com"),
        "ok",
    );
    h.fin_close(&mut t);

    // Full-size segments whose outer packets are fragmented (36 bytes of
    // tunnel headers push them past a 1500-byte MTU), on both sides of a
    // handover from the third base station to the first.
    let (up, down) = gtp_at(ENB3, 0x0000_5101, 0x0000_6101);
    let mut f =
        Conversation::new(&mut t, "10.46.1.8:40201", "192.0.2.141:80", 3000, 4000).encap(up, down);
    f.mss = 1460;
    f.handshake(&mut t);
    let req = big(
        Req::get("/handover/outer-fragments", "www.example.com")
            .h("User-Agent", UA_ANDROID)
            .h("Accept", "*/*"),
        &mut rng,
        3300,
    )
    .leak("X-MSISDN", MSISDN2);
    f.note_next(&mut t, &req);
    let segs = f.split(true, &req.bytes(), &[1460]);
    emit_outer_fragments(&mut t, &mut f, &segs[0], 1500);
    background[2].request(&mut t, &leaking("/bg/on-enb3", "api.example.com"));
    hand_over(&mut f, ENB, 0x0000_5102, 0x0000_6102);
    for s in &segs[1..] {
        emit_outer_fragments(&mut t, &mut f, s, 1500);
    }
    t.advance_us(15_000);
    f.ack(&mut t, false);
    let r = super::http::html(t.now_ns, "ok");
    f.respond(&mut t, &r);
    f.fin_close(&mut t);

    for (i, c) in background.iter_mut().enumerate().skip(3) {
        c.request(
            &mut t,
            &clean(&format!("/bg/late-{i}"), "static.example.com"),
        );
    }
    for c in &mut background {
        c.fin_close(&mut t);
    }

    fixture(
        "gtpu-handover.pcap",
        &t,
        eth_pcap(&t),
        "GTP-U between three base stations (172.16.1.10, .11, .12) and one gateway (172.16.2.20): a subscriber handed over from the second base station to the third between two segments of one request head (the leaking header travels through the second tunnel), and one whose full-size segments, their outer packets IP-fragmented at a 1500-byte MTU, are split across a handover from the third to the first; six background connections on all three.",
        "Every request is found at every thread count: flows are keyed and routed by the subscriber's inner addresses, never by the tunnel endpoints, and outer fragments are reassembled before routing (decode.defrag.completed counts them).",
    )
}

// ── GRE, ERSPAN, GRE over UDP ──────────────────────────────────────────────

pub fn gre_erspan() -> Fixture {
    let mut t = Trace::new(T0 + 61_000, 0);
    let r1 = Ipv4Addr::new(198, 18, 0, 1);
    let r2 = Ipv4Addr::new(198, 18, 0, 2);
    let outer = |src, dst| Encap::Ipv4 {
        src,
        dst,
        id: 0x4000,
    };
    let inner_eth = |src: [u8; 6], dst: [u8; 6]| Encap::Ethernet {
        src,
        dst,
        vlans: Vec::new(),
    };

    let gre = |src, dst| {
        vec![
            outer(src, dst),
            Encap::Gre {
                key: Some(42),
                seq: None,
            },
        ]
    };
    let mut a = Conversation::new(&mut t, "10.60.0.5:41000", "192.0.2.70:80", 100, 200)
        .encap(gre(r1, r2), gre(r2, r1));
    one(&mut t, &mut a, &leaking("/gre/ipv4", "www.example.com"));

    let teb = |src, dst, s: [u8; 6], d: [u8; 6]| {
        vec![
            outer(src, dst),
            Encap::Gre {
                key: Some(7),
                seq: Some(1),
            },
            inner_eth(s, d),
        ]
    };
    let mut b = Conversation::new(&mut t, "10.60.0.6:41001", "192.0.2.71:80", 300, 400).encap(
        teb(r1, r2, CLIENT_MAC, ROUTER_MAC),
        teb(r2, r1, ROUTER_MAC, CLIENT_MAC),
    );
    one(
        &mut t,
        &mut b,
        &clean("/gre/ethernet-bridging", "www.example.com"),
    );

    // Mirrored ports: every mirrored frame goes from the switch to the collector.
    let switch = Ipv4Addr::new(198, 18, 1, 1);
    let collector = Ipv4Addr::new(198, 18, 1, 200);
    for (i, version) in [1u8, 2, 3].into_iter().enumerate() {
        let mirror = |s: [u8; 6], d: [u8; 6]| {
            vec![
                outer(switch, collector),
                Encap::Erspan {
                    version,
                    session: 100 + u16::from(version),
                },
                inner_eth(s, d),
            ]
        };
        let mut c = Conversation::new(
            &mut t,
            &format!("10.60.1.{}:4200{i}", 10 + i),
            &format!("192.0.2.{}:80", 80 + i),
            1000 * (i as u32 + 1),
            5000 * (i as u32 + 1),
        )
        .encap(
            mirror(CLIENT_MAC, ROUTER_MAC),
            mirror(ROUTER_MAC, CLIENT_MAC),
        );
        one(
            &mut t,
            &mut c,
            &leaking(&format!("/erspan/type-{version}"), "mirror.example.com"),
        );
    }

    let gre_udp = |src, dst, sport| {
        vec![
            outer(src, dst),
            Encap::Udp {
                src: sport,
                dst: 4754,
            },
            Encap::Gre {
                key: None,
                seq: None,
            },
        ]
    };
    let mut d = Conversation::new(&mut t, "10.60.2.5:43000", "192.0.2.90:80", 700, 800)
        .encap(gre_udp(r1, r2, 50_001), gre_udp(r2, r1, 50_002));
    one(&mut t, &mut d, &leaking("/gre/over-udp", "www.example.com"));

    fixture(
        "gre-erspan.pcap",
        &t,
        eth_pcap(&t),
        "GRE between 198.18.0.1 and 198.18.0.2: IPv4 in keyed GRE (RFC 2890), Ethernet in GRE (transparent bridging 0x6558, key and sequence number); ERSPAN mirror sessions of types I, II and III from 198.18.1.1 to a collector; GRE over UDP port 4754 (RFC 8086).",
        "Six requests; five leak x-msisdn. Each ERSPAN session mirrors both directions of one connection; src/dst are the mirrored inner addresses.",
    )
}

// ── VXLAN ──────────────────────────────────────────────────────────────────

pub fn vxlan() -> Fixture {
    let mut t = Trace::new(T0 + 62_000, 0);
    let vtep1 = Ipv4Addr::new(198, 18, 2, 1);
    let vtep2 = Ipv4Addr::new(198, 18, 2, 2);
    let layers = |src, dst, sport, vni, s: [u8; 6], d: [u8; 6], vlans: Vec<u16>| {
        vec![
            Encap::Ipv4 {
                src,
                dst,
                id: 0x5000,
            },
            Encap::Udp {
                src: sport,
                dst: 4789,
            },
            Encap::Vxlan { vni },
            Encap::Ethernet {
                src: s,
                dst: d,
                vlans,
            },
        ]
    };
    let mut a = Conversation::new(&mut t, "10.70.0.5:44000", "192.0.2.100:80", 10, 20).encap(
        layers(vtep1, vtep2, 49_200, 5001, CLIENT_MAC, ROUTER_MAC, vec![]),
        layers(vtep2, vtep1, 49_201, 5001, ROUTER_MAC, CLIENT_MAC, vec![]),
    );
    one(&mut t, &mut a, &leaking("/vxlan/ipv4", "www.example.com"));
    let mut b = Conversation::new(
        &mut t,
        "[2001:db8:70::5]:44001",
        "[2001:db8:ffff::100]:80",
        30,
        40,
    )
    .encap(
        layers(vtep1, vtep2, 49_202, 5002, CLIENT_MAC, ROUTER_MAC, vec![42]),
        layers(vtep2, vtep1, 49_203, 5002, ROUTER_MAC, CLIENT_MAC, vec![42]),
    );
    one(
        &mut t,
        &mut b,
        &leaking("/vxlan/ipv6-vlan", "v6.example.com"),
    );
    fixture(
        "vxlan.pcap",
        &t,
        eth_pcap(&t),
        "VXLAN (UDP 4789, VNI 5001 and 5002) between two VTEPs: an IPv4 flow in the inner Ethernet frame, and an IPv6 flow whose inner frame carries an 802.1Q tag (VLAN 42).",
        "Two requests, both leak x-msisdn; src/dst are the inner addresses.",
    )
}

// ── MPLS ───────────────────────────────────────────────────────────────────

pub fn mpls() -> Fixture {
    let mut t = Trace::new(T0 + 63_000, 0);
    let mut a = Conversation::new(&mut t, "10.80.0.5:45000", "192.0.2.110:80", 10, 20)
        .encap(vec![Encap::Mpls(vec![1001])], vec![Encap::Mpls(vec![1002])]);
    one(
        &mut t,
        &mut a,
        &leaking("/mpls/one-label", "www.example.com"),
    );
    let mut b = Conversation::new(
        &mut t,
        "[2001:db8:80::5]:45001",
        "[2001:db8:ffff::110]:80",
        30,
        40,
    )
    .encap(
        vec![Encap::Mpls(vec![2001, 17, 300])],
        vec![Encap::Mpls(vec![2002, 18, 301])],
    );
    one(
        &mut t,
        &mut b,
        &leaking("/mpls/three-labels-ipv6", "v6.example.com"),
    );
    let pw = |s: [u8; 6], d: [u8; 6]| {
        vec![
            Encap::MplsPw(vec![3001, 99]),
            Encap::Ethernet {
                src: s,
                dst: d,
                vlans: vec![7],
            },
        ]
    };
    let mut c = Conversation::new(&mut t, "10.80.0.6:45002", "192.0.2.111:80", 50, 60)
        .encap(pw(CLIENT_MAC, ROUTER_MAC), pw(ROUTER_MAC, CLIENT_MAC));
    one(
        &mut t,
        &mut c,
        &clean("/mpls/pseudowire", "www.example.com"),
    );
    fixture(
        "mpls.pcap",
        &t,
        eth_pcap(&t),
        "MPLS (EtherType 0x8847): IPv4 under one label, IPv6 under a three-label stack, and an Ethernet pseudowire (two labels, a control word, an inner Ethernet frame with VLAN 7) carrying IPv4.",
        "Three requests; the first two leak x-msisdn. The payload under the stack is guessed from its first nibble (4 IPv4, 6 IPv6, 0 control word then Ethernet).",
    )
}

// ── IP in IP ───────────────────────────────────────────────────────────────

pub fn ipip() -> Fixture {
    let mut t = Trace::new(T0 + 64_000, 0);
    let a_end = Ipv4Addr::new(198, 18, 3, 1);
    let b_end = Ipv4Addr::new(198, 18, 3, 2);
    let tun = |src, dst| {
        vec![Encap::Ipv4 {
            src,
            dst,
            id: 0x6000,
        }]
    };
    let mut a = Conversation::new(&mut t, "10.90.0.5:46000", "192.0.2.120:80", 10, 20)
        .encap(tun(a_end, b_end), tun(b_end, a_end));
    one(&mut t, &mut a, &leaking("/ipip/4in4", "www.example.com"));
    let mut b = Conversation::new(
        &mut t,
        "[2001:db8:90::5]:46001",
        "[2001:db8:ffff::120]:80",
        30,
        40,
    )
    .encap(tun(a_end, b_end), tun(b_end, a_end));
    one(&mut t, &mut b, &leaking("/ipip/6in4", "v6.example.com"));
    fixture(
        "ipip-6in4.pcap",
        &t,
        eth_pcap(&t),
        "IP-in-IP: an IPv4 flow inside IPv4 (protocol 4) and an IPv6 flow inside IPv4 (protocol 41, 6in4) between 198.18.3.1 and 198.18.3.2.",
        "Two requests, both leak x-msisdn; src/dst are the inner addresses.",
    )
}

// ── PPPoE ──────────────────────────────────────────────────────────────────

pub fn pppoe() -> Fixture {
    let mut t = Trace::new(T0 + 65_000, 0);
    // Discovery (PADI, EtherType 0x8863): no IP.
    raw(
        &mut t,
        ethernet(0x8863, &[0x11, 0x09, 0, 0, 0, 4, 0x01, 0x01, 0, 0]),
    );
    // LCP echo request in the session: PPP but not IP.
    raw(
        &mut t,
        ethernet(
            0x8864,
            &[
                0x11, 0, 0x12, 0x34, 0, 10, 0xc0, 0x21, 9, 1, 0, 8, 0, 0, 0, 0,
            ],
        ),
    );
    let s = || vec![Encap::Pppoe { session: 0x1234 }];
    let mut a =
        Conversation::new(&mut t, "100.64.0.5:47000", "192.0.2.130:80", 10, 20).encap(s(), s());
    one(&mut t, &mut a, &leaking("/pppoe/ipv4", "www.example.com"));
    let mut b = Conversation::new(
        &mut t,
        "[2001:db8:100::5]:47001",
        "[2001:db8:ffff::130]:80",
        30,
        40,
    )
    .encap(s(), s());
    one(&mut t, &mut b, &leaking("/pppoe/ipv6", "v6.example.com"));
    fixture(
        "pppoe.pcap",
        &t,
        eth_pcap(&t),
        "PPPoE: a discovery packet (PADI), an LCP echo request in session 0x1234, then an IPv4 flow (PPP 0x0021) and an IPv6 flow (PPP 0x0057) in the session.",
        "Two requests, both leak x-msisdn. The PADI and the LCP echo count as decode.not_ip.",
    )
}

// ── Nested ─────────────────────────────────────────────────────────────────

pub fn nested() -> Fixture {
    let mut t = Trace::new(T0 + 66_000, 0);
    let q = |vid| (TPID_8021Q, vid);
    // VLAN → MPLS → IPv4 → UDP → GTP-U (sequence, PDU session container) → IPv4 → TCP.
    let up = |up: bool| {
        let mut l = vec![Encap::Mpls(vec![if up { 1001 } else { 1002 }])];
        l.extend(gtp_layers(
            up,
            if up { 0x0a01 } else { 0x0b01 },
            Some(3),
            if up { Some(1) } else { None },
        ));
        l
    };
    let mut a = Conversation::new(&mut t, "10.45.1.7:48000", "192.0.2.140:80", 10, 20)
        .vlans(&[q(100)], &[q(100)])
        .encap(up(true), up(false));
    one(
        &mut t,
        &mut a,
        &leaking("/nested/vlan-mpls-gtpu", "www.example.com"),
    );

    // QinQ → MPLS ×2 → IPv4 → GRE → ERSPAN III → Ethernet + VLAN → IPv4 → UDP → GTP-U → IPv6 → TCP.
    let switch = Ipv4Addr::new(198, 18, 1, 1);
    let collector = Ipv4Addr::new(198, 18, 1, 200);
    let deep = |up: bool| {
        let (s, d) = if up {
            (CLIENT_MAC, ROUTER_MAC)
        } else {
            (ROUTER_MAC, CLIENT_MAC)
        };
        let mut l = vec![
            Encap::Mpls(vec![2001, 2002]),
            Encap::Ipv4 {
                src: switch,
                dst: collector,
                id: 0x7000,
            },
            Encap::Erspan {
                version: 3,
                session: 9,
            },
            Encap::Ethernet {
                src: s,
                dst: d,
                vlans: vec![30],
            },
        ];
        l.extend(gtp_layers(
            up,
            if up { 0x0a02 } else { 0x0b02 },
            None,
            if up { Some(2) } else { None },
        ));
        l
    };
    let qinq = [(TPID_8021AD, 200), (TPID_8021Q, 300)];
    let mut b = Conversation::new(
        &mut t,
        "[2001:db8:45::1:7]:48001",
        "[2001:db8:ffff::141]:80",
        30,
        40,
    )
    .vlans(&qinq, &qinq)
    .encap(deep(true), deep(false));
    one(
        &mut t,
        &mut b,
        &leaking("/nested/qinq-mpls-erspan-gtpu-ipv6", "v6.example.com"),
    );

    // VXLAN → Ethernet → PPPoE → IPv4 → TCP.
    let v = |up: bool| {
        let (s, d) = if up {
            (CLIENT_MAC, ROUTER_MAC)
        } else {
            (ROUTER_MAC, CLIENT_MAC)
        };
        vec![
            Encap::Ipv4 {
                src: Ipv4Addr::new(198, 18, 2, 1),
                dst: Ipv4Addr::new(198, 18, 2, 2),
                id: 0x7100,
            },
            Encap::Udp {
                src: 49_300,
                dst: 4789,
            },
            Encap::Vxlan { vni: 77 },
            Encap::Ethernet {
                src: s,
                dst: d,
                vlans: Vec::new(),
            },
            Encap::Pppoe { session: 0x0042 },
        ]
    };
    let mut c = Conversation::new(&mut t, "100.64.1.5:48002", "192.0.2.142:80", 50, 60)
        .encap(v(true), v(false));
    one(
        &mut t,
        &mut c,
        &clean("/nested/vxlan-pppoe", "www.example.com"),
    );

    // Malicious nesting: a SYN inside nine IP-in-IP headers (the limit is 8).
    let syn = packet::ip_tcp(&TcpFields {
        src: "10.99.0.1:1234".parse().unwrap(),
        dst: "192.0.2.199:80".parse().unwrap(),
        seq: 1,
        ack: 0,
        flags: SYN,
        window: 1024,
        ip_id: 1,
        v6_ext: false,
        payload: b"",
    });
    let layers: Vec<Encap> = (0..9u8)
        .map(|i| Encap::Ipv4 {
            src: Ipv4Addr::new(198, 18, 9, i),
            dst: Ipv4Addr::new(198, 18, 9, 100 + i),
            id: u16::from(i),
        })
        .collect();
    let (deep_ip, _) = wrap(&layers, &syn, Kind::Ipv4);
    raw(&mut t, ethernet(0x0800, &deep_ip));

    fixture(
        "nested.pcap",
        &t,
        eth_pcap(&t),
        "Nested encapsulations decoded in one pass: VLAN 100 → MPLS → IPv4 → UDP → GTP-U (sequence number, PDU session container) → IPv4 → TCP; QinQ → two MPLS labels → IPv4 → ERSPAN type III → Ethernet + VLAN 30 → IPv4 → UDP → GTP-U → IPv6 → TCP; VXLAN → Ethernet → PPPoE → IPv4 → TCP; and one SYN inside nine IP-in-IP headers.",
        "Three requests; the first two leak x-msisdn. The nine-deep packet passes the limit of 8 tunnels and is counted as decode.too_deep (it carries no request).",
    )
}

// ── IP fragments ───────────────────────────────────────────────────────────

pub fn ip_fragments() -> Fixture {
    let mut t = Trace::new(T0 + 67_000, 0);
    let mut rng = Lcg(44);
    let mut send = |t: &mut Trace,
                    client: &str,
                    server: &str,
                    req: Req,
                    split: &dyn Fn(Vec<u8>) -> Vec<Vec<u8>>| {
        let mut c = Conversation::new(t, client, server, 10, 20);
        c.handshake(t);
        let req = big(req, &mut rng, 900);
        c.note_next(t, &req);
        let segs = c.split(true, &req.bytes(), &[1400]);
        for s in &segs {
            c.emit_split(t, s, split);
        }
        t.advance_us(15_000);
        c.ack(t, false);
        let r = super::http::html(t.now_ns, "ok");
        c.respond(t, &r);
        c.fin_close(t);
        t.advance_us(200_000);
    };
    let v4_in_order = |ip: Vec<u8>| fragment_ipv4(&ip, &even_pieces(ip.len() - 20, 256), None);
    send(
        &mut t,
        "10.110.0.5:49000",
        "192.0.2.150:80",
        leaking("/fragments/in-order", "www.example.com"),
        &v4_in_order,
    );
    let v4_reversed = |ip: Vec<u8>| {
        let mut pieces = even_pieces(ip.len() - 20, 256);
        pieces.reverse();
        fragment_ipv4(&ip, &pieces, None)
    };
    send(
        &mut t,
        "10.110.0.6:49001",
        "192.0.2.151:80",
        leaking("/fragments/out-of-order", "www.example.com"),
        &v4_reversed,
    );
    // Overlaps: later copies of ranges already held carry other bytes ('z')
    // and are dropped; a consistent partial overlap is harmless.
    let v4_overlap = |ip: Vec<u8>| {
        let len = ip.len() - 20;
        let p = |start, end, more| Piece { start, end, more };
        let mut out = Vec::new();
        out.extend(fragment_ipv4(&ip, &[p(256, 512, true)], None));
        out.extend(fragment_ipv4(&ip, &[p(256, 512, true)], Some(b'z')));
        out.extend(fragment_ipv4(&ip, &[p(0, 256, true)], None));
        out.extend(fragment_ipv4(&ip, &[p(128, 384, true)], Some(b'z')));
        out.extend(fragment_ipv4(&ip, &[p(384, 768, true)], None));
        out.extend(fragment_ipv4(&ip, &[p(512, len, false)], None));
        out
    };
    send(
        &mut t,
        "10.110.0.7:49002",
        "192.0.2.152:80",
        leaking("/fragments/overlapping", "www.example.com"),
        &v4_overlap,
    );
    let v6 = |ip: Vec<u8>| {
        let mut pieces = even_pieces(ip.len() - 40, 304);
        pieces.swap(0, 1);
        fragment_ipv6(&ip, &pieces, 0x00c0_ffee)
    };
    send(
        &mut t,
        "[2001:db8:110::5]:49003",
        "[2001:db8:ffff::150]:80",
        leaking("/fragments/ipv6", "v6.example.com"),
        &v6,
    );
    // A UDP datagram whose last fragment never comes.
    let mut udp = 5353u16.to_be_bytes().to_vec();
    udp.extend_from_slice(&5353u16.to_be_bytes());
    udp.extend_from_slice(&(8u16 + 1000).to_be_bytes());
    udp.extend_from_slice(&[0, 0]);
    udp.extend(std::iter::repeat_n(b'u', 1000));
    let src = Ipv4Addr::new(10, 110, 0, 9);
    let dst = Ipv4Addr::new(192, 0, 2, 159);
    let mut first = ipv4_header(src, dst, 0x0909, 17, 512, 0, true);
    first.extend_from_slice(&udp[..512]);
    raw(&mut t, ethernet(0x0800, &first));

    fixture(
        "ip-fragments.pcap",
        &t,
        eth_pcap(&t),
        "IP fragmentation of request segments: IPv4 fragments in order, in reverse order, with overlapping copies (a later copy of a range already held carries other bytes), IPv6 fragments (fragment extension header, first two swapped), and the first fragment of a UDP datagram whose other fragments never come.",
        "Four requests, all leak x-msisdn with the original bytes (first seen wins: the 'z' copies are dropped, decode.defrag.overlap_bytes). The unfinished UDP datagram is counted as decode.defrag.incomplete_at_end.",
    )
}

// ── Teardrop and other impossible fragments ────────────────────────────────

pub fn teardrop() -> Fixture {
    let mut t = Trace::new(T0 + 68_000, 0);
    let attacker = Ipv4Addr::new(203, 0, 113, 66);
    let victim = Ipv4Addr::new(192, 0, 2, 160);
    let frag = |id: u16, offset: usize, more: bool, len: usize| {
        let mut f = ipv4_header(attacker, victim, id, 17, len, offset, more);
        f.extend(std::iter::repeat_n(0x41u8, len));
        ethernet(0x0800, &f)
    };
    for id in 0..20u16 {
        // Teardrop: the second fragment lies inside the first and ends before it.
        raw(&mut t, frag(0x100 + id, 0, true, 36));
        raw(&mut t, frag(0x100 + id, 24, false, 4));
    }
    // Ping of death: a fragment that would end past 65 535 bytes.
    raw(&mut t, frag(0x200, 65_528, false, 100));
    // An empty fragment and a misaligned non-last fragment.
    raw(&mut t, frag(0x201, 0, true, 0));
    raw(&mut t, frag(0x202, 0, true, 13));
    // The same range again and again (nothing new is stored).
    for _ in 0..20 {
        raw(&mut t, frag(0x203, 8, true, 64));
    }
    let mut c = Conversation::new(&mut t, "10.120.0.5:50000", "192.0.2.161:80", 10, 20);
    one(
        &mut t,
        &mut c,
        &leaking("/after-the-attack", "www.example.com"),
    );
    fixture(
        "teardrop.pcap",
        &t,
        eth_pcap(&t),
        "Hostile fragments from 203.0.113.66: 20 teardrop pairs (the second fragment inside the first, ending before it), a ping-of-death fragment ending past 65 535 bytes, an empty fragment, a misaligned non-last fragment, and 20 copies of one fragment; then an ordinary leaking request.",
        "One request (leaks x-msisdn). The impossible fragments are dropped as decode.defrag.invalid_fragments; the repeated fragment is stored once (decode.defrag.overlap_bytes); nothing crashes and nothing grows.",
    )
}
