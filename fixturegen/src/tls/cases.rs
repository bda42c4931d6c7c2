//! The TLS fixtures, one function each.

use std::net::Ipv4Addr;

use super::super::encap::Encap;
use super::super::http::{Req, UA_ANDROID, UA_IPHONE};
use super::super::packet::Link;
use super::super::pcap::{PcapNgWriter, SNAPLEN};
use super::super::scenarios::{Lcg, MSISDN, T0, eth_pcap, fixture};
use super::super::tcp::{Conversation, Trace};
use super::session::{Endpoints, Group, Options, Resumption, Session, Suite};
use super::{TlsFixture, deliver, tls_request, tls_response};

/// The TLS fixtures' epoch: 2024-03-04T12:00:00Z.
const T_TLS: u64 = T0 + 346_896_000;
/// pcapng Decryption Secrets Block type of a TLS key log ("TLSK").
const TLSK: u32 = 0x544c_534b;

/// Every TLS fixture, in a fixed order.
pub fn all() -> Vec<TlsFixture> {
    let mut v = vec![
        tls13_suite("tls13-aes128gcm.pcap", Suite::Tls13Aes128Gcm, 1301),
        tls13_suite("tls13-aes256gcm.pcap", Suite::Tls13Aes256Gcm, 1302),
        tls13_suite("tls13-chacha20.pcap", Suite::Tls13Chacha20, 1303),
        tls12_suite("tls12-aes128gcm.pcap", Suite::Tls12Aes128Gcm, 1201),
        tls12_suite("tls12-aes256gcm.pcap", Suite::Tls12Aes256Gcm, 1202),
        tls12_suite("tls12-chacha20.pcap", Suite::Tls12Chacha20, 1203),
        hello_retry(),
        key_update(),
        early_data(true),
        early_data(false),
        traffic_secrets_only(),
        tls12_resumption(Resumption::Stateful),
        tls12_resumption(Resumption::Tickets),
        client_hello_split(),
        straddle_reorder(),
        midstream(),
        wrong_keys(),
        dsb(false),
        dsb(true),
        connect_tunnel(),
        socks5(),
        gtpu(),
        h2_alpn(),
        h2_push("tls13-h2-push.pcap", Suite::Tls13Aes128Gcm, 61),
        h2_push("tls12-h2-push.pcap", Suite::Tls12Aes128Gcm, 62),
    ];
    v.extend(super::cbc::all());
    v
}

pub(super) fn leaking(uri: &str, host: &str) -> Req {
    Req::get(uri, host)
        .h("User-Agent", UA_ANDROID)
        .h("Accept", "*/*")
        .leak("X-MSISDN", MSISDN)
}

pub(super) fn clean(uri: &str, host: &str) -> Req {
    Req::get(uri, host)
        .h("User-Agent", UA_IPHONE)
        .h("Accept", "*/*")
}

fn conv(t: &mut Trace, client: &str, server: &str, seed: u64) -> Conversation {
    Conversation::new(
        t,
        client,
        server,
        0x1000_0000u32.wrapping_add((seed as u32).wrapping_mul(0x9e37)),
        0x2000_0000u32.wrapping_add((seed as u32).wrapping_mul(0x7f4b)),
    )
}

/// TCP handshake, TLS handshake, the requests (each answered), close_notify
/// both ways, FIN.
fn https(t: &mut Trace, c: &mut Conversation, s: &mut Session, reqs: &[Req]) {
    c.handshake(t);
    let hs = s.handshake();
    deliver(c, t, &hs);
    exchanges(t, c, s, reqs);
    close(t, c, s);
}

fn exchanges(t: &mut Trace, c: &mut Conversation, s: &mut Session, reqs: &[Req]) {
    for (i, r) in reqs.iter().enumerate() {
        tls_request(c, t, s, r);
        tls_response(c, t, s, &format!("page {i}"));
    }
}

fn close(t: &mut Trace, c: &mut Conversation, s: &mut Session) {
    let f = s.close();
    deliver(c, t, &f);
    c.fin_close(t);
    t.advance_us(200_000);
}

fn done(
    name: &'static str,
    t: &Trace,
    bytes: Vec<u8>,
    desc: &str,
    notes: &str,
    keylog: String,
) -> TlsFixture {
    TlsFixture {
        fixture: fixture(name, t, bytes, desc, notes),
        keylog,
        keys_in_dsb: false,
    }
}

fn two_requests(host: &str) -> Vec<Req> {
    vec![leaking("/v1/profile", host), clean("/v1/news", host)]
}

