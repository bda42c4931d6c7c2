//! Fixtures of link layers beyond Ethernet and of overlay tunnels: 802.11
//! (radiotap and plain, QoS and 4-address data frames, protected frames),
//! Aruba's 802.11-in-GRE, Linux NFLOG, Cisco HDLC, Linux ARCNET, 802.3 with
//! LLC/SNAP, Geneve, VXLAN on the Linux port, VXLAN-GPE and AYIYA.
//!
//! Conversations are built on raw IP (the frame is the IP packet) and each
//! record is then framed here, so the conversation model stays as it is.

use std::net::Ipv4Addr;

use super::Fixture;
use super::encap::{Encap, Kind, ip_kind, wrap};
use super::http::{Req, UA_ANDROID, UA_IPHONE};
use super::packet::{CLIENT_MAC, Link, ROUTER_MAC};
use super::pcap::{Endian, PcapNgWriter, PcapWriter, SNAPLEN};
use super::scenarios::{MSISDN, T0, fixture};
use super::tcp::{Conversation, Record, Trace};

/// The access point's BSSID.
const AP_MAC: [u8; 6] = [0x02, 0x00, 0x5e, 0x10, 0x00, 0xa0];
/// A second access point (the far end of a wireless bridge).
const AP2_MAC: [u8; 6] = [0x02, 0x00, 0x5e, 0x10, 0x00, 0xa1];

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

/// One connection on raw IP: handshake, one exchange, close. Returns the
/// range of its records.
fn one(t: &mut Trace, client: &str, server: &str, isn: u32, req: &Req) -> std::ops::Range<usize> {
    let start = t.records.len();
    let mut c = Conversation::new(t, client, server, isn, isn ^ 0x0f0f_0000).link(Link::Raw);
    c.handshake(t);
    c.exchange(t, req, "ok");
    c.fin_close(t);
    t.advance_us(200_000);
    start..t.records.len()
}

/// Reframes the records in `range`: `f(from_client, ip)` gives the frame.
fn reframe(t: &mut Trace, range: std::ops::Range<usize>, mut f: impl FnMut(&Record) -> Vec<u8>) {
    for r in &mut t.records[range] {
        r.frame = f(r);
    }
}

/// Pushes a frame that belongs to no conversation.
fn raw(t: &mut Trace, iface: usize, frame: Vec<u8>) {
    let ts_ns = t.now_ns;
    t.now_ns += t.step_ns;
    t.records.push(Record {
        iface,
        ts_ns,
        frame,
        conv: usize::MAX,
        from_client: false,
        seq: 0,
        len: 0,
    });
}

/// Deterministic filler bytes (ciphertext, keepalive bodies).
fn filler(seed: u32, n: usize) -> Vec<u8> {
    let mut s = seed | 1;
    (0..n)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 17;
            s ^= s << 5;
            s as u8
        })
        .collect()
}

fn ethernet(dst: [u8; 6], src: [u8; 6], ethertype: u16, payload: &[u8]) -> Vec<u8> {
    let mut f = dst.to_vec();
    f.extend_from_slice(&src);
    f.extend_from_slice(&ethertype.to_be_bytes());
    f.extend_from_slice(payload);
    f
}

fn ethertype_of(ip: &[u8]) -> u16 {
    ip_kind(ip).ethertype()
}

/// An LLC/SNAP header naming `ethertype`, then `payload`.
fn snap(ethertype: u16, payload: &[u8]) -> Vec<u8> {
    let mut f = vec![0xaa, 0xaa, 0x03, 0, 0, 0];
    f.extend_from_slice(&ethertype.to_be_bytes());
    f.extend_from_slice(payload);
    f
}

/// CRC-32 (IEEE 802.3), the 802.11 frame check sequence.
fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xffff_ffffu32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xedb8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

// ── 802.11 ─────────────────────────────────────────────────────────────────

/// How an 802.11 data frame is built.
#[derive(Clone, Copy, Default)]
struct Wifi {
    qos: bool,
    /// Four addresses (a wireless bridge: to and from the distribution system).
    wds: bool,
    /// HT control field (QoS frames with the Order flag).
    ht: bool,
    protected: bool,
    /// The payload is an A-MSDU of one subframe.
    amsdu: bool,
}

