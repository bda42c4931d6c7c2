//! A hand-made TLS 1.2 writer for the CBC suites rustls does not implement
//! (AES-CBC with HMAC-SHA1, -SHA256, -SHA384, and Encrypt-then-MAC, RFC
//! 7366). The handshake messages are real in form (ECDHE over X25519, the
//! Ed25519 certificate and a genuine signature over the key-exchange
//! parameters), but the master secret is chosen from the seed rather than
//! derived from the key exchange; the Finished messages, key block, MACs,
//! padding and CBC encryption follow RFC 5246 from it, and the key log says
//! it as a CLIENT_RANDOM line.

use aes::cipher::{BlockCipherEncrypt, KeyInit};
use hmac::{Hmac, Mac};
use rustls::SignatureScheme;
use rustls::pki_types::PrivatePkcs8KeyDer;
use sha1::Sha1;
use sha2::{Digest, Sha256, Sha384};

use super::super::http::html;
use super::super::scenarios::{T0, eth_pcap, fixture};
use super::super::tcp::{Conversation, Trace};
use super::cases::{clean, leaking};
use super::session::Flight;
use super::session::{SeededRng, hex, server_cert, server_key_pkcs8};
use super::{TlsFixture, deliver};

/// The CBC fixtures.
pub fn all() -> Vec<TlsFixture> {
    vec![
        cbc_fixture("tls12-cbc-sha1.pcap", CbcSuite::Aes128Sha, false, 1220),
        cbc_fixture("tls12-cbc-sha256.pcap", CbcSuite::Aes128Sha256, false, 1221),
        cbc_fixture("tls12-cbc-sha384.pcap", CbcSuite::Aes256Sha384, false, 1222),
        cbc_fixture("tls12-cbc-etm.pcap", CbcSuite::Aes256Sha, true, 1223),
    ]
}

/// A TLS 1.2 ECDHE_ECDSA suite with AES-CBC.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CbcSuite {
    /// TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA (0xC009).
    Aes128Sha,
    /// TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA (0xC00A).
    Aes256Sha,
    /// TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256 (0xC023).
    Aes128Sha256,
    /// TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384 (0xC024).
    Aes256Sha384,
}

#[derive(Clone, Copy)]
enum H {
    Sha1,
    Sha256,
    Sha384,
}

fn hmac(h: H, key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
    macro_rules! run {
        ($t:ty) => {{
            let mut m = <Hmac<$t> as KeyInit>::new_from_slice(key).unwrap();
            for p in parts {
                m.update(p);
            }
            m.finalize().into_bytes().to_vec()
        }};
    }
    match h {
        H::Sha1 => run!(Sha1),
        H::Sha256 => run!(Sha256),
        H::Sha384 => run!(Sha384),
    }
}

fn hash(h: H, data: &[u8]) -> Vec<u8> {
    match h {
        H::Sha1 => unreachable!("no SHA-1 PRF in TLS 1.2"),
        H::Sha256 => Sha256::digest(data).to_vec(),
        H::Sha384 => Sha384::digest(data).to_vec(),
    }
}

/// The TLS 1.2 PRF (P_hash).
fn prf(h: H, secret: &[u8], label: &[u8], seed: &[u8], n: usize) -> Vec<u8> {
    let mut ls = label.to_vec();
    ls.extend_from_slice(seed);
    let mut a = hmac(h, secret, &[&ls]);
    let mut out = Vec::new();
    while out.len() < n {
        out.extend(hmac(h, secret, &[&a, &ls]));
        a = hmac(h, secret, &[&a]);
    }
    out.truncate(n);
    out
}

impl CbcSuite {
    fn id(self) -> u16 {
        match self {
            CbcSuite::Aes128Sha => 0xc009,
            CbcSuite::Aes256Sha => 0xc00a,
            CbcSuite::Aes128Sha256 => 0xc023,
            CbcSuite::Aes256Sha384 => 0xc024,
        }
    }
    fn mac(self) -> H {
        match self {
            CbcSuite::Aes128Sha | CbcSuite::Aes256Sha => H::Sha1,
            CbcSuite::Aes128Sha256 => H::Sha256,
            CbcSuite::Aes256Sha384 => H::Sha384,
        }
    }
    fn mac_len(self) -> usize {
        match self.mac() {
            H::Sha1 => 20,
            H::Sha256 => 32,
            H::Sha384 => 48,
        }
    }
    fn key_len(self) -> usize {
        match self {
            CbcSuite::Aes128Sha | CbcSuite::Aes128Sha256 => 16,
            _ => 32,
        }
    }
    fn prf(self) -> H {
        if self == CbcSuite::Aes256Sha384 {
            H::Sha384
        } else {
            H::Sha256
        }
    }
}

