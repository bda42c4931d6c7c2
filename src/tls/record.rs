//! Record protection: the cipher suites decrypted, TLS 1.3 traffic keys
//! from a traffic secret, TLS 1.2 keys from the master secret, and opening
//! one record in place.

use super::crypto::{self, Aead, AeadKind, CbcKey, Hash, Mac};

/// A TLS 1.3 suite: its AEAD and hash, None for suites not decrypted
/// (TLS_AES_128_CCM_SHA256 and _8: ring has no CCM).
pub(crate) fn suite13(id: u16) -> Option<(AeadKind, Hash)> {
    match id {
        0x1301 => Some((AeadKind::Aes128Gcm, Hash::Sha256)),
        0x1302 => Some((AeadKind::Aes256Gcm, Hash::Sha384)),
        0x1303 => Some((AeadKind::ChaCha20Poly1305, Hash::Sha256)),
        0x1304 => Some((AeadKind::Aes128Ccm, Hash::Sha256)),
        0x1305 => Some((AeadKind::Aes128Ccm8, Hash::Sha256)),
        _ => None,
    }
}

/// The bulk protection of a TLS 1.2 suite.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Bulk12 {
    /// AES-GCM (RFC 5288) or AES-CCM (RFC 6655): a 4-byte salt from the key
    /// block, an 8-byte explicit nonce per record.
    Salted(AeadKind),
    /// ChaCha20-Poly1305 (RFC 7905): 12-byte IV xor the sequence number.
    ChaCha,
    /// AES-CBC with an HMAC; key length 16 or 32.
    Cbc { key_len: usize, mac: Hash },
}

/// A TLS 1.2 suite: bulk protection and PRF hash; None when not decrypted.
pub(crate) fn suite12(id: u16) -> Option<(Bulk12, Hash)> {
    use Bulk12::*;
    use Hash::*;
    let cbc = |key_len, mac| Cbc { key_len, mac };
    Some(match id {
        // AES-128-GCM-SHA256: RSA, DHE_RSA, DHE_DSS, ECDHE_ECDSA, ECDHE_RSA, PSK, ECDHE_PSK
        0x009C | 0x009E | 0x00A2 | 0xC02B | 0xC02F | 0x00A8 | 0x00AA => {
            (Salted(AeadKind::Aes128Gcm), Sha256)
        }
        // AES-256-GCM-SHA384
        0x009D | 0x009F | 0x00A3 | 0xC02C | 0xC030 | 0x00A9 | 0x00AB => {
            (Salted(AeadKind::Aes256Gcm), Sha384)
        }
        // AES-CCM and CCM_8 (RFC 6655, RFC 7251): RSA, DHE_RSA, ECDHE_ECDSA
        0xC09C | 0xC09E | 0xC0AC => (Salted(AeadKind::Aes128Ccm), Sha256),
        0xC09D | 0xC09F | 0xC0AD => (Salted(AeadKind::Aes256Ccm), Sha256),
        0xC0A0 | 0xC0A2 | 0xC0AE => (Salted(AeadKind::Aes128Ccm8), Sha256),
        0xC0A1 | 0xC0A3 | 0xC0AF => (Salted(AeadKind::Aes256Ccm8), Sha256),
        // CHACHA20-POLY1305-SHA256: ECDHE_RSA, ECDHE_ECDSA, DHE_RSA, PSK, ECDHE_PSK, DHE_PSK
        0xCCA8..=0xCCAD => (ChaCha, Sha256),
        // AES-CBC-SHA (RSA, DHE_DSS, DHE_RSA, ECDHE_ECDSA, ECDHE_RSA, PSK)
        0x002F | 0x0032 | 0x0033 | 0xC009 | 0xC013 | 0x008C => (cbc(16, Sha1), Sha256),
        0x0035 | 0x0038 | 0x0039 | 0xC00A | 0xC014 | 0x008D => (cbc(32, Sha1), Sha256),
        // AES-CBC-SHA256 / SHA384
        0x003C | 0x0040 | 0x0067 | 0xC023 | 0xC027 => (cbc(16, Sha256), Sha256),
        0x003D | 0x006A | 0x006B => (cbc(32, Sha256), Sha256),
        0xC024 | 0xC028 => (cbc(32, Sha384), Sha384),
        _ => return None,
    })
}