/// An 802.11 data frame header: from the client to the AP (to-DS), from the
/// AP to the client (from-DS), or, for `wds`, between two APs.
fn dot11_header(w: Wifi, from_client: bool, seq: u16) -> Vec<u8> {
    let mut flags = if w.wds {
        0x03
    } else if from_client {
        0x01
    } else {
        0x02
    };
    if w.protected {
        flags |= 0x40;
    }
    if w.ht {
        flags |= 0x80;
    }
    let mut h = vec![if w.qos { 0x88 } else { 0x08 }, flags, 0x2c, 0x00];
    let (a1, a2, a3, a4) = match (w.wds, from_client) {
        (true, true) => (AP2_MAC, AP_MAC, ROUTER_MAC, Some(CLIENT_MAC)),
        (true, false) => (AP_MAC, AP2_MAC, CLIENT_MAC, Some(ROUTER_MAC)),
        (false, true) => (AP_MAC, CLIENT_MAC, ROUTER_MAC, None),
        (false, false) => (CLIENT_MAC, AP_MAC, ROUTER_MAC, None),
    };
    h.extend_from_slice(&a1);
    h.extend_from_slice(&a2);
    h.extend_from_slice(&a3);
    h.extend_from_slice(&((seq & 0x0fff) << 4).to_le_bytes());
    if let Some(a4) = a4 {
        h.extend_from_slice(&a4);
    }
    if w.qos {
        h.extend_from_slice(&[if w.amsdu { 0x80 } else { 0x00 }, 0x00]); // TID 0, A-MSDU flag
        if w.ht {
            h.extend_from_slice(&[0, 0, 0, 0]);
        }
    }
    h
}

/// A radiotap header: Flags, Rate, Channel, antenna signal.
fn radiotap(fcs: bool, data_pad: bool) -> Vec<u8> {
    let mut flags = 0u8;
    if fcs {
        flags |= 0x10;
    }
    if data_pad {
        flags |= 0x20;
    }
    let mut h = vec![0, 0, 0, 0];
    h.extend_from_slice(&0x0000_002eu32.to_le_bytes()); // flags, rate, channel, dBm signal
    h.push(flags);
    h.push(0x6c); // 54 Mb/s
    h.extend_from_slice(&2437u16.to_le_bytes()); // channel 6
    h.extend_from_slice(&0x00c0u16.to_le_bytes()); // OFDM, 2 GHz
    h.push(0xc4u8); // -60 dBm
    let len = h.len() as u16;
    h[2..4].copy_from_slice(&len.to_le_bytes());
    h
}

/// An 802.11 data frame carrying `ip` (LLC/SNAP), with a radiotap header
/// when `rt` says how (FCS, data padding).
fn wifi_frame(
    w: Wifi,
    from_client: bool,
    seq: u16,
    ip: &[u8],
    rt: Option<(bool, bool)>,
) -> Vec<u8> {
    let header = dot11_header(w, from_client, seq);
    let mut body = snap(ethertype_of(ip), ip);
    if w.amsdu {
        let (da, sa) = if from_client {
            (ROUTER_MAC, CLIENT_MAC)
        } else {
            (CLIENT_MAC, ROUTER_MAC)
        };
        let mut sub = da.to_vec();
        sub.extend_from_slice(&sa);
        sub.extend_from_slice(&(body.len() as u16).to_be_bytes());
        sub.extend_from_slice(&body);
        body = sub;
    }
    let mut mac = header.clone();
    mac.extend_from_slice(&body);
    let Some((fcs, pad)) = rt else {
        return mac;
    };
    let mut f = radiotap(fcs, pad);
    f.extend_from_slice(&header);
    if pad {
        // Zeros up to a 4-byte boundary from the start of the 802.11 header.
        f.extend(std::iter::repeat_n(0, (4 - header.len() % 4) % 4));
    }
    f.extend_from_slice(&body);
    if fcs {
        f.extend_from_slice(&crc32(&mac).to_le_bytes());
    }
    f
}

