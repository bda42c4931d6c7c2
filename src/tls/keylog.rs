//! The secrets of a run: NSS key-log lines (`SSLKEYLOGFILE`), from files, a
//! live key log that grows, or pcapng Decryption Secrets Blocks.

use std::fmt;

use foldhash::HashMap;

counters! {
    /// Counters of key-log reading. The `keylog_*` counters are those of the
    /// `--keylog` files (and the lines appended to them during `live`), the
    /// `dsb_*` ones those of the capture's Decryption Secrets Blocks.
    pub struct KeyLogStats {
        /// Lines read from `--keylog` files (comments and blank lines excluded).
        pub keylog_lines: u64,
        /// Secrets added from `--keylog` files (a label and client random not known before).
        pub keylog_secrets: u64,
        /// Lines that are not `LABEL <hex client random> <hex secret>`.
        pub keylog_malformed: u64,
        /// Well-formed lines with a label TLS decryption does not use (`EXPORTER_SECRET`,
        /// OpenSSL's `RSA` premaster lines, labels of other protocols).
        pub keylog_unknown_labels: u64,
        /// Lines repeating a label and client random already known (the first value is kept).
        pub keylog_duplicates: u64,
        /// pcapng Decryption Secrets Blocks read.
        pub dsb_blocks: u64,
        /// Decryption Secrets Blocks of a secrets type other than TLS key log.
        pub dsb_unsupported: u64,
        /// Secrets added from Decryption Secrets Blocks.
        pub dsb_secrets: u64,
        /// Lines of Decryption Secrets Blocks not used: malformed, with a
        /// label decryption does not use, or repeating a known secret.
        pub dsb_lines_unused: u64,
    }
}

impl KeyLogStats {
    /// The counters of the `--keylog` files alone.
    pub fn of_files(&self) -> [u64; 5] {
        [
            self.keylog_lines,
            self.keylog_secrets,
            self.keylog_malformed,
            self.keylog_unknown_labels,
            self.keylog_duplicates,
        ]
    }

    /// Sets the counters of the `--keylog` files.
    pub fn set_files(&mut self, files: [u64; 5]) {
        [
            self.keylog_lines,
            self.keylog_secrets,
            self.keylog_malformed,
            self.keylog_unknown_labels,
            self.keylog_duplicates,
        ] = files;
    }
}

/// pcapng DSB secrets type of TLS key-log text ("TLSK").
pub const DSB_TLS_KEY_LOG: u32 = 0x544c_534b;

/// Longest line a key log may hold (a TLS 1.3 line is under 300 bytes).
pub const MAX_KEY_LOG_LINE: usize = 4096;

/// A secret of at most 48 bytes (SHA-384).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct Secret {
    len: u8,
    bytes: [u8; 48],
}

impl Secret {
    fn from_slice(s: &[u8]) -> Option<Self> {
        let mut bytes = [0u8; 48];
        bytes.get_mut(..s.len())?.copy_from_slice(s);
        Some(Secret {
            len: u8::try_from(s.len()).ok()?,
            bytes,
        })
    }

    pub(crate) fn as_bytes(&self) -> &[u8] {
        self.bytes.get(..usize::from(self.len)).unwrap_or(&[])
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret(<{} bytes redacted>)", self.len)
    }
}

/// Which secret a label names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Label {
    /// TLS 1.2 (and earlier) master secret.
    ClientRandom,
    ClientEarly,
    ClientHandshake,
    ServerHandshake,
    ClientApp0,
    ServerApp0,
}

const LABELS: [(&[u8], Option<Label>); 9] = [
    (b"CLIENT_RANDOM", Some(Label::ClientRandom)),
    (b"CLIENT_EARLY_TRAFFIC_SECRET", Some(Label::ClientEarly)),
    (
        b"CLIENT_HANDSHAKE_TRAFFIC_SECRET",
        Some(Label::ClientHandshake),
    ),
    (
        b"SERVER_HANDSHAKE_TRAFFIC_SECRET",
        Some(Label::ServerHandshake),
    ),
    (b"CLIENT_TRAFFIC_SECRET_0", Some(Label::ClientApp0)),
    (b"SERVER_TRAFFIC_SECRET_0", Some(Label::ServerApp0)),
    // Known and well-formed, but not needed to read the client's records.
    (b"EXPORTER_SECRET", None),
    (b"EARLY_EXPORTER_MASTER_SECRET", None),
    (b"EARLY_EXPORTER_SECRET", None),
];

