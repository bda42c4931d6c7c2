//! One TCP connection's TLS state: record framing both ways, the plaintext
//! handshake fields, the client's record decryption with its epochs, and
//! the ciphertext held while the ServerHello or the keys are missing.

use std::collections::VecDeque;

use super::crypto::{AeadKind, Hash};
use super::keylog::{KeyLog, Secrets};
use super::record::{self, Bulk12, Keys12, Keys13, Writer};
use super::server::{ServerDecrypt, Stop};
use super::wire::{self, ClientHello, HandshakeBuf, RecordHeader, ServerHello};
use super::{Plain, TlsInfo, TlsLimits, TlsStats};
use crate::time::Timestamp;

/// Records in the handshake epoch that fail every key before the
/// connection counts as an authentication failure (a key log with only the
/// `_0` secrets skips the client's handshake records this way).
const MAX_SKIPPED: u32 = 32;

/// Reassembles records from one direction's chunks; the payload is copied
/// once, into the Vec that becomes the plaintext.
#[derive(Debug, Default)]
struct Framer {
    hdr: [u8; 5],
    have: usize,
    body: Vec<u8>,
}

impl Framer {
    /// The next whole record from `input` (consumed), None when more bytes
    /// are needed, Some(Err) when the bytes are not a TLS record.
    fn next(&mut self, input: &mut &[u8]) -> Option<Result<(RecordHeader, Vec<u8>), ()>> {
        while self.have < 5 {
            let (&b, rest) = input.split_first()?;
            *input = rest;
            if let Some(slot) = self.hdr.get_mut(self.have) {
                *slot = b;
            }
            self.have += 1;
        }
        let h = match RecordHeader::parse(&self.hdr)? {
            Ok(h) => h,
            Err(()) => return Some(Err(())),
        };
        if self.body.capacity() == 0 {
            self.body.reserve_exact(h.len);
        }
        let need = h.len.saturating_sub(self.body.len());
        let (now, rest) = input.split_at(need.min(input.len()));
        self.body.extend_from_slice(now);
        *input = rest;
        if self.body.len() < h.len {
            return None;
        }
        self.have = 0;
        Some(Ok((h, std::mem::take(&mut self.body))))
    }

    fn held(&self) -> usize {
        self.have + self.body.len()
    }
}

/// A client record (or hole) waiting in order for decryption.
enum Held {
    Record {
        ts: Timestamp,
        header: RecordHeader,
        payload: Vec<u8>,
    },
    Gap {
        len: u64,
    },
}

impl Held {
    fn size(&self) -> usize {
        match self {
            Held::Record { payload, .. } => payload.len(),
            Held::Gap { .. } => 0,
        }
    }
}

/// Why a connection stopped for good.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Failure {
    /// The client stream did not start with a ClientHello.
    Midstream,
    /// Version or cipher suite not decrypted.
    Unsupported,
    /// Held ciphertext was cut (per-flow or global cap).
    HeldTooLong,
    /// A key is missing and none can come any more ([`KeyLog::is_complete`]).
    NoKey,
    /// Damaged handshake or framing, or a hole in the client stream.
    Other,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Epoch {
    Early,
    Handshake,
    App,
}

/// The client's TLS 1.3 decryption state.
struct Dec13 {
    kind: AeadKind,
    hash: Hash,
    epoch: Epoch,
    early: Option<Keys13>,
    handshake: Option<Keys13>,
    app_secret: Vec<u8>,
    app: Option<Keys13>,
    /// The app epoch began without a handshake key: `app` was found by trial.
    msgs: HandshakeBuf,
    /// Early-data plaintext, released at EndOfEarlyData (0-RTT accepted),
    /// dropped when the handshake key takes over without it (rejected).
    early_plain: Vec<Plain>,
    early_bytes: usize,
    skipped: u32,
    /// The ClientHello offered early data (records may fail the handshake key).
    offered_early: bool,
}

enum Dec {
    None,
    V13(Box<Dec13>),
    V12 {
        bulk: Bulk12,
        prf: Hash,
        ccs: bool,
        keys: Option<Box<Keys12>>,
        resume: Resume,
    },
}

/// A TLS 1.2 connection resuming a session (the ServerHello echoes the
/// client's session ID) without a logged master secret of its own: its
/// master is sought among the key log's others.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Resume {
    /// Not resuming, or its own master secret is logged.
    No,
    /// Resuming; not tried yet.
    Untried,
    /// Tried with the key log at this generation.
    TriedAt(u64),
}

/// Master secrets tried on one resumed connection (most recent first),
/// at most; a key log from the capture is attacker-sized.
pub(crate) const MAX_RESUME_CANDIDATES: usize = 4096;

