//! IEEE 802.11: the radiotap capture header (LINKTYPE 127) and the MAC
//! header of data frames (LINKTYPE 105, and Aruba's GRE tunnels between
//! access point and controller), up to the LLC header of the payload.
use super::Skip;
use super::bytes::{be16, byte};

/// Bytes of the frame check sequence at the end of a frame.
pub(crate) const FCS_LEN: usize = 4;

/// Aruba's GRE protocol types for 802.11 frames between access point and
/// controller: 0x8200 to 0x8370 in steps of 0x10 (as tshark registers them).
pub(crate) fn is_aruba_gre(proto: u16) -> bool {
    (0x8200..=0x8370).contains(&proto) && proto & 0x000f == 0
}

/// Radiotap "Flags" field bits.
const RADIOTAP_FLAG_DATA_PAD: u8 = 0x20;
const RADIOTAP_FLAG_FCS: u8 = 0x10;
/// Extended present-bitmap words followed before giving up.
const MAX_RADIOTAP_PRESENT_WORDS: usize = 8;

/// What a radiotap header says about the 802.11 frame after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Radiotap {
    /// Bytes of radiotap header (its length field).
    pub header_len: usize,
    /// The frame ends with a 4-byte frame check sequence.
    pub fcs: bool,
    /// Padding after the 802.11 header aligns the payload to 4 bytes.
    pub data_pad: bool,
}

fn le16(data: &[u8], at: usize) -> Option<u16> {
    let b = data.get(at..at.checked_add(2)?)?;
    Some(u16::from_le_bytes(b.try_into().ok()?))
}

fn le32(data: &[u8], at: usize) -> Option<u32> {
    let b = data.get(at..at.checked_add(4)?)?;
    Some(u32::from_le_bytes(b.try_into().ok()?))
}

/// Parses a radiotap header (version 0, little-endian): its length and the
/// Flags field (FCS at the end, data padding) when present. Fields other
/// than TSFT and Flags are passed over by the header's length.
pub(crate) fn radiotap(data: &[u8]) -> Result<Radiotap, Skip> {
    let version = byte(data, 0).ok_or(Skip::Truncated)?;
    let len = usize::from(le16(data, 2).ok_or(Skip::Truncated)?);
    let present = le32(data, 4).ok_or(Skip::Truncated)?;
    if version != 0 || len < 8 {
        return Err(Skip::Malformed);
    }
    if data.len() < len {
        return Err(Skip::Truncated);
    }
    let header = data.get(..len).ok_or(Skip::Truncated)?;
    // Extended bitmaps (bit 31) follow the first one; fields start after the last.
    let mut at = 8usize;
    let mut word = present;
    let mut words = 1usize;
    while word & 0x8000_0000 != 0 {
        words = words.saturating_add(1);
        if words > MAX_RADIOTAP_PRESENT_WORDS {
            return Err(Skip::Malformed);
        }
        word = le32(header, at).ok_or(Skip::Malformed)?;
        at = at.saturating_add(4);
    }
    let mut flags = 0u8;
    if present & 0x2 != 0 {
        if present & 0x1 != 0 {
            // TSFT: 8 bytes, aligned to 8 from the header's start.
            at = at.saturating_add(7) & !7;
            at = at.saturating_add(8);
        }
        flags = byte(header, at).ok_or(Skip::Malformed)?;
    }
    Ok(Radiotap {
        header_len: len,
        fcs: flags & RADIOTAP_FLAG_FCS != 0,
        data_pad: flags & RADIOTAP_FLAG_DATA_PAD != 0,
    })
}

/// What an 802.11 frame holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dot11 {
    /// A data frame whose payload (an LLC header) is `start..end` of the frame.
    Data(usize, usize),
    /// A protected (encrypted) data frame: its payload cannot be read.
    Protected,
}

/// 802.11 frame type of data frames.
const TYPE_DATA: u8 = 2;
/// Frame-control flag bits (second byte).
const TO_DS: u8 = 0x01;
const FROM_DS: u8 = 0x02;
const MORE_FRAGMENTS: u8 = 0x04;
const PROTECTED: u8 = 0x40;
const ORDER: u8 = 0x80;

