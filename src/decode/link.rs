//! Link layers and EtherType dispatch: Ethernet II, 802.1Q/802.1ad tags (and
//! the 0x9100/0x9200 tags of older switches), Linux cooked SLL and SLL2, raw
//! IP, BSD null/loopback; MPLS and PPPoE sessions are entered from here.
use super::bytes::be16;
use super::walk::{Layer, Step, Walker, bump, tail};
use super::{MAX_VLAN_TAGS, Skip, serial, tunnel};
use crate::capture::LinkType;

/// IPv4.
pub(super) const ETHERTYPE_IPV4: u16 = 0x0800;
/// IPv6.
pub(super) const ETHERTYPE_IPV6: u16 = 0x86dd;
/// 802.1Q VLAN tag.
pub(super) const ETHERTYPE_VLAN: u16 = 0x8100;
/// 802.1ad service tag (QinQ).
pub(super) const ETHERTYPE_QINQ: u16 = 0x88a8;
/// Pre-standard QinQ tags of older switches.
pub(super) const ETHERTYPE_VLAN_9100: u16 = 0x9100;
/// Pre-standard QinQ tags of older switches.
pub(super) const ETHERTYPE_VLAN_9200: u16 = 0x9200;
/// MPLS unicast.
pub(super) const ETHERTYPE_MPLS: u16 = 0x8847;
/// MPLS multicast.
pub(super) const ETHERTYPE_MPLS_MULTICAST: u16 = 0x8848;
/// PPPoE session stage.
pub(super) const ETHERTYPE_PPPOE_SESSION: u16 = 0x8864;

/// The largest 802.3 length field: above it the field is an EtherType.
pub(super) const ETHERNET_MAX_LENGTH: u16 = 1500;
/// The SLL protocol of 802.2 LLC frames (Linux `ETH_P_802_2`).
const SLL_PROTOCOL_LLC: u16 = 0x0004;

/// Bytes of an Ethernet II header (destination, source, EtherType).
const ETHERNET_HEADER: usize = 14;
/// Where the EtherType is in an Ethernet II header.
const ETHERNET_TYPE_AT: usize = 12;
/// Bytes of a VLAN tag (TCI, then the next EtherType).
const VLAN_TAG: usize = 4;
/// Where the next EtherType is in a VLAN tag.
const VLAN_TYPE_AT: usize = 2;
/// Bytes of a Linux cooked (SLL) header; the protocol is its last field.
const SLL_HEADER: usize = 16;
/// Where the protocol (an EtherType) is in an SLL header.
const SLL_TYPE_AT: usize = 14;
/// Bytes of a Linux cooked v2 (SLL2) header; the protocol is its first field.
const SLL2_HEADER: usize = 20;
/// Bytes of the BSD null/loopback address family word.
const NULL_HEADER: usize = 4;

/// The first layer of a link type, and where it starts in the frame.
pub(super) fn link_layer(link: LinkType, frame: &[u8]) -> Result<(Layer, usize), Skip> {
    Ok(match link {
        LinkType::ETHERNET => (Layer::Ethernet, 0),
        LinkType::LINUX_SLL => match be16(frame, SLL_TYPE_AT).ok_or(Skip::Truncated)? {
            SLL_PROTOCOL_LLC => (Layer::Llc, SLL_HEADER),
            ether_type => (Layer::EtherType(ether_type), SLL_HEADER),
        },
        LinkType::LINUX_SLL2 => (
            Layer::EtherType(be16(frame, 0).ok_or(Skip::Truncated)?),
            SLL2_HEADER,
        ),
        LinkType::RAW
        | LinkType::RAW_BSD
        | LinkType::RAW_OPENBSD
        | LinkType::IPV4
        | LinkType::IPV6 => (Layer::Ip, 0),
        // The 4-byte address family differs by OS and byte order; the IP version nibble decides.
        LinkType::NULL | LinkType::LOOP => (Layer::Ip, NULL_HEADER),
        LinkType::IEEE802_11_RADIOTAP => (Layer::Radiotap, 0),
        LinkType::IEEE802_11 => (Layer::Dot11 { data_pad: false }, 0),
        LinkType::NFLOG => (Layer::Nflog, 0),
        LinkType::C_HDLC => {
            let (len, ether_type) = serial::cisco_hdlc(frame)?;
            (Layer::EtherType(ether_type), len)
        }
        LinkType::ARCNET_LINUX => {
            let (len, ether_type) = serial::arcnet_linux(frame)?;
            (Layer::EtherType(ether_type), len)
        }
        _ => return Err(Skip::UnknownLinkType),
    })
}

/// An Ethernet II header: the EtherType names what follows.
pub(super) fn ethernet(data: &[u8]) -> Result<Step<'_>, Skip> {
    let ether_type = be16(data, ETHERNET_TYPE_AT).ok_or(Skip::Truncated)?;
    Ok(Step::Next(
        Layer::EtherType(ether_type),
        tail(data, ETHERNET_HEADER)?,
    ))
}

impl Walker<'_> {
    /// The payload named by an EtherType.
    pub(super) fn ether_type<'d>(
        &mut self,
        ether_type: u16,
        data: &'d [u8],
    ) -> Result<Step<'d>, Skip> {
        match ether_type {
            ETHERTYPE_IPV4 => Ok(Step::Next(Layer::Ipv4, data)),
            ETHERTYPE_IPV6 => Ok(Step::Next(Layer::Ipv6, data)),
            ETHERTYPE_VLAN | ETHERTYPE_QINQ | ETHERTYPE_VLAN_9100 | ETHERTYPE_VLAN_9200 => {
                self.vlans = self.vlans.saturating_add(1);
                if self.vlans > MAX_VLAN_TAGS {
                    return Err(Skip::TooDeep);
                }
                bump(&mut self.tunnels.vlan);
                let next = be16(data, VLAN_TYPE_AT).ok_or(Skip::Truncated)?;
                Ok(Step::Next(Layer::EtherType(next), tail(data, VLAN_TAG)?))
            }
            ETHERTYPE_MPLS | ETHERTYPE_MPLS_MULTICAST => Ok(Step::Next(Layer::Mpls, data)),
            ETHERTYPE_PPPOE_SESSION => {
                self.enter()?;
                bump(&mut self.tunnels.pppoe);
                let (start, end) = tunnel::pppoe_session(data)?;
                Ok(Step::Next(
                    Layer::Ppp,
                    data.get(start..end).ok_or(Skip::Malformed)?,
                ))
            }
            tunnel::ETHERTYPE_TEB => Ok(Step::Next(Layer::Ethernet, data)),
            // An 802.3 length field (after the addresses or a VLAN tag): LLC
            // follows, and the frame's data ends there (padding after it).
            length @ 0..=ETHERNET_MAX_LENGTH => {
                let len = usize::from(length);
                Ok(Step::Next(Layer::Llc, data.get(..len).unwrap_or(data)))
            }
            _ => Err(Skip::NotIp),
        }
    }
}

/// Whether an EtherType names a payload the walker decodes (tunnels whose
/// payload type is anything else are an unsupported encapsulation, not "not IP").
pub(super) fn decodable(ether_type: u16) -> bool {
    matches!(
        ether_type,
        ETHERTYPE_IPV4
            | ETHERTYPE_IPV6
            | ETHERTYPE_VLAN
            | ETHERTYPE_QINQ
            | ETHERTYPE_VLAN_9100
            | ETHERTYPE_VLAN_9200
            | ETHERTYPE_MPLS
            | ETHERTYPE_MPLS_MULTICAST
            | ETHERTYPE_PPPOE_SESSION
            | tunnel::ETHERTYPE_TEB
    )
}