/// Largest record tried as a resumed connection's Finished (12 bytes of
/// verify data, its header, and the protection's overhead).
const MAX_FINISHED_RECORD: usize = 256;

/// One TCP connection's TLS state, both directions. See the module docs of
/// [`crate::tls`] for the contract.
pub struct TlsConnection {
    limits: TlsLimits,
    client: Framer,
    server: Framer,
    client_hs: HandshakeBuf,
    server_hs: HandshakeBuf,
    hello: Option<ClientHello>,
    server_hello: Option<ServerHello>,
    hrr: bool,
    server_done: bool,
    /// Whether the stack inside wants the server's plaintext.
    server_wanted: bool,
    /// The server's decryption after its ServerHello, while wanted.
    server_dec: Option<ServerDecrypt>,
    server_output_started: bool,
    queue: VecDeque<Held>,
    held: usize,
    dec: Dec,
    failure: Option<Failure>,
    records_ok: u64,
    auth_failed: bool,
    output_started: bool,
    saw_client: bool,
    saw_encrypted: bool,
    ended: bool,
}

impl std::fmt::Debug for TlsConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsConnection")
            .field("info", &self.info())
            .field("held", &self.held_bytes())
            .field("failure", &self.failure)
            .field("records_ok", &self.records_ok)
            .finish_non_exhaustive()
    }
}

impl TlsConnection {
    /// A connection with nothing seen yet.
    pub fn new(limits: &TlsLimits) -> Self {
        TlsConnection {
            limits: *limits,
            client: Framer::default(),
            server: Framer::default(),
            client_hs: HandshakeBuf::default(),
            server_hs: HandshakeBuf::default(),
            hello: None,
            server_hello: None,
            hrr: false,
            server_done: false,
            server_wanted: false,
            server_dec: None,
            server_output_started: false,
            queue: VecDeque::new(),
            held: 0,
            dec: Dec::None,
            failure: None,
            records_ok: 0,
            auth_failed: false,
            output_started: false,
            saw_client: false,
            saw_encrypted: false,
            ended: false,
        }
    }

    /// Client-to-server bytes, in order. Decrypted plaintext (of this or
    /// earlier held records) is appended to `out`.
    pub fn client(
        &mut self,
        ts: Timestamp,
        bytes: &[u8],
        keys: &KeyLog,
        stats: &mut TlsStats,
        out: &mut Vec<Plain>,
    ) {
        if self.failure.is_some() || self.ended {
            return;
        }
        let mut input = bytes;
        while !input.is_empty() && self.failure.is_none() {
            match self.client.next(&mut input) {
                None => break,
                Some(Err(())) => {
                    stats.framing_errors += 1;
                    let f = if self.hello.is_none() && !self.saw_client {
                        Failure::Midstream
                    } else {
                        Failure::Other
                    };
                    self.fail(f, out);
                }
                Some(Ok((header, payload))) => {
                    self.client_record(ts, header, payload, stats, out);
                    self.saw_client = true;
                }
            }
        }
        self.drain(keys, stats, out);
        self.enforce_cap(stats, out);
    }

    fn client_record(
        &mut self,
        ts: Timestamp,
        header: RecordHeader,
        payload: Vec<u8>,
        stats: &mut TlsStats,
        out: &mut Vec<Plain>,
    ) {
        if self.hello.is_some() {
            if header.ctype == wire::APPLICATION_DATA {
                self.saw_encrypted = true;
            }
            self.held += payload.len();
            self.queue.push_back(Held::Record {
                ts,
                header,
                payload,
            });
            return;
        }
        if header.ctype != wire::HANDSHAKE {
            let f = if self.saw_client {
                Failure::Other
            } else {
                Failure::Midstream
            };
            self.fail(f, out);
            return;
        }
        self.client_hs.push(&payload);
        match self.client_hs.next(self.limits.max_handshake) {
            Ok(None) => {}
            Ok(Some((wire::HS_CLIENT_HELLO, body))) => match wire::parse_client_hello(&body) {
                Some(ch) => self.hello = Some(ch),
                None => {
                    stats.malformed_hellos += 1;
                    self.fail(Failure::Other, out);
                }
            },
            Ok(Some(_)) => self.fail(Failure::Midstream, out),
            Err(()) => {
                stats.malformed_hellos += 1;
                self.fail(Failure::Other, out);
            }
        }
        // The first handshake byte of a stream must start a ClientHello.
        if self.hello.is_none()
            && self.failure.is_none()
            && self.client_hs.len() > 0
            && self.client_hs.first() != Some(wire::HS_CLIENT_HELLO)
        {
            self.fail(Failure::Midstream, out);
        }
    }