fn cbc_encrypt(key: &[u8], iv: &[u8], data: &[u8]) -> Vec<u8> {
    assert_eq!(data.len() % 16, 0);
    let mut prev: [u8; 16] = iv.try_into().unwrap();
    let mut out = Vec::with_capacity(data.len());
    macro_rules! run {
        ($t:ty) => {{
            let c = <$t>::new_from_slice(key).unwrap();
            for chunk in data.chunks(16) {
                let mut b = aes::Block::default();
                for i in 0..16 {
                    b[i] = chunk[i] ^ prev[i];
                }
                c.encrypt_block(&mut b);
                prev.copy_from_slice(&b);
                out.extend_from_slice(&b);
            }
        }};
    }
    match key.len() {
        16 => run!(aes::Aes128),
        _ => run!(aes::Aes256),
    }
    out
}

/// One direction's write state after ChangeCipherSpec.
struct Writer {
    suite: CbcSuite,
    etm: bool,
    mac_key: Vec<u8>,
    key: Vec<u8>,
    seq: u64,
}

impl Writer {
    /// One protected record of `ctype` carrying `content`, with `extra`
    /// more blocks of padding than needed.
    fn record(&mut self, rng: &SeededRng, ctype: u8, content: &[u8], extra: usize) -> Vec<u8> {
        let iv = rng.bytes(16);
        let hdr = |len: usize| {
            let mut h = vec![ctype, 3, 3];
            h.extend_from_slice(&(len as u16).to_be_bytes());
            h
        };
        let seq = self.seq.to_be_bytes();
        self.seq += 1;
        let pad = |len: usize| {
            let n = 16 - (len + 1) % 16;
            let n = if n == 16 { 0 } else { n } + 16 * extra;
            assert!(n < 256);
            vec![n as u8; n + 1]
        };
        let body = if self.etm {
            let mut p = content.to_vec();
            p.extend(pad(p.len()));
            let ct = cbc_encrypt(&self.key, &iv, &p);
            let mut b = iv.clone();
            b.extend(ct);
            let mac = hmac(
                self.suite.mac(),
                &self.mac_key,
                &[&seq, &hdr(b.len())[..], &b],
            );
            b.extend(mac);
            b
        } else {
            let mac = hmac(
                self.suite.mac(),
                &self.mac_key,
                &[&seq, &hdr(content.len())[..], content],
            );
            let mut p = content.to_vec();
            p.extend(mac);
            p.extend(pad(p.len()));
            let mut b = iv.clone();
            b.extend(cbc_encrypt(&self.key, &iv, &p));
            b
        };
        let mut r = hdr(body.len());
        r.extend(body);
        r
    }
}

fn u24(n: usize) -> [u8; 3] {
    [(n >> 16) as u8, (n >> 8) as u8, n as u8]
}

fn hs(msg_type: u8, body: &[u8]) -> Vec<u8> {
    let mut m = vec![msg_type];
    m.extend_from_slice(&u24(body.len()));
    m.extend_from_slice(body);
    m
}

fn ext(out: &mut Vec<u8>, t: u16, body: &[u8]) {
    out.extend_from_slice(&t.to_be_bytes());
    out.extend_from_slice(&(body.len() as u16).to_be_bytes());
    out.extend_from_slice(body);
}

fn plain_record(ctype: u8, version: u16, body: &[u8]) -> Vec<u8> {
    let mut r = vec![ctype];
    r.extend_from_slice(&version.to_be_bytes());
    r.extend_from_slice(&(body.len() as u16).to_be_bytes());
    r.extend_from_slice(body);
    r
}

/// A TLS 1.2 CBC connection: handshake flights, then records on demand.
pub struct CbcSession {
    rng: SeededRng,
    client: Writer,
    server: Writer,
    /// The key-log line.
    pub keylog: String,
    /// The handshake flights.
    pub handshake: Vec<Flight>,
}

