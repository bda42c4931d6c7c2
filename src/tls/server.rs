//! The server's records after its ServerHello, decrypted while the stack
//! inside the connection needs them: an HTTP/2 server's SETTINGS and
//! PUSH_PROMISE frames (requests the server promised). Nothing is held: a
//! record that cannot be opened when it arrives (its key not known then,
//! or wrong) stops the server's decryption for good, and the stack inside
//! is told of the hole.

use super::crypto::{AeadKind, Hash};
use super::keylog::Secrets;
use super::record::{self, Keys12, Keys13};
use super::wire::{self, HandshakeBuf, RecordHeader};
use super::{Plain, TlsStats};
use crate::time::Timestamp;

/// TLS 1.3 server handshake records tried on the `_0` key and skipped when
/// the handshake secret is not logged (EncryptedExtensions, Certificate,
/// CertificateVerify, Finished, each possibly in records of their own).
const MAX_SKIPPED: u32 = 32;

/// Why the server's decryption stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Stop {
    /// No key for a record when it arrived.
    NoKey,
    /// A record failed authentication (wrong keys), or too many were skipped.
    AuthFailed,
}

/// The server's TLS 1.3 traffic keys.
struct Server13 {
    kind: AeadKind,
    hash: Hash,
    handshake: Option<Keys13>,
    app_secret: Vec<u8>,
    app: Option<Keys13>,
    /// Past the server's Finished (or the first record the `_0` key opened).
    in_app: bool,
    msgs: HandshakeBuf,
    skipped: u32,
}

enum Keys {
    V13(Box<Server13>),
    /// TLS 1.2: the keys, made at the server's ChangeCipherSpec.
    V12(Option<Box<Keys12>>),
}

/// One connection's server-to-client decryption after the ServerHello.
pub(super) struct ServerDecrypt {
    keys: Keys,
}

impl ServerDecrypt {
    /// For a TLS 1.3 connection with this suite's AEAD and hash.
    pub(super) fn tls13(kind: AeadKind, hash: Hash) -> Self {
        ServerDecrypt {
            keys: Keys::V13(Box::new(Server13 {
                kind,
                hash,
                handshake: None,
                app_secret: Vec::new(),
                app: None,
                in_app: false,
                msgs: HandshakeBuf::default(),
                skipped: 0,
            })),
        }
    }

    /// For a TLS 1.2 connection.
    pub(super) fn tls12() -> Self {
        ServerDecrypt {
            keys: Keys::V12(None),
        }
    }