/// The nonce of a record: the IV xor the sequence number (RFC 8446 5.3, RFC 7905).
fn xor_nonce(iv: &[u8; 12], seq: u64) -> [u8; 12] {
    let mut n = *iv;
    for (b, s) in n.iter_mut().skip(4).zip(seq.to_be_bytes()) {
        *b ^= s;
    }
    n
}

/// One direction's TLS 1.3 traffic keys and sequence number.
pub(crate) struct Keys13 {
    aead: Aead,
    iv: [u8; 12],
    pub(crate) seq: u64,
}

impl Keys13 {
    /// The key and IV of a traffic secret (RFC 8446 7.3).
    pub(crate) fn from_secret(kind: AeadKind, hash: Hash, secret: &[u8]) -> Option<Self> {
        let mut key = [0u8; 32];
        let key = key.get_mut(..kind.key_len())?;
        crypto::hkdf_expand_label(hash, secret, b"key", &[], key);
        let mut iv = [0u8; 12];
        crypto::hkdf_expand_label(hash, secret, b"iv", &[], &mut iv);
        Some(Keys13 {
            aead: Aead::new(kind, key)?,
            iv,
            seq: 0,
        })
    }

    /// Opens a record (`header` is its 5 bytes, the AAD) in place at the
    /// current sequence number, without advancing it. Some((inner content
    /// type, content length)) with padding and type stripped; None when
    /// authentication fails or the plaintext has no content type.
    pub(crate) fn open(&self, header: &[u8; 5], payload: &mut [u8]) -> Option<(u8, usize)> {
        let n = self
            .aead
            .open(xor_nonce(&self.iv, self.seq), header, payload)?;
        let plain = payload.get(..n)?;
        let i = plain.iter().rposition(|&b| b != 0)?;
        Some((*plain.get(i)?, i))
    }

    /// Seals inner plaintext (content then type) into a record payload (tests).
    #[cfg(test)]
    pub(crate) fn seal(&mut self, inner: &[u8], inner_type: u8) -> Vec<u8> {
        let mut buf = inner.to_vec();
        buf.push(inner_type);
        let len = u16::try_from(buf.len() + self.aead.tag_len()).unwrap();
        let [l0, l1] = len.to_be_bytes();
        let header = [23, 3, 3, l0, l1];
        self.aead
            .seal(xor_nonce(&self.iv, self.seq), &header, &mut buf);
        self.seq += 1;
        let mut rec = header.to_vec();
        rec.extend_from_slice(&buf);
        rec
    }
}

/// The next traffic secret after a KeyUpdate (RFC 8446 7.2).
pub(crate) fn next_secret(hash: Hash, secret: &[u8]) -> Vec<u8> {
    let mut out = vec![0u8; hash.len()];
    crypto::hkdf_expand_label(hash, secret, b"traffic upd", &[], &mut out);
    out
}

enum Prot12 {
    Salted { aead: Aead, salt: [u8; 4] },
    ChaCha { aead: Aead, iv: [u8; 12] },
    Cbc { key: CbcKey, mac: Mac, etm: bool },
}

/// Which side's write keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Writer {
    Client,
    Server,
}

/// One side's TLS 1.2 record protection and sequence number.
pub(crate) struct Keys12 {
    prot: Prot12,
    pub(crate) seq: u64,
}

/// The AAD / MAC header of TLS 1.2: seq, type, version, length.
fn aad12(seq: u64, ctype: u8, version: u16, len: usize) -> [u8; 13] {
    let mut a = [0u8; 13];
    let [v0, v1] = version.to_be_bytes();
    let [l0, l1] = u16::try_from(len).unwrap_or(u16::MAX).to_be_bytes();
    for (d, s) in a
        .iter_mut()
        .zip(seq.to_be_bytes().into_iter().chain([ctype, v0, v1, l0, l1]))
    {
        *d = s;
    }
    a
}

