//! Packet decoding: link layer → IP → TCP, with etherparse.
//!
//! In: a captured frame and its [`LinkType`]. Out: a [`TcpSegment`] borrowing
//! the frame, or the [`Skip`] reason it carries no TCP segment we can use.
//! Link types: Ethernet (802.1Q, QinQ), Linux cooked SLL and SLL2, raw IP
//! (12, 14, 101, 228, 229) and BSD null/loopback (0, 108); IPv4 and IPv6 with
//! extension headers. A frame cut by the snap length yields only the bytes that
//! were captured, and [`TcpSegment::missing`] says how many were not.
use std::net::{IpAddr, SocketAddr};

use etherparse::{EtherType, LaxNetSlice, LaxSlicedPacket, TransportSlice};

use crate::capture::LinkType;

/// TCP control flags the reassembler uses.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TcpFlags {
    /// SYN: opens a direction; its sequence number is the ISN.
    pub syn: bool,
    /// ACK: the acknowledgment number is valid.
    pub ack: bool,
    /// FIN: the sender's stream ends after this segment's payload.
    pub fin: bool,
    /// RST: the connection is aborted.
    pub rst: bool,
}

/// A TCP segment, addresses and payload borrowed from the frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TcpSegment<'a> {
    /// Sender.
    pub src: SocketAddr,
    /// Receiver.
    pub dst: SocketAddr,
    /// Sequence number of the first payload byte (of the SYN, if set).
    pub seq: u32,
    /// Acknowledgment number (valid when `flags.ack`).
    pub ack: u32,
    /// Control flags.
    pub flags: TcpFlags,
    /// Payload bytes that were captured.
    pub payload: &'a [u8],
    /// Payload bytes that were on the wire after `payload` but not captured.
    pub missing: u32,
}

/// Why a frame yielded no TCP segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Skip {
    /// The capture's link type is not one we decode.
    UnknownLinkType,
    /// The frame carries no IPv4/IPv6 packet (ARP, LLDP, ...).
    NotIp,
    /// An IP packet of another protocol (UDP, ICMP, ...).
    NotTcp,
    /// A fragment of an IP packet (fragment reassembly is not done).
    IpFragment,
    /// Headers cut short by the snap length or a bogus length field.
    Truncated,
    /// A header that contradicts itself.
    Malformed,
}

impl Skip {
    /// Every reason, in the order summaries list them.
    pub const ALL: [Skip; 6] = [
        Skip::UnknownLinkType,
        Skip::NotIp,
        Skip::NotTcp,
        Skip::IpFragment,
        Skip::Truncated,
        Skip::Malformed,
    ];

    /// The counter name used in summaries.
    pub fn name(self) -> &'static str {
        match self {
            Skip::UnknownLinkType => "unknown_link_type",
            Skip::NotIp => "not_ip",
            Skip::NotTcp => "not_tcp",
            Skip::IpFragment => "ip_fragment",
            Skip::Truncated => "truncated",
            Skip::Malformed => "malformed",
        }
    }
}

/// Decodes one frame down to its TCP segment.
pub fn decode(link: LinkType, frame: &[u8]) -> Result<TcpSegment<'_>, Skip> {
    if link == LinkType::ETHERNET
        && let Some(segment) = ethernet_ipv4_tcp(frame)
    {
        return Ok(segment);
    }
    let sliced = match link {
        LinkType::ETHERNET => LaxSlicedPacket::from_ethernet(frame).map_err(|_| Skip::Truncated)?,
        LinkType::LINUX_SLL => {
            let proto = be16(frame, 14).ok_or(Skip::Truncated)?;
            LaxSlicedPacket::from_ether_type(
                EtherType(proto),
                frame.get(16..).ok_or(Skip::Truncated)?,
            )
        }
        LinkType::LINUX_SLL2 => {
            let proto = be16(frame, 0).ok_or(Skip::Truncated)?;
            LaxSlicedPacket::from_ether_type(
                EtherType(proto),
                frame.get(20..).ok_or(Skip::Truncated)?,
            )
        }
        LinkType::RAW
        | LinkType::RAW_BSD
        | LinkType::RAW_OPENBSD
        | LinkType::IPV4
        | LinkType::IPV6 => LaxSlicedPacket::from_ip(frame).map_err(|_| Skip::Malformed)?,
        // The 4-byte address family differs by OS and byte order; the IP version nibble decides.
        LinkType::NULL | LinkType::LOOP => {
            LaxSlicedPacket::from_ip(frame.get(4..).ok_or(Skip::Truncated)?)
                .map_err(|_| Skip::Malformed)?
        }
        _ => return Err(Skip::UnknownLinkType),
    };
    tcp_segment(&sliced)
}

