//! TLS 1.2 and 1.3 decryption of a connection's client stream with the
//! secrets of a key log (NSS `SSLKEYLOGFILE` format, or pcapng Decryption
//! Secrets Blocks).
//!
//! The parts:
//! - [`KeyLog`] holds every secret of a run by client random;
//!   [`KeyLog::add_text`] reads key-log lines (also those appended to a key
//!   log during a live capture: `capture::KeyLogFollower`),
//!   [`KeyLog::add_dsb`] a pcapng block.
//!   Secrets never appear in `Debug` output or messages.
//! - [`sniff`] tells whether a client stream starts with a ClientHello record;
//!   [`sniff_midstream`] whether a stream picked up mid-connection (or
//!   resuming after a gap) starts with a TLS record of any kind: a
//!   connection whose handshake is not in the capture.
//! - [`TlsConnection`] is one TCP connection's TLS state. It is fed each
//!   direction's bytes in order ([`TlsConnection::client`],
//!   [`TlsConnection::server`], holes with `client_gap`/`server_gap`), the
//!   two directions interleaved in capture order. It reads the plaintext
//!   ClientHello (client random, SNI, ALPN, offered versions, early data)
//!   and ServerHello (server random, negotiated version and suite,
//!   HelloRetryRequest, Encrypt-then-MAC), and decrypts **only the client
//!   direction**: requests travel client → server. The server's bytes are
//!   read only up to its ServerHello ([`TlsConnection::wants_server`] turns
//!   false then).
//! - Decrypted client application data comes out as [`Plain`] chunks, in
//!   order. A `Plain::Data` carries the capture time of the chunk that
//!   completed its record (the record's **last byte**). Once any plaintext
//!   was given, a record that fails authentication, or that cannot be
//!   decrypted any more (a hole in the stream, a cut), becomes a
//!   `Plain::Gap` of its ciphertext length: it is never parsed as plaintext.
//!
//! Client records that arrive before the ServerHello, or before their keys,
//! are held in order (at most [`TlsLimits::max_held_per_flow`] bytes, a cut
//! counted under `held_cuts` and the connection's outcome `held_too_long`)
//! and decrypted by whichever call makes that possible: a later
//! [`server`](TlsConnection::server) call, or [`retry`](TlsConnection::retry)
//! after the key log grew ([`KeyLog::generation`] changed).
//! [`end`](TlsConnection::end) counts each connection once: `decrypted` or
//! one `not_decrypted_*` reason (or `auth_failures`, `held_too_long`).
//!
//! TLS 1.3: traffic keys from the logged traffic secrets
//! (HKDF-Expand-Label "key"/"iv"), a sequence number per epoch: early data
//! (`CLIENT_EARLY_TRAFFIC_SECRET`; its plaintext is held until the client's
//! EndOfEarlyData shows 0-RTT was accepted, and dropped, counted, when the
//! handshake key takes over without it), handshake (up to the client's
//! Finished), application (`CLIENT_TRAFFIC_SECRET_0`, then "traffic upd" at
//! each KeyUpdate). With only the `_0` secret, records are tried with it
//! and the handshake records that fail it are skipped (at most 32).
//! Suites 0x1301 to 0x1305 (AES-GCM, ChaCha20-Poly1305, AES-CCM and CCM_8).
//!
//! TLS 1.2: the client write keys from the master secret (`CLIENT_RANDOM`)
//! and both randoms by the PRF (SHA-256, SHA-384 for `_SHA384` suites);
//! records after the client's ChangeCipherSpec. AES-GCM, ChaCha20-Poly1305
//! (RFC 7905), AES-CCM and CCM_8 (RFC 6655, 7251), AES-CBC with HMAC-SHA1/256/384, MAC-then-encrypt or
//! Encrypt-then-MAC when both hellos carry the extension. A resumed session
//! (by session ID or ticket) is decrypted like a full one when the key log
//! has its `CLIENT_RANDOM` line (browsers log one per connection); else the
//! logged master secrets are tried on the client's Finished, most recent
//! first (at most 4096), so the session's first connection need not be seen
//! by the same thread or shard. TLS 1.0, 1.1 and SSL 3 are `unsupported`.
//!
//! All cryptography is behind `crypto.rs` (ring for AEADs and HMAC,
//! RustCrypto `aes` + `cbc` for CBC).

