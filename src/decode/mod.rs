//! Packet decoding: link layer → tunnels → IP → TCP, by hand, without copying.
//!
//! In: a captured frame, its [`LinkType`] and capture time. Out: the innermost
//! [`TcpSegment`] (addresses and ports of the innermost IP packet, payload
//! borrowed from the frame or from a reassembled datagram), or the [`Skip`]
//! reason the frame carries no TCP segment we can use.
//!
//! - Link types: Ethernet (802.1Q, QinQ, 0x9100 tags), Linux cooked SLL and
//!   SLL2, raw IP (12, 14, 101, 228, 229) and BSD null/loopback (0, 108).
//! - Encapsulations, nested in any order in one pass: MPLS label stacks
//!   (IPv4/IPv6 by the version nibble, pseudowire control word and Ethernet),
//!   PPPoE sessions (PPP IPv4/IPv6), IP-in-IP (protocol 4) and IPv6-in-IP (41),
//!   GRE (versions 0 and 1, transparent Ethernet bridging, ERSPAN types I, II
//!   and III) also over UDP 4754, VXLAN (UDP 4789), GTP-U (UDP 2152, GTPv1
//!   with sequence/N-PDU/extension headers such as the 5G PDU session
//!   container). At most [`MAX_ENCAPSULATIONS`] tunnels and
//!   [`MAX_VLAN_TAGS`] VLAN tags per packet ([`Skip::TooDeep`] beyond).
//! - IPv4 (options, AH) and IPv6 (extension headers); IPv4 and IPv6 fragments
//!   are reassembled by [`Decoder`] ([`defrag`], bounded memory), at any depth.
//! - A frame cut by the snap length yields only the bytes that were captured,
//!   and [`TcpSegment::missing`] says how many were not.
//!
//! Every encapsulation seen is counted in [`TunnelStats`]; every frame that
//! yields no segment has exactly one [`Skip`] reason.
#![cfg_attr(not(test), deny(clippy::arithmetic_side_effects))]

mod bytes;
pub mod defrag;
mod tunnel;

pub use defrag::{DefragLimits, DefragStats};

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use serde::Serialize;

use crate::capture::LinkType;
use crate::time::Timestamp;
use bytes::{array4, array16, be16, be32, byte};
use defrag::{Defrag, FragKey, FragOutcome, Fragment};
use tunnel::Inner;

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
}

/// Why a frame yielded no TCP segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Skip {
    /// The capture's link type is not one we decode.
    UnknownLinkType,
    /// The frame carries no IPv4/IPv6 packet (ARP, LLDP, PPPoE discovery, PPP control, ...).
    NotIp,
    /// An IP packet of another protocol (UDP other than the tunnels, ICMP, ...).
    NotTcp,
    /// A fragment of an IP packet that did not complete a datagram: held for
    /// reassembly, or dropped by it (see [`DefragStats`]).
    IpFragment,
    /// Headers cut short by the snap length or a bogus length field.
    Truncated,
    /// A header that contradicts itself.
    Malformed,
    /// A tunnel message without user data (GTP-U echo, error indication, end marker).
    TunnelControl,
    /// A tunnel whose payload is not decoded (GTP-U non-IP PDUs, ERSPAN frame
    /// types other than Ethernet and IP, GRE source routing).
    UnsupportedEncapsulation,
    /// More nested tunnels, VLAN tags, labels or extension headers than the limits allow.
    TooDeep,
}

impl Skip {
    /// Every reason, in the order summaries list them.
    pub const ALL: [Skip; 9] = [
        Skip::UnknownLinkType,
        Skip::NotIp,
        Skip::NotTcp,
        Skip::IpFragment,
        Skip::Truncated,
        Skip::Malformed,
        Skip::TunnelControl,
        Skip::UnsupportedEncapsulation,
        Skip::TooDeep,
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
            Skip::TunnelControl => "tunnel_control",
            Skip::UnsupportedEncapsulation => "unsupported_encapsulation",
            Skip::TooDeep => "too_deep",
        }
    }
}

