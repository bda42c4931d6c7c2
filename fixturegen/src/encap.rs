//! Encapsulations and IP fragmentation for the tunnel fixtures: each layer
//! wraps what is inside it and fills its protocol field from what it wraps
//! (an outer IPv4 header says 4, 41, 17 or 47; GRE says 0x0800, 0x86dd,
//! 0x6558 or 0x8847; ...), so a scenario only lists the layers.

use std::net::Ipv4Addr;

use super::packet::checksum;

/// What a byte string is, for the layer that wraps it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// An IPv4 packet.
    Ipv4,
    /// An IPv6 packet.
    Ipv6,
    /// An Ethernet frame.
    Ethernet,
    /// An MPLS label stack and its payload.
    Mpls,
    /// A PPPoE session frame.
    Pppoe,
    /// A GRE packet.
    Gre,
    /// A UDP datagram.
    Udp,
    /// A GTP-U or VXLAN message (needs UDP around it).
    OverUdp,
}

impl Kind {
    /// The EtherType of this kind on an Ethernet link or in GRE.
    pub fn ethertype(self) -> u16 {
        match self {
            Kind::Ipv4 => 0x0800,
            Kind::Ipv6 => 0x86dd,
            Kind::Ethernet => 0x6558,
            Kind::Mpls => 0x8847,
            Kind::Pppoe => 0x8864,
            k => panic!("{k:?} has no EtherType"),
        }
    }

    fn ip_proto(self) -> u8 {
        match self {
            Kind::Ipv4 => 4,
            Kind::Ipv6 => 41,
            Kind::Gre => 47,
            Kind::Udp => 17,
            k => panic!("{k:?} cannot be carried by IP directly"),
        }
    }
}

/// One encapsulation layer, listed outermost first in [`wrap`].
#[derive(Clone, Debug)]
pub enum Encap {
    /// An outer IPv4 header (tunnel endpoints).
    Ipv4 {
        /// Tunnel source.
        src: Ipv4Addr,
        /// Tunnel destination.
        dst: Ipv4Addr,
        /// Identification field.
        id: u16,
    },
    /// A UDP header (checksum 0, allowed over IPv4).
    Udp {
        /// Source port.
        src: u16,
        /// Destination port.
        dst: u16,
    },
    /// GTPv1-U G-PDU; `seq` sets the S flag; `qfi` adds a PDU session container (E flag).
    Gtpu {
        /// Tunnel endpoint id.
        teid: u32,
        /// Sequence number.
        seq: Option<u16>,
        /// QoS flow id of a 5G PDU session container (uplink).
        qfi: Option<u8>,
    },
    /// GRE version 0 with optional key and sequence number.
    Gre {
        /// Key.
        key: Option<u32>,
        /// Sequence number.
        seq: Option<u32>,
    },
    /// GRE carrying ERSPAN of type 1, 2 or 3 (an Ethernet frame inside).
    Erspan {
        /// ERSPAN type.
        version: u8,
        /// Session id.
        session: u16,
    },
    /// VXLAN (needs a UDP layer to port 4789 outside).
    Vxlan {
        /// Network identifier.
        vni: u32,
    },
    /// An MPLS label stack (outermost label first).
    Mpls(Vec<u32>),
    /// An Ethernet pseudowire: labels, a control word, then the Ethernet frame inside.
    MplsPw(Vec<u32>),
    /// A PPPoE session header with PPP.
    Pppoe {
        /// Session id.
        session: u16,
    },
    /// An Ethernet header (inside a tunnel) with VLAN ids.
    Ethernet {
        /// Source MAC.
        src: [u8; 6],
        /// Destination MAC.
        dst: [u8; 6],
        /// 802.1Q tags, outermost first.
        vlans: Vec<u16>,
    },
}

/// Wraps `inner` (of kind `kind`) in `layers`, outermost first; returns the
/// bytes and their kind.
pub fn wrap(layers: &[Encap], inner: &[u8], kind: Kind) -> (Vec<u8>, Kind) {
    let mut bytes = inner.to_vec();
    let mut kind = kind;
    for layer in layers.iter().rev() {
        let (b, k) = wrap_one(layer, &bytes, kind);
        bytes = b;
        kind = k;
    }
    (bytes, kind)
}

/// The kind of an IP packet, by its version nibble.
pub fn ip_kind(ip: &[u8]) -> Kind {
    if ip[0] >> 4 == 6 {
        Kind::Ipv6
    } else {
        Kind::Ipv4
    }
}