/// The secrets logged for one client random.
#[derive(Clone, Default)]
pub(crate) struct Secrets {
    pub(crate) master: Option<Secret>,
    pub(crate) client_early: Option<Secret>,
    pub(crate) client_handshake: Option<Secret>,
    pub(crate) server_handshake: Option<Secret>,
    pub(crate) client_app0: Option<Secret>,
    pub(crate) server_app0: Option<Secret>,
}

impl Secrets {
    fn slot(&mut self, label: Label) -> &mut Option<Secret> {
        match label {
            Label::ClientRandom => &mut self.master,
            Label::ClientEarly => &mut self.client_early,
            Label::ClientHandshake => &mut self.client_handshake,
            Label::ServerHandshake => &mut self.server_handshake,
            Label::ClientApp0 => &mut self.client_app0,
            Label::ServerApp0 => &mut self.server_app0,
        }
    }
}

/// Every secret known to a run, by client random. Its `Debug` shows only
/// how many client randoms it knows: secrets never reach any output.
#[derive(Clone, Default)]
pub struct KeyLog {
    by_random: HashMap<[u8; 32], Secrets>,
    /// Every TLS 1.2 master secret, in the order added: the candidates for
    /// a connection resuming a session whose own line is missing.
    masters: Vec<Secret>,
    generation: u64,
    /// No secret can be added any more in this run (key-log files read
    /// before it, an input that cannot carry Decryption Secrets Blocks):
    /// ciphertext waiting for a missing key is not worth holding.
    complete: bool,
    /// Secrets shared with other key logs (those given before the run),
    /// looked up after this one's own.
    base: Option<std::sync::Arc<KeyLog>>,
}

impl fmt::Debug for KeyLog {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyLog")
            .field("client_randoms", &self.by_random.len())
            .field("generation", &self.generation)
            .finish_non_exhaustive()
    }
}

impl KeyLog {
    /// An empty key log.
    pub fn new() -> Self {
        Self::default()
    }

    /// A key log that adds its own secrets to the shared `base` (read
    /// only): each worker of a run takes the secrets found in the capture
    /// without copying those given before it.
    pub fn over(base: std::sync::Arc<KeyLog>) -> Self {
        KeyLog {
            base: Some(base),
            ..KeyLog::default()
        }
    }

    /// Says whether secrets can still be added during the run (see
    /// [`is_complete`](Self::is_complete)).
    pub fn set_complete(&mut self, complete: bool) {
        self.complete = complete;
    }

    /// True when no secret can be added any more: a connection whose key is
    /// missing now will never have it.
    pub fn is_complete(&self) -> bool {
        self.complete
    }

    /// True when no secret is known.
    pub fn is_empty(&self) -> bool {
        self.by_random.is_empty() && self.base.as_ref().is_none_or(|b| b.is_empty())
    }

    /// Changes whenever a secret is added: connections holding ciphertext
    /// for want of keys are worth a [`retry`](super::TlsConnection::retry).
    pub fn generation(&self) -> u64 {
        self.generation
            .wrapping_add(self.base.as_ref().map_or(0, |b| b.generation()))
    }

    /// The secrets for a client random.
    pub(crate) fn get(&self, client_random: &[u8; 32]) -> Option<&Secrets> {
        self.by_random
            .get(client_random)
            .or_else(|| self.base.as_ref()?.get(client_random))
    }

