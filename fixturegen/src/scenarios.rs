//! The fixtures: one function per capture, each building its packets with
//! the conversation model and noting, as it sends them, the requests an
//! analyzer must report.

use super::http::{Req, UA_ANDROID, UA_DESKTOP, UA_IPHONE, html, response};
use super::packet::{ACK, Link, TPID_8021AD, TPID_8021Q};
use super::pcap::{Endian, PcapNgWriter, PcapWriter, SNAPLEN};
use super::tcp::{Conversation, Seg, Trace};
use super::{Fixture, Truth};

/// A valid 1x1 transparent PNG (68 bytes).
const PNG: &[u8] = b"\x89\x50\x4e\x47\x0d\x0a\x1a\x0a\x00\x00\x00\x0d\x49\x48\x44\x52\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89\x00\x00\x00\x0b\x49\x44\x41\x54\x78\xda\x63\x60\x00\x02\x00\x00\x05\x00\x01\xe9\xfa\xdc\xd8\x00\x00\x00\x00\x49\x45\x4e\x44\xae\x42\x60\x82";
/// 2012-01-25T10:00:00Z, the O2 re-enactment's first packet.
const O2_START: u64 = 1_327_485_600;
/// 2013-03-04T12:00:00Z, the other fixtures' epoch.
pub(super) const T0: u64 = 1_362_398_400;
/// The subscriber of most fixtures (Ofcom drama range).
pub(super) const MSISDN: &str = "447700900123";
/// A second fictional subscriber.
pub(super) const MSISDN2: &str = "447700900456";

/// Every fixture, in a fixed order.
pub fn all() -> Vec<Fixture> {
    vec![
        o2_2012(),
        clean(),
        keepalive_pipelined(),
        split_headers(),
        reorder_retransmit(),
        midstream(),
        gap(),
        bodies(),
        big_headers(),
        server_lookalike(),
        port_reuse(),
        vlan(),
        links(),
        pcap_variant_be(),
        pcap_variant_ns(),
        snaplen(),
        non_http(),
        truncated(),
        value_leaks(),
        national_region(),
        known_number(),
        not_a_capture(),
        empty(),
        super::tunnels::gtpu(),
        super::tunnels::gtpu_handover(),
        super::tunnels::gre_erspan(),
        super::tunnels::vxlan(),
        super::tunnels::mpls(),
        super::tunnels::ipip(),
        super::tunnels::pppoe(),
        super::tunnels::nested(),
        super::tunnels::ip_fragments(),
        super::tunnels::teardrop(),
        super::links::wifi(),
        super::links::aruba(),
        super::links::nflog_fixture(),
        super::links::serial_links(),
        super::links::overlays(),
        super::proxies::proxy_wrappers(),
        super::proxies::request_lines(),
        mask_alike(0),
        mask_alike(1),
        super::bodies::request_bodies(),
    ]
}

pub(super) fn fixture(
    name: &'static str,
    t: &Trace,
    bytes: Vec<u8>,
    description: &str,
    notes: &str,
) -> Fixture {
    let (requests, optional_requests) = t.truth();
    Fixture {
        name,
        bytes,
        truth: Truth {
            fixture: name.into(),
            description: description.into(),
            requests,
            optional_requests,
            pushed_requests: Vec::new(),
            notes: notes.into(),
        },
    }
}

pub(super) fn eth_pcap(t: &Trace) -> Vec<u8> {
    t.pcap(Endian::Little, false, SNAPLEN, Link::Ethernet)
}

/// Position of `needle` in `hay`; panics if absent.
fn find(hay: &[u8], needle: &[u8]) -> usize {
    hay.windows(needle.len())
        .position(|w| w == needle)
        .unwrap_or_else(|| panic!("{:?} not found", String::from_utf8_lossy(needle)))
}

/// A fixed-seed generator of filler text and bytes.
pub(super) struct Lcg(pub(super) u64);

impl Lcg {
    fn next(&mut self) -> u32 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) as u32
    }

    /// Lower-case letters only (never a digit run an analyzer could take
    /// for a phone number).
    pub(super) fn letters(&mut self, n: usize) -> String {
        (0..n)
            .map(|_| char::from(b'a' + (self.next() % 26) as u8))
            .collect()
    }

    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
}

/// Sends prepared client segments one by one with `gap_us` between them,
/// then the server ACKs.
fn emit_slowly(c: &mut Conversation, t: &mut Trace, segs: &[Seg], gap_us: u64) {
    for (i, s) in segs.iter().enumerate() {
        if i > 0 {
            t.advance_us(gap_us);
        }
        c.emit(t, s);
    }
    t.advance_us(15_000);
    c.ack(t, false);
}

