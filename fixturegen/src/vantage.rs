//! Capture pairs for `phoneleak diff`: the same browsing seen from two
//! vantage points, BEFORE a middlebox (the phone's side) and AFTER it (the
//! server's side), with each capture on its own clock. The middlebox is
//! modelled by what it does to each request (add, remove, rewrite, reorder,
//! recase headers; change the request line), by the requests it answers
//! itself (a cache hit: BEFORE only, with the gateway's response), drops
//! (BEFORE only, no response) or makes itself (AFTER only), and by
//! its own connections (NAT: other addresses and ports; pipelined requests
//! regrouped onto other connections).

use super::http::{Hdr, Req, UA_ANDROID, UA_IPHONE, response};
use super::packet::Link;
use super::pcap::{Endian, SNAPLEN};
use super::scenarios::MSISDN;
use super::tcp::{Conversation, Trace};

/// Two captures of one stretch of traffic.
pub struct VantagePair {
    /// Stem of the pair's files: `<name>-before.pcap`, `<name>-after.pcap`.
    pub name: &'static str,
    /// The capture in front of the middlebox.
    pub before: Vec<u8>,
    /// The capture behind it.
    pub after: Vec<u8>,
    /// What the pair shows.
    pub description: &'static str,
}

impl VantagePair {
    /// The BEFORE file's name.
    pub fn before_name(&self) -> String {
        format!("{}-before.pcap", self.name)
    }

    /// The AFTER file's name.
    pub fn after_name(&self) -> String {
        format!("{}-after.pcap", self.name)
    }
}

/// The pairs bundled in `fixtures/` (the README's O2 re-enactment).
pub fn bundled() -> Vec<VantagePair> {
    vec![o2_2012()]
}

/// The pairs the integration tests generate.
pub fn generated() -> Vec<VantagePair> {
    vec![enriching(), transparent()]
}

/// Both captures under construction, their clocks `skew_ns` apart.
struct Hop {
    b: Trace,
    a: Trace,
    skew_ns: i64,
    /// Time the middlebox takes to forward a request.
    latency_ns: u64,
    next_isn: u32,
}

impl Hop {
    fn new(start_secs: u64, skew_secs: i64, latency_us: u64) -> Hop {
        Hop {
            b: Trace::new(start_secs, 0),
            a: Trace::new(start_secs.checked_add_signed(skew_secs).unwrap(), 0),
            skew_ns: skew_secs * 1_000_000_000,
            latency_ns: latency_us * 1000,
            next_isn: 0x1357_9bdf,
        }
    }

    /// AFTER's clock catches up with BEFORE's (plus the forwarding delay).
    fn forward(&mut self) {
        let target = (self.b.now_ns as i64 + self.skew_ns) as u64 + self.latency_ns;
        self.a.now_ns = self.a.now_ns.max(target);
    }

    /// BEFORE's clock catches up with AFTER's.
    fn back(&mut self) {
        let target = (self.a.now_ns as i64 - self.skew_ns) as u64;
        self.b.now_ns = self.b.now_ns.max(target);
    }

    fn isn(&mut self) -> (u32, u32) {
        self.next_isn = self
            .next_isn
            .wrapping_mul(2_654_435_761)
            .wrapping_add(12_345);
        let c = self.next_isn;
        self.next_isn = self
            .next_isn
            .wrapping_mul(2_654_435_761)
            .wrapping_add(54_321);
        (c, self.next_isn)
    }

    fn conn_b(&mut self, client: &str, server: &str) -> Conversation {
        let (c, s) = self.isn();
        let mut conv = Conversation::new(&mut self.b, client, server, c, s);
        conv.handshake(&mut self.b);
        conv
    }

    fn conn_a(&mut self, client: &str, server: &str) -> Conversation {
        self.forward();
        let (c, s) = self.isn();
        let mut conv = Conversation::new(&mut self.a, client, server, c, s);
        conv.handshake(&mut self.a);
        conv
    }

    /// `req` sent on `cb`, forwarded as `fwd` on `ca`, answered on both.
    fn relay(&mut self, cb: &mut Conversation, req: &Req, ca: &mut Conversation, fwd: &Req) {
        cb.request(&mut self.b, req);
        self.forward();
        ca.request(&mut self.a, fwd);
        let body = response(self.a.now_ns, "200 OK", "text/plain", b"ok\n");
        ca.respond(&mut self.a, &body);
        self.back();
        let body = response(self.b.now_ns, "200 OK", "text/plain", b"ok\n");
        cb.respond(&mut self.b, &body);
        self.b.advance_us(200_000);
    }