fn tls13_suite(name: &'static str, suite: Suite, seed: u64) -> TlsFixture {
    let host = "api.example.com";
    let mut t = Trace::new(T_TLS + seed, 0);
    let ep = Endpoints::new(Options::new(seed, suite, host, T_TLS));
    let mut c = conv(&mut t, "10.20.0.5:51000", "192.0.2.80:443", seed);
    let mut s = ep.connect();
    https(&mut t, &mut c, &mut s, &two_requests(host));
    done(
        name,
        &t,
        eth_pcap(&t),
        &format!(
            "HTTPS over TLS 1.3 with {suite:?} (X25519, Ed25519 certificate, ALPN http/1.1): two requests on one connection, the first leaking X-MSISDN."
        ),
        "Decrypt with the key log; report both requests (x-msisdn on the first).",
        ep.take_keys(),
    )
}

fn tls12_suite(name: &'static str, suite: Suite, seed: u64) -> TlsFixture {
    let host = "api.example.com";
    let mut t = Trace::new(T_TLS + seed, 0);
    let ep = Endpoints::new(Options::new(seed, suite, host, T_TLS));
    let mut c = conv(&mut t, "10.20.0.6:51100", "192.0.2.81:443", seed);
    let mut s = ep.connect();
    https(&mut t, &mut c, &mut s, &two_requests(host));
    done(
        name,
        &t,
        eth_pcap(&t),
        &format!(
            "HTTPS over TLS 1.2 with {suite:?} (ECDHE X25519, Ed25519 certificate, extended master secret): two requests on one connection, the first leaking X-MSISDN."
        ),
        "Decrypt with the key log (CLIENT_RANDOM); report both requests (x-msisdn on the first).",
        ep.take_keys(),
    )
}

fn hello_retry() -> TlsFixture {
    let host = "hrr.example.com";
    let mut t = Trace::new(T_TLS + 10, 0);
    let mut o = Options::new(1310, Suite::Tls13Aes128Gcm, host, T_TLS);
    o.client_groups = vec![Group::P256, Group::X25519];
    o.server_groups = vec![Group::X25519];
    let ep = Endpoints::new(o);
    let mut c = conv(&mut t, "10.20.0.7:51200", "192.0.2.82:443", 1310);
    let mut s = ep.connect();
    https(&mut t, &mut c, &mut s, &two_requests(host));
    done(
        "tls13-hello-retry.pcap",
        &t,
        eth_pcap(&t),
        "TLS 1.3 HelloRetryRequest: the client offers a P-256 key share, the server accepts only X25519 and asks again; the second ClientHello carries an X25519 share. Two requests, the first leaking X-MSISDN.",
        "The secrets belong to the client random of the first ClientHello (the second repeats it). Report both requests.",
        ep.take_keys(),
    )
}

fn key_update() -> TlsFixture {
    let host = "ku.example.com";
    let mut t = Trace::new(T_TLS + 20, 0);
    let ep = Endpoints::new(Options::new(1320, Suite::Tls13Aes256Gcm, host, T_TLS));
    let mut c = conv(&mut t, "10.20.0.8:51300", "192.0.2.83:443", 1320);
    let mut s = ep.connect();
    c.handshake(&mut t);
    let hs = s.handshake();
    deliver(&mut c, &mut t, &hs);
    exchanges(&mut t, &mut c, &mut s, &[clean("/before", host)]);
    let ku = s.client_key_update();
    deliver(&mut c, &mut t, &ku);
    exchanges(
        &mut t,
        &mut c,
        &mut s,
        &[leaking("/after-first-update", host)],
    );
    let ku = s.client_key_update();
    deliver(&mut c, &mut t, &ku);
    exchanges(
        &mut t,
        &mut c,
        &mut s,
        &[leaking("/after-second-update", host).h("X-Seq", "3")],
    );
    close(&mut t, &mut c, &mut s);
    done(
        "tls13-key-update.pcap",
        &t,
        eth_pcap(&t),
        "TLS 1.3 KeyUpdate: a request, a KeyUpdate from the client, a leaking request under the next secret, a second KeyUpdate, a third request.",
        "The key log holds only the _0 traffic secrets: the later ones are derived. Report the three requests (x-msisdn on the second and third).",
        ep.take_keys(),
    )
}

/// Position of the first record of `ctype` in `bytes`.
fn record_offset(bytes: &[u8], ctype: u8) -> Option<usize> {
    let mut p = 0;
    while p + 5 <= bytes.len() {
        if bytes[p] == ctype {
            return Some(p);
        }
        p += 5 + usize::from(u16::from_be_bytes([bytes[p + 3], bytes[p + 4]]));
    }
    None
}

