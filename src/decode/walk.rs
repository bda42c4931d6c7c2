//! The layer loop: one bounded walk from the link layer to the innermost TCP
//! header, each step reading one header (in [`super::link`], [`super::ip`],
//! [`super::tunnel`], [`super::tcp`]) and naming the next layer. In front of
//! it, the fast path for the commonest frame (Ethernet II, IPv4 without
//! options, TCP, also after one VLAN tag or inside GTP-U), which shares the
//! TCP and GTP-U parsers.
use std::net::{IpAddr, SocketAddr};

use super::bytes::{be16, byte};
use super::defrag::Defrag;
use super::ip::{self, Net, PROTO_AH, PROTO_GRE, PROTO_IPIP, PROTO_IPV6, PROTO_TCP, PROTO_UDP};
use super::link::{self, ETHERTYPE_IPV4, ETHERTYPE_VLAN};
use super::overlay::{AYIYA_PORT, GENEVE_PORT, VXLAN_GPE_PORT, VXLAN_LINUX_PORT};
use super::tunnel::{self, Inner};
use super::wifi::{self, Dot11};
use super::{
    MAX_ENCAPSULATIONS, MAX_STEPS, Skip, TcpFlags, TcpSegment, Tunnel, TunnelKind, TunnelStats,
    llc, nflog, overlay, tcp,
};
use crate::time::Timestamp;

/// What the bytes at hand are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Layer {
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
    /// A radiotap header, then an 802.11 frame.
    Radiotap,
    /// An 802.11 frame; `data_pad` aligns its payload to 4 bytes.
    Dot11 {
        data_pad: bool,
    },
    /// An 802.2 LLC header (SNAP names the EtherType).
    Llc,
    /// A Linux NFLOG record.
    Nflog,
}

/// A TCP segment found, its payload as a range of the source buffer.
#[derive(Debug, Clone, Copy)]
pub(super) struct Found {
    pub src: SocketAddr,
    pub dst: SocketAddr,
    pub seq: u32,
    pub ack: u32,
    pub flags: TcpFlags,
    pub payload_at: usize,
    pub payload_len: usize,
    pub missing: u32,
    pub tunnel: Option<Tunnel>,
}

impl Found {
    pub(super) fn segment(self, source: &[u8]) -> Result<TcpSegment<'_>, Skip> {
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
            tunnel: self.tunnel,
        })
    }
}

pub(super) enum Outcome {
    Segment(Found),
    Skip(Skip),
    /// A datagram was reassembled: decode it from this layer on.
    Reassembled(Vec<u8>, Layer),
}

pub(super) enum Step<'d> {
    Next(Layer, &'d [u8]),
    Tcp(Found, &'d [u8]),
    Reassembled(Vec<u8>, Layer),
}

/// The state of one packet's decoding.
pub(super) struct Walker<'s> {
    pub tunnels: &'s mut TunnelStats,
    pub defrag: Option<&'s mut Defrag>,
    pub now: Timestamp,
    pub encapsulations: usize,
    pub vlans: usize,
    /// The innermost IP tunnel entered so far.
    pub tunnel: Option<Tunnel>,
}

pub(super) fn tail(data: &[u8], at: usize) -> Result<&[u8], Skip> {
    data.get(at..).ok_or(Skip::Truncated)
}

pub(super) fn bump(counter: &mut u64) {
    *counter = counter.saturating_add(1);
}

impl<'s> Walker<'s> {
    /// A walk for one packet captured at `now`.
    pub(super) fn new(
        tunnels: &'s mut TunnelStats,
        defrag: Option<&'s mut Defrag>,
        now: Timestamp,
    ) -> Self {
        Walker {
            tunnels,
            defrag,
            now,
            encapsulations: 0,
            vlans: 0,
            tunnel: None,
        }
    }
}

