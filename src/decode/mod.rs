//! Packet decoding: link layer → tunnels → IP → TCP, by hand, without copying.
//!
//! In: a captured frame, its [`LinkType`] and capture time. Out: the innermost
//! [`TcpSegment`] (addresses and ports of the innermost IP packet, payload
//! borrowed from the frame or from a reassembled datagram), or the [`Skip`]
//! reason the frame carries no TCP segment we can use.
//!
//! - Link types: Ethernet (802.1Q, QinQ, 0x9100 tags; 802.3 length field with
//!   LLC/SNAP), Linux cooked SLL and SLL2, raw IP (12, 14, 101, 228, 229), BSD
//!   null/loopback (0, 108), 802.11 plain (105) and after radiotap (127),
//!   Linux NFLOG (239), Cisco HDLC (104), Linux ARCNET (129).
//! - Encapsulations, nested in any order in one pass: MPLS label stacks
//!   (IPv4/IPv6 by the version nibble, pseudowire control word and Ethernet),
//!   PPPoE sessions (PPP IPv4/IPv6), IP-in-IP (protocol 4) and IPv6-in-IP (41),
//!   GRE (versions 0 and 1, transparent Ethernet bridging, ERSPAN types I, II
//!   and III, Aruba's 802.11 frames) also over UDP 4754, VXLAN (UDP 4789 and
//!   8472), VXLAN-GPE (4790), Geneve (6081), AYIYA (5072), GTP-U (UDP 2152,
//!   GTPv1 with sequence/N-PDU/extension headers such as the 5G PDU session
//!   container). At most [`MAX_ENCAPSULATIONS`] tunnels and
//!   [`MAX_VLAN_TAGS`] VLAN tags per packet ([`Skip::TooDeep`] beyond).
//! - IPv4 (options, AH) and IPv6 (extension headers); IPv4 and IPv6 fragments
//!   are reassembled by [`Decoder`] ([`defrag`], bounded memory), at any depth.
//! - A frame cut by the snap length yields only the bytes that were captured,
//!   and [`TcpSegment::missing`] says how many were not.
//!
//! Every encapsulation seen is counted in [`TunnelStats`]; every frame that
//! yields no segment has exactly one [`Skip`] reason. A segment that came
//! through an IP tunnel names the innermost one in [`TcpSegment::tunnel`]:
//! its outer endpoints, and the GTP-U TEID or VXLAN VNI.
//!
//! Layout, one file per layer: `link.rs` (link types, Ethernet, VLAN tags,
//! EtherType dispatch), `ip.rs` (IPv4, IPv6 extension headers, fragment
//! hand-off), `tunnel.rs` (GTP-U, GRE/ERSPAN, VXLAN, MPLS, PPPoE/PPP headers),
//! `wifi.rs` (radiotap, 802.11), `llc.rs` (802.2 LLC/SNAP), `nflog.rs`,
//! `serial.rs` (Cisco HDLC, ARCNET), `overlay.rs` (Geneve, VXLAN-GPE, AYIYA),
//! `tcp.rs` (the one TCP header parser), `walk.rs` (the layer loop, and the
//! Ethernet/IPv4/TCP fast path in front of it), `defrag.rs` (reassembly),
//! `bytes.rs` (bounds-checked reads).
#![cfg_attr(not(test), deny(clippy::arithmetic_side_effects))]

mod bytes;
pub mod defrag;
mod ip;
mod link;
#[cfg(test)]
mod link_tests;
mod llc;
mod nflog;
mod overlay;
mod serial;
mod tcp;
mod tunnel;
mod walk;
mod wifi;

pub use defrag::{DefragLimits, DefragStats};

use std::net::{IpAddr, SocketAddr};

use crate::capture::LinkType;
use crate::time::Timestamp;
use defrag::Defrag;
use link::link_layer;
use walk::{Outcome, Walker, fast_path};

/// Tunnels (GRE, GTP-U, VXLAN, MPLS stack, PPPoE, IP-in-IP) followed in one packet.
pub const MAX_ENCAPSULATIONS: usize = 8;
/// VLAN tags followed in one packet.
pub const MAX_VLAN_TAGS: usize = 8;
/// IPv6 extension headers followed in one packet.
const MAX_IPV6_EXTENSIONS: usize = 16;
/// Layer transitions in one packet: a hard bound on work, whatever the nesting.
const MAX_STEPS: usize = 128;
/// Reassembled datagrams decoded further for one packet (fragments inside fragments).
const MAX_REASSEMBLIES: usize = 4;

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
    /// The innermost IP tunnel the segment came through, if any.
    pub tunnel: Option<Tunnel>,
}

