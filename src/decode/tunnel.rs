//! Tunnel and label headers: GTP-U, GRE (with ERSPAN types I/II/III), VXLAN,
//! MPLS label stacks and PPPoE/PPP. Each parser takes the bytes that start
//! with its header and says what follows and where; none of them copies.
use super::Skip;
use super::bytes::{be16, be32, byte};

/// What a tunnel header says follows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Inner {
    /// An Ethernet frame.
    Ethernet,
    /// An IPv4 or IPv6 packet (by its version nibble).
    Ip,
    /// A payload named by an EtherType.
    EtherType(u16),
    /// A PPP frame (protocol field first, address/control optional).
    Ppp,
}

/// GTP-U (3GPP TS 29.281) user-plane port.
pub(crate) const GTPU_PORT: u16 = 2152;
/// VXLAN (RFC 7348) port.
pub(crate) const VXLAN_PORT: u16 = 4789;
/// GRE-in-UDP (RFC 8086) port.
pub(crate) const GRE_UDP_PORT: u16 = 4754;

/// GTP message type of a G-PDU (user data).
const GTP_GPDU: u8 = 0xff;
/// Extension headers followed in one GTP-U header before giving up.
const MAX_GTP_EXTENSIONS: usize = 8;

/// A decoded GTP-U header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Gtpu {
    /// Tunnel endpoint identifier.
    pub teid: u32,
    /// Bytes of GTP-U header (mandatory, optional fields, extension headers).
    pub header_len: usize,
    /// End of the T-PDU within the bytes given (from the length field, cut to what was captured).
    pub end: usize,
}

/// Parses a GTPv1-U header. Messages other than G-PDU (echo, error
/// indication, end marker) carry no user data: [`Skip::TunnelControl`].
pub(crate) fn gtpu(data: &[u8]) -> Result<Gtpu, Skip> {
    let flags = byte(data, 0).ok_or(Skip::Truncated)?;
    let msg_type = byte(data, 1).ok_or(Skip::Truncated)?;
    let length = usize::from(be16(data, 2).ok_or(Skip::Truncated)?);
    let teid = be32(data, 4).ok_or(Skip::Truncated)?;
    // Version 1, protocol type 1 (GTP, not GTP').
    if flags >> 5 != 1 || flags & 0x10 == 0 {
        return Err(Skip::Malformed);
    }
    if msg_type != GTP_GPDU {
        return Err(Skip::TunnelControl);
    }
    let mut pos = 8usize;
    if flags & 0x07 != 0 {
        // Sequence number (2), N-PDU number (1), next extension header type (1).
        let mut next = byte(data, 11).ok_or(Skip::Truncated)?;
        pos = 12;
        let mut n = 0usize;
        while flags & 0x04 != 0 && next != 0 {
            n = n.saturating_add(1);
            if n > MAX_GTP_EXTENSIONS {
                return Err(Skip::TooDeep);
            }
            // Length in 4-byte units, including the length and next-type bytes.
            let units = usize::from(byte(data, pos).ok_or(Skip::Truncated)?);
            if units == 0 {
                return Err(Skip::Malformed);
            }
            let len = units.saturating_mul(4);
            let last = pos.saturating_add(len).saturating_sub(1);
            next = byte(data, last).ok_or(Skip::Truncated)?;
            pos = pos.saturating_add(len);
        }
    }
    let declared_end = 8usize.saturating_add(length);
    if declared_end < pos {
        return Err(Skip::Malformed);
    }
    Ok(Gtpu {
        teid,
        header_len: pos,
        end: declared_end.min(data.len()),
    })
}

/// A decoded GRE header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Gre {
    /// Bytes of GRE (and ERSPAN) header before the inner frame.
    pub header_len: usize,
    /// What follows.
    pub inner: Inner,
    /// An ERSPAN header was passed.
    pub erspan: bool,
}