fn early_data(accepted: bool) -> TlsFixture {
    let host = "zero.example.com";
    let seed = if accepted { 1330 } else { 1331 };
    let mut t = Trace::new(T_TLS + seed, 0);
    let mut o = Options::new(seed, Suite::Tls13Aes128Gcm, host, T_TLS);
    o.early_data = Some(16_384);
    let mut ep = Endpoints::new(o);
    let mut c = conv(&mut t, "10.20.0.9:51400", "192.0.2.84:443", seed);
    let mut s = ep.connect();
    https(&mut t, &mut c, &mut s, &[clean("/first-visit", host)]);
    t.advance_us(2_000_000);
    if !accepted {
        ep.server_early_data(0);
    }
    let mut c = conv(&mut t, "10.20.0.9:51401", "192.0.2.84:443", seed + 1);
    let mut s = ep.connect();
    c.handshake(&mut t);
    let early = leaking("/early", host);
    assert!(s.early(&early.bytes()));
    let hs = s.handshake();
    assert_eq!(s.early_accepted(), accepted);
    let first = &hs[0];
    assert!(first.from_client);
    let at = record_offset(&first.bytes, 23).unwrap() as u32;
    let seq = c.c_next.wrapping_add(at);
    if accepted {
        assert_eq!(s.take_received(), early.bytes());
        c.note(&mut t, seq, &early, false, false, early.leak_headers());
    } else {
        assert!(s.take_received().is_empty());
        c.note(&mut t, seq, &early, true, false, early.leak_headers());
    }
    deliver(&mut c, &mut t, &hs);
    let again = if accepted {
        clean("/after-handshake", host)
    } else {
        early.clone()
    };
    exchanges(&mut t, &mut c, &mut s, &[again]);
    close(&mut t, &mut c, &mut s);
    if accepted {
        done(
            "tls13-0rtt-accepted.pcap",
            &t,
            eth_pcap(&t),
            "TLS 1.3 0-RTT accepted: a first connection gets a ticket; the second resumes with it and sends a leaking request as early data with its ClientHello, which the server accepts (EndOfEarlyData follows), then a request after the handshake.",
            "The early request decrypts with CLIENT_EARLY_TRAFFIC_SECRET. Report the three requests (x-msisdn on the early one).",
            ep.take_keys(),
        )
    } else {
        done(
            "tls13-0rtt-rejected.pcap",
            &t,
            eth_pcap(&t),
            "TLS 1.3 0-RTT rejected: a first connection gets a ticket; the second resumes and sends a leaking request as early data, but the server resumes without accepting early data and skips it; the client sends the request again after the handshake.",
            "The server never read the early copy (optional: it was sent, and decrypts with CLIENT_EARLY_TRAFFIC_SECRET); the copy sent after the handshake must be reported.",
            ep.take_keys(),
        )
    }
}

fn traffic_secrets_only() -> TlsFixture {
    let mut f = tls13_suite(
        "tls13-traffic-secrets-only.pcap",
        Suite::Tls13Aes128Gcm,
        1340,
    );
    f.keylog = f
        .keylog
        .lines()
        .filter(|l| {
            l.starts_with("CLIENT_TRAFFIC_SECRET_0 ") || l.starts_with("SERVER_TRAFFIC_SECRET_0 ")
        })
        .map(|l| format!("{l}\n"))
        .collect();
    f.fixture.truth.description = "TLS 1.3 with a key log holding only CLIENT_TRAFFIC_SECRET_0 and SERVER_TRAFFIC_SECRET_0 (no handshake secrets): the encrypted handshake cannot be read, the application data can. Two requests, the first leaking X-MSISDN.".into();
    f.fixture.truth.notes = "Report both requests (x-msisdn on the first): the cipher suite is in the plaintext ServerHello.".into();
    f
}

fn tls12_resumption(how: Resumption) -> TlsFixture {
    let host = "resume.example.com";
    let seed = if how == Resumption::Stateful {
        1210
    } else {
        1211
    };
    let mut t = Trace::new(T_TLS + seed, 0);
    let mut o = Options::new(seed, Suite::Tls12Aes128Gcm, host, T_TLS);
    o.resumption = how;
    let ep = Endpoints::new(o);
    let mut c = conv(&mut t, "10.20.0.10:51500", "192.0.2.85:443", seed);
    let mut s = ep.connect();
    https(&mut t, &mut c, &mut s, &[leaking("/full-handshake", host)]);
    let keylog = ep.take_keys();
    t.advance_us(1_000_000);
    let mut c = conv(&mut t, "10.20.0.10:51501", "192.0.2.85:443", seed + 1);
    let mut s = ep.connect();
    https(
        &mut t,
        &mut c,
        &mut s,
        &[leaking("/resumed", host).h("X-Resumed", "yes")],
    );
    let second = ep.take_keys();
    assert!(!second.is_empty());
    let (name, by) = match how {
        Resumption::Stateful => ("tls12-resume-session-id.pcap", "session ID"),
        Resumption::Tickets => ("tls12-resume-ticket.pcap", "session ticket (RFC 5077)"),
    };
    done(
        name,
        &t,
        eth_pcap(&t),
        &format!(
            "TLS 1.2 resumption by {by}: a full handshake and a leaking request, then a second connection resuming the session (abbreviated handshake) with another leaking request."
        ),
        "The key log has the first connection's CLIENT_RANDOM line only: the second connection's master secret is found through the resumed session. Report both requests (x-msisdn).",
        keylog,
    )
}

