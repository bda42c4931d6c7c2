//! Decryption secrets that arrive with the packets: pcapng Decryption
//! Secrets Blocks, handed to the run in file order, and lines appended to a
//! key log while a live capture runs ([`KeyLogFollower`]).
//!
//! A reader puts each block's secrets in its [`SecretsInbox`] when it reads
//! the block; the run takes them before it analyses the next packet, so a
//! secret applies from its place in the file on. The bytes are never shown:
//! `Debug` gives only their kind and length.
use std::fmt;
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use crate::tls::{KeyLog, KeyLogStats};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

/// Secrets of one kind (pcapng `secrets_type`, e.g. `0x544c534b` for TLS key-log text).
#[derive(Clone, PartialEq, Eq)]
pub struct Secrets {
    /// The pcapng secrets type.
    pub kind: u32,
    /// The secrets (for TLS: key-log lines).
    pub data: Vec<u8>,
    /// Where they come from.
    pub origin: SecretsOrigin,
}

/// Where secrets come from (they are counted under different counters).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretsOrigin {
    /// A pcapng Decryption Secrets Block.
    Capture,
    /// Whole lines appended to a `--keylog` file during a live capture.
    KeyLogFile,
}

impl Secrets {
    /// Adds the secrets to `keys`, counting them in `stats`.
    pub fn add_to(&self, keys: &mut KeyLog, stats: &mut KeyLogStats) {
        match self.origin {
            SecretsOrigin::Capture => keys.add_dsb(self.kind, &self.data, stats),
            SecretsOrigin::KeyLogFile => keys.add_text(&self.data, stats),
        }
    }
}

/// Most bytes a [`KeyLogFollower`] reads at one poll (the rest waits for
/// the next).
const FOLLOW_READ: u64 = 1 << 20;

/// A key log that a browser or tool appends to while a live capture runs:
/// each poll gives the whole lines added since the last one.
#[derive(Debug)]
pub struct KeyLogFollower {
    path: PathBuf,
    file: File,
    /// Bytes of the file taken so far (up to the end of a whole line).
    taken: u64,
    /// The start of a line not yet ended.
    partial: Vec<u8>,
}

impl KeyLogFollower {
    /// Opens `path` and reads its whole lines now: returns them (for the
    /// secrets known before the capture) and the follower, which starts
    /// after them.
    pub fn open(path: &Path) -> io::Result<(Vec<u8>, KeyLogFollower)> {
        let mut file = File::open(path)?;
        let mut text = Vec::new();
        file.read_to_end(&mut text)?;
        let whole = text.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        let partial = text.split_off(whole);
        let follower = KeyLogFollower {
            path: path.to_path_buf(),
            file,
            taken: u64::try_from(whole.saturating_add(partial.len())).unwrap_or(u64::MAX),
            partial,
        };
        Ok((text, follower))
    }

    /// The file followed.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The whole lines appended since the last poll, if any. A file that
    /// became shorter was started anew (a new browser session): it is read
    /// from its start.
    pub fn poll(&mut self) -> io::Result<Option<Secrets>> {
        let len = self.file.metadata()?.len();
        if len < self.taken {
            self.taken = 0;
            self.partial.clear();
        }
        if len == self.taken {
            return Ok(None);
        }
        self.file.seek(SeekFrom::Start(self.taken))?;
        let mut data = std::mem::take(&mut self.partial);
        let read = (&mut self.file)
            .take(FOLLOW_READ.min(len - self.taken))
            .read_to_end(&mut data)?;
        self.taken = self
            .taken
            .saturating_add(u64::try_from(read).unwrap_or(u64::MAX));
        let whole = data.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        self.partial = data.split_off(whole);
        // A line that never ends is not kept whole: it is dropped (counted
        // as malformed when its end comes).
        if self.partial.len() > crate::tls::MAX_KEY_LOG_LINE {
            self.partial.clear();
        }
        Ok((!data.is_empty()).then_some(Secrets {
            kind: crate::tls::DSB_TLS_KEY_LOG,
            data,
            origin: SecretsOrigin::KeyLogFile,
        }))
    }
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
            origin: SecretsOrigin::Capture,
        });
        reader_side.put(Secrets {
            kind: 1,
            data: b"x".to_vec(),
            origin: SecretsOrigin::Capture,
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

    #[test]
    fn a_followed_key_log_gives_whole_lines_as_they_are_appended() {
        use std::io::Write;
        let dir = std::env::temp_dir().join(format!("phoneleak-follow-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("keys.log");
        std::fs::write(&path, b"# comment\nCLIENT_RANDOM a b\nCLIENT_RAN").unwrap();
        let (known, mut f) = KeyLogFollower::open(&path).unwrap();
        assert_eq!(known, b"# comment\nCLIENT_RANDOM a b\n");
        assert_eq!(f.poll().unwrap(), None);
        let mut w = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap();
        w.write_all(b"DOM c d\nSERVER_").unwrap();
        let s = f.poll().unwrap().unwrap();
        assert_eq!(s.data, b"CLIENT_RANDOM c d\n");
        assert_eq!(s.origin, SecretsOrigin::KeyLogFile);
        assert_eq!(f.poll().unwrap(), None);
        w.write_all(b"X y z\r\n").unwrap();
        assert_eq!(f.poll().unwrap().unwrap().data, b"SERVER_X y z\r\n");
        // Started anew (shorter): read from the start.
        std::fs::write(&path, b"NEW 1 2\n").unwrap();
        assert_eq!(f.poll().unwrap().unwrap().data, b"NEW 1 2\n");
        let mut keys = KeyLog::new();
        let mut stats = KeyLogStats::default();
        s.add_to(&mut keys, &mut stats);
        assert_eq!((stats.keylog_lines, stats.dsb_blocks), (1, 0));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