    /// A request the middlebox answers itself with `status` (a cache hit).
    fn answered(&mut self, cb: &mut Conversation, req: &Req, status: &str, body: &[u8]) {
        cb.request(&mut self.b, req);
        let body = response(self.b.now_ns, status, "image/png", body);
        cb.respond(&mut self.b, &body);
        self.b.advance_us(200_000);
    }

    /// A request the middlebox drops: no response, the connection reset.
    fn dropped(&mut self, cb: &mut Conversation, req: &Req) {
        cb.request(&mut self.b, req);
        self.b.advance_us(200_000);
        cb.rst(&mut self.b, false);
        self.b.advance_us(200_000);
    }

    /// A request the middlebox makes itself.
    fn made(&mut self, ca: &mut Conversation, fwd: &Req) {
        self.forward();
        ca.request(&mut self.a, fwd);
        let body = response(self.a.now_ns, "200 OK", "text/plain", b"ok\n");
        ca.respond(&mut self.a, &body);
        self.back();
        self.b.advance_us(200_000);
    }

    fn finish(self, name: &'static str, description: &'static str) -> VantagePair {
        let pcap = |t: &Trace| t.pcap(Endian::Little, false, SNAPLEN, Link::Ethernet);
        VantagePair {
            name,
            before: pcap(&self.b),
            after: pcap(&self.a),
            description,
        }
    }
}

/// `req` with `name` removed (any case).
fn without(mut req: Req, name: &str) -> Req {
    req.headers.retain(|h| !h.name.eq_ignore_ascii_case(name));
    req
}

/// What the enriching gateway does: header names lower-cased and Host moved
/// last, `DNT` removed, `Accept-Encoding` cut to gzip, `Via` and
/// `X-Forwarded-For` added, and the subscriber's number in `X-MSISDN`.
fn enrich(req: &Req, client_ip: &str) -> Req {
    let mut out = req.clone();
    out.headers.retain(|h| !h.name.eq_ignore_ascii_case("dnt"));
    for h in &mut out.headers {
        h.name = h.name.to_ascii_lowercase();
        if h.name == "accept-encoding" {
            h.value = "gzip".into();
        }
    }
    let at = out.headers.iter().position(|h| h.name == "host").unwrap();
    let host = out.headers.remove(at);
    out.headers.push(host);
    let plain = |name: &str, value: &str| Hdr {
        name: name.into(),
        value: value.into(),
        leak: false,
        known: false,
    };
    out.headers
        .push(plain("via", "1.1 gw.operator.example (proxy)"));
    out.headers.push(plain("x-forwarded-for", client_ip));
    out.leak("X-MSISDN", MSISDN)
}

fn browser(uri: &str, host: &str) -> Req {
    Req::get(uri, host)
        .h("User-Agent", UA_IPHONE)
        .h("Accept", "*/*")
        .h("Accept-Encoding", "gzip, deflate, br")
        .h("DNT", "1")
}

