//! The hand-written hello extractor (`wire.rs`) checked against a
//! well-kept TLS parser, tls-parser (Rusticata's, used by Suricata's
//! Rust side): every ClientHello and ServerHello of real handshakes made by
//! rustls in the generator (each suite, ALPN `http/1.1` and `h2`,
//! HelloRetryRequest, resumption by session ID and by ticket, 0-RTT offers)
//! gives the same fields from both.

use fixturegen::tls::session::{Endpoints, Group, Options, Resumption, Suite};
use tls_parser::{
    TlsExtension, TlsMessage, TlsMessageHandshake, parse_tls_client_hello_extensions,
    parse_tls_message_handshake, parse_tls_server_hello_extensions,
};

use super::wire::{self, parse_client_hello, parse_server_hello};

/// The plaintext handshake messages of one direction's bytes: handshake
/// records up to the first encrypted one (after a ChangeCipherSpec, only the
/// hellos that follow a HelloRetryRequest are plaintext).
fn plaintext_messages(stream: &[u8]) -> Vec<Vec<u8>> {
    let mut hs = Vec::new();
    let mut rest = stream;
    let mut after_ccs = false;
    while rest.len() >= 5 {
        let len = usize::from(u16::from_be_bytes([rest[3], rest[4]]));
        let (rec, tail) = rest.split_at(5 + len);
        rest = tail;
        match rec[0] {
            wire::CHANGE_CIPHER_SPEC => after_ccs = true,
            wire::HANDSHAKE
                if !after_ccs
                    || [wire::HS_CLIENT_HELLO, wire::HS_SERVER_HELLO].contains(&rec[5]) =>
            {
                hs.extend_from_slice(&rec[5..]);
            }
            _ => break,
        }
    }
    let mut msgs = Vec::new();
    let mut m = &hs[..];
    while m.len() >= 4 {
        let len = usize::from(m[1]) << 16 | usize::from(m[2]) << 8 | usize::from(m[3]);
        if m.len() < 4 + len {
            break;
        }
        let (msg, tail) = m.split_at(4 + len);
        msgs.push(msg.to_vec());
        m = tail;
    }
    msgs
}

fn sni_and_alpn(exts: &[TlsExtension]) -> (Option<String>, Vec<String>) {
    let mut sni = None;
    let mut alpn = Vec::new();
    for e in exts {
        match e {
            TlsExtension::SNI(names) => {
                sni = names
                    .iter()
                    .find(|(t, _)| t.0 == 0)
                    .map(|(_, n)| String::from_utf8_lossy(n).into_owned());
            }
            TlsExtension::ALPN(list) => {
                alpn = list
                    .iter()
                    .map(|p| String::from_utf8_lossy(p).into_owned())
                    .collect();
            }
            _ => {}
        }
    }
    (sni, alpn)
}

