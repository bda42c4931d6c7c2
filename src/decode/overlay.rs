//! Overlay tunnels over UDP beyond VXLAN: Geneve (RFC 8926), VXLAN-GPE
//! (draft-ietf-nvo3-vxlan-gpe) and AYIYA (IPv6 or IPv4 tunnelled to a
//! tunnel broker, draft-massar-v6ops-ayiya). Each parser takes the UDP
//! payload and says how long its header is and what follows.
use super::Skip;
use super::bytes::{be16, byte};
use super::tunnel::Inner;

/// Geneve (RFC 8926) port.
pub(crate) const GENEVE_PORT: u16 = 6081;
/// VXLAN-GPE port.
pub(crate) const VXLAN_GPE_PORT: u16 = 4790;
/// VXLAN on the Linux kernel's historic default port (before IANA's 4789).
pub(crate) const VXLAN_LINUX_PORT: u16 = 8472;
/// AYIYA port (either direction).
pub(crate) const AYIYA_PORT: u16 = 5072;

/// Parses a Geneve header: version 0, options (length in 4-byte units),
/// the protocol type of the payload (an EtherType: 0x6558 Ethernet, IPv4,
/// IPv6, ...). The OAM flag does not stop decoding (as in tshark).
pub(crate) fn geneve(data: &[u8]) -> Result<(usize, Inner), Skip> {
    let first = byte(data, 0).ok_or(Skip::Truncated)?;
    let proto = be16(data, 2).ok_or(Skip::Truncated)?;
    if data.len() < 8 {
        return Err(Skip::Truncated);
    }
    if first >> 6 != 0 {
        return Err(Skip::Malformed);
    }
    let len = usize::from(first & 0x3f)
        .saturating_mul(4)
        .saturating_add(8);
    if data.len() < len {
        return Err(Skip::Truncated);
    }
    Ok((len, Inner::EtherType(proto)))
}

/// VXLAN-GPE next-protocol values.
const GPE_IPV4: u8 = 1;
const GPE_IPV6: u8 = 2;
const GPE_ETHERNET: u8 = 3;
const GPE_MPLS: u8 = 5;

/// Parses a VXLAN-GPE header (8 bytes): flags with version 0 and the I bit,
/// and, with the P bit, the next protocol (IPv4, IPv6, Ethernet, MPLS; NSH
/// and others are not decoded); without the P bit an Ethernet frame follows
/// as in VXLAN.
pub(crate) fn vxlan_gpe(data: &[u8]) -> Result<(usize, Inner), Skip> {
    let flags = byte(data, 0).ok_or(Skip::Truncated)?;
    let next = byte(data, 3).ok_or(Skip::Truncated)?;
    if data.len() < 8 {
        return Err(Skip::Truncated);
    }
    if flags & 0x30 != 0 || flags & 0x08 == 0 {
        return Err(Skip::Malformed);
    }
    if flags & 0x04 == 0 {
        return Ok((8, Inner::Ethernet));
    }
    let inner = match next {
        GPE_IPV4 | GPE_IPV6 => Inner::Ip,
        GPE_ETHERNET => Inner::Ethernet,
        GPE_MPLS => Inner::EtherType(0x8847),
        _ => return Err(Skip::UnsupportedEncapsulation),
    };
    Ok((8, inner))
}

/// AYIYA operation code of a forwarded packet.
const AYIYA_FORWARD: u8 = 1;

