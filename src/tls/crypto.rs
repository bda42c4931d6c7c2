//! The one interface to the cryptography TLS decryption needs: record AEADs
//! (AES-GCM and ChaCha20-Poly1305 from ring), AES-CBC (RustCrypto `aes` +
//! `cbc`), HMAC (ring) and, built on it, HKDF-Expand-Label (TLS 1.3) and the
//! TLS 1.2 PRF. Nothing else in `tls` names a crypto crate
//! (docs/dependencies.md says why these).

use aes::cipher::{BlockModeDecrypt, KeyIvInit, consts::U16, inout::InOutBuf};
use ring::{aead, hmac};

/// A hash function of the TLS key schedule and record MACs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Hash {
    Sha1,
    Sha256,
    Sha384,
}

impl Hash {
    /// Output length in bytes.
    pub(crate) fn len(self) -> usize {
        match self {
            Hash::Sha1 => 20,
            Hash::Sha256 => 32,
            Hash::Sha384 => 48,
        }
    }

    fn algorithm(self) -> hmac::Algorithm {
        match self {
            Hash::Sha1 => hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY,
            Hash::Sha256 => hmac::HMAC_SHA256,
            Hash::Sha384 => hmac::HMAC_SHA384,
        }
    }
}

/// An HMAC key; `mac` computes the tag over several pieces.
pub(crate) struct Mac {
    key: hmac::Key,
    hash: Hash,
}

impl Mac {
    pub(crate) fn new(hash: Hash, key: &[u8]) -> Self {
        Mac {
            key: hmac::Key::new(hash.algorithm(), key),
            hash,
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.hash.len()
    }

    /// The tag over the concatenation of `parts` (at most 48 bytes used).
    pub(crate) fn mac(&self, parts: &[&[u8]]) -> hmac::Tag {
        let mut ctx = hmac::Context::with_key(&self.key);
        for p in parts {
            ctx.update(p);
        }
        ctx.sign()
    }
}

/// HKDF-Expand (RFC 5869) into `out` (at most 255 blocks; TLS asks for 12..48 bytes).
pub(crate) fn hkdf_expand(hash: Hash, prk: &[u8], info: &[u8], out: &mut [u8]) {
    let mac = Mac::new(hash, prk);
    let mut prev: Option<hmac::Tag> = None;
    let mut counter = 1u8;
    for chunk in out.chunks_mut(hash.len()) {
        let t = match &prev {
            Some(p) => mac.mac(&[p.as_ref(), info, &[counter]]),
            None => mac.mac(&[info, &[counter]]),
        };
        let n = chunk.len();
        if let Some(src) = t.as_ref().get(..n) {
            chunk.copy_from_slice(src);
        }
        prev = Some(t);
        counter = counter.wrapping_add(1);
    }
}

/// HKDF-Expand-Label (RFC 8446 7.1) with the "tls13 " prefix.
pub(crate) fn hkdf_expand_label(
    hash: Hash,
    secret: &[u8],
    label: &[u8],
    context: &[u8],
    out: &mut [u8],
) {
    // struct { uint16 length; opaque label<7..255>; opaque context<0..255>; }
    let mut info = Vec::with_capacity(4 + 6 + label.len() + context.len());
    let len = u16::try_from(out.len()).unwrap_or(u16::MAX);
    info.extend_from_slice(&len.to_be_bytes());
    info.push(u8::try_from(6 + label.len()).unwrap_or(u8::MAX));
    info.extend_from_slice(b"tls13 ");
    info.extend_from_slice(label);
    info.push(u8::try_from(context.len()).unwrap_or(u8::MAX));
    info.extend_from_slice(context);
    hkdf_expand(hash, secret, &info, out);
}

/// The TLS 1.2 PRF (RFC 5246 5): P_hash(secret, label + seed) into `out`.
pub(crate) fn prf12(hash: Hash, secret: &[u8], label: &[u8], seed: &[&[u8]], out: &mut [u8]) {
    let mac = Mac::new(hash, secret);
    // A(1) = HMAC(label + seed); A(i) = HMAC(A(i-1)).
    let mut parts: Vec<&[u8]> = Vec::with_capacity(seed.len() + 1);
    parts.push(label);
    parts.extend_from_slice(seed);
    let mut a = mac.mac(&parts);
    for chunk in out.chunks_mut(hash.len()) {
        let mut full: Vec<&[u8]> = Vec::with_capacity(parts.len() + 1);
        full.push(a.as_ref());
        full.extend_from_slice(&parts);
        let block = mac.mac(&full);
        let n = chunk.len();
        if let Some(src) = block.as_ref().get(..n) {
            chunk.copy_from_slice(src);
        }
        a = mac.mac(&[a.as_ref()]);
    }
}

/// Which AEAD a record protection uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AeadKind {
    Aes128Gcm,
    Aes256Gcm,
    ChaCha20Poly1305,
}

