//! Decryption secrets carried by a capture (pcapng Decryption Secrets
//! Blocks), handed to the run in file order.
//!
//! A reader puts each block's secrets in its [`SecretsInbox`] when it reads
//! the block; the run takes them before it analyses the next packet, so a
//! secret applies from its place in the file on. The bytes are never shown:
//! `Debug` gives only their kind and length.
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

/// Secrets of one kind (pcapng `secrets_type`, e.g. `0x544c534b` for TLS key-log text).
#[derive(Clone, PartialEq, Eq)]
pub struct Secrets {
    /// The pcapng secrets type.
    pub kind: u32,
    /// The secrets (for TLS: key-log lines).
    pub data: Vec<u8>,
}

impl fmt::Debug for Secrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Secrets {{ kind: {:#010x}, {} bytes }}",
            self.kind,
            self.data.len()
        )
    }
}

/// Most secret bytes one input may carry (a browser's key log for a day is a
/// few MiB); further blocks are skipped and counted.
pub const MAX_SECRETS_BYTES: usize = 64 << 20;

/// Where a reader leaves the secrets it found, shared with the run.
#[derive(Clone, Default)]
pub struct SecretsInbox {
    inner: Arc<Inbox>,
}

#[derive(Default)]
struct Inbox {
    waiting: AtomicBool,
    secrets: Mutex<Vec<Secrets>>,
}

impl fmt::Debug for SecretsInbox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretsInbox")
    }
}

impl SecretsInbox {
    /// Leaves secrets for the run.
    pub fn put(&self, secrets: Secrets) {
        if let Ok(mut list) = self.inner.secrets.lock() {
            list.push(secrets);
            self.inner.waiting.store(true, Ordering::Release);
        }
    }

    /// Takes what was left since the last call (cheap when nothing was).
    pub fn take(&self) -> Vec<Secrets> {
        if !self.inner.waiting.load(Ordering::Acquire) {
            return Vec::new();
        }
        match self.inner.secrets.lock() {
            Ok(mut list) => {
                self.inner.waiting.store(false, Ordering::Release);
                std::mem::take(&mut *list)
            }
            Err(_) => Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_pass_in_order_and_never_show() {
        let inbox = SecretsInbox::default();
        assert!(inbox.take().is_empty());
        let reader_side = inbox.clone();
        reader_side.put(Secrets {
            kind: 0x544c_534b,
            data: b"CLIENT_RANDOM aa bb\n".to_vec(),
        });
        reader_side.put(Secrets {
            kind: 1,
            data: b"x".to_vec(),
        });
        let got = inbox.take();
        assert_eq!(
            got.iter().map(|s| s.kind).collect::<Vec<_>>(),
            [0x544c_534b, 1]
        );
        assert!(inbox.take().is_empty());
        let shown = format!("{:?}", got[0]);
        assert!(
            !shown.contains("CLIENT_RANDOM") && shown.contains("20 bytes"),
            "{shown}"
        );
    }
}