    /// Server-to-client bytes, in order: the plaintext handshake up to the
    /// ServerHello, then, while [`Self::want_server`] asks for them, the
    /// server's records, decrypted into `server_out`.
    pub fn server(
        &mut self,
        ts: Timestamp,
        bytes: &[u8],
        keys: &KeyLog,
        stats: &mut TlsStats,
        out: &mut Vec<Plain>,
        server_out: &mut Vec<Plain>,
    ) {
        if !self.wants_server() {
            return;
        }
        let mut input = bytes;
        while !input.is_empty() && self.wants_server() {
            match self.server.next(&mut input) {
                None => break,
                Some(Err(())) => {
                    stats.framing_errors += 1;
                    if self.server_done {
                        self.server_stop(None, 0, stats, server_out);
                    } else {
                        self.server_lost();
                    }
                }
                Some(Ok((header, payload))) if self.server_done => {
                    self.server_record(ts, header, payload, keys, stats, server_out);
                }
                Some(Ok((header, payload))) => {
                    if header.ctype != wire::HANDSHAKE {
                        continue;
                    }
                    self.server_hs.push(&payload);
                    self.server_messages(stats);
                }
            }
        }
        self.drain(keys, stats, out);
        self.enforce_cap(stats, out);
    }

    /// Whether the stack inside wants the server's plaintext; once not,
    /// the server's records are not read again.
    pub fn want_server(&mut self, wanted: bool) {
        self.server_wanted = wanted;
        if !wanted {
            self.server_dec = None;
        }
    }

    /// One server record after the ServerHello.
    fn server_record(
        &mut self,
        ts: Timestamp,
        header: RecordHeader,
        payload: Vec<u8>,
        keys: &KeyLog,
        stats: &mut TlsStats,
        server_out: &mut Vec<Plain>,
    ) {
        let (Some(dec), Some(ch), Some(sh)) =
            (&mut self.server_dec, &self.hello, &self.server_hello)
        else {
            return;
        };
        let make12 = |s: &Secrets| {
            let (bulk, prf) = record::suite12(sh.cipher_suite)?;
            keys12(
                Writer::Server,
                bulk,
                prf,
                s.master.as_ref()?.as_bytes(),
                ch,
                sh,
            )
        };
        let first = server_out.len();
        let len = header.len;
        match dec.record(
            ts,
            header,
            payload,
            keys.get(&ch.random),
            &make12,
            stats,
            server_out,
        ) {
            Ok(()) => self.server_output_started |= server_out.len() > first,
            Err(stop) => self.server_stop(Some(stop), len, stats, server_out),
        }
    }

    /// The server's decryption ends for good (counted); the stack inside
    /// is told of the hole once it has had data.
    fn server_stop(
        &mut self,
        stop: Option<Stop>,
        len: usize,
        stats: &mut TlsStats,
        server_out: &mut Vec<Plain>,
    ) {
        if self.server_dec.take().is_none() {
            return;
        }
        match stop {
            Some(Stop::NoKey) => stats.server_stopped_no_key += 1,
            Some(Stop::AuthFailed) => stats.server_stopped_auth_failed += 1,
            // Framing and holes are counted where they are seen.
            None => {}
        }
        if self.server_output_started {
            server_out.push(Plain::Gap {
                len: len.max(1) as u64,
            });
        }
    }

    fn server_messages(&mut self, stats: &mut TlsStats) {
        while !self.server_done {
            match self.server_hs.next(self.limits.max_handshake) {
                Ok(None) => break,
                Ok(Some((wire::HS_SERVER_HELLO, body))) => match wire::parse_server_hello(&body) {
                    Some(sh) if sh.is_hrr => {
                        if !self.hrr {
                            stats.hello_retry_requests += 1;
                        }
                        self.hrr = true;
                    }
                    Some(sh) => {
                        self.server_dec = self.server_wanted.then(|| server_decrypt(&sh)).flatten();
                        self.server_hello = Some(sh);
                        self.server_done = true;
                        self.server_hs = HandshakeBuf::default();
                    }
                    None => {
                        stats.malformed_hellos += 1;
                        self.server_lost();
                    }
                },
                Ok(Some(_)) => {}
                Err(()) => self.server_lost(),
            }
        }
    }

    fn server_lost(&mut self) {
        self.server_done = true;
        self.server_hs = HandshakeBuf::default();
        self.server = Framer::default();
    }