impl CbcSession {
    /// Builds the handshake for `suite` (with Encrypt-then-MAC if `etm`).
    pub fn new(suite: CbcSuite, etm: bool, sni: &str, seed: u64) -> Self {
        let rng = SeededRng::new(seed);
        let client_random = rng.bytes(32);
        let server_random = rng.bytes(32);
        let master = rng.bytes(48);
        let c_kx: [u8; 32] = rng.bytes(32).try_into().unwrap();
        let c_pub = x25519_dalek::PublicKey::from(&x25519_dalek::StaticSecret::from(c_kx));
        let s_kx: [u8; 32] = rng.bytes(32).try_into().unwrap();
        let s_pub = x25519_dalek::PublicKey::from(&x25519_dalek::StaticSecret::from(s_kx));

        // ClientHello.
        let mut ch = vec![3, 3];
        ch.extend_from_slice(&client_random);
        ch.push(0);
        ch.extend_from_slice(&2u16.to_be_bytes());
        ch.extend_from_slice(&suite.id().to_be_bytes());
        ch.extend_from_slice(&[1, 0]);
        let mut exts = Vec::new();
        let mut sn = vec![0];
        sn.extend_from_slice(&(sni.len() as u16).to_be_bytes());
        sn.extend_from_slice(sni.as_bytes());
        let mut snl = (sn.len() as u16).to_be_bytes().to_vec();
        snl.extend(sn);
        ext(&mut exts, 0, &snl);
        ext(&mut exts, 10, &[0, 2, 0, 0x1d]);
        ext(&mut exts, 11, &[1, 0]);
        ext(&mut exts, 13, &[0, 2, 8, 7]);
        if etm {
            ext(&mut exts, 22, &[]);
        }
        ext(&mut exts, 0xff01, &[0]);
        ch.extend_from_slice(&(exts.len() as u16).to_be_bytes());
        ch.extend(exts);
        let ch = hs(1, &ch);

        // ServerHello.
        let mut sh = vec![3, 3];
        sh.extend_from_slice(&server_random);
        sh.push(32);
        sh.extend(rng.bytes(32));
        sh.extend_from_slice(&suite.id().to_be_bytes());
        sh.push(0);
        let mut exts = Vec::new();
        ext(&mut exts, 0xff01, &[0]);
        ext(&mut exts, 11, &[1, 0]);
        if etm {
            ext(&mut exts, 22, &[]);
        }
        sh.extend_from_slice(&(exts.len() as u16).to_be_bytes());
        sh.extend(exts);
        let sh = hs(2, &sh);

        let cert = server_cert(&[sni]);
        let mut cm = u24(cert.len() + 3).to_vec();
        cm.extend_from_slice(&u24(cert.len()));
        cm.extend(cert);
        let cm = hs(11, &cm);

        let mut params = vec![3, 0, 0x1d, 32];
        params.extend_from_slice(s_pub.as_bytes());
        let key = rustls::crypto::ring::sign::any_eddsa_type(&PrivatePkcs8KeyDer::from(
            server_key_pkcs8(),
        ))
        .unwrap();
        let signer = key.choose_scheme(&[SignatureScheme::ED25519]).unwrap();
        let mut signed = client_random.clone();
        signed.extend_from_slice(&server_random);
        signed.extend_from_slice(&params);
        let sig = signer.sign(&signed).unwrap();
        let mut ske = params;
        ske.extend_from_slice(&[8, 7]);
        ske.extend_from_slice(&(sig.len() as u16).to_be_bytes());
        ske.extend(sig);
        let ske = hs(12, &ske);
        let shd = hs(14, &[]);

        let mut cke = vec![32];
        cke.extend_from_slice(c_pub.as_bytes());
        let cke = hs(16, &cke);

        // Keys.
        let mut seed_sc = server_random.clone();
        seed_sc.extend_from_slice(&client_random);
        let (ml, kl) = (suite.mac_len(), suite.key_len());
        let kb = prf(
            suite.prf(),
            &master,
            b"key expansion",
            &seed_sc,
            2 * ml + 2 * kl,
        );
        let mut client = Writer {
            suite,
            etm,
            mac_key: kb[..ml].to_vec(),
            key: kb[2 * ml..2 * ml + kl].to_vec(),
            seq: 0,
        };
        let mut server = Writer {
            suite,
            etm,
            mac_key: kb[ml..2 * ml].to_vec(),
            key: kb[2 * ml + kl..2 * ml + 2 * kl].to_vec(),
            seq: 0,
        };

        let mut transcript = [&ch[..], &sh, &cm, &ske, &shd, &cke].concat();
        let cfin = hs(
            20,
            &prf(
                suite.prf(),
                &master,
                b"client finished",
                &hash(suite.prf(), &transcript),
                12,
            ),
        );
        transcript.extend_from_slice(&cfin);
        let sfin = hs(
            20,
            &prf(
                suite.prf(),
                &master,
                b"server finished",
                &hash(suite.prf(), &transcript),
                12,
            ),
        );

        let f1 = plain_record(22, 0x0301, &ch);
        let f2 = plain_record(22, 0x0303, &[&sh[..], &cm, &ske, &shd].concat());
        let mut f3 = plain_record(22, 0x0303, &cke);
        f3.extend(plain_record(20, 0x0303, &[1]));
        f3.extend(client.record(&rng, 22, &cfin, 0));
        let mut f4 = plain_record(20, 0x0303, &[1]);
        f4.extend(server.record(&rng, 22, &sfin, 0));
        let handshake = vec![
            Flight {
                from_client: true,
                bytes: f1,
            },
            Flight {
                from_client: false,
                bytes: f2,
            },
            Flight {
                from_client: true,
                bytes: f3,
            },
            Flight {
                from_client: false,
                bytes: f4,
            },
        ];
        CbcSession {
            keylog: format!("CLIENT_RANDOM {} {}\n", hex(&client_random), hex(&master)),
            rng,
            client,
            server,
            handshake,
        }
    }