/// Compares one handshake message; returns its type when it was a hello.
fn check(msg: &[u8]) -> Option<u8> {
    let ours_body = &msg[4..];
    let (_, theirs) = parse_tls_message_handshake(msg).expect("tls-parser reads the message");
    let TlsMessage::Handshake(theirs) = theirs else {
        panic!("not a handshake message");
    };
    match theirs {
        TlsMessageHandshake::ClientHello(ch) => {
            let ours = parse_client_hello(ours_body).expect("our extractor reads the ClientHello");
            let exts = parse_tls_client_hello_extensions(ch.ext.unwrap_or(&[]))
                .expect("tls-parser reads the extensions")
                .1;
            assert_eq!(ours.random.as_slice(), ch.random);
            assert_eq!(ours.legacy_version, ch.version.0);
            assert_eq!(ours.session_id.as_slice(), ch.session_id.unwrap_or(&[]));
            let suites: Vec<u16> = ch.ciphers.iter().map(|c| c.0).collect();
            assert_eq!(ours.cipher_suites, suites);
            let (sni, alpn) = sni_and_alpn(&exts);
            assert_eq!(ours.sni, sni);
            assert_eq!(ours.alpn, alpn);
            let versions: Vec<u16> = exts
                .iter()
                .find_map(|e| match e {
                    TlsExtension::SupportedVersions(v) => Some(v.iter().map(|v| v.0).collect()),
                    _ => None,
                })
                .unwrap_or_default();
            assert_eq!(ours.supported_versions, versions);
            let has = |f: &dyn Fn(&TlsExtension) -> bool| exts.iter().any(f);
            assert_eq!(
                ours.early_data,
                has(&|e| matches!(e, TlsExtension::EarlyData(_)))
            );
            assert_eq!(
                ours.encrypt_then_mac,
                has(&|e| matches!(e, TlsExtension::EncryptThenMac))
            );
            assert_eq!(
                ours.pre_shared_key,
                has(&|e| matches!(e, TlsExtension::PreSharedKey(_)))
            );
            let ticket = exts.iter().find_map(|e| match e {
                TlsExtension::SessionTicket(t) => Some(t.len()),
                _ => None,
            });
            assert_eq!(ours.session_ticket, ticket);
            Some(wire::HS_CLIENT_HELLO)
        }
        TlsMessageHandshake::ServerHello(sh) => {
            let ours = parse_server_hello(ours_body).expect("our extractor reads the ServerHello");
            let exts = parse_tls_server_hello_extensions(sh.ext.unwrap_or(&[]))
                .expect("tls-parser reads the extensions")
                .1;
            assert_eq!(ours.random.as_slice(), sh.random);
            assert_eq!(ours.session_id.as_slice(), sh.session_id.unwrap_or(&[]));
            assert_eq!(ours.cipher_suite, sh.cipher.0);
            let selected = exts.iter().find_map(|e| match e {
                TlsExtension::SupportedVersions(v) => v.first().map(|v| v.0),
                _ => None,
            });
            assert_eq!(ours.version, selected.unwrap_or(sh.version.0));
            let (_, alpn) = sni_and_alpn(&exts);
            assert_eq!(ours.alpn, alpn.into_iter().next());
            assert_eq!(
                ours.encrypt_then_mac,
                exts.iter()
                    .any(|e| matches!(e, TlsExtension::EncryptThenMac))
            );
            // RFC 8446 4.1.3: a HelloRetryRequest is a ServerHello with this random.
            const HRR: [u8; 8] = [0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11];
            assert_eq!(ours.is_hrr, sh.random.starts_with(&HRR));
            Some(wire::HS_SERVER_HELLO)
        }
        _ => None,
    }
}

#[test]
fn hellos_agree_with_tls_parser() {
    const SUITES: [Suite; 6] = [
        Suite::Tls13Aes128Gcm,
        Suite::Tls13Aes256Gcm,
        Suite::Tls13Chacha20,
        Suite::Tls12Aes128Gcm,
        Suite::Tls12Aes256Gcm,
        Suite::Tls12Chacha20,
    ];
    let mut setups = Vec::new();
    for (i, suite) in SUITES.into_iter().enumerate() {
        for (j, alpn) in [&b"http/1.1"[..], b"h2"].into_iter().enumerate() {
            for resumption in [Resumption::Stateful, Resumption::Tickets] {
                let mut o = Options::new(
                    7000 + 10 * i as u64 + j as u64,
                    suite,
                    "cross.example",
                    1_700_000_000,
                );
                o.alpn = alpn;
                o.resumption = resumption;
                setups.push(o);
            }
        }
        // HelloRetryRequest: the client's first key share is not the server's group.
        let mut o = Options::new(7500 + i as u64, suite, "hrr.example", 1_700_000_000);
        o.client_groups = vec![Group::X25519, Group::P256];
        o.server_groups = vec![Group::P256];
        setups.push(o);
    }
    let mut o = Options::new(7600, Suite::Tls13Aes128Gcm, "early.example", 1_700_000_000);
    o.early_data = Some(16_384);
    setups.push(o);
    let (mut clients, mut servers) = (0, 0);
    for o in setups {
        let early = o.early_data.is_some();
        let ep = Endpoints::new(o);
        // A first connection, then one that resumes its session.
        for _ in 0..2 {
            let mut s = ep.connect();
            if early {
                let _ = s.early(b"GET / HTTP/1.1\r\n\r\n");
            }
            let flights = s.handshake();
            let client: Vec<u8> = flights
                .iter()
                .filter(|f| f.from_client)
                .flat_map(|f| f.bytes.clone())
                .collect();
            let server: Vec<u8> = flights
                .iter()
                .filter(|f| !f.from_client)
                .flat_map(|f| f.bytes.clone())
                .collect();
            for m in plaintext_messages(&client) {
                clients += usize::from(check(&m) == Some(wire::HS_CLIENT_HELLO));
            }
            for m in plaintext_messages(&server) {
                servers += usize::from(check(&m) == Some(wire::HS_SERVER_HELLO));
            }
        }
    }
    // Every connection's hellos were compared; a HelloRetryRequest (three
    // TLS 1.3 setups, first connections) adds a second of each.
    assert_eq!((clients, servers), (2 * 31 + 3, 2 * 31 + 3));
}