    /// A hole of `len` bytes in the client stream.
    pub fn client_gap(&mut self, len: u64, stats: &mut TlsStats) {
        if self.failure.is_some() || self.ended {
            return;
        }
        stats.client_gaps += 1;
        if self.hello.is_none() {
            self.failure = Some(if self.saw_client {
                Failure::Other
            } else {
                Failure::Midstream
            });
            return;
        }
        // Record boundaries are lost: what is queued before the hole may
        // still be decrypted, then the hole ends decryption.
        self.client = Framer::default();
        self.queue.push_back(Held::Gap { len });
    }

    /// A hole of `len` bytes in the server stream: a ServerHello not yet
    /// read is lost, and so is the server's decryption.
    pub fn server_gap(&mut self, len: u64, stats: &mut TlsStats, server_out: &mut Vec<Plain>) {
        if !self.wants_server() {
            return;
        }
        stats.server_gaps += 1;
        if self.server_done {
            let len = usize::try_from(len).unwrap_or(usize::MAX);
            self.server_stop(None, len, stats, server_out);
        } else {
            self.server_lost();
        }
    }

    /// Tries held records again (keys may have arrived).
    pub fn retry(&mut self, keys: &KeyLog, stats: &mut TlsStats, out: &mut Vec<Plain>) {
        self.drain(keys, stats, out);
    }

    /// The connection is over: a last retry, then its outcome is counted
    /// (once) under `decrypted` or one `not_decrypted_*` reason.
    pub fn end(&mut self, keys: &KeyLog, stats: &mut TlsStats, out: &mut Vec<Plain>) {
        if self.ended {
            return;
        }
        self.drain(keys, stats, out);
        self.ended = true;
        stats.connections += 1;
        if let Dec::V13(d) = &self.dec
            && !d.early_plain.is_empty()
        {
            stats.early_data_rejected += 1;
        }
        let waiting = !self.queue.is_empty();
        if self.records_ok > 0 {
            stats.decrypted += 1;
        } else if let Some(f) = self.failure {
            match f {
                Failure::Midstream => stats.not_decrypted_midstream += 1,
                Failure::Unsupported => stats.not_decrypted_unsupported += 1,
                Failure::HeldTooLong => stats.held_too_long += 1,
                Failure::NoKey => stats.not_decrypted_no_key += 1,
                Failure::Other => stats.not_decrypted_other += 1,
            }
        } else if self.auth_failed || matches!(&self.dec, Dec::V13(d) if d.skipped > 0) {
            // Records tried and skipped, none decrypted: the keys are wrong.
            stats.auth_failures += 1;
        } else if !self.saw_client {
            stats.not_decrypted_midstream += 1;
        } else if waiting && self.server_hello.is_some() {
            // Records still held with the ServerHello known: a key is missing.
            stats.not_decrypted_no_key += 1;
        } else {
            stats.not_decrypted_other += 1;
        }
        self.queue.clear();
        self.held = 0;
        self.dec = Dec::None;
    }

    /// False once nothing more from the server is needed: its ServerHello
    /// was read (or cannot be), and its records are not decrypted.
    pub fn wants_server(&self) -> bool {
        !self.ended && (!self.server_done || self.server_dec.is_some())
    }

    /// What the handshake showed, once the ClientHello was read (version
    /// and suite 0 until the ServerHello).
    pub fn info(&self) -> Option<TlsInfo> {
        let ch = self.hello.as_ref()?;
        let sh = self.server_hello.as_ref();
        Some(TlsInfo {
            version: sh.map_or(0, |s| s.version),
            cipher_suite: sh.map_or(0, |s| s.cipher_suite),
            sni: ch.sni.clone(),
            alpn: sh.and_then(|s| s.alpn.clone()),
            alpn_offered: ch.alpn.clone(),
        })
    }

    /// Whether the ClientHello offered this ALPN protocol.
    pub fn offered_alpn(&self, name: &[u8]) -> bool {
        self.hello
            .as_ref()
            .is_some_and(|h| h.alpn.iter().any(|a| a.as_bytes() == name))
    }

    /// Whether records are held for which only the keys are missing (they
    /// may still come: a Decryption Secrets Block later in the capture).
    pub fn waiting_for_keys(&self, keys: &KeyLog) -> bool {
        !self.ended
            && self.failure.is_none()
            && !self.queue.is_empty()
            && self.server_hello.is_some()
            && self
                .hello
                .as_ref()
                .is_some_and(|h| keys.get(&h.random).is_none())
    }

    /// Ciphertext (and undelivered early plaintext) held, in bytes: the
    /// records waiting, each direction's partial record and handshake
    /// message.
    pub fn held_bytes(&self) -> usize {
        let early = match &self.dec {
            Dec::V13(d) => d.early_bytes,
            _ => 0,
        };
        self.held
            + early
            + self.client.held()
            + self.client_hs.len()
            + self.server.held()
            + self.server_hs.len()
    }