impl Walker<'_> {
    pub(super) fn walk(&mut self, base: &[u8], first: Layer, at: usize) -> Outcome {
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
                    found.tunnel = self.tunnel;
                    return Outcome::Segment(found);
                }
                Ok(Step::Reassembled(payload, next)) => return Outcome::Reassembled(payload, next),
                Err(skip) => return Outcome::Skip(skip),
            }
        }
        Outcome::Skip(Skip::TooDeep)
    }

    /// Notes an IP tunnel entered from the packet `net`.
    fn tunnel(&mut self, kind: TunnelKind, net: &Net, id: Option<u32>) {
        self.tunnel = Some(Tunnel {
            kind,
            src: net.src,
            dst: net.dst,
            id,
        });
    }

    /// Enters one more tunnel.
    pub(super) fn enter(&mut self) -> Result<(), Skip> {
        self.encapsulations = self.encapsulations.saturating_add(1);
        if self.encapsulations > MAX_ENCAPSULATIONS {
            return Err(Skip::TooDeep);
        }
        Ok(())
    }

    fn step<'d>(&mut self, layer: Layer, data: &'d [u8]) -> Result<Step<'d>, Skip> {
        match layer {
            Layer::Ethernet => link::ethernet(data),
            Layer::EtherType(ether_type) => self.ether_type(ether_type, data),
            Layer::Ip => ip::by_version(data),
            Layer::Ipv4 => self.ipv4(data),
            Layer::Ipv6 => ip::ipv6(data),
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
                    if let Some(t) = &mut self.tunnel {
                        t.kind = TunnelKind::Erspan;
                    }
                }
                let rest = tail(data, gre.header_len)?;
                match gre.inner {
                    Inner::EtherType(proto) if wifi::is_aruba_gre(proto) => {
                        bump(&mut self.tunnels.aruba_gre);
                        Ok(Step::Next(Layer::Dot11 { data_pad: false }, rest))
                    }
                    Inner::EtherType(proto) if !link::decodable(proto) => {
                        bump(&mut self.tunnels.gre_unknown_protocol);
                        Err(Skip::UnsupportedEncapsulation)
                    }
                    inner => Ok(Step::Next(inner_layer(inner), rest)),
                }
            }
            Layer::Radiotap => {
                let rt = wifi::radiotap(data)?;
                let frame = tail(data, rt.header_len)?;
                let frame = if rt.fcs {
                    let end = frame
                        .len()
                        .checked_sub(wifi::FCS_LEN)
                        .ok_or(Skip::Truncated)?;
                    frame.get(..end).ok_or(Skip::Truncated)?
                } else {
                    frame
                };
                Ok(Step::Next(
                    Layer::Dot11 {
                        data_pad: rt.data_pad,
                    },
                    frame,
                ))
            }
            Layer::Dot11 { data_pad } => match wifi::dot11(data, data_pad)? {
                Dot11::Data(start, end) => Ok(Step::Next(
                    Layer::Llc,
                    data.get(start..end).ok_or(Skip::Truncated)?,
                )),
                Dot11::Protected => {
                    bump(&mut self.tunnels.wifi_protected);
                    Err(Skip::UnsupportedEncapsulation)
                }
            },
            Layer::Llc => {
                let (len, ether_type) = llc::llc(data)?;
                Ok(Step::Next(Layer::EtherType(ether_type), tail(data, len)?))
            }
            Layer::Nflog => {
                let (start, end) = nflog::nflog(data)?;
                Ok(Step::Next(
                    Layer::Ip,
                    data.get(start..end).ok_or(Skip::Truncated)?,
                ))
            }
        }
    }

    /// The payload of an IP packet, by its protocol number.
    fn transport<'d>(&mut self, proto: u8, net: Net, data: &'d [u8]) -> Result<Step<'d>, Skip> {
        match proto {
            PROTO_TCP => tcp_step(net, data),
            PROTO_UDP => self.udp(net, data),
            PROTO_GRE => {
                self.tunnel(TunnelKind::Gre, &net, None);
                Ok(Step::Next(Layer::Gre, data))
            }
            PROTO_IPIP => {
                self.enter()?;
                bump(&mut self.tunnels.ip_in_ip);
                self.tunnel(TunnelKind::IpInIp, &net, None);
                Ok(Step::Next(Layer::Ipv4, data))
            }
            PROTO_IPV6 => {
                self.enter()?;
                bump(&mut self.tunnels.ipv6_in_ip);
                self.tunnel(TunnelKind::IpInIp, &net, None);
                Ok(Step::Next(Layer::Ipv6, data))
            }
            PROTO_AH => self.ipv4_ah(net, data),
            _ => Err(Skip::NotTcp),
        }
    }

    /// A UDP datagram: a tunnel by its port, else not TCP.
    fn udp<'d>(&mut self, net: Net, data: &'d [u8]) -> Result<Step<'d>, Skip> {
        let Some(Udp {
            src_port,
            dst_port,
            payload,
        }) = udp_header(data)
        else {
            return Err(if data.len() < 8 {
                net.short(data)
            } else {
                Skip::Malformed
            });
        };
        // GTP-U also by its source port, unless the destination names another tunnel.
        let gtpu = dst_port == tunnel::GTPU_PORT
            || (src_port == tunnel::GTPU_PORT
                && !matches!(
                    dst_port,
                    tunnel::VXLAN_PORT
                        | VXLAN_LINUX_PORT
                        | tunnel::GRE_UDP_PORT
                        | GENEVE_PORT
                        | VXLAN_GPE_PORT
                        | AYIYA_PORT
                ));
        if gtpu {
            self.enter()?;
            bump(&mut self.tunnels.gtpu);
            let gtp = tunnel::gtpu(payload)?;
            self.tunnel(TunnelKind::GtpU, &net, Some(gtp.teid));
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
            tunnel::VXLAN_PORT | VXLAN_LINUX_PORT => {
                self.enter()?;
                bump(&mut self.tunnels.vxlan);
                let (len, vni) = tunnel::vxlan(payload)?;
                self.tunnel(TunnelKind::Vxlan, &net, Some(vni));
                Ok(Step::Next(Layer::Ethernet, tail(payload, len)?))
            }
            tunnel::GRE_UDP_PORT => {
                bump(&mut self.tunnels.gre_in_udp);
                self.tunnel(TunnelKind::Gre, &net, None);
                Ok(Step::Next(Layer::Gre, payload))
            }
            GENEVE_PORT => {
                self.enter()?;
                bump(&mut self.tunnels.geneve);
                self.tunnel(TunnelKind::Geneve, &net, None);
                overlay_payload(payload, overlay::geneve(payload)?)
            }
            VXLAN_GPE_PORT => {
                self.enter()?;
                bump(&mut self.tunnels.vxlan_gpe);
                self.tunnel(TunnelKind::VxlanGpe, &net, None);
                overlay_payload(payload, overlay::vxlan_gpe(payload)?)
            }
            // AYIYA by either port: the broker answers from 5072.
            _ if dst_port == AYIYA_PORT || src_port == AYIYA_PORT => {
                self.enter()?;
                bump(&mut self.tunnels.ayiya);
                self.tunnel(TunnelKind::Ayiya, &net, None);
                overlay_payload(payload, overlay::ayiya(payload)?)
            }
            _ => Err(Skip::NotTcp),
        }
    }
}

