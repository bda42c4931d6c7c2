//! IPv4 (options) and IPv6 (extension headers), and the hand-off of
//! fragments to reassembly ([`super::defrag`]).
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::bytes::{array4, array16, be16, be32, byte};
use super::defrag::{FragKey, FragOutcome, Fragment};
use super::walk::{Layer, Step, Walker, tail};
use super::{MAX_IPV6_EXTENSIONS, Skip};

/// IPv6 hop-by-hop options.
pub(super) const PROTO_HOPOPTS: u8 = 0;
/// IPv4 inside IP.
pub(super) const PROTO_IPIP: u8 = 4;
/// TCP.
pub(super) const PROTO_TCP: u8 = 6;
/// UDP.
pub(super) const PROTO_UDP: u8 = 17;
/// IPv6 inside IP (6in4, 6to4, ...).
pub(super) const PROTO_IPV6: u8 = 41;
/// IPv6 routing header.
pub(super) const PROTO_ROUTING: u8 = 43;
/// IPv6 fragment header.
pub(super) const PROTO_FRAGMENT: u8 = 44;
/// GRE.
pub(super) const PROTO_GRE: u8 = 47;
/// Authentication header (IPsec AH).
pub(super) const PROTO_AH: u8 = 51;
/// IPv6 destination options.
pub(super) const PROTO_DSTOPTS: u8 = 60;
/// Mobility header.
pub(super) const PROTO_MOBILITY: u8 = 135;
/// Host Identity Protocol.
pub(super) const PROTO_HIP: u8 = 139;
/// Shim6.
pub(super) const PROTO_SHIM6: u8 = 140;

/// The smallest IPv4 header.
const IPV4_MIN_HEADER: usize = 20;
/// The IPv6 fixed header.
const IPV6_HEADER: usize = 40;
/// The IPv6 fragment header.
const IPV6_FRAGMENT_HEADER: usize = 8;
/// IPv4 flags/offset field: more fragments.
const IPV4_MORE_FRAGMENTS: u16 = 0x2000;
/// IPv4 flags/offset field: the offset, in 8-byte units.
const IPV4_OFFSET_MASK: u16 = 0x1fff;

/// The network layer a payload travels in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Net {
    pub src: IpAddr,
    pub dst: IpAddr,
    /// Length of the payload on the wire (from the header's length field).
    pub wire: usize,
}

impl Net {
    /// The reason for a header that does not fit in `data`: cut by the
    /// capture when the packet was longer on the wire, else malformed.
    pub(super) fn short(&self, data: &[u8]) -> Skip {
        if self.wire > data.len() {
            Skip::Truncated
        } else {
            Skip::Malformed
        }
    }
}

/// IPv4 or IPv6, by the version nibble.
pub(super) fn by_version(data: &[u8]) -> Result<Step<'_>, Skip> {
    match byte(data, 0).map(|b| b >> 4) {
        Some(4) => Ok(Step::Next(Layer::Ipv4, data)),
        Some(6) => Ok(Step::Next(Layer::Ipv6, data)),
        Some(_) => Err(Skip::Malformed),
        None => Err(Skip::Truncated),
    }
}

/// The IPv6 fixed header; extension headers follow as [`Layer::Ipv6Ext`].
pub(super) fn ipv6(data: &[u8]) -> Result<Step<'_>, Skip> {
    let first = byte(data, 0).ok_or(Skip::Truncated)?;
    if first >> 4 != 6 {
        return Err(Skip::Malformed);
    }
    if data.len() < IPV6_HEADER {
        return Err(Skip::Truncated);
    }
    let payload_len = match usize::from(be16(data, 4).ok_or(Skip::Truncated)?) {
        // Jumbogram or segmentation offload: the captured bytes are the packet.
        0 => data.len().saturating_sub(IPV6_HEADER),
        n => n,
    };
    let next = byte(data, 6).ok_or(Skip::Truncated)?;
    let src = IpAddr::V6(Ipv6Addr::from(array16(data, 8).ok_or(Skip::Truncated)?));
    let dst = IpAddr::V6(Ipv6Addr::from(array16(data, 24).ok_or(Skip::Truncated)?));
    let end = payload_len.saturating_add(IPV6_HEADER).min(data.len());
    let payload = data.get(IPV6_HEADER..end).ok_or(Skip::Truncated)?;
    let net = Net {
        src,
        dst,
        wire: payload_len,
    };
    Ok(Step::Next(Layer::Ipv6Ext { next, net }, payload))
}

