//! Generated request corpora for the detection tests and the benchmark.
//!
//! - [`benign`]: realistic requests full of long digit strings that are no
//!   phone numbers (Content-Length, Unix and millisecond timestamps, dates,
//!   request and trace ids, ETags, cache busters, zero-padded counters,
//!   card-like numbers, IPv4 addresses, versions, coordinates, analytics
//!   cookies, signed offsets). Detection must find nothing in them.
//! - [`leaking`]: requests like those with one planted leak each, in every
//!   place and form detection claims to handle, with what must be found.
//!
//! Deterministic: a fixed-seed generator, no clock.

use base64::Engine as _;
use md5::Digest as _;
use phoneleak::http::Header;

/// A fixed-seed generator.
pub struct Rng(u64);

impl Rng {
    /// A generator with this seed.
    pub fn new(seed: u64) -> Self {
        Rng(seed ^ 0x9E37_79B9_7F4A_7C15)
    }

    /// The next 64 random bits (xorshift64*).
    // An endless generator, not an iterator: no `Option` to unwrap at each call.
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number in `0..n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    /// One of `items`.
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }

    /// `n` decimal digits (the first may be 0).
    pub fn digits(&mut self, n: usize) -> String {
        (0..n)
            .map(|_| char::from(b'0' + self.below(10) as u8))
            .collect()
    }

    /// `n` lower-case hex digits.
    pub fn hex(&mut self, n: usize) -> String {
        (0..n)
            .map(|_| char::from(b"0123456789abcdef"[self.below(16) as usize]))
            .collect()
    }

    /// `n` letters and digits.
    pub fn alnum(&mut self, n: usize) -> String {
        const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        (0..n)
            .map(|_| char::from(A[self.below(A.len() as u64) as usize]))
            .collect()
    }

    /// Random bytes, base64.
    pub fn base64(&mut self, bytes: usize) -> String {
        let b: Vec<u8> = (0..bytes).map(|_| self.next() as u8).collect();
        base64::engine::general_purpose::STANDARD.encode(b)
    }
}

/// A request of the corpus.
#[derive(Clone, Debug)]
pub struct Req {
    /// Method.
    pub method: String,
    /// Request target.
    pub uri: String,
    /// Headers in order.
    pub headers: Vec<Header>,
}

fn h(name: &str, value: impl Into<String>) -> Header {
    Header {
        name: name.to_string(),
        value: value.into(),
    }
}

const HOSTS: &[&str] = &[
    "www.example.com",
    "api.example.org",
    "cdn.example.net",
    "static.example.com",
    "m.example.co.uk",
    "ads.example.net",
    "img.example.com:8080",
];

const USER_AGENTS: &[&str] = &[
    "Mozilla/5.0 (Linux; U; Android 2.3.6; en-gb; GT-I9100 Build/GINGERBREAD) AppleWebKit/533.1 (KHTML, like Gecko) Version/4.0 Mobile Safari/533.1",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 5_0_1 like Mac OS X) AppleWebKit/534.46 (KHTML, like Gecko) Version/5.1 Mobile/9A405 Safari/7534.48.3",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.224 Safari/537.36",
    "Mozilla/5.0 (Linux; Android 13; SM-S911B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/119.0.6045.163 Mobile Safari/537.36",
    "Dalvik/2.1.0 (Linux; U; Android 11; Redmi Note 8 Pro MIUI/V12.5.4.0.RGGMIXM)",
    "okhttp/4.9.3",
    "ExampleApp/10.3.1 (iPhone; iOS 17.1.2; Scale/3.00) Build/1234567",
    "Googlebot/2.1 (+http://www.google.com/bot.html)",
    "curl/7.88.1",
];

fn http_date(r: &mut Rng) -> String {
    const D: &[&str] = &["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    const M: &[&str] = &[
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    format!(
        "{}, {:02} {} {} {:02}:{:02}:{:02} GMT",
        r.pick(D),
        1 + r.below(28),
        r.pick(M),
        2010 + r.below(15),
        r.below(24),
        r.below(60),
        r.below(60)
    )
}

fn uuid(r: &mut Rng) -> String {
    format!(
        "{}-{}-4{}-a{}-{}",
        r.hex(8),
        r.hex(4),
        r.hex(3),
        r.hex(3),
        r.hex(12)
    )
}

fn ipv4(r: &mut Rng) -> String {
    format!(
        "{}.{}.{}.{}",
        1 + r.below(254),
        r.below(256),
        r.below(256),
        1 + r.below(254)
    )
}

fn unix(r: &mut Rng) -> u64 {
    1_262_304_000 + r.below(600_000_000)
}

/// A zero-padded counter, as order and invoice numbers are written.
fn padded(r: &mut Rng) -> String {
    let width = 8 + r.below(9) as usize;
    let digits = 1 + r.below(width as u64 - 2) as usize;
    let v = format!("{}{}", 1 + r.below(9), r.digits(digits - 1));
    format!("{v:0>width$}")
}

/// A card-like number (16 digits, Luhn not checked), plain or grouped.
fn card(r: &mut Rng) -> String {
    let d = format!("4{}", r.digits(15));
    match r.below(3) {
        0 => d,
        1 => format!("{} {} {} {}", &d[0..4], &d[4..8], &d[8..12], &d[12..16]),
        _ => format!("{}-{}-{}-{}", &d[0..4], &d[4..8], &d[8..12], &d[12..16]),
    }
}

fn version(r: &mut Rng) -> String {
    format!(
        "{}.{}.{}.{}",
        r.below(20),
        r.below(100),
        r.below(1000),
        r.below(10_000_000)
    )
}

/// A benign query string.
fn query(r: &mut Rng) -> String {
    let mut parts = Vec::new();
    for _ in 0..r.below(7) {
        let p = match r.below(22) {
            0 => format!("_={}{}", unix(r), r.digits(3)),
            1 => {
                let n = 8 + r.below(8) as usize;
                format!("cb={}", r.digits(n))
            }
            2 => format!("v={}", version(r)),
            3 => format!("t={}", unix(r)),
            4 => format!("page={}", r.below(50)),
            5 => format!("id={}", uuid(r)),
            6 => format!("sig={}", r.hex(40)),
            7 => format!(
                "utm_source=newsletter&utm_campaign=spring{}",
                2010 + r.below(15)
            ),
            8 => format!("lat=51.{}&lon=-0.{}", r.digits(6), r.digits(6)),
            9 => format!(
                "ts={}-0{}-1{}T12:00:00Z",
                2010 + r.below(15),
                1 + r.below(9),
                r.below(9)
            ),
            10 => format!("order={}", padded(r)),
            11 => format!("amount={}.{}", r.below(10_000), r.digits(2)),
            12 => format!("ip={}", ipv4(r)),
            13 => format!("phone_model=GT-I{}", r.digits(4)),
            14 => format!("mobile={}", r.below(2)),
            15 => format!("line={}", r.below(40)),
            16 => "tel=0".to_string(),
            17 => format!("q=weather+london+{}", r.below(31)),
            18 => format!("ref={}", r.alnum(12)),
            19 => format!("gclid={}", r.alnum(40)),
            20 => {
                let n = 11 + r.below(5) as usize;
                format!("n={}", r.digits(n))
            }
            _ => format!(
                "date={}{:02}{:02}",
                2010 + r.below(15),
                1 + r.below(12),
                1 + r.below(28)
            ),
        };
        parts.push(p);
    }
    if parts.is_empty() {
        String::new()
    } else {
        format!("?{}", parts.join("&"))
    }
}

/// A benign path.
fn path(r: &mut Rng) -> String {
    match r.below(9) {
        0 => "/".into(),
        1 => format!("/product/{}", r.digits(9)),
        2 => format!("/api/v{}/orders/{}", 1 + r.below(3), padded(r)),
        3 => format!(
            "/news/{}/{:02}/{:02}/index.html",
            2010 + r.below(15),
            1 + r.below(12),
            1 + r.below(28)
        ),
        4 => format!("/img/{}.jpg", r.hex(32)),
        5 => format!("/static/app.{}.js", r.hex(8)),
        6 => format!("/u/{}/feed", unix(r)),
        7 => format!("/mobile/story/{}", r.digits(10)),
        _ => format!("/video/{}/seg-{}.ts", r.alnum(11), r.below(5000)),
    }
}

/// The optional headers of a benign request.
fn noise_headers(r: &mut Rng) -> Vec<Header> {
    let mut v = Vec::new();
    let mut add = |r: &mut Rng, p: u64, f: &dyn Fn(&mut Rng) -> Header| {
        if r.below(100) < p {
            let hdr = f(r);
            v.push(hdr);
        }
    };
    add(r, 70, &|r| {
        h(
            "Accept-Language",
            *r.pick(&[
                "en-GB,en;q=0.9",
                "de-DE,de;q=0.8,en;q=0.5",
                "fr",
                "en-US,en;q=0.9,es;q=0.8",
            ]),
        )
    });
    add(r, 60, &|r| {
        h(
            "Accept-Encoding",
            *r.pick(&["gzip, deflate", "gzip, deflate, br", "identity"]),
        )
    });
    add(r, 30, &|r| h("If-Modified-Since", http_date(r)));
    add(r, 30, &|r| {
        let etag = match r.below(4) {
            0 => format!("\"{}\"", r.hex(32)),
            1 => format!("W/\"{}-{}\"", r.hex(8), r.hex(3)),
            2 => format!("\"{}\"", unix(r)),
            _ => format!("\"{}-{}\"", r.digits(10), r.digits(13)),
        };
        h("If-None-Match", etag)
    });
    add(r, 40, &|r| {
        let id = match r.below(4) {
            0 => uuid(r),
            1 => r.hex(32),
            2 => r.digits(19),
            _ => format!("{}{}", unix(r), r.digits(6)),
        };
        h("X-Request-ID", id)
    });
    add(r, 25, &|r| {
        h("traceparent", format!("00-{}-{}-01", r.hex(32), r.hex(16)))
    });
    add(r, 15, &|r| h("X-B3-TraceId", r.hex(16)));
    add(r, 10, &|r| {
        h(
            "X-Amzn-Trace-Id",
            format!("Root=1-{:08x}-{}", unix(r), r.hex(24)),
        )
    });
    add(r, 50, &|r| {
        let mut c = Vec::new();
        if r.below(2) == 0 {
            c.push(format!("_ga=GA1.2.{}.{}", r.digits(10), unix(r)));
        }
        if r.below(2) == 0 {
            c.push(format!(
                "__utma={}.{}.{}.{}.{}.{}",
                r.digits(9),
                r.digits(10),
                unix(r),
                unix(r),
                unix(r),
                r.below(30)
            ));
        }
        c.push(format!("session={}", r.hex(24)));
        if r.below(3) == 0 {
            c.push(format!("visits={}", r.below(100)));
        }
        if r.below(4) == 0 {
            c.push(format!("cart={}", padded(r)));
        }
        if r.below(5) == 0 {
            c.push(format!("mobile_view={}", r.below(2)));
        }
        if r.below(5) == 0 {
            c.push(format!(
                "JSESSIONID={}.node{}",
                r.hex(32).to_uppercase(),
                r.below(9)
            ));
        }
        h("Cookie", c.join("; "))
    });
    add(r, 30, &|r| {
        let n = 1 + r.below(3);
        let ips: Vec<String> = (0..n).map(|_| ipv4(r)).collect();
        h("X-Forwarded-For", ips.join(", "))
    });
    add(r, 10, &|r| {
        h(
            "Via",
            format!(
                "1.1 proxy{}.example.net (squid/3.{})",
                r.below(20),
                r.below(9)
            ),
        )
    });
    add(r, 10, &|r| {
        h(
            "Range",
            format!(
                "bytes={}-{}",
                r.below(1_000_000),
                1_000_000 + r.below(9_000_000_000)
            ),
        )
    });
    add(r, 15, &|r| {
        h("Authorization", format!("Bearer {}", r.base64(48)))
    });
    add(r, 10, &|r| {
        h("X-Timestamp", format!("{}{}", unix(r), r.digits(3)))
    });
    add(r, 10, &|r| h("Date", http_date(r)));
    add(r, 5, &|r| h("X-Card-Token", card(r)));
    add(r, 10, &|r| h("X-App-Version", version(r)));
    add(r, 5, &|r| h("X-Device-Id", r.digits(15)));
    add(r, 5, &|r| h("X-Offset", format!("+{}", r.below(86_400))));
    add(r, 5, &|r| {
        h(
            "X-Timezone",
            *r.pick(&["+05:30", "-08:00", "+01:00", "+0100"]),
        )
    });
    add(r, 5, &|r| {
        let (deg, places) = (40 + r.below(20), 4 + r.below(4) as usize);
        h(
            "X-Geo",
            format!("+{deg}.{},-0.{}", r.digits(places), r.digits(6)),
        )
    });
    add(r, 5, &|r| h("X-Order-Id", padded(r)));
    add(r, 5, &|r| {
        h(
            "X-Balance",
            format!("+{}.{}", r.below(100_000), r.digits(2)),
        )
    });
    add(r, 5, &|r| {
        h(
            "Referer",
            format!("http://{}{}{}", r.pick(HOSTS), path(r), query(r)),
        )
    });
    add(r, 5, &|r| {
        h(
            "X-Wap-Profile",
            format!("\"http://wap.example.com/uaprof/GT-I{}.xml\"", r.digits(4)),
        )
    });
    add(r, 5, &|_| h("Sec-CH-UA-Mobile", "?0"));
    // Names that say subscriber data, with values that are no number: under
    // them a bare number of international length counts.
    add(r, 4, &|r| {
        let v = *r.pick(&["gold", "silver", "prepaid", "postpaid", "business"]);
        h("X-Subscriber-Tier", v)
    });
    add(r, 4, &|r| h("X-Subscriber-Since", unix(r).to_string()));
    add(r, 4, &|r| h("X-Subscriber-Id", r.hex(16)));
    add(r, 4, &|r| {
        h(
            "X-Subscriber-Session",
            format!("{}{}", unix(r), r.digits(6)),
        )
    });
    add(r, 4, &|r| h("X-Contact-Id", uuid(r)));
    add(r, 4, &|r| {
        h("X-Contact-Updated", format!("{}{}", unix(r), r.digits(3)))
    });
    add(r, 4, &|r| h("X-Contact-Ref", r.digits(19)));
    add(r, 4, &|r| h("X-Caller-Version", version(r)));
    add(r, 4, &|r| {
        h(
            "X-Calling-App",
            format!(
                "com.example.app/{} (build {})",
                version(r),
                r.below(100_000)
            ),
        )
    });
    add(r, 4, &|r| {
        h(
            "X-Caller-Trace",
            format!("{}; ts={}{}", r.hex(16), unix(r), r.digits(3)),
        )
    });
    add(r, 5, &|r| h("X-Client-Data", r.base64(60)));
    v
}

/// One benign request.
pub fn benign_request(r: &mut Rng) -> Req {
    let post = r.below(5) == 0;
    let mut headers = vec![
        h("Host", *r.pick(HOSTS)),
        h("User-Agent", *r.pick(USER_AGENTS)),
        h(
            "Accept",
            *r.pick(&[
                "*/*",
                "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
                "application/json",
            ]),
        ),
    ];
    headers.extend(noise_headers(r));
    if post {
        headers.push(h("Content-Type", "application/x-www-form-urlencoded"));
        headers.push(h("Content-Length", r.below(10_000_000_000).to_string()));
    }
    Req {
        method: if post { "POST" } else { "GET" }.into(),
        uri: format!("{}{}", path(r), query(r)),
        headers,
    }
}

/// `n` benign requests.
pub fn benign(seed: u64, n: usize) -> Vec<Req> {
    let mut r = Rng::new(seed);
    (0..n).map(|_| benign_request(&mut r)).collect()
}

/// Shapes of valid numbers: (country code, NSN prefix, NSN length).
const SHAPES: &[(&str, &str, usize)] = &[
    ("44", "77009", 10),
    ("44", "7", 10),
    ("1", "202555", 10),
    ("1", "415", 10),
    ("49", "151", 11),
    ("33", "6", 9),
    ("91", "98", 10),
    ("86", "138", 11),
    ("55", "119", 11),
    ("234", "803", 10),
    ("27", "82", 9),
    ("61", "4", 9),
    ("81", "90", 10),
    ("34", "6", 9),
    ("39", "3", 10),
    ("52", "55", 10),
    ("7", "916", 10),
    ("254", "7", 9),
    ("62", "812", 11),
    ("90", "532", 10),
];

/// A random valid number: `(country code, NSN)`.
pub fn number(r: &mut Rng) -> (String, String) {
    loop {
        let (cc, prefix, len) = *r.pick(SHAPES);
        let nsn = format!("{prefix}{}", r.digits(len - prefix.len()));
        let full = format!("{cc}{nsn}");
        if phoneleak::detect::number::parse_international(&full).is_some() {
            return (cc.into(), nsn);
        }
    }
}

/// What a planted leak must be found as.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Planted {
    /// `(request-target)` or the header name, lower-cased.
    pub header: String,
    /// Kind as written in output.
    pub kind: &'static str,
    /// Location as written in output.
    pub location: &'static str,
    /// The E.164 number expected (`None` for subscriber IDs).
    pub number: Option<String>,
    /// Encoding as written in output, if any.
    pub encoding: Option<&'static str>,
    /// What was planted, for messages.
    pub what: String,
}

/// A leaking request and its one planted leak.
pub struct Leaking {
    /// The request.
    pub req: Req,
    /// What must be found.
    pub planted: Planted,
}

const PHONE_KEYS: &[&str] = &[
    "msisdn",
    "phone",
    "MSISDN",
    "mobile",
    "tel",
    "mob",
    "cli",
    "phoneNumber",
    "user_phone",
    "mdn",
    "mobileNo",
    "callerid",
];

/// The number written in a random international form, plainly.
fn written(r: &mut Rng, cc: &str, nsn: &str) -> String {
    match r.below(6) {
        0 => format!("{cc}{nsn}"),
        1 => format!("+{cc}{nsn}"),
        2 => format!("00{cc}{nsn}"),
        3 => format!("+{cc} {} {}", &nsn[..nsn.len() / 2], &nsn[nsn.len() / 2..]),
        4 => format!("+{cc}-{}-{}", &nsn[..3], &nsn[3..]),
        _ => format!("tel:+{cc}{nsn}"),
    }
}

/// The number in a form that is found without a phone-like key.
fn marked(r: &mut Rng, cc: &str, nsn: &str) -> String {
    match r.below(4) {
        0 => format!("+{cc}{nsn}"),
        1 => format!("00{cc} {nsn}"),
        2 => format!("+{cc} {} {}", &nsn[..nsn.len() / 2], &nsn[nsn.len() / 2..]),
        _ => format!("tel:+{cc}{nsn}"),
    }
}

fn url_encode_plus(s: &str) -> String {
    s.replace('+', "%2B").replace(' ', "%20")
}

/// The ways a leak is planted (one per request), with what must be found.
pub const WAYS: usize = 15;

/// One leaking request, planted the `way`-th way with a random number.
/// Known-number ways use `known` (the user's number, `(cc, nsn)`).
pub fn leaking_request(r: &mut Rng, way: usize, known: &(String, String)) -> Leaking {
    let mut req = benign_request(r);
    // No benign Referer or Cookie: planted ones must be the only ones.
    req.headers.retain(|x| {
        !x.name.eq_ignore_ascii_case("referer") && !x.name.eq_ignore_ascii_case("cookie")
    });
    let (cc, nsn) = number(r);
    let e164 = Some(format!("+{cc}{nsn}"));
    let at = 1 + r.below(req.headers.len() as u64) as usize;
    let header = |req: &mut Req, name: &str, value: String| {
        req.headers
            .insert(at.min(req.headers.len()), h(name, value));
    };
    let planted =
        |header: &str, kind, location, number: Option<String>, encoding, what: String| Planted {
            header: header.to_ascii_lowercase(),
            kind,
            location,
            number,
            encoding,
            what,
        };
    let p = match way % WAYS {
        0 => {
            let name = *r.pick(&[
                "x-up-calling-line-id",
                "X-MSISDN",
                "msisdn",
                "X-Nokia-MSISDN",
                "x-wap-network-client-msisdn",
                "X-Hts-Clid",
            ]);
            let mut v = written(r, &cc, &nsn);
            if r.below(3) == 0 {
                v = format!("{v}, {}", ipv4(r));
            }
            header(&mut req, name, v.clone());
            planted(name, "msisdn-header", "header", e164, None, v)
        }
        1 => {
            let name = format!(
                "X-{}-MSISDN",
                r.pick(&["Operator", "Carrier", "GW", "Telco"])
            );
            let v = written(r, &cc, &nsn);
            header(&mut req, &name, v.clone());
            planted(&name, "msisdn-header", "header", e164, None, v)
        }
        2 => {
            let (name, v) = match r.below(3) {
                0 => ("X-UIDH", r.base64(40)),
                1 => ("x-imsi", format!("310410{}", r.digits(9))),
                _ => ("X-VF-ACR", r.base64(120)),
            };
            header(&mut req, name, v.clone());
            planted(name, "subscriber-id-header", "header", None, None, v)
        }
        3 => {
            let key = *r.pick(PHONE_KEYS);
            let v = match r.below(3) {
                0 => format!("{cc}{nsn}"),
                1 => url_encode_plus(&format!("+{cc}{nsn}")),
                _ => format!("00{cc}{nsn}"),
            };
            let cookie = format!("session={}; {key}={v}; theme=dark", r.hex(16));
            header(&mut req, "Cookie", cookie.clone());
            planted("cookie", "phone-number-value", "cookie", e164, None, cookie)
        }
        4 => {
            let key = *r.pick(PHONE_KEYS);
            let v = url_encode_plus(&written(r, &cc, &nsn));
            req.uri = format!("/api/send?text=hi&{key}={v}&x={}", r.below(99));
            planted(
                "(request-target)",
                "phone-number-value",
                "query",
                e164,
                None,
                req.uri.clone(),
            )
        }
        5 => {
            let key = *r.pick(&["to", "q", "dest", "recipient", "a"]);
            let v = url_encode_plus(&marked(r, &cc, &nsn));
            req.uri = format!("/lookup?{key}={v}");
            planted(
                "(request-target)",
                "phone-number-value",
                "query",
                e164,
                None,
                req.uri.clone(),
            )
        }
        6 => {
            req.uri = format!("/subscriber;msisdn={cc}{nsn}/status");
            planted(
                "(request-target)",
                "phone-number-value",
                "uri",
                e164,
                None,
                req.uri.clone(),
            )
        }
        7 => {
            let seg = *r.pick(&["msisdn", "phone", "mobile"]);
            req.uri = format!("/v1/{seg}/{cc}{nsn}/balance");
            planted(
                "(request-target)",
                "phone-number-value",
                "uri",
                e164,
                None,
                req.uri.clone(),
            )
        }
        8 => {
            let key = *r.pick(PHONE_KEYS);
            let v = format!("http://shop.example.com/checkout?step=2&{key}={cc}{nsn}");
            header(&mut req, "Referer", v.clone());
            planted("referer", "phone-number-value", "query", e164, None, v)
        }
        9 => {
            let name = *r.pick(&["X-Caller", "X-Forwarded-Number", "X-Contact", "X-Notify"]);
            let v = format!("{}, {}", marked(r, &cc, &nsn), ipv4(r));
            header(&mut req, name, v.clone());
            planted(name, "phone-number-value", "header", e164, None, v)
        }
        10 => {
            let name = *r.pick(&[
                "X-Subscriber-Phone",
                "X-User-Mobile",
                "X-Phone-Number",
                "X-Tel",
            ]);
            let v = written(r, &cc, &nsn);
            header(&mut req, name, v.clone());
            planted(name, "phone-number-value", "header", e164, None, v)
        }
        11..=13 => {
            // Known number in an encoding.
            let (kcc, knsn) = known;
            let forms = [
                format!("+{kcc}{knsn}"),
                format!("{kcc}{knsn}"),
                format!("00{kcc}{knsn}"),
                format!("0{knsn}"),
            ];
            let form = r.pick(&forms).clone();
            let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
            let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
            let (v, enc) = match r.below(8) {
                0 => (b64(form.as_bytes()), "base64"),
                1 => (hex(form.as_bytes()), "hex"),
                2 => (hex(&md5::Md5::digest(form.as_bytes())), "md5-hex"),
                3 => (b64(&md5::Md5::digest(form.as_bytes())), "md5-base64"),
                4 => (hex(&sha1::Sha1::digest(form.as_bytes())), "sha1-hex"),
                5 => (b64(&sha1::Sha1::digest(form.as_bytes())), "sha1-base64"),
                6 => (
                    hex(&sha2::Sha256::digest(form.as_bytes())).to_uppercase(),
                    "sha256-hex",
                ),
                _ => (b64(&sha2::Sha256::digest(form.as_bytes())), "sha256-base64"),
            };
            let known_e164 = Some(format!("+{kcc}{knsn}"));
            match way % WAYS {
                11 => {
                    header(&mut req, "X-Client-Hash", v.clone());
                    planted(
                        "x-client-hash",
                        "known-number",
                        "header",
                        known_e164,
                        Some(enc),
                        v,
                    )
                }
                12 => {
                    let cookie = format!("uid={v}; theme=dark");
                    header(&mut req, "Cookie", cookie.clone());
                    planted(
                        "cookie",
                        "known-number",
                        "cookie",
                        known_e164,
                        Some(enc),
                        cookie,
                    )
                }
                _ => {
                    let v = v
                        .replace('+', "%2B")
                        .replace('/', "%2F")
                        .replace('=', "%3D");
                    req.uri = format!("/track?e=view&u={v}");
                    planted(
                        "(request-target)",
                        "known-number",
                        "query",
                        known_e164,
                        Some(enc),
                        req.uri.clone(),
                    )
                }
            }
        }
        14 => {
            // A bare number under a name that says subscriber data.
            let name = *r.pick(&[
                "X-Subscriber-Id",
                "X-Subscriber-Info",
                "X-Caller",
                "X-Caller-Number",
                "X-Calling-Station-Id",
                "X-Contact",
                "Contact-Number",
            ]);
            let v = match r.below(3) {
                0 => format!("{cc}{nsn}"),
                1 => format!("{cc}{nsn}, {}", ipv4(r)),
                _ => format!("id={}; {cc}{nsn}", r.hex(8)),
            };
            header(&mut req, name, v.clone());
            planted(name, "phone-number-value", "header", e164, None, v)
        }
        _ => unreachable!(),
    };
    Leaking { req, planted: p }
}

/// `n` leaking requests, cycling through every way.
pub fn leaking(seed: u64, n: usize, known: &(String, String)) -> Vec<Leaking> {
    let mut r = Rng::new(seed);
    (0..n).map(|i| leaking_request(&mut r, i, known)).collect()
}