/// Cuts the handshake records of `bytes` into records of at most the given
/// body sizes (the last size repeats); other records stay as they are.
fn reframe(bytes: &[u8], sizes: &[usize]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut p = 0;
    while p + 5 <= bytes.len() {
        let len = usize::from(u16::from_be_bytes([bytes[p + 3], bytes[p + 4]]));
        let body = &bytes[p + 5..p + 5 + len];
        if bytes[p] == 22 {
            let mut q = 0;
            let mut i = 0;
            while q < body.len() {
                let n = sizes[i.min(sizes.len() - 1)].min(body.len() - q);
                out.extend_from_slice(&bytes[p..p + 3]);
                out.extend_from_slice(&(n as u16).to_be_bytes());
                out.extend_from_slice(&body[q..q + n]);
                q += n;
                i += 1;
            }
        } else {
            out.extend_from_slice(&bytes[p..p + 5 + len]);
        }
        p += 5 + len;
    }
    out
}

fn client_hello_split() -> TlsFixture {
    let host = "split.example.com";
    let mut t = Trace::new(T_TLS + 40, 0);
    let ep = Endpoints::new(Options::new(1350, Suite::Tls13Aes128Gcm, host, T_TLS));
    let mut keys = String::new();
    for (i, port) in [51600u16, 51601].iter().enumerate() {
        let mut c = conv(
            &mut t,
            &format!("10.20.0.11:{port}"),
            "192.0.2.86:443",
            1350 + i as u64,
        );
        let mut s = ep.connect();
        c.handshake(&mut t);
        let mut ch = s.client_output();
        if i == 1 {
            ch = reframe(&ch, &[64, 100]);
        }
        s.to_server(&ch);
        c.send_sizes(
            &mut t,
            true,
            &ch,
            if i == 0 { &[7, 90, 60] } else { &[30, 130] },
        );
        let rest = s.handshake();
        deliver(&mut c, &mut t, &rest);
        let r = if i == 0 {
            leaking("/hello-in-segments", host)
        } else {
            leaking("/hello-in-records", host)
        };
        exchanges(&mut t, &mut c, &mut s, &[r]);
        close(&mut t, &mut c, &mut s);
        keys.push_str(&ep.take_keys());
    }
    done(
        "tls13-client-hello-split.pcap",
        &t,
        eth_pcap(&t),
        "A TLS 1.3 ClientHello split: on the first connection over four TCP segments (7, 90, 60 bytes and the rest) in one record; on the second re-framed into several handshake records (64 and 100-byte fragments, as large post-quantum key shares make it) sent in 30 and 130-byte segments. One leaking request on each.",
        "Report both requests (x-msisdn).",
        keys,
    )
}

fn straddle_reorder() -> TlsFixture {
    let host = "upload.example.com";
    let mut t = Trace::new(T_TLS + 50, 0);
    let ep = Endpoints::new(Options::new(1360, Suite::Tls13Chacha20, host, T_TLS));
    let mut c = conv(&mut t, "10.20.0.12:51700", "192.0.2.87:443", 1360);
    let mut s = ep.connect();
    c.handshake(&mut t);
    let hs = s.handshake();
    deliver(&mut c, &mut t, &hs);
    let mut rng = Lcg(1360);
    let req = leaking("/upload", host).h("Cookie", &format!("sid={}", rng.letters(5200)));
    let bytes = req.bytes();
    let flights = s.client_send_pieces(&bytes, &[900, 2100, 1700]);
    assert_eq!(s.take_received(), bytes);
    assert_eq!(flights.len(), 1);
    c.note_next(&mut t, &req);
    let segs = c.split(true, &flights[0].bytes, &[700, 1100, 1000, 1300]);
    assert!(segs.len() >= 5);
    // 0, 2, 1, 1 again, 3 then a retransmission overlapping 3 and 4, 4, the rest.
    c.emit(&mut t, &segs[0]);
    c.emit(&mut t, &segs[2]);
    c.emit(&mut t, &segs[1]);
    t.advance_us(200_000);
    c.emit(&mut t, &segs[1]);
    c.emit(&mut t, &segs[3]);
    let mut overlap = segs[3].payload[500..].to_vec();
    overlap.extend_from_slice(&segs[4].payload[..300]);
    let o = c.seg_at(
        true,
        segs[3].seq.wrapping_add(500),
        super::super::packet::ACK,
        &overlap,
    );
    c.emit(&mut t, &o);
    for sg in &segs[4..] {
        c.emit(&mut t, sg);
    }
    t.advance_us(15_000);
    c.ack(&mut t, false);
    tls_response(&mut c, &mut t, &mut s, "uploaded");
    exchanges(&mut t, &mut c, &mut s, &[clean("/status", host)]);
    close(&mut t, &mut c, &mut s);
    done(
        "tls13-straddle-reorder.pcap",
        &t,
        eth_pcap(&t),
        "TLS 1.3 records straddling TCP segments: a 5.4 kB leaking request written as four records (900, 2100, 1700 bytes and the rest), sent in 700/1100/1000/1300-byte segments delivered out of order (third before second), with a duplicate retransmission and an overlapping one; then a clean request.",
        "Report both requests (x-msisdn on the first).",
        ep.take_keys(),
    )
}

