//! The link layers and overlay tunnels of `wifi.rs`, `llc.rs`, `nflog.rs`,
//! `serial.rs` and `overlay.rs`, through the whole walker.
use super::*;
use etherparse::PacketBuilder;

fn ipv4_tcp(payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    PacketBuilder::ipv4([10, 0, 0, 1], [203, 0, 113, 5], 64)
        .tcp(51000, 80, 1000, 65535)
        .ack(1)
        .write(&mut out, payload)
        .unwrap();
    out
}

fn ipv6_tcp(payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut a = [0u8; 16];
    a[0] = 0x20;
    a[1] = 0x01;
    let mut b = a;
    b[15] = 2;
    PacketBuilder::ipv6(a, b, 64)
        .tcp(40000, 80, 7, 1000)
        .write(&mut out, payload)
        .unwrap();
    out
}

fn snap(ether_type: u16, inner: &[u8]) -> Vec<u8> {
    let mut f = vec![0xaa, 0xaa, 3, 0, 0, 0];
    f.extend_from_slice(&ether_type.to_be_bytes());
    f.extend_from_slice(inner);
    f
}

/// An 802.11 data frame header: `fc` (0x08 data, 0x88 QoS data), `flags`.
fn dot11(fc: u8, flags: u8) -> Vec<u8> {
    let mut h = vec![fc, flags, 0, 0];
    h.extend_from_slice(&[2; 18]);
    h.extend_from_slice(&[0x10, 0]);
    if flags & 3 == 3 {
        h.extend_from_slice(&[3; 6]);
    }
    if fc & 0x80 != 0 {
        h.extend_from_slice(&[0, 0]);
    }
    h
}