/// Encapsulation headers seen (each header once per packet that carried it).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(default)]
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
}

impl TunnelStats {
    /// Adds another decoder's counters to these.
    pub fn absorb(&mut self, o: &TunnelStats) {
        absorb_counters!(
            self,
            o,
            TunnelStats {
                vlan,
                mpls,
                pppoe,
                gre,
                gre_in_udp,
                erspan,
                vxlan,
                gtpu,
                ip_in_ip,
                ipv6_in_ip
            }
        );
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
            && let Some(segment) = ethernet_ipv4_tcp(frame)
        {
            return Ok(segment);
        }
        let (mut layer, mut at) = link_layer(link, frame)?;
        let mut walker = Walker {
            tunnels: &mut self.tunnels,
            defrag: Some(&mut self.defrag),
            now: ts,
            encapsulations: 0,
            vlans: 0,
        };
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

/// The fast path for the commonest frame: Ethernet II, IPv4 without options,
/// not fragmented, TCP, nothing cut by the snap length. `None` means "not that
/// simple": the general walker then decodes the frame and classifies what it is.
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
    let header_len = usize::from(offset >> 4).checked_mul(4)?;
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

/// The addresses of a frame's outermost IP header (before any tunnel), read
/// through Ethernet, VLAN tags, MPLS labels and PPPoE. The parallel reader
/// shards by them: every packet of a flow, fragments and tunnelled ones
/// included, has the same outer pair (in one order or the other).
pub fn outer_ip_pair(link: LinkType, frame: &[u8]) -> Option<(IpAddr, IpAddr)> {
    let (mut layer, mut at) = link_layer(link, frame).ok()?;
    for _ in 0..32 {
        match layer {
            Layer::Ethernet => {
                layer = Layer::EtherType(be16(frame, at.checked_add(12)?)?);
                at = at.checked_add(14)?;
            }
            Layer::EtherType(0x8100 | 0x88a8 | 0x9100) => {
                layer = Layer::EtherType(be16(frame, at.checked_add(2)?)?);
                at = at.checked_add(4)?;
            }
            Layer::EtherType(0x0800 | 0x86dd) | Layer::Ip | Layer::Ipv4 | Layer::Ipv6 => break,
            Layer::EtherType(0x8847 | 0x8848) | Layer::Mpls => {
                // Labels up to the bottom of the stack, then IP.
                loop {
                    let bottom = byte(frame, at.checked_add(2)?)? & 1 == 1;
                    at = at.checked_add(4)?;
                    if bottom {
                        break;
                    }
                }
                layer = Layer::Ip;
            }
            Layer::EtherType(0x8864) => {
                // PPPoE session header (6 bytes), then the PPP protocol.
                let proto = be16(frame, at.checked_add(6)?)?;
                at = at.checked_add(8)?;
                layer = match proto {
                    0x0021 | 0x0057 => Layer::Ip,
                    _ => return None,
                };
            }
            _ => return None,
        }
    }
    match byte(frame, at)? >> 4 {
        4 => Some((
            IpAddr::V4(Ipv4Addr::from(array4(frame, at.checked_add(12)?)?)),
            IpAddr::V4(Ipv4Addr::from(array4(frame, at.checked_add(16)?)?)),
        )),
        6 => Some((
            IpAddr::V6(Ipv6Addr::from(array16(frame, at.checked_add(8)?)?)),
            IpAddr::V6(Ipv6Addr::from(array16(frame, at.checked_add(24)?)?)),
        )),
        _ => None,
    }
}

/// Decodes one frame without fragment reassembly (fragments are [`Skip::IpFragment`]).
pub fn decode(link: LinkType, frame: &[u8]) -> Result<TcpSegment<'_>, Skip> {
    if link == LinkType::ETHERNET
        && let Some(segment) = ethernet_ipv4_tcp(frame)
    {
        return Ok(segment);
    }
    let (layer, at) = link_layer(link, frame)?;
    let mut tunnels = TunnelStats::default();
    let mut walker = Walker {
        tunnels: &mut tunnels,
        defrag: None,
        now: Timestamp::default(),
        encapsulations: 0,
        vlans: 0,
    };
    match walker.walk(frame, layer, at) {
        Outcome::Segment(found) => found.segment(frame),
        Outcome::Skip(skip) => Err(skip),
        Outcome::Reassembled(..) => Err(Skip::IpFragment),
    }
}

/// The first layer of a link type, and where it starts in the frame.
fn link_layer(link: LinkType, frame: &[u8]) -> Result<(Layer, usize), Skip> {
    Ok(match link {
        LinkType::ETHERNET => (Layer::Ethernet, 0),
        LinkType::LINUX_SLL => (
            Layer::EtherType(be16(frame, 14).ok_or(Skip::Truncated)?),
            16,
        ),
        LinkType::LINUX_SLL2 => (Layer::EtherType(be16(frame, 0).ok_or(Skip::Truncated)?), 20),
        LinkType::RAW
        | LinkType::RAW_BSD
        | LinkType::RAW_OPENBSD
        | LinkType::IPV4
        | LinkType::IPV6 => (Layer::Ip, 0),
        // The 4-byte address family differs by OS and byte order; the IP version nibble decides.
        LinkType::NULL | LinkType::LOOP => (Layer::Ip, 4),
        _ => return Err(Skip::UnknownLinkType),
    })
}

/// The network layer a payload travels in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Net {
    src: IpAddr,
    dst: IpAddr,
    /// Length of the payload on the wire (from the header's length field).
    wire: usize,
}