/// A beacon (management frame): not IP.
fn beacon(seq: u16) -> Vec<u8> {
    let mut f = vec![0x80, 0, 0, 0];
    f.extend_from_slice(&[0xff; 6]);
    f.extend_from_slice(&AP_MAC);
    f.extend_from_slice(&AP_MAC);
    f.extend_from_slice(&((seq & 0x0fff) << 4).to_le_bytes());
    f.extend_from_slice(&[0; 8]); // timestamp
    f.extend_from_slice(&100u16.to_le_bytes()); // interval
    f.extend_from_slice(&0x0401u16.to_le_bytes()); // ESS, short slot
    f.extend_from_slice(&[0, 8]);
    f.extend_from_slice(b"fixtures");
    f
}

/// A protected (CCMP) QoS data frame: header, CCMP header, ciphertext, MIC.
fn protected(from_client: bool, seq: u16) -> Vec<u8> {
    let w = Wifi {
        qos: true,
        protected: true,
        ..Wifi::default()
    };
    let mut f = dot11_header(w, from_client, seq);
    f.extend_from_slice(&[seq as u8, 0, 0, 0x20, 0, 0, 0, 0]); // PN0 PN1 rsvd keyid|ExtIV PN2..5
    f.extend_from_slice(&filler(u32::from(seq), 120));
    f
}

pub fn wifi() -> Fixture {
    let mut t = Trace::new(T0 + 70_000, 0);
    let mut seq = 0u16;
    let mut next = || {
        seq = seq.wrapping_add(1);
        seq
    };
    raw(&mut t, 0, {
        let mut f = radiotap(false, false);
        f.extend_from_slice(&beacon(next()));
        f
    });
    // Radiotap: plain data frames.
    let a = one(
        &mut t,
        "10.90.0.5:46000",
        "192.0.2.120:80",
        100,
        &leaking("/wifi/radiotap-data", "www.example.com"),
    );
    reframe(&mut t, a, |r| {
        wifi_frame(
            Wifi::default(),
            r.from_client,
            next(),
            &r.frame,
            Some((false, false)),
        )
    });
    // Radiotap: QoS data, the payload padded to 4 bytes, an FCS at the end.
    let b = one(
        &mut t,
        "10.90.0.5:46001",
        "192.0.2.121:80",
        200,
        &clean("/wifi/radiotap-qos", "www.example.com"),
    );
    let qos = Wifi {
        qos: true,
        ..Wifi::default()
    };
    reframe(&mut t, b, |r| {
        wifi_frame(qos, r.from_client, next(), &r.frame, Some((true, true)))
    });
    // Radiotap: IPv6 in QoS data.
    let c = one(
        &mut t,
        "[2001:db8:90::5]:46002",
        "[2001:db8:ffff::122]:80",
        300,
        &leaking("/wifi/radiotap-ipv6", "v6.example.com"),
    );
    reframe(&mut t, c, |r| {
        wifi_frame(qos, r.from_client, next(), &r.frame, Some((false, false)))
    });
    // Radiotap: QoS data frames each holding an A-MSDU of one subframe.
    let amsdu = Wifi {
        qos: true,
        amsdu: true,
        ..Wifi::default()
    };
    let c2 = one(
        &mut t,
        "10.90.0.6:46004",
        "192.0.2.124:80",
        500,
        &leaking("/wifi/a-msdu", "www.example.com"),
    );
    reframe(&mut t, c2, |r| {
        wifi_frame(amsdu, r.from_client, next(), &r.frame, Some((false, false)))
    });
    // Encrypted traffic: counted, not decoded.
    for i in 0..3 {
        let mut f = radiotap(false, false);
        f.extend_from_slice(&protected(i % 2 == 0, next()));
        raw(&mut t, 0, f);
    }
    // Plain 802.11 (no radiotap): a wireless bridge, 4 addresses, QoS with HT control.
    let d = one(
        &mut t,
        "10.90.1.5:46003",
        "192.0.2.123:80",
        400,
        &leaking("/wifi/four-address", "bridge.example.com"),
    );
    let wds = Wifi {
        qos: true,
        wds: true,
        ht: true,
        ..Wifi::default()
    };
    for r in &mut t.records[d.clone()] {
        r.iface = 1;
    }
    reframe(&mut t, d, |r| {
        wifi_frame(wds, r.from_client, next(), &r.frame, None)
    });
    raw(&mut t, 1, protected(true, next()));

    let mut w = PcapNgWriter::new();
    w.section("phoneleak fixturegen");
    w.interface(127, SNAPLEN, None, "wlan0mon");
    w.interface(105, SNAPLEN, None, "wlan1");
    for r in &t.records {
        w.packet(r.iface as u32, r.ts_ns, &r.frame);
    }
    fixture(
        "wifi.pcapng",
        &t,
        w.finish(),
        "802.11 in pcapng. Interface 0 radiotap (LINKTYPE 127): a beacon, data frames to and from the AP (LLC/SNAP IPv4), QoS data frames with radiotap's data padding and an FCS, IPv6 in QoS data, QoS data frames carrying an A-MSDU of one subframe, three protected (CCMP) frames. Interface 1 plain 802.11 (LINKTYPE 105): a wireless bridge's 4-address QoS data frames with HT control, one protected frame.",
        "Five requests; four leak x-msisdn. The beacon is decode.not_ip; the four protected frames are decode.unsupported_encapsulation and decode.tunnels.wifi_protected.",
    )
}