fn midstream() -> TlsFixture {
    let host = "mid.example.com";
    let mut t = Trace::new(T_TLS + 60, 0);
    let ep = Endpoints::new(Options::new(1370, Suite::Tls13Aes128Gcm, host, T_TLS));
    // First connection: the capture starts after its handshake.
    let mut c = conv(&mut t, "10.20.0.13:51800", "192.0.2.88:443", 1370);
    let mut s = ep.connect();
    c.c_next = c.c_next.wrapping_add(1);
    c.s_next = c.s_next.wrapping_add(1);
    for f in s.handshake() {
        if f.from_client {
            c.c_next = c.c_next.wrapping_add(f.bytes.len() as u32);
        } else {
            c.s_next = c.s_next.wrapping_add(f.bytes.len() as u32);
        }
    }
    for (i, uri) in ["/mid-1", "/mid-2"].iter().enumerate() {
        let r = leaking(uri, host);
        let f = s.client_send(&r.bytes());
        assert_eq!(s.take_received(), r.bytes());
        deliver(&mut c, &mut t, &f);
        tls_response(&mut c, &mut t, &mut s, &format!("mid {i}"));
    }
    close(&mut t, &mut c, &mut s);
    // Second connection, whole.
    let mut c = conv(&mut t, "10.20.0.13:51801", "192.0.2.88:443", 1371);
    let mut s = ep.connect();
    https(&mut t, &mut c, &mut s, &[leaking("/whole", host)]);
    done(
        "tls13-midstream.pcap",
        &t,
        eth_pcap(&t),
        "A TLS 1.3 connection picked up mid-stream (no TCP or TLS handshake in the capture: two leaking requests in application-data records), then a whole connection with one leaking request.",
        "The key log holds both connections' secrets, but nothing ties the first one's records to its client random: report only the second connection's request; the first counts as not decrypted (handshake not in the capture).",
        ep.take_keys(),
    )
}

fn wrong_keys() -> TlsFixture {
    let host = "wrong.example.com";
    let mut t = Trace::new(T_TLS + 70, 0);
    let ep = Endpoints::new(Options::new(1380, Suite::Tls13Aes128Gcm, host, T_TLS));
    let mut c = conv(&mut t, "10.20.0.14:51900", "192.0.2.89:443", 1380);
    let mut s = ep.connect();
    https(&mut t, &mut c, &mut s, &two_requests(host));
    let _ = ep.take_keys();
    // The key log of another connection (another client random).
    let mut other = Trace::new(T_TLS + 71, 0);
    let ep2 = Endpoints::new(Options::new(1381, Suite::Tls13Aes128Gcm, host, T_TLS));
    let mut c2 = conv(&mut other, "10.20.0.14:51901", "192.0.2.89:443", 1381);
    let mut s2 = ep2.connect();
    https(&mut other, &mut c2, &mut s2, &two_requests(host));
    let keys = ep2.take_keys();
    let mut f = done(
        "tls13-wrong-keys.pcap",
        &t,
        eth_pcap(&t),
        "A TLS 1.3 connection with two requests (the first leaking X-MSISDN), given the key log of another connection.",
        "No key matches its client random: report nothing; the connection counts as not decrypted (no key).",
        keys,
    );
    f.fixture.truth.requests.clear();
    f
}