impl Net {
    /// The reason for a header that does not fit in `data`: cut by the
    /// capture when the packet was longer on the wire, else malformed.
    fn short(&self, data: &[u8]) -> Skip {
        if self.wire > data.len() {
            Skip::Truncated
        } else {
            Skip::Malformed
        }
    }
}

/// What the bytes at hand are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Layer {
    Ethernet,
    EtherType(u16),
    /// IPv4 or IPv6 by the version nibble.
    Ip,
    Ipv4,
    Ipv6,
    /// IPv6 extension headers (or the upper layer), starting with `next`.
    Ipv6Ext {
        next: u8,
        net: Net,
    },
    /// The payload of an IP packet.
    Transport {
        proto: u8,
        net: Net,
    },
    Mpls,
    Ppp,
    Gre,
}

/// A TCP segment found, its payload as a range of the source buffer.
#[derive(Debug, Clone, Copy)]
struct Found {
    src: SocketAddr,
    dst: SocketAddr,
    seq: u32,
    ack: u32,
    flags: TcpFlags,
    payload_at: usize,
    payload_len: usize,
    missing: u32,
}

impl Found {
    fn segment(self, source: &[u8]) -> Result<TcpSegment<'_>, Skip> {
        let end = self
            .payload_at
            .checked_add(self.payload_len)
            .ok_or(Skip::Malformed)?;
        Ok(TcpSegment {
            src: self.src,
            dst: self.dst,
            seq: self.seq,
            ack: self.ack,
            flags: self.flags,
            payload: source.get(self.payload_at..end).ok_or(Skip::Malformed)?,
            missing: self.missing,
        })
    }
}

enum Outcome {
    Segment(Found),
    Skip(Skip),
    /// A datagram was reassembled: decode it from this layer on.
    Reassembled(Vec<u8>, Layer),
}

enum Step<'d> {
    Next(Layer, &'d [u8]),
    Tcp(Found, &'d [u8]),
    Reassembled(Vec<u8>, Layer),
}

/// The state of one packet's decoding.
struct Walker<'s> {
    tunnels: &'s mut TunnelStats,
    defrag: Option<&'s mut Defrag>,
    now: Timestamp,
    encapsulations: usize,
    vlans: usize,
}

fn tail(data: &[u8], at: usize) -> Result<&[u8], Skip> {
    data.get(at..).ok_or(Skip::Truncated)
}