/// An IP tunnel a segment came through: the outer packet's endpoints (a base
/// station and the gateway on S1-U/N3) and the tunnel's own identifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Tunnel {
    /// The encapsulation.
    pub kind: TunnelKind,
    /// Source address of the outer IP packet.
    pub src: IpAddr,
    /// Destination address of the outer IP packet.
    pub dst: IpAddr,
    /// GTP-U tunnel endpoint identifier, or VXLAN network identifier; `None`
    /// for encapsulations without one.
    pub id: Option<u32>,
}

/// The IP-carried encapsulations [`Tunnel`] names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TunnelKind {
    /// GTP-U (S1-U, N3, Gn/Gp user plane); `id` is the TEID.
    GtpU,
    /// GRE, also over UDP.
    Gre,
    /// ERSPAN (GRE-carried port mirroring).
    Erspan,
    /// VXLAN; `id` is the VNI.
    Vxlan,
    /// VXLAN-GPE.
    VxlanGpe,
    /// Geneve.
    Geneve,
    /// IPv4 or IPv6 in IP.
    IpInIp,
    /// AYIYA.
    Ayiya,
}

impl TunnelKind {
    /// The name output uses (`gtp-u`, `gre`, ...).
    pub fn name(self) -> &'static str {
        match self {
            TunnelKind::GtpU => "gtp-u",
            TunnelKind::Gre => "gre",
            TunnelKind::Erspan => "erspan",
            TunnelKind::Vxlan => "vxlan",
            TunnelKind::VxlanGpe => "vxlan-gpe",
            TunnelKind::Geneve => "geneve",
            TunnelKind::IpInIp => "ip-in-ip",
            TunnelKind::Ayiya => "ayiya",
        }
    }
}