impl Keys12 {
    /// A side's write keys from the master secret (RFC 5246 6.3).
    pub(crate) fn new(
        writer: Writer,
        bulk: Bulk12,
        prf: Hash,
        master: &[u8],
        client_random: &[u8; 32],
        server_random: &[u8; 32],
        etm: bool,
    ) -> Option<Self> {
        let (mac_len, key_len, iv_len) = match bulk {
            Bulk12::Salted(k) => (0, k.key_len(), 4),
            Bulk12::ChaCha => (0, 32, 12),
            Bulk12::Cbc { key_len, mac } => (mac.len(), key_len, 0),
        };
        let mut block = vec![0u8; 2 * (mac_len + key_len + iv_len)];
        crypto::prf12(
            prf,
            master,
            b"key expansion",
            &[server_random, client_random],
            &mut block,
        );
        // client MAC, server MAC, client key, server key, client IV, server IV.
        let nth = match writer {
            Writer::Client => 0,
            Writer::Server => 1,
        };
        let mac_key = block.get(nth * mac_len..(nth + 1) * mac_len)?;
        let keys = 2 * mac_len;
        let key = block.get(keys + nth * key_len..keys + (nth + 1) * key_len)?;
        let ivs = keys + 2 * key_len;
        let iv = block.get(ivs + nth * iv_len..ivs + (nth + 1) * iv_len)?;
        let prot = match bulk {
            Bulk12::Salted(k) => Prot12::Salted {
                aead: Aead::new(k, key)?,
                salt: iv.try_into().ok()?,
            },
            Bulk12::ChaCha => Prot12::ChaCha {
                aead: Aead::new(AeadKind::ChaCha20Poly1305, key)?,
                iv: iv.try_into().ok()?,
            },
            Bulk12::Cbc { mac, .. } => Prot12::Cbc {
                key: CbcKey::new(key)?,
                mac: Mac::new(mac, mac_key),
                etm,
            },
        };
        Some(Keys12 { prot, seq: 0 })
    }

    /// Opens a record in place at the current sequence number (advanced
    /// either way); the plaintext's range in `payload`, None when it fails
    /// authentication (or padding, or length).
    pub(crate) fn open(
        &mut self,
        ctype: u8,
        version: u16,
        payload: &mut [u8],
    ) -> Option<std::ops::Range<usize>> {
        let seq = self.seq;
        self.seq = self.seq.wrapping_add(1);
        match &self.prot {
            Prot12::Salted { aead, salt } => {
                let plen = payload.len().checked_sub(8 + aead.tag_len())?;
                let mut nonce = [0u8; 12];
                nonce.get_mut(..4)?.copy_from_slice(salt);
                nonce.get_mut(4..)?.copy_from_slice(payload.get(..8)?);
                let aad = aad12(seq, ctype, version, plen);
                let n = aead.open(nonce, &aad, payload.get_mut(8..)?)?;
                Some(8..8 + n)
            }
            Prot12::ChaCha { aead, iv } => {
                let plen = payload.len().checked_sub(aead.tag_len())?;
                let aad = aad12(seq, ctype, version, plen);
                let n = aead.open(xor_nonce(iv, seq), &aad, payload)?;
                Some(0..n)
            }
            Prot12::Cbc { key, mac, etm } => {
                let ml = mac.len();
                if *etm {
                    let body_len = payload.len().checked_sub(ml)?;
                    let (body, tag) = payload.split_at_mut(body_len);
                    let want = mac.mac(&[&aad12(seq, ctype, version, body_len), body]);
                    if !crypto::ct_eq(want.as_ref(), tag) {
                        return None;
                    }
                    let (iv, ct) = body.split_at_mut_checked(16)?;
                    let iv: [u8; 16] = (&*iv).try_into().ok()?;
                    if ct.is_empty() || !key.decrypt(&iv, ct) {
                        return None;
                    }
                    let pad = usize::from(*ct.last()?);
                    let plen = ct.len().checked_sub(pad + 1)?;
                    let padding = ct.get(plen..)?;
                    if padding.iter().any(|&b| usize::from(b) != pad) {
                        return None;
                    }
                    Some(16..16 + plen)
                } else {
                    let (iv, ct) = payload.split_at_mut_checked(16)?;
                    let iv: [u8; 16] = (&*iv).try_into().ok()?;
                    if ct.is_empty() || !key.decrypt(&iv, ct) {
                        return None;
                    }
                    let pad = usize::from(*ct.last()?);
                    let plen = ct.len().checked_sub(pad + 1 + ml)?;
                    let padding = ct.get(plen + ml..)?;
                    if padding.iter().any(|&b| usize::from(b) != pad) {
                        return None;
                    }
                    let plain = ct.get(..plen)?;
                    let tag = ct.get(plen..plen + ml)?;
                    let want = mac.mac(&[&aad12(seq, ctype, version, plen), plain]);
                    if !crypto::ct_eq(want.as_ref(), tag) {
                        return None;
                    }
                    Some(16..16 + plen)
                }
            }
        }
    }
}