fn bump(counter: &mut u64) {
    *counter = counter.saturating_add(1);
}

impl Walker<'_> {
    fn walk(&mut self, base: &[u8], first: Layer, at: usize) -> Outcome {
        let Some(mut data) = base.get(at..) else {
            return Outcome::Skip(Skip::Truncated);
        };
        let mut layer = first;
        for _ in 0..MAX_STEPS {
            match self.step(layer, data) {
                Ok(Step::Next(next, rest)) => {
                    layer = next;
                    data = rest;
                }
                Ok(Step::Tcp(mut found, payload)) => {
                    // The payload is a sub-slice of `base`: its offset is exact.
                    found.payload_at =
                        (payload.as_ptr() as usize).wrapping_sub(base.as_ptr() as usize);
                    found.payload_len = payload.len();
                    return Outcome::Segment(found);
                }
                Ok(Step::Reassembled(payload, next)) => return Outcome::Reassembled(payload, next),
                Err(skip) => return Outcome::Skip(skip),
            }
        }
        Outcome::Skip(Skip::TooDeep)
    }

    /// Enters one more tunnel.
    fn enter(&mut self) -> Result<(), Skip> {
        self.encapsulations = self.encapsulations.saturating_add(1);
        if self.encapsulations > MAX_ENCAPSULATIONS {
            return Err(Skip::TooDeep);
        }
        Ok(())
    }

    fn step<'d>(&mut self, layer: Layer, data: &'d [u8]) -> Result<Step<'d>, Skip> {
        match layer {
            Layer::Ethernet => {
                let ether_type = be16(data, 12).ok_or(Skip::Truncated)?;
                Ok(Step::Next(Layer::EtherType(ether_type), tail(data, 14)?))
            }
            Layer::EtherType(ether_type) => self.ether_type(ether_type, data),
            Layer::Ip => match byte(data, 0).map(|b| b >> 4) {
                Some(4) => Ok(Step::Next(Layer::Ipv4, data)),
                Some(6) => Ok(Step::Next(Layer::Ipv6, data)),
                Some(_) => Err(Skip::Malformed),
                None => Err(Skip::Truncated),
            },
            Layer::Ipv4 => self.ipv4(data),
            Layer::Ipv6 => ipv6(data),
            Layer::Ipv6Ext { next, net } => self.ipv6_extensions(next, net, data),
            Layer::Transport { proto, net } => self.transport(proto, net, data),
            Layer::Mpls => {
                self.enter()?;
                bump(&mut self.tunnels.mpls);
                let (len, inner) = tunnel::mpls(data)?;
                Ok(Step::Next(inner_layer(inner), tail(data, len)?))
            }
            Layer::Ppp => {
                let (len, ether_type) = tunnel::ppp(data)?;
                Ok(Step::Next(Layer::EtherType(ether_type), tail(data, len)?))
            }
            Layer::Gre => {
                self.enter()?;
                bump(&mut self.tunnels.gre);
                let gre = tunnel::gre(data)?;
                if gre.erspan {
                    bump(&mut self.tunnels.erspan);
                }
                Ok(Step::Next(
                    inner_layer(gre.inner),
                    tail(data, gre.header_len)?,
                ))
            }
        }
    }

    fn ether_type<'d>(&mut self, ether_type: u16, data: &'d [u8]) -> Result<Step<'d>, Skip> {
        match ether_type {
            0x0800 => Ok(Step::Next(Layer::Ipv4, data)),
            0x86dd => Ok(Step::Next(Layer::Ipv6, data)),
            0x8100 | 0x88a8 | 0x9100 | 0x9200 => {
                self.vlans = self.vlans.saturating_add(1);
                if self.vlans > MAX_VLAN_TAGS {
                    return Err(Skip::TooDeep);
                }
                bump(&mut self.tunnels.vlan);
                let next = be16(data, 2).ok_or(Skip::Truncated)?;
                Ok(Step::Next(Layer::EtherType(next), tail(data, 4)?))
            }
            0x8847 | 0x8848 => Ok(Step::Next(Layer::Mpls, data)),
            0x8864 => {
                self.enter()?;
                bump(&mut self.tunnels.pppoe);
                let (start, end) = tunnel::pppoe_session(data)?;
                Ok(Step::Next(
                    Layer::Ppp,
                    data.get(start..end).ok_or(Skip::Malformed)?,
                ))
            }
            tunnel::ETHERTYPE_TEB => Ok(Step::Next(Layer::Ethernet, data)),
            _ => Err(Skip::NotIp),
        }
    }

    fn ipv4<'d>(&mut self, data: &'d [u8]) -> Result<Step<'d>, Skip> {
        let first = byte(data, 0).ok_or(Skip::Truncated)?;
        if first >> 4 != 4 {
            return Err(Skip::Malformed);
        }
        let header_len = usize::from(first & 0x0f).saturating_mul(4);
        if header_len < 20 {
            return Err(Skip::Malformed);
        }
        if data.len() < header_len {
            return Err(Skip::Truncated);
        }
        let total = match usize::from(be16(data, 2).ok_or(Skip::Truncated)?) {
            // Segmentation offload: the length is filled in by the NIC, after capture.
            0 => data.len(),
            n => n,
        };
        if total < header_len {
            return Err(Skip::Malformed);
        }
        let end = total.min(data.len());
        let payload = data.get(header_len..end).ok_or(Skip::Malformed)?;
        let fragment = be16(data, 6).ok_or(Skip::Truncated)?;
        let proto = byte(data, 9).ok_or(Skip::Truncated)?;
        let src = IpAddr::V4(Ipv4Addr::from(array4(data, 12).ok_or(Skip::Truncated)?));
        let dst = IpAddr::V4(Ipv4Addr::from(array4(data, 16).ok_or(Skip::Truncated)?));
        let net = Net {
            src,
            dst,
            wire: total.saturating_sub(header_len),
        };
        let more = fragment & 0x2000 != 0;
        let offset = usize::from(fragment & 0x1fff).saturating_mul(8);
        if more || offset != 0 {
            if end < total {
                // A fragment cut by the snap length cannot be reassembled.
                return Err(Skip::Truncated);
            }
            let id = u32::from(be16(data, 4).ok_or(Skip::Truncated)?);
            let key = FragKey {
                src,
                dst,
                id,
                proto,
            };
            let frag = Fragment {
                offset,
                more,
                next_header: proto,
                data: payload,
            };
            return self.fragment(key, frag, false);
        }
        Ok(Step::Next(Layer::Transport { proto, net }, payload))
    }

    fn ipv6_extensions<'d>(
        &mut self,
        mut next: u8,
        net: Net,
        mut data: &'d [u8],
    ) -> Result<Step<'d>, Skip> {
        let mut wire = net.wire;
        for _ in 0..MAX_IPV6_EXTENSIONS {
            let here = Net { wire, ..net };
            let len = match next {
                // Hop-by-hop, routing, destination options, mobility, HIP, shim6:
                // length in 8-byte units, not counting the first 8.
                0 | 43 | 60 | 135 | 139 | 140 => {
                    let units = byte(data, 1).ok_or_else(|| here.short(data))?;
                    usize::from(units).saturating_add(1).saturating_mul(8)
                }
                // Authentication header: length in 4-byte units, not counting the first 8.
                51 => {
                    let units = byte(data, 1).ok_or_else(|| here.short(data))?;
                    usize::from(units).saturating_add(2).saturating_mul(4)
                }
                44 => {
                    let header = data.get(..8).ok_or_else(|| here.short(data))?;
                    let next_header = byte(header, 0).ok_or(Skip::Truncated)?;
                    let field = be16(header, 2).ok_or(Skip::Truncated)?;
                    let id = be32(header, 4).ok_or(Skip::Truncated)?;
                    let rest = tail(data, 8)?;
                    let offset = usize::from(field >> 3).saturating_mul(8);
                    let more = field & 1 != 0;
                    if offset == 0 && !more {
                        // An atomic fragment (RFC 6946): the whole packet.
                        next = next_header;
                        data = rest;
                        wire = wire.saturating_sub(8);
                        continue;
                    }
                    if wire.saturating_sub(8) > rest.len() {
                        return Err(Skip::Truncated);
                    }
                    let key = FragKey {
                        src: net.src,
                        dst: net.dst,
                        id,
                        proto: 0,
                    };
                    let frag = Fragment {
                        offset,
                        more,
                        next_header,
                        data: rest,
                    };
                    return self.fragment(key, frag, true);
                }
                proto => return Ok(Step::Next(Layer::Transport { proto, net: here }, data)),
            };
            if data.len() < len {
                return Err(here.short(data));
            }
            next = byte(data, 0).ok_or(Skip::Truncated)?;
            data = tail(data, len)?;
            wire = wire.saturating_sub(len);
        }
        Err(Skip::TooDeep)
    }

    fn fragment<'d>(
        &mut self,
        key: FragKey,
        frag: Fragment<'_>,
        v6: bool,
    ) -> Result<Step<'d>, Skip> {
        let Some(defrag) = self.defrag.as_deref_mut() else {
            return Err(Skip::IpFragment);
        };
        match defrag.insert(self.now, key, frag) {
            FragOutcome::Complete { payload, proto } => {
                let net = Net {
                    src: key.src,
                    dst: key.dst,
                    wire: payload.len(),
                };
                let layer = if v6 {
                    Layer::Ipv6Ext { next: proto, net }
                } else {
                    Layer::Transport { proto, net }
                };
                Ok(Step::Reassembled(payload, layer))
            }
            FragOutcome::Held | FragOutcome::Dropped => Err(Skip::IpFragment),
        }
    }

    fn transport<'d>(&mut self, proto: u8, net: Net, data: &'d [u8]) -> Result<Step<'d>, Skip> {
        match proto {
            6 => tcp(net, data),
            17 => self.udp(net, data),
            47 => Ok(Step::Next(Layer::Gre, data)),
            4 => {
                self.enter()?;
                bump(&mut self.tunnels.ip_in_ip);
                Ok(Step::Next(Layer::Ipv4, data))
            }
            41 => {
                self.enter()?;
                bump(&mut self.tunnels.ipv6_in_ip);
                Ok(Step::Next(Layer::Ipv6, data))
            }
            // IPv4 authentication header: length in 4-byte units, not counting the first 8.
            51 => {
                let next = byte(data, 0).ok_or_else(|| net.short(data))?;
                let units = byte(data, 1).ok_or_else(|| net.short(data))?;
                let len = usize::from(units).saturating_add(2).saturating_mul(4);
                if data.len() < len {
                    return Err(net.short(data));
                }
                let net = Net {
                    wire: net.wire.saturating_sub(len),
                    ..net
                };
                Ok(Step::Next(
                    Layer::Transport { proto: next, net },
                    tail(data, len)?,
                ))
            }
            _ => Err(Skip::NotTcp),
        }
    }

    fn udp<'d>(&mut self, net: Net, data: &'d [u8]) -> Result<Step<'d>, Skip> {
        if data.len() < 8 {
            return Err(net.short(data));
        }
        let src_port = be16(data, 0).ok_or(Skip::Truncated)?;
        let dst_port = be16(data, 2).ok_or(Skip::Truncated)?;
        let len = match usize::from(be16(data, 4).ok_or(Skip::Truncated)?) {
            0 => data.len(),
            n => n,
        };
        if len < 8 {
            return Err(Skip::Malformed);
        }
        let payload = data.get(8..len.min(data.len())).ok_or(Skip::Malformed)?;
        let gtpu = dst_port == tunnel::GTPU_PORT
            || (src_port == tunnel::GTPU_PORT
                && dst_port != tunnel::VXLAN_PORT
                && dst_port != tunnel::GRE_UDP_PORT);
        if gtpu {
            self.enter()?;
            bump(&mut self.tunnels.gtpu);
            let gtp = tunnel::gtpu(payload)?;
            let inner = payload
                .get(gtp.header_len..gtp.end)
                .ok_or(Skip::Malformed)?;
            return match byte(inner, 0).map(|b| b >> 4) {
                Some(4) => Ok(Step::Next(Layer::Ipv4, inner)),
                Some(6) => Ok(Step::Next(Layer::Ipv6, inner)),
                Some(_) => Err(Skip::UnsupportedEncapsulation),
                None => Err(Skip::Truncated),
            };
        }
        match dst_port {
            tunnel::VXLAN_PORT => {
                self.enter()?;
                bump(&mut self.tunnels.vxlan);
                let len = tunnel::vxlan(payload)?;
                Ok(Step::Next(Layer::Ethernet, tail(payload, len)?))
            }
            tunnel::GRE_UDP_PORT => {
                bump(&mut self.tunnels.gre_in_udp);
                Ok(Step::Next(Layer::Gre, payload))
            }
            _ => Err(Skip::NotTcp),
        }
    }
}

