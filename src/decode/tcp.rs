//! The TCP header: one parser, used by the Ethernet/IPv4 fast path and by the
//! layer walker alike.
use super::TcpFlags;

/// The fields of a TCP header the reassembler needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Header {
    pub src_port: u16,
    pub dst_port: u16,
    pub seq: u32,
    pub ack: u32,
    pub flags: TcpFlags,
    /// Header length in bytes (data offset), at least 20.
    pub len: usize,
}

/// Why bytes are not a TCP header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Error {
    /// Fewer bytes than the header (fixed part or its options).
    Short,
    /// A data offset below 5 words.
    BadOffset,
}

/// The smallest TCP header.
const MIN_HEADER: usize = 20;

/// Parses the TCP header at the start of `data`; the payload is `data[len..]`.
#[inline]
pub(super) fn header(data: &[u8]) -> Result<Header, Error> {
    let fixed: &[u8; MIN_HEADER] = data
        .get(..MIN_HEADER)
        .and_then(|h| h.try_into().ok())
        .ok_or(Error::Short)?;
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
    ] = *fixed;
    let len = usize::from(offset >> 4).saturating_mul(4);
    if len < MIN_HEADER {
        return Err(Error::BadOffset);
    }
    if data.len() < len {
        return Err(Error::Short);
    }
    Ok(Header {
        src_port: u16::from_be_bytes([sp0, sp1]),
        dst_port: u16::from_be_bytes([dp0, dp1]),
        seq: u32::from_be_bytes([q0, q1, q2, q3]),
        ack: u32::from_be_bytes([a0, a1, a2, a3]),
        flags: TcpFlags::from_bits(flags),
        len,
    })
}

impl TcpFlags {
    /// The flags of a TCP header's flag byte.
    #[inline]
    pub(super) fn from_bits(flags: u8) -> TcpFlags {
        TcpFlags {
            fin: flags & 0x01 != 0,
            syn: flags & 0x02 != 0,
            rst: flags & 0x04 != 0,
            ack: flags & 0x10 != 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_fields_and_errors() {
        let mut h = vec![
            0xc7, 0x38, 0, 80, 0, 0, 0, 7, 0, 0, 0, 9, 0x60, 0x12, 0, 0, 0, 0, 0, 0,
        ];
        h.extend_from_slice(&[1, 1, 1, 1, b'x']);
        let parsed = header(&h).unwrap();
        assert_eq!(
            (parsed.src_port, parsed.dst_port, parsed.seq, parsed.ack),
            (51000, 80, 7, 9)
        );
        assert_eq!(parsed.len, 24);
        assert!(parsed.flags.syn && parsed.flags.ack && !parsed.flags.fin);
        assert_eq!(&h[parsed.len..], b"x");
        // Options cut short, a short fixed header, an offset below 5 words.
        assert_eq!(header(&h[..22]), Err(Error::Short));
        assert_eq!(header(&h[..19]), Err(Error::Short));
        h[12] = 0x40;
        assert_eq!(header(&h), Err(Error::BadOffset));
    }
}
