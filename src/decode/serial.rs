//! Link layers of older and serial networks: Cisco HDLC (LINKTYPE 104) and
//! Linux ARCNET (LINKTYPE 129, IP as in RFC 1201, RFC 1051 and RFC 2497).
use super::Skip;
use super::bytes::{be16, byte};

/// Parses a Cisco HDLC header: address (unicast 0x0f or broadcast 0x8f),
/// control 0, then an EtherType. Returns the header length and the EtherType
/// (SLARP keepalives and CDP are then not IP).
pub(crate) fn cisco_hdlc(data: &[u8]) -> Result<(usize, u16), Skip> {
    let address = byte(data, 0).ok_or(Skip::Truncated)?;
    let control = byte(data, 1).ok_or(Skip::Truncated)?;
    let ether_type = be16(data, 2).ok_or(Skip::Truncated)?;
    if !matches!(address, 0x0f | 0x8f) || control != 0 {
        return Err(Skip::Malformed);
    }
    Ok((4, ether_type))
}

/// ARCNET protocol ids (ATA 878.1 assignments).
const ARC_IP_RFC1201: u8 = 0xd4;
const ARC_ARP_RFC1201: u8 = 0xd5;
const ARC_RARP_RFC1201: u8 = 0xd6;
const ARC_IPV6: u8 = 0xc4;
const ARC_IP_RFC1051: u8 = 0xf0;
const ARC_ARP_RFC1051: u8 = 0xf1;
/// The split flag of an RFC 1201 exception packet (padding follows).
const ARC_EXCEPTION: u8 = 0xff;

/// Parses a Linux ARCNET header: source and destination ids, a 2-byte
/// offset, the protocol id, and for RFC 1201 framing (IPv4, IPv6, ARP) the
/// split flag and sequence number; an exception packet repeats the protocol
/// id and split flag after two bytes of padding. Returns the header length
/// and the EtherType of an IP payload. Split (fragmented) packets are not
/// reassembled ([`Skip::UnsupportedEncapsulation`]); ARP and others are not IP.
pub(crate) fn arcnet_linux(data: &[u8]) -> Result<(usize, u16), Skip> {
    let mut at = 4usize;
    let protocol = byte(data, at).ok_or(Skip::Truncated)?;
    at = at.saturating_add(1);
    let ether_type = match protocol {
        ARC_IP_RFC1051 => return Ok((at, 0x0800)),
        ARC_ARP_RFC1051 => return Err(Skip::NotIp),
        ARC_IP_RFC1201 => 0x0800,
        ARC_IPV6 => 0x86dd,
        ARC_ARP_RFC1201 | ARC_RARP_RFC1201 => return Err(Skip::NotIp),
        _ => return Err(Skip::NotIp),
    };
    let mut split = byte(data, at).ok_or(Skip::Truncated)?;
    if split == ARC_EXCEPTION {
        // Flag, 2 bytes of padding, the protocol id again, the real split flag.
        at = at.saturating_add(4);
        if byte(data, at.saturating_sub(1)).ok_or(Skip::Truncated)? != protocol {
            return Err(Skip::Malformed);
        }
        split = byte(data, at).ok_or(Skip::Truncated)?;
    }
    if split != 0 {
        return Err(Skip::UnsupportedEncapsulation);
    }
    // Split flag, sequence number.
    at = at.saturating_add(3);
    if data.len() < at {
        return Err(Skip::Truncated);
    }
    Ok((at, ether_type))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cisco_hdlc_headers() {
        assert_eq!(cisco_hdlc(&[0x0f, 0, 0x08, 0x00, 0x45]), Ok((4, 0x0800)));
        assert_eq!(cisco_hdlc(&[0x8f, 0, 0x80, 0x35]), Ok((4, 0x8035)));
        assert_eq!(cisco_hdlc(&[0xff, 0x03, 0, 0x21]), Err(Skip::Malformed));
        assert_eq!(cisco_hdlc(&[0x0f, 0, 0x08]), Err(Skip::Truncated));
    }

    #[test]
    fn arcnet_headers() {
        // RFC 1201 IPv4: src, dst, offset, protocol, split flag, sequence.
        let h = [1, 2, 0, 0, ARC_IP_RFC1201, 0, 0, 7, 0x45];
        assert_eq!(arcnet_linux(&h), Ok((8, 0x0800)));
        // IPv6 (RFC 2497 uses RFC 1201 framing).
        let h = [1, 2, 0, 0, ARC_IPV6, 0, 0, 7, 0x60];
        assert_eq!(arcnet_linux(&h), Ok((8, 0x86dd)));
        // RFC 1051: no split flag or sequence number.
        assert_eq!(
            arcnet_linux(&[1, 2, 0, 0, ARC_IP_RFC1051, 0x45]),
            Ok((5, 0x0800))
        );
        // Exception packet.
        let h = [
            1,
            2,
            0,
            0,
            ARC_IP_RFC1201,
            0xff,
            0xff,
            0xff,
            ARC_IP_RFC1201,
            0,
            0,
            9,
        ];
        assert_eq!(arcnet_linux(&h), Ok((12, 0x0800)));
        let h = [1, 2, 0, 0, ARC_IP_RFC1201, 0xff, 0xff, 0xff, 0x99, 0, 0, 9];
        assert_eq!(arcnet_linux(&h), Err(Skip::Malformed));
        // A split packet, ARP, cut short.
        let h = [1, 2, 0, 0, ARC_IP_RFC1201, 3, 0, 7, 0x45];
        assert_eq!(arcnet_linux(&h), Err(Skip::UnsupportedEncapsulation));
        assert_eq!(
            arcnet_linux(&[1, 2, 0, 0, ARC_ARP_RFC1201, 0, 0, 0]),
            Err(Skip::NotIp)
        );
        assert_eq!(
            arcnet_linux(&[1, 2, 0, 0, ARC_IP_RFC1201, 0, 0]),
            Err(Skip::Truncated)
        );
        assert_eq!(arcnet_linux(&[1, 2, 0]), Err(Skip::Truncated));
    }
}