/// Parses an AYIYA header: identity of 2^n bytes, signature of 4·m bytes,
/// the epoch time; a forwarded packet names its payload by IP protocol
/// number (41 IPv6, 4 IPv4). Other operations (no-op heartbeats, echo,
/// motd, query) carry no user data: [`Skip::TunnelControl`].
pub(crate) fn ayiya(data: &[u8]) -> Result<(usize, Inner), Skip> {
    let id = byte(data, 0).ok_or(Skip::Truncated)?;
    let sig = byte(data, 1).ok_or(Skip::Truncated)?;
    let op = byte(data, 2).ok_or(Skip::Truncated)?;
    let next = byte(data, 3).ok_or(Skip::Truncated)?;
    let id_len = 1usize
        .checked_shl(u32::from(id >> 4))
        .ok_or(Skip::Malformed)?;
    let sig_len = usize::from(sig >> 4).saturating_mul(4);
    let len = 8usize.saturating_add(id_len).saturating_add(sig_len);
    if data.len() < len {
        return Err(Skip::Truncated);
    }
    if op & 0x0f != AYIYA_FORWARD {
        return Err(Skip::TunnelControl);
    }
    let inner = match next {
        41 => Inner::EtherType(0x86dd),
        4 => Inner::EtherType(0x0800),
        // No next header (59): a heartbeat.
        59 => return Err(Skip::TunnelControl),
        _ => return Err(Skip::UnsupportedEncapsulation),
    };
    Ok((len, inner))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn geneve_headers() {
        let h = [0, 0, 0x65, 0x58, 0, 0, 7, 0, 0xaa];
        assert_eq!(geneve(&h), Ok((8, Inner::EtherType(0x6558))));
        // Two 4-byte units of options, OAM flag, IPv4 inside.
        let mut h = vec![0x02, 0x80, 0x08, 0x00, 0, 0, 7, 0];
        h.extend_from_slice(&[0x01, 0x02, 0x80, 0x01, 0, 0, 0, 1]);
        h.push(0x45);
        assert_eq!(geneve(&h), Ok((16, Inner::EtherType(0x0800))));
        assert_eq!(geneve(&h[..12]), Err(Skip::Truncated));
        assert_eq!(geneve(&[0x40, 0, 8, 0, 0, 0, 0, 0]), Err(Skip::Malformed));
        assert_eq!(geneve(&[0, 0, 8, 0, 0]), Err(Skip::Truncated));
    }

    #[test]
    fn vxlan_gpe_headers() {
        assert_eq!(vxlan_gpe(&[0x0c, 0, 0, 1, 0, 0, 1, 0]), Ok((8, Inner::Ip)));
        assert_eq!(
            vxlan_gpe(&[0x0c, 0, 0, 3, 0, 0, 1, 0]),
            Ok((8, Inner::Ethernet))
        );
        assert_eq!(
            vxlan_gpe(&[0x0c, 0, 0, 5, 0, 0, 1, 0]),
            Ok((8, Inner::EtherType(0x8847)))
        );
        // No P bit: Ethernet, as VXLAN.
        assert_eq!(
            vxlan_gpe(&[0x08, 0, 0, 0, 0, 0, 1, 0]),
            Ok((8, Inner::Ethernet))
        );
        // NSH, version 1, no I bit, short.
        assert_eq!(
            vxlan_gpe(&[0x0c, 0, 0, 4, 0, 0, 1, 0]),
            Err(Skip::UnsupportedEncapsulation)
        );
        assert_eq!(
            vxlan_gpe(&[0x1c, 0, 0, 1, 0, 0, 1, 0]),
            Err(Skip::Malformed)
        );
        assert_eq!(
            vxlan_gpe(&[0x04, 0, 0, 1, 0, 0, 1, 0]),
            Err(Skip::Malformed)
        );
        assert_eq!(vxlan_gpe(&[0x0c, 0, 0, 1]), Err(Skip::Truncated));
    }

    #[test]
    fn ayiya_headers() {
        // Identity 16 bytes (2^4), signature 20 bytes (5 units), forward, IPv6.
        let mut h = vec![0x41, 0x52, 0x11, 41, 0, 0, 0, 1];
        h.extend_from_slice(&[0; 36]);
        h.push(0x60);
        assert_eq!(ayiya(&h), Ok((44, Inner::EtherType(0x86dd))));
        h[3] = 4;
        assert_eq!(ayiya(&h), Ok((44, Inner::EtherType(0x0800))));
        h[3] = 59;
        assert_eq!(ayiya(&h), Err(Skip::TunnelControl));
        h[3] = 41;
        h[2] = 0x10; // no-op heartbeat
        assert_eq!(ayiya(&h), Err(Skip::TunnelControl));
        assert_eq!(ayiya(&h[..40]), Err(Skip::Truncated));
        // A 2^15-byte identity cannot fit in a packet.
        assert_eq!(
            ayiya(&[0xf1, 0, 0x11, 41, 0, 0, 0, 0]),
            Err(Skip::Truncated)
        );
    }
}