impl Walker<'_> {
    /// The IPv4 header (options skipped); a fragment goes to reassembly.
    pub(super) fn ipv4<'d>(&mut self, data: &'d [u8]) -> Result<Step<'d>, Skip> {
        let first = byte(data, 0).ok_or(Skip::Truncated)?;
        if first >> 4 != 4 {
            return Err(Skip::Malformed);
        }
        let header_len = usize::from(first & 0x0f).saturating_mul(4);
        if header_len < IPV4_MIN_HEADER {
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
        let more = fragment & IPV4_MORE_FRAGMENTS != 0;
        let offset = usize::from(fragment & IPV4_OFFSET_MASK).saturating_mul(8);
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

    /// IPv6 extension headers, up to the upper-layer protocol; a fragment
    /// header hands the packet to reassembly.
    pub(super) fn ipv6_extensions<'d>(
        &mut self,
        mut next: u8,
        net: Net,
        mut data: &'d [u8],
    ) -> Result<Step<'d>, Skip> {
        let mut wire = net.wire;
        for _ in 0..MAX_IPV6_EXTENSIONS {
            let here = Net { wire, ..net };
            let len = match next {
                // Length in 8-byte units, not counting the first 8.
                PROTO_HOPOPTS | PROTO_ROUTING | PROTO_DSTOPTS | PROTO_MOBILITY | PROTO_HIP
                | PROTO_SHIM6 => {
                    let units = byte(data, 1).ok_or_else(|| here.short(data))?;
                    usize::from(units).saturating_add(1).saturating_mul(8)
                }
                // Length in 4-byte units, not counting the first 8.
                PROTO_AH => {
                    let units = byte(data, 1).ok_or_else(|| here.short(data))?;
                    usize::from(units).saturating_add(2).saturating_mul(4)
                }
                PROTO_FRAGMENT => {
                    let header = data
                        .get(..IPV6_FRAGMENT_HEADER)
                        .ok_or_else(|| here.short(data))?;
                    let next_header = byte(header, 0).ok_or(Skip::Truncated)?;
                    let field = be16(header, 2).ok_or(Skip::Truncated)?;
                    let id = be32(header, 4).ok_or(Skip::Truncated)?;
                    let rest = tail(data, IPV6_FRAGMENT_HEADER)?;
                    let offset = usize::from(field >> 3).saturating_mul(8);
                    let more = field & 1 != 0;
                    if offset == 0 && !more {
                        // An atomic fragment (RFC 6946): the whole packet.
                        next = next_header;
                        data = rest;
                        wire = wire.saturating_sub(IPV6_FRAGMENT_HEADER);
                        continue;
                    }
                    if wire.saturating_sub(IPV6_FRAGMENT_HEADER) > rest.len() {
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

    /// The IPv4 authentication header in front of the upper layer.
    pub(super) fn ipv4_ah<'d>(&mut self, net: Net, data: &'d [u8]) -> Result<Step<'d>, Skip> {
        let next = byte(data, 0).ok_or_else(|| net.short(data))?;
        let units = byte(data, 1).ok_or_else(|| net.short(data))?;
        // Length in 4-byte units, not counting the first 8.
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

    /// Hands a fragment to reassembly: a completed datagram is decoded from
    /// its payload on; without a reassembler every fragment is a skip.
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
}