fn tcp_segment<'a>(sliced: &LaxSlicedPacket<'a>) -> Result<TcpSegment<'a>, Skip> {
    let (src_ip, dst_ip, ip_payload, payload_on_wire): (IpAddr, IpAddr, _, usize) =
        match &sliced.net {
            Some(LaxNetSlice::Ipv4(v4)) => {
                let h = v4.header();
                let ext = v4.extensions().auth.map_or(0, |a| a.slice().len());
                let on_wire = usize::from(h.total_len()).saturating_sub(h.slice().len() + ext);
                (
                    h.source_addr().into(),
                    h.destination_addr().into(),
                    v4.payload(),
                    on_wire,
                )
            }
            Some(LaxNetSlice::Ipv6(v6)) => {
                let h = v6.header();
                let on_wire =
                    usize::from(h.payload_length()).saturating_sub(v6.extensions().slice().len());
                (
                    h.source_addr().into(),
                    h.destination_addr().into(),
                    v6.payload(),
                    on_wire,
                )
            }
            Some(LaxNetSlice::Arp(_)) | None => {
                return Err(if sliced.stop_err.is_some() {
                    Skip::Truncated
                } else {
                    Skip::NotIp
                });
            }
        };
    if ip_payload.fragmented {
        return Err(Skip::IpFragment);
    }
    match &sliced.transport {
        Some(TransportSlice::Tcp(tcp)) => {
            let payload = tcp.payload();
            let missing = if ip_payload.incomplete {
                let captured = ip_payload.payload.len();
                u32::try_from(payload_on_wire.saturating_sub(captured)).unwrap_or(u32::MAX)
            } else {
                0
            };
            Ok(TcpSegment {
                src: SocketAddr::new(src_ip, tcp.source_port()),
                dst: SocketAddr::new(dst_ip, tcp.destination_port()),
                seq: tcp.sequence_number(),
                ack: tcp.acknowledgment_number(),
                flags: TcpFlags {
                    syn: tcp.syn(),
                    ack: tcp.ack(),
                    fin: tcp.fin(),
                    rst: tcp.rst(),
                },
                payload,
                missing,
            })
        }
        Some(_) => Err(Skip::NotTcp),
        None if ip_payload.ip_number == etherparse::IpNumber::TCP => {
            Err(if ip_payload.incomplete {
                Skip::Truncated
            } else {
                Skip::Malformed
            })
        }
        None => Err(Skip::NotTcp),
    }
}

/// The fast path for the commonest frame: Ethernet II, IPv4 without options,
/// not fragmented, TCP, nothing cut by the snap length. `None` means "not that
/// simple": etherparse then decodes the frame and classifies what it is.
fn ethernet_ipv4_tcp(frame: &[u8]) -> Option<TcpSegment<'_>> {
    const ETH: usize = 14;
    if be16(frame, 12)? != 0x0800 {
        return None;
    }
    let ip = frame.get(ETH..)?;
    let ip_header: &[u8; 20] = ip.get(..20)?.try_into().ok()?;
    let [
        version_ihl,
        _,
        len_hi,
        len_lo,
        _,
        _,
        flags_frag_hi,
        frag_lo,
        _,
        protocol,
        _,
        _,
        s0,
        s1,
        s2,
        s3,
        d0,
        d1,
        d2,
        d3,
    ] = *ip_header;
    // IPv4, 20-byte header, TCP, neither "more fragments" nor a fragment offset.
    if version_ihl != 0x45 || protocol != 6 || (flags_frag_hi & 0x3f) != 0 || frag_lo != 0 {
        return None;
    }
    let total = usize::from(u16::from_be_bytes([len_hi, len_lo]));
    // The IP length must fit the captured bytes (Ethernet padding may follow).
    let packet = ip.get(..total)?;
    let tcp = packet.get(20..)?;
    let tcp_header: &[u8; 20] = tcp.get(..20)?.try_into().ok()?;
    let [
        sp0,
        sp1,
        dp0,
        dp1,
        q0,
        q1,
        q2,
        q3,
        a0,
        a1,
        a2,
        a3,
        offset,
        flags,
        ..,
    ] = *tcp_header;
    let header_len = usize::from(offset >> 4) * 4;
    if header_len < 20 {
        return None;
    }
    let payload = tcp.get(header_len..)?;
    let src = SocketAddr::new(
        IpAddr::from([s0, s1, s2, s3]),
        u16::from_be_bytes([sp0, sp1]),
    );
    let dst = SocketAddr::new(
        IpAddr::from([d0, d1, d2, d3]),
        u16::from_be_bytes([dp0, dp1]),
    );
    Some(TcpSegment {
        src,
        dst,
        seq: u32::from_be_bytes([q0, q1, q2, q3]),
        ack: u32::from_be_bytes([a0, a1, a2, a3]),
        flags: TcpFlags {
            fin: flags & 0x01 != 0,
            syn: flags & 0x02 != 0,
            rst: flags & 0x04 != 0,
            ack: flags & 0x10 != 0,
        },
        payload,
        missing: 0,
    })
}