impl AeadKind {
    pub(crate) fn key_len(self) -> usize {
        match self {
            AeadKind::Aes128Gcm => 16,
            AeadKind::Aes256Gcm | AeadKind::ChaCha20Poly1305 => 32,
        }
    }

    fn algorithm(self) -> &'static aead::Algorithm {
        match self {
            AeadKind::Aes128Gcm => &aead::AES_128_GCM,
            AeadKind::Aes256Gcm => &aead::AES_256_GCM,
            AeadKind::ChaCha20Poly1305 => &aead::CHACHA20_POLY1305,
        }
    }
}

/// The AEAD tag length of every suite here.
pub(crate) const TAG_LEN: usize = 16;

/// An AEAD key ready to open records.
pub(crate) struct Aead(aead::LessSafeKey);

impl Aead {
    /// None when the key has the wrong length.
    pub(crate) fn new(kind: AeadKind, key: &[u8]) -> Option<Self> {
        let k = aead::UnboundKey::new(kind.algorithm(), key).ok()?;
        Some(Aead(aead::LessSafeKey::new(k)))
    }

    /// Opens `buf` (ciphertext then tag) in place; the plaintext length, or
    /// None when authentication fails (then `buf` holds garbage).
    pub(crate) fn open(&self, nonce: [u8; 12], aad: &[u8], buf: &mut [u8]) -> Option<usize> {
        let n = aead::Nonce::assume_unique_for_key(nonce);
        self.0
            .open_in_place(n, aead::Aad::from(aad), buf)
            .ok()
            .map(|p| p.len())
    }

    /// Seals `buf` in place, appending the tag (tests build records with it).
    #[cfg(test)]
    pub(crate) fn seal(&self, nonce: [u8; 12], aad: &[u8], buf: &mut Vec<u8>) {
        let n = aead::Nonce::assume_unique_for_key(nonce);
        self.0
            .seal_in_place_append_tag(n, aead::Aad::from(aad), buf)
            .unwrap();
    }
}

/// An AES-CBC key (128 or 256 bits).
pub(crate) enum CbcKey {
    Aes128([u8; 16]),
    Aes256([u8; 32]),
}

impl CbcKey {
    pub(crate) fn new(key: &[u8]) -> Option<Self> {
        match key.len() {
            16 => Some(CbcKey::Aes128(key.try_into().ok()?)),
            32 => Some(CbcKey::Aes256(key.try_into().ok()?)),
            _ => None,
        }
    }

    /// Decrypts whole blocks of `buf` in place with `iv`; false when `buf`
    /// is not a whole number of blocks.
    pub(crate) fn decrypt(&self, iv: &[u8; 16], buf: &mut [u8]) -> bool {
        let (blocks, tail) = InOutBuf::from(buf).into_chunks::<U16>();
        if !tail.is_empty() {
            return false;
        }
        match self {
            CbcKey::Aes128(k) => {
                cbc::Decryptor::<aes::Aes128>::new(k.into(), iv.into()).decrypt_blocks_inout(blocks)
            }
            CbcKey::Aes256(k) => {
                cbc::Decryptor::<aes::Aes256>::new(k.into(), iv.into()).decrypt_blocks_inout(blocks)
            }
        }
        true
    }

    /// Encrypts whole blocks in place (tests build records with it).
    #[cfg(test)]
    pub(crate) fn encrypt(&self, iv: &[u8; 16], buf: &mut [u8]) {
        use aes::cipher::BlockModeEncrypt;
        let (blocks, tail) = InOutBuf::from(buf).into_chunks::<U16>();
        assert!(tail.is_empty());
        match self {
            CbcKey::Aes128(k) => {
                cbc::Encryptor::<aes::Aes128>::new(k.into(), iv.into()).encrypt_blocks_inout(blocks)
            }
            CbcKey::Aes256(k) => {
                cbc::Encryptor::<aes::Aes256>::new(k.into(), iv.into()).encrypt_blocks_inout(blocks)
            }
        }
    }
}

/// Equality without early exit (tags of records).
pub(crate) fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