    /// TLS 1.2 master secrets, most recently added first (this log's own,
    /// then the shared base's): a resumed session is usually a recent one.
    pub(crate) fn masters_newest_first(&self) -> Box<dyn Iterator<Item = &Secret> + '_> {
        let base = self
            .base
            .as_deref()
            .into_iter()
            .flat_map(|b| b.masters_newest_first());
        Box::new(self.masters.iter().rev().chain(base))
    }

    /// Adds complete key-log lines (LF or CRLF; a last line without its
    /// newline counts as complete). Comments (`#`), blank lines, unknown
    /// labels and duplicates are tolerated; malformed lines are counted.
    pub fn add_text(&mut self, text: &[u8], stats: &mut KeyLogStats) {
        for line in text.split(|&b| b == b'\n') {
            self.add_line(line, stats);
        }
    }

    /// Adds a pcapng Decryption Secrets Block: TLS key-log text for secrets
    /// type [`DSB_TLS_KEY_LOG`], other types counted and skipped.
    pub fn add_dsb(&mut self, secrets_type: u32, data: &[u8], stats: &mut KeyLogStats) {
        stats.dsb_blocks += 1;
        if secrets_type == DSB_TLS_KEY_LOG {
            // The block is padded to 32 bits: trailing NULs are not a line.
            let end = data.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1);
            let mut lines = KeyLogStats::default();
            self.add_text(data.get(..end).unwrap_or(&[]), &mut lines);
            stats.dsb_secrets += lines.keylog_secrets;
            stats.dsb_lines_unused +=
                lines.keylog_malformed + lines.keylog_unknown_labels + lines.keylog_duplicates;
        } else {
            stats.dsb_unsupported += 1;
        }
    }

    fn add_line(&mut self, line: &[u8], stats: &mut KeyLogStats) {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let line = trim(line);
        if line.is_empty() || line.first() == Some(&b'#') {
            return;
        }
        stats.keylog_lines += 1;
        let mut fields = line
            .split(|b| b.is_ascii_whitespace())
            .filter(|f| !f.is_empty());
        let (Some(label), Some(random), Some(secret), None) =
            (fields.next(), fields.next(), fields.next(), fields.next())
        else {
            stats.keylog_malformed += 1;
            return;
        };
        // `RSA <first 8 bytes of the encrypted premaster> <premaster>`: OpenSSL
        // writes it beside the connection's CLIENT_RANDOM line, which is the
        // one used.
        if label == b"RSA" && random.len() == 16 && secret.len() == 96 {
            stats.keylog_unknown_labels += 1;
            return;
        }
        let mut cr = [0u8; 32];
        let mut sec = [0u8; 48];
        let secret_len = secret.len() / 2;
        let ok = random.len() == 64
            && hex_into(random, &mut cr)
            && secret.len() % 2 == 0
            && secret_len >= 16
            && sec
                .get_mut(..secret_len)
                .is_some_and(|out| hex_into(secret, out));
        let known = LABELS.iter().find(|(name, _)| *name == label);
        let Some((_, which)) = known else {
            // An unknown label is counted as such if the rest has the usual shape.
            if ok || random.len() == 64 {
                stats.keylog_unknown_labels += 1;
            } else {
                stats.keylog_malformed += 1;
            }
            return;
        };
        if !ok {
            stats.keylog_malformed += 1;
            return;
        }
        let Some(which) = which else {
            stats.keylog_unknown_labels += 1;
            return;
        };
        if *which == Label::ClientRandom && secret_len != 48 {
            stats.keylog_malformed += 1;
            return;
        }
        let Some(secret) = sec.get(..secret_len).and_then(Secret::from_slice) else {
            stats.keylog_malformed += 1;
            return;
        };
        let slot = self.by_random.entry(cr).or_default().slot(*which);
        if slot.is_some() {
            stats.keylog_duplicates += 1;
        } else {
            *slot = Some(secret);
            if *which == Label::ClientRandom {
                self.masters.push(secret);
            }
            stats.keylog_secrets += 1;
            self.generation = self.generation.wrapping_add(1);
        }
    }
}

fn trim(mut s: &[u8]) -> &[u8] {
    while let [first, rest @ ..] = s {
        if first.is_ascii_whitespace() {
            s = rest;
        } else {
            break;
        }
    }
    while let [rest @ .., last] = s {
        if last.is_ascii_whitespace() {
            s = rest;
        } else {
            break;
        }
    }
    s
}

fn hex_into(hex: &[u8], out: &mut [u8]) -> bool {
    if hex.len() != out.len() * 2 {
        return false;
    }
    for (pair, o) in hex.chunks_exact(2).zip(out.iter_mut()) {
        let (Some(hi), Some(lo)) = (
            pair.first().and_then(|&c| nibble(c)),
            pair.get(1).and_then(|&c| nibble(c)),
        ) else {
            return false;
        };
        *o = (hi << 4) | lo;
    }
    true
}

fn nibble(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}
