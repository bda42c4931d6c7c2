//! Linux NFLOG (LINKTYPE 239): packets logged by netfilter's `NFLOG`
//! target. A 4-byte header (address family, version 0, group), then
//! type-length-value attributes in the capturing host's byte order; the
//! packet itself is the payload attribute.
use super::Skip;
use super::bytes::byte;

/// The attribute holding the logged packet (`NFULA_PAYLOAD`).
const NFULA_PAYLOAD: u16 = 9;
/// Attribute types above this are unknown (the kernel defines about 20).
const NFULA_MAX_KNOWN: u16 = 0x40;

fn u16_in(data: &[u8], at: usize, little: bool) -> Option<u16> {
    let b: [u8; 2] = data.get(at..at.checked_add(2)?)?.try_into().ok()?;
    Some(if little {
        u16::from_le_bytes(b)
    } else {
        u16::from_be_bytes(b)
    })
}

/// Whether the attribute at `at` makes sense read in this byte order.
fn plausible(data: &[u8], at: usize, little: bool) -> bool {
    let Some(len) = u16_in(data, at, little) else {
        return false;
    };
    let Some(kind) = u16_in(data, at.saturating_add(2), little) else {
        return false;
    };
    let len = usize::from(len);
    len >= 4 && at.saturating_add(len) <= data.len() && kind & 0x7fff <= NFULA_MAX_KNOWN
}

/// Walks the attributes to the payload: returns where the logged packet
/// starts and ends. A record without a payload attribute (logged with a
/// zero copy range) carries no IP: [`Skip::NotIp`].
pub(crate) fn nflog(data: &[u8]) -> Result<(usize, usize), Skip> {
    let version = byte(data, 1).ok_or(Skip::Truncated)?;
    if data.len() < 4 {
        return Err(Skip::Truncated);
    }
    if version != 0 {
        return Err(Skip::Malformed);
    }
    let mut at = 4usize;
    if at == data.len() {
        return Err(Skip::NotIp);
    }
    // The byte order is the capturing host's: the first attribute tells
    // (little-endian when both orders read sensibly, as on x86 and ARM).
    let little = plausible(data, at, true) || !plausible(data, at, false);
    // Each attribute is at least 4 bytes: the walk ends within the record.
    while at < data.len() {
        let len = usize::from(u16_in(data, at, little).ok_or(Skip::Truncated)?);
        let kind = u16_in(data, at.saturating_add(2), little).ok_or(Skip::Truncated)? & 0x7fff;
        if len < 4 {
            return Err(Skip::Malformed);
        }
        let end = at.saturating_add(len);
        if kind == NFULA_PAYLOAD {
            // Cut by the snap length: the IP header then tells what is missing.
            return Ok((at.saturating_add(4), end.min(data.len())));
        }
        // Padded to 4 bytes.
        at = end.saturating_add(3) & !3;
    }
    Err(Skip::NotIp)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tlv(out: &mut Vec<u8>, kind: u16, value: &[u8], little: bool) {
        let len = (4 + value.len()) as u16;
        let (l, k) = if little {
            (len.to_le_bytes(), kind.to_le_bytes())
        } else {
            (len.to_be_bytes(), kind.to_be_bytes())
        };
        out.extend_from_slice(&l);
        out.extend_from_slice(&k);
        out.extend_from_slice(value);
        while !out.len().is_multiple_of(4) {
            out.push(0);
        }
    }

    #[test]
    fn walks_to_the_payload_in_either_byte_order() {
        for little in [true, false] {
            let mut r = vec![2, 0, 0, 5];
            tlv(&mut r, 1, &[0x08, 0x00, 3, 0], little); // packet header
            tlv(&mut r, 10, b"log-prefix\0", little); // prefix (padded)
            tlv(&mut r, 4, &[0, 0, 0, 2], little); // input interface
            let start = r.len() + 4;
            tlv(&mut r, NFULA_PAYLOAD, &[0x45, 0, 0, 20, 1, 2, 3], little);
            assert_eq!(nflog(&r), Ok((start, start + 7)), "little {little}");
        }
    }

    #[test]
    fn records_without_a_payload_or_broken() {
        let mut r = vec![2, 0, 0, 5];
        tlv(&mut r, 1, &[0x08, 0x00, 3, 0], true);
        assert_eq!(nflog(&r), Err(Skip::NotIp));
        assert_eq!(nflog(&[2, 0, 0, 5]), Err(Skip::NotIp));
        assert_eq!(nflog(&[2, 0, 0]), Err(Skip::Truncated));
        assert_eq!(nflog(&[2, 1, 0, 5, 4, 0, 1, 0]), Err(Skip::Malformed));
        // A zero-length attribute would never advance.
        assert_eq!(nflog(&[2, 0, 0, 5, 0, 0, 1, 0]), Err(Skip::Malformed));
        // A payload attribute cut by the snap length: what was captured.
        assert_eq!(nflog(&[2, 0, 0, 5, 40, 0, 9, 0, 0x45, 0]), Ok((8, 10)));
        // Cut inside an attribute header.
        assert_eq!(
            nflog(&[2, 0, 0, 5, 8, 0, 1, 0, 0, 0, 0, 0, 8]),
            Err(Skip::Truncated)
        );
    }
}