/// ERSPAN type II (and type I, recognised by the absent sequence number).
const ERSPAN_II: u16 = 0x88be;
/// ERSPAN type III.
const ERSPAN_III: u16 = 0x22eb;
/// Transparent Ethernet bridging.
pub(crate) const ETHERTYPE_TEB: u16 = 0x6558;
/// PPP (PPTP's enhanced GRE, version 1).
const ETHERTYPE_PPP: u16 = 0x880b;

/// Parses a GRE header (RFC 2784/2890, and version 1 of RFC 2637) and, for
/// ERSPAN, the mirroring header after it.
pub(crate) fn gre(data: &[u8]) -> Result<Gre, Skip> {
    let flags = be16(data, 0).ok_or(Skip::Truncated)?;
    let proto = be16(data, 2).ok_or(Skip::Truncated)?;
    let version = flags & 0x0007;
    let checksum = flags & 0x8000 != 0;
    let routing = flags & 0x4000 != 0;
    let key = flags & 0x2000 != 0;
    let seq = flags & 0x1000 != 0;
    if routing {
        // RFC 1701 source routing: obsolete, never seen on mirrored ports.
        return Err(Skip::UnsupportedEncapsulation);
    }
    let mut len = 4usize;
    match version {
        0 => {
            for present in [checksum, key, seq] {
                if present {
                    len = len.saturating_add(4);
                }
            }
        }
        1 => {
            // Enhanced GRE (PPTP): key (payload length + call id) always, ack optional.
            let ack = flags & 0x0080 != 0;
            if !key || proto != ETHERTYPE_PPP {
                return Err(Skip::Malformed);
            }
            for present in [seq, ack] {
                if present {
                    len = len.saturating_add(4);
                }
            }
            len = len.saturating_add(4);
        }
        _ => return Err(Skip::Malformed),
    }
    if data.len() < len {
        return Err(Skip::Truncated);
    }
    let inner = match proto {
        ETHERTYPE_TEB => Inner::Ethernet,
        ETHERTYPE_PPP => Inner::Ppp,
        ERSPAN_II if !seq => {
            // Type I: no sequence number and no ERSPAN header; a bare frame follows.
            return Ok(Gre {
                header_len: len,
                inner: Inner::Ethernet,
                erspan: true,
            });
        }
        ERSPAN_II => {
            let word = be16(data, len).ok_or(Skip::Truncated)?;
            if word >> 12 != 1 {
                return Err(Skip::Malformed);
            }
            return Ok(Gre {
                header_len: len.saturating_add(8),
                inner: Inner::Ethernet,
                erspan: true,
            });
        }
        ERSPAN_III => {
            let word = be16(data, len).ok_or(Skip::Truncated)?;
            if word >> 12 != 2 {
                return Err(Skip::Malformed);
            }
            // Third word: SGT (16) P (1) FT (5) HW ID (6) D (1) Gra (2) O (1).
            let bits = be16(data, len.saturating_add(10)).ok_or(Skip::Truncated)?;
            let frame_type = (bits >> 10) & 0x1f;
            let platform_subheader = bits & 1 != 0;
            let header = if platform_subheader { 20 } else { 12 };
            let inner = match frame_type {
                0 => Inner::Ethernet,
                2 => Inner::Ip,
                _ => return Err(Skip::UnsupportedEncapsulation),
            };
            return Ok(Gre {
                header_len: len.saturating_add(header),
                inner,
                erspan: true,
            });
        }
        other => Inner::EtherType(other),
    };
    Ok(Gre {
        header_len: len,
        inner,
        erspan: false,
    })
}

/// Parses a VXLAN header (RFC 7348): 8 bytes, the I flag set, an Ethernet
/// frame after. Gives the header length and the 24-bit VNI.
pub(crate) fn vxlan(data: &[u8]) -> Result<(usize, u32), Skip> {
    let flags = byte(data, 0).ok_or(Skip::Truncated)?;
    if data.len() < 8 {
        return Err(Skip::Truncated);
    }
    if flags & 0x08 == 0 {
        return Err(Skip::Malformed);
    }
    let vni = be32(data, 4).ok_or(Skip::Truncated)? >> 8;
    Ok((8, vni))
}