/// An enriching gateway, AFTER's clock 30 s ahead: every forwarded request
/// gains X-MSISDN (identifier) and Via, X-Forwarded-For (operational), loses
/// DNT, has Accept-Encoding rewritten and its header names lower-cased and
/// reordered; an absolute-form request goes out in origin form as HTTP/1.0;
/// a cache hit is answered by the gateway (304 Not Modified), a request to
/// an ad server dropped (no response, reset); the gateway fetches a
/// robots.txt of its own; twenty identical polls in a row; three pipelined
/// requests regrouped onto two connections of the gateway.
pub fn enriching() -> VantagePair {
    let mut h = Hop::new(1_700_000_000, 30, 2_000);
    let client = "10.20.0.5";
    let nat = "198.51.100.7";
    let www = "192.0.2.10:80";
    let media = "203.0.113.30:80";
    let api = "192.0.2.44:80";
    let mut b1 = h.conn_b(&format!("{client}:50001"), www);
    let mut a1 = h.conn_a(&format!("{nat}:61001"), www);
    for uri in ["/", "/news", "/news/today"] {
        let r = browser(uri, "www.example.com");
        h.relay(&mut b1, &r, &mut a1, &enrich(&r, client));
    }
    // A cache hit: the gateway answers, nothing goes on.
    h.answered(
        &mut b1,
        &browser("/img/logo.png", "www.example.com").h("If-None-Match", "\"5f3a\""),
        "304 Not Modified",
        b"",
    );
    // Dropped: no response, the connection reset.
    let mut b_ads = h.conn_b(&format!("{client}:50005"), "203.0.113.99:80");
    h.dropped(&mut b_ads, &browser("/track.gif?u=1", "ads.example.com"));
    // A request of the gateway's own.
    let mut a_own = h.conn_a(&format!("{nat}:61002"), www);
    h.made(
        &mut a_own,
        &Req::get("/robots.txt", "www.example.com").h("User-Agent", "gw-prefetch/2.1"),
    );
    // Absolute form in, origin form and HTTP/1.0 out.
    let mut b2 = h.conn_b(&format!("{client}:50002"), media);
    let mut a2 = h.conn_a(&format!("{nat}:61003"), media);
    let mut r = browser("http://m.example.org/weather", "m.example.org");
    r.uri = "http://m.example.org/weather".into();
    let mut fwd = enrich(&r, client);
    fwd.uri = "/weather".into();
    fwd.version = "HTTP/1.0".into();
    h.relay(&mut b2, &r, &mut a2, &fwd);
    // Twenty identical polls in a row.
    let mut b3 = h.conn_b(&format!("{client}:50003"), api);
    let mut a3 = h.conn_a(&format!("{nat}:61004"), api);
    for _ in 0..20 {
        let r = Req::get("/poll?since=0", "api.example.net")
            .h("User-Agent", UA_IPHONE)
            .h("Accept", "application/json");
        h.relay(&mut b3, &r, &mut a3, &enrich(&r, client));
    }
    // Three requests pipelined in one segment, regrouped: two on one
    // connection of the gateway, the third on another.
    let reqs: Vec<Req> = ["/a.css", "/b.js", "/c.png"]
        .iter()
        .map(|u| browser(u, "www.example.com"))
        .collect();
    let mut b4 = h.conn_b(&format!("{client}:50004"), www);
    for r in &reqs {
        b4.note_next(&mut h.b, r);
    }
    let bytes: Vec<u8> = reqs.iter().flat_map(Req::bytes).collect();
    b4.send(&mut h.b, true, &bytes);
    let mut a5 = h.conn_a(&format!("{nat}:61005"), www);
    let mut a6 = h.conn_a(&format!("{nat}:61006"), www);
    for (i, r) in reqs.iter().enumerate() {
        h.forward();
        let ca = if i < 2 { &mut a5 } else { &mut a6 };
        ca.request(&mut h.a, &enrich(r, client));
        let body = response(h.a.now_ns, "200 OK", "text/plain", b"ok\n");
        ca.respond(&mut h.a, &body);
    }
    h.back();
    for _ in &reqs {
        let body = response(h.b.now_ns, "200 OK", "text/plain", b"ok\n");
        b4.respond(&mut h.b, &body);
    }
    for c in [&mut b1, &mut b2, &mut b3, &mut b4] {
        c.fin_close(&mut h.b);
    }
    for c in [&mut a1, &mut a_own, &mut a2, &mut a3, &mut a5, &mut a6] {
        c.fin_close(&mut h.a);
    }
    h.finish(
        "enriching",
        "An enriching gateway (X-MSISDN added), AFTER's clock 30 s ahead, NAT, header order and case changed, a cache hit (304), a request dropped, a request of the gateway's own, 20 identical requests, pipelined requests regrouped.",
    )
}