// ── Aruba GRE ──────────────────────────────────────────────────────────────

/// The access point and the controller of the Aruba tunnel.
const ARUBA_AP: Ipv4Addr = Ipv4Addr::new(198, 18, 3, 10);
const ARUBA_CONTROLLER: Ipv4Addr = Ipv4Addr::new(198, 18, 3, 1);

fn aruba_gre(up: bool, frame80211: &[u8], proto: u16) -> Vec<u8> {
    let (src, dst) = if up {
        (ARUBA_AP, ARUBA_CONTROLLER)
    } else {
        (ARUBA_CONTROLLER, ARUBA_AP)
    };
    let mut gre = vec![0, 0];
    gre.extend_from_slice(&proto.to_be_bytes());
    gre.extend_from_slice(frame80211);
    let (ip, _) = wrap(
        &[Encap::Ipv4 {
            src,
            dst,
            id: 0x6000,
        }],
        &gre,
        Kind::Gre,
    );
    ethernet(ROUTER_MAC, CLIENT_MAC, 0x0800, &ip)
}

pub fn aruba() -> Fixture {
    let mut t = Trace::new(T0 + 71_000, 0);
    let mut seq = 0u16;
    let mut next = || {
        seq = seq.wrapping_add(1);
        seq
    };
    let qos = Wifi {
        qos: true,
        ..Wifi::default()
    };
    let a = one(
        &mut t,
        "10.91.0.5:47000",
        "192.0.2.130:80",
        10,
        &leaking("/aruba/qos", "www.example.com"),
    );
    reframe(&mut t, a, |r| {
        aruba_gre(
            r.from_client,
            &wifi_frame(qos, r.from_client, next(), &r.frame, None),
            0x8200,
        )
    });
    let b = one(
        &mut t,
        "10.91.0.6:47001",
        "192.0.2.131:80",
        20,
        &leaking("/aruba/data", "www.example.com"),
    );
    reframe(&mut t, b, |r| {
        aruba_gre(
            r.from_client,
            &wifi_frame(Wifi::default(), r.from_client, next(), &r.frame, None),
            0x8200,
        )
    });
    // Encrypted frames in the tunnel, and a GRE payload type nobody decodes.
    let p = protected(true, next());
    raw(&mut t, 0, aruba_gre(true, &p, 0x8200));
    raw(&mut t, 0, aruba_gre(true, &filler(7, 64), 0x88b5));
    fixture(
        "aruba-gre.pcap",
        &t,
        t.pcap(Endian::Little, false, SNAPLEN, Link::Ethernet),
        "Aruba access point to controller (198.18.3.10 <-> 198.18.3.1): 802.11 frames in GRE with protocol type 0x8200, QoS data and plain data frames (LLC/SNAP IPv4); a protected frame in the tunnel; a GRE packet with the local experimental protocol type 0x88b5.",
        "Two requests, both leak x-msisdn; src/dst are the wireless client's addresses. The protected frame and the 0x88b5 packet are decode.unsupported_encapsulation (not not_ip).",
    )
}

// ── NFLOG ──────────────────────────────────────────────────────────────────