fn inner_layer(inner: Inner) -> Layer {
    match inner {
        Inner::Ethernet => Layer::Ethernet,
        Inner::Ip => Layer::Ip,
        Inner::EtherType(t) => Layer::EtherType(t),
        Inner::Ppp => Layer::Ppp,
    }
}

fn ipv6(data: &[u8]) -> Result<Step<'_>, Skip> {
    let first = byte(data, 0).ok_or(Skip::Truncated)?;
    if first >> 4 != 6 {
        return Err(Skip::Malformed);
    }
    if data.len() < 40 {
        return Err(Skip::Truncated);
    }
    let payload_len = match usize::from(be16(data, 4).ok_or(Skip::Truncated)?) {
        // Jumbogram or segmentation offload: the captured bytes are the packet.
        0 => data.len().saturating_sub(40),
        n => n,
    };
    let next = byte(data, 6).ok_or(Skip::Truncated)?;
    let src = IpAddr::V6(Ipv6Addr::from(array16(data, 8).ok_or(Skip::Truncated)?));
    let dst = IpAddr::V6(Ipv6Addr::from(array16(data, 24).ok_or(Skip::Truncated)?));
    let end = payload_len.saturating_add(40).min(data.len());
    let payload = data.get(40..end).ok_or(Skip::Truncated)?;
    let net = Net {
        src,
        dst,
        wire: payload_len,
    };
    Ok(Step::Next(Layer::Ipv6Ext { next, net }, payload))
}

