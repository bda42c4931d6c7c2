//! Bounds-checked big-endian reads: every read of a header field goes through
//! these, so a short or lying packet yields `None`, never a panic.

/// The byte at `at`.
pub(crate) fn byte(data: &[u8], at: usize) -> Option<u8> {
    data.get(at).copied()
}

/// The big-endian `u16` at `at`.
pub(crate) fn be16(data: &[u8], at: usize) -> Option<u16> {
    let b = data.get(at..at.checked_add(2)?)?;
    Some(u16::from_be_bytes(b.try_into().ok()?))
}

/// The big-endian `u32` at `at`.
pub(crate) fn be32(data: &[u8], at: usize) -> Option<u32> {
    let b = data.get(at..at.checked_add(4)?)?;
    Some(u32::from_be_bytes(b.try_into().ok()?))
}

/// The 4 bytes at `at` as an array (IPv4 address).
pub(crate) fn array4(data: &[u8], at: usize) -> Option<[u8; 4]> {
    data.get(at..at.checked_add(4)?)?.try_into().ok()
}

/// The 16 bytes at `at` as an array (IPv6 address).
pub(crate) fn array16(data: &[u8], at: usize) -> Option<[u8; 16]> {
    data.get(at..at.checked_add(16)?)?.try_into().ok()
}