fn dsb(after: bool) -> TlsFixture {
    let host = "dsb.example.com";
    let seed = if after { 1391 } else { 1390 };
    let mut t = Trace::new(T_TLS + seed, 0);
    let ep = Endpoints::new(Options::new(seed, Suite::Tls13Aes128Gcm, host, T_TLS));
    let mut c = conv(&mut t, "10.20.0.15:52000", "192.0.2.90:443", seed);
    let mut s = ep.connect();
    https(&mut t, &mut c, &mut s, &two_requests(host));
    let keys = ep.take_keys();
    let mut w = PcapNgWriter::new();
    w.section("phoneleak fixturegen");
    w.interface(Link::Ethernet.linktype(), SNAPLEN, Some(9), "eth0");
    if !after {
        w.secrets(TLSK, keys.as_bytes());
    }
    for r in &t.records {
        w.packet(0, r.ts_ns, &r.frame);
    }
    if after {
        w.secrets(TLSK, keys.as_bytes());
    }
    let (name, desc) = if after {
        (
            "tls13-dsb-after.pcapng",
            "TLS 1.3 in pcapng with the key log in a Decryption Secrets Block written after the packets it unlocks (as a capture tool that learns the keys late may write it). Two requests, the first leaking X-MSISDN.",
        )
    } else {
        (
            "tls13-dsb.pcapng",
            "TLS 1.3 in pcapng with the key log only in a Decryption Secrets Block (secrets type TLSK) before the packets, as PCAPdroid writes it. Two requests, the first leaking X-MSISDN.",
        )
    };
    TlsFixture {
        fixture: fixture(
            name,
            &t,
            w.finish(),
            desc,
            "No key log is given: the secrets are in the file. Report both requests (x-msisdn on the first).",
        ),
        keylog: keys,
        keys_in_dsb: true,
    }
}

fn connect_tunnel() -> TlsFixture {
    let host = "secure.example.com";
    let mut t = Trace::new(T_TLS + 80, 0);
    let ep = Endpoints::new(Options::new(1400, Suite::Tls13Aes128Gcm, host, T_TLS));
    let mut c = conv(&mut t, "10.20.0.16:52100", "192.0.2.91:3128", 1400);
    c.handshake(&mut t);
    let connect = Req::new("CONNECT", "secure.example.com:443")
        .h("Host", "secure.example.com:443")
        .h("User-Agent", UA_ANDROID);
    c.request(&mut t, &connect);
    c.respond(&mut t, b"HTTP/1.1 200 Connection established\r\n\r\n");
    let mut s = ep.connect();
    let hs = s.handshake();
    deliver(&mut c, &mut t, &hs);
    exchanges(&mut t, &mut c, &mut s, &two_requests(host));
    close(&mut t, &mut c, &mut s);
    done(
        "tls13-connect.pcap",
        &t,
        eth_pcap(&t),
        "HTTPS through an HTTP proxy: CONNECT secure.example.com:443 to port 3128, its 200, then TLS 1.3 inside the tunnel with two requests, the first leaking X-MSISDN.",
        "Report the CONNECT (plaintext) and both requests inside the tunnel (x-msisdn on the first).",
        ep.take_keys(),
    )
}

fn socks5() -> TlsFixture {
    let host = "socks.example.com";
    let mut t = Trace::new(T_TLS + 90, 0);
    let ep = Endpoints::new(Options::new(1410, Suite::Tls13Aes256Gcm, host, T_TLS));
    let mut c = conv(&mut t, "10.20.0.17:52200", "192.0.2.92:1080", 1410);
    c.handshake(&mut t);
    c.send(&mut t, true, b"\x05\x01\x00");
    c.respond(&mut t, b"\x05\x00");
    c.send(
        &mut t,
        true,
        b"\x05\x01\x00\x03\x11socks.example.com\x01\xbb",
    );
    c.respond(&mut t, b"\x05\x00\x00\x01\xc0\x00\x02\x5c\x01\xbb");
    let mut s = ep.connect();
    let hs = s.handshake();
    deliver(&mut c, &mut t, &hs);
    exchanges(&mut t, &mut c, &mut s, &two_requests(host));
    close(&mut t, &mut c, &mut s);
    done(
        "tls13-socks5.pcap",
        &t,
        eth_pcap(&t),
        "HTTPS after a SOCKS 5 handshake (no authentication, CONNECT to socks.example.com port 443) on port 1080: TLS 1.3 with two requests, the first leaking X-MSISDN.",
        "Report both requests (x-msisdn on the first).",
        ep.take_keys(),
    )
}

fn gtp_layers(up: bool, teid: u32) -> Vec<Encap> {
    let enb = Ipv4Addr::new(172, 16, 1, 10);
    let upf = Ipv4Addr::new(172, 16, 2, 20);
    let (src, dst) = if up { (enb, upf) } else { (upf, enb) };
    vec![
        Encap::Ipv4 {
            src,
            dst,
            id: if up { 0x1100 } else { 0x2200 },
        },
        Encap::Udp {
            src: 2152,
            dst: 2152,
        },
        Encap::Gtpu {
            teid,
            seq: None,
            qfi: None,
        },
    ]
}