    /// Drops what is held (the caller's global cap): counted, and the
    /// connection stops decrypting.
    pub fn drop_held(&mut self, stats: &mut TlsStats, out: &mut Vec<Plain>) {
        if self.held_bytes() == 0 || self.ended {
            return;
        }
        stats.held_cuts += 1;
        self.cut(out);
    }

    fn enforce_cap(&mut self, stats: &mut TlsStats, out: &mut Vec<Plain>) {
        if self.held_bytes() > self.limits.max_held_per_flow {
            stats.held_cuts += 1;
            self.cut(out);
        }
    }

    fn cut(&mut self, out: &mut Vec<Plain>) {
        let len = self.held_bytes();
        self.queue.clear();
        self.held = 0;
        self.client = Framer::default();
        self.client_hs = HandshakeBuf::default();
        // The server's side too: nothing of it is needed any more.
        self.server_lost();
        self.server_dec = None;
        if let Dec::V13(d) = &mut self.dec {
            d.early_plain.clear();
            d.early_bytes = 0;
        }
        if self.output_started {
            out.push(Plain::Gap { len: len as u64 });
        }
        if self.failure.is_none() {
            self.failure = Some(Failure::HeldTooLong);
        }
    }

    fn fail(&mut self, f: Failure, out: &mut Vec<Plain>) {
        if self.failure.is_none() {
            self.failure = Some(f);
        }
        if self.output_started && !self.queue.is_empty() {
            let len: usize = self.queue.iter().map(Held::size).sum();
            out.push(Plain::Gap { len: len as u64 });
        }
        self.queue.clear();
        self.held = 0;
        self.client = Framer::default();
    }

    /// Processes held client records in order while they can be.
    fn drain(&mut self, keys: &KeyLog, stats: &mut TlsStats, out: &mut Vec<Plain>) {
        while self.failure.is_none() {
            let Some(item) = self.queue.pop_front() else {
                break;
            };
            let size = item.size();
            match item {
                Held::Gap { len } => {
                    if self.output_started {
                        out.push(Plain::Gap { len });
                    }
                    self.fail(Failure::Other, out);
                    break;
                }
                Held::Record {
                    ts,
                    header,
                    payload,
                } => match self.step(ts, header, payload, keys, stats, out) {
                    Ok(()) => self.held = self.held.saturating_sub(size),
                    Err(_) if self.server_hello.is_some() && keys.is_complete() => {
                        // With the ServerHello known, a record waits only for
                        // a key, and none can come: nothing more is held.
                        if self.output_started {
                            out.push(Plain::Gap { len: size as u64 });
                        }
                        self.fail(Failure::NoKey, out);
                        break;
                    }
                    Err(item) => {
                        self.queue.push_front(item);
                        break;
                    }
                },
            }
        }
    }

    /// Sets up the decryptor once the ServerHello is known.
    fn setup(&mut self) -> Result<(), Failure> {
        if !matches!(self.dec, Dec::None) {
            return Ok(());
        }
        let (Some(ch), Some(sh)) = (&self.hello, &self.server_hello) else {
            return Ok(());
        };
        match sh.version {
            0x0304 => {
                let (kind, hash) = record::suite13(sh.cipher_suite).ok_or(Failure::Unsupported)?;
                let epoch = if ch.early_data && !self.hrr {
                    Epoch::Early
                } else {
                    Epoch::Handshake
                };
                self.dec = Dec::V13(Box::new(Dec13 {
                    kind,
                    hash,
                    epoch,
                    early: None,
                    handshake: None,
                    app_secret: Vec::new(),
                    app: None,
                    msgs: HandshakeBuf::default(),
                    early_plain: Vec::new(),
                    early_bytes: 0,
                    skipped: 0,
                    offered_early: ch.early_data,
                }));
            }
            0x0303 => {
                let (bulk, prf) = record::suite12(sh.cipher_suite).ok_or(Failure::Unsupported)?;
                self.dec = Dec::V12 {
                    bulk,
                    prf,
                    ccs: false,
                    keys: None,
                    resume: Resume::No,
                };
            }
            _ => return Err(Failure::Unsupported),
        }
        Ok(())
    }