/// Declares the skip reasons once: the [`Skip`] enum, its counter names and
/// [`SkipStats`], one counter per reason.
macro_rules! skip_reasons {
    ($( $(#[doc = $doc:literal])* $variant:ident => $name:ident, )*) => {
        /// Why a frame yielded no TCP segment.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Skip {
            $( $(#[doc = $doc])* $variant, )*
        }

        impl Skip {
            /// Every reason, in the order summaries list them.
            pub const ALL: &'static [Skip] = &[$(Skip::$variant),*];

            /// The counter name used in summaries.
            pub fn name(self) -> &'static str {
                match self {
                    $( Skip::$variant => stringify!($name), )*
                }
            }
        }

        counters! {
            /// Frames that yielded no segment, one counter per [`Skip`] reason.
            pub struct SkipStats {
                $( $(#[doc = $doc])* pub $name: u64, )*
            }
        }

        impl SkipStats {
            /// Counts one frame skipped for `skip`.
            pub fn count(&mut self, skip: Skip) {
                let slot = match skip {
                    $( Skip::$variant => &mut self.$name, )*
                };
                *slot = slot.saturating_add(1);
            }
        }
    };
}

skip_reasons! {
    /// The capture's link type is not one we decode.
    UnknownLinkType => unknown_link_type,
    /// The frame carries no IPv4/IPv6 packet (ARP, LLDP, PPPoE discovery, PPP control, ...).
    NotIp => not_ip,
    /// An IP packet of another protocol (UDP other than the tunnels, ICMP, ...).
    NotTcp => not_tcp,
    /// A fragment of an IP packet that did not complete a datagram: held for
    /// reassembly, or dropped by it (see the `decode.defrag` counters).
    IpFragment => ip_fragment,
    /// Headers cut short by the snap length or a bogus length field.
    Truncated => truncated,
    /// A header that contradicts itself.
    Malformed => malformed,
    /// A tunnel message without user data (GTP-U echo, error indication, end marker).
    TunnelControl => tunnel_control,
    /// A tunnel or link whose payload is not decoded (GTP-U non-IP PDUs,
    /// ERSPAN frame types other than Ethernet and IP, GRE source routing, GRE
    /// and overlay payload types not decoded, protected 802.11 frames, 802.11
    /// fragments, split ARCNET packets).
    UnsupportedEncapsulation => unsupported_encapsulation,
    /// More nested tunnels, VLAN tags, labels or extension headers than the limits allow.
    TooDeep => too_deep,
}

counters! {
    /// Encapsulation headers seen (each header once per packet that carried it).
    pub struct TunnelStats {
        /// 802.1Q / 802.1ad tags.
        pub vlan: u64,
        /// MPLS label stacks.
        pub mpls: u64,
        /// PPPoE session headers.
        pub pppoe: u64,
        /// GRE headers (over IP and over UDP).
        pub gre: u64,
        /// Of those, GRE over UDP (port 4754).
        pub gre_in_udp: u64,
        /// ERSPAN headers (types I, II, III) inside GRE.
        pub erspan: u64,
        /// VXLAN headers.
        pub vxlan: u64,
        /// GTP-U headers.
        pub gtpu: u64,
        /// IPv4 packets inside IP (protocol 4).
        pub ip_in_ip: u64,
        /// IPv6 packets inside IP (protocol 41, e.g. 6in4).
        pub ipv6_in_ip: u64,
        /// Geneve headers (UDP 6081).
        pub geneve: u64,
        /// VXLAN-GPE headers (UDP 4790).
        pub vxlan_gpe: u64,
        /// AYIYA headers (UDP 5072).
        pub ayiya: u64,
        /// 802.11 frames inside Aruba's GRE (protocol types 0x8200-0x8370).
        pub aruba_gre: u64,
        /// Protected (encrypted) 802.11 data frames, not decoded.
        pub wifi_protected: u64,
        /// GRE packets whose protocol type is not decoded.
        pub gre_unknown_protocol: u64,
    }
}

/// Decodes frames, reassembling IP fragments across packets.
#[derive(Debug, Default)]
pub struct Decoder {
    defrag: Defrag,
    /// The last reassembled datagram (a returned segment may borrow it).
    scratch: Vec<u8>,
    tunnels: TunnelStats,
}

impl Decoder {
    /// A decoder with these reassembly limits.
    pub fn new(limits: DefragLimits) -> Self {
        Decoder {
            defrag: Defrag::new(limits),
            scratch: Vec::new(),
            tunnels: TunnelStats::default(),
        }
    }

    /// Decodes one frame captured at `ts`. A fragment that completes a
    /// datagram yields the datagram's segment.
    pub fn decode<'a>(
        &'a mut self,
        ts: Timestamp,
        link: LinkType,
        frame: &'a [u8],
    ) -> Result<TcpSegment<'a>, Skip> {
        if link == LinkType::ETHERNET
            && let Some(fast) = fast_path(frame)
        {
            if fast.vlan {
                walk::bump(&mut self.tunnels.vlan);
            }
            if fast.gtpu {
                walk::bump(&mut self.tunnels.gtpu);
            }
            return Ok(fast.segment);
        }
        let (mut layer, mut at) = link_layer(link, frame)?;
        let mut walker = Walker::new(&mut self.tunnels, Some(&mut self.defrag), ts);
        let mut in_scratch = false;
        let mut reassemblies = 0usize;
        let found = loop {
            let source: &[u8] = if in_scratch { &self.scratch } else { frame };
            match walker.walk(source, layer, at) {
                Outcome::Segment(found) => break found,
                Outcome::Skip(skip) => return Err(skip),
                Outcome::Reassembled(payload, next) => {
                    reassemblies = reassemblies.saturating_add(1);
                    if reassemblies > MAX_REASSEMBLIES {
                        return Err(Skip::TooDeep);
                    }
                    self.scratch = payload;
                    in_scratch = true;
                    layer = next;
                    at = 0;
                }
            }
        };
        let source: &'a [u8] = if in_scratch { &self.scratch } else { frame };
        found.segment(source)
    }

    /// Decodes one frame as [`Decoder::decode`] does, but leaves fragments
    /// alone: a frame holding an IP fragment at any layer is
    /// `Err(Skip::IpFragment)` and counts nothing here (its encapsulations
    /// are counted by the decoder that reassembles it). Every other frame is
    /// decoded and counted as `decode` would.
    pub fn decode_unfragmented<'a>(
        &mut self,
        link: LinkType,
        frame: &'a [u8],
    ) -> Result<TcpSegment<'a>, Skip> {
        if link == LinkType::ETHERNET
            && let Some(fast) = fast_path(frame)
        {
            if fast.vlan {
                walk::bump(&mut self.tunnels.vlan);
            }
            if fast.gtpu {
                walk::bump(&mut self.tunnels.gtpu);
            }
            return Ok(fast.segment);
        }
        let (layer, at) = link_layer(link, frame)?;
        let mut tunnels = TunnelStats::default();
        let mut walker = Walker::new(&mut tunnels, None, Timestamp::default());
        let decoded = match walker.walk(frame, layer, at) {
            Outcome::Segment(found) => found.segment(frame),
            Outcome::Skip(skip) => Err(skip),
            Outcome::Reassembled(..) => Err(Skip::IpFragment),
        };
        if decoded != Err(Skip::IpFragment) {
            self.tunnels.absorb(&tunnels);
        }
        decoded
    }

    /// Ends a capture: datagrams still in reassembly are given up (counted).
    pub fn end_of_input(&mut self) {
        self.defrag.clear();
    }

    /// Encapsulations seen so far.
    pub fn tunnel_stats(&self) -> &TunnelStats {
        &self.tunnels
    }

    /// Reassembly counters so far.
    pub fn defrag_stats(&self) -> &DefragStats {
        self.defrag.stats()
    }

    /// Bytes held in fragment reassembly now.
    pub fn held_fragment_bytes(&self) -> usize {
        self.defrag.held_bytes()
    }
}

