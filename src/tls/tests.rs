//! Unit tests of TLS decryption: RFC 8448 vectors, TLS 1.2 PRF vectors,
//! every suite by round trip with test-built records, framing over every
//! cut, epochs (HRR, 0-RTT, KeyUpdate, `_0`-only key logs), and failures.

use super::crypto::{self, Aead, AeadKind, CbcKey, Hash, Mac};
use super::record::{self, Bulk12, Keys13};
use super::*;
use proptest::prelude::*;

pub(crate) fn hex(s: &str) -> Vec<u8> {
    let d: Vec<u8> = s.bytes().filter(u8::is_ascii_hexdigit).collect();
    d.chunks(2)
        .map(|p| u8::from_str_radix(std::str::from_utf8(p).unwrap(), 16).unwrap())
        .collect()
}

fn hexs(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

pub(crate) fn rec(ctype: u8, payload: &[u8]) -> Vec<u8> {
    let mut r = vec![ctype, 3, 3];
    r.extend_from_slice(&u16::try_from(payload.len()).unwrap().to_be_bytes());
    r.extend_from_slice(payload);
    r
}

fn hs_msg(t: u8, body: &[u8]) -> Vec<u8> {
    let mut m = vec![t];
    m.extend_from_slice(&u32::try_from(body.len()).unwrap().to_be_bytes()[1..]);
    m.extend_from_slice(body);
    m
}

fn ext(t: u16, data: &[u8]) -> Vec<u8> {
    let mut e = t.to_be_bytes().to_vec();
    e.extend_from_slice(&u16::try_from(data.len()).unwrap().to_be_bytes());
    e.extend_from_slice(data);
    e
}

fn v16(data: &[u8]) -> Vec<u8> {
    let mut v = u16::try_from(data.len()).unwrap().to_be_bytes().to_vec();
    v.extend_from_slice(data);
    v
}

#[derive(Clone, Default)]
pub(crate) struct Hello {
    pub(crate) random: [u8; 32],
    pub(crate) suites: Vec<u16>,
    pub(crate) tls13: bool,
    pub(crate) early_data: bool,
    pub(crate) etm: bool,
    pub(crate) sni: Option<&'static str>,
    pub(crate) alpn: Vec<&'static str>,
    /// Bytes of padding extension, to make hellos span several records.
    pub(crate) padding: usize,
}

/// A ClientHello handshake message.
pub(crate) fn client_hello(h: &Hello) -> Vec<u8> {
    let mut b = vec![3, 3];
    b.extend_from_slice(&h.random);
    b.push(32);
    b.extend_from_slice(&[7; 32]);
    let suites: Vec<u8> = h.suites.iter().flat_map(|s| s.to_be_bytes()).collect();
    b.extend_from_slice(&v16(&suites));
    b.extend_from_slice(&[1, 0]);
    let mut exts = Vec::new();
    if let Some(sni) = h.sni {
        let mut entry = vec![0];
        entry.extend_from_slice(&v16(sni.as_bytes()));
        exts.extend(ext(0, &v16(&entry)));
    }
    if !h.alpn.is_empty() {
        let mut list = Vec::new();
        for p in &h.alpn {
            list.push(u8::try_from(p.len()).unwrap());
            list.extend_from_slice(p.as_bytes());
        }
        exts.extend(ext(16, &v16(&list)));
    }
    if h.tls13 {
        exts.extend(ext(43, &[4, 3, 4, 3, 3]));
    }
    if h.early_data {
        exts.extend(ext(42, &[]));
    }
    if h.etm {
        exts.extend(ext(22, &[]));
    }
    if h.padding > 0 {
        exts.extend(ext(21, &vec![0; h.padding]));
    }
    b.extend_from_slice(&v16(&exts));
    hs_msg(1, &b)
}

/// A ServerHello handshake message.
pub(crate) fn server_hello(random: [u8; 32], suite: u16, tls13: bool, etm: bool) -> Vec<u8> {
    let mut b = vec![3, 3];
    b.extend_from_slice(&random);
    b.push(32);
    b.extend_from_slice(&[7; 32]);
    b.extend_from_slice(&suite.to_be_bytes());
    b.push(0);
    let mut exts = Vec::new();
    if tls13 {
        exts.extend(ext(43, &[3, 4]));
    }
    if etm {
        exts.extend(ext(22, &[]));
    }
    b.extend_from_slice(&v16(&exts));
    hs_msg(2, &b)
}

/// Handshake records of at most 16384 bytes each.
fn hs_records(msg: &[u8]) -> Vec<u8> {
    msg.chunks(16384).flat_map(|c| rec(22, c)).collect()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dir {
    Client,
    Server,
}

/// Feeds a capture's chunks; returns the plaintext (gaps as `<GAP n>`).
pub(crate) fn run(
    chunks: &[(Dir, Vec<u8>)],
    keys: &KeyLog,
    stats: &mut TlsStats,
) -> (Vec<u8>, TlsConnection) {
    let mut c = TlsConnection::new(&TlsLimits::default());
    let mut out = Vec::new();
    for (i, (d, b)) in chunks.iter().enumerate() {
        let ts = crate::time::Timestamp(i64::try_from(i).unwrap());
        match d {
            Dir::Client => c.client(ts, b, keys, stats, &mut out),
            Dir::Server => c.server(ts, b, keys, stats, &mut out, &mut Vec::new()),
        }
    }
    c.end(keys, stats, &mut out);
    (flatten(&out), c)
}

pub(crate) fn flatten(out: &[Plain]) -> Vec<u8> {
    let mut v = Vec::new();
    for p in out {
        match p {
            Plain::Data { bytes, .. } => v.extend_from_slice(bytes),
            Plain::Gap { len } => v.extend_from_slice(format!("<GAP {len}>").as_bytes()),
        }
    }
    v
}

fn line(label: &str, random: &[u8; 32], secret: &[u8]) -> String {
    format!("{label} {} {}\n", hexs(random), hexs(secret))
}

fn keylog(text: &str) -> KeyLog {
    let mut k = KeyLog::new();
    k.add_text(text.as_bytes(), &mut KeyLogStats::default());
    k
}

// ---------------------------------------------------------------- RFC 8448

const R8448_C_HS: &str = "b3 ed db 12 6e 06 7f 35 a7 80 b3 ab f4 5e 2d 8f 3b 1a 95 07 38 f5 2e 96 00 74 6a 0e 27 a5 5a 21";
const R8448_C_AP: &str = "9e 40 64 6c e7 9a 7f 9d c0 5a f8 88 9b ce 65 52 87 5a fa 0b 06 df 00 87 f7 92 eb b7 c1 75 04 a5";
const R8448_C_FIN: &str = "17 03 03 00 35 75 ec 4d c2 38 cc e6 0b 29 80 44 a7 1e 21 9c 56 cc 77 b0
    51 7f e9 b9 3c 7a 4b fc 44 d8 7f 38 f8 03 38 ac 98 fc 46 de b3 84 bd 1c ae ac ab 68 67 d7 26 c4 05 46";
const R8448_C_APP: &str = "17 03 03 00 43 a2 3f 70 54 b6 2c 94 d0 af fa fe 82 28 ba 55 cb ef ac ea
    42 f9 14 aa 66 bc ab 3f 2b 98 19 a8 a5 b4 6b 39 5b d5 4a 9a 20 44 1e 2b 62 97 4e 1f 5a 62 92 a2 97
    70 14 bd 1e 3d ea e6 3a ee bb 21 69 49 15 e4";

#[test]
fn rfc8448_traffic_keys() {
    let mut key = [0u8; 16];
    let mut iv = [0u8; 12];
    crypto::hkdf_expand_label(Hash::Sha256, &hex(R8448_C_HS), b"key", &[], &mut key);
    crypto::hkdf_expand_label(Hash::Sha256, &hex(R8448_C_HS), b"iv", &[], &mut iv);
    assert_eq!(
        key.to_vec(),
        hex("db fa a6 93 d1 76 2c 5b 66 6a f5 d9 50 25 8d 01")
    );
    assert_eq!(iv.to_vec(), hex("5b d3 c7 1b 83 6e 0b 76 bb 73 26 5f"));
    crypto::hkdf_expand_label(Hash::Sha256, &hex(R8448_C_AP), b"key", &[], &mut key);
    crypto::hkdf_expand_label(Hash::Sha256, &hex(R8448_C_AP), b"iv", &[], &mut iv);
    assert_eq!(
        key.to_vec(),
        hex("17 42 2d da 59 6e d5 d9 ac d8 90 e3 c6 3f 50 51")
    );
    assert_eq!(iv.to_vec(), hex("5b 78 92 3d ee 08 57 90 33 e5 23 d9"));
}

#[test]
fn rfc8448_records_open() {
    let k = Keys13::from_secret(AeadKind::Aes128Gcm, Hash::Sha256, &hex(R8448_C_HS)).unwrap();
    let r = hex(R8448_C_FIN);
    let mut p = r[5..].to_vec();
    let (t, n) = k.open(&r[..5].try_into().unwrap(), &mut p).unwrap();
    assert_eq!(t, 22);
    assert_eq!(
        p[..n].to_vec(),
        hex(
            "14 00 00 20 a8 ec 43 6d 67 76 34 ae 52 5a c1 fc eb e1 1a 03 9e c1 76 94 fa c6 e9 85 27 b6 42 f2 ed d5 ce 61"
        )
    );
}

const R8448_RANDOM: [u8; 32] = [0x5a; 32];

/// The RFC 8448 simple handshake as a connection: our hellos around the
/// RFC's client Finished and application records.
fn rfc8448_connection(ccs: bool) -> Vec<(Dir, Vec<u8>)> {
    let ch = client_hello(&Hello {
        random: R8448_RANDOM,
        suites: vec![0x1301, 0x1303, 0x1302],
        tls13: true,
        sni: Some("server"),
        alpn: vec!["h2", "http/1.1"],
        ..Hello::default()
    });
    let mut client2 = Vec::new();
    if ccs {
        client2.extend(rec(20, &[1]));
    }
    client2.extend(hex(R8448_C_FIN));
    client2.extend(hex(R8448_C_APP));
    vec![
        (Dir::Client, rec(22, &ch)),
        (
            Dir::Server,
            rec(22, &server_hello([1; 32], 0x1301, true, false)),
        ),
        (Dir::Server, rec(23, &[0; 100])),
        (Dir::Client, client2),
    ]
}

fn r8448_payload() -> Vec<u8> {
    (0u8..=0x31).collect()
}

#[test]
fn rfc8448_connection_decrypts() {
    let keys = keylog(&format!(
        "{}{}",
        line(
            "CLIENT_HANDSHAKE_TRAFFIC_SECRET",
            &R8448_RANDOM,
            &hex(R8448_C_HS)
        ),
        line("CLIENT_TRAFFIC_SECRET_0", &R8448_RANDOM, &hex(R8448_C_AP))
    ));
    let mut st = TlsStats::default();
    let (plain, c) = run(&rfc8448_connection(true), &keys, &mut st);
    assert_eq!(plain, r8448_payload());
    assert_eq!(st.decrypted, 1);
    assert_eq!(st.connections, 1);
    assert_eq!(st.records_decrypted, 2);
    assert_eq!(st.bytes_decrypted, 50);
    let info = c.info().unwrap();
    assert_eq!((info.version, info.cipher_suite), (0x0304, 0x1301));
    assert_eq!(info.sni.as_deref(), Some("server"));
    assert_eq!(info.alpn_offered, vec!["h2", "http/1.1"]);
    assert!(!c.wants_server());
}

#[test]
fn rfc8448_only_app_secret() {
    let keys = keylog(&line(
        "CLIENT_TRAFFIC_SECRET_0",
        &R8448_RANDOM,
        &hex(R8448_C_AP),
    ));
    let mut st = TlsStats::default();
    let (plain, _) = run(&rfc8448_connection(false), &keys, &mut st);
    assert_eq!(plain, r8448_payload());
    assert_eq!(st.records_skipped, 1);
    assert_eq!(st.decrypted, 1);
}

#[test]
fn rfc8448_client_before_server_and_late_keys() {
    let mut chunks = rfc8448_connection(true);
    // Client's second flight before the ServerHello.
    chunks.swap(1, 3);
    let mut st = TlsStats::default();
    let mut c = TlsConnection::new(&TlsLimits::default());
    let mut out = Vec::new();
    let empty = KeyLog::new();
    for (d, b) in &chunks {
        match d {
            Dir::Client => c.client(Timestamp(0), b, &empty, &mut st, &mut out),
            Dir::Server => c.server(Timestamp(0), b, &empty, &mut st, &mut out, &mut Vec::new()),
        }
    }
    assert!(out.is_empty());
    assert!(c.held_bytes() > 0);
    let mut keys = KeyLog::new();
    let g = keys.generation();
    keys.add_text(
        line("CLIENT_TRAFFIC_SECRET_0", &R8448_RANDOM, &hex(R8448_C_AP)).as_bytes(),
        &mut KeyLogStats::default(),
    );
    assert_ne!(g, keys.generation());
    c.retry(&keys, &mut st, &mut out);
    assert_eq!(flatten(&out), r8448_payload());
    assert_eq!(c.held_bytes(), 0);
}

#[test]
fn rfc8448_wrong_keys_fail_authentication() {
    let keys = keylog(&format!(
        "{}{}",
        line("CLIENT_HANDSHAKE_TRAFFIC_SECRET", &R8448_RANDOM, &[9; 32]),
        line("CLIENT_TRAFFIC_SECRET_0", &R8448_RANDOM, &[8; 32])
    ));
    let mut st = TlsStats::default();
    let (plain, _) = run(&rfc8448_connection(true), &keys, &mut st);
    assert!(plain.is_empty());
    assert_eq!(st.decrypted, 0);
    assert_eq!(st.auth_failures, 1);
    assert!(st.records_auth_failed >= 1);
}

#[test]
fn no_key_and_midstream_are_counted() {
    let mut st = TlsStats::default();
    let (plain, _) = run(&rfc8448_connection(true), &KeyLog::new(), &mut st);
    assert!(plain.is_empty());
    assert_eq!(st.not_decrypted_no_key, 1);

    let mut st = TlsStats::default();
    let chunks = vec![
        (Dir::Client, hex(R8448_C_APP)),
        (Dir::Server, rec(23, &[0; 40])),
    ];
    let keys = keylog(&line(
        "CLIENT_TRAFFIC_SECRET_0",
        &R8448_RANDOM,
        &hex(R8448_C_AP),
    ));
    let (plain, _) = run(&chunks, &keys, &mut st);
    assert!(plain.is_empty());
    assert_eq!(st.not_decrypted_midstream, 1);
    assert_eq!(st.connections, 1);

    let mut st = TlsStats::default();
    let (_, _) = run(
        &[(Dir::Client, b"GET / HTTP/1.1\r\n\r\n".to_vec())],
        &keys,
        &mut st,
    );
    assert_eq!(st.not_decrypted_midstream, 1);
}

use crate::time::Timestamp;

/// Cuts a connection's client stream and server stream at the given
/// points, interleaving server chunks after the first client chunk.
fn recut(chunks: &[(Dir, Vec<u8>)], cuts: &[usize]) -> Vec<(Dir, Vec<u8>)> {
    let client: Vec<u8> = chunks
        .iter()
        .filter(|c| c.0 == Dir::Client)
        .flat_map(|c| c.1.clone())
        .collect();
    let server: Vec<u8> = chunks
        .iter()
        .filter(|c| c.0 == Dir::Server)
        .flat_map(|c| c.1.clone())
        .collect();
    let mut points: Vec<usize> = cuts.iter().map(|c| c % (client.len() + 1)).collect();
    points.sort_unstable();
    points.dedup();
    let mut out = Vec::new();
    let mut prev = 0;
    for (i, p) in points.into_iter().chain([client.len()]).enumerate() {
        out.push((Dir::Client, client[prev..p].to_vec()));
        prev = p;
        if i == 0 {
            let half = server.len() / 2;
            out.push((Dir::Server, server[..half].to_vec()));
            out.push((Dir::Server, server[half..].to_vec()));
        }
    }
    out
}

#[test]
fn rfc8448_split_at_every_byte() {
    let keys = keylog(&format!(
        "{}{}",
        line(
            "CLIENT_HANDSHAKE_TRAFFIC_SECRET",
            &R8448_RANDOM,
            &hex(R8448_C_HS)
        ),
        line("CLIENT_TRAFFIC_SECRET_0", &R8448_RANDOM, &hex(R8448_C_AP))
    ));
    let chunks = rfc8448_connection(true);
    let total: usize = chunks
        .iter()
        .filter(|c| c.0 == Dir::Client)
        .map(|c| c.1.len())
        .sum();
    for cut in 0..=total {
        let mut st = TlsStats::default();
        let (plain, _) = run(&recut(&chunks, &[cut]), &keys, &mut st);
        assert_eq!(plain, r8448_payload(), "cut at {cut}");
    }
}

// ------------------------------------------------------- TLS 1.3 sessions

pub(crate) struct Session13 {
    pub(crate) chunks: Vec<(Dir, Vec<u8>)>,
    pub(crate) keylog: String,
    pub(crate) plain: Vec<u8>,
}

#[derive(Clone, Copy, Default)]
pub(crate) struct Opts13 {
    pub(crate) hrr: bool,
    pub(crate) key_update: bool,
    /// 0-RTT: Some(true) accepted, Some(false) rejected.
    pub(crate) early: Option<bool>,
    pub(crate) only_app: bool,
    pub(crate) hello_padding: usize,
}

/// A TLS 1.3 connection of `suite` whose client sends `requests`.
pub(crate) fn session13(suite: u16, seed: u8, requests: &[&[u8]], o: Opts13) -> Session13 {
    let (kind, hash) = record::suite13(suite).unwrap();
    let random = [seed; 32];
    let hs_secret = vec![seed ^ 0x11; hash.len()];
    let app_secret = vec![seed ^ 0x22; hash.len()];
    let early_secret = vec![seed ^ 0x33; hash.len()];
    let mut keylog = String::new();
    if !o.only_app {
        keylog += &line("CLIENT_HANDSHAKE_TRAFFIC_SECRET", &random, &hs_secret);
        keylog += &line(
            "SERVER_HANDSHAKE_TRAFFIC_SECRET",
            &random,
            &[1; 32][..hash.len().min(32)],
        );
    }
    keylog += &line("CLIENT_TRAFFIC_SECRET_0", &random, &app_secret);
    keylog += "# a comment\r\n";
    if o.early.is_some() {
        keylog += &line("CLIENT_EARLY_TRAFFIC_SECRET", &random, &early_secret);
    }
    let ch = client_hello(&Hello {
        random,
        suites: vec![suite],
        tls13: true,
        early_data: o.early.is_some(),
        sni: Some("example.test"),
        padding: o.hello_padding,
        ..Hello::default()
    });
    let mut chunks = vec![(Dir::Client, hs_records(&ch))];
    let mut plain = Vec::new();
    if o.hrr {
        let mut hrr = server_hello(wire_hrr(), suite, true, false);
        hrr.extend(server_hello([2; 32], suite, true, false)); // second SH follows below
        let first = server_hello(wire_hrr(), suite, true, false);
        chunks.push((Dir::Server, rec(22, &first)));
        let mut c2 = rec(20, &[1]);
        c2.extend(hs_records(&ch));
        chunks.push((Dir::Client, c2));
    }
    let mut early = Keys13::from_secret(kind, hash, &early_secret).unwrap();
    if let Some(accepted) = o.early {
        let mut c = rec(20, &[1]);
        let req = b"GET /early HTTP/1.1\r\n\r\n";
        c.extend(early.seal(req, 23));
        if accepted {
            c.extend(early.seal(&hs_msg(5, &[]), 22));
            plain.extend_from_slice(req);
        }
        chunks.push((Dir::Client, c));
    }
    chunks.push((
        Dir::Server,
        rec(22, &server_hello([2; 32], suite, true, false)),
    ));
    chunks.push((Dir::Server, rec(23, &[0x42; 300])));
    let mut hs = Keys13::from_secret(kind, hash, &hs_secret).unwrap();
    let mut c = Vec::new();
    if o.early.is_none() && !o.hrr {
        c.extend(rec(20, &[1]));
    }
    c.extend(hs.seal(&hs_msg(20, &vec![0xf1; hash.len()]), 22));
    let mut app = Keys13::from_secret(kind, hash, &app_secret).unwrap();
    let mut secret = app_secret.clone();
    for (i, r) in requests.iter().enumerate() {
        // Padding on odd records.
        let mut inner = r.to_vec();
        c.extend(if i % 2 == 1 {
            inner.push(23);
            inner.extend_from_slice(&[0; 7]);
            app.seal(&inner, 0).into_iter().collect::<Vec<_>>()
        } else {
            app.seal(&inner, 23)
        });
        plain.extend_from_slice(r);
        if o.key_update {
            c.extend(app.seal(&hs_msg(24, &[0]), 22));
            secret = record::next_secret(hash, &secret);
            app = Keys13::from_secret(kind, hash, &secret).unwrap();
        }
    }
    chunks.push((Dir::Client, c));
    Session13 {
        chunks,
        keylog,
        plain,
    }
}

fn wire_hrr() -> [u8; 32] {
    super::wire::HRR_RANDOM
}

const REQS: [&[u8]; 3] = [
    b"GET /a HTTP/1.1\r\nHost: x\r\nX-MSISDN: 15551234567\r\n\r\n",
    b"POST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc",
    b"GET /c HTTP/1.1\r\n\r\n",
];

#[test]
fn tls13_every_suite() {
    for suite in [0x1301, 0x1302, 0x1303, 0x1304, 0x1305] {
        let s = session13(suite, 3, &REQS, Opts13::default());
        let mut st = TlsStats::default();
        let (plain, c) = run(&s.chunks, &keylog(&s.keylog), &mut st);
        assert_eq!(plain, s.plain, "suite {suite:04x}");
        assert_eq!(st.decrypted, 1);
        assert_eq!(c.info().unwrap().cipher_suite, suite);
    }
}

#[test]
fn tls13_hrr_key_update_only_app_and_big_hello() {
    let cases = [
        Opts13 {
            hrr: true,
            ..Opts13::default()
        },
        Opts13 {
            key_update: true,
            ..Opts13::default()
        },
        Opts13 {
            only_app: true,
            key_update: true,
            ..Opts13::default()
        },
        Opts13 {
            hello_padding: 40_000,
            ..Opts13::default()
        },
    ];
    for (i, o) in cases.into_iter().enumerate() {
        let s = session13(0x1302, 9, &REQS, o);
        let mut st = TlsStats::default();
        let (plain, _) = run(&s.chunks, &keylog(&s.keylog), &mut st);
        assert_eq!(plain, s.plain, "case {i}");
        if o.hrr {
            assert_eq!(st.hello_retry_requests, 1);
        }
        if o.key_update {
            assert_eq!(st.key_updates, 3);
        }
    }
}

#[test]
fn tls13_early_data_accepted_and_rejected() {
    for accepted in [true, false] {
        let s = session13(
            0x1301,
            5,
            &REQS,
            Opts13 {
                early: Some(accepted),
                ..Opts13::default()
            },
        );
        let mut st = TlsStats::default();
        let (plain, _) = run(&s.chunks, &keylog(&s.keylog), &mut st);
        assert_eq!(plain, s.plain, "accepted {accepted}");
        assert!(st.early_data_records >= 1);
        assert_eq!(st.early_data_rejected, u64::from(!accepted));
    }
}

#[test]
fn held_ciphertext_is_capped() {
    let big: Vec<&[u8]> = vec![&[b'x'; 16000]; 40];
    let s = session13(0x1301, 4, &big, Opts13::default());
    let mut st = TlsStats::default();
    // No keys: everything is held, then cut.
    let (plain, _) = run(&s.chunks, &KeyLog::new(), &mut st);
    assert!(plain.is_empty());
    assert_eq!(st.held_cuts, 1);
    assert_eq!(st.held_too_long, 1);
}

#[test]
fn client_gap_after_start_gives_gap() {
    let s = session13(0x1301, 6, &REQS, Opts13::default());
    let keys = keylog(&s.keylog);
    let mut st = TlsStats::default();
    let mut c = TlsConnection::new(&TlsLimits::default());
    let mut out = Vec::new();
    for (d, b) in &s.chunks {
        match d {
            Dir::Client => c.client(Timestamp(0), b, &keys, &mut st, &mut out),
            Dir::Server => c.server(Timestamp(0), b, &keys, &mut st, &mut out, &mut Vec::new()),
        }
    }
    c.client_gap(100, &mut st);
    c.client(Timestamp(0), &[23, 3, 3, 0, 40], &keys, &mut st, &mut out);
    c.end(&keys, &mut st, &mut out);
    assert_eq!(out.last(), Some(&Plain::Gap { len: 100 }));
    assert_eq!(st.decrypted, 1);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn same_plaintext_whatever_the_cuts(
        suite in prop::sample::select(vec![0x1301u16, 0x1302, 0x1303]),
        cuts in prop::collection::vec(0usize..100_000, 0..12),
        pad in 0usize..20_000,
    ) {
        let s = session13(suite, 7, &REQS, Opts13 { hello_padding: pad, key_update: true, ..Opts13::default() });
        let mut st = TlsStats::default();
        let (plain, _) = run(&recut(&s.chunks, &cuts), &keylog(&s.keylog), &mut st);
        prop_assert_eq!(plain, s.plain);
    }

    #[test]
    fn hostile_bytes_never_panic(
        bytes in prop::collection::vec(any::<u8>(), 0..600),
        server in prop::collection::vec(any::<u8>(), 0..200),
        tls_start in any::<bool>(),
    ) {
        let mut b = bytes;
        if tls_start {
            let mut h = vec![22, 3, 1, 1, 0, 1, 0, 0, 250];
            h.extend(b);
            b = h;
        }
        let keys = KeyLog::new();
        let mut st = TlsStats::default();
        let _ = run(&[(Dir::Client, b.clone()), (Dir::Server, server), (Dir::Client, b)], &keys, &mut st);
        let _ = sniff(&[]);
        prop_assert_eq!(st.connections, 1);
    }
}

// ------------------------------------------------------- TLS 1.2 sessions

#[test]
fn prf_vectors() {
    let mut out = vec![0u8; 100];
    crypto::prf12(
        Hash::Sha256,
        &hex("9b be 43 6b a9 40 f0 17 b1 76 52 84 9a 71 db 35"),
        b"test label",
        &[&hex("a0 ba 9f 93 6c da 31 18 27 a6 f7 96 ff d5 19 8c")],
        &mut out,
    );
    assert_eq!(
        out,
        hex("e3 f2 29 ba 72 7b e1 7b 8d 12 26 20 55 7c d4 53 c2 aa b2 1d 07 c3 d4 95 32 9b 52 d4 e6 1e db 5a
             6b 30 17 91 e9 0d 35 c9 c9 a4 6b 4e 14 ba f9 af 0f a0 22 f7 07 7d ef 17 ab fd 37 97 c0 56 4b ab
             4f bc 91 66 6e 9d ef 9b 97 fc e3 4f 79 67 89 ba a4 80 82 d1 22 ee 42 c5 a7 2e 5a 51 10 ff f7 01
             87 34 7b 66")
    );
    let mut out = vec![0u8; 148];
    crypto::prf12(
        Hash::Sha384,
        &hex("b8 0b 73 3d 6c ee fc dc 71 56 6e a4 8e 55 67 df"),
        b"test label",
        &[&hex("cd 66 5c f6 a8 44 7d d6 ff 8b 27 55 5e db 74 65")],
        &mut out,
    );
    assert_eq!(
        out,
        hex("7b 0c 18 e9 ce d4 10 ed 18 04 f2 cf a3 4a 33 6a 1c 14 df fb 49 00 bb 5f d7 94 21 07 e8 1c 83 cd
             e9 ca 0f aa 60 be 9f e3 4f 82 b1 23 3c 91 46 a0 e5 34 cb 40 0f ed 27 00 88 4f 9d c2 36 f8 0e dd
             8b fa 96 11 44 c9 e8 d7 92 ec a7 22 a7 b3 2f c3 d4 16 d4 73 eb c2 c5 fd 4a bf da d0 5d 91 84 25
             9b 5b f8 cd 4d 90 fa 0d 31 e2 de c4 79 e4 f1 a2 60 66 f2 ee a9 a6 92 36 a3 e5 26 55 c9 e9 ae e6
             91 c8 f3 a2 68 54 30 8d 5e aa 3b e8 5e 09 90 70 3d 73 e5 6f")
    );
}

/// Seals TLS 1.2 records the way a client would (independent of `Keys12`).
struct Sealer12 {
    bulk: Bulk12,
    mac_key: Vec<u8>,
    key: Vec<u8>,
    iv: Vec<u8>,
    etm: bool,
    seq: u64,
}

impl Sealer12 {
    fn new(suite: u16, ms: &[u8], cr: &[u8; 32], sr: &[u8; 32], etm: bool) -> Self {
        let (bulk, prf) = record::suite12(suite).unwrap();
        let (ml, kl, il) = match bulk {
            Bulk12::Salted(k) => (0, k.key_len(), 4),
            Bulk12::ChaCha => (0, 32, 12),
            Bulk12::Cbc { key_len, mac } => (mac.len(), key_len, 0),
        };
        let mut kb = vec![0u8; 2 * (ml + kl + il)];
        crypto::prf12(prf, ms, b"key expansion", &[sr, cr], &mut kb);
        Sealer12 {
            bulk,
            mac_key: kb[..ml].to_vec(),
            key: kb[2 * ml..2 * ml + kl].to_vec(),
            iv: kb[2 * ml + 2 * kl..2 * ml + 2 * kl + il].to_vec(),
            etm,
            seq: 0,
        }
    }

    fn hdr(&self, ctype: u8, len: usize) -> Vec<u8> {
        let mut a = self.seq.to_be_bytes().to_vec();
        a.extend_from_slice(&[ctype, 3, 3]);
        a.extend_from_slice(&u16::try_from(len).unwrap().to_be_bytes());
        a
    }

    fn seal(&mut self, ctype: u8, plain: &[u8]) -> Vec<u8> {
        let payload = match self.bulk {
            Bulk12::Salted(k) => {
                let aead = Aead::new(k, &self.key).unwrap();
                let explicit = (self.seq ^ 0x5555).to_be_bytes();
                let mut nonce = [0u8; 12];
                nonce[..4].copy_from_slice(&self.iv);
                nonce[4..].copy_from_slice(&explicit);
                let mut buf = plain.to_vec();
                aead.seal(nonce, &self.hdr(ctype, plain.len()), &mut buf);
                let mut p = explicit.to_vec();
                p.extend(buf);
                p
            }
            Bulk12::ChaCha => {
                let aead = Aead::new(AeadKind::ChaCha20Poly1305, &self.key).unwrap();
                let mut nonce: [u8; 12] = self.iv.clone().try_into().unwrap();
                for (n, s) in nonce[4..].iter_mut().zip(self.seq.to_be_bytes()) {
                    *n ^= s;
                }
                let mut buf = plain.to_vec();
                aead.seal(nonce, &self.hdr(ctype, plain.len()), &mut buf);
                buf
            }
            Bulk12::Cbc { mac, .. } => {
                let m = Mac::new(mac, &self.mac_key);
                let key = CbcKey::new(&self.key).unwrap();
                let iv = [self.seq as u8 ^ 0xa5; 16];
                let mut data = plain.to_vec();
                if !self.etm {
                    let hdr = self.hdr(ctype, plain.len());
                    data.extend_from_slice(m.mac(&[&hdr, plain]).as_ref());
                }
                // Padding of 1..=16 blocks' worth, varying.
                let pad = 15 - (data.len() % 16) + 16 * (self.seq as usize % 2);
                data.extend(std::iter::repeat_n(u8::try_from(pad).unwrap(), pad + 1));
                key.encrypt(&iv, &mut data);
                let mut body = iv.to_vec();
                body.extend(data);
                if self.etm {
                    let hdr = self.hdr(ctype, body.len());
                    let tag = m.mac(&[&hdr, &body]);
                    body.extend_from_slice(tag.as_ref());
                }
                body
            }
        };
        self.seq += 1;
        rec(ctype, &payload)
    }
}

struct Session12 {
    chunks: Vec<(Dir, Vec<u8>)>,
    keylog: String,
    plain: Vec<u8>,
}

fn session12(suite: u16, etm: bool, seed: u8, requests: &[&[u8]]) -> Session12 {
    let cr = [seed; 32];
    let sr = [seed ^ 0xff; 32];
    let ms = [seed ^ 0x77; 48];
    let ch = client_hello(&Hello {
        random: cr,
        suites: vec![suite],
        etm,
        sni: Some("old.example"),
        alpn: vec!["http/1.1"],
        ..Hello::default()
    });
    let mut s = Sealer12::new(suite, &ms, &cr, &sr, etm);
    let mut flight = rec(22, &hs_msg(16, &[0; 66])); // ClientKeyExchange
    flight.extend(rec(20, &[1]));
    flight.extend(s.seal(22, &hs_msg(20, &[0xf1; 12])));
    let mut app = Vec::new();
    let mut plain = Vec::new();
    for r in requests {
        app.extend(s.seal(23, r));
        plain.extend_from_slice(r);
    }
    let mut server = rec(22, &server_hello(sr, suite, false, etm));
    server.extend(rec(22, &hs_msg(11, &[0; 900])));
    server.extend(rec(22, &hs_msg(14, &[])));
    Session12 {
        chunks: vec![
            (Dir::Client, rec(22, &ch)),
            (Dir::Server, server),
            (Dir::Client, flight),
            (Dir::Server, rec(20, &[1])),
            (Dir::Client, app),
        ],
        keylog: line("CLIENT_RANDOM", &cr, &ms),
        plain,
    }
}

#[test]
fn tls12_every_bulk() {
    let cases: [(u16, bool); 13] = [
        (0xC09C, false), // RSA-AES128-CCM
        (0xC0AD, false), // ECDHE-ECDSA-AES256-CCM
        (0xC0A0, false), // RSA-AES128-CCM8
        (0xC0AF, false), // ECDHE-ECDSA-AES256-CCM8
        (0xC02F, false), // ECDHE-RSA-AES128-GCM-SHA256
        (0xC030, false), // ECDHE-RSA-AES256-GCM-SHA384
        (0x009C, false), // RSA-AES128-GCM-SHA256
        (0xCCA8, false), // ECDHE-RSA-CHACHA20-POLY1305
        (0xC013, false), // ECDHE-RSA-AES128-CBC-SHA
        (0x0035, false), // RSA-AES256-CBC-SHA
        (0xC027, true),  // ECDHE-RSA-AES128-CBC-SHA256, Encrypt-then-MAC
        (0xC028, false), // ECDHE-RSA-AES256-CBC-SHA384
        (0xC014, true),  // ECDHE-RSA-AES256-CBC-SHA, Encrypt-then-MAC
    ];
    for (suite, etm) in cases {
        let s = session12(suite, etm, 0x31, &REQS);
        let mut st = TlsStats::default();
        let (plain, c) = run(&s.chunks, &keylog(&s.keylog), &mut st);
        assert_eq!(plain, s.plain, "suite {suite:04x} etm {etm}");
        assert_eq!(st.decrypted, 1);
        assert_eq!(st.records_decrypted, 4);
        let info = c.info().unwrap();
        assert_eq!((info.version, info.cipher_suite), (0x0303, suite));
        // Split at every byte of the client stream.
        for cut in (0..400).step_by(7) {
            let mut st = TlsStats::default();
            let (plain, _) = run(
                &recut(&s.chunks, &[cut, cut + 3]),
                &keylog(&s.keylog),
                &mut st,
            );
            assert_eq!(plain, s.plain, "suite {suite:04x} cut {cut}");
        }
    }
}

#[test]
fn tls12_etm_mismatch_and_wrong_key_fail() {
    // The server did not echo Encrypt-then-MAC: records were MAC-then-encrypt.
    let mut s = session12(0xC013, true, 0x41, &REQS);
    let keys = keylog(&line("CLIENT_RANDOM", &[0x41; 32], &[0; 48]));
    let mut st = TlsStats::default();
    let (plain, _) = run(&s.chunks, &keys, &mut st);
    assert!(plain.is_empty());
    assert_eq!(st.auth_failures, 1);
    assert_eq!(st.records_auth_failed, 4);
    // Unsupported version.
    s.chunks[1].1 = rec(22, &{
        let mut m = server_hello([1; 32], 0xC013, false, false);
        m[4..6].copy_from_slice(&[3, 1]);
        m
    });
    let mut st = TlsStats::default();
    let _ = run(&s.chunks, &keylog(&s.keylog), &mut st);
    assert_eq!(st.not_decrypted_unsupported, 1);
}

/// A TLS 1.2 session resumed (the ServerHello echoes the client's session
/// ID) whose own `CLIENT_RANDOM` line is missing: its master secret, logged
/// for the connection that began the session, is found by trial on the
/// client's Finished, most recent secrets first, at most
/// `MAX_RESUME_CANDIDATES` of them.
#[test]
fn tls12_resumed_session_found_by_trial() {
    use super::conn::MAX_RESUME_CANDIDATES;
    for (suite, etm) in [
        (0xC02F, false),
        (0xCCA8, false),
        (0xC013, false),
        (0xC027, true),
    ] {
        let s = session12(suite, etm, 0x51, &REQS);
        let mut text = line("CLIENT_RANDOM", &[0x01; 32], &[0x51 ^ 0x77; 48]);
        for i in 0..10u8 {
            text += &line("CLIENT_RANDOM", &[0x80 + i; 32], &[i; 48]);
        }
        let mut st = TlsStats::default();
        let (plain, _) = run(&s.chunks, &keylog(&text), &mut st);
        assert_eq!(plain, s.plain, "suite {suite:04x}");
        assert_eq!(
            (st.decrypted, st.resumptions_found, st.resumption_trials),
            (1, 1, 11),
            "suite {suite:04x}"
        );
    }
    let s = session12(0xC02F, false, 0x51, &REQS);
    let mut text = line("CLIENT_RANDOM", &[0x01; 32], &[0x51 ^ 0x77; 48]);
    // A full handshake (the server gave another session ID): nothing tried.
    let mut full = s.chunks.clone();
    full[1].1[5 + 39] ^= 1;
    let mut st = TlsStats::default();
    let (plain, _) = run(&full, &keylog(&text), &mut st);
    assert!(plain.is_empty());
    assert_eq!((st.not_decrypted_no_key, st.resumption_trials), (1, 0));
    // More secrets logged after the session's own than are tried: the
    // search stops, counted, and the connection has no key.
    for i in 0..MAX_RESUME_CANDIDATES {
        let mut random = [0x33; 32];
        random[..8].copy_from_slice(&(i as u64).to_be_bytes());
        text += &line("CLIENT_RANDOM", &random, &[0xee; 48]);
    }
    let mut st = TlsStats::default();
    let (plain, _) = run(&s.chunks, &keylog(&text), &mut st);
    assert!(plain.is_empty());
    assert_eq!(
        (
            st.not_decrypted_no_key,
            st.resumption_trials,
            st.resumption_trials_cut
        ),
        (1, MAX_RESUME_CANDIDATES as u64, 1)
    );
}

/// With a key log that can grow no more (`KeyLog::set_complete`), a
/// connection whose key is missing holds nothing once its ServerHello is
/// known, and counts as having no key; one that can still grow holds.
#[test]
fn nothing_is_held_when_no_key_can_come() {
    let s = session12(0xC02F, false, 0x61, &REQS);
    for complete in [false, true] {
        let mut keys = keylog(&line("CLIENT_RANDOM", &[0x02; 32], &[0x11; 48]));
        keys.set_complete(complete);
        let mut c = TlsConnection::new(&TlsLimits::default());
        let (mut st, mut out) = (TlsStats::default(), Vec::new());
        for (i, (d, b)) in s.chunks.iter().enumerate() {
            let ts = crate::time::Timestamp(i as i64);
            match d {
                Dir::Client => c.client(ts, b, &keys, &mut st, &mut out),
                Dir::Server => c.server(ts, b, &keys, &mut st, &mut out, &mut Vec::new()),
            }
        }
        assert_eq!(c.held_bytes() == 0, complete, "complete {complete}");
        assert_eq!(c.waiting_for_keys(&keys), !complete);
        c.end(&keys, &mut st, &mut out);
        assert!(out.is_empty());
        assert_eq!(st.not_decrypted_no_key, 1, "complete {complete}");
    }
}

// -------------------------------------------------------------- key logs

#[test]
fn keylog_lines() {
    let r = hexs(&[0xab; 32]);
    let text = format!(
        "# comment\r\n\r\nCLIENT_RANDOM {r} {}\r\nCLIENT_RANDOM {r} {}\nCLIENT_TRAFFIC_SECRET_0 {r} {}\n\
         EXPORTER_SECRET {r} {}\nFOO_BAR {r} 00\nCLIENT_RANDOM zz 00\nCLIENT_RANDOM {r}\n  SERVER_TRAFFIC_SECRET_0 {r} {}\n\
         RSA 0102030405060708 {}\nRSA 01 {}",
        hexs(&[1; 48]),
        hexs(&[2; 48]),
        hexs(&[3; 32]),
        hexs(&[4; 32]),
        hexs(&[5; 48]),
        hexs(&[6; 48]),
        hexs(&[6; 48]),
    );
    let mut k = KeyLog::new();
    let mut st = KeyLogStats::default();
    k.add_text(text.as_bytes(), &mut st);
    assert_eq!(st.keylog_lines, 10);
    assert_eq!(st.keylog_secrets, 3);
    assert_eq!(st.keylog_duplicates, 1);
    // EXPORTER_SECRET, FOO_BAR and OpenSSL's RSA premaster line.
    assert_eq!(st.keylog_unknown_labels, 3);
    assert_eq!(st.keylog_malformed, 3);
    assert_eq!(k.generation(), 3);
    let s = k.get(&[0xab; 32]).unwrap();
    assert_eq!(s.master.unwrap().as_bytes(), &[1; 48]);
    let dbg = format!("{k:?} {:?}", s.master);
    assert!(!dbg.contains("0101"), "{dbg}");
    assert!(!dbg.contains(&hexs(&[3; 32])));
}

#[test]
fn keylog_dsb() {
    let r = hexs(&[0xcd; 32]);
    let text = format!(
        "CLIENT_RANDOM {r} {}\nCLIENT_TRAFFIC_SECRET_0 {r} {}\n",
        hexs(&[1; 48]),
        hexs(&[3; 32])
    );
    let mut k = KeyLog::new();
    let mut st = KeyLogStats::default();
    let mut data = text.clone().into_bytes();
    data.extend_from_slice(&[0, 0, 0]);
    k.add_dsb(DSB_TLS_KEY_LOG, &data, &mut st);
    k.add_dsb(0x5353_4844, b"whatever", &mut st);
    assert_eq!(
        (st.dsb_blocks, st.dsb_unsupported, st.dsb_secrets),
        (2, 1, 2)
    );
}

#[test]
fn sniffing() {
    let ch = rec(22, &client_hello(&Hello::default()));
    assert_eq!(sniff(&ch), Sniff::Tls);
    for n in 0..6 {
        assert_eq!(sniff(&ch[..n]), Sniff::NeedMore, "{n}");
    }
    assert_eq!(sniff(b"GET / HTTP/1.1"), Sniff::NotTls);
    assert_eq!(sniff(&[22, 3, 1, 0x80, 0, 1]), Sniff::NotTls);
    assert_eq!(sniff(&[22, 3, 0, 0, 10, 1]), Sniff::Tls);
    assert_eq!(sniff(&[22, 3, 3, 0, 10, 2]), Sniff::NotTls);
    assert_eq!(sniff(&[23, 3, 3, 0, 10]), Sniff::NotTls);
}

type Chunks = Vec<(Dir, Vec<u8>)>;

/// A rustls connection (ALPN h2) whose server sends two writes with a
/// KeyUpdate between them (TLS 1.3): its chunks, its key log, and what the
/// server wrote.
fn server_writes(suite: fixturegen::tls::session::Suite) -> (Chunks, String, Vec<u8>) {
    use fixturegen::tls::session::{Endpoints, Options, Version};
    let mut o = Options::new(7, suite, "push.test", 1_700_000_000);
    o.alpn = b"h2";
    let ep = Endpoints::new(o);
    let mut s = ep.connect();
    let mut flights = s.handshake();
    flights.extend(s.client_send(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"));
    let first: Vec<u8> = (0..3000u32).map(|i| (i % 251) as u8).collect();
    let second = vec![0x5a; 40_000];
    flights.extend(s.server_send_pieces(&first, &[1000, 700]));
    if suite.version() == Version::Tls13 {
        flights.extend(s.server_key_update());
    }
    flights.extend(s.server_send(&second));
    flights.extend(s.close());
    let chunks = flights
        .into_iter()
        .map(|f| {
            let d = if f.from_client {
                Dir::Client
            } else {
                Dir::Server
            };
            (d, f.bytes)
        })
        .collect();
    (chunks, ep.take_keys(), [first, second].concat())
}

/// Feeds chunks with the server's plaintext wanted; returns it.
fn run_server(chunks: &[(Dir, Vec<u8>)], keys: &KeyLog, stats: &mut TlsStats) -> Vec<u8> {
    let mut c = TlsConnection::new(&TlsLimits::default());
    let (mut out, mut server) = (Vec::new(), Vec::new());
    for (i, (d, b)) in chunks.iter().enumerate() {
        let ts = crate::time::Timestamp(i64::try_from(i).unwrap());
        match d {
            Dir::Client => {
                c.client(ts, b, keys, stats, &mut out);
                c.want_server(c.offered_alpn(b"h2"));
            }
            Dir::Server => c.server(ts, b, keys, stats, &mut out, &mut server),
        }
    }
    c.end(keys, stats, &mut out);
    flatten(&server)
}

/// Every server byte after the ServerHello comes out, in order, whatever the
/// segment boundaries: TLS 1.3 with the server's handshake secret, and
/// without it (the `_0` secret found by trial, the handshake records
/// skipped), the server's KeyUpdate followed; TLS 1.2 with the key block's
/// server half. Without the server's secrets nothing comes out and that is
/// counted; not wanted, nothing is decrypted.
#[test]
fn server_records_are_decrypted_while_wanted() {
    use fixturegen::tls::session::Suite;
    for suite in [
        Suite::Tls13Aes128Gcm,
        Suite::Tls13Chacha20,
        Suite::Tls12Aes128Gcm,
        Suite::Tls12Chacha20,
    ] {
        let (chunks, keys, sent) = server_writes(suite);
        for size in [usize::MAX, 1, 7, 1000] {
            // Each flight in pieces of `size` bytes.
            let chunks: Vec<(Dir, Vec<u8>)> = chunks
                .iter()
                .flat_map(|(d, b)| b.chunks(size.min(b.len()).max(1)).map(|p| (*d, p.to_vec())))
                .collect();
            let mut st = TlsStats::default();
            let got = run_server(&chunks, &keylog(&keys), &mut st);
            assert!(
                got == sent,
                "{suite:?} in pieces of {size}: {} bytes of {}",
                got.len(),
                sent.len()
            );
            assert_eq!(st.server_bytes_decrypted, sent.len() as u64);
            assert_eq!(st.server_stopped_no_key + st.server_stopped_auth_failed, 0);
        }
        let mut st = TlsStats::default();
        run_server(&chunks, &keylog(&keys), &mut st);
        if suite.version() == fixturegen::tls::session::Version::Tls13 {
            assert_eq!(st.server_key_updates, 1, "{suite:?}");
            let no_hs: String = keys
                .lines()
                .filter(|l| !l.starts_with("SERVER_HANDSHAKE"))
                .map(|l| format!("{l}\n"))
                .collect();
            let mut st = TlsStats::default();
            assert!(
                run_server(&chunks, &keylog(&no_hs), &mut st) == sent,
                "{suite:?}"
            );
            let client_only: String = keys
                .lines()
                .filter(|l| !l.starts_with("SERVER_"))
                .map(|l| format!("{l}\n"))
                .collect();
            let mut st = TlsStats::default();
            assert!(run_server(&chunks, &keylog(&client_only), &mut st).is_empty());
            assert_eq!(st.server_stopped_no_key, 1, "{suite:?}");
            assert_eq!(st.decrypted, 1, "the client's side goes on");
        }
        // Not wanted: the server is read up to its ServerHello only.
        let mut st = TlsStats::default();
        let (_, c) = run(&chunks, &keylog(&keys), &mut st);
        assert!(!c.wants_server());
        assert_eq!(st.server_records_decrypted, 0, "{suite:?}");
    }
}

/// A partial server record counts as held (the caps see it), and a cut
/// frees it and stops reading the server.
#[test]
fn partial_server_record_is_held_and_cut() {
    let keys = KeyLog::new();
    let mut st = TlsStats::default();
    let mut c = TlsConnection::new(&TlsLimits::default());
    let (mut out, mut server) = (Vec::new(), Vec::new());
    let ch = client_hello(&Hello {
        random: [9; 32],
        suites: vec![0x1301],
        tls13: true,
        ..Hello::default()
    });
    c.client(
        crate::time::Timestamp(0),
        &hs_records(&ch),
        &keys,
        &mut st,
        &mut out,
    );
    let before = c.held_bytes();
    let big = rec(22, &vec![0; 10_000]);
    c.server(
        crate::time::Timestamp(1),
        &big[..1_005],
        &keys,
        &mut st,
        &mut out,
        &mut server,
    );
    assert_eq!(c.held_bytes(), before + 1_005);
    c.drop_held(&mut st, &mut out);
    assert_eq!(c.held_bytes(), 0);
    assert!(!c.wants_server());
    assert_eq!(st.held_cuts, 1);
}