/// Bytes of an A-MSDU subframe header (destination, source, length).
const AMSDU_SUBFRAME_HEADER: usize = 14;

/// Parses an 802.11 MAC header. Management, control and null-data frames
/// carry no IP ([`Skip::NotIp`]); fragments are not reassembled, and an
/// A-MSDU aggregate is read only when it holds one subframe
/// ([`Skip::UnsupportedEncapsulation`] otherwise: one frame yields one segment). Handles the
/// 4-address form (to and from the distribution system), QoS data and the
/// HT control field; `data_pad` (from radiotap) aligns the payload to 4 bytes.
pub(crate) fn dot11(data: &[u8], data_pad: bool) -> Result<Dot11, Skip> {
    let fc = byte(data, 0).ok_or(Skip::Truncated)?;
    let flags = byte(data, 1).ok_or(Skip::Truncated)?;
    if fc & 0x03 != 0 {
        return Err(Skip::Malformed);
    }
    let frame_type = (fc >> 2) & 0x03;
    let subtype = fc >> 4;
    if frame_type != TYPE_DATA || subtype & 0x04 != 0 {
        // Management, control, extension; null data (no payload).
        return Err(Skip::NotIp);
    }
    let qos = subtype & 0x08 != 0;
    let mut len = 24usize;
    if flags & TO_DS != 0 && flags & FROM_DS != 0 {
        len = len.saturating_add(6);
    }
    let mut amsdu = false;
    if qos {
        amsdu = byte(data, len).ok_or(Skip::Truncated)? & 0x80 != 0;
        len = len.saturating_add(2);
        if flags & ORDER != 0 {
            len = len.saturating_add(4);
        }
    }
    if data.len() < len {
        return Err(Skip::Truncated);
    }
    if flags & PROTECTED != 0 {
        return Ok(Dot11::Protected);
    }
    let fragment = byte(data, 22).ok_or(Skip::Truncated)? & 0x0f;
    if flags & MORE_FRAGMENTS != 0 || fragment != 0 {
        return Err(Skip::UnsupportedEncapsulation);
    }
    if data_pad {
        len = len.saturating_add(3) & !3;
    }
    if amsdu {
        let length = usize::from(be16(data, len.saturating_add(12)).ok_or(Skip::Truncated)?);
        let start = len.saturating_add(AMSDU_SUBFRAME_HEADER);
        let end = start.saturating_add(length);
        // Another subframe follows (after at most 3 bytes of padding).
        if data.len() > end.saturating_add(3) {
            return Err(Skip::UnsupportedEncapsulation);
        }
        return Ok(Dot11::Data(start, end.min(data.len())));
    }
    Ok(Dot11::Data(len, data.len()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(fc: u8, flags: u8) -> Vec<u8> {
        let mut h = vec![fc, flags, 0, 0];
        h.extend_from_slice(&[1; 18]); // three addresses
        h.extend_from_slice(&[0x10, 0]); // sequence 1, fragment 0
        h
    }

    #[test]
    fn data_frames_of_every_form() {
        // Plain data, from the AP.
        assert_eq!(
            dot11(&header(0x08, FROM_DS), false),
            Ok(Dot11::Data(24, 24))
        );
        // QoS data to the AP.
        let mut q = header(0x88, TO_DS);
        q.extend_from_slice(&[0, 0]);
        assert_eq!(dot11(&q, false), Ok(Dot11::Data(26, 26)));
        // With radiotap data padding: aligned to 28.
        q.extend_from_slice(&[0, 0]);
        assert_eq!(dot11(&q, true), Ok(Dot11::Data(28, 28)));
        // Four addresses, QoS, HT control.
        let mut w = header(0x88, TO_DS | FROM_DS | ORDER);
        w.extend_from_slice(&[2; 6]);
        w.extend_from_slice(&[0, 0, 0, 0, 0, 0]);
        assert_eq!(dot11(&w, false), Ok(Dot11::Data(36, 36)));
        // Cut short.
        assert_eq!(dot11(&w[..30], false), Err(Skip::Truncated));
        assert_eq!(dot11(&[0x08], false), Err(Skip::Truncated));
    }

    #[test]
    fn frames_without_ip() {
        // Beacon, ACK, null data, QoS null.
        assert_eq!(dot11(&header(0x80, 0), false), Err(Skip::NotIp));
        assert_eq!(dot11(&[0xd4, 0, 0, 0], false), Err(Skip::NotIp));
        assert_eq!(dot11(&header(0x48, TO_DS), false), Err(Skip::NotIp));
        assert_eq!(dot11(&header(0xc8, TO_DS), false), Err(Skip::NotIp));
        // Protected, fragmented, A-MSDU, bad version.
        assert_eq!(
            dot11(&header(0x08, TO_DS | PROTECTED), false),
            Ok(Dot11::Protected)
        );
        assert_eq!(
            dot11(&header(0x08, TO_DS | MORE_FRAGMENTS), false),
            Err(Skip::UnsupportedEncapsulation)
        );
        let mut f = header(0x08, TO_DS);
        f[22] = 0x11;
        assert_eq!(dot11(&f, false), Err(Skip::UnsupportedEncapsulation));
        // An A-MSDU of one subframe (padding after it), then of two.
        let mut a = header(0x88, TO_DS);
        a.extend_from_slice(&[0x80, 0]);
        a.extend_from_slice(&[3; 12]);
        a.extend_from_slice(&5u16.to_be_bytes());
        a.extend_from_slice(b"hello\0\0\0");
        assert_eq!(dot11(&a, false), Ok(Dot11::Data(40, 45)));
        a.extend_from_slice(&[3; 12]);
        a.extend_from_slice(&1u16.to_be_bytes());
        a.push(b'x');
        assert_eq!(dot11(&a, false), Err(Skip::UnsupportedEncapsulation));
        assert_eq!(dot11(&a[..30], false), Err(Skip::Truncated));
        assert_eq!(dot11(&header(0x09, 0), false), Err(Skip::Malformed));
    }

    #[test]
    fn radiotap_headers() {
        // No fields.
        let r = radiotap(&[0, 0, 8, 0, 0, 0, 0, 0, 0x08]).unwrap();
        assert_eq!(
            r,
            Radiotap {
                header_len: 8,
                fcs: false,
                data_pad: false
            }
        );
        // TSFT and Flags (FCS, data pad), rate.
        let mut h = vec![0, 0, 0, 0, 0x07, 0, 0, 0];
        h.extend_from_slice(&[0; 8]); // TSFT at 8
        h.extend_from_slice(&[0x30, 2]); // flags, rate
        h[2] = h.len() as u8;
        let r = radiotap(&h).unwrap();
        assert_eq!((r.header_len, r.fcs, r.data_pad), (18, true, true));
        // An extended present bitmap moves the fields on (and their alignment).
        let mut h = vec![0, 0, 0, 0, 0x03, 0, 0, 0x80, 0, 0, 0, 0];
        h.extend_from_slice(&[0; 4]); // align to 16
        h.extend_from_slice(&[0; 8]);
        h.push(0x10);
        h[2] = h.len() as u8;
        assert!(radiotap(&h).unwrap().fcs);
        // Flags alone, straight after the bitmap.
        let h = [0, 0, 9, 0, 0x02, 0, 0, 0, 0x10];
        assert!(radiotap(&h).unwrap().fcs);
        // Longer than the frame, shorter than itself, a bitmap that never ends.
        assert_eq!(radiotap(&[0, 0, 40, 0, 0, 0, 0, 0]), Err(Skip::Truncated));
        assert_eq!(radiotap(&[0, 0, 4, 0, 0, 0, 0, 0]), Err(Skip::Malformed));
        let mut h = vec![0, 0, 48, 0];
        h.extend_from_slice(&[0xff; 44]);
        assert_eq!(radiotap(&h), Err(Skip::Malformed));
        assert_eq!(radiotap(&[1, 0, 8, 0, 0, 0, 0, 0]), Err(Skip::Malformed));
    }
}