fn tlv(out: &mut Vec<u8>, kind: u16, value: &[u8]) {
    out.extend_from_slice(&((4 + value.len()) as u16).to_le_bytes());
    out.extend_from_slice(&kind.to_le_bytes());
    out.extend_from_slice(value);
    while !out.len().is_multiple_of(4) {
        out.push(0);
    }
}

/// An NFLOG record (little-endian attributes, as logged on x86) for `ip`.
fn nflog(ip: Option<&[u8]>, v6: bool, inbound: bool) -> Vec<u8> {
    let mut r = vec![if v6 { 10 } else { 2 }, 0, 0, 5]; // family, version, group 5
    let proto: u16 = if v6 { 0x86dd } else { 0x0800 };
    let mut hdr = proto.to_be_bytes().to_vec();
    hdr.extend_from_slice(&[if inbound { 1 } else { 3 }, 0]); // hook: input or output
    tlv(&mut r, 1, &hdr); // NFULA_PACKET_HDR
    tlv(&mut r, 10, b"phoneleak\0"); // NFULA_PREFIX
    tlv(&mut r, if inbound { 4 } else { 5 }, &2u32.to_be_bytes()); // NFULA_IFINDEX_INDEV / OUTDEV
    tlv(&mut r, 11, &1000u32.to_be_bytes()); // NFULA_UID
    if let Some(ip) = ip {
        tlv(&mut r, 9, ip); // NFULA_PAYLOAD
    }
    r
}

pub fn nflog_fixture() -> Fixture {
    let mut t = Trace::new(T0 + 72_000, 0);
    let a = one(
        &mut t,
        "10.92.0.5:48000",
        "192.0.2.140:80",
        10,
        &leaking("/nflog/ipv4", "www.example.com"),
    );
    reframe(&mut t, a, |r| nflog(Some(&r.frame), false, !r.from_client));
    let b = one(
        &mut t,
        "[2001:db8:92::5]:48001",
        "[2001:db8:ffff::141]:80",
        20,
        &leaking("/nflog/ipv6", "v6.example.com"),
    );
    reframe(&mut t, b, |r| nflog(Some(&r.frame), true, !r.from_client));
    // A rule that logs no packet bytes (--nflog-size 0).
    raw(&mut t, 0, nflog(None, false, true));
    fixture(
        "nflog.pcap",
        &t,
        pcap_with(&t, 239),
        "Linux NFLOG (LINKTYPE 239), attributes in little-endian: packet header, prefix, interface, uid, then the payload attribute holding the IPv4 or IPv6 packet; one record without a payload.",
        "Two requests, both leak x-msisdn. The record without a payload is decode.not_ip.",
    )
}

// ── Cisco HDLC, ARCNET, 802.3 LLC/SNAP ─────────────────────────────────────

fn hdlc(ethertype: u16, payload: &[u8]) -> Vec<u8> {
    let mut f = vec![0x0f, 0x00];
    f.extend_from_slice(&ethertype.to_be_bytes());
    f.extend_from_slice(payload);
    f
}

fn arcnet(from_client: bool, protocol: u8, payload: &[u8], seq: u16) -> Vec<u8> {
    let (src, dst) = if from_client {
        (0x11, 0x01)
    } else {
        (0x01, 0x11)
    };
    let mut f = vec![src, dst, 0, 0, protocol, 0];
    f.extend_from_slice(&seq.to_be_bytes());
    f.extend_from_slice(payload);
    f
}

/// An 802.3 frame: a length field instead of an EtherType, then LLC.
fn ieee8023(dst: [u8; 6], src: [u8; 6], llc: &[u8]) -> Vec<u8> {
    let mut f = ethernet(dst, src, llc.len() as u16, llc);
    // Padded to the 60-byte minimum: the length field says where the data ends.
    while f.len() < 60 {
        f.push(0);
    }
    f
}