    /// Application data from the client, in records of at most 16 KiB,
    /// each with `extra` more blocks of padding than needed.
    pub fn client_data(&mut self, data: &[u8], extra: usize) -> Vec<u8> {
        data.chunks(16_384)
            .flat_map(|c| self.client.record(&self.rng, 23, c, extra))
            .collect()
    }

    /// Application data from the server.
    pub fn server_data(&mut self, data: &[u8]) -> Vec<u8> {
        data.chunks(16_384)
            .flat_map(|c| self.server.record(&self.rng, 23, c, 0))
            .collect()
    }

    /// close_notify from both sides.
    pub fn close(&mut self) -> Vec<Flight> {
        vec![
            Flight {
                from_client: true,
                bytes: self.client.record(&self.rng, 21, &[1, 0], 0),
            },
            Flight {
                from_client: false,
                bytes: self.server.record(&self.rng, 21, &[1, 0], 0),
            },
        ]
    }
}

fn cbc_fixture(name: &'static str, suite: CbcSuite, etm: bool, seed: u64) -> TlsFixture {
    let host = "legacy.example.com";
    let mut t = Trace::new(T0 + 346_896_000 + seed, 0);
    let mut c = Conversation::new(
        &mut t,
        "10.20.0.20:53000",
        "192.0.2.95:443",
        0x3000_0000 + seed as u32,
        0x4000_0000 + seed as u32,
    );
    c.handshake(&mut t);
    let mut s = CbcSession::new(suite, etm, host, seed);
    let hsf = s.handshake.clone();
    deliver(&mut c, &mut t, &hsf);
    for (i, (r, extra)) in [
        (leaking("/legacy/profile", host), 3),
        (clean("/legacy/news", host), 0),
    ]
    .into_iter()
    .enumerate()
    {
        c.note_next(&mut t, &r);
        let b = s.client_data(&r.bytes(), extra);
        c.send(&mut t, true, &b);
        t.advance_us(20_000);
        let page = html(t.now_ns, &format!("legacy {i}"));
        let b = s.server_data(&page);
        c.send(&mut t, false, &b);
        t.advance_us(100_000);
    }
    let f = s.close();
    deliver(&mut c, &mut t, &f);
    c.fin_close(&mut t);
    let mode = if etm {
        "Encrypt-then-MAC (RFC 7366)"
    } else {
        "MAC-then-encrypt"
    };
    TlsFixture {
        fixture: fixture(
            name,
            &t,
            eth_pcap(&t),
            &format!(
                "HTTPS over TLS 1.2 with {suite:?} (AES-CBC, explicit IVs, {mode}), written by the generator's own record writer: two requests, the first leaking X-MSISDN in a record with three blocks of padding beyond the needed."
            ),
            "Decrypt with the key log (CLIENT_RANDOM); report both requests (x-msisdn on the first).",
        ),
        keylog: s.keylog.clone(),
        keys_in_dsb: false,
    }
}