fn gtpu() -> TlsFixture {
    let host = "mobile.example.com";
    let mut t = Trace::new(T_TLS + 100, 0);
    let ep = Endpoints::new(Options::new(1420, Suite::Tls13Chacha20, host, T_TLS));
    let mut c = conv(&mut t, "10.45.0.9:52300", "192.0.2.93:443", 1420).encap(
        gtp_layers(true, 0x0000_3001),
        gtp_layers(false, 0x0000_4001),
    );
    let mut s = ep.connect();
    let reqs = [
        leaking("/gtpu/tls", host),
        clean("/gtpu/tls-2", host).leak("X-IMSI", "001010123456789"),
    ];
    https(&mut t, &mut c, &mut s, &reqs);
    done(
        "tls13-gtpu.pcap",
        &t,
        eth_pcap(&t),
        "TLS 1.3 inside GTP-U (S1-U, one bearer, TEIDs 0x3001 up and 0x4001 down): two requests, the first leaking X-MSISDN, the second X-IMSI.",
        "Report both requests with the inner addresses.",
        ep.take_keys(),
    )
}

/// HTTP/2 inside TLS 1.3 (ALPN h2): the preface and SETTINGS, then three
/// requests on streams 1, 3 and 5, the later ones indexing the first's
/// fields in the HPACK table; each noted at its HEADERS frame's first
/// plaintext byte (the first byte of the record that carries it).
fn h2_alpn() -> TlsFixture {
    use super::super::h2::{Client, Encoder, Framing, response, server_start};
    let host = "h2.example.com";
    let mut t = Trace::new(T_TLS + 60, 0);
    let mut opts = Options::new(60, Suite::Tls13Aes128Gcm, host, T_TLS);
    opts.alpn = b"h2";
    let ep = Endpoints::new(opts);
    let mut c = conv(&mut t, "10.20.0.60:51600", "192.0.2.160:443", 60);
    let mut s = ep.connect();
    c.handshake(&mut t);
    let hs = s.handshake();
    deliver(&mut c, &mut t, &hs);
    let flights = s.client_send(&Client::start());
    s.take_received();
    deliver(&mut c, &mut t, &flights);
    let flights = s.server_send(&server_start());
    deliver(&mut c, &mut t, &flights);
    let mut cl = Client::new(1, "https");
    let mut senc = Encoder::default();
    for (i, r) in [
        leaking("/h2/tls/one", host),
        clean("/h2/tls/two", host),
        leaking("/h2/tls/three", host).h("Cookie", "k=v"),
    ]
    .iter()
    .enumerate()
    {
        let (stream, bytes) = cl.request(r, Framing::default());
        let flights = s.client_send(&bytes);
        assert_eq!(s.take_received(), bytes);
        c.note_next(&mut t, r);
        deliver(&mut c, &mut t, &flights);
        t.advance_us(20_000);
        let page = response(&mut senc, stream, t.now_ns, &format!("h2 page {i}"));
        let flights = s.server_send(&page);
        deliver(&mut c, &mut t, &flights);
        t.advance_us(100_000);
    }
    close(&mut t, &mut c, &mut s);
    done(
        "tls13-h2.pcap",
        &t,
        eth_pcap(&t),
        "HTTP/2 inside TLS 1.3 (ALPN h2): the connection preface, SETTINGS, then three GET requests on streams 1, 3 and 5 (HPACK with the dynamic table and Huffman strings), the first and third leaking X-MSISDN.",
        "Decrypt with the key log; report the three requests as HTTP/2 (x-msisdn on the first and third).",
        ep.take_keys(),
    )
}