/// Labels followed in one MPLS stack before giving up.
const MAX_MPLS_LABELS: usize = 16;

/// Walks an MPLS label stack to its bottom and guesses the payload: IPv4 or
/// IPv6 by the version nibble, a pseudowire control word (first nibble 0)
/// followed by Ethernet, and Ethernet otherwise (a pseudowire without control
/// word). Returns the bytes of labels (and control word) and what follows.
pub(crate) fn mpls(data: &[u8]) -> Result<(usize, Inner), Skip> {
    let mut pos = 0usize;
    for _ in 0..MAX_MPLS_LABELS {
        let entry = be32(data, pos).ok_or(Skip::Truncated)?;
        pos = pos.saturating_add(4);
        if entry & 0x100 != 0 {
            let first = byte(data, pos).ok_or(Skip::Truncated)?;
            return Ok(match first >> 4 {
                4 | 6 => (pos, Inner::Ip),
                0 => (pos.saturating_add(4), Inner::Ethernet),
                _ => (pos, Inner::Ethernet),
            });
        }
    }
    Err(Skip::TooDeep)
}

/// Parses a PPPoE session header (RFC 2516): returns its length and the end
/// of the PPP frame it carries (cut to what was captured).
pub(crate) fn pppoe_session(data: &[u8]) -> Result<(usize, usize), Skip> {
    let ver_type = byte(data, 0).ok_or(Skip::Truncated)?;
    let code = byte(data, 1).ok_or(Skip::Truncated)?;
    let length = usize::from(be16(data, 4).ok_or(Skip::Truncated)?);
    if ver_type != 0x11 || code != 0 {
        return Err(Skip::Malformed);
    }
    Ok((6, 6usize.saturating_add(length).min(data.len())))
}

