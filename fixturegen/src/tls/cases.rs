//! The TLS fixtures, one function each.

use super::super::http::{Req, UA_ANDROID};
use super::super::scenarios::{MSISDN, T0, eth_pcap, fixture};
use super::super::tcp::{Conversation, Trace};
use super::session::{Endpoints, Options, Suite};
use super::{TlsFixture, deliver, tls_request, tls_response};

/// The TLS fixtures' epoch: 2024-03-04T12:00:00Z.
const T_TLS: u64 = T0 + 346_896_000;

/// Every TLS fixture, in a fixed order.
pub fn all() -> Vec<TlsFixture> {
    vec![
        tls13_suite("tls13-aes128gcm.pcap", Suite::Tls13Aes128Gcm, 1301),
        tls13_suite("tls13-aes256gcm.pcap", Suite::Tls13Aes256Gcm, 1302),
        tls13_suite("tls13-chacha20.pcap", Suite::Tls13Chacha20, 1303),
    ]
}

fn leaking(uri: &str, host: &str) -> Req {
    Req::get(uri, host)
        .h("User-Agent", UA_ANDROID)
        .h("Accept", "*/*")
        .leak("X-MSISDN", MSISDN)
}

fn clean(uri: &str, host: &str) -> Req {
    Req::get(uri, host)
        .h("User-Agent", UA_ANDROID)
        .h("Accept", "*/*")
}

fn tls13_suite(name: &'static str, suite: Suite, seed: u64) -> TlsFixture {
    let host = "api.example.com";
    let mut t = Trace::new(T_TLS + seed, 0);
    let ep = Endpoints::new(Options::new(seed, suite, host, T_TLS));
    let mut c = Conversation::new(
        &mut t,
        "10.20.0.5:51000",
        "192.0.2.80:443",
        0x1000_0000 + seed as u32,
        0x2000_0000 + seed as u32,
    );
    c.handshake(&mut t);
    let mut s = ep.connect();
    let hs = s.handshake();
    deliver(&mut c, &mut t, &hs);
    tls_request(&mut c, &mut t, &mut s, &leaking("/v1/profile", host));
    tls_response(&mut c, &mut t, &mut s, "profile");
    tls_request(&mut c, &mut t, &mut s, &clean("/v1/news", host));
    tls_response(&mut c, &mut t, &mut s, "news");
    let f = s.close();
    deliver(&mut c, &mut t, &f);
    c.fin_close(&mut t);
    TlsFixture {
        fixture: fixture(
            name,
            &t,
            eth_pcap(&t),
            &format!(
                "HTTPS over TLS 1.3 with {suite:?}: two requests on one connection, the first leaking X-MSISDN."
            ),
            "Decrypt with the key log; report both requests (x-msisdn on the first).",
        ),
        keylog: ep.take_keys(),
        keys_in_dsb: false,
    }
}
