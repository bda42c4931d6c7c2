//! SOCKS 4, 4a and 5 client handshakes at the start of a stream, so that the
//! HTTP a client sends through a SOCKS proxy is still read.
//!
//! Only the client's bytes are looked at: each handshake's length follows
//! from the client's own fields (NUL-terminated user id and host name in
//! SOCKS 4/4a; method count, the RFC 1929 username/password exchange when it
//! was offered, and the address type in SOCKS 5). The proxy's replies in the
//! other direction are never read.

/// Longest client handshake accepted (SOCKS 5 with both 255-byte credentials
/// and a 255-byte host name is 1,039 bytes).
pub const MAX_HANDSHAKE: usize = 1100;

/// What the bytes at a stream's start are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Socks {
    /// A whole client handshake of this many bytes.
    Complete(usize),
    /// A handshake so far: more bytes needed.
    NeedMore,
    /// Not a SOCKS client handshake.
    Other,
}

/// Whether a stream's first byte can open a SOCKS client handshake.
pub fn may_start(first: u8) -> bool {
    first == 4 || first == 5
}

/// The length of the client handshake at the start of `b`.
pub fn handshake_len(b: &[u8]) -> Socks {
    let r = match b.first() {
        Some(4) => socks4(b),
        Some(5) => socks5(b),
        Some(_) => Err(Socks::Other),
        None => Err(Socks::NeedMore),
    };
    match r {
        Ok(n) => Socks::Complete(n),
        Err(Socks::NeedMore) if b.len() >= MAX_HANDSHAKE => Socks::Other,
        Err(e) => e,
    }
}

fn byte(b: &[u8], i: usize) -> Result<u8, Socks> {
    b.get(i).copied().ok_or(Socks::NeedMore)
}

/// Index just past the NUL that ends a string starting at `from` (at most 255 bytes).
fn nul_string(b: &[u8], from: usize) -> Result<usize, Socks> {
    let rest = b.get(from..).unwrap_or_default();
    match memchr::memchr(0, rest) {
        Some(n) if n <= 255 => Ok(from.saturating_add(n).saturating_add(1)),
        Some(_) => Err(Socks::Other),
        None if rest.len() > 255 => Err(Socks::Other),
        None => Err(Socks::NeedMore),
    }
}

/// VER=4, CMD (1 connect, 2 bind), DSTPORT, DSTIP, USERID NUL; SOCKS 4a:
/// DSTIP 0.0.0.x (x ≠ 0), then the host name NUL.
fn socks4(b: &[u8]) -> Result<usize, Socks> {
    if !matches!(byte(b, 1)?, 1 | 2) {
        return Err(Socks::Other);
    }
    let ip = [byte(b, 4)?, byte(b, 5)?, byte(b, 6)?, byte(b, 7)?];
    let end = nul_string(b, 8)?;
    if ip[..3] == [0, 0, 0] && ip[3] != 0 {
        let host_end = nul_string(b, end)?;
        if host_end.saturating_sub(end) < 2 {
            return Err(Socks::Other);
        }
        return Ok(host_end);
    }
    Ok(end)
}

/// Greeting (VER=5, NMETHODS, METHODS), then the RFC 1929 sub-negotiation
/// (VER=1, ULEN, UNAME, PLEN, PASSWD) if username/password (2) was offered
/// and the client sends one, then the request (VER=5, CMD 1-3, RSV=0, ATYP
/// 1 IPv4 / 3 name / 4 IPv6, address, port).
fn socks5(b: &[u8]) -> Result<usize, Socks> {
    let n = usize::from(byte(b, 1)?);
    if n == 0 {
        return Err(Socks::Other);
    }
    let methods_end = n.saturating_add(2);
    let methods = b.get(2..methods_end).ok_or(Socks::NeedMore)?;
    let mut pos = methods_end;
    if byte(b, pos)? == 1 && methods.contains(&2) {
        let ulen = usize::from(byte(b, pos.saturating_add(1))?);
        let plen_at = pos.saturating_add(2).saturating_add(ulen);
        let plen = usize::from(byte(b, plen_at)?);
        pos = plen_at.saturating_add(1).saturating_add(plen);
    }
    if byte(b, pos)? != 5
        || !matches!(byte(b, pos.saturating_add(1))?, 1..=3)
        || byte(b, pos.saturating_add(2))? != 0
    {
        return Err(Socks::Other);
    }
    let addr_at = pos.saturating_add(4);
    let addr_len = match byte(b, pos.saturating_add(3))? {
        1 => 4,
        3 => usize::from(byte(b, addr_at)?).saturating_add(1),
        4 => 16,
        _ => return Err(Socks::Other),
    };
    let end = addr_at.saturating_add(addr_len).saturating_add(2);
    if b.len() < end {
        return Err(Socks::NeedMore);
    }
    Ok(end)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn socks4_and_4a() {
        let v4 = b"\x04\x01\x00\x50\xc0\x00\x02\x0aalice\x00GET";
        assert_eq!(handshake_len(v4), Socks::Complete(14));
        let v4a = b"\x04\x01\x00\x50\x00\x00\x00\x01\x00www.example.com\x00GET";
        assert_eq!(handshake_len(v4a), Socks::Complete(25));
        for cut in 1..25 {
            assert_eq!(handshake_len(&v4a[..cut]), Socks::NeedMore, "{cut}");
        }
        assert_eq!(handshake_len(b"\x04\x09\x00\x50"), Socks::Other);
        let mut long = b"\x04\x01\x00\x50\x01\x02\x03\x04".to_vec();
        long.extend([b'a'; 300]);
        assert_eq!(handshake_len(&long), Socks::Other);
    }

    #[test]
    fn socks5_with_and_without_auth() {
        let plain = b"\x05\x01\x00\x05\x01\x00\x03\x0bexample.com\x00\x50GET";
        assert_eq!(handshake_len(plain), Socks::Complete(21));
        let auth = b"\x05\x02\x00\x02\x01\x03bob\x02pw\x05\x01\x00\x01\xc0\x00\x02\x01\x1f\x90";
        assert_eq!(handshake_len(auth), Socks::Complete(auth.len()));
        let v6 = [b"\x05\x01\x00\x05\x01\x00\x04".as_slice(), &[0; 18]].concat();
        assert_eq!(handshake_len(&v6), Socks::Complete(25));
        for cut in 1..auth.len() {
            assert_eq!(handshake_len(&auth[..cut]), Socks::NeedMore, "{cut}");
        }
        assert_eq!(handshake_len(b"\x05\x00"), Socks::Other);
        assert_eq!(handshake_len(b"\x05\x01\x00\x05\x07"), Socks::Other);
        assert_eq!(handshake_len(b"\x05\x01\x00\x05\x01\x00\x02"), Socks::Other);
        assert_eq!(handshake_len(b"\x16\x03\x01"), Socks::Other);
    }
}
