//! The one interface to the cryptography TLS decryption needs: record AEADs
//! (AES-GCM and ChaCha20-Poly1305 from ring, AES-CCM and CCM_8 from
//! RustCrypto `ccm`, which ring lacks), AES-CBC (RustCrypto `aes` + `cbc`), HMAC (ring) and, built on it, HKDF-Expand-Label (TLS 1.3) and the
//! TLS 1.2 PRF. Nothing else in `tls` names a crypto crate
//! (docs/dependencies.md says why these).

use aes::cipher::{
    BlockModeDecrypt, KeyIvInit,
    consts::{U8, U12, U16},
    inout::InOutBuf,
};
use ccm::aead::{AeadInOut, KeyInit};
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
    /// AES-CCM with a 16-byte tag (RFC 6655, RFC 8446's TLS_AES_128_CCM_SHA256).
    Aes128Ccm,
    Aes256Ccm,
    /// AES-CCM with an 8-byte tag (the `_CCM_8` suites).
    Aes128Ccm8,
    Aes256Ccm8,
}

impl AeadKind {
    pub(crate) fn key_len(self) -> usize {
        match self {
            AeadKind::Aes128Gcm | AeadKind::Aes128Ccm | AeadKind::Aes128Ccm8 => 16,
            AeadKind::Aes256Gcm
            | AeadKind::ChaCha20Poly1305
            | AeadKind::Aes256Ccm
            | AeadKind::Aes256Ccm8 => 32,
        }
    }

    /// The authentication tag's length in bytes.
    pub(crate) fn tag_len(self) -> usize {
        match self {
            AeadKind::Aes128Ccm8 | AeadKind::Aes256Ccm8 => 8,
            _ => 16,
        }
    }
}

type Ccm<C, M> = ccm::Ccm<C, M, U12>;

/// The implementations behind [`Aead`].
enum AeadImpl {
    Ring(aead::LessSafeKey),
    Aes128Ccm(Ccm<aes::Aes128, U16>),
    Aes256Ccm(Ccm<aes::Aes256, U16>),
    Aes128Ccm8(Ccm<aes::Aes128, U8>),
    Aes256Ccm8(Ccm<aes::Aes256, U8>),
}

/// An AEAD key ready to open records.
pub(crate) struct Aead {
    imp: AeadImpl,
    tag_len: usize,
}

/// Opens `ct` with its detached `tag` by a RustCrypto AEAD.
fn open_detached<A: AeadInOut>(
    a: &A,
    nonce: [u8; 12],
    aad: &[u8],
    ct: &mut [u8],
    tag: &[u8],
) -> bool {
    let Ok(tag) = ccm::aead::Tag::<A>::try_from(tag) else {
        return false;
    };
    let Ok(nonce) = ccm::aead::Nonce::<A>::try_from(&nonce[..]) else {
        return false;
    };
    a.decrypt_inout_detached(&nonce, aad, InOutBuf::from(ct), &tag)
        .is_ok()
}

impl Aead {
    /// None when the key has the wrong length.
    pub(crate) fn new(kind: AeadKind, key: &[u8]) -> Option<Self> {
        let imp = match kind {
            AeadKind::Aes128Gcm => AeadImpl::Ring(ring_key(&aead::AES_128_GCM, key)?),
            AeadKind::Aes256Gcm => AeadImpl::Ring(ring_key(&aead::AES_256_GCM, key)?),
            AeadKind::ChaCha20Poly1305 => AeadImpl::Ring(ring_key(&aead::CHACHA20_POLY1305, key)?),
            AeadKind::Aes128Ccm => AeadImpl::Aes128Ccm(Ccm::new_from_slice(key).ok()?),
            AeadKind::Aes256Ccm => AeadImpl::Aes256Ccm(Ccm::new_from_slice(key).ok()?),
            AeadKind::Aes128Ccm8 => AeadImpl::Aes128Ccm8(Ccm::new_from_slice(key).ok()?),
            AeadKind::Aes256Ccm8 => AeadImpl::Aes256Ccm8(Ccm::new_from_slice(key).ok()?),
        };
        Some(Aead {
            imp,
            tag_len: kind.tag_len(),
        })
    }

    /// The authentication tag's length in bytes.
    pub(crate) fn tag_len(&self) -> usize {
        self.tag_len
    }

    /// Opens `buf` (ciphertext then tag) in place; the plaintext length, or
    /// None when authentication fails (then `buf` holds garbage).
    pub(crate) fn open(&self, nonce: [u8; 12], aad: &[u8], buf: &mut [u8]) -> Option<usize> {
        let ct_len = buf.len().checked_sub(self.tag_len)?;
        let (ct, tag) = buf.split_at_mut(ct_len);
        let ok = match &self.imp {
            AeadImpl::Ring(k) => {
                let n = aead::Nonce::assume_unique_for_key(nonce);
                return k
                    .open_in_place(n, aead::Aad::from(aad), buf)
                    .ok()
                    .map(|p| p.len());
            }
            AeadImpl::Aes128Ccm(a) => open_detached(a, nonce, aad, ct, tag),
            AeadImpl::Aes256Ccm(a) => open_detached(a, nonce, aad, ct, tag),
            AeadImpl::Aes128Ccm8(a) => open_detached(a, nonce, aad, ct, tag),
            AeadImpl::Aes256Ccm8(a) => open_detached(a, nonce, aad, ct, tag),
        };
        ok.then_some(ct_len)
    }

    /// Seals `buf` in place, appending the tag (tests build records with it).
    #[cfg(test)]
    pub(crate) fn seal(&self, nonce: [u8; 12], aad: &[u8], buf: &mut Vec<u8>) {
        fn detached<A: AeadInOut>(a: &A, nonce: [u8; 12], aad: &[u8], buf: &mut Vec<u8>) {
            let n = ccm::aead::Nonce::<A>::try_from(&nonce[..]).unwrap();
            let tag = a
                .encrypt_inout_detached(&n, aad, InOutBuf::from(&mut buf[..]))
                .unwrap();
            buf.extend_from_slice(&tag);
        }
        match &self.imp {
            AeadImpl::Ring(k) => {
                let n = aead::Nonce::assume_unique_for_key(nonce);
                k.seal_in_place_append_tag(n, aead::Aad::from(aad), buf)
                    .unwrap();
            }
            AeadImpl::Aes128Ccm(a) => detached(a, nonce, aad, buf),
            AeadImpl::Aes256Ccm(a) => detached(a, nonce, aad, buf),
            AeadImpl::Aes128Ccm8(a) => detached(a, nonce, aad, buf),
            AeadImpl::Aes256Ccm8(a) => detached(a, nonce, aad, buf),
        }
    }
}

fn ring_key(alg: &'static aead::Algorithm, key: &[u8]) -> Option<aead::LessSafeKey> {
    Some(aead::LessSafeKey::new(
        aead::UnboundKey::new(alg, key).ok()?,
    ))
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