fn ethernet(ether_type: u16, inner: &[u8]) -> Vec<u8> {
    let mut f = vec![0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
    f.extend_from_slice(&ether_type.to_be_bytes());
    f.extend_from_slice(inner);
    f
}

fn outer_udp(src_port: u16, dst_port: u16, inner: &[u8]) -> Vec<u8> {
    let mut u = src_port.to_be_bytes().to_vec();
    u.extend_from_slice(&dst_port.to_be_bytes());
    u.extend_from_slice(&((8 + inner.len()) as u16).to_be_bytes());
    u.extend_from_slice(&[0, 0]);
    u.extend_from_slice(inner);
    outer_ipv4(17, &u)
}

fn outer_ipv4(proto: u8, inner: &[u8]) -> Vec<u8> {
    let mut h = vec![0x45, 0];
    h.extend_from_slice(&((20 + inner.len()) as u16).to_be_bytes());
    h.extend_from_slice(&[0, 1, 0, 0, 64, proto, 0, 0, 172, 16, 1, 10, 172, 16, 2, 20]);
    h.extend_from_slice(inner);
    h
}

fn decoded(link: LinkType, frame: &[u8]) -> (Result<Vec<u8>, Skip>, TunnelStats) {
    let mut d = Decoder::new(DefragLimits::default());
    let r = d
        .decode(Timestamp::from_parts(1, 0), link, frame)
        .map(|s| s.payload.to_vec());
    (r, d.tunnel_stats().clone())
}

#[test]
fn radiotap_and_plain_80211() {
    // Radiotap with Flags (FCS at the end, data padding), QoS data to the AP.
    let mut f = vec![0, 0, 9, 0, 0x02, 0, 0, 0, 0x30];
    f.extend_from_slice(&dot11(0x88, 0x01));
    f.extend_from_slice(&[0, 0]); // 26-byte header padded to 28
    f.extend_from_slice(&snap(0x0800, &ipv4_tcp(b"GET /")));
    f.extend_from_slice(&[0xde, 0xad, 0xbe, 0xef]);
    assert_eq!(
        decoded(LinkType::IEEE802_11_RADIOTAP, &f).0.unwrap(),
        b"GET /"
    );
    // Plain 802.11, four addresses, IPv6.
    let mut f = dot11(0x88, 0x03);
    f.extend_from_slice(&snap(0x86dd, &ipv6_tcp(b"v6")));
    assert_eq!(decoded(LinkType::IEEE802_11, &f).0.unwrap(), b"v6");
    // A protected frame: counted, and unsupported.
    let mut f = dot11(0x88, 0x41);
    f.extend_from_slice(&[0x55; 60]);
    let (r, stats) = decoded(LinkType::IEEE802_11, &f);
    assert_eq!(r, Err(Skip::UnsupportedEncapsulation));
    assert_eq!(stats.wifi_protected, 1);
    // LLC that is not SNAP, a beacon, a radiotap FCS longer than the frame.
    let mut f = dot11(0x08, 0x01);
    f.extend_from_slice(&[0x42, 0x42, 3, 0, 0]);
    assert_eq!(decoded(LinkType::IEEE802_11, &f).0, Err(Skip::NotIp));
    assert_eq!(
        decoded(LinkType::IEEE802_11, &dot11(0x80, 0)).0,
        Err(Skip::NotIp)
    );
    assert_eq!(
        decoded(
            LinkType::IEEE802_11_RADIOTAP,
            &[0, 0, 9, 0, 2, 0, 0, 0, 0x10, 1]
        )
        .0,
        Err(Skip::Truncated)
    );
}

#[test]
fn ieee8023_llc_snap() {
    // A length field, LLC/SNAP, IPv4, then padding the length field excludes.
    let llc = snap(0x0800, &ipv4_tcp(b"x"));
    let mut f = ethernet(llc.len() as u16, &llc);
    f.extend_from_slice(&[0; 6]);
    assert_eq!(decoded(LinkType::ETHERNET, &f).0.unwrap(), b"x");
    // Behind a VLAN tag.
    let mut tag = vec![0, 10];
    tag.extend_from_slice(&(llc.len() as u16).to_be_bytes());
    tag.extend_from_slice(&llc);
    assert_eq!(
        decoded(LinkType::ETHERNET, &ethernet(0x8100, &tag))
            .0
            .unwrap(),
        b"x"
    );
    // Spanning tree.
    let bpdu = ethernet(38, &[0x42, 0x42, 3, 0, 0, 0, 0]);
    assert_eq!(decoded(LinkType::ETHERNET, &bpdu).0, Err(Skip::NotIp));
    // SLL with the 802.2 protocol.
    let mut sll = vec![0u8; 14];
    sll.extend_from_slice(&[0, 4]);
    sll.extend_from_slice(&llc);
    assert_eq!(decoded(LinkType::LINUX_SLL, &sll).0.unwrap(), b"x");
}

#[test]
fn nflog_hdlc_arcnet() {
    let ip = ipv4_tcp(b"logged");
    let mut r = vec![2, 0, 0, 1, 8, 0, 1, 0, 0x08, 0, 1, 0];
    r.extend_from_slice(&((4 + ip.len()) as u16).to_le_bytes());
    r.extend_from_slice(&9u16.to_le_bytes());
    r.extend_from_slice(&ip);
    assert_eq!(decoded(LinkType::NFLOG, &r).0.unwrap(), b"logged");
    assert_eq!(decoded(LinkType::NFLOG, &r[..12]).0, Err(Skip::NotIp));

    let mut h = vec![0x0f, 0, 0x08, 0x00];
    h.extend_from_slice(&ip);
    assert_eq!(decoded(LinkType::C_HDLC, &h).0.unwrap(), b"logged");
    assert_eq!(
        decoded(LinkType::C_HDLC, &[0x8f, 0, 0x80, 0x35, 0, 0, 0, 2]).0,
        Err(Skip::NotIp)
    );

    let mut a = vec![1, 2, 0, 0, 0xd4, 0, 0, 1];
    a.extend_from_slice(&ip);
    assert_eq!(decoded(LinkType::ARCNET_LINUX, &a).0.unwrap(), b"logged");
}

#[test]
fn aruba_gre_and_unknown_gre_protocols() {
    let mut gre = vec![0, 0, 0x82, 0x00];
    gre.extend_from_slice(&dot11(0x88, 0x01));
    gre.extend_from_slice(&snap(0x0800, &ipv4_tcp(b"aruba")));
    let frame = ethernet(0x0800, &outer_ipv4(47, &gre));
    let (r, stats) = decoded(LinkType::ETHERNET, &frame);
    assert_eq!(r.unwrap(), b"aruba");
    assert_eq!((stats.gre, stats.aruba_gre), (1, 1));
    let frame = ethernet(0x0800, &outer_ipv4(47, &[0, 0, 0x88, 0xb5, 1, 2, 3, 4]));
    let (r, stats) = decoded(LinkType::ETHERNET, &frame);
    assert_eq!(r, Err(Skip::UnsupportedEncapsulation));
    assert_eq!(stats.gre_unknown_protocol, 1);
}

#[test]
fn udp_overlays() {
    let inner = ipv4_tcp(b"overlay");
    // Geneve with 4 bytes of options, an Ethernet payload.
    let mut g = vec![1, 0, 0x65, 0x58, 0, 0, 1, 0, 1, 2, 3, 0];
    g.extend_from_slice(&ethernet(0x0800, &inner));
    let (r, stats) = decoded(LinkType::RAW, &outer_udp(40000, 6081, &g));
    assert_eq!(r.unwrap(), b"overlay");
    assert_eq!(stats.geneve, 1);
    // Geneve from GTP-U's port is still Geneve; an unknown payload type is unsupported.
    assert_eq!(
        decoded(LinkType::RAW, &outer_udp(2152, 6081, &g))
            .0
            .unwrap(),
        b"overlay"
    );
    let bad = [0, 0, 0x12, 0x34, 0, 0, 1, 0, 9, 9];
    assert_eq!(
        decoded(LinkType::RAW, &outer_udp(40000, 6081, &bad)).0,
        Err(Skip::UnsupportedEncapsulation)
    );
    // VXLAN on the Linux port.
    let mut v = vec![0x08, 0, 0, 0, 0, 0, 1, 0];
    v.extend_from_slice(&ethernet(0x0800, &inner));
    let (r, stats) = decoded(LinkType::RAW, &outer_udp(40000, 8472, &v));
    assert_eq!(r.unwrap(), b"overlay");
    assert_eq!(stats.vxlan, 1);
    // VXLAN-GPE with IPv4 next.
    let mut p = vec![0x0c, 0, 0, 1, 0, 0, 1, 0];
    p.extend_from_slice(&inner);
    let (r, stats) = decoded(LinkType::RAW, &outer_udp(40000, 4790, &p));
    assert_eq!(r.unwrap(), b"overlay");
    assert_eq!(stats.vxlan_gpe, 1);
    // AYIYA both ways (the broker's reply comes from 5072), and a heartbeat.
    let mut a = vec![0x41, 0x52, 0x11, 41, 0, 0, 0, 1];
    a.extend_from_slice(&[0; 36]);
    a.extend_from_slice(&ipv6_tcp(b"six"));
    for (s, d) in [(40000, 5072), (5072, 40000)] {
        let (r, stats) = decoded(LinkType::RAW, &outer_udp(s, d, &a));
        assert_eq!(r.unwrap(), b"six");
        assert_eq!(stats.ayiya, 1);
    }
    a[2] = 0x10;
    assert_eq!(
        decoded(LinkType::RAW, &outer_udp(40000, 5072, &a)).0,
        Err(Skip::TunnelControl)
    );
}

#[test]
fn new_link_types_never_panic() {
    let mut state = 0x9e37_79b9u32;
    for len in 0..300 {
        let bytes: Vec<u8> = (0..len)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 17;
                state ^= state << 5;
                state as u8
            })
            .collect();
        for link in [104u16, 105, 127, 129, 239] {
            let _ = decode(LinkType(link), &bytes);
        }
    }
}