mod conn;
mod crypto;
mod keylog;
mod names;
mod record;
mod server;
mod wire;

#[cfg(test)]
mod captures_test;
#[cfg(test)]
mod crosscheck_test;
#[cfg(test)]
mod tests;

pub use conn::TlsConnection;
pub use keylog::{DSB_TLS_KEY_LOG, KeyLog, KeyLogStats, MAX_KEY_LOG_LINE};
pub use names::{suite_name, version_name};

use crate::time::Timestamp;

/// Decrypted client bytes, in stream order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Plain {
    /// Plaintext of one record; `ts` is the capture time of the record's last byte.
    Data {
        /// When the record's last byte was captured.
        ts: Timestamp,
        /// The record's content (application data only).
        bytes: Vec<u8>,
    },
    /// Bytes that could not be decrypted after decryption started
    /// (ciphertext length: about the plaintext's).
    Gap {
        /// Length of the hole.
        len: u64,
    },
}

/// Limits of one connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TlsLimits {
    /// Ciphertext held while the ServerHello or keys are missing, in bytes
    /// (then cut, counted).
    pub max_held_per_flow: usize,
    /// Largest plaintext handshake message read (ClientHello, ServerHello).
    pub max_handshake: usize,
}

impl Default for TlsLimits {
    fn default() -> Self {
        TlsLimits {
            max_held_per_flow: 256 * 1024,
            max_handshake: 64 * 1024,
        }
    }
}

/// What a connection's handshake showed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsInfo {
    /// Negotiated version (0x0303 TLS 1.2, 0x0304 TLS 1.3); 0 before the ServerHello.
    pub version: u16,
    /// Negotiated cipher suite; 0 before the ServerHello.
    pub cipher_suite: u16,
    /// Server name from the ClientHello.
    pub sni: Option<String>,
    /// Protocol the server chose, when visible (TLS 1.2's ServerHello;
    /// TLS 1.3 sends it encrypted).
    pub alpn: Option<String>,
    /// Protocols the client offered, in its order.
    pub alpn_offered: Vec<String>,
}

counters! {
    /// Counters of TLS decryption.
    pub struct TlsStats {
        /// TLS connections ended (each counted once, under one outcome below).
        pub connections: u64,
        /// Connections with at least one client record decrypted.
        pub decrypted: u64,
        /// Not decrypted: no key for the client random.
        pub not_decrypted_no_key: u64,
        /// Not decrypted: the ClientHello was not captured (picked up mid-stream).
        pub not_decrypted_midstream: u64,
        /// Not decrypted: version or cipher suite not supported.
        pub not_decrypted_unsupported: u64,
        /// Not decrypted: no ServerHello, a damaged handshake or framing, a hole before decryption, or no encrypted client record.
        pub not_decrypted_other: u64,
        /// Not decrypted: every record tried failed authentication (wrong keys).
        pub auth_failures: u64,
        /// Not decrypted: held ciphertext was cut by a cap.
        pub held_too_long: u64,
        /// Cuts of held ciphertext (per-flow or global cap).
        pub held_cuts: u64,
        /// TLS 1.2 connections resuming a session without a logged master
        /// secret of their own, decrypted with the logged master secret of
        /// the connection that began the session (found by trial).
        pub resumptions_found: u64,
        /// Master secrets tried on such connections' Finished records.
        pub resumption_trials: u64,
        /// Trials stopped after the most recent 4096 master secrets.
        pub resumption_trials_cut: u64,
        /// Client records decrypted (application, handshake and early data).
        pub records_decrypted: u64,
        /// Records that failed authentication.
        pub records_auth_failed: u64,
        /// TLS 1.3 handshake records skipped when only the `_0` secret is known.
        pub records_skipped: u64,
        /// Client application bytes decrypted.
        pub bytes_decrypted: u64,
        /// TLS 1.3 client KeyUpdates followed.
        pub key_updates: u64,
        /// TLS 1.3 early-data records decrypted.
        pub early_data_records: u64,
        /// Connections whose early data was rejected (its plaintext dropped).
        pub early_data_rejected: u64,
        /// HelloRetryRequests seen.
        pub hello_retry_requests: u64,
        /// ClientHellos or ServerHellos that could not be parsed.
        pub malformed_hellos: u64,
        /// Bytes that are not TLS records where records were expected.
        pub framing_errors: u64,
        /// Holes in client streams of TLS connections.
        pub client_gaps: u64,
        /// Holes in server streams while they were read (before the
        /// ServerHello, or while the server's records were decrypted).
        pub server_gaps: u64,
        /// Server records decrypted (read while the stack inside needs the
        /// server's side: an HTTP/2 server's SETTINGS and pushes).
        pub server_records_decrypted: u64,
        /// Server application bytes decrypted.
        pub server_bytes_decrypted: u64,
        /// TLS 1.3 server KeyUpdates followed.
        pub server_key_updates: u64,
        /// Server decryptions stopped: no key for a record when it arrived
        /// (server records are never held).
        pub server_stopped_no_key: u64,
        /// Server decryptions stopped: a record failed authentication.
        pub server_stopped_auth_failed: u64,
    }
}