/// A transparent proxy that only adds Via and X-Forwarded-For, AFTER's
/// clock 30 s behind: two clients behind one NAT address fetch the same
/// page at the same moment (X-Forwarded-For tells them apart), and an app
/// sends its own X-MSISDN, which passes unchanged.
pub fn transparent() -> VantagePair {
    let mut h = Hop::new(1_700_000_000, -30, 3_000);
    let nat = "198.51.100.8";
    let www = "192.0.2.10:80";
    let api = "192.0.2.44:80";
    let forward = |r: &Req, ip: &str| {
        r.clone()
            .h("Via", "1.1 cache.example (squid)")
            .h("X-Forwarded-For", ip)
    };
    let mut b1 = h.conn_b("10.20.0.5:40001", www);
    let mut b2 = h.conn_b("10.20.0.6:40002", www);
    let mut a1 = h.conn_a(&format!("{nat}:62001"), www);
    let r1 = Req::get("/", "www.example.com")
        .h("User-Agent", UA_ANDROID)
        .h("Accept-Language", "en-GB");
    let r2 = Req::get("/", "www.example.com")
        .h("User-Agent", UA_IPHONE)
        .h("Accept-Language", "de-DE");
    // Both requests leave the clients before either is forwarded; the proxy
    // forwards the second client's first.
    b1.request(&mut h.b, &r1);
    b2.request(&mut h.b, &r2);
    h.forward();
    for (r, ip) in [(&r2, "10.20.0.6"), (&r1, "10.20.0.5")] {
        a1.request(&mut h.a, &forward(r, ip));
        let body = response(h.a.now_ns, "200 OK", "text/plain", b"ok\n");
        a1.respond(&mut h.a, &body);
    }
    h.back();
    for c in [&mut b1, &mut b2] {
        let body = response(h.b.now_ns, "200 OK", "text/plain", b"ok\n");
        c.respond(&mut h.b, &body);
    }
    // An app's own X-MSISDN: not added on the way.
    let mut b3 = h.conn_b("10.20.0.5:40003", api);
    let mut a3 = h.conn_a(&format!("{nat}:62002"), api);
    let r = Req::new("POST", "/v1/login")
        .h("Host", "api.example.net")
        .leak("X-MSISDN", "447700900456")
        .body(b"{}");
    h.relay(&mut b3, &r, &mut a3, &forward(&r, "10.20.0.5"));
    for c in [&mut b1, &mut b2, &mut b3] {
        c.fin_close(&mut h.b);
    }
    for c in [&mut a1, &mut a3] {
        c.fin_close(&mut h.a);
    }
    h.finish(
        "transparent",
        "A proxy adding only Via and X-Forwarded-For, AFTER's clock 30 s behind; two clients behind one NAT address with the same request; an app's own X-MSISDN passing unchanged.",
    )
}

/// A gateway that rewrites the number an app sends: the app's `X-MSISDN`
/// leaves the phone as 447700900456 and arrives as the subscriber's
/// 447700900123 (an identifier changed on the way); two page requests pass
/// unchanged. AFTER's clock 5 s ahead, NAT.
pub fn rewriting() -> VantagePair {
    let mut h = Hop::new(1_700_007_200, 5, 1_000);
    let client = "10.20.0.7";
    let nat = "198.51.100.9";
    let mut b1 = h.conn_b(&format!("{client}:41001"), "192.0.2.10:80");
    let mut a1 = h.conn_a(&format!("{nat}:63001"), "192.0.2.10:80");
    for uri in ["/", "/about"] {
        let r = browser(uri, "www.example.com");
        h.relay(&mut b1, &r, &mut a1, &r);
    }
    let mut b2 = h.conn_b(&format!("{client}:41002"), "192.0.2.44:80");
    let mut a2 = h.conn_a(&format!("{nat}:63002"), "192.0.2.44:80");
    let login = |number: &str| {
        Req::new("POST", "/v1/login")
            .h("Host", "api.example.net")
            .leak("X-MSISDN", number)
            .body(b"{}")
    };
    h.relay(&mut b2, &login("447700900456"), &mut a2, &login(MSISDN));
    for c in [&mut b1, &mut b2] {
        c.fin_close(&mut h.b);
    }
    for c in [&mut a1, &mut a2] {
        c.fin_close(&mut h.a);
    }
    h.finish(
        "rewriting",
        "A gateway rewriting the number an app sends in X-MSISDN to the subscriber's; two pages passing unchanged; AFTER's clock 5 s ahead.",
    )
}

/// O2 UK, January 2012, seen from both sides: the phone's requests carry no
/// number; behind the operator's gateway each carries
/// `x-up-calling-line-id: 447700900123`. The same browsing as
/// `o2-2012.pcap`, the server side on a clock 2 s ahead behind the
/// gateway's address.
pub fn o2_2012() -> VantagePair {
    let mut h = Hop::new(1_327_485_600, 2, 35_000);
    let phone = "10.112.47.9";
    let gw = "203.0.113.250";
    let page = "application/xml,application/xhtml+xml,text/html;q=0.9,text/plain;q=0.8,image/png,*/*;q=0.5";
    let visits: [(&str, &str, &[&str]); 4] = [
        (
            "192.0.2.10:80",
            "www.example.com",
            &["/", "/css/site.css", "/img/logo.png"],
        ),
        (
            "198.51.100.20:80",
            "news.example.net",
            &["/mobile/", "/mobile/story/uk-politics"],
        ),
        (
            "203.0.113.30:80",
            "m.example.org",
            &["/weather/london", "/weather/london/hourly"],
        ),
        (
            "198.51.100.80:80",
            "shop.example.com",
            &["/offers", "/offers?page=2"],
        ),
    ];
    for (i, (server, host, uris)) in visits.iter().enumerate() {
        let mut cb = h.conn_b(&format!("{phone}:{}", 41822 + i), server);
        let mut ca = h.conn_a(&format!("{gw}:{}", 50312 + 7 * i), server);
        for uri in *uris {
            let r = Req::get(uri, host)
                .h("Accept-Encoding", "gzip")
                .h("Accept-Language", "en-GB, en-US")
                .h("User-Agent", UA_ANDROID)
                .h("Accept", page)
                .h("Accept-Charset", "utf-8, iso-8859-1, utf-16, *;q=0.7")
                .h("x-wap-profile", "http://uaprof.example.com/GT-I9100.xml");
            let fwd = r.clone().leak("x-up-calling-line-id", MSISDN);
            h.relay(&mut cb, &without(r, "x-up-calling-line-id"), &mut ca, &fwd);
        }
        cb.fin_close(&mut h.b);
        ca.fin_close(&mut h.a);
    }
    h.finish(
        "o2-2012",
        "O2 UK, January 2012, from both sides: the phone sends no number, the server receives x-up-calling-line-id on every request.",
    )
}