/// Decodes one frame without fragment reassembly (fragments are [`Skip::IpFragment`]).
pub fn decode(link: LinkType, frame: &[u8]) -> Result<TcpSegment<'_>, Skip> {
    if link == LinkType::ETHERNET
        && let Some(fast) = fast_path(frame)
    {
        return Ok(fast.segment);
    }
    let (layer, at) = link_layer(link, frame)?;
    let mut tunnels = TunnelStats::default();
    let mut walker = Walker::new(&mut tunnels, None, Timestamp::default());
    match walker.walk(frame, layer, at) {
        Outcome::Segment(found) => found.segment(frame),
        Outcome::Skip(skip) => Err(skip),
        Outcome::Reassembled(..) => Err(Skip::IpFragment),
    }
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

    /// The walker alone, without the fast path in front of it, and what it counted.
    fn walked(frame: &[u8]) -> (Result<TcpSegment<'_>, Skip>, TunnelStats) {
        let mut tunnels = TunnelStats::default();
        let result = link_layer(LinkType::ETHERNET, frame).and_then(|(layer, at)| {
            let mut walker = Walker::new(&mut tunnels, None, Timestamp::default());
            match walker.walk(frame, layer, at) {
                Outcome::Segment(found) => found.segment(frame),
                Outcome::Skip(skip) => Err(skip),
                Outcome::Reassembled(..) => Err(Skip::IpFragment),
            }
        });
        (result, tunnels)
    }

    /// Frames the fast paths take: plain, tagged, GTP-U (with an extension
    /// header too), tagged GTP-U.
    fn fast_frames() -> Vec<Vec<u8>> {
        let inner = ipv4_tcp(b"GET / HTTP/1.1\r\nX-MSISDN: 447700900123\r\n\r\n");
        let gtp = outer_ipv4(17, &udp(2152, &gtpu(&inner)));
        let mut gtp_ext = vec![0x34, 0xff, 0, 0, 0, 0, 0, 9, 0, 0, 0, 0x85, 1, 0x10, 0, 0];
        gtp_ext.extend_from_slice(&inner);
        let gtp_len = (gtp_ext.len() - 8) as u16;
        gtp_ext[2..4].copy_from_slice(&gtp_len.to_be_bytes());
        let gtp_ext = outer_ipv4(17, &udp(2152, &gtp_ext));
        let tag = |ip: &[u8]| {
            let mut t = vec![0x00, 0x0a, 0x08, 0x00];
            t.extend_from_slice(ip);
            ethernet(0x8100, &t)
        };
        vec![
            ethernet(0x0800, &inner),
            tag(&inner),
            ethernet(0x0800, &gtp),
            ethernet(0x0800, &gtp_ext),
            tag(&gtp),
        ]
    }

    #[test]
    fn the_fast_paths_take_the_common_frames() {
        let taken: Vec<(bool, bool)> = fast_frames()
            .iter()
            .map(|f| {
                let fast = walk::fast_path(f).expect("fast path");
                (fast.vlan, fast.gtpu)
            })
            .collect();
        let expected = [
            (false, false),
            (true, false),
            (false, true),
            (false, true),
            (true, true),
        ];
        assert_eq!(taken, expected);
    }

    proptest::proptest! {
        /// Whatever a fast path returns, the walker returns too, and counts
        /// exactly the layers the fast path says it crossed.
        #[test]
        fn the_fast_paths_agree_with_the_walker(
            which in 0usize..5,
            edits in proptest::collection::vec((0usize..200, proptest::prelude::any::<u8>()), 0..4),
            cut in 0usize..200,
        ) {
            let mut frame = fast_frames().swap_remove(which);
            for (at, byte) in edits {
                let at = at % frame.len();
                frame[at] = byte;
            }
            frame.truncate(frame.len().saturating_sub(cut % 8 * (cut / 8 % 2)));
            if let Some(fast) = walk::fast_path(&frame) {
                let (walked, tunnels) = walked(&frame);
                proptest::prop_assert_eq!(walked, Ok(fast.segment));
                let expected = TunnelStats {
                    vlan: u64::from(fast.vlan),
                    gtpu: u64::from(fast.gtpu),
                    ..TunnelStats::default()
                };
                proptest::prop_assert_eq!(tunnels, expected);
            }
        }
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

    /// An outer IPv4 header around `inner` with protocol `proto`.
    fn outer_ipv4(proto: u8, inner: &[u8]) -> Vec<u8> {
        let mut h = vec![0x45, 0];
        h.extend_from_slice(&((20 + inner.len()) as u16).to_be_bytes());
        h.extend_from_slice(&[0, 1, 0, 0, 64, proto, 0, 0, 172, 16, 1, 10, 172, 16, 2, 20]);
        h.extend_from_slice(inner);
        h
    }

    fn udp(dst_port: u16, inner: &[u8]) -> Vec<u8> {
        let mut u = 2152u16.to_be_bytes().to_vec();
        u.extend_from_slice(&dst_port.to_be_bytes());
        u.extend_from_slice(&((8 + inner.len()) as u16).to_be_bytes());
        u.extend_from_slice(&[0, 0]);
        u.extend_from_slice(inner);
        u
    }

    fn gtpu(inner: &[u8]) -> Vec<u8> {
        let mut g = vec![0x30, 0xff];
        g.extend_from_slice(&(inner.len() as u16).to_be_bytes());
        g.extend_from_slice(&7u32.to_be_bytes());
        g.extend_from_slice(inner);
        g
    }

    #[test]
    fn gtpu_yields_the_inner_segment() {
        let inner = ipv4_tcp(b"GET / HTTP/1.1\r\n\r\n");
        let frame = ethernet(0x0800, &outer_ipv4(17, &udp(2152, &gtpu(&inner))));
        let seg = decode(LinkType::ETHERNET, &frame).unwrap();
        assert_eq!(seg.src, "10.0.0.1:51000".parse().unwrap());
        assert_eq!(seg.payload, b"GET / HTTP/1.1\r\n\r\n");
        // A non-IP PDU inside: not decoded, and said so.
        let frame = ethernet(0x0800, &outer_ipv4(17, &udp(2152, &gtpu(&[0x20; 30]))));
        assert_eq!(
            decode(LinkType::ETHERNET, &frame),
            Err(Skip::UnsupportedEncapsulation)
        );
        // Other UDP is not TCP (2152 as the source port alone means GTP-U).
        let mut dns = udp(53, b"dns");
        dns[..2].copy_from_slice(&5353u16.to_be_bytes());
        let frame = ethernet(0x0800, &outer_ipv4(17, &dns));
        assert_eq!(decode(LinkType::ETHERNET, &frame), Err(Skip::NotTcp));
    }

    #[test]
    fn segments_name_their_innermost_ip_tunnel() {
        let inner = ipv4_tcp(b"GET / HTTP/1.1\r\n\r\n");
        assert_eq!(
            decode(LinkType::ETHERNET, &ethernet(0x0800, &inner))
                .unwrap()
                .tunnel,
            None
        );
        let gtp = outer_ipv4(17, &udp(2152, &gtpu(&inner)));
        let gtp_tunnel = Some(Tunnel {
            kind: TunnelKind::GtpU,
            src: "172.16.1.10".parse().unwrap(),
            dst: "172.16.2.20".parse().unwrap(),
            id: Some(7),
        });
        assert_eq!(
            decode(LinkType::ETHERNET, &ethernet(0x0800, &gtp))
                .unwrap()
                .tunnel,
            gtp_tunnel
        );
        // GTP-U inside IP-in-IP: the GTP-U tunnel is the one named.
        let mut outer = outer_ipv4(4, &gtp);
        outer[12..20].copy_from_slice(&[198, 18, 0, 1, 198, 18, 0, 2]);
        assert_eq!(decode(LinkType::RAW, &outer).unwrap().tunnel, gtp_tunnel);
        // A VLAN tag is no tunnel; IP-in-IP has no identifier.
        let t = decode(LinkType::RAW, &outer_ipv4(4, &inner))
            .unwrap()
            .tunnel
            .unwrap();
        assert_eq!((t.kind, t.id), (TunnelKind::IpInIp, None));
        // VXLAN: the 24-bit VNI.
        let mut vx = vec![0x08, 0, 0, 0, 0x12, 0x34, 0x56, 0];
        vx.extend_from_slice(&ethernet(0x0800, &inner));
        let frame = ethernet(0x0800, &outer_ipv4(17, &udp(4789, &vx)));
        let t = decode(LinkType::ETHERNET, &frame).unwrap().tunnel.unwrap();
        assert_eq!((t.kind, t.id), (TunnelKind::Vxlan, Some(0x12_3456)));
    }

    #[test]
    fn mpls_multicast_and_vxlan_flags() {
        let inner = ipv4_tcp(b"x");
        let mut labels = vec![0, 0x01, 0x01, 64];
        labels.extend_from_slice(&inner);
        assert_eq!(
            decode(LinkType::ETHERNET, &ethernet(0x8848, &labels))
                .unwrap()
                .payload,
            b"x"
        );
        let mut vx = vec![0, 0, 0, 0, 0, 0, 1, 0]; // I flag missing
        vx.extend_from_slice(&ethernet(0x0800, &inner));
        let frame = ethernet(0x0800, &outer_ipv4(17, &udp(4789, &vx)));
        assert_eq!(decode(LinkType::ETHERNET, &frame), Err(Skip::Malformed));
    }

    #[test]
    fn nesting_past_the_limit_is_too_deep() {
        let mut pkt = ipv4_tcp(b"deep");
        for _ in 0..MAX_ENCAPSULATIONS {
            pkt = outer_ipv4(4, &pkt);
        }
        assert_eq!(decode(LinkType::RAW, &pkt).unwrap().payload, b"deep");
        let pkt = outer_ipv4(4, &pkt);
        assert_eq!(decode(LinkType::RAW, &pkt), Err(Skip::TooDeep));
        // VLAN tags.
        let mut tags = Vec::new();
        for _ in 0..=MAX_VLAN_TAGS {
            tags.extend_from_slice(&[0, 1, 0x81, 0]);
        }
        tags.extend_from_slice(&[0, 1, 0x08, 0]);
        tags.extend_from_slice(&ipv4_tcp(b""));
        assert_eq!(
            decode(LinkType::ETHERNET, &ethernet(0x8100, &tags)),
            Err(Skip::TooDeep)
        );
    }

    #[test]
    fn pppoe_control_is_not_ip() {
        let lcp = [0x11, 0, 0, 1, 0, 6, 0xc0, 0x21, 9, 1, 0, 4];
        assert_eq!(
            decode(LinkType::ETHERNET, &ethernet(0x8864, &lcp)),
            Err(Skip::NotIp)
        );
    }

    #[test]
    fn fragments_reassemble_in_the_decoder_only() {
        let whole = ipv4_tcp(b"0123456789abcdefghijklmnopqrstuvwxyz");
        let payload = &whole[20..];
        let frag = |off: usize, more: bool, data: &[u8]| {
            let mut h = whole[..20].to_vec();
            h[2..4].copy_from_slice(&((20 + data.len()) as u16).to_be_bytes());
            let field = (off / 8) as u16 | if more { 0x2000 } else { 0 };
            h[6..8].copy_from_slice(&field.to_be_bytes());
            h.extend_from_slice(data);
            h
        };
        let second = frag(32, false, &payload[32..]);
        let first = frag(0, true, &payload[..32]);
        assert_eq!(decode(LinkType::RAW, &first), Err(Skip::IpFragment));
        let mut d = Decoder::new(DefragLimits::default());
        let t = Timestamp::from_parts(1, 0);
        assert_eq!(d.decode(t, LinkType::RAW, &second), Err(Skip::IpFragment));
        let seg = d.decode(t, LinkType::RAW, &first).unwrap();
        assert_eq!(seg.payload, b"0123456789abcdefghijklmnopqrstuvwxyz");
        assert_eq!(seg.missing, 0);
        assert_eq!(d.defrag_stats().completed, 1);
        assert_eq!(d.held_fragment_bytes(), 0);
        // A fragment cut by the snap length cannot be reassembled.
        assert_eq!(
            d.decode(t, LinkType::RAW, &first[..30]),
            Err(Skip::Truncated)
        );
    }
}