pub fn serial_links() -> Fixture {
    let mut t = Trace::new(T0 + 73_000, 0);
    // Cisco HDLC: a SLARP keepalive, then IPv4 and IPv6.
    raw(&mut t, 0, {
        let mut body = 2u32.to_be_bytes().to_vec(); // keepalive
        body.extend_from_slice(&[0, 0, 0, 7, 0, 0, 0, 6, 0xff, 0xff, 0, 0, 0, 1]);
        let mut f = vec![0x8f, 0x00, 0x80, 0x35];
        f.extend_from_slice(&body);
        f
    });
    let a = one(
        &mut t,
        "10.93.0.5:49000",
        "192.0.2.150:80",
        10,
        &leaking("/hdlc/ipv4", "www.example.com"),
    );
    reframe(&mut t, a, |r| hdlc(0x0800, &r.frame));
    let b = one(
        &mut t,
        "[2001:db8:93::5]:49001",
        "[2001:db8:ffff::151]:80",
        20,
        &clean("/hdlc/ipv6", "v6.example.com"),
    );
    reframe(&mut t, b, |r| hdlc(0x86dd, &r.frame));
    // Linux ARCNET, RFC 1201 IPv4, and an ARP (not IP).
    let start = t.records.len();
    // ARP for 192.0.2.152 (hardware type 7 ARCNET, 1-byte addresses).
    let arp = [
        0, 7, 0x08, 0x00, 1, 4, 0, 1, 0x11, 10, 93, 1, 5, 0, 192, 0, 2, 152,
    ];
    raw(&mut t, 1, arcnet(true, 0xd5, &arp, 1));
    let c = one(
        &mut t,
        "10.93.1.5:49002",
        "192.0.2.152:80",
        30,
        &leaking("/arcnet/rfc1201", "www.example.com"),
    );
    let mut seq = 1u16;
    reframe(&mut t, c, |r| {
        seq += 1;
        arcnet(r.from_client, 0xd4, &r.frame, seq)
    });
    let end = t.records.len();
    // 802.3 frames with LLC/SNAP, and a spanning-tree BPDU (LLC, not IP).
    let stp = {
        let mut l = vec![0x42, 0x42, 0x03];
        l.extend_from_slice(&[0; 35]);
        ieee8023([0x01, 0x80, 0xc2, 0, 0, 0], ROUTER_MAC, &l)
    };
    raw(&mut t, 2, stp);
    let d = one(
        &mut t,
        "10.93.2.5:49003",
        "192.0.2.153:80",
        40,
        &leaking("/ieee8023/llc-snap", "www.example.com"),
    );
    let d_range = d.clone();
    reframe(&mut t, d, |r| {
        let (dst, src) = if r.from_client {
            (ROUTER_MAC, CLIENT_MAC)
        } else {
            (CLIENT_MAC, ROUTER_MAC)
        };
        ieee8023(dst, src, &snap(0x0800, &r.frame))
    });
    for r in &mut t.records[start..end] {
        r.iface = 1;
    }
    for r in &mut t.records[d_range] {
        r.iface = 2;
    }
    let mut w = PcapNgWriter::new();
    w.section("phoneleak fixturegen");
    w.interface(104, SNAPLEN, None, "serial0");
    w.interface(129, SNAPLEN, None, "arc0");
    w.interface(1, SNAPLEN, None, "eth0");
    for r in &t.records {
        w.packet(r.iface as u32, r.ts_ns, &r.frame);
    }
    fixture(
        "serial-links.pcapng",
        &t,
        w.finish(),
        "pcapng with three interfaces. 0 Cisco HDLC (LINKTYPE 104): a SLARP keepalive, IPv4 and IPv6 flows. 1 Linux ARCNET (LINKTYPE 129): an ARP packet, an IPv4 flow with RFC 1201 framing (protocol 0xd4, split flag 0). 2 Ethernet: a spanning-tree BPDU and an IPv4 flow, both 802.3 frames (length field, padded to 60 bytes) with LLC, the flow with SNAP.",
        "Four requests; three leak x-msisdn. SLARP, ARCNET ARP and the BPDU are decode.not_ip.",
    )
}

// ── Geneve, VXLAN on 8472, VXLAN-GPE, AYIYA ────────────────────────────────

const VTEP1: Ipv4Addr = Ipv4Addr::new(198, 18, 4, 1);
const VTEP2: Ipv4Addr = Ipv4Addr::new(198, 18, 4, 2);

