//! TLS decryption throughput (divan): one TLS 1.3 connection whose client
//! sends 16 MiB of application data in full records, through
//! `TlsConnection` (framing, AEAD, output), per suite. Records are sealed
//! here with ring, the crate `tls::crypto` opens them with.
//! Run: `cargo bench --bench tls`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]
use divan::counter::BytesCount;
use phoneleak::time::Timestamp;
use phoneleak::tls::{KeyLog, KeyLogStats, Plain, TlsConnection, TlsLimits, TlsStats};
use ring::{aead, hmac};

fn main() {
    divan::main();
}

const TOTAL: usize = 16 << 20;
const RECORD: usize = 16384;

fn expand_label(alg: hmac::Algorithm, secret: &[u8], label: &[u8], len: usize) -> Vec<u8> {
    let mut info = (len as u16).to_be_bytes().to_vec();
    info.push(6 + label.len() as u8);
    info.extend_from_slice(b"tls13 ");
    info.extend_from_slice(label);
    info.push(0);
    info.push(1);
    let key = hmac::Key::new(alg, secret);
    hmac::sign(&key, &info).as_ref()[..len].to_vec()
}

fn hs(t: u8, body: &[u8]) -> Vec<u8> {
    let mut m = vec![t, 0];
    m.extend_from_slice(&(body.len() as u16).to_be_bytes());
    m.extend_from_slice(body);
    m
}

fn rec(t: u8, p: &[u8]) -> Vec<u8> {
    let mut r = vec![t, 3, 3];
    r.extend_from_slice(&(p.len() as u16).to_be_bytes());
    r.extend_from_slice(p);
    r
}

fn hello(t: u8, random: [u8; 32], suite: u16, versions: &[u8]) -> Vec<u8> {
    let mut b = vec![3, 3];
    b.extend_from_slice(&random);
    b.push(0);
    if t == 1 {
        b.extend_from_slice(&[0, 2]);
    }
    b.extend_from_slice(&suite.to_be_bytes());
    if t == 1 {
        b.extend_from_slice(&[1, 0]);
    } else {
        b.push(0);
    }
    let mut ext = vec![0, 43];
    ext.extend_from_slice(&(versions.len() as u16).to_be_bytes());
    ext.extend_from_slice(versions);
    b.extend_from_slice(&(ext.len() as u16).to_be_bytes());
    b.extend(ext);
    rec(22, &hs(t, &b))
}

struct Session {
    client_hello: Vec<u8>,
    server_hello: Vec<u8>,
    client: Vec<u8>,
    keys: KeyLog,
}

fn session(suite: u16) -> Session {
    let (alg, hm, hlen) = match suite {
        0x1301 => (&aead::AES_128_GCM, hmac::HMAC_SHA256, 32),
        0x1302 => (&aead::AES_256_GCM, hmac::HMAC_SHA384, 48),
        _ => (&aead::CHACHA20_POLY1305, hmac::HMAC_SHA256, 32),
    };
    let random = [0x42; 32];
    let secret = vec![0x24; hlen];
    let key = expand_label(hm, &secret, b"key", alg.key_len());
    let iv = expand_label(hm, &secret, b"iv", 12);
    let key = aead::LessSafeKey::new(aead::UnboundKey::new(alg, &key).unwrap());
    let mut client = Vec::with_capacity(TOTAL + TOTAL / 256);
    let body = vec![b'a'; RECORD - 1];
    for seq in 0..(TOTAL / RECORD) as u64 {
        let mut nonce: [u8; 12] = iv.clone().try_into().unwrap();
        for (n, s) in nonce[4..].iter_mut().zip(seq.to_be_bytes()) {
            *n ^= s;
        }
        let mut buf = body.clone();
        buf.push(23);
        let len = (buf.len() + 16) as u16;
        let header = [23, 3, 3, (len >> 8) as u8, len as u8];
        key.seal_in_place_append_tag(
            aead::Nonce::assume_unique_for_key(nonce),
            aead::Aad::from(header),
            &mut buf,
        )
        .unwrap();
        client.extend_from_slice(&header);
        client.extend(buf);
    }
    let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
    let mut keys = KeyLog::new();
    keys.add_text(
        format!(
            "CLIENT_TRAFFIC_SECRET_0 {} {}\n",
            hex(&random),
            hex(&secret)
        )
        .as_bytes(),
        &mut KeyLogStats::default(),
    );
    Session {
        client_hello: hello(1, random, suite, &[2, 3, 4]),
        server_hello: hello(2, [1; 32], suite, &[3, 4]),
        client,
        keys,
    }
}

/// The client stream in 1448-byte chunks (TCP segments), as the flow stage gives it.
#[divan::bench(args = [0x1301, 0x1302, 0x1303], sample_count = 10)]
fn connection(bencher: divan::Bencher, suite: u16) {
    let s = session(suite);
    bencher
        .counter(BytesCount::new(s.client.len()))
        .bench_local(|| {
            let mut c = TlsConnection::new(&TlsLimits::default());
            let mut st = TlsStats::default();
            let mut out: Vec<Plain> = Vec::new();
            let ts = Timestamp(0);
            c.client(ts, &s.client_hello, &s.keys, &mut st, &mut out);
            c.server(
                ts,
                &s.server_hello,
                &s.keys,
                &mut st,
                &mut out,
                &mut Vec::new(),
            );
            let mut n = 0usize;
            for seg in s.client.chunks(1448) {
                c.client(ts, seg, &s.keys, &mut st, &mut out);
                for p in out.drain(..) {
                    if let Plain::Data { bytes, .. } = p {
                        n += bytes.len();
                    }
                }
            }
            c.end(&s.keys, &mut st, &mut out);
            assert_eq!(n, TOTAL / RECORD * (RECORD - 1));
            n
        });
}