    /// One held record: Ok when consumed, Err(item back) to wait.
    fn step(
        &mut self,
        ts: Timestamp,
        header: RecordHeader,
        payload: Vec<u8>,
        keys: &KeyLog,
        stats: &mut TlsStats,
        out: &mut Vec<Plain>,
    ) -> Result<(), Held> {
        let back = |payload| {
            Err(Held::Record {
                ts,
                header,
                payload,
            })
        };
        if self.server_hello.is_none() {
            return back(payload);
        }
        if let Err(f) = self.setup() {
            self.fail(f, out);
            return Ok(());
        }
        let Some(random) = self.hello.as_ref().map(|h| h.random) else {
            return back(payload);
        };
        let secrets = keys.get(&random);
        match &mut self.dec {
            Dec::None => return back(payload),
            Dec::V13(d) => {
                // Dummy ChangeCipherSpec, a second ClientHello, plaintext
                // alerts are skipped; records of type 23 are decrypted.
                if header.ctype == wire::APPLICATION_DATA {
                    let Some(s) = secrets else {
                        return back(payload);
                    };
                    match step13(d, s, ts, header, payload, stats, out) {
                        Ok(ok) => {
                            if ok.decrypted {
                                self.records_ok += 1;
                            }
                            if ok.emitted {
                                self.output_started = true;
                            }
                            if ok.auth_failed {
                                self.auth_failed = true;
                                if self.output_started {
                                    out.push(Plain::Gap {
                                        len: header.len as u64,
                                    });
                                }
                            }
                        }
                        Err(p) => return back(p),
                    }
                }
            }
            Dec::V12 {
                bulk,
                prf,
                ccs,
                keys: k12,
                resume,
            } => {
                if !*ccs {
                    if header.ctype == wire::CHANGE_CIPHER_SPEC {
                        let (Some(ch), Some(sh)) = (&self.hello, &self.server_hello) else {
                            return back(payload);
                        };
                        match secrets.and_then(|s| s.master.as_ref()) {
                            Some(master) => {
                                match keys12(Writer::Client, *bulk, *prf, master.as_bytes(), ch, sh)
                                {
                                    Some(k) => *k12 = Some(Box::new(k)),
                                    None => {
                                        self.fail(Failure::Other, out);
                                        return Ok(());
                                    }
                                }
                            }
                            None if resumes(ch, sh) => *resume = Resume::Untried,
                            None => return back(payload),
                        }
                        *ccs = true;
                    }
                    // Plaintext handshake (ClientKeyExchange...) and alerts: skipped.
                    return Ok(());
                }
                if k12.is_none() && *resume != Resume::No {
                    let generation = keys.generation();
                    let (Some(ch), Some(sh)) = (&self.hello, &self.server_hello) else {
                        return back(payload);
                    };
                    if *resume == Resume::TriedAt(generation) || !may_be_finished(&header) {
                        return back(payload);
                    }
                    *resume = Resume::TriedAt(generation);
                    match resumed_keys(*bulk, *prf, keys, ch, sh, &header, &payload, stats) {
                        Some(k) => *k12 = Some(Box::new(k)),
                        None => return back(payload),
                    }
                }
                if let Some(k) = k12 {
                    let mut payload = payload;
                    match k.open(header.ctype, header.version, &mut payload) {
                        Some(range) => {
                            self.records_ok += 1;
                            stats.records_decrypted += 1;
                            if header.ctype == wire::APPLICATION_DATA && !range.is_empty() {
                                stats.bytes_decrypted += range.len() as u64;
                                payload.truncate(range.end);
                                payload.drain(..range.start);
                                out.push(Plain::Data { ts, bytes: payload });
                                self.output_started = true;
                            }
                        }
                        None => {
                            stats.records_auth_failed += 1;
                            self.auth_failed = true;
                            if self.output_started {
                                out.push(Plain::Gap {
                                    len: header.len as u64,
                                });
                            }
                        }
                    }
                } else {
                    return back(payload);
                }
            }
        }
        Ok(())
    }
}

/// The server's decryption for a ServerHello's version and suite (None
/// when not supported).
fn server_decrypt(sh: &ServerHello) -> Option<ServerDecrypt> {
    match sh.version {
        0x0304 => {
            let (kind, hash) = record::suite13(sh.cipher_suite)?;
            Some(ServerDecrypt::tls13(kind, hash))
        }
        0x0303 => record::suite12(sh.cipher_suite).map(|_| ServerDecrypt::tls12()),
        _ => None,
    }
}

/// A side's write keys of a TLS 1.2 connection from a master secret and
/// its hellos (Encrypt-then-MAC when both carry the extension).
fn keys12(
    writer: Writer,
    bulk: Bulk12,
    prf: Hash,
    master: &[u8],
    ch: &ClientHello,
    sh: &ServerHello,
) -> Option<Keys12> {
    let etm = ch.encrypt_then_mac && sh.encrypt_then_mac;
    Keys12::new(writer, bulk, prf, master, &ch.random, &sh.random, etm)
}

