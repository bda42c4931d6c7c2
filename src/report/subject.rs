//! Pseudonymous subjects (`--subject-key FILE`): a keyed hash of the clear
//! number or identifier, so that outputs of different runs (and `merge`) keep
//! two numbers apart even when their masks are equal, and analysts can count
//! subscribers without seeing numbers. HMAC-SHA-256 (RFC 2104) with the
//! file's bytes as key, truncated to 128 bits, in hex with an `h1:` prefix.
//! Never a plain hash: phone numbers are few enough to hash them all.
//!
//! HMAC is written out here over the `sha2` crate (the construction is two
//! hashes and is checked against RFC 4231's test vectors below) rather than
//! adding the `hmac` crate for these twenty lines.
use std::path::Path;

use sha2::{Digest as _, Sha256};

/// Bytes of the digest kept.
const KEPT: usize = 16;
/// SHA-256's block size.
const BLOCK: usize = 64;

/// The key of the pseudonyms.
#[derive(Clone)]
pub struct SubjectKey {
    /// The key padded to the block size (hashed first when longer).
    block: [u8; BLOCK],
}

impl std::fmt::Debug for SubjectKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SubjectKey(..)")
    }
}

/// A key file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum SubjectKeyError {
    /// It could not be read.
    #[error("cannot read {file}: {source}")]
    Read {
        /// The file.
        file: String,
        /// Why.
        source: std::io::Error,
    },
    /// It holds fewer than 16 bytes: too weak a key.
    #[error("{file}: a key needs at least 16 bytes (e.g. head -c 32 /dev/urandom > {file})")]
    Short {
        /// The file.
        file: String,
    },
}

impl SubjectKey {
    /// A key of these bytes.
    pub fn new(key: &[u8]) -> SubjectKey {
        let mut block = [0u8; BLOCK];
        let digest;
        let key = if key.len() > BLOCK {
            digest = Sha256::digest(key);
            digest.as_slice()
        } else {
            key
        };
        for (b, k) in block.iter_mut().zip(key) {
            *b = *k;
        }
        SubjectKey { block }
    }

    /// The key held in `path` (its bytes as they are, at least 16).
    pub fn load(path: &Path) -> Result<SubjectKey, SubjectKeyError> {
        let file = path.display().to_string();
        let bytes = std::fs::read(path).map_err(|source| SubjectKeyError::Read {
            file: file.clone(),
            source,
        })?;
        if bytes.len() < 16 {
            return Err(SubjectKeyError::Short { file });
        }
        Ok(SubjectKey::new(&bytes))
    }

    /// HMAC-SHA-256 of `message`.
    fn mac(&self, message: &[u8]) -> [u8; 32] {
        let pad = |byte: u8| self.block.map(|k| k ^ byte);
        let inner = Sha256::new()
            .chain_update(pad(0x36))
            .chain_update(message)
            .finalize();
        Sha256::new()
            .chain_update(pad(0x5c))
            .chain_update(inner)
            .finalize()
            .into()
    }

    /// The pseudonym of a clear subject.
    pub fn pseudonym(&self, clear: &str) -> String {
        let mac = self.mac(clear.as_bytes());
        let mut s = String::with_capacity(3 + 2 * KEPT);
        s.push_str("h1:");
        for b in mac.iter().take(KEPT) {
            s.push_str(&format!("{b:02x}"));
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(b: &[u8]) -> String {
        b.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// RFC 4231, test cases 1, 2, 6 (a key longer than the block) and 7.
    #[test]
    fn rfc4231_vectors() {
        let cases: [(&[u8], &[u8], &str); 4] = [
            (
                &[0x0b; 20],
                b"Hi There",
                "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
            ),
            (
                b"Jefe",
                b"what do ya want for nothing?",
                "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
            ),
            (
                &[0xaa; 131],
                b"Test Using Larger Than Block-Size Key - Hash Key First",
                "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
            ),
            (
                &[0xaa; 131],
                b"This is a test using a larger than block-size key and a larger than block-size data. The key needs to be hashed before being used by the HMAC algorithm.",
                "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2",
            ),
        ];
        for (key, data, want) in cases {
            assert_eq!(hex(&SubjectKey::new(key).mac(data)), want);
        }
    }

    #[test]
    fn pseudonyms_are_stable_keyed_and_short() {
        let a = SubjectKey::new(b"0123456789abcdef");
        let b = SubjectKey::new(b"0123456789abcdeg");
        let p = a.pseudonym("+447700900123");
        assert_eq!(p, a.pseudonym("+447700900123"));
        assert_ne!(p, a.pseudonym("+447711900123"));
        assert_ne!(p, b.pseudonym("+447700900123"));
        assert_eq!(p.len(), 3 + 32);
        assert!(p.starts_with("h1:"));
    }
}