/// Outer Ethernet, IPv4 and UDP around `payload` (a tunnel header and what
/// it carries), from VTEP1 when `up`. With `reply_swaps`, the way back
/// swaps the ports (AYIYA: the broker's port is the source on the way
/// back); otherwise both directions go to `dport` (Geneve, VXLAN).
fn over_udp(up: bool, sport: u16, dport: u16, reply_swaps: bool, payload: &[u8]) -> Vec<u8> {
    let (src, dst) = if up { (VTEP1, VTEP2) } else { (VTEP2, VTEP1) };
    let (sport, dport) = if up || !reply_swaps {
        (sport, dport)
    } else {
        (dport, sport)
    };
    ethernet(
        ROUTER_MAC,
        CLIENT_MAC,
        0x0800,
        &udp_ip(src, dst, sport, dport, payload),
    )
}

/// An IPv4 packet carrying UDP.
fn udp_ip(src: Ipv4Addr, dst: Ipv4Addr, sport: u16, dport: u16, payload: &[u8]) -> Vec<u8> {
    wrap(
        &[
            Encap::Ipv4 {
                src,
                dst,
                id: 0x7000,
            },
            Encap::Udp {
                src: sport,
                dst: dport,
            },
        ],
        payload,
        Kind::OverUdp,
    )
    .0
}

fn inner_ethernet(up: bool, ip: &[u8]) -> Vec<u8> {
    let (dst, src) = if up {
        (ROUTER_MAC, CLIENT_MAC)
    } else {
        (CLIENT_MAC, ROUTER_MAC)
    };
    ethernet(dst, src, ethertype_of(ip), ip)
}

/// A Geneve header with `options` (a multiple of 4 bytes) for `proto`.
fn geneve(proto: u16, options: &[u8], vni: u32, payload: &[u8]) -> Vec<u8> {
    assert_eq!(options.len() % 4, 0);
    let mut g = vec![(options.len() / 4) as u8, 0];
    g.extend_from_slice(&proto.to_be_bytes());
    g.extend_from_slice(&(vni << 8).to_be_bytes());
    g.extend_from_slice(options);
    g.extend_from_slice(payload);
    g
}

/// One Geneve option: class, type, 4 bytes of data.
const GENEVE_OPTION: [u8; 8] = [0x01, 0x08, 0x01, 0x01, 0xde, 0xad, 0xbe, 0xef];

fn vxlan(vni: u32, payload: &[u8]) -> Vec<u8> {
    let mut v = vec![0x08, 0, 0, 0];
    v.extend_from_slice(&(vni << 8).to_be_bytes());
    v.extend_from_slice(payload);
    v
}

fn vxlan_gpe(next: u8, vni: u32, payload: &[u8]) -> Vec<u8> {
    let mut v = vec![0x0c, 0, 0, next];
    v.extend_from_slice(&(vni << 8).to_be_bytes());
    v.extend_from_slice(payload);
    v
}

/// An AYIYA header (16-byte identity, 20-byte SHA-1 signature) forwarding `ip`.
fn ayiya(op: u8, next: u8, payload: &[u8]) -> Vec<u8> {
    let mut a = vec![0x41, 0x52, 0x10 | op, next];
    a.extend_from_slice(&(T0 as u32 + 74_000).to_be_bytes());
    a.extend_from_slice(&[0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2]);
    a.extend_from_slice(&filler(op.into(), 20));
    a.extend_from_slice(payload);
    a
}