/// Whether a TLS 1.2 ServerHello resumes the client's session: it echoes
/// the session ID the client offered (by ID, or with a ticket: RFC 5077
/// 3.4).
fn resumes(ch: &ClientHello, sh: &ServerHello) -> bool {
    !ch.session_id.is_empty() && ch.session_id == sh.session_id
}

/// Whether a client record after its ChangeCipherSpec may be its
/// Finished, the record a resumed session's master secret is tried on.
fn may_be_finished(header: &RecordHeader) -> bool {
    header.ctype == wire::HANDSHAKE && header.len <= MAX_FINISHED_RECORD
}

/// The client keys of a resumed TLS 1.2 session whose own master secret is
/// not logged: the logged master secret (most recent first, at most
/// [`MAX_RESUME_CANDIDATES`]) under which the client's Finished record
/// authenticates. The answer depends on the key log and this connection
/// alone, never on which other connections a thread or shard saw.
#[allow(clippy::too_many_arguments)]
fn resumed_keys(
    bulk: Bulk12,
    prf: Hash,
    keys: &KeyLog,
    ch: &ClientHello,
    sh: &ServerHello,
    header: &RecordHeader,
    finished: &[u8],
    stats: &mut TlsStats,
) -> Option<Keys12> {
    let make = |master: &[u8]| keys12(Writer::Client, bulk, prf, master, ch, sh);
    let mut copy = Vec::with_capacity(finished.len());
    for (tried, master) in keys.masters_newest_first().enumerate() {
        if tried == MAX_RESUME_CANDIDATES {
            stats.resumption_trials_cut += 1;
            return None;
        }
        stats.resumption_trials += 1;
        let Some(mut k) = make(master.as_bytes()) else {
            continue;
        };
        copy.clear();
        copy.extend_from_slice(finished);
        if k.open(header.ctype, header.version, &mut copy).is_some() {
            stats.resumptions_found += 1;
            return make(master.as_bytes());
        }
    }
    None
}

#[derive(Default)]
struct Outcome13 {
    decrypted: bool,
    emitted: bool,
    auth_failed: bool,
}

fn load(slot: &mut Option<Keys13>, kind: AeadKind, hash: Hash, secret: Option<&[u8]>) {
    if slot.is_none()
        && let Some(s) = secret
    {
        *slot = Keys13::from_secret(kind, hash, s);
    }
}

/// Tries `keys` on a copy when `keep` (another key may follow), else in place.
fn try_open(
    keys: &Keys13,
    header: &[u8; 5],
    payload: &mut Vec<u8>,
    keep: bool,
) -> Option<(u8, Vec<u8>)> {
    if keep {
        let mut copy = payload.clone();
        let (t, n) = keys.open(header, &mut copy)?;
        copy.truncate(n);
        Some((t, copy))
    } else {
        let (t, n) = keys.open(header, payload)?;
        let mut p = std::mem::take(payload);
        p.truncate(n);
        Some((t, p))
    }
}

