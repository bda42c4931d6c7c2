//! TLS fixtures: HTTPS captures made by a real TLS stack (rustls, made
//! deterministic in [`session`]) and, for the CBC suites rustls lacks, by a
//! small hand-made TLS 1.2 record writer ([`cbc`]), each with the key log
//! that decrypts it and the truth: the requests inside.
//!
//! Not part of [`crate::all`] yet: [`all`] gives them with their key logs.

pub mod cases;
pub mod cbc;
pub mod rewrap;
pub mod session;

use super::Fixture;
use super::http::{Req, html};
use super::tcp::{Conversation, Trace};
use session::{Flight, Session};

/// A TLS capture, its truth, and the keys that decrypt it.
pub struct TlsFixture {
    /// The capture and its truth (the requests inside TLS).
    pub fixture: Fixture,
    /// The NSS key log (`SSLKEYLOGFILE` format) to give with the capture.
    /// For a fixture whose keys are in the capture (`keys_in_dsb`), the
    /// same secrets as they stand in its Decryption Secrets Block(s).
    pub keylog: String,
    /// The keys are in pcapng Decryption Secrets Blocks inside the capture:
    /// no key log is to be given.
    pub keys_in_dsb: bool,
}

impl TlsFixture {
    /// The key log's file name: `<stem>.keys`.
    pub fn keylog_name(&self) -> String {
        let n = self.fixture.name;
        let stem = n.rsplit_once('.').map_or(n, |(s, _)| s);
        format!("{stem}.keys")
    }
}

/// Every TLS fixture, in a fixed order. Deterministic: same bytes on every run.
pub fn all() -> Vec<TlsFixture> {
    cases::all()
}

/// Puts flights on the wire, each in MSS-sized segments acknowledged by the
/// peer; the server thinks a little before each of its flights.
pub fn deliver(c: &mut Conversation, t: &mut Trace, flights: &[Flight]) {
    for f in flights {
        if !f.from_client {
            t.advance_us(20_000);
        }
        c.send(t, f.from_client, &f.bytes);
    }
}

/// The client sends `req` inside TLS (noted in the truth at the first byte
/// of its first record); the server must have read exactly it.
pub fn tls_request(c: &mut Conversation, t: &mut Trace, s: &mut Session, req: &Req) {
    let bytes = req.bytes();
    let flights = s.client_send(&bytes);
    assert_eq!(s.take_received(), bytes, "the server read another request");
    c.note_next(t, req);
    deliver(c, t, &flights);
}

/// The server answers with a small HTML page inside TLS.
pub fn tls_response(c: &mut Conversation, t: &mut Trace, s: &mut Session, title: &str) {
    t.advance_us(20_000);
    let page = html(t.now_ns, title);
    let flights = s.server_send(&page);
    deliver(c, t, &flights);
    t.advance_us(100_000);
}