/// HTTP/2 server push inside TLS (ALPN h2). The first connection's client
/// allows push: after its GET /app/, the server promises two requests on
/// stream 1 (one with the number in its target, one with X-MSISDN, the
/// second indexing the server's HPACK table), answers them, and the client
/// asks GET /app/next. The second connection's client disables push
/// (SETTINGS_ENABLE_PUSH=0, as curl and browsers do) and downloads 64 KB,
/// of which only the server's records up to its SETTINGS are decrypted.
fn h2_push(name: &'static str, suite: Suite, seed: u64) -> TlsFixture {
    use super::super::h2::{
        Client, Encoder, Framing, HEADER_TABLE_SIZE, frame, push_promise, pushed_truth, response,
        server_start, settings, settings_ack,
    };
    let host = "push.example.com";
    let mut t = Trace::new(T_TLS + seed, 0);
    let mut opts = Options::new(seed, suite, host, T_TLS);
    opts.alpn = b"h2";
    let ep = Endpoints::new(opts);
    let mut c = conv(&mut t, "10.20.0.61:51610", "192.0.2.161:443", seed);
    let mut s = ep.connect();
    c.handshake(&mut t);
    let hs = s.handshake();
    deliver(&mut c, &mut t, &hs);
    let mut cl = Client::new(1, "https");
    let bytes = Client::start_with(&[(HEADER_TABLE_SIZE, 8192)]);
    let page = Req::get("/app/", host)
        .h("User-Agent", UA_ANDROID)
        .h("Accept", "text/html");
    let (_, get) = cl.request(&page, Framing::default());
    let flights = s.client_send(&bytes);
    s.take_received();
    deliver(&mut c, &mut t, &flights);
    let flights = s.client_send(&get);
    assert_eq!(s.take_received(), get);
    c.note_next(&mut t, &page);
    deliver(&mut c, &mut t, &flights);
    // The server: its SETTINGS, its ACK of the client's (from here its
    // encoder may use 8192 bytes), two promises and the responses.
    let mut senc = Encoder::default();
    let mut out = settings(&[(3, 100)]);
    out.extend(settings_ack());
    senc.set_max(8192);
    let js = Req::get("/app/profile.js?msisdn=447700900123", host)
        .h("User-Agent", UA_ANDROID)
        .uri_leaks();
    out.extend(push_promise(&mut senc, 1, 2, &js, Some(20), Some(6)));
    out.extend(response(&mut senc, 1, t.now_ns, "app"));
    let css = Req::get("/app/style.css", host)
        .h("User-Agent", UA_ANDROID)
        .leak("X-MSISDN", MSISDN);
    out.extend(push_promise(&mut senc, 1, 4, &css, None, None));
    out.extend(response(&mut senc, 2, t.now_ns, "js"));
    out.extend(response(&mut senc, 4, t.now_ns, "css"));
    let flights = s.server_send(&out);
    deliver(&mut c, &mut t, &flights);
    let pushed = vec![pushed_truth(&c, &js), pushed_truth(&c, &css)];
    let flights = s.client_send(&settings_ack());
    s.take_received();
    deliver(&mut c, &mut t, &flights);
    let next = leaking("/app/next", host);
    let (st, r) = cl.request(&next, Framing::default());
    let flights = s.client_send(&r);
    assert_eq!(s.take_received(), r);
    c.note_next(&mut t, &next);
    deliver(&mut c, &mut t, &flights);
    t.advance_us(20_000);
    let flights = s.server_send(&response(&mut senc, st, t.now_ns, "next"));
    deliver(&mut c, &mut t, &flights);
    t.advance_us(100_000);
    close(&mut t, &mut c, &mut s);

    // Push disabled: the server's records after its SETTINGS are not read.
    let mut c = conv(&mut t, "10.20.0.62:51611", "192.0.2.162:443", seed + 100);
    let mut s = ep.connect();
    c.handshake(&mut t);
    let hs = s.handshake();
    deliver(&mut c, &mut t, &hs);
    let mut cl = Client::new(1, "https");
    let get = leaking("/download.bin", host);
    let (_, r) = cl.request(&get, Framing::default());
    let flights = s.client_send(&Client::start());
    s.take_received();
    deliver(&mut c, &mut t, &flights);
    let flights = s.client_send(&r);
    assert_eq!(s.take_received(), r);
    c.note_next(&mut t, &get);
    deliver(&mut c, &mut t, &flights);
    let mut senc = Encoder::default();
    let mut out = server_start();
    out.extend(frame(
        1,
        4,
        1,
        &senc.block(&[(":status".into(), "200".into())], &[]),
    ));
    for i in 0..4u8 {
        out.extend(frame(0, if i == 3 { 1 } else { 0 }, 1, &[b'0' + i; 16_000]));
    }
    let flights = s.server_send(&out);
    deliver(&mut c, &mut t, &flights);
    let flights = s.client_send(&settings_ack());
    s.take_received();
    deliver(&mut c, &mut t, &flights);
    close(&mut t, &mut c, &mut s);
    let version = match suite.version() {
        super::session::Version::Tls12 => "TLS 1.2",
        super::session::Version::Tls13 => "TLS 1.3",
    };
    let mut f = done(
        name,
        &t,
        eth_pcap(&t),
        &format!(
            "HTTP/2 server push inside {version} (ALPN h2). First connection (push allowed, SETTINGS_HEADER_TABLE_SIZE 8192 for the server's encoder): GET /app/, then the server promises GET /app/profile.js?msisdn=447700900123 (a padded PUSH_PROMISE continued in CONTINUATION frames) and GET /app/style.css with X-MSISDN (indexing the server's HPACK table), then the client's GET /app/next with X-MSISDN. Second connection: a client with SETTINGS_ENABLE_PUSH=0 asks GET /download.bin with X-MSISDN and downloads 64 KB."
        ),
        "Decrypt both directions with the key log; report the client's three requests, and the two promised ones marked pushed (streams 2 and 4, promised on stream 1) with their leaks, not counted as client requests; on the second connection decrypt nothing of the server after its SETTINGS.",
        ep.take_keys(),
    );
    f.fixture.truth.pushed_requests = pushed;
    f
}