/// One TLS 1.3 client record: Err(payload) to wait for a key.
fn step13(
    d: &mut Dec13,
    s: &Secrets,
    ts: Timestamp,
    header: RecordHeader,
    mut payload: Vec<u8>,
    stats: &mut TlsStats,
    out: &mut Vec<Plain>,
) -> Result<Outcome13, Vec<u8>> {
    let (kind, hash) = (d.kind, d.hash);
    let hb = header.bytes();
    load(
        &mut d.early,
        kind,
        hash,
        s.client_early.as_ref().map(|x| x.as_bytes()),
    );
    load(
        &mut d.handshake,
        kind,
        hash,
        s.client_handshake.as_ref().map(|x| x.as_bytes()),
    );
    if d.app.is_none()
        && d.app_secret.is_empty()
        && let Some(a) = &s.client_app0
    {
        d.app_secret = a.as_bytes().to_vec();
        d.app = Keys13::from_secret(kind, hash, &d.app_secret);
    }
    let mut res = Outcome13::default();
    if d.epoch == Epoch::Early {
        if let Some(k) = &mut d.early {
            if let Some((t, plain)) = try_open(k, &hb, &mut payload, true) {
                k.seq += 1;
                stats.records_decrypted += 1;
                stats.early_data_records += 1;
                res.decrypted = true;
                match t {
                    wire::APPLICATION_DATA if !plain.is_empty() => {
                        d.early_bytes += plain.len();
                        d.early_plain.push(Plain::Data { ts, bytes: plain });
                    }
                    wire::HANDSHAKE => {
                        d.msgs.push(&plain);
                        res.emitted |= handshake_msgs(d, stats, out);
                    }
                    _ => {}
                }
                return Ok(res);
            }
        } else if d.handshake.is_none() && d.app.is_none() {
            return Err(payload);
        }
        // Not early data: 0-RTT was rejected (or not sent).
        if !d.early_plain.is_empty() {
            stats.early_data_rejected += 1;
        }
        d.early_plain.clear();
        d.early_bytes = 0;
        d.epoch = Epoch::Handshake;
    }
    if d.epoch == Epoch::Handshake {
        if let Some(k) = &mut d.handshake {
            if let Some((t, plain)) = try_open(k, &hb, &mut payload, true) {
                k.seq += 1;
                stats.records_decrypted += 1;
                res.decrypted = true;
                if t == wire::HANDSHAKE {
                    d.msgs.push(&plain);
                    res.emitted |= handshake_msgs(d, stats, out);
                }
                return Ok(res);
            }
        } else if d.app.is_none() {
            return Err(payload);
        }
        // The handshake key failed or is unknown: the first application
        // record, by trial with the `_0` key?
        let Some(app) = &mut d.app else {
            return Err(payload);
        };
        if let Some((t, plain)) = try_open(app, &hb, &mut payload, true) {
            d.epoch = Epoch::App;
            app.seq += 1;
            stats.records_decrypted += 1;
            res.decrypted = true;
            res.emitted |= deliver13(d, t, ts, plain, stats, out);
            return Ok(res);
        }
        // With the handshake key known, a record failing it and the `_0`
        // key is a wrong key, unless it may be rejected early data.
        let may_skip = d.handshake.is_none() || d.offered_early;
        if !may_skip {
            stats.records_auth_failed += 1;
            res.auth_failed = true;
            return Ok(res);
        }
        d.skipped += 1;
        stats.records_skipped += 1;
        if d.skipped > MAX_SKIPPED {
            stats.records_auth_failed += 1;
            res.auth_failed = true;
        }
        return Ok(res);
    }
    // Application epoch.
    let Some(app) = &mut d.app else {
        return Err(payload);
    };
    match try_open(app, &hb, &mut payload, false) {
        Some((t, plain)) => {
            app.seq += 1;
            stats.records_decrypted += 1;
            res.decrypted = true;
            res.emitted |= deliver13(d, t, ts, plain, stats, out);
        }
        None => {
            app.seq += 1;
            stats.records_auth_failed += 1;
            res.auth_failed = true;
        }
    }
    Ok(res)
}

/// Delivers an application-epoch record's content; true when data was emitted.
fn deliver13(
    d: &mut Dec13,
    t: u8,
    ts: Timestamp,
    plain: Vec<u8>,
    stats: &mut TlsStats,
    out: &mut Vec<Plain>,
) -> bool {
    match t {
        wire::APPLICATION_DATA if !plain.is_empty() => {
            stats.bytes_decrypted += plain.len() as u64;
            out.push(Plain::Data { ts, bytes: plain });
            true
        }
        wire::HANDSHAKE => {
            d.msgs.push(&plain);
            handshake_msgs(d, stats, out)
        }
        _ => false,
    }
}

/// Handshake messages of decrypted records: EndOfEarlyData, Finished and
/// KeyUpdate move the epoch. True when early data was released.
fn handshake_msgs(d: &mut Dec13, stats: &mut TlsStats, out: &mut Vec<Plain>) -> bool {
    let mut emitted = false;
    loop {
        let (t, _body) = match d.msgs.next(1 << 20) {
            Ok(Some(m)) => m,
            Ok(None) => break,
            Err(()) => {
                d.msgs = HandshakeBuf::default();
                break;
            }
        };
        match (d.epoch, t) {
            (Epoch::Early, wire::HS_END_OF_EARLY_DATA) => {
                for p in d.early_plain.drain(..) {
                    if let Plain::Data { bytes, .. } = &p {
                        stats.bytes_decrypted += bytes.len() as u64;
                    }
                    out.push(p);
                    emitted = true;
                }
                d.early_bytes = 0;
                d.epoch = Epoch::Handshake;
            }
            (Epoch::Handshake, wire::HS_FINISHED) => d.epoch = Epoch::App,
            (Epoch::App, wire::HS_KEY_UPDATE) if !d.app_secret.is_empty() => {
                d.app_secret = record::next_secret(d.hash, &d.app_secret);
                d.app = Keys13::from_secret(d.kind, d.hash, &d.app_secret);
                stats.key_updates += 1;
            }
            _ => {}
        }
    }
    emitted
}