fn wrap_one(layer: &Encap, inner: &[u8], kind: Kind) -> (Vec<u8>, Kind) {
    let mut out = Vec::with_capacity(inner.len() + 64);
    match layer {
        Encap::Ipv4 { src, dst, id } => {
            out = ipv4_header(*src, *dst, *id, kind.ip_proto(), inner.len(), 0, false);
            out.extend_from_slice(inner);
            (out, Kind::Ipv4)
        }
        Encap::Udp { src, dst } => {
            out.extend_from_slice(&src.to_be_bytes());
            out.extend_from_slice(&dst.to_be_bytes());
            out.extend_from_slice(&((inner.len() + 8) as u16).to_be_bytes());
            out.extend_from_slice(&[0, 0]);
            out.extend_from_slice(inner);
            (out, Kind::Udp)
        }
        Encap::Gtpu { teid, seq, qfi } => {
            assert!(matches!(kind, Kind::Ipv4 | Kind::Ipv6));
            let mut flags = 0x30u8;
            let mut opt = Vec::new();
            if seq.is_some() || qfi.is_some() {
                opt.extend_from_slice(&seq.unwrap_or(0).to_be_bytes());
                opt.push(0); // N-PDU number
                if let Some(q) = qfi {
                    flags |= 0x04;
                    opt.push(0x85); // next: PDU session container
                    // Length 1 (4 bytes): PDU type 1 (uplink) << 4, QFI, next type 0.
                    opt.extend_from_slice(&[1, 0x10, *q & 0x3f, 0]);
                } else {
                    opt.push(0);
                }
                if seq.is_some() {
                    flags |= 0x02;
                }
            }
            out.push(flags);
            out.push(0xff);
            out.extend_from_slice(&((opt.len() + inner.len()) as u16).to_be_bytes());
            out.extend_from_slice(&teid.to_be_bytes());
            out.extend_from_slice(&opt);
            out.extend_from_slice(inner);
            (out, Kind::OverUdp)
        }
        Encap::Gre { key, seq } => {
            let mut flags = 0u16;
            if key.is_some() {
                flags |= 0x2000;
            }
            if seq.is_some() {
                flags |= 0x1000;
            }
            out.extend_from_slice(&flags.to_be_bytes());
            out.extend_from_slice(&kind.ethertype().to_be_bytes());
            if let Some(k) = key {
                out.extend_from_slice(&k.to_be_bytes());
            }
            if let Some(s) = seq {
                out.extend_from_slice(&s.to_be_bytes());
            }
            out.extend_from_slice(inner);
            (out, Kind::Gre)
        }
        Encap::Erspan { version, session } => {
            assert_eq!(kind, Kind::Ethernet);
            match version {
                1 => {
                    out.extend_from_slice(&[0, 0, 0x88, 0xbe]);
                }
                2 => {
                    out.extend_from_slice(&[0x10, 0, 0x88, 0xbe, 0, 0, 0, 1]);
                    // Ver 1, VLAN 0; COS 0, En 0, T 0, session id.
                    out.extend_from_slice(&(0x1000u16).to_be_bytes());
                    out.extend_from_slice(&(session & 0x3ff).to_be_bytes());
                    out.extend_from_slice(&[0, 0, 0, 7]); // reserved, index
                }
                3 => {
                    out.extend_from_slice(&[0x10, 0, 0x22, 0xeb, 0, 0, 0, 1]);
                    out.extend_from_slice(&(0x2000u16).to_be_bytes());
                    out.extend_from_slice(&(session & 0x3ff).to_be_bytes());
                    out.extend_from_slice(&0x0102_0304u32.to_be_bytes()); // timestamp
                    out.extend_from_slice(&[0, 0]); // SGT
                    out.extend_from_slice(&[0, 0]); // P, FT 0 (Ethernet), HW id, D, Gra, O
                }
                v => panic!("ERSPAN type {v}"),
            }
            out.extend_from_slice(inner);
            (out, Kind::Gre)
        }
        Encap::Vxlan { vni } => {
            assert_eq!(kind, Kind::Ethernet);
            out.extend_from_slice(&[0x08, 0, 0, 0]);
            out.extend_from_slice(&(vni << 8).to_be_bytes());
            out.extend_from_slice(inner);
            (out, Kind::OverUdp)
        }
        Encap::Mpls(labels) => {
            push_labels(&mut out, labels);
            out.extend_from_slice(inner);
            (out, Kind::Mpls)
        }
        Encap::MplsPw(labels) => {
            assert_eq!(kind, Kind::Ethernet);
            push_labels(&mut out, labels);
            out.extend_from_slice(&[0, 0, 0, 1]); // control word, sequence 1
            out.extend_from_slice(inner);
            (out, Kind::Mpls)
        }
        Encap::Pppoe { session } => {
            let ppp: u16 = match kind {
                Kind::Ipv4 => 0x0021,
                Kind::Ipv6 => 0x0057,
                k => panic!("PPP over {k:?}"),
            };
            out.extend_from_slice(&[0x11, 0]);
            out.extend_from_slice(&session.to_be_bytes());
            out.extend_from_slice(&((inner.len() + 2) as u16).to_be_bytes());
            out.extend_from_slice(&ppp.to_be_bytes());
            out.extend_from_slice(inner);
            (out, Kind::Pppoe)
        }
        Encap::Ethernet { src, dst, vlans } => {
            out.extend_from_slice(dst);
            out.extend_from_slice(src);
            for v in vlans {
                out.extend_from_slice(&0x8100u16.to_be_bytes());
                out.extend_from_slice(&(v & 0x0fff).to_be_bytes());
            }
            let et = match kind {
                Kind::Ethernet => panic!("Ethernet in Ethernet"),
                k => k.ethertype(),
            };
            out.extend_from_slice(&et.to_be_bytes());
            out.extend_from_slice(inner);
            (out, Kind::Ethernet)
        }
    }
}

