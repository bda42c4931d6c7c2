//! Hand-written packet builders: link-layer framings, IPv4, IPv6 (with
//! optional extension headers) and TCP, with correct lengths and checksums.

use std::net::{IpAddr, SocketAddr};

/// TCP FIN flag.
pub const FIN: u8 = 0x01;
/// TCP SYN flag.
pub const SYN: u8 = 0x02;
/// TCP RST flag.
pub const RST: u8 = 0x04;
/// TCP PSH flag.
pub const PSH: u8 = 0x08;
/// TCP ACK flag.
pub const ACK: u8 = 0x10;

/// The client's MAC address in every Ethernet fixture (locally administered).
pub const CLIENT_MAC: [u8; 6] = [0x02, 0x00, 0x5e, 0x10, 0x00, 0x01];
/// The router's MAC address (the server side of every Ethernet frame).
pub const ROUTER_MAC: [u8; 6] = [0x02, 0x00, 0x5e, 0x10, 0x00, 0xfe];

/// Ethernet TPID of an 802.1Q tag.
pub const TPID_8021Q: u16 = 0x8100;
/// Ethernet TPID of an 802.1ad (QinQ) service tag.
pub const TPID_8021AD: u16 = 0x88a8;

/// A link-layer header type this generator can write.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Link {
    /// LINKTYPE_ETHERNET (1).
    Ethernet,
    /// LINKTYPE_LINUX_SLL (113): 16-byte cooked header, protocol at 14..16.
    Sll,
    /// LINKTYPE_LINUX_SLL2 (276): 20-byte cooked header, protocol at 0..2.
    Sll2,
    /// LINKTYPE_RAW (101): IPv4 or IPv6 by the version nibble.
    Raw,
    /// LINKTYPE_IPV4 (228).
    RawV4,
    /// LINKTYPE_IPV6 (229).
    RawV6,
    /// LINKTYPE_NULL (0): 4-byte address family in the writer's byte order
    /// (little-endian here).
    Null,
}

impl Link {
    /// The LINKTYPE_ number.
    pub fn linktype(self) -> u16 {
        match self {
            Link::Ethernet => 1,
            Link::Sll => 113,
            Link::Sll2 => 276,
            Link::Raw => 101,
            Link::RawV4 => 228,
            Link::RawV6 => 229,
            Link::Null => 0,
        }
    }
}

/// How one direction of a conversation is framed on the link.
#[derive(Clone, Debug)]
pub struct Framing {
    /// The link type.
    pub link: Link,
    /// VLAN tags outermost first, as (TPID, VLAN id); Ethernet only.
    pub vlans: Vec<(u16, u16)>,
    /// Source MAC address (Ethernet, SLL, SLL2).
    pub src_mac: [u8; 6],
    /// Destination MAC address (Ethernet).
    pub dst_mac: [u8; 6],
    /// SLL/SLL2 packet type: 0 = to us, 4 = sent by us.
    pub sll_pkttype: u8,
    /// BSD null address family used for IPv6 (24, 28 or 30).
    pub null_af6: u32,
    /// Encapsulations between the link header and the packet, outermost first.
    pub encap: Vec<super::encap::Encap>,
}

/// The Internet checksum (RFC 1071) of `data`, folded and complemented,
/// starting from a partial `sum`.
pub fn checksum(mut sum: u32, data: &[u8]) -> u16 {
    let mut chunks = data.chunks_exact(2);
    for c in &mut chunks {
        sum += u32::from(u16::from_be_bytes([c[0], c[1]]));
    }
    if let [last] = chunks.remainder() {
        sum += u32::from(*last) << 8;
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

fn sum_words(data: &[u8]) -> u32 {
    data.chunks(2)
        .map(|c| u32::from(u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)])))
        .sum()
}

/// The fields of one TCP segment.
#[derive(Clone, Debug)]
pub struct TcpFields<'a> {
    /// Sender address and port.
    pub src: SocketAddr,
    /// Receiver address and port.
    pub dst: SocketAddr,
    /// Sequence number.
    pub seq: u32,
    /// Acknowledgement number (sent as is; meaningful with ACK).
    pub ack: u32,
    /// TCP flags.
    pub flags: u8,
    /// Receive window.
    pub window: u16,
    /// IPv4 identification field.
    pub ip_id: u16,
    /// IPv6 only: add a hop-by-hop and a destination-options header.
    pub v6_ext: bool,
    /// Payload.
    pub payload: &'a [u8],
}