/// For `scan --discover`: three subscribers (10.30.0.1 to .3) browsing five
/// unrelated sites each, every request carrying an unnamed per-subscriber
/// token (`X-Carrier-Tag`, an X-UIDH-like supercookie) among benign
/// headers: a constant `X-Requested-With` and `X-Build`, and an app's own
/// install ID sent only to its API host. One capture, seen behind the
/// subscribers' gateway (no number anywhere).
pub fn supercookie() -> Vec<u8> {
    supercookie_from(["10.30.0.1", "10.30.0.2", "10.30.0.3"])
}

/// [`supercookie`] seen behind an operator's proxy: the same requests, all
/// from the proxy's one address (each subscriber on ports of its own).
pub fn supercookie_behind_proxy() -> Vec<u8> {
    supercookie_from(["198.51.100.9"; 3])
}

/// The supercookie browsing of three subscribers from these addresses.
fn supercookie_from(addresses: [&str; 3]) -> Vec<u8> {
    let mut t = Trace::new(1_700_003_600, 0);
    let [c1, c2, c3] = addresses;
    let subscribers = [
        (c1, "OTgxNTk2NDk2MjA1MTY0ODQ2MDA=", "1f0e7c2a-5d4b"),
        (c2, "NzQ0MTIzOTg3NjU0MzIxMDk4NzY=", "9a8b7c6d-1e2f"),
        (c3, "MzMyMjExMDA5OTg4Nzc2NjU1NDQ=", "4c3b2a19-8f7e"),
    ];
    let sites = [
        ("192.0.2.10:80", "www.example.com"),
        ("198.51.100.20:80", "news.example.net"),
        ("203.0.113.30:80", "m.example.org"),
        ("192.0.2.44:80", "static.example-cdn.com"),
        ("198.51.100.80:80", "shop.example.co.uk"),
    ];
    let mut isn = 0x2468_ace0u32;
    for (n, (client, tag, install)) in subscribers.iter().enumerate() {
        for (i, (server, host)) in sites.iter().enumerate() {
            isn = isn.wrapping_mul(2_654_435_761).wrapping_add(977);
            let port = 45000 + 100 * n + i;
            let mut c = Conversation::new(&mut t, &format!("{client}:{port}"), server, isn, !isn);
            c.handshake(&mut t);
            for uri in ["/", "/page/2"] {
                let r = Req::get(uri, host)
                    .h("User-Agent", UA_ANDROID)
                    .h("Accept", "*/*")
                    .h("X-Requested-With", "com.example.browser")
                    .h("X-Build", "2024.11-r3")
                    .h("X-Carrier-Tag", tag);
                c.exchange(&mut t, &r, "Page");
            }
            c.fin_close(&mut t);
        }
        let mut api = Conversation::new(
            &mut t,
            &format!("{client}:{}", 46000 + n),
            "192.0.2.99:80",
            isn ^ 0x5555,
            isn ^ 0xaaaa,
        );
        api.handshake(&mut t);
        for _ in 0..3 {
            let r = Req::get("/v2/sync", "api.app.example")
                .h("User-Agent", "ExampleApp/5.2")
                .h("X-App-Install", install)
                .h("X-Carrier-Tag", tag);
            api.exchange(&mut t, &r, "ok");
        }
        api.fin_close(&mut t);
    }
    t.pcap(Endian::Little, false, SNAPLEN, Link::Ethernet)
}