    /// One whole server record after the ServerHello. `secrets` are the
    /// connection's logged secrets when known; `make12` the TLS 1.2 server
    /// write keys from them. Plaintext application data goes to `out`.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn record(
        &mut self,
        ts: Timestamp,
        header: RecordHeader,
        mut payload: Vec<u8>,
        secrets: Option<&Secrets>,
        make12: &dyn Fn(&Secrets) -> Option<Keys12>,
        stats: &mut TlsStats,
        out: &mut Vec<Plain>,
    ) -> Result<(), Stop> {
        match &mut self.keys {
            Keys::V12(keys) => {
                let Some(k) = keys else {
                    // Plaintext handshake and alerts before the
                    // ChangeCipherSpec are skipped; at it the keys are made.
                    if header.ctype == wire::CHANGE_CIPHER_SPEC {
                        let k = secrets.and_then(make12).ok_or(Stop::NoKey)?;
                        *keys = Some(Box::new(k));
                    }
                    return Ok(());
                };
                let range = k
                    .open(header.ctype, header.version, &mut payload)
                    .ok_or(Stop::AuthFailed)?;
                stats.server_records_decrypted += 1;
                if header.ctype == wire::APPLICATION_DATA && !range.is_empty() {
                    payload.truncate(range.end);
                    payload.drain(..range.start);
                    emit(ts, payload, stats, out);
                }
                Ok(())
            }
            Keys::V13(d) => {
                // Dummy ChangeCipherSpec and plaintext alerts are skipped.
                if header.ctype != wire::APPLICATION_DATA {
                    return Ok(());
                }
                let s = secrets.ok_or(Stop::NoKey)?;
                d.load(s);
                let hb = header.bytes();
                if !d.in_app {
                    if let Some(k) = &mut d.handshake {
                        let mut copy = payload.clone();
                        if let Some((t, n)) = k.open(&hb, &mut copy) {
                            k.seq += 1;
                            stats.server_records_decrypted += 1;
                            if t == wire::HANDSHAKE {
                                d.msgs.push(copy.get(..n).unwrap_or_default());
                                d.messages(stats);
                            }
                            return Ok(());
                        }
                    }
                    // The handshake key failed or is not logged: the first
                    // application record, by trial with the `_0` key?
                    let app = d.app.as_mut().ok_or(Stop::NoKey)?;
                    let mut copy = payload.clone();
                    if let Some((t, n)) = app.open(&hb, &mut copy) {
                        app.seq += 1;
                        d.in_app = true;
                        d.msgs = HandshakeBuf::default();
                        copy.truncate(n);
                        d.content(t, ts, copy, stats, out);
                        return Ok(());
                    }
                    if d.handshake.is_some() {
                        return Err(Stop::AuthFailed);
                    }
                    d.skipped += 1;
                    if d.skipped > MAX_SKIPPED {
                        return Err(Stop::AuthFailed);
                    }
                    return Ok(());
                }
                let app = d.app.as_mut().ok_or(Stop::NoKey)?;
                let (t, n) = app.open(&hb, &mut payload).ok_or(Stop::AuthFailed)?;
                app.seq += 1;
                payload.truncate(n);
                d.content(t, ts, payload, stats, out);
                Ok(())
            }
        }
    }
}

impl Server13 {
    /// Takes the logged server secrets (once each).
    fn load(&mut self, s: &Secrets) {
        if self.handshake.is_none()
            && let Some(h) = &s.server_handshake
        {
            self.handshake = Keys13::from_secret(self.kind, self.hash, h.as_bytes());
        }
        if self.app_secret.is_empty()
            && let Some(a) = &s.server_app0
        {
            self.app_secret = a.as_bytes().to_vec();
            self.app = Keys13::from_secret(self.kind, self.hash, &self.app_secret);
        }
    }

    /// An application-epoch record's content: data out, post-handshake
    /// messages read (a KeyUpdate moves the key; tickets are skipped).
    fn content(
        &mut self,
        t: u8,
        ts: Timestamp,
        plain: Vec<u8>,
        stats: &mut TlsStats,
        out: &mut Vec<Plain>,
    ) {
        stats.server_records_decrypted += 1;
        match t {
            wire::APPLICATION_DATA if !plain.is_empty() => emit(ts, plain, stats, out),
            wire::HANDSHAKE => {
                self.msgs.push(&plain);
                self.messages(stats);
            }
            _ => {}
        }
    }

    /// Handshake messages: the server's Finished ends its handshake epoch,
    /// a KeyUpdate moves its application key.
    fn messages(&mut self, stats: &mut TlsStats) {
        loop {
            let t = match self.msgs.next(1 << 20) {
                Ok(Some((t, _))) => t,
                Ok(None) => break,
                Err(()) => {
                    self.msgs = HandshakeBuf::default();
                    break;
                }
            };
            match t {
                wire::HS_FINISHED if !self.in_app => self.in_app = true,
                wire::HS_KEY_UPDATE if self.in_app && !self.app_secret.is_empty() => {
                    self.app_secret = record::next_secret(self.hash, &self.app_secret);
                    self.app = Keys13::from_secret(self.kind, self.hash, &self.app_secret);
                    stats.server_key_updates += 1;
                }
                _ => {}
            }
        }
    }
}

fn emit(ts: Timestamp, bytes: Vec<u8>, stats: &mut TlsStats, out: &mut Vec<Plain>) {
    stats.server_bytes_decrypted += bytes.len() as u64;
    out.push(Plain::Data { ts, bytes });
}