/// What the first bytes of a client stream are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sniff {
    /// A handshake record starting a ClientHello.
    Tls,
    /// Not TLS.
    NotTls,
    /// Too few bytes to tell.
    NeedMore,
}

/// Whether a stream starts with a TLS record carrying a ClientHello: type
/// 22, version 0x0300..=0x0304, length 1..=2^14+2048, handshake type 1.
pub fn sniff(stream_start: &[u8]) -> Sniff {
    let b = |i: usize| stream_start.get(i).copied();
    let fixed: [fn(u8) -> bool; 3] = [|x| x == wire::HANDSHAKE, |x| x == 3, |x| x <= 4];
    for (i, ok) in fixed.iter().enumerate() {
        match b(i) {
            None => return Sniff::NeedMore,
            Some(x) if !ok(x) => return Sniff::NotTls,
            _ => {}
        }
    }
    let (Some(l0), Some(l1)) = (b(3), b(4)) else {
        return Sniff::NeedMore;
    };
    let len = usize::from(u16::from_be_bytes([l0, l1]));
    if len == 0 || len > wire::MAX_RECORD {
        return Sniff::NotTls;
    }
    match b(5) {
        None => Sniff::NeedMore,
        Some(wire::HS_CLIENT_HELLO) => Sniff::Tls,
        Some(_) => Sniff::NotTls,
    }
}

/// Whether `start`, the first bytes of a stream whose beginning is missing,
/// is plausibly a TLS record: content type 20 to 23, version 0x0301 to
/// 0x0304, length 1 to 2^14 + 2048; and where the bytes go on past that
/// record, the next bytes start another (their type and version checked as
/// far as they go). `NeedMore` with fewer than a record header's 5 bytes
/// (those there plausible).
pub fn sniff_midstream(start: &[u8]) -> Sniff {
    /// Checks the record header at `at`, as far as the bytes go; its end when whole.
    fn header(b: &[u8], at: usize) -> Result<Option<usize>, ()> {
        let get = |i: usize| b.get(at.saturating_add(i)).copied();
        let checks: [fn(u8) -> bool; 3] = [
            |x| (wire::CHANGE_CIPHER_SPEC..=wire::APPLICATION_DATA).contains(&x),
            |x| x == 3,
            |x| (1..=4).contains(&x),
        ];
        for (i, ok) in checks.iter().enumerate() {
            match get(i) {
                None => return Ok(None),
                Some(x) if !ok(x) => return Err(()),
                Some(_) => {}
            }
        }
        let (Some(l0), Some(l1)) = (get(3), get(4)) else {
            return Ok(None);
        };
        let len = usize::from(u16::from_be_bytes([l0, l1]));
        if len == 0 || len > wire::MAX_RECORD {
            return Err(());
        }
        Ok(Some(at.saturating_add(5).saturating_add(len)))
    }
    match header(start, 0) {
        Err(()) => Sniff::NotTls,
        Ok(None) => Sniff::NeedMore,
        Ok(Some(end)) if end >= start.len() => Sniff::Tls,
        Ok(Some(end)) => match header(start, end) {
            Err(()) => Sniff::NotTls,
            Ok(_) => Sniff::Tls,
        },
    }
}