fn push_labels(out: &mut Vec<u8>, labels: &[u32]) {
    for (i, l) in labels.iter().enumerate() {
        let bottom = u32::from(i + 1 == labels.len());
        out.extend_from_slice(&((l << 12) | (bottom << 8) | 64).to_be_bytes());
    }
}

/// An IPv4 header with a correct checksum.
pub fn ipv4_header(
    src: Ipv4Addr,
    dst: Ipv4Addr,
    id: u16,
    proto: u8,
    payload_len: usize,
    frag_offset: usize,
    more: bool,
) -> Vec<u8> {
    assert_eq!(frag_offset % 8, 0);
    let mut ip = Vec::with_capacity(20);
    ip.push(0x45);
    ip.push(0);
    ip.extend_from_slice(&((20 + payload_len) as u16).to_be_bytes());
    ip.extend_from_slice(&id.to_be_bytes());
    let field = (frag_offset / 8) as u16 | if more { 0x2000 } else { 0 };
    ip.extend_from_slice(&field.to_be_bytes());
    ip.push(64);
    ip.push(proto);
    ip.extend_from_slice(&[0, 0]);
    ip.extend_from_slice(&src.octets());
    ip.extend_from_slice(&dst.octets());
    let c = checksum(0, &ip);
    ip[10..12].copy_from_slice(&c.to_be_bytes());
    ip
}

/// One piece of a datagram to send as a fragment: `[start, end)` of its payload.
#[derive(Clone, Copy, Debug)]
pub struct Piece {
    /// First payload byte.
    pub start: usize,
    /// One past the last payload byte.
    pub end: usize,
    /// The more-fragments flag (normally: `end` is not the payload's end).
    pub more: bool,
}

/// Cuts an IPv4 packet (20-byte header, no options) into fragments carrying
/// the given pieces of its payload, in the order given. `fill` replaces the
/// piece's bytes (overlap tests send other bytes for a range already sent).
pub fn fragment_ipv4(ip: &[u8], pieces: &[Piece], fill: Option<u8>) -> Vec<Vec<u8>> {
    assert_eq!(ip[0], 0x45, "no IPv4 options");
    let src = Ipv4Addr::new(ip[12], ip[13], ip[14], ip[15]);
    let dst = Ipv4Addr::new(ip[16], ip[17], ip[18], ip[19]);
    let id = u16::from_be_bytes([ip[4], ip[5]]);
    let proto = ip[9];
    let payload = &ip[20..];
    pieces
        .iter()
        .map(|p| {
            let data: Vec<u8> = match fill {
                Some(b) => vec![b; p.end - p.start],
                None => payload[p.start..p.end].to_vec(),
            };
            let mut f = ipv4_header(src, dst, id, proto, data.len(), p.start, p.more);
            f.extend_from_slice(&data);
            f
        })
        .collect()
}

/// Even pieces of `size` bytes (a multiple of 8) covering `len` bytes.
pub fn even_pieces(len: usize, size: usize) -> Vec<Piece> {
    assert_eq!(size % 8, 0);
    (0..len)
        .step_by(size)
        .map(|s| Piece {
            start: s,
            end: (s + size).min(len),
            more: s + size < len,
        })
        .collect()
}

/// Cuts an IPv6 packet without extension headers into fragments (a fragment
/// header after the fixed header), with identification `id`.
pub fn fragment_ipv6(ip: &[u8], pieces: &[Piece], id: u32) -> Vec<Vec<u8>> {
    assert_eq!(ip[0] >> 4, 6);
    let next = ip[6];
    let payload = &ip[40..];
    pieces
        .iter()
        .map(|p| {
            let data = &payload[p.start..p.end];
            let mut f = ip[..40].to_vec();
            f[4..6].copy_from_slice(&((data.len() + 8) as u16).to_be_bytes());
            f[6] = 44;
            f.push(next);
            f.push(0);
            let field = ((p.start / 8) as u16) << 3 | u16::from(p.more);
            f.extend_from_slice(&field.to_be_bytes());
            f.extend_from_slice(&id.to_be_bytes());
            f.extend_from_slice(data);
            f
        })
        .collect()
}