/// Parses a PPP header (address/control optional, protocol field possibly
/// compressed to one byte): returns its length and the EtherType of an IP
/// payload, or [`Skip::NotIp`] for link control and other protocols.
pub(crate) fn ppp(data: &[u8]) -> Result<(usize, u16), Skip> {
    let mut pos = 0usize;
    if be16(data, 0) == Some(0xff03) {
        pos = 2;
    }
    let first = byte(data, pos).ok_or(Skip::Truncated)?;
    let (proto, len) = if first & 1 == 1 {
        (u16::from(first), 1usize)
    } else {
        (be16(data, pos).ok_or(Skip::Truncated)?, 2)
    };
    let ethertype = match proto {
        0x0021 => 0x0800,
        0x0057 => 0x86dd,
        _ => return Err(Skip::NotIp),
    };
    Ok((pos.saturating_add(len), ethertype))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gtpu_plain_and_with_extension_headers() {
        let mut h = vec![0x30, 0xff, 0, 20, 0, 0, 0, 7];
        h.extend_from_slice(&[0x45; 20]);
        assert_eq!(
            gtpu(&h),
            Ok(Gtpu {
                teid: 7,
                header_len: 8,
                end: 28
            })
        );
        // E flag; a PDU session container (0x85, 1 unit), then a 2-unit extension, then none.
        let mut h = vec![0x34, 0xff, 0, 0, 0, 0, 0, 9, 0, 0, 0, 0x85];
        h.extend_from_slice(&[1, 0x10, 0x01, 0x40]);
        h.extend_from_slice(&[2, 0, 0, 0, 0, 0, 0, 0]);
        let ext_len = h.len() - 8;
        h[3] = (ext_len + 5) as u8;
        h.extend_from_slice(&[0x45, 0, 0, 0, 0]);
        let g = gtpu(&h).unwrap();
        assert_eq!(g.header_len, 24);
        assert_eq!(g.end, h.len());
        // Echo request: no user data.
        assert_eq!(
            gtpu(&[0x32, 1, 0, 4, 0, 0, 0, 0, 0, 1, 0, 0]),
            Err(Skip::TunnelControl)
        );
        // GTP' and version 2 are not GTP-U.
        assert_eq!(gtpu(&[0x20, 0xff, 0, 0, 0, 0, 0, 0]), Err(Skip::Malformed));
        assert_eq!(gtpu(&[0x48, 0xff, 0, 0, 0, 0, 0, 0]), Err(Skip::Malformed));
        // An extension of length zero would loop forever.
        assert_eq!(
            gtpu(&[0x34, 0xff, 0, 8, 0, 0, 0, 0, 0, 0, 0, 0x85, 0, 0, 0, 0]),
            Err(Skip::Malformed)
        );
        // An endless chain of extensions.
        let mut h = vec![0x34, 0xff, 0, 200, 0, 0, 0, 0, 0, 0, 0, 0x85];
        for _ in 0..20 {
            h.extend_from_slice(&[1, 0, 0, 0x85]);
        }
        assert_eq!(gtpu(&h), Err(Skip::TooDeep));
    }

    #[test]
    fn gre_variants() {
        assert_eq!(
            gre(&[0, 0, 0x08, 0x00]),
            Ok(Gre {
                header_len: 4,
                inner: Inner::EtherType(0x0800),
                erspan: false
            })
        );
        // Checksum, key and sequence number: 16 bytes.
        let g = gre(&[0xb0, 0, 0x65, 0x58, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 2]).unwrap();
        assert_eq!((g.header_len, g.inner), (16, Inner::Ethernet));
        // ERSPAN type I (no sequence number), type II, type III.
        assert_eq!(gre(&[0, 0, 0x88, 0xbe]).unwrap().inner, Inner::Ethernet);
        let mut e2 = vec![
            0x10, 0, 0x88, 0xbe, 0, 0, 0, 1, 0x10, 0x64, 0, 1, 0, 0, 0, 0,
        ];
        assert_eq!(gre(&e2).unwrap().header_len, 16);
        e2[8] = 0x20;
        assert_eq!(gre(&e2), Err(Skip::Malformed));
        let mut e3 = vec![0x10, 0, 0x22, 0xeb, 0, 0, 0, 1];
        e3.extend_from_slice(&[0x20, 0x64, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(gre(&e3).unwrap().header_len, 20);
        e3[19] = 1; // platform-specific subheader
        assert_eq!(gre(&e3).unwrap().header_len, 28);
        // Truncated, routing, unknown version.
        assert_eq!(gre(&[0x30, 0, 0x08, 0x00, 0, 0]), Err(Skip::Truncated));
        assert_eq!(
            gre(&[0x40, 0, 0x08, 0, 0, 0, 0, 0]),
            Err(Skip::UnsupportedEncapsulation)
        );
        assert_eq!(gre(&[0, 2, 0x08, 0]), Err(Skip::Malformed));
    }

    #[test]
    fn mpls_stacks() {
        // Two labels, IPv4 below.
        let d = [0, 0x01, 0x00, 64, 0, 0x02, 0x01, 64, 0x45, 0];
        assert_eq!(mpls(&d), Ok((8, Inner::Ip)));
        // Control word then Ethernet.
        let d = [0, 0x01, 0x01, 64, 0, 0, 0, 0, 0x02, 0];
        assert_eq!(mpls(&d), Ok((8, Inner::Ethernet)));
        // No bottom of stack.
        assert_eq!(mpls(&[0; 100]), Err(Skip::TooDeep));
        assert_eq!(mpls(&[0; 6]), Err(Skip::Truncated));
    }

    #[test]
    fn pppoe_and_ppp() {
        assert_eq!(
            pppoe_session(&[0x11, 0, 0, 1, 0, 4, 0, 0x21, 0x45, 0]),
            Ok((6, 10))
        );
        assert_eq!(pppoe_session(&[0x11, 9, 0, 1, 0, 4]), Err(Skip::Malformed));
        assert_eq!(ppp(&[0, 0x21]), Ok((2, 0x0800)));
        assert_eq!(ppp(&[0xff, 0x03, 0, 0x57]), Ok((4, 0x86dd)));
        assert_eq!(ppp(&[0x21]), Ok((1, 0x0800)));
        assert_eq!(ppp(&[0xc0, 0x21]), Err(Skip::NotIp));
    }
}