fn tcp(net: Net, data: &[u8]) -> Result<Step<'_>, Skip> {
    if data.len() < 20 {
        return Err(net.short(data));
    }
    let header_len = usize::from(byte(data, 12).ok_or(Skip::Truncated)? >> 4).saturating_mul(4);
    if header_len < 20 {
        return Err(Skip::Malformed);
    }
    let payload = data.get(header_len..).ok_or_else(|| net.short(data))?;
    let flags = byte(data, 13).ok_or(Skip::Truncated)?;
    let found = Found {
        src: SocketAddr::new(net.src, be16(data, 0).ok_or(Skip::Truncated)?),
        dst: SocketAddr::new(net.dst, be16(data, 2).ok_or(Skip::Truncated)?),
        seq: be32(data, 4).ok_or(Skip::Truncated)?,
        ack: be32(data, 8).ok_or(Skip::Truncated)?,
        flags: TcpFlags {
            fin: flags & 0x01 != 0,
            syn: flags & 0x02 != 0,
            rst: flags & 0x04 != 0,
            ack: flags & 0x10 != 0,
        },
        payload_at: 0,
        payload_len: 0,
        missing: u32::try_from(net.wire.saturating_sub(data.len())).unwrap_or(u32::MAX),
    };
    Ok(Step::Tcp(found, payload))
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