/// What follows an overlay header of `len` bytes; a payload type the walker
/// does not decode is an unsupported encapsulation.
fn overlay_payload(payload: &[u8], (len, inner): (usize, Inner)) -> Result<Step<'_>, Skip> {
    if let Inner::EtherType(t) = inner
        && !link::decodable(t)
    {
        return Err(Skip::UnsupportedEncapsulation);
    }
    Ok(Step::Next(inner_layer(inner), tail(payload, len)?))
}

fn inner_layer(inner: Inner) -> Layer {
    match inner {
        Inner::Ethernet => Layer::Ethernet,
        Inner::Ip => Layer::Ip,
        Inner::EtherType(t) => Layer::EtherType(t),
        Inner::Ppp => Layer::Ppp,
    }
}

/// The TCP header ends the walk: the segment, with its payload.
fn tcp_step(net: Net, data: &[u8]) -> Result<Step<'_>, Skip> {
    let header = match tcp::header(data) {
        Ok(h) => h,
        Err(tcp::Error::Short) => return Err(net.short(data)),
        Err(tcp::Error::BadOffset) => return Err(Skip::Malformed),
    };
    let payload = tail(data, header.len)?;
    let found = Found {
        src: SocketAddr::new(net.src, header.src_port),
        dst: SocketAddr::new(net.dst, header.dst_port),
        seq: header.seq,
        ack: header.ack,
        flags: header.flags,
        payload_at: 0,
        payload_len: 0,
        tunnel: None,
        missing: u32::try_from(net.wire.saturating_sub(data.len())).unwrap_or(u32::MAX),
    };
    Ok(Step::Tcp(found, payload))
}

/// A UDP header's ports, and the payload to the header's length (0: to the
/// end, as segmentation offload leaves it), cut to what was captured.
pub(super) struct Udp<'d> {
    pub src_port: u16,
    pub dst_port: u16,
    pub payload: &'d [u8],
}