/// A short response with no Date or Server header.
fn tiny_response(content_type: &str, body: &str) -> Vec<u8> {
    format!(
        "HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

// 1 ─────────────────────────────────────────────────────────────────────────

fn o2_req(uri: &str, host: &str, accept: &str, extra: &[(&str, &str)]) -> Req {
    let mut r = Req::get(uri, host)
        .h("Accept-Encoding", "gzip")
        .h("Accept-Language", "en-GB, en-US")
        .h("User-Agent", UA_ANDROID)
        .h("Accept", accept);
    for (n, v) in extra {
        r = r.h(n, v);
    }
    r.h("Accept-Charset", "utf-8, iso-8859-1, utf-16, *;q=0.7")
        .h("x-wap-profile", "http://uaprof.example.com/GT-I9100.xml")
        .leak("x-up-calling-line-id", MSISDN)
}

fn o2_2012() -> Fixture {
    const PAGE: &str = "application/xml,application/xhtml+xml,text/html;q=0.9,text/plain;q=0.8,image/png,*/*;q=0.5";
    const CSS: &str = "text/css,*/*;q=0.1";
    const ANY: &str = "*/*";
    let mut t = Trace::new(O2_START, 0);
    let client = "10.112.47.9";
    let asset = |t: &Trace, ct: &str, body: &[u8]| response(t.now_ns, "200 OK", ct, body);

    // www.example.com: a home page and two assets on one keep-alive connection.
    let mut c1 = Conversation::new(
        &mut t,
        &format!("{client}:41822"),
        "192.0.2.10:80",
        0x6b8b_4567,
        0x327b_23c6,
    );
    c1.handshake(&mut t);
    c1.exchange(
        &mut t,
        &o2_req("/", "www.example.com", PAGE, &[]),
        "Example home",
    );
    let r = o2_req(
        "/css/site.css",
        "www.example.com",
        CSS,
        &[("Referer", "http://www.example.com/")],
    );
    c1.request(&mut t, &r);
    let b = asset(&t, "text/css", b"body{margin:0;font-family:sans-serif}\n");
    c1.respond(&mut t, &b);
    let r = o2_req(
        "/img/logo.png",
        "www.example.com",
        ANY,
        &[("Referer", "http://www.example.com/")],
    );
    c1.request(&mut t, &r);
    let b = asset(&t, "image/png", PNG);
    c1.respond(&mut t, &b);
    t.advance_us(2_000_000);

    // Two parallel connections, requests interleaved in time.
    let mut c2 = Conversation::new(
        &mut t,
        &format!("{client}:41823"),
        "198.51.100.20:80",
        0x643c_9869,
        0x6633_4873,
    );
    let mut c3 = Conversation::new(
        &mut t,
        &format!("{client}:41824"),
        "203.0.113.30:80",
        0x7445_4a5c,
        0x1b2d_5a10,
    );
    c2.handshake(&mut t);
    c3.handshake(&mut t);
    let r = o2_req(
        "/mobile/",
        "news.example.net",
        PAGE,
        &[("Cookie", "edition=uk; sid=a8f3c2e1b7; seen=3")],
    );
    c2.request(&mut t, &r);
    let r = o2_req(
        "/weather/london",
        "m.example.org",
        PAGE,
        &[("Referer", "http://www.example.com/")],
    );
    c3.request(&mut t, &r);
    let b = html(t.now_ns, "Mobile news");
    c2.respond(&mut t, &b);
    let b = html(t.now_ns, "London weather");
    c3.respond(&mut t, &b);
    t.advance_us(1_500_000);
    let r = o2_req(
        "/mobile/story/uk-politics",
        "news.example.net",
        PAGE,
        &[
            ("Referer", "http://news.example.net/mobile/"),
            ("Cookie", "edition=uk; sid=a8f3c2e1b7; seen=4"),
        ],
    );
    c2.request(&mut t, &r);
    let r = o2_req(
        "/weather/london/hourly",
        "m.example.org",
        PAGE,
        &[("Referer", "http://m.example.org/weather/london")],
    );
    c3.request(&mut t, &r);
    let b = html(t.now_ns, "Politics");
    c2.respond(&mut t, &b);
    let b = html(t.now_ns, "Hourly forecast");
    c3.respond(&mut t, &b);
    let r = o2_req(
        "/weather/img/sun.png",
        "m.example.org",
        ANY,
        &[("Referer", "http://m.example.org/weather/london/hourly")],
    );
    c3.request(&mut t, &r);
    let b = asset(&t, "image/png", PNG);
    c3.respond(&mut t, &b);
    c2.fin_close(&mut t);
    c3.fin_close(&mut t);
    c1.fin_close(&mut t);
    t.advance_us(3_000_000);

    // static.example.com: scripts and a favicon.
    let mut c4 = Conversation::new(
        &mut t,
        &format!("{client}:41825"),
        "192.0.2.44:80",
        0x2ae8_944a,
        0x625b_b8e1,
    );
    c4.handshake(&mut t);
    for (uri, ct, body) in [
        (
            "/js/app.js",
            "application/javascript",
            &b"var app={start:function(){}};\n"[..],
        ),
        ("/img/sprite.png", "image/png", PNG),
        ("/favicon.ico", "image/x-icon", &b"\0\0\x01\0"[..]),
    ] {
        let r = o2_req(
            uri,
            "static.example.com",
            ANY,
            &[("Referer", "http://shop.example.com/offers")],
        );
        c4.request(&mut t, &r);
        let b = asset(&t, ct, body);
        c4.respond(&mut t, &b);
    }
    // shop.example.com: offers pages with a cookie.
    let mut c5 = Conversation::new(
        &mut t,
        &format!("{client}:41826"),
        "198.51.100.80:80",
        0x2eb1_41f2,
        0x41b7_1efb,
    );
    c5.handshake(&mut t);
    let cookie = [("Cookie", "basket=empty; PHPSESSID=q2kd9vl3ne5r0u7cjh1o")];
    c5.exchange(
        &mut t,
        &o2_req("/offers", "shop.example.com", PAGE, &cookie),
        "Offers",
    );
    let r = o2_req(
        "/offers?page=2",
        "shop.example.com",
        PAGE,
        &[("Referer", "http://shop.example.com/offers"), cookie[0]],
    );
    c5.exchange(&mut t, &r, "Offers, page 2");
    c4.fin_close(&mut t);
    c5.fin_close(&mut t);

    fixture(
        "o2-2012.pcap",
        &t,
        eth_pcap(&t),
        "Re-enacts O2 UK, January 2012: one subscriber (10.112.47.9) browsing five sites with a 2012 Android browser over five keep-alive TCP connections (two of them in parallel), every request carrying the operator-injected header x-up-calling-line-id: 447700900123 (bare international digits).",
        "Every one of the 13 requests leaks. Ethernet, classic little-endian microsecond pcap, clean handshakes and FIN closes.",
    )
}

// 2 ─────────────────────────────────────────────────────────────────────────

fn clean() -> Fixture {
    let mut t = Trace::new(T0, 0);
    let mut c = Conversation::new(
        &mut t,
        "10.0.0.7:50210",
        "192.0.2.20:80",
        0x1000_0000,
        0x2000_0000,
    );
    c.handshake(&mut t);
    let base = |uri: &str| {
        Req::get(uri, "www.example.com")
            .h("User-Agent", UA_DESKTOP)
            .h(
                "Accept",
                "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
            )
            .h("Accept-Language", "en-gb,en;q=0.5")
            .h("X-Forwarded-For", "198.51.100.23")
            .h("Cookie", "session=3f9cabe1d04c; theme=dark; visits=12")
    };
    c.exchange(&mut t, &base("/"), "Home");
    c.exchange(
        &mut t,
        &base("/about").h("Referer", "http://www.example.com/"),
        "About",
    );
    let form = Req::new("POST", "/search")
        .h("Host", "www.example.com")
        .h("User-Agent", UA_DESKTOP)
        .h("Content-Type", "application/x-www-form-urlencoded")
        .h("Cookie", "session=3f9cabe1d04c; theme=dark; visits=12")
        .body(b"q=weather+london&lang=en&page=2");
    c.exchange(&mut t, &form, "Results");
    c.fin_close(&mut t);
    let mut d = Conversation::new(
        &mut t,
        "10.0.0.7:50211",
        "203.0.113.21:80",
        0x3000_0000,
        0x4000_0000,
    );
    d.handshake(&mut t);
    let r = Req::get("/news/2013/03/04/index.html", "www.example.org")
        .h("User-Agent", UA_DESKTOP)
        .h("Accept", "*/*")
        .h("X-Forwarded-For", "203.0.113.9, 10.1.2.3")
        .h("Via", "1.1 proxy.example.net (squid/3.1)")
        .h("If-Modified-Since", "Sun, 03 Mar 2013 18:00:00 GMT");
    d.exchange(&mut t, &r, "News");
    d.fin_close(&mut t);
    fixture(
        "clean.pcap",
        &t,
        eth_pcap(&t),
        "Ordinary desktop browsing with no subscriber header at all: X-Forwarded-For, Cookie, Via and dates carry numbers, but no phone number or subscriber ID.",
        "Four requests, none leaks: the analyzer must report no leak (the exit-status-0 case).",
    )
}

// 3 ─────────────────────────────────────────────────────────────────────────

fn keepalive_pipelined() -> Fixture {
    let mut t = Trace::new(T0 + 3600, 0);
    t.step_ns = 80_000;
    let mut c = Conversation::new(
        &mut t,
        "10.20.30.40:50400",
        "192.0.2.80:80",
        0x3c6e_f372,
        0x9e37_79b9,
    );
    c.handshake(&mut t);
    let mk = |i: u32| {
        let r = Req::get(&format!("/api/items/{i}"), "api.example.com")
            .h("User-Agent", "ExampleApp/2.1 (Android 4.0.4)")
            .h("Accept", "application/json");
        if i.is_multiple_of(10) {
            r.leak("X-MSISDN", &format!("+{MSISDN2}"))
        } else {
            r
        }
    };
    let mut i = 1;
    while i <= 150 {
        let group = if (61..=120).contains(&i) { 3 } else { 1 };
        let mut data = Vec::new();
        let mut answer = Vec::new();
        for k in i..i + group {
            let r = mk(k);
            c.note(
                &mut t,
                c.c_next.wrapping_add(data.len() as u32),
                &r,
                false,
                false,
                r.leak_headers(),
            );
            data.extend_from_slice(&r.bytes());
            answer.extend_from_slice(&tiny_response(
                "application/json",
                &format!("{{\"item\":{k}}}\n"),
            ));
        }
        let segs = c.split(true, &data, &[1448]);
        assert_eq!(segs.len(), 1);
        c.emit_all(&mut t, &segs);
        t.advance_us(30_000);
        let segs = c.split(false, &answer, &[1448]);
        c.emit_all(&mut t, &segs);
        t.advance_us(50_000);
        i += group;
    }
    c.ack(&mut t, true);
    c.fin_close(&mut t);
    fixture(
        "keepalive-pipelined.pcap",
        &t,
        eth_pcap(&t),
        "One keep-alive connection carrying 150 requests; requests 61 to 120 are pipelined three per TCP segment (and answered three per segment); every tenth request carries X-MSISDN: +447700900456.",
        "150 requests in stream order; the 15 with numbers divisible by 10 (/api/items/10, /20, ... /150) leak x-msisdn. Pure ACKs are left out: each request and response segment carries the ACK.",
    )
}

// 4 ─────────────────────────────────────────────────────────────────────────

fn split_headers() -> Fixture {
    let mut t = Trace::new(T0 + 7200, 0);
    t.step_ns = 20_000;
    let mut c = Conversation::new(
        &mut t,
        "10.0.0.8:52000",
        "203.0.113.50:80",
        1_000_000,
        2_000_000,
    );
    c.handshake(&mut t);
    let base = |uri: &str| {
        Req::get(uri, "www.example.net").h("User-Agent", "Mozilla/5.0 (Linux; Android 4.0.4)")
    };

    // A: the whole message one byte per segment.
    let a = base("/split/one-byte")
        .leak("X-MSISDN", MSISDN)
        .h("Accept", "*/*");
    c.request_sizes(&mut t, &a, &[1]);
    let b = html(t.now_ns, "A");
    c.respond(&mut t, &b);

    // B: split inside the header name.
    let r = base("/split/name")
        .leak("X-MSISDN", MSISDN)
        .h("Accept", "*/*");
    let bytes = r.bytes();
    let p = find(&bytes, b"X-MSI") + 5;
    c.note_next(&mut t, &r);
    let segs = c.split(true, &bytes, &[p, bytes.len()]);
    emit_slowly(&mut c, &mut t, &segs, 60_000);
    let b = html(t.now_ns, "B");
    c.respond(&mut t, &b);

    // C: the final empty line alone in the last segment, 200 ms later.
    let r = base("/split/crlf-crlf").leak("X-Up-Calling-Line-Id", MSISDN);
    let bytes = r.bytes();
    c.note_next(&mut t, &r);
    let segs = c.split(true, &bytes, &[bytes.len() - 2, 2]);
    emit_slowly(&mut c, &mut t, &segs, 200_000);
    let b = html(t.now_ns, "C");
    c.respond(&mut t, &b);

    // D: split inside the phone number.
    let r = base("/split/value")
        .leak("X-Nokia-MSISDN", MSISDN)
        .h("Accept", "*/*");
    let bytes = r.bytes();
    let p = find(&bytes, b"4477009") + 5;
    c.note_next(&mut t, &r);
    let segs = c.split(true, &bytes, &[p, bytes.len()]);
    emit_slowly(&mut c, &mut t, &segs, 60_000);
    let b = html(t.now_ns, "D");
    c.respond(&mut t, &b);

    // E: split between the final CR and LF; clean.
    let r = base("/split/cr-lf").h("Accept", "*/*");
    let bytes = r.bytes();
    c.note_next(&mut t, &r);
    let segs = c.split(true, &bytes, &[bytes.len() - 1, 1]);
    emit_slowly(&mut c, &mut t, &segs, 60_000);
    let b = html(t.now_ns, "E");
    c.respond(&mut t, &b);
    c.fin_close(&mut t);
    fixture(
        "split-headers.pcap",
        &t,
        eth_pcap(&t),
        "Header blocks split at awkward places on one keep-alive connection: A one byte per TCP segment (whole message), B inside a header name (\"X-MSI\" | \"SDN: 447700900123\"), C between the last two CRLFs (the empty line arrives alone 200 ms later), D inside the phone number (\"44770\" | \"0900123\"), E between the final CR and LF.",
        "Five requests; A, B (x-msisdn), C (x-up-calling-line-id) and D (x-nokia-msisdn) leak, E is clean.",
    )
}

// 5 ─────────────────────────────────────────────────────────────────────────

fn reorder_retransmit() -> Fixture {
    let mut t = Trace::new(T0 + 10_800, 0);
    let mut rng = Lcg(5);
    let mut c = Conversation::new(
        &mut t,
        "10.0.0.9:53100",
        "198.51.100.60:80",
        0x0bad_cafe,
        0x5eed_f00d,
    );
    c.handshake(&mut t);
    let cookie = format!("prefs={}", rng.letters(900));
    let r1 = Req::get("/reorder/form", "upload.example.com")
        .h("User-Agent", UA_DESKTOP)
        .h(
            "Accept",
            "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
        )
        .h("Cookie", &cookie)
        .leak("X-MSISDN", MSISDN)
        .h("Accept-Language", "en-gb,en;q=0.5")
        .h("Referer", "http://upload.example.com/")
        .h("X-Requested-With", &rng.letters(300));
    let bytes = r1.bytes();
    let p = find(&bytes, b"X-MSISDN: 447700900123");
    let seq0 = c.note_next(&mut t, &r1);
    let cut2 = p + 14; // S2 | S3 inside the number
    let segs = c.split(true, &bytes, &[400, cut2 - 400, 186, 10_000]);
    assert_eq!(segs.len(), 4);
    // The overlapping retransmission: same range, different bytes.
    let (lo, hi) = (p - 30, p + 40);
    let mut changed = bytes[lo..hi].to_vec();
    let at = p - lo;
    changed[at..at + 22].copy_from_slice(b"X-Padding: zzzzzzzzzzz");
    let overlap = c.seg_at(true, seq0.wrapping_add(lo as u32), ACK, &changed);
    let order = [&segs[0], &segs[2], &segs[1], &segs[1], &overlap, &segs[3]];
    for s in order {
        c.emit(&mut t, s);
        t.advance_us(3_000);
    }
    c.ack(&mut t, false);
    let b = html(t.now_ns, "Form");
    c.respond(&mut t, &b);

    // A second request whose only segment is retransmitted after the response.
    let r2 = Req::get("/reorder/next", "upload.example.com")
        .h("User-Agent", UA_DESKTOP)
        .leak("X-Up-Calling-Line-Id", MSISDN);
    c.note_next(&mut t, &r2);
    let segs = c.split(true, &r2.bytes(), &[1448]);
    c.emit_all(&mut t, &segs);
    t.advance_us(40_000);
    let b = html(t.now_ns, "Next");
    let resp = c.split(false, &b, &[1448]);
    c.emit_all(&mut t, &resp);
    t.advance_us(200_000);
    c.emit_all(&mut t, &segs); // spurious retransmission, identical bytes
    c.ack(&mut t, false);
    c.fin_close(&mut t);

    // Sequence numbers wrapping inside a request, delivered out of order.
    t.advance_us(500_000);
    let mut w = Conversation::new(
        &mut t,
        "10.0.0.9:53101",
        "198.51.100.61:80",
        0xffff_fe00,
        0xffff_fff0,
    );
    w.handshake(&mut t);
    let r3 = Req::get("/wrap/first", "upload.example.com")
        .h("User-Agent", UA_DESKTOP)
        .h("Cookie", &format!("big={}", rng.letters(420)))
        .leak("X-MSISDN", MSISDN)
        .h("Accept", "*/*");
    w.note_next(&mut t, &r3);
    let segs = w.split(true, &r3.bytes(), &[200]);
    assert!(
        segs.len() >= 4 && segs[2].seq > segs[3].seq,
        "wrap inside segment 3"
    );
    let order = [&segs[0], &segs[2], &segs[1]];
    for s in order.into_iter().chain(&segs[3..]) {
        w.emit(&mut t, s);
        t.advance_us(2_000);
    }
    w.ack(&mut t, false);
    let b = html(t.now_ns, "Wrapped");
    w.respond(&mut t, &b);
    let r4 = Req::get("/wrap/second", "upload.example.com").leak("X-MSISDN", MSISDN);
    w.exchange(&mut t, &r4, "After the wrap");
    w.fin_close(&mut t);

    fixture(
        "reorder-retransmit.pcap",
        &t,
        eth_pcap(&t),
        "Out-of-order, duplicated and overlapping TCP segments. Connection 1: a 4-segment request delivered S1, S3, S2, S2 again, then an overlapping retransmission (70 bytes spanning S2/S3) whose bytes differ, then S4; then a request whose segment is spuriously retransmitted after the response. Connection 2: client ISN 0xfffffe00 and server ISN 0xfffffff0, so sequence numbers wrap inside the first request (within its third segment, which is delivered before the second) and inside the response.",
        "First-seen bytes win. The original bytes of /reorder/form carry \"X-MSISDN: 447700900123\" across the S2/S3 boundary; the overlapping retransmission carries \"X-Padding: zzzzzzzzzzz\" (same length) at the same offsets and must be ignored, so the request is reported with x-msisdn. The retransmitted /reorder/next is reported once. All four requests leak.",
    )
}

// 6 ─────────────────────────────────────────────────────────────────────────

fn midstream() -> Fixture {
    let mut t = Trace::new(T0 + 14_400, 0);
    // A: first packet is the server's response to a request not captured.
    let mut a = Conversation::new(
        &mut t,
        "10.0.0.12:49822",
        "203.0.113.70:8080",
        0x1a2b_3c4d,
        0x5e6f_7081,
    );
    let b = html(t.now_ns, "Answer to an unseen request");
    a.send(&mut t, false, &b);
    t.advance_us(500_000);
    let r = Req::get("/next", "app.example.net:8080")
        .h("User-Agent", UA_IPHONE)
        .leak("X-MSISDN", MSISDN);
    a.exchange(&mut t, &r, "Next");
    let r = Req::get("/more", "app.example.net:8080")
        .h("User-Agent", UA_IPHONE)
        .h("Accept", "*/*");
    a.exchange(&mut t, &r, "More");
    a.fin_close(&mut t);

    // B: first packet is in the middle of a POST body.
    t.advance_us(200_000);
    let mut bc = Conversation::new(
        &mut t,
        "10.0.0.12:49830",
        "198.51.100.90:80",
        0x7700_0001,
        0x0123_4567,
    );
    let tail = b"ment=hello+from+the+train&phone=447700900123&name=Sam&submit=Send";
    bc.send_sizes(&mut t, true, tail, &[30]);
    let see_other = b"HTTP/1.1 303 See Other\r\nLocation: /thanks\r\nContent-Length: 0\r\n\r\n";
    bc.respond(&mut t, see_other);
    let r = Req::get("/thanks", "forms.example.com")
        .h("User-Agent", UA_IPHONE)
        .leak("X-MSISDN", MSISDN);
    bc.exchange(&mut t, &r, "Thanks");
    bc.fin_close(&mut t);
    fixture(
        "midstream.pcap",
        &t,
        eth_pcap(&t),
        "Flows whose handshake is not in the capture. Flow A (port 8080): the first packet is the server's response to an unseen request; then the client sends requests on the same connection, so the client is the side that sends a request line, not the first sender. Flow B: the first packet is the middle of a POST body (form data containing phone=447700900123), then the server's 303 and a new client request.",
        "Report GET /next (x-msisdn) and GET /more (clean) on flow A with 10.0.0.12:49822 as the client, and GET /thanks (x-msisdn) on flow B. The body tail of flow B is not a request and its number is not in a header.",
    )
}

// 7 ─────────────────────────────────────────────────────────────────────────

fn gap() -> Fixture {
    let mut t = Trace::new(T0 + 18_000, 0);
    let mut rng = Lcg(7);
    let mut c = Conversation::new(
        &mut t,
        "10.0.0.14:50500",
        "192.0.2.120:80",
        0x2222_0000,
        0x3333_0000,
    );
    c.handshake(&mut t);
    let base = |uri: &str| {
        Req::get(uri, "www.example.org")
            .h("User-Agent", UA_ANDROID)
            .h("Accept", "*/*")
    };
    c.exchange(&mut t, &base("/gap/one").leak("X-MSISDN", MSISDN), "One");

    let r2 = base("/gap/two")
        .h("Accept-Language", "en-GB")
        .leak("X-MSISDN", MSISDN)
        .h("Cookie", &format!("state={}", rng.letters(120)));
    let bytes = r2.bytes();
    let p = find(&bytes, b"X-MSISDN");
    let first = c.c_next;
    let segs = c.split(true, &bytes, &[p, 60, 10_000]);
    assert_eq!(segs.len(), 3);
    c.note(&mut t, first, &r2, false, true, r2.leak_headers_within(p));
    c.emit(&mut t, &segs[0]);
    t.advance_us(1_000);
    // segs[1] was on the wire (the server answers) but is not captured.
    t.advance_us(1_000);
    c.emit(&mut t, &segs[2]);
    t.advance_us(15_000);
    c.ack(&mut t, false);
    let b = html(t.now_ns, "Two");
    c.respond(&mut t, &b);
    c.exchange(
        &mut t,
        &base("/gap/three").leak("X-Up-Calling-Line-Id", MSISDN),
        "Three",
    );
    c.fin_close(&mut t);

    // A missing body segment of a POST with a known Content-Length.
    let mut d = Conversation::new(
        &mut t,
        "10.0.0.14:50501",
        "192.0.2.121:80",
        0x4444_0000,
        0x5555_0000,
    );
    d.handshake(&mut t);
    let body = rng.letters(3000);
    let post = Req::new("POST", "/gap/upload")
        .h("Host", "upload.example.org")
        .h("User-Agent", UA_ANDROID)
        .h("Content-Type", "text/plain")
        .leak("X-MSISDN", MSISDN)
        .body(body.as_bytes());
    let head = post.head_bytes().len();
    d.note_next(&mut t, &post);
    let segs = d.split(true, &post.bytes(), &[head, 1000]);
    assert_eq!(segs.len(), 4);
    for s in [&segs[0], &segs[1], &segs[3]] {
        d.emit(&mut t, s);
        t.advance_us(2_000);
    }
    d.ack(&mut t, false);
    let b = html(t.now_ns, "Uploaded");
    d.respond(&mut t, &b);
    let status = Req::get("/gap/status", "upload.example.org")
        .h("User-Agent", UA_ANDROID)
        .h("Accept", "*/*")
        .leak("X-MSISDN", MSISDN);
    d.exchange(&mut t, &status, "Status");
    d.fin_close(&mut t);
    fixture(
        "gap.pcap",
        &t,
        eth_pcap(&t),
        "Segments missing from the capture and never retransmitted (the server got them: its ACKs cover them). Connection 1: three keep-alive requests; the middle segment of request 2's header block (the one with its X-MSISDN line) is missing. Connection 2: a POST with Content-Length 3000 whose second body segment (bytes 1000..2000 of the body) is missing, then another request.",
        "Request 2 (GET /gap/two) is cut by the gap: it is reported as truncated with the header lines captured before the gap, and without a leak, since its X-MSISDN line was never captured. GET /gap/one and GET /gap/three are reported; on connection 2 the POST (its headers are complete, x-msisdn) and GET /gap/status (x-msisdn) are reported: the body gap must be skipped by Content-Length.",
    )
}

// 8 ─────────────────────────────────────────────────────────────────────────

fn bodies() -> Fixture {
    let mut t = Trace::new(T0 + 21_600, 0);
    let mut c = Conversation::new(
        &mut t,
        "10.0.0.16:51200",
        "203.0.113.90:80",
        0x0101_0101,
        0x0202_0202,
    );
    c.handshake(&mut t);
    let body = format!(
        "note=hello\r\nX-MSISDN: {MSISDN}\r\nGET /fake HTTP/1.1\r\nHost: fake.example\r\nX-Up-Calling-Line-Id: {MSISDN2}\r\n\r\nend of note\r\n"
    );
    let post = Req::new("POST", "/notes")
        .h("Host", "forms.example.com")
        .h("User-Agent", UA_DESKTOP)
        .h("Content-Type", "text/plain")
        .body(body.as_bytes())
        .body_known();
    let bytes = post.bytes();
    let g = find(&bytes, b"GET /fake");
    let head = post.head_bytes().len();
    c.note_next(&mut t, &post);
    let segs = c.split(true, &bytes, &[head, g - head, 10_000]);
    emit_slowly(&mut c, &mut t, &segs, 5_000);
    let b = html(t.now_ns, "Saved");
    c.respond(&mut t, &b);
    let r = Req::get("/notes/after", "forms.example.com").h("User-Agent", UA_DESKTOP);
    c.exchange(&mut t, &r, "After");
    c.fin_close(&mut t);

    let mut d = Conversation::new(
        &mut t,
        "10.0.0.16:51201",
        "203.0.113.90:80",
        0x0303_0303,
        0x0404_0404,
    );
    d.handshake(&mut t);
    let chunks: [&str; 3] = [
        &format!("X-MSISDN: {MSISDN}\r\n"),
        "GET /fake2 HTTP/1.1\r\nHost: fake.example\r\nX-MSISDN: 447700900456\r\n\r\n",
        "plain tail of the upload",
    ];
    let mut cb = String::new();
    for (i, ch) in chunks.iter().enumerate() {
        cb.push_str(&format!("{:X};part={i};note=\"x\"\r\n{ch}\r\n", ch.len()));
    }
    cb.push_str("0\r\nX-Checksum: 9f2c\r\nX-Note: done\r\n\r\n");
    let post = Req::new("POST", "/chunked")
        .h("Host", "forms.example.com")
        .h("User-Agent", UA_DESKTOP)
        .h("Transfer-Encoding", "chunked")
        .h("Trailer", "X-Checksum, X-Note")
        .raw_body(cb.as_bytes())
        .body_known();
    let bytes = post.bytes();
    let g = find(&bytes, b"GET /fake2");
    let head = post.head_bytes().len();
    d.note_next(&mut t, &post);
    let segs = d.split(true, &bytes, &[head, g - head, 25, 10_000]);
    emit_slowly(&mut d, &mut t, &segs, 5_000);
    let b = html(t.now_ns, "Chunks saved");
    d.respond(&mut t, &b);
    let r = Req::get("/chunked/after", "forms.example.com")
        .h("User-Agent", UA_DESKTOP)
        .leak("X-MSISDN", MSISDN);
    d.exchange(&mut t, &r, "After chunks");
    d.fin_close(&mut t);
    fixture(
        "bodies.pcap",
        &t,
        eth_pcap(&t),
        "Request bodies that look like headers and requests. Connection 1: a POST with Content-Length whose body holds \"X-MSISDN: 447700900123\", \"GET /fake HTTP/1.1\" with a Host and an X-Up-Calling-Line-Id line; a TCP segment starts exactly at \"GET /fake\". Connection 2: a chunked POST (chunk extensions, trailers X-Checksum and X-Note) whose chunks hold the same kind of text (\"GET /fake2 ...\" starts a segment). Each is followed by a real request on the same connection.",
        "Four real requests: POST /notes and GET /notes/after (clean), POST /chunked (clean) and GET /chunked/after (x-msisdn). Nothing in a body is a header or a request: /fake and /fake2 must not be reported. The two bodies hold the known number bare, without a phone-like key: found only with --number, as a body leak.",
    )
}

// 9 ─────────────────────────────────────────────────────────────────────────

fn big_headers() -> Fixture {
    let mut t = Trace::new(T0 + 25_200, 0);
    t.step_ns = 40_000;
    let mut rng = Lcg(9);
    let mut c = Conversation::new(
        &mut t,
        "10.0.0.18:51800",
        "198.51.100.100:80",
        0x0600_0000,
        0x0700_0000,
    );
    c.handshake(&mut t);
    let mut r = Req::get("/many-headers", "www.example.com")
        .h("User-Agent", UA_DESKTOP)
        .h("Accept", "*/*")
        .h("Accept-Language", "en")
        .h("Cookie", &format!("s={}", rng.letters(16_384 - 2)));
    for n in 6..=150 {
        r = if n == 140 {
            r.leak("X-MSISDN", MSISDN)
        } else {
            r.h(&format!("X-Example-Header-{n:03}"), &rng.letters(20))
        };
    }
    assert_eq!(r.headers.len(), 150);
    c.exchange(&mut t, &r, "Many headers");

    let mut huge = Req::get("/huge-headers", "www.example.com")
        .h("User-Agent", UA_DESKTOP)
        .leak("X-MSISDN", MSISDN);
    let mut n = 0;
    while huge.head_bytes().len() < 80 * 1024 {
        n += 1;
        huge = huge.h(&format!("X-Filler-{n:04}"), &rng.letters(100));
    }
    assert!(find(&huge.head_bytes(), b"X-MSISDN") < 1024);
    c.note(
        &mut t,
        c.c_next,
        &huge,
        false,
        true,
        huge.leak_headers_within(64 * 1024),
    );
    c.send(&mut t, true, &huge.bytes());
    let b = html(t.now_ns, "Huge");
    c.respond(&mut t, &b);
    t.advance_us(100_000);
    let r = Req::get("/after-huge", "www.example.com")
        .h("User-Agent", UA_DESKTOP)
        .leak("X-Up-Calling-Line-Id", MSISDN);
    c.exchange(&mut t, &r, "After");
    c.fin_close(&mut t);
    fixture(
        "big-headers.pcap",
        &t,
        eth_pcap(&t),
        "Large header blocks on one keep-alive connection: 150 headers with a 16 KiB Cookie and X-MSISDN as header 140 (about 20 KiB, under a 64 KiB limit); then a request whose header block is over 80 KiB (X-MSISDN within its first 1 KiB, then filler headers); then a normal request.",
        "Report all three: /many-headers (x-msisdn), /huge-headers as truncated (its block exceeds a 64 KiB header limit) with x-msisdn, found before the cut, and /after-huge (x-up-calling-line-id): the analyzer must skip to the end of the oversized block and resume.",
    )
}

// 10 ────────────────────────────────────────────────────────────────────────

fn server_lookalike() -> Fixture {
    let mut t = Trace::new(T0 + 28_800, 0);
    let fake = format!("GET /x HTTP/1.1\r\nX-MSISDN: {MSISDN}\r\n\r\n");
    let mut c = Conversation::new(
        &mut t,
        "10.0.0.20:52300",
        "192.0.2.140:80",
        0x0a0a_0a0a,
        0x0b0b_0b0b,
    );
    c.handshake(&mut t);
    let r = Req::get("/http-tutorial", "docs.example.com")
        .h("User-Agent", UA_DESKTOP)
        .h("Accept", "text/html");
    c.request(&mut t, &r);
    let page = format!(
        "<html><body><p>A request looks like this:</p>\n{fake}<p>That is all.</p></body></html>\n"
    );
    let resp = response(t.now_ns, "200 OK", "text/html", page.as_bytes());
    let g = find(&resp, b"GET /x");
    t.advance_us(40_000);
    c.send_sizes(&mut t, false, &resp, &[g, 10_000]);
    let r = Req::get("/http-tutorial/2", "docs.example.com")
        .h("User-Agent", UA_DESKTOP)
        .h("Referer", "http://docs.example.com/http-tutorial");
    c.exchange(&mut t, &r, "Part 2");
    c.fin_close(&mut t);

    // A server that speaks first, with request-like text.
    let mut d = Conversation::new(
        &mut t,
        "10.0.0.20:52301",
        "192.0.2.141:8080",
        0x0c0c_0c0c,
        0x0d0d_0d0d,
    );
    d.handshake(&mut t);
    d.send(&mut t, false, fake.as_bytes());
    t.advance_us(100_000);
    let r = Req::get("/real", "echo.example.com:8080").h("User-Agent", "curl/7.29.0");
    d.exchange(&mut t, &r, "Real");
    d.fin_close(&mut t);
    fixture(
        "server-lookalike.pcap",
        &t,
        eth_pcap(&t),
        "Request-like text sent by servers: a response body containing \"GET /x HTTP/1.1\\r\\nX-MSISDN: 447700900123\\r\\n\\r\\n\" (and a response segment starting with it), and a server on port 8080 that speaks first with the same text right after the handshake. The clients' real requests are clean.",
        "Only the three client requests are reported, none leaks: the handshake says who the client is, and server-to-client bytes are never parsed as requests.",
    )
}

// 11 ────────────────────────────────────────────────────────────────────────

fn port_reuse() -> Fixture {
    let mut t = Trace::new(T0 + 32_400, 0);
    let (cl, sv) = ("10.0.0.22:50000", "198.51.100.7:80");
    let base = |uri: &str| Req::get(uri, "www.example.com").h("User-Agent", UA_ANDROID);
    let mut a = Conversation::new(&mut t, cl, sv, 1_000_000, 7_000_000);
    a.handshake(&mut t);
    a.exchange(&mut t, &base("/reuse/first"), "First");
    a.fin_close(&mut t);
    let next_isn = a.c_next.wrapping_add(64_000);
    t.advance_us(1_000_000);
    let mut b = Conversation::new(&mut t, cl, sv, next_isn, 9_000_000);
    b.handshake(&mut t);
    b.exchange(
        &mut t,
        &base("/reuse/second").leak("X-MSISDN", MSISDN),
        "Second",
    );
    b.rst(&mut t, true);
    t.advance_us(1_000_000);
    let mut c = Conversation::new(&mut t, cl, sv, 500_000, 3_000_000);
    c.handshake(&mut t);
    c.exchange(
        &mut t,
        &base("/reuse/third").leak("X-MSISDN", MSISDN),
        "Third",
    );
    c.fin_close(&mut t);
    fixture(
        "port-reuse.pcap",
        &t,
        eth_pcap(&t),
        "Three TCP connections on the same 4-tuple (10.0.0.22:50000 -> 198.51.100.7:80): the first closed with FIN/FIN; the second opened with a new, higher ISN, carries a leaking request and is closed by a client RST; the third opens right after with a lower ISN than the second and leaks again.",
        "Each request is reported exactly once: /reuse/first (clean), /reuse/second and /reuse/third (x-msisdn).",
    )
}

// 12 ────────────────────────────────────────────────────────────────────────

fn vlan() -> Fixture {
    let mut t = Trace::new(T0 + 36_000, 0);
    let q = |vid| (TPID_8021Q, vid);
    let base = |uri: &str| Req::get(uri, "www.example.com").h("User-Agent", UA_ANDROID);
    let mut a = Conversation::new(&mut t, "10.0.100.5:53000", "192.0.2.150:80", 100, 200)
        .vlans(&[q(100)], &[q(100)]);
    a.handshake(&mut t);
    a.exchange(
        &mut t,
        &base("/vlan/100").leak("X-MSISDN", MSISDN),
        "VLAN 100",
    );
    a.fin_close(&mut t);
    let qinq = [(TPID_8021AD, 200), (TPID_8021Q, 300)];
    let mut b = Conversation::new(&mut t, "10.0.200.5:53001", "192.0.2.151:80", 300, 400)
        .vlans(&qinq, &qinq);
    b.handshake(&mut t);
    b.exchange(&mut t, &base("/vlan/qinq").leak("X-MSISDN", MSISDN), "QinQ");
    b.fin_close(&mut t);
    let mut c = Conversation::new(&mut t, "10.0.10.5:53002", "192.0.2.152:80", 500, 600)
        .vlans(&[q(10)], &[q(20)]);
    c.handshake(&mut t);
    c.exchange(
        &mut t,
        &base("/vlan/asym/1").leak("X-MSISDN", MSISDN),
        "Asym 1",
    );
    c.exchange(
        &mut t,
        &base("/vlan/asym/2").leak("X-Up-Calling-Line-Id", MSISDN),
        "Asym 2",
    );
    c.fin_close(&mut t);
    let mut d = Conversation::new(
        &mut t,
        "[2001:db8:100::5]:53003",
        "[2001:db8:ffff::80]:80",
        700,
        800,
    )
    .vlans(&[q(100)], &[q(100)]);
    d.handshake(&mut t);
    d.exchange(&mut t, &base("/vlan/ipv6").leak("X-MSISDN", MSISDN), "IPv6");
    d.fin_close(&mut t);
    fixture(
        "vlan.pcap",
        &t,
        eth_pcap(&t),
        "VLAN-tagged Ethernet: an 802.1Q flow (VLAN 100), a QinQ flow (802.1ad 0x88a8 VLAN 200 outside, 802.1Q VLAN 300 inside), a flow whose client-to-server packets carry VLAN 10 and server-to-client packets VLAN 20, and an IPv6 flow on VLAN 100.",
        "Five requests, all leak. The asymmetric-VLAN connection is ONE flow (VLAN ids are not part of the flow key): its two keep-alive requests are both reported once.",
    )
}

// 13 ────────────────────────────────────────────────────────────────────────

fn links() -> Fixture {
    let mut t = Trace::new(T0 + 39_600, 0);
    let r = |uri: &str, name: &str, value: &str| {
        Req::get(uri, "links.example.com")
            .h("User-Agent", UA_IPHONE)
            .leak(name, value)
    };
    // Section 1: 0 Ethernet (µs, no option), 1 SLL (if_tsresol 6), 2 SLL2 (ns), 3 null.
    let mut flows: Vec<(Conversation, Req)> = Vec::new();
    let conv = |t: &mut Trace, cl: &str, sv: &str, isn: u32| {
        Conversation::new(t, cl, sv, isn, isn ^ 0x5a5a_0000)
    };
    flows.push((
        conv(&mut t, "10.1.0.1:40001", "192.0.2.201:80", 0x1111).iface(0),
        r("/link/ethernet", "X-MSISDN", MSISDN),
    ));
    flows.push((
        conv(&mut t, "10.1.0.1:40002", "192.0.2.202:80", 0x2222)
            .link(Link::Sll)
            .iface(1),
        r("/link/sll", "X-Up-Calling-Line-Id", MSISDN),
    ));
    flows.push((
        conv(
            &mut t,
            "[2001:db8:1::10]:40003",
            "[2001:db8:2::203]:80",
            0x3333,
        )
        .link(Link::Sll2)
        .iface(2),
        r("/link/sll2", "X-Nokia-MSISDN", "+12025550143"),
    ));
    flows.push((
        conv(&mut t, "127.0.0.1:40004", "127.0.0.1:8000", 0x4444)
            .link(Link::Null)
            .iface(3),
        r("/link/null-v4", "X-MSISDN", MSISDN2),
    ));
    flows.push((
        conv(&mut t, "[::1]:40005", "[::1]:8000", 0x5555)
            .link(Link::Null)
            .null_af6(30)
            .iface(3),
        r("/link/null-v6", "X-IMSI", "001010123456789"),
    ));
    // Section 2: 4 raw 101 (if_tsresol 6), 5 raw IPv4 228, 6 raw IPv6 229 (ns, extension headers).
    flows.push((
        conv(&mut t, "10.1.0.1:40006", "192.0.2.206:80", 0x6666)
            .link(Link::Raw)
            .iface(4),
        r("/link/raw-v4", "X-MSISDN", MSISDN),
    ));
    flows.push((
        conv(
            &mut t,
            "[2001:db8:1::10]:40007",
            "[2001:db8:2::207]:80",
            0x7777,
        )
        .link(Link::Raw)
        .iface(4),
        r("/link/raw-v6", "X-MSISDN", MSISDN),
    ));
    flows.push((
        conv(&mut t, "10.1.0.1:40008", "192.0.2.208:80", 0x8888)
            .link(Link::RawV4)
            .iface(5),
        r("/link/ipv4", "X-MSISDN", MSISDN),
    ));
    flows.push((
        conv(
            &mut t,
            "[2001:db8:1::10]:40009",
            "[2001:db8:2::209]:80",
            0x9999,
        )
        .link(Link::RawV6)
        .iface(6)
        .v6_ext(),
        r("/link/ipv6-ext", "X-MSISDN", MSISDN),
    ));
    for (c, req) in &mut flows {
        let ns = c.iface == 2 || c.iface == 6;
        if ns {
            t.advance_ns(337);
            t.step_ns = 150_013;
        }
        c.handshake(&mut t);
        c.exchange(&mut t, req, "Link");
        c.fin_close(&mut t);
        t.step_ns = 150_000;
        t.advance_us(250_000);
    }
    let mut w = PcapNgWriter::new();
    w.section("phoneleak fixturegen, section 1");
    w.interface(1, SNAPLEN, None, "eth0");
    w.interface(113, SNAPLEN, Some(6), "any");
    w.interface(276, SNAPLEN, Some(9), "any2");
    w.interface(0, SNAPLEN, None, "lo0");
    let split = t.records.iter().position(|r| r.iface >= 4).unwrap();
    assert!(t.records[split..].iter().all(|r| r.iface >= 4));
    for r in &t.records[..split] {
        w.packet(r.iface as u32, r.ts_ns, &r.frame);
    }
    w.section("phoneleak fixturegen, section 2");
    w.interface(101, SNAPLEN, Some(6), "tun0");
    w.interface(228, SNAPLEN, None, "ipv4tun0");
    w.interface(229, SNAPLEN, Some(9), "ipv6tun0");
    for r in &t.records[split..] {
        w.packet((r.iface - 4) as u32, r.ts_ns, &r.frame);
    }
    fixture(
        "links.pcapng",
        &t,
        w.finish(),
        "pcapng with two sections. Section 1 interfaces: 0 Ethernet (no if_tsresol: microseconds), 1 Linux SLL (if_tsresol 6), 2 Linux SLL2 (if_tsresol 9, nanoseconds), 3 BSD null/loopback (IPv4 with AF 2, IPv6 with AF 30, little-endian). Section 2 (interface ids restart at 0): raw IP 101 (IPv4 and IPv6), raw IPv4 228, raw IPv6 229 (nanoseconds; hop-by-hop and destination-options extension headers on every packet).",
        "Nine requests, one connection each, all leak: header names x-msisdn, x-up-calling-line-id, x-nokia-msisdn (+12025550143), x-imsi (test-network IMSI 001010123456789). Timestamps increase across sections.",
    )
}

// 14 ────────────────────────────────────────────────────────────────────────

fn variant_trace(start: u64, frac_ns: u64, step_ns: u64, uri: &str) -> Trace {
    let mut t = Trace::new(start, frac_ns);
    t.step_ns = step_ns;
    let mut c = Conversation::new(
        &mut t,
        "10.0.0.26:55000",
        "203.0.113.140:80",
        0xabcd_0000,
        0xdcba_0000,
    );
    c.handshake(&mut t);
    let r = Req::get(uri, "www.example.com")
        .h("User-Agent", UA_ANDROID)
        .leak("X-MSISDN", MSISDN);
    c.exchange(&mut t, &r, "Variant");
    c.fin_close(&mut t);
    t
}

fn pcap_variant_be() -> Fixture {
    let t = variant_trace(
        1_401_611_400,
        250_017_000,
        150_123_000,
        "/variant/big-endian",
    );
    fixture(
        "pcap-variants-be.pcap",
        &t,
        t.pcap(Endian::Big, false, SNAPLEN, Link::Ethernet),
        "Classic pcap written big-endian (magic bytes a1 b2 c3 d4), microsecond timestamps starting 2014-06-01T08:30:00.250017Z.",
        "One request, leaking x-msisdn.",
    )
}

fn pcap_variant_ns() -> Fixture {
    let t = variant_trace(
        1_442_332_800,
        123_456_789,
        150_000_037,
        "/variant/nanosecond",
    );
    fixture(
        "pcap-variants-ns.pcap",
        &t,
        t.pcap(Endian::Little, true, SNAPLEN, Link::Ethernet),
        "Classic pcap with the nanosecond magic (0xa1b23c4d, little-endian), timestamps starting 2015-09-15T16:00:00.123456789Z with sub-microsecond parts.",
        "One request, leaking x-msisdn.",
    )
}

// 15 ────────────────────────────────────────────────────────────────────────

fn snaplen() -> Fixture {
    const SNAP: u32 = 128;
    let captured_payload = SNAP as usize - 54; // Ethernet + IPv4 + TCP without options
    let mut t = Trace::new(T0 + 43_200, 0);
    let mut c = Conversation::new(
        &mut t,
        "10.0.0.30:54000",
        "192.0.2.170:80",
        0x0123_0000,
        0x0456_0000,
    );
    c.handshake(&mut t);
    let short = Req::get("/a", "m.example.com").leak("X-MSISDN", MSISDN);
    assert!(short.bytes().len() <= captured_payload);
    c.exchange(&mut t, &short, "A");
    let big = Req::get("/profile/edit", "m.example.com")
        .h("User-Agent", UA_ANDROID)
        .h("Accept", "text/html,application/xhtml+xml")
        .h("Accept-Language", "en-GB")
        .leak("X-MSISDN", MSISDN);
    let bytes = big.bytes();
    assert!(find(&bytes, MSISDN.as_bytes()) > captured_payload && bytes.len() < 1448);
    c.note(
        &mut t,
        c.c_next,
        &big,
        false,
        true,
        big.leak_headers_within(captured_payload),
    );
    c.send(&mut t, true, &bytes);
    let b = html(t.now_ns, "Profile");
    c.respond(&mut t, &b);
    let short2 = Req::get("/b", "m.example.com").leak("X-MSISDN", MSISDN2);
    assert!(short2.bytes().len() <= captured_payload);
    c.exchange(&mut t, &short2, "B");
    c.fin_close(&mut t);
    fixture(
        "snaplen.pcap",
        &t,
        t.pcap(Endian::Little, false, SNAP, Link::Ethernet),
        "Captured with snaplen 128: every packet longer than 128 bytes is cut (caplen < origlen), so only the first 74 bytes of each TCP payload are captured. A short leaking request fits whole, then a longer request whose X-MSISDN line lies past the captured bytes, then another short leaking request.",
        "Report GET /a (x-msisdn, 447700900123) and GET /b (x-msisdn, 447700900456). GET /profile/edit must NOT be reported as leaking: its number was never captured and bytes not captured are never invented. It is reported as truncated, with the whole header lines that were captured and no leak header.",
    )
}

// 16 ────────────────────────────────────────────────────────────────────────

fn client_hello(rng: &mut Lcg, sni: &str) -> Vec<u8> {
    let mut hs = vec![0x03, 0x03];
    hs.extend(rng.bytes(32));
    hs.push(0); // session id
    hs.extend_from_slice(&[0x00, 0x06, 0xc0, 0x2f, 0xc0, 0x2b, 0x00, 0x9c]);
    hs.extend_from_slice(&[0x01, 0x00]);
    let name = sni.as_bytes();
    let mut ext = Vec::new();
    ext.extend_from_slice(&[0x00, 0x00]);
    ext.extend_from_slice(&((name.len() + 5) as u16).to_be_bytes());
    ext.extend_from_slice(&((name.len() + 3) as u16).to_be_bytes());
    ext.push(0);
    ext.extend_from_slice(&(name.len() as u16).to_be_bytes());
    ext.extend_from_slice(name);
    hs.extend_from_slice(&(ext.len() as u16).to_be_bytes());
    hs.extend(ext);
    let mut msg = vec![0x01, 0, (hs.len() >> 8) as u8, hs.len() as u8];
    msg.extend(hs);
    let mut rec = vec![0x16, 0x03, 0x01];
    rec.extend_from_slice(&(msg.len() as u16).to_be_bytes());
    rec.extend(msg);
    rec
}

fn tls_record(rng: &mut Lcg, ctype: u8, n: usize) -> Vec<u8> {
    let mut rec = vec![ctype, 0x03, 0x03];
    rec.extend_from_slice(&(n as u16).to_be_bytes());
    rec.extend(rng.bytes(n));
    rec
}

fn non_http() -> Fixture {
    let mut t = Trace::new(T0 + 46_800, 0);
    let mut rng = Lcg(16);
    let mut tls = Conversation::new(
        &mut t,
        "10.0.0.32:54100",
        "192.0.2.180:443",
        0x1357_0000,
        0x2468_0000,
    );
    tls.handshake(&mut t);
    let ch = client_hello(&mut rng, "secure.example.com");
    tls.send(&mut t, true, &ch);
    let mut sh = tls_record(&mut rng, 0x16, 80);
    sh.extend(tls_record(&mut rng, 0x14, 1));
    sh.extend(tls_record(&mut rng, 0x17, 64));
    tls.respond(&mut t, &sh);
    let app = tls_record(&mut rng, 0x17, 300);
    tls.send(&mut t, true, &app);
    let app = tls_record(&mut rng, 0x17, 900);
    tls.respond(&mut t, &app);
    tls.fin_close(&mut t);

    let mut ssh = Conversation::new(
        &mut t,
        "10.0.0.32:54101",
        "192.0.2.181:22",
        0x3579_0000,
        0x4680_0000,
    );
    ssh.handshake(&mut t);
    ssh.send(&mut t, false, b"SSH-2.0-OpenSSH_5.9p1 Debian-5ubuntu1\r\n");
    ssh.send(&mut t, true, b"SSH-2.0-OpenSSH_6.0\r\n");
    let mut kex = vec![0, 0, 1, 0x2c, 8, 20];
    kex.extend(rng.bytes(16));
    kex.extend_from_slice(b"\0\0\0\x1adiffie-hellman-group14-sha1");
    kex.extend(rng.bytes(300 - kex.len()));
    ssh.send(&mut t, true, &kex);
    let mut skex = kex.clone();
    skex[6..22].copy_from_slice(&rng.bytes(16));
    ssh.respond(&mut t, &skex);
    ssh.rst(&mut t, true);

    let mut h1 = Conversation::new(
        &mut t,
        "10.0.0.32:54102",
        "192.0.2.182:8081",
        0x5791_0000,
        0x6802_0000,
    );
    h1.handshake(&mut t);
    let r = Req::get("/odd-port/8081", "alt.example.com:8081")
        .h("User-Agent", UA_ANDROID)
        .leak("X-MSISDN", MSISDN);
    h1.exchange(&mut t, &r, "8081");
    h1.fin_close(&mut t);
    let mut h2 = Conversation::new(
        &mut t,
        "10.0.0.32:54103",
        "192.0.2.183:2222",
        0x7913_0000,
        0x8024_0000,
    );
    h2.handshake(&mut t);
    let r = Req::get("/odd-port/2222", "alt.example.com:2222")
        .h("User-Agent", UA_ANDROID)
        .leak("X-MSISDN", MSISDN);
    h2.exchange(&mut t, &r, "2222");
    h2.fin_close(&mut t);
    fixture(
        "non-http.pcap",
        &t,
        eth_pcap(&t),
        "Non-HTTP TCP next to HTTP on odd ports: a TLS-looking flow on 443 (ClientHello with SNI, ServerHello-ish and application-data records of pseudo-random bytes), an SSH flow on 22 (banners, binary KEXINIT-like packets, RST), and HTTP on ports 8081 and 2222 (the latter usually SSH), each with a leak.",
        "Only the two HTTP requests are reported (x-msisdn): requests are found by content, on any port; TLS and SSH bytes are not requests.",
    )
}

// 17 ────────────────────────────────────────────────────────────────────────

fn truncated() -> Fixture {
    let mut t = Trace::new(T0 + 50_400, 0);
    let mut c = Conversation::new(
        &mut t,
        "10.0.0.34:54200",
        "203.0.113.170:80",
        0x0ddb_a11c,
        0x0cab_ba9e,
    );
    c.handshake(&mut t);
    let r = Req::get("/truncated", "www.example.com")
        .h("User-Agent", UA_ANDROID)
        .leak("X-MSISDN", MSISDN);
    c.request(&mut t, &r);
    t.advance_us(40_000);
    let b = response(
        t.now_ns,
        "200 OK",
        "text/plain",
        Lcg(17).letters(900).as_bytes(),
    );
    let segs = c.split(false, &b, &[300]);
    c.emit_all(&mut t, &segs);
    let mut w = PcapWriter::new(Endian::Little, false, SNAPLEN, Link::Ethernet.linktype());
    let (last, whole) = t.records.split_last().unwrap();
    for rec in whole {
        w.packet(rec.ts_ns, &rec.frame);
    }
    let n = last.frame.len() as u32;
    w.record_header(last.ts_ns, n, n);
    w.raw(&last.frame[..last.frame.len() / 2]);
    fixture(
        "truncated.pcap",
        &t,
        w.finish(),
        "A capture cut short: the file ends in the middle of the last record's packet data (its header promises more bytes than follow), as when a capture is copied while still being written.",
        "The complete packets before the cut carry the handshake, GET /truncated with x-msisdn, and the first response segment: that request is reported. The analyzer warns about the cut last record and still reports what it read before it (not an error exit).",
    )
}

// 18 ────────────────────────────────────────────────────────────────────────

/// A request of a mobile browser with no leak of its own.
fn mobile(uri: &str, host: &str) -> Req {
    Req::get(uri, host)
        .h("User-Agent", UA_ANDROID)
        .h("Accept", "*/*")
        .h("Accept-Language", "en-GB")
}

fn value_leaks() -> Fixture {
    let mut t = Trace::new(T0 + 54_000, 0);
    let mut c = Conversation::new(
        &mut t,
        "10.0.0.40:55100",
        "192.0.2.190:80",
        0x1a2b_0000,
        0x3c4d_0000,
    );
    c.handshake(&mut t);
    let shop = "shop.example.com";
    let cookie = format!("edition=uk; msisdn={MSISDN}; sid=a8f3c2e1b7");
    c.exchange(
        &mut t,
        &mobile("/account", shop).leak("Cookie", &cookie),
        "Account",
    );
    let r = mobile(&format!("/landing?msisdn={MSISDN}&campaign=spring"), shop).uri_leaks();
    c.exchange(&mut t, &r, "Landing");
    let r = mobile("/api/lookup?to=%2B447700900123&fmt=json", shop).uri_leaks();
    c.exchange(&mut t, &r, "Lookup");
    let r = mobile("/sms/send?text=hello&phone=%2B44%207700%20900456", shop).uri_leaks();
    c.exchange(&mut t, &r, "Sent");
    let r = mobile("/subscriber;msisdn=447700900456/status", shop).uri_leaks();
    c.exchange(&mut t, &r, "Status");
    let r = mobile("/v1/msisdn/447700900123/balance", shop).uri_leaks();
    c.exchange(&mut t, &r, "Balance");
    c.fin_close(&mut t);

    let mut d = Conversation::new(
        &mut t,
        "10.0.0.40:55101",
        "198.51.100.190:80",
        0x5e6f_0000,
        0x7a8b_0000,
    );
    d.handshake(&mut t);
    let r = mobile("/img/banner.png", "cdn.example.net").leak(
        "Referer",
        "http://shop.example.com/checkout?step=2&mobile=447700900123",
    );
    d.exchange(&mut t, &r, "Banner");
    let r = mobile("/api/v2/profile", "api.example.org")
        .leak("X-Caller", "+44 7700 900456, 10.20.30.40")
        .leak("X-Subscriber-Phone", MSISDN)
        .leak("X-Contact", "tel:+1-202-555-0143")
        .leak("X-Subscriber-Info", "id=12025550143;plan=prepaid");
    d.exchange(&mut t, &r, "Profile");
    // Digits everywhere, no phone number: must stay quiet.
    let r = mobile(
        "/static/app.js?v=1362452400&cb=87345210&build=2.4.1",
        "static.example.com",
    )
    .h("If-None-Match", "\"5d41402a-1c8\"")
    .h("X-Request-ID", "4bf92f35-77b3-4da6-a3ce-929d0e0e4736")
    .h("Cookie", "_ga=GA1.2.12345678.13624524; visits=12; line=2")
    .h("X-Forwarded-For", "10.20.30.40, 192.0.2.7")
    .h("Range", "bytes=0-1023");
    d.exchange(&mut t, &r, "Static");
    d.fin_close(&mut t);
    fixture(
        "value-leaks.pcap",
        &t,
        eth_pcap(&t),
        "Phone numbers outside catalogued header names: a Cookie pair (msisdn=447700900123); the query string (msisdn=..., to=%2B447700900123 URL-encoded, phone=%2B44%207700%20900456 with encoded spaces); a path parameter (/subscriber;msisdn=447700900456/status); a path segment after a phone-like one (/v1/msisdn/447700900123/balance); a Referer's query (mobile=447700900123); a +44 number with an IP in X-Caller; a phone-like header name (X-Subscriber-Phone); tel:+1-202-555-0143 in X-Contact; a bare number as the id= of X-Subscriber-Info. Last, a request full of digits (cache busters, versions, ETag, request id, IPs, a Range) with no number.",
        "Eight of the nine requests leak: cookie, (request-target) five times (query, URL-encoded query, encoded spaces, path parameter, path segment), referer, and x-caller + x-subscriber-phone + x-contact + x-subscriber-info in one request. The last request must not leak.",
    )
}

// 19 ────────────────────────────────────────────────────────────────────────

fn national_region() -> Fixture {
    let mut t = Trace::new(T0 + 57_600, 0);
    let mut c = Conversation::new(
        &mut t,
        "10.0.0.41:55200",
        "203.0.113.191:80",
        0x2b3c_0000,
        0x4d5e_0000,
    );
    c.handshake(&mut t);
    let host = "m.example.co.uk";
    let r = mobile("/home", host).leak("X-MSISDN", "07700 900123");
    c.exchange(&mut t, &r, "Home");
    let r = mobile("/offers", host).leak("Cookie", "lang=en; mob=07700900456");
    c.exchange(&mut t, &r, "Offers");
    let r = mobile("/gateway", host).leak("x-up-calling-line-id", "0447700900123");
    c.exchange(&mut t, &r, "Gateway");
    let r = mobile("/contact?name=jo&phone=07700%20900123", host).uri_leaks();
    c.exchange(&mut t, &r, "Contact");
    c.fin_close(&mut t);
    fixture(
        "national-region.pcap",
        &t,
        eth_pcap(&t),
        "UK numbers written nationally, which only --region GB can place: X-MSISDN: 07700 900123, a cookie mob=07700900456, a query phone=07700%20900123; and x-up-calling-line-id: 0447700900123, the international digits after a 0 as some gateways write them.",
        "All four requests leak. Without --region the three national numbers are reported with number null and confidence low; with --region GB as +447700900123 / +447700900456, confidence medium. The 0-international form is +447700900123 (medium) either way.",
    )
}

// 20 ────────────────────────────────────────────────────────────────────────

fn b64(s: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(s)
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn known_number() -> Fixture {
    use md5::Digest as _;
    let mut t = Trace::new(T0 + 61_200, 0);
    let mut c = Conversation::new(
        &mut t,
        "10.0.0.42:55300",
        "192.0.2.192:80",
        0x3c4d_0000,
        0x5e6f_0000,
    );
    c.handshake(&mut t);
    let host = "api.example.com";
    let sha256 = hex(&sha2::Sha256::digest(b"+447700900123"));
    let r = mobile("/sync", host).known("X-Client-Hash", &sha256);
    c.exchange(&mut t, &r, "Sync");
    let md5 = hex(&md5::Md5::digest(b"447700900123"));
    let r = mobile("/profile", host).known("Cookie", &format!("uid={md5}; theme=dark"));
    c.exchange(&mut t, &r, "Profile");
    let r = mobile(&format!("/track?u={}&e=view", b64("447700900123")), host).uri_known();
    c.exchange(&mut t, &r, "Track");
    let r = mobile("/device", host).known("X-Device-Token", &hex(b"07700900123").to_uppercase());
    c.exchange(&mut t, &r, "Device");
    let sha1 = {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD.encode(sha1::Sha1::digest(b"00447700900123"))
    };
    let r = mobile("/ads", host).known("X-Sub", &sha1);
    c.exchange(&mut t, &r, "Ads");
    let r = mobile("/log?ref=user-447700900123&x=1", host).uri_known();
    c.exchange(&mut t, &r, "Log");
    let other = hex(&md5::Md5::digest(b"447700900124"));
    let r = mobile("/other", host).h("X-Client-Hash", &other);
    c.exchange(&mut t, &r, "Other");
    c.fin_close(&mut t);
    fixture(
        "known-number.pcap",
        &t,
        eth_pcap(&t),
        "The subscriber's own number +447700900123 in forms only --number finds: the SHA-256 (hex) of +447700900123 in X-Client-Hash, the MD5 (hex) of 447700900123 in a cookie, base64 of 447700900123 in the query, hex (upper case) of 07700900123 in X-Device-Token, the SHA-1 (base64) of 00447700900123 in X-Sub, and bare digits user-447700900123 in the query. Last, the MD5 of another number.",
        "Without --number nothing leaks. With --number +447700900123 the first six requests leak (known_leak_headers: x-client-hash, cookie, (request-target), x-device-token, x-sub, (request-target)); the last one never does.",
    )
}

// 21 ────────────────────────────────────────────────────────────────────────

fn error_fixture(name: &'static str, bytes: Vec<u8>, description: &str, notes: &str) -> Fixture {
    fixture(name, &Trace::new(0, 0), bytes, description, notes)
}

fn not_a_capture() -> Fixture {
    error_fixture(
        "not-a-capture.pcap",
        b"This is not a packet capture.\nIt is a short text file named .pcap, for error handling tests.\n".to_vec(),
        "A short text file with a .pcap name: no pcap or pcapng magic.",
        "Not a capture: the analyzer must reject it with a clear error naming the file (unrecognised magic bytes; exit status 2 in docs/output.md), not report an empty result, never panic. No requests.",
    )
}

fn empty() -> Fixture {
    error_fixture(
        "empty.pcap",
        Vec::new(),
        "A zero-byte file.",
        "No file header at all: the analyzer must reject it with a clear error naming the file (an empty file; exit status 2 in docs/output.md), never panic. No requests.",
    )
}

// Two numbers that mask alike ─────────────────────────────────────────────

/// Two captures, one subscriber each: +447700900123 and +447711900123 both
/// show as `+44*******123`. One run over both has two rows; a merge of
/// their masked outputs can keep them apart only by `--subject-key`.
fn mask_alike(which: usize) -> Fixture {
    let (name, number, port) = match which {
        0 => ("mask-alike-a.pcap", MSISDN, 51_000),
        _ => ("mask-alike-b.pcap", "447711900123", 51_001),
    };
    let mut t = Trace::new(T0 + 90_000 + which as u64 * 60, 0);
    let mut c = Conversation::new(
        &mut t,
        &format!("10.0.0.90:{port}"),
        "192.0.2.90:80",
        0x5a00_0000,
        0x6b00_0000,
    );
    c.handshake(&mut t);
    let r = mobile("/portal", "portal.example.com").leak("X-MSISDN", number);
    c.exchange(&mut t, &r, "Portal");
    c.fin_close(&mut t);
    fixture(
        name,
        &t,
        eth_pcap(&t),
        &format!("One request to portal.example.com with X-MSISDN {number}."),
        "Its twin (mask-alike-a/-b) carries another number with the same mask, +44*******123: merge keeps them apart only with --subject-key.",
    )
}