fn be16(data: &[u8], at: usize) -> Option<u16> {
    let bytes = data.get(at..at.checked_add(2)?)?;
    Some(u16::from_be_bytes([*bytes.first()?, *bytes.get(1)?]))
}

#[cfg(test)]
mod tests {
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

    fn ethernet(ether_type: u16, inner: &[u8]) -> Vec<u8> {
        let mut f = vec![0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
        f.extend_from_slice(&ether_type.to_be_bytes());
        f.extend_from_slice(inner);
        f
    }

    #[test]
    fn ethernet_ipv4_tcp() {
        let frame = ethernet(0x0800, &ipv4_tcp(b"GET / HTTP/1.1\r\n\r\n"));
        let seg = decode(LinkType::ETHERNET, &frame).unwrap();
        assert_eq!(seg.src, "10.0.0.1:51000".parse().unwrap());
        assert_eq!(seg.dst, "203.0.113.5:80".parse().unwrap());
        assert_eq!(seg.seq, 1000);
        assert_eq!(seg.payload, b"GET / HTTP/1.1\r\n\r\n");
        assert_eq!(seg.missing, 0);
        assert!(seg.flags.ack && !seg.flags.syn);
    }

    #[test]
    fn vlan_and_qinq() {
        let ip = ipv4_tcp(b"x");
        let mut vlan = vec![0x00, 0x0a, 0x08, 0x00];
        vlan.extend_from_slice(&ip);
        assert_eq!(
            decode(LinkType::ETHERNET, &ethernet(0x8100, &vlan))
                .unwrap()
                .payload,
            b"x"
        );
        let mut qinq = vec![0x00, 0x14, 0x81, 0x00];
        qinq.extend_from_slice(&vlan);
        assert_eq!(
            decode(LinkType::ETHERNET, &ethernet(0x88a8, &qinq))
                .unwrap()
                .payload,
            b"x"
        );
    }

    #[test]
    fn cooked_raw_and_null_links() {
        let ip = ipv4_tcp(b"abc");
        let mut sll = vec![0u8; 14];
        sll.extend_from_slice(&[0x08, 0x00]);
        sll.extend_from_slice(&ip);
        assert_eq!(decode(LinkType::LINUX_SLL, &sll).unwrap().payload, b"abc");
        let mut sll2 = vec![0x08, 0x00];
        sll2.extend_from_slice(&[0u8; 18]);
        sll2.extend_from_slice(&ip);
        assert_eq!(decode(LinkType::LINUX_SLL2, &sll2).unwrap().payload, b"abc");
        for link in [LinkType::RAW, LinkType::IPV4] {
            assert_eq!(decode(link, &ip).unwrap().payload, b"abc");
        }
        let mut null = 2u32.to_le_bytes().to_vec();
        null.extend_from_slice(&ip);
        assert_eq!(decode(LinkType::NULL, &null).unwrap().payload, b"abc");
    }

    #[test]
    fn ipv6_with_extension_headers() {
        let mut out = Vec::new();
        PacketBuilder::ipv6(
            [0x20, 1, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1],
            [0x20, 1, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2],
            64,
        )
        .tcp(40000, 8080, 7, 1000)
        .write(&mut out, b"hello")
        .unwrap();
        // Insert a hop-by-hop options header (8 bytes, next header TCP).
        let mut pkt = out[..40].to_vec();
        pkt[6] = 0; // next header: hop-by-hop
        let plen = u16::from_be_bytes([pkt[4], pkt[5]]) + 8;
        pkt[4..6].copy_from_slice(&plen.to_be_bytes());
        pkt.extend_from_slice(&[6, 0, 1, 4, 0, 0, 0, 0]);
        pkt.extend_from_slice(&out[40..]);
        let seg = decode(LinkType::IPV6, &pkt).unwrap();
        assert_eq!(seg.src, "[2001:db8::1]:40000".parse().unwrap());
        assert_eq!(seg.payload, b"hello");
    }

    #[test]
    fn snaplen_cut_reports_missing_bytes_and_never_invents() {
        let full = ethernet(0x0800, &ipv4_tcp(&[b'a'; 100]));
        let cut = &full[..full.len() - 60];
        let seg = decode(LinkType::ETHERNET, cut).unwrap();
        assert_eq!(seg.payload.len(), 40);
        assert_eq!(seg.missing, 60);
    }

    #[test]
    fn skips_are_classified() {
        assert_eq!(
            decode(LinkType(147), b"whatever"),
            Err(Skip::UnknownLinkType)
        );
        assert_eq!(
            decode(LinkType::ETHERNET, &ethernet(0x0806, &[0u8; 28])),
            Err(Skip::NotIp)
        );
        assert_eq!(decode(LinkType::ETHERNET, &[0u8; 5]), Err(Skip::Truncated));
        let mut udp = Vec::new();
        PacketBuilder::ipv4([1, 1, 1, 1], [2, 2, 2, 2], 9)
            .udp(1, 2)
            .write(&mut udp, b"x")
            .unwrap();
        assert_eq!(decode(LinkType::RAW, &udp), Err(Skip::NotTcp));
        let tcp = ipv4_tcp(b"");
        assert_eq!(decode(LinkType::RAW, &tcp[..30]), Err(Skip::Truncated));
    }

    #[test]
    fn fast_path_agrees_with_etherparse() {
        let mut frames = vec![
            ethernet(0x0800, &ipv4_tcp(b"GET / HTTP/1.1\r\n\r\n")),
            ethernet(0x0800, &ipv4_tcp(b"")),
            ethernet(0x0800, &ipv4_tcp(&[7u8; 1400])),
        ];
        // Ethernet padding after a short IP packet.
        let mut padded = ethernet(0x0800, &ipv4_tcp(b""));
        padded.extend_from_slice(&[0u8; 6]);
        frames.push(padded);
        for frame in frames {
            let fast = super::ethernet_ipv4_tcp(&frame).expect("fast path takes it");
            let sliced = LaxSlicedPacket::from_ethernet(&frame).unwrap();
            assert_eq!(Ok(fast), tcp_segment(&sliced));
        }
        // Everything unusual falls through to etherparse.
        let full = ethernet(0x0800, &ipv4_tcp(&[b'a'; 100]));
        assert!(
            super::ethernet_ipv4_tcp(&full[..full.len() - 10]).is_none(),
            "cut by the snap length"
        );
        let mut frag = ethernet(0x0800, &ipv4_tcp(b"abc"));
        frag[14 + 6] = 0x20; // more fragments
        assert!(super::ethernet_ipv4_tcp(&frag).is_none());
        assert_eq!(decode(LinkType::ETHERNET, &frag), Err(Skip::IpFragment));
    }

    #[test]
    fn arbitrary_bytes_never_panic() {
        let mut state = 0x1234_5678u32;
        for len in 0..200 {
            let bytes: Vec<u8> = (0..len)
                .map(|_| {
                    state ^= state << 13;
                    state ^= state >> 17;
                    state ^= state << 5;
                    state as u8
                })
                .collect();
            for link in [0u16, 1, 101, 108, 113, 228, 229, 276] {
                let _ = decode(LinkType(link), &bytes);
            }
        }
    }
}