/// Builds an IPv4 or IPv6 packet carrying one TCP segment. SYN segments
/// carry an MSS option (1460) and SACK-permitted.
pub fn ip_tcp(f: &TcpFields<'_>) -> Vec<u8> {
    let mut tcp = Vec::with_capacity(32 + f.payload.len());
    let opts: &[u8] = if f.flags & SYN != 0 {
        &[2, 4, 0x05, 0xb4, 1, 1, 4, 2]
    } else {
        &[]
    };
    let doff = (20 + opts.len()) / 4;
    tcp.extend_from_slice(&f.src.port().to_be_bytes());
    tcp.extend_from_slice(&f.dst.port().to_be_bytes());
    tcp.extend_from_slice(&f.seq.to_be_bytes());
    tcp.extend_from_slice(&(if f.flags & ACK != 0 { f.ack } else { 0 }).to_be_bytes());
    tcp.push((doff as u8) << 4);
    tcp.push(f.flags);
    tcp.extend_from_slice(&f.window.to_be_bytes());
    tcp.extend_from_slice(&[0, 0, 0, 0]); // checksum, urgent pointer
    tcp.extend_from_slice(opts);
    tcp.extend_from_slice(f.payload);
    let tcp_len = tcp.len();

    match (f.src.ip(), f.dst.ip()) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            let pseudo = sum_words(&s.octets()) + sum_words(&d.octets()) + 6 + tcp_len as u32;
            let c = checksum(pseudo, &tcp);
            tcp[16..18].copy_from_slice(&c.to_be_bytes());
            let total = 20 + tcp_len;
            let mut ip = Vec::with_capacity(total);
            ip.push(0x45);
            ip.push(0);
            ip.extend_from_slice(&(total as u16).to_be_bytes());
            ip.extend_from_slice(&f.ip_id.to_be_bytes());
            ip.extend_from_slice(&0x4000u16.to_be_bytes()); // DF
            ip.push(64);
            ip.push(6);
            ip.extend_from_slice(&[0, 0]);
            ip.extend_from_slice(&s.octets());
            ip.extend_from_slice(&d.octets());
            let c = checksum(0, &ip[..20]);
            ip[10..12].copy_from_slice(&c.to_be_bytes());
            ip.extend_from_slice(&tcp);
            ip
        }
        (IpAddr::V6(s), IpAddr::V6(d)) => {
            let pseudo = sum_words(&s.octets()) + sum_words(&d.octets()) + tcp_len as u32 + 6;
            let c = checksum(pseudo, &tcp);
            tcp[16..18].copy_from_slice(&c.to_be_bytes());
            let mut ext = Vec::new();
            let first_nh = if f.v6_ext {
                // Hop-by-hop options: next = destination options, length 0
                // (8 bytes), one PadN option of 4 bytes.
                ext.extend_from_slice(&[60, 0, 1, 4, 0, 0, 0, 0]);
                // Destination options: next = TCP, one PadN option.
                ext.extend_from_slice(&[6, 0, 1, 4, 0, 0, 0, 0]);
                0
            } else {
                6
            };
            let plen = ext.len() + tcp_len;
            let mut ip = Vec::with_capacity(40 + plen);
            ip.extend_from_slice(&0x6000_0000u32.to_be_bytes());
            ip.extend_from_slice(&(plen as u16).to_be_bytes());
            ip.push(first_nh);
            ip.push(64);
            ip.extend_from_slice(&s.octets());
            ip.extend_from_slice(&d.octets());
            ip.extend_from_slice(&ext);
            ip.extend_from_slice(&tcp);
            ip
        }
        _ => panic!("mixed IPv4/IPv6 endpoints"),
    }
}

/// Wraps an IP packet in the link-layer header described by `fr`.
pub fn frame(fr: &Framing, ip: &[u8]) -> Vec<u8> {
    use super::encap::{Kind, ip_kind, wrap};
    let (wrapped, kind) = wrap(&fr.encap, ip, ip_kind(ip));
    let ip = &wrapped[..];
    let v6 = kind == Kind::Ipv6;
    let ethertype: u16 = kind.ethertype();
    let mut out = Vec::with_capacity(ip.len() + 32);
    match fr.link {
        Link::Ethernet => {
            out.extend_from_slice(&fr.dst_mac);
            out.extend_from_slice(&fr.src_mac);
            for &(tpid, vid) in &fr.vlans {
                out.extend_from_slice(&tpid.to_be_bytes());
                out.extend_from_slice(&(vid & 0x0fff).to_be_bytes());
            }
            out.extend_from_slice(&ethertype.to_be_bytes());
        }
        Link::Sll => {
            out.extend_from_slice(&u16::from(fr.sll_pkttype).to_be_bytes());
            out.extend_from_slice(&1u16.to_be_bytes()); // ARPHRD_ETHER
            out.extend_from_slice(&6u16.to_be_bytes());
            out.extend_from_slice(&fr.src_mac);
            out.extend_from_slice(&[0, 0]);
            out.extend_from_slice(&ethertype.to_be_bytes());
        }
        Link::Sll2 => {
            out.extend_from_slice(&ethertype.to_be_bytes());
            out.extend_from_slice(&[0, 0]);
            out.extend_from_slice(&2u32.to_be_bytes()); // interface index
            out.extend_from_slice(&1u16.to_be_bytes()); // ARPHRD_ETHER
            out.push(fr.sll_pkttype);
            out.push(6);
            out.extend_from_slice(&fr.src_mac);
            out.extend_from_slice(&[0, 0]);
        }
        Link::Raw => {}
        Link::RawV4 => assert!(!v6, "IPv6 packet on a raw IPv4 link"),
        Link::RawV6 => assert!(v6, "IPv4 packet on a raw IPv6 link"),
        Link::Null => {
            let af: u32 = if v6 { fr.null_af6 } else { 2 };
            out.extend_from_slice(&af.to_le_bytes());
        }
    }
    out.extend_from_slice(ip);
    out
}