/// The one reading of a UDP header, for the walker and the fast path; `None`
/// when fewer than 8 bytes are there or the length is under 8.
#[inline(always)]
pub(super) fn udp_header(data: &[u8]) -> Option<Udp<'_>> {
    let len = match usize::from(be16(data, 4)?) {
        0 => data.len(),
        n => n,
    };
    if len < 8 || data.len() < 8 {
        return None;
    }
    Some(Udp {
        src_port: be16(data, 0)?,
        dst_port: be16(data, 2)?,
        payload: data.get(8..len.min(data.len()))?,
    })
}

/// What a fast path read: the segment, and the layers it crossed (for
/// [`TunnelStats`], which the walker would have counted).
pub(super) struct Fast<'a> {
    pub segment: TcpSegment<'a>,
    pub vlan: bool,
    pub gtpu: bool,
}

/// The fast paths for the commonest frames, in front of the walker: Ethernet
/// II with at most one 802.1Q tag, IPv4 without options, not fragmented, and
/// TCP, or UDP to port 2152 with a GTP-U G-PDU holding such an IPv4/TCP packet
/// (S1-U, N3), nothing cut by the snap length. `None` means "not that simple":
/// the walker then decodes the frame, with the same result (a test holds the
/// two to it), and classifies what it is.
#[inline(always)]
pub(super) fn fast_path(frame: &[u8]) -> Option<Fast<'_>> {
    const ETH: usize = 14;
    let (ip, vlan) = match be16(frame, 12)? {
        ETHERTYPE_IPV4 => (frame.get(ETH..)?, false),
        ETHERTYPE_VLAN if be16(frame, ETH + 2)? == ETHERTYPE_IPV4 => (frame.get(ETH + 4..)?, true),
        _ => return None,
    };
    let outer = plain_ipv4(ip)?;
    let segment = match outer.proto {
        PROTO_TCP => outer.tcp()?,
        PROTO_UDP => {
            let udp = udp_header(outer.payload)?;
            if udp.dst_port != tunnel::GTPU_PORT {
                return None;
            }
            let payload = udp.payload;
            let gtp = tunnel::gtpu(payload).ok()?;
            let inner = plain_ipv4(payload.get(gtp.header_len..gtp.end)?)?;
            if inner.proto != PROTO_TCP {
                return None;
            }
            let mut segment = inner.tcp()?;
            segment.tunnel = Some(Tunnel {
                kind: TunnelKind::GtpU,
                src: outer.src,
                dst: outer.dst,
                id: Some(gtp.teid),
            });
            return Some(Fast {
                segment,
                vlan,
                gtpu: true,
            });
        }
        _ => return None,
    };
    Some(Fast {
        segment,
        vlan,
        gtpu: false,
    })
}

/// An IPv4 packet as the fast path takes it.
struct PlainIpv4<'a> {
    src: IpAddr,
    dst: IpAddr,
    proto: u8,
    /// The payload, to the header's total length.
    payload: &'a [u8],
}

impl<'a> PlainIpv4<'a> {
    /// Its TCP segment, when the header parses.
    #[inline(always)]
    fn tcp(&self) -> Option<TcpSegment<'a>> {
        let header = tcp::header(self.payload).ok()?;
        Some(TcpSegment {
            src: SocketAddr::new(self.src, header.src_port),
            dst: SocketAddr::new(self.dst, header.dst_port),
            seq: header.seq,
            ack: header.ack,
            flags: header.flags,
            payload: self.payload.get(header.len..)?,
            missing: 0,
            tunnel: None,
        })
    }
}

/// IPv4 with a 20-byte header, neither "more fragments" nor a fragment
/// offset, its whole length captured (Ethernet padding may follow).
#[inline(always)]
fn plain_ipv4(ip: &[u8]) -> Option<PlainIpv4<'_>> {
    const IPV4_HEADER: usize = 20;
    let ip_header: &[u8; IPV4_HEADER] = ip.get(..IPV4_HEADER)?.try_into().ok()?;
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
        proto,
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
    if version_ihl != 0x45 || (flags_frag_hi & 0x3f) != 0 || frag_lo != 0 {
        return None;
    }
    let total = usize::from(u16::from_be_bytes([len_hi, len_lo]));
    Some(PlainIpv4 {
        src: IpAddr::from([s0, s1, s2, s3]),
        dst: IpAddr::from([d0, d1, d2, d3]),
        proto,
        payload: ip.get(..total)?.get(IPV4_HEADER..)?,
    })
}
