//! HTTP/1.x message builders. A [`Req`] knows which of its headers leak a
//! subscriber identifier, so the truth is written by construction; the
//! builder refuses a header that leaks without being marked, or that is
//! marked without leaking.

/// Every subscriber identifier used in the fixtures, as bare digits. All are
/// fictional: Ofcom's drama range +44 7700 900xxx (also in national form),
/// the US 555-01xx range, and an IMSI on the 001-01 test network.
pub const SUBSCRIBER_IDS: &[&str] = &[
    "447700900123",
    "447700900456",
    // Masks as 447700900123 does (+44*******123): the mask-alike fixtures.
    "447711900123",
    "07700900123",
    "07700900456",
    "12025550143",
    "001010123456789",
];

/// The digits of `s` after percent-decoding (`%2B44%207700` → `447700`).
fn digits(s: &str) -> String {
    let mut out = String::new();
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let hex = |k: usize| b.get(k).is_some_and(u8::is_ascii_hexdigit);
        if b[i] == b'%' && hex(i + 1) && hex(i + 2) {
            let v = u8::from_str_radix(&s[i + 1..i + 3], 16).unwrap();
            if v.is_ascii_digit() {
                out.push(char::from(v));
            }
            i += 3;
            continue;
        }
        if b[i].is_ascii_digit() {
            out.push(char::from(b[i]));
        }
        i += 1;
    }
    out
}

/// True when `value` carries one of [`SUBSCRIBER_IDS`] (formatting ignored).
pub fn carries_subscriber_id(value: &str) -> bool {
    let d = digits(value);
    SUBSCRIBER_IDS.iter().any(|id| d.contains(id))
}

fn longest_digit_run(s: &str) -> usize {
    s.split(|c: char| !c.is_ascii_digit())
        .map(str::len)
        .max()
        .unwrap_or(0)
}

/// One header line of a [`Req`].
#[derive(Clone, Debug)]
pub struct Hdr {
    /// Name as sent.
    pub name: String,
    /// Value as sent.
    pub value: String,
    /// Whether it carries a subscriber identifier.
    pub leak: bool,
    /// Whether it carries the known number (+447700900123) in a form only
    /// `--number` finds (encoded, hashed, or bare digits without a key).
    pub known: bool,
}

/// An HTTP request under construction.
#[derive(Clone, Debug)]
pub struct Req {
    /// Method.
    pub method: String,
    /// Request target.
    pub uri: String,
    /// Version string.
    pub version: String,
    /// Header lines in order.
    pub headers: Vec<Hdr>,
    /// Body bytes (sent after the header block as they are).
    pub body: Vec<u8>,
    /// The request target carries a phone number found by default.
    pub uri_leak: bool,
    /// The body carries a phone number found by default.
    pub body_leak: bool,
    /// The body carries the known number in a form only `--number` finds.
    pub body_known: bool,
    /// The request target carries the known number in a form only
    /// `--number` finds.
    pub uri_known: bool,
}

impl Req {
    /// A request with no headers yet.
    pub fn new(method: &str, uri: &str) -> Self {
        Req {
            method: method.into(),
            uri: uri.into(),
            version: "HTTP/1.1".into(),
            headers: Vec::new(),
            body: Vec::new(),
            uri_leak: false,
            uri_known: false,
            body_leak: false,
            body_known: false,
        }
    }

    /// `GET uri` with a Host header.
    pub fn get(uri: &str, host: &str) -> Self {
        Req::new("GET", uri).h("Host", host)
    }

    /// Adds a header that does not leak. Panics if it carries a subscriber
    /// identifier or a run of 9+ digits an analyzer could mistake for one.
    pub fn h(mut self, name: &str, value: &str) -> Self {
        assert!(
            !carries_subscriber_id(value) && longest_digit_run(value) < 9,
            "header {name}: {value} looks like a leak"
        );
        assert!(
            !name.eq_ignore_ascii_case("host") || self.host().is_empty(),
            "a second Host header"
        );
        self.headers.push(Hdr {
            name: name.into(),
            value: value.into(),
            leak: false,
            known: false,
        });
        self
    }

    /// Adds a header that carries the known number (+447700900123) in a
    /// form only `--number` finds: no leak by default.
    pub fn known(mut self, name: &str, value: &str) -> Self {
        self.headers.push(Hdr {
            name: name.into(),
            value: value.into(),
            leak: false,
            known: true,
        });
        self
    }

    /// Marks the request target as carrying a phone number that is found
    /// by default (a phone-like key, a `+`/`%2B`/`00`/`tel:` form).
    pub fn uri_leaks(mut self) -> Self {
        assert!(
            carries_subscriber_id(&self.uri),
            "{} leaks nothing",
            self.uri
        );
        self.uri_leak = true;
        self
    }

    /// Marks the request target as carrying the known number in a form only
    /// `--number` finds.
    pub fn uri_known(mut self) -> Self {
        self.uri_known = true;
        self
    }

    /// Marks the body as carrying a phone number found by default.
    pub fn body_leaks(mut self) -> Self {
        self.body_leak = true;
        self
    }

    /// Marks the body as carrying the known number in a form only
    /// `--number` finds.
    pub fn body_known(mut self) -> Self {
        self.body_known = true;
        self
    }