pub fn overlays() -> Fixture {
    let mut t = Trace::new(T0 + 74_000, 0);
    // Geneve with an option carrying Ethernet, and without options carrying IPv4.
    let a = one(
        &mut t,
        "10.94.0.5:50000",
        "192.0.2.160:80",
        10,
        &leaking("/geneve/ethernet", "www.example.com"),
    );
    reframe(&mut t, a, |r| {
        let g = geneve(
            0x6558,
            &GENEVE_OPTION,
            6001,
            &inner_ethernet(r.from_client, &r.frame),
        );
        over_udp(r.from_client, 50_100, 6081, false, &g)
    });
    let b = one(
        &mut t,
        "10.94.0.6:50001",
        "192.0.2.161:80",
        20,
        &clean("/geneve/ipv4", "www.example.com"),
    );
    reframe(&mut t, b, |r| {
        over_udp(
            r.from_client,
            50_102,
            6081,
            false,
            &geneve(0x0800, &[], 6002, &r.frame),
        )
    });
    // Geneve nested in VXLAN: Ethernet, IPv4, UDP 4789, VXLAN, Ethernet, IPv4, UDP 6081, Geneve, IPv6.
    let c = one(
        &mut t,
        "[2001:db8:94::5]:50002",
        "[2001:db8:ffff::162]:80",
        30,
        &leaking("/geneve/in-vxlan", "v6.example.com"),
    );
    reframe(&mut t, c, |r| {
        let (src, dst) = if r.from_client {
            (Ipv4Addr::new(10, 200, 0, 1), Ipv4Addr::new(10, 200, 0, 2))
        } else {
            (Ipv4Addr::new(10, 200, 0, 2), Ipv4Addr::new(10, 200, 0, 1))
        };
        let inner = udp_ip(
            src,
            dst,
            50_103,
            6081,
            &geneve(0x86dd, &GENEVE_OPTION, 6003, &r.frame),
        );
        over_udp(
            r.from_client,
            50_104,
            4789,
            false,
            &vxlan(7003, &inner_ethernet(r.from_client, &inner)),
        )
    });
    // VXLAN on the Linux kernel's old default port.
    let d = one(
        &mut t,
        "10.94.0.8:50003",
        "192.0.2.163:80",
        40,
        &leaking("/vxlan/port-8472", "www.example.com"),
    );
    reframe(&mut t, d, |r| {
        over_udp(
            r.from_client,
            50_105,
            8472,
            false,
            &vxlan(7004, &inner_ethernet(r.from_client, &r.frame)),
        )
    });
    // VXLAN-GPE carrying IPv4 directly.
    let e = one(
        &mut t,
        "10.94.0.9:50004",
        "192.0.2.164:80",
        50,
        &leaking("/vxlan-gpe/ipv4", "www.example.com"),
    );
    reframe(&mut t, e, |r| {
        over_udp(
            r.from_client,
            50_106,
            4790,
            false,
            &vxlan_gpe(1, 7005, &r.frame),
        )
    });
    // AYIYA: a heartbeat, then IPv6 and IPv4 forwarded (port 5072 at the broker's end).
    raw(
        &mut t,
        0,
        over_udp(true, 50_107, 5072, true, &ayiya(0, 59, &[])),
    );
    let f = one(
        &mut t,
        "[2001:db8:94::7]:50005",
        "[2001:db8:ffff::165]:80",
        60,
        &leaking("/ayiya/ipv6", "v6.example.com"),
    );
    reframe(&mut t, f, |r| {
        over_udp(r.from_client, 50_108, 5072, true, &ayiya(1, 41, &r.frame))
    });
    let g = one(
        &mut t,
        "10.94.0.10:50006",
        "192.0.2.166:80",
        70,
        &clean("/ayiya/ipv4", "www.example.com"),
    );
    reframe(&mut t, g, |r| {
        over_udp(r.from_client, 50_109, 5072, true, &ayiya(1, 4, &r.frame))
    });
    fixture(
        "overlays.pcap",
        &t,
        t.pcap(Endian::Little, false, SNAPLEN, Link::Ethernet),
        "Overlay tunnels between 198.18.4.1 and 198.18.4.2: Geneve (UDP 6081) with an option and an Ethernet payload, Geneve without options carrying IPv4, Geneve carrying IPv6 nested inside VXLAN (4789), VXLAN on the Linux port 8472, VXLAN-GPE (4790) with next protocol IPv4, AYIYA (UDP 5072 at the broker's end, both directions) with a heartbeat, IPv6 and IPv4 forwarded.",
        "Seven requests; five leak x-msisdn; src/dst are the innermost addresses. The AYIYA heartbeat is decode.tunnel_control.",
    )
}

/// Writes a classic little-endian pcap of `t` with any link type.
fn pcap_with(t: &Trace, linktype: u16) -> Vec<u8> {
    let mut w = PcapWriter::new(Endian::Little, false, SNAPLEN, linktype);
    for r in &t.records {
        w.packet(r.ts_ns, &r.frame);
    }
    w.finish()
}
