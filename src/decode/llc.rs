//! IEEE 802.2 LLC, with the SNAP extension that names an EtherType: what
//! follows an 802.3 length field and every 802.11 data frame.
use super::Skip;
use super::bytes::{be16, byte};

/// The LLC SAP of SNAP (both DSAP and SSAP).
const SAP_SNAP: u8 = 0xaa;
/// The LLC SAP of Internet Protocol (RFC 948: IPv4 straight after LLC).
const SAP_IP: u8 = 0x06;
/// An unnumbered-information LLC frame (the only kind that carries datagrams).
const LLC_UI: u8 = 0x03;

/// Parses an LLC header: for SNAP with an EtherType OUI (00-00-00, or
/// 00-00-f8 of 802.1H bridge tunnelling) returns the header length (8) and
/// the EtherType; for the IP SAP, 3 and IPv4. Other SAPs (spanning tree,
/// NetBIOS, IPX, ...) and vendor OUIs carry no IP: [`Skip::NotIp`].
pub(crate) fn llc(data: &[u8]) -> Result<(usize, u16), Skip> {
    let dsap = byte(data, 0).ok_or(Skip::Truncated)?;
    let ssap = byte(data, 1).ok_or(Skip::Truncated)?;
    let control = byte(data, 2).ok_or(Skip::Truncated)?;
    match (dsap, ssap, control) {
        (SAP_SNAP, SAP_SNAP, LLC_UI) => {
            let oui = [
                byte(data, 3).ok_or(Skip::Truncated)?,
                byte(data, 4).ok_or(Skip::Truncated)?,
                byte(data, 5).ok_or(Skip::Truncated)?,
            ];
            let ether_type = be16(data, 6).ok_or(Skip::Truncated)?;
            match oui {
                [0, 0, 0] | [0, 0, 0xf8] => Ok((8, ether_type)),
                _ => Err(Skip::NotIp),
            }
        }
        (SAP_IP, SAP_IP, LLC_UI) => Ok((3, 0x0800)),
        _ => Err(Skip::NotIp),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snap_and_other_saps() {
        assert_eq!(
            llc(&[0xaa, 0xaa, 3, 0, 0, 0, 0x08, 0x00, 0x45]),
            Ok((8, 0x0800))
        );
        assert_eq!(
            llc(&[0xaa, 0xaa, 3, 0, 0, 0xf8, 0x86, 0xdd]),
            Ok((8, 0x86dd))
        );
        assert_eq!(llc(&[6, 6, 3, 0x45]), Ok((3, 0x0800)));
        // Cisco OUI (CDP), spanning tree, IPX raw.
        assert_eq!(
            llc(&[0xaa, 0xaa, 3, 0, 0, 0x0c, 0x20, 0x00]),
            Err(Skip::NotIp)
        );
        assert_eq!(llc(&[0x42, 0x42, 3, 0, 0]), Err(Skip::NotIp));
        assert_eq!(llc(&[0xff, 0xff, 0, 0]), Err(Skip::NotIp));
        assert_eq!(llc(&[0xaa, 0xaa, 3, 0, 0, 0, 0x08]), Err(Skip::Truncated));
        assert_eq!(llc(&[0xaa]), Err(Skip::Truncated));
    }
}