    /// Adds a header that leaks a subscriber identifier.
    pub fn leak(mut self, name: &str, value: &str) -> Self {
        assert!(
            carries_subscriber_id(value),
            "header {name}: {value} leaks nothing"
        );
        self.headers.push(Hdr {
            name: name.into(),
            value: value.into(),
            leak: true,
            known: false,
        });
        self
    }

    /// Sets the body and adds a matching Content-Length header.
    pub fn body(mut self, body: &[u8]) -> Self {
        self = self.h("Content-Length", &body.len().to_string());
        self.body = body.to_vec();
        self
    }

    /// Sets the body bytes without adding any header (chunked bodies).
    pub fn raw_body(mut self, body: &[u8]) -> Self {
        self.body = body.to_vec();
        self
    }

    /// The request line and header block, ending with the empty line.
    pub fn head_bytes(&self) -> Vec<u8> {
        let mut s = format!("{} {} {}\r\n", self.method, self.uri, self.version);
        for h in &self.headers {
            s.push_str(&h.name);
            s.push_str(": ");
            s.push_str(&h.value);
            s.push_str("\r\n");
        }
        s.push_str("\r\n");
        s.into_bytes()
    }

    /// The whole message.
    pub fn bytes(&self) -> Vec<u8> {
        let mut b = self.head_bytes();
        b.extend_from_slice(&self.body);
        b
    }

    /// The first Host header's value.
    pub fn host(&self) -> String {
        self.headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case("host"))
            .map(|h| h.value.clone())
            .unwrap_or_default()
    }

    /// Lower-cased names of the leaking headers, in order, without repeats;
    /// `(request-target)` when the request target leaks.
    pub fn leak_headers(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for h in self.headers.iter().filter(|h| h.leak) {
            let n = h.name.to_ascii_lowercase();
            if !out.contains(&n) {
                out.push(n);
            }
        }
        if self.uri_leak {
            out.push("(request-target)".into());
        }
        if self.body_leak {
            out.push("(request-body)".into());
        }
        out
    }

    /// Lower-cased names of the headers (and `(request-target)`) that leak
    /// only when the known number +447700900123 is given.
    pub fn known_leak_headers(&self) -> Vec<String> {
        let leaking = self.leak_headers();
        let mut out: Vec<String> = Vec::new();
        for h in self.headers.iter().filter(|h| h.known) {
            let n = h.name.to_ascii_lowercase();
            if !out.contains(&n) && !leaking.contains(&n) {
                out.push(n);
            }
        }
        if self.uri_known && !self.uri_leak {
            out.push("(request-target)".into());
        }
        if self.body_known && !self.body_leak {
            out.push("(request-body)".into());
        }
        out
    }

    /// Lower-cased names of the leaking headers that lie entirely within the
    /// first `n` bytes of the message.
    pub fn leak_headers_within(&self, n: usize) -> Vec<String> {
        let head = self.head_bytes();
        let mut pos = head.iter().position(|&b| b == b'\n').unwrap() + 1;
        let mut out: Vec<String> = Vec::new();
        for h in &self.headers {
            let line = h.name.len() + 2 + h.value.len() + 2;
            if h.leak && pos + line <= n {
                let name = h.name.to_ascii_lowercase();
                if !out.contains(&name) {
                    out.push(name);
                }
            }
            pos += line;
        }
        out
    }
}

/// The usual Android browser of early 2012.
pub const UA_ANDROID: &str = "Mozilla/5.0 (Linux; U; Android 2.3.6; en-gb; GT-I9100 Build/GINGERBREAD) AppleWebKit/533.1 (KHTML, like Gecko) Version/4.0 Mobile Safari/533.1";
/// Mobile Safari on iOS 5.
pub const UA_IPHONE: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 5_0_1 like Mac OS X) AppleWebKit/534.46 (KHTML, like Gecko) Version/5.1 Mobile/9A405 Safari/7534.48.3";
/// A desktop browser.
pub const UA_DESKTOP: &str =
    "Mozilla/5.0 (Windows NT 6.1; WOW64; rv:10.0) Gecko/20100101 Firefox/10.0";

/// The RFC 1123 date of a timestamp in nanoseconds since the epoch.
pub fn http_date(ts_ns: u64) -> String {
    let secs = ts_ns / 1_000_000_000;
    let days = (secs / 86_400) as i64;
    let sod = secs % 86_400;
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    let wd = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"][(days % 7) as usize];
    let mon = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ][(m - 1) as usize];
    format!(
        "{wd}, {d:02} {mon} {y} {:02}:{:02}:{:02} GMT",
        sod / 3600,
        sod / 60 % 60,
        sod % 60
    )
}

/// A `200 OK` (or other status) response with a Content-Length body.
pub fn response(ts_ns: u64, status: &str, content_type: &str, body: &[u8]) -> Vec<u8> {
    let mut r = format!(
        "HTTP/1.1 {status}\r\nDate: {}\r\nServer: Apache/2.2.16 (Debian)\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\r\n",
        http_date(ts_ns),
        body.len()
    )
    .into_bytes();
    r.extend_from_slice(body);
    r
}

/// A small HTML page response.
pub fn html(ts_ns: u64, title: &str) -> Vec<u8> {
    let body =
        format!("<html><head><title>{title}</title></head><body><p>{title}</p></body></html>\n");
    response(ts_ns, "200 OK", "text/html; charset=utf-8", body.as_bytes())
}
